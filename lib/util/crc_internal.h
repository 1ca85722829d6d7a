/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal to lib/util: the two CRC-32C implementations, exposed so unit tests can check
 * that they agree. Both take and return the raw (non-inverted) CRC register.
 */
#ifndef PLX_UTIL_CRC_INTERNAL_H
#define PLX_UTIL_CRC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Table-driven slice-by-8 implementation; works on every CPU. */
uint32_t plx_crc32c_update_sw(const void *buf, size_t len, uint32_t crc);

/* SSE4.2 implementation; call only when plx_crc32c_hw_available() is true. */
uint32_t plx_crc32c_update_hw(const void *buf, size_t len, uint32_t crc);

/* Whether this CPU has the SSE4.2 crc32 instruction. */
bool plx_crc32c_hw_available(void);

#endif
