/* SPDX-License-Identifier: BSD-3-Clause */
/* bdev_delay_* RPC methods. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pollux/rpc.h"
#include "vbdev_delay.h"

/* Field names, indexed by enum plx_delay_latency_type. */
static const char *const g_latency_fields[] = {"avg_read_latency", "p99_read_latency",
					       "avg_write_latency", "p99_write_latency"};
static const char *const g_latency_types[] = {"avg_read", "p99_read", "avg_write", "p99_write",
					      NULL};

struct delay_create_params {
	char *name;
	char *base_bdev_name;
	uint64_t latency[PLX_DELAY_NUM_LATENCY_TYPES];
	char *uuid;
};

/* clang-format off */
#define F(n, m, t, req) {n, offsetof(struct delay_create_params, m), t, req, NULL}
/* clang-format on */
static const struct plx_json_field g_create_fields[] = {
    F("name", name, PLX_JSON_STRING, true),
    F("base_bdev_name", base_bdev_name, PLX_JSON_STRING, true),
    F("avg_read_latency", latency[PLX_DELAY_AVG_READ], PLX_JSON_UINT64, true),
    F("p99_read_latency", latency[PLX_DELAY_P99_READ], PLX_JSON_UINT64, true),
    F("avg_write_latency", latency[PLX_DELAY_AVG_WRITE], PLX_JSON_UINT64, true),
    F("p99_write_latency", latency[PLX_DELAY_P99_WRITE], PLX_JSON_UINT64, true),
    F("uuid", uuid, PLX_JSON_STRING, false),
};
#undef F

/* The first problem with the latencies as a message naming the field, or NULL. */
static const char *delay_check_latencies(const uint64_t *us, char *msg, size_t len)
{
	for (int i = 0; i < PLX_DELAY_NUM_LATENCY_TYPES; i++) {
		if (us[i] > PLX_DELAY_MAX_LATENCY_US) {
			snprintf(msg, len, "%s: %" PRIu64 " us exceeds the maximum of %llu us",
				 g_latency_fields[i], us[i], PLX_DELAY_MAX_LATENCY_US);
			return msg;
		}
	}
	for (int avg = PLX_DELAY_AVG_READ; avg <= PLX_DELAY_AVG_WRITE; avg += 2) {
		if (us[avg + 1] < us[avg]) {
			snprintf(msg, len, "%s: %" PRIu64 " us is less than %s (%" PRIu64 " us)",
				 g_latency_fields[avg + 1], us[avg + 1], g_latency_fields[avg],
				 us[avg]);
			return msg;
		}
	}
	return NULL;
}

static void delay_send_create_error(struct plx_jsonrpc_request *req,
				    const struct delay_create_params *p, int rc)
{
	struct plx_bdev *base = plx_bdev_get_by_name(p->base_bdev_name);
	const char *owner = base != NULL ? plx_bdev_get_claim_module_name(base) : NULL;

	switch (rc) {
	case -ENODEV:
		plx_jsonrpc_send_error(req, rc, "base bdev %s not found", p->base_bdev_name);
		break;
	case -EEXIST:
		plx_jsonrpc_send_error(req, rc, "bdev %s already exists", p->name);
		break;
	case -EPERM:
		plx_jsonrpc_send_error(req, rc, "base bdev %s is already claimed by module %s",
				       p->base_bdev_name, owner != NULL ? owner : "(unknown)");
		break;
	default:
		plx_jsonrpc_send_error(req, rc, "creating delay bdev %s failed: %s", p->name,
				       strerror(-rc));
		break;
	}
}

static void rpc_bdev_delay_create(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct delay_create_params p = {0};
	struct plx_bdev_delay_opts opts = {0};
	struct plx_bdev *bdev;
	const char *bad;
	char msg[160];
	int rc;

	if (!plx_rpc_decode_params(req, params, g_create_fields, PLX_COUNTOF(g_create_fields),
				   &p)) {
		return;
	}
	bad = delay_check_latencies(p.latency, msg, sizeof(msg));
	if (bad == NULL && p.name[0] == '\0') {
		bad = "name: must not be empty";
	}
	if (bad == NULL && p.uuid != NULL && plx_uuid_parse(&opts.uuid, p.uuid) != 0) {
		snprintf(msg, sizeof(msg), "uuid: '%s' is not a UUID", p.uuid);
		bad = msg;
	}
	if (bad != NULL) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s", bad);
		goto out;
	}
	opts.name = p.name;
	opts.base_bdev_name = p.base_bdev_name;
	memcpy(opts.latency_us, p.latency, sizeof(opts.latency_us));
	rc = plx_bdev_delay_create(&opts, &bdev);
	if (rc != 0) {
		delay_send_create_error(req, &p, rc);
	} else {
		plx_jsonrpc_send_result(req, json_string(bdev->name));
	}
out:
	plx_json_decode_free(g_create_fields, PLX_COUNTOF(g_create_fields), &p);
}
PLX_RPC_REGISTER("bdev_delay_create", rpc_bdev_delay_create, PLX_RPC_RUNTIME)

struct name_params {
	char *name;
};

static const struct plx_json_field g_name_fields[] = {
    {"name", offsetof(struct name_params, name), PLX_JSON_STRING, true, NULL},
};

static void rpc_bdev_delay_delete(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct name_params p = {0};

	if (!plx_rpc_decode_params(req, params, g_name_fields, PLX_COUNTOF(g_name_fields), &p)) {
		return;
	}
	if (plx_bdev_delay_delete(p.name, plx_bdev_rpc_delete_done, req) != 0) {
		plx_jsonrpc_send_error(req, -ENODEV, "delay bdev %s not found", p.name);
	}
	plx_json_decode_free(g_name_fields, PLX_COUNTOF(g_name_fields), &p);
}
PLX_RPC_REGISTER("bdev_delay_delete", rpc_bdev_delay_delete, PLX_RPC_RUNTIME)

struct update_params {
	char *delay_bdev_name;
	int latency_type;
	uint64_t latency_us;
};

static const struct plx_json_field g_update_fields[] = {
    {"delay_bdev_name", offsetof(struct update_params, delay_bdev_name), PLX_JSON_STRING, true,
     NULL},
    {"latency_type", offsetof(struct update_params, latency_type), PLX_JSON_ENUM, true,
     g_latency_types},
    {"latency_us", offsetof(struct update_params, latency_us), PLX_JSON_UINT64, true, NULL},
};

static void rpc_bdev_delay_update_latency(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct update_params p = {0};
	uint64_t us[PLX_DELAY_NUM_LATENCY_TYPES];
	struct plx_bdev *bdev;
	const char *bad;
	char msg[160];

	if (!plx_rpc_decode_params(req, params, g_update_fields, PLX_COUNTOF(g_update_fields),
				   &p)) {
		return;
	}
	bdev = plx_bdev_get_by_name(p.delay_bdev_name);
	if (bdev == NULL || bdev->module != &plx_delay_bdev_module) {
		plx_jsonrpc_send_error(req, -ENODEV, "delay bdev %s not found", p.delay_bdev_name);
		goto out;
	}
	for (int i = 0; i < PLX_DELAY_NUM_LATENCY_TYPES; i++) {
		us[i] = plx_bdev_delay_get_latency(bdev, i);
	}
	us[p.latency_type] = p.latency_us;
	bad = delay_check_latencies(us, msg, sizeof(msg));
	if (bad != NULL) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "latency_us: %s",
				       bad);
	} else if (plx_bdev_delay_update_latency(p.delay_bdev_name, p.latency_type, p.latency_us) !=
		   0) {
		plx_jsonrpc_send_error(req, -EINVAL, "updating %s failed", p.delay_bdev_name);
	} else {
		plx_jsonrpc_send_bool(req, true);
	}
out:
	plx_json_decode_free(g_update_fields, PLX_COUNTOF(g_update_fields), &p);
}
PLX_RPC_REGISTER("bdev_delay_update_latency", rpc_bdev_delay_update_latency, PLX_RPC_RUNTIME)
