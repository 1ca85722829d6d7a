/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared between the files of lib/env; not a public interface. */
#ifndef POLLUX_ENV_INTERNAL_H
#define POLLUX_ENV_INTERNAL_H

#include <stdbool.h>

#include "pollux/util.h"

/* Whether plx_env_init() asked for hugepage-backed DMA buffers. */
bool plx_env_huge_requested(void);

/*
 * A small index per live OS thread, for per-thread caches (mempools). Indexes of exited
 * threads are reused, so caches a thread leaves behind serve its successor.
 */
#define PLX_THREAD_SLOTS      256
#define PLX_THREAD_SLOT_UNSET (-1)
#define PLX_THREAD_SLOT_NONE  (-2) /* every slot taken: this thread runs without caches */

extern __thread int plx_env_thread_slot_id;

int plx_env_thread_slot_acquire(void);

/* The calling thread's slot (0..PLX_THREAD_SLOTS-1), or PLX_THREAD_SLOT_NONE. */
static inline int plx_thread_slot(void)
{
	int slot = plx_env_thread_slot_id;

	if (plx_unlikely(slot == PLX_THREAD_SLOT_UNSET)) {
		slot = plx_env_thread_slot_acquire();
	}
	return slot;
}

/* Spin-loop hint: lets the sibling hyperthread run while we wait. */
static inline void plx_env_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

#endif
