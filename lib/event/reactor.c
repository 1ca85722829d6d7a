/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reactors: one OS thread per core of the mask, each running its plx_threads.
 *
 * An iteration reads the TSC once, drains reactor events, polls every thread with that time
 * and accounts the time since the previous iteration as busy or idle. In interrupt mode, after
 * REACTOR_IDLE_US of idle iterations, the reactor asks each thread whether it may sleep
 * (plx_thread_prepare_sleep publishes the thread's flag and arms its timer), publishes its own
 * flag for the event ring, and sleeps in epoll_wait on the threads' interrupt fds and its
 * event fd. Under load no syscall happens per iteration.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "event_internal.h"

PLX_LOG_REGISTER_COMPONENT(reactor)

/*
 * Idle time before a reactor tries to sleep: long enough to ride out short gaps in a load.
 * It adapts: a sleep that ends within REACTOR_SHORT_SLEEP_US means a load is running with
 * gaps longer than the threshold (e.g. a network round trip at high queue depth), so the
 * threshold doubles up to REACTOR_IDLE_MAX_US and the reactor keeps polling through such
 * gaps instead of paying a wake-up each time; a sleep longer than REACTOR_LONG_SLEEP_US
 * means the load is gone and the threshold returns to REACTOR_IDLE_US. An idle target whose
 * timers fire every second still sleeps after 200 us, so it stays near 0 % CPU.
 */
#define REACTOR_IDLE_US 200
#define REACTOR_IDLE_MAX_US 4000
#define REACTOR_SHORT_SLEEP_US 1000
#define REACTOR_LONG_SLEEP_US 20000
/* After a stop, a thread that will not exit is abandoned (with a log) after this long. */
#define REACTOR_STOP_TIMEOUT_SEC 10

struct reactor_event {
	reactor_event_fn fn;
	void *arg;
};

static struct reactor *g_reactors;
static uint32_t g_reactor_count;
static struct plx_cpuset g_core_mask;
static bool g_interrupt_mode;
static _Atomic bool g_stop;
static _Atomic uint32_t g_next_reactor; /* round-robin placement of new threads */
static bool g_running;

uint32_t plx_reactor_count(void)
{
	return g_reactor_count;
}

uint32_t plx_reactor_core(uint32_t i)
{
	return i < g_reactor_count ? g_reactors[i].core : UINT32_MAX;
}

const struct plx_cpuset *plx_app_get_core_mask(void)
{
	return &g_core_mask;
}

struct reactor *reactor_get(uint32_t index)
{
	return index < g_reactor_count ? &g_reactors[index] : NULL;
}

static void reactor_notify(struct reactor *reactor)
{
	uint64_t one = 1;

	/* Same handshake as thread messages (see lib/thread/interrupt.c); g_stop joins it too. */
	if (!atomic_load(&reactor->sleeping) || atomic_exchange(&reactor->notified, true)) {
		return;
	}
	if (write(reactor->event_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
		PLX_ERRLOG("waking reactor %u: %s\n", reactor->core, strerror(errno));
	}
}

int reactor_send_event(struct reactor *reactor, reactor_event_fn fn, void *arg)
{
	struct reactor_event ev = {.fn = fn, .arg = arg};

	if (plx_ring_enqueue(reactor->events, &ev, 1) != 1) {
		PLX_ERRLOG("event ring of reactor %u is full\n", reactor->core);
		return -ENOMEM;
	}
	if (g_interrupt_mode) {
		reactor_notify(reactor);
	}
	return 0;
}

static void reactor_add_thread(void *arg)
{
	struct lw_thread *lw = arg;
	struct reactor *reactor = lw->reactor;
	struct plx_thread *thread = plx_thread_get_from_ctx(lw);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = lw};

	TAILQ_INSERT_TAIL(&reactor->threads, lw, link);
	reactor->thread_count++;
	if (g_interrupt_mode && epoll_ctl(reactor->epfd, EPOLL_CTL_ADD,
					  plx_thread_get_interrupt_fd(thread), &ev) != 0) {
		PLX_ERRLOG("reactor %u cannot watch thread %s: %s\n", reactor->core,
			   plx_thread_get_name(thread), strerror(errno));
	}
}

/* Chosen reactor for a new thread: round-robin over the reactors its cpumask allows. */
static struct reactor *reactor_pick(struct plx_thread *thread)
{
	const struct plx_cpuset *mask = plx_thread_get_cpumask(thread);
	uint32_t start = atomic_fetch_add(&g_next_reactor, 1);

	for (uint32_t i = 0; i < g_reactor_count; i++) {
		struct reactor *r = &g_reactors[(start + i) % g_reactor_count];

		if (plx_cpuset_get_cpu(mask, r->core)) {
			return r;
		}
	}
	return NULL;
}

static int reactor_schedule_thread(struct plx_thread *thread)
{
	struct lw_thread *lw = plx_thread_get_ctx(thread);

	lw->reactor = reactor_pick(thread);
	if (lw->reactor == NULL) {
		PLX_ERRLOG("thread %s: its cpumask has no core of the app's mask\n",
			   plx_thread_get_name(thread));
		return -EINVAL;
	}
	lw->created_tsc = plx_get_ticks();
	if (!g_running) {
		/* Before the reactors start, their lists are still ours to fill. */
		reactor_add_thread(lw);
		return 0;
	}
	return reactor_send_event(lw->reactor, reactor_add_thread, lw);
}

static void reactor_remove_thread(struct reactor *reactor, struct lw_thread *lw)
{
	struct plx_thread *thread = plx_thread_get_from_ctx(lw);

	TAILQ_REMOVE(&reactor->threads, lw, link);
	reactor->thread_count--;
	if (g_interrupt_mode) {
		epoll_ctl(reactor->epfd, EPOLL_CTL_DEL, plx_thread_get_interrupt_fd(thread), NULL);
	}
	plx_thread_destroy(thread);
}

static uint32_t reactor_run_events(struct reactor *reactor)
{
	struct reactor_event evs[16];
	size_t n = plx_ring_dequeue(reactor->events, evs, PLX_COUNTOF(evs));

	for (size_t i = 0; i < n; i++) {
		evs[i].fn(evs[i].arg);
	}
	return (uint32_t)n;
}

/* Try to sleep: every thread must agree, and the event ring must stay empty. */
static void reactor_sleep(struct reactor *reactor)
{
	struct epoll_event evs[16];
	struct lw_thread *lw, *failed = NULL;
	uint64_t val;
	int n;

	TAILQ_FOREACH(lw, &reactor->threads, link)
	{
		if (!plx_thread_prepare_sleep(plx_thread_get_from_ctx(lw))) {
			failed = lw;
			break;
		}
	}
	if (failed == NULL) {
		atomic_store(&reactor->sleeping, true);
		if (plx_ring_count(reactor->events) == 0 && !atomic_load(&g_stop)) {
			atomic_store(&reactor->in_interrupt, true);
			n = epoll_wait(reactor->epfd, evs, PLX_COUNTOF(evs), -1);
			atomic_store(&reactor->in_interrupt, false);
			(void)n;
		}
		atomic_store(&reactor->sleeping, false);
		atomic_store(&reactor->notified, false);
		if (read(reactor->event_fd, &val, sizeof(val)) < 0 && errno != EAGAIN) {
			PLX_ERRLOG("reactor %u event fd: %s\n", reactor->core, strerror(errno));
		}
	}
	/* Withdraw the flags of the threads that had agreed (all of them, when we slept). */
	TAILQ_FOREACH(lw, &reactor->threads, link)
	{
		if (lw == failed) {
			break;
		}
		plx_thread_wakeup(plx_thread_get_from_ctx(lw));
	}
}

static bool reactor_should_exit(struct reactor *reactor, uint64_t now)
{
	if (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
		return false;
	}
	if (reactor->stop_tsc == 0) {
		reactor->stop_tsc = now;
	}
	if (reactor->thread_count == 0) {
		return true;
	}
	if (now - reactor->stop_tsc > REACTOR_STOP_TIMEOUT_SEC * plx_get_ticks_hz()) {
		PLX_ERRLOG("reactor %u: %u thread(s) did not exit in %d s; leaving them\n",
			   reactor->core, reactor->thread_count, REACTOR_STOP_TIMEOUT_SEC);
		return true;
	}
	return false;
}

static void reactor_run(struct reactor *reactor)
{
	uint64_t now, last = plx_get_ticks(), idle_since = last;
	uint64_t us = plx_get_ticks_hz() / 1000000;
	uint64_t base_idle = REACTOR_IDLE_US * us, idle_ticks = base_idle;
	struct lw_thread *lw, *tmp;
	int busy;

	reactor->tid = (pid_t)syscall(SYS_gettid);
	while (true) {
		now = plx_get_ticks();
		busy = (int)reactor_run_events(reactor);
		for (lw = TAILQ_FIRST(&reactor->threads); lw != NULL; lw = tmp) {
			struct plx_thread *thread = plx_thread_get_from_ctx(lw);

			tmp = TAILQ_NEXT(lw, link);
			busy += plx_thread_poll(thread, 0, now);
			if (plx_thread_is_exited(thread)) {
				reactor_remove_thread(reactor, lw);
			}
		}
		if (busy > 0) {
			atomic_store_explicit(&reactor->busy_tsc, reactor->busy_tsc + (now - last),
					      memory_order_relaxed);
			idle_since = now;
		} else {
			atomic_store_explicit(&reactor->idle_tsc, reactor->idle_tsc + (now - last),
					      memory_order_relaxed);
		}
		last = now;
		if (reactor_should_exit(reactor, now)) {
			break;
		}
		if (g_interrupt_mode && busy == 0 && now - idle_since >= idle_ticks) {
			reactor_sleep(reactor);
			last = plx_get_ticks();
			atomic_store_explicit(&reactor->idle_tsc, reactor->idle_tsc + (last - now),
					      memory_order_relaxed);
			if (last - now < REACTOR_SHORT_SLEEP_US * us) {
				idle_ticks = PLX_MIN(idle_ticks * 2, REACTOR_IDLE_MAX_US * us);
			} else if (last - now > REACTOR_LONG_SLEEP_US * us) {
				idle_ticks = base_idle;
			}
		}
	}
	plx_set_thread(NULL);
}

static void *reactor_thread_main(void *arg)
{
	struct reactor *reactor = arg;

	if (plx_env_pin_current_thread(reactor->core) != 0) {
		PLX_WARNLOG("reactor %u runs unpinned\n", reactor->core);
	}
	reactor_run(reactor);
	return NULL;
}

static int reactor_init_one(struct reactor *reactor, uint32_t core, uint32_t index)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

	reactor->core = core;
	reactor->index = index;
	TAILQ_INIT(&reactor->threads);
	reactor->epfd = reactor->event_fd = -1;
	reactor->events = plx_ring_create(PLX_RING_MP_SC, 4096, sizeof(struct reactor_event));
	if (reactor->events == NULL) {
		return -ENOMEM;
	}
	if (!g_interrupt_mode) {
		return 0;
	}
	reactor->epfd = epoll_create1(EPOLL_CLOEXEC);
	reactor->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (reactor->epfd < 0 || reactor->event_fd < 0 ||
	    epoll_ctl(reactor->epfd, EPOLL_CTL_ADD, reactor->event_fd, &ev) != 0) {
		PLX_ERRLOG("reactor %u: %s\n", core, strerror(errno));
		return -errno;
	}
	return 0;
}

int reactors_init(const struct plx_cpuset *mask, bool interrupt_mode)
{
	uint32_t n = plx_cpuset_count(mask), i = 0;
	int rc;

	g_interrupt_mode = interrupt_mode;
	atomic_store(&g_stop, false);
	plx_cpuset_copy(&g_core_mask, mask);
	g_reactors = aligned_alloc(64, sizeof(*g_reactors) * n);
	if (g_reactors == NULL) {
		return -ENOMEM;
	}
	memset(g_reactors, 0, sizeof(*g_reactors) * n);
	for (int core = plx_cpuset_next(mask, 0); core >= 0;
	     core = plx_cpuset_next(mask, core + 1)) {
		rc = reactor_init_one(&g_reactors[i], (uint32_t)core, i);
		g_reactor_count = ++i;
		if (rc != 0) {
			reactors_fini();
			return rc;
		}
	}
	rc = plx_thread_lib_init(reactor_schedule_thread, sizeof(struct lw_thread), interrupt_mode);
	if (rc != 0) {
		reactors_fini();
	}
	return rc;
}

void reactors_run(void)
{
	g_running = true;
	for (uint32_t i = 1; i < g_reactor_count; i++) {
		if (pthread_create(&g_reactors[i].pthread, NULL, reactor_thread_main,
				   &g_reactors[i]) != 0) {
			PLX_ERRLOG("cannot start reactor %u\n", g_reactors[i].core);
			abort();
		}
	}
	reactor_thread_main(&g_reactors[0]);
	for (uint32_t i = 1; i < g_reactor_count; i++) {
		pthread_join(g_reactors[i].pthread, NULL);
	}
	g_running = false;
}

void reactors_stop(void)
{
	atomic_store(&g_stop, true);
	for (uint32_t i = 0; i < g_reactor_count; i++) {
		reactor_notify(&g_reactors[i]);
	}
}

void reactors_fini(void)
{
	for (uint32_t i = 0; i < g_reactor_count; i++) {
		struct reactor *r = &g_reactors[i];

		plx_ring_free(r->events);
		if (r->epfd >= 0) {
			close(r->epfd);
		}
		if (r->event_fd >= 0) {
			close(r->event_fd);
		}
	}
	free(g_reactors);
	g_reactors = NULL;
	g_reactor_count = 0;
	plx_thread_lib_fini();
}
