/* SPDX-License-Identifier: BSD-3-Clause */
#include "ut.h"

#include "pollux/util.h"

struct outer {
	int a;
	char pad[13];
	long member;
};

static void test_min_max_countof(void)
{
	int arr[7];

	CU_ASSERT_EQUAL(PLX_COUNTOF(arr), 7);
	CU_ASSERT_EQUAL(PLX_MIN(3, 5), 3);
	CU_ASSERT_EQUAL(PLX_MIN(-3, 5), -3);
	CU_ASSERT_EQUAL(PLX_MAX(3, 5), 5);
	CU_ASSERT_EQUAL(PLX_MAX(5, 5), 5);
	CU_ASSERT_TRUE(plx_likely(1));
	CU_ASSERT_FALSE(plx_unlikely(0));
	CU_ASSERT_EQUAL(plx_likely(42), 1);
}

static void test_align_pow2(void)
{
	CU_ASSERT_EQUAL(PLX_ALIGN_UP(0u, 8u), 0u);
	CU_ASSERT_EQUAL(PLX_ALIGN_UP(1u, 8u), 8u);
	CU_ASSERT_EQUAL(PLX_ALIGN_UP(8u, 8u), 8u);
	CU_ASSERT_EQUAL(PLX_ALIGN_UP(4097ul, 4096ul), 8192ul);
	/* The mask takes the value's width, so 64-bit values keep their high bits. */
	uint64_t big = (UINT64_C(1) << 40) + 1;
	CU_ASSERT_EQUAL(PLX_ALIGN_UP(big, 512), (UINT64_C(1) << 40) + 512);
	CU_ASSERT_TRUE(PLX_IS_POW2(1));
	CU_ASSERT_TRUE(PLX_IS_POW2(64));
	CU_ASSERT_TRUE(PLX_IS_POW2(UINT64_C(1) << 63));
	CU_ASSERT_FALSE(PLX_IS_POW2(0));
	CU_ASSERT_FALSE(PLX_IS_POW2(6));
	CU_ASSERT_EQUAL(PLX_CACHE_LINE, 64);
}

static void test_containerof(void)
{
	struct outer o;
	long *m = &o.member;

	CU_ASSERT_PTR_EQUAL(PLX_CONTAINEROF(m, struct outer, member), &o);
}

static const struct plx_ut_case cases[] = {
    {"min_max_countof", test_min_max_countof},
    {"align_pow2", test_align_pow2},
    {"containerof", test_containerof},
};

PLX_UT_MAIN("util_macros", cases)
