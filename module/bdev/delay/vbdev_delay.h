/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The delay bdev: passes every I/O to its base bdev and holds each read and write completion
 * for a configured latency: the average for about 99 of 100 I/Os, the p99 value for the rest.
 * Latencies are in microseconds and can be changed at runtime; I/O already delayed keeps the
 * latency it was given.
 */
#ifndef POLLUX_VBDEV_DELAY_H
#define POLLUX_VBDEV_DELAY_H

#include "pollux/bdev_module.h"

enum plx_delay_latency_type {
	PLX_DELAY_AVG_READ,
	PLX_DELAY_P99_READ,
	PLX_DELAY_AVG_WRITE,
	PLX_DELAY_P99_WRITE,
	PLX_DELAY_NUM_LATENCY_TYPES,
};

/* Largest latency accepted: one hour, in microseconds. */
#define PLX_DELAY_MAX_LATENCY_US (3600ull * 1000 * 1000)

struct plx_bdev_delay_opts {
	const char *name;
	const char *base_bdev_name;
	struct plx_uuid uuid; /* all zero: generated at registration */
	uint64_t latency_us[PLX_DELAY_NUM_LATENCY_TYPES];
};

/*
 * Create a delay bdev over a base bdev (app thread). -ENODEV: no such base; -EEXIST: name
 * taken; -EPERM: base already claimed; -EINVAL: a latency above the maximum, or p99 < avg.
 */
int plx_bdev_delay_create(const struct plx_bdev_delay_opts *opts, struct plx_bdev **bdev);

/* Unregister delay bdev name; cb(cb_arg, rc) follows. -ENODEV when it is not a delay bdev. */
int plx_bdev_delay_delete(const char *name, plx_bdev_unregister_cb cb, void *cb_arg);

/*
 * Set one latency of delay bdev name (app thread). -ENODEV: no such delay bdev; -EINVAL:
 * above the maximum, or it would leave an average above its p99.
 */
int plx_bdev_delay_update_latency(const char *name, enum plx_delay_latency_type type,
				  uint64_t latency_us);

/* Current latency (µs) of one type of a delay bdev. */
uint64_t plx_bdev_delay_get_latency(struct plx_bdev *bdev, enum plx_delay_latency_type type);

extern struct plx_bdev_module plx_delay_bdev_module;

#endif
