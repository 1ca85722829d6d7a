/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Controller bring-up and life on the fake transport: the order of initialisation, the
 * CC/CSTS handshake and its failures, queues, namespaces (paged lists, ANA), asynchronous
 * events, keep-alive, discovery, detach and reset.
 */
#include <errno.h>
#include <string.h>

#include "fake_nvme.h"
#include "ut.h"

static struct plx_nvme_ctrlr_opts default_opts(void)
{
	struct plx_nvme_ctrlr_opts o;

	plx_nvme_ctrlr_get_default_opts(&o);
	return o;
}

static void test_default_opts(void)
{
	struct plx_nvme_ctrlr_opts o = default_opts();

	CU_ASSERT_EQUAL(o.admin_queue_size, 32);
	CU_ASSERT_EQUAL(o.num_io_queues, 1);
	CU_ASSERT_EQUAL(o.io_queue_size, 128);
	CU_ASSERT_EQUAL(o.io_queue_requests, 512);
	CU_ASSERT_EQUAL(o.keep_alive_timeout_ms, 10000);
	CU_ASSERT_EQUAL(o.transport_retry_count, 4);
	CU_ASSERT_EQUAL(o.command_timeout_ms, 0);
	CU_ASSERT_FALSE(o.header_digest || o.data_digest || o.disable_sq_doorbell_batching);
}

static void test_init_order_and_cc(void)
{
	struct plx_nvme_ctrlr_opts o = default_opts();
	struct plx_nvme_ctrlr *ctrlr;
	union plx_nvme_cc cc;

	fake_reset();
	o.num_io_queues = 4;
	ctrlr = fake_connect(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	/* Registers, enable handshake, Identify, queues, namespaces, events, keep-alive. */
	CU_ASSERT_STRING_EQUAL(g_dev.log, "CAP VS CC CC=00460001 CSTS CSTS CSTS ID1:0 SF07 ID2:0 "
					  "ID0:1 ID0:2 SF0b AER AER AER AER GF0f");
	cc.raw = g_dev.last_cc;
	CU_ASSERT_EQUAL(cc.bits.en, 1);
	CU_ASSERT_EQUAL(cc.bits.css, 0);
	CU_ASSERT_EQUAL(cc.bits.mps, 0);
	CU_ASSERT_EQUAL(cc.bits.ams, 0);
	CU_ASSERT_EQUAL(cc.bits.iosqes, 6);
	CU_ASSERT_EQUAL(cc.bits.iocqes, 4);
	CU_ASSERT_EQUAL(fake_last_admin(PLX_NVME_OPC_SET_FEATURES)->cmd.cdw11,
			PLX_NVME_AEC_NS_ATTR);
	CU_ASSERT_EQUAL(g_dev.aers_pending, 4);
	/* MDTS 5 in 4 KiB units caps the transport's 1 MiB. */
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_get_max_xfer_size(ctrlr), 128 * 1024);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_get_num_io_queues(ctrlr), 4);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_get_vs(ctrlr).raw, PLX_NVME_VERSION(1, 4, 0));
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_get_cap(ctrlr).bits.to, 4);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_get_data(ctrlr)->aerl, 3);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_get_trid(ctrlr)->trtype, FAKE_TRTYPE);
	CU_ASSERT_FALSE(plx_nvme_ctrlr_is_failed(ctrlr));
	/* The host identity was filled in before the transport saw the options. */
	CU_ASSERT_EQUAL(
	    strncmp(ctrlr->opts.hostnqn, PLX_NVMF_NQN_UUID_PRE, strlen(PLX_NVMF_NQN_UUID_PRE)), 0);
	CU_ASSERT_EQUAL(plx_nvme_detach(ctrlr), 0);
	CU_ASSERT_EQUAL(g_dev.destructs, 1);
}

static void test_no_mdts_uses_transport_limit(void)
{
	struct plx_nvme_ctrlr *ctrlr;

	fake_reset();
	g_dev.cdata.mdts = 0;
	ctrlr = fake_connect(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_get_max_xfer_size(ctrlr), 1u << 20);
	plx_nvme_detach(ctrlr);
}

static void test_enabled_controller_is_disabled_first(void)
{
	struct plx_nvme_ctrlr *ctrlr;

	fake_reset();
	g_dev.initial_cc = 0x00460001;
	ctrlr = fake_connect(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	CU_ASSERT_PTR_NOT_NULL(strstr(g_dev.log, "CAP VS CC CC=00460000 CSTS"));
	CU_ASSERT_EQUAL(g_dev.cc_writes, 2);
	plx_nvme_detach(ctrlr);
}

static void test_ready_timeout_after_cap_to(void)
{
	char err[PLX_NVME_ERR_LEN];
	struct plx_nvme_trid trid = {.trtype = FAKE_TRTYPE, .subnqn = FAKE_SUBNQN};
	uint64_t start;

	fake_reset();
	g_dev.never_ready = true;
	g_dev.cap.bits.to = 4; /* 2 s */
	start = g_dev.now;
	CU_ASSERT_PTR_NULL(plx_nvme_connect(&trid, NULL, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "CSTS.RDY 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "timed out after CAP.TO (2000 ms)"));
	/* It waited the whole CAP.TO, and no longer than a few polls past it. */
	CU_ASSERT(g_dev.now - start >= 2000 * 1000);
	CU_ASSERT(g_dev.now - start <= 2100 * 1000);
	CU_ASSERT_EQUAL(g_dev.num_admin, 0);
	CU_ASSERT_EQUAL(g_dev.destructs, 1);
}

static void test_fatal_status_fails_cleanly(void)
{
	char err[PLX_NVME_ERR_LEN];
	struct plx_nvme_trid trid = {.trtype = FAKE_TRTYPE, .subnqn = FAKE_SUBNQN};

	fake_reset();
	g_dev.cfs = true;
	CU_ASSERT_PTR_NULL(plx_nvme_connect(&trid, NULL, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "CSTS.CFS"));
	CU_ASSERT_EQUAL(g_dev.num_admin, 0);
	CU_ASSERT_EQUAL(g_dev.destructs, 1);
}

static void test_errors_name_step_and_status(void)
{
	char err[PLX_NVME_ERR_LEN];
	struct plx_nvme_trid trid = {.trtype = FAKE_TRTYPE, .subnqn = FAKE_SUBNQN};

	fake_reset();
	g_dev.fail_opc = PLX_NVME_OPC_IDENTIFY;
	g_dev.fail_cns = PLX_NVME_IDENTIFY_CTRLR;
	g_dev.fail_status.sc = PLX_NVME_SC_INVALID_FIELD;
	CU_ASSERT_PTR_NULL(plx_nvme_connect(&trid, NULL, err));
	CU_ASSERT_STRING_EQUAL(err, "Identify Controller: INVALID FIELD (sct 0 sc 0x02)");

	fake_reset();
	g_dev.fail_opc = PLX_NVME_OPC_SET_FEATURES;
	g_dev.fail_status.sct = PLX_NVME_SCT_COMMAND_SPECIFIC;
	g_dev.fail_status.sc = PLX_NVME_SC_FEATURE_NOT_CHANGEABLE;
	CU_ASSERT_PTR_NULL(plx_nvme_connect(&trid, NULL, err));
	CU_ASSERT_STRING_EQUAL(err, "Set Features Number of Queues: FEATURE NOT CHANGEABLE "
				    "(sct 1 sc 0x0e)");

	fake_reset();
	g_dev.construct_fails = true;
	CU_ASSERT_PTR_NULL(plx_nvme_connect(&trid, NULL, err));
	CU_ASSERT_STRING_EQUAL(err, "fake: connection refused");

	trid.trtype = 0x55;
	CU_ASSERT_PTR_NULL(plx_nvme_connect(&trid, NULL, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no transport"));
}

static void test_num_queues_granted_less(void)
{
	struct plx_nvme_ctrlr_opts o = default_opts();
	struct plx_nvme_ctrlr *ctrlr;
	struct plx_nvme_qpair *q1, *q2, *q3;

	fake_reset();
	o.num_io_queues = 8;
	g_dev.nq_cdw0 = (2u << 16) | 1u; /* 3 CQs, 2 SQs (0's based) */
	ctrlr = fake_connect(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	CU_ASSERT_EQUAL(g_dev.admin[1].cmd.cdw11, 7u | (7u << 16));
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_get_num_io_queues(ctrlr), 2);
	q1 = plx_nvme_ctrlr_alloc_io_qpair(ctrlr, NULL);
	q2 = plx_nvme_ctrlr_alloc_io_qpair(ctrlr, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q2);
	CU_ASSERT_EQUAL(q1->id, 1);
	CU_ASSERT_EQUAL(q2->id, 2);
	CU_ASSERT_PTR_NULL(plx_nvme_ctrlr_alloc_io_qpair(ctrlr, NULL));
	/* A freed id is handed out again. */
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_free_io_qpair(q1), 0);
	q3 = plx_nvme_ctrlr_alloc_io_qpair(ctrlr, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q3);
	CU_ASSERT_EQUAL(q3->id, 1);
	plx_nvme_ctrlr_free_io_qpair(q2);
	plx_nvme_ctrlr_free_io_qpair(q3);
	plx_nvme_detach(ctrlr);
}

static void test_io_qpair_opts(void)
{
	struct plx_nvme_io_qpair_opts qo;
	struct plx_nvme_ctrlr *ctrlr;
	struct plx_nvme_qpair *q;

	fake_reset();
	ctrlr = fake_connect(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	plx_nvme_ctrlr_get_default_io_qpair_opts(ctrlr, &qo);
	CU_ASSERT_EQUAL(qo.io_queue_size, 128);
	CU_ASSERT_EQUAL(qo.io_queue_requests, 512);
	CU_ASSERT_TRUE(qo.delay_cmd_submit);
	qo.io_queue_size = 1024; /* more than CAP.MQES allows */
	qo.io_queue_requests = 16;
	q = plx_nvme_ctrlr_alloc_io_qpair(ctrlr, &qo);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(q->num_entries, 128);
	CU_ASSERT_EQUAL(q->num_requests, 16);
	CU_ASSERT_EQUAL(q->state, NVME_QPAIR_CONNECTED);

	/* A qpair the transport cannot connect is not handed out, and its id stays free. */
	plx_nvme_ctrlr_free_io_qpair(q);
	g_dev.qpair_connect_rc = -ECONNREFUSED;
	CU_ASSERT_PTR_NULL(plx_nvme_ctrlr_alloc_io_qpair(ctrlr, NULL));
	g_dev.qpair_connect_rc = 0;
	q = plx_nvme_ctrlr_alloc_io_qpair(ctrlr, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(q->id, 1);
	/* Detach frees what the application forgot. */
	plx_nvme_detach(ctrlr);
	CU_ASSERT_EQUAL(g_dev.destructs, 1);
}

static void test_namespace_scan_pages_past_1024(void)
{
	struct plx_nvme_ctrlr *ctrlr;
	uint32_t count = 0, id, list_calls = 0, expected = 0;
	struct plx_nvme_ns *ns;

	fake_reset();
	g_dev.cdata.nn = 1500;
	memset(g_dev.ns_active, 0, sizeof(g_dev.ns_active));
	for (id = 1; id <= 1400; id++) {
		g_dev.ns_active[id] = id % 7 != 0;
		expected += g_dev.ns_active[id];
	}
	ctrlr = fake_connect(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	for (uint32_t i = 0; i < g_dev.num_admin; i++) {
		if (g_dev.admin[i].cmd.opc == PLX_NVME_OPC_IDENTIFY &&
		    g_dev.admin[i].cmd.cdw10 == PLX_NVME_IDENTIFY_ACTIVE_NS_LIST) {
			/* First page from 0, the next after the last id of the full first page. */
			CU_ASSERT_EQUAL(g_dev.admin[i].cmd.nsid, list_calls == 0 ? 0 : 1194);
			list_calls++;
		}
	}
	CU_ASSERT_EQUAL(list_calls, 2);
	for (id = plx_nvme_ctrlr_get_first_active_ns(ctrlr); id != 0;
	     id = plx_nvme_ctrlr_get_next_active_ns(ctrlr, id)) {
		CU_ASSERT_NOT_EQUAL(id % 7, 0);
		count++;
	}
	CU_ASSERT_EQUAL(count, expected);
	CU_ASSERT_PTR_NULL(plx_nvme_ctrlr_get_ns(ctrlr, 7));
	CU_ASSERT_PTR_NULL(plx_nvme_ctrlr_get_ns(ctrlr, 1401));
	CU_ASSERT_PTR_NULL(plx_nvme_ctrlr_get_ns(ctrlr, 0));
	CU_ASSERT_PTR_NULL(plx_nvme_ctrlr_get_ns(ctrlr, 1501));
	ns = plx_nvme_ctrlr_get_ns(ctrlr, 1399);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ns);
	CU_ASSERT_EQUAL(plx_nvme_ns_get_id(ns), 1399);
	CU_ASSERT_EQUAL(plx_nvme_ns_get_sector_size(ns), 4096); /* FLBAS 1 -> LBAF1 2^12 */
	CU_ASSERT_EQUAL(plx_nvme_ns_get_num_sectors(ns), 1000 + 1399);
	CU_ASSERT_EQUAL(plx_nvme_ns_get_data(ns)->flbas, 1);
	CU_ASSERT_EQUAL(plx_nvme_ns_get_ana_state(ns), PLX_NVME_ANA_OPTIMIZED_STATE);
	CU_ASSERT_EQUAL(plx_nvme_ns_get_ana_group_id(ns), 0);
	plx_nvme_detach(ctrlr);
}

static void test_old_controller_without_ns_list(void)
{
	struct plx_nvme_ctrlr *ctrlr;

	fake_reset();
	g_dev.vs = PLX_NVME_VERSION(1, 0, 0);
	g_dev.cdata.nn = 3;
	g_dev.ns_active[2] = false;
	g_dev.ns_active[3] = true;
	ctrlr = fake_connect(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	CU_ASSERT_PTR_NULL(strstr(g_dev.log, "ID2:"));
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_get_first_active_ns(ctrlr), 1);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_get_next_active_ns(ctrlr, 1), 3);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_get_next_active_ns(ctrlr, 3), 0);
	plx_nvme_detach(ctrlr);
}

struct aer_seen {
	int calls;
	uint32_t cdw0;
};

static void aer_cb(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct aer_seen *seen = arg;

	seen->calls++;
	seen->cdw0 = cpl->cdw0;
}

static void test_ana_log_and_change(void)
{
	struct plx_nvme_ctrlr *ctrlr;
	struct aer_seen seen = {0};
	const struct fake_cmd *log;

	fake_reset();
	g_dev.cdata.cmic = PLX_NVME_CMIC_ANA_REPORTING;
	g_dev.cdata.oaes |= PLX_NVME_OAES_ANA_CHANGE;
	g_dev.cdata.nanagrpid = 2;
	g_dev.cdata.nn = 3;
	g_dev.ns_active[3] = true;
	g_dev.ns_group[1] = g_dev.ns_group[2] = 1;
	g_dev.ns_group[3] = 2;
	g_dev.group_state[1] = PLX_NVME_ANA_OPTIMIZED_STATE;
	g_dev.group_state[2] = PLX_NVME_ANA_INACCESSIBLE_STATE;
	ctrlr = fake_connect(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	CU_ASSERT_PTR_NOT_NULL(strstr(g_dev.log, "ID0:3 LOG0c SF0b"));
	CU_ASSERT_EQUAL(fake_last_admin(PLX_NVME_OPC_SET_FEATURES)->cmd.cdw11,
			PLX_NVME_AEC_NS_ATTR | PLX_NVME_AEC_ANA_CHANGE);
	CU_ASSERT_EQUAL(plx_nvme_ns_get_ana_group_id(plx_nvme_ctrlr_get_ns(ctrlr, 2)), 1);
	CU_ASSERT_EQUAL(plx_nvme_ns_get_ana_state(plx_nvme_ctrlr_get_ns(ctrlr, 2)),
			PLX_NVME_ANA_OPTIMIZED_STATE);
	CU_ASSERT_EQUAL(plx_nvme_ns_get_ana_group_id(plx_nvme_ctrlr_get_ns(ctrlr, 3)), 2);
	CU_ASSERT_EQUAL(plx_nvme_ns_get_ana_state(plx_nvme_ctrlr_get_ns(ctrlr, 3)),
			PLX_NVME_ANA_INACCESSIBLE_STATE);

	/* ANA change: the log is read again (event cleared) before the user hears of it. */
	plx_nvme_ctrlr_register_aer_callback(ctrlr, aer_cb, &seen);
	g_dev.group_state[2] = PLX_NVME_ANA_NON_OPTIMIZED_STATE;
	CU_ASSERT_TRUE(fake_aen(plx_nvme_async_event_cdw0(PLX_NVME_ASYNC_EVENT_TYPE_NOTICE,
							  PLX_NVME_ASYNC_EVENT_ANA_CHANGE, 0x0c)));
	CU_ASSERT(plx_nvme_ctrlr_process_admin_completions(ctrlr) >= 0);
	CU_ASSERT_EQUAL(plx_nvme_ns_get_ana_state(plx_nvme_ctrlr_get_ns(ctrlr, 3)),
			PLX_NVME_ANA_NON_OPTIMIZED_STATE);
	log = fake_last_admin(PLX_NVME_OPC_GET_LOG_PAGE);
	CU_ASSERT_EQUAL(log->cmd.cdw10 & 0xff, PLX_NVME_LOG_ASYMMETRIC_NAMESPACE_ACCESS);
	CU_ASSERT_EQUAL(log->cmd.cdw10 & PLX_NVME_LOG_RAE, 0);
	CU_ASSERT_EQUAL(seen.calls, 1);
	CU_ASSERT_EQUAL(seen.cdw0 & 0xff00, PLX_NVME_ASYNC_EVENT_ANA_CHANGE << 8);
	/* Re-armed: still four outstanding. */
	CU_ASSERT(plx_nvme_ctrlr_process_admin_completions(ctrlr) >= 0);
	CU_ASSERT_EQUAL(g_dev.aers_pending, 4);
	plx_nvme_detach(ctrlr);
	CU_ASSERT_EQUAL(g_dev.aers_pending, 0);
}

static void test_aer_namespace_change_rescans(void)
{
	struct plx_nvme_ctrlr *ctrlr;
	struct aer_seen seen = {0};
	const struct fake_cmd *log;
	uint32_t aers_before;

	fake_reset();
	g_dev.cdata.nn = 8;
	ctrlr = fake_connect(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	plx_nvme_ctrlr_register_aer_callback(ctrlr, aer_cb, &seen);
	CU_ASSERT_PTR_NULL(plx_nvme_ctrlr_get_ns(ctrlr, 5));
	aers_before = fake_count_admin(PLX_NVME_OPC_ASYNC_EVENT_REQUEST);

	g_dev.ns_active[5] = true;
	g_dev.ns_active[2] = false;
	CU_ASSERT_TRUE(fake_aen(plx_nvme_async_event_cdw0(
	    PLX_NVME_ASYNC_EVENT_TYPE_NOTICE, PLX_NVME_ASYNC_EVENT_NS_ATTR_CHANGED, 0x04)));
	/* The completion alone changes nothing until the admin queue is polled. */
	CU_ASSERT_EQUAL(seen.calls, 0);
	CU_ASSERT(plx_nvme_ctrlr_process_admin_completions(ctrlr) >= 0);
	CU_ASSERT_EQUAL(seen.calls, 1);
	CU_ASSERT_PTR_NOT_NULL(plx_nvme_ctrlr_get_ns(ctrlr, 5));
	CU_ASSERT_PTR_NULL(plx_nvme_ctrlr_get_ns(ctrlr, 2));
	CU_ASSERT_PTR_NOT_NULL(plx_nvme_ctrlr_get_ns(ctrlr, 1));
	log = fake_last_admin(PLX_NVME_OPC_GET_LOG_PAGE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_EQUAL(log->cmd.cdw10 & 0xff, PLX_NVME_LOG_CHANGED_NS_LIST);
	CU_ASSERT_EQUAL(log->cmd.cdw10 & PLX_NVME_LOG_RAE, 0); /* RAE clear: event consumed */
	CU_ASSERT_EQUAL(log->cmd.cdw10 >> 16, 1023);	       /* 4096 bytes */
	CU_ASSERT_EQUAL(fake_count_admin(PLX_NVME_OPC_ASYNC_EVENT_REQUEST), aers_before + 1);
	CU_ASSERT_EQUAL(g_dev.aers_pending, 4);
	CU_ASSERT_FALSE(ctrlr->ns_rescan_pending);

	/* Other events are passed on as they are. */
	CU_ASSERT_TRUE(fake_aen(plx_nvme_async_event_cdw0(PLX_NVME_ASYNC_EVENT_TYPE_SMART, 1, 2)));
	CU_ASSERT(plx_nvme_ctrlr_process_admin_completions(ctrlr) >= 0);
	CU_ASSERT_EQUAL(seen.calls, 2);
	CU_ASSERT_EQUAL(seen.cdw0,
			plx_nvme_async_event_cdw0(PLX_NVME_ASYNC_EVENT_TYPE_SMART, 1, 2));
	plx_nvme_detach(ctrlr);
}

static void test_keep_alive_due_times(void)
{
	struct plx_nvme_ctrlr_opts o = default_opts();
	struct plx_nvme_ctrlr *ctrlr;
	uint64_t t0;

	fake_reset();
	o.keep_alive_timeout_ms = 10000;
	ctrlr = fake_connect(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	t0 = g_dev.now;
	g_dev.now = t0 + 4990 * 1000;
	plx_nvme_ctrlr_process_admin_completions(ctrlr);
	CU_ASSERT_EQUAL(g_dev.keep_alives, 0);
	g_dev.now = t0 + 5000 * 1000;
	plx_nvme_ctrlr_process_admin_completions(ctrlr);
	plx_nvme_ctrlr_process_admin_completions(ctrlr);
	CU_ASSERT_EQUAL(g_dev.keep_alives, 1);
	g_dev.now = t0 + 9990 * 1000;
	plx_nvme_ctrlr_process_admin_completions(ctrlr);
	CU_ASSERT_EQUAL(g_dev.keep_alives, 1);
	g_dev.now = t0 + 10010 * 1000;
	plx_nvme_ctrlr_process_admin_completions(ctrlr);
	plx_nvme_ctrlr_process_admin_completions(ctrlr);
	CU_ASSERT_EQUAL(g_dev.keep_alives, 2);
	plx_nvme_detach(ctrlr);

	/* The controller's own KATO (Get Features) wins over the one asked for. */
	fake_reset();
	g_dev.kato_cdw0 = 2000;
	ctrlr = fake_connect(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	g_dev.now += 1000 * 1000;
	plx_nvme_ctrlr_process_admin_completions(ctrlr);
	plx_nvme_ctrlr_process_admin_completions(ctrlr);
	CU_ASSERT_EQUAL(g_dev.keep_alives, 1);
	plx_nvme_detach(ctrlr);

	/* KATO 0: none at all. */
	fake_reset();
	o.keep_alive_timeout_ms = 0;
	ctrlr = fake_connect(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	CU_ASSERT_PTR_NULL(strstr(g_dev.log, "GF0f"));
	g_dev.now += 100000 * 1000;
	plx_nvme_ctrlr_process_admin_completions(ctrlr);
	CU_ASSERT_EQUAL(g_dev.keep_alives, 0);
	plx_nvme_detach(ctrlr);
}

static void test_detach_shuts_down(void)
{
	struct plx_nvme_ctrlr *ctrlr;
	union plx_nvme_cc cc;

	fake_reset();
	ctrlr = fake_connect(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	g_dev.log[0] = '\0';
	plx_nvme_detach(ctrlr);
	cc.raw = g_dev.last_cc;
	CU_ASSERT_EQUAL(cc.bits.shn, PLX_NVME_SHN_NORMAL);
	CU_ASSERT_STRING_EQUAL(g_dev.log, "CC CC=00464001 CSTS");
	CU_ASSERT_EQUAL(g_dev.aers_pending, 0);
	CU_ASSERT_EQUAL(g_dev.destructs, 1);
}

struct attached {
	int count;
	char traddr[2][PLX_NVMF_TRADDR_MAX_LEN + 1];
	char trsvcid[2][33];
	char subnqn[2][PLX_NVMF_NQN_MAX_LEN + 1];
	struct plx_nvme_ctrlr *ctrlr[2];
};

static bool probe_cb(void *ctx, const struct plx_nvme_trid *trid, struct plx_nvme_ctrlr_opts *opts)
{
	(void)ctx;
	(void)trid;
	opts->num_io_queues = 2;
	return true;
}

static void attach_cb(void *ctx, const struct plx_nvme_trid *trid, struct plx_nvme_ctrlr *ctrlr,
		      const struct plx_nvme_ctrlr_opts *opts)
{
	struct attached *a = ctx;

	CU_ASSERT_EQUAL(opts->num_io_queues, 2);
	if (a->count < 2) {
		snprintf(a->traddr[a->count], sizeof(a->traddr[0]), "%s", trid->traddr);
		snprintf(a->trsvcid[a->count], sizeof(a->trsvcid[0]), "%s", trid->trsvcid);
		snprintf(a->subnqn[a->count], sizeof(a->subnqn[0]), "%s", trid->subnqn);
		a->ctrlr[a->count] = ctrlr;
	}
	a->count++;
}

static void disc_entry(struct plx_nvmf_discovery_log_page_entry *e, uint8_t subtype,
		       const char *traddr, const char *svc, const char *nqn)
{
	memset(e, 0, sizeof(*e));
	e->trtype = FAKE_TRTYPE;
	e->adrfam = PLX_NVMF_ADRFAM_IPV4;
	e->subtype = subtype;
	memset(e->traddr, ' ', sizeof(e->traddr));
	memcpy(e->traddr, traddr, strlen(traddr));
	memset(e->trsvcid, ' ', sizeof(e->trsvcid));
	memcpy(e->trsvcid, svc, strlen(svc));
	snprintf(e->subnqn, sizeof(e->subnqn), "%s", nqn);
}

static void test_probe_through_discovery(void)
{
	struct plx_nvme_trid trid = {.trtype = FAKE_TRTYPE, .subnqn = FAKE_SUBNQN};
	struct attached a = {0};
	const struct fake_cmd *log;

	fake_reset();
	g_dev.max_xfer = 4096; /* the log comes in pieces */
	disc_entry(&g_dev.disc[0], PLX_NVMF_SUBTYPE_NVME, "10.0.0.1", "4420", "nqn.2016-06.io.x:a");
	disc_entry(&g_dev.disc[1], PLX_NVMF_SUBTYPE_DISCOVERY, "10.0.0.9", "8009",
		   PLX_NVMF_DISCOVERY_NQN);
	disc_entry(&g_dev.disc[2], PLX_NVMF_SUBTYPE_NVME, "10.0.0.2", "4421", "nqn.2016-06.io.x:b");
	disc_entry(&g_dev.disc[3], PLX_NVMF_SUBTYPE_DISCOVERY_CURRENT, "10.0.0.100", "4420",
		   PLX_NVMF_DISCOVERY_NQN);
	g_dev.num_disc = 4;
	snprintf(trid.traddr, sizeof(trid.traddr), "10.0.0.100");
	trid.subnqn[0] = '\0'; /* no subsystem named: ask the discovery service */
	CU_ASSERT_EQUAL(plx_nvme_probe(&trid, &a, probe_cb, attach_cb), 2);
	CU_ASSERT_EQUAL(a.count, 2);
	CU_ASSERT_STRING_EQUAL(a.traddr[0], "10.0.0.1");
	CU_ASSERT_STRING_EQUAL(a.trsvcid[0], "4420");
	CU_ASSERT_STRING_EQUAL(a.subnqn[0], "nqn.2016-06.io.x:a");
	CU_ASSERT_STRING_EQUAL(a.traddr[1], "10.0.0.2");
	CU_ASSERT_STRING_EQUAL(a.trsvcid[1], "4421");
	CU_ASSERT_STRING_EQUAL(a.subnqn[1], "nqn.2016-06.io.x:b");
	/* The discovery controller was initialised without queues or namespaces, then let go. */
	CU_ASSERT_EQUAL(g_dev.constructs, 3);
	CU_ASSERT_EQUAL(g_dev.destructs, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(g_dev.log, "ID1:0 GF0f LOG70"));
	log = &g_dev.admin[0];
	for (uint32_t i = 0; i < g_dev.num_admin; i++) {
		if (g_dev.admin[i].cmd.opc == PLX_NVME_OPC_GET_LOG_PAGE) {
			log = &g_dev.admin[i];
		}
		if (g_dev.admin[i].cmd.opc == PLX_NVME_OPC_SET_FEATURES) {
			break;
		}
	}
	/* The last piece of 5120 bytes (header + 4 entries) read 4096 at a time. */
	CU_ASSERT_EQUAL(log->cmd.cdw12, 4096);
	CU_ASSERT_EQUAL(log->cmd.cdw10 >> 16, 255);
	CU_ASSERT_EQUAL(log->cmd.cdw10 & PLX_NVME_LOG_RAE, 0);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_get_num_io_queues(a.ctrlr[0]), 2);
	plx_nvme_detach(a.ctrlr[0]);
	plx_nvme_detach(a.ctrlr[1]);
	CU_ASSERT_EQUAL(g_dev.destructs, 3);

	/* A named subsystem is attached directly. */
	fake_reset();
	memset(&a, 0, sizeof(a));
	snprintf(trid.subnqn, sizeof(trid.subnqn), FAKE_SUBNQN);
	CU_ASSERT_EQUAL(plx_nvme_probe(&trid, &a, probe_cb, attach_cb), 1);
	CU_ASSERT_EQUAL(g_dev.constructs, 1);
	plx_nvme_detach(a.ctrlr[0]);
}

struct io_result {
	int calls;
	struct plx_nvme_status status;
};

static void io_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct io_result *r = arg;

	r->calls++;
	r->status = cpl->status;
}

static void test_reset_keeps_qpairs_and_aborts(void)
{
	struct plx_nvme_ctrlr_opts o = default_opts();
	struct plx_nvme_ctrlr *ctrlr;
	struct plx_nvme_qpair *q;
	struct plx_nvme_ns *ns;
	struct io_result r = {0};
	static uint8_t buf[4096];
	uint32_t cc_writes;

	fake_reset();
	ctrlr = fake_connect(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	q = plx_nvme_ctrlr_alloc_io_qpair(ctrlr, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	ns = plx_nvme_ctrlr_get_ns(ctrlr, 1);
	g_dev.io_hold = true;
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(ns, q, buf, i, 1, io_done, &r, 0), 0);
	}
	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(q, 0), 3);
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(q), 3);
	cc_writes = g_dev.cc_writes;
	g_dev.log[0] = '\0';

	CU_ASSERT_EQUAL(plx_nvme_ctrlr_reset(ctrlr), 0);
	CU_ASSERT_EQUAL(r.calls, 3);
	CU_ASSERT_EQUAL(r.status.sc, PLX_NVME_SC_ABORTED_SQ_DELETION);
	CU_ASSERT_EQUAL(r.status.dnr, 1);
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(q), 0);
	/* Disconnect everything, a new admin connection, the whole init, the I/O qpair back. */
	CU_ASSERT_EQUAL(
	    strncmp(g_dev.log, "DISCONNECT1 DISCONNECT0 CONNECT0 CAP VS CC CC=00460001", 54), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(g_dev.log, "SF0b AER AER AER AER GF0f CONNECT1"));
	CU_ASSERT_EQUAL(g_dev.cc_writes, cc_writes + 1);
	CU_ASSERT_EQUAL(g_dev.aers_pending, 4);
	CU_ASSERT_EQUAL(q->state, NVME_QPAIR_CONNECTED);
	CU_ASSERT_EQUAL(q->id, 1);
	CU_ASSERT_PTR_EQUAL(plx_nvme_ctrlr_get_ns(ctrlr, 1), ns);

	/* The same handle works. */
	g_dev.io_hold = false;
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(ns, q, buf, 0, 1, io_done, &r, 0), 0);
	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(q, 0), 1);
	CU_ASSERT_EQUAL(r.calls, 4);
	CU_ASSERT_EQUAL(r.status.sc, 0);

	/* A reset whose init fails leaves the controller failed and its qpairs refusing I/O. */
	g_dev.never_ready = true;
	CU_ASSERT_NOT_EQUAL(plx_nvme_ctrlr_reset(ctrlr), 0);
	CU_ASSERT_TRUE(plx_nvme_ctrlr_is_failed(ctrlr));
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_process_admin_completions(ctrlr), -ENXIO);
	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(q, 0), -ENXIO);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(ns, q, buf, 0, 1, io_done, &r, 0), -ENXIO);
	/* ... until a reset succeeds. */
	g_dev.never_ready = false;
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_reset(ctrlr), 0);
	CU_ASSERT_FALSE(plx_nvme_ctrlr_is_failed(ctrlr));
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(ns, q, buf, 0, 1, io_done, &r, 0), 0);
	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(q, 0), 1);
	CU_ASSERT_EQUAL(r.calls, 5);
	plx_nvme_ctrlr_free_io_qpair(q);
	plx_nvme_detach(ctrlr);
}

static const struct plx_ut_case cases[] = {
    {"default_opts", test_default_opts},
    {"init_order_and_cc", test_init_order_and_cc},
    {"no_mdts_uses_transport_limit", test_no_mdts_uses_transport_limit},
    {"enabled_controller_is_disabled_first", test_enabled_controller_is_disabled_first},
    {"ready_timeout_after_cap_to", test_ready_timeout_after_cap_to},
    {"fatal_status_fails_cleanly", test_fatal_status_fails_cleanly},
    {"errors_name_step_and_status", test_errors_name_step_and_status},
    {"num_queues_granted_less", test_num_queues_granted_less},
    {"io_qpair_opts", test_io_qpair_opts},
    {"namespace_scan_pages_past_1024", test_namespace_scan_pages_past_1024},
    {"old_controller_without_ns_list", test_old_controller_without_ns_list},
    {"ana_log_and_change", test_ana_log_and_change},
    {"aer_namespace_change_rescans", test_aer_namespace_change_rescans},
    {"keep_alive_due_times", test_keep_alive_due_times},
    {"detach_shuts_down", test_detach_shuts_down},
    {"probe_through_discovery", test_probe_through_discovery},
    {"reset_keeps_qpairs_and_aborts", test_reset_keeps_qpairs_and_aborts},
};
PLX_UT_MAIN("nvme_ctrlr", cases)
