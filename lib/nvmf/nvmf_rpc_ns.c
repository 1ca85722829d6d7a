/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-RPC methods of the target, part 2: namespaces, listeners, ANA and referrals.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_event.h"
#include "nvmf_rpc.h"
#include "nvmf_tgt_internal.h"
#include "pollux/rpc.h"

/* ---- listen addresses ---- */

struct addr_params {
	char *trtype;
	char *adrfam;
	char *traddr;
	char *trsvcid;
};

static const struct plx_json_field g_addr_fields[] = {
    {"trtype", offsetof(struct addr_params, trtype), PLX_JSON_STRING, true, NULL},
    {"adrfam", offsetof(struct addr_params, adrfam), PLX_JSON_STRING, false, NULL},
    {"traddr", offsetof(struct addr_params, traddr), PLX_JSON_STRING, true, NULL},
    {"trsvcid", offsetof(struct addr_params, trsvcid), PLX_JSON_STRING, false, NULL},
};

/* Decode the nested address object named field; false when answered with an error. */
static bool decode_trid(struct plx_jsonrpc_request *req, const char *field, const json_t *obj,
			struct plx_nvme_trid *trid)
{
	struct addr_params a = {0};
	char err[PLX_NVMF_ERR_LEN] = "";
	int rc;

	if (plx_json_decode_object(obj, g_addr_fields, PLX_COUNTOF(g_addr_fields), &a, err,
				   sizeof(err)) != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s.%s", field, err);
		return false;
	}
	rc = plx_nvme_trid_from_strings(trid, a.trtype, a.adrfam, a.traddr, a.trsvcid, err);
	plx_json_decode_free(g_addr_fields, PLX_COUNTOF(g_addr_fields), &a);
	if (rc != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s.%s", field, err);
		return false;
	}
	return true;
}

struct listener_params {
	char *nqn;
	char *tgt_name;
	json_t *listen_address;
	bool secure_channel;
	char *ana_state;
	char *sock_impl;
	int32_t numa_id;
	uint32_t anagrpid;
};

#define LP(n, t, r)                                                                                \
	{                                                                                          \
#n, offsetof(struct listener_params, n), t, r, NULL                                \
	}
static const struct plx_json_field g_add_listener_fields[] = {
    LP(nqn, PLX_JSON_STRING, true),
    LP(tgt_name, PLX_JSON_STRING, false),
    LP(listen_address, PLX_JSON_OBJECT, true),
    LP(secure_channel, PLX_JSON_BOOL, false),
    LP(ana_state, PLX_JSON_STRING, false),
    LP(sock_impl, PLX_JSON_STRING, false),
    LP(numa_id, PLX_JSON_INT32, false),
};
static const struct plx_json_field g_remove_listener_fields[] = {
    LP(nqn, PLX_JSON_STRING, true),
    LP(tgt_name, PLX_JSON_STRING, false),
    LP(listen_address, PLX_JSON_OBJECT, true),
};
static const struct plx_json_field g_ana_fields[] = {
    LP(nqn, PLX_JSON_STRING, true),
    LP(tgt_name, PLX_JSON_STRING, false),
    LP(listen_address, PLX_JSON_OBJECT, true),
    LP(ana_state, PLX_JSON_STRING, true),
    LP(anagrpid, PLX_JSON_UINT32, false),
};
#undef LP

static bool decode_ana_state(struct plx_jsonrpc_request *req, const char *name,
			     enum plx_nvme_ana_state *state)
{
	if (plx_nvme_ana_state_from_str(name, state) != 0 ||
	    *state > PLX_NVME_ANA_INACCESSIBLE_STATE) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "ana_state: '%s' is not one of optimized, non_optimized, "
				       "inaccessible",
				       name);
		return false;
	}
	return true;
}

static void listener_method(struct plx_jsonrpc_request *req, const json_t *params,
			    const struct plx_json_field *fields, size_t n, int which)
{
	struct listener_params p = {.numa_id = -1};
	enum plx_nvme_ana_state state = PLX_NVME_ANA_OPTIMIZED_STATE;
	char err[PLX_NVMF_ERR_LEN] = "";
	struct plx_nvme_trid trid;
	struct nvmf_subsystem *s;
	int rc;

	if (!plx_rpc_decode_params(req, params, fields, n, &p)) {
		return;
	}
	if (!nvmf_rpc_check_tgt_name(req, p.tgt_name) ||
	    (s = nvmf_rpc_find_subsystem(req, p.nqn)) == NULL ||
	    !decode_trid(req, "listen_address", p.listen_address, &trid)) {
		goto out;
	}
	if (p.ana_state != NULL && !decode_ana_state(req, p.ana_state, &state)) {
		goto out;
	}
	if (which == 0 && p.secure_channel) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "secure_channel: TLS is not supported");
		goto out;
	}
	if (which == 0) {
		rc = nvmf_subsystem_add_listener(s, &trid, p.ana_state != NULL, state, err);
	} else if (which == 1) {
		rc = nvmf_subsystem_remove_listener(s, &trid, err);
	} else {
		rc = nvmf_subsystem_set_ana_state(s, &trid, state, p.anagrpid, err);
	}
	nvmf_rpc_send_rc(req, rc, err);
out:
	plx_json_decode_free(fields, n, &p);
}

static void rpc_nvmf_subsystem_add_listener(struct plx_jsonrpc_request *req, const json_t *params)
{
	listener_method(req, params, g_add_listener_fields, PLX_COUNTOF(g_add_listener_fields), 0);
}
PLX_RPC_REGISTER("nvmf_subsystem_add_listener", rpc_nvmf_subsystem_add_listener, PLX_RPC_RUNTIME)

static void rpc_nvmf_subsystem_remove_listener(struct plx_jsonrpc_request *req,
					       const json_t *params)
{
	listener_method(req, params, g_remove_listener_fields,
			PLX_COUNTOF(g_remove_listener_fields), 1);
}
PLX_RPC_REGISTER("nvmf_subsystem_remove_listener", rpc_nvmf_subsystem_remove_listener,
		 PLX_RPC_RUNTIME)

static void rpc_nvmf_subsystem_listener_set_ana_state(struct plx_jsonrpc_request *req,
						      const json_t *params)
{
	listener_method(req, params, g_ana_fields, PLX_COUNTOF(g_ana_fields), 2);
}
PLX_RPC_REGISTER("nvmf_subsystem_listener_set_ana_state", rpc_nvmf_subsystem_listener_set_ana_state,
		 PLX_RPC_RUNTIME)

static void rpc_nvmf_subsystem_get_listeners(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct nvmf_subsystem *s = nvmf_rpc_decode_subsystem(req, params);
	struct nvmf_subsystem_listener *l;
	json_t *arr;

	if (s == NULL) {
		return;
	}
	arr = json_array();
	TAILQ_FOREACH(l, &s->listeners, link)
	{
		json_t *o = json_pack("{s:o}", "address", nvmf_rpc_trid_json(&l->trid));
		json_t *states = json_array();

		for (uint32_t g = 1; g <= s->max_nsid && s->ana_reporting; g++) {
			json_array_append_new(
			    states, json_pack("{s:i, s:s}", "ana_group", g, "ana_state",
					      plx_nvme_ana_state_str(l->ana_state[g - 1])));
		}
		if (!s->ana_reporting) {
			json_array_append_new(states,
					      json_pack("{s:i, s:s}", "ana_group", 1, "ana_state",
							plx_nvme_ana_state_str(l->ana_state[0])));
		}
		json_object_set_new(o, "ana_states", states);
		json_array_append_new(arr, o);
	}
	plx_jsonrpc_send_result(req, arr);
}
PLX_RPC_REGISTER("nvmf_subsystem_get_listeners", rpc_nvmf_subsystem_get_listeners, PLX_RPC_RUNTIME)

/* ---- namespaces ---- */

struct ns_params {
	char *nqn;
	char *tgt_name;
	json_t *namespace;
};

static const struct plx_json_field g_add_ns_fields[] = {
    {"nqn", offsetof(struct ns_params, nqn), PLX_JSON_STRING, true, NULL},
    {"namespace", offsetof(struct ns_params, namespace), PLX_JSON_OBJECT, true, NULL},
    {"tgt_name", offsetof(struct ns_params, tgt_name), PLX_JSON_STRING, false, NULL},
};

struct ns_obj_params {
	uint32_t nsid;
	char *bdev_name;
	char *nguid;
	char *eui64;
	char *uuid;
	char *ptpl_file;
	uint32_t anagrpid;
	bool no_auto_visible;
	bool hide_metadata;
};

#define NP(n, t, r)                                                                                \
	{                                                                                          \
#n, offsetof(struct ns_obj_params, n), t, r, NULL                                  \
	}
static const struct plx_json_field g_ns_obj_fields[] = {
    NP(nsid, PLX_JSON_UINT32, false),	     NP(bdev_name, PLX_JSON_STRING, true),
    NP(nguid, PLX_JSON_STRING, false),	     NP(eui64, PLX_JSON_STRING, false),
    NP(uuid, PLX_JSON_STRING, false),	     NP(ptpl_file, PLX_JSON_STRING, false),
    NP(anagrpid, PLX_JSON_UINT32, false),    NP(no_auto_visible, PLX_JSON_BOOL, false),
    NP(hide_metadata, PLX_JSON_BOOL, false),
};
#undef NP

/* Hex string (dashes allowed, as in some tools' NGUIDs) into n bytes. */
static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	size_t got = 0;

	for (; *s != '\0'; s++) {
		unsigned int v;
		char pair[3] = {0};

		if (*s == '-') {
			continue;
		}
		if (got == n || s[1] == '\0') {
			return -EINVAL;
		}
		pair[0] = s[0];
		pair[1] = s[1];
		if (sscanf(pair, "%2x", &v) != 1 || strspn(pair, "0123456789abcdefABCDEF") != 2) {
			return -EINVAL;
		}
		out[got++] = (uint8_t)v;
		s++;
	}
	return got == n ? 0 : -EINVAL;
}

struct add_ns_ctx {
	struct plx_jsonrpc_request *req;
	uint32_t nsid;
};

static void add_ns_done(void *cb_arg, int rc)
{
	struct add_ns_ctx *ctx = cb_arg;

	if (rc == 0) {
		plx_jsonrpc_send_result(ctx->req, json_integer(ctx->nsid));
	} else {
		plx_jsonrpc_send_error(ctx->req, rc, "%s", strerror(-rc));
	}
	free(ctx);
}

static bool ns_opts_from_params(struct plx_jsonrpc_request *req, const struct ns_obj_params *np,
				struct nvmf_ns_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->bdev_name = np->bdev_name;
	o->nsid = np->nsid;
	o->anagrpid = np->anagrpid;
	o->ptpl_file = np->ptpl_file;
	o->no_auto_visible = np->no_auto_visible;
	if (np->nguid != NULL) {
		if (parse_hex(np->nguid, o->nguid, 16) != 0) {
			plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
					       "namespace.nguid: '%s' is not 16 bytes of hex",
					       np->nguid);
			return false;
		}
		o->nguid_set = true;
	}
	if (np->eui64 != NULL) {
		if (parse_hex(np->eui64, o->eui64, 8) != 0) {
			plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
					       "namespace.eui64: '%s' is not 8 bytes of hex",
					       np->eui64);
			return false;
		}
		o->eui64_set = true;
	}
	if (np->uuid != NULL) {
		if (plx_uuid_parse(&o->uuid, np->uuid) != 0) {
			plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
					       "namespace.uuid: '%s' is not a UUID", np->uuid);
			return false;
		}
		o->uuid_set = true;
	}
	return true;
}

static void rpc_nvmf_subsystem_add_ns(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct ns_params p = {0};
	struct ns_obj_params np = {0};
	char err[PLX_NVMF_ERR_LEN] = "";
	struct add_ns_ctx *ctx = NULL;
	struct nvmf_subsystem *s;
	struct nvmf_ns_opts o;
	int rc;

	if (!plx_rpc_decode_params(req, params, g_add_ns_fields, PLX_COUNTOF(g_add_ns_fields),
				   &p)) {
		return;
	}
	if (!nvmf_rpc_check_tgt_name(req, p.tgt_name) ||
	    (s = nvmf_rpc_find_subsystem(req, p.nqn)) == NULL) {
		goto out;
	}
	if (plx_json_decode_object(p.namespace, g_ns_obj_fields, PLX_COUNTOF(g_ns_obj_fields), &np,
				   err, sizeof(err)) != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "namespace.%s", err);
		goto out;
	}
	if (!ns_opts_from_params(req, &np, &o)) {
		goto out_ns;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		plx_jsonrpc_send_error(req, -ENOMEM, "out of memory");
		goto out_ns;
	}
	ctx->req = req;
	rc = nvmf_subsystem_add_ns(s, &o, &ctx->nsid, add_ns_done, ctx, err);
	if (rc != 0) {
		free(ctx);
		nvmf_rpc_send_rc(req, rc, err);
	}
out_ns:
	plx_json_decode_free(g_ns_obj_fields, PLX_COUNTOF(g_ns_obj_fields), &np);
out:
	plx_json_decode_free(g_add_ns_fields, PLX_COUNTOF(g_add_ns_fields), &p);
}
PLX_RPC_REGISTER("nvmf_subsystem_add_ns", rpc_nvmf_subsystem_add_ns, PLX_RPC_RUNTIME)

struct nsid_params {
	char *nqn;
	uint32_t nsid;
	uint32_t anagrpid;
	char *tgt_name;
};

static const struct plx_json_field g_remove_ns_fields[] = {
    {"nqn", offsetof(struct nsid_params, nqn), PLX_JSON_STRING, true, NULL},
    {"nsid", offsetof(struct nsid_params, nsid), PLX_JSON_UINT32, true, NULL},
    {"tgt_name", offsetof(struct nsid_params, tgt_name), PLX_JSON_STRING, false, NULL},
};
static const struct plx_json_field g_ns_ana_fields[] = {
    {"nqn", offsetof(struct nsid_params, nqn), PLX_JSON_STRING, true, NULL},
    {"nsid", offsetof(struct nsid_params, nsid), PLX_JSON_UINT32, true, NULL},
    {"anagrpid", offsetof(struct nsid_params, anagrpid), PLX_JSON_UINT32, true, NULL},
    {"tgt_name", offsetof(struct nsid_params, tgt_name), PLX_JSON_STRING, false, NULL},
};

static void nsid_method(struct plx_jsonrpc_request *req, const json_t *params, bool remove)
{
	const struct plx_json_field *fields = remove ? g_remove_ns_fields : g_ns_ana_fields;
	size_t n = remove ? PLX_COUNTOF(g_remove_ns_fields) : PLX_COUNTOF(g_ns_ana_fields);
	struct nsid_params p = {0};
	char err[PLX_NVMF_ERR_LEN] = "";
	struct nvmf_subsystem *s;
	int rc;

	if (!plx_rpc_decode_params(req, params, fields, n, &p)) {
		return;
	}
	if (nvmf_rpc_check_tgt_name(req, p.tgt_name) &&
	    (s = nvmf_rpc_find_subsystem(req, p.nqn)) != NULL) {
		if (remove) {
			rc = nvmf_subsystem_remove_ns(s, p.nsid, plx_jsonrpc_done_bool, req, err);
			if (rc != 0) {
				nvmf_rpc_send_rc(req, rc, err);
			}
		} else {
			rc = nvmf_subsystem_set_ns_ana_group(s, p.nsid, p.anagrpid, err);
			nvmf_rpc_send_rc(req, rc, err);
		}
	}
	plx_json_decode_free(fields, n, &p);
}

static void rpc_nvmf_subsystem_remove_ns(struct plx_jsonrpc_request *req, const json_t *params)
{
	nsid_method(req, params, true);
}
PLX_RPC_REGISTER("nvmf_subsystem_remove_ns", rpc_nvmf_subsystem_remove_ns, PLX_RPC_RUNTIME)

static void rpc_nvmf_subsystem_set_ns_ana_group(struct plx_jsonrpc_request *req,
						const json_t *params)
{
	nsid_method(req, params, false);
}
PLX_RPC_REGISTER("nvmf_subsystem_set_ns_ana_group", rpc_nvmf_subsystem_set_ns_ana_group,
		 PLX_RPC_RUNTIME)

/* ---- referrals ---- */

struct referral_params {
	char *tgt_name;
	json_t *address;
	bool secure_channel;
	char *subnqn;
};

#define RP(n, t, r)                                                                                \
	{                                                                                          \
#n, offsetof(struct referral_params, n), t, r, NULL                                \
	}
static const struct plx_json_field g_add_ref_fields[] = {
    RP(tgt_name, PLX_JSON_STRING, false),
    RP(address, PLX_JSON_OBJECT, true),
    RP(secure_channel, PLX_JSON_BOOL, false),
    RP(subnqn, PLX_JSON_STRING, false),
};
static const struct plx_json_field g_remove_ref_fields[] = {
    RP(tgt_name, PLX_JSON_STRING, false),
    RP(address, PLX_JSON_OBJECT, true),
    RP(subnqn, PLX_JSON_STRING, false),
};
#undef RP

static void referral_method(struct plx_jsonrpc_request *req, const json_t *params, bool add)
{
	const struct plx_json_field *fields = add ? g_add_ref_fields : g_remove_ref_fields;
	size_t n = add ? PLX_COUNTOF(g_add_ref_fields) : PLX_COUNTOF(g_remove_ref_fields);
	struct referral_params p = {0};
	char err[PLX_NVMF_ERR_LEN] = "";
	struct plx_nvme_trid trid;
	int rc;

	if (!plx_rpc_decode_params(req, params, fields, n, &p)) {
		return;
	}
	if (!nvmf_rpc_check_tgt_name(req, p.tgt_name) ||
	    !decode_trid(req, "address", p.address, &trid)) {
		goto out;
	}
	if (p.subnqn != NULL && !plx_nvmf_nqn_is_valid(p.subnqn)) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "subnqn: '%s' is not a valid NQN", p.subnqn);
		goto out;
	}
	/* As SPDK: without subnqn a referral points at another discovery service. */
	snprintf(trid.subnqn, sizeof(trid.subnqn), "%s",
		 p.subnqn != NULL ? p.subnqn : PLX_NVMF_DISCOVERY_NQN);
	rc = add ? nvmf_tgt_add_referral(nvmf_get_tgt(), &trid, p.secure_channel)
		 : nvmf_tgt_remove_referral(nvmf_get_tgt(), &trid, err);
	nvmf_rpc_send_rc(req, rc, err);
out:
	plx_json_decode_free(fields, n, &p);
}

static void rpc_nvmf_discovery_add_referral(struct plx_jsonrpc_request *req, const json_t *params)
{
	referral_method(req, params, true);
}
PLX_RPC_REGISTER("nvmf_discovery_add_referral", rpc_nvmf_discovery_add_referral, PLX_RPC_RUNTIME)

static void rpc_nvmf_discovery_remove_referral(struct plx_jsonrpc_request *req,
					       const json_t *params)
{
	referral_method(req, params, false);
}
PLX_RPC_REGISTER("nvmf_discovery_remove_referral", rpc_nvmf_discovery_remove_referral,
		 PLX_RPC_RUNTIME)

struct tgt_only_params {
	char *tgt_name;
};

static const struct plx_json_field g_tgt_only_fields[] = {
    {"tgt_name", offsetof(struct tgt_only_params, tgt_name), PLX_JSON_STRING, false, NULL},
};

static void rpc_nvmf_discovery_get_referrals(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct tgt_only_params p = {0};
	struct nvmf_referral *r;
	json_t *arr;

	if (!plx_rpc_decode_params(req, params, g_tgt_only_fields, PLX_COUNTOF(g_tgt_only_fields),
				   &p)) {
		return;
	}
	if (nvmf_rpc_check_tgt_name(req, p.tgt_name)) {
		arr = json_array();
		TAILQ_FOREACH(r, &nvmf_get_tgt()->referrals, link)
		{
			json_array_append_new(arr, nvmf_rpc_referral_json(r));
		}
		plx_jsonrpc_send_result(req, arr);
	}
	plx_json_decode_free(g_tgt_only_fields, PLX_COUNTOF(g_tgt_only_fields), &p);
}
PLX_RPC_REGISTER("nvmf_discovery_get_referrals", rpc_nvmf_discovery_get_referrals, PLX_RPC_RUNTIME)
