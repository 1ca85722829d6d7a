/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe/TCP host transport's internals: the pure PDU layer (nvme_tcp_pdu.c: building the
 * PDUs a host sends, checking and parsing what a controller sends) and the structures the
 * transport (nvme_tcp.c) keeps per queue pair.
 *
 * The receive parser is a byte-stream state machine: it is fed whatever one recv returned
 * (any split, down to one byte at a time) and calls back once per header and once per whole
 * PDU. It never reads outside what it was given and rejects a malformed PDU with -EPROTO and
 * a message in rx->err; the transport then fails the queue pair.
 */
#ifndef POLLUX_NVME_TCP_INTERNAL_H
#define POLLUX_NVME_TCP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "pollux/nvme_tcp_spec.h"

#define NVME_TCP_ADMIN_ICD   8192 /* in-capsule data on the admin queue (the spec's limit) */
#define NVME_TCP_MAX_SGE     32	  /* iovecs of one request's payload */
#define NVME_TCP_MAX_XFER    (1u << 20)
#define NVME_TCP_SIOV_MAX    256 /* iovecs of one writev */
#define NVME_TCP_BATCH_MAX   64	 /* capsules held before a batch is written anyway */
#define NVME_TCP_RXBUF_IO    (64u * 1024)
#define NVME_TCP_RXBUF_ADMIN (16u * 1024)
#define NVME_TCP_HDR_BUF     128 /* header, digest and padding up to the largest PDO */
#define NVME_TCP_ERR_LEN     160

/* ---- PDUs the host sends ---- */

/* ICReq (pfv 0, hpda 0, maxr2t 0) into buf (128 bytes). Returns 128. */
uint32_t nvme_tcp_build_ic_req(void *buf, bool hdgst, bool ddgst);

/*
 * Check an ICResp against what the ICReq asked for: pfv 0, cpda within range, only requested
 * digests enabled, maxh2cdata at least 4096 and a multiple of 4. 0 or -EPROTO with err set.
 */
int nvme_tcp_check_ic_resp(const struct plx_nvme_tcp_ic_resp *resp, bool want_hdgst,
			   bool want_ddgst, char *err);

/*
 * The header of a CapsuleCmd carrying cmd and icd_len bytes of in-capsule data, into buf
 * (NVME_TCP_HDR_BUF bytes): common header, SQE, header digest, zero padding up to PDO (the
 * controller's alignment, (cpda + 1) * 4). Returns the bytes of buf to send before the data.
 */
uint32_t nvme_tcp_build_capsule(void *buf, const struct plx_nvme_cmd *cmd, uint32_t icd_len,
				bool hdgst, bool ddgst, uint8_t cpda);

/* The header of an H2CData PDU, as nvme_tcp_build_capsule. Returns the bytes before the data. */
uint32_t nvme_tcp_build_h2c(void *buf, uint16_t cccid, uint16_t ttag, uint32_t datao,
			    uint32_t datal, bool last, bool hdgst, bool ddgst, uint8_t cpda);

/* ---- iovec helpers ---- */

/* The iovecs covering [off, off + len) of src into dst (at most max). Count, or -1. */
int nvme_tcp_iov_slice(struct iovec *dst, int max, const struct iovec *src, int srccnt,
		       uint32_t off, uint32_t len);

/* The data digest (final CRC32C) of cnt iovecs. */
uint32_t nvme_tcp_iov_crc32c(const struct iovec *iov, int cnt);

/* ---- the receive parser ---- */

enum nvme_tcp_rx_state {
	NVME_TCP_RX_CH = 0, /* the 8-byte common header */
	NVME_TCP_RX_HDR,    /* the rest of the header and its digest */
	NVME_TCP_RX_PAD,    /* bytes between the header and PDO */
	NVME_TCP_RX_DATA,
	NVME_TCP_RX_DDGST,
};

struct nvme_tcp_rx;

/* 0 to go on, a negative errno (message in rx->err) to stop with that error. */
typedef int (*nvme_tcp_rx_cb)(void *ctx, struct nvme_tcp_rx *rx);

struct nvme_tcp_rx {
	union plx_nvme_tcp_pdu_hdr hdr;
	enum nvme_tcp_rx_state state;
	bool ic_done; /* ICResp seen: capsule responses and data from now on */
	bool hdgst;   /* negotiated digests */
	bool ddgst;
	bool stop; /* set by a callback: return from feed after this PDU */
	uint32_t hdr_got;
	uint32_t hdr_len; /* hlen plus the header digest */
	uint32_t pad_left;
	uint32_t data_len;
	uint32_t data_got;
	uint32_t ddgst_got;
	uint32_t crc;
	uint8_t ddgst_buf[PLX_NVME_TCP_DIGEST_LEN];
	/* Where the data of a C2HData goes: set by on_header (NULL: discard). */
	const struct iovec *dst_iov;
	int dst_cnt;
	int dst_idx;		  /* cursor: iovec */
	size_t dst_ioff;	  /* cursor: offset in that iovec */
	nvme_tcp_rx_cb on_header; /* a whole header (digest checked) */
	nvme_tcp_rx_cb on_pdu;	  /* a whole PDU (data digest checked) */
	void *ctx;
	char err[NVME_TCP_ERR_LEN];
};

/* Reset to "expect an ICResp", with callbacks. */
void nvme_tcp_rx_init(struct nvme_tcp_rx *rx, nvme_tcp_rx_cb on_header, nvme_tcp_rx_cb on_pdu,
		      void *ctx);

/* Point the data of the current PDU at [off, ...) of iov (called from on_header). */
void nvme_tcp_rx_set_dst(struct nvme_tcp_rx *rx, const struct iovec *iov, int cnt, uint32_t off);

/*
 * Parse len bytes. Returns the bytes consumed (less than len only when a callback set stop),
 * or a negative errno with rx->err set: -EPROTO for a malformed PDU, -ECONNRESET for a
 * C2HTermReq, or what a callback returned.
 */
ssize_t nvme_tcp_rx_feed(struct nvme_tcp_rx *rx, const uint8_t *buf, size_t len);

/* Name of a TermReq fatal error status. */
const char *nvme_tcp_fes_str(uint16_t fes);

#endif /* POLLUX_NVME_TCP_INTERNAL_H */
