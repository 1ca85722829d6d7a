/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCIe queue pairs: submission and completion rings in DMA memory, one tracker per usable
 * slot (entries - 1; its index is the cid) with a preallocated PRP list page, completions
 * found by their phase bit.
 *
 * Doorbells are the cost that matters: an MMIO write is an uncached bus transaction. With
 * delay_cmd_submit, submit only moves the tail; process_completions rings the SQ doorbell
 * once for everything queued since (before reaping, and again after the callbacks if they
 * queued more), and the CQ head doorbell once per batch of reaped entries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/log.h"
#include "pollux/util.h"
#include "nvme_pcie_internal.h"

#define SQE_SIZE	 sizeof(struct plx_nvme_cmd)
#define CQE_SIZE	 sizeof(struct plx_nvme_cpl)
#define ENTRIES_PER_PAGE (PCIE_PAGE_SIZE / SQE_SIZE)
#define FUSE_FIRST	 1

static inline void write_barrier(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("sfence" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static bool is_admin(const struct pcie_qpair *pq)
{
	return pq->qpair.id == 0;
}

static int alloc_rings(struct pcie_ctrlr *pc, struct pcie_qpair *pq)
{
	int rc;

	rc = pcie_dma_alloc(&pc->dev, pq->entries * SQE_SIZE, true, &pq->sq_mem);
	if (rc == 0) {
		rc = pcie_dma_alloc(&pc->dev, pq->entries * CQE_SIZE, true, &pq->cq_mem);
	}
	if (rc != 0) {
		pcie_dma_release(&pc->dev, &pq->sq_mem);
	}
	return rc;
}

static int alloc_trackers(struct pcie_ctrlr *pc, struct pcie_qpair *pq)
{
	uint32_t n = pq->entries - 1, per = is_admin(pq) ? 2 : 1, i;
	struct pcie_tracker *t;
	char *page;
	int rc;

	pq->trackers = calloc(n, sizeof(*pq->trackers));
	pq->free_trackers = calloc(n, sizeof(*pq->free_trackers));
	if (pq->trackers == NULL || pq->free_trackers == NULL) {
		return -ENOMEM;
	}
	rc = pcie_dma_alloc(&pc->dev, (size_t)n * per * PCIE_PAGE_SIZE, false, &pq->pages);
	if (rc != 0) {
		return rc;
	}
	for (i = 0; i < n; i++) {
		t = &pq->trackers[i];
		page = (char *)pq->pages.vaddr + (size_t)i * per * PCIE_PAGE_SIZE;
		t->prp_list = (uint64_t *)page;
		t->prp_list_bus = pcie_vtophys(&pc->dev, page, PCIE_PAGE_SIZE);
		if (per == 2) {
			t->bounce = page + PCIE_PAGE_SIZE;
			t->bounce_bus = pcie_vtophys(&pc->dev, t->bounce, PCIE_PAGE_SIZE);
		}
		if (t->prp_list_bus == PCIE_BUS_ERROR ||
		    (per == 2 && t->bounce_bus == PCIE_BUS_ERROR)) {
			return -EFAULT;
		}
		pq->free_trackers[i] = (uint16_t)(n - 1 - i);
	}
	pq->num_free = n;
	return 0;
}

int pcie_qpair_alloc(struct pcie_ctrlr *pc, struct pcie_qpair *pq, uint16_t qid, uint32_t entries)
{
	size_t db = PLX_NVME_REG_DOORBELL + (size_t)(2 * qid + 1) * pc->doorbell_stride;
	int rc;

	if (db + sizeof(uint32_t) > pc->dev.bar_len) {
		PLX_ERRLOG("%s: queue %u's doorbell is beyond the mapped BAR0\n", pc->dev.bdf, qid);
		return -EINVAL;
	}
	pq->pctrlr = pc;
	pq->qpair.id = qid;
	pq->entries = entries;
	rc = alloc_rings(pc, pq);
	if (rc == -ENOMEM && pc->dev.driver == PCIE_DRIVER_UIO && entries > ENTRIES_PER_PAGE) {
		/* No physically contiguous pages (no hugepages): one page per queue. */
		PLX_NOTICELOG("%s: queue %u limited to %u entries (reserve hugepages for more)\n",
			      pc->dev.bdf, qid, (unsigned)ENTRIES_PER_PAGE);
		pq->entries = ENTRIES_PER_PAGE;
		rc = alloc_rings(pc, pq);
	}
	if (rc == 0) {
		rc = alloc_trackers(pc, pq);
	}
	if (rc != 0) {
		PLX_ERRLOG("%s: queue %u: DMA memory for %u entries: %s\n", pc->dev.bdf, qid,
			   pq->entries, strerror(-rc));
		pcie_qpair_free(pq);
		return rc;
	}
	pq->sq = pq->sq_mem.vaddr;
	pq->cq = pq->cq_mem.vaddr;
	pq->sq_db = (volatile uint32_t *)(pc->dev.bar + PLX_NVME_REG_DOORBELL +
					  (size_t)(2 * qid) * pc->doorbell_stride);
	pq->cq_db = (volatile uint32_t *)(pc->dev.bar + db);
	pcie_qpair_reset_rings(pq);
	return 0;
}

void pcie_qpair_free(struct pcie_qpair *pq)
{
	struct pcie_dev *dev = &pq->pctrlr->dev;

	pcie_dma_release(dev, &pq->pages);
	pcie_dma_release(dev, &pq->cq_mem);
	pcie_dma_release(dev, &pq->sq_mem);
	free(pq->trackers);
	free(pq->free_trackers);
	pq->trackers = NULL;
	pq->free_trackers = NULL;
}

void pcie_qpair_reset_rings(struct pcie_qpair *pq)
{
	memset(pq->sq_mem.vaddr, 0, pq->sq_mem.len);
	memset(pq->cq_mem.vaddr, 0, pq->cq_mem.len);
	pq->sq_tail = 0;
	pq->cq_head = 0;
	pq->phase = 1;
	pq->sq_pending = false;
}

static void ring_sq(struct pcie_qpair *pq)
{
	write_barrier();
	*pq->sq_db = pq->sq_tail;
	pq->sq_pending = false;
}

/* ---- PRPs ---- */

struct prp_builder {
	struct pcie_dev *dev;
	struct pcie_tracker *trk;
	uint64_t prp1;
	uint32_t n;    /* pages so far */
	bool open_end; /* the last page was not filled to its end */
};

/* Append the pages of [va, va + len): PRP rules want every page but the first to start at
 * offset 0 and every page but the last to run to its end. */
static int prp_add(struct prp_builder *b, uintptr_t va, uint32_t len)
{
	uint32_t chunk;
	uint64_t bus;

	while (len > 0) {
		if (b->n > 0 && (b->open_end || (va & (PCIE_PAGE_SIZE - 1)) != 0)) {
			PLX_ERRLOG("payload piece at %p breaks PRP page alignment\n", (void *)va);
			return -EINVAL;
		}
		bus = pcie_vtophys(b->dev, (void *)va, len);
		if (bus == PCIE_BUS_ERROR) {
			PLX_ERRLOG("no DMA address for %p (use plx_dma_malloc buffers)\n",
				   (void *)va);
			return -EFAULT;
		}
		if (b->n == 0) {
			b->prp1 = bus;
		} else if (b->n - 1 < PCIE_PRP_PER_PAGE) {
			b->trk->prp_list[b->n - 1] = bus;
		} else {
			PLX_ERRLOG("payload larger than one PRP list\n");
			return -EINVAL;
		}
		b->n++;
		chunk = PLX_MIN(len, PCIE_PAGE_SIZE - (uint32_t)(va & (PCIE_PAGE_SIZE - 1)));
		va += chunk;
		len -= chunk;
		b->open_end = (va & (PCIE_PAGE_SIZE - 1)) != 0;
	}
	return 0;
}

static int prp_add_sgl(struct prp_builder *b, struct nvme_request *req)
{
	uint32_t left = req->payload_size, len;
	void *addr;
	int rc;

	req->payload.reset_sgl(req->payload.sgl_arg, 0);
	while (left > 0) {
		rc = req->payload.next_sge(req->payload.sgl_arg, &addr, &len);
		if (rc != 0) {
			return rc;
		}
		if (len == 0) {
			return -EINVAL;
		}
		len = PLX_MIN(len, left);
		rc = prp_add(b, (uintptr_t)addr, len);
		if (rc != 0) {
			return rc;
		}
		left -= len;
	}
	return 0;
}

static enum plx_nvme_data_transfer req_xfer(const struct nvme_request *req)
{
	return req->xfer != PLX_NVME_DATA_NONE ? req->xfer
					       : plx_nvme_opc_get_data_transfer(req->cmd.opc);
}

static int build_payload(struct pcie_qpair *pq, struct pcie_tracker *trk, struct nvme_request *req,
			 struct plx_nvme_cmd *cmd)
{
	struct prp_builder b = {.dev = &pq->pctrlr->dev, .trk = trk};
	int rc;

	trk->bounced = false;
	if (req->payload.type == NVME_PAYLOAD_NONE || req->payload_size == 0) {
		return 0; /* dptr as the caller set it (queue creation) */
	}
	cmd->psdt = 0;
	if (trk->bounce != NULL && req->payload.type == NVME_PAYLOAD_CONTIG &&
	    req->payload_size <= PCIE_PAGE_SIZE) {
		/* Admin buffers may be any memory: copy through a page we own. */
		if (req_xfer(req) & PLX_NVME_DATA_HOST_TO_CONTROLLER) {
			memcpy(trk->bounce, req->payload.buf, req->payload_size);
		} else {
			memset(trk->bounce, 0, req->payload_size);
		}
		trk->bounced = true;
		cmd->dptr.prp.prp1 = trk->bounce_bus;
		cmd->dptr.prp.prp2 = 0;
		return 0;
	}
	if (req->payload.type == NVME_PAYLOAD_CONTIG) {
		rc = prp_add(&b, (uintptr_t)req->payload.buf, req->payload_size);
	} else {
		rc = prp_add_sgl(&b, req);
	}
	if (rc != 0) {
		return rc;
	}
	cmd->dptr.prp.prp1 = b.prp1;
	if (b.n == 1) {
		cmd->dptr.prp.prp2 = 0;
	} else if (b.n == 2) {
		cmd->dptr.prp.prp2 = trk->prp_list[0];
	} else {
		cmd->dptr.prp.prp2 = trk->prp_list_bus;
	}
	return 0;
}

/* ---- submit and complete ---- */

int pcie_qpair_submit_request(struct plx_nvme_qpair *qpair, struct nvme_request *req)
{
	struct pcie_qpair *pq = pcie_qpair(qpair);
	struct plx_nvme_cmd *cmd;
	struct pcie_tracker *trk;
	uint16_t cid;
	int rc;

	if (plx_unlikely(qpair->state == NVME_QPAIR_FAILED)) {
		return -ENXIO;
	}
	if (plx_unlikely(pq->num_free == 0)) {
		return -EAGAIN;
	}
	cid = pq->free_trackers[--pq->num_free];
	trk = &pq->trackers[cid];
	cmd = &pq->sq[pq->sq_tail];
	*cmd = req->cmd;
	cmd->cid = cid;
	rc = build_payload(pq, trk, req, cmd);
	if (plx_unlikely(rc != 0)) {
		pq->free_trackers[pq->num_free++] = cid;
		return rc;
	}
	trk->req = req;
	req->transport_cid = cid;
	if (++pq->sq_tail == pq->entries) {
		pq->sq_tail = 0;
	}
	/* The first command of a fused pair waits for its partner: both go in one doorbell. */
	if ((!qpair->delay_cmd_submit || pq->pctrlr->ctrlr.opts.disable_sq_doorbell_batching) &&
	    cmd->fuse != FUSE_FIRST) {
		ring_sq(pq);
	} else {
		pq->sq_pending = true;
	}
	return 0;
}

static void complete_tracker(struct pcie_qpair *pq, struct pcie_tracker *trk,
			     const struct plx_nvme_cpl *cpl)
{
	struct nvme_request *req = trk->req;

	if (trk->bounced && (req_xfer(req) & PLX_NVME_DATA_CONTROLLER_TO_HOST)) {
		memcpy(req->payload.buf, trk->bounce, req->payload_size);
	}
	trk->req = NULL;
	pq->free_trackers[pq->num_free++] = (uint16_t)(trk - pq->trackers);
	nvme_qpair_complete_request(&pq->qpair, req, cpl);
}

int32_t pcie_qpair_process_completions(struct plx_nvme_qpair *qpair, uint32_t max)
{
	struct pcie_qpair *pq = pcie_qpair(qpair);
	volatile struct plx_nvme_cpl *vc;
	struct plx_nvme_cpl cpl;
	uint32_t n = 0;

	if (plx_unlikely(qpair->state == NVME_QPAIR_FAILED)) {
		return -ENXIO;
	}
	if (pq->sq_pending) {
		ring_sq(pq);
	}
	while (max == 0 || n < max) {
		vc = &pq->cq[pq->cq_head];
		if ((vc->status_raw & 1) != pq->phase) {
			break;
		}
		/* The rest of the entry is valid once the phase bit says so. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		cpl.cdw0 = vc->cdw0;
		cpl.cdw1 = vc->cdw1;
		cpl.sqhd = vc->sqhd;
		cpl.sqid = vc->sqid;
		cpl.cid = vc->cid;
		cpl.status_raw = vc->status_raw;
		if (++pq->cq_head == pq->entries) {
			pq->cq_head = 0;
			pq->phase ^= 1;
		}
		n++;
		if (plx_unlikely(cpl.cid >= pq->entries - 1 || pq->trackers[cpl.cid].req == NULL)) {
			PLX_ERRLOG("%s: queue %u: completion for unknown cid %u\n",
				   pq->pctrlr->dev.bdf, qpair->id, cpl.cid);
			continue;
		}
		complete_tracker(pq, &pq->trackers[cpl.cid], &cpl);
	}
	if (n > 0) {
		*pq->cq_db = pq->cq_head;
	}
	if (pq->sq_pending) {
		ring_sq(pq);
	}
	return (int32_t)n;
}

void pcie_qpair_abort_reqs(struct plx_nvme_qpair *qpair, bool dnr)
{
	struct pcie_qpair *pq = pcie_qpair(qpair);
	struct plx_nvme_cpl cpl;
	uint32_t i;

	for (i = 0; i + 1 < pq->entries && pq->trackers != NULL; i++) {
		if (pq->trackers[i].req == NULL) {
			continue;
		}
		memset(&cpl, 0, sizeof(cpl));
		cpl.cid = (uint16_t)i;
		cpl.sqid = qpair->id;
		cpl.status.sct = PLX_NVME_SCT_GENERIC;
		cpl.status.sc = PLX_NVME_SC_ABORTED_SQ_DELETION;
		cpl.status.dnr = dnr;
		pq->trackers[i].bounced = false;
		complete_tracker(pq, &pq->trackers[i], &cpl);
	}
}

/* ---- creating and deleting I/O queues ---- */

static int admin_queue_cmd(struct plx_nvme_ctrlr *ctrlr, uint8_t opc, uint32_t cdw10,
			   uint32_t cdw11, uint64_t prp1)
{
	struct plx_nvme_cmd cmd;
	struct plx_nvme_cpl cpl;
	int rc;

	memset(&cmd, 0, sizeof(cmd));
	memset(&cpl, 0, sizeof(cpl));
	cmd.opc = opc;
	cmd.cdw10 = cdw10;
	cmd.cdw11 = cdw11;
	cmd.dptr.prp.prp1 = prp1;
	rc = nvme_ctrlr_cmd_admin_sync(ctrlr, &cmd, NULL, 0, &cpl);
	if (rc == 0 && plx_nvme_cpl_is_error(&cpl)) {
		rc = -EIO;
	}
	if (rc != 0) {
		PLX_ERRLOG("%s: admin opcode 0x%02x (cdw10 0x%x) failed: %s (sct %u sc 0x%x)\n",
			   pcie_ctrlr(ctrlr)->dev.bdf, opc, cdw10, strerror(-rc), cpl.status.sct,
			   cpl.status.sc);
	}
	return rc;
}

int pcie_qpair_connect(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair)
{
	struct pcie_qpair *pq = pcie_qpair(qpair);
	uint32_t qsize = (uint32_t)(pq->entries - 1) << 16 | qpair->id;
	int rc;

	pcie_qpair_reset_rings(pq);
	if (qpair->id == 0) {
		return 0; /* the admin queue is programmed while the controller is disabled */
	}
	/* Physically contiguous, interrupts off: this driver polls. */
	rc = admin_queue_cmd(ctrlr, PLX_NVME_OPC_CREATE_IO_CQ, qsize, 1, pq->cq_mem.bus);
	if (rc != 0) {
		return rc;
	}
	rc = admin_queue_cmd(ctrlr, PLX_NVME_OPC_CREATE_IO_SQ, qsize, (uint32_t)qpair->id << 16 | 1,
			     pq->sq_mem.bus);
	if (rc != 0) {
		admin_queue_cmd(ctrlr, PLX_NVME_OPC_DELETE_IO_CQ, qpair->id, 0, 0);
		return rc;
	}
	pq->created = true;
	return 0;
}

void pcie_qpair_disconnect(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair)
{
	struct pcie_qpair *pq = pcie_qpair(qpair);

	if (qpair->id != 0 && pq->created && ctrlr->state != NVME_CTRLR_FAILED) {
		/* Deleting the SQ makes the device complete what it still holds, aborted. */
		if (admin_queue_cmd(ctrlr, PLX_NVME_OPC_DELETE_IO_SQ, qpair->id, 0, 0) == 0) {
			pcie_qpair_process_completions(qpair, 0);
			admin_queue_cmd(ctrlr, PLX_NVME_OPC_DELETE_IO_CQ, qpair->id, 0, 0);
		}
	}
	pq->created = false;
	pcie_qpair_abort_reqs(qpair, true);
	pcie_qpair_reset_rings(pq);
}
