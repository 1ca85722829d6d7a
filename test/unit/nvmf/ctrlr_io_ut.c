/* SPDX-License-Identifier: BSD-3-Clause */
/* Controller core: NVM commands on a malloc namespace. */
#include "ctrlr_ut.h"

#define GEN PLX_NVME_SCT_GENERIC

struct io_fixture {
	struct ut_qpair *admin, *io;
	struct nvmf_ctrlr *ctrlr;
};

static void io_setup(struct io_fixture *f)
{
	ut_env_init();
	f->ctrlr = ut_admin_connect(&f->admin, 0);
	f->io = ut_io_connect(f->ctrlr, 1, 1); /* the I/O queue on the other poll group */
}

static void io_teardown(struct io_fixture *f)
{
	ut_disconnect(f->admin);
	CU_ASSERT(f->io->freed);
	ut_qpair_release(f->admin);
	ut_qpair_release(f->io);
	ut_env_fini();
}

static struct ut_req *io_req(struct ut_qpair *qp, uint8_t opc, uint32_t nsid, uint64_t slba,
			     uint32_t nlb, size_t len)
{
	struct ut_req *r = ut_req_new(qp, opc, len);

	r->cmd.nsid = nsid;
	r->cmd.cdw10 = (uint32_t)slba;
	r->cmd.cdw11 = (uint32_t)(slba >> 32);
	r->cmd.cdw12 = nlb - 1;
	return r;
}

/* Run one I/O command; data copied in before (write) and out after (read). */
static unsigned int io_run(struct ut_qpair *qp, uint8_t opc, uint32_t nsid, uint64_t slba,
			   uint32_t nlb, void *data, size_t len)
{
	struct ut_req *r = io_req(qp, opc, nsid, slba, nlb, len);
	unsigned int st;

	if (data != NULL && opc != PLX_NVME_OPC_READ) {
		memcpy(r->buf, data, len);
	}
	ut_submit(qp, r);
	CU_ASSERT_EQUAL(r->completions, 1);
	st = ut_status(r);
	if (data != NULL && opc == PLX_NVME_OPC_READ) {
		memcpy(data, r->buf, len);
	}
	ut_req_free(r);
	return st;
}

static void fill(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++) {
		buf[i] = (uint8_t)(seed + i * 13 + (i >> 9));
	}
}

static bool zeroes(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != 0) {
			return false;
		}
	}
	return true;
}

static void test_write_read_and_smart(void)
{
	struct io_fixture f;
	uint8_t w[8 * UT_BS], r[8 * UT_BS];
	struct plx_nvme_health_information_page hp;
	struct ut_req *lp;

	io_setup(&f);
	fill(w, sizeof(w), 1);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_WRITE, 1, 10, 8, w, sizeof(w)), 0);
	memset(r, 0, sizeof(r));
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_READ, 1, 10, 8, r, sizeof(r)), 0);
	CU_ASSERT_EQUAL(memcmp(w, r, sizeof(w)), 0);
	/* The last block. */
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_WRITE, 1, UT_BLOCKS - 1, 1, w, UT_BS), 0);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_FLUSH, 1, 0, 1, NULL, 0), 0);

	lp = ut_req_new(f.admin, PLX_NVME_OPC_GET_LOG_PAGE, sizeof(hp));
	lp->cmd.cdw10 = PLX_NVME_LOG_HEALTH_INFORMATION | (uint32_t)(sizeof(hp) / 4 - 1) << 16;
	ut_submit(f.admin, lp);
	CU_ASSERT_EQUAL(ut_status(lp), 0);
	memcpy(&hp, lp->buf, sizeof(hp));
	ut_req_free(lp);
	CU_ASSERT_EQUAL(hp.host_write_commands[0], 2);
	CU_ASSERT_EQUAL(hp.host_read_commands[0], 1);
	CU_ASSERT_EQUAL(hp.data_units_written[0], 1); /* 4608 bytes, rounded up */
	CU_ASSERT_EQUAL(hp.data_units_read[0], 1);
	CU_ASSERT_EQUAL(g_env->pg_ns[1][0].io_outstanding, 0);
	io_teardown(&f);
}

static void test_bad_io(void)
{
	struct io_fixture f;
	uint8_t buf[8 * UT_BS];

	io_setup(&f);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_READ, 1, UT_BLOCKS - 4, 8, buf, sizeof(buf)),
			UT_SC(GEN, PLX_NVME_SC_LBA_OUT_OF_RANGE));
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_READ, 1, UINT64_MAX - 2, 8, buf, sizeof(buf)),
			UT_SC(GEN, PLX_NVME_SC_LBA_OUT_OF_RANGE));
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_WRITE, 1, 0, 8, buf, 4 * UT_BS),
			UT_SC(GEN, PLX_NVME_SC_DATA_SGL_LENGTH_INVALID));
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_READ, 2, 0, 1, buf, UT_BS),
			UT_SC(GEN, PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT));
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_READ, 99, 0, 1, buf, UT_BS),
			UT_SC(GEN, PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT));
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_WRITE_UNCORRECTABLE, 1, 0, 1, NULL, 0),
			UT_SC(GEN, PLX_NVME_SC_INVALID_OPCODE));
	CU_ASSERT_EQUAL(io_run(f.io, 0x7c, 1, 0, 1, NULL, 0),
			UT_SC(GEN, PLX_NVME_SC_INVALID_OPCODE));
	CU_ASSERT_EQUAL(g_env->pg_ns[1][0].io_outstanding, 0);
	/* Each failure reached the controller's error log, newest first, numbered. */
	ut_poll_threads();
	CU_ASSERT_EQUAL(f.ctrlr->error_count, 7);
	CU_ASSERT_EQUAL(f.ctrlr->error_log[0].error_count, 7);
	CU_ASSERT_EQUAL(f.ctrlr->error_log[0].sqid, 1);
	CU_ASSERT_EQUAL(f.ctrlr->error_log[0].status.sc, PLX_NVME_SC_INVALID_OPCODE);
	CU_ASSERT_EQUAL(f.ctrlr->error_log[6].error_count, 1);
	CU_ASSERT_EQUAL(f.ctrlr->error_log[6].status.sc, PLX_NVME_SC_LBA_OUT_OF_RANGE);
	CU_ASSERT_EQUAL(f.ctrlr->error_log[6].nsid, 1);
	io_teardown(&f);
}

static void test_compare_and_fused(void)
{
	struct io_fixture f;
	uint8_t a[2 * UT_BS], b[2 * UT_BS], r[2 * UT_BS];
	struct ut_req *first, *second, *other;

	io_setup(&f);
	fill(a, sizeof(a), 3);
	fill(b, sizeof(b), 9);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_WRITE, 1, 100, 2, a, sizeof(a)), 0);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_COMPARE, 1, 100, 2, a, sizeof(a)), 0);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_COMPARE, 1, 100, 2, b, sizeof(b)),
			UT_SC(PLX_NVME_SCT_MEDIA_ERROR, PLX_NVME_SC_COMPARE_FAILURE));

	/* Compare-and-Write that matches: b replaces a. */
	first = io_req(f.io, PLX_NVME_OPC_COMPARE, 1, 100, 2, sizeof(a));
	first->cmd.fuse = PLX_NVME_FUSE_FIRST;
	memcpy(first->buf, a, sizeof(a));
	second = io_req(f.io, PLX_NVME_OPC_WRITE, 1, 100, 2, sizeof(b));
	second->cmd.fuse = PLX_NVME_FUSE_SECOND;
	memcpy(second->buf, b, sizeof(b));
	ut_submit(f.io, first);
	CU_ASSERT_EQUAL(first->completions, 0); /* held for its SECOND */
	ut_submit(f.io, second);
	CU_ASSERT_EQUAL(first->completions, 1);
	CU_ASSERT_EQUAL(second->completions, 1);
	CU_ASSERT_EQUAL(ut_status(first), 0);
	CU_ASSERT_EQUAL(ut_status(second), 0);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_READ, 1, 100, 2, r, sizeof(r)), 0);
	CU_ASSERT_EQUAL(memcmp(r, b, sizeof(b)), 0);
	ut_req_free(first);
	ut_req_free(second);

	/* Miscompare: the FIRST fails, the SECOND is aborted, nothing written. */
	first = io_req(f.io, PLX_NVME_OPC_COMPARE, 1, 100, 2, sizeof(a));
	first->cmd.fuse = PLX_NVME_FUSE_FIRST;
	memcpy(first->buf, a, sizeof(a));
	second = io_req(f.io, PLX_NVME_OPC_WRITE, 1, 100, 2, sizeof(a));
	second->cmd.fuse = PLX_NVME_FUSE_SECOND;
	memcpy(second->buf, a, sizeof(a));
	ut_submit(f.io, first);
	ut_submit(f.io, second);
	CU_ASSERT_EQUAL(ut_status(first),
			UT_SC(PLX_NVME_SCT_MEDIA_ERROR, PLX_NVME_SC_COMPARE_FAILURE));
	CU_ASSERT_EQUAL(ut_status(second), UT_SC(GEN, PLX_NVME_SC_ABORTED_FAILED_FUSED));
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_READ, 1, 100, 2, r, sizeof(r)), 0);
	CU_ASSERT_EQUAL(memcmp(r, b, sizeof(b)), 0);
	ut_req_free(first);
	ut_req_free(second);

	/* Ranges that differ: invalid pair. */
	first = io_req(f.io, PLX_NVME_OPC_COMPARE, 1, 100, 2, sizeof(a));
	first->cmd.fuse = PLX_NVME_FUSE_FIRST;
	second = io_req(f.io, PLX_NVME_OPC_WRITE, 1, 101, 2, sizeof(a));
	second->cmd.fuse = PLX_NVME_FUSE_SECOND;
	ut_submit(f.io, first);
	ut_submit(f.io, second);
	CU_ASSERT_EQUAL(ut_status(first), UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));
	CU_ASSERT_EQUAL(ut_status(second), UT_SC(GEN, PLX_NVME_SC_ABORTED_FAILED_FUSED));
	ut_req_free(first);
	ut_req_free(second);

	/* Wrong opcodes for a fused pair. */
	first = io_req(f.io, PLX_NVME_OPC_READ, 1, 100, 2, sizeof(a));
	first->cmd.fuse = PLX_NVME_FUSE_FIRST;
	second = io_req(f.io, PLX_NVME_OPC_WRITE, 1, 100, 2, sizeof(a));
	second->cmd.fuse = PLX_NVME_FUSE_SECOND;
	ut_submit(f.io, first);
	ut_submit(f.io, second);
	CU_ASSERT_EQUAL(ut_status(first), UT_SC(GEN, PLX_NVME_SC_INVALID_OPCODE));
	CU_ASSERT_EQUAL(ut_status(second), UT_SC(GEN, PLX_NVME_SC_ABORTED_FAILED_FUSED));
	ut_req_free(first);
	ut_req_free(second);

	/* A FIRST followed by an ordinary command; a SECOND alone. */
	first = io_req(f.io, PLX_NVME_OPC_COMPARE, 1, 100, 2, sizeof(a));
	first->cmd.fuse = PLX_NVME_FUSE_FIRST;
	other = io_req(f.io, PLX_NVME_OPC_READ, 1, 100, 2, sizeof(a));
	ut_submit(f.io, first);
	ut_submit(f.io, other);
	CU_ASSERT_EQUAL(ut_status(first), UT_SC(GEN, PLX_NVME_SC_ABORTED_MISSING_FUSED));
	CU_ASSERT_EQUAL(ut_status(other), 0);
	ut_req_free(first);
	ut_req_free(other);
	second = io_req(f.io, PLX_NVME_OPC_WRITE, 1, 100, 2, sizeof(a));
	second->cmd.fuse = PLX_NVME_FUSE_SECOND;
	ut_submit(f.io, second);
	CU_ASSERT_EQUAL(ut_status(second), UT_SC(GEN, PLX_NVME_SC_ABORTED_MISSING_FUSED));
	ut_req_free(second);

	/* A FIRST left waiting when the qpair goes is aborted. */
	first = io_req(f.io, PLX_NVME_OPC_COMPARE, 1, 100, 2, sizeof(a));
	first->cmd.fuse = PLX_NVME_FUSE_FIRST;
	ut_submit(f.io, first);
	CU_ASSERT_EQUAL(first->completions, 0);
	ut_disconnect(f.io);
	CU_ASSERT_EQUAL(first->completions, 1);
	CU_ASSERT_EQUAL(ut_status(first), UT_SC(GEN, PLX_NVME_SC_ABORTED_SQ_DELETION));
	ut_req_free(first);
	CU_ASSERT_EQUAL(g_env->pg_ns[1][0].io_outstanding, 0);
	io_teardown(&f);
}

static void test_write_zeroes_and_dsm(void)
{
	struct io_fixture f;
	uint8_t w[16 * UT_BS], r[16 * UT_BS];
	struct plx_nvme_dsm_range ranges[3];
	struct ut_req *d;

	io_setup(&f);
	fill(w, sizeof(w), 5);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_WRITE, 1, 200, 16, w, sizeof(w)), 0);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_WRITE_ZEROES, 1, 202, 2, NULL, 0), 0);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_READ, 1, 200, 16, r, sizeof(r)), 0);
	CU_ASSERT_EQUAL(memcmp(r, w, 2 * UT_BS), 0);
	CU_ASSERT(zeroes(r + 2 * UT_BS, 2 * UT_BS));
	CU_ASSERT_EQUAL(memcmp(r + 4 * UT_BS, w + 4 * UT_BS, 12 * UT_BS), 0);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_WRITE_ZEROES, 1, UT_BLOCKS, 1, NULL, 0),
			UT_SC(GEN, PLX_NVME_SC_LBA_OUT_OF_RANGE));

	/* Deallocate two ranges (one empty range in between is skipped). */
	memset(ranges, 0, sizeof(ranges));
	ranges[0].starting_lba = 204;
	ranges[0].length = 2;
	ranges[2].starting_lba = 210;
	ranges[2].length = 3;
	d = ut_req_new(f.io, PLX_NVME_OPC_DATASET_MANAGEMENT, sizeof(ranges));
	d->cmd.nsid = 1;
	d->cmd.cdw10 = 2; /* 3 ranges */
	d->cmd.cdw11 = PLX_NVME_DSM_ATTR_DEALLOCATE;
	memcpy(d->buf, ranges, sizeof(ranges));
	ut_submit(f.io, d);
	CU_ASSERT_EQUAL(d->completions, 1);
	CU_ASSERT_EQUAL(ut_status(d), 0);
	CU_ASSERT_EQUAL(d->rsp.cdw0, 0);
	ut_req_free(d);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_READ, 1, 200, 16, r, sizeof(r)), 0);
	CU_ASSERT_EQUAL(memcmp(r + 6 * UT_BS, w + 6 * UT_BS, 4 * UT_BS), 0);
	CU_ASSERT(zeroes(r + 4 * UT_BS, 2 * UT_BS)); /* the malloc bdev unmaps to zeroes */
	CU_ASSERT(zeroes(r + 10 * UT_BS, 3 * UT_BS));

	/* A range past the end, and a list shorter than NR says. */
	ranges[0].starting_lba = UT_BLOCKS - 1;
	d = ut_req_new(f.io, PLX_NVME_OPC_DATASET_MANAGEMENT, sizeof(ranges));
	d->cmd.nsid = 1;
	d->cmd.cdw10 = 2;
	d->cmd.cdw11 = PLX_NVME_DSM_ATTR_DEALLOCATE;
	memcpy(d->buf, ranges, sizeof(ranges));
	ut_submit(f.io, d);
	CU_ASSERT_EQUAL(ut_status(d), UT_SC(GEN, PLX_NVME_SC_LBA_OUT_OF_RANGE));
	ut_req_free(d);
	d = ut_req_new(f.io, PLX_NVME_OPC_DATASET_MANAGEMENT, 16);
	d->cmd.nsid = 1;
	d->cmd.cdw10 = 2;
	d->cmd.cdw11 = PLX_NVME_DSM_ATTR_DEALLOCATE;
	ut_submit(f.io, d);
	CU_ASSERT_EQUAL(ut_status(d), UT_SC(GEN, PLX_NVME_SC_DATA_SGL_LENGTH_INVALID));
	ut_req_free(d);
	/* Without the deallocate attribute: nothing to do. */
	d = ut_req_new(f.io, PLX_NVME_OPC_DATASET_MANAGEMENT, 16);
	d->cmd.nsid = 1;
	ut_submit(f.io, d);
	CU_ASSERT_EQUAL(ut_status(d), 0);
	ut_req_free(d);
	CU_ASSERT_EQUAL(g_env->pg_ns[1][0].io_outstanding, 0);
	io_teardown(&f);
}

static void test_ana_and_reservation_checks(void)
{
	struct io_fixture f;
	uint8_t buf[UT_BS];
	struct nvmf_pg_ns *pg_ns;
	struct ut_req *r;

	io_setup(&f);
	pg_ns = &g_env->pg_ns[1][0];
	g_env->ana[0] = PLX_NVME_ANA_INACCESSIBLE_STATE;
	r = io_req(f.io, PLX_NVME_OPC_READ, 1, 0, 1, UT_BS);
	ut_submit(f.io, r);
	CU_ASSERT_EQUAL(ut_status(r),
			UT_SC(PLX_NVME_SCT_PATH, PLX_NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE));
	CU_ASSERT_EQUAL(r->rsp.status.dnr, 0); /* the host retries on another path */
	ut_req_free(r);
	g_env->ana[0] = PLX_NVME_ANA_CHANGE_STATE;
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_READ, 1, 0, 1, buf, UT_BS),
			UT_SC(PLX_NVME_SCT_PATH, PLX_NVME_SC_ASYMMETRIC_ACCESS_TRANSITION));
	g_env->ana[0] = PLX_NVME_ANA_PERSISTENT_LOSS_STATE;
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_READ, 1, 0, 1, buf, UT_BS),
			UT_SC(PLX_NVME_SCT_PATH, PLX_NVME_SC_ASYMMETRIC_ACCESS_PERSISTENT_LOSS));
	g_env->ana[0] = PLX_NVME_ANA_NON_OPTIMIZED_STATE;
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_READ, 1, 0, 1, buf, UT_BS), 0);

	/* Another host holds a Write Exclusive reservation: reads go, writes conflict. */
	pg_ns->rtype = PLX_NVME_RESV_WRITE_EXCLUSIVE;
	pg_ns->has_holder = true;
	memset(pg_ns->holder_hostid, 0x11, 16);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_READ, 1, 0, 1, buf, UT_BS), 0);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_WRITE, 1, 0, 1, buf, UT_BS),
			UT_SC(GEN, PLX_NVME_SC_RESERVATION_CONFLICT));
	/* This host holds it. */
	memset(pg_ns->holder_hostid, 0xab, 16);
	CU_ASSERT_EQUAL(io_run(f.io, PLX_NVME_OPC_WRITE, 1, 0, 1, buf, UT_BS), 0);
	pg_ns->rtype = PLX_NVME_RESV_NONE;
	pg_ns->has_holder = false;
	CU_ASSERT_EQUAL(pg_ns->io_outstanding, 0);
	io_teardown(&f);
}

static void test_paused_namespace(void)
{
	struct io_fixture f;
	struct nvmf_pg_ns *pg_ns;
	struct ut_req *r[3];

	io_setup(&f);
	pg_ns = &g_env->pg_ns[1][0];
	pg_ns->state = NVMF_PG_NS_PAUSED;
	for (int i = 0; i < 3; i++) {
		r[i] = io_req(f.io, PLX_NVME_OPC_WRITE, 1, (uint64_t)i, 1, UT_BS);
		r[i]->cmd.cid = (uint16_t)i;
		ut_submit(f.io, r[i]);
		CU_ASSERT_EQUAL(r[i]->completions, 0);
	}
	CU_ASSERT_EQUAL(pg_ns->io_outstanding, 0); /* waiting ones do not hold the drain */
	CU_ASSERT_EQUAL(f.io->q.outstanding_count, 3);
	pg_ns->state = NVMF_PG_NS_ACTIVE;
	ut_set_thread(f.io->thread);
	while (!TAILQ_EMPTY(&pg_ns->pending)) {
		struct nvmf_request *req = TAILQ_FIRST(&pg_ns->pending);

		TAILQ_REMOVE(&pg_ns->pending, req, pending_link);
		nvmf_ctrlr_process_io_cmd(req);
	}
	ut_poll_threads();
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(r[i]->completions, 1);
		CU_ASSERT_EQUAL(ut_status(r[i]), 0);
		ut_req_free(r[i]);
	}
	CU_ASSERT_EQUAL(f.io->q.outstanding_count, 0);
	CU_ASSERT_EQUAL(pg_ns->io_outstanding, 0);
	io_teardown(&f);
}

static void test_sq_head_and_ids(void)
{
	struct io_fixture f;
	struct ut_req *r;

	io_setup(&f);
	/* sq_size 64, Connect took the first entry: the head wraps. */
	for (int i = 0; i < 65; i++) {
		r = io_req(f.io, PLX_NVME_OPC_READ, 1, 0, 1, UT_BS);
		r->cmd.cid = (uint16_t)(500 + i);
		ut_submit(f.io, r);
		CU_ASSERT_EQUAL(r->rsp.cid, 500 + i);
		CU_ASSERT_EQUAL(r->rsp.sqid, 1);
		CU_ASSERT_EQUAL(r->rsp.sqhd, (i + 2) % 64);
		ut_req_free(r);
	}
	io_teardown(&f);
}

static const struct plx_ut_case cases[] = {
    {"write_read_and_smart", test_write_read_and_smart},
    {"bad_io", test_bad_io},
    {"compare_and_fused", test_compare_and_fused},
    {"write_zeroes_and_dsm", test_write_zeroes_and_dsm},
    {"ana_and_reservation_checks", test_ana_and_reservation_checks},
    {"paused_namespace", test_paused_namespace},
    {"sq_head_and_ids", test_sq_head_and_ids},
};

PLX_UT_MAIN("nvmf_ctrlr_io", cases)
