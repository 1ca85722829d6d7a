/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The target object: transports, shared listen addresses, poll-group iteration and the
 * hand-over of new connections. Everything here runs on the app thread unless marked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_internal.h"
#include "nvmf_tgt_internal.h"
#include "pollux/log.h"

PLX_LOG_REGISTER_COMPONENT(nvmf)

#define MAX_TRANSPORT_OPS 4

static const struct nvmf_transport_ops *g_transport_ops[MAX_TRANSPORT_OPS];
static uint32_t g_num_transport_ops;
static struct nvmf_tgt *g_tgt;

void nvmf_transport_register(const struct nvmf_transport_ops *ops)
{
	if (g_num_transport_ops == MAX_TRANSPORT_OPS) {
		abort(); /* a build with more transports than slots is a programming error */
	}
	g_transport_ops[g_num_transport_ops++] = ops;
}

const struct nvmf_transport_ops *nvmf_transport_find_ops(const char *name)
{
	for (uint32_t i = 0; i < g_num_transport_ops; i++) {
		if (strcasecmp(g_transport_ops[i]->name, name) == 0) {
			return g_transport_ops[i];
		}
	}
	return NULL;
}

struct nvmf_tgt *nvmf_get_tgt(void)
{
	return g_tgt;
}

void nvmf_tgt_set(struct nvmf_tgt *tgt)
{
	g_tgt = tgt;
}

struct nvmf_tgt *nvmf_tgt_alloc(uint32_t max_subsystems, const struct nvmf_tgt_config *conf)
{
	struct nvmf_tgt *tgt = calloc(1, sizeof(*tgt));

	if (tgt == NULL) {
		return NULL;
	}
	tgt->subsystems = calloc(max_subsystems, sizeof(*tgt->subsystems));
	if (tgt->subsystems == NULL) {
		free(tgt);
		return NULL;
	}
	snprintf(tgt->name, sizeof(tgt->name), "%s", NVMF_TGT_NAME);
	tgt->thread = plx_get_thread();
	tgt->max_subsystems = max_subsystems;
	tgt->conf = *conf;
	tgt->discovery_genctr = 1;
	TAILQ_INIT(&tgt->transports);
	TAILQ_INIT(&tgt->referrals);
	TAILQ_INIT(&tgt->listens);
	return tgt;
}

void nvmf_tgt_free(struct nvmf_tgt *tgt)
{
	struct nvmf_referral *ref;

	while ((ref = TAILQ_FIRST(&tgt->referrals)) != NULL) {
		TAILQ_REMOVE(&tgt->referrals, ref, link);
		free(ref);
	}
	free(tgt->poll_groups);
	free(tgt->subsystems);
	free(tgt);
}

struct nvmf_subsystem *nvmf_tgt_find_subsystem(struct nvmf_tgt *tgt, const char *subnqn)
{
	for (uint32_t i = 0; i < tgt->max_subsystems; i++) {
		struct nvmf_subsystem *s = tgt->subsystems[i];

		if (s != NULL && strcmp(s->subnqn, subnqn) == 0) {
			return s;
		}
	}
	return NULL;
}

struct nvmf_transport *nvmf_tgt_find_transport(struct nvmf_tgt *tgt, const char *trstring)
{
	struct nvmf_transport *t;

	TAILQ_FOREACH(t, &tgt->transports, link)
	{
		if (strcasecmp(t->ops->name, trstring) == 0) {
			return t;
		}
	}
	return NULL;
}

/* ---- iterating poll groups ---- */

struct pg_iter {
	struct nvmf_tgt *tgt;
	uint32_t idx;
	nvmf_pg_fn fn;
	void *ctx;
	void (*cpl)(void *ctx);
	TAILQ_ENTRY(pg_iter) link; /* group->visits while fn runs there */
};

/*
 * Poll groups are visited one at a time (not in parallel) so that fn never races with itself
 * and the order is the same for every change; the cost is one round trip per group, paid only
 * on configuration changes. Several iterations may be at the same group at once (a namespace
 * drain waits there while a reservation update passes through), so each visit is recorded on
 * the group and nvmf_poll_group_continue finds its own by ctx.
 */
static void pg_iter_step(void *arg);

static void pg_iter_run(void *arg)
{
	struct pg_iter *it = arg;
	struct nvmf_poll_group *group = it->tgt->poll_groups[it->idx];

	TAILQ_INSERT_TAIL(&group->visits, it, link);
	it->fn(group, it->ctx);
}

static void pg_iter_step(void *arg)
{
	struct pg_iter *it = arg;

	if (it->idx == it->tgt->num_poll_groups) {
		it->cpl(it->ctx);
		free(it);
		return;
	}
	plx_thread_send_msg(it->tgt->poll_groups[it->idx]->thread, pg_iter_run, it);
}

void nvmf_poll_group_continue(struct nvmf_poll_group *group, void *ctx)
{
	struct pg_iter *it;

	TAILQ_FOREACH(it, &group->visits, link)
	{
		if (it->ctx == ctx) {
			break;
		}
	}
	if (it == NULL) {
		PLX_ERRLOG("poll group %s: continue without a visit for %p", group->name, ctx);
		abort();
	}
	TAILQ_REMOVE(&group->visits, it, link);
	it->idx++;
	plx_thread_send_msg(it->tgt->thread, pg_iter_step, it);
}

void nvmf_tgt_for_each_poll_group(struct nvmf_tgt *tgt, nvmf_pg_fn fn, void *ctx,
				  void (*cpl)(void *ctx))
{
	struct pg_iter *it = calloc(1, sizeof(*it));

	if (it == NULL) {
		/* Configuration changes are small; running out of memory here is fatal. */
		PLX_ERRLOG("out of memory iterating poll groups");
		abort();
	}
	it->tgt = tgt;
	it->fn = fn;
	it->ctx = ctx;
	it->cpl = cpl;
	pg_iter_step(it);
}

/* ---- new connections ---- */

static void pg_take_qpair(void *arg)
{
	struct nvmf_qpair *qpair = arg;
	struct nvmf_poll_group *group = qpair->group;
	struct nvmf_transport_poll_group *tgroup;

	TAILQ_INIT(&qpair->outstanding);
	TAILQ_INSERT_TAIL(&group->qpairs, qpair, link);
	tgroup = nvmf_poll_group_get_tgroup(group, qpair->transport);
	if (tgroup == NULL || qpair->transport->ops->poll_group_add(tgroup, qpair) != 0) {
		PLX_ERRLOG("poll group %s cannot take a new %s connection", group->name,
			   qpair->transport->ops->name);
		nvmf_qpair_disconnect(qpair);
	}
}

void nvmf_tgt_new_qpair(struct nvmf_tgt *tgt, struct nvmf_qpair *qpair)
{
	struct nvmf_poll_group *group = tgt->poll_groups[tgt->next_poll_group];

	tgt->next_poll_group = (tgt->next_poll_group + 1) % tgt->num_poll_groups;
	qpair->group = group;
	qpair->id = ++tgt->next_qpair_id;
	qpair->state = NVMF_QPAIR_UNINITIALIZED;
	plx_thread_send_msg(group->thread, pg_take_qpair, qpair);
}

/* ---- transports ---- */

struct transport_create_ctx {
	struct nvmf_transport *transport;
	void (*cb)(void *cb_arg, int rc);
	void *cb_arg;
};

static void pg_add_transport(struct nvmf_poll_group *group, void *arg)
{
	struct transport_create_ctx *ctx = arg;

	nvmf_poll_group_add_transport(group, ctx->transport);
	nvmf_poll_group_continue(group, ctx);
}

static void transport_create_done(void *arg)
{
	struct transport_create_ctx *ctx = arg;

	ctx->cb(ctx->cb_arg, 0);
	free(ctx);
}

int nvmf_tgt_add_transport(struct nvmf_tgt *tgt, const struct nvmf_transport_ops *ops,
			   const struct nvmf_transport_opts *opts, void (*cb)(void *cb_arg, int rc),
			   void *cb_arg, char *err)
{
	struct transport_create_ctx *ctx;
	struct nvmf_transport *transport;

	if (nvmf_tgt_find_transport(tgt, ops->name) != NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "trtype: transport %s already exists", ops->name);
		return -EEXIST;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return -ENOMEM;
	}
	transport = ops->create(opts, err);
	if (transport == NULL) {
		PLX_ERRLOG("creating transport %s failed: %s", ops->name, err);
		free(ctx);
		return -EINVAL;
	}
	transport->ops = ops;
	transport->opts = *opts;
	transport->tgt = tgt;
	TAILQ_INSERT_TAIL(&tgt->transports, transport, link);
	ctx->transport = transport;
	ctx->cb = cb;
	ctx->cb_arg = cb_arg;
	nvmf_tgt_for_each_poll_group(tgt, pg_add_transport, ctx, transport_create_done);
	return 0;
}

/* ---- listen addresses shared by subsystems ---- */

struct nvmf_tgt_listen {
	struct plx_nvme_trid trid;
	struct nvmf_transport *transport;
	uint32_t refs;
	TAILQ_ENTRY(nvmf_tgt_listen) link;
};

static struct nvmf_tgt_listen *tgt_find_listen(struct nvmf_tgt *tgt,
					       const struct plx_nvme_trid *trid)
{
	struct nvmf_tgt_listen *l;

	TAILQ_FOREACH(l, &tgt->listens, link)
	{
		if (plx_nvme_trid_equal(&l->trid, trid)) {
			return l;
		}
	}
	return NULL;
}

int nvmf_tgt_listen(struct nvmf_tgt *tgt, struct nvmf_transport *transport,
		    const struct plx_nvme_trid *trid, char *err)
{
	struct nvmf_tgt_listen *l = tgt_find_listen(tgt, trid);
	int rc;

	if (l != NULL) {
		l->refs++;
		return 0;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return -ENOMEM;
	}
	rc = transport->ops->listen(transport, trid, err);
	if (rc != 0) {
		free(l);
		return rc;
	}
	l->trid = *trid;
	l->transport = transport;
	l->refs = 1;
	TAILQ_INSERT_TAIL(&tgt->listens, l, link);
	return 0;
}

void nvmf_tgt_stop_listen(struct nvmf_tgt *tgt, const struct plx_nvme_trid *trid)
{
	struct nvmf_tgt_listen *l = tgt_find_listen(tgt, trid);

	if (l == NULL || --l->refs > 0) {
		return;
	}
	l->transport->ops->stop_listen(l->transport, trid);
	TAILQ_REMOVE(&tgt->listens, l, link);
	free(l);
}

bool nvmf_tgt_is_listening(struct nvmf_tgt *tgt, const struct plx_nvme_trid *trid)
{
	return tgt_find_listen(tgt, trid) != NULL;
}

void nvmf_tgt_foreach_listen(struct nvmf_tgt *tgt,
			     void (*fn)(const struct plx_nvme_trid *trid,
					struct nvmf_transport *transport, void *arg),
			     void *arg)
{
	struct nvmf_tgt_listen *l;

	TAILQ_FOREACH(l, &tgt->listens, link)
	{
		fn(&l->trid, l->transport, arg);
	}
}
