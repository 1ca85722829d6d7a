/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The split bdev: N equal parts <base>p0 .. p<N-1> of a base bdev. It follows the passthru
 * template (module/bdev/passthru); what differs:
 *   - one base serves many parts: a split_base owns the base descriptor and claim and is the
 *     io_device, so a thread holds one base channel however many parts it uses;
 *   - an I/O moves by the part's offset (the layer already refused anything past the part);
 *   - configurations are saved by the module (config_json, ahead of every bdev), so replaying
 *     a saved config creates them before their base: bdev_split_create accepts a missing base
 *     and examine_config attaches the parts when it appears, as SPDK does.
 * The base stays claimed until the last part is destructed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "pollux/log.h"
#include "vbdev_split.h"

struct split_config {
	char *base_name;
	uint32_t count;
	uint64_t size_mb;	 /* 0: equal shares of the whole base */
	struct split_base *base; /* attached, or NULL while the base is missing */
	TAILQ_ENTRY(split_config) link;
};

struct split_part;

struct split_base {
	struct plx_bdev *bdev;
	struct plx_bdev_desc *desc;
	struct plx_thread *thread; /* opened desc, so must close it */
	struct split_config *cfg;  /* NULL once deleted */
	struct split_part **parts;
	uint32_t count;
	uint32_t alive; /* parts not yet destructed */
	bool removing;
	plx_bdev_unregister_cb done_cb; /* bdev_split_delete waiting for the teardown */
	void *done_arg;
};

struct split_part {
	struct plx_bdev bdev;
	struct split_base *base;
	uint32_t index;
	uint64_t offset_blocks;
};

struct split_channel {
	struct plx_io_channel *base_ch;
};

struct split_io {
	struct plx_bdev_io_wait_entry wait;
	struct plx_io_channel *ch;
};

static TAILQ_HEAD(, split_config) g_split_configs = TAILQ_HEAD_INITIALIZER(g_split_configs);

/* ---- I/O ---- */

static void split_forward(struct plx_io_channel *ch, struct plx_bdev_io *io);

static void split_io_done(struct plx_bdev_io *child, bool success, void *cb_arg)
{
	struct plx_bdev_io *io = cb_arg;

	plx_bdev_io_complete(io,
			     success ? PLX_BDEV_IO_STATUS_SUCCESS : plx_bdev_io_get_status(child));
	plx_bdev_free_io(child);
}

static void split_retry(void *arg)
{
	struct plx_bdev_io *io = arg;

	split_forward(((struct split_io *)io->driver_ctx)->ch, io);
}

static void split_forward(struct plx_io_channel *ch, struct plx_bdev_io *io)
{
	struct split_part *part = io->bdev->ctxt;
	struct plx_bdev_desc *d = part->base->desc;
	struct plx_io_channel *bch = ((struct split_channel *)plx_io_channel_get_ctx(ch))->base_ch;
	struct split_io *sio = (struct split_io *)io->driver_ctx;
	uint64_t off = io->u.bdev.offset_blocks + part->offset_blocks;
	int rc;

	rc = plx_bdev_io_forward(d, bch, io, off, split_io_done, io);
	if (rc == -ENOMEM) {
		sio->ch = ch;
		sio->wait.bdev = part->base->bdev;
		sio->wait.cb_fn = split_retry;
		sio->wait.cb_arg = io;
		rc = plx_bdev_queue_io_wait(part->base->bdev, bch, &sio->wait);
	}
	if (rc != 0) {
		plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_FAILED);
	}
}

static void split_get_buf_cb(struct plx_io_channel *ch, struct plx_bdev_io *io, bool success)
{
	if (!success) {
		plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
	split_forward(ch, io);
}

static void split_submit_request(struct plx_io_channel *ch, struct plx_bdev_io *io)
{
	if (io->type == PLX_BDEV_IO_TYPE_READ && io->u.bdev.iovs[0].iov_base == NULL) {
		plx_bdev_io_get_buf(io, split_get_buf_cb,
				    io->u.bdev.num_blocks * (uint64_t)io->bdev->blocklen);
		return;
	}
	split_forward(ch, io);
}

static bool split_io_type_supported(void *ctx, enum plx_bdev_io_type type)
{
	struct split_part *part = ctx;

	return plx_bdev_io_type_supported(part->base->bdev, type);
}

/* ---- channels (one io_device per base) ---- */

static int split_channel_create(void *io_device, void *ctx_buf)
{
	struct split_base *base = io_device;
	struct split_channel *sch = ctx_buf;

	sch->base_ch = plx_bdev_get_io_channel(base->desc);
	return sch->base_ch != NULL ? 0 : -ENOMEM;
}

static void split_channel_destroy(void *io_device, void *ctx_buf)
{
	plx_put_io_channel(((struct split_channel *)ctx_buf)->base_ch);
}

static struct plx_io_channel *split_get_io_channel(void *ctx)
{
	struct split_part *part = ctx;

	return plx_get_io_channel(part->base);
}

/* ---- teardown ---- */

static void split_base_free(void *arg)
{
	struct split_base *base = arg;

	free(base->parts);
	free(base);
}

/* On the thread that opened the base: release it, answer a waiting delete. */
static void split_base_release(void *arg)
{
	struct split_base *base = arg;
	plx_bdev_unregister_cb cb = base->done_cb;
	void *cb_arg = base->done_arg;

	plx_bdev_module_release_bdev(base->bdev);
	plx_bdev_close(base->desc);
	split_base_free(base);
	if (cb != NULL) {
		cb(cb_arg, 0);
	}
}

static void split_channels_gone(void *io_device)
{
	struct split_base *base = io_device;

	if (plx_get_thread() == base->thread) {
		split_base_release(base);
	} else {
		plx_thread_send_msg(base->thread, split_base_release, base);
	}
}

/* No part left: the base can go once the last shared channel has. */
static void split_base_detach(struct split_base *base)
{
	if (base->cfg != NULL) {
		base->cfg->base = NULL; /* the configuration stays, ready to re-attach */
	}
	plx_io_device_unregister(base, split_channels_gone);
}

static void split_part_free(void *arg)
{
	struct split_part *part = arg;

	plx_bdev_destruct_done(&part->bdev, 0);
	free(part->bdev.name);
	free(part);
}

static int split_destruct(void *ctx)
{
	struct split_part *part = ctx;
	struct split_base *base = part->base;

	base->parts[part->index] = NULL;
	/* Finish from a message: the layer may still read the bdev when destruct returns. */
	plx_thread_send_msg(plx_get_thread(), split_part_free, part);
	if (--base->alive == 0) {
		split_base_detach(base);
	}
	return 1;
}

/* Unregister every part still registered (each only once). */
static void split_base_remove(struct split_base *base)
{
	if (base->removing) {
		return;
	}
	base->removing = true;
	for (uint32_t i = 0; i < base->count; i++) {
		if (base->parts[i] != NULL) {
			plx_bdev_unregister(&base->parts[i]->bdev, NULL, NULL);
		}
	}
}

static void split_base_event(enum plx_bdev_event_type type, struct plx_bdev *bdev, void *ctx)
{
	/* A resize keeps the parts as they are: they were cut from the old size. */
	if (type == PLX_BDEV_EVENT_REMOVE) {
		split_base_remove(ctx);
	}
}

/* ---- bdev_get_bdevs and save_config ---- */

static void split_dump_info_json(void *ctx, json_t *driver_specific)
{
	struct split_part *part = ctx;

	json_object_set_new(driver_specific, "split",
			    json_pack("{s:s, s:I}", "base_bdev",
				      plx_bdev_get_name(part->base->bdev), "offset_blocks",
				      (json_int_t)part->offset_blocks));
}

/* Parts have no entry of their own: the module's config_json recreates them all. */
static void split_write_config_json(struct plx_bdev *bdev, json_t *config)
{
}

static void split_config_json(json_t *config)
{
	struct split_config *cfg;

	TAILQ_FOREACH(cfg, &g_split_configs, link)
	{
		json_array_append_new(
		    config, json_pack("{s:s, s:{s:s, s:i, s:I}}", "method", "bdev_split_create",
				      "params", "base_bdev", cfg->base_name, "split_count",
				      (int)cfg->count, "split_size_mb", (json_int_t)cfg->size_mb));
	}
}

static const struct plx_bdev_fn_table g_split_fn_table = {
    .destruct = split_destruct,
    .submit_request = split_submit_request,
    .io_type_supported = split_io_type_supported,
    .get_io_channel = split_get_io_channel,
    .dump_info_json = split_dump_info_json,
    .write_config_json = split_write_config_json,
};

/* ---- attach ---- */

/* A stable UUID per part, derived from the base's, so a reloaded config gives the same ones. */
static void split_part_uuid(const struct plx_bdev *base, uint32_t index, struct plx_uuid *uuid)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a over the base UUID and the index */

	*uuid = *plx_bdev_get_uuid(base);
	for (size_t k = 0; k < sizeof(uuid->u); k++) {
		h = (h ^ uuid->u[k]) * 0x100000001b3ull;
	}
	for (size_t k = 0; k < 4; k++) {
		h = (h ^ ((index >> (8 * k)) & 0xff)) * 0x100000001b3ull;
	}
	for (size_t k = 0; k < 8; k++) {
		uuid->u[8 + k] ^= (uint8_t)(h >> (8 * k));
	}
	uuid->u[8] = (uint8_t)((uuid->u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

static int split_part_register(struct split_base *base, uint32_t i, uint64_t part_blocks)
{
	struct split_part *part = calloc(1, sizeof(*part));
	struct plx_bdev *b = base->bdev;
	int rc;

	if (part == NULL || asprintf(&part->bdev.name, "%sp%" PRIu32, b->name, i) < 0) {
		free(part);
		return -ENOMEM;
	}
	part->base = base;
	part->index = i;
	part->offset_blocks = (uint64_t)i * part_blocks;
	part->bdev.product_name = "Split Disk";
	part->bdev.blocklen = b->blocklen;
	part->bdev.blockcnt = part_blocks;
	part->bdev.write_cache = b->write_cache;
	part->bdev.optimal_io_boundary = b->optimal_io_boundary;
	part->bdev.split_on_optimal_io_boundary = b->split_on_optimal_io_boundary;
	part->bdev.required_alignment = b->required_alignment;
	part->bdev.max_segment_size = b->max_segment_size;
	part->bdev.max_num_segments = b->max_num_segments;
	part->bdev.max_rw_size = b->max_rw_size;
	split_part_uuid(b, i, &part->bdev.uuid);
	part->bdev.ctxt = part;
	part->bdev.fn_table = &g_split_fn_table;
	part->bdev.module = &plx_split_module;
	base->parts[i] = part;
	base->alive++;
	rc = plx_bdev_register(&part->bdev);
	if (rc != 0) {
		base->parts[i] = NULL;
		base->alive--;
		free(part->bdev.name);
		free(part);
	}
	return rc;
}

/* Size of one part in blocks, or -EINVAL with the reason. */
static int split_part_blocks(const struct split_config *cfg, const struct plx_bdev *b,
			     uint64_t *blocks, char *err, size_t err_len)
{
	if (cfg->size_mb == 0) {
		*blocks = b->blockcnt / cfg->count;
	} else {
		*blocks = cfg->size_mb * 1024 * 1024 / b->blocklen;
		if (cfg->size_mb > UINT64_MAX / (1024 * 1024) ||
		    (*blocks != 0 && *blocks * cfg->count / cfg->count != *blocks) ||
		    *blocks * cfg->count > b->blockcnt) {
			snprintf(err, err_len,
				 "split_size_mb: %" PRIu32 " parts of %" PRIu64
				 " MiB do not fit in %s (%" PRIu64 " MiB)",
				 cfg->count, cfg->size_mb, b->name,
				 b->blockcnt * b->blocklen / (1024 * 1024));
			return -EINVAL;
		}
	}
	if (*blocks == 0) {
		snprintf(err, err_len,
			 "split_count: %s (%" PRIu64 " blocks) is too small for %" PRIu32 " parts",
			 b->name, b->blockcnt, cfg->count);
		return -EINVAL;
	}
	return 0;
}

static int split_open_base(struct split_config *cfg, struct split_base *base, char *err,
			   size_t err_len)
{
	int rc = plx_bdev_open_ext(cfg->base_name, true, split_base_event, base, &base->desc);

	if (rc != 0) {
		snprintf(err, err_len,
			 rc == -EPERM ? "base bdev %s is claimed by another module"
				      : "base bdev %s cannot be opened",
			 cfg->base_name);
		return rc;
	}
	base->bdev = plx_bdev_desc_get_bdev(base->desc);
	base->thread = plx_get_thread();
	rc = plx_bdev_module_claim_bdev(base->bdev, base->desc, &plx_split_module);
	if (rc != 0) {
		snprintf(err, err_len, "base bdev %s is claimed by another module", cfg->base_name);
		plx_bdev_close(base->desc);
	}
	return rc;
}

/* Open and claim the base of cfg (which exists now) and register its parts. */
static int split_attach(struct split_config *cfg, json_t *names, char *err, size_t err_len)
{
	struct split_base *base = calloc(1, sizeof(*base));
	uint64_t part_blocks;
	int rc;

	if (base == NULL || (base->parts = calloc(cfg->count, sizeof(*base->parts))) == NULL) {
		free(base);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	rc = split_open_base(cfg, base, err, err_len);
	if (rc != 0) {
		split_base_free(base);
		return rc;
	}
	rc = split_part_blocks(cfg, base->bdev, &part_blocks, err, err_len);
	if (rc != 0) {
		plx_bdev_module_release_bdev(base->bdev);
		plx_bdev_close(base->desc);
		split_base_free(base);
		return rc;
	}
	base->count = cfg->count;
	base->cfg = cfg;
	cfg->base = base;
	plx_io_device_register(base, split_channel_create, split_channel_destroy,
			       sizeof(struct split_channel), cfg->base_name);
	for (uint32_t i = 0; i < cfg->count && rc == 0; i++) {
		rc = split_part_register(base, i, part_blocks);
		if (rc == 0 && names != NULL) {
			json_array_append_new(names, json_string(base->parts[i]->bdev.name));
		} else if (rc != 0) {
			snprintf(err, err_len, "registering part %" PRIu32 " of %s: %s", i,
				 cfg->base_name, strerror(-rc));
		}
	}
	if (rc != 0) {
		/* The parts already registered unregister; the last one releases the base. */
		cfg->base = NULL;
		base->cfg = NULL;
		if (base->alive == 0) {
			split_base_detach(base);
		} else {
			split_base_remove(base);
		}
	}
	return rc;
}

static void split_examine_config(struct plx_bdev *bdev)
{
	struct split_config *cfg;
	char err[192];

	TAILQ_FOREACH(cfg, &g_split_configs, link)
	{
		if (cfg->base == NULL && strcmp(cfg->base_name, bdev->name) == 0 &&
		    split_attach(cfg, NULL, err, sizeof(err)) != 0) {
			PLX_ERRLOG("split of %s: %s\n", cfg->base_name, err);
		}
	}
	plx_bdev_module_examine_done(&plx_split_module);
}

static struct split_config *split_config_find(const char *base_name)
{
	struct split_config *cfg;

	TAILQ_FOREACH(cfg, &g_split_configs, link)
	{
		if (strcmp(cfg->base_name, base_name) == 0) {
			return cfg;
		}
	}
	return NULL;
}

static void split_config_free(struct split_config *cfg)
{
	TAILQ_REMOVE(&g_split_configs, cfg, link);
	free(cfg->base_name);
	free(cfg);
}

int plx_vbdev_split_create(const char *base_name, uint32_t split_count, uint64_t split_size_mb,
			   json_t **names, char *err, size_t err_len)
{
	struct split_config *cfg;
	json_t *list = json_array();
	int rc = 0;

	if (names != NULL) {
		*names = NULL;
	}
	if (split_count == 0) {
		snprintf(err, err_len, "split_count: must be greater than 0");
		rc = -EINVAL;
	} else if (base_name[0] == '\0') {
		snprintf(err, err_len, "base_bdev: must not be empty");
		rc = -EINVAL;
	} else if (split_config_find(base_name) != NULL) {
		snprintf(err, err_len, "split of base bdev %s already exists", base_name);
		rc = -EEXIST;
	}
	cfg = rc == 0 ? calloc(1, sizeof(*cfg)) : NULL;
	if (rc == 0 && (cfg == NULL || (cfg->base_name = strdup(base_name)) == NULL)) {
		free(cfg);
		snprintf(err, err_len, "out of memory");
		rc = -ENOMEM;
	}
	if (rc != 0) {
		json_decref(list);
		return rc;
	}
	cfg->count = split_count;
	cfg->size_mb = split_size_mb;
	TAILQ_INSERT_TAIL(&g_split_configs, cfg, link);
	if (plx_bdev_get_by_name(base_name) == NULL) {
		PLX_NOTICELOG("split of %s: waiting for the base bdev to appear\n", base_name);
	} else {
		rc = split_attach(cfg, list, err, err_len);
		if (rc != 0) {
			split_config_free(cfg);
		}
	}
	if (rc == 0 && names != NULL) {
		*names = list;
	} else {
		json_decref(list);
	}
	return rc;
}

int plx_vbdev_split_delete(const char *base_name, plx_bdev_unregister_cb cb, void *cb_arg)
{
	struct split_config *cfg = split_config_find(base_name);
	struct split_base *base;

	if (cfg == NULL) {
		return -ENODEV;
	}
	base = cfg->base;
	split_config_free(cfg);
	if (base == NULL) {
		cb(cb_arg, 0);
		return 0;
	}
	base->cfg = NULL;
	if (base->done_cb != NULL) {
		/* Cannot happen: the configuration was forgotten by the first delete. */
		cb(cb_arg, -EBUSY);
		return 0;
	}
	base->done_cb = cb;
	base->done_arg = cb_arg;
	split_base_remove(base);
	return 0;
}

static void split_module_fini(void)
{
	while (!TAILQ_EMPTY(&g_split_configs)) {
		split_config_free(TAILQ_FIRST(&g_split_configs));
	}
}

static int split_get_ctx_size(void)
{
	return sizeof(struct split_io);
}

struct plx_bdev_module plx_split_module = {
    .name = "split",
    .module_fini = split_module_fini,
    .config_json = split_config_json,
    .get_ctx_size = split_get_ctx_size,
    .examine_config = split_examine_config,
};
PLX_BDEV_MODULE_REGISTER(split, &plx_split_module)
