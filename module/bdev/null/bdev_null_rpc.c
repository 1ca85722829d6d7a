/* SPDX-License-Identifier: BSD-3-Clause */
/* bdev_null_* RPC methods. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bdev_null.h"
#include "pollux/rpc.h"

struct null_create_params {
	char *name;
	uint32_t block_size;
	uint64_t num_blocks;
	char *uuid;
	uint32_t physical_block_size;
	uint32_t md_size;
	int32_t dif_type;
	uint32_t dif_pi_format;
	bool dif_is_head_of_md;
	uint32_t preferred_write_granularity;
	uint32_t preferred_write_alignment;
	uint32_t optimal_write_size;
	uint32_t preferred_unmap_granularity;
	uint32_t preferred_unmap_alignment;
};

/* clang-format off */
#define F(n, t, req) {#n, offsetof(struct null_create_params, n), t, req, NULL}
/* clang-format on */
static const struct plx_json_field g_create_fields[] = {
    F(name, PLX_JSON_STRING, true),
    F(block_size, PLX_JSON_UINT32, true),
    F(num_blocks, PLX_JSON_UINT64, true),
    F(uuid, PLX_JSON_STRING, false),
    F(physical_block_size, PLX_JSON_UINT32, false),
    F(md_size, PLX_JSON_UINT32, false),
    F(dif_type, PLX_JSON_INT32, false),
    F(dif_pi_format, PLX_JSON_UINT32, false),
    F(dif_is_head_of_md, PLX_JSON_BOOL, false),
    F(preferred_write_granularity, PLX_JSON_UINT32, false),
    F(preferred_write_alignment, PLX_JSON_UINT32, false),
    F(optimal_write_size, PLX_JSON_UINT32, false),
    F(preferred_unmap_granularity, PLX_JSON_UINT32, false),
    F(preferred_unmap_alignment, PLX_JSON_UINT32, false),
};
#undef F

/* The first problem with p as a message naming the field, or NULL when p is acceptable. */
static const char *null_check_params(const struct null_create_params *p,
				     struct plx_bdev_null_opts *opts, char *msg, size_t len)
{
	if (p->name[0] == '\0') {
		return "name: must not be empty";
	}
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

static void rpc_bdev_null_create(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct null_create_params p = {0};
	struct plx_bdev_null_opts opts = {0};
	struct plx_bdev *bdev;
	const char *bad;
	char msg[128];
	int rc;

	if (!plx_rpc_decode_params(req, params, g_create_fields, PLX_COUNTOF(g_create_fields),
				   &p)) {
		return;
	}
	bad = null_check_params(&p, &opts, msg, sizeof(msg));
	if (bad != NULL) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s", bad);
		goto out;
	}
	if (plx_bdev_get_by_name(p.name) != NULL) {
		plx_jsonrpc_send_error(req, -EEXIST, "bdev %s already exists", p.name);
		goto out;
	}
	opts.name = p.name;
	opts.block_size = p.block_size;
	opts.num_blocks = p.num_blocks;
	opts.physical_block_size = p.physical_block_size;
	rc = plx_bdev_null_create(&opts, &bdev);
	if (rc == -EEXIST) {
		plx_jsonrpc_send_error(req, rc, "bdev %s or its uuid already exists", p.name);
	} else if (rc != 0) {
		plx_jsonrpc_send_error(req, rc, "creating null bdev %s failed: %s", p.name,
				       strerror(-rc));
	} else {
		plx_jsonrpc_send_result(req, json_string(bdev->name));
	}
out:
	plx_json_decode_free(g_create_fields, PLX_COUNTOF(g_create_fields), &p);
}
PLX_RPC_REGISTER("bdev_null_create", rpc_bdev_null_create, PLX_RPC_RUNTIME)

struct name_params {
	char *name;
};

static const struct plx_json_field g_name_fields[] = {
    {"name", offsetof(struct name_params, name), PLX_JSON_STRING, true, NULL},
};

static void rpc_bdev_null_delete(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct name_params p = {0};
	int rc;

	if (!plx_rpc_decode_params(req, params, g_name_fields, PLX_COUNTOF(g_name_fields), &p)) {
		return;
	}
	rc = plx_bdev_null_delete(p.name, plx_bdev_rpc_delete_done, req);
	if (rc != 0) {
		plx_jsonrpc_send_error(req, -ENODEV, "null bdev %s not found", p.name);
	}
	plx_json_decode_free(g_name_fields, PLX_COUNTOF(g_name_fields), &p);
}
PLX_RPC_REGISTER("bdev_null_delete", rpc_bdev_null_delete, PLX_RPC_RUNTIME)

struct resize_params {
	char *name;
	uint64_t new_size;
};

static const struct plx_json_field g_resize_fields[] = {
    {"name", offsetof(struct resize_params, name), PLX_JSON_STRING, true, NULL},
    {"new_size", offsetof(struct resize_params, new_size), PLX_JSON_UINT64, true, NULL},
};

static void rpc_bdev_null_resize(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct resize_params p = {0};
	struct plx_bdev *bdev;
	int rc;

	if (!plx_rpc_decode_params(req, params, g_resize_fields, PLX_COUNTOF(g_resize_fields),
				   &p)) {
		return;
	}
	bdev = plx_bdev_get_by_name(p.name);
	if (bdev == NULL || bdev->module != &plx_null_bdev_module) {
		plx_jsonrpc_send_error(req, -ENODEV, "null bdev %s not found", p.name);
		goto out;
	}
	rc = plx_bdev_null_resize(p.name, p.new_size);
	if (rc == -EINVAL) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "new_size: %" PRIu64 " MiB is smaller than the current size "
				       "(%" PRIu64 " blocks of %u bytes) or not a whole number of "
				       "blocks; null bdevs only grow",
				       p.new_size, bdev->blockcnt, bdev->blocklen);
	} else if (rc != 0) {
		plx_jsonrpc_send_error(req, rc, "resizing %s failed: %s", p.name, strerror(-rc));
	} else {
		plx_jsonrpc_send_bool(req, true);
	}
out:
	plx_json_decode_free(g_resize_fields, PLX_COUNTOF(g_resize_fields), &p);
}
PLX_RPC_REGISTER("bdev_null_resize", rpc_bdev_null_resize, PLX_RPC_RUNTIME)
