/* SPDX-License-Identifier: BSD-3-Clause */
/* Pollers under the deterministic harness and its fake clock. */
#include <errno.h>
#include <string.h>

#include "pollux/env.h"
#include "pollux/thread.h"
#include "ut.h"
#include "ut_thread.h"

#define MAX_ORDER 32

/* Runs in order across pollers, for checking expiry order. */
static const char *g_order[MAX_ORDER];
static unsigned int g_order_n;

/* One poller under test and what it does when it runs. */
struct tp {
	struct plx_poller *poller;
	const char *tag;
	unsigned int runs;
	int rc;			 /* what it returns */
	struct tp *victim;	 /* unregister this one when running */
	struct tp *pause_victim; /* pause this one when running */
	struct tp *spawn;	 /* register this one when running */
	uint64_t spawn_period_us;
	bool unregister_self;
	bool pause_self;
	bool resume_self;	/* after pausing itself */
	const char *state_seen; /* its own state, from inside its run */
};

static void reset_order(void)
{
	g_order_n = 0;
	memset(g_order, 0, sizeof(g_order));
}

static void find_state_cb(const struct plx_poller_info *info, void *arg)
{
	struct tp *p = arg;

	if (strcmp(info->name, p->tag) == 0) {
		p->state_seen = info->state;
	}
}

static int tp_fn(void *arg)
{
	struct tp *p = arg;

	p->runs++;
	if (g_order_n < MAX_ORDER) {
		g_order[g_order_n++] = p->tag;
	}
	plx_thread_foreach_poller(find_state_cb, p);
	if (p->victim != NULL) {
		plx_poller_unregister(&p->victim->poller);
		CU_ASSERT_PTR_NULL(p->victim->poller);
		p->victim = NULL;
	}
	if (p->pause_victim != NULL) {
		plx_poller_pause(p->pause_victim->poller);
		p->pause_victim = NULL;
	}
	if (p->spawn != NULL) {
		p->spawn->poller =
		    plx_poller_register_named(tp_fn, p->spawn, p->spawn_period_us, p->spawn->tag);
		CU_ASSERT_PTR_NOT_NULL(p->spawn->poller);
		p->spawn = NULL;
	}
	if (p->pause_self) {
		p->pause_self = false;
		plx_poller_pause(p->poller);
		plx_poller_pause(p->poller); /* idempotent */
		if (p->resume_self) {
			plx_poller_resume(p->poller);
		}
	}
	if (p->unregister_self) {
		plx_poller_unregister(&p->poller);
		CU_ASSERT_PTR_NULL(p->poller);
	}
	return p->rc;
}

static void tp_register(struct tp *p, const char *tag, uint64_t period_us)
{
	p->tag = tag;
	p->poller = plx_poller_register_named(tp_fn, p, period_us, tag);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->poller);
	CU_ASSERT_STRING_EQUAL(plx_poller_get_name(p->poller), tag);
}

/* Introspection of one poller by name. */
struct info_find {
	const char *name;
	struct plx_poller_info info;
	char state[16];
	unsigned int found;
	unsigned int total;
};

static void info_cb(const struct plx_poller_info *info, void *arg)
{
	struct info_find *f = arg;

	f->total++;
	if (strcmp(info->name, f->name) == 0) {
		f->found++;
		f->info = *info;
		snprintf(f->state, sizeof(f->state), "%s", info->state);
	}
}

static struct info_find poller_info(const char *name)
{
	struct info_find f = {.name = name};

	plx_thread_foreach_poller(info_cb, &f);
	return f;
}

/* Ticks of a period the way the library computes them. */
static uint64_t period_ticks(uint64_t us)
{
	return us * plx_get_ticks_hz() / 1000000;
}

/*
 * The harness rounds every advance down to whole ticks, so 999 µs + 1 µs can fall a tick short
 * of 1000 µs when the tick rate is not a whole number of MHz; top up to the exact tick.
 */
static void advance_to(uint64_t tick)
{
	while (ut_now() < tick) {
		ut_advance_time_us(1);
	}
}

static void test_active_poller(void)
{
	struct tp a = {.rc = PLX_POLLER_BUSY};

	ut_threads_init(2);
	ut_set_thread(1);
	tp_register(&a, "active", 0);
	CU_ASSERT_TRUE(plx_thread_has_active_pollers(ut_thread(1)));
	CU_ASSERT_TRUE(plx_thread_has_pollers(ut_thread(1)));
	CU_ASSERT_FALSE(plx_thread_has_pollers(ut_thread(0)));
	CU_ASSERT_FALSE(plx_thread_is_idle(ut_thread(1), ut_now()));
	CU_ASSERT_EQUAL(plx_thread_next_poller_expiration(ut_thread(1)), 0);
	CU_ASSERT_EQUAL(a.runs, 0);
	for (unsigned int i = 1; i <= 5; i++) {
		CU_ASSERT(ut_poll_thread(1) > 0);
		CU_ASSERT_EQUAL(a.runs, i);
	}
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(a.runs, 5);
	/* An idle answer makes the poll idle. */
	a.rc = PLX_POLLER_IDLE;
	CU_ASSERT_EQUAL(ut_poll_thread(1), 0);
	CU_ASSERT_EQUAL(a.runs, 6);
	CU_ASSERT_STRING_EQUAL(a.state_seen, "running");
	CU_ASSERT_STRING_EQUAL(poller_info("active").state, "waiting");
	plx_poller_unregister(&a.poller);
	CU_ASSERT_PTR_NULL(a.poller);
	CU_ASSERT_FALSE(plx_thread_has_pollers(ut_thread(1)));
	ut_poll_thread(1);
	CU_ASSERT_EQUAL(a.runs, 6);
	plx_poller_unregister(&a.poller); /* NULL is allowed */
	ut_threads_fini();
}

static void test_register_outside_thread(void)
{
	struct tp a = {0};

	ut_threads_init(1);
	plx_set_thread(NULL);
	CU_ASSERT_PTR_NULL(plx_poller_register_named(tp_fn, &a, 0, "nothread"));
	ut_set_thread(0);
	ut_threads_fini();
}

static void test_timed_poller(void)
{
	struct tp t = {.rc = PLX_POLLER_BUSY};
	uint64_t start = ut_now(), period = period_ticks(1000);

	ut_threads_init(1);
	start = ut_now();
	tp_register(&t, "timed", 1000);
	CU_ASSERT_FALSE(plx_thread_has_active_pollers(ut_thread(0)));
	CU_ASSERT_TRUE(plx_thread_has_pollers(ut_thread(0)));
	CU_ASSERT_EQUAL(plx_thread_next_poller_expiration(ut_thread(0)), start + period);
	CU_ASSERT_EQUAL(poller_info("timed").info.period_ticks, period);

	ut_advance_time_us(999);
	CU_ASSERT_TRUE(plx_thread_is_idle(ut_thread(0), ut_now()));
	CU_ASSERT_EQUAL(ut_poll_thread(0), 0);
	CU_ASSERT_EQUAL(t.runs, 0);
	ut_advance_time_us(1);
	advance_to(start + period);
	CU_ASSERT_FALSE(plx_thread_is_idle(ut_thread(0), ut_now()));
	CU_ASSERT(ut_poll_thread(0) > 0);
	CU_ASSERT_EQUAL(t.runs, 1);
	CU_ASSERT_EQUAL(ut_poll_thread(0), 0);
	CU_ASSERT_EQUAL(t.runs, 1);
	CU_ASSERT_EQUAL(plx_thread_next_poller_expiration(ut_thread(0)), ut_now() + period);

	/* Ten periods late: it runs once, not ten times, and counts from now. */
	start = ut_now();
	ut_advance_time_us(10 * 1000);
	ut_poll_threads();
	CU_ASSERT_EQUAL(t.runs, 2);
	CU_ASSERT_EQUAL(plx_thread_next_poller_expiration(ut_thread(0)), ut_now() + period);
	start = ut_now();
	ut_advance_time_us(999);
	ut_poll_threads();
	CU_ASSERT_EQUAL(t.runs, 2);
	advance_to(start + period);
	ut_poll_threads();
	CU_ASSERT_EQUAL(t.runs, 3);

	plx_poller_unregister(&t.poller);
	CU_ASSERT_EQUAL(plx_thread_next_poller_expiration(ut_thread(0)), 0);
	ut_advance_time_us(5000);
	ut_poll_threads();
	CU_ASSERT_EQUAL(t.runs, 3);
	ut_threads_fini();
}

static void test_timed_order(void)
{
	struct tp a = {0}, b = {0}, c = {0}, d = {0};

	ut_threads_init(1);
	reset_order();
	tp_register(&a, "a3000", 3000);
	tp_register(&b, "b1000", 1000);
	tp_register(&c, "c2500", 2500);
	ut_advance_time_us(500);
	ut_poll_thread(0);
	/* Registered half a millisecond later: due at 700 µs, before b. */
	tp_register(&d, "d200", 200);
	ut_advance_time_us(4500);
	ut_poll_thread(0);
	CU_ASSERT_EQUAL_FATAL(g_order_n, 4);
	CU_ASSERT_STRING_EQUAL(g_order[0], "d200");
	CU_ASSERT_STRING_EQUAL(g_order[1], "b1000");
	CU_ASSERT_STRING_EQUAL(g_order[2], "c2500");
	CU_ASSERT_STRING_EQUAL(g_order[3], "a3000");

	/* All ran at the same now: each is next due one period later. */
	reset_order();
	ut_advance_time_us(1000);
	ut_poll_thread(0);
	CU_ASSERT_EQUAL_FATAL(g_order_n, 2);
	CU_ASSERT_STRING_EQUAL(g_order[0], "d200");
	CU_ASSERT_STRING_EQUAL(g_order[1], "b1000");
	/* 2001: the harness rounds each advance down, and a is due 3000 after its last run. */
	reset_order();
	ut_advance_time_us(2001);
	ut_poll_thread(0);
	CU_ASSERT_EQUAL_FATAL(g_order_n, 4);
	CU_ASSERT_STRING_EQUAL(g_order[0], "d200");
	CU_ASSERT_STRING_EQUAL(g_order[1], "b1000");
	CU_ASSERT_STRING_EQUAL(g_order[2], "c2500");
	CU_ASSERT_STRING_EQUAL(g_order[3], "a3000");
	CU_ASSERT_EQUAL(a.runs, 2);
	CU_ASSERT_EQUAL(b.runs, 3);
	CU_ASSERT_EQUAL(c.runs, 2);
	CU_ASSERT_EQUAL(d.runs, 3);

	plx_poller_unregister(&a.poller);
	plx_poller_unregister(&b.poller);
	plx_poller_unregister(&c.poller);
	plx_poller_unregister(&d.poller);
	ut_threads_fini();
}

static void test_pause_resume_active(void)
{
	struct tp a = {.rc = PLX_POLLER_BUSY};
	struct info_find f;

	ut_threads_init(1);
	tp_register(&a, "pa", 0);
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(a.runs, 1);
	plx_poller_pause(a.poller);
	plx_poller_pause(a.poller);
	CU_ASSERT_FALSE(plx_thread_has_active_pollers(ut_thread(0)));
	CU_ASSERT_TRUE(plx_thread_has_pollers(ut_thread(0)));
	f = poller_info("pa");
	CU_ASSERT_EQUAL(f.found, 1);
	CU_ASSERT_TRUE(f.info.paused);
	CU_ASSERT_STRING_EQUAL(f.state, "paused");
	CU_ASSERT_EQUAL(ut_poll_thread(0), 0);
	CU_ASSERT_EQUAL(ut_poll_thread(0), 0);
	CU_ASSERT_EQUAL(a.runs, 1);
	plx_poller_resume(a.poller);
	plx_poller_resume(a.poller);
	f = poller_info("pa");
	CU_ASSERT_EQUAL(f.found, 1);
	CU_ASSERT_FALSE(f.info.paused);
	CU_ASSERT(ut_poll_thread(0) > 0);
	CU_ASSERT_EQUAL(a.runs, 2);
	/* Unregistering a paused poller frees it. */
	plx_poller_pause(a.poller);
	plx_poller_unregister(&a.poller);
	CU_ASSERT_FALSE(plx_thread_has_pollers(ut_thread(0)));
	ut_threads_fini();
}

static void test_pause_resume_timed(void)
{
	struct tp t = {0};
	uint64_t period = period_ticks(1000), resumed;

	ut_threads_init(1);
	tp_register(&t, "pt", 1000);
	plx_poller_pause(t.poller);
	CU_ASSERT_EQUAL(plx_thread_next_poller_expiration(ut_thread(0)), 0);
	ut_advance_time_us(5000);
	ut_poll_threads();
	CU_ASSERT_EQUAL(t.runs, 0);
	/* Resume schedules a full period from the thread's last poll, not at once. */
	resumed = ut_now();
	plx_poller_resume(t.poller);
	CU_ASSERT_EQUAL(plx_thread_next_poller_expiration(ut_thread(0)), resumed + period);
	ut_poll_threads();
	CU_ASSERT_EQUAL(t.runs, 0);
	ut_advance_time_us(999);
	ut_poll_threads();
	CU_ASSERT_EQUAL(t.runs, 0);
	advance_to(resumed + period);
	ut_poll_threads();
	CU_ASSERT_EQUAL(t.runs, 1);
	plx_poller_unregister(&t.poller);
	ut_threads_fini();
}

static void test_pause_self(void)
{
	struct tp a = {.pause_self = true}, t = {.pause_self = true};

	ut_threads_init(1);
	tp_register(&a, "self_a", 0);
	tp_register(&t, "self_t", 1000);
	ut_advance_time_us(1000);
	advance_to(plx_thread_next_poller_expiration(ut_thread(0)));
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(a.runs, 1);
	CU_ASSERT_EQUAL(t.runs, 1);
	CU_ASSERT_TRUE(poller_info("self_a").info.paused);
	CU_ASSERT_TRUE(poller_info("self_t").info.paused);
	CU_ASSERT_FALSE(plx_thread_has_active_pollers(ut_thread(0)));
	CU_ASSERT_EQUAL(plx_thread_next_poller_expiration(ut_thread(0)), 0);
	ut_advance_time_us(10000);
	ut_poll_thread(0);
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(a.runs, 1);
	CU_ASSERT_EQUAL(t.runs, 1);

	plx_poller_resume(a.poller);
	plx_poller_resume(t.poller);
	ut_advance_time_us(1000);
	advance_to(plx_thread_next_poller_expiration(ut_thread(0)));
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(a.runs, 2);
	CU_ASSERT_EQUAL(t.runs, 2);
	CU_ASSERT_FALSE(poller_info("self_a").info.paused);

	/* Pause then resume inside one run: it keeps running. */
	a.pause_self = a.resume_self = true;
	t.pause_self = t.resume_self = true;
	ut_advance_time_us(1000);
	advance_to(plx_thread_next_poller_expiration(ut_thread(0)));
	ut_poll_thread(0);
	ut_advance_time_us(1000);
	advance_to(plx_thread_next_poller_expiration(ut_thread(0)));
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(a.runs, 4);
	CU_ASSERT_EQUAL(t.runs, 4);
	CU_ASSERT_FALSE(poller_info("self_a").info.paused);
	CU_ASSERT_FALSE(poller_info("self_t").info.paused);

	plx_poller_unregister(&a.poller);
	plx_poller_unregister(&t.poller);
	ut_threads_fini();
}

static void test_unregister_self(void)
{
	struct tp a = {.unregister_self = true}, t = {.unregister_self = true};
	struct tp pa = {.pause_self = true, .unregister_self = true};

	ut_threads_init(1);
	tp_register(&a, "unreg_a", 0);
	tp_register(&pa, "unreg_pa", 0);
	tp_register(&t, "unreg_t", 500);
	ut_advance_time_us(500);
	advance_to(plx_thread_next_poller_expiration(ut_thread(0)));
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(a.runs, 1);
	CU_ASSERT_EQUAL(pa.runs, 1);
	CU_ASSERT_EQUAL(t.runs, 1);
	CU_ASSERT_PTR_NULL(a.poller);
	CU_ASSERT_PTR_NULL(pa.poller);
	CU_ASSERT_PTR_NULL(t.poller);
	CU_ASSERT_FALSE(plx_thread_has_pollers(ut_thread(0)));
	CU_ASSERT_EQUAL(poller_info("x").total, 0);
	ut_advance_time_us(5000);
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(a.runs, 1);
	CU_ASSERT_EQUAL(t.runs, 1);
	ut_threads_fini(); /* would abort if a poller were left */
}

static void test_unregister_other(void)
{
	struct tp a = {0}, b = {0}, c = {0}, d = {0};

	ut_threads_init(1);
	tp_register(&a, "a", 0);
	tp_register(&b, "b", 0);
	tp_register(&c, "c", 0);
	tp_register(&d, "d", 0);
	/* a drops b (next in the walk) and pauses c: the walk must still reach d. */
	a.victim = &b;
	a.pause_victim = &c;
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(a.runs, 1);
	CU_ASSERT_EQUAL(b.runs, 0);
	CU_ASSERT_EQUAL(c.runs, 0);
	CU_ASSERT_EQUAL(d.runs, 1);
	CU_ASSERT_PTR_NULL(b.poller);
	/* d drops a, which already ran this round. */
	d.victim = &a;
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(a.runs, 2);
	CU_ASSERT_EQUAL(d.runs, 2);
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(a.runs, 2);
	CU_ASSERT_EQUAL(d.runs, 3);
	CU_ASSERT_EQUAL(c.runs, 0);
	plx_poller_unregister(&c.poller);
	plx_poller_unregister(&d.poller);
	ut_threads_fini();
}

static void test_unregister_other_timed(void)
{
	struct tp a = {0}, b = {0}, act = {0};

	ut_threads_init(1);
	tp_register(&a, "ta", 1000);
	tp_register(&b, "tb", 2000);
	tp_register(&act, "act", 0);
	/* Both due in one poll: a runs first and drops b, which must not run. */
	a.victim = &b;
	ut_advance_time_us(5000);
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(a.runs, 1);
	CU_ASSERT_EQUAL(b.runs, 0);
	CU_ASSERT_PTR_NULL(b.poller);
	/* A timed poller drops an active one. */
	a.victim = &act;
	ut_advance_time_us(5000);
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(a.runs, 2);
	CU_ASSERT_EQUAL(act.runs, 2);
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(act.runs, 2);
	CU_ASSERT_FALSE(plx_thread_has_active_pollers(ut_thread(0)));
	/* An active poller drops a timed one. */
	tp_register(&act, "act", 0);
	act.victim = &a;
	ut_poll_thread(0);
	CU_ASSERT_PTR_NULL(a.poller);
	CU_ASSERT_EQUAL(plx_thread_next_poller_expiration(ut_thread(0)), 0);
	plx_poller_unregister(&act.poller);
	ut_threads_fini();
}

static void test_register_from_poller(void)
{
	struct tp a = {0}, b = {0}, t = {0}, u = {0};
	unsigned int b_runs;

	ut_threads_init(1);
	b.tag = "spawned_active";
	u.tag = "spawned_timed";
	tp_register(&a, "spawner", 0);
	tp_register(&t, "spawner_t", 1000);
	a.spawn = &b;
	a.spawn_period_us = 0;
	t.spawn = &u;
	t.spawn_period_us = 1000;
	ut_poll_thread(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b.poller);
	CU_ASSERT(b.runs <= 1);
	b_runs = b.runs;
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(b.runs, b_runs + 1);
	CU_ASSERT_EQUAL(a.runs, 2);

	ut_advance_time_us(1000);
	advance_to(plx_thread_next_poller_expiration(ut_thread(0)));
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(t.runs, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(u.poller);
	/* The new timed poller is due a period after it was registered, not in this poll. */
	CU_ASSERT_EQUAL(u.runs, 0);
	ut_advance_time_us(1000);
	advance_to(plx_thread_next_poller_expiration(ut_thread(0)));
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(t.runs, 2);
	CU_ASSERT_EQUAL(u.runs, 1);

	plx_poller_unregister(&a.poller);
	plx_poller_unregister(&b.poller);
	plx_poller_unregister(&t.poller);
	plx_poller_unregister(&u.poller);
	ut_threads_fini();
}

/* Busy answers are counted per poller; the thread's idle/busy time follows the fake clock. */
static int alternate_fn(void *arg)
{
	unsigned int *n = arg;

	return (*n)++ % 2 == 0 ? PLX_POLLER_BUSY : PLX_POLLER_IDLE;
}

static void test_busy_accounting(void)
{
	struct plx_poller *p, *q;
	unsigned int n = 0;
	struct info_find f;
	uint64_t id_p, id_q;

	ut_threads_init(1);
	p = plx_poller_register_named(alternate_fn, &n, 0, "alt");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (unsigned int i = 0; i < 10; i++) {
		int rc = ut_poll_thread(0);

		CU_ASSERT_EQUAL(rc > 0, i % 2 == 0);
	}
	f = poller_info("alt");
	CU_ASSERT_EQUAL(f.found, 1);
	CU_ASSERT_EQUAL(f.info.run_count, 10);
	CU_ASSERT_EQUAL(f.info.busy_count, 5);
	CU_ASSERT_EQUAL(f.info.period_ticks, 0);
	CU_ASSERT_FALSE(f.info.paused);
	CU_ASSERT_STRING_EQUAL(f.state, "waiting");
	id_p = f.info.id;
	q = plx_poller_register_named(alternate_fn, &n, 100, "alt_timed");
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	f = poller_info("alt_timed");
	CU_ASSERT_EQUAL(f.total, 2);
	CU_ASSERT_EQUAL(f.info.run_count, 0);
	CU_ASSERT_EQUAL(f.info.period_ticks, period_ticks(100));
	id_q = f.info.id;
	CU_ASSERT_NOT_EQUAL(id_p, id_q);
	plx_poller_unregister(&p);
	plx_poller_unregister(&q);
	ut_threads_fini();
}

static void test_thread_stats(void)
{
	struct plx_thread_stats s0, s1, s2;
	struct tp a = {.rc = PLX_POLLER_BUSY};
	uint64_t us100, us50, t0;

	ut_threads_init(2);
	plx_set_thread(NULL);
	CU_ASSERT_EQUAL(plx_thread_get_stats(&s0), -EINVAL);
	ut_set_thread(0);
	tp_register(&a, "stat", 0);
	ut_poll_thread(0); /* busy */
	CU_ASSERT_EQUAL(plx_thread_get_stats(&s0), 0);
	/* The time since a busy poll counts as busy. */
	t0 = ut_now();
	ut_advance_time_us(100);
	us100 = ut_now() - t0;
	a.rc = PLX_POLLER_IDLE;
	ut_poll_thread(0); /* idle */
	CU_ASSERT_EQUAL(plx_thread_get_stats(&s1), 0);
	CU_ASSERT_EQUAL(s1.busy_tsc - s0.busy_tsc, us100);
	CU_ASSERT_EQUAL(s1.idle_tsc, s0.idle_tsc);
	CU_ASSERT_EQUAL(plx_thread_get_last_tsc(ut_thread(0)), ut_now());
	/* ...and since an idle poll as idle. */
	t0 = ut_now();
	ut_advance_time_us(50);
	us50 = ut_now() - t0;
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(plx_thread_get_stats(&s2), 0);
	CU_ASSERT_EQUAL(s2.busy_tsc, s1.busy_tsc);
	CU_ASSERT_EQUAL(s2.idle_tsc - s1.idle_tsc, us50);
	/* Each thread has its own stats: thread 1 was never busy. */
	ut_poll_thread(1);
	CU_ASSERT_EQUAL(plx_thread_get_stats(&s0), 0);
	CU_ASSERT_EQUAL(s0.busy_tsc, 0);
	ut_set_thread(0);
	plx_poller_unregister(&a.poller);
	ut_threads_fini();
}

/* Periods of hours must not overflow the tick conversion. */
static void test_long_period(void)
{
	struct tp t = {0};
	uint64_t hours3 = 3ull * 3600 * 1000 * 1000;

	ut_threads_init(1);
	tp_register(&t, "long", hours3);
	CU_ASSERT_EQUAL(poller_info("long").info.period_ticks, 3 * 3600 * plx_get_ticks_hz());
	CU_ASSERT_EQUAL(plx_thread_next_poller_expiration(ut_thread(0)),
			ut_now() + 3 * 3600 * plx_get_ticks_hz());
	ut_advance_time_us(3600ull * 1000 * 1000);
	ut_poll_thread(0);
	CU_ASSERT_EQUAL(t.runs, 0);
	plx_poller_unregister(&t.poller);
	ut_threads_fini();
}

static const struct plx_ut_case cases[] = {
    {"active_poller", test_active_poller},
    {"register_outside_thread", test_register_outside_thread},
    {"timed_poller", test_timed_poller},
    {"timed_order", test_timed_order},
    {"pause_resume_active", test_pause_resume_active},
    {"pause_resume_timed", test_pause_resume_timed},
    {"pause_self", test_pause_self},
    {"unregister_self", test_unregister_self},
    {"unregister_other", test_unregister_other},
    {"unregister_other_timed", test_unregister_other_timed},
    {"register_from_poller", test_register_from_poller},
    {"busy_accounting", test_busy_accounting},
    {"thread_stats", test_thread_stats},
    {"long_period", test_long_period},
};

PLX_UT_MAIN("thread_poller", cases)
