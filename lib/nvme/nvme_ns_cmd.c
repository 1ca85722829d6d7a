/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVM command set commands on a namespace, and raw I/O passthrough. Each builds one SQE in a
 * request from the qpair's pool (fused Compare and Write: two) and submits it; data the API
 * says is copied goes to the request's own scratch area, never to a fresh allocation.
 */
#include <errno.h>

#include "nvme_core.h"

#define NVME_IO_FLAGS_MASK (PLX_NVME_IO_FLAGS_FUA | PLX_NVME_IO_FLAGS_LIMITED_RETRY)
#define NVME_MAX_NLB	   65536u /* NLB is a 16-bit 0's based count */

uint32_t plx_nvme_ns_get_id(const struct plx_nvme_ns *ns)
{
	return ns->id;
}

uint32_t plx_nvme_ns_get_sector_size(const struct plx_nvme_ns *ns)
{
	return ns->sector_size;
}

uint64_t plx_nvme_ns_get_num_sectors(const struct plx_nvme_ns *ns)
{
	return ns->num_sectors;
}

const struct plx_nvme_ns_data *plx_nvme_ns_get_data(const struct plx_nvme_ns *ns)
{
	return &ns->data;
}

uint32_t plx_nvme_ns_get_ana_group_id(const struct plx_nvme_ns *ns)
{
	return ns->ana_group_id;
}

enum plx_nvme_ana_state plx_nvme_ns_get_ana_state(const struct plx_nvme_ns *ns)
{
	return ns->ana_state;
}

/* A request for an LBA-range command (SLBA in cdw10/11, NLB and flags in cdw12), or NULL with
 * *rc set. bytes_per_lba 0: the command moves no data. */
static inline struct nvme_request *nvme_ns_lba_request(struct plx_nvme_ns *ns,
						       struct plx_nvme_qpair *qpair, uint8_t opc,
						       uint64_t lba, uint32_t lba_count,
						       uint32_t io_flags, bool moves_data,
						       plx_nvme_cmd_cb cb_fn, void *cb_arg, int *rc)
{
	struct nvme_request *req;
	uint64_t bytes = (uint64_t)lba_count * ns->sector_size;

	if (plx_unlikely(lba_count == 0 || lba_count > NVME_MAX_NLB ||
			 (io_flags & ~NVME_IO_FLAGS_MASK) != 0 ||
			 (moves_data && bytes > qpair->ctrlr->max_xfer_size))) {
		*rc = -EINVAL;
		return NULL;
	}
	req = nvme_request_get(qpair, cb_fn, cb_arg);
	if (plx_unlikely(req == NULL)) {
		*rc = -ENOMEM;
		return NULL;
	}
	req->cmd.opc = opc;
	req->cmd.nsid = ns->id;
	req->cmd.cdw10 = (uint32_t)lba;
	req->cmd.cdw11 = (uint32_t)(lba >> 32);
	req->cmd.cdw12 = (lba_count - 1) | io_flags;
	if (moves_data) {
		req->xfer = plx_nvme_opc_get_data_transfer(opc);
		req->payload_size = (uint32_t)bytes;
	}
	return req;
}

static inline int nvme_ns_rw_contig(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair,
				    uint8_t opc, void *buf, uint64_t lba, uint32_t lba_count,
				    plx_nvme_cmd_cb cb_fn, void *cb_arg, uint32_t io_flags)
{
	int rc;
	struct nvme_request *req =
	    nvme_ns_lba_request(ns, qpair, opc, lba, lba_count, io_flags, true, cb_fn, cb_arg, &rc);

	if (plx_unlikely(req == NULL)) {
		return rc;
	}
	req->payload.type = NVME_PAYLOAD_CONTIG;
	req->payload.buf = buf;
	return nvme_qpair_submit_request(qpair, req);
}

static int nvme_ns_rw_sgl(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, uint8_t opc,
			  uint64_t lba, uint32_t lba_count, plx_nvme_cmd_cb cb_fn, void *cb_arg,
			  uint32_t io_flags, plx_nvme_req_reset_sgl_cb reset_sgl,
			  plx_nvme_req_next_sge_cb next_sge)
{
	int rc;
	struct nvme_request *req;

	if (reset_sgl == NULL || next_sge == NULL) {
		return -EINVAL;
	}
	req =
	    nvme_ns_lba_request(ns, qpair, opc, lba, lba_count, io_flags, true, cb_fn, cb_arg, &rc);
	if (plx_unlikely(req == NULL)) {
		return rc;
	}
	req->payload.type = NVME_PAYLOAD_SGL;
	req->payload.reset_sgl = reset_sgl;
	req->payload.next_sge = next_sge;
	req->payload.sgl_arg = cb_arg;
	return nvme_qpair_submit_request(qpair, req);
}

int plx_nvme_ns_cmd_read(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, void *buf,
			 uint64_t lba, uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg,
			 uint32_t io_flags)
{
	return nvme_ns_rw_contig(ns, qpair, PLX_NVME_OPC_READ, buf, lba, lba_count, cb, cb_arg,
				 io_flags);
}

int plx_nvme_ns_cmd_write(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, void *buf,
			  uint64_t lba, uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg,
			  uint32_t io_flags)
{
	return nvme_ns_rw_contig(ns, qpair, PLX_NVME_OPC_WRITE, buf, lba, lba_count, cb, cb_arg,
				 io_flags);
}

int plx_nvme_ns_cmd_compare(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, void *buf,
			    uint64_t lba, uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg,
			    uint32_t io_flags)
{
	return nvme_ns_rw_contig(ns, qpair, PLX_NVME_OPC_COMPARE, buf, lba, lba_count, cb, cb_arg,
				 io_flags);
}

int plx_nvme_ns_cmd_readv(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, uint64_t lba,
			  uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags,
			  plx_nvme_req_reset_sgl_cb reset_sgl, plx_nvme_req_next_sge_cb next_sge)
{
	return nvme_ns_rw_sgl(ns, qpair, PLX_NVME_OPC_READ, lba, lba_count, cb, cb_arg, io_flags,
			      reset_sgl, next_sge);
}

int plx_nvme_ns_cmd_writev(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, uint64_t lba,
			   uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags,
			   plx_nvme_req_reset_sgl_cb reset_sgl, plx_nvme_req_next_sge_cb next_sge)
{
	return nvme_ns_rw_sgl(ns, qpair, PLX_NVME_OPC_WRITE, lba, lba_count, cb, cb_arg, io_flags,
			      reset_sgl, next_sge);
}

int plx_nvme_ns_cmd_write_zeroes(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, uint64_t lba,
				 uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg,
				 uint32_t io_flags)
{
	int rc;
	struct nvme_request *req = nvme_ns_lba_request(ns, qpair, PLX_NVME_OPC_WRITE_ZEROES, lba,
						       lba_count, io_flags, false, cb, cb_arg, &rc);

	if (req == NULL) {
		return rc;
	}
	return nvme_qpair_submit_request(qpair, req);
}

int plx_nvme_ns_cmd_flush(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, plx_nvme_cmd_cb cb,
			  void *cb_arg)
{
	struct nvme_request *req = nvme_request_get(qpair, cb, cb_arg);

	if (req == NULL) {
		return -ENOMEM;
	}
	req->cmd.opc = PLX_NVME_OPC_FLUSH;
	req->cmd.nsid = ns->id;
	return nvme_qpair_submit_request(qpair, req);
}

/* Attach data the request owns (a copy of the caller's) as its host-to-controller payload. */
static void nvme_request_own_data(struct plx_nvme_qpair *qpair, struct nvme_request *req,
				  void *copy, const void *data, uint32_t len)
{
	memcpy(copy, data, len);
	req->payload.type = NVME_PAYLOAD_CONTIG;
	req->payload.buf = copy;
	req->payload_size = len;
	req->xfer = PLX_NVME_DATA_HOST_TO_CONTROLLER;
	(void)qpair;
}

int plx_nvme_ns_cmd_dataset_management(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair,
				       uint32_t attributes, const struct plx_nvme_dsm_range *ranges,
				       uint16_t num_ranges, plx_nvme_cmd_cb cb, void *cb_arg)
{
	uint32_t len = (uint32_t)num_ranges * sizeof(*ranges);
	struct nvme_request *req;
	void *copy;

	if (ranges == NULL || num_ranges == 0 || num_ranges > NVME_MAX_DSM_RANGES) {
		return -EINVAL;
	}
	req = nvme_request_get(qpair, cb, cb_arg);
	if (req == NULL) {
		return -ENOMEM;
	}
	if (len <= NVME_REQ_SCRATCH_SIZE) {
		copy = nvme_request_scratch(qpair, req);
	} else if ((copy = nvme_qpair_get_dsm_buf(qpair)) == NULL) {
		nvme_request_put(qpair, req);
		return -ENOMEM;
	}
	req->cmd.opc = PLX_NVME_OPC_DATASET_MANAGEMENT;
	req->cmd.nsid = ns->id;
	req->cmd.cdw10 = (uint32_t)num_ranges - 1;
	req->cmd.cdw11 = attributes;
	nvme_request_own_data(qpair, req, copy, ranges, len);
	return nvme_qpair_submit_request(qpair, req);
}

/*
 * A fused pair reports once: each half's completion lands in the scratch area of the half
 * still outstanding, and the second one to complete calls the user with the Compare's status
 * when it failed (the Write then reads ABORTED_FAILED_FUSED), else the Write's.
 */
struct nvme_fused_ctx {
	plx_nvme_cmd_cb cb_fn;
	void *cb_arg;
	struct nvme_fused_ctx *partner; /* valid while partner_done is false */
	struct plx_nvme_cpl partner_cpl;
	bool partner_done;
	bool is_compare;
};
static_assert(sizeof(struct nvme_fused_ctx) <= NVME_REQ_SCRATCH_SIZE, "fits the scratch area");

static void nvme_fused_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct nvme_fused_ctx *ctx = arg;
	const struct plx_nvme_cpl *cmp, *wr;
	struct plx_nvme_cpl result;

	if (!ctx->partner_done) {
		ctx->partner->partner_cpl = *cpl;
		ctx->partner->partner_done = true;
		return;
	}
	cmp = ctx->is_compare ? cpl : &ctx->partner_cpl;
	wr = ctx->is_compare ? &ctx->partner_cpl : cpl;
	/* ctx lives in a request already freed: copy out before the callback can reuse it. */
	result = plx_nvme_cpl_is_error(cmp) ? *cmp : *wr;
	ctx->cb_fn(ctx->cb_arg, &result);
}

int plx_nvme_ns_cmd_compare_and_write(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair,
				      void *compare_buf, void *write_buf, uint64_t lba,
				      uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg)
{
	struct nvme_request *cmp, *wr;
	struct nvme_fused_ctx *cmp_ctx, *wr_ctx;
	int rc;

	cmp = nvme_ns_lba_request(ns, qpair, PLX_NVME_OPC_COMPARE, lba, lba_count, 0, true, NULL,
				  NULL, &rc);
	if (cmp == NULL) {
		return rc;
	}
	wr = nvme_ns_lba_request(ns, qpair, PLX_NVME_OPC_WRITE, lba, lba_count, 0, true, NULL, NULL,
				 &rc);
	if (wr == NULL) {
		nvme_request_put(qpair, cmp);
		return rc;
	}
	cmp_ctx = nvme_request_scratch(qpair, cmp);
	wr_ctx = nvme_request_scratch(qpair, wr);
	*cmp_ctx = (struct nvme_fused_ctx){cb, cb_arg, wr_ctx, {0}, false, true};
	*wr_ctx = (struct nvme_fused_ctx){cb, cb_arg, cmp_ctx, {0}, false, false};
	cmp->cb_fn = wr->cb_fn = nvme_fused_done;
	cmp->cb_arg = cmp_ctx;
	wr->cb_arg = wr_ctx;
	cmp->cmd.fuse = PLX_NVME_FUSE_FIRST;
	wr->cmd.fuse = PLX_NVME_FUSE_SECOND;
	cmp->payload.type = wr->payload.type = NVME_PAYLOAD_CONTIG;
	cmp->payload.buf = compare_buf;
	wr->payload.buf = write_buf;
	cmp->fused_second = wr;

	rc = nvme_qpair_submit_request(qpair, cmp);
	if (rc != 0) {
		nvme_request_put(qpair, wr);
		return rc;
	}
	rc = nvme_qpair_submit_request(qpair, wr);
	if (rc != 0) {
		/* The Compare is out alone and will fail as missing its partner: report that. */
		cmp_ctx->partner_cpl.status.sc = PLX_NVME_SC_ABORTED_MISSING_FUSED;
		cmp_ctx->partner_cpl.status.dnr = 1;
		cmp_ctx->partner_done = true;
	}
	return 0;
}

/* A reservation command with data (copied into the request's scratch area). */
static int nvme_ns_resv(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, uint8_t opc,
			uint32_t cdw10, const void *data, uint32_t len, plx_nvme_cmd_cb cb,
			void *cb_arg)
{
	struct nvme_request *req = nvme_request_get(qpair, cb, cb_arg);

	if (req == NULL) {
		return -ENOMEM;
	}
	req->cmd.opc = opc;
	req->cmd.nsid = ns->id;
	req->cmd.cdw10 = cdw10;
	nvme_request_own_data(qpair, req, nvme_request_scratch(qpair, req), data, len);
	return nvme_qpair_submit_request(qpair, req);
}

int plx_nvme_ns_cmd_reservation_register(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair,
					 const struct plx_nvme_reservation_register_data *data,
					 bool ignore_key, uint8_t action, uint8_t cptpl,
					 plx_nvme_cmd_cb cb, void *cb_arg)
{
	uint32_t cdw10 =
	    (action & 7u) | ((uint32_t)ignore_key << 3) | ((uint32_t)(cptpl & 3) << 30);

	return nvme_ns_resv(ns, qpair, PLX_NVME_OPC_RESERVATION_REGISTER, cdw10, data,
			    sizeof(*data), cb, cb_arg);
}

int plx_nvme_ns_cmd_reservation_acquire(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair,
					const struct plx_nvme_reservation_acquire_data *data,
					bool ignore_key, uint8_t action, uint8_t rtype,
					plx_nvme_cmd_cb cb, void *cb_arg)
{
	uint32_t cdw10 = (action & 7u) | ((uint32_t)ignore_key << 3) | ((uint32_t)rtype << 8);

	return nvme_ns_resv(ns, qpair, PLX_NVME_OPC_RESERVATION_ACQUIRE, cdw10, data, sizeof(*data),
			    cb, cb_arg);
}

int plx_nvme_ns_cmd_reservation_release(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair,
					uint64_t crkey, bool ignore_key, uint8_t action,
					uint8_t rtype, plx_nvme_cmd_cb cb, void *cb_arg)
{
	uint32_t cdw10 = (action & 7u) | ((uint32_t)ignore_key << 3) | ((uint32_t)rtype << 8);

	return nvme_ns_resv(ns, qpair, PLX_NVME_OPC_RESERVATION_RELEASE, cdw10, &crkey,
			    sizeof(crkey), cb, cb_arg);
}

int plx_nvme_ns_cmd_reservation_report(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair,
				       void *buf, uint32_t len, bool extended, plx_nvme_cmd_cb cb,
				       void *cb_arg)
{
	struct plx_nvme_cmd cmd = {0};

	if (len < 4 || len % 4 != 0) {
		return -EINVAL;
	}
	cmd.opc = PLX_NVME_OPC_RESERVATION_REPORT;
	cmd.nsid = ns->id;
	cmd.cdw10 = len / 4 - 1;
	cmd.cdw11 = extended ? 1 : 0;
	return nvme_qpair_submit_cmd(qpair, &cmd, buf, len, cb, cb_arg);
}

int plx_nvme_ctrlr_cmd_io_raw(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair,
			      const struct plx_nvme_cmd *cmd, void *buf, uint32_t len,
			      plx_nvme_cmd_cb cb, void *cb_arg)
{
	if (qpair->ctrlr != ctrlr) {
		return -EINVAL;
	}
	return nvme_qpair_submit_cmd(qpair, cmd, buf, len, cb, cb_arg);
}
