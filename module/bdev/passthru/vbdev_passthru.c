/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The passthru bdev: the smallest complete virtual bdev, written as the template for new ones.
 * It sits on a base bdev and forwards every I/O to it unchanged. Copy this file, then change
 * what happens in pt_forward() and pt_io_done().
 *
 * The pieces every virtual bdev has:
 *   - a configuration list (what bdev_passthru_create asked for). It outlives the bdev: when the
 *     base is hot-removed the passthru goes away, and comes back by itself (examine_config)
 *     if a bdev of the base's name appears again. Only bdev_passthru_delete forgets it.
 *   - attach: open the base for writing, claim it (so nobody else writes behind our back),
 *     register our bdev with the base's geometry, and an io_device whose per-thread channel
 *     holds the base's channel for that thread.
 *   - I/O: each I/O on our bdev becomes one I/O on the base, submitted on the same thread;
 *     the base's completion completes ours.
 *   - teardown, in this order: our bdev unregisters (delete, or the base's REMOVE event), the
 *     layer calls destruct once our users closed it, our channels go (each putting its base
 *     channel), then we release the claim and close the base from the thread that opened it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "pollux/log.h"
#include "vbdev_passthru.h"

/* One bdev_passthru_create request, kept until bdev_passthru_delete. */
struct pt_config {
	char *name;
	char *base_name;
	struct plx_uuid uuid;
	struct passthru *pt; /* the attached bdev, or NULL while the base is missing */
	TAILQ_ENTRY(pt_config) link;
};

/* One passthru bdev. */
struct passthru {
	struct plx_bdev bdev;
	struct plx_bdev *base;
	struct plx_bdev_desc *base_desc;
	struct plx_thread *thread; /* opened base_desc, so must close it */
	struct pt_config *cfg;	   /* NULL once deleted */
	bool unregistering;
};

/* Per-thread channel: the base's channel on this thread. */
struct pt_channel {
	struct plx_io_channel *base_ch;
};

/* Per-I/O context (bdev_io->driver_ctx): what a retry after -ENOMEM needs. */
struct pt_io {
	struct plx_bdev_io_wait_entry wait;
	struct plx_io_channel *ch;
};

static TAILQ_HEAD(, pt_config) g_pt_configs = TAILQ_HEAD_INITIALIZER(g_pt_configs);

/* ---- I/O ---- */

static void pt_forward(struct plx_io_channel *ch, struct plx_bdev_io *io);

/* The base finished child: finish our I/O with its status, release the child. */
static void pt_io_done(struct plx_bdev_io *child, bool success, void *cb_arg)
{
	struct plx_bdev_io *io = cb_arg;

	plx_bdev_io_complete(io,
			     success ? PLX_BDEV_IO_STATUS_SUCCESS : plx_bdev_io_get_status(child));
	plx_bdev_free_io(child);
}

/* The base had no bdev_io free when we submitted; one was released on this thread: retry. */
static void pt_retry(void *arg)
{
	struct plx_bdev_io *io = arg;
	struct pt_io *pio = (struct pt_io *)io->driver_ctx;

	pt_forward(pio->ch, io);
}

/*
 * Submit io's twin on the base. The child gets io as its cb_arg, which is also what an abort
 * of io must name (u.abort.bio_to_abort) to find the child on the base.
 */
static void pt_forward(struct plx_io_channel *ch, struct plx_bdev_io *io)
{
	struct passthru *pt = io->bdev->ctxt;
	struct pt_channel *pch = plx_io_channel_get_ctx(ch);
	struct plx_bdev_desc *d = pt->base_desc;
	struct plx_io_channel *bch = pch->base_ch;
	struct pt_io *pio = (struct pt_io *)io->driver_ctx;
	int rc;

	rc = plx_bdev_io_forward(d, bch, io, io->u.bdev.offset_blocks, pt_io_done, io);
	if (rc == -ENOMEM) {
		/* Wait for a bdev_io of the base on this thread, then try again. */
		pio->ch = ch;
		pio->wait.bdev = pt->base;
		pio->wait.cb_fn = pt_retry;
		pio->wait.cb_arg = io;
		rc = plx_bdev_queue_io_wait(pt->base, bch, &pio->wait);
	}
	if (rc != 0) {
		plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_FAILED);
	}
}

static void pt_get_buf_cb(struct plx_io_channel *ch, struct plx_bdev_io *io, bool success)
{
	if (!success) {
		plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
	pt_forward(ch, io);
}

/*
 * fn_table->submit_request: called on the thread that owns ch (our channel, from
 * pt_get_io_channel). Must complete io exactly once, on this thread, now or later.
 */
static void pt_submit_request(struct plx_io_channel *ch, struct plx_bdev_io *io)
{
	/*
	 * A read may come without a buffer. Get ours before forwarding: a buffer the base's
	 * layer supplied would belong to the child, and our caller would never see the data.
	 */
	if (io->type == PLX_BDEV_IO_TYPE_READ && io->u.bdev.iovs[0].iov_base == NULL) {
		plx_bdev_io_get_buf(io, pt_get_buf_cb,
				    io->u.bdev.num_blocks * (uint64_t)io->bdev->blocklen);
		return;
	}
	pt_forward(ch, io);
}

/* fn_table->io_type_supported: whatever the base does, we do (from any thread). */
static bool pt_io_type_supported(void *ctx, enum plx_bdev_io_type type)
{
	struct passthru *pt = ctx;

	return plx_bdev_io_type_supported(pt->base, type);
}

/* ---- channels ---- */

/* io_device channel constructor: runs on the thread that first asks for a channel. */
static int pt_channel_create(void *io_device, void *ctx_buf)
{
	struct passthru *pt = io_device;
	struct pt_channel *pch = ctx_buf;

	pch->base_ch = plx_bdev_get_io_channel(pt->base_desc);
	return pch->base_ch != NULL ? 0 : -ENOMEM;
}

/* io_device channel destructor: on the channel's thread, after its last reference went. */
static void pt_channel_destroy(void *io_device, void *ctx_buf)
{
	struct pt_channel *pch = ctx_buf;

	plx_put_io_channel(pch->base_ch);
}

/* fn_table->get_io_channel: the current thread's channel; the layer puts it. */
static struct plx_io_channel *pt_get_io_channel(void *ctx)
{
	return plx_get_io_channel(ctx);
}

/* ---- teardown ---- */

static void pt_free(void *arg)
{
	struct passthru *pt = arg;

	free(pt->bdev.name);
	free(pt);
}

/* Last step, on the thread that opened the base: give the base back, free everything. */
static void pt_release_base(void *arg)
{
	struct passthru *pt = arg;

	plx_bdev_module_release_bdev(pt->base);
	plx_bdev_close(pt->base_desc);
	plx_bdev_destruct_done(&pt->bdev, 0);
	pt_free(pt);
}

/* Every channel is gone, so nothing uses base_desc any more. */
static void pt_channels_gone(void *io_device)
{
	struct passthru *pt = io_device;

	if (plx_get_thread() == pt->thread) {
		pt_release_base(pt);
	} else {
		plx_thread_send_msg(pt->thread, pt_release_base, pt);
	}
}

/*
 * fn_table->destruct: the layer is done with our bdev (unregistered, every descriptor
 * closed). Return 1: we finish asynchronously, calling plx_bdev_destruct_done.
 */
static int pt_destruct(void *ctx)
{
	struct passthru *pt = ctx;

	if (pt->cfg != NULL) {
		pt->cfg->pt = NULL; /* the configuration stays, ready to re-attach */
	}
	plx_io_device_unregister(pt, pt_channels_gone);
	return 1;
}

static void pt_unregister(struct passthru *pt, plx_bdev_unregister_cb cb, void *cb_arg)
{
	if (pt->unregistering) {
		if (cb != NULL) {
			cb(cb_arg, 0);
		}
		return;
	}
	pt->unregistering = true;
	plx_bdev_unregister(&pt->bdev, cb, cb_arg);
}

/* Events on the base, on the thread that opened it. */
static void pt_base_event(enum plx_bdev_event_type type, struct plx_bdev *base, void *ctx)
{
	struct passthru *pt = ctx;

	switch (type) {
	case PLX_BDEV_EVENT_REMOVE:
		/* The base is going: so are we. Destruct closes our descriptor of it. */
		pt_unregister(pt, NULL, NULL);
		break;
	case PLX_BDEV_EVENT_RESIZE:
		plx_bdev_notify_blockcnt_change(&pt->bdev, plx_bdev_get_num_blocks(base));
		break;
	}
}

/* ---- bdev_get_bdevs and save_config ---- */

static void pt_dump_info_json(void *ctx, json_t *driver_specific)
{
	struct passthru *pt = ctx;

	json_object_set_new(driver_specific, "passthru",
			    json_pack("{s:s, s:s}", "name", pt->bdev.name, "base_bdev_name",
				      plx_bdev_get_name(pt->base)));
}

/* The RPC that recreates this bdev exactly (same name, same UUID). */
static void pt_write_config_json(struct plx_bdev *bdev, json_t *config)
{
	struct passthru *pt = bdev->ctxt;
	char uuid[PLX_UUID_STRING_LEN];

	plx_uuid_fmt_lower(uuid, sizeof(uuid), plx_bdev_get_uuid(bdev));
	json_array_append_new(config, json_pack("{s:s, s:{s:s, s:s, s:s}}", "method",
						"bdev_passthru_create", "params", "name",
						bdev->name, "base_bdev_name",
						plx_bdev_get_name(pt->base), "uuid", uuid));
}

static const struct plx_bdev_fn_table g_pt_fn_table = {
    .destruct = pt_destruct,
    .submit_request = pt_submit_request,
    .io_type_supported = pt_io_type_supported,
    .get_io_channel = pt_get_io_channel,
    .dump_info_json = pt_dump_info_json,
    .write_config_json = pt_write_config_json,
};

/* ---- attach ---- */

/* Build and register the passthru of cfg on its base, which exists now. */
static int pt_attach(struct pt_config *cfg, char *err, size_t err_len)
{
	struct passthru *pt = calloc(1, sizeof(*pt));
	int rc;

	if (pt == NULL || (pt->bdev.name = strdup(cfg->name)) == NULL) {
		free(pt);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	rc = plx_bdev_open_ext(cfg->base_name, true, pt_base_event, pt, &pt->base_desc);
	if (rc != 0) {
		snprintf(err, err_len,
			 rc == -EPERM ? "base bdev %s is claimed by another module"
				      : "base bdev %s cannot be opened",
			 cfg->base_name);
		goto err_free;
	}
	pt->base = plx_bdev_desc_get_bdev(pt->base_desc);
	pt->thread = plx_get_thread();
	rc = plx_bdev_module_claim_bdev(pt->base, pt->base_desc, &plx_passthru_module);
	if (rc != 0) {
		snprintf(err, err_len, "base bdev %s is claimed by another module", cfg->base_name);
		goto err_close;
	}
	/* Same geometry and limits as the base, so the layer splits once, above us. */
	pt->bdev.product_name = "passthru";
	pt->bdev.blocklen = pt->base->blocklen;
	pt->bdev.blockcnt = pt->base->blockcnt;
	pt->bdev.write_cache = pt->base->write_cache;
	pt->bdev.optimal_io_boundary = pt->base->optimal_io_boundary;
	pt->bdev.split_on_optimal_io_boundary = pt->base->split_on_optimal_io_boundary;
	pt->bdev.required_alignment = pt->base->required_alignment;
	pt->bdev.max_segment_size = pt->base->max_segment_size;
	pt->bdev.max_num_segments = pt->base->max_num_segments;
	pt->bdev.max_rw_size = pt->base->max_rw_size;
	pt->bdev.uuid = cfg->uuid;
	pt->bdev.ctxt = pt;
	pt->bdev.fn_table = &g_pt_fn_table;
	pt->bdev.module = &plx_passthru_module;
	pt->cfg = cfg;

	plx_io_device_register(pt, pt_channel_create, pt_channel_destroy, sizeof(struct pt_channel),
			       pt->bdev.name);
	cfg->pt = pt;
	rc = plx_bdev_register(&pt->bdev);
	if (rc == 0) {
		cfg->uuid = pt->bdev.uuid; /* a re-attach keeps the UUID the layer generated */
		return 0;
	}
	cfg->pt = NULL;
	snprintf(err, err_len,
		 rc == -EEXIST ? "bdev %s or its uuid already exists"
			       : "registering bdev %s failed",
		 cfg->name);
	plx_bdev_module_release_bdev(pt->base);
	plx_bdev_close(pt->base_desc);
	/* Free once the thread library let go of the io_device. */
	plx_io_device_unregister(pt, pt_free);
	return rc;

err_close:
	plx_bdev_close(pt->base_desc);
err_free:
	pt_free(pt);
	return rc;
}

/*
 * module->examine_config: a bdev appeared. Attach every configured passthru waiting for a base
 * of that name. Must decide synchronously and always report examine_done.
 */
static void pt_examine_config(struct plx_bdev *bdev)
{
	struct pt_config *cfg;
	char err[128];

	TAILQ_FOREACH(cfg, &g_pt_configs, link)
	{
		if (cfg->pt == NULL && strcmp(cfg->base_name, bdev->name) == 0 &&
		    pt_attach(cfg, err, sizeof(err)) != 0) {
			PLX_ERRLOG("passthru %s: %s\n", cfg->name, err);
		}
	}
	plx_bdev_module_examine_done(&plx_passthru_module);
}

static struct pt_config *pt_config_find(const char *name)
{
	struct pt_config *cfg;

	TAILQ_FOREACH(cfg, &g_pt_configs, link)
	{
		if (strcmp(cfg->name, name) == 0) {
			return cfg;
		}
	}
	return NULL;
}

static void pt_config_free(struct pt_config *cfg)
{
	TAILQ_REMOVE(&g_pt_configs, cfg, link);
	free(cfg->name);
	free(cfg->base_name);
	free(cfg);
}

int plx_vbdev_passthru_create(const char *name, const char *base_name, const struct plx_uuid *uuid,
			      char *err, size_t err_len)
{
	struct pt_config *cfg;
	int rc;

	if (name[0] == '\0') {
		snprintf(err, err_len, "name: must not be empty");
		return -EINVAL;
	}
	if (plx_bdev_get_by_name(name) != NULL || pt_config_find(name) != NULL) {
		snprintf(err, err_len, "bdev %s already exists", name);
		return -EEXIST;
	}
	/* As SPDK: the base must exist now (a config file creates bases first). */
	if (plx_bdev_get_by_name(base_name) == NULL) {
		snprintf(err, err_len, "base bdev %s not found", base_name);
		return -ENODEV;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL || (cfg->name = strdup(name)) == NULL ||
	    (cfg->base_name = strdup(base_name)) == NULL) {
		if (cfg != NULL) {
			free(cfg->name);
		}
		free(cfg);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	if (uuid != NULL) {
		cfg->uuid = *uuid;
	}
	TAILQ_INSERT_TAIL(&g_pt_configs, cfg, link);
	rc = pt_attach(cfg, err, err_len);
	if (rc != 0) {
		pt_config_free(cfg);
	}
	return rc;
}

int plx_vbdev_passthru_delete(const char *name, plx_bdev_unregister_cb cb, void *cb_arg)
{
	struct pt_config *cfg = pt_config_find(name);
	struct passthru *pt;

	if (cfg == NULL) {
		return -ENODEV;
	}
	pt = cfg->pt;
	pt_config_free(cfg);
	if (pt == NULL) {
		cb(cb_arg, 0); /* detached (base missing): forgetting it is all there is to do */
		return 0;
	}
	pt->cfg = NULL;
	pt_unregister(pt, cb, cb_arg);
	return 0;
}

/* module->module_fini: every bdev is gone; drop the configurations. */
static void pt_module_fini(void)
{
	while (!TAILQ_EMPTY(&g_pt_configs)) {
		pt_config_free(TAILQ_FIRST(&g_pt_configs));
	}
}

/* module->get_ctx_size: bytes of bdev_io->driver_ctx we use. */
static int pt_get_ctx_size(void)
{
	return sizeof(struct pt_io);
}

struct plx_bdev_module plx_passthru_module = {
    .name = "passthru",
    .module_fini = pt_module_fini,
    .get_ctx_size = pt_get_ctx_size,
    .examine_config = pt_examine_config,
};
PLX_BDEV_MODULE_REGISTER(passthru, &plx_passthru_module)
