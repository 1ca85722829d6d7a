/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe/TCP host PDUs (lib/nvme/nvme_tcp_pdu.c): the bytes the host sends, and the receive
 * parser fed whole streams, one byte at a time, and malformed or random input.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../../lib/nvme/nvme_tcp_internal.h"
#include "pollux/util.h"
#include "ut.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

static void test_ic_req_bytes(void)
{
	uint8_t b[128];

	memset(b, 0xee, sizeof(b));
	CU_ASSERT_EQUAL(nvme_tcp_build_ic_req(b, true, false), 128);
	CU_ASSERT_EQUAL(b[0], 0x00); /* ICReq */
	CU_ASSERT_EQUAL(b[1], 0);    /* flags */
	CU_ASSERT_EQUAL(b[2], 128);  /* hlen */
	CU_ASSERT_EQUAL(b[3], 0);    /* pdo */
	CU_ASSERT_EQUAL(le32(b + 4), 128);
	CU_ASSERT_EQUAL(le16(b + 8), 0);  /* pfv */
	CU_ASSERT_EQUAL(b[10], 0);	  /* hpda */
	CU_ASSERT_EQUAL(b[11], 1);	  /* HDGST only */
	CU_ASSERT_EQUAL(le32(b + 12), 0); /* maxr2t: one R2T at a time */
	CU_ASSERT_TRUE(all_zero(b + 16, 112));
	nvme_tcp_build_ic_req(b, true, true);
	CU_ASSERT_EQUAL(b[11], 3);
	nvme_tcp_build_ic_req(b, false, false);
	CU_ASSERT_EQUAL(b[11], 0);
}

static void test_ic_resp_checks(void)
{
	struct plx_nvme_tcp_ic_resp r = {0};
	char err[NVME_TCP_ERR_LEN];

	r.common.pdu_type = PLX_NVME_TCP_PDU_IC_RESP;
	r.maxh2cdata = 131072;
	r.dgst = 3;
	CU_ASSERT_EQUAL(nvme_tcp_check_ic_resp(&r, true, true, err), 0);
	CU_ASSERT_EQUAL(nvme_tcp_check_ic_resp(&r, true, false, err), -EPROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "digests"));
	r.dgst = 0;
	CU_ASSERT_EQUAL(nvme_tcp_check_ic_resp(&r, true, true, err), 0); /* may decline */
	r.pfv = 1;
	CU_ASSERT_EQUAL(nvme_tcp_check_ic_resp(&r, false, false, err), -EPROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "pfv"));
	r.pfv = 0;
	r.cpda = 32;
	CU_ASSERT_EQUAL(nvme_tcp_check_ic_resp(&r, false, false, err), -EPROTO);
	r.cpda = 31;
	CU_ASSERT_EQUAL(nvme_tcp_check_ic_resp(&r, false, false, err), 0);
	r.maxh2cdata = 4092;
	CU_ASSERT_EQUAL(nvme_tcp_check_ic_resp(&r, false, false, err), -EPROTO);
	r.maxh2cdata = 4098;
	CU_ASSERT_EQUAL(nvme_tcp_check_ic_resp(&r, false, false, err), -EPROTO);
	r.maxh2cdata = 4096;
	CU_ASSERT_EQUAL(nvme_tcp_check_ic_resp(&r, false, false, err), 0);
}

static void fill_cmd(struct plx_nvme_cmd *cmd)
{
	uint8_t *p = (uint8_t *)cmd;

	for (size_t i = 0; i < sizeof(*cmd); i++) {
		p[i] = (uint8_t)(i * 7 + 1);
	}
}

static void test_capsule_bytes(void)
{
	uint8_t b[NVME_TCP_HDR_BUF];
	struct plx_nvme_cmd cmd;

	fill_cmd(&cmd);
	/* No data, no digests: just the 72-byte header. */
	CU_ASSERT_EQUAL(nvme_tcp_build_capsule(b, &cmd, 0, false, false, 0), 72);
	CU_ASSERT_EQUAL(b[0], 0x04);
	CU_ASSERT_EQUAL(b[1], 0);
	CU_ASSERT_EQUAL(b[2], 72);
	CU_ASSERT_EQUAL(b[3], 0);
	CU_ASSERT_EQUAL(le32(b + 4), 72);
	CU_ASSERT_EQUAL(memcmp(b + 8, &cmd, 64), 0);
	/* Header digest: CRC32C of the 72 header bytes, little-endian, right after them. */
	CU_ASSERT_EQUAL(nvme_tcp_build_capsule(b, &cmd, 0, true, true, 0), 76);
	CU_ASSERT_EQUAL(b[1], PLX_NVME_TCP_CH_FLAGS_HDGSTF); /* DDGSTF only with data */
	CU_ASSERT_EQUAL(le32(b + 4), 76);
	CU_ASSERT_EQUAL(le32(b + 72), plx_crc32c(b, 72));
	/* In-capsule data with both digests: PDO after the header digest. */
	CU_ASSERT_EQUAL(nvme_tcp_build_capsule(b, &cmd, 4096, true, true, 0), 76);
	CU_ASSERT_EQUAL(b[1], 3);
	CU_ASSERT_EQUAL(b[3], 76);
	CU_ASSERT_EQUAL(le32(b + 4), 76 + 4096 + 4);
	CU_ASSERT_EQUAL(le32(b + 72), plx_crc32c(b, 72));
	/* Data without digests starts right after the header. */
	CU_ASSERT_EQUAL(nvme_tcp_build_capsule(b, &cmd, 512, false, false, 0), 72);
	CU_ASSERT_EQUAL(b[3], 72);
	CU_ASSERT_EQUAL(le32(b + 4), 72 + 512);
	/* The controller asks for 32-byte alignment (cpda 7): zero padding up to 96. */
	memset(b, 0xee, sizeof(b));
	CU_ASSERT_EQUAL(nvme_tcp_build_capsule(b, &cmd, 512, true, false, 7), 96);
	CU_ASSERT_EQUAL(b[3], 96);
	CU_ASSERT_EQUAL(le32(b + 4), 96 + 512);
	CU_ASSERT_TRUE(all_zero(b + 76, 20));
	/* The largest alignment still fits the header buffer. */
	CU_ASSERT_EQUAL(nvme_tcp_build_capsule(b, &cmd, 512, true, true, 31), 128);
}

static void test_h2c_bytes(void)
{
	uint8_t b[NVME_TCP_HDR_BUF];

	memset(b, 0xee, sizeof(b));
	CU_ASSERT_EQUAL(nvme_tcp_build_h2c(b, 0x1234, 0xabcd, 8192, 4096, true, false, false, 0),
			24);
	CU_ASSERT_EQUAL(b[0], 0x06);
	CU_ASSERT_EQUAL(b[1], PLX_NVME_TCP_DATA_FLAGS_LAST_PDU);
	CU_ASSERT_EQUAL(b[2], 24);
	CU_ASSERT_EQUAL(b[3], 24);
	CU_ASSERT_EQUAL(le32(b + 4), 24 + 4096);
	CU_ASSERT_EQUAL(le16(b + 8), 0x1234);
	CU_ASSERT_EQUAL(le16(b + 10), 0xabcd);
	CU_ASSERT_EQUAL(le32(b + 12), 8192);
	CU_ASSERT_EQUAL(le32(b + 16), 4096);
	CU_ASSERT_TRUE(all_zero(b + 20, 4));
	CU_ASSERT_EQUAL(nvme_tcp_build_h2c(b, 1, 2, 0, 100, false, true, true, 0), 28);
	CU_ASSERT_EQUAL(b[1], 3);
	CU_ASSERT_EQUAL(b[3], 28);
	CU_ASSERT_EQUAL(le32(b + 4), 28 + 100 + 4);
	CU_ASSERT_EQUAL(le32(b + 24), plx_crc32c(b, 24));
}

static void test_iov_helpers(void)
{
	char a[] = "1234", c[] = "56789";
	struct iovec src[2] = {{a, 4}, {c, 5}}, dst[4];

	CU_ASSERT_EQUAL(nvme_tcp_iov_crc32c(src, 2), 0xE3069283u);
	CU_ASSERT_EQUAL(nvme_tcp_iov_slice(dst, 4, src, 2, 2, 5), 2);
	CU_ASSERT_PTR_EQUAL(dst[0].iov_base, a + 2);
	CU_ASSERT_EQUAL(dst[0].iov_len, 2);
	CU_ASSERT_PTR_EQUAL(dst[1].iov_base, c);
	CU_ASSERT_EQUAL(dst[1].iov_len, 3);
	CU_ASSERT_EQUAL(nvme_tcp_iov_slice(dst, 4, src, 2, 4, 5), 1);
	CU_ASSERT_PTR_EQUAL(dst[0].iov_base, c);
	CU_ASSERT_EQUAL(nvme_tcp_iov_slice(dst, 1, src, 2, 0, 9), -1); /* no room */
	CU_ASSERT_EQUAL(nvme_tcp_iov_slice(dst, 4, src, 2, 5, 5), -1); /* past the end */
}

/* ---- the parser ---- */

struct stream {
	uint8_t b[65536];
	size_t len;
};

static void put(struct stream *s, const void *p, size_t n)
{
	memcpy(s->b + s->len, p, n);
	s->len += n;
}

static void put_ic_resp(struct stream *s, uint8_t dgst)
{
	struct plx_nvme_tcp_ic_resp r = {0};

	r.common.pdu_type = PLX_NVME_TCP_PDU_IC_RESP;
	r.common.hlen = 128;
	r.common.plen = 128;
	r.dgst = dgst;
	r.maxh2cdata = 65536;
	put(s, &r, sizeof(r));
}

static void put_hdr(struct stream *s, void *h, uint8_t hlen, bool hdgst)
{
	put(s, h, hlen);
	if (hdgst) {
		uint32_t crc = plx_crc32c(h, hlen);

		put(s, &crc, 4);
	}
}

static void put_capsule_resp(struct stream *s, uint16_t cid, uint16_t status, bool hdgst)
{
	struct plx_nvme_tcp_rsp r = {0};

	r.common.pdu_type = PLX_NVME_TCP_PDU_CAPSULE_RESP;
	r.common.flags = hdgst ? PLX_NVME_TCP_CH_FLAGS_HDGSTF : 0;
	r.common.hlen = 24;
	r.common.plen = 24 + (hdgst ? 4 : 0);
	r.rccqe.cid = cid;
	r.rccqe.status_raw = status;
	r.rccqe.cdw0 = 0x11223344;
	put_hdr(s, &r, 24, hdgst);
}

static void put_c2h(struct stream *s, uint16_t cid, uint32_t datao, const void *data, uint32_t len,
		    uint8_t flags, bool hdgst, bool ddgst, uint32_t pad)
{
	struct plx_nvme_tcp_c2h_data_hdr h = {0};
	uint32_t hl = 24 + (hdgst ? 4 : 0);
	static const uint8_t zeros[128];

	h.common.pdu_type = PLX_NVME_TCP_PDU_C2H_DATA;
	h.common.flags = flags | (hdgst ? PLX_NVME_TCP_CH_FLAGS_HDGSTF : 0) |
			 (ddgst ? PLX_NVME_TCP_CH_FLAGS_DDGSTF : 0);
	h.common.hlen = 24;
	h.common.pdo = (uint8_t)(hl + pad);
	h.common.plen = hl + pad + len + (ddgst ? 4 : 0);
	h.cccid = cid;
	h.datao = datao;
	h.datal = len;
	put_hdr(s, &h, 24, hdgst);
	put(s, zeros, pad);
	put(s, data, len);
	if (ddgst) {
		uint32_t crc = plx_crc32c(data, len);

		put(s, &crc, 4);
	}
}

static void put_r2t(struct stream *s, uint16_t cid, uint16_t ttag, uint32_t off, uint32_t len,
		    bool hdgst)
{
	struct plx_nvme_tcp_r2t_hdr h = {0};

	h.common.pdu_type = PLX_NVME_TCP_PDU_R2T;
	h.common.flags = hdgst ? PLX_NVME_TCP_CH_FLAGS_HDGSTF : 0;
	h.common.hlen = 24;
	h.common.plen = 24 + (hdgst ? 4 : 0);
	h.cccid = cid;
	h.ttag = ttag;
	h.r2to = off;
	h.r2tl = len;
	put_hdr(s, &h, 24, hdgst);
}

/* What the test's callbacks saw. */
struct seen {
	int headers;
	int pdus;
	uint8_t types[64];
	uint16_t cids[64];
	uint8_t data[16384];
	struct iovec iov[3];
	uint8_t set_dgst; /* digests to switch on at ICResp */
};

static int ut_on_header(void *ctx, struct nvme_tcp_rx *rx)
{
	struct seen *s = ctx;

	s->headers++;
	if (rx->hdr.common.pdu_type == PLX_NVME_TCP_PDU_C2H_DATA) {
		/* Three pieces, so copies cross iovec boundaries. */
		s->iov[0] = (struct iovec){s->data, 1000};
		s->iov[1] = (struct iovec){s->data + 1000, 3};
		s->iov[2] = (struct iovec){s->data + 1003, sizeof(s->data) - 1003};
		nvme_tcp_rx_set_dst(rx, s->iov, 3, rx->hdr.c2h_data.datao);
	}
	return 0;
}

static int ut_on_pdu(void *ctx, struct nvme_tcp_rx *rx)
{
	struct seen *s = ctx;
	uint8_t t = rx->hdr.common.pdu_type;

	s->types[s->pdus] = t;
	s->cids[s->pdus] = t == PLX_NVME_TCP_PDU_CAPSULE_RESP ? rx->hdr.capsule_resp.rccqe.cid
			   : t == PLX_NVME_TCP_PDU_C2H_DATA   ? rx->hdr.c2h_data.cccid
			   : t == PLX_NVME_TCP_PDU_R2T	      ? rx->hdr.r2t.cccid
							      : 0xffff;
	s->pdus++;
	if (t == PLX_NVME_TCP_PDU_IC_RESP) {
		rx->ic_done = true;
		rx->hdgst = (s->set_dgst & 1) != 0;
		rx->ddgst = (s->set_dgst & 2) != 0;
	}
	return 0;
}

static uint8_t g_payload[8192];

/* A stream of every PDU type a controller sends, with the given digests. */
static void build_stream(struct stream *st, uint8_t dgst)
{
	bool hd = dgst & 1, dd = dgst & 2;

	for (size_t i = 0; i < sizeof(g_payload); i++) {
		g_payload[i] = (uint8_t)(i * 31 + 7);
	}
	st->len = 0;
	put_ic_resp(st, dgst);
	put_capsule_resp(st, 5, 0, hd);
	put_c2h(st, 9, 0, g_payload, 4000, 0, hd, dd, 0);
	put_c2h(st, 9, 4000, g_payload + 4000, 4192,
		PLX_NVME_TCP_DATA_FLAGS_LAST_PDU | PLX_NVME_TCP_C2H_DATA_FLAGS_SUCCESS, hd, dd, 8);
	put_r2t(st, 3, 77, 0, 131072, hd);
	put_capsule_resp(st, 9, 0, hd);
}

static void check_seen(const struct seen *s)
{
	static const uint8_t types[] = {PLX_NVME_TCP_PDU_IC_RESP,  PLX_NVME_TCP_PDU_CAPSULE_RESP,
					PLX_NVME_TCP_PDU_C2H_DATA, PLX_NVME_TCP_PDU_C2H_DATA,
					PLX_NVME_TCP_PDU_R2T,	   PLX_NVME_TCP_PDU_CAPSULE_RESP};
	static const uint16_t cids[] = {0xffff, 5, 9, 9, 3, 9};

	CU_ASSERT_EQUAL(s->pdus, 6);
	CU_ASSERT_EQUAL(s->headers, 6);
	CU_ASSERT_EQUAL(memcmp(s->types, types, sizeof(types)), 0);
	CU_ASSERT_EQUAL(memcmp(s->cids, cids, sizeof(cids)), 0);
	CU_ASSERT_EQUAL(memcmp(s->data, g_payload, sizeof(g_payload)), 0);
}

static void feed_stream(uint8_t dgst, size_t step)
{
	static struct stream st;
	struct seen s = {.set_dgst = dgst};
	struct nvme_tcp_rx rx;

	build_stream(&st, dgst);
	nvme_tcp_rx_init(&rx, ut_on_header, ut_on_pdu, &s);
	for (size_t off = 0; off < st.len; off += step) {
		size_t n = PLX_MIN(step, st.len - off);

		CU_ASSERT_EQUAL(nvme_tcp_rx_feed(&rx, st.b + off, n), (ssize_t)n);
	}
	check_seen(&s);
	CU_ASSERT_EQUAL(rx.state, NVME_TCP_RX_CH);
	CU_ASSERT_EQUAL(rx.hdr_got, 0);
}

static void test_rx_whole_and_split(void)
{
	for (uint8_t dgst = 0; dgst < 4; dgst++) {
		feed_stream(dgst, 65536);
		feed_stream(dgst, 1);
		feed_stream(dgst, 7);
		feed_stream(dgst, 4099);
	}
}

static int stop_on_pdu(void *ctx, struct nvme_tcp_rx *rx)
{
	ut_on_pdu(ctx, rx);
	rx->stop = true;
	return 0;
}

static void test_rx_stop(void)
{
	static struct stream st;
	struct seen s = {.set_dgst = 3};
	struct nvme_tcp_rx rx;
	size_t off = 0;
	int calls = 0;

	build_stream(&st, 3);
	nvme_tcp_rx_init(&rx, ut_on_header, stop_on_pdu, &s);
	while (off < st.len) {
		ssize_t n = nvme_tcp_rx_feed(&rx, st.b + off, st.len - off);

		CU_ASSERT_FATAL(n > 0);
		off += (size_t)n;
		calls++;
	}
	CU_ASSERT_EQUAL(calls, 6); /* one PDU per call */
	check_seen(&s);
}

/* Feed st (after an ICResp enabling dgst) and expect rc with a message containing what. */
static void expect_error(const struct stream *st, uint8_t dgst, ssize_t rc, const char *what)
{
	for (size_t step = 1; step <= st->len; step = step * 3 + 1) {
		struct seen s = {.set_dgst = dgst};
		struct nvme_tcp_rx rx;
		ssize_t got = 0;

		nvme_tcp_rx_init(&rx, ut_on_header, ut_on_pdu, &s);
		for (size_t off = 0; off < st->len && got >= 0; off += step) {
			got = nvme_tcp_rx_feed(&rx, st->b + off, PLX_MIN(step, st->len - off));
		}
		CU_ASSERT_EQUAL(got, rc);
		CU_ASSERT_PTR_NOT_NULL(strstr(rx.err, what));
		if (strstr(rx.err, what) == NULL) {
			fprintf(stderr, "error was '%s', expected '%s'\n", rx.err, what);
		}
	}
}

static void test_rx_malformed(void)
{
	static struct stream st;
	struct plx_nvme_tcp_rsp r = {0};
	struct plx_nvme_tcp_term_req_hdr t = {0};
	uint8_t junk[72] = {0};

	/* Anything but an ICResp first. */
	st.len = 0;
	put_capsule_resp(&st, 1, 0, false);
	expect_error(&st, 0, -EPROTO, "before ICResp");

	/* A PDU type only a host sends. */
	st.len = 0;
	put_ic_resp(&st, 0);
	junk[0] = PLX_NVME_TCP_PDU_CAPSULE_CMD;
	junk[2] = 72;
	junk[4] = 72;
	put(&st, junk, 72);
	expect_error(&st, 0, -EPROTO, "unexpected PDU type 0x4");

	/* Wrong hlen. */
	st.len = 0;
	put_ic_resp(&st, 0);
	r.common.pdu_type = PLX_NVME_TCP_PDU_CAPSULE_RESP;
	r.common.hlen = 16;
	r.common.plen = 24;
	put(&st, &r, 24);
	expect_error(&st, 0, -EPROTO, "invalid hlen");

	/* A header digest when none was negotiated. */
	st.len = 0;
	put_ic_resp(&st, 0);
	put_capsule_resp(&st, 1, 0, true);
	expect_error(&st, 0, -EPROTO, "HDGSTF");

	/* A corrupted header digest. */
	st.len = 0;
	put_ic_resp(&st, 1);
	put_capsule_resp(&st, 1, 0, true);
	st.b[st.len - 1] ^= 0x40;
	expect_error(&st, 1, -EPROTO, "header digest mismatch");

	/* A corrupted data digest. */
	st.len = 0;
	put_ic_resp(&st, 2);
	put_c2h(&st, 1, 0, g_payload, 512, 0, false, true, 0);
	st.b[st.len - 1] ^= 1;
	expect_error(&st, 2, -EPROTO, "data digest mismatch");

	/* datal disagreeing with plen. */
	st.len = 0;
	put_ic_resp(&st, 0);
	put_c2h(&st, 1, 0, g_payload, 512, 0, false, false, 0);
	st.b[128 + 16] = 0x01; /* datal 0x201 */
	expect_error(&st, 0, -EPROTO, "datal");

	/* PDO inside the header. */
	st.len = 0;
	put_ic_resp(&st, 0);
	put_c2h(&st, 1, 0, g_payload, 512, 0, false, false, 0);
	st.b[128 + 3] = 20;
	expect_error(&st, 0, -EPROTO, "invalid pdo");

	/* A C2HData without data. */
	st.len = 0;
	put_ic_resp(&st, 0);
	put_c2h(&st, 1, 0, g_payload, 0, 0, false, false, 0);
	expect_error(&st, 0, -EPROTO, "invalid pdo");

	/* A CapsuleResp with a plen that claims data. */
	st.len = 0;
	put_ic_resp(&st, 0);
	r.common.hlen = 24;
	r.common.plen = 4096;
	put(&st, &r, 24);
	expect_error(&st, 0, -EPROTO, "invalid plen");

	/* An ICResp after the first one. */
	st.len = 0;
	put_ic_resp(&st, 0);
	put_ic_resp(&st, 0);
	expect_error(&st, 0, -EPROTO, "unexpected PDU type 0x1");

	/* The controller gives up: C2HTermReq with the offending header as data. */
	st.len = 0;
	put_ic_resp(&st, 0);
	t.common.pdu_type = PLX_NVME_TCP_PDU_C2H_TERM_REQ;
	t.common.hlen = 24;
	t.common.plen = 24 + 72;
	t.fes = PLX_NVME_TCP_FES_HDGST_ERROR;
	t.fei = 72;
	put(&st, &t, 24);
	put(&st, junk, 72);
	expect_error(&st, 0, -ECONNRESET, "FES 0x3, FEI 0x48");
}

static void test_rx_random(void)
{
	static uint8_t buf[4096];
	uint32_t seed = 12345;

	for (int round = 0; round < 2000; round++) {
		struct seen s = {.set_dgst = (uint8_t)(round & 3)};
		struct nvme_tcp_rx rx;
		size_t len = 8 + (size_t)(round * 37) % (sizeof(buf) - 8);
		ssize_t rc = 0;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (uint8_t)(seed >> 16);
		}
		/* Mostly plausible headers, so the parser gets past the first checks. */
		buf[0] = (uint8_t)(round % 3 == 0 ? buf[0] & 0xf : PLX_NVME_TCP_PDU_IC_RESP);
		nvme_tcp_rx_init(&rx, ut_on_header, ut_on_pdu, &s);
		rx.ic_done = round % 2 == 0;
		rx.hdgst = (round & 4) != 0;
		for (size_t off = 0; off < len && rc >= 0; off += 13) {
			rc = nvme_tcp_rx_feed(&rx, buf + off, PLX_MIN((size_t)13, len - off));
		}
		CU_ASSERT_TRUE(rc >= 0 || rx.err[0] != '\0');
	}
}

static const struct plx_ut_case cases[] = {
    {"ic_req_bytes", test_ic_req_bytes},
    {"ic_resp_checks", test_ic_resp_checks},
    {"capsule_bytes", test_capsule_bytes},
    {"h2c_bytes", test_h2c_bytes},
    {"iov_helpers", test_iov_helpers},
    {"rx_whole_and_split", test_rx_whole_and_split},
    {"rx_stop", test_rx_stop},
    {"rx_malformed", test_rx_malformed},
    {"rx_random", test_rx_random},
};

PLX_UT_MAIN("nvme_tcp_pdu", cases)
