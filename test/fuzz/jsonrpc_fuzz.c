/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the JSON-RPC request path: framing, parsing, validation, dispatch,
 * parameter decoding and answering (also after the stream is gone).
 *
 * Each input is fed to a fresh stream whole, then to another stream in two pieces split at a
 * point taken from the input (with a small request size limit and the other RPC state), and
 * finally, when it parses as an object, given as params to a local call.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pollux/log.h"
#include "pollux/rpc.h"
#include "rpc_internal.h"

struct fuzz_params {
	char *name;
	bool flag;
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
	int mode;
};

static const char *const g_modes[] = {"read", "write", "flush", NULL};

#define FIELD(n, m, t, r)                                                                          \
	{                                                                                          \
		n, offsetof(struct fuzz_params, m), t, r, NULL                                     \
	}

static const struct plx_json_field g_types_fields[] = {
    FIELD("name", name, PLX_JSON_STRING, false),
    FIELD("flag", flag, PLX_JSON_BOOL, false),
    FIELD("i32", i32, PLX_JSON_INT32, false),
    FIELD("u8", u8, PLX_JSON_UINT8, false),
    FIELD("u16", u16, PLX_JSON_UINT16, false),
    FIELD("u32", u32, PLX_JSON_UINT32, false),
    FIELD("i64", i64, PLX_JSON_INT64, false),
    FIELD("u64", u64, PLX_JSON_UINT64, false),
    FIELD("d", d, PLX_JSON_DOUBLE, false),
    FIELD("obj", obj, PLX_JSON_OBJECT, false),
    FIELD("arr", arr, PLX_JSON_ARRAY, false),
    FIELD("any", any, PLX_JSON_ANY, false),
    {"mode", offsetof(struct fuzz_params, mode), PLX_JSON_ENUM, false, g_modes},
};

static const struct plx_json_field g_required_fields[] = {
    FIELD("name", name, PLX_JSON_STRING, true),
    FIELD("u32", u32, PLX_JSON_UINT32, true),
    {"mode", offsetof(struct fuzz_params, mode), PLX_JSON_ENUM, true, g_modes},
};

#define NTYPES	  (sizeof(g_types_fields) / sizeof(g_types_fields[0]))
#define NREQUIRED (sizeof(g_required_fields) / sizeof(g_required_fields[0]))

static void fuzz_types(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct fuzz_params p = {0};

	if (!plx_rpc_decode_params(req, params, g_types_fields, NTYPES, &p)) {
		return;
	}
	plx_jsonrpc_send_result(req, json_pack("{s:s?, s:b, s:I, s:f, s:O?}", "name", p.name,
					       "flag", p.flag, "u64", (json_int_t)p.u64, "d", p.d,
					       "any", p.any));
	plx_json_decode_free(g_types_fields, NTYPES, &p);
}
PLX_RPC_REGISTER("fuzz_types", fuzz_types, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void fuzz_required(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct fuzz_params p = {0};

	if (!plx_rpc_decode_params(req, params, g_required_fields, NREQUIRED, &p)) {
		return;
	}
	plx_jsonrpc_send_error(req, -(int)(p.u32 % 4096), "%s: %s", p.name, g_modes[p.mode]);
	plx_json_decode_free(g_required_fields, NREQUIRED, &p);
}
PLX_RPC_REGISTER("fuzz_required", fuzz_required, PLX_RPC_RUNTIME)

static void fuzz_no_params(struct plx_jsonrpc_request *req, const json_t *params)
{
	if (plx_rpc_check_no_params(req, params)) {
		plx_jsonrpc_send_bool(req, true);
	}
}
PLX_RPC_REGISTER("fuzz_no_params", fuzz_no_params, PLX_RPC_STARTUP)

/* Answered after the stream is destroyed, to exercise orphaned requests. */
#define MAX_ASYNC 16
static struct plx_jsonrpc_request *g_async[MAX_ASYNC];
static int g_num_async;

static void fuzz_async(struct plx_jsonrpc_request *req, const json_t *params)
{
	if (g_num_async == MAX_ASYNC) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INTERNAL_ERROR, "busy");
		return;
	}
	g_async[g_num_async++] = req;
}
PLX_RPC_REGISTER("fuzz_async", fuzz_async, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static size_t g_out_bytes;

static void discard(void *arg, const char *buf, size_t len)
{
	/* Every answer is one line: make sure of it. */
	if (len == 0 || buf[len - 1] != '\n' || memchr(buf, '\n', len) != buf + len - 1) {
		__builtin_trap();
	}
	g_out_bytes += len;
}

static void answer_async(void)
{
	for (int i = 0; i < g_num_async; i++) {
		if (i % 2 == 0) {
			plx_jsonrpc_send_result(g_async[i], json_string("late"));
		} else {
			plx_jsonrpc_send_error(g_async[i], -5, "late %d", i);
		}
	}
	g_num_async = 0;
}

static void local_cb(void *arg, const json_t *response)
{
	if (!json_is_object(response)) {
		__builtin_trap();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	plx_log_set_print_level(PLX_LOG_DISABLED);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plx_rpc_stream *s;
	size_t split;
	json_t *params;

	s = plx_rpc_stream_create(discard, NULL);
	plx_rpc_stream_feed(s, data, size);
	/* Half the pending answers before the stream goes, half after. */
	if (g_num_async > 0) {
		plx_jsonrpc_send_bool(g_async[--g_num_async], true);
	}
	plx_rpc_stream_destroy(s);
	answer_async();

	split = size > 0 ? data[0] % (size + 1) : 0;
	plx_rpc_set_max_request_size(512);
	plx_rpc_set_state(PLX_RPC_RUNTIME);
	s = plx_rpc_stream_create(discard, NULL);
	if (plx_rpc_stream_feed(s, data, split) == 0) {
		plx_rpc_stream_feed(s, data + split, size - split);
	}
	plx_rpc_stream_destroy(s);
	answer_async();
	plx_rpc_set_max_request_size(0);
	plx_rpc_set_state(PLX_RPC_STARTUP);

	params = json_loadb((const char *)data, size, 0, NULL);
	if (json_is_object(params)) {
		plx_rpc_call_local("fuzz_types", params, local_cb, NULL);
		plx_rpc_call_local("fuzz_no_params", params, local_cb, NULL);
		answer_async();
	}
	json_decref(params);
	return 0;
}
