/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pollux util: small, dependency-free helpers used by every other library.
 * Checksums (crc32c, crc16 T10-DIF), UUIDs, bit arrays, size and cpumask parsing.
 * Every function that can fail returns 0 or a negative errno.
 */
#ifndef POLLUX_UTIL_H
#define POLLUX_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define plx_likely(x)			   __builtin_expect(!!(x), 1)
#define plx_unlikely(x)			   __builtin_expect(!!(x), 0)
#define PLX_COUNTOF(a)			   (sizeof(a) / sizeof((a)[0]))
#define PLX_CONTAINEROF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define PLX_MIN(a, b)			   ((a) < (b) ? (a) : (b))
#define PLX_MAX(a, b)			   ((a) > (b) ? (a) : (b))
#define PLX_ALIGN_UP(v, a)		   (((v) + (a)-1) & ~((__typeof__(v))(a)-1))
#define PLX_IS_POW2(v)			   ((v) != 0 && (((v) & ((v)-1)) == 0))
#define PLX_CACHE_LINE			   64

/* ---- crc32c (Castagnoli), hardware SSE4.2 when the CPU has it ---- */

/*
 * Continue a CRC-32C over buf. Start with crc = ~0u and invert the final value
 * (or use plx_crc32c()). Chaining calls over consecutive pieces equals one call over the whole.
 */
uint32_t plx_crc32c_update(const void *buf, size_t len, uint32_t crc);

/* Complete CRC-32C of buf (initial ~0, final inversion): "123456789" gives 0xE3069283. */
uint32_t plx_crc32c(const void *buf, size_t len);

/* ---- crc16 T10-DIF (poly 0x8BB7, no reflection, no final xor) ---- */

/* Continue a T10-DIF CRC from init_crc over buf; "123456789" from 0 gives 0xD0DB. */
uint16_t plx_crc16_t10dif(uint16_t init_crc, const void *buf, size_t len);

/* ---- UUID (RFC 4122, via libuuid) ---- */

struct plx_uuid {
	uint8_t u[16];
};

#define PLX_UUID_STRING_LEN 37 /* 36 characters and the NUL */

/* Fill uuid with a new random (version 4) UUID. */
void plx_uuid_generate(struct plx_uuid *uuid);

/* Parse the 36-character form into uuid; -EINVAL when str is not a UUID. */
int plx_uuid_parse(struct plx_uuid *uuid, const char *str);

/* Format uuid in lower case into buf; -EINVAL when buf_len < PLX_UUID_STRING_LEN. */
int plx_uuid_fmt_lower(char *buf, size_t buf_len, const struct plx_uuid *uuid);

/* memcmp-style ordering of two UUIDs. */
int plx_uuid_compare(const struct plx_uuid *a, const struct plx_uuid *b);

/* True when every byte is zero. */
bool plx_uuid_is_null(const struct plx_uuid *uuid);

/* ---- bit arrays ---- */

struct plx_bit_array;

/* A bit array of num_bits bits, all clear; NULL when out of memory. */
struct plx_bit_array *plx_bit_array_create(uint32_t num_bits);

/* Free *ba and set it to NULL; NULL is allowed. */
void plx_bit_array_free(struct plx_bit_array **ba);

/* Grow or shrink to num_bits; new bits are clear. -ENOMEM leaves *ba untouched. */
int plx_bit_array_resize(struct plx_bit_array **ba, uint32_t num_bits);

uint32_t plx_bit_array_capacity(const struct plx_bit_array *ba);

/* Value of bit i; false when i is out of range. */
bool plx_bit_array_get(const struct plx_bit_array *ba, uint32_t i);

/* Set bit i; -EINVAL when i is out of range. */
int plx_bit_array_set(struct plx_bit_array *ba, uint32_t i);

/* Clear bit i (out of range is ignored). */
void plx_bit_array_clear(struct plx_bit_array *ba, uint32_t i);

/* Index of the first set (or clear) bit at or after start; UINT32_MAX when none. */
uint32_t plx_bit_array_find_first_set(const struct plx_bit_array *ba, uint32_t start);
uint32_t plx_bit_array_find_first_clear(const struct plx_bit_array *ba, uint32_t start);

/* Number of set bits. */
uint32_t plx_bit_array_count_set(const struct plx_bit_array *ba);

/* ---- sizes ---- */

/*
 * Parse a byte count: decimal digits with an optional binary unit suffix
 * k/K, m/M, g/G, t/T (also "KB", "KiB" forms, case-insensitive): "4k" = 4096, "1G" = 2^30.
 * -EINVAL for an empty string, junk or a negative number; -ERANGE on overflow of 64 bits.
 */
int plx_parse_size(const char *str, uint64_t *out);

/* ---- CPU sets ---- */

#define PLX_CPUSET_MAX_CPUS 1024

struct plx_cpuset {
	uint64_t bits[PLX_CPUSET_MAX_CPUS / 64];
};

void plx_cpuset_zero(struct plx_cpuset *set);
void plx_cpuset_set_cpu(struct plx_cpuset *set, uint32_t cpu, bool on);
bool plx_cpuset_get_cpu(const struct plx_cpuset *set, uint32_t cpu);
uint32_t plx_cpuset_count(const struct plx_cpuset *set);
bool plx_cpuset_equal(const struct plx_cpuset *a, const struct plx_cpuset *b);
void plx_cpuset_copy(struct plx_cpuset *dst, const struct plx_cpuset *src);
void plx_cpuset_and(struct plx_cpuset *dst, const struct plx_cpuset *src);
void plx_cpuset_or(struct plx_cpuset *dst, const struct plx_cpuset *src);

/* First CPU in set at or after start; -1 when none. */
int plx_cpuset_next(const struct plx_cpuset *set, int start);

/*
 * Parse a CPU mask: hexadecimal "0x3" / "3" (any length up to 1024 bits), or a list
 * "[0-1]", "[0,2]", "[0-3,8]". -EINVAL for junk, an empty list, a reversed range or
 * a CPU >= PLX_CPUSET_MAX_CPUS.
 */
int plx_cpuset_parse(struct plx_cpuset *set, const char *str);

/* Format as lower-case hex without "0x" and without leading zeros ("3"; "0" when empty). */
const char *plx_cpuset_fmt(const struct plx_cpuset *set, char *buf, size_t buf_len);

#ifdef __cplusplus
}
#endif
#endif
