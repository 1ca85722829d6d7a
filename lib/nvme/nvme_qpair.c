/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queue pairs, the transport-independent part: request pools, submission (with a retry queue
 * for a full transport), completion with retries, command timeouts, failure.
 *
 * Nothing here allocates or makes a system call after nvme_qpair_init: requests come from a
 * per-qpair free list, payload scratch space from a per-qpair DMA-able area, and the timeout
 * scan reads the TSC only when timeouts are enabled.
 *
 * Timeouts: the owner of an I/O qpair that enabled command_timeout_ms also sends the Abort on
 * the admin queue and may reset the controller from its poll, so an application using command
 * timeouts polls its I/O qpairs from the thread that owns the admin queue.
 */
#include <errno.h>
#include <stdlib.h>

#include "nvme_core.h"
#include "pollux/env.h"
#include "pollux/log.h"

int nvme_qpair_init(struct plx_nvme_qpair *qpair, struct plx_nvme_ctrlr *ctrlr, uint16_t id,
		    uint32_t num_entries, uint32_t num_requests, bool delay_cmd_submit)
{
	/* The transport and the core may both call this for an I/O qpair: the first one wins. */
	if (qpair->reqs != NULL) {
		return 0;
	}
	if (num_requests == 0) {
		num_requests = num_entries;
	}
	qpair->ctrlr = ctrlr;
	qpair->id = id;
	qpair->num_entries = num_entries;
	qpair->num_requests = num_requests;
	qpair->delay_cmd_submit = delay_cmd_submit;
	qpair->outstanding = 0;
	STAILQ_INIT(&qpair->free_reqs);
	STAILQ_INIT(&qpair->retry_queue);
	qpair->reqs = calloc(num_requests, sizeof(*qpair->reqs));
	qpair->req_scratch = plx_dma_zmalloc((size_t)num_requests * NVME_REQ_SCRATCH_SIZE, 64);
	if (id != 0) {
		qpair->dsm_bufs = plx_dma_zmalloc(NVME_DSM_BUFS * NVME_DSM_BUF_SIZE, 4096);
		qpair->dsm_free = (1u << NVME_DSM_BUFS) - 1;
	}
	if (qpair->reqs == NULL || qpair->req_scratch == NULL ||
	    (id != 0 && qpair->dsm_bufs == NULL)) {
		nvme_qpair_fini(qpair);
		return -ENOMEM;
	}
	/* Inserted backwards so the first requests handed out are the first in memory. */
	for (uint32_t i = num_requests; i > 0; i--) {
		qpair->reqs[i - 1].qpair = qpair;
		STAILQ_INSERT_HEAD(&qpair->free_reqs, &qpair->reqs[i - 1], link);
	}
	return 0;
}

void nvme_qpair_fini(struct plx_nvme_qpair *qpair)
{
	free(qpair->reqs);
	qpair->reqs = NULL;
	plx_dma_free(qpair->req_scratch);
	qpair->req_scratch = NULL;
	plx_dma_free(qpair->dsm_bufs);
	qpair->dsm_bufs = NULL;
	qpair->dsm_free = 0;
	STAILQ_INIT(&qpair->free_reqs);
	STAILQ_INIT(&qpair->retry_queue);
}

void *nvme_qpair_get_dsm_buf(struct plx_nvme_qpair *qpair)
{
	int i;

	if (qpair->dsm_free == 0) {
		return NULL;
	}
	i = __builtin_ctz(qpair->dsm_free);
	qpair->dsm_free &= ~(1u << i);
	return qpair->dsm_bufs + (size_t)i * NVME_DSM_BUF_SIZE;
}

void nvme_request_put(struct plx_nvme_qpair *qpair, struct nvme_request *req)
{
	uint8_t *buf = req->payload.buf;

	/* A long DSM range list borrowed a per-qpair buffer: give it back. */
	if (plx_unlikely(qpair->dsm_bufs != NULL && buf >= qpair->dsm_bufs &&
			 buf < qpair->dsm_bufs + NVME_DSM_BUFS * NVME_DSM_BUF_SIZE)) {
		qpair->dsm_free |= 1u << ((size_t)(buf - qpair->dsm_bufs) / NVME_DSM_BUF_SIZE);
	}
	req->cb_fn = NULL; /* marks it free for the timeout scan */
	STAILQ_INSERT_HEAD(&qpair->free_reqs, req, link);
}

static bool nvme_qpair_rejects(const struct plx_nvme_qpair *qpair)
{
	switch (qpair->state) {
	case NVME_QPAIR_CONNECTED:
	case NVME_QPAIR_CONNECTING:
		return false;
	case NVME_QPAIR_DISCONNECTED:
		/* A transport may send its own admin commands while constructing the controller. */
		return qpair->id != 0 || qpair->ctrlr->state != NVME_CTRLR_INIT;
	default:
		return true;
	}
}

int nvme_qpair_submit_request(struct plx_nvme_qpair *qpair, struct nvme_request *req)
{
	const struct plx_nvme_ctrlr *ctrlr = qpair->ctrlr;
	int rc;

	if (plx_unlikely(qpair->state != NVME_QPAIR_CONNECTED) && nvme_qpair_rejects(qpair)) {
		nvme_request_put(qpair, req);
		return -ENXIO;
	}
	qpair->outstanding++;
	/* Keep submission order: nothing overtakes what already waits for a queue slot. */
	if (plx_unlikely(!STAILQ_EMPTY(&qpair->retry_queue))) {
		STAILQ_INSERT_TAIL(&qpair->retry_queue, req, link);
		return 0;
	}
	if (plx_unlikely(ctrlr->opts.command_timeout_ms != 0)) {
		req->submit_tick = nvme_ticks();
	}
	rc = ctrlr->transport->qpair_submit_request(qpair, req);
	if (plx_likely(rc == 0)) {
		return 0;
	}
	if (rc == -EAGAIN) {
		req->submit_tick = 0;
		STAILQ_INSERT_TAIL(&qpair->retry_queue, req, link);
		return 0;
	}
	qpair->outstanding--;
	nvme_request_put(qpair, req);
	return rc;
}

int nvme_qpair_submit_cmd(struct plx_nvme_qpair *qpair, const struct plx_nvme_cmd *cmd, void *buf,
			  uint32_t len, plx_nvme_cmd_cb cb_fn, void *cb_arg)
{
	uint32_t max_xfer = qpair->ctrlr->max_xfer_size;
	struct nvme_request *req;

	/* Before Identify the limit is unknown (0); the commands sent then are small. */
	if ((buf == NULL) != (len == 0) || (max_xfer != 0 && len > max_xfer)) {
		return -EINVAL;
	}
	req = nvme_request_get(qpair, cb_fn, cb_arg);
	if (req == NULL) {
		return -ENOMEM;
	}
	req->cmd = *cmd;
	req->cmd.cid = 0;
	if (cmd->opc == PLX_NVME_OPC_FABRIC) {
		/* Fabrics commands carry the direction in fctype's low bits. */
		req->xfer = plx_nvme_opc_get_data_transfer(
		    ((const struct plx_nvmf_capsule_cmd *)cmd)->fctype);
	} else {
		req->xfer = plx_nvme_opc_get_data_transfer(cmd->opc);
	}
	if (buf != NULL) {
		req->payload.type = NVME_PAYLOAD_CONTIG;
		req->payload.buf = buf;
		req->payload_size = len;
	}
	return nvme_qpair_submit_request(qpair, req);
}

/* Complete req with a status the core made up (the device never answered). */
static void nvme_qpair_complete_manual(struct plx_nvme_qpair *qpair, struct nvme_request *req,
				       uint8_t sct, uint8_t sc, bool dnr)
{
	struct plx_nvme_cpl cpl = {0};

	cpl.sqid = qpair->id;
	cpl.cid = req->transport_cid;
	cpl.status.sct = sct;
	cpl.status.sc = sc;
	cpl.status.dnr = dnr;
	nvme_qpair_complete_request(qpair, req, &cpl);
}

static bool nvme_request_should_retry(const struct plx_nvme_qpair *qpair,
				      const struct nvme_request *req,
				      const struct plx_nvme_cpl *cpl)
{
	/* A fused half cannot be resubmitted alone; a dying qpair must drain, not loop. */
	return req->retries < qpair->ctrlr->opts.transport_retry_count &&
	       qpair->state == NVME_QPAIR_CONNECTED && req->cmd.fuse == PLX_NVME_FUSE_NONE &&
	       nvme_status_is_retryable(&cpl->status);
}

void nvme_qpair_complete_request(struct plx_nvme_qpair *qpair, struct nvme_request *req,
				 const struct plx_nvme_cpl *cpl)
{
	plx_nvme_cmd_cb cb_fn;
	void *cb_arg;

	if (plx_unlikely(plx_nvme_cpl_is_error(cpl)) &&
	    nvme_request_should_retry(qpair, req, cpl)) {
		req->retries++;
		req->submit_tick = 0;
		req->timed_out = false;
		STAILQ_INSERT_TAIL(&qpair->retry_queue, req, link);
		return;
	}
	qpair->outstanding--;
	cb_fn = req->cb_fn;
	cb_arg = req->cb_arg;
	/* Freed first so a callback that resubmits finds the request it just got back. */
	nvme_request_put(qpair, req);
	cb_fn(cb_arg, cpl);
}

void nvme_qpair_set_failed(struct plx_nvme_qpair *qpair)
{
	if (qpair->state != NVME_QPAIR_FAILED) {
		qpair->state = NVME_QPAIR_FAILED;
	}
	if (qpair->id == 0 && qpair->ctrlr != NULL) {
		qpair->ctrlr->state = NVME_CTRLR_FAILED;
	}
}

void nvme_qpair_abort_all(struct plx_nvme_qpair *qpair, bool dnr)
{
	struct nvme_request *req;

	qpair->ctrlr->transport->qpair_abort_reqs(qpair, dnr);
	while ((req = STAILQ_FIRST(&qpair->retry_queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&qpair->retry_queue, link);
		req->retries = UINT32_MAX;
		nvme_qpair_complete_manual(qpair, req, PLX_NVME_SCT_GENERIC,
					   PLX_NVME_SC_ABORTED_SQ_DELETION, dnr);
	}
}

/* Hand the retry queue to the transport again, in order, until it is full. */
static void nvme_qpair_resubmit(struct plx_nvme_qpair *qpair)
{
	const struct plx_nvme_ctrlr *ctrlr = qpair->ctrlr;
	struct nvme_request *req;
	int rc;

	while ((req = STAILQ_FIRST(&qpair->retry_queue)) != NULL) {
		/* Off our list before the transport links it into its own. */
		STAILQ_REMOVE_HEAD(&qpair->retry_queue, link);
		if (ctrlr->opts.command_timeout_ms != 0) {
			req->submit_tick = nvme_ticks();
		}
		rc = ctrlr->transport->qpair_submit_request(qpair, req);
		if (rc == -EAGAIN) {
			req->submit_tick = 0;
			STAILQ_INSERT_HEAD(&qpair->retry_queue, req, link);
			return;
		}
		if (rc != 0) {
			req->retries = UINT32_MAX;
			nvme_qpair_complete_manual(qpair, req, PLX_NVME_SCT_GENERIC,
						   PLX_NVME_SC_ABORTED_SQ_DELETION, true);
		}
	}
}

static void nvme_abort_done(void *cb_arg, const struct plx_nvme_cpl *cpl)
{
	(void)cb_arg;
	if (plx_nvme_cpl_is_error(cpl) && cpl->status.sc != PLX_NVME_SC_ABORTED_SQ_DELETION) {
		PLX_WARNLOG("Abort failed: %s\n", plx_nvme_status_string(&cpl->status));
	}
}

/* First expiry: ask the controller to abort the command. Second: reset the controller. */
static void nvme_request_expired(struct plx_nvme_qpair *qpair, struct nvme_request *req,
				 uint64_t now)
{
	struct plx_nvme_ctrlr *ctrlr = qpair->ctrlr;
	struct plx_nvme_cmd abort = {0};

	if (req->timed_out || (qpair->id == 0 && req->cmd.opc == PLX_NVME_OPC_ABORT)) {
		PLX_ERRLOG("command (qid %u cid %u opc 0x%02x) still outstanding after Abort: "
			   "resetting the controller\n",
			   qpair->id, req->transport_cid, req->cmd.opc);
		ctrlr->reset_requested = true;
		req->submit_tick = 0; /* one reset per command */
		return;
	}
	req->timed_out = true;
	req->submit_tick = now;
	abort.opc = PLX_NVME_OPC_ABORT;
	abort.cdw10 = (uint32_t)qpair->id | ((uint32_t)req->transport_cid << 16);
	PLX_WARNLOG("command (qid %u cid %u opc 0x%02x) timed out: sending Abort\n", qpair->id,
		    req->transport_cid, req->cmd.opc);
	/* This may be an I/O qpair's thread: the admin queue is the owner's, hence the lock. */
	pthread_mutex_lock(&ctrlr->lock);
	if (nvme_qpair_submit_cmd(ctrlr->adminq, &abort, NULL, 0, nvme_abort_done, NULL) != 0) {
		ctrlr->reset_requested = true;
	}
	pthread_mutex_unlock(&ctrlr->lock);
}

/* Scan for expired commands a few times per timeout period, not on every poll. */
static void nvme_qpair_check_timeouts(struct plx_nvme_qpair *qpair)
{
	uint64_t now = nvme_ticks();
	uint64_t timeout = qpair->ctrlr->opts.command_timeout_ms * nvme_ticks_per_ms();

	if (now < qpair->next_timeout_check) {
		return;
	}
	qpair->next_timeout_check = now + (timeout / 4 != 0 ? timeout / 4 : 1);
	for (uint32_t i = 0; i < qpair->num_requests; i++) {
		struct nvme_request *req = &qpair->reqs[i];

		/* AERs wait for events by design; submit_tick 0: not at the transport. */
		if (req->cb_fn == NULL || req->submit_tick == 0 ||
		    (qpair->id == 0 && req->cmd.opc == PLX_NVME_OPC_ASYNC_EVENT_REQUEST)) {
			continue;
		}
		if (now - req->submit_tick >= timeout) {
			nvme_request_expired(qpair, req, now);
		}
	}
}

int32_t nvme_qpair_process(struct plx_nvme_qpair *qpair, uint32_t max)
{
	const struct plx_nvme_ctrlr *ctrlr = qpair->ctrlr;
	int32_t rc;

	if (plx_unlikely(qpair->state == NVME_QPAIR_FAILED)) {
		nvme_qpair_abort_all(qpair, true);
		return -ENXIO;
	}
	if (plx_unlikely(!STAILQ_EMPTY(&qpair->retry_queue))) {
		nvme_qpair_resubmit(qpair);
	}
	rc = ctrlr->transport->qpair_process_completions(qpair, max);
	if (plx_unlikely(rc < 0 || qpair->state == NVME_QPAIR_FAILED)) {
		nvme_qpair_set_failed(qpair);
		nvme_qpair_abort_all(qpair, true);
		return -ENXIO;
	}
	if (plx_unlikely(ctrlr->opts.command_timeout_ms != 0)) {
		nvme_qpair_check_timeouts(qpair);
	}
	return rc;
}

int32_t plx_nvme_qpair_process_completions(struct plx_nvme_qpair *qpair, uint32_t max)
{
	int32_t rc = nvme_qpair_process(qpair, max);

	if (plx_unlikely(qpair->ctrlr->reset_requested)) {
		pthread_mutex_lock(&qpair->ctrlr->lock);
		nvme_ctrlr_reset_if_requested(qpair->ctrlr);
		pthread_mutex_unlock(&qpair->ctrlr->lock);
	}
	return rc;
}

uint32_t plx_nvme_qpair_get_outstanding(const struct plx_nvme_qpair *qpair)
{
	return qpair->outstanding;
}

int nvme_payload_to_iov(struct nvme_request *req, struct iovec *iov, int max_iov)
{
	uint32_t remaining = req->payload_size;
	int n = 0;

	switch (req->payload.type) {
	case NVME_PAYLOAD_NONE:
		return 0;
	case NVME_PAYLOAD_CONTIG:
		if (max_iov < 1) {
			return -E2BIG;
		}
		iov[0].iov_base = req->payload.buf;
		iov[0].iov_len = remaining;
		return remaining != 0 ? 1 : 0;
	case NVME_PAYLOAD_SGL:
		break;
	default:
		return -EINVAL;
	}
	req->payload.reset_sgl(req->payload.sgl_arg, 0);
	while (remaining > 0) {
		void *addr;
		uint32_t len;
		int rc;

		if (n == max_iov) {
			return -E2BIG;
		}
		rc = req->payload.next_sge(req->payload.sgl_arg, &addr, &len);
		if (rc != 0) {
			return rc;
		}
		if (len == 0) {
			return -EINVAL;
		}
		len = PLX_MIN(len, remaining);
		iov[n].iov_base = addr;
		iov[n].iov_len = len;
		n++;
		remaining -= len;
	}
	return n;
}
