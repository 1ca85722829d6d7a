/* SPDX-License-Identifier: BSD-3-Clause */
/* Orderly thread exit under the deterministic harness. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pollux/log.h"

#include "pollux/thread.h"
#include "ut.h"
#include "ut_thread.h"

static int idle_poller(void *arg)
{
	(*(unsigned int *)arg)++;
	return PLX_POLLER_IDLE;
}

static void count_msg(void *arg)
{
	(*(unsigned int *)arg)++;
}

static void poll_rounds(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		ut_poll_threads();
		ut_advance_time_us(1000);
	}
}

static void test_exit_waits_for_poller(void)
{
	struct plx_poller *active, *timed;
	unsigned int runs = 0;

	ut_threads_init(2);
	ut_set_thread(1);
	active = plx_poller_register_named(idle_poller, &runs, 0, "exit_active");
	timed = plx_poller_register_named(idle_poller, &runs, 100, "exit_timed");
	CU_ASSERT_PTR_NOT_NULL_FATAL(active);
	CU_ASSERT_PTR_NOT_NULL_FATAL(timed);
	plx_thread_exit(ut_thread(1));
	CU_ASSERT_FALSE(plx_thread_is_running(ut_thread(1)));
	/* No new pollers on an exiting thread. */
	CU_ASSERT_PTR_NULL(plx_poller_register_named(idle_poller, &runs, 0, "late"));
	poll_rounds(10);
	CU_ASSERT_FALSE(plx_thread_is_exited(ut_thread(1)));
	/* Its pollers keep running meanwhile. */
	CU_ASSERT(runs >= 15);
	ut_set_thread(1);
	plx_poller_unregister(&active);
	poll_rounds(3);
	CU_ASSERT_FALSE(plx_thread_is_exited(ut_thread(1)));
	/* A paused poller holds the thread too. */
	plx_poller_pause(timed);
	poll_rounds(3);
	CU_ASSERT_FALSE(plx_thread_is_exited(ut_thread(1)));
	ut_set_thread(1);
	plx_poller_unregister(&timed);
	ut_poll_thread(1);
	CU_ASSERT_TRUE(plx_thread_is_exited(ut_thread(1)));
	CU_ASSERT_FALSE(plx_thread_is_exited(ut_thread(0)));
	ut_threads_fini();
}

/* A poller that unregisters itself once told to, for exit from inside a run. */
struct self_stop {
	struct plx_poller *poller;
	bool stop;
};

static int self_stop_fn(void *arg)
{
	struct self_stop *s = arg;

	if (s->stop) {
		plx_poller_unregister(&s->poller);
	}
	return PLX_POLLER_IDLE;
}

static void test_exit_poller_unregisters_itself(void)
{
	struct self_stop s = {0};

	ut_threads_init(1);
	s.poller = plx_poller_register_named(self_stop_fn, &s, 0, "self_stop");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s.poller);
	plx_thread_exit(ut_thread(0));
	ut_poll_thread(0);
	CU_ASSERT_FALSE(plx_thread_is_exited(ut_thread(0)));
	s.stop = true;
	ut_poll_thread(0);
	CU_ASSERT_PTR_NULL(s.poller);
	CU_ASSERT_TRUE(plx_thread_is_exited(ut_thread(0)));
	ut_threads_fini();
}

static int nop_create(void *io_device, void *ctx_buf)
{
	return 0;
}

static void nop_destroy(void *io_device, void *ctx_buf)
{
	(*(unsigned int *)io_device)++;
}

static void test_exit_waits_for_channel(void)
{
	unsigned int destroys = 0;
	struct plx_io_channel *ch;

	ut_threads_init(2);
	plx_io_device_register(&destroys, nop_create, nop_destroy, 0, "exit_dev");
	ut_set_thread(1);
	ch = plx_get_io_channel(&destroys);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	plx_thread_exit(ut_thread(1));
	poll_rounds(10);
	CU_ASSERT_FALSE(plx_thread_is_exited(ut_thread(1)));
	/* Getting channels on an exiting thread is still allowed (teardown may need them). */
	ut_set_thread(1);
	CU_ASSERT_PTR_EQUAL(plx_get_io_channel(&destroys), ch);
	plx_put_io_channel(ch);
	poll_rounds(2);
	CU_ASSERT_FALSE(plx_thread_is_exited(ut_thread(1)));
	ut_set_thread(1);
	plx_put_io_channel(ch);
	CU_ASSERT_FALSE(plx_thread_is_exited(ut_thread(1)));
	ut_poll_thread(1);
	CU_ASSERT_EQUAL(destroys, 1);
	CU_ASSERT_TRUE(plx_thread_is_exited(ut_thread(1)));
	ut_set_thread(0);
	plx_io_device_unregister(&destroys, NULL);
	ut_poll_threads();
	ut_threads_fini();
}

static void test_exit_runs_queued_msgs(void)
{
	unsigned int count = 0, total = 5 * PLX_MSG_BATCH_SIZE + 3;

	ut_threads_init(2);
	ut_set_thread(0);
	for (unsigned int i = 0; i < total; i++) {
		CU_ASSERT_EQUAL(plx_thread_send_msg(ut_thread(1), count_msg, &count), 0);
	}
	ut_set_thread(1);
	plx_thread_exit(ut_thread(1));
	plx_thread_exit(ut_thread(1)); /* idempotent */
	ut_poll_thread(1);
	CU_ASSERT_EQUAL(count, PLX_MSG_BATCH_SIZE);
	CU_ASSERT_FALSE(plx_thread_is_exited(ut_thread(1)));
	/* Messages sent while it exits are run too. */
	CU_ASSERT_EQUAL(plx_thread_send_msg(ut_thread(1), count_msg, &count), 0);
	for (unsigned int i = 0; i < 100 && !plx_thread_is_exited(ut_thread(1)); i++) {
		ut_poll_thread(1);
	}
	CU_ASSERT_TRUE(plx_thread_is_exited(ut_thread(1)));
	CU_ASSERT_EQUAL(count, total + 1);
	CU_ASSERT_EQUAL(plx_thread_send_msg(ut_thread(1), count_msg, &count), -EIO);
	/* An exited thread does nothing when polled. */
	CU_ASSERT_EQUAL(ut_poll_thread(1), 0);
	ut_threads_fini();
}

/* A message that keeps a thread busy while it exits: it re-sends itself a few times. */
struct chain {
	unsigned int left;
	unsigned int runs;
};

static void chain_fn(void *arg)
{
	struct chain *c = arg;

	c->runs++;
	if (c->left > 0) {
		c->left--;
		CU_ASSERT_EQUAL(plx_thread_send_msg(plx_get_thread(), chain_fn, c), 0);
	}
}

static void test_exit_self_resending_msg(void)
{
	struct chain c = {.left = 10};

	ut_threads_init(1);
	CU_ASSERT_EQUAL(plx_thread_send_msg(ut_thread(0), chain_fn, &c), 0);
	plx_thread_exit(ut_thread(0));
	while (!plx_thread_is_exited(ut_thread(0)) && c.runs < 100) {
		ut_poll_thread(0);
	}
	CU_ASSERT_TRUE(plx_thread_is_exited(ut_thread(0)));
	CU_ASSERT_EQUAL(c.runs, 11);
	ut_threads_fini();
}

/* Destroying a thread forgets it; the app thread is the first one created. */
static void test_destroy(void)
{
	struct plx_thread *t;

	ut_threads_init(1);
	t = plx_thread_create("extra", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(plx_thread_count(), 2);
	CU_ASSERT_PTR_EQUAL(plx_thread_get_app_thread(), ut_thread(0));
	plx_set_thread(t);
	plx_thread_exit(t);
	plx_thread_poll(t, 0, ut_now());
	CU_ASSERT_TRUE_FATAL(plx_thread_is_exited(t));
	plx_thread_destroy(t);
	/* Destroying the current thread clears it. */
	CU_ASSERT_PTR_NULL(plx_get_thread());
	CU_ASSERT_EQUAL(plx_thread_count(), 1);
	ut_set_thread(0);
	ut_threads_fini();
	CU_ASSERT_PTR_NULL(plx_thread_get_app_thread());
}

/* A thread stuck in exit is reported once, after a few seconds. */
static void test_exit_stuck_warns_once(void)
{
	struct plx_poller *p;
	unsigned int runs = 0, warnings = 0;
	FILE *log = tmpfile();
	char line[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	ut_threads_init(1);
	p = plx_poller_register_named(idle_poller, &runs, 0, "stuck");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	plx_thread_exit(ut_thread(0));
	plx_log_set_stream(log);
	ut_poll_thread(0);
	ut_advance_time_us(1000 * 1000);
	ut_poll_thread(0);
	ut_advance_time_us(10 * 1000 * 1000);
	ut_poll_thread(0);
	ut_advance_time_us(10 * 1000 * 1000);
	ut_poll_thread(0);
	plx_log_set_stream(NULL);
	rewind(log);
	while (fgets(line, sizeof(line), log) != NULL) {
		warnings += strstr(line, "still waiting to exit") != NULL;
	}
	fclose(log);
	CU_ASSERT_EQUAL(warnings, 1);
	CU_ASSERT_FALSE(plx_thread_is_exited(ut_thread(0)));
	plx_poller_unregister(&p);
	ut_threads_fini();
}

static const struct plx_ut_case cases[] = {
    {"exit_waits_for_poller", test_exit_waits_for_poller},
    {"exit_poller_unregisters_itself", test_exit_poller_unregisters_itself},
    {"exit_waits_for_channel", test_exit_waits_for_channel},
    {"exit_runs_queued_msgs", test_exit_runs_queued_msgs},
    {"exit_self_resending_msg", test_exit_self_resending_msg},
    {"destroy", test_destroy},
    {"exit_stuck_warns_once", test_exit_stuck_warns_once},
};

PLX_UT_MAIN("thread_exit", cases)
