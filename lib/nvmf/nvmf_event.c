/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "nvmf" event subsystem: creates the target and its poll groups at start-up, tears them
 * down at shutdown, and writes the configuration save_config returns (SPDK's method order).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_event.h"
#include "nvmf_internal.h"
#include "nvmf_rpc.h"
#include "nvmf_tgt_internal.h"
#include "pollux/event.h"
#include "pollux/log.h"

static uint32_t g_max_subsystems = NVMF_DEFAULT_MAX_SUBSYSTEMS;
/* SPDK's defaults: every DH-HMAC-CHAP digest and group allowed. */
static struct nvmf_tgt_config g_conf = {.dhchap_digests = 0x7, .dhchap_dhgroups = 0x3f};

struct nvmf_tgt_config *nvmf_event_config(void)
{
	return &g_conf;
}

int nvmf_event_set_max_subsystems(uint32_t max)
{
	if (nvmf_get_tgt() != NULL) {
		return -EPERM;
	}
	g_max_subsystems = max;
	return 0;
}

uint32_t nvmf_event_get_max_subsystems(void)
{
	return g_max_subsystems;
}

/* ---- init ---- */

static void init_discovery_views(struct nvmf_poll_group *group, void *ctx)
{
	nvmf_pg_subsystem_alloc(group, nvmf_get_tgt()->discovery);
	nvmf_poll_group_continue(group, ctx);
}

static void init_done(void *ctx)
{
	plx_subsystem_init_next(0);
}

static void poll_groups_created(void *cb_arg, int rc)
{
	if (rc != 0) {
		plx_subsystem_init_next(rc);
		return;
	}
	nvmf_tgt_for_each_poll_group(nvmf_get_tgt(), init_discovery_views, NULL, init_done);
}

static void nvmf_subsystem_init(void)
{
	struct nvmf_subsystem_opts o;
	struct nvmf_tgt *tgt;
	char err[PLX_NVMF_ERR_LEN] = "";
	int rc;

	tgt = nvmf_tgt_alloc(g_max_subsystems, &g_conf);
	if (tgt == NULL) {
		plx_subsystem_init_next(-ENOMEM);
		return;
	}
	nvmf_tgt_set(tgt);
	nvmf_subsystem_opts_init(&o);
	o.nqn = PLX_NVMF_DISCOVERY_NQN;
	o.subtype = NVMF_SUBTYPE_DISCOVERY;
	o.allow_any_host = true;
	o.max_namespaces = 0;
	tgt->discovery = nvmf_subsystem_alloc(tgt, &o, err, &rc);
	if (tgt->discovery == NULL) {
		PLX_ERRLOG("cannot create the discovery subsystem: %s", err);
		plx_subsystem_init_next(rc);
		return;
	}
	tgt->discovery->max_nsid = 0;
	rc = nvmf_tgt_create_poll_groups(tgt, poll_groups_created, NULL);
	if (rc != 0) {
		PLX_ERRLOG("cannot create the nvmf poll groups: %s", strerror(-rc));
		plx_subsystem_init_next(rc);
	}
}

/* ---- fini ---- */

static void fini_delete_next(void);

static void fini_transports(void *arg)
{
	struct nvmf_tgt *tgt = nvmf_get_tgt();
	struct nvmf_transport *t;

	while ((t = TAILQ_FIRST(&tgt->transports)) != NULL) {
		TAILQ_REMOVE(&tgt->transports, t, link);
		t->ops->destroy(t);
	}
	nvmf_tgt_set(NULL);
	nvmf_tgt_free(tgt);
	plx_subsystem_fini_next();
}

static void fini_subsystem_deleted(void *cb_arg, int rc)
{
	fini_delete_next();
}

/* Subsystems go one at a time, the discovery subsystem (id 0) last, then the poll groups. */
static void fini_delete_next(void)
{
	struct nvmf_tgt *tgt = nvmf_get_tgt();

	for (uint32_t i = tgt->max_subsystems; i-- > 0;) {
		struct nvmf_subsystem *s = tgt->subsystems[i];

		if (s != NULL && !s->destroying) {
			if (nvmf_subsystem_delete(s, fini_subsystem_deleted, NULL) == 0) {
				return;
			}
		}
	}
	nvmf_tgt_destroy_poll_groups(tgt, fini_transports, NULL);
}

static void nvmf_subsystem_fini(void)
{
	if (nvmf_get_tgt() == NULL) {
		plx_subsystem_fini_next();
		return;
	}
	fini_delete_next();
}

/* ---- save_config ---- */

static void add_method(json_t *config, const char *method, json_t *params)
{
	json_array_append_new(config, json_pack("{s:s, s:o}", "method", method, "params", params));
}

json_t *nvmf_transport_opts_json(struct nvmf_transport *t)
{
	const struct nvmf_transport_opts *o = &t->opts;
	json_t *p = json_object();

	json_object_set_new(p, "trtype", json_string(t->ops->name));
	json_object_set_new(p, "max_queue_depth", json_integer(o->max_queue_depth));
	json_object_set_new(p, "max_io_qpairs_per_ctrlr",
			    json_integer(o->max_qpairs_per_ctrlr - 1));
	json_object_set_new(p, "in_capsule_data_size", json_integer(o->in_capsule_data_size));
	json_object_set_new(p, "max_io_size", json_integer(o->max_io_size));
	json_object_set_new(p, "io_unit_size", json_integer(o->io_unit_size));
	json_object_set_new(p, "max_aq_depth", json_integer(o->max_aq_depth));
	json_object_set_new(p, "num_shared_buffers", json_integer(o->num_shared_buffers));
	json_object_set_new(p, "buf_cache_size", json_integer(o->buf_cache_size));
	json_object_set_new(p, "iobuf_small_cache_size", json_integer(o->iobuf_small_cache_size));
	json_object_set_new(p, "iobuf_large_cache_size", json_integer(o->iobuf_large_cache_size));
	json_object_set_new(p, "dif_insert_or_strip", json_boolean(o->dif_insert_or_strip));
	json_object_set_new(p, "zcopy", json_boolean(o->zcopy));
	json_object_set_new(p, "abort_timeout_sec", json_integer(o->abort_timeout_sec));
	json_object_set_new(p, "ack_timeout", json_integer(o->ack_timeout));
	json_object_set_new(p, "data_wr_pool_size", json_integer(o->data_wr_pool_size));
	json_object_set_new(p, "disable_command_passthru",
			    json_boolean(o->disable_command_passthru));
	json_object_set_new(p, "kas", json_integer(o->kas));
	json_object_set_new(p, "min_kato", json_integer(o->min_kato));
	if (t->ops->dump_opts != NULL) {
		t->ops->dump_opts(t, p);
	}
	return p;
}

static void hex_upper(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sprintf(out + 2 * i, "%02X", b[i]);
	}
}

json_t *nvmf_ns_json(const struct nvmf_ns *ns, bool for_config)
{
	char uuid[PLX_UUID_STRING_LEN], nguid[33], eui64[17];
	json_t *p = json_object();

	plx_uuid_fmt_lower(uuid, sizeof(uuid), &ns->uuid);
	hex_upper(nguid, ns->nguid, 16);
	json_object_set_new(p, "nsid", json_integer(ns->nsid));
	json_object_set_new(p, "bdev_name", json_string(plx_bdev_get_name(ns->bdev)));
	if (!for_config) {
		json_object_set_new(p, "name", json_string(plx_bdev_get_name(ns->bdev)));
	}
	json_object_set_new(p, "nguid", json_string(nguid));
	if (ns->eui64_set) {
		hex_upper(eui64, ns->eui64, 8);
		json_object_set_new(p, "eui64", json_string(eui64));
	}
	json_object_set_new(p, "uuid", json_string(uuid));
	json_object_set_new(p, "anagrpid", json_integer(ns->anagrpid));
	if (ns->ptpl_file[0] != '\0') {
		json_object_set_new(p, "ptpl_file", json_string(ns->ptpl_file));
	}
	json_object_set_new(p, "no_auto_visible", json_boolean(ns->no_auto_visible));
	return p;
}

static void write_subsystem(json_t *config, struct nvmf_subsystem *s)
{
	struct nvmf_subsystem_listener *l;
	struct nvmf_host *host;
	struct nvmf_ns *ns;
	const char *nqn = s->subtype == NVMF_SUBTYPE_DISCOVERY ? "discovery" : s->subnqn;

	if (s->subtype == NVMF_SUBTYPE_NVME) {
		add_method(config, "nvmf_create_subsystem",
			   json_pack("{s:s, s:b, s:s, s:s, s:i, s:i, s:i, s:b}", "nqn", s->subnqn,
				     "allow_any_host", s->allow_any_host, "serial_number", s->sn,
				     "model_number", s->mn, "max_namespaces", s->max_nsid,
				     "min_cntlid", s->min_cntlid, "max_cntlid", s->max_cntlid,
				     "ana_reporting", s->ana_reporting));
	}
	TAILQ_FOREACH(host, &s->hosts, link)
	{
		add_method(config, "nvmf_subsystem_add_host",
			   json_pack("{s:s, s:s}", "nqn", s->subnqn, "host", host->nqn));
	}
	for (ns = nvmf_subsystem_next_ns(s, 0); ns != NULL;
	     ns = nvmf_subsystem_next_ns(s, ns->nsid)) {
		add_method(
		    config, "nvmf_subsystem_add_ns",
		    json_pack("{s:s, s:o}", "nqn", s->subnqn, "namespace", nvmf_ns_json(ns, true)));
	}
	TAILQ_FOREACH(l, &s->listeners, link)
	{
		add_method(config, "nvmf_subsystem_add_listener",
			   json_pack("{s:s, s:o, s:b}", "nqn", nqn, "listen_address",
				     nvmf_rpc_trid_json(&l->trid), "secure_channel", 0));
		if (!s->ana_reporting) {
			continue;
		}
		/* ANA states other than the default optimized are restored per group. */
		for (uint32_t g = 1; g <= s->max_nsid; g++) {
			if (l->ana_state[g - 1] == PLX_NVME_ANA_OPTIMIZED_STATE) {
				continue;
			}
			add_method(
			    config, "nvmf_subsystem_listener_set_ana_state",
			    json_pack("{s:s, s:o, s:s, s:i}", "nqn", s->subnqn, "listen_address",
				      nvmf_rpc_trid_json(&l->trid), "ana_state",
				      plx_nvme_ana_state_str(l->ana_state[g - 1]), "anagrpid", g));
		}
	}
}

json_t *nvmf_config_json(void)
{
	json_t *passthru = json_object();

	for (int i = 0; i < NVMF_ADMIN_PASSTHRU_FLAGS; i++) {
		json_object_set_new(passthru, nvmf_admin_passthru_names[i],
				    json_boolean(g_conf.admin_passthru[i]));
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:s}", "discovery_filters",
			 nvmf_rpc_name_set_json(g_conf.discovery_filter, 0), "admin_cmd_passthru",
			 passthru, "dhchap_digests",
			 nvmf_rpc_name_set_json(g_conf.dhchap_digests, 1), "dhchap_dhgroups",
			 nvmf_rpc_name_set_json(g_conf.dhchap_dhgroups, 2), "dup_host_policy",
			 g_conf.dup_host_policy_restrict ? "restrict_per_listener" : "allow");
}

static void nvmf_write_config(json_t *config)
{
	struct nvmf_tgt *tgt = nvmf_get_tgt();
	struct nvmf_transport *t;
	struct nvmf_referral *r;

	add_method(config, "nvmf_set_config", nvmf_config_json());
	add_method(config, "nvmf_set_max_subsystems",
		   json_pack("{s:i}", "max_subsystems", g_max_subsystems));
	add_method(config, "nvmf_set_crdt",
		   json_pack("{s:i, s:i, s:i}", "crdt1", g_conf.crdt[0], "crdt2", g_conf.crdt[1],
			     "crdt3", g_conf.crdt[2]));
	if (tgt == NULL) {
		return;
	}
	TAILQ_FOREACH(t, &tgt->transports, link)
	{
		add_method(config, "nvmf_create_transport", nvmf_transport_opts_json(t));
	}
	for (uint32_t i = 0; i < tgt->max_subsystems; i++) {
		if (tgt->subsystems[i] != NULL && !tgt->subsystems[i]->destroying) {
			write_subsystem(config, tgt->subsystems[i]);
		}
	}
	TAILQ_FOREACH(r, &tgt->referrals, link)
	{
		add_method(config, "nvmf_discovery_add_referral", nvmf_rpc_referral_json(r));
	}
}

static struct plx_subsystem g_nvmf_subsystem = {
    .name = "nvmf",
    .init = nvmf_subsystem_init,
    .fini = nvmf_subsystem_fini,
    .write_config_json = nvmf_write_config,
};
PLX_SUBSYSTEM_REGISTER(g_nvmf_subsystem)
PLX_SUBSYSTEM_DEPEND(nvmf, bdev)
PLX_SUBSYSTEM_DEPEND(nvmf, sock)
