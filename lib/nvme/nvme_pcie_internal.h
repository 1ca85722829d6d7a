/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PCIe transport's internals, shared by nvme_pcie.c (controller, registers, ops table),
 * nvme_pcie_qpair.c (queues, PRPs, doorbells), nvme_pcie_dev.c (sysfs, vfio-pci, uio) and
 * nvme_pcie_mem.c (DMA memory and address translation).
 *
 * DMA addresses: the device sees bus addresses. With vfio-pci they are IOVAs this transport
 * hands out and maps through the IOMMU; with uio_pci_generic they are physical addresses read
 * from /proc/self/pagemap (root only) of memory that is locked in place. Either way a
 * per-controller map translates every 4 KiB page of a buffer: lock-free lookups, a mutex only
 * on the miss path that registers new memory.
 *
 * Contract for callers: data buffers of I/O commands come from plx_dma_malloc and stay
 * allocated while the controller is attached (the map caches their translation; memory freed
 * back to the OS and reused at the same address would keep the old translation). Admin
 * payloads up to 4 KiB go through a bounce page, so the core may use any buffer for them.
 */
#ifndef POLLUX_NVME_PCIE_INTERNAL_H
#define POLLUX_NVME_PCIE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme_internal.h"

#define PCIE_PAGE_SIZE	  4096u
#define PCIE_PAGE_SHIFT	  12
#define PCIE_BUS_ERROR	  UINT64_MAX
#define PCIE_PRP_PER_PAGE (PCIE_PAGE_SIZE / sizeof(uint64_t))
/* One PRP list page: PRP1 plus 512 list entries cover 2 MiB from any start offset. */
#define PCIE_MAX_XFER_SIZE (PCIE_PRP_PER_PAGE * PCIE_PAGE_SIZE)
#define PCIE_BAR0_MIN_LEN  0x2000u

enum pcie_driver {
	PCIE_DRIVER_VFIO,
	PCIE_DRIVER_UIO,
};

/* Translation of virtual pages to bus addresses: three levels over 48-bit addresses. */
#define PCIE_MAP_L1_BITS 18 /* address bits 47..30 */
#define PCIE_MAP_L2_BITS 9  /* 29..21 */
#define PCIE_MAP_L3_BITS 9  /* 20..12 */

struct pcie_map_l3 {
	uint64_t entry[1u << PCIE_MAP_L3_BITS]; /* bus address | 1, or 0 */
};

struct pcie_map_l2 {
	struct pcie_map_l3 *l3[1u << PCIE_MAP_L2_BITS];
};

/* An opened PCI function and its DMA context. */
struct pcie_dev {
	enum pcie_driver driver;
	char bdf[16];
	int container_fd; /* vfio */
	int group_fd;	  /* vfio */
	int device_fd;	  /* vfio */
	int config_fd;	  /* uio: sysfs config; vfio: the device fd */
	uint64_t config_offset;
	volatile uint8_t *bar;
	size_t bar_len;
	size_t bar_map_offset; /* vfio: the BAR area mapped starts at this BAR offset (0) */
	int pagemap_fd;	       /* uio */
	uint64_t next_iova;    /* vfio: next free IOVA */
	pthread_mutex_t map_lock;
	struct pcie_map_l2 **map; /* 2^18 lazily allocated second levels */
};

/* ---- nvme_pcie_dev.c ---- */

/* The user-space driver a function is bound to ("vfio-pci", "uio_pci_generic") or "". */
int pcie_dev_driver_name(const char *bdf, char *name, size_t len);
/* Normalise "0000:00:04.0" / "00:04.0" (any case) to the sysfs form; -EINVAL otherwise. */
int pcie_bdf_normalize(const char *in, char *out, size_t len);
int pcie_scan(const struct plx_nvme_trid *filter,
	      int (*cb)(void *ctx, const struct plx_nvme_trid *trid), void *ctx);
/* Open the function, map BAR0, enable bus mastering. err gets the reason. */
int pcie_dev_open(struct pcie_dev *dev, const char *bdf, char *err);
void pcie_dev_close(struct pcie_dev *dev);

/* ---- nvme_pcie_mem.c ---- */

int pcie_mem_init(struct pcie_dev *dev);
void pcie_mem_fini(struct pcie_dev *dev);
/*
 * The bus address of addr. On a miss the pages of [addr, addr + len) are registered (vfio:
 * mapped through the IOMMU; uio: locked and looked up). PCIE_BUS_ERROR when that fails.
 */
uint64_t pcie_vtophys_slow(struct pcie_dev *dev, const void *addr, size_t len);

static inline uint64_t pcie_vtophys(struct pcie_dev *dev, const void *addr, size_t len)
{
	uintptr_t va = (uintptr_t)addr;
	struct pcie_map_l2 *l2;
	struct pcie_map_l3 *l3;
	uint64_t e;

	l2 = __atomic_load_n(&dev->map[(va >> 30) & ((1u << PCIE_MAP_L1_BITS) - 1)],
			     __ATOMIC_ACQUIRE);
	if (l2 != NULL) {
		l3 = __atomic_load_n(&l2->l3[(va >> 21) & 511], __ATOMIC_ACQUIRE);
		if (l3 != NULL) {
			e = __atomic_load_n(&l3->entry[(va >> 12) & 511], __ATOMIC_ACQUIRE);
			if (e != 0) {
				return (e & ~(uint64_t)(PCIE_PAGE_SIZE - 1)) |
				       (va & (PCIE_PAGE_SIZE - 1));
			}
		}
	}
	return pcie_vtophys_slow(dev, addr, len);
}

/* Memory this transport allocates for the device (queues, PRP lists, bounce pages). */
struct pcie_dma {
	void *vaddr;
	size_t len;   /* of the mapping */
	uint64_t bus; /* of the first page; the rest follows when contig */
	bool contig;
};

/* Drop the translations of [addr, addr + len) (memory about to be freed by its owner). */
void pcie_mem_forget(struct pcie_dev *dev, const void *addr, size_t len);

/*
 * Zeroed, page-aligned, locked memory of at least len bytes, registered in the map. contig:
 * contiguous on the bus too (queues); uio without hugepages can promise that only for what
 * happens to be contiguous: -ENOMEM otherwise.
 */
int pcie_dma_alloc(struct pcie_dev *dev, size_t len, bool contig, struct pcie_dma *out);
void pcie_dma_release(struct pcie_dev *dev, struct pcie_dma *dma);

/* ---- the controller and queues ---- */

struct pcie_tracker {
	struct nvme_request *req; /* NULL when free */
	uint64_t *prp_list;
	uint64_t prp_list_bus;
	void *bounce; /* admin only: payloads up to a page */
	uint64_t bounce_bus;
	bool bounced;
};

struct pcie_qpair {
	struct plx_nvme_qpair qpair; /* first */
	struct pcie_ctrlr *pctrlr;
	uint32_t entries;
	struct plx_nvme_cmd *sq;
	volatile struct plx_nvme_cpl *cq;
	struct pcie_dma sq_mem;
	struct pcie_dma cq_mem;
	volatile uint32_t *sq_db;
	volatile uint32_t *cq_db;
	uint16_t sq_tail;
	uint16_t cq_head;
	uint8_t phase;
	bool sq_pending;	       /* tail moved since the last doorbell */
	bool created;		       /* the device knows the queues (I/O qpairs) */
	struct pcie_tracker *trackers; /* entries - 1, index = cid */
	uint16_t *free_trackers;
	uint32_t num_free;
	struct pcie_dma pages; /* PRP list (and bounce) pages of the trackers */
};

struct pcie_ctrlr {
	struct plx_nvme_ctrlr ctrlr; /* first */
	struct pcie_dev dev;
	uint32_t doorbell_stride; /* bytes */
	struct pcie_qpair *adminq;
};

static inline struct pcie_ctrlr *pcie_ctrlr(struct plx_nvme_ctrlr *ctrlr)
{
	return (struct pcie_ctrlr *)ctrlr;
}

static inline struct pcie_qpair *pcie_qpair(struct plx_nvme_qpair *qpair)
{
	return (struct pcie_qpair *)qpair;
}

static inline uint32_t pcie_reg_read4(struct pcie_ctrlr *pc, uint32_t off)
{
	return *(volatile uint32_t *)(pc->dev.bar + off);
}

static inline void pcie_reg_write4(struct pcie_ctrlr *pc, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(pc->dev.bar + off) = v;
}

/* ---- nvme_pcie_qpair.c ---- */

/* Allocate the rings and trackers of a qpair (not yet known to the device). */
int pcie_qpair_alloc(struct pcie_ctrlr *pc, struct pcie_qpair *pq, uint16_t qid, uint32_t entries);
void pcie_qpair_free(struct pcie_qpair *pq);
/* Empty rings, phase 1, heads and tails 0 (after a controller disable or a queue delete). */
void pcie_qpair_reset_rings(struct pcie_qpair *pq);

int pcie_qpair_connect(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair);
void pcie_qpair_disconnect(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair);
int pcie_qpair_submit_request(struct plx_nvme_qpair *qpair, struct nvme_request *req);
int32_t pcie_qpair_process_completions(struct plx_nvme_qpair *qpair, uint32_t max);
void pcie_qpair_abort_reqs(struct plx_nvme_qpair *qpair, bool dnr);

#endif /* POLLUX_NVME_PCIE_INTERNAL_H */
