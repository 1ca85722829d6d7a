/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-OS-thread slot numbers: a bitmap of taken slots, claimed on a thread's first use and
 * given back by a thread-specific-data destructor when the thread exits.
 */
#include "env_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define SLOT_WORDS (PLX_THREAD_SLOTS / 64)

__thread int plx_env_thread_slot_id = PLX_THREAD_SLOT_UNSET;

static _Atomic uint64_t g_slots_taken[SLOT_WORDS];
static pthread_key_t g_slot_key;
static bool g_slot_key_valid;
static pthread_once_t g_slot_key_once = PTHREAD_ONCE_INIT;

static void slot_release(void *arg)
{
	unsigned int slot = (unsigned int)((uintptr_t)arg - 1);

	/* Anything this thread still does (other destructors) must not use the slot any more. */
	plx_env_thread_slot_id = PLX_THREAD_SLOT_NONE;
	/* Release: the next owner sees everything this thread wrote into its caches. */
	atomic_fetch_and_explicit(&g_slots_taken[slot / 64], ~(UINT64_C(1) << (slot % 64)),
				  memory_order_release);
}

static void slot_key_create(void)
{
	g_slot_key_valid = pthread_key_create(&g_slot_key, slot_release) == 0;
}

static int slot_claim(void)
{
	for (unsigned int w = 0; w < SLOT_WORDS; w++) {
		uint64_t taken = atomic_load_explicit(&g_slots_taken[w], memory_order_relaxed);

		while (taken != UINT64_MAX) {
			unsigned int bit = (unsigned int)__builtin_ctzll(~taken);

			if (atomic_compare_exchange_weak_explicit(
				&g_slots_taken[w], &taken, taken | (UINT64_C(1) << bit),
				memory_order_acquire, memory_order_relaxed)) {
				return (int)(w * 64 + bit);
			}
		}
	}
	return PLX_THREAD_SLOT_NONE;
}

int plx_env_thread_slot_acquire(void)
{
	int slot;

	pthread_once(&g_slot_key_once, slot_key_create);
	slot = slot_claim();
	/* Without a destructor the slot could never be given back: then it is not worth taking. */
	if (slot >= 0 && (!g_slot_key_valid ||
			  pthread_setspecific(g_slot_key, (void *)(uintptr_t)(slot + 1)) != 0)) {
		atomic_fetch_and_explicit(&g_slots_taken[slot / 64], ~(UINT64_C(1) << (slot % 64)),
					  memory_order_release);
		slot = PLX_THREAD_SLOT_NONE;
	}
	plx_env_thread_slot_id = slot;
	return slot;
}
