/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe/TCP host against Pollux's own target (pollux_tgt, started here): connect,
 * Identify, 4 KiB writes in the capsule and 128 KiB writes through R2T, reads verified, SGL
 * payloads, a queue depth of 32 batched, digests off and on; then the target killed with
 * commands outstanding: every one completes, with an abort status, and nothing hangs.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pollux/env.h"
#include "pollux/nvme.h"
#include "ut.h"

#define NQN	   "nqn.2016-06.io.pollux:tcp-e2e"
#define BLOCK	   4096
#define NUM_BLOCKS 4096 /* 16 MiB */

static pid_t g_tgt = -1;
static char g_dir[64];
static char g_port[16];

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
		port = ntohs(sa.sin_port);
	}
	if (fd >= 0) {
		close(fd);
	}
	return port;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static bool file_has(const char *path, const char *what)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		return false;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, what) != NULL;
}

static void stop_target(int sig)
{
	if (g_tgt > 0) {
		kill(g_tgt, sig);
		waitpid(g_tgt, NULL, 0);
		g_tgt = -1;
	}
}

static bool start_target(bool c2h_success)
{
	char cfg[128], out[128], rpc[128];
	FILE *f;
	int port = free_port();

	snprintf(g_dir, sizeof(g_dir), "/tmp/plx_tcp_e2e.XXXXXX");
	if (port < 0 || mkdtemp(g_dir) == NULL) {
		return false;
	}
	snprintf(g_port, sizeof(g_port), "%d", port);
	snprintf(cfg, sizeof(cfg), "%s/tgt.json", g_dir);
	snprintf(out, sizeof(out), "%s/tgt.out", g_dir);
	snprintf(rpc, sizeof(rpc), "%s/rpc.sock", g_dir);
	f = fopen(cfg, "w");
	if (f == NULL) {
		return false;
	}
	fprintf(f,
		"{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":[{\"method\":"
		"\"bdev_malloc_create\",\"params\":{\"name\":\"Malloc0\",\"num_blocks\":%d,"
		"\"block_size\":%d}}]},{\"subsystem\":\"nvmf\",\"config\":[{\"method\":"
		"\"nvmf_create_transport\",\"params\":{\"trtype\":\"TCP\",\"max_queue_depth\":128,"
		"\"in_capsule_data_size\":4096,\"max_io_size\":131072,\"c2h_success\":%s}},"
		"{\"method\":\"nvmf_create_subsystem\",\"params\":{\"nqn\":\"%s\","
		"\"allow_any_host\":true,\"serial_number\":\"PLXE2E\"}},{\"method\":"
		"\"nvmf_subsystem_add_ns\",\"params\":{\"nqn\":\"%s\",\"namespace\":{\"bdev_name\":"
		"\"Malloc0\",\"nsid\":1}}},{\"method\":\"nvmf_subsystem_add_listener\",\"params\":"
		"{\"nqn\":\"%s\",\"listen_address\":{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\","
		"\"traddr\":\"127.0.0.1\",\"trsvcid\":\"%s\"}}}]}]}\n",
		NUM_BLOCKS, BLOCK, c2h_success ? "true" : "false", NQN, NQN, NQN, g_port);
	fclose(f);
	g_tgt = fork();
	if (g_tgt == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(PLX_BUILD_ROOT "/app/pollux_tgt/pollux_tgt", "pollux_tgt", "-m", "0x1", "-r",
		      rpc, "--json", cfg, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300 && g_tgt > 0; i++) {
		if (file_has(out, "ready")) {
			return true;
		}
		if (waitpid(g_tgt, NULL, WNOHANG) == g_tgt) {
			g_tgt = -1;
			break;
		}
		sleep_ms(50);
	}
	fprintf(stderr, "pollux_tgt did not start (see %s)\n", out);
	stop_target(SIGKILL);
	return false;
}

/* ---- I/O helpers ---- */

struct io {
	bool done;
	struct plx_nvme_cpl cpl;
};

static void io_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct io *io = arg;

	io->cpl = *cpl;
	io->done = true;
}

/* Poll until every io is done; false when that takes absurdly long (a hang). */
static bool wait_ios(struct plx_nvme_qpair *qpair, struct io *ios, int n)
{
	for (long spins = 0; spins < 200000000L; spins++) {
		int done = 0;

		for (int i = 0; i < n; i++) {
			done += ios[i].done;
		}
		if (done == n) {
			return true;
		}
		plx_nvme_qpair_process_completions(qpair, 0);
	}
	return false;
}

static void pattern(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		buf[i] = (uint8_t)((i * 131) ^ (seed * 7) ^ (i >> 9));
	}
}

static bool write_read_verify(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, uint64_t lba,
			      uint32_t blocks, uint32_t seed)
{
	size_t len = (size_t)blocks * BLOCK;
	uint8_t *w = plx_dma_malloc(len, 0), *r = plx_dma_malloc(len, 0);
	struct io io = {0};
	bool ok;

	pattern(w, len, seed);
	memset(r, 0, len);
	ok = plx_nvme_ns_cmd_write(ns, qpair, w, lba, blocks, io_done, &io, 0) == 0 &&
	     wait_ios(qpair, &io, 1) && !plx_nvme_cpl_is_error(&io.cpl);
	io.done = false;
	ok = ok && plx_nvme_ns_cmd_read(ns, qpair, r, lba, blocks, io_done, &io, 0) == 0 &&
	     wait_ios(qpair, &io, 1) && !plx_nvme_cpl_is_error(&io.cpl) && memcmp(w, r, len) == 0;
	plx_dma_free(w);
	plx_dma_free(r);
	return ok;
}

/* An SGL payload of uneven pieces. */
struct sgl {
	struct {
		uint8_t *base;
		uint32_t len;
	} seg[3];
	int idx;
	uint32_t off;
};

static void sgl_reset(void *arg, uint32_t offset)
{
	struct sgl *s = arg;

	s->idx = 0;
	while (s->idx < 3 && offset >= s->seg[s->idx].len) {
		offset -= s->seg[s->idx++].len;
	}
	s->off = offset;
}

static int sgl_next(void *arg, void **addr, uint32_t *len)
{
	struct sgl *s = arg;

	if (s->idx >= 3) {
		return -EINVAL;
	}
	*addr = s->seg[s->idx].base + s->off;
	*len = s->seg[s->idx].len - s->off;
	s->idx++;
	s->off = 0;
	return 0;
}

struct sgl_io {
	struct sgl sgl;
	struct io io;
};

static void sgl_io_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	io_done(&((struct sgl_io *)arg)->io, cpl);
}

static bool sgl_write_read(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, uint32_t blocks)
{
	static const uint32_t cut[2] = {100, 5000};
	uint32_t len = blocks * BLOCK;
	uint8_t *w = malloc(len), *r = calloc(1, len);
	struct sgl_io a = {0}, b = {0};
	bool ok;

	pattern(w, len, blocks);
	a.sgl.seg[0].base = w;
	a.sgl.seg[0].len = cut[0];
	a.sgl.seg[1].base = w + cut[0];
	a.sgl.seg[1].len = cut[1];
	a.sgl.seg[2].base = w + cut[0] + cut[1];
	a.sgl.seg[2].len = len - cut[0] - cut[1];
	b.sgl = a.sgl;
	for (int i = 0; i < 3; i++) {
		b.sgl.seg[i].base = r + (a.sgl.seg[i].base - w);
	}
	ok = plx_nvme_ns_cmd_writev(ns, qpair, 300, blocks, sgl_io_done, &a, 0, sgl_reset,
				    sgl_next) == 0 &&
	     wait_ios(qpair, &a.io, 1) && !plx_nvme_cpl_is_error(&a.io.cpl);
	ok = ok &&
	     plx_nvme_ns_cmd_readv(ns, qpair, 300, blocks, sgl_io_done, &b, 0, sgl_reset,
				   sgl_next) == 0 &&
	     wait_ios(qpair, &b.io, 1) && !plx_nvme_cpl_is_error(&b.io.cpl) &&
	     memcmp(w, r, len) == 0;
	free(w);
	free(r);
	return ok;
}

/* 32 writes at once (one batch), then 32 reads, each block verified. */
static bool batch_write_read(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair)
{
	enum { N = 32 };
	uint8_t *w = plx_dma_malloc(N * BLOCK, 0), *r = plx_dma_zmalloc(N * BLOCK, 0);
	struct io ios[N];
	bool ok = true;

	pattern(w, N * BLOCK, 99);
	memset(ios, 0, sizeof(ios));
	for (int i = 0; i < N; i++) {
		ok = ok && plx_nvme_ns_cmd_write(ns, qpair, w + i * BLOCK, 1000 + 2 * i, 1, io_done,
						 &ios[i], 0) == 0;
	}
	ok = ok && wait_ios(qpair, ios, N);
	memset(ios, 0, sizeof(ios));
	for (int i = 0; i < N; i++) {
		ok = ok && plx_nvme_ns_cmd_read(ns, qpair, r + i * BLOCK, 1000 + 2 * i, 1, io_done,
						&ios[i], 0) == 0;
	}
	ok = ok && wait_ios(qpair, ios, N);
	for (int i = 0; i < N && ok; i++) {
		ok = !plx_nvme_cpl_is_error(&ios[i].cpl);
	}
	ok = ok && memcmp(w, r, N * BLOCK) == 0;
	plx_dma_free(w);
	plx_dma_free(r);
	return ok;
}

static struct plx_nvme_ctrlr *connect_ctrlr(bool hdgst, bool ddgst)
{
	struct plx_nvme_ctrlr_opts opts;
	struct plx_nvme_trid trid;
	struct plx_nvme_ctrlr *ctrlr;
	char err[PLX_NVME_ERR_LEN] = "";

	CU_ASSERT_FATAL(
	    plx_nvme_trid_from_strings(&trid, "TCP", "IPv4", "127.0.0.1", g_port, err) == 0);
	snprintf(trid.subnqn, sizeof(trid.subnqn), "%s", NQN);
	plx_nvme_ctrlr_get_default_opts(&opts);
	opts.header_digest = hdgst;
	opts.data_digest = ddgst;
	ctrlr = plx_nvme_connect(&trid, &opts, err);
	if (ctrlr == NULL) {
		fprintf(stderr, "connect failed: %s\n", err);
	}
	return ctrlr;
}

static void run_io(bool hdgst, bool ddgst, bool c2h_success)
{
	struct plx_nvme_ctrlr *ctrlr;
	struct plx_nvme_io_qpair_opts qo;
	struct plx_nvme_qpair *qpair;
	struct plx_nvme_ns *ns;
	const struct plx_nvme_ctrlr_data *cd;

	if (!start_target(c2h_success)) {
		CU_FAIL("pollux_tgt did not start");
		return;
	}
	ctrlr = connect_ctrlr(hdgst, ddgst);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	cd = plx_nvme_ctrlr_get_data(ctrlr);
	CU_ASSERT_STRING_EQUAL(cd->subnqn, NQN);
	CU_ASSERT_EQUAL(cd->ioccsz, (64 + 4096) / 16);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_get_first_active_ns(ctrlr), 1);
	ns = plx_nvme_ctrlr_get_ns(ctrlr, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ns);
	CU_ASSERT_EQUAL(plx_nvme_ns_get_sector_size(ns), BLOCK);
	CU_ASSERT_EQUAL(plx_nvme_ns_get_num_sectors(ns), NUM_BLOCKS);
	CU_ASSERT_TRUE(plx_nvme_ctrlr_get_max_xfer_size(ctrlr) >= 131072);

	plx_nvme_ctrlr_get_default_io_qpair_opts(ctrlr, &qo);
	qo.delay_cmd_submit = true;
	qpair = plx_nvme_ctrlr_alloc_io_qpair(ctrlr, &qo);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qpair);
	CU_ASSERT_TRUE(write_read_verify(ns, qpair, 0, 1, 1));	 /* in-capsule */
	CU_ASSERT_TRUE(write_read_verify(ns, qpair, 64, 32, 2)); /* R2T, 128 KiB */
	CU_ASSERT_TRUE(write_read_verify(ns, qpair, 128, 3, 3)); /* R2T, 12 KiB */
	CU_ASSERT_TRUE(sgl_write_read(ns, qpair, 1));
	CU_ASSERT_TRUE(sgl_write_read(ns, qpair, 8));
	CU_ASSERT_TRUE(batch_write_read(ns, qpair));
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(qpair), 0);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_free_io_qpair(qpair), 0);

	/* Unbatched submission writes at once. */
	qo.delay_cmd_submit = false;
	qpair = plx_nvme_ctrlr_alloc_io_qpair(ctrlr, &qo);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qpair);
	CU_ASSERT_TRUE(write_read_verify(ns, qpair, 512, 32, 4));
	CU_ASSERT_TRUE(batch_write_read(ns, qpair));
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_free_io_qpair(qpair), 0);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_process_admin_completions(ctrlr), 0);
	CU_ASSERT_EQUAL(plx_nvme_detach(ctrlr), 0);
	stop_target(SIGTERM);
}

static void test_e2e_digests_off(void)
{
	run_io(false, false, true);
}

static void test_e2e_digests_on(void)
{
	run_io(true, true, false);
}

static void test_e2e_header_digest_only(void)
{
	run_io(true, false, true);
}

/* The target dies with 64 commands of 128 KiB outstanding. */
static void test_e2e_target_killed(void)
{
	enum { N = 64 };
	struct plx_nvme_ctrlr *ctrlr;
	struct plx_nvme_io_qpair_opts qo;
	struct plx_nvme_qpair *qpair;
	struct plx_nvme_ns *ns;
	static struct io ios[N];
	uint8_t *buf;
	int ok = 0, aborted = 0, rc = 0;

	if (!start_target(true)) {
		CU_FAIL("pollux_tgt did not start");
		return;
	}
	ctrlr = connect_ctrlr(true, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctrlr);
	ns = plx_nvme_ctrlr_get_ns(ctrlr, 1);
	plx_nvme_ctrlr_get_default_io_qpair_opts(ctrlr, &qo);
	qo.delay_cmd_submit = true;
	qpair = plx_nvme_ctrlr_alloc_io_qpair(ctrlr, &qo);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qpair);
	buf = plx_dma_zmalloc((size_t)N * 32 * BLOCK, 0);
	memset(ios, 0, sizeof(ios));
	for (int i = 0; i < N; i++) {
		uint8_t *b = buf + (size_t)i * 32 * BLOCK;

		rc |= i % 2 ? plx_nvme_ns_cmd_read(ns, qpair, b, (uint64_t)i * 32, 32, io_done,
						   &ios[i], 0)
			    : plx_nvme_ns_cmd_write(ns, qpair, b, (uint64_t)i * 32, 32, io_done,
						    &ios[i], 0);
	}
	CU_ASSERT_EQUAL(rc, 0);
	plx_nvme_qpair_process_completions(qpair, 1); /* some go out, few come back */
	stop_target(SIGKILL);
	CU_ASSERT_TRUE(wait_ios(qpair, ios, N));
	for (int i = 0; i < N; i++) {
		if (!plx_nvme_cpl_is_error(&ios[i].cpl)) {
			ok++;
		} else if (ios[i].cpl.status.sct == PLX_NVME_SCT_GENERIC &&
			   ios[i].cpl.status.sc == PLX_NVME_SC_ABORTED_SQ_DELETION) {
			aborted++;
		}
	}
	CU_ASSERT_EQUAL(ok + aborted, N);
	CU_ASSERT_TRUE(aborted > 0);
	CU_ASSERT_EQUAL(plx_nvme_qpair_process_completions(qpair, 0), -ENXIO);
	CU_ASSERT_EQUAL(plx_nvme_qpair_get_outstanding(qpair), 0);
	/* New commands are refused, not lost. */
	CU_ASSERT_NOT_EQUAL(plx_nvme_ns_cmd_read(ns, qpair, buf, 0, 1, io_done, &ios[0], 0), 0);
	plx_nvme_ctrlr_process_admin_completions(ctrlr);
	CU_ASSERT_EQUAL(plx_nvme_ctrlr_free_io_qpair(qpair), 0);
	plx_nvme_detach(ctrlr);
	plx_dma_free(buf);
}

/* Nobody listens: the connect fails with a message naming the step. */
static void test_e2e_connect_refused(void)
{
	struct plx_nvme_trid trid;
	char err[PLX_NVME_ERR_LEN] = "";
	int port = free_port();

	snprintf(g_port, sizeof(g_port), "%d", port);
	CU_ASSERT_FATAL(
	    plx_nvme_trid_from_strings(&trid, "TCP", "IPv4", "127.0.0.1", g_port, err) == 0);
	snprintf(trid.subnqn, sizeof(trid.subnqn), "%s", NQN);
	CU_ASSERT_PTR_NULL(plx_nvme_connect(&trid, NULL, err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "connect to 127.0.0.1"));
}

static const struct plx_ut_case cases[] = {
    {"e2e_digests_off", test_e2e_digests_off},
    {"e2e_digests_on", test_e2e_digests_on},
    {"e2e_header_digest_only", test_e2e_header_digest_only},
    {"e2e_target_killed", test_e2e_target_killed},
    {"e2e_connect_refused", test_e2e_connect_refused},
};

PLX_UT_MAIN("nvme_tcp_e2e", cases)
