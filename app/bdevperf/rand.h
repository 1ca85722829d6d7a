/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offsets for random workloads: a per-job xorshift64* generator (a few cycles, no shared
 * state) and a Zipf generator for -F. Bounding uses a multiply-high instead of a division:
 * the bias is below 2^-40 for any bdev size that matters, and a 64-bit divide costs more than
 * the rest of the submit path.
 */
#ifndef BDEVPERF_RAND_H
#define BDEVPERF_RAND_H

#include <stdint.h>

struct bp_rand {
	uint64_t s;
};

static inline void bp_rand_seed(struct bp_rand *r, uint64_t seed)
{
	/* xorshift must not start at zero; mix the seed so close seeds diverge at once. */
	seed = (seed ^ 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
	r->s = seed != 0 ? seed : 1;
}

static inline uint64_t bp_rand_next(struct bp_rand *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n). */
static inline uint64_t bp_rand_below(struct bp_rand *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)bp_rand_next(r) * n) >> 64);
}

/* Uniform double in [0, 1). */
static inline double bp_rand_double(struct bp_rand *r)
{
	return (double)(bp_rand_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Zipf over [0, n) with exponent theta (> 0, != 1): rank 0 is the most popular. */
struct bp_zipf;

struct bp_zipf *bp_zipf_create(uint64_t n, double theta);
uint64_t bp_zipf_next(struct bp_zipf *z, struct bp_rand *r);
void bp_zipf_free(struct bp_zipf *z);

#endif
