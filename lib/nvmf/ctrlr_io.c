/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVM commands on the poll group thread of the I/O qpair. Checks run in this order:
 * namespace visible, namespace paused (the request waits in pg_ns->pending), ANA state of the
 * namespace's group through the controller's listener, reservation conflict, LBA range,
 * transfer length against the SGL. Nothing here allocates: state lives in the request.
 *
 * A request counts in pg_ns->io_outstanding from submission to nvmf_request_complete, which
 * drops the count (req->pg_ns). A fused Compare-and-Write counts once, on its SECOND.
 */
#include <errno.h>
#include <string.h>

#include "nvmf_internal.h"
#include "pollux/bdev_module.h"
#include "pollux/log.h"

/* Complete req, or both halves of a fused pair: the FIRST carries the error. */
static void io_finish(struct nvmf_request *req, uint8_t sct, uint8_t sc)
{
	struct nvmf_request *first = req->first_fused;

	if (first == NULL) {
		nvmf_request_set_status(req, sct, sc);
		nvmf_request_complete(req);
		return;
	}
	req->first_fused = NULL;
	nvmf_request_set_status(first, sct, sc);
	if (sct != PLX_NVME_SCT_GENERIC || sc != PLX_NVME_SC_SUCCESS) {
		nvmf_request_set_status(req, PLX_NVME_SCT_GENERIC,
					PLX_NVME_SC_ABORTED_FAILED_FUSED);
	}
	nvmf_request_complete(first);
	nvmf_request_complete(req);
}

static inline uint64_t cmd_slba(const struct plx_nvme_cmd *cmd)
{
	return (uint64_t)cmd->cdw11 << 32 | cmd->cdw10;
}

static inline uint32_t cmd_nlb(const struct plx_nvme_cmd *cmd)
{
	return (cmd->cdw12 & 0xffff) + 1u;
}

static void io_stat_count(struct nvmf_request *req, uint8_t opc, uint64_t bytes)
{
	struct nvmf_io_stat *st = &req->qpair->io_stat;

	/* Single writer (this thread); relaxed stores let the controller thread read. */
	if (opc == PLX_NVME_OPC_READ) {
		__atomic_store_n(&st->read_cmds, st->read_cmds + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&st->bytes_read, st->bytes_read + bytes, __ATOMIC_RELAXED);
	} else if (opc == PLX_NVME_OPC_WRITE) {
		__atomic_store_n(&st->write_cmds, st->write_cmds + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&st->bytes_written, st->bytes_written + bytes, __ATOMIC_RELAXED);
	}
}

static void io_done(struct plx_bdev_io *bdev_io, bool success, void *cb_arg)
{
	struct nvmf_request *req = cb_arg;
	enum plx_bdev_io_status status =
	    success ? PLX_BDEV_IO_STATUS_SUCCESS : plx_bdev_io_get_status(bdev_io);

	plx_bdev_free_io(bdev_io);
	switch (status) {
	case PLX_BDEV_IO_STATUS_SUCCESS:
		if (req->pg_ns != NULL) {
			io_stat_count(req, req->cmd->opc,
				      (uint64_t)cmd_nlb(req->cmd) *
					  plx_bdev_get_block_size(req->pg_ns->ns->bdev));
		}
		io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_SUCCESS);
		return;
	case PLX_BDEV_IO_STATUS_MISCOMPARE:
		io_finish(req, PLX_NVME_SCT_MEDIA_ERROR, PLX_NVME_SC_COMPARE_FAILURE);
		return;
	case PLX_BDEV_IO_STATUS_ABORTED:
		io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_ABORTED_BY_REQUEST);
		return;
	default:
		io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INTERNAL_DEVICE_ERROR);
		return;
	}
}

static void io_submit_retry(void *arg)
{
	struct nvmf_request *req = arg;

	nvmf_ctrlr_io_submit(req, req->pg_ns);
}

/* After a submit call: 0 is done, -ENOMEM waits for a bdev_io, anything else fails req. */
static void io_submitted(struct nvmf_request *req, struct nvmf_pg_ns *pg_ns, int rc,
			 plx_bdev_io_wait_cb retry)
{
	if (plx_likely(rc == 0)) {
		return;
	}
	if (rc == -ENOMEM) {
		req->bdev_io_wait.bdev = pg_ns->ns->bdev;
		req->bdev_io_wait.cb_fn = retry;
		req->bdev_io_wait.cb_arg = req;
		rc = plx_bdev_queue_io_wait(pg_ns->ns->bdev, pg_ns->ch, &req->bdev_io_wait);
		if (rc == 0) {
			return;
		}
	}
	io_finish(req, PLX_NVME_SCT_GENERIC,
		  rc == -EINVAL ? PLX_NVME_SC_INVALID_FIELD : PLX_NVME_SC_INTERNAL_DEVICE_ERROR);
}

/* ---- Dataset Management: one unmap per range, one after another ---- */

/*
 * The range index being worked on lives in rsp->cdw0, which the command returns as 0: the
 * request carries its own state and nothing is allocated.
 */
static void dsm_next(struct nvmf_request *req);

static bool dsm_range(struct nvmf_request *req, uint32_t i, struct plx_nvme_dsm_range *range)
{
	size_t off = (size_t)i * sizeof(*range), copied = 0;

	for (int v = 0; v < req->iovcnt && copied < sizeof(*range); v++) {
		size_t len = req->iov[v].iov_len, n;

		if (off >= len) {
			off -= len;
			continue;
		}
		n = PLX_MIN(len - off, sizeof(*range) - copied);
		memcpy((char *)range + copied, (char *)req->iov[v].iov_base + off, n);
		copied += n;
		off = 0;
	}
	return copied == sizeof(*range);
}

static void dsm_done(struct plx_bdev_io *bdev_io, bool success, void *cb_arg)
{
	struct nvmf_request *req = cb_arg;

	plx_bdev_free_io(bdev_io);
	if (!success) {
		req->rsp->cdw0 = 0;
		io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INTERNAL_DEVICE_ERROR);
		return;
	}
	req->rsp->cdw0++;
	dsm_next(req);
}

static void dsm_retry(void *arg)
{
	dsm_next(arg);
}

static void dsm_next(struct nvmf_request *req)
{
	struct nvmf_pg_ns *pg_ns = req->pg_ns;
	uint32_t nr = (req->cmd->cdw10 & 0xff) + 1u;
	struct plx_nvme_dsm_range range;
	int rc;

	for (; req->rsp->cdw0 < nr; req->rsp->cdw0++) {
		dsm_range(req, req->rsp->cdw0, &range);
		if (range.length == 0) {
			continue;
		}
		rc = plx_bdev_unmap_blocks(pg_ns->ns->desc, pg_ns->ch, range.starting_lba,
					   range.length, dsm_done, req);
		if (rc != 0) {
			if (rc != -ENOMEM) {
				req->rsp->cdw0 = 0;
			}
			io_submitted(req, pg_ns, rc, dsm_retry);
		}
		return;
	}
	req->rsp->cdw0 = 0;
	io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_SUCCESS);
}

static void dsm_start(struct nvmf_request *req, struct nvmf_pg_ns *pg_ns, uint64_t num_blocks)
{
	uint32_t nr = (req->cmd->cdw10 & 0xff) + 1u;
	struct plx_nvme_dsm_range range;

	if ((req->cmd->cdw11 & PLX_NVME_DSM_ATTR_DEALLOCATE) == 0 ||
	    !plx_bdev_io_type_supported(pg_ns->ns->bdev, PLX_BDEV_IO_TYPE_UNMAP)) {
		/* Deallocation is advisory; other attributes are hints. */
		io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_SUCCESS);
		return;
	}
	if (req->length < nr * sizeof(range)) {
		io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_DATA_SGL_LENGTH_INVALID);
		return;
	}
	for (uint32_t i = 0; i < nr; i++) {
		if (!dsm_range(req, i, &range)) {
			io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_DATA_SGL_LENGTH_INVALID);
			return;
		}
		if (range.length != 0 && (range.starting_lba >= num_blocks ||
					  range.length > num_blocks - range.starting_lba)) {
			io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_LBA_OUT_OF_RANGE);
			return;
		}
	}
	req->rsp->cdw0 = 0;
	dsm_next(req);
}

/* ---- Compare and Write ---- */

static void caw_submit(struct nvmf_request *req, struct nvmf_pg_ns *pg_ns, uint64_t slba,
		       uint32_t nlb, uint64_t bytes)
{
	struct nvmf_request *first = req->first_fused;
	const struct plx_nvme_cmd *fc = first->cmd;
	int rc;

	if (fc->nsid != req->cmd->nsid || cmd_slba(fc) != slba || cmd_nlb(fc) != nlb) {
		io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
		return;
	}
	if (first->length < bytes) {
		io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_DATA_SGL_LENGTH_INVALID);
		return;
	}
	rc = plx_bdev_comparev_and_writev_blocks(pg_ns->ns->desc, pg_ns->ch, first->iov,
						 first->iovcnt, req->iov, req->iovcnt, slba, nlb,
						 io_done, req);
	io_submitted(req, pg_ns, rc, io_submit_retry);
}

/* ---- submission ---- */

void nvmf_ctrlr_io_submit(struct nvmf_request *req, struct nvmf_pg_ns *pg_ns)
{
	const struct plx_nvme_cmd *cmd = req->cmd;
	struct nvmf_ns *ns = pg_ns->ns;
	struct plx_bdev_desc *desc = ns->desc;
	uint64_t num_blocks = plx_bdev_get_num_blocks(ns->bdev);
	uint64_t slba = cmd_slba(cmd), bytes;
	uint32_t nlb = cmd_nlb(cmd);
	int rc;

	if (req->pg_ns == NULL) {
		req->pg_ns = pg_ns;
		pg_ns->io_outstanding++;
	}
	switch (cmd->opc) {
	case PLX_NVME_OPC_READ:
	case PLX_NVME_OPC_WRITE:
	case PLX_NVME_OPC_COMPARE:
	case PLX_NVME_OPC_WRITE_ZEROES:
		if (plx_unlikely(slba >= num_blocks || nlb > num_blocks - slba)) {
			io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_LBA_OUT_OF_RANGE);
			return;
		}
		break;
	case PLX_NVME_OPC_FLUSH:
		if (!plx_bdev_io_type_supported(ns->bdev, PLX_BDEV_IO_TYPE_FLUSH)) {
			io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_SUCCESS);
			return;
		}
		rc = plx_bdev_flush_blocks(desc, pg_ns->ch, 0, num_blocks, io_done, req);
		io_submitted(req, pg_ns, rc, io_submit_retry);
		return;
	case PLX_NVME_OPC_DATASET_MANAGEMENT:
		dsm_start(req, pg_ns, num_blocks);
		return;
	default:
		io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_OPCODE);
		return;
	}
	if (cmd->opc == PLX_NVME_OPC_WRITE_ZEROES) {
		rc = plx_bdev_write_zeroes_blocks(desc, pg_ns->ch, slba, nlb, io_done, req);
		io_submitted(req, pg_ns, rc, io_submit_retry);
		return;
	}
	bytes = (uint64_t)nlb * plx_bdev_get_block_size(ns->bdev);
	if (plx_unlikely(bytes > req->length)) {
		io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_DATA_SGL_LENGTH_INVALID);
		return;
	}
	switch (cmd->opc) {
	case PLX_NVME_OPC_READ:
		rc = plx_bdev_readv_blocks(desc, pg_ns->ch, req->iov, req->iovcnt, slba, nlb,
					   io_done, req);
		break;
	case PLX_NVME_OPC_WRITE:
		if (req->first_fused != NULL) {
			caw_submit(req, pg_ns, slba, nlb, bytes);
			return;
		}
		rc = plx_bdev_writev_blocks(desc, pg_ns->ch, req->iov, req->iovcnt, slba, nlb,
					    io_done, req);
		break;
	default: /* compare */
		rc = plx_bdev_comparev_blocks(desc, pg_ns->ch, req->iov, req->iovcnt, slba, nlb,
					      io_done, req);
		break;
	}
	io_submitted(req, pg_ns, rc, io_submit_retry);
}

static bool is_reservation_cmd(uint8_t opc)
{
	return opc == PLX_NVME_OPC_RESERVATION_REGISTER || opc == PLX_NVME_OPC_RESERVATION_REPORT ||
	       opc == PLX_NVME_OPC_RESERVATION_ACQUIRE || opc == PLX_NVME_OPC_RESERVATION_RELEASE;
}

/* Path-related status for an ANA state that forbids I/O; 0xff when I/O may go on. */
static uint8_t ana_path_status(enum plx_nvme_ana_state state)
{
	switch (state) {
	case PLX_NVME_ANA_INACCESSIBLE_STATE:
		return PLX_NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE;
	case PLX_NVME_ANA_PERSISTENT_LOSS_STATE:
		return PLX_NVME_SC_ASYMMETRIC_ACCESS_PERSISTENT_LOSS;
	case PLX_NVME_ANA_CHANGE_STATE:
		return PLX_NVME_SC_ASYMMETRIC_ACCESS_TRANSITION;
	default:
		return 0xff;
	}
}

static bool resv_allows(struct nvmf_request *req, struct nvmf_pg_ns *pg_ns)
{
	const uint8_t *hostid = req->qpair->ctrlr->hostid;

	if (plx_likely(pg_ns->rtype == PLX_NVME_RESV_NONE)) {
		return true;
	}
	if (req->first_fused != NULL &&
	    !nvmf_ns_reservation_allows(pg_ns, hostid, req->first_fused->cmd->opc)) {
		return false;
	}
	return nvmf_ns_reservation_allows(pg_ns, hostid, req->cmd->opc);
}

void nvmf_ctrlr_process_io_cmd(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;
	struct nvmf_ctrlr *ctrlr = qpair->ctrlr;
	struct nvmf_pg_ns *pg_ns;
	uint8_t path_sc;

	if (plx_unlikely(!nvmf_qpair_is_active(qpair))) {
		io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_ABORTED_SQ_DELETION);
		return;
	}
	pg_ns = nvmf_pg_get_ns(nvmf_pg_get_sgroup(qpair->group, ctrlr->subsys), req->cmd->nsid);
	if (plx_unlikely(pg_ns == NULL || pg_ns->state == NVMF_PG_NS_INACTIVE ||
			 (pg_ns->ns->no_auto_visible &&
			  !plx_bit_array_get(ctrlr->visible_ns, req->cmd->nsid - 1)))) {
		io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
		return;
	}
	if (plx_unlikely(pg_ns->state == NVMF_PG_NS_PAUSED)) {
		/* Resubmitted through nvmf_ctrlr_process_io_cmd when the namespace resumes. */
		TAILQ_INSERT_TAIL(&pg_ns->pending, req, pending_link);
		return;
	}
	path_sc = ana_path_status(nvmf_ctrlr_get_ana_state(ctrlr, pg_ns->ns->anagrpid));
	if (plx_unlikely(path_sc != 0xff)) {
		io_finish(req, PLX_NVME_SCT_PATH, path_sc);
		return;
	}
	if (plx_unlikely(is_reservation_cmd(req->cmd->opc))) {
		req->pg_ns = pg_ns;
		pg_ns->io_outstanding++;
		nvmf_ns_reservation_request(req, pg_ns);
		return;
	}
	if (plx_unlikely(!resv_allows(req, pg_ns))) {
		io_finish(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_RESERVATION_CONFLICT);
		return;
	}
	nvmf_ctrlr_io_submit(req, pg_ns);
}
