/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Poll groups: one plx_thread per reactor core running the transports' connection polling,
 * and each group's view of subsystems and namespaces (bdev channels, pause state).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "nvmf_internal.h"
#include "nvmf_tgt_internal.h"
#include "pollux/event.h"
#include "pollux/log.h"

struct nvmf_transport_poll_group *nvmf_poll_group_get_tgroup(struct nvmf_poll_group *group,
							     struct nvmf_transport *transport)
{
	struct nvmf_transport_poll_group *tgroup;

	TAILQ_FOREACH(tgroup, &group->tgroups, link)
	{
		if (tgroup->transport == transport) {
			return tgroup;
		}
	}
	return NULL;
}

void nvmf_poll_group_remove_qpair(struct nvmf_qpair *qpair)
{
	struct nvmf_poll_group *group = qpair->group;

	TAILQ_REMOVE(&group->qpairs, qpair, link);
	if (qpair->ctrlr != NULL) {
		if (qpair->qid == 0) {
			group->stat.current_admin_qpairs--;
		} else {
			group->stat.current_io_qpairs--;
		}
	}
}

static int pg_poll(void *arg)
{
	struct nvmf_poll_group *group = arg;
	struct nvmf_transport_poll_group *tgroup;
	int busy = PLX_POLLER_IDLE;

	TAILQ_FOREACH(tgroup, &group->tgroups, link)
	{
		if (tgroup->transport->ops->poll_group_poll(tgroup) == PLX_POLLER_BUSY) {
			busy = PLX_POLLER_BUSY;
		}
	}
	return busy;
}

/*
 * Poll group thread. The poller exists only while the group has a transport: a poller
 * without an interrupt fd would keep an idle reactor from sleeping. With one transport
 * (TCP today) its socket group's fd wakes the poller; a second transport's fd is not
 * wired yet, so a group with two keeps polling.
 */
void nvmf_poll_group_add_transport(struct nvmf_poll_group *group, struct nvmf_transport *transport)
{
	struct nvmf_transport_poll_group *tgroup;
	int fd;

	tgroup = transport->ops->poll_group_create(transport, group);
	if (tgroup == NULL) {
		PLX_ERRLOG("poll group %s: creating the %s transport's group failed", group->name,
			   transport->ops->name);
		return;
	}
	tgroup->transport = transport;
	tgroup->group = group;
	TAILQ_INSERT_TAIL(&group->tgroups, tgroup, link);
	if (group->poller != NULL) {
		return;
	}
	group->poller = plx_poller_register_named(pg_poll, group, 0, "nvmf_poll_group_poll");
	fd = transport->ops->poll_group_get_fd != NULL ? transport->ops->poll_group_get_fd(tgroup)
						       : -1;
	if (group->poller != NULL && fd >= 0 && plx_interrupt_mode_is_enabled()) {
		plx_poller_set_interrupt_fd(group->poller, fd, EPOLLIN);
	}
}

/* ---- creation and teardown ---- */

struct pg_create_ctx {
	struct nvmf_tgt *tgt;
	uint32_t remaining;
	void (*cb)(void *cb_arg, int rc);
	void *cb_arg;
	int rc;
};

static void pg_created(void *arg)
{
	struct pg_create_ctx *ctx = arg;

	if (--ctx->remaining == 0) {
		ctx->cb(ctx->cb_arg, ctx->rc);
		free(ctx);
	}
}

static void pg_init_on_thread(void *arg)
{
	struct nvmf_poll_group *group = arg;
	struct nvmf_transport *transport;

	TAILQ_FOREACH(transport, &group->tgt->transports, link)
	{
		nvmf_poll_group_add_transport(group, transport);
	}
	plx_thread_send_msg(group->tgt->thread, pg_created, group->create_ctx);
}

int nvmf_tgt_create_poll_groups(struct nvmf_tgt *tgt, void (*cb)(void *cb_arg, int rc),
				void *cb_arg)
{
	/* Without reactors (embedding apps, unit tests) one group runs on the calling thread. */
	uint32_t n = PLX_MAX(plx_reactor_count(), 1u);
	bool pinned = plx_reactor_count() > 0;
	struct pg_create_ctx *ctx;

	tgt->poll_groups = calloc(n, sizeof(*tgt->poll_groups));
	ctx = calloc(1, sizeof(*ctx));
	if (tgt->poll_groups == NULL || ctx == NULL) {
		free(ctx);
		return -ENOMEM;
	}
	ctx->tgt = tgt;
	ctx->cb = cb;
	ctx->cb_arg = cb_arg;
	ctx->remaining = n;
	for (uint32_t i = 0; i < n; i++) {
		struct nvmf_poll_group *group = calloc(1, sizeof(*group));
		struct plx_cpuset mask;

		if (group == NULL) {
			return -ENOMEM;
		}
		group->sgroups = calloc(tgt->max_subsystems, sizeof(*group->sgroups));
		if (group->sgroups == NULL) {
			free(group);
			return -ENOMEM;
		}
		group->num_sgroups = tgt->max_subsystems;
		group->tgt = tgt;
		group->index = i;
		group->create_ctx = ctx;
		TAILQ_INIT(&group->tgroups);
		TAILQ_INIT(&group->qpairs);
		TAILQ_INIT(&group->visits);
		snprintf(group->name, sizeof(group->name), "nvmf_tgt_poll_group_%03u", i);
		plx_cpuset_zero(&mask);
		if (pinned) {
			plx_cpuset_set_cpu(&mask, plx_reactor_core(i), true);
			group->thread = plx_thread_create(group->name, &mask);
			group->own_thread = true;
		} else {
			group->thread = plx_get_thread();
		}
		if (group->thread == NULL) {
			PLX_ERRLOG("cannot create thread %s", group->name);
			free(group->sgroups);
			free(group);
			return -ENOMEM;
		}
		tgt->poll_groups[i] = group;
		tgt->num_poll_groups++;
		plx_thread_send_msg(group->thread, pg_init_on_thread, group);
	}
	return 0;
}

/* Every qpair of the group is asked to disconnect; the caller polls until none is left. */
static void pg_disconnect_all(struct nvmf_poll_group *group, void *ctx)
{
	struct nvmf_qpair *qpair, *next;

	/* Disconnecting may free a qpair at once (nothing in flight), so read next first. */
	for (qpair = TAILQ_FIRST(&group->qpairs); qpair != NULL; qpair = next) {
		next = TAILQ_NEXT(qpair, link);
		nvmf_qpair_disconnect(qpair);
	}
	nvmf_poll_group_continue(group, ctx);
}

struct pg_fini_ctx {
	struct nvmf_tgt *tgt;
	struct plx_poller *waiter;
	void (*cb)(void *cb_arg);
	void *cb_arg;
	uint32_t busy_groups;
};

static void pg_count_busy(struct nvmf_poll_group *group, void *arg)
{
	struct pg_fini_ctx *ctx = arg;

	if (!TAILQ_EMPTY(&group->qpairs)) {
		ctx->busy_groups++;
	}
	nvmf_poll_group_continue(group, ctx);
}

static void pg_destroy_on_thread(struct nvmf_poll_group *group, void *ctx)
{
	struct nvmf_transport_poll_group *tgroup;

	plx_poller_unregister(&group->poller);
	while ((tgroup = TAILQ_FIRST(&group->tgroups)) != NULL) {
		TAILQ_REMOVE(&group->tgroups, tgroup, link);
		tgroup->transport->ops->poll_group_destroy(tgroup);
	}
	nvmf_poll_group_continue(group, ctx);
}

static void pg_thread_exit(void *arg)
{
	plx_thread_exit(arg);
}

static void pg_all_destroyed(void *arg)
{
	struct pg_fini_ctx *ctx = arg;
	struct nvmf_tgt *tgt = ctx->tgt;

	for (uint32_t i = 0; i < tgt->num_poll_groups; i++) {
		struct nvmf_poll_group *group = tgt->poll_groups[i];

		if (group->own_thread) {
			plx_thread_send_msg(group->thread, pg_thread_exit, group->thread);
		}
		free(group->sgroups);
		free(group);
	}
	tgt->num_poll_groups = 0;
	ctx->cb(ctx->cb_arg);
	free(ctx);
}

static void pg_fini_check(void *arg);

static int pg_fini_poll(void *arg)
{
	struct pg_fini_ctx *ctx = arg;

	plx_poller_unregister(&ctx->waiter);
	ctx->busy_groups = 0;
	nvmf_tgt_for_each_poll_group(ctx->tgt, pg_count_busy, ctx, pg_fini_check);
	return PLX_POLLER_BUSY;
}

static void pg_fini_check(void *arg)
{
	struct pg_fini_ctx *ctx = arg;

	if (ctx->busy_groups > 0) {
		/* Teardown waits for I/O the bdevs still hold; look again shortly. */
		ctx->waiter = plx_poller_register_named(pg_fini_poll, ctx, 1000, "nvmf_fini_wait");
		return;
	}
	nvmf_tgt_for_each_poll_group(ctx->tgt, pg_destroy_on_thread, ctx, pg_all_destroyed);
}

void nvmf_tgt_destroy_poll_groups(struct nvmf_tgt *tgt, void (*cb)(void *cb_arg), void *cb_arg)
{
	struct pg_fini_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		abort();
	}
	ctx->tgt = tgt;
	ctx->cb = cb;
	ctx->cb_arg = cb_arg;
	if (tgt->num_poll_groups == 0) {
		cb(cb_arg);
		free(ctx);
		return;
	}
	nvmf_tgt_for_each_poll_group(tgt, pg_disconnect_all, ctx, pg_fini_check);
}

/* ---- the group's view of a subsystem ---- */

int nvmf_pg_subsystem_alloc(struct nvmf_poll_group *group, const struct nvmf_subsystem *subsys)
{
	struct nvmf_pg_subsystem *sg = nvmf_pg_get_sgroup(group, subsys);

	sg->ns_info = calloc(subsys->max_nsid, sizeof(*sg->ns_info));
	if (sg->ns_info == NULL) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < subsys->max_nsid; i++) {
		TAILQ_INIT(&sg->ns_info[i].pending);
	}
	sg->num_ns = subsys->max_nsid;
	return 0;
}

void nvmf_pg_subsystem_free(struct nvmf_poll_group *group, const struct nvmf_subsystem *subsys)
{
	struct nvmf_pg_subsystem *sg = nvmf_pg_get_sgroup(group, subsys);

	free(sg->ns_info);
	memset(sg, 0, sizeof(*sg));
}

/* Poll group thread: requests that waited while the namespace was paused run now. */
void nvmf_pg_ns_resume_pending(struct nvmf_pg_ns *pg_ns)
{
	struct nvmf_request *req;

	while ((req = TAILQ_FIRST(&pg_ns->pending)) != NULL) {
		TAILQ_REMOVE(&pg_ns->pending, req, pending_link);
		nvmf_ctrlr_process_io_cmd(req);
	}
}
