/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Listeners of subsystems and their ANA states, and discovery referrals (app thread).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_internal.h"
#include "nvmf_tgt_internal.h"
#include "pollux/log.h"

struct nvmf_subsystem_listener *nvmf_subsystem_find_listener(struct nvmf_subsystem *subsys,
							     const struct plx_nvme_trid *trid)
{
	struct nvmf_subsystem_listener *l;

	TAILQ_FOREACH(l, &subsys->listeners, link)
	{
		if (plx_nvme_trid_equal(&l->trid, trid)) {
			return l;
		}
	}
	return NULL;
}

static struct nvmf_transport *listener_transport(struct nvmf_tgt *tgt,
						 const struct plx_nvme_trid *trid, char *err)
{
	struct nvmf_transport *t = nvmf_tgt_find_transport(tgt, trid->trstring);

	if (t == NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN,
			 "listen_address.trtype: no %s transport (create it with "
			 "nvmf_create_transport)",
			 trid->trstring);
	}
	return t;
}

int nvmf_subsystem_add_listener(struct nvmf_subsystem *s, const struct plx_nvme_trid *trid,
				bool have_state, enum plx_nvme_ana_state state, char *err)
{
	struct nvmf_subsystem_listener *l;
	struct nvmf_transport *t = listener_transport(s->tgt, trid, err);
	int rc;

	if (t == NULL) {
		return -EINVAL;
	}
	if (nvmf_subsystem_find_listener(s, trid) != NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "listen_address: %s already listens on %s:%s",
			 s->subnqn, trid->traddr, trid->trsvcid);
		return -EEXIST;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return -ENOMEM;
	}
	/* One slot per possible ANA group id; at least one so the array always exists. */
	l->ana_state = calloc(s->max_nsid + 1, sizeof(*l->ana_state));
	if (l->ana_state == NULL) {
		free(l);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i <= s->max_nsid; i++) {
		l->ana_state[i] = have_state ? state : PLX_NVME_ANA_OPTIMIZED_STATE;
	}
	rc = nvmf_tgt_listen(s->tgt, t, trid, err);
	if (rc != 0) {
		free(l->ana_state);
		free(l);
		return rc;
	}
	l->trid = *trid;
	snprintf(l->trid.subnqn, sizeof(l->trid.subnqn), "%s", s->subnqn);
	l->transport = t;
	l->id = s->tgt->next_listener_id++;
	TAILQ_INSERT_TAIL(&s->listeners, l, link);
	nvmf_tgt_discovery_changed(s->tgt);
	return 0;
}

/* Stop listening for s on l; controllers that came in through l are disconnected. */
void nvmf_subsystem_listener_detach(struct nvmf_subsystem *s, struct nvmf_subsystem_listener *l)
{
	struct nvmf_ctrlr *ctrlr;

	TAILQ_FOREACH(ctrlr, &s->ctrlrs, link)
	{
		if (ctrlr->listener == l) {
			nvmf_ctrlr_disconnect_async(ctrlr);
		}
	}
	TAILQ_REMOVE(&s->listeners, l, link);
	TAILQ_INSERT_TAIL(&s->retired_listeners, l, link);
	nvmf_tgt_stop_listen(s->tgt, &l->trid);
}

int nvmf_subsystem_remove_listener(struct nvmf_subsystem *s, const struct plx_nvme_trid *trid,
				   char *err)
{
	struct nvmf_subsystem_listener *l = nvmf_subsystem_find_listener(s, trid);

	if (l == NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "listen_address: %s does not listen on %s:%s",
			 s->subnqn, trid->traddr, trid->trsvcid);
		return -ENOENT;
	}
	nvmf_subsystem_listener_detach(s, l);
	nvmf_tgt_discovery_changed(s->tgt);
	return 0;
}

int nvmf_subsystem_set_ana_state(struct nvmf_subsystem *s, const struct plx_nvme_trid *trid,
				 enum plx_nvme_ana_state state, uint32_t anagrpid, char *err)
{
	struct nvmf_subsystem_listener *l = nvmf_subsystem_find_listener(s, trid);
	struct nvmf_ctrlr *ctrlr;

	if (l == NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "listen_address: %s does not listen on %s:%s",
			 s->subnqn, trid->traddr, trid->trsvcid);
		return -ENOENT;
	}
	if (!s->ana_reporting) {
		snprintf(err, PLX_NVMF_ERR_LEN,
			 "nqn: ANA reporting is disabled on %s (create it with ana_reporting)",
			 s->subnqn);
		return -EINVAL;
	}
	if (anagrpid > s->max_nsid) {
		snprintf(err, PLX_NVMF_ERR_LEN, "anagrpid: %u is above max_namespaces (%u)",
			 anagrpid, s->max_nsid);
		return -EINVAL;
	}
	for (uint32_t g = 1; g <= s->max_nsid; g++) {
		if (anagrpid == 0 || anagrpid == g) {
			__atomic_store_n(&l->ana_state[g - 1], state, __ATOMIC_RELAXED);
		}
	}
	l->ana_state_change_count++;
	s->ana_change_count++;
	TAILQ_FOREACH(ctrlr, &s->ctrlrs, link)
	{
		if (ctrlr->listener == l) {
			nvmf_ctrlr_notify(ctrlr, NVMF_NOTICE_ANA_CHANGED, 0, 0);
		}
	}
	return 0;
}

/* ---- referrals ---- */

static struct nvmf_referral *find_referral(struct nvmf_tgt *tgt, const struct plx_nvme_trid *trid)
{
	struct nvmf_referral *r;

	TAILQ_FOREACH(r, &tgt->referrals, link)
	{
		if (plx_nvme_trid_equal(&r->trid, trid) &&
		    strcmp(r->trid.subnqn, trid->subnqn) == 0) {
			return r;
		}
	}
	return NULL;
}

int nvmf_tgt_add_referral(struct nvmf_tgt *tgt, const struct plx_nvme_trid *trid,
			  bool secure_channel)
{
	struct nvmf_referral *r = find_referral(tgt, trid);

	if (r != NULL) {
		return 0; /* as SPDK: adding an existing referral changes nothing */
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return -ENOMEM;
	}
	r->trid = *trid;
	r->secure_channel = secure_channel;
	TAILQ_INSERT_TAIL(&tgt->referrals, r, link);
	nvmf_tgt_discovery_changed(tgt);
	return 0;
}

int nvmf_tgt_remove_referral(struct nvmf_tgt *tgt, const struct plx_nvme_trid *trid, char *err)
{
	struct nvmf_referral *r = find_referral(tgt, trid);

	if (r == NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "address: no referral to %s:%s", trid->traddr,
			 trid->trsvcid);
		return -ENOENT;
	}
	TAILQ_REMOVE(&tgt->referrals, r, link);
	free(r);
	nvmf_tgt_discovery_changed(tgt);
	return 0;
}
