/* SPDX-License-Identifier: BSD-3-Clause */
/* bdev_error_* RPC methods. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pollux/rpc.h"
#include "vbdev_error.h"

/* As SPDK's enums spell them; the tables below map indexes to Pollux values. */
static const char *const g_io_type_names[] = {"clear", "read", "write", "unmap",
					      "flush", "all",  NULL};
static const enum plx_bdev_io_type g_io_types[] = {
    PLX_BDEV_IO_TYPE_INVALID, PLX_BDEV_IO_TYPE_READ,  PLX_BDEV_IO_TYPE_WRITE,
    PLX_BDEV_IO_TYPE_UNMAP,   PLX_BDEV_IO_TYPE_FLUSH, PLX_BDEV_IO_TYPE_INVALID,
};
#define IO_TYPE_CLEAR 0

static const char *const g_error_type_names[] = {"failure", "pending",	    "corrupt_data",
						 "nomem",   "nvme_failure", NULL};
static const enum plx_error_inject_type g_error_types[] = {
    PLX_ERROR_INJECT_FAILURE, PLX_ERROR_INJECT_PENDING, PLX_ERROR_INJECT_CORRUPT_DATA,
    PLX_ERROR_INJECT_NOMEM,   PLX_ERROR_INJECT_NONE,
};
#define ERROR_TYPE_NVME_FAILURE 4

struct create_params {
	char *base_name;
	char *uuid;
};

static const struct plx_json_field g_create_fields[] = {
    {"base_name", offsetof(struct create_params, base_name), PLX_JSON_STRING, true, NULL},
    {"uuid", offsetof(struct create_params, uuid), PLX_JSON_STRING, false, NULL},
};

static void error_send_create_error(struct plx_jsonrpc_request *req, const char *base_name, int rc)
{
	struct plx_bdev *base = plx_bdev_get_by_name(base_name);
	const char *owner = base != NULL ? plx_bdev_get_claim_module_name(base) : NULL;

	switch (rc) {
	case -ENODEV:
		plx_jsonrpc_send_error(req, rc, "base bdev %s not found", base_name);
		break;
	case -EEXIST:
		plx_jsonrpc_send_error(req, rc, "bdev EE_%s already exists", base_name);
		break;
	case -EPERM:
		plx_jsonrpc_send_error(req, rc, "base bdev %s is already claimed by module %s",
				       base_name, owner != NULL ? owner : "(unknown)");
		break;
	default:
		plx_jsonrpc_send_error(req, rc, "creating error bdev over %s failed: %s", base_name,
				       strerror(-rc));
		break;
	}
}

static void rpc_bdev_error_create(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct create_params p = {0};
	struct plx_uuid uuid = {0};
	struct plx_bdev *bdev;
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
	rc = plx_bdev_error_create(p.base_name, &uuid, &bdev);
	if (rc != 0) {
		error_send_create_error(req, p.base_name, rc);
	} else {
		plx_jsonrpc_send_result(req, json_string(bdev->name));
	}
out:
	plx_json_decode_free(g_create_fields, PLX_COUNTOF(g_create_fields), &p);
}
PLX_RPC_REGISTER("bdev_error_create", rpc_bdev_error_create, PLX_RPC_RUNTIME)

struct name_params {
	char *name;
};

static const struct plx_json_field g_name_fields[] = {
    {"name", offsetof(struct name_params, name), PLX_JSON_STRING, true, NULL},
};

static void rpc_bdev_error_delete(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct name_params p = {0};
	int rc;

	if (!plx_rpc_decode_params(req, params, g_name_fields, PLX_COUNTOF(g_name_fields), &p)) {
		return;
	}
	rc = plx_bdev_error_delete(p.name, plx_bdev_rpc_delete_done, req);
	if (rc == -ENODEV) {
		plx_jsonrpc_send_error(req, rc, "error bdev %s not found", p.name);
	} else if (rc != 0) {
		plx_jsonrpc_send_error(req, rc, "deleting %s failed: %s", p.name, strerror(-rc));
	}
	plx_json_decode_free(g_name_fields, PLX_COUNTOF(g_name_fields), &p);
}
PLX_RPC_REGISTER("bdev_error_delete", rpc_bdev_error_delete, PLX_RPC_RUNTIME)

struct inject_params {
	char *name;
	int io_type;
	int error_type;
	uint32_t nvme_sct;
	uint32_t nvme_sc;
	uint32_t num;
	uint64_t queue_depth;
	uint64_t corrupt_offset;
	uint8_t corrupt_value;
};

/* clang-format off */
#define F(n, t, req, e) {#n, offsetof(struct inject_params, n), t, req, e}
/* clang-format on */
static const struct plx_json_field g_inject_fields[] = {
    F(name, PLX_JSON_STRING, true, NULL),
    F(io_type, PLX_JSON_ENUM, true, g_io_type_names),
    F(error_type, PLX_JSON_ENUM, true, g_error_type_names),
    F(nvme_sct, PLX_JSON_UINT32, false, NULL),
    F(nvme_sc, PLX_JSON_UINT32, false, NULL),
    F(num, PLX_JSON_UINT32, false, NULL),
    F(queue_depth, PLX_JSON_UINT64, false, NULL),
    F(corrupt_offset, PLX_JSON_UINT64, false, NULL),
    F(corrupt_value, PLX_JSON_UINT8, false, NULL),
};
#undef F

static void rpc_bdev_error_inject_error(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct inject_params p = {.num = 1};
	struct plx_error_inject_opts opts = {0};
	int rc;

	if (!plx_rpc_decode_params(req, params, g_inject_fields, PLX_COUNTOF(g_inject_fields),
				   &p)) {
		return;
	}
	if (p.error_type == ERROR_TYPE_NVME_FAILURE && p.io_type != IO_TYPE_CLEAR) {
		plx_jsonrpc_send_error(
		    req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
		    "error_type: nvme_failure is not supported (bdev I/O carries "
		    "no NVMe status)");
		goto out;
	}
	if (g_error_types[p.error_type] == PLX_ERROR_INJECT_CORRUPT_DATA &&
	    p.io_type != IO_TYPE_CLEAR && p.corrupt_value == 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "corrupt_value: must be 1 to 255 for corrupt_data");
		goto out;
	}
	opts.io_type = g_io_types[p.io_type];
	opts.error_type =
	    p.io_type == IO_TYPE_CLEAR ? PLX_ERROR_INJECT_NONE : g_error_types[p.error_type];
	opts.num = p.num;
	opts.queue_depth = p.queue_depth;
	opts.corrupt_offset = p.corrupt_offset;
	opts.corrupt_value = p.corrupt_value;
	rc = plx_bdev_error_inject(p.name, &opts);
	if (rc == -ENODEV) {
		plx_jsonrpc_send_error(req, rc, "error bdev %s not found", p.name);
	} else if (rc != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "io_type: cannot inject into %s",
				       g_io_type_names[p.io_type]);
	} else {
		plx_jsonrpc_send_bool(req, true);
	}
out:
	plx_json_decode_free(g_inject_fields, PLX_COUNTOF(g_inject_fields), &p);
}
PLX_RPC_REGISTER("bdev_error_inject_error", rpc_bdev_error_inject_error, PLX_RPC_RUNTIME)

static void error_resumed(void *cb_arg)
{
	plx_jsonrpc_send_bool(cb_arg, true);
}

static void rpc_bdev_error_resume_pending(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct name_params p = {0};
	int rc;

	if (!plx_rpc_decode_params(req, params, g_name_fields, PLX_COUNTOF(g_name_fields), &p)) {
		return;
	}
	rc = plx_bdev_error_resume_pending(p.name, error_resumed, req);
	if (rc == -ENODEV) {
		plx_jsonrpc_send_error(req, rc, "error bdev %s not found", p.name);
	} else if (rc != 0) {
		plx_jsonrpc_send_error(req, rc, "resuming %s failed: %s", p.name, strerror(-rc));
	}
	plx_json_decode_free(g_name_fields, PLX_COUNTOF(g_name_fields), &p);
}
PLX_RPC_REGISTER("bdev_error_resume_pending", rpc_bdev_error_resume_pending, PLX_RPC_RUNTIME)
