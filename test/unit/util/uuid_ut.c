/* SPDX-License-Identifier: BSD-3-Clause */
#include "ut.h"

#include "pollux/util.h"

#include <errno.h>
#include <string.h>

static const char g_text[] = "0123abcd-4567-89ef-0123-456789abcdef";
static const uint8_t g_bytes[16] = {0x01, 0x23, 0xab, 0xcd, 0x45, 0x67, 0x89, 0xef,
				    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

static void test_uuid_parse_valid(void)
{
	struct plx_uuid u;

	CU_ASSERT_EQUAL(plx_uuid_parse(&u, g_text), 0);
	CU_ASSERT_EQUAL(memcmp(u.u, g_bytes, 16), 0);
	/* Upper case input is accepted. */
	memset(&u, 0, sizeof(u));
	CU_ASSERT_EQUAL(plx_uuid_parse(&u, "0123ABCD-4567-89EF-0123-456789ABCDEF"), 0);
	CU_ASSERT_EQUAL(memcmp(u.u, g_bytes, 16), 0);
	CU_ASSERT_EQUAL(plx_uuid_parse(&u, "00000000-0000-0000-0000-000000000000"), 0);
	CU_ASSERT_TRUE(plx_uuid_is_null(&u));
}

static void test_uuid_parse_invalid(void)
{
	static const char *const bad[] = {
	    "",
	    "0123abcd-4567-89ef-0123-456789abcde",   /* 35 characters */
	    "0123abcd-4567-89ef-0123-456789abcdef0", /* 37 characters */
	    "0123abcd-4567-89ef-0123-456789abcdef ", /* trailing blank */
	    " 0123abcd-4567-89ef-0123-456789abcdef", /* leading blank */
	    "0123abcd-4567-89ef-0123-456789abcdeg",  /* not hex */
	    "0123abcd04567-89ef-0123-456789abcdef",  /* dash missing */
	    "0123abcd-4567-89ef-0123-456789abcdef-0123",
	    "not-a-uuid",
	    "{0123abcd-4567-89ef-0123-456789abcde}",
	};
	struct plx_uuid u;

	for (size_t i = 0; i < PLX_COUNTOF(bad); i++) {
		memset(&u, 0x5a, sizeof(u));
		CU_ASSERT_EQUAL(plx_uuid_parse(&u, bad[i]), -EINVAL);
		/* A failed parse leaves the output alone. */
		for (size_t b = 0; b < 16; b++) {
			CU_ASSERT_EQUAL(u.u[b], 0x5a);
		}
	}
	CU_ASSERT_EQUAL(plx_uuid_parse(&u, NULL), -EINVAL);
	CU_ASSERT_EQUAL(plx_uuid_parse(NULL, g_text), -EINVAL);
}

static void test_uuid_fmt_lower(void)
{
	struct plx_uuid u;
	char buf[PLX_UUID_STRING_LEN + 4];

	memcpy(u.u, g_bytes, 16);
	memset(buf, 'x', sizeof(buf));
	CU_ASSERT_EQUAL(plx_uuid_fmt_lower(buf, PLX_UUID_STRING_LEN, &u), 0);
	CU_ASSERT_STRING_EQUAL(buf, g_text);
	CU_ASSERT_EQUAL(strlen(buf), PLX_UUID_STRING_LEN - 1);
	/* Upper-case input comes back lower case. */
	CU_ASSERT_EQUAL(plx_uuid_parse(&u, "FFFFFFFF-AAAA-BBBB-CCCC-DDDDDDDDDDDD"), 0);
	CU_ASSERT_EQUAL(plx_uuid_fmt_lower(buf, sizeof(buf), &u), 0);
	CU_ASSERT_STRING_EQUAL(buf, "ffffffff-aaaa-bbbb-cccc-dddddddddddd");
}

static void test_uuid_fmt_short_buffer(void)
{
	struct plx_uuid u;
	char buf[PLX_UUID_STRING_LEN];

	memcpy(u.u, g_bytes, 16);
	memset(buf, 'x', sizeof(buf));
	CU_ASSERT_EQUAL(plx_uuid_fmt_lower(buf, PLX_UUID_STRING_LEN - 1, &u), -EINVAL);
	CU_ASSERT_EQUAL(buf[0], 'x'); /* nothing written */
	CU_ASSERT_EQUAL(plx_uuid_fmt_lower(buf, 0, &u), -EINVAL);
	CU_ASSERT_EQUAL(plx_uuid_fmt_lower(NULL, sizeof(buf), &u), -EINVAL);
}

static void test_uuid_generate(void)
{
	struct plx_uuid a, b, parsed;
	char text[PLX_UUID_STRING_LEN];

	plx_uuid_generate(&a);
	plx_uuid_generate(&b);
	CU_ASSERT_FALSE(plx_uuid_is_null(&a));
	CU_ASSERT_NOT_EQUAL(plx_uuid_compare(&a, &b), 0);
	/* Version 4 in the high nibble of byte 6, RFC 4122 variant (10xx) in byte 8. */
	CU_ASSERT_EQUAL(a.u[6] >> 4, 4);
	CU_ASSERT_EQUAL(a.u[8] & 0xc0, 0x80);
	/* Round trip through text. */
	CU_ASSERT_EQUAL(plx_uuid_fmt_lower(text, sizeof(text), &a), 0);
	CU_ASSERT_EQUAL(plx_uuid_parse(&parsed, text), 0);
	CU_ASSERT_EQUAL(plx_uuid_compare(&a, &parsed), 0);
}

static void test_uuid_compare(void)
{
	struct plx_uuid a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CU_ASSERT_EQUAL(plx_uuid_compare(&a, &b), 0);
	b.u[15] = 1;
	CU_ASSERT_TRUE(plx_uuid_compare(&a, &b) < 0);
	CU_ASSERT_TRUE(plx_uuid_compare(&b, &a) > 0);
	/* Earlier bytes dominate, and bytes compare unsigned. */
	a.u[0] = 0x80;
	CU_ASSERT_TRUE(plx_uuid_compare(&a, &b) > 0);
	CU_ASSERT_TRUE(plx_uuid_compare(&b, &a) < 0);
	CU_ASSERT_EQUAL(plx_uuid_compare(&a, &a), 0);
}

static void test_uuid_is_null(void)
{
	struct plx_uuid u;

	memset(&u, 0, sizeof(u));
	CU_ASSERT_TRUE(plx_uuid_is_null(&u));
	for (size_t i = 0; i < 16; i++) {
		u.u[i] = 1;
		CU_ASSERT_FALSE(plx_uuid_is_null(&u));
		u.u[i] = 0;
	}
	CU_ASSERT_TRUE(plx_uuid_is_null(&u));
}

static const struct plx_ut_case cases[] = {
    {"uuid_parse_valid", test_uuid_parse_valid},
    {"uuid_parse_invalid", test_uuid_parse_invalid},
    {"uuid_fmt_lower", test_uuid_fmt_lower},
    {"uuid_fmt_short_buffer", test_uuid_fmt_short_buffer},
    {"uuid_generate", test_uuid_generate},
    {"uuid_compare", test_uuid_compare},
    {"uuid_is_null", test_uuid_is_null},
};

PLX_UT_MAIN("util_uuid", cases)
