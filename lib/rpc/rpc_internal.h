/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/rpc (and its unit tests): the request object, the stream's reference
 * counting, and test hooks.
 */
#ifndef POLLUX_RPC_INTERNAL_H
#define POLLUX_RPC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "pollux/rpc.h"

/* Flags for every serialisation of a response. */
#define PLX_RPC_DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY)

/*
 * A request lives until it is answered and its handler has returned (two references while
 * the handler runs, so a second answer from inside the handler is caught, not a use after
 * free). Its answer goes to exactly one place: a stream, or a local callback.
 */
struct plx_jsonrpc_request {
	json_t *msg;	    /* the parsed request; owns params and id */
	const json_t *id;   /* borrowed from msg; NULL answers with id null */
	const char *method; /* borrowed from msg; "" when the request had none */
	bool notification;  /* answer is discarded */
	bool answered;
	uint32_t refs;
	struct plx_rpc_stream *stream; /* holds a stream reference; NULL for local calls */
	plx_rpc_local_cb local_cb;
	void *local_arg;
};

/*
 * Validate msg (reference stolen) as a JSON-RPC 2.0 request and run its method, or answer its
 * error. The answer goes to stream when it is not NULL, else to local_cb.
 */
void plx_rpc_process_msg(json_t *msg, struct plx_rpc_stream *stream, plx_rpc_local_cb local_cb,
			 void *local_arg);

/* Answer an error without a request object (framing errors); id is null. */
void plx_rpc_stream_send_error(struct plx_rpc_stream *stream, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Serialise response and hand it to the stream's output, unless the stream was destroyed. */
void plx_rpc_stream_deliver(struct plx_rpc_stream *stream, const json_t *response);

/* A request of stream takes (hold) and gives back (release) a reference to it. */
void plx_rpc_stream_hold(struct plx_rpc_stream *stream);
void plx_rpc_stream_release(struct plx_rpc_stream *stream);

/* Requests of this stream not answered yet. */
uint32_t plx_rpc_stream_pending(const struct plx_rpc_stream *stream);

/* Registered handler of method, or NULL; *state_mask is set when found. */
plx_rpc_method_handler plx_rpc_find_method(const char *method, uint32_t *state_mask);

/* Test hook: the size limit of one request (default PLX_RPC_MAX_REQUEST_SIZE). */
void plx_rpc_set_max_request_size(size_t size);
size_t plx_rpc_get_max_request_size(void);

#endif
