/* SPDX-License-Identifier: BSD-3-Clause */
/* log_* RPC methods. */
#include <errno.h>

#include "event_internal.h"
#include "pollux/rpc.h"

static const char *const g_level_names[] = {"ERROR", "WARNING", "NOTICE", "INFO", "DEBUG", NULL};

struct level_params {
	int level;
};

static const struct plx_json_field g_level_fields[] = {
    {"level", offsetof(struct level_params, level), PLX_JSON_ENUM, true, g_level_names},
};

static bool decode_level(struct plx_jsonrpc_request *req, const json_t *params,
			 enum plx_log_level *level)
{
	struct level_params p = {0};

	if (!plx_rpc_decode_params(req, params, g_level_fields, PLX_COUNTOF(g_level_fields), &p)) {
		return false;
	}
	/* The enum table lists the levels in their numeric order. */
	*level = (enum plx_log_level)p.level;
	return true;
}

static void rpc_log_set_level(struct plx_jsonrpc_request *req, const json_t *params)
{
	enum plx_log_level level;

	if (decode_level(req, params, &level)) {
		plx_log_set_level(level);
		plx_jsonrpc_send_bool(req, true);
	}
}
PLX_RPC_REGISTER("log_set_level", rpc_log_set_level, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void rpc_log_set_print_level(struct plx_jsonrpc_request *req, const json_t *params)
{
	enum plx_log_level level;

	if (decode_level(req, params, &level)) {
		plx_log_set_print_level(level);
		plx_jsonrpc_send_bool(req, true);
	}
}
PLX_RPC_REGISTER("log_set_print_level", rpc_log_set_print_level, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void rpc_log_get_level(struct plx_jsonrpc_request *req, const json_t *params)
{
	if (plx_rpc_check_no_params(req, params)) {
		plx_jsonrpc_send_result(req, json_string(plx_log_level_name(plx_log_get_level())));
	}
}
PLX_RPC_REGISTER("log_get_level", rpc_log_get_level, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void rpc_log_get_print_level(struct plx_jsonrpc_request *req, const json_t *params)
{
	if (plx_rpc_check_no_params(req, params)) {
		plx_jsonrpc_send_result(req,
					json_string(plx_log_level_name(plx_log_get_print_level())));
	}
}
PLX_RPC_REGISTER("log_get_print_level", rpc_log_get_print_level, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

struct flag_params {
	char *flag;
};

static void flag_method(struct plx_jsonrpc_request *req, const json_t *params, bool set)
{
	static const struct plx_json_field fields[] = {
	    {"flag", offsetof(struct flag_params, flag), PLX_JSON_STRING, true, NULL},
	};
	struct flag_params p = {0};
	int rc;

	if (!plx_rpc_decode_params(req, params, fields, PLX_COUNTOF(fields), &p)) {
		return;
	}
	rc = set ? plx_log_set_flag(p.flag) : plx_log_clear_flag(p.flag);
	if (rc != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "flag: unknown log flag '%s'", p.flag);
	} else {
		plx_jsonrpc_send_bool(req, true);
	}
	plx_json_decode_free(fields, PLX_COUNTOF(fields), &p);
}

static void rpc_log_set_flag(struct plx_jsonrpc_request *req, const json_t *params)
{
	flag_method(req, params, true);
}
PLX_RPC_REGISTER("log_set_flag", rpc_log_set_flag, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void rpc_log_clear_flag(struct plx_jsonrpc_request *req, const json_t *params)
{
	flag_method(req, params, false);
}
PLX_RPC_REGISTER("log_clear_flag", rpc_log_clear_flag, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void rpc_log_get_flags(struct plx_jsonrpc_request *req, const json_t *params)
{
	json_t *result;

	if (!plx_rpc_check_no_params(req, params)) {
		return;
	}
	result = json_object();
	for (struct plx_log_flag *f = plx_log_next_flag(NULL); f; f = plx_log_next_flag(f)) {
		json_object_set_new(result, f->name, json_boolean(f->enabled));
	}
	plx_jsonrpc_send_result(req, result);
}
PLX_RPC_REGISTER("log_get_flags", rpc_log_get_flags, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

struct timestamps_params {
	bool enabled;
};

static void rpc_log_enable_timestamps(struct plx_jsonrpc_request *req, const json_t *params)
{
	static const struct plx_json_field fields[] = {
	    {"enabled", offsetof(struct timestamps_params, enabled), PLX_JSON_BOOL, true, NULL},
	};
	struct timestamps_params p = {0};

	if (plx_rpc_decode_params(req, params, fields, PLX_COUNTOF(fields), &p)) {
		plx_log_enable_timestamps(p.enabled);
		plx_jsonrpc_send_bool(req, true);
	}
}
PLX_RPC_REGISTER("log_enable_timestamps", rpc_log_enable_timestamps, PLX_RPC_RUNTIME)
