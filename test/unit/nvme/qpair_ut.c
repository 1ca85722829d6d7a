/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queue pairs on the fake transport: request pools, limits, the retry queue for a full
 * transport, retries honouring DNR and the count, command timeouts (Abort, then reset),
 * failure, and the outstanding counter.
 */
#include <errno.h>
#include <string.h>

#include "../../../lib/nvme/nvme_core.h"
#include "fake_nvme.h"
#include "ut.h"

static struct plx_nvme_ctrlr *g_ctrlr;
static struct plx_nvme_qpair *g_q;
static struct plx_nvme_ns *g_ns;
static uint8_t g_buf[256 * 1024];

struct io_result {
	int calls;
	struct plx_nvme_status status;
	uint32_t order[16];
};

static void io_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct io_result *r = arg;

	if (r->calls < 16) {
		r->order[r->calls] = cpl->cid;
	}
	r->calls++;
	r->status = cpl->status;
}

static void setup(uint32_t retry_count, uint32_t timeout_ms, uint32_t requests)
{
	struct plx_nvme_ctrlr_opts o;
	struct plx_nvme_io_qpair_opts qo;

	fake_reset();
	plx_nvme_ctrlr_get_default_opts(&o);
	o.transport_retry_count = retry_count;
	o.command_timeout_ms = timeout_ms;
	o.keep_alive_timeout_ms = 0;
	g_ctrlr = fake_connect(&o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_ctrlr);
	plx_nvme_ctrlr_get_default_io_qpair_opts(g_ctrlr, &qo);
	qo.io_queue_requests = requests;
	g_q = plx_nvme_ctrlr_alloc_io_qpair(g_ctrlr, &qo);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_q);
	g_ns = plx_nvme_ctrlr_get_ns(g_ctrlr, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_ns);
}

static void teardown(void)
{
	plx_nvme_ctrlr_free_io_qpair(g_q);
	plx_nvme_detach(g_ctrlr);
	CU_ASSERT_EQUAL(g_dev.destructs, 1);
}

static void script(struct plx_nvme_status st, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		g_dev.io_status[i] = st;
	}
	g_dev.io_status_count = n;
	g_dev.io_status_next = 0;
}

static void drain(struct io_result *r, int want)
{
	for (int i = 0; i < 100 && r->calls < want; i++) {
		plx_nvme_qpair_process_completions(g_q, 0);
	}
}

static void test_retry_honours_dnr_and_count(void)
{
	struct plx_nvme_status not_ready = {.sc = PLX_NVME_SC_NAMESPACE_NOT_READY};
	struct plx_nvme_status lba = {.sc = PLX_NVME_SC_LBA_OUT_OF_RANGE};
	struct io_result r = {0};

	setup(4, 0, 64);
	/* Retryable, no DNR: resubmitted retry_count times, then reported. */
	script(not_ready, 10);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 0, 1, io_done, &r, 0), 0);
	drain(&r, 1);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(g_dev.num_io, 5);
	CU_ASSERT_EQUAL(r.status.sc, PLX_NVME_SC_NAMESPACE_NOT_READY);
	for (uint32_t i = 1; i < 5; i++) {
		CU_ASSERT_EQUAL(memcmp(&g_dev.io[i].cmd.cdw10, &g_dev.io[0].cmd.cdw10, 24), 0);
	}

	/* The same status with DNR: once. */
	not_ready.dnr = 1;
	script(not_ready, 10);
	g_dev.num_io = 0;
	r.calls = 0;
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 0, 1, io_done, &r, 0), 0);
	drain(&r, 1);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(g_dev.num_io, 1);
	CU_ASSERT_EQUAL(r.status.dnr, 1);

	/* Not a transient status: once. */
	script(lba, 10);
	g_dev.num_io = 0;
	r.calls = 0;
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 0, 1, io_done, &r, 0), 0);
	drain(&r, 1);
	CU_ASSERT_EQUAL(g_dev.num_io, 1);
	CU_ASSERT_EQUAL(r.status.sc, PLX_NVME_SC_LBA_OUT_OF_RANGE);

	/* A transient failure that clears: the caller sees only the success. */
	not_ready.dnr = 0;
	script(not_ready, 2);
	g_dev.num_io = 0;
	r.calls = 0;
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_write(g_ns, g_q, g_buf, 0, 1, io_done, &r, 0), 0);
	drain(&r, 1);
	CU_ASSERT_EQUAL(g_dev.num_io, 3);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.status.sc, 0);
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(g_q), 0);
	teardown();

	/* retry count 0: never. */
	setup(0, 0, 64);
	script((struct plx_nvme_status){.sct = PLX_NVME_SCT_PATH,
					.sc = PLX_NVME_SC_ASYMMETRIC_ACCESS_TRANSITION},
	       3);
	r.calls = 0;
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 0, 1, io_done, &r, 0), 0);
	drain(&r, 1);
	CU_ASSERT_EQUAL(g_dev.num_io, 1);
	CU_ASSERT_EQUAL(r.status.sct, PLX_NVME_SCT_PATH);
	teardown();
}

static void test_enomem_when_pool_empty(void)
{
	struct io_result r = {0};

	setup(4, 0, 4);
	g_dev.io_hold = true;
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, i, 1, io_done, &r, 0), 0);
	}
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 4, 1, io_done, &r, 0), -ENOMEM);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_flush(g_ns, g_q, io_done, &r), -ENOMEM);
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(g_q), 4);
	plx_nvme_qpair_process_completions(g_q, 0);
	fake_release_io();
	CU_ASSERT_EQUAL(r.calls, 4);
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(g_q), 0);
	g_dev.io_hold = false;
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 4, 1, io_done, &r, 0), 0);
	drain(&r, 5);
	CU_ASSERT_EQUAL(r.calls, 5);
	teardown();
}

static void test_limits_are_einval(void)
{
	struct io_result r = {0};

	setup(4, 0, 8);
	/* 128 KiB limit, 4 KiB sectors. */
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 0, 33, io_done, &r, 0), -EINVAL);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 0, 0, io_done, &r, 0), -EINVAL);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 0, 1, io_done, &r, 1u << 20),
			-EINVAL);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 0, 32, io_done, &r, 0), 0);
	/* Write Zeroes moves no data: only NLB bounds it. */
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_write_zeroes(g_ns, g_q, 0, 65536, io_done, &r, 0), 0);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_write_zeroes(g_ns, g_q, 0, 65537, io_done, &r, 0), -EINVAL);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_cmd_io_raw(g_ctrlr, g_q,
						  &(struct plx_nvme_cmd){.opc = PLX_NVME_OPC_READ},
						  g_buf, 128 * 1024 + 4096, io_done, &r),
			-EINVAL);
	drain(&r, 2);
	CU_ASSERT_EQUAL(r.calls, 2);
	CU_ASSERT_EQUAL(g_dev.num_io, 2);
	teardown();
}

static void test_full_transport_uses_retry_queue_in_order(void)
{
	struct io_result r = {0};

	setup(4, 0, 16);
	g_dev.sq_slots = 2;
	g_dev.io_hold = true;
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, i, 1, io_done, &r, 0), 0);
	}
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(g_q), 5);
	CU_ASSERT_EQUAL(g_dev.num_io, 2);
	g_dev.io_hold = false;
	fake_release_io();
	drain(&r, 5);
	CU_ASSERT_EQUAL(r.calls, 5);
	CU_ASSERT_EQUAL(g_dev.num_io, 5);
	for (uint32_t i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(g_dev.io[i].cmd.cdw10, i); /* submission order kept */
	}
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(g_q), 0);
	teardown();
}

static void test_timeout_sends_abort_then_resets(void)
{
	struct io_result r = {0};
	const struct fake_cmd *abort;
	uint32_t cc_writes;

	setup(0, 100, 16);
	g_dev.io_hold = true;
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 7, 1, io_done, &r, 0), 0);
	plx_nvme_qpair_process_completions(g_q, 0);
	g_dev.now += 50 * 1000;
	plx_nvme_qpair_process_completions(g_q, 0);
	CU_ASSERT_EQUAL(fake_count_admin(PLX_NVME_OPC_ABORT), 0);
	g_dev.now += 60 * 1000;
	plx_nvme_qpair_process_completions(g_q, 0);
	CU_ASSERT_EQUAL(fake_count_admin(PLX_NVME_OPC_ABORT), 1);
	abort = fake_last_admin(PLX_NVME_OPC_ABORT);
	/* SQID in 15:0, CID in 31:16. */
	CU_ASSERT_EQUAL(abort->cmd.cdw10,
			(uint32_t)g_q->id | ((uint32_t)g_dev.io[0].cmd.cid << 16));
	CU_ASSERT_EQUAL(r.calls, 0);
	plx_nvme_ctrlr_process_admin_completions(g_ctrlr);

	/* The Abort did not help: at the second expiry the controller is reset. */
	cc_writes = g_dev.cc_writes;
	g_dev.now += 50 * 1000;
	plx_nvme_qpair_process_completions(g_q, 0);
	CU_ASSERT_EQUAL(g_dev.cc_writes, cc_writes);
	g_dev.now += 60 * 1000;
	plx_nvme_qpair_process_completions(g_q, 0);
	CU_ASSERT_EQUAL(g_dev.cc_writes, cc_writes + 1);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.status.sc, PLX_NVME_SC_ABORTED_SQ_DELETION);
	CU_ASSERT_EQUAL(g_q->state, NVME_QPAIR_CONNECTED);
	CU_ASSERT_FALSE(plx_nvme_ctrlr_is_failed(g_ctrlr));
	teardown();
}

static void test_abort_completes_timed_out_command(void)
{
	struct io_result r = {0};

	setup(0, 100, 16);
	g_dev.io_hold = true;
	g_dev.abort_completes = true;
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_write(g_ns, g_q, g_buf, 7, 1, io_done, &r, 0), 0);
	plx_nvme_qpair_process_completions(g_q, 0);
	g_dev.now += 150 * 1000;
	plx_nvme_qpair_process_completions(g_q, 0);
	CU_ASSERT_EQUAL(fake_count_admin(PLX_NVME_OPC_ABORT), 1);
	plx_nvme_ctrlr_process_admin_completions(g_ctrlr);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.status.sc, PLX_NVME_SC_ABORTED_BY_REQUEST);
	teardown();
}

static void test_failed_qpair_returns_enxio(void)
{
	struct io_result r = {0};

	setup(4, 0, 16);
	g_dev.io_hold = true;
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 0, 1, io_done, &r, 0), 0);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 1, 1, io_done, &r, 0), 0);
	plx_nvme_qpair_process_completions(g_q, 0);
	g_dev.fail_io_process = true;
	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(g_q, 0), -ENXIO);
	/* Everything outstanding completed, aborted, exactly once. */
	CU_ASSERT_EQUAL(r.calls, 2);
	CU_ASSERT_EQUAL(r.status.sc, PLX_NVME_SC_ABORTED_SQ_DELETION);
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(g_q), 0);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 0, 1, io_done, &r, 0), -ENXIO);
	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(g_q, 0), -ENXIO);
	CU_ASSERT_EQUAL(r.calls, 2);
	/* The controller itself is fine: only this qpair failed. */
	CU_ASSERT_FALSE(plx_nvme_ctrlr_is_failed(g_ctrlr));
	g_dev.fail_io_process = false;
	teardown();
}

/* A callback that submits again: the request it just finished is already free. */
static int g_resubmits;
static void resubmit_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	(void)arg;
	(void)cpl;
	if (g_resubmits++ < 10) {
		CU_ASSERT_EQUAL(
		    plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 0, 1, resubmit_done, NULL, 0), 0);
	}
}

static void test_callback_can_resubmit_with_one_request(void)
{
	setup(4, 0, 1);
	g_resubmits = 0;
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, 0, 1, resubmit_done, NULL, 0), 0);
	for (int i = 0; i < 20; i++) {
		plx_nvme_qpair_process_completions(g_q, 0);
	}
	CU_ASSERT_EQUAL(g_resubmits, 11);
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(g_q), 0);
	teardown();
}

static void test_admin_raw_and_outstanding(void)
{
	struct io_result r = {0};
	struct plx_nvme_cmd cmd = {.opc = PLX_NVME_OPC_KEEP_ALIVE};

	setup(4, 0, 16);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_cmd_admin_raw(g_ctrlr, &cmd, NULL, 0, io_done, &r), 0);
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(g_ctrlr->adminq), 5); /* + 4 AERs */
	CU_ASSERT(plx_nvme_ctrlr_process_admin_completions(g_ctrlr) >= 1);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(g_ctrlr->adminq), 4);
	/* buf and len go together. */
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_cmd_admin_raw(g_ctrlr, &cmd, g_buf, 0, io_done, &r),
			-EINVAL);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_cmd_admin_raw(g_ctrlr, &cmd, NULL, 8, io_done, &r), -EINVAL);
	teardown();
}

static void test_admin_sync_times_out_and_fails(void)
{
	struct plx_nvme_cmd cmd = {.opc = PLX_NVME_OPC_ASYNC_EVENT_REQUEST};
	struct plx_nvme_cpl cpl;

	setup(4, 100, 16);
	/* An AER never completes on its own: a blocking wait gives up and fails the controller. */
	CU_ASSERT_EQUAL(nvme_ctrlr_cmd_admin_sync(g_ctrlr, &cmd, NULL, 0, &cpl), -ETIMEDOUT);
	CU_ASSERT_TRUE(plx_nvme_ctrlr_is_failed(g_ctrlr));
	CU_ASSERT_EQUAL(cpl.status.sc, PLX_NVME_SC_ABORTED_SQ_DELETION);
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(g_ctrlr->adminq), 0);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_process_admin_completions(g_ctrlr), -ENXIO);
	teardown();
}

static const struct plx_ut_case cases[] = {
    {"retry_honours_dnr_and_count", test_retry_honours_dnr_and_count},
    {"enomem_when_pool_empty", test_enomem_when_pool_empty},
    {"limits_are_einval", test_limits_are_einval},
    {"full_transport_uses_retry_queue_in_order", test_full_transport_uses_retry_queue_in_order},
    {"timeout_sends_abort_then_resets", test_timeout_sends_abort_then_resets},
    {"abort_completes_timed_out_command", test_abort_completes_timed_out_command},
    {"failed_qpair_returns_enxio", test_failed_qpair_returns_enxio},
    {"callback_can_resubmit_with_one_request", test_callback_can_resubmit_with_one_request},
    {"admin_raw_and_outstanding", test_admin_raw_and_outstanding},
    {"admin_sync_times_out_and_fails", test_admin_sync_times_out_and_fails},
};
PLX_UT_MAIN("nvme_qpair", cases)
