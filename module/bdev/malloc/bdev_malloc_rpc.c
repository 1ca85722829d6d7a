/* SPDX-License-Identifier: BSD-3-Clause */
/* bdev_malloc_* RPC methods. */
#include <errno.h>
#include <string.h>

#include "bdev_malloc.h"
#include "pollux/rpc.h"

struct malloc_create_params {
	char *name;
	uint32_t block_size;
	uint64_t num_blocks;
	char *uuid;
	uint32_t optimal_io_boundary;
	uint32_t md_size;
	bool md_interleave;
	int32_t dif_type;
	bool dif_is_head_of_md;
	uint32_t physical_block_size;
	uint32_t dif_pi_format;
	int32_t numa_id;
};

/* clang-format off */
#define F(n, t, req) {#n, offsetof(struct malloc_create_params, n), t, req, NULL}
/* clang-format on */
static const struct plx_json_field g_create_fields[] = {
    F(name, PLX_JSON_STRING, false),
    F(block_size, PLX_JSON_UINT32, true),
    F(num_blocks, PLX_JSON_UINT64, true),
    F(uuid, PLX_JSON_STRING, false),
    F(optimal_io_boundary, PLX_JSON_UINT32, false),
    F(md_size, PLX_JSON_UINT32, false),
    F(md_interleave, PLX_JSON_BOOL, false),
    F(dif_type, PLX_JSON_INT32, false),
    F(dif_is_head_of_md, PLX_JSON_BOOL, false),
    F(physical_block_size, PLX_JSON_UINT32, false),
    F(dif_pi_format, PLX_JSON_UINT32, false),
    F(numa_id, PLX_JSON_INT32, false),
};
#undef F

/* The first problem with p as a message naming the field, or NULL when p is acceptable. */
static const char *malloc_check_params(const struct malloc_create_params *p,
				       struct plx_bdev_malloc_opts *opts, char *msg, size_t len)
{
	if (p->block_size % 512 != 0) {
		snprintf(msg, len, "block_size: %u is not a multiple of 512", p->block_size);
		return msg;
	}
	if (p->block_size < 512 || p->block_size > 65536) {
		snprintf(msg, len, "block_size: %u is outside 512 to 65536", p->block_size);
		return msg;
	}
	if (p->num_blocks == 0) {
		return "num_blocks: must be greater than 0";
	}
	if (p->physical_block_size != 0 &&
	    (!PLX_IS_POW2(p->physical_block_size) || p->physical_block_size < p->block_size)) {
		snprintf(msg, len,
			 "physical_block_size: %u must be a power of 2 and at least block_size",
			 p->physical_block_size);
		return msg;
	}
	if (p->md_size != 0) {
		return "md_size: metadata is not supported yet";
	}
	if (p->dif_type != 0) {
		return "dif_type: protection information is not supported yet";
	}
	if (p->uuid != NULL && plx_uuid_parse(&opts->uuid, p->uuid) != 0) {
		snprintf(msg, len, "uuid: '%s' is not a UUID", p->uuid);
		return msg;
	}
	return NULL;
}

static void rpc_bdev_malloc_create(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct malloc_create_params p = {.numa_id = -1};
	struct plx_bdev_malloc_opts opts = {0};
	struct plx_bdev *bdev;
	const char *bad;
	char msg[128];
	int rc;

	if (!plx_rpc_decode_params(req, params, g_create_fields, PLX_COUNTOF(g_create_fields),
				   &p)) {
		return;
	}
	bad = malloc_check_params(&p, &opts, msg, sizeof(msg));
	if (bad != NULL) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s", bad);
		goto out;
	}
	if (p.name != NULL && plx_bdev_get_by_name(p.name) != NULL) {
		plx_jsonrpc_send_error(req, -EEXIST, "bdev %s already exists", p.name);
		goto out;
	}
	opts.name = p.name;
	opts.block_size = p.block_size;
	opts.num_blocks = p.num_blocks;
	opts.optimal_io_boundary = p.optimal_io_boundary;
	opts.physical_block_size = p.physical_block_size;
	rc = plx_bdev_malloc_create(&opts, &bdev);
	if (rc == -EEXIST) {
		plx_jsonrpc_send_error(req, rc, "bdev %s or its uuid already exists",
				       p.name != NULL ? p.name : "");
	} else if (rc != 0) {
		plx_jsonrpc_send_error(req, rc, "creating malloc bdev %s failed: %s",
				       p.name != NULL ? p.name : "", strerror(-rc));
	} else {
		plx_jsonrpc_send_result(req, json_string(bdev->name));
	}
out:
	plx_json_decode_free(g_create_fields, PLX_COUNTOF(g_create_fields), &p);
}
PLX_RPC_REGISTER("bdev_malloc_create", rpc_bdev_malloc_create, PLX_RPC_RUNTIME)

struct name_params {
	char *name;
};

static const struct plx_json_field g_name_fields[] = {
    {"name", offsetof(struct name_params, name), PLX_JSON_STRING, true, NULL},
};

static void rpc_bdev_malloc_delete(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct name_params p = {0};

	if (!plx_rpc_decode_params(req, params, g_name_fields, PLX_COUNTOF(g_name_fields), &p)) {
		return;
	}
	if (plx_bdev_malloc_delete(p.name, plx_bdev_rpc_delete_done, req) != 0) {
		plx_jsonrpc_send_error(req, -ENODEV, "malloc bdev %s not found", p.name);
	}
	plx_json_decode_free(g_name_fields, PLX_COUNTOF(g_name_fields), &p);
}
PLX_RPC_REGISTER("bdev_malloc_delete", rpc_bdev_malloc_delete, PLX_RPC_RUNTIME)
