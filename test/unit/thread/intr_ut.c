/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interrupt mode with real OS threads (the harness runs polled mode, so it is not used here).
 * Waits use generous timeouts: they only bound a broken build, passing tests never reach them.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pollux/env.h"
#include "pollux/log.h"
#include "pollux/thread.h"
#include "ut.h"

#define WAIT_MS 5000

static struct plx_thread *intr_setup(void)
{
	struct plx_thread *t;

	CU_ASSERT_EQUAL_FATAL(plx_thread_lib_init(NULL, 0, true), 0);
	CU_ASSERT_TRUE(plx_interrupt_mode_is_enabled());
	t = plx_thread_create("intr", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(plx_thread_get_interrupt_fd(t) >= 0);
	plx_set_thread(t);
	return t;
}

static void intr_teardown(struct plx_thread *t)
{
	plx_thread_exit(t);
	for (int i = 0; i < 1000 && !plx_thread_is_exited(t); i++) {
		plx_thread_poll(t, 0, plx_get_ticks());
	}
	CU_ASSERT_TRUE(plx_thread_is_exited(t));
	plx_thread_destroy(t);
	plx_set_thread(NULL);
	plx_thread_lib_fini();
}

static int poll_now(struct plx_thread *t)
{
	return plx_thread_poll(t, 0, plx_get_ticks());
}

/* 1 when fd became readable within timeout_ms, 0 when not. */
static int readable(int fd, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int rc;

	do {
		rc = poll(&pfd, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	CU_ASSERT(rc >= 0);
	return rc > 0 ? 1 : 0;
}

static void count_msg(void *arg)
{
	(*(unsigned int *)arg)++;
}

static void test_intr_idle(void)
{
	struct plx_thread *t = intr_setup();
	int fd = plx_thread_get_interrupt_fd(t);

	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 0), 0);
	plx_thread_wakeup(t);
	CU_ASSERT_EQUAL(poll_now(t), 0);
	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	plx_thread_wakeup(t);
	/* An exiting thread must keep polling until it is done. */
	plx_thread_exit(t);
	CU_ASSERT_FALSE(plx_thread_prepare_sleep(t));
	intr_teardown(t);
}

struct sender_arg {
	struct plx_thread *t;
	unsigned int *count;
	int efd;
};

static void *send_one(void *arg)
{
	struct sender_arg *a = arg;

	CU_ASSERT_EQUAL(plx_thread_send_msg(a->t, count_msg, a->count), 0);
	return NULL;
}

static void *write_eventfd(void *arg)
{
	struct sender_arg *a = arg;
	uint64_t one = 1;

	CU_ASSERT_EQUAL(write(a->efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	return NULL;
}

static void run_in_thread(void *(*fn)(void *), void *arg)
{
	pthread_t tid;

	CU_ASSERT_EQUAL_FATAL(pthread_create(&tid, NULL, fn, arg), 0);
	pthread_join(tid, NULL);
}

static void test_intr_msg_wakes(void)
{
	struct plx_thread *t = intr_setup();
	int fd = plx_thread_get_interrupt_fd(t);
	unsigned int count = 0;
	struct sender_arg a = {.t = t, .count = &count};

	CU_ASSERT_TRUE_FATAL(plx_thread_prepare_sleep(t));
	run_in_thread(send_one, &a);
	CU_ASSERT_EQUAL(readable(fd, WAIT_MS), 1);
	plx_thread_wakeup(t);
	CU_ASSERT(poll_now(t) > 0);
	CU_ASSERT_EQUAL(count, 1);
	/* The wake-up was consumed: sleeping again is quiet. */
	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 0), 0);
	plx_thread_wakeup(t);

	/* A message queued before prepare_sleep: no sleep, and the flag is withdrawn. */
	CU_ASSERT_EQUAL(plx_thread_send_msg(t, count_msg, &count), 0);
	CU_ASSERT_FALSE(plx_thread_prepare_sleep(t));
	/* A message to an awake thread writes no eventfd. */
	run_in_thread(send_one, &a);
	CU_ASSERT(poll_now(t) > 0);
	CU_ASSERT_EQUAL(count, 3);
	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 0), 0);

	/* Several senders to one sleeper: one wake-up, all messages run. */
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(plx_thread_send_msg(t, count_msg, &count), 0);
	}
	CU_ASSERT_EQUAL(readable(fd, WAIT_MS), 1);
	plx_thread_wakeup(t);
	poll_now(t);
	CU_ASSERT_EQUAL(count, 6);
	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 0), 0);
	plx_thread_wakeup(t);
	intr_teardown(t);
}

struct fd_poller {
	int efd;
	unsigned int runs;
	uint64_t drained;
};

static int fd_poller_fn(void *arg)
{
	struct fd_poller *p = arg;
	uint64_t val;

	p->runs++;
	if (p->efd >= 0 && read(p->efd, &val, sizeof(val)) == (ssize_t)sizeof(val)) {
		p->drained += val;
		return PLX_POLLER_BUSY;
	}
	return PLX_POLLER_IDLE;
}

static void test_intr_active_poller(void)
{
	struct plx_thread *t = intr_setup();
	int fd = plx_thread_get_interrupt_fd(t);
	struct fd_poller p = {.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
	struct sender_arg a = {.efd = p.efd};
	struct plx_poller *poller;

	CU_ASSERT_FATAL(p.efd >= 0);
	poller = plx_poller_register_named(fd_poller_fn, &p, 0, "active_fd");
	CU_ASSERT_PTR_NOT_NULL_FATAL(poller);
	/* Without an fd, an active poller keeps the thread awake. */
	CU_ASSERT_FALSE(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(plx_poller_set_interrupt_fd(poller, p.efd, EPOLLIN), 0);
	CU_ASSERT_EQUAL(plx_poller_set_interrupt_fd(poller, p.efd, EPOLLIN), -EEXIST);
	CU_ASSERT_TRUE_FATAL(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 0), 0);
	run_in_thread(write_eventfd, &a);
	CU_ASSERT_EQUAL(readable(fd, WAIT_MS), 1);
	plx_thread_wakeup(t);
	CU_ASSERT(poll_now(t) > 0);
	CU_ASSERT_EQUAL(p.drained, 1);
	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 0), 0);
	plx_thread_wakeup(t);

	plx_poller_unregister(&poller);
	close(p.efd);
	intr_teardown(t);
}

static void test_intr_timed_poller_timer(void)
{
	struct plx_thread *t = intr_setup();
	int fd = plx_thread_get_interrupt_fd(t);
	struct fd_poller p = {.efd = -1};
	struct plx_poller *poller;
	unsigned int timeouts = 0, sleeps = 0;

	poller = plx_poller_register_named(fd_poller_fn, &p, 20 * 1000, "timed_timer");
	CU_ASSERT_PTR_NOT_NULL_FATAL(poller);
	/* The timer wakes the thread; it may fire a hair early, so loop until the run. */
	for (int i = 0; i < 1000 && p.runs == 0 && timeouts == 0; i++) {
		if (plx_thread_prepare_sleep(t)) {
			sleeps++;
			timeouts += readable(fd, WAIT_MS) == 0;
			plx_thread_wakeup(t);
		}
		poll_now(t);
	}
	CU_ASSERT(sleeps > 0);
	CU_ASSERT_EQUAL(timeouts, 0);
	CU_ASSERT_EQUAL(p.runs, 1);

	/* Arm the timer, then drop the poller: the next prepare_sleep disarms it. */
	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	plx_thread_wakeup(t);
	plx_poller_unregister(&poller);
	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 60), 0);
	plx_thread_wakeup(t);
	intr_teardown(t);
}

static void test_intr_timed_poller_fd(void)
{
	struct plx_thread *t = intr_setup();
	int fd = plx_thread_get_interrupt_fd(t);
	struct fd_poller p = {.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
	struct sender_arg a = {.efd = p.efd};
	struct plx_poller *poller;

	CU_ASSERT_FATAL(p.efd >= 0);
	/* A long period: only the fd can make it run during this test. */
	poller = plx_poller_register_named(fd_poller_fn, &p, 100ull * 1000 * 1000, "timed_fd");
	CU_ASSERT_PTR_NOT_NULL_FATAL(poller);
	CU_ASSERT_EQUAL(plx_poller_set_interrupt_fd(poller, p.efd, EPOLLIN), 0);
	CU_ASSERT_TRUE_FATAL(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 0), 0);
	run_in_thread(write_eventfd, &a);
	CU_ASSERT_EQUAL(readable(fd, WAIT_MS), 1);
	plx_thread_wakeup(t);
	CU_ASSERT(poll_now(t) > 0);
	CU_ASSERT_EQUAL(p.runs, 1);
	CU_ASSERT_EQUAL(p.drained, 1);
	/* Not due by time, not ready: it does not run again. */
	poll_now(t);
	CU_ASSERT_EQUAL(p.runs, 1);
	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 0), 0);
	plx_thread_wakeup(t);

	plx_poller_unregister(&poller);
	close(p.efd);
	intr_teardown(t);
}

/* A paused poller's fd does not wake the thread; resuming re-arms it. */
static void test_intr_paused_poller_fd(void)
{
	struct plx_thread *t = intr_setup();
	int fd = plx_thread_get_interrupt_fd(t);
	struct fd_poller p = {.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
	struct fd_poller q = {.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
	struct sender_arg ap = {.efd = p.efd}, aq = {.efd = q.efd};
	struct plx_poller *pp, *qp;

	CU_ASSERT_FATAL(p.efd >= 0 && q.efd >= 0);
	pp = plx_poller_register_named(fd_poller_fn, &p, 0, "paused_fd");
	CU_ASSERT_PTR_NOT_NULL_FATAL(pp);
	CU_ASSERT_EQUAL(plx_poller_set_interrupt_fd(pp, p.efd, EPOLLIN), 0);
	plx_poller_pause(pp);
	write_eventfd(&ap);
	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 0), 0);
	plx_thread_wakeup(t);
	poll_now(t);
	CU_ASSERT_EQUAL(p.runs, 0);
	plx_poller_resume(pp);
	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 0), 1);
	plx_thread_wakeup(t);
	poll_now(t);
	CU_ASSERT_EQUAL(p.drained, 1);

	/* An fd given while paused must not wake the thread until resumed, and must go. */
	qp = plx_poller_register_named(fd_poller_fn, &q, 0, "paused_then_fd");
	CU_ASSERT_PTR_NOT_NULL_FATAL(qp);
	plx_poller_pause(qp);
	CU_ASSERT_EQUAL(plx_poller_set_interrupt_fd(qp, q.efd, EPOLLIN), 0);
	write_eventfd(&aq);
	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 0), 0);
	plx_thread_wakeup(t);
	plx_poller_resume(qp);
	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 0), 1);
	plx_thread_wakeup(t);
	poll_now(t);
	CU_ASSERT_EQUAL(q.drained, 1);
	plx_poller_unregister(&qp);
	/* Gone from the epoll set: a ready fd no longer wakes the thread. */
	run_in_thread(write_eventfd, &aq);
	CU_ASSERT_TRUE(plx_thread_prepare_sleep(t));
	CU_ASSERT_EQUAL(readable(fd, 0), 0);
	plx_thread_wakeup(t);
	poll_now(t);

	plx_poller_unregister(&pp);
	close(p.efd);
	close(q.efd);
	intr_teardown(t);
}

/* ---- the sleep/send race ---- */

#define HAMMER_MSGS 200000

struct hammer {
	struct plx_thread *t;
	_Atomic uint64_t sent;
	_Atomic uint64_t handled;
	atomic_bool stop;
	uint64_t next_seq;
	uint64_t order_errors;
	uint64_t queue_full;
	uint64_t bursts;
};

static struct hammer g_hammer;

static void hammer_msg(void *arg)
{
	uint64_t seq = (uintptr_t)arg;

	if (seq != g_hammer.next_seq) {
		g_hammer.order_errors++;
	}
	g_hammer.next_seq = seq + 1;
	atomic_fetch_add_explicit(&g_hammer.handled, 1, memory_order_release);
}

/*
 * Bursts of 1..8 messages; after each the sender waits until the receiver has caught up, so the
 * receiver heads for sleep and the next burst races with its prepare_sleep. A lost wake-up then
 * stalls the receiver until its wait times out. Now and then a burst larger than the queue
 * makes the sender meet -ENOMEM and retry.
 */
static void *hammer_sender(void *arg)
{
	struct hammer *h = arg;
	unsigned int rnd = 12345;
	uint64_t i = 0;
	int rc;

	while (i < HAMMER_MSGS && !atomic_load(&h->stop)) {
		uint64_t burst;

		rnd = rnd * 1103515245u + 12345u;
		burst =
		    h->bursts++ % 5000 == 4999 ? PLX_MSG_QUEUE_SIZE * 3 / 2 : 1 + (rnd >> 16) % 8;
		for (uint64_t k = 0; k < burst && i < HAMMER_MSGS; k++, i++) {
			while ((rc = plx_thread_send_msg(h->t, hammer_msg, (void *)(uintptr_t)i)) ==
			       -ENOMEM) {
				h->queue_full++;
				sched_yield();
			}
			if (rc != 0) {
				atomic_store(&h->stop, true);
				return NULL;
			}
			atomic_fetch_add_explicit(&h->sent, 1, memory_order_release);
		}
		for (unsigned int spin = 0;
		     atomic_load(&h->handled) < atomic_load(&h->sent) && !atomic_load(&h->stop);
		     spin++) {
			/* Spin so the next burst follows at once; yield if the receiver is off-CPU.
			 */
			if (spin % 4096 == 4095) {
				sched_yield();
			}
			__builtin_ia32_pause();
		}
		/* A short, varying delay spreads the next burst over the receiver's way to sleep.
		 */
		for (unsigned int spin = (rnd >> 8) & ((1u << ((rnd >> 20) % 11)) - 1); spin > 0;
		     spin--) {
			__builtin_ia32_pause();
		}
	}
	return NULL;
}

static void test_intr_sleep_race(void)
{
	struct plx_thread *t = intr_setup();
	int fd = plx_thread_get_interrupt_fd(t);
	uint64_t timeouts = 0, lost = 0, sleeps = 0;
	enum plx_log_level saved = plx_log_get_print_level();
	struct epoll_event ev;
	pthread_t tid;

	g_hammer = (struct hammer){.t = t};
	/* A full queue is expected here and logged each time: keep the output readable. */
	plx_log_set_print_level(PLX_LOG_DISABLED);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&tid, NULL, hammer_sender, &g_hammer), 0);
	while (atomic_load(&g_hammer.handled) < HAMMER_MSGS && timeouts < 3) {
		if (plx_thread_prepare_sleep(t)) {
			int n;

			sleeps++;
			do {
				n = epoll_wait(fd, &ev, 1, 1000);
			} while (n < 0 && errno == EINTR);
			if (n == 0) {
				timeouts++;
				/* The sender waits for us: anything sent and not handled is a lost
				 * wake-up. */
				if (atomic_load(&g_hammer.sent) > atomic_load(&g_hammer.handled)) {
					lost++;
				}
			}
			plx_thread_wakeup(t);
		}
		poll_now(t);
	}
	atomic_store(&g_hammer.stop, true);
	pthread_join(tid, NULL);
	/* Drain whatever is left if the loop gave up early. */
	for (int i = 0; i < 100000 && atomic_load(&g_hammer.handled) < atomic_load(&g_hammer.sent);
	     i++) {
		poll_now(t);
	}
	plx_log_set_print_level(saved);
	printf("\n  sleep race: %lu bursts, %lu sleeps, %lu timeouts, %lu full-queue retries\n",
	       (unsigned long)g_hammer.bursts, (unsigned long)sleeps, (unsigned long)timeouts,
	       (unsigned long)g_hammer.queue_full);
	CU_ASSERT_EQUAL(lost, 0);
	CU_ASSERT_EQUAL(atomic_load(&g_hammer.sent), HAMMER_MSGS);
	CU_ASSERT_EQUAL(atomic_load(&g_hammer.handled), HAMMER_MSGS);
	CU_ASSERT_EQUAL(g_hammer.order_errors, 0);
	CU_ASSERT(sleeps > 0);
	intr_teardown(t);
}

static const struct plx_ut_case cases[] = {
    {"intr_idle", test_intr_idle},
    {"intr_msg_wakes", test_intr_msg_wakes},
    {"intr_active_poller", test_intr_active_poller},
    {"intr_timed_poller_timer", test_intr_timed_poller_timer},
    {"intr_timed_poller_fd", test_intr_timed_poller_fd},
    {"intr_paused_poller_fd", test_intr_paused_poller_fd},
    {"intr_sleep_race", test_intr_sleep_race},
};

PLX_UT_MAIN("thread_intr", cases)
