/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Applying a JSON config file (SPDK's format) by calling each entry's method in-process:
 * entries whose method is allowed at start-up run before the subsystems initialise, the others
 * after. Entries run one at a time in file order, each after the previous one answered.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event_internal.h"
#include "pollux/rpc.h"

struct config_entry {
	const char *subsystem;
	const char *method;
	json_t *params; /* borrowed from g_root */
	bool done;
};

static json_t *g_root;
static char *g_file;
static struct config_entry *g_entries;
static size_t g_entry_count;
static size_t g_pos;
static bool g_ignore_errors;
static bool g_startup_phase;
static json_config_done_fn g_done;

void json_config_free(void)
{
	free(g_entries);
	g_entries = NULL;
	g_entry_count = 0;
	free(g_file);
	g_file = NULL;
	json_decref(g_root);
	g_root = NULL;
}

static int config_error(const char *fmt, const char *a, const char *b)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, a, b);
	PLX_ERRLOG("--json %s: %s\n", g_file, msg);
	return -EINVAL;
}

static int collect_subsystem(json_t *sub, size_t index)
{
	json_t *name = json_object_get(sub, "subsystem"), *config = json_object_get(sub, "config");
	char idx[24];
	size_t i;
	json_t *entry;

	snprintf(idx, sizeof(idx), "%zu", index);
	if (!json_is_object(sub) || !json_is_string(name)) {
		return config_error(
		    "subsystems[%s]: expected an object with a string 'subsystem'%s", idx, "");
	}
	if (config == NULL || json_is_null(config)) {
		return 0;
	}
	if (!json_is_array(config)) {
		return config_error("subsystem '%s': 'config' must be an array%s",
				    json_string_value(name), "");
	}
	json_array_foreach(config, i, entry)
	{
		json_t *method = json_object_get(entry, "method");
		json_t *params = json_object_get(entry, "params");

		if (!json_is_object(entry) || !json_is_string(method)) {
			return config_error("subsystem '%s': entry %s has no string 'method'",
					    json_string_value(name), idx);
		}
		if (params != NULL && !json_is_object(params) && !json_is_null(params)) {
			return config_error(
			    "subsystem '%s', method '%s': 'params' must be an object",
			    json_string_value(name), json_string_value(method));
		}
		g_entries[g_entry_count++] = (struct config_entry){
		    .subsystem = json_string_value(name),
		    .method = json_string_value(method),
		    .params = json_is_object(params) ? params : NULL,
		};
	}
	return 0;
}

static int config_parse(const char *file)
{
	json_error_t err;
	json_t *subs, *sub;
	size_t i, total = 0;
	int rc;

	g_file = strdup(file);
	g_root = json_load_file(file, JSON_REJECT_DUPLICATES, &err);
	if (g_root == NULL) {
		PLX_ERRLOG("--json %s: line %d column %d: %s\n", file, err.line, err.column,
			   err.text);
		return -EINVAL;
	}
	subs = json_object_get(g_root, "subsystems");
	if (!json_is_object(g_root) || !json_is_array(subs)) {
		return config_error("expected an object with a 'subsystems' array%s%s", "", "");
	}
	json_array_foreach(subs, i, sub)
	{
		json_t *config = json_object_get(sub, "config");

		total += json_is_array(config) ? json_array_size(config) : 0;
	}
	g_entries = calloc(total + 1, sizeof(*g_entries));
	if (g_entries == NULL) {
		return -ENOMEM;
	}
	json_array_foreach(subs, i, sub)
	{
		rc = collect_subsystem(sub, i);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

static void run_next(void);

static void run_next_msg(void *arg)
{
	run_next();
}

static void entry_answered(void *arg, const json_t *response)
{
	struct config_entry *e = arg;
	json_t *error = json_object_get(response, "error");

	e->done = true;
	if (error != NULL) {
		const char *msg = json_string_value(json_object_get(error, "message"));

		PLX_ERRLOG("--json %s: subsystem '%s', method '%s': %s\n", g_file, e->subsystem,
			   e->method, msg ? msg : "failed");
		if (!g_ignore_errors) {
			g_done(-EINVAL);
			return;
		}
	}
	g_pos++;
	/* Through a message: a long file of synchronous methods must not grow the stack. */
	if (plx_thread_send_msg(plx_get_thread(), run_next_msg, NULL) != 0) {
		g_done(-ENOMEM);
	}
}

static void run_next(void)
{
	uint32_t mask;

	for (; g_pos < g_entry_count; g_pos++) {
		struct config_entry *e = &g_entries[g_pos];

		if (e->done) {
			continue;
		}
		if (!plx_rpc_method_exists(e->method, &mask)) {
			PLX_ERRLOG("--json %s: subsystem '%s', method '%s': no such method\n",
				   g_file, e->subsystem, e->method);
			if (!g_ignore_errors) {
				g_done(-ENOENT);
				return;
			}
			e->done = true;
			continue;
		}
		/* At start-up, runtime-only entries wait for the second phase. */
		if (g_startup_phase && !(mask & PLX_RPC_STARTUP)) {
			continue;
		}
		PLX_DEBUGLOG(app, "--json: %s\n", e->method);
		plx_rpc_call_local(e->method, e->params, entry_answered, e);
		return;
	}
	g_done(0);
}

void json_config_load_startup(const char *file, bool ignore_errors, json_config_done_fn done)
{
	int rc;

	g_ignore_errors = ignore_errors;
	g_done = done;
	rc = config_parse(file);
	if (rc != 0) {
		done(rc);
		return;
	}
	g_startup_phase = true;
	g_pos = 0;
	run_next();
}

void json_config_load_runtime(json_config_done_fn done)
{
	g_done = done;
	g_startup_phase = false;
	g_pos = 0;
	run_next();
}
