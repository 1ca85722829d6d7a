/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the request stream: framing, validation, dispatch, state checks,
 * notifications, asynchronous answers, local calls and the method registry.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pollux/log.h"
#include "pollux/rpc.h"
#include "pollux/util.h"
#include "rpc_internal.h"
#include "ut.h"

/* ---- test methods ---- */

static int g_count_calls;
static struct plx_jsonrpc_request *g_async[8];
static int g_num_async;

static void ut_echo(struct plx_jsonrpc_request *req, const json_t *params)
{
	plx_jsonrpc_send_result(req, params != NULL ? json_deep_copy(params) : NULL);
}
PLX_RPC_REGISTER("ut_echo", ut_echo, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void ut_count(struct plx_jsonrpc_request *req, const json_t *params)
{
	g_count_calls++;
	plx_jsonrpc_send_bool(req, true);
}
PLX_RPC_REGISTER("ut_count", ut_count, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void ut_async(struct plx_jsonrpc_request *req, const json_t *params)
{
	CU_ASSERT_FATAL(g_num_async < 8);
	g_async[g_num_async++] = req;
}
PLX_RPC_REGISTER("ut_async", ut_async, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void ut_runtime_only(struct plx_jsonrpc_request *req, const json_t *params)
{
	plx_jsonrpc_send_bool(req, true);
}
PLX_RPC_REGISTER("ut_runtime_only", ut_runtime_only, PLX_RPC_RUNTIME)

static void ut_startup_only(struct plx_jsonrpc_request *req, const json_t *params)
{
	plx_jsonrpc_send_bool(req, true);
}
PLX_RPC_REGISTER("ut_startup_only", ut_startup_only, PLX_RPC_STARTUP)

static void ut_no_params(struct plx_jsonrpc_request *req, const json_t *params)
{
	if (plx_rpc_check_no_params(req, params)) {
		plx_jsonrpc_send_bool(req, true);
	}
}
PLX_RPC_REGISTER("ut_no_params", ut_no_params, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void ut_twice(struct plx_jsonrpc_request *req, const json_t *params)
{
	plx_jsonrpc_send_bool(req, true);
	plx_jsonrpc_send_error(req, -1, "second");
	plx_jsonrpc_send_result(req, json_string("third"));
}
PLX_RPC_REGISTER("ut_twice", ut_twice, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

struct create_params {
	char *name;
	uint32_t block_size;
};

static const struct plx_json_field g_create_fields[] = {
    {"name", offsetof(struct create_params, name), PLX_JSON_STRING, true, NULL},
    {"block_size", offsetof(struct create_params, block_size), PLX_JSON_UINT32, false, NULL},
};

static void ut_create(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct create_params p = {.block_size = 512};

	if (!plx_rpc_decode_params(req, params, g_create_fields, 2, &p)) {
		return;
	}
	plx_jsonrpc_send_result(
	    req, json_pack("{s:s, s:i}", "name", p.name, "block_size", (json_int_t)p.block_size));
	plx_json_decode_free(g_create_fields, 2, &p);
}
PLX_RPC_REGISTER("ut_create", ut_create, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

/* ---- output capture ---- */

static char *g_out;
static size_t g_out_len;
static size_t g_out_read;
static int g_out_calls;

static void capture(void *arg, const char *buf, size_t len)
{
	CU_ASSERT_PTR_EQUAL(arg, &g_out);
	g_out = realloc(g_out, g_out_len + len + 1);
	memcpy(g_out + g_out_len, buf, len);
	g_out_len += len;
	g_out[g_out_len] = '\0';
	g_out_calls++;
}

static void capture_reset(void)
{
	free(g_out);
	g_out = NULL;
	g_out_len = g_out_read = 0;
	g_out_calls = 0;
}

static struct plx_rpc_stream *new_stream(void)
{
	struct plx_rpc_stream *s;

	capture_reset();
	g_count_calls = 0;
	s = plx_rpc_stream_create(capture, &g_out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

static int feed(struct plx_rpc_stream *s, const char *text)
{
	return plx_rpc_stream_feed(s, text, strlen(text));
}

static bool have_response(void)
{
	return g_out_read < g_out_len;
}

/* The next response line, parsed; NULL (and a failure) when there is none. */
static json_t *next_response(void)
{
	char *nl;
	json_t *r;

	if (!have_response()) {
		CU_FAIL("no response");
		return NULL;
	}
	nl = strchr(g_out + g_out_read, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
	r = json_loadb(g_out + g_out_read, (size_t)(nl - (g_out + g_out_read)), 0, NULL);
	CU_ASSERT_PTR_NOT_NULL(r);
	g_out_read = (size_t)(nl - g_out) + 1;
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
	return r;
}

/* Take the next response: an error with code and a message containing msg, and id id_text. */
static void expect_error(int code, const char *msg, const char *id_text)
{
	json_t *r = next_response(), *err, *want_id;
	const char *m;

	if (r == NULL) {
		return;
	}
	err = json_object_get(r, "error");
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT_PTR_NULL(json_object_get(r, "result"));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(err, "code")), code);
	m = json_string_value(json_object_get(err, "message"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	if (strstr(m, msg) == NULL) {
		fprintf(stderr, "\n  message '%s' lacks '%s'\n", m, msg);
		CU_FAIL("error message");
	}
	want_id = json_loads(id_text, JSON_DECODE_ANY, NULL);
	CU_ASSERT(json_equal(json_object_get(r, "id"), want_id));
	json_decref(want_id);
	json_decref(r);
}

/* Take the next response: a result equal to result_text, with id id_text. */
static void expect_result(const char *result_text, const char *id_text)
{
	json_t *r = next_response(), *want;

	if (r == NULL) {
		return;
	}
	CU_ASSERT_PTR_NULL(json_object_get(r, "error"));
	want = json_loads(result_text, JSON_DECODE_ANY, NULL);
	CU_ASSERT(json_equal(json_object_get(r, "result"), want));
	json_decref(want);
	want = json_loads(id_text, JSON_DECODE_ANY, NULL);
	CU_ASSERT(json_equal(json_object_get(r, "id"), want));
	json_decref(want);
	json_decref(r);
}

/* ---- framing ---- */

static void test_one_request_exact_text(void)
{
	struct plx_rpc_stream *s = new_stream();

	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":1}"), 0);
	CU_ASSERT_STRING_EQUAL(g_out, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":true}\n");
	CU_ASSERT_EQUAL(g_out_calls, 1);
	plx_rpc_stream_destroy(s);
	capture_reset();
	s = new_stream();
	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":\"a\"}"), 0);
	CU_ASSERT_STRING_EQUAL(g_out,
			       "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"error\":{\"code\":-32601,"
			       "\"message\":\"Method not found: nope\"}}\n");
	plx_rpc_stream_destroy(s);
}

static void test_two_requests_one_buffer(void)
{
	struct plx_rpc_stream *s = new_stream();

	CU_ASSERT_EQUAL(feed(s,
			     "{\"jsonrpc\":\"2.0\",\"method\":\"ut_echo\",\"params\":[1],\"id\":1}"
			     "{\"jsonrpc\":\"2.0\",\"method\":\"ut_echo\",\"params\":{\"a\":\"}\"},"
			     "\"id\":2}"),
			0);
	expect_result("[1]", "1");
	expect_result("{\"a\":\"}\"}", "2");
	CU_ASSERT(!have_response());
	plx_rpc_stream_destroy(s);
}

static void test_byte_by_byte(void)
{
	const char *text = "{\"jsonrpc\":\"2.0\",\"method\":\"ut_echo\",\"id\":7,"
			   "\"params\":{\"s\":\"a\\\"}]{[\\\\\",\"n\":[[{}],[]]}}"
			   " {\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":8}";
	struct plx_rpc_stream *s = new_stream();
	size_t len = strlen(text), first_end = strchr(text, ' ') - text;

	for (size_t i = 0; i < len; i++) {
		CU_ASSERT_EQUAL(plx_rpc_stream_feed(s, &text[i], 1), 0);
		/* The first answer appears exactly when its closing brace arrives. */
		CU_ASSERT_EQUAL(g_out_calls, i + 1 < first_end ? 0 : (i + 1 < len ? 1 : 2));
	}
	expect_result("{\"s\":\"a\\\"}]{[\\\\\",\"n\":[[{}],[]]}", "7");
	expect_result("true", "8");
	plx_rpc_stream_destroy(s);
}

static void test_whitespace_between(void)
{
	struct plx_rpc_stream *s = new_stream();

	CU_ASSERT_EQUAL(
	    feed(s, " \r\n\t {\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":1}\n\n"
		    "   \t{ \"jsonrpc\" : \"2.0\" , \"method\" : \"ut_count\" , \"id\" : 2 }"
		    "\r\n  \n"),
	    0);
	expect_result("true", "1");
	expect_result("true", "2");
	CU_ASSERT_EQUAL(feed(s, "   "), 0);
	CU_ASSERT(!have_response());
	plx_rpc_stream_destroy(s);
}

static void test_parse_error(void)
{
	struct plx_rpc_stream *s = new_stream();

	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":1}"
				"{\"jsonrpc\":\"2.0\",\"method\":}"
				"{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":3}"),
			-EPROTO);
	expect_result("true", "1");
	expect_error(PLX_JSONRPC_ERROR_PARSE_ERROR, "Parse error: ", "null");
	/* Nothing after the error is run, and the stream stays failed. */
	CU_ASSERT(!have_response());
	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":4}"), -EPROTO);
	CU_ASSERT(!have_response());
	plx_rpc_stream_destroy(s);
}

static void test_parse_error_not_structured(void)
{
	/* Not JSON at all: a parse error. A JSON scalar: JSON, but not a request. */
	const struct {
		const char *input;
		int code;
		const char *msg;
	} cases[] = {
	    {"hello", PLX_JSONRPC_ERROR_PARSE_ERROR, "Parse error"},
	    {"}", PLX_JSONRPC_ERROR_PARSE_ERROR, "Parse error"},
	    {"\x01", PLX_JSONRPC_ERROR_PARSE_ERROR, "Parse error"},
	    {"\"str\"", PLX_JSONRPC_ERROR_INVALID_REQUEST, "Invalid request"},
	    {"42", PLX_JSONRPC_ERROR_INVALID_REQUEST, "Invalid request"},
	    {"null", PLX_JSONRPC_ERROR_INVALID_REQUEST, "Invalid request"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct plx_rpc_stream *s = new_stream();

		CU_ASSERT_EQUAL(feed(s, cases[i].input), -EPROTO);
		expect_error(cases[i].code, cases[i].msg, "null");
		plx_rpc_stream_destroy(s);
	}
}

static void test_parse_error_bad_json_inside(void)
{
	const char *inputs[] = {"{\"a\" 1}",   "{,}",	    "[1,]",
				"{\"a\":tru}", "{\"a\":1]", "{\"a\":\"\\x\"}"};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct plx_rpc_stream *s = new_stream();

		CU_ASSERT_EQUAL(feed(s, inputs[i]), -EPROTO);
		expect_error(PLX_JSONRPC_ERROR_PARSE_ERROR, "Parse error: ", "null");
		plx_rpc_stream_destroy(s);
	}
}

static void test_oversized_request(void)
{
	struct plx_rpc_stream *s;
	char big[300];

	plx_rpc_set_max_request_size(100);
	/* Incomplete and growing past the limit. */
	s = new_stream();
	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"params\":[\""), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(feed(s, big), -EPROTO);
	expect_error(PLX_JSONRPC_ERROR_INVALID_REQUEST, "request exceeds 100 bytes", "null");
	CU_ASSERT(!have_response());
	plx_rpc_stream_destroy(s);

	/* Complete in one feed but too big. */
	s = new_stream();
	snprintf(big, sizeof(big),
		 "{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":1,\"params\":[\"%0150d\"]}",
		 0);
	CU_ASSERT_EQUAL(feed(s, big), -EPROTO);
	expect_error(PLX_JSONRPC_ERROR_INVALID_REQUEST, "request exceeds 100 bytes", "null");
	CU_ASSERT_EQUAL(g_count_calls, 0);
	plx_rpc_stream_destroy(s);

	/* Exactly at the limit is fine, and the limit is per request, not per stream. */
	s = new_stream();
	snprintf(big, sizeof(big),
		 "{\"jsonrpc\":\"2.0\",\"method\":\"ut_echo\",\"id\":1,\"params\":[\"%0*d\"]}",
		 100 - 57, 0);
	CU_ASSERT_EQUAL_FATAL(strlen(big), 100);
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(feed(s, big), 0);
		CU_ASSERT_EQUAL(feed(s, "\n"), 0);
	}
	CU_ASSERT_EQUAL(g_out_calls, 5);
	plx_rpc_stream_destroy(s);
	plx_rpc_set_max_request_size(0);
	CU_ASSERT_EQUAL(plx_rpc_get_max_request_size(), PLX_RPC_MAX_REQUEST_SIZE);
}

static void test_large_request_in_pieces(void)
{
	size_t n = 3 * 1024 * 1024, off = 0;
	char *text = malloc(n + 128);
	struct plx_rpc_stream *s = new_stream();
	json_t *r;
	size_t len;

	static const char head[] = "{\"jsonrpc\":\"2.0\",\"method\":\"ut_echo\",\"id\":1,"
				   "\"params\":[\"";

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	memcpy(text, head, sizeof(head) - 1);
	len = sizeof(head) - 1;
	memset(text + len, 'y', n);
	len += n;
	memcpy(text + len, "\"]}", 3);
	len += 3;
	while (off < len) {
		size_t piece = PLX_MIN((size_t)4093, len - off);

		CU_ASSERT_EQUAL_FATAL(plx_rpc_stream_feed(s, text + off, piece), 0);
		off += piece;
	}
	r = next_response();
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(strlen(json_string_value(json_array_get(json_object_get(r, "result"), 0))),
			n);
	json_decref(r);
	/* One feed much larger than a chunk works too. */
	CU_ASSERT_EQUAL(plx_rpc_stream_feed(s, text, len), 0);
	CU_ASSERT_EQUAL(g_out_calls, 2);
	free(text);
	plx_rpc_stream_destroy(s);
}

/* ---- validation ---- */

static void test_invalid_requests(void)
{
	static const struct {
		const char *text;
		const char *msg;
		const char *id;
	} cases[] = {
	    {"{\"jsonrpc\":\"2.0\",\"id\":1}", "'method' is missing", "1"},
	    {"{\"jsonrpc\":\"1.0\",\"method\":\"ut_count\",\"id\":2}", "'jsonrpc'", "2"},
	    {"{\"jsonrpc\":2.0,\"method\":\"ut_count\",\"id\":3}", "'jsonrpc'", "3"},
	    {"{\"method\":\"ut_count\",\"id\":4}", "'jsonrpc'", "4"},
	    {"{\"jsonrpc\":\"2.0\",\"method\":5,\"id\":5}", "'method' must be a string", "5"},
	    {"{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"params\":5,\"id\":6}", "'params'",
	     "6"},
	    {"{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"params\":\"x\",\"id\":7}", "'params'",
	     "7"},
	    {"{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"params\":null,\"id\":8}", "'params'",
	     "8"},
	    {"{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":{}}", "'id'", "null"},
	    {"{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":[1]}", "'id'", "null"},
	    {"{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":true}", "'id'", "null"},
	    {"{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":9,\"extra\":1}",
	     "unexpected member 'extra'", "9"},
	    /* Invalid requests are answered even without an id. */
	    {"{\"jsonrpc\":\"2.0\",\"method\":10}", "'method' must be a string", "null"},
	    {"{}", "Invalid request", "null"},
	};
	struct plx_rpc_stream *s = new_stream();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(feed(s, cases[i].text), 0);
		expect_error(PLX_JSONRPC_ERROR_INVALID_REQUEST, cases[i].msg, cases[i].id);
	}
	CU_ASSERT_EQUAL(g_count_calls, 0);
	plx_rpc_stream_destroy(s);
}

static void test_invalid_messages_say_invalid_request(void)
{
	struct plx_rpc_stream *s = new_stream();
	json_t *r;

	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"id\":1}"), 0);
	r = next_response();
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(json_object_get(r, "error"), "message")),
	    "Invalid request: 'method' is missing");
	json_decref(r);
	plx_rpc_stream_destroy(s);
}

static void test_batch_refused(void)
{
	struct plx_rpc_stream *s = new_stream();

	CU_ASSERT_EQUAL(feed(s, "[{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":1}]"), 0);
	expect_error(PLX_JSONRPC_ERROR_INVALID_REQUEST, "batch requests are not supported", "null");
	CU_ASSERT_EQUAL(feed(s, "[]"), 0);
	expect_error(PLX_JSONRPC_ERROR_INVALID_REQUEST, "batch requests are not supported", "null");
	CU_ASSERT_EQUAL(g_count_calls, 0);
	/* The stream goes on. */
	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":2}"), 0);
	expect_result("true", "2");
	g_count_calls = 0;
	plx_rpc_stream_destroy(s);
}

static void test_unknown_method(void)
{
	struct plx_rpc_stream *s = new_stream();

	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"bdev_nope\",\"id\":1}"), 0);
	expect_error(PLX_JSONRPC_ERROR_METHOD_NOT_FOUND, "Method not found: bdev_nope", "1");
	plx_rpc_stream_destroy(s);
}

static void test_state_checks(void)
{
	struct plx_rpc_stream *s = new_stream();

	CU_ASSERT_EQUAL(plx_rpc_get_state(), PLX_RPC_STARTUP);
	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_runtime_only\",\"id\":1}"
				"{\"jsonrpc\":\"2.0\",\"method\":\"ut_startup_only\",\"id\":2}"),
			0);
	expect_error(PLX_JSONRPC_ERROR_METHOD_NOT_FOUND, "framework_start_init", "1");
	expect_result("true", "2");

	plx_rpc_set_state(PLX_RPC_RUNTIME);
	CU_ASSERT_EQUAL(plx_rpc_get_state(), PLX_RPC_RUNTIME);
	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_runtime_only\",\"id\":3}"
				"{\"jsonrpc\":\"2.0\",\"method\":\"ut_startup_only\",\"id\":4}"
				"{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":5}"),
			0);
	expect_result("true", "3");
	expect_error(PLX_JSONRPC_ERROR_METHOD_NOT_FOUND, "during startup", "4");
	expect_result("true", "5");
	plx_rpc_set_state(PLX_RPC_STARTUP);
	g_count_calls = 0;
	plx_rpc_stream_destroy(s);
}

static void test_notifications(void)
{
	struct plx_rpc_stream *s = new_stream();

	g_count_calls = 0;
	CU_ASSERT_EQUAL(feed(s,
			     "{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\"}"
			     "{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"params\":{}}"
			     "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}"
			     "{\"jsonrpc\":\"2.0\",\"method\":\"ut_create\",\"params\":{\"x\":1}}"
			     "{\"jsonrpc\":\"2.0\",\"method\":\"ut_runtime_only\"}"),
			0);
	CU_ASSERT_EQUAL(g_count_calls, 2);
	CU_ASSERT_EQUAL(g_out_calls, 0);
	/* An async notification answered later: still nothing sent. */
	g_num_async = 0;
	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_async\"}"), 0);
	CU_ASSERT_EQUAL_FATAL(g_num_async, 1);
	plx_jsonrpc_send_result(g_async[0], json_string("later"));
	g_num_async = 0;
	CU_ASSERT_EQUAL(g_out_calls, 0);
	/* An explicit null id is a request, not a notification. */
	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":null}"), 0);
	expect_result("true", "null");
	g_count_calls = 0;
	plx_rpc_stream_destroy(s);
}

static void test_async_answer(void)
{
	struct plx_rpc_stream *s = new_stream();

	g_num_async = 0;
	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_async\",\"id\":1}"
				"{\"jsonrpc\":\"2.0\",\"method\":\"ut_async\",\"id\":2,"
				"\"params\":{\"k\":[1,2,3]}}"),
			0);
	CU_ASSERT_EQUAL_FATAL(g_num_async, 2);
	CU_ASSERT_EQUAL(plx_rpc_stream_pending(s), 2);
	CU_ASSERT(!have_response());
	CU_ASSERT_STRING_EQUAL(plx_jsonrpc_request_method(g_async[1]), "ut_async");
	/* Answers go out in the order given, not the order asked. */
	plx_jsonrpc_send_error(g_async[1], -5, "failed: %s", "io");
	expect_error(-5, "failed: io", "2");
	plx_jsonrpc_send_result(g_async[0], NULL);
	expect_result("null", "1");
	CU_ASSERT_EQUAL(plx_rpc_stream_pending(s), 0);
	g_num_async = 0;
	plx_rpc_stream_destroy(s);
}

static void test_async_answer_after_destroy(void)
{
	struct plx_rpc_stream *s = new_stream();

	g_num_async = 0;
	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_async\",\"id\":1}"
				"{\"jsonrpc\":\"2.0\",\"method\":\"ut_async\",\"id\":2,"
				"\"params\":{\"big\":\"value\"}}"),
			0);
	CU_ASSERT_EQUAL_FATAL(g_num_async, 2);
	plx_rpc_stream_destroy(s);
	/* The requests outlive their stream; answers are dropped (ASan checks the memory). */
	CU_ASSERT_STRING_EQUAL(plx_jsonrpc_request_method(g_async[0]), "ut_async");
	plx_jsonrpc_send_result(g_async[0], json_string("x"));
	plx_jsonrpc_send_error(g_async[1], -1, "late");
	CU_ASSERT_EQUAL(g_out_calls, 0);
	g_num_async = 0;
}

static void test_id_echo(void)
{
	static const char *ids[] = {"\"abc\"",
				    "\"\"",
				    "\"with \\\"quote\\\" and \\u00e9\"",
				    "0",
				    "-17",
				    "9223372036854775807",
				    "-9223372036854775808",
				    "2.5",
				    "null"};
	struct plx_rpc_stream *s = new_stream();
	char text[256];

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"id\":%s,\"jsonrpc\":\"2.0\",\"method\":\"ut_count\"}", ids[i]);
		CU_ASSERT_EQUAL(feed(s, text), 0);
		expect_result("true", ids[i]);
		snprintf(text, sizeof(text), "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":%s}",
			 ids[i]);
		CU_ASSERT_EQUAL(feed(s, text), 0);
		expect_error(PLX_JSONRPC_ERROR_METHOD_NOT_FOUND, "nope", ids[i]);
	}
	/* Integer ids come back as written. */
	capture_reset();
	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_count\",\"id\":-12345}"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(g_out, "\"id\":-12345,"));
	g_count_calls = 0;
	plx_rpc_stream_destroy(s);
}

static void test_answer_twice(void)
{
	struct plx_rpc_stream *s = new_stream();

	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_twice\",\"id\":1}"), 0);
	expect_result("true", "1");
	CU_ASSERT(!have_response());
	CU_ASSERT_EQUAL(g_out_calls, 1);
	plx_rpc_stream_destroy(s);
}

static void test_decode_params_answer(void)
{
	struct plx_rpc_stream *s = new_stream();

	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_create\",\"id\":1,"
				"\"params\":{\"name\":\"m0\"}}"
				"{\"jsonrpc\":\"2.0\",\"method\":\"ut_create\",\"id\":2,"
				"\"params\":{\"name\":\"m0\",\"block_size\":\"4k\"}}"
				"{\"jsonrpc\":\"2.0\",\"method\":\"ut_create\",\"id\":3}"
				"{\"jsonrpc\":\"2.0\",\"method\":\"ut_create\",\"id\":4,"
				"\"params\":[\"m0\"]}"),
			0);
	expect_result("{\"name\":\"m0\",\"block_size\":512}", "1");
	expect_error(PLX_JSONRPC_ERROR_INVALID_PARAMS,
		     "block_size: expected an unsigned 32-bit integer, got string", "2");
	expect_error(PLX_JSONRPC_ERROR_INVALID_PARAMS, "missing required parameter 'name'", "3");
	expect_error(PLX_JSONRPC_ERROR_INVALID_PARAMS, "parameters must be an object", "4");
	plx_rpc_stream_destroy(s);
}

static void test_check_no_params(void)
{
	struct plx_rpc_stream *s = new_stream();

	CU_ASSERT_EQUAL(feed(s, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_no_params\",\"id\":1}"
				"{\"jsonrpc\":\"2.0\",\"method\":\"ut_no_params\",\"id\":2,"
				"\"params\":{}}"
				"{\"jsonrpc\":\"2.0\",\"method\":\"ut_no_params\",\"id\":3,"
				"\"params\":[]}"
				"{\"jsonrpc\":\"2.0\",\"method\":\"ut_no_params\",\"id\":4,"
				"\"params\":{\"a\":1}}"
				"{\"jsonrpc\":\"2.0\",\"method\":\"ut_no_params\",\"id\":5,"
				"\"params\":[0]}"),
			0);
	expect_result("true", "1");
	expect_result("true", "2");
	expect_result("true", "3");
	expect_error(PLX_JSONRPC_ERROR_INVALID_PARAMS, "ut_no_params takes no parameters", "4");
	expect_error(PLX_JSONRPC_ERROR_INVALID_PARAMS, "ut_no_params takes no parameters", "5");
	plx_rpc_stream_destroy(s);
}

/* ---- registry ---- */

struct walk {
	const char *names[4096];
	uint32_t masks[4096];
	int n;
};

static void walk_cb(const char *name, uint32_t mask, void *arg)
{
	struct walk *w = arg;

	if (w->n < 4096) {
		w->names[w->n] = name;
		w->masks[w->n++] = mask;
	}
}

static void test_registry(void)
{
	static struct walk w;
	uint32_t mask = 0;
	bool seen_echo = false;

	CU_ASSERT(plx_rpc_method_exists("ut_runtime_only", &mask));
	CU_ASSERT_EQUAL(mask, PLX_RPC_RUNTIME);
	CU_ASSERT(plx_rpc_method_exists("rpc_get_methods", NULL));
	CU_ASSERT(!plx_rpc_method_exists("nope", &mask));
	plx_rpc_foreach_method(walk_cb, &w);
	CU_ASSERT(w.n >= 9);
	for (int i = 1; i < w.n; i++) {
		CU_ASSERT(strcmp(w.names[i - 1], w.names[i]) < 0);
	}
	for (int i = 0; i < w.n; i++) {
		if (strcmp(w.names[i], "ut_echo") == 0) {
			seen_echo = true;
			CU_ASSERT_EQUAL(w.masks[i], PLX_RPC_STARTUP | PLX_RPC_RUNTIME);
		}
	}
	CU_ASSERT(seen_echo);
}

static void test_duplicate_registration_aborts(void)
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		/* Keep the child's expected complaint out of the test output. */
		if (freopen("/dev/null", "w", stderr) == NULL) {
			_exit(3);
		}
		plx_rpc_register_method("ut_echo", ut_count, PLX_RPC_RUNTIME);
		_exit(0);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

/* ---- local calls and rpc_get_methods ---- */

static json_t *g_local_resp;
static int g_local_calls;

static void local_cb(void *arg, const json_t *response)
{
	CU_ASSERT_PTR_EQUAL(arg, &g_local_resp);
	json_decref(g_local_resp);
	g_local_resp = json_deep_copy(response);
	g_local_calls++;
}

static json_t *call_local(const char *method, const char *params_text)
{
	json_t *params = params_text != NULL ? json_loads(params_text, 0, NULL) : NULL;

	json_decref(g_local_resp);
	g_local_resp = NULL;
	g_local_calls = 0;
	plx_rpc_call_local(method, params, local_cb, &g_local_resp);
	json_decref(params);
	return g_local_resp;
}

static bool array_has(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (strcmp(json_string_value(v), s) == 0) {
			return true;
		}
	}
	return false;
}

static void test_local_call(void)
{
	json_t *r, *params;

	r = call_local("ut_echo", "{\"a\":[1,\"b\"]}");
	CU_ASSERT_EQUAL(g_local_calls, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
	CU_ASSERT(json_is_integer(json_object_get(r, "id")));
	CU_ASSERT_EQUAL(json_integer_value(
			    json_array_get(json_object_get(json_object_get(r, "result"), "a"), 0)),
			1);

	r = call_local("nope", NULL);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
			PLX_JSONRPC_ERROR_METHOD_NOT_FOUND);
	r = call_local("ut_runtime_only", NULL);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
			PLX_JSONRPC_ERROR_METHOD_NOT_FOUND);
	r = call_local(NULL, NULL);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
			PLX_JSONRPC_ERROR_INVALID_REQUEST);
	r = call_local("ut_create", "{\"name\":1}");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
			PLX_JSONRPC_ERROR_INVALID_PARAMS);

	/* Params are borrowed: the caller's object is untouched and still owned by it. */
	params = json_pack("{s:s}", "name", "x");
	plx_rpc_call_local("ut_create", params, local_cb, &g_local_resp);
	CU_ASSERT_EQUAL(params->refcount, 1);
	json_decref(params);

	/* Asynchronous: the callback runs when the handler answers. */
	g_num_async = 0;
	g_local_calls = 0;
	plx_rpc_call_local("ut_async", NULL, local_cb, &g_local_resp);
	CU_ASSERT_EQUAL(g_local_calls, 0);
	CU_ASSERT_EQUAL_FATAL(g_num_async, 1);
	plx_jsonrpc_send_bool(g_async[0], false);
	g_num_async = 0;
	CU_ASSERT_EQUAL(g_local_calls, 1);
	CU_ASSERT(json_is_false(json_object_get(g_local_resp, "result")));
	json_decref(g_local_resp);
	g_local_resp = NULL;
}

static void test_rpc_get_methods(void)
{
	json_t *r, *names;

	r = call_local("rpc_get_methods", NULL);
	names = json_object_get(r, "result");
	CU_ASSERT_FATAL(json_is_array(names));
	CU_ASSERT(array_has(names, "rpc_get_methods"));
	CU_ASSERT(array_has(names, "ut_runtime_only"));
	CU_ASSERT(array_has(names, "ut_startup_only"));

	r = call_local("rpc_get_methods", "{\"current\":true}");
	names = json_object_get(r, "result");
	CU_ASSERT(array_has(names, "ut_startup_only"));
	CU_ASSERT(!array_has(names, "ut_runtime_only"));

	plx_rpc_set_state(PLX_RPC_RUNTIME);
	r = call_local("rpc_get_methods", "{\"current\":true,\"include_aliases\":true}");
	names = json_object_get(r, "result");
	CU_ASSERT(array_has(names, "rpc_get_methods"));
	CU_ASSERT(!array_has(names, "ut_startup_only"));
	CU_ASSERT(array_has(names, "ut_runtime_only"));
	plx_rpc_set_state(PLX_RPC_STARTUP);

	r = call_local("rpc_get_methods", "{\"curent\":true}");
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(json_object_get(r, "error"), "message")),
	    "unknown parameter 'curent'");
	json_decref(g_local_resp);
	g_local_resp = NULL;
}

static const struct plx_ut_case cases[] = {
    {"one_request_exact_text", test_one_request_exact_text},
    {"two_requests_one_buffer", test_two_requests_one_buffer},
    {"byte_by_byte", test_byte_by_byte},
    {"whitespace_between", test_whitespace_between},
    {"parse_error", test_parse_error},
    {"parse_error_not_structured", test_parse_error_not_structured},
    {"parse_error_bad_json_inside", test_parse_error_bad_json_inside},
    {"oversized_request", test_oversized_request},
    {"large_request_in_pieces", test_large_request_in_pieces},
    {"invalid_requests", test_invalid_requests},
    {"invalid_messages_say_invalid_request", test_invalid_messages_say_invalid_request},
    {"batch_refused", test_batch_refused},
    {"unknown_method", test_unknown_method},
    {"state_checks", test_state_checks},
    {"notifications", test_notifications},
    {"async_answer", test_async_answer},
    {"async_answer_after_destroy", test_async_answer_after_destroy},
    {"id_echo", test_id_echo},
    {"answer_twice", test_answer_twice},
    {"decode_params_answer", test_decode_params_answer},
    {"check_no_params", test_check_no_params},
    {"registry", test_registry},
    {"duplicate_registration_aborts", test_duplicate_registration_aborts},
    {"local_call", test_local_call},
    {"rpc_get_methods", test_rpc_get_methods},
};

PLX_UT_MAIN("rpc_stream", cases)
