/* SPDX-License-Identifier: BSD-3-Clause */
/* The split virtual bdev's API, for its RPC methods and unit tests. */
#ifndef POLLUX_VBDEV_SPLIT_H
#define POLLUX_VBDEV_SPLIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "pollux/bdev_module.h"

/*
 * Split base_name into split_count parts <base>p0 .. p<N-1> (app thread), each split_size_mb
 * MiB (0: the base divided equally). The configuration is kept: when the base does not exist
 * yet the parts appear once it does (examine), as SPDK does. On success *names (may be NULL)
 * receives a new JSON array of the part names created now (empty when deferred).
 * -EINVAL (bad parameter), -EEXIST (base split already), -EPERM (base claimed), with err.
 */
int plx_vbdev_split_create(const char *base_name, uint32_t split_count, uint64_t split_size_mb,
			   json_t **names, char *err, size_t err_len);

/*
 * Remove every part of base_name and forget the configuration; cb(cb_arg, rc) once the parts
 * are gone and the base is released (on this thread, possibly before this returns).
 * -ENODEV when base_name has no split configuration.
 */
int plx_vbdev_split_delete(const char *base_name, plx_bdev_unregister_cb cb, void *cb_arg);

extern struct plx_bdev_module plx_split_module;

#endif
