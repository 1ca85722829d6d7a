/* SPDX-License-Identifier: BSD-3-Clause */
/* bdev_passthru_create and bdev_passthru_delete. */
#include <errno.h>
#include <string.h>

#include "pollux/rpc.h"
#include "vbdev_passthru.h"

struct rpc_pt_create {
	char *name;
	char *base_bdev_name;
	char *uuid;
};

static const struct plx_json_field g_create_fields[] = {
    {"name", offsetof(struct rpc_pt_create, name), PLX_JSON_STRING, true, NULL},
    {"base_bdev_name", offsetof(struct rpc_pt_create, base_bdev_name), PLX_JSON_STRING, true, NULL},
    {"uuid", offsetof(struct rpc_pt_create, uuid), PLX_JSON_STRING, false, NULL},
};

static void rpc_bdev_passthru_create(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct rpc_pt_create p = {0};
	struct plx_uuid uuid = {0};
	char err[256];
	int rc;

	if (!plx_rpc_decode_params(req, params, g_create_fields, PLX_COUNTOF(g_create_fields),
				   &p)) {
		return;
	}
	if (p.uuid != NULL && plx_uuid_parse(&uuid, p.uuid) != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "uuid: '%s' is not a UUID", p.uuid);
		goto out;
	}
	rc = plx_vbdev_passthru_create(p.name, p.base_bdev_name, &uuid, err, sizeof(err));
	if (rc == 0) {
		plx_jsonrpc_send_result(req, json_string(p.name));
	} else {
		plx_jsonrpc_send_error(req, rc == -EINVAL ? PLX_JSONRPC_ERROR_INVALID_PARAMS : rc,
				       "%s", err);
	}
out:
	plx_json_decode_free(g_create_fields, PLX_COUNTOF(g_create_fields), &p);
}
PLX_RPC_REGISTER("bdev_passthru_create", rpc_bdev_passthru_create, PLX_RPC_RUNTIME)

struct rpc_pt_delete {
	char *name;
};

static const struct plx_json_field g_delete_fields[] = {
    {"name", offsetof(struct rpc_pt_delete, name), PLX_JSON_STRING, true, NULL},
};

static void rpc_bdev_passthru_delete(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct rpc_pt_delete p = {0};

	if (!plx_rpc_decode_params(req, params, g_delete_fields, PLX_COUNTOF(g_delete_fields),
				   &p)) {
		return;
	}
	if (plx_vbdev_passthru_delete(p.name, plx_bdev_rpc_delete_done, req) != 0) {
		plx_jsonrpc_send_error(req, -ENODEV, "passthru bdev %s not found", p.name);
	}
	plx_json_decode_free(g_delete_fields, PLX_COUNTOF(g_delete_fields), &p);
}
PLX_RPC_REGISTER("bdev_passthru_delete", rpc_bdev_passthru_delete, PLX_RPC_RUNTIME)
