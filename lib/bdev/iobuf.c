/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data buffers for I/O submitted without one: two pools (small and large) carved once from
 * page-aligned DMA-able memory, with lock-free rings as free lists. Pages are touched only
 * when a buffer is first used, so large pools cost address space, not memory.
 */
#include <errno.h>

#include "bdev_internal.h"

struct iobuf_opts g_iobuf_opts = {
    .small_pool_count = 8192,
    .large_pool_count = 1024,
    .small_bufsize = 8192,
    .large_bufsize = 135168,
};

struct iobuf_pool {
	char *base;
	struct plx_ring *free;
	uint64_t bufsize;
	uint64_t count;
};

static struct iobuf_pool g_small, g_large;

static uint64_t next_pow2(uint64_t v)
{
	uint64_t p = 2;

	while (p < v) {
		p <<= 1;
	}
	return p;
}

static int pool_init(struct iobuf_pool *pool, uint64_t count, uint64_t bufsize)
{
	pool->bufsize = PLX_ALIGN_UP(bufsize, (uint64_t)4096);
	pool->count = count;
	pool->base = plx_dma_malloc(pool->bufsize * count, 4096);
	pool->free = plx_ring_create(PLX_RING_MP_MC, next_pow2(count), sizeof(void *));
	if (pool->base == NULL || pool->free == NULL) {
		PLX_ERRLOG("iobuf: cannot allocate %lu buffers of %lu bytes\n",
			   (unsigned long)count, (unsigned long)bufsize);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < count; i++) {
		void *buf = pool->base + i * pool->bufsize;

		plx_ring_enqueue(pool->free, &buf, 1);
	}
	return 0;
}

static void pool_fini(struct iobuf_pool *pool)
{
	plx_ring_free(pool->free);
	plx_dma_free(pool->base);
	*pool = (struct iobuf_pool){0};
}

int iobuf_init(const struct iobuf_opts *opts)
{
	int rc = pool_init(&g_small, opts->small_pool_count, opts->small_bufsize);

	if (rc == 0) {
		rc = pool_init(&g_large, opts->large_pool_count, opts->large_bufsize);
	}
	if (rc != 0) {
		iobuf_fini();
	}
	return rc;
}

void iobuf_fini(void)
{
	pool_fini(&g_small);
	pool_fini(&g_large);
}

uint64_t iobuf_large_size(void)
{
	return g_large.bufsize;
}

void *iobuf_get(uint64_t len)
{
	struct iobuf_pool *pool = len <= g_small.bufsize ? &g_small : &g_large;
	void *buf;

	if (pool->free == NULL || len > pool->bufsize) {
		return NULL;
	}
	return plx_ring_dequeue(pool->free, &buf, 1) == 1 ? buf : NULL;
}

void iobuf_put(void *buf, uint64_t len)
{
	struct iobuf_pool *pool = len <= g_small.bufsize ? &g_small : &g_large;

	plx_ring_enqueue(pool->free, &buf, 1);
}

size_t iobuf_available(bool large)
{
	const struct iobuf_pool *pool = large ? &g_large : &g_small;

	return pool->free != NULL ? plx_ring_count(pool->free) : 0;
}

/* The public face of the pools: the same buffers bdev reads get, for protocol layers. */
void *plx_iobuf_get(uint64_t len)
{
	return iobuf_get(len);
}

void plx_iobuf_put(void *buf, uint64_t len)
{
	iobuf_put(buf, len);
}

uint64_t plx_iobuf_get_large_size(void)
{
	return iobuf_large_size();
}
