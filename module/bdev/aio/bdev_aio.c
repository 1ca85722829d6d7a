/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The aio bdev: Linux native AIO (libaio) on a file or block device.
 *
 * Each thread that does I/O gets its own io_context (the channel) and an active poller that
 * reaps completions with a zero-timeout io_getevents. Every iocb names the channel's eventfd,
 * which is the poller's interrupt fd: in interrupt mode a reactor with I/O in flight sleeps in
 * epoll and the kernel wakes it when a completion lands. The fd is registered edge-triggered,
 * so it needs no read per wake-up (its counter just grows; 2^64 completions are far away).
 * With nothing in flight the poller returns at once without a system call.
 *
 * Flush is IOCB_CMD_FDSYNC (kernel 4.18+), or a synchronous fdatasync when the kernel refuses
 * it. Unmap and write_zeroes, when enabled with "fallocate", are synchronous fallocate() calls
 * (punch hole; zero range when the filesystem has it), as SPDK does: meant for tests.
 */
#include <errno.h>
#include <inttypes.h>
#include <libaio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/queue.h>

#include "bdev_aio.h"
#include "bdev_file.h"
#include "pollux/log.h"

#define AIO_QUEUE_DEPTH 256
#define AIO_REAP_BATCH	64

struct aio_disk {
	struct plx_bdev bdev;
	char *filename;
	int fd;
	struct bdev_file_info info;
	uint32_t block_size_override; /* as requested; 0 when detected */
	bool readonly;
	bool fallocate;
	bool nowait;
	bool fdsync_unsupported;     /* IOCB_CMD_FDSYNC refused: fdatasync inline */
	bool zero_range_unsupported; /* FALLOC_FL_ZERO_RANGE refused: punch holes instead */
	TAILQ_ENTRY(aio_disk) link;
};

struct aio_channel {
	io_context_t ctx;
	int efd;
	struct plx_poller *poller;
	uint64_t outstanding;
	/* A reset parked on this channel until outstanding drops to zero. */
	struct plx_io_channel_iter *reset_iter;
	struct io_event events[AIO_REAP_BATCH];
};

struct aio_task {
	struct iocb iocb;
	uint64_t len; /* bytes the iocb must transfer; 0 for fdsync */
};

static TAILQ_HEAD(, aio_disk) g_aio_disks = TAILQ_HEAD_INITIALIZER(g_aio_disks);

/* ---- completions ---- */

static void aio_reset_check(struct aio_channel *ch)
{
	struct plx_io_channel_iter *i = ch->reset_iter;

	if (i != NULL && ch->outstanding == 0) {
		ch->reset_iter = NULL;
		plx_for_each_channel_continue(i, 0);
	}
}

static int aio_poll(void *arg)
{
	struct aio_channel *ch = arg;
	struct timespec zero = {0, 0};
	int n, total = 0;

	if (ch->outstanding == 0) {
		return PLX_POLLER_IDLE;
	}
	do {
		n = io_getevents(ch->ctx, 0, AIO_REAP_BATCH, ch->events, &zero);
		if (n < 0) {
			if (n != -EINTR) {
				PLX_ERRLOG("io_getevents: %s\n", strerror(-n));
			}
			break;
		}
		ch->outstanding -= (uint64_t)n;
		for (int k = 0; k < n; k++) {
			struct aio_task *task = ch->events[k].data;
			long res = (long)ch->events[k].res;
			enum plx_bdev_io_status st = PLX_BDEV_IO_STATUS_SUCCESS;

			if (res == -EAGAIN) {
				st = PLX_BDEV_IO_STATUS_NOMEM; /* RWF_NOWAIT would block */
			} else if (res < 0 || (uint64_t)res != task->len) {
				st = PLX_BDEV_IO_STATUS_FAILED;
			}
			plx_bdev_io_complete(plx_bdev_io_from_ctx(task), st);
		}
		total += n;
	} while (n == AIO_REAP_BATCH);
	aio_reset_check(ch);
	return total > 0 ? PLX_POLLER_BUSY : PLX_POLLER_IDLE;
}

/* ---- submission ---- */

static void aio_submit_iocb(struct aio_channel *ch, struct plx_bdev_io *io, struct aio_task *task)
{
	struct iocb *iocb = &task->iocb;
	int rc;

	io_set_eventfd(iocb, ch->efd);
	iocb->data = task;
	rc = io_submit(ch->ctx, 1, &iocb);
	if (plx_likely(rc == 1)) {
		ch->outstanding++;
		return;
	}
	/* EAGAIN: the context is full; the layer retries after one of ours completes. */
	if (rc == -EAGAIN && ch->outstanding > 0) {
		plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_NOMEM);
		return;
	}
	PLX_ERRLOG("%s: io_submit: %s\n", io->bdev->name, strerror(-rc));
	plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_FAILED);
}

static void aio_rw(struct aio_disk *disk, struct aio_channel *ch, struct plx_bdev_io *io)
{
	struct aio_task *task = (struct aio_task *)io->driver_ctx;
	uint64_t off = io->u.bdev.offset_blocks * disk->bdev.blocklen;
	int flags = disk->nowait ? RWF_NOWAIT : 0;

	task->len = io->u.bdev.num_blocks * disk->bdev.blocklen;
	if (io->type == PLX_BDEV_IO_TYPE_READ) {
		io_prep_preadv2(&task->iocb, disk->fd, io->u.bdev.iovs, io->u.bdev.iovcnt,
				(long long)off, flags);
	} else {
		io_prep_pwritev2(&task->iocb, disk->fd, io->u.bdev.iovs, io->u.bdev.iovcnt,
				 (long long)off, flags);
	}
	aio_submit_iocb(ch, io, task);
}

static void aio_get_buf_cb(struct plx_io_channel *ch, struct plx_bdev_io *io, bool success)
{
	if (!success) {
		plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
	aio_rw(io->bdev->ctxt, plx_io_channel_get_ctx(ch), io);
}

static void aio_flush(struct aio_disk *disk, struct aio_channel *ch, struct plx_bdev_io *io)
{
	struct aio_task *task = (struct aio_task *)io->driver_ctx;
	struct iocb *iocb = &task->iocb;
	int rc;

	if (!disk->fdsync_unsupported) {
		io_prep_fdsync(iocb, disk->fd);
		io_set_eventfd(iocb, ch->efd);
		iocb->data = task;
		task->len = 0;
		rc = io_submit(ch->ctx, 1, &iocb);
		if (rc == 1) {
			ch->outstanding++;
			return;
		}
		if (rc != -EINVAL) {
			plx_bdev_io_complete(io, rc == -EAGAIN && ch->outstanding > 0
						     ? PLX_BDEV_IO_STATUS_NOMEM
						     : PLX_BDEV_IO_STATUS_FAILED);
			return;
		}
		PLX_NOTICELOG("%s: asynchronous fdsync refused, flushing synchronously\n",
			      disk->bdev.name);
		disk->fdsync_unsupported = true;
	}
	rc = fdatasync(disk->fd);
	plx_bdev_io_complete(io, rc == 0 ? PLX_BDEV_IO_STATUS_SUCCESS : PLX_BDEV_IO_STATUS_FAILED);
}

static void aio_fallocate(struct aio_disk *disk, struct plx_bdev_io *io)
{
	off_t off = (off_t)(io->u.bdev.offset_blocks * disk->bdev.blocklen);
	off_t len = (off_t)(io->u.bdev.num_blocks * disk->bdev.blocklen);
	int rc = -1;

	if (io->type == PLX_BDEV_IO_TYPE_WRITE_ZEROES && !disk->zero_range_unsupported) {
		rc = fallocate(disk->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len);
		if (rc != 0 && errno == EOPNOTSUPP) {
			disk->zero_range_unsupported = true;
		}
	}
	/* A punched hole reads back as zeroes, so it serves write_zeroes too. */
	if (rc != 0 && (io->type == PLX_BDEV_IO_TYPE_UNMAP || disk->zero_range_unsupported)) {
		rc = fallocate(disk->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
	}
	if (rc != 0) {
		PLX_ERRLOG("%s: fallocate: %s\n", disk->bdev.name, strerror(errno));
	}
	plx_bdev_io_complete(io, rc == 0 ? PLX_BDEV_IO_STATUS_SUCCESS : PLX_BDEV_IO_STATUS_FAILED);
}

/* Reset: every channel's in-flight I/O must have completed. */
static void aio_reset_channel(struct plx_io_channel_iter *i)
{
	struct aio_channel *ch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));

	/* The bdev layer runs one reset at a time, so a second parked reset cannot happen. */
	if (ch->outstanding == 0 || ch->reset_iter != NULL) {
		plx_for_each_channel_continue(i, 0);
	} else {
		ch->reset_iter = i;
	}
}

static void aio_reset_done(struct plx_io_channel_iter *i, int status)
{
	plx_bdev_io_complete(plx_io_channel_iter_get_ctx(i),
			     status == 0 ? PLX_BDEV_IO_STATUS_SUCCESS : PLX_BDEV_IO_STATUS_FAILED);
}

static void aio_submit_request(struct plx_io_channel *_ch, struct plx_bdev_io *io)
{
	struct aio_disk *disk = io->bdev->ctxt;
	struct aio_channel *ch = plx_io_channel_get_ctx(_ch);

	switch (io->type) {
	case PLX_BDEV_IO_TYPE_READ:
		if (io->u.bdev.iovs[0].iov_base == NULL) {
			plx_bdev_io_get_buf(io, aio_get_buf_cb,
					    io->u.bdev.num_blocks * disk->bdev.blocklen);
			return;
		}
		aio_rw(disk, ch, io);
		return;
	case PLX_BDEV_IO_TYPE_WRITE:
		if (disk->readonly) {
			break;
		}
		aio_rw(disk, ch, io);
		return;
	case PLX_BDEV_IO_TYPE_FLUSH:
		if (disk->readonly) {
			plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_SUCCESS);
		} else {
			aio_flush(disk, ch, io);
		}
		return;
	case PLX_BDEV_IO_TYPE_UNMAP:
	case PLX_BDEV_IO_TYPE_WRITE_ZEROES:
		if (disk->readonly || !disk->fallocate) {
			break;
		}
		aio_fallocate(disk, io);
		return;
	case PLX_BDEV_IO_TYPE_RESET:
		plx_for_each_channel(disk, aio_reset_channel, io, aio_reset_done);
		return;
	default:
		break;
	}
	plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_FAILED);
}

static bool aio_io_type_supported(void *ctx, enum plx_bdev_io_type type)
{
	struct aio_disk *disk = ctx;

	switch (type) {
	case PLX_BDEV_IO_TYPE_READ:
	case PLX_BDEV_IO_TYPE_FLUSH:
	case PLX_BDEV_IO_TYPE_RESET:
		return true;
	case PLX_BDEV_IO_TYPE_WRITE:
		return !disk->readonly;
	case PLX_BDEV_IO_TYPE_UNMAP:
	case PLX_BDEV_IO_TYPE_WRITE_ZEROES:
		return !disk->readonly && disk->fallocate;
	default:
		return false;
	}
}

/* ---- channels ---- */

static int aio_channel_create(void *io_device, void *ctx_buf)
{
	struct aio_channel *ch = ctx_buf;
	int rc;

	rc = io_setup(AIO_QUEUE_DEPTH, &ch->ctx);
	if (rc < 0) {
		PLX_ERRLOG("io_setup(%d): %s\n", AIO_QUEUE_DEPTH, strerror(-rc));
		return rc;
	}
	ch->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ch->efd < 0) {
		rc = -errno;
		PLX_ERRLOG("eventfd: %s\n", strerror(errno));
		io_destroy(ch->ctx);
		return rc;
	}
	ch->poller = plx_poller_register_named(aio_poll, ch, 0, "bdev_aio_poll");
	if (ch->poller == NULL) {
		rc = -ENOMEM;
	} else {
		rc = plx_poller_set_interrupt_fd(ch->poller, ch->efd, EPOLLIN | EPOLLET);
	}
	if (rc != 0) {
		plx_poller_unregister(&ch->poller);
		close(ch->efd);
		io_destroy(ch->ctx);
	}
	return rc;
}

static void aio_channel_destroy(void *io_device, void *ctx_buf)
{
	struct aio_channel *ch = ctx_buf;

	plx_poller_unregister(&ch->poller);
	io_destroy(ch->ctx); /* waits for anything still in flight */
	close(ch->efd);
}

static struct plx_io_channel *aio_get_io_channel(void *ctx)
{
	return plx_get_io_channel(ctx);
}

/* ---- lifecycle ---- */

static void aio_disk_free(void *io_device)
{
	struct aio_disk *disk = io_device;

	if (disk->fd >= 0) {
		close(disk->fd);
	}
	free(disk->filename);
	free(disk->bdev.name);
	free(disk);
}

static void aio_device_unregistered(void *io_device)
{
	struct aio_disk *disk = io_device;

	plx_bdev_destruct_done(&disk->bdev, 0);
	aio_disk_free(disk);
}

static int aio_destruct(void *ctx)
{
	struct aio_disk *disk = ctx;

	TAILQ_REMOVE(&g_aio_disks, disk, link);
	plx_io_device_unregister(disk, aio_device_unregistered);
	return 1;
}

static void aio_dump_info_json(void *ctx, json_t *driver_specific)
{
	struct aio_disk *disk = ctx;

	json_object_set_new(driver_specific, "aio",
			    json_pack("{s:s, s:b, s:b, s:b, s:b, s:b}", "filename", disk->filename,
				      "block_size_override", disk->block_size_override != 0,
				      "readonly", disk->readonly, "fallocate", disk->fallocate,
				      "nowait", disk->nowait, "direct_io", disk->info.direct));
}

static void aio_write_config_json(struct plx_bdev *bdev, json_t *config)
{
	struct aio_disk *disk = bdev->ctxt;
	char uuid[PLX_UUID_STRING_LEN];

	plx_uuid_fmt_lower(uuid, sizeof(uuid), plx_bdev_get_uuid(bdev));
	json_array_append_new(config,
			      json_pack("{s:s, s:{s:s, s:s, s:i, s:b, s:b, s:b, s:s}}", "method",
					"bdev_aio_create", "params", "name", bdev->name, "filename",
					disk->filename, "block_size", (int)bdev->blocklen,
					"readonly", disk->readonly, "fallocate", disk->fallocate,
					"nowait", disk->nowait, "uuid", uuid));
}

static const struct plx_bdev_fn_table g_aio_fn_table = {
    .destruct = aio_destruct,
    .submit_request = aio_submit_request,
    .io_type_supported = aio_io_type_supported,
    .get_io_channel = aio_get_io_channel,
    .dump_info_json = aio_dump_info_json,
    .write_config_json = aio_write_config_json,
};

static struct aio_disk *aio_disk_find(const char *name)
{
	struct aio_disk *disk;

	TAILQ_FOREACH(disk, &g_aio_disks, link)
	{
		if (strcmp(disk->bdev.name, name) == 0) {
			return disk;
		}
	}
	return NULL;
}

static int aio_disk_setup(struct aio_disk *disk, const struct plx_bdev_aio_opts *opts, char *err,
			  size_t err_len)
{
	uint32_t bs;
	int rc;

	disk->fd = bdev_file_open(opts->filename, opts->readonly, &disk->info, err, err_len);
	if (disk->fd < 0) {
		return disk->fd;
	}
	rc = bdev_file_block_size(&disk->info, opts->block_size, &bs, err, err_len);
	if (rc != 0) {
		return rc;
	}
	if (opts->nowait && !disk->info.is_blockdev) {
		snprintf(err, err_len, "nowait: %s is not a block device", opts->filename);
		return -EINVAL;
	}
	disk->bdev.blocklen = bs;
	disk->bdev.blockcnt = disk->info.size / bs;
	disk->bdev.required_alignment = bdev_file_align_shift(&disk->info, bs);
	return 0;
}

int plx_bdev_aio_create(const struct plx_bdev_aio_opts *opts, char *err, size_t err_len)
{
	struct aio_disk *disk;
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
	disk->fd = -1;
	disk->filename = strdup(opts->filename);
	disk->bdev.name = strdup(opts->name);
	if (disk->filename == NULL || disk->bdev.name == NULL) {
		aio_disk_free(disk);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	rc = aio_disk_setup(disk, opts, err, err_len);
	if (rc != 0) {
		aio_disk_free(disk);
		return rc;
	}
	disk->block_size_override = opts->block_size;
	disk->readonly = opts->readonly;
	disk->fallocate = opts->fallocate;
	disk->nowait = opts->nowait;
	disk->bdev.product_name = "AIO disk";
	disk->bdev.write_cache = true;
	disk->bdev.uuid = opts->uuid;
	disk->bdev.ctxt = disk;
	disk->bdev.fn_table = &g_aio_fn_table;
	disk->bdev.module = &plx_aio_module;

	/* Examination right after registration may already want channels. */
	plx_io_device_register(disk, aio_channel_create, aio_channel_destroy,
			       sizeof(struct aio_channel), disk->bdev.name);
	rc = plx_bdev_register(&disk->bdev);
	if (rc != 0) {
		snprintf(err, err_len,
			 rc == -EEXIST ? "bdev %s or its uuid already exists"
				       : "registering bdev %s: %s",
			 opts->name, strerror(-rc));
		plx_io_device_unregister(disk, aio_disk_free);
		return rc;
	}
	TAILQ_INSERT_TAIL(&g_aio_disks, disk, link);
	PLX_NOTICELOG("aio bdev %s on %s: %" PRIu64 " blocks of %u bytes%s\n", opts->name,
		      opts->filename, disk->bdev.blockcnt, disk->bdev.blocklen,
		      disk->info.direct ? ", O_DIRECT" : "");
	return 0;
}

int plx_bdev_aio_delete(const char *name, plx_bdev_unregister_cb cb, void *cb_arg)
{
	return plx_bdev_unregister_by_name(name, &plx_aio_module, cb, cb_arg);
}

int plx_bdev_aio_rescan(const char *name)
{
	struct aio_disk *disk = aio_disk_find(name);

	if (disk == NULL) {
		return -ENODEV;
	}
	return bdev_file_rescan(&disk->bdev, disk->fd, disk->filename, "aio");
}

static int aio_get_ctx_size(void)
{
	return sizeof(struct aio_task);
}

struct plx_bdev_module plx_aio_module = {
    .name = "aio",
    .get_ctx_size = aio_get_ctx_size,
};
PLX_BDEV_MODULE_REGISTER(aio, &plx_aio_module)
