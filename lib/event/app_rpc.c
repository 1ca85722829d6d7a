/* SPDX-License-Identifier: BSD-3-Clause */
/* Framework RPC methods: version, kill, init control, subsystems, config, reactors. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event_internal.h"
#include "pollux/rpc.h"

static void rpc_spdk_get_version(struct plx_jsonrpc_request *req, const json_t *params)
{
	unsigned int major = 0, minor = 0, patch = 0;
	char version[64];

	if (!plx_rpc_check_no_params(req, params)) {
		return;
	}
	sscanf(POLLUX_VERSION, "%u.%u.%u", &major, &minor, &patch);
	snprintf(version, sizeof(version), "Pollux v%s", POLLUX_VERSION);
	plx_jsonrpc_send_result(req, json_pack("{s:s, s:{s:I, s:I, s:I, s:s}}", "version", version,
					       "fields", "major", (json_int_t)major, "minor",
					       (json_int_t)minor, "patch", (json_int_t)patch,
					       "suffix", ""));
}
PLX_RPC_REGISTER("spdk_get_version", rpc_spdk_get_version, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static const char *const g_signal_names[] = {"SIGINT",	"SIGTERM", "SIGQUIT", "SIGHUP",
					     "SIGKILL", "SIGUSR1", NULL};
static const int g_signal_numbers[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGKILL, SIGUSR1};

struct kill_params {
	int sig;
};

static void rpc_spdk_kill_instance(struct plx_jsonrpc_request *req, const json_t *params)
{
	static const struct plx_json_field fields[] = {
	    {"sig_name", offsetof(struct kill_params, sig), PLX_JSON_ENUM, true, g_signal_names},
	};
	struct kill_params p = {0};

	if (!plx_rpc_decode_params(req, params, fields, PLX_COUNTOF(fields), &p)) {
		return;
	}
	/* Answer first: the signal may end the process before a later answer is written. */
	plx_jsonrpc_send_bool(req, true);
	if (g_signal_numbers[p.sig] == SIGINT || g_signal_numbers[p.sig] == SIGTERM) {
		PLX_NOTICELOG("spdk_kill_instance %s: shutting down\n", g_signal_names[p.sig]);
		plx_app_stop(0);
		return;
	}
	kill(getpid(), g_signal_numbers[p.sig]);
}
PLX_RPC_REGISTER("spdk_kill_instance", rpc_spdk_kill_instance, PLX_RPC_RUNTIME)

static void start_init_done(int rc, void *arg)
{
	struct plx_jsonrpc_request *req = arg;

	if (rc != 0) {
		plx_jsonrpc_send_error(req, rc, "framework initialisation failed: %s",
				       strerror(-rc));
		return;
	}
	plx_jsonrpc_send_bool(req, true);
}

static void rpc_framework_start_init(struct plx_jsonrpc_request *req, const json_t *params)
{
	int rc;

	if (!plx_rpc_check_no_params(req, params)) {
		return;
	}
	rc = app_start_init(start_init_done, req);
	if (rc != 0) {
		plx_jsonrpc_send_error(req, rc, "framework_start_init was already called");
	}
}
PLX_RPC_REGISTER("framework_start_init", rpc_framework_start_init, PLX_RPC_STARTUP)

static void wait_init_done(void *arg)
{
	plx_jsonrpc_send_bool(arg, true);
}

static void rpc_framework_wait_init(struct plx_jsonrpc_request *req, const json_t *params)
{
	if (!plx_rpc_check_no_params(req, params)) {
		return;
	}
	app_wait_init(wait_init_done, req);
}
PLX_RPC_REGISTER("framework_wait_init", rpc_framework_wait_init, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void add_depend(const char *dep, void *arg)
{
	json_array_append_new(arg, json_string(dep));
}

static void rpc_framework_get_subsystems(struct plx_jsonrpc_request *req, const json_t *params)
{
	json_t *result;

	if (!plx_rpc_check_no_params(req, params)) {
		return;
	}
	result = json_array();
	for (struct plx_subsystem *s = plx_subsystem_next(NULL); s; s = plx_subsystem_next(s)) {
		json_t *deps = json_array();

		plx_subsystem_foreach_depend(s->name, add_depend, deps);
		json_array_append_new(
		    result, json_pack("{s:s, s:o}", "subsystem", s->name, "depends_on", deps));
	}
	plx_jsonrpc_send_result(req, result);
}
PLX_RPC_REGISTER("framework_get_subsystems", rpc_framework_get_subsystems, PLX_RPC_RUNTIME)

struct get_config_params {
	char *name;
	bool with_batches;
};

static void rpc_framework_get_config(struct plx_jsonrpc_request *req, const json_t *params)
{
	static const struct plx_json_field fields[] = {
	    {"name", offsetof(struct get_config_params, name), PLX_JSON_STRING, true, NULL},
	    {"with_batches", offsetof(struct get_config_params, with_batches), PLX_JSON_BOOL, false,
	     NULL},
	};
	struct get_config_params p = {0};
	struct plx_subsystem *s;

	if (!plx_rpc_decode_params(req, params, fields, PLX_COUNTOF(fields), &p)) {
		return;
	}
	s = plx_subsystem_find(p.name);
	if (s == NULL) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "name: subsystem '%s' not found", p.name);
	} else {
		plx_jsonrpc_send_result(req, plx_subsystem_config_json(s));
	}
	plx_json_decode_free(fields, PLX_COUNTOF(fields), &p);
}
PLX_RPC_REGISTER("framework_get_config", rpc_framework_get_config, PLX_RPC_RUNTIME)

/* ---- framework_get_reactors: each thread reports itself, grouped by reactor ---- */

struct reactors_ctx {
	struct plx_jsonrpc_request *req;
	json_t *threads[]; /* per reactor index: its lw_threads array */
};

static void reactors_collect(void *arg)
{
	struct reactors_ctx *ctx = arg;
	struct plx_thread *thread = plx_get_thread();
	struct lw_thread *lw = plx_thread_get_ctx(thread);
	char mask[300];

	plx_cpuset_fmt(plx_thread_get_cpumask(thread), mask, sizeof(mask));
	json_array_append_new(ctx->threads[lw->reactor->index],
			      json_pack("{s:s, s:I, s:s, s:I}", "name", plx_thread_get_name(thread),
					"id", (json_int_t)plx_thread_get_id(thread), "cpumask",
					mask, "elapsed",
					(json_int_t)(plx_get_ticks() - lw->created_tsc)));
}

/* usr and sys ticks of an OS thread, from /proc (clock ticks, as SPDK reports). */
static void task_cpu_times(pid_t tid, json_int_t *usr, json_int_t *sys)
{
	char path[64], buf[1024], *p;
	unsigned long long u = 0, s = 0;
	FILE *f;

	*usr = *sys = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (f == NULL) {
		return;
	}
	if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL &&
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &u, &s) == 2) {
		*usr = (json_int_t)u;
		*sys = (json_int_t)s;
	}
	fclose(f);
}

static void reactors_done(void *arg)
{
	struct reactors_ctx *ctx = arg;
	json_t *reactors = json_array();

	for (uint32_t i = 0; i < plx_reactor_count(); i++) {
		struct reactor *r = reactor_get(i);
		json_int_t usr, sys;

		task_cpu_times(r->tid, &usr, &sys);
		json_array_append_new(
		    reactors,
		    json_pack("{s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:o}", "lcore",
			      (json_int_t)r->core, "busy", (json_int_t)atomic_load(&r->busy_tsc),
			      "idle", (json_int_t)atomic_load(&r->idle_tsc), "in_interrupt",
			      (int)atomic_load(&r->in_interrupt), "irq", (json_int_t)0, "sys", sys,
			      "usr", usr, "lw_threads", ctx->threads[i]));
	}
	plx_jsonrpc_send_result(ctx->req, json_pack("{s:I, s:I, s:o}", "tick_rate",
						    (json_int_t)plx_get_ticks_hz(), "pid",
						    (json_int_t)getpid(), "reactors", reactors));
	free(ctx);
}

static void rpc_framework_get_reactors(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct reactors_ctx *ctx;

	if (!plx_rpc_check_no_params(req, params)) {
		return;
	}
	ctx = calloc(1, sizeof(*ctx) + plx_reactor_count() * sizeof(json_t *));
	if (ctx == NULL) {
		plx_jsonrpc_send_error(req, -ENOMEM, "out of memory");
		return;
	}
	ctx->req = req;
	for (uint32_t i = 0; i < plx_reactor_count(); i++) {
		ctx->threads[i] = json_array();
	}
	plx_for_each_thread(reactors_collect, ctx, reactors_done);
}
PLX_RPC_REGISTER("framework_get_reactors", rpc_framework_get_reactors, PLX_RPC_RUNTIME)
