/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scheduler subsystem. "static" keeps every thread on the reactor it was placed on at
 * creation; it is the only scheduler so far. The choice and its period are saved in the config.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event_internal.h"
#include "pollux/rpc.h"

#define SCHEDULER_DEFAULT_PERIOD_US 1000000

static const char *const g_schedulers[] = {"static", NULL};
static const char *g_scheduler = "static";
static uint64_t g_period_us = SCHEDULER_DEFAULT_PERIOD_US;

struct set_scheduler_params {
	char *name;
	uint64_t period;
	uint8_t load_limit;
	uint8_t core_limit;
	uint8_t core_busy;
	char *mappings;
};

static const struct plx_json_field g_fields[] = {
    {"name", offsetof(struct set_scheduler_params, name), PLX_JSON_STRING, true, NULL},
    {"period", offsetof(struct set_scheduler_params, period), PLX_JSON_UINT64, false, NULL},
    {"load_limit", offsetof(struct set_scheduler_params, load_limit), PLX_JSON_UINT8, false, NULL},
    {"core_limit", offsetof(struct set_scheduler_params, core_limit), PLX_JSON_UINT8, false, NULL},
    {"core_busy", offsetof(struct set_scheduler_params, core_busy), PLX_JSON_UINT8, false, NULL},
    {"mappings", offsetof(struct set_scheduler_params, mappings), PLX_JSON_STRING, false, NULL},
};

static const char *find_scheduler(const char *name)
{
	for (size_t i = 0; g_schedulers[i] != NULL; i++) {
		if (strcmp(g_schedulers[i], name) == 0) {
			return g_schedulers[i];
		}
	}
	return NULL;
}

static void rpc_framework_set_scheduler(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct set_scheduler_params p = {.period = g_period_us};
	const char *sched;

	if (!plx_rpc_decode_params(req, params, g_fields, PLX_COUNTOF(g_fields), &p)) {
		return;
	}
	sched = find_scheduler(p.name);
	if (sched == NULL) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "name: scheduler '%s' is not available (available: static)",
				       p.name);
	} else if (p.period == 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "period: must be greater than 0 microseconds");
	} else if (p.mappings != NULL && p.mappings[0] != '\0') {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "mappings: thread-to-core mappings are not supported yet");
	} else {
		g_scheduler = sched;
		g_period_us = p.period;
		plx_jsonrpc_send_bool(req, true);
	}
	plx_json_decode_free(g_fields, PLX_COUNTOF(g_fields), &p);
}
PLX_RPC_REGISTER("framework_set_scheduler", rpc_framework_set_scheduler,
		 PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void rpc_framework_get_scheduler(struct plx_jsonrpc_request *req, const json_t *params)
{
	if (plx_rpc_check_no_params(req, params)) {
		plx_jsonrpc_send_result(req,
					json_pack("{s:s, s:I}", "scheduler_name", g_scheduler,
						  "scheduler_period", (json_int_t)g_period_us));
	}
}
PLX_RPC_REGISTER("framework_get_scheduler", rpc_framework_get_scheduler,
		 PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void scheduler_write_config(json_t *config)
{
	json_array_append_new(config, json_pack("{s:s, s:{s:s, s:I}}", "method",
						"framework_set_scheduler", "params", "name",
						g_scheduler, "period", (json_int_t)g_period_us));
}

static struct plx_subsystem g_scheduler_subsystem = {
    .name = "scheduler",
    .write_config_json = scheduler_write_config,
};
PLX_SUBSYSTEM_REGISTER(g_scheduler_subsystem)
