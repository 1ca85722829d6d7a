/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Subsystems (app thread): creation and deletion, allowed hosts, controller ids, and the
 * lookups Connect needs. Namespaces live in ns.c, listeners in listener.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_internal.h"
#include "nvmf_tgt_internal.h"
#include "pollux/log.h"

/* ---- lookups ---- */

struct nvmf_ns *nvmf_subsystem_get_ns(struct nvmf_subsystem *subsys, uint32_t nsid)
{
	if (nsid == 0 || nsid > subsys->max_nsid) {
		return NULL;
	}
	return subsys->ns[nsid - 1];
}

struct nvmf_ns *nvmf_subsystem_next_ns(struct nvmf_subsystem *subsys, uint32_t prev_nsid)
{
	for (uint32_t nsid = prev_nsid + 1; nsid <= subsys->max_nsid; nsid++) {
		if (subsys->ns[nsid - 1] != NULL) {
			return subsys->ns[nsid - 1];
		}
	}
	return NULL;
}

static struct nvmf_host *subsystem_find_host(struct nvmf_subsystem *subsys, const char *hostnqn)
{
	struct nvmf_host *host;

	TAILQ_FOREACH(host, &subsys->hosts, link)
	{
		if (strcmp(host->nqn, hostnqn) == 0) {
			return host;
		}
	}
	return NULL;
}

bool nvmf_subsystem_host_allowed(struct nvmf_subsystem *subsys, const char *hostnqn)
{
	return subsys->allow_any_host || subsystem_find_host(subsys, hostnqn) != NULL;
}

/* ---- controllers ---- */

static bool cntlid_in_use(struct nvmf_subsystem *subsys, uint16_t cntlid)
{
	struct nvmf_ctrlr *ctrlr;

	TAILQ_FOREACH(ctrlr, &subsys->ctrlrs, link)
	{
		if (ctrlr->cntlid == cntlid) {
			return true;
		}
	}
	return false;
}

int nvmf_subsystem_add_ctrlr(struct nvmf_subsystem *subsys, struct nvmf_ctrlr *ctrlr)
{
	uint32_t span = (uint32_t)subsys->max_cntlid - subsys->min_cntlid + 1;

	if (subsys->destroying) {
		return -EBUSY;
	}
	/* Rotate through the range so a reconnecting host rarely gets the id it just dropped. */
	for (uint32_t i = 0; i < span; i++) {
		uint16_t id = subsys->next_cntlid;

		subsys->next_cntlid = id == subsys->max_cntlid ? subsys->min_cntlid : id + 1;
		if (!cntlid_in_use(subsys, id)) {
			ctrlr->cntlid = id;
			TAILQ_INSERT_TAIL(&subsys->ctrlrs, ctrlr, link);
			return 0;
		}
	}
	PLX_ERRLOG("subsystem %s: no free controller id in %u-%u", subsys->subnqn,
		   subsys->min_cntlid, subsys->max_cntlid);
	return -EBUSY;
}

void nvmf_subsystem_remove_ctrlr(struct nvmf_subsystem *subsys, struct nvmf_ctrlr *ctrlr)
{
	TAILQ_REMOVE(&subsys->ctrlrs, ctrlr, link);
	if (subsys->destroying && TAILQ_EMPTY(&subsys->ctrlrs) && subsys->on_ctrlrs_gone != NULL) {
		void (*fn)(void *) = subsys->on_ctrlrs_gone;

		subsys->on_ctrlrs_gone = NULL;
		fn(subsys);
	}
}

struct nvmf_ctrlr *nvmf_subsystem_get_ctrlr(struct nvmf_subsystem *subsys, uint16_t cntlid)
{
	struct nvmf_ctrlr *ctrlr;

	TAILQ_FOREACH(ctrlr, &subsys->ctrlrs, link)
	{
		if (ctrlr->cntlid == cntlid) {
			return ctrlr;
		}
	}
	return NULL;
}

/* ---- creation ---- */

static void pad_copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

static int subsystem_check_opts(struct nvmf_tgt *tgt, const struct nvmf_subsystem_opts *o,
				char *err)
{
	if (!plx_nvmf_nqn_is_valid(o->nqn)) {
		snprintf(err, PLX_NVMF_ERR_LEN, "nqn: '%s' is not a valid NQN", o->nqn);
		return -EINVAL;
	}
	if (nvmf_tgt_find_subsystem(tgt, o->nqn) != NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "nqn: subsystem %s already exists", o->nqn);
		return -EEXIST;
	}
	if (o->sn != NULL && (strlen(o->sn) > 20 || o->sn[0] == '\0')) {
		snprintf(err, PLX_NVMF_ERR_LEN, "serial_number: must be 1 to 20 characters");
		return -EINVAL;
	}
	if (o->mn != NULL && (strlen(o->mn) > 40 || o->mn[0] == '\0')) {
		snprintf(err, PLX_NVMF_ERR_LEN, "model_number: must be 1 to 40 characters");
		return -EINVAL;
	}
	for (const char *p = o->sn; p != NULL && *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e) {
			snprintf(err, PLX_NVMF_ERR_LEN, "serial_number: non-printable character");
			return -EINVAL;
		}
	}
	if (o->max_namespaces > NVMF_MAX_NAMESPACES_LIMIT) {
		snprintf(err, PLX_NVMF_ERR_LEN, "max_namespaces: %u is above the limit %u",
			 o->max_namespaces, NVMF_MAX_NAMESPACES_LIMIT);
		return -EINVAL;
	}
	if (o->min_cntlid < NVMF_MIN_CNTLID || o->max_cntlid > NVMF_MAX_CNTLID ||
	    o->min_cntlid > o->max_cntlid) {
		snprintf(err, PLX_NVMF_ERR_LEN,
			 "min_cntlid/max_cntlid: need %u <= min_cntlid <= max_cntlid <= %u",
			 NVMF_MIN_CNTLID, NVMF_MAX_CNTLID);
		return -EINVAL;
	}
	return 0;
}

void nvmf_subsystem_opts_init(struct nvmf_subsystem_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_namespaces = NVMF_DEFAULT_MAX_NAMESPACES;
	o->min_cntlid = NVMF_MIN_CNTLID;
	o->max_cntlid = NVMF_MAX_CNTLID;
	o->subtype = NVMF_SUBTYPE_NVME;
}

struct subsys_op_ctx {
	struct nvmf_subsystem *subsys;
	void (*cb)(void *cb_arg, int rc);
	void *cb_arg;
	int rc;
};

static void pg_subsys_alloc(struct nvmf_poll_group *group, void *arg)
{
	struct subsys_op_ctx *ctx = arg;

	if (nvmf_pg_subsystem_alloc(group, ctx->subsys) != 0) {
		ctx->rc = -ENOMEM;
	}
	nvmf_poll_group_continue(group, ctx);
}

static void subsys_create_done(void *arg)
{
	struct subsys_op_ctx *ctx = arg;

	if (ctx->rc == 0) {
		nvmf_tgt_discovery_changed(ctx->subsys->tgt);
	}
	if (ctx->cb != NULL) {
		ctx->cb(ctx->cb_arg, ctx->rc);
	}
	free(ctx);
}

struct nvmf_subsystem *nvmf_subsystem_alloc(struct nvmf_tgt *tgt,
					    const struct nvmf_subsystem_opts *o, char *err, int *rc)
{
	struct nvmf_subsystem *s;
	uint32_t id;

	*rc = subsystem_check_opts(tgt, o, err);
	if (*rc != 0) {
		return NULL;
	}
	for (id = 0; id < tgt->max_subsystems && tgt->subsystems[id] != NULL; id++) {
	}
	if (id == tgt->max_subsystems) {
		snprintf(err, PLX_NVMF_ERR_LEN, "nqn: the target already has max_subsystems (%u)",
			 tgt->max_subsystems);
		*rc = -ENOSPC;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s != NULL) {
		s->max_nsid =
		    o->max_namespaces == 0 ? NVMF_DEFAULT_MAX_NAMESPACES : o->max_namespaces;
		s->ns = calloc(s->max_nsid, sizeof(*s->ns));
	}
	if (s == NULL || s->ns == NULL) {
		free(s);
		*rc = -ENOMEM;
		return NULL;
	}
	s->tgt = tgt;
	s->id = id;
	s->subtype = o->subtype;
	pad_copy(s->subnqn, sizeof(s->subnqn), o->nqn);
	pad_copy(s->sn, sizeof(s->sn), o->sn != NULL ? o->sn : NVMF_DEFAULT_SN);
	pad_copy(s->mn, sizeof(s->mn), o->mn != NULL ? o->mn : NVMF_DEFAULT_MN);
	s->allow_any_host = o->allow_any_host;
	s->ana_reporting = o->ana_reporting;
	s->min_cntlid = o->min_cntlid;
	s->max_cntlid = o->max_cntlid;
	s->next_cntlid = o->min_cntlid;
	TAILQ_INIT(&s->hosts);
	TAILQ_INIT(&s->listeners);
	TAILQ_INIT(&s->retired_listeners);
	TAILQ_INIT(&s->ctrlrs);
	tgt->subsystems[id] = s;
	return s;
}

int nvmf_subsystem_create(struct nvmf_tgt *tgt, const struct nvmf_subsystem_opts *o,
			  void (*cb)(void *cb_arg, int rc), void *cb_arg, char *err)
{
	struct subsys_op_ctx *ctx = calloc(1, sizeof(*ctx));
	int rc;

	if (ctx == NULL) {
		return -ENOMEM;
	}
	ctx->subsys = nvmf_subsystem_alloc(tgt, o, err, &rc);
	if (ctx->subsys == NULL) {
		free(ctx);
		return rc;
	}
	ctx->cb = cb;
	ctx->cb_arg = cb_arg;
	nvmf_tgt_for_each_poll_group(tgt, pg_subsys_alloc, ctx, subsys_create_done);
	return 0;
}

/* ---- deletion ---- */

static void pg_subsys_free(struct nvmf_poll_group *group, void *arg)
{
	struct subsys_op_ctx *ctx = arg;

	nvmf_pg_subsystem_free(group, ctx->subsys);
	nvmf_poll_group_continue(group, ctx);
}

static void subsys_free(struct nvmf_subsystem *s)
{
	struct nvmf_host *host;
	struct nvmf_subsystem_listener *l;

	while ((host = TAILQ_FIRST(&s->hosts)) != NULL) {
		TAILQ_REMOVE(&s->hosts, host, link);
		free(host);
	}
	while ((l = TAILQ_FIRST(&s->listeners)) != NULL) {
		nvmf_subsystem_listener_detach(s, l);
	}
	while ((l = TAILQ_FIRST(&s->retired_listeners)) != NULL) {
		TAILQ_REMOVE(&s->retired_listeners, l, link);
		free(l->ana_state);
		free(l);
	}
	free(s->ns);
	free(s);
}

static void subsys_delete_done(void *arg)
{
	struct subsys_op_ctx *ctx = arg;
	struct nvmf_subsystem *s = ctx->subsys;
	struct nvmf_tgt *tgt = s->tgt;

	tgt->subsystems[s->id] = NULL;
	if (s == tgt->discovery) {
		tgt->discovery = NULL; /* shutting down: nobody left to tell */
	}
	subsys_free(s);
	if (tgt->discovery != NULL) {
		nvmf_tgt_discovery_changed(tgt);
	}
	if (ctx->cb != NULL) {
		ctx->cb(ctx->cb_arg, 0);
	}
	free(ctx);
}

static void subsys_delete_namespaces(void *arg);

static void subsys_ns_removed(void *arg, int rc)
{
	(void)rc;
	subsys_delete_namespaces(arg);
}

/* Namespaces go one at a time (each drains its I/O on every poll group), then the views. */
static void subsys_delete_namespaces(void *arg)
{
	struct subsys_op_ctx *ctx = arg;
	struct nvmf_subsystem *s = ctx->subsys;
	struct nvmf_ns *ns = nvmf_subsystem_next_ns(s, 0);

	if (ns != NULL) {
		nvmf_subsystem_remove_ns(s, ns->nsid, subsys_ns_removed, ctx, NULL);
		return;
	}
	nvmf_tgt_for_each_poll_group(s->tgt, pg_subsys_free, ctx, subsys_delete_done);
}

static void subsys_ctrlrs_gone(void *arg)
{
	struct nvmf_subsystem *s = arg;

	subsys_delete_namespaces(s->delete_ctx);
}

int nvmf_subsystem_delete(struct nvmf_subsystem *s, void (*cb)(void *cb_arg, int rc), void *cb_arg)
{
	struct subsys_op_ctx *ctx;
	struct nvmf_ctrlr *ctrlr;

	if (s->destroying) {
		return -EBUSY;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return -ENOMEM;
	}
	ctx->subsys = s;
	ctx->cb = cb;
	ctx->cb_arg = cb_arg;
	s->destroying = true;
	s->delete_ctx = ctx;
	if (TAILQ_EMPTY(&s->ctrlrs)) {
		subsys_delete_namespaces(ctx);
		return 0;
	}
	s->on_ctrlrs_gone = subsys_ctrlrs_gone;
	TAILQ_FOREACH(ctrlr, &s->ctrlrs, link)
	{
		nvmf_ctrlr_disconnect_async(ctrlr);
	}
	return 0;
}

/* ---- hosts ---- */

static void disconnect_host_ctrlrs(struct nvmf_subsystem *s, const char *hostnqn)
{
	struct nvmf_ctrlr *ctrlr;

	TAILQ_FOREACH(ctrlr, &s->ctrlrs, link)
	{
		if (hostnqn == NULL || strcmp(ctrlr->hostnqn, hostnqn) == 0) {
			nvmf_ctrlr_disconnect_async(ctrlr);
		}
	}
}

int nvmf_subsystem_add_host(struct nvmf_subsystem *s, const char *hostnqn, char *err)
{
	struct nvmf_host *host;

	if (!plx_nvmf_nqn_is_valid(hostnqn)) {
		snprintf(err, PLX_NVMF_ERR_LEN, "host: '%s' is not a valid NQN", hostnqn);
		return -EINVAL;
	}
	if (subsystem_find_host(s, hostnqn) != NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "host: %s is already allowed on %s", hostnqn,
			 s->subnqn);
		return -EINVAL;
	}
	host = calloc(1, sizeof(*host));
	if (host == NULL) {
		return -ENOMEM;
	}
	pad_copy(host->nqn, sizeof(host->nqn), hostnqn);
	TAILQ_INSERT_TAIL(&s->hosts, host, link);
	nvmf_tgt_discovery_changed(s->tgt);
	return 0;
}

int nvmf_subsystem_remove_host(struct nvmf_subsystem *s, const char *hostnqn, char *err)
{
	struct nvmf_host *host = subsystem_find_host(s, hostnqn);

	if (host == NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "host: %s is not on the allowed list of %s",
			 hostnqn, s->subnqn);
		return -ENOENT;
	}
	TAILQ_REMOVE(&s->hosts, host, link);
	free(host);
	if (!s->allow_any_host) {
		disconnect_host_ctrlrs(s, hostnqn);
	}
	nvmf_tgt_discovery_changed(s->tgt);
	return 0;
}

void nvmf_subsystem_set_allow_any_host(struct nvmf_subsystem *s, bool allow)
{
	struct nvmf_ctrlr *ctrlr;

	s->allow_any_host = allow;
	if (!allow) {
		/* Hosts that were only in through allow_any_host lose access now. */
		TAILQ_FOREACH(ctrlr, &s->ctrlrs, link)
		{
			if (subsystem_find_host(s, ctrlr->hostnqn) == NULL) {
				nvmf_ctrlr_disconnect_async(ctrlr);
			}
		}
	}
	nvmf_tgt_discovery_changed(s->tgt);
}
