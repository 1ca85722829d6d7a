/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The I/O path: channels, bdev_io allocation from a per-thread cache, submission and
 * completion. The fast path is a handful of branches: a channel's flags word says whether any
 * slow-path feature (reset, range locks, splitting, bounce checks, QoS, histograms) applies.
 *
 * Completions that happen while the thread is inside a submit call (a module completing
 * inline, as the null and malloc bdevs do) are deferred to a per-thread list and delivered
 * from a message the thread sends itself, once per batch: a caller that resubmits from its
 * callback then never recurses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"

struct plx_mempool *g_bdev_io_pool;
size_t g_bdev_io_size;
int g_bdev_mgmt_io_device;

#define IO_CACHE_REFILL 32

/* ---- per-thread management channel ---- */

int bdev_mgmt_channel_create(void *io_device, void *ctx)
{
	struct bdev_mgmt_channel *mgmt = ctx;

	STAILQ_INIT(&mgmt->io_cache);
	STAILQ_INIT(&mgmt->deferred);
	STAILQ_INIT(&mgmt->buf_wait_small);
	STAILQ_INIT(&mgmt->buf_wait_large);
	mgmt->thread = plx_get_thread();
	return 0;
}

void bdev_mgmt_channel_destroy(void *io_device, void *ctx)
{
	struct bdev_mgmt_channel *mgmt = ctx;
	struct plx_bdev_io *io;

	while ((io = STAILQ_FIRST(&mgmt->io_cache)) != NULL) {
		STAILQ_REMOVE_HEAD(&mgmt->io_cache, internal.link);
		plx_mempool_put(g_bdev_io_pool, io);
	}
	if (!STAILQ_EMPTY(&mgmt->deferred)) {
		PLX_ERRLOG("bdev management channel destroyed with completions pending\n");
	}
}

/* ---- bdev channels ---- */

static uint32_t bdev_channel_flags(struct plx_bdev *bdev)
{
	uint32_t flags = 0;

	if ((bdev->split_on_optimal_io_boundary && bdev->optimal_io_boundary != 0) ||
	    bdev->max_rw_size != 0 || bdev->max_num_segments != 0 || bdev->max_segment_size != 0) {
		flags |= BDEV_CH_NEEDS_SPLIT;
	}
	if (bdev->required_alignment != 0) {
		flags |= BDEV_CH_BOUNCE_CHECK;
	}
	return flags;
}

int bdev_channel_create(void *io_device, void *ctx)
{
	struct plx_bdev_internal *in = io_device;
	struct plx_bdev *bdev = in->bdev;
	struct plx_bdev_channel *bch = ctx;

	bch->bdev = bdev;
	TAILQ_INIT(&bch->io_submitted);
	STAILQ_INIT(&bch->nomem_io);
	STAILQ_INIT(&bch->held_io);
	TAILQ_INIT(&bch->locked_ranges);
	bdev_stat_init(&bch->stat);
	bch->module_ch = bdev->fn_table->get_io_channel(bdev->ctxt);
	if (bch->module_ch == NULL) {
		PLX_ERRLOG("bdev %s: module %s gave no channel\n", bdev->name, bdev->module->name);
		return -ENOMEM;
	}
	bch->mgmt_ch = plx_get_io_channel(&g_bdev_mgmt_io_device);
	if (bch->mgmt_ch == NULL) {
		plx_put_io_channel(bch->module_ch);
		return -ENOMEM;
	}
	bch->mgmt = plx_io_channel_get_ctx(bch->mgmt_ch);
	bch->flags = bdev_channel_flags(bdev);
	if (in->qos != NULL) {
		bch->flags |= BDEV_CH_QOS;
	}
	if (in->histogram != NULL) {
		bch->histogram = bdev_histogram_clone_config(in->histogram);
		if (bch->histogram != NULL) {
			bch->flags |= BDEV_CH_HISTOGRAM;
		}
	}
	/* Ranges locked before this channel existed apply to it too. */
	pthread_mutex_lock(&in->mutex);
	if (!TAILQ_EMPTY(&in->locked_ranges)) {
		struct bdev_lba_range *r, *copy;

		TAILQ_FOREACH(r, &in->locked_ranges, link)
		{
			copy = malloc(sizeof(*copy));
			if (copy != NULL) {
				*copy = *r;
				TAILQ_INSERT_TAIL(&bch->locked_ranges, copy, link);
			}
		}
		bch->flags |= BDEV_CH_LOCKED_RANGES;
	}
	pthread_mutex_unlock(&in->mutex);
	return 0;
}

void bdev_channel_destroy(void *io_device, void *ctx)
{
	struct plx_bdev_internal *in = io_device;
	struct plx_bdev_channel *bch = ctx;
	struct bdev_lba_range *r;

	if (bch->io_outstanding != 0) {
		PLX_ERRLOG("bdev %s: channel destroyed with %lu I/O outstanding\n", bch->bdev->name,
			   (unsigned long)bch->io_outstanding);
	}
	pthread_mutex_lock(&in->mutex);
	bdev_stat_add(&in->stat_retired, &bch->stat);
	pthread_mutex_unlock(&in->mutex);
	while ((r = TAILQ_FIRST(&bch->locked_ranges)) != NULL) {
		TAILQ_REMOVE(&bch->locked_ranges, r, link);
		free(r);
	}
	bdev_histogram_free(bch->histogram);
	plx_put_io_channel(bch->module_ch);
	plx_put_io_channel(bch->mgmt_ch);
}

/* ---- bdev_io allocation ---- */

static bool io_cache_refill(struct bdev_mgmt_channel *mgmt)
{
	void *objs[IO_CACHE_REFILL];
	size_t n = IO_CACHE_REFILL;

	while (n > 0 && plx_mempool_get_bulk(g_bdev_io_pool, objs, n) != 0) {
		n /= 2;
	}
	for (size_t i = 0; i < n; i++) {
		STAILQ_INSERT_TAIL(&mgmt->io_cache, (struct plx_bdev_io *)objs[i], internal.link);
	}
	mgmt->io_cache_count += (uint32_t)n;
	return n > 0;
}

struct plx_bdev_io *bdev_io_get(struct plx_bdev_channel *bch)
{
	struct bdev_mgmt_channel *mgmt = bch->mgmt;
	struct plx_bdev_io *io;

	/* Waiters go first: a new request must not overtake one that is waiting (but the waiter
	 * being woken must get one, even while others still wait behind it). */
	if (plx_unlikely(mgmt->io_wait_head != NULL) && !mgmt->io_wait_running) {
		return NULL;
	}
	if (plx_unlikely(STAILQ_EMPTY(&mgmt->io_cache)) && !io_cache_refill(mgmt)) {
		return NULL;
	}
	io = STAILQ_FIRST(&mgmt->io_cache);
	STAILQ_REMOVE_HEAD(&mgmt->io_cache, internal.link);
	mgmt->io_cache_count--;
	return io;
}

static void io_wait_run(struct bdev_mgmt_channel *mgmt)
{
	/* One waiter per freed bdev_io; it resubmits, taking the one just freed. */
	struct plx_bdev_io_wait_entry *e = mgmt->io_wait_head;

	mgmt->io_wait_head = e->next;
	if (mgmt->io_wait_head == NULL) {
		mgmt->io_wait_tail = NULL;
	}
	mgmt->io_wait_running = true;
	e->cb_fn(e->cb_arg);
	mgmt->io_wait_running = false;
}

void plx_bdev_free_io(struct plx_bdev_io *io)
{
	struct bdev_mgmt_channel *mgmt = io->internal.ch->mgmt;

	if (plx_unlikely(io->internal.buf != NULL)) {
		iobuf_put(io->internal.buf, io->internal.buf_len);
		io->internal.buf = NULL;
	}
	if (plx_unlikely(mgmt->io_cache_count >= g_bdev_opts.bdev_io_cache_size)) {
		plx_mempool_put(g_bdev_io_pool, io);
	} else {
		STAILQ_INSERT_HEAD(&mgmt->io_cache, io, internal.link);
		mgmt->io_cache_count++;
	}
	if (plx_unlikely(mgmt->io_wait_head != NULL)) {
		io_wait_run(mgmt);
	}
}

int plx_bdev_queue_io_wait(struct plx_bdev *bdev, struct plx_io_channel *ch,
			   struct plx_bdev_io_wait_entry *entry)
{
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(ch);
	struct bdev_mgmt_channel *mgmt = bch->mgmt;

	if (entry->bdev != bdev || entry->cb_fn == NULL) {
		PLX_ERRLOG("io_wait entry for bdev %s is not filled in\n", bdev->name);
		return -EINVAL;
	}
	entry->next = NULL;
	if (mgmt->io_wait_tail != NULL) {
		mgmt->io_wait_tail->next = entry;
	} else {
		mgmt->io_wait_head = entry;
	}
	mgmt->io_wait_tail = entry;
	/* A bdev_io may be free already: then nothing would ever wake the waiter. */
	if (mgmt->io_cache_count > 0 || io_cache_refill(mgmt)) {
		io_wait_run(mgmt);
	}
	return 0;
}

/* ---- submission ---- */

void bdev_io_init(struct plx_bdev_io *io, struct plx_bdev_desc *desc, struct plx_bdev_channel *bch,
		  enum plx_bdev_io_type type, plx_bdev_io_completion_cb cb, void *cb_arg)
{
	io->bdev = bch->bdev;
	io->type = type;
	io->internal.ch = bch;
	io->internal.desc = desc;
	io->internal.cb = cb;
	io->internal.caller_ctx = cb_arg;
	io->internal.status = PLX_BDEV_IO_STATUS_PENDING;
	io->internal.parent = NULL;
	io->internal.buf = NULL;
	io->internal.orig_iovs = NULL;
	io->internal.on_channel = false;
}

/* Hand io to the module; the thread is "in submit" meanwhile, so completions defer. */
void bdev_io_submit_to_module(struct plx_bdev_io *io)
{
	struct plx_bdev_channel *bch = io->internal.ch;
	struct bdev_mgmt_channel *mgmt = bch->mgmt;

	bch->io_outstanding++;
	io->internal.on_channel = true;
	TAILQ_INSERT_TAIL(&bch->io_submitted, io, internal.ch_link);
	mgmt->submit_depth++;
	io->bdev->fn_table->submit_request(bch->module_ch, io);
	mgmt->submit_depth--;
}

static void bdev_io_hold(struct plx_bdev_channel *bch, struct plx_bdev_io *io)
{
	STAILQ_INSERT_TAIL(&bch->held_io, io, internal.link);
}

static bool is_write_like(enum plx_bdev_io_type type)
{
	return type == PLX_BDEV_IO_TYPE_WRITE || type == PLX_BDEV_IO_TYPE_WRITE_ZEROES ||
	       type == PLX_BDEV_IO_TYPE_UNMAP;
}

/* Everything that is not the common case, in the order the features apply. */
static void bdev_io_submit_slow_steps(struct plx_bdev_io *io)
{
	struct plx_bdev_channel *bch = io->internal.ch;

	if ((bch->flags & BDEV_CH_RESET_IN_PROGRESS) && io->type != PLX_BDEV_IO_TYPE_RESET &&
	    io->internal.parent == NULL) {
		bdev_io_hold(bch, io);
		return;
	}
	if ((bch->flags & BDEV_CH_QOS) && bdev_qos_route(io)) {
		return;
	}
	if ((bch->flags & BDEV_CH_LOCKED_RANGES) && is_write_like(io->type) &&
	    bdev_io_range_locked(bch, io)) {
		bdev_io_hold(bch, io);
		return;
	}
	if ((bch->flags & BDEV_CH_NEEDS_SPLIT) && bdev_io_should_split(io)) {
		bdev_io_split(io);
		return;
	}
	if ((bch->flags & BDEV_CH_BOUNCE_CHECK) && bdev_io_needs_bounce(io)) {
		bdev_io_bounce(io);
		return;
	}
	bdev_io_submit_to_module(io);
}

/*
 * Run start(io) as part of a submit call: an I/O the layer itself finishes meanwhile (a
 * failed split, an abort of a queued I/O) has its callback deferred like an inline completion.
 */
void bdev_io_start_op(struct plx_bdev_io *io, void (*start)(struct plx_bdev_io *io))
{
	struct bdev_mgmt_channel *mgmt = io->internal.ch->mgmt;

	mgmt->submit_depth++;
	start(io);
	mgmt->submit_depth--;
}

static void bdev_io_submit_slow(struct plx_bdev_io *io)
{
	bdev_io_start_op(io, bdev_io_submit_slow_steps);
}

void bdev_io_submit(struct plx_bdev_io *io)
{
	struct plx_bdev_channel *bch = io->internal.ch;

	io->internal.submit_tsc = plx_thread_get_last_tsc(bch->mgmt->thread);
	if (plx_likely(bch->flags == 0)) {
		bdev_io_submit_to_module(io);
		return;
	}
	bdev_io_submit_slow(io);
}

/* Re-run held I/O through submission (after a reset, or when a range unlocks). */
void bdev_ch_resubmit_held(struct plx_bdev_channel *bch)
{
	STAILQ_HEAD(, plx_bdev_io) held = STAILQ_HEAD_INITIALIZER(held);
	struct plx_bdev_io *io;

	STAILQ_CONCAT(&held, &bch->held_io);
	while ((io = STAILQ_FIRST(&held)) != NULL) {
		STAILQ_REMOVE_HEAD(&held, internal.link);
		bdev_io_submit(io);
	}
}

/* ---- completion ---- */

static inline void bdev_io_call_cb(struct plx_bdev_io *io)
{
	io->internal.cb(io, io->internal.status == PLX_BDEV_IO_STATUS_SUCCESS,
			io->internal.caller_ctx);
}

static void deferred_flush(void *arg);

static void bdev_io_defer(struct bdev_mgmt_channel *mgmt, struct plx_bdev_io *io)
{
	STAILQ_INSERT_TAIL(&mgmt->deferred, io, internal.link);
	if (!mgmt->flush_scheduled) {
		mgmt->flush_scheduled = true;
		plx_thread_send_msg(mgmt->thread, deferred_flush, mgmt);
	}
}

/* The caller's callback never runs inside one of its submit calls. */
void bdev_io_complete_to_caller(struct plx_bdev_io *io)
{
	struct bdev_mgmt_channel *mgmt = io->internal.ch->mgmt;

	if (io->internal.parent == NULL && mgmt->submit_depth > 0) {
		bdev_io_defer(mgmt, io);
		return;
	}
	bdev_io_call_cb(io);
}

static void deferred_flush(void *arg)
{
	struct bdev_mgmt_channel *mgmt = arg;
	STAILQ_HEAD(, plx_bdev_io) batch = STAILQ_HEAD_INITIALIZER(batch);
	struct plx_bdev_io *io;

	/* Only this batch: completions its callbacks cause wait for the next message. */
	STAILQ_CONCAT(&batch, &mgmt->deferred);
	mgmt->flush_scheduled = false;
	while ((io = STAILQ_FIRST(&batch)) != NULL) {
		STAILQ_REMOVE_HEAD(&batch, internal.link);
		bdev_io_call_cb(io);
	}
}

static void bdev_io_retry_nomem(struct plx_bdev_channel *bch);

static void nomem_retry_msg(void *arg)
{
	bdev_io_retry_nomem(arg);
}

static void bdev_io_retry_nomem(struct plx_bdev_channel *bch)
{
	struct plx_bdev_io *io;

	if (STAILQ_EMPTY(&bch->nomem_io)) {
		return;
	}
	/* One freed slot at the module: retry the oldest. */
	io = STAILQ_FIRST(&bch->nomem_io);
	STAILQ_REMOVE_HEAD(&bch->nomem_io, internal.link);
	bdev_io_submit_to_module(io);
}

void plx_bdev_io_complete(struct plx_bdev_io *io, enum plx_bdev_io_status status)
{
	struct plx_bdev_channel *bch = io->internal.ch;
	struct bdev_mgmt_channel *mgmt = bch->mgmt;

	if (io->internal.on_channel) {
		io->internal.on_channel = false;
		TAILQ_REMOVE(&bch->io_submitted, io, internal.ch_link);
		bch->io_outstanding--;
	}
	if (plx_unlikely(status == PLX_BDEV_IO_STATUS_NOMEM)) {
		STAILQ_INSERT_TAIL(&bch->nomem_io, io, internal.link);
		/* Nothing else outstanding would ever trigger the retry: retry now, later. */
		if (bch->io_outstanding == 0) {
			plx_thread_send_msg(mgmt->thread, nomem_retry_msg, bch);
		}
		return;
	}
	io->internal.status = status;
	bdev_stat_record(bch, io, plx_thread_get_last_tsc(mgmt->thread));
	if (plx_unlikely(!STAILQ_EMPTY(&bch->nomem_io))) {
		bdev_io_retry_nomem(bch);
	}
	if (mgmt->submit_depth > 0) {
		bdev_io_defer(mgmt, io);
		return;
	}
	bdev_io_call_cb(io);
}

/* ---- accessors ---- */

void plx_bdev_io_get_iovec(struct plx_bdev_io *io, struct iovec **iovp, int *iovcntp)
{
	*iovp = io->u.bdev.iovs;
	*iovcntp = io->u.bdev.iovcnt;
}

enum plx_bdev_io_type plx_bdev_io_get_type(const struct plx_bdev_io *io)
{
	return io->type;
}

struct plx_io_channel *plx_bdev_io_get_io_channel(struct plx_bdev_io *io)
{
	/* The module's channel (what submit_request got), not the layer's own. */
	return io->internal.ch->module_ch;
}

enum plx_bdev_io_status plx_bdev_io_get_status(const struct plx_bdev_io *io)
{
	return io->internal.status;
}

/* ---- buffers for reads submitted without one ---- */

void plx_bdev_io_get_buf(struct plx_bdev_io *io, plx_bdev_io_get_buf_cb cb, uint64_t len)
{
	struct plx_io_channel *ch = plx_bdev_io_get_io_channel(io);
	void *buf;

	if (io->u.bdev.iovs != NULL && io->u.bdev.iovs[0].iov_base != NULL) {
		cb(ch, io, true);
		return;
	}
	buf = iobuf_get(len);
	if (buf == NULL) {
		/* Pools are sized generously; running dry is an error the caller sees. */
		PLX_ERRLOG("bdev %s: no %lu-byte buffer available\n", io->bdev->name,
			   (unsigned long)len);
		cb(ch, io, false);
		return;
	}
	io->internal.buf = buf;
	io->internal.buf_len = len;
	io->u.bdev.iov.iov_base = buf;
	io->u.bdev.iov.iov_len = len;
	io->u.bdev.iovs = &io->u.bdev.iov;
	io->u.bdev.iovcnt = 1;
	cb(ch, io, true);
}
