/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Requests: dispatch by queue and state, fused-command pairing, completion and the data copy
 * helpers. Everything here runs on the poll group thread of req->qpair.
 *
 * Fused pairs: a FIRST is held (kept on qpair->outstanding, not executed) until the next
 * command arrives. A held FIRST is marked by first_fused pointing at itself; once the SECOND
 * arrives the mark moves to the SECOND (first_fused = FIRST) and ctrlr_io.c runs the pair.
 */
#include <stdlib.h>
#include <string.h>

#include "nvmf_internal.h"
#include "pollux/log.h"

/* qpair->outstanding is declared with an anonymous head; this one has the same layout. */
TAILQ_HEAD(nvmf_request_head, nvmf_request);

static bool req_is_held_first(const struct nvmf_request *req)
{
	return req != NULL && req->first_fused == req;
}

static void req_fail(struct nvmf_request *req, uint8_t sct, uint8_t sc)
{
	nvmf_request_set_status(req, sct, sc);
	nvmf_request_complete(req);
}

/* Pair a SECOND with the held FIRST; false when the pair was failed here. */
static bool fused_pair(struct nvmf_request *req, struct nvmf_request *held)
{
	if (held == NULL) {
		req_fail(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_ABORTED_MISSING_FUSED);
		return false;
	}
	held->first_fused = NULL;
	if (held->cmd->opc != PLX_NVME_OPC_COMPARE || req->cmd->opc != PLX_NVME_OPC_WRITE) {
		/* Only Compare + Write may be fused: the first fails, the second follows it. */
		req_fail(held, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_OPCODE);
		req_fail(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_ABORTED_FAILED_FUSED);
		return false;
	}
	req->first_fused = held;
	return true;
}

static void exec_io(struct nvmf_request *req, struct nvmf_request *held)
{
	uint8_t fuse = req->cmd->fuse;

	if (held != NULL && fuse != PLX_NVME_FUSE_SECOND) {
		/* The command after a FIRST must be its SECOND. */
		held->first_fused = NULL;
		req_fail(held, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_ABORTED_MISSING_FUSED);
		held = NULL;
	}
	switch (fuse) {
	case PLX_NVME_FUSE_NONE:
		nvmf_ctrlr_process_io_cmd(req);
		return;
	case PLX_NVME_FUSE_FIRST:
		req->first_fused = req; /* held until the SECOND arrives */
		return;
	case PLX_NVME_FUSE_SECOND:
		if (fused_pair(req, held)) {
			nvmf_ctrlr_process_io_cmd(req);
		}
		return;
	default:
		req_fail(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
		return;
	}
}

void nvmf_request_exec(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;
	struct plx_nvme_cmd *cmd = req->cmd;
	struct nvmf_request *held = TAILQ_LAST(&qpair->outstanding, nvmf_request_head);

	held = req_is_held_first(held) ? held : NULL;
	req->first_fused = NULL;
	req->pg_ns = NULL;
	req->aborted = false;
	TAILQ_INSERT_TAIL(&qpair->outstanding, req, link);
	qpair->outstanding_count++;

	if (plx_unlikely(!nvmf_qpair_is_active(qpair))) {
		bool connect =
		    cmd->opc == PLX_NVME_OPC_FABRIC &&
		    ((struct plx_nvmf_capsule_cmd *)cmd)->fctype == PLX_NVMF_FCTYPE_CONNECT;

		if (qpair->state == NVMF_QPAIR_UNINITIALIZED && connect) {
			nvmf_ctrlr_process_fabrics_cmd(req);
		} else if (qpair->state == NVMF_QPAIR_DEACTIVATING ||
			   qpair->state == NVMF_QPAIR_ERROR) {
			req_fail(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_ABORTED_SQ_DELETION);
		} else {
			req_fail(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_COMMAND_SEQUENCE_ERROR);
		}
		return;
	}
	if (plx_unlikely(cmd->opc == PLX_NVME_OPC_FABRIC)) {
		nvmf_ctrlr_process_fabrics_cmd(req);
		return;
	}
	if (qpair->qid == 0) {
		if (cmd->fuse != PLX_NVME_FUSE_NONE) {
			req_fail(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
			return;
		}
		nvmf_ctrlr_process_admin_cmd(req);
		return;
	}
	if (plx_likely(held == NULL && cmd->fuse == PLX_NVME_FUSE_NONE)) {
		nvmf_ctrlr_process_io_cmd(req);
		return;
	}
	exec_io(req, held);
}

void nvmf_qpair_abort_held_fused(struct nvmf_qpair *qpair)
{
	struct nvmf_request *held = TAILQ_LAST(&qpair->outstanding, nvmf_request_head);

	if (req_is_held_first(held)) {
		held->first_fused = NULL;
		req_fail(held, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_ABORTED_SQ_DELETION);
	}
}

bool nvmf_qpair_abort_held_fused_cid(struct nvmf_qpair *qpair, uint16_t cid)
{
	struct nvmf_request *held = TAILQ_LAST(&qpair->outstanding, nvmf_request_head);

	if (!req_is_held_first(held) || held->cmd->cid != cid) {
		return false;
	}
	held->first_fused = NULL;
	req_fail(held, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_ABORTED_BY_REQUEST);
	return true;
}

/* ---- the error log (log page 0x01): newest entry first, error_count numbers them ---- */

struct error_note {
	struct nvmf_ctrlr *ctrlr;
	struct plx_nvme_error_info_entry e;
};

static void ctrlr_record_error(struct nvmf_ctrlr *ctrlr, struct plx_nvme_error_info_entry *e)
{
	memmove(&ctrlr->error_log[1], &ctrlr->error_log[0],
		sizeof(ctrlr->error_log) - sizeof(ctrlr->error_log[0]));
	e->error_count = ++ctrlr->error_count;
	ctrlr->error_log[0] = *e;
}

static void error_note_on_ctrlr(void *arg)
{
	struct error_note *note = arg;

	ctrlr_record_error(note->ctrlr, &note->e);
	free(note);
}

/*
 * A command failed: note it in its controller's error log. Only failures of commands the
 * host sent on a live queue count (not aborts while a queue is torn down). The log belongs to
 * the controller's thread; an I/O queue elsewhere sends the entry there, and that message
 * arrives before the queue's own "remove", so the controller is still there. Errors are rare:
 * the allocation is fine here.
 */
static void request_note_error(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;
	struct nvmf_ctrlr *ctrlr = qpair->ctrlr;
	struct plx_nvme_error_info_entry e = {0};
	struct error_note *note;

	if (ctrlr == NULL || qpair->state != NVMF_QPAIR_ENABLED) {
		return;
	}
	e.sqid = qpair->qid;
	e.cid = req->cmd->cid;
	e.status = req->rsp->status;
	e.error_location = 0xffff; /* not reported */
	e.nsid = req->cmd->nsid;
	e.lba = (uint64_t)req->cmd->cdw11 << 32 | req->cmd->cdw10;
	e.trtype = (uint8_t)qpair->transport->ops->trtype;
	if (plx_get_thread() == ctrlr->thread) {
		ctrlr_record_error(ctrlr, &e);
		return;
	}
	note = malloc(sizeof(*note));
	if (note == NULL) {
		return; /* the log is best effort; the command's own status still reaches the host
			 */
	}
	note->ctrlr = ctrlr;
	note->e = e;
	if (plx_thread_send_msg(ctrlr->thread, error_note_on_ctrlr, note) != 0) {
		free(note);
	}
}

void nvmf_request_complete(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;
	struct plx_nvme_cpl *rsp = req->rsp;

	if (req->pg_ns != NULL) {
		req->pg_ns->io_outstanding--;
		req->pg_ns = NULL;
	}
	rsp->cid = req->cmd->cid;
	rsp->sqid = qpair->qid;
	if (++qpair->sq_head >= qpair->sq_size && qpair->sq_size != 0) {
		qpair->sq_head = 0;
	}
	rsp->sqhd = qpair->sq_head;
	if (plx_unlikely(rsp->status.sc != 0 || rsp->status.sct != 0)) {
		request_note_error(req);
	}
	TAILQ_REMOVE(&qpair->outstanding, req, link);
	qpair->outstanding_count--;
	if (qpair->qid != 0) {
		qpair->group->stat.completed_nvme_io++;
	}
	qpair->transport->ops->req_complete(req);
	/* req belongs to the transport now. */
	if (plx_unlikely(qpair->state == NVMF_QPAIR_DEACTIVATING) &&
	    qpair->outstanding_count == 0 && qpair->transport_closed) {
		nvmf_qpair_teardown_continue(qpair);
	}
}

size_t nvmf_request_copy_to_iov(struct nvmf_request *req, const void *buf, size_t len,
				size_t offset)
{
	const char *src = buf;
	size_t copied = 0;

	for (int i = 0; i < req->iovcnt && copied < len; i++) {
		size_t iov_len = req->iov[i].iov_len, n;

		if (offset >= iov_len) {
			offset -= iov_len;
			continue;
		}
		n = PLX_MIN(iov_len - offset, len - copied);
		memcpy((char *)req->iov[i].iov_base + offset, src + copied, n);
		copied += n;
		offset = 0;
	}
	return copied;
}

size_t nvmf_request_copy_from_iov(struct nvmf_request *req, void *buf, size_t len)
{
	char *dst = buf;
	size_t copied = 0;

	for (int i = 0; i < req->iovcnt && copied < len; i++) {
		size_t n = PLX_MIN(req->iov[i].iov_len, len - copied);

		memcpy(dst + copied, req->iov[i].iov_base, n);
		copied += n;
	}
	return copied;
}
