/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Exercises the PCIe transport's data paths on a real (emulated) controller through the
 * public API: one page (PRP1), two pages (PRP2), an unaligned start and a 256 KiB transfer
 * (PRP lists), scatter-gather callbacks, and a burst deeper than the queue (the core's retry
 * of -EAGAIN). Every write is read back and compared.
 *
 *   nvme_pcie_io DDDD:BB:DD.F
 *
 * Prints "ok - NAME" / "not ok - NAME" per step; exits 1 when a step failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/env.h"
#include "pollux/nvme.h"

#define BURST 300

struct io_wait {
	int done;
	int failed;
};

/* The SGL callbacks get the command's cb_arg: the completion state comes first in it. */
struct sgl_ctx {
	struct io_wait w;
	char *seg[3];
	uint32_t len[3];
	int idx;
};

static struct plx_nvme_qpair *g_qpair;
static struct plx_nvme_ns *g_ns;
static int g_failed;

static void io_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct io_wait *w = arg;

	w->done++;
	if (plx_nvme_cpl_is_error(cpl)) {
		w->failed++;
		fprintf(stderr, "  I/O failed: %s\n", plx_nvme_status_string(&cpl->status));
	}
}

static int wait_for(struct io_wait *w, int n)
{
	while (w->done < n) {
		if (plx_nvme_qpair_process_completions(g_qpair, 0) < 0) {
			return -1;
		}
	}
	return w->failed == 0 ? 0 : -1;
}

static void report(const char *name, int rc)
{
	printf("%s - %s\n", rc == 0 ? "ok" : "not ok", name);
	fflush(stdout);
	g_failed |= rc != 0;
}

static int rw_verify(size_t offset, uint32_t bytes, uint64_t lba)
{
	uint32_t ss = plx_nvme_ns_get_sector_size(g_ns), i;
	char *wbuf = plx_dma_malloc(bytes + offset, 4096);
	char *rbuf = plx_dma_malloc(bytes + offset, 4096);
	struct io_wait w = {0};
	int rc = -1;

	if (wbuf == NULL || rbuf == NULL) {
		goto out;
	}
	for (i = 0; i < bytes; i++) {
		wbuf[offset + i] = (char)(i * 7 + lba + bytes);
	}
	memset(rbuf, 0, bytes + offset);
	if (plx_nvme_ns_cmd_write(g_ns, g_qpair, wbuf + offset, lba, bytes / ss, io_done, &w, 0) ||
	    wait_for(&w, 1) ||
	    plx_nvme_ns_cmd_read(g_ns, g_qpair, rbuf + offset, lba, bytes / ss, io_done, &w, 0) ||
	    wait_for(&w, 2)) {
		goto out;
	}
	rc = memcmp(wbuf + offset, rbuf + offset, bytes) == 0 ? 0 : -1;
	if (rc != 0) {
		fprintf(stderr, "  data read back differs (%u bytes at LBA %llu)\n", bytes,
			(unsigned long long)lba);
	}
out:
	plx_dma_free(wbuf);
	plx_dma_free(rbuf);
	return rc;
}

static void sgl_reset(void *arg, uint32_t offset)
{
	struct sgl_ctx *c = arg;

	(void)offset; /* always 0 here */
	c->idx = 0;
}

static int sgl_next(void *arg, void **addr, uint32_t *len)
{
	struct sgl_ctx *c = arg;

	if (c->idx >= 3) {
		return -1;
	}
	*addr = c->seg[c->idx];
	*len = c->len[c->idx];
	c->idx++;
	return 0;
}

static int sgl_verify(uint64_t lba)
{
	struct sgl_ctx wc = {.len = {4096, 8192, 4096}};
	char *rbuf = NULL;
	uint32_t ss = plx_nvme_ns_get_sector_size(g_ns), total = 16384, i, j;
	struct io_wait w = {0};
	int rc = -1;

	for (i = 0; i < 3; i++) {
		wc.seg[i] = plx_dma_malloc(wc.len[i], 4096);
		if (wc.seg[i] == NULL) {
			goto out;
		}
		for (j = 0; j < wc.len[i]; j++) {
			wc.seg[i][j] = (char)(i * 31 + j);
		}
	}
	if (plx_nvme_ns_cmd_writev(g_ns, g_qpair, lba, total / ss, io_done, &wc, 0, sgl_reset,
				   sgl_next) ||
	    wait_for(&wc.w, 1)) {
		goto out;
	}
	/* Read back contiguously: the pieces must have landed in order. */
	rbuf = plx_dma_zmalloc(total, 4096);
	if (rbuf == NULL ||
	    plx_nvme_ns_cmd_read(g_ns, g_qpair, rbuf, lba, total / ss, io_done, &w, 0) ||
	    wait_for(&w, 1)) {
		goto out;
	}
	rc = memcmp(rbuf, wc.seg[0], 4096) || memcmp(rbuf + 4096, wc.seg[1], 8192) ||
		     memcmp(rbuf + 12288, wc.seg[2], 4096)
		 ? -1
		 : 0;
out:
	for (i = 0; i < 3; i++) {
		plx_dma_free(wc.seg[i]);
	}
	plx_dma_free(rbuf);
	return rc;
}

static int burst(uint64_t lba)
{
	uint32_t ss = plx_nvme_ns_get_sector_size(g_ns);
	char *buf = plx_dma_zmalloc(4096, 4096);
	struct io_wait w = {0};
	int i, rc = 0;

	if (buf == NULL) {
		return -1;
	}
	for (i = 0; i < BURST && rc == 0; i++) {
		rc = plx_nvme_ns_cmd_read(g_ns, g_qpair, buf, lba + (uint64_t)i * (4096 / ss),
					  4096 / ss, io_done, &w, 0);
		while (rc == -ENOMEM) {
			plx_nvme_qpair_process_completions(g_qpair, 0);
			rc = plx_nvme_ns_cmd_read(g_ns, g_qpair, buf,
						  lba + (uint64_t)i * (4096 / ss), 4096 / ss,
						  io_done, &w, 0);
		}
	}
	if (rc == 0) {
		rc = wait_for(&w, BURST);
	}
	plx_dma_free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	char str[128], err[PLX_NVME_ERR_LEN] = "";
	struct plx_nvme_trid trid;
	struct plx_nvme_ctrlr *ctrlr;
	const struct plx_nvme_ctrlr_data *cd;
	uint32_t nsid;

	if (argc != 2) {
		fprintf(stderr, "usage: nvme_pcie_io DDDD:BB:DD.F\n");
		return 2;
	}
	snprintf(str, sizeof(str), "trtype:pcie traddr:%s", argv[1]);
	if (plx_nvme_trid_parse(&trid, str, err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	ctrlr = plx_nvme_connect(&trid, NULL, err);
	report("pcie_connect", ctrlr == NULL ? -1 : 0);
	if (ctrlr == NULL) {
		fprintf(stderr, "  %s\n", err);
		return 1;
	}
	cd = plx_nvme_ctrlr_get_data(ctrlr);
	printf("  model '%.40s' serial '%.20s' max transfer %u, %u I/O queues\n",
	       (const char *)cd->mn, (const char *)cd->sn, plx_nvme_ctrlr_get_max_xfer_size(ctrlr),
	       plx_nvme_ctrlr_get_num_io_queues(ctrlr));
	nsid = plx_nvme_ctrlr_get_first_active_ns(ctrlr);
	g_ns = nsid != 0 ? plx_nvme_ctrlr_get_ns(ctrlr, nsid) : NULL;
	g_qpair = g_ns != NULL ? plx_nvme_ctrlr_alloc_io_qpair(ctrlr, NULL) : NULL;
	report("pcie_io_qpair", g_qpair == NULL ? -1 : 0);
	if (g_qpair != NULL) {
		report("pcie_rw_4k_prp1", rw_verify(0, 4096, 0));
		report("pcie_rw_8k_prp2", rw_verify(0, 8192, 16));
		report("pcie_rw_8k_unaligned_prp_list", rw_verify(512, 8192, 64));
		report("pcie_rw_256k_prp_list", rw_verify(0, 256 * 1024, 1024));
		report("pcie_writev_sgl", sgl_verify(4096));
		report("pcie_burst_deeper_than_queue", burst(8192));
		report("pcie_free_qpair", plx_nvme_ctrlr_free_io_qpair(g_qpair));
	}
	report("pcie_detach", plx_nvme_detach(ctrlr));
	return g_failed ? 1 : 0;
}
