/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Controllers: connect and initialise in the order NVMe Base 2.0 (3.5.1) gives, generic over the
 * transport ops; namespaces (incl. ANA state); asynchronous events; keep-alive; reset; detach.
 *
 * Initialisation is blocking by contract (plx_nvme_connect), so it is written as the plain
 * sequence of steps it is: each step names itself in the error message when it fails. The
 * same sequence runs again on the same controller object for a reset.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_core.h"
#include "pollux/env.h"
#include "pollux/log.h"

#define NVME_SHUTDOWN_DEFAULT_MS 10000
#define NVME_ANA_LOG_MAX	 (1u << 20)

void plx_nvme_ctrlr_get_default_opts(struct plx_nvme_ctrlr_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->num_io_queues = 1;
	opts->io_queue_size = NVME_IO_QUEUE_SIZE_DEFAULT;
	opts->io_queue_requests = NVME_IO_QUEUE_REQUESTS_DEFAULT;
	opts->admin_queue_size = NVME_ADMIN_QUEUE_SIZE_DEFAULT;
	opts->keep_alive_timeout_ms = NVME_KATO_DEFAULT_MS;
	opts->transport_retry_count = NVME_RETRY_COUNT_DEFAULT;
}

static uint8_t g_hostid[16];
static pthread_once_t g_hostid_once = PTHREAD_ONCE_INIT;

static void nvme_hostid_generate(void)
{
	struct plx_uuid uuid;

	plx_uuid_generate(&uuid);
	memcpy(g_hostid, uuid.u, sizeof(g_hostid));
}

/* Fill an all-zero hostid with this process's, and an empty hostnqn from the hostid. */
static void nvme_host_identity(struct plx_nvme_ctrlr_opts *opts)
{
	static const uint8_t zero[16];
	struct plx_uuid uuid;
	char str[PLX_UUID_STRING_LEN];

	if (memcmp(opts->hostid, zero, sizeof(zero)) == 0) {
		pthread_once(&g_hostid_once, nvme_hostid_generate);
		memcpy(opts->hostid, g_hostid, sizeof(g_hostid));
	}
	if (opts->hostnqn[0] == '\0') {
		memcpy(uuid.u, opts->hostid, sizeof(uuid.u));
		plx_uuid_fmt_lower(str, sizeof(str), &uuid);
		snprintf(opts->hostnqn, sizeof(opts->hostnqn), "%s%s", PLX_NVMF_NQN_UUID_PRE, str);
	}
}

void nvme_format_err(char *err, const char *step, int rc, const struct plx_nvme_cpl *cpl)
{
	if (err == NULL) {
		return;
	}
	if (rc == -EIO && cpl != NULL && plx_nvme_cpl_is_error(cpl)) {
		snprintf(err, PLX_NVME_ERR_LEN, "%s: %s (sct %u sc 0x%02x)", step,
			 plx_nvme_status_string(&cpl->status), (unsigned)cpl->status.sct,
			 (unsigned)cpl->status.sc);
	} else {
		snprintf(err, PLX_NVME_ERR_LEN, "%s: %s", step, strerror(-rc));
	}
}

/* ---- blocking admin commands ---- */

struct nvme_sync_ctx {
	bool done;
	struct plx_nvme_cpl cpl;
};

static void nvme_sync_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct nvme_sync_ctx *ctx = arg;

	ctx->cpl = *cpl;
	ctx->done = true;
}

/* Poll the admin queue until *done; a command that never completes fails the controller so
 * that its callback runs (aborted) before the caller's stack frame goes away. */
static int nvme_ctrlr_poll_until(struct plx_nvme_ctrlr *ctrlr, const bool *done)
{
	uint32_t ms =
	    ctrlr->opts.command_timeout_ms ? ctrlr->opts.command_timeout_ms : NVME_ADMIN_TIMEOUT_MS;
	uint64_t deadline = nvme_ticks() + (uint64_t)ms * nvme_ticks_per_ms();

	while (!*done) {
		if (nvme_qpair_process(ctrlr->adminq, 0) < 0) {
			return -ENXIO;
		}
		if (!*done && nvme_ticks() > deadline) {
			PLX_ERRLOG(
			    "admin command not answered within %u ms: failing the controller\n",
			    ms);
			nvme_qpair_set_failed(ctrlr->adminq);
			nvme_qpair_abort_all(ctrlr->adminq, true);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

int nvme_ctrlr_cmd_admin_sync(struct plx_nvme_ctrlr *ctrlr, const struct plx_nvme_cmd *cmd,
			      void *buf, uint32_t len, struct plx_nvme_cpl *cpl)
{
	struct nvme_sync_ctx ctx = {0};
	int rc;

	pthread_mutex_lock(&ctrlr->lock);
	rc = nvme_qpair_submit_cmd(ctrlr->adminq, cmd, buf, len, nvme_sync_done, &ctx);
	if (rc == 0) {
		rc = nvme_ctrlr_poll_until(ctrlr, &ctx.done);
	}
	pthread_mutex_unlock(&ctrlr->lock);
	if (cpl != NULL) {
		*cpl = ctx.cpl;
	}
	if (rc == 0 && plx_nvme_cpl_is_error(&ctx.cpl)) {
		rc = -EIO;
	}
	return rc;
}

int nvme_ctrlr_get_log_sync(struct plx_nvme_ctrlr *ctrlr, uint8_t lid, uint8_t lsp, bool rae,
			    uint32_t nsid, void *buf, uint32_t len, struct plx_nvme_cpl *cpl)
{
	uint32_t max = ctrlr->max_xfer_size != 0 ? ctrlr->max_xfer_size & ~3u : len;
	struct plx_nvme_cmd cmd;
	int rc;

	for (uint32_t off = 0; off < len;) {
		uint32_t chunk = PLX_MIN(len - off, max);

		/* Retain the event until the last piece is read. */
		nvme_cmd_get_log_page(&cmd, lid, lsp, rae || off + chunk < len, nsid, chunk, off);
		rc = nvme_ctrlr_cmd_admin_sync(ctrlr, &cmd, (uint8_t *)buf + off, chunk, cpl);
		if (rc != 0) {
			return rc;
		}
		off += chunk;
	}
	return 0;
}

static int nvme_ctrlr_set_feature_sync(struct plx_nvme_ctrlr *ctrlr, uint8_t fid, uint32_t cdw11,
				       struct plx_nvme_cpl *cpl)
{
	struct plx_nvme_cmd cmd = {0};

	cmd.opc = PLX_NVME_OPC_SET_FEATURES;
	cmd.cdw10 = fid;
	cmd.cdw11 = cdw11;
	return nvme_ctrlr_cmd_admin_sync(ctrlr, &cmd, NULL, 0, cpl);
}

static int nvme_ctrlr_identify_sync(struct plx_nvme_ctrlr *ctrlr, uint8_t cns, uint32_t nsid,
				    void *buf, struct plx_nvme_cpl *cpl)
{
	struct plx_nvme_cmd cmd = {0};

	cmd.opc = PLX_NVME_OPC_IDENTIFY;
	cmd.nsid = nsid;
	cmd.cdw10 = cns;
	return nvme_ctrlr_cmd_admin_sync(ctrlr, &cmd, buf, 4096, cpl);
}

/* ---- enable: CC / CSTS handshake ---- */

static uint32_t nvme_ctrlr_ready_timeout_ms(const struct plx_nvme_ctrlr *ctrlr)
{
	return ctrlr->cap.bits.to != 0 ? (uint32_t)ctrlr->cap.bits.to * 500 : 500;
}

static int nvme_ctrlr_wait_ready(struct plx_nvme_ctrlr *ctrlr, uint32_t want, char *err)
{
	uint32_t ms = nvme_ctrlr_ready_timeout_ms(ctrlr);
	uint64_t deadline = nvme_ticks() + (uint64_t)ms * nvme_ticks_per_ms();
	union plx_nvme_csts csts;
	bool expired;
	int rc;

	for (;;) {
		/* Sample the clock first so the last register read comes after the deadline. */
		expired = nvme_ticks() > deadline;
		rc = ctrlr->transport->ctrlr_get_reg_4(ctrlr, PLX_NVME_REG_CSTS, &csts.raw);
		if (rc != 0) {
			nvme_format_err(err, "read CSTS", rc, NULL);
			return rc;
		}
		if (csts.bits.cfs) {
			snprintf(err, PLX_NVME_ERR_LEN,
				 "wait for CSTS.RDY %u: controller fatal status (CSTS.CFS)", want);
			return -EIO;
		}
		if (csts.bits.rdy == want) {
			return 0;
		}
		if (expired) {
			snprintf(err, PLX_NVME_ERR_LEN,
				 "wait for CSTS.RDY %u: timed out after CAP.TO (%u ms)", want, ms);
			return -ETIMEDOUT;
		}
	}
}

static int nvme_ctrlr_enable(struct plx_nvme_ctrlr *ctrlr, char *err)
{
	const struct nvme_transport_ops *t = ctrlr->transport;
	union plx_nvme_cc cc;
	int rc;

	if ((rc = t->ctrlr_get_reg_8(ctrlr, PLX_NVME_REG_CAP, &ctrlr->cap.raw)) != 0) {
		nvme_format_err(err, "read CAP", rc, NULL);
		return rc;
	}
	if ((rc = t->ctrlr_get_reg_4(ctrlr, PLX_NVME_REG_VS, &ctrlr->vs.raw)) != 0) {
		nvme_format_err(err, "read VS", rc, NULL);
		return rc;
	}
	if (ctrlr->cap.bits.mpsmin != 0) {
		snprintf(err, PLX_NVME_ERR_LEN,
			 "CAP.MPSMIN %u: pages above 4 KiB are not supported",
			 (unsigned)ctrlr->cap.bits.mpsmin);
		return -ENOTSUP;
	}
	if ((rc = t->ctrlr_get_reg_4(ctrlr, PLX_NVME_REG_CC, &cc.raw)) != 0) {
		nvme_format_err(err, "read CC", rc, NULL);
		return rc;
	}
	/* PCIe transports hand over a disabled controller; anyone else's gets disabled here. */
	if (cc.bits.en) {
		cc.bits.en = 0;
		if ((rc = t->ctrlr_set_reg_4(ctrlr, PLX_NVME_REG_CC, cc.raw)) != 0) {
			nvme_format_err(err, "write CC (disable)", rc, NULL);
			return rc;
		}
		if ((rc = nvme_ctrlr_wait_ready(ctrlr, 0, err)) != 0) {
			return rc;
		}
	}
	cc.raw = 0;
	cc.bits.css = 0;    /* NVM command set */
	cc.bits.mps = 0;    /* 4 KiB memory pages */
	cc.bits.ams = 0;    /* round robin */
	cc.bits.iosqes = 6; /* 64-byte SQEs */
	cc.bits.iocqes = 4; /* 16-byte CQEs */
	cc.bits.en = 1;
	if ((rc = t->ctrlr_set_reg_4(ctrlr, PLX_NVME_REG_CC, cc.raw)) != 0) {
		nvme_format_err(err, "write CC", rc, NULL);
		return rc;
	}
	return nvme_ctrlr_wait_ready(ctrlr, 1, err);
}

/* ---- Identify, queues ---- */

static int nvme_ctrlr_identify(struct plx_nvme_ctrlr *ctrlr, void *buf, char *err)
{
	struct plx_nvme_cpl cpl;
	uint64_t max;
	int rc;

	rc = nvme_ctrlr_identify_sync(ctrlr, PLX_NVME_IDENTIFY_CTRLR, 0, buf, &cpl);
	if (rc != 0) {
		nvme_format_err(err, "Identify Controller", rc, &cpl);
		return rc;
	}
	memcpy(&ctrlr->cdata, buf, sizeof(ctrlr->cdata));
	/* Fabrics transports connect to the discovery service when no subsystem is named. */
	ctrlr->is_discovery =
	    ctrlr->cdata.cntrltype == 2 ||
	    strcmp(ctrlr->trid.subnqn, PLX_NVMF_DISCOVERY_NQN) == 0 ||
	    (ctrlr->trid.subnqn[0] == '\0' && ctrlr->transport->trtype != PLX_NVME_TRTYPE_PCIE);

	/* MDTS counts in units of the minimum page size; 0 means the controller sets no limit. */
	max = ctrlr->transport->ctrlr_get_max_xfer_size(ctrlr);
	if (ctrlr->cdata.mdts != 0 && 12u + ctrlr->cap.bits.mpsmin + ctrlr->cdata.mdts < 32) {
		max = PLX_MIN(max, 1ull << (12u + ctrlr->cap.bits.mpsmin + ctrlr->cdata.mdts));
	}
	ctrlr->max_xfer_size = (uint32_t)PLX_MIN(max, UINT32_MAX);
	return 0;
}

/* Queue ids 1..num_io_queues, free unless an existing qpair (kept over a reset) holds one. */
static int nvme_ctrlr_reset_qids(struct plx_nvme_ctrlr *ctrlr, uint32_t granted)
{
	struct plx_nvme_qpair *qpair;
	uint8_t *qids = realloc(ctrlr->free_qids, (size_t)granted + 1);

	if (qids == NULL) {
		return -ENOMEM;
	}
	ctrlr->free_qids = qids;
	ctrlr->num_io_queues = granted;
	qids[0] = 0;
	memset(qids + 1, 1, granted);
	TAILQ_FOREACH(qpair, &ctrlr->io_qpairs, link)
	{
		if (qpair->id <= granted) {
			qids[qpair->id] = 0;
		}
	}
	return 0;
}

static int nvme_ctrlr_set_num_queues(struct plx_nvme_ctrlr *ctrlr, char *err)
{
	uint32_t want = PLX_MIN(ctrlr->opts.num_io_queues, 65535u);
	uint32_t nsqa, ncqa, granted = 0;
	struct plx_nvme_cpl cpl;
	int rc;

	if (want != 0) {
		rc = nvme_ctrlr_set_feature_sync(ctrlr, PLX_NVME_FEAT_NUMBER_OF_QUEUES,
						 (want - 1) | ((want - 1) << 16), &cpl);
		if (rc != 0) {
			nvme_format_err(err, "Set Features Number of Queues", rc, &cpl);
			return rc;
		}
		/* Allocated counts come back 0's based; the controller may grant more or fewer. */
		nsqa = (cpl.cdw0 & 0xffff) + 1;
		ncqa = (cpl.cdw0 >> 16) + 1;
		granted = PLX_MIN(want, PLX_MIN(nsqa, ncqa));
	}
	rc = nvme_ctrlr_reset_qids(ctrlr, granted);
	if (rc != 0) {
		nvme_format_err(err, "Number of Queues", rc, NULL);
	}
	return rc;
}

/* ---- namespaces ---- */

static int nvme_ctrlr_size_ns_array(struct plx_nvme_ctrlr *ctrlr, uint32_t nn)
{
	struct plx_nvme_ns *ns;

	if (ctrlr->ns != NULL && ctrlr->num_ns == nn) {
		return 0;
	}
	/* NN changed (or first scan): the old objects go; nothing else refers to them. */
	ns = nn != 0 ? calloc(nn, sizeof(*ns)) : NULL;
	if (nn != 0 && ns == NULL) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nn; i++) {
		ns[i].ctrlr = ctrlr;
		ns[i].id = i + 1;
		ns[i].ana_state = PLX_NVME_ANA_OPTIMIZED_STATE;
	}
	free(ctrlr->ns);
	ctrlr->ns = ns;
	ctrlr->num_ns = nn;
	return 0;
}

static int nvme_ctrlr_identify_ns(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_ns *ns, void *buf,
				  char *err)
{
	const struct plx_nvme_ns_data *d = buf;
	struct plx_nvme_cpl cpl;
	uint32_t fmt;
	uint8_t lbads;
	int rc;

	rc = nvme_ctrlr_identify_sync(ctrlr, PLX_NVME_IDENTIFY_NS, ns->id, buf, &cpl);
	if (rc == -EIO && cpl.status.sct == PLX_NVME_SCT_GENERIC &&
	    cpl.status.sc == PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT) {
		return 0; /* went away between the list and now */
	}
	if (rc != 0) {
		nvme_format_err(err, "Identify Namespace", rc, &cpl);
		return rc;
	}
	/* FLBAS bits 3:0 pick the format; bits 6:5 extend the index when there are > 16. */
	fmt = d->flbas & 0xf;
	if (d->nlbaf >= 16) {
		fmt |= ((d->flbas >> 5) & 3u) << 4;
	}
	lbads = d->lbaf[fmt].lbads;
	if (d->nsze == 0 || lbads < 9 || lbads > 31) {
		return 0; /* inactive, or a format we cannot address */
	}
	memcpy(&ns->data, d, sizeof(ns->data));
	ns->sector_size = 1u << lbads;
	ns->num_sectors = d->nsze;
	ns->active = true;
	return 0;
}

/* Re-read the active namespace list (1024 ids per page) and identify each. */
static int nvme_ctrlr_scan_namespaces(struct plx_nvme_ctrlr *ctrlr, char *err)
{
	uint32_t nn = PLX_MIN(ctrlr->cdata.nn, NVME_MAX_NS);
	uint32_t *list = NULL, start = 0, count;
	void *data = NULL;
	struct plx_nvme_cpl cpl;
	int rc;

	if ((rc = nvme_ctrlr_size_ns_array(ctrlr, nn)) != 0 ||
	    (list = plx_dma_zmalloc(4096, 4096)) == NULL ||
	    (data = plx_dma_zmalloc(4096, 4096)) == NULL) {
		rc = -ENOMEM;
		nvme_format_err(err, "namespaces", rc, NULL);
		goto out;
	}
	for (uint32_t i = 0; i < nn; i++) {
		ctrlr->ns[i].active = false;
	}
	if (ctrlr->vs.raw < PLX_NVME_VERSION(1, 1, 0)) {
		/* No active namespace list before 1.1: inactive ids identify with NSZE 0. */
		for (uint32_t id = 1; id <= nn && rc == 0; id++) {
			rc = nvme_ctrlr_identify_ns(ctrlr, &ctrlr->ns[id - 1], data, err);
		}
		goto out;
	}
	do {
		rc = nvme_ctrlr_identify_sync(ctrlr, PLX_NVME_IDENTIFY_ACTIVE_NS_LIST, start, list,
					      &cpl);
		if (rc != 0) {
			nvme_format_err(err, "Identify Active Namespace List", rc, &cpl);
			goto out;
		}
		for (count = 0; count < 1024 && list[count] != 0; count++) {
			if (list[count] <= nn) {
				rc = nvme_ctrlr_identify_ns(ctrlr, &ctrlr->ns[list[count] - 1],
							    data, err);
				if (rc != 0) {
					goto out;
				}
			}
		}
		/* A full page continues after its last id (which must move forward). */
		if (count < 1024 || list[1023] <= start) {
			break;
		}
		start = list[1023];
	} while (true);
out:
	plx_dma_free(list);
	plx_dma_free(data);
	return rc;
}

static void nvme_ctrlr_parse_ana_log(struct plx_nvme_ctrlr *ctrlr, const uint8_t *buf, size_t len)
{
	const struct plx_nvme_ana_page *hdr = (const void *)buf;
	size_t off = sizeof(*hdr);

	for (uint32_t g = 0; g < hdr->num_ana_group_desc; g++) {
		const struct plx_nvme_ana_group_descriptor *desc = (const void *)(buf + off);

		if (off + sizeof(*desc) > len ||
		    off + sizeof(*desc) + (size_t)desc->num_of_nsid * 4 > len) {
			PLX_WARNLOG("ANA log truncated at group %u\n", g);
			return;
		}
		for (uint32_t i = 0; i < desc->num_of_nsid; i++) {
			uint32_t nsid = desc->nsid[i];

			if (nsid != 0 && nsid <= ctrlr->num_ns) {
				ctrlr->ns[nsid - 1].ana_group_id = desc->ana_group_id;
				ctrlr->ns[nsid - 1].ana_state = desc->ana_state;
			}
		}
		off += sizeof(*desc) + (size_t)desc->num_of_nsid * 4;
	}
}

/* Read the ANA log into each namespace's group and state. */
static int nvme_ctrlr_update_ana(struct plx_nvme_ctrlr *ctrlr, char *err)
{
	uint32_t groups = ctrlr->cdata.nanagrpid ? ctrlr->cdata.nanagrpid : ctrlr->cdata.anagrpmax;
	uint64_t len =
	    sizeof(struct plx_nvme_ana_page) +
	    (uint64_t)PLX_MAX(groups, 1u) * sizeof(struct plx_nvme_ana_group_descriptor) +
	    (uint64_t)ctrlr->num_ns * 4;
	struct plx_nvme_cpl cpl;
	uint8_t *buf;
	int rc;

	if (!(ctrlr->cdata.cmic & PLX_NVME_CMIC_ANA_REPORTING)) {
		return 0;
	}
	len = PLX_MIN(len, NVME_ANA_LOG_MAX);
	buf = plx_dma_zmalloc(len, 4096);
	if (buf == NULL) {
		nvme_format_err(err, "Get Log Page ANA", -ENOMEM, NULL);
		return -ENOMEM;
	}
	rc = nvme_ctrlr_get_log_sync(ctrlr, PLX_NVME_LOG_ASYMMETRIC_NAMESPACE_ACCESS, 0, false, 0,
				     buf, (uint32_t)len, &cpl);
	if (rc == 0) {
		nvme_ctrlr_parse_ana_log(ctrlr, buf, len);
	} else {
		nvme_format_err(err, "Get Log Page ANA", rc, &cpl);
	}
	plx_dma_free(buf);
	return rc;
}

struct nvme_ana_refresh {
	struct plx_nvme_ctrlr *ctrlr;
	uint8_t *buf;
	uint32_t len;
	plx_nvme_ctrlr_done_cb cb;
	void *cb_arg;
};

static void nvme_ana_refresh_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct nvme_ana_refresh *r = arg;
	int rc = plx_nvme_cpl_is_error(cpl) ? -EIO : 0;

	if (rc == 0) {
		nvme_ctrlr_parse_ana_log(r->ctrlr, r->buf, r->len);
	}
	r->cb(r->cb_arg, rc);
	plx_dma_free(r->buf);
	free(r);
}

int plx_nvme_ctrlr_refresh_ana(struct plx_nvme_ctrlr *ctrlr, plx_nvme_ctrlr_done_cb cb,
			       void *cb_arg)
{
	uint32_t groups = ctrlr->cdata.nanagrpid ? ctrlr->cdata.nanagrpid : ctrlr->cdata.anagrpmax;
	uint64_t len =
	    sizeof(struct plx_nvme_ana_page) +
	    (uint64_t)PLX_MAX(groups, 1u) * sizeof(struct plx_nvme_ana_group_descriptor) +
	    (uint64_t)ctrlr->num_ns * 4;
	struct nvme_ana_refresh *r;
	int rc;

	if (!(ctrlr->cdata.cmic & PLX_NVME_CMIC_ANA_REPORTING)) {
		return -ENOTSUP;
	}
	/* One command: a log longer than a transfer is read in part (the parse says so). */
	len = PLX_MIN(PLX_MIN(len, NVME_ANA_LOG_MAX), (uint64_t)ctrlr->max_xfer_size) & ~3ull;
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->buf = plx_dma_zmalloc(len, 4096)) == NULL) {
		free(r);
		return -ENOMEM;
	}
	*r = (struct nvme_ana_refresh){ctrlr, r->buf, (uint32_t)len, cb, cb_arg};
	rc = plx_nvme_ctrlr_cmd_get_log_page(ctrlr, PLX_NVME_LOG_ASYMMETRIC_NAMESPACE_ACCESS, 0,
					     r->buf, r->len, 0, nvme_ana_refresh_done, r);
	if (rc != 0) {
		plx_dma_free(r->buf);
		free(r);
	}
	return rc;
}

/* ---- asynchronous events ---- */

static int nvme_ctrlr_submit_aer(struct plx_nvme_ctrlr *ctrlr);

static void nvme_aer_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct plx_nvme_ctrlr *ctrlr = arg;

	ctrlr->num_aers--;
	if (plx_nvme_cpl_is_error(cpl)) {
		/* Aborted at teardown, or over the limit: either way not re-armed. */
		if (cpl->status.sc != PLX_NVME_SC_ABORTED_SQ_DELETION && !ctrlr->shutting_down) {
			PLX_WARNLOG("Asynchronous Event Request failed: %s\n",
				    plx_nvme_status_string(&cpl->status));
		}
		return;
	}
	/* Handled from the admin poll, outside this callback: handling sends admin commands. */
	if (ctrlr->num_aer_events < NVME_MAX_ASYNC_EVENTS) {
		ctrlr->aer_events[ctrlr->num_aer_events++] = *cpl;
	}
	if (!ctrlr->shutting_down && ctrlr->state != NVME_CTRLR_FAILED) {
		nvme_ctrlr_submit_aer(ctrlr);
	}
}

static int nvme_ctrlr_submit_aer(struct plx_nvme_ctrlr *ctrlr)
{
	struct plx_nvme_cmd cmd = {0};
	int rc;

	cmd.opc = PLX_NVME_OPC_ASYNC_EVENT_REQUEST;
	rc = nvme_qpair_submit_cmd(ctrlr->adminq, &cmd, NULL, 0, nvme_aer_done, ctrlr);
	if (rc == 0) {
		ctrlr->num_aers++;
	}
	return rc;
}

static int nvme_ctrlr_configure_aer(struct plx_nvme_ctrlr *ctrlr, char *err)
{
	const struct plx_nvme_ctrlr_data *cd = &ctrlr->cdata;
	uint32_t aec = 0, n;
	struct plx_nvme_cpl cpl;
	int rc;

	if (cd->oaes & PLX_NVME_OAES_NS_ATTR) {
		aec |= PLX_NVME_AEC_NS_ATTR;
	}
	if ((cd->oaes & PLX_NVME_OAES_ANA_CHANGE) && (cd->cmic & PLX_NVME_CMIC_ANA_REPORTING)) {
		aec |= PLX_NVME_AEC_ANA_CHANGE;
	}
	if (aec != 0) {
		rc = nvme_ctrlr_set_feature_sync(ctrlr, PLX_NVME_FEAT_ASYNC_EVENT_CONFIGURATION,
						 aec, &cpl);
		if (rc != 0) {
			nvme_format_err(err, "Set Features Asynchronous Event Configuration", rc,
					&cpl);
			return rc;
		}
	}
	n = PLX_MIN((uint32_t)cd->aerl + 1, (uint32_t)NVME_MAX_ASYNC_EVENTS);
	while (ctrlr->num_aers < n) {
		if ((rc = nvme_ctrlr_submit_aer(ctrlr)) != 0) {
			nvme_format_err(err, "Asynchronous Event Request", rc, NULL);
			return rc;
		}
	}
	return 0;
}

/* The namespace set changed: read the changed list (clearing the event) and rescan. */
static void nvme_ctrlr_handle_ns_change(struct plx_nvme_ctrlr *ctrlr)
{
	char err[PLX_NVME_ERR_LEN];
	struct plx_nvme_cpl cpl;
	void *buf = plx_dma_zmalloc(sizeof(struct plx_nvme_ns_list), 4096);
	int rc = -ENOMEM;

	ctrlr->ns_rescan_pending = true;
	if (buf != NULL) {
		rc = nvme_ctrlr_get_log_sync(ctrlr, PLX_NVME_LOG_CHANGED_NS_LIST, 0, false, 0, buf,
					     sizeof(struct plx_nvme_ns_list), &cpl);
		if (rc != 0) {
			nvme_format_err(err, "Get Log Page Changed Namespace List", rc, &cpl);
		}
	}
	if (rc == 0) {
		rc = nvme_ctrlr_scan_namespaces(ctrlr, err);
	}
	if (rc == 0 && (ctrlr->cdata.cmic & PLX_NVME_CMIC_ANA_REPORTING)) {
		rc = nvme_ctrlr_update_ana(ctrlr, err);
	}
	if (rc == 0) {
		ctrlr->ns_rescan_pending = false;
	} else {
		PLX_ERRLOG("namespace rescan: %s\n", err);
	}
	plx_dma_free(buf);
}

static void nvme_ctrlr_handle_aer_events(struct plx_nvme_ctrlr *ctrlr)
{
	char err[PLX_NVME_ERR_LEN];

	ctrlr->in_aer_handling = true;
	while (ctrlr->num_aer_events > 0 && ctrlr->state == NVME_CTRLR_READY) {
		struct plx_nvme_cpl cpl = ctrlr->aer_events[0];
		uint8_t type = cpl.cdw0 & 7, info = (cpl.cdw0 >> 8) & 0xff;

		ctrlr->num_aer_events--;
		memmove(&ctrlr->aer_events[0], &ctrlr->aer_events[1],
			ctrlr->num_aer_events * sizeof(cpl));
		if (type == PLX_NVME_ASYNC_EVENT_TYPE_NOTICE &&
		    info == PLX_NVME_ASYNC_EVENT_NS_ATTR_CHANGED) {
			nvme_ctrlr_handle_ns_change(ctrlr);
		} else if (type == PLX_NVME_ASYNC_EVENT_TYPE_NOTICE &&
			   info == PLX_NVME_ASYNC_EVENT_ANA_CHANGE) {
			if (nvme_ctrlr_update_ana(ctrlr, err) != 0) {
				PLX_ERRLOG("ANA change: %s\n", err);
			}
		}
		if (ctrlr->aer_cb != NULL) {
			ctrlr->aer_cb(ctrlr->aer_cb_arg, &cpl);
		}
	}
	ctrlr->in_aer_handling = false;
}

void plx_nvme_ctrlr_register_aer_callback(struct plx_nvme_ctrlr *ctrlr, plx_nvme_aer_cb cb,
					  void *cb_arg)
{
	ctrlr->aer_cb = cb;
	ctrlr->aer_cb_arg = cb_arg;
}

/* ---- keep-alive ---- */

static void nvme_keep_alive_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	(void)arg;
	if (plx_nvme_cpl_is_error(cpl) && cpl->status.sc != PLX_NVME_SC_ABORTED_SQ_DELETION) {
		PLX_WARNLOG("Keep Alive failed: %s\n", plx_nvme_status_string(&cpl->status));
	}
}

/* Fabrics only: the controller may round KATO, so ask it what it runs with. */
static void nvme_ctrlr_setup_keep_alive(struct plx_nvme_ctrlr *ctrlr)
{
	uint32_t kato = ctrlr->opts.keep_alive_timeout_ms;
	struct plx_nvme_cmd cmd = {0};
	struct plx_nvme_cpl cpl;

	ctrlr->keep_alive_interval_ticks = 0;
	if (ctrlr->transport->trtype == PLX_NVME_TRTYPE_PCIE || kato == 0) {
		return;
	}
	cmd.opc = PLX_NVME_OPC_GET_FEATURES;
	cmd.cdw10 = PLX_NVME_FEAT_KEEP_ALIVE_TIMER;
	if (nvme_ctrlr_cmd_admin_sync(ctrlr, &cmd, NULL, 0, &cpl) == 0 && cpl.cdw0 != 0) {
		kato = cpl.cdw0;
	}
	ctrlr->keep_alive_interval_ticks = PLX_MAX(kato / 2, 1u) * nvme_ticks_per_ms();
	ctrlr->next_keep_alive_tick = nvme_ticks() + ctrlr->keep_alive_interval_ticks;
}

static void nvme_ctrlr_keep_alive(struct plx_nvme_ctrlr *ctrlr)
{
	struct plx_nvme_cmd cmd = {0};
	uint64_t now = nvme_ticks();

	if (now < ctrlr->next_keep_alive_tick) {
		return;
	}
	cmd.opc = PLX_NVME_OPC_KEEP_ALIVE;
	/* No free request now: try again on the next poll. */
	if (nvme_qpair_submit_cmd(ctrlr->adminq, &cmd, NULL, 0, nvme_keep_alive_done, NULL) == 0) {
		ctrlr->next_keep_alive_tick = now + ctrlr->keep_alive_interval_ticks;
	}
}

/* ---- the whole sequence ---- */

static int nvme_ctrlr_init(struct plx_nvme_ctrlr *ctrlr, char *err)
{
	void *buf = plx_dma_zmalloc(4096, 4096);
	int rc;

	if (buf == NULL) {
		nvme_format_err(err, "init", -ENOMEM, NULL);
		return -ENOMEM;
	}
	ctrlr->num_aer_events = 0;
	rc = nvme_ctrlr_enable(ctrlr, err);
	if (rc == 0) {
		rc = nvme_ctrlr_identify(ctrlr, buf, err);
	}
	plx_dma_free(buf);
	/* A discovery controller has no I/O queues, namespaces or events of ours to set up. */
	if (rc == 0 && !ctrlr->is_discovery) {
		if ((rc = nvme_ctrlr_set_num_queues(ctrlr, err)) == 0 &&
		    (rc = nvme_ctrlr_scan_namespaces(ctrlr, err)) == 0 &&
		    (rc = nvme_ctrlr_update_ana(ctrlr, err)) == 0) {
			rc = nvme_ctrlr_configure_aer(ctrlr, err);
		}
	}
	if (rc == 0) {
		nvme_ctrlr_setup_keep_alive(ctrlr);
		ctrlr->state = NVME_CTRLR_READY;
	}
	return rc;
}

/* Complete what the admin queue holds, free the core's parts, and let the transport go. */
static void nvme_ctrlr_destroy(struct plx_nvme_ctrlr *ctrlr)
{
	ctrlr->shutting_down = true;
	if (ctrlr->adminq != NULL) {
		nvme_qpair_abort_all(ctrlr->adminq, true);
	}
	free(ctrlr->ns);
	ctrlr->ns = NULL;
	free(ctrlr->free_qids);
	ctrlr->free_qids = NULL;
	pthread_mutex_destroy(&ctrlr->lock);
	ctrlr->transport->ctrlr_destruct(ctrlr);
}

void nvme_ctrlr_lock_init(struct plx_nvme_ctrlr *ctrlr)
{
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&ctrlr->lock, &attr);
	pthread_mutexattr_destroy(&attr);
}

struct plx_nvme_ctrlr *plx_nvme_connect(const struct plx_nvme_trid *trid,
					const struct plx_nvme_ctrlr_opts *opts, char *err)
{
	char local_err[PLX_NVME_ERR_LEN];
	const struct nvme_transport_ops *transport;
	struct plx_nvme_ctrlr_opts o;
	struct plx_nvme_ctrlr *ctrlr;

	if (err == NULL) {
		err = local_err;
	}
	err[0] = '\0';
	transport = nvme_transport_find(trid->trtype);
	if (transport == NULL) {
		snprintf(err, PLX_NVME_ERR_LEN, "no transport for trtype %s (%d)",
			 plx_nvme_trtype_str(trid->trtype), trid->trtype);
		return NULL;
	}
	if (opts != NULL) {
		o = *opts;
	} else {
		plx_nvme_ctrlr_get_default_opts(&o);
	}
	nvme_host_identity(&o);
	ctrlr = transport->ctrlr_construct(trid, &o, err);
	if (ctrlr == NULL) {
		if (err[0] == '\0') {
			snprintf(err, PLX_NVME_ERR_LEN, "%s: could not connect", transport->name);
		}
		return NULL;
	}
	TAILQ_INIT(&ctrlr->io_qpairs);
	ctrlr->state = NVME_CTRLR_INIT;
	if (ctrlr->adminq->state != NVME_QPAIR_FAILED) {
		ctrlr->adminq->state = NVME_QPAIR_CONNECTED;
	}
	if (nvme_ctrlr_init(ctrlr, err) != 0) {
		PLX_ERRLOG("%s %s %s: %s\n", transport->name, trid->traddr, trid->trsvcid, err);
		nvme_ctrlr_destroy(ctrlr);
		return NULL;
	}
	return ctrlr;
}

/* CC.SHN normal, then wait (bounded by RTD3E) for CSTS.SHST complete. */
static void nvme_ctrlr_shutdown(struct plx_nvme_ctrlr *ctrlr)
{
	const struct nvme_transport_ops *t = ctrlr->transport;
	uint32_t rtd3e_ms = (ctrlr->cdata.rtd3e + 999) / 1000;
	uint32_t ms =
	    rtd3e_ms != 0 ? PLX_MIN(PLX_MAX(rtd3e_ms, 500u), 60000u) : NVME_SHUTDOWN_DEFAULT_MS;
	uint64_t deadline = nvme_ticks() + (uint64_t)ms * nvme_ticks_per_ms();
	union plx_nvme_cc cc;
	union plx_nvme_csts csts;

	ctrlr->shutting_down = true;
	if (t->ctrlr_get_reg_4(ctrlr, PLX_NVME_REG_CC, &cc.raw) != 0) {
		return;
	}
	cc.bits.shn = PLX_NVME_SHN_NORMAL;
	if (t->ctrlr_set_reg_4(ctrlr, PLX_NVME_REG_CC, cc.raw) != 0) {
		return;
	}
	for (;;) {
		bool expired = nvme_ticks() > deadline;

		if (t->ctrlr_get_reg_4(ctrlr, PLX_NVME_REG_CSTS, &csts.raw) != 0 ||
		    csts.bits.shst == PLX_NVME_SHST_COMPLETE) {
			return;
		}
		if (expired) {
			PLX_WARNLOG("%s: shutdown not complete after %u ms\n", ctrlr->trid.traddr,
				    ms);
			return;
		}
	}
}

int plx_nvme_detach(struct plx_nvme_ctrlr *ctrlr)
{
	struct plx_nvme_qpair *qpair;

	if (!TAILQ_EMPTY(&ctrlr->io_qpairs)) {
		PLX_WARNLOG("%s: detached with I/O qpairs still allocated: freeing them\n",
			    ctrlr->trid.traddr);
	}
	while ((qpair = TAILQ_FIRST(&ctrlr->io_qpairs)) != NULL) {
		plx_nvme_ctrlr_free_io_qpair(qpair);
	}
	if (ctrlr->state == NVME_CTRLR_READY) {
		nvme_ctrlr_shutdown(ctrlr);
	}
	nvme_ctrlr_destroy(ctrlr);
	return 0;
}

/* ---- reset ---- */

static void nvme_ctrlr_disconnect_all(struct plx_nvme_ctrlr *ctrlr)
{
	const struct nvme_transport_ops *t = ctrlr->transport;
	struct plx_nvme_qpair *qpair;

	TAILQ_FOREACH(qpair, &ctrlr->io_qpairs, link)
	{
		/* Disconnected first, so callbacks that resubmit are refused, not queued. */
		qpair->state = NVME_QPAIR_DISCONNECTED;
		nvme_qpair_abort_all(qpair, true);
		t->qpair_disconnect(ctrlr, qpair);
	}
	ctrlr->shutting_down = true; /* AERs complete aborted: no re-arming */
	ctrlr->adminq->state = NVME_QPAIR_DISCONNECTED;
	nvme_qpair_abort_all(ctrlr->adminq, true);
	ctrlr->shutting_down = false;
	t->qpair_disconnect(ctrlr, ctrlr->adminq);
}

static int nvme_ctrlr_reconnect_io_qpairs(struct plx_nvme_ctrlr *ctrlr, char *err)
{
	struct plx_nvme_qpair *qpair;
	int rc, first = 0;

	TAILQ_FOREACH(qpair, &ctrlr->io_qpairs, link)
	{
		rc = -ENOSPC;
		if (qpair->id <= ctrlr->num_io_queues) {
			qpair->state = NVME_QPAIR_CONNECTING;
			rc = ctrlr->transport->qpair_connect(ctrlr, qpair);
		}
		qpair->state = rc == 0 ? NVME_QPAIR_CONNECTED : NVME_QPAIR_FAILED;
		if (rc != 0 && first == 0) {
			first = rc;
			nvme_format_err(err, "reconnect I/O qpair", rc, NULL);
		}
	}
	return first;
}

static int nvme_ctrlr_reset_locked(struct plx_nvme_ctrlr *ctrlr)
{
	char err[PLX_NVME_ERR_LEN];
	struct plx_nvme_qpair *qpair;
	int rc;

	if (ctrlr->state == NVME_CTRLR_RESETTING || ctrlr->state == NVME_CTRLR_INIT) {
		return -EBUSY;
	}
	ctrlr->reset_requested = false;
	ctrlr->state = NVME_CTRLR_RESETTING;
	nvme_ctrlr_disconnect_all(ctrlr);

	/* Fabrics: a new admin connection; PCIe: the admin queue set up again. */
	ctrlr->adminq->state = NVME_QPAIR_CONNECTING;
	rc = ctrlr->transport->qpair_connect(ctrlr, ctrlr->adminq);
	if (rc != 0) {
		nvme_format_err(err, "reconnect admin queue", rc, NULL);
		goto failed;
	}
	ctrlr->adminq->state = NVME_QPAIR_CONNECTED;
	if ((rc = nvme_ctrlr_init(ctrlr, err)) != 0) {
		goto failed;
	}
	if ((rc = nvme_ctrlr_reconnect_io_qpairs(ctrlr, err)) != 0) {
		PLX_ERRLOG("%s: reset: %s\n", ctrlr->trid.traddr, err);
	}
	return rc;
failed:
	PLX_ERRLOG("%s: reset failed: %s\n", ctrlr->trid.traddr, err);
	ctrlr->adminq->state = NVME_QPAIR_FAILED;
	ctrlr->state = NVME_CTRLR_FAILED;
	TAILQ_FOREACH(qpair, &ctrlr->io_qpairs, link)
	{
		qpair->state = NVME_QPAIR_FAILED;
	}
	return rc;
}

int plx_nvme_ctrlr_reset(struct plx_nvme_ctrlr *ctrlr)
{
	int rc;

	pthread_mutex_lock(&ctrlr->lock);
	rc = nvme_ctrlr_reset_locked(ctrlr);
	pthread_mutex_unlock(&ctrlr->lock);
	return rc;
}

void nvme_ctrlr_reset_if_requested(struct plx_nvme_ctrlr *ctrlr)
{
	if (!ctrlr->reset_requested || ctrlr->state != NVME_CTRLR_READY) {
		return;
	}
	if (ctrlr->opts.disable_auto_reset) {
		/* The owner resets (see the option): failing the controller is how it learns. */
		PLX_ERRLOG("%s: a command expired twice: controller failed\n", ctrlr->trid.traddr);
		ctrlr->reset_requested = false;
		ctrlr->state = NVME_CTRLR_FAILED;
		return;
	}
	plx_nvme_ctrlr_reset(ctrlr);
}

/* ---- the admin poll ---- */

static int32_t nvme_ctrlr_process_admin_locked(struct plx_nvme_ctrlr *ctrlr)
{
	int32_t rc;

	if (ctrlr->state == NVME_CTRLR_FAILED) {
		nvme_qpair_abort_all(ctrlr->adminq, true);
		return -ENXIO;
	}
	rc = nvme_qpair_process(ctrlr->adminq, 0);
	if (rc < 0) {
		return -ENXIO;
	}
	if (ctrlr->keep_alive_interval_ticks != 0) {
		nvme_ctrlr_keep_alive(ctrlr);
	}
	if (ctrlr->num_aer_events != 0 && !ctrlr->in_aer_handling) {
		nvme_ctrlr_handle_aer_events(ctrlr);
	}
	nvme_ctrlr_reset_if_requested(ctrlr);
	return ctrlr->state == NVME_CTRLR_FAILED ? -ENXIO : rc;
}

int32_t plx_nvme_ctrlr_process_admin_completions(struct plx_nvme_ctrlr *ctrlr)
{
	int32_t rc;

	pthread_mutex_lock(&ctrlr->lock);
	rc = nvme_ctrlr_process_admin_locked(ctrlr);
	pthread_mutex_unlock(&ctrlr->lock);
	return rc;
}

/* ---- I/O qpairs ---- */

void plx_nvme_ctrlr_get_default_io_qpair_opts(struct plx_nvme_ctrlr *ctrlr,
					      struct plx_nvme_io_qpair_opts *opts)
{
	opts->io_queue_size = ctrlr->opts.io_queue_size;
	opts->io_queue_requests = ctrlr->opts.io_queue_requests;
	opts->delay_cmd_submit = true;
}

static void nvme_io_qpair_resolve_opts(struct plx_nvme_ctrlr *ctrlr,
				       const struct plx_nvme_io_qpair_opts *in,
				       struct plx_nvme_io_qpair_opts *out)
{
	plx_nvme_ctrlr_get_default_io_qpair_opts(ctrlr, out);
	if (in != NULL) {
		out->delay_cmd_submit = in->delay_cmd_submit;
		if (in->io_queue_size != 0) {
			out->io_queue_size = in->io_queue_size;
		}
		if (in->io_queue_requests != 0) {
			out->io_queue_requests = in->io_queue_requests;
		}
	}
	/* CAP.MQES is 0's based; a queue needs at least two entries to hold one command. */
	out->io_queue_size = PLX_MIN(out->io_queue_size, (uint32_t)ctrlr->cap.bits.mqes + 1);
	out->io_queue_size = PLX_MAX(out->io_queue_size, 2u);
	if (out->io_queue_requests == 0) {
		out->io_queue_requests = out->io_queue_size;
	}
}

static struct plx_nvme_qpair *
nvme_ctrlr_alloc_io_qpair_locked(struct plx_nvme_ctrlr *ctrlr,
				 const struct plx_nvme_io_qpair_opts *opts)
{
	const struct nvme_transport_ops *t = ctrlr->transport;
	struct plx_nvme_io_qpair_opts o;
	struct plx_nvme_qpair *qpair;
	uint16_t qid = 0;
	int rc;

	if (ctrlr->state != NVME_CTRLR_READY) {
		PLX_ERRLOG("%s: controller not ready for an I/O qpair\n", ctrlr->trid.traddr);
		return NULL;
	}
	for (uint32_t i = 1; i <= ctrlr->num_io_queues; i++) {
		if (ctrlr->free_qids[i]) {
			qid = (uint16_t)i;
			break;
		}
	}
	if (qid == 0) {
		PLX_ERRLOG("%s: no free I/O queue (%u granted)\n", ctrlr->trid.traddr,
			   ctrlr->num_io_queues);
		return NULL;
	}
	nvme_io_qpair_resolve_opts(ctrlr, opts, &o);
	qpair = t->qpair_create(ctrlr, qid, &o);
	if (qpair == NULL) {
		PLX_ERRLOG("%s: could not create I/O qpair %u\n", ctrlr->trid.traddr, qid);
		return NULL;
	}
	rc = nvme_qpair_init(qpair, ctrlr, qid, o.io_queue_size, o.io_queue_requests,
			     o.delay_cmd_submit);
	if (rc == 0) {
		qpair->state = NVME_QPAIR_CONNECTING;
		rc = t->qpair_connect(ctrlr, qpair);
	}
	if (rc != 0) {
		PLX_ERRLOG("%s: could not connect I/O qpair %u: %s\n", ctrlr->trid.traddr, qid,
			   strerror(-rc));
		nvme_qpair_fini(qpair);
		t->qpair_destroy(ctrlr, qpair);
		return NULL;
	}
	qpair->state = NVME_QPAIR_CONNECTED;
	ctrlr->free_qids[qid] = 0;
	TAILQ_INSERT_TAIL(&ctrlr->io_qpairs, qpair, link);
	return qpair;
}

struct plx_nvme_qpair *plx_nvme_ctrlr_alloc_io_qpair(struct plx_nvme_ctrlr *ctrlr,
						     const struct plx_nvme_io_qpair_opts *opts)
{
	struct plx_nvme_qpair *qpair;

	pthread_mutex_lock(&ctrlr->lock);
	qpair = nvme_ctrlr_alloc_io_qpair_locked(ctrlr, opts);
	pthread_mutex_unlock(&ctrlr->lock);
	return qpair;
}

int plx_nvme_ctrlr_free_io_qpair(struct plx_nvme_qpair *qpair)
{
	struct plx_nvme_ctrlr *ctrlr;

	if (qpair == NULL) {
		return -EINVAL;
	}
	ctrlr = qpair->ctrlr;
	/* Outstanding commands complete here, on the owner's thread, before the lock. */
	qpair->state = NVME_QPAIR_DISCONNECTED;
	nvme_qpair_abort_all(qpair, true);
	pthread_mutex_lock(&ctrlr->lock);
	ctrlr->transport->qpair_disconnect(ctrlr, qpair);
	TAILQ_REMOVE(&ctrlr->io_qpairs, qpair, link);
	if (qpair->id <= ctrlr->num_io_queues) {
		ctrlr->free_qids[qpair->id] = 1;
	}
	nvme_qpair_fini(qpair);
	ctrlr->transport->qpair_destroy(ctrlr, qpair);
	pthread_mutex_unlock(&ctrlr->lock);
	return 0;
}

/* ---- getters ---- */

const struct plx_nvme_trid *plx_nvme_ctrlr_get_trid(const struct plx_nvme_ctrlr *ctrlr)
{
	return &ctrlr->trid;
}

int plx_nvme_ctrlr_get_admin_fd(const struct plx_nvme_ctrlr *ctrlr)
{
	const struct nvme_transport_ops *t = ctrlr->transport;

	if (t->qpair_get_fd == NULL || ctrlr->adminq == NULL || ctrlr->state != NVME_CTRLR_READY) {
		return -1;
	}
	return t->qpair_get_fd(ctrlr->adminq);
}

uint32_t plx_nvme_ctrlr_get_keep_alive_interval_ms(const struct plx_nvme_ctrlr *ctrlr)
{
	return (uint32_t)(ctrlr->keep_alive_interval_ticks / nvme_ticks_per_ms());
}

const char *plx_nvme_ctrlr_get_hostnqn(const struct plx_nvme_ctrlr *ctrlr)
{
	return ctrlr->opts.hostnqn;
}

const struct plx_nvme_ctrlr_data *plx_nvme_ctrlr_get_data(const struct plx_nvme_ctrlr *ctrlr)
{
	return &ctrlr->cdata;
}

union plx_nvme_cap plx_nvme_ctrlr_get_cap(const struct plx_nvme_ctrlr *ctrlr)
{
	return ctrlr->cap;
}

union plx_nvme_vs plx_nvme_ctrlr_get_vs(const struct plx_nvme_ctrlr *ctrlr)
{
	return ctrlr->vs;
}

uint32_t plx_nvme_ctrlr_get_max_xfer_size(const struct plx_nvme_ctrlr *ctrlr)
{
	return ctrlr->max_xfer_size;
}

uint32_t plx_nvme_ctrlr_get_num_io_queues(const struct plx_nvme_ctrlr *ctrlr)
{
	return ctrlr->num_io_queues;
}

bool plx_nvme_ctrlr_is_failed(const struct plx_nvme_ctrlr *ctrlr)
{
	return ctrlr->state == NVME_CTRLR_FAILED;
}

uint32_t plx_nvme_ctrlr_get_next_active_ns(struct plx_nvme_ctrlr *ctrlr, uint32_t prev_nsid)
{
	for (uint32_t id = prev_nsid + 1; id != 0 && id <= ctrlr->num_ns; id++) {
		if (ctrlr->ns[id - 1].active) {
			return id;
		}
	}
	return 0;
}

uint32_t plx_nvme_ctrlr_get_first_active_ns(struct plx_nvme_ctrlr *ctrlr)
{
	return plx_nvme_ctrlr_get_next_active_ns(ctrlr, 0);
}

struct plx_nvme_ns *plx_nvme_ctrlr_get_ns(struct plx_nvme_ctrlr *ctrlr, uint32_t nsid)
{
	if (nsid == 0 || nsid > ctrlr->num_ns || !ctrlr->ns[nsid - 1].active) {
		return NULL;
	}
	return &ctrlr->ns[nsid - 1];
}
