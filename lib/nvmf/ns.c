/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Namespaces (app thread): attach a bdev to a subsystem, detach it (draining the I/O every
 * poll group has in flight on it), hot removal, ANA group changes, and the notices
 * controllers get about all of it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_internal.h"
#include "nvmf_tgt_internal.h"
#include "pollux/log.h"

static void notify_all(struct nvmf_subsystem *s, enum nvmf_notice notice, uint32_t nsid)
{
	struct nvmf_ctrlr *ctrlr;

	TAILQ_FOREACH(ctrlr, &s->ctrlrs, link)
	{
		nvmf_ctrlr_notify(ctrlr, notice, nsid, 0);
	}
}

struct ns_op_ctx {
	struct nvmf_ns *ns;
	struct plx_poller *drain_poller;
	struct nvmf_poll_group *draining;
	void (*cb)(void *cb_arg, int rc);
	void *cb_arg;
};

static void ns_bdev_event(enum plx_bdev_event_type type, struct plx_bdev *bdev, void *ctx)
{
	struct nvmf_ns *ns = ctx;
	struct nvmf_subsystem *s = ns->subsystem;

	if (nvmf_subsystem_get_ns(s, ns->nsid) != ns) {
		return; /* already being removed */
	}
	switch (type) {
	case PLX_BDEV_EVENT_REMOVE:
		PLX_NOTICELOG("bdev %s removed: detaching namespace %u of %s",
			      plx_bdev_get_name(bdev), ns->nsid, s->subnqn);
		nvmf_subsystem_remove_ns(s, ns->nsid, NULL, NULL, NULL);
		break;
	case PLX_BDEV_EVENT_RESIZE:
		notify_all(s, NVMF_NOTICE_NS_CHANGED, ns->nsid);
		break;
	default:
		break;
	}
}

/* ---- attach ---- */

static void pg_ns_attach(struct nvmf_poll_group *group, void *arg)
{
	struct ns_op_ctx *ctx = arg;
	struct nvmf_ns *ns = ctx->ns;
	struct nvmf_pg_ns *pg_ns =
	    nvmf_pg_get_ns(nvmf_pg_get_sgroup(group, ns->subsystem), ns->nsid);

	pg_ns->ns = ns;
	pg_ns->ch = plx_bdev_get_io_channel(ns->desc);
	if (pg_ns->ch == NULL) {
		PLX_ERRLOG("poll group %s: no channel for bdev %s", group->name,
			   plx_bdev_get_name(ns->bdev));
	}
	nvmf_ns_reservation_snapshot(ns, pg_ns);
	pg_ns->state = pg_ns->ch != NULL ? NVMF_PG_NS_ACTIVE : NVMF_PG_NS_INACTIVE;
	nvmf_poll_group_continue(group, ctx);
}

static void ns_attach_done(void *arg)
{
	struct ns_op_ctx *ctx = arg;
	struct nvmf_subsystem *s = ctx->ns->subsystem;

	notify_all(s, NVMF_NOTICE_NS_CHANGED, ctx->ns->nsid);
	if (s->ana_reporting) {
		s->ana_change_count++;
		notify_all(s, NVMF_NOTICE_ANA_CHANGED, ctx->ns->nsid);
	}
	if (ctx->cb != NULL) {
		ctx->cb(ctx->cb_arg, 0);
	}
	free(ctx);
}

static int ns_check_opts(struct nvmf_subsystem *s, const struct nvmf_ns_opts *o, char *err)
{
	if (s->subtype == NVMF_SUBTYPE_DISCOVERY) {
		snprintf(err, PLX_NVMF_ERR_LEN, "nqn: the discovery subsystem has no namespaces");
		return -EINVAL;
	}
	if (s->destroying) {
		snprintf(err, PLX_NVMF_ERR_LEN, "nqn: subsystem %s is being deleted", s->subnqn);
		return -EBUSY;
	}
	if (o->nsid > s->max_nsid || o->nsid == 0xffffffffu) {
		snprintf(err, PLX_NVMF_ERR_LEN, "nsid: %u is above max_namespaces (%u) of %s",
			 o->nsid, s->max_nsid, s->subnqn);
		return -EINVAL;
	}
	if (o->nsid != 0 && s->ns[o->nsid - 1] != NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "nsid: %u is already in use in %s", o->nsid,
			 s->subnqn);
		return -EEXIST;
	}
	if (o->anagrpid > s->max_nsid) {
		snprintf(err, PLX_NVMF_ERR_LEN, "anagrpid: %u is above max_namespaces (%u)",
			 o->anagrpid, s->max_nsid);
		return -EINVAL;
	}
	if (plx_bdev_get_by_name(o->bdev_name) == NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "bdev_name: bdev %s not found", o->bdev_name);
		return -ENODEV;
	}
	for (uint32_t i = 0; i < s->max_nsid; i++) {
		struct nvmf_ns *other = s->ns[i];

		if (other != NULL && strcmp(plx_bdev_get_name(other->bdev), o->bdev_name) == 0) {
			snprintf(err, PLX_NVMF_ERR_LEN,
				 "bdev_name: bdev %s is already namespace %u", o->bdev_name,
				 other->nsid);
			return -EEXIST;
		}
	}
	return 0;
}

static uint32_t ns_pick_nsid(struct nvmf_subsystem *s, uint32_t want)
{
	if (want != 0) {
		return want;
	}
	for (uint32_t i = 0; i < s->max_nsid; i++) {
		if (s->ns[i] == NULL) {
			return i + 1;
		}
	}
	return 0;
}

static void ns_fill_ids(struct nvmf_ns *ns, const struct nvmf_ns_opts *o)
{
	ns->uuid_set = o->uuid_set;
	ns->uuid = o->uuid_set ? o->uuid : *plx_bdev_get_uuid(ns->bdev);
	ns->nguid_set = o->nguid_set;
	if (o->nguid_set) {
		memcpy(ns->nguid, o->nguid, sizeof(ns->nguid));
	} else {
		/* As SPDK does: the NGUID defaults to the bytes of the UUID. */
		memcpy(ns->nguid, &ns->uuid, sizeof(ns->nguid));
	}
	ns->eui64_set = o->eui64_set;
	if (o->eui64_set) {
		memcpy(ns->eui64, o->eui64, sizeof(ns->eui64));
	}
}

int nvmf_subsystem_add_ns(struct nvmf_subsystem *s, const struct nvmf_ns_opts *o,
			  uint32_t *nsid_out, void (*cb)(void *cb_arg, int rc), void *cb_arg,
			  char *err)
{
	struct ns_op_ctx *ctx;
	struct nvmf_ns *ns;
	uint32_t nsid;
	int rc;

	rc = ns_check_opts(s, o, err);
	if (rc != 0) {
		return rc;
	}
	nsid = ns_pick_nsid(s, o->nsid);
	if (nsid == 0) {
		snprintf(err, PLX_NVMF_ERR_LEN, "nqn: all %u namespace ids of %s are in use",
			 s->max_nsid, s->subnqn);
		return -ENOSPC;
	}
	ns = calloc(1, sizeof(*ns));
	ctx = calloc(1, sizeof(*ctx));
	if (ns == NULL || ctx == NULL) {
		free(ns);
		free(ctx);
		return -ENOMEM;
	}
	ns->subsystem = s;
	ns->nsid = nsid;
	ns->anagrpid = o->anagrpid != 0 ? o->anagrpid : nsid;
	ns->no_auto_visible = o->no_auto_visible;
	TAILQ_INIT(&ns->resv.registrants);
	rc = plx_bdev_open_ext(o->bdev_name, true, ns_bdev_event, ns, &ns->desc);
	if (rc != 0) {
		snprintf(err, PLX_NVMF_ERR_LEN, "bdev_name: cannot open bdev %s: %s", o->bdev_name,
			 strerror(-rc));
		free(ns);
		free(ctx);
		return rc;
	}
	ns->bdev = plx_bdev_desc_get_bdev(ns->desc);
	ns_fill_ids(ns, o);
	if (o->ptpl_file != NULL) {
		snprintf(ns->ptpl_file, sizeof(ns->ptpl_file), "%s", o->ptpl_file);
		rc = nvmf_ns_reservation_load(ns);
		if (rc != 0) {
			snprintf(err, PLX_NVMF_ERR_LEN, "ptpl_file: cannot load %s: %s",
				 o->ptpl_file, strerror(-rc));
			plx_bdev_close(ns->desc);
			free(ns);
			free(ctx);
			return rc;
		}
	}
	s->ns[nsid - 1] = ns;
	s->num_ns++;
	*nsid_out = nsid;
	ctx->ns = ns;
	ctx->cb = cb;
	ctx->cb_arg = cb_arg;
	nvmf_tgt_for_each_poll_group(s->tgt, pg_ns_attach, ctx, ns_attach_done);
	return 0;
}

/* ---- detach ---- */

static void pg_ns_finish_detach(struct nvmf_poll_group *group, struct ns_op_ctx *ctx)
{
	struct nvmf_ns *ns = ctx->ns;
	struct nvmf_pg_ns *pg_ns =
	    nvmf_pg_get_ns(nvmf_pg_get_sgroup(group, ns->subsystem), ns->nsid);

	if (pg_ns->ch != NULL) {
		plx_put_io_channel(pg_ns->ch);
	}
	pg_ns->ch = NULL;
	pg_ns->ns = NULL;
	pg_ns->state = NVMF_PG_NS_INACTIVE;
	/* Commands that waited now find no namespace and fail with Invalid Namespace. */
	nvmf_pg_ns_resume_pending(pg_ns);
	nvmf_poll_group_continue(group, ctx);
}

static int pg_ns_drain_poll(void *arg)
{
	struct ns_op_ctx *ctx = arg;
	struct nvmf_poll_group *group = ctx->draining;
	struct nvmf_pg_ns *pg_ns =
	    nvmf_pg_get_ns(nvmf_pg_get_sgroup(group, ctx->ns->subsystem), ctx->ns->nsid);

	if (pg_ns->io_outstanding > 0) {
		return PLX_POLLER_IDLE;
	}
	plx_poller_unregister(&ctx->drain_poller);
	pg_ns_finish_detach(group, ctx);
	return PLX_POLLER_BUSY;
}

static void pg_ns_detach(struct nvmf_poll_group *group, void *arg)
{
	struct ns_op_ctx *ctx = arg;
	struct nvmf_ns *ns = ctx->ns;
	struct nvmf_pg_ns *pg_ns =
	    nvmf_pg_get_ns(nvmf_pg_get_sgroup(group, ns->subsystem), ns->nsid);

	pg_ns->state = NVMF_PG_NS_PAUSED;
	if (pg_ns->io_outstanding == 0) {
		pg_ns_finish_detach(group, ctx);
		return;
	}
	ctx->draining = group;
	ctx->drain_poller = plx_poller_register_named(pg_ns_drain_poll, ctx, 100, "nvmf_ns_drain");
}

static void ns_detach_done(void *arg)
{
	struct ns_op_ctx *ctx = arg;
	struct nvmf_ns *ns = ctx->ns;
	struct nvmf_subsystem *s = ns->subsystem;
	struct nvmf_reservation_registrant *reg;

	plx_bdev_close(ns->desc);
	notify_all(s, NVMF_NOTICE_NS_CHANGED, ns->nsid);
	if (s->ana_reporting) {
		s->ana_change_count++;
		notify_all(s, NVMF_NOTICE_ANA_CHANGED, ns->nsid);
	}
	while ((reg = TAILQ_FIRST(&ns->resv.registrants)) != NULL) {
		TAILQ_REMOVE(&ns->resv.registrants, reg, link);
		free(reg);
	}
	free(ns);
	if (ctx->cb != NULL) {
		ctx->cb(ctx->cb_arg, 0);
	}
	free(ctx);
}

int nvmf_subsystem_remove_ns(struct nvmf_subsystem *s, uint32_t nsid,
			     void (*cb)(void *cb_arg, int rc), void *cb_arg, char *err)
{
	struct nvmf_ns *ns = nvmf_subsystem_get_ns(s, nsid);
	struct ns_op_ctx *ctx;

	if (ns == NULL) {
		if (err != NULL) {
			snprintf(err, PLX_NVMF_ERR_LEN, "nsid: %s has no namespace %u", s->subnqn,
				 nsid);
		}
		return -ENOENT;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return -ENOMEM;
	}
	/* Gone for the configuration at once; poll groups follow as they drain. */
	s->ns[nsid - 1] = NULL;
	s->num_ns--;
	ctx->ns = ns;
	ctx->cb = cb;
	ctx->cb_arg = cb_arg;
	nvmf_tgt_for_each_poll_group(s->tgt, pg_ns_detach, ctx, ns_detach_done);
	return 0;
}

/* ---- ANA groups ---- */

int nvmf_subsystem_set_ns_ana_group(struct nvmf_subsystem *s, uint32_t nsid, uint32_t anagrpid,
				    char *err)
{
	struct nvmf_ns *ns = nvmf_subsystem_get_ns(s, nsid);

	if (ns == NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "nsid: %s has no namespace %u", s->subnqn, nsid);
		return -ENOENT;
	}
	if (anagrpid == 0 || anagrpid > s->max_nsid) {
		snprintf(err, PLX_NVMF_ERR_LEN, "anagrpid: %u is outside 1 to %u", anagrpid,
			 s->max_nsid);
		return -EINVAL;
	}
	/* Poll groups read anagrpid on every command; a single aligned store keeps it whole. */
	__atomic_store_n(&ns->anagrpid, anagrpid, __ATOMIC_RELAXED);
	s->ana_change_count++;
	notify_all(s, NVMF_NOTICE_ANA_CHANGED, nsid);
	return 0;
}
