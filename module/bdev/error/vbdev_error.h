/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The error bdev "EE_<base>": passes I/O to its base bdev, except the next num I/Os of a
 * chosen type, which it fails, reports out of resources (the bdev layer retries them),
 * holds (until resumed, aborted, reset or deleted) or corrupts (one byte XORed at an offset:
 * before a write goes down, after a read comes back).
 */
#ifndef POLLUX_VBDEV_ERROR_H
#define POLLUX_VBDEV_ERROR_H

#include "pollux/bdev_module.h"

enum plx_error_inject_type {
	PLX_ERROR_INJECT_NONE = 0,
	PLX_ERROR_INJECT_FAILURE,
	PLX_ERROR_INJECT_PENDING,
	PLX_ERROR_INJECT_CORRUPT_DATA,
	PLX_ERROR_INJECT_NOMEM,
};

struct plx_error_inject_opts {
	/* An I/O type, or PLX_BDEV_IO_TYPE_INVALID for every type that carries data or commands
	 * (read, write, unmap, flush, write_zeroes, compare, compare_and_write). */
	enum plx_bdev_io_type io_type;
	enum plx_error_inject_type error_type; /* NONE clears every rule */
	uint32_t num;			       /* I/Os to affect; 0 disables the rule */
	uint64_t queue_depth;	 /* only once this many I/Os are outstanding (0: always) */
	uint64_t corrupt_offset; /* byte offset in the data */
	uint8_t corrupt_value;	 /* XORed into that byte; non-zero */
};

/* Create "EE_<base_name>" over base_name (app thread). -ENODEV, -EEXIST, -EPERM (claimed). */
int plx_bdev_error_create(const char *base_name, const struct plx_uuid *uuid,
			  struct plx_bdev **bdev);

/*
 * Abort held I/O, then unregister error bdev name; cb(cb_arg, rc) follows.
 * -ENODEV when it is not an error bdev.
 */
int plx_bdev_error_delete(const char *name, plx_bdev_unregister_cb cb, void *cb_arg);

/* Set (or with error_type NONE, clear) an injection rule. -ENODEV, -EINVAL. */
int plx_bdev_error_inject(const char *name, const struct plx_error_inject_opts *opts);

/* Send every held I/O down to the base; cb(cb_arg) once done on every channel. -ENODEV. */
int plx_bdev_error_resume_pending(const char *name, void (*cb)(void *cb_arg), void *cb_arg);

extern struct plx_bdev_module plx_error_bdev_module;

#endif
