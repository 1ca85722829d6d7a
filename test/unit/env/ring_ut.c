/* SPDX-License-Identifier: BSD-3-Clause */
#include "pollux/env.h"
#include "ut.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const enum plx_ring_type g_types[] = {PLX_RING_MP_SC, PLX_RING_SP_SC, PLX_RING_MP_MC};

/* Elements are read and written as up to two words so one helper serves both sizes. */
struct elem {
	uint64_t w[2];
};

static struct elem make_elem(uint64_t v)
{
	struct elem e = {{v, ~v}};

	return e;
}

/* Pack n elements of elem_size bytes starting at value first into buf. */
static void pack(void *buf, size_t elem_size, uint64_t first, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct elem e = make_elem(first + i);

		memcpy((uint8_t *)buf + i * elem_size, &e, elem_size);
	}
}

/* Whether buf holds n elements with values first, first + 1, ... */
static bool check(const void *buf, size_t elem_size, uint64_t first, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct elem want = make_elem(first + i), got;

		memcpy(&got, (const uint8_t *)buf + i * elem_size, elem_size);
		if (memcmp(&got, &want, elem_size) != 0) {
			return false;
		}
	}
	return true;
}

static void test_ring_create_invalid(void)
{
	static const size_t bad_counts[] = {0, 1, 3, 6, 100};
	static const size_t bad_sizes[] = {0, 1, 4, 12, 24, 32};
	struct plx_ring *ring;

	for (size_t i = 0; i < sizeof(bad_counts) / sizeof(bad_counts[0]); i++) {
		errno = 0;
		CU_ASSERT_PTR_NULL(plx_ring_create(PLX_RING_MP_SC, bad_counts[i], 8));
		CU_ASSERT_EQUAL(errno, EINVAL);
	}
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		errno = 0;
		CU_ASSERT_PTR_NULL(plx_ring_create(PLX_RING_MP_MC, 8, bad_sizes[i]));
		CU_ASSERT_EQUAL(errno, EINVAL);
	}
	errno = 0;
	CU_ASSERT_PTR_NULL(plx_ring_create((enum plx_ring_type)42, 8, 8));
	CU_ASSERT_EQUAL(errno, EINVAL);

	ring = plx_ring_create(PLX_RING_SP_SC, 2, 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_EQUAL(plx_ring_capacity(ring), 2);
	plx_ring_free(ring);
	plx_ring_free(NULL);
}

static void one_type_fifo(enum plx_ring_type type, size_t elem_size)
{
	struct plx_ring *ring = plx_ring_create(type, 8, elem_size);
	uint8_t buf[16 * 16];

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_EQUAL(plx_ring_capacity(ring), 8);
	CU_ASSERT_EQUAL(plx_ring_count(ring), 0);
	CU_ASSERT_EQUAL(plx_ring_dequeue(ring, buf, 1), 0);

	/* One at a time until full. */
	for (uint64_t i = 0; i < 8; i++) {
		pack(buf, elem_size, 100 + i, 1);
		CU_ASSERT_EQUAL(plx_ring_enqueue(ring, buf, 1), 1);
		CU_ASSERT_EQUAL(plx_ring_count(ring), i + 1);
	}
	pack(buf, elem_size, 999, 1);
	CU_ASSERT_EQUAL(plx_ring_enqueue(ring, buf, 1), 0);
	CU_ASSERT_EQUAL(plx_ring_count(ring), 8);

	/* Oldest first, one at a time. */
	for (uint64_t i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(plx_ring_dequeue(ring, buf, 1), 1);
		CU_ASSERT(check(buf, elem_size, 100 + i, 1));
	}
	CU_ASSERT_EQUAL(plx_ring_dequeue(ring, buf, 1), 0);
	CU_ASSERT_EQUAL(plx_ring_count(ring), 0);

	/* Bursts: a partial enqueue when the ring fills, a partial dequeue when it empties. */
	pack(buf, elem_size, 0, 5);
	CU_ASSERT_EQUAL(plx_ring_enqueue(ring, buf, 5), 5);
	pack(buf, elem_size, 5, 5);
	CU_ASSERT_EQUAL(plx_ring_enqueue(ring, buf, 5), 3);
	CU_ASSERT_EQUAL(plx_ring_count(ring), 8);
	CU_ASSERT_EQUAL(plx_ring_enqueue(ring, buf, 5), 0);
	CU_ASSERT_EQUAL(plx_ring_enqueue(ring, buf, 0), 0);
	CU_ASSERT_EQUAL(plx_ring_dequeue(ring, buf, 0), 0);
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(plx_ring_dequeue(ring, buf, 3), 3);
	CU_ASSERT(check(buf, elem_size, 0, 3));
	CU_ASSERT_EQUAL(plx_ring_dequeue(ring, buf, 16), 5);
	CU_ASSERT(check(buf, elem_size, 3, 5));
	CU_ASSERT_EQUAL(plx_ring_count(ring), 0);

	plx_ring_free(ring);
}

static void test_ring_fifo_full_empty(void)
{
	for (size_t t = 0; t < 3; t++) {
		one_type_fifo(g_types[t], 8);
		one_type_fifo(g_types[t], 16);
	}
}

static void one_type_wrap(enum plx_ring_type type, size_t elem_size)
{
	struct plx_ring *ring = plx_ring_create(type, 4, elem_size);
	uint8_t buf[8 * 16];
	uint64_t in = 0, out = 0;
	bool ok = true;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	/* Uneven bursts so that positions straddle the end of the slot array in every way. */
	for (unsigned int lap = 0; lap < 3000; lap++) {
		size_t n_in = 1 + lap % 4, n_out = 1 + (lap * 7) % 5, got;

		pack(buf, elem_size, in, n_in);
		got = plx_ring_enqueue(ring, buf, n_in);
		ok = ok && got <= n_in && in + got - out <= 4;
		in += got;
		got = plx_ring_dequeue(ring, buf, n_out);
		ok = ok && check(buf, elem_size, out, got);
		out += got;
		ok = ok && plx_ring_count(ring) == in - out;
	}
	CU_ASSERT(ok);
	CU_ASSERT(in > 3000);
	out += plx_ring_dequeue(ring, buf, 8);
	CU_ASSERT_EQUAL(in, out);
	plx_ring_free(ring);
}

static void test_ring_wraparound(void)
{
	for (size_t t = 0; t < 3; t++) {
		one_type_wrap(g_types[t], 8);
		one_type_wrap(g_types[t], 16);
	}
}

/* ---- several OS threads ---- */

#define MAX_PRODUCERS 4

struct mt_ctx {
	struct plx_ring *ring;
	size_t elem_size;
	uint64_t per_producer;
	unsigned int producers;
	atomic_uint next_id;
	atomic_uint_fast64_t consumed;
	atomic_uint errors;
	atomic_uchar *seen; /* MP_MC: how often each element arrived */
};

/* Element value: producer id in the top bits, its sequence number below. */
static uint64_t elem_value(unsigned int id, uint64_t seq)
{
	return ((uint64_t)id << 40) | seq;
}

static void *producer_main(void *arg)
{
	struct mt_ctx *ctx = arg;
	unsigned int id = atomic_fetch_add(&ctx->next_id, 1);
	uint8_t buf[8 * 16];
	uint64_t seq = 0;

	while (seq < ctx->per_producer) {
		size_t n = 1 + seq % 7, done = 0;

		if (n > ctx->per_producer - seq) {
			n = ctx->per_producer - seq;
		}
		pack(buf, ctx->elem_size, elem_value(id, seq), n);
		while (done < n) {
			size_t k =
			    plx_ring_enqueue(ctx->ring, buf + done * ctx->elem_size, n - done);

			if (k == 0) {
				sched_yield();
			}
			done += k;
		}
		seq += n;
	}
	return NULL;
}

static bool elem_valid(const struct mt_ctx *ctx, const uint8_t *p, uint64_t *value)
{
	struct elem e;

	memcpy(&e, p, ctx->elem_size);
	*value = e.w[0];
	return ctx->elem_size == 8 || e.w[1] == ~e.w[0];
}

/* Single consumer: every producer's elements must come in its order, each exactly once. */
static void *ordered_consumer_main(void *arg)
{
	struct mt_ctx *ctx = arg;
	uint64_t next[MAX_PRODUCERS] = {0}, total = ctx->per_producer * ctx->producers, got = 0;
	uint8_t buf[16 * 16];

	while (got < total) {
		size_t k = plx_ring_dequeue(ctx->ring, buf, 16);

		if (k == 0) {
			sched_yield();
		}
		for (size_t i = 0; i < k; i++) {
			uint64_t v;
			unsigned int id;

			if (!elem_valid(ctx, buf + i * ctx->elem_size, &v) ||
			    (id = (unsigned int)(v >> 40)) >= ctx->producers ||
			    (v & ((UINT64_C(1) << 40) - 1)) != next[id]) {
				atomic_fetch_add(&ctx->errors, 1);
				return NULL;
			}
			next[id]++;
		}
		got += k;
	}
	return NULL;
}

static void run_threads(struct mt_ctx *ctx, void *(*consumer)(void *), unsigned int consumers)
{
	pthread_t prod[MAX_PRODUCERS], cons[MAX_PRODUCERS];

	for (unsigned int i = 0; i < consumers; i++) {
		CU_ASSERT_EQUAL_FATAL(pthread_create(&cons[i], NULL, consumer, ctx), 0);
	}
	for (unsigned int i = 0; i < ctx->producers; i++) {
		CU_ASSERT_EQUAL_FATAL(pthread_create(&prod[i], NULL, producer_main, ctx), 0);
	}
	for (unsigned int i = 0; i < ctx->producers; i++) {
		pthread_join(prod[i], NULL);
	}
	for (unsigned int i = 0; i < consumers; i++) {
		pthread_join(cons[i], NULL);
	}
}

static void mp_sc_contention(unsigned int producers, size_t elem_size)
{
	struct mt_ctx ctx = {
	    .elem_size = elem_size, .per_producer = 100000, .producers = producers};

	ctx.ring = plx_ring_create(PLX_RING_MP_SC, 64, elem_size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx.ring);
	run_threads(&ctx, ordered_consumer_main, 1);
	CU_ASSERT_EQUAL(atomic_load(&ctx.errors), 0);
	CU_ASSERT_EQUAL(plx_ring_count(ctx.ring), 0);
	plx_ring_free(ctx.ring);
}

static void test_ring_mp_sc_two_producers(void)
{
	mp_sc_contention(2, 8);
	mp_sc_contention(2, 16);
}

static void test_ring_mp_sc_three_producers(void)
{
	mp_sc_contention(3, 8);
	mp_sc_contention(3, 16);
}

static void test_ring_sp_sc_million(void)
{
	struct mt_ctx ctx = {.elem_size = 8, .per_producer = 1000000, .producers = 1};

	ctx.ring = plx_ring_create(PLX_RING_SP_SC, 256, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx.ring);
	run_threads(&ctx, ordered_consumer_main, 1);
	CU_ASSERT_EQUAL(atomic_load(&ctx.errors), 0);
	plx_ring_free(ctx.ring);
}

/* Several consumers: mark each element; the multiset must equal what was produced. */
static void *marking_consumer_main(void *arg)
{
	struct mt_ctx *ctx = arg;
	uint64_t total = ctx->per_producer * ctx->producers;
	uint8_t buf[16 * 16];

	while (atomic_load(&ctx->consumed) < total) {
		size_t k = plx_ring_dequeue(ctx->ring, buf, 1 + atomic_load(&ctx->consumed) % 16);

		if (k == 0) {
			sched_yield();
		}
		for (size_t i = 0; i < k; i++) {
			uint64_t v, seq;
			unsigned int id;

			if (!elem_valid(ctx, buf + i * ctx->elem_size, &v) ||
			    (id = (unsigned int)(v >> 40)) >= ctx->producers ||
			    (seq = v & ((UINT64_C(1) << 40) - 1)) >= ctx->per_producer) {
				atomic_fetch_add(&ctx->errors, 1);
				continue;
			}
			atomic_fetch_add(&ctx->seen[id * ctx->per_producer + seq], 1);
		}
		atomic_fetch_add(&ctx->consumed, k);
	}
	return NULL;
}

static void mp_mc_contention(size_t elem_size)
{
	struct mt_ctx ctx = {.elem_size = elem_size, .per_producer = 100000, .producers = 2};
	uint64_t total = ctx.per_producer * ctx.producers, bad = 0;

	ctx.seen = calloc(total, sizeof(*ctx.seen));
	ctx.ring = plx_ring_create(PLX_RING_MP_MC, 32, elem_size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx.seen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx.ring);
	run_threads(&ctx, marking_consumer_main, 2);
	CU_ASSERT_EQUAL(atomic_load(&ctx.errors), 0);
	CU_ASSERT_EQUAL(atomic_load(&ctx.consumed), total);
	for (uint64_t i = 0; i < total; i++) {
		bad += atomic_load(&ctx.seen[i]) != 1;
	}
	CU_ASSERT_EQUAL(bad, 0);
	plx_ring_free(ctx.ring);
	free(ctx.seen);
}

static void test_ring_mp_mc_two_by_two(void)
{
	mp_mc_contention(8);
	mp_mc_contention(16);
}

static const struct plx_ut_case cases[] = {
    {"ring_create_invalid", test_ring_create_invalid},
    {"ring_fifo_full_empty", test_ring_fifo_full_empty},
    {"ring_wraparound", test_ring_wraparound},
    {"ring_mp_sc_two_producers", test_ring_mp_sc_two_producers},
    {"ring_mp_sc_three_producers", test_ring_mp_sc_three_producers},
    {"ring_sp_sc_million", test_ring_sp_sc_million},
    {"ring_mp_mc_two_by_two", test_ring_mp_mc_two_by_two},
};

PLX_UT_MAIN("env_ring", cases)
