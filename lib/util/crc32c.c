/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CRC-32C (Castagnoli). The SSE4.2 crc32 instruction does 8 bytes per instruction; the
 * slice-by-8 fallback keeps machines without it within a small factor of that.
 */
#include "pollux/util.h"
#include "crc_internal.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define PLX_CRC32C_HAVE_HW 1
#endif

/* The reflected form of the Castagnoli polynomial 0x1EDC6F41. */
#define CRC32C_POLY_REFLECTED 0x82F63B78u

/*
 * g_crc32c_table[k][b] is the CRC contribution of byte b followed by k zero bytes, which lets
 * the fallback fold 8 input bytes with 8 independent lookups.
 */
static uint32_t g_crc32c_table[8][256];
static bool g_crc32c_use_hw;

/* Built at load time so the per-call path carries no initialisation check. */
__attribute__((constructor)) static void crc32c_init(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t crc = b;

		for (int bit = 0; bit < 8; bit++) {
			crc = (crc >> 1) ^ ((crc & 1u) ? CRC32C_POLY_REFLECTED : 0u);
		}
		g_crc32c_table[0][b] = crc;
	}
	for (int k = 1; k < 8; k++) {
		for (uint32_t b = 0; b < 256; b++) {
			uint32_t prev = g_crc32c_table[k - 1][b];

			g_crc32c_table[k][b] = (prev >> 8) ^ g_crc32c_table[0][prev & 0xffu];
		}
	}
	g_crc32c_use_hw = plx_crc32c_hw_available();
}

static inline uint32_t crc32c_sw_byte(uint32_t crc, uint8_t byte)
{
	return (crc >> 8) ^ g_crc32c_table[0][(crc ^ byte) & 0xffu];
}

uint32_t plx_crc32c_update_sw(const void *buf, size_t len, uint32_t crc)
{
	const uint8_t *p = buf;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* The 8-byte step below reads the input as a little-endian word. */
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		v ^= crc;
		crc = g_crc32c_table[7][v & 0xff] ^ g_crc32c_table[6][(v >> 8) & 0xff] ^
		      g_crc32c_table[5][(v >> 16) & 0xff] ^ g_crc32c_table[4][(v >> 24) & 0xff] ^
		      g_crc32c_table[3][(v >> 32) & 0xff] ^ g_crc32c_table[2][(v >> 40) & 0xff] ^
		      g_crc32c_table[1][(v >> 48) & 0xff] ^ g_crc32c_table[0][v >> 56];
	}
#endif
	for (; len > 0; len--, p++) {
		crc = crc32c_sw_byte(crc, *p);
	}
	return crc;
}

#ifdef PLX_CRC32C_HAVE_HW

bool plx_crc32c_hw_available(void)
{
	return __builtin_cpu_supports("sse4.2");
}

/* The target attribute keeps this file building even if -msse4.2 leaves the global flags. */
__attribute__((target("sse4.2"))) uint32_t plx_crc32c_update_hw(const void *buf, size_t len,
								uint32_t crc)
{
	const uint8_t *p = buf;
	uint64_t crc64;

	/* Align so the 8-byte loads never straddle a cache line. */
	while (len > 0 && ((uintptr_t)p & 7u) != 0) {
		crc = _mm_crc32_u8(crc, *p);
		p++;
		len--;
	}
	crc64 = crc;
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		crc64 = _mm_crc32_u64(crc64, v);
	}
	crc = (uint32_t)crc64;
	for (; len > 0; len--, p++) {
		crc = _mm_crc32_u8(crc, *p);
	}
	return crc;
}

#else

bool plx_crc32c_hw_available(void)
{
	return false;
}

uint32_t plx_crc32c_update_hw(const void *buf, size_t len, uint32_t crc)
{
	return plx_crc32c_update_sw(buf, len, crc);
}

#endif

uint32_t plx_crc32c_update(const void *buf, size_t len, uint32_t crc)
{
	if (plx_likely(g_crc32c_use_hw)) {
		return plx_crc32c_update_hw(buf, len, crc);
	}
	return plx_crc32c_update_sw(buf, len, crc);
}

uint32_t plx_crc32c(const void *buf, size_t len)
{
	return ~plx_crc32c_update(buf, len, ~0u);
}
