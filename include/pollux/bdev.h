/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pollux bdev: the generic block device layer, as its users see it.
 *
 * Open a bdev by name to get a descriptor, get an io_channel for it on each thread that does
 * I/O, and submit I/O on that channel. Every submit function returns 0 when the I/O was
 * accepted (its callback will run, on the submitting thread, exactly once), -ENOMEM when no
 * bdev_io was available (queue a wait entry with plx_bdev_queue_io_wait and retry from its
 * callback), or -EINVAL / -EBADF for a bad request (no callback). The completion callback
 * must release the I/O with plx_bdev_free_io.
 *
 * Offsets and lengths are in blocks of plx_bdev_get_block_size() bytes. Buffers must be
 * aligned to plx_bdev_get_buf_align() bytes for zero-copy; misaligned buffers are bounced.
 */
#ifndef POLLUX_BDEV_H
#define POLLUX_BDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "pollux/thread.h"
#include "pollux/util.h"

#ifdef __cplusplus
extern "C" {
#endif

struct plx_bdev;
struct plx_bdev_desc;
struct plx_bdev_io;

enum plx_bdev_io_type {
	PLX_BDEV_IO_TYPE_INVALID = 0,
	PLX_BDEV_IO_TYPE_READ,
	PLX_BDEV_IO_TYPE_WRITE,
	PLX_BDEV_IO_TYPE_UNMAP,
	PLX_BDEV_IO_TYPE_FLUSH,
	PLX_BDEV_IO_TYPE_RESET,
	PLX_BDEV_IO_TYPE_WRITE_ZEROES,
	PLX_BDEV_IO_TYPE_COMPARE,
	PLX_BDEV_IO_TYPE_COMPARE_AND_WRITE,
	PLX_BDEV_IO_TYPE_ABORT,
	PLX_BDEV_NUM_IO_TYPES,
};

/* Name of an I/O type as RPCs spell it ("read", "write", "unmap", ...). */
const char *plx_bdev_io_type_name(enum plx_bdev_io_type type);

enum plx_bdev_event_type {
	PLX_BDEV_EVENT_REMOVE, /* the bdev is going away: close the descriptor */
	PLX_BDEV_EVENT_RESIZE, /* the number of blocks changed */
};

typedef void (*plx_bdev_event_cb)(enum plx_bdev_event_type type, struct plx_bdev *bdev,
				  void *event_ctx);

typedef void (*plx_bdev_io_completion_cb)(struct plx_bdev_io *bdev_io, bool success, void *cb_arg);

/* ---- lookup ---- */

/* The bdev with this name or alias, or NULL. From any plx_thread. */
struct plx_bdev *plx_bdev_get_by_name(const char *name);

/* Iterate registered bdevs in registration order: NULL for the first. App thread only. */
struct plx_bdev *plx_bdev_next(struct plx_bdev *prev);

const char *plx_bdev_get_name(const struct plx_bdev *bdev);
const char *plx_bdev_get_product_name(const struct plx_bdev *bdev);
const char *plx_bdev_get_module_name(const struct plx_bdev *bdev);
uint32_t plx_bdev_get_block_size(const struct plx_bdev *bdev);
uint64_t plx_bdev_get_num_blocks(const struct plx_bdev *bdev);
const struct plx_uuid *plx_bdev_get_uuid(const struct plx_bdev *bdev);
/* Optimal I/O boundary in blocks (0: none). */
uint32_t plx_bdev_get_optimal_io_boundary(const struct plx_bdev *bdev);
/* Required buffer alignment in bytes (1: none). */
size_t plx_bdev_get_buf_align(const struct plx_bdev *bdev);
bool plx_bdev_has_write_cache(const struct plx_bdev *bdev);
bool plx_bdev_io_type_supported(struct plx_bdev *bdev, enum plx_bdev_io_type type);
/* Whether the bdev is claimed by a module, and by which (NULL when not). */
const char *plx_bdev_get_claim_module_name(const struct plx_bdev *bdev);

/* Add or remove an alias; -EEXIST when the name is taken, -ENOENT when not an alias. */
int plx_bdev_alias_add(struct plx_bdev *bdev, const char *alias);
int plx_bdev_alias_del(struct plx_bdev *bdev, const char *alias);
/* Call cb for each alias of bdev. */
void plx_bdev_foreach_alias(const struct plx_bdev *bdev, void (*cb)(const char *alias, void *arg),
			    void *arg);

/* ---- open and close ---- */

/*
 * Open bdev name (or alias) on the current thread. event_cb is required and is called on this
 * thread on hot remove and resize. -ENODEV: no such bdev; -EPERM: write access to a bdev
 * claimed by a module; -ENOMEM.
 */
int plx_bdev_open_ext(const char *name, bool write, plx_bdev_event_cb event_cb, void *event_ctx,
		      struct plx_bdev_desc **desc);

/* Close from the thread that opened it. Channels got through it must be put first. */
void plx_bdev_close(struct plx_bdev_desc *desc);

struct plx_bdev *plx_bdev_desc_get_bdev(struct plx_bdev_desc *desc);

/* The current thread's channel for I/O through desc; put it with plx_put_io_channel. */
struct plx_io_channel *plx_bdev_get_io_channel(struct plx_bdev_desc *desc);

/* ---- I/O ---- */

int plx_bdev_read_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch, void *buf,
			 uint64_t offset_blocks, uint64_t num_blocks, plx_bdev_io_completion_cb cb,
			 void *cb_arg);
/* iov may have iov[0].iov_base == NULL (one element): the bdev layer supplies a buffer. */
int plx_bdev_readv_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch, struct iovec *iov,
			  int iovcnt, uint64_t offset_blocks, uint64_t num_blocks,
			  plx_bdev_io_completion_cb cb, void *cb_arg);
int plx_bdev_write_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch, void *buf,
			  uint64_t offset_blocks, uint64_t num_blocks, plx_bdev_io_completion_cb cb,
			  void *cb_arg);
int plx_bdev_writev_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch, struct iovec *iov,
			   int iovcnt, uint64_t offset_blocks, uint64_t num_blocks,
			   plx_bdev_io_completion_cb cb, void *cb_arg);
int plx_bdev_write_zeroes_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
				 uint64_t offset_blocks, uint64_t num_blocks,
				 plx_bdev_io_completion_cb cb, void *cb_arg);
int plx_bdev_unmap_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
			  uint64_t offset_blocks, uint64_t num_blocks, plx_bdev_io_completion_cb cb,
			  void *cb_arg);
int plx_bdev_flush_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
			  uint64_t offset_blocks, uint64_t num_blocks, plx_bdev_io_completion_cb cb,
			  void *cb_arg);
/* Compare the blocks with buf; the I/O fails with status MISCOMPARE when they differ. */
int plx_bdev_comparev_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
			     struct iovec *iov, int iovcnt, uint64_t offset_blocks,
			     uint64_t num_blocks, plx_bdev_io_completion_cb cb, void *cb_arg);
/*
 * Compare, and write only when equal, atomically with respect to every other write through
 * the bdev layer that overlaps the range (they wait while it runs).
 */
int plx_bdev_comparev_and_writev_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
					struct iovec *compare_iov, int compare_iovcnt,
					struct iovec *write_iov, int write_iovcnt,
					uint64_t offset_blocks, uint64_t num_blocks,
					plx_bdev_io_completion_cb cb, void *cb_arg);
/*
 * Reset the bdev: waits until I/O outstanding on every channel has completed, holding new
 * I/O until the reset is done, then has the module reset the device.
 */
int plx_bdev_reset(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
		   plx_bdev_io_completion_cb cb, void *cb_arg);
/* Abort the I/O on ch whose cb_arg is bio_cb_arg (submitted through this channel). */
int plx_bdev_abort(struct plx_bdev_desc *desc, struct plx_io_channel *ch, void *bio_cb_arg,
		   plx_bdev_io_completion_cb cb, void *cb_arg);

/* Release a completed I/O (from its completion callback or later, on the same thread). */
void plx_bdev_free_io(struct plx_bdev_io *bdev_io);

/* The data buffers of a read (valid until plx_bdev_free_io). */
void plx_bdev_io_get_iovec(struct plx_bdev_io *bdev_io, struct iovec **iovp, int *iovcntp);

enum plx_bdev_io_type plx_bdev_io_get_type(const struct plx_bdev_io *bdev_io);

/* ---- waiting for a bdev_io ---- */

typedef void (*plx_bdev_io_wait_cb)(void *cb_arg);

struct plx_bdev_io_wait_entry {
	struct plx_bdev *bdev;
	plx_bdev_io_wait_cb cb_fn;
	void *cb_arg;
	struct plx_bdev_io_wait_entry *next; /* internal */
};

/*
 * After a submit returned -ENOMEM: cb_fn(cb_arg) runs on this thread when a bdev_io is freed
 * on it. entry->bdev, cb_fn and cb_arg must be set; the entry must stay valid until then.
 */
int plx_bdev_queue_io_wait(struct plx_bdev *bdev, struct plx_io_channel *ch,
			   struct plx_bdev_io_wait_entry *entry);

/* ---- data buffers (the shared iobuf pools, sized by iobuf_set_options) ---- */

/*
 * A page-aligned buffer of at least len bytes from the small or large pool, from any
 * plx_thread; NULL when that pool is empty (try again later) or len exceeds the large
 * buffer size. Return it with plx_iobuf_put and the same len.
 */
void *plx_iobuf_get(uint64_t len);
void plx_iobuf_put(void *buf, uint64_t len);

/* Size in bytes of a large buffer (the most plx_iobuf_get can give). */
uint64_t plx_iobuf_get_large_size(void);

/* ---- examine ---- */

/* cb(cb_arg) runs on the current thread once every module has finished examining. */
int plx_bdev_wait_for_examine(void (*cb)(void *arg), void *cb_arg);

/* Have the modules examine bdev name (when auto-examine is off). */
int plx_bdev_examine(const char *name);

#ifdef __cplusplus
}
#endif
#endif
