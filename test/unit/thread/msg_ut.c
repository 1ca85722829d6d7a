/* SPDX-License-Identifier: BSD-3-Clause */
/* Threads and messages under the deterministic harness. */
#include <errno.h>
#include <string.h>

#include "pollux/thread.h"
#include "ut.h"
#include "ut_thread.h"

/* What a message saw when it ran. */
struct msg_rec {
	unsigned int runs;
	struct plx_thread *ran_on;
};

static void record_msg(void *arg)
{
	struct msg_rec *rec = arg;

	rec->runs++;
	rec->ran_on = plx_get_thread();
}

static void count_msg(void *arg)
{
	(*(unsigned int *)arg)++;
}

static void test_thread_basics(void)
{
	struct plx_thread *t;

	ut_threads_init(3);
	CU_ASSERT_EQUAL(plx_thread_count(), 3);
	CU_ASSERT_PTR_EQUAL(plx_thread_get_app_thread(), ut_thread(0));
	CU_ASSERT_STRING_EQUAL(plx_thread_get_name(ut_thread(1)), "ut1");
	CU_ASSERT(plx_thread_get_id(ut_thread(0)) < plx_thread_get_id(ut_thread(1)));
	CU_ASSERT(plx_thread_get_id(ut_thread(1)) < plx_thread_get_id(ut_thread(2)));
	CU_ASSERT(plx_thread_is_running(ut_thread(2)));
	CU_ASSERT_FALSE(plx_thread_is_exited(ut_thread(2)));
	CU_ASSERT_PTR_EQUAL(plx_thread_get_from_ctx(plx_thread_get_ctx(ut_thread(2))),
			    ut_thread(2));
	CU_ASSERT_PTR_NOT_NULL(plx_thread_get_cpumask(ut_thread(0)));
	CU_ASSERT_FALSE(plx_interrupt_mode_is_enabled());
	CU_ASSERT_EQUAL(plx_thread_get_interrupt_fd(ut_thread(0)), -1);
	CU_ASSERT_FALSE(plx_thread_prepare_sleep(ut_thread(0)));

	ut_set_thread(1);
	CU_ASSERT_PTR_EQUAL(plx_get_thread(), ut_thread(1));

	/* An unnamed thread is named after its id; destroying it returns the count. */
	t = plx_thread_create(NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	{
		char want[32];

		snprintf(want, sizeof(want), "thread%lu", (unsigned long)plx_thread_get_id(t));
		CU_ASSERT_STRING_EQUAL(plx_thread_get_name(t), want);
	}
	CU_ASSERT_EQUAL(plx_thread_count(), 4);
	plx_thread_exit(t);
	CU_ASSERT_FALSE(plx_thread_is_running(t));
	plx_thread_poll(t, 0, ut_now());
	CU_ASSERT_TRUE(plx_thread_is_exited(t));
	plx_thread_destroy(t);
	CU_ASSERT_EQUAL(plx_thread_count(), 3);
	/* Polling restores whoever was current before. */
	CU_ASSERT_PTR_EQUAL(plx_get_thread(), ut_thread(1));
	ut_threads_fini();
	CU_ASSERT_EQUAL(plx_thread_count(), 0);
}

static void test_msg_self(void)
{
	struct msg_rec rec = {0};

	ut_threads_init(1);
	CU_ASSERT_EQUAL(plx_thread_send_msg(ut_thread(0), record_msg, &rec), 0);
	CU_ASSERT_EQUAL(rec.runs, 0); /* queued, not run inline */
	CU_ASSERT_FALSE(plx_thread_is_idle(ut_thread(0), ut_now()));
	CU_ASSERT(ut_poll_thread(0) > 0);
	CU_ASSERT_EQUAL(rec.runs, 1);
	CU_ASSERT_PTR_EQUAL(rec.ran_on, ut_thread(0));
	CU_ASSERT_TRUE(plx_thread_is_idle(ut_thread(0), ut_now()));
	CU_ASSERT_EQUAL(ut_poll_thread(0), 0);
	CU_ASSERT_EQUAL(rec.runs, 1);
	ut_threads_fini();
}

static void test_msg_other(void)
{
	struct msg_rec rec = {0};

	ut_threads_init(3);
	ut_set_thread(0);
	CU_ASSERT_EQUAL(plx_thread_send_msg(ut_thread(2), record_msg, &rec), 0);
	ut_poll_thread(0);
	ut_poll_thread(1);
	CU_ASSERT_EQUAL(rec.runs, 0);
	ut_poll_thread(2);
	CU_ASSERT_EQUAL(rec.runs, 1);
	CU_ASSERT_PTR_EQUAL(rec.ran_on, ut_thread(2));
	ut_threads_fini();
}

/* Messages from two senders interleaved: each sender's order must survive. */
#define ORDER_MSGS 300

struct order_ctx {
	unsigned int seen[2 * ORDER_MSGS];
	unsigned int n;
};

struct order_msg {
	struct order_ctx *ctx;
	unsigned int tag; /* sender * ORDER_MSGS + sequence */
};

static void order_fn(void *arg)
{
	struct order_msg *m = arg;

	m->ctx->seen[m->ctx->n++] = m->tag;
}

static void test_msg_order(void)
{
	static struct order_msg msgs[2 * ORDER_MSGS];
	struct order_ctx ctx = {0};
	unsigned int next[2] = {0, 0};

	ut_threads_init(3);
	for (unsigned int i = 0; i < ORDER_MSGS; i++) {
		for (unsigned int s = 0; s < 2; s++) {
			struct order_msg *m = &msgs[s * ORDER_MSGS + i];

			*m = (struct order_msg){.ctx = &ctx, .tag = s * ORDER_MSGS + i};
			ut_set_thread(s);
			CU_ASSERT_EQUAL(plx_thread_send_msg(ut_thread(2), order_fn, m), 0);
		}
	}
	ut_poll_threads();
	CU_ASSERT_EQUAL_FATAL(ctx.n, 2 * ORDER_MSGS);
	for (unsigned int k = 0; k < ctx.n; k++) {
		unsigned int s = ctx.seen[k] / ORDER_MSGS, seq = ctx.seen[k] % ORDER_MSGS;

		CU_ASSERT_EQUAL(seq, next[s]);
		next[s] = seq + 1;
	}
	CU_ASSERT_EQUAL(next[0], ORDER_MSGS);
	CU_ASSERT_EQUAL(next[1], ORDER_MSGS);
	ut_threads_fini();
}

/* More messages than one batch: a poll takes at most max_msgs (default one batch). */
static void test_msg_batches(void)
{
	unsigned int count = 0, total = 10 * PLX_MSG_BATCH_SIZE + 7;

	ut_threads_init(1);
	for (unsigned int i = 0; i < total; i++) {
		CU_ASSERT_EQUAL(plx_thread_send_msg(ut_thread(0), count_msg, &count), 0);
	}
	CU_ASSERT(ut_poll_thread(0) > 0);
	CU_ASSERT_EQUAL(count, PLX_MSG_BATCH_SIZE);
	CU_ASSERT(plx_thread_poll(ut_thread(0), 5, ut_now()) > 0);
	CU_ASSERT_EQUAL(count, PLX_MSG_BATCH_SIZE + 5);
	/* A larger limit spans several internal batches. */
	CU_ASSERT(plx_thread_poll(ut_thread(0), 3 * PLX_MSG_BATCH_SIZE + 1, ut_now()) > 0);
	CU_ASSERT_EQUAL(count, 4 * PLX_MSG_BATCH_SIZE + 6);
	ut_poll_threads();
	CU_ASSERT_EQUAL(count, total);
	CU_ASSERT_TRUE(plx_thread_is_idle(ut_thread(0), ut_now()));
	ut_threads_fini();
}

/* A message that sends the next one: a ping-pong between two threads. */
struct pingpong {
	unsigned int hops;
	unsigned int limit;
	struct plx_thread *last;
};

static void pingpong_fn(void *arg)
{
	struct pingpong *pp = arg;
	struct plx_thread *other = plx_get_thread() == ut_thread(0) ? ut_thread(1) : ut_thread(0);

	CU_ASSERT_PTR_NOT_EQUAL(plx_get_thread(), pp->last);
	pp->last = plx_get_thread();
	if (++pp->hops < pp->limit) {
		CU_ASSERT_EQUAL(plx_thread_send_msg(other, pingpong_fn, pp), 0);
	}
}

static void test_msg_pingpong(void)
{
	struct pingpong pp = {.limit = 1000};

	ut_threads_init(2);
	CU_ASSERT_EQUAL(plx_thread_send_msg(ut_thread(1), pingpong_fn, &pp), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(pp.hops, 1000);
	ut_threads_fini();
}

static void test_msg_queue_full(void)
{
	unsigned int count = 0, i;
	int rc = 0;

	ut_threads_init(2);
	for (i = 0; i < PLX_MSG_QUEUE_SIZE; i++) {
		rc = plx_thread_send_msg(ut_thread(1), count_msg, &count);
		if (rc != 0) {
			break;
		}
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(i, PLX_MSG_QUEUE_SIZE);
	CU_ASSERT_EQUAL(plx_thread_send_msg(ut_thread(1), count_msg, &count), -ENOMEM);
	/* One poll frees a batch of slots. */
	ut_poll_thread(1);
	CU_ASSERT_EQUAL(count, PLX_MSG_BATCH_SIZE);
	CU_ASSERT_EQUAL(plx_thread_send_msg(ut_thread(1), count_msg, &count), 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(count, PLX_MSG_QUEUE_SIZE + 1);
	ut_threads_fini();
}

static void test_msg_exited(void)
{
	unsigned int count = 0;

	ut_threads_init(2);
	ut_set_thread(1);
	plx_thread_exit(ut_thread(1));
	/* Exiting, not yet exited: messages are still taken. */
	CU_ASSERT_EQUAL(plx_thread_send_msg(ut_thread(1), count_msg, &count), 0);
	ut_poll_thread(1);
	CU_ASSERT_EQUAL(count, 1);
	CU_ASSERT_TRUE(plx_thread_is_exited(ut_thread(1)));
	CU_ASSERT_EQUAL(plx_thread_send_msg(ut_thread(1), count_msg, &count), -EIO);
	ut_poll_threads();
	CU_ASSERT_EQUAL(count, 1);
	ut_threads_fini();
}

/* for_each_thread: fn on every thread in id order, then cpl on the caller. */
#define FE_MAX 8

struct fe_ctx {
	struct plx_thread *visited[FE_MAX];
	unsigned int n;
	unsigned int cpl_runs;
	unsigned int visits_at_cpl;
	struct plx_thread *cpl_on;
};

static void fe_fn(void *arg)
{
	struct fe_ctx *c = arg;

	if (c->n < FE_MAX) {
		c->visited[c->n] = plx_get_thread();
	}
	c->n++;
}

static void fe_cpl(void *arg)
{
	struct fe_ctx *c = arg;

	c->cpl_runs++;
	c->visits_at_cpl = c->n;
	c->cpl_on = plx_get_thread();
}

static void test_for_each_thread(void)
{
	struct fe_ctx c = {0};

	ut_threads_init(4);
	ut_set_thread(2);
	plx_for_each_thread(fe_fn, &c, fe_cpl);
	CU_ASSERT_EQUAL(c.n, 0); /* asynchronous */
	ut_poll_threads();
	CU_ASSERT_EQUAL_FATAL(c.n, 4);
	for (unsigned int i = 0; i < 4; i++) {
		CU_ASSERT_PTR_EQUAL(c.visited[i], ut_thread(i));
	}
	CU_ASSERT_EQUAL(c.cpl_runs, 1);
	CU_ASSERT_EQUAL(c.visits_at_cpl, 4);
	CU_ASSERT_PTR_EQUAL(c.cpl_on, ut_thread(2));
	ut_threads_fini();
}

/* Polling the threads in reverse still visits them in id order. */
static void test_for_each_thread_reverse_poll(void)
{
	struct fe_ctx c = {0};

	ut_threads_init(5);
	ut_set_thread(4);
	plx_for_each_thread(fe_fn, &c, fe_cpl);
	for (unsigned int round = 0; round < 20; round++) {
		for (int i = 4; i >= 0; i--) {
			ut_poll_thread((unsigned int)i);
		}
	}
	CU_ASSERT_EQUAL_FATAL(c.n, 5);
	for (unsigned int i = 0; i < 5; i++) {
		CU_ASSERT_PTR_EQUAL(c.visited[i], ut_thread(i));
	}
	CU_ASSERT_EQUAL(c.cpl_runs, 1);
	CU_ASSERT_PTR_EQUAL(c.cpl_on, ut_thread(4));
	ut_threads_fini();
}

/* An exited thread is skipped. */
static void test_for_each_thread_skips_exited(void)
{
	struct fe_ctx c = {0};

	ut_threads_init(3);
	ut_set_thread(1);
	plx_thread_exit(ut_thread(1));
	ut_poll_thread(1);
	CU_ASSERT_TRUE_FATAL(plx_thread_is_exited(ut_thread(1)));
	ut_set_thread(0);
	plx_for_each_thread(fe_fn, &c, fe_cpl);
	ut_poll_threads();
	CU_ASSERT_EQUAL_FATAL(c.n, 2);
	CU_ASSERT_PTR_EQUAL(c.visited[0], ut_thread(0));
	CU_ASSERT_PTR_EQUAL(c.visited[1], ut_thread(2));
	CU_ASSERT_EQUAL(c.cpl_runs, 1);
	CU_ASSERT_PTR_EQUAL(c.cpl_on, ut_thread(0));
	ut_threads_fini();
}

static const struct plx_ut_case cases[] = {
    {"thread_basics", test_thread_basics},
    {"msg_self", test_msg_self},
    {"msg_other", test_msg_other},
    {"msg_order", test_msg_order},
    {"msg_batches", test_msg_batches},
    {"msg_pingpong", test_msg_pingpong},
    {"msg_queue_full", test_msg_queue_full},
    {"msg_exited", test_msg_exited},
    {"for_each_thread", test_for_each_thread},
    {"for_each_thread_reverse_poll", test_for_each_thread_reverse_poll},
    {"for_each_thread_skips_exited", test_for_each_thread_skips_exited},
};

PLX_UT_MAIN("thread_msg", cases)
