/* SPDX-License-Identifier: BSD-3-Clause */
/* The fake transport of fake_nvme.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_nvme.h"
#include "pollux/util.h"

struct fake_dev g_dev;

struct fake_qpair {
	struct plx_nvme_qpair q;
	STAILQ_HEAD(, nvme_request) sq;	  /* answered on the next process call */
	STAILQ_HEAD(, nvme_request) held; /* AERs, held I/O */
	uint32_t at_transport;
	uint16_t next_cid;
	bool broken; /* fake_port_fail_qpairs: the next poll fails */
	TAILQ_ENTRY(fake_qpair) all;
};

struct fake_ctrlr {
	struct plx_nvme_ctrlr c;
	uint32_t cc;
	uint32_t csts_reads_since_cc;
};

static TAILQ_HEAD(, fake_qpair) g_qpairs = TAILQ_HEAD_INITIALIZER(g_qpairs);

uint64_t nvme_ticks(void)
{
	return g_dev.now;
}

uint64_t nvme_ticks_per_ms(void)
{
	return 1000;
}

static void fake_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fake_log(const char *fmt, ...)
{
	size_t len = strlen(g_dev.log);
	va_list ap;

	if (len + 1 >= sizeof(g_dev.log)) {
		return;
	}
	if (len != 0) {
		g_dev.log[len++] = ' ';
	}
	va_start(ap, fmt);
	vsnprintf(g_dev.log + len, sizeof(g_dev.log) - len, fmt, ap);
	va_end(ap);
}

void fake_reset(void)
{
	memset(&g_dev, 0, sizeof(g_dev));
	g_dev.cap.bits.to = 4;
	g_dev.cap.bits.mqes = 127;
	g_dev.cap.bits.css = 1;
	g_dev.vs = PLX_NVME_VERSION(1, 4, 0);
	g_dev.ready_delay_reads = 2;
	g_dev.ms_per_csts_read = 10;
	g_dev.cdata.mdts = 5;
	g_dev.cdata.nn = 2;
	g_dev.cdata.aerl = 3;
	g_dev.cdata.oaes = PLX_NVME_OAES_NS_ATTR;
	g_dev.cdata.cntrltype = 1;
	g_dev.cdata.rtd3e = 1000000;
	g_dev.ns_active[1] = g_dev.ns_active[2] = true;
	g_dev.nq_cdw0 = UINT32_MAX;
	g_dev.max_xfer = 1u << 20;
	g_dev.fail_opc = 0xff;
	g_dev.fail_cns = -1;
	g_dev.now = 1000000;
}

/* ---- ports ---- */

static struct fake_port *port_find(const char *trsvcid)
{
	for (uint32_t i = 0; i < g_dev.num_ports; i++) {
		if (strcmp(g_dev.ports[i].trsvcid, trsvcid) == 0) {
			return &g_dev.ports[i];
		}
	}
	return NULL;
}

static struct fake_port *port_of(const struct plx_nvme_ctrlr *ctrlr)
{
	return ctrlr != NULL ? port_find(ctrlr->trid.trsvcid) : NULL;
}

struct fake_port *fake_port(const char *trsvcid)
{
	struct fake_port *port = port_find(trsvcid);

	if (port == NULL && g_dev.num_ports < FAKE_MAX_PORTS) {
		port = &g_dev.ports[g_dev.num_ports++];
		snprintf(port->trsvcid, sizeof(port->trsvcid), "%s", trsvcid);
	}
	return port;
}

/* ---- registers ---- */

static int fake_get_reg_4(struct plx_nvme_ctrlr *ctrlr, uint32_t offset, uint32_t *value)
{
	struct fake_ctrlr *fc = (struct fake_ctrlr *)ctrlr;
	union plx_nvme_cc cc = {.raw = fc->cc};
	union plx_nvme_csts csts = {0};

	switch (offset) {
	case PLX_NVME_REG_VS:
		fake_log("VS");
		*value = g_dev.vs;
		return 0;
	case PLX_NVME_REG_CC:
		fake_log("CC");
		*value = fc->cc;
		return 0;
	case PLX_NVME_REG_CSTS:
		fake_log("CSTS");
		g_dev.now += (uint64_t)g_dev.ms_per_csts_read * 1000;
		fc->csts_reads_since_cc++;
		csts.bits.cfs = g_dev.cfs;
		/* RDY follows EN after a few reads (or never). */
		if (fc->csts_reads_since_cc > g_dev.ready_delay_reads) {
			csts.bits.rdy = cc.bits.en && !g_dev.never_ready;
		} else {
			csts.bits.rdy = !cc.bits.en;
		}
		if (cc.bits.shn != 0) {
			csts.bits.shst = PLX_NVME_SHST_COMPLETE;
		}
		*value = csts.raw;
		return 0;
	default:
		return -EINVAL;
	}
}

static int fake_get_reg_8(struct plx_nvme_ctrlr *ctrlr, uint32_t offset, uint64_t *value)
{
	(void)ctrlr;
	if (offset != PLX_NVME_REG_CAP) {
		return -EINVAL;
	}
	fake_log("CAP");
	*value = g_dev.cap.raw;
	return 0;
}

static int fake_set_reg_4(struct plx_nvme_ctrlr *ctrlr, uint32_t offset, uint32_t value)
{
	struct fake_ctrlr *fc = (struct fake_ctrlr *)ctrlr;

	if (offset != PLX_NVME_REG_CC) {
		return -EINVAL;
	}
	fake_log("CC=%08x", value);
	fc->cc = value;
	fc->csts_reads_since_cc = 0;
	g_dev.cc_writes++;
	g_dev.last_cc = value;
	return 0;
}

/* ---- qpairs ---- */

static struct fake_qpair *fake_qpair_alloc(void)
{
	struct fake_qpair *fq = calloc(1, sizeof(*fq));

	STAILQ_INIT(&fq->sq);
	STAILQ_INIT(&fq->held);
	fq->next_cid = 1;
	TAILQ_INSERT_TAIL(&g_qpairs, fq, all);
	return fq;
}

static void fake_qpair_free(struct fake_qpair *fq)
{
	TAILQ_REMOVE(&g_qpairs, fq, all);
	free(fq);
}

static struct plx_nvme_ctrlr *fake_construct(const struct plx_nvme_trid *trid,
					     const struct plx_nvme_ctrlr_opts *opts, char *err)
{
	struct fake_port *port = port_find(trid->trsvcid);
	struct fake_ctrlr *fc;
	struct fake_qpair *aq;

	if (port != NULL) {
		port->constructs++;
	}
	if (g_dev.construct_fails || (port != NULL && port->refuse)) {
		snprintf(err, PLX_NVME_ERR_LEN, "fake: connection refused");
		return NULL;
	}
	fc = calloc(1, sizeof(*fc));
	nvme_ctrlr_lock_init(&fc->c);
	aq = fake_qpair_alloc();
	fc->cc = g_dev.initial_cc;
	fc->c.transport = nvme_transport_find(FAKE_TRTYPE);
	fc->c.trid = *trid;
	fc->c.opts = *opts;
	fc->c.cntlid = 1;
	nvme_qpair_init(&aq->q, &fc->c, 0, opts->admin_queue_size, opts->admin_queue_size, false);
	fc->c.adminq = &aq->q;
	g_dev.constructs++;
	return &fc->c;
}

static void fake_destruct(struct plx_nvme_ctrlr *ctrlr)
{
	struct fake_qpair *aq = (struct fake_qpair *)ctrlr->adminq;

	nvme_qpair_fini(&aq->q);
	fake_qpair_free(aq);
	free(ctrlr);
	g_dev.destructs++;
}

static uint32_t fake_max_xfer(struct plx_nvme_ctrlr *ctrlr)
{
	(void)ctrlr;
	return g_dev.max_xfer;
}

static struct plx_nvme_qpair *fake_qpair_create(struct plx_nvme_ctrlr *ctrlr, uint16_t qid,
						const struct plx_nvme_io_qpair_opts *opts)
{
	(void)ctrlr;
	(void)qid;
	(void)opts;
	return &fake_qpair_alloc()->q;
}

static int fake_qpair_connect(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair)
{
	struct fake_port *port = port_of(ctrlr);

	fake_log("CONNECT%u", qpair->id);
	if (port != NULL && qpair->id == 0) {
		port->admin_connects++;
	}
	if (port != NULL && port->refuse) {
		return -ECONNREFUSED;
	}
	if (qpair->id == 0) {
		/* A new admin connection is a new association: the controller starts disabled. */
		((struct fake_ctrlr *)ctrlr)->cc = 0;
	}
	g_dev.qpair_connects++;
	return g_dev.qpair_connect_rc;
}

static void fake_complete(struct fake_qpair *fq, struct nvme_request *req, uint8_t sct, uint8_t sc,
			  bool dnr, uint32_t cdw0)
{
	struct plx_nvme_cpl cpl = {0};

	cpl.cdw0 = cdw0;
	cpl.sqid = fq->q.id;
	cpl.cid = req->transport_cid;
	cpl.status.sct = sct;
	cpl.status.sc = sc;
	cpl.status.dnr = dnr;
	fq->at_transport--;
	nvme_qpair_complete_request(&fq->q, req, &cpl);
}

static void fake_abort_reqs(struct plx_nvme_qpair *qpair, bool dnr)
{
	struct fake_qpair *fq = (struct fake_qpair *)qpair;
	struct nvme_request *req;

	while ((req = STAILQ_FIRST(&fq->sq)) != NULL || (req = STAILQ_FIRST(&fq->held)) != NULL) {
		if (req == STAILQ_FIRST(&fq->sq)) {
			STAILQ_REMOVE_HEAD(&fq->sq, link);
		} else {
			STAILQ_REMOVE_HEAD(&fq->held, link);
		}
		if (qpair->id == 0 && req->cmd.opc == PLX_NVME_OPC_ASYNC_EVENT_REQUEST) {
			g_dev.aers_pending--;
		}
		fake_complete(fq, req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_ABORTED_SQ_DELETION, dnr,
			      0);
	}
}

static void fake_qpair_disconnect(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair)
{
	(void)ctrlr;
	fake_log("DISCONNECT%u", qpair->id);
	g_dev.qpair_disconnects++;
	fake_abort_reqs(qpair, true);
}

static void fake_qpair_destroy(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair)
{
	(void)ctrlr;
	nvme_qpair_fini(qpair);
	fake_qpair_free((struct fake_qpair *)qpair);
}

static void fake_record(struct fake_cmd *rec, struct nvme_request *req, uint16_t qid)
{
	rec->cmd = req->cmd;
	rec->payload_type = req->payload.type;
	rec->buf = req->payload.buf;
	rec->payload_size = req->payload_size;
	rec->qid = qid;
	if (req->payload.type == NVME_PAYLOAD_CONTIG &&
	    req->xfer == PLX_NVME_DATA_HOST_TO_CONTROLLER) {
		memcpy(rec->data, req->payload.buf, PLX_MIN(req->payload_size, sizeof(rec->data)));
	}
}

static int fake_submit(struct plx_nvme_qpair *qpair, struct nvme_request *req)
{
	struct fake_qpair *fq = (struct fake_qpair *)qpair;

	if (g_dev.sq_slots != 0 && qpair->id != 0 && fq->at_transport >= g_dev.sq_slots) {
		return -EAGAIN;
	}
	req->transport_cid = fq->next_cid++;
	req->cmd.cid = req->transport_cid;
	if (qpair->id == 0) {
		if (g_dev.num_admin < FAKE_MAX_CMDS) {
			fake_record(&g_dev.admin[g_dev.num_admin++], req, 0);
		}
	} else {
		struct fake_port *port = port_of(qpair->ctrlr);

		if (port != NULL) {
			port->io_submitted++;
		}
		if (g_dev.num_io < FAKE_MAX_CMDS) {
			fake_record(&g_dev.io[g_dev.num_io++], req, qpair->id);
		}
	}
	fq->at_transport++;
	STAILQ_INSERT_TAIL(&fq->sq, req, link);
	return 0;
}

/* ---- admin answers ---- */

static void fake_fill_ns(uint32_t nsid, struct plx_nvme_ns_data *nd)
{
	memset(nd, 0, sizeof(*nd));
	if (nsid == 0 || nsid > FAKE_MAX_NS || !g_dev.ns_active[nsid]) {
		return;
	}
	nd->nsze = nd->ncap = 1000 + nsid;
	nd->nlbaf = 1;
	nd->flbas = 1;
	nd->lbaf[0].lbads = 9;
	nd->lbaf[1].lbads = 12;
	nd->anagrpid = g_dev.ns_group[nsid];
}

/* Build a whole log page; the caller copies the window asked for. */
static size_t fake_build_log(const struct plx_nvme_ctrlr *ctrlr, uint8_t lid, uint8_t *log,
			     size_t cap)
{
	const struct fake_port *port = port_of(ctrlr);
	const uint8_t *group_state =
	    port != NULL && port->ana ? port->group_state : g_dev.group_state;
	size_t len = 0;

	memset(log, 0, cap);
	if (lid == PLX_NVME_LOG_CHANGED_NS_LIST) {
		return 4096;
	}
	if (lid == PLX_NVME_LOG_ASYMMETRIC_NAMESPACE_ACCESS) {
		struct plx_nvme_ana_page *hdr = (void *)log;

		len = sizeof(*hdr);
		for (uint32_t g = 1; g < 8; g++) {
			struct plx_nvme_ana_group_descriptor *d = (void *)(log + len);

			if (group_state[g] == 0) {
				continue;
			}
			d->ana_group_id = g;
			d->ana_state = group_state[g];
			for (uint32_t ns = 1; ns <= FAKE_MAX_NS; ns++) {
				if (g_dev.ns_active[ns] && g_dev.ns_group[ns] == g) {
					d->nsid[d->num_of_nsid++] = ns;
				}
			}
			len += sizeof(*d) + d->num_of_nsid * 4;
			hdr->num_ana_group_desc++;
		}
		return len;
	}
	if (lid == PLX_NVME_LOG_DISCOVERY) {
		struct plx_nvmf_discovery_log_page *hdr = (void *)log;

		hdr->genctr = 7;
		hdr->numrec = g_dev.num_disc;
		memcpy(hdr->entries, g_dev.disc, g_dev.num_disc * sizeof(g_dev.disc[0]));
		return sizeof(*hdr) + g_dev.num_disc * sizeof(g_dev.disc[0]);
	}
	return 0;
}

static void fake_get_log(struct fake_qpair *fq, struct nvme_request *req)
{
	static uint8_t log[64 * 1024];
	uint32_t len = ((req->cmd.cdw10 >> 16) | (req->cmd.cdw11 << 16)) * 4 + 4;
	uint64_t off = req->cmd.cdw12 | ((uint64_t)req->cmd.cdw13 << 32);
	size_t total = fake_build_log(fq->q.ctrlr, req->cmd.cdw10 & 0xff, log, sizeof(log));

	memset(req->payload.buf, 0, len);
	if (off < total) {
		memcpy(req->payload.buf, log + off, PLX_MIN(len, total - off));
	}
	fake_complete(fq, req, 0, 0, false, 0);
}

static void fake_identify(struct fake_qpair *fq, struct nvme_request *req)
{
	struct plx_nvme_ctrlr *ctrlr = fq->q.ctrlr;
	uint8_t cns = req->cmd.cdw10 & 0xff;
	uint32_t *list = req->payload.buf, n = 0;

	switch (cns) {
	case PLX_NVME_IDENTIFY_CTRLR:
		memcpy(req->payload.buf, &g_dev.cdata, sizeof(g_dev.cdata));
		if (port_of(ctrlr) != NULL && port_of(ctrlr)->cntlid != 0) {
			((struct plx_nvme_ctrlr_data *)req->payload.buf)->cntlid =
			    port_of(ctrlr)->cntlid;
		}
		if (strcmp(ctrlr->trid.subnqn, PLX_NVMF_DISCOVERY_NQN) == 0) {
			((struct plx_nvme_ctrlr_data *)req->payload.buf)->cntrltype = 2;
		}
		break;
	case PLX_NVME_IDENTIFY_ACTIVE_NS_LIST:
		memset(list, 0, 4096);
		for (uint32_t id = req->cmd.nsid + 1; id <= FAKE_MAX_NS && n < 1024; id++) {
			if (g_dev.ns_active[id]) {
				list[n++] = id;
			}
		}
		break;
	case PLX_NVME_IDENTIFY_NS:
		fake_fill_ns(req->cmd.nsid, req->payload.buf);
		break;
	default:
		fake_complete(fq, req, 0, PLX_NVME_SC_INVALID_FIELD, true, 0);
		return;
	}
	fake_complete(fq, req, 0, 0, false, 0);
}

static void fake_abort_target(uint32_t cdw10)
{
	struct fake_qpair *fq;
	struct nvme_request *req;

	TAILQ_FOREACH(fq, &g_qpairs, all)
	{
		if (fq->q.id != (cdw10 & 0xffff)) {
			continue;
		}
		STAILQ_FOREACH(req, &fq->held, link)
		{
			if (req->transport_cid == cdw10 >> 16) {
				STAILQ_REMOVE(&fq->held, req, nvme_request, link);
				fake_complete(fq, req, 0, PLX_NVME_SC_ABORTED_BY_REQUEST, false, 0);
				return;
			}
		}
	}
}

static void fake_admin(struct fake_qpair *fq, struct nvme_request *req)
{
	const struct plx_nvme_cmd *cmd = &req->cmd;
	uint32_t cdw0 = 0;

	if (cmd->opc == g_dev.fail_opc &&
	    (g_dev.fail_cns < 0 || (int)(cmd->cdw10 & 0xff) == g_dev.fail_cns)) {
		fake_complete(fq, req, g_dev.fail_status.sct, g_dev.fail_status.sc,
			      g_dev.fail_status.dnr, 0);
		return;
	}
	switch (cmd->opc) {
	case PLX_NVME_OPC_IDENTIFY:
		fake_log("ID%u:%u", cmd->cdw10 & 0xff, cmd->nsid);
		fake_identify(fq, req);
		return;
	case PLX_NVME_OPC_SET_FEATURES:
		fake_log("SF%02x", cmd->cdw10 & 0xff);
		if ((cmd->cdw10 & 0xff) == PLX_NVME_FEAT_NUMBER_OF_QUEUES) {
			cdw0 = g_dev.nq_cdw0 == UINT32_MAX ? cmd->cdw11 : g_dev.nq_cdw0;
		}
		break;
	case PLX_NVME_OPC_GET_FEATURES:
		fake_log("GF%02x", cmd->cdw10 & 0xff);
		cdw0 = g_dev.kato_cdw0;
		break;
	case PLX_NVME_OPC_GET_LOG_PAGE:
		fake_log("LOG%02x", cmd->cdw10 & 0xff);
		fake_get_log(fq, req);
		return;
	case PLX_NVME_OPC_ASYNC_EVENT_REQUEST:
		fake_log("AER");
		g_dev.aers_pending++;
		STAILQ_INSERT_TAIL(&fq->held, req, link);
		return;
	case PLX_NVME_OPC_KEEP_ALIVE:
		fake_log("KA");
		g_dev.keep_alives++;
		break;
	case PLX_NVME_OPC_ABORT:
		fake_log("ABORT");
		if (g_dev.abort_completes) {
			fake_abort_target(cmd->cdw10);
		}
		break;
	default:
		break;
	}
	fake_complete(fq, req, 0, 0, false, cdw0);
}

static void fake_io(struct fake_qpair *fq, struct nvme_request *req)
{
	struct fake_port *port = port_of(fq->q.ctrlr);
	struct plx_nvme_status st = {0};

	if (g_dev.io_hold || (port != NULL && port->io_hold)) {
		STAILQ_INSERT_TAIL(&fq->held, req, link);
		return;
	}
	if (port != NULL && port->io_status_count != 0) {
		port->io_status_count--;
		st = port->io_status;
	} else if (g_dev.io_status_next < g_dev.io_status_count) {
		st = g_dev.io_status[g_dev.io_status_next++];
	}
	fake_complete(fq, req, st.sct, st.sc, st.dnr, 0);
}

static int32_t fake_process(struct plx_nvme_qpair *qpair, uint32_t max)
{
	struct fake_qpair *fq = (struct fake_qpair *)qpair;
	STAILQ_HEAD(, nvme_request) batch = STAILQ_HEAD_INITIALIZER(batch);
	struct nvme_request *req;
	int32_t n = 0;

	(void)max;
	g_dev.now += 1;
	if (qpair->id != 0 && (g_dev.fail_io_process || fq->broken)) {
		nvme_qpair_set_failed(qpair);
		return -ENXIO;
	}
	/* Only what was submitted before this call: resubmissions wait for the next one. */
	STAILQ_CONCAT(&batch, &fq->sq);
	while ((req = STAILQ_FIRST(&batch)) != NULL) {
		STAILQ_REMOVE_HEAD(&batch, link);
		if (qpair->id == 0) {
			fake_admin(fq, req);
		} else {
			fake_io(fq, req);
		}
		n++;
	}
	return n;
}

static const struct nvme_transport_ops g_fake_ops = {
    .name = "FAKE",
    .trtype = FAKE_TRTYPE,
    .ctrlr_construct = fake_construct,
    .ctrlr_destruct = fake_destruct,
    .ctrlr_get_reg_4 = fake_get_reg_4,
    .ctrlr_get_reg_8 = fake_get_reg_8,
    .ctrlr_set_reg_4 = fake_set_reg_4,
    .ctrlr_get_max_xfer_size = fake_max_xfer,
    .qpair_create = fake_qpair_create,
    .qpair_connect = fake_qpair_connect,
    .qpair_disconnect = fake_qpair_disconnect,
    .qpair_destroy = fake_qpair_destroy,
    .qpair_submit_request = fake_submit,
    .qpair_process_completions = fake_process,
    .qpair_abort_reqs = fake_abort_reqs,
};
NVME_TRANSPORT_REGISTER(fake, &g_fake_ops)

bool fake_aen(uint32_t cdw0)
{
	struct fake_qpair *fq;
	struct nvme_request *req;

	TAILQ_FOREACH(fq, &g_qpairs, all)
	{
		if (fq->q.id != 0) {
			continue;
		}
		STAILQ_FOREACH(req, &fq->held, link)
		{
			if (req->cmd.opc == PLX_NVME_OPC_ASYNC_EVENT_REQUEST) {
				STAILQ_REMOVE(&fq->held, req, nvme_request, link);
				g_dev.aers_pending--;
				fake_complete(fq, req, 0, 0, false, cdw0);
				return true;
			}
		}
	}
	return false;
}

void fake_release_io(void)
{
	struct fake_qpair *fq;
	struct nvme_request *req;

	TAILQ_FOREACH(fq, &g_qpairs, all)
	{
		while (fq->q.id != 0 && (req = STAILQ_FIRST(&fq->held)) != NULL) {
			STAILQ_REMOVE_HEAD(&fq->held, link);
			fake_complete(fq, req, 0, 0, false, 0);
		}
	}
}

static bool fq_at_port(const struct fake_qpair *fq, const char *trsvcid)
{
	return fq->q.ctrlr != NULL && strcmp(fq->q.ctrlr->trid.trsvcid, trsvcid) == 0;
}

uint32_t fake_port_fail_qpairs(const char *trsvcid)
{
	struct fake_qpair *fq;
	uint32_t n = 0;

	TAILQ_FOREACH(fq, &g_qpairs, all)
	{
		if (fq->q.id != 0 && fq_at_port(fq, trsvcid)) {
			fq->broken = true;
			n++;
		}
	}
	return n;
}

uint32_t fake_port_release_io(const char *trsvcid)
{
	struct fake_qpair *fq;
	struct nvme_request *req;
	uint32_t n = 0;

	TAILQ_FOREACH(fq, &g_qpairs, all)
	{
		while (fq->q.id != 0 && fq_at_port(fq, trsvcid) &&
		       (req = STAILQ_FIRST(&fq->held)) != NULL) {
			STAILQ_REMOVE_HEAD(&fq->held, link);
			fake_complete(fq, req, 0, 0, false, 0);
			n++;
		}
	}
	return n;
}

uint32_t fake_port_held_io(const char *trsvcid)
{
	struct fake_qpair *fq;
	struct nvme_request *req;
	uint32_t n = 0;

	TAILQ_FOREACH(fq, &g_qpairs, all)
	{
		if (fq->q.id == 0 || !fq_at_port(fq, trsvcid)) {
			continue;
		}
		STAILQ_FOREACH(req, &fq->held, link)
		{
			n++;
		}
	}
	return n;
}

bool fake_port_aen(const char *trsvcid, uint32_t cdw0)
{
	struct fake_qpair *fq;
	struct nvme_request *req;

	TAILQ_FOREACH(fq, &g_qpairs, all)
	{
		if (fq->q.id != 0 || !fq_at_port(fq, trsvcid)) {
			continue;
		}
		STAILQ_FOREACH(req, &fq->held, link)
		{
			if (req->cmd.opc == PLX_NVME_OPC_ASYNC_EVENT_REQUEST) {
				STAILQ_REMOVE(&fq->held, req, nvme_request, link);
				g_dev.aers_pending--;
				fake_complete(fq, req, 0, 0, false, cdw0);
				return true;
			}
		}
	}
	return false;
}

struct plx_nvme_ctrlr *fake_connect(const struct plx_nvme_ctrlr_opts *opts)
{
	struct plx_nvme_trid trid = {0};
	char err[PLX_NVME_ERR_LEN];

	trid.trtype = FAKE_TRTYPE;
	snprintf(trid.traddr, sizeof(trid.traddr), "fake0");
	snprintf(trid.subnqn, sizeof(trid.subnqn), FAKE_SUBNQN);
	return plx_nvme_connect(&trid, opts, err);
}

uint32_t fake_count_admin(uint8_t opc)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < g_dev.num_admin; i++) {
		n += g_dev.admin[i].cmd.opc == opc;
	}
	return n;
}

const struct fake_cmd *fake_last_admin(uint8_t opc)
{
	for (uint32_t i = g_dev.num_admin; i > 0; i--) {
		if (g_dev.admin[i - 1].cmd.opc == opc) {
			return &g_dev.admin[i - 1];
		}
	}
	return NULL;
}
