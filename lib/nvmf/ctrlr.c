/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Controllers: Connect (admin and I/O queues), Property Get/Set, Disconnect, keep alive,
 * asynchronous events, notices from the configuration side, and the teardown protocol of
 * nvmf_internal.h:
 *
 *   qpair thread                      ctrlr thread                      app thread
 *   nvmf_qpair_disconnect
 *     transport closes, requests drain
 *   teardown_continue  --"remove"-->  ctrlr_remove_qpair
 *   qpair_free_final   <---"ack"----    (admin qpair gone, or destructing and last qpair)
 *                                     ctrlr_leave       --"leave"-->  nvmf_subsystem_remove_ctrlr
 *                                     ctrlr_free        <--"free"---
 *
 * Keep-alive: any admin command (Keep Alive included) restarts the timer; the poller on
 * ctrlr->thread tears the controller down when none arrived for kato ms.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_internal.h"
#include "pollux/env.h"
#include "pollux/log.h"

#define NVMF_RESV_LOG_MAX 255 /* entries kept; the oldest go first beyond that */

static inline int ctrlr_state(const struct nvmf_ctrlr *ctrlr)
{
	return __atomic_load_n(&ctrlr->state, __ATOMIC_ACQUIRE);
}

static uint64_t thread_now(void)
{
	struct plx_thread *thread = plx_get_thread();

	return thread != NULL ? plx_thread_get_last_tsc(thread) : plx_get_ticks();
}

static void send_or_log(const struct plx_thread *thread, plx_msg_fn fn, void *ctx)
{
	int rc = plx_thread_send_msg(thread, fn, ctx);

	if (rc != 0) {
		/* A lost teardown message leaks the object; nothing better can be done here. */
		PLX_ERRLOG("cannot send a message to thread %s: %d\n", plx_thread_get_name(thread),
			   rc);
	}
}

/* ---- features and registers ---- */

void nvmf_ctrlr_features_init(struct nvmf_ctrlr *ctrlr)
{
	struct nvmf_transport *transport =
	    ctrlr->admin_qpair != NULL ? ctrlr->admin_qpair->transport : NULL;
	uint32_t nq = 1;
	uint32_t kato = ctrlr->feat.keep_alive_timer;

	if (transport != NULL && transport->opts.max_qpairs_per_ctrlr > 1) {
		nq = transport->opts.max_qpairs_per_ctrlr - 1u;
	}
	memset(&ctrlr->feat, 0, sizeof(ctrlr->feat));
	ctrlr->feat.temperature_threshold = 343; /* Kelvin: 70 °C */
	ctrlr->feat.number_of_queues = (nq - 1) | ((nq - 1) << 16);
	ctrlr->feat.keep_alive_timer = kato;
	/* Reservation notifications are all unmasked by default. */
	if (ctrlr->ns_resv_mask != NULL) {
		memset(ctrlr->ns_resv_mask, 0,
		       sizeof(uint32_t) * PLX_MAX(ctrlr->subsys->max_nsid, 1));
	}
	for (uint32_t i = 1; i <= ctrlr->subsys->max_nsid; i++) {
		struct nvmf_ns *ns = ctrlr->subsys->ns != NULL ? ctrlr->subsys->ns[i - 1] : NULL;

		if (ns != NULL && plx_bdev_has_write_cache(ns->bdev)) {
			ctrlr->feat.volatile_write_cache = 1;
			break;
		}
	}
}

static void ctrlr_init_registers(struct nvmf_ctrlr *ctrlr, const struct nvmf_transport_opts *o)
{
	ctrlr->cap.raw = 0;
	ctrlr->cap.bits.mqes = o->max_queue_depth - 1u;
	ctrlr->cap.bits.cqr = 1;
	ctrlr->cap.bits.to = NVMF_CAP_TO_500MS;
	ctrlr->cap.bits.css = 1; /* NVM command set */
	ctrlr->vs.raw = nvmf_ctrlr_is_discovery(ctrlr) ? PLX_NVME_VERSION(1, 3, 0) : NVMF_VERSION;
	ctrlr->cc.raw = 0;
	ctrlr->csts.raw = 0;
}

/* KATO as the controller will enforce it: a multiple of KAS, at least min_kato. */
static uint32_t ctrlr_round_kato(struct nvmf_ctrlr *ctrlr, const struct nvmf_transport_opts *o,
				 uint32_t kato)
{
	uint32_t unit = o->kas != 0 ? o->kas * 100u : 1;

	if (kato == 0) {
		if (nvmf_ctrlr_is_discovery(ctrlr)) {
			return 0;
		}
		kato = o->min_kato;
	}
	if (kato % unit != 0 && kato <= UINT32_MAX - unit) {
		kato += unit - kato % unit;
	}
	return PLX_MAX(kato, o->min_kato);
}

/* ---- keep alive ---- */

static void ctrlr_destruct(struct nvmf_ctrlr *ctrlr);

static int keep_alive_poll(void *arg)
{
	struct nvmf_ctrlr *ctrlr = arg;
	uint64_t now = thread_now();
	uint64_t limit = (uint64_t)ctrlr->kato_ms * plx_get_ticks_hz() / 1000;

	if (now - ctrlr->last_keep_alive_tsc <= limit) {
		return PLX_POLLER_IDLE;
	}
	PLX_NOTICELOG("controller %u of %s: keep-alive timeout (%u ms), disconnecting\n",
		      ctrlr->cntlid, ctrlr->subsys->subnqn, ctrlr->kato_ms);
	ctrlr_destruct(ctrlr);
	return PLX_POLLER_BUSY;
}

static void ctrlr_start_keep_alive(struct nvmf_ctrlr *ctrlr)
{
	uint64_t period_us;

	plx_poller_unregister(&ctrlr->keep_alive_poller);
	ctrlr->last_keep_alive_tsc = thread_now();
	if (ctrlr->kato_ms == 0) {
		return;
	}
	/* Check four times per period: expiry is noticed within 1.25 kato. */
	period_us = PLX_MAX((uint64_t)ctrlr->kato_ms * 1000 / 4, 1000);
	ctrlr->keep_alive_poller =
	    plx_poller_register_named(keep_alive_poll, ctrlr, period_us, "nvmf_keep_alive");
	if (ctrlr->keep_alive_poller == NULL) {
		PLX_ERRLOG("controller %u: cannot register the keep-alive poller\n", ctrlr->cntlid);
	}
}

void nvmf_ctrlr_keep_alive(struct nvmf_ctrlr *ctrlr)
{
	ctrlr->last_keep_alive_tsc = thread_now();
}

void nvmf_ctrlr_set_kato(struct nvmf_ctrlr *ctrlr, uint32_t kato_ms)
{
	const struct nvmf_transport_opts *o = &ctrlr->admin_qpair->transport->opts;

	ctrlr->kato_ms = ctrlr_round_kato(ctrlr, o, kato_ms);
	ctrlr->feat.keep_alive_timer = ctrlr->kato_ms;
	ctrlr_start_keep_alive(ctrlr);
}

/* ---- asynchronous events ---- */

static bool *event_mask_flag(struct nvmf_ctrlr *ctrlr, uint32_t cdw0, uint32_t *aec_bit)
{
	uint8_t type = cdw0 & 7, info = (cdw0 >> 8) & 0xff;

	if (type != PLX_NVME_ASYNC_EVENT_TYPE_NOTICE) {
		*aec_bit = 0;
		return NULL;
	}
	switch (info) {
	case PLX_NVME_ASYNC_EVENT_NS_ATTR_CHANGED:
		*aec_bit = PLX_NVME_AEC_NS_ATTR;
		return &ctrlr->ns_changed_masked;
	case PLX_NVME_ASYNC_EVENT_ANA_CHANGE:
		*aec_bit = PLX_NVME_AEC_ANA_CHANGE;
		return &ctrlr->ana_changed_masked;
	case PLX_NVME_ASYNC_EVENT_DISCOVERY_LOG_CHANGE:
		*aec_bit = PLX_NVME_AEC_DISCOVERY_LOG_CHANGE;
		return &ctrlr->disc_changed_masked;
	default:
		*aec_bit = 0;
		return NULL;
	}
}

void nvmf_ctrlr_raise_event(struct nvmf_ctrlr *ctrlr, uint32_t cdw0)
{
	uint32_t aec_bit;
	bool *masked = event_mask_flag(ctrlr, cdw0, &aec_bit);
	struct nvmf_async_event *event;

	if (ctrlr_state(ctrlr) != NVMF_CTRLR_ACTIVE || ctrlr->admin_qpair == NULL) {
		return;
	}
	if (aec_bit != 0 && (ctrlr->feat.async_event_configuration & aec_bit) == 0) {
		return;
	}
	if (masked != NULL) {
		if (*masked) {
			return; /* one event per type until the host reads the log page */
		}
		*masked = true;
	}
	if (ctrlr->num_aer > 0) {
		struct nvmf_request *req = ctrlr->aer_req[--ctrlr->num_aer];

		ctrlr->aer_req[ctrlr->num_aer] = NULL;
		req->rsp->cdw0 = cdw0;
		nvmf_request_complete(req);
		return;
	}
	event = calloc(1, sizeof(*event));
	if (event == NULL) {
		PLX_ERRLOG("controller %u: out of memory for an event\n", ctrlr->cntlid);
		return;
	}
	event->cdw0 = cdw0;
	STAILQ_INSERT_TAIL(&ctrlr->pending_events, event, link);
}

void nvmf_ctrlr_aer_request(struct nvmf_request *req)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	struct nvmf_async_event *event = STAILQ_FIRST(&ctrlr->pending_events);

	if (event != NULL) {
		STAILQ_REMOVE_HEAD(&ctrlr->pending_events, link);
		req->rsp->cdw0 = event->cdw0;
		free(event);
		nvmf_request_complete(req);
		return;
	}
	if (ctrlr->num_aer >= NVMF_MAX_ASYNC_EVENTS) {
		nvmf_request_set_status(req, PLX_NVME_SCT_COMMAND_SPECIFIC,
					PLX_NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED);
		nvmf_request_complete(req);
		return;
	}
	ctrlr->aer_req[ctrlr->num_aer++] = req;
}

bool nvmf_ctrlr_abort_aer(struct nvmf_ctrlr *ctrlr, uint16_t cid)
{
	for (uint32_t i = 0; i < ctrlr->num_aer; i++) {
		struct nvmf_request *req = ctrlr->aer_req[i];

		if (req->cmd->cid == cid) {
			ctrlr->aer_req[i] = ctrlr->aer_req[--ctrlr->num_aer];
			ctrlr->aer_req[ctrlr->num_aer] = NULL;
			nvmf_request_set_status(req, PLX_NVME_SCT_GENERIC,
						PLX_NVME_SC_ABORTED_BY_REQUEST);
			nvmf_request_complete(req);
			return true;
		}
	}
	return false;
}

static void ctrlr_abort_all_aers(struct nvmf_ctrlr *ctrlr)
{
	while (ctrlr->num_aer > 0) {
		struct nvmf_request *req = ctrlr->aer_req[--ctrlr->num_aer];

		ctrlr->aer_req[ctrlr->num_aer] = NULL;
		nvmf_request_set_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_ABORTED_SQ_DELETION);
		nvmf_request_complete(req);
	}
}

static void ctrlr_clear_events(struct nvmf_ctrlr *ctrlr)
{
	struct nvmf_async_event *event;

	while ((event = STAILQ_FIRST(&ctrlr->pending_events)) != NULL) {
		STAILQ_REMOVE_HEAD(&ctrlr->pending_events, link);
		free(event);
	}
	ctrlr->ns_changed_masked = ctrlr->ana_changed_masked = ctrlr->disc_changed_masked = false;
}

struct async_event_msg {
	struct nvmf_ctrlr *ctrlr;
	uint32_t cdw0;
};

static void async_event_on_ctrlr(void *arg)
{
	struct async_event_msg *msg = arg;

	nvmf_ctrlr_raise_event(msg->ctrlr, msg->cdw0);
	free(msg);
}

void nvmf_ctrlr_async_event(struct nvmf_ctrlr *ctrlr, uint32_t cdw0)
{
	struct async_event_msg *msg = malloc(sizeof(*msg));

	if (msg == NULL) {
		PLX_ERRLOG("out of memory for an asynchronous event\n");
		return;
	}
	msg->ctrlr = ctrlr;
	msg->cdw0 = cdw0;
	if (plx_thread_send_msg(ctrlr->thread, async_event_on_ctrlr, msg) != 0) {
		PLX_ERRLOG("cannot send an asynchronous event to controller %u\n", ctrlr->cntlid);
		free(msg);
	}
}

/* ---- notices from the configuration side ---- */

void nvmf_ctrlr_ns_changed(struct nvmf_ctrlr *ctrlr, uint32_t nsid)
{
	struct plx_nvme_ns_list *list = &ctrlr->changed_ns_list;

	if (ctrlr->changed_ns_count > PLX_NVME_MAX_CHANGED_NAMESPACES) {
		return; /* already overflowed: the list says "more than 1024" */
	}
	for (uint32_t i = 0; i < ctrlr->changed_ns_count; i++) {
		if (list->ns_list[i] == nsid) {
			return;
		}
	}
	if (ctrlr->changed_ns_count == PLX_NVME_MAX_CHANGED_NAMESPACES) {
		memset(list, 0, sizeof(*list));
		list->ns_list[0] = 0xffffffffu;
		ctrlr->changed_ns_count = PLX_NVME_MAX_CHANGED_NAMESPACES + 1;
		return;
	}
	list->ns_list[ctrlr->changed_ns_count++] = nsid;
}

static void ctrlr_resv_notice(struct nvmf_ctrlr *ctrlr, uint32_t nsid, uint8_t type)
{
	struct nvmf_reservation_log *log;
	bool was_empty = STAILQ_EMPTY(&ctrlr->resv_log);

	if (nsid == 0 || nsid > ctrlr->subsys->max_nsid || type == 0 || type > 3) {
		return;
	}
	if (ctrlr->ns_resv_mask[nsid - 1] & (1u << type)) {
		return; /* the host masked this notification for this namespace */
	}
	if (ctrlr->num_resv_log >= NVMF_RESV_LOG_MAX) {
		log = STAILQ_FIRST(&ctrlr->resv_log);
		STAILQ_REMOVE_HEAD(&ctrlr->resv_log, link);
		ctrlr->num_resv_log--;
	} else {
		log = calloc(1, sizeof(*log));
		if (log == NULL) {
			PLX_ERRLOG("controller %u: out of memory for a reservation log\n",
				   ctrlr->cntlid);
			return;
		}
	}
	memset(&log->log, 0, sizeof(log->log));
	/* The count wraps from 2^64-1 to 1: 0 means an empty log page. */
	if (++ctrlr->resv_log_page_count == 0) {
		ctrlr->resv_log_page_count = 1;
	}
	log->log.log_page_count = ctrlr->resv_log_page_count;
	log->log.type = type;
	log->log.nsid = nsid;
	STAILQ_INSERT_TAIL(&ctrlr->resv_log, log, link);
	ctrlr->num_resv_log++;
	if (was_empty) {
		nvmf_ctrlr_raise_event(
		    ctrlr, plx_nvme_async_event_cdw0(PLX_NVME_ASYNC_EVENT_TYPE_IO,
						     PLX_NVME_ASYNC_EVENT_RESERVATION_LOG_AVAIL,
						     PLX_NVME_LOG_RESERVATION_NOTIFICATION));
	}
}

struct notice_msg {
	struct nvmf_ctrlr *ctrlr;
	enum nvmf_notice notice;
	uint32_t nsid;
	uint8_t resv_type;
};

static void notice_on_ctrlr(void *arg)
{
	struct notice_msg *msg = arg;
	struct nvmf_ctrlr *ctrlr = msg->ctrlr;

	if (ctrlr_state(ctrlr) != NVMF_CTRLR_ACTIVE) {
		free(msg);
		return;
	}
	switch (msg->notice) {
	case NVMF_NOTICE_NS_CHANGED:
		nvmf_ctrlr_ns_changed(ctrlr, msg->nsid);
		nvmf_ctrlr_raise_event(
		    ctrlr, plx_nvme_async_event_cdw0(PLX_NVME_ASYNC_EVENT_TYPE_NOTICE,
						     PLX_NVME_ASYNC_EVENT_NS_ATTR_CHANGED,
						     PLX_NVME_LOG_CHANGED_NS_LIST));
		break;
	case NVMF_NOTICE_ANA_CHANGED:
		nvmf_ctrlr_raise_event(
		    ctrlr, plx_nvme_async_event_cdw0(PLX_NVME_ASYNC_EVENT_TYPE_NOTICE,
						     PLX_NVME_ASYNC_EVENT_ANA_CHANGE,
						     PLX_NVME_LOG_ASYMMETRIC_NAMESPACE_ACCESS));
		break;
	case NVMF_NOTICE_DISCOVERY_CHANGED:
		nvmf_ctrlr_raise_event(
		    ctrlr, plx_nvme_async_event_cdw0(PLX_NVME_ASYNC_EVENT_TYPE_NOTICE,
						     PLX_NVME_ASYNC_EVENT_DISCOVERY_LOG_CHANGE,
						     PLX_NVME_LOG_DISCOVERY));
		break;
	case NVMF_NOTICE_RESERVATION:
		ctrlr_resv_notice(ctrlr, msg->nsid, msg->resv_type);
		break;
	}
	free(msg);
}

void nvmf_ctrlr_notify(struct nvmf_ctrlr *ctrlr, enum nvmf_notice notice, uint32_t nsid,
		       uint8_t resv_type)
{
	struct notice_msg *msg = malloc(sizeof(*msg));

	if (msg == NULL) {
		PLX_ERRLOG("out of memory for a controller notice\n");
		return;
	}
	*msg = (struct notice_msg){
	    .ctrlr = ctrlr, .notice = notice, .nsid = nsid, .resv_type = resv_type};
	if (plx_thread_send_msg(ctrlr->thread, notice_on_ctrlr, msg) != 0) {
		PLX_ERRLOG("cannot send a notice to controller %u\n", ctrlr->cntlid);
		free(msg);
	}
}

/* ---- namespaces as a controller sees them ---- */

bool nvmf_ctrlr_ns_is_visible(struct nvmf_ctrlr *ctrlr, uint32_t nsid)
{
	struct nvmf_subsystem *subsys = ctrlr->subsys;
	struct nvmf_ns *ns;

	if (nsid == 0 || nsid > subsys->max_nsid || subsys->ns == NULL) {
		return false;
	}
	ns = __atomic_load_n(&subsys->ns[nsid - 1], __ATOMIC_ACQUIRE);
	return ns != NULL &&
	       (!ns->no_auto_visible || plx_bit_array_get(ctrlr->visible_ns, nsid - 1));
}

struct nvmf_pg_ns *nvmf_ctrlr_pg_ns(struct nvmf_ctrlr *ctrlr, uint32_t nsid)
{
	struct nvmf_qpair *admin = ctrlr->admin_qpair;
	struct nvmf_pg_ns *pg_ns;

	if (admin == NULL || admin->group == NULL) {
		return NULL;
	}
	pg_ns = nvmf_pg_get_ns(nvmf_pg_get_sgroup(admin->group, ctrlr->subsys), nsid);
	if (pg_ns == NULL || pg_ns->state == NVMF_PG_NS_INACTIVE || pg_ns->ns == NULL) {
		return NULL;
	}
	if (pg_ns->ns->no_auto_visible && !plx_bit_array_get(ctrlr->visible_ns, nsid - 1)) {
		return NULL;
	}
	return pg_ns;
}

enum plx_nvme_ana_state nvmf_ctrlr_get_ana_state(struct nvmf_ctrlr *ctrlr, uint32_t anagrpid)
{
	struct nvmf_subsystem_listener *listener = ctrlr->listener;

	if (listener == NULL || listener->ana_state == NULL || anagrpid == 0 ||
	    anagrpid > ctrlr->subsys->max_nsid) {
		return PLX_NVME_ANA_OPTIMIZED_STATE;
	}
	return __atomic_load_n(&listener->ana_state[anagrpid - 1], __ATOMIC_RELAXED);
}

/* ---- teardown ---- */

static void ctrlr_free(void *arg)
{
	struct nvmf_ctrlr *ctrlr = arg;
	struct nvmf_reservation_log *log;

	plx_poller_unregister(&ctrlr->keep_alive_poller);
	ctrlr_clear_events(ctrlr);
	while ((log = STAILQ_FIRST(&ctrlr->resv_log)) != NULL) {
		STAILQ_REMOVE_HEAD(&ctrlr->resv_log, link);
		free(log);
	}
	plx_bit_array_free(&ctrlr->qpair_mask);
	plx_bit_array_free(&ctrlr->visible_ns);
	free(ctrlr->ns_resv_mask);
	free(ctrlr);
}

static void ctrlr_leave_on_app(void *arg)
{
	struct nvmf_ctrlr *ctrlr = arg;

	nvmf_subsystem_remove_ctrlr(ctrlr->subsys, ctrlr);
	/* Every earlier app-thread message to the controller (notices) runs before this one. */
	send_or_log(ctrlr->thread, ctrlr_free, ctrlr);
}

static void ctrlr_leave(struct nvmf_ctrlr *ctrlr)
{
	send_or_log(ctrlr->subsys->tgt->thread, ctrlr_leave_on_app, ctrlr);
}

static void qpair_disconnect_msg(void *arg)
{
	nvmf_qpair_disconnect(arg);
}

static void ctrlr_disconnect_qpairs(struct nvmf_ctrlr *ctrlr, bool with_admin)
{
	struct nvmf_qpair *qpair;

	/*
	 * By message even on this thread: a qpair in ctrlr->qpairs is freed only after the ack
	 * to its "remove", which this thread sends after these, so the qpair is still there.
	 */
	TAILQ_FOREACH(qpair, &ctrlr->qpairs, ctrlr_link)
	{
		if (qpair != ctrlr->admin_qpair || with_admin) {
			send_or_log(qpair->group->thread, qpair_disconnect_msg, qpair);
		}
	}
}

/* Ctrlr thread: no new qpairs; disconnect every qpair; leave once the last is gone. */
static void ctrlr_destruct(struct nvmf_ctrlr *ctrlr)
{
	if (ctrlr_state(ctrlr) == NVMF_CTRLR_DESTRUCTING) {
		return;
	}
	__atomic_store_n(&ctrlr->state, NVMF_CTRLR_DESTRUCTING, __ATOMIC_RELEASE);
	plx_poller_unregister(&ctrlr->keep_alive_poller);
	ctrlr_disconnect_qpairs(ctrlr, true);
	if (TAILQ_EMPTY(&ctrlr->qpairs)) {
		ctrlr_leave(ctrlr);
	}
}

static void ctrlr_destruct_msg(void *arg)
{
	ctrlr_destruct(arg);
}

void nvmf_ctrlr_disconnect_async(struct nvmf_ctrlr *ctrlr)
{
	send_or_log(ctrlr->thread, ctrlr_destruct_msg, ctrlr);
}

/* Qpair thread: the controller let go of qpair (or it never had one). */
static void qpair_free_final(void *arg)
{
	struct nvmf_qpair *qpair = arg;

	nvmf_poll_group_remove_qpair(qpair);
	qpair->transport->ops->qpair_free(qpair);
}

static void io_stat_add(struct nvmf_io_stat *dst, const struct nvmf_io_stat *src)
{
	dst->read_cmds += __atomic_load_n(&src->read_cmds, __ATOMIC_RELAXED);
	dst->write_cmds += __atomic_load_n(&src->write_cmds, __ATOMIC_RELAXED);
	dst->bytes_read += __atomic_load_n(&src->bytes_read, __ATOMIC_RELAXED);
	dst->bytes_written += __atomic_load_n(&src->bytes_written, __ATOMIC_RELAXED);
}

/* Ctrlr thread: "remove" from a qpair leaving. */
static void ctrlr_remove_qpair(void *arg)
{
	struct nvmf_qpair *qpair = arg;
	struct nvmf_ctrlr *ctrlr = qpair->ctrlr;
	bool admin = ctrlr->admin_qpair == qpair;

	TAILQ_REMOVE(&ctrlr->qpairs, qpair, ctrlr_link);
	io_stat_add(&ctrlr->io_stat_departed, &qpair->io_stat);
	if (admin) {
		ctrlr->admin_qpair = NULL;
	} else {
		/* qid was set on the qpair thread before the Connect completed: ordered. */
		plx_bit_array_clear(ctrlr->qpair_mask, qpair->qid);
		ctrlr->num_io_qpairs--;
	}
	/* The ack: after it the qpair is gone, so touch it no more. */
	send_or_log(qpair->group->thread, qpair_free_final, qpair);

	if (admin && ctrlr_state(ctrlr) == NVMF_CTRLR_ACTIVE) {
		ctrlr_destruct(ctrlr); /* leaves by itself when nothing else is connected */
	} else if (ctrlr_state(ctrlr) == NVMF_CTRLR_DESTRUCTING) {
		if (TAILQ_EMPTY(&ctrlr->qpairs)) {
			ctrlr_leave(ctrlr);
		}
	} else if (!ctrlr->cc.bits.en && ctrlr->num_io_qpairs == 0) {
		ctrlr->csts.bits.rdy = 0; /* the reset is complete */
	}
}

void nvmf_qpair_teardown_continue(struct nvmf_qpair *qpair)
{
	if (qpair->state == NVMF_QPAIR_ERROR) {
		return; /* already leaving (a completion during deactivation got here first) */
	}
	qpair->state = NVMF_QPAIR_ERROR; /* leaving: nothing more to wait for */
	if (qpair->ctrlr == NULL) {
		qpair_free_final(qpair);
		return;
	}
	send_or_log(qpair->ctrlr->thread, ctrlr_remove_qpair, qpair);
}

/* Fail what the core holds without the transport's help: AERs, a held fused FIRST. */
static void qpair_deactivate(struct nvmf_qpair *qpair)
{
	struct nvmf_ctrlr *ctrlr = qpair->ctrlr;

	qpair->state = NVMF_QPAIR_DEACTIVATING;
	nvmf_qpair_abort_held_fused(qpair);
	if (ctrlr != NULL && ctrlr->admin_qpair == qpair) {
		plx_poller_unregister(&ctrlr->keep_alive_poller);
		ctrlr_abort_all_aers(ctrlr);
	}
}

void nvmf_qpair_disconnect(struct nvmf_qpair *qpair)
{
	if (qpair->state == NVMF_QPAIR_DEACTIVATING || qpair->state == NVMF_QPAIR_ERROR) {
		return;
	}
	qpair_deactivate(qpair);
	if (qpair->transport_closed) {
		if (qpair->outstanding_count == 0) {
			nvmf_qpair_teardown_continue(qpair);
		}
		return;
	}
	/* May call nvmf_qpair_transport_closed before returning. */
	qpair->transport->ops->qpair_disconnect(qpair);
}

void nvmf_qpair_transport_closed(struct nvmf_qpair *qpair)
{
	if (qpair->transport_closed) {
		return;
	}
	qpair->transport_closed = true;
	if (qpair->state == NVMF_QPAIR_ERROR) {
		return;
	}
	if (qpair->state != NVMF_QPAIR_DEACTIVATING) {
		qpair_deactivate(qpair);
	}
	if (qpair->outstanding_count == 0) {
		nvmf_qpair_teardown_continue(qpair);
	}
}

/* ---- Connect ---- */

struct connect_ctx {
	struct nvmf_request *req;
	struct nvmf_qpair *qpair;
	struct nvmf_ctrlr *ctrlr;
	struct plx_nvmf_connect_cmd cmd;
	struct plx_nvmf_connect_data data;
	uint8_t sct, sc;
	uint8_t iattr;
	uint16_t ipo;
};

static void connect_invalid(struct connect_ctx *ctx, uint8_t iattr, uint16_t ipo)
{
	ctx->sct = PLX_NVME_SCT_COMMAND_SPECIFIC;
	ctx->sc = PLX_NVMF_SC_INVALID_PARAM;
	ctx->iattr = iattr;
	ctx->ipo = ipo;
}

static void connect_fail(struct connect_ctx *ctx, uint8_t sct, uint8_t sc)
{
	ctx->sct = sct;
	ctx->sc = sc;
}

static void connect_complete(struct connect_ctx *ctx)
{
	struct nvmf_request *req = ctx->req;
	union plx_nvmf_connect_rsp_cdw0 cdw0 = {.raw = 0};

	if (ctx->sc != 0 || ctx->sct != 0) {
		if (ctx->sct == PLX_NVME_SCT_COMMAND_SPECIFIC &&
		    (ctx->sc == PLX_NVMF_SC_INVALID_PARAM || ctx->sc == PLX_NVMF_SC_INVALID_HOST)) {
			cdw0.invalid.iattr = ctx->iattr;
			cdw0.invalid.ipo = ctx->ipo;
		}
		if (ctx->qpair->state == NVMF_QPAIR_CONNECTING) {
			ctx->qpair->state = NVMF_QPAIR_UNINITIALIZED;
		}
		nvmf_request_set_status(req, ctx->sct, ctx->sc);
	} else {
		cdw0.success.cntlid = ctx->ctrlr->cntlid;
	}
	req->rsp->cdw0 = cdw0.raw;
	free(ctx);
	nvmf_request_complete(req);
}

/* Qpair thread: the controller accepted the qpair; join and answer. */
static void connect_join(struct connect_ctx *ctx)
{
	struct nvmf_qpair *qpair = ctx->qpair;
	struct nvmf_poll_group *group = qpair->group;

	qpair->ctrlr = ctx->ctrlr;
	qpair->qid = ctx->cmd.qid;
	qpair->sq_size = ctx->cmd.sqsize + 1u;
	qpair->sq_head = 0;
	qpair->sq_flow_control_disabled =
	    (ctx->cmd.cattr & PLX_NVMF_CATTR_DISABLE_SQ_FLOW_CONTROL) != 0;
	if (qpair->qid == 0) {
		group->stat.admin_qpairs++;
		group->stat.current_admin_qpairs++;
	} else {
		group->stat.io_qpairs++;
		group->stat.current_io_qpairs++;
	}
	/* A qpair disconnected meanwhile stays DEACTIVATING and leaves the controller. */
	if (qpair->state == NVMF_QPAIR_CONNECTING) {
		qpair->state = NVMF_QPAIR_ENABLED;
	}
}

static void connect_admin_done(void *arg)
{
	struct connect_ctx *ctx = arg;
	struct nvmf_ctrlr *ctrlr = ctx->ctrlr;
	struct nvmf_qpair *qpair = ctx->qpair;

	if (ctx->sc == 0 && ctx->sct == 0) {
		ctrlr->admin_qpair = qpair;
		TAILQ_INSERT_TAIL(&ctrlr->qpairs, qpair, ctrlr_link);
		plx_bit_array_set(ctrlr->qpair_mask, 0);
		connect_join(ctx);
		nvmf_ctrlr_features_init(ctrlr);
		if (qpair->state == NVMF_QPAIR_ENABLED) {
			ctrlr_start_keep_alive(ctrlr);
		}
		PLX_INFOLOG("host %s connected to %s as controller %u\n", ctrlr->hostnqn,
			    ctrlr->subsys->subnqn, ctrlr->cntlid);
	}
	connect_complete(ctx);
}

static struct nvmf_ctrlr *ctrlr_alloc(struct nvmf_subsystem *subsys, struct connect_ctx *ctx,
				      struct nvmf_subsystem_listener *listener)
{
	struct nvmf_qpair *qpair = ctx->qpair;
	const struct nvmf_transport_opts *o = &qpair->transport->opts;
	uint32_t nsids = PLX_MAX(subsys->max_nsid, 1);
	struct nvmf_ctrlr *ctrlr = calloc(1, sizeof(*ctrlr));

	if (ctrlr == NULL) {
		return NULL;
	}
	ctrlr->subsys = subsys;
	ctrlr->listener = listener;
	ctrlr->thread = qpair->group->thread;
	memcpy(ctrlr->hostid, ctx->data.hostid, sizeof(ctrlr->hostid));
	memcpy(ctrlr->hostnqn, ctx->data.hostnqn, sizeof(ctrlr->hostnqn) - 1);
	ctrlr->state = NVMF_CTRLR_ACTIVE;
	TAILQ_INIT(&ctrlr->qpairs);
	STAILQ_INIT(&ctrlr->pending_events);
	STAILQ_INIT(&ctrlr->resv_log);
	ctrlr->qpair_mask = plx_bit_array_create(PLX_MAX(o->max_qpairs_per_ctrlr, 1));
	ctrlr->visible_ns = plx_bit_array_create(nsids);
	ctrlr->ns_resv_mask = calloc(nsids, sizeof(uint32_t));
	if (ctrlr->qpair_mask == NULL || ctrlr->visible_ns == NULL || ctrlr->ns_resv_mask == NULL) {
		plx_bit_array_free(&ctrlr->qpair_mask);
		plx_bit_array_free(&ctrlr->visible_ns);
		free(ctrlr->ns_resv_mask);
		free(ctrlr);
		return NULL;
	}
	ctrlr_init_registers(ctrlr, o);
	ctrlr->kato_ms = ctrlr_round_kato(ctrlr, o, ctx->cmd.kato);
	ctrlr->feat.keep_alive_timer = ctrlr->kato_ms;
	return ctrlr;
}

static void connect_admin_on_app(void *arg)
{
	struct connect_ctx *ctx = arg;
	struct nvmf_tgt *tgt = ctx->qpair->group->tgt;
	struct nvmf_subsystem *subsys = nvmf_tgt_find_subsystem(tgt, ctx->data.subnqn);
	struct nvmf_subsystem_listener *listener = NULL;
	struct nvmf_ctrlr *ctrlr;

	if (subsys == NULL || subsys->destroying) {
		PLX_ERRLOG("Connect: no subsystem %s\n", ctx->data.subnqn);
		connect_invalid(ctx, 1, offsetof(struct plx_nvmf_connect_data, subnqn));
		goto out;
	}
	if (!nvmf_subsystem_host_allowed(subsys, ctx->data.hostnqn)) {
		PLX_ERRLOG("Connect: host %s may not access %s\n", ctx->data.hostnqn,
			   subsys->subnqn);
		connect_fail(ctx, PLX_NVME_SCT_COMMAND_SPECIFIC, PLX_NVMF_SC_INVALID_HOST);
		ctx->iattr = 1;
		ctx->ipo = offsetof(struct plx_nvmf_connect_data, hostnqn);
		goto out;
	}
	listener = nvmf_subsystem_find_listener(subsys, &ctx->qpair->listen_trid);
	if (listener == NULL && subsys->subtype != NVMF_SUBTYPE_DISCOVERY) {
		PLX_ERRLOG("Connect: %s does not listen on %s:%s\n", subsys->subnqn,
			   ctx->qpair->listen_trid.traddr, ctx->qpair->listen_trid.trsvcid);
		connect_invalid(ctx, 1, offsetof(struct plx_nvmf_connect_data, subnqn));
		goto out;
	}
	if (ctx->data.cntlid != 0xffff) {
		PLX_ERRLOG("Connect: static controller id %u requested\n", ctx->data.cntlid);
		connect_invalid(ctx, 1, offsetof(struct plx_nvmf_connect_data, cntlid));
		goto out;
	}
	ctrlr = ctrlr_alloc(subsys, ctx, listener);
	if (ctrlr == NULL) {
		PLX_ERRLOG("Connect: out of memory for a controller\n");
		connect_fail(ctx, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INTERNAL_DEVICE_ERROR);
		goto out;
	}
	if (nvmf_subsystem_add_ctrlr(subsys, ctrlr) != 0) {
		PLX_ERRLOG("Connect: no free controller id in %s\n", subsys->subnqn);
		ctrlr_free(ctrlr);
		connect_fail(ctx, PLX_NVME_SCT_COMMAND_SPECIFIC, PLX_NVMF_SC_CONTROLLER_BUSY);
		goto out;
	}
	ctx->ctrlr = ctrlr;
out:
	send_or_log(ctx->qpair->group->thread, connect_admin_done, ctx);
}

static void connect_io_done(void *arg)
{
	struct connect_ctx *ctx = arg;

	if (ctx->sc == 0 && ctx->sct == 0) {
		connect_join(ctx);
	}
	connect_complete(ctx);
}

static void connect_io_on_ctrlr(void *arg)
{
	struct connect_ctx *ctx = arg;
	struct nvmf_ctrlr *ctrlr = ctx->ctrlr;
	const struct nvmf_transport_opts *o = &ctx->qpair->transport->opts;
	uint16_t qid = ctx->cmd.qid;

	if (ctrlr_state(ctrlr) != NVMF_CTRLR_ACTIVE || ctrlr->admin_qpair == NULL) {
		connect_fail(ctx, PLX_NVME_SCT_COMMAND_SPECIFIC, PLX_NVMF_SC_CONTROLLER_BUSY);
	} else if (!ctrlr->cc.bits.en || !ctrlr->csts.bits.rdy) {
		PLX_ERRLOG("Connect: I/O queue %u before controller %u was enabled\n", qid,
			   ctrlr->cntlid);
		connect_fail(ctx, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_COMMAND_SEQUENCE_ERROR);
	} else if (qid >= o->max_qpairs_per_ctrlr || plx_bit_array_get(ctrlr->qpair_mask, qid)) {
		PLX_ERRLOG("Connect: queue id %u invalid or in use\n", qid);
		connect_invalid(ctx, 0, offsetof(struct plx_nvmf_connect_cmd, qid));
	} else if (ctx->cmd.sqsize > o->max_queue_depth - 1u) {
		connect_invalid(ctx, 0, offsetof(struct plx_nvmf_connect_cmd, sqsize));
	} else {
		plx_bit_array_set(ctrlr->qpair_mask, qid);
		ctrlr->num_io_qpairs++;
		TAILQ_INSERT_TAIL(&ctrlr->qpairs, ctx->qpair, ctrlr_link);
	}
	send_or_log(ctx->qpair->group->thread, connect_io_done, ctx);
}

static void connect_io_on_app(void *arg)
{
	struct connect_ctx *ctx = arg;
	struct nvmf_tgt *tgt = ctx->qpair->group->tgt;
	struct nvmf_subsystem *subsys = nvmf_tgt_find_subsystem(tgt, ctx->data.subnqn);
	struct nvmf_ctrlr *ctrlr;

	if (subsys == NULL || subsys->destroying) {
		connect_invalid(ctx, 1, offsetof(struct plx_nvmf_connect_data, subnqn));
	} else if (!nvmf_subsystem_host_allowed(subsys, ctx->data.hostnqn)) {
		connect_fail(ctx, PLX_NVME_SCT_COMMAND_SPECIFIC, PLX_NVMF_SC_INVALID_HOST);
		ctx->iattr = 1;
		ctx->ipo = offsetof(struct plx_nvmf_connect_data, hostnqn);
	} else if ((ctrlr = nvmf_subsystem_get_ctrlr(subsys, ctx->data.cntlid)) == NULL) {
		PLX_ERRLOG("Connect: no controller %u in %s\n", ctx->data.cntlid, subsys->subnqn);
		connect_invalid(ctx, 1, offsetof(struct plx_nvmf_connect_data, cntlid));
	} else if (strncmp(ctrlr->hostnqn, ctx->data.hostnqn, sizeof(ctrlr->hostnqn)) != 0) {
		PLX_ERRLOG("Connect: controller %u belongs to another host\n", ctrlr->cntlid);
		connect_invalid(ctx, 1, offsetof(struct plx_nvmf_connect_data, hostnqn));
	} else {
		/* The controller is freed only after a later message from this thread. */
		ctx->ctrlr = ctrlr;
		send_or_log(ctrlr->thread, connect_io_on_ctrlr, ctx);
		return;
	}
	send_or_log(ctx->qpair->group->thread, connect_io_done, ctx);
}

static void nvmf_ctrlr_connect(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;
	const struct plx_nvmf_connect_cmd *cmd = (const struct plx_nvmf_connect_cmd *)req->cmd;
	const struct nvmf_transport_opts *o = &qpair->transport->opts;
	struct connect_ctx *ctx;

	if (req->data == NULL || req->length < sizeof(struct plx_nvmf_connect_data)) {
		nvmf_request_set_status(req, PLX_NVME_SCT_GENERIC,
					PLX_NVME_SC_DATA_SGL_LENGTH_INVALID);
		nvmf_request_complete(req);
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		nvmf_request_set_status(req, PLX_NVME_SCT_GENERIC,
					PLX_NVME_SC_INTERNAL_DEVICE_ERROR);
		nvmf_request_complete(req);
		return;
	}
	ctx->req = req;
	ctx->qpair = qpair;
	ctx->cmd = *cmd;
	memcpy(&ctx->data, req->data, sizeof(ctx->data));
	ctx->data.hostnqn[sizeof(ctx->data.hostnqn) - 1] = '\0';
	ctx->data.subnqn[sizeof(ctx->data.subnqn) - 1] = '\0';

	if (cmd->recfmt != 0) {
		connect_fail(ctx, PLX_NVME_SCT_COMMAND_SPECIFIC, PLX_NVMF_SC_INCOMPATIBLE_FORMAT);
	} else if (cmd->sqsize == 0 ||
		   cmd->sqsize > (cmd->qid == 0 ? o->max_aq_depth : o->max_queue_depth) - 1u) {
		PLX_ERRLOG("Connect: invalid sqsize %u for queue %u\n", cmd->sqsize, cmd->qid);
		connect_invalid(ctx, 0, offsetof(struct plx_nvmf_connect_cmd, sqsize));
	} else if (strnlen(ctx->data.subnqn, sizeof(ctx->data.subnqn)) > PLX_NVMF_NQN_MAX_LEN) {
		connect_invalid(ctx, 1, offsetof(struct plx_nvmf_connect_data, subnqn));
	} else if (strnlen(ctx->data.hostnqn, sizeof(ctx->data.hostnqn)) > PLX_NVMF_NQN_MAX_LEN) {
		connect_invalid(ctx, 1, offsetof(struct plx_nvmf_connect_data, hostnqn));
	} else {
		qpair->state = NVMF_QPAIR_CONNECTING;
		send_or_log(qpair->group->tgt->thread,
			    cmd->qid == 0 ? connect_admin_on_app : connect_io_on_app, ctx);
		return;
	}
	connect_complete(ctx);
}

/* ---- properties ---- */

static void ctrlr_reset(struct nvmf_ctrlr *ctrlr)
{
	PLX_INFOLOG("controller %u of %s: reset\n", ctrlr->cntlid, ctrlr->subsys->subnqn);
	ctrlr_disconnect_qpairs(ctrlr, false);
	ctrlr_abort_all_aers(ctrlr);
	ctrlr_clear_events(ctrlr);
	nvmf_ctrlr_features_init(ctrlr);
	ctrlr->csts.bits.shst = PLX_NVME_SHST_NORMAL;
	if (ctrlr->num_io_qpairs == 0) {
		ctrlr->csts.bits.rdy = 0;
	}
}

static bool property_set_cc(struct nvmf_ctrlr *ctrlr, uint32_t value)
{
	union plx_nvme_cc old = ctrlr->cc, cc = {.raw = value};

	if (cc.bits.rsvd1 != 0 || cc.bits.rsvd2 != 0) {
		return false;
	}
	ctrlr->cc = cc;
	if (cc.bits.en && !old.bits.en) {
		ctrlr->csts.bits.rdy = 1;
		ctrlr->csts.bits.shst = PLX_NVME_SHST_NORMAL;
	} else if (!cc.bits.en && old.bits.en) {
		ctrlr_reset(ctrlr);
	}
	if (cc.bits.shn != PLX_NVME_SHN_NONE && old.bits.shn == PLX_NVME_SHN_NONE) {
		/* Nothing to flush: completions are synchronous to the bdevs. */
		ctrlr_disconnect_qpairs(ctrlr, false);
		ctrlr->csts.bits.shst = PLX_NVME_SHST_COMPLETE;
	} else if (cc.bits.shn == PLX_NVME_SHN_NONE && old.bits.shn != PLX_NVME_SHN_NONE) {
		ctrlr->csts.bits.shst = PLX_NVME_SHST_NORMAL;
	}
	return true;
}

static void nvmf_property_get(struct nvmf_request *req)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	const struct plx_nvmf_property_get_cmd *cmd =
	    (const struct plx_nvmf_property_get_cmd *)req->cmd;
	bool size8 = (cmd->attrib & 7) == PLX_NVMF_PROP_SIZE_8;
	uint64_t value;

	if ((cmd->attrib & 7) > PLX_NVMF_PROP_SIZE_8) {
		goto invalid;
	}
	switch (cmd->ofst) {
	case PLX_NVME_REG_CAP:
		value = size8 ? ctrlr->cap.raw : (uint32_t)ctrlr->cap.raw;
		break;
	case PLX_NVME_REG_CAP + 4:
		if (size8) {
			goto invalid;
		}
		value = ctrlr->cap.raw >> 32;
		break;
	case PLX_NVME_REG_VS:
		value = ctrlr->vs.raw;
		break;
	case PLX_NVME_REG_CC:
		value = ctrlr->cc.raw;
		break;
	case PLX_NVME_REG_CSTS:
		value = ctrlr->csts.raw;
		break;
	case PLX_NVME_REG_AQA:
		value = (uint32_t)(req->qpair->sq_size - 1u) * 0x10001u;
		break;
	default:
		goto invalid;
	}
	if (size8 && cmd->ofst != PLX_NVME_REG_CAP) {
		goto invalid;
	}
	req->rsp->cdw0 = (uint32_t)value;
	req->rsp->cdw1 = (uint32_t)(value >> 32);
	nvmf_request_complete(req);
	return;
invalid:
	nvmf_request_set_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
	nvmf_request_complete(req);
}

static void nvmf_property_set(struct nvmf_request *req)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	const struct plx_nvmf_property_set_cmd *cmd =
	    (const struct plx_nvmf_property_set_cmd *)req->cmd;

	if ((cmd->attrib & 7) != PLX_NVMF_PROP_SIZE_4 || cmd->ofst != PLX_NVME_REG_CC ||
	    !property_set_cc(ctrlr, (uint32_t)cmd->value)) {
		nvmf_request_set_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
	}
	nvmf_request_complete(req);
}

void nvmf_ctrlr_process_fabrics_cmd(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;
	uint8_t fctype = ((const struct plx_nvmf_capsule_cmd *)req->cmd)->fctype;

	if (fctype == PLX_NVMF_FCTYPE_CONNECT) {
		if (qpair->state != NVMF_QPAIR_UNINITIALIZED) {
			nvmf_request_set_status(req, PLX_NVME_SCT_GENERIC,
						PLX_NVME_SC_COMMAND_SEQUENCE_ERROR);
			nvmf_request_complete(req);
			return;
		}
		nvmf_ctrlr_connect(req);
		return;
	}
	switch (fctype) {
	case PLX_NVMF_FCTYPE_PROPERTY_GET:
	case PLX_NVMF_FCTYPE_PROPERTY_SET:
		if (qpair->qid != 0) {
			break;
		}
		nvmf_ctrlr_keep_alive(qpair->ctrlr);
		if (fctype == PLX_NVMF_FCTYPE_PROPERTY_GET) {
			nvmf_property_get(req);
		} else {
			nvmf_property_set(req);
		}
		return;
	case PLX_NVMF_FCTYPE_DISCONNECT:
		nvmf_request_complete(req);
		nvmf_qpair_disconnect(qpair);
		return;
	default:
		nvmf_request_set_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_OPCODE);
		nvmf_request_complete(req);
		return;
	}
	nvmf_request_set_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
	nvmf_request_complete(req);
}
