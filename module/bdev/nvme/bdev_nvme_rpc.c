/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bdev_nvme_* JSON-RPC methods, the JSON shapes save_config writes for the module, and
 * the small pure helpers the RPCs and the core share (enum names, the reconnect rule).
 * Parameter problems are answered here with -32602 naming the field, before the core runs;
 * what the core refuses comes back as its negative errno with its own message.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bdev_nvme.h"
#include "pollux/log.h"
#include "pollux/rpc.h"
#include "pollux/util.h"

#define ERR_LEN 256

/* ---- enum names ---- */

static const char *const g_policy_names[] = {
    [BDEV_NVME_MP_POLICY_ACTIVE_PASSIVE] = "active_passive",
    [BDEV_NVME_MP_POLICY_ACTIVE_ACTIVE] = "active_active",
};

static const char *const g_selector_names[] = {
    [BDEV_NVME_MP_SELECTOR_ROUND_ROBIN] = "round_robin",
    [BDEV_NVME_MP_SELECTOR_QUEUE_DEPTH] = "queue_depth",
};

static const char *const g_mode_names[] = {
    [BDEV_NVME_MP_FAILOVER] = "failover",
    [BDEV_NVME_MP_MULTIPATH] = "multipath",
    [BDEV_NVME_MP_DISABLE] = "disable",
};

static const char *const g_timeout_action_names[] = {
    [BDEV_NVME_TIMEOUT_ACTION_NONE] = "none",
    [BDEV_NVME_TIMEOUT_ACTION_RESET] = "reset",
    [BDEV_NVME_TIMEOUT_ACTION_ABORT] = "abort",
    NULL,
};

/* Bit i of the mask is name i (SPDK's DH-HMAC-CHAP bitmask order). */
static const char *const g_digest_names[] = {"sha256", "sha384", "sha512"};
static const char *const g_dhgroup_names[] = {"null",	   "ffdhe2048", "ffdhe3072",
					      "ffdhe4096", "ffdhe6144", "ffdhe8192"};

static const char *name_of(const char *const *names, size_t n, unsigned int value)
{
	return value < n ? names[value] : NULL;
}

static int index_of(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++) {
		if (names[i] != NULL && strcasecmp(s, names[i]) == 0) {
			return (int)i;
		}
	}
	return -EINVAL;
}

const char *bdev_nvme_mp_policy_str(enum bdev_nvme_mp_policy policy)
{
	return name_of(g_policy_names, PLX_COUNTOF(g_policy_names), policy);
}

const char *bdev_nvme_mp_selector_str(enum bdev_nvme_mp_selector selector)
{
	return name_of(g_selector_names, PLX_COUNTOF(g_selector_names), selector);
}

const char *bdev_nvme_mp_mode_str(enum bdev_nvme_multipath_mode mode)
{
	return name_of(g_mode_names, PLX_COUNTOF(g_mode_names), mode);
}

int bdev_nvme_mp_policy_from_str(const char *s, enum bdev_nvme_mp_policy *policy)
{
	int i = index_of(g_policy_names, PLX_COUNTOF(g_policy_names), s);

	if (i < 0) {
		return -EINVAL;
	}
	*policy = (enum bdev_nvme_mp_policy)i;
	return 0;
}

int bdev_nvme_mp_selector_from_str(const char *s, enum bdev_nvme_mp_selector *selector)
{
	int i = index_of(g_selector_names, PLX_COUNTOF(g_selector_names), s);

	if (i < 0) {
		return -EINVAL;
	}
	*selector = (enum bdev_nvme_mp_selector)i;
	return 0;
}

int bdev_nvme_mp_mode_from_str(const char *s, enum bdev_nvme_multipath_mode *mode)
{
	int i = index_of(g_mode_names, PLX_COUNTOF(g_mode_names), s);

	if (i < 0) {
		return -EINVAL;
	}
	*mode = (enum bdev_nvme_multipath_mode)i;
	return 0;
}

/* ---- the reconnect rule ---- */

/*
 * As SPDK documents it: reconnect_delay_sec 0 means no reconnect, so ctrlr_loss_timeout_sec
 * must be 0 too; otherwise ctrlr_loss_timeout_sec is -1 (forever) or at least the delay, and
 * a non-zero fast_io_fail_timeout_sec lies in [reconnect_delay_sec, ctrlr_loss_timeout_sec).
 */
int bdev_nvme_check_reconnect_params(int32_t ctrlr_loss_timeout_sec, uint32_t reconnect_delay_sec,
				     uint32_t fast_io_fail_timeout_sec, char *err, size_t errlen)
{
	if (ctrlr_loss_timeout_sec < -1) {
		snprintf(err, errlen,
			 "ctrlr_loss_timeout_sec: %" PRId32 " is invalid (-1: reconnect forever, "
			 "0: no reconnect, else seconds)",
			 ctrlr_loss_timeout_sec);
		return -EINVAL;
	}
	if (reconnect_delay_sec == 0 && ctrlr_loss_timeout_sec != 0) {
		snprintf(
		    err, errlen,
		    "reconnect_delay_sec: must not be 0 when ctrlr_loss_timeout_sec is %" PRId32
		    " (0 means no reconnect, which needs ctrlr_loss_timeout_sec 0)",
		    ctrlr_loss_timeout_sec);
		return -EINVAL;
	}
	if (reconnect_delay_sec != 0 && ctrlr_loss_timeout_sec != -1 &&
	    (uint32_t)ctrlr_loss_timeout_sec < reconnect_delay_sec) {
		snprintf(err, errlen,
			 "ctrlr_loss_timeout_sec: must be -1 or not less than reconnect_delay_sec "
			 "(%" PRIu32 "), got %" PRId32,
			 reconnect_delay_sec, ctrlr_loss_timeout_sec);
		return -EINVAL;
	}
	if (fast_io_fail_timeout_sec == 0) {
		return 0;
	}
	if (reconnect_delay_sec == 0) {
		snprintf(err, errlen,
			 "fast_io_fail_timeout_sec: must be 0 when reconnect_delay_sec is 0 (no "
			 "reconnect), got %" PRIu32,
			 fast_io_fail_timeout_sec);
		return -EINVAL;
	}
	if (fast_io_fail_timeout_sec < reconnect_delay_sec) {
		snprintf(err, errlen,
			 "fast_io_fail_timeout_sec: %" PRIu32 " must not be less than "
			 "reconnect_delay_sec (%" PRIu32 ")",
			 fast_io_fail_timeout_sec, reconnect_delay_sec);
		return -EINVAL;
	}
	if (ctrlr_loss_timeout_sec != -1 &&
	    fast_io_fail_timeout_sec >= (uint32_t)ctrlr_loss_timeout_sec) {
		snprintf(err, errlen,
			 "fast_io_fail_timeout_sec: %" PRIu32 " must be less than "
			 "ctrlr_loss_timeout_sec (%" PRId32 ")",
			 fast_io_fail_timeout_sec, ctrlr_loss_timeout_sec);
		return -EINVAL;
	}
	return 0;
}

/* ---- JSON shapes ---- */

static json_t *mask_json(uint32_t mask, const char *const *names, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++) {
		if (mask & (1u << i)) {
			json_array_append_new(a, json_string(names[i]));
		}
	}
	return a;
}

static json_t *mp_opts_json(enum bdev_nvme_mp_policy policy, enum bdev_nvme_mp_selector selector,
			    uint32_t min_io)
{
	json_t *o = json_object();
	const char *s = bdev_nvme_mp_policy_str(policy);

	json_object_set_new(o, "policy", json_string(s != NULL ? s : "active_passive"));
	if (policy == BDEV_NVME_MP_POLICY_ACTIVE_ACTIVE) {
		s = bdev_nvme_mp_selector_str(selector);
		json_object_set_new(o, "selector", json_string(s != NULL ? s : "round_robin"));
		json_object_set_new(o, "min_io", json_integer(min_io));
	}
	return o;
}

#define SET(o, k, v) json_object_set_new(o, k, v)

/* In the key order of SPDK's saved configs, so saved files diff cleanly against SPDK's. */
json_t *bdev_nvme_opts_json(const struct bdev_nvme_opts *opts)
{
	const char *action = name_of(g_timeout_action_names, PLX_COUNTOF(g_timeout_action_names),
				     opts->action_on_timeout);
	json_t *o = json_object();

	if (o == NULL) {
		return NULL;
	}
	SET(o, "action_on_timeout", json_string(action != NULL ? action : "none"));
	SET(o, "timeout_us", json_integer((json_int_t)opts->timeout_us));
	SET(o, "timeout_admin_us", json_integer((json_int_t)opts->timeout_admin_us));
	SET(o, "keep_alive_timeout_ms", json_integer(opts->keep_alive_timeout_ms));
	SET(o, "arbitration_burst", json_integer(opts->arbitration_burst));
	SET(o, "low_priority_weight", json_integer(opts->low_priority_weight));
	SET(o, "medium_priority_weight", json_integer(opts->medium_priority_weight));
	SET(o, "high_priority_weight", json_integer(opts->high_priority_weight));
	SET(o, "nvme_adminq_poll_period_us",
	    json_integer((json_int_t)opts->nvme_adminq_poll_period_us));
	SET(o, "nvme_ioq_poll_period_us", json_integer((json_int_t)opts->nvme_ioq_poll_period_us));
	SET(o, "io_queue_requests", json_integer(opts->io_queue_requests));
	SET(o, "delay_cmd_submit", json_boolean(opts->delay_cmd_submit));
	SET(o, "transport_retry_count", json_integer(opts->transport_retry_count));
	SET(o, "bdev_retry_count", json_integer(opts->bdev_retry_count));
	SET(o, "transport_ack_timeout", json_integer(opts->transport_ack_timeout));
	SET(o, "ctrlr_loss_timeout_sec", json_integer(opts->ctrlr_loss_timeout_sec));
	SET(o, "reconnect_delay_sec", json_integer(opts->reconnect_delay_sec));
	SET(o, "fast_io_fail_timeout_sec", json_integer(opts->fast_io_fail_timeout_sec));
	SET(o, "disable_auto_failback", json_boolean(opts->disable_auto_failback));
	SET(o, "generate_uuids", json_boolean(opts->generate_uuids));
	SET(o, "transport_tos", json_integer(opts->transport_tos));
	SET(o, "nvme_error_stat", json_boolean(opts->nvme_error_stat));
	SET(o, "rdma_srq_size", json_integer(opts->rdma_srq_size));
	SET(o, "io_path_stat", json_boolean(opts->io_path_stat));
	SET(o, "allow_accel_sequence", json_boolean(opts->allow_accel_sequence));
	SET(o, "rdma_max_cq_size", json_integer(opts->rdma_max_cq_size));
	SET(o, "rdma_cm_event_timeout_ms", json_integer(opts->rdma_cm_event_timeout_ms));
	SET(o, "dhchap_digests",
	    mask_json(opts->dhchap_digests, g_digest_names, PLX_COUNTOF(g_digest_names)));
	SET(o, "dhchap_dhgroups",
	    mask_json(opts->dhchap_dhgroups, g_dhgroup_names, PLX_COUNTOF(g_dhgroup_names)));
	SET(o, "rdma_umr_per_io", json_boolean(opts->rdma_umr_per_io));
	SET(o, "tcp_connect_timeout_ms", json_integer(opts->tcp_connect_timeout_ms));
	SET(o, "enable_flush", json_boolean(opts->enable_flush));
	SET(o, "multipath_opts",
	    mp_opts_json(opts->mp_policy, opts->mp_selector, opts->mp_rr_min_io));
	return o;
}

static void trid_json_into(json_t *o, const struct plx_nvme_trid *trid)
{
	bool pcie = trid->trtype == PLX_NVME_TRTYPE_PCIE;

	SET(o, "trtype", json_string(plx_nvme_trtype_str(trid->trtype)));
	if (!pcie) {
		SET(o, "adrfam", json_string(plx_nvme_adrfam_str(trid->adrfam)));
	}
	SET(o, "traddr", json_string(trid->traddr));
	if (!pcie && trid->trsvcid[0] != '\0') {
		SET(o, "trsvcid", json_string(trid->trsvcid));
	}
	if (!pcie && trid->subnqn[0] != '\0') {
		SET(o, "subnqn", json_string(trid->subnqn));
	}
}

json_t *bdev_nvme_trid_json(const struct plx_nvme_trid *trid)
{
	json_t *o = json_object();

	if (o != NULL) {
		trid_json_into(o, trid);
	}
	return o;
}

json_t *bdev_nvme_attach_opts_json(const struct bdev_nvme_attach_opts *opts)
{
	const char *mode = bdev_nvme_mp_mode_str(opts->multipath);
	json_t *o = json_object();

	if (o == NULL) {
		return NULL;
	}
	SET(o, "name", json_string(opts->name));
	trid_json_into(o, &opts->trid);
	if (opts->hostnqn[0] != '\0') {
		SET(o, "hostnqn", json_string(opts->hostnqn));
	}
	if (opts->hostaddr[0] != '\0') {
		SET(o, "hostaddr", json_string(opts->hostaddr));
	}
	if (opts->hostsvcid[0] != '\0') {
		SET(o, "hostsvcid", json_string(opts->hostsvcid));
	}
	SET(o, "hdgst", json_boolean(opts->hdgst));
	SET(o, "ddgst", json_boolean(opts->ddgst));
	SET(o, "multipath", json_string(mode != NULL ? mode : "failover"));
	SET(o, "ctrlr_loss_timeout_sec", json_integer(opts->ctrlr_loss_timeout_sec));
	SET(o, "reconnect_delay_sec", json_integer(opts->reconnect_delay_sec));
	SET(o, "fast_io_fail_timeout_sec", json_integer(opts->fast_io_fail_timeout_sec));
	if (opts->num_io_queues != 0) {
		SET(o, "num_io_queues", json_integer(opts->num_io_queues));
	}
	if (opts->fabrics_connect_timeout_us != 0) {
		SET(o, "fabrics_connect_timeout_us",
		    json_integer((json_int_t)opts->fabrics_connect_timeout_us));
	}
	if (opts->has_mp_opts) {
		SET(o, "multipath_opts",
		    mp_opts_json(opts->mp_policy, opts->mp_selector, opts->mp_rr_min_io));
	}
	return o;
}

/* ---- shared answers ---- */

/* A core failure: its errno as the code and its message (or the errno's text). */
static void send_core_error(struct plx_jsonrpc_request *req, int rc, const char *err)
{
	plx_jsonrpc_send_error(req, rc, "%s", err != NULL && err[0] != '\0' ? err : strerror(-rc));
}

/* multipath_opts {policy, selector, min_io}: into the three outputs (absent keys kept). */
struct mp_opts_params {
	char *policy;
	char *selector;
	uint32_t min_io;
};

static const struct plx_json_field g_mp_opts_fields[] = {
    {"policy", offsetof(struct mp_opts_params, policy), PLX_JSON_STRING, false, NULL},
    {"selector", offsetof(struct mp_opts_params, selector), PLX_JSON_STRING, false, NULL},
    {"min_io", offsetof(struct mp_opts_params, min_io), PLX_JSON_UINT32, false, NULL},
};

static int decode_mp_opts(const json_t *obj, enum bdev_nvme_mp_policy *policy,
			  enum bdev_nvme_mp_selector *selector, uint32_t *min_io, char *err,
			  size_t errlen)
{
	struct mp_opts_params p = {.min_io = *min_io != 0 ? *min_io : 1};
	char inner[ERR_LEN - 32];
	int rc = -EINVAL;

	if (bdev_nvme_mp_selector_str(*selector) == NULL) {
		*selector = BDEV_NVME_MP_SELECTOR_ROUND_ROBIN;
	}
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "multipath_opts: expected an object");
		return -EINVAL;
	}

	if (plx_json_decode_object(obj, g_mp_opts_fields, PLX_COUNTOF(g_mp_opts_fields), &p, inner,
				   sizeof(inner)) != 0) {
		snprintf(err, errlen, "multipath_opts.%s", inner);
		return -EINVAL;
	}
	if (p.policy != NULL && bdev_nvme_mp_policy_from_str(p.policy, policy) != 0) {
		snprintf(err, errlen,
			 "multipath_opts.policy: unknown policy '%s' (active_passive or "
			 "active_active)",
			 p.policy);
	} else if (p.selector != NULL &&
		   bdev_nvme_mp_selector_from_str(p.selector, selector) != 0) {
		snprintf(err, errlen,
			 "multipath_opts.selector: unknown selector '%s' (round_robin or "
			 "queue_depth)",
			 p.selector);
	} else if (p.min_io == 0) {
		snprintf(err, errlen, "multipath_opts.min_io: must be at least 1");
	} else {
		*min_io = p.min_io;
		rc = 0;
	}
	plx_json_decode_free(g_mp_opts_fields, PLX_COUNTOF(g_mp_opts_fields), &p);
	return rc;
}

/* An array of names into a bitmask (bit i: names[i]). */
static int decode_name_mask(const json_t *a, const char *field, const char *const *names, size_t n,
			    uint32_t *mask, char *err, size_t errlen)
{
	uint32_t m = 0;
	size_t i;
	json_t *v;
	int bit;

	if (!json_is_array(a)) {
		snprintf(err, errlen, "%s: expected an array of names", field);
		return -EINVAL;
	}
	json_array_foreach(a, i, v)
	{
		bit = json_is_string(v) ? index_of(names, n, json_string_value(v)) : -EINVAL;
		if (bit < 0) {
			snprintf(err, errlen, "%s: unknown name %s%s%s", field,
				 json_is_string(v) ? "'" : "",
				 json_is_string(v) ? json_string_value(v) : "(not a string)",
				 json_is_string(v) ? "'" : "");
			return -EINVAL;
		}
		m |= 1u << bit;
	}
	*mask = m;
	return 0;
}

/* ---- bdev_nvme_set_options ---- */

struct set_opts_params {
	struct bdev_nvme_opts o;
	int action_on_timeout;
	json_t *dhchap_digests;
	json_t *dhchap_dhgroups;
	json_t *multipath_opts;
};

/* clang-format off */
#define O(n, t) {#n, offsetof(struct set_opts_params, o.n), t, false, NULL}
#define P(n, t) {#n, offsetof(struct set_opts_params, n), t, false, NULL}
/* clang-format on */
static const struct plx_json_field g_set_opts_fields[] = {
    {"action_on_timeout", offsetof(struct set_opts_params, action_on_timeout), PLX_JSON_ENUM, false,
     g_timeout_action_names},
    O(timeout_us, PLX_JSON_UINT64),
    O(timeout_admin_us, PLX_JSON_UINT64),
    O(keep_alive_timeout_ms, PLX_JSON_UINT32),
    O(arbitration_burst, PLX_JSON_UINT32),
    O(low_priority_weight, PLX_JSON_UINT32),
    O(medium_priority_weight, PLX_JSON_UINT32),
    O(high_priority_weight, PLX_JSON_UINT32),
    O(nvme_adminq_poll_period_us, PLX_JSON_UINT64),
    O(nvme_ioq_poll_period_us, PLX_JSON_UINT64),
    O(io_queue_requests, PLX_JSON_UINT32),
    O(delay_cmd_submit, PLX_JSON_BOOL),
    O(transport_retry_count, PLX_JSON_UINT32),
    O(bdev_retry_count, PLX_JSON_INT32),
    O(transport_ack_timeout, PLX_JSON_UINT8),
    O(ctrlr_loss_timeout_sec, PLX_JSON_INT32),
    O(reconnect_delay_sec, PLX_JSON_UINT32),
    O(fast_io_fail_timeout_sec, PLX_JSON_UINT32),
    O(disable_auto_failback, PLX_JSON_BOOL),
    O(generate_uuids, PLX_JSON_BOOL),
    O(transport_tos, PLX_JSON_UINT8),
    O(nvme_error_stat, PLX_JSON_BOOL),
    O(rdma_srq_size, PLX_JSON_UINT32),
    O(io_path_stat, PLX_JSON_BOOL),
    O(allow_accel_sequence, PLX_JSON_BOOL),
    O(rdma_max_cq_size, PLX_JSON_UINT32),
    O(rdma_cm_event_timeout_ms, PLX_JSON_UINT16),
    P(dhchap_digests, PLX_JSON_ANY),
    P(dhchap_dhgroups, PLX_JSON_ANY),
    O(rdma_umr_per_io, PLX_JSON_BOOL),
    O(tcp_connect_timeout_ms, PLX_JSON_UINT32),
    O(enable_flush, PLX_JSON_BOOL),
    P(multipath_opts, PLX_JSON_ANY),
};
#undef O
#undef P

/* The first problem with the decoded options (err set), after the structured parts. */
static int set_opts_check(struct set_opts_params *p, char *err, size_t errlen)
{
	struct bdev_nvme_opts *o = &p->o;

	o->action_on_timeout = (enum bdev_nvme_timeout_action)p->action_on_timeout;
	if (p->dhchap_digests != NULL &&
	    decode_name_mask(p->dhchap_digests, "dhchap_digests", g_digest_names,
			     PLX_COUNTOF(g_digest_names), &o->dhchap_digests, err, errlen) != 0) {
		return -EINVAL;
	}
	if (p->dhchap_dhgroups != NULL &&
	    decode_name_mask(p->dhchap_dhgroups, "dhchap_dhgroups", g_dhgroup_names,
			     PLX_COUNTOF(g_dhgroup_names), &o->dhchap_dhgroups, err, errlen) != 0) {
		return -EINVAL;
	}
	if (p->multipath_opts != NULL &&
	    decode_mp_opts(p->multipath_opts, &o->mp_policy, &o->mp_selector, &o->mp_rr_min_io, err,
			   errlen) != 0) {
		return -EINVAL;
	}
	if (o->bdev_retry_count < -1) {
		snprintf(err, errlen, "bdev_retry_count: %" PRId32 " is invalid (-1: infinite)",
			 o->bdev_retry_count);
		return -EINVAL;
	}
	if (o->transport_ack_timeout > 31) {
		snprintf(err, errlen, "transport_ack_timeout: %u is outside 0 to 31",
			 o->transport_ack_timeout);
		return -EINVAL;
	}
	return bdev_nvme_check_reconnect_params(o->ctrlr_loss_timeout_sec, o->reconnect_delay_sec,
						o->fast_io_fail_timeout_sec, err, errlen);
}

static void rpc_bdev_nvme_set_options(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct set_opts_params p = {0};
	char err[ERR_LEN] = "";
	int rc;

	/* Start from the current options: what the call omits keeps its value. */
	p.o = *bdev_nvme_get_opts();
	p.action_on_timeout = (int)p.o.action_on_timeout;
	if (!plx_rpc_decode_params(req, params, g_set_opts_fields, PLX_COUNTOF(g_set_opts_fields),
				   &p)) {
		return;
	}
	if (set_opts_check(&p, err, sizeof(err)) != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s", err);
		goto out;
	}
	rc = bdev_nvme_set_opts(&p.o, err, sizeof(err));
	if (rc == -EPERM) {
		plx_jsonrpc_send_error(req, rc,
				       "bdev_nvme_set_options is only allowed before any NVMe "
				       "controller is attached");
	} else if (rc == -EINVAL) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s",
				       err[0] != '\0' ? err : "invalid options");
	} else if (rc != 0) {
		send_core_error(req, rc, err);
	} else {
		plx_jsonrpc_send_bool(req, true);
	}
out:
	plx_json_decode_free(g_set_opts_fields, PLX_COUNTOF(g_set_opts_fields), &p);
}
PLX_RPC_REGISTER("bdev_nvme_set_options", rpc_bdev_nvme_set_options,
		 PLX_RPC_STARTUP | PLX_RPC_RUNTIME)

/* ---- bdev_nvme_set_hotplug ---- */

#define HOTPLUG_DEFAULT_PERIOD_US 100000
#define HOTPLUG_MAX_PERIOD_US	  10000000

/* Remembered for save_config only: PCIe hot insert/remove polling is not implemented. */
static bool g_hotplug_enable;
static uint64_t g_hotplug_period_us = HOTPLUG_DEFAULT_PERIOD_US;

json_t *bdev_nvme_hotplug_json(void)
{
	json_t *o = json_object();

	if (o != NULL) {
		SET(o, "period_us", json_integer((json_int_t)g_hotplug_period_us));
		SET(o, "enable", json_boolean(g_hotplug_enable));
	}
	return o;
}

struct hotplug_params {
	bool enable;
	uint64_t period_us;
};

static const struct plx_json_field g_hotplug_fields[] = {
    {"enable", offsetof(struct hotplug_params, enable), PLX_JSON_BOOL, true, NULL},
    {"period_us", offsetof(struct hotplug_params, period_us), PLX_JSON_UINT64, false, NULL},
};

static void rpc_bdev_nvme_set_hotplug(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct hotplug_params p = {.period_us = 0};

	if (!plx_rpc_decode_params(req, params, g_hotplug_fields, PLX_COUNTOF(g_hotplug_fields),
				   &p)) {
		return;
	}
	if (p.period_us > HOTPLUG_MAX_PERIOD_US) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "period_us: %" PRIu64 " is outside 1 to %u (0: default)",
				       p.period_us, HOTPLUG_MAX_PERIOD_US);
		return;
	}
	if (p.enable && !g_hotplug_enable) {
		PLX_WARNLOG("NVMe hotplug enabled but not implemented: PCIe controllers are "
			    "neither attached on insertion nor removed on removal\n");
	}
	g_hotplug_enable = p.enable;
	g_hotplug_period_us = p.period_us != 0 ? p.period_us : HOTPLUG_DEFAULT_PERIOD_US;
	plx_jsonrpc_send_bool(req, true);
}
PLX_RPC_REGISTER("bdev_nvme_set_hotplug", rpc_bdev_nvme_set_hotplug, PLX_RPC_RUNTIME)

/* ---- bdev_nvme_attach_controller ---- */

struct attach_params {
	char *name;
	char *trtype;
	char *traddr;
	char *adrfam;
	char *trsvcid;
	json_t *priority;
	char *subnqn;
	char *hostnqn;
	char *hostaddr;
	char *hostsvcid;
	bool prchk_reftag;
	bool prchk_guard;
	bool hdgst;
	bool ddgst;
	uint64_t fabrics_connect_timeout_us;
	char *multipath;
	uint32_t num_io_queues;
	int32_t ctrlr_loss_timeout_sec;
	uint32_t reconnect_delay_sec;
	uint32_t fast_io_fail_timeout_sec;
	char *psk;
	uint32_t max_bdevs;
	char *dhchap_key;
	char *dhchap_ctrlr_key;
	bool allow_unrecognized_csi;
	json_t *multipath_opts;
	bool disable_sq_flow_control;
};

/* clang-format off */
#define A(n, t, req) {#n, offsetof(struct attach_params, n), t, req, NULL}
/* clang-format on */
static const struct plx_json_field g_attach_fields[] = {
    A(name, PLX_JSON_STRING, true),
    A(trtype, PLX_JSON_STRING, true),
    A(traddr, PLX_JSON_STRING, true),
    A(adrfam, PLX_JSON_STRING, false),
    A(trsvcid, PLX_JSON_STRING, false),
    A(priority, PLX_JSON_ANY, false),
    A(subnqn, PLX_JSON_STRING, false),
    A(hostnqn, PLX_JSON_STRING, false),
    A(hostaddr, PLX_JSON_STRING, false),
    A(hostsvcid, PLX_JSON_STRING, false),
    A(prchk_reftag, PLX_JSON_BOOL, false),
    A(prchk_guard, PLX_JSON_BOOL, false),
    A(hdgst, PLX_JSON_BOOL, false),
    A(ddgst, PLX_JSON_BOOL, false),
    A(fabrics_connect_timeout_us, PLX_JSON_UINT64, false),
    A(multipath, PLX_JSON_STRING, false),
    A(num_io_queues, PLX_JSON_UINT32, false),
    A(ctrlr_loss_timeout_sec, PLX_JSON_INT32, false),
    A(reconnect_delay_sec, PLX_JSON_UINT32, false),
    A(fast_io_fail_timeout_sec, PLX_JSON_UINT32, false),
    A(psk, PLX_JSON_STRING, false),
    A(max_bdevs, PLX_JSON_UINT32, false),
    A(dhchap_key, PLX_JSON_STRING, false),
    A(dhchap_ctrlr_key, PLX_JSON_STRING, false),
    A(allow_unrecognized_csi, PLX_JSON_BOOL, false),
    A(multipath_opts, PLX_JSON_ANY, false),
    A(disable_sq_flow_control, PLX_JSON_BOOL, false),
};
#undef A

static int copy_str(char *dst, size_t size, const char *src, const char *field, char *err,
		    size_t errlen)
{
	if (src == NULL) {
		return 0;
	}
	if (strlen(src) >= size) {
		snprintf(err, errlen, "%s: longer than %zu characters", field, size - 1);
		return -EINVAL;
	}
	snprintf(dst, size, "%s", src);
	return 0;
}

/* What the transport ID needs, into o->trid; err names the field. */
static int attach_decode_trid(const struct attach_params *p, struct bdev_nvme_attach_opts *o,
			      char *err, size_t errlen)
{
	char terr[PLX_NVME_ERR_LEN] = "";

	if (plx_nvme_trid_from_strings(&o->trid, p->trtype, p->adrfam, p->traddr, p->trsvcid,
				       terr) != 0) {
		snprintf(err, errlen, "%s", terr);
		return -EINVAL;
	}
	if (o->trid.trtype == PLX_NVME_TRTYPE_PCIE) {
		/* A PCIe function has no subsystem address: subnqn is ignored, as SPDK does. */
		return 0;
	}
	if (o->trid.trtype != PLX_NVMF_TRTYPE_TCP) {
		snprintf(err, errlen, "trtype: %s is not supported (TCP or PCIe)", p->trtype);
		return -EINVAL;
	}
	if (p->subnqn == NULL) {
		snprintf(err, errlen, "subnqn: required for trtype TCP");
		return -EINVAL;
	}
	if (!plx_nvmf_nqn_is_valid(p->subnqn)) {
		snprintf(err, errlen, "subnqn: '%s' is not a valid NQN", p->subnqn);
		return -EINVAL;
	}
	return copy_str(o->trid.subnqn, sizeof(o->trid.subnqn), p->subnqn, "subnqn", err, errlen);
}

/* Refused features first (so the message is about them), then the rest, into o. */
static int attach_decode(const struct attach_params *p, struct bdev_nvme_attach_opts *o, char *err,
			 size_t errlen)
{
	if (p->psk != NULL) {
		snprintf(err, errlen, "psk: TLS is not supported");
		return -EINVAL;
	}
	if (p->dhchap_key != NULL || p->dhchap_ctrlr_key != NULL) {
		snprintf(err, errlen, "%s: DH-HMAC-CHAP is not supported",
			 p->dhchap_key != NULL ? "dhchap_key" : "dhchap_ctrlr_key");
		return -EINVAL;
	}
	if (p->name[0] == '\0') {
		snprintf(err, errlen, "name: must not be empty");
		return -EINVAL;
	}
	if (copy_str(o->name, sizeof(o->name), p->name, "name", err, errlen) != 0 ||
	    attach_decode_trid(p, o, err, errlen) != 0) {
		return -EINVAL;
	}
	if (p->hostnqn != NULL && !plx_nvmf_nqn_is_valid(p->hostnqn)) {
		snprintf(err, errlen, "hostnqn: '%s' is not a valid NQN", p->hostnqn);
		return -EINVAL;
	}
	if (copy_str(o->hostnqn, sizeof(o->hostnqn), p->hostnqn, "hostnqn", err, errlen) != 0 ||
	    copy_str(o->hostaddr, sizeof(o->hostaddr), p->hostaddr, "hostaddr", err, errlen) != 0 ||
	    copy_str(o->hostsvcid, sizeof(o->hostsvcid), p->hostsvcid, "hostsvcid", err, errlen) !=
		0) {
		return -EINVAL;
	}
	if (p->priority != NULL && !json_is_string(p->priority) && !json_is_integer(p->priority)) {
		snprintf(err, errlen, "priority: expected a string or an integer");
		return -EINVAL;
	}
	if (p->multipath != NULL && bdev_nvme_mp_mode_from_str(p->multipath, &o->multipath) != 0) {
		snprintf(err, errlen,
			 "multipath: unknown mode '%s' (failover, multipath or disable)",
			 p->multipath);
		return -EINVAL;
	}
	if (p->num_io_queues > 65536) {
		snprintf(err, errlen, "num_io_queues: %" PRIu32 " is outside 1 to 65536",
			 p->num_io_queues);
		return -EINVAL;
	}
	o->num_io_queues = p->num_io_queues;
	o->hdgst = p->hdgst;
	o->ddgst = p->ddgst;
	o->fabrics_connect_timeout_us = p->fabrics_connect_timeout_us;
	o->ctrlr_loss_timeout_sec = p->ctrlr_loss_timeout_sec;
	o->reconnect_delay_sec = p->reconnect_delay_sec;
	o->fast_io_fail_timeout_sec = p->fast_io_fail_timeout_sec;
	if (p->multipath_opts != NULL) {
		o->has_mp_opts = true;
		if (decode_mp_opts(p->multipath_opts, &o->mp_policy, &o->mp_selector,
				   &o->mp_rr_min_io, err, errlen) != 0) {
			return -EINVAL;
		}
	}
	return bdev_nvme_check_reconnect_params(o->ctrlr_loss_timeout_sec, o->reconnect_delay_sec,
						o->fast_io_fail_timeout_sec, err, errlen);
}

static void attach_done(void *cb_arg, int rc, json_t *names, const char *err)
{
	struct plx_jsonrpc_request *req = cb_arg;

	if (rc != 0) {
		send_core_error(req, rc, err);
	} else {
		plx_jsonrpc_send_result(req, names != NULL ? names : json_array());
	}
}

static void rpc_bdev_nvme_attach_controller(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct attach_params p = {0};
	struct bdev_nvme_attach_opts *o;
	char err[ERR_LEN] = "";

	/* The struct holds a few NQN-sized strings: keep it off the RPC thread's stack. */
	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		plx_jsonrpc_send_error(req, -ENOMEM, "out of memory");
		return;
	}
	bdev_nvme_get_default_attach_opts(o);
	p.ctrlr_loss_timeout_sec = o->ctrlr_loss_timeout_sec;
	p.reconnect_delay_sec = o->reconnect_delay_sec;
	p.fast_io_fail_timeout_sec = o->fast_io_fail_timeout_sec;
	p.num_io_queues = o->num_io_queues;
	p.fabrics_connect_timeout_us = o->fabrics_connect_timeout_us;
	if (!plx_rpc_decode_params(req, params, g_attach_fields, PLX_COUNTOF(g_attach_fields),
				   &p)) {
		free(o);
		return;
	}
	if (attach_decode(&p, o, err, sizeof(err)) != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s", err);
		goto out;
	}
	bdev_nvme_attach(o, attach_done, req);
out:
	plx_json_decode_free(g_attach_fields, PLX_COUNTOF(g_attach_fields), &p);
	free(o);
}
PLX_RPC_REGISTER("bdev_nvme_attach_controller", rpc_bdev_nvme_attach_controller, PLX_RPC_RUNTIME)

/* ---- bdev_nvme_detach_controller ---- */

struct detach_params {
	char *name;
	char *trtype;
	char *traddr;
	char *adrfam;
	char *trsvcid;
	char *subnqn;
	char *hostaddr;
	char *hostsvcid;
};

/* clang-format off */
#define D(n, req) {#n, offsetof(struct detach_params, n), PLX_JSON_STRING, req, NULL}
/* clang-format on */
static const struct plx_json_field g_detach_fields[] = {
    D(name, true),     D(trtype, false), D(traddr, false),   D(adrfam, false),
    D(trsvcid, false), D(subnqn, false), D(hostaddr, false), D(hostsvcid, false),
};
#undef D

static const int g_known_trtypes[] = {PLX_NVMF_TRTYPE_RDMA, PLX_NVMF_TRTYPE_FC, PLX_NVMF_TRTYPE_TCP,
				      PLX_NVME_TRTYPE_PCIE};
static const enum plx_nvmf_adrfam g_known_adrfams[] = {PLX_NVMF_ADRFAM_IPV4, PLX_NVMF_ADRFAM_IPV6,
						       PLX_NVMF_ADRFAM_IB, PLX_NVMF_ADRFAM_FC,
						       PLX_NVMF_ADRFAM_INTRA_HOST};

/* The path filter: only what was given narrows it (hostaddr/hostsvcid: accepted, unused). */
static int detach_filter(const struct detach_params *p, struct bdev_nvme_path_filter *f, char *err,
			 size_t errlen)
{
	size_t i;

	if (p->trtype != NULL) {
		for (i = 0; i < PLX_COUNTOF(g_known_trtypes); i++) {
			if (strcasecmp(p->trtype, plx_nvme_trtype_str(g_known_trtypes[i])) == 0) {
				f->trtype = g_known_trtypes[i];
				break;
			}
		}
		if (i == PLX_COUNTOF(g_known_trtypes)) {
			snprintf(err, errlen, "trtype: unknown transport type '%s'", p->trtype);
			return -EINVAL;
		}
	}
	if (p->adrfam != NULL) {
		for (i = 0; i < PLX_COUNTOF(g_known_adrfams); i++) {
			if (strcasecmp(p->adrfam, plx_nvme_adrfam_str(g_known_adrfams[i])) == 0) {
				f->filter_adrfam = true;
				f->adrfam = g_known_adrfams[i];
				break;
			}
		}
		if (i == PLX_COUNTOF(g_known_adrfams)) {
			snprintf(err, errlen, "adrfam: unknown address family '%s'", p->adrfam);
			return -EINVAL;
		}
	}
	if (copy_str(f->traddr, sizeof(f->traddr), p->traddr, "traddr", err, errlen) != 0 ||
	    copy_str(f->trsvcid, sizeof(f->trsvcid), p->trsvcid, "trsvcid", err, errlen) != 0 ||
	    copy_str(f->subnqn, sizeof(f->subnqn), p->subnqn, "subnqn", err, errlen) != 0) {
		return -EINVAL;
	}
	return 0;
}

struct name_ctx {
	struct plx_jsonrpc_request *req;
	bool filtered;
	char name[BDEV_NVME_NAME_MAX];
};

static struct name_ctx *name_ctx_new(struct plx_jsonrpc_request *req, const char *name)
{
	struct name_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		plx_jsonrpc_send_error(req, -ENOMEM, "out of memory");
		return NULL;
	}
	ctx->req = req;
	snprintf(ctx->name, sizeof(ctx->name), "%s", name);
	return ctx;
}

static void send_no_controller(struct plx_jsonrpc_request *req, const char *name, bool filtered)
{
	if (filtered) {
		plx_jsonrpc_send_error(req, -ENODEV,
				       "Controller %s does not exist or has no path matching the "
				       "given transport ID",
				       name);
	} else {
		plx_jsonrpc_send_error(req, -ENODEV, "Controller %s does not exist", name);
	}
}

static void detach_done(void *cb_arg, int rc)
{
	struct name_ctx *ctx = cb_arg;

	if (rc == -ENODEV) {
		send_no_controller(ctx->req, ctx->name, ctx->filtered);
	} else {
		plx_jsonrpc_done_bool(ctx->req, rc);
	}
	free(ctx);
}

static void rpc_bdev_nvme_detach_controller(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct detach_params p = {0};
	struct bdev_nvme_path_filter filter = {0};
	struct name_ctx *ctx;
	char err[ERR_LEN] = "";
	int rc;

	if (!plx_rpc_decode_params(req, params, g_detach_fields, PLX_COUNTOF(g_detach_fields),
				   &p)) {
		return;
	}
	if (detach_filter(&p, &filter, err, sizeof(err)) != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s", err);
		goto out;
	}
	ctx = name_ctx_new(req, p.name);
	if (ctx == NULL) {
		goto out;
	}
	ctx->filtered = p.trtype != NULL || p.traddr != NULL || p.adrfam != NULL ||
			p.trsvcid != NULL || p.subnqn != NULL;
	rc = bdev_nvme_detach(p.name, &filter, detach_done, ctx);
	if (rc != 0) {
		detach_done(ctx, rc);
	}
out:
	plx_json_decode_free(g_detach_fields, PLX_COUNTOF(g_detach_fields), &p);
}
PLX_RPC_REGISTER("bdev_nvme_detach_controller", rpc_bdev_nvme_detach_controller, PLX_RPC_RUNTIME)

/* ---- bdev_nvme_get_controllers, bdev_nvme_get_io_paths ---- */

struct opt_name_params {
	char *name;
};

static const struct plx_json_field g_opt_name_fields[] = {
    {"name", offsetof(struct opt_name_params, name), PLX_JSON_STRING, false, NULL},
};

static void rpc_bdev_nvme_get_controllers(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct opt_name_params p = {0};
	json_t *array;
	int rc;

	if (!plx_rpc_decode_params(req, params, g_opt_name_fields, PLX_COUNTOF(g_opt_name_fields),
				   &p)) {
		return;
	}
	array = json_array();
	if (array == NULL) {
		plx_jsonrpc_send_error(req, -ENOMEM, "out of memory");
		goto out;
	}
	rc = bdev_nvme_ctrlrs_json(p.name, array);
	if (rc == -ENODEV) {
		send_no_controller(req, p.name != NULL ? p.name : "", false);
		json_decref(array);
	} else if (rc != 0) {
		send_core_error(req, rc, NULL);
		json_decref(array);
	} else {
		plx_jsonrpc_send_result(req, array);
	}
out:
	plx_json_decode_free(g_opt_name_fields, PLX_COUNTOF(g_opt_name_fields), &p);
}
PLX_RPC_REGISTER("bdev_nvme_get_controllers", rpc_bdev_nvme_get_controllers, PLX_RPC_RUNTIME)

static void io_paths_done(void *cb_arg, json_t *result)
{
	struct plx_jsonrpc_request *req = cb_arg;

	if (result == NULL) {
		plx_jsonrpc_send_error(req, -ENOMEM, "out of memory");
	} else {
		plx_jsonrpc_send_result(req, result);
	}
}

static void rpc_bdev_nvme_get_io_paths(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct opt_name_params p = {0};
	int rc;

	if (!plx_rpc_decode_params(req, params, g_opt_name_fields, PLX_COUNTOF(g_opt_name_fields),
				   &p)) {
		return;
	}
	rc = bdev_nvme_io_paths_json(p.name, io_paths_done, req);
	if (rc == -ENODEV) {
		plx_jsonrpc_send_error(req, -ENODEV, "NVMe bdev %s does not exist",
				       p.name != NULL ? p.name : "");
	} else if (rc != 0) {
		send_core_error(req, rc, NULL);
	}
	plx_json_decode_free(g_opt_name_fields, PLX_COUNTOF(g_opt_name_fields), &p);
}
PLX_RPC_REGISTER("bdev_nvme_get_io_paths", rpc_bdev_nvme_get_io_paths, PLX_RPC_RUNTIME)

/* ---- bdev_nvme_set_multipath_policy ---- */

struct mp_policy_params {
	char *name;
	char *policy;
	char *selector;
	int64_t rr_min_io;
};

static const struct plx_json_field g_mp_policy_fields[] = {
    {"name", offsetof(struct mp_policy_params, name), PLX_JSON_STRING, true, NULL},
    {"policy", offsetof(struct mp_policy_params, policy), PLX_JSON_STRING, true, NULL},
    {"selector", offsetof(struct mp_policy_params, selector), PLX_JSON_STRING, false, NULL},
    {"rr_min_io", offsetof(struct mp_policy_params, rr_min_io), PLX_JSON_INT64, false, NULL},
};

static void mp_policy_done(void *cb_arg, int rc)
{
	struct name_ctx *ctx = cb_arg;

	plx_jsonrpc_done_bool(ctx->req, rc);
	free(ctx);
}

/*
 * SPDK's rules: a selector only goes with active_active; without one, round robin. rr_min_io
 * (at least 1) defaults to 1.
 */
static int mp_policy_decode(const struct mp_policy_params *p, enum bdev_nvme_mp_policy *policy,
			    enum bdev_nvme_mp_selector *selector, uint32_t *rr_min_io, char *err,
			    size_t errlen)
{
	if (bdev_nvme_mp_policy_from_str(p->policy, policy) != 0) {
		snprintf(err, errlen,
			 "policy: unknown policy '%s' (active_passive or active_active)",
			 p->policy);
		return -EINVAL;
	}
	*selector = BDEV_NVME_MP_SELECTOR_ROUND_ROBIN;
	if (p->selector != NULL) {
		if (bdev_nvme_mp_selector_from_str(p->selector, selector) != 0) {
			snprintf(err, errlen,
				 "selector: unknown selector '%s' (round_robin or queue_depth)",
				 p->selector);
			return -EINVAL;
		}
		if (*policy != BDEV_NVME_MP_POLICY_ACTIVE_ACTIVE) {
			snprintf(err, errlen, "selector: only with policy active_active");
			return -EINVAL;
		}
	}
	if (p->rr_min_io < 1 || p->rr_min_io > UINT32_MAX) {
		snprintf(err, errlen, "rr_min_io: %" PRId64 " is outside 1 to %" PRIu32,
			 p->rr_min_io, UINT32_MAX);
		return -EINVAL;
	}
	*rr_min_io = (uint32_t)p->rr_min_io;
	return 0;
}

static void rpc_bdev_nvme_set_multipath_policy(struct plx_jsonrpc_request *req,
					       const json_t *params)
{
	struct mp_policy_params p = {.rr_min_io = 1};
	enum bdev_nvme_mp_policy policy;
	enum bdev_nvme_mp_selector selector;
	uint32_t rr_min_io;
	struct name_ctx *ctx;
	char err[ERR_LEN] = "";
	int rc;

	if (!plx_rpc_decode_params(req, params, g_mp_policy_fields, PLX_COUNTOF(g_mp_policy_fields),
				   &p)) {
		return;
	}
	if (mp_policy_decode(&p, &policy, &selector, &rr_min_io, err, sizeof(err)) != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s", err);
		goto out;
	}
	ctx = name_ctx_new(req, p.name);
	if (ctx == NULL) {
		goto out;
	}
	rc = bdev_nvme_set_multipath_policy(p.name, policy, selector, rr_min_io, mp_policy_done,
					    ctx, err, sizeof(err));
	if (rc == -ENODEV) {
		plx_jsonrpc_send_error(req, rc, "NVMe bdev %s does not exist", p.name);
		free(ctx);
	} else if (rc == -EINVAL) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS, "%s",
				       err[0] != '\0' ? err : "invalid multipath policy");
		free(ctx);
	} else if (rc != 0) {
		send_core_error(req, rc, err);
		free(ctx);
	}
out:
	plx_json_decode_free(g_mp_policy_fields, PLX_COUNTOF(g_mp_policy_fields), &p);
}
PLX_RPC_REGISTER("bdev_nvme_set_multipath_policy", rpc_bdev_nvme_set_multipath_policy,
		 PLX_RPC_RUNTIME)

/* ---- bdev_nvme_reset_controller ---- */

struct reset_params {
	char *name;
	int32_t cntlid;
};

static const struct plx_json_field g_reset_fields[] = {
    {"name", offsetof(struct reset_params, name), PLX_JSON_STRING, true, NULL},
    {"cntlid", offsetof(struct reset_params, cntlid), PLX_JSON_INT32, false, NULL},
};

/* As SPDK: a reset that ran but failed answers false, not an error. */
static void reset_done(void *cb_arg, int rc)
{
	struct name_ctx *ctx = cb_arg;

	plx_jsonrpc_send_bool(ctx->req, rc == 0);
	free(ctx);
}

static void rpc_bdev_nvme_reset_controller(struct plx_jsonrpc_request *req, const json_t *params)
{
	struct reset_params p = {.cntlid = -1};
	struct name_ctx *ctx;
	bool has_cntlid;
	int rc;

	if (!plx_rpc_decode_params(req, params, g_reset_fields, PLX_COUNTOF(g_reset_fields), &p)) {
		return;
	}
	has_cntlid = json_object_get(params, "cntlid") != NULL;
	if (has_cntlid && (p.cntlid < 0 || p.cntlid > UINT16_MAX)) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "cntlid: %" PRId32 " is outside 0 to 65535", p.cntlid);
		goto out;
	}
	ctx = name_ctx_new(req, p.name);
	if (ctx == NULL) {
		goto out;
	}
	rc = bdev_nvme_reset_rpc(p.name, p.cntlid, reset_done, ctx);
	if (rc == -ENODEV && has_cntlid) {
		plx_jsonrpc_send_error(req, rc, "Controller %s does not exist or has no cntlid %d",
				       p.name, (int)p.cntlid);
		free(ctx);
	} else if (rc == -ENODEV) {
		send_no_controller(req, p.name, false);
		free(ctx);
	} else if (rc != 0) {
		send_core_error(req, rc, NULL);
		free(ctx);
	}
out:
	plx_json_decode_free(g_reset_fields, PLX_COUNTOF(g_reset_fields), &p);
}
PLX_RPC_REGISTER("bdev_nvme_reset_controller", rpc_bdev_nvme_reset_controller, PLX_RPC_RUNTIME)
