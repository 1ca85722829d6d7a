/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pollux rpc: a JSON-RPC 2.0 server on a UNIX socket, method registration, declarative
 * parameter decoding, and in-process calls (used to apply --json config files).
 *
 * The server runs on one plx_thread (the app thread) as a poller whose interrupt fd is an
 * epoll set of the listening and client sockets, so an idle target sleeps. Handlers run on
 * that thread and may answer later (asynchronously) from it. JSON is handled by jansson.
 *
 * Errors as SPDK sends them: -32700 parse error, -32600 invalid request, -32601 method not
 * found (or not allowed in the current state), -32602 invalid params with a message naming
 * the parameter, and operation failures as the negative errno with a readable message.
 */
#ifndef POLLUX_RPC_H
#define POLLUX_RPC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PLX_DEFAULT_RPC_ADDR "/var/tmp/pollux.sock"

/* A request larger than this is refused (-32600) and its connection closed. */
#define PLX_RPC_MAX_REQUEST_SIZE (32u * 1024 * 1024)

#define PLX_JSONRPC_ERROR_PARSE_ERROR	   -32700
#define PLX_JSONRPC_ERROR_INVALID_REQUEST  -32600
#define PLX_JSONRPC_ERROR_METHOD_NOT_FOUND -32601
#define PLX_JSONRPC_ERROR_INVALID_PARAMS   -32602
#define PLX_JSONRPC_ERROR_INTERNAL_ERROR   -32603

/* States in which a method may be called (bit mask). */
#define PLX_RPC_STARTUP 0x1
#define PLX_RPC_RUNTIME 0x2

struct plx_jsonrpc_request;

/*
 * A method handler. params is the request's "params" (NULL when absent); it stays valid until
 * the request is answered. The handler must answer exactly once, now or later, on the RPC
 * thread, with one of the plx_jsonrpc_send_* functions (also for notifications: the answer
 * is then discarded).
 */
typedef void (*plx_rpc_method_handler)(struct plx_jsonrpc_request *req, const json_t *params);

/* Register a method (normally through PLX_RPC_REGISTER). Registering a name twice aborts. */
void plx_rpc_register_method(const char *method, plx_rpc_method_handler func, uint32_t state_mask);

#define PLX_RPC_REGISTER(method, func, state_mask)                                                 \
	__attribute__((constructor)) static void plx_rpc_register_##func(void)                     \
	{                                                                                          \
		plx_rpc_register_method(method, func, state_mask);                                 \
	}

/* Current state: PLX_RPC_STARTUP until framework_start_init completes, then RUNTIME. */
void plx_rpc_set_state(uint32_t state);
uint32_t plx_rpc_get_state(void);

/* Whether method is registered; and, when it is, its state mask in *state_mask (may be NULL). */
bool plx_rpc_method_exists(const char *method, uint32_t *state_mask);

/* Call cb for each registered method in name order. */
void plx_rpc_foreach_method(void (*cb)(const char *name, uint32_t state_mask, void *arg),
			    void *arg);

/*
 * Listen on the UNIX socket path and serve on the current plx_thread. Fails with -EADDRINUSE
 * (logged, naming the path) when another live process serves that path; a stale socket file
 * is replaced. A lock file path.lock is held while serving.
 */
int plx_rpc_listen(const char *path);

/* Stop serving: close every connection, remove the socket and lock files. Idempotent. */
void plx_rpc_close(void);

/* Connections open now (tests and stats). */
uint32_t plx_rpc_connection_count(void);

/* ---- answering ---- */

/* Answer with result (reference stolen; NULL means JSON null). */
void plx_jsonrpc_send_result(struct plx_jsonrpc_request *req, json_t *result);

/* Answer true or false. */
void plx_jsonrpc_send_bool(struct plx_jsonrpc_request *req, bool value);

/*
 * A completion callback (cb_arg: the request) for asynchronous methods that answer true:
 * true when rc is 0, else the error rc with its errno text.
 */
void plx_jsonrpc_done_bool(void *cb_arg, int rc);

/* Answer with an error object {code, message}. */
void plx_jsonrpc_send_error(struct plx_jsonrpc_request *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The method name of req. */
const char *plx_jsonrpc_request_method(const struct plx_jsonrpc_request *req);

/* ---- in-process calls ---- */

/*
 * Called with the complete response object ({"jsonrpc","id","result"} or {...,"error"});
 * borrowed, valid during the call.
 */
typedef void (*plx_rpc_local_cb)(void *cb_arg, const json_t *response);

/*
 * Run method with params (borrowed; NULL for none) exactly as a socket request would,
 * including state checks; cb runs when the handler answers (possibly before this returns).
 */
void plx_rpc_call_local(const char *method, const json_t *params, plx_rpc_local_cb cb,
			void *cb_arg);

/* ---- processing bytes (the server, and the fuzz harness) ---- */

struct plx_rpc_stream;

/* Called for each complete response with its serialised text. */
typedef void (*plx_rpc_stream_out_fn)(void *arg, const char *buf, size_t len);

/* A byte-stream session: what a connection is, without a socket. NULL when out of memory. */
struct plx_rpc_stream *plx_rpc_stream_create(plx_rpc_stream_out_fn out, void *out_arg);

/*
 * Feed bytes. Complete requests are dispatched; answers go to out (possibly later, for
 * asynchronous handlers). Returns 0, or -EPROTO after a parse error or an oversized request
 * (the error answer has been sent; the caller should close the stream).
 */
int plx_rpc_stream_feed(struct plx_rpc_stream *stream, const void *buf, size_t len);

/* Destroy a stream; answers still pending are dropped when their handlers finish. */
void plx_rpc_stream_destroy(struct plx_rpc_stream *stream);

/* ---- declarative parameter decoding ---- */

enum plx_json_type {
	PLX_JSON_STRING, /* char *, strdup'ed; free with plx_json_decode_free */
	PLX_JSON_BOOL,	 /* bool */
	PLX_JSON_INT32,	 /* int32_t */
	PLX_JSON_UINT8,	 /* uint8_t */
	PLX_JSON_UINT16, /* uint16_t */
	PLX_JSON_UINT32, /* uint32_t */
	PLX_JSON_INT64,	 /* int64_t */
	PLX_JSON_UINT64, /* uint64_t */
	PLX_JSON_DOUBLE, /* double (integers accepted) */
	PLX_JSON_OBJECT, /* json_t *, a new reference to an object; plx_json_decode_free drops it */
	PLX_JSON_ARRAY,	 /* json_t *, a new reference to an array; plx_json_decode_free drops it */
	PLX_JSON_ANY,	 /* json_t *, a new reference to any value */
	PLX_JSON_ENUM,	 /* int: index of the string in enum_names */
};

struct plx_json_field {
	const char *name;
	size_t offset; /* of the destination within the output struct */
	enum plx_json_type type;
	bool required;
	/* PLX_JSON_ENUM only: the accepted strings, NULL-terminated. */
	const char *const *enum_names;
};

/*
 * Decode object params into out by the table fields (n entries). Destinations of absent
 * optional fields keep their values (so the caller presets defaults). Errors (return
 * -EINVAL, message in err): params not an object, a missing required field, an unknown field,
 * a wrong type or a number out of range, each message naming the field, for example
 * "block_size: expected an unsigned 32-bit integer, got string" or "unknown parameter 'foo'".
 * params NULL is treated as an empty object. On error nothing needs freeing.
 */
int plx_json_decode_object(const json_t *params, const struct plx_json_field *fields, size_t n,
			   void *out, char *err, size_t err_len);

/* Free what decoding allocated in out (strings, json references) and zero those fields. */
void plx_json_decode_free(const struct plx_json_field *fields, size_t n, void *out);

/*
 * Decode for a handler: on failure answers req with -32602 and the decoder's message and
 * returns false.
 */
bool plx_rpc_decode_params(struct plx_jsonrpc_request *req, const json_t *params,
			   const struct plx_json_field *fields, size_t n, void *out);

/* Answer -32602 "this method takes no parameters" and return false when params has any. */
bool plx_rpc_check_no_params(struct plx_jsonrpc_request *req, const json_t *params);

#ifdef __cplusplus
}
#endif
#endif
