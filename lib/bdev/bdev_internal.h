/* SPDX-License-Identifier: BSD-3-Clause */
/* Private structures of lib/bdev, shared by its files and nothing else. */
#ifndef POLLUX_BDEV_INTERNAL_H
#define POLLUX_BDEV_INTERNAL_H

#include <pthread.h>
#include <sys/queue.h>

#include "pollux/bdev_module.h"
#include "pollux/env.h"
#include "pollux/log.h"

PLX_LOG_DECLARE_COMPONENT(bdev);

#define BDEV_SPLIT_IOVS 32 /* iovecs a split round hands to its children */

enum bdev_status {
	BDEV_STATUS_READY,
	BDEV_STATUS_UNREGISTERING,
};

struct bdev_alias {
	char *name;
	TAILQ_ENTRY(bdev_alias) link;
};

struct plx_bdev_desc {
	struct plx_bdev *bdev;
	struct plx_thread *thread;
	plx_bdev_event_cb event_cb;
	void *event_ctx;
	bool write;
	bool closed;
	bool remove_notified;
	TAILQ_ENTRY(plx_bdev_desc) link;
};

/* Per-I/O-type counters, summed over channels on request (no atomics on the I/O path). */
struct bdev_io_stat {
	uint64_t bytes[PLX_BDEV_NUM_IO_TYPES];
	uint64_t ops[PLX_BDEV_NUM_IO_TYPES];
	uint64_t latency_ticks[PLX_BDEV_NUM_IO_TYPES];
	uint64_t min_latency_ticks[PLX_BDEV_NUM_IO_TYPES];
	uint64_t max_latency_ticks[PLX_BDEV_NUM_IO_TYPES];
	uint64_t io_error;
};

struct bdev_lba_range {
	uint64_t offset;
	uint64_t length;
	struct plx_bdev_io *owner; /* the compare-and-write holding it */
	TAILQ_ENTRY(bdev_lba_range) link;
};

struct bdev_histogram;
struct bdev_qos;

struct plx_bdev_internal {
	struct plx_bdev *bdev;
	enum bdev_status status;
	pthread_mutex_t mutex; /* descs, status, claim: touched from several threads */
	TAILQ_HEAD(, plx_bdev_desc) descs;
	struct plx_bdev_module *claim_module;
	TAILQ_HEAD(, bdev_alias) aliases;
	plx_bdev_unregister_cb unregister_cb;
	void *unregister_ctx;
	struct plx_thread *unregister_thread;
	bool destruct_started;
	char unregister_name[64]; /* for logs once the module may have freed the bdev */
	/* Stats of channels already destroyed. */
	struct bdev_io_stat stat_retired;
	uint64_t stat_reset_tsc;
	/* Reset in progress (one at a time; others wait in this queue on the app's side). */
	struct plx_bdev_io *reset_in_progress;
	STAILQ_HEAD(, plx_bdev_io) pending_resets;
	/* Locked LBA ranges (compare-and-write), mirrored into each channel. */
	TAILQ_HEAD(, bdev_lba_range) locked_ranges;
	/* Compare-and-writes run one at a time per bdev, so two locks can never wait on each
	 * other's held writes. */
	struct plx_bdev_io *caw_in_progress;
	STAILQ_HEAD(, plx_bdev_io) pending_caws;
	struct bdev_histogram *histogram; /* NULL when disabled */
	struct bdev_qos *qos;		  /* NULL when no limit is set */
	bool examined;
	TAILQ_ENTRY(plx_bdev_internal) link;
};

/* Flags that send a channel's I/O off the fast path. */
#define BDEV_CH_RESET_IN_PROGRESS (1u << 0)
#define BDEV_CH_LOCKED_RANGES	  (1u << 1)
#define BDEV_CH_NEEDS_SPLIT	  (1u << 2) /* the bdev has limits that may need splitting */
#define BDEV_CH_HISTOGRAM	  (1u << 3)
#define BDEV_CH_QOS		  (1u << 4)
#define BDEV_CH_BOUNCE_CHECK	  (1u << 5) /* the bdev requires aligned buffers */

struct bdev_mgmt_channel;

struct plx_bdev_channel {
	struct plx_bdev *bdev;
	struct plx_io_channel *module_ch;
	struct bdev_mgmt_channel *mgmt;
	struct plx_io_channel *mgmt_ch;
	uint32_t flags;
	uint64_t io_outstanding;
	TAILQ_HEAD(, plx_bdev_io) io_submitted; /* at the module, for abort */
	STAILQ_HEAD(, plx_bdev_io) nomem_io;	/* the module said NOMEM: retried later */
	STAILQ_HEAD(, plx_bdev_io) held_io;	/* waiting for a reset or a range lock */
	TAILQ_HEAD(, bdev_lba_range) locked_ranges;
	struct bdev_io_stat stat;
	struct bdev_histogram *histogram;
};

/*
 * Per-thread state shared by every bdev channel of a thread: the bdev_io cache, completions
 * deferred out of submit calls, waiters for bdev_ios and for buffers.
 */
struct bdev_mgmt_channel {
	STAILQ_HEAD(, plx_bdev_io) io_cache;
	uint32_t io_cache_count;
	STAILQ_HEAD(, plx_bdev_io) deferred;
	bool flush_scheduled;
	uint32_t submit_depth;
	struct plx_bdev_io_wait_entry *io_wait_head, *io_wait_tail;
	bool io_wait_running; /* a waiter's callback runs: its submits may take a bdev_io */
	STAILQ_HEAD(, plx_bdev_io) buf_wait_small;
	STAILQ_HEAD(, plx_bdev_io) buf_wait_large;
	struct plx_thread *thread;
};

struct bdev_opts {
	uint32_t bdev_io_pool_size;
	uint32_t bdev_io_cache_size;
	bool bdev_auto_examine;
	uint32_t iobuf_small_cache_size;
	uint32_t iobuf_large_cache_size;
};

struct iobuf_opts {
	uint64_t small_pool_count;
	uint64_t large_pool_count;
	uint32_t small_bufsize;
	uint32_t large_bufsize;
};

/* bdev.c */
extern struct bdev_opts g_bdev_opts;
extern pthread_mutex_t g_bdev_mutex;
extern TAILQ_HEAD(bdev_list, plx_bdev_internal) g_bdevs;
extern TAILQ_HEAD(bdev_module_list, plx_bdev_module) g_bdev_modules;
extern bool g_bdev_initialized;
struct plx_bdev *bdev_find_locked(const char *name);
void bdev_desc_remove_notify(struct plx_bdev_desc *desc);

/* bdev_subsystem.c: the layer's start and stop, also used directly by unit tests */
int bdev_layer_init(void);
void bdev_layer_fini(void (*done)(void *arg), void *arg);
/* After any unregistration finished: a shutdown in progress moves on to the next bdev. */
void bdev_layer_fini_continue(void);

/* bdev_io.c */
extern struct plx_mempool *g_bdev_io_pool;
extern size_t g_bdev_io_size;
extern int g_bdev_mgmt_io_device; /* its address is the mgmt io_device */
int bdev_channel_create(void *io_device, void *ctx);
void bdev_channel_destroy(void *io_device, void *ctx);
int bdev_mgmt_channel_create(void *io_device, void *ctx);
void bdev_mgmt_channel_destroy(void *io_device, void *ctx);
struct plx_bdev_io *bdev_io_get(struct plx_bdev_channel *bch);
void bdev_io_init(struct plx_bdev_io *io, struct plx_bdev_desc *desc, struct plx_bdev_channel *bch,
		  enum plx_bdev_io_type type, plx_bdev_io_completion_cb cb, void *cb_arg);
void bdev_io_submit(struct plx_bdev_io *io);
void bdev_io_submit_to_module(struct plx_bdev_io *io);
void bdev_io_complete_to_caller(struct plx_bdev_io *io);
void bdev_io_start_op(struct plx_bdev_io *io, void (*start)(struct plx_bdev_io *io));
void bdev_ch_resubmit_held(struct plx_bdev_channel *bch);

/* bdev_split.c */
bool bdev_io_should_split(struct plx_bdev_io *io);
void bdev_io_split(struct plx_bdev_io *io);
bool bdev_io_needs_bounce(struct plx_bdev_io *io);
void bdev_io_bounce(struct plx_bdev_io *io);

/* bdev_ops.c: reset, abort, compare, compare-and-write */
void bdev_reset_start(struct plx_bdev_io *io);
void bdev_abort_start(struct plx_bdev_io *io);
void bdev_compare_emulate(struct plx_bdev_io *io);
void bdev_caw_start(struct plx_bdev_io *io);
bool bdev_io_range_locked(struct plx_bdev_channel *bch, struct plx_bdev_io *io);

/* iobuf.c */
int iobuf_init(const struct iobuf_opts *opts);
void iobuf_fini(void);
void *iobuf_get(uint64_t len);
void iobuf_put(void *buf, uint64_t len);
uint64_t iobuf_large_size(void);
size_t iobuf_available(bool large);
extern struct iobuf_opts g_iobuf_opts;

/* bdev_qos.c */
void bdev_qos_get_limits(struct plx_bdev *bdev, uint64_t limits[4]);
/* Forward io to the bdev's QoS thread; false when QoS does not apply to it. */
bool bdev_qos_route(struct plx_bdev_io *io);
void bdev_qos_write_config(struct plx_bdev *bdev, json_t *config);

/* bdev_histogram.c */
void bdev_histogram_record(struct bdev_histogram *h, enum plx_bdev_io_type type, uint64_t ticks);
struct bdev_histogram *bdev_histogram_clone_config(const struct bdev_histogram *h);
void bdev_histogram_free(struct bdev_histogram *h);

/* bdev_rpc.c */
json_t *bdev_info_json(struct plx_bdev *bdev);

/* bdev_stats.c */
void bdev_stat_record(struct plx_bdev_channel *bch, struct plx_bdev_io *io, uint64_t now);
void bdev_stat_add(struct bdev_io_stat *to, const struct bdev_io_stat *from);
void bdev_stat_init(struct bdev_io_stat *stat);

#endif
