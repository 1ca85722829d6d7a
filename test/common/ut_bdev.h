/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit-test support for the bdev layer on top of the deterministic thread harness:
 *
 *   ut_bdev_init(2);            // 2 harness threads, iobuf + bdev layer initialised on thread 0
 *   ... create bdevs through a module's create function, open, get channels, submit I/O,
 *       ut_poll_threads() to run completions ...
 *   ut_bdev_fini();             // unregister every bdev, finish modules, check threads exit
 */
#ifndef POLLUX_TEST_UT_BDEV_H
#define POLLUX_TEST_UT_BDEV_H

#include "pollux/bdev_module.h"
#include "ut_thread.h"

/* Harness with nthreads threads; the iobuf pools and the bdev layer come up on thread 0. */
void ut_bdev_init(unsigned int nthreads);

/* Unregister every bdev, finish the layer, tear the harness down. */
void ut_bdev_fini(void);

/* Open name for writing on the current thread with an event callback that counts events. */
struct plx_bdev_desc *ut_bdev_open(const char *name);

/* Events delivered to descriptors opened with ut_bdev_open. */
extern unsigned int ut_bdev_remove_events, ut_bdev_resize_events;

/* Completion helper: cb_arg points to an int set to 1 (success) or -1 (failure). */
void ut_bdev_io_done(struct plx_bdev_io *io, bool success, void *cb_arg);

#endif
