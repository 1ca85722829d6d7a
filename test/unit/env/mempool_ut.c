/* SPDX-License-Identifier: BSD-3-Clause */
#include "pollux/env.h"
#include "ut.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const size_t g_cache_sizes[] = {0, 1, 8, 32};

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;

	return x < y ? -1 : x > y;
}

/* Whether the n pointers are non-NULL, cache-line aligned and pairwise distinct. */
static bool all_distinct(void **objs, size_t n)
{
	void **copy = malloc(n * sizeof(*copy));
	bool ok = copy != NULL;

	if (ok) {
		memcpy(copy, objs, n * sizeof(*copy));
		qsort(copy, n, sizeof(*copy), ptr_cmp);
		for (size_t i = 0; i < n && ok; i++) {
			ok = copy[i] != NULL && (uintptr_t)copy[i] % 64 == 0 &&
			     (i == 0 || copy[i] != copy[i - 1]);
		}
	}
	free(copy);
	return ok;
}

static void test_mempool_create_invalid(void)
{
	errno = 0;
	CU_ASSERT_PTR_NULL(plx_mempool_create("bad", 0, 64, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(plx_mempool_create("bad", 16, 0, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(plx_mempool_create(NULL, 16, 64, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(plx_mempool_create("bad", 16, 64, 100000));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(plx_mempool_create("huge", SIZE_MAX / 8, 64, 0));
	CU_ASSERT_EQUAL(errno, ENOMEM);
	plx_mempool_free(NULL);
}

static void test_mempool_name_copied(void)
{
	char name[16] = "pool_a";
	struct plx_mempool *mp = plx_mempool_create(name, 4, 8, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	strcpy(name, "changed");
	CU_ASSERT_STRING_EQUAL(plx_mempool_get_name(mp), "pool_a");
	plx_mempool_free(mp);
}

static void test_mempool_get_put_all(void)
{
	enum { COUNT = 100 };
	void *objs[COUNT];

	for (size_t c = 0; c < sizeof(g_cache_sizes) / sizeof(g_cache_sizes[0]); c++) {
		struct plx_mempool *mp = plx_mempool_create("all", COUNT, 40, g_cache_sizes[c]);

		CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
		CU_ASSERT_EQUAL(plx_mempool_count(mp), COUNT);
		for (size_t i = 0; i < COUNT; i++) {
			objs[i] = plx_mempool_get(mp);
			CU_ASSERT_PTR_NOT_NULL(objs[i]);
			if (objs[i] != NULL) {
				/* The whole object is ours to write. */
				memset(objs[i], 0xa5, 40);
			}
		}
		CU_ASSERT(all_distinct(objs, COUNT));
		CU_ASSERT_PTR_NULL(plx_mempool_get(mp));
		CU_ASSERT_EQUAL(plx_mempool_count(mp), 0);
		for (size_t i = 0; i < COUNT; i++) {
			plx_mempool_put(mp, objs[i]);
			CU_ASSERT_EQUAL(plx_mempool_count(mp), i + 1);
		}
		/* Round two: the same objects come back again. */
		for (size_t i = 0; i < COUNT; i++) {
			objs[i] = plx_mempool_get(mp);
		}
		CU_ASSERT(all_distinct(objs, COUNT));
		CU_ASSERT_PTR_NULL(plx_mempool_get(mp));
		plx_mempool_put_bulk(mp, objs, COUNT);
		CU_ASSERT_EQUAL(plx_mempool_count(mp), COUNT);
		plx_mempool_free(mp);
	}
}

static void test_mempool_get_bulk_all_or_nothing(void)
{
	enum { COUNT = 20 };
	void *objs[COUNT + 1], *one;

	for (size_t c = 0; c < sizeof(g_cache_sizes) / sizeof(g_cache_sizes[0]); c++) {
		struct plx_mempool *mp = plx_mempool_create("bulk", COUNT, 8, g_cache_sizes[c]);

		CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
		CU_ASSERT_EQUAL(plx_mempool_get_bulk(mp, objs, COUNT + 1), -ENOMEM);
		CU_ASSERT_EQUAL(plx_mempool_count(mp), COUNT);
		CU_ASSERT_EQUAL(plx_mempool_get_bulk(mp, objs, 7), 0);
		CU_ASSERT_EQUAL(plx_mempool_count(mp), COUNT - 7);
		CU_ASSERT_EQUAL(plx_mempool_get_bulk(mp, objs + 7, COUNT - 6), -ENOMEM);
		CU_ASSERT_EQUAL(plx_mempool_count(mp), COUNT - 7);
		CU_ASSERT_EQUAL(plx_mempool_get_bulk(mp, objs + 7, COUNT - 7), 0);
		CU_ASSERT(all_distinct(objs, COUNT));
		CU_ASSERT_EQUAL(plx_mempool_count(mp), 0);
		CU_ASSERT_EQUAL(plx_mempool_get_bulk(mp, &one, 1), -ENOMEM);
		CU_ASSERT_EQUAL(plx_mempool_get_bulk(mp, objs, 0), 0);
		plx_mempool_put_bulk(mp, objs, 5);
		plx_mempool_put_bulk(mp, objs + 5, COUNT - 5);
		CU_ASSERT_EQUAL(plx_mempool_count(mp), COUNT);
		CU_ASSERT_EQUAL(plx_mempool_get_bulk(mp, objs, COUNT), 0);
		CU_ASSERT(all_distinct(objs, COUNT));
		plx_mempool_put_bulk(mp, objs, COUNT);
		plx_mempool_free(mp);
	}
}

struct ctor_obj {
	unsigned idx;
	void *arg;
	struct plx_mempool *mp;
};

static void ctor(struct plx_mempool *mp, void *cb_arg, void *obj, unsigned idx)
{
	struct ctor_obj *o = obj;
	unsigned *calls = cb_arg;

	o->idx = idx;
	o->arg = cb_arg;
	o->mp = mp;
	(*calls)++;
}

static void test_mempool_ctor(void)
{
	enum { COUNT = 50 };
	struct ctor_obj *objs[COUNT];
	bool seen[COUNT] = {false}, ok = true;
	unsigned calls = 0;
	struct plx_mempool *mp;

	mp = plx_mempool_create_ctor("ctor", COUNT, sizeof(struct ctor_obj), 4, ctor, &calls);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_EQUAL(calls, COUNT);
	CU_ASSERT_EQUAL(plx_mempool_get_bulk(mp, (void **)objs, COUNT), 0);
	for (size_t i = 0; i < COUNT; i++) {
		ok = ok && objs[i]->idx < COUNT && !seen[objs[i]->idx] && objs[i]->arg == &calls &&
		     objs[i]->mp == mp;
		if (objs[i]->idx < COUNT) {
			seen[objs[i]->idx] = true;
		}
	}
	CU_ASSERT(ok);
	plx_mempool_put_bulk(mp, (void **)objs, COUNT);
	CU_ASSERT_EQUAL(calls, COUNT);
	plx_mempool_free(mp);
}

/* ---- several OS threads ---- */

#define MT_THREADS 4

struct mt_obj {
	atomic_int owner; /* 0 when free; a thread's id + 1 while it holds the object */
	atomic_uint uses;
};

struct mt_ctx {
	struct plx_mempool *mp;
	unsigned int rounds;
	atomic_int next_id;
	atomic_uint errors;
	atomic_uint_fast64_t gets;
	pthread_barrier_t start; /* so that the workers really overlap */
};

static void *mt_worker(void *arg)
{
	struct mt_ctx *ctx = arg;
	int me = atomic_fetch_add(&ctx->next_id, 1) + 1;
	struct mt_obj *held[8];
	uint64_t gets = 0;

	pthread_barrier_wait(&ctx->start);
	for (unsigned int r = 0; r < ctx->rounds; r++) {
		size_t n = 1 + (r + (unsigned int)me) % 8;

		if (n == 1) {
			held[0] = plx_mempool_get(ctx->mp);
			if (held[0] == NULL) {
				continue;
			}
		} else if (plx_mempool_get_bulk(ctx->mp, (void **)held, n) != 0) {
			continue;
		}
		gets += n;
		for (size_t i = 0; i < n; i++) {
			int expected = 0;

			/* Another holder here means an object was handed out twice. */
			if (!atomic_compare_exchange_strong(&held[i]->owner, &expected, me)) {
				atomic_fetch_add(&ctx->errors, 1);
			}
			atomic_fetch_add(&held[i]->uses, 1);
		}
		for (size_t i = 0; i < n; i++) {
			int expected = me;

			if (!atomic_compare_exchange_strong(&held[i]->owner, &expected, 0)) {
				atomic_fetch_add(&ctx->errors, 1);
			}
		}
		if (n == 1) {
			plx_mempool_put(ctx->mp, held[0]);
		} else {
			plx_mempool_put_bulk(ctx->mp, (void **)held, n);
		}
	}
	atomic_fetch_add(&ctx->gets, gets);
	return NULL;
}

static void init_mt_obj(struct plx_mempool *mp, void *cb_arg, void *obj, unsigned idx)
{
	struct mt_obj *o = obj;

	atomic_init(&o->owner, 0);
	atomic_init(&o->uses, 0);
}

static void mt_run(size_t count, size_t cache_size, unsigned int rounds)
{
	struct mt_ctx ctx = {.rounds = rounds};
	pthread_t threads[MT_THREADS];
	struct mt_obj **objs = calloc(count, sizeof(*objs));
	uint64_t uses = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(objs);
	ctx.mp = plx_mempool_create_ctor("mt", count, sizeof(struct mt_obj), cache_size,
					 init_mt_obj, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx.mp);
	pthread_barrier_init(&ctx.start, NULL, MT_THREADS);
	for (int i = 0; i < MT_THREADS; i++) {
		CU_ASSERT_EQUAL_FATAL(pthread_create(&threads[i], NULL, mt_worker, &ctx), 0);
	}
	for (int i = 0; i < MT_THREADS; i++) {
		pthread_join(threads[i], NULL);
	}
	CU_ASSERT_EQUAL(atomic_load(&ctx.errors), 0);
	CU_ASSERT(atomic_load(&ctx.gets) > 0);
	/* Nothing lost: every object is in the ring or in some exited thread's cache. */
	CU_ASSERT_EQUAL(plx_mempool_count(ctx.mp), count);

	/* A new thread reuses an exited thread's slot, so its cache objects are not stranded. */
	pthread_barrier_destroy(&ctx.start);
	pthread_barrier_init(&ctx.start, NULL, 1);
	for (int i = 0; i < MT_THREADS; i++) {
		CU_ASSERT_EQUAL_FATAL(pthread_create(&threads[i], NULL, mt_worker, &ctx), 0);
		pthread_join(threads[i], NULL);
	}
	CU_ASSERT_EQUAL(plx_mempool_count(ctx.mp), count);
	CU_ASSERT_EQUAL(atomic_load(&ctx.errors), 0);

	/* The main thread drains what it can reach; every object seen was free and counted. */
	for (size_t i = 0; i < count; i++) {
		objs[i] = plx_mempool_get(ctx.mp);
		if (objs[i] == NULL) {
			break;
		}
		CU_ASSERT_EQUAL(atomic_load(&objs[i]->owner), 0);
		uses += atomic_load(&objs[i]->uses);
	}
	for (size_t i = 0; i < count && objs[i] != NULL; i++) {
		plx_mempool_put(ctx.mp, objs[i]);
	}
	CU_ASSERT(uses <= atomic_load(&ctx.gets));
	pthread_barrier_destroy(&ctx.start);
	plx_mempool_free(ctx.mp);
	free(objs);
}

static void test_mempool_threads(void)
{
	/* Few objects: threads run dry often, which exercises the refill and failure paths. */
	mt_run(24, 4, 50000);
	mt_run(256, 16, 50000);
	/* Without caches every call meets the others on the shared ring. */
	mt_run(64, 0, 200000);
}

static const struct plx_ut_case cases[] = {
    {"mempool_create_invalid", test_mempool_create_invalid},
    {"mempool_name_copied", test_mempool_name_copied},
    {"mempool_get_put_all", test_mempool_get_put_all},
    {"mempool_get_bulk_all_or_nothing", test_mempool_get_bulk_all_or_nothing},
    {"mempool_ctor", test_mempool_ctor},
    {"mempool_threads", test_mempool_threads},
};

PLX_UT_MAIN("env_mempool", cases)
