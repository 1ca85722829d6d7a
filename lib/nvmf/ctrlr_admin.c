/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Admin commands on the controller thread: dispatch, Identify, Get/Set Features and Abort.
 * Get Log Page is in ctrlr_log.c, AER and keep alive in ctrlr.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_internal.h"
#include "pollux/log.h"

#define NVMF_BROADCAST_NSID 0xffffffffu

static void admin_status(struct nvmf_request *req, uint8_t sct, uint8_t sc)
{
	nvmf_request_set_status(req, sct, sc);
	nvmf_request_complete(req);
}

static void pad_copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len);

	memset(dst, ' ', len);
	memcpy(dst, src, n);
}

static const struct nvmf_transport_opts *ctrlr_opts(struct nvmf_ctrlr *ctrlr)
{
	static const struct nvmf_transport_opts defaults = {
	    .max_queue_depth = NVMF_TCP_DEFAULT_MAX_QUEUE_DEPTH,
	    .max_qpairs_per_ctrlr = NVMF_TCP_DEFAULT_MAX_IO_QPAIRS + 1,
	    .in_capsule_data_size = NVMF_TCP_DEFAULT_IN_CAPSULE_DATA_SIZE,
	    .max_io_size = NVMF_TCP_DEFAULT_MAX_IO_SIZE,
	    .max_aq_depth = NVMF_TCP_DEFAULT_AQ_DEPTH,
	};

	if (ctrlr->admin_qpair != NULL) {
		return &ctrlr->admin_qpair->transport->opts;
	}
	if (ctrlr->listener != NULL && ctrlr->listener->transport != NULL) {
		return &ctrlr->listener->transport->opts;
	}
	return &defaults;
}

static bool subsys_has_write_cache(struct nvmf_subsystem *subsys)
{
	for (uint32_t i = 0; subsys->ns != NULL && i < subsys->max_nsid; i++) {
		struct nvmf_ns *ns = subsys->ns[i];

		if (ns != NULL && plx_bdev_has_write_cache(ns->bdev)) {
			return true;
		}
	}
	return false;
}

static uint8_t mdts_from_io_size(uint32_t max_io_size)
{
	uint8_t mdts = 0;

	/* Units of CAP.MPSMIN (4 KiB); the largest power of two that fits. */
	while (mdts < 31 && ((uint64_t)4096 << (mdts + 1)) <= max_io_size) {
		mdts++;
	}
	return max_io_size < 4096 ? 1 : mdts;
}

void nvmf_ctrlr_fill_identify(struct nvmf_ctrlr *ctrlr, struct plx_nvme_ctrlr_data *cdata)
{
	struct nvmf_subsystem *subsys = ctrlr->subsys;
	const struct nvmf_transport_opts *o = ctrlr_opts(ctrlr);
	bool disc = nvmf_ctrlr_is_discovery(ctrlr);

	memset(cdata, 0, sizeof(*cdata));
	pad_copy(cdata->sn, sizeof(cdata->sn), subsys->sn[0] ? subsys->sn : NVMF_DEFAULT_SN);
	pad_copy(cdata->mn, sizeof(cdata->mn), subsys->mn[0] ? subsys->mn : NVMF_DEFAULT_MN);
	pad_copy(cdata->fr, sizeof(cdata->fr), NVMF_FIRMWARE_REV);
	cdata->cntlid = ctrlr->cntlid;
	cdata->ver = ctrlr->vs.raw;
	cdata->mdts = mdts_from_io_size(o->max_io_size);
	cdata->aerl = NVMF_MAX_ASYNC_EVENTS - 1;
	cdata->elpe = NVMF_ERROR_LOG_ENTRIES - 1;
	cdata->kas = o->kas;
	cdata->maxcmd = o->max_queue_depth;
	cdata->sgls = PLX_NVME_SGLS_SUPPORTED | PLX_NVME_SGLS_OFFSET | PLX_NVME_SGLS_TRANSPORT;
	snprintf(cdata->subnqn, sizeof(cdata->subnqn), "%s", subsys->subnqn);
	cdata->ioccsz = (uint32_t)(sizeof(struct plx_nvme_cmd) + o->in_capsule_data_size) / 16;
	cdata->iorcsz = sizeof(struct plx_nvme_cpl) / 16;
	cdata->icdoff = 0;
	cdata->fcatt = 0; /* dynamic controller model */
	cdata->msdbd = 1;
	if (disc) {
		cdata->cntrltype = 2;
		cdata->oaes = PLX_NVME_OAES_DISCOVERY_LOG_CHANGE;
		cdata->lpa = PLX_NVME_LPA_EXTENDED_DATA;
		return;
	}
	cdata->cntrltype = 1;
	cdata->rab = 6;
	cdata->cmic = PLX_NVME_CMIC_MULTI_PORT | PLX_NVME_CMIC_MULTI_CTRLR;
	cdata->oaes = PLX_NVME_OAES_NS_ATTR;
	cdata->ctratt = 1u << 0; /* 128-bit host identifier */
	cdata->crdt1 = subsys->tgt != NULL ? subsys->tgt->conf.crdt[0] : 0;
	cdata->crdt2 = subsys->tgt != NULL ? subsys->tgt->conf.crdt[1] : 0;
	cdata->crdt3 = subsys->tgt != NULL ? subsys->tgt->conf.crdt[2] : 0;
	cdata->acl = NVMF_ABORT_COMMAND_LIMIT;
	cdata->frmw = (1u << 1) | 1u; /* one slot, read-only */
	cdata->lpa = PLX_NVME_LPA_EXTENDED_DATA | PLX_NVME_LPA_CMD_EFFECTS;
	if (subsys->ana_reporting) {
		cdata->cmic |= PLX_NVME_CMIC_ANA_REPORTING;
		cdata->oaes |= PLX_NVME_OAES_ANA_CHANGE;
		cdata->anatt = NVMF_ANATT_SEC;
		cdata->anacap = PLX_NVME_ANACAP_OPTIMIZED | PLX_NVME_ANACAP_NON_OPTIMIZED |
				PLX_NVME_ANACAP_INACCESSIBLE | PLX_NVME_ANACAP_PERSISTENT_LOSS |
				PLX_NVME_ANACAP_CHANGE;
		cdata->anagrpmax = subsys->max_nsid;
		cdata->nanagrpid = subsys->max_nsid;
	}
	cdata->sqes = 0x66;
	cdata->cqes = 0x44;
	cdata->nn = subsys->max_nsid;
	/* Hosts require 1 <= MNAN <= NN when ANA is reported (Linux refuses 0). */
	cdata->mnan = subsys->max_nsid;
	cdata->oncs = PLX_NVME_ONCS_COMPARE | PLX_NVME_ONCS_DSM | PLX_NVME_ONCS_WRITE_ZEROES |
		      PLX_NVME_ONCS_RESERVATIONS;
	cdata->fuses = 1;
	/* Bit 0: a volatile write cache; bits 2:1 = 10b: no broadcast Flush. */
	cdata->vwc = (subsys_has_write_cache(subsys) ? 1 : 0) | (2u << 1);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

/* The NGUID the host sees: the configured one, or the UUID when none is set. */
static void ns_nguid(const struct nvmf_ns *ns, uint8_t nguid[16])
{
	if (!all_zero(ns->nguid, sizeof(ns->nguid))) {
		memcpy(nguid, ns->nguid, 16);
	} else {
		memcpy(nguid, ns->uuid.u, 16);
	}
}

bool nvmf_ctrlr_fill_identify_ns(struct nvmf_ctrlr *ctrlr, uint32_t nsid,
				 struct plx_nvme_ns_data *nsdata)
{
	struct nvmf_pg_ns *pg_ns = nvmf_ctrlr_pg_ns(ctrlr, nsid);
	struct nvmf_ns *ns;
	uint32_t bs;

	memset(nsdata, 0, sizeof(*nsdata));
	if (pg_ns == NULL) {
		return false;
	}
	ns = pg_ns->ns;
	bs = plx_bdev_get_block_size(ns->bdev);
	nsdata->nsze = plx_bdev_get_num_blocks(ns->bdev);
	nsdata->ncap = nsdata->nsze;
	nsdata->nuse = nsdata->nsze;
	nsdata->nlbaf = 0;
	nsdata->flbas = 0;
	nsdata->lbaf[0].lbads = (uint8_t)__builtin_ctz(bs);
	nsdata->nmic = 1;
	nsdata->rescap = PLX_NVME_RESCAP_WRITE_EXCLUSIVE | PLX_NVME_RESCAP_EXCLUSIVE_ACCESS |
			 PLX_NVME_RESCAP_WRITE_EXCLUSIVE_REG_ONLY |
			 PLX_NVME_RESCAP_EXCLUSIVE_ACCESS_REG_ONLY |
			 PLX_NVME_RESCAP_WRITE_EXCLUSIVE_ALL_REGS |
			 PLX_NVME_RESCAP_EXCLUSIVE_ACCESS_ALL_REGS | PLX_NVME_RESCAP_IEKEY_IGNORED;
	if (ns->ptpl_file[0] != '\0') {
		nsdata->rescap |= PLX_NVME_RESCAP_PTPL;
	}
	nsdata->dlfeat = 0; /* whether deallocated blocks read as zeroes is not known */
	nsdata->noiob = (uint16_t)PLX_MIN(plx_bdev_get_optimal_io_boundary(ns->bdev), 0xffffu);
	if (ctrlr->subsys->ana_reporting) {
		nsdata->anagrpid = ns->anagrpid;
	}
	ns_nguid(ns, nsdata->nguid);
	memcpy(nsdata->eui64, ns->eui64, sizeof(nsdata->eui64));
	return true;
}

static size_t add_ns_desc(uint8_t *buf, size_t off, uint8_t nidt, const void *nid, uint8_t len)
{
	struct plx_nvme_ns_id_desc *desc = (struct plx_nvme_ns_id_desc *)(buf + off);

	desc->nidt = nidt;
	desc->nidl = len;
	memcpy(desc->nid, nid, len);
	return off + sizeof(*desc) + len;
}

static void fill_ns_id_descs(struct nvmf_ns *ns, uint8_t *buf)
{
	uint8_t nguid[16], csi = PLX_NVME_CSI_NVM;
	size_t off = 0;

	if (!all_zero(ns->eui64, sizeof(ns->eui64))) {
		off = add_ns_desc(buf, off, PLX_NVME_NIDT_EUI64, ns->eui64, 8);
	}
	ns_nguid(ns, nguid);
	if (!all_zero(nguid, sizeof(nguid))) {
		off = add_ns_desc(buf, off, PLX_NVME_NIDT_NGUID, nguid, 16);
	}
	if (!plx_uuid_is_null(&ns->uuid)) {
		off = add_ns_desc(buf, off, PLX_NVME_NIDT_UUID, ns->uuid.u, 16);
	}
	add_ns_desc(buf, off, PLX_NVME_NIDT_CSI, &csi, 1);
}

/* I/O Command Set specific Identify Controller for the NVM command set (CNS 06h). */
struct nvm_ctrlr_data {
	uint8_t vsl;
	uint8_t wzsl;
	uint8_t wusl;
	uint8_t dmrl;
	uint32_t dmrsl;
	uint64_t dmsl;
};

static void identify(struct nvmf_request *req, uint8_t *buf)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	uint8_t cns = req->cmd->cdw10 & 0xff, csi = req->cmd->cdw11 >> 24;
	uint32_t nsid = req->cmd->nsid;

	if (nvmf_ctrlr_is_discovery(ctrlr) && cns != PLX_NVME_IDENTIFY_CTRLR) {
		admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
		return;
	}
	switch (cns) {
	case PLX_NVME_IDENTIFY_NS:
	case PLX_NVME_IDENTIFY_NS_IOCS:
		if (nsid == 0 || nsid > ctrlr->subsys->max_nsid) {
			admin_status(req, PLX_NVME_SCT_GENERIC,
				     PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
			return;
		}
		if (cns == PLX_NVME_IDENTIFY_NS_IOCS && csi != PLX_NVME_CSI_NVM) {
			admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
			return;
		}
		/* An inactive nsid reads as zeroes; the NVM-specific structure is all zero. */
		if (cns == PLX_NVME_IDENTIFY_NS) {
			nvmf_ctrlr_fill_identify_ns(ctrlr, nsid, (struct plx_nvme_ns_data *)buf);
		}
		break;
	case PLX_NVME_IDENTIFY_CTRLR:
		nvmf_ctrlr_fill_identify(ctrlr, (struct plx_nvme_ctrlr_data *)buf);
		break;
	case PLX_NVME_IDENTIFY_ACTIVE_NS_LIST: {
		uint32_t *list = (uint32_t *)buf, n = 0;

		if (nsid >= 0xfffffffeu) {
			admin_status(req, PLX_NVME_SCT_GENERIC,
				     PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
			return;
		}
		for (uint32_t id = nsid + 1; id <= ctrlr->subsys->max_nsid && n < 1024; id++) {
			if (nvmf_ctrlr_pg_ns(ctrlr, id) != NULL) {
				list[n++] = id;
			}
		}
		break;
	}
	case PLX_NVME_IDENTIFY_NS_ID_DESCRIPTOR_LIST: {
		struct nvmf_pg_ns *pg_ns = nvmf_ctrlr_pg_ns(ctrlr, nsid);

		if (pg_ns == NULL) {
			admin_status(req, PLX_NVME_SCT_GENERIC,
				     PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
			return;
		}
		fill_ns_id_descs(pg_ns->ns, buf);
		break;
	}
	case PLX_NVME_IDENTIFY_CTRLR_IOCS: {
		struct nvm_ctrlr_data *nvm = (struct nvm_ctrlr_data *)buf;

		if (csi != PLX_NVME_CSI_NVM) {
			admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
			return;
		}
		/* No limits beyond MDTS: Write Zeroes and DSM ranges of any size. */
		nvm->dmrsl = UINT32_MAX;
		break;
	}
	case PLX_NVME_IDENTIFY_IOCS:
		((uint64_t *)buf)[0] = 1u << PLX_NVME_CSI_NVM; /* combination 0: NVM only */
		break;
	default:
		admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
		return;
	}
	nvmf_request_copy_to_iov(req, buf, PLX_MIN(req->length, 4096u), 0);
	nvmf_request_complete(req);
}

void nvmf_ctrlr_identify(struct nvmf_request *req)
{
	/* 4 KiB, aligned for the structure casts; the admin path may use the stack. */
	uint64_t buf[4096 / sizeof(uint64_t)];

	memset(buf, 0, sizeof(buf));
	identify(req, (uint8_t *)buf);
}

/* ---- features ---- */

#define FEAT_CAP_SAVEABLE    (1u << 0)
#define FEAT_CAP_NS_SPECIFIC (1u << 1)
#define FEAT_CAP_CHANGEABLE  (1u << 2)

static bool feat_is_ns_specific(uint8_t fid)
{
	return fid == PLX_NVME_FEAT_HOST_RESERVE_MASK || fid == PLX_NVME_FEAT_HOST_RESERVE_PERSIST;
}

static uint32_t *feat_simple(struct nvmf_ctrlr *ctrlr, uint8_t fid)
{
	switch (fid) {
	case PLX_NVME_FEAT_ARBITRATION:
		return &ctrlr->feat.arbitration;
	case PLX_NVME_FEAT_POWER_MANAGEMENT:
		return &ctrlr->feat.power_management;
	case PLX_NVME_FEAT_TEMPERATURE_THRESHOLD:
		return &ctrlr->feat.temperature_threshold;
	case PLX_NVME_FEAT_ERROR_RECOVERY:
		return &ctrlr->feat.error_recovery;
	case PLX_NVME_FEAT_VOLATILE_WRITE_CACHE:
		return &ctrlr->feat.volatile_write_cache;
	case PLX_NVME_FEAT_NUMBER_OF_QUEUES:
		return &ctrlr->feat.number_of_queues;
	case PLX_NVME_FEAT_INTERRUPT_COALESCING:
		return &ctrlr->feat.interrupt_coalescing;
	case PLX_NVME_FEAT_WRITE_ATOMICITY:
		return &ctrlr->feat.write_atomicity;
	case PLX_NVME_FEAT_ASYNC_EVENT_CONFIGURATION:
		return &ctrlr->feat.async_event_configuration;
	case PLX_NVME_FEAT_KEEP_ALIVE_TIMER:
		return &ctrlr->feat.keep_alive_timer;
	default:
		return NULL;
	}
}

static bool feat_allowed(struct nvmf_ctrlr *ctrlr, uint8_t fid)
{
	if (nvmf_ctrlr_is_discovery(ctrlr)) {
		return fid == PLX_NVME_FEAT_ASYNC_EVENT_CONFIGURATION ||
		       fid == PLX_NVME_FEAT_KEEP_ALIVE_TIMER;
	}
	return feat_simple(ctrlr, fid) != NULL || fid == PLX_NVME_FEAT_HOST_IDENTIFIER ||
	       feat_is_ns_specific(fid);
}

/* The nsid a per-namespace feature applies to; 0 after completing req with an error. */
static uint32_t feat_nsid(struct nvmf_request *req, bool allow_broadcast)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	uint32_t nsid = req->cmd->nsid;

	if (nsid == NVMF_BROADCAST_NSID && allow_broadcast) {
		return nsid;
	}
	if (nvmf_ctrlr_pg_ns(ctrlr, nsid) == NULL) {
		admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
		return 0;
	}
	return nsid;
}

void nvmf_ctrlr_get_features(struct nvmf_request *req)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	uint8_t fid = req->cmd->cdw10 & 0xff, sel = (req->cmd->cdw10 >> 8) & 7;
	uint32_t *value, nsid;

	if (!feat_allowed(ctrlr, fid)) {
		admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
		return;
	}
	if (sel == PLX_NVME_FEAT_SEL_SUPPORTED) {
		req->rsp->cdw0 =
		    FEAT_CAP_CHANGEABLE | (feat_is_ns_specific(fid) ? FEAT_CAP_NS_SPECIFIC : 0);
		nvmf_request_complete(req);
		return;
	}
	if (sel > PLX_NVME_FEAT_SEL_SUPPORTED) {
		admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
		return;
	}
	value = feat_simple(ctrlr, fid);
	if (value != NULL) {
		req->rsp->cdw0 = *value;
		nvmf_request_complete(req);
		return;
	}
	switch (fid) {
	case PLX_NVME_FEAT_HOST_IDENTIFIER:
		if ((req->cmd->cdw11 & 1) == 0) {
			/* Only the 128-bit identifier exists over fabrics. */
			admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
			return;
		}
		nvmf_request_copy_to_iov(req, ctrlr->hostid,
					 PLX_MIN(req->length, sizeof(ctrlr->hostid)), 0);
		req->rsp->cdw0 = 1;
		break;
	case PLX_NVME_FEAT_HOST_RESERVE_MASK:
		if ((nsid = feat_nsid(req, false)) == 0) {
			return;
		}
		req->rsp->cdw0 = ctrlr->ns_resv_mask[nsid - 1];
		break;
	case PLX_NVME_FEAT_HOST_RESERVE_PERSIST:
		if ((nsid = feat_nsid(req, false)) == 0) {
			return;
		}
		req->rsp->cdw0 =
		    __atomic_load_n(&nvmf_ctrlr_pg_ns(ctrlr, nsid)->ns->resv.ptpl_activated,
				    __ATOMIC_RELAXED)
			? 1
			: 0;
		break;
	}
	nvmf_request_complete(req);
}

struct ptpl_msg {
	struct nvmf_request *req;
	struct nvmf_ns *ns;
	struct plx_thread *thread;
	bool ptpl;
};

static void ptpl_done(void *arg)
{
	struct ptpl_msg *msg = arg;

	nvmf_request_complete(msg->req);
	free(msg);
}

/* App thread: the reservation state of record lives here; reservation.c persists it. */
static void ptpl_on_app(void *arg)
{
	struct ptpl_msg *msg = arg;

	msg->ns->resv.ptpl_activated = msg->ptpl;
	if (plx_thread_send_msg(msg->thread, ptpl_done, msg) != 0) {
		PLX_ERRLOG("cannot answer Set Features (PTPL)\n");
	}
}

static void set_resv_persist(struct nvmf_request *req)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	uint32_t nsid = feat_nsid(req, false);
	struct ptpl_msg *msg;
	struct nvmf_ns *ns;

	if (nsid == 0) {
		return;
	}
	ns = nvmf_ctrlr_pg_ns(ctrlr, nsid)->ns;
	if ((req->cmd->cdw11 & 1) && ns->ptpl_file[0] == '\0') {
		/* Persistence needs a ptpl file configured for the namespace. */
		admin_status(req, PLX_NVME_SCT_COMMAND_SPECIFIC,
			     PLX_NVME_SC_FEATURE_NOT_CHANGEABLE);
		return;
	}
	msg = malloc(sizeof(*msg));
	if (msg == NULL) {
		admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INTERNAL_DEVICE_ERROR);
		return;
	}
	*msg = (struct ptpl_msg){
	    .req = req, .ns = ns, .thread = plx_get_thread(), .ptpl = req->cmd->cdw11 & 1};
	ctrlr->feat.reservation_persistence = msg->ptpl;
	if (plx_thread_send_msg(ctrlr->subsys->tgt->thread, ptpl_on_app, msg) != 0) {
		free(msg);
		admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INTERNAL_DEVICE_ERROR);
	}
}

static void set_resv_mask(struct nvmf_request *req)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	uint32_t nsid = feat_nsid(req, true);
	uint32_t mask = req->cmd->cdw11 & (PLX_NVME_RESV_MASK_REGPRE | PLX_NVME_RESV_MASK_RESREL |
					   PLX_NVME_RESV_MASK_RESPRE);

	if (nsid == 0) {
		return;
	}
	if (nsid == NVMF_BROADCAST_NSID) {
		for (uint32_t i = 0; i < ctrlr->subsys->max_nsid; i++) {
			ctrlr->ns_resv_mask[i] = mask;
		}
	} else {
		ctrlr->ns_resv_mask[nsid - 1] = mask;
	}
	ctrlr->feat.reservation_notification_mask = mask;
	nvmf_request_complete(req);
}

static void set_number_of_queues(struct nvmf_request *req)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	uint16_t nsqr = req->cmd->cdw11 & 0xffff, ncqr = req->cmd->cdw11 >> 16;

	if (nsqr == 0xffff || ncqr == 0xffff) {
		admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
		return;
	}
	if (ctrlr->num_io_qpairs > 0) {
		admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_COMMAND_SEQUENCE_ERROR);
		return;
	}
	/* The answer is what the transport allows, whatever was asked. */
	req->rsp->cdw0 = ctrlr->feat.number_of_queues;
	nvmf_request_complete(req);
}

void nvmf_ctrlr_set_features(struct nvmf_request *req)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	uint8_t fid = req->cmd->cdw10 & 0xff;
	uint32_t cdw11 = req->cmd->cdw11;

	if (req->cmd->cdw10 & (1u << 31)) {
		admin_status(req, PLX_NVME_SCT_COMMAND_SPECIFIC,
			     PLX_NVME_SC_FEATURE_ID_NOT_SAVEABLE);
		return;
	}
	if (!feat_allowed(ctrlr, fid)) {
		admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
		return;
	}
	switch (fid) {
	case PLX_NVME_FEAT_POWER_MANAGEMENT:
		if ((cdw11 & 0x1f) != 0) {
			/* Power state 0 is the only one (npss = 0). */
			admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
			return;
		}
		ctrlr->feat.power_management = cdw11;
		break;
	case PLX_NVME_FEAT_VOLATILE_WRITE_CACHE:
		ctrlr->feat.volatile_write_cache = cdw11 & 1;
		break;
	case PLX_NVME_FEAT_NUMBER_OF_QUEUES:
		set_number_of_queues(req);
		return;
	case PLX_NVME_FEAT_ASYNC_EVENT_CONFIGURATION:
		ctrlr->feat.async_event_configuration =
		    cdw11 & (PLX_NVME_AEC_CRIT_WARNING_MASK | PLX_NVME_AEC_NS_ATTR |
			     PLX_NVME_AEC_ANA_CHANGE | PLX_NVME_AEC_DISCOVERY_LOG_CHANGE);
		break;
	case PLX_NVME_FEAT_KEEP_ALIVE_TIMER:
		if (cdw11 == 0 && !nvmf_ctrlr_is_discovery(ctrlr)) {
			admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_KEEP_ALIVE_INVALID);
			return;
		}
		nvmf_ctrlr_set_kato(ctrlr, cdw11);
		break;
	case PLX_NVME_FEAT_HOST_IDENTIFIER:
		/* Over fabrics the host identifier comes from Connect only. */
		admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_COMMAND_SEQUENCE_ERROR);
		return;
	case PLX_NVME_FEAT_HOST_RESERVE_MASK:
		set_resv_mask(req);
		return;
	case PLX_NVME_FEAT_HOST_RESERVE_PERSIST:
		set_resv_persist(req);
		return;
	default:
		*feat_simple(ctrlr, fid) = cdw11;
		break;
	}
	nvmf_request_complete(req);
}

/* ---- abort ---- */

void nvmf_ctrlr_abort(struct nvmf_request *req)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	uint16_t sqid = req->cmd->cdw10 & 0xffff, cid = req->cmd->cdw10 >> 16;
	struct nvmf_qpair *qpair;
	bool aborted = false;

	TAILQ_FOREACH(qpair, &ctrlr->qpairs, ctrlr_link)
	{
		if (qpair->qid == sqid) {
			break;
		}
	}
	/* Requests of qpairs on other threads are not reachable from here: not aborted. */
	if (qpair != NULL && qpair->group->thread == plx_get_thread() &&
	    !(sqid == 0 && cid == req->cmd->cid)) {
		if (qpair->transport->ops->qpair_abort_request != NULL &&
		    qpair->transport->ops->qpair_abort_request(qpair, cid)) {
			aborted = true;
		} else if (sqid == 0) {
			aborted = nvmf_ctrlr_abort_aer(ctrlr, cid);
		} else {
			aborted = nvmf_qpair_abort_held_fused_cid(qpair, cid);
		}
	}
	req->rsp->cdw0 = aborted ? 0 : 1;
	nvmf_request_complete(req);
}

/* ---- dispatch ---- */

void nvmf_ctrlr_process_admin_cmd(struct nvmf_request *req)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	uint8_t opc = req->cmd->opc;

	nvmf_ctrlr_keep_alive(ctrlr); /* any admin command counts as a sign of life */
	switch (opc) {
	case PLX_NVME_OPC_IDENTIFY:
		nvmf_ctrlr_identify(req);
		return;
	case PLX_NVME_OPC_GET_LOG_PAGE:
		nvmf_ctrlr_get_log_page(req);
		return;
	case PLX_NVME_OPC_GET_FEATURES:
		nvmf_ctrlr_get_features(req);
		return;
	case PLX_NVME_OPC_SET_FEATURES:
		nvmf_ctrlr_set_features(req);
		return;
	case PLX_NVME_OPC_ASYNC_EVENT_REQUEST:
		nvmf_ctrlr_aer_request(req);
		return;
	case PLX_NVME_OPC_KEEP_ALIVE:
		nvmf_request_complete(req);
		return;
	case PLX_NVME_OPC_ABORT:
		if (!nvmf_ctrlr_is_discovery(ctrlr)) {
			nvmf_ctrlr_abort(req);
			return;
		}
		break;
	default:
		break;
	}
	admin_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_OPCODE);
}
