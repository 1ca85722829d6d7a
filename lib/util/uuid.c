/* SPDX-License-Identifier: BSD-3-Clause */
/* UUIDs: a thin layer over libuuid that keeps uuid_t out of the public headers. */
#include "pollux/util.h"

#include <errno.h>
#include <string.h>
#include <uuid/uuid.h>

_Static_assert(sizeof(((struct plx_uuid *)0)->u) == sizeof(uuid_t), "plx_uuid must match uuid_t");

#define UUID_TEXT_LEN (PLX_UUID_STRING_LEN - 1)

void plx_uuid_generate(struct plx_uuid *uuid)
{
	uuid_generate_random(uuid->u);
}

int plx_uuid_parse(struct plx_uuid *uuid, const char *str)
{
	uuid_t tmp;

	if (uuid == NULL || str == NULL) {
		return -EINVAL;
	}
	/* Some libuuid versions ignore what follows the 36th character; we do not. */
	if (strnlen(str, UUID_TEXT_LEN + 1) != UUID_TEXT_LEN) {
		return -EINVAL;
	}
	if (uuid_parse(str, tmp) != 0) {
		return -EINVAL;
	}
	memcpy(uuid->u, tmp, sizeof(uuid->u));
	return 0;
}

int plx_uuid_fmt_lower(char *buf, size_t buf_len, const struct plx_uuid *uuid)
{
	if (buf == NULL || uuid == NULL || buf_len < PLX_UUID_STRING_LEN) {
		return -EINVAL;
	}
	uuid_unparse_lower(uuid->u, buf);
	return 0;
}

int plx_uuid_compare(const struct plx_uuid *a, const struct plx_uuid *b)
{
	int rc = memcmp(a->u, b->u, sizeof(a->u));

	return (rc > 0) - (rc < 0);
}

bool plx_uuid_is_null(const struct plx_uuid *uuid)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < sizeof(uuid->u); i++) {
		acc |= uuid->u[i];
	}
	return acc == 0;
}
