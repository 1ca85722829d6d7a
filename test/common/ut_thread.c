/* SPDX-License-Identifier: BSD-3-Clause */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "pollux/env.h"
#include "ut_thread.h"

#define UT_MAX_THREADS 16

static struct plx_thread *g_ut_threads[UT_MAX_THREADS];
static unsigned int g_ut_count;
static uint64_t g_ut_now = 1;
/* Microseconds advanced so far: ticks are derived from the total so no rounding accumulates. */
static uint64_t g_ut_total_us;

static uint64_t ut_clock(void)
{
	return g_ut_now;
}

void ut_threads_init(unsigned int n)
{
	char name[16];
	int rc;

	assert(n > 0 && n <= UT_MAX_THREADS);
	g_ut_now = 1;
	g_ut_total_us = 0;
	rc = plx_thread_lib_init(NULL, 0, false);
	assert(rc == 0);
	(void)rc;
	plx_thread_lib_set_clock(ut_clock);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "ut%u", i);
		g_ut_threads[i] = plx_thread_create(name, NULL);
		assert(g_ut_threads[i] != NULL);
	}
	g_ut_count = n;
	ut_set_thread(0);
}

void ut_threads_fini(void)
{
	bool all_exited;
	unsigned int rounds = 0;

	for (unsigned int i = 0; i < g_ut_count; i++) {
		ut_set_thread(i);
		plx_thread_exit(g_ut_threads[i]);
	}
	do {
		all_exited = true;
		for (unsigned int i = 0; i < g_ut_count; i++) {
			plx_thread_poll(g_ut_threads[i], 0, g_ut_now);
			all_exited &= plx_thread_is_exited(g_ut_threads[i]);
		}
	} while (!all_exited && ++rounds < 100000);
	if (!all_exited) {
		fprintf(stderr,
			"ut_threads_fini: threads did not exit (pollers or channels left)\n");
		abort();
	}
	for (unsigned int i = 0; i < g_ut_count; i++) {
		plx_thread_destroy(g_ut_threads[i]);
		g_ut_threads[i] = NULL;
	}
	g_ut_count = 0;
	plx_set_thread(NULL);
	plx_thread_lib_fini();
}

struct plx_thread *ut_thread(unsigned int i)
{
	assert(i < g_ut_count);
	return g_ut_threads[i];
}

void ut_set_thread(unsigned int i)
{
	plx_set_thread(ut_thread(i));
}

int ut_poll_thread(unsigned int i)
{
	int rc = plx_thread_poll(ut_thread(i), 0, g_ut_now);

	ut_set_thread(i);
	return rc;
}

unsigned int ut_poll_threads(void)
{
	unsigned int rounds = 0;
	int busy;

	do {
		busy = 0;
		for (unsigned int i = 0; i < g_ut_count; i++) {
			busy += plx_thread_poll(g_ut_threads[i], 0, g_ut_now);
		}
		rounds++;
	} while (busy > 0 && rounds < 1000000);
	return rounds;
}

uint64_t ut_now(void)
{
	return g_ut_now;
}

void ut_advance_time_us(uint64_t us)
{
	g_ut_total_us += us;
	g_ut_now = 1 + (uint64_t)((unsigned __int128)g_ut_total_us * plx_get_ticks_hz() / 1000000);
}
