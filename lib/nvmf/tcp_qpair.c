/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One NVMe/TCP connection on its poll group's thread: receive framing (one recv of up to
 * 64 KiB, then every whole PDU in it; header bytes are copied into the connection so a PDU
 * may be split anywhere), the request state machine, data buffers from per-group caches, and
 * sends queued on the socket (flushed in one writev per connection per group poll).
 *
 * Request life: capsule -> [in-capsule data | buffers -> R2T -> H2CData] -> core -> response
 * queued -> released when every PDU of it was sent. Nothing is allocated per I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/log.h"
#include "tcp_internal.h"

static uint8_t g_zero_pad[128];

static void req_release(struct tcp_req *r);
static void maybe_closed(struct tcp_qpair *tq);

/* ---- buffer caches ---- */

int nvmf_tcp_buf_cache_init(struct tcp_buf_cache *cache, uint32_t cap, uint64_t buf_len)
{
	cache->bufs = calloc(PLX_MAX(cap, 1u), sizeof(void *));
	cache->count = 0;
	cache->cap = cap;
	cache->buf_len = buf_len;
	return cache->bufs == NULL ? -ENOMEM : 0;
}

void nvmf_tcp_buf_cache_fini(struct tcp_buf_cache *cache)
{
	while (cache->count > 0) {
		plx_iobuf_put(cache->bufs[--cache->count], cache->buf_len);
	}
	free(cache->bufs);
	cache->bufs = NULL;
}

/* Refill half the cache at once so the shared ring is touched once per many requests. */
static void *cache_get(struct tcp_buf_cache *cache)
{
	if (cache->count == 0) {
		uint32_t want = PLX_MAX(cache->cap / 2, 1u);

		while (cache->count < want) {
			void *buf = plx_iobuf_get(cache->buf_len);

			if (buf == NULL) {
				break;
			}
			cache->bufs[cache->count++] = buf;
		}
		if (cache->count == 0) {
			return NULL;
		}
	}
	return cache->bufs[--cache->count];
}

static void cache_put(struct tcp_buf_cache *cache, void *buf)
{
	if (cache->count >= cache->cap) {
		uint32_t keep = cache->cap / 2;

		while (cache->count > keep) {
			plx_iobuf_put(cache->bufs[--cache->count], cache->buf_len);
		}
		if (cache->cap == 0) {
			plx_iobuf_put(buf, cache->buf_len);
			return;
		}
	}
	cache->bufs[cache->count++] = buf;
}

static void req_put_buffers(struct tcp_req *r)
{
	struct tcp_poll_group *g = r->tq->tgroup;
	struct tcp_buf_cache *cache = r->buf_kind == TCP_BUF_SMALL ? &g->small : &g->large;

	if (r->buf_kind == TCP_BUF_SMALL || r->buf_kind == TCP_BUF_LARGE) {
		for (uint32_t i = 0; i < r->nbufs; i++) {
			cache_put(cache, r->bufs[i]);
		}
	}
	r->nbufs = 0;
	r->buf_kind = TCP_BUF_NONE;
}

/* All buffers of r or none: 0, or -ENOMEM (the request waits). */
static int req_get_buffers(struct tcp_req *r)
{
	struct tcp_poll_group *g = r->tq->tgroup;
	uint32_t len = r->req.length, n;
	struct tcp_buf_cache *cache;

	cache = len <= NVMF_TCP_SMALL_BUF_SIZE ? &g->small : &g->large;
	n = (len + cache->buf_len - 1) / cache->buf_len;
	for (uint32_t i = 0; i < n; i++) {
		void *buf = cache_get(cache);

		if (buf == NULL) {
			while (i > 0) {
				cache_put(cache, r->bufs[--i]);
			}
			return -ENOMEM;
		}
		r->bufs[i] = buf;
		r->req.iov[i].iov_base = buf;
		r->req.iov[i].iov_len = PLX_MIN((uint64_t)len, cache->buf_len);
		len -= r->req.iov[i].iov_len;
	}
	r->nbufs = n;
	r->buf_kind = cache == &g->small ? TCP_BUF_SMALL : TCP_BUF_LARGE;
	r->req.iovcnt = n;
	r->req.data = r->bufs[0];
	return 0;
}

/* ---- sends ---- */

void nvmf_tcp_flush_queued(struct tcp_poll_group *g)
{
	struct tcp_qpair *tq;

	while ((tq = TAILQ_FIRST(&g->flush_list)) != NULL) {
		TAILQ_REMOVE(&g->flush_list, tq, flush_link);
		tq->in_flush_list = false;
		if (tq->sock != NULL) {
			plx_sock_flush(tq->sock);
		}
	}
}

static void flush_msg(void *arg)
{
	struct tcp_poll_group *g = arg;

	g->flush_scheduled = false;
	if (g->destroyed) {
		free(g);
		return;
	}
	nvmf_tcp_flush_queued(g);
}

static void queue_send(struct tcp_qpair *tq, struct plx_sock_request *sreq)
{
	struct tcp_poll_group *g = tq->tgroup;

	plx_sock_writev_async(tq->sock, sreq);
	if (!tq->in_flush_list) {
		tq->in_flush_list = true;
		TAILQ_INSERT_TAIL(&g->flush_list, tq, flush_link);
	}
	if (!g->in_poll && !g->flush_scheduled) {
		g->flush_scheduled = plx_thread_send_msg(plx_get_thread(), flush_msg, g) == 0;
	}
}

static void term_done_msg(void *arg)
{
	struct tcp_qpair *tq = arg;

	nvmf_qpair_disconnect(&tq->qpair);
}

static void ctl_sent(void *arg, int err)
{
	struct tcp_qpair *tq = arg;

	tq->ctl_sends--;
	maybe_closed(tq);
}

/* The TermReq is out: close, from a message because we are inside the socket's flush. */
static void term_sent(void *arg, int err)
{
	struct tcp_qpair *tq = arg;

	if (!tq->closing && plx_thread_send_msg(plx_get_thread(), term_done_msg, tq) != 0) {
		PLX_ERRLOG("qpair %lu: cannot schedule close after TermReq\n",
			   (unsigned long)tq->qpair.id);
	}
	ctl_sent(arg, err);
}

static void send_term_req(struct tcp_qpair *tq, const struct tcp_pdu_error *err, uint32_t bad_len)
{
	uint32_t len;

	if (tq->state == TCP_CONN_ERROR || tq->closing) {
		return;
	}
	PLX_ERRLOG("qpair %lu: fatal PDU error (type 0x%x, fes %u, fei %u): sending C2HTermReq\n",
		   (unsigned long)tq->qpair.id, tq->hdr.common.pdu_type, err->fes, err->fei);
	tq->state = TCP_CONN_ERROR;
	tq->tgroup->stat_term_reqs++;
	len = tcp_pdu_build_term_req(tq->term_buf, err->fes, err->fei, tq->hdr.raw, bad_len);
	tq->term_iov = (struct iovec){.iov_base = tq->term_buf, .iov_len = len};
	tq->term_sreq.cb_fn = term_sent;
	tq->term_sreq.cb_arg = tq;
	tq->term_sreq.iovs = &tq->term_iov;
	tq->term_sreq.iovcnt = 1;
	tq->ctl_sends++;
	queue_send(tq, &tq->term_sreq);
}

static void req_sent(void *arg, int err)
{
	struct tcp_req *r = arg;

	r->pending_sends--;
	if (r->pending_sends == 0 && r->state == TCP_REQ_SENDING) {
		req_release(r);
	}
}

/* Queue the response of r: C2HData (with SUCCESS, or followed by a CapsuleResp). */
static void req_send_response(struct tcp_req *r)
{
	struct tcp_qpair *tq = r->tq;
	struct iovec *iov = r->rsp_iov;
	bool hd = tq->lim.hdgst, dd = tq->lim.ddgst;
	bool send_rsp = true;
	int n = 0;

	r->state = TCP_REQ_SENDING;
	if (plx_unlikely(tq->sock == NULL)) {
		req_release(r);
		return;
	}
	if (r->req.xfer == PLX_NVME_DATA_CONTROLLER_TO_HOST && r->req.length > 0 &&
	    !plx_nvme_cpl_is_error(&r->rsp)) {
		uint8_t flags = PLX_NVME_TCP_DATA_FLAGS_LAST_PDU;
		uint32_t left = r->req.length, pad;

		/* SUCCESS replaces the CapsuleResp only when it would carry nothing else. */
		if (tq->qpair.transport->opts.c2h_success && r->rsp.cdw0 == 0 && r->rsp.cdw1 == 0) {
			flags |= PLX_NVME_TCP_C2H_DATA_FLAGS_SUCCESS;
			send_rsp = false;
		}
		iov[n].iov_base = r->c2h_hdr;
		iov[n++].iov_len = tcp_pdu_build_c2h_data(r->c2h_hdr, r->cmd.cid, 0, left, flags,
							  hd, dd, tq->hpda, &pad);
		if (pad > 0) {
			iov[n].iov_base = g_zero_pad;
			iov[n++].iov_len = pad;
		}
		for (int i = 0; i < r->req.iovcnt && left > 0; i++) {
			iov[n].iov_base = r->req.iov[i].iov_base;
			iov[n].iov_len = PLX_MIN((uint64_t)left, r->req.iov[i].iov_len);
			left -= iov[n++].iov_len;
		}
		if (dd) {
			tcp_put_digest(r->ddgst,
				       tcp_ddgst_iov(r->req.iov, r->req.iovcnt, r->req.length));
			iov[n].iov_base = r->ddgst;
			iov[n++].iov_len = PLX_NVME_TCP_DIGEST_LEN;
		}
	}
	if (send_rsp) {
		iov[n].iov_base = r->rsp_hdr;
		iov[n++].iov_len = tcp_pdu_build_capsule_resp(r->rsp_hdr, &r->rsp, hd);
	}
	r->rsp_sreq.iovcnt = n;
	r->pending_sends++;
	queue_send(tq, &r->rsp_sreq);
}

/* A status the transport decided (the core never saw r): fill what nvmf_request_complete would. */
static void req_complete_local(struct tcp_req *r, uint8_t sct, uint8_t sc)
{
	struct nvmf_qpair *qpair = &r->tq->qpair;

	if (sct != 0 || sc != 0) {
		nvmf_request_set_status(&r->req, sct, sc);
	}
	r->rsp.cid = r->cmd.cid;
	r->rsp.sqid = qpair->qid;
	if (++qpair->sq_head >= qpair->sq_size && qpair->sq_size != 0) {
		qpair->sq_head = 0;
	}
	r->rsp.sqhd = qpair->sq_head;
	req_send_response(r);
}

static void send_r2t(struct tcp_req *r)
{
	struct tcp_qpair *tq = r->tq;

	tq->r2t_outstanding++;
	r->state = TCP_REQ_H2C;
	r->h2c_received = 0;
	r->r2t_iov.iov_base = r->r2t_hdr;
	r->r2t_iov.iov_len =
	    tcp_pdu_build_r2t(r->r2t_hdr, r->cmd.cid, r->ttag, 0, r->req.length, tq->lim.hdgst);
	r->pending_sends++;
	queue_send(tq, &r->r2t_sreq);
}

static void kick_r2t(struct tcp_qpair *tq)
{
	struct tcp_req *r;

	while (tq->r2t_outstanding < tq->max_r2t && (r = TAILQ_FIRST(&tq->wait_r2t)) != NULL) {
		TAILQ_REMOVE(&tq->wait_r2t, r, link);
		send_r2t(r);
	}
}

/* ---- request state machine ---- */

static void req_exec(struct tcp_req *r)
{
	if (plx_unlikely(r->ddgst_error)) {
		r->tq->tgroup->stat_ddgst_errors++;
		req_complete_local(r, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_TRANSIENT_TRANSPORT_ERROR);
		return;
	}
	r->state = TCP_REQ_EXECUTING;
	r->tq->reqs_in_core++;
	nvmf_request_exec(&r->req);
}

static void req_buffers_ready(struct tcp_req *r)
{
	struct tcp_qpair *tq = r->tq;

	if (r->req.xfer != PLX_NVME_DATA_HOST_TO_CONTROLLER) {
		req_exec(r);
	} else if (tq->r2t_outstanding < tq->max_r2t && TAILQ_EMPTY(&tq->wait_r2t)) {
		send_r2t(r);
	} else {
		r->state = TCP_REQ_NEED_R2T;
		TAILQ_INSERT_TAIL(&tq->wait_r2t, r, link);
	}
}

static void req_need_buffers(struct tcp_req *r)
{
	struct tcp_poll_group *g = r->tq->tgroup;

	if (TAILQ_EMPTY(&g->pending_buf) && req_get_buffers(r) == 0) {
		req_buffers_ready(r);
		return;
	}
	r->state = TCP_REQ_NEED_BUFFER;
	g->stat_pending_data_buffer++;
	TAILQ_INSERT_TAIL(&g->pending_buf, r, link);
}

int nvmf_tcp_process_pending(struct tcp_poll_group *g)
{
	struct tcp_req *r;
	int n = 0;

	while ((r = TAILQ_FIRST(&g->pending_buf)) != NULL && req_get_buffers(r) == 0) {
		TAILQ_REMOVE(&g->pending_buf, r, link);
		req_buffers_ready(r);
		n++;
	}
	return n;
}

static void req_release(struct tcp_req *r)
{
	struct tcp_qpair *tq = r->tq;

	req_put_buffers(r);
	r->state = TCP_REQ_FREE;
	tq->reqs_used--;
	/* LIFO: the slot used last has its memory in cache. */
	TAILQ_INSERT_HEAD(&tq->free_reqs, r, link);
	if (plx_unlikely(tq->closing)) {
		maybe_closed(tq);
	}
}

int nvmf_tcp_req_complete(struct nvmf_request *req)
{
	struct tcp_req *r = tcp_req(req);
	struct tcp_qpair *tq = r->tq;

	tq->reqs_in_core--;
	if (plx_unlikely(tq->closing)) {
		req_release(r);
		return 0;
	}
	req_send_response(r);
	return 0;
}

/* ---- capsules ---- */

static bool capsule_is_admin(const struct plx_nvme_cmd *cmd)
{
	const struct plx_nvmf_connect_cmd *connect = (const struct plx_nvmf_connect_cmd *)cmd;

	/* Anything but an I/O queue Connect is treated as admin; the core rejects non-Connects. */
	return cmd->opc != PLX_NVME_OPC_FABRIC || connect->fctype != PLX_NVMF_FCTYPE_CONNECT ||
	       connect->qid == 0;
}

/* The request slots of a connection, sized once the first capsule says which queue it is. */
static int qpair_alloc_reqs(struct tcp_qpair *tq, bool admin)
{
	const struct nvmf_transport_opts *opts = &tq->qpair.transport->opts;
	uint32_t depth = admin ? opts->max_aq_depth : opts->max_queue_depth;
	uint32_t icd = admin ? NVMF_TCP_ADMIN_ICD_SIZE : opts->in_capsule_data_size;
	uint32_t icd_stride = PLX_ALIGN_UP(icd, 64u);
	uint32_t n;

	/*
	 * Twice the queue depth: a slot stays busy until its response was sent, and the host
	 * may reuse the command id as soon as it read the response, before our send completion
	 * was reported (io_uring reports it in a later batch).
	 */
	n = PLX_MIN(2 * PLX_MAX(depth, 1u), 65535u);
	tq->reqs = calloc(n, sizeof(*tq->reqs));
	if (tq->reqs == NULL ||
	    (icd_stride > 0 && posix_memalign(&tq->icd_mem, 4096, (size_t)icd_stride * n) != 0)) {
		PLX_ERRLOG("qpair %lu: cannot allocate %u requests\n", (unsigned long)tq->qpair.id,
			   n);
		return -ENOMEM;
	}
	tq->num_reqs = n;
	tq->icd_size = icd;
	tq->is_admin = admin;
	tq->lim.max_icd = icd;
	for (uint32_t i = 0; i < n; i++) {
		struct tcp_req *r = &tq->reqs[i];

		r->tq = tq;
		r->ttag = i;
		r->req.qpair = &tq->qpair;
		r->req.cmd = &r->cmd;
		r->req.rsp = &r->rsp;
		r->icd_buf =
		    icd_stride > 0 ? (uint8_t *)tq->icd_mem + (size_t)i * icd_stride : NULL;
		r->r2t_sreq = (struct plx_sock_request){
		    .cb_fn = req_sent, .cb_arg = r, .iovs = &r->r2t_iov, .iovcnt = 1};
		r->rsp_sreq =
		    (struct plx_sock_request){.cb_fn = req_sent, .cb_arg = r, .iovs = r->rsp_iov};
		TAILQ_INSERT_TAIL(&tq->free_reqs, r, link);
	}
	return 0;
}

static void req_set_error(struct tcp_req *r, uint8_t sct, uint8_t sc)
{
	nvmf_request_set_status(&r->req, sct, sc);
	r->has_status = true;
}

/* Direction and length of the command's data from its SGL; errors become a status. */
static void capsule_parse_sgl(struct tcp_qpair *tq, struct tcp_req *r)
{
	const struct plx_nvme_sgl_desc *sgl = &r->cmd.dptr.sgl1;
	const struct nvmf_transport_opts *opts = &tq->qpair.transport->opts;
	uint32_t icd_len = tq->layout.data_len, len = sgl->unkeyed.length;
	uint8_t code = r->cmd.opc;

	if (code == PLX_NVME_OPC_FABRIC) {
		code = ((const struct plx_nvmf_capsule_cmd *)&r->cmd)->fctype;
	}
	r->req.xfer = plx_nvme_opc_get_data_transfer(code);
	if (r->req.xfer == PLX_NVME_DATA_NONE) {
		return;
	}
	if (r->req.xfer == PLX_NVME_DATA_BIDIRECTIONAL) {
		req_set_error(r, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_OPCODE);
		return;
	}
	if (sgl->generic.type == PLX_NVME_SGL_TYPE_DATA_BLOCK &&
	    sgl->generic.subtype == PLX_NVME_SGL_SUBTYPE_OFFSET) {
		if (r->req.xfer != PLX_NVME_DATA_HOST_TO_CONTROLLER) {
			req_set_error(r, PLX_NVME_SCT_GENERIC,
				      PLX_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID);
		} else if (sgl->address != 0) {
			req_set_error(r, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_SGL_OFFSET);
		} else if (len != icd_len) {
			req_set_error(r, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_DATA_SGL_LENGTH_INVALID);
		} else {
			r->req.length = len;
		}
		return;
	}
	if (sgl->generic.type != PLX_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK ||
	    sgl->generic.subtype != PLX_NVME_SGL_SUBTYPE_TRANSPORT) {
		req_set_error(r, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID);
		return;
	}
	if (icd_len != 0 || len > opts->max_io_size ||
	    (len > NVMF_TCP_SMALL_BUF_SIZE &&
	     (tq->is_admin ? len > tq->tgroup->large.buf_len
			   : (len + tq->tgroup->large.buf_len - 1) / tq->tgroup->large.buf_len >
				 NVMF_REQ_MAX_IOVS))) {
		req_set_error(r, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_DATA_SGL_LENGTH_INVALID);
		return;
	}
	r->req.length = len;
}

/* The whole capsule (and its in-capsule data) is in. */
static void capsule_ready(struct tcp_req *r)
{
	if (r->ddgst_error) {
		r->tq->tgroup->stat_ddgst_errors++;
		req_complete_local(r, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_TRANSIENT_TRANSPORT_ERROR);
	} else if (r->has_status) {
		req_complete_local(r, 0, 0);
	} else if (r->req.length == 0) {
		req_exec(r);
	} else if (r->buf_kind == TCP_BUF_ICD) {
		req_exec(r);
	} else {
		req_need_buffers(r);
	}
}

static int handle_capsule(struct tcp_qpair *tq)
{
	const struct plx_nvme_cmd *sqe = &tq->hdr.capsule_cmd.ccsqe;
	struct tcp_pdu_error err;
	struct tcp_req *r;

	if (plx_unlikely(tq->reqs == NULL)) {
		if (qpair_alloc_reqs(tq, capsule_is_admin(sqe)) != 0) {
			nvmf_qpair_disconnect(&tq->qpair);
			return -ENOMEM;
		}
		if (tq->layout.data_len > tq->lim.max_icd) {
			err = (struct tcp_pdu_error){PLX_NVME_TCP_FES_DATA_TRANSFER_LIMIT_EXCEEDED,
						     4};
			send_term_req(tq, &err, tq->layout.hdr_len);
			return -EPROTO;
		}
	}
	r = TAILQ_FIRST(&tq->free_reqs);
	if (plx_unlikely(r == NULL)) {
		/* The host has more commands outstanding than its queue may hold. */
		err = (struct tcp_pdu_error){PLX_NVME_TCP_FES_PDU_SEQUENCE_ERROR, 0};
		send_term_req(tq, &err, tq->layout.hdr_len);
		return -EPROTO;
	}
	TAILQ_REMOVE(&tq->free_reqs, r, link);
	tq->reqs_used++;
	r->cmd = *sqe;
	memset(&r->rsp, 0, sizeof(r->rsp));
	r->state = TCP_REQ_RECV_ICD;
	r->has_status = false;
	r->ddgst_error = false;
	r->req.length = 0;
	r->req.iovcnt = 0;
	r->req.data = NULL;
	capsule_parse_sgl(tq, r);
	if (tq->layout.data_len > 0) {
		tq->icd_iov.iov_base = r->icd_buf;
		tq->icd_iov.iov_len = tq->layout.data_len;
		tq->rx_iov = &tq->icd_iov;
		tq->rx_iovcnt = 1;
		if (!r->has_status && r->req.length > 0) {
			r->buf_kind = TCP_BUF_ICD;
			r->req.iov[0] = tq->icd_iov;
			r->req.iovcnt = 1;
			r->req.data = r->icd_buf;
		}
	}
	tq->rx_req = r;
	return 0;
}

/* ---- H2CData, ICReq, H2CTermReq ---- */

static int handle_h2c_data(struct tcp_qpair *tq)
{
	const struct plx_nvme_tcp_h2c_data_hdr *h2c = &tq->hdr.h2c_data;
	struct tcp_pdu_error err = {PLX_NVME_TCP_FES_INVALID_HEADER_FIELD,
				    offsetof(struct plx_nvme_tcp_h2c_data_hdr, ttag)};
	struct tcp_req *r;

	if (h2c->ttag >= tq->num_reqs || tq->reqs[h2c->ttag].state != TCP_REQ_H2C) {
		send_term_req(tq, &err, tq->layout.hdr_len);
		return -EPROTO;
	}
	r = &tq->reqs[h2c->ttag];
	if (tcp_pdu_check_h2c_data(h2c, tq->layout.data_len, r->cmd.cid, r->h2c_received,
				   r->req.length, &err) != 0) {
		send_term_req(tq, &err, tq->layout.hdr_len);
		return -EPROTO;
	}
	tq->rx_req = r;
	tq->rx_iov = r->req.iov;
	tq->rx_iovcnt = r->req.iovcnt;
	tq->data_off = h2c->datao;
	return 0;
}

static void h2c_data_done(struct tcp_qpair *tq, struct tcp_req *r)
{
	r->h2c_received += tq->layout.data_len;
	if (r->h2c_received < r->req.length) {
		return;
	}
	tq->r2t_outstanding--;
	req_exec(r);
	if (!tq->closing) {
		kick_r2t(tq);
	}
}

static void send_ic_resp(struct tcp_qpair *tq)
{
	tq->ic_iov.iov_base = tq->ic_buf;
	tq->ic_iov.iov_len =
	    tcp_pdu_build_ic_resp(tq->ic_buf, tq->lim.hdgst, tq->lim.ddgst, tq->lim.maxh2cdata);
	tq->ic_sreq.cb_fn = ctl_sent;
	tq->ic_sreq.cb_arg = tq;
	tq->ic_sreq.iovs = &tq->ic_iov;
	tq->ic_sreq.iovcnt = 1;
	tq->ctl_sends++;
	queue_send(tq, &tq->ic_sreq);
}

static int handle_ic_req(struct tcp_qpair *tq)
{
	const struct plx_nvme_tcp_ic_req *ic = &tq->hdr.ic_req;
	struct tcp_pdu_error err;

	if (tcp_pdu_check_ic_req(ic, &err) != 0) {
		send_term_req(tq, &err, PLX_NVME_TCP_IC_REQ_HLEN);
		return -EPROTO;
	}
	tq->lim.hdgst = (ic->dgst & PLX_NVME_TCP_HDGST_ENABLE) != 0;
	tq->lim.ddgst = (ic->dgst & PLX_NVME_TCP_DDGST_ENABLE) != 0;
	tq->hpda = ic->hpda;
	tq->max_r2t = ic->maxr2t == UINT32_MAX ? UINT32_MAX : ic->maxr2t + 1;
	tq->state = TCP_CONN_RUNNING;
	send_ic_resp(tq);
	return 0;
}

/* The PDU's header is complete (and its digest in): act on it and set up its data. */
static void pdu_header_done(struct tcp_qpair *tq)
{
	uint8_t hlen = tq->hdr.common.hlen;
	int rc = 0;

	tq->rx_req = NULL;
	tq->rx_iov = NULL;
	tq->rx_iovcnt = 0;
	tq->data_off = 0;
	if (tq->layout.hdr_len > hlen && !tcp_hdgst_ok(tq->hdr.raw, hlen)) {
		struct tcp_pdu_error err = {PLX_NVME_TCP_FES_HDGST_ERROR, 0};

		send_term_req(tq, &err, tq->layout.hdr_len);
		return;
	}
	switch (tq->hdr.common.pdu_type) {
	case PLX_NVME_TCP_PDU_CAPSULE_CMD:
		rc = handle_capsule(tq);
		break;
	case PLX_NVME_TCP_PDU_H2C_DATA:
		rc = handle_h2c_data(tq);
		break;
	case PLX_NVME_TCP_PDU_IC_REQ:
		rc = handle_ic_req(tq);
		break;
	default: /* H2CTermReq: its data (the host's copy of our header) is discarded */
		break;
	}
	if (rc != 0) {
		return;
	}
	tq->skip_left = tq->layout.pad_len;
	tq->data_left = tq->layout.data_len;
	tq->ddgst_crc = ~0u;
	tq->ddgst_have = 0;
	tq->phase = tq->skip_left > 0 ? TCP_RX_PAD : TCP_RX_DATA;
}

/* Everything of the PDU (data and data digest) is in. */
static void pdu_done(struct tcp_qpair *tq)
{
	struct tcp_req *r = tq->rx_req;

	tq->phase = TCP_RX_CH;
	tq->hdr_have = 0;
	tq->rx_req = NULL;
	switch (tq->hdr.common.pdu_type) {
	case PLX_NVME_TCP_PDU_CAPSULE_CMD:
		capsule_ready(r);
		break;
	case PLX_NVME_TCP_PDU_H2C_DATA:
		h2c_data_done(tq, r);
		break;
	case PLX_NVME_TCP_PDU_H2C_TERM_REQ:
		PLX_ERRLOG("qpair %lu: host terminated the connection (fes %u)\n",
			   (unsigned long)tq->qpair.id, tq->hdr.term_req.fes);
		tq->state = TCP_CONN_ERROR;
		nvmf_qpair_disconnect(&tq->qpair);
		break;
	default:
		break;
	}
}

/* ---- receive framing ---- */

static void ddgst_check(struct tcp_qpair *tq)
{
	if (tcp_get_digest(tq->ddgst_in) != ~tq->ddgst_crc && tq->rx_req != NULL) {
		PLX_ERRLOG("qpair %lu: data digest mismatch (cid %u): Transient Transport Error\n",
			   (unsigned long)tq->qpair.id, tq->rx_req->cmd.cid);
		tq->rx_req->ddgst_error = true;
	}
	pdu_done(tq);
}

static void data_done(struct tcp_qpair *tq)
{
	if (tq->layout.ddgst_len > 0) {
		tq->phase = TCP_RX_DDGST;
	} else {
		pdu_done(tq);
	}
}

static void copy_to_iov(struct iovec *iov, int iovcnt, uint32_t off, const uint8_t *src,
			uint32_t len)
{
	for (int i = 0; i < iovcnt && len > 0; i++) {
		uint32_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = PLX_MIN((uint64_t)len, iov[i].iov_len - off);
		memcpy((uint8_t *)iov[i].iov_base + off, src, n);
		src += n;
		len -= n;
		off = 0;
	}
}

static uint32_t rx_header(struct tcp_qpair *tq, const uint8_t *p, uint32_t n)
{
	uint32_t need =
	    tq->phase == TCP_RX_CH ? sizeof(struct plx_nvme_tcp_common_hdr) : tq->layout.hdr_len;
	uint32_t take = PLX_MIN(n, need - tq->hdr_have);
	struct tcp_pdu_error err;

	memcpy(tq->hdr.raw + tq->hdr_have, p, take);
	tq->hdr_have += take;
	if (tq->hdr_have < need) {
		return take;
	}
	if (tq->phase == TCP_RX_CH) {
		if (tcp_pdu_check_common(&tq->hdr.common, tq->state, &tq->lim, &tq->layout, &err) !=
		    0) {
			send_term_req(tq, &err, tq->hdr_have);
			return take;
		}
		tq->phase = TCP_RX_HDR;
		return take;
	}
	pdu_header_done(tq);
	if (tq->phase == TCP_RX_DATA && tq->data_left == 0 && tq->state != TCP_CONN_ERROR) {
		pdu_done(tq);
	}
	return take;
}

static uint32_t rx_data(struct tcp_qpair *tq, const uint8_t *p, uint32_t n)
{
	uint32_t take = PLX_MIN(n, tq->data_left);

	if (tq->rx_iov != NULL) {
		copy_to_iov(tq->rx_iov, tq->rx_iovcnt, tq->data_off, p, take);
	}
	if (tq->layout.ddgst_len > 0) {
		tq->ddgst_crc = plx_crc32c_update(p, take, tq->ddgst_crc);
	}
	tq->data_off += take;
	tq->data_left -= take;
	if (tq->data_left == 0) {
		data_done(tq);
	}
	return take;
}

static void rx_parse(struct tcp_qpair *tq, const uint8_t *p, uint32_t n)
{
	while (n > 0 && tq->state != TCP_CONN_ERROR && !tq->closing) {
		uint32_t used;

		switch (tq->phase) {
		case TCP_RX_CH:
		case TCP_RX_HDR:
			used = rx_header(tq, p, n);
			break;
		case TCP_RX_PAD:
			used = PLX_MIN(n, tq->skip_left);
			tq->skip_left -= used;
			if (tq->skip_left == 0) {
				tq->phase = TCP_RX_DATA;
			}
			break;
		case TCP_RX_DATA:
			used = rx_data(tq, p, n);
			break;
		default: /* TCP_RX_DDGST */
			used = PLX_MIN(n, PLX_NVME_TCP_DIGEST_LEN - tq->ddgst_have);
			memcpy(tq->ddgst_in + tq->ddgst_have, p, used);
			tq->ddgst_have += used;
			if (tq->ddgst_have == PLX_NVME_TCP_DIGEST_LEN) {
				ddgst_check(tq);
			}
			break;
		}
		p += used;
		n -= used;
	}
}

/*
 * A large payload with nothing buffered: read it straight into the request's buffers, then
 * its digest, then whatever follows into the receive buffer, all in one readv.
 */
static ssize_t recv_direct(struct tcp_qpair *tq, size_t *asked)
{
	struct iovec iov[NVMF_REQ_MAX_IOVS + 2];
	uint32_t off = tq->data_off, left = tq->data_left, d, rest;
	int n = 0;
	ssize_t got;

	for (int i = 0; i < tq->rx_iovcnt && left > 0; i++) {
		if (off >= tq->rx_iov[i].iov_len) {
			off -= tq->rx_iov[i].iov_len;
			continue;
		}
		iov[n].iov_base = (uint8_t *)tq->rx_iov[i].iov_base + off;
		iov[n].iov_len = PLX_MIN((uint64_t)left, tq->rx_iov[i].iov_len - off);
		left -= iov[n++].iov_len;
		off = 0;
	}
	if (tq->layout.ddgst_len > 0) {
		iov[n].iov_base = tq->ddgst_in;
		iov[n++].iov_len = PLX_NVME_TCP_DIGEST_LEN;
	}
	iov[n].iov_base = tq->rbuf;
	iov[n++].iov_len = NVMF_TCP_RECV_BUF_SIZE;
	*asked = tq->data_left + tq->layout.ddgst_len + NVMF_TCP_RECV_BUF_SIZE;
	got = plx_sock_readv(tq->sock, iov, n);
	if (got <= 0) {
		return got;
	}
	d = PLX_MIN((uint64_t)got, tq->data_left);
	rest = got - d;
	for (int i = 0, c = d; tq->layout.ddgst_len > 0 && c > 0; i++) {
		uint32_t m = PLX_MIN((uint64_t)c, iov[i].iov_len);

		tq->ddgst_crc = plx_crc32c_update(iov[i].iov_base, m, tq->ddgst_crc);
		c -= m;
	}
	tq->data_off += d;
	tq->data_left -= d;
	if (tq->data_left > 0) {
		return got;
	}
	if (tq->layout.ddgst_len > 0) {
		tq->phase = TCP_RX_DDGST;
		tq->ddgst_have = PLX_MIN(rest, (uint32_t)PLX_NVME_TCP_DIGEST_LEN);
		rest -= tq->ddgst_have;
		if (tq->ddgst_have == PLX_NVME_TCP_DIGEST_LEN) {
			ddgst_check(tq);
		}
	} else {
		pdu_done(tq);
	}
	if (rest > 0) {
		rx_parse(tq, tq->rbuf, rest);
	}
	return got;
}

void nvmf_tcp_sock_cb(void *arg, struct plx_sock_group *group, struct plx_sock *sock)
{
	struct tcp_qpair *tq = arg;

	/* A bounded number of reads per poll; level-triggered groups report the rest again. */
	for (int i = 0; i < 4 && tq->state != TCP_CONN_ERROR && !tq->closing; i++) {
		size_t asked = NVMF_TCP_RECV_BUF_SIZE;
		ssize_t n;

		if (tq->phase == TCP_RX_DATA && tq->rx_iov != NULL &&
		    tq->data_left >= NVMF_TCP_DIRECT_RECV_MIN) {
			n = recv_direct(tq, &asked);
		} else {
			n = plx_sock_recv(tq->sock, tq->rbuf, NVMF_TCP_RECV_BUF_SIZE);
			if (n > 0) {
				rx_parse(tq, tq->rbuf, n);
			}
		}
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			if (!tq->closing) {
				nvmf_qpair_disconnect(&tq->qpair);
			}
			return;
		}
		if (n < 0 || (size_t)n < asked) {
			return;
		}
	}
}

/* ---- connection life ---- */

static void fill_trid(struct plx_nvme_trid *trid, bool ipv6, const char *addr, uint16_t port)
{
	trid->trtype = PLX_NVMF_TRTYPE_TCP;
	trid->adrfam = ipv6 ? PLX_NVMF_ADRFAM_IPV6 : PLX_NVMF_ADRFAM_IPV4;
	snprintf(trid->trstring, sizeof(trid->trstring), "TCP");
	snprintf(trid->traddr, sizeof(trid->traddr), "%s", addr);
	snprintf(trid->trsvcid, sizeof(trid->trsvcid), "%u", port);
}

int nvmf_tcp_qpair_start(struct tcp_poll_group *g, struct tcp_qpair *tq)
{
	char saddr[64], caddr[64];
	uint16_t sport = 0, cport = 0;
	bool ipv6;
	int rc;

	tq->tgroup = g;
	tq->state = TCP_CONN_AWAIT_ICREQ;
	tq->phase = TCP_RX_CH;
	tq->max_r2t = 1;
	tq->lim = (struct tcp_pdu_limits){.max_icd = NVMF_TCP_ADMIN_ICD_SIZE,
					  .maxh2cdata = NVMF_TCP_MAXH2CDATA};
	TAILQ_INIT(&tq->free_reqs);
	TAILQ_INIT(&tq->wait_r2t);
	tq->rbuf = malloc(NVMF_TCP_RECV_BUF_SIZE);
	if (tq->rbuf == NULL) {
		PLX_ERRLOG("qpair %lu: out of memory\n", (unsigned long)tq->qpair.id);
		return -ENOMEM;
	}
	ipv6 = plx_sock_is_ipv6(tq->sock);
	if (plx_sock_getaddr(tq->sock, saddr, sizeof(saddr), &sport, caddr, sizeof(caddr),
			     &cport) == 0) {
		fill_trid(&tq->local_trid, ipv6, saddr, sport);
		fill_trid(&tq->peer_trid, ipv6, caddr, cport);
	}
	rc = plx_sock_group_add_sock(g->sgroup, tq->sock, nvmf_tcp_sock_cb, tq);
	if (rc != 0) {
		PLX_ERRLOG("qpair %lu: cannot join the socket group: %s\n",
			   (unsigned long)tq->qpair.id, strerror(-rc));
		return rc;
	}
	TAILQ_INSERT_TAIL(&g->qpairs, tq, link);
	tq->in_group = true;
	return 0;
}

static void closed_msg(void *arg)
{
	struct tcp_qpair *tq = arg;

	/* The core sets qpair.transport_closed itself (it ignores a second call). */
	nvmf_qpair_transport_closed(&tq->qpair);
}

/* Tell the core once nothing of the connection is in flight any more. */
static void maybe_closed(struct tcp_qpair *tq)
{
	if (!tq->closing || tq->closed_notified || tq->reqs_used > 0 || tq->ctl_sends > 0) {
		return;
	}
	tq->closed_notified = true;
	/* From a message: the caller may be the core's disconnect itself, or a socket callback. */
	if (plx_thread_send_msg(plx_get_thread(), closed_msg, tq) != 0) {
		closed_msg(tq);
	}
}

/* A request the core never received: drop it (its sends, if any, release it). */
static void req_drop(struct tcp_req *r)
{
	r->state = TCP_REQ_SENDING;
	if (r->pending_sends == 0) {
		req_release(r);
	}
}

void nvmf_tcp_qpair_disconnect(struct nvmf_qpair *qpair)
{
	struct tcp_qpair *tq = tcp_qpair(qpair);

	if (tq->closing) {
		return;
	}
	tq->closing = true;
	tq->state = TCP_CONN_ERROR;
	if (tq->in_group) {
		TAILQ_REMOVE(&tq->tgroup->qpairs, tq, link);
		tq->in_group = false;
	}
	if (tq->in_flush_list) {
		TAILQ_REMOVE(&tq->tgroup->flush_list, tq, flush_link);
		tq->in_flush_list = false;
	}
	if (tq->sock != NULL) {
		/*
		 * Give queued responses one chance to leave first (a Disconnect's own response,
		 * a TermReq); what the socket does not take completes with -ECANCELED.
		 */
		plx_sock_flush(tq->sock);
		plx_sock_close(&tq->sock);
	}
	tq->rx_req = NULL;
	tq->rx_iov = NULL;
	for (uint32_t i = 0; i < tq->num_reqs; i++) {
		struct tcp_req *r = &tq->reqs[i];

		switch (r->state) {
		case TCP_REQ_NEED_BUFFER:
			TAILQ_REMOVE(&tq->tgroup->pending_buf, r, link);
			req_drop(r);
			break;
		case TCP_REQ_NEED_R2T:
			TAILQ_REMOVE(&tq->wait_r2t, r, link);
			req_drop(r);
			break;
		case TCP_REQ_RECV_ICD:
		case TCP_REQ_H2C:
			req_drop(r);
			break;
		default: /* FREE, SENDING (its send callback releases it), EXECUTING (req_complete)
			  */
			break;
		}
	}
	maybe_closed(tq);
}

void nvmf_tcp_qpair_free(struct nvmf_qpair *qpair)
{
	struct tcp_qpair *tq = tcp_qpair(qpair);

	if (tq->sock != NULL) {
		plx_sock_close(&tq->sock);
	}
	free(tq->reqs);
	free(tq->icd_mem);
	free(tq->rbuf);
	free(tq);
}

bool nvmf_tcp_qpair_abort_request(struct nvmf_qpair *qpair, uint16_t cid)
{
	struct tcp_qpair *tq = tcp_qpair(qpair);

	for (uint32_t i = 0; i < tq->num_reqs; i++) {
		struct tcp_req *r = &tq->reqs[i];

		if (r->cmd.cid != cid) {
			continue;
		}
		if (r->state == TCP_REQ_NEED_BUFFER) {
			TAILQ_REMOVE(&tq->tgroup->pending_buf, r, link);
		} else if (r->state == TCP_REQ_NEED_R2T) {
			TAILQ_REMOVE(&tq->wait_r2t, r, link);
			req_put_buffers(r);
		} else {
			continue;
		}
		r->req.xfer = PLX_NVME_DATA_NONE;
		req_complete_local(r, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_ABORTED_BY_REQUEST);
		return true;
	}
	return false;
}
