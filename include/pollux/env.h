/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pollux env: the environment every other layer runs on. DMA-able memory, lock-free rings,
 * mempools with per-thread caches, TSC time, core pinning. No hugepages and no root are
 * needed: buffers come from ordinary memory unless plx_env_init() asked for hugepages.
 */
#ifndef POLLUX_ENV_H
#define POLLUX_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct plx_env_opts {
	/* Back DMA buffers with hugepages (memfd MFD_HUGETLB, else MAP_HUGETLB). Default false. */
	bool huge;
};

/* Defaults into opts. */
void plx_env_opts_init(struct plx_env_opts *opts);

/*
 * Calibrate time and record options. Safe to call more than once (later calls only update
 * options). Functions below work before it too, with ordinary memory and calibration on demand.
 */
int plx_env_init(const struct plx_env_opts *opts);

/* ---- memory ---- */

/*
 * A buffer usable for device I/O: aligned to align (a power of two; 0 means 4096), and the
 * whole buffer page-aligned when size >= 4096. Hugepage-backed when the env asked for it and
 * hugepages are available (falls back to ordinary pages with a notice). NULL when out of memory.
 */
void *plx_dma_malloc(size_t size, size_t align);

/* Like plx_dma_malloc, zero-filled. */
void *plx_dma_zmalloc(size_t size, size_t align);

/* Free a buffer from plx_dma_malloc/zmalloc; NULL is allowed. */
void plx_dma_free(void *buf);

/*
 * Drivers that cache a device address (IOVA, physical address) per buffer register a hook:
 * plx_dma_free calls fn(ctx, buf, len) before the memory goes back, from the freeing thread,
 * so a later buffer at the same address is never given the old translation. At most
 * PLX_DMA_FREE_HOOKS hooks; register returns -ENOSPC beyond that. Hooks must be quick and
 * thread-safe; registering and unregistering are for set-up and tear-down, not hot paths.
 */
#define PLX_DMA_FREE_HOOKS 16
typedef void (*plx_dma_free_hook)(void *ctx, void *buf, size_t len);
int plx_dma_register_free_hook(plx_dma_free_hook fn, void *ctx);
void plx_dma_unregister_free_hook(plx_dma_free_hook fn, void *ctx);

/* ---- time ---- */

/* A monotonic tick counter (the TSC when invariant, else CLOCK_MONOTONIC in ns). Cheap. */
uint64_t plx_get_ticks(void);

/* Ticks per second of plx_get_ticks(). */
uint64_t plx_get_ticks_hz(void);

/* Busy-wait for us microseconds. */
void plx_delay_us(unsigned int us);

/* ---- cores ---- */

/* Number of online CPUs. */
uint32_t plx_env_get_core_count(void);

/* Pin the calling OS thread to one core. -EINVAL for a core that is not online. */
int plx_env_pin_current_thread(uint32_t core);

/* The core the calling OS thread runs on now (sched_getcpu). */
uint32_t plx_env_get_current_core(void);

/* ---- rings ---- */

/*
 * Bounded lock-free rings of fixed-size elements (8 or 16 bytes: a pointer, or a function
 * pointer and its argument). Producers and consumers never block and never take a lock.
 * MP_SC: any number of producer threads, one consumer thread (message queues).
 * SP_SC: one producer thread, one consumer thread. MP_MC: any number of each (pools).
 * Using a ring with more producers or consumers than its type allows is undefined.
 */
enum plx_ring_type {
	PLX_RING_MP_SC,
	PLX_RING_SP_SC,
	PLX_RING_MP_MC,
};

struct plx_ring;

/*
 * A ring of count slots (a power of two >= 2) of elem_size bytes (8 or 16).
 * NULL with errno EINVAL or ENOMEM.
 */
struct plx_ring *plx_ring_create(enum plx_ring_type type, size_t count, size_t elem_size);

/* Free a ring; NULL is allowed. The caller makes sure nobody uses it any more. */
void plx_ring_free(struct plx_ring *ring);

/*
 * Copy up to n elements from elems (n * elem_size bytes) into the ring, in order.
 * Returns how many went in (0..n): fewer than n only when the ring filled up.
 *
 * Ordering promise for MP_SC and MP_MC rings: claiming positions is a sequentially consistent
 * read-modify-write, and plx_ring_count() reads the producer position with sequential
 * consistency. A consumer that stores a "sleeping" flag (seq_cst) and then calls
 * plx_ring_count(), and a producer that enqueues and then loads the flag (seq_cst), cannot both
 * miss each other, with no extra fence. SP_SC rings make no such promise.
 */
size_t plx_ring_enqueue(struct plx_ring *ring, const void *elems, size_t n);

/* Move up to n elements out of the ring into elems, oldest first; returns how many. */
size_t plx_ring_dequeue(struct plx_ring *ring, void *elems, size_t n);

/* Elements in the ring now (exact only when no one is enqueuing or dequeuing). */
size_t plx_ring_count(const struct plx_ring *ring);

/* Slots in the ring. */
size_t plx_ring_capacity(const struct plx_ring *ring);

/* ---- mempools ---- */

/*
 * A pool of count fixed-size objects (elem_size bytes, cache-line aligned) allocated once.
 * get/put never allocate and never lock: each OS thread keeps a private cache of up to
 * cache_size objects (0 = no cache) refilled from and drained to a shared lock-free ring
 * in batches. Objects are not zeroed by get.
 */
struct plx_mempool;

typedef void (*plx_mempool_obj_cb)(struct plx_mempool *mp, void *cb_arg, void *obj, unsigned idx);

/* NULL with errno EINVAL or ENOMEM. name is copied (for statistics and logs). */
struct plx_mempool *plx_mempool_create(const char *name, size_t count, size_t elem_size,
				       size_t cache_size);

/* As plx_mempool_create, calling obj_init once on every object at creation. */
struct plx_mempool *plx_mempool_create_ctor(const char *name, size_t count, size_t elem_size,
					    size_t cache_size, plx_mempool_obj_cb obj_init,
					    void *obj_init_arg);

/*
 * Free the pool and its objects. Objects still held by callers become invalid.
 * Per-thread caches are released too; NULL is allowed.
 */
void plx_mempool_free(struct plx_mempool *mp);

/* One object, or NULL when the pool is empty. */
void *plx_mempool_get(struct plx_mempool *mp);

/* n objects into objs, all or nothing: 0, or -ENOMEM with nothing taken. */
int plx_mempool_get_bulk(struct plx_mempool *mp, void **objs, size_t n);

/* Return an object that came from this pool. */
void plx_mempool_put(struct plx_mempool *mp, void *obj);

void plx_mempool_put_bulk(struct plx_mempool *mp, void **objs, size_t n);

/* Objects available: in the shared ring plus every thread's cache. */
size_t plx_mempool_count(const struct plx_mempool *mp);

const char *plx_mempool_get_name(const struct plx_mempool *mp);

#ifdef __cplusplus
}
#endif
#endif
