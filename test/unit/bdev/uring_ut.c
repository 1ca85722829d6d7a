/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The uring bdev on temporary files: data round trips through the kernel, flush, rescan after
 * the file grows, the tmpfs (no O_DIRECT) fallback, reset and delete with I/O in flight, RPC
 * validation and the save_config round trip.
 */
#include <fcntl.h>
#include <stdio.h>

#include "../../../module/bdev/uring/bdev_uring.h"
#include "fv_ut.h"

#define FILE_SIZE (4u << 20)

static char g_path[64];

/* A fresh file of size bytes under dir; the path goes to g_path. */
static void make_file(const char *dir, uint64_t size)
{
	int fd;

	snprintf(g_path, sizeof(g_path), "%s/plx_uring_ut.XXXXXX", dir);
	fd = mkstemp(g_path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

static struct plx_bdev *create(const char *name, uint32_t bs)
{
	struct plx_bdev_uring_opts o = {.name = name, .filename = g_path, .block_size = bs};
	char err[256] = "";
	int rc = plx_bdev_uring_create(&o, err, sizeof(err));

	if (rc != 0) {
		fprintf(stderr, "uring create: %d %s\n", rc, err);
	}
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	return plx_bdev_get_by_name(name);
}

static void delete (const char *name)
{
	int done = 0;

	CU_ASSERT_EQUAL(plx_bdev_uring_delete(name, fv_unregister_cb, &done), 0);
	fv_wait(&done);
	CU_ASSERT_EQUAL(done, 1);
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name(name));
}

static void *zalloc(size_t len)
{
	void *p = NULL;

	CU_ASSERT_EQUAL_FATAL(posix_memalign(&p, 4096, len), 0);
	memset(p, 0, len);
	return p;
}

static void test_write_read_flush(void)
{
	struct plx_bdev_desc *d;
	struct plx_io_channel *ch;
	struct plx_bdev *bdev;
	uint8_t *wbuf = zalloc(65536), *rbuf = zalloc(65536);
	struct iovec iov[2];
	struct fv_io r = {0};
	uint8_t file[4096];
	int fd;

	ut_bdev_init(2);
	make_file("/tmp", FILE_SIZE);
	bdev = create("uring0", 0);
	CU_ASSERT_EQUAL(plx_bdev_get_block_size(bdev), 512);
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(bdev), FILE_SIZE / 512);
	CU_ASSERT_STRING_EQUAL(plx_bdev_get_module_name(bdev), "uring");
	CU_ASSERT_TRUE(plx_bdev_io_type_supported(bdev, PLX_BDEV_IO_TYPE_FLUSH));
	CU_ASSERT_FALSE(bdev->fn_table->io_type_supported(bdev->ctxt, PLX_BDEV_IO_TYPE_UNMAP));

	d = ut_bdev_open("uring0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	ch = plx_bdev_get_io_channel(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);

	/* 64 KiB at block 100 and back. */
	fv_pattern(wbuf, 65536, 1);
	CU_ASSERT_EQUAL(fv_write(d, ch, wbuf, 100, 128), 1);
	CU_ASSERT_EQUAL(fv_read(d, ch, rbuf, 100, 128), 1);
	CU_ASSERT_EQUAL(memcmp(wbuf, rbuf, 65536), 0);

	/* Two-element iovecs, and a read into a buffer the layer supplies. */
	fv_pattern(wbuf, 8192, 2);
	iov[0] = (struct iovec){wbuf, 4096};
	iov[1] = (struct iovec){wbuf + 4096, 4096};
	CU_ASSERT_EQUAL(plx_bdev_writev_blocks(d, ch, iov, 2, 8, 16, fv_io_cb, &r), 0);
	CU_ASSERT_EQUAL(fv_wait(&r.done), 1);
	r.done = 0;
	iov[0] = (struct iovec){NULL, 0};
	CU_ASSERT_EQUAL(plx_bdev_readv_blocks(d, ch, iov, 1, 8, 16, fv_io_cb, &r), 0);
	CU_ASSERT_EQUAL(fv_wait(&r.done), 1);
	CU_ASSERT_EQUAL(memcmp(r.data, wbuf, sizeof(r.data)), 0);

	r.done = 0;
	CU_ASSERT_EQUAL(
	    plx_bdev_flush_blocks(d, ch, 0, plx_bdev_get_num_blocks(bdev), fv_io_cb, &r), 0);
	CU_ASSERT_EQUAL(fv_wait(&r.done), 1);

	/* The data is in the file itself, where the pattern said. */
	fd = open(g_path, O_RDONLY);
	CU_ASSERT_EQUAL(pread(fd, file, 4096, 8 * 512), 4096);
	close(fd);
	CU_ASSERT_EQUAL(memcmp(file, wbuf, 4096), 0);

	/* A reset with nothing in flight, then I/O still works. */
	r.done = 0;
	CU_ASSERT_EQUAL(plx_bdev_reset(d, ch, fv_io_cb, &r), 0);
	CU_ASSERT_EQUAL(fv_wait(&r.done), 1);
	CU_ASSERT_EQUAL(fv_read(d, ch, rbuf, 100, 1), 1);

	/* Idle: the poller does no work, so a full round of polling is quiet. */
	CU_ASSERT_EQUAL(ut_poll_threads(), 1);

	fv_close(d, ch);
	delete ("uring0");
	unlink(g_path);
	free(wbuf);
	free(rbuf);
	ut_bdev_fini();
}

static void test_block_size_and_rescan(void)
{
	struct plx_bdev_desc *d;
	struct plx_bdev *bdev;

	ut_bdev_init(1);
	make_file("/tmp", FILE_SIZE);
	bdev = create("uring4k", 4096);
	CU_ASSERT_EQUAL(plx_bdev_get_block_size(bdev), 4096);
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(bdev), FILE_SIZE / 4096);
	d = ut_bdev_open("uring4k");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);

	/* Unchanged size: no event. */
	CU_ASSERT_EQUAL(plx_bdev_uring_rescan("uring4k"), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(ut_bdev_resize_events, 0);

	CU_ASSERT_EQUAL(truncate(g_path, 2 * FILE_SIZE), 0);
	CU_ASSERT_EQUAL(plx_bdev_uring_rescan("uring4k"), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(bdev), 2 * FILE_SIZE / 4096);
	CU_ASSERT_EQUAL(ut_bdev_resize_events, 1);
	CU_ASSERT_EQUAL(plx_bdev_uring_rescan("nosuch"), -ENODEV);

	fv_close(d, NULL);
	delete ("uring4k");
	unlink(g_path);
	ut_bdev_fini();
}

static void test_tmpfs_fallback(void)
{
	struct plx_bdev_desc *d;
	struct plx_io_channel *ch;
	struct plx_bdev *bdev;
	json_t *ds = json_object();
	char wbuf[4096], rbuf[4096];

	if (access("/dev/shm", W_OK) != 0) {
		json_decref(ds);
		return; /* no tmpfs here: nothing to test */
	}
	ut_bdev_init(1);
	make_file("/dev/shm", FILE_SIZE);
	bdev = create("uringshm", 0);
	bdev->fn_table->dump_info_json(bdev->ctxt, ds);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(json_object_get(ds, "uring"), "filename")), g_path);
	/*
	 * tmpfs takes O_DIRECT since Linux 6.6; on older kernels this is the buffered fallback,
	 * which asks for no buffer alignment.
	 */
	if (json_is_false(json_object_get(json_object_get(ds, "uring"), "direct_io"))) {
		CU_ASSERT_EQUAL(plx_bdev_get_buf_align(bdev), 1);
	} else {
		CU_ASSERT_EQUAL(plx_bdev_get_buf_align(bdev), 512);
	}
	json_decref(ds);
	/* Unaligned stack buffers: written directly, or bounced by the layer. */
	d = ut_bdev_open("uringshm");
	ch = plx_bdev_get_io_channel(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	fv_pattern(wbuf, sizeof(wbuf), 3);
	CU_ASSERT_EQUAL(fv_write(d, ch, wbuf, 7, 8), 1);
	CU_ASSERT_EQUAL(fv_read(d, ch, rbuf, 7, 8), 1);
	CU_ASSERT_EQUAL(memcmp(wbuf, rbuf, sizeof(wbuf)), 0);
	fv_close(d, ch);
	delete ("uringshm");
	unlink(g_path);
	ut_bdev_fini();
}

/* Delete and reset while the kernel still owns I/O: both wait for it; nothing is lost. */
static void test_inflight_reset_and_delete(void)
{
	struct plx_bdev_desc *d;
	struct plx_io_channel *ch;
	uint8_t *buf = zalloc(32 * 4096);
	struct fv_io r[32] = {0}, reset = {0};
	int deleted = 0, ok = 0;

	ut_bdev_init(1);
	make_file("/tmp", FILE_SIZE);
	create("uringfl", 4096);
	d = ut_bdev_open("uringfl");
	ch = plx_bdev_get_io_channel(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);

	for (int i = 0; i < 16; i++) {
		CU_ASSERT_EQUAL(plx_bdev_write_blocks(d, ch, buf + i * 4096, i, 1, fv_io_cb, &r[i]),
				0);
	}
	CU_ASSERT_EQUAL(plx_bdev_reset(d, ch, fv_io_cb, &reset), 0);
	CU_ASSERT_EQUAL(fv_wait(&reset.done), 1);
	for (int i = 0; i < 16; i++) {
		CU_ASSERT_EQUAL(r[i].done, 1);
	}

	for (int i = 16; i < 32; i++) {
		CU_ASSERT_EQUAL(plx_bdev_read_blocks(d, ch, buf + i * 4096, i, 1, fv_io_cb, &r[i]),
				0);
	}
	CU_ASSERT_EQUAL(plx_bdev_uring_delete("uringfl", fv_unregister_cb, &deleted), 0);
	for (int i = 16; i < 32; i++) {
		fv_wait(&r[i].done);
		ok += r[i].done == 1;
	}
	CU_ASSERT_EQUAL(ok, 16);
	CU_ASSERT_EQUAL(ut_bdev_remove_events, 1);
	CU_ASSERT_EQUAL(deleted, 0); /* still open */
	fv_close(d, ch);
	fv_wait(&deleted);
	CU_ASSERT_EQUAL(deleted, 1);
	unlink(g_path);
	free(buf);
	ut_bdev_fini();
}

/* More I/O than the SQ holds: the full SQ is submitted early and every I/O completes. */
static void test_many_inflight(void)
{
	enum { N = 700 };
	struct plx_bdev_desc *d;
	struct plx_io_channel *ch;
	uint8_t *buf = zalloc((size_t)N * 4096);
	struct fv_io *r = calloc(N, sizeof(*r));
	int ok = 0, done = 0;

	ut_bdev_init(1);
	make_file("/tmp", N * 4096);
	create("uringmany", 4096);
	d = ut_bdev_open("uringmany");
	ch = plx_bdev_get_io_channel(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	for (int i = 0; i < N; i++) {
		fv_pattern(buf + (size_t)i * 4096, 4096, (unsigned)i);
		CU_ASSERT_EQUAL(plx_bdev_write_blocks(d, ch, buf + (size_t)i * 4096, (uint64_t)i, 1,
						      fv_io_cb, &r[i]),
				0);
	}
	for (int i = 0; i < N; i++) {
		fv_wait(&r[i].done);
		ok += r[i].done == 1;
	}
	CU_ASSERT_EQUAL(ok, N);
	memset(buf, 0, (size_t)N * 4096);
	memset(r, 0, N * sizeof(*r));
	for (int i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(plx_bdev_read_blocks(d, ch, buf + (size_t)i * 4096, (uint64_t)i, 1,
						     fv_io_cb, &r[i]),
				0);
	}
	for (int i = 0; i < N; i++) {
		uint8_t expect[4096];

		fv_wait(&r[i].done);
		fv_pattern(expect, 4096, (unsigned)i);
		done += r[i].done == 1 && memcmp(expect, buf + (size_t)i * 4096, 4096) == 0;
	}
	CU_ASSERT_EQUAL(done, N);
	fv_close(d, ch);
	delete ("uringmany");
	unlink(g_path);
	free(buf);
	free(r);
	ut_bdev_fini();
}

static void test_rpc(void)
{
	char params[512];
	struct plx_bdev *bdev;
	json_t *config, *entry;
	char uuid[PLX_UUID_STRING_LEN];

	ut_bdev_init(1);
	make_file("/tmp", FILE_SIZE);

	FV_RPC_FAILS("bdev_uring_create", "{\"name\": \"a\", \"filename\": \"/nonexistent/f\"}",
		     -ENOENT, "/nonexistent/f");
	snprintf(params, sizeof(params),
		 "{\"name\": \"a\", \"filename\": \"%s\", \"block_size\": 1000}", g_path);
	FV_RPC_FAILS("bdev_uring_create", params, PLX_JSONRPC_ERROR_INVALID_PARAMS,
		     "block_size: 1000 is not a multiple of 512");
	FV_RPC_FAILS("bdev_uring_create", "{\"name\": \"a\"}", PLX_JSONRPC_ERROR_INVALID_PARAMS,
		     "filename");
	snprintf(params, sizeof(params), "{\"name\": \"a\", \"filename\": \"%s\", \"uuid\": \"x\"}",
		 g_path);
	FV_RPC_FAILS("bdev_uring_create", params, PLX_JSONRPC_ERROR_INVALID_PARAMS, "uuid");
	snprintf(params, sizeof(params),
		 "{\"name\": \"a\", \"filename\": \"%s\", \"nowait\": true}", g_path);
	FV_RPC_FAILS("bdev_uring_create", params, PLX_JSONRPC_ERROR_INVALID_PARAMS,
		     "unknown parameter 'nowait'");

	snprintf(params, sizeof(params),
		 "{\"name\": \"a\", \"filename\": \"%s\", \"block_size\": 4096, "
		 "\"uuid\": \"b8e5c3a2-1c0e-4b5e-9d9a-3f1f1e2d3c4b\"}",
		 g_path);
	fv_rpc("bdev_uring_create", params);
	CU_ASSERT_EQUAL(fv_rpc_code(), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(fv_rpc_result()), "a");
	FV_RPC_FAILS("bdev_uring_create", params, -EEXIST, "bdev a already exists");
	fv_rpc("bdev_uring_rescan", "{\"name\": \"a\"}");
	CU_ASSERT_TRUE(json_is_true(fv_rpc_result()));
	FV_RPC_FAILS("bdev_uring_rescan", "{\"name\": \"b\"}", -ENODEV, "b");
	FV_RPC_FAILS("bdev_uring_delete", "{\"name\": \"b\"}", -ENODEV, "b");

	/* save_config entry -> delete -> replay: the same bdev again. */
	bdev = plx_bdev_get_by_name("a");
	config = fv_config_of(bdev);
	CU_ASSERT_EQUAL_FATAL(json_array_size(config), 1);
	entry = json_array_get(config, 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(entry, "method")),
			       "bdev_uring_create");
	fv_rpc("bdev_uring_delete", "{\"name\": \"a\"}");
	CU_ASSERT_TRUE(json_is_true(fv_rpc_result()));
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("a"));
	fv_replay(entry);
	bdev = plx_bdev_get_by_name("a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(bdev);
	plx_uuid_fmt_lower(uuid, sizeof(uuid), plx_bdev_get_uuid(bdev));
	CU_ASSERT_STRING_EQUAL(uuid, "b8e5c3a2-1c0e-4b5e-9d9a-3f1f1e2d3c4b");
	CU_ASSERT_EQUAL(plx_bdev_get_block_size(bdev), 4096);
	json_decref(config);
	fv_rpc_free();
	unlink(g_path);
	ut_bdev_fini();
}

static const struct plx_ut_case cases[] = {
    {"write_read_flush", test_write_read_flush},
    {"block_size_and_rescan", test_block_size_and_rescan},
    {"tmpfs_fallback", test_tmpfs_fallback},
    {"inflight_reset_and_delete", test_inflight_reset_and_delete},
    {"many_inflight", test_many_inflight},
    {"rpc", test_rpc},
};
PLX_UT_MAIN("bdev_uring", cases)
