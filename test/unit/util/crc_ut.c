/* SPDX-License-Identifier: BSD-3-Clause */
#include "ut.h"

#include "pollux/util.h"
#include "crc_internal.h"

#include <stdlib.h>
#include <string.h>

static const char g_check[] = "123456789";

/* Bit-at-a-time references, written straight from the definitions, to judge the fast paths. */
static uint32_t ref_crc32c(const uint8_t *p, size_t len)
{
	uint32_t crc = ~0u;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++) {
			crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
		}
	}
	return ~crc;
}

static uint16_t ref_crc16_t10dif(uint16_t crc, const uint8_t *p, size_t len)
{
	uint32_t c = crc;

	for (size_t i = 0; i < len; i++) {
		c ^= (uint32_t)p[i] << 8;
		for (int b = 0; b < 8; b++) {
			c = (c & 0x8000u) ? ((c << 1) ^ 0x8BB7u) & 0xffffu : (c << 1) & 0xffffu;
		}
	}
	return (uint16_t)c;
}

/* Deterministic pseudo-random bytes (xorshift) so failures reproduce. */
static void fill_pattern(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
}

static void test_crc32c_check_value(void)
{
	CU_ASSERT_EQUAL(plx_crc32c(g_check, 9), 0xE3069283u);
	CU_ASSERT_EQUAL(~plx_crc32c_update(g_check, 9, ~0u), 0xE3069283u);
	CU_ASSERT_EQUAL(~plx_crc32c_update_sw(g_check, 9, ~0u), 0xE3069283u);
	if (plx_crc32c_hw_available()) {
		CU_ASSERT_EQUAL(~plx_crc32c_update_hw(g_check, 9, ~0u), 0xE3069283u);
	}
}

/* RFC 3720 appendix B.4 test vectors (iSCSI uses CRC-32C). */
static void test_crc32c_rfc3720(void)
{
	uint8_t buf[48];

	memset(buf, 0, 32);
	CU_ASSERT_EQUAL(plx_crc32c(buf, 32), 0x8A9136AAu);
	memset(buf, 0xff, 32);
	CU_ASSERT_EQUAL(plx_crc32c(buf, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++) {
		buf[i] = (uint8_t)i;
	}
	CU_ASSERT_EQUAL(plx_crc32c(buf, 32), 0x46DD794Eu);
	for (int i = 0; i < 32; i++) {
		buf[i] = (uint8_t)(31 - i);
	}
	CU_ASSERT_EQUAL(plx_crc32c(buf, 32), 0x113FDB5Cu);
	/* An iSCSI SCSI Read (10) command PDU. */
	static const uint8_t read10[48] = {
	    0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
	    0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	CU_ASSERT_EQUAL(plx_crc32c(read10, sizeof(read10)), 0xD9963A56u);
}

static void test_crc32c_empty(void)
{
	CU_ASSERT_EQUAL(plx_crc32c(NULL, 0), 0u);
	CU_ASSERT_EQUAL(plx_crc32c_update(NULL, 0, 0x12345678u), 0x12345678u);
	CU_ASSERT_EQUAL(plx_crc32c_update_sw(NULL, 0, 0x12345678u), 0x12345678u);
	if (plx_crc32c_hw_available()) {
		CU_ASSERT_EQUAL(plx_crc32c_update_hw(NULL, 0, 0x12345678u), 0x12345678u);
	}
}

static void test_crc32c_matches_reference(void)
{
	uint8_t buf[1024];

	fill_pattern(buf, sizeof(buf), 1);
	for (size_t len = 0; len <= 80; len++) {
		CU_ASSERT_EQUAL(plx_crc32c(buf, len), ref_crc32c(buf, len));
	}
	CU_ASSERT_EQUAL(plx_crc32c(buf, sizeof(buf)), ref_crc32c(buf, sizeof(buf)));
}

/* Every split point of a buffer: chaining must equal a single pass. */
static void test_crc32c_chaining(void)
{
	uint8_t buf[200];
	uint32_t whole;

	fill_pattern(buf, sizeof(buf), 2);
	whole = plx_crc32c(buf, sizeof(buf));
	for (size_t split = 0; split <= sizeof(buf); split++) {
		uint32_t crc = plx_crc32c_update(buf, split, ~0u);

		crc = plx_crc32c_update(buf + split, sizeof(buf) - split, crc);
		CU_ASSERT_EQUAL(~crc, whole);
	}
	/* Three uneven pieces, through each implementation separately. */
	uint32_t sw = plx_crc32c_update_sw(buf, 3, ~0u);
	sw = plx_crc32c_update_sw(buf + 3, 101, sw);
	sw = plx_crc32c_update_sw(buf + 104, sizeof(buf) - 104, sw);
	CU_ASSERT_EQUAL(~sw, whole);
	if (plx_crc32c_hw_available()) {
		uint32_t hw = plx_crc32c_update_hw(buf, 3, ~0u);

		hw = plx_crc32c_update_hw(buf + 3, 101, hw);
		hw = plx_crc32c_update_hw(buf + 104, sizeof(buf) - 104, hw);
		CU_ASSERT_EQUAL(~hw, whole);
	}
}

/* The same bytes at every alignment give the same CRC, in both implementations. */
static void test_crc32c_unaligned(void)
{
	uint8_t src[300];
	uint8_t *space = malloc(sizeof(src) + 16);
	uint32_t expect;

	CU_ASSERT_PTR_NOT_NULL_FATAL(space);
	fill_pattern(src, sizeof(src), 3);
	expect = ref_crc32c(src, sizeof(src));
	for (size_t off = 0; off < 16; off++) {
		memcpy(space + off, src, sizeof(src));
		CU_ASSERT_EQUAL(plx_crc32c(space + off, sizeof(src)), expect);
		CU_ASSERT_EQUAL(~plx_crc32c_update_sw(space + off, sizeof(src), ~0u), expect);
		if (plx_crc32c_hw_available()) {
			CU_ASSERT_EQUAL(~plx_crc32c_update_hw(space + off, sizeof(src), ~0u),
					expect);
		}
	}
	free(space);
}

static void test_crc32c_hw_sw_agree(void)
{
	uint8_t buf[4096 + 64];

	if (!plx_crc32c_hw_available()) {
		return; /* nothing to compare on this CPU; the sw path is covered above */
	}
	fill_pattern(buf, sizeof(buf), 4);
	for (size_t off = 0; off < 9; off++) {
		for (size_t len = 0; len < 70; len++) {
			uint32_t seed = (uint32_t)(off * 1000003u + len);

			CU_ASSERT_EQUAL(plx_crc32c_update_hw(buf + off, len, seed),
					plx_crc32c_update_sw(buf + off, len, seed));
		}
	}
	CU_ASSERT_EQUAL(plx_crc32c_update_hw(buf + 5, 4096, ~0u),
			plx_crc32c_update_sw(buf + 5, 4096, ~0u));
}

static void test_crc16_check_value(void)
{
	CU_ASSERT_EQUAL(plx_crc16_t10dif(0, g_check, 9), 0xD0DB);
	CU_ASSERT_EQUAL(ref_crc16_t10dif(0, (const uint8_t *)g_check, 9), 0xD0DB);
}

static void test_crc16_empty_and_init(void)
{
	uint8_t buf[512];

	CU_ASSERT_EQUAL(plx_crc16_t10dif(0, NULL, 0), 0);
	CU_ASSERT_EQUAL(plx_crc16_t10dif(0xBEEF, NULL, 0), 0xBEEF);
	/* No reflection, no final xor: zero data from zero stays zero. */
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(plx_crc16_t10dif(0, buf, sizeof(buf)), 0);
	/* A non-zero init must change the result and match the reference. */
	fill_pattern(buf, sizeof(buf), 5);
	CU_ASSERT_NOT_EQUAL(plx_crc16_t10dif(0xFFFF, buf, sizeof(buf)),
			    plx_crc16_t10dif(0, buf, sizeof(buf)));
	for (uint32_t init = 0; init <= 0xFFFF; init += 0x1111) {
		CU_ASSERT_EQUAL(plx_crc16_t10dif((uint16_t)init, buf, sizeof(buf)),
				ref_crc16_t10dif((uint16_t)init, buf, sizeof(buf)));
	}
}

static void test_crc16_matches_reference(void)
{
	uint8_t buf[600];

	fill_pattern(buf, sizeof(buf), 6);
	for (size_t off = 0; off < 8; off++) {
		for (size_t len = 0; len < 40; len++) {
			CU_ASSERT_EQUAL(plx_crc16_t10dif(0, buf + off, len),
					ref_crc16_t10dif(0, buf + off, len));
		}
	}
	CU_ASSERT_EQUAL(plx_crc16_t10dif(0, buf, 512), ref_crc16_t10dif(0, buf, 512));
}

static void test_crc16_chaining(void)
{
	uint8_t buf[520];
	uint16_t whole;

	fill_pattern(buf, sizeof(buf), 7);
	whole = plx_crc16_t10dif(0, buf, sizeof(buf));
	for (size_t split = 0; split <= sizeof(buf); split += 13) {
		uint16_t crc = plx_crc16_t10dif(0, buf, split);

		CU_ASSERT_EQUAL(plx_crc16_t10dif(crc, buf + split, sizeof(buf) - split), whole);
	}
}

static const struct plx_ut_case cases[] = {
    {"crc32c_check_value", test_crc32c_check_value},
    {"crc32c_rfc3720", test_crc32c_rfc3720},
    {"crc32c_empty", test_crc32c_empty},
    {"crc32c_matches_reference", test_crc32c_matches_reference},
    {"crc32c_chaining", test_crc32c_chaining},
    {"crc32c_unaligned", test_crc32c_unaligned},
    {"crc32c_hw_sw_agree", test_crc32c_hw_sw_agree},
    {"crc16_check_value", test_crc16_check_value},
    {"crc16_empty_and_init", test_crc16_empty_and_init},
    {"crc16_matches_reference", test_crc16_matches_reference},
    {"crc16_chaining", test_crc16_chaining},
};

PLX_UT_MAIN("util_crc", cases)
