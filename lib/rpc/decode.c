/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Declarative decoding of a method's params object into a C struct.
 *
 * Decoding runs in two passes: the first checks every member (unknown names, missing
 * required fields, types, ranges, enum values) without writing anything; the second stores.
 * So an invalid request leaves the caller's struct exactly as it was, and the only failure
 * the second pass can meet is strdup running out of memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/rpc.h"
#include "pollux/util.h"
#include "rpc_internal.h"

struct int_range {
	const char *desc;
	int64_t min;
	int64_t max;
};

static const char *json_type_desc(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "real";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
	default:
		return "null";
	}
}

/* Integer types: their description and range; NULL for other types. */
static const struct int_range *int_range_of(enum plx_json_type type)
{
	static const struct int_range ranges[] = {
	    [PLX_JSON_INT32] = {"a signed 32-bit integer", INT32_MIN, INT32_MAX},
	    [PLX_JSON_UINT8] = {"an unsigned 8-bit integer", 0, UINT8_MAX},
	    [PLX_JSON_UINT16] = {"an unsigned 16-bit integer", 0, UINT16_MAX},
	    [PLX_JSON_UINT32] = {"an unsigned 32-bit integer", 0, UINT32_MAX},
	    [PLX_JSON_INT64] = {"a signed 64-bit integer", INT64_MIN, INT64_MAX},
	    /* jansson integers are 64-bit signed, so larger values never reach us. */
	    [PLX_JSON_UINT64] = {"an unsigned 64-bit integer", 0, INT64_MAX},
	};

	if ((size_t)type < PLX_COUNTOF(ranges) && ranges[type].desc != NULL) {
		return &ranges[type];
	}
	return NULL;
}

static const char *type_desc(enum plx_json_type type)
{
	const struct int_range *r = int_range_of(type);

	if (r != NULL) {
		return r->desc;
	}
	switch (type) {
	case PLX_JSON_STRING:
	case PLX_JSON_ENUM:
		return "a string";
	case PLX_JSON_BOOL:
		return "a boolean";
	case PLX_JSON_DOUBLE:
		return "a number";
	case PLX_JSON_OBJECT:
		return "an object";
	case PLX_JSON_ARRAY:
		return "an array";
	default:
		return "a value";
	}
}

static bool type_matches(enum plx_json_type type, const json_t *v)
{
	if (int_range_of(type) != NULL) {
		return json_is_integer(v);
	}
	switch (type) {
	case PLX_JSON_STRING:
	case PLX_JSON_ENUM:
		return json_is_string(v);
	case PLX_JSON_BOOL:
		return json_is_boolean(v);
	case PLX_JSON_DOUBLE:
		return json_is_number(v);
	case PLX_JSON_OBJECT:
		return json_is_object(v);
	case PLX_JSON_ARRAY:
		return json_is_array(v);
	case PLX_JSON_ANY:
		return true;
	default:
		return false;
	}
}

static void fmt_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fmt_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_len == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

static int enum_index(const struct plx_json_field *f, const char *s)
{
	for (int i = 0; f->enum_names != NULL && f->enum_names[i] != NULL; i++) {
		if (strcmp(f->enum_names[i], s) == 0) {
			return i;
		}
	}
	return -1;
}

static void fmt_enum_err(const struct plx_json_field *f, const char *s, char *err, size_t err_len)
{
	size_t off;

	fmt_err(err, err_len, "%s: '%s' is not one of ", f->name, s);
	if (err == NULL || err_len == 0) {
		return;
	}
	for (int i = 0; f->enum_names != NULL && f->enum_names[i] != NULL; i++) {
		off = strlen(err);
		snprintf(err + off, err_len - off, "%s%s", i > 0 ? ", " : "", f->enum_names[i]);
	}
}

/* First pass: whether v is acceptable for f. */
static int check_value(const struct plx_json_field *f, const json_t *v, char *err, size_t err_len)
{
	const struct int_range *r;
	json_int_t i;

	if (!type_matches(f->type, v)) {
		fmt_err(err, err_len, "%s: expected %s, got %s", f->name, type_desc(f->type),
			json_type_desc(v));
		return -EINVAL;
	}
	r = int_range_of(f->type);
	if (r != NULL) {
		i = json_integer_value(v);
		if (i < r->min || i > r->max) {
			fmt_err(err, err_len, "%s: %" PRId64 " is out of range for %s", f->name,
				(int64_t)i, r->desc);
			return -EINVAL;
		}
	}
	if (f->type == PLX_JSON_ENUM && enum_index(f, json_string_value(v)) < 0) {
		fmt_enum_err(f, json_string_value(v), err, err_len);
		return -EINVAL;
	}
	return 0;
}

/* Second pass: store the checked value v. Only strings can fail (-ENOMEM). */
static int store_value(const struct plx_json_field *f, const json_t *v, void *out)
{
	char *dst = (char *)out + f->offset;
	json_int_t i = json_is_integer(v) ? json_integer_value(v) : 0;
	char *s;

	switch (f->type) {
	case PLX_JSON_STRING:
		s = strdup(json_string_value(v));
		if (s == NULL) {
			return -ENOMEM;
		}
		*(char **)dst = s;
		break;
	case PLX_JSON_BOOL:
		*(bool *)dst = json_is_true(v);
		break;
	case PLX_JSON_INT32:
		*(int32_t *)dst = (int32_t)i;
		break;
	case PLX_JSON_UINT8:
		*(uint8_t *)dst = (uint8_t)i;
		break;
	case PLX_JSON_UINT16:
		*(uint16_t *)dst = (uint16_t)i;
		break;
	case PLX_JSON_UINT32:
		*(uint32_t *)dst = (uint32_t)i;
		break;
	case PLX_JSON_INT64:
		*(int64_t *)dst = (int64_t)i;
		break;
	case PLX_JSON_UINT64:
		*(uint64_t *)dst = (uint64_t)i;
		break;
	case PLX_JSON_DOUBLE:
		*(double *)dst = json_number_value(v);
		break;
	case PLX_JSON_OBJECT:
	case PLX_JSON_ARRAY:
	case PLX_JSON_ANY:
		/* jansson is not const-correct: taking a reference changes only the count. */
		*(json_t **)dst = json_incref((json_t *)v);
		break;
	case PLX_JSON_ENUM:
		*(int *)dst = enum_index(f, json_string_value(v));
		break;
	}
	return 0;
}

static void free_value(const struct plx_json_field *f, void *out)
{
	char *dst = (char *)out + f->offset;

	switch (f->type) {
	case PLX_JSON_STRING:
		free(*(char **)dst);
		*(char **)dst = NULL;
		break;
	case PLX_JSON_OBJECT:
	case PLX_JSON_ARRAY:
	case PLX_JSON_ANY:
		json_decref(*(json_t **)dst);
		*(json_t **)dst = NULL;
		break;
	default:
		break;
	}
}

static const struct plx_json_field *find_field(const struct plx_json_field *fields, size_t n,
					       const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(fields[i].name, name) == 0) {
			return &fields[i];
		}
	}
	return NULL;
}

static int check_object(const json_t *params, const struct plx_json_field *fields, size_t n,
			char *err, size_t err_len)
{
	const char *key;
	json_t *v;
	int rc;

	/* Unknown names first: a misspelt optional name would otherwise pass unnoticed. */
	json_object_foreach((json_t *)params, key, v)
	{
		if (find_field(fields, n, key) == NULL) {
			fmt_err(err, err_len, "unknown parameter '%s'", key);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		v = json_object_get(params, fields[i].name);
		if (v == NULL) {
			if (fields[i].required) {
				fmt_err(err, err_len, "missing required parameter '%s'",
					fields[i].name);
				return -EINVAL;
			}
			continue;
		}
		rc = check_value(&fields[i], v, err, err_len);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

int plx_json_decode_object(const json_t *params, const struct plx_json_field *fields, size_t n,
			   void *out, char *err, size_t err_len)
{
	json_t *v;
	int rc;

	/* params NULL reads as an empty object: jansson's lookups and iterators accept NULL. */
	if (params != NULL && !json_is_object(params)) {
		fmt_err(err, err_len, "parameters must be an object");
		return -EINVAL;
	}
	rc = check_object(params, fields, n, err, err_len);
	if (rc != 0) {
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		v = json_object_get(params, fields[i].name);
		if (v == NULL) {
			continue;
		}
		rc = store_value(&fields[i], v, out);
		if (rc != 0) {
			/* Undo what this call stored, so nothing needs freeing. */
			for (size_t j = 0; j < i; j++) {
				if (json_object_get(params, fields[j].name) != NULL) {
					free_value(&fields[j], out);
				}
			}
			fmt_err(err, err_len, "%s: out of memory", fields[i].name);
			return rc;
		}
	}
	return 0;
}

void plx_json_decode_free(const struct plx_json_field *fields, size_t n, void *out)
{
	for (size_t i = 0; i < n; i++) {
		free_value(&fields[i], out);
	}
}

bool plx_rpc_decode_params(struct plx_jsonrpc_request *req, const json_t *params,
			   const struct plx_json_field *fields, size_t n, void *out)
{
	char err[512];
	int rc;

	rc = plx_json_decode_object(params, fields, n, out, err, sizeof(err));
	if (rc == -ENOMEM) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INTERNAL_ERROR, "%s", err);
		return false;
	}
	if (rc != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s", err);
		return false;
	}
	return true;
}

bool plx_rpc_check_no_params(struct plx_jsonrpc_request *req, const json_t *params)
{
	if (params == NULL || (json_is_object(params) && json_object_size(params) == 0) ||
	    (json_is_array(params) && json_array_size(params) == 0)) {
		return true;
	}
	plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s takes no parameters",
			       plx_jsonrpc_request_method(req));
	return false;
}
