/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA buffers. Ordinary buffers come from posix_memalign. Hugepage buffers are whole 2 MiB
 * mappings; a small registry remembers them so plx_dma_free() knows to munmap them.
 * Allocation is not on the I/O path (pools allocate once), so a mutex is fine here.
 */
#include "pollux/env.h"
#include "pollux/log.h"
#include "pollux/util.h"
#include "env_internal.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DMA_DEFAULT_ALIGN 4096ul
#define HUGEPAGE_SIZE	  (2ul << 20)
#define REGISTRY_BUCKETS  64

struct huge_region {
	void *addr;
	size_t len;
	struct huge_region *next;
};

static pthread_mutex_t g_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct huge_region *g_registry[REGISTRY_BUCKETS];
/* Lets plx_dma_free() skip the lock when no hugepage buffer exists at all. */
static atomic_size_t g_huge_regions;
static atomic_bool g_huge_fallback_noticed;

static size_t registry_bucket(const void *addr)
{
	/* Hugepage mappings are 2 MiB aligned: the bits above that tell them apart. */
	return ((uintptr_t)addr / HUGEPAGE_SIZE) % REGISTRY_BUCKETS;
}

static void registry_add(struct huge_region *region)
{
	size_t b = registry_bucket(region->addr);

	pthread_mutex_lock(&g_registry_lock);
	region->next = g_registry[b];
	g_registry[b] = region;
	atomic_fetch_add(&g_huge_regions, 1);
	pthread_mutex_unlock(&g_registry_lock);
}

static struct huge_region *registry_remove(const void *addr)
{
	struct huge_region **pos, *found = NULL;

	pthread_mutex_lock(&g_registry_lock);
	for (pos = &g_registry[registry_bucket(addr)]; *pos != NULL; pos = &(*pos)->next) {
		if ((*pos)->addr == addr) {
			found = *pos;
			*pos = found->next;
			atomic_fetch_sub(&g_huge_regions, 1);
			break;
		}
	}
	pthread_mutex_unlock(&g_registry_lock);
	return found;
}

static void *huge_map(size_t len)
{
	void *addr = MAP_FAILED;
	int fd;

	/* A memfd gives the buffer a file identity that can later be shared (vhost-user). */
	fd = memfd_create("pollux_dma", MFD_HUGETLB | MFD_CLOEXEC);
	if (fd >= 0) {
		if (ftruncate(fd, (off_t)len) == 0) {
			addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		}
		close(fd);
	}
	if (addr == MAP_FAILED) {
		addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	}
	return addr == MAP_FAILED ? NULL : addr;
}

static void *huge_alloc(size_t size)
{
	struct huge_region *region;

	if (size > SIZE_MAX - HUGEPAGE_SIZE) {
		return NULL;
	}
	region = malloc(sizeof(*region));
	if (region == NULL) {
		return NULL;
	}
	region->len = PLX_ALIGN_UP(size, HUGEPAGE_SIZE);
	region->addr = huge_map(region->len);
	if (region->addr == NULL) {
		free(region);
		if (!atomic_exchange(&g_huge_fallback_noticed, true)) {
			PLX_NOTICELOG("hugepages unavailable, DMA buffers use ordinary pages\n");
		}
		return NULL;
	}
	registry_add(region);
	return region->addr;
}

void *plx_dma_malloc(size_t size, size_t align)
{
	void *buf;

	if (align == 0) {
		align = DMA_DEFAULT_ALIGN;
	}
	if (!PLX_IS_POW2(align)) {
		PLX_ERRLOG("alignment %zu is not a power of two\n", align);
		errno = EINVAL;
		return NULL;
	}
	if (size >= DMA_DEFAULT_ALIGN && align < DMA_DEFAULT_ALIGN) {
		align = DMA_DEFAULT_ALIGN;
	}
	if (align < sizeof(void *)) {
		align = sizeof(void *);
	}
	if (size == 0) {
		size = 1;
	}
	/* A hugepage mapping is only 2 MiB aligned; larger alignments use ordinary memory. */
	if (plx_env_huge_requested() && align <= HUGEPAGE_SIZE) {
		buf = huge_alloc(size);
		if (buf != NULL) {
			return buf;
		}
	}
	if (posix_memalign(&buf, align, size) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	return buf;
}

void *plx_dma_zmalloc(size_t size, size_t align)
{
	void *buf = plx_dma_malloc(size, align);

	if (buf != NULL) {
		memset(buf, 0, size);
	}
	return buf;
}

/*
 * Free hooks: a fixed array so plx_dma_free can walk it without a lock. A slot is claimed by
 * CAS on its fn; unregistering clears fn (a free racing with it may still call the hook once,
 * which is why drivers unregister before they tear down what the hook touches, and wait for
 * no such race: they stop using the buffers first).
 */
struct dma_free_hook {
	_Atomic(plx_dma_free_hook) fn;
	void *_Atomic ctx;
};
static struct dma_free_hook g_free_hooks[PLX_DMA_FREE_HOOKS];

int plx_dma_register_free_hook(plx_dma_free_hook fn, void *ctx)
{
	for (int i = 0; i < PLX_DMA_FREE_HOOKS; i++) {
		plx_dma_free_hook empty = NULL;

		if (atomic_load(&g_free_hooks[i].fn) == NULL) {
			atomic_store(&g_free_hooks[i].ctx, ctx);
			if (atomic_compare_exchange_strong(&g_free_hooks[i].fn, &empty, fn)) {
				return 0;
			}
		}
	}
	PLX_ERRLOG("no free slot for a DMA free hook (%d in use)\n", PLX_DMA_FREE_HOOKS);
	return -ENOSPC;
}

void plx_dma_unregister_free_hook(plx_dma_free_hook fn, void *ctx)
{
	for (int i = 0; i < PLX_DMA_FREE_HOOKS; i++) {
		if (atomic_load(&g_free_hooks[i].fn) == fn &&
		    atomic_load(&g_free_hooks[i].ctx) == ctx) {
			atomic_store(&g_free_hooks[i].fn, NULL);
		}
	}
}

static void run_free_hooks(void *buf, size_t len)
{
	for (int i = 0; i < PLX_DMA_FREE_HOOKS; i++) {
		plx_dma_free_hook fn = atomic_load(&g_free_hooks[i].fn);

		if (fn != NULL) {
			fn(atomic_load(&g_free_hooks[i].ctx), buf, len);
		}
	}
}

void plx_dma_free(void *buf)
{
	struct huge_region *region;

	if (buf == NULL) {
		return;
	}
	if (atomic_load_explicit(&g_huge_regions, memory_order_relaxed) != 0) {
		region = registry_remove(buf);
		if (region != NULL) {
			run_free_hooks(region->addr, region->len);
			munmap(region->addr, region->len);
			free(region);
			return;
		}
	}
	run_free_hooks(buf, malloc_usable_size(buf));
	free(buf);
}
