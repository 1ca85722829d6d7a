/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The delay bdev. Each I/O goes to the base bdev at once; when the base completes it, a read
 * or write waits on its channel in one of four FIFO queues (average/p99 x read/write) until
 * its deadline. Within a queue the latency is the same for every entry, so deadlines only
 * grow and the poller looks at queue heads only. The poller is a timed poller, paused while
 * the queues are empty so that an idle reactor sleeps; its period follows the smallest
 * latency configured, so the added latency stays accurate to about an eighth.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/env.h"
#include "pollux/log.h"
#include "vbdev_delay.h"

#define DELAY_NONE	    PLX_DELAY_NUM_LATENCY_TYPES
#define DELAY_MIN_PERIOD_US 10
#define DELAY_MAX_PERIOD_US 100

struct delay_bdev {
	struct plx_bdev bdev;
	struct plx_bdev *base;
	struct plx_bdev_desc *base_desc;
	struct plx_thread *open_thread; /* where base_desc was opened and must be closed */
	/* Written on the app thread, read on I/O threads: relaxed atomics. */
	uint64_t latency_us[PLX_DELAY_NUM_LATENCY_TYPES];
	uint64_t latency_ticks[PLX_DELAY_NUM_LATENCY_TYPES];
	bool unregistering;
};

struct delay_io {
	struct delay_channel *ch; /* the module channel it arrived on */
	uint64_t deadline;
	unsigned int cls; /* a plx_delay_latency_type or DELAY_NONE */
	enum plx_bdev_io_status status;
	STAILQ_ENTRY(delay_io) link;
	struct plx_bdev_io_wait_entry wait;
};

struct delay_channel {
	struct plx_io_channel *base_ch;
	struct plx_poller *poller;
	uint64_t period_us;
	uint32_t queued;
	uint32_t rand_state;
	STAILQ_HEAD(, delay_io) queues[PLX_DELAY_NUM_LATENCY_TYPES];
};

static int delay_get_ctx_size(void)
{
	return sizeof(struct delay_io);
}

struct plx_bdev_module plx_delay_bdev_module = {
    .name = "delay",
    .get_ctx_size = delay_get_ctx_size,
};
PLX_BDEV_MODULE_REGISTER(delay, &plx_delay_bdev_module)

static inline struct delay_io *delay_io_ctx(struct plx_bdev_io *bdev_io)
{
	return (struct delay_io *)bdev_io->driver_ctx;
}

static uint64_t delay_us_to_ticks(uint64_t us)
{
	/* us <= one hour, so the product fits in 64 bits for any tick rate below 5 GHz. */
	return us * plx_get_ticks_hz() / 1000000;
}

static uint64_t delay_load(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/* ---- the poller ---- */

static uint64_t delay_poll_period_us(struct delay_bdev *d)
{
	uint64_t min = UINT64_MAX;

	for (int i = 0; i < PLX_DELAY_NUM_LATENCY_TYPES; i++) {
		uint64_t us = delay_load(&d->latency_us[i]);

		if (us != 0 && us < min) {
			min = us;
		}
	}
	return PLX_MAX(PLX_MIN(min / 8, (uint64_t)DELAY_MAX_PERIOD_US), DELAY_MIN_PERIOD_US);
}

static int delay_poll(void *arg)
{
	struct delay_channel *dch = arg;
	uint64_t now = plx_thread_get_last_tsc(plx_get_thread());
	int done = 0;

	for (int i = 0; i < PLX_DELAY_NUM_LATENCY_TYPES; i++) {
		struct delay_io *dio;

		while ((dio = STAILQ_FIRST(&dch->queues[i])) != NULL && dio->deadline <= now) {
			STAILQ_REMOVE_HEAD(&dch->queues[i], link);
			dch->queued--;
			done++;
			plx_bdev_io_complete(plx_bdev_io_from_ctx(dio), dio->status);
		}
	}
	if (dch->queued == 0) {
		plx_poller_pause(dch->poller);
	}
	return done > 0 ? PLX_POLLER_BUSY : PLX_POLLER_IDLE;
}

/* (Re)create the channel's poller for period_us, paused unless I/O is waiting. */
static int delay_channel_set_period(struct delay_channel *dch, uint64_t period_us)
{
	struct plx_poller *poller;

	if (dch->poller != NULL && dch->period_us == period_us) {
		return 0;
	}
	poller = plx_poller_register_named(delay_poll, dch, period_us, "vbdev_delay");
	if (poller == NULL) {
		return -ENOMEM;
	}
	plx_poller_unregister(&dch->poller);
	dch->poller = poller;
	dch->period_us = period_us;
	if (dch->queued == 0) {
		plx_poller_pause(poller);
	}
	return 0;
}

/* ---- I/O ---- */

static uint32_t delay_rand(struct delay_channel *dch)
{
	uint32_t x = dch->rand_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	dch->rand_state = x;
	return x;
}

/* About one I/O in a hundred gets the p99 latency. */
static unsigned int delay_class(struct delay_channel *dch, enum plx_bdev_io_type type)
{
	bool p99 = delay_rand(dch) % 100 == 0;

	switch (type) {
	case PLX_BDEV_IO_TYPE_READ:
		return p99 ? PLX_DELAY_P99_READ : PLX_DELAY_AVG_READ;
	case PLX_BDEV_IO_TYPE_WRITE:
		return p99 ? PLX_DELAY_P99_WRITE : PLX_DELAY_AVG_WRITE;
	default:
		return DELAY_NONE;
	}
}

static void delay_child_done(struct plx_bdev_io *child, bool success, void *cb_arg)
{
	struct plx_bdev_io *bdev_io = cb_arg;
	struct delay_io *dio = delay_io_ctx(bdev_io);
	struct delay_bdev *d = bdev_io->bdev->ctxt;
	struct delay_channel *dch;
	uint64_t ticks;

	dio->status = success ? PLX_BDEV_IO_STATUS_SUCCESS : plx_bdev_io_get_status(child);
	plx_bdev_free_io(child);
	ticks = dio->cls == DELAY_NONE ? 0 : delay_load(&d->latency_ticks[dio->cls]);
	if (ticks == 0) {
		plx_bdev_io_complete(bdev_io, dio->status);
		return;
	}
	dch = dio->ch;
	dio->deadline = plx_thread_get_last_tsc(plx_get_thread()) + ticks;
	STAILQ_INSERT_TAIL(&dch->queues[dio->cls], dio, link);
	if (dch->queued++ == 0) {
		plx_poller_resume(dch->poller);
	}
}

static int delay_submit_child(struct delay_bdev *d, struct delay_channel *dch,
			      struct plx_bdev_io *bdev_io)
{
	return plx_bdev_io_forward(d->base_desc, dch->base_ch, bdev_io,
				   bdev_io->u.bdev.offset_blocks, delay_child_done, bdev_io);
}

static void delay_resubmit(void *arg);

static void delay_submit(struct delay_channel *dch, struct plx_bdev_io *bdev_io)
{
	struct delay_bdev *d = bdev_io->bdev->ctxt;
	struct delay_io *dio = delay_io_ctx(bdev_io);
	int rc = delay_submit_child(d, dch, bdev_io);

	if (plx_likely(rc == 0)) {
		return;
	}
	if (rc == -ENOMEM) {
		dio->wait.bdev = d->base;
		dio->wait.cb_fn = delay_resubmit;
		dio->wait.cb_arg = bdev_io;
		rc = plx_bdev_queue_io_wait(d->base, dch->base_ch, &dio->wait);
		if (rc == 0) {
			return;
		}
	}
	PLX_ERRLOG("delay bdev %s: submitting to base %s failed: %d\n", d->bdev.name,
		   plx_bdev_get_name(d->base), rc);
	plx_bdev_io_complete(bdev_io, PLX_BDEV_IO_STATUS_FAILED);
}

static void delay_resubmit(void *arg)
{
	struct plx_bdev_io *bdev_io = arg;

	delay_submit(delay_io_ctx(bdev_io)->ch, bdev_io);
}

static void delay_read_buf_cb(struct plx_io_channel *ch, struct plx_bdev_io *bdev_io, bool success)
{
	if (!success) {
		plx_bdev_io_complete(bdev_io, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
	delay_submit(delay_io_ctx(bdev_io)->ch, bdev_io);
}

/* Abort an I/O still waiting out its delay here; false when it is not here. */
static bool delay_abort_queued(struct delay_channel *dch, struct plx_bdev_io *victim)
{
	for (int i = 0; i < PLX_DELAY_NUM_LATENCY_TYPES; i++) {
		struct delay_io *dio;

		STAILQ_FOREACH(dio, &dch->queues[i], link)
		{
			if (plx_bdev_io_from_ctx(dio) == victim) {
				STAILQ_REMOVE(&dch->queues[i], dio, delay_io, link);
				if (--dch->queued == 0) {
					plx_poller_pause(dch->poller);
				}
				plx_bdev_io_complete(victim, PLX_BDEV_IO_STATUS_ABORTED);
				return true;
			}
		}
	}
	return false;
}

static void delay_submit_request(struct plx_io_channel *ch, struct plx_bdev_io *bdev_io)
{
	struct delay_channel *dch = plx_io_channel_get_ctx(ch);
	struct delay_io *dio = delay_io_ctx(bdev_io);

	dio->ch = dch;
	dio->cls = delay_class(dch, bdev_io->type);
	switch (bdev_io->type) {
	case PLX_BDEV_IO_TYPE_READ:
		if (bdev_io->u.bdev.iovs[0].iov_base == NULL) {
			/* The buffer must outlive the base I/O, which is freed before the delay. */
			plx_bdev_io_get_buf(bdev_io, delay_read_buf_cb,
					    bdev_io->u.bdev.num_blocks * bdev_io->bdev->blocklen);
			return;
		}
		break;
	case PLX_BDEV_IO_TYPE_ABORT:
		if (bdev_io->u.abort.bio_to_abort == NULL) {
			plx_bdev_io_complete(bdev_io, PLX_BDEV_IO_STATUS_FAILED);
			return;
		}
		if (delay_abort_queued(dch, bdev_io->u.abort.bio_to_abort)) {
			plx_bdev_io_complete(bdev_io, PLX_BDEV_IO_STATUS_SUCCESS);
			return;
		}
		break;
	default:
		break;
	}
	delay_submit(dch, bdev_io);
}

static bool delay_io_type_supported(void *ctx, enum plx_bdev_io_type type)
{
	struct delay_bdev *d = ctx;

	return type == PLX_BDEV_IO_TYPE_ABORT || plx_bdev_io_type_supported(d->base, type);
}

static struct plx_io_channel *delay_get_io_channel(void *ctx)
{
	return plx_get_io_channel(ctx);
}

static int delay_channel_create(void *io_device, void *ctx_buf)
{
	struct delay_bdev *d = io_device;
	struct delay_channel *dch = ctx_buf;

	for (int i = 0; i < PLX_DELAY_NUM_LATENCY_TYPES; i++) {
		STAILQ_INIT(&dch->queues[i]);
	}
	/* Seeded from the thread, so a test run is reproducible. */
	dch->rand_state =
	    0x9e3779b9u ^ ((uint32_t)plx_thread_get_id(plx_get_thread()) * 2654435761u);
	if (dch->rand_state == 0) {
		dch->rand_state = 1;
	}
	dch->base_ch = plx_bdev_get_io_channel(d->base_desc);
	if (dch->base_ch == NULL) {
		return -ENOMEM;
	}
	if (delay_channel_set_period(dch, delay_poll_period_us(d)) != 0) {
		plx_put_io_channel(dch->base_ch);
		return -ENOMEM;
	}
	return 0;
}

static void delay_channel_destroy(void *io_device, void *ctx_buf)
{
	struct delay_channel *dch = ctx_buf;

	/* The bdev layer drains a channel before dropping it; this is only a safety net. */
	for (int i = 0; i < PLX_DELAY_NUM_LATENCY_TYPES; i++) {
		struct delay_io *dio;

		while ((dio = STAILQ_FIRST(&dch->queues[i])) != NULL) {
			STAILQ_REMOVE_HEAD(&dch->queues[i], link);
			plx_bdev_io_complete(plx_bdev_io_from_ctx(dio), PLX_BDEV_IO_STATUS_ABORTED);
		}
	}
	dch->queued = 0;
	plx_poller_unregister(&dch->poller);
	plx_put_io_channel(dch->base_ch);
}

/* ---- lifecycle ---- */

static void delay_free(struct delay_bdev *d)
{
	free(d->bdev.name);
	free(d);
}

/* On the thread that opened the base: let it go, then finish the destruct. */
static void delay_close_base(void *arg)
{
	struct delay_bdev *d = arg;

	plx_bdev_module_release_bdev(d->base);
	plx_bdev_close(d->base_desc);
	plx_bdev_destruct_done(&d->bdev, 0);
	delay_free(d);
}

static void delay_io_device_gone(void *io_device)
{
	struct delay_bdev *d = io_device;

	if (plx_get_thread() == d->open_thread ||
	    plx_thread_send_msg(d->open_thread, delay_close_base, d) != 0) {
		delay_close_base(d);
	}
}

static int delay_destruct(void *ctx)
{
	struct delay_bdev *d = ctx;

	d->unregistering = true;
	/* Our channels hold base channels: they must all be gone before the base is closed. */
	plx_io_device_unregister(d, delay_io_device_gone);
	return 1;
}

static void delay_dump_info_json(void *ctx, json_t *driver_specific)
{
	struct delay_bdev *d = ctx;

	json_object_set_new(
	    driver_specific, "delay",
	    json_pack(
		"{s:s, s:s, s:I, s:I, s:I, s:I}", "name", d->bdev.name, "base_bdev_name",
		plx_bdev_get_name(d->base), "avg_read_latency",
		(json_int_t)delay_load(&d->latency_us[PLX_DELAY_AVG_READ]), "p99_read_latency",
		(json_int_t)delay_load(&d->latency_us[PLX_DELAY_P99_READ]), "avg_write_latency",
		(json_int_t)delay_load(&d->latency_us[PLX_DELAY_AVG_WRITE]), "p99_write_latency",
		(json_int_t)delay_load(&d->latency_us[PLX_DELAY_P99_WRITE])));
}

static void delay_write_config_json(struct plx_bdev *bdev, json_t *config)
{
	struct delay_bdev *d = bdev->ctxt;
	char uuid[PLX_UUID_STRING_LEN];

	plx_uuid_fmt_lower(uuid, sizeof(uuid), &bdev->uuid);
	json_array_append_new(
	    config,
	    json_pack(
		"{s:s, s:{s:s, s:s, s:s, s:I, s:I, s:I, s:I}}", "method", "bdev_delay_create",
		"params", "name", bdev->name, "base_bdev_name", plx_bdev_get_name(d->base), "uuid",
		uuid, "avg_read_latency",
		(json_int_t)delay_load(&d->latency_us[PLX_DELAY_AVG_READ]), "p99_read_latency",
		(json_int_t)delay_load(&d->latency_us[PLX_DELAY_P99_READ]), "avg_write_latency",
		(json_int_t)delay_load(&d->latency_us[PLX_DELAY_AVG_WRITE]), "p99_write_latency",
		(json_int_t)delay_load(&d->latency_us[PLX_DELAY_P99_WRITE])));
}

static const struct plx_bdev_fn_table g_delay_fn_table = {
    .destruct = delay_destruct,
    .submit_request = delay_submit_request,
    .io_type_supported = delay_io_type_supported,
    .get_io_channel = delay_get_io_channel,
    .dump_info_json = delay_dump_info_json,
    .write_config_json = delay_write_config_json,
};

static void delay_base_event(enum plx_bdev_event_type type, struct plx_bdev *base, void *ctx)
{
	struct delay_bdev *d = ctx;

	switch (type) {
	case PLX_BDEV_EVENT_REMOVE:
		if (!d->unregistering) {
			d->unregistering = true;
			plx_bdev_unregister(&d->bdev, NULL, NULL);
		}
		break;
	case PLX_BDEV_EVENT_RESIZE:
		plx_bdev_notify_blockcnt_change(&d->bdev, plx_bdev_get_num_blocks(base));
		break;
	}
}

static int delay_check_latencies(const uint64_t *us)
{
	for (int i = 0; i < PLX_DELAY_NUM_LATENCY_TYPES; i++) {
		if (us[i] > PLX_DELAY_MAX_LATENCY_US) {
			return -EINVAL;
		}
	}
	if (us[PLX_DELAY_AVG_READ] > us[PLX_DELAY_P99_READ] ||
	    us[PLX_DELAY_AVG_WRITE] > us[PLX_DELAY_P99_WRITE]) {
		return -EINVAL;
	}
	return 0;
}

static void delay_set_latency(struct delay_bdev *d, int type, uint64_t us)
{
	__atomic_store_n(&d->latency_us[type], us, __ATOMIC_RELAXED);
	__atomic_store_n(&d->latency_ticks[type], delay_us_to_ticks(us), __ATOMIC_RELAXED);
}

/* Copy the base's geometry so that the delay bdev looks exactly like it. */
static void delay_copy_geometry(struct plx_bdev *bdev, const struct plx_bdev *base)
{
	bdev->blocklen = base->blocklen;
	bdev->blockcnt = base->blockcnt;
	bdev->write_cache = base->write_cache;
	bdev->optimal_io_boundary = base->optimal_io_boundary;
	bdev->split_on_optimal_io_boundary = base->split_on_optimal_io_boundary;
	bdev->required_alignment = base->required_alignment;
	bdev->max_segment_size = base->max_segment_size;
	bdev->max_num_segments = base->max_num_segments;
	bdev->max_rw_size = base->max_rw_size;
}

static int delay_attach(struct delay_bdev *d, const char *base_name)
{
	int rc;

	rc = plx_bdev_open_ext(base_name, true, delay_base_event, d, &d->base_desc);
	if (rc != 0) {
		PLX_ERRLOG("delay bdev %s: cannot open base bdev %s: %d\n", d->bdev.name, base_name,
			   rc);
		return rc;
	}
	d->base = plx_bdev_desc_get_bdev(d->base_desc);
	d->open_thread = plx_get_thread();
	rc = plx_bdev_module_claim_bdev(d->base, d->base_desc, &plx_delay_bdev_module);
	if (rc != 0) {
		PLX_ERRLOG("delay bdev %s: base bdev %s is already claimed\n", d->bdev.name,
			   base_name);
		plx_bdev_close(d->base_desc);
		return rc;
	}
	delay_copy_geometry(&d->bdev, d->base);
	return 0;
}

int plx_bdev_delay_create(const struct plx_bdev_delay_opts *opts, struct plx_bdev **bdev)
{
	struct delay_bdev *d;
	int rc;

	if (delay_check_latencies(opts->latency_us) != 0) {
		return -EINVAL;
	}
	if (plx_bdev_get_by_name(opts->base_bdev_name) == NULL) {
		return -ENODEV;
	}
	if (plx_bdev_get_by_name(opts->name) != NULL) {
		return -EEXIST;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL || (d->bdev.name = strdup(opts->name)) == NULL) {
		free(d);
		return -ENOMEM;
	}
	for (int i = 0; i < PLX_DELAY_NUM_LATENCY_TYPES; i++) {
		delay_set_latency(d, i, opts->latency_us[i]);
	}
	d->bdev.product_name = "delay";
	d->bdev.uuid = opts->uuid;
	d->bdev.ctxt = d;
	d->bdev.fn_table = &g_delay_fn_table;
	d->bdev.module = &plx_delay_bdev_module;
	rc = delay_attach(d, opts->base_bdev_name);
	if (rc != 0) {
		delay_free(d);
		return rc;
	}
	plx_io_device_register(d, delay_channel_create, delay_channel_destroy,
			       sizeof(struct delay_channel), d->bdev.name);
	rc = plx_bdev_register(&d->bdev);
	if (rc != 0) {
		plx_io_device_unregister(d, NULL);
		plx_bdev_module_release_bdev(d->base);
		plx_bdev_close(d->base_desc);
		delay_free(d);
		return rc;
	}
	if (bdev != NULL) {
		*bdev = &d->bdev;
	}
	return 0;
}

static struct delay_bdev *delay_find(const char *name)
{
	struct plx_bdev *bdev = plx_bdev_get_by_name(name);

	if (bdev == NULL || bdev->module != &plx_delay_bdev_module) {
		return NULL;
	}
	return bdev->ctxt;
}

int plx_bdev_delay_delete(const char *name, plx_bdev_unregister_cb cb, void *cb_arg)
{
	struct delay_bdev *d = delay_find(name);

	if (d == NULL || d->unregistering) {
		return -ENODEV;
	}
	d->unregistering = true;
	plx_bdev_unregister(&d->bdev, cb, cb_arg);
	return 0;
}

static void delay_retune_channel(struct plx_io_channel_iter *i)
{
	struct delay_bdev *d = plx_io_channel_iter_get_io_device(i);
	struct delay_channel *dch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));

	/* On failure the old poller stays: a less accurate delay, nothing worse. */
	delay_channel_set_period(dch, delay_poll_period_us(d));
	plx_for_each_channel_continue(i, 0);
}

static void delay_retune_done(struct plx_io_channel_iter *i, int status)
{
}

int plx_bdev_delay_update_latency(const char *name, enum plx_delay_latency_type type,
				  uint64_t latency_us)
{
	struct delay_bdev *d = delay_find(name);
	uint64_t us[PLX_DELAY_NUM_LATENCY_TYPES];

	if (d == NULL) {
		return -ENODEV;
	}
	if ((unsigned int)type >= PLX_DELAY_NUM_LATENCY_TYPES) {
		return -EINVAL;
	}
	memcpy(us, d->latency_us, sizeof(us));
	us[type] = latency_us;
	if (delay_check_latencies(us) != 0) {
		return -EINVAL;
	}
	delay_set_latency(d, type, latency_us);
	plx_for_each_channel(d, delay_retune_channel, NULL, delay_retune_done);
	return 0;
}

uint64_t plx_bdev_delay_get_latency(struct plx_bdev *bdev, enum plx_delay_latency_type type)
{
	struct delay_bdev *d = bdev->ctxt;

	return delay_load(&d->latency_us[type]);
}
