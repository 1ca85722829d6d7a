/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The malloc bdev: a RAM disk in DMA-able memory. Every I/O is a memcpy, memset or memcmp
 * completed inside submit, so nothing is ever outstanding and no poller exists.
 */
#ifndef POLLUX_BDEV_MALLOC_H
#define POLLUX_BDEV_MALLOC_H

#include "pollux/bdev_module.h"

struct plx_bdev_malloc_opts {
	const char *name;     /* NULL or "": the first free "Malloc<N>" */
	struct plx_uuid uuid; /* all zero: generated at registration */
	uint32_t block_size;
	uint64_t num_blocks;
	uint32_t optimal_io_boundary; /* blocks; 0: none */
	uint32_t physical_block_size; /* 0: same as block_size; kept for the saved config */
};

/* Create and register a malloc bdev (app thread). -EINVAL, -EEXIST or -ENOMEM. */
int plx_bdev_malloc_create(const struct plx_bdev_malloc_opts *opts, struct plx_bdev **bdev);

/* Unregister malloc bdev name; cb(cb_arg, rc) follows. -ENODEV when it is not a malloc bdev. */
int plx_bdev_malloc_delete(const char *name, plx_bdev_unregister_cb cb, void *cb_arg);

extern struct plx_bdev_module plx_malloc_bdev_module;

#endif
