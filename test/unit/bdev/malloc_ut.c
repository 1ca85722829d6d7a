/* SPDX-License-Identifier: BSD-3-Clause */
/* The malloc bdev: data integrity over every I/O type, compare, naming, RPC, config. */
#include "../../../module/bdev/malloc/bdev_malloc.h"
#include "bm_ut.h"

#define BS 512

static struct plx_bdev *create_malloc(const char *name, uint32_t bs, uint64_t blocks,
				      uint32_t boundary)
{
	struct plx_bdev_malloc_opts opts = {
	    .name = name, .block_size = bs, .num_blocks = blocks, .optimal_io_boundary = boundary};
	struct plx_bdev *bdev = NULL;

	CU_ASSERT_EQUAL_FATAL(plx_bdev_malloc_create(&opts, &bdev), 0);
	return bdev;
}

static void delete_malloc(const char *name)
{
	int done = 0;

	CU_ASSERT_EQUAL(plx_bdev_malloc_delete(name, bm_unregister_cb, &done), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(done, 1);
}

static void fill(char *buf, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++) {
		buf[i] = (char)(seed * 31 + i * 7 + (i >> 9));
	}
}

static bool all_zero(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != 0) {
			return false;
		}
	}
	return true;
}

struct fixture {
	struct plx_bdev *bdev;
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
};

static void setup(struct fixture *f, const char *name, uint64_t blocks, uint32_t boundary)
{
	ut_bdev_init(2);
	f->bdev = create_malloc(name, BS, blocks, boundary);
	f->desc = ut_bdev_open(plx_bdev_get_name(f->bdev));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->desc);
	f->ch = plx_bdev_get_io_channel(f->desc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->ch);
}

static void teardown(struct fixture *f)
{
	char *name = strdup(plx_bdev_get_name(f->bdev));

	bm_close(f->desc, f->ch);
	delete_malloc(name);
	free(name);
	bm_rpc_done();
	ut_bdev_fini();
}

static void test_write_read(void)
{
	struct fixture f;
	char *wbuf = malloc(16 * BS), *rbuf = malloc(16 * BS);

	setup(&f, "Mal0", 64, 0);
	/* A fresh disk reads as zeroes. */
	memset(rbuf, 0xff, 16 * BS);
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 0, 16), 1);
	CU_ASSERT_TRUE(all_zero(rbuf, 16 * BS));

	fill(wbuf, 16 * BS, 1);
	CU_ASSERT_EQUAL(bm_write(f.desc, f.ch, wbuf, 10, 16), 1);
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 10, 16), 1);
	CU_ASSERT_EQUAL(memcmp(wbuf, rbuf, 16 * BS), 0);
	/* Neighbours are untouched. */
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 9, 1), 1);
	CU_ASSERT_TRUE(all_zero(rbuf, BS));
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 26, 1), 1);
	CU_ASSERT_TRUE(all_zero(rbuf, BS));
	/* Last block of the disk. */
	CU_ASSERT_EQUAL(bm_write(f.desc, f.ch, wbuf, 63, 1), 1);
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 63, 1), 1);
	CU_ASSERT_EQUAL(memcmp(wbuf, rbuf, BS), 0);
	free(wbuf);
	free(rbuf);
	teardown(&f);
}

static void test_iovecs(void)
{
	struct fixture f;
	char *wbuf = malloc(8 * BS), *rbuf = malloc(8 * BS);
	struct iovec wiov[3], riov[4];
	struct bm_io r = {0};

	setup(&f, "Mal1", 64, 0);
	fill(wbuf, 8 * BS, 2);
	/* Uneven pieces, including ones that split a block. */
	wiov[0] = (struct iovec){wbuf, 100};
	wiov[1] = (struct iovec){wbuf + 100, 3000};
	wiov[2] = (struct iovec){wbuf + 3100, 8 * BS - 3100};
	CU_ASSERT_EQUAL(plx_bdev_writev_blocks(f.desc, f.ch, wiov, 3, 4, 8, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);
	memset(rbuf, 0, 8 * BS);
	riov[0] = (struct iovec){rbuf, BS};
	riov[1] = (struct iovec){rbuf + BS, 1};
	riov[2] = (struct iovec){rbuf + BS + 1, 2 * BS - 1};
	riov[3] = (struct iovec){rbuf + 3 * BS, 5 * BS};
	r.done = 0;
	CU_ASSERT_EQUAL(plx_bdev_readv_blocks(f.desc, f.ch, riov, 4, 4, 8, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);
	CU_ASSERT_EQUAL(memcmp(wbuf, rbuf, 8 * BS), 0);

	/* A read without a buffer gets one, filled with the data. */
	r = (struct bm_io){0};
	riov[0] = (struct iovec){NULL, 0};
	CU_ASSERT_EQUAL(plx_bdev_readv_blocks(f.desc, f.ch, riov, 1, 4, 2, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);
	CU_ASSERT_EQUAL(memcmp(r.data, wbuf, sizeof(r.data)), 0);
	free(wbuf);
	free(rbuf);
	teardown(&f);
}

static void test_zeroes_unmap_flush_reset(void)
{
	struct fixture f;
	char *buf = malloc(32 * BS), *rbuf = malloc(32 * BS);
	struct bm_io r = {0};

	setup(&f, "Mal2", 64, 0);
	fill(buf, 32 * BS, 3);
	CU_ASSERT_EQUAL(bm_write(f.desc, f.ch, buf, 0, 32), 1);

	CU_ASSERT_EQUAL(plx_bdev_write_zeroes_blocks(f.desc, f.ch, 2, 3, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);
	r.done = 0;
	CU_ASSERT_EQUAL(plx_bdev_unmap_blocks(f.desc, f.ch, 20, 4, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);
	r.done = 0;
	CU_ASSERT_EQUAL(plx_bdev_flush_blocks(f.desc, f.ch, 0, 64, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);
	r.done = 0;
	CU_ASSERT_EQUAL(plx_bdev_reset(f.desc, f.ch, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);

	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 0, 32), 1);
	CU_ASSERT_EQUAL(memcmp(rbuf, buf, 2 * BS), 0);
	CU_ASSERT_TRUE(all_zero(rbuf + 2 * BS, 3 * BS));
	CU_ASSERT_EQUAL(memcmp(rbuf + 5 * BS, buf + 5 * BS, 15 * BS), 0);
	CU_ASSERT_TRUE(all_zero(rbuf + 20 * BS, 4 * BS));
	CU_ASSERT_EQUAL(memcmp(rbuf + 24 * BS, buf + 24 * BS, 8 * BS), 0);
	free(buf);
	free(rbuf);
	teardown(&f);
}

static void test_compare(void)
{
	struct fixture f;
	char *buf = malloc(4 * BS), *other = malloc(4 * BS), *rbuf = malloc(4 * BS);
	struct iovec cmp[2], wr;
	struct bm_io r = {0};

	setup(&f, "Mal3", 16, 0);
	CU_ASSERT_TRUE(f.bdev->fn_table->io_type_supported(f.bdev->ctxt, PLX_BDEV_IO_TYPE_COMPARE));
	fill(buf, 4 * BS, 4);
	fill(other, 4 * BS, 5);
	CU_ASSERT_EQUAL(bm_write(f.desc, f.ch, buf, 4, 4), 1);

	cmp[0] = (struct iovec){buf, BS + 7};
	cmp[1] = (struct iovec){buf + BS + 7, 3 * BS - 7};
	CU_ASSERT_EQUAL(plx_bdev_comparev_blocks(f.desc, f.ch, cmp, 2, 4, 4, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);

	/* One byte different, in the last block. */
	buf[4 * BS - 1] ^= 1;
	r.done = 0;
	CU_ASSERT_EQUAL(plx_bdev_comparev_blocks(f.desc, f.ch, cmp, 2, 4, 4, bm_io_cb, &r), 0);
	CU_ASSERT_EQUAL(bm_wait(&r), -1);
	CU_ASSERT_EQUAL(r.status, PLX_BDEV_IO_STATUS_MISCOMPARE);

	/* Compare-and-write: a mismatch writes nothing... */
	wr = (struct iovec){other, 4 * BS};
	r.done = 0;
	CU_ASSERT_EQUAL(
	    plx_bdev_comparev_and_writev_blocks(f.desc, f.ch, cmp, 2, &wr, 1, 4, 4, bm_io_cb, &r),
	    0);
	CU_ASSERT_EQUAL(bm_wait(&r), -1);
	CU_ASSERT_EQUAL(r.status, PLX_BDEV_IO_STATUS_MISCOMPARE);
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 4, 4), 1);
	CU_ASSERT_EQUAL(memcmp(rbuf, buf, 4 * BS - 1), 0);

	/* ...and a match writes. */
	buf[4 * BS - 1] ^= 1;
	r.done = 0;
	CU_ASSERT_EQUAL(
	    plx_bdev_comparev_and_writev_blocks(f.desc, f.ch, cmp, 2, &wr, 1, 4, 4, bm_io_cb, &r),
	    0);
	CU_ASSERT_EQUAL(bm_wait(&r), 1);
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 4, 4), 1);
	CU_ASSERT_EQUAL(memcmp(rbuf, other, 4 * BS), 0);
	free(buf);
	free(other);
	free(rbuf);
	teardown(&f);
}

/* An I/O crossing the optimal boundary is split by the layer; the data stays right. */
static void test_optimal_io_boundary(void)
{
	struct fixture f;
	char *buf = malloc(20 * BS), *rbuf = malloc(20 * BS);

	setup(&f, "Mal4", 64, 8);
	CU_ASSERT_EQUAL(plx_bdev_get_optimal_io_boundary(f.bdev), 8);
	fill(buf, 20 * BS, 6);
	CU_ASSERT_EQUAL(bm_write(f.desc, f.ch, buf, 5, 20), 1);
	CU_ASSERT_EQUAL(bm_read(f.desc, f.ch, rbuf, 5, 20), 1);
	CU_ASSERT_EQUAL(memcmp(buf, rbuf, 20 * BS), 0);
	free(buf);
	free(rbuf);
	teardown(&f);
}

/* Data written on one thread is read on another (one disk, per-thread channels). */
static void test_two_threads(void)
{
	struct fixture f;
	struct plx_bdev_desc *desc1;
	struct plx_io_channel *ch1;
	char buf[BS], rbuf[BS];

	setup(&f, "Mal5", 8, 0);
	fill(buf, BS, 7);
	CU_ASSERT_EQUAL(bm_write(f.desc, f.ch, buf, 3, 1), 1);
	ut_set_thread(1);
	desc1 = ut_bdev_open("Mal5");
	ch1 = plx_bdev_get_io_channel(desc1);
	CU_ASSERT_EQUAL(bm_read(desc1, ch1, rbuf, 3, 1), 1);
	CU_ASSERT_EQUAL(memcmp(buf, rbuf, BS), 0);
	ut_set_thread(1);
	bm_close(desc1, ch1);
	ut_set_thread(0);
	teardown(&f);
}

static void test_default_names(void)
{
	const char *n0, *n1;
	int done = 0;

	ut_bdev_init(1);
	bm_rpc("bdev_malloc_create", "{\"block_size\":512,\"num_blocks\":8}");
	CU_ASSERT_EQUAL(bm_rpc_code(), 0);
	n0 = json_string_value(bm_rpc_result());
	CU_ASSERT_PTR_NOT_NULL_FATAL(n0);
	CU_ASSERT_EQUAL(strncmp(n0, "Malloc", 6), 0);
	n0 = strdup(n0);
	bm_rpc("bdev_malloc_create", "{\"block_size\":512,\"num_blocks\":8}");
	n1 = json_string_value(bm_rpc_result());
	CU_ASSERT_PTR_NOT_NULL_FATAL(n1);
	CU_ASSERT_STRING_NOT_EQUAL(n0, n1);
	/* A default name is skipped when taken. */
	CU_ASSERT_PTR_NOT_NULL(plx_bdev_get_by_name(n0));
	CU_ASSERT_PTR_NOT_NULL(plx_bdev_get_by_name(n1));
	CU_ASSERT_EQUAL(plx_bdev_malloc_delete(n0, bm_unregister_cb, &done), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(done, 1);
	free((char *)n0);
	bm_rpc_done();
	ut_bdev_fini();
}

static void test_rpc_errors(void)
{
	ut_bdev_init(1);
	BM_RPC_FAILS("bdev_malloc_create", "{\"name\":\"M\",\"block_size\":1000,\"num_blocks\":8}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "block_size: 1000 is not a multiple of 512");
	BM_RPC_FAILS("bdev_malloc_create", "{\"name\":\"M\",\"block_size\":512,\"num_blocks\":0}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "num_blocks: must be greater than 0");
	BM_RPC_FAILS("bdev_malloc_create",
		     "{\"name\":\"M\",\"block_size\":512,\"num_blocks\":8,\"md_size\":16}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "md_size");
	BM_RPC_FAILS("bdev_malloc_create",
		     "{\"name\":\"M\",\"block_size\":512,\"num_blocks\":8,\"dif_type\":3}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "dif_type");
	BM_RPC_FAILS("bdev_malloc_create",
		     "{\"name\":\"M\",\"block_size\":512,\"num_blocks\":8,\"physical_block_size\":"
		     "1000}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "physical_block_size");
	BM_RPC_FAILS("bdev_malloc_create", "{\"name\":\"M\",\"num_blocks\":8}",
		     PLX_JSONRPC_ERROR_INVALID_PARAMS, "block_size");
	/* More memory than can exist. */
	BM_RPC_FAILS("bdev_malloc_create",
		     "{\"name\":\"M\",\"block_size\":65536,\"num_blocks\":4611686018427387904}",
		     -EINVAL, "M");
	bm_rpc("bdev_malloc_create",
	       "{\"name\":\"M\",\"block_size\":4096,\"num_blocks\":8,\"md_size\":0,"
	       "\"md_interleave\":false,\"dif_type\":0,\"numa_id\":-1,\"optimal_io_boundary\":2}");
	CU_ASSERT_EQUAL(bm_rpc_code(), 0);
	BM_RPC_FAILS("bdev_malloc_create", "{\"name\":\"M\",\"block_size\":512,\"num_blocks\":8}",
		     -EEXIST, "bdev M already exists");
	bm_rpc("bdev_malloc_delete", "{\"name\":\"M\"}");
	CU_ASSERT_TRUE(json_is_true(bm_rpc_result()));
	BM_RPC_FAILS("bdev_malloc_delete", "{\"name\":\"M\"}", -ENODEV, "M");
	bm_rpc_done();
	ut_bdev_fini();
}

static void test_config_roundtrip(void)
{
	struct plx_bdev *bdev;
	struct plx_uuid uuid;
	json_t *entry, *params;

	ut_bdev_init(1);
	bdev = create_malloc("Mal6", 4096, 32, 4);
	uuid = *plx_bdev_get_uuid(bdev);
	entry = bm_config_of(bdev);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(entry, "method")),
			       "bdev_malloc_create");
	params = json_object_get(entry, "params");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(params, "optimal_io_boundary")), 4);
	delete_malloc("Mal6");
	bm_replay(entry);
	bdev = plx_bdev_get_by_name("Mal6");
	CU_ASSERT_PTR_NOT_NULL_FATAL(bdev);
	CU_ASSERT_EQUAL(plx_bdev_get_block_size(bdev), 4096);
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(bdev), 32);
	CU_ASSERT_EQUAL(plx_bdev_get_optimal_io_boundary(bdev), 4);
	CU_ASSERT_EQUAL(plx_uuid_compare(plx_bdev_get_uuid(bdev), &uuid), 0);
	json_decref(entry);
	bm_rpc_done();
	ut_bdev_fini();
}

static const struct plx_ut_case cases[] = {
    {"write_read", test_write_read},
    {"iovecs", test_iovecs},
    {"zeroes_unmap_flush_reset", test_zeroes_unmap_flush_reset},
    {"compare", test_compare},
    {"optimal_io_boundary", test_optimal_io_boundary},
    {"two_threads", test_two_threads},
    {"default_names", test_default_names},
    {"rpc_errors", test_rpc_errors},
    {"config_roundtrip", test_config_roundtrip},
};
PLX_UT_MAIN("bdev_malloc", cases)
