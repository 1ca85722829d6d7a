/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pollux bdev modules: what a back end (module/bdev/<name>/) implements and may call.
 *
 * A module registers a struct plx_bdev_module (PLX_BDEV_MODULE_REGISTER), and for each device
 * a struct plx_bdev with an ops table. The bdev layer calls submit_request on the thread that
 * owns the channel, with a bdev_io whose driver_ctx holds get_ctx_size() bytes for the module;
 * the module completes it with plx_bdev_io_complete, on that same thread, now or later.
 * Completing inside submit_request is allowed: the bdev layer defers the user's callback so
 * that resubmitting from a callback cannot recurse without bound.
 *
 * Virtual bdevs (passthru, split, delay, error) open their base with plx_bdev_open_ext, claim
 * it with plx_bdev_module_claim_bdev, and attach automatically from examine_config /
 * examine_disk when a base bdev appears.
 */
#ifndef POLLUX_BDEV_MODULE_H
#define POLLUX_BDEV_MODULE_H

#include <jansson.h>
#include <sys/queue.h>

#include "pollux/bdev.h"

#ifdef __cplusplus
extern "C" {
#endif

enum plx_bdev_io_status {
	PLX_BDEV_IO_STATUS_ABORTED = -5,
	PLX_BDEV_IO_STATUS_MISCOMPARE = -4,
	PLX_BDEV_IO_STATUS_NOMEM = -3, /* the module is out of resources: the layer retries */
	PLX_BDEV_IO_STATUS_FAILED = -1,
	PLX_BDEV_IO_STATUS_PENDING = 0,
	PLX_BDEV_IO_STATUS_SUCCESS = 1,
};

struct plx_bdev_module {
	const char *name;
	/* Called once at bdev subsystem init; 0 or a negative errno. */
	int (*module_init)(void);
	/* Called at bdev subsystem fini, after every bdev was unregistered. */
	void (*module_fini)(void);
	/* Append the module's global options to config (before any bdev). */
	void (*config_json)(json_t *config);
	/* Bytes of per-I/O context (bdev_io->driver_ctx) the module needs. */
	int (*get_ctx_size)(void);
	/*
	 * A new bdev was registered. examine_config must decide synchronously from configuration
	 * alone and call plx_bdev_module_examine_done(); examine_disk may do I/O and must call it
	 * when finished. Either may be NULL.
	 */
	void (*examine_config)(struct plx_bdev *bdev);
	void (*examine_disk)(struct plx_bdev *bdev);
	/* internal */
	TAILQ_ENTRY(plx_bdev_module) link;
	uint32_t examine_in_progress;
};

void plx_bdev_module_list_add(struct plx_bdev_module *module);

#define PLX_BDEV_MODULE_REGISTER(_name, _module)                                                   \
	__attribute__((constructor)) static void plx_bdev_module_register_##_name(void)            \
	{                                                                                          \
		plx_bdev_module_list_add(_module);                                                 \
	}

/* A module's examine callback finished with bdev. */
void plx_bdev_module_examine_done(struct plx_bdev_module *module);

struct plx_bdev_fn_table {
	/* Free the device; 0 when done now, 1 when it will call plx_bdev_destruct_done later. */
	int (*destruct)(void *ctx);
	void (*submit_request)(struct plx_io_channel *ch, struct plx_bdev_io *bdev_io);
	bool (*io_type_supported)(void *ctx, enum plx_bdev_io_type type);
	/* The module's channel for this device on the current thread. */
	struct plx_io_channel *(*get_io_channel)(void *ctx);
	/* Add module-specific facts to the bdev's bdev_get_bdevs entry (driver_specific). */
	void (*dump_info_json)(void *ctx, json_t *driver_specific);
	/* Append the {"method", "params"} entry that recreates this bdev to config. */
	void (*write_config_json)(struct plx_bdev *bdev, json_t *config);
};

struct plx_bdev_internal;

struct plx_bdev {
	char *name;	    /* owned by the module until unregistered */
	char *product_name; /* e.g. "Malloc disk" */
	uint32_t blocklen;  /* 512 to 65536, a multiple of 512 */
	uint64_t blockcnt;
	bool write_cache;
	/* Split I/O at this boundary (blocks) when split_on_optimal_io_boundary is set. */
	uint32_t optimal_io_boundary;
	bool split_on_optimal_io_boundary;
	/* log2 of the required buffer alignment in bytes (0: byte-aligned). */
	uint8_t required_alignment;
	/* Per-I/O limits the layer splits to (0: none): bytes per segment, segments, blocks. */
	uint32_t max_segment_size;
	uint32_t max_num_segments;
	uint32_t max_rw_size;
	struct plx_uuid uuid; /* generated at registration when null */
	void *ctxt;
	const struct plx_bdev_fn_table *fn_table;
	struct plx_bdev_module *module;
	struct plx_bdev_internal *internal; /* the layer's, allocated at registration */
};

/*
 * Register bdev (from the app thread). -EINVAL for bad geometry (the log names the field),
 * -EEXIST for a taken name or UUID. Examination by every module starts right after.
 */
int plx_bdev_register(struct plx_bdev *bdev);

typedef void (*plx_bdev_unregister_cb)(void *cb_arg, int rc);

/*
 * Unregister: open descriptors get PLX_BDEV_EVENT_REMOVE; once all are closed the module's
 * destruct runs and cb(cb_arg, 0) follows on the calling thread.
 */
void plx_bdev_unregister(struct plx_bdev *bdev, plx_bdev_unregister_cb cb, void *cb_arg);

/* Unregister by name, checking the bdev belongs to module: -ENODEV otherwise. */
int plx_bdev_unregister_by_name(const char *name, struct plx_bdev_module *module,
				plx_bdev_unregister_cb cb, void *cb_arg);

/*
 * The unregister callback of every *_delete RPC method: cb_arg is the JSON-RPC request, answered
 * true, or with the error.
 */
void plx_bdev_rpc_delete_done(void *cb_arg, int rc);

/* A destruct that returned 1 finished. */
void plx_bdev_destruct_done(struct plx_bdev *bdev, int rc);

/* Claim bdev for module, exclusively for writing: -EPERM when claimed already. */
int plx_bdev_module_claim_bdev(struct plx_bdev *bdev, struct plx_bdev_desc *desc,
			       struct plx_bdev_module *module);
void plx_bdev_module_release_bdev(struct plx_bdev *bdev);

/* The device grew or shrank: update blockcnt and notify open descriptors. */
int plx_bdev_notify_blockcnt_change(struct plx_bdev *bdev, uint64_t blockcnt);

/* ---- the bdev_io, as modules see it ---- */

struct plx_bdev_channel;

/* The layer's bookkeeping; modules do not touch it. */
struct plx_bdev_io_internal {
	struct plx_bdev_channel *ch;
	struct plx_bdev_desc *desc;
	plx_bdev_io_completion_cb cb;
	void *caller_ctx;
	enum plx_bdev_io_status status;
	uint64_t submit_tsc;
	STAILQ_ENTRY(plx_bdev_io) link;	  /* free list, deferred completions, queues */
	TAILQ_ENTRY(plx_bdev_io) ch_link; /* outstanding on its channel */
	struct plx_bdev_io *parent;	  /* split children, bounce and compare-and-write */
	uint32_t children_outstanding;
	uint64_t split_offset_blocks; /* next block a split parent submits */
	uint64_t split_remaining_blocks;
	struct iovec *orig_iovs; /* caller's iovecs while bouncing */
	int orig_iovcnt;
	struct iovec bounce_iov;
	void *buf; /* buffer the layer supplied (iobuf) */
	uint64_t buf_len;
	bool in_submit; /* completion during submit is deferred */
	bool on_channel;
	bool retry_queued;
};

typedef void (*plx_bdev_io_get_buf_cb)(struct plx_io_channel *ch, struct plx_bdev_io *bdev_io,
				       bool success);

struct plx_bdev_io {
	struct plx_bdev *bdev;
	enum plx_bdev_io_type type;
	union {
		struct {
			struct iovec *iovs; /* data: read into / written from */
			int iovcnt;
			struct iovec *fused_iovs; /* compare-and-write: the write data */
			int fused_iovcnt;
			uint64_t offset_blocks;
			uint64_t num_blocks;
			struct iovec iov; /* storage for single-buffer requests */
			struct iovec fused_iov;
		} bdev;
		struct {
			void *bio_cb_arg; /* the cb_arg of the I/O to abort */
			struct plx_bdev_io *bio_to_abort;
		} abort;
	} u;
	struct plx_bdev_io_internal internal;
	/* The module's per-I/O context (get_ctx_size() bytes), cache-line aligned. */
	char driver_ctx[] __attribute__((aligned(64)));
};

/*
 * Complete bdev_io on its channel's thread. NOMEM asks the layer to resubmit it later (after
 * another I/O completes on the channel); every other status goes to the caller.
 */
void plx_bdev_io_complete(struct plx_bdev_io *bdev_io, enum plx_bdev_io_status status);

/* From driver context back to the bdev_io. */
static inline struct plx_bdev_io *plx_bdev_io_from_ctx(void *ctx)
{
	return (struct plx_bdev_io *)((char *)ctx - offsetof(struct plx_bdev_io, driver_ctx));
}

/*
 * A read submitted without a buffer: get one of len bytes (aligned for the bdev) into
 * iovs[0]; cb runs when it is there (now, or later when the pool had none).
 */
void plx_bdev_io_get_buf(struct plx_bdev_io *bdev_io, plx_bdev_io_get_buf_cb cb, uint64_t len);

/*
 * For virtual bdevs: submit the same request as bdev_io (type, buffers, length; the range moved
 * to start at offset_blocks) on a base descriptor and channel; cb(child, success, cb_arg) runs
 * when it completes. An ABORT is forwarded as an abort of u.abort.bio_to_abort, the child this
 * bdev submitted for the I/O being aborted. Returns 0, or what the submit functions return
 * (-ENOMEM: queue a wait entry and retry).
 */
int plx_bdev_io_forward(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
			struct plx_bdev_io *bdev_io, uint64_t offset_blocks,
			plx_bdev_io_completion_cb cb, void *cb_arg);

/* The channel a module's submit_request received, for the I/O's own thread. */
struct plx_io_channel *plx_bdev_io_get_io_channel(struct plx_bdev_io *bdev_io);

/* Status as the caller will see it (for virtual bdevs passing completions up). */
enum plx_bdev_io_status plx_bdev_io_get_status(const struct plx_bdev_io *bdev_io);

#ifdef __cplusplus
}
#endif
#endif
