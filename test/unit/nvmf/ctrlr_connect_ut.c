/* SPDX-License-Identifier: BSD-3-Clause */
/* Controller core: Connect, properties, keep alive, AER, Disconnect and teardown. */
#include "ctrlr_ut.h"

#define CSPEC PLX_NVME_SCT_COMMAND_SPECIFIC
#define GEN   PLX_NVME_SCT_GENERIC

static void assert_invalid(unsigned int st, uint32_t cdw0, uint8_t iattr, uint16_t ipo)
{
	union plx_nvmf_connect_rsp_cdw0 c = {.raw = cdw0};

	CU_ASSERT_EQUAL(st, UT_SC(CSPEC, PLX_NVMF_SC_INVALID_PARAM));
	CU_ASSERT_EQUAL(c.invalid.iattr, iattr);
	CU_ASSERT_EQUAL(c.invalid.ipo, ipo);
}

static void test_connect_happy_path(void)
{
	struct ut_qpair *admin, *io1, *io2;
	struct nvmf_ctrlr *ctrlr;
	uint64_t v;

	ut_env_init();
	admin = ut_qpair_new(0);
	uint32_t cdw0 = 0;
	CU_ASSERT_EQUAL(ut_connect(admin, 0, 31, 0xffff, UT_HOSTNQN, UT_SUBNQN, 10000, &cdw0), 0);
	ctrlr = admin->q.ctrlr;
	CU_ASSERT_FATAL(ctrlr != NULL);
	CU_ASSERT_EQUAL(cdw0 & 0xffff, ctrlr->cntlid);
	CU_ASSERT(ctrlr->cntlid >= NVMF_MIN_CNTLID);
	CU_ASSERT_EQUAL(admin->q.state, NVMF_QPAIR_ENABLED);
	CU_ASSERT_EQUAL(admin->q.sq_size, 32);
	CU_ASSERT_PTR_EQUAL(TAILQ_FIRST(&g_env->subsys.ctrlrs), ctrlr);
	CU_ASSERT_PTR_EQUAL(ctrlr->thread, ut_thread(1));
	CU_ASSERT_PTR_EQUAL(ctrlr->listener, &g_env->listener);
	CU_ASSERT_EQUAL(ctrlr->hostid[0], 0xab);
	CU_ASSERT_EQUAL(ctrlr->kato_ms, 10000);

	/* Registers after Connect. */
	CU_ASSERT_EQUAL(ut_prop(admin, false, PLX_NVME_REG_CAP, 1, 0, &v), 0);
	CU_ASSERT_EQUAL(v & 0xffff, UT_QD - 1);
	CU_ASSERT_EQUAL((v >> 16) & 1, 1);     /* CQR */
	CU_ASSERT_EQUAL((v >> 24) & 0xff, 30); /* TO */
	CU_ASSERT_EQUAL((v >> 37) & 1, 1);     /* CSS NVM */
	CU_ASSERT_EQUAL(ut_prop(admin, false, PLX_NVME_REG_VS, 0, 0, &v), 0);
	CU_ASSERT_EQUAL(v, PLX_NVME_VERSION(1, 4, 0));
	CU_ASSERT_EQUAL(ut_prop(admin, false, PLX_NVME_REG_CC, 0, 0, &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(ut_prop(admin, false, PLX_NVME_REG_CSTS, 0, 0, &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(ut_prop(admin, true, PLX_NVME_REG_CC, 0, UT_CC_ENABLE, NULL), 0);
	CU_ASSERT_EQUAL(ut_prop(admin, false, PLX_NVME_REG_CSTS, 0, 0, &v), 0);
	CU_ASSERT_EQUAL(v & 1, 1);

	/* I/O queues on the other poll group and on the same one. */
	io1 = ut_io_connect(ctrlr, 1, 1);
	io2 = ut_io_connect(ctrlr, 0, 2);
	CU_ASSERT_PTR_EQUAL(io1->q.ctrlr, ctrlr);
	CU_ASSERT_EQUAL(io1->q.qid, 1);
	CU_ASSERT_EQUAL(io1->q.sq_size, 64);
	CU_ASSERT_EQUAL(ctrlr->num_io_qpairs, 2);
	CU_ASSERT(plx_bit_array_get(ctrlr->qpair_mask, 1));
	CU_ASSERT_EQUAL(g_env->groups[1].stat.current_io_qpairs, 1);
	CU_ASSERT_EQUAL(g_env->groups[0].stat.current_admin_qpairs, 1);

	/* An I/O qpair leaves; its id is free again. */
	ut_disconnect(io1);
	CU_ASSERT_EQUAL(ctrlr->num_io_qpairs, 1);
	CU_ASSERT(!plx_bit_array_get(ctrlr->qpair_mask, 1));
	CU_ASSERT_EQUAL(g_env->groups[1].stat.current_io_qpairs, 0);
	CU_ASSERT(TAILQ_EMPTY(&g_env->groups[1].qpairs));
	ut_qpair_release(io1);
	io1 = ut_io_connect(ctrlr, 1, 1);

	/* The admin qpair leaving takes the controller and every I/O qpair with it. */
	ut_disconnect(admin);
	CU_ASSERT(io1->freed);
	CU_ASSERT(io2->freed);
	CU_ASSERT(TAILQ_EMPTY(&g_env->subsys.ctrlrs));
	ut_qpair_release(admin);
	ut_qpair_release(io1);
	ut_qpair_release(io2);
	ut_env_fini();
}

static void test_connect_admin_rejections(void)
{
	struct ut_qpair *qp;
	struct ut_req *r;
	uint32_t cdw0;
	unsigned int st;

	ut_env_init();
	qp = ut_qpair_new(0);

	/* Anything but Connect first is a sequence error. */
	CU_ASSERT_EQUAL(ut_run(qp, PLX_NVME_OPC_IDENTIFY, 0, 1, 0, NULL),
			UT_SC(GEN, PLX_NVME_SC_COMMAND_SEQUENCE_ERROR));

	st = ut_connect(qp, 0, 31, 0xffff, UT_HOSTNQN, "nqn.2016-06.io.pollux:nope", 0, &cdw0);
	assert_invalid(st, cdw0, 1, offsetof(struct plx_nvmf_connect_data, subnqn));

	st = ut_connect(qp, 0, 31, 0xffff, UT_HOSTNQN2, UT_SUBNQN, 0, &cdw0);
	CU_ASSERT_EQUAL(st, UT_SC(CSPEC, PLX_NVMF_SC_INVALID_HOST));
	CU_ASSERT_EQUAL(cdw0 & 0xffff, offsetof(struct plx_nvmf_connect_data, hostnqn));
	CU_ASSERT_EQUAL((cdw0 >> 16) & 0xff, 1);

	st = ut_connect(qp, 0, 31, 5, UT_HOSTNQN, UT_SUBNQN, 0, &cdw0);
	assert_invalid(st, cdw0, 1, offsetof(struct plx_nvmf_connect_data, cntlid));

	st = ut_connect(qp, 0, 0, 0xffff, UT_HOSTNQN, UT_SUBNQN, 0, &cdw0);
	assert_invalid(st, cdw0, 0, offsetof(struct plx_nvmf_connect_cmd, sqsize));
	st = ut_connect(qp, 0, 32, 0xffff, UT_HOSTNQN, UT_SUBNQN, 0, &cdw0); /* aq depth 32 */
	assert_invalid(st, cdw0, 0, offsetof(struct plx_nvmf_connect_cmd, sqsize));

	r = ut_connect_req(qp, 0, 31, 0xffff, UT_HOSTNQN, UT_SUBNQN, 0);
	((struct plx_nvmf_connect_cmd *)&r->cmd)->recfmt = 1;
	ut_submit(qp, r);
	CU_ASSERT_EQUAL(ut_status(r), UT_SC(CSPEC, PLX_NVMF_SC_INCOMPATIBLE_FORMAT));
	ut_req_free(r);

	r = ut_connect_req(qp, 0, 31, 0xffff, UT_HOSTNQN, UT_SUBNQN, 0);
	r->req.length = 512;
	r->req.iov[0].iov_len = 512;
	ut_submit(qp, r);
	CU_ASSERT_EQUAL(ut_status(r), UT_SC(GEN, PLX_NVME_SC_DATA_SGL_LENGTH_INVALID));
	ut_req_free(r);

	/* Through an address the subsystem does not listen on. */
	snprintf(qp->q.listen_trid.trsvcid, sizeof(qp->q.listen_trid.trsvcid), "4421");
	st = ut_connect(qp, 0, 31, 0xffff, UT_HOSTNQN, UT_SUBNQN, 0, &cdw0);
	assert_invalid(st, cdw0, 1, offsetof(struct plx_nvmf_connect_data, subnqn));
	CU_ASSERT_EQUAL(qp->q.state, NVMF_QPAIR_UNINITIALIZED);
	CU_ASSERT(TAILQ_EMPTY(&g_env->subsys.ctrlrs));

	/* It still connects once the request is right; a second Connect is out of sequence. */
	qp->q.listen_trid = g_env->listener.trid;
	CU_ASSERT_EQUAL(ut_connect(qp, 0, 31, 0xffff, UT_HOSTNQN, UT_SUBNQN, 0, NULL), 0);
	CU_ASSERT_EQUAL(ut_connect(qp, 0, 31, 0xffff, UT_HOSTNQN, UT_SUBNQN, 0, NULL),
			UT_SC(GEN, PLX_NVME_SC_COMMAND_SEQUENCE_ERROR));
	ut_disconnect(qp);
	ut_qpair_release(qp);

	/* A qpair that never connected is freed directly. */
	qp = ut_qpair_new(1);
	ut_disconnect(qp);
	CU_ASSERT(qp->disconnect_called);
	ut_qpair_release(qp);
	ut_env_fini();
}

static void test_connect_io_rejections(void)
{
	struct ut_qpair *admin, *io, *qp;
	struct nvmf_ctrlr *ctrlr;
	struct nvmf_host host2;
	uint32_t cdw0;
	unsigned int st;

	ut_env_init();
	admin = ut_qpair_new(0);
	CU_ASSERT_EQUAL(ut_connect(admin, 0, 31, 0xffff, UT_HOSTNQN, UT_SUBNQN, 0, NULL), 0);
	ctrlr = admin->q.ctrlr;
	qp = ut_qpair_new(1);

	/* Before CC.EN. */
	st = ut_connect(qp, 1, 63, ctrlr->cntlid, UT_HOSTNQN, UT_SUBNQN, 0, NULL);
	CU_ASSERT_EQUAL(st, UT_SC(GEN, PLX_NVME_SC_COMMAND_SEQUENCE_ERROR));
	CU_ASSERT_EQUAL(ut_prop(admin, true, PLX_NVME_REG_CC, 0, UT_CC_ENABLE, NULL), 0);

	st = ut_connect(qp, 1, 63, ctrlr->cntlid + 1, UT_HOSTNQN, UT_SUBNQN, 0, &cdw0);
	assert_invalid(st, cdw0, 1, offsetof(struct plx_nvmf_connect_data, cntlid));

	memset(&host2, 0, sizeof(host2));
	snprintf(host2.nqn, sizeof(host2.nqn), "%s", UT_HOSTNQN2);
	TAILQ_INSERT_TAIL(&g_env->subsys.hosts, &host2, link);
	st = ut_connect(qp, 1, 63, ctrlr->cntlid, UT_HOSTNQN2, UT_SUBNQN, 0, &cdw0);
	assert_invalid(st, cdw0, 1, offsetof(struct plx_nvmf_connect_data, hostnqn));
	TAILQ_REMOVE(&g_env->subsys.hosts, &host2, link);

	st = ut_connect(qp, UT_MAX_QPAIRS, 63, ctrlr->cntlid, UT_HOSTNQN, UT_SUBNQN, 0, &cdw0);
	assert_invalid(st, cdw0, 0, offsetof(struct plx_nvmf_connect_cmd, qid));
	st = ut_connect(qp, 1, UT_QD, ctrlr->cntlid, UT_HOSTNQN, UT_SUBNQN, 0, &cdw0);
	assert_invalid(st, cdw0, 0, offsetof(struct plx_nvmf_connect_cmd, sqsize));

	io = ut_io_connect(ctrlr, 0, 1);
	st = ut_connect(qp, 1, 63, ctrlr->cntlid, UT_HOSTNQN, UT_SUBNQN, 0, &cdw0);
	assert_invalid(st, cdw0, 0, offsetof(struct plx_nvmf_connect_cmd, qid));
	CU_ASSERT_EQUAL(ctrlr->num_io_qpairs, 1);

	ut_disconnect(qp);
	ut_disconnect(admin);
	CU_ASSERT(io->freed);
	ut_qpair_release(qp);
	ut_qpair_release(io);
	ut_qpair_release(admin);
	ut_env_fini();
}

static void test_kato_rounding(void)
{
	struct ut_qpair *a, *b, *d;

	ut_env_init();
	a = ut_qpair_new(0);
	b = ut_qpair_new(1);
	d = ut_qpair_new(1);
	/* kas 10 (1 s units), min_kato 1000 ms */
	CU_ASSERT_EQUAL(ut_connect(a, 0, 31, 0xffff, UT_HOSTNQN, UT_SUBNQN, 1500, NULL), 0);
	CU_ASSERT_EQUAL(a->q.ctrlr->kato_ms, 2000);
	CU_ASSERT_PTR_NOT_NULL(a->q.ctrlr->keep_alive_poller);
	CU_ASSERT_EQUAL(ut_connect(b, 0, 31, 0xffff, UT_HOSTNQN, UT_SUBNQN, 0, NULL), 0);
	CU_ASSERT_EQUAL(b->q.ctrlr->kato_ms, 1000);
	/* Discovery: 0 means no keep alive at all. */
	CU_ASSERT_EQUAL(ut_connect(d, 0, 31, 0xffff, UT_HOSTNQN, PLX_NVMF_DISCOVERY_NQN, 0, NULL),
			0);
	CU_ASSERT_EQUAL(d->q.ctrlr->kato_ms, 0);
	CU_ASSERT_PTR_NULL(d->q.ctrlr->keep_alive_poller);
	CU_ASSERT_PTR_NULL(d->q.ctrlr->listener);
	ut_disconnect(a);
	ut_disconnect(b);
	ut_disconnect(d);
	ut_qpair_release(a);
	ut_qpair_release(b);
	ut_qpair_release(d);
	ut_env_fini();
}

static void test_properties(void)
{
	struct ut_qpair *admin, *io;
	struct nvmf_ctrlr *ctrlr;
	uint64_t v, cap;

	ut_env_init();
	ctrlr = ut_admin_connect(&admin, 0);
	CU_ASSERT_EQUAL(ut_prop(admin, false, PLX_NVME_REG_CAP, 1, 0, &cap), 0);
	CU_ASSERT_EQUAL(ut_prop(admin, false, PLX_NVME_REG_CAP, 0, 0, &v), 0);
	CU_ASSERT_EQUAL(v, (uint32_t)cap);
	CU_ASSERT_EQUAL(ut_prop(admin, false, PLX_NVME_REG_CAP + 4, 0, 0, &v), 0);
	CU_ASSERT_EQUAL(v, cap >> 32);
	CU_ASSERT_EQUAL(ut_prop(admin, false, 0x50, 0, 0, NULL),
			UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));
	CU_ASSERT_EQUAL(ut_prop(admin, false, PLX_NVME_REG_CC, 1, 0, NULL),
			UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));
	CU_ASSERT_EQUAL(ut_prop(admin, true, PLX_NVME_REG_VS, 0, 0, NULL),
			UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));
	CU_ASSERT_EQUAL(ut_prop(admin, true, PLX_NVME_REG_CC, 1, UT_CC_ENABLE, NULL),
			UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));
	CU_ASSERT_EQUAL(ut_prop(admin, false, PLX_NVME_REG_CC, 0, 0, &v), 0);
	CU_ASSERT_EQUAL(v, UT_CC_ENABLE);

	/* Property commands belong to the admin queue. */
	io = ut_io_connect(ctrlr, 1, 1);
	CU_ASSERT_EQUAL(ut_prop(io, false, PLX_NVME_REG_CC, 0, 0, NULL),
			UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));

	/* CC.EN 1 -> 0 resets: I/O qpairs go, features return to defaults, RDY drops. */
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_SET_FEATURES, 0,
			       PLX_NVME_FEAT_ASYNC_EVENT_CONFIGURATION, PLX_NVME_AEC_NS_ATTR, NULL),
			0);
	CU_ASSERT_EQUAL(ctrlr->feat.async_event_configuration, PLX_NVME_AEC_NS_ATTR);
	CU_ASSERT_EQUAL(ut_prop(admin, true, PLX_NVME_REG_CC, 0, UT_CC_ENABLE & ~1u, NULL), 0);
	CU_ASSERT(io->freed);
	CU_ASSERT_EQUAL(ctrlr->num_io_qpairs, 0);
	CU_ASSERT_EQUAL(ctrlr->feat.async_event_configuration, 0);
	CU_ASSERT_EQUAL(ut_prop(admin, false, PLX_NVME_REG_CSTS, 0, 0, &v), 0);
	CU_ASSERT_EQUAL(v & 1, 0);
	CU_ASSERT_PTR_EQUAL(TAILQ_FIRST(&g_env->subsys.ctrlrs), ctrlr);

	/* Enable again, then a normal shutdown. */
	CU_ASSERT_EQUAL(ut_prop(admin, true, PLX_NVME_REG_CC, 0, UT_CC_ENABLE, NULL), 0);
	CU_ASSERT_EQUAL(ut_prop(admin, false, PLX_NVME_REG_CSTS, 0, 0, &v), 0);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT_EQUAL(ut_prop(admin, true, PLX_NVME_REG_CC, 0,
				UT_CC_ENABLE | (PLX_NVME_SHN_NORMAL << 14), NULL),
			0);
	CU_ASSERT_EQUAL(ut_prop(admin, false, PLX_NVME_REG_CSTS, 0, 0, &v), 0);
	CU_ASSERT_EQUAL((v >> 2) & 3, PLX_NVME_SHST_COMPLETE);

	ut_disconnect(admin);
	ut_qpair_release(io);
	ut_qpair_release(admin);
	ut_env_fini();
}

static void test_keep_alive_expiry(void)
{
	struct ut_qpair *admin, *io;
	struct nvmf_ctrlr *ctrlr;

	ut_env_init();
	ctrlr = ut_admin_connect(&admin, 0); /* kato 10 s */
	io = ut_io_connect(ctrlr, 1, 1);

	ut_advance_time_us(6 * 1000 * 1000);
	ut_poll_threads();
	CU_ASSERT(!admin->freed);
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_KEEP_ALIVE, 0, 0, 0, NULL), 0);
	ut_advance_time_us(6 * 1000 * 1000); /* 12 s since Connect, 6 s since Keep Alive */
	ut_poll_threads();
	CU_ASSERT(!admin->freed);
	CU_ASSERT(!io->freed);

	/* The host goes quiet: every qpair and the controller go. */
	for (int i = 0; i < 6; i++) {
		ut_advance_time_us(2 * 1000 * 1000);
		ut_poll_threads();
	}
	CU_ASSERT(admin->disconnect_called);
	CU_ASSERT(admin->freed);
	CU_ASSERT(io->freed);
	CU_ASSERT(TAILQ_EMPTY(&g_env->subsys.ctrlrs));
	ut_qpair_release(admin);
	ut_qpair_release(io);
	ut_env_fini();
}

static struct ut_req *ut_aer(struct ut_qpair *qp, uint16_t cid)
{
	struct ut_req *r = ut_req_new(qp, PLX_NVME_OPC_ASYNC_EVENT_REQUEST, 0);

	r->cmd.cid = cid;
	ut_submit(qp, r);
	return r;
}

static void notify(struct nvmf_ctrlr *ctrlr, enum nvmf_notice n, uint32_t nsid, uint8_t type)
{
	ut_set_thread(0);
	nvmf_ctrlr_notify(ctrlr, n, nsid, type);
	ut_poll_threads();
}

static unsigned int read_log(struct ut_qpair *qp, uint8_t lid, bool rae, void *buf, size_t len)
{
	struct ut_req *r = ut_req_new(qp, PLX_NVME_OPC_GET_LOG_PAGE, len);
	unsigned int st;

	r->cmd.cdw10 = lid | (rae ? PLX_NVME_LOG_RAE : 0) | ((uint32_t)(len / 4 - 1) << 16);
	ut_submit(qp, r);
	st = ut_status(r);
	memcpy(buf, r->buf, len);
	ut_req_free(r);
	return st;
}

static void test_aer(void)
{
	struct ut_qpair *admin;
	struct nvmf_ctrlr *ctrlr;
	struct ut_req *aer[5];
	struct plx_nvme_ns_list list;
	struct plx_nvme_reservation_notification_log rlog;

	ut_env_init();
	ctrlr = ut_admin_connect(&admin, 0);
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_SET_FEATURES, 0,
			       PLX_NVME_FEAT_ASYNC_EVENT_CONFIGURATION, PLX_NVME_AEC_NS_ATTR, NULL),
			0);

	aer[0] = ut_aer(admin, 1);
	CU_ASSERT_EQUAL(aer[0]->completions, 0);
	notify(ctrlr, NVMF_NOTICE_NS_CHANGED, 1, 0);
	CU_ASSERT_EQUAL(aer[0]->completions, 1);
	CU_ASSERT_EQUAL(aer[0]->rsp.cdw0, 0x040002u); /* notice, ns attr, log 04h */

	/* Masked until the changed namespace list is read with RAE clear. */
	notify(ctrlr, NVMF_NOTICE_NS_CHANGED, 2, 0);
	aer[1] = ut_aer(admin, 2);
	CU_ASSERT_EQUAL(aer[1]->completions, 0);
	CU_ASSERT_EQUAL(read_log(admin, PLX_NVME_LOG_CHANGED_NS_LIST, true, &list, sizeof(list)),
			0);
	CU_ASSERT_EQUAL(list.ns_list[0], 1);
	CU_ASSERT_EQUAL(list.ns_list[1], 2);
	CU_ASSERT_EQUAL(list.ns_list[2], 0);
	notify(ctrlr, NVMF_NOTICE_NS_CHANGED, 3, 0);
	CU_ASSERT_EQUAL(aer[1]->completions, 0); /* RAE kept it masked */
	CU_ASSERT_EQUAL(read_log(admin, PLX_NVME_LOG_CHANGED_NS_LIST, false, &list, sizeof(list)),
			0);
	CU_ASSERT_EQUAL(list.ns_list[0], 3); /* cleared by the previous read */
	CU_ASSERT_EQUAL(read_log(admin, PLX_NVME_LOG_CHANGED_NS_LIST, false, &list, sizeof(list)),
			0);
	CU_ASSERT_EQUAL(list.ns_list[0], 0);
	notify(ctrlr, NVMF_NOTICE_NS_CHANGED, 1, 0);
	CU_ASSERT_EQUAL(aer[1]->completions, 1);

	/* Disabled in the configuration: no event. */
	aer[2] = ut_aer(admin, 3);
	notify(ctrlr, NVMF_NOTICE_ANA_CHANGED, 0, 0);
	CU_ASSERT_EQUAL(aer[2]->completions, 0);

	/* A queued event goes to the next AER. */
	CU_ASSERT_EQUAL(read_log(admin, PLX_NVME_LOG_CHANGED_NS_LIST, false, &list, sizeof(list)),
			0);
	notify(ctrlr, NVMF_NOTICE_RESERVATION, 1, PLX_NVME_REGISTRATION_PREEMPTED);
	CU_ASSERT_EQUAL(aer[2]->completions, 1);
	CU_ASSERT_EQUAL(aer[2]->rsp.cdw0, 0x800006u); /* I/O, resv log available, log 80h */
	notify(ctrlr, NVMF_NOTICE_NS_CHANGED, 4, 0);
	aer[3] = ut_aer(admin, 4);
	CU_ASSERT_EQUAL(aer[3]->completions, 1);
	CU_ASSERT_EQUAL(aer[3]->rsp.cdw0, 0x040002u);

	/* Reservation log: one entry per read, then empty; the mask filters. */
	CU_ASSERT_EQUAL(
	    read_log(admin, PLX_NVME_LOG_RESERVATION_NOTIFICATION, false, &rlog, sizeof(rlog)), 0);
	CU_ASSERT_EQUAL(rlog.log_page_count, 1);
	CU_ASSERT_EQUAL(rlog.type, PLX_NVME_REGISTRATION_PREEMPTED);
	CU_ASSERT_EQUAL(rlog.nsid, 1);
	CU_ASSERT_EQUAL(rlog.num_avail_log_pages, 0);
	CU_ASSERT_EQUAL(
	    read_log(admin, PLX_NVME_LOG_RESERVATION_NOTIFICATION, false, &rlog, sizeof(rlog)), 0);
	CU_ASSERT_EQUAL(rlog.log_page_count, 0);
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_SET_FEATURES, 1, PLX_NVME_FEAT_HOST_RESERVE_MASK,
			       PLX_NVME_RESV_MASK_RESREL, NULL),
			0);
	notify(ctrlr, NVMF_NOTICE_RESERVATION, 1, PLX_NVME_RESERVATION_RELEASED);
	CU_ASSERT_EQUAL(ctrlr->num_resv_log, 0);
	notify(ctrlr, NVMF_NOTICE_RESERVATION, 1, PLX_NVME_RESERVATION_PREEMPTED);
	CU_ASSERT_EQUAL(ctrlr->num_resv_log, 1);

	/* The limit: aerl + 1 outstanding. */
	for (int i = 0; i < 4; i++) {
		ut_req_free(aer[i]);
	}
	for (int i = 0; i < 4; i++) {
		aer[i] = ut_aer(admin, (uint16_t)(10 + i));
	}
	CU_ASSERT_EQUAL(aer[0]->completions, 1); /* took the pending reservation event */
	aer[4] = ut_aer(admin, 20);
	CU_ASSERT_EQUAL(aer[4]->completions, 0);
	CU_ASSERT_EQUAL(
	    ut_run(admin, PLX_NVME_OPC_ASYNC_EVENT_REQUEST, 0, 0, 0, NULL),
	    UT_SC(PLX_NVME_SCT_COMMAND_SPECIFIC, PLX_NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED));

	/* Teardown completes the outstanding AERs. */
	ut_disconnect(admin);
	for (int i = 1; i < 5; i++) {
		CU_ASSERT_EQUAL(aer[i]->completions, 1);
		CU_ASSERT_EQUAL(ut_status(aer[i]), UT_SC(GEN, PLX_NVME_SC_ABORTED_SQ_DELETION));
	}
	for (int i = 0; i < 5; i++) {
		ut_req_free(aer[i]);
	}
	ut_qpair_release(admin);
	ut_env_fini();
}

/* The peer closes first (no disconnect from the core) while an AER is outstanding. */
static void test_transport_closed_with_aer(void)
{
	struct ut_qpair *admin, *io;
	struct nvmf_ctrlr *ctrlr;
	struct ut_req *aer;

	ut_env_init();
	ctrlr = ut_admin_connect(&admin, 0);
	io = ut_io_connect(ctrlr, 1, 1);
	aer = ut_aer(admin, 7);
	CU_ASSERT_EQUAL(aer->completions, 0);
	ut_set_thread(admin->thread);
	nvmf_qpair_transport_closed(&admin->q);
	ut_poll_threads();
	CU_ASSERT_EQUAL(aer->completions, 1);
	CU_ASSERT_EQUAL(ut_status(aer), UT_SC(GEN, PLX_NVME_SC_ABORTED_SQ_DELETION));
	CU_ASSERT(admin->freed);
	CU_ASSERT(io->freed);
	CU_ASSERT(TAILQ_EMPTY(&g_env->subsys.ctrlrs));
	ut_req_free(aer);
	ut_qpair_release(admin);
	ut_qpair_release(io);
	ut_env_fini();
}

static void test_disconnect_cmd_and_async(void)
{
	struct ut_qpair *admin, *io, *io2;
	struct nvmf_ctrlr *ctrlr;
	struct ut_req *r;

	ut_env_init();
	ctrlr = ut_admin_connect(&admin, 0);
	io = ut_io_connect(ctrlr, 1, 1);
	io2 = ut_io_connect(ctrlr, 1, 2);

	r = ut_req_new(io, PLX_NVME_OPC_FABRIC, 0);
	((struct plx_nvmf_capsule_cmd *)&r->cmd)->fctype = PLX_NVMF_FCTYPE_DISCONNECT;
	ut_submit(io, r);
	CU_ASSERT_EQUAL(r->completions, 1);
	CU_ASSERT_EQUAL(ut_status(r), 0);
	CU_ASSERT(io->freed);
	CU_ASSERT_EQUAL(ctrlr->num_io_qpairs, 1);
	ut_req_free(r);

	/* Unknown fabrics command type. */
	r = ut_req_new(admin, PLX_NVME_OPC_FABRIC, 0);
	((struct plx_nvmf_capsule_cmd *)&r->cmd)->fctype = 0x33;
	ut_submit(admin, r);
	CU_ASSERT_EQUAL(ut_status(r), UT_SC(GEN, PLX_NVME_SC_INVALID_OPCODE));
	ut_req_free(r);

	/* The configuration side tears the controller down. */
	ut_set_thread(0);
	nvmf_ctrlr_disconnect_async(ctrlr);
	ut_poll_threads();
	CU_ASSERT(admin->freed);
	CU_ASSERT(io2->freed);
	CU_ASSERT(TAILQ_EMPTY(&g_env->subsys.ctrlrs));
	ut_qpair_release(admin);
	ut_qpair_release(io);
	ut_qpair_release(io2);
	ut_env_fini();
}

static void test_teardown_waits_for_transport_and_requests(void)
{
	struct ut_qpair *admin, *io;
	struct nvmf_ctrlr *ctrlr;
	struct ut_req *w, *late;
	struct nvmf_pg_ns *pg_ns;

	ut_env_init();
	ctrlr = ut_admin_connect(&admin, 0);
	io = ut_io_connect(ctrlr, 1, 1);
	io->defer_close = true;
	pg_ns = &g_env->pg_ns[1][0];

	/* A write waits in the paused namespace while the qpair disconnects. */
	pg_ns->state = NVMF_PG_NS_PAUSED;
	w = ut_req_new(io, PLX_NVME_OPC_WRITE, UT_BS);
	w->cmd.nsid = 1;
	ut_submit(io, w);
	CU_ASSERT_EQUAL(w->completions, 0);
	CU_ASSERT_PTR_EQUAL(TAILQ_FIRST(&pg_ns->pending), &w->req);
	ut_set_thread(io->thread);
	nvmf_qpair_disconnect(&io->q);
	ut_poll_threads();
	CU_ASSERT(io->disconnect_called);
	CU_ASSERT(!io->freed);

	/* New commands on a deactivating qpair are aborted. */
	late = ut_req_new(io, PLX_NVME_OPC_READ, UT_BS);
	late->cmd.nsid = 1;
	ut_submit(io, late);
	CU_ASSERT_EQUAL(ut_status(late), UT_SC(GEN, PLX_NVME_SC_ABORTED_SQ_DELETION));

	/* The transport reports closed: still waiting for the paused write. */
	ut_set_thread(io->thread);
	nvmf_qpair_transport_closed(&io->q);
	ut_poll_threads();
	CU_ASSERT(!io->freed);

	/* The namespace resumes (as poll_group.c does): the write is aborted, the qpair goes. */
	pg_ns->state = NVMF_PG_NS_ACTIVE;
	ut_set_thread(io->thread);
	TAILQ_REMOVE(&pg_ns->pending, &w->req, pending_link);
	nvmf_ctrlr_process_io_cmd(&w->req);
	ut_poll_threads();
	CU_ASSERT_EQUAL(w->completions, 1);
	CU_ASSERT_EQUAL(ut_status(w), UT_SC(GEN, PLX_NVME_SC_ABORTED_SQ_DELETION));
	CU_ASSERT(io->freed);
	CU_ASSERT_EQUAL(ctrlr->num_io_qpairs, 0);
	CU_ASSERT_EQUAL(pg_ns->io_outstanding, 0);

	ut_disconnect(admin);
	ut_req_free(w);
	ut_req_free(late);
	ut_qpair_release(admin);
	ut_qpair_release(io);
	ut_env_fini();
}

static void test_teardown_with_io_in_flight(void)
{
	struct ut_qpair *admin, *io;
	struct nvmf_ctrlr *ctrlr;
	struct ut_req *r[8];

	ut_env_init();
	ctrlr = ut_admin_connect(&admin, 0);
	io = ut_io_connect(ctrlr, 1, 1);
	ut_set_thread(io->thread);
	for (int i = 0; i < 8; i++) {
		r[i] = ut_req_new(io, i % 2 ? PLX_NVME_OPC_READ : PLX_NVME_OPC_WRITE, 4 * UT_BS);
		r[i]->cmd.cid = (uint16_t)i;
		r[i]->cmd.nsid = 1;
		r[i]->cmd.cdw10 = (uint32_t)i * 4;
		r[i]->cmd.cdw12 = 3;
		nvmf_request_exec(&r[i]->req);
	}
	/* The admin queue goes first; the controller waits for the I/O qpair. */
	ut_set_thread(admin->thread);
	nvmf_qpair_disconnect(&admin->q);
	ut_poll_threads();
	for (int i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(r[i]->completions, 1);
		ut_req_free(r[i]);
	}
	CU_ASSERT(admin->freed);
	CU_ASSERT(io->freed);
	CU_ASSERT(TAILQ_EMPTY(&g_env->subsys.ctrlrs));
	CU_ASSERT_EQUAL(g_env->pg_ns[1][0].io_outstanding, 0);
	ut_qpair_release(admin);
	ut_qpair_release(io);
	ut_env_fini();
}

static const struct plx_ut_case cases[] = {
    {"connect_happy_path", test_connect_happy_path},
    {"connect_admin_rejections", test_connect_admin_rejections},
    {"connect_io_rejections", test_connect_io_rejections},
    {"kato_rounding", test_kato_rounding},
    {"properties", test_properties},
    {"keep_alive_expiry", test_keep_alive_expiry},
    {"aer", test_aer},
    {"transport_closed_with_aer", test_transport_closed_with_aer},
    {"disconnect_cmd_and_async", test_disconnect_cmd_and_async},
    {"teardown_waits", test_teardown_waits_for_transport_and_requests},
    {"teardown_with_io_in_flight", test_teardown_with_io_in_flight},
};

PLX_UT_MAIN("nvmf_ctrlr_connect", cases)
