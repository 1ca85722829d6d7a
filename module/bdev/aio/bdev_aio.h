/* SPDX-License-Identifier: BSD-3-Clause */
/* The aio bdev's API, for its RPC methods and unit tests. */
#ifndef POLLUX_BDEV_AIO_H
#define POLLUX_BDEV_AIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pollux/bdev_module.h"

struct plx_bdev_aio_opts {
	const char *name;
	const char *filename;
	uint32_t block_size; /* 0: the device's logical block size, 512 for files */
	bool readonly;
	bool fallocate;	      /* unmap and write_zeroes through fallocate() */
	bool nowait;	      /* RWF_NOWAIT; block devices only */
	struct plx_uuid uuid; /* null: generated */
};

/*
 * Create and register an aio bdev (app thread). 0, or a negative errno with a message naming
 * the offending parameter in err: -EINVAL (bad parameter), -EEXIST (name taken), -ENOENT etc.
 * (the file cannot be opened).
 */
int plx_bdev_aio_create(const struct plx_bdev_aio_opts *opts, char *err, size_t err_len);

/* Unregister an aio bdev; cb(cb_arg, rc) when done. -ENODEV: no such aio bdev. */
int plx_bdev_aio_delete(const char *name, plx_bdev_unregister_cb cb, void *cb_arg);

/* Re-read the file's size and report a change of block count. -ENODEV: no such aio bdev. */
int plx_bdev_aio_rescan(const char *name);

extern struct plx_bdev_module plx_aio_module;

#endif
