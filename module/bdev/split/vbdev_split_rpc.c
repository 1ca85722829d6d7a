/* SPDX-License-Identifier: BSD-3-Clause */
/* bdev_split_create and bdev_split_delete. */
#include <errno.h>
#include <string.h>

#include "pollux/rpc.h"
#include "vbdev_split.h"

struct rpc_split_create {
	char *base_bdev;
	uint32_t split_count;
	uint64_t split_size_mb;
};

static const struct plx_json_field g_create_fields[] = {
    {"base_bdev", offsetof(struct rpc_split_create, base_bdev), PLX_JSON_STRING, true, NULL},
    {"split_count", offsetof(struct rpc_split_create, split_count), PLX_JSON_UINT32, true, NULL},
    {"split_size_mb", offsetof(struct rpc_split_create, split_size_mb), PLX_JSON_UINT64, false,
     NULL},
};

/* Answers the names of the parts created now: empty when the base has not appeared yet. */
static void rpc_bdev_split_create(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct rpc_split_create p = {0};
	json_t *names;
	char err[256];
	int rc;

	if (!plx_rpc_decode_params(req, params, g_create_fields, PLX_COUNTOF(g_create_fields),
				   &p)) {
		return;
	}
	rc = plx_vbdev_split_create(p.base_bdev, p.split_count, p.split_size_mb, &names, err,
				    sizeof(err));
	if (rc == 0) {
		plx_jsonrpc_send_result(req, names);
	} else {
		plx_jsonrpc_send_error(req, rc == -EINVAL ? PLX_JSONRPC_ERROR_INVALID_PARAMS : rc,
				       "%s", err);
	}
	plx_json_decode_free(g_create_fields, PLX_COUNTOF(g_create_fields), &p);
}
PLX_RPC_REGISTER("bdev_split_create", rpc_bdev_split_create, PLX_RPC_RUNTIME)

struct rpc_split_delete {
	char *base_bdev;
};

static const struct plx_json_field g_delete_fields[] = {
    {"base_bdev", offsetof(struct rpc_split_delete, base_bdev), PLX_JSON_STRING, true, NULL},
};

static void rpc_bdev_split_delete(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct rpc_split_delete p = {0};

	if (!plx_rpc_decode_params(req, params, g_delete_fields, PLX_COUNTOF(g_delete_fields),
				   &p)) {
		return;
	}
	if (plx_vbdev_split_delete(p.base_bdev, plx_bdev_rpc_delete_done, req) != 0) {
		plx_jsonrpc_send_error(req, -ENODEV, "no split of base bdev %s", p.base_bdev);
	}
	plx_json_decode_free(g_delete_fields, PLX_COUNTOF(g_delete_fields), &p);
}
PLX_RPC_REGISTER("bdev_split_delete", rpc_bdev_split_delete, PLX_RPC_RUNTIME)
