/* SPDX-License-Identifier: BSD-3-Clause */
/* Options, initialisation and CPU cores. */
#include "pollux/env.h"
#include "pollux/log.h"
#include "env_internal.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static atomic_bool g_env_huge;

void plx_env_opts_init(struct plx_env_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->huge = false;
}

int plx_env_init(const struct plx_env_opts *opts)
{
	struct plx_env_opts defaults;

	if (opts == NULL) {
		plx_env_opts_init(&defaults);
		opts = &defaults;
	}
	atomic_store_explicit(&g_env_huge, opts->huge, memory_order_relaxed);
	/* Calibrate now so that the first tick read on a hot path does not pay for it. */
	(void)plx_get_ticks_hz();
	return 0;
}

bool plx_env_huge_requested(void)
{
	return atomic_load_explicit(&g_env_huge, memory_order_relaxed);
}

uint32_t plx_env_get_core_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (uint32_t)n : 1;
}

int plx_env_pin_current_thread(uint32_t core)
{
	cpu_set_t set;
	int rc;

	if (core >= CPU_SETSIZE) {
		PLX_ERRLOG("core %u is not online\n", core);
		return -EINVAL;
	}
	CPU_ZERO(&set);
	CPU_SET(core, &set);
	/* The kernel answers EINVAL for a core that is offline or outside our cpuset. */
	rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (rc != 0) {
		PLX_ERRLOG("cannot pin thread to core %u: %s\n", core, strerror(rc));
		return -rc;
	}
	return 0;
}

uint32_t plx_env_get_current_core(void)
{
	int cpu = sched_getcpu();

	return cpu >= 0 ? (uint32_t)cpu : 0;
}
