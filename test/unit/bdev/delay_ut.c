/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The delay bdev under the harness's fake clock: latencies are applied (and only after the
 * clock moved), the p99 share, runtime updates, abort, hot remove and delete with I/O held,
 * an idle poller that is paused, RPC validation and the saved config.
 */
#include "../../../module/bdev/delay/vbdev_delay.h"
#include "../../../module/bdev/malloc/bdev_malloc.h"
#include "bm_ut.h"

#define BS 512

static void create_base(const char *name)
{
	struct plx_bdev_malloc_opts opts = {.name = name, .block_size = BS, .num_blocks = 64};

	CU_ASSERT_EQUAL_FATAL(plx_bdev_malloc_create(&opts, NULL), 0);
}

static struct plx_bdev *create_delay(const char *name, const char *base, uint64_t avg_r,
				     uint64_t p99_r, uint64_t avg_w, uint64_t p99_w)
{
	struct plx_bdev_delay_opts opts = {
	    .name = name, .base_bdev_name = base, .latency_us = {avg_r, p99_r, avg_w, p99_w}};
	struct plx_bdev *bdev = NULL;

	CU_ASSERT_EQUAL_FATAL(plx_bdev_delay_create(&opts, &bdev), 0);
	return bdev;
}

static const char *poller_state(void)
{
	return bm_find_poller("vbdev_delay").state;
}

static void test_latency_applied(void)
{
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct plx_bdev *bdev;
	struct bm_io w = {0}, r = {0};
	char buf[BS], rbuf[BS];

	ut_bdev_init(1);
	create_base("Base0");
	bdev = create_delay("D0", "Base0", 100, 100, 200, 200);
	CU_ASSERT_STRING_EQUAL(plx_bdev_get_module_name(bdev), "delay");
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(bdev), 64);
	CU_ASSERT_EQUAL(plx_bdev_get_block_size(bdev), BS);
	CU_ASSERT_STRING_EQUAL(plx_bdev_get_claim_module_name(plx_bdev_get_by_name("Base0")),
			       "delay");
	desc = ut_bdev_open("D0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(desc);
	ch = plx_bdev_get_io_channel(desc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	/* An idle delay channel lets its thread sleep. */
	CU_ASSERT_STRING_EQUAL(poller_state(), "paused");

	memset(buf, 0x3c, sizeof(buf));
	CU_ASSERT_EQUAL(plx_bdev_write_blocks(desc, ch, buf, 1, 1, bm_io_cb, &w), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(w.done, 0);
	CU_ASSERT_STRING_NOT_EQUAL(poller_state(), "paused");
	ut_advance_time_us(150);
	ut_poll_threads();
	CU_ASSERT_EQUAL(w.done, 0);
	ut_advance_time_us(100);
	ut_poll_threads();
	CU_ASSERT_EQUAL(w.done, 1);

	CU_ASSERT_EQUAL(plx_bdev_read_blocks(desc, ch, rbuf, 1, 1, bm_io_cb, &r), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, 0);
	ut_advance_time_us(120);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, 1);
	CU_ASSERT_EQUAL(memcmp(buf, rbuf, BS), 0);
	CU_ASSERT_STRING_EQUAL(poller_state(), "paused");

	/* Other types pass without delay. */
	r = (struct bm_io){0};
	CU_ASSERT_EQUAL(plx_bdev_flush_blocks(desc, ch, 0, 64, bm_io_cb, &r), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, 1);

	bm_close(desc, ch);
	ut_bdev_fini();
}

#define P99_IOS 1000

static void test_p99_share(void)
{
	static struct bm_io r[P99_IOS];
	static char buf[BS];
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	int done = 0;

	ut_bdev_init(1);
	create_base("Base1");
	create_delay("D1", "Base1", 10, 1000, 10, 10);
	desc = ut_bdev_open("D1");
	ch = plx_bdev_get_io_channel(desc);
	memset(r, 0, sizeof(r));
	for (int i = 0; i < P99_IOS; i++) {
		CU_ASSERT_EQUAL(plx_bdev_read_blocks(desc, ch, buf, i % 64, 1, bm_io_cb, &r[i]), 0);
	}
	ut_poll_threads();
	ut_advance_time_us(100);
	ut_poll_threads();
	for (int i = 0; i < P99_IOS; i++) {
		done += r[i].done == 1;
	}
	/* About one in a hundred waits for the p99 latency. */
	CU_ASSERT(done < P99_IOS);
	CU_ASSERT(done >= P99_IOS - P99_IOS / 25);
	ut_advance_time_us(1000);
	ut_poll_threads();
	for (int i = 0; i < P99_IOS; i++) {
		CU_ASSERT_EQUAL(r[i].done, 1);
	}
	bm_close(desc, ch);
	ut_bdev_fini();
}

static void test_update_latency(void)
{
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct plx_bdev *bdev;
	struct bm_io r = {0};
	char buf[BS];

	ut_bdev_init(1);
	create_base("Base2");
	bdev = create_delay("D2", "Base2", 0, 0, 0, 0);
	desc = ut_bdev_open("D2");
	ch = plx_bdev_get_io_channel(desc);
	/* Zero latency: completes without the clock moving. */
	CU_ASSERT_EQUAL(bm_read(desc, ch, buf, 0, 1), 1);

	/* An average above its p99 is refused. */
	CU_ASSERT_EQUAL(plx_bdev_delay_update_latency("D2", PLX_DELAY_AVG_READ, 500), -EINVAL);
	BM_RPC_FAILS(
	    "bdev_delay_update_latency",
	    "{\"delay_bdev_name\":\"D2\",\"latency_type\":\"avg_read\",\"latency_us\":500}",
	    PLX_JSONRPC_ERROR_INVALID_PARAMS, "p99_read_latency");
	bm_rpc("bdev_delay_update_latency",
	       "{\"delay_bdev_name\":\"D2\",\"latency_type\":\"p99_read\",\"latency_us\":800}");
	CU_ASSERT_TRUE(json_is_true(bm_rpc_result()));
	bm_rpc("bdev_delay_update_latency",
	       "{\"delay_bdev_name\":\"D2\",\"latency_type\":\"avg_read\",\"latency_us\":500}");
	CU_ASSERT_TRUE(json_is_true(bm_rpc_result()));
	CU_ASSERT_EQUAL(plx_bdev_delay_get_latency(bdev, PLX_DELAY_AVG_READ), 500);
	CU_ASSERT_EQUAL(plx_bdev_delay_get_latency(bdev, PLX_DELAY_P99_READ), 800);
	BM_RPC_FAILS(
	    "bdev_delay_update_latency",
	    "{\"delay_bdev_name\":\"D2\",\"latency_type\":\"p99_read\",\"latency_us\":100}",
	    PLX_JSONRPC_ERROR_INVALID_PARAMS, "p99_read_latency");
	BM_RPC_FAILS("bdev_delay_update_latency",
		     "{\"delay_bdev_name\":\"D2\",\"latency_type\":\"avg_rd\",\"latency_us\":1}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "latency_type");
	BM_RPC_FAILS(
	    "bdev_delay_update_latency",
	    "{\"delay_bdev_name\":\"D2\",\"latency_type\":\"avg_write\",\"latency_us\":-5}",
	    PLX_JSONRPC_ERROR_INVALID_PARAMS, "latency_us");
	BM_RPC_FAILS(
	    "bdev_delay_update_latency",
	    "{\"delay_bdev_name\":\"Base2\",\"latency_type\":\"avg_write\",\"latency_us\":1}",
	    -ENODEV, "Base2");

	CU_ASSERT_EQUAL(plx_bdev_read_blocks(desc, ch, buf, 0, 1, bm_io_cb, &r), 0);
	ut_poll_threads();
	ut_advance_time_us(300);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, 0);
	ut_advance_time_us(600);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, 1);
	bm_close(desc, ch);
	bm_rpc_done();
	ut_bdev_fini();
}

static void test_abort_queued(void)
{
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct bm_io r = {0}, a = {0};
	char buf[BS];

	ut_bdev_init(1);
	create_base("Base3");
	create_delay("D3", "Base3", 5000, 5000, 5000, 5000);
	desc = ut_bdev_open("D3");
	ch = plx_bdev_get_io_channel(desc);
	CU_ASSERT_EQUAL(plx_bdev_read_blocks(desc, ch, buf, 0, 1, bm_io_cb, &r), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, 0);
	CU_ASSERT_EQUAL(plx_bdev_abort(desc, ch, &r, bm_io_cb, &a), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(a.done, 1);
	CU_ASSERT_EQUAL(r.done, -1);
	CU_ASSERT_EQUAL(r.status, PLX_BDEV_IO_STATUS_ABORTED);
	CU_ASSERT_STRING_EQUAL(poller_state(), "paused");
	bm_close(desc, ch);
	ut_bdev_fini();
}

/* The base goes away while I/O waits out its delay on another thread. */
static void test_hot_remove_with_io(void)
{
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct bm_io r = {0};
	int base_gone = 0;
	char buf[BS];

	ut_bdev_init(2);
	create_base("Base4");
	create_delay("D4", "Base4", 1000, 1000, 1000, 1000);
	ut_set_thread(1);
	desc = ut_bdev_open("D4");
	ch = plx_bdev_get_io_channel(desc);
	CU_ASSERT_EQUAL(plx_bdev_read_blocks(desc, ch, buf, 0, 1, bm_io_cb, &r), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, 0);

	ut_set_thread(0);
	CU_ASSERT_EQUAL(plx_bdev_malloc_delete("Base4", bm_unregister_cb, &base_gone), 0);
	ut_poll_threads();
	/* The delay bdev unregistered itself; its user heard, the base waits for it. */
	CU_ASSERT_EQUAL(ut_bdev_remove_events, 1);
	CU_ASSERT_EQUAL(base_gone, 0);
	CU_ASSERT_EQUAL(r.done, 0);
	ut_advance_time_us(1100);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, 1);
	ut_set_thread(1);
	bm_close(desc, ch);
	CU_ASSERT_EQUAL(base_gone, 1);
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("D4"));
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("Base4"));
	ut_bdev_fini();
}

static void test_delete_with_io(void)
{
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct bm_io r = {0};
	json_t *params;
	char buf[BS];

	ut_bdev_init(1);
	create_base("Base5");
	create_delay("D5", "Base5", 1000, 1000, 1000, 1000);
	desc = ut_bdev_open("D5");
	ch = plx_bdev_get_io_channel(desc);
	CU_ASSERT_EQUAL(plx_bdev_write_blocks(desc, ch, buf, 0, 1, bm_io_cb, &r), 0);
	ut_poll_threads();

	/* Delete answers only once the user closed, after its I/O finished. */
	params = json_pack("{s:s}", "name", "D5");
	json_decref(g_bm_resp);
	g_bm_resp = NULL;
	plx_rpc_set_state(PLX_RPC_RUNTIME);
	plx_rpc_call_local("bdev_delay_delete", params, bm_rpc_cb, NULL);
	json_decref(params);
	ut_poll_threads();
	CU_ASSERT_PTR_NULL(g_bm_resp);
	CU_ASSERT_EQUAL(ut_bdev_remove_events, 1);
	ut_advance_time_us(1100);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, 1);
	bm_close(desc, ch);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_bm_resp);
	CU_ASSERT_TRUE(json_is_true(bm_rpc_result()));
	/* The base is free again. */
	CU_ASSERT_PTR_NULL(plx_bdev_get_claim_module_name(plx_bdev_get_by_name("Base5")));
	bm_rpc_done();
	ut_bdev_fini();
}

static void test_rpc_errors(void)
{
	ut_bdev_init(1);
	create_base("Base6");
	BM_RPC_FAILS("bdev_delay_create",
		     "{\"name\":\"D\",\"base_bdev_name\":\"Nope\",\"avg_read_latency\":1,"
		     "\"p99_read_latency\":1,\"avg_write_latency\":1,\"p99_write_latency\":1}",
		     -ENODEV, "base bdev Nope not found");
	BM_RPC_FAILS("bdev_delay_create",
		     "{\"name\":\"D\",\"base_bdev_name\":\"Base6\",\"avg_read_latency\":-1,"
		     "\"p99_read_latency\":1,\"avg_write_latency\":1,\"p99_write_latency\":1}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "avg_read_latency");
	BM_RPC_FAILS("bdev_delay_create",
		     "{\"name\":\"D\",\"base_bdev_name\":\"Base6\",\"avg_read_latency\":10,"
		     "\"p99_read_latency\":1,\"avg_write_latency\":1,\"p99_write_latency\":1}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "p99_read_latency: 1 us is less than");
	BM_RPC_FAILS("bdev_delay_create",
		     "{\"name\":\"D\",\"base_bdev_name\":\"Base6\",\"avg_read_latency\":1,"
		     "\"p99_read_latency\":1,\"avg_write_latency\":1,"
		     "\"p99_write_latency\":99999999999}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "p99_write_latency: 99999999999 us exceeds");
	BM_RPC_FAILS("bdev_delay_create",
		     "{\"name\":\"D\",\"base_bdev_name\":\"Base6\",\"avg_read_latency\":1,"
		     "\"p99_read_latency\":1,\"avg_write_latency\":1}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "p99_write_latency");
	BM_RPC_FAILS("bdev_delay_create",
		     "{\"name\":\"Base6\",\"base_bdev_name\":\"Base6\",\"avg_read_latency\":1,"
		     "\"p99_read_latency\":1,\"avg_write_latency\":1,\"p99_write_latency\":1}",
		     -EEXIST, "bdev Base6 already exists");
	CU_ASSERT_PTR_NULL(plx_bdev_get_claim_module_name(plx_bdev_get_by_name("Base6")));

	bm_rpc("bdev_delay_create",
	       "{\"name\":\"D\",\"base_bdev_name\":\"Base6\",\"avg_read_latency\":1,"
	       "\"p99_read_latency\":2,\"avg_write_latency\":3,\"p99_write_latency\":4}");
	CU_ASSERT_STRING_EQUAL(json_string_value(bm_rpc_result()), "D");
	/* A claimed base cannot take a second delay bdev. */
	BM_RPC_FAILS("bdev_delay_create",
		     "{\"name\":\"D2\",\"base_bdev_name\":\"Base6\",\"avg_read_latency\":1,"
		     "\"p99_read_latency\":1,\"avg_write_latency\":1,\"p99_write_latency\":1}",
		     -EPERM, "already claimed by module delay");
	BM_RPC_FAILS("bdev_delay_delete", "{\"name\":\"Base6\"}", -ENODEV, "Base6");
	bm_rpc("bdev_delay_delete", "{\"name\":\"D\"}");
	CU_ASSERT_TRUE(json_is_true(bm_rpc_result()));
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("D"));
	bm_rpc_done();
	ut_bdev_fini();
}

static void test_config_roundtrip(void)
{
	struct plx_bdev *bdev;
	struct plx_uuid uuid;
	json_t *entry;
	int done = 0;

	ut_bdev_init(1);
	create_base("Base7");
	bdev = create_delay("D7", "Base7", 10, 20, 30, 40);
	uuid = *plx_bdev_get_uuid(bdev);
	entry = bm_config_of(bdev);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(entry, "method")),
			       "bdev_delay_create");
	CU_ASSERT_EQUAL(plx_bdev_delay_delete("D7", bm_unregister_cb, &done), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(done, 1);
	bm_replay(entry);
	bdev = plx_bdev_get_by_name("D7");
	CU_ASSERT_PTR_NOT_NULL_FATAL(bdev);
	CU_ASSERT_EQUAL(plx_uuid_compare(plx_bdev_get_uuid(bdev), &uuid), 0);
	CU_ASSERT_EQUAL(plx_bdev_delay_get_latency(bdev, PLX_DELAY_AVG_READ), 10);
	CU_ASSERT_EQUAL(plx_bdev_delay_get_latency(bdev, PLX_DELAY_P99_READ), 20);
	CU_ASSERT_EQUAL(plx_bdev_delay_get_latency(bdev, PLX_DELAY_AVG_WRITE), 30);
	CU_ASSERT_EQUAL(plx_bdev_delay_get_latency(bdev, PLX_DELAY_P99_WRITE), 40);
	json_decref(entry);
	bm_rpc_done();
	ut_bdev_fini();
}

static const struct plx_ut_case cases[] = {
    {"latency_applied", test_latency_applied},
    {"p99_share", test_p99_share},
    {"update_latency", test_update_latency},
    {"abort_queued", test_abort_queued},
    {"hot_remove_with_io", test_hot_remove_with_io},
    {"delete_with_io", test_delete_with_io},
    {"rpc_errors", test_rpc_errors},
    {"config_roundtrip", test_config_roundtrip},
};
PLX_UT_MAIN("bdev_delay", cases)
