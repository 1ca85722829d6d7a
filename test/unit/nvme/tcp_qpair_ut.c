/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe/TCP host transport against a scripted fake controller (a thread with plain
 * sockets): R2T split into many H2CData PDUs (maxh2cdata 4096), C2HData with padding,
 * digests; and a controller that misbehaves (unknown cid, data out of range, R2T for a read,
 * a host-only PDU type, bad digests, C2HTermReq, EOF, a successful read completion without
 * all its data, rejected Connect, bad ICResp): the queue pair fails, every command completes
 * with ABORTED_SQ_DELETION, nothing crashes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../../lib/nvme/nvme_internal.h"
#include "pollux/nvme_tcp_spec.h"
#include "pollux/sock.h"
#include "pollux/util.h"
#include "ut.h"

enum mode {
	M_ECHO,
	M_UNKNOWN_CID,
	M_C2H_RANGE,
	M_R2T_FOR_READ,
	M_HOST_TYPE,
	M_TERM_REQ,
	M_CLOSE,
	M_BAD_DDGST,
	M_BAD_HDGST,
	M_SUCCESS_NO_LAST,
	M_RESP_NO_DATA,
	M_RESP_SHORT_DATA,
	M_ADMIN_BAD_PFV,
	M_ADMIN_REJECT,
	M_DEFERRED_R2T,
};

#define DISK_SIZE (256 * 1024)

struct fake {
	enum mode mode;
	int lfd;
	char port[16];
	bool hd, dd;
	int proto_errors; /* what the host sent wrong */
	pthread_t th;
	struct plx_nvme_cmd queued[64]; /* capsules that came while we waited for data */
	int nqueued;
	uint8_t disk[DISK_SIZE];
	uint8_t pdu[DISK_SIZE + 512] __attribute__((aligned(8)));
};

static int rd(int fd, void *b, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, (uint8_t *)b + got, n - got);

		if (r <= 0) {
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static int wr(int fd, const void *b, size_t n)
{
	return write(fd, b, n) == (ssize_t)n ? 0 : -1;
}

/* One PDU from the host into f->pdu; its data at *data. Returns the type or -1. */
static int recv_pdu(struct fake *f, int fd, uint8_t **data, uint32_t *dlen)
{
	struct plx_nvme_tcp_common_hdr *ch = (void *)f->pdu;
	uint32_t dd;

	if (rd(fd, f->pdu, 8) != 0 || ch->plen < 8 || ch->plen > sizeof(f->pdu) ||
	    rd(fd, f->pdu + 8, ch->plen - 8) != 0) {
		return -1;
	}
	if (ch->flags & PLX_NVME_TCP_CH_FLAGS_HDGSTF) {
		uint32_t crc;

		memcpy(&crc, f->pdu + ch->hlen, 4);
		f->proto_errors += crc != plx_crc32c(f->pdu, ch->hlen);
	}
	dd = (ch->flags & PLX_NVME_TCP_CH_FLAGS_DDGSTF) ? 4 : 0;
	*dlen = ch->pdo != 0 ? ch->plen - ch->pdo - dd : 0;
	*data = f->pdu + ch->pdo;
	if (dd != 0) {
		uint32_t crc;

		memcpy(&crc, *data + *dlen, 4);
		f->proto_errors += crc != plx_crc32c(*data, *dlen);
	}
	return ch->pdu_type;
}

/* Send a header (common fields but flags/pdo/plen filled here) and data, digests as agreed. */
static int send_pdu(struct fake *f, int fd, void *hdr, uint8_t hlen, const void *data,
		    uint32_t dlen, uint8_t flags, uint32_t pad, bool corrupt)
{
	struct plx_nvme_tcp_common_hdr *ch = hdr;
	uint8_t out[512] = {0};
	uint32_t hl = hlen + (f->hd ? 4 : 0), n, crc;

	ch->hlen = hlen;
	ch->flags = flags | (f->hd ? PLX_NVME_TCP_CH_FLAGS_HDGSTF : 0) |
		    (f->dd && dlen ? PLX_NVME_TCP_CH_FLAGS_DDGSTF : 0);
	ch->pdo = dlen ? (uint8_t)(hl + pad) : 0;
	ch->plen = dlen ? hl + pad + dlen + (f->dd ? 4 : 0) : hl;
	memcpy(out, hdr, hlen);
	if (f->hd) {
		crc = plx_crc32c(out, hlen) ^ (corrupt && !f->dd ? 1 : 0);
		memcpy(out + hlen, &crc, 4);
	}
	n = dlen ? hl + pad : hl;
	if (wr(fd, out, n) != 0 || (dlen && wr(fd, data, dlen) != 0)) {
		return -1;
	}
	if (dlen && f->dd) {
		crc = plx_crc32c(data, dlen) ^ (corrupt ? 1 : 0);
		return wr(fd, &crc, 4);
	}
	return 0;
}

static int send_rsp(struct fake *f, int fd, uint16_t cid, uint8_t sct, uint8_t sc, uint32_t cdw0)
{
	struct plx_nvme_tcp_rsp r = {0};

	r.common.pdu_type = PLX_NVME_TCP_PDU_CAPSULE_RESP;
	r.rccqe.cid = cid;
	r.rccqe.cdw0 = cdw0;
	r.rccqe.status.sct = sct & 7;
	r.rccqe.status.sc = sc;
	return send_pdu(f, fd, &r, 24, NULL, 0, 0, 0, false);
}

/* ICReq/ICResp, then the Connect capsule answered (or rejected). */
static int fake_handshake(struct fake *f, int fd, bool admin)
{
	struct plx_nvme_tcp_ic_req *req = (void *)f->pdu;
	struct plx_nvme_tcp_ic_resp resp = {0};
	struct plx_nvme_tcp_cmd *cap = (void *)f->pdu;
	struct plx_nvmf_connect_data *cd;
	uint8_t *data;
	uint32_t dlen;

	if (recv_pdu(f, fd, &data, &dlen) != PLX_NVME_TCP_PDU_IC_REQ) {
		return -1;
	}
	f->proto_errors +=
	    req->pfv != 0 || req->hpda != 0 || req->maxr2t != 0 || req->common.plen != 128;
	resp.common.pdu_type = PLX_NVME_TCP_PDU_IC_RESP;
	resp.common.hlen = 128;
	resp.common.plen = 128;
	resp.pfv = admin && f->mode == M_ADMIN_BAD_PFV ? 1 : 0;
	resp.dgst = req->dgst;
	resp.maxh2cdata = 4096;
	f->hd = req->dgst & 1;
	f->dd = (req->dgst & 2) != 0;
	if (wr(fd, &resp, sizeof(resp)) != 0 || recv_pdu(f, fd, &data, &dlen) != 4) {
		return -1;
	}
	cd = (void *)data;
	f->proto_errors += dlen != 1024 || cap->ccsqe.opc != PLX_NVME_OPC_FABRIC ||
			   strncmp(cd->hostnqn, "nqn.", 4) != 0 ||
			   strcmp(cd->subnqn, "nqn.2016-06.io.pollux:fake") != 0 ||
			   cd->cntlid != (admin ? 0xffff : 7) ||
			   cap->ccsqe.dptr.sgl1.unkeyed.type != PLX_NVME_SGL_TYPE_DATA_BLOCK ||
			   cap->ccsqe.dptr.sgl1.unkeyed.subtype != PLX_NVME_SGL_SUBTYPE_OFFSET;
	if (admin && f->mode == M_ADMIN_REJECT) {
		return send_rsp(f, fd, cap->ccsqe.cid, PLX_NVME_SCT_COMMAND_SPECIFIC,
				PLX_NVMF_SC_INVALID_HOST, 0);
	}
	return send_rsp(f, fd, cap->ccsqe.cid, 0, 0, 7);
}

static int serve_write(struct fake *f, int fd, struct plx_nvme_cmd *cmd, uint8_t *data,
		       uint32_t dlen)
{
	uint64_t off = (uint64_t)cmd->cdw10 * 512;
	uint32_t len = cmd->dptr.sgl1.unkeyed.length;
	uint16_t cid = cmd->cid;

	if (off + len > DISK_SIZE) {
		return send_rsp(f, fd, cid, 0, PLX_NVME_SC_LBA_OUT_OF_RANGE, 0);
	}
	if (dlen > 0) {
		memcpy(f->disk + off, data, dlen);
		f->proto_errors += dlen != len;
		return send_rsp(f, fd, cid, 0, 0, 0);
	}
	/* R2Ts of 8 KiB, each answered by H2CData PDUs of at most maxh2cdata (4096). */
	for (uint32_t r2to = 0; r2to < len; r2to += 8192) {
		struct plx_nvme_tcp_r2t_hdr r2t = {0};
		uint32_t r2tl = PLX_MIN(8192u, len - r2to), got = 0;
		uint16_t ttag = (uint16_t)(0x100 + r2to / 8192);

		r2t.common.pdu_type = PLX_NVME_TCP_PDU_R2T;
		r2t.cccid = cid;
		r2t.ttag = ttag;
		r2t.r2to = r2to;
		r2t.r2tl = r2tl;
		if (send_pdu(f, fd, &r2t, 24, NULL, 0, 0, 0, false) != 0) {
			return -1;
		}
		while (got < r2tl) {
			struct plx_nvme_tcp_h2c_data_hdr *h = (void *)f->pdu;

			int t = recv_pdu(f, fd, &data, &dlen);

			if (t == PLX_NVME_TCP_PDU_CAPSULE_CMD && dlen == 0 && f->nqueued < 64) {
				f->queued[f->nqueued++] =
				    ((struct plx_nvme_tcp_cmd *)f->pdu)->ccsqe;
				continue;
			}
			if (t != PLX_NVME_TCP_PDU_H2C_DATA) {
				return -1;
			}
			f->proto_errors += h->cccid != cid || h->ttag != ttag ||
					   h->datao != r2to + got || h->datal != dlen ||
					   dlen > 4096 ||
					   !!(h->common.flags & PLX_NVME_TCP_DATA_FLAGS_LAST_PDU) !=
					       (got + dlen == r2tl);
			memcpy(f->disk + off + h->datao, data, PLX_MIN(dlen, len - h->datao));
			got += dlen;
		}
	}
	return send_rsp(f, fd, cid, 0, 0, 0);
}

static int serve_read(struct fake *f, int fd, struct plx_nvme_cmd *cmd)
{
	uint64_t off = (uint64_t)cmd->cdw10 * 512;
	uint32_t len = cmd->dptr.sgl1.unkeyed.length;

	if (off + len > DISK_SIZE) {
		return send_rsp(f, fd, cmd->cid, 0, PLX_NVME_SC_LBA_OUT_OF_RANGE, 0);
	}
	/* Odd-sized pieces with 4 bytes of padding before the data. */
	for (uint32_t o = 0; o < len; o += 3000) {
		struct plx_nvme_tcp_c2h_data_hdr h = {0};
		uint32_t n = PLX_MIN(3000u, len - o);

		h.common.pdu_type = PLX_NVME_TCP_PDU_C2H_DATA;
		h.cccid = cmd->cid;
		h.datao = o;
		h.datal = n;
		if (send_pdu(f, fd, &h, 24, f->disk + off + o, n,
			     o + n == len ? PLX_NVME_TCP_DATA_FLAGS_LAST_PDU : 0, 4, false) != 0) {
			return -1;
		}
	}
	return send_rsp(f, fd, cmd->cid, 0, 0, 0);
}

/* The misbehaviour of mode, in answer to the first command. */
static void misbehave(struct fake *f, int fd, struct plx_nvme_cmd *cmd)
{
	struct plx_nvme_tcp_c2h_data_hdr c2h = {.common.pdu_type = PLX_NVME_TCP_PDU_C2H_DATA,
						.cccid = cmd->cid};
	struct plx_nvme_tcp_r2t_hdr r2t = {
	    .common.pdu_type = PLX_NVME_TCP_PDU_R2T, .cccid = cmd->cid, .r2tl = 512};
	struct plx_nvme_tcp_term_req_hdr term = {.common.pdu_type = PLX_NVME_TCP_PDU_C2H_TERM_REQ,
						 .common.hlen = 24,
						 .common.plen = 24,
						 .fes = 1,
						 .fei = 3};
	uint8_t junk[72] = {PLX_NVME_TCP_PDU_CAPSULE_CMD, 0, 72, 0, 72};

	switch (f->mode) {
	case M_UNKNOWN_CID:
		send_rsp(f, fd, cmd->cid ^ 0x100, 0, 0, 0);
		break;
	case M_C2H_RANGE:
		c2h.datao = 4096;
		c2h.datal = 512;
		send_pdu(f, fd, &c2h, 24, f->disk, 512, 0, 0, false);
		break;
	case M_R2T_FOR_READ:
		send_pdu(f, fd, &r2t, 24, NULL, 0, 0, 0, false);
		break;
	case M_HOST_TYPE:
		wr(fd, junk, sizeof(junk));
		break;
	case M_TERM_REQ:
		wr(fd, &term, sizeof(term));
		break;
	case M_BAD_DDGST:
	case M_BAD_HDGST:
		c2h.datal = 4096;
		send_pdu(f, fd, &c2h, 24, f->disk, 4096, PLX_NVME_TCP_DATA_FLAGS_LAST_PDU, 0, true);
		break;
	case M_SUCCESS_NO_LAST:
		c2h.datal = 4096;
		send_pdu(f, fd, &c2h, 24, f->disk, 4096, PLX_NVME_TCP_C2H_DATA_FLAGS_SUCCESS, 0,
			 false);
		break;
	case M_RESP_SHORT_DATA:
		/* 512 of the read's 4096 bytes, then a successful completion. */
		c2h.datal = 512;
		send_pdu(f, fd, &c2h, 24, f->disk, 512, 0, 0, false);
		send_rsp(f, fd, cmd->cid, 0, 0, 0);
		break;
	case M_RESP_NO_DATA:
		send_rsp(f, fd, cmd->cid, 0, 0, 0);
		break;
	case M_DEFERRED_R2T:
		/* Command 6's capsule is still stuck behind the others in the host's writev:
		 * its completion is deferred, and then an R2T names it. */
		send_rsp(f, fd, 6, 0, 0, 0);
		r2t.cccid = 6;
		r2t.r2tl = 8192;
		send_pdu(f, fd, &r2t, 24, NULL, 0, 0, 0, false);
		break;
	default:
		break;
	}
}

/* The next command: one that waited, or a new capsule. */
static bool next_cmd(struct fake *f, int fd, struct plx_nvme_cmd *cmd, uint8_t **data,
		     uint32_t *dlen)
{
	if (f->nqueued > 0) {
		*cmd = f->queued[0];
		memmove(f->queued, f->queued + 1, sizeof(f->queued[0]) * (size_t)--f->nqueued);
		*dlen = 0;
		return true;
	}
	if (recv_pdu(f, fd, data, dlen) != PLX_NVME_TCP_PDU_CAPSULE_CMD) {
		return false;
	}
	*cmd = ((struct plx_nvme_tcp_cmd *)f->pdu)->ccsqe;
	return true;
}

static void fake_serve(struct fake *f, int fd)
{
	struct plx_nvme_cmd cmd;
	uint8_t *data;
	uint32_t dlen;

	while (next_cmd(f, fd, &cmd, &data, &dlen)) {
		int rc = 0;

		if (f->mode == M_CLOSE) {
			return;
		}
		if (f->mode != M_ECHO) {
			misbehave(f, fd, &cmd);
			/* Swallow the rest until the host hangs up. */
			while (read(fd, f->pdu, sizeof(f->pdu)) > 0) {
			}
			return;
		}
		if (cmd.opc == PLX_NVME_OPC_WRITE) {
			rc = serve_write(f, fd, &cmd, data, dlen);
		} else if (cmd.opc == PLX_NVME_OPC_READ) {
			rc = serve_read(f, fd, &cmd);
		} else {
			rc = send_rsp(f, fd, cmd.cid, 0, 0, 0);
		}
		if (rc != 0) {
			return;
		}
	}
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	int admin = accept(f->lfd, NULL, NULL), io = -1;

	if (admin >= 0 && fake_handshake(f, admin, true) == 0 && f->mode != M_ADMIN_BAD_PFV &&
	    f->mode != M_ADMIN_REJECT) {
		io = accept(f->lfd, NULL, NULL);
		if (io >= 0 && fake_handshake(f, io, false) == 0) {
			fake_serve(f, io);
		}
	}
	if (io >= 0) {
		close(io);
	}
	if (admin >= 0) {
		/* Hold the admin connection until the host closes it. */
		while (f->mode != M_ADMIN_BAD_PFV && read(admin, f->pdu, 4096) > 0) {
		}
		close(admin);
	}
	return NULL;
}

static struct fake *fake_start(enum mode mode)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);

	f->mode = mode;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (mode == M_DEFERRED_R2T) {
		int size = 4096;

		/* Inherited by the accepted socket: the host's writes back up while we don't read.
		 */
		setsockopt(f->lfd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	CU_ASSERT_FATAL(f->lfd >= 0 && bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
			listen(f->lfd, 4) == 0 &&
			getsockname(f->lfd, (struct sockaddr *)&sa, &len) == 0);
	snprintf(f->port, sizeof(f->port), "%u", ntohs(sa.sin_port));
	pthread_create(&f->th, NULL, fake_main, f);
	return f;
}

static int fake_finish(struct fake *f)
{
	int errors;

	pthread_join(f->th, NULL);
	close(f->lfd);
	errors = f->proto_errors;
	free(f);
	return errors;
}

/* ---- the host side ---- */

struct host {
	const struct nvme_transport_ops *ops;
	struct plx_nvme_ctrlr *ctrlr;
	struct plx_nvme_qpair *qpair;
};

static struct plx_nvme_ctrlr *host_construct(struct fake *f, bool hd, bool dd, char *err)
{
	const struct nvme_transport_ops *ops = nvme_transport_find(PLX_NVMF_TRTYPE_TCP);
	struct plx_nvme_ctrlr_opts opts;
	struct plx_nvme_trid trid;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
	CU_ASSERT_FATAL(
	    plx_nvme_trid_from_strings(&trid, "TCP", "IPv4", "127.0.0.1", f->port, err) == 0);
	snprintf(trid.subnqn, sizeof(trid.subnqn), "nqn.2016-06.io.pollux:fake");
	plx_nvme_ctrlr_get_default_opts(&opts);
	opts.header_digest = hd;
	opts.data_digest = dd;
	opts.transport_retry_count = 0;
	return ops->ctrlr_construct(&trid, &opts, err);
}

static void host_start(struct host *h, struct fake *f, bool hd, bool dd)
{
	struct plx_nvme_io_qpair_opts qo = {.io_queue_size = 32, .delay_cmd_submit = true};
	char err[PLX_NVME_ERR_LEN] = "";

	h->ops = nvme_transport_find(PLX_NVMF_TRTYPE_TCP);
	h->ctrlr = host_construct(f, hd, dd, err);
	if (h->ctrlr == NULL) {
		fprintf(stderr, "construct: %s\n", err);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->ctrlr);
	CU_ASSERT_EQUAL(h->ctrlr->cntlid, 7);
	/* What Identify would say: 4 KiB of in-capsule data on I/O queues. */
	h->ctrlr->cdata.ioccsz = (64 + 4096) / 16;
	h->ctrlr->max_xfer_size = 131072;
	h->qpair = h->ops->qpair_create(h->ctrlr, 1, &qo);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->qpair);
	CU_ASSERT_EQUAL_FATAL(h->ops->qpair_connect(h->ctrlr, h->qpair), 0);
}

static void host_stop(struct host *h)
{
	h->ops->qpair_destroy(h->ctrlr, h->qpair);
	h->ops->ctrlr_destruct(h->ctrlr);
}

struct io {
	bool done;
	int calls;
	struct plx_nvme_cpl cpl;
};

static void io_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct io *io = arg;

	io->cpl = *cpl;
	io->done = true;
	io->calls++;
}

static int submit(struct host *h, uint8_t opc, uint32_t off, void *buf, uint32_t len, struct io *io)
{
	struct plx_nvme_cmd cmd = {
	    .opc = opc, .nsid = 1, .cdw10 = off / 512, .cdw12 = len / 512 - 1};

	memset(io, 0, sizeof(*io));
	return plx_nvme_ctrlr_cmd_io_raw(h->ctrlr, h->qpair, &cmd, buf, len, io_done, io);
}

/* Poll until the ios are done; the result of the last poll in *last. */
static bool wait_ios(struct host *h, struct io *ios, int n, int32_t *last)
{
	for (long spins = 0; spins < 100000000L; spins++) {
		int done = 0;

		for (int i = 0; i < n; i++) {
			done += ios[i].done;
		}
		if (done == n) {
			return true;
		}
		*last = plx_nvme_qpair_process_completions(h->qpair, 0);
	}
	return false;
}

static void echo_run(bool hd, bool dd)
{
	enum { BIG = 20000, N = 16 };
	struct fake *f = fake_start(M_ECHO);
	struct host h;
	uint8_t *w = malloc(BIG * N), *r = calloc(1, BIG * N);
	struct io ios[2 * N];
	int32_t last = 0;

	for (size_t i = 0; i < BIG * N; i++) {
		w[i] = (uint8_t)(i * 13 + (i >> 8));
	}
	host_start(&h, f, hd, dd);
	/* In-capsule (512 and 4096 bytes) and R2T (20000 bytes: 3 R2Ts, 5 H2CData PDUs). */
	CU_ASSERT_EQUAL(submit(&h, PLX_NVME_OPC_WRITE, 0, w, 512, &ios[0]), 0);
	CU_ASSERT_EQUAL(submit(&h, PLX_NVME_OPC_WRITE, 4096, w + 4096, 4096, &ios[1]), 0);
	CU_ASSERT_EQUAL(submit(&h, PLX_NVME_OPC_WRITE, 8192, w + 8192, BIG, &ios[2]), 0);
	CU_ASSERT_TRUE(wait_ios(&h, ios, 3, &last));
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_FALSE(plx_nvme_cpl_is_error(&ios[i].cpl));
	}
	CU_ASSERT_EQUAL(submit(&h, PLX_NVME_OPC_READ, 0, r, 8192 + BIG, &ios[0]), 0);
	CU_ASSERT_TRUE(wait_ios(&h, ios, 1, &last));
	CU_ASSERT_FALSE(plx_nvme_cpl_is_error(&ios[0].cpl));
	CU_ASSERT_EQUAL(memcmp(w, r, 512), 0);
	CU_ASSERT_EQUAL(memcmp(w + 4096, r + 4096, 4096 + BIG), 0);
	/* Many at once: R2Ts of several commands interleave. */
	memset(r, 0, (size_t)BIG * N);
	for (int i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(submit(&h, PLX_NVME_OPC_WRITE, (uint32_t)i * 10240,
				       w + (size_t)i * 10240, 10240, &ios[i]),
				0);
	}
	CU_ASSERT_TRUE(wait_ios(&h, ios, N, &last));
	for (int i = 0; i < N; i++) {
		CU_ASSERT_FALSE(plx_nvme_cpl_is_error(&ios[i].cpl));
		CU_ASSERT_EQUAL(submit(&h, PLX_NVME_OPC_READ, (uint32_t)i * 10240,
				       r + (size_t)i * 10240, 10240, &ios[N + i]),
				0);
	}
	CU_ASSERT_TRUE(wait_ios(&h, ios + N, N, &last));
	CU_ASSERT_EQUAL(memcmp(w, r, (size_t)N * 10240), 0);
	host_stop(&h);
	CU_ASSERT_EQUAL(fake_finish(f), 0);
	free(w);
	free(r);
}

static void test_echo_plain(void)
{
	echo_run(false, false);
}

static void test_echo_digests(void)
{
	echo_run(true, true);
}

/* The controller misbehaves on the first of 4 reads: all 4 end aborted, the qpair failed. */
static void bad_run(enum mode mode, bool hd, bool dd)
{
	struct fake *f = fake_start(mode);
	struct host h;
	static uint8_t buf[4][4096];
	struct io ios[4];
	int32_t last = 0;

	host_start(&h, f, hd, dd);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(
		    submit(&h, PLX_NVME_OPC_READ, (uint32_t)i * 4096, buf[i], 4096, &ios[i]), 0);
	}
	CU_ASSERT_TRUE(wait_ios(&h, ios, 4, &last));
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(ios[i].cpl.status.sct, PLX_NVME_SCT_GENERIC);
		CU_ASSERT_EQUAL(ios[i].cpl.status.sc, PLX_NVME_SC_ABORTED_SQ_DELETION);
	}
	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(h.qpair, 0), -ENXIO);
	CU_ASSERT_EQUAL(h.qpair->state, NVME_QPAIR_FAILED);
	CU_ASSERT_EQUAL(h.qpair->outstanding, 0);
	/* A failed qpair refuses new commands instead of losing them. */
	CU_ASSERT_NOT_EQUAL(submit(&h, PLX_NVME_OPC_READ, 0, buf[0], 4096, &ios[0]), 0);
	host_stop(&h);
	fake_finish(f);
}

static void test_bad_pdus(void)
{
	bad_run(M_UNKNOWN_CID, false, false);
	bad_run(M_C2H_RANGE, false, false);
	bad_run(M_R2T_FOR_READ, false, false);
	bad_run(M_HOST_TYPE, false, false);
	bad_run(M_TERM_REQ, false, false);
	bad_run(M_CLOSE, false, false);
	bad_run(M_SUCCESS_NO_LAST, false, false);
	/* A successful read completion without (all) its data is not a read. */
	bad_run(M_RESP_NO_DATA, false, false);
	bad_run(M_RESP_SHORT_DATA, false, false);
	bad_run(M_BAD_DDGST, true, true);
	bad_run(M_BAD_HDGST, true, false);
}

/*
 * A completion that arrives while the command's capsule is still being written waits for the
 * write; a PDU naming that cid meanwhile is a protocol error. (It used to relink the slot from
 * the deferred list onto the R2T list and complete it twice, the second time with no request.)
 */
static void test_pdu_after_deferred_completion(void)
{
	struct plx_sock_impl_opts saved, so;
	struct fake *f;
	struct host h;
	static uint8_t buf[7][8192];
	struct io ios[7];
	int32_t last = 0;

	CU_ASSERT_EQUAL_FATAL(plx_sock_impl_get_opts("posix", &saved), 0);
	so = saved;
	so.send_buf_size = 4096;
	plx_sock_impl_set_opts("posix", &so);
	f = fake_start(M_DEFERRED_R2T);
	host_start(&h, f, false, false);
	/* Six in-capsule writes (4 KiB each) fill the sockets; the seventh needs an R2T. */
	for (int i = 0; i < 7; i++) {
		CU_ASSERT_EQUAL(submit(&h, PLX_NVME_OPC_WRITE, (uint32_t)i * 8192, buf[i],
				       i < 6 ? 4096 : 8192, &ios[i]),
				0);
	}
	CU_ASSERT_TRUE(wait_ios(&h, ios, 7, &last));
	for (int i = 0; i < 7; i++) {
		CU_ASSERT_EQUAL(ios[i].calls, 1);
		CU_ASSERT_EQUAL(ios[i].cpl.status.sc, PLX_NVME_SC_ABORTED_SQ_DELETION);
	}
	CU_ASSERT_EQUAL(h.qpair->state, NVME_QPAIR_FAILED);
	CU_ASSERT_EQUAL(h.qpair->outstanding, 0);
	host_stop(&h);
	fake_finish(f);
	plx_sock_impl_set_opts("posix", &saved);
}

static void test_admin_connect_errors(void)
{
	char err[PLX_NVME_ERR_LEN] = "";
	struct fake *f = fake_start(M_ADMIN_BAD_PFV);

	CU_ASSERT_PTR_NULL(host_construct(f, false, false, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "ICResp: unsupported pfv 1"));
	fake_finish(f);

	f = fake_start(M_ADMIN_REJECT);
	CU_ASSERT_PTR_NULL(host_construct(f, false, false, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Connect (qid 0) rejected"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "sct 1 sc 0x84"));
	fake_finish(f);
}

static const struct plx_ut_case cases[] = {
    {"echo_plain", test_echo_plain},
    {"echo_digests", test_echo_digests},
    {"bad_pdus", test_bad_pdus},
    {"admin_connect_errors", test_admin_connect_errors},
    {"pdu_after_deferred_completion", test_pdu_after_deferred_completion},
};

PLX_UT_MAIN("nvme_tcp_qpair", cases)
