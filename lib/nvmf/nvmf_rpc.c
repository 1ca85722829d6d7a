/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-RPC methods of the target, part 1: global settings, transports, subsystems and hosts.
 * Names and parameters are SPDK's (schema.yaml). Errors name the parameter at fault.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_event.h"
#include "nvmf_rpc.h"
#include "nvmf_tgt_internal.h"
#include "pollux/rpc.h"

/* ---- shared helpers ---- */

bool nvmf_rpc_check_tgt_name(struct plx_jsonrpc_request *req, const char *tgt_name)
{
	if (nvmf_get_tgt() == NULL) {
		plx_jsonrpc_send_error(req, -ENODEV, "the NVMe-oF target is not running");
		return false;
	}
	if (tgt_name != NULL && strcmp(tgt_name, NVMF_TGT_NAME) != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "tgt_name: no target named '%s' (only '%s')", tgt_name,
				       NVMF_TGT_NAME);
		return false;
	}
	return true;
}

struct nvmf_subsystem *nvmf_rpc_find_subsystem(struct plx_jsonrpc_request *req, const char *nqn)
{
	struct nvmf_tgt *tgt = nvmf_get_tgt();
	struct nvmf_subsystem *s;

	if (strcmp(nqn, "discovery") == 0) {
		return tgt->discovery;
	}
	s = nvmf_tgt_find_subsystem(tgt, nqn);
	if (s == NULL || s->destroying) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "nqn: no subsystem %s", nqn);
		return NULL;
	}
	return s;
}

void nvmf_rpc_send_rc(struct plx_jsonrpc_request *req, int rc, const char *err)
{
	if (rc == 0) {
		plx_jsonrpc_send_bool(req, true);
	} else if (rc == -EINVAL || rc == -ENOENT || rc == -EEXIST || rc == -ENODEV) {
		/* Problems with what the caller asked for: name the parameter, as SPDK does. */
		plx_jsonrpc_send_error(req, rc == -EINVAL ? PLX_JSONRPC_ERROR_INVALID_PARAMS : rc,
				       "%s", err[0] != '\0' ? err : strerror(-rc));
	} else {
		plx_jsonrpc_send_error(req, rc, "%s", err[0] != '\0' ? err : strerror(-rc));
	}
}

/* ---- nvmf_set_config / nvmf_set_max_subsystems / nvmf_set_crdt (start-up only) ---- */

struct set_config_params {
	json_t *admin_cmd_passthru;
	char *poll_groups_mask;
	char *discovery_filter;
	json_t *discovery_filters;
	json_t *dhchap_digests;
	json_t *dhchap_dhgroups;
	char *dup_host_policy;
};

#define SC(n, t)                                                                                   \
	{                                                                                          \
#n, offsetof(struct set_config_params, n), t, false, NULL                          \
	}
static const struct plx_json_field g_set_config_fields[] = {
    SC(admin_cmd_passthru, PLX_JSON_OBJECT), SC(poll_groups_mask, PLX_JSON_STRING),
    SC(discovery_filter, PLX_JSON_STRING),   SC(discovery_filters, PLX_JSON_ANY),
    SC(dhchap_digests, PLX_JSON_ANY),	     SC(dhchap_dhgroups, PLX_JSON_ANY),
    SC(dup_host_policy, PLX_JSON_STRING),
};
#undef SC

static const char *const g_filter_names[] = {"transport", "address", "svcid"};
static const char *const g_digest_names[] = {"sha256", "sha384", "sha512"};
static const char *const g_dhgroup_names[] = {"null",	   "ffdhe2048", "ffdhe3072",
					      "ffdhe4096", "ffdhe6144", "ffdhe8192"};

const char *const nvmf_admin_passthru_names[NVMF_ADMIN_PASSTHRU_FLAGS] = {
    "identify_ctrlr",	  "identify_uuid_list", "get_log_page", "get_set_features", "sanitize",
    "security_send_recv", "fw_update",		"nvme_mi",	"vendor_specific"};

static int name_bit(const char *name, const char *const *names, size_t n, uint32_t *bits)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(name, names[i]) == 0) {
			*bits |= 1u << i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * A set of names as SPDK's bitmask parameters take it: "a,b" or ["a", "b"], into bits in
 * the order of names. ignore (may be NULL) is a name accepted and dropped ("match_any").
 */
static int parse_name_set(const json_t *v, const char *field, const char *const *names, size_t n,
			  const char *ignore, uint32_t *bits, char *err)
{
	char buf[256];
	char *save, *tok;

	*bits = 0;
	if (json_is_array(v)) {
		size_t i;
		json_t *e;

		json_array_foreach(v, i, e)
		{
			const char *name = json_string_value(e);

			if (name == NULL || ((ignore == NULL || strcmp(name, ignore) != 0) &&
					     name_bit(name, names, n, bits) != 0)) {
				snprintf(err, PLX_NVMF_ERR_LEN, "%s: unknown entry '%s'", field,
					 name != NULL ? name : "(not a string)");
				return -EINVAL;
			}
		}
		return 0;
	}
	if (!json_is_string(v)) {
		snprintf(err, PLX_NVMF_ERR_LEN, "%s: expected a string or an array", field);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", json_string_value(v));
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if ((ignore == NULL || strcmp(tok, ignore) != 0) &&
		    name_bit(tok, names, n, bits) != 0) {
			snprintf(err, PLX_NVMF_ERR_LEN, "%s: unknown entry '%s'", field, tok);
			return -EINVAL;
		}
	}
	return 0;
}

json_t *nvmf_rpc_name_set_json(uint32_t bits, int which)
{
	const char *const *names = which == 0	? g_filter_names
				   : which == 1 ? g_digest_names
						: g_dhgroup_names;
	size_t n = which == 0	? PLX_COUNTOF(g_filter_names)
		   : which == 1 ? PLX_COUNTOF(g_digest_names)
				: PLX_COUNTOF(g_dhgroup_names);
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		if (bits & (1u << i)) {
			json_array_append_new(arr, json_string(names[i]));
		}
	}
	return arr;
}

static int parse_passthru(const json_t *obj, bool *flags, char *err)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
	{
		size_t i;

		for (i = 0; i < NVMF_ADMIN_PASSTHRU_FLAGS; i++) {
			if (strcmp(key, nvmf_admin_passthru_names[i]) == 0) {
				break;
			}
		}
		if (i == NVMF_ADMIN_PASSTHRU_FLAGS || !json_is_boolean(v)) {
			snprintf(err, PLX_NVMF_ERR_LEN,
				 "admin_cmd_passthru.%s: unknown flag or not a boolean", key);
			return -EINVAL;
		}
		flags[i] = json_is_true(v);
	}
	return 0;
}

static void rpc_nvmf_set_config(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct set_config_params p = {0};
	struct nvmf_tgt_config *conf = nvmf_event_config();
	struct nvmf_tgt_config c = *conf;
	char err[PLX_NVMF_ERR_LEN] = "";
	json_t *legacy = NULL;

	if (!plx_rpc_decode_params(req, params, g_set_config_fields,
				   PLX_COUNTOF(g_set_config_fields), &p)) {
		return;
	}
	if (p.discovery_filters == NULL && p.discovery_filter != NULL) {
		legacy = json_string(p.discovery_filter);
	}
	if ((p.discovery_filters != NULL || legacy != NULL) &&
	    parse_name_set(p.discovery_filters != NULL ? p.discovery_filters : legacy,
			   "discovery_filters", g_filter_names, PLX_COUNTOF(g_filter_names),
			   "match_any", &c.discovery_filter, err) != 0) {
		goto bad;
	}
	if (p.dhchap_digests != NULL &&
	    parse_name_set(p.dhchap_digests, "dhchap_digests", g_digest_names,
			   PLX_COUNTOF(g_digest_names), NULL, &c.dhchap_digests, err) != 0) {
		goto bad;
	}
	if (p.dhchap_dhgroups != NULL &&
	    parse_name_set(p.dhchap_dhgroups, "dhchap_dhgroups", g_dhgroup_names,
			   PLX_COUNTOF(g_dhgroup_names), NULL, &c.dhchap_dhgroups, err) != 0) {
		goto bad;
	}
	if (p.dup_host_policy != NULL && strcmp(p.dup_host_policy, "allow") != 0 &&
	    strcmp(p.dup_host_policy, "restrict_per_listener") != 0) {
		snprintf(err, sizeof(err),
			 "dup_host_policy: '%s' is not one of allow, restrict_per_listener",
			 p.dup_host_policy);
		goto bad;
	}
	if (p.admin_cmd_passthru != NULL &&
	    parse_passthru(p.admin_cmd_passthru, c.admin_passthru, err) != 0) {
		goto bad;
	}
	if (p.poll_groups_mask != NULL) {
		snprintf(c.poll_groups_mask, sizeof(c.poll_groups_mask), "%s", p.poll_groups_mask);
	}
	if (p.dup_host_policy != NULL) {
		c.dup_host_policy_restrict = strcmp(p.dup_host_policy, "allow") != 0;
	}
	*conf = c;
	plx_jsonrpc_send_bool(req, true);
	goto out;
bad:
	plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s", err);
out:
	json_decref(legacy);
	plx_json_decode_free(g_set_config_fields, PLX_COUNTOF(g_set_config_fields), &p);
}
PLX_RPC_REGISTER("nvmf_set_config", rpc_nvmf_set_config, PLX_RPC_STARTUP)

struct max_subsys_params {
	uint32_t max_subsystems;
};

static const struct plx_json_field g_max_subsys_fields[] = {
    {"max_subsystems", offsetof(struct max_subsys_params, max_subsystems), PLX_JSON_UINT32, true,
     NULL},
};

static void rpc_nvmf_set_max_subsystems(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct max_subsys_params p = {0};

	if (!plx_rpc_decode_params(req, params, g_max_subsys_fields,
				   PLX_COUNTOF(g_max_subsys_fields), &p)) {
		return;
	}
	if (p.max_subsystems == 0 || p.max_subsystems > 65536) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "max_subsystems: %u is outside 1 to 65536",
				       p.max_subsystems);
		return;
	}
	if (nvmf_event_set_max_subsystems(p.max_subsystems) != 0) {
		plx_jsonrpc_send_error(req, -EPERM, "the target already exists");
		return;
	}
	plx_jsonrpc_send_bool(req, true);
}
PLX_RPC_REGISTER("nvmf_set_max_subsystems", rpc_nvmf_set_max_subsystems, PLX_RPC_STARTUP)

struct crdt_params {
	uint16_t crdt1, crdt2, crdt3;
};

static const struct plx_json_field g_crdt_fields[] = {
    {"crdt1", offsetof(struct crdt_params, crdt1), PLX_JSON_UINT16, false, NULL},
    {"crdt2", offsetof(struct crdt_params, crdt2), PLX_JSON_UINT16, false, NULL},
    {"crdt3", offsetof(struct crdt_params, crdt3), PLX_JSON_UINT16, false, NULL},
};

static void rpc_nvmf_set_crdt(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct nvmf_tgt_config *conf = nvmf_event_config();
	struct crdt_params p = {conf->crdt[0], conf->crdt[1], conf->crdt[2]};

	if (!plx_rpc_decode_params(req, params, g_crdt_fields, PLX_COUNTOF(g_crdt_fields), &p)) {
		return;
	}
	conf->crdt[0] = p.crdt1;
	conf->crdt[1] = p.crdt2;
	conf->crdt[2] = p.crdt3;
	plx_jsonrpc_send_bool(req, true);
}
PLX_RPC_REGISTER("nvmf_set_crdt", rpc_nvmf_set_crdt, PLX_RPC_STARTUP)

/* ---- transports ---- */

struct transport_params {
	char *trtype;
	char *tgt_name;
	struct nvmf_transport_opts o;
	uint16_t max_io_qpairs_per_ctrlr;
	/* accepted for compatibility; meaningful for other transports only */
	int32_t num_cqe;
	uint32_t max_srq_depth;
	bool no_srq;
	int32_t acceptor_backlog;
	bool no_wr_batching;
	bool disable_mappable_bar0;
	bool disable_adaptive_irq;
	bool disable_shadow_doorbells;
	json_t *masked_oncs;
	json_t *masked_fuses;
};

#define TP(n, t)                                                                                   \
	{                                                                                          \
#n, offsetof(struct transport_params, n), t, false, NULL                           \
	}
#define TO(n, t)                                                                                   \
	{                                                                                          \
#n, offsetof(struct transport_params, o.n), t, false, NULL                         \
	}
static const struct plx_json_field g_transport_fields[] = {
    {"trtype", offsetof(struct transport_params, trtype), PLX_JSON_STRING, true, NULL},
    TP(tgt_name, PLX_JSON_STRING),
    TO(max_queue_depth, PLX_JSON_UINT16),
    TP(max_io_qpairs_per_ctrlr, PLX_JSON_UINT16),
    TO(in_capsule_data_size, PLX_JSON_UINT32),
    TO(max_io_size, PLX_JSON_UINT32),
    TO(io_unit_size, PLX_JSON_UINT32),
    TO(max_aq_depth, PLX_JSON_UINT32),
    TO(num_shared_buffers, PLX_JSON_UINT32),
    TO(buf_cache_size, PLX_JSON_UINT32),
    TO(iobuf_small_cache_size, PLX_JSON_UINT32),
    TO(iobuf_large_cache_size, PLX_JSON_UINT32),
    TO(zcopy, PLX_JSON_BOOL),
    TP(num_cqe, PLX_JSON_INT32),
    TP(max_srq_depth, PLX_JSON_UINT32),
    TP(no_srq, PLX_JSON_BOOL),
    TO(c2h_success, PLX_JSON_BOOL),
    TO(dif_insert_or_strip, PLX_JSON_BOOL),
    TO(sock_priority, PLX_JSON_UINT32),
    TP(acceptor_backlog, PLX_JSON_INT32),
    TO(abort_timeout_sec, PLX_JSON_UINT32),
    TP(no_wr_batching, PLX_JSON_BOOL),
    TO(control_msg_num, PLX_JSON_UINT16),
    TP(disable_mappable_bar0, PLX_JSON_BOOL),
    TP(disable_adaptive_irq, PLX_JSON_BOOL),
    TP(disable_shadow_doorbells, PLX_JSON_BOOL),
    TO(acceptor_poll_rate, PLX_JSON_UINT32),
    TO(ack_timeout, PLX_JSON_UINT32),
    TO(data_wr_pool_size, PLX_JSON_UINT32),
    TO(disable_command_passthru, PLX_JSON_BOOL),
    TO(kas, PLX_JSON_UINT16),
    TO(min_kato, PLX_JSON_UINT32),
    TP(masked_oncs, PLX_JSON_ANY),
    TP(masked_fuses, PLX_JSON_ANY),
};
#undef TP
#undef TO

static void rpc_nvmf_create_transport(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct transport_params p = {0};
	const struct nvmf_transport_ops *ops;
	char err[PLX_NVMF_ERR_LEN] = "";
	const json_t *trtype = params != NULL ? json_object_get(params, "trtype") : NULL;
	int rc;

	ops = json_is_string(trtype) ? nvmf_transport_find_ops(json_string_value(trtype)) : NULL;
	if (ops == NULL) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       trtype == NULL ? "missing required parameter 'trtype'"
						      : "trtype: transport '%s' is not available "
							"(available: TCP)",
				       json_is_string(trtype) ? json_string_value(trtype) : "?");
		return;
	}
	ops->opts_init(&p.o);
	p.max_io_qpairs_per_ctrlr = p.o.max_qpairs_per_ctrlr - 1;
	if (!plx_rpc_decode_params(req, params, g_transport_fields, PLX_COUNTOF(g_transport_fields),
				   &p)) {
		return;
	}
	if (!nvmf_rpc_check_tgt_name(req, p.tgt_name)) {
		goto out;
	}
	if (p.max_io_qpairs_per_ctrlr == 0 || p.max_io_qpairs_per_ctrlr == UINT16_MAX) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "max_io_qpairs_per_ctrlr: must be 1 to 65534");
		goto out;
	}
	p.o.max_qpairs_per_ctrlr = p.max_io_qpairs_per_ctrlr + 1;
	rc = nvmf_tgt_add_transport(nvmf_get_tgt(), ops, &p.o, plx_jsonrpc_done_bool, req, err);
	if (rc != 0) {
		plx_jsonrpc_send_error(req, rc == -EINVAL ? PLX_JSONRPC_ERROR_INVALID_PARAMS : rc,
				       "%s", err[0] != '\0' ? err : strerror(-rc));
	}
out:
	plx_json_decode_free(g_transport_fields, PLX_COUNTOF(g_transport_fields), &p);
}
PLX_RPC_REGISTER("nvmf_create_transport", rpc_nvmf_create_transport, PLX_RPC_RUNTIME)

struct get_transports_params {
	char *tgt_name;
	char *trtype;
};

static const struct plx_json_field g_get_transports_fields[] = {
    {"tgt_name", offsetof(struct get_transports_params, tgt_name), PLX_JSON_STRING, false, NULL},
    {"trtype", offsetof(struct get_transports_params, trtype), PLX_JSON_STRING, false, NULL},
};

static void rpc_nvmf_get_transports(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct get_transports_params p = {0};
	struct nvmf_transport *t;
	json_t *arr;

	if (!plx_rpc_decode_params(req, params, g_get_transports_fields,
				   PLX_COUNTOF(g_get_transports_fields), &p)) {
		return;
	}
	if (nvmf_rpc_check_tgt_name(req, p.tgt_name)) {
		arr = json_array();
		TAILQ_FOREACH(t, &nvmf_get_tgt()->transports, link)
		{
			if (p.trtype == NULL || strcasecmp(p.trtype, t->ops->name) == 0) {
				json_array_append_new(arr, nvmf_transport_opts_json(t));
			}
		}
		if (p.trtype != NULL && json_array_size(arr) == 0) {
			json_decref(arr);
			plx_jsonrpc_send_error(req, -ENODEV, "trtype: no %s transport", p.trtype);
		} else {
			plx_jsonrpc_send_result(req, arr);
		}
	}
	plx_json_decode_free(g_get_transports_fields, PLX_COUNTOF(g_get_transports_fields), &p);
}
PLX_RPC_REGISTER("nvmf_get_transports", rpc_nvmf_get_transports, PLX_RPC_RUNTIME)

/* ---- subsystems ---- */

struct create_subsys_params {
	char *nqn;
	char *tgt_name;
	char *serial_number;
	char *model_number;
	char *admin_label;
	uint32_t max_namespaces;
	bool allow_any_host;
	bool ana_reporting;
	uint16_t min_cntlid;
	uint16_t max_cntlid;
	uint32_t dmrsl;
	uint8_t wzsl;
	bool passthrough;
	bool enable_nssr;
};

#define CS(n, t)                                                                                   \
	{                                                                                          \
#n, offsetof(struct create_subsys_params, n), t, false, NULL                       \
	}
static const struct plx_json_field g_create_subsys_fields[] = {
    {"nqn", offsetof(struct create_subsys_params, nqn), PLX_JSON_STRING, true, NULL},
    CS(tgt_name, PLX_JSON_STRING),
    CS(serial_number, PLX_JSON_STRING),
    CS(model_number, PLX_JSON_STRING),
    CS(admin_label, PLX_JSON_STRING),
    CS(max_namespaces, PLX_JSON_UINT32),
    CS(allow_any_host, PLX_JSON_BOOL),
    CS(ana_reporting, PLX_JSON_BOOL),
    CS(min_cntlid, PLX_JSON_UINT16),
    CS(max_cntlid, PLX_JSON_UINT16),
    CS(dmrsl, PLX_JSON_UINT32),
    CS(wzsl, PLX_JSON_UINT8),
    CS(passthrough, PLX_JSON_BOOL),
    CS(enable_nssr, PLX_JSON_BOOL),
};
#undef CS

static void rpc_nvmf_create_subsystem(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct create_subsys_params p = {.min_cntlid = NVMF_MIN_CNTLID,
					 .max_cntlid = NVMF_MAX_CNTLID};
	struct nvmf_subsystem_opts o;
	char err[PLX_NVMF_ERR_LEN] = "";
	int rc;

	if (!plx_rpc_decode_params(req, params, g_create_subsys_fields,
				   PLX_COUNTOF(g_create_subsys_fields), &p)) {
		return;
	}
	if (!nvmf_rpc_check_tgt_name(req, p.tgt_name)) {
		goto out;
	}
	if (p.passthrough) {
		plx_jsonrpc_send_error(
		    req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
		    "passthrough: NVMe passthrough subsystems are not supported");
		goto out;
	}
	nvmf_subsystem_opts_init(&o);
	o.nqn = p.nqn;
	o.sn = p.serial_number;
	o.mn = p.model_number;
	if (p.max_namespaces != 0) {
		o.max_namespaces = p.max_namespaces;
	}
	o.allow_any_host = p.allow_any_host;
	o.ana_reporting = p.ana_reporting;
	o.min_cntlid = p.min_cntlid;
	o.max_cntlid = p.max_cntlid;
	rc = nvmf_subsystem_create(nvmf_get_tgt(), &o, plx_jsonrpc_done_bool, req, err);
	if (rc != 0) {
		nvmf_rpc_send_rc(req, rc, err);
	}
out:
	plx_json_decode_free(g_create_subsys_fields, PLX_COUNTOF(g_create_subsys_fields), &p);
}
PLX_RPC_REGISTER("nvmf_create_subsystem", rpc_nvmf_create_subsystem, PLX_RPC_RUNTIME)

struct nqn_params {
	char *nqn;
	char *tgt_name;
};

static const struct plx_json_field g_nqn_fields[] = {
    {"nqn", offsetof(struct nqn_params, nqn), PLX_JSON_STRING, true, NULL},
    {"tgt_name", offsetof(struct nqn_params, tgt_name), PLX_JSON_STRING, false, NULL},
};

struct nvmf_subsystem *nvmf_rpc_decode_subsystem(struct plx_jsonrpc_request *req,
						 const json_t *params)
{
	struct nqn_params p = {0};
	struct nvmf_subsystem *s = NULL;

	if (!plx_rpc_decode_params(req, params, g_nqn_fields, PLX_COUNTOF(g_nqn_fields), &p)) {
		return NULL;
	}
	if (nvmf_rpc_check_tgt_name(req, p.tgt_name)) {
		s = nvmf_rpc_find_subsystem(req, p.nqn);
	}
	plx_json_decode_free(g_nqn_fields, PLX_COUNTOF(g_nqn_fields), &p);
	return s;
}

static void rpc_nvmf_delete_subsystem(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct nqn_params p = {0};
	struct nvmf_subsystem *s;
	int rc;

	if (!plx_rpc_decode_params(req, params, g_nqn_fields, PLX_COUNTOF(g_nqn_fields), &p)) {
		return;
	}
	if (nvmf_rpc_check_tgt_name(req, p.tgt_name) &&
	    (s = nvmf_rpc_find_subsystem(req, p.nqn)) != NULL) {
		if (s->subtype == NVMF_SUBTYPE_DISCOVERY) {
			plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
					       "nqn: the discovery subsystem cannot be deleted");
		} else if ((rc = nvmf_subsystem_delete(s, plx_jsonrpc_done_bool, req)) != 0) {
			plx_jsonrpc_send_error(req, rc, "deleting %s failed: %s", p.nqn,
					       strerror(-rc));
		}
	}
	plx_json_decode_free(g_nqn_fields, PLX_COUNTOF(g_nqn_fields), &p);
}
PLX_RPC_REGISTER("nvmf_delete_subsystem", rpc_nvmf_delete_subsystem, PLX_RPC_RUNTIME)

json_t *nvmf_rpc_trid_json(const struct plx_nvme_trid *trid)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "trtype", plx_nvme_trtype_str(trid->trtype),
			 "adrfam", plx_nvme_adrfam_str(trid->adrfam), "traddr", trid->traddr,
			 "trsvcid", trid->trsvcid);
}

json_t *nvmf_rpc_referral_json(const struct nvmf_referral *r)
{
	return json_pack("{s:o, s:b, s:s}", "address", nvmf_rpc_trid_json(&r->trid),
			 "secure_channel", r->secure_channel, "subnqn", r->trid.subnqn);
}

static json_t *subsystem_json(struct nvmf_subsystem *s)
{
	json_t *o = json_object(), *arr;
	struct nvmf_subsystem_listener *l;
	struct nvmf_host *host;
	struct nvmf_ns *ns;

	json_object_set_new(o, "nqn", json_string(s->subnqn));
	json_object_set_new(
	    o, "subtype", json_string(s->subtype == NVMF_SUBTYPE_DISCOVERY ? "Discovery" : "NVMe"));
	arr = json_array();
	TAILQ_FOREACH(l, &s->listeners, link)
	{
		json_array_append_new(arr, nvmf_rpc_trid_json(&l->trid));
	}
	json_object_set_new(o, "listen_addresses", arr);
	json_object_set_new(o, "allow_any_host", json_boolean(s->allow_any_host));
	arr = json_array();
	TAILQ_FOREACH(host, &s->hosts, link)
	{
		json_array_append_new(arr, json_pack("{s:s}", "nqn", host->nqn));
	}
	json_object_set_new(o, "hosts", arr);
	if (s->subtype == NVMF_SUBTYPE_NVME) {
		json_object_set_new(o, "serial_number", json_string(s->sn));
		json_object_set_new(o, "model_number", json_string(s->mn));
		json_object_set_new(o, "max_namespaces", json_integer(s->max_nsid));
		json_object_set_new(o, "min_cntlid", json_integer(s->min_cntlid));
		json_object_set_new(o, "max_cntlid", json_integer(s->max_cntlid));
		json_object_set_new(o, "ana_reporting", json_boolean(s->ana_reporting));
		arr = json_array();
		for (ns = nvmf_subsystem_next_ns(s, 0); ns != NULL;
		     ns = nvmf_subsystem_next_ns(s, ns->nsid)) {
			json_array_append_new(arr, nvmf_ns_json(ns, false));
		}
		json_object_set_new(o, "namespaces", arr);
	}
	return o;
}

struct get_subsys_params {
	char *nqn;
	char *tgt_name;
};

static const struct plx_json_field g_get_subsys_fields[] = {
    {"nqn", offsetof(struct get_subsys_params, nqn), PLX_JSON_STRING, false, NULL},
    {"tgt_name", offsetof(struct get_subsys_params, tgt_name), PLX_JSON_STRING, false, NULL},
};

static void rpc_nvmf_get_subsystems(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct get_subsys_params p = {0};
	struct nvmf_tgt *tgt;
	struct nvmf_subsystem *s;
	json_t *arr;

	if (!plx_rpc_decode_params(req, params, g_get_subsys_fields,
				   PLX_COUNTOF(g_get_subsys_fields), &p)) {
		return;
	}
	if (!nvmf_rpc_check_tgt_name(req, p.tgt_name)) {
		goto out;
	}
	tgt = nvmf_get_tgt();
	if (p.nqn != NULL) {
		s = nvmf_rpc_find_subsystem(req, p.nqn);
		if (s != NULL) {
			arr = json_array();
			json_array_append_new(arr, subsystem_json(s));
			plx_jsonrpc_send_result(req, arr);
		}
		goto out;
	}
	arr = json_array();
	for (uint32_t i = 0; i < tgt->max_subsystems; i++) {
		s = tgt->subsystems[i];
		if (s != NULL && !s->destroying) {
			json_array_append_new(arr, subsystem_json(s));
		}
	}
	plx_jsonrpc_send_result(req, arr);
out:
	plx_json_decode_free(g_get_subsys_fields, PLX_COUNTOF(g_get_subsys_fields), &p);
}
PLX_RPC_REGISTER("nvmf_get_subsystems", rpc_nvmf_get_subsystems, PLX_RPC_RUNTIME)

/* ---- hosts ---- */

struct host_params {
	char *nqn;
	char *host;
	char *tgt_name;
	char *psk;
	char *dhchap_key;
	char *dhchap_ctrlr_key;
	uint64_t timeout_ms;
	bool allow_any_host;
};

#define HP(n, t, r)                                                                                \
	{                                                                                          \
#n, offsetof(struct host_params, n), t, r, NULL                                    \
	}
static const struct plx_json_field g_add_host_fields[] = {
    HP(nqn, PLX_JSON_STRING, true),	    HP(host, PLX_JSON_STRING, true),
    HP(tgt_name, PLX_JSON_STRING, false),   HP(psk, PLX_JSON_STRING, false),
    HP(dhchap_key, PLX_JSON_STRING, false), HP(dhchap_ctrlr_key, PLX_JSON_STRING, false),
};
static const struct plx_json_field g_remove_host_fields[] = {
    HP(nqn, PLX_JSON_STRING, true),
    HP(host, PLX_JSON_STRING, true),
    HP(tgt_name, PLX_JSON_STRING, false),
    HP(timeout_ms, PLX_JSON_UINT64, false),
};
static const struct plx_json_field g_any_host_fields[] = {
    HP(nqn, PLX_JSON_STRING, true),
    HP(allow_any_host, PLX_JSON_BOOL, true),
    HP(tgt_name, PLX_JSON_STRING, false),
};
#undef HP

static void host_method(struct plx_jsonrpc_request *req, const json_t *params,
			const struct plx_json_field *fields, size_t n, int which)
{
	struct host_params p = {0};
	struct nvmf_subsystem *s;
	char err[PLX_NVMF_ERR_LEN] = "";
	int rc = 0;

	if (!plx_rpc_decode_params(req, params, fields, n, &p)) {
		return;
	}
	if (!nvmf_rpc_check_tgt_name(req, p.tgt_name) ||
	    (s = nvmf_rpc_find_subsystem(req, p.nqn)) == NULL) {
		goto out;
	}
	if (s->subtype == NVMF_SUBTYPE_DISCOVERY) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "nqn: the discovery subsystem allows any host");
		goto out;
	}
	if (which == 0 && (p.psk != NULL || p.dhchap_key != NULL || p.dhchap_ctrlr_key != NULL)) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "psk/dhchap_key: TLS and DH-HMAC-CHAP are not supported");
		goto out;
	}
	if (which == 0) {
		rc = nvmf_subsystem_add_host(s, p.host, err);
	} else if (which == 1) {
		rc = nvmf_subsystem_remove_host(s, p.host, err);
	} else {
		nvmf_subsystem_set_allow_any_host(s, p.allow_any_host);
	}
	nvmf_rpc_send_rc(req, rc, err);
out:
	plx_json_decode_free(fields, n, &p);
}

static void rpc_nvmf_subsystem_add_host(struct plx_jsonrpc_request *req, const json_t *params)
{
	host_method(req, params, g_add_host_fields, PLX_COUNTOF(g_add_host_fields), 0);
}
PLX_RPC_REGISTER("nvmf_subsystem_add_host", rpc_nvmf_subsystem_add_host, PLX_RPC_RUNTIME)

static void rpc_nvmf_subsystem_remove_host(struct plx_jsonrpc_request *req, const json_t *params)
{
	host_method(req, params, g_remove_host_fields, PLX_COUNTOF(g_remove_host_fields), 1);
}
PLX_RPC_REGISTER("nvmf_subsystem_remove_host", rpc_nvmf_subsystem_remove_host, PLX_RPC_RUNTIME)

static void rpc_nvmf_subsystem_allow_any_host(struct plx_jsonrpc_request *req, const json_t *params)
{
	host_method(req, params, g_any_host_fields, PLX_COUNTOF(g_any_host_fields), 2);
}
PLX_RPC_REGISTER("nvmf_subsystem_allow_any_host", rpc_nvmf_subsystem_allow_any_host,
		 PLX_RPC_RUNTIME)
