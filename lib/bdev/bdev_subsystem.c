/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "bdev" and "iobuf" subsystems: module init and fini, the bdev_io pool, and the config
 * the bdev layer writes for save_config.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"
#include "pollux/event.h"

static struct plx_bdev_module *g_fini_module;

static size_t max_module_ctx_size(void)
{
	struct plx_bdev_module *m;
	size_t max = 0;

	TAILQ_FOREACH(m, &g_bdev_modules, link)
	{
		if (m->get_ctx_size != NULL && (size_t)m->get_ctx_size() > max) {
			max = (size_t)m->get_ctx_size();
		}
	}
	return max;
}

static void (*g_fini_done)(void *arg);
static void *g_fini_arg;
static bool g_fini_modules_started;

int bdev_layer_init(void)
{
	struct plx_bdev_module *m;
	int rc;

	g_fini_done = NULL;
	g_fini_modules_started = false;
	g_bdev_io_size = PLX_ALIGN_UP(sizeof(struct plx_bdev_io) + max_module_ctx_size(),
				      (size_t)PLX_CACHE_LINE);
	/* Per-OS-thread caches in the pool stay small: each thread caches in its channel. */
	g_bdev_io_pool =
	    plx_mempool_create("bdev_io", g_bdev_opts.bdev_io_pool_size, g_bdev_io_size, 0);
	if (g_bdev_io_pool == NULL) {
		PLX_ERRLOG("cannot allocate %u bdev_ios of %zu bytes\n",
			   g_bdev_opts.bdev_io_pool_size, g_bdev_io_size);
		return -ENOMEM;
	}
	plx_io_device_register(&g_bdev_mgmt_io_device, bdev_mgmt_channel_create,
			       bdev_mgmt_channel_destroy, sizeof(struct bdev_mgmt_channel),
			       "bdev_mgmt");
	TAILQ_FOREACH(m, &g_bdev_modules, link)
	{
		rc = m->module_init != NULL ? m->module_init() : 0;
		if (rc != 0) {
			PLX_ERRLOG("bdev module %s failed to initialise: %d\n", m->name, rc);
			return rc;
		}
	}
	g_bdev_initialized = true;
	return 0;
}

static void bdev_subsystem_init(void)
{
	plx_subsystem_init_next(bdev_layer_init());
}

static void mgmt_unregistered(void *io_device)
{
	void (*done)(void *arg) = g_fini_done;

	plx_mempool_free(g_bdev_io_pool);
	g_bdev_io_pool = NULL;
	g_fini_done = NULL;
	done(g_fini_arg);
}

static void bdev_fini_done(void)
{
	g_bdev_initialized = false;
	plx_io_device_unregister(&g_bdev_mgmt_io_device, mgmt_unregistered);
}

/* Modules finish in reverse registration order, after every bdev is gone. */
static void bdev_fini_modules(void)
{
	g_fini_modules_started = true;
	for (g_fini_module = TAILQ_LAST(&g_bdev_modules, bdev_module_list); g_fini_module;
	     g_fini_module = TAILQ_PREV(g_fini_module, bdev_module_list, link)) {
		if (g_fini_module->module_fini != NULL) {
			g_fini_module->module_fini();
		}
	}
	bdev_fini_done();
}

static void unregister_next(void *arg, int rc);

/* Unregister bdevs last-registered first: virtual bdevs go before their bases. */
static void unregister_last(void)
{
	struct plx_bdev_internal *in;

	pthread_mutex_lock(&g_bdev_mutex);
	TAILQ_FOREACH_REVERSE(in, &g_bdevs, bdev_list, link)
	{
		if (in->status == BDEV_STATUS_READY) {
			break;
		}
	}
	pthread_mutex_unlock(&g_bdev_mutex);
	if (in == NULL) {
		if (TAILQ_EMPTY(&g_bdevs)) {
			bdev_fini_modules();
		}
		/* Otherwise unregistrations in flight call unregister_next when done. */
		return;
	}
	plx_bdev_unregister(in->bdev, unregister_next, NULL);
}

static void unregister_next(void *arg, int rc)
{
	/* bdev_layer_fini_continue, run by every finished unregistration, takes it from here. */
}

void bdev_layer_fini_continue(void)
{
	if (g_fini_done != NULL && g_bdev_initialized && !g_fini_modules_started) {
		unregister_last();
	}
}

void bdev_layer_fini(void (*done)(void *arg), void *arg)
{
	g_fini_done = done;
	g_fini_arg = arg;
	if (!g_bdev_initialized) {
		done(arg);
		return;
	}
	unregister_last();
}

static void bdev_subsystem_fini_done(void *arg)
{
	plx_subsystem_fini_next();
}

static void bdev_subsystem_fini(void)
{
	bdev_layer_fini(bdev_subsystem_fini_done, NULL);
}

static void bdev_subsystem_write_config(json_t *config)
{
	struct plx_bdev_module *m;
	struct plx_bdev_internal *in;

	json_array_append_new(
	    config, json_pack("{s:s, s:{s:I, s:I, s:b}}", "method", "bdev_set_options", "params",
			      "bdev_io_pool_size", (json_int_t)g_bdev_opts.bdev_io_pool_size,
			      "bdev_io_cache_size", (json_int_t)g_bdev_opts.bdev_io_cache_size,
			      "bdev_auto_examine", g_bdev_opts.bdev_auto_examine));
	TAILQ_FOREACH(m, &g_bdev_modules, link)
	{
		if (m->config_json != NULL) {
			m->config_json(config);
		}
	}
	TAILQ_FOREACH(in, &g_bdevs, link)
	{
		struct plx_bdev *bdev = in->bdev;

		if (bdev->fn_table->write_config_json != NULL) {
			bdev->fn_table->write_config_json(bdev, config);
		}
		bdev_qos_write_config(bdev, config);
	}
	json_array_append_new(config, json_pack("{s:s}", "method", "bdev_wait_for_examine"));
}

static struct plx_subsystem g_bdev_subsystem = {
    .name = "bdev",
    .init = bdev_subsystem_init,
    .fini = bdev_subsystem_fini,
    .write_config_json = bdev_subsystem_write_config,
};
PLX_SUBSYSTEM_REGISTER(g_bdev_subsystem)
PLX_SUBSYSTEM_DEPEND(bdev, iobuf)

static void iobuf_subsystem_init(void)
{
	plx_subsystem_init_next(iobuf_init(&g_iobuf_opts));
}

static void iobuf_subsystem_fini(void)
{
	iobuf_fini();
	plx_subsystem_fini_next();
}

static void iobuf_write_config(json_t *config)
{
	json_array_append_new(
	    config,
	    json_pack("{s:s, s:{s:I, s:I, s:I, s:I, s:b}}", "method", "iobuf_set_options", "params",
		      "small_pool_count", (json_int_t)g_iobuf_opts.small_pool_count,
		      "large_pool_count", (json_int_t)g_iobuf_opts.large_pool_count,
		      "small_bufsize", (json_int_t)g_iobuf_opts.small_bufsize, "large_bufsize",
		      (json_int_t)g_iobuf_opts.large_bufsize, "enable_numa", 0));
}

static struct plx_subsystem g_iobuf_subsystem = {
    .name = "iobuf",
    .init = iobuf_subsystem_init,
    .fini = iobuf_subsystem_fini,
    .write_config_json = iobuf_write_config,
};
PLX_SUBSYSTEM_REGISTER(g_iobuf_subsystem)
