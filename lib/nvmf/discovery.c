/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The discovery log page (app thread): a "current discovery subsystem" entry per distinct
 * listening address, one entry per (NVM subsystem the host may access x its listener), then
 * the referrals. tgt->conf.discovery_filter narrows entries to those matching the address the
 * discovery controller was reached through.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_internal.h"
#include "pollux/log.h"

#define DISC_FILTER_TRTYPE  (1u << 0)
#define DISC_FILTER_ADDRESS (1u << 1)
#define DISC_FILTER_SVCID   (1u << 2)

struct disc_builder {
	struct plx_nvmf_discovery_log_page_entry *entries;
	uint64_t num, cap;
	bool oom;
};

static bool filter_match(uint32_t filter, const struct plx_nvme_trid *trid,
			 const struct plx_nvme_trid *local)
{
	if (local == NULL) {
		return true;
	}
	if ((filter & DISC_FILTER_TRTYPE) && trid->trtype != local->trtype) {
		return false;
	}
	if ((filter & DISC_FILTER_ADDRESS) &&
	    (trid->adrfam != local->adrfam || strcmp(trid->traddr, local->traddr) != 0)) {
		return false;
	}
	if ((filter & DISC_FILTER_SVCID) && strcmp(trid->trsvcid, local->trsvcid) != 0) {
		return false;
	}
	return true;
}

static void pad(char *dst, size_t len, const char *src)
{
	memset(dst, ' ', len);
	memcpy(dst, src, strnlen(src, len));
}

static struct plx_nvmf_discovery_log_page_entry *disc_add(struct disc_builder *b,
							  const struct plx_nvme_trid *trid,
							  uint8_t subtype, const char *subnqn)
{
	struct plx_nvmf_discovery_log_page_entry *e;

	if (b->num == b->cap) {
		uint64_t cap = b->cap != 0 ? b->cap * 2 : 8;
		void *p = realloc(b->entries, cap * sizeof(*e));

		if (p == NULL) {
			b->oom = true;
			return NULL;
		}
		b->entries = p;
		b->cap = cap;
	}
	e = &b->entries[b->num++];
	memset(e, 0, sizeof(*e));
	e->trtype = (uint8_t)trid->trtype;
	e->adrfam = (uint8_t)trid->adrfam;
	e->subtype = subtype;
	e->treq = PLX_NVMF_TREQ_SECURE_CHANNEL_NOT_REQUIRED;
	e->cntlid = 0xffff;
	e->asqsz = NVMF_TCP_DEFAULT_AQ_DEPTH;
	pad(e->trsvcid, sizeof(e->trsvcid), trid->trsvcid);
	pad(e->traddr, sizeof(e->traddr), trid->traddr);
	snprintf(e->subnqn, sizeof(e->subnqn), "%s", subnqn);
	return e;
}

static void disc_add_listener(struct disc_builder *b, const struct nvmf_subsystem_listener *l,
			      uint8_t subtype, const char *subnqn)
{
	struct plx_nvmf_discovery_log_page_entry *e = disc_add(b, &l->trid, subtype, subnqn);

	if (e == NULL) {
		return;
	}
	e->portid = (uint16_t)l->id;
	if (subtype == PLX_NVMF_SUBTYPE_DISCOVERY_CURRENT) {
		e->eflags = PLX_NVMF_DISC_EFLAG_EPCSD;
	}
	if (l->transport != NULL) {
		e->asqsz = (uint16_t)l->transport->opts.max_aq_depth;
		if (l->transport->ops->listener_discover != NULL) {
			l->transport->ops->listener_discover(l->transport, &l->trid, e);
		}
	}
}

/* Whether an earlier "current discovery" entry already names this address. */
static bool disc_has_current(const struct disc_builder *b, const struct plx_nvme_trid *trid)
{
	for (uint64_t i = 0; i < b->num; i++) {
		const struct plx_nvmf_discovery_log_page_entry *e = &b->entries[i];
		char svc[sizeof(e->trsvcid) + 1], addr[sizeof(e->traddr) + 1];

		if (e->subtype != PLX_NVMF_SUBTYPE_DISCOVERY_CURRENT || e->trtype != trid->trtype ||
		    e->adrfam != trid->adrfam) {
			continue;
		}
		pad(svc, sizeof(e->trsvcid), trid->trsvcid);
		pad(addr, sizeof(e->traddr), trid->traddr);
		if (memcmp(svc, e->trsvcid, sizeof(e->trsvcid)) == 0 &&
		    memcmp(addr, e->traddr, sizeof(e->traddr)) == 0) {
			return true;
		}
	}
	return false;
}

static void disc_add_current(struct disc_builder *b, struct nvmf_subsystem *s, uint32_t filter,
			     const struct plx_nvme_trid *local)
{
	struct nvmf_subsystem_listener *l;

	TAILQ_FOREACH(l, &s->listeners, link)
	{
		if (filter_match(filter, &l->trid, local) && !disc_has_current(b, &l->trid)) {
			disc_add_listener(b, l, PLX_NVMF_SUBTYPE_DISCOVERY_CURRENT,
					  PLX_NVMF_DISCOVERY_NQN);
		}
	}
}

static void disc_build(struct nvmf_tgt *tgt, const char *hostnqn, const struct plx_nvme_trid *local,
		       struct disc_builder *b)
{
	uint32_t filter = tgt->conf.discovery_filter;
	struct nvmf_subsystem_listener *l;
	struct nvmf_referral *ref;

	if (tgt->discovery != NULL) {
		disc_add_current(b, tgt->discovery, filter, local);
	}
	for (uint32_t i = 0; i < tgt->max_subsystems; i++) {
		struct nvmf_subsystem *s = tgt->subsystems[i];

		if (s != NULL && s->subtype == NVMF_SUBTYPE_NVME) {
			disc_add_current(b, s, filter, local);
		}
	}
	for (uint32_t i = 0; i < tgt->max_subsystems; i++) {
		struct nvmf_subsystem *s = tgt->subsystems[i];

		if (s == NULL || s->subtype != NVMF_SUBTYPE_NVME || s->destroying ||
		    !nvmf_subsystem_host_allowed(s, hostnqn)) {
			continue;
		}
		TAILQ_FOREACH(l, &s->listeners, link)
		{
			if (filter_match(filter, &l->trid, local)) {
				disc_add_listener(b, l, PLX_NVMF_SUBTYPE_NVME, s->subnqn);
			}
		}
	}
	TAILQ_FOREACH(ref, &tgt->referrals, link)
	{
		struct plx_nvmf_discovery_log_page_entry *e =
		    disc_add(b, &ref->trid,
			     strcmp(ref->trid.subnqn, PLX_NVMF_DISCOVERY_NQN) == 0 ||
				     ref->trid.subnqn[0] == '\0'
				 ? PLX_NVMF_SUBTYPE_DISCOVERY
				 : PLX_NVMF_SUBTYPE_NVME,
			     ref->trid.subnqn[0] ? ref->trid.subnqn : PLX_NVMF_DISCOVERY_NQN);

		if (e != NULL && ref->secure_channel) {
			e->treq = PLX_NVMF_TREQ_SECURE_CHANNEL_REQUIRED;
		}
	}
}

/* Copy [offset, offset + len) of header + entries into buf; returns bytes copied. */
static size_t disc_copy(const struct disc_builder *b, uint64_t genctr, void *buf, size_t offset,
			size_t len)
{
	struct plx_nvmf_discovery_log_page hdr;
	size_t hdr_len = sizeof(hdr), copied = 0;
	size_t total = hdr_len + (size_t)b->num * sizeof(b->entries[0]);

	memset(&hdr, 0, sizeof(hdr));
	hdr.genctr = genctr;
	hdr.numrec = b->num;
	hdr.recfmt = 0;
	if (offset >= total) {
		return 0;
	}
	len = PLX_MIN(len, total - offset);
	if (offset < hdr_len) {
		copied = PLX_MIN(hdr_len - offset, len);
		memcpy(buf, (const uint8_t *)&hdr + offset, copied);
		offset = hdr_len;
	}
	if (copied < len) {
		memcpy((uint8_t *)buf + copied, (const uint8_t *)b->entries + (offset - hdr_len),
		       len - copied);
	}
	return len;
}

size_t nvmf_discovery_log_filtered(struct nvmf_tgt *tgt, const char *hostnqn,
				   const struct plx_nvme_trid *local, void *buf, size_t offset,
				   size_t len)
{
	struct disc_builder b = {0};
	size_t n;

	disc_build(tgt, hostnqn, local, &b);
	if (b.oom) {
		PLX_ERRLOG("out of memory building the discovery log page\n");
	}
	n = disc_copy(&b, tgt->discovery_genctr, buf, offset, len);
	free(b.entries);
	return n;
}

size_t nvmf_discovery_log(struct nvmf_tgt *tgt, const char *hostnqn, void *buf, size_t offset,
			  size_t len)
{
	return nvmf_discovery_log_filtered(tgt, hostnqn, NULL, buf, offset, len);
}

void nvmf_tgt_discovery_changed(struct nvmf_tgt *tgt)
{
	struct nvmf_ctrlr *ctrlr;

	tgt->discovery_genctr++;
	if (tgt->discovery == NULL) {
		return;
	}
	TAILQ_FOREACH(ctrlr, &tgt->discovery->ctrlrs, link)
	{
		nvmf_ctrlr_notify(ctrlr, NVMF_NOTICE_DISCOVERY_CHANGED, 0, 0);
	}
}
