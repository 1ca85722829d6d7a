/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * thread_get_stats, thread_get_pollers, thread_get_io_channels. Each thread describes itself
 * in a message (only it may read its pollers and channels); the walk hands one result array
 * from thread to thread, and the app thread answers when the walk is back.
 */
#include <errno.h>
#include <stdlib.h>

#include "event_internal.h"
#include "pollux/rpc.h"

struct walk_ctx {
	struct plx_jsonrpc_request *req;
	json_t *threads;
};

static json_t *thread_json_base(struct plx_thread *thread)
{
	char mask[300];

	plx_cpuset_fmt(plx_thread_get_cpumask(thread), mask, sizeof(mask));
	return json_pack("{s:s, s:I, s:s}", "name", plx_thread_get_name(thread), "id",
			 (json_int_t)plx_thread_get_id(thread), "cpumask", mask);
}

static void walk_done(void *arg)
{
	struct walk_ctx *ctx = arg;

	plx_jsonrpc_send_result(ctx->req,
				json_pack("{s:I, s:o}", "tick_rate", (json_int_t)plx_get_ticks_hz(),
					  "threads", ctx->threads));
	free(ctx);
}

static void start_walk(struct plx_jsonrpc_request *req, const json_t *params, plx_msg_fn fn)
{
	struct walk_ctx *ctx;

	if (!plx_rpc_check_no_params(req, params)) {
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		plx_jsonrpc_send_error(req, -ENOMEM, "out of memory");
		return;
	}
	ctx->req = req;
	ctx->threads = json_array();
	plx_for_each_thread(fn, ctx, walk_done);
}

struct poller_counts {
	json_int_t active, timed, paused;
};

static void count_poller(const struct plx_poller_info *info, void *arg)
{
	struct poller_counts *c = arg;

	if (info->paused) {
		c->paused++;
	} else if (info->period_ticks == 0) {
		c->active++;
	} else {
		c->timed++;
	}
}

static void stats_collect(void *arg)
{
	struct walk_ctx *ctx = arg;
	struct plx_thread *thread = plx_get_thread();
	struct plx_thread_stats stats = {0};
	struct poller_counts c = {0};
	json_t *t = thread_json_base(thread);

	plx_thread_get_stats(&stats);
	plx_thread_foreach_poller(count_poller, &c);
	json_object_set_new(t, "busy", json_integer((json_int_t)stats.busy_tsc));
	json_object_set_new(t, "idle", json_integer((json_int_t)stats.idle_tsc));
	json_object_set_new(t, "active_pollers_count", json_integer(c.active));
	json_object_set_new(t, "timed_pollers_count", json_integer(c.timed));
	json_object_set_new(t, "paused_pollers_count", json_integer(c.paused));
	json_array_append_new(ctx->threads, t);
}

static void rpc_thread_get_stats(struct plx_jsonrpc_request *req, const json_t *params)
{
	start_walk(req, params, stats_collect);
}
PLX_RPC_REGISTER("thread_get_stats", rpc_thread_get_stats, PLX_RPC_RUNTIME)

static void add_poller(const struct plx_poller_info *info, void *arg)
{
	json_t *t = arg, *p;
	const char *list = info->paused		     ? "paused_pollers"
			   : info->period_ticks == 0 ? "active_pollers"
						     : "timed_pollers";

	p = json_pack("{s:s, s:I, s:s, s:I, s:I}", "name", info->name, "id", (json_int_t)info->id,
		      "state", info->state, "run_count", (json_int_t)info->run_count, "busy_count",
		      (json_int_t)info->busy_count);
	if (info->period_ticks != 0) {
		json_object_set_new(p, "period_ticks",
				    json_integer((json_int_t)info->period_ticks));
	}
	json_array_append_new(json_object_get(t, list), p);
}

static void pollers_collect(void *arg)
{
	struct walk_ctx *ctx = arg;
	json_t *t = thread_json_base(plx_get_thread());

	json_object_set_new(t, "active_pollers", json_array());
	json_object_set_new(t, "timed_pollers", json_array());
	json_object_set_new(t, "paused_pollers", json_array());
	plx_thread_foreach_poller(add_poller, t);
	json_array_append_new(ctx->threads, t);
}

static void rpc_thread_get_pollers(struct plx_jsonrpc_request *req, const json_t *params)
{
	start_walk(req, params, pollers_collect);
}
PLX_RPC_REGISTER("thread_get_pollers", rpc_thread_get_pollers, PLX_RPC_RUNTIME)

static void add_channel(const char *name, uint32_t ref, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:I}", "name", name, "ref", (json_int_t)ref));
}

static void channels_collect(void *arg)
{
	struct walk_ctx *ctx = arg;
	json_t *t = thread_json_base(plx_get_thread()), *chans = json_array();

	plx_thread_foreach_io_channel(add_channel, chans);
	json_object_set_new(t, "io_channels", chans);
	json_array_append_new(ctx->threads, t);
}

static void rpc_thread_get_io_channels(struct plx_jsonrpc_request *req, const json_t *params)
{
	start_walk(req, params, channels_collect);
}
PLX_RPC_REGISTER("thread_get_io_channels", rpc_thread_get_io_channels, PLX_RPC_RUNTIME)
