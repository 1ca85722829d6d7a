/* SPDX-License-Identifier: BSD-3-Clause */
/* The uring bdev's API, for its RPC methods and unit tests. */
#ifndef POLLUX_BDEV_URING_H
#define POLLUX_BDEV_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pollux/bdev_module.h"

struct plx_bdev_uring_opts {
	const char *name;
	const char *filename;
	uint32_t block_size;  /* 0: the device's logical block size, 512 for files */
	struct plx_uuid uuid; /* null: generated */
};

/*
 * Create and register a uring bdev (app thread). 0, or a negative errno with a message naming
 * the offending parameter in err: -EINVAL (bad parameter), -EEXIST (name taken), -ENOENT etc.
 * (the file cannot be opened).
 */
int plx_bdev_uring_create(const struct plx_bdev_uring_opts *opts, char *err, size_t err_len);

/* Unregister a uring bdev; cb(cb_arg, rc) when done. -ENODEV: no such uring bdev. */
int plx_bdev_uring_delete(const char *name, plx_bdev_unregister_cb cb, void *cb_arg);

/* Re-read the file's size and report a change of block count. -ENODEV: no such uring bdev. */
int plx_bdev_uring_rescan(const char *name);

extern struct plx_bdev_module plx_uring_module;

#endif
