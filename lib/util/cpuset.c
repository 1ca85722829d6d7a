/* SPDX-License-Identifier: BSD-3-Clause */
/* CPU sets: fixed 1024-bit masks, parsed from hex masks or "[a-b,c]" lists. */
#include "pollux/util.h"

#include <errno.h>
#include <string.h>

#define CPUSET_WORDS	  PLX_COUNTOF(((struct plx_cpuset *)0)->bits)
#define CPUSET_HEX_DIGITS (PLX_CPUSET_MAX_CPUS / 4)

void plx_cpuset_zero(struct plx_cpuset *set)
{
	memset(set->bits, 0, sizeof(set->bits));
}

void plx_cpuset_set_cpu(struct plx_cpuset *set, uint32_t cpu, bool on)
{
	uint64_t bit;

	if (cpu >= PLX_CPUSET_MAX_CPUS) {
		return;
	}
	bit = UINT64_C(1) << (cpu % 64);
	if (on) {
		set->bits[cpu / 64] |= bit;
	} else {
		set->bits[cpu / 64] &= ~bit;
	}
}

bool plx_cpuset_get_cpu(const struct plx_cpuset *set, uint32_t cpu)
{
	if (cpu >= PLX_CPUSET_MAX_CPUS) {
		return false;
	}
	return (set->bits[cpu / 64] >> (cpu % 64)) & 1u;
}

uint32_t plx_cpuset_count(const struct plx_cpuset *set)
{
	uint32_t count = 0;

	for (size_t w = 0; w < CPUSET_WORDS; w++) {
		count += (uint32_t)__builtin_popcountll(set->bits[w]);
	}
	return count;
}

bool plx_cpuset_equal(const struct plx_cpuset *a, const struct plx_cpuset *b)
{
	return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

void plx_cpuset_copy(struct plx_cpuset *dst, const struct plx_cpuset *src)
{
	memmove(dst->bits, src->bits, sizeof(dst->bits));
}

void plx_cpuset_and(struct plx_cpuset *dst, const struct plx_cpuset *src)
{
	for (size_t w = 0; w < CPUSET_WORDS; w++) {
		dst->bits[w] &= src->bits[w];
	}
}

void plx_cpuset_or(struct plx_cpuset *dst, const struct plx_cpuset *src)
{
	for (size_t w = 0; w < CPUSET_WORDS; w++) {
		dst->bits[w] |= src->bits[w];
	}
}

int plx_cpuset_next(const struct plx_cpuset *set, int start)
{
	size_t w;
	uint64_t word;

	if (start < 0) {
		start = 0;
	}
	if (start >= PLX_CPUSET_MAX_CPUS) {
		return -1;
	}
	w = (size_t)start / 64;
	word = set->bits[w] & (UINT64_MAX << (start % 64));
	for (;;) {
		if (word != 0) {
			return (int)(w * 64 + (size_t)__builtin_ctzll(word));
		}
		if (++w >= CPUSET_WORDS) {
			return -1;
		}
		word = set->bits[w];
	}
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* "0x3", "3": the last digit holds CPUs 0-3. Leading zeros do not count against the limit. */
static int cpuset_parse_hex(struct plx_cpuset *set, const char *str)
{
	size_t len;

	if (str[0] == '0' && (str[1] == 'x' || str[1] == 'X')) {
		str += 2;
	}
	len = strlen(str);
	if (len == 0) {
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (hex_value(str[i]) < 0) {
			return -EINVAL;
		}
	}
	while (len > 1 && str[0] == '0') {
		str++;
		len--;
	}
	if (len > CPUSET_HEX_DIGITS) {
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		uint64_t nibble = (uint64_t)hex_value(str[len - 1 - i]);

		set->bits[i / 16] |= nibble << ((i % 16) * 4);
	}
	return 0;
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t') {
		p++;
	}
	return p;
}

/* A decimal CPU number below PLX_CPUSET_MAX_CPUS; advances *pp past it. */
static int parse_cpu_number(const char **pp, uint32_t *cpu)
{
	const char *p = skip_blanks(*pp);
	uint32_t value = 0;

	if (*p < '0' || *p > '9') {
		return -EINVAL;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		value = value * 10 + (uint32_t)(*p - '0');
		if (value >= PLX_CPUSET_MAX_CPUS) {
			return -EINVAL;
		}
	}
	*pp = skip_blanks(p);
	*cpu = value;
	return 0;
}

/* "[0-3,8]": comma-separated CPUs or inclusive ranges; blanks around numbers are allowed. */
static int cpuset_parse_list(struct plx_cpuset *set, const char *str)
{
	const char *p = str + 1;

	for (;;) {
		uint32_t first, last;

		if (parse_cpu_number(&p, &first) != 0) {
			return -EINVAL;
		}
		last = first;
		if (*p == '-') {
			p++;
			if (parse_cpu_number(&p, &last) != 0 || last < first) {
				return -EINVAL;
			}
		}
		for (uint32_t cpu = first; cpu <= last; cpu++) {
			plx_cpuset_set_cpu(set, cpu, true);
		}
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == ']' && p[1] == '\0') {
			return 0;
		}
		return -EINVAL;
	}
}

int plx_cpuset_parse(struct plx_cpuset *set, const char *str)
{
	struct plx_cpuset tmp;
	int rc;

	if (set == NULL || str == NULL) {
		return -EINVAL;
	}
	plx_cpuset_zero(&tmp);
	if (str[0] == '[') {
		rc = cpuset_parse_list(&tmp, str);
	} else {
		rc = cpuset_parse_hex(&tmp, str);
	}
	if (rc == 0) {
		plx_cpuset_copy(set, &tmp);
	}
	return rc;
}

const char *plx_cpuset_fmt(const struct plx_cpuset *set, char *buf, size_t buf_len)
{
	static const char digits[] = "0123456789abcdef";
	int top = CPUSET_HEX_DIGITS - 1;
	size_t n = 0;

	if (set == NULL || buf == NULL) {
		return NULL;
	}
	while (top > 0 && ((set->bits[top / 16] >> ((top % 16) * 4)) & 0xfu) == 0) {
		top--;
	}
	/* Refuse rather than truncate: a cut-off mask names different CPUs. */
	if (buf_len < (size_t)top + 2) {
		if (buf_len > 0) {
			buf[0] = '\0';
		}
		return NULL;
	}
	for (int i = top; i >= 0; i--) {
		buf[n++] = digits[(set->bits[i / 16] >> ((i % 16) * 4)) & 0xfu];
	}
	buf[n] = '\0';
	return buf;
}
