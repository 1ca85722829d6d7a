/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ticks: the TSC when the CPU says it is invariant (constant rate, runs in deep C-states),
 * calibrated once against CLOCK_MONOTONIC_RAW; otherwise CLOCK_MONOTONIC in nanoseconds.
 */
#include "pollux/env.h"
#include "pollux/util.h"
#include "env_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define PLX_HAVE_TSC 1
#else
#define PLX_HAVE_TSC 0
#endif

#define NS_PER_SEC     1000000000ull
#define CALIBRATION_NS 10000000ull /* 10 ms: long enough for ~1e-4 accuracy, short at startup */

enum tick_source {
	TICKS_UNSET = 0,
	TICKS_TSC,
	TICKS_CLOCK,
};

static atomic_int g_tick_source;
static uint64_t g_ticks_hz; /* written once before g_tick_source is published */
static pthread_once_t g_calibrate_once = PTHREAD_ONCE_INIT;

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

#if PLX_HAVE_TSC
static bool flags_have_word(char *flags, const char *word)
{
	char *save = NULL;

	for (char *tok = strtok_r(flags, " \t\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (strcmp(tok, word) == 0) {
			return true;
		}
	}
	return false;
}

static bool cpu_has_invariant_tsc(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char *line = NULL, *copy;
	size_t cap = 0;
	bool found = false;

	if (f == NULL) {
		return false;
	}
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "flags", 5) != 0) {
			continue;
		}
		/* Only the first CPU's flags matter: they are the same on every core. */
		copy = strdup(line);
		found = copy != NULL && flags_have_word(copy, "constant_tsc");
		free(copy);
		found = found && flags_have_word(line, "nonstop_tsc");
		break;
	}
	free(line);
	fclose(f);
	return found;
}

static uint64_t calibrate_tsc(void)
{
	uint64_t t0, t1, c0, c1;

	t0 = clock_ns(CLOCK_MONOTONIC_RAW);
	c0 = __rdtsc();
	do {
		t1 = clock_ns(CLOCK_MONOTONIC_RAW);
	} while (t1 - t0 < CALIBRATION_NS);
	c1 = __rdtsc();
	return (uint64_t)((unsigned __int128)(c1 - c0) * NS_PER_SEC / (t1 - t0));
}
#endif

static void calibrate(void)
{
	int source = TICKS_CLOCK;
	uint64_t hz = NS_PER_SEC;

#if PLX_HAVE_TSC
	if (cpu_has_invariant_tsc()) {
		uint64_t tsc_hz = calibrate_tsc();

		if (tsc_hz != 0) {
			hz = tsc_hz;
			source = TICKS_TSC;
		}
	}
#endif
	g_ticks_hz = hz;
	atomic_store_explicit(&g_tick_source, source, memory_order_release);
}

static inline int tick_source(void)
{
	int source = atomic_load_explicit(&g_tick_source, memory_order_acquire);

	if (plx_unlikely(source == TICKS_UNSET)) {
		pthread_once(&g_calibrate_once, calibrate);
		source = atomic_load_explicit(&g_tick_source, memory_order_acquire);
	}
	return source;
}

uint64_t plx_get_ticks(void)
{
#if PLX_HAVE_TSC
	if (plx_likely(tick_source() == TICKS_TSC)) {
		return __rdtsc();
	}
#else
	(void)tick_source();
#endif
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t plx_get_ticks_hz(void)
{
	(void)tick_source();
	return g_ticks_hz;
}

void plx_delay_us(unsigned int us)
{
	uint64_t start = plx_get_ticks();
	uint64_t wait = (uint64_t)us * plx_get_ticks_hz() / 1000000ull;

	while (plx_get_ticks() - start < wait) {
		plx_env_cpu_relax();
	}
}
