/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bdev registry: modules, registration and unregistration, names and aliases, open and
 * close, claims and examine. All of it is control path: a mutex guards the lists, which other
 * threads read only to open a bdev by name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"
#include "pollux/event.h"

PLX_LOG_REGISTER_COMPONENT(bdev)

struct bdev_opts g_bdev_opts = {
    .bdev_io_pool_size = 65535,
    .bdev_io_cache_size = 256,
    .bdev_auto_examine = true,
    .iobuf_small_cache_size = 128,
    .iobuf_large_cache_size = 16,
};

pthread_mutex_t g_bdev_mutex = PTHREAD_MUTEX_INITIALIZER;
struct bdev_list g_bdevs = TAILQ_HEAD_INITIALIZER(g_bdevs);
struct bdev_module_list g_bdev_modules = TAILQ_HEAD_INITIALIZER(g_bdev_modules);
bool g_bdev_initialized;

struct examine_waiter {
	void (*cb)(void *arg);
	void *arg;
	struct plx_thread *thread;
	struct examine_waiter *next;
};

static struct examine_waiter *g_examine_waiters;

void plx_bdev_module_list_add(struct plx_bdev_module *module)
{
	TAILQ_INSERT_TAIL(&g_bdev_modules, module, link);
}

static const char *const g_io_type_names[PLX_BDEV_NUM_IO_TYPES] = {
    [PLX_BDEV_IO_TYPE_INVALID] = "invalid",
    [PLX_BDEV_IO_TYPE_READ] = "read",
    [PLX_BDEV_IO_TYPE_WRITE] = "write",
    [PLX_BDEV_IO_TYPE_UNMAP] = "unmap",
    [PLX_BDEV_IO_TYPE_FLUSH] = "flush",
    [PLX_BDEV_IO_TYPE_RESET] = "reset",
    [PLX_BDEV_IO_TYPE_WRITE_ZEROES] = "write_zeroes",
    [PLX_BDEV_IO_TYPE_COMPARE] = "compare",
    [PLX_BDEV_IO_TYPE_COMPARE_AND_WRITE] = "compare_and_write",
    [PLX_BDEV_IO_TYPE_ABORT] = "abort",
};

const char *plx_bdev_io_type_name(enum plx_bdev_io_type type)
{
	return type < PLX_BDEV_NUM_IO_TYPES ? g_io_type_names[type] : "invalid";
}

/* ---- names ---- */

static bool bdev_has_name(struct plx_bdev *bdev, const char *name)
{
	struct bdev_alias *a;

	if (strcmp(bdev->name, name) == 0) {
		return true;
	}
	TAILQ_FOREACH(a, &bdev->internal->aliases, link)
	{
		if (strcmp(a->name, name) == 0) {
			return true;
		}
	}
	return false;
}

struct plx_bdev *bdev_find_locked(const char *name)
{
	struct plx_bdev_internal *in;
	char uuid[PLX_UUID_STRING_LEN];

	TAILQ_FOREACH(in, &g_bdevs, link)
	{
		if (bdev_has_name(in->bdev, name)) {
			return in->bdev;
		}
		/* SPDK accepts a bdev's UUID wherever a name is expected. */
		plx_uuid_fmt_lower(uuid, sizeof(uuid), &in->bdev->uuid);
		if (strcasecmp(uuid, name) == 0) {
			return in->bdev;
		}
	}
	return NULL;
}

struct plx_bdev *plx_bdev_get_by_name(const char *name)
{
	struct plx_bdev *bdev;

	pthread_mutex_lock(&g_bdev_mutex);
	bdev = bdev_find_locked(name);
	if (bdev != NULL && bdev->internal->status != BDEV_STATUS_READY) {
		bdev = NULL;
	}
	pthread_mutex_unlock(&g_bdev_mutex);
	return bdev;
}

struct plx_bdev *plx_bdev_next(struct plx_bdev *prev)
{
	struct plx_bdev_internal *in;

	in = prev == NULL ? TAILQ_FIRST(&g_bdevs) : TAILQ_NEXT(prev->internal, link);
	return in != NULL ? in->bdev : NULL;
}

int plx_bdev_alias_add(struct plx_bdev *bdev, const char *alias)
{
	struct bdev_alias *a;

	pthread_mutex_lock(&g_bdev_mutex);
	if (bdev_find_locked(alias) != NULL) {
		pthread_mutex_unlock(&g_bdev_mutex);
		PLX_ERRLOG("alias %s of bdev %s: the name is taken\n", alias, bdev->name);
		return -EEXIST;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL || (a->name = strdup(alias)) == NULL) {
		pthread_mutex_unlock(&g_bdev_mutex);
		free(a);
		return -ENOMEM;
	}
	TAILQ_INSERT_TAIL(&bdev->internal->aliases, a, link);
	pthread_mutex_unlock(&g_bdev_mutex);
	return 0;
}

int plx_bdev_alias_del(struct plx_bdev *bdev, const char *alias)
{
	struct bdev_alias *a;

	pthread_mutex_lock(&g_bdev_mutex);
	TAILQ_FOREACH(a, &bdev->internal->aliases, link)
	{
		if (strcmp(a->name, alias) == 0) {
			TAILQ_REMOVE(&bdev->internal->aliases, a, link);
			pthread_mutex_unlock(&g_bdev_mutex);
			free(a->name);
			free(a);
			return 0;
		}
	}
	pthread_mutex_unlock(&g_bdev_mutex);
	return -ENOENT;
}

void plx_bdev_foreach_alias(const struct plx_bdev *bdev, void (*cb)(const char *alias, void *arg),
			    void *arg)
{
	struct bdev_alias *a;

	TAILQ_FOREACH(a, &bdev->internal->aliases, link)
	{
		cb(a->name, arg);
	}
}

/* ---- getters ---- */

const char *plx_bdev_get_name(const struct plx_bdev *bdev)
{
	return bdev->name;
}

const char *plx_bdev_get_product_name(const struct plx_bdev *bdev)
{
	return bdev->product_name ? bdev->product_name : "";
}

const char *plx_bdev_get_module_name(const struct plx_bdev *bdev)
{
	return bdev->module->name;
}

uint32_t plx_bdev_get_block_size(const struct plx_bdev *bdev)
{
	return bdev->blocklen;
}

uint64_t plx_bdev_get_num_blocks(const struct plx_bdev *bdev)
{
	return bdev->blockcnt;
}

const struct plx_uuid *plx_bdev_get_uuid(const struct plx_bdev *bdev)
{
	return &bdev->uuid;
}

uint32_t plx_bdev_get_optimal_io_boundary(const struct plx_bdev *bdev)
{
	return bdev->optimal_io_boundary;
}

size_t plx_bdev_get_buf_align(const struct plx_bdev *bdev)
{
	return (size_t)1 << bdev->required_alignment;
}

bool plx_bdev_has_write_cache(const struct plx_bdev *bdev)
{
	return bdev->write_cache;
}

bool plx_bdev_io_type_supported(struct plx_bdev *bdev, enum plx_bdev_io_type type)
{
	bool native = bdev->fn_table->io_type_supported(bdev->ctxt, type);

	/* The layer emulates these when the module cannot do them. */
	switch (type) {
	case PLX_BDEV_IO_TYPE_COMPARE:
	case PLX_BDEV_IO_TYPE_COMPARE_AND_WRITE:
		return native ||
		       (bdev->fn_table->io_type_supported(bdev->ctxt, PLX_BDEV_IO_TYPE_READ) &&
			(type == PLX_BDEV_IO_TYPE_COMPARE ||
			 bdev->fn_table->io_type_supported(bdev->ctxt, PLX_BDEV_IO_TYPE_WRITE)));
	case PLX_BDEV_IO_TYPE_RESET:
	case PLX_BDEV_IO_TYPE_ABORT:
		return true;
	default:
		return native;
	}
}

const char *plx_bdev_get_claim_module_name(const struct plx_bdev *bdev)
{
	struct plx_bdev_module *m = bdev->internal->claim_module;

	return m != NULL ? m->name : NULL;
}

/* ---- examine ---- */

static bool examine_idle(void)
{
	struct plx_bdev_module *m;

	TAILQ_FOREACH(m, &g_bdev_modules, link)
	{
		if (m->examine_in_progress > 0) {
			return false;
		}
	}
	return true;
}

static void examine_waiter_run(void *arg)
{
	struct examine_waiter *w = arg;

	w->cb(w->arg);
	free(w);
}

static void examine_check_waiters(void)
{
	struct examine_waiter *w;

	if (!examine_idle()) {
		return;
	}
	while ((w = g_examine_waiters) != NULL) {
		g_examine_waiters = w->next;
		if (plx_thread_send_msg(w->thread, examine_waiter_run, w) != 0) {
			PLX_ERRLOG("bdev_wait_for_examine: waiter's thread is gone\n");
			free(w);
		}
	}
}

void plx_bdev_module_examine_done(struct plx_bdev_module *module)
{
	if (module->examine_in_progress == 0) {
		PLX_ERRLOG("module %s finished an examine it never started\n", module->name);
		return;
	}
	module->examine_in_progress--;
	examine_check_waiters();
}

static void bdev_examine(struct plx_bdev *bdev)
{
	struct plx_bdev_module *m;

	bdev->internal->examined = true;
	TAILQ_FOREACH(m, &g_bdev_modules, link)
	{
		if (m->examine_config != NULL) {
			m->examine_in_progress++;
			m->examine_config(bdev);
		}
	}
	/* Disk examination reads the device, so only for bdevs nobody claimed by config. */
	TAILQ_FOREACH(m, &g_bdev_modules, link)
	{
		if (m->examine_disk != NULL && bdev->internal->claim_module == NULL) {
			m->examine_in_progress++;
			m->examine_disk(bdev);
		}
	}
}

int plx_bdev_examine(const char *name)
{
	struct plx_bdev *bdev = plx_bdev_get_by_name(name);

	if (bdev == NULL) {
		return -ENODEV;
	}
	if (bdev->internal->examined) {
		return -EALREADY;
	}
	bdev_examine(bdev);
	return 0;
}

int plx_bdev_wait_for_examine(void (*cb)(void *arg), void *cb_arg)
{
	struct examine_waiter *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		return -ENOMEM;
	}
	*w = (struct examine_waiter){
	    .cb = cb, .arg = cb_arg, .thread = plx_get_thread(), .next = g_examine_waiters};
	g_examine_waiters = w;
	examine_check_waiters();
	return 0;
}

/* ---- registration ---- */

static int bdev_check_geometry(const struct plx_bdev *bdev)
{
	if (bdev->name == NULL || bdev->name[0] == '\0') {
		PLX_ERRLOG("bdev without a name\n");
		return -EINVAL;
	}
	if (bdev->blocklen < 512 || bdev->blocklen > 65536 || bdev->blocklen % 512 != 0) {
		PLX_ERRLOG("bdev %s: block size %u is not a multiple of 512 in 512..65536\n",
			   bdev->name, bdev->blocklen);
		return -EINVAL;
	}
	if (bdev->blockcnt == 0) {
		PLX_ERRLOG("bdev %s: zero blocks\n", bdev->name);
		return -EINVAL;
	}
	if (bdev->fn_table == NULL || bdev->fn_table->submit_request == NULL ||
	    bdev->fn_table->get_io_channel == NULL || bdev->fn_table->io_type_supported == NULL ||
	    bdev->module == NULL) {
		PLX_ERRLOG("bdev %s: incomplete ops table or no module\n", bdev->name);
		return -EINVAL;
	}
	return 0;
}

static bool uuid_taken_locked(const struct plx_uuid *uuid)
{
	struct plx_bdev_internal *in;

	TAILQ_FOREACH(in, &g_bdevs, link)
	{
		if (plx_uuid_compare(&in->bdev->uuid, uuid) == 0) {
			return true;
		}
	}
	return false;
}

int plx_bdev_register(struct plx_bdev *bdev)
{
	struct plx_bdev_internal *in;
	char uuid[PLX_UUID_STRING_LEN];
	int rc = bdev_check_geometry(bdev);

	if (rc != 0) {
		return rc;
	}
	in = calloc(1, sizeof(*in));
	if (in == NULL) {
		return -ENOMEM;
	}
	in->bdev = bdev;
	pthread_mutex_init(&in->mutex, NULL);
	TAILQ_INIT(&in->descs);
	TAILQ_INIT(&in->aliases);
	TAILQ_INIT(&in->locked_ranges);
	STAILQ_INIT(&in->pending_resets);
	STAILQ_INIT(&in->pending_caws);
	bdev_stat_init(&in->stat_retired);
	in->stat_reset_tsc = plx_get_ticks();
	if (plx_uuid_is_null(&bdev->uuid)) {
		plx_uuid_generate(&bdev->uuid);
	}
	pthread_mutex_lock(&g_bdev_mutex);
	plx_uuid_fmt_lower(uuid, sizeof(uuid), &bdev->uuid);
	if (bdev_find_locked(bdev->name) != NULL || uuid_taken_locked(&bdev->uuid)) {
		pthread_mutex_unlock(&g_bdev_mutex);
		PLX_ERRLOG("bdev %s (uuid %s): name or uuid already exists\n", bdev->name, uuid);
		free(in);
		return -EEXIST;
	}
	bdev->internal = in;
	TAILQ_INSERT_TAIL(&g_bdevs, in, link);
	pthread_mutex_unlock(&g_bdev_mutex);

	plx_io_device_register(in, bdev_channel_create, bdev_channel_destroy,
			       sizeof(struct plx_bdev_channel), bdev->name);
	PLX_DEBUGLOG(bdev, "registered %s (%lu blocks of %u)\n", bdev->name,
		     (unsigned long)bdev->blockcnt, bdev->blocklen);
	if (g_bdev_opts.bdev_auto_examine) {
		bdev_examine(bdev);
	}
	return 0;
}

static void bdev_free_internal(struct plx_bdev_internal *in)
{
	struct bdev_alias *a;

	while ((a = TAILQ_FIRST(&in->aliases)) != NULL) {
		TAILQ_REMOVE(&in->aliases, a, link);
		free(a->name);
		free(a);
	}
	pthread_mutex_destroy(&in->mutex);
	free(in);
}

struct unregister_done {
	plx_bdev_unregister_cb cb;
	void *ctx;
	int rc;
};

static void unregister_done_msg(void *arg)
{
	struct unregister_done *d = arg;

	if (d->cb != NULL) {
		d->cb(d->ctx, d->rc);
	}
	free(d);
	/* A layer shutdown that found this bdev mid-unregister waits for exactly this. */
	bdev_layer_fini_continue();
}

/* The io_device is gone: no channel is left. Free what the layer owns and report. */
static void bdev_io_device_gone(void *io_device)
{
	struct plx_bdev_internal *in = io_device;
	struct unregister_done *d = calloc(1, sizeof(*d));
	struct plx_thread *thread = in->unregister_thread;

	if (d != NULL) {
		*d = (struct unregister_done){.cb = in->unregister_cb, .ctx = in->unregister_ctx};
	}
	bdev_free_internal(in);
	if (d != NULL && plx_thread_send_msg(thread, unregister_done_msg, d) != 0) {
		free(d);
	}
}

/* The device is gone; only the layer's part (in) remains, until its last channel is. */
static void bdev_internal_release(struct plx_bdev_internal *in)
{
	in->bdev = NULL;
	plx_io_device_unregister(in, bdev_io_device_gone);
}

void plx_bdev_destruct_done(struct plx_bdev *bdev, int rc)
{
	if (rc != 0) {
		PLX_ERRLOG("bdev %s: destruct failed: %d\n", bdev->name, rc);
	}
	bdev_internal_release(bdev->internal);
}

static void bdev_destruct(struct plx_bdev_internal *in)
{
	struct plx_bdev *bdev = in->bdev;
	int rc;

	pthread_mutex_lock(&g_bdev_mutex);
	TAILQ_REMOVE(&g_bdevs, in, link);
	pthread_mutex_unlock(&g_bdev_mutex);
	snprintf(in->unregister_name, sizeof(in->unregister_name), "%s", bdev->name);
	PLX_DEBUGLOG(bdev, "destructing %s\n", bdev->name);
	/* A destruct returning 0 may have freed bdev already: only in is used after it. */
	rc = bdev->fn_table->destruct != NULL ? bdev->fn_table->destruct(bdev->ctxt) : 0;
	if (rc < 0) {
		PLX_ERRLOG("bdev %s: destruct failed: %d\n", in->unregister_name, rc);
	}
	if (rc != 1) {
		bdev_internal_release(in);
	}
}

/*
 * With in->mutex held, during unregistration: whether the caller is the one to destruct (the
 * last descriptor is gone). Exactly one caller gets true; no other may touch in after that.
 */
static bool bdev_take_destruct_locked(struct plx_bdev_internal *in)
{
	if (in->status != BDEV_STATUS_UNREGISTERING || !TAILQ_EMPTY(&in->descs) ||
	    in->destruct_started) {
		return false;
	}
	in->destruct_started = true;
	return true;
}

/* On the unregistering thread, sent by the last close. */
static void bdev_destruct_msg(void *arg)
{
	bdev_destruct(arg);
}

static void desc_remove_event(void *arg)
{
	struct plx_bdev_desc *desc = arg;

	if (!desc->closed) {
		desc->event_cb(PLX_BDEV_EVENT_REMOVE, desc->bdev, desc->event_ctx);
	}
}

void plx_bdev_unregister(struct plx_bdev *bdev, plx_bdev_unregister_cb cb, void *cb_arg)
{
	struct plx_bdev_internal *in = bdev->internal;
	struct plx_bdev_desc *desc;
	bool destruct;

	pthread_mutex_lock(&in->mutex);
	if (in->status != BDEV_STATUS_READY) {
		pthread_mutex_unlock(&in->mutex);
		PLX_ERRLOG("bdev %s is already being unregistered\n", bdev->name);
		if (cb != NULL) {
			cb(cb_arg, -EBUSY);
		}
		return;
	}
	in->status = BDEV_STATUS_UNREGISTERING;
	in->unregister_cb = cb;
	in->unregister_ctx = cb_arg;
	in->unregister_thread = plx_get_thread();
	/* Every open descriptor learns on its own thread; each must close. */
	TAILQ_FOREACH(desc, &in->descs, link)
	{
		if (!desc->remove_notified) {
			desc->remove_notified = true;
			plx_thread_send_msg(desc->thread, desc_remove_event, desc);
		}
	}
	destruct = bdev_take_destruct_locked(in);
	pthread_mutex_unlock(&in->mutex);
	if (destruct) {
		bdev_destruct(in);
	}
}

int plx_bdev_unregister_by_name(const char *name, struct plx_bdev_module *module,
				plx_bdev_unregister_cb cb, void *cb_arg)
{
	struct plx_bdev *bdev;

	pthread_mutex_lock(&g_bdev_mutex);
	bdev = bdev_find_locked(name);
	pthread_mutex_unlock(&g_bdev_mutex);
	if (bdev == NULL || (module != NULL && bdev->module != module)) {
		return -ENODEV;
	}
	plx_bdev_unregister(bdev, cb, cb_arg);
	return 0;
}

/* ---- open and close ---- */

int plx_bdev_open_ext(const char *name, bool write, plx_bdev_event_cb event_cb, void *event_ctx,
		      struct plx_bdev_desc **descp)
{
	struct plx_bdev_desc *desc;
	struct plx_bdev *bdev;

	if (event_cb == NULL) {
		PLX_ERRLOG("opening bdev %s without an event callback\n", name);
		return -EINVAL;
	}
	desc = calloc(1, sizeof(*desc));
	if (desc == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_lock(&g_bdev_mutex);
	bdev = bdev_find_locked(name);
	if (bdev == NULL || bdev->internal->status != BDEV_STATUS_READY) {
		pthread_mutex_unlock(&g_bdev_mutex);
		free(desc);
		return -ENODEV;
	}
	if (write && bdev->internal->claim_module != NULL) {
		pthread_mutex_unlock(&g_bdev_mutex);
		PLX_ERRLOG("bdev %s is claimed by module %s: no write access\n", name,
			   bdev->internal->claim_module->name);
		free(desc);
		return -EPERM;
	}
	*desc = (struct plx_bdev_desc){.bdev = bdev,
				       .thread = plx_get_thread(),
				       .event_cb = event_cb,
				       .event_ctx = event_ctx,
				       .write = write};
	pthread_mutex_lock(&bdev->internal->mutex);
	TAILQ_INSERT_TAIL(&bdev->internal->descs, desc, link);
	pthread_mutex_unlock(&bdev->internal->mutex);
	pthread_mutex_unlock(&g_bdev_mutex);
	*descp = desc;
	return 0;
}

void plx_bdev_close(struct plx_bdev_desc *desc)
{
	struct plx_bdev_internal *in = desc->bdev->internal;
	bool destruct;

	if (desc->thread != plx_get_thread()) {
		PLX_ERRLOG("bdev %s: descriptor closed from another thread\n", desc->bdev->name);
	}
	pthread_mutex_lock(&in->mutex);
	TAILQ_REMOVE(&in->descs, desc, link);
	destruct = bdev_take_destruct_locked(in);
	pthread_mutex_unlock(&in->mutex);
	/* A pending remove or resize event must not see a freed descriptor: it checks closed.
	 * Events were queued under in->mutex before the descriptor left the list, so a message
	 * sent now runs after them. */
	desc->closed = true;
	if (plx_thread_send_msg(desc->thread, free, desc) != 0) {
		free(desc);
	}
	if (destruct) {
		plx_thread_send_msg(in->unregister_thread, bdev_destruct_msg, in);
	}
}

struct plx_bdev *plx_bdev_desc_get_bdev(struct plx_bdev_desc *desc)
{
	return desc->bdev;
}

struct plx_io_channel *plx_bdev_get_io_channel(struct plx_bdev_desc *desc)
{
	return plx_get_io_channel(desc->bdev->internal);
}

/* ---- claims and resize ---- */

int plx_bdev_module_claim_bdev(struct plx_bdev *bdev, struct plx_bdev_desc *desc,
			       struct plx_bdev_module *module)
{
	int rc = 0;

	pthread_mutex_lock(&bdev->internal->mutex);
	if (bdev->internal->claim_module != NULL) {
		PLX_ERRLOG("bdev %s is already claimed by module %s\n", bdev->name,
			   bdev->internal->claim_module->name);
		rc = -EPERM;
	} else {
		bdev->internal->claim_module = module;
	}
	pthread_mutex_unlock(&bdev->internal->mutex);
	return rc;
}

void plx_bdev_module_release_bdev(struct plx_bdev *bdev)
{
	pthread_mutex_lock(&bdev->internal->mutex);
	bdev->internal->claim_module = NULL;
	pthread_mutex_unlock(&bdev->internal->mutex);
}

static void desc_resize_event(void *arg)
{
	struct plx_bdev_desc *desc = arg;

	if (!desc->closed) {
		desc->event_cb(PLX_BDEV_EVENT_RESIZE, desc->bdev, desc->event_ctx);
	}
}

int plx_bdev_notify_blockcnt_change(struct plx_bdev *bdev, uint64_t blockcnt)
{
	struct plx_bdev_desc *desc;

	if (blockcnt == 0) {
		return -EINVAL;
	}
	pthread_mutex_lock(&bdev->internal->mutex);
	bdev->blockcnt = blockcnt;
	TAILQ_FOREACH(desc, &bdev->internal->descs, link)
	{
		if (!desc->closed && !desc->remove_notified) {
			plx_thread_send_msg(desc->thread, desc_resize_event, desc);
		}
	}
	pthread_mutex_unlock(&bdev->internal->mutex);
	return 0;
}
