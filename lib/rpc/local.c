/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * In-process calls: the request object a client would send, run through the same path as a
 * socket request, with the complete response handed to a callback.
 */
#include <stdint.h>

#include "pollux/log.h"
#include "pollux/rpc.h"
#include "rpc_internal.h"

/* Ids of local calls; only the response carries them back, so any unique value does. */
static uint64_t g_local_id;

static json_t *local_request_new(const char *method, const json_t *params)
{
	json_t *msg = json_pack("{s:s, s:I}", "jsonrpc", "2.0", "id", (json_int_t)++g_local_id);

	if (msg == NULL) {
		return NULL;
	}
	/* A NULL method is left out, so the request is answered as invalid, not crashed on. */
	if (method != NULL && json_object_set_new(msg, "method", json_string(method)) != 0) {
		goto err;
	}
	/* jansson is not const-correct: sharing params only changes its reference count. */
	if (params != NULL && json_object_set(msg, "params", (json_t *)params) != 0) {
		goto err;
	}
	return msg;
err:
	json_decref(msg);
	return NULL;
}

void plx_rpc_call_local(const char *method, const json_t *params, plx_rpc_local_cb cb, void *cb_arg)
{
	json_t *msg = local_request_new(method, params);
	json_t *response;

	if (msg != NULL) {
		plx_rpc_process_msg(msg, NULL, cb, cb_arg);
		return;
	}
	PLX_ERRLOG("out of memory calling %s", method != NULL ? method : "(null)");
	/* Still answer, so the caller's continuation runs. */
	response = json_pack("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", "error", "code",
			     PLX_JSONRPC_ERROR_INTERNAL_ERROR, "message", "out of memory");
	if (response != NULL) {
		cb(cb_arg, response);
		json_decref(response);
	}
}
