/* SPDX-License-Identifier: BSD-3-Clause */
/* The null bdev: creation, I/O without data movement, resize, RPC validation, config. */
#include "../../../module/bdev/null/bdev_null.h"
#include "bm_ut.h"

static struct plx_bdev *create_null(const char *name, uint32_t bs, uint64_t blocks)
{
	struct plx_bdev_null_opts opts = {.name = name, .block_size = bs, .num_blocks = blocks};
	struct plx_bdev *bdev = NULL;

	CU_ASSERT_EQUAL_FATAL(plx_bdev_null_create(&opts, &bdev), 0);
	return bdev;
}

static void delete_null(const char *name)
{
	int done = 0;

	CU_ASSERT_EQUAL(plx_bdev_null_delete(name, bm_unregister_cb, &done), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(done, 1);
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name(name));
}

static void test_create_io_delete(void)
{
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct plx_bdev *bdev;
	struct bm_io r = {0};
	struct iovec iov = {0};
	char buf[4096];

	ut_bdev_init(1);
	bdev = create_null("Null0", 512, 1024);
	CU_ASSERT_STRING_EQUAL(plx_bdev_get_name(bdev), "Null0");
	CU_ASSERT_STRING_EQUAL(plx_bdev_get_module_name(bdev), "null");
	CU_ASSERT_EQUAL(plx_bdev_get_block_size(bdev), 512);
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(bdev), 1024);
	CU_ASSERT_FALSE(plx_uuid_is_null(plx_bdev_get_uuid(bdev)));
	CU_ASSERT_TRUE(plx_bdev_io_type_supported(bdev, PLX_BDEV_IO_TYPE_UNMAP));
	CU_ASSERT_TRUE(plx_bdev_io_type_supported(bdev, PLX_BDEV_IO_TYPE_WRITE_ZEROES));
	CU_ASSERT_FALSE(bdev->fn_table->io_type_supported(bdev->ctxt, PLX_BDEV_IO_TYPE_COMPARE));

	desc = ut_bdev_open("Null0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(desc);
	ch = plx_bdev_get_io_channel(desc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);

	/* No data movement: a read leaves the caller's buffer as it was. */
	memset(buf, 0xab, sizeof(buf));
	CU_ASSERT_EQUAL(bm_write(desc, ch, buf, 0, 8), 1);
	memset(buf, 0x5a, sizeof(buf));
	CU_ASSERT_EQUAL(bm_read(desc, ch, buf, 8, 8), 1);
	CU_ASSERT_EQUAL((unsigned char)buf[0], 0x5a);
	CU_ASSERT_EQUAL((unsigned char)buf[4095], 0x5a);

	CU_ASSERT_EQUAL(plx_bdev_unmap_blocks(desc, ch, 0, 1024, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);
	r.done = 0;
	CU_ASSERT_EQUAL(plx_bdev_write_zeroes_blocks(desc, ch, 0, 16, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);
	r.done = 0;
	CU_ASSERT_EQUAL(plx_bdev_flush_blocks(desc, ch, 0, 1024, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);
	r.done = 0;
	CU_ASSERT_EQUAL(plx_bdev_reset(desc, ch, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);

	/* A read without a buffer gets one from the layer. */
	r = (struct bm_io){0};
	CU_ASSERT_EQUAL(plx_bdev_readv_blocks(desc, ch, &iov, 1, 0, 4, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);
	CU_ASSERT_PTR_NOT_NULL(r.iovs);
	CU_ASSERT_PTR_NOT_NULL(r.iovs != NULL ? r.iovs[0].iov_base : NULL);

	/* Out of range is refused by the layer, not the module. */
	CU_ASSERT_NOT_EQUAL(plx_bdev_read_blocks(desc, ch, buf, 1020, 8, bm_io_cb, &r), 0);

	bm_close(desc, ch);
	delete_null("Null0");
	ut_bdev_fini();
}

static void test_io_other_thread(void)
{
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	char buf[512];

	ut_bdev_init(2);
	create_null("Null1", 4096, 16);
	ut_set_thread(1);
	desc = ut_bdev_open("Null1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(desc);
	ch = plx_bdev_get_io_channel(desc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	for (int i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(bm_read(desc, ch, buf, i % 16, 1), 1);
	}
	ut_set_thread(1);
	bm_close(desc, ch);
	ut_set_thread(0);
	delete_null("Null1");
	ut_bdev_fini();
}

/* Many I/Os queued at once, resubmitted from their callbacks: completions never recurse. */
struct loop_ctx {
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	char buf[512];
	uint32_t left;
	uint32_t done;
	uint32_t depth;
	uint32_t max_depth;
};

static void loop_done(struct plx_bdev_io *io, bool success, void *cb_arg)
{
	struct loop_ctx *c = cb_arg;

	plx_bdev_free_io(io);
	CU_ASSERT_TRUE(success);
	c->done++;
	if (c->left > 0) {
		c->left--;
		c->depth++;
		c->max_depth = PLX_MAX(c->max_depth, c->depth);
		CU_ASSERT_EQUAL(plx_bdev_read_blocks(c->desc, c->ch, c->buf, 0, 1, loop_done, c),
				0);
		c->depth--;
	}
}

static void test_resubmit_from_callback(void)
{
	struct loop_ctx c = {.left = 10000};

	ut_bdev_init(1);
	create_null("Null2", 512, 8);
	c.desc = ut_bdev_open("Null2");
	c.ch = plx_bdev_get_io_channel(c.desc);
	for (int i = 0; i < 128; i++) {
		c.left--;
		CU_ASSERT_EQUAL(plx_bdev_read_blocks(c.desc, c.ch, c.buf, 0, 1, loop_done, &c), 0);
	}
	ut_poll_threads();
	CU_ASSERT_EQUAL(c.done, 10000);
	CU_ASSERT_EQUAL(c.max_depth, 1);
	/* No poller of the module keeps the thread busy. */
	CU_ASSERT_FALSE(plx_thread_has_active_pollers(ut_thread(0)));
	bm_close(c.desc, c.ch);
	delete_null("Null2");
	ut_bdev_fini();
}

static void test_rpc_create_errors(void)
{
	ut_bdev_init(1);
	BM_RPC_FAILS("bdev_null_create", "{\"name\":\"N\",\"block_size\":1000,\"num_blocks\":8}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "block_size: 1000 is not a multiple of 512");
	BM_RPC_FAILS("bdev_null_create", "{\"name\":\"N\",\"block_size\":512,\"num_blocks\":0}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "num_blocks: must be greater than 0");
	BM_RPC_FAILS("bdev_null_create", "{\"name\":\"N\",\"block_size\":131072,\"num_blocks\":8}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "block_size");
	BM_RPC_FAILS("bdev_null_create",
		     "{\"name\":\"N\",\"block_size\":512,\"num_blocks\":8,\"md_size\":8}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "md_size: metadata is not supported yet");
	BM_RPC_FAILS("bdev_null_create",
		     "{\"name\":\"N\",\"block_size\":512,\"num_blocks\":8,\"dif_type\":1}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "dif_type");
	BM_RPC_FAILS("bdev_null_create",
		     "{\"name\":\"N\",\"block_size\":512,\"num_blocks\":8,\"uuid\":\"nope\"}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "uuid");
	BM_RPC_FAILS("bdev_null_create", "{\"name\":\"N\",\"block_size\":512,\"num_blocks\":-1}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "num_blocks");
	BM_RPC_FAILS("bdev_null_create", "{\"block_size\":512,\"num_blocks\":8}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "name");
	BM_RPC_FAILS("bdev_null_create",
		     "{\"name\":\"N\",\"block_size\":512,\"num_blocks\":8,\"bogus\":1}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "bogus");
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("N"));

	/* The other SPDK parameters are accepted. */
	bm_rpc("bdev_null_create",
	       "{\"name\":\"N\",\"block_size\":512,\"num_blocks\":8,\"md_size\":0,\"dif_type\":0,"
	       "\"dif_is_head_of_md\":false,\"dif_pi_format\":0,\"physical_block_size\":4096,"
	       "\"preferred_write_granularity\":1,\"optimal_write_size\":8}");
	CU_ASSERT_EQUAL(bm_rpc_code(), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(bm_rpc_result()), "N");
	BM_RPC_FAILS("bdev_null_create", "{\"name\":\"N\",\"block_size\":512,\"num_blocks\":8}",
		     -EEXIST, "bdev N already exists");

	bm_rpc("bdev_null_delete", "{\"name\":\"N\"}");
	CU_ASSERT_TRUE(json_is_true(bm_rpc_result()));
	BM_RPC_FAILS("bdev_null_delete", "{\"name\":\"N\"}", -ENODEV, "N");
	bm_rpc_done();
	ut_bdev_fini();
}

static void test_resize(void)
{
	struct plx_bdev_desc *desc;
	struct plx_bdev *bdev;

	ut_bdev_init(1);
	bdev = create_null("Null3", 4096, 256); /* 1 MiB */
	desc = ut_bdev_open("Null3");
	CU_ASSERT_PTR_NOT_NULL_FATAL(desc);

	bm_rpc("bdev_null_resize", "{\"name\":\"Null3\",\"new_size\":4}");
	CU_ASSERT_TRUE(json_is_true(bm_rpc_result()));
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(bdev), 1024);
	CU_ASSERT_EQUAL(ut_bdev_resize_events, 1);

	/* Shrinking is refused, as SPDK does. */
	BM_RPC_FAILS("bdev_null_resize", "{\"name\":\"Null3\",\"new_size\":2}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "new_size");
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(bdev), 1024);
	CU_ASSERT_EQUAL(plx_bdev_null_resize("Null3", 1), -EINVAL);
	BM_RPC_FAILS("bdev_null_resize", "{\"name\":\"Nope\",\"new_size\":2}", -ENODEV, "Nope");
	BM_RPC_FAILS("bdev_null_resize", "{\"name\":\"Null3\"}", PLX_JSONRPC_ERROR_INVALID_PARAMS,
		     "new_size");
	CU_ASSERT_EQUAL(ut_bdev_resize_events, 1);

	bm_close(desc, NULL);
	delete_null("Null3");
	bm_rpc_done();
	ut_bdev_fini();
}

static void test_config_roundtrip(void)
{
	struct plx_bdev *bdev;
	struct plx_uuid uuid;
	json_t *entry, *params;

	ut_bdev_init(1);
	bm_rpc("bdev_null_create", "{\"name\":\"Null4\",\"block_size\":4096,\"num_blocks\":100,"
				   "\"uuid\":\"8f5bcb4e-7c36-4c8a-9f0e-0d2f8c8f6a01\"}");
	CU_ASSERT_EQUAL(bm_rpc_code(), 0);
	bdev = plx_bdev_get_by_name("Null4");
	CU_ASSERT_PTR_NOT_NULL_FATAL(bdev);
	entry = bm_config_of(bdev);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(entry, "method")),
			       "bdev_null_create");
	params = json_object_get(entry, "params");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(params, "name")), "Null4");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(params, "block_size")), 4096);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(params, "num_blocks")), 100);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(params, "uuid")),
			       "8f5bcb4e-7c36-4c8a-9f0e-0d2f8c8f6a01");

	delete_null("Null4");
	bm_replay(entry);
	bdev = plx_bdev_get_by_name("Null4");
	CU_ASSERT_PTR_NOT_NULL_FATAL(bdev);
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(bdev), 100);
	plx_uuid_parse(&uuid, "8f5bcb4e-7c36-4c8a-9f0e-0d2f8c8f6a01");
	CU_ASSERT_EQUAL(plx_uuid_compare(plx_bdev_get_uuid(bdev), &uuid), 0);
	json_decref(entry);
	bm_rpc_done();
	ut_bdev_fini();
}

/* Deleting an open bdev: its user learns, closes, and only then does delete answer. */
static void test_delete_while_open(void)
{
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	int done = 0;

	ut_bdev_init(1);
	create_null("Null5", 512, 64);
	desc = ut_bdev_open("Null5");
	ch = plx_bdev_get_io_channel(desc);
	CU_ASSERT_EQUAL(plx_bdev_null_delete("Null5", bm_unregister_cb, &done), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(ut_bdev_remove_events, 1);
	CU_ASSERT_EQUAL(done, 0);
	bm_close(desc, ch);
	CU_ASSERT_EQUAL(done, 1);
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("Null5"));
	ut_bdev_fini();
}

static const struct plx_ut_case cases[] = {
    {"create_io_delete", test_create_io_delete},
    {"io_other_thread", test_io_other_thread},
    {"resubmit_from_callback", test_resubmit_from_callback},
    {"rpc_create_errors", test_rpc_create_errors},
    {"resize", test_resize},
    {"config_roundtrip", test_config_roundtrip},
    {"delete_while_open", test_delete_while_open},
};
PLX_UT_MAIN("bdev_null", cases)
