/* SPDX-License-Identifier: BSD-3-Clause */
#include "ut.h"

#include "pollux/util.h"

#include <errno.h>

static void check_ok(const char *str, uint64_t expect)
{
	uint64_t v = 0xdeadbeef;

	CU_ASSERT_EQUAL(plx_parse_size(str, &v), 0);
	CU_ASSERT_EQUAL(v, expect);
}

static void check_err(const char *str, int err)
{
	uint64_t v = 0xdeadbeef;

	CU_ASSERT_EQUAL(plx_parse_size(str, &v), err);
	CU_ASSERT_EQUAL(v, 0xdeadbeef); /* untouched on error */
}

static void test_plain_numbers(void)
{
	check_ok("0", 0);
	check_ok("1", 1);
	check_ok("4096", 4096);
	check_ok("007", 7);
	check_ok("18446744073709551615", UINT64_MAX);
	check_ok("000000000000000000000000018446744073709551615", UINT64_MAX);
}

static void test_suffixes(void)
{
	check_ok("4k", 4096);
	check_ok("4K", 4096);
	check_ok("4kb", 4096);
	check_ok("4KB", 4096);
	check_ok("4Kb", 4096);
	check_ok("4kib", 4096);
	check_ok("4KiB", 4096);
	check_ok("4KIB", 4096);
	check_ok("1m", UINT64_C(1) << 20);
	check_ok("3M", UINT64_C(3) << 20);
	check_ok("3MiB", UINT64_C(3) << 20);
	check_ok("1G", UINT64_C(1) << 30);
	check_ok("2gb", UINT64_C(2) << 30);
	check_ok("1t", UINT64_C(1) << 40);
	check_ok("5TiB", UINT64_C(5) << 40);
	check_ok("0k", 0);
}

static void test_invalid(void)
{
	static const char *const bad[] = {
	    "",	    "-1",   "+1",   "4x",   "k",     "KiB", " 4",  "4 ",  "4 k",
	    "4k ",  "4kk",  "4kB ", "4ki",  "4kibb", "4i",  "4b",  "4B",  "4p",
	    "0x10", "1.5k", "4e3",  "4kbi", "4mg",   "\t1", "4\n", "abc",
	};

	for (size_t i = 0; i < PLX_COUNTOF(bad); i++) {
		check_err(bad[i], -EINVAL);
	}
	uint64_t v;
	CU_ASSERT_EQUAL(plx_parse_size(NULL, &v), -EINVAL);
	CU_ASSERT_EQUAL(plx_parse_size("1", NULL), -EINVAL);
}

static void test_overflow(void)
{
	check_err("18446744073709551616", -ERANGE);
	check_err("99999999999999999999999", -ERANGE);
	/* 2^24 TiB is 2^64: one past the top. */
	check_err("16777216t", -ERANGE);
	check_ok("16777215t", UINT64_C(16777215) << 40);
	check_err("17179869184G", -ERANGE);
	check_ok("17179869183G", UINT64_C(17179869183) << 30);
	check_err("18014398509481984k", -ERANGE);
	check_ok("18014398509481983k", UINT64_C(18014398509481983) << 10);
	/* Junk is reported as junk even when the number is also too big. */
	check_err("99999999999999999999999x", -EINVAL);
}

static const struct plx_ut_case cases[] = {
    {"plain_numbers", test_plain_numbers},
    {"suffixes", test_suffixes},
    {"invalid", test_invalid},
    {"overflow", test_overflow},
};

PLX_UT_MAIN("util_size", cases)
