/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the NVMe-oF/TCP target: PDU framing, digests, the TCP request state
 * machine and command handling (fabrics, admin and I/O), over real sockets.
 *
 * The whole application runs in-process on a background pthread (plx_app_start with a JSON
 * config: a malloc bdev, a TCP transport, one subsystem open to any host, a listener on
 * 127.0.0.1 and a free port). Each input is one host connection:
 *
 *   byte 0   mode (see MODE_*): how far the harness takes the connection itself before the
 *            input is sent (nothing, ICReq, admin queue connected and enabled, or an I/O queue
 *            of a live controller), the digests it asks for, whether it fixes the digests of
 *            the input's PDUs, how the input is written and whether the host half-closes.
 *   rest     raw PDU stream, cut at each common header's plen so that every PDU is one write
 *            and the fuzzer can mutate the structure.
 *
 * Answers are read and dropped until the target closes, nothing arrives for a short while,
 * or a byte budget is spent; then the connection is closed. Every PROBE_EVERY inputs a fresh
 * connection must complete an ICReq exchange: a target that died or stopped answering aborts
 * the run with a message, so libFuzzer saves the input that was last sent. At exit the app is
 * stopped and its thread joined, so the process ends cleanly after -max_total_time and leak
 * checking sees a torn-down target.
 *
 * Set POLLUX_FUZZ_LOG=1 to keep the target's error log after start-up (it is silenced then,
 * because every malformed PDU is logged once), and POLLUX_FUZZ_TRACE=1 to print one line per
 * PDU the target sends after the prelude (to check what a seed reaches).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pollux/event.h"
#include "fuzz_tcp_util.h"
#include "pollux/log.h"
#include "pollux/nvme_spec.h"
#include "pollux/nvme_tcp_spec.h"

#define FUZZ_SUBNQN  "nqn.2016-06.io.pollux:fuzz"
#define FUZZ_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6f7a7a00-0000-4000-8000-0000000f0022"

/* Mode byte */
#define MODE_LEVEL_MASK	 0x03u /* enum prelude_level */
#define MODE_HDGST	 0x04u /* harness ICReq asks for header digests */
#define MODE_DDGST	 0x08u /* ... and data digests */
#define MODE_FIX_DIGESTS 0x10u /* recompute the digests each input PDU's flags announce */
#define MODE_HALF_CLOSE	 0x20u /* shutdown(SHUT_WR) once the input is sent */
#define MODE_SEND_SHIFT	 6     /* enum send_style in bits 7:6 */

enum prelude_level {
	PRELUDE_NONE = 0,  /* the input starts with the ICReq */
	PRELUDE_ICREQ = 1, /* ICReq/ICResp done */
	PRELUDE_ADMIN = 2, /* + admin Connect and CC.EN = 1 */
	PRELUDE_IO = 3,	   /* admin queue on a second connection; I/O queue 1 connected here */
};

enum send_style {
	SEND_PER_PDU = 0,
	SEND_ONE_WRITE = 1,
	SEND_SPLIT_PDU = 2, /* every PDU in two writes: exercises partial headers and data */
	SEND_PER_PDU_WAIT = 3,
};

#define START_TIMEOUT_MS   120000 /* start-up under ASan on a loaded machine */
#define STEP_TIMEOUT_MS	   5000	  /* one prelude answer */
#define PROBE_TIMEOUT_MS   15000
#define INPUT_DEADLINE_MS  3000 /* a whole input, whatever the target does */
#define IDLE_MS		   20	/* no answer for this long: the target is done with the input */
#define HALF_CLOSE_IDLE_MS 60	/* the target should close soon after our FIN */
#define PDU_WAIT_IDLE_MS   2
#define RX_BUDGET	   (4u << 20)
#define MAX_CHUNK	   (1u << 20)
#define PROBE_EVERY	   128
#define IO_SQSIZE	   31	 /* 0's based; within max_queue_depth below */
#define RX_PDU_MAX	   16384 /* largest answer the prelude reads whole */

struct conn {
	int fd;
	bool hdgst;
	bool ddgst;
	uint32_t cpda;
	bool eof;
	uint64_t rx;
	/* POLLUX_FUZZ_TRACE: framing of the answers, to print one line per PDU */
	uint8_t trace_hdr[24];
	uint32_t trace_have;
	uint32_t trace_skip;
};

struct stats {
	uint64_t inputs;
	uint64_t prelude_failed[4];
	uint64_t target_closed;
	uint64_t deadline_hit;
	uint64_t probes;
};

static pthread_t g_app_pthread;
static atomic_int g_app_state; /* 0 starting, 1 running, 2 plx_app_start returned */
static int g_app_rc;
static bool g_app_started;
static uint16_t g_port;
static char g_config_path[64];
static char g_rpc_path[64];
static bool g_keep_log;
static bool g_trace;
static struct stats g_stats;
static uint8_t g_rx_scratch[65536];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int ms_left(uint64_t deadline)
{
	uint64_t now = now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* ---- sockets ---- */

static int conn_open(struct conn *c)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(g_port)};
	int one = 1;

	*c = (struct conn){.fd = -1};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		return -errno;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int rc = -errno;

		close(c->fd);
		c->fd = -1;
		return rc;
	}
	/* Non-blocking from here on: nothing the target does may block the harness. */
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

static void trace_pdu(const uint8_t *h, uint32_t plen)
{
	fprintf(stderr, "  rx pdu type 0x%02x flags 0x%02x plen %u", h[0], h[1], plen);
	if (h[0] == PLX_NVME_TCP_PDU_CAPSULE_RESP) {
		fprintf(stderr, ": cid %u status 0x%04x cdw0 0x%x", h[20] | h[21] << 8,
			(h[22] | h[23] << 8) >> 1, fuzz_get_le32(h + 8));
	} else if (h[0] == PLX_NVME_TCP_PDU_C2H_DATA || h[0] == PLX_NVME_TCP_PDU_R2T) {
		fprintf(stderr, ": cid %u ttag %u offset %u length %u", h[8] | h[9] << 8,
			h[10] | h[11] << 8, fuzz_get_le32(h + 12), fuzz_get_le32(h + 16));
	} else if (h[0] == PLX_NVME_TCP_PDU_C2H_TERM_REQ) {
		fprintf(stderr, ": fes %u fei %u", h[8] | h[9] << 8, fuzz_get_le32(h + 10));
	}
	fputc('\n', stderr);
}

/* Frame the answers and print one line per PDU (POLLUX_FUZZ_TRACE, for checking seeds). */
static void trace_rx(struct conn *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t room = sizeof(c->trace_hdr) - c->trace_have, take;
		uint32_t plen;

		if (c->trace_skip > 0) {
			take = c->trace_skip < n ? c->trace_skip : n;
			c->trace_skip -= (uint32_t)take;
			p += take;
			n -= take;
			continue;
		}
		take = room < n ? room : n;
		memcpy(c->trace_hdr + c->trace_have, p, take);
		c->trace_have += (uint32_t)take;
		p += take;
		n -= take;
		if (c->trace_have < sizeof(c->trace_hdr)) {
			return;
		}
		plen = fuzz_get_le32(c->trace_hdr + 4);
		trace_pdu(c->trace_hdr, plen);
		c->trace_have = 0;
		c->trace_skip = plen > sizeof(c->trace_hdr) ? plen - sizeof(c->trace_hdr) : 0;
	}
}

/* Read and drop whatever is there. false once the target closed or reset. */
static bool conn_drain_now(struct conn *c)
{
	while (!c->eof && c->rx < RX_BUDGET) {
		ssize_t n = recv(c->fd, g_rx_scratch, sizeof(g_rx_scratch), MSG_DONTWAIT);

		if (n > 0) {
			c->rx += (uint64_t)n;
			if (g_trace) {
				trace_rx(c, g_rx_scratch, (size_t)n);
			}
		} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			return true;
		} else {
			c->eof = true;
		}
	}
	return !c->eof;
}

/* Drain until the target closes, idle_ms pass without data, the deadline or the budget. */
static void conn_drain(struct conn *c, int idle_ms, uint64_t deadline)
{
	while (!c->eof && c->rx < RX_BUDGET) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int left = ms_left(deadline);
		int rc;

		if (left == 0) {
			g_stats.deadline_hit++;
			return;
		}
		rc = poll(&p, 1, idle_ms < left ? idle_ms : left);
		if (rc == 0 && left > idle_ms) {
			return; /* idle */
		}
		if (rc > 0) {
			conn_drain_now(c);
		}
	}
}

/*
 * Send everything, reading (and dropping) answers meanwhile so that neither side can stall
 * on a full buffer. -1 when the target went away or the deadline passed.
 */
static int conn_send(struct conn *c, const uint8_t *buf, size_t len, uint64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		/* Past the budget answers stay unread; only wait for room to send. */
		struct pollfd p = {.fd = c->fd,
				   .events = c->rx < RX_BUDGET ? POLLIN | POLLOUT : POLLOUT};

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return -1;
		}
		if (ms_left(deadline) == 0) {
			g_stats.deadline_hit++;
			return -1;
		}
		if (poll(&p, 1, ms_left(deadline)) > 0 && (p.revents & POLLIN)) {
			conn_drain_now(c);
		}
	}
	return 0;
}

static int conn_read_exact(struct conn *c, uint8_t *buf, size_t len, uint64_t deadline)
{
	while (len > 0) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		ssize_t n = recv(c->fd, buf, len, MSG_DONTWAIT);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			c->rx += (uint64_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = true;
			return -1;
		}
		if (ms_left(deadline) == 0 || poll(&p, 1, ms_left(deadline)) < 0) {
			return -1;
		}
	}
	return 0;
}

/* One whole PDU into buf (at most cap bytes). Its length, or -1. */
static int conn_read_pdu(struct conn *c, uint8_t *buf, uint32_t cap, uint64_t deadline)
{
	uint32_t plen;

	if (conn_read_exact(c, buf, 8, deadline) != 0) {
		return -1;
	}
	plen = fuzz_get_le32(buf + 4);
	if (plen < 8 || plen > cap || conn_read_exact(c, buf + 8, plen - 8, deadline) != 0) {
		return -1;
	}
	return (int)plen;
}

/* ---- the harness's own host steps (the prelude and the probe) ---- */

static int host_icreq(struct conn *c, uint8_t dgst, uint64_t deadline)
{
	struct plx_nvme_tcp_ic_req req = {0};
	union {
		struct plx_nvme_tcp_ic_resp resp;
		uint8_t raw[256];
	} u;

	req.common.pdu_type = PLX_NVME_TCP_PDU_IC_REQ;
	req.common.hlen = PLX_NVME_TCP_IC_REQ_HLEN;
	req.common.plen = sizeof(req);
	req.pfv = PLX_NVME_TCP_PFV_1_0;
	req.maxr2t = 0;
	req.dgst = dgst;
	if (conn_send(c, (const uint8_t *)&req, sizeof(req), deadline) != 0 ||
	    conn_read_pdu(c, u.raw, sizeof(u.raw), deadline) != (int)sizeof(u.resp) ||
	    u.resp.common.pdu_type != PLX_NVME_TCP_PDU_IC_RESP) {
		return -1;
	}
	c->hdgst = u.resp.dgst & PLX_NVME_TCP_HDGST_ENABLE;
	c->ddgst = u.resp.dgst & PLX_NVME_TCP_DDGST_ENABLE;
	c->cpda = u.resp.cpda;
	return 0;
}

/* A capsule with optional in-capsule data, digests as negotiated. */
static int host_send_capsule(struct conn *c, const void *sqe, const void *data, uint32_t dlen,
			     uint64_t deadline)
{
	uint8_t pdu[128 + 1024 + PLX_NVME_TCP_DIGEST_LEN] = {0};
	uint8_t flags = 0;
	uint32_t hd = c->hdgst ? PLX_NVME_TCP_DIGEST_LEN : 0, align = (c->cpda + 1) * 4;
	uint32_t pdo = (PLX_NVME_TCP_CAPSULE_CMD_HLEN + hd + align - 1) / align * align;
	uint32_t plen = dlen == 0 ? PLX_NVME_TCP_CAPSULE_CMD_HLEN + hd : pdo + dlen;

	if (dlen > 1024 || pdo > 128) {
		return -1;
	}
	/* Byte by byte: pdu has no alignment for the header structs. */
	flags |= c->hdgst ? PLX_NVME_TCP_CH_FLAGS_HDGSTF : 0;
	flags |= c->ddgst && dlen > 0 ? PLX_NVME_TCP_CH_FLAGS_DDGSTF : 0;
	plen += (flags & PLX_NVME_TCP_CH_FLAGS_DDGSTF) ? PLX_NVME_TCP_DIGEST_LEN : 0;
	pdu[0] = PLX_NVME_TCP_PDU_CAPSULE_CMD;
	pdu[1] = flags;
	pdu[2] = PLX_NVME_TCP_CAPSULE_CMD_HLEN;
	pdu[3] = dlen > 0 ? (uint8_t)pdo : 0;
	fuzz_put_le32(pdu + 4, plen);
	memcpy(pdu + 8, sqe, 64);
	if (c->hdgst) {
		fuzz_put_le32(pdu + PLX_NVME_TCP_CAPSULE_CMD_HLEN,
			      fuzz_crc32c(pdu, PLX_NVME_TCP_CAPSULE_CMD_HLEN));
	}
	if (dlen > 0) {
		memcpy(pdu + pdo, data, dlen);
		if (flags & PLX_NVME_TCP_CH_FLAGS_DDGSTF) {
			fuzz_put_le32(pdu + pdo + dlen, fuzz_crc32c(pdu + pdo, dlen));
		}
	}
	return conn_send(c, pdu, plen, deadline);
}

/* The completion of the capsule just sent; C2HData before it is skipped. */
static int host_wait_cpl(struct conn *c, struct plx_nvme_cpl *cpl, uint64_t deadline)
{
	static uint8_t buf[RX_PDU_MAX];

	for (;;) {
		int n = conn_read_pdu(c, buf, sizeof(buf), deadline);

		if (n < 0) {
			return -1;
		}
		if (buf[0] == PLX_NVME_TCP_PDU_CAPSULE_RESP && n >= 24) {
			memcpy(cpl, buf + 8, sizeof(*cpl));
			return plx_nvme_cpl_is_error(cpl) ? -1 : 0;
		}
		if (buf[0] != PLX_NVME_TCP_PDU_C2H_DATA) {
			return -1;
		}
	}
}

static int host_connect(struct conn *c, uint16_t qid, uint16_t cntlid, uint16_t *out_cntlid,
			uint64_t deadline)
{
	struct plx_nvmf_connect_cmd cmd = {0};
	struct plx_nvmf_connect_data data = {0};
	struct plx_nvme_cpl cpl;

	cmd.opcode = PLX_NVME_OPC_FABRIC;
	cmd.cid = 0x10 + qid;
	cmd.fctype = PLX_NVMF_FCTYPE_CONNECT;
	cmd.sgl1.unkeyed.type = PLX_NVME_SGL_TYPE_DATA_BLOCK;
	cmd.sgl1.unkeyed.subtype = PLX_NVME_SGL_SUBTYPE_OFFSET;
	cmd.sgl1.unkeyed.length = sizeof(data);
	cmd.qid = qid;
	cmd.sqsize = IO_SQSIZE;
	cmd.kato = qid == 0 ? 30000 : 0;
	memset(data.hostid, 0x5a, sizeof(data.hostid));
	data.cntlid = cntlid;
	snprintf(data.hostnqn, sizeof(data.hostnqn), "%s", FUZZ_HOSTNQN);
	snprintf(data.subnqn, sizeof(data.subnqn), "%s", FUZZ_SUBNQN);
	if (host_send_capsule(c, &cmd, &data, sizeof(data), deadline) != 0 ||
	    host_wait_cpl(c, &cpl, deadline) != 0) {
		return -1;
	}
	if (out_cntlid != NULL) {
		*out_cntlid = (uint16_t)cpl.cdw0;
	}
	return 0;
}

static int host_enable(struct conn *c, uint64_t deadline)
{
	struct plx_nvmf_property_set_cmd cmd = {0};
	struct plx_nvme_cpl cpl;

	cmd.opcode = PLX_NVME_OPC_FABRIC;
	cmd.cid = 0x20;
	cmd.fctype = PLX_NVMF_FCTYPE_PROPERTY_SET;
	cmd.attrib = PLX_NVMF_PROP_SIZE_4;
	cmd.ofst = 0x14;	/* CC */
	cmd.value = 0x00460001; /* IOCQES 4, IOSQES 6, EN */
	if (host_send_capsule(c, &cmd, NULL, 0, deadline) != 0 ||
	    host_wait_cpl(c, &cpl, deadline) != 0) {
		return -1;
	}
	return 0;
}

/*
 * Take conn c (and admin, for PRELUDE_IO) as far as the mode says. -1 when the target
 * refused a step; the input is then skipped (counted in the stats printed at exit).
 */
static int prelude(uint8_t mode, struct conn *c, struct conn *admin)
{
	enum prelude_level level = (enum prelude_level)(mode & MODE_LEVEL_MASK);
	uint8_t dgst = ((mode & MODE_HDGST) ? PLX_NVME_TCP_HDGST_ENABLE : 0) |
		       ((mode & MODE_DDGST) ? PLX_NVME_TCP_DDGST_ENABLE : 0);
	uint64_t deadline = now_ms() + STEP_TIMEOUT_MS;
	uint16_t cntlid = 0xffff;

	if (level == PRELUDE_NONE) {
		return 0;
	}
	if (level == PRELUDE_IO) {
		if (conn_open(admin) != 0 || host_icreq(admin, 0, deadline) != 0 ||
		    host_connect(admin, 0, 0xffff, &cntlid, deadline) != 0 ||
		    host_enable(admin, deadline) != 0) {
			return -1;
		}
	}
	if (conn_open(c) != 0 || host_icreq(c, dgst, deadline) != 0) {
		return -1;
	}
	if (level == PRELUDE_ADMIN) {
		return host_connect(c, 0, 0xffff, NULL, deadline) == 0 &&
			       host_enable(c, deadline) == 0
			   ? 0
			   : -1;
	}
	if (level == PRELUDE_IO) {
		return host_connect(c, 1, cntlid, NULL, deadline);
	}
	return 0;
}

/* ---- liveness ---- */

static void check_app_alive(const char *when)
{
	if (atomic_load(&g_app_state) == 2) {
		fprintf(stderr, "nvmf_tcp_fuzz: FATAL: the target application exited (rc %d) %s\n",
			g_app_rc, when);
		abort();
	}
}

/* A fresh connection must still complete an ICReq exchange. */
static void probe(const char *when)
{
	uint64_t deadline = now_ms() + PROBE_TIMEOUT_MS;
	struct conn c = {.fd = -1};
	int rc = -1;

	g_stats.probes++;
	check_app_alive(when);
	while (ms_left(deadline) > 0) {
		rc = conn_open(&c);
		if (rc == 0) {
			break;
		}
		usleep(10000);
	}
	if (rc != 0) {
		fprintf(stderr,
			"nvmf_tcp_fuzz: FATAL: cannot connect to the target on 127.0.0.1:%u %s: "
			"%s\n",
			g_port, when, strerror(-rc));
		abort();
	}
	if (host_icreq(&c, 0, deadline) != 0) {
		fprintf(stderr,
			"nvmf_tcp_fuzz: FATAL: the target did not answer an ICReq within %d ms %s "
			"(hung or broken)\n",
			PROBE_TIMEOUT_MS, when);
		abort();
	}
	conn_close(&c);
}

/* ---- the in-process target ---- */

static void app_started(void *ctx)
{
	/* Every malformed PDU is logged once: at fuzzing rates that is only noise. */
	if (!g_keep_log) {
		plx_log_set_print_level(PLX_LOG_DISABLED);
	}
	atomic_store(&g_app_state, 1);
}

static void *app_thread(void *arg)
{
	struct plx_app_opts opts;

	plx_app_opts_init(&opts);
	opts.name = "nvmf_tcp_fuzz";
	opts.reactor_mask = "0x1";
	opts.rpc_addr = g_rpc_path;
	opts.json_config_file = g_config_path;
	opts.print_level = PLX_LOG_ERROR;
	g_app_rc = plx_app_start(&opts, app_started, NULL);
	atomic_store(&g_app_state, 2);
	return NULL;
}

/* A port that was free a moment ago (the kernel's pick for port 0). */
static int pick_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
		g_port = ntohs(sa.sin_port);
		rc = 0;
	}
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}

static int write_config(void)
{
	int fd = mkstemps(g_config_path, 5);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (f == NULL) {
		return -1;
	}
	/* Small pools and a small namespace: the run stays well inside libFuzzer's RSS limit. */
	fprintf(f,
		"{\"subsystems\": [\n"
		" {\"subsystem\": \"iobuf\", \"config\": [\n"
		"  {\"method\": \"iobuf_set_options\", \"params\": {\"small_pool_count\": 1024,"
		" \"large_pool_count\": 128}}]},\n"
		" {\"subsystem\": \"bdev\", \"config\": [\n"
		"  {\"method\": \"bdev_malloc_create\", \"params\": {\"name\": \"Malloc0\","
		" \"num_blocks\": 8192, \"block_size\": 512}}]},\n"
		" {\"subsystem\": \"nvmf\", \"config\": [\n"
		"  {\"method\": \"nvmf_create_transport\", \"params\": {\"trtype\": \"TCP\","
		" \"max_queue_depth\": 32, \"max_aq_depth\": 32, \"in_capsule_data_size\": 4096,"
		" \"max_io_size\": 131072, \"c2h_success\": true}},\n"
		"  {\"method\": \"nvmf_create_subsystem\", \"params\": {\"nqn\": \"%s\","
		" \"allow_any_host\": true, \"serial_number\": \"PLXFUZZ0001\"}},\n"
		"  {\"method\": \"nvmf_subsystem_add_ns\", \"params\": {\"nqn\": \"%s\","
		" \"namespace\": {\"nsid\": 1, \"bdev_name\": \"Malloc0\"}}},\n"
		"  {\"method\": \"nvmf_subsystem_add_listener\", \"params\": {\"nqn\": \"%s\","
		" \"listen_address\": {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\","
		" \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%u\"}}}]}\n"
		"]}\n",
		FUZZ_SUBNQN, FUZZ_SUBNQN, FUZZ_SUBNQN, g_port);
	return fclose(f) == 0 ? 0 : -1;
}

static void fuzz_fini(void)
{
	if (g_app_started) {
		if (atomic_load(&g_app_state) != 2) {
			plx_app_stop(0);
		}
		pthread_join(g_app_pthread, NULL);
		g_app_started = false;
	}
	unlink(g_config_path);
	unlink(g_rpc_path);
	fprintf(stderr,
		"nvmf_tcp_fuzz: %lu inputs, %lu probes, prelude refused (level 1/2/3) %lu/%lu/%lu, "
		"%lu closed by the target, %lu hit the %d ms deadline; target rc %d\n",
		(unsigned long)g_stats.inputs, (unsigned long)g_stats.probes,
		(unsigned long)g_stats.prelude_failed[1], (unsigned long)g_stats.prelude_failed[2],
		(unsigned long)g_stats.prelude_failed[3], (unsigned long)g_stats.target_closed,
		(unsigned long)g_stats.deadline_hit, INPUT_DEADLINE_MS, g_app_rc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint64_t deadline = now_ms() + START_TIMEOUT_MS;
	sigset_t all, old;
	const char *env = getenv("POLLUX_FUZZ_LOG");

	g_keep_log = env != NULL && env[0] != '\0' && env[0] != '0';
	env = getenv("POLLUX_FUZZ_TRACE");
	g_trace = env != NULL && env[0] != '\0' && env[0] != '0';
	snprintf(g_config_path, sizeof(g_config_path), "/tmp/nvmf_tcp_fuzz_XXXXXX.json");
	snprintf(g_rpc_path, sizeof(g_rpc_path), "/tmp/nvmf_tcp_fuzz_%d.sock", (int)getpid());
	if (pick_port() != 0 || write_config() != 0) {
		fprintf(stderr, "nvmf_tcp_fuzz: FATAL: cannot prepare the target config: %s\n",
			strerror(errno));
		abort();
	}
	/* The app's threads take no asynchronous signal: libFuzzer's SIGALRM, SIGINT and the
	 * like stay with the fuzzing thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&g_app_pthread, NULL, app_thread, NULL) != 0) {
		fprintf(stderr, "nvmf_tcp_fuzz: FATAL: cannot start the target thread\n");
		abort();
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	g_app_started = true;
	atexit(fuzz_fini);
	while (atomic_load(&g_app_state) == 0 && ms_left(deadline) > 0) {
		usleep(10000);
	}
	check_app_alive("during start-up (see its log above)");
	if (atomic_load(&g_app_state) != 1) {
		fprintf(stderr, "nvmf_tcp_fuzz: FATAL: the target did not start within %d ms\n",
			START_TIMEOUT_MS);
		abort();
	}
	probe("right after start-up");
	fprintf(stderr, "nvmf_tcp_fuzz: target listening on 127.0.0.1:%u\n", g_port);
	return 0;
}

/* ---- one input ---- */

/* Length of the PDU at p: its plen, clamped to what is left and to MAX_CHUNK. */
static size_t pdu_chunk(const uint8_t *p, size_t left)
{
	uint32_t plen;

	if (left < sizeof(struct plx_nvme_tcp_common_hdr)) {
		return left;
	}
	plen = fuzz_get_le32(p + 4);
	if (plen < sizeof(struct plx_nvme_tcp_common_hdr)) {
		plen = sizeof(struct plx_nvme_tcp_common_hdr);
	}
	if (plen > MAX_CHUNK) {
		plen = MAX_CHUNK;
	}
	return plen < left ? plen : left;
}

/* Make the digests the PDU's flags announce correct, where its lengths leave room. */
static void fix_digests(uint8_t *p, size_t len)
{
	uint8_t flags, hlen, pdo;
	size_t hd = 0, start, end;

	if (len < sizeof(struct plx_nvme_tcp_common_hdr)) {
		return;
	}
	flags = p[1];
	hlen = p[2];
	pdo = p[3];
	if ((flags & PLX_NVME_TCP_CH_FLAGS_HDGSTF) && hlen >= 8 &&
	    (size_t)hlen + PLX_NVME_TCP_DIGEST_LEN <= len) {
		fuzz_put_le32(p + hlen, fuzz_crc32c(p, hlen));
		hd = PLX_NVME_TCP_DIGEST_LEN;
	}
	if ((flags & PLX_NVME_TCP_CH_FLAGS_DDGSTF) && len >= PLX_NVME_TCP_DIGEST_LEN) {
		start = pdo != 0 ? pdo : (size_t)hlen + hd;
		end = len - PLX_NVME_TCP_DIGEST_LEN;
		if (start < end) {
			fuzz_put_le32(p + end, fuzz_crc32c(p + start, end - start));
		}
	}
}

static void send_input(struct conn *c, uint8_t mode, uint8_t *buf, size_t len, uint64_t deadline)
{
	enum send_style style = (enum send_style)(mode >> MODE_SEND_SHIFT);
	size_t pos = 0, index = 0;

	if (style == SEND_ONE_WRITE && !(mode & MODE_FIX_DIGESTS)) {
		conn_send(c, buf, len, deadline);
		return;
	}
	while (pos < len && !c->eof) {
		size_t n = pdu_chunk(buf + pos, len - pos);
		int rc = 0;

		if (mode & MODE_FIX_DIGESTS) {
			fix_digests(buf + pos, n);
		}
		if (style == SEND_SPLIT_PDU && n > 1) {
			size_t cut = 1 + (buf[pos + n - 1] + index) % (n - 1);

			rc = conn_send(c, buf + pos, cut, deadline);
			if (rc == 0) {
				rc = conn_send(c, buf + pos + cut, n - cut, deadline);
			}
		} else if (style != SEND_ONE_WRITE) {
			rc = conn_send(c, buf + pos, n, deadline);
		}
		if (rc != 0) {
			return;
		}
		if (style == SEND_PER_PDU_WAIT) {
			conn_drain(c, PDU_WAIT_IDLE_MS, deadline);
		}
		pos += n;
		index++;
	}
	if (style == SEND_ONE_WRITE) {
		conn_send(c, buf, len, deadline); /* digests fixed in place above */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn c = {.fd = -1}, admin = {.fd = -1};
	uint64_t deadline;
	uint8_t mode, *buf;

	if (size == 0) {
		return 0;
	}
	if (++g_stats.inputs % PROBE_EVERY == 0) {
		probe("between inputs");
	}
	check_app_alive("while fuzzing");
	mode = data[0];
	buf = malloc(size);
	if (buf == NULL) {
		return 0;
	}
	memcpy(buf, data + 1, size - 1);
	if ((mode & MODE_LEVEL_MASK) == PRELUDE_NONE) {
		if (conn_open(&c) != 0) {
			probe("after a refused connection");
			goto out;
		}
	} else if (prelude(mode, &c, &admin) != 0) {
		g_stats.prelude_failed[mode & MODE_LEVEL_MASK]++;
		goto out;
	}
	deadline = now_ms() + INPUT_DEADLINE_MS;
	send_input(&c, mode, buf, size - 1, deadline);
	if (mode & MODE_HALF_CLOSE) {
		shutdown(c.fd, SHUT_WR);
	}
	conn_drain(&c, (mode & MODE_HALF_CLOSE) ? HALF_CLOSE_IDLE_MS : IDLE_MS, deadline);
	g_stats.target_closed += c.eof;
out:
	conn_close(&c);
	conn_close(&admin);
	free(buf);
	return 0;
}
