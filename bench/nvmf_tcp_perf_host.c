/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvmf_tcp_perf's host side: NVMe/TCP connections (ICReq/ICResp, capsules, R2T/H2CData,
 * C2HData, digests) and the setup commands (Connect, Property Get/Set, Identify).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvmf_tcp_perf.h"

int fail(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* ---- clock: the TSC when it is invariant, calibrated against CLOCK_MONOTONIC_RAW ---- */

bool g_use_tsc;
uint64_t g_hz = 1000000000ull;

void clock_init(void)
{
#if defined(__x86_64__)
	char line[4096];
	bool constant = false, nonstop = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "flags", 5) == 0) {
			constant = strstr(line, " constant_tsc") != NULL;
			nonstop = strstr(line, " nonstop_tsc") != NULL;
			break;
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	if (constant && nonstop) {
		struct timespec nap = {0, 100 * 1000 * 1000};
		uint64_t n0 = mono_ns(), t0 = __rdtsc(), n1, t1;

		nanosleep(&nap, NULL);
		n1 = mono_ns();
		t1 = __rdtsc();
		g_hz = (uint64_t)((double)(t1 - t0) * 1e9 / (double)(n1 - n0));
		g_use_tsc = true;
	}
#endif
}

const char *fes_str(uint16_t fes)
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

const char *status_str(const struct plx_nvme_cpl *cpl)
{
	unsigned sct = cpl->status.sct, sc = cpl->status.sc;

	if (sct == PLX_NVME_SCT_GENERIC) {
		switch (sc) {
		case PLX_NVME_SC_INVALID_OPCODE:
			return "invalid opcode";
		case PLX_NVME_SC_INVALID_FIELD:
			return "invalid field";
		case PLX_NVME_SC_DATA_TRANSFER_ERROR:
			return "data transfer error";
		case PLX_NVME_SC_INTERNAL_DEVICE_ERROR:
			return "internal error";
		case PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT:
			return "invalid namespace or format";
		case PLX_NVME_SC_COMMAND_SEQUENCE_ERROR:
			return "command sequence error";
		case PLX_NVME_SC_DATA_SGL_LENGTH_INVALID:
			return "data SGL length invalid";
		case PLX_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID:
			return "SGL descriptor type invalid";
		case PLX_NVME_SC_LBA_OUT_OF_RANGE:
			return "LBA out of range";
		case PLX_NVME_SC_NAMESPACE_NOT_READY:
			return "namespace not ready";
		default:
			return "generic";
		}
	}
	if (sct == PLX_NVME_SCT_COMMAND_SPECIFIC) {
		switch (sc) {
		case PLX_NVMF_SC_INCOMPATIBLE_FORMAT:
			return "incompatible format";
		case PLX_NVMF_SC_CONTROLLER_BUSY:
			return "controller busy";
		case PLX_NVMF_SC_INVALID_PARAM:
			return "invalid connect parameter";
		case PLX_NVMF_SC_INVALID_HOST:
			return "host not allowed";
		case PLX_NVMF_SC_INVALID_QUEUE_TYPE:
			return "invalid queue type";
		case PLX_NVME_SC_INVALID_QUEUE_SIZE:
			return "invalid queue size";
		default:
			return "command specific";
		}
	}
	return sct == PLX_NVME_SCT_PATH ? "path error" : "media or vendor error";
}

int conn_alloc(struct conn *c, uint32_t nslots, uint32_t buf_size)
{
	size_t hdr_per_slot = HDR_STRIDE * (1 + (size_t)c->max_h2c_pdus);

	c->nslots = nslots;
	c->slots = calloc(nslots, sizeof(*c->slots));
	c->free_stack = calloc(nslots, sizeof(*c->free_stack));
	c->hdr_mem = aligned_alloc(64, PLX_ALIGN_UP(hdr_per_slot * nslots, (size_t)64));
	c->iov_cap = nslots * (3 + 3 * c->max_h2c_pdus) + 16;
	c->iov = calloc(c->iov_cap, sizeof(*c->iov));
	if (c->slots == NULL || c->free_stack == NULL || c->hdr_mem == NULL || c->iov == NULL) {
		return fail("out of memory");
	}
	memset(c->hdr_mem, 0, hdr_per_slot * nslots);
	buf_size = PLX_ALIGN_UP(buf_size, 4096u);
	for (uint32_t i = 0; i < nslots; i++) {
		struct slot *s = &c->slots[i];

		s->cid = (uint16_t)i;
		s->hdr = c->hdr_mem + hdr_per_slot * i;
		s->h2c = s->hdr + HDR_STRIDE;
		s->buf = aligned_alloc(4096, buf_size);
		if (s->buf == NULL) {
			return fail("out of memory");
		}
		/* A fixed, not-all-zero pattern for writes without -V. */
		for (uint32_t b = 0; b < buf_size; b += 8) {
			uint64_t w = 0x706f6c6c75780000ull | b;

			memcpy(s->buf + b, &w, 8);
		}
		c->free_stack[c->nfree++] = (uint16_t)(nslots - 1 - i);
	}
	return 0;
}

void conn_free(struct conn *c)
{
	if (c->fd > 0) {
		close(c->fd);
	}
	c->fd = -1;
	for (uint32_t i = 0; c->slots != NULL && i < c->nslots; i++) {
		free(c->slots[i].buf);
	}
	free(c->slots);
	free(c->free_stack);
	free(c->hdr_mem);
	free(c->iov);
	free(c->rbuf);
	c->slots = NULL;
	c->free_stack = NULL;
	c->hdr_mem = NULL;
	c->iov = NULL;
	c->rbuf = NULL;
}

/* ---- sending ---- */

static inline void iov_push(struct conn *c, void *base, size_t len)
{
	if (plx_unlikely(c->iov_cnt == c->iov_cap)) {
		/* Sized for every slot's worst case; only a partly sent batch can get here. */
		memmove(c->iov, c->iov + c->iov_head, (c->iov_cnt - c->iov_head) * sizeof(*c->iov));
		c->iov_cnt -= c->iov_head;
		c->iov_head = 0;
	}
	c->iov[c->iov_cnt].iov_base = base;
	c->iov[c->iov_cnt].iov_len = len;
	c->iov_cnt++;
}

/* Send what is queued; 0 also when the socket is full (the rest waits for the next loop). */
int conn_flush(struct conn *c)
{
	while (c->iov_head < c->iov_cnt) {
		int n = (int)PLX_MIN(c->iov_cnt - c->iov_head, (uint32_t)IOV_MAX);
		ssize_t w = writev(c->fd, c->iov + c->iov_head, n);

		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				return 0;
			}
			if (errno == EINTR) {
				continue;
			}
			return fail("send on queue %u: %s", c->qid, strerror(errno));
		}
		while (w > 0) {
			struct iovec *v = &c->iov[c->iov_head];

			if ((size_t)w >= v->iov_len) {
				w -= (ssize_t)v->iov_len;
				c->iov_head++;
			} else {
				v->iov_base = (uint8_t *)v->iov_base + w;
				v->iov_len -= (size_t)w;
				w = 0;
			}
		}
	}
	c->iov_head = 0;
	c->iov_cnt = 0;
	return 0;
}

static inline uint32_t data_pdo(const struct conn *c, uint32_t hlen)
{
	return PLX_ALIGN_UP(hlen + (c->hdgst ? 4u : 0u), c->cpda_align);
}

static inline void put_hdgst(const struct conn *c, uint8_t *hdr, uint32_t hlen)
{
	if (c->hdgst) {
		uint32_t crc = plx_crc32c(hdr, hlen);

		memcpy(hdr + hlen, &crc, 4);
	}
}

/* Queue the data of one PDU and its data digest (kept in the header area at hdr). */
static inline void push_data(struct conn *c, uint8_t *hdr, uint8_t *data, uint32_t len)
{
	iov_push(c, data, len);
	if (c->ddgst) {
		uint32_t crc = plx_crc32c(data, len);

		memcpy(hdr + HDR_DDGST_OFF, &crc, 4);
		iov_push(c, hdr + HDR_DDGST_OFF, 4);
	}
}

/*
 * Queue the capsule of s (its SQE already filled, s->len data bytes in s->buf): host-to-
 * controller data up to the in-capsule limit rides in the capsule, larger waits for R2T.
 */
void conn_submit(struct conn *c, struct slot *s)
{
	struct plx_nvme_tcp_cmd *pdu = (struct plx_nvme_tcp_cmd *)s->hdr;
	struct plx_nvme_sgl_desc *sgl = &pdu->ccsqe.dptr.sgl1;
	uint32_t hlen = PLX_NVME_TCP_CAPSULE_CMD_HLEN, hd = c->hdgst ? 4 : 0;
	bool h2c = s->dir == PLX_NVME_DATA_HOST_TO_CONTROLLER;

	pdu->ccsqe.cid = s->cid;
	s->xfered = 0;
	s->done = false;
	s->in_capsule = h2c && s->len > 0 && s->len <= c->icd_max;
	sgl->address = 0;
	memset(&sgl->unkeyed, 0, sizeof(sgl->unkeyed));
	sgl->unkeyed.length = s->len;
	pdu->common.pdu_type = PLX_NVME_TCP_PDU_CAPSULE_CMD;
	pdu->common.hlen = (uint8_t)hlen;
	if (s->in_capsule) {
		uint32_t pdo = data_pdo(c, hlen);

		sgl->unkeyed.type = PLX_NVME_SGL_TYPE_DATA_BLOCK;
		sgl->unkeyed.subtype = PLX_NVME_SGL_SUBTYPE_OFFSET;
		pdu->common.flags = (uint8_t)((c->hdgst ? PLX_NVME_TCP_CH_FLAGS_HDGSTF : 0) |
					      (c->ddgst ? PLX_NVME_TCP_CH_FLAGS_DDGSTF : 0));
		pdu->common.pdo = (uint8_t)pdo;
		pdu->common.plen = pdo + s->len + (c->ddgst ? 4 : 0);
		put_hdgst(c, s->hdr, hlen);
		iov_push(c, s->hdr, pdo);
		push_data(c, s->hdr, s->buf, s->len);
	} else {
		sgl->unkeyed.type = PLX_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK;
		sgl->unkeyed.subtype = PLX_NVME_SGL_SUBTYPE_TRANSPORT;
		pdu->common.flags = c->hdgst ? PLX_NVME_TCP_CH_FLAGS_HDGSTF : 0;
		pdu->common.pdo = 0;
		pdu->common.plen = hlen + hd;
		put_hdgst(c, s->hdr, hlen);
		iov_push(c, s->hdr, hlen + hd);
	}
	c->inflight++;
}

/* Answer an R2T with H2CData PDUs of at most MAXH2CDATA bytes each. */
int conn_on_r2t(struct conn *c, const struct plx_nvme_tcp_r2t_hdr *r2t)
{
	struct slot *s = r2t->cccid < c->nslots ? &c->slots[r2t->cccid] : NULL;
	uint32_t off = r2t->r2to, end = r2t->r2to + r2t->r2tl, hlen = PLX_NVME_TCP_DATA_HLEN;

	if (s == NULL || !s->busy || s->in_capsule || s->dir != PLX_NVME_DATA_HOST_TO_CONTROLLER) {
		return fail("queue %u: target sent R2T for cid %u, which has no data to send",
			    c->qid, r2t->cccid);
	}
	if (r2t->r2tl == 0 || end > s->len || end < off || off != s->xfered) {
		return fail("queue %u: R2T for cid %u asks for bytes %u+%u; sent so far %u of %u",
			    c->qid, r2t->cccid, off, r2t->r2tl, s->xfered, s->len);
	}
	for (uint32_t i = 0; off < end; i++) {
		uint32_t n = PLX_MIN(end - off, c->maxh2cdata), pdo = data_pdo(c, hlen);
		uint8_t *hdr = s->h2c + (size_t)HDR_STRIDE * i;
		struct plx_nvme_tcp_h2c_data_hdr *h = (struct plx_nvme_tcp_h2c_data_hdr *)hdr;

		h->common.pdu_type = PLX_NVME_TCP_PDU_H2C_DATA;
		h->common.flags =
		    (uint8_t)((c->hdgst ? PLX_NVME_TCP_CH_FLAGS_HDGSTF : 0) |
			      (c->ddgst ? PLX_NVME_TCP_CH_FLAGS_DDGSTF : 0) |
			      (off + n == end ? PLX_NVME_TCP_DATA_FLAGS_LAST_PDU : 0));
		h->common.hlen = (uint8_t)hlen;
		h->common.pdo = (uint8_t)pdo;
		h->common.plen = pdo + n + (c->ddgst ? 4 : 0);
		h->cccid = r2t->cccid;
		h->ttag = r2t->ttag;
		h->datao = off;
		h->datal = n;
		put_hdgst(c, hdr, hlen);
		iov_push(c, hdr, pdo);
		push_data(c, hdr, s->buf + off, n);
		off += n;
	}
	s->xfered = end;
	return 0;
}

/* ---- receiving ---- */

static int complete(struct conn *c, struct slot *s, const struct plx_nvme_cpl *cpl)
{
	bool c2h = s->dir == PLX_NVME_DATA_CONTROLLER_TO_HOST;

	if (!plx_nvme_cpl_is_error(cpl) && s->len > 0 && s->xfered != s->len &&
	    (c2h || !s->in_capsule)) {
		return fail("queue %u: cid %u (opc 0x%02x) completed successfully after %u of its "
			    "%u data bytes",
			    c->qid, s->cid, s->opc, s->xfered, s->len);
	}
	s->cpl = *cpl;
	c->inflight--;
	if (s->sync) {
		s->done = true;
	} else {
		c->io_done(c, s);
	}
	return 0;
}

static int on_capsule_resp(struct conn *c, const struct plx_nvme_tcp_rsp *r)
{
	uint16_t cid = r->rccqe.cid;

	if (cid >= c->nslots || !c->slots[cid].busy) {
		return fail("queue %u: response for cid %u, which is not outstanding", c->qid, cid);
	}
	return complete(c, &c->slots[cid], &r->rccqe);
}

static int on_term_req(struct conn *c, const struct plx_nvme_tcp_term_req_hdr *t)
{
	fprintf(stderr,
		PROG ": queue %u: target sent C2HTermReq: FES 0x%02x (%s), FEI 0x%08x; the "
		     "connection is terminated\n",
		c->qid, t->fes, fes_str(t->fes), t->fei);
	return -1;
}

/* A C2HData header is complete: check it against its command and start taking its data. */
static int on_c2h_hdr(struct conn *c, const struct plx_nvme_tcp_c2h_data_hdr *h, uint32_t hend)
{
	struct slot *s = h->cccid < c->nslots ? &c->slots[h->cccid] : NULL;
	uint32_t dd = (h->common.flags & PLX_NVME_TCP_CH_FLAGS_DDGSTF) ? 4 : 0;

	if (s == NULL || !s->busy || s->dir != PLX_NVME_DATA_CONTROLLER_TO_HOST) {
		return fail("queue %u: C2HData for cid %u, which reads nothing", c->qid, h->cccid);
	}
	if ((dd != 0) != c->ddgst) {
		return fail("queue %u: C2HData DDGSTF is %s though data digests are %s", c->qid,
			    dd ? "set" : "clear", c->ddgst ? "on" : "off");
	}
	if (h->datal == 0 || h->datao != s->xfered || h->datao + h->datal > s->len ||
	    h->common.pdo < hend || h->common.plen != h->common.pdo + h->datal + dd) {
		return fail("queue %u: bad C2HData for cid %u: datao %u datal %u pdo %u plen %u "
			    "(command length %u, %u received)",
			    c->qid, h->cccid, h->datao, h->datal, h->common.pdo, h->common.plen,
			    s->len, s->xfered);
	}
	if ((h->common.flags & PLX_NVME_TCP_C2H_DATA_FLAGS_SUCCESS) &&
	    !(h->common.flags & PLX_NVME_TCP_DATA_FLAGS_LAST_PDU)) {
		return fail("queue %u: C2HData with SUCCESS but without LAST_PDU", c->qid);
	}
	memcpy(&c->rxh.c2h_data, h, sizeof(*h));
	c->rx_slot = s;
	c->rx_pad = h->common.pdo - hend;
	c->rx_left = h->datal;
	c->rx_off = h->datao;
	c->rx_crc = ~0u;
	c->rx_ddgst_got = 0;
	c->rx = c->rx_pad > 0 ? RX_PAD : RX_DATA;
	return 0;
}

static int on_c2h_end(struct conn *c)
{
	const struct plx_nvme_tcp_c2h_data_hdr *h = &c->rxh.c2h_data;
	struct slot *s = c->rx_slot;

	if (c->ddgst) {
		uint32_t want = ~c->rx_crc;

		if (le32(c->rx_ddgst) != want) {
			return fail("queue %u: data digest mismatch on C2HData for cid %u: got "
				    "0x%08x, computed 0x%08x",
				    c->qid, s->cid, le32(c->rx_ddgst), want);
		}
	}
	s->xfered += h->datal;
	c->rx = RX_HDR;
	if (h->common.flags & PLX_NVME_TCP_C2H_DATA_FLAGS_SUCCESS) {
		struct plx_nvme_cpl cpl = {0};

		cpl.cid = s->cid;
		if (s->xfered != s->len) {
			return fail("queue %u: C2HData SUCCESS for cid %u after %u of %u bytes",
				    c->qid, s->cid, s->xfered, s->len);
		}
		return complete(c, s, &cpl);
	}
	return 0;
}

/* A whole PDU header (and its digest) is at p: act on it. Returns bytes consumed or -1. */
static int on_header(struct conn *c, const uint8_t *p, uint32_t avail)
{
	const struct plx_nvme_tcp_common_hdr *ch = (const void *)p;
	uint32_t want_hlen = plx_nvme_tcp_pdu_hlen(ch->pdu_type), hd = 0, hend;

	if (ch->pdu_type != PLX_NVME_TCP_PDU_IC_RESP &&
	    ch->pdu_type != PLX_NVME_TCP_PDU_C2H_TERM_REQ &&
	    ch->pdu_type != PLX_NVME_TCP_PDU_CAPSULE_RESP &&
	    ch->pdu_type != PLX_NVME_TCP_PDU_C2H_DATA && ch->pdu_type != PLX_NVME_TCP_PDU_R2T) {
		return fail("queue %u: target sent PDU type 0x%02x, which a host never receives",
			    c->qid, ch->pdu_type);
	}
	if (ch->hlen != want_hlen) {
		return fail("queue %u: PDU type 0x%02x with hlen %u (must be %u)", c->qid,
			    ch->pdu_type, ch->hlen, want_hlen);
	}
	if (ch->pdu_type == PLX_NVME_TCP_PDU_C2H_TERM_REQ) {
		if (avail < ch->hlen) {
			return 0;
		}
		return on_term_req(c, (const void *)p);
	}
	if (ch->pdu_type == PLX_NVME_TCP_PDU_IC_RESP ? c->ic_done : !c->ic_done) {
		return fail("queue %u: PDU type 0x%02x %s the ICResp", c->qid, ch->pdu_type,
			    c->ic_done ? "after" : "before");
	}
	if (ch->pdu_type != PLX_NVME_TCP_PDU_IC_RESP) {
		hd = (ch->flags & PLX_NVME_TCP_CH_FLAGS_HDGSTF) ? 4 : 0;
		if ((hd != 0) != c->hdgst) {
			return fail(
			    "queue %u: PDU type 0x%02x with HDGSTF %s though header digests "
			    "are %s",
			    c->qid, ch->pdu_type, hd ? "set" : "clear", c->hdgst ? "on" : "off");
		}
	}
	hend = ch->hlen + hd;
	if (avail < hend) {
		return 0;
	}
	if (hd != 0 && le32(p + ch->hlen) != plx_crc32c(p, ch->hlen)) {
		return fail("queue %u: header digest mismatch on PDU type 0x%02x", c->qid,
			    ch->pdu_type);
	}
	if (ch->pdu_type != PLX_NVME_TCP_PDU_C2H_DATA && ch->plen != hend) {
		return fail("queue %u: PDU type 0x%02x with plen %u (must be %u)", c->qid,
			    ch->pdu_type, ch->plen, hend);
	}
	switch (ch->pdu_type) {
	case PLX_NVME_TCP_PDU_IC_RESP:
		memcpy(&c->rxh.ic_resp, p, sizeof(c->rxh.ic_resp));
		c->ic_done = true;
		break;
	case PLX_NVME_TCP_PDU_CAPSULE_RESP:
		if (on_capsule_resp(c, (const void *)p) != 0) {
			return -1;
		}
		break;
	case PLX_NVME_TCP_PDU_R2T:
		if (conn_on_r2t(c, (const void *)p) != 0) {
			return -1;
		}
		break;
	default:
		if (on_c2h_hdr(c, (const void *)p, hend) != 0) {
			return -1;
		}
		break;
	}
	return (int)hend;
}

/* Take bytes of the current C2HData PDU (padding, data, digest); returns bytes consumed. */
static int on_c2h_bytes(struct conn *c, const uint8_t *p, uint32_t avail)
{
	uint32_t n;

	switch (c->rx) {
	case RX_PAD:
		n = PLX_MIN(avail, c->rx_pad);
		c->rx_pad -= n;
		if (c->rx_pad == 0) {
			c->rx = RX_DATA;
		}
		return (int)n;
	case RX_DATA:
		n = PLX_MIN(avail, c->rx_left);
		if (c->rx_slot->keep_data) {
			memcpy(c->rx_slot->buf + c->rx_off, p, n);
		}
		if (c->ddgst) {
			c->rx_crc = plx_crc32c_update(p, n, c->rx_crc);
		}
		c->rx_off += n;
		c->rx_left -= n;
		if (c->rx_left == 0) {
			c->rx = RX_DDGST;
			if (!c->ddgst && on_c2h_end(c) != 0) {
				return -1;
			}
		}
		return (int)n;
	default:
		n = PLX_MIN(avail, 4 - c->rx_ddgst_got);
		memcpy(c->rx_ddgst + c->rx_ddgst_got, p, n);
		c->rx_ddgst_got += n;
		if (c->rx_ddgst_got == 4 && on_c2h_end(c) != 0) {
			return -1;
		}
		return (int)n;
	}
}

/* One recv, then every whole PDU in the buffer. Returns 1 when data came, 0 if none, -1. */
int conn_poll(struct conn *c)
{
	ssize_t r = recv(c->fd, c->rbuf + c->rtail, RX_BUF_SIZE - c->rtail, 0);
	int n = 1;

	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			return 0;
		}
		return fail("queue %u: %s", c->qid,
			    r == 0 ? "connection closed by the target" : strerror(errno));
	}
	c->now = ticks();
	c->rtail += (uint32_t)r;
	while (c->rhead < c->rtail && n > 0) {
		uint32_t avail = c->rtail - c->rhead;

		if (c->rx == RX_HDR) {
			n = avail < sizeof(struct plx_nvme_tcp_common_hdr)
				? 0
				: on_header(c, c->rbuf + c->rhead, avail);
		} else {
			n = on_c2h_bytes(c, c->rbuf + c->rhead, avail);
		}
		if (n < 0) {
			return -1;
		}
		c->rhead += (uint32_t)n;
	}
	/* What is left is less than one header: move it to the front for the next recv. */
	if (c->rhead == c->rtail) {
		c->rhead = c->rtail = 0;
	} else if (c->rhead > 0) {
		memmove(c->rbuf, c->rbuf + c->rhead, c->rtail - c->rhead);
		c->rtail -= c->rhead;
		c->rhead = 0;
	}
	return 1;
}

/* Flush and wait (poll) until s is done or the timeout passes. */
static int conn_wait(struct conn *c, struct slot *s, const char *what)
{
	uint64_t deadline = mono_ns() + CMD_TIMEOUT_S * 1000000000ull;

	while (!s->done) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};

		if (c->iov_cnt > 0) {
			pfd.events |= POLLOUT;
			if (conn_flush(c) != 0) {
				return -1;
			}
		}
		if (mono_ns() > deadline) {
			return fail("queue %u: no answer to %s within %d s", c->qid, what,
				    CMD_TIMEOUT_S);
		}
		if (poll(&pfd, 1, 100) > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)) &&
		    conn_poll(c) < 0) {
			return -1;
		}
	}
	return 0;
}

/*
 * Run one setup command on c with len bytes of data (copied from data when not NULL); *out is
 * the slot it ran in, with the completion in cpl and C2H data in buf when keep is set.
 */
int conn_exec(struct conn *c, const void *sqe, const void *data, uint32_t len, bool keep,
	      const char *what, struct slot **out)
{
	struct slot *s = slot_get(c);
	int rc;

	if (s == NULL) {
		return fail("queue %u: no free command slot for %s", c->qid, what);
	}
	*out = s;
	memcpy(slot_cmd(s), sqe, sizeof(struct plx_nvme_cmd));
	if (data != NULL) {
		memcpy(s->buf, data, len);
	}
	s->opc = ((const uint8_t *)sqe)[0];
	s->dir = plx_nvme_opc_get_data_transfer(
	    s->opc == PLX_NVME_OPC_FABRIC ? ((const struct plx_nvmf_capsule_cmd *)sqe)->fctype
					  : s->opc);
	s->len = len;
	s->sync = true;
	s->keep_data = keep;
	conn_submit(c, s);
	rc = conn_wait(c, s, what);
	slot_put(c, s);
	if (rc == 0 && plx_nvme_cpl_is_error(&s->cpl)) {
		fprintf(stderr, PROG ": %s failed: sct 0x%x sc 0x%02x (%s), cdw0 0x%08x\n", what,
			s->cpl.status.sct, s->cpl.status.sc, status_str(&s->cpl), s->cpl.cdw0);
		return -2;
	}
	return rc;
}

/* ---- connection setup ---- */

static int tcp_connect(struct conn *c, const struct host_params *o)
{
	struct addrinfo hints = {.ai_family = o->family, .ai_socktype = SOCK_STREAM}, *ai;
	int rc = getaddrinfo(o->traddr, o->trsvcid, &hints, &ai), one = 1;

	if (rc != 0) {
		return fail("%s:%s: %s", o->traddr, o->trsvcid, gai_strerror(rc));
	}
	c->fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		rc = fail("connect to %s:%s: %s", o->traddr, o->trsvcid, strerror(errno));
		freeaddrinfo(ai);
		return rc;
	}
	freeaddrinfo(ai);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0) {
		return fail("fcntl: %s", strerror(errno));
	}
	return 0;
}

/* TCP connect, ICReq/ICResp, then the command slots sized from what the controller allows. */
int conn_open(const struct host_params *h, struct conn *c, uint16_t qid, uint32_t nslots,
	      uint32_t buf)
{
	struct plx_nvme_tcp_ic_req req;
	const struct plx_nvme_tcp_ic_resp *resp = &c->rxh.ic_resp;
	uint64_t deadline;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->qid = qid;
	c->rbuf = malloc(RX_BUF_SIZE);
	if (c->rbuf == NULL) {
		return fail("out of memory");
	}
	if (tcp_connect(c, h) != 0) {
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.common.pdu_type = PLX_NVME_TCP_PDU_IC_REQ;
	req.common.hlen = PLX_NVME_TCP_IC_REQ_HLEN;
	req.common.plen = sizeof(req);
	req.pfv = PLX_NVME_TCP_PFV_1_0;
	req.hpda = 0;
	req.dgst = (uint8_t)((h->hdgst ? PLX_NVME_TCP_HDGST_ENABLE : 0) |
			     (h->ddgst ? PLX_NVME_TCP_DDGST_ENABLE : 0));
	req.maxr2t = 0; /* one R2T at a time per command */
	if (send(c->fd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req)) {
		return fail("queue %u: sending ICReq: %s", qid, strerror(errno));
	}
	deadline = mono_ns() + CMD_TIMEOUT_S * 1000000000ull;
	while (!c->ic_done) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};

		if (mono_ns() > deadline) {
			return fail("queue %u: no ICResp within %d s", qid, CMD_TIMEOUT_S);
		}
		if (poll(&pfd, 1, 100) > 0 && conn_poll(c) < 0) {
			return -1;
		}
	}
	if (c->rtail != 0) {
		return fail("queue %u: data after the ICResp before any command", qid);
	}
	if (resp->pfv != PLX_NVME_TCP_PFV_1_0 || resp->cpda > PLX_NVME_TCP_CPDA_MAX ||
	    resp->maxh2cdata < 4096 || resp->maxh2cdata % 4 != 0 || (resp->dgst & ~req.dgst) != 0) {
		return fail("queue %u: bad ICResp: pfv %u cpda %u dgst 0x%x maxh2cdata %u", qid,
			    resp->pfv, resp->cpda, resp->dgst, resp->maxh2cdata);
	}
	if (resp->dgst != req.dgst) {
		return fail("queue %u: the target did not enable the %s digest asked for", qid,
			    (req.dgst & ~resp->dgst & PLX_NVME_TCP_HDGST_ENABLE) ? "header"
										 : "data");
	}
	c->hdgst = resp->dgst & PLX_NVME_TCP_HDGST_ENABLE;
	c->ddgst = resp->dgst & PLX_NVME_TCP_DDGST_ENABLE;
	c->cpda_align = 4u * (resp->cpda + 1u);
	c->maxh2cdata = resp->maxh2cdata;
	c->max_h2c_pdus = (buf + c->maxh2cdata - 1) / c->maxh2cdata;
	c->icd_max = qid == 0 ? ADMIN_BUF : 0;
	return conn_alloc(c, nslots, buf);
}

int fabric_connect(const struct host_params *h, struct conn *c, uint16_t sqsize, uint32_t kato,
		   uint16_t *cntlid)
{
	struct plx_nvmf_connect_cmd cmd;
	struct plx_nvmf_connect_data *d = calloc(1, sizeof(*d));
	char what[64];
	union plx_nvmf_connect_rsp_cdw0 cdw0;
	struct slot *s = NULL;
	int rc;

	if (d == NULL) {
		return fail("out of memory");
	}

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = PLX_NVME_OPC_FABRIC;
	cmd.rsvd1 = 0x40; /* PSDT 01b: SGLs, as every fabrics capsule */
	cmd.fctype = PLX_NVMF_FCTYPE_CONNECT;
	cmd.recfmt = 0;
	cmd.qid = c->qid;
	cmd.sqsize = sqsize;
	cmd.kato = kato;
	memcpy(d->hostid, h->hostid.u, sizeof(d->hostid));
	d->cntlid = c->qid == 0 ? 0xffff : *cntlid;
	strcpy(d->hostnqn, h->hostnqn);
	strcpy(d->subnqn, h->subnqn);
	snprintf(what, sizeof(what), "Connect of queue %u", c->qid);
	rc = conn_exec(c, &cmd, d, sizeof(*d), false, what, &s);
	free(d);
	if (rc != 0) {
		cdw0.raw = s != NULL ? s->cpl.cdw0 : 0;
		if (rc == -2 && s->cpl.status.sct == PLX_NVME_SCT_COMMAND_SPECIFIC &&
		    s->cpl.status.sc == PLX_NVMF_SC_INVALID_PARAM) {
			fprintf(stderr,
				PROG ": the invalid parameter is at byte %u of the Connect %s\n",
				cdw0.invalid.ipo, cdw0.invalid.iattr ? "data" : "command");
		}
		return -1;
	}
	cdw0.raw = s->cpl.cdw0;
	if (c->qid == 0) {
		*cntlid = cdw0.success.cntlid;
	}
	return 0;
}

int prop_get(struct conn *a, uint32_t ofst, bool eight, uint64_t *val)
{
	struct plx_nvmf_property_get_cmd cmd;
	struct slot *s;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = PLX_NVME_OPC_FABRIC;
	cmd.rsvd1 = 0x40;
	cmd.fctype = PLX_NVMF_FCTYPE_PROPERTY_GET;
	cmd.attrib = eight ? PLX_NVMF_PROP_SIZE_8 : PLX_NVMF_PROP_SIZE_4;
	cmd.ofst = ofst;
	if (conn_exec(a, &cmd, NULL, 0, false, "Property Get", &s) != 0) {
		return -1;
	}
	*val = s->cpl.cdw0 | (eight ? (uint64_t)s->cpl.cdw1 << 32 : 0);
	return 0;
}

int prop_set(struct conn *a, uint32_t ofst, uint32_t val)
{
	struct plx_nvmf_property_set_cmd cmd;
	struct slot *s;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = PLX_NVME_OPC_FABRIC;
	cmd.rsvd1 = 0x40;
	cmd.fctype = PLX_NVMF_FCTYPE_PROPERTY_SET;
	cmd.attrib = PLX_NVMF_PROP_SIZE_4;
	cmd.ofst = ofst;
	cmd.value = val;
	return conn_exec(a, &cmd, NULL, 0, false, "Property Set", &s);
}

int identify(struct conn *a, uint8_t cns, uint32_t nsid, void *out)
{
	struct plx_nvme_cmd cmd;
	struct slot *s;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = PLX_NVME_OPC_IDENTIFY;
	cmd.psdt = 1;
	cmd.nsid = nsid;
	cmd.cdw10 = cns;
	if (conn_exec(a, &cmd, NULL, 4096, true,
		      cns == PLX_NVME_IDENTIFY_CTRLR ? "Identify controller" : "Identify namespace",
		      &s) != 0) {
		return -1;
	}
	memcpy(out, s->buf, 4096);
	return 0;
}
