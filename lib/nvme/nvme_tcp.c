/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe/TCP host transport: one TCP connection per queue pair, command slots allocated
 * once per queue pair (cid = slot index), capsules batched into one writev per process call,
 * one large recv per process call parsed PDU by PDU (nvme_tcp_pdu.c).
 *
 * Sending: submissions wait on send_list; R2Ts put their command on h2c_list. When the
 * socket has taken everything written so far, send_fill turns the waiting work into one
 * iovec array (PDU headers live in the slots, data stays in the caller's buffers) and
 * send_flush writes it. Headers are rebuilt only once the previous array was written in
 * full, so a slot's header buffer is never reused while the kernel may still need it.
 *
 * Receiving: the parser stops after each PDU that completes a command, the receive position
 * is saved, and only then does the completion run: a callback may submit, or even poll this
 * queue pair again, and finds consistent state.
 *
 * Failure (EOF, socket errors, any malformed PDU, a C2HTermReq) closes the connection and
 * marks the qpair failed; the next process call completes every outstanding command with
 * ABORTED_SQ_DELETION. Nothing is completed from inside submit.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvme_internal.h"
#include "nvme_tcp_internal.h"
#include "pollux/log.h"
#include "pollux/sock.h"
#include "pollux/util.h"

enum slot_state {
	SLOT_FREE = 0,
	SLOT_QUEUED, /* on send_list: the capsule is not written yet */
	SLOT_ACTIVE, /* the capsule is (being) written */
};

enum slot_list {
	LIST_NONE = 0,
	LIST_SEND,
	LIST_H2C,
	LIST_DEFERRED,
};

struct tcp_slot {
	struct nvme_request *req;
	uint8_t state;
	uint8_t list;
	uint8_t xfer;
	bool in_capsule;
	bool r2t_active;
	uint16_t cid;
	uint16_t ttag;
	int iovcnt;
	uint32_t len;
	uint32_t c2h_next; /* next C2HData offset expected */
	uint32_t r2t_next; /* next R2T offset expected */
	uint32_t h2c_next; /* next byte to send of the active R2T */
	uint32_t r2t_end;
	uint32_t send_gen; /* the fill round that last put this slot's PDUs into siov */
	uint32_t ddgst;
	uint32_t h2c_ddgst;
	TAILQ_ENTRY(tcp_slot) link;
	struct plx_nvme_cpl cpl; /* a completion waiting for our writes to finish */
	struct iovec iov[NVME_TCP_MAX_SGE];
	uint8_t hdr[NVME_TCP_HDR_BUF] __attribute__((aligned(8)));
	uint8_t h2c_hdr[NVME_TCP_HDR_BUF] __attribute__((aligned(8)));
};

TAILQ_HEAD(slot_list_head, tcp_slot);

struct tcp_qpair {
	struct plx_nvme_qpair qpair; /* first: the core's part */
	struct plx_sock *sock;
	struct nvme_tcp_rx rx;
	struct tcp_slot *slots;
	uint16_t *free_ids;
	uint32_t num_slots;
	uint32_t num_free;
	struct nvme_request **abort_reqs;
	struct slot_list_head send_list;
	struct slot_list_head h2c_list;
	struct slot_list_head deferred_list;
	uint32_t send_queued;
	uint32_t h2c_queued;
	int siov_pos;
	int siov_cnt;
	uint32_t send_gen;
	uint8_t *rxbuf;
	uint32_t rxbuf_size;
	uint32_t rx_pos;
	uint32_t rx_len;
	/* The command the parser just finished, completed once the parser returned. */
	struct tcp_slot *done_slot;
	struct plx_nvme_cpl done_cpl;
	uint32_t completions;
	uint32_t max_completions;
	bool hdgst;
	bool ddgst;
	uint8_t cpda;
	uint32_t maxh2cdata;
	uint32_t max_icd;
	bool failed;
	bool connecting; /* errors go to err, not the log; the deadline applies */
	bool connect_done;
	int connect_status;
	uint64_t connect_deadline;
	char err[NVME_TCP_ERR_LEN];
	uint8_t ic_buf[PLX_NVME_TCP_IC_REQ_HLEN];
	struct iovec siov[NVME_TCP_SIOV_MAX];
};

static const struct nvme_transport_ops g_nvme_tcp_ops;

static inline struct tcp_qpair *tcp_qpair(struct plx_nvme_qpair *qpair)
{
	return (struct tcp_qpair *)qpair;
}

/* Close the connection and mark the qpair failed; its commands are aborted by the next poll. */
static int tcp_fail(struct tcp_qpair *tq, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int tcp_fail(struct tcp_qpair *tq, const char *fmt, ...)
{
	va_list ap;

	if (tq->failed) {
		return -ENXIO;
	}
	va_start(ap, fmt);
	vsnprintf(tq->err, sizeof(tq->err), fmt, ap);
	va_end(ap);
	if (!tq->connecting) {
		PLX_ERRLOG("NVMe/TCP qpair %u (%s:%s): %s\n", tq->qpair.id,
			   tq->qpair.ctrlr->trid.traddr, tq->qpair.ctrlr->trid.trsvcid, tq->err);
	}
	tq->failed = true;
	if (tq->sock != NULL) {
		plx_sock_close(&tq->sock);
	}
	nvme_qpair_set_failed(&tq->qpair);
	return -ENXIO;
}

/* ---- slots ---- */

static inline struct tcp_slot *slot_lookup(struct tcp_qpair *tq, uint16_t cid)
{
	if (cid >= tq->num_slots || tq->slots[cid].state == SLOT_FREE) {
		return NULL;
	}
	return &tq->slots[cid];
}

/*
 * The command of cid if the controller may still send PDUs for it: its capsule is (being)
 * written and its completion has not arrived. A deferred completion only waits for our own
 * writes; a PDU naming that cid now would relink the slot while it sits on deferred_list.
 */
static inline struct tcp_slot *slot_lookup_open(struct tcp_qpair *tq, uint16_t cid)
{
	struct tcp_slot *slot = slot_lookup(tq, cid);

	if (slot == NULL || slot->state != SLOT_ACTIVE || slot->list == LIST_DEFERRED) {
		return NULL;
	}
	return slot;
}

static inline void slot_unlist(struct tcp_qpair *tq, struct tcp_slot *slot)
{
	switch (slot->list) {
	case LIST_SEND:
		TAILQ_REMOVE(&tq->send_list, slot, link);
		tq->send_queued--;
		break;
	case LIST_H2C:
		TAILQ_REMOVE(&tq->h2c_list, slot, link);
		tq->h2c_queued--;
		break;
	case LIST_DEFERRED:
		TAILQ_REMOVE(&tq->deferred_list, slot, link);
		break;
	default:
		break;
	}
	slot->list = LIST_NONE;
}

static inline void slot_release(struct tcp_qpair *tq, struct tcp_slot *slot)
{
	slot->state = SLOT_FREE;
	slot->req = NULL;
	tq->free_ids[tq->num_free++] = slot->cid;
}

/* True while the iovec array being written still points into the slot. */
static inline bool slot_sending(const struct tcp_qpair *tq, const struct tcp_slot *slot)
{
	return tq->siov_pos < tq->siov_cnt && slot->send_gen == tq->send_gen;
}

static void slot_finish(struct tcp_qpair *tq, struct tcp_slot *slot, const struct plx_nvme_cpl *cpl)
{
	struct nvme_request *req = slot->req;

	slot_release(tq, slot);
	tq->completions++;
	nvme_qpair_complete_request(&tq->qpair, req, cpl);
}

/* A command's completion arrived: hand it to the poll loop, or park it until our writes end. */
static void slot_completed(struct tcp_qpair *tq, struct tcp_slot *slot,
			   const struct plx_nvme_cpl *cpl)
{
	slot_unlist(tq, slot);
	slot->r2t_active = false;
	if (slot_sending(tq, slot)) {
		slot->cpl = *cpl;
		slot->list = LIST_DEFERRED;
		TAILQ_INSERT_TAIL(&tq->deferred_list, slot, link);
		return;
	}
	tq->done_slot = slot;
	tq->done_cpl = *cpl;
	tq->rx.stop = true;
}

/* The payload as iovecs: contiguous, or walked through the caller's SGL callbacks. */
static int slot_set_payload(struct tcp_slot *slot, struct nvme_request *req, uint32_t len)
{
	struct nvme_payload *p = &req->payload;
	uint32_t left = len;
	int n = 0;

	slot->iovcnt = 0;
	if (len == 0) {
		return 0;
	}
	if (p->type == NVME_PAYLOAD_CONTIG) {
		slot->iov[0].iov_base = p->buf;
		slot->iov[0].iov_len = len;
		slot->iovcnt = 1;
		return 0;
	}
	if (p->type != NVME_PAYLOAD_SGL || p->reset_sgl == NULL || p->next_sge == NULL) {
		return -EINVAL;
	}
	p->reset_sgl(p->sgl_arg, 0);
	while (left > 0) {
		void *addr;
		uint32_t l;

		if (n == NVME_TCP_MAX_SGE || p->next_sge(p->sgl_arg, &addr, &l) != 0 || l == 0) {
			return -EINVAL;
		}
		l = PLX_MIN(l, left);
		slot->iov[n].iov_base = addr;
		slot->iov[n].iov_len = l;
		left -= l;
		n++;
	}
	slot->iovcnt = n;
	return 0;
}

/* Data direction from the opcode, or the fabrics command type. */
static inline uint8_t cmd_xfer(const struct plx_nvme_cmd *cmd)
{
	if (cmd->opc == PLX_NVME_OPC_FABRIC) {
		return ((const struct plx_nvmf_capsule_cmd *)cmd)->fctype & 3;
	}
	return cmd->opc & 3;
}

/* ---- sending ---- */

static bool send_fill_h2c(struct tcp_qpair *tq, struct tcp_slot *slot, int *cnt)
{
	int c = *cnt, k;
	uint32_t len = PLX_MIN(tq->maxh2cdata, slot->r2t_end - slot->h2c_next);
	bool last = slot->h2c_next + len == slot->r2t_end;

	if (c + slot->iovcnt + 2 > NVME_TCP_SIOV_MAX) {
		return false;
	}
	tq->siov[c].iov_base = slot->h2c_hdr;
	tq->siov[c++].iov_len =
	    nvme_tcp_build_h2c(slot->h2c_hdr, slot->cid, slot->ttag, slot->h2c_next, len, last,
			       tq->hdgst, tq->ddgst, tq->cpda);
	k = nvme_tcp_iov_slice(&tq->siov[c], NVME_TCP_SIOV_MAX - c, slot->iov, slot->iovcnt,
			       slot->h2c_next, len);
	if (tq->ddgst) {
		slot->h2c_ddgst = nvme_tcp_iov_crc32c(&tq->siov[c], k);
		tq->siov[c + k].iov_base = &slot->h2c_ddgst;
		tq->siov[c + k].iov_len = PLX_NVME_TCP_DIGEST_LEN;
		k++;
	}
	*cnt = c + k;
	slot->h2c_next += len;
	slot->send_gen = tq->send_gen;
	slot_unlist(tq, slot);
	if (last) {
		slot->r2t_active = false;
	} else {
		slot->list = LIST_H2C;
		TAILQ_INSERT_TAIL(&tq->h2c_list, slot, link);
		tq->h2c_queued++;
	}
	return true;
}

static bool send_fill_capsule(struct tcp_qpair *tq, struct tcp_slot *slot, int *cnt)
{
	int c = *cnt, k = slot->in_capsule ? slot->iovcnt : 0;
	uint32_t icd = slot->in_capsule ? slot->len : 0;

	if (c + 2 + k > NVME_TCP_SIOV_MAX) {
		return false;
	}
	tq->siov[c].iov_base = slot->hdr;
	tq->siov[c++].iov_len =
	    nvme_tcp_build_capsule(slot->hdr, &slot->req->cmd, icd, tq->hdgst, tq->ddgst, tq->cpda);
	if (k > 0) {
		memcpy(&tq->siov[c], slot->iov, sizeof(struct iovec) * (size_t)k);
		c += k;
		if (tq->ddgst) {
			slot->ddgst = nvme_tcp_iov_crc32c(slot->iov, k);
			tq->siov[c].iov_base = &slot->ddgst;
			tq->siov[c++].iov_len = PLX_NVME_TCP_DIGEST_LEN;
		}
	}
	*cnt = c;
	slot->state = SLOT_ACTIVE;
	slot->send_gen = tq->send_gen;
	slot_unlist(tq, slot);
	return true;
}

/* Build the next iovec array from the waiting work (one H2CData PDU per slot per round). */
static bool send_fill(struct tcp_qpair *tq)
{
	struct tcp_slot *slot;
	uint32_t n = tq->h2c_queued;
	int cnt = 0;

	tq->send_gen++;
	while (n-- > 0 && (slot = TAILQ_FIRST(&tq->h2c_list)) != NULL) {
		if (!send_fill_h2c(tq, slot, &cnt)) {
			break;
		}
	}
	while ((slot = TAILQ_FIRST(&tq->send_list)) != NULL) {
		if (!send_fill_capsule(tq, slot, &cnt)) {
			break;
		}
	}
	tq->siov_pos = 0;
	tq->siov_cnt = cnt;
	return cnt > 0;
}

static void send_advance(struct tcp_qpair *tq, size_t n)
{
	while (n > 0 && tq->siov_pos < tq->siov_cnt) {
		struct iovec *v = &tq->siov[tq->siov_pos];

		if (n < v->iov_len) {
			v->iov_base = (uint8_t *)v->iov_base + n;
			v->iov_len -= n;
			return;
		}
		n -= v->iov_len;
		tq->siov_pos++;
	}
}

static inline bool send_pending(const struct tcp_qpair *tq)
{
	return tq->siov_pos < tq->siov_cnt || tq->send_queued > 0 || tq->h2c_queued > 0;
}

/* Write what waits until done or the socket is full. Never completes commands. */
static int send_flush(struct tcp_qpair *tq)
{
	for (;;) {
		ssize_t n;

		if (tq->siov_pos == tq->siov_cnt && !send_fill(tq)) {
			return 0;
		}
		n = plx_sock_writev(tq->sock, &tq->siov[tq->siov_pos], tq->siov_cnt - tq->siov_pos);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				return 0;
			}
			return tcp_fail(tq, "send failed: %s", strerror(errno));
		}
		send_advance(tq, (size_t)n);
		if (tq->siov_pos < tq->siov_cnt) {
			return 0;
		}
	}
}

/* ---- submission ---- */

static int tcp_submit(struct plx_nvme_qpair *qpair, struct nvme_request *req)
{
	struct tcp_qpair *tq = tcp_qpair(qpair);
	struct tcp_slot *slot;
	struct plx_nvme_sgl_desc *sgl = &req->cmd.dptr.sgl1;
	uint32_t len;

	if (__builtin_expect(tq->failed || tq->sock == NULL, 0)) {
		return -ENXIO;
	}
	if (tq->num_free == 0) {
		return -EAGAIN;
	}
	slot = &tq->slots[tq->free_ids[tq->num_free - 1]];
	slot->xfer = cmd_xfer(&req->cmd);
	len = slot->xfer == PLX_NVME_DATA_NONE ? 0 : req->payload_size;
	if (__builtin_expect(slot->xfer == PLX_NVME_DATA_BIDIRECTIONAL && len > 0, 0) ||
	    __builtin_expect(slot_set_payload(slot, req, len) != 0, 0)) {
		PLX_ERRLOG("NVMe/TCP qpair %u: cannot map the payload of opcode 0x%x (%u bytes)\n",
			   qpair->id, req->cmd.opc, len);
		return -EINVAL;
	}
	tq->num_free--;
	slot->req = req;
	slot->len = len;
	slot->c2h_next = 0;
	slot->r2t_next = 0;
	slot->r2t_active = false;
	slot->in_capsule = slot->xfer == PLX_NVME_DATA_HOST_TO_CONTROLLER && len <= tq->max_icd;
	req->transport_cid = slot->cid;
	req->cmd.cid = slot->cid;
	req->cmd.psdt = 1;
	sgl->address = 0;
	sgl->unkeyed.length = len;
	memset(sgl->unkeyed.rsvd, 0, sizeof(sgl->unkeyed.rsvd));
	if (slot->in_capsule && len > 0) {
		sgl->unkeyed.type = PLX_NVME_SGL_TYPE_DATA_BLOCK;
		sgl->unkeyed.subtype = PLX_NVME_SGL_SUBTYPE_OFFSET;
	} else {
		sgl->unkeyed.type = PLX_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK;
		sgl->unkeyed.subtype = PLX_NVME_SGL_SUBTYPE_TRANSPORT;
	}
	slot->state = SLOT_QUEUED;
	slot->list = LIST_SEND;
	TAILQ_INSERT_TAIL(&tq->send_list, slot, link);
	tq->send_queued++;
	if ((!qpair->delay_cmd_submit || tq->send_queued >= NVME_TCP_BATCH_MAX) &&
	    tq->siov_pos == tq->siov_cnt) {
		/* A failure here is reported by the next poll, which aborts everything. */
		send_flush(tq);
	}
	return 0;
}

/* ---- receiving ---- */

static int rx_bad(struct tcp_qpair *tq, const char *fmt, unsigned a, unsigned b)
{
	snprintf(tq->rx.err, sizeof(tq->rx.err), fmt, a, b);
	return -EPROTO;
}

static int rx_on_header(void *ctx, struct nvme_tcp_rx *rx)
{
	struct tcp_qpair *tq = ctx;
	const struct plx_nvme_tcp_c2h_data_hdr *c2h = &rx->hdr.c2h_data;
	struct tcp_slot *slot;
	uint64_t end;

	if (rx->hdr.common.pdu_type != PLX_NVME_TCP_PDU_C2H_DATA) {
		return 0;
	}
	slot = slot_lookup_open(tq, c2h->cccid);
	end = (uint64_t)c2h->datao + c2h->datal;
	if (slot == NULL) {
		return rx_bad(tq, "C2HData for unknown cid %u%.0u", c2h->cccid, 0);
	}
	if (slot->xfer != PLX_NVME_DATA_CONTROLLER_TO_HOST) {
		return rx_bad(tq, "C2HData for cid %u, opcode 0x%x reads nothing", c2h->cccid,
			      slot->req->cmd.opc);
	}
	if (c2h->datao != slot->c2h_next || end > slot->len) {
		return rx_bad(tq, "C2HData datao %u datal %u out of order or range", c2h->datao,
			      c2h->datal);
	}
	if ((c2h->common.flags & PLX_NVME_TCP_DATA_FLAGS_LAST_PDU) && end != slot->len) {
		return rx_bad(tq, "C2HData LAST_PDU at %u of %u bytes", (unsigned)end, slot->len);
	}
	if ((c2h->common.flags & PLX_NVME_TCP_C2H_DATA_FLAGS_SUCCESS) &&
	    !(c2h->common.flags & PLX_NVME_TCP_DATA_FLAGS_LAST_PDU)) {
		return rx_bad(tq, "C2HData cid %u: SUCCESS without LAST_PDU%.0u", c2h->cccid, 0);
	}
	nvme_tcp_rx_set_dst(rx, slot->iov, slot->iovcnt, c2h->datao);
	return 0;
}

static int rx_on_ic_resp(struct tcp_qpair *tq, struct nvme_tcp_rx *rx)
{
	const struct plx_nvme_tcp_ic_resp *ic = &rx->hdr.ic_resp;
	const struct plx_nvme_ctrlr_opts *o = &tq->qpair.ctrlr->opts;
	int rc = nvme_tcp_check_ic_resp(ic, o->header_digest, o->data_digest, rx->err);

	if (rc != 0) {
		return rc;
	}
	tq->hdgst = rx->hdgst = (ic->dgst & PLX_NVME_TCP_HDGST_ENABLE) != 0;
	tq->ddgst = rx->ddgst = (ic->dgst & PLX_NVME_TCP_DDGST_ENABLE) != 0;
	tq->cpda = ic->cpda;
	tq->maxh2cdata = ic->maxh2cdata;
	rx->ic_done = true;
	rx->stop = true;
	return 0;
}

static int rx_on_r2t(struct tcp_qpair *tq, const struct plx_nvme_tcp_r2t_hdr *r2t)
{
	struct tcp_slot *slot = slot_lookup_open(tq, r2t->cccid);
	uint64_t end = (uint64_t)r2t->r2to + r2t->r2tl;

	if (slot == NULL || slot->xfer != PLX_NVME_DATA_HOST_TO_CONTROLLER || slot->in_capsule) {
		return rx_bad(tq, "R2T for cid %u that expects none%.0u", r2t->cccid, 0);
	}
	if (slot->r2t_active || r2t->r2tl == 0 || r2t->r2to != slot->r2t_next || end > slot->len) {
		return rx_bad(tq, "R2T r2to %u r2tl %u out of order or range", r2t->r2to,
			      r2t->r2tl);
	}
	slot->ttag = r2t->ttag;
	slot->h2c_next = r2t->r2to;
	slot->r2t_end = (uint32_t)end;
	slot->r2t_next = (uint32_t)end;
	slot->r2t_active = true;
	slot->list = LIST_H2C;
	TAILQ_INSERT_TAIL(&tq->h2c_list, slot, link);
	tq->h2c_queued++;
	return 0;
}

static int rx_on_pdu(void *ctx, struct nvme_tcp_rx *rx)
{
	struct tcp_qpair *tq = ctx;
	struct tcp_slot *slot;
	struct plx_nvme_cpl cpl;

	switch (rx->hdr.common.pdu_type) {
	case PLX_NVME_TCP_PDU_IC_RESP:
		return rx_on_ic_resp(tq, rx);
	case PLX_NVME_TCP_PDU_CAPSULE_RESP:
		cpl = rx->hdr.capsule_resp.rccqe;
		slot = slot_lookup_open(tq, cpl.cid);
		if (slot == NULL) {
			return rx_bad(tq, "CapsuleResp for unknown cid %u%.0u", cpl.cid, 0);
		}
		/* Success with data missing would hand the caller a buffer the controller never
		 * filled (a stale or duplicate completion): fail instead. */
		if (slot->xfer == PLX_NVME_DATA_CONTROLLER_TO_HOST && slot->c2h_next != slot->len &&
		    !plx_nvme_cpl_is_error(&cpl)) {
			return rx_bad(tq, "CapsuleResp: success after %u of %u bytes of data",
				      slot->c2h_next, slot->len);
		}
		slot_completed(tq, slot, &cpl);
		return 0;
	case PLX_NVME_TCP_PDU_C2H_DATA:
		slot = &tq->slots[rx->hdr.c2h_data.cccid]; /* checked by rx_on_header */
		slot->c2h_next += rx->hdr.c2h_data.datal;
		if (rx->hdr.common.flags & PLX_NVME_TCP_C2H_DATA_FLAGS_SUCCESS) {
			memset(&cpl, 0, sizeof(cpl));
			cpl.cid = slot->cid;
			cpl.sqid = tq->qpair.id;
			slot_completed(tq, slot, &cpl);
		}
		return 0;
	case PLX_NVME_TCP_PDU_R2T:
		return rx_on_r2t(tq, &rx->hdr.r2t);
	default:
		return rx_bad(tq, "unexpected PDU type 0x%x%.0u", rx->hdr.common.pdu_type, 0);
	}
}

static inline bool max_reached(const struct tcp_qpair *tq)
{
	return tq->max_completions != 0 && tq->completions >= tq->max_completions;
}

/* Parse what the receive buffer holds, completing commands between PDUs. */
static int rx_parse(struct tcp_qpair *tq)
{
	while (tq->rx_pos < tq->rx_len && !max_reached(tq)) {
		ssize_t n =
		    nvme_tcp_rx_feed(&tq->rx, tq->rxbuf + tq->rx_pos, tq->rx_len - tq->rx_pos);

		if (n < 0) {
			return tcp_fail(tq, "%s", tq->rx.err);
		}
		tq->rx_pos += (uint32_t)n;
		if (tq->done_slot != NULL) {
			struct tcp_slot *slot = tq->done_slot;

			tq->done_slot = NULL;
			slot_finish(tq, slot, &tq->done_cpl);
			if (tq->failed) {
				return -ENXIO;
			}
		}
	}
	return 0;
}

static int rx_poll(struct tcp_qpair *tq)
{
	ssize_t n;
	int rc = rx_parse(tq);

	if (rc != 0 || max_reached(tq) || tq->rx_pos < tq->rx_len) {
		return rc;
	}
	/* Nothing outstanding, nothing half-read: no reason for a system call. */
	if (tq->num_free == tq->num_slots && tq->rx.ic_done && tq->rx.state == NVME_TCP_RX_CH &&
	    tq->rx.hdr_got == 0) {
		return 0;
	}
	n = plx_sock_recv(tq->sock, tq->rxbuf, tq->rxbuf_size);
	if (n <= 0) {
		if (n == 0) {
			return tcp_fail(tq, "connection closed by the controller");
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			return 0;
		}
		return tcp_fail(tq, "receive failed: %s", strerror(errno));
	}
	tq->rx_pos = 0;
	tq->rx_len = (uint32_t)n;
	return rx_parse(tq);
}

/* ---- aborting ---- */

/* Complete everything held with ABORTED_SQ_DELETION; the connection must be gone. */
static void tcp_abort_all(struct tcp_qpair *tq, bool dnr)
{
	uint32_t n = 0;

	tq->siov_pos = tq->siov_cnt = 0;
	TAILQ_INIT(&tq->send_list);
	TAILQ_INIT(&tq->h2c_list);
	TAILQ_INIT(&tq->deferred_list);
	tq->send_queued = tq->h2c_queued = 0;
	tq->done_slot = NULL;
	tq->rx_pos = tq->rx_len = 0;
	/* Collect first: callbacks may submit again and take slots. */
	for (uint32_t i = 0; i < tq->num_slots; i++) {
		struct tcp_slot *slot = &tq->slots[i];

		if (slot->state != SLOT_FREE) {
			tq->abort_reqs[n++] = slot->req;
			slot->list = LIST_NONE;
			slot_release(tq, slot);
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		struct nvme_request *req = tq->abort_reqs[i];
		struct plx_nvme_cpl cpl = {.sqid = tq->qpair.id, .cid = req->transport_cid};

		cpl.status.sct = PLX_NVME_SCT_GENERIC;
		cpl.status.sc = PLX_NVME_SC_ABORTED_SQ_DELETION;
		cpl.status.dnr = dnr;
		nvme_qpair_complete_request(&tq->qpair, req, &cpl);
	}
}

/* ---- polling ---- */

static void run_deferred(struct tcp_qpair *tq)
{
	struct tcp_slot *slot;

	while (tq->siov_pos == tq->siov_cnt && !tq->failed &&
	       (slot = TAILQ_FIRST(&tq->deferred_list)) != NULL) {
		slot_unlist(tq, slot);
		slot_finish(tq, slot, &slot->cpl);
	}
}

static int32_t tcp_process(struct plx_nvme_qpair *qpair, uint32_t max)
{
	struct tcp_qpair *tq = tcp_qpair(qpair);

	if (__builtin_expect(tq->connecting, 0) && !tq->failed &&
	    nvme_ticks() > tq->connect_deadline) {
		tcp_fail(tq, "no answer from the controller within %u ms", NVME_CONNECT_TIMEOUT_MS);
	}
	if (__builtin_expect(tq->failed || tq->sock == NULL, 0)) {
		tcp_abort_all(tq, true);
		return -ENXIO;
	}
	tq->completions = 0;
	tq->max_completions = max;
	if (send_pending(tq)) {
		send_flush(tq);
	}
	if (!tq->failed) {
		rx_poll(tq);
	}
	/* What completions submitted, and the data R2Ts asked for, go out in this call too. */
	if (!tq->failed && send_pending(tq)) {
		send_flush(tq);
	}
	if (!TAILQ_EMPTY(&tq->deferred_list)) {
		run_deferred(tq);
	}
	if (tq->failed) {
		tcp_abort_all(tq, true);
		return -ENXIO;
	}
	return (int32_t)tq->completions;
}

static void tcp_abort_reqs(struct plx_nvme_qpair *qpair, bool dnr)
{
	struct tcp_qpair *tq = tcp_qpair(qpair);

	/* Commands the controller still owns cannot be taken back on a live connection. */
	if (tq->sock != NULL) {
		plx_sock_close(&tq->sock);
	}
	tcp_abort_all(tq, dnr);
}

/* ---- queue pair life ---- */

static void tcp_qpair_free(struct tcp_qpair *tq)
{
	if (tq->sock != NULL) {
		plx_sock_close(&tq->sock);
	}
	free(tq->slots);
	free(tq->free_ids);
	free(tq->abort_reqs);
	free(tq->rxbuf);
	free(tq);
}

static struct tcp_qpair *tcp_qpair_alloc(struct plx_nvme_ctrlr *ctrlr, uint16_t qid,
					 uint32_t entries, uint32_t requests, bool delay)
{
	struct tcp_qpair *tq = calloc(1, sizeof(*tq));

	if (tq == NULL) {
		return NULL;
	}
	tq->num_slots = PLX_MIN(entries, 65535u);
	tq->rxbuf_size = qid == 0 ? NVME_TCP_RXBUF_ADMIN : NVME_TCP_RXBUF_IO;
	tq->slots = calloc(tq->num_slots, sizeof(*tq->slots));
	tq->free_ids = calloc(tq->num_slots, sizeof(*tq->free_ids));
	tq->abort_reqs = calloc(tq->num_slots, sizeof(*tq->abort_reqs));
	tq->rxbuf = malloc(tq->rxbuf_size);
	if (tq->slots == NULL || tq->free_ids == NULL || tq->abort_reqs == NULL ||
	    tq->rxbuf == NULL) {
		tcp_qpair_free(tq);
		return NULL;
	}
	for (uint32_t i = 0; i < tq->num_slots; i++) {
		tq->slots[i].cid = (uint16_t)i;
	}
	if (nvme_qpair_init(&tq->qpair, ctrlr, qid, entries, requests, delay) != 0) {
		tcp_qpair_free(tq);
		return NULL;
	}
	return tq;
}

/* Fresh connection state: every slot free, nothing queued, the parser waiting for ICResp. */
static void tcp_qpair_reset(struct tcp_qpair *tq)
{
	tq->num_free = 0;
	for (uint32_t i = tq->num_slots; i-- > 0;) {
		tq->slots[i].state = SLOT_FREE;
		tq->slots[i].list = LIST_NONE;
		tq->slots[i].req = NULL;
		tq->free_ids[tq->num_free++] = (uint16_t)i;
	}
	TAILQ_INIT(&tq->send_list);
	TAILQ_INIT(&tq->h2c_list);
	TAILQ_INIT(&tq->deferred_list);
	tq->send_queued = tq->h2c_queued = 0;
	tq->siov_pos = tq->siov_cnt = 0;
	tq->rx_pos = tq->rx_len = 0;
	tq->done_slot = NULL;
	tq->failed = false;
	tq->hdgst = tq->ddgst = false;
	tq->err[0] = '\0';
	nvme_tcp_rx_init(&tq->rx, rx_on_header, rx_on_pdu, tq);
}

static void connect_done_cb(void *arg, int status)
{
	struct tcp_qpair *tq = arg;

	tq->connect_done = true;
	tq->connect_status = status;
}

static bool deadline_passed(const struct tcp_qpair *tq)
{
	return nvme_ticks() > tq->connect_deadline;
}

static int tcp_sock_connect(struct tcp_qpair *tq)
{
	const struct plx_nvme_trid *trid = &tq->qpair.ctrlr->trid;
	char *end;
	long port = strtol(trid->trsvcid, &end, 10);

	if (trid->trsvcid[0] == '\0' || *end != '\0' || port <= 0 || port > 65535) {
		snprintf(tq->err, sizeof(tq->err), "invalid trsvcid '%s'", trid->trsvcid);
		return -EINVAL;
	}
	tq->connect_done = false;
	tq->sock = plx_sock_connect_async(trid->traddr, (int)port, NULL, connect_done_cb, tq);
	if (tq->sock == NULL) {
		snprintf(tq->err, sizeof(tq->err), "connect to %.64s:%.32s: %s", trid->traddr,
			 trid->trsvcid, strerror(errno));
		return -errno;
	}
	while (!tq->connect_done) {
		if (plx_sock_connect_poll(tq->sock) == 0) {
			if (deadline_passed(tq)) {
				tq->connect_status = -ETIMEDOUT;
				break;
			}
			usleep(20);
		}
	}
	if (tq->connect_status != 0) {
		snprintf(tq->err, sizeof(tq->err), "connect to %.64s:%.32s: %s", trid->traddr,
			 trid->trsvcid, strerror(-tq->connect_status));
		plx_sock_close(&tq->sock);
		return tq->connect_status;
	}
	return 0;
}

/* ICReq out, ICResp in, within the connect deadline. */
static int tcp_ic_exchange(struct tcp_qpair *tq)
{
	const struct plx_nvme_ctrlr_opts *o = &tq->qpair.ctrlr->opts;
	uint32_t len = nvme_tcp_build_ic_req(tq->ic_buf, o->header_digest, o->data_digest);
	uint32_t sent = 0;

	while (sent < len) {
		struct iovec iov = {.iov_base = tq->ic_buf + sent, .iov_len = len - sent};
		ssize_t n = plx_sock_writev(tq->sock, &iov, 1);

		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return tcp_fail(tq, "ICReq: send failed: %s", strerror(errno));
		}
		sent += n > 0 ? (uint32_t)n : 0;
		if (sent < len && deadline_passed(tq)) {
			return tcp_fail(tq, "ICReq: not sent within %u ms",
					NVME_CONNECT_TIMEOUT_MS);
		}
	}
	while (!tq->rx.ic_done) {
		if (rx_poll(tq) != 0) {
			return -ENXIO;
		}
		if (!tq->rx.ic_done) {
			if (deadline_passed(tq)) {
				return tcp_fail(tq, "ICResp: none within %u ms",
						NVME_CONNECT_TIMEOUT_MS);
			}
			usleep(20);
		}
	}
	/* ICResp ends the exchange: anything after it is parsed as ordinary PDUs. */
	return rx_parse(tq);
}

static void hostid_defaults(struct plx_nvme_ctrlr_opts *o)
{
	static uint8_t g_hostid[16];
	static const uint8_t zero[16];

	if (memcmp(o->hostid, zero, sizeof(zero)) == 0) {
		if (memcmp(g_hostid, zero, sizeof(zero)) == 0) {
			struct plx_uuid u;

			plx_uuid_generate(&u);
			memcpy(g_hostid, &u, sizeof(g_hostid));
		}
		memcpy(o->hostid, g_hostid, sizeof(o->hostid));
	}
	if (o->hostnqn[0] == '\0') {
		char s[PLX_UUID_STRING_LEN];
		struct plx_uuid u;

		memcpy(&u, o->hostid, sizeof(o->hostid));
		plx_uuid_fmt_lower(s, sizeof(s), &u);
		snprintf(o->hostnqn, sizeof(o->hostnqn), "%s%s", PLX_NVMF_NQN_UUID_PRE, s);
	}
}

struct io_connect_ctx {
	bool done;
	struct plx_nvme_cpl cpl;
};

static void io_connect_cb(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct io_connect_ctx *ctx = arg;

	ctx->cpl = *cpl;
	ctx->done = true;
}

/* The fabrics Connect: on the admin queue through the core, on an I/O queue by polling it. */
static int tcp_fabric_connect(struct tcp_qpair *tq)
{
	struct plx_nvme_ctrlr *ctrlr = tq->qpair.ctrlr;
	struct plx_nvmf_connect_cmd c = {.opcode = PLX_NVME_OPC_FABRIC,
					 .fctype = PLX_NVMF_FCTYPE_CONNECT};
	struct plx_nvmf_connect_data *data = calloc(1, sizeof(*data));
	struct io_connect_ctx ctx = {0};
	const char *subnqn =
	    ctrlr->trid.subnqn[0] != '\0' ? ctrlr->trid.subnqn : PLX_NVMF_DISCOVERY_NQN;
	int rc;

	if (data == NULL) {
		return -ENOMEM;
	}
	c.qid = tq->qpair.id;
	c.sqsize = (uint16_t)(tq->qpair.num_entries - 1);
	c.kato = tq->qpair.id == 0 ? ctrlr->opts.keep_alive_timeout_ms : 0;
	memcpy(data->hostid, ctrlr->opts.hostid, sizeof(data->hostid));
	data->cntlid = tq->qpair.id == 0 ? 0xffff : ctrlr->cntlid;
	snprintf(data->subnqn, sizeof(data->subnqn), "%s", subnqn);
	snprintf(data->hostnqn, sizeof(data->hostnqn), "%s", ctrlr->opts.hostnqn);
	if (tq->qpair.id == 0) {
		rc = nvme_ctrlr_cmd_admin_sync(ctrlr, (struct plx_nvme_cmd *)&c, data,
					       sizeof(*data), &ctx.cpl);
		ctx.done = true;
	} else {
		rc = plx_nvme_ctrlr_cmd_io_raw(ctrlr, &tq->qpair, (struct plx_nvme_cmd *)&c, data,
					       sizeof(*data), io_connect_cb, &ctx);
		while (rc == 0 && !ctx.done) {
			if (tcp_process(&tq->qpair, 0) < 0 && !ctx.done) {
				rc = -ENXIO;
			}
		}
	}
	free(data);
	if (tq->failed) {
		return -ENXIO;
	}
	if (rc != 0 && !(ctx.done && plx_nvme_cpl_is_error(&ctx.cpl))) {
		snprintf(tq->err, sizeof(tq->err), "Connect (qid %u) failed: %s", c.qid,
			 strerror(-rc));
		return rc;
	}
	if (plx_nvme_cpl_is_error(&ctx.cpl)) {
		snprintf(tq->err, sizeof(tq->err),
			 "Connect (qid %u) rejected: %s (sct %u sc 0x%02x)", c.qid,
			 plx_nvme_status_string(&ctx.cpl.status), ctx.cpl.status.sct,
			 ctx.cpl.status.sc);
		return -EIO;
	}
	if (tq->qpair.id == 0) {
		ctrlr->cntlid = (uint16_t)(ctx.cpl.cdw0 & 0xffff);
	}
	return 0;
}

/* Connect (or reconnect) a queue pair; tq->err says why it failed. */
static int tcp_qpair_connect_err(struct tcp_qpair *tq)
{
	struct plx_nvme_ctrlr *ctrlr = tq->qpair.ctrlr;
	const struct plx_nvme_ctrlr_data *cd = &ctrlr->cdata;
	int rc;

	if (tq->sock != NULL) {
		plx_sock_close(&tq->sock);
	}
	tcp_qpair_reset(tq);
	if (tq->qpair.id == 0) {
		tq->max_icd = NVME_TCP_ADMIN_ICD;
	} else {
		tq->max_icd = cd->ioccsz * 16u > sizeof(struct plx_nvme_cmd)
				  ? cd->ioccsz * 16u - (uint32_t)sizeof(struct plx_nvme_cmd)
				  : 0;
	}
	tq->connecting = true;
	tq->connect_deadline = nvme_ticks() + NVME_CONNECT_TIMEOUT_MS * nvme_ticks_per_ms();
	tq->qpair.state = NVME_QPAIR_CONNECTING;
	rc = tcp_sock_connect(tq);
	if (rc == 0) {
		rc = tcp_ic_exchange(tq);
	}
	if (rc == 0) {
		/* The transport is up: the Connect command itself flows like any command. */
		tq->qpair.state = NVME_QPAIR_CONNECTED;
		rc = tcp_fabric_connect(tq);
	}
	tq->connecting = false;
	if (rc != 0) {
		if (tq->sock != NULL) {
			plx_sock_close(&tq->sock);
		}
		tcp_abort_all(tq, true);
		tq->failed = false;
		tq->qpair.state = NVME_QPAIR_DISCONNECTED;
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

/* ---- transport ops ---- */

static struct plx_nvme_ctrlr *tcp_ctrlr_construct(const struct plx_nvme_trid *trid,
						  const struct plx_nvme_ctrlr_opts *opts, char *err)
{
	struct plx_nvme_ctrlr *ctrlr = calloc(1, sizeof(*ctrlr));
	struct tcp_qpair *tq;
	uint32_t aq;

	if (ctrlr == NULL) {
		snprintf(err, PLX_NVME_ERR_LEN, "out of memory");
		return NULL;
	}
	nvme_ctrlr_lock_init(ctrlr);
	ctrlr->transport = &g_nvme_tcp_ops;
	ctrlr->trid = *trid;
	ctrlr->opts = *opts;
	ctrlr->state = NVME_CTRLR_INIT;
	ctrlr->cntlid = 0xffff;
	TAILQ_INIT(&ctrlr->io_qpairs);
	hostid_defaults(&ctrlr->opts);
	aq = ctrlr->opts.admin_queue_size >= 2 ? ctrlr->opts.admin_queue_size
					       : NVME_ADMIN_QUEUE_SIZE_DEFAULT;
	tq = tcp_qpair_alloc(ctrlr, 0, aq, aq, false);
	if (tq == NULL) {
		snprintf(err, PLX_NVME_ERR_LEN, "out of memory for the admin queue");
		free(ctrlr);
		return NULL;
	}
	ctrlr->adminq = &tq->qpair;
	if (tcp_qpair_connect_err(tq) != 0) {
		snprintf(err, PLX_NVME_ERR_LEN, "%.64s:%.32s: %.150s", trid->traddr, trid->trsvcid,
			 tq->err);
		nvme_qpair_fini(&tq->qpair);
		tcp_qpair_free(tq);
		free(ctrlr);
		return NULL;
	}
	return ctrlr;
}

static void tcp_qpair_destroy(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair);

static void tcp_ctrlr_destruct(struct plx_nvme_ctrlr *ctrlr)
{
	if (ctrlr->adminq != NULL) {
		tcp_qpair_destroy(ctrlr, ctrlr->adminq);
		ctrlr->adminq = NULL;
	}
	free(ctrlr);
}

static int tcp_prop_get(struct plx_nvme_ctrlr *ctrlr, uint32_t offset, uint8_t size, uint64_t *v)
{
	struct plx_nvmf_property_get_cmd c = {.opcode = PLX_NVME_OPC_FABRIC,
					      .fctype = PLX_NVMF_FCTYPE_PROPERTY_GET,
					      .attrib = size,
					      .ofst = offset};
	struct plx_nvme_cpl cpl = {0};
	int rc = nvme_ctrlr_cmd_admin_sync(ctrlr, (struct plx_nvme_cmd *)&c, NULL, 0, &cpl);

	if (rc == 0 && plx_nvme_cpl_is_error(&cpl)) {
		rc = -EIO;
	}
	if (rc != 0) {
		PLX_ERRLOG("Property Get 0x%x: %s (sct %u sc 0x%02x)\n", offset,
			   rc == -EIO ? plx_nvme_status_string(&cpl.status) : strerror(-rc),
			   cpl.status.sct, cpl.status.sc);
		return rc;
	}
	*v = cpl.cdw0 | (size == PLX_NVMF_PROP_SIZE_8 ? (uint64_t)cpl.cdw1 << 32 : 0);
	return 0;
}

static int tcp_get_reg_4(struct plx_nvme_ctrlr *ctrlr, uint32_t offset, uint32_t *value)
{
	uint64_t v;
	int rc = tcp_prop_get(ctrlr, offset, PLX_NVMF_PROP_SIZE_4, &v);

	if (rc == 0) {
		*value = (uint32_t)v;
	}
	return rc;
}

static int tcp_get_reg_8(struct plx_nvme_ctrlr *ctrlr, uint32_t offset, uint64_t *value)
{
	return tcp_prop_get(ctrlr, offset, PLX_NVMF_PROP_SIZE_8, value);
}

static int tcp_set_reg_4(struct plx_nvme_ctrlr *ctrlr, uint32_t offset, uint32_t value)
{
	struct plx_nvmf_property_set_cmd c = {.opcode = PLX_NVME_OPC_FABRIC,
					      .fctype = PLX_NVMF_FCTYPE_PROPERTY_SET,
					      .attrib = PLX_NVMF_PROP_SIZE_4,
					      .ofst = offset,
					      .value = value};
	struct plx_nvme_cpl cpl = {0};
	int rc = nvme_ctrlr_cmd_admin_sync(ctrlr, (struct plx_nvme_cmd *)&c, NULL, 0, &cpl);

	if (rc == 0 && plx_nvme_cpl_is_error(&cpl)) {
		rc = -EIO;
	}
	if (rc != 0) {
		PLX_ERRLOG("Property Set 0x%x = 0x%x: %s (sct %u sc 0x%02x)\n", offset, value,
			   rc == -EIO ? plx_nvme_status_string(&cpl.status) : strerror(-rc),
			   cpl.status.sct, cpl.status.sc);
	}
	return rc;
}

static uint32_t tcp_get_max_xfer_size(struct plx_nvme_ctrlr *ctrlr)
{
	return NVME_TCP_MAX_XFER;
}

static struct plx_nvme_qpair *tcp_qpair_create(struct plx_nvme_ctrlr *ctrlr, uint16_t qid,
					       const struct plx_nvme_io_qpair_opts *opts)
{
	uint32_t entries =
	    opts->io_queue_size != 0 ? opts->io_queue_size : ctrlr->opts.io_queue_size;
	uint32_t requests =
	    opts->io_queue_requests != 0 ? opts->io_queue_requests : ctrlr->opts.io_queue_requests;
	struct tcp_qpair *tq;

	if (entries < 2) {
		entries = NVME_IO_QUEUE_SIZE_DEFAULT;
	}
	requests = PLX_MAX(requests, entries);
	tq = tcp_qpair_alloc(ctrlr, qid, entries, requests, opts->delay_cmd_submit);
	return tq != NULL ? &tq->qpair : NULL;
}

static int tcp_qpair_connect(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair)
{
	struct tcp_qpair *tq = tcp_qpair(qpair);
	int rc = tcp_qpair_connect_err(tq);

	if (rc != 0) {
		PLX_ERRLOG("NVMe/TCP %s:%s qpair %u: %s\n", ctrlr->trid.traddr, ctrlr->trid.trsvcid,
			   qpair->id, tq->err);
	}
	return rc;
}

static void tcp_qpair_disconnect(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair)
{
	struct tcp_qpair *tq = tcp_qpair(qpair);

	if (tq->sock != NULL) {
		plx_sock_close(&tq->sock);
	}
	tcp_abort_all(tq, false);
	tq->failed = false;
	qpair->state = NVME_QPAIR_DISCONNECTED;
}

static void tcp_qpair_destroy(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair)
{
	struct tcp_qpair *tq = tcp_qpair(qpair);

	tcp_qpair_disconnect(ctrlr, qpair);
	nvme_qpair_fini(qpair);
	tcp_qpair_free(tq);
}

static int tcp_qpair_get_fd(struct plx_nvme_qpair *qpair)
{
	struct tcp_qpair *tq = tcp_qpair(qpair);

	return tq->failed ? -1 : plx_sock_get_fd(tq->sock);
}

static const struct nvme_transport_ops g_nvme_tcp_ops = {
    .name = "TCP",
    .trtype = PLX_NVMF_TRTYPE_TCP,
    .ctrlr_construct = tcp_ctrlr_construct,
    .ctrlr_destruct = tcp_ctrlr_destruct,
    .ctrlr_get_reg_4 = tcp_get_reg_4,
    .ctrlr_get_reg_8 = tcp_get_reg_8,
    .ctrlr_set_reg_4 = tcp_set_reg_4,
    .ctrlr_get_max_xfer_size = tcp_get_max_xfer_size,
    .qpair_create = tcp_qpair_create,
    .qpair_connect = tcp_qpair_connect,
    .qpair_disconnect = tcp_qpair_disconnect,
    .qpair_destroy = tcp_qpair_destroy,
    .qpair_submit_request = tcp_submit,
    .qpair_process_completions = tcp_process,
    .qpair_abort_reqs = tcp_abort_reqs,
    .qpair_get_fd = tcp_qpair_get_fd,
};

NVME_TRANSPORT_REGISTER(tcp, &g_nvme_tcp_ops)
