/* SPDX-License-Identifier: BSD-3-Clause */
/* The submit functions of bdev.h: validate, take a bdev_io, fill it in, submit. */
#include <errno.h>

#include "bdev_internal.h"

static inline bool range_ok(const struct plx_bdev *bdev, uint64_t offset, uint64_t num)
{
	return num != 0 && offset < bdev->blockcnt && num <= bdev->blockcnt - offset;
}

/* Common checks and allocation; NULL with *rc set when the request cannot start. */
static inline struct plx_bdev_io *rw_start(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
					   enum plx_bdev_io_type type, bool write, uint64_t offset,
					   uint64_t num, plx_bdev_io_completion_cb cb, void *cb_arg,
					   int *rc)
{
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(ch);
	struct plx_bdev_io *io;

	if (plx_unlikely(write && !desc->write)) {
		*rc = -EBADF;
		return NULL;
	}
	if (plx_unlikely(!range_ok(bch->bdev, offset, num))) {
		*rc = -EINVAL;
		return NULL;
	}
	io = bdev_io_get(bch);
	if (plx_unlikely(io == NULL)) {
		*rc = -ENOMEM;
		return NULL;
	}
	bdev_io_init(io, desc, bch, type, cb, cb_arg);
	io->u.bdev.offset_blocks = offset;
	io->u.bdev.num_blocks = num;
	io->u.bdev.fused_iovs = NULL;
	io->u.bdev.fused_iovcnt = 0;
	return io;
}

static int data_io(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
		   enum plx_bdev_io_type type, struct iovec *iov, int iovcnt, void *buf,
		   uint64_t offset, uint64_t num, plx_bdev_io_completion_cb cb, void *cb_arg)
{
	int rc;
	struct plx_bdev_io *io =
	    rw_start(desc, ch, type, type == PLX_BDEV_IO_TYPE_WRITE, offset, num, cb, cb_arg, &rc);

	if (plx_unlikely(io == NULL)) {
		return rc;
	}
	if (iov == NULL) {
		io->u.bdev.iov.iov_base = buf;
		io->u.bdev.iov.iov_len = num * io->bdev->blocklen;
		io->u.bdev.iovs = &io->u.bdev.iov;
		io->u.bdev.iovcnt = 1;
	} else {
		io->u.bdev.iovs = iov;
		io->u.bdev.iovcnt = iovcnt;
	}
	bdev_io_submit(io);
	return 0;
}

int plx_bdev_read_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch, void *buf,
			 uint64_t offset_blocks, uint64_t num_blocks, plx_bdev_io_completion_cb cb,
			 void *cb_arg)
{
	return data_io(desc, ch, PLX_BDEV_IO_TYPE_READ, NULL, 0, buf, offset_blocks, num_blocks, cb,
		       cb_arg);
}

int plx_bdev_readv_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch, struct iovec *iov,
			  int iovcnt, uint64_t offset_blocks, uint64_t num_blocks,
			  plx_bdev_io_completion_cb cb, void *cb_arg)
{
	if (iov == NULL || iovcnt <= 0) {
		return -EINVAL;
	}
	return data_io(desc, ch, PLX_BDEV_IO_TYPE_READ, iov, iovcnt, NULL, offset_blocks,
		       num_blocks, cb, cb_arg);
}

int plx_bdev_write_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch, void *buf,
			  uint64_t offset_blocks, uint64_t num_blocks, plx_bdev_io_completion_cb cb,
			  void *cb_arg)
{
	if (buf == NULL) {
		return -EINVAL;
	}
	return data_io(desc, ch, PLX_BDEV_IO_TYPE_WRITE, NULL, 0, buf, offset_blocks, num_blocks,
		       cb, cb_arg);
}

int plx_bdev_writev_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch, struct iovec *iov,
			   int iovcnt, uint64_t offset_blocks, uint64_t num_blocks,
			   plx_bdev_io_completion_cb cb, void *cb_arg)
{
	if (iov == NULL || iovcnt <= 0 || iov[0].iov_base == NULL) {
		return -EINVAL;
	}
	return data_io(desc, ch, PLX_BDEV_IO_TYPE_WRITE, iov, iovcnt, NULL, offset_blocks,
		       num_blocks, cb, cb_arg);
}

/* I/O with no data: write_zeroes, unmap, flush. */
static int nodata_io(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
		     enum plx_bdev_io_type type, uint64_t offset, uint64_t num,
		     plx_bdev_io_completion_cb cb, void *cb_arg)
{
	struct plx_bdev_io *io;
	int rc;

	if (!desc->bdev->fn_table->io_type_supported(desc->bdev->ctxt, type)) {
		return -ENOTSUP;
	}
	io = rw_start(desc, ch, type, type != PLX_BDEV_IO_TYPE_FLUSH, offset, num, cb, cb_arg, &rc);
	if (io == NULL) {
		return rc;
	}
	io->u.bdev.iovs = NULL;
	io->u.bdev.iovcnt = 0;
	bdev_io_submit(io);
	return 0;
}

int plx_bdev_write_zeroes_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
				 uint64_t offset_blocks, uint64_t num_blocks,
				 plx_bdev_io_completion_cb cb, void *cb_arg)
{
	return nodata_io(desc, ch, PLX_BDEV_IO_TYPE_WRITE_ZEROES, offset_blocks, num_blocks, cb,
			 cb_arg);
}

int plx_bdev_unmap_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
			  uint64_t offset_blocks, uint64_t num_blocks, plx_bdev_io_completion_cb cb,
			  void *cb_arg)
{
	return nodata_io(desc, ch, PLX_BDEV_IO_TYPE_UNMAP, offset_blocks, num_blocks, cb, cb_arg);
}

int plx_bdev_flush_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
			  uint64_t offset_blocks, uint64_t num_blocks, plx_bdev_io_completion_cb cb,
			  void *cb_arg)
{
	return nodata_io(desc, ch, PLX_BDEV_IO_TYPE_FLUSH, offset_blocks, num_blocks, cb, cb_arg);
}

int plx_bdev_comparev_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
			     struct iovec *iov, int iovcnt, uint64_t offset_blocks,
			     uint64_t num_blocks, plx_bdev_io_completion_cb cb, void *cb_arg)
{
	struct plx_bdev_io *io;
	int rc;

	if (iov == NULL || iovcnt <= 0) {
		return -EINVAL;
	}
	if (!plx_bdev_io_type_supported(desc->bdev, PLX_BDEV_IO_TYPE_COMPARE)) {
		return -ENOTSUP;
	}
	io = rw_start(desc, ch, PLX_BDEV_IO_TYPE_COMPARE, false, offset_blocks, num_blocks, cb,
		      cb_arg, &rc);
	if (io == NULL) {
		return rc;
	}
	io->u.bdev.iovs = iov;
	io->u.bdev.iovcnt = iovcnt;
	if (desc->bdev->fn_table->io_type_supported(desc->bdev->ctxt, PLX_BDEV_IO_TYPE_COMPARE)) {
		bdev_io_submit(io);
	} else {
		bdev_io_start_op(io, bdev_compare_emulate);
	}
	return 0;
}

int plx_bdev_comparev_and_writev_blocks(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
					struct iovec *compare_iov, int compare_iovcnt,
					struct iovec *write_iov, int write_iovcnt,
					uint64_t offset_blocks, uint64_t num_blocks,
					plx_bdev_io_completion_cb cb, void *cb_arg)
{
	struct plx_bdev_io *io;
	int rc;

	if (compare_iov == NULL || compare_iovcnt <= 0 || write_iov == NULL || write_iovcnt <= 0) {
		return -EINVAL;
	}
	if (!plx_bdev_io_type_supported(desc->bdev, PLX_BDEV_IO_TYPE_COMPARE_AND_WRITE)) {
		return -ENOTSUP;
	}
	io = rw_start(desc, ch, PLX_BDEV_IO_TYPE_COMPARE_AND_WRITE, true, offset_blocks, num_blocks,
		      cb, cb_arg, &rc);
	if (io == NULL) {
		return rc;
	}
	io->u.bdev.iovs = compare_iov;
	io->u.bdev.iovcnt = compare_iovcnt;
	io->u.bdev.fused_iovs = write_iov;
	io->u.bdev.fused_iovcnt = write_iovcnt;
	bdev_io_start_op(io, bdev_caw_start);
	return 0;
}

int plx_bdev_reset(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
		   plx_bdev_io_completion_cb cb, void *cb_arg)
{
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(ch);
	struct plx_bdev_io *io = bdev_io_get(bch);

	if (io == NULL) {
		return -ENOMEM;
	}
	bdev_io_init(io, desc, bch, PLX_BDEV_IO_TYPE_RESET, cb, cb_arg);
	io->u.bdev.iovs = NULL;
	io->u.bdev.iovcnt = 0;
	io->u.bdev.offset_blocks = 0;
	io->u.bdev.num_blocks = 0;
	bdev_io_start_op(io, bdev_reset_start);
	return 0;
}

int plx_bdev_abort(struct plx_bdev_desc *desc, struct plx_io_channel *ch, void *bio_cb_arg,
		   plx_bdev_io_completion_cb cb, void *cb_arg)
{
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(ch);
	struct plx_bdev_io *io;

	if (bio_cb_arg == NULL) {
		return -EINVAL;
	}
	io = bdev_io_get(bch);
	if (io == NULL) {
		return -ENOMEM;
	}
	bdev_io_init(io, desc, bch, PLX_BDEV_IO_TYPE_ABORT, cb, cb_arg);
	io->u.abort.bio_cb_arg = bio_cb_arg;
	io->u.abort.bio_to_abort = NULL;
	bdev_io_start_op(io, bdev_abort_start);
	return 0;
}

int plx_bdev_io_forward(struct plx_bdev_desc *desc, struct plx_io_channel *ch,
			struct plx_bdev_io *io, uint64_t off, plx_bdev_io_completion_cb cb,
			void *cb_arg)
{
	uint64_t num = io->u.bdev.num_blocks;
	struct iovec *iovs = io->u.bdev.iovs;
	int iovcnt = io->u.bdev.iovcnt;

	switch (io->type) {
	case PLX_BDEV_IO_TYPE_READ:
		return plx_bdev_readv_blocks(desc, ch, iovs, iovcnt, off, num, cb, cb_arg);
	case PLX_BDEV_IO_TYPE_WRITE:
		return plx_bdev_writev_blocks(desc, ch, iovs, iovcnt, off, num, cb, cb_arg);
	case PLX_BDEV_IO_TYPE_WRITE_ZEROES:
		return plx_bdev_write_zeroes_blocks(desc, ch, off, num, cb, cb_arg);
	case PLX_BDEV_IO_TYPE_UNMAP:
		return plx_bdev_unmap_blocks(desc, ch, off, num, cb, cb_arg);
	case PLX_BDEV_IO_TYPE_FLUSH:
		return plx_bdev_flush_blocks(desc, ch, off, num, cb, cb_arg);
	case PLX_BDEV_IO_TYPE_RESET:
		return plx_bdev_reset(desc, ch, cb, cb_arg);
	case PLX_BDEV_IO_TYPE_COMPARE:
		return plx_bdev_comparev_blocks(desc, ch, iovs, iovcnt, off, num, cb, cb_arg);
	case PLX_BDEV_IO_TYPE_COMPARE_AND_WRITE:
		return plx_bdev_comparev_and_writev_blocks(
		    desc, ch, iovs, iovcnt, io->u.bdev.fused_iovs, io->u.bdev.fused_iovcnt, off,
		    num, cb, cb_arg);
	case PLX_BDEV_IO_TYPE_ABORT:
		return plx_bdev_abort(desc, ch, io->u.abort.bio_to_abort, cb, cb_arg);
	default:
		return -EINVAL;
	}
}
