/* SPDX-License-Identifier: BSD-3-Clause */
/* The test-only bdev module of the core unit tests (see bdev_ut_module.h). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"
#include "bdev_ut_module.h"

struct tm_rec g_tm_rec[TM_MAX_REC];
unsigned int g_tm_nrec;
unsigned int g_tm_destructs;
unsigned int g_tm_misaligned;
int g_tm_cpl_seq;

static unsigned int g_tm_nthreads;

/* Per-I/O context in driver_ctx. */
struct tm_io {
	TAILQ_ENTRY(tm_io) link;
	struct tm_ch *ch;
};

struct tm_ch {
	struct tm_disk *disk;
	unsigned int thread;
	TAILQ_HEAD(, tm_io) queue;
	TAILQ_ENTRY(tm_ch) link;
};

static TAILQ_HEAD(, tm_ch) g_tm_chs = TAILQ_HEAD_INITIALIZER(g_tm_chs);

static int tm_ctx_size(void)
{
	return sizeof(struct tm_io);
}

struct plx_bdev_module g_tm_module = {
    .name = "ut_mod",
    .get_ctx_size = tm_ctx_size,
};
PLX_BDEV_MODULE_REGISTER(ut_mod, &g_tm_module)

unsigned int tm_cur_thread(void)
{
	for (unsigned int i = 0; i < g_tm_nthreads; i++) {
		if (ut_thread(i) == plx_get_thread()) {
			return i;
		}
	}
	assert(false);
	return 0;
}

/* ---- channels ---- */

static int tm_ch_create(void *io_device, void *ctx)
{
	struct tm_ch *ch = ctx;

	ch->disk = io_device;
	ch->thread = tm_cur_thread();
	TAILQ_INIT(&ch->queue);
	TAILQ_INSERT_TAIL(&g_tm_chs, ch, link);
	return 0;
}

static void tm_ch_destroy(void *io_device, void *ctx)
{
	struct tm_ch *ch = ctx;

	assert(TAILQ_EMPTY(&ch->queue));
	TAILQ_REMOVE(&g_tm_chs, ch, link);
}

static struct tm_ch *tm_find_ch(struct tm_disk *disk, unsigned int t)
{
	struct tm_ch *ch;

	TAILQ_FOREACH(ch, &g_tm_chs, link)
	{
		if (ch->disk == disk && ch->thread == t) {
			return ch;
		}
	}
	return NULL;
}

static struct plx_io_channel *tm_get_io_channel(void *ctx)
{
	return plx_get_io_channel(ctx);
}

/* ---- data movement ---- */

static void tm_move_data(struct plx_bdev_io *io)
{
	struct tm_disk *disk = io->bdev->ctxt;
	uint32_t bl = io->bdev->blocklen;
	uint8_t *p;
	size_t left;

	if (disk->data == NULL) {
		return;
	}
	p = disk->data + io->u.bdev.offset_blocks * bl;
	left = io->u.bdev.num_blocks * bl;
	switch (io->type) {
	case PLX_BDEV_IO_TYPE_READ:
	case PLX_BDEV_IO_TYPE_WRITE:
		for (int i = 0; i < io->u.bdev.iovcnt && left > 0; i++) {
			size_t n = PLX_MIN(left, io->u.bdev.iovs[i].iov_len);

			if (io->type == PLX_BDEV_IO_TYPE_READ) {
				memcpy(io->u.bdev.iovs[i].iov_base, p, n);
			} else {
				memcpy(p, io->u.bdev.iovs[i].iov_base, n);
			}
			p += n;
			left -= n;
		}
		break;
	case PLX_BDEV_IO_TYPE_WRITE_ZEROES:
	case PLX_BDEV_IO_TYPE_UNMAP:
		memset(p, 0, left);
		break;
	default:
		break;
	}
}

void tm_complete_io(struct plx_bdev_io *io, enum plx_bdev_io_status status)
{
	struct tm_io *tio = (struct tm_io *)io->driver_ctx;

	if (tio->ch != NULL) {
		TAILQ_REMOVE(&tio->ch->queue, tio, link);
		tio->ch = NULL;
	}
	if (status == PLX_BDEV_IO_STATUS_SUCCESS) {
		tm_move_data(io);
	}
	plx_bdev_io_complete(io, status);
}

/* ---- submission ---- */

static void tm_record(struct plx_bdev_io *io, unsigned int thread)
{
	struct tm_rec *r;
	uintptr_t mask = ((uintptr_t)1 << io->bdev->required_alignment) - 1;

	if (g_tm_nrec >= TM_MAX_REC) {
		return;
	}
	r = &g_tm_rec[g_tm_nrec++];
	memset(r, 0, sizeof(*r));
	r->type = io->type;
	r->thread = thread;
	r->io = io;
	if (io->type == PLX_BDEV_IO_TYPE_ABORT) {
		return;
	}
	r->offset = io->u.bdev.offset_blocks;
	r->num_blocks = io->u.bdev.num_blocks;
	r->iovcnt = io->u.bdev.iovcnt;
	for (int i = 0; i < io->u.bdev.iovcnt && i < TM_REC_IOVS; i++) {
		r->iovs[i] = io->u.bdev.iovs[i];
		if (((uintptr_t)r->iovs[i].iov_base & mask) != 0) {
			g_tm_misaligned++;
		}
	}
}

static void tm_accept(struct tm_ch *ch, struct plx_bdev_io *io)
{
	struct tm_io *tio = (struct tm_io *)io->driver_ctx;
	struct tm_disk *disk = ch->disk;

	tm_record(io, ch->thread);
	tio->ch = NULL;
	if (disk->inline_status != PLX_BDEV_IO_STATUS_PENDING) {
		tm_complete_io(io, disk->inline_status);
		return;
	}
	tio->ch = ch;
	TAILQ_INSERT_TAIL(&ch->queue, tio, link);
}

static void tm_got_buf(struct plx_io_channel *pch, struct plx_bdev_io *io, bool success)
{
	if (!success) {
		plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
	tm_accept(plx_io_channel_get_ctx(pch), io);
}

static void tm_abort(struct tm_ch *ch, struct plx_bdev_io *io)
{
	struct tm_io *tio;

	tm_record(io, ch->thread);
	TAILQ_FOREACH(tio, &ch->queue, link)
	{
		if (plx_bdev_io_from_ctx(tio) == io->u.abort.bio_to_abort) {
			tm_complete_io(io->u.abort.bio_to_abort, PLX_BDEV_IO_STATUS_ABORTED);
			plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_SUCCESS);
			return;
		}
	}
	plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_FAILED);
}

static void tm_submit(struct plx_io_channel *pch, struct plx_bdev_io *io)
{
	struct tm_ch *ch = plx_io_channel_get_ctx(pch);

	((struct tm_io *)io->driver_ctx)->ch = NULL;
	if (io->type == PLX_BDEV_IO_TYPE_ABORT) {
		tm_abort(ch, io);
		return;
	}
	if (io->type == PLX_BDEV_IO_TYPE_READ && io->u.bdev.iovs[0].iov_base == NULL) {
		plx_bdev_io_get_buf(io, tm_got_buf, io->u.bdev.num_blocks * io->bdev->blocklen);
		return;
	}
	tm_accept(ch, io);
}

static bool tm_io_type_supported(void *ctx, enum plx_bdev_io_type type)
{
	struct tm_disk *disk = ctx;

	if (disk->unsupported & (1u << type)) {
		return false;
	}
	/* Compare and compare-and-write are left to the layer's emulation. */
	return type != PLX_BDEV_IO_TYPE_COMPARE && type != PLX_BDEV_IO_TYPE_COMPARE_AND_WRITE;
}

static void tm_device_gone(void *io_device)
{
	struct tm_disk *disk = io_device;

	plx_bdev_destruct_done(&disk->bdev, 0);
	free(disk->data);
	free(disk);
}

static int tm_destruct(void *ctx)
{
	struct tm_disk *disk = ctx;

	g_tm_destructs++;
	plx_io_device_unregister(disk, tm_device_gone);
	return 1;
}

static const struct plx_bdev_fn_table g_tm_fn_table = {
    .destruct = tm_destruct,
    .submit_request = tm_submit,
    .io_type_supported = tm_io_type_supported,
    .get_io_channel = tm_get_io_channel,
};

/* ---- set-up ---- */

void tm_init(unsigned int nthreads)
{
	ut_bdev_init(nthreads);
	g_tm_nthreads = nthreads;
	g_tm_destructs = 0;
	tm_reset_records();
}

void tm_init_pool(unsigned int nthreads, uint32_t pool_size)
{
	/* As ut_bdev_init, with a bdev_io pool of our size. */
	struct iobuf_opts opts = {
	    .small_pool_count = 256,
	    .large_pool_count = 32,
	    .small_bufsize = 8192,
	    .large_bufsize = 135168,
	};
	int rc;

	ut_threads_init(nthreads);
	ut_set_thread(0);
	g_bdev_opts.bdev_io_pool_size = pool_size;
	rc = iobuf_init(&opts);
	assert(rc == 0);
	rc = bdev_layer_init();
	assert(rc == 0);
	(void)rc;
	ut_bdev_remove_events = ut_bdev_resize_events = 0;
	g_tm_nthreads = nthreads;
	g_tm_destructs = 0;
	tm_reset_records();
}

void tm_fini(void)
{
	ut_bdev_fini();
	assert(TAILQ_EMPTY(&g_tm_chs));
	g_tm_nthreads = 0;
}

struct tm_disk *tm_create(const char *name, const struct tm_opts *o, int *rc)
{
	struct tm_disk *disk = calloc(1, sizeof(*disk));

	assert(disk != NULL);
	snprintf(disk->name, sizeof(disk->name), "%s", name);
	disk->bdev = (struct plx_bdev){
	    .name = disk->name,
	    .product_name = "ut disk",
	    .blocklen = o->blocklen,
	    .blockcnt = o->blockcnt,
	    .optimal_io_boundary = o->optimal_io_boundary,
	    .split_on_optimal_io_boundary = o->split_on_optimal_io_boundary,
	    .required_alignment = o->required_alignment,
	    .max_segment_size = o->max_segment_size,
	    .max_num_segments = o->max_num_segments,
	    .max_rw_size = o->max_rw_size,
	    .ctxt = disk,
	    .fn_table = &g_tm_fn_table,
	    .module = &g_tm_module,
	};
	if (o->uuid != NULL) {
		plx_uuid_parse(&disk->bdev.uuid, o->uuid);
	}
	disk->unsupported = o->unsupported;
	if (o->with_data && o->blocklen != 0) {
		disk->data = calloc(o->blockcnt, o->blocklen);
		assert(disk->data != NULL);
	}
	/* The io_device exists before the bdev: the layer may ask for channels from examine. */
	plx_io_device_register(disk, tm_ch_create, tm_ch_destroy, sizeof(struct tm_ch), name);
	*rc = plx_bdev_register(&disk->bdev);
	if (*rc != 0) {
		plx_io_device_unregister(disk, NULL);
		free(disk->data);
		free(disk);
		return NULL;
	}
	return disk;
}

struct tm_disk *tm_create_simple(const char *name)
{
	struct tm_opts o = {.blocklen = 512, .blockcnt = 1024, .with_data = true};
	int rc;

	return tm_create(name, &o, &rc);
}

static void tm_unregister_done(void *arg, int rc)
{
	*(int *)arg = rc;
}

int tm_delete(struct tm_disk *disk)
{
	int rc = 1;

	ut_set_thread(0);
	plx_bdev_unregister(&disk->bdev, tm_unregister_done, &rc);
	ut_poll_threads();
	return rc;
}

/* ---- queues and records ---- */

unsigned int tm_queued(struct tm_disk *disk, unsigned int t)
{
	struct tm_ch *ch = tm_find_ch(disk, t);
	struct tm_io *tio;
	unsigned int n = 0;

	if (ch == NULL) {
		return 0;
	}
	TAILQ_FOREACH(tio, &ch->queue, link)
	{
		n++;
	}
	return n;
}

struct plx_bdev_io *tm_queued_io(struct tm_disk *disk, unsigned int t, unsigned int idx)
{
	struct tm_ch *ch = tm_find_ch(disk, t);
	struct tm_io *tio;

	if (ch == NULL) {
		return NULL;
	}
	TAILQ_FOREACH(tio, &ch->queue, link)
	{
		if (idx-- == 0) {
			return plx_bdev_io_from_ctx(tio);
		}
	}
	return NULL;
}

unsigned int tm_complete(struct tm_disk *disk, unsigned int t, unsigned int n,
			 enum plx_bdev_io_status status)
{
	struct tm_ch *ch = tm_find_ch(disk, t);
	unsigned int done = 0;

	ut_set_thread(t);
	while (ch != NULL && done < n && !TAILQ_EMPTY(&ch->queue)) {
		tm_complete_io(plx_bdev_io_from_ctx(TAILQ_FIRST(&ch->queue)), status);
		done++;
	}
	return done;
}

void tm_reset_records(void)
{
	g_tm_nrec = 0;
	g_tm_misaligned = 0;
}

unsigned int tm_count(enum plx_bdev_io_type type)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < g_tm_nrec; i++) {
		n += type == PLX_BDEV_IO_TYPE_INVALID || g_tm_rec[i].type == type;
	}
	return n;
}

void tm_cpl_cb(struct plx_bdev_io *io, bool success, void *cb_arg)
{
	struct tm_cpl *c = cb_arg;
	struct iovec *iovs;
	int iovcnt;

	c->calls++;
	c->success = success;
	c->status = plx_bdev_io_get_status(io);
	c->thread = tm_cur_thread();
	c->order = ++g_tm_cpl_seq;
	c->iov0 = (struct iovec){0};
	if (io->type == PLX_BDEV_IO_TYPE_READ || io->type == PLX_BDEV_IO_TYPE_WRITE) {
		plx_bdev_io_get_iovec(io, &iovs, &iovcnt);
		if (iovcnt > 0) {
			c->iov0 = iovs[0];
		}
	}
	plx_bdev_free_io(io);
}

void tm_pattern(void *buf, size_t len, unsigned int seed)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		p[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 9));
	}
}
