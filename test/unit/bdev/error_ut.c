/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The error bdev: each injection type (failure, nomem, pending, corrupt_data), counts and
 * queue depth, clearing, held I/O through resume, abort, delete and base hot remove, RPC
 * validation and the saved config.
 */
#include "../../../module/bdev/delay/vbdev_delay.h"
#include "../../../module/bdev/error/vbdev_error.h"
#include "../../../module/bdev/malloc/bdev_malloc.h"
#include "bm_ut.h"

#define BS 512

struct fixture {
	struct plx_bdev *bdev;
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
};

static void create_base(const char *name)
{
	struct plx_bdev_malloc_opts opts = {.name = name, .block_size = BS, .num_blocks = 64};

	CU_ASSERT_EQUAL_FATAL(plx_bdev_malloc_create(&opts, NULL), 0);
}

/* Base "B", error bdev "EE_B" over it, opened on thread t. */
static void setup(struct fixture *f, unsigned int nthreads, unsigned int t)
{
	ut_bdev_init(nthreads);
	create_base("B");
	CU_ASSERT_EQUAL_FATAL(plx_bdev_error_create("B", NULL, &f->bdev), 0);
	ut_set_thread(t);
	f->desc = ut_bdev_open("EE_B");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->desc);
	f->ch = plx_bdev_get_io_channel(f->desc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->ch);
}

static void teardown(struct fixture *f, unsigned int t)
{
	if (f->desc != NULL) {
		ut_set_thread(t);
		bm_close(f->desc, f->ch);
	}
	bm_rpc_done();
	ut_bdev_fini();
}

static void inject(const char *params)
{
	bm_rpc("bdev_error_inject_error", params);
	CU_ASSERT_TRUE(json_is_true(bm_rpc_result()));
}

static void test_failure(void)
{
	struct fixture f;
	char buf[BS], rbuf[BS];

	setup(&f, 1, 0);
	CU_ASSERT_STRING_EQUAL(plx_bdev_get_name(f.bdev), "EE_B");
	CU_ASSERT_STRING_EQUAL(plx_bdev_get_module_name(f.bdev), "error");
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(f.bdev), 64);
	inject("{\"name\":\"EE_B\",\"io_type\":\"write\",\"error_type\":\"failure\",\"num\":2}");
	memset(buf, 0x11, BS);
	CU_ASSERT_EQUAL(bm_write(f.desc, f.ch, buf, 0, 1), -1);
	CU_ASSERT_EQUAL(bm_write(f.desc, f.ch, buf, 0, 1), -1);
	/* The failed writes never reached the base. */
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 0, 1), 1);
	CU_ASSERT_EQUAL(rbuf[0], 0);
	CU_ASSERT_EQUAL(bm_write(f.desc, f.ch, buf, 0, 1), 1);
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 0, 1), 1);
	CU_ASSERT_EQUAL(memcmp(buf, rbuf, BS), 0);
	teardown(&f, 0);
}

static void test_all_and_clear(void)
{
	struct fixture f;
	struct bm_io r = {0};
	char buf[BS];

	setup(&f, 1, 0);
	inject("{\"name\":\"EE_B\",\"io_type\":\"all\",\"error_type\":\"failure\",\"num\":5}");
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, buf, 0, 1), -1);
	CU_ASSERT_EQUAL(plx_bdev_unmap_blocks(f.desc, f.ch, 0, 1, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), -1);
	r.done = 0;
	CU_ASSERT_EQUAL(plx_bdev_flush_blocks(f.desc, f.ch, 0, 1, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), -1);
	inject("{\"name\":\"EE_B\",\"io_type\":\"clear\",\"error_type\":\"failure\"}");
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, buf, 0, 1), 1);
	CU_ASSERT_EQUAL(bm_write(f.desc, f.ch, buf, 0, 1), 1);
	/* num 0 disables a rule. */
	inject("{\"name\":\"EE_B\",\"io_type\":\"read\",\"error_type\":\"failure\",\"num\":3}");
	inject("{\"name\":\"EE_B\",\"io_type\":\"read\",\"error_type\":\"failure\",\"num\":0}");
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, buf, 0, 1), 1);
	teardown(&f, 0);
}

/* NOMEM is retried by the layer: the caller sees success. */
static void test_nomem(void)
{
	struct fixture f;
	char buf[BS];

	setup(&f, 1, 0);
	inject("{\"name\":\"EE_B\",\"io_type\":\"read\",\"error_type\":\"nomem\",\"num\":3}");
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, buf, 0, 1), 1);
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, buf, 0, 1), 1);
	teardown(&f, 0);
}

static void test_queue_depth(void)
{
	struct fixture f;
	struct bm_io r1 = {0}, r2 = {0};
	char buf[BS], buf2[BS];

	setup(&f, 1, 0);
	inject("{\"name\":\"EE_B\",\"io_type\":\"read\",\"error_type\":\"failure\",\"num\":1,"
	       "\"queue_depth\":2}");
	/* Alone, a read is below the depth and passes. */
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, buf, 0, 1), 1);
	CU_ASSERT_EQUAL(plx_bdev_read_blocks(f.desc, f.ch, buf, 0, 1, bm_io_cb, &r1), 0);
	CU_ASSERT_EQUAL(plx_bdev_read_blocks(f.desc, f.ch, buf2, 1, 1, bm_io_cb, &r2), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r1.done, 1);
	CU_ASSERT_EQUAL(r2.done, -1);
	teardown(&f, 0);
}

static void noop_event(enum plx_bdev_event_type type, struct plx_bdev *bdev, void *ctx)
{
}

static void test_corrupt(void)
{
	struct fixture f;
	struct plx_bdev_desc *base;
	struct plx_io_channel *base_ch;
	char buf[BS], rbuf[BS];

	setup(&f, 1, 0);
	BM_RPC_FAILS("bdev_error_inject_error",
		     "{\"name\":\"EE_B\",\"io_type\":\"write\",\"error_type\":\"corrupt_data\"}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "corrupt_value");
	inject("{\"name\":\"EE_B\",\"io_type\":\"write\",\"error_type\":\"corrupt_data\","
	       "\"corrupt_offset\":5,\"corrupt_value\":255}");
	memset(buf, 0x22, BS);
	CU_ASSERT_EQUAL(bm_write(f.desc, f.ch, buf, 2, 1), 1);

	/* The base holds the corrupted data (read through a read-only descriptor). */
	CU_ASSERT_EQUAL_FATAL(plx_bdev_open_ext("B", false, noop_event, NULL, &base), 0);
	base_ch = plx_bdev_get_io_channel(base);
	CU_ASSERT_EQUAL(bm_read(base, base_ch, rbuf, 2, 1), 1);
	CU_ASSERT_EQUAL((unsigned char)rbuf[5], 0x22 ^ 0xff);
	CU_ASSERT_EQUAL(rbuf[4], 0x22);
	CU_ASSERT_EQUAL(rbuf[6], 0x22);

	/* A read is corrupted on its way back, once; the disk is not touched. */
	inject("{\"name\":\"EE_B\",\"io_type\":\"read\",\"error_type\":\"corrupt_data\","
	       "\"corrupt_offset\":10,\"corrupt_value\":15}");
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 2, 1), 1);
	CU_ASSERT_EQUAL(rbuf[10], 0x22 ^ 0x0f);
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 2, 1), 1);
	CU_ASSERT_EQUAL(rbuf[10], 0x22);
	/* An offset past the data corrupts nothing. */
	inject("{\"name\":\"EE_B\",\"io_type\":\"read\",\"error_type\":\"corrupt_data\","
	       "\"corrupt_offset\":100000,\"corrupt_value\":1}");
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 2, 1), 1);
	CU_ASSERT_EQUAL(rbuf[10], 0x22);
	bm_close(base, base_ch);
	teardown(&f, 0);
}

static void test_pending_resume(void)
{
	struct fixture f;
	struct bm_io w = {0};
	char buf[BS], rbuf[BS];

	setup(&f, 2, 1);
	ut_set_thread(0);
	inject("{\"name\":\"EE_B\",\"io_type\":\"write\",\"error_type\":\"pending\"}");
	ut_set_thread(1);
	memset(buf, 0x33, BS);
	CU_ASSERT_EQUAL(plx_bdev_write_blocks(f.desc, f.ch, buf, 7, 1, bm_io_cb, &w), 0);
	ut_poll_threads();
	ut_advance_time_us(100000);
	ut_poll_threads();
	CU_ASSERT_EQUAL(w.done, 0);
	/* The rule hit once: the next write goes through. */
	CU_ASSERT_EQUAL(bm_write(f.desc, f.ch, buf, 8, 1), 1);

	ut_set_thread(0);
	bm_rpc("bdev_error_resume_pending", "{\"name\":\"EE_B\"}");
	CU_ASSERT_TRUE(json_is_true(bm_rpc_result()));
	CU_ASSERT_EQUAL(w.done, 1);
	ut_set_thread(1);
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 7, 1), 1);
	CU_ASSERT_EQUAL(memcmp(buf, rbuf, BS), 0);
	teardown(&f, 1);
}

static void test_pending_abort(void)
{
	struct fixture f;
	struct bm_io r = {0}, a = {0};
	char buf[BS];

	setup(&f, 1, 0);
	inject("{\"name\":\"EE_B\",\"io_type\":\"read\",\"error_type\":\"pending\"}");
	CU_ASSERT_EQUAL(plx_bdev_read_blocks(f.desc, f.ch, buf, 0, 1, bm_io_cb, &r), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, 0);
	CU_ASSERT_EQUAL(plx_bdev_abort(f.desc, f.ch, &r, bm_io_cb, &a), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(a.done, 1);
	CU_ASSERT_EQUAL(r.done, -1);
	CU_ASSERT_EQUAL(r.status, PLX_BDEV_IO_STATUS_ABORTED);
	teardown(&f, 0);
}

/* Delete with I/O held on another thread: it is aborted, so the user can close. */
static void test_pending_delete(void)
{
	struct fixture f;
	struct bm_io r = {0};
	char buf[BS];

	setup(&f, 2, 1);
	ut_set_thread(0);
	inject("{\"name\":\"EE_B\",\"io_type\":\"read\",\"error_type\":\"pending\"}");
	ut_set_thread(1);
	CU_ASSERT_EQUAL(plx_bdev_read_blocks(f.desc, f.ch, buf, 0, 1, bm_io_cb, &r), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, 0);

	ut_set_thread(0);
	json_decref(g_bm_resp);
	g_bm_resp = NULL;
	{
		json_t *params = json_pack("{s:s}", "name", "EE_B");

		plx_rpc_call_local("bdev_error_delete", params, bm_rpc_cb, NULL);
		json_decref(params);
	}
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, -1);
	CU_ASSERT_EQUAL(r.status, PLX_BDEV_IO_STATUS_ABORTED);
	CU_ASSERT_EQUAL(ut_bdev_remove_events, 1);
	CU_ASSERT_PTR_NULL(g_bm_resp);
	ut_set_thread(1);
	bm_close(f.desc, f.ch);
	f.desc = NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_bm_resp);
	CU_ASSERT_TRUE(json_is_true(bm_rpc_result()));
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("EE_B"));
	CU_ASSERT_PTR_NULL(plx_bdev_get_claim_module_name(plx_bdev_get_by_name("B")));
	teardown(&f, 1);
}

static void test_pending_hot_remove(void)
{
	struct fixture f;
	struct bm_io r = {0};
	int base_gone = 0;
	char buf[BS];

	setup(&f, 2, 1);
	ut_set_thread(0);
	inject("{\"name\":\"EE_B\",\"io_type\":\"write\",\"error_type\":\"pending\"}");
	ut_set_thread(1);
	CU_ASSERT_EQUAL(plx_bdev_write_blocks(f.desc, f.ch, buf, 0, 1, bm_io_cb, &r), 0);
	ut_poll_threads();
	ut_set_thread(0);
	CU_ASSERT_EQUAL(plx_bdev_malloc_delete("B", bm_unregister_cb, &base_gone), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, -1);
	CU_ASSERT_EQUAL(ut_bdev_remove_events, 1);
	CU_ASSERT_EQUAL(base_gone, 0);
	ut_set_thread(1);
	bm_close(f.desc, f.ch);
	f.desc = NULL;
	CU_ASSERT_EQUAL(base_gone, 1);
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("EE_B"));
	teardown(&f, 1);
}

static void test_rpc_errors(void)
{
	struct plx_bdev_delay_opts dopts = {.name = "D", .base_bdev_name = "C"};

	ut_bdev_init(1);
	create_base("B");
	create_base("C");
	BM_RPC_FAILS("bdev_error_create", "{\"base_name\":\"Nope\"}", -ENODEV,
		     "base bdev Nope not found");
	BM_RPC_FAILS("bdev_error_create", "{\"base_name\":\"B\",\"uuid\":\"x\"}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "uuid");
	BM_RPC_FAILS("bdev_error_create", "{}", PLX_JSONRPC_ERROR_INVALID_PARAMS, "base_name");
	bm_rpc("bdev_error_create", "{\"base_name\":\"B\"}");
	CU_ASSERT_STRING_EQUAL(json_string_value(bm_rpc_result()), "EE_B");
	BM_RPC_FAILS("bdev_error_create", "{\"base_name\":\"B\"}", -EEXIST,
		     "bdev EE_B already exists");
	CU_ASSERT_EQUAL(plx_bdev_delay_create(&dopts, NULL), 0);
	BM_RPC_FAILS("bdev_error_create", "{\"base_name\":\"C\"}", -EPERM,
		     "already claimed by module delay");

	BM_RPC_FAILS("bdev_error_inject_error",
		     "{\"name\":\"EE_X\",\"io_type\":\"read\",\"error_type\":\"failure\"}", -ENODEV,
		     "EE_X");
	BM_RPC_FAILS("bdev_error_inject_error",
		     "{\"name\":\"EE_B\",\"io_type\":\"reed\",\"error_type\":\"failure\"}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "io_type");
	BM_RPC_FAILS("bdev_error_inject_error",
		     "{\"name\":\"EE_B\",\"io_type\":\"read\",\"error_type\":\"nvme_failure\"}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "nvme_failure");
	BM_RPC_FAILS(
	    "bdev_error_inject_error",
	    "{\"name\":\"EE_B\",\"io_type\":\"read\",\"error_type\":\"failure\",\"num\":-1}",
	    PLX_JSONRPC_ERROR_INVALID_PARAMS, "num");
	BM_RPC_FAILS("bdev_error_resume_pending", "{\"name\":\"B\"}", -ENODEV, "B");
	BM_RPC_FAILS("bdev_error_delete", "{\"name\":\"B\"}", -ENODEV, "B");
	bm_rpc("bdev_error_delete", "{\"name\":\"EE_B\"}");
	CU_ASSERT_TRUE(json_is_true(bm_rpc_result()));
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("EE_B"));
	bm_rpc_done();
	ut_bdev_fini();
}

static void test_config_roundtrip(void)
{
	struct plx_bdev *bdev;
	struct plx_uuid uuid;
	json_t *entry, *params;
	int done = 0;

	ut_bdev_init(1);
	create_base("B");
	bm_rpc("bdev_error_create",
	       "{\"base_name\":\"B\",\"uuid\":\"0a1b2c3d-0000-4000-8000-00000000000e\"}");
	bdev = plx_bdev_get_by_name("EE_B");
	CU_ASSERT_PTR_NOT_NULL_FATAL(bdev);
	entry = bm_config_of(bdev);
	params = json_object_get(entry, "params");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(entry, "method")),
			       "bdev_error_create");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(params, "base_name")), "B");
	CU_ASSERT_EQUAL(plx_bdev_error_delete("EE_B", bm_unregister_cb, &done), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(done, 1);
	bm_replay(entry);
	bdev = plx_bdev_get_by_name("EE_B");
	CU_ASSERT_PTR_NOT_NULL_FATAL(bdev);
	plx_uuid_parse(&uuid, "0a1b2c3d-0000-4000-8000-00000000000e");
	CU_ASSERT_EQUAL(plx_uuid_compare(plx_bdev_get_uuid(bdev), &uuid), 0);
	json_decref(entry);
	bm_rpc_done();
	ut_bdev_fini();
}

static const struct plx_ut_case cases[] = {
    {"failure", test_failure},
    {"all_and_clear", test_all_and_clear},
    {"nomem", test_nomem},
    {"queue_depth", test_queue_depth},
    {"corrupt", test_corrupt},
    {"pending_resume", test_pending_resume},
    {"pending_abort", test_pending_abort},
    {"pending_delete", test_pending_delete},
    {"pending_hot_remove", test_pending_hot_remove},
    {"rpc_errors", test_rpc_errors},
    {"config_roundtrip", test_config_roundtrip},
};
PLX_UT_MAIN("bdev_error", cases)
