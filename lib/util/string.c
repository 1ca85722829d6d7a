/* SPDX-License-Identifier: BSD-3-Clause */
/* Size parsing for configuration and RPC parameters ("4k", "1GiB"). */
#include "pollux/util.h"

#include <errno.h>
#include <strings.h>

/* Binary shift for a unit suffix; -1 when suffix is not one we accept. */
static int size_suffix_shift(const char *suffix)
{
	static const struct {
		char letter;
		int shift;
	} units[] = {{'k', 10}, {'m', 20}, {'g', 30}, {'t', 40}};
	char c = suffix[0];
	const char *rest;

	if (c == '\0') {
		return 0;
	}
	c = (char)(c | 0x20); /* ASCII lower case; the unit table holds lower-case letters */
	rest = suffix + 1;
	if (*rest != '\0' && strcasecmp(rest, "b") != 0 && strcasecmp(rest, "ib") != 0) {
		return -1;
	}
	for (size_t i = 0; i < PLX_COUNTOF(units); i++) {
		if (units[i].letter == c) {
			return units[i].shift;
		}
	}
	return -1;
}

int plx_parse_size(const char *str, uint64_t *out)
{
	const char *p = str;
	uint64_t value = 0;
	bool overflow = false;
	int shift;

	if (str == NULL || out == NULL || *p < '0' || *p > '9') {
		return -EINVAL;
	}
	/* Scan the whole string before reporting overflow, so junk wins over -ERANGE. */
	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t digit = (uint64_t)(*p - '0');

		if (value > (UINT64_MAX - digit) / 10) {
			overflow = true;
		} else {
			value = value * 10 + digit;
		}
	}
	shift = size_suffix_shift(p);
	if (shift < 0) {
		return -EINVAL;
	}
	if (overflow || (shift > 0 && value > (UINT64_MAX >> shift))) {
		return -ERANGE;
	}
	*out = value << shift;
	return 0;
}
