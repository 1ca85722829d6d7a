/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers for the unit tests of the null, malloc, delay and error bdev modules: in-process
 * RPC calls, and synchronous I/O on top of the deterministic harness (submit, then poll every
 * thread until the completion ran).
 */
#ifndef POLLUX_TEST_BM_UT_H
#define POLLUX_TEST_BM_UT_H

#include <stdlib.h>
#include <string.h>

#include "pollux/bdev_module.h"
#include "pollux/rpc.h"
#include "ut.h"
#include "ut_bdev.h"

/* ---- RPC ---- */

static json_t *g_bm_resp;

static inline void bm_rpc_cb(void *arg, const json_t *response)
{
	json_decref(g_bm_resp);
	g_bm_resp = json_deep_copy(response);
}

/*
 * Call method with params given as JSON text (NULL: none) on the current thread, polling
 * until it answered. The response stays valid until the next call.
 */
static inline json_t *bm_rpc(const char *method, const char *params_text)
{
	json_t *params = params_text != NULL ? json_loads(params_text, 0, NULL) : NULL;

	CU_ASSERT_FATAL(params_text == NULL || params != NULL);
	json_decref(g_bm_resp);
	g_bm_resp = NULL;
	plx_rpc_set_state(PLX_RPC_RUNTIME);
	plx_rpc_call_local(method, params, bm_rpc_cb, NULL);
	json_decref(params);
	ut_poll_threads();
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_bm_resp);
	return g_bm_resp;
}

/* The error code of the last response (0 when it carried a result). */
static inline int bm_rpc_code(void)
{
	json_t *err = json_object_get(g_bm_resp, "error");

	return err != NULL ? (int)json_integer_value(json_object_get(err, "code")) : 0;
}

static inline const char *bm_rpc_message(void)
{
	const char *m =
	    json_string_value(json_object_get(json_object_get(g_bm_resp, "error"), "message"));

	return m != NULL ? m : "";
}

static inline json_t *bm_rpc_result(void)
{
	return json_object_get(g_bm_resp, "result");
}

/* The call failed with code and a message containing part. */
#define BM_RPC_FAILS(method, params, code, part)                                                   \
	do {                                                                                       \
		bm_rpc(method, params);                                                            \
		CU_ASSERT_EQUAL(bm_rpc_code(), code);                                              \
		CU_ASSERT_PTR_NOT_NULL(strstr(bm_rpc_message(), part));                            \
		if (bm_rpc_code() != (code) || strstr(bm_rpc_message(), part) == NULL) {           \
			fprintf(stderr, "%s %s: got %d '%s'\n", method, params, bm_rpc_code(),     \
				bm_rpc_message());                                                 \
		}                                                                                  \
	} while (0)

static inline void bm_rpc_done(void)
{
	json_decref(g_bm_resp);
	g_bm_resp = NULL;
}

/* The module's save_config entry for bdev (a new reference). */
static inline json_t *bm_config_of(struct plx_bdev *bdev)
{
	json_t *config = json_array();
	json_t *entry;

	bdev->fn_table->write_config_json(bdev, config);
	CU_ASSERT_EQUAL_FATAL(json_array_size(config), 1);
	entry = json_incref(json_array_get(config, 0));
	json_decref(config);
	return entry;
}

/* Replay a saved config entry as the --json loader would; the result must be a success. */
static inline void bm_replay(const json_t *entry)
{
	char *params = json_dumps(json_object_get(entry, "params"), JSON_COMPACT);

	bm_rpc(json_string_value(json_object_get(entry, "method")), params);
	CU_ASSERT_EQUAL(bm_rpc_code(), 0);
	free(params);
}

/* ---- I/O ---- */

struct bm_io {
	int done; /* 0 while outstanding, 1 success, -1 failure */
	enum plx_bdev_io_status status;
	struct iovec *iovs; /* the iovecs as the I/O ended (for reads without a buffer) */
	char data[64];	    /* the first bytes of a buffer-less read */
};

static inline void bm_io_cb(struct plx_bdev_io *io, bool success, void *cb_arg)
{
	struct bm_io *r = cb_arg;
	struct iovec *iov;
	int iovcnt;

	r->status = plx_bdev_io_get_status(io);
	r->done = success ? 1 : -1;
	if (plx_bdev_io_get_type(io) == PLX_BDEV_IO_TYPE_READ) {
		plx_bdev_io_get_iovec(io, &iov, &iovcnt);
		r->iovs = iov;
		if (iov != NULL && iov[0].iov_base != NULL) {
			memcpy(r->data, iov[0].iov_base, PLX_MIN(sizeof(r->data), iov[0].iov_len));
		}
	}
	plx_bdev_free_io(io);
}

static inline int bm_wait(struct bm_io *r)
{
	ut_poll_threads();
	return r->done;
}

static inline int bm_read(struct plx_bdev_desc *desc, struct plx_io_channel *ch, void *buf,
			  uint64_t off, uint64_t n)
{
	struct bm_io r = {0};

	CU_ASSERT_EQUAL_FATAL(plx_bdev_read_blocks(desc, ch, buf, off, n, bm_io_cb, &r), 0);
	return bm_wait(&r);
}

static inline int bm_write(struct plx_bdev_desc *desc, struct plx_io_channel *ch, void *buf,
			   uint64_t off, uint64_t n)
{
	struct bm_io r = {0};

	CU_ASSERT_EQUAL_FATAL(plx_bdev_write_blocks(desc, ch, buf, off, n, bm_io_cb, &r), 0);
	return bm_wait(&r);
}

/* Close desc (after putting ch) on the current thread and let the layer settle. */
static inline void bm_close(struct plx_bdev_desc *desc, struct plx_io_channel *ch)
{
	if (ch != NULL) {
		plx_put_io_channel(ch);
	}
	plx_bdev_close(desc);
	ut_poll_threads();
}

static inline void bm_unregister_cb(void *cb_arg, int rc)
{
	*(int *)cb_arg = rc == 0 ? 1 : -1;
}

/* State of the current thread's poller named name: "waiting", "running", "paused" or NULL. */
struct bm_poller_find {
	const char *name;
	const char *state;
	int count;
};

static inline void bm_poller_cb(const struct plx_poller_info *info, void *arg)
{
	struct bm_poller_find *f = arg;

	if (strcmp(info->name, f->name) == 0) {
		f->state = info->state;
		f->count++;
	}
}

static inline struct bm_poller_find bm_find_poller(const char *name)
{
	struct bm_poller_find f = {.name = name};

	plx_thread_foreach_poller(bm_poller_cb, &f);
	return f;
}

#endif
