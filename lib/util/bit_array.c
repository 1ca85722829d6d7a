/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bit arrays stored as 64-bit words. Invariant: bits past num_bits in the last word are
 * always zero, so counting and growing never need to mask them.
 */
#include "pollux/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WORD_BITS 64u

struct plx_bit_array {
	uint32_t num_bits;
	uint64_t words[];
};

static inline size_t word_count(uint32_t num_bits)
{
	return ((size_t)num_bits + WORD_BITS - 1) / WORD_BITS;
}

static inline size_t alloc_size(uint32_t num_bits)
{
	return sizeof(struct plx_bit_array) + word_count(num_bits) * sizeof(uint64_t);
}

/* Mask of the valid bits in the last word; all ones when num_bits fills it exactly. */
static inline uint64_t last_word_mask(uint32_t num_bits)
{
	uint32_t rem = num_bits % WORD_BITS;

	return rem == 0 ? UINT64_MAX : (UINT64_C(1) << rem) - 1;
}

struct plx_bit_array *plx_bit_array_create(uint32_t num_bits)
{
	struct plx_bit_array *ba = calloc(1, alloc_size(num_bits));

	if (ba != NULL) {
		ba->num_bits = num_bits;
	}
	return ba;
}

void plx_bit_array_free(struct plx_bit_array **ba)
{
	if (ba == NULL) {
		return;
	}
	free(*ba);
	*ba = NULL;
}

int plx_bit_array_resize(struct plx_bit_array **ba, uint32_t num_bits)
{
	struct plx_bit_array *nba;
	uint32_t old_bits;
	size_t old_words, new_words;

	if (ba == NULL) {
		return -EINVAL;
	}
	old_bits = *ba != NULL ? (*ba)->num_bits : 0;
	old_words = word_count(old_bits);
	new_words = word_count(num_bits);

	nba = realloc(*ba, alloc_size(num_bits));
	if (nba == NULL) {
		return -ENOMEM;
	}
	if (new_words > old_words) {
		memset(&nba->words[old_words], 0, (new_words - old_words) * sizeof(uint64_t));
	}
	/* Clearing here (after realloc succeeded) keeps the -ENOMEM case side-effect free. */
	if (num_bits < old_bits && new_words > 0) {
		nba->words[new_words - 1] &= last_word_mask(num_bits);
	}
	nba->num_bits = num_bits;
	*ba = nba;
	return 0;
}

uint32_t plx_bit_array_capacity(const struct plx_bit_array *ba)
{
	return ba != NULL ? ba->num_bits : 0;
}

bool plx_bit_array_get(const struct plx_bit_array *ba, uint32_t i)
{
	if (ba == NULL || i >= ba->num_bits) {
		return false;
	}
	return (ba->words[i / WORD_BITS] >> (i % WORD_BITS)) & 1u;
}

int plx_bit_array_set(struct plx_bit_array *ba, uint32_t i)
{
	if (ba == NULL || i >= ba->num_bits) {
		return -EINVAL;
	}
	ba->words[i / WORD_BITS] |= UINT64_C(1) << (i % WORD_BITS);
	return 0;
}

void plx_bit_array_clear(struct plx_bit_array *ba, uint32_t i)
{
	if (ba == NULL || i >= ba->num_bits) {
		return;
	}
	ba->words[i / WORD_BITS] &= ~(UINT64_C(1) << (i % WORD_BITS));
}

/*
 * Shared scan: invert == UINT64_MAX turns "find clear" into "find set". The last word's
 * padding reads as set when inverted, so the result is bounded by num_bits.
 */
static uint32_t find_first(const struct plx_bit_array *ba, uint32_t start, uint64_t invert)
{
	size_t nwords, w;
	uint64_t word;

	if (ba == NULL || start >= ba->num_bits) {
		return UINT32_MAX;
	}
	nwords = word_count(ba->num_bits);
	w = start / WORD_BITS;
	word = (ba->words[w] ^ invert) & (UINT64_MAX << (start % WORD_BITS));
	for (;;) {
		if (word != 0) {
			size_t idx = w * WORD_BITS + (size_t)__builtin_ctzll(word);

			return idx < ba->num_bits ? (uint32_t)idx : UINT32_MAX;
		}
		if (++w >= nwords) {
			return UINT32_MAX;
		}
		word = ba->words[w] ^ invert;
	}
}

uint32_t plx_bit_array_find_first_set(const struct plx_bit_array *ba, uint32_t start)
{
	return find_first(ba, start, 0);
}

uint32_t plx_bit_array_find_first_clear(const struct plx_bit_array *ba, uint32_t start)
{
	return find_first(ba, start, UINT64_MAX);
}

uint32_t plx_bit_array_count_set(const struct plx_bit_array *ba)
{
	size_t nwords;
	uint32_t count = 0;

	if (ba == NULL) {
		return 0;
	}
	nwords = word_count(ba->num_bits);
	for (size_t w = 0; w < nwords; w++) {
		count += (uint32_t)__builtin_popcountll(ba->words[w]);
	}
	return count;
}
