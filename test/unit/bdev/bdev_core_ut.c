/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the bdev core (lib/bdev): registration, names, open/close, claims, examine,
 * I/O on channels, deferred inline completions, io_wait, NOMEM retries, abort, compare
 * emulation and I/O statistics. Splitting and bouncing are in bdev_split_ut.c; reset, hot
 * remove and compare-and-write in bdev_reset_ut.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"
#include "bdev_ut_module.h"
#include "ut.h"

/* ---- a module that examines every new bdev ---- */

static unsigned int g_exam_config_calls, g_exam_disk_calls;
static bool g_exam_hold_disk; /* examine_disk finishes only when the test says so */
static unsigned int g_exam_held;
static struct plx_bdev_desc *g_exam_claim_desc;
static struct plx_bdev_module g_exam_module;

static void exam_event(enum plx_bdev_event_type type, struct plx_bdev *bdev, void *ctx)
{
}

static void exam_config(struct plx_bdev *bdev)
{
	g_exam_config_calls++;
	/* Config says: bdevs named claimme* belong to this module. */
	if (strncmp(bdev->name, "claimme", 7) == 0 &&
	    plx_bdev_open_ext(bdev->name, false, exam_event, NULL, &g_exam_claim_desc) == 0) {
		CU_ASSERT(plx_bdev_module_claim_bdev(bdev, g_exam_claim_desc, &g_exam_module) == 0);
	}
	plx_bdev_module_examine_done(&g_exam_module);
}

static void exam_disk(struct plx_bdev *bdev)
{
	g_exam_disk_calls++;
	if (g_exam_hold_disk) {
		g_exam_held++;
		return;
	}
	plx_bdev_module_examine_done(&g_exam_module);
}

static struct plx_bdev_module g_exam_module = {
    .name = "ut_examiner",
    .examine_config = exam_config,
    .examine_disk = exam_disk,
};
PLX_BDEV_MODULE_REGISTER(ut_examiner, &g_exam_module)

static void set_flag(void *arg)
{
	*(int *)arg += 1;
}

/* ---- registration and names ---- */

static void unregister_done(void *arg, int rc)
{
	*(int *)arg = rc;
}

static void alias_count(const char *alias, void *arg)
{
	(*(int *)arg)++;
}

static void test_register_geometry(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 100};
	struct tm_disk *d1, *d2;
	char uuid[PLX_UUID_STRING_LEN];
	int rc, n = 0;

	tm_init(1);
	o.blocklen = 1000;
	CU_ASSERT(tm_create("bad", &o, &rc) == NULL && rc == -EINVAL);
	o.blocklen = 256;
	CU_ASSERT(tm_create("bad", &o, &rc) == NULL && rc == -EINVAL);
	o.blocklen = 131072;
	CU_ASSERT(tm_create("bad", &o, &rc) == NULL && rc == -EINVAL);
	o.blocklen = 4096;
	o.blockcnt = 0;
	CU_ASSERT(tm_create("bad", &o, &rc) == NULL && rc == -EINVAL);
	CU_ASSERT(tm_create("", &o, &rc) == NULL && rc == -EINVAL);
	CU_ASSERT(plx_bdev_get_by_name("bad") == NULL);

	o.blockcnt = 100;
	o.uuid = "6a0f5c4e-3b1d-4f7a-9c2e-0123456789ab";
	d1 = tm_create("d1", &o, &rc);
	CU_ASSERT_FATAL(d1 != NULL);
	CU_ASSERT(rc == 0);
	CU_ASSERT(plx_bdev_get_by_name("d1") == &d1->bdev);
	CU_ASSERT(plx_bdev_get_block_size(&d1->bdev) == 4096);
	CU_ASSERT(plx_bdev_get_num_blocks(&d1->bdev) == 100);
	CU_ASSERT(strcmp(plx_bdev_get_module_name(&d1->bdev), "ut_mod") == 0);
	CU_ASSERT(strcmp(plx_bdev_get_product_name(&d1->bdev), "ut disk") == 0);
	CU_ASSERT(plx_bdev_get_buf_align(&d1->bdev) == 1);
	/* Duplicate name; duplicate uuid under another name. */
	o.uuid = NULL;
	CU_ASSERT(tm_create("d1", &o, &rc) == NULL && rc == -EEXIST);
	o.uuid = "6A0F5C4E-3B1D-4F7A-9C2E-0123456789AB";
	CU_ASSERT(tm_create("d2", &o, &rc) == NULL && rc == -EEXIST);
	/* Lookup by uuid, in either case. */
	CU_ASSERT(plx_bdev_get_by_name("6a0f5c4e-3b1d-4f7a-9c2e-0123456789ab") == &d1->bdev);
	CU_ASSERT(plx_bdev_get_by_name("6A0F5C4E-3B1D-4F7A-9C2E-0123456789AB") == &d1->bdev);

	o.uuid = NULL;
	d2 = tm_create("d2", &o, &rc);
	CU_ASSERT_FATAL(d2 != NULL);
	CU_ASSERT(!plx_uuid_is_null(&d2->bdev.uuid));
	plx_uuid_fmt_lower(uuid, sizeof(uuid), &d2->bdev.uuid);
	CU_ASSERT(plx_bdev_get_by_name(uuid) == &d2->bdev);
	CU_ASSERT(plx_bdev_next(NULL) == &d1->bdev);
	CU_ASSERT(plx_bdev_next(&d1->bdev) == &d2->bdev);
	CU_ASSERT(plx_bdev_next(&d2->bdev) == NULL);

	/* Aliases. */
	CU_ASSERT(plx_bdev_alias_add(&d1->bdev, "first") == 0);
	CU_ASSERT(plx_bdev_alias_add(&d1->bdev, "premier") == 0);
	CU_ASSERT(plx_bdev_alias_add(&d2->bdev, "first") == -EEXIST);
	CU_ASSERT(plx_bdev_alias_add(&d2->bdev, "d1") == -EEXIST);
	CU_ASSERT(plx_bdev_alias_add(&d2->bdev, uuid) == -EEXIST);
	CU_ASSERT(plx_bdev_get_by_name("first") == &d1->bdev);
	plx_bdev_foreach_alias(&d1->bdev, alias_count, &n);
	CU_ASSERT(n == 2);
	CU_ASSERT(tm_create("premier", &o, &rc) == NULL && rc == -EEXIST);
	CU_ASSERT(plx_bdev_alias_del(&d1->bdev, "premier") == 0);
	CU_ASSERT(plx_bdev_alias_del(&d1->bdev, "premier") == -ENOENT);
	CU_ASSERT(plx_bdev_get_by_name("premier") == NULL);

	/* Unregister: asynchronous, the callback follows, the module's destruct ran once. */
	CU_ASSERT(tm_delete(d1) == 0);
	CU_ASSERT(g_tm_destructs == 1);
	CU_ASSERT(plx_bdev_get_by_name("d1") == NULL);
	CU_ASSERT(plx_bdev_get_by_name("first") == NULL);
	CU_ASSERT(plx_bdev_next(NULL) == &d2->bdev);
	CU_ASSERT(plx_bdev_unregister_by_name("d2", &g_exam_module, NULL, NULL) == -ENODEV);
	CU_ASSERT(plx_bdev_unregister_by_name("nope", &g_tm_module, NULL, NULL) == -ENODEV);
	rc = 1;
	CU_ASSERT(plx_bdev_unregister_by_name("d2", &g_tm_module, unregister_done, &rc) == 0);
	ut_poll_threads();
	CU_ASSERT(rc == 0);
	CU_ASSERT(g_tm_destructs == 2);
	CU_ASSERT(plx_bdev_next(NULL) == NULL);
	tm_fini();
}

/* ---- open, close, claims ---- */

static void test_open_close_claim(void)
{
	struct plx_bdev_desc *rd = NULL, *wr = NULL, *desc = NULL;
	struct tm_disk *d;
	struct plx_io_channel *ch;
	char buf[512] = {0};
	int rc;

	tm_init(1);
	d = tm_create_simple("disk");
	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT(plx_bdev_open_ext("nope", false, exam_event, NULL, &desc) == -ENODEV);
	CU_ASSERT(plx_bdev_open_ext("disk", false, NULL, NULL, &desc) == -EINVAL);
	CU_ASSERT(plx_bdev_open_ext("disk", false, exam_event, NULL, &rd) == 0);
	CU_ASSERT(plx_bdev_desc_get_bdev(rd) == &d->bdev);

	/* A read-only descriptor cannot write. */
	ch = plx_bdev_get_io_channel(rd);
	CU_ASSERT_FATAL(ch != NULL);
	rc = plx_bdev_write_blocks(rd, ch, buf, 0, 1, tm_cpl_cb, NULL);
	CU_ASSERT(rc == -EBADF);
	CU_ASSERT(plx_bdev_write_zeroes_blocks(rd, ch, 0, 1, tm_cpl_cb, NULL) == -EBADF);
	/* Out of range. */
	CU_ASSERT(plx_bdev_read_blocks(rd, ch, buf, 1024, 1, tm_cpl_cb, NULL) == -EINVAL);
	CU_ASSERT(plx_bdev_read_blocks(rd, ch, buf, 1023, 2, tm_cpl_cb, NULL) == -EINVAL);
	CU_ASSERT(plx_bdev_read_blocks(rd, ch, buf, 0, 0, tm_cpl_cb, NULL) == -EINVAL);
	CU_ASSERT(g_tm_nrec == 0);
	plx_put_io_channel(ch);

	/* Claims: exclusive write ownership by a module. */
	CU_ASSERT(plx_bdev_get_claim_module_name(&d->bdev) == NULL);
	CU_ASSERT(plx_bdev_module_claim_bdev(&d->bdev, rd, &g_exam_module) == 0);
	CU_ASSERT(strcmp(plx_bdev_get_claim_module_name(&d->bdev), "ut_examiner") == 0);
	CU_ASSERT(plx_bdev_open_ext("disk", true, exam_event, NULL, &wr) == -EPERM);
	CU_ASSERT(plx_bdev_module_claim_bdev(&d->bdev, rd, &g_tm_module) == -EPERM);
	CU_ASSERT(plx_bdev_open_ext("disk", false, exam_event, NULL, &desc) == 0);
	plx_bdev_close(desc);
	plx_bdev_module_release_bdev(&d->bdev);
	CU_ASSERT(plx_bdev_get_claim_module_name(&d->bdev) == NULL);
	CU_ASSERT(plx_bdev_open_ext("disk", true, exam_event, NULL, &wr) == 0);
	CU_ASSERT(plx_bdev_module_claim_bdev(&d->bdev, wr, &g_tm_module) == 0);
	plx_bdev_module_release_bdev(&d->bdev);

	plx_bdev_close(wr);
	plx_bdev_close(rd);
	ut_poll_threads();
	CU_ASSERT(tm_delete(d) == 0);
	tm_fini();
}

/* ---- examine ---- */

static void test_examine(void)
{
	struct tm_disk *d1, *d2, *c;
	int waited = 0;

	tm_init(2);
	g_exam_config_calls = g_exam_disk_calls = g_exam_held = 0;
	g_exam_hold_disk = true;
	d1 = tm_create_simple("ex1");
	CU_ASSERT_FATAL(d1 != NULL);
	CU_ASSERT(g_exam_config_calls == 1);
	CU_ASSERT(g_exam_disk_calls == 1);
	/* examine_disk has not finished: the waiter waits, on the thread that asked. */
	ut_set_thread(1);
	CU_ASSERT(plx_bdev_wait_for_examine(set_flag, &waited) == 0);
	ut_poll_threads();
	CU_ASSERT(waited == 0);
	ut_set_thread(0);
	plx_bdev_module_examine_done(&g_exam_module);
	ut_poll_threads();
	CU_ASSERT(waited == 1);
	/* Nothing in progress: the callback still runs later, not inside the call. */
	CU_ASSERT(plx_bdev_wait_for_examine(set_flag, &waited) == 0);
	CU_ASSERT(waited == 1);
	ut_poll_threads();
	CU_ASSERT(waited == 2);

	/* A bdev the config claims is not examined on disk. */
	g_exam_hold_disk = false;
	c = tm_create_simple("claimme1");
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(g_exam_config_calls == 2);
	CU_ASSERT(g_exam_disk_calls == 1);
	CU_ASSERT(plx_bdev_get_claim_module_name(&c->bdev) != NULL);

	/* With auto-examine off, examination happens on request, once. */
	g_bdev_opts.bdev_auto_examine = false;
	d2 = tm_create_simple("ex2");
	g_bdev_opts.bdev_auto_examine = true;
	CU_ASSERT_FATAL(d2 != NULL);
	CU_ASSERT(g_exam_config_calls == 2);
	CU_ASSERT(plx_bdev_examine("ex2") == 0);
	CU_ASSERT(g_exam_config_calls == 3);
	CU_ASSERT(g_exam_disk_calls == 2);
	CU_ASSERT(plx_bdev_examine("ex2") == -EALREADY);
	CU_ASSERT(plx_bdev_examine("nope") == -ENODEV);

	plx_bdev_close(g_exam_claim_desc);
	plx_bdev_module_release_bdev(&c->bdev);
	ut_poll_threads();
	tm_fini();
	CU_ASSERT(g_tm_destructs == 3);
}

/* ---- I/O on two threads ---- */

static void test_io_two_threads(void)
{
	struct tm_disk *d;
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch[2];
	struct tm_cpl w = {0}, r = {0}, r2 = {0};
	uint8_t *wbuf = malloc(4096), *rbuf = calloc(1, 4096);

	tm_init(2);
	d = tm_create_simple("disk");
	desc = ut_bdev_open("disk");
	CU_ASSERT_FATAL(desc != NULL);
	for (unsigned int t = 0; t < 2; t++) {
		ut_set_thread(t);
		ch[t] = plx_bdev_get_io_channel(desc);
		CU_ASSERT_FATAL(ch[t] != NULL);
	}
	tm_pattern(wbuf, 4096, 1);
	ut_set_thread(0);
	CU_ASSERT(plx_bdev_write_blocks(desc, ch[0], wbuf, 8, 8, tm_cpl_cb, &w) == 0);
	CU_ASSERT(tm_queued(d, 0) == 1);
	CU_ASSERT(g_tm_rec[0].type == PLX_BDEV_IO_TYPE_WRITE && g_tm_rec[0].thread == 0);
	CU_ASSERT(g_tm_rec[0].offset == 8 && g_tm_rec[0].num_blocks == 8);
	CU_ASSERT(g_tm_rec[0].iovcnt == 1 && g_tm_rec[0].iovs[0].iov_base == wbuf &&
		  g_tm_rec[0].iovs[0].iov_len == 4096);
	tm_complete(d, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	ut_poll_threads();
	CU_ASSERT(w.calls == 1 && w.success && w.thread == 0);

	/* Read on thread 1: the module sees it on thread 1, the callback runs there. */
	ut_set_thread(1);
	CU_ASSERT(plx_bdev_read_blocks(desc, ch[1], rbuf, 8, 8, tm_cpl_cb, &r) == 0);
	CU_ASSERT(tm_queued(d, 1) == 1 && tm_queued(d, 0) == 0);
	CU_ASSERT(g_tm_rec[1].type == PLX_BDEV_IO_TYPE_READ && g_tm_rec[1].thread == 1);
	tm_complete(d, 1, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	ut_poll_threads();
	CU_ASSERT(r.calls == 1 && r.success && r.thread == 1);
	CU_ASSERT(memcmp(rbuf, wbuf, 4096) == 0);

	/* A read without a buffer: the module asks the layer for one; the caller sees it. */
	ut_set_thread(1);
	CU_ASSERT(plx_bdev_read_blocks(desc, ch[1], NULL, 8, 2, tm_cpl_cb, &r2) == 0);
	CU_ASSERT_FATAL(tm_queued(d, 1) == 1);
	CU_ASSERT(g_tm_rec[2].iovs[0].iov_base != NULL && g_tm_rec[2].iovs[0].iov_len == 1024);
	tm_complete(d, 1, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(r2.calls == 1 && r2.success && r2.iov0.iov_base == g_tm_rec[2].iovs[0].iov_base);

	/* A failure reaches the caller as such. */
	memset(&r, 0, sizeof(r));
	ut_set_thread(0);
	CU_ASSERT(plx_bdev_read_blocks(desc, ch[0], rbuf, 0, 1, tm_cpl_cb, &r) == 0);
	tm_complete(d, 0, 1, PLX_BDEV_IO_STATUS_FAILED);
	CU_ASSERT(r.calls == 1 && !r.success && r.status == PLX_BDEV_IO_STATUS_FAILED);

	/* Data-less I/O. */
	memset(&w, 0, sizeof(w));
	CU_ASSERT(plx_bdev_write_zeroes_blocks(desc, ch[0], 8, 1, tm_cpl_cb, &w) == 0);
	CU_ASSERT(plx_bdev_unmap_blocks(desc, ch[0], 9, 1, tm_cpl_cb, &w) == 0);
	CU_ASSERT(plx_bdev_flush_blocks(desc, ch[0], 0, 1024, tm_cpl_cb, &w) == 0);
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_WRITE_ZEROES) == 1);
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_UNMAP) == 1);
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_FLUSH) == 1);
	tm_complete(d, 0, 3, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(w.calls == 3 && w.success);
	CU_ASSERT(d->data[8 * 512] == 0 && d->data[10 * 512 - 1] == 0 && d->data[10 * 512] != 0);

	for (unsigned int t = 0; t < 2; t++) {
		ut_set_thread(t);
		plx_put_io_channel(ch[t]);
	}
	ut_set_thread(0);
	plx_bdev_close(desc);
	ut_poll_threads();
	tm_fini();
	free(wbuf);
	free(rbuf);
}

/* ---- inline completion is deferred; resubmitting from a callback does not recurse ---- */

struct chain {
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	void *buf;
	unsigned int left, done, depth, max_depth;
	uintptr_t min_sp, max_sp;
	bool in_submit;
	bool cb_in_submit;
};

static void chain_cb(struct plx_bdev_io *io, bool success, void *arg)
{
	struct chain *c = arg;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);

	if (c->in_submit) {
		c->cb_in_submit = true;
	}
	c->depth++;
	c->max_depth = PLX_MAX(c->max_depth, c->depth);
	c->min_sp = PLX_MIN(c->min_sp, sp);
	c->max_sp = PLX_MAX(c->max_sp, sp);
	CU_ASSERT(success);
	plx_bdev_free_io(io);
	c->done++;
	if (c->left > 0) {
		c->left--;
		c->in_submit = true;
		CU_ASSERT(plx_bdev_read_blocks(c->desc, c->ch, c->buf, c->done % 1000, 1, chain_cb,
					       c) == 0);
		c->in_submit = false;
	}
	c->depth--;
}

static void test_inline_deferred(void)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 1024};
	struct tm_disk *d;
	struct chain c = {.min_sp = UINTPTR_MAX};
	char buf[512];
	int rc;

	tm_init(1);
	d = tm_create("inl", &o, &rc);
	CU_ASSERT_FATAL(d != NULL);
	d->inline_status = PLX_BDEV_IO_STATUS_SUCCESS;
	c.desc = ut_bdev_open("inl");
	c.ch = plx_bdev_get_io_channel(c.desc);
	c.buf = buf;
	c.left = 99999;
	c.in_submit = true;
	CU_ASSERT(plx_bdev_read_blocks(c.desc, c.ch, buf, 0, 1, chain_cb, &c) == 0);
	c.in_submit = false;
	/* The module completed inside submit; the callback has not run yet. */
	CU_ASSERT(g_tm_nrec == 1);
	CU_ASSERT(c.done == 0);
	ut_poll_threads();
	CU_ASSERT(c.done == 100000);
	CU_ASSERT(!c.cb_in_submit);
	CU_ASSERT(c.max_depth == 1);
	/* Every callback ran at the same stack depth (message dispatch from the poll loop). */
	CU_ASSERT(c.max_sp - c.min_sp < 1024);
	plx_put_io_channel(c.ch);
	plx_bdev_close(c.desc);
	ut_poll_threads();
	tm_fini();
}

/* ---- io_wait when the bdev_io pool is empty ---- */

struct waiter {
	struct plx_bdev_io_wait_entry entry;
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	void *buf;
	int calls;
	int rc;
	struct tm_cpl cpl;
};

static void waiter_cb(void *arg)
{
	struct waiter *w = arg;

	w->calls++;
	w->rc = plx_bdev_read_blocks(w->desc, w->ch, w->buf, 0, 1, tm_cpl_cb, &w->cpl);
}

static void test_io_wait(void)
{
	struct tm_disk *d;
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct tm_cpl cpl[8] = {{0}};
	struct waiter wa = {0}, wb = {0};
	char buf[512];
	unsigned int n = 0;

	tm_init_pool(1, 8);
	d = tm_create_simple("disk");
	desc = ut_bdev_open("disk");
	ch = plx_bdev_get_io_channel(desc);
	while (n < 8 && plx_bdev_read_blocks(desc, ch, buf, n, 1, tm_cpl_cb, &cpl[n]) == 0) {
		n++;
	}
	CU_ASSERT(n == 8);
	CU_ASSERT(plx_bdev_read_blocks(desc, ch, buf, 0, 1, tm_cpl_cb, NULL) == -ENOMEM);
	CU_ASSERT(plx_bdev_reset(desc, ch, tm_cpl_cb, NULL) == -ENOMEM);

	/* Two waiters; each freed bdev_io wakes one, in order, and its resubmit succeeds. */
	wa = (struct waiter){.entry = {.bdev = &d->bdev, .cb_fn = waiter_cb, .cb_arg = &wa},
			     .desc = desc,
			     .ch = ch,
			     .buf = buf,
			     .rc = 1};
	wb = (struct waiter){.entry = {.bdev = &d->bdev, .cb_fn = waiter_cb, .cb_arg = &wb},
			     .desc = desc,
			     .ch = ch,
			     .buf = buf,
			     .rc = 1};
	CU_ASSERT(plx_bdev_queue_io_wait(&d->bdev, ch, &wa.entry) == 0);
	CU_ASSERT(plx_bdev_queue_io_wait(&d->bdev, ch, &wb.entry) == 0);
	CU_ASSERT(wa.calls == 0 && wb.calls == 0);
	/* While others wait, a new submit does not overtake them. */
	tm_complete(d, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(cpl[0].calls == 1);
	CU_ASSERT(wa.calls == 1 && wa.rc == 0);
	CU_ASSERT(wb.calls == 0);
	tm_complete(d, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(wb.calls == 1 && wb.rc == 0);
	CU_ASSERT(tm_queued(d, 0) == 8);

	/* A bad entry is refused. */
	wa.entry.bdev = NULL;
	CU_ASSERT(plx_bdev_queue_io_wait(&d->bdev, ch, &wa.entry) == -EINVAL);

	tm_complete(d, 0, 8, PLX_BDEV_IO_STATUS_SUCCESS);
	ut_poll_threads();
	CU_ASSERT(wa.cpl.calls == 1 && wb.cpl.calls == 1);
	plx_put_io_channel(ch);
	plx_bdev_close(desc);
	ut_poll_threads();
	tm_fini();
}

/* ---- NOMEM from the module is retried after another completion ---- */

static void test_nomem_retry(void)
{
	struct tm_disk *d;
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct tm_cpl a = {0}, b = {0};
	char buf[1024];

	tm_init(1);
	d = tm_create_simple("disk");
	desc = ut_bdev_open("disk");
	ch = plx_bdev_get_io_channel(desc);
	CU_ASSERT(plx_bdev_read_blocks(desc, ch, buf, 1, 1, tm_cpl_cb, &a) == 0);
	CU_ASSERT(plx_bdev_read_blocks(desc, ch, buf + 512, 2, 1, tm_cpl_cb, &b) == 0);
	CU_ASSERT(g_tm_nrec == 2);
	/* a: out of resources; it waits, the caller sees nothing. */
	tm_complete(d, 0, 1, PLX_BDEV_IO_STATUS_NOMEM);
	ut_poll_threads();
	CU_ASSERT(a.calls == 0);
	CU_ASSERT(g_tm_nrec == 2);
	/* b completes: a goes to the module again. */
	tm_complete(d, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(b.calls == 1);
	CU_ASSERT(g_tm_nrec == 3 && g_tm_rec[2].offset == 1);
	CU_ASSERT(tm_queued(d, 0) == 1);
	/* NOMEM with nothing else outstanding: retried anyway. */
	tm_complete(d, 0, 1, PLX_BDEV_IO_STATUS_NOMEM);
	ut_poll_threads();
	CU_ASSERT(g_tm_nrec == 4 && g_tm_rec[3].offset == 1);
	tm_complete(d, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(a.calls == 1 && a.success);
	plx_put_io_channel(ch);
	plx_bdev_close(desc);
	ut_poll_threads();
	tm_fini();
}

/* ---- abort ---- */

static void test_abort(void)
{
	struct tm_disk *d;
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct tm_cpl a = {0}, b = {0}, ab1 = {0}, ab2 = {0}, ab3 = {0};
	char buf[1024];
	int unknown;

	tm_init(1);
	d = tm_create_simple("disk");
	desc = ut_bdev_open("disk");
	ch = plx_bdev_get_io_channel(desc);

	/* An I/O waiting in the layer (after NOMEM) ends as ABORTED without the module. */
	CU_ASSERT(plx_bdev_read_blocks(desc, ch, buf, 1, 1, tm_cpl_cb, &a) == 0);
	CU_ASSERT(plx_bdev_read_blocks(desc, ch, buf + 512, 2, 1, tm_cpl_cb, &b) == 0);
	tm_complete(d, 0, 1, PLX_BDEV_IO_STATUS_NOMEM);
	CU_ASSERT(plx_bdev_abort(desc, ch, &a, tm_cpl_cb, &ab1) == 0);
	/* Callbacks never run inside a submit call. */
	CU_ASSERT(a.calls == 0 && ab1.calls == 0);
	ut_poll_threads();
	CU_ASSERT(a.calls == 1 && !a.success && a.status == PLX_BDEV_IO_STATUS_ABORTED);
	CU_ASSERT(ab1.calls == 1 && ab1.success);

	/* Unknown cb_arg: the abort fails. */
	CU_ASSERT(plx_bdev_abort(desc, ch, &unknown, tm_cpl_cb, &ab2) == 0);
	CU_ASSERT(ab2.calls == 0);
	ut_poll_threads();
	CU_ASSERT(ab2.calls == 1 && !ab2.success);
	CU_ASSERT(plx_bdev_abort(desc, ch, NULL, tm_cpl_cb, &ab2) == -EINVAL);

	/* At the module: the module is asked to abort it. */
	CU_ASSERT(plx_bdev_abort(desc, ch, &b, tm_cpl_cb, &ab3) == 0);
	ut_poll_threads();
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_ABORT) == 1);
	CU_ASSERT(b.calls == 1 && b.status == PLX_BDEV_IO_STATUS_ABORTED);
	CU_ASSERT(ab3.calls == 1 && ab3.success);
	CU_ASSERT(tm_queued(d, 0) == 0);

	plx_put_io_channel(ch);
	plx_bdev_close(desc);
	ut_poll_threads();
	tm_fini();
}

static void test_abort_unsupported(void)
{
	struct tm_opts o = {
	    .blocklen = 512, .blockcnt = 64, .unsupported = 1u << PLX_BDEV_IO_TYPE_ABORT};
	struct tm_disk *d;
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct tm_cpl a = {0}, ab = {0};
	char buf[512];
	int rc;

	tm_init(1);
	d = tm_create("disk", &o, &rc);
	desc = ut_bdev_open("disk");
	ch = plx_bdev_get_io_channel(desc);
	CU_ASSERT(plx_bdev_read_blocks(desc, ch, buf, 1, 1, tm_cpl_cb, &a) == 0);
	CU_ASSERT(plx_bdev_abort(desc, ch, &a, tm_cpl_cb, &ab) == 0);
	ut_poll_threads();
	CU_ASSERT(ab.calls == 1 && !ab.success);
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_ABORT) == 0);
	tm_complete(d, 0, 1, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(a.calls == 1 && a.success);
	plx_put_io_channel(ch);
	plx_bdev_close(desc);
	ut_poll_threads();
	tm_fini();
}

/* ---- compare emulation ---- */

static void test_compare(void)
{
	struct tm_disk *d;
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct tm_cpl c1 = {0}, c2 = {0};
	uint8_t buf[2048];
	struct iovec iov[2] = {{buf, 512}, {buf + 512, 1536}};

	tm_init(1);
	d = tm_create_simple("disk");
	d->inline_status = PLX_BDEV_IO_STATUS_SUCCESS;
	tm_pattern(d->data + 4 * 512, 2048, 3);
	tm_pattern(buf, sizeof(buf), 3);
	desc = ut_bdev_open("disk");
	ch = plx_bdev_get_io_channel(desc);
	CU_ASSERT(plx_bdev_io_type_supported(&d->bdev, PLX_BDEV_IO_TYPE_COMPARE));
	CU_ASSERT(plx_bdev_comparev_blocks(desc, ch, iov, 2, 4, 4, tm_cpl_cb, &c1) == 0);
	ut_poll_threads();
	CU_ASSERT(c1.calls == 1 && c1.success && c1.status == PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(tm_count(PLX_BDEV_IO_TYPE_READ) == 1);

	buf[1500] ^= 1;
	CU_ASSERT(plx_bdev_comparev_blocks(desc, ch, iov, 2, 4, 4, tm_cpl_cb, &c2) == 0);
	ut_poll_threads();
	CU_ASSERT(c2.calls == 1 && !c2.success && c2.status == PLX_BDEV_IO_STATUS_MISCOMPARE);

	/* A failed read fails the compare (not a miscompare). */
	memset(&c2, 0, sizeof(c2));
	d->inline_status = PLX_BDEV_IO_STATUS_FAILED;
	CU_ASSERT(plx_bdev_comparev_blocks(desc, ch, iov, 2, 4, 4, tm_cpl_cb, &c2) == 0);
	ut_poll_threads();
	CU_ASSERT(c2.calls == 1 && !c2.success && c2.status == PLX_BDEV_IO_STATUS_FAILED);
	plx_put_io_channel(ch);
	plx_bdev_close(desc);
	ut_poll_threads();
	tm_fini();
}

/* ---- statistics ---- */

static void test_stats(void)
{
	struct tm_disk *d;
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct plx_bdev_channel *bch;
	struct tm_cpl c = {0};
	char buf[4096];

	tm_init(1);
	d = tm_create_simple("disk");
	desc = ut_bdev_open("disk");
	ch = plx_bdev_get_io_channel(desc);
	bch = plx_io_channel_get_ctx(ch);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT(plx_bdev_read_blocks(desc, ch, buf, 0, 8, tm_cpl_cb, &c) == 0);
	}
	CU_ASSERT(plx_bdev_write_blocks(desc, ch, buf, 0, 2, tm_cpl_cb, &c) == 0);
	ut_advance_time_us(10);
	ut_poll_threads();
	tm_complete(d, 0, 4, PLX_BDEV_IO_STATUS_SUCCESS);
	CU_ASSERT(plx_bdev_read_blocks(desc, ch, buf, 0, 1, tm_cpl_cb, &c) == 0);
	tm_complete(d, 0, 1, PLX_BDEV_IO_STATUS_FAILED);
	CU_ASSERT(c.calls == 5);
	CU_ASSERT(bch->stat.ops[PLX_BDEV_IO_TYPE_READ] == 3);
	CU_ASSERT(bch->stat.bytes[PLX_BDEV_IO_TYPE_READ] == 3 * 4096);
	CU_ASSERT(bch->stat.ops[PLX_BDEV_IO_TYPE_WRITE] == 1);
	CU_ASSERT(bch->stat.bytes[PLX_BDEV_IO_TYPE_WRITE] == 1024);
	CU_ASSERT(bch->stat.io_error == 1);
	CU_ASSERT(bch->stat.latency_ticks[PLX_BDEV_IO_TYPE_READ] > 0);
	CU_ASSERT(bch->stat.min_latency_ticks[PLX_BDEV_IO_TYPE_READ] <=
		  bch->stat.max_latency_ticks[PLX_BDEV_IO_TYPE_READ]);
	plx_put_io_channel(ch);
	ut_poll_threads();
	/* The channel's counts survive it. */
	CU_ASSERT(d->bdev.internal->stat_retired.ops[PLX_BDEV_IO_TYPE_READ] == 3);
	plx_bdev_close(desc);
	ut_poll_threads();
	tm_fini();
}

static const struct plx_ut_case cases[] = {
    {"register_geometry", test_register_geometry},
    {"open_close_claim", test_open_close_claim},
    {"examine", test_examine},
    {"io_two_threads", test_io_two_threads},
    {"inline_deferred", test_inline_deferred},
    {"io_wait", test_io_wait},
    {"nomem_retry", test_nomem_retry},
    {"abort", test_abort},
    {"abort_unsupported", test_abort_unsupported},
    {"compare", test_compare},
    {"stats", test_stats},
};

PLX_UT_MAIN("bdev_core", cases)
