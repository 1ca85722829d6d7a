/* SPDX-License-Identifier: BSD-3-Clause */
/* The SQE every namespace and admin helper builds (cdw10-15 per NVMe 2.0 / NVM Command Set). */
#include <errno.h>
#include <string.h>

#include "../../../lib/nvme/nvme_core.h"
#include "fake_nvme.h"
#include "ut.h"

static struct plx_nvme_ctrlr *g_ctrlr;
static struct plx_nvme_qpair *g_q;
static struct plx_nvme_ns *g_ns;
static uint8_t g_buf[64 * 1024];

struct io_result {
	int calls;
	struct plx_nvme_cpl cpl;
};

static void io_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct io_result *r = arg;

	r->calls++;
	r->cpl = *cpl;
}

static void setup(void)
{
	fake_reset();
	g_ctrlr = fake_connect(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_ctrlr);
	g_q = plx_nvme_ctrlr_alloc_io_qpair(g_ctrlr, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_q);
	g_ns = plx_nvme_ctrlr_get_ns(g_ctrlr, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_ns);
	g_dev.num_io = 0;
}

static void teardown(void)
{
	plx_nvme_ctrlr_free_io_qpair(g_q);
	plx_nvme_detach(g_ctrlr);
}

static const struct fake_cmd *last_io(void)
{
	CU_ASSERT_FATAL(g_dev.num_io > 0);
	return &g_dev.io[g_dev.num_io - 1];
}

static void check_rw(uint8_t opc, uint32_t flags)
{
	const struct fake_cmd *c = last_io();

	CU_ASSERT_EQUAL(c->cmd.opc, opc);
	CU_ASSERT_EQUAL(c->cmd.nsid, 2);
	CU_ASSERT_EQUAL(c->cmd.fuse, 0);
	CU_ASSERT_EQUAL(c->cmd.cdw10, 0x89abcdefu); /* SLBA low */
	CU_ASSERT_EQUAL(c->cmd.cdw11, 0x01234567u); /* SLBA high */
	CU_ASSERT_EQUAL(c->cmd.cdw12, 7u | flags);  /* NLB 0's based, FUA 30, LR 31 */
	CU_ASSERT_EQUAL(c->cmd.cdw13, 0);
	CU_ASSERT_EQUAL(c->payload_size, 8 * 4096);
}

static void test_read_write_compare(void)
{
	const uint64_t lba = 0x0123456789abcdefull;
	struct io_result r = {0};

	setup();
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_read(g_ns, g_q, g_buf, lba, 8, io_done, &r, 0), 0);
	check_rw(PLX_NVME_OPC_READ, 0);
	CU_ASSERT_EQUAL(last_io()->payload_type, NVME_PAYLOAD_CONTIG);
	CU_ASSERT_PTR_EQUAL(last_io()->buf, g_buf);
	CU_ASSERT_EQUAL(
	    plx_nvme_ns_cmd_write(g_ns, g_q, g_buf, lba, 8, io_done, &r, PLX_NVME_IO_FLAGS_FUA), 0);
	check_rw(PLX_NVME_OPC_WRITE, 1u << 30);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_compare(g_ns, g_q, g_buf, lba, 8, io_done, &r,
						PLX_NVME_IO_FLAGS_LIMITED_RETRY),
			0);
	check_rw(PLX_NVME_OPC_COMPARE, 1u << 31);
	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(g_q, 0), 3);
	CU_ASSERT_EQUAL(r.calls, 3);
	teardown();
}

struct sgl {
	struct iovec iov[3];
	int idx;
	uint32_t reset_offset;
	struct io_result r;
};

static void sgl_reset(void *arg, uint32_t offset)
{
	struct sgl *s = arg;

	s->idx = 0;
	s->reset_offset = offset;
}

static int sgl_next(void *arg, void **addr, uint32_t *len)
{
	struct sgl *s = arg;

	if (s->idx == 3) {
		return -ERANGE;
	}
	*addr = s->iov[s->idx].iov_base;
	*len = (uint32_t)s->iov[s->idx].iov_len;
	s->idx++;
	return 0;
}

static void sgl_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	io_done(&((struct sgl *)arg)->r, cpl);
}

static void test_readv_writev(void)
{
	const uint64_t lba = 0x0123456789abcdefull;
	struct sgl s = {.iov = {{g_buf, 4096}, {g_buf + 8192, 8192}, {g_buf + 32768, 65536}}};
	struct iovec iov[4];
	struct nvme_request *req;

	setup();
	CU_ASSERT_EQUAL(
	    plx_nvme_ns_cmd_readv(g_ns, g_q, lba, 8, sgl_done, &s, 0, sgl_reset, sgl_next), 0);
	check_rw(PLX_NVME_OPC_READ, 0);
	CU_ASSERT_EQUAL(last_io()->payload_type, NVME_PAYLOAD_SGL);
	CU_ASSERT_EQUAL(
	    plx_nvme_ns_cmd_writev(g_ns, g_q, lba, 8, sgl_done, &s, 0, sgl_reset, sgl_next), 0);
	check_rw(PLX_NVME_OPC_WRITE, 0);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_writev(g_ns, g_q, lba, 8, sgl_done, &s, 0, NULL, sgl_next),
			-EINVAL);

	/* What a transport without DMA gets: the pieces, the last one trimmed. */
	req = STAILQ_FIRST(&g_q->free_reqs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	req->payload = (struct nvme_payload){
	    .type = NVME_PAYLOAD_SGL, .reset_sgl = sgl_reset, .next_sge = sgl_next, .sgl_arg = &s};
	req->payload_size = 32768;
	CU_ASSERT_EQUAL(nvme_payload_to_iov(req, iov, 4), 3);
	CU_ASSERT_EQUAL(s.reset_offset, 0);
	CU_ASSERT_PTR_EQUAL(iov[1].iov_base, g_buf + 8192);
	CU_ASSERT_EQUAL(iov[2].iov_len, 32768 - 4096 - 8192);
	CU_ASSERT_EQUAL(nvme_payload_to_iov(req, iov, 2), -E2BIG);
	req->payload_size = 128 * 1024; /* more than the pieces hold */
	CU_ASSERT_EQUAL(nvme_payload_to_iov(req, iov, 4), -ERANGE);
	req->payload = (struct nvme_payload){.type = NVME_PAYLOAD_CONTIG, .buf = g_buf};
	req->payload_size = 512;
	CU_ASSERT_EQUAL(nvme_payload_to_iov(req, iov, 4), 1);
	CU_ASSERT_EQUAL(iov[0].iov_len, 512);
	req->payload.type = NVME_PAYLOAD_NONE;
	CU_ASSERT_EQUAL(nvme_payload_to_iov(req, iov, 4), 0);

	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(g_q, 0), 2);
	CU_ASSERT_EQUAL(s.r.calls, 2);
	teardown();
}

static void test_write_zeroes_flush(void)
{
	struct io_result r = {0};
	const struct fake_cmd *c;

	setup();
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_write_zeroes(g_ns, g_q, 0x100000002ull, 16, io_done, &r,
						     PLX_NVME_IO_FLAGS_FUA),
			0);
	c = last_io();
	CU_ASSERT_EQUAL(c->cmd.opc, PLX_NVME_OPC_WRITE_ZEROES);
	CU_ASSERT_EQUAL(c->cmd.cdw10, 2);
	CU_ASSERT_EQUAL(c->cmd.cdw11, 1);
	CU_ASSERT_EQUAL(c->cmd.cdw12, 15u | (1u << 30));
	CU_ASSERT_EQUAL(c->payload_type, NVME_PAYLOAD_NONE);
	CU_ASSERT_EQUAL(c->payload_size, 0);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_flush(g_ns, g_q, io_done, &r), 0);
	c = last_io();
	CU_ASSERT_EQUAL(c->cmd.opc, PLX_NVME_OPC_FLUSH);
	CU_ASSERT_EQUAL(c->cmd.nsid, 2);
	CU_ASSERT_EQUAL(c->cmd.cdw10, 0);
	CU_ASSERT_EQUAL(c->payload_type, NVME_PAYLOAD_NONE);
	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(g_q, 0), 2);
	teardown();
}

static void test_dataset_management_copies_ranges(void)
{
	struct plx_nvme_dsm_range ranges[256];
	struct io_result r = {0};
	const struct fake_cmd *c;
	int i;

	setup();
	for (i = 0; i < 256; i++) {
		ranges[i] = (struct plx_nvme_dsm_range){.length = 8, .starting_lba = 100u * i};
	}
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_dataset_management(g_ns, g_q, PLX_NVME_DSM_ATTR_DEALLOCATE,
							   ranges, 2, io_done, &r),
			0);
	c = last_io();
	CU_ASSERT_EQUAL(c->cmd.opc, PLX_NVME_OPC_DATASET_MANAGEMENT);
	CU_ASSERT_EQUAL(c->cmd.cdw10, 1); /* NR 0's based */
	CU_ASSERT_EQUAL(c->cmd.cdw11, PLX_NVME_DSM_ATTR_DEALLOCATE);
	CU_ASSERT_EQUAL(c->payload_size, 32);
	CU_ASSERT_PTR_NOT_EQUAL(c->buf, ranges); /* a copy the request owns */
	CU_ASSERT_EQUAL(memcmp(c->data, ranges, 32), 0);
	ranges[1].starting_lba = 999;
	CU_ASSERT_EQUAL(((struct plx_nvme_dsm_range *)c->buf)[1].starting_lba, 100);

	/* Long lists borrow one of the qpair's buffers, and run out of them gracefully. */
	g_dev.io_hold = true;
	for (i = 0; i < NVME_DSM_BUFS; i++) {
		CU_ASSERT_EQUAL(
		    plx_nvme_ns_cmd_dataset_management(g_ns, g_q, 0, ranges, 256, io_done, &r), 0);
	}
	c = last_io();
	CU_ASSERT_EQUAL(c->cmd.cdw10, 255);
	CU_ASSERT_EQUAL(c->payload_size, 4096);
	CU_ASSERT_EQUAL(memcmp(c->buf, ranges, 4096), 0);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_dataset_management(g_ns, g_q, 0, ranges, 5, io_done, &r),
			-ENOMEM);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_dataset_management(g_ns, g_q, 0, ranges, 4, io_done, &r),
			0); /* fits the request's own area */
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_dataset_management(g_ns, g_q, 0, ranges, 0, io_done, &r),
			-EINVAL);
	plx_nvme_qpair_process_completions(g_q, 0);
	fake_release_io();
	g_dev.io_hold = false;
	/* The buffers came back. */
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_dataset_management(g_ns, g_q, 0, ranges, 5, io_done, &r),
			0);
	plx_nvme_qpair_process_completions(g_q, 0);
	CU_ASSERT_EQUAL(r.calls, NVME_DSM_BUFS + 3);
	teardown();
}

static void test_compare_and_write_is_fused(void)
{
	static uint8_t cmp_buf[4096], wr_buf[4096];
	struct io_result r = {0};
	const struct fake_cmd *first, *second;

	setup();
	CU_ASSERT_EQUAL(
	    plx_nvme_ns_cmd_compare_and_write(g_ns, g_q, cmp_buf, wr_buf, 42, 1, io_done, &r), 0);
	CU_ASSERT_EQUAL(g_dev.num_io, 2);
	first = &g_dev.io[0];
	second = &g_dev.io[1];
	CU_ASSERT_EQUAL(first->cmd.opc, PLX_NVME_OPC_COMPARE);
	CU_ASSERT_EQUAL(first->cmd.fuse, PLX_NVME_FUSE_FIRST);
	CU_ASSERT_PTR_EQUAL(first->buf, cmp_buf);
	CU_ASSERT_EQUAL(second->cmd.opc, PLX_NVME_OPC_WRITE);
	CU_ASSERT_EQUAL(second->cmd.fuse, PLX_NVME_FUSE_SECOND);
	CU_ASSERT_PTR_EQUAL(second->buf, wr_buf);
	CU_ASSERT_EQUAL(first->cmd.cdw10, 42);
	CU_ASSERT_EQUAL(second->cmd.cdw10, 42);
	CU_ASSERT_EQUAL(first->cmd.cdw12, 0);
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(g_q), 2);
	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(g_q, 0), 2);
	/* One callback for the pair. */
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.cpl.status.sc, 0);

	/* A miscompare: the caller sees the Compare's status, not the Write's abort. */
	g_dev.io_status[0] = (struct plx_nvme_status){.sct = PLX_NVME_SCT_MEDIA_ERROR,
						      .sc = PLX_NVME_SC_COMPARE_FAILURE};
	g_dev.io_status[1] = (struct plx_nvme_status){.sc = PLX_NVME_SC_ABORTED_FAILED_FUSED};
	g_dev.io_status_count = 2;
	g_dev.io_status_next = 0;
	CU_ASSERT_EQUAL(
	    plx_nvme_ns_cmd_compare_and_write(g_ns, g_q, cmp_buf, wr_buf, 42, 1, io_done, &r), 0);
	plx_nvme_qpair_process_completions(g_q, 0);
	CU_ASSERT_EQUAL(r.calls, 2);
	CU_ASSERT_EQUAL(r.cpl.status.sct, PLX_NVME_SCT_MEDIA_ERROR);
	CU_ASSERT_EQUAL(r.cpl.status.sc, PLX_NVME_SC_COMPARE_FAILURE);
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(g_q), 0);
	teardown();
}

static void test_reservations(void)
{
	struct plx_nvme_reservation_register_data reg = {.crkey = 0x1111, .nrkey = 0x2222};
	struct plx_nvme_reservation_acquire_data acq = {.crkey = 0x3333, .prkey = 0x4444};
	struct io_result r = {0};
	const struct fake_cmd *c;
	uint64_t key;

	setup();
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_reservation_register(
			    g_ns, g_q, &reg, true, PLX_NVME_RESV_REPLACE_KEY,
			    PLX_NVME_RESV_PTPL_PERSIST_POWER_LOSS, io_done, &r),
			0);
	c = last_io();
	CU_ASSERT_EQUAL(c->cmd.opc, PLX_NVME_OPC_RESERVATION_REGISTER);
	CU_ASSERT_EQUAL(c->cmd.cdw10, 2u | (1u << 3) | (3u << 30));
	CU_ASSERT_EQUAL(c->payload_size, 16);
	CU_ASSERT_EQUAL(memcmp(c->data, &reg, 16), 0);
	CU_ASSERT_PTR_NOT_EQUAL(c->buf, &reg);

	CU_ASSERT_EQUAL(
	    plx_nvme_ns_cmd_reservation_acquire(g_ns, g_q, &acq, false, PLX_NVME_RESV_PREEMPT,
						PLX_NVME_RESV_EXCLUSIVE_ACCESS, io_done, &r),
	    0);
	c = last_io();
	CU_ASSERT_EQUAL(c->cmd.opc, PLX_NVME_OPC_RESERVATION_ACQUIRE);
	CU_ASSERT_EQUAL(c->cmd.cdw10, 1u | (2u << 8));
	CU_ASSERT_EQUAL(memcmp(c->data, &acq, 16), 0);

	CU_ASSERT_EQUAL(
	    plx_nvme_ns_cmd_reservation_release(g_ns, g_q, 0x5555, true, PLX_NVME_RESV_CLEAR,
						PLX_NVME_RESV_WRITE_EXCLUSIVE, io_done, &r),
	    0);
	c = last_io();
	CU_ASSERT_EQUAL(c->cmd.opc, PLX_NVME_OPC_RESERVATION_RELEASE);
	CU_ASSERT_EQUAL(c->cmd.cdw10, 1u | (1u << 3) | (1u << 8));
	CU_ASSERT_EQUAL(c->payload_size, 8);
	memcpy(&key, c->data, 8);
	CU_ASSERT_EQUAL(key, 0x5555);

	CU_ASSERT_EQUAL(
	    plx_nvme_ns_cmd_reservation_report(g_ns, g_q, g_buf, 4096, true, io_done, &r), 0);
	c = last_io();
	CU_ASSERT_EQUAL(c->cmd.opc, PLX_NVME_OPC_RESERVATION_REPORT);
	CU_ASSERT_EQUAL(c->cmd.cdw10, 1023); /* NUMD 0's based */
	CU_ASSERT_EQUAL(c->cmd.cdw11, 1);    /* EDS */
	CU_ASSERT_PTR_EQUAL(c->buf, g_buf);
	CU_ASSERT_EQUAL(plx_nvme_ns_cmd_reservation_report(g_ns, g_q, g_buf, 6, false, io_done, &r),
			-EINVAL);
	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(g_q, 0), 4);
	CU_ASSERT_EQUAL(r.calls, 4);
	teardown();
}

static void test_io_raw(void)
{
	struct plx_nvme_cmd cmd = {.opc = PLX_NVME_OPC_VERIFY,
				   .nsid = 2,
				   .cdw10 = 5,
				   .cdw12 = 3,
				   .cdw15 = 0xabc,
				   .cid = 0x7777};
	struct io_result r = {0};
	const struct fake_cmd *c;

	setup();
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_cmd_io_raw(g_ctrlr, g_q, &cmd, NULL, 0, io_done, &r), 0);
	c = last_io();
	CU_ASSERT_EQUAL(c->cmd.opc, PLX_NVME_OPC_VERIFY);
	CU_ASSERT_EQUAL(c->cmd.cdw15, 0xabc);
	CU_ASSERT_NOT_EQUAL(c->cmd.cid, 0x7777); /* the library assigns cids */
	cmd.opc = PLX_NVME_OPC_WRITE;
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_cmd_io_raw(g_ctrlr, g_q, &cmd, g_buf, 4096, io_done, &r), 0);
	CU_ASSERT_EQUAL(last_io()->payload_size, 4096);
	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(g_q, 0), 2);
	teardown();
}

static void test_admin_helpers(void)
{
	struct io_result r = {0};
	const struct fake_cmd *c;

	setup();
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_cmd_get_log_page(g_ctrlr, PLX_NVME_LOG_HEALTH_INFORMATION,
							0xffffffff, g_buf, 512, 0x200000008ull,
							io_done, &r),
			0);
	c = fake_last_admin(PLX_NVME_OPC_GET_LOG_PAGE);
	CU_ASSERT_EQUAL(c->cmd.nsid, 0xffffffff);
	CU_ASSERT_EQUAL(c->cmd.cdw10, 0x02u | (127u << 16)); /* LID, NUMDL */
	CU_ASSERT_EQUAL(c->cmd.cdw11, 0);		     /* NUMDU */
	CU_ASSERT_EQUAL(c->cmd.cdw12, 8);		     /* LPOL */
	CU_ASSERT_EQUAL(c->cmd.cdw13, 2);		     /* LPOU */
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_cmd_get_log_page(g_ctrlr, 1, 0, g_buf, 6, 0, io_done, &r),
			-EINVAL);

	/* Above the controller's transfer limit (MDTS: 128 KiB). */
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_cmd_get_log_page(g_ctrlr, PLX_NVME_LOG_ERROR, 0, g_buf,
							128 * 1024 + 4, 0, io_done, &r),
			-EINVAL);
	CU_ASSERT(plx_nvme_ctrlr_process_admin_completions(g_ctrlr) >= 1);
	CU_ASSERT_EQUAL(r.calls, 1);
	teardown();
}

static void test_admin_helper_encodings(void)
{
	struct plx_nvme_cmd cmd;
	struct io_result r = {0};
	const struct fake_cmd *c;

	nvme_cmd_get_log_page(&cmd, PLX_NVME_LOG_ASYMMETRIC_NAMESPACE_ACCESS, PLX_NVME_ANA_LSP_RGO,
			      true, 0, 0x40000 * 4 + 8, 0);
	CU_ASSERT_EQUAL(cmd.cdw10 & 0xff, 0x0c);
	CU_ASSERT_EQUAL((cmd.cdw10 >> 8) & 0x7f, 1);
	CU_ASSERT_EQUAL(cmd.cdw10 & PLX_NVME_LOG_RAE, PLX_NVME_LOG_RAE);
	CU_ASSERT_EQUAL(cmd.cdw10 >> 16, 1); /* numd = 0x40001 -> NUMDL 1 */
	CU_ASSERT_EQUAL(cmd.cdw11, 4);	     /* NUMDU 4 */

	setup();
	CU_ASSERT_EQUAL(
	    plx_nvme_ctrlr_cmd_identify(g_ctrlr, PLX_NVME_IDENTIFY_NS, 2, g_buf, 4096, io_done, &r),
	    0);
	c = fake_last_admin(PLX_NVME_OPC_IDENTIFY);
	CU_ASSERT_EQUAL(c->cmd.cdw10, PLX_NVME_IDENTIFY_NS);
	CU_ASSERT_EQUAL(c->cmd.nsid, 2);
	CU_ASSERT_EQUAL(c->payload_size, 4096);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_cmd_get_feature(g_ctrlr, PLX_NVME_FEAT_VOLATILE_WRITE_CACHE,
						       0x55, NULL, 0, io_done, &r),
			0);
	c = fake_last_admin(PLX_NVME_OPC_GET_FEATURES);
	CU_ASSERT_EQUAL(c->cmd.cdw10, PLX_NVME_FEAT_VOLATILE_WRITE_CACHE); /* SEL current */
	CU_ASSERT_EQUAL(c->cmd.cdw11, 0x55);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_cmd_set_feature(g_ctrlr, PLX_NVME_FEAT_HOST_IDENTIFIER, 1, 2,
						       g_buf, 16, io_done, &r),
			0);
	c = fake_last_admin(PLX_NVME_OPC_SET_FEATURES);
	CU_ASSERT_EQUAL(c->cmd.cdw10, PLX_NVME_FEAT_HOST_IDENTIFIER);
	CU_ASSERT_EQUAL(c->cmd.cdw11, 1);
	CU_ASSERT_EQUAL(c->cmd.cdw12, 2);
	CU_ASSERT_EQUAL(c->payload_size, 16);
	while (r.calls < 3) {
		CU_ASSERT_FATAL(plx_nvme_ctrlr_process_admin_completions(g_ctrlr) >= 0);
	}
	teardown();
}

static const struct plx_ut_case cases[] = {
    {"read_write_compare", test_read_write_compare},
    {"readv_writev", test_readv_writev},
    {"write_zeroes_flush", test_write_zeroes_flush},
    {"dataset_management_copies_ranges", test_dataset_management_copies_ranges},
    {"compare_and_write_is_fused", test_compare_and_write_is_fused},
    {"reservations", test_reservations},
    {"io_raw", test_io_raw},
    {"admin_helpers", test_admin_helpers},
    {"admin_helper_encodings", test_admin_helper_encodings},
};
PLX_UT_MAIN("nvme_ns_cmd", cases)
