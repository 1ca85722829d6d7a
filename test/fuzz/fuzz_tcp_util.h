/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What both NVMe/TCP fuzzers (the target's, nvmf_tcp_fuzz.c, and the host's,
 * nvme_tcp_host_fuzz.c) need to build and read PDUs: a CRC32C of their own, independent of
 * the code under test so that digests they compute cross-check it, and little-endian access.
 */
#ifndef POLLUX_FUZZ_TCP_UTIL_H
#define POLLUX_FUZZ_TCP_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Bitwise CRC32C (Castagnoli, reflected): slow and obviously right, enough for a fuzzer. */
static inline uint32_t fuzz_crc32c(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	while (len-- > 0) {
		c ^= *p++;
		for (int k = 0; k < 8; k++) {
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		}
	}
	return c ^ 0xffffffffu;
}

static inline void fuzz_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t fuzz_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif /* POLLUX_FUZZ_TCP_UTIL_H */
