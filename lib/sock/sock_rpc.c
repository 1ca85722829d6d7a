/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of the socket layer, with SPDK's names, parameters and states:
 * sock_impl_get_options, sock_impl_set_options, sock_set_default_impl, sock_get_default_impl.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "pollux/rpc.h"
#include "sock_internal.h"

struct impl_params {
	char *impl_name;
	struct plx_sock_impl_opts opts;
};

#define OPT(name, type)                                                                            \
	{                                                                                          \
#name, offsetof(struct impl_params, opts.name), type, false, NULL                  \
	}

static const struct plx_json_field g_impl_name_field[] = {
    {"impl_name", offsetof(struct impl_params, impl_name), PLX_JSON_STRING, true, NULL},
};

static const struct plx_json_field g_set_fields[] = {
    {"impl_name", offsetof(struct impl_params, impl_name), PLX_JSON_STRING, true, NULL},
    OPT(recv_buf_size, PLX_JSON_UINT32),
    OPT(send_buf_size, PLX_JSON_UINT32),
    OPT(enable_recv_pipe, PLX_JSON_BOOL),
    OPT(enable_quickack, PLX_JSON_BOOL),
    OPT(enable_placement_id, PLX_JSON_UINT32),
    OPT(enable_zerocopy_send_server, PLX_JSON_BOOL),
    OPT(enable_zerocopy_send_client, PLX_JSON_BOOL),
    OPT(zerocopy_threshold, PLX_JSON_UINT32),
    OPT(tls_version, PLX_JSON_UINT32),
    OPT(enable_ktls, PLX_JSON_BOOL),
};

static void unknown_impl(struct plx_jsonrpc_request *req, const char *name)
{
	plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
			       "impl_name: unknown socket implementation '%s'", name);
}

static void rpc_sock_impl_get_options(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct impl_params p = {0};
	json_t *result;

	if (!plx_rpc_decode_params(req, params, g_impl_name_field, PLX_COUNTOF(g_impl_name_field),
				   &p)) {
		return;
	}
	if (plx_sock_impl_get_opts(p.impl_name, &p.opts) != 0) {
		unknown_impl(req, p.impl_name);
	} else {
		/* The same object sock_impl_set_options takes, impl_name included. */
		result = sock_impl_opts_json(p.impl_name, &p.opts);
		plx_jsonrpc_send_result(req, result);
	}
	plx_json_decode_free(g_impl_name_field, PLX_COUNTOF(g_impl_name_field), &p);
}
PLX_RPC_REGISTER("sock_impl_get_options", rpc_sock_impl_get_options,
		 PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

static void rpc_sock_impl_set_options(struct plx_jsonrpc_request *req, const json_t *params)
{
	const json_t *name = json_is_object(params) ? json_object_get(params, "impl_name") : NULL;
	struct impl_params p = {0};
	bool known;

	/* Absent options keep their values: start from the implementation's current ones. */
	known =
	    json_is_string(name) && plx_sock_impl_get_opts(json_string_value(name), &p.opts) == 0;
	if (!plx_rpc_decode_params(req, params, g_set_fields, PLX_COUNTOF(g_set_fields), &p)) {
		return;
	}
	if (!known || plx_sock_impl_set_opts(p.impl_name, &p.opts) != 0) {
		unknown_impl(req, p.impl_name);
	} else {
		plx_jsonrpc_send_bool(req, true);
	}
	plx_json_decode_free(g_set_fields, PLX_COUNTOF(g_set_fields), &p);
}
PLX_RPC_REGISTER("sock_impl_set_options", rpc_sock_impl_set_options, PLX_RPC_STARTUP)

static void rpc_sock_set_default_impl(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct impl_params p = {0};

	if (!plx_rpc_decode_params(req, params, g_impl_name_field, PLX_COUNTOF(g_impl_name_field),
				   &p)) {
		return;
	}
	if (plx_sock_set_default_impl(p.impl_name) != 0) {
		unknown_impl(req, p.impl_name);
	} else {
		plx_jsonrpc_send_bool(req, true);
	}
	plx_json_decode_free(g_impl_name_field, PLX_COUNTOF(g_impl_name_field), &p);
}
PLX_RPC_REGISTER("sock_set_default_impl", rpc_sock_set_default_impl, PLX_RPC_STARTUP)

static void rpc_sock_get_default_impl(struct plx_jsonrpc_request *req, const json_t *params)
{
	if (!plx_rpc_check_no_params(req, params)) {
		return;
	}
	plx_jsonrpc_send_result(req, json_pack("{s:s}", "impl_name", plx_sock_get_default_impl()));
}
PLX_RPC_REGISTER("sock_get_default_impl", rpc_sock_get_default_impl,
		 PLX_RPC_STARTUP | PLX_RPC_RUNTIME)
