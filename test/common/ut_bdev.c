/* SPDX-License-Identifier: BSD-3-Clause */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "bdev_internal.h"
#include "ut_bdev.h"

unsigned int ut_bdev_remove_events, ut_bdev_resize_events;

void ut_bdev_init(unsigned int nthreads)
{
	/* Small pools keep tests fast, also under ASan. */
	struct iobuf_opts opts = {
	    .small_pool_count = 256,
	    .large_pool_count = 32,
	    .small_bufsize = 8192,
	    .large_bufsize = 135168,
	};
	int rc;

	ut_threads_init(nthreads);
	ut_set_thread(0);
	g_bdev_opts.bdev_io_pool_size = 4096;
	rc = iobuf_init(&opts);
	assert(rc == 0);
	rc = bdev_layer_init();
	assert(rc == 0);
	(void)rc;
	ut_bdev_remove_events = ut_bdev_resize_events = 0;
}

static void fini_done(void *arg)
{
	*(bool *)arg = true;
}

void ut_bdev_fini(void)
{
	bool done = false;

	ut_set_thread(0);
	bdev_layer_fini(fini_done, &done);
	ut_poll_threads();
	if (!done) {
		fprintf(stderr,
			"ut_bdev_fini: the bdev layer did not finish (bdevs still open?)\n");
		abort();
	}
	iobuf_fini();
	ut_threads_fini();
}

static void ut_event(enum plx_bdev_event_type type, struct plx_bdev *bdev, void *ctx)
{
	if (type == PLX_BDEV_EVENT_REMOVE) {
		ut_bdev_remove_events++;
	} else {
		ut_bdev_resize_events++;
	}
}

struct plx_bdev_desc *ut_bdev_open(const char *name)
{
	struct plx_bdev_desc *desc = NULL;

	if (plx_bdev_open_ext(name, true, ut_event, NULL, &desc) != 0) {
		return NULL;
	}
	return desc;
}

void ut_bdev_io_done(struct plx_bdev_io *io, bool success, void *cb_arg)
{
	*(int *)cb_arg = success ? 1 : -1;
	plx_bdev_free_io(io);
}
