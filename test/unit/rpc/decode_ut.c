/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of the declarative parameter decoder. */
#include <stdlib.h>
#include <string.h>

#include "pollux/rpc.h"
#include "ut.h"

struct all_types {
	char *s;
	bool b;
	int32_t i32;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	double d;
	json_t *obj;
	json_t *arr;
	json_t *any;
	int e;
};

static const char *const g_colors[] = {"red", "green", "blue", NULL};

#define F(name, member, type, req)                                                                 \
	{                                                                                          \
		name, offsetof(struct all_types, member), type, req, NULL                          \
	}

static const struct plx_json_field g_fields[] = {
    F("s", s, PLX_JSON_STRING, false),
    F("b", b, PLX_JSON_BOOL, false),
    F("i32", i32, PLX_JSON_INT32, false),
    F("u8", u8, PLX_JSON_UINT8, false),
    F("u16", u16, PLX_JSON_UINT16, false),
    F("u32", u32, PLX_JSON_UINT32, false),
    F("i64", i64, PLX_JSON_INT64, false),
    F("u64", u64, PLX_JSON_UINT64, false),
    F("d", d, PLX_JSON_DOUBLE, false),
    F("obj", obj, PLX_JSON_OBJECT, false),
    F("arr", arr, PLX_JSON_ARRAY, false),
    F("any", any, PLX_JSON_ANY, false),
    {"color", offsetof(struct all_types, e), PLX_JSON_ENUM, false, g_colors},
};

#define NFIELDS (sizeof(g_fields) / sizeof(g_fields[0]))

static char g_err[512];

/* Decode text into *out with the full table. */
static int decode_text(const char *text, struct all_types *out)
{
	json_t *params = json_loads(text, 0, NULL);
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(params);
	g_err[0] = '\0';
	rc = plx_json_decode_object(params, g_fields, NFIELDS, out, g_err, sizeof(g_err));
	json_decref(params);
	return rc;
}

static void test_all_types_ok(void)
{
	struct all_types t = {0};
	int rc;

	rc = decode_text("{\"s\":\"hello\",\"b\":true,\"i32\":-5,\"u8\":200,\"u16\":60000,"
			 "\"u32\":4000000000,\"i64\":-9000000000,\"u64\":9000000000,\"d\":1.5,"
			 "\"obj\":{\"k\":1},\"arr\":[1,2],\"any\":\"x\",\"color\":\"blue\"}",
			 &t);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(t.s, "hello");
	CU_ASSERT(t.b);
	CU_ASSERT_EQUAL(t.i32, -5);
	CU_ASSERT_EQUAL(t.u8, 200);
	CU_ASSERT_EQUAL(t.u16, 60000);
	CU_ASSERT_EQUAL(t.u32, 4000000000u);
	CU_ASSERT_EQUAL(t.i64, -9000000000ll);
	CU_ASSERT_EQUAL(t.u64, 9000000000ull);
	CU_ASSERT_DOUBLE_EQUAL(t.d, 1.5, 0.0);
	CU_ASSERT(json_is_object(t.obj));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(t.obj, "k")), 1);
	CU_ASSERT(json_is_array(t.arr));
	CU_ASSERT_EQUAL(json_array_size(t.arr), 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(t.any), "x");
	CU_ASSERT_EQUAL(t.e, 2);
	/* The decoder holds its own references: they outlive the params. */
	CU_ASSERT_EQUAL(t.obj->refcount, 1);
	plx_json_decode_free(g_fields, NFIELDS, &t);
	CU_ASSERT_PTR_NULL(t.s);
	CU_ASSERT_PTR_NULL(t.obj);
	CU_ASSERT_PTR_NULL(t.arr);
	CU_ASSERT_PTR_NULL(t.any);
}

static void test_defaults_kept(void)
{
	struct all_types t = {.u32 = 77, .b = true, .d = 2.5, .e = 1};

	CU_ASSERT_EQUAL(decode_text("{}", &t), 0);
	CU_ASSERT_EQUAL(t.u32, 77);
	CU_ASSERT(t.b);
	CU_ASSERT_DOUBLE_EQUAL(t.d, 2.5, 0.0);
	CU_ASSERT_EQUAL(t.e, 1);
	CU_ASSERT_EQUAL(plx_json_decode_object(NULL, g_fields, NFIELDS, &t, g_err, sizeof(g_err)),
			0);
	CU_ASSERT_EQUAL(t.u32, 77);
}

static void test_double_accepts_integer(void)
{
	struct all_types t = {0};

	CU_ASSERT_EQUAL(decode_text("{\"d\":3}", &t), 0);
	CU_ASSERT_DOUBLE_EQUAL(t.d, 3.0, 0.0);
	CU_ASSERT_EQUAL(decode_text("{\"d\":-1e300}", &t), 0);
	CU_ASSERT_DOUBLE_EQUAL(t.d, -1e300, 1e285);
}

static void test_any_accepts_everything(void)
{
	const char *values[] = {"null", "1", "1.5", "true", "\"s\"", "[]", "{}"};
	char text[64];

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct all_types t = {0};

		snprintf(text, sizeof(text), "{\"any\":%s}", values[i]);
		CU_ASSERT_EQUAL(decode_text(text, &t), 0);
		CU_ASSERT_PTR_NOT_NULL(t.any);
		plx_json_decode_free(g_fields, NFIELDS, &t);
	}
}

/* text must fail and the message must contain want. */
static void expect_error(const char *text, const char *want)
{
	struct all_types t = {0};
	int rc = decode_text(text, &t);

	CU_ASSERT_EQUAL(rc, -EINVAL);
	if (strstr(g_err, want) == NULL) {
		fprintf(stderr, "\n  input %s\n  message '%s'\n  expected '%s'\n", text, g_err,
			want);
		CU_FAIL("error message");
	}
	/* Nothing was left allocated. */
	CU_ASSERT_PTR_NULL(t.s);
	CU_ASSERT_PTR_NULL(t.obj);
	CU_ASSERT_PTR_NULL(t.arr);
	CU_ASSERT_PTR_NULL(t.any);
}

static void test_wrong_types(void)
{
	expect_error("{\"s\":1}", "s: expected a string, got integer");
	expect_error("{\"b\":\"true\"}", "b: expected a boolean, got string");
	expect_error("{\"b\":1}", "b: expected a boolean, got integer");
	expect_error("{\"i32\":\"1\"}", "i32: expected a signed 32-bit integer, got string");
	expect_error("{\"u8\":null}", "u8: expected an unsigned 8-bit integer, got null");
	expect_error("{\"u16\":[]}", "u16: expected an unsigned 16-bit integer, got array");
	expect_error("{\"u32\":\"x\"}", "u32: expected an unsigned 32-bit integer, got string");
	expect_error("{\"i64\":{}}", "i64: expected a signed 64-bit integer, got object");
	expect_error("{\"u64\":true}", "u64: expected an unsigned 64-bit integer, got boolean");
	expect_error("{\"d\":\"1.0\"}", "d: expected a number, got string");
	expect_error("{\"obj\":[]}", "obj: expected an object, got array");
	expect_error("{\"arr\":{}}", "arr: expected an array, got object");
	expect_error("{\"color\":3}", "color: expected a string, got integer");
}

static void test_real_for_integer(void)
{
	expect_error("{\"u32\":1.0}", "u32: expected an unsigned 32-bit integer, got real");
	expect_error("{\"i32\":1.5}", "i32: expected a signed 32-bit integer, got real");
	expect_error("{\"u64\":1e3}", "u64: expected an unsigned 64-bit integer, got real");
	expect_error("{\"i64\":-0.0}", "i64: expected a signed 64-bit integer, got real");
	expect_error("{\"u8\":2.0}", "u8: expected an unsigned 8-bit integer, got real");
	expect_error("{\"u16\":2.0}", "u16: expected an unsigned 16-bit integer, got real");
}

struct edge {
	const char *field;
	const char *min;
	const char *max;
	const char *below; /* NULL when no JSON integer is below min */
	const char *above; /* NULL when no JSON integer is above max */
	const char *desc;
};

static const struct edge g_edges[] = {
    {"i32", "-2147483648", "2147483647", "-2147483649", "2147483648", "a signed 32-bit integer"},
    {"u8", "0", "255", "-1", "256", "an unsigned 8-bit integer"},
    {"u16", "0", "65535", "-1", "65536", "an unsigned 16-bit integer"},
    {"u32", "0", "4294967295", "-1", "4294967296", "an unsigned 32-bit integer"},
    {"i64", "-9223372036854775808", "9223372036854775807", NULL, NULL, "a signed 64-bit integer"},
    {"u64", "0", "9223372036854775807", "-1", NULL, "an unsigned 64-bit integer"},
};

static void check_edge_ok(const struct edge *e, const char *value)
{
	struct all_types t = {0};
	char text[128], got[32] = "";

	snprintf(text, sizeof(text), "{\"%s\":%s}", e->field, value);
	CU_ASSERT_EQUAL_FATAL(decode_text(text, &t), 0);
	if (strcmp(e->field, "i32") == 0) {
		snprintf(got, sizeof(got), "%d", t.i32);
	} else if (strcmp(e->field, "u8") == 0) {
		snprintf(got, sizeof(got), "%u", t.u8);
	} else if (strcmp(e->field, "u16") == 0) {
		snprintf(got, sizeof(got), "%u", t.u16);
	} else if (strcmp(e->field, "u32") == 0) {
		snprintf(got, sizeof(got), "%u", t.u32);
	} else if (strcmp(e->field, "i64") == 0) {
		snprintf(got, sizeof(got), "%lld", (long long)t.i64);
	} else {
		snprintf(got, sizeof(got), "%llu", (unsigned long long)t.u64);
	}
	CU_ASSERT_STRING_EQUAL(got, value);
}

static void check_edge_bad(const struct edge *e, const char *value)
{
	char text[128], want[160];

	snprintf(text, sizeof(text), "{\"%s\":%s}", e->field, value);
	snprintf(want, sizeof(want), "%s: %s is out of range for %s", e->field, value, e->desc);
	expect_error(text, want);
}

static void test_integer_ranges(void)
{
	for (size_t i = 0; i < sizeof(g_edges) / sizeof(g_edges[0]); i++) {
		const struct edge *e = &g_edges[i];

		check_edge_ok(e, e->min);
		check_edge_ok(e, e->max);
		if (e->below != NULL) {
			check_edge_bad(e, e->below);
		}
		if (e->above != NULL) {
			check_edge_bad(e, e->above);
		}
	}
	/* Far out of range, and the most negative value for unsigned 64. */
	expect_error("{\"u64\":-9223372036854775808}",
		     "u64: -9223372036854775808 is out of range for an unsigned 64-bit integer");
	expect_error("{\"u8\":100000000000}", "u8: 100000000000 is out of range");
}

static const struct plx_json_field g_required[] = {
    {"name", offsetof(struct all_types, s), PLX_JSON_STRING, true, NULL},
    {"block_size", offsetof(struct all_types, u32), PLX_JSON_UINT32, true, NULL},
    {"num", offsetof(struct all_types, u64), PLX_JSON_UINT64, false, NULL},
};

static int decode_required(const char *text, struct all_types *t)
{
	json_t *params = text != NULL ? json_loads(text, 0, NULL) : NULL;
	int rc;

	g_err[0] = '\0';
	rc = plx_json_decode_object(params, g_required, 3, t, g_err, sizeof(g_err));
	json_decref(params);
	return rc;
}

static void test_missing_required(void)
{
	struct all_types t = {0};

	CU_ASSERT_EQUAL(decode_required("{\"name\":\"a\"}", &t), -EINVAL);
	CU_ASSERT_STRING_EQUAL(g_err, "missing required parameter 'block_size'");
	CU_ASSERT_PTR_NULL(t.s);
	CU_ASSERT_EQUAL(decode_required(NULL, &t), -EINVAL);
	CU_ASSERT_STRING_EQUAL(g_err, "missing required parameter 'name'");
	CU_ASSERT_EQUAL(decode_required("{\"name\":\"a\",\"block_size\":512}", &t), 0);
	CU_ASSERT_STRING_EQUAL(t.s, "a");
	CU_ASSERT_EQUAL(t.u32, 512);
	plx_json_decode_free(g_required, 3, &t);
}

static void test_unknown_param(void)
{
	struct all_types t = {0};

	CU_ASSERT_EQUAL(decode_required("{\"name\":\"a\",\"block_size\":512,\"foo\":1}", &t),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(g_err, "unknown parameter 'foo'");
	CU_ASSERT_PTR_NULL(t.s);
	CU_ASSERT_EQUAL(t.u32, 0);
}

static void test_error_leaves_struct_untouched(void)
{
	struct all_types t = {.u32 = 9, .u64 = 11};

	/* name and num are valid but block_size is not: nothing may be stored. */
	CU_ASSERT_EQUAL(decode_required("{\"name\":\"a\",\"num\":5,\"block_size\":-1}", &t),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(g_err,
			       "block_size: -1 is out of range for an unsigned 32-bit integer");
	CU_ASSERT_PTR_NULL(t.s);
	CU_ASSERT_EQUAL(t.u32, 9);
	CU_ASSERT_EQUAL(t.u64, 11);
}

static void test_enum(void)
{
	struct all_types t = {0};

	CU_ASSERT_EQUAL(decode_text("{\"color\":\"red\"}", &t), 0);
	CU_ASSERT_EQUAL(t.e, 0);
	CU_ASSERT_EQUAL(decode_text("{\"color\":\"green\"}", &t), 0);
	CU_ASSERT_EQUAL(t.e, 1);
	expect_error("{\"color\":\"pink\"}", "color: 'pink' is not one of red, green, blue");
	expect_error("{\"color\":\"RED\"}", "color: 'RED' is not one of red, green, blue");
}

static void test_params_not_object(void)
{
	struct all_types t = {0};

	CU_ASSERT_EQUAL(decode_text("[1, 2]", &t), -EINVAL);
	CU_ASSERT_STRING_EQUAL(g_err, "parameters must be an object");
	CU_ASSERT_EQUAL(decode_text("[]", &t), -EINVAL);
	CU_ASSERT_STRING_EQUAL(g_err, "parameters must be an object");
}

static void test_small_err_buffer(void)
{
	struct all_types t = {0};
	json_t *params = json_loads("{\"color\":\"pink\"}", 0, NULL);
	char small[8];

	CU_ASSERT_EQUAL(plx_json_decode_object(params, g_fields, NFIELDS, &t, small, sizeof(small)),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(small, "color: ");
	CU_ASSERT_EQUAL(plx_json_decode_object(params, g_fields, NFIELDS, &t, NULL, 0), -EINVAL);
	json_decref(params);
}

static void test_free_zeroes(void)
{
	struct all_types t = {0};

	CU_ASSERT_EQUAL(decode_text("{\"s\":\"x\",\"any\":[1],\"u32\":5}", &t), 0);
	plx_json_decode_free(g_fields, NFIELDS, &t);
	CU_ASSERT_PTR_NULL(t.s);
	CU_ASSERT_PTR_NULL(t.any);
	/* Scalars are left alone. */
	CU_ASSERT_EQUAL(t.u32, 5);
	/* Freeing twice is harmless because free zeroes. */
	plx_json_decode_free(g_fields, NFIELDS, &t);
}

static const struct plx_ut_case cases[] = {
    {"all_types_ok", test_all_types_ok},
    {"defaults_kept", test_defaults_kept},
    {"double_accepts_integer", test_double_accepts_integer},
    {"any_accepts_everything", test_any_accepts_everything},
    {"wrong_types", test_wrong_types},
    {"real_for_integer", test_real_for_integer},
    {"integer_ranges", test_integer_ranges},
    {"missing_required", test_missing_required},
    {"unknown_param", test_unknown_param},
    {"error_leaves_struct_untouched", test_error_leaves_struct_untouched},
    {"enum", test_enum},
    {"params_not_object", test_params_not_object},
    {"small_err_buffer", test_small_err_buffer},
    {"free_zeroes", test_free_zeroes},
};

PLX_UT_MAIN("rpc_decode", cases)
