/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-RPC methods of the target, part 3: what is connected and how busy it is. Controllers
 * are listed from the app thread's list; qpairs and statistics are collected by visiting
 * every poll group, because only a poll group may read its own qpairs and counters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_rpc.h"
#include "nvmf_tgt_internal.h"
#include "pollux/env.h"
#include "pollux/rpc.h"

static void hostid_str(char *out, size_t len, const uint8_t id[16])
{
	struct plx_uuid u;

	memcpy(&u, id, sizeof(u));
	plx_uuid_fmt_lower(out, len, &u);
}

static void rpc_nvmf_subsystem_get_controllers(struct plx_jsonrpc_request *req,
					       const json_t *params)
{
	struct nvmf_subsystem *s = nvmf_rpc_decode_subsystem(req, params);
	struct nvmf_ctrlr *ctrlr;
	json_t *arr;

	if (s == NULL) {
		return;
	}
	arr = json_array();
	TAILQ_FOREACH(ctrlr, &s->ctrlrs, link)
	{
		char hostid[PLX_UUID_STRING_LEN];

		hostid_str(hostid, sizeof(hostid), ctrlr->hostid);
		/* num_io_qpairs belongs to the controller's thread; a slightly stale count is
		 * fine for a listing. */
		json_array_append_new(
		    arr, json_pack("{s:i, s:s, s:s, s:i}", "cntlid", ctrlr->cntlid, "hostnqn",
				   ctrlr->hostnqn, "hostid", hostid, "num_io_qpairs",
				   __atomic_load_n(&ctrlr->num_io_qpairs, __ATOMIC_RELAXED)));
	}
	plx_jsonrpc_send_result(req, arr);
}
PLX_RPC_REGISTER("nvmf_subsystem_get_controllers", rpc_nvmf_subsystem_get_controllers,
		 PLX_RPC_RUNTIME)

/* ---- qpairs ---- */

struct qpairs_ctx {
	struct plx_jsonrpc_request *req;
	struct nvmf_subsystem *subsys;
	json_t *arr;
};

static const char *qpair_state_str(enum nvmf_qpair_state state)
{
	switch (state) {
	case NVMF_QPAIR_ENABLED:
		return "active";
	case NVMF_QPAIR_CONNECTING:
		return "connecting";
	case NVMF_QPAIR_DEACTIVATING:
		return "deactivating";
	case NVMF_QPAIR_ERROR:
		return "error";
	default:
		return "uninitialized";
	}
}

static void pg_collect_qpairs(struct nvmf_poll_group *group, void *arg)
{
	struct qpairs_ctx *ctx = arg;
	struct nvmf_qpair *qpair;

	TAILQ_FOREACH(qpair, &group->qpairs, link)
	{
		struct plx_nvme_trid peer = {0};
		json_t *o;

		if (qpair->ctrlr == NULL || qpair->ctrlr->subsys != ctx->subsys) {
			continue;
		}
		o = json_pack("{s:i, s:i, s:s, s:s, s:s, s:o}", "cntlid", qpair->ctrlr->cntlid,
			      "qid", qpair->qid, "state", qpair_state_str(qpair->state), "thread",
			      group->name, "hostnqn", qpair->ctrlr->hostnqn, "listen_address",
			      nvmf_rpc_trid_json(&qpair->listen_trid));
		if (qpair->transport->ops->qpair_get_peer_trid != NULL &&
		    qpair->transport->ops->qpair_get_peer_trid(qpair, &peer) == 0) {
			json_object_set_new(o, "peer_address", nvmf_rpc_trid_json(&peer));
		}
		json_array_append_new(ctx->arr, o);
	}
	nvmf_poll_group_continue(group, ctx);
}

static void qpairs_done(void *arg)
{
	struct qpairs_ctx *ctx = arg;

	plx_jsonrpc_send_result(ctx->req, ctx->arr);
	free(ctx);
}

static void rpc_nvmf_subsystem_get_qpairs(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct nvmf_subsystem *s = nvmf_rpc_decode_subsystem(req, params);
	struct qpairs_ctx *ctx;

	if (s == NULL) {
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		plx_jsonrpc_send_error(req, -ENOMEM, "out of memory");
		return;
	}
	ctx->req = req;
	ctx->subsys = s;
	ctx->arr = json_array();
	nvmf_tgt_for_each_poll_group(nvmf_get_tgt(), pg_collect_qpairs, ctx, qpairs_done);
}
PLX_RPC_REGISTER("nvmf_subsystem_get_qpairs", rpc_nvmf_subsystem_get_qpairs, PLX_RPC_RUNTIME)

/* ---- statistics ---- */

struct stats_ctx {
	struct plx_jsonrpc_request *req;
	json_t *groups;
};

static void pg_collect_stats(struct nvmf_poll_group *group, void *arg)
{
	struct stats_ctx *ctx = arg;
	const struct nvmf_poll_group_stat *st = &group->stat;
	struct nvmf_transport_poll_group *tgroup;
	json_t *transports = json_array();
	json_t *o;

	TAILQ_FOREACH(tgroup, &group->tgroups, link)
	{
		json_t *t = json_pack("{s:s}", "trtype", tgroup->transport->ops->name);

		if (tgroup->transport->ops->poll_group_dump_stat != NULL) {
			tgroup->transport->ops->poll_group_dump_stat(tgroup, t);
		}
		json_array_append_new(transports, t);
	}
	o = json_pack(
	    "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "name", group->name, "admin_qpairs",
	    (json_int_t)st->admin_qpairs, "io_qpairs", (json_int_t)st->io_qpairs,
	    "current_admin_qpairs", (json_int_t)st->current_admin_qpairs, "current_io_qpairs",
	    (json_int_t)st->current_io_qpairs, "pending_bdev_io", (json_int_t)st->pending_bdev_io,
	    "completed_nvme_io", (json_int_t)st->completed_nvme_io, "transports", transports);
	json_array_append_new(ctx->groups, o);
	nvmf_poll_group_continue(group, ctx);
}

static void stats_done(void *arg)
{
	struct stats_ctx *ctx = arg;

	plx_jsonrpc_send_result(ctx->req,
				json_pack("{s:I, s:o}", "tick_rate", (json_int_t)plx_get_ticks_hz(),
					  "poll_groups", ctx->groups));
	free(ctx);
}

struct tgt_params {
	char *tgt_name;
};

static const struct plx_json_field g_tgt_fields[] = {
    {"tgt_name", offsetof(struct tgt_params, tgt_name), PLX_JSON_STRING, false, NULL},
};

static void rpc_nvmf_get_stats(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct tgt_params p = {0};
	struct stats_ctx *ctx;

	if (!plx_rpc_decode_params(req, params, g_tgt_fields, PLX_COUNTOF(g_tgt_fields), &p)) {
		return;
	}
	if (nvmf_rpc_check_tgt_name(req, p.tgt_name)) {
		ctx = calloc(1, sizeof(*ctx));
		if (ctx == NULL) {
			plx_jsonrpc_send_error(req, -ENOMEM, "out of memory");
		} else {
			ctx->req = req;
			ctx->groups = json_array();
			nvmf_tgt_for_each_poll_group(nvmf_get_tgt(), pg_collect_stats, ctx,
						     stats_done);
		}
	}
	plx_json_decode_free(g_tgt_fields, PLX_COUNTOF(g_tgt_fields), &p);
}
PLX_RPC_REGISTER("nvmf_get_stats", rpc_nvmf_get_stats, PLX_RPC_RUNTIME)
