/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QoS rates (lib/bdev/bdev_qos.c) under the fake clock: limits set through the real RPC
 * method, I/O submitted from another thread than the QoS owner, completions counted per
 * 1 ms slice.
 */
#include <string.h>

#include "bdev_ut_module.h"
#include "pollux/rpc.h"
#include "ut.h"

static int g_rpc_code;
static bool g_rpc_answered;

static void rpc_done(void *arg, const json_t *response)
{
	json_t *err = json_object_get(response, "error");

	g_rpc_answered = true;
	g_rpc_code = err ? (int)json_integer_value(json_object_get(err, "code")) : 0;
}

/* Call bdev_set_qos_limit on thread 0 (which becomes the QoS owner) and run it to the end. */
static int set_qos(const char *json)
{
	json_t *params = json_loads(json, 0, NULL);

	g_rpc_answered = false;
	ut_set_thread(0);
	plx_rpc_call_local("bdev_set_qos_limit", params, rpc_done, NULL);
	ut_poll_threads();
	json_decref(params);
	CU_ASSERT(g_rpc_answered);
	return g_rpc_code;
}

struct io_counter {
	unsigned int done;
};

static void count_cb(struct plx_bdev_io *io, bool success, void *arg)
{
	struct io_counter *c = arg;

	CU_ASSERT(success);
	c->done++;
	plx_bdev_free_io(io);
}

struct rig {
	struct tm_disk *disk;
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	char buf[4096];
};

static void rig_up(struct rig *r)
{
	struct tm_opts opts = {.blocklen = 512, .blockcnt = 1024};
	int rc;

	tm_init(2);
	plx_rpc_set_state(PLX_RPC_RUNTIME); /* bdev_set_qos_limit is a runtime method */
	r->disk = tm_create("q", &opts, &rc);
	CU_ASSERT_FATAL(r->disk != NULL);
	r->disk->inline_status = PLX_BDEV_IO_STATUS_SUCCESS;
	ut_set_thread(1);
	r->desc = ut_bdev_open("q");
	CU_ASSERT_FATAL(r->desc != NULL);
	r->ch = plx_bdev_get_io_channel(r->desc);
	CU_ASSERT_FATAL(r->ch != NULL);
}

static void rig_down(struct rig *r)
{
	ut_set_thread(1);
	plx_put_io_channel(r->ch);
	plx_bdev_close(r->desc);
	ut_poll_threads();
	tm_fini();
}

/* From thread 1: n reads of len blocks; all must be accepted. */
static void submit_reads(struct rig *r, unsigned int n, uint64_t len, struct io_counter *c)
{
	ut_set_thread(1);
	for (unsigned int i = 0; i < n; i++) {
		CU_ASSERT(plx_bdev_read_blocks(r->desc, r->ch, r->buf, i % 64, len, count_cb, c) ==
			  0);
	}
	ut_poll_threads();
}

static void slice(void)
{
	ut_advance_time_us(1000);
	ut_poll_threads();
}

static void test_iops_limit(void)
{
	struct io_counter c = {0};
	struct rig r;

	rig_up(&r);
	/* 10000 IOPS: 10 I/Os per 1 ms slice. */
	CU_ASSERT(set_qos("{\"name\":\"q\",\"rw_ios_per_sec\":10000}") == 0);
	submit_reads(&r, 100, 1, &c);
	CU_ASSERT_EQUAL(c.done, 10);
	for (int s = 1; s <= 9; s++) {
		slice();
		CU_ASSERT_EQUAL(c.done, 10u * (unsigned int)(s + 1));
	}
	/* Nothing queued: further slices change nothing, and the slice poller is paused. */
	slice();
	CU_ASSERT_EQUAL(c.done, 100);
	rig_down(&r);
}

static void test_bytes_limit(void)
{
	struct io_counter c = {0};
	struct rig r;

	rig_up(&r);
	/* 1 MiB/s = 1048 bytes per slice; 4 KiB reads overdraw and pay back over ~4 slices. */
	CU_ASSERT(set_qos("{\"name\":\"q\",\"r_mbytes_per_sec\":1}") == 0);
	submit_reads(&r, 20, 8, &c);
	for (int s = 0; s < 40; s++) {
		slice();
	}
	/* 40 ms at 1 MiB/s is 10.2 reads of 4 KiB, plus the one the first budget let through. */
	CU_ASSERT(c.done >= 10 && c.done <= 12);
	/* Lifting the limit lets the rest go before the channel is put. */
	CU_ASSERT(set_qos("{\"name\":\"q\",\"r_mbytes_per_sec\":0}") == 0);
	CU_ASSERT_EQUAL(c.done, 20);
	rig_down(&r);
}

static void test_remove_limits_releases_queue(void)
{
	struct io_counter c = {0};
	struct rig r;

	rig_up(&r);
	CU_ASSERT(set_qos("{\"name\":\"q\",\"rw_ios_per_sec\":1000}") == 0);
	submit_reads(&r, 50, 1, &c);
	CU_ASSERT_EQUAL(c.done, 1);
	/* Dropping the only limit turns QoS off and lets everything waiting go. */
	CU_ASSERT(set_qos("{\"name\":\"q\",\"rw_ios_per_sec\":0}") == 0);
	CU_ASSERT_EQUAL(c.done, 50);
	submit_reads(&r, 30, 1, &c);
	CU_ASSERT_EQUAL(c.done, 80);
	rig_down(&r);
}

static void test_bad_limits(void)
{
	struct rig r;

	rig_up(&r);
	CU_ASSERT(set_qos("{\"name\":\"q\",\"rw_ios_per_sec\":1500}") == -32602);
	CU_ASSERT(set_qos("{\"name\":\"q\"}") == -32602);
	CU_ASSERT(set_qos("{\"name\":\"nope\",\"rw_ios_per_sec\":1000}") == -19);
	CU_ASSERT(set_qos("{\"name\":\"q\",\"rw_ios_per_sec\":-1000}") == -32602);
	rig_down(&r);
}

static void test_delete_with_limits(void)
{
	struct io_counter c = {0};
	struct rig r;

	rig_up(&r);
	CU_ASSERT(set_qos("{\"name\":\"q\",\"rw_ios_per_sec\":1000}") == 0);
	submit_reads(&r, 5, 1, &c);
	/* Let the queue drain, then unregister: the QoS owner lets go of its channel. */
	for (int s = 0; s < 5; s++) {
		slice();
	}
	CU_ASSERT_EQUAL(c.done, 5);
	rig_down(&r);
}

static const struct plx_ut_case cases[] = {
    {"iops_limit", test_iops_limit},
    {"bytes_limit", test_bytes_limit},
    {"remove_limits_releases_queue", test_remove_limits_releases_queue},
    {"bad_limits", test_bad_limits},
    {"delete_with_limits", test_delete_with_limits},
};

PLX_UT_MAIN("bdev_core_qos", cases)
