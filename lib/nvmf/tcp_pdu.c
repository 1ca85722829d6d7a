/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe/TCP PDUs, target side, without any I/O: what a received header may contain in a given
 * connection state, digests, and the PDUs the controller sends. Pure functions, so the parser
 * and the fuzzer can test them alone.
 */
#include <errno.h>
#include <string.h>

#include "tcp_internal.h"

/* Byte offsets of common header fields, for the FEI of a TermReq. */
#define CH_OFF_TYPE  0
#define CH_OFF_FLAGS 1
#define CH_OFF_HLEN  2
#define CH_OFF_PDO   3
#define CH_OFF_PLEN  4

static int pdu_error(struct tcp_pdu_error *err, uint16_t fes, uint32_t fei)
{
	err->fes = fes;
	err->fei = fei;
	return -EPROTO;
}

/* Types a controller may receive, in which state. */
static int check_type(uint8_t type, enum tcp_conn_state state, struct tcp_pdu_error *err)
{
	switch (type) {
	case PLX_NVME_TCP_PDU_IC_REQ:
		if (state != TCP_CONN_AWAIT_ICREQ) {
			return pdu_error(err, PLX_NVME_TCP_FES_PDU_SEQUENCE_ERROR, CH_OFF_TYPE);
		}
		return 0;
	case PLX_NVME_TCP_PDU_CAPSULE_CMD:
	case PLX_NVME_TCP_PDU_H2C_DATA:
	case PLX_NVME_TCP_PDU_H2C_TERM_REQ:
		if (state != TCP_CONN_RUNNING) {
			return pdu_error(err, PLX_NVME_TCP_FES_PDU_SEQUENCE_ERROR, CH_OFF_TYPE);
		}
		return 0;
	default:
		/* Unknown, or a type only a controller sends. */
		return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD, CH_OFF_TYPE);
	}
}

/* ICReq and TermReq carry no digests and fixed or bounded lengths. */
static int check_control(const struct plx_nvme_tcp_common_hdr *ch, struct tcp_pdu_layout *layout,
			 struct tcp_pdu_error *err)
{
	uint32_t max;

	if (ch->flags & (PLX_NVME_TCP_CH_FLAGS_HDGSTF | PLX_NVME_TCP_CH_FLAGS_DDGSTF)) {
		return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD, CH_OFF_FLAGS);
	}
	max = ch->hlen;
	if (ch->pdu_type == PLX_NVME_TCP_PDU_H2C_TERM_REQ) {
		max += PLX_NVME_TCP_TERM_REQ_MAX_DATA;
	}
	if (ch->plen < ch->hlen || ch->plen > max ||
	    (ch->pdu_type == PLX_NVME_TCP_PDU_IC_REQ && ch->plen != ch->hlen)) {
		return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD, CH_OFF_PLEN);
	}
	*layout = (struct tcp_pdu_layout){.hdr_len = ch->hlen, .data_len = ch->plen - ch->hlen};
	return 0;
}

int tcp_pdu_check_common(const struct plx_nvme_tcp_common_hdr *ch, enum tcp_conn_state state,
			 const struct tcp_pdu_limits *lim, struct tcp_pdu_layout *layout,
			 struct tcp_pdu_error *err)
{
	uint32_t hd, dd, hdr_len, max_data;
	int rc = check_type(ch->pdu_type, state, err);

	if (rc != 0) {
		return rc;
	}
	if (ch->hlen != plx_nvme_tcp_pdu_hlen(ch->pdu_type)) {
		return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD, CH_OFF_HLEN);
	}
	if (ch->pdu_type == PLX_NVME_TCP_PDU_IC_REQ ||
	    ch->pdu_type == PLX_NVME_TCP_PDU_H2C_TERM_REQ) {
		return check_control(ch, layout, err);
	}
	if (!!(ch->flags & PLX_NVME_TCP_CH_FLAGS_HDGSTF) != lim->hdgst) {
		return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD, CH_OFF_FLAGS);
	}
	hd = lim->hdgst ? PLX_NVME_TCP_DIGEST_LEN : 0;
	hdr_len = ch->hlen + hd;
	if (ch->plen < hdr_len) {
		return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD, CH_OFF_PLEN);
	}
	*layout = (struct tcp_pdu_layout){.hdr_len = hdr_len};
	if (ch->plen == hdr_len) {
		/* No data: only a capsule may be that short; pdo and DDGSTF mean nothing. */
		if (ch->pdu_type == PLX_NVME_TCP_PDU_H2C_DATA) {
			return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD, CH_OFF_PLEN);
		}
		return 0;
	}
	if (!!(ch->flags & PLX_NVME_TCP_CH_FLAGS_DDGSTF) != lim->ddgst) {
		return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD, CH_OFF_FLAGS);
	}
	dd = lim->ddgst ? PLX_NVME_TCP_DIGEST_LEN : 0;
	/* We announce CPDA 0: the data starts right after the header (and its digest). */
	if (ch->pdo != hdr_len) {
		return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD, CH_OFF_PDO);
	}
	if (ch->plen <= (uint32_t)ch->pdo + dd) {
		return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD, CH_OFF_PLEN);
	}
	layout->data_len = ch->plen - ch->pdo - dd;
	layout->ddgst_len = dd;
	max_data = ch->pdu_type == PLX_NVME_TCP_PDU_CAPSULE_CMD ? lim->max_icd : lim->maxh2cdata;
	if (layout->data_len > max_data) {
		return pdu_error(err, PLX_NVME_TCP_FES_DATA_TRANSFER_LIMIT_EXCEEDED, CH_OFF_PLEN);
	}
	return 0;
}

int tcp_pdu_check_ic_req(const struct plx_nvme_tcp_ic_req *icreq, struct tcp_pdu_error *err)
{
	if (icreq->pfv != PLX_NVME_TCP_PFV_1_0) {
		return pdu_error(err, PLX_NVME_TCP_FES_UNSUPPORTED_PARAMETER,
				 offsetof(struct plx_nvme_tcp_ic_req, pfv));
	}
	if (icreq->hpda > PLX_NVME_TCP_HPDA_MAX) {
		return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD,
				 offsetof(struct plx_nvme_tcp_ic_req, hpda));
	}
	return 0;
}

int tcp_pdu_check_h2c_data(const struct plx_nvme_tcp_h2c_data_hdr *h2c, uint32_t data_len,
			   uint16_t cid, uint32_t expected_offset, uint32_t transfer_len,
			   struct tcp_pdu_error *err)
{
	uint64_t end = (uint64_t)h2c->datao + h2c->datal;

	if (h2c->cccid != cid) {
		return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD,
				 offsetof(struct plx_nvme_tcp_h2c_data_hdr, cccid));
	}
	if (h2c->datal != data_len) {
		return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD,
				 offsetof(struct plx_nvme_tcp_h2c_data_hdr, datal));
	}
	/* The host sends an R2T's data in order, so each PDU starts where the last ended. */
	if (h2c->datao != expected_offset) {
		return pdu_error(err, PLX_NVME_TCP_FES_DATA_TRANSFER_OUT_OF_RANGE,
				 offsetof(struct plx_nvme_tcp_h2c_data_hdr, datao));
	}
	if (end > transfer_len) {
		return pdu_error(err, PLX_NVME_TCP_FES_DATA_TRANSFER_OUT_OF_RANGE,
				 offsetof(struct plx_nvme_tcp_h2c_data_hdr, datal));
	}
	if ((h2c->common.flags & PLX_NVME_TCP_DATA_FLAGS_LAST_PDU) && end != transfer_len) {
		return pdu_error(err, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD, CH_OFF_FLAGS);
	}
	return 0;
}

void tcp_put_digest(void *dst, uint32_t crc)
{
	uint8_t *p = dst;

	p[0] = crc & 0xff;
	p[1] = (crc >> 8) & 0xff;
	p[2] = (crc >> 16) & 0xff;
	p[3] = crc >> 24;
}

uint32_t tcp_get_digest(const void *src)
{
	const uint8_t *p = src;

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool tcp_hdgst_ok(const void *hdr, uint32_t hlen)
{
	return tcp_hdgst(hdr, hlen) == tcp_get_digest((const uint8_t *)hdr + hlen);
}

uint32_t tcp_ddgst_iov(const struct iovec *iov, int iovcnt, uint32_t len)
{
	uint32_t crc = ~0u;

	for (int i = 0; i < iovcnt && len > 0; i++) {
		uint32_t n = PLX_MIN((uint64_t)len, iov[i].iov_len);

		crc = plx_crc32c_update(iov[i].iov_base, n, crc);
		len -= n;
	}
	return ~crc;
}

static void common_init(void *buf, uint8_t type, uint8_t hlen, bool hdgst)
{
	struct plx_nvme_tcp_common_hdr *ch = buf;

	memset(buf, 0, hlen);
	ch->pdu_type = type;
	ch->hlen = hlen;
	ch->flags = hdgst ? PLX_NVME_TCP_CH_FLAGS_HDGSTF : 0;
	ch->plen = hlen + (hdgst ? PLX_NVME_TCP_DIGEST_LEN : 0);
}

static uint32_t finish_header(void *buf, uint8_t hlen, bool hdgst)
{
	if (!hdgst) {
		return hlen;
	}
	tcp_put_digest((uint8_t *)buf + hlen, tcp_hdgst(buf, hlen));
	return hlen + PLX_NVME_TCP_DIGEST_LEN;
}

uint32_t tcp_pdu_build_ic_resp(void *buf, bool hdgst, bool ddgst, uint32_t maxh2cdata)
{
	struct plx_nvme_tcp_ic_resp *r = buf;

	common_init(buf, PLX_NVME_TCP_PDU_IC_RESP, PLX_NVME_TCP_IC_RESP_HLEN, false);
	r->pfv = PLX_NVME_TCP_PFV_1_0;
	r->cpda = 0;
	r->dgst = (hdgst ? PLX_NVME_TCP_HDGST_ENABLE : 0) | (ddgst ? PLX_NVME_TCP_DDGST_ENABLE : 0);
	r->maxh2cdata = maxh2cdata;
	return PLX_NVME_TCP_IC_RESP_HLEN;
}

uint32_t tcp_pdu_build_capsule_resp(void *buf, const struct plx_nvme_cpl *cpl, bool hdgst)
{
	struct plx_nvme_tcp_rsp *r = buf;

	common_init(buf, PLX_NVME_TCP_PDU_CAPSULE_RESP, PLX_NVME_TCP_CAPSULE_RESP_HLEN, hdgst);
	r->rccqe = *cpl;
	return finish_header(buf, PLX_NVME_TCP_CAPSULE_RESP_HLEN, hdgst);
}

uint32_t tcp_pdu_build_r2t(void *buf, uint16_t cid, uint16_t ttag, uint32_t r2to, uint32_t r2tl,
			   bool hdgst)
{
	struct plx_nvme_tcp_r2t_hdr *r = buf;

	common_init(buf, PLX_NVME_TCP_PDU_R2T, PLX_NVME_TCP_R2T_HLEN, hdgst);
	r->cccid = cid;
	r->ttag = ttag;
	r->r2to = r2to;
	r->r2tl = r2tl;
	return finish_header(buf, PLX_NVME_TCP_R2T_HLEN, hdgst);
}

uint32_t tcp_pdu_build_c2h_data(void *buf, uint16_t cid, uint32_t datao, uint32_t datal,
				uint8_t flags, bool hdgst, bool ddgst, uint8_t hpda, uint32_t *pad)
{
	struct plx_nvme_tcp_c2h_data_hdr *d = buf;
	uint32_t hdr_len = PLX_NVME_TCP_DATA_HLEN + (hdgst ? PLX_NVME_TCP_DIGEST_LEN : 0);
	uint32_t pdo = PLX_ALIGN_UP(hdr_len, ((uint32_t)hpda + 1) * 4);

	common_init(buf, PLX_NVME_TCP_PDU_C2H_DATA, PLX_NVME_TCP_DATA_HLEN, hdgst);
	d->common.flags |= flags | (ddgst ? PLX_NVME_TCP_CH_FLAGS_DDGSTF : 0);
	d->common.pdo = pdo;
	d->common.plen = pdo + datal + (ddgst ? PLX_NVME_TCP_DIGEST_LEN : 0);
	d->cccid = cid;
	d->datao = datao;
	d->datal = datal;
	*pad = pdo - hdr_len;
	return finish_header(buf, PLX_NVME_TCP_DATA_HLEN, hdgst);
}

uint32_t tcp_pdu_build_term_req(void *buf, uint16_t fes, uint32_t fei, const void *bad_hdr,
				uint32_t bad_len)
{
	struct plx_nvme_tcp_term_req_hdr *t = buf;

	bad_len = PLX_MIN(bad_len, (uint32_t)PLX_NVME_TCP_TERM_REQ_MAX_DATA);
	common_init(buf, PLX_NVME_TCP_PDU_C2H_TERM_REQ, PLX_NVME_TCP_TERM_REQ_HLEN, false);
	t->common.plen = PLX_NVME_TCP_TERM_REQ_HLEN + bad_len;
	t->fes = fes;
	t->fei = fei;
	memcpy((uint8_t *)buf + PLX_NVME_TCP_TERM_REQ_HLEN, bad_hdr, bad_len);
	return PLX_NVME_TCP_TERM_REQ_HLEN + bad_len;
}
