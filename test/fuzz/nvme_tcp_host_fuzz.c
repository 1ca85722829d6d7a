/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the NVMe/TCP host transport (lib/nvme/nvme_tcp*.c): the receive
 * parser and the qpair state machine behind it, fed what a controller would send.
 *
 * The harness plays the controller over loopback TCP. Once per process it constructs a
 * controller through the TCP transport (admin ICReq and Connect answered by a short-lived
 * helper thread) and marks it ready. Each input then:
 *
 *   1. allocates an I/O qpair with plx_nvme_ctrlr_alloc_io_qpair; a helper thread accepts
 *      the connection and answers its ICReq with a valid ICResp (digests, CPDA and
 *      MAXH2CDATA chosen by the input) and its Connect with a success CapsuleResp; from
 *      here on the harness thread alone drives both ends;
 *   2. submits up to 8 commands (reads, writes and flushes of different sizes, contiguous or
 *      scatter-gather, writes in-capsule or through R2T), so cids 0..7 are outstanding and
 *      the input's C2HData, R2T and CapsuleResp PDUs can match them;
 *   3. writes the rest of the input to the host as the controller's byte stream, in chunks
 *      the input shapes, polling the qpair between chunks (completions may resubmit);
 *   4. frees the qpair (plx_nvme_ctrlr_free_io_qpair) and checks that every command that was
 *      submitted completed exactly once.
 *
 * Input layout (missing bytes read as 0):
 *
 *   h[0]  bit 0/1 host asks for header / data digests; bit 2/3 the ICResp refuses that
 *         header / data digest; bit 4 recompute the digests each stream PDU's flags announce;
 *         bit 5 small socket buffers; bits 7:6 chunking (CHUNK_*)
 *   h[1]  bits 4:0 CPDA; bits 7:5 MAXH2CDATA (g_maxh2cdata)
 *   h[2]  bits 2:0 commands - 1; bit 3 4 KiB of in-capsule data (else every write uses R2T);
 *         bits 5:4 completions per poll (0: no limit); bit 6 delay_cmd_submit; bit 7 a
 *         completion resubmits its command (at most RESUBMIT_MAX times per input)
 *   h[3]  bits 1:0 transport retries; bits 3:2 draining of what the host sends (DRAIN_*);
 *         bits 5:4 queue size (g_queue_size); bits 7:6 polls per chunk - 1
 *   h[4]  seed of the chunk sizes
 *   h[5..7]  reserved
 *   h[8..15] one byte per command: bits 1:0 kind (read, write, flush, read); bits 4:2 size
 *         (g_sizes); bit 5 scatter-gather; bits 7:6 its segment size (g_seg_sizes)
 *   rest  the controller's stream after the ICResp and the Connect response
 *
 * Commands get cids in submission order (0, 1, ...), the Connect having given cid 0 back.
 * test/fuzz/gen_nvme_tcp_host_corpus.py writes the seed corpus.
 *
 * POLLUX_FUZZ_LOG=1 keeps the driver's error log (every failed qpair logs why);
 * POLLUX_FUZZ_TRACE=1 prints each command's completion and what the host sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../lib/nvme/nvme_internal.h"
#include "fuzz_tcp_util.h"
#include "pollux/log.h"
#include "pollux/nvme.h"
#include "pollux/nvme_tcp_spec.h"
#include "pollux/sock.h"

#define HDR_LEN	      16
#define MAX_CMDS      8
#define MAX_SEGS      32
#define RESUBMIT_MAX  8
#define SEND_TRIES    8	   /* a full socket: polls of the host before the stream stops */
#define SETTLE_POLLS  4	   /* after the stream */
#define HS_TIMEOUT_MS 5000 /* the host's side of a handshake, in loopback */
#define SMALL_BUF     4096
#define SECTOR	      512
#define CNTLID	      1
#define SUBNQN	      "nqn.2016-06.io.pollux:fuzz-host"

enum chunking {
	CHUNK_PER_PDU = 0, /* one write per PDU (framed by plen) */
	CHUNK_ONE_WRITE,   /* the whole stream at once: many PDUs per receive */
	CHUNK_SPLIT_PDU,   /* every PDU in two writes, cut where the seed says */
	CHUNK_RANDOM,	   /* sizes from a generator seeded by h[4] */
};

enum drain {
	DRAIN_EVERY = 0, /* after every chunk */
	DRAIN_SOME,	 /* after every 4th chunk */
	DRAIN_BLOCKED,	 /* only when the host's answers block our writes, and at the end */
	DRAIN_NEVER,	 /* the host's writes back up: completions wait for them */
};

static const uint32_t g_maxh2cdata[8] = {4096, 8192, 4100, 16384, 65536, 131072, 12292, 0xfffffffc};
static const uint32_t g_queue_size[4] = {32, 4, 2, 8};
static const uint32_t g_sizes[8] = {512, 4096, 8192, 1000, 4100, 16384, 65536, 131072};
static const uint32_t g_seg_sizes[4] = {512, 1000, 4096, 7};

enum io_kind { IO_READ, IO_WRITE, IO_FLUSH };

struct fuzz_run;

struct fuzz_io {
	struct fuzz_run *run;
	enum io_kind kind;
	bool sgl;
	uint32_t len;
	uint8_t *buf; /* contiguous payload */
	uint8_t *seg[MAX_SEGS];
	uint32_t seg_len[MAX_SEGS];
	int nseg;
	int cur_seg; /* scatter-gather cursor */
	uint32_t cur_off;
	uint32_t submitted;
	uint32_t completed;
	struct plx_nvme_cpl cpl;
};

struct fuzz_run {
	struct plx_nvme_qpair *qpair;
	int fd; /* the controller's end */
	uint32_t max_completions;
	uint32_t polls_per_chunk;
	enum drain drain;
	bool resubmit;
	bool teardown;
	bool failed;
	uint32_t resubmits;
	uint64_t host_sent;
	int nios;
	struct fuzz_io ios[MAX_CMDS];
};

/* What the handshake thread answers, and the connection it hands back. */
struct handshake {
	uint8_t dgst; /* ICResp dgst */
	uint8_t cpda;
	uint32_t maxh2cdata;
	bool small_buf;
	int fd;
	char err[96];
};

struct stats {
	uint64_t inputs;
	uint64_t failed;
	uint64_t completions;
	uint64_t errors; /* completions with an error status */
	uint64_t resubmits;
};

/* Listeners: [1] has small socket buffers, inherited by what it accepts (the window a
 * connection starts with cannot shrink later). */
static int g_lfd[2] = {-1, -1};
static char g_port[2][16];
static int g_admin_fd = -1;
static struct plx_nvme_ctrlr *g_ctrlr;
static struct plx_nvme_ns g_ns;
static bool g_trace;
static struct stats g_stats;
static uint8_t g_scratch[65536];

static void fatal(const char *fmt, const char *arg)
{
	fprintf(stderr, "nvme_tcp_host_fuzz: FATAL: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	abort();
}

/* ---- the controller's side of ICReq/ICResp and Connect (helper thread) ---- */

static int read_exact(int fd, uint8_t *buf, size_t len)
{
	while (len > 0) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, HS_TIMEOUT_MS) <= 0) {
			return -1;
		}
		n = recv(fd, buf, len, 0);
		if (n <= 0) {
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n <= 0) {
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int hs_fail(struct handshake *hs, const char *what)
{
	snprintf(hs->err, sizeof(hs->err), "%s: %s", what, strerror(errno));
	return -1;
}

static int hs_serve(struct handshake *hs)
{
	int lfd = g_lfd[hs->small_buf];
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	struct plx_nvme_tcp_ic_resp resp = {0};
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	uint8_t buf[2048], rsp[28] = {0};
	uint32_t plen, rlen = PLX_NVME_TCP_CAPSULE_RESP_HLEN;
	int one = 1;

	if (poll(&p, 1, HS_TIMEOUT_MS) <= 0) {
		return hs_fail(hs, "no connection");
	}
	hs->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (hs->fd < 0) {
		return hs_fail(hs, "accept");
	}
	/* Closed with a reset: no TIME_WAIT pile-up at thousands of connections a second. */
	setsockopt(hs->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	setsockopt(hs->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (read_exact(hs->fd, buf, PLX_NVME_TCP_IC_REQ_HLEN) != 0 ||
	    buf[0] != PLX_NVME_TCP_PDU_IC_REQ) {
		return hs_fail(hs, "ICReq");
	}
	resp.common.pdu_type = PLX_NVME_TCP_PDU_IC_RESP;
	resp.common.hlen = PLX_NVME_TCP_IC_RESP_HLEN;
	resp.common.plen = PLX_NVME_TCP_IC_RESP_HLEN;
	resp.pfv = PLX_NVME_TCP_PFV_1_0;
	resp.cpda = hs->cpda;
	resp.dgst = hs->dgst & buf[11]; /* only what was asked for */
	resp.maxh2cdata = hs->maxh2cdata;
	if (write_all(hs->fd, (const uint8_t *)&resp, sizeof(resp)) != 0) {
		return hs_fail(hs, "ICResp");
	}
	/* The Connect capsule, whatever its digests and padding: framed by plen. */
	if (read_exact(hs->fd, buf, 8) != 0) {
		return hs_fail(hs, "Connect");
	}
	plen = fuzz_get_le32(buf + 4);
	if (buf[0] != PLX_NVME_TCP_PDU_CAPSULE_CMD || plen < 72 || plen > sizeof(buf) ||
	    read_exact(hs->fd, buf + 8, plen - 8) != 0) {
		return hs_fail(hs, "Connect capsule");
	}
	rsp[0] = PLX_NVME_TCP_PDU_CAPSULE_RESP;
	rsp[2] = PLX_NVME_TCP_CAPSULE_RESP_HLEN;
	fuzz_put_le32(rsp + 8, CNTLID);	  /* cdw0 */
	memcpy(rsp + 20, buf + 8 + 2, 2); /* cid of the SQE */
	if (resp.dgst & PLX_NVME_TCP_HDGST_ENABLE) {
		rsp[1] = PLX_NVME_TCP_CH_FLAGS_HDGSTF;
		rlen += PLX_NVME_TCP_DIGEST_LEN;
	}
	fuzz_put_le32(rsp + 4, rlen);
	if (rsp[1] & PLX_NVME_TCP_CH_FLAGS_HDGSTF) {
		fuzz_put_le32(rsp + PLX_NVME_TCP_CAPSULE_RESP_HLEN,
			      fuzz_crc32c(rsp, PLX_NVME_TCP_CAPSULE_RESP_HLEN));
	}
	if (write_all(hs->fd, rsp, rlen) != 0) {
		return hs_fail(hs, "Connect response");
	}
	return 0;
}

static void *hs_main(void *arg)
{
	struct handshake *hs = arg;

	if (hs_serve(hs) != 0 && hs->fd >= 0) {
		close(hs->fd);
		hs->fd = -1;
	}
	return NULL;
}

static void hs_start(pthread_t *th, struct handshake *hs)
{
	hs->fd = -1;
	hs->err[0] = '\0';
	if (pthread_create(th, NULL, hs_main, hs) != 0) {
		fatal("cannot start the handshake thread%s", "");
	}
}

/* ---- process set-up: a listener and a ready controller ---- */

static void listen_loopback(int i)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int size = SMALL_BUF;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_lfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (g_lfd[i] >= 0 && i == 1) {
		setsockopt(g_lfd[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		setsockopt(g_lfd[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	if (g_lfd[i] < 0 || bind(g_lfd[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(g_lfd[i], 16) != 0 || getsockname(g_lfd[i], (struct sockaddr *)&sa, &len) != 0) {
		fatal("cannot listen on 127.0.0.1: %s", strerror(errno));
	}
	snprintf(g_port[i], sizeof(g_port[i]), "%u", ntohs(sa.sin_port));
}

static void ctrlr_setup(void)
{
	const struct nvme_transport_ops *ops = nvme_transport_find(PLX_NVMF_TRTYPE_TCP);
	struct handshake hs = {.maxh2cdata = 4096};
	struct plx_nvme_ctrlr_opts opts;
	struct plx_nvme_trid trid;
	char err[PLX_NVME_ERR_LEN] = "";
	pthread_t th;

	if (ops == NULL ||
	    plx_nvme_trid_from_strings(&trid, "TCP", "IPv4", "127.0.0.1", g_port[0], err) != 0) {
		fatal("no TCP transport: %s", err);
	}
	snprintf(trid.subnqn, sizeof(trid.subnqn), "%s", SUBNQN);
	plx_nvme_ctrlr_get_default_opts(&opts);
	hs_start(&th, &hs);
	g_ctrlr = ops->ctrlr_construct(&trid, &opts, err);
	pthread_join(th, NULL);
	g_admin_fd = hs.fd;
	if (g_ctrlr == NULL) {
		fprintf(stderr, "nvme_tcp_host_fuzz: handshake: %s\n", hs.err);
		fatal("cannot construct the controller: %s", err);
	}
	/* What initialisation (CAP, Identify, Set Features) would have found. The admin queue
	 * is never polled again: no keep-alive, no AERs. */
	g_ctrlr->cap.bits.mqes = 127;
	g_ctrlr->max_xfer_size = 131072;
	g_ctrlr->num_io_queues = 1;
	g_ctrlr->free_qids = calloc(2, 1);
	if (g_ctrlr->free_qids == NULL) {
		fatal("out of memory%s", "");
	}
	g_ctrlr->free_qids[1] = 1;
	g_ctrlr->state = NVME_CTRLR_READY;
	g_ns = (struct plx_nvme_ns){.ctrlr = g_ctrlr,
				    .id = 1,
				    .active = true,
				    .sector_size = SECTOR,
				    .num_sectors = 1u << 20};
}

static void payloads_free(void);

static void fuzz_fini(void)
{
	if (g_ctrlr != NULL) {
		free(g_ctrlr->free_qids);
		g_ctrlr->free_qids = NULL;
		g_ctrlr->transport->ctrlr_destruct(g_ctrlr);
		g_ctrlr = NULL;
	}
	payloads_free();
	if (g_admin_fd >= 0) {
		close(g_admin_fd);
	}
	for (int i = 0; i < 2; i++) {
		if (g_lfd[i] >= 0) {
			close(g_lfd[i]);
		}
	}
	fprintf(stderr,
		"nvme_tcp_host_fuzz: %lu inputs, %lu qpairs failed, %lu completions (%lu with an "
		"error status), %lu resubmissions\n",
		(unsigned long)g_stats.inputs, (unsigned long)g_stats.failed,
		(unsigned long)g_stats.completions, (unsigned long)g_stats.errors,
		(unsigned long)g_stats.resubmits);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *env = getenv("POLLUX_FUZZ_LOG");
	bool keep_log = env != NULL && env[0] != '\0' && env[0] != '0';

	(void)argc;
	(void)argv;
	env = getenv("POLLUX_FUZZ_TRACE");
	g_trace = env != NULL && env[0] != '\0' && env[0] != '0';
	listen_loopback(0);
	listen_loopback(1);
	ctrlr_setup();
	/* Every malformed PDU fails a qpair, and each failure is logged: noise at this rate. */
	if (!keep_log) {
		plx_log_set_print_level(PLX_LOG_DISABLED);
	}
	atexit(fuzz_fini);
	return 0;
}

/* ---- commands ---- */

static void sgl_reset(void *arg, uint32_t offset)
{
	struct fuzz_io *io = arg;

	io->cur_seg = 0;
	while (io->cur_seg < io->nseg && offset >= io->seg_len[io->cur_seg]) {
		offset -= io->seg_len[io->cur_seg++];
	}
	io->cur_off = offset;
}

static int sgl_next(void *arg, void **addr, uint32_t *len)
{
	struct fuzz_io *io = arg;

	if (io->cur_seg >= io->nseg) {
		return -EINVAL;
	}
	*addr = io->seg[io->cur_seg] + io->cur_off;
	*len = io->seg_len[io->cur_seg] - io->cur_off;
	io->cur_seg++;
	io->cur_off = 0;
	return 0;
}

static int io_submit(struct fuzz_io *io);

static void io_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct fuzz_io *io = arg;
	struct fuzz_run *r = io->run;

	if (++io->completed > io->submitted) {
		fprintf(stderr,
			"nvme_tcp_host_fuzz: FATAL: command %d completed %u times, "
			"submitted %u times\n",
			(int)(io - r->ios), io->completed, io->submitted);
		abort();
	}
	io->cpl = *cpl;
	g_stats.completions++;
	g_stats.errors += plx_nvme_cpl_is_error(cpl);
	if (g_trace) {
		fprintf(stderr, "  completion: command %d cid %u sct %u sc 0x%02x\n",
			(int)(io - r->ios), cpl->cid, cpl->status.sct, cpl->status.sc);
	}
	/* A callback that submits again: the transport must cope from inside its poll. */
	if (r->resubmit && !r->teardown && r->resubmits < RESUBMIT_MAX) {
		r->resubmits++;
		g_stats.resubmits++;
		io_submit(io);
	}
}

static int io_submit(struct fuzz_io *io)
{
	struct fuzz_run *r = io->run;
	struct plx_nvme_cmd cmd = {.nsid = 1};
	int rc;

	if (io->kind == IO_FLUSH) {
		cmd.opc = PLX_NVME_OPC_FLUSH;
		rc = plx_nvme_ctrlr_cmd_io_raw(g_ctrlr, r->qpair, &cmd, NULL, 0, io_done, io);
	} else if (io->sgl) {
		rc = io->kind == IO_READ
			 ? plx_nvme_ns_cmd_readv(&g_ns, r->qpair, 0, io->len / SECTOR, io_done, io,
						 0, sgl_reset, sgl_next)
			 : plx_nvme_ns_cmd_writev(&g_ns, r->qpair, 0, io->len / SECTOR, io_done, io,
						  0, sgl_reset, sgl_next);
	} else {
		cmd.opc = io->kind == IO_READ ? PLX_NVME_OPC_READ : PLX_NVME_OPC_WRITE;
		cmd.cdw12 = (io->len + SECTOR - 1) / SECTOR - 1;
		rc = plx_nvme_ctrlr_cmd_io_raw(g_ctrlr, r->qpair, &cmd, io->buf, io->len, io_done,
					       io);
	}
	io->submitted += rc == 0;
	return rc;
}

/*
 * Payload buffers: one allocation per segment of exactly its size, so ASan sees any byte
 * written past one. Kept from input to input (per command and layout): allocating and
 * touching up to a megabyte per input would cost more than the input itself.
 */
struct payload {
	uint8_t *seg[MAX_SEGS];
	uint32_t seg_len[MAX_SEGS];
	int nseg;
	uint32_t len;
};

static struct payload *g_payloads[MAX_CMDS][64];

static struct payload *payload_get(int index, uint8_t desc)
{
	uint8_t layout = (desc >> 2) & 63; /* size, scatter-gather, segment size */
	struct payload *pl = g_payloads[index][layout];
	uint32_t len = g_sizes[layout & 7], seg;

	if (pl != NULL) {
		return pl;
	}
	pl = calloc(1, sizeof(*pl));
	if (pl == NULL) {
		return NULL;
	}
	/* Scatter-gather goes through the namespace API: whole sectors. */
	len = (layout & 8) ? (len + SECTOR - 1) / SECTOR * SECTOR : len;
	seg = (layout & 8) ? g_seg_sizes[layout >> 4] : len;
	pl->len = len;
	/* More segments than MAX_SEGS: the last one takes the rest. */
	for (uint32_t off = 0; off < len; pl->nseg++) {
		uint32_t n = pl->nseg == MAX_SEGS - 1 ? len - off : seg;

		n = n < len - off ? n : len - off;
		pl->seg[pl->nseg] = malloc(n);
		if (pl->seg[pl->nseg] == NULL) {
			break;
		}
		memset(pl->seg[pl->nseg], 0x5a, n);
		pl->seg_len[pl->nseg] = n;
		off += n;
	}
	g_payloads[index][layout] = pl;
	return pl;
}

static void payloads_free(void)
{
	for (int i = 0; i < MAX_CMDS; i++) {
		for (int k = 0; k < 64; k++) {
			struct payload *pl = g_payloads[i][k];

			for (int s = 0; pl != NULL && s < pl->nseg; s++) {
				free(pl->seg[s]);
			}
			free(pl);
			g_payloads[i][k] = NULL;
		}
	}
}

static int io_prepare(struct fuzz_io *io, struct fuzz_run *r, int index, uint8_t desc)
{
	static const enum io_kind kinds[4] = {IO_READ, IO_WRITE, IO_FLUSH, IO_READ};
	struct payload *pl;

	*io = (struct fuzz_io){.run = r, .kind = kinds[desc & 3], .sgl = (desc & 0x20) != 0};
	if (io->kind == IO_FLUSH) {
		return 0;
	}
	pl = payload_get(index, desc);
	if (pl == NULL || pl->nseg == 0 || (!io->sgl && pl->nseg != 1)) {
		return -ENOMEM;
	}
	io->len = pl->len;
	io->buf = pl->seg[0];
	memcpy(io->seg, pl->seg, sizeof(io->seg));
	memcpy(io->seg_len, pl->seg_len, sizeof(io->seg_len));
	io->nseg = pl->nseg;
	return 0;
}

/* ---- the stream ---- */

static void drain(struct fuzz_run *r)
{
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(r->fd, g_scratch, sizeof(g_scratch), MSG_DONTWAIT);

		if (n <= 0) {
			return;
		}
		r->host_sent += (uint64_t)n;
	}
}

static void poll_host(struct fuzz_run *r)
{
	if (!r->failed && plx_nvme_qpair_process_completions(r->qpair, r->max_completions) < 0) {
		r->failed = true;
	}
}

/* Write a chunk without ever blocking; false once the stream cannot go on. */
static bool send_chunk(struct fuzz_run *r, const uint8_t *p, size_t len)
{
	for (int tries = 0; len > 0;) {
		ssize_t n = send(r->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return false;
		}
		/* The host is not reading (it may be stuck writing to us): let it run. */
		if (++tries > SEND_TRIES || r->failed) {
			return false;
		}
		if (r->drain != DRAIN_NEVER) {
			drain(r);
		}
		poll_host(r);
	}
	return true;
}

/* Length of the PDU at p: its plen, at least a common header, at most what is left. */
static size_t pdu_len(const uint8_t *p, size_t left)
{
	uint32_t plen;

	if (left < sizeof(struct plx_nvme_tcp_common_hdr)) {
		return left;
	}
	plen = fuzz_get_le32(p + 4);
	plen = plen < sizeof(struct plx_nvme_tcp_common_hdr)
		   ? (uint32_t)sizeof(struct plx_nvme_tcp_common_hdr)
		   : plen;
	return plen < left ? plen : left;
}

/* Make the digests each PDU's flags announce correct, where its lengths leave room. */
static void fix_digests(uint8_t *buf, size_t len)
{
	for (size_t pos = 0; pos < len;) {
		size_t n = pdu_len(buf + pos, len - pos), hd = 0, start, end;
		uint8_t *p = buf + pos, flags, hlen, pdo;

		pos += n;
		if (n < sizeof(struct plx_nvme_tcp_common_hdr)) {
			break;
		}
		flags = p[1];
		hlen = p[2];
		pdo = p[3];
		if ((flags & PLX_NVME_TCP_CH_FLAGS_HDGSTF) && hlen >= 8 &&
		    (size_t)hlen + PLX_NVME_TCP_DIGEST_LEN <= n) {
			fuzz_put_le32(p + hlen, fuzz_crc32c(p, hlen));
			hd = PLX_NVME_TCP_DIGEST_LEN;
		}
		if ((flags & PLX_NVME_TCP_CH_FLAGS_DDGSTF) && n >= PLX_NVME_TCP_DIGEST_LEN) {
			start = pdo != 0 ? pdo : (size_t)hlen + hd;
			end = n - PLX_NVME_TCP_DIGEST_LEN;
			if (start < end) {
				fuzz_put_le32(p + end, fuzz_crc32c(p + start, end - start));
			}
		}
	}
}

struct chunker {
	enum chunking style;
	uint32_t rng;
	size_t pdu_left; /* CHUNK_SPLIT_PDU: the second part of the current PDU */
};

static uint32_t xorshift(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static size_t next_chunk(struct chunker *c, const uint8_t *p, size_t left)
{
	size_t n;

	switch (c->style) {
	case CHUNK_ONE_WRITE:
		return left;
	case CHUNK_RANDOM:
		n = xorshift(&c->rng);
		/* Mostly a few bytes (headers cut anywhere), now and then a large piece. */
		n = (n >> 24) < 32 ? 1 + n % 4096 : 1 + n % 61;
		return n < left ? n : left;
	case CHUNK_SPLIT_PDU:
		if (c->pdu_left > 0) {
			n = c->pdu_left;
			c->pdu_left = 0;
			return n;
		}
		n = pdu_len(p, left);
		if (n > 1) {
			size_t cut = 1 + xorshift(&c->rng) % (n - 1);

			c->pdu_left = n - cut;
			return cut;
		}
		return n;
	default:
		return pdu_len(p, left);
	}
}

static void feed(struct fuzz_run *r, struct chunker *c, const uint8_t *s, size_t len)
{
	for (size_t pos = 0, index = 0; pos < len && !r->failed; index++) {
		size_t n = next_chunk(c, s + pos, len - pos);

		if (!send_chunk(r, s + pos, n)) {
			return;
		}
		pos += n;
		if (r->drain == DRAIN_EVERY || (r->drain == DRAIN_SOME && index % 4 == 3)) {
			drain(r);
		}
		for (uint32_t i = 0; i < r->polls_per_chunk; i++) {
			poll_host(r);
		}
	}
}

/* ---- one input ---- */

static struct plx_nvme_qpair *qpair_open(const uint8_t *h, struct fuzz_run *r)
{
	struct plx_nvme_io_qpair_opts qo = {0};
	struct plx_sock_impl_opts so;
	struct handshake hs = {0};
	struct plx_nvme_qpair *qpair;
	pthread_t th;

	g_ctrlr->opts.header_digest = (h[0] & 1) != 0;
	g_ctrlr->opts.data_digest = (h[0] & 2) != 0;
	g_ctrlr->opts.transport_retry_count = h[3] & 3;
	/* What Identify's IOCCSZ would say: 4 KiB of in-capsule data, or none. */
	g_ctrlr->cdata.ioccsz = (h[2] & 0x08) ? (64 + 4096) / 16 : 64 / 16;
	if (plx_sock_impl_get_opts("posix", &so) == 0) {
		so.recv_buf_size = so.send_buf_size = (h[0] & 0x20) ? SMALL_BUF : 0;
		plx_sock_impl_set_opts("posix", &so);
	}
	qo.io_queue_size = g_queue_size[(h[3] >> 4) & 3];
	qo.io_queue_requests = 32;
	qo.delay_cmd_submit = (h[2] & 0x40) != 0;
	hs.dgst = (uint8_t)((h[0] & 3) & ~((h[0] >> 2) & 3));
	hs.cpda = h[1] & 31;
	hs.maxh2cdata = g_maxh2cdata[h[1] >> 5];
	hs.small_buf = (h[0] & 0x20) != 0;
	snprintf(g_ctrlr->trid.trsvcid, sizeof(g_ctrlr->trid.trsvcid), "%s", g_port[hs.small_buf]);
	hs_start(&th, &hs);
	qpair = plx_nvme_ctrlr_alloc_io_qpair(g_ctrlr, &qo);
	pthread_join(th, NULL);
	r->fd = hs.fd;
	if (qpair == NULL) {
		/* Every answer the harness gives is valid: refusing it is a bug. */
		fprintf(stderr, "nvme_tcp_host_fuzz: handshake: %s\n", hs.err);
		fatal("the host did not accept a valid ICResp and Connect response%s", "");
	}
	if (r->fd >= 0) {
		fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) | O_NONBLOCK);
	}
	return qpair;
}

static void check_all_completed(const struct fuzz_run *r)
{
	for (int i = 0; i < r->nios; i++) {
		const struct fuzz_io *io = &r->ios[i];

		if (io->completed != io->submitted) {
			fprintf(stderr,
				"nvme_tcp_host_fuzz: FATAL: command %d submitted %u times, "
				"completed %u times after the qpair was freed\n",
				i, io->submitted, io->completed);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t h[HDR_LEN] = {0};
	size_t slen = size > HDR_LEN ? size - HDR_LEN : 0;
	struct fuzz_run *r = calloc(1, sizeof(*r));
	struct chunker c;
	uint8_t *stream = malloc(slen + 1);

	if (r == NULL || stream == NULL) {
		free(r);
		free(stream);
		return 0;
	}
	memcpy(h, data, size < HDR_LEN ? size : HDR_LEN);
	if (slen > 0) {
		memcpy(stream, data + HDR_LEN, slen);
	}
	g_stats.inputs++;
	r->max_completions = (h[2] >> 4) & 3;
	r->resubmit = (h[2] & 0x80) != 0;
	r->drain = (enum drain)((h[3] >> 2) & 3);
	r->polls_per_chunk = 1 + (h[3] >> 6);
	c = (struct chunker){.style = (enum chunking)(h[0] >> 6),
			     .rng = 0x9e3779b9u ^ ((uint32_t)h[4] << 8) ^ (uint32_t)slen};
	if (c.rng == 0) {
		c.rng = 1;
	}
	if (h[0] & 0x10) {
		fix_digests(stream, slen);
	}
	r->qpair = qpair_open(h, r);
	r->nios = 1 + (h[2] & 7);
	for (int i = 0; i < r->nios; i++) {
		if (io_prepare(&r->ios[i], r, i, h[8 + i]) == 0) {
			io_submit(&r->ios[i]);
		}
	}
	if (r->fd >= 0) {
		feed(r, &c, stream, slen);
		for (int i = 0; i < SETTLE_POLLS && !r->failed; i++) {
			if (r->drain != DRAIN_NEVER) {
				drain(r);
			}
			poll_host(r);
		}
	}
	g_stats.failed += r->failed;
	if (g_trace) {
		fprintf(stderr, "  host sent %lu bytes after the handshake; qpair %s\n",
			(unsigned long)r->host_sent, r->failed ? "failed" : "alive");
	}
	/* Freeing the qpair completes whatever is still outstanding, without resubmitting. */
	r->teardown = true;
	plx_nvme_ctrlr_free_io_qpair(r->qpair);
	check_all_completed(r);
	if (r->fd >= 0) {
		close(r->fd);
	}
	free(stream);
	free(r);
	return 0;
}
