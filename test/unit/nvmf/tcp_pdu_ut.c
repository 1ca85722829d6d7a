/* SPDX-License-Identifier: BSD-3-Clause */
/* The pure NVMe/TCP PDU layer: header checks, digests and builders, byte for byte. */
#include <string.h>

#include "../../../lib/nvmf/tcp_internal.h"
#include "ut.h"

static const struct tcp_pdu_limits g_lim = {.max_icd = 4096, .maxh2cdata = 131072};
static const struct tcp_pdu_limits g_lim_dg = {
    .hdgst = true, .ddgst = true, .max_icd = 4096, .maxh2cdata = 131072};

static int check(uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo, uint32_t plen,
		 enum tcp_conn_state state, const struct tcp_pdu_limits *lim,
		 struct tcp_pdu_layout *layout, struct tcp_pdu_error *err)
{
	struct plx_nvme_tcp_common_hdr ch = {type, flags, hlen, pdo, plen};

	return tcp_pdu_check_common(&ch, state, lim, layout, err);
}

static void test_types_per_state(void)
{
	struct tcp_pdu_layout l;
	struct tcp_pdu_error e;

	CU_ASSERT_EQUAL(check(0x00, 0, 128, 0, 128, TCP_CONN_AWAIT_ICREQ, &g_lim, &l, &e), 0);
	CU_ASSERT_EQUAL(l.hdr_len, 128);
	CU_ASSERT_EQUAL(l.data_len, 0);
	/* ICReq twice */
	CU_ASSERT_EQUAL(check(0x00, 0, 128, 0, 128, TCP_CONN_RUNNING, &g_lim, &l, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fes, PLX_NVME_TCP_FES_PDU_SEQUENCE_ERROR);
	/* anything before ICReq */
	CU_ASSERT_EQUAL(check(0x04, 0, 72, 0, 72, TCP_CONN_AWAIT_ICREQ, &g_lim, &l, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fes, PLX_NVME_TCP_FES_PDU_SEQUENCE_ERROR);
	CU_ASSERT_EQUAL(check(0x06, 0, 24, 24, 28, TCP_CONN_AWAIT_ICREQ, &g_lim, &l, &e), -EPROTO);
	CU_ASSERT_EQUAL(check(0x02, 0, 24, 0, 24, TCP_CONN_AWAIT_ICREQ, &g_lim, &l, &e), -EPROTO);
	/* controller-to-host types and unknown types, in either state */
	for (unsigned t = 0; t < 256; t++) {
		if (t == 0x00 || t == 0x02 || t == 0x04 || t == 0x06) {
			continue;
		}
		for (int s = TCP_CONN_AWAIT_ICREQ; s <= TCP_CONN_RUNNING; s++) {
			CU_ASSERT_EQUAL(check(t, 0, 24, 0, 24, s, &g_lim, &l, &e), -EPROTO);
			CU_ASSERT_EQUAL(e.fes, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD);
			CU_ASSERT_EQUAL(e.fei, 0);
		}
	}
	/* the types allowed while running */
	CU_ASSERT_EQUAL(check(0x04, 0, 72, 0, 72, TCP_CONN_RUNNING, &g_lim, &l, &e), 0);
	CU_ASSERT_EQUAL(check(0x06, 0, 24, 24, 28, TCP_CONN_RUNNING, &g_lim, &l, &e), 0);
	CU_ASSERT_EQUAL(check(0x02, 0, 24, 0, 30, TCP_CONN_RUNNING, &g_lim, &l, &e), 0);
	CU_ASSERT_EQUAL(l.data_len, 6);
}

static void test_hlen_pdo_plen(void)
{
	struct tcp_pdu_layout l;
	struct tcp_pdu_error e;

	CU_ASSERT_EQUAL(check(0x04, 0, 24, 0, 72, TCP_CONN_RUNNING, &g_lim, &l, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fei, 2);
	CU_ASSERT_EQUAL(check(0x00, 0, 72, 0, 128, TCP_CONN_AWAIT_ICREQ, &g_lim, &l, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fei, 2);
	/* ICReq plen must be 128 */
	CU_ASSERT_EQUAL(check(0x00, 0, 128, 0, 132, TCP_CONN_AWAIT_ICREQ, &g_lim, &l, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fei, 4);
	/* plen shorter than the header */
	CU_ASSERT_EQUAL(check(0x04, 0, 72, 0, 71, TCP_CONN_RUNNING, &g_lim, &l, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fei, 4);
	/* capsule with 512 bytes of data: pdo must be 72 */
	CU_ASSERT_EQUAL(check(0x04, 0, 72, 72, 72 + 512, TCP_CONN_RUNNING, &g_lim, &l, &e), 0);
	CU_ASSERT_EQUAL(l.data_len, 512);
	CU_ASSERT_EQUAL(l.pad_len, 0);
	CU_ASSERT_EQUAL(check(0x04, 0, 72, 80, 80 + 512, TCP_CONN_RUNNING, &g_lim, &l, &e),
			-EPROTO);
	CU_ASSERT_EQUAL(e.fei, 3);
	CU_ASSERT_EQUAL(check(0x04, 0, 72, 0, 72 + 512, TCP_CONN_RUNNING, &g_lim, &l, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fei, 3);
	/* in-capsule data beyond the limit */
	CU_ASSERT_EQUAL(check(0x04, 0, 72, 72, 72 + 4097, TCP_CONN_RUNNING, &g_lim, &l, &e),
			-EPROTO);
	CU_ASSERT_EQUAL(e.fes, PLX_NVME_TCP_FES_DATA_TRANSFER_LIMIT_EXCEEDED);
	CU_ASSERT_EQUAL(check(0x04, 0, 72, 72, 72 + 4096, TCP_CONN_RUNNING, &g_lim, &l, &e), 0);
	/* H2CData without data, and beyond maxh2cdata */
	CU_ASSERT_EQUAL(check(0x06, 0, 24, 0, 24, TCP_CONN_RUNNING, &g_lim, &l, &e), -EPROTO);
	CU_ASSERT_EQUAL(check(0x06, 0, 24, 24, 24 + 131073, TCP_CONN_RUNNING, &g_lim, &l, &e),
			-EPROTO);
	/* TermReq data at most 152 bytes */
	CU_ASSERT_EQUAL(check(0x02, 0, 24, 0, 24 + 153, TCP_CONN_RUNNING, &g_lim, &l, &e), -EPROTO);
	CU_ASSERT_EQUAL(check(0x02, 0, 24, 0, 24 + 152, TCP_CONN_RUNNING, &g_lim, &l, &e), 0);
}

static void test_digest_flags(void)
{
	struct tcp_pdu_layout l;
	struct tcp_pdu_error e;
	uint8_t hd = PLX_NVME_TCP_CH_FLAGS_HDGSTF, dd = PLX_NVME_TCP_CH_FLAGS_DDGSTF;

	/* negotiated: flags required, lengths include both digests */
	CU_ASSERT_EQUAL(
	    check(0x04, hd | dd, 72, 76, 76 + 100 + 4, TCP_CONN_RUNNING, &g_lim_dg, &l, &e), 0);
	CU_ASSERT_EQUAL(l.hdr_len, 76);
	CU_ASSERT_EQUAL(l.data_len, 100);
	CU_ASSERT_EQUAL(l.ddgst_len, 4);
	CU_ASSERT_EQUAL(check(0x04, hd, 72, 0, 76, TCP_CONN_RUNNING, &g_lim_dg, &l, &e), 0);
	CU_ASSERT_EQUAL(check(0x04, 0, 72, 0, 72, TCP_CONN_RUNNING, &g_lim_dg, &l, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fei, 1);
	CU_ASSERT_EQUAL(check(0x04, hd, 72, 76, 76 + 100, TCP_CONN_RUNNING, &g_lim_dg, &l, &e),
			-EPROTO);
	CU_ASSERT_EQUAL(e.fei, 1);
	/* not negotiated: flags refused */
	CU_ASSERT_EQUAL(check(0x04, hd, 72, 0, 76, TCP_CONN_RUNNING, &g_lim, &l, &e), -EPROTO);
	CU_ASSERT_EQUAL(check(0x06, dd, 24, 24, 24 + 8, TCP_CONN_RUNNING, &g_lim, &l, &e), -EPROTO);
	/* ICReq never carries digests */
	CU_ASSERT_EQUAL(check(0x00, hd, 128, 0, 128, TCP_CONN_AWAIT_ICREQ, &g_lim, &l, &e),
			-EPROTO);
	/* only a digest and no data */
	CU_ASSERT_EQUAL(check(0x06, hd | dd, 24, 28, 32, TCP_CONN_RUNNING, &g_lim_dg, &l, &e),
			-EPROTO);
}

static void test_ic_req_and_h2c(void)
{
	struct plx_nvme_tcp_ic_req ic = {0};
	struct plx_nvme_tcp_h2c_data_hdr h = {0};
	struct tcp_pdu_error e;

	CU_ASSERT_EQUAL(tcp_pdu_check_ic_req(&ic, &e), 0);
	ic.hpda = 31;
	CU_ASSERT_EQUAL(tcp_pdu_check_ic_req(&ic, &e), 0);
	ic.hpda = 32;
	CU_ASSERT_EQUAL(tcp_pdu_check_ic_req(&ic, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fei, 10);
	ic.hpda = 0;
	ic.pfv = 1;
	CU_ASSERT_EQUAL(tcp_pdu_check_ic_req(&ic, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fes, PLX_NVME_TCP_FES_UNSUPPORTED_PARAMETER);
	CU_ASSERT_EQUAL(e.fei, 8);

	h.cccid = 7;
	h.datao = 4096;
	h.datal = 4096;
	CU_ASSERT_EQUAL(tcp_pdu_check_h2c_data(&h, 4096, 7, 4096, 16384, &e), 0);
	CU_ASSERT_EQUAL(tcp_pdu_check_h2c_data(&h, 4096, 8, 4096, 16384, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fei, 8);
	CU_ASSERT_EQUAL(tcp_pdu_check_h2c_data(&h, 4095, 7, 4096, 16384, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fei, 16);
	CU_ASSERT_EQUAL(tcp_pdu_check_h2c_data(&h, 4096, 7, 0, 16384, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fes, PLX_NVME_TCP_FES_DATA_TRANSFER_OUT_OF_RANGE);
	CU_ASSERT_EQUAL(e.fei, 12);
	CU_ASSERT_EQUAL(tcp_pdu_check_h2c_data(&h, 4096, 7, 4096, 6000, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fes, PLX_NVME_TCP_FES_DATA_TRANSFER_OUT_OF_RANGE);
	h.common.flags = PLX_NVME_TCP_DATA_FLAGS_LAST_PDU;
	CU_ASSERT_EQUAL(tcp_pdu_check_h2c_data(&h, 4096, 7, 4096, 16384, &e), -EPROTO);
	CU_ASSERT_EQUAL(e.fei, 1);
	CU_ASSERT_EQUAL(tcp_pdu_check_h2c_data(&h, 4096, 7, 4096, 8192, &e), 0);
}

static void test_digests(void)
{
	uint8_t d[4];
	struct iovec iov[3] = {{(void *)"1234", 4}, {(void *)"56", 2}, {(void *)"789xx", 5}};

	tcp_put_digest(d, plx_crc32c("123456789", 9));
	CU_ASSERT_EQUAL(d[0], 0x83);
	CU_ASSERT_EQUAL(d[1], 0x92);
	CU_ASSERT_EQUAL(d[2], 0x06);
	CU_ASSERT_EQUAL(d[3], 0xe3);
	CU_ASSERT_EQUAL(tcp_get_digest(d), 0xe3069283u);
	CU_ASSERT_EQUAL(tcp_ddgst_iov(iov, 3, 9), 0xe3069283u);
}

static void test_build_capsule_resp(void)
{
	uint8_t buf[28];
	struct plx_nvme_cpl cpl = {.cdw0 = 0x11223344, .sqhd = 5, .sqid = 1, .cid = 0x1234};
	const uint8_t want[24] = {0x05, 0x00, 24, 0, 24, 0, 0, 0, 0x44, 0x33, 0x22, 0x11,
				  0,	0,    0,  0, 5,	 0, 1, 0, 0x34, 0x12, 0x00, 0x00};

	cpl.status.sc = 0;
	CU_ASSERT_EQUAL(tcp_pdu_build_capsule_resp(buf, &cpl, false), 24);
	CU_ASSERT_EQUAL(memcmp(buf, want, 24), 0);
	CU_ASSERT_EQUAL(tcp_pdu_build_capsule_resp(buf, &cpl, true), 28);
	CU_ASSERT_EQUAL(buf[1], PLX_NVME_TCP_CH_FLAGS_HDGSTF);
	CU_ASSERT_EQUAL(buf[4], 28);
	CU_ASSERT_EQUAL(tcp_get_digest(buf + 24), plx_crc32c(buf, 24));
	CU_ASSERT(tcp_hdgst_ok(buf, 24));
}

static void test_build_r2t_c2h(void)
{
	uint8_t buf[28];
	uint32_t pad;
	const uint8_t r2t[24] = {0x09, 0, 24, 0, 24, 0, 0, 0, 0x07, 0, 0x03, 0,
				 0,    0, 0,  0, 0,  0, 1, 0, 0,    0, 0,    0};
	const uint8_t c2h[24] = {0x07, 0x0c, 24, 24, 0x18, 0x10, 0, 0, 0x07, 0, 0, 0,
				 0,    0,    0,	 0,  0,	   0x10, 0, 0, 0,    0, 0, 0};

	CU_ASSERT_EQUAL(tcp_pdu_build_r2t(buf, 7, 3, 0, 65536, false), 24);
	CU_ASSERT_EQUAL(memcmp(buf, r2t, 24), 0);
	CU_ASSERT_EQUAL(tcp_pdu_build_r2t(buf, 7, 3, 0, 65536, true), 28);
	CU_ASSERT_EQUAL(buf[4], 28);
	CU_ASSERT(tcp_hdgst_ok(buf, 24));

	/* 4096 bytes, LAST|SUCCESS, no digests: plen 24 + 4096 */
	CU_ASSERT_EQUAL(tcp_pdu_build_c2h_data(buf, 7, 0, 4096, 0x0c, false, false, 0, &pad), 24);
	CU_ASSERT_EQUAL(pad, 0);
	CU_ASSERT_EQUAL(memcmp(buf, c2h, 24), 0);
	/* both digests: pdo 28, plen 28 + 4096 + 4 */
	CU_ASSERT_EQUAL(tcp_pdu_build_c2h_data(buf, 7, 0, 4096, 0x04, true, true, 0, &pad), 28);
	CU_ASSERT_EQUAL(buf[1], 0x04 | 0x03);
	CU_ASSERT_EQUAL(buf[3], 28);
	CU_ASSERT_EQUAL(((struct plx_nvme_tcp_common_hdr *)buf)->plen, 28 + 4096 + 4);
	CU_ASSERT(tcp_hdgst_ok(buf, 24));
	/* hpda 7: data on a 32-byte boundary */
	tcp_pdu_build_c2h_data(buf, 7, 0, 100, 0x04, true, false, 7, &pad);
	CU_ASSERT_EQUAL(pad, 4);
	CU_ASSERT_EQUAL(buf[3], 32);
	CU_ASSERT_EQUAL(((struct plx_nvme_tcp_common_hdr *)buf)->plen, 132);
}

static void test_build_ic_resp_term_req(void)
{
	struct plx_nvme_tcp_ic_resp r;
	uint8_t t[24 + 152], bad[200];

	CU_ASSERT_EQUAL(tcp_pdu_build_ic_resp(&r, true, false, 131072), 128);
	CU_ASSERT_EQUAL(r.common.pdu_type, 0x01);
	CU_ASSERT_EQUAL(r.common.hlen, 128);
	CU_ASSERT_EQUAL(r.common.plen, 128);
	CU_ASSERT_EQUAL(r.common.flags, 0);
	CU_ASSERT_EQUAL(r.pfv, 0);
	CU_ASSERT_EQUAL(r.cpda, 0);
	CU_ASSERT_EQUAL(r.dgst, PLX_NVME_TCP_HDGST_ENABLE);
	CU_ASSERT_EQUAL(r.maxh2cdata, 131072);

	for (int i = 0; i < 200; i++) {
		bad[i] = i;
	}
	CU_ASSERT_EQUAL(tcp_pdu_build_term_req(t, 0x01, 3, bad, 72), 24 + 72);
	CU_ASSERT_EQUAL(t[0], 0x03);
	CU_ASSERT_EQUAL(t[2], 24);
	CU_ASSERT_EQUAL(t[4], 96);
	CU_ASSERT_EQUAL(t[8], 0x01); /* FES at byte 8 */
	CU_ASSERT_EQUAL(t[10], 3);   /* FEI at byte 10 */
	CU_ASSERT_EQUAL(memcmp(t + 24, bad, 72), 0);
	CU_ASSERT_EQUAL(tcp_pdu_build_term_req(t, 0x01, 3, bad, 200), 24 + 152);
	CU_ASSERT_EQUAL(memcmp(t + 24, bad, 152), 0);
}

static const struct plx_ut_case cases[] = {
    {"types_per_state", test_types_per_state},
    {"hlen_pdo_plen", test_hlen_pdo_plen},
    {"digest_flags", test_digest_flags},
    {"ic_req_and_h2c", test_ic_req_and_h2c},
    {"digests", test_digests},
    {"build_capsule_resp", test_build_capsule_resp},
    {"build_r2t_c2h", test_build_r2t_c2h},
    {"build_ic_resp_term_req", test_build_ic_resp_term_req},
};

PLX_UT_MAIN("nvmf_tcp_pdu", cases)
