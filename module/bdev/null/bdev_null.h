/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The null bdev: accepts every read and write and moves no data. Reads leave the caller's
 * buffer as it was. It measures what the bdev framework itself costs per I/O.
 */
#ifndef POLLUX_BDEV_NULL_H
#define POLLUX_BDEV_NULL_H

#include "pollux/bdev_module.h"

struct plx_bdev_null_opts {
	const char *name;
	struct plx_uuid uuid; /* all zero: generated at registration */
	uint32_t block_size;
	uint64_t num_blocks;
	uint32_t physical_block_size; /* 0: same as block_size; kept for the saved config */
};

/* Create and register a null bdev (app thread). -EINVAL, -EEXIST or -ENOMEM. */
int plx_bdev_null_create(const struct plx_bdev_null_opts *opts, struct plx_bdev **bdev);

/* Unregister null bdev name; cb(cb_arg, rc) follows. -ENODEV when it is not a null bdev. */
int plx_bdev_null_delete(const char *name, plx_bdev_unregister_cb cb, void *cb_arg);

/*
 * Grow null bdev name to new_size_mib MiB. -ENODEV: no such null bdev; -EINVAL: the size is
 * not a whole number of blocks, or smaller than the current size (shrinking is refused).
 */
int plx_bdev_null_resize(const char *name, uint64_t new_size_mib);

extern struct plx_bdev_module plx_null_bdev_module;

#endif
