/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Splitting and bouncing: the slow path for I/O the module cannot take as it is.
 *
 * A split parent hands out children in rounds: each round carves up to BDEV_SPLIT_IOVS
 * iovecs out of the parent's buffers, at most one child per boundary-, size- and
 * segment-limited piece, and submits them; when the round's children are done the next round
 * starts. The iovec storage of a round lives in the parent (no allocation). A bounce copies a
 * misaligned buffer into an aligned one from the buffer pool.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"

/* The parent's carving state and iovec storage, kept in its (unused) fused fields' place. */
struct split_state {
	int iov_idx;	    /* next parent iovec to carve from */
	size_t iov_off;	    /* bytes of it already handed out */
	int round_used;	    /* child iovecs used this round */
	int round_children; /* children submitted this round */
	struct plx_bdev_io_wait_entry wait;
	struct iovec iovs[BDEV_SPLIT_IOVS];
};

static bool is_data_io(const struct plx_bdev_io *io)
{
	return io->type == PLX_BDEV_IO_TYPE_READ || io->type == PLX_BDEV_IO_TYPE_WRITE;
}

/* Blocks a child starting at offset may cover, by boundary and size limits alone. */
static uint64_t child_max_blocks(const struct plx_bdev *bdev, uint64_t offset, uint64_t remaining)
{
	uint64_t n = remaining;

	if (bdev->split_on_optimal_io_boundary && bdev->optimal_io_boundary != 0) {
		n = PLX_MIN(n, bdev->optimal_io_boundary - offset % bdev->optimal_io_boundary);
	}
	if (bdev->max_rw_size != 0) {
		n = PLX_MIN(n, (uint64_t)bdev->max_rw_size);
	}
	return n;
}

bool bdev_io_should_split(struct plx_bdev_io *io)
{
	const struct plx_bdev *bdev = io->bdev;

	if (!is_data_io(io) && io->type != PLX_BDEV_IO_TYPE_WRITE_ZEROES &&
	    io->type != PLX_BDEV_IO_TYPE_UNMAP) {
		return false;
	}
	if (child_max_blocks(bdev, io->u.bdev.offset_blocks, io->u.bdev.num_blocks) <
	    io->u.bdev.num_blocks) {
		return true;
	}
	if (!is_data_io(io)) {
		return false;
	}
	if (bdev->max_num_segments != 0 && (uint32_t)io->u.bdev.iovcnt > bdev->max_num_segments) {
		return true;
	}
	if (bdev->max_segment_size != 0) {
		for (int i = 0; i < io->u.bdev.iovcnt; i++) {
			if (io->u.bdev.iovs[i].iov_len > bdev->max_segment_size) {
				return true;
			}
		}
	}
	return false;
}

static void split_round(struct plx_bdev_io *parent);

static void split_retry(void *arg)
{
	split_round(arg);
}

static void split_child_done(struct plx_bdev_io *child, bool success, void *cb_arg)
{
	struct plx_bdev_io *parent = cb_arg;
	struct split_state *st = (struct split_state *)parent->internal.orig_iovs;

	if (child == NULL) {
		/* The round's own hold (see split_round). */
	} else if (!success && parent->internal.status != PLX_BDEV_IO_STATUS_FAILED) {
		parent->internal.status = plx_bdev_io_get_status(child);
		if (parent->internal.status == PLX_BDEV_IO_STATUS_SUCCESS ||
		    parent->internal.status == PLX_BDEV_IO_STATUS_PENDING) {
			parent->internal.status = PLX_BDEV_IO_STATUS_FAILED;
		}
	}
	if (child != NULL) {
		plx_bdev_free_io(child);
	}
	if (--parent->internal.children_outstanding > 0) {
		return;
	}
	if (parent->internal.split_remaining_blocks > 0 &&
	    parent->internal.status == PLX_BDEV_IO_STATUS_PENDING) {
		if (st->round_children > 0) {
			split_round(parent);
			return;
		}
		/* Not one child could be had: wait for a bdev_io to be freed. */
		st->wait = (struct plx_bdev_io_wait_entry){
		    .bdev = parent->bdev, .cb_fn = split_retry, .cb_arg = parent};
		plx_bdev_queue_io_wait(parent->bdev, plx_io_channel_from_ctx(parent->internal.ch),
				       &st->wait);
		return;
	}
	free(parent->internal.orig_iovs);
	parent->internal.orig_iovs = NULL;
	if (parent->internal.status == PLX_BDEV_IO_STATUS_PENDING) {
		parent->internal.status = PLX_BDEV_IO_STATUS_SUCCESS;
	}
	bdev_io_complete_to_caller(parent);
}

/*
 * Carve child iovecs for up to max_bytes from the parent, honouring segment limits and the
 * round's iovec budget; returns the bytes carved (a whole number of blocks).
 */
static uint64_t carve_iovs(struct plx_bdev_io *parent, struct split_state *st, uint64_t max_bytes,
			   struct iovec **child_iovs, int *child_iovcnt)
{
	const struct plx_bdev *bdev = parent->bdev;
	uint32_t max_segs = bdev->max_num_segments ? bdev->max_num_segments : BDEV_SPLIT_IOVS;
	uint64_t carved = 0, blocklen = bdev->blocklen, rem;
	int first = st->round_used, n = 0, idx = st->iov_idx;
	size_t off = st->iov_off;

	while (carved < max_bytes && idx < parent->u.bdev.iovcnt && first + n < BDEV_SPLIT_IOVS &&
	       (uint32_t)n < max_segs) {
		struct iovec *src = &parent->u.bdev.iovs[idx];
		uint64_t len = PLX_MIN((uint64_t)(src->iov_len - off), max_bytes - carved);

		if (bdev->max_segment_size != 0) {
			len = PLX_MIN(len, (uint64_t)bdev->max_segment_size);
		}
		st->iovs[first + n].iov_base = (char *)src->iov_base + off;
		st->iovs[first + n].iov_len = len;
		n++;
		carved += len;
		off += len;
		if (off == src->iov_len) {
			idx++;
			off = 0;
		}
	}
	/* A child must end on a block boundary: give back a partial block. */
	rem = carved % blocklen;
	while (rem > 0 && n > 0) {
		struct iovec *last = &st->iovs[first + n - 1];
		uint64_t take = PLX_MIN(rem, (uint64_t)last->iov_len);

		last->iov_len -= take;
		rem -= take;
		carved -= take;
		if (off >= take) {
			off -= take;
		} else {
			idx--;
			off = parent->u.bdev.iovs[idx].iov_len - (take - off);
		}
		if (last->iov_len == 0) {
			n--;
		}
	}
	st->iov_idx = idx;
	st->iov_off = off;
	st->round_used += n;
	*child_iovs = &st->iovs[first];
	*child_iovcnt = n;
	return carved;
}

static void split_round(struct plx_bdev_io *parent)
{
	struct split_state *st = (struct split_state *)parent->internal.orig_iovs;
	struct plx_bdev_channel *bch = parent->internal.ch;
	const struct plx_bdev *bdev = parent->bdev;

	st->round_used = 0;
	st->round_children = 0;
	parent->internal.children_outstanding = 1; /* held until the round is out */
	while (parent->internal.split_remaining_blocks > 0 && st->round_used < BDEV_SPLIT_IOVS) {
		uint64_t offset = parent->internal.split_offset_blocks;
		uint64_t blocks =
		    child_max_blocks(bdev, offset, parent->internal.split_remaining_blocks);
		struct plx_bdev_io *child = bdev_io_get(bch);
		struct iovec *iovs = NULL;
		int iovcnt = 0;

		if (child == NULL) {
			/* Out of bdev_ios: finish with what is out; retry the rest then. */
			break;
		}
		/* Initialised first: a child given back below is freed through its channel. */
		bdev_io_init(child, parent->internal.desc, bch, parent->type, split_child_done,
			     parent);
		if (is_data_io(parent)) {
			uint64_t bytes =
			    carve_iovs(parent, st, blocks * bdev->blocklen, &iovs, &iovcnt);

			blocks = bytes / bdev->blocklen;
			if (blocks == 0) {
				plx_bdev_free_io(child);
				if (st->round_used == 0) {
					PLX_ERRLOG("bdev %s: iovecs cannot be split on blocks\n",
						   bdev->name);
					parent->internal.status = PLX_BDEV_IO_STATUS_FAILED;
					parent->internal.split_remaining_blocks = 0;
				}
				break;
			}
		}
		child->internal.parent = parent;
		child->u.bdev.iovs = iovs;
		child->u.bdev.iovcnt = iovcnt;
		child->u.bdev.fused_iovs = NULL;
		child->u.bdev.fused_iovcnt = 0;
		child->u.bdev.offset_blocks = offset;
		child->u.bdev.num_blocks = blocks;
		parent->internal.split_offset_blocks += blocks;
		parent->internal.split_remaining_blocks -= blocks;
		parent->internal.children_outstanding++;
		st->round_children++;
		child->internal.submit_tsc = parent->internal.submit_tsc;
		if ((bch->flags & BDEV_CH_BOUNCE_CHECK) && bdev_io_needs_bounce(child)) {
			bdev_io_bounce(child);
		} else {
			bdev_io_submit_to_module(child);
		}
	}
	/* Drop the round's own hold; completes the parent when every child already finished. */
	split_child_done(NULL, true, parent);
}

static void split_got_buf(struct plx_io_channel *ch, struct plx_bdev_io *io, bool success)
{
	if (!success) {
		io->internal.status = PLX_BDEV_IO_STATUS_FAILED;
		bdev_io_complete_to_caller(io);
		return;
	}
	bdev_io_split(io);
}

void bdev_io_split(struct plx_bdev_io *io)
{
	struct split_state *st;

	/* A read without a buffer: children need real addresses to carve, so get it first. */
	if (io->type == PLX_BDEV_IO_TYPE_READ && io->u.bdev.iovs[0].iov_base == NULL) {
		plx_bdev_io_get_buf(io, split_got_buf, io->u.bdev.num_blocks * io->bdev->blocklen);
		return;
	}
	st = calloc(1, sizeof(*st));

	if (st == NULL) {
		io->internal.status = PLX_BDEV_IO_STATUS_FAILED;
		bdev_io_complete_to_caller(io);
		return;
	}
	/* orig_iovs is free in a split parent: it carries the carving state. */
	io->internal.orig_iovs = (struct iovec *)st;
	io->internal.split_offset_blocks = io->u.bdev.offset_blocks;
	io->internal.split_remaining_blocks = io->u.bdev.num_blocks;
	split_round(io);
}

/* ---- bounce buffers ---- */

bool bdev_io_needs_bounce(struct plx_bdev_io *io)
{
	uintptr_t mask = ((uintptr_t)1 << io->bdev->required_alignment) - 1;

	/* A read without a buffer gets an aligned one from the pool, never a bounce. */
	if (!is_data_io(io) || io->u.bdev.iovs[0].iov_base == NULL) {
		return false;
	}
	for (int i = 0; i < io->u.bdev.iovcnt; i++) {
		if (((uintptr_t)io->u.bdev.iovs[i].iov_base & mask) != 0 ||
		    (io->u.bdev.iovs[i].iov_len & mask) != 0) {
			return true;
		}
	}
	return false;
}

static void iov_copy_out(const struct iovec *iovs, int iovcnt, char *dst, size_t len)
{
	for (int i = 0; i < iovcnt && len > 0; i++) {
		size_t n = PLX_MIN(len, iovs[i].iov_len);

		memcpy(dst, iovs[i].iov_base, n);
		dst += n;
		len -= n;
	}
}

static void iov_copy_in(const struct iovec *iovs, int iovcnt, const char *src, size_t len)
{
	for (int i = 0; i < iovcnt && len > 0; i++) {
		size_t n = PLX_MIN(len, iovs[i].iov_len);

		memcpy(iovs[i].iov_base, src, n);
		src += n;
		len -= n;
	}
}

static void bounce_done(struct plx_bdev_io *child, bool success, void *cb_arg)
{
	struct plx_bdev_io *io = cb_arg;
	size_t len = io->u.bdev.num_blocks * io->bdev->blocklen;

	if (success && io->type == PLX_BDEV_IO_TYPE_READ) {
		iov_copy_in(io->u.bdev.iovs, io->u.bdev.iovcnt, child->internal.bounce_iov.iov_base,
			    len);
	}
	io->internal.status = success ? PLX_BDEV_IO_STATUS_SUCCESS : plx_bdev_io_get_status(child);
	plx_dma_free(child->internal.bounce_iov.iov_base);
	plx_bdev_free_io(child);
	bdev_io_complete_to_caller(io);
}

void bdev_io_bounce(struct plx_bdev_io *io)
{
	size_t len = io->u.bdev.num_blocks * io->bdev->blocklen;
	struct plx_bdev_io *child = bdev_io_get(io->internal.ch);
	void *buf = plx_dma_malloc(len, plx_bdev_get_buf_align(io->bdev));

	if (child == NULL || buf == NULL) {
		if (child != NULL) {
			plx_bdev_free_io(child);
		}
		plx_dma_free(buf);
		io->internal.status = PLX_BDEV_IO_STATUS_FAILED;
		bdev_io_complete_to_caller(io);
		return;
	}
	if (io->type == PLX_BDEV_IO_TYPE_WRITE) {
		iov_copy_out(io->u.bdev.iovs, io->u.bdev.iovcnt, buf, len);
	}
	bdev_io_init(child, io->internal.desc, io->internal.ch, io->type, bounce_done, io);
	child->internal.parent = io;
	child->internal.bounce_iov.iov_base = buf;
	child->internal.bounce_iov.iov_len = len;
	child->u.bdev.iov = child->internal.bounce_iov;
	child->u.bdev.iovs = &child->u.bdev.iov;
	child->u.bdev.iovcnt = 1;
	child->u.bdev.fused_iovs = NULL;
	child->u.bdev.fused_iovcnt = 0;
	child->u.bdev.offset_blocks = io->u.bdev.offset_blocks;
	child->u.bdev.num_blocks = io->u.bdev.num_blocks;
	child->internal.submit_tsc = io->internal.submit_tsc;
	bdev_io_submit_to_module(child);
}
