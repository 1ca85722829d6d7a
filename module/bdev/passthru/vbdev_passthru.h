/* SPDX-License-Identifier: BSD-3-Clause */
/* The passthru virtual bdev's API, for its RPC methods and unit tests. */
#ifndef POLLUX_VBDEV_PASSTHRU_H
#define POLLUX_VBDEV_PASSTHRU_H

#include <stddef.h>

#include "pollux/bdev_module.h"

/*
 * Create passthru bdev name on top of base_name (app thread). uuid may be NULL or null
 * (generated). 0, or -EINVAL (bad name), -EEXIST (name or configuration taken), -ENODEV (no
 * base bdev), -EPERM (base claimed by another module); err says which.
 */
int plx_vbdev_passthru_create(const char *name, const char *base_name, const struct plx_uuid *uuid,
			      char *err, size_t err_len);

/*
 * Delete passthru bdev name and forget its configuration; cb(cb_arg, rc) when done (on this
 * thread, possibly before this returns). -ENODEV when no passthru of that name is configured.
 */
int plx_vbdev_passthru_delete(const char *name, plx_bdev_unregister_cb cb, void *cb_arg);

extern struct plx_bdev_module plx_passthru_module;

#endif
