/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The uring bdev: io_uring (liburing) on a file or block device.
 *
 * Each thread that does I/O gets its own ring (the channel). submit_request only prepares an
 * SQE; the channel's poller submits every SQE queued since its last run with one
 * io_uring_enter, so a poller pass that completes 32 I/Os and sees 32 resubmissions costs one
 * system call. Only a full SQ forces an early submit. Completions are reaped from the CQ ring in
 * user space (io_uring_peek_batch_cqe), without system calls.
 *
 * Interrupt mode: an eventfd registered with io_uring_register_eventfd is the poller's
 * interrupt fd, edge-triggered so that it needs no read per wake-up; a reactor with I/O in
 * flight can sleep and the kernel wakes it on completion. With nothing queued or in flight the
 * poller returns at once without a system call.
 *
 * The file is registered with each ring (IOSQE_FIXED_FILE), which spares the kernel a file
 * table lookup and reference per I/O. Data buffers belong to the callers, so they are not
 * registered.
 */
#include <errno.h>
#include <inttypes.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/queue.h>

#include "bdev_file.h"
#include "bdev_uring.h"
#include "pollux/log.h"

#define URING_QUEUE_DEPTH 512
/* In flight per channel: the CQ holds twice the SQ, so completions never overflow it. */
#define URING_MAX_INFLIGHT (2 * URING_QUEUE_DEPTH)
#define URING_REAP_BATCH   64

struct uring_disk {
	struct plx_bdev bdev;
	char *filename;
	int fd;
	struct bdev_file_info info;
	uint32_t block_size_override; /* as requested; 0 when detected */
	TAILQ_ENTRY(uring_disk) link;
};

struct uring_channel {
	struct io_uring ring;
	int efd;
	int sqe_fd;	   /* 0 (the registered file's index) or the plain fd */
	uint8_t sqe_flags; /* IOSQE_FIXED_FILE when the file is registered */
	struct plx_poller *poller;
	uint32_t queued;   /* SQEs prepared, not yet submitted */
	uint32_t inflight; /* submitted, completion not yet reaped */
	struct plx_io_channel_iter *reset_iter;
};

struct uring_task {
	uint64_t len; /* bytes the request must transfer; 0 for fsync */
};

static TAILQ_HEAD(, uring_disk) g_uring_disks = TAILQ_HEAD_INITIALIZER(g_uring_disks);

/* ---- submission and completion ---- */

/* Hand every queued SQE to the kernel. On EAGAIN/EBUSY they stay queued for the next poll. */
static int uring_submit_queued(struct uring_channel *ch)
{
	int rc = io_uring_submit(&ch->ring);

	if (plx_likely(rc >= 0)) {
		ch->queued -= (uint32_t)rc;
		ch->inflight += (uint32_t)rc;
		return rc;
	}
	if (rc != -EAGAIN && rc != -EBUSY && rc != -EINTR) {
		PLX_ERRLOG("io_uring_submit: %s\n", strerror(-rc));
	}
	return 0;
}

static void uring_reset_check(struct uring_channel *ch)
{
	struct plx_io_channel_iter *i = ch->reset_iter;

	if (i != NULL && ch->queued == 0 && ch->inflight == 0) {
		ch->reset_iter = NULL;
		plx_for_each_channel_continue(i, 0);
	}
}

static int uring_reap(struct uring_channel *ch)
{
	struct io_uring_cqe *cqes[URING_REAP_BATCH];
	struct plx_bdev_io *ios[URING_REAP_BATCH];
	int32_t res[URING_REAP_BATCH];
	unsigned int n, total = 0;

	do {
		n = io_uring_peek_batch_cqe(&ch->ring, cqes, URING_REAP_BATCH);
		/* Copy out and release the CQ slots first: completions may submit more. */
		for (unsigned int k = 0; k < n; k++) {
			ios[k] = io_uring_cqe_get_data(cqes[k]);
			res[k] = cqes[k]->res;
		}
		io_uring_cq_advance(&ch->ring, n);
		ch->inflight -= n;
		for (unsigned int k = 0; k < n; k++) {
			struct uring_task *task = (struct uring_task *)ios[k]->driver_ctx;

			plx_bdev_io_complete(ios[k], res[k] >= 0 && (uint64_t)res[k] == task->len
							 ? PLX_BDEV_IO_STATUS_SUCCESS
							 : PLX_BDEV_IO_STATUS_FAILED);
		}
		total += n;
	} while (n == URING_REAP_BATCH);
	return (int)total;
}

static int uring_poll(void *arg)
{
	struct uring_channel *ch = arg;
	int work = 0;

	if (ch->inflight > 0) {
		work += uring_reap(ch);
	}
	if (ch->queued > 0) {
		work += uring_submit_queued(ch);
	}
	if (plx_unlikely(ch->reset_iter != NULL)) {
		uring_reset_check(ch);
	}
	return work > 0 ? PLX_POLLER_BUSY : PLX_POLLER_IDLE;
}

static struct io_uring_sqe *uring_get_sqe(struct uring_channel *ch)
{
	struct io_uring_sqe *sqe;

	if (plx_unlikely(ch->queued + ch->inflight >= URING_MAX_INFLIGHT)) {
		return NULL;
	}
	sqe = io_uring_get_sqe(&ch->ring);
	if (plx_unlikely(sqe == NULL)) {
		/* The SQ is full: submit now rather than wait for the poller. */
		uring_submit_queued(ch);
		sqe = io_uring_get_sqe(&ch->ring);
	}
	return sqe;
}

static void uring_queue(struct uring_channel *ch, struct io_uring_sqe *sqe, struct plx_bdev_io *io)
{
	sqe->flags |= ch->sqe_flags;
	io_uring_sqe_set_data(sqe, io);
	ch->queued++;
}

static void uring_rw(struct uring_disk *disk, struct uring_channel *ch, struct plx_bdev_io *io)
{
	struct uring_task *task = (struct uring_task *)io->driver_ctx;
	uint64_t off = io->u.bdev.offset_blocks * disk->bdev.blocklen;
	struct iovec *iov = io->u.bdev.iovs;
	struct io_uring_sqe *sqe = uring_get_sqe(ch);

	if (sqe == NULL) {
		/* The layer resubmits once one of ours completes. */
		plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_NOMEM);
		return;
	}
	task->len = io->u.bdev.num_blocks * disk->bdev.blocklen;
	/* A single buffer skips the kernel's iovec import. */
	if (io->type == PLX_BDEV_IO_TYPE_READ) {
		if (io->u.bdev.iovcnt == 1) {
			io_uring_prep_read(sqe, ch->sqe_fd, iov[0].iov_base,
					   (unsigned)iov[0].iov_len, off);
		} else {
			io_uring_prep_readv(sqe, ch->sqe_fd, iov, (unsigned)io->u.bdev.iovcnt, off);
		}
	} else {
		if (io->u.bdev.iovcnt == 1) {
			io_uring_prep_write(sqe, ch->sqe_fd, iov[0].iov_base,
					    (unsigned)iov[0].iov_len, off);
		} else {
			io_uring_prep_writev(sqe, ch->sqe_fd, iov, (unsigned)io->u.bdev.iovcnt,
					     off);
		}
	}
	uring_queue(ch, sqe, io);
}

static void uring_flush(struct uring_channel *ch, struct plx_bdev_io *io)
{
	struct uring_task *task = (struct uring_task *)io->driver_ctx;
	struct io_uring_sqe *sqe = uring_get_sqe(ch);

	if (sqe == NULL) {
		plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_NOMEM);
		return;
	}
	task->len = 0;
	io_uring_prep_fsync(sqe, ch->sqe_fd, IORING_FSYNC_DATASYNC);
	uring_queue(ch, sqe, io);
}

static void uring_get_buf_cb(struct plx_io_channel *ch, struct plx_bdev_io *io, bool success)
{
	if (!success) {
		plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
	uring_rw(io->bdev->ctxt, plx_io_channel_get_ctx(ch), io);
}

/* Reset: every channel's queued and in-flight requests must have completed. */
static void uring_reset_channel(struct plx_io_channel_iter *i)
{
	struct uring_channel *ch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));

	/* The bdev layer runs one reset at a time, so a second parked reset cannot happen. */
	if ((ch->queued == 0 && ch->inflight == 0) || ch->reset_iter != NULL) {
		plx_for_each_channel_continue(i, 0);
	} else {
		ch->reset_iter = i;
	}
}

static void uring_reset_done(struct plx_io_channel_iter *i, int status)
{
	plx_bdev_io_complete(plx_io_channel_iter_get_ctx(i),
			     status == 0 ? PLX_BDEV_IO_STATUS_SUCCESS : PLX_BDEV_IO_STATUS_FAILED);
}

static void uring_submit_request(struct plx_io_channel *_ch, struct plx_bdev_io *io)
{
	struct uring_disk *disk = io->bdev->ctxt;
	struct uring_channel *ch = plx_io_channel_get_ctx(_ch);

	switch (io->type) {
	case PLX_BDEV_IO_TYPE_READ:
		if (io->u.bdev.iovs[0].iov_base == NULL) {
			plx_bdev_io_get_buf(io, uring_get_buf_cb,
					    io->u.bdev.num_blocks * disk->bdev.blocklen);
			return;
		}
		uring_rw(disk, ch, io);
		return;
	case PLX_BDEV_IO_TYPE_WRITE:
		uring_rw(disk, ch, io);
		return;
	case PLX_BDEV_IO_TYPE_FLUSH:
		uring_flush(ch, io);
		return;
	case PLX_BDEV_IO_TYPE_RESET:
		plx_for_each_channel(disk, uring_reset_channel, io, uring_reset_done);
		return;
	default:
		plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
}

static bool uring_io_type_supported(void *ctx, enum plx_bdev_io_type type)
{
	switch (type) {
	case PLX_BDEV_IO_TYPE_READ:
	case PLX_BDEV_IO_TYPE_WRITE:
	case PLX_BDEV_IO_TYPE_FLUSH:
	case PLX_BDEV_IO_TYPE_RESET:
		return true;
	default:
		return false;
	}
}

/* ---- channels ---- */

static int uring_channel_setup(struct uring_disk *disk, struct uring_channel *ch)
{
	int rc;

	ch->sqe_fd = disk->fd;
	/* Without a registered file the ring still works, one fget per I/O slower. */
	if (io_uring_register_files(&ch->ring, &disk->fd, 1) == 0) {
		ch->sqe_fd = 0;
		ch->sqe_flags = IOSQE_FIXED_FILE;
	}
	ch->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ch->efd < 0) {
		PLX_ERRLOG("eventfd: %s\n", strerror(errno));
		return -errno;
	}
	rc = io_uring_register_eventfd(&ch->ring, ch->efd);
	if (rc != 0) {
		PLX_ERRLOG("io_uring_register_eventfd: %s\n", strerror(-rc));
		return rc;
	}
	ch->poller = plx_poller_register_named(uring_poll, ch, 0, "bdev_uring_poll");
	if (ch->poller == NULL) {
		return -ENOMEM;
	}
	return plx_poller_set_interrupt_fd(ch->poller, ch->efd, EPOLLIN | EPOLLET);
}

static int uring_channel_create(void *io_device, void *ctx_buf)
{
	struct uring_channel *ch = ctx_buf;
	int rc;

	ch->efd = -1;
	rc = io_uring_queue_init(URING_QUEUE_DEPTH, &ch->ring, 0);
	if (rc != 0) {
		PLX_ERRLOG("io_uring_queue_init(%d): %s\n", URING_QUEUE_DEPTH, strerror(-rc));
		return rc;
	}
	rc = uring_channel_setup(io_device, ch);
	if (rc != 0) {
		plx_poller_unregister(&ch->poller);
		if (ch->efd >= 0) {
			close(ch->efd);
		}
		io_uring_queue_exit(&ch->ring);
	}
	return rc;
}

static void uring_channel_destroy(void *io_device, void *ctx_buf)
{
	struct uring_channel *ch = ctx_buf;

	plx_poller_unregister(&ch->poller);
	/* Tearing the ring down waits for (or cancels) anything still in flight. */
	io_uring_queue_exit(&ch->ring);
	close(ch->efd);
}

static struct plx_io_channel *uring_get_io_channel(void *ctx)
{
	return plx_get_io_channel(ctx);
}

/* ---- lifecycle ---- */

static void uring_disk_free(void *io_device)
{
	struct uring_disk *disk = io_device;

	if (disk->fd >= 0) {
		close(disk->fd);
	}
	free(disk->filename);
	free(disk->bdev.name);
	free(disk);
}

static void uring_device_unregistered(void *io_device)
{
	struct uring_disk *disk = io_device;

	plx_bdev_destruct_done(&disk->bdev, 0);
	uring_disk_free(disk);
}

static int uring_destruct(void *ctx)
{
	struct uring_disk *disk = ctx;

	TAILQ_REMOVE(&g_uring_disks, disk, link);
	plx_io_device_unregister(disk, uring_device_unregistered);
	return 1;
}

static void uring_dump_info_json(void *ctx, json_t *driver_specific)
{
	struct uring_disk *disk = ctx;

	json_object_set_new(driver_specific, "uring",
			    json_pack("{s:s, s:b, s:b}", "filename", disk->filename,
				      "block_size_override", disk->block_size_override != 0,
				      "direct_io", disk->info.direct));
}

static void uring_write_config_json(struct plx_bdev *bdev, json_t *config)
{
	struct uring_disk *disk = bdev->ctxt;
	char uuid[PLX_UUID_STRING_LEN];

	plx_uuid_fmt_lower(uuid, sizeof(uuid), plx_bdev_get_uuid(bdev));
	json_array_append_new(config, json_pack("{s:s, s:{s:s, s:s, s:i, s:s}}", "method",
						"bdev_uring_create", "params", "name", bdev->name,
						"filename", disk->filename, "block_size",
						(int)bdev->blocklen, "uuid", uuid));
}

static const struct plx_bdev_fn_table g_uring_fn_table = {
    .destruct = uring_destruct,
    .submit_request = uring_submit_request,
    .io_type_supported = uring_io_type_supported,
    .get_io_channel = uring_get_io_channel,
    .dump_info_json = uring_dump_info_json,
    .write_config_json = uring_write_config_json,
};

static struct uring_disk *uring_disk_find(const char *name)
{
	struct uring_disk *disk;

	TAILQ_FOREACH(disk, &g_uring_disks, link)
	{
		if (strcmp(disk->bdev.name, name) == 0) {
			return disk;
		}
	}
	return NULL;
}

int plx_bdev_uring_create(const struct plx_bdev_uring_opts *opts, char *err, size_t err_len)
{
	struct uring_disk *disk;
	uint32_t bs;
	int rc;

	if (opts->name == NULL || opts->name[0] == '\0') {
		snprintf(err, err_len, "name: must not be empty");
		return -EINVAL;
	}
	if (plx_bdev_get_by_name(opts->name) != NULL) {
		snprintf(err, err_len, "bdev %s already exists", opts->name);
		return -EEXIST;
	}
	disk = calloc(1, sizeof(*disk));
	if (disk == NULL) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	disk->filename = strdup(opts->filename);
	disk->bdev.name = strdup(opts->name);
	disk->fd = -1;
	if (disk->filename == NULL || disk->bdev.name == NULL) {
		uring_disk_free(disk);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	disk->fd = bdev_file_open(opts->filename, false, &disk->info, err, err_len);
	rc = disk->fd < 0 ? disk->fd
			  : bdev_file_block_size(&disk->info, opts->block_size, &bs, err, err_len);
	if (rc < 0) {
		uring_disk_free(disk);
		return rc;
	}
	disk->block_size_override = opts->block_size;
	disk->bdev.product_name = "URING disk";
	disk->bdev.blocklen = bs;
	disk->bdev.blockcnt = disk->info.size / bs;
	disk->bdev.required_alignment = bdev_file_align_shift(&disk->info, bs);
	disk->bdev.write_cache = true;
	disk->bdev.uuid = opts->uuid;
	disk->bdev.ctxt = disk;
	disk->bdev.fn_table = &g_uring_fn_table;
	disk->bdev.module = &plx_uring_module;

	/* Examination right after registration may already want channels. */
	plx_io_device_register(disk, uring_channel_create, uring_channel_destroy,
			       sizeof(struct uring_channel), disk->bdev.name);
	rc = plx_bdev_register(&disk->bdev);
	if (rc != 0) {
		snprintf(err, err_len,
			 rc == -EEXIST ? "bdev %s or its uuid already exists"
				       : "registering bdev %s: %s",
			 opts->name, strerror(-rc));
		plx_io_device_unregister(disk, uring_disk_free);
		return rc;
	}
	TAILQ_INSERT_TAIL(&g_uring_disks, disk, link);
	PLX_NOTICELOG("uring bdev %s on %s: %" PRIu64 " blocks of %u bytes%s\n", opts->name,
		      opts->filename, disk->bdev.blockcnt, disk->bdev.blocklen,
		      disk->info.direct ? ", O_DIRECT" : "");
	return 0;
}

int plx_bdev_uring_delete(const char *name, plx_bdev_unregister_cb cb, void *cb_arg)
{
	return plx_bdev_unregister_by_name(name, &plx_uring_module, cb, cb_arg);
}

int plx_bdev_uring_rescan(const char *name)
{
	struct uring_disk *disk = uring_disk_find(name);

	if (disk == NULL) {
		return -ENODEV;
	}
	return bdev_file_rescan(&disk->bdev, disk->fd, disk->filename, "uring");
}

static int uring_get_ctx_size(void)
{
	return sizeof(struct uring_task);
}

struct plx_bdev_module plx_uring_module = {
    .name = "uring",
    .get_ctx_size = uring_get_ctx_size,
};
PLX_BDEV_MODULE_REGISTER(uring, &plx_uring_module)
