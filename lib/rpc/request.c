/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One JSON-RPC 2.0 request: validation, state checks, dispatch to its handler, and the
 * answer (to a stream or to a local callback).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/log.h"
#include "pollux/rpc.h"
#include "rpc_internal.h"

PLX_LOG_REGISTER_COMPONENT(rpc)

static void request_put(struct plx_jsonrpc_request *req)
{
	if (--req->refs > 0) {
		return;
	}
	if (req->stream != NULL) {
		plx_rpc_stream_release(req->stream);
	}
	json_decref(req->msg);
	free(req);
}

/* Deliver response (reference stolen) and release the answering reference of req. */
static void request_finish(struct plx_jsonrpc_request *req, json_t *response)
{
	if (response == NULL) {
		PLX_ERRLOG("out of memory answering %s", req->method);
	} else if (req->stream != NULL) {
		plx_rpc_stream_deliver(req->stream, response);
	} else if (req->local_cb != NULL) {
		req->local_cb(req->local_arg, response);
	}
	json_decref(response);
	request_put(req);
}

/* Whether the answer may proceed; a second answer is a caller bug, logged and ignored. */
static bool request_begin_answer(struct plx_jsonrpc_request *req)
{
	if (req->answered) {
		PLX_ERRLOG("request %s answered twice; the second answer is dropped", req->method);
		return false;
	}
	req->answered = true;
	return true;
}

static json_t *response_new(const struct plx_jsonrpc_request *req)
{
	json_t *id = req->id != NULL ? json_incref((json_t *)req->id) : json_null();

	return json_pack("{s:s, s:o}", "jsonrpc", "2.0", "id", id);
}

void plx_jsonrpc_send_result(struct plx_jsonrpc_request *req, json_t *result)
{
	json_t *response;

	if (!request_begin_answer(req)) {
		json_decref(result);
		return;
	}
	if (req->notification) {
		json_decref(result);
		request_put(req);
		return;
	}
	response = response_new(req);
	if (response != NULL &&
	    json_object_set_new(response, "result", result != NULL ? result : json_null()) != 0) {
		json_decref(response);
		response = NULL;
	} else if (response == NULL) {
		json_decref(result);
	}
	request_finish(req, response);
}

void plx_jsonrpc_send_bool(struct plx_jsonrpc_request *req, bool value)
{
	plx_jsonrpc_send_result(req, json_boolean(value));
}

void plx_jsonrpc_done_bool(void *cb_arg, int rc)
{
	struct plx_jsonrpc_request *req = cb_arg;

	if (rc == 0) {
		plx_jsonrpc_send_bool(req, true);
	} else {
		plx_jsonrpc_send_error(req, rc, "%s", strerror(-rc));
	}
}

static void send_error_v(struct plx_jsonrpc_request *req, int code, const char *fmt, va_list ap)
{
	json_t *response = NULL, *error;
	char *msg = NULL;

	if (!request_begin_answer(req)) {
		return;
	}
	if (req->notification) {
		request_put(req);
		return;
	}
	if (vasprintf(&msg, fmt, ap) >= 0) {
		error = json_pack("{s:i, s:s}", "code", code, "message", msg);
		response = response_new(req);
		if (response != NULL && json_object_set_new(response, "error", error) != 0) {
			json_decref(response);
			response = NULL;
		}
		free(msg);
	}
	request_finish(req, response);
}

void plx_jsonrpc_send_error(struct plx_jsonrpc_request *req, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_error_v(req, code, fmt, ap);
	va_end(ap);
}

const char *plx_jsonrpc_request_method(const struct plx_jsonrpc_request *req)
{
	return req->method;
}

/* ---- validation ---- */

static bool id_is_valid(const json_t *id)
{
	return json_is_string(id) || json_is_number(id) || json_is_null(id);
}

/* 0 when msg is a well-formed request; otherwise -EINVAL and why not in reason. */
static int request_check(const json_t *msg, char *reason, size_t len)
{
	const json_t *v;
	const char *key;
	json_t *val;

	v = json_object_get(msg, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
		snprintf(reason, len, "'jsonrpc' must be \"2.0\"");
		return -EINVAL;
	}
	v = json_object_get(msg, "method");
	if (!json_is_string(v)) {
		snprintf(reason, len,
			 v == NULL ? "'method' is missing" : "'method' must be a string");
		return -EINVAL;
	}
	v = json_object_get(msg, "params");
	if (v != NULL && !json_is_object(v) && !json_is_array(v)) {
		snprintf(reason, len, "'params' must be an object or an array");
		return -EINVAL;
	}
	v = json_object_get(msg, "id");
	if (v != NULL && !id_is_valid(v)) {
		snprintf(reason, len, "'id' must be a string, a number or null");
		return -EINVAL;
	}
	json_object_foreach((json_t *)msg, key, val)
	{
		if (strcmp(key, "jsonrpc") != 0 && strcmp(key, "method") != 0 &&
		    strcmp(key, "params") != 0 && strcmp(key, "id") != 0) {
			snprintf(reason, len, "unexpected member '%.64s'", key);
			return -EINVAL;
		}
	}
	return 0;
}

static const char *state_name(uint32_t mask)
{
	if (mask & PLX_RPC_RUNTIME) {
		return "after the framework has started (framework_start_init)";
	}
	return "during startup, before framework_start_init";
}

static struct plx_jsonrpc_request *request_new(json_t *msg, struct plx_rpc_stream *stream,
					       plx_rpc_local_cb local_cb, void *local_arg)
{
	struct plx_jsonrpc_request *req = calloc(1, sizeof(*req));
	const json_t *id;

	if (req == NULL) {
		return NULL;
	}
	req->msg = msg;
	req->refs = 1;
	req->method = "";
	req->local_cb = local_cb;
	req->local_arg = local_arg;
	req->stream = stream;
	if (stream != NULL) {
		plx_rpc_stream_hold(stream);
	}
	if (json_is_object(msg)) {
		id = json_object_get(msg, "id");
		req->id = id_is_valid(id) ? id : NULL;
		if (json_is_string(json_object_get(msg, "method"))) {
			req->method = json_string_value(json_object_get(msg, "method"));
		}
	}
	return req;
}

void plx_rpc_process_msg(json_t *msg, struct plx_rpc_stream *stream, plx_rpc_local_cb local_cb,
			 void *local_arg)
{
	struct plx_jsonrpc_request *req;
	plx_rpc_method_handler handler;
	char reason[128];
	uint32_t mask = 0;

	req = request_new(msg, stream, local_cb, local_arg);
	if (req == NULL) {
		PLX_ERRLOG("out of memory for an RPC request");
		json_decref(msg);
		return;
	}
	if (json_is_array(msg)) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_REQUEST,
				       "batch requests are not supported");
		return;
	}
	if (request_check(msg, reason, sizeof(reason)) != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_REQUEST,
				       "Invalid request: %s", reason);
		return;
	}
	/* Valid from here on; a request without "id" is a notification. */
	req->notification = json_object_get(msg, "id") == NULL;
	PLX_DEBUGLOG(rpc, "request %s%s", req->method, req->notification ? " (notification)" : "");
	handler = plx_rpc_find_method(req->method, &mask);
	if (handler == NULL) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_METHOD_NOT_FOUND,
				       "Method not found: %s", req->method);
		return;
	}
	if ((mask & plx_rpc_get_state()) == 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_METHOD_NOT_FOUND,
				       "Method %s may only be called %s", req->method,
				       state_name(mask));
		return;
	}
	/* Hold a reference across the handler so a second answer from inside it is caught. */
	req->refs++;
	handler(req, json_object_get(msg, "params"));
	request_put(req);
}
