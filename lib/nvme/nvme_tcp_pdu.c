/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe/TCP PDUs, host side, without any I/O: the PDUs a host builds and the parser of what a
 * controller sends. Pure functions, so unit tests can feed them bytes in any split.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nvme_tcp_internal.h"
#include "pollux/util.h"

#define DGST PLX_NVME_TCP_DIGEST_LEN

uint32_t nvme_tcp_build_ic_req(void *buf, bool hdgst, bool ddgst)
{
	struct plx_nvme_tcp_ic_req *req = buf;

	memset(req, 0, sizeof(*req));
	req->common.pdu_type = PLX_NVME_TCP_PDU_IC_REQ;
	req->common.hlen = PLX_NVME_TCP_IC_REQ_HLEN;
	req->common.plen = sizeof(*req);
	req->pfv = PLX_NVME_TCP_PFV_1_0;
	req->dgst =
	    (hdgst ? PLX_NVME_TCP_HDGST_ENABLE : 0) | (ddgst ? PLX_NVME_TCP_DDGST_ENABLE : 0);
	return sizeof(*req);
}

int nvme_tcp_check_ic_resp(const struct plx_nvme_tcp_ic_resp *resp, bool want_hdgst,
			   bool want_ddgst, char *err)
{
	uint8_t asked = (want_hdgst ? PLX_NVME_TCP_HDGST_ENABLE : 0) |
			(want_ddgst ? PLX_NVME_TCP_DDGST_ENABLE : 0);

	if (resp->pfv != PLX_NVME_TCP_PFV_1_0) {
		snprintf(err, NVME_TCP_ERR_LEN, "ICResp: unsupported pfv %u", resp->pfv);
	} else if (resp->cpda > PLX_NVME_TCP_CPDA_MAX) {
		snprintf(err, NVME_TCP_ERR_LEN, "ICResp: invalid cpda %u", resp->cpda);
	} else if ((resp->dgst & ~asked) != 0) {
		snprintf(err, NVME_TCP_ERR_LEN, "ICResp: digests 0x%x enabled, 0x%x asked for",
			 resp->dgst, asked);
	} else if (resp->maxh2cdata < 4096 || resp->maxh2cdata % 4 != 0) {
		snprintf(err, NVME_TCP_ERR_LEN, "ICResp: invalid maxh2cdata %u", resp->maxh2cdata);
	} else {
		return 0;
	}
	return -EPROTO;
}

/* Common header of a PDU that may carry data; returns the PDO (header bytes to send). */
static uint32_t build_data_pdu(void *buf, uint8_t type, uint8_t hlen, uint32_t data_len,
			       uint8_t extra_flags, bool hdgst, bool ddgst, uint8_t cpda)
{
	struct plx_nvme_tcp_common_hdr *ch = buf;
	uint32_t hdr_len = hlen + (hdgst ? DGST : 0);
	uint32_t pdo = data_len != 0 ? PLX_ALIGN_UP(hdr_len, ((uint32_t)cpda + 1) * 4) : 0;

	memset(buf, 0, data_len != 0 ? pdo : hdr_len);
	ch->pdu_type = type;
	ch->flags = extra_flags | (hdgst ? PLX_NVME_TCP_CH_FLAGS_HDGSTF : 0) |
		    (ddgst && data_len != 0 ? PLX_NVME_TCP_CH_FLAGS_DDGSTF : 0);
	ch->hlen = hlen;
	ch->pdo = (uint8_t)pdo;
	ch->plen = data_len != 0 ? pdo + data_len + (ddgst ? DGST : 0) : hdr_len;
	return data_len != 0 ? pdo : hdr_len;
}

static void put_hdgst(void *buf, uint8_t hlen, bool hdgst)
{
	if (hdgst) {
		uint32_t crc = plx_crc32c(buf, hlen);

		memcpy((uint8_t *)buf + hlen, &crc, DGST);
	}
}

uint32_t nvme_tcp_build_capsule(void *buf, const struct plx_nvme_cmd *cmd, uint32_t icd_len,
				bool hdgst, bool ddgst, uint8_t cpda)
{
	struct plx_nvme_tcp_cmd *pdu = buf;
	uint32_t n = build_data_pdu(buf, PLX_NVME_TCP_PDU_CAPSULE_CMD,
				    PLX_NVME_TCP_CAPSULE_CMD_HLEN, icd_len, 0, hdgst, ddgst, cpda);

	pdu->ccsqe = *cmd;
	put_hdgst(buf, PLX_NVME_TCP_CAPSULE_CMD_HLEN, hdgst);
	return n;
}

uint32_t nvme_tcp_build_h2c(void *buf, uint16_t cccid, uint16_t ttag, uint32_t datao,
			    uint32_t datal, bool last, bool hdgst, bool ddgst, uint8_t cpda)
{
	struct plx_nvme_tcp_h2c_data_hdr *pdu = buf;
	uint32_t n =
	    build_data_pdu(buf, PLX_NVME_TCP_PDU_H2C_DATA, PLX_NVME_TCP_DATA_HLEN, datal,
			   last ? PLX_NVME_TCP_DATA_FLAGS_LAST_PDU : 0, hdgst, ddgst, cpda);

	pdu->cccid = cccid;
	pdu->ttag = ttag;
	pdu->datao = datao;
	pdu->datal = datal;
	put_hdgst(buf, PLX_NVME_TCP_DATA_HLEN, hdgst);
	return n;
}

int nvme_tcp_iov_slice(struct iovec *dst, int max, const struct iovec *src, int srccnt,
		       uint32_t off, uint32_t len)
{
	int n = 0;

	for (int i = 0; i < srccnt && len > 0; i++) {
		size_t l = src[i].iov_len;

		if (off >= l) {
			off -= (uint32_t)l;
			continue;
		}
		if (n == max) {
			return -1;
		}
		l = PLX_MIN(l - off, (size_t)len);
		dst[n].iov_base = (uint8_t *)src[i].iov_base + off;
		dst[n].iov_len = l;
		n++;
		len -= (uint32_t)l;
		off = 0;
	}
	return len == 0 ? n : -1;
}

uint32_t nvme_tcp_iov_crc32c(const struct iovec *iov, int cnt)
{
	uint32_t crc = ~0u;

	for (int i = 0; i < cnt; i++) {
		crc = plx_crc32c_update(iov[i].iov_base, iov[i].iov_len, crc);
	}
	return ~crc;
}

const char *nvme_tcp_fes_str(uint16_t fes)
{
	switch (fes) {
	case PLX_NVME_TCP_FES_INVALID_HEADER_FIELD:
		return "invalid header field";
	case PLX_NVME_TCP_FES_PDU_SEQUENCE_ERROR:
		return "PDU sequence error";
	case PLX_NVME_TCP_FES_HDGST_ERROR:
		return "header digest error";
	case PLX_NVME_TCP_FES_DATA_TRANSFER_OUT_OF_RANGE:
		return "data transfer out of range";
	case PLX_NVME_TCP_FES_DATA_TRANSFER_LIMIT_EXCEEDED:
		return "data transfer limit exceeded";
	case PLX_NVME_TCP_FES_UNSUPPORTED_PARAMETER:
		return "unsupported parameter";
	default:
		return "unknown";
	}
}

/* ---- receive ---- */

void nvme_tcp_rx_init(struct nvme_tcp_rx *rx, nvme_tcp_rx_cb on_header, nvme_tcp_rx_cb on_pdu,
		      void *ctx)
{
	memset(rx, 0, sizeof(*rx));
	rx->on_header = on_header;
	rx->on_pdu = on_pdu;
	rx->ctx = ctx;
}

void nvme_tcp_rx_set_dst(struct nvme_tcp_rx *rx, const struct iovec *iov, int cnt, uint32_t off)
{
	int i = 0;

	while (i < cnt && off >= iov[i].iov_len) {
		off -= (uint32_t)iov[i].iov_len;
		i++;
	}
	rx->dst_iov = iov;
	rx->dst_cnt = cnt;
	rx->dst_idx = i;
	rx->dst_ioff = off;
}

static int rx_error(struct nvme_tcp_rx *rx, int rc, const char *fmt, unsigned a, unsigned b)
{
	snprintf(rx->err, sizeof(rx->err), fmt, a, b);
	return rc;
}

/* Which types may come now, their lengths and digest flags: from the common header alone. */
static int rx_check_ch(struct nvme_tcp_rx *rx)
{
	const struct plx_nvme_tcp_common_hdr *ch = &rx->hdr.common;
	uint32_t hd = rx->hdgst ? DGST : 0, dd = rx->ddgst ? DGST : 0;
	bool hdf = (ch->flags & PLX_NVME_TCP_CH_FLAGS_HDGSTF) != 0;
	bool ddf = (ch->flags & PLX_NVME_TCP_CH_FLAGS_DDGSTF) != 0;
	uint8_t t = ch->pdu_type;

	if (t == PLX_NVME_TCP_PDU_C2H_TERM_REQ) {
		if (ch->hlen != PLX_NVME_TCP_TERM_REQ_HLEN || hdf || ddf || ch->plen < ch->hlen ||
		    ch->plen > (uint32_t)ch->hlen + PLX_NVME_TCP_TERM_REQ_MAX_DATA) {
			return rx_error(rx, -EPROTO, "malformed C2HTermReq (hlen %u plen %u)",
					ch->hlen, ch->plen);
		}
		rx->hdr_len = ch->hlen;
		return 0;
	}
	if (!rx->ic_done) {
		if (t != PLX_NVME_TCP_PDU_IC_RESP) {
			return rx_error(rx, -EPROTO, "PDU type 0x%x before ICResp%.0u", t, 0);
		}
		if (ch->hlen != PLX_NVME_TCP_IC_RESP_HLEN ||
		    ch->plen != PLX_NVME_TCP_IC_RESP_HLEN || ch->flags != 0) {
			return rx_error(rx, -EPROTO, "malformed ICResp (hlen %u plen %u)", ch->hlen,
					ch->plen);
		}
		rx->hdr_len = ch->hlen;
		return 0;
	}
	if (t != PLX_NVME_TCP_PDU_CAPSULE_RESP && t != PLX_NVME_TCP_PDU_C2H_DATA &&
	    t != PLX_NVME_TCP_PDU_R2T) {
		return rx_error(rx, -EPROTO, "unexpected PDU type 0x%x%.0u", t, 0);
	}
	if (ch->hlen != plx_nvme_tcp_pdu_hlen(t)) {
		return rx_error(rx, -EPROTO, "PDU type 0x%x: invalid hlen %u", t, ch->hlen);
	}
	if (hdf != rx->hdgst) {
		return rx_error(rx, -EPROTO, "PDU type 0x%x: HDGSTF %u disagrees with ICResp", t,
				hdf);
	}
	rx->hdr_len = ch->hlen + hd;
	if (t != PLX_NVME_TCP_PDU_C2H_DATA) {
		if (ch->plen != rx->hdr_len) {
			return rx_error(rx, -EPROTO, "PDU type 0x%x: invalid plen %u", t, ch->plen);
		}
		return 0;
	}
	if (ddf != rx->ddgst) {
		return rx_error(rx, -EPROTO, "C2HData: DDGSTF %u disagrees with ICResp%.0u", ddf,
				0);
	}
	/* The data starts at PDO, past the header and at most 128 bytes of alignment. */
	if (ch->pdo < rx->hdr_len || ch->pdo > rx->hdr_len + PLX_NVME_TCP_PDU_HLEN_MAX ||
	    (uint64_t)ch->plen <= (uint64_t)ch->pdo + dd) {
		return rx_error(rx, -EPROTO, "C2HData: invalid pdo %u / plen %u", ch->pdo,
				ch->plen);
	}
	rx->pad_left = ch->pdo - rx->hdr_len;
	rx->data_len = ch->plen - ch->pdo - dd;
	return 0;
}

/* The whole header is in: its digest, then the fields that need more than the common header. */
static int rx_check_hdr(struct nvme_tcp_rx *rx)
{
	const union plx_nvme_tcp_pdu_hdr *h = &rx->hdr;
	uint8_t hlen = h->common.hlen;

	if (h->common.pdu_type == PLX_NVME_TCP_PDU_C2H_TERM_REQ) {
		return rx_error(rx, -ECONNRESET,
				"C2HTermReq from the controller: FES 0x%x, FEI 0x%x",
				h->term_req.fes, h->term_req.fei);
	}
	if (rx->hdgst && rx->ic_done) {
		uint32_t want = plx_crc32c(h->raw, hlen), got;

		memcpy(&got, h->raw + hlen, DGST);
		if (got != want) {
			return rx_error(rx, -EPROTO,
					"header digest mismatch (0x%08x, expected 0x%08x)", got,
					want);
		}
	}
	if (h->common.pdu_type == PLX_NVME_TCP_PDU_C2H_DATA && h->c2h_data.datal != rx->data_len) {
		return rx_error(rx, -EPROTO, "C2HData: datal %u but %u bytes of data",
				h->c2h_data.datal, rx->data_len);
	}
	return 0;
}

static void rx_copy_data(struct nvme_tcp_rx *rx, const uint8_t *src, size_t len)
{
	if (rx->ddgst) {
		rx->crc = plx_crc32c_update(src, len, rx->crc);
	}
	while (len > 0 && rx->dst_iov != NULL && rx->dst_idx < rx->dst_cnt) {
		const struct iovec *v = &rx->dst_iov[rx->dst_idx];
		size_t n = PLX_MIN(len, v->iov_len - rx->dst_ioff);

		memcpy((uint8_t *)v->iov_base + rx->dst_ioff, src, n);
		src += n;
		len -= n;
		rx->dst_ioff += n;
		if (rx->dst_ioff == v->iov_len) {
			rx->dst_idx++;
			rx->dst_ioff = 0;
		}
	}
}

/* The header is complete: check it, let the owner place the data, pick the next state. */
static int rx_header_done(struct nvme_tcp_rx *rx)
{
	int rc = rx_check_hdr(rx);

	if (rc == 0) {
		rx->dst_iov = NULL;
		rc = rx->on_header(rx->ctx, rx);
	}
	if (rc != 0) {
		return rc;
	}
	rx->data_got = 0;
	rx->ddgst_got = 0;
	rx->crc = ~0u;
	rx->state = rx->pad_left > 0   ? NVME_TCP_RX_PAD
		    : rx->data_len > 0 ? NVME_TCP_RX_DATA
				       : NVME_TCP_RX_CH;
	return 0;
}

static int rx_pdu_done(struct nvme_tcp_rx *rx)
{
	rx->state = NVME_TCP_RX_CH;
	rx->hdr_got = 0;
	return rx->on_pdu(rx->ctx, rx);
}

ssize_t nvme_tcp_rx_feed(struct nvme_tcp_rx *rx, const uint8_t *buf, size_t len)
{
	size_t off = 0, n;
	int rc = 0;

	rx->stop = false;
	while (off < len && !rx->stop) {
		switch (rx->state) {
		case NVME_TCP_RX_CH:
		case NVME_TCP_RX_HDR: {
			uint32_t need = rx->state == NVME_TCP_RX_CH ? 8 : rx->hdr_len;

			n = PLX_MIN(len - off, (size_t)(need - rx->hdr_got));
			memcpy(rx->hdr.raw + rx->hdr_got, buf + off, n);
			rx->hdr_got += (uint32_t)n;
			off += n;
			if (rx->hdr_got < need) {
				break;
			}
			if (rx->state == NVME_TCP_RX_CH) {
				rx->pad_left = 0;
				rx->data_len = 0;
				rc = rx_check_ch(rx);
				rx->state = NVME_TCP_RX_HDR;
				if (rc == 0 && rx->hdr_got == rx->hdr_len) {
					rc = rx_header_done(rx);
				}
			} else {
				rc = rx_header_done(rx);
			}
			if (rc == 0 && rx->state == NVME_TCP_RX_CH) {
				rc = rx_pdu_done(rx);
			}
			break;
		}
		case NVME_TCP_RX_PAD:
			n = PLX_MIN(len - off, (size_t)rx->pad_left);
			rx->pad_left -= (uint32_t)n;
			off += n;
			if (rx->pad_left == 0) {
				rx->state = NVME_TCP_RX_DATA;
			}
			break;
		case NVME_TCP_RX_DATA:
			n = PLX_MIN(len - off, (size_t)(rx->data_len - rx->data_got));
			rx_copy_data(rx, buf + off, n);
			rx->data_got += (uint32_t)n;
			off += n;
			if (rx->data_got < rx->data_len) {
				break;
			}
			if (rx->ddgst) {
				rx->state = NVME_TCP_RX_DDGST;
			} else {
				rc = rx_pdu_done(rx);
			}
			break;
		case NVME_TCP_RX_DDGST:
			n = PLX_MIN(len - off, (size_t)(DGST - rx->ddgst_got));
			memcpy(rx->ddgst_buf + rx->ddgst_got, buf + off, n);
			rx->ddgst_got += (uint32_t)n;
			off += n;
			if (rx->ddgst_got == DGST) {
				uint32_t got;

				memcpy(&got, rx->ddgst_buf, DGST);
				if (got != ~rx->crc) {
					rc = rx_error(
					    rx, -EPROTO,
					    "data digest mismatch (0x%08x, expected 0x%08x)", got,
					    ~rx->crc);
				} else {
					rc = rx_pdu_done(rx);
				}
			}
			break;
		}
		if (rc != 0) {
			return rc;
		}
	}
	return (ssize_t)off;
}
