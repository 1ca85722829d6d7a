/* SPDX-License-Identifier: BSD-3-Clause */
#include "ut.h"

#include "pollux/util.h"

#include <errno.h>

static void test_create_empty(void)
{
	struct plx_bit_array *ba = plx_bit_array_create(100);

	CU_ASSERT_PTR_NOT_NULL_FATAL(ba);
	CU_ASSERT_EQUAL(plx_bit_array_capacity(ba), 100);
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 0);
	for (uint32_t i = 0; i < 100; i++) {
		CU_ASSERT_FALSE(plx_bit_array_get(ba, i));
	}
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 0), UINT32_MAX);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 0), 0);
	plx_bit_array_free(&ba);
	CU_ASSERT_PTR_NULL(ba);
}

static void test_zero_bits(void)
{
	struct plx_bit_array *ba = plx_bit_array_create(0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(ba);
	CU_ASSERT_EQUAL(plx_bit_array_capacity(ba), 0);
	CU_ASSERT_FALSE(plx_bit_array_get(ba, 0));
	CU_ASSERT_EQUAL(plx_bit_array_set(ba, 0), -EINVAL);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 0), UINT32_MAX);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 0), UINT32_MAX);
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 0);
	CU_ASSERT_EQUAL(plx_bit_array_resize(&ba, 10), 0);
	CU_ASSERT_EQUAL(plx_bit_array_capacity(ba), 10);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 0), 0);
	plx_bit_array_free(&ba);
}

static void test_free_null(void)
{
	struct plx_bit_array *ba = NULL;

	plx_bit_array_free(&ba);
	plx_bit_array_free(NULL);
	CU_ASSERT_PTR_NULL(ba);
}

static void test_set_get_clear(void)
{
	struct plx_bit_array *ba = plx_bit_array_create(130);

	CU_ASSERT_PTR_NOT_NULL_FATAL(ba);
	CU_ASSERT_EQUAL(plx_bit_array_set(ba, 0), 0);
	CU_ASSERT_EQUAL(plx_bit_array_set(ba, 63), 0);
	CU_ASSERT_EQUAL(plx_bit_array_set(ba, 64), 0);
	CU_ASSERT_EQUAL(plx_bit_array_set(ba, 129), 0);
	CU_ASSERT_EQUAL(plx_bit_array_set(ba, 129), 0); /* idempotent */
	CU_ASSERT_TRUE(plx_bit_array_get(ba, 0));
	CU_ASSERT_TRUE(plx_bit_array_get(ba, 63));
	CU_ASSERT_TRUE(plx_bit_array_get(ba, 64));
	CU_ASSERT_TRUE(plx_bit_array_get(ba, 129));
	CU_ASSERT_FALSE(plx_bit_array_get(ba, 1));
	CU_ASSERT_FALSE(plx_bit_array_get(ba, 65));
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 4);

	plx_bit_array_clear(ba, 63);
	CU_ASSERT_FALSE(plx_bit_array_get(ba, 63));
	CU_ASSERT_TRUE(plx_bit_array_get(ba, 64));
	plx_bit_array_clear(ba, 63); /* already clear */
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 3);
	plx_bit_array_free(&ba);
}

static void test_out_of_range(void)
{
	struct plx_bit_array *ba = plx_bit_array_create(70);

	CU_ASSERT_PTR_NOT_NULL_FATAL(ba);
	CU_ASSERT_EQUAL(plx_bit_array_set(ba, 70), -EINVAL);
	CU_ASSERT_EQUAL(plx_bit_array_set(ba, UINT32_MAX), -EINVAL);
	CU_ASSERT_FALSE(plx_bit_array_get(ba, 70));
	CU_ASSERT_FALSE(plx_bit_array_get(ba, UINT32_MAX));
	plx_bit_array_clear(ba, 70);
	plx_bit_array_clear(ba, UINT32_MAX);
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 0);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 70), UINT32_MAX);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 70), UINT32_MAX);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, UINT32_MAX), UINT32_MAX);
	plx_bit_array_free(&ba);
}

static void test_find_first_set(void)
{
	struct plx_bit_array *ba = plx_bit_array_create(300);

	CU_ASSERT_PTR_NOT_NULL_FATAL(ba);
	plx_bit_array_set(ba, 5);
	plx_bit_array_set(ba, 64);
	plx_bit_array_set(ba, 200);
	plx_bit_array_set(ba, 299);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 0), 5);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 5), 5);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 6), 64); /* crosses a word */
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 63), 64);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 65), 200); /* skips a whole word */
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 201), 299);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 299), 299);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 300), UINT32_MAX);
	plx_bit_array_clear(ba, 299);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 201), UINT32_MAX);

	/* Walking every set bit visits exactly the set bits. */
	uint32_t seen = 0;
	for (uint32_t i = plx_bit_array_find_first_set(ba, 0); i != UINT32_MAX;
	     i = plx_bit_array_find_first_set(ba, i + 1)) {
		CU_ASSERT_TRUE(plx_bit_array_get(ba, i));
		seen++;
	}
	CU_ASSERT_EQUAL(seen, plx_bit_array_count_set(ba));
	plx_bit_array_free(&ba);
}

static void test_find_first_clear(void)
{
	struct plx_bit_array *ba = plx_bit_array_create(200);

	CU_ASSERT_PTR_NOT_NULL_FATAL(ba);
	for (uint32_t i = 0; i < 200; i++) {
		CU_ASSERT_EQUAL(plx_bit_array_set(ba, i), 0);
	}
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 200);
	/* Full array: the padding past bit 199 must not be reported as clear. */
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 0), UINT32_MAX);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 199), UINT32_MAX);
	plx_bit_array_clear(ba, 130);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 0), 130); /* crosses two words */
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 130), 130);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 131), UINT32_MAX);
	plx_bit_array_clear(ba, 63);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 0), 63);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 64), 130);
	plx_bit_array_free(&ba);
}

/* An exact multiple of 64 bits has no padding; the scan must stop at the last word. */
static void test_find_word_multiple(void)
{
	struct plx_bit_array *ba = plx_bit_array_create(128);

	CU_ASSERT_PTR_NOT_NULL_FATAL(ba);
	for (uint32_t i = 0; i < 128; i++) {
		plx_bit_array_set(ba, i);
	}
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 0), UINT32_MAX);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 127), 127);
	plx_bit_array_clear(ba, 127);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 0), 127);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 127), UINT32_MAX);
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 127);
	plx_bit_array_free(&ba);
}

static void test_resize_grow(void)
{
	struct plx_bit_array *ba = plx_bit_array_create(10);

	CU_ASSERT_PTR_NOT_NULL_FATAL(ba);
	plx_bit_array_set(ba, 3);
	plx_bit_array_set(ba, 9);
	CU_ASSERT_EQUAL(plx_bit_array_resize(&ba, 1000), 0);
	CU_ASSERT_EQUAL(plx_bit_array_capacity(ba), 1000);
	CU_ASSERT_TRUE(plx_bit_array_get(ba, 3));
	CU_ASSERT_TRUE(plx_bit_array_get(ba, 9));
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 2);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 10), UINT32_MAX);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(ba, 10), 10);
	CU_ASSERT_EQUAL(plx_bit_array_set(ba, 999), 0);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 10), 999);
	plx_bit_array_free(&ba);
}

static void test_resize_shrink_then_grow(void)
{
	struct plx_bit_array *ba = plx_bit_array_create(256);

	CU_ASSERT_PTR_NOT_NULL_FATAL(ba);
	for (uint32_t i = 0; i < 256; i += 3) {
		plx_bit_array_set(ba, i);
	}
	/* Shrink into the middle of a word: bits past the new end go away. */
	CU_ASSERT_EQUAL(plx_bit_array_resize(&ba, 70), 0);
	CU_ASSERT_EQUAL(plx_bit_array_capacity(ba), 70);
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 24); /* 0, 3, ..., 69 */
	CU_ASSERT_TRUE(plx_bit_array_get(ba, 69));
	CU_ASSERT_FALSE(plx_bit_array_get(ba, 72));
	CU_ASSERT_EQUAL(plx_bit_array_set(ba, 70), -EINVAL);

	/* Growing again exposes clear bits, not the ones dropped by the shrink. */
	CU_ASSERT_EQUAL(plx_bit_array_resize(&ba, 256), 0);
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 24);
	for (uint32_t i = 0; i < 256; i++) {
		CU_ASSERT_EQUAL(plx_bit_array_get(ba, i), i < 70 && i % 3 == 0);
	}
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(ba, 70), UINT32_MAX);

	/* Shrink to a word boundary, then to zero. */
	CU_ASSERT_EQUAL(plx_bit_array_resize(&ba, 64), 0);
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 22); /* 0, 3, ..., 63 */
	CU_ASSERT_EQUAL(plx_bit_array_resize(&ba, 0), 0);
	CU_ASSERT_EQUAL(plx_bit_array_capacity(ba), 0);
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 0);
	CU_ASSERT_EQUAL(plx_bit_array_resize(&ba, 65), 0);
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 0);
	plx_bit_array_free(&ba);
}

static void test_resize_null(void)
{
	struct plx_bit_array *ba = NULL;

	CU_ASSERT_EQUAL(plx_bit_array_resize(NULL, 10), -EINVAL);
	/* Resizing a NULL array creates one. */
	CU_ASSERT_EQUAL(plx_bit_array_resize(&ba, 10), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ba);
	CU_ASSERT_EQUAL(plx_bit_array_capacity(ba), 10);
	CU_ASSERT_EQUAL(plx_bit_array_count_set(ba), 0);
	plx_bit_array_free(&ba);
}

static void test_null_array(void)
{
	CU_ASSERT_EQUAL(plx_bit_array_capacity(NULL), 0);
	CU_ASSERT_FALSE(plx_bit_array_get(NULL, 0));
	CU_ASSERT_EQUAL(plx_bit_array_set(NULL, 0), -EINVAL);
	plx_bit_array_clear(NULL, 0);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_set(NULL, 0), UINT32_MAX);
	CU_ASSERT_EQUAL(plx_bit_array_find_first_clear(NULL, 0), UINT32_MAX);
	CU_ASSERT_EQUAL(plx_bit_array_count_set(NULL), 0);
}

static const struct plx_ut_case cases[] = {
    {"create_empty", test_create_empty},
    {"zero_bits", test_zero_bits},
    {"free_null", test_free_null},
    {"set_get_clear", test_set_get_clear},
    {"out_of_range", test_out_of_range},
    {"find_first_set", test_find_first_set},
    {"find_first_clear", test_find_first_clear},
    {"find_word_multiple", test_find_word_multiple},
    {"resize_grow", test_resize_grow},
    {"resize_shrink_then_grow", test_resize_shrink_then_grow},
    {"resize_null", test_resize_null},
    {"null_array", test_null_array},
};

PLX_UT_MAIN("util_bit_array", cases)
