/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the bdev core's splitting (optimal I/O boundary, max_rw_size, segment limits)
 * and bounce buffers, checking exactly what the module receives.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"
#include "bdev_ut_module.h"
#include "ut.h"

static struct tm_disk *g_disk;
static struct plx_bdev_desc *g_desc;
static struct plx_io_channel *g_ch;

static void setup(const struct tm_opts *o)
{
	int rc;

	g_disk = tm_create("disk", o, &rc);
	CU_ASSERT_FATAL(g_disk != NULL);
	g_desc = ut_bdev_open("disk");
	CU_ASSERT_FATAL(g_desc != NULL);
	g_ch = plx_bdev_get_io_channel(g_desc);
	CU_ASSERT_FATAL(g_ch != NULL);
}

static void teardown(void)
{
	ut_set_thread(0);
	plx_put_io_channel(g_ch);
	plx_bdev_close(g_desc);
	ut_poll_threads();
	tm_fini();
}

static bool rec_is(unsigned int i, enum plx_bdev_io_type type, uint64_t offset, uint64_t num)
{
	return i < g_tm_nrec && g_tm_rec[i].type == type && g_tm_rec[i].offset == offset &&
	       g_tm_rec[i].num_blocks == num;
}

static bool rec_iov(unsigned int i, int idx, const void *base, size_t len)
{
	return i < g_tm_nrec && idx < g_tm_rec[i].iovcnt &&
	       g_tm_rec[i].iovs[idx].iov_base == base && g_tm_rec[i].iovs[idx].iov_len == len;
}

static void test_split_boundary(void)
{
	struct tm_opts o = {.blocklen = 512,
			    .blockcnt = 256,
			    .with_data = true,
			    .optimal_io_boundary = 16,
			    .split_on_optimal_io_boundary = true};
	struct tm_cpl c = {0};
	char *buf = malloc(40 * 512);

	tm_init(1);
	setup(&o);
	tm_pattern(buf, 40 * 512, 5);
	CU_ASSERT(plx_bdev_get_optimal_io_boundary(&g_disk->bdev) == 16);
	CU_ASSERT(plx_bdev_write_blocks(g_desc, g_ch, buf, 10, 40, tm_cpl_cb, &c) == 0);
	CU_ASSERT_FATAL(g_tm_nrec == 4);
	CU_ASSERT(rec_is(0, PLX_BDEV_IO_TYPE_WRITE, 10, 6) && rec_iov(0, 0, buf, 6 * 512));
	CU_ASSERT(rec_is(1, PLX_BDEV_IO_TYPE_WRITE, 16, 16) &&
		  rec_iov(1, 0, buf + 6 * 512, 16 * 512));
	CU_ASSERT(rec_is(2, PLX_BDEV_IO_TYPE_WRITE, 32, 16) &&
		  rec_iov(2, 0, buf + 22 * 512, 16 * 512));
	CU_ASSERT(rec_is(3, PLX_BDEV_IO_TYPE_WRITE, 48, 2) && rec_iov(3, 0, buf + 38 * 512, 1024));
	for (unsigned int i = 0; i < 4; i++) {
		CU_ASSERT(g_tm_rec[i].iovcnt == 1);
	}
	/* The parent completes once, after the last child. */
	tm_complete(g_disk, 0, 3, PLX_BDEV_IO_STATUS_SUCCESS);
	ut_poll_threads();
	CU_ASSERT(c.calls == 0);
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	ut_poll_threads();
	CU_ASSERT(c.calls == 1 && c.success);
	CU_ASSERT(memcmp(g_disk->data + 10 * 512, buf, 40 * 512) == 0);

	/* Within one boundary window: no split. */
	tm_reset_records();
	CU_ASSERT(plx_bdev_write_blocks(g_desc, g_ch, buf, 16, 16, tm_cpl_cb, &c) == 0);
	CU_ASSERT(g_tm_nrec == 1 && rec_is(0, PLX_BDEV_IO_TYPE_WRITE, 16, 16));
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);

	/* write_zeroes splits on the boundary too; flush does not. */
	tm_reset_records();
	CU_ASSERT(plx_bdev_write_zeroes_blocks(g_desc, g_ch, 30, 4, tm_cpl_cb, &c) == 0);
	CU_ASSERT(plx_bdev_flush_blocks(g_desc, g_ch, 0, 256, tm_cpl_cb, &c) == 0);
	CU_ASSERT(g_tm_nrec == 3);
	CU_ASSERT(rec_is(0, PLX_BDEV_IO_TYPE_WRITE_ZEROES, 30, 2) && g_tm_rec[0].iovcnt == 0);
	CU_ASSERT(rec_is(1, PLX_BDEV_IO_TYPE_WRITE_ZEROES, 32, 2));
	CU_ASSERT(rec_is(2, PLX_BDEV_IO_TYPE_FLUSH, 0, 256));
	tm_complete(g_disk, 0, 3, PLX_BDEV_IO_STATUS_SUCCESS);
	ut_poll_threads();
	CU_ASSERT(c.calls == 4);
	teardown();

	/* The boundary without split_on_optimal_io_boundary only informs. */
	o.split_on_optimal_io_boundary = false;
	tm_init(1);
	setup(&o);
	CU_ASSERT(plx_bdev_write_blocks(g_desc, g_ch, buf, 10, 40, tm_cpl_cb, &c) == 0);
	CU_ASSERT(g_tm_nrec == 1 && rec_is(0, PLX_BDEV_IO_TYPE_WRITE, 10, 40));
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	teardown();
	free(buf);
}

static void test_split_max_rw_size(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256, .with_data = true, .max_rw_size = 8};
	struct tm_cpl c = {0};
	char *buf = malloc(20 * 512);

	tm_init(1);
	setup(&o);
	tm_pattern(g_disk->data, 256 * 512, 9);
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch, buf, 3, 20, tm_cpl_cb, &c) == 0);
	CU_ASSERT_FATAL(g_tm_nrec == 3);
	CU_ASSERT(rec_is(0, PLX_BDEV_IO_TYPE_READ, 3, 8) && rec_iov(0, 0, buf, 8 * 512));
	CU_ASSERT(rec_is(1, PLX_BDEV_IO_TYPE_READ, 11, 8) && rec_iov(1, 0, buf + 8 * 512, 8 * 512));
	CU_ASSERT(rec_is(2, PLX_BDEV_IO_TYPE_READ, 19, 4) &&
		  rec_iov(2, 0, buf + 16 * 512, 4 * 512));
	/* Completion order does not matter. */
	ut_set_thread(0);
	tm_complete_io(tm_queued_io(g_disk, 0, 2), PLX_BDEV_IO_STATUS_SUCCESS);
	tm_complete_io(tm_queued_io(g_disk, 0, 0), PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(c.calls == 0);
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(c.calls == 1 && c.success);
	CU_ASSERT(memcmp(buf, g_disk->data + 3 * 512, 20 * 512) == 0);
	teardown();
	free(buf);
}

static void test_split_segments(void)
{
	struct tm_opts o = {
	    .blocklen = 512, .blockcnt = 256, .with_data = true, .max_num_segments = 2};
	struct tm_cpl c = {0};
	char *buf = malloc(8 * 512);
	struct iovec iov[5];

	for (int i = 0; i < 5; i++) {
		iov[i] = (struct iovec){buf + (4 - i) * 512, 512}; /* not contiguous in order */
	}
	tm_init(1);
	setup(&o);
	CU_ASSERT(plx_bdev_writev_blocks(g_desc, g_ch, iov, 5, 0, 5, tm_cpl_cb, &c) == 0);
	CU_ASSERT_FATAL(g_tm_nrec == 3);
	CU_ASSERT(rec_is(0, PLX_BDEV_IO_TYPE_WRITE, 0, 2) && g_tm_rec[0].iovcnt == 2);
	CU_ASSERT(rec_iov(0, 0, iov[0].iov_base, 512) && rec_iov(0, 1, iov[1].iov_base, 512));
	CU_ASSERT(rec_is(1, PLX_BDEV_IO_TYPE_WRITE, 2, 2) && g_tm_rec[1].iovcnt == 2);
	CU_ASSERT(rec_iov(1, 0, iov[2].iov_base, 512) && rec_iov(1, 1, iov[3].iov_base, 512));
	CU_ASSERT(rec_is(2, PLX_BDEV_IO_TYPE_WRITE, 4, 1) && g_tm_rec[2].iovcnt == 1);
	CU_ASSERT(rec_iov(2, 0, iov[4].iov_base, 512));
	tm_complete(g_disk, 0, 3, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(c.calls == 1 && c.success);
	teardown();

	/* Segment size: each segment at most 1024 bytes, two per child. */
	o.max_segment_size = 1024;
	tm_init(1);
	setup(&o);
	memset(&c, 0, sizeof(c));
	CU_ASSERT(plx_bdev_write_blocks(g_desc, g_ch, buf, 0, 8, tm_cpl_cb, &c) == 0);
	CU_ASSERT_FATAL(g_tm_nrec == 2);
	CU_ASSERT(rec_is(0, PLX_BDEV_IO_TYPE_WRITE, 0, 4) && g_tm_rec[0].iovcnt == 2);
	CU_ASSERT(rec_iov(0, 0, buf, 1024) && rec_iov(0, 1, buf + 1024, 1024));
	CU_ASSERT(rec_is(1, PLX_BDEV_IO_TYPE_WRITE, 4, 4) && g_tm_rec[1].iovcnt == 2);
	CU_ASSERT(rec_iov(1, 0, buf + 2048, 1024) && rec_iov(1, 1, buf + 3072, 1024));
	tm_complete(g_disk, 0, 2, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(c.calls == 1 && c.success);
	teardown();

	/* Segment size alone: one child whose iovecs are cut to size. */
	o.max_num_segments = 0;
	tm_init(1);
	setup(&o);
	memset(&c, 0, sizeof(c));
	CU_ASSERT(plx_bdev_write_blocks(g_desc, g_ch, buf, 0, 8, tm_cpl_cb, &c) == 0);
	CU_ASSERT_FATAL(g_tm_nrec == 1);
	CU_ASSERT(rec_is(0, PLX_BDEV_IO_TYPE_WRITE, 0, 8) && g_tm_rec[0].iovcnt == 4);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT(rec_iov(0, i, buf + i * 1024, 1024));
	}
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(c.calls == 1 && c.success);
	teardown();
	free(buf);
}

/* iovecs whose lengths are not block multiples are cut so each child is whole blocks. */
static void test_split_uneven_iovs(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256, .with_data = true, .max_rw_size = 1};
	struct tm_cpl c = {0};
	char *a = malloc(4096), *b = malloc(4096);
	struct iovec iov2[2] = {{a, 1536}, {b, 512}};
	struct iovec iov3[3] = {{a, 300}, {b, 212}, {a + 1000, 512}};

	tm_init(1);
	setup(&o);
	CU_ASSERT(plx_bdev_writev_blocks(g_desc, g_ch, iov2, 2, 0, 4, tm_cpl_cb, &c) == 0);
	CU_ASSERT_FATAL(g_tm_nrec == 4);
	CU_ASSERT(rec_is(0, PLX_BDEV_IO_TYPE_WRITE, 0, 1) && rec_iov(0, 0, a, 512));
	CU_ASSERT(rec_is(1, PLX_BDEV_IO_TYPE_WRITE, 1, 1) && rec_iov(1, 0, a + 512, 512));
	CU_ASSERT(rec_is(2, PLX_BDEV_IO_TYPE_WRITE, 2, 1) && rec_iov(2, 0, a + 1024, 512));
	CU_ASSERT(rec_is(3, PLX_BDEV_IO_TYPE_WRITE, 3, 1) && rec_iov(3, 0, b, 512));
	tm_complete(g_disk, 0, 4, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(c.calls == 1 && c.success);

	tm_reset_records();
	CU_ASSERT(plx_bdev_writev_blocks(g_desc, g_ch, iov3, 3, 0, 2, tm_cpl_cb, &c) == 0);
	CU_ASSERT_FATAL(g_tm_nrec == 2);
	CU_ASSERT(rec_is(0, PLX_BDEV_IO_TYPE_WRITE, 0, 1) && g_tm_rec[0].iovcnt == 2);
	CU_ASSERT(rec_iov(0, 0, a, 300) && rec_iov(0, 1, b, 212));
	CU_ASSERT(rec_is(1, PLX_BDEV_IO_TYPE_WRITE, 1, 1) && rec_iov(1, 0, a + 1000, 512));
	tm_complete(g_disk, 0, 2, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(c.calls == 2 && c.success);
	teardown();

	/* One segment per child, but no single segment holds a whole block: the I/O fails. */
	o.max_rw_size = 0;
	o.max_num_segments = 1;
	tm_init(1);
	setup(&o);
	memset(&c, 0, sizeof(c));
	tm_reset_records();
	CU_ASSERT(plx_bdev_writev_blocks(g_desc, g_ch, iov3, 2, 0, 1, tm_cpl_cb, &c) == 0);
	CU_ASSERT(c.calls == 0); /* not inside the submit call */
	ut_poll_threads();
	CU_ASSERT(c.calls == 1 && !c.success);
	CU_ASSERT(g_tm_nrec == 0);
	teardown();
	free(a);
	free(b);
}

static void test_split_child_failure(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256, .max_rw_size = 4};
	struct tm_cpl c = {0};
	char *buf = malloc(16 * 512);

	tm_init(1);
	setup(&o);
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch, buf, 0, 16, tm_cpl_cb, &c) == 0);
	CU_ASSERT_FATAL(tm_queued(g_disk, 0) == 4);
	ut_set_thread(0);
	tm_complete_io(tm_queued_io(g_disk, 0, 1), PLX_BDEV_IO_STATUS_FAILED);
	tm_complete(g_disk, 0, 2, PLX_BDEV_IO_STATUS_SUCCESS);
	ut_poll_threads();
	CU_ASSERT(c.calls == 0);
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	ut_poll_threads();
	CU_ASSERT(c.calls == 1 && !c.success && c.status == PLX_BDEV_IO_STATUS_FAILED);
	teardown();
	free(buf);
}

/* More children than one round's iovecs: rounds follow one another. */
static void test_split_rounds(void)
{
	struct tm_opts o = {.blocklen = 512,
			    .blockcnt = 256,
			    .with_data = true,
			    .optimal_io_boundary = 1,
			    .split_on_optimal_io_boundary = true};
	struct tm_cpl c = {0};
	char *buf = malloc(100 * 512);
	unsigned int rounds = 0;

	tm_init(1);
	setup(&o);
	tm_pattern(buf, 100 * 512, 11);
	CU_ASSERT(plx_bdev_write_blocks(g_desc, g_ch, buf, 100, 100, tm_cpl_cb, &c) == 0);
	while (tm_queued(g_disk, 0) > 0) {
		CU_ASSERT(tm_queued(g_disk, 0) <= BDEV_SPLIT_IOVS);
		tm_complete(g_disk, 0, BDEV_SPLIT_IOVS, PLX_BDEV_IO_STATUS_SUCCESS);
		ut_poll_threads();
		rounds++;
	}
	CU_ASSERT(rounds == 4);
	CU_ASSERT_FATAL(g_tm_nrec == 100);
	for (unsigned int i = 0; i < 100; i++) {
		CU_ASSERT(rec_is(i, PLX_BDEV_IO_TYPE_WRITE, 100 + i, 1) &&
			  rec_iov(i, 0, buf + i * 512, 512));
	}
	CU_ASSERT(c.calls == 1 && c.success);
	CU_ASSERT(memcmp(g_disk->data + 100 * 512, buf, 100 * 512) == 0);

	/* The same with a module completing inline. */
	memset(&c, 0, sizeof(c));
	tm_reset_records();
	g_disk->inline_status = PLX_BDEV_IO_STATUS_SUCCESS;
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch, buf, 0, 100, tm_cpl_cb, &c) == 0);
	CU_ASSERT(c.calls == 0);
	ut_poll_threads();
	CU_ASSERT(c.calls == 1 && c.success && g_tm_nrec == 100);
	teardown();
	free(buf);
}

/* The bdev_io pool runs dry in the middle of a split: the rest follows as I/Os free up. */
static void test_split_pool_empty(void)
{
	struct tm_opts o = {.blocklen = 512,
			    .blockcnt = 256,
			    .optimal_io_boundary = 1,
			    .split_on_optimal_io_boundary = true};
	struct tm_cpl c = {0};
	char *buf = malloc(20 * 512);
	int rc;

	tm_init_pool(1, 8);
	g_disk = tm_create("disk", &o, &rc);
	g_desc = ut_bdev_open("disk");
	g_ch = plx_bdev_get_io_channel(g_desc);
	CU_ASSERT(plx_bdev_write_blocks(g_desc, g_ch, buf, 0, 20, tm_cpl_cb, &c) == 0);
	CU_ASSERT(tm_queued(g_disk, 0) == 7);
	for (int i = 0; i < 100 && tm_queued(g_disk, 0) > 0; i++) {
		tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
		ut_poll_threads();
	}
	CU_ASSERT_FATAL(g_tm_nrec == 20);
	for (unsigned int i = 0; i < 20; i++) {
		CU_ASSERT(rec_is(i, PLX_BDEV_IO_TYPE_WRITE, i, 1) &&
			  rec_iov(i, 0, buf + i * 512, 512));
	}
	CU_ASSERT(c.calls == 1 && c.success);
	teardown();
	free(buf);
}

/* A split read submitted without a buffer gets one, and the children read into it. */
static void test_split_read_no_buf(void)
{
	struct tm_opts o = {.blocklen = 512,
			    .blockcnt = 256,
			    .with_data = true,
			    .optimal_io_boundary = 4,
			    .split_on_optimal_io_boundary = true};
	struct tm_cpl c = {0};
	char *base;

	tm_init(1);
	setup(&o);
	tm_pattern(g_disk->data, 256 * 512, 13);
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch, NULL, 2, 8, tm_cpl_cb, &c) == 0);
	CU_ASSERT_FATAL(g_tm_nrec == 3);
	base = g_tm_rec[0].iovs[0].iov_base;
	CU_ASSERT(base != NULL);
	CU_ASSERT(rec_is(0, PLX_BDEV_IO_TYPE_READ, 2, 2) && rec_iov(0, 0, base, 1024));
	CU_ASSERT(rec_is(1, PLX_BDEV_IO_TYPE_READ, 4, 4) && rec_iov(1, 0, base + 1024, 2048));
	CU_ASSERT(rec_is(2, PLX_BDEV_IO_TYPE_READ, 8, 2) && rec_iov(2, 0, base + 3072, 1024));
	tm_complete(g_disk, 0, 3, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(c.calls == 1 && c.success);
	CU_ASSERT(c.iov0.iov_base == base && c.iov0.iov_len == 4096);
	/* The data was copied before the buffer went back: compare through the records. */
	teardown();
}

/* ---- bounce buffers ---- */

static void test_bounce(void)
{
	struct tm_opts o = {
	    .blocklen = 512, .blockcnt = 256, .with_data = true, .required_alignment = 12};
	struct tm_cpl c = {0};
	char *raw = plx_dma_malloc(5 * 4096, 4096);
	char *mis = raw + 1;
	struct iovec iov[2] = {{raw + 8192, 512}, {raw + 12288, 512}};

	tm_init(1);
	setup(&o);
	CU_ASSERT(plx_bdev_get_buf_align(&g_disk->bdev) == 4096);
	/* A misaligned write: the module gets an aligned copy; the data lands. */
	tm_pattern(mis, 1024, 21);
	CU_ASSERT(plx_bdev_write_blocks(g_desc, g_ch, mis, 4, 2, tm_cpl_cb, &c) == 0);
	CU_ASSERT_FATAL(g_tm_nrec == 1);
	CU_ASSERT(rec_is(0, PLX_BDEV_IO_TYPE_WRITE, 4, 2) && g_tm_rec[0].iovcnt == 1);
	CU_ASSERT(g_tm_rec[0].iovs[0].iov_base != mis && g_tm_rec[0].iovs[0].iov_len == 1024);
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	ut_poll_threads();
	CU_ASSERT(c.calls == 1 && c.success);
	CU_ASSERT(memcmp(g_disk->data + 4 * 512, mis, 1024) == 0);

	/* A misaligned read: the data arrives in the caller's buffer. */
	tm_pattern(g_disk->data + 10 * 512, 1024, 22);
	memset(mis, 0, 1024);
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch, mis, 10, 2, tm_cpl_cb, &c) == 0);
	CU_ASSERT(g_tm_nrec == 2 && g_tm_rec[1].iovs[0].iov_base != mis);
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	ut_poll_threads();
	CU_ASSERT(c.calls == 2 && c.success);
	CU_ASSERT(memcmp(g_disk->data + 10 * 512, mis, 1024) == 0);

	/* A failed bounced read fails the caller's I/O. */
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch, mis, 10, 2, tm_cpl_cb, &c) == 0);
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_FAILED);
	ut_poll_threads();
	CU_ASSERT(c.calls == 3 && !c.success);

	/* Aligned bases but short segments: bounced into one. */
	tm_pattern(raw + 8192, 512, 23);
	tm_pattern(raw + 12288, 512, 24);
	CU_ASSERT(plx_bdev_writev_blocks(g_desc, g_ch, iov, 2, 20, 2, tm_cpl_cb, &c) == 0);
	CU_ASSERT(g_tm_nrec == 4 && g_tm_rec[3].iovcnt == 1);
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(memcmp(g_disk->data + 20 * 512, raw + 8192, 512) == 0);
	CU_ASSERT(memcmp(g_disk->data + 21 * 512, raw + 12288, 512) == 0);

	/* A read without a buffer is not bounced: the module gets an aligned pool buffer. */
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch, NULL, 20, 1, tm_cpl_cb, &c) == 0);
	CU_ASSERT(g_tm_nrec == 5 && g_tm_rec[4].iovs[0].iov_base != NULL);
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(c.calls == 5 && c.success && c.iov0.iov_base == g_tm_rec[4].iovs[0].iov_base);
	CU_ASSERT(memcmp(c.iov0.iov_base, g_disk->data + 20 * 512, 512) == 0);

	/* Aligned: zero-copy. */
	CU_ASSERT(plx_bdev_write_blocks(g_desc, g_ch, raw, 0, 8, tm_cpl_cb, &c) == 0);
	CU_ASSERT(g_tm_nrec == 6 && rec_iov(5, 0, raw, 4096));
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	ut_poll_threads();
	CU_ASSERT(c.calls == 6);
	CU_ASSERT(g_tm_misaligned == 0);
	teardown();
	plx_dma_free(raw);
}

static void test_split_and_bounce(void)
{
	struct tm_opts o = {.blocklen = 512,
			    .blockcnt = 256,
			    .with_data = true,
			    .required_alignment = 9,
			    .optimal_io_boundary = 2,
			    .split_on_optimal_io_boundary = true};
	struct tm_cpl c = {0};
	char *raw = malloc(8 * 512 + 1), *mis = raw + 1;

	tm_init(1);
	setup(&o);
	tm_pattern(mis, 6 * 512, 31);
	CU_ASSERT(plx_bdev_write_blocks(g_desc, g_ch, mis, 1, 6, tm_cpl_cb, &c) == 0);
	CU_ASSERT_FATAL(g_tm_nrec == 4);
	CU_ASSERT(rec_is(0, PLX_BDEV_IO_TYPE_WRITE, 1, 1));
	CU_ASSERT(rec_is(1, PLX_BDEV_IO_TYPE_WRITE, 2, 2));
	CU_ASSERT(rec_is(2, PLX_BDEV_IO_TYPE_WRITE, 4, 2));
	CU_ASSERT(rec_is(3, PLX_BDEV_IO_TYPE_WRITE, 6, 1));
	tm_complete(g_disk, 0, 4, PLX_BDEV_IO_STATUS_SUCCESS);
	ut_poll_threads();
	CU_ASSERT(c.calls == 1 && c.success);
	CU_ASSERT(memcmp(g_disk->data + 512, mis, 6 * 512) == 0);
	CU_ASSERT(g_tm_misaligned == 0);

	memset(mis, 0, 6 * 512);
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch, mis, 1, 6, tm_cpl_cb, &c) == 0);
	tm_complete(g_disk, 0, 4, PLX_BDEV_IO_STATUS_SUCCESS);
	ut_poll_threads();
	CU_ASSERT(c.calls == 2 && c.success);
	CU_ASSERT(memcmp(g_disk->data + 512, mis, 6 * 512) == 0);
	teardown();
	free(raw);
}

/* Emulated compare reads through the same limits as any read. */
static void test_compare_split(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256, .with_data = true, .max_rw_size = 4};
	struct tm_cpl c = {0};
	char *buf = malloc(10 * 512);
	struct iovec iov = {buf, 10 * 512};

	tm_init(1);
	setup(&o);
	g_disk->inline_status = PLX_BDEV_IO_STATUS_SUCCESS;
	tm_pattern(g_disk->data + 512, 10 * 512, 41);
	memcpy(buf, g_disk->data + 512, 10 * 512);
	CU_ASSERT(plx_bdev_comparev_blocks(g_desc, g_ch, &iov, 1, 1, 10, tm_cpl_cb, &c) == 0);
	ut_poll_threads();
	CU_ASSERT(c.calls == 1 && c.success);
	for (unsigned int i = 0; i < g_tm_nrec; i++) {
		CU_ASSERT(g_tm_rec[i].num_blocks <= 4);
	}
	teardown();
	free(buf);
}

static const struct plx_ut_case cases[] = {
    {"split_boundary", test_split_boundary},
    {"split_max_rw_size", test_split_max_rw_size},
    {"split_segments", test_split_segments},
    {"split_uneven_iovs", test_split_uneven_iovs},
    {"split_child_failure", test_split_child_failure},
    {"split_rounds", test_split_rounds},
    {"split_pool_empty", test_split_pool_empty},
    {"split_read_no_buf", test_split_read_no_buf},
    {"bounce", test_bounce},
    {"split_and_bounce", test_split_and_bounce},
    {"compare_split", test_compare_split},
};

PLX_UT_MAIN("bdev_core_split", cases)
