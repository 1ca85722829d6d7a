/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA addresses for the PCIe transport. vfio-pci: this file hands out IOVAs (from 4 GiB up,
 * below the 39 address bits an emulated VT-d translates; user virtual addresses are too high
 * to map one to one) and maps pages through VFIO_IOMMU_MAP_DMA, which also pins them.
 * uio_pci_generic: pages are locked (mlock) and their physical frames read from
 * /proc/self/pagemap, which shows frame numbers to root only.
 *
 * The map is written under map_lock (miss path, setup) and read without it (I/O path):
 * levels and entries are published with release stores and never freed before pcie_mem_fini.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pollux/env.h"
#include "pollux/log.h"
#include "pollux/util.h"
#include "nvme_pcie_internal.h"

#define IOVA_BASE	 (1ull << 32)
#define IOVA_LIMIT	 (1ull << 39)
#define HUGEPAGE_2M	 (2ul << 20)
#define PAGEMAP_PRESENT	 (1ull << 63)
#define PAGEMAP_PFN_MASK ((1ull << 55) - 1)
#define MAP_L1_ENTRIES	 (1u << PCIE_MAP_L1_BITS)

/* plx_dma_free hook: a freed buffer's pages lose their cached device addresses. */
static void pcie_mem_free_hook(void *ctx, void *buf, size_t len)
{
	pcie_mem_forget(ctx, buf, len);
}

int pcie_mem_init(struct pcie_dev *dev)
{
	dev->map = calloc(MAP_L1_ENTRIES, sizeof(*dev->map));
	if (dev->map == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_init(&dev->map_lock, NULL);
	if (plx_dma_register_free_hook(pcie_mem_free_hook, dev) != 0) {
		free(dev->map);
		dev->map = NULL;
		return -ENOSPC;
	}
	dev->next_iova = IOVA_BASE;
	if (dev->driver == PCIE_DRIVER_UIO) {
		dev->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		if (dev->pagemap_fd < 0) {
			return -errno;
		}
	}
	return 0;
}

void pcie_mem_fini(struct pcie_dev *dev)
{
	uint32_t i, j;

	if (dev->map == NULL) {
		return;
	}
	plx_dma_unregister_free_hook(pcie_mem_free_hook, dev);
	for (i = 0; i < MAP_L1_ENTRIES; i++) {
		if (dev->map[i] == NULL) {
			continue;
		}
		for (j = 0; j < (1u << PCIE_MAP_L2_BITS); j++) {
			free(dev->map[i]->l3[j]);
		}
		free(dev->map[i]);
	}
	free(dev->map);
	dev->map = NULL;
	pthread_mutex_destroy(&dev->map_lock);
	if (dev->pagemap_fd >= 0) {
		close(dev->pagemap_fd);
		dev->pagemap_fd = -1;
	}
}

/* The entry slot of va, allocating levels on the way (map_lock held). */
static uint64_t *map_slot(struct pcie_dev *dev, uintptr_t va, bool create)
{
	struct pcie_map_l2 **l1 = &dev->map[(va >> 30) & (MAP_L1_ENTRIES - 1)];
	struct pcie_map_l3 **l2;

	if (*l1 == NULL) {
		struct pcie_map_l2 *n;

		if (!create || (n = calloc(1, sizeof(*n))) == NULL) {
			return NULL;
		}
		__atomic_store_n(l1, n, __ATOMIC_RELEASE);
	}
	l2 = &(*l1)->l3[(va >> 21) & 511];
	if (*l2 == NULL) {
		struct pcie_map_l3 *n;

		if (!create || (n = calloc(1, sizeof(*n))) == NULL) {
			return NULL;
		}
		__atomic_store_n(l2, n, __ATOMIC_RELEASE);
	}
	return &(*l2)->entry[(va >> 12) & 511];
}

static int map_set(struct pcie_dev *dev, uintptr_t va, uint64_t bus)
{
	uint64_t *slot = map_slot(dev, va, true);

	if (slot == NULL) {
		return -ENOMEM;
	}
	__atomic_store_n(slot, bus == PCIE_BUS_ERROR ? 0 : (bus | 1), __ATOMIC_RELEASE);
	return 0;
}

static bool map_has(struct pcie_dev *dev, uintptr_t va)
{
	uint64_t *slot = map_slot(dev, va, false);

	return slot != NULL && *slot != 0;
}

/* vfio: map [va, va + len) at fresh IOVAs and record them. */
static int vfio_map_run(struct pcie_dev *dev, uintptr_t va, size_t len, uint64_t *iova_out)
{
	struct vfio_iommu_type1_dma_map map = {
	    .argsz = sizeof(map),
	    .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	    .vaddr = va,
	    .iova = dev->next_iova,
	    .size = len,
	};
	size_t off;
	int rc;

	if (dev->next_iova + len > IOVA_LIMIT) {
		PLX_ERRLOG("%s: IOVA space exhausted\n", dev->bdf);
		return -ENOMEM;
	}
	if (ioctl(dev->container_fd, VFIO_IOMMU_MAP_DMA, &map) < 0) {
		rc = -errno;
		PLX_ERRLOG("%s: VFIO_IOMMU_MAP_DMA of %zu bytes at %p: %s\n", dev->bdf, len,
			   (void *)va, strerror(errno));
		return rc;
	}
	dev->next_iova += len;
	for (off = 0; off < len; off += PCIE_PAGE_SIZE) {
		rc = map_set(dev, va + off, map.iova + off);
		if (rc != 0) {
			return rc;
		}
	}
	if (iova_out != NULL) {
		*iova_out = map.iova;
	}
	return 0;
}

static void vfio_unmap(struct pcie_dev *dev, uint64_t iova, size_t len)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
	    .argsz = sizeof(unmap),
	    .iova = iova,
	    .size = len,
	};

	if (ioctl(dev->container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0) {
		PLX_WARNLOG("%s: VFIO_IOMMU_UNMAP_DMA: %s\n", dev->bdf, strerror(errno));
	}
}

static uint64_t pagemap_phys(struct pcie_dev *dev, uintptr_t va)
{
	uint64_t e;

	if (pread(dev->pagemap_fd, &e, sizeof(e), (off_t)(va / PCIE_PAGE_SIZE * sizeof(e))) !=
		sizeof(e) ||
	    !(e & PAGEMAP_PRESENT) || (e & PAGEMAP_PFN_MASK) == 0) {
		return PCIE_BUS_ERROR;
	}
	return (e & PAGEMAP_PFN_MASK) << PCIE_PAGE_SHIFT;
}

/* uio: lock [va, va + len) in memory and record each page's frame. */
static int uio_register(struct pcie_dev *dev, uintptr_t va, size_t len)
{
	uint64_t phys;
	size_t off;
	int rc;

	if (mlock((void *)va, len) != 0) {
		rc = -errno;
		PLX_ERRLOG("mlock %zu bytes at %p: %s\n", len, (void *)va, strerror(errno));
		return rc;
	}
	for (off = 0; off < len; off += PCIE_PAGE_SIZE) {
		phys = pagemap_phys(dev, va + off);
		if (phys == PCIE_BUS_ERROR) {
			PLX_ERRLOG("no physical address for %p (pagemap needs root)\n",
				   (void *)(va + off));
			return -EFAULT;
		}
		rc = map_set(dev, va + off, phys);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

/* Register the pages of [start, end) not yet in the map (map_lock held). */
static int register_range(struct pcie_dev *dev, uintptr_t start, uintptr_t end)
{
	uintptr_t va = start, run;
	int rc;

	while (va < end) {
		if (map_has(dev, va)) {
			va += PCIE_PAGE_SIZE;
			continue;
		}
		for (run = va; run < end && !map_has(dev, run); run += PCIE_PAGE_SIZE) {
		}
		rc = dev->driver == PCIE_DRIVER_VFIO ? vfio_map_run(dev, va, run - va, NULL)
						     : uio_register(dev, va, run - va);
		if (rc != 0) {
			return rc;
		}
		va = run;
	}
	return 0;
}

uint64_t pcie_vtophys_slow(struct pcie_dev *dev, const void *addr, size_t len)
{
	uintptr_t start = (uintptr_t)addr & ~(uintptr_t)(PCIE_PAGE_SIZE - 1);
	uintptr_t end =
	    PLX_ALIGN_UP((uintptr_t)addr + PLX_MAX(len, (size_t)1), (uintptr_t)PCIE_PAGE_SIZE);
	uint64_t *slot;
	uint64_t e = 0;

	pthread_mutex_lock(&dev->map_lock);
	if (register_range(dev, start, end) == 0) {
		slot = map_slot(dev, start, false);
		e = slot != NULL ? *slot : 0;
	}
	pthread_mutex_unlock(&dev->map_lock);
	if (e == 0) {
		return PCIE_BUS_ERROR;
	}
	return (e & ~(uint64_t)(PCIE_PAGE_SIZE - 1)) | ((uintptr_t)addr & (PCIE_PAGE_SIZE - 1));
}

void pcie_mem_forget(struct pcie_dev *dev, const void *addr, size_t len)
{
	uintptr_t va = (uintptr_t)addr & ~(uintptr_t)(PCIE_PAGE_SIZE - 1);
	uintptr_t end = (uintptr_t)addr + len;
	uint64_t *slot;

	/* vfio keeps the IOVAs mapped (and the old pages pinned) until the container closes. */
	pthread_mutex_lock(&dev->map_lock);
	for (; va < end; va += PCIE_PAGE_SIZE) {
		slot = map_slot(dev, va, false);
		if (slot != NULL) {
			__atomic_store_n(slot, 0, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&dev->map_lock);
}

static bool uio_contiguous(struct pcie_dev *dev, uintptr_t va, size_t len)
{
	size_t off;

	for (off = PCIE_PAGE_SIZE; off < len; off += PCIE_PAGE_SIZE) {
		if (pcie_vtophys(dev, (void *)(va + off), 0) !=
		    pcie_vtophys(dev, (void *)va, 0) + off) {
			return false;
		}
	}
	return true;
}

static void *map_anon(size_t len, bool huge)
{
	void *p =
	    mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | (huge ? MAP_HUGETLB : 0), -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void map_clear(struct pcie_dev *dev, struct pcie_dma *dma)
{
	size_t off;

	for (off = 0; off < dma->len; off += PCIE_PAGE_SIZE) {
		map_set(dev, (uintptr_t)dma->vaddr + off, PCIE_BUS_ERROR);
	}
}

static int uio_alloc(struct pcie_dev *dev, size_t len, bool contig, struct pcie_dma *out)
{
	int rc;

	out->vaddr = map_anon(len, false);
	out->len = len;
	if (out->vaddr == NULL) {
		return -ENOMEM;
	}
	rc = uio_register(dev, (uintptr_t)out->vaddr, len);
	if (rc == 0 && contig && !uio_contiguous(dev, (uintptr_t)out->vaddr, len)) {
		/* A 2 MiB hugepage is contiguous by construction (when any are reserved). */
		map_clear(dev, out);
		munmap(out->vaddr, len);
		out->len = HUGEPAGE_2M;
		out->vaddr = len <= HUGEPAGE_2M ? map_anon(HUGEPAGE_2M, true) : NULL;
		if (out->vaddr == NULL) {
			return -ENOMEM;
		}
		rc = uio_register(dev, (uintptr_t)out->vaddr, out->len);
	}
	if (rc == 0) {
		out->bus = pcie_vtophys(dev, out->vaddr, 0);
	}
	return rc;
}

int pcie_dma_alloc(struct pcie_dev *dev, size_t len, bool contig, struct pcie_dma *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	len = PLX_ALIGN_UP(PLX_MAX(len, (size_t)1), (size_t)PCIE_PAGE_SIZE);
	pthread_mutex_lock(&dev->map_lock);
	if (dev->driver == PCIE_DRIVER_VFIO) {
		out->vaddr = map_anon(len, false);
		out->len = len;
		rc = out->vaddr == NULL ? -ENOMEM
					: vfio_map_run(dev, (uintptr_t)out->vaddr, len, &out->bus);
		out->contig = true;
	} else {
		rc = uio_alloc(dev, len, contig, out);
		out->contig = contig;
	}
	pthread_mutex_unlock(&dev->map_lock);
	if (rc != 0) {
		pcie_dma_release(dev, out);
	}
	return rc;
}

void pcie_dma_release(struct pcie_dev *dev, struct pcie_dma *dma)
{
	if (dma->vaddr == NULL) {
		return;
	}
	pthread_mutex_lock(&dev->map_lock);
	if (dev->driver == PCIE_DRIVER_VFIO && dma->bus != 0 && dev->container_fd >= 0) {
		vfio_unmap(dev, dma->bus, dma->len);
	}
	map_clear(dev, dma);
	pthread_mutex_unlock(&dev->map_lock);
	munmap(dma->vaddr, dma->len);
	memset(dma, 0, sizeof(*dma));
}
