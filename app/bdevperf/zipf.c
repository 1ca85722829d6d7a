/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Zipf-distributed ranks for -F, by the method of Gray et al., "Quickly Generating
 * Billion-Record Synthetic Databases" (SIGMOD 1994): one pow() per draw after an O(n) set-up
 * that sums the generalised harmonic number zeta(n, theta).
 */
#include <math.h>
#include <stdlib.h>

#include "rand.h"

struct bp_zipf {
	uint64_t n;
	double theta;
	double alpha;
	double zetan;
	double eta;
	double half_pow_theta; /* 1 + 0.5^theta: the cut between ranks 1 and the rest */
};

static double zeta(uint64_t n, double theta)
{
	double sum = 0.0;

	for (uint64_t i = 1; i <= n; i++) {
		sum += 1.0 / pow((double)i, theta);
	}
	return sum;
}

struct bp_zipf *bp_zipf_create(uint64_t n, double theta)
{
	struct bp_zipf *z;
	double zeta2;

	if (n == 0 || theta <= 0.0 || theta == 1.0) {
		return NULL;
	}
	z = calloc(1, sizeof(*z));
	if (z == NULL) {
		return NULL;
	}
	z->n = n;
	z->theta = theta;
	z->alpha = 1.0 / (1.0 - theta);
	z->zetan = zeta(n, theta);
	zeta2 = zeta(2, theta);
	z->eta = (1.0 - pow(2.0 / (double)n, 1.0 - theta)) / (1.0 - zeta2 / z->zetan);
	z->half_pow_theta = 1.0 + pow(0.5, theta);
	return z;
}

uint64_t bp_zipf_next(struct bp_zipf *z, struct bp_rand *r)
{
	double u = bp_rand_double(r);
	double uz = u * z->zetan;
	uint64_t rank;

	if (uz < 1.0 || z->n == 1) {
		return 0;
	}
	if (uz < z->half_pow_theta) {
		return 1;
	}
	rank = (uint64_t)((double)z->n * pow(z->eta * u - z->eta + 1.0, z->alpha));
	return rank < z->n ? rank : z->n - 1;
}

void bp_zipf_free(struct bp_zipf *z)
{
	free(z);
}
