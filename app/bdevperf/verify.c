/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * verify: every 8-byte word of a write carries a value derived from its block's LBA, the
 * run's seed, the write's generation and the word's place in the block. A read-back that
 * returns another block's data, stale data from an earlier write, or data from another run
 * therefore differs in (almost) every word, not just somewhere.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pollux/env.h"

#include "bdevperf.h"

/* Fixed per process: a rerun over the same bdev must not pass on the previous run's data. */
static uint64_t g_seed;

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

void bp_verify_init(void)
{
	if (g_seed == 0) {
		g_seed = mix64(plx_get_ticks_hz() ^ plx_get_ticks() ^ (uint64_t)getpid()) | 1;
	}
}

/* Words of a block differ by a constant stride, so one mix per block is enough. */
static inline uint64_t block_base(uint64_t lba, uint64_t generation)
{
	return mix64(g_seed ^ mix64(lba * 0x9e3779b97f4a7c15ull + generation));
}

#define WORD_STRIDE 0xd1b54a32d192ed03ull

void bp_verify_fill(const struct bp_job *job, void *buf, uint64_t offset_blocks,
		    uint64_t generation)
{
	uint64_t words = job->block_size / sizeof(uint64_t);
	uint64_t *w = buf;

	for (uint64_t b = 0; b < job->io_blocks; b++) {
		uint64_t v = block_base(offset_blocks + b, generation);

		for (uint64_t i = 0; i < words; i++) {
			*w++ = v;
			v += WORD_STRIDE;
		}
	}
}

bool bp_verify_check(const struct bp_job *job, const void *wbuf, const void *rbuf,
		     uint64_t offset_blocks)
{
	uint64_t words = job->block_size / sizeof(uint64_t);
	uint64_t n = job->io_blocks * words;
	const uint64_t *e = wbuf, *g = rbuf;

	if (plx_likely(memcmp(wbuf, rbuf, n * sizeof(uint64_t)) == 0)) {
		return true;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (e[i] != g[i]) {
			printf("verify failed: bdev %s LBA %" PRIu64 " offset %" PRIu64
			       ": expected 0x%016" PRIx64 " got 0x%016" PRIx64 "\n",
			       job->bdev_name, offset_blocks + i / words,
			       (i % words) * sizeof(uint64_t), e[i], g[i]);
			fflush(stdout);
			break;
		}
	}
	return false;
}
