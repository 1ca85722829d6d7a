/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of the bdev layer: bdev_get_bdevs, bdev_examine, bdev_wait_for_examine,
 * bdev_set_options, iobuf_set_options, iobuf_get_stats, bdev_get_iostat, bdev_reset_iostat.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"
#include "pollux/event.h"
#include "pollux/rpc.h"

/* ---- bdev_get_bdevs ---- */

static void add_alias(const char *alias, void *arg)
{
	json_array_append_new(arg, json_string(alias));
}

json_t *bdev_info_json(struct plx_bdev *bdev)
{
	char uuid[PLX_UUID_STRING_LEN];
	json_t *types = json_object(), *aliases = json_array(), *driver = json_object();
	uint64_t limits[4] = {0};

	plx_uuid_fmt_lower(uuid, sizeof(uuid), &bdev->uuid);
	for (int t = PLX_BDEV_IO_TYPE_READ; t < PLX_BDEV_NUM_IO_TYPES; t++) {
		json_object_set_new(types, plx_bdev_io_type_name(t),
				    json_boolean(plx_bdev_io_type_supported(bdev, t)));
	}
	plx_bdev_foreach_alias(bdev, add_alias, aliases);
	bdev_qos_get_limits(bdev, limits);
	if (bdev->fn_table->dump_info_json != NULL) {
		bdev->fn_table->dump_info_json(bdev->ctxt, driver);
	}
	return json_pack(
	    "{s:s, s:o, s:s, s:I, s:I, s:s, s:{s:I, s:I, s:I, s:I}, s:b, s:b, s:b, "
	    "s:I, s:o, s:o}",
	    "name", bdev->name, "aliases", aliases, "product_name", plx_bdev_get_product_name(bdev),
	    "block_size", (json_int_t)bdev->blocklen, "num_blocks", (json_int_t)bdev->blockcnt,
	    "uuid", uuid, "assigned_rate_limits", "rw_ios_per_sec", (json_int_t)limits[0],
	    "rw_mbytes_per_sec", (json_int_t)limits[1], "r_mbytes_per_sec", (json_int_t)limits[2],
	    "w_mbytes_per_sec", (json_int_t)limits[3], "claimed",
	    bdev->internal->claim_module != NULL, "zoned", 0, "write_cache", bdev->write_cache,
	    "optimal_io_boundary", (json_int_t)bdev->optimal_io_boundary, "supported_io_types",
	    types, "driver_specific", driver);
}

struct get_bdevs_params {
	char *name;
	uint64_t timeout;
};

static const struct plx_json_field g_get_bdevs_fields[] = {
    {"name", offsetof(struct get_bdevs_params, name), PLX_JSON_STRING, false, NULL},
    {"timeout", offsetof(struct get_bdevs_params, timeout), PLX_JSON_UINT64, false, NULL},
};

struct get_bdevs_wait {
	struct plx_jsonrpc_request *req;
	struct get_bdevs_params p;
	uint64_t deadline;
	struct plx_poller *poller;
};

static void get_bdevs_answer(struct plx_jsonrpc_request *req, struct get_bdevs_params *p)
{
	json_t *result = json_array();
	struct plx_bdev *bdev;

	if (p->name != NULL) {
		bdev = plx_bdev_get_by_name(p->name);
		if (bdev == NULL) {
			json_decref(result);
			plx_jsonrpc_send_error(req, -ENODEV, "bdev '%s' not found", p->name);
			return;
		}
		json_array_append_new(result, bdev_info_json(bdev));
	} else {
		for (bdev = plx_bdev_next(NULL); bdev != NULL; bdev = plx_bdev_next(bdev)) {
			json_array_append_new(result, bdev_info_json(bdev));
		}
	}
	plx_jsonrpc_send_result(req, result);
}

static int get_bdevs_poll(void *arg)
{
	struct get_bdevs_wait *w = arg;

	if (plx_bdev_get_by_name(w->p.name) == NULL && plx_get_ticks() < w->deadline) {
		return PLX_POLLER_IDLE;
	}
	plx_poller_unregister(&w->poller);
	get_bdevs_answer(w->req, &w->p);
	plx_json_decode_free(g_get_bdevs_fields, PLX_COUNTOF(g_get_bdevs_fields), &w->p);
	free(w);
	return PLX_POLLER_BUSY;
}

static void rpc_bdev_get_bdevs(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct get_bdevs_params p = {0};
	struct get_bdevs_wait *w;

	if (!plx_rpc_decode_params(req, params, g_get_bdevs_fields, PLX_COUNTOF(g_get_bdevs_fields),
				   &p)) {
		return;
	}
	/* timeout (ms): wait for the named bdev to appear, as SPDK does. */
	if (p.name != NULL && p.timeout > 0 && plx_bdev_get_by_name(p.name) == NULL &&
	    (w = calloc(1, sizeof(*w))) != NULL) {
		*w = (struct get_bdevs_wait){.req = req, .p = p};
		w->deadline = plx_get_ticks() + p.timeout * plx_get_ticks_hz() / 1000;
		w->poller = plx_poller_register_named(get_bdevs_poll, w, 10000, "bdev_get_bdevs");
		if (w->poller != NULL) {
			return;
		}
		free(w);
	}
	get_bdevs_answer(req, &p);
	plx_json_decode_free(g_get_bdevs_fields, PLX_COUNTOF(g_get_bdevs_fields), &p);
}
PLX_RPC_REGISTER("bdev_get_bdevs", rpc_bdev_get_bdevs, PLX_RPC_RUNTIME)

/* ---- for the modules' delete methods ---- */

void plx_bdev_rpc_delete_done(void *cb_arg, int rc)
{
	struct plx_jsonrpc_request *req = cb_arg;

	if (rc == 0) {
		plx_jsonrpc_send_bool(req, true);
	} else {
		plx_jsonrpc_send_error(req, rc, "deleting the bdev failed: %s", strerror(-rc));
	}
}

/* ---- examine ---- */

struct name_param {
	char *name;
};

static void rpc_bdev_examine(struct plx_jsonrpc_request *req, const json_t *params)
{
	static const struct plx_json_field fields[] = {
	    {"name", offsetof(struct name_param, name), PLX_JSON_STRING, true, NULL},
	};
	struct name_param p = {0};
	int rc;

	if (!plx_rpc_decode_params(req, params, fields, PLX_COUNTOF(fields), &p)) {
		return;
	}
	rc = plx_bdev_examine(p.name);
	if (rc == -ENODEV) {
		plx_jsonrpc_send_error(req, rc, "bdev '%s' not found", p.name);
	} else if (rc == -EALREADY) {
		plx_jsonrpc_send_error(req, rc, "bdev '%s' was already examined", p.name);
	} else {
		plx_jsonrpc_send_bool(req, true);
	}
	plx_json_decode_free(fields, PLX_COUNTOF(fields), &p);
}
PLX_RPC_REGISTER("bdev_examine", rpc_bdev_examine, PLX_RPC_RUNTIME)

static void examine_done_answer(void *arg)
{
	plx_jsonrpc_send_bool(arg, true);
}

static void rpc_bdev_wait_for_examine(struct plx_jsonrpc_request *req, const json_t *params)
{
	int rc;

	if (!plx_rpc_check_no_params(req, params)) {
		return;
	}
	rc = plx_bdev_wait_for_examine(examine_done_answer, req);
	if (rc != 0) {
		plx_jsonrpc_send_error(req, rc, "cannot wait for examine: %s", strerror(-rc));
	}
}
PLX_RPC_REGISTER("bdev_wait_for_examine", rpc_bdev_wait_for_examine, PLX_RPC_RUNTIME)

/* ---- options ---- */

static void rpc_bdev_set_options(struct plx_jsonrpc_request *req, const json_t *params)
{
	static const struct plx_json_field fields[] = {
	    {"bdev_io_pool_size", offsetof(struct bdev_opts, bdev_io_pool_size), PLX_JSON_UINT32,
	     false, NULL},
	    {"bdev_io_cache_size", offsetof(struct bdev_opts, bdev_io_cache_size), PLX_JSON_UINT32,
	     false, NULL},
	    {"bdev_auto_examine", offsetof(struct bdev_opts, bdev_auto_examine), PLX_JSON_BOOL,
	     false, NULL},
	    {"iobuf_small_cache_size", offsetof(struct bdev_opts, iobuf_small_cache_size),
	     PLX_JSON_UINT32, false, NULL},
	    {"iobuf_large_cache_size", offsetof(struct bdev_opts, iobuf_large_cache_size),
	     PLX_JSON_UINT32, false, NULL},
	};
	struct bdev_opts opts = g_bdev_opts;

	if (!plx_rpc_decode_params(req, params, fields, PLX_COUNTOF(fields), &opts)) {
		return;
	}
	if (opts.bdev_io_pool_size < 64) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "bdev_io_pool_size: %u is below the minimum of 64",
				       opts.bdev_io_pool_size);
		return;
	}
	if (opts.bdev_io_cache_size == 0 || opts.bdev_io_cache_size > opts.bdev_io_pool_size) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "bdev_io_cache_size: %u must be between 1 and "
				       "bdev_io_pool_size (%u)",
				       opts.bdev_io_cache_size, opts.bdev_io_pool_size);
		return;
	}
	g_bdev_opts = opts;
	plx_jsonrpc_send_bool(req, true);
}
PLX_RPC_REGISTER("bdev_set_options", rpc_bdev_set_options, PLX_RPC_STARTUP)

struct iobuf_params {
	uint64_t small_pool_count;
	uint64_t large_pool_count;
	uint32_t small_bufsize;
	uint32_t large_bufsize;
	bool enable_numa;
};

static void rpc_iobuf_set_options(struct plx_jsonrpc_request *req, const json_t *params)
{
	static const struct plx_json_field fields[] = {
	    {"small_pool_count", offsetof(struct iobuf_params, small_pool_count), PLX_JSON_UINT64,
	     false, NULL},
	    {"large_pool_count", offsetof(struct iobuf_params, large_pool_count), PLX_JSON_UINT64,
	     false, NULL},
	    {"small_bufsize", offsetof(struct iobuf_params, small_bufsize), PLX_JSON_UINT32, false,
	     NULL},
	    {"large_bufsize", offsetof(struct iobuf_params, large_bufsize), PLX_JSON_UINT32, false,
	     NULL},
	    {"enable_numa", offsetof(struct iobuf_params, enable_numa), PLX_JSON_BOOL, false, NULL},
	};
	struct iobuf_params p = {
	    .small_pool_count = g_iobuf_opts.small_pool_count,
	    .large_pool_count = g_iobuf_opts.large_pool_count,
	    .small_bufsize = g_iobuf_opts.small_bufsize,
	    .large_bufsize = g_iobuf_opts.large_bufsize,
	};

	if (!plx_rpc_decode_params(req, params, fields, PLX_COUNTOF(fields), &p)) {
		return;
	}
	if (p.small_pool_count < 64 || p.large_pool_count < 8) {
		plx_jsonrpc_send_error(
		    req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s: too small (minimum %d)",
		    p.small_pool_count < 64 ? "small_pool_count" : "large_pool_count",
		    p.small_pool_count < 64 ? 64 : 8);
		return;
	}
	if (p.small_bufsize < 4096 || p.large_bufsize < p.small_bufsize) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "%s: must be at least %u",
				       p.small_bufsize < 4096 ? "small_bufsize" : "large_bufsize",
				       p.small_bufsize < 4096 ? 4096 : p.small_bufsize);
		return;
	}
	if (p.enable_numa) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "enable_numa: NUMA-aware pools are not supported");
		return;
	}
	g_iobuf_opts = (struct iobuf_opts){.small_pool_count = p.small_pool_count,
					   .large_pool_count = p.large_pool_count,
					   .small_bufsize = p.small_bufsize,
					   .large_bufsize = p.large_bufsize};
	plx_jsonrpc_send_bool(req, true);
}
PLX_RPC_REGISTER("iobuf_set_options", rpc_iobuf_set_options, PLX_RPC_STARTUP)

static void rpc_iobuf_get_stats(struct plx_jsonrpc_request *req, const json_t *params)
{
	if (!plx_rpc_check_no_params(req, params)) {
		return;
	}
	plx_jsonrpc_send_result(
	    req, json_pack("[{s:s, s:{s:I, s:I}, s:{s:I, s:I}}]", "module", "bdev", "small_pool",
			   "count", (json_int_t)g_iobuf_opts.small_pool_count, "available",
			   (json_int_t)iobuf_available(false), "large_pool", "count",
			   (json_int_t)g_iobuf_opts.large_pool_count, "available",
			   (json_int_t)iobuf_available(true)));
}
PLX_RPC_REGISTER("iobuf_get_stats", rpc_iobuf_get_stats, PLX_RPC_RUNTIME)
