/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The error bdev. One injection rule per I/O type, set from the app thread and consumed by
 * I/O threads: a rule's count is taken with a compare-and-swap, so exactly num I/Os are hit
 * however many threads submit; the other fields are published before the count (release)
 * and read after it (acquire). An I/O type without a rule costs one relaxed load.
 *
 * Held ("pending") I/O sits on its channel's list. It leaves by resume (sent down), abort,
 * reset or delete (completed ABORTED); delete and base hot-remove sweep every channel first,
 * so that the bdev's users, which wait for their I/O before closing, are not stuck.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/log.h"
#include "vbdev_error.h"

struct error_rule {
	uint32_t type; /* enum plx_error_inject_type */
	uint32_t num;  /* I/Os left to hit: the publication point of the rule */
	uint64_t queue_depth;
	uint64_t corrupt_offset;
	uint8_t corrupt_value;
};

struct error_bdev {
	struct plx_bdev bdev;
	struct plx_bdev *base;
	struct plx_bdev_desc *base_desc;
	struct plx_thread *open_thread; /* where base_desc was opened and must be closed */
	struct error_rule rules[PLX_BDEV_NUM_IO_TYPES];
	bool unregistering; /* no more injection; read on I/O threads (relaxed) */
};

struct error_io {
	struct error_channel *ch;   /* the module channel it arrived on */
	TAILQ_ENTRY(error_io) link; /* on the channel's pending list */
	struct plx_bdev_io_wait_entry wait;
	uint64_t corrupt_offset;
	uint8_t corrupt_value; /* non-zero: corrupt the read data on its way back */
};

struct error_channel {
	struct plx_io_channel *base_ch;
	uint64_t outstanding; /* I/Os received and not yet completed, pending included */
	TAILQ_HEAD(, error_io) pending;
};

static int error_get_ctx_size(void)
{
	return sizeof(struct error_io);
}

struct plx_bdev_module plx_error_bdev_module = {
    .name = "error",
    .get_ctx_size = error_get_ctx_size,
};
PLX_BDEV_MODULE_REGISTER(error, &plx_error_bdev_module)

static inline struct error_io *error_io_ctx(struct plx_bdev_io *bdev_io)
{
	return (struct error_io *)bdev_io->driver_ctx;
}

static inline struct error_channel *error_ch_of(struct plx_bdev_io *bdev_io)
{
	return error_io_ctx(bdev_io)->ch;
}

static void error_complete(struct plx_bdev_io *bdev_io, enum plx_bdev_io_status status)
{
	error_ch_of(bdev_io)->outstanding--;
	plx_bdev_io_complete(bdev_io, status);
}

static void error_corrupt(struct iovec *iov, int iovcnt, uint64_t offset, uint8_t value)
{
	for (int i = 0; i < iovcnt; i++) {
		if (offset < iov[i].iov_len) {
			((uint8_t *)iov[i].iov_base)[offset] ^= value;
			return;
		}
		offset -= iov[i].iov_len;
	}
}

/* ---- passing I/O down ---- */

static void error_child_done(struct plx_bdev_io *child, bool success, void *cb_arg)
{
	struct plx_bdev_io *bdev_io = cb_arg;
	struct error_io *eio = error_io_ctx(bdev_io);
	enum plx_bdev_io_status status;

	status = success ? PLX_BDEV_IO_STATUS_SUCCESS : plx_bdev_io_get_status(child);
	plx_bdev_free_io(child);
	if (eio->corrupt_value != 0 && success) {
		error_corrupt(bdev_io->u.bdev.iovs, bdev_io->u.bdev.iovcnt, eio->corrupt_offset,
			      eio->corrupt_value);
	}
	error_complete(bdev_io, status);
}

static int error_submit_child(struct error_bdev *eb, struct error_channel *ech,
			      struct plx_bdev_io *bdev_io)
{
	return plx_bdev_io_forward(eb->base_desc, ech->base_ch, bdev_io,
				   bdev_io->u.bdev.offset_blocks, error_child_done, bdev_io);
}

static void error_resubmit(void *arg);

static void error_pass_down(struct error_channel *ech, struct plx_bdev_io *bdev_io)
{
	struct error_bdev *eb = bdev_io->bdev->ctxt;
	struct error_io *eio = error_io_ctx(bdev_io);
	int rc = error_submit_child(eb, ech, bdev_io);

	if (plx_likely(rc == 0)) {
		return;
	}
	if (rc == -ENOMEM) {
		eio->wait.bdev = eb->base;
		eio->wait.cb_fn = error_resubmit;
		eio->wait.cb_arg = bdev_io;
		rc = plx_bdev_queue_io_wait(eb->base, ech->base_ch, &eio->wait);
		if (rc == 0) {
			return;
		}
	}
	PLX_ERRLOG("error bdev %s: submitting to base %s failed: %d\n", eb->bdev.name,
		   plx_bdev_get_name(eb->base), rc);
	error_complete(bdev_io, PLX_BDEV_IO_STATUS_FAILED);
}

static void error_resubmit(void *arg)
{
	struct plx_bdev_io *bdev_io = arg;

	error_pass_down(error_ch_of(bdev_io), bdev_io);
}

/* ---- held I/O ---- */

static bool error_abort_pending_one(struct error_channel *ech, struct plx_bdev_io *victim)
{
	struct error_io *eio;

	TAILQ_FOREACH(eio, &ech->pending, link)
	{
		if (plx_bdev_io_from_ctx(eio) == victim) {
			TAILQ_REMOVE(&ech->pending, eio, link);
			error_complete(victim, PLX_BDEV_IO_STATUS_ABORTED);
			return true;
		}
	}
	return false;
}

static void error_abort_pending_all(struct error_channel *ech)
{
	struct error_io *eio;

	while ((eio = TAILQ_FIRST(&ech->pending)) != NULL) {
		TAILQ_REMOVE(&ech->pending, eio, link);
		error_complete(plx_bdev_io_from_ctx(eio), PLX_BDEV_IO_STATUS_ABORTED);
	}
}

static void error_abort_pending_channel(struct plx_io_channel_iter *i)
{
	error_abort_pending_all(plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i)));
	plx_for_each_channel_continue(i, 0);
}

/* ---- injection ---- */

/* Take one hit from rule: true when this I/O is to be hit (rule copied into *out). */
static bool error_rule_take(struct error_rule *rule, struct error_channel *ech,
			    struct error_rule *out)
{
	uint32_t num = __atomic_load_n(&rule->num, __ATOMIC_ACQUIRE);

	do {
		if (num == 0) {
			return false;
		}
		*out = *rule;
		if (out->queue_depth != 0 && ech->outstanding < out->queue_depth) {
			return false;
		}
	} while (!__atomic_compare_exchange_n(&rule->num, &num, num - 1, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return true;
}

/* Apply an injection to bdev_io; false when it goes down normally after all. */
static bool error_inject(struct error_channel *ech, struct plx_bdev_io *bdev_io,
			 const struct error_rule *rule)
{
	struct error_io *eio = error_io_ctx(bdev_io);

	switch (rule->type) {
	case PLX_ERROR_INJECT_FAILURE:
		error_complete(bdev_io, PLX_BDEV_IO_STATUS_FAILED);
		return true;
	case PLX_ERROR_INJECT_NOMEM:
		error_complete(bdev_io, PLX_BDEV_IO_STATUS_NOMEM);
		return true;
	case PLX_ERROR_INJECT_PENDING:
		TAILQ_INSERT_TAIL(&ech->pending, eio, link);
		return true;
	case PLX_ERROR_INJECT_CORRUPT_DATA:
		if (bdev_io->type == PLX_BDEV_IO_TYPE_WRITE) {
			error_corrupt(bdev_io->u.bdev.iovs, bdev_io->u.bdev.iovcnt,
				      rule->corrupt_offset, rule->corrupt_value);
		} else if (bdev_io->type == PLX_BDEV_IO_TYPE_READ) {
			eio->corrupt_offset = rule->corrupt_offset;
			eio->corrupt_value = rule->corrupt_value;
		}
		return false;
	default:
		return false;
	}
}

static void error_submit(struct error_channel *ech, struct plx_bdev_io *bdev_io)
{
	struct error_bdev *eb = bdev_io->bdev->ctxt;
	struct error_rule rule;

	if (plx_unlikely(__atomic_load_n(&eb->rules[bdev_io->type].num, __ATOMIC_RELAXED) != 0) &&
	    !__atomic_load_n(&eb->unregistering, __ATOMIC_RELAXED) &&
	    error_rule_take(&eb->rules[bdev_io->type], ech, &rule) &&
	    error_inject(ech, bdev_io, &rule)) {
		return;
	}
	error_pass_down(ech, bdev_io);
}

static void error_read_buf_cb(struct plx_io_channel *ch, struct plx_bdev_io *bdev_io, bool success)
{
	if (!success) {
		error_complete(bdev_io, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
	error_submit(error_ch_of(bdev_io), bdev_io);
}

static void error_reset_swept(struct plx_io_channel_iter *i, int status)
{
	struct plx_bdev_io *bdev_io = plx_io_channel_iter_get_ctx(i);

	error_pass_down(error_ch_of(bdev_io), bdev_io);
}

static void error_submit_request(struct plx_io_channel *ch, struct plx_bdev_io *bdev_io)
{
	struct error_channel *ech = plx_io_channel_get_ctx(ch);
	struct error_io *eio = error_io_ctx(bdev_io);

	eio->ch = ech;
	ech->outstanding++;
	eio->corrupt_value = 0;
	switch (bdev_io->type) {
	case PLX_BDEV_IO_TYPE_READ:
		if (bdev_io->u.bdev.iovs[0].iov_base == NULL) {
			/* The buffer must be the parent's: the base I/O is freed first. */
			plx_bdev_io_get_buf(bdev_io, error_read_buf_cb,
					    bdev_io->u.bdev.num_blocks * bdev_io->bdev->blocklen);
			return;
		}
		break;
	case PLX_BDEV_IO_TYPE_RESET:
		/* Held I/O would never finish on its own: abort it on every channel first. */
		plx_for_each_channel(bdev_io->bdev->ctxt, error_abort_pending_channel, bdev_io,
				     error_reset_swept);
		return;
	case PLX_BDEV_IO_TYPE_ABORT:
		if (bdev_io->u.abort.bio_to_abort == NULL) {
			error_complete(bdev_io, PLX_BDEV_IO_STATUS_FAILED);
			return;
		}
		if (error_abort_pending_one(ech, bdev_io->u.abort.bio_to_abort)) {
			error_complete(bdev_io, PLX_BDEV_IO_STATUS_SUCCESS);
			return;
		}
		error_pass_down(ech, bdev_io);
		return;
	default:
		break;
	}
	error_submit(ech, bdev_io);
}

static bool error_io_type_supported(void *ctx, enum plx_bdev_io_type type)
{
	struct error_bdev *eb = ctx;

	return type == PLX_BDEV_IO_TYPE_ABORT || plx_bdev_io_type_supported(eb->base, type);
}

static struct plx_io_channel *error_get_io_channel(void *ctx)
{
	return plx_get_io_channel(ctx);
}

static int error_channel_create(void *io_device, void *ctx_buf)
{
	struct error_bdev *eb = io_device;
	struct error_channel *ech = ctx_buf;

	TAILQ_INIT(&ech->pending);
	ech->base_ch = plx_bdev_get_io_channel(eb->base_desc);
	return ech->base_ch != NULL ? 0 : -ENOMEM;
}

static void error_channel_destroy(void *io_device, void *ctx_buf)
{
	struct error_channel *ech = ctx_buf;

	/* Delete sweeps held I/O before unregistering; this is only a safety net. */
	error_abort_pending_all(ech);
	plx_put_io_channel(ech->base_ch);
}

/* ---- lifecycle ---- */

static void error_free(struct error_bdev *eb)
{
	free(eb->bdev.name);
	free(eb);
}

/* On the thread that opened the base: let it go, then finish the destruct. */
static void error_close_base(void *arg)
{
	struct error_bdev *eb = arg;

	plx_bdev_module_release_bdev(eb->base);
	plx_bdev_close(eb->base_desc);
	plx_bdev_destruct_done(&eb->bdev, 0);
	error_free(eb);
}

static void error_io_device_gone(void *io_device)
{
	struct error_bdev *eb = io_device;

	if (plx_get_thread() == eb->open_thread ||
	    plx_thread_send_msg(eb->open_thread, error_close_base, eb) != 0) {
		error_close_base(eb);
	}
}

static int error_destruct(void *ctx)
{
	/* Our channels hold base channels: they must all be gone before the base is closed. */
	plx_io_device_unregister(ctx, error_io_device_gone);
	return 1;
}

static void error_write_config_json(struct plx_bdev *bdev, json_t *config)
{
	struct error_bdev *eb = bdev->ctxt;
	char uuid[PLX_UUID_STRING_LEN];

	plx_uuid_fmt_lower(uuid, sizeof(uuid), &bdev->uuid);
	json_array_append_new(config, json_pack("{s:s, s:{s:s, s:s}}", "method",
						"bdev_error_create", "params", "base_name",
						plx_bdev_get_name(eb->base), "uuid", uuid));
}

static void error_dump_info_json(void *ctx, json_t *driver_specific)
{
	struct error_bdev *eb = ctx;

	json_object_set_new(driver_specific, "error",
			    json_pack("{s:s}", "base_bdev", plx_bdev_get_name(eb->base)));
}

static const struct plx_bdev_fn_table g_error_fn_table = {
    .destruct = error_destruct,
    .submit_request = error_submit_request,
    .io_type_supported = error_io_type_supported,
    .get_io_channel = error_get_io_channel,
    .dump_info_json = error_dump_info_json,
    .write_config_json = error_write_config_json,
};

struct error_unregister_ctx {
	struct error_bdev *eb;
	plx_bdev_unregister_cb cb;
	void *cb_arg;
};

static void error_unregister_swept(struct plx_io_channel_iter *i, int status)
{
	struct error_unregister_ctx *ctx = plx_io_channel_iter_get_ctx(i);

	plx_bdev_unregister(&ctx->eb->bdev, ctx->cb, ctx->cb_arg);
	free(ctx);
}

/* Stop injecting, abort held I/O everywhere, then unregister. */
static int error_start_unregister(struct error_bdev *eb, plx_bdev_unregister_cb cb, void *cb_arg)
{
	struct error_unregister_ctx *ctx;

	if (eb->unregistering) {
		return -ENODEV;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return -ENOMEM;
	}
	__atomic_store_n(&eb->unregistering, true, __ATOMIC_RELAXED);
	ctx->eb = eb;
	ctx->cb = cb;
	ctx->cb_arg = cb_arg;
	plx_for_each_channel(eb, error_abort_pending_channel, ctx, error_unregister_swept);
	return 0;
}

static void error_base_event(enum plx_bdev_event_type type, struct plx_bdev *base, void *ctx)
{
	struct error_bdev *eb = ctx;

	switch (type) {
	case PLX_BDEV_EVENT_REMOVE:
		if (error_start_unregister(eb, NULL, NULL) == -ENOMEM) {
			__atomic_store_n(&eb->unregistering, true, __ATOMIC_RELAXED);
			plx_bdev_unregister(&eb->bdev, NULL, NULL);
		}
		break;
	case PLX_BDEV_EVENT_RESIZE:
		plx_bdev_notify_blockcnt_change(&eb->bdev, plx_bdev_get_num_blocks(base));
		break;
	}
}

static void error_copy_geometry(struct plx_bdev *bdev, const struct plx_bdev *base)
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

static int error_attach(struct error_bdev *eb, const char *base_name)
{
	int rc;

	rc = plx_bdev_open_ext(base_name, true, error_base_event, eb, &eb->base_desc);
	if (rc != 0) {
		PLX_ERRLOG("error bdev %s: cannot open base bdev %s: %d\n", eb->bdev.name,
			   base_name, rc);
		return rc;
	}
	eb->base = plx_bdev_desc_get_bdev(eb->base_desc);
	eb->open_thread = plx_get_thread();
	rc = plx_bdev_module_claim_bdev(eb->base, eb->base_desc, &plx_error_bdev_module);
	if (rc != 0) {
		PLX_ERRLOG("error bdev %s: base bdev %s is already claimed\n", eb->bdev.name,
			   base_name);
		plx_bdev_close(eb->base_desc);
		return rc;
	}
	error_copy_geometry(&eb->bdev, eb->base);
	return 0;
}

int plx_bdev_error_create(const char *base_name, const struct plx_uuid *uuid,
			  struct plx_bdev **bdev)
{
	struct error_bdev *eb;
	int rc;

	if (plx_bdev_get_by_name(base_name) == NULL) {
		return -ENODEV;
	}
	eb = calloc(1, sizeof(*eb));
	if (eb == NULL || asprintf(&eb->bdev.name, "EE_%s", base_name) < 0) {
		free(eb);
		return -ENOMEM;
	}
	if (plx_bdev_get_by_name(eb->bdev.name) != NULL) {
		error_free(eb);
		return -EEXIST;
	}
	eb->bdev.product_name = "Error Injection Disk";
	if (uuid != NULL) {
		eb->bdev.uuid = *uuid;
	}
	eb->bdev.ctxt = eb;
	eb->bdev.fn_table = &g_error_fn_table;
	eb->bdev.module = &plx_error_bdev_module;
	rc = error_attach(eb, base_name);
	if (rc != 0) {
		error_free(eb);
		return rc;
	}
	plx_io_device_register(eb, error_channel_create, error_channel_destroy,
			       sizeof(struct error_channel), eb->bdev.name);
	rc = plx_bdev_register(&eb->bdev);
	if (rc != 0) {
		plx_io_device_unregister(eb, NULL);
		plx_bdev_module_release_bdev(eb->base);
		plx_bdev_close(eb->base_desc);
		error_free(eb);
		return rc;
	}
	if (bdev != NULL) {
		*bdev = &eb->bdev;
	}
	return 0;
}

static struct error_bdev *error_find(const char *name)
{
	struct plx_bdev *bdev = plx_bdev_get_by_name(name);

	if (bdev == NULL || bdev->module != &plx_error_bdev_module) {
		return NULL;
	}
	return bdev->ctxt;
}

int plx_bdev_error_delete(const char *name, plx_bdev_unregister_cb cb, void *cb_arg)
{
	struct error_bdev *eb = error_find(name);

	if (eb == NULL) {
		return -ENODEV;
	}
	return error_start_unregister(eb, cb, cb_arg);
}

static void error_rule_set(struct error_rule *rule, const struct plx_error_inject_opts *opts)
{
	/* Withdraw the rule, fill it, then publish it through num. */
	__atomic_store_n(&rule->num, 0, __ATOMIC_RELEASE);
	rule->type = opts->error_type;
	rule->queue_depth = opts->queue_depth;
	rule->corrupt_offset = opts->corrupt_offset;
	rule->corrupt_value = opts->corrupt_value;
	__atomic_store_n(&rule->num, opts->error_type == PLX_ERROR_INJECT_NONE ? 0 : opts->num,
			 __ATOMIC_RELEASE);
}

/* I/O types a rule for "every type" covers: not reset and abort, which control the rest. */
static bool error_type_injectable(enum plx_bdev_io_type type)
{
	return type != PLX_BDEV_IO_TYPE_INVALID && type != PLX_BDEV_IO_TYPE_RESET &&
	       type != PLX_BDEV_IO_TYPE_ABORT;
}

int plx_bdev_error_inject(const char *name, const struct plx_error_inject_opts *opts)
{
	struct error_bdev *eb = error_find(name);

	if (eb == NULL) {
		return -ENODEV;
	}
	if (opts->io_type != PLX_BDEV_IO_TYPE_INVALID && !error_type_injectable(opts->io_type)) {
		return -EINVAL;
	}
	if (opts->error_type == PLX_ERROR_INJECT_CORRUPT_DATA && opts->corrupt_value == 0) {
		return -EINVAL;
	}
	for (int t = 0; t < PLX_BDEV_NUM_IO_TYPES; t++) {
		bool all = opts->io_type == PLX_BDEV_IO_TYPE_INVALID;

		if ((all && error_type_injectable(t)) || (int)opts->io_type == t) {
			error_rule_set(&eb->rules[t], opts);
		}
	}
	return 0;
}

struct error_resume_ctx {
	void (*cb)(void *cb_arg);
	void *cb_arg;
};

static void error_resume_channel(struct plx_io_channel_iter *i)
{
	struct error_channel *ech = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));
	TAILQ_HEAD(, error_io) held = TAILQ_HEAD_INITIALIZER(held);
	struct error_io *eio;

	/* Resubmitting may hold I/O again under a new rule: take the list as it is now. */
	TAILQ_CONCAT(&held, &ech->pending, link);
	while ((eio = TAILQ_FIRST(&held)) != NULL) {
		TAILQ_REMOVE(&held, eio, link);
		error_pass_down(ech, plx_bdev_io_from_ctx(eio));
	}
	plx_for_each_channel_continue(i, 0);
}

static void error_resume_done(struct plx_io_channel_iter *i, int status)
{
	struct error_resume_ctx *ctx = plx_io_channel_iter_get_ctx(i);

	if (ctx->cb != NULL) {
		ctx->cb(ctx->cb_arg);
	}
	free(ctx);
}

int plx_bdev_error_resume_pending(const char *name, void (*cb)(void *cb_arg), void *cb_arg)
{
	struct error_bdev *eb = error_find(name);
	struct error_resume_ctx *ctx;

	if (eb == NULL) {
		return -ENODEV;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return -ENOMEM;
	}
	ctx->cb = cb;
	ctx->cb_arg = cb_arg;
	plx_for_each_channel(eb, error_resume_channel, ctx, error_resume_done);
	return 0;
}
