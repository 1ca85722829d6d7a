/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe/TCP connection: ICReq negotiation, capsules, R2T/H2CData, C2HData/CapsuleResp,
 * digests, TermReq on bad PDUs, PDUs split anywhere. The socket layer, the buffer pools and
 * the target core are test doubles below; the transport runs through its ops table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../../lib/nvmf/tcp_internal.h"
#include "ut.h"

/* ---- doubles: sockets ---- */

#define OUT_MAX	  (1u << 20)
#define MAX_SREQS 512

struct plx_sock {
	uint8_t *in;
	size_t in_len, in_pos, chunk;
	struct plx_sock_request *q[MAX_SREQS];
	int nq;
	bool closed;
};

struct plx_sock_group {
	int dummy;
};

static struct plx_sock_group g_sgroup;
static uint8_t g_out[OUT_MAX];
static size_t g_out_len;

ssize_t plx_sock_recv(struct plx_sock *s, void *buf, size_t len)
{
	size_t n = PLX_MIN(PLX_MIN(len, s->chunk), s->in_len - s->in_pos);

	if (n == 0) {
		errno = EAGAIN;
		return -1;
	}
	memcpy(buf, s->in + s->in_pos, n);
	s->in_pos += n;
	return n;
}

ssize_t plx_sock_readv(struct plx_sock *s, struct iovec *iov, int iovcnt)
{
	size_t total = 0;

	for (int i = 0; i < iovcnt; i++) {
		size_t room = PLX_MIN(s->chunk - total, s->in_len - s->in_pos);
		size_t n = PLX_MIN(iov[i].iov_len, room);

		memcpy(iov[i].iov_base, s->in + s->in_pos, n);
		s->in_pos += n;
		total += n;
	}
	if (total == 0) {
		errno = EAGAIN;
		return -1;
	}
	return total;
}

void plx_sock_writev_async(struct plx_sock *s, struct plx_sock_request *req)
{
	CU_ASSERT_FATAL(s != NULL && s->nq < MAX_SREQS);
	s->q[s->nq++] = req;
}

/* The group poll's flush: write every queued request, then complete it. */
static void flush(struct plx_sock *s)
{
	for (int i = 0; i < s->nq; i++) {
		struct plx_sock_request *r = s->q[i];

		for (int j = 0; j < r->iovcnt; j++) {
			CU_ASSERT_FATAL(g_out_len + r->iovs[j].iov_len <= OUT_MAX);
			memcpy(g_out + g_out_len, r->iovs[j].iov_base, r->iovs[j].iov_len);
			g_out_len += r->iovs[j].iov_len;
		}
	}
	for (int n = s->nq, i = 0; i < n; i++) {
		struct plx_sock_request *r = s->q[i];

		r->cb_fn(r->cb_arg, 0);
	}
	memmove(s->q, s->q + s->nq, 0);
	s->nq = 0;
}

int plx_sock_flush(struct plx_sock *s)
{
	return 0; /* the tests flush explicitly */
}

int plx_sock_close(struct plx_sock **ps)
{
	struct plx_sock *s = *ps;

	*ps = NULL;
	s->closed = true;
	for (int i = 0; i < s->nq; i++) {
		s->q[i]->cb_fn(s->q[i]->cb_arg, -ECANCELED);
	}
	s->nq = 0;
	return 0;
}

int plx_sock_getaddr(struct plx_sock *s, char *saddr, int slen, uint16_t *sport, char *caddr,
		     int clen, uint16_t *cport)
{
	snprintf(saddr, slen, "127.0.0.1");
	snprintf(caddr, clen, "127.0.0.2");
	*sport = 4420;
	*cport = 50000;
	return 0;
}

bool plx_sock_is_ipv6(struct plx_sock *s)
{
	return false;
}

int plx_sock_group_add_sock(struct plx_sock_group *g, struct plx_sock *s, plx_sock_cb cb, void *a)
{
	return 0;
}

struct plx_sock_group *plx_sock_group_create(const char *impl)
{
	return &g_sgroup;
}

int plx_sock_group_poll(struct plx_sock_group *g)
{
	return 0;
}

int plx_sock_group_get_fd(struct plx_sock_group *g)
{
	return -1;
}

int plx_sock_group_close(struct plx_sock_group **g)
{
	*g = NULL;
	return 0;
}

struct plx_sock *plx_sock_listen(const char *ip, int port, const struct plx_sock_opts *o)
{
	errno = EADDRINUSE;
	return NULL;
}

struct plx_sock *plx_sock_accept(struct plx_sock *l)
{
	errno = EAGAIN;
	return NULL;
}

/* ---- doubles: buffers, threads, target core ---- */

#define LARGE_SIZE 135168
static int g_bufs_out;
static int g_buf_limit = 1 << 30;

void *plx_iobuf_get(uint64_t len)
{
	void *p = NULL;

	if (g_bufs_out >= g_buf_limit || posix_memalign(&p, 4096, len) != 0) {
		return NULL;
	}
	g_bufs_out++;
	return p;
}

void plx_iobuf_put(void *buf, uint64_t len)
{
	g_bufs_out--;
	free(buf);
}

uint64_t plx_iobuf_get_large_size(void)
{
	return LARGE_SIZE;
}

static int g_poller;
static struct {
	plx_msg_fn fn;
	void *ctx;
} g_msgs[64];
static int g_nmsgs;

struct plx_poller *plx_poller_register_named(plx_poller_fn fn, void *arg, uint64_t period,
					     const char *name)
{
	return (struct plx_poller *)&g_poller;
}

void plx_poller_unregister(struct plx_poller **p)
{
	*p = NULL;
}

int plx_poller_set_interrupt_fd(struct plx_poller *p, int fd, uint32_t events)
{
	return 0;
}

bool plx_interrupt_mode_is_enabled(void)
{
	return false;
}

struct plx_thread *plx_get_thread(void)
{
	return NULL;
}

int plx_thread_send_msg(const struct plx_thread *t, plx_msg_fn fn, void *ctx)
{
	g_msgs[g_nmsgs].fn = fn;
	g_msgs[g_nmsgs++].ctx = ctx;
	return 0;
}

static void run_msgs(void)
{
	for (int i = 0; i < g_nmsgs; i++) {
		g_msgs[i].fn(g_msgs[i].ctx);
	}
	g_nmsgs = 0;
}

bool plx_nvme_trid_equal(const struct plx_nvme_trid *a, const struct plx_nvme_trid *b)
{
	return strcmp(a->traddr, b->traddr) == 0 && strcmp(a->trsvcid, b->trsvcid) == 0;
}

static const struct nvmf_transport_ops *g_ops;
static struct nvmf_request *g_exec[512];
static int g_nexec;
static int g_disconnects;
static int g_closed;

void nvmf_transport_register(const struct nvmf_transport_ops *ops)
{
	g_ops = ops;
}

void nvmf_tgt_new_qpair(struct nvmf_tgt *tgt, struct nvmf_qpair *qpair)
{
}

void nvmf_request_exec(struct nvmf_request *req)
{
	g_exec[g_nexec++] = req;
}

void nvmf_qpair_disconnect(struct nvmf_qpair *qpair)
{
	g_disconnects++;
	g_ops->qpair_disconnect(qpair);
}

void nvmf_qpair_transport_closed(struct nvmf_qpair *qpair)
{
	g_closed++;
}

/* What the core does when it completes a request. */
static void core_complete(struct nvmf_request *req, uint8_t sc)
{
	req->rsp->status.sc = sc;
	req->rsp->cid = req->cmd->cid;
	req->rsp->sqid = req->qpair->qid;
	g_ops->req_complete(req);
}

/* ---- fixture ---- */

static struct nvmf_transport *g_transport;
static struct nvmf_transport_poll_group *g_tgroup;
static struct tcp_qpair *g_tq;
static struct plx_sock g_sock;
static uint8_t g_in[1 << 20];

static void setup_opts(const struct nvmf_transport_opts *opts)
{
	char err[PLX_NVMF_ERR_LEN];

	g_transport = g_ops->create(opts, err);
	CU_ASSERT_FATAL(g_transport != NULL);
	g_transport->opts = *opts;
	g_tgroup = g_ops->poll_group_create(g_transport, NULL);
	CU_ASSERT_FATAL(g_tgroup != NULL);
	g_tgroup->transport = g_transport;
	memset(&g_sock, 0, sizeof(g_sock));
	g_sock.in = g_in;
	g_sock.chunk = 1 << 20;
	g_tq = calloc(1, sizeof(*g_tq));
	g_tq->sock = &g_sock;
	g_tq->qpair.transport = g_transport;
	g_tq->qpair.qid = 1;
	CU_ASSERT_FATAL(g_ops->poll_group_add(g_tgroup, &g_tq->qpair) == 0);
	g_out_len = 0;
	g_nexec = g_disconnects = g_closed = g_nmsgs = 0;
}

static void setup(void)
{
	struct nvmf_transport_opts opts;

	g_ops->opts_init(&opts);
	setup_opts(&opts);
}

static void teardown(void)
{
	g_ops->qpair_disconnect(&g_tq->qpair);
	run_msgs();
	g_ops->qpair_free(&g_tq->qpair);
	g_ops->poll_group_destroy(g_tgroup);
	g_ops->destroy(g_transport);
	CU_ASSERT_EQUAL(g_bufs_out, 0);
}

/* Append bytes to what the host has sent; deliver them chunk bytes per recv. */
static void host_send(const void *p, size_t len)
{
	memcpy(g_in + g_sock.in_len, p, len);
	g_sock.in_len += len;
}

static void deliver(size_t chunk)
{
	g_sock.chunk = chunk;
	while (g_sock.in_pos < g_sock.in_len && !g_sock.closed) {
		nvmf_tcp_sock_cb(g_tq, &g_sgroup, &g_sock);
	}
	if (!g_sock.closed) {
		flush(&g_sock);
	}
}

static void send_icreq(uint8_t dgst, uint8_t hpda, uint16_t pfv)
{
	struct plx_nvme_tcp_ic_req ic = {.common = {0x00, 0, 128, 0, 128}};

	ic.dgst = dgst;
	ic.hpda = hpda;
	ic.pfv = pfv;
	host_send(&ic, sizeof(ic));
}

static void connect_host(uint8_t dgst)
{
	send_icreq(dgst, 0, 0);
	deliver(1 << 20);
	CU_ASSERT_EQUAL(g_out_len, 128);
	g_out_len = 0;
}

/* A capsule; data (icd bytes) in-capsule, or xfer_len through a transport SGL. */
static void send_capsule(uint8_t opc, uint16_t cid, const void *icd, uint32_t icd_len,
			 uint32_t xfer_len, bool hd, bool dd, bool bad_ddgst)
{
	uint8_t buf[72 + 4 + 8192 + 4];
	struct plx_nvme_tcp_cmd *c = (struct plx_nvme_tcp_cmd *)buf;
	uint32_t hl = 72 + (hd ? 4 : 0), len = hl;

	memset(buf, 0, sizeof(buf));
	c->common.pdu_type = 0x04;
	c->common.hlen = 72;
	c->common.flags = hd ? PLX_NVME_TCP_CH_FLAGS_HDGSTF : 0;
	c->ccsqe.opc = opc;
	c->ccsqe.cid = cid;
	c->ccsqe.nsid = 1;
	if (icd_len > 0) {
		c->ccsqe.dptr.sgl1.unkeyed.type = PLX_NVME_SGL_TYPE_DATA_BLOCK;
		c->ccsqe.dptr.sgl1.unkeyed.subtype = PLX_NVME_SGL_SUBTYPE_OFFSET;
		c->ccsqe.dptr.sgl1.unkeyed.length = icd_len;
		c->common.pdo = hl;
		if (dd) {
			c->common.flags |= PLX_NVME_TCP_CH_FLAGS_DDGSTF;
		}
	} else {
		c->ccsqe.dptr.sgl1.unkeyed.type = PLX_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK;
		c->ccsqe.dptr.sgl1.unkeyed.subtype = PLX_NVME_SGL_SUBTYPE_TRANSPORT;
		c->ccsqe.dptr.sgl1.unkeyed.length = xfer_len;
	}
	if (hd) {
		tcp_put_digest(buf + 72, plx_crc32c(buf, 72));
	}
	if (icd_len > 0) {
		memcpy(buf + len, icd, icd_len);
		len += icd_len;
	}
	if (icd_len > 0 && dd) {
		tcp_put_digest(buf + len, plx_crc32c(icd, icd_len) ^ (bad_ddgst ? 1 : 0));
		len += 4;
	}
	c->common.plen = len;
	if (hd) {
		tcp_put_digest(buf + 72, plx_crc32c(buf, 72));
	}
	host_send(buf, len);
}

static void send_h2c(uint16_t cid, uint16_t ttag, uint32_t datao, const uint8_t *data,
		     uint32_t datal, bool last)
{
	struct plx_nvme_tcp_h2c_data_hdr h = {.common = {0x06, 0, 24, 24, 24 + datal}};

	h.common.flags = last ? PLX_NVME_TCP_DATA_FLAGS_LAST_PDU : 0;
	h.cccid = cid;
	h.ttag = ttag;
	h.datao = datao;
	h.datal = datal;
	host_send(&h, sizeof(h));
	host_send(data, datal);
}

static const struct plx_nvme_tcp_term_req_hdr *out_term(void)
{
	const struct plx_nvme_tcp_term_req_hdr *t = (const void *)g_out;

	CU_ASSERT_FATAL(g_out_len >= 24);
	CU_ASSERT_EQUAL(t->common.pdu_type, PLX_NVME_TCP_PDU_C2H_TERM_REQ);
	CU_ASSERT_EQUAL(t->common.plen, g_out_len);
	return t;
}

/* ---- tests ---- */

static void test_icreq_negotiation(void)
{
	struct plx_nvme_tcp_ic_resp *r = (void *)g_out;

	setup();
	send_icreq(PLX_NVME_TCP_HDGST_ENABLE | PLX_NVME_TCP_DDGST_ENABLE, 0, 0);
	deliver(1 << 20);
	CU_ASSERT_EQUAL(g_out_len, 128);
	CU_ASSERT_EQUAL(r->common.pdu_type, 0x01);
	CU_ASSERT_EQUAL(r->dgst, 3);
	CU_ASSERT_EQUAL(r->maxh2cdata, 131072);
	CU_ASSERT_EQUAL(r->cpda, 0);
	CU_ASSERT(g_tq->lim.hdgst && g_tq->lim.ddgst);
	teardown();

	setup();
	send_icreq(PLX_NVME_TCP_DDGST_ENABLE, 0, 0);
	deliver(1 << 20);
	CU_ASSERT_EQUAL(r->dgst, PLX_NVME_TCP_DDGST_ENABLE);
	CU_ASSERT(!g_tq->lim.hdgst && g_tq->lim.ddgst);
	teardown();
}

static void test_icreq_bad(void)
{
	setup();
	send_icreq(0, 0, 1);
	deliver(1 << 20);
	CU_ASSERT_EQUAL(out_term()->fes, PLX_NVME_TCP_FES_UNSUPPORTED_PARAMETER);
	CU_ASSERT_EQUAL(out_term()->fei, 8);
	CU_ASSERT_EQUAL(g_out_len, 24 + 128);
	run_msgs();
	CU_ASSERT_EQUAL(g_disconnects, 1);
	run_msgs();
	CU_ASSERT_EQUAL(g_closed, 1);
	teardown();

	setup();
	send_icreq(0, 32, 0);
	deliver(1 << 20);
	CU_ASSERT_EQUAL(out_term()->fes, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD);
	CU_ASSERT_EQUAL(out_term()->fei, 10);
	teardown();
}

static void test_wrong_state(void)
{
	static const uint8_t types[] = {0x01, 0x03, 0x05, 0x07, 0x09, 0x0a, 0xff};
	uint8_t d[8] = {0};

	/* a capsule before ICReq */
	setup();
	send_capsule(PLX_NVME_OPC_FLUSH, 1, NULL, 0, 0, false, false, false);
	deliver(1 << 20);
	CU_ASSERT_EQUAL(out_term()->fes, PLX_NVME_TCP_FES_PDU_SEQUENCE_ERROR);
	CU_ASSERT_EQUAL(g_nexec, 0);
	teardown();

	/* ICReq twice, H2CData before ICReq */
	setup();
	connect_host(0);
	send_icreq(0, 0, 0);
	deliver(1 << 20);
	CU_ASSERT_EQUAL(out_term()->fes, PLX_NVME_TCP_FES_PDU_SEQUENCE_ERROR);
	teardown();
	setup();
	send_h2c(1, 0, 0, d, 8, true);
	deliver(1 << 20);
	CU_ASSERT_EQUAL(out_term()->fes, PLX_NVME_TCP_FES_PDU_SEQUENCE_ERROR);
	teardown();

	/* controller-to-host and unknown types */
	for (size_t i = 0; i < sizeof(types); i++) {
		struct plx_nvme_tcp_common_hdr ch = {types[i], 0, 24, 0, 24};

		setup();
		connect_host(0);
		host_send(&ch, sizeof(ch));
		deliver(1 << 20);
		CU_ASSERT_EQUAL(out_term()->fes, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD);
		CU_ASSERT_EQUAL(out_term()->fei, 0);
		CU_ASSERT_EQUAL(g_out_len, 24 + 8);
		teardown();
	}
}

static void check_write_exec(const uint8_t *data, uint32_t len, uint16_t cid)
{
	struct nvmf_request *req;
	uint8_t got[65536];

	CU_ASSERT_FATAL(g_nexec == 1);
	req = g_exec[0];
	CU_ASSERT_EQUAL(req->cmd->cid, cid);
	CU_ASSERT_EQUAL(req->length, len);
	CU_ASSERT_EQUAL(req->xfer, PLX_NVME_DATA_HOST_TO_CONTROLLER);
	CU_ASSERT_EQUAL(nvmf_request_copy_from_iov(req, got, len), len);
	CU_ASSERT_EQUAL(memcmp(got, data, len), 0);
}

size_t nvmf_request_copy_from_iov(struct nvmf_request *req, void *buf, size_t len)
{
	size_t done = 0;

	for (int i = 0; i < req->iovcnt && done < len; i++) {
		size_t n = PLX_MIN(len - done, req->iov[i].iov_len);

		memcpy((uint8_t *)buf + done, req->iov[i].iov_base, n);
		done += n;
	}
	return done;
}

static void test_capsule_icd_write(void)
{
	uint8_t data[4096];
	const struct plx_nvme_tcp_rsp *rsp = (const void *)g_out;

	for (int i = 0; i < 4096; i++) {
		data[i] = i * 7;
	}
	setup();
	connect_host(0);
	send_capsule(PLX_NVME_OPC_WRITE, 9, data, 4096, 0, false, false, false);
	deliver(1 << 20);
	check_write_exec(data, 4096, 9);
	CU_ASSERT_EQUAL(g_out_len, 0);
	core_complete(g_exec[0], 0);
	flush(&g_sock);
	CU_ASSERT_EQUAL(g_out_len, 24);
	CU_ASSERT_EQUAL(rsp->common.pdu_type, 0x05);
	CU_ASSERT_EQUAL(rsp->common.plen, 24);
	CU_ASSERT_EQUAL(rsp->rccqe.cid, 9);
	CU_ASSERT_EQUAL(rsp->rccqe.sqid, 1);
	CU_ASSERT_EQUAL(g_tq->reqs_used, 0);
	teardown();
}

static void test_read_c2h(void)
{
	const struct plx_nvme_tcp_c2h_data_hdr *c2h = (const void *)g_out;
	struct nvmf_transport_opts opts;

	for (int success = 1; success >= 0; success--) {
		g_ops->opts_init(&opts);
		opts.c2h_success = success;
		setup_opts(&opts);
		connect_host(0);
		send_capsule(PLX_NVME_OPC_READ, 3, NULL, 0, 4096, false, false, false);
		deliver(1 << 20);
		CU_ASSERT_FATAL(g_nexec == 1);
		CU_ASSERT_EQUAL(g_exec[0]->xfer, PLX_NVME_DATA_CONTROLLER_TO_HOST);
		CU_ASSERT_EQUAL(g_exec[0]->length, 4096);
		CU_ASSERT_EQUAL(g_exec[0]->iovcnt, 1);
		memset(g_exec[0]->iov[0].iov_base, 0xab, 4096);
		core_complete(g_exec[0], 0);
		flush(&g_sock);
		CU_ASSERT_EQUAL(g_out_len, 24 + 4096 + (success ? 0 : 24));
		CU_ASSERT_EQUAL(c2h->common.pdu_type, 0x07);
		CU_ASSERT_EQUAL(c2h->common.flags,
				PLX_NVME_TCP_DATA_FLAGS_LAST_PDU |
				    (success ? PLX_NVME_TCP_C2H_DATA_FLAGS_SUCCESS : 0));
		CU_ASSERT_EQUAL(c2h->common.plen, 24 + 4096);
		CU_ASSERT_EQUAL(c2h->cccid, 3);
		CU_ASSERT_EQUAL(c2h->datal, 4096);
		CU_ASSERT_EQUAL(g_out[24], 0xab);
		CU_ASSERT_EQUAL(g_out[24 + 4095], 0xab);
		if (!success) {
			CU_ASSERT_EQUAL(g_out[24 + 4096], 0x05);
		}
		teardown();
	}

	/* a failed read sends no data, only the response */
	setup();
	connect_host(0);
	send_capsule(PLX_NVME_OPC_READ, 3, NULL, 0, 4096, false, false, false);
	deliver(1 << 20);
	core_complete(g_exec[0], PLX_NVME_SC_LBA_OUT_OF_RANGE);
	flush(&g_sock);
	CU_ASSERT_EQUAL(g_out_len, 24);
	CU_ASSERT_EQUAL(((struct plx_nvme_tcp_rsp *)g_out)->rccqe.status.sc,
			PLX_NVME_SC_LBA_OUT_OF_RANGE);
	teardown();
}

static void test_digests_read(void)
{
	const struct plx_nvme_tcp_c2h_data_hdr *c2h = (const void *)g_out;
	uint8_t *data;

	setup();
	connect_host(PLX_NVME_TCP_HDGST_ENABLE | PLX_NVME_TCP_DDGST_ENABLE);
	send_capsule(PLX_NVME_OPC_READ, 4, NULL, 0, 512, true, true, false);
	deliver(1 << 20);
	CU_ASSERT_FATAL(g_nexec == 1);
	memset(g_exec[0]->iov[0].iov_base, 0x5a, 512);
	core_complete(g_exec[0], 0);
	flush(&g_sock);
	CU_ASSERT_EQUAL(g_out_len, 28 + 512 + 4);
	CU_ASSERT_EQUAL(c2h->common.pdo, 28);
	CU_ASSERT_EQUAL(c2h->common.plen, 28 + 512 + 4);
	CU_ASSERT(tcp_hdgst_ok(g_out, 24));
	data = g_out + 28;
	CU_ASSERT_EQUAL(tcp_get_digest(data + 512), plx_crc32c(data, 512));
	teardown();
}

static void test_hdgst_mismatch(void)
{
	setup();
	connect_host(PLX_NVME_TCP_HDGST_ENABLE);
	send_capsule(PLX_NVME_OPC_FLUSH, 1, NULL, 0, 0, true, false, false);
	g_in[g_sock.in_len - 1] ^= 0xff; /* corrupt the header digest */
	deliver(1 << 20);
	CU_ASSERT_EQUAL(g_nexec, 0);
	CU_ASSERT_EQUAL(out_term()->fes, PLX_NVME_TCP_FES_HDGST_ERROR);
	CU_ASSERT_EQUAL(g_out_len, 24 + 76);
	teardown();
}

static void test_ddgst_mismatch(void)
{
	uint8_t data[1024] = {1, 2, 3};
	const struct plx_nvme_tcp_rsp *rsp = (const void *)g_out;

	setup();
	connect_host(PLX_NVME_TCP_DDGST_ENABLE);
	send_capsule(PLX_NVME_OPC_WRITE, 5, data, sizeof(data), 0, false, true, true);
	send_capsule(PLX_NVME_OPC_WRITE, 6, data, sizeof(data), 0, false, true, false);
	deliver(1 << 20);
	/* the first fails with Transient Transport Error, the second runs */
	CU_ASSERT_FATAL(g_nexec == 1);
	CU_ASSERT_EQUAL(g_exec[0]->cmd->cid, 6);
	CU_ASSERT_EQUAL(g_out_len, 24);
	CU_ASSERT_EQUAL(rsp->rccqe.cid, 5);
	CU_ASSERT_EQUAL(rsp->rccqe.status.sc, PLX_NVME_SC_TRANSIENT_TRANSPORT_ERROR);
	core_complete(g_exec[0], 0);
	teardown();
}

static void test_r2t_h2c(void)
{
	static uint8_t data[65536];
	const struct plx_nvme_tcp_r2t_hdr *r2t = (const void *)g_out;
	uint16_t ttag;

	for (size_t i = 0; i < sizeof(data); i++) {
		data[i] = i * 13 + 1;
	}
	for (size_t chunk = 1 << 20; chunk >= 1000; chunk /= 7) {
		setup();
		connect_host(0);
		send_capsule(PLX_NVME_OPC_WRITE, 11, NULL, 0, 65536, false, false, false);
		deliver(chunk);
		CU_ASSERT_EQUAL(g_nexec, 0);
		CU_ASSERT_FATAL(g_out_len == 24);
		CU_ASSERT_EQUAL(r2t->common.pdu_type, 0x09);
		CU_ASSERT_EQUAL(r2t->cccid, 11);
		CU_ASSERT_EQUAL(r2t->r2to, 0);
		CU_ASSERT_EQUAL(r2t->r2tl, 65536);
		ttag = r2t->ttag;
		g_out_len = 0;
		send_h2c(11, ttag, 0, data, 32768, false);
		send_h2c(11, ttag, 32768, data + 32768, 32768, true);
		deliver(chunk);
		check_write_exec(data, 65536, 11);
		core_complete(g_exec[0], 0);
		flush(&g_sock);
		CU_ASSERT_EQUAL(g_out_len, 24);
		teardown();
	}
}

static void test_h2c_bad(void)
{
	uint8_t data[4096] = {0};
	uint16_t ttag;

	/* wrong ttag */
	setup();
	connect_host(0);
	send_capsule(PLX_NVME_OPC_WRITE, 11, NULL, 0, 8192, false, false, false);
	deliver(1 << 20);
	ttag = ((struct plx_nvme_tcp_r2t_hdr *)g_out)->ttag;
	g_out_len = 0;
	send_h2c(11, ttag + 1, 0, data, 4096, false);
	deliver(1 << 20);
	CU_ASSERT_EQUAL(out_term()->fes, PLX_NVME_TCP_FES_INVALID_HEADER_FIELD);
	CU_ASSERT_EQUAL(out_term()->fei, 10);
	teardown();

	/* out of range: beyond the transfer, and not where the last one ended */
	for (int k = 0; k < 2; k++) {
		setup();
		connect_host(0);
		send_capsule(PLX_NVME_OPC_WRITE, 11, NULL, 0, 8192, false, false, false);
		deliver(1 << 20);
		ttag = ((struct plx_nvme_tcp_r2t_hdr *)g_out)->ttag;
		g_out_len = 0;
		send_h2c(11, ttag, k == 0 ? 6144 : 4096, data, 4096, false);
		deliver(1 << 20);
		CU_ASSERT_EQUAL(out_term()->fes, PLX_NVME_TCP_FES_DATA_TRANSFER_OUT_OF_RANGE);
		CU_ASSERT_EQUAL(g_nexec, 0);
		teardown();
	}

	/* wrong cccid */
	setup();
	connect_host(0);
	send_capsule(PLX_NVME_OPC_WRITE, 11, NULL, 0, 4096, false, false, false);
	deliver(1 << 20);
	ttag = ((struct plx_nvme_tcp_r2t_hdr *)g_out)->ttag;
	g_out_len = 0;
	send_h2c(12, ttag, 0, data, 4096, true);
	deliver(1 << 20);
	CU_ASSERT_EQUAL(out_term()->fei, 8);
	teardown();
}

/* ICReq and many capsules in one buffer, then fed one byte per recv: same outcome. */
static void test_many_pdus_any_split(void)
{
	static const size_t chunks[] = {1 << 20, 1, 3, 7, 71, 73, 4099};
	uint8_t data[2048];

	for (int i = 0; i < 2048; i++) {
		data[i] = i;
	}
	for (size_t c = 0; c < PLX_COUNTOF(chunks); c++) {
		for (int dg = 0; dg < 2; dg++) {
			setup();
			send_icreq(dg ? 3 : 0, 0, 0);
			for (uint16_t cid = 0; cid < 20; cid++) {
				send_capsule(PLX_NVME_OPC_WRITE, cid, data, 64 + cid * 97, 0, dg,
					     dg, false);
			}
			deliver(chunks[c]);
			CU_ASSERT_EQUAL(g_out_len, 128);
			CU_ASSERT_FATAL(g_nexec == 20);
			for (int k = 0; k < 20; k++) {
				uint8_t got[2048];
				uint32_t len = 64 + k * 97;

				CU_ASSERT_EQUAL(g_exec[k]->cmd->cid, k);
				CU_ASSERT_EQUAL(g_exec[k]->length, len);
				nvmf_request_copy_from_iov(g_exec[k], got, len);
				CU_ASSERT_EQUAL(memcmp(got, data, len), 0);
				core_complete(g_exec[k], 0);
			}
			flush(&g_sock);
			CU_ASSERT_EQUAL(g_out_len, 128 + 20 * (dg ? 28 : 24));
			teardown();
		}
	}
}

static void test_sgl_errors(void)
{
	const struct plx_nvme_tcp_rsp *rsp = (const void *)g_out;

	/* beyond max_io_size: a status, not a TermReq */
	setup();
	connect_host(0);
	send_capsule(PLX_NVME_OPC_READ, 2, NULL, 0, 131072 + 4096, false, false, false);
	deliver(1 << 20);
	CU_ASSERT_EQUAL(g_nexec, 0);
	CU_ASSERT_EQUAL(g_out_len, 24);
	CU_ASSERT_EQUAL(rsp->common.pdu_type, 0x05);
	CU_ASSERT_EQUAL(rsp->rccqe.status.sc, PLX_NVME_SC_DATA_SGL_LENGTH_INVALID);
	CU_ASSERT_EQUAL(rsp->rccqe.cid, 2);
	teardown();
}

static void test_queue_depth_exceeded(void)
{
	struct nvmf_transport_opts opts;

	g_ops->opts_init(&opts);
	opts.max_queue_depth = 2;
	opts.max_aq_depth = 2; /* the first capsule is not an I/O Connect: admin sizing */
	setup_opts(&opts);
	connect_host(0);
	for (uint16_t cid = 0; cid < 5; cid++) {
		send_capsule(PLX_NVME_OPC_FLUSH, cid, NULL, 0, 0, false, false, false);
	}
	deliver(1 << 20);
	/* slots are twice the depth; the fifth command has none */
	CU_ASSERT_EQUAL(g_nexec, 4);
	CU_ASSERT_EQUAL(out_term()->fes, PLX_NVME_TCP_FES_PDU_SEQUENCE_ERROR);
	run_msgs();
	CU_ASSERT_EQUAL(g_disconnects, 1);
	/* requests in the core hold the close back until they complete */
	run_msgs();
	CU_ASSERT_EQUAL(g_closed, 0);
	for (int i = 0; i < 4; i++) {
		core_complete(g_exec[i], 0);
	}
	run_msgs();
	CU_ASSERT_EQUAL(g_closed, 1);
	teardown();
}

static void test_buffer_wait(void)
{
	static uint8_t data[8192];

	setup();
	connect_host(0);
	g_buf_limit = g_bufs_out; /* the pool is empty */
	send_capsule(PLX_NVME_OPC_READ, 1, NULL, 0, 4096, false, false, false);
	send_capsule(PLX_NVME_OPC_WRITE, 2, NULL, 0, 8192, false, false, false);
	deliver(1 << 20);
	CU_ASSERT_EQUAL(g_nexec, 0);
	CU_ASSERT_EQUAL(g_out_len, 0);
	CU_ASSERT_EQUAL(g_ops->poll_group_poll(g_tgroup), PLX_POLLER_IDLE);
	g_buf_limit = 1 << 30;
	CU_ASSERT_EQUAL(g_ops->poll_group_poll(g_tgroup), PLX_POLLER_BUSY);
	CU_ASSERT_EQUAL(g_nexec, 1);
	flush(&g_sock);
	CU_ASSERT_EQUAL(g_out_len, 24); /* the R2T of the write */
	send_h2c(2, ((struct plx_nvme_tcp_r2t_hdr *)g_out)->ttag, 0, data, 8192, true);
	deliver(1 << 20);
	CU_ASSERT_EQUAL(g_nexec, 2);
	core_complete(g_exec[0], 0);
	core_complete(g_exec[1], 0);
	teardown();
}

static void test_abort_and_disconnect_waiting(void)
{
	setup();
	connect_host(0);
	g_buf_limit = g_bufs_out;
	send_capsule(PLX_NVME_OPC_READ, 1, NULL, 0, 4096, false, false, false);
	send_capsule(PLX_NVME_OPC_READ, 2, NULL, 0, 4096, false, false, false);
	deliver(1 << 20);
	CU_ASSERT(g_ops->qpair_abort_request(&g_tq->qpair, 1));
	CU_ASSERT(!g_ops->qpair_abort_request(&g_tq->qpair, 7));
	flush(&g_sock);
	CU_ASSERT_EQUAL(g_out_len, 24);
	CU_ASSERT_EQUAL(((struct plx_nvme_tcp_rsp *)g_out)->rccqe.status.sc,
			PLX_NVME_SC_ABORTED_BY_REQUEST);
	g_ops->qpair_disconnect(&g_tq->qpair);
	g_buf_limit = 1 << 30;
	run_msgs();
	CU_ASSERT_EQUAL(g_closed, 1);
	CU_ASSERT_EQUAL(g_tq->reqs_used, 0);
	teardown();
}

static void test_create_opts(void)
{
	struct nvmf_transport_opts opts;
	char err[PLX_NVMF_ERR_LEN];
	struct nvmf_transport *t;

	g_ops->opts_init(&opts);
	opts.in_capsule_data_size = 1000;
	CU_ASSERT(g_ops->create(&opts, err) == NULL);
	CU_ASSERT(strstr(err, "in_capsule_data_size") != NULL);
	g_ops->opts_init(&opts);
	opts.max_io_size = 5000;
	CU_ASSERT(g_ops->create(&opts, err) == NULL);
	CU_ASSERT(strstr(err, "max_io_size") != NULL);
	g_ops->opts_init(&opts);
	opts.max_queue_depth = 1;
	CU_ASSERT(g_ops->create(&opts, err) == NULL);
	CU_ASSERT(strstr(err, "max_queue_depth") != NULL);
	g_ops->opts_init(&opts);
	t = g_ops->create(&opts, err);
	CU_ASSERT_FATAL(t != NULL);
	t->opts = opts;
	{
		struct plx_nvme_trid trid = {.trtype = PLX_NVMF_TRTYPE_TCP};

		snprintf(trid.traddr, sizeof(trid.traddr), "127.0.0.1");
		snprintf(trid.trsvcid, sizeof(trid.trsvcid), "4420");
		CU_ASSERT_EQUAL(g_ops->listen(t, &trid, err), -EADDRINUSE);
		CU_ASSERT(strstr(err, "127.0.0.1") != NULL);
	}
	g_ops->destroy(t);
}

static const struct plx_ut_case cases[] = {
    {"icreq_negotiation", test_icreq_negotiation},
    {"icreq_bad", test_icreq_bad},
    {"wrong_state", test_wrong_state},
    {"capsule_icd_write", test_capsule_icd_write},
    {"read_c2h", test_read_c2h},
    {"digests_read", test_digests_read},
    {"hdgst_mismatch", test_hdgst_mismatch},
    {"ddgst_mismatch", test_ddgst_mismatch},
    {"r2t_h2c", test_r2t_h2c},
    {"h2c_bad", test_h2c_bad},
    {"many_pdus_any_split", test_many_pdus_any_split},
    {"sgl_errors", test_sgl_errors},
    {"queue_depth_exceeded", test_queue_depth_exceeded},
    {"buffer_wait", test_buffer_wait},
    {"abort_and_disconnect_waiting", test_abort_and_disconnect_waiting},
    {"create_opts", test_create_opts},
};

PLX_UT_MAIN("nvmf_tcp_qpair", cases)
