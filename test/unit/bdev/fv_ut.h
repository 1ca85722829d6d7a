/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers for the unit tests of the aio, uring, passthru and split bdevs: in-process RPC calls,
 * I/O that waits for its completion (also completions the kernel delivers later), and a tiny
 * RAM base bdev ("ut_ram") that can hold I/O outstanding on demand, so virtual bdevs can be
 * torn down with I/O in flight.
 */
#ifndef POLLUX_TEST_FV_UT_H
#define POLLUX_TEST_FV_UT_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "pollux/bdev_module.h"
#include "pollux/rpc.h"
#include "ut.h"
#include "ut_bdev.h"

/* ---- waiting ---- */

/*
 * Poll the threads until *flag is non-zero. Kernel completions arrive while the harness is
 * idle, so keep polling with short sleeps, and move the fake clock so the layer's timed
 * pollers (reset drain) run. The bound only catches hangs (no timing asserts).
 */
static inline int fv_wait(volatile int *flag)
{
	for (int i = 0; i < 200000 && *flag == 0; i++) {
		ut_poll_threads();
		if (*flag == 0) {
			usleep(50);
			ut_advance_time_us(100);
		}
	}
	CU_ASSERT(*flag != 0);
	return *flag;
}

/* ---- RPC ---- */

static json_t *g_fv_resp;

static inline void fv_rpc_cb(void *arg, const json_t *response)
{
	json_decref(g_fv_resp);
	g_fv_resp = json_deep_copy(response);
	*(int *)arg = 1;
}

/* Call method with params as JSON text (NULL: none); the response stays until the next call. */
static inline json_t *fv_rpc(const char *method, const char *params_text)
{
	json_t *params = params_text != NULL ? json_loads(params_text, 0, NULL) : NULL;
	int answered = 0;

	CU_ASSERT_FATAL(params_text == NULL || params != NULL);
	plx_rpc_set_state(PLX_RPC_RUNTIME);
	plx_rpc_call_local(method, params, fv_rpc_cb, &answered);
	json_decref(params);
	fv_wait(&answered);
	return g_fv_resp;
}

static inline int fv_rpc_code(void)
{
	json_t *err = json_object_get(g_fv_resp, "error");

	return err != NULL ? (int)json_integer_value(json_object_get(err, "code")) : 0;
}

static inline const char *fv_rpc_message(void)
{
	const char *m =
	    json_string_value(json_object_get(json_object_get(g_fv_resp, "error"), "message"));

	return m != NULL ? m : "";
}

static inline json_t *fv_rpc_result(void)
{
	return json_object_get(g_fv_resp, "result");
}

#define FV_RPC_FAILS(method, params, code, part)                                                   \
	do {                                                                                       \
		fv_rpc(method, params);                                                            \
		CU_ASSERT_EQUAL(fv_rpc_code(), code);                                              \
		CU_ASSERT_PTR_NOT_NULL(strstr(fv_rpc_message(), part));                            \
		if (fv_rpc_code() != (code) || strstr(fv_rpc_message(), part) == NULL) {           \
			fprintf(stderr, "%s %s: got %d '%s'\n", method, params, fv_rpc_code(),     \
				fv_rpc_message());                                                 \
		}                                                                                  \
	} while (0)

static inline void fv_rpc_free(void)
{
	json_decref(g_fv_resp);
	g_fv_resp = NULL;
}

/* Replay a save_config entry through its RPC; it must succeed. */
static inline void fv_replay(const json_t *entry)
{
	char *params = json_dumps(json_object_get(entry, "params"), JSON_COMPACT);

	fv_rpc(json_string_value(json_object_get(entry, "method")), params);
	CU_ASSERT_EQUAL(fv_rpc_code(), 0);
	if (fv_rpc_code() != 0) {
		fprintf(stderr, "replay %s: %s\n", params, fv_rpc_message());
	}
	free(params);
}

/* ---- I/O ---- */

struct fv_io {
	int done; /* 0 outstanding, 1 success, -1 failure */
	enum plx_bdev_io_status status;
	char data[512]; /* the first bytes a buffer-less read returned */
};

static inline void fv_io_cb(struct plx_bdev_io *io, bool success, void *cb_arg)
{
	struct fv_io *r = cb_arg;
	struct iovec *iov;
	int iovcnt;

	r->status = plx_bdev_io_get_status(io);
	if (plx_bdev_io_get_type(io) == PLX_BDEV_IO_TYPE_READ) {
		plx_bdev_io_get_iovec(io, &iov, &iovcnt);
		if (iov != NULL && iov[0].iov_base != NULL) {
			memcpy(r->data, iov[0].iov_base, PLX_MIN(sizeof(r->data), iov[0].iov_len));
		}
	}
	plx_bdev_free_io(io);
	r->done = success ? 1 : -1;
}

static inline int fv_read(struct plx_bdev_desc *d, struct plx_io_channel *ch, void *buf,
			  uint64_t off, uint64_t n)
{
	struct fv_io r = {0};

	CU_ASSERT_EQUAL_FATAL(plx_bdev_read_blocks(d, ch, buf, off, n, fv_io_cb, &r), 0);
	return fv_wait(&r.done);
}

static inline int fv_write(struct plx_bdev_desc *d, struct plx_io_channel *ch, void *buf,
			   uint64_t off, uint64_t n)
{
	struct fv_io r = {0};

	CU_ASSERT_EQUAL_FATAL(plx_bdev_write_blocks(d, ch, buf, off, n, fv_io_cb, &r), 0);
	return fv_wait(&r.done);
}

static inline void fv_close(struct plx_bdev_desc *d, struct plx_io_channel *ch)
{
	if (ch != NULL) {
		plx_put_io_channel(ch);
	}
	plx_bdev_close(d);
	ut_poll_threads();
}

static inline void fv_unregister_cb(void *cb_arg, int rc)
{
	*(int *)cb_arg = rc == 0 ? 1 : -1;
}

/* Fill buf with a pattern of seed and the byte's position. */
static inline void fv_pattern(void *buf, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++) {
		((unsigned char *)buf)[i] = (unsigned char)(i * 7 + seed * 13 + (i >> 9));
	}
}

/* The bdev's save_config entries (a new array). */
static inline json_t *fv_config_of(struct plx_bdev *bdev)
{
	json_t *config = json_array();

	bdev->fn_table->write_config_json(bdev, config);
	return config;
}

/* ---- ut_ram: a RAM base bdev that completes inline, or holds I/O until released ---- */

struct ut_ram_io {
	STAILQ_ENTRY(ut_ram_io) link;
};

struct ut_ram {
	struct plx_bdev bdev;
	uint8_t *data;
	bool hold; /* park I/O until ut_ram_release */
	unsigned int held_count;
	STAILQ_HEAD(, ut_ram_io) held;
};

static struct plx_bdev_module g_ut_ram_module = {.name = "ut_ram"};

static inline void ut_ram_do(struct plx_bdev_io *io)
{
	struct ut_ram *r = io->bdev->ctxt;
	uint64_t off = io->u.bdev.offset_blocks * r->bdev.blocklen;
	uint64_t len = io->u.bdev.num_blocks * r->bdev.blocklen;

	switch (io->type) {
	case PLX_BDEV_IO_TYPE_READ:
	case PLX_BDEV_IO_TYPE_WRITE:
		for (int i = 0; i < io->u.bdev.iovcnt && len > 0; i++) {
			size_t n = PLX_MIN(len, io->u.bdev.iovs[i].iov_len);

			if (io->type == PLX_BDEV_IO_TYPE_READ) {
				memcpy(io->u.bdev.iovs[i].iov_base, r->data + off, n);
			} else {
				memcpy(r->data + off, io->u.bdev.iovs[i].iov_base, n);
			}
			off += n;
			len -= n;
		}
		break;
	case PLX_BDEV_IO_TYPE_UNMAP:
	case PLX_BDEV_IO_TYPE_WRITE_ZEROES:
		memset(r->data + off, 0, len);
		break;
	default:
		break;
	}
	plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_SUCCESS);
}

static inline void ut_ram_get_buf_cb(struct plx_io_channel *ch, struct plx_bdev_io *io, bool ok)
{
	ut_ram_do(io);
}

static inline void ut_ram_submit(struct plx_io_channel *ch, struct plx_bdev_io *io)
{
	struct ut_ram *r = io->bdev->ctxt;

	if (r->hold) {
		STAILQ_INSERT_TAIL(&r->held, (struct ut_ram_io *)io->driver_ctx, link);
		r->held_count++;
		return;
	}
	if (io->type == PLX_BDEV_IO_TYPE_READ && io->u.bdev.iovs[0].iov_base == NULL) {
		plx_bdev_io_get_buf(io, ut_ram_get_buf_cb,
				    io->u.bdev.num_blocks * (uint64_t)r->bdev.blocklen);
		return;
	}
	ut_ram_do(io);
}

/* Stop holding and complete every held I/O. */
static inline void ut_ram_release(struct ut_ram *r)
{
	struct ut_ram_io *h;

	r->hold = false;
	while ((h = STAILQ_FIRST(&r->held)) != NULL) {
		STAILQ_REMOVE_HEAD(&r->held, link);
		r->held_count--;
		ut_ram_submit(NULL, plx_bdev_io_from_ctx(h));
	}
}

static inline bool ut_ram_supported(void *ctx, enum plx_bdev_io_type t)
{
	return t == PLX_BDEV_IO_TYPE_READ || t == PLX_BDEV_IO_TYPE_WRITE ||
	       t == PLX_BDEV_IO_TYPE_UNMAP || t == PLX_BDEV_IO_TYPE_WRITE_ZEROES ||
	       t == PLX_BDEV_IO_TYPE_FLUSH || t == PLX_BDEV_IO_TYPE_RESET;
}

static inline int ut_ram_ch_create(void *dev, void *buf)
{
	return 0;
}

static inline void ut_ram_ch_destroy(void *dev, void *buf)
{
}

static inline struct plx_io_channel *ut_ram_get_ch(void *ctx)
{
	return plx_get_io_channel(ctx);
}

static inline void ut_ram_gone(void *dev)
{
	struct ut_ram *r = dev;

	plx_bdev_destruct_done(&r->bdev, 0);
	free(r->data);
	free(r->bdev.name);
	free(r);
}

static inline int ut_ram_destruct(void *ctx)
{
	plx_io_device_unregister(ctx, ut_ram_gone);
	return 1;
}

static const struct plx_bdev_fn_table g_ut_ram_fn = {
    .destruct = ut_ram_destruct,
    .submit_request = ut_ram_submit,
    .io_type_supported = ut_ram_supported,
    .get_io_channel = ut_ram_get_ch,
};

static inline int ut_ram_ctx_size(void)
{
	return sizeof(struct ut_ram_io);
}

__attribute__((constructor)) static void ut_ram_register_module(void)
{
	g_ut_ram_module.get_ctx_size = ut_ram_ctx_size;
	plx_bdev_module_list_add(&g_ut_ram_module);
}

static inline struct ut_ram *ut_ram_create(const char *name, uint32_t bs, uint64_t blocks)
{
	struct ut_ram *r = calloc(1, sizeof(*r));

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	r->data = calloc(blocks, bs);
	r->bdev.name = strdup(name);
	r->bdev.product_name = "ut ram";
	r->bdev.blocklen = bs;
	r->bdev.blockcnt = blocks;
	r->bdev.ctxt = r;
	r->bdev.fn_table = &g_ut_ram_fn;
	r->bdev.module = &g_ut_ram_module;
	STAILQ_INIT(&r->held);
	plx_io_device_register(r, ut_ram_ch_create, ut_ram_ch_destroy, 8, name);
	CU_ASSERT_EQUAL_FATAL(plx_bdev_register(&r->bdev), 0);
	return r;
}

/* Unregister a bdev by name and poll until done (every descriptor must close meanwhile). */
static inline void fv_unregister(const char *name)
{
	struct plx_bdev *b = plx_bdev_get_by_name(name);
	int done = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	plx_bdev_unregister(b, fv_unregister_cb, &done);
	fv_wait(&done);
	CU_ASSERT_EQUAL(done, 1);
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name(name));
}

#endif
