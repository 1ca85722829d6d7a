/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bounded lock-free rings: one implementation for every type.
 *
 * Each slot carries a sequence number that says whose turn it is. For position p (a
 * 64-bit counter that never wraps in practice) living in slot p & mask:
 *   seq == p          the slot is free for the producer of position p;
 *   seq == p + 1      the element of position p is published for its consumer;
 *   seq == p + count  the consumer released it: free for the producer of p + count.
 * Producers claim positions on tail (a CAS when several producers exist, a plain store for
 * one), write the elements, then publish each slot with a release store. Consumers do the
 * same on head. A burst claims as many consecutive ready slots as it can with one CAS.
 */
#include "pollux/env.h"
#include "pollux/util.h"
#include "env_internal.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct ring_slot {
	_Atomic uint64_t seq;
	uint64_t data[2];
};

struct plx_ring {
	/* Read-only after creation: shared by producers and consumers without ping-pong. */
	enum plx_ring_type type;
	uint64_t mask;
	size_t elem_size;
	struct ring_slot *slots;

	alignas(PLX_CACHE_LINE) _Atomic uint64_t tail; /* next position to produce */
	alignas(PLX_CACHE_LINE) _Atomic uint64_t head; /* next position to consume */
	alignas(PLX_CACHE_LINE) struct ring_slot slot_array[];
};

struct plx_ring *plx_ring_create(enum plx_ring_type type, size_t count, size_t elem_size)
{
	struct plx_ring *ring;
	size_t bytes;

	if ((type != PLX_RING_MP_SC && type != PLX_RING_SP_SC && type != PLX_RING_MP_MC) ||
	    count < 2 || !PLX_IS_POW2(count) || (elem_size != 8 && elem_size != 16)) {
		errno = EINVAL;
		return NULL;
	}
	if (count > (SIZE_MAX - sizeof(*ring)) / sizeof(struct ring_slot)) {
		errno = ENOMEM;
		return NULL;
	}
	bytes = PLX_ALIGN_UP(sizeof(*ring) + count * sizeof(struct ring_slot), PLX_CACHE_LINE);
	if (bytes < sizeof(*ring) || posix_memalign((void **)&ring, PLX_CACHE_LINE, bytes) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	memset(ring, 0, sizeof(*ring));
	ring->type = type;
	ring->mask = count - 1;
	ring->elem_size = elem_size;
	ring->slots = ring->slot_array;
	for (size_t i = 0; i < count; i++) {
		atomic_init(&ring->slots[i].seq, i);
		ring->slots[i].data[0] = 0;
		ring->slots[i].data[1] = 0;
	}
	atomic_init(&ring->tail, 0);
	atomic_init(&ring->head, 0);
	return ring;
}

void plx_ring_free(struct plx_ring *ring)
{
	free(ring);
}

/* How many consecutive slots from pos on have sequence number pos + i + offset (up to n). */
static inline size_t ready_run(struct plx_ring *ring, uint64_t pos, uint64_t offset, size_t n,
			       uint64_t *first_seq)
{
	size_t k;

	for (k = 0; k < n; k++) {
		uint64_t seq = atomic_load_explicit(&ring->slots[(pos + k) & ring->mask].seq,
						    memory_order_acquire);
		if (k == 0) {
			*first_seq = seq;
		}
		if (seq != pos + k + offset) {
			break;
		}
	}
	return k;
}

/*
 * Claim up to n positions on *counter whose slots carry sequence pos + i + offset.
 * Returns how many were claimed and their first position in *start.
 */
static inline size_t claim(struct plx_ring *ring, _Atomic uint64_t *counter, bool shared,
			   uint64_t offset, size_t n, uint64_t *start)
{
	uint64_t pos = atomic_load_explicit(counter, memory_order_relaxed);
	uint64_t first_seq = 0;
	size_t k;

	if (n == 0) {
		return 0;
	}
	for (;;) {
		k = ready_run(ring, pos, offset, n, &first_seq);
		if (k == 0) {
			/* Behind pos: the slot is still full (or empty) for us; ahead: we are
			 * stale. */
			if ((int64_t)(first_seq - (pos + offset)) < 0 || !shared) {
				return 0;
			}
			pos = atomic_load_explicit(counter, memory_order_relaxed);
			continue;
		}
		if (!shared) {
			atomic_store_explicit(counter, pos + k, memory_order_relaxed);
			break;
		}
		/*
		 * On failure pos is reloaded and the run is checked again from there. Success is
		 * sequentially consistent: env.h promises it (a sleeping consumer's handshake
		 * relies on it), and on x86 it is the same locked instruction anyway.
		 */
		if (atomic_compare_exchange_weak_explicit(
			counter, &pos, pos + k, memory_order_seq_cst, memory_order_relaxed)) {
			break;
		}
	}
	*start = pos;
	return k;
}

size_t plx_ring_enqueue(struct plx_ring *ring, const void *elems, size_t n)
{
	const uint8_t *src = elems;
	uint64_t pos;
	size_t k;

	k = claim(ring, &ring->tail, ring->type != PLX_RING_SP_SC, 0, n, &pos);
	for (size_t i = 0; i < k; i++) {
		struct ring_slot *slot = &ring->slots[(pos + i) & ring->mask];

		memcpy(slot->data, src + i * ring->elem_size, ring->elem_size);
		atomic_store_explicit(&slot->seq, pos + i + 1, memory_order_release);
	}
	return k;
}

size_t plx_ring_dequeue(struct plx_ring *ring, void *elems, size_t n)
{
	uint8_t *dst = elems;
	uint64_t pos;
	size_t k;

	k = claim(ring, &ring->head, ring->type == PLX_RING_MP_MC, 1, n, &pos);
	for (size_t i = 0; i < k; i++) {
		struct ring_slot *slot = &ring->slots[(pos + i) & ring->mask];

		memcpy(dst + i * ring->elem_size, slot->data, ring->elem_size);
		atomic_store_explicit(&slot->seq, pos + i + ring->mask + 1, memory_order_release);
	}
	return k;
}

size_t plx_ring_count(const struct plx_ring *ring)
{
	uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
	/* Sequentially consistent, as env.h promises (a plain load on x86). */
	uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_seq_cst);
	int64_t diff = (int64_t)(tail - head);

	/* The two loads race with producers and consumers: keep the answer within bounds. */
	if (diff < 0) {
		return 0;
	}
	return (uint64_t)diff > ring->mask + 1 ? ring->mask + 1 : (size_t)diff;
}

size_t plx_ring_capacity(const struct plx_ring *ring)
{
	return ring->mask + 1;
}
