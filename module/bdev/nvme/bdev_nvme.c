/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nvme bdev module's controllers: attach, detach, the admin poller, the per-thread qpair
 * channels and the reset/reconnect state machine.
 *
 * A reset (asked for, or because the admin queue or an I/O qpair failed) runs on the app
 * thread in three steps: every channel frees its qpair on its own thread (the commands it
 * held complete there as aborted, and bdev_nvme_bdev.c sends them down another path or
 * keeps them waiting); then the controller reconnects (blocking: lib/nvme connects
 * synchronously), trying the alternate transport IDs of a failover controller in turn; then
 * every channel allocates a new qpair. A failed reconnect is retried every
 * reconnect_delay_sec until ctrlr_loss_timeout_sec has passed since the outage began, when
 * the controller is deleted; fast_io_fail_timeout_sec makes waiting I/O fail earlier. Only
 * the failed controller is touched: other paths of the same bdevs carry on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bdev_nvme_internal.h"
#include "pollux/env.h"
#include "pollux/log.h"

struct nvme_bdev_ctrlr_list g_nvme_bdev_ctrlrs = TAILQ_HEAD_INITIALIZER(g_nvme_bdev_ctrlrs);
static struct bdev_nvme_opts g_opts;
static bool g_opts_set;

struct nvme_reset_waiter {
	bdev_nvme_done_cb cb;
	void *cb_arg;
	TAILQ_ENTRY(nvme_reset_waiter) link;
};

static void nvme_ctrlr_delete(struct nvme_ctrlr *ctrlr, bdev_nvme_done_cb cb, void *cb_arg);
static void nvme_ctrlr_start_reset(struct nvme_ctrlr *ctrlr);

/* ---- options ---- */

void bdev_nvme_get_default_opts(struct bdev_nvme_opts *opts)
{
	*opts = (struct bdev_nvme_opts){
	    .action_on_timeout = BDEV_NVME_TIMEOUT_ACTION_NONE,
	    .keep_alive_timeout_ms = 10000,
	    .nvme_adminq_poll_period_us = 10000,
	    .delay_cmd_submit = true,
	    .transport_retry_count = 4,
	    .bdev_retry_count = 3,
	    .dhchap_digests = 0x7,
	    .dhchap_dhgroups = 0x3f,
	    .mp_policy = BDEV_NVME_MP_POLICY_ACTIVE_PASSIVE,
	    .mp_selector = BDEV_NVME_MP_SELECTOR_ROUND_ROBIN,
	    .mp_rr_min_io = 1,
	};
}

const struct bdev_nvme_opts *bdev_nvme_get_opts(void)
{
	if (!g_opts_set) {
		bdev_nvme_get_default_opts(&g_opts);
		g_opts_set = true;
	}
	return &g_opts;
}

int bdev_nvme_set_opts(const struct bdev_nvme_opts *opts, char *err, size_t errlen)
{
	int rc;

	if (!TAILQ_EMPTY(&g_nvme_bdev_ctrlrs)) {
		snprintf(err, errlen, "options can only be set before any NVMe controller exists");
		return -EPERM;
	}
	rc = bdev_nvme_check_reconnect_params(opts->ctrlr_loss_timeout_sec,
					      opts->reconnect_delay_sec,
					      opts->fast_io_fail_timeout_sec, err, errlen);
	if (rc != 0) {
		return rc;
	}
	g_opts = *opts;
	g_opts_set = true;
	return 0;
}

void bdev_nvme_get_default_attach_opts(struct bdev_nvme_attach_opts *opts)
{
	const struct bdev_nvme_opts *g = bdev_nvme_get_opts();

	*opts = (struct bdev_nvme_attach_opts){
	    .multipath = BDEV_NVME_MP_FAILOVER,
	    .ctrlr_loss_timeout_sec = g->ctrlr_loss_timeout_sec,
	    .reconnect_delay_sec = g->reconnect_delay_sec,
	    .fast_io_fail_timeout_sec = g->fast_io_fail_timeout_sec,
	    .mp_policy = g->mp_policy,
	    .mp_selector = g->mp_selector,
	    .mp_rr_min_io = g->mp_rr_min_io,
	};
}

/* ---- a count of asynchronous steps ---- */

struct nvme_fanout {
	uint32_t pending;
	int rc;
	bdev_nvme_done_cb cb;
	void *cb_arg;
};

struct nvme_fanout *nvme_fanout_new(bdev_nvme_done_cb cb, void *cb_arg)
{
	struct nvme_fanout *f = calloc(1, sizeof(*f));

	if (f != NULL) {
		*f = (struct nvme_fanout){.pending = 1, .cb = cb, .cb_arg = cb_arg};
	}
	return f;
}

void nvme_fanout_add(struct nvme_fanout *f)
{
	f->pending++;
}

void nvme_fanout_done(void *arg, int rc)
{
	struct nvme_fanout *f = arg;

	if (rc != 0 && rc != -EALREADY && f->rc == 0) {
		f->rc = rc;
	}
	if (--f->pending == 0) {
		f->cb(f->cb_arg, f->rc);
		free(f);
	}
}

void nvme_on_app_thread(plx_msg_fn fn, void *arg)
{
	struct plx_thread *app = plx_thread_get_app_thread();

	if (plx_get_thread() == app) {
		fn(arg);
		return;
	}
	while (plx_thread_send_msg(app, fn, arg) == -ENOMEM) {
		usleep(100);
	}
}

/* ---- lookups ---- */

struct nvme_bdev_ctrlr *nvme_bdev_ctrlr_get_by_name(const char *name)
{
	struct nvme_bdev_ctrlr *nbc;

	TAILQ_FOREACH(nbc, &g_nvme_bdev_ctrlrs, link)
	{
		if (strcmp(nbc->name, name) == 0) {
			return nbc;
		}
	}
	return NULL;
}

static bool nvme_ctrlr_has_trid(const struct nvme_ctrlr *ctrlr, const struct plx_nvme_trid *trid)
{
	const struct nvme_path_id *p;

	TAILQ_FOREACH(p, &ctrlr->trids, link)
	{
		if (plx_nvme_trid_equal(&p->trid, trid)) {
			return true;
		}
	}
	return false;
}

static void nvme_ctrlr_set_state(struct nvme_ctrlr *ctrlr, enum nvme_ctrlr_state state)
{
	pthread_mutex_lock(&ctrlr->lock);
	__atomic_store_n(&ctrlr->state, (int)state, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&ctrlr->lock);
}

bool nvme_ctrlr_may_come_back(const struct nvme_ctrlr *ctrlr)
{
	switch (nvme_ctrlr_get_state(ctrlr)) {
	case NVME_CTRLR_ENABLED:
	case NVME_CTRLR_RESETTING:
		return !__atomic_load_n(&ctrlr->fast_io_fail_timedout, __ATOMIC_RELAXED);
	case NVME_CTRLR_FAILED:
		return __atomic_load_n(&ctrlr->reconnect_scheduled, __ATOMIC_RELAXED) &&
		       !__atomic_load_n(&ctrlr->fast_io_fail_timedout, __ATOMIC_RELAXED);
	default:
		return false;
	}
}

/* ---- controller references (messages in flight to the app thread hold one) ---- */

static void nvme_ctrlr_get_ref(struct nvme_ctrlr *ctrlr)
{
	__atomic_fetch_add(&ctrlr->ref, 1, __ATOMIC_RELAXED);
}

static void nvme_ctrlr_free(struct nvme_ctrlr *ctrlr)
{
	struct nvme_path_id *p;

	while ((p = TAILQ_FIRST(&ctrlr->trids)) != NULL) {
		TAILQ_REMOVE(&ctrlr->trids, p, link);
		free(p);
	}
	for (uint32_t i = 0; i < ctrlr->num_ns; i++) {
		free(ctrlr->ns[i]);
	}
	free(ctrlr->ns);
	pthread_mutex_destroy(&ctrlr->lock);
	free(ctrlr);
}

/* Drop a reference; the last one frees a controller that was deleted meanwhile. */
static void nvme_ctrlr_put_ref(struct nvme_ctrlr *ctrlr)
{
	if (__atomic_sub_fetch(&ctrlr->ref, 1, __ATOMIC_ACQ_REL) == 0 &&
	    nvme_ctrlr_get_state(ctrlr) == NVME_CTRLR_DELETING && ctrlr->nbdev_ctrlr == NULL) {
		nvme_ctrlr_free(ctrlr);
	}
}

/* ---- per-thread qpair channels ---- */

static int nvme_ctrlr_channel_poll(void *arg)
{
	struct nvme_ctrlr_channel *ch = arg;
	int32_t rc;

	if (ch->qpair == NULL) {
		ch->poller_paused = true;
		plx_poller_pause(ch->poller);
		return PLX_POLLER_IDLE;
	}
	rc = plx_nvme_qpair_process_completions(ch->qpair, 0);
	if (plx_unlikely(rc < 0)) {
		nvme_ctrlr_channel_failed(ch);
		ch->poller_paused = true;
		plx_poller_pause(ch->poller);
		return PLX_POLLER_BUSY;
	}
	/* Nothing in flight: let the reactor sleep until the next submission resumes us. */
	if (ch->qpair != NULL && plx_nvme_qpair_get_outstanding(ch->qpair) == 0) {
		ch->poller_paused = true;
		plx_poller_pause(ch->poller);
	}
	return rc > 0 ? PLX_POLLER_BUSY : PLX_POLLER_IDLE;
}

static void nvme_ctrlr_channel_alloc_qpair(struct nvme_ctrlr_channel *ch)
{
	struct nvme_ctrlr *ctrlr = ch->ctrlr;
	struct plx_nvme_io_qpair_opts qo;
	struct plx_nvme_ctrlr *c;

	pthread_mutex_lock(&ctrlr->lock);
	c = ctrlr->ctrlr;
	if (ch->qpair != NULL || c == NULL || nvme_ctrlr_get_state(ctrlr) != NVME_CTRLR_ENABLED) {
		pthread_mutex_unlock(&ctrlr->lock);
		return;
	}
	plx_nvme_ctrlr_get_default_io_qpair_opts(c, &qo);
	qo.delay_cmd_submit = bdev_nvme_get_opts()->delay_cmd_submit;
	ch->qpair = plx_nvme_ctrlr_alloc_io_qpair(c, &qo);
	pthread_mutex_unlock(&ctrlr->lock);
	ch->failure_reported = false;
	ch->alloc_failed = ch->qpair == NULL;
	if (ch->alloc_failed) {
		/* Not a reason to reset (the controller may have granted fewer queues than there
		 * are threads): this thread's I/O on the path fails until the next reset. A dead
		 * connection shows on the admin queue and resets from there. */
		PLX_ERRLOG(
		    "%s (cntlid %u): no I/O qpair for thread %s: its I/O on this path fails\n",
		    ctrlr->nbdev_ctrlr->name, ctrlr->cntlid, plx_thread_get_name(plx_get_thread()));
	}
}

static void nvme_ctrlr_channel_free_qpair(struct nvme_ctrlr_channel *ch)
{
	struct plx_nvme_qpair *qpair = ch->qpair;

	/* Cleared first: the aborted commands' callbacks must not pick this qpair again. */
	ch->qpair = NULL;
	if (qpair != NULL) {
		plx_nvme_ctrlr_free_io_qpair(qpair);
	}
}

static int nvme_ctrlr_channel_create(void *io_device, void *ctx_buf)
{
	struct nvme_ctrlr_channel *ch = ctx_buf;
	uint64_t period = bdev_nvme_get_opts()->nvme_ioq_poll_period_us;

	ch->ctrlr = io_device;
	ch->poller =
	    plx_poller_register_named(nvme_ctrlr_channel_poll, ch, period, "bdev_nvme_poll");
	if (ch->poller == NULL) {
		return -ENOMEM;
	}
	ch->poller_paused = true;
	plx_poller_pause(ch->poller);
	nvme_ctrlr_channel_alloc_qpair(ch);
	return 0;
}

static void nvme_ctrlr_channel_destroy(void *io_device, void *ctx_buf)
{
	struct nvme_ctrlr_channel *ch = ctx_buf;

	(void)io_device;
	nvme_ctrlr_channel_free_qpair(ch);
	plx_poller_unregister(&ch->poller);
}

static void nvme_ctrlr_failed_msg(void *arg)
{
	struct nvme_ctrlr *ctrlr = arg;

	if (nvme_ctrlr_get_state(ctrlr) == NVME_CTRLR_ENABLED) {
		PLX_WARNLOG("%s (cntlid %u): an I/O qpair failed: resetting the controller\n",
			    ctrlr->nbdev_ctrlr->name, ctrlr->cntlid);
		nvme_ctrlr_start_reset(ctrlr);
	}
	nvme_ctrlr_put_ref(ctrlr);
}

void nvme_ctrlr_channel_failed(struct nvme_ctrlr_channel *ch)
{
	if (ch->failure_reported) {
		return;
	}
	ch->failure_reported = true;
	nvme_ctrlr_get_ref(ch->ctrlr);
	plx_thread_send_msg(plx_thread_get_app_thread(), nvme_ctrlr_failed_msg, ch->ctrlr);
}

/* ---- the admin queue ---- */

static int nvme_ctrlr_admin_poll(void *arg)
{
	struct nvme_ctrlr *ctrlr = arg;
	int32_t rc;

	if (ctrlr->ctrlr == NULL || nvme_ctrlr_get_state(ctrlr) != NVME_CTRLR_ENABLED) {
		return PLX_POLLER_IDLE;
	}
	rc = plx_nvme_ctrlr_process_admin_completions(ctrlr->ctrlr);
	if (rc < 0) {
		PLX_WARNLOG("%s (cntlid %u): admin queue failed: resetting the controller\n",
			    ctrlr->nbdev_ctrlr->name, ctrlr->cntlid);
		nvme_ctrlr_start_reset(ctrlr);
		return PLX_POLLER_BUSY;
	}
	return rc > 0 ? PLX_POLLER_BUSY : PLX_POLLER_IDLE;
}

static void nvme_ctrlr_stop_admin_pollers(struct nvme_ctrlr *ctrlr)
{
	plx_poller_unregister(&ctrlr->adminq_poller);
	plx_poller_unregister(&ctrlr->keep_alive_poller);
}

/*
 * While the controller is enabled: where the reactor sleeps and the transport has an fd
 * (TCP), the admin queue is polled when its socket has something (an AER, a keep-alive
 * answer, EOF) and by a timer at half the keep-alive interval (Keep Alives go out when due at
 * a poll); otherwise every nvme_adminq_poll_period_us. An idle daemon then wakes every few
 * seconds per controller instead of every 10 ms.
 */
static void nvme_ctrlr_start_admin_pollers(struct nvme_ctrlr *ctrlr)
{
	char name[BDEV_NVME_NAME_MAX + 16];
	int fd = plx_nvme_ctrlr_get_admin_fd(ctrlr->ctrlr);
	uint32_t ka_ms = plx_nvme_ctrlr_get_keep_alive_interval_ms(ctrlr->ctrlr);

	nvme_ctrlr_stop_admin_pollers(ctrlr);
	snprintf(name, sizeof(name), "%s_admin", ctrlr->opts.name);
	ctrlr->adminq_poller = plx_poller_register_named(
	    nvme_ctrlr_admin_poll, ctrlr, bdev_nvme_get_opts()->nvme_adminq_poll_period_us, name);
	if (ctrlr->adminq_poller == NULL || fd < 0 || !plx_interrupt_mode_is_enabled() ||
	    plx_poller_set_interrupt_fd(ctrlr->adminq_poller, fd, EPOLLIN) != 0) {
		return;
	}
	if (ka_ms != 0) {
		snprintf(name, sizeof(name), "%s_keep_alive", ctrlr->opts.name);
		ctrlr->keep_alive_poller = plx_poller_register_named(
		    nvme_ctrlr_admin_poll, ctrlr, (uint64_t)PLX_MAX(ka_ms / 2, 1u) * 1000, name);
	}
}

/* ---- ANA log reads a path error asks for ---- */

struct nvme_ana_refresh_result {
	struct nvme_ctrlr *ctrlr;
	int rc;
};

static void nvme_ctrlr_ana_refreshed_msg(void *arg)
{
	struct nvme_ana_refresh_result *res = arg;
	struct nvme_ctrlr *ctrlr = res->ctrlr;

	ctrlr->ana_refresh_pending = false;
	if (res->rc == 0 && nvme_ctrlr_get_state(ctrlr) == NVME_CTRLR_ENABLED &&
	    ctrlr->nbdev_ctrlr != NULL) {
		nvme_ctrlr_ana_changed(ctrlr);
	}
	free(res);
	nvme_ctrlr_put_ref(ctrlr);
}

/* Usually on the app thread (an admin poll), but a reset's abort runs it on the connect
 * job's thread. */
static void nvme_ctrlr_ana_refreshed(void *arg, int rc)
{
	struct nvme_ana_refresh_result *res = calloc(1, sizeof(*res));
	struct nvme_ctrlr *ctrlr = arg;

	if (res == NULL) {
		/* Out of memory: the flag stays set, the reference is kept (a leak of one). */
		PLX_ERRLOG("out of memory after an ANA log read\n");
		return;
	}
	res->ctrlr = ctrlr;
	res->rc = rc;
	nvme_on_app_thread(nvme_ctrlr_ana_refreshed_msg, res);
}

static void nvme_ctrlr_ana_refresh_msg(void *arg)
{
	struct nvme_ctrlr *ctrlr = arg;

	if (nvme_ctrlr_get_state(ctrlr) == NVME_CTRLR_ENABLED && ctrlr->ctrlr != NULL &&
	    !ctrlr->ana_refresh_pending) {
		nvme_ctrlr_get_ref(ctrlr);
		if (plx_nvme_ctrlr_refresh_ana(ctrlr->ctrlr, nvme_ctrlr_ana_refreshed, ctrlr) ==
		    0) {
			ctrlr->ana_refresh_pending = true;
		} else {
			nvme_ctrlr_put_ref(ctrlr);
		}
	}
	nvme_ctrlr_put_ref(ctrlr);
}

void nvme_ctrlr_ana_suspect(struct nvme_ctrlr *ctrlr)
{
	nvme_ctrlr_get_ref(ctrlr);
	if (plx_thread_send_msg(plx_thread_get_app_thread(), nvme_ctrlr_ana_refresh_msg, ctrlr) !=
	    0) {
		nvme_ctrlr_put_ref(ctrlr);
	}
}

/* Every event may change namespaces or ANA states: both are cheap to look at again. */
static void nvme_ctrlr_aer_cb(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct nvme_ctrlr *ctrlr = arg;

	(void)cpl;
	if (nvme_ctrlr_get_state(ctrlr) != NVME_CTRLR_ENABLED) {
		return;
	}
	nvme_ctrlr_refresh_namespaces(ctrlr);
	nvme_bdev_ctrlr_add_namespaces(ctrlr, NULL, NULL, 0);
	nvme_ctrlr_ana_changed(ctrlr);
}

/* ---- connecting ---- */

/* A controller the module holds from now on: events come to us, cntlid as granted. */
static void nvme_ctrlr_adopt(struct nvme_ctrlr *ctrlr, struct plx_nvme_ctrlr *c)
{
	ctrlr->ctrlr = c;
	ctrlr->cntlid = plx_nvme_ctrlr_get_data(c)->cntlid;
	plx_nvme_ctrlr_register_aer_callback(c, nvme_ctrlr_aer_cb, ctrlr);
}

/* The transport IDs in order of preference, for a connect job (which copies them). */
static struct plx_nvme_trid *nvme_ctrlr_trid_array(const struct nvme_ctrlr *ctrlr, uint32_t *n)
{
	const struct nvme_path_id *p;
	struct plx_nvme_trid *a;
	uint32_t i = 0;

	*n = 0;
	TAILQ_FOREACH(p, &ctrlr->trids, link)
	{
		(*n)++;
	}
	a = calloc(*n, sizeof(*a));
	if (a == NULL) {
		return NULL;
	}
	TAILQ_FOREACH(p, &ctrlr->trids, link)
	{
		a[i++] = p->trid;
	}
	return a;
}

/* The transport ID that worked goes first: later resets try it first. */
static void nvme_ctrlr_prefer_trid(struct nvme_ctrlr *ctrlr, const struct plx_nvme_trid *used)
{
	struct nvme_path_id *p;

	TAILQ_FOREACH(p, &ctrlr->trids, link)
	{
		if (plx_nvme_trid_equal(&p->trid, used)) {
			if (p != TAILQ_FIRST(&ctrlr->trids)) {
				TAILQ_REMOVE(&ctrlr->trids, p, link);
				TAILQ_INSERT_HEAD(&ctrlr->trids, p, link);
			}
			return;
		}
	}
}

/* ---- reset ---- */

static void nvme_ctrlr_complete_waiters(struct nvme_ctrlr *ctrlr, int rc)
{
	struct nvme_reset_waiter *w;

	while ((w = TAILQ_FIRST(&ctrlr->reset_waiters)) != NULL) {
		TAILQ_REMOVE(&ctrlr->reset_waiters, w, link);
		w->cb(w->cb_arg, rc);
		free(w);
	}
}

static int nvme_ctrlr_reconnect_timer(void *arg)
{
	struct nvme_ctrlr *ctrlr = arg;

	plx_poller_unregister(&ctrlr->reconnect_timer);
	if (nvme_ctrlr_get_state(ctrlr) == NVME_CTRLR_FAILED) {
		nvme_ctrlr_start_reset(ctrlr);
	}
	return PLX_POLLER_BUSY;
}

static bool nvme_ctrlr_elapsed_sec(const struct nvme_ctrlr *ctrlr, uint32_t sec)
{
	return plx_thread_get_last_tsc(plx_get_thread()) - ctrlr->reset_start_tsc >=
	       (uint64_t)sec * plx_get_ticks_hz();
}

static void nvme_ctrlr_delete_done_log(void *cb_arg, int rc)
{
	(void)cb_arg;
	(void)rc;
}

/* What follows a failed reconnect: stay failed, try again later, or give the path up. */
static void nvme_ctrlr_reset_failed(struct nvme_ctrlr *ctrlr, int rc)
{
	const struct bdev_nvme_attach_opts *o = &ctrlr->opts;

	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_FAILED);
	nvme_ctrlr_complete_waiters(ctrlr, rc);
	if (ctrlr->destruct_after_reset) {
		nvme_ctrlr_delete(ctrlr, nvme_ctrlr_delete_done_log, NULL);
		return;
	}
	if (o->reconnect_delay_sec == 0) {
		PLX_ERRLOG("%s (cntlid %u): reset failed; no reconnect configured\n",
			   ctrlr->nbdev_ctrlr->name, ctrlr->cntlid);
		ctrlr->reset_start_tsc = 0;
		nvme_ctrlr_paths_changed(ctrlr);
		return;
	}
	if (o->ctrlr_loss_timeout_sec != -1 &&
	    nvme_ctrlr_elapsed_sec(ctrlr, (uint32_t)o->ctrlr_loss_timeout_sec)) {
		PLX_ERRLOG("%s (cntlid %u): not reconnected within ctrlr_loss_timeout_sec %d: "
			   "deleting the controller\n",
			   ctrlr->nbdev_ctrlr->name, ctrlr->cntlid, o->ctrlr_loss_timeout_sec);
		nvme_ctrlr_delete(ctrlr, nvme_ctrlr_delete_done_log, NULL);
		return;
	}
	if (o->fast_io_fail_timeout_sec != 0 &&
	    nvme_ctrlr_elapsed_sec(ctrlr, o->fast_io_fail_timeout_sec)) {
		__atomic_store_n(&ctrlr->fast_io_fail_timedout, true, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&ctrlr->reconnect_scheduled, true, __ATOMIC_RELAXED);
	ctrlr->reconnect_timer = plx_poller_register_named(
	    nvme_ctrlr_reconnect_timer, ctrlr, (uint64_t)o->reconnect_delay_sec * 1000000,
	    "bdev_nvme_reconnect");
	nvme_ctrlr_paths_changed(ctrlr);
}

static void nvme_ctrlr_channel_get_qpair(struct plx_io_channel_iter *i)
{
	struct nvme_ctrlr_channel *ch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));

	nvme_ctrlr_channel_alloc_qpair(ch);
	plx_for_each_channel_continue(i, 0);
}

static void nvme_ctrlr_qpairs_back(struct plx_io_channel_iter *i, int status)
{
	struct nvme_ctrlr *ctrlr = plx_io_channel_iter_get_ctx(i);

	(void)status;
	if (ctrlr->nbdev_ctrlr == NULL) { /* the module finished meanwhile (shutdown) */
		nvme_ctrlr_put_ref(ctrlr);
		return;
	}
	nvme_ctrlr_paths_changed(ctrlr);
	nvme_ctrlr_complete_waiters(ctrlr, 0);
	if (ctrlr->destruct_after_reset) {
		nvme_ctrlr_put_ref(ctrlr);
		nvme_ctrlr_delete(ctrlr, nvme_ctrlr_delete_done_log, NULL);
		return;
	}
	if (ctrlr->reset_again) {
		ctrlr->reset_again = false;
		nvme_ctrlr_start_reset(ctrlr);
	}
	nvme_ctrlr_put_ref(ctrlr);
}

static void nvme_ctrlr_reconnected(void *arg, struct plx_nvme_ctrlr *result,
				   const struct plx_nvme_trid *used, const char *err);

static void nvme_ctrlr_channel_drop_qpair(struct plx_io_channel_iter *i)
{
	struct nvme_ctrlr_channel *ch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));

	nvme_ctrlr_channel_free_qpair(ch);
	plx_for_each_channel_continue(i, 0);
}

static void nvme_ctrlr_qpairs_dropped(struct plx_io_channel_iter *i, int status)
{
	struct nvme_ctrlr *ctrlr = plx_io_channel_iter_get_ctx(i);
	struct plx_nvme_trid *trids;
	struct plx_nvme_ctrlr *old;
	bool reset_old;
	uint32_t n;

	(void)status;
	if (ctrlr->nbdev_ctrlr == NULL) { /* the module finished meanwhile (shutdown) */
		nvme_ctrlr_put_ref(ctrlr);
		return;
	}
	if (ctrlr->destruct_after_reset) {
		nvme_ctrlr_reset_failed(ctrlr, -ENXIO);
		nvme_ctrlr_put_ref(ctrlr);
		return;
	}
	trids = nvme_ctrlr_trid_array(ctrlr, &n);
	if (trids == NULL) {
		nvme_ctrlr_reset_failed(ctrlr, -ENOMEM);
		nvme_ctrlr_put_ref(ctrlr);
		return;
	}
	old = ctrlr->ctrlr;
	reset_old = old != NULL && plx_nvme_trid_equal(plx_nvme_ctrlr_get_trid(old), &trids[0]);
	/* The job owns the controller until it answers: nobody here may look at it. */
	ctrlr->ctrlr = NULL;
	nvme_connect(&ctrlr->opts, old, reset_old, trids, n, nvme_ctrlr_reconnected, ctrlr);
	free(trids);
}

/* The reconnect job answered (app thread); the reference moves on or is dropped. */
static void nvme_ctrlr_reconnected(void *arg, struct plx_nvme_ctrlr *result,
				   const struct plx_nvme_trid *used, const char *err)
{
	struct nvme_ctrlr *ctrlr = arg;

	if (ctrlr->nbdev_ctrlr == NULL) { /* the module finished meanwhile (shutdown) */
		if (result != NULL) {
			plx_nvme_detach(result);
		}
		nvme_ctrlr_put_ref(ctrlr);
		return;
	}
	ctrlr->ctrlr = result;
	if (used == NULL) {
		PLX_ERRLOG("%s (cntlid %u): reconnect failed: %s\n", ctrlr->nbdev_ctrlr->name,
			   ctrlr->cntlid, err);
		nvme_ctrlr_reset_failed(ctrlr, -ENXIO);
		nvme_ctrlr_put_ref(ctrlr);
		return;
	}
	nvme_ctrlr_adopt(ctrlr, result);
	nvme_ctrlr_prefer_trid(ctrlr, used);
	PLX_NOTICELOG("%s (cntlid %u): reset done, connected through %s:%s\n",
		      ctrlr->nbdev_ctrlr->name, ctrlr->cntlid, used->traddr, used->trsvcid);
	ctrlr->reset_start_tsc = 0;
	__atomic_store_n(&ctrlr->fast_io_fail_timedout, false, __ATOMIC_RELAXED);
	nvme_ctrlr_refresh_namespaces(ctrlr);
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_ENABLED);
	nvme_ctrlr_start_admin_pollers(ctrlr);
	/* The reference moves on to the second walk. */
	plx_for_each_channel(ctrlr, nvme_ctrlr_channel_get_qpair, ctrlr, nvme_ctrlr_qpairs_back);
}

static void nvme_ctrlr_start_reset(struct nvme_ctrlr *ctrlr)
{
	if (nvme_ctrlr_get_state(ctrlr) == NVME_CTRLR_RESETTING) {
		ctrlr->reset_again = true;
		return;
	}
	if (nvme_ctrlr_get_state(ctrlr) == NVME_CTRLR_DELETING) {
		return;
	}
	plx_poller_unregister(&ctrlr->reconnect_timer);
	__atomic_store_n(&ctrlr->reconnect_scheduled, false, __ATOMIC_RELAXED);
	if (ctrlr->reset_start_tsc == 0) {
		ctrlr->reset_start_tsc = plx_thread_get_last_tsc(plx_get_thread());
	}
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_RESETTING);
	/* Its socket goes away; a readable fd nobody reads would keep the reactor spinning. */
	nvme_ctrlr_stop_admin_pollers(ctrlr);
	nvme_ctrlr_get_ref(ctrlr);
	plx_for_each_channel(ctrlr, nvme_ctrlr_channel_drop_qpair, ctrlr,
			     nvme_ctrlr_qpairs_dropped);
}

void nvme_ctrlr_reset(struct nvme_ctrlr *ctrlr, bdev_nvme_done_cb cb, void *cb_arg)
{
	struct nvme_reset_waiter *w;

	if (nvme_ctrlr_get_state(ctrlr) == NVME_CTRLR_DELETING || ctrlr->destruct_after_reset) {
		cb(cb_arg, -ENXIO);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		cb(cb_arg, -ENOMEM);
		return;
	}
	w->cb = cb;
	w->cb_arg = cb_arg;
	TAILQ_INSERT_TAIL(&ctrlr->reset_waiters, w, link);
	if (nvme_ctrlr_get_state(ctrlr) != NVME_CTRLR_RESETTING) {
		/* A manual reset of a failed controller starts a fresh outage clock. */
		if (nvme_ctrlr_get_state(ctrlr) == NVME_CTRLR_ENABLED) {
			ctrlr->reset_start_tsc = 0;
		}
		nvme_ctrlr_start_reset(ctrlr);
	}
}

/* ---- delete ---- */

struct nvme_ctrlr_delete_ctx {
	struct nvme_ctrlr *ctrlr;
	bdev_nvme_done_cb cb;
	void *cb_arg;
};

static void nvme_ctrlr_unregistered(void *io_device)
{
	struct nvme_ctrlr *ctrlr = io_device;
	struct nvme_bdev_ctrlr *nbc = ctrlr->nbdev_ctrlr;

	if (ctrlr->ctrlr != NULL) {
		plx_nvme_detach(ctrlr->ctrlr);
		ctrlr->ctrlr = NULL;
	}
	TAILQ_REMOVE(&nbc->ctrlrs, ctrlr, link);
	ctrlr->nbdev_ctrlr = NULL;
	nvme_bdev_ctrlr_maybe_free(nbc);
	nvme_ctrlr_get_ref(ctrlr);
	nvme_ctrlr_put_ref(ctrlr); /* frees it unless a message still holds it */
}

static void nvme_ctrlr_paths_removed(void *arg, int rc)
{
	struct nvme_ctrlr_delete_ctx *ctx = arg;
	struct nvme_ctrlr *ctrlr = ctx->ctrlr;
	bdev_nvme_done_cb cb = ctx->cb;
	void *cb_arg = ctx->cb_arg;

	(void)rc;
	free(ctx);
	plx_io_device_unregister(ctrlr, nvme_ctrlr_unregistered);
	cb(cb_arg, 0);
}

/* Remove the path for good (app thread). While a reset runs, it finishes first. */
static void nvme_ctrlr_delete(struct nvme_ctrlr *ctrlr, bdev_nvme_done_cb cb, void *cb_arg)
{
	struct nvme_ctrlr_delete_ctx *ctx;

	if (nvme_ctrlr_get_state(ctrlr) == NVME_CTRLR_DELETING) {
		cb(cb_arg, -EALREADY);
		return;
	}
	if (nvme_ctrlr_get_state(ctrlr) == NVME_CTRLR_RESETTING) {
		/* The reset's end calls us again; the caller learns nothing later. */
		ctrlr->destruct_after_reset = true;
		cb(cb_arg, 0);
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		cb(cb_arg, -ENOMEM);
		return;
	}
	ctx->ctrlr = ctrlr;
	ctx->cb = cb;
	ctx->cb_arg = cb_arg;
	plx_poller_unregister(&ctrlr->reconnect_timer);
	__atomic_store_n(&ctrlr->reconnect_scheduled, false, __ATOMIC_RELAXED);
	nvme_ctrlr_set_state(ctrlr, NVME_CTRLR_DELETING);
	nvme_ctrlr_stop_admin_pollers(ctrlr);
	nvme_ctrlr_complete_waiters(ctrlr, -ENXIO);
	nvme_ctrlr_remove_paths(ctrlr, nvme_ctrlr_paths_removed, ctx);
}

/* ---- attach ---- */

static struct nvme_ctrlr *nvme_ctrlr_new(struct nvme_bdev_ctrlr *nbc,
					 const struct bdev_nvme_attach_opts *opts)
{
	struct nvme_ctrlr *ctrlr = calloc(1, sizeof(*ctrlr));
	struct nvme_path_id *p = calloc(1, sizeof(*p));

	if (ctrlr == NULL || p == NULL) {
		free(ctrlr);
		free(p);
		return NULL;
	}
	ctrlr->nbdev_ctrlr = nbc;
	ctrlr->opts = *opts;
	pthread_mutex_init(&ctrlr->lock, NULL);
	TAILQ_INIT(&ctrlr->trids);
	TAILQ_INIT(&ctrlr->reset_waiters);
	p->trid = opts->trid;
	TAILQ_INSERT_TAIL(&ctrlr->trids, p, link);
	return ctrlr;
}

struct nvme_attach_ctx {
	struct nvme_ctrlr *ctrlr;
	bdev_nvme_attach_cb cb;
	void *cb_arg;
};

void nvme_bdev_ctrlr_maybe_free(struct nvme_bdev_ctrlr *nbc)
{
	if (nbc->attaching == 0 && TAILQ_EMPTY(&nbc->ctrlrs) && TAILQ_EMPTY(&nbc->bdevs)) {
		TAILQ_REMOVE(&g_nvme_bdev_ctrlrs, nbc, link);
		free(nbc);
	}
}

/* The new controller connected (app thread): publish it and make its namespaces bdevs (or
 * paths of existing ones). */
static void nvme_attach_connected(void *arg, struct plx_nvme_ctrlr *result,
				  const struct plx_nvme_trid *used, const char *cerr)
{
	struct nvme_attach_ctx *ctx = arg;
	struct nvme_ctrlr *ctrlr = ctx->ctrlr;
	struct nvme_bdev_ctrlr *nbc = ctrlr->nbdev_ctrlr;
	const struct bdev_nvme_attach_opts *o = &ctrlr->opts;
	char err[PLX_NVME_ERR_LEN + BDEV_NVME_NAME_MAX + 128];
	char pname[BDEV_NVME_NAME_MAX + 32];
	json_t *names = json_array();
	int rc;

	nbc->attaching--;
	if (used == NULL || names == NULL) {
		snprintf(err, sizeof(err), "%s: could not connect to %s %s:%s: %s", o->name,
			 plx_nvme_trtype_str(o->trid.trtype), o->trid.traddr, o->trid.trsvcid,
			 names == NULL ? "out of memory" : cerr);
		PLX_ERRLOG("bdev_nvme_attach_controller: %s\n", err);
		if (result != NULL) {
			plx_nvme_detach(result);
		}
		nvme_ctrlr_free(ctrlr);
		nvme_bdev_ctrlr_maybe_free(nbc);
		json_decref(names);
		ctx->cb(ctx->cb_arg, -ENXIO, NULL, err);
		free(ctx);
		return;
	}
	nvme_ctrlr_adopt(ctrlr, result);
	nvme_ctrlr_start_admin_pollers(ctrlr);
	snprintf(pname, sizeof(pname), "nvme_ctrlr_%s_%u", o->name, ctrlr->cntlid);
	plx_io_device_register(ctrlr, nvme_ctrlr_channel_create, nvme_ctrlr_channel_destroy,
			       sizeof(struct nvme_ctrlr_channel), pname);
	TAILQ_INSERT_TAIL(&nbc->ctrlrs, ctrlr, link);
	err[0] = '\0';
	rc = nvme_bdev_ctrlr_add_namespaces(ctrlr, names, err, sizeof(err));
	if (rc != 0) {
		PLX_ERRLOG("bdev_nvme_attach_controller: %s\n", err);
		nvme_ctrlr_delete(ctrlr, nvme_ctrlr_delete_done_log, NULL);
		json_decref(names);
		names = NULL;
	}
	ctx->cb(ctx->cb_arg, rc, names, err);
	free(ctx);
}

/* Connect a new controller of nbc; the answer comes through cb. */
static void nvme_ctrlr_attach_new(struct nvme_bdev_ctrlr *nbc,
				  const struct bdev_nvme_attach_opts *opts, bdev_nvme_attach_cb cb,
				  void *cb_arg)
{
	struct nvme_attach_ctx *ctx = calloc(1, sizeof(*ctx));
	struct nvme_ctrlr *ctrlr = nvme_ctrlr_new(nbc, opts);

	if (ctx == NULL || ctrlr == NULL) {
		free(ctx);
		if (ctrlr != NULL) {
			nvme_ctrlr_free(ctrlr);
		}
		nvme_bdev_ctrlr_maybe_free(nbc);
		cb(cb_arg, -ENOMEM, NULL, "out of memory");
		return;
	}
	ctx->ctrlr = ctrlr;
	ctx->cb = cb;
	ctx->cb_arg = cb_arg;
	nbc->attaching++;
	nvme_connect(opts, NULL, false, &opts->trid, 1, nvme_attach_connected, ctx);
}

static void nvme_bdev_ctrlr_bdev_names(struct nvme_bdev_ctrlr *nbc, json_t *names)
{
	struct nvme_bdev *nbdev;

	TAILQ_FOREACH(nbdev, &nbc->bdevs, link)
	{
		json_array_append_new(names, json_string(nbdev->disk.name));
	}
}

/* An attach under a name that exists: the checks of each mode; 0 when the caller goes on to
 * connect a new controller (multipath), 1 when done here (failover), else -errno. */
static int nvme_attach_add_path(struct nvme_bdev_ctrlr *nbc,
				const struct bdev_nvme_attach_opts *opts, json_t *names, char *err,
				size_t errlen)
{
	struct nvme_ctrlr *first = TAILQ_FIRST(&nbc->ctrlrs), *c;
	struct nvme_path_id *p;

	if (opts->multipath == BDEV_NVME_MP_DISABLE) {
		snprintf(err, errlen,
			 "A controller named %s already exists and multipath is disabled",
			 opts->name);
		return -EEXIST;
	}
	if (first == NULL) {
		snprintf(err, errlen, "%s: another attach or a delete of this name is in progress",
			 opts->name);
		return -EBUSY;
	}
	if (strcmp(first->opts.trid.subnqn, opts->trid.subnqn) != 0) {
		snprintf(err, errlen, "%s: subnqn %s differs from the existing path's %s",
			 opts->name, opts->trid.subnqn, first->opts.trid.subnqn);
		return -EINVAL;
	}
	TAILQ_FOREACH(c, &nbc->ctrlrs, link)
	{
		if (nvme_ctrlr_has_trid(c, &opts->trid)) {
			snprintf(err, errlen, "%s: a path to %s:%s already exists", opts->name,
				 opts->trid.traddr, opts->trid.trsvcid);
			return -EEXIST;
		}
	}
	if (opts->multipath == BDEV_NVME_MP_MULTIPATH) {
		return 0;
	}
	/* failover: an alternate transport ID of the first controller */
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->trid = opts->trid;
	TAILQ_INSERT_TAIL(&first->trids, p, link);
	nvme_bdev_ctrlr_bdev_names(nbc, names);
	return 1;
}

void bdev_nvme_attach(const struct bdev_nvme_attach_opts *opts, bdev_nvme_attach_cb cb,
		      void *cb_arg)
{
	struct nvme_bdev_ctrlr *nbc = nvme_bdev_ctrlr_get_by_name(opts->name);
	char err[BDEV_NVME_NAME_MAX + 2 * PLX_NVMF_NQN_MAX_LEN + 128];
	json_t *names;
	int rc;

	if (nbc != NULL) {
		names = json_array();
		rc = names == NULL ? -ENOMEM
				   : nvme_attach_add_path(nbc, opts, names, err, sizeof(err));
		if (rc != 0) {
			if (rc < 0) {
				PLX_ERRLOG("bdev_nvme_attach_controller: %s\n", err);
				json_decref(names);
				names = NULL;
			}
			cb(cb_arg, rc < 0 ? rc : 0, names, err);
			return;
		}
		json_decref(names);
	} else {
		nbc = calloc(1, sizeof(*nbc));
		if (nbc == NULL) {
			cb(cb_arg, -ENOMEM, NULL, "out of memory");
			return;
		}
		snprintf(nbc->name, sizeof(nbc->name), "%s", opts->name);
		TAILQ_INIT(&nbc->ctrlrs);
		TAILQ_INIT(&nbc->bdevs);
		TAILQ_INSERT_TAIL(&g_nvme_bdev_ctrlrs, nbc, link);
	}
	nvme_ctrlr_attach_new(nbc, opts, cb, cb_arg);
}

/* ---- detach ---- */

static bool nvme_trid_matches(const struct plx_nvme_trid *trid,
			      const struct bdev_nvme_path_filter *f)
{
	if (f == NULL) {
		return true;
	}
	return (f->trtype == 0 || f->trtype == trid->trtype) &&
	       (!f->filter_adrfam || f->adrfam == trid->adrfam) &&
	       (f->traddr[0] == '\0' || strcasecmp(f->traddr, trid->traddr) == 0) &&
	       (f->trsvcid[0] == '\0' || strcmp(f->trsvcid, trid->trsvcid) == 0) &&
	       (f->subnqn[0] == '\0' || strcmp(f->subnqn, trid->subnqn) == 0);
}

/*
 * Drop the matching transport IDs of ctrlr. Returns true when the controller itself must go
 * (its every trid matched); switches to the next alternate when the active one went.
 */
static bool nvme_ctrlr_drop_trids(struct nvme_ctrlr *ctrlr, const struct bdev_nvme_path_filter *f,
				  bool *matched)
{
	struct nvme_path_id *p, *tmp, *active = TAILQ_FIRST(&ctrlr->trids);
	bool active_gone = false;
	uint32_t left = 0;

	TAILQ_FOREACH(p, &ctrlr->trids, link)
	{
		if (!nvme_trid_matches(&p->trid, f)) {
			left++;
		}
	}
	if (left == 0) {
		*matched = true;
		return true;
	}
	for (p = TAILQ_FIRST(&ctrlr->trids); p != NULL; p = tmp) {
		tmp = TAILQ_NEXT(p, link);
		if (nvme_trid_matches(&p->trid, f)) {
			*matched = true;
			active_gone |= p == active;
			TAILQ_REMOVE(&ctrlr->trids, p, link);
			free(p);
		}
	}
	if (active_gone) {
		PLX_NOTICELOG("%s: active path removed: failing over to %s:%s\n",
			      ctrlr->nbdev_ctrlr->name, TAILQ_FIRST(&ctrlr->trids)->trid.traddr,
			      TAILQ_FIRST(&ctrlr->trids)->trid.trsvcid);
		nvme_ctrlr_start_reset(ctrlr);
	}
	return false;
}

int bdev_nvme_detach(const char *name, const struct bdev_nvme_path_filter *filter,
		     bdev_nvme_done_cb cb, void *cb_arg)
{
	struct nvme_bdev_ctrlr *nbc = nvme_bdev_ctrlr_get_by_name(name);
	struct nvme_ctrlr *c, *tmp;
	struct nvme_fanout *f;
	bool matched = false;

	if (nbc == NULL) {
		return -ENODEV;
	}
	f = nvme_fanout_new(cb, cb_arg);
	if (f == NULL) {
		return -ENOMEM;
	}
	for (c = TAILQ_FIRST(&nbc->ctrlrs); c != NULL; c = tmp) {
		tmp = TAILQ_NEXT(c, link);
		if (nvme_ctrlr_get_state(c) == NVME_CTRLR_DELETING) {
			continue;
		}
		if (nvme_ctrlr_drop_trids(c, filter, &matched)) {
			nvme_fanout_add(f);
			nvme_ctrlr_delete(c, nvme_fanout_done, f);
		}
	}
	if (!matched) {
		free(f); /* nothing was started: nobody else holds it */
		return -ENODEV;
	}
	nvme_fanout_done(f, 0);
	return 0;
}

/* ---- RPC helpers ---- */

int bdev_nvme_reset_rpc(const char *name, int32_t cntlid, bdev_nvme_done_cb cb, void *cb_arg)
{
	struct nvme_bdev_ctrlr *nbc = nvme_bdev_ctrlr_get_by_name(name);
	struct nvme_fanout *f;
	struct nvme_ctrlr *c;
	uint32_t n = 0;

	if (nbc == NULL) {
		return -ENODEV;
	}
	TAILQ_FOREACH(c, &nbc->ctrlrs, link)
	{
		n += cntlid < 0 || c->cntlid == (uint16_t)cntlid;
	}
	if (n == 0) {
		return -ENODEV;
	}
	f = nvme_fanout_new(cb, cb_arg);
	if (f == NULL) {
		return -ENOMEM;
	}
	TAILQ_FOREACH(c, &nbc->ctrlrs, link)
	{
		if (cntlid < 0 || c->cntlid == (uint16_t)cntlid) {
			nvme_fanout_add(f);
			nvme_ctrlr_reset(c, nvme_fanout_done, f);
		}
	}
	nvme_fanout_done(f, 0);
	return 0;
}

static const char *nvme_ctrlr_state_str(const struct nvme_ctrlr *ctrlr)
{
	switch (nvme_ctrlr_get_state(ctrlr)) {
	case NVME_CTRLR_ENABLED:
		return "enabled";
	case NVME_CTRLR_RESETTING:
		return "resetting";
	case NVME_CTRLR_FAILED:
		return ctrlr->reconnect_scheduled ? "reconnect_is_delayed" : "failed";
	default:
		return "deleting";
	}
}

static json_t *nvme_ctrlr_json(const struct nvme_ctrlr *ctrlr)
{
	const struct nvme_path_id *p = TAILQ_FIRST(&ctrlr->trids);
	json_t *alt = json_array();
	const char *hostnqn =
	    ctrlr->ctrlr != NULL ? plx_nvme_ctrlr_get_hostnqn(ctrlr->ctrlr) : ctrlr->opts.hostnqn;
	json_t *host = json_pack("{s:s, s:s, s:s}", "nqn", hostnqn, "addr", ctrlr->opts.hostaddr,
				 "svcid", ctrlr->opts.hostsvcid);

	for (p = TAILQ_NEXT(p, link); p != NULL; p = TAILQ_NEXT(p, link)) {
		json_array_append_new(alt, bdev_nvme_trid_json(&p->trid));
	}
	return json_pack("{s:s, s:o, s:i, s:o, s:o, s:b}", "state", nvme_ctrlr_state_str(ctrlr),
			 "trid", bdev_nvme_trid_json(&TAILQ_FIRST(&ctrlr->trids)->trid), "cntlid",
			 (int)ctrlr->cntlid, "host", host, "alternate_trids", alt,
			 "fast_io_fail_timedout", (int)ctrlr->fast_io_fail_timedout);
}

int bdev_nvme_ctrlrs_json(const char *name, json_t *array)
{
	struct nvme_bdev_ctrlr *nbc;
	struct nvme_ctrlr *c;
	bool found = false;

	TAILQ_FOREACH(nbc, &g_nvme_bdev_ctrlrs, link)
	{
		json_t *ctrlrs;

		if (name != NULL && strcmp(name, nbc->name) != 0) {
			continue;
		}
		found = true;
		ctrlrs = json_array();
		TAILQ_FOREACH(c, &nbc->ctrlrs, link)
		{
			json_array_append_new(ctrlrs, nvme_ctrlr_json(c));
		}
		json_array_append_new(array,
				      json_pack("{s:s, s:o}", "name", nbc->name, "ctrlrs", ctrlrs));
	}
	return name != NULL && !found ? -ENODEV : 0;
}

/* ---- the module ---- */

static void bdev_nvme_config_json(json_t *config)
{
	struct nvme_bdev_ctrlr *nbc;
	struct nvme_ctrlr *c;
	struct nvme_path_id *p;

	json_array_append_new(config,
			      json_pack("{s:s, s:o}", "method", "bdev_nvme_set_options", "params",
					bdev_nvme_opts_json(bdev_nvme_get_opts())));
	TAILQ_FOREACH(nbc, &g_nvme_bdev_ctrlrs, link)
	{
		bool first_ctrlr = true;

		TAILQ_FOREACH(c, &nbc->ctrlrs, link)
		{
			/* One entry per transport ID: the first of the name as attached, later
			 * controllers as multipath, alternates as failover. */
			TAILQ_FOREACH(p, &c->trids, link)
			{
				struct bdev_nvme_attach_opts o = c->opts;

				o.trid = p->trid;
				if (!first_ctrlr) {
					o.multipath = p == TAILQ_FIRST(&c->trids)
							  ? BDEV_NVME_MP_MULTIPATH
							  : BDEV_NVME_MP_FAILOVER;
				}
				first_ctrlr = false;
				json_array_append_new(
				    config,
				    json_pack("{s:s, s:o}", "method", "bdev_nvme_attach_controller",
					      "params", bdev_nvme_attach_opts_json(&o)));
			}
		}
	}
	json_array_append_new(config, json_pack("{s:s, s:o}", "method", "bdev_nvme_set_hotplug",
						"params", bdev_nvme_hotplug_json()));
}

static int bdev_nvme_module_init(void)
{
	bdev_nvme_get_opts();
	return 0;
}

/* At shutdown the bdevs are gone already; what is left are connections to close. */
static void bdev_nvme_module_fini(void)
{
	struct nvme_bdev_ctrlr *nbc;
	struct nvme_ctrlr *c;

	while ((nbc = TAILQ_FIRST(&g_nvme_bdev_ctrlrs)) != NULL) {
		while ((c = TAILQ_FIRST(&nbc->ctrlrs)) != NULL) {
			TAILQ_REMOVE(&nbc->ctrlrs, c, link);
			nvme_ctrlr_stop_admin_pollers(c);
			plx_poller_unregister(&c->reconnect_timer);
			nvme_ctrlr_complete_waiters(c, -ENXIO);
			nvme_ctrlr_set_state(c, NVME_CTRLR_DELETING);
			c->nbdev_ctrlr = NULL;
			/* Channels went with the bdevs; the device's memory stays ours. */
			plx_io_device_unregister(c, NULL);
			if (c->ctrlr != NULL) {
				plx_nvme_detach(c->ctrlr);
				c->ctrlr = NULL;
			}
			nvme_ctrlr_get_ref(c);
			nvme_ctrlr_put_ref(c);
		}
		TAILQ_REMOVE(&g_nvme_bdev_ctrlrs, nbc, link);
		free(nbc);
	}
}

struct plx_bdev_module g_bdev_nvme_module = {
    .name = "nvme",
    .module_init = bdev_nvme_module_init,
    .module_fini = bdev_nvme_module_fini,
    .config_json = bdev_nvme_config_json,
    .get_ctx_size = nvme_bdev_get_ctx_size,
};
PLX_BDEV_MODULE_REGISTER(nvme, &g_bdev_nvme_module)
