/* SPDX-License-Identifier: BSD-3-Clause */
/* bdev_aio_create, bdev_aio_delete and bdev_aio_rescan. */
#include <errno.h>
#include <string.h>

#include "bdev_aio.h"
#include "pollux/rpc.h"

struct rpc_aio_create {
	char *name;
	char *filename;
	uint32_t block_size;
	bool readonly;
	bool fallocate;
	char *uuid;
	bool nowait;
};

static const struct plx_json_field g_create_fields[] = {
    {"name", offsetof(struct rpc_aio_create, name), PLX_JSON_STRING, true, NULL},
    {"filename", offsetof(struct rpc_aio_create, filename), PLX_JSON_STRING, true, NULL},
    {"block_size", offsetof(struct rpc_aio_create, block_size), PLX_JSON_UINT32, false, NULL},
    {"readonly", offsetof(struct rpc_aio_create, readonly), PLX_JSON_BOOL, false, NULL},
    {"fallocate", offsetof(struct rpc_aio_create, fallocate), PLX_JSON_BOOL, false, NULL},
    {"uuid", offsetof(struct rpc_aio_create, uuid), PLX_JSON_STRING, false, NULL},
    {"nowait", offsetof(struct rpc_aio_create, nowait), PLX_JSON_BOOL, false, NULL},
};

static void rpc_bdev_aio_create(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct rpc_aio_create p = {0};
	struct plx_bdev_aio_opts opts = {0};
	char err[256];
	int rc;

	if (!plx_rpc_decode_params(req, params, g_create_fields, PLX_COUNTOF(g_create_fields),
				   &p)) {
		return;
	}
	if (p.uuid != NULL && plx_uuid_parse(&opts.uuid, p.uuid) != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "uuid: '%s' is not a UUID", p.uuid);
		goto out;
	}
	opts.name = p.name;
	opts.filename = p.filename;
	opts.block_size = p.block_size;
	opts.readonly = p.readonly;
	opts.fallocate = p.fallocate;
	opts.nowait = p.nowait;
	rc = plx_bdev_aio_create(&opts, err, sizeof(err));
	if (rc == 0) {
		plx_jsonrpc_send_result(req, json_string(p.name));
	} else {
		plx_jsonrpc_send_error(req, rc == -EINVAL ? PLX_JSONRPC_ERROR_INVALID_PARAMS : rc,
				       "%s", err);
	}
out:
	plx_json_decode_free(g_create_fields, PLX_COUNTOF(g_create_fields), &p);
}
PLX_RPC_REGISTER("bdev_aio_create", rpc_bdev_aio_create, PLX_RPC_RUNTIME)

struct rpc_aio_name {
	char *name;
};

static const struct plx_json_field g_name_fields[] = {
    {"name", offsetof(struct rpc_aio_name, name), PLX_JSON_STRING, true, NULL},
};

static void rpc_bdev_aio_delete(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct rpc_aio_name p = {0};
	int rc;

	if (!plx_rpc_decode_params(req, params, g_name_fields, PLX_COUNTOF(g_name_fields), &p)) {
		return;
	}
	rc = plx_bdev_aio_delete(p.name, plx_bdev_rpc_delete_done, req);
	if (rc != 0) {
		plx_jsonrpc_send_error(req, rc, "aio bdev %s not found", p.name);
	}
	plx_json_decode_free(g_name_fields, PLX_COUNTOF(g_name_fields), &p);
}
PLX_RPC_REGISTER("bdev_aio_delete", rpc_bdev_aio_delete, PLX_RPC_RUNTIME)

static void rpc_bdev_aio_rescan(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct rpc_aio_name p = {0};
	int rc;

	if (!plx_rpc_decode_params(req, params, g_name_fields, PLX_COUNTOF(g_name_fields), &p)) {
		return;
	}
	rc = plx_bdev_aio_rescan(p.name);
	if (rc == 0) {
		plx_jsonrpc_send_bool(req, true);
	} else if (rc == -ENODEV) {
		plx_jsonrpc_send_error(req, rc, "aio bdev %s not found", p.name);
	} else {
		plx_jsonrpc_send_error(req, rc, "rescanning %s: %s", p.name, strerror(-rc));
	}
	plx_json_decode_free(g_name_fields, PLX_COUNTOF(g_name_fields), &p);
}
PLX_RPC_REGISTER("bdev_aio_rescan", rpc_bdev_aio_rescan, PLX_RPC_RUNTIME)
