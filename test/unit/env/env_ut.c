/* SPDX-License-Identifier: BSD-3-Clause */
#include "pollux/env.h"
#include "ut.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

static void *read_hz(void *arg)
{
	*(uint64_t *)arg = plx_get_ticks_hz();
	return NULL;
}

/* Runs first: two threads race into the lazy calibration and must agree. */
static void test_time_lazy_calibration(void)
{
	pthread_t t[2];
	uint64_t hz[2] = {0, 0};

	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, read_hz, &hz[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
	}
	CU_ASSERT(hz[0] > 1000000);
	CU_ASSERT_EQUAL(hz[0], hz[1]);
	CU_ASSERT_EQUAL(hz[0], plx_get_ticks_hz());
}

static void test_env_init(void)
{
	struct plx_env_opts opts;

	memset(&opts, 0xff, sizeof(opts));
	plx_env_opts_init(&opts);
	CU_ASSERT_FALSE(opts.huge);
	CU_ASSERT_EQUAL(plx_env_init(&opts), 0);
	CU_ASSERT_EQUAL(plx_env_init(&opts), 0);
	CU_ASSERT_EQUAL(plx_env_init(NULL), 0);
}

static void test_time_ticks(void)
{
	uint64_t hz = plx_get_ticks_hz(), prev = plx_get_ticks(), start = prev, now;
	bool monotonic = true;

	CU_ASSERT(hz > 1000000);
	for (int i = 0; i < 100000; i++) {
		now = plx_get_ticks();
		monotonic = monotonic && now >= prev;
		prev = now;
	}
	CU_ASSERT(monotonic);
	/* The busy wait itself guarantees at least this much has passed. */
	start = plx_get_ticks();
	plx_delay_us(2000);
	CU_ASSERT(plx_get_ticks() - start >= hz / 500);
	start = plx_get_ticks();
	plx_delay_us(0);
	CU_ASSERT(plx_get_ticks() >= start);
}

static void check_buffers(size_t align)
{
	static const size_t sizes[] = {1, 8, 100, 4095, 4096, 10000, 1 << 20};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t want = align == 0 ? 4096 : align;
		uint8_t *buf = plx_dma_malloc(sizes[i], align);

		if (sizes[i] >= 4096 && want < 4096) {
			want = 4096;
		}
		CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
		CU_ASSERT_EQUAL((uintptr_t)buf % want, 0);
		memset(buf, 0x5a, sizes[i]);
		plx_dma_free(buf);
	}
}

static void test_dma_malloc_alignment(void)
{
	static const size_t aligns[] = {0, 1, 8, 64, 512, 4096, 65536, 4 << 20};

	for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		check_buffers(aligns[i]);
	}
	errno = 0;
	CU_ASSERT_PTR_NULL(plx_dma_malloc(64, 3));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(plx_dma_malloc(64, 4097));
	plx_dma_free(NULL);
}

static void check_zmalloc(void)
{
	static const size_t sizes[] = {64, 5000, 300000};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *buf = plx_dma_malloc(sizes[i], 64), *z;
		bool zero = true;

		/* Dirty memory first, so that a reused block would show if zmalloc skipped it. */
		CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
		memset(buf, 0xff, sizes[i]);
		plx_dma_free(buf);
		z = plx_dma_zmalloc(sizes[i], 64);
		CU_ASSERT_PTR_NOT_NULL_FATAL(z);
		for (size_t j = 0; j < sizes[i]; j++) {
			zero = zero && z[j] == 0;
		}
		CU_ASSERT(zero);
		plx_dma_free(z);
	}
}

static void test_dma_zmalloc(void)
{
	check_zmalloc();
}

/* With hugepages asked for, buffers work whether or not the machine has any. */
static void test_dma_huge(void)
{
	struct plx_env_opts opts;
	void *bufs[4];

	plx_env_opts_init(&opts);
	opts.huge = true;
	CU_ASSERT_EQUAL(plx_env_init(&opts), 0);
	check_buffers(0);
	check_buffers(4096);
	check_buffers(4 << 20);
	check_zmalloc();
	/* Several at once, freed out of order, to exercise the registry. */
	for (int i = 0; i < 4; i++) {
		bufs[i] = plx_dma_zmalloc((size_t)(i + 1) << 20, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(bufs[i]);
		memset(bufs[i], i, (size_t)(i + 1) << 20);
	}
	plx_dma_free(bufs[2]);
	plx_dma_free(bufs[0]);
	plx_dma_free(bufs[3]);
	plx_dma_free(bufs[1]);
	opts.huge = false;
	CU_ASSERT_EQUAL(plx_env_init(&opts), 0);
}

static void test_cores(void)
{
	uint32_t n = plx_env_get_core_count();
	cpu_set_t saved;

	CU_ASSERT(n >= 1);
	CU_ASSERT(plx_env_get_current_core() < CPU_SETSIZE);
	CU_ASSERT_EQUAL_FATAL(pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved), 0);
	if (CPU_ISSET(0, &saved)) {
		CU_ASSERT_EQUAL(plx_env_pin_current_thread(0), 0);
		CU_ASSERT_EQUAL(plx_env_get_current_core(), 0);
	}
	CU_ASSERT_EQUAL(plx_env_pin_current_thread(UINT32_MAX), -EINVAL);
	CU_ASSERT_EQUAL(plx_env_pin_current_thread(CPU_SETSIZE), -EINVAL);
	if (n < CPU_SETSIZE - 1) {
		CU_ASSERT_EQUAL(plx_env_pin_current_thread(CPU_SETSIZE - 1), -EINVAL);
	}
	CU_ASSERT_EQUAL(pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved), 0);
}

struct hook_seen {
	void *buf;
	size_t len;
	int calls;
};

static void record_free(void *ctx, void *buf, size_t len)
{
	struct hook_seen *seen = ctx;

	seen->buf = buf;
	seen->len = len;
	seen->calls++;
}

static void test_dma_free_hooks(void)
{
	struct hook_seen a = {0}, b = {0};
	void *buf = plx_dma_malloc(8192, 0);

	CU_ASSERT_EQUAL(plx_dma_register_free_hook(record_free, &a), 0);
	CU_ASSERT_EQUAL(plx_dma_register_free_hook(record_free, &b), 0);
	plx_dma_free(buf);
	/* Both drivers hear of it, with the whole buffer, before the memory goes. */
	CU_ASSERT_EQUAL(a.calls, 1);
	CU_ASSERT_EQUAL(b.calls, 1);
	CU_ASSERT_PTR_EQUAL(a.buf, buf);
	CU_ASSERT(a.len >= 8192);
	plx_dma_unregister_free_hook(record_free, &a);
	plx_dma_free(plx_dma_malloc(100, 0));
	CU_ASSERT_EQUAL(a.calls, 1);
	CU_ASSERT_EQUAL(b.calls, 2);
	plx_dma_unregister_free_hook(record_free, &b);
	plx_dma_free(NULL);
	CU_ASSERT_EQUAL(b.calls, 2);

	/* The table is bounded and slots come back. */
	struct hook_seen many[PLX_DMA_FREE_HOOKS + 1];
	int i;

	for (i = 0; i < PLX_DMA_FREE_HOOKS; i++) {
		CU_ASSERT_EQUAL(plx_dma_register_free_hook(record_free, &many[i]), 0);
	}
	CU_ASSERT_EQUAL(plx_dma_register_free_hook(record_free, &many[i]), -ENOSPC);
	for (i = 0; i < PLX_DMA_FREE_HOOKS; i++) {
		plx_dma_unregister_free_hook(record_free, &many[i]);
	}
	CU_ASSERT_EQUAL(plx_dma_register_free_hook(record_free, &a), 0);
	plx_dma_unregister_free_hook(record_free, &a);
}

static const struct plx_ut_case cases[] = {
    {"dma_free_hooks", test_dma_free_hooks},
    {"time_lazy_calibration", test_time_lazy_calibration},
    {"env_init", test_env_init},
    {"time_ticks", test_time_ticks},
    {"dma_malloc_alignment", test_dma_malloc_alignment},
    {"dma_zmalloc", test_dma_zmalloc},
    {"dma_huge", test_dma_huge},
    {"cores", test_cores},
};

PLX_UT_MAIN("env_misc", cases)
