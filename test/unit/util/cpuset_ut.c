/* SPDX-License-Identifier: BSD-3-Clause */
#include "ut.h"

#include "pollux/util.h"

#include <errno.h>
#include <string.h>

#define FMT_BUF_LEN (PLX_CPUSET_MAX_CPUS / 4 + 1)

static void test_zero_set_get(void)
{
	struct plx_cpuset s;

	memset(&s, 0xff, sizeof(s));
	plx_cpuset_zero(&s);
	CU_ASSERT_EQUAL(plx_cpuset_count(&s), 0);
	plx_cpuset_set_cpu(&s, 0, true);
	plx_cpuset_set_cpu(&s, 63, true);
	plx_cpuset_set_cpu(&s, 64, true);
	plx_cpuset_set_cpu(&s, 1023, true);
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&s, 0));
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&s, 63));
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&s, 64));
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&s, 1023));
	CU_ASSERT_FALSE(plx_cpuset_get_cpu(&s, 1));
	CU_ASSERT_EQUAL(plx_cpuset_count(&s), 4);
	plx_cpuset_set_cpu(&s, 63, false);
	CU_ASSERT_FALSE(plx_cpuset_get_cpu(&s, 63));
	CU_ASSERT_EQUAL(plx_cpuset_count(&s), 3);
	/* Out-of-range CPUs are ignored and read as absent. */
	plx_cpuset_set_cpu(&s, 1024, true);
	plx_cpuset_set_cpu(&s, UINT32_MAX, true);
	CU_ASSERT_FALSE(plx_cpuset_get_cpu(&s, 1024));
	CU_ASSERT_FALSE(plx_cpuset_get_cpu(&s, UINT32_MAX));
	CU_ASSERT_EQUAL(plx_cpuset_count(&s), 3);
}

static void test_copy_equal_and_or(void)
{
	struct plx_cpuset a, b, c;

	plx_cpuset_zero(&a);
	plx_cpuset_zero(&b);
	CU_ASSERT_TRUE(plx_cpuset_equal(&a, &b));
	plx_cpuset_set_cpu(&a, 1, true);
	plx_cpuset_set_cpu(&a, 500, true);
	CU_ASSERT_FALSE(plx_cpuset_equal(&a, &b));
	plx_cpuset_copy(&c, &a);
	CU_ASSERT_TRUE(plx_cpuset_equal(&a, &c));

	plx_cpuset_set_cpu(&b, 500, true);
	plx_cpuset_set_cpu(&b, 1000, true);
	plx_cpuset_and(&c, &b);
	CU_ASSERT_EQUAL(plx_cpuset_count(&c), 1);
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&c, 500));

	plx_cpuset_copy(&c, &a);
	plx_cpuset_or(&c, &b);
	CU_ASSERT_EQUAL(plx_cpuset_count(&c), 3);
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&c, 1));
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&c, 500));
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&c, 1000));
	/* Sources are unchanged. */
	CU_ASSERT_EQUAL(plx_cpuset_count(&a), 2);
	CU_ASSERT_EQUAL(plx_cpuset_count(&b), 2);
	/* Operating on itself is harmless. */
	plx_cpuset_copy(&c, &c);
	plx_cpuset_and(&c, &c);
	CU_ASSERT_EQUAL(plx_cpuset_count(&c), 3);
}

static void test_next(void)
{
	struct plx_cpuset s;
	int n = 0;

	plx_cpuset_zero(&s);
	CU_ASSERT_EQUAL(plx_cpuset_next(&s, 0), -1);
	plx_cpuset_set_cpu(&s, 2, true);
	plx_cpuset_set_cpu(&s, 64, true);
	plx_cpuset_set_cpu(&s, 1023, true);
	CU_ASSERT_EQUAL(plx_cpuset_next(&s, 0), 2);
	CU_ASSERT_EQUAL(plx_cpuset_next(&s, 2), 2);
	CU_ASSERT_EQUAL(plx_cpuset_next(&s, 3), 64);
	CU_ASSERT_EQUAL(plx_cpuset_next(&s, 65), 1023);
	CU_ASSERT_EQUAL(plx_cpuset_next(&s, 1023), 1023);
	CU_ASSERT_EQUAL(plx_cpuset_next(&s, 1024), -1);
	CU_ASSERT_EQUAL(plx_cpuset_next(&s, -5), 2);
	for (int cpu = plx_cpuset_next(&s, 0); cpu >= 0; cpu = plx_cpuset_next(&s, cpu + 1)) {
		n++;
	}
	CU_ASSERT_EQUAL(n, 3);
}

static void check_parse(const char *str, const char *expect_fmt)
{
	struct plx_cpuset s;
	char buf[FMT_BUF_LEN];

	memset(&s, 0xff, sizeof(s)); /* parse must replace, not merge */
	CU_ASSERT_EQUAL_FATAL(plx_cpuset_parse(&s, str), 0);
	CU_ASSERT_PTR_EQUAL(plx_cpuset_fmt(&s, buf, sizeof(buf)), buf);
	CU_ASSERT_STRING_EQUAL(buf, expect_fmt);
}

static void test_parse_hex(void)
{
	struct plx_cpuset s;

	check_parse("0x3", "3");
	check_parse("3", "3");
	check_parse("0X3", "3");
	check_parse("0xF0", "f0");
	check_parse("0xabcDEF", "abcdef");
	check_parse("0", "0");
	check_parse("0x0", "0");
	check_parse("0x0001", "1");
	check_parse("10000000000000000", "10000000000000000"); /* CPU 64 */

	CU_ASSERT_EQUAL(plx_cpuset_parse(&s, "0x3"), 0);
	CU_ASSERT_EQUAL(plx_cpuset_count(&s), 2);
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&s, 0));
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&s, 1));
	CU_ASSERT_EQUAL(plx_cpuset_parse(&s, "0x10000000000000000"), 0);
	CU_ASSERT_EQUAL(plx_cpuset_count(&s), 1);
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&s, 64));
}

static void test_parse_long_hex(void)
{
	struct plx_cpuset s;
	char str[2 + 256 + 8 + 1];

	/* 256 'f' digits: every CPU. */
	memcpy(str, "0x", 2);
	memset(str + 2, 'f', 256);
	str[258] = '\0';
	CU_ASSERT_EQUAL(plx_cpuset_parse(&s, str), 0);
	CU_ASSERT_EQUAL(plx_cpuset_count(&s), PLX_CPUSET_MAX_CPUS);

	/* Only CPU 1023: "8" followed by 255 zeros. */
	str[2] = '8';
	memset(str + 3, '0', 255);
	CU_ASSERT_EQUAL(plx_cpuset_parse(&s, str), 0);
	CU_ASSERT_EQUAL(plx_cpuset_count(&s), 1);
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&s, 1023));
	CU_ASSERT_EQUAL(plx_cpuset_next(&s, 0), 1023);

	/* 257 significant digits reach CPU 1024: rejected. */
	memset(str + 2, '0', 257);
	str[2] = '1';
	str[259] = '\0';
	CU_ASSERT_EQUAL(plx_cpuset_parse(&s, str), -EINVAL);

	/* Leading zeros beyond 256 digits are fine when the value fits. */
	memset(str + 2, '0', 264);
	str[265] = '5';
	str[266] = '\0';
	CU_ASSERT_EQUAL(plx_cpuset_parse(&s, str), 0);
	CU_ASSERT_EQUAL(plx_cpuset_count(&s), 2);
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&s, 0));
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&s, 2));
}

static void test_parse_list(void)
{
	struct plx_cpuset s;

	check_parse("[0-1]", "3");
	check_parse("[0,2]", "5");
	check_parse("[0-3,8]", "10f");
	check_parse("[5]", "20");
	check_parse("[2-2]", "4");
	check_parse("[1,1,0-1]", "3");
	check_parse("[0, 2]", "5");
	check_parse("[ 0 - 1 , 4 ]", "13");

	CU_ASSERT_EQUAL(plx_cpuset_parse(&s, "[1023]"), 0);
	CU_ASSERT_EQUAL(plx_cpuset_count(&s), 1);
	CU_ASSERT_TRUE(plx_cpuset_get_cpu(&s, 1023));
	CU_ASSERT_EQUAL(plx_cpuset_parse(&s, "[0-1023]"), 0);
	CU_ASSERT_EQUAL(plx_cpuset_count(&s), PLX_CPUSET_MAX_CPUS);
	CU_ASSERT_EQUAL(plx_cpuset_parse(&s, "[60-70,1000-1023]"), 0);
	CU_ASSERT_EQUAL(plx_cpuset_count(&s), 11 + 24);
	CU_ASSERT_EQUAL(plx_cpuset_next(&s, 0), 60);
	CU_ASSERT_EQUAL(plx_cpuset_next(&s, 71), 1000);
}

static void test_parse_invalid(void)
{
	static const char *const bad[] = {
	    "",	    "[]",	"[3-1]", "[1024]",	  "0xg",   "[0",     "0x",
	    "x3",   "[0-1024]", "[,]",	 "[0,]",	  "[,0]",  "[0-]",   "[-1]",
	    "[0]]", "[0]x",	"[a]",	 "[0-1-2]",	  "[1;2]", "-1",     " 0x3",
	    "0x3 ", "0x 3",	"3h",	 "[99999999999]", "0x3[",  "[0-3,8", "[ ]",
	};
	struct plx_cpuset s, before;

	plx_cpuset_zero(&s);
	plx_cpuset_set_cpu(&s, 7, true);
	plx_cpuset_copy(&before, &s);
	for (size_t i = 0; i < PLX_COUNTOF(bad); i++) {
		CU_ASSERT_EQUAL(plx_cpuset_parse(&s, bad[i]), -EINVAL);
		/* A failed parse leaves the set untouched. */
		CU_ASSERT_TRUE(plx_cpuset_equal(&s, &before));
	}
	CU_ASSERT_EQUAL(plx_cpuset_parse(&s, NULL), -EINVAL);
	CU_ASSERT_EQUAL(plx_cpuset_parse(NULL, "0x1"), -EINVAL);
}

static void test_fmt(void)
{
	struct plx_cpuset s;
	char buf[FMT_BUF_LEN];
	char small[3];

	plx_cpuset_zero(&s);
	CU_ASSERT_STRING_EQUAL(plx_cpuset_fmt(&s, buf, sizeof(buf)), "0");
	plx_cpuset_set_cpu(&s, 4, true);
	CU_ASSERT_STRING_EQUAL(plx_cpuset_fmt(&s, buf, sizeof(buf)), "10");

	/* CPU 1023 alone: "8" and 255 zeros, exactly filling the buffer. */
	plx_cpuset_zero(&s);
	plx_cpuset_set_cpu(&s, 1023, true);
	CU_ASSERT_PTR_EQUAL(plx_cpuset_fmt(&s, buf, sizeof(buf)), buf);
	CU_ASSERT_EQUAL(strlen(buf), 256);
	CU_ASSERT_EQUAL(buf[0], '8');
	CU_ASSERT_EQUAL(strspn(buf + 1, "0"), 255);
	/* Round trip. */
	struct plx_cpuset back;
	CU_ASSERT_EQUAL(plx_cpuset_parse(&back, buf), 0);
	CU_ASSERT_TRUE(plx_cpuset_equal(&s, &back));

	/* Every CPU: 256 'f's. */
	for (uint32_t cpu = 0; cpu < PLX_CPUSET_MAX_CPUS; cpu++) {
		plx_cpuset_set_cpu(&s, cpu, true);
	}
	CU_ASSERT_PTR_EQUAL(plx_cpuset_fmt(&s, buf, sizeof(buf)), buf);
	CU_ASSERT_EQUAL(strspn(buf, "f"), 256);
	CU_ASSERT_EQUAL(buf[256], '\0');

	/* Too small a buffer is refused, never truncated. */
	plx_cpuset_zero(&s);
	plx_cpuset_set_cpu(&s, 8, true); /* "100" needs 4 bytes */
	CU_ASSERT_PTR_NULL(plx_cpuset_fmt(&s, small, sizeof(small)));
	CU_ASSERT_EQUAL(small[0], '\0');
	CU_ASSERT_PTR_NULL(plx_cpuset_fmt(&s, buf, 0));
	CU_ASSERT_PTR_NULL(plx_cpuset_fmt(&s, NULL, 10));
	plx_cpuset_set_cpu(&s, 8, false);
	plx_cpuset_set_cpu(&s, 7, true); /* "80" fits in 3 bytes */
	CU_ASSERT_STRING_EQUAL(plx_cpuset_fmt(&s, small, sizeof(small)), "80");
}

static const struct plx_ut_case cases[] = {
    {"zero_set_get", test_zero_set_get},
    {"copy_equal_and_or", test_copy_equal_and_or},
    {"next", test_next},
    {"parse_hex", test_parse_hex},
    {"parse_long_hex", test_parse_long_hex},
    {"parse_list", test_parse_list},
    {"parse_invalid", test_parse_invalid},
    {"fmt", test_fmt},
};

PLX_UT_MAIN("util_cpuset", cases)
