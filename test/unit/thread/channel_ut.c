/* SPDX-License-Identifier: BSD-3-Clause */
/* io_devices and io_channels under the deterministic harness. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "pollux/thread.h"
#include "ut.h"
#include "ut_thread.h"

#define MAX_THREADS 8

/* An io_device under test: counts callbacks and where they ran. */
struct dev {
	const char *name;
	int create_rc;
	unsigned int creates;
	unsigned int destroys;
	unsigned int unregisters;
	unsigned int destroys_at_unregister;
	struct plx_thread *created_on[MAX_THREADS];
	struct plx_thread *destroyed_on[MAX_THREADS];
	struct plx_thread *unregistered_on;
};

/* The channel context: who built it. */
struct chctx {
	uint64_t magic;
	struct plx_thread *owner;
	char pad[100];
};

#define CH_MAGIC 0x63686e6cull

static int dev_create(void *io_device, void *ctx_buf)
{
	struct dev *d = io_device;
	struct chctx *c = ctx_buf;

	CU_ASSERT_EQUAL(c->magic, 0); /* the context starts zeroed */
	if (d->create_rc != 0) {
		return d->create_rc;
	}
	if (d->creates < MAX_THREADS) {
		d->created_on[d->creates] = plx_get_thread();
	}
	d->creates++;
	c->magic = CH_MAGIC;
	c->owner = plx_get_thread();
	memset(c->pad, 0xa5, sizeof(c->pad));
	return 0;
}

static void dev_destroy(void *io_device, void *ctx_buf)
{
	struct dev *d = io_device;
	struct chctx *c = ctx_buf;

	CU_ASSERT_EQUAL(c->magic, CH_MAGIC);
	CU_ASSERT_PTR_EQUAL(c->owner, plx_get_thread());
	c->magic = 0;
	if (d->destroys < MAX_THREADS) {
		d->destroyed_on[d->destroys] = plx_get_thread();
	}
	d->destroys++;
}

static void dev_unregistered(void *io_device)
{
	struct dev *d = io_device;

	d->unregisters++;
	d->unregistered_on = plx_get_thread();
	d->destroys_at_unregister = d->destroys;
}

static void dev_register(struct dev *d, const char *name)
{
	d->name = name;
	plx_io_device_register(d, dev_create, dev_destroy, sizeof(struct chctx), name);
}

static void test_get_put(void)
{
	struct dev d = {0};
	struct plx_io_channel *ch, *ch2;
	struct chctx *c;

	ut_threads_init(2);
	dev_register(&d, "dev_get_put");
	ut_set_thread(1);
	ch = plx_get_io_channel(&d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	CU_ASSERT_EQUAL(d.creates, 1);
	CU_ASSERT_PTR_EQUAL(d.created_on[0], ut_thread(1));
	CU_ASSERT_EQUAL(plx_io_channel_get_ref(ch), 1);
	CU_ASSERT_PTR_EQUAL(plx_io_channel_get_thread(ch), ut_thread(1));
	CU_ASSERT_PTR_EQUAL(plx_io_channel_get_io_device(ch), &d);
	CU_ASSERT_STRING_EQUAL(plx_io_channel_get_name(ch), "dev_get_put");
	c = plx_io_channel_get_ctx(ch);
	CU_ASSERT_EQUAL(c->magic, CH_MAGIC);
	CU_ASSERT_PTR_EQUAL(c->owner, ut_thread(1));
	CU_ASSERT_PTR_EQUAL(plx_io_channel_from_ctx(c), ch);

	ch2 = plx_get_io_channel(&d);
	CU_ASSERT_PTR_EQUAL(ch2, ch);
	CU_ASSERT_EQUAL(plx_io_channel_get_ref(ch), 2);
	CU_ASSERT_EQUAL(d.creates, 1);

	plx_put_io_channel(ch2);
	CU_ASSERT_EQUAL(plx_io_channel_get_ref(ch), 1);
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.destroys, 0);
	plx_put_io_channel(ch);
	/* Deferred: destroy_cb runs on the next poll of the owner, on the owner. */
	CU_ASSERT_EQUAL(d.destroys, 0);
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(d.destroys, 0);
	ut_poll_thread(1);
	CU_ASSERT_EQUAL(d.destroys, 1);
	CU_ASSERT_PTR_EQUAL(d.destroyed_on[0], ut_thread(1));

	/* A new get builds a new channel. */
	ch = plx_get_io_channel(&d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	CU_ASSERT_EQUAL(d.creates, 2);
	plx_put_io_channel(ch);
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.destroys, 2);

	plx_io_device_unregister(&d, NULL);
	ut_poll_threads();
	ut_threads_fini();
}

/* A put followed by a get in the same call stack keeps the channel. */
static void test_put_then_get(void)
{
	struct dev d = {0};
	struct plx_io_channel *ch, *ch2;

	ut_threads_init(1);
	dev_register(&d, "dev_reuse");
	ch = plx_get_io_channel(&d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	plx_put_io_channel(ch);
	CU_ASSERT_EQUAL(plx_io_channel_get_ref(ch), 0);
	ch2 = plx_get_io_channel(&d);
	CU_ASSERT_PTR_EQUAL(ch2, ch);
	CU_ASSERT_EQUAL(plx_io_channel_get_ref(ch), 1);
	CU_ASSERT_EQUAL(d.creates, 1);
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.destroys, 0);
	CU_ASSERT_EQUAL(((struct chctx *)plx_io_channel_get_ctx(ch))->magic, CH_MAGIC);

	/* put, get, put in one stack: one destroy, once. */
	plx_put_io_channel(ch);
	ch2 = plx_get_io_channel(&d);
	CU_ASSERT_PTR_EQUAL(ch2, ch);
	plx_put_io_channel(ch2);
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.creates, 1);
	CU_ASSERT_EQUAL(d.destroys, 1);
	plx_io_device_unregister(&d, NULL);
	ut_poll_threads();
	ut_threads_fini();
}

static void test_channels_on_threads(void)
{
	struct dev d = {0};
	struct plx_io_channel *ch[4];

	ut_threads_init(4);
	dev_register(&d, "dev_multi");
	for (unsigned int i = 0; i < 4; i++) {
		ut_set_thread(i);
		ch[i] = plx_get_io_channel(&d);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ch[i]);
		CU_ASSERT_PTR_EQUAL(d.created_on[i], ut_thread(i));
		CU_ASSERT_PTR_EQUAL(plx_io_channel_get_thread(ch[i]), ut_thread(i));
		for (unsigned int j = 0; j < i; j++) {
			CU_ASSERT_PTR_NOT_EQUAL(ch[i], ch[j]);
		}
	}
	CU_ASSERT_EQUAL(d.creates, 4);
	for (unsigned int i = 0; i < 4; i++) {
		ut_set_thread(3 - i);
		plx_put_io_channel(ch[3 - i]);
	}
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.destroys, 4);
	/* Each on its own thread; the harness polls threads in id order. */
	for (unsigned int i = 0; i < 4; i++) {
		CU_ASSERT_PTR_EQUAL(d.destroyed_on[i], ut_thread(i));
	}
	ut_set_thread(0);
	plx_io_device_unregister(&d, NULL);
	ut_poll_threads();
	ut_threads_fini();
}

/* ---- for_each_channel ---- */

struct walk {
	struct plx_thread *visited[MAX_THREADS];
	struct plx_io_channel *channels[MAX_THREADS];
	unsigned int n;
	int stop_status;      /* returned at visit stop_at */
	unsigned int stop_at; /* 1-based; 0 never */
	bool defer;	      /* keep the iterator instead of continuing */
	struct plx_io_channel_iter *held;
	unsigned int cpl_runs;
	int cpl_status;
	unsigned int visits_at_cpl;
	struct plx_thread *cpl_on;
	void *io_device;
};

static void walk_fn(struct plx_io_channel_iter *i)
{
	struct walk *w = plx_io_channel_iter_get_ctx(i);

	CU_ASSERT_PTR_EQUAL(plx_io_channel_iter_get_io_device(i), w->io_device);
	if (w->n < MAX_THREADS) {
		w->visited[w->n] = plx_get_thread();
		w->channels[w->n] = plx_io_channel_iter_get_channel(i);
	}
	w->n++;
	if (w->defer) {
		w->held = i;
		return;
	}
	plx_for_each_channel_continue(i, w->n == w->stop_at ? w->stop_status : 0);
}

static void walk_cpl(struct plx_io_channel_iter *i, int status)
{
	struct walk *w = plx_io_channel_iter_get_ctx(i);

	w->cpl_runs++;
	w->cpl_status = status;
	w->visits_at_cpl = w->n;
	w->cpl_on = plx_get_thread();
}

static void test_for_each_channel(void)
{
	struct dev d = {0};
	struct plx_io_channel *ch[4] = {0};
	struct walk w = {.io_device = &d};
	static const unsigned int holders[] = {0, 1, 3};

	ut_threads_init(4);
	dev_register(&d, "dev_walk");
	/* Thread 2 holds none; get them in reverse so list order differs from id order. */
	for (int k = 2; k >= 0; k--) {
		ut_set_thread(holders[k]);
		ch[holders[k]] = plx_get_io_channel(&d);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ch[holders[k]]);
	}
	ut_set_thread(2);
	plx_for_each_channel(&d, walk_fn, &w, walk_cpl);
	CU_ASSERT_EQUAL(w.n, 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL_FATAL(w.n, 3);
	for (unsigned int k = 0; k < 3; k++) {
		CU_ASSERT_PTR_EQUAL(w.visited[k], ut_thread(holders[k]));
		CU_ASSERT_PTR_EQUAL(w.channels[k], ch[holders[k]]);
	}
	CU_ASSERT_EQUAL(w.cpl_runs, 1);
	CU_ASSERT_EQUAL(w.cpl_status, 0);
	CU_ASSERT_EQUAL(w.visits_at_cpl, 3);
	CU_ASSERT_PTR_EQUAL(w.cpl_on, ut_thread(2));

	/* A non-zero status stops the walk and reaches cpl. */
	memset(&w, 0, sizeof(w));
	w.io_device = &d;
	w.stop_at = 2;
	w.stop_status = -EAGAIN;
	ut_set_thread(0);
	plx_for_each_channel(&d, walk_fn, &w, walk_cpl);
	ut_poll_threads();
	CU_ASSERT_EQUAL(w.n, 2);
	CU_ASSERT_EQUAL(w.cpl_runs, 1);
	CU_ASSERT_EQUAL(w.cpl_status, -EAGAIN);
	CU_ASSERT_PTR_EQUAL(w.cpl_on, ut_thread(0));

	/* Continuing later, from outside fn, works as well. */
	memset(&w, 0, sizeof(w));
	w.io_device = &d;
	w.defer = true;
	ut_set_thread(3);
	plx_for_each_channel(&d, walk_fn, &w, walk_cpl);
	for (unsigned int k = 0; k < 3; k++) {
		ut_poll_threads();
		CU_ASSERT_EQUAL_FATAL(w.n, k + 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(w.held);
		CU_ASSERT_EQUAL(w.cpl_runs, 0);
		ut_set_thread(holders[k]);
		plx_for_each_channel_continue(w.held, 0);
		w.held = NULL;
	}
	ut_poll_threads();
	CU_ASSERT_EQUAL(w.n, 3);
	CU_ASSERT_EQUAL(w.cpl_runs, 1);
	CU_ASSERT_PTR_EQUAL(w.cpl_on, ut_thread(3));

	for (unsigned int k = 0; k < 3; k++) {
		ut_set_thread(holders[k]);
		plx_put_io_channel(ch[holders[k]]);
	}
	ut_set_thread(0);
	plx_io_device_unregister(&d, NULL);
	ut_poll_threads();
	ut_threads_fini();
}

/* A walk over a device nobody holds a channel to completes at once with status 0. */
static void test_for_each_channel_empty(void)
{
	struct dev d = {0};
	struct walk w = {.io_device = &d};

	ut_threads_init(2);
	dev_register(&d, "dev_empty");
	ut_set_thread(1);
	plx_for_each_channel(&d, walk_fn, &w, walk_cpl);
	ut_poll_threads();
	CU_ASSERT_EQUAL(w.n, 0);
	CU_ASSERT_EQUAL(w.cpl_runs, 1);
	CU_ASSERT_EQUAL(w.cpl_status, 0);
	CU_ASSERT_PTR_EQUAL(w.cpl_on, ut_thread(1));
	plx_io_device_unregister(&d, NULL);
	ut_poll_threads();
	ut_threads_fini();
}

/* Channels destroyed before the walk reaches them are skipped. */
static void test_for_each_channel_destroyed(void)
{
	struct dev d = {0};
	struct plx_io_channel *ch[3];
	struct walk w = {.io_device = &d};

	ut_threads_init(3);
	dev_register(&d, "dev_walk_destroy");
	for (unsigned int i = 0; i < 3; i++) {
		ut_set_thread(i);
		ch[i] = plx_get_io_channel(&d);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ch[i]);
	}
	/* Thread 1's channel is put before the walk: its destroy is queued ahead of the visit. */
	ut_set_thread(1);
	plx_put_io_channel(ch[1]);
	ut_set_thread(0);
	plx_for_each_channel(&d, walk_fn, &w, walk_cpl);
	/* Thread 2's channel goes while the walk is at thread 0. */
	ut_set_thread(2);
	plx_put_io_channel(ch[2]);
	ut_poll_thread(2);
	CU_ASSERT_EQUAL(d.destroys, 1);
	ut_poll_threads();
	CU_ASSERT_EQUAL_FATAL(w.n, 1);
	CU_ASSERT_PTR_EQUAL(w.visited[0], ut_thread(0));
	CU_ASSERT_EQUAL(w.cpl_runs, 1);
	CU_ASSERT_EQUAL(w.cpl_status, 0);
	CU_ASSERT_EQUAL(d.destroys, 2);
	ut_set_thread(0);
	plx_put_io_channel(ch[0]);
	plx_io_device_unregister(&d, NULL);
	ut_poll_threads();
	ut_threads_fini();
}

/* ---- unregister ---- */

static void test_unregister_deferred(void)
{
	struct dev d = {0};
	struct plx_io_channel *ch1, *ch2;

	ut_threads_init(4);
	dev_register(&d, "dev_unreg");
	ut_set_thread(1);
	ch1 = plx_get_io_channel(&d);
	ut_set_thread(2);
	ch2 = plx_get_io_channel(&d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch2);

	ut_set_thread(0);
	plx_io_device_unregister(&d, dev_unregistered);
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.unregisters, 0);
	/* No new channels, not even on a thread that holds one already... */
	ut_set_thread(3);
	CU_ASSERT_PTR_NULL(plx_get_io_channel(&d));
	ut_set_thread(1);
	CU_ASSERT_PTR_NULL(plx_get_io_channel(&d));
	CU_ASSERT_EQUAL(plx_io_channel_get_ref(ch1), 1);
	CU_ASSERT_EQUAL(d.creates, 2);
	/* ...but existing ones still work and are torn down normally. */
	plx_put_io_channel(ch1);
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.destroys, 1);
	CU_ASSERT_EQUAL(d.unregisters, 0);
	ut_set_thread(2);
	plx_put_io_channel(ch2);
	CU_ASSERT_EQUAL(d.unregisters, 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.destroys, 2);
	CU_ASSERT_EQUAL(d.unregisters, 1);
	CU_ASSERT_EQUAL(d.destroys_at_unregister, 2);
	CU_ASSERT_PTR_EQUAL(d.unregistered_on, ut_thread(0));

	/* Gone for good: get fails, and the pointer may be registered afresh. */
	CU_ASSERT_PTR_NULL(plx_get_io_channel(&d));
	dev_register(&d, "dev_unreg_again");
	ch2 = plx_get_io_channel(&d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch2);
	CU_ASSERT_STRING_EQUAL(plx_io_channel_get_name(ch2), "dev_unreg_again");
	plx_put_io_channel(ch2);
	ut_set_thread(3);
	plx_io_device_unregister(&d, dev_unregistered);
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.unregisters, 2);
	CU_ASSERT_PTR_EQUAL(d.unregistered_on, ut_thread(3));
	ut_threads_fini();
}

/* Without channels the callback still runs later, on the unregistering thread. */
static void test_unregister_idle(void)
{
	struct dev d = {0};

	ut_threads_init(2);
	dev_register(&d, "dev_unreg_idle");
	ut_set_thread(1);
	plx_io_device_unregister(&d, dev_unregistered);
	CU_ASSERT_EQUAL(d.unregisters, 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.unregisters, 1);
	CU_ASSERT_PTR_EQUAL(d.unregistered_on, ut_thread(1));
	/* A second unregister is an error and does not call back again. */
	plx_io_device_unregister(&d, dev_unregistered);
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.unregisters, 1);
	ut_threads_fini();
}

/* An unregistration waits for a walk in flight. */
static void test_unregister_during_walk(void)
{
	struct dev d = {0};
	struct plx_io_channel *ch;
	struct walk w = {.io_device = &d};

	ut_threads_init(2);
	dev_register(&d, "dev_unreg_walk");
	ut_set_thread(1);
	ch = plx_get_io_channel(&d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	ut_set_thread(0);
	plx_for_each_channel(&d, walk_fn, &w, walk_cpl);
	plx_io_device_unregister(&d, dev_unregistered);
	ut_set_thread(1);
	plx_put_io_channel(ch);
	ut_poll_thread(1); /* the visit, then the destroy */
	CU_ASSERT_EQUAL(w.n, 1);
	CU_ASSERT_EQUAL(d.destroys, 1);
	ut_poll_threads();
	CU_ASSERT_EQUAL(w.cpl_runs, 1);
	CU_ASSERT_EQUAL(d.unregisters, 1);
	CU_ASSERT_PTR_EQUAL(d.unregistered_on, ut_thread(0));
	ut_threads_fini();
}

static void test_create_fails(void)
{
	struct dev d = {.create_rc = -ENOMEM};
	struct plx_io_channel *ch;

	ut_threads_init(2);
	dev_register(&d, "dev_fail");
	ut_set_thread(1);
	CU_ASSERT_PTR_NULL(plx_get_io_channel(&d));
	CU_ASSERT_EQUAL(d.creates, 0);
	CU_ASSERT_EQUAL(d.destroys, 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.destroys, 0);
	/* The failure leaves nothing behind: a later create works and is the only channel. */
	d.create_rc = 0;
	ch = plx_get_io_channel(&d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	CU_ASSERT_EQUAL(plx_io_channel_get_ref(ch), 1);
	plx_put_io_channel(ch);
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.destroys, 1);
	/* A failed create does not hold up the unregistration. */
	d.create_rc = -EIO;
	CU_ASSERT_PTR_NULL(plx_get_io_channel(&d));
	plx_io_device_unregister(&d, dev_unregistered);
	ut_poll_threads();
	CU_ASSERT_EQUAL(d.unregisters, 1);
	ut_threads_fini(); /* would abort if a channel were left on thread 1 */
}

static void test_get_errors(void)
{
	struct dev d = {0}, other = {0};

	ut_threads_init(1);
	CU_ASSERT_PTR_NULL(plx_get_io_channel(&d)); /* not registered */
	dev_register(&d, "dev_err");
	plx_set_thread(NULL);
	CU_ASSERT_PTR_NULL(plx_get_io_channel(&d)); /* no current thread */
	ut_set_thread(0);
	/* Registering twice keeps the first registration. */
	plx_io_device_register(&d, dev_create, dev_destroy, 8, "dev_err_twice");
	{
		struct plx_io_channel *ch = plx_get_io_channel(&d);

		CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
		CU_ASSERT_STRING_EQUAL(plx_io_channel_get_name(ch), "dev_err");
		plx_put_io_channel(ch);
	}
	plx_io_device_unregister(&other, NULL); /* unknown: only logged */
	plx_io_device_unregister(&d, NULL);
	ut_poll_threads();
	ut_threads_fini();
}

/* Introspection: the current thread's channels with names and references. */
struct chinfo {
	char names[4][64];
	uint32_t refs[4];
	unsigned int n;
};

static void chinfo_cb(const char *name, uint32_t ref, void *arg)
{
	struct chinfo *ci = arg;

	if (ci->n < 4) {
		snprintf(ci->names[ci->n], sizeof(ci->names[0]), "%s", name);
		ci->refs[ci->n] = ref;
	}
	ci->n++;
}

static int find_name(const struct chinfo *ci, const char *name)
{
	for (unsigned int i = 0; i < ci->n && i < 4; i++) {
		if (strcmp(ci->names[i], name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static void test_foreach_io_channel(void)
{
	struct dev a = {0}, b = {0}, c = {0};
	struct plx_io_channel *cha, *chb, *chc;
	struct chinfo ci = {0};
	char hex[64];
	int k;

	ut_threads_init(2);
	dev_register(&a, "devA");
	dev_register(&b, "devB");
	plx_io_device_register(&c, dev_create, dev_destroy, sizeof(struct chctx), NULL);
	snprintf(hex, sizeof(hex), "%p", (void *)&c);
	ut_set_thread(1);
	cha = plx_get_io_channel(&a);
	chb = plx_get_io_channel(&b);
	CU_ASSERT_PTR_EQUAL(plx_get_io_channel(&b), chb);
	chc = plx_get_io_channel(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cha);
	CU_ASSERT_PTR_NOT_NULL_FATAL(chb);
	CU_ASSERT_PTR_NOT_NULL_FATAL(chc);
	CU_ASSERT_STRING_EQUAL(plx_io_channel_get_name(chc), hex);
	plx_thread_foreach_io_channel(chinfo_cb, &ci);
	CU_ASSERT_EQUAL_FATAL(ci.n, 3);
	k = find_name(&ci, "devA");
	CU_ASSERT_FATAL(k >= 0);
	CU_ASSERT_EQUAL(ci.refs[k], 1);
	k = find_name(&ci, "devB");
	CU_ASSERT_FATAL(k >= 0);
	CU_ASSERT_EQUAL(ci.refs[k], 2);
	CU_ASSERT(find_name(&ci, hex) >= 0);
	/* Only the current thread's channels. */
	memset(&ci, 0, sizeof(ci));
	ut_set_thread(0);
	plx_thread_foreach_io_channel(chinfo_cb, &ci);
	CU_ASSERT_EQUAL(ci.n, 0);

	ut_set_thread(1);
	plx_put_io_channel(cha);
	plx_put_io_channel(chb);
	plx_put_io_channel(chb);
	plx_put_io_channel(chc);
	ut_poll_threads();
	memset(&ci, 0, sizeof(ci));
	plx_thread_foreach_io_channel(chinfo_cb, &ci);
	CU_ASSERT_EQUAL(ci.n, 0);
	plx_io_device_unregister(&a, NULL);
	plx_io_device_unregister(&b, NULL);
	plx_io_device_unregister(&c, NULL);
	ut_poll_threads();
	ut_threads_fini();
}

/* create_cb may get a channel to another device on the same thread. */
static struct dev g_inner;

static int nested_create(void *io_device, void *ctx_buf)
{
	struct plx_io_channel **inner = ctx_buf;

	*inner = plx_get_io_channel(&g_inner);
	return *inner != NULL ? 0 : -ENODEV;
}

static void nested_destroy(void *io_device, void *ctx_buf)
{
	struct plx_io_channel **inner = ctx_buf;

	plx_put_io_channel(*inner);
}

static void test_nested_channels(void)
{
	int outer;
	struct plx_io_channel *ch;

	memset(&g_inner, 0, sizeof(g_inner));
	ut_threads_init(1);
	dev_register(&g_inner, "inner");
	plx_io_device_register(&outer, nested_create, nested_destroy, sizeof(void *), "outer");
	ch = plx_get_io_channel(&outer);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	CU_ASSERT_EQUAL(g_inner.creates, 1);
	plx_put_io_channel(ch);
	ut_poll_threads();
	CU_ASSERT_EQUAL(g_inner.destroys, 1);
	plx_io_device_unregister(&outer, NULL);
	plx_io_device_unregister(&g_inner, NULL);
	ut_poll_threads();
	ut_threads_fini();
}

static const struct plx_ut_case cases[] = {
    {"get_put", test_get_put},
    {"put_then_get", test_put_then_get},
    {"channels_on_threads", test_channels_on_threads},
    {"for_each_channel", test_for_each_channel},
    {"for_each_channel_empty", test_for_each_channel_empty},
    {"for_each_channel_destroyed", test_for_each_channel_destroyed},
    {"unregister_deferred", test_unregister_deferred},
    {"unregister_idle", test_unregister_idle},
    {"unregister_during_walk", test_unregister_during_walk},
    {"create_fails", test_create_fails},
    {"get_errors", test_get_errors},
    {"foreach_io_channel", test_foreach_io_channel},
    {"nested_channels", test_nested_channels},
};

PLX_UT_MAIN("thread_channel", cases)
