/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the core files of the NVMe driver (nvme_ctrlr*.c, nvme_qpair.c, nvme_ns_cmd.c,
 * nvme_status.c, nvme_probe.c) share with each other and not with the transports.
 */
#ifndef POLLUX_NVME_CORE_H
#define POLLUX_NVME_CORE_H

#include <string.h>

#include "nvme_internal.h"
#include "pollux/util.h"

/* Bytes each request owns in its qpair's DMA-able scratch area: reservation data, up to four
 * DSM ranges, or the bookkeeping of a fused pair. */
#define NVME_REQ_SCRATCH_SIZE 64
/* Range lists longer than the scratch area borrow one of these per-qpair buffers. */
#define NVME_DSM_BUFS	    8
#define NVME_DSM_BUF_SIZE   4096
#define NVME_MAX_DSM_RANGES 256

/* Namespaces tracked at most (ns[] is indexed by nsid); larger NN values are clipped. */
#define NVME_MAX_NS 16384

/* Blocking admin commands give up after this (or command_timeout_ms when set). */
#define NVME_ADMIN_TIMEOUT_MS 30000

/* ---- requests (nvme_qpair.c) ---- */

/* A request from the qpair's free list, cleared for a new command; NULL when none is free. */
static inline struct nvme_request *nvme_request_get(struct plx_nvme_qpair *qpair,
						    plx_nvme_cmd_cb cb_fn, void *cb_arg)
{
	struct nvme_request *req = STAILQ_FIRST(&qpair->free_reqs);

	if (plx_unlikely(req == NULL)) {
		return NULL;
	}
	STAILQ_REMOVE_HEAD(&qpair->free_reqs, link);
	memset(&req->cmd, 0, sizeof(req->cmd));
	req->payload.type = NVME_PAYLOAD_NONE;
	req->payload.buf = NULL;
	req->payload_size = 0;
	req->xfer = PLX_NVME_DATA_NONE;
	req->cb_fn = cb_fn;
	req->cb_arg = cb_arg;
	req->submit_tick = 0;
	req->retries = 0;
	req->timed_out = false;
	req->fused_second = NULL;
	return req;
}

static inline void *nvme_request_scratch(struct plx_nvme_qpair *qpair, struct nvme_request *req)
{
	return qpair->req_scratch + (size_t)(req - qpair->reqs) * NVME_REQ_SCRATCH_SIZE;
}

/* Put a request back (returning a borrowed DSM buffer); the caller owns no reference after. */
void nvme_request_put(struct plx_nvme_qpair *qpair, struct nvme_request *req);

/* A 4 KiB DMA-able buffer for a long range list, or NULL when all are lent out. */
void *nvme_qpair_get_dsm_buf(struct plx_nvme_qpair *qpair);

/*
 * Hand req to the transport (or to the retry queue when the transport is full). On an error
 * return req is already back in the free list and no callback will run.
 */
int nvme_qpair_submit_request(struct plx_nvme_qpair *qpair, struct nvme_request *req);

/* Take a request, copy cmd, attach buf/len (contiguous) and submit. -EINVAL for len above the
 * controller's limit, -ENOMEM when no request is free. */
int nvme_qpair_submit_cmd(struct plx_nvme_qpair *qpair, const struct plx_nvme_cmd *cmd, void *buf,
			  uint32_t len, plx_nvme_cmd_cb cb_fn, void *cb_arg);

/* Complete every request of the qpair (transport-held and retry queue) with an abort status. */
void nvme_qpair_abort_all(struct plx_nvme_qpair *qpair, bool dnr);

/* Poll without the controller-level work (keep-alive, AERs, resets): used by blocking waits. */
int32_t nvme_qpair_process(struct plx_nvme_qpair *qpair, uint32_t max);

/* ---- status (nvme_status.c) ---- */

/* Worth resubmitting as is when DNR is clear (a transient condition on this path). */
bool nvme_status_is_retryable(const struct plx_nvme_status *status);

/* As plx_nvme_status_string, resolving the command specific codes that fabrics commands
 * (opcode 0x7f) and NVM commands share. */
const char *nvme_status_string_opc(uint8_t opc, const struct plx_nvme_status *status);

/* ---- commands (nvme_ctrlr_cmd.c) ---- */

/* Fill a Get Log Page command (lsp includes the RAE bit's neighbour bits 14:8; rae sets bit 15). */
void nvme_cmd_get_log_page(struct plx_nvme_cmd *cmd, uint8_t lid, uint8_t lsp, bool rae,
			   uint32_t nsid, uint32_t len, uint64_t offset);

/* ---- controllers (nvme_ctrlr.c) ---- */

/* Reset when a command expired twice, unless the controller is busy with init or a reset. */
void nvme_ctrlr_reset_if_requested(struct plx_nvme_ctrlr *ctrlr);

/* Read a log page of any length into buf (DMA-able), in chunks the controller can carry. */
int nvme_ctrlr_get_log_sync(struct plx_nvme_ctrlr *ctrlr, uint8_t lid, uint8_t lsp, bool rae,
			    uint32_t nsid, void *buf, uint32_t len, struct plx_nvme_cpl *cpl);

/* "<step>: <status name> (sct X sc 0xYY)" or "<step>: <errno text>" into err. */
void nvme_format_err(char *err, const char *step, int rc, const struct plx_nvme_cpl *cpl);

#endif /* POLLUX_NVME_CORE_H */
