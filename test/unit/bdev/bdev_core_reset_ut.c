/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the bdev core's cross-channel operations: reset with I/O outstanding on two
 * threads, hot remove with I/O outstanding, resize events, and compare-and-write atomicity.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"
#include "bdev_ut_module.h"
#include "ut.h"

#define DRAIN_US 200 /* more than the layer's drain re-check period */

static struct tm_disk *g_disk;
static struct plx_bdev_desc *g_desc;
static struct plx_io_channel *g_ch[2];

static void setup2(const struct tm_opts *o)
{
	int rc;

	tm_init(2);
	g_disk = tm_create("disk", o, &rc);
	CU_ASSERT_FATAL(g_disk != NULL);
	g_desc = ut_bdev_open("disk");
	CU_ASSERT_FATAL(g_desc != NULL);
	for (unsigned int t = 0; t < 2; t++) {
		ut_set_thread(t);
		g_ch[t] = plx_bdev_get_io_channel(g_desc);
		CU_ASSERT_FATAL(g_ch[t] != NULL);
	}
	ut_set_thread(0);
}

static void teardown2(void)
{
	for (unsigned int t = 0; t < 2; t++) {
		ut_set_thread(t);
		plx_put_io_channel(g_ch[t]);
	}
	ut_set_thread(0);
	plx_bdev_close(g_desc);
	ut_poll_threads();
	tm_fini();
}

static void settle(void)
{
	ut_poll_threads();
	ut_advance_time_us(DRAIN_US);
	ut_poll_threads();
}

static int rec_index(enum plx_bdev_io_type type, uint64_t offset)
{
	for (unsigned int i = 0; i < g_tm_nrec; i++) {
		if (g_tm_rec[i].type == type && g_tm_rec[i].offset == offset) {
			return (int)i;
		}
	}
	return -1;
}

/* ---- reset ---- */

static void test_reset_outstanding(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256};
	struct tm_cpl a = {0}, b = {0}, c = {0}, r = {0}, ab = {0}, d = {0};
	char buf[4][512];

	setup2(&o);
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch[0], buf[0], 1, 1, tm_cpl_cb, &a) == 0);
	ut_set_thread(1);
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch[1], buf[1], 2, 1, tm_cpl_cb, &b) == 0);
	ut_set_thread(0);
	CU_ASSERT(plx_bdev_reset(g_desc, g_ch[0], tm_cpl_cb, &r) == 0);
	settle();
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_RESET) == 0);

	/* New I/O during the reset is held in the layer, on either thread. */
	ut_set_thread(1);
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch[1], buf[2], 3, 1, tm_cpl_cb, &c) == 0);
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch[1], buf[3], 4, 1, tm_cpl_cb, &d) == 0);
	settle();
	CU_ASSERT(rec_index(PLX_BDEV_IO_TYPE_READ, 3) < 0);
	/* A held I/O can be aborted: it ends ABORTED without reaching the module. */
	ut_set_thread(1);
	CU_ASSERT(plx_bdev_abort(g_desc, g_ch[1], &d, tm_cpl_cb, &ab) == 0);
	ut_poll_threads();
	CU_ASSERT(d.calls == 1 && !d.success && d.status == PLX_BDEV_IO_STATUS_ABORTED);
	CU_ASSERT(ab.calls == 1 && ab.success);

	/* One channel drained, the other not: still no reset at the module. */
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	settle();
	CU_ASSERT(a.calls == 1 && a.success);
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_RESET) == 0);
	tm_complete(g_disk, 1, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	settle();
	CU_ASSERT(b.calls == 1 && b.success);
	CU_ASSERT_FATAL(tm_count(PLX_BDEV_IO_TYPE_RESET) == 1);
	CU_ASSERT(rec_index(PLX_BDEV_IO_TYPE_READ, 3) < 0);
	CU_ASSERT(r.calls == 0);

	/* The module resets; then the held I/O goes down. */
	CU_ASSERT(tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS) == 1);
	settle();
	CU_ASSERT(r.calls == 1 && r.success && r.thread == 0);
	CU_ASSERT(rec_index(PLX_BDEV_IO_TYPE_READ, 3) > rec_index(PLX_BDEV_IO_TYPE_RESET, 0));
	CU_ASSERT(rec_index(PLX_BDEV_IO_TYPE_READ, 4) < 0);
	tm_complete(g_disk, 1, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(c.calls == 1 && c.success && c.order > r.order);
	teardown2();
}

/* I/O the module never finishes (held on purpose) does not block a reset for ever. */
static void test_reset_drain_timeout(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256};
	struct tm_cpl a = {0}, r = {0};
	char buf[512];

	setup2(&o);
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch[0], buf, 1, 1, tm_cpl_cb, &a) == 0);
	CU_ASSERT(plx_bdev_reset(g_desc, g_ch[0], tm_cpl_cb, &r) == 0);
	settle();
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_RESET) == 0);
	/* Four seconds: still waiting for the read. */
	for (int i = 0; i < 40; i++) {
		ut_advance_time_us(100000);
		ut_poll_threads();
	}
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_RESET) == 0);
	/* Past five: the module gets the reset while the read is still out. */
	for (int i = 0; i < 15; i++) {
		ut_advance_time_us(100000);
		ut_poll_threads();
	}
	CU_ASSERT_FATAL(tm_count(PLX_BDEV_IO_TYPE_RESET) == 1);
	CU_ASSERT(a.calls == 0);
	/* The module ends both, as a device reset does. */
	CU_ASSERT(tm_complete(g_disk, 0, 2, PLX_BDEV_IO_STATUS_SUCCESS) == 2);
	settle();
	CU_ASSERT(a.calls == 1 && r.calls == 1 && r.success);
	teardown2();
}

static void test_reset_serialised(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256};
	struct tm_cpl r1 = {0}, r2 = {0};

	setup2(&o);
	CU_ASSERT(plx_bdev_reset(g_desc, g_ch[0], tm_cpl_cb, &r1) == 0);
	ut_set_thread(1);
	CU_ASSERT(plx_bdev_reset(g_desc, g_ch[1], tm_cpl_cb, &r2) == 0);
	settle();
	CU_ASSERT_FATAL(tm_count(PLX_BDEV_IO_TYPE_RESET) == 1);
	/* The module fails the first: its caller learns. */
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_FAILED);
	settle();
	CU_ASSERT(r1.calls == 1 && !r1.success);
	CU_ASSERT_FATAL(tm_count(PLX_BDEV_IO_TYPE_RESET) == 2);
	CU_ASSERT(r2.calls == 0);
	tm_complete(g_disk, 1, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	settle();
	CU_ASSERT(r2.calls == 1 && r2.success && r2.thread == 1);
	teardown2();

	/* A module without reset: the layer's drain is the whole reset. */
	o.unsupported = 1u << PLX_BDEV_IO_TYPE_RESET;
	setup2(&o);
	memset(&r1, 0, sizeof(r1));
	CU_ASSERT(plx_bdev_reset(g_desc, g_ch[0], tm_cpl_cb, &r1) == 0);
	CU_ASSERT(r1.calls == 0);
	settle();
	CU_ASSERT(r1.calls == 1 && r1.success);
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_RESET) == 0);
	teardown2();
}

/* I/O held during a reset holds bdev_ios too: with none left for the module's reset, the
 * reset fails instead of claiming success. */
static char g_held_buf[512];
static struct tm_cpl g_held[8];

static void resubmit_cb(struct plx_bdev_io *io, bool success, void *cb_arg)
{
	plx_bdev_free_io(io);
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch[0], g_held_buf, 7, 1, tm_cpl_cb, &g_held[7]) ==
		  0);
}

static void test_reset_pool_empty(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256};
	struct tm_cpl r = {0};
	char buf[512];
	int rc;

	memset(g_held, 0, sizeof(g_held));
	tm_init_pool(1, 8);
	g_disk = tm_create("disk", &o, &rc);
	g_desc = ut_bdev_open("disk");
	g_ch[0] = plx_bdev_get_io_channel(g_desc);
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch[0], buf, 0, 1, resubmit_cb, NULL) == 0);
	CU_ASSERT(plx_bdev_reset(g_desc, g_ch[0], tm_cpl_cb, &r) == 0);
	settle();
	for (int i = 1; i < 7; i++) {
		CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch[0], buf, i, 1, tm_cpl_cb, &g_held[i]) ==
			  0);
	}
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	settle();
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_RESET) == 0);
	CU_ASSERT(r.calls == 1 && !r.success);
	/* The held I/O then runs. */
	CU_ASSERT(tm_complete(g_disk, 0, 7, PLX_BDEV_IO_STATUS_SUCCESS) == 7);
	for (int i = 1; i < 8; i++) {
		CU_ASSERT(g_held[i].calls == 1 && g_held[i].success);
	}
	ut_set_thread(0);
	plx_put_io_channel(g_ch[0]);
	plx_bdev_close(g_desc);
	ut_poll_threads();
	tm_fini();
}

/* ---- hot remove ---- */

struct rm_desc {
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	int removes;
	unsigned int thread;
	bool close_in_event;
};

static void rm_event(enum plx_bdev_event_type type, struct plx_bdev *bdev, void *ctx)
{
	struct rm_desc *r = ctx;

	if (type != PLX_BDEV_EVENT_REMOVE) {
		return;
	}
	r->removes++;
	r->thread = tm_cur_thread();
	if (r->close_in_event) {
		plx_put_io_channel(r->ch);
		plx_bdev_close(r->desc);
	}
}

static void unregister_done(void *arg, int rc)
{
	*(int *)arg = rc;
}

static void test_hot_remove(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256};
	struct rm_desc rd[2] = {{0}};
	struct tm_cpl io[2] = {{0}};
	struct plx_bdev_desc *x;
	char buf[2][512];
	int rc = 1, rc2 = 1;

	tm_init(2);
	g_disk = tm_create("disk", &o, &rc);
	CU_ASSERT_FATAL(g_disk != NULL);
	rc = 1;
	for (unsigned int t = 0; t < 2; t++) {
		ut_set_thread(t);
		CU_ASSERT(plx_bdev_open_ext("disk", true, rm_event, &rd[t], &rd[t].desc) == 0);
		rd[t].ch = plx_bdev_get_io_channel(rd[t].desc);
		CU_ASSERT(plx_bdev_write_blocks(rd[t].desc, rd[t].ch, buf[t], t, 1, tm_cpl_cb,
						&io[t]) == 0);
	}
	ut_set_thread(0);
	plx_bdev_unregister(&g_disk->bdev, unregister_done, &rc);
	ut_poll_threads();
	/* Each descriptor learns on its own thread; nothing is torn down under them. */
	for (unsigned int t = 0; t < 2; t++) {
		CU_ASSERT(rd[t].removes == 1 && rd[t].thread == t);
	}
	CU_ASSERT(rc == 1 && g_tm_destructs == 0);
	CU_ASSERT(plx_bdev_get_by_name("disk") == NULL);
	CU_ASSERT(plx_bdev_open_ext("disk", false, rm_event, NULL, &x) == -ENODEV);
	/* A second unregister is refused. */
	plx_bdev_unregister(&g_disk->bdev, unregister_done, &rc2);
	CU_ASSERT(rc2 == -EBUSY);

	/* Outstanding I/O completes normally. */
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	tm_complete(g_disk, 1, 1, PLX_BDEV_IO_STATUS_FAILED);
	CU_ASSERT(io[0].calls == 1 && io[0].success && io[0].thread == 0);
	CU_ASSERT(io[1].calls == 1 && !io[1].success && io[1].thread == 1);

	ut_set_thread(1);
	plx_put_io_channel(rd[1].ch);
	plx_bdev_close(rd[1].desc);
	ut_poll_threads();
	CU_ASSERT(rc == 1 && g_tm_destructs == 0);
	ut_set_thread(0);
	plx_put_io_channel(rd[0].ch);
	plx_bdev_close(rd[0].desc);
	ut_poll_threads();
	CU_ASSERT(rc == 0 && g_tm_destructs == 1);
	tm_fini();
}

/* Descriptors that close from their remove event, and two closes before the unregistering
 * thread runs again. */
static void test_hot_remove_close_in_event(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256};
	struct rm_desc rd[3] = {{0}};
	int rc;

	tm_init(2);
	g_disk = tm_create("disk", &o, &rc);
	for (unsigned int i = 0; i < 3; i++) {
		ut_set_thread(i % 2);
		rd[i].close_in_event = true;
		CU_ASSERT(plx_bdev_open_ext("disk", i != 0, rm_event, &rd[i], &rd[i].desc) == 0);
		rd[i].ch = plx_bdev_get_io_channel(rd[i].desc);
	}
	ut_set_thread(0);
	rc = 1;
	plx_bdev_unregister(&g_disk->bdev, unregister_done, &rc);
	ut_poll_threads();
	CU_ASSERT(rd[0].removes == 1 && rd[1].removes == 1 && rd[2].removes == 1);
	CU_ASSERT(rc == 0 && g_tm_destructs == 1);

	/* Two descriptors closed before anything polls. */
	g_disk = tm_create("disk2", &o, &rc);
	CU_ASSERT_FATAL(g_disk != NULL);
	for (unsigned int i = 0; i < 2; i++) {
		rd[i] = (struct rm_desc){0};
		ut_set_thread(i);
		CU_ASSERT(plx_bdev_open_ext("disk2", true, rm_event, &rd[i], &rd[i].desc) == 0);
	}
	ut_set_thread(0);
	rc = 1;
	plx_bdev_unregister(&g_disk->bdev, unregister_done, &rc);
	plx_bdev_close(rd[0].desc);
	ut_set_thread(1);
	plx_bdev_close(rd[1].desc);
	ut_poll_threads();
	CU_ASSERT(rc == 0 && g_tm_destructs == 2);
	tm_fini();
}

/* A resize event queued for a descriptor closed before it is delivered. */
static void test_resize_then_close(void)
{
	struct tm_disk *d;
	struct plx_bdev_desc *desc;

	tm_init(1);
	d = tm_create_simple("disk");
	desc = ut_bdev_open("disk");
	CU_ASSERT(plx_bdev_notify_blockcnt_change(&d->bdev, 0) == -EINVAL);
	CU_ASSERT(plx_bdev_notify_blockcnt_change(&d->bdev, 2048) == 0);
	CU_ASSERT(plx_bdev_get_num_blocks(&d->bdev) == 2048);
	ut_poll_threads();
	CU_ASSERT(ut_bdev_resize_events == 1);
	CU_ASSERT(plx_bdev_notify_blockcnt_change(&d->bdev, 4096) == 0);
	plx_bdev_close(desc);
	ut_poll_threads();
	CU_ASSERT(ut_bdev_resize_events == 1);
	tm_fini();
}

/* ---- compare-and-write ---- */

struct caw {
	uint8_t cmp[1024], wr[1024];
	struct iovec cmp_iov, wr_iov;
	struct tm_cpl cpl;
};

static int caw_submit(struct caw *c, unsigned int t, uint64_t offset, uint64_t num)
{
	c->cmp_iov = (struct iovec){c->cmp, num * 512};
	c->wr_iov = (struct iovec){c->wr, num * 512};
	ut_set_thread(t);
	return plx_bdev_comparev_and_writev_blocks(g_desc, g_ch[t], &c->cmp_iov, 1, &c->wr_iov, 1,
						   offset, num, tm_cpl_cb, &c->cpl);
}

static void test_caw_basic(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256, .with_data = true};
	static struct caw c1, c2;

	setup2(&o);
	g_disk->inline_status = PLX_BDEV_IO_STATUS_SUCCESS;
	CU_ASSERT(plx_bdev_io_type_supported(&g_disk->bdev, PLX_BDEV_IO_TYPE_COMPARE_AND_WRITE));
	tm_pattern(g_disk->data + 4 * 512, 1024, 1);
	tm_pattern(c1.cmp, 1024, 1);
	tm_pattern(c1.wr, 1024, 2);
	CU_ASSERT(caw_submit(&c1, 0, 4, 2) == 0);
	CU_ASSERT(c1.cpl.calls == 0);
	settle();
	CU_ASSERT(c1.cpl.calls == 1 && c1.cpl.success);
	CU_ASSERT(memcmp(g_disk->data + 4 * 512, c1.wr, 1024) == 0);

	/* The compare fails: nothing is written. */
	tm_reset_records();
	tm_pattern(c2.cmp, 1024, 1); /* the old contents */
	tm_pattern(c2.wr, 1024, 3);
	CU_ASSERT(caw_submit(&c2, 1, 4, 2) == 0);
	settle();
	CU_ASSERT(c2.cpl.calls == 1 && !c2.cpl.success &&
		  c2.cpl.status == PLX_BDEV_IO_STATUS_MISCOMPARE);
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_WRITE) == 0);
	CU_ASSERT(memcmp(g_disk->data + 4 * 512, c1.wr, 1024) == 0);
	/* A read-only descriptor cannot. */
	ut_set_thread(0);
	g_desc->write = false;
	CU_ASSERT(caw_submit(&c2, 0, 4, 2) == -EBADF);
	g_desc->write = true;
	teardown2();
}

static void test_caw_holds_overlapping_writes(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256, .with_data = true};
	static struct caw c;
	struct tm_cpl w1 = {0}, w2 = {0}, rd = {0};
	char buf[4][2048];
	int caw_write, held_write;

	setup2(&o);
	tm_pattern(c.wr, 1024, 7);
	CU_ASSERT(caw_submit(&c, 0, 0, 2) == 0); /* compare against zeroes */
	settle();
	CU_ASSERT_FATAL(tm_queued(g_disk, 0) == 1);
	CU_ASSERT(g_tm_rec[0].type == PLX_BDEV_IO_TYPE_READ && g_tm_rec[0].offset == 0);

	/* From the other thread: an overlapping write waits, a disjoint one and a read pass. */
	ut_set_thread(1);
	memset(buf[0], 0xee, sizeof(buf[0]));
	CU_ASSERT(plx_bdev_write_blocks(g_desc, g_ch[1], buf[0], 1, 4, tm_cpl_cb, &w1) == 0);
	CU_ASSERT(plx_bdev_write_blocks(g_desc, g_ch[1], buf[1], 10, 2, tm_cpl_cb, &w2) == 0);
	CU_ASSERT(plx_bdev_read_blocks(g_desc, g_ch[1], buf[2], 0, 2, tm_cpl_cb, &rd) == 0);
	settle();
	CU_ASSERT(rec_index(PLX_BDEV_IO_TYPE_WRITE, 1) < 0);
	CU_ASSERT(rec_index(PLX_BDEV_IO_TYPE_WRITE, 10) >= 0);
	CU_ASSERT(rec_index(PLX_BDEV_IO_TYPE_READ, 0) >= 0);
	tm_complete(g_disk, 1, 2, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(w2.calls == 1 && rd.calls == 1);

	/* The compare matches; the CAW's write goes down, still ahead of the held write. */
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	settle();
	caw_write = rec_index(PLX_BDEV_IO_TYPE_WRITE, 0);
	CU_ASSERT(caw_write >= 0);
	CU_ASSERT(rec_index(PLX_BDEV_IO_TYPE_WRITE, 1) < 0);
	CU_ASSERT(c.cpl.calls == 0);
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	settle();
	CU_ASSERT(c.cpl.calls == 1 && c.cpl.success);
	held_write = rec_index(PLX_BDEV_IO_TYPE_WRITE, 1);
	CU_ASSERT(held_write > caw_write);
	CU_ASSERT(w1.calls == 0);
	tm_complete(g_disk, 1, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(w1.calls == 1 && w1.success);
	/* Block 0 is the CAW's; block 1 on was overwritten after it. */
	CU_ASSERT(memcmp(g_disk->data, c.wr, 512) == 0);
	CU_ASSERT(memcmp(g_disk->data + 512, buf[0], 4 * 512) == 0);
	teardown2();
}

static void test_caw_waits_for_inflight_write(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256, .with_data = true};
	static struct caw c;
	struct tm_cpl w = {0};
	char buf[2048];

	setup2(&o);
	ut_set_thread(1);
	memset(buf, 0x5a, sizeof(buf));
	CU_ASSERT(plx_bdev_write_blocks(g_desc, g_ch[1], buf, 0, 4, tm_cpl_cb, &w) == 0);
	memset(c.cmp, 0x5a, sizeof(c.cmp));
	tm_pattern(c.wr, 1024, 8);
	CU_ASSERT(caw_submit(&c, 0, 2, 2) == 0);
	settle();
	settle();
	/* The compare must see the write's data: it waits. */
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_READ) == 0);
	tm_complete(g_disk, 1, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	settle();
	CU_ASSERT_FATAL(tm_count(PLX_BDEV_IO_TYPE_READ) == 1);
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	settle();
	tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	settle();
	CU_ASSERT(c.cpl.calls == 1 && c.cpl.success);
	CU_ASSERT(memcmp(g_disk->data + 2 * 512, c.wr, 1024) == 0);
	teardown2();
}

static void test_caw_serialised(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256, .with_data = true};
	static struct caw c1, c2;

	setup2(&o);
	/* Both expect zeroes and write something else: only the first may succeed. */
	memset(c1.cmp, 0, sizeof(c1.cmp));
	memset(c2.cmp, 0, sizeof(c2.cmp));
	tm_pattern(c1.wr, 1024, 4);
	tm_pattern(c2.wr, 1024, 5);
	CU_ASSERT(caw_submit(&c1, 0, 8, 2) == 0);
	CU_ASSERT(caw_submit(&c2, 1, 8, 2) == 0);
	settle();
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_READ) == 1);
	CU_ASSERT(tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS) == 1);
	settle();
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_READ) == 1);
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_WRITE) == 1);
	CU_ASSERT(tm_complete(g_disk, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS) == 1);
	settle();
	CU_ASSERT(c1.cpl.calls == 1 && c1.cpl.success);
	/* Only now does the second compare read. */
	CU_ASSERT_FATAL(tm_count(PLX_BDEV_IO_TYPE_READ) == 2);
	CU_ASSERT(tm_complete(g_disk, 1, 1, PLX_BDEV_IO_STATUS_SUCCESS) == 1);
	settle();
	CU_ASSERT(c2.cpl.calls == 1 && !c2.cpl.success &&
		  c2.cpl.status == PLX_BDEV_IO_STATUS_MISCOMPARE);
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_WRITE) == 1);
	CU_ASSERT(memcmp(g_disk->data + 8 * 512, c1.wr, 1024) == 0);
	teardown2();
}

/* Run one message or poller round on thread t. */
static void step(unsigned int t)
{
	plx_thread_poll(ut_thread(t), 1, ut_now());
	ut_set_thread(t);
}

/* No lock is left anywhere: a write to block 0 goes down from thread 1's channel ch1. */
static void check_unlocked(struct plx_io_channel *ch1)
{
	struct tm_cpl w = {0};
	char buf[512] = {0};

	tm_reset_records();
	ut_set_thread(1);
	CU_ASSERT(plx_bdev_write_blocks(g_desc, ch1, buf, 0, 1, tm_cpl_cb, &w) == 0);
	settle();
	CU_ASSERT(g_tm_nrec == 1);
	CU_ASSERT(w.calls == 1 && w.success);
}

static int caw_block0(struct caw *c)
{
	memset(&c->cpl, 0, sizeof(c->cpl));
	c->cmp_iov = (struct iovec){c->cmp, 512};
	c->wr_iov = (struct iovec){c->cmp, 512}; /* writes back what it compared: stays equal */
	ut_set_thread(0);
	return plx_bdev_comparev_and_writev_blocks(g_desc, g_ch[0], &c->cmp_iov, 1, &c->wr_iov, 1,
						   0, 1, tm_cpl_cb, &c->cpl);
}

/* A channel created while a range lock is spread, or while it is lifted, keeps no lock. */
static void test_caw_channel_created_during_lock(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 256, .with_data = true};
	static struct caw c;
	struct plx_io_channel *ch1;
	struct plx_bdev_channel *bch0;
	struct plx_bdev_internal *in;
	int rc, steps = 0;

	tm_init(2);
	g_disk = tm_create("disk", &o, &rc);
	g_desc = ut_bdev_open("disk");
	g_ch[0] = plx_bdev_get_io_channel(g_desc);
	bch0 = plx_io_channel_get_ctx(g_ch[0]);
	in = g_disk->bdev.internal;
	g_disk->inline_status = PLX_BDEV_IO_STATUS_SUCCESS;

	/* Thread 1 gets its channel after the lock is recorded, before the walk reaches it. */
	CU_ASSERT(caw_block0(&c) == 0);
	ut_set_thread(1);
	ch1 = plx_bdev_get_io_channel(g_desc);
	settle();
	CU_ASSERT(c.cpl.calls == 1 && c.cpl.success);
	check_unlocked(ch1);
	plx_put_io_channel(ch1);
	ut_poll_threads();

	/* Thread 1 gets its channel after the unlock walk passed, before it finished. */
	CU_ASSERT(caw_block0(&c) == 0);
	while (!(TAILQ_EMPTY(&bch0->locked_ranges) && !TAILQ_EMPTY(&in->locked_ranges)) &&
	       c.cpl.calls == 0 && steps++ < 1000) {
		step(0);
		step(1);
	}
	ut_set_thread(1);
	ch1 = plx_bdev_get_io_channel(g_desc);
	settle();
	CU_ASSERT(c.cpl.calls == 1 && c.cpl.success);
	check_unlocked(ch1);

	ut_set_thread(1);
	plx_put_io_channel(ch1);
	ut_set_thread(0);
	plx_put_io_channel(g_ch[0]);
	plx_bdev_close(g_desc);
	ut_poll_threads();
	tm_fini();
}

static const struct plx_ut_case cases[] = {
    {"reset_drain_timeout", test_reset_drain_timeout},
    {"reset_outstanding", test_reset_outstanding},
    {"reset_serialised", test_reset_serialised},
    {"reset_pool_empty", test_reset_pool_empty},
    {"hot_remove", test_hot_remove},
    {"hot_remove_close_in_event", test_hot_remove_close_in_event},
    {"resize_then_close", test_resize_then_close},
    {"caw_basic", test_caw_basic},
    {"caw_holds_overlapping_writes", test_caw_holds_overlapping_writes},
    {"caw_waits_for_inflight_write", test_caw_waits_for_inflight_write},
    {"caw_serialised", test_caw_serialised},
    {"caw_channel_created_during_lock", test_caw_channel_created_during_lock},
};

PLX_UT_MAIN("bdev_core_reset", cases)
