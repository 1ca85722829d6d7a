/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Operations that span channels: reset (freeze every channel, wait for I/O in flight to
 * drain, reset the device, thaw), compare-and-write (lock an LBA range on every channel, wait
 * for overlapping writes to drain, compare, write, unlock), abort, and compare emulation.
 * All of it is slow path; state is allocated per operation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"

#define DRAIN_POLL_US 100

/* ---- walking every channel until none is busy ---- */

typedef bool (*ch_busy_fn)(struct plx_bdev_channel *bch, struct plx_bdev_io *io);
typedef void (*op_step_fn)(struct plx_bdev_io *io);

struct drain_ctx {
	struct plx_bdev_io *io;
	ch_busy_fn busy;
	op_step_fn done;
	struct plx_poller *poller;
	uint64_t deadline; /* ticks; 0: wait as long as it takes */
};

/*
 * A reset waits this long for I/O in flight, then goes to the module anyway: I/O a module
 * holds on purpose (the error bdev's "pending") only ends when the module sees the reset.
 */
#define RESET_DRAIN_TIMEOUT_SEC 5

static void drain_check(struct drain_ctx *d);

static void drain_ch(struct plx_io_channel_iter *i)
{
	struct drain_ctx *d = plx_io_channel_iter_get_ctx(i);
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));

	plx_for_each_channel_continue(i, d->busy(bch, d->io) ? -EAGAIN : 0);
}

static int drain_poll(void *arg)
{
	struct drain_ctx *d = arg;

	plx_poller_unregister(&d->poller);
	drain_check(d);
	return PLX_POLLER_BUSY;
}

static void drain_walk_done(struct plx_io_channel_iter *i, int status)
{
	struct drain_ctx *d = plx_io_channel_iter_get_ctx(i);

	if (status == -EAGAIN && d->deadline != 0 &&
	    plx_thread_get_last_tsc(plx_get_thread()) >= d->deadline) {
		PLX_WARNLOG("bdev %s: I/O still in flight after %d s; resetting anyway\n",
			    d->io->bdev->name, RESET_DRAIN_TIMEOUT_SEC);
	} else if (status == -EAGAIN) {
		d->poller = plx_poller_register_named(drain_poll, d, DRAIN_POLL_US, "bdev_drain");
		if (d->poller != NULL) {
			return;
		}
	}
	d->done(d->io);
	free(d);
}

static void drain_check(struct drain_ctx *d)
{
	plx_for_each_channel(d->io->bdev->internal, drain_ch, d, drain_walk_done);
}

/*
 * Call done(io) on this thread once no channel of io's bdev is busy(channel, io), or once
 * timeout_sec have passed (0: no limit).
 */
static void drain_wait(struct plx_bdev_io *io, ch_busy_fn busy, op_step_fn done,
		       unsigned int timeout_sec)
{
	struct drain_ctx *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		done(io);
		return;
	}
	*d = (struct drain_ctx){.io = io, .busy = busy, .done = done};
	if (timeout_sec != 0) {
		d->deadline =
		    plx_thread_get_last_tsc(plx_get_thread()) + timeout_sec * plx_get_ticks_hz();
	}
	drain_check(d);
}

/* ---- reset ---- */

static void reset_next(struct plx_bdev_internal *in);

static void thaw_ch(struct plx_io_channel_iter *i)
{
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));

	bch->flags &= ~BDEV_CH_RESET_IN_PROGRESS;
	bdev_ch_resubmit_held(bch);
	plx_for_each_channel_continue(i, 0);
}

static void thaw_done(struct plx_io_channel_iter *i, int status)
{
	struct plx_bdev_io *io = plx_io_channel_iter_get_ctx(i);
	struct plx_bdev_internal *in = io->bdev->internal;

	bdev_io_complete_to_caller(io);
	reset_next(in);
}

static void reset_module_done(struct plx_bdev_io *child, bool success, void *cb_arg)
{
	struct plx_bdev_io *io = cb_arg;

	io->internal.status = success ? PLX_BDEV_IO_STATUS_SUCCESS : plx_bdev_io_get_status(child);
	plx_bdev_free_io(child);
	plx_for_each_channel(io->bdev->internal, thaw_ch, io, thaw_done);
}

static bool ch_has_io(struct plx_bdev_channel *bch, struct plx_bdev_io *io)
{
	return bch->io_outstanding > 0;
}

static void reset_drained(struct plx_bdev_io *io)
{
	struct plx_bdev *bdev = io->bdev;
	struct plx_bdev_io *child;

	if (!bdev->fn_table->io_type_supported(bdev->ctxt, PLX_BDEV_IO_TYPE_RESET)) {
		io->internal.status = PLX_BDEV_IO_STATUS_SUCCESS;
		plx_for_each_channel(bdev->internal, thaw_ch, io, thaw_done);
		return;
	}
	child = bdev_io_get(io->internal.ch);
	if (child == NULL) {
		/* The device was not reset: say so rather than claim success. */
		PLX_ERRLOG("bdev %s: no bdev_io for the module's reset\n", bdev->name);
		io->internal.status = PLX_BDEV_IO_STATUS_FAILED;
		plx_for_each_channel(bdev->internal, thaw_ch, io, thaw_done);
		return;
	}
	bdev_io_init(child, io->internal.desc, io->internal.ch, PLX_BDEV_IO_TYPE_RESET,
		     reset_module_done, io);
	child->internal.parent = io;
	child->u.bdev.iovs = NULL;
	child->u.bdev.iovcnt = 0;
	bdev_io_submit_to_module(child);
}

static void freeze_ch(struct plx_io_channel_iter *i)
{
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));

	bch->flags |= BDEV_CH_RESET_IN_PROGRESS;
	plx_for_each_channel_continue(i, 0);
}

static void freeze_done(struct plx_io_channel_iter *i, int status)
{
	drain_wait(plx_io_channel_iter_get_ctx(i), ch_has_io, reset_drained,
		   RESET_DRAIN_TIMEOUT_SEC);
}

static void reset_begin(void *arg)
{
	struct plx_bdev_io *io = arg;

	plx_for_each_channel(io->bdev->internal, freeze_ch, io, freeze_done);
}

/* One reset at a time per bdev; the next starts on its own thread. */
static void reset_next(struct plx_bdev_internal *in)
{
	struct plx_bdev_io *next;

	pthread_mutex_lock(&in->mutex);
	next = STAILQ_FIRST(&in->pending_resets);
	if (next != NULL) {
		STAILQ_REMOVE_HEAD(&in->pending_resets, internal.link);
	}
	in->reset_in_progress = next;
	pthread_mutex_unlock(&in->mutex);
	if (next != NULL) {
		plx_thread_send_msg(next->internal.ch->mgmt->thread, reset_begin, next);
	}
}

void bdev_reset_start(struct plx_bdev_io *io)
{
	struct plx_bdev_internal *in = io->bdev->internal;
	bool busy;

	pthread_mutex_lock(&in->mutex);
	busy = in->reset_in_progress != NULL;
	if (busy) {
		STAILQ_INSERT_TAIL(&in->pending_resets, io, internal.link);
	} else {
		in->reset_in_progress = io;
	}
	pthread_mutex_unlock(&in->mutex);
	if (!busy) {
		reset_begin(io);
	}
}

/* ---- abort ---- */

static struct plx_bdev_io *take_queued(struct plx_bdev_channel *bch, void *cb_arg)
{
	struct plx_bdev_io *io;

	STAILQ_FOREACH(io, &bch->nomem_io, internal.link)
	{
		if (io->internal.caller_ctx == cb_arg) {
			STAILQ_REMOVE(&bch->nomem_io, io, plx_bdev_io, internal.link);
			return io;
		}
	}
	STAILQ_FOREACH(io, &bch->held_io, internal.link)
	{
		if (io->internal.caller_ctx == cb_arg) {
			STAILQ_REMOVE(&bch->held_io, io, plx_bdev_io, internal.link);
			return io;
		}
	}
	return NULL;
}

static void abort_child_done(struct plx_bdev_io *child, bool success, void *cb_arg)
{
	struct plx_bdev_io *io = cb_arg;

	io->internal.status = success ? PLX_BDEV_IO_STATUS_SUCCESS : PLX_BDEV_IO_STATUS_FAILED;
	plx_bdev_free_io(child);
	bdev_io_complete_to_caller(io);
}

void bdev_abort_start(struct plx_bdev_io *io)
{
	struct plx_bdev_channel *bch = io->internal.ch;
	struct plx_bdev *bdev = io->bdev;
	struct plx_bdev_io *target, *child;

	/* Still queued in the layer: it never reached the module, so it just ends. */
	target = take_queued(bch, io->u.abort.bio_cb_arg);
	if (target != NULL) {
		target->internal.status = PLX_BDEV_IO_STATUS_ABORTED;
		bdev_io_complete_to_caller(target);
		io->internal.status = PLX_BDEV_IO_STATUS_SUCCESS;
		bdev_io_complete_to_caller(io);
		return;
	}
	TAILQ_FOREACH(target, &bch->io_submitted, internal.ch_link)
	{
		if (target->internal.caller_ctx == io->u.abort.bio_cb_arg &&
		    target->type != PLX_BDEV_IO_TYPE_ABORT) {
			break;
		}
	}
	if (target == NULL ||
	    !bdev->fn_table->io_type_supported(bdev->ctxt, PLX_BDEV_IO_TYPE_ABORT) ||
	    (child = bdev_io_get(bch)) == NULL) {
		io->internal.status = PLX_BDEV_IO_STATUS_FAILED;
		bdev_io_complete_to_caller(io);
		return;
	}
	bdev_io_init(child, io->internal.desc, bch, PLX_BDEV_IO_TYPE_ABORT, abort_child_done, io);
	child->internal.parent = io;
	child->u.abort.bio_cb_arg = io->u.abort.bio_cb_arg;
	child->u.abort.bio_to_abort = target;
	bdev_io_submit_to_module(child);
}

/* ---- compare, by reading and comparing when the module cannot ---- */

static bool iov_equal(const struct iovec *iovs, int iovcnt, const char *buf, size_t len)
{
	for (int i = 0; i < iovcnt && len > 0; i++) {
		size_t n = PLX_MIN(len, iovs[i].iov_len);

		if (memcmp(iovs[i].iov_base, buf, n) != 0) {
			return false;
		}
		buf += n;
		len -= n;
	}
	return true;
}

typedef void (*compare_done_fn)(struct plx_bdev_io *io, enum plx_bdev_io_status status);

struct compare_ctx {
	struct plx_bdev_io *io;
	compare_done_fn done;
	void *buf;
};

static void compare_read_done(struct plx_bdev_io *child, bool success, void *cb_arg)
{
	struct compare_ctx *c = cb_arg;
	struct plx_bdev_io *io = c->io;
	enum plx_bdev_io_status status = plx_bdev_io_get_status(child);

	if (success) {
		status = iov_equal(io->u.bdev.iovs, io->u.bdev.iovcnt, c->buf,
				   io->u.bdev.num_blocks * io->bdev->blocklen)
			     ? PLX_BDEV_IO_STATUS_SUCCESS
			     : PLX_BDEV_IO_STATUS_MISCOMPARE;
	}
	plx_bdev_free_io(child);
	plx_dma_free(c->buf);
	c->done(io, status);
	free(c);
}

/* Read io's range and compare it with io's iovs; done(io, status) follows. */
static void compare_by_read(struct plx_bdev_io *io, compare_done_fn done)
{
	size_t len = io->u.bdev.num_blocks * io->bdev->blocklen;
	struct compare_ctx *c = calloc(1, sizeof(*c));
	struct plx_bdev_io *child = bdev_io_get(io->internal.ch);

	if (c != NULL) {
		c->buf = plx_dma_malloc(len, plx_bdev_get_buf_align(io->bdev));
	}
	if (c == NULL || c->buf == NULL || child == NULL) {
		if (child != NULL) {
			plx_bdev_free_io(child);
		}
		if (c != NULL) {
			plx_dma_free(c->buf);
		}
		free(c);
		done(io, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
	c->io = io;
	c->done = done;
	bdev_io_init(child, io->internal.desc, io->internal.ch, PLX_BDEV_IO_TYPE_READ,
		     compare_read_done, c);
	child->internal.parent = io;
	child->u.bdev.iov.iov_base = c->buf;
	child->u.bdev.iov.iov_len = len;
	child->u.bdev.iovs = &child->u.bdev.iov;
	child->u.bdev.iovcnt = 1;
	child->u.bdev.offset_blocks = io->u.bdev.offset_blocks;
	child->u.bdev.num_blocks = io->u.bdev.num_blocks;
	/* Through the slow path's split, like any read: the module's limits apply. */
	bdev_io_submit(child);
}

static void compare_emulated_done(struct plx_bdev_io *io, enum plx_bdev_io_status status)
{
	io->internal.status = status;
	bdev_io_complete_to_caller(io);
}

void bdev_compare_emulate(struct plx_bdev_io *io)
{
	compare_by_read(io, compare_emulated_done);
}

/* ---- compare-and-write under an LBA range lock ---- */

static bool overlaps(uint64_t a_off, uint64_t a_len, uint64_t b_off, uint64_t b_len)
{
	return a_off < b_off + b_len && b_off < a_off + a_len;
}

bool bdev_io_range_locked(struct plx_bdev_channel *bch, struct plx_bdev_io *io)
{
	struct bdev_lba_range *r;

	TAILQ_FOREACH(r, &bch->locked_ranges, link)
	{
		if (io->internal.parent != r->owner && io != r->owner &&
		    overlaps(r->offset, r->length, io->u.bdev.offset_blocks,
			     io->u.bdev.num_blocks)) {
			return true;
		}
	}
	return false;
}

static void lock_ch(struct plx_io_channel_iter *i)
{
	struct plx_bdev_io *io = plx_io_channel_iter_get_ctx(i);
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));
	struct bdev_lba_range *r;

	/* A channel created after caw_begin recorded the range copied it already. */
	TAILQ_FOREACH(r, &bch->locked_ranges, link)
	{
		if (r->owner == io) {
			plx_for_each_channel_continue(i, 0);
			return;
		}
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		plx_for_each_channel_continue(i, -ENOMEM);
		return;
	}
	*r = (struct bdev_lba_range){
	    .offset = io->u.bdev.offset_blocks, .length = io->u.bdev.num_blocks, .owner = io};
	TAILQ_INSERT_TAIL(&bch->locked_ranges, r, link);
	bch->flags |= BDEV_CH_LOCKED_RANGES;
	plx_for_each_channel_continue(i, 0);
}

static void unlock_ch(struct plx_io_channel_iter *i)
{
	struct plx_bdev_io *io = plx_io_channel_iter_get_ctx(i);
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));
	struct bdev_lba_range *r;

	TAILQ_FOREACH(r, &bch->locked_ranges, link)
	{
		if (r->owner == io) {
			TAILQ_REMOVE(&bch->locked_ranges, r, link);
			free(r);
			break;
		}
	}
	if (TAILQ_EMPTY(&bch->locked_ranges)) {
		bch->flags &= ~BDEV_CH_LOCKED_RANGES;
	}
	bdev_ch_resubmit_held(bch);
	plx_for_each_channel_continue(i, 0);
}

static void caw_next(struct plx_bdev_internal *in);

static void unlock_done(struct plx_io_channel_iter *i, int status)
{
	struct plx_bdev_io *io = plx_io_channel_iter_get_ctx(i);
	struct plx_bdev_internal *in = io->bdev->internal;

	bdev_io_complete_to_caller(io);
	caw_next(in);
}

static void caw_finish(struct plx_bdev_io *io, enum plx_bdev_io_status status)
{
	struct plx_bdev_internal *in = io->bdev->internal;
	struct bdev_lba_range *r;

	io->internal.status = status;
	/* Off the bdev first, so a channel created during the walk does not copy it. */
	pthread_mutex_lock(&in->mutex);
	TAILQ_FOREACH(r, &in->locked_ranges, link)
	{
		if (r->owner == io) {
			TAILQ_REMOVE(&in->locked_ranges, r, link);
			free(r);
			break;
		}
	}
	pthread_mutex_unlock(&in->mutex);
	plx_for_each_channel(in, unlock_ch, io, unlock_done);
}

static void caw_write_done(struct plx_bdev_io *child, bool success, void *cb_arg)
{
	enum plx_bdev_io_status status = plx_bdev_io_get_status(child);

	plx_bdev_free_io(child);
	caw_finish(cb_arg, success ? PLX_BDEV_IO_STATUS_SUCCESS : status);
}

static void caw_compared(struct plx_bdev_io *io, enum plx_bdev_io_status status)
{
	struct plx_bdev_io *child;

	if (status != PLX_BDEV_IO_STATUS_SUCCESS) {
		caw_finish(io, status);
		return;
	}
	child = bdev_io_get(io->internal.ch);
	if (child == NULL) {
		caw_finish(io, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
	bdev_io_init(child, io->internal.desc, io->internal.ch, PLX_BDEV_IO_TYPE_WRITE,
		     caw_write_done, io);
	child->internal.parent = io;
	child->u.bdev.iovs = io->u.bdev.fused_iovs;
	child->u.bdev.iovcnt = io->u.bdev.fused_iovcnt;
	child->u.bdev.fused_iovs = NULL;
	child->u.bdev.fused_iovcnt = 0;
	child->u.bdev.offset_blocks = io->u.bdev.offset_blocks;
	child->u.bdev.num_blocks = io->u.bdev.num_blocks;
	bdev_io_submit(child);
}

/* A channel is busy while a write overlapping the range is still at the module. */
static bool ch_has_overlapping_write(struct plx_bdev_channel *bch, struct plx_bdev_io *io)
{
	struct plx_bdev_io *o;

	TAILQ_FOREACH(o, &bch->io_submitted, internal.ch_link)
	{
		if ((o->type == PLX_BDEV_IO_TYPE_WRITE ||
		     o->type == PLX_BDEV_IO_TYPE_WRITE_ZEROES ||
		     o->type == PLX_BDEV_IO_TYPE_UNMAP) &&
		    o->internal.parent != io &&
		    overlaps(o->u.bdev.offset_blocks, o->u.bdev.num_blocks,
			     io->u.bdev.offset_blocks, io->u.bdev.num_blocks)) {
			return true;
		}
	}
	return false;
}

static void caw_locked(struct plx_bdev_io *io)
{
	compare_by_read(io, caw_compared);
}

static void lock_done(struct plx_io_channel_iter *i, int status)
{
	struct plx_bdev_io *io = plx_io_channel_iter_get_ctx(i);

	if (status != 0) {
		caw_finish(io, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
	drain_wait(io, ch_has_overlapping_write, caw_locked, 0);
}

static void caw_begin(void *arg)
{
	struct plx_bdev_io *io = arg;
	struct plx_bdev_internal *in = io->bdev->internal;
	struct bdev_lba_range *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		io->internal.status = PLX_BDEV_IO_STATUS_FAILED;
		bdev_io_complete_to_caller(io);
		caw_next(in);
		return;
	}
	/* Recorded on the bdev too, so channels created meanwhile start locked. */
	*r = (struct bdev_lba_range){
	    .offset = io->u.bdev.offset_blocks, .length = io->u.bdev.num_blocks, .owner = io};
	pthread_mutex_lock(&in->mutex);
	TAILQ_INSERT_TAIL(&in->locked_ranges, r, link);
	pthread_mutex_unlock(&in->mutex);
	plx_for_each_channel(in, lock_ch, io, lock_done);
}

static void caw_next(struct plx_bdev_internal *in)
{
	struct plx_bdev_io *next;

	pthread_mutex_lock(&in->mutex);
	next = STAILQ_FIRST(&in->pending_caws);
	if (next != NULL) {
		STAILQ_REMOVE_HEAD(&in->pending_caws, internal.link);
	}
	in->caw_in_progress = next;
	pthread_mutex_unlock(&in->mutex);
	if (next != NULL) {
		plx_thread_send_msg(next->internal.ch->mgmt->thread, caw_begin, next);
	}
}

void bdev_caw_start(struct plx_bdev_io *io)
{
	struct plx_bdev_internal *in = io->bdev->internal;
	bool busy;

	pthread_mutex_lock(&in->mutex);
	busy = in->caw_in_progress != NULL;
	if (busy) {
		STAILQ_INSERT_TAIL(&in->pending_caws, io, internal.link);
	} else {
		in->caw_in_progress = io;
	}
	pthread_mutex_unlock(&in->mutex);
	if (!busy) {
		caw_begin(io);
	}
}
