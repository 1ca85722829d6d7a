/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mempools: count objects in one cache-line-aligned allocation, a shared MP_MC ring of free
 * object pointers, and a private cache per OS thread so that most get/put calls touch no
 * shared cache line. Caches refill from and drain to the ring in batches of cache_size / 2.
 */
#include "pollux/env.h"
#include "pollux/log.h"
#include "pollux/util.h"
#include "env_internal.h"

#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MEMPOOL_CACHE_MAX 512
#define FILL_CHUNK	  64

struct mempool_cache {
	/* Written only by the owning thread; atomic so plx_mempool_count() may read it. */
	alignas(PLX_CACHE_LINE) _Atomic size_t len;
	void **objs;
};

struct plx_mempool {
	char *name;
	struct plx_ring *ring;
	uint8_t *objs;
	size_t count;
	size_t stride;
	size_t cache_size;
	size_t batch;
	struct mempool_cache *caches; /* PLX_THREAD_SLOTS entries, or NULL without caches */
	void **cache_storage;
};

static size_t roundup_pow2(size_t v)
{
	size_t p = 2;

	while (p < v) {
		p <<= 1;
	}
	return p;
}

static bool mempool_owns(const struct plx_mempool *mp, const void *obj)
{
	const uint8_t *p = obj;

	return p >= mp->objs && p < mp->objs + mp->count * mp->stride &&
	       (size_t)(p - mp->objs) % mp->stride == 0;
}

/* Enqueue every object. Ring capacity >= count, so a miss only means a consumer is between
 * claiming a slot and releasing it: wait for it. */
static void ring_put_all(struct plx_mempool *mp, void *const *objs, size_t n)
{
	size_t done = 0;
	unsigned int spins = 0;

	while (done < n) {
		size_t k = plx_ring_enqueue(mp->ring, objs + done, n - done);

		done += k;
		if (k == 0 && ++spins % 64 == 0) {
			sched_yield();
		} else if (k == 0) {
			plx_env_cpu_relax();
		}
	}
}

/* Dequeue up to n objects; a burst can stop early under contention, so keep going. */
static size_t ring_get_some(struct plx_mempool *mp, void **objs, size_t n)
{
	size_t done = 0, k;

	while (done < n && (k = plx_ring_dequeue(mp->ring, objs + done, n - done)) != 0) {
		done += k;
	}
	return done;
}

static int ring_get_all(struct plx_mempool *mp, void **objs, size_t n)
{
	size_t got = ring_get_some(mp, objs, n);

	if (got < n) {
		ring_put_all(mp, objs, got);
		return -ENOMEM;
	}
	return 0;
}

static inline struct mempool_cache *thread_cache(const struct plx_mempool *mp)
{
	int slot;

	if (mp->caches == NULL) {
		return NULL;
	}
	slot = plx_thread_slot();
	return slot >= 0 ? &mp->caches[slot] : NULL;
}

static int mempool_alloc_caches(struct plx_mempool *mp)
{
	if (mp->cache_size == 0) {
		return 0;
	}
	if (posix_memalign((void **)&mp->caches, PLX_CACHE_LINE,
			   PLX_THREAD_SLOTS * sizeof(*mp->caches)) != 0) {
		mp->caches = NULL;
		return -ENOMEM;
	}
	/* Large and mostly untouched: the kernel backs only the pages that threads use. */
	mp->cache_storage = calloc(PLX_THREAD_SLOTS * mp->cache_size, sizeof(void *));
	if (mp->cache_storage == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < PLX_THREAD_SLOTS; i++) {
		atomic_init(&mp->caches[i].len, 0);
		mp->caches[i].objs = &mp->cache_storage[i * mp->cache_size];
	}
	return 0;
}

static void mempool_fill(struct plx_mempool *mp, plx_mempool_obj_cb obj_init, void *obj_init_arg)
{
	void *chunk[FILL_CHUNK];
	size_t n = 0;

	for (size_t i = 0; i < mp->count; i++) {
		void *obj = mp->objs + i * mp->stride;

		if (obj_init != NULL) {
			obj_init(mp, obj_init_arg, obj, (unsigned)i);
		}
		chunk[n++] = obj;
		if (n == FILL_CHUNK || i + 1 == mp->count) {
			ring_put_all(mp, chunk, n);
			n = 0;
		}
	}
}

static bool mempool_args_valid(const char *name, size_t count, size_t elem_size, size_t cache_size)
{
	if (name == NULL || count == 0 || elem_size == 0 || cache_size > MEMPOOL_CACHE_MAX) {
		PLX_ERRLOG(
		    "invalid mempool %s: count %zu, elem_size %zu, cache_size %zu (max %d)\n",
		    name != NULL ? name : "(null)", count, elem_size, cache_size,
		    MEMPOOL_CACHE_MAX);
		return false;
	}
	return true;
}

struct plx_mempool *plx_mempool_create_ctor(const char *name, size_t count, size_t elem_size,
					    size_t cache_size, plx_mempool_obj_cb obj_init,
					    void *obj_init_arg)
{
	struct plx_mempool *mp;

	if (!mempool_args_valid(name, count, elem_size, cache_size)) {
		errno = EINVAL;
		return NULL;
	}
	mp = calloc(1, sizeof(*mp));
	if (mp == NULL) {
		goto nomem;
	}
	mp->count = count;
	mp->cache_size = cache_size;
	mp->batch = PLX_MAX(cache_size / 2, (size_t)1);
	mp->stride =
	    elem_size > SIZE_MAX - PLX_CACHE_LINE ? 0 : PLX_ALIGN_UP(elem_size, PLX_CACHE_LINE);
	mp->name = strdup(name);
	if (mp->name == NULL || mp->stride == 0 || count > SIZE_MAX / 2 ||
	    count > SIZE_MAX / mp->stride) {
		goto nomem;
	}
	mp->objs = plx_dma_malloc(count * mp->stride, PLX_CACHE_LINE);
	mp->ring = plx_ring_create(PLX_RING_MP_MC, roundup_pow2(count), sizeof(void *));
	if (mp->objs == NULL || mp->ring == NULL || mempool_alloc_caches(mp) != 0) {
		goto nomem;
	}
	mempool_fill(mp, obj_init, obj_init_arg);
	return mp;

nomem:
	PLX_ERRLOG("cannot allocate mempool %s of %zu objects of %zu bytes\n", name, count,
		   elem_size);
	plx_mempool_free(mp);
	errno = ENOMEM;
	return NULL;
}

struct plx_mempool *plx_mempool_create(const char *name, size_t count, size_t elem_size,
				       size_t cache_size)
{
	return plx_mempool_create_ctor(name, count, elem_size, cache_size, NULL, NULL);
}

void plx_mempool_free(struct plx_mempool *mp)
{
	if (mp == NULL) {
		return;
	}
	free(mp->cache_storage);
	free(mp->caches);
	plx_ring_free(mp->ring);
	plx_dma_free(mp->objs);
	free(mp->name);
	free(mp);
}

int plx_mempool_get_bulk(struct plx_mempool *mp, void **objs, size_t n)
{
	struct mempool_cache *cache = thread_cache(mp);
	size_t len;

	if (cache == NULL) {
		return ring_get_all(mp, objs, n);
	}
	len = atomic_load_explicit(&cache->len, memory_order_relaxed);
	if (n > mp->cache_size) {
		/* Too many for the cache to hold: the shortfall comes straight from the ring. */
		if (ring_get_all(mp, objs, n - len) != 0) {
			return -ENOMEM;
		}
		memcpy(objs + (n - len), cache->objs, len * sizeof(void *));
		atomic_store_explicit(&cache->len, 0, memory_order_relaxed);
		return 0;
	}
	if (len < n) {
		size_t want = PLX_MIN(PLX_MAX(mp->batch, n - len), mp->cache_size - len);

		len += ring_get_some(mp, &cache->objs[len], want);
		if (len < n) {
			/* What came from the ring stays in the cache: nothing is handed out. */
			atomic_store_explicit(&cache->len, len, memory_order_relaxed);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < n; i++) {
		objs[i] = cache->objs[len - 1 - i];
	}
	atomic_store_explicit(&cache->len, len - n, memory_order_relaxed);
	return 0;
}

void *plx_mempool_get(struct plx_mempool *mp)
{
	void *obj;

	return plx_mempool_get_bulk(mp, &obj, 1) == 0 ? obj : NULL;
}

void plx_mempool_put_bulk(struct plx_mempool *mp, void **objs, size_t n)
{
	struct mempool_cache *cache = thread_cache(mp);
	size_t len, drain;

	(void)mempool_owns; /* only used by assert() */
	for (size_t i = 0; i < n; i++) {
		assert(mempool_owns(mp, objs[i]));
	}
	if (cache == NULL || n > mp->cache_size) {
		ring_put_all(mp, objs, n);
		return;
	}
	len = atomic_load_explicit(&cache->len, memory_order_relaxed);
	if (len + n > mp->cache_size) {
		/* Drain the oldest (coldest) objects and keep the recently used ones. */
		drain = PLX_MIN(PLX_MAX(mp->batch, len + n - mp->cache_size), len);
		ring_put_all(mp, cache->objs, drain);
		memmove(cache->objs, cache->objs + drain, (len - drain) * sizeof(void *));
		len -= drain;
	}
	memcpy(&cache->objs[len], objs, n * sizeof(void *));
	atomic_store_explicit(&cache->len, len + n, memory_order_relaxed);
}

void plx_mempool_put(struct plx_mempool *mp, void *obj)
{
	plx_mempool_put_bulk(mp, &obj, 1);
}

size_t plx_mempool_count(const struct plx_mempool *mp)
{
	size_t total = plx_ring_count(mp->ring);

	if (mp->caches != NULL) {
		for (size_t i = 0; i < PLX_THREAD_SLOTS; i++) {
			total += atomic_load_explicit(&mp->caches[i].len, memory_order_relaxed);
		}
	}
	return PLX_MIN(total, mp->count);
}

const char *plx_mempool_get_name(const struct plx_mempool *mp)
{
	return mp->name;
}
