/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe/TCP transport, internal view:
 *
 *   tcp_pdu.c    pure PDU layer: header checks against the connection state, digests, builders
 *   tcp_qpair.c  a connection: receive framing, the request state machine, sends, buffers
 *   tcp.c        the transport ops: options, listeners and the acceptor, poll groups
 *
 * Everything of a connection runs on its poll group's thread; no locks, no allocation per I/O.
 */
#ifndef POLLUX_NVMF_TCP_INTERNAL_H
#define POLLUX_NVMF_TCP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include "nvmf_internal.h"
#include "pollux/nvme_tcp_spec.h"
#include "pollux/sock.h"

#define NVMF_TCP_RECV_BUF_SIZE		 65536	/* bytes read per recv, parsed as many PDUs */
#define NVMF_TCP_MAXH2CDATA		 131072 /* advertised in ICResp */
#define NVMF_TCP_SMALL_BUF_SIZE		 8192	/* requests up to this use one small iobuf buffer */
#define NVMF_TCP_MAX_ICD_SIZE		 131072 /* largest in_capsule_data_size accepted */
#define NVMF_TCP_DIRECT_RECV_MIN	 16384 /* data this large is read straight into the request */
#define NVMF_TCP_DEFAULT_SMALL_CACHE	 128   /* iobuf_small_cache_size when "auto" (UINT32_MAX) */
#define NVMF_TCP_DEFAULT_LARGE_CACHE	 32    /* iobuf_large_cache_size when "auto" */
#define NVMF_TCP_DEFAULT_ACCEPTOR_RATE	 10000 /* µs */
#define NVMF_TCP_DEFAULT_CONTROL_MSG_NUM 32
#define NVMF_TCP_MAX_SEND_IOVS		 (NVMF_REQ_MAX_IOVS + 4)

/* ---- PDU layer (tcp_pdu.c) ---- */

enum tcp_conn_state {
	TCP_CONN_AWAIT_ICREQ = 0, /* only an ICReq may arrive */
	TCP_CONN_RUNNING,	  /* capsules, H2CData, H2CTermReq */
	TCP_CONN_ERROR,		  /* TermReq sent or connection closing: input is ignored */
};

/* What the checks of a received header need to know about the connection. */
struct tcp_pdu_limits {
	bool hdgst;	     /* header digest negotiated */
	bool ddgst;	     /* data digest negotiated */
	uint32_t max_icd;    /* in-capsule data allowed on this queue */
	uint32_t maxh2cdata; /* largest H2CData payload */
};

/* A fatal protocol error: what the C2HTermReq reports. */
struct tcp_pdu_error {
	uint16_t fes;
	uint32_t fei;
};

/* Lengths of a received PDU, derived once its common header passed the checks. */
struct tcp_pdu_layout {
	uint32_t hdr_len;  /* hlen + header digest */
	uint32_t pad_len;  /* bytes between the header digest and pdo */
	uint32_t data_len; /* PDU data */
	uint32_t ddgst_len;
};

/*
 * Check a received common header against the connection state and limits. 0 and the layout,
 * or -EPROTO with err filled (FES and the byte offset of the bad field).
 */
int tcp_pdu_check_common(const struct plx_nvme_tcp_common_hdr *ch, enum tcp_conn_state state,
			 const struct tcp_pdu_limits *lim, struct tcp_pdu_layout *layout,
			 struct tcp_pdu_error *err);

/* Check a complete ICReq (pfv, hpda). 0 or -EPROTO with err filled. */
int tcp_pdu_check_ic_req(const struct plx_nvme_tcp_ic_req *icreq, struct tcp_pdu_error *err);

/* Check an H2CData header against the transfer it belongs to. */
int tcp_pdu_check_h2c_data(const struct plx_nvme_tcp_h2c_data_hdr *h2c, uint32_t data_len,
			   uint16_t cid, uint32_t expected_offset, uint32_t transfer_len,
			   struct tcp_pdu_error *err);

/* Header digest: CRC32C of the hlen header bytes. */
static inline uint32_t tcp_hdgst(const void *hdr, uint32_t hlen)
{
	return plx_crc32c(hdr, hlen);
}

/* True when the little-endian digest stored after the hlen header bytes matches. */
bool tcp_hdgst_ok(const void *hdr, uint32_t hlen);

/* CRC32C over len bytes of iov (a data digest). */
uint32_t tcp_ddgst_iov(const struct iovec *iov, int iovcnt, uint32_t len);

/* Store a digest little-endian. */
void tcp_put_digest(void *dst, uint32_t crc);
uint32_t tcp_get_digest(const void *src);

/* Builders: fill buf and return the bytes written (header and header digest). */
uint32_t tcp_pdu_build_ic_resp(void *buf, bool hdgst, bool ddgst, uint32_t maxh2cdata);
uint32_t tcp_pdu_build_capsule_resp(void *buf, const struct plx_nvme_cpl *cpl, bool hdgst);
uint32_t tcp_pdu_build_r2t(void *buf, uint16_t cid, uint16_t ttag, uint32_t r2to, uint32_t r2tl,
			   bool hdgst);
/*
 * C2HData header for datal bytes at datao. pad is set to the zero bytes the sender must put
 * between this header and the data (hpda alignment). flags: LAST_PDU / SUCCESS.
 */
uint32_t tcp_pdu_build_c2h_data(void *buf, uint16_t cid, uint32_t datao, uint32_t datal,
				uint8_t flags, bool hdgst, bool ddgst, uint8_t hpda, uint32_t *pad);
/* C2HTermReq with the offending header (at most 152 bytes) as data; buf holds 24 + 152. */
uint32_t tcp_pdu_build_term_req(void *buf, uint16_t fes, uint32_t fei, const void *bad_hdr,
				uint32_t bad_len);

/* ---- transport, poll group, connection, request ---- */

struct tcp_listener {
	struct plx_nvme_trid trid;
	struct plx_sock *sock;
	TAILQ_ENTRY(tcp_listener) link;
};

struct tcp_transport {
	struct nvmf_transport base;
	struct plx_poller *acceptor;
	struct plx_sock_group *listen_group; /* interrupt mode: wakes the acceptor */
	TAILQ_HEAD(, tcp_listener) listeners;
};

/* A per-poll-group cache of iobuf buffers of one size. */
struct tcp_buf_cache {
	void **bufs;
	uint32_t count;
	uint32_t cap;
	uint64_t buf_len;
};

struct tcp_req;
struct tcp_qpair;

struct tcp_poll_group {
	struct nvmf_transport_poll_group base;
	struct plx_sock_group *sgroup;
	struct tcp_buf_cache small;
	struct tcp_buf_cache large;
	TAILQ_HEAD(, tcp_req) pending_buf; /* requests waiting for data buffers, in order */
	TAILQ_HEAD(, tcp_qpair) qpairs;
	/*
	 * Connections with sends queued since the last flush. Flushed at the end of each group
	 * poll, or by one message per burst when the sends were queued outside the poll (a bdev
	 * completion, a message): otherwise an idle reactor could sleep with responses queued.
	 */
	TAILQ_HEAD(, tcp_qpair) flush_list;
	bool in_poll;
	bool flush_scheduled;
	bool destroyed; /* freed by the pending flush message */
	uint64_t stat_pending_data_buffer;
	uint64_t stat_ddgst_errors;
	uint64_t stat_term_reqs;
};

enum tcp_req_state {
	TCP_REQ_FREE = 0,
	TCP_REQ_RECV_ICD,    /* capsule header in; in-capsule data being received */
	TCP_REQ_NEED_BUFFER, /* on tgroup->pending_buf */
	TCP_REQ_NEED_R2T,    /* buffers held; waiting for an R2T slot (tq->wait_r2t) */
	TCP_REQ_H2C,	     /* R2T sent; receiving H2CData */
	TCP_REQ_EXECUTING,   /* in the core */
	TCP_REQ_SENDING,     /* response queued; released when its sends completed */
};

enum tcp_buf_kind {
	TCP_BUF_NONE = 0,
	TCP_BUF_ICD,
	TCP_BUF_SMALL,
	TCP_BUF_LARGE,
};

struct tcp_req {
	struct nvmf_request req;
	struct tcp_qpair *tq;
	enum tcp_req_state state;
	uint16_t ttag;
	uint8_t buf_kind;
	uint8_t nbufs;
	uint8_t pending_sends;
	bool ddgst_error; /* data digest mismatch: fail with Transient Transport Error */
	bool has_status;  /* the transport decided the status; do not execute */
	uint32_t h2c_received;
	void *icd_buf;
	void *bufs[NVMF_REQ_MAX_IOVS]; /* data buffers held (the core may not keep req->iov) */
	struct plx_nvme_cmd cmd;
	struct plx_nvme_cpl rsp;
	TAILQ_ENTRY(tcp_req) link; /* free list, pending_buf or wait_r2t */

	/* Sends: the R2T, and the response (C2HData PDU and/or CapsuleResp) in one request. */
	struct plx_sock_request r2t_sreq;
	struct iovec r2t_iov;
	uint8_t r2t_hdr[PLX_NVME_TCP_R2T_HLEN + PLX_NVME_TCP_DIGEST_LEN];
	struct plx_sock_request rsp_sreq;
	struct iovec rsp_iov[NVMF_TCP_MAX_SEND_IOVS];
	uint8_t c2h_hdr[PLX_NVME_TCP_DATA_HLEN + PLX_NVME_TCP_DIGEST_LEN];
	uint8_t ddgst[PLX_NVME_TCP_DIGEST_LEN];
	uint8_t rsp_hdr[PLX_NVME_TCP_CAPSULE_RESP_HLEN + PLX_NVME_TCP_DIGEST_LEN];
};

enum tcp_rx_phase {
	TCP_RX_CH = 0, /* common header */
	TCP_RX_HDR,    /* rest of the header and its digest */
	TCP_RX_PAD,
	TCP_RX_DATA,
	TCP_RX_DDGST,
};

struct tcp_qpair {
	struct nvmf_qpair qpair;
	struct tcp_transport *ttransport;
	struct tcp_poll_group *tgroup;
	struct plx_sock *sock;
	enum tcp_conn_state state;
	bool closing;	      /* qpair_disconnect ran */
	bool closed_notified; /* nvmf_qpair_transport_closed sent */
	bool in_group;	      /* on tgroup->qpairs, socket in its group */
	bool in_flush_list;
	bool is_admin;
	uint8_t hpda;
	uint32_t max_r2t; /* outstanding R2Ts allowed (host maxr2t + 1) */
	uint32_t r2t_outstanding;
	struct tcp_pdu_limits lim;

	/* Requests: allocated at the first capsule, when Connect tells the queue type. */
	uint32_t num_reqs;
	struct tcp_req *reqs;
	void *icd_mem;
	uint32_t icd_size;
	uint32_t reqs_in_core; /* handed to nvmf_request_exec, not yet back */
	uint32_t reqs_used;    /* not on free_reqs */
	TAILQ_HEAD(, tcp_req) free_reqs;
	TAILQ_HEAD(, tcp_req) wait_r2t;

	/* Receive framing */
	uint8_t *rbuf;
	enum tcp_rx_phase phase;
	union plx_nvme_tcp_pdu_hdr hdr;
	uint32_t hdr_have;
	struct tcp_pdu_layout layout;
	uint32_t skip_left;	/* padding */
	uint32_t data_left;	/* PDU data still to come */
	uint32_t data_off;	/* where the next byte goes in rx_req's iov */
	struct tcp_req *rx_req; /* request the data belongs to (NULL: none) */
	struct iovec *rx_iov;	/* destination of the data (NULL: discard) */
	int rx_iovcnt;
	struct iovec icd_iov;
	uint32_t ddgst_crc; /* running CRC of the data (not yet inverted) */
	uint8_t ddgst_in[PLX_NVME_TCP_DIGEST_LEN];
	uint32_t ddgst_have;

	/* Control PDUs: ICResp and C2HTermReq */
	struct plx_sock_request ic_sreq;
	struct iovec ic_iov;
	uint8_t ic_buf[PLX_NVME_TCP_IC_RESP_HLEN];
	struct plx_sock_request term_sreq;
	struct iovec term_iov;
	uint8_t term_buf[PLX_NVME_TCP_TERM_REQ_HLEN + PLX_NVME_TCP_TERM_REQ_MAX_DATA];
	uint32_t ctl_sends;

	struct plx_nvme_trid peer_trid;
	struct plx_nvme_trid local_trid;
	TAILQ_ENTRY(tcp_qpair) link;	   /* tgroup->qpairs */
	TAILQ_ENTRY(tcp_qpair) flush_link; /* tgroup->flush_list */
};

static inline struct tcp_qpair *tcp_qpair(struct nvmf_qpair *qpair)
{
	return PLX_CONTAINEROF(qpair, struct tcp_qpair, qpair);
}

static inline struct tcp_req *tcp_req(struct nvmf_request *req)
{
	return PLX_CONTAINEROF(req, struct tcp_req, req);
}

static inline struct tcp_transport *tcp_transport(struct nvmf_transport *transport)
{
	return PLX_CONTAINEROF(transport, struct tcp_transport, base);
}

static inline struct tcp_poll_group *tcp_poll_group(struct nvmf_transport_poll_group *tgroup)
{
	return PLX_CONTAINEROF(tgroup, struct tcp_poll_group, base);
}

/* ---- tcp_qpair.c ---- */

/* Buffer caches of a poll group. */
int nvmf_tcp_buf_cache_init(struct tcp_buf_cache *cache, uint32_t cap, uint64_t buf_len);
void nvmf_tcp_buf_cache_fini(struct tcp_buf_cache *cache);

/* A new connection joins tgroup (its socket is added to the group's socket group). */
int nvmf_tcp_qpair_start(struct tcp_poll_group *tgroup, struct tcp_qpair *tq);

/* The socket group's read callback of a connection. */
void nvmf_tcp_sock_cb(void *arg, struct plx_sock_group *group, struct plx_sock *sock);

/* Write out what connections queued (one writev each). */
void nvmf_tcp_flush_queued(struct tcp_poll_group *tgroup);

/* Retry requests waiting for buffers; returns how many made progress. */
int nvmf_tcp_process_pending(struct tcp_poll_group *tgroup);

int nvmf_tcp_req_complete(struct nvmf_request *req);
void nvmf_tcp_qpair_disconnect(struct nvmf_qpair *qpair);
void nvmf_tcp_qpair_free(struct nvmf_qpair *qpair);
bool nvmf_tcp_qpair_abort_request(struct nvmf_qpair *qpair, uint16_t cid);

#endif /* POLLUX_NVMF_TCP_INTERNAL_H */
