/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fixture for the controller-core unit tests: a target built by hand (discovery subsystem,
 * one NVM subsystem with a malloc namespace and a TCP-like listener), two poll groups on
 * harness threads 1 and 2 (thread 0 is the app thread), and a fake transport whose
 * req_complete records the response. Helpers run commands and poll until they completed.
 */
#ifndef POLLUX_TEST_CTRLR_UT_H
#define POLLUX_TEST_CTRLR_UT_H

#include <stdlib.h>
#include <string.h>

#include "../../../module/bdev/malloc/bdev_malloc.h"
#include "nvmf_internal.h"
#include "ut.h"
#include "ut_bdev.h"

#define UT_SUBNQN     "nqn.2016-06.io.pollux:cnode1"
#define UT_HOSTNQN    "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define UT_HOSTNQN2   "nqn.2014-08.org.nvmexpress:uuid:99999999-2222-3333-4444-555555555555"
#define UT_BS	      512
#define UT_BLOCKS     1024
#define UT_MAX_NSID   4
#define UT_QD	      128
#define UT_MAX_QPAIRS 4 /* admin + 3 I/O */

/* ---- fake transport ---- */

struct ut_req {
	struct nvmf_request req;
	struct plx_nvme_cmd cmd;
	struct plx_nvme_cpl rsp;
	int completions;
	size_t buf_len;
	uint8_t *buf;
};

struct ut_qpair {
	struct nvmf_qpair q;
	unsigned int thread; /* harness thread of its poll group */
	bool disconnect_called;
	bool defer_close; /* qpair_disconnect does not report closed by itself */
	bool freed;
};

static inline int ut_req_complete(struct nvmf_request *req)
{
	struct ut_req *r = PLX_CONTAINEROF(req, struct ut_req, req);

	r->completions++;
	return 0;
}

static inline void ut_qpair_disconnect(struct nvmf_qpair *qpair)
{
	struct ut_qpair *qp = PLX_CONTAINEROF(qpair, struct ut_qpair, q);

	qp->disconnect_called = true;
	if (!qp->defer_close) {
		nvmf_qpair_transport_closed(qpair);
	}
}

static inline void ut_qpair_free(struct nvmf_qpair *qpair)
{
	PLX_CONTAINEROF(qpair, struct ut_qpair, q)->freed = true;
}

static int ut_abort_cid = -1; /* cid the fake transport "holds" for Abort */

static inline bool ut_qpair_abort_request(struct nvmf_qpair *qpair, uint16_t cid)
{
	(void)qpair;
	return (int)cid == ut_abort_cid;
}

static inline void ut_listener_discover(struct nvmf_transport *transport,
					const struct plx_nvme_trid *trid,
					struct plx_nvmf_discovery_log_page_entry *entry)
{
	(void)transport;
	(void)trid;
	entry->tsas[0] = 0x5a; /* proves the transport was asked */
}

static const struct nvmf_transport_ops ut_ops = {
    .name = "UT",
    .trtype = PLX_NVMF_TRTYPE_TCP,
    .req_complete = ut_req_complete,
    .qpair_disconnect = ut_qpair_disconnect,
    .qpair_free = ut_qpair_free,
    .qpair_abort_request = ut_qpair_abort_request,
    .listener_discover = ut_listener_discover,
};

/* ---- the target ---- */

struct ut_env {
	struct nvmf_tgt tgt;
	struct nvmf_subsystem *subsystems[4];
	struct nvmf_subsystem disc, subsys;
	struct nvmf_subsystem_listener listener;
	enum plx_nvme_ana_state ana[UT_MAX_NSID];
	struct nvmf_host host;
	struct nvmf_transport transport;
	struct nvmf_ns ns;
	struct plx_bdev *bdev;
	struct nvmf_poll_group groups[2];
	struct nvmf_poll_group *group_ptrs[2];
	struct nvmf_pg_subsystem sgroups[2][4];
	struct nvmf_pg_ns pg_ns[2][UT_MAX_NSID];
};

static struct ut_env *g_env;

static inline void ut_subsys_init(struct nvmf_subsystem *s, uint32_t id, enum nvmf_subtype type,
				  const char *nqn)
{
	s->tgt = &g_env->tgt;
	s->id = id;
	s->subtype = type;
	snprintf(s->subnqn, sizeof(s->subnqn), "%s", nqn);
	s->min_cntlid = NVMF_MIN_CNTLID;
	s->max_cntlid = NVMF_MAX_CNTLID;
	s->next_cntlid = NVMF_MIN_CNTLID;
	TAILQ_INIT(&s->hosts);
	TAILQ_INIT(&s->listeners);
	TAILQ_INIT(&s->retired_listeners);
	TAILQ_INIT(&s->ctrlrs);
	g_env->subsystems[id] = s;
}

static inline void ut_trid(struct plx_nvme_trid *trid, const char *addr, const char *svc)
{
	memset(trid, 0, sizeof(*trid));
	trid->trtype = PLX_NVMF_TRTYPE_TCP;
	trid->adrfam = PLX_NVMF_ADRFAM_IPV4;
	snprintf(trid->trstring, sizeof(trid->trstring), "TCP");
	snprintf(trid->traddr, sizeof(trid->traddr), "%s", addr);
	snprintf(trid->trsvcid, sizeof(trid->trsvcid), "%s", svc);
}

static inline void ut_env_init(void)
{
	struct plx_bdev_malloc_opts mopts = {
	    .name = "Mal0", .block_size = UT_BS, .num_blocks = UT_BLOCKS, .optimal_io_boundary = 8};
	struct ut_env *e;

	ut_bdev_init(3);
	e = g_env = calloc(1, sizeof(*e));
	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL_FATAL(plx_bdev_malloc_create(&mopts, &e->bdev), 0);

	snprintf(e->tgt.name, sizeof(e->tgt.name), "%s", NVMF_TGT_NAME);
	e->tgt.thread = ut_thread(0);
	e->tgt.max_subsystems = 4;
	e->tgt.subsystems = e->subsystems;
	e->tgt.discovery_genctr = 1;
	TAILQ_INIT(&e->tgt.transports);
	TAILQ_INIT(&e->tgt.referrals);

	e->transport.ops = &ut_ops;
	e->transport.tgt = &e->tgt;
	e->transport.opts = (struct nvmf_transport_opts){
	    .max_queue_depth = UT_QD,
	    .max_qpairs_per_ctrlr = UT_MAX_QPAIRS,
	    .in_capsule_data_size = 4096,
	    .max_io_size = 131072,
	    .io_unit_size = 131072,
	    .max_aq_depth = 32,
	    .kas = 10,
	    .min_kato = 1000,
	};
	TAILQ_INSERT_TAIL(&e->tgt.transports, &e->transport, link);

	ut_subsys_init(&e->disc, 0, NVMF_SUBTYPE_DISCOVERY, PLX_NVMF_DISCOVERY_NQN);
	e->disc.allow_any_host = true;
	e->tgt.discovery = &e->disc;
	ut_subsys_init(&e->subsys, 1, NVMF_SUBTYPE_NVME, UT_SUBNQN);
	snprintf(e->subsys.sn, sizeof(e->subsys.sn), "SN0001");
	snprintf(e->subsys.mn, sizeof(e->subsys.mn), "Pollux UT");
	e->subsys.ana_reporting = true;
	e->subsys.max_nsid = UT_MAX_NSID;
	e->subsys.ns = calloc(UT_MAX_NSID, sizeof(struct nvmf_ns *));
	snprintf(e->host.nqn, sizeof(e->host.nqn), "%s", UT_HOSTNQN);
	TAILQ_INSERT_TAIL(&e->subsys.hosts, &e->host, link);

	ut_trid(&e->listener.trid, "127.0.0.1", "4420");
	e->listener.transport = &e->transport;
	e->listener.id = 1;
	for (int i = 0; i < UT_MAX_NSID; i++) {
		e->ana[i] = PLX_NVME_ANA_OPTIMIZED_STATE;
	}
	e->listener.ana_state = e->ana;
	TAILQ_INSERT_TAIL(&e->subsys.listeners, &e->listener, link);

	e->ns.subsystem = &e->subsys;
	e->ns.nsid = 1;
	e->ns.anagrpid = 1;
	e->ns.bdev = e->bdev;
	e->ns.desc = ut_bdev_open("Mal0");
	CU_ASSERT_FATAL(e->ns.desc != NULL);
	memcpy(&e->ns.uuid, plx_bdev_get_uuid(e->bdev), sizeof(e->ns.uuid));
	memcpy(e->ns.eui64, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	TAILQ_INIT(&e->ns.resv.registrants);
	e->subsys.ns[0] = &e->ns;
	e->subsys.num_ns = 1;

	for (int g = 0; g < 2; g++) {
		struct nvmf_poll_group *pg = &e->groups[g];

		pg->tgt = &e->tgt;
		pg->thread = ut_thread(g + 1);
		pg->index = g;
		TAILQ_INIT(&pg->tgroups);
		TAILQ_INIT(&pg->qpairs);
		pg->num_sgroups = 4;
		pg->sgroups = e->sgroups[g];
		pg->sgroups[1].num_ns = UT_MAX_NSID;
		pg->sgroups[1].ns_info = e->pg_ns[g];
		for (int i = 0; i < UT_MAX_NSID; i++) {
			TAILQ_INIT(&e->pg_ns[g][i].pending);
		}
		e->pg_ns[g][0].state = NVMF_PG_NS_ACTIVE;
		e->pg_ns[g][0].ns = &e->ns;
		ut_set_thread(g + 1);
		e->pg_ns[g][0].ch = plx_bdev_get_io_channel(e->ns.desc);
		CU_ASSERT_FATAL(e->pg_ns[g][0].ch != NULL);
		e->group_ptrs[g] = pg;
	}
	e->tgt.num_poll_groups = 2;
	e->tgt.poll_groups = e->group_ptrs;
	ut_set_thread(0);
}

static inline void ut_unregister_cb(void *arg, int rc)
{
	*(int *)arg = rc == 0 ? 1 : -1;
}

static inline void ut_env_fini(void)
{
	struct ut_env *e = g_env;
	int done = 0;

	/* Every controller must be gone by now (tests disconnect what they connect). */
	CU_ASSERT(TAILQ_EMPTY(&e->subsys.ctrlrs));
	CU_ASSERT(TAILQ_EMPTY(&e->disc.ctrlrs));
	for (int g = 0; g < 2; g++) {
		ut_set_thread(g + 1);
		plx_put_io_channel(e->pg_ns[g][0].ch);
		CU_ASSERT(e->pg_ns[g][0].io_outstanding == 0);
	}
	ut_poll_threads();
	ut_set_thread(0);
	plx_bdev_close(e->ns.desc);
	CU_ASSERT_EQUAL(plx_bdev_malloc_delete("Mal0", ut_unregister_cb, &done), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(done, 1);
	free(e->subsys.ns);
	free(e);
	g_env = NULL;
	ut_bdev_fini();
}

/* ---- qpairs and requests ---- */

static inline struct ut_qpair *ut_qpair_new(unsigned int group)
{
	struct ut_qpair *qp = calloc(1, sizeof(*qp));

	CU_ASSERT_FATAL(qp != NULL);
	qp->q.transport = &g_env->transport;
	qp->q.group = &g_env->groups[group];
	qp->q.listen_trid = g_env->listener.trid;
	TAILQ_INIT(&qp->q.outstanding);
	TAILQ_INSERT_TAIL(&qp->q.group->qpairs, &qp->q, link);
	qp->thread = group + 1;
	return qp;
}

static inline struct ut_req *ut_req_new(struct ut_qpair *qp, uint8_t opc, size_t buf_len)
{
	struct ut_req *r = calloc(1, sizeof(*r));

	CU_ASSERT_FATAL(r != NULL);
	r->buf_len = buf_len;
	r->buf = buf_len != 0 ? calloc(1, buf_len) : NULL;
	r->req.qpair = &qp->q;
	r->req.cmd = &r->cmd;
	r->req.rsp = &r->rsp;
	r->cmd.opc = opc;
	r->cmd.cid = 0x100;
	r->req.xfer = plx_nvme_opc_get_data_transfer(opc);
	if (buf_len != 0) {
		r->req.data = r->buf;
		r->req.length = (uint32_t)buf_len;
		r->req.iovcnt = 1;
		r->req.iov[0].iov_base = r->buf;
		r->req.iov[0].iov_len = buf_len;
	}
	return r;
}

static inline void ut_req_free(struct ut_req *r)
{
	free(r->buf);
	free(r);
}

/* Submit on the qpair's thread; poll every thread until nothing moves. */
static inline void ut_submit(struct ut_qpair *qp, struct ut_req *r)
{
	ut_set_thread(qp->thread);
	nvmf_request_exec(&r->req);
	ut_poll_threads();
}

/* Status as sct << 8 | sc. */
static inline unsigned int ut_status(const struct ut_req *r)
{
	return (unsigned int)r->rsp.status.sct << 8 | r->rsp.status.sc;
}

#define UT_SC(sct, sc) ((unsigned int)(sct) << 8 | (sc))

/* Run a command that needs no data and free it; returns its status. */
static inline unsigned int ut_run(struct ut_qpair *qp, uint8_t opc, uint32_t nsid, uint32_t cdw10,
				  uint32_t cdw11, uint32_t *cdw0)
{
	struct ut_req *r = ut_req_new(qp, opc, 0);
	unsigned int st;

	r->cmd.nsid = nsid;
	r->cmd.cdw10 = cdw10;
	r->cmd.cdw11 = cdw11;
	ut_submit(qp, r);
	CU_ASSERT_EQUAL(r->completions, 1);
	st = ut_status(r);
	if (cdw0 != NULL) {
		*cdw0 = r->rsp.cdw0;
	}
	ut_req_free(r);
	return st;
}

/* ---- fabrics ---- */

static inline struct ut_req *ut_connect_req(struct ut_qpair *qp, uint16_t qid, uint16_t sqsize,
					    uint16_t cntlid, const char *hostnqn,
					    const char *subnqn, uint32_t kato)
{
	struct ut_req *r =
	    ut_req_new(qp, PLX_NVME_OPC_FABRIC, sizeof(struct plx_nvmf_connect_data));
	struct plx_nvmf_connect_cmd *cmd = (struct plx_nvmf_connect_cmd *)&r->cmd;
	struct plx_nvmf_connect_data *data = (struct plx_nvmf_connect_data *)r->buf;

	cmd->fctype = PLX_NVMF_FCTYPE_CONNECT;
	cmd->qid = qid;
	cmd->sqsize = sqsize;
	cmd->kato = kato;
	data->cntlid = cntlid;
	memset(data->hostid, 0xab, sizeof(data->hostid));
	snprintf(data->hostnqn, sizeof(data->hostnqn), "%s", hostnqn);
	snprintf(data->subnqn, sizeof(data->subnqn), "%s", subnqn);
	return r;
}

/* Connect; returns the status and fills *cdw0. */
static inline unsigned int ut_connect(struct ut_qpair *qp, uint16_t qid, uint16_t sqsize,
				      uint16_t cntlid, const char *hostnqn, const char *subnqn,
				      uint32_t kato, uint32_t *cdw0)
{
	struct ut_req *r = ut_connect_req(qp, qid, sqsize, cntlid, hostnqn, subnqn, kato);
	unsigned int st;

	ut_submit(qp, r);
	CU_ASSERT_EQUAL(r->completions, 1);
	st = ut_status(r);
	if (cdw0 != NULL) {
		*cdw0 = r->rsp.cdw0;
	}
	ut_req_free(r);
	return st;
}

static inline unsigned int ut_prop(struct ut_qpair *qp, bool set, uint32_t ofst, uint8_t size,
				   uint64_t value, uint64_t *out)
{
	struct ut_req *r = ut_req_new(qp, PLX_NVME_OPC_FABRIC, 0);
	unsigned int st;

	if (set) {
		struct plx_nvmf_property_set_cmd *c = (struct plx_nvmf_property_set_cmd *)&r->cmd;

		c->fctype = PLX_NVMF_FCTYPE_PROPERTY_SET;
		c->attrib = size;
		c->ofst = ofst;
		c->value = value;
	} else {
		struct plx_nvmf_property_get_cmd *c = (struct plx_nvmf_property_get_cmd *)&r->cmd;

		c->fctype = PLX_NVMF_FCTYPE_PROPERTY_GET;
		c->attrib = size;
		c->ofst = ofst;
	}
	ut_submit(qp, r);
	CU_ASSERT_EQUAL(r->completions, 1);
	st = ut_status(r);
	if (out != NULL) {
		*out = (uint64_t)r->rsp.cdw1 << 32 | r->rsp.cdw0;
	}
	ut_req_free(r);
	return st;
}

#define UT_CC_ENABLE (1u | (6u << 16) | (4u << 20))

/* An admin qpair on group g connected and enabled; returns the controller. */
static inline struct nvmf_ctrlr *ut_admin_connect(struct ut_qpair **qpp, unsigned int g)
{
	struct ut_qpair *qp = ut_qpair_new(g);
	uint32_t cdw0 = 0;

	CU_ASSERT_EQUAL_FATAL(ut_connect(qp, 0, 31, 0xffff, UT_HOSTNQN, UT_SUBNQN, 10000, &cdw0),
			      0);
	CU_ASSERT_EQUAL_FATAL(ut_prop(qp, true, PLX_NVME_REG_CC, 0, UT_CC_ENABLE, NULL), 0);
	*qpp = qp;
	CU_ASSERT_FATAL(qp->q.ctrlr != NULL);
	CU_ASSERT_EQUAL(qp->q.ctrlr->cntlid, cdw0 & 0xffff);
	return qp->q.ctrlr;
}

static inline struct ut_qpair *ut_io_connect(struct nvmf_ctrlr *ctrlr, unsigned int g, uint16_t qid)
{
	struct ut_qpair *qp = ut_qpair_new(g);

	CU_ASSERT_EQUAL_FATAL(
	    ut_connect(qp, qid, 63, ctrlr->cntlid, UT_HOSTNQN, UT_SUBNQN, 0, NULL), 0);
	CU_ASSERT_EQUAL(qp->q.state, NVMF_QPAIR_ENABLED);
	return qp;
}

/* Disconnect a qpair from its own thread and wait until the core freed it. */
static inline void ut_disconnect(struct ut_qpair *qp)
{
	ut_set_thread(qp->thread);
	nvmf_qpair_disconnect(&qp->q);
	ut_poll_threads();
	CU_ASSERT(qp->freed);
}

static inline void ut_qpair_release(struct ut_qpair *qp)
{
	CU_ASSERT(qp->freed);
	free(qp);
}

#endif
