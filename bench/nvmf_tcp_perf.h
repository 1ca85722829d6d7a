/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to nvmf_tcp_perf: the NVMe/TCP host connections (nvmf_tcp_perf_host.c) that the load
 * generator (nvmf_tcp_perf.c) drives. One connection is one queue pair; every command runs in
 * a preallocated slot whose cid is its index.
 */
#ifndef NVMF_TCP_PERF_H
#define NVMF_TCP_PERF_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "pollux/nvme_spec.h"
#include "pollux/nvme_tcp_spec.h"
#include "pollux/util.h"

#define PROG	      "nvmf_tcp_perf"
#define RX_BUF_SIZE   (512u * 1024)
#define HDR_STRIDE    192  /* one PDU header + digest + padding up to PDO (<= 128) */
#define HDR_DDGST_OFF 176  /* where that PDU's data digest waits to be sent */
#define ADMIN_BUF     8192 /* admin in-capsule data size of NVMe/TCP */
#define CMD_TIMEOUT_S 10   /* setup commands */

/* Print "nvmf_tcp_perf: MESSAGE" on stderr; returns -1. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- clock: the TSC when it is invariant (clock_init decides), else CLOCK_MONOTONIC_RAW ---- */

extern bool g_use_tsc;
extern uint64_t g_hz; /* ticks per second */

void clock_init(void);

static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t ticks(void)
{
#if defined(__x86_64__)
	if (plx_likely(g_use_tsc)) {
		return __rdtsc();
	}
#endif
	return mono_ns();
}

/* Where to connect and who we are. */
struct host_params {
	char traddr[PLX_NVMF_TRADDR_MAX_LEN + 1];
	char trsvcid[33];
	char subnqn[PLX_NVMF_NQN_MAX_LEN + 1];
	char hostnqn[PLX_NVMF_NQN_MAX_LEN + 1];
	struct plx_uuid hostid;
	int family;
	bool hdgst;
	bool ddgst;
};

struct slot {
	uint8_t *hdr; /* command PDU header area; the SQE is at hdr + 8 */
	uint8_t *h2c; /* max_h2c_pdus header areas for H2CData */
	uint8_t *buf; /* data buffer */
	uint64_t tsc; /* submission time */
	uint64_t lba;
	uint32_t len; /* data bytes of the command */
	uint32_t nlb;
	uint32_t seq;	 /* verify stamp of a write */
	uint32_t xfered; /* C2H bytes received, or H2C bytes asked for by R2T */
	uint16_t cid;
	uint8_t opc;
	uint8_t dir; /* enum plx_nvme_data_transfer; of fctype for fabrics commands */
	bool busy;
	bool sync; /* setup command: completion only sets done */
	bool done;
	bool in_capsule;
	bool keep_data; /* copy C2H data into buf */
	struct plx_nvme_cpl cpl;
};

enum rx_state { RX_HDR, RX_PAD, RX_DATA, RX_DDGST };

struct conn {
	void (*io_done)(struct conn *c, struct slot *s); /* non-sync completions */
	void *ctx;
	int fd;
	uint16_t qid;
	bool hdgst;
	bool ddgst;
	bool ic_done;
	uint32_t cpda_align; /* bytes */
	uint32_t maxh2cdata;
	uint32_t icd_max; /* in-capsule data bytes allowed */
	uint32_t max_h2c_pdus;

	struct slot *slots;
	uint32_t nslots;
	uint16_t *free_stack;
	uint32_t nfree;
	uint32_t qd; /* commands kept in flight */
	uint32_t inflight;
	uint8_t *hdr_mem;

	struct iovec *iov;
	uint32_t iov_cap;
	uint32_t iov_head;
	uint32_t iov_cnt;

	uint8_t *rbuf;
	uint32_t rhead;
	uint32_t rtail;
	enum rx_state rx;
	union plx_nvme_tcp_pdu_hdr rxh; /* current C2HData header, or the ICResp */
	struct slot *rx_slot;
	uint32_t rx_pad;
	uint32_t rx_left;
	uint32_t rx_off;
	uint32_t rx_crc;
	uint8_t rx_ddgst[4];
	uint32_t rx_ddgst_got;
	uint64_t now; /* clock of the current receive batch */
};

static inline uint32_t le32(const void *p)
{
	uint32_t v = 0;

	memcpy(&v, p, 4);
	return v;
}

static inline struct slot *slot_get(struct conn *c)
{
	struct slot *s;

	if (c->nfree == 0) {
		return NULL;
	}
	s = &c->slots[c->free_stack[--c->nfree]];
	s->busy = true;
	return s;
}

static inline void slot_put(struct conn *c, struct slot *s)
{
	s->busy = false;
	c->free_stack[c->nfree++] = s->cid;
}

static inline struct plx_nvme_cmd *slot_cmd(struct slot *s)
{
	return (struct plx_nvme_cmd *)(s->hdr + sizeof(struct plx_nvme_tcp_common_hdr));
}

const char *fes_str(uint16_t fes);
const char *status_str(const struct plx_nvme_cpl *cpl);

/* Slots, iovecs and buffers of buf_size bytes for c (after the ICResp set its limits). */
int conn_alloc(struct conn *c, uint32_t nslots, uint32_t buf_size);
void conn_free(struct conn *c);

/* Queue the capsule of s (SQE filled, s->len bytes in s->buf); conn_flush sends. */
void conn_submit(struct conn *c, struct slot *s);
int conn_on_r2t(struct conn *c, const struct plx_nvme_tcp_r2t_hdr *r2t);
int conn_flush(struct conn *c);

/* One recv, then every whole PDU in it: 1 when data came, 0 if none, -1 on error (printed). */
int conn_poll(struct conn *c);

/* TCP connect and ICReq/ICResp for queue qid, then conn_alloc. */
int conn_open(const struct host_params *h, struct conn *c, uint16_t qid, uint32_t nslots,
	      uint32_t buf);

/* Setup commands, run synchronously: 0, -1 (printed) or -2 (failed status, printed). */
int conn_exec(struct conn *c, const void *sqe, const void *data, uint32_t len, bool keep,
	      const char *what, struct slot **out);
int fabric_connect(const struct host_params *h, struct conn *c, uint16_t sqsize, uint32_t kato,
		   uint16_t *cntlid);
int prop_get(struct conn *a, uint32_t ofst, bool eight, uint64_t *val);
int prop_set(struct conn *a, uint32_t ofst, uint32_t val);
int identify(struct conn *a, uint8_t cns, uint32_t nsid, void *out);

#endif /* NVMF_TCP_PERF_H */
