/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe PCIe transport: a controller on this machine's PCI bus, bound to vfio-pci or
 * uio_pci_generic (scripts/setup.sh), driven through its BAR0 registers and doorbells with
 * queues in DMA memory. No interrupts: everything is polled by the queues' owners.
 *
 * Data buffers of I/O commands must come from plx_dma_malloc and stay allocated while the
 * controller is attached (see nvme_pcie_internal.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/env.h"
#include "pollux/log.h"
#include "pollux/util.h"
#include "nvme_core.h"
#include "nvme_pcie_internal.h"

#define ADMIN_ENTRIES_MIN 2
#define ADMIN_ENTRIES_MAX 4096
#define SHUTDOWN_MIN_MS	  1000
#define DISABLE_MIN_MS	  500

static const struct nvme_transport_ops g_nvme_pcie_ops;

static int pcie_get_reg_4(struct plx_nvme_ctrlr *ctrlr, uint32_t offset, uint32_t *value)
{
	struct pcie_ctrlr *pc = pcie_ctrlr(ctrlr);

	if (offset + 4 > pc->dev.bar_len) {
		return -EINVAL;
	}
	*value = pcie_reg_read4(pc, offset);
	return 0;
}

/* Two 32-bit reads: not every device model accepts 64-bit MMIO. */
static int pcie_get_reg_8(struct plx_nvme_ctrlr *ctrlr, uint32_t offset, uint64_t *value)
{
	struct pcie_ctrlr *pc = pcie_ctrlr(ctrlr);

	if (offset + 8 > pc->dev.bar_len) {
		return -EINVAL;
	}
	*value = pcie_reg_read4(pc, offset) | (uint64_t)pcie_reg_read4(pc, offset + 4) << 32;
	return 0;
}

static void write_reg_8(struct pcie_ctrlr *pc, uint32_t offset, uint64_t value)
{
	pcie_reg_write4(pc, offset, (uint32_t)value);
	pcie_reg_write4(pc, offset + 4, (uint32_t)(value >> 32));
}

/* Admin queue addresses; valid only while CC.EN is 0. */
static void program_admin_queue(struct pcie_ctrlr *pc)
{
	struct pcie_qpair *aq = pc->adminq;
	union plx_nvme_aqa aqa = {.raw = 0};

	pcie_qpair_abort_reqs(&aq->qpair, false);
	pcie_qpair_reset_rings(aq);
	aqa.bits.asqs = aq->entries - 1;
	aqa.bits.acqs = aq->entries - 1;
	pcie_reg_write4(pc, PLX_NVME_REG_AQA, aqa.raw);
	write_reg_8(pc, PLX_NVME_REG_ASQ, aq->sq_mem.bus);
	write_reg_8(pc, PLX_NVME_REG_ACQ, aq->cq_mem.bus);
}

static int pcie_set_reg_4(struct plx_nvme_ctrlr *ctrlr, uint32_t offset, uint32_t value)
{
	struct pcie_ctrlr *pc = pcie_ctrlr(ctrlr);
	union plx_nvme_cc old, new;

	if (offset + 4 > pc->dev.bar_len) {
		return -EINVAL;
	}
	if (offset == PLX_NVME_REG_CC) {
		/* Enabling (first time or after a reset) starts the admin queue from empty. */
		old.raw = pcie_reg_read4(pc, PLX_NVME_REG_CC);
		new.raw = value;
		if (new.bits.en && !old.bits.en) {
			program_admin_queue(pc);
		}
	}
	pcie_reg_write4(pc, offset, value);
	return 0;
}

static uint32_t pcie_get_max_xfer_size(struct plx_nvme_ctrlr *ctrlr)
{
	(void)ctrlr;
	return PCIE_MAX_XFER_SIZE;
}

static uint64_t cap_timeout_ms(const struct pcie_ctrlr *pc, uint64_t min_ms)
{
	return PLX_MAX((uint64_t)pc->ctrlr.cap.bits.to * 500, min_ms);
}

/* Poll CSTS until (csts & mask) == want, for at most ms. */
static int wait_csts(struct pcie_ctrlr *pc, uint32_t mask, uint32_t want, uint64_t ms)
{
	uint64_t deadline = nvme_ticks() + ms * nvme_ticks_per_ms();
	uint32_t csts;

	for (;;) {
		csts = pcie_reg_read4(pc, PLX_NVME_REG_CSTS);
		if (csts == UINT32_MAX) {
			return -ENODEV; /* surprise removal, or the BAR is gone */
		}
		if ((csts & mask) == want) {
			return 0;
		}
		if (nvme_ticks() > deadline) {
			return -ETIMEDOUT;
		}
		plx_delay_us(100);
	}
}

static int disable_ctrlr(struct pcie_ctrlr *pc, char *err)
{
	union plx_nvme_cc cc;
	uint64_t to = cap_timeout_ms(pc, DISABLE_MIN_MS);
	int rc;

	cc.raw = pcie_reg_read4(pc, PLX_NVME_REG_CC);
	if (cc.bits.en) {
		/* Clearing EN while RDY is still rising is undefined: let it finish first. */
		if (wait_csts(pc, 1, 1, to) != 0) {
			PLX_WARNLOG("%s: CSTS.RDY did not rise before disable\n", pc->dev.bdf);
		}
		cc.bits.en = 0;
		pcie_reg_write4(pc, PLX_NVME_REG_CC, cc.raw);
	}
	rc = wait_csts(pc, 1, 0, to);
	if (rc != 0) {
		snprintf(err, PLX_NVME_ERR_LEN, "%s: CSTS.RDY still 1 %llu ms after CC.EN=0",
			 pc->dev.bdf, (unsigned long long)to);
	}
	return rc;
}

static uint32_t admin_entries(const struct pcie_ctrlr *pc)
{
	uint32_t n = pc->ctrlr.opts.admin_queue_size;

	if (n == 0) {
		n = NVME_ADMIN_QUEUE_SIZE_DEFAULT;
	}
	n = PLX_MAX(n, (uint32_t)ADMIN_ENTRIES_MIN);
	n = PLX_MIN(n, (uint32_t)ADMIN_ENTRIES_MAX);
	return PLX_MIN(n, (uint32_t)pc->ctrlr.cap.bits.mqes + 1);
}

static int create_admin_qpair(struct pcie_ctrlr *pc, char *err)
{
	struct pcie_qpair *aq;
	uint32_t n = admin_entries(pc);
	int rc;

	aq = calloc(1, sizeof(*aq));
	if (aq == NULL) {
		snprintf(err, PLX_NVME_ERR_LEN, "out of memory");
		return -ENOMEM;
	}
	rc = pcie_qpair_alloc(pc, aq, 0, n);
	if (rc != 0) {
		free(aq);
		snprintf(err, PLX_NVME_ERR_LEN, "%s: admin queue memory: %s", pc->dev.bdf,
			 strerror(-rc));
		return rc;
	}
	rc = nvme_qpair_init(&aq->qpair, &pc->ctrlr, 0, aq->entries, aq->entries, false);
	if (rc != 0) {
		pcie_qpair_free(aq);
		free(aq);
		snprintf(err, PLX_NVME_ERR_LEN, "out of memory");
		return rc;
	}
	pc->adminq = aq;
	pc->ctrlr.adminq = &aq->qpair;
	return 0;
}

static struct plx_nvme_ctrlr *pcie_ctrlr_construct(const struct plx_nvme_trid *trid,
						   const struct plx_nvme_ctrlr_opts *opts,
						   char *err)
{
	struct pcie_ctrlr *pc;
	uint64_t cap = UINT64_MAX;
	int rc;

	pc = calloc(1, sizeof(*pc));
	if (pc == NULL) {
		snprintf(err, PLX_NVME_ERR_LEN, "out of memory");
		return NULL;
	}
	nvme_ctrlr_lock_init(&pc->ctrlr);
	if (pcie_dev_open(&pc->dev, trid->traddr, err) != 0) {
		free(pc);
		return NULL;
	}
	pc->ctrlr.transport = &g_nvme_pcie_ops;
	pc->ctrlr.trid = *trid;
	snprintf(pc->ctrlr.trid.traddr, sizeof(pc->ctrlr.trid.traddr), "%s", pc->dev.bdf);
	if (opts != NULL) {
		pc->ctrlr.opts = *opts;
	} else {
		plx_nvme_ctrlr_get_default_opts(&pc->ctrlr.opts);
	}
	TAILQ_INIT(&pc->ctrlr.io_qpairs);
	pcie_get_reg_8(&pc->ctrlr, PLX_NVME_REG_CAP, &cap);
	pc->ctrlr.cap.raw = cap;
	pc->ctrlr.vs.raw = pcie_reg_read4(pc, PLX_NVME_REG_VS);
	if (cap == UINT64_MAX) {
		snprintf(err, PLX_NVME_ERR_LEN, "%s: BAR0 reads all ones (device gone?)",
			 pc->dev.bdf);
		goto fail;
	}
	pc->doorbell_stride = 4u << pc->ctrlr.cap.bits.dstrd;
	rc = disable_ctrlr(pc, err);
	if (rc == 0) {
		rc = create_admin_qpair(pc, err);
	}
	if (rc != 0) {
		goto fail;
	}
	program_admin_queue(pc);
	return &pc->ctrlr;
fail:
	pcie_dev_close(&pc->dev);
	free(pc);
	return NULL;
}

/* Normal shutdown so that the device flushes its caches; bounded by CAP.TO. */
static void shutdown_ctrlr(struct pcie_ctrlr *pc)
{
	union plx_nvme_cc cc;

	cc.raw = pcie_reg_read4(pc, PLX_NVME_REG_CC);
	if (!cc.bits.en || cc.raw == UINT32_MAX) {
		return;
	}
	cc.bits.shn = PLX_NVME_SHN_NORMAL;
	pcie_reg_write4(pc, PLX_NVME_REG_CC, cc.raw);
	if (wait_csts(pc, 0xc, PLX_NVME_SHST_COMPLETE << 2, cap_timeout_ms(pc, SHUTDOWN_MIN_MS)) !=
	    0) {
		PLX_WARNLOG("%s: shutdown did not complete in time\n", pc->dev.bdf);
	}
}

static void pcie_ctrlr_destruct(struct plx_nvme_ctrlr *ctrlr)
{
	struct pcie_ctrlr *pc = pcie_ctrlr(ctrlr);

	shutdown_ctrlr(pc);
	if (pc->adminq != NULL) {
		pcie_qpair_abort_reqs(&pc->adminq->qpair, true);
		nvme_qpair_fini(&pc->adminq->qpair);
		pcie_qpair_free(pc->adminq);
		free(pc->adminq);
	}
	pcie_dev_close(&pc->dev);
	free(pc);
}

static uint32_t io_entries(const struct pcie_ctrlr *pc, const struct plx_nvme_io_qpair_opts *opts)
{
	uint32_t n = opts != NULL ? opts->io_queue_size : 0;

	if (n == 0) {
		n = pc->ctrlr.opts.io_queue_size;
	}
	if (n == 0) {
		n = NVME_IO_QUEUE_SIZE_DEFAULT;
	}
	n = PLX_MAX(n, 2u);
	return PLX_MIN(n, (uint32_t)pc->ctrlr.cap.bits.mqes + 1);
}

static uint32_t io_requests(const struct pcie_ctrlr *pc, const struct plx_nvme_io_qpair_opts *opts,
			    uint32_t entries)
{
	uint32_t n = opts != NULL ? opts->io_queue_requests : 0;

	if (n == 0) {
		n = pc->ctrlr.opts.io_queue_requests;
	}
	return n != 0 ? n : entries;
}

static struct plx_nvme_qpair *pcie_qpair_create(struct plx_nvme_ctrlr *ctrlr, uint16_t qid,
						const struct plx_nvme_io_qpair_opts *opts)
{
	struct pcie_ctrlr *pc = pcie_ctrlr(ctrlr);
	struct pcie_qpair *pq;

	pq = calloc(1, sizeof(*pq));
	if (pq == NULL) {
		return NULL;
	}
	if (pcie_qpair_alloc(pc, pq, qid, io_entries(pc, opts)) != 0) {
		free(pq);
		return NULL;
	}
	/* First caller wins: the core's own nvme_qpair_init for this qpair is then a no-op. */
	if (nvme_qpair_init(&pq->qpair, ctrlr, qid, pq->entries, io_requests(pc, opts, pq->entries),
			    opts != NULL ? opts->delay_cmd_submit : true) != 0) {
		pcie_qpair_free(pq);
		free(pq);
		return NULL;
	}
	return &pq->qpair;
}

static void pcie_qpair_destroy(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair)
{
	struct pcie_qpair *pq = pcie_qpair(qpair);

	pcie_qpair_abort_reqs(qpair, true);
	/* The core's DMA scratch goes back to the heap: its pages may not stay where they are. */
	if (qpair->req_scratch != NULL) {
		pcie_mem_forget(&pcie_ctrlr(ctrlr)->dev, qpair->req_scratch,
				(size_t)qpair->num_requests * NVME_REQ_SCRATCH_SIZE);
	}
	if (qpair->dsm_bufs != NULL) {
		pcie_mem_forget(&pcie_ctrlr(ctrlr)->dev, qpair->dsm_bufs,
				NVME_DSM_BUFS * NVME_DSM_BUF_SIZE);
	}
	nvme_qpair_fini(qpair);
	pcie_qpair_free(pq);
	free(pq);
}

static const struct nvme_transport_ops g_nvme_pcie_ops = {
    .name = "PCIe",
    .trtype = PLX_NVME_TRTYPE_PCIE,
    .ctrlr_construct = pcie_ctrlr_construct,
    .ctrlr_destruct = pcie_ctrlr_destruct,
    .ctrlr_get_reg_4 = pcie_get_reg_4,
    .ctrlr_get_reg_8 = pcie_get_reg_8,
    .ctrlr_set_reg_4 = pcie_set_reg_4,
    .ctrlr_get_max_xfer_size = pcie_get_max_xfer_size,
    .qpair_create = pcie_qpair_create,
    .qpair_connect = pcie_qpair_connect,
    .qpair_disconnect = pcie_qpair_disconnect,
    .qpair_destroy = pcie_qpair_destroy,
    .qpair_submit_request = pcie_qpair_submit_request,
    .qpair_process_completions = pcie_qpair_process_completions,
    .qpair_abort_reqs = pcie_qpair_abort_reqs,
    .scan = pcie_scan,
};

NVME_TRANSPORT_REGISTER(pcie, &g_nvme_pcie_ops)
