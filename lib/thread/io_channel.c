/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * io_devices and io_channels. The device list and every thread's channel list change only
 * under g_devlist_mutex (control path: channels are got and put rarely, never per I/O), so a
 * for_each_channel walk can ask, from any thread, which thread holds the next channel.
 * A channel itself is touched only by its own thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "thread_internal.h"

struct plx_io_device {
	void *io_device;
	plx_io_channel_create_cb create_cb;
	plx_io_channel_destroy_cb destroy_cb;
	plx_io_device_unregister_cb unregister_cb;
	struct plx_thread *unregister_thread;
	uint32_t ctx_size;
	uint32_t channel_count; /* channels alive, on any thread */
	uint32_t walks;		/* for_each_channel walks in progress */
	bool unregistered;
	char name[PLX_NAME_MAX];
	TAILQ_ENTRY(plx_io_device) link;
};

static TAILQ_HEAD(, plx_io_device) g_io_devices = TAILQ_HEAD_INITIALIZER(g_io_devices);

static struct plx_io_device *device_find(void *io_device)
{
	struct plx_io_device *dev;

	TAILQ_FOREACH(dev, &g_io_devices, link)
	{
		if (dev->io_device == io_device) {
			return dev;
		}
	}
	return NULL;
}

void plx_io_device_register(void *io_device, plx_io_channel_create_cb create_cb,
			    plx_io_channel_destroy_cb destroy_cb, uint32_t ctx_size,
			    const char *name)
{
	struct plx_io_device *dev = calloc(1, sizeof(*dev));

	if (dev == NULL) {
		PLX_ERRLOG("io_device %s: out of memory\n", name ? name : "");
		return;
	}
	dev->io_device = io_device;
	dev->create_cb = create_cb;
	dev->destroy_cb = destroy_cb;
	dev->ctx_size = ctx_size;
	if (name != NULL) {
		snprintf(dev->name, sizeof(dev->name), "%s", name);
	} else {
		snprintf(dev->name, sizeof(dev->name), "%p", io_device);
	}
	pthread_mutex_lock(&g_devlist_mutex);
	if (device_find(io_device) != NULL) {
		pthread_mutex_unlock(&g_devlist_mutex);
		PLX_ERRLOG("io_device %s (%p) is already registered\n", dev->name, io_device);
		free(dev);
		return;
	}
	TAILQ_INSERT_TAIL(&g_io_devices, dev, link);
	pthread_mutex_unlock(&g_devlist_mutex);
}

static void device_unregister_done(void *arg)
{
	struct plx_io_device *dev = arg;

	if (dev->unregister_cb != NULL) {
		dev->unregister_cb(dev->io_device);
	}
	free(dev);
}

/* Called with the lock held: finish an unregistration once nothing refers to dev. */
static void device_try_release(struct plx_io_device *dev)
{
	if (!dev->unregistered || dev->channel_count > 0 || dev->walks > 0) {
		return;
	}
	TAILQ_REMOVE(&g_io_devices, dev, link);
	/* The callback runs later, on the unregistering thread, outside anyone's stack. */
	if (plx_thread_send_msg(dev->unregister_thread, device_unregister_done, dev) != 0) {
		PLX_ERRLOG("io_device %s: unregister callback lost\n", dev->name);
	}
}

void plx_io_device_unregister(void *io_device, plx_io_device_unregister_cb unregister_cb)
{
	struct plx_io_device *dev;

	if (plx_get_thread() == NULL) {
		PLX_ERRLOG("io_device %p unregistered outside a plx_thread\n", io_device);
		return;
	}
	pthread_mutex_lock(&g_devlist_mutex);
	dev = device_find(io_device);
	if (dev == NULL || dev->unregistered) {
		pthread_mutex_unlock(&g_devlist_mutex);
		PLX_ERRLOG("io_device %p is not registered\n", io_device);
		return;
	}
	dev->unregistered = true;
	dev->unregister_cb = unregister_cb;
	dev->unregister_thread = plx_get_thread();
	device_try_release(dev);
	pthread_mutex_unlock(&g_devlist_mutex);
}

static struct plx_io_channel *thread_find_channel(struct plx_thread *thread,
						  struct plx_io_device *dev)
{
	struct plx_io_channel *ch;

	TAILQ_FOREACH(ch, &thread->io_channels, link)
	{
		if (ch->dev == dev) {
			return ch;
		}
	}
	return NULL;
}

struct plx_io_channel *plx_get_io_channel(void *io_device)
{
	struct plx_thread *thread = plx_get_thread();
	struct plx_io_device *dev;
	struct plx_io_channel *ch;
	int rc;

	if (thread == NULL) {
		PLX_ERRLOG("plx_get_io_channel outside a plx_thread\n");
		return NULL;
	}
	pthread_mutex_lock(&g_devlist_mutex);
	dev = device_find(io_device);
	if (dev == NULL || dev->unregistered) {
		pthread_mutex_unlock(&g_devlist_mutex);
		PLX_ERRLOG("io_device %p is not registered\n", io_device);
		return NULL;
	}
	ch = thread_find_channel(thread, dev);
	if (ch != NULL) {
		ch->ref++;
		pthread_mutex_unlock(&g_devlist_mutex);
		return ch;
	}
	ch = aligned_alloc(PLX_CACHE_LINE,
			   PLX_ALIGN_UP(sizeof(*ch) + dev->ctx_size, (size_t)PLX_CACHE_LINE));
	if (ch == NULL) {
		pthread_mutex_unlock(&g_devlist_mutex);
		return NULL;
	}
	memset(ch, 0, sizeof(*ch) + dev->ctx_size);
	ch->thread = thread;
	ch->dev = dev;
	ch->ref = 1;
	TAILQ_INSERT_TAIL(&thread->io_channels, ch, link);
	dev->channel_count++;
	pthread_mutex_unlock(&g_devlist_mutex);

	/* create_cb may itself get channels, so it runs without the lock. */
	rc = dev->create_cb(io_device, plx_io_channel_get_ctx(ch));
	if (rc != 0) {
		PLX_ERRLOG("creating a channel to %s failed: %d\n", dev->name, rc);
		pthread_mutex_lock(&g_devlist_mutex);
		TAILQ_REMOVE(&thread->io_channels, ch, link);
		dev->channel_count--;
		device_try_release(dev);
		pthread_mutex_unlock(&g_devlist_mutex);
		free(ch);
		return NULL;
	}
	return ch;
}

static void channel_destroy_deferred(void *arg)
{
	struct plx_io_channel *ch = arg;
	struct plx_io_device *dev = ch->dev;

	ch->destroy_pending = false;
	if (ch->ref > 0) {
		return; /* got again after the put: keep it */
	}
	/* Off the list first, so walks do not visit a channel being destroyed. */
	pthread_mutex_lock(&g_devlist_mutex);
	TAILQ_REMOVE(&ch->thread->io_channels, ch, link);
	pthread_mutex_unlock(&g_devlist_mutex);

	dev->destroy_cb(dev->io_device, plx_io_channel_get_ctx(ch));

	pthread_mutex_lock(&g_devlist_mutex);
	dev->channel_count--;
	device_try_release(dev);
	pthread_mutex_unlock(&g_devlist_mutex);
	free(ch);
}

void plx_put_io_channel(struct plx_io_channel *ch)
{
	if (ch->thread != plx_get_thread()) {
		PLX_ERRLOG("channel to %s put from a thread that does not own it\n", ch->dev->name);
		return;
	}
	if (ch->ref == 0) {
		PLX_ERRLOG("channel to %s put too often\n", ch->dev->name);
		return;
	}
	/* The destroy is deferred so a put followed by a get in one call stack reuses it. */
	if (--ch->ref == 0 && !ch->destroy_pending) {
		ch->destroy_pending = true;
		if (plx_thread_send_msg(ch->thread, channel_destroy_deferred, ch) != 0) {
			ch->destroy_pending = false;
			channel_destroy_deferred(ch);
		}
	}
}

bool thread_has_io_channels(struct plx_thread *thread)
{
	return !TAILQ_EMPTY(&thread->io_channels);
}

void *plx_io_channel_get_ctx(struct plx_io_channel *ch)
{
	return (char *)ch + sizeof(*ch);
}

struct plx_io_channel *plx_io_channel_from_ctx(void *ctx)
{
	return (struct plx_io_channel *)((char *)ctx - sizeof(struct plx_io_channel));
}

struct plx_thread *plx_io_channel_get_thread(struct plx_io_channel *ch)
{
	return ch->thread;
}

void *plx_io_channel_get_io_device(struct plx_io_channel *ch)
{
	return ch->dev->io_device;
}

const char *plx_io_channel_get_name(struct plx_io_channel *ch)
{
	return ch->dev->name;
}

uint32_t plx_io_channel_get_ref(struct plx_io_channel *ch)
{
	return ch->ref;
}

void plx_thread_foreach_io_channel(void (*cb)(const char *name, uint32_t ref, void *arg), void *arg)
{
	struct plx_thread *thread = plx_get_thread();
	struct plx_io_channel *ch;

	if (thread == NULL) {
		return;
	}
	TAILQ_FOREACH(ch, &thread->io_channels, link)
	{
		cb(ch->dev->name, ch->ref, arg);
	}
}

/* ---- for_each_channel ---- */

struct plx_io_channel_iter {
	struct plx_io_device *dev;
	plx_channel_msg fn;
	plx_channel_for_each_cpl cpl;
	void *ctx;
	struct plx_thread *origin;
	struct plx_thread *cur_thread;
	uint64_t cur_id;
	struct plx_io_channel *ch;
	int status;
};

/* With the lock held: the first thread after id that holds a channel to dev. */
static struct plx_thread *next_channel_thread(struct plx_io_device *dev, uint64_t id)
{
	struct plx_thread *t;

	TAILQ_FOREACH(t, &g_threads, link)
	{
		if (t->id > id && t->state != THREAD_EXITED && thread_find_channel(t, dev)) {
			return t;
		}
	}
	return NULL;
}

static void channel_iter_done(void *arg)
{
	struct plx_io_channel_iter *i = arg;

	i->ch = NULL;
	i->cpl(i, i->status);
	pthread_mutex_lock(&g_devlist_mutex);
	i->dev->walks--;
	device_try_release(i->dev);
	pthread_mutex_unlock(&g_devlist_mutex);
	free(i);
}

static void channel_iter_advance(struct plx_io_channel_iter *i);

static void channel_iter_visit(void *arg)
{
	struct plx_io_channel_iter *i = arg;

	pthread_mutex_lock(&g_devlist_mutex);
	i->ch = thread_find_channel(i->cur_thread, i->dev);
	pthread_mutex_unlock(&g_devlist_mutex);
	if (i->ch == NULL) {
		/* The channel went away while the message travelled. */
		channel_iter_advance(i);
		return;
	}
	i->fn(i);
}

static void channel_iter_advance(struct plx_io_channel_iter *i)
{
	struct plx_thread *next;

	pthread_mutex_lock(&g_devlist_mutex);
	next = i->status == 0 ? next_channel_thread(i->dev, i->cur_id) : NULL;
	if (next != NULL) {
		i->cur_thread = next;
		i->cur_id = next->id;
	}
	pthread_mutex_unlock(&g_devlist_mutex);
	if (next != NULL && plx_thread_send_msg(next, channel_iter_visit, i) == 0) {
		return;
	}
	if (plx_thread_send_msg(i->origin, channel_iter_done, i) != 0) {
		PLX_ERRLOG("for_each_channel on %s could not reach its origin\n", i->dev->name);
	}
}

void plx_for_each_channel(void *io_device, plx_channel_msg fn, void *ctx,
			  plx_channel_for_each_cpl cpl)
{
	struct plx_io_channel_iter *i = calloc(1, sizeof(*i));
	struct plx_io_device *dev;

	if (i == NULL || plx_get_thread() == NULL) {
		PLX_ERRLOG("for_each_channel: %s\n", i ? "no current thread" : "out of memory");
		free(i);
		return;
	}
	pthread_mutex_lock(&g_devlist_mutex);
	dev = device_find(io_device);
	if (dev != NULL) {
		dev->walks++;
	}
	pthread_mutex_unlock(&g_devlist_mutex);
	if (dev == NULL) {
		PLX_ERRLOG("for_each_channel: io_device %p is not registered\n", io_device);
		free(i);
		return;
	}
	*i = (struct plx_io_channel_iter){
	    .dev = dev, .fn = fn, .cpl = cpl, .ctx = ctx, .origin = plx_get_thread()};
	channel_iter_advance(i);
}

void plx_for_each_channel_continue(struct plx_io_channel_iter *i, int status)
{
	i->status = status;
	i->ch = NULL;
	channel_iter_advance(i);
}

void *plx_io_channel_iter_get_io_device(struct plx_io_channel_iter *i)
{
	return i->dev->io_device;
}

struct plx_io_channel *plx_io_channel_iter_get_channel(struct plx_io_channel_iter *i)
{
	return i->ch;
}

void *plx_io_channel_iter_get_ctx(struct plx_io_channel_iter *i)
{
	return i->ctx;
}
