/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The method registry (a sorted array: methods register from constructors before main, and
 * lookups use binary search), the RPC state, and the rpc_get_methods method.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/rpc.h"
#include "rpc_internal.h"

struct rpc_method {
	const char *name;
	plx_rpc_method_handler func;
	uint32_t state_mask;
};

static struct rpc_method *g_methods;
static size_t g_num_methods;
static size_t g_cap_methods;
static uint32_t g_state = PLX_RPC_STARTUP;

/* Index of name, or where it would go (with *found false). */
static size_t method_slot(const char *name, bool *found)
{
	size_t lo = 0, hi = g_num_methods;
	int c;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		c = strcmp(g_methods[mid].name, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	*found = false;
	return lo;
}

void plx_rpc_register_method(const char *method, plx_rpc_method_handler func, uint32_t state_mask)
{
	struct rpc_method *m;
	size_t slot;
	bool found;

	/* Runs from constructors, possibly before the log library is set up: plain stderr. */
	slot = method_slot(method, &found);
	if (found) {
		fprintf(stderr, "pollux rpc: method '%s' registered twice\n", method);
		abort();
	}
	if (g_num_methods == g_cap_methods) {
		size_t cap = g_cap_methods == 0 ? 64 : g_cap_methods * 2;

		m = realloc(g_methods, cap * sizeof(*m));
		if (m == NULL) {
			fprintf(stderr, "pollux rpc: out of memory registering '%s'\n", method);
			abort();
		}
		g_methods = m;
		g_cap_methods = cap;
	}
	memmove(&g_methods[slot + 1], &g_methods[slot],
		(g_num_methods - slot) * sizeof(g_methods[0]));
	g_methods[slot] = (struct rpc_method){method, func, state_mask};
	g_num_methods++;
}

plx_rpc_method_handler plx_rpc_find_method(const char *method, uint32_t *state_mask)
{
	bool found;
	size_t slot = method_slot(method, &found);

	if (!found) {
		return NULL;
	}
	if (state_mask != NULL) {
		*state_mask = g_methods[slot].state_mask;
	}
	return g_methods[slot].func;
}

bool plx_rpc_method_exists(const char *method, uint32_t *state_mask)
{
	return plx_rpc_find_method(method, state_mask) != NULL;
}

void plx_rpc_foreach_method(void (*cb)(const char *name, uint32_t state_mask, void *arg), void *arg)
{
	for (size_t i = 0; i < g_num_methods; i++) {
		cb(g_methods[i].name, g_methods[i].state_mask, arg);
	}
}

void plx_rpc_set_state(uint32_t state)
{
	g_state = state;
}

uint32_t plx_rpc_get_state(void)
{
	return g_state;
}

/* ---- rpc_get_methods ---- */

struct get_methods_params {
	bool current;
	bool include_aliases; /* accepted for compatibility; Pollux has no aliases */
};

static const struct plx_json_field g_get_methods_fields[] = {
    {"current", offsetof(struct get_methods_params, current), PLX_JSON_BOOL, false, NULL},
    {"include_aliases", offsetof(struct get_methods_params, include_aliases), PLX_JSON_BOOL, false,
     NULL},
};

static void rpc_get_methods(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct get_methods_params p = {0};
	json_t *names;

	if (!plx_rpc_decode_params(req, params, g_get_methods_fields,
				   sizeof(g_get_methods_fields) / sizeof(g_get_methods_fields[0]),
				   &p)) {
		return;
	}
	names = json_array();
	for (size_t i = 0; names != NULL && i < g_num_methods; i++) {
		if (p.current && (g_methods[i].state_mask & g_state) == 0) {
			continue;
		}
		if (json_array_append_new(names, json_string(g_methods[i].name)) != 0) {
			json_decref(names);
			names = NULL;
		}
	}
	if (names == NULL) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INTERNAL_ERROR, "out of memory");
		return;
	}
	plx_jsonrpc_send_result(req, names);
}
PLX_RPC_REGISTER("rpc_get_methods", rpc_get_methods, PLX_RPC_STARTUP | PLX_RPC_RUNTIME)
