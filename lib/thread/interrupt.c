/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interrupt mode: how an idle thread sleeps and what wakes it.
 *
 * Each thread owns an epoll set holding an eventfd for messages, a timerfd for its earliest
 * timed poller, and the fds pollers registered. The sleep handshake with senders is a Dekker
 * pair: the thread stores sleeping = true then re-reads its queue; a sender enqueues then
 * reads sleeping. Both sides put a full fence between their store and their load, so at least
 * one of them sees the other: either the thread finds the message, or the sender writes the
 * eventfd. A busy thread never sets the flag, so senders then pay no syscall.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "thread_internal.h"

/* epoll data markers for the thread's own fds; poller fds carry the poller pointer. */
static char g_msg_marker, g_timer_marker;

int thread_intr_init(struct plx_thread *thread)
{
	struct epoll_event ev = {.events = EPOLLIN};

	thread->epfd = epoll_create1(EPOLL_CLOEXEC);
	thread->msg_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	thread->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (thread->epfd < 0 || thread->msg_fd < 0 || thread->timer_fd < 0) {
		PLX_ERRLOG("interrupt fds for a thread: %s\n", strerror(errno));
		return -errno;
	}
	ev.data.ptr = &g_msg_marker;
	if (epoll_ctl(thread->epfd, EPOLL_CTL_ADD, thread->msg_fd, &ev) != 0) {
		return -errno;
	}
	ev.data.ptr = &g_timer_marker;
	if (epoll_ctl(thread->epfd, EPOLL_CTL_ADD, thread->timer_fd, &ev) != 0) {
		return -errno;
	}
	return 0;
}

void thread_intr_fini(struct plx_thread *thread)
{
	int *fds[] = {&thread->epfd, &thread->msg_fd, &thread->timer_fd};

	for (size_t i = 0; i < PLX_COUNTOF(fds); i++) {
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	}
}

int thread_intr_add_fd(struct plx_thread *thread, int fd, uint32_t events, void *data)
{
	struct epoll_event ev = {.events = events, .data.ptr = data};

	if (epoll_ctl(thread->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		PLX_ERRLOG("cannot watch fd %d on thread %s: %s\n", fd, thread->name,
			   strerror(errno));
		return -errno;
	}
	return 0;
}

void thread_intr_del_fd(struct plx_thread *thread, int fd)
{
	/* The owner may have closed the fd already, which removed it: ignore errors. */
	epoll_ctl(thread->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void thread_intr_notify(struct plx_thread *thread)
{
	uint64_t one = 1;

	if (!atomic_load(&thread->sleeping)) {
		return;
	}
	/* Several senders may see the flag; one write is enough. */
	if (atomic_exchange(&thread->notified, true)) {
		return;
	}
	if (write(thread->msg_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
		PLX_ERRLOG("waking thread %s: %s\n", thread->name, strerror(errno));
	}
}

/* The earliest timed poller that has no fd of its own: only those need the timer. */
static uint64_t next_timer_tick(struct plx_thread *thread)
{
	struct plx_poller *p;

	TAILQ_FOREACH(p, &thread->timed_pollers, link)
	{
		if (p->intr_fd < 0) {
			return p->next_run_tick;
		}
	}
	return 0;
}

static bool arm_timer(struct plx_thread *thread, uint64_t now)
{
	uint64_t next = next_timer_tick(thread), hz = plx_get_ticks_hz(), ns;
	struct itimerspec its = {0};

	if (next != 0 && next <= now) {
		return false;
	}
	if (next == thread->timer_armed_tick) {
		return true;
	}
	if (next != 0) {
		ns = (uint64_t)((double)(next - now) * 1e9 / (double)hz);
		if (ns == 0) {
			ns = 1;
		}
		its.it_value.tv_sec = ns / 1000000000ull;
		its.it_value.tv_nsec = ns % 1000000000ull;
	}
	if (timerfd_settime(thread->timer_fd, 0, &its, NULL) != 0) {
		PLX_ERRLOG("arming the timer of thread %s: %s\n", thread->name, strerror(errno));
		return false;
	}
	thread->timer_armed_tick = next;
	return true;
}

bool plx_thread_prepare_sleep(struct plx_thread *thread)
{
	struct plx_poller *p;
	uint64_t now = plx_get_ticks();

	if (thread->epfd < 0 || thread->state == THREAD_EXITING) {
		return false;
	}
	TAILQ_FOREACH(p, &thread->active_pollers, link)
	{
		if (p->intr_fd < 0) {
			return false;
		}
	}
	if (!arm_timer(thread, now)) {
		return false;
	}
	atomic_store(&thread->sleeping, true);
	if (plx_ring_count(thread->messages) > 0) {
		atomic_store(&thread->sleeping, false);
		return false;
	}
	return true;
}

void plx_thread_wakeup(struct plx_thread *thread)
{
	struct epoll_event events[32];
	uint64_t val;
	int n;

	if (thread->epfd < 0) {
		return;
	}
	atomic_store(&thread->sleeping, false);
	n = epoll_wait(thread->epfd, events, PLX_COUNTOF(events), 0);
	for (int i = 0; i < n; i++) {
		void *ptr = events[i].data.ptr;

		if (ptr == &g_msg_marker) {
			/*
			 * Drain first, then reset the flag. The other order lets a sender that
			 * saw sleeping before we cleared it set the flag and write after the
			 * reset; our read then eats that write and leaves the flag set with the
			 * eventfd empty, so every later sender skips its write. A sender that
			 * finds the flag still set here enqueued before our next prepare_sleep
			 * fence, which will therefore see its message.
			 */
			if (read(thread->msg_fd, &val, sizeof(val)) < 0 && errno != EAGAIN) {
				PLX_ERRLOG("thread %s eventfd: %s\n", thread->name,
					   strerror(errno));
			}
			atomic_store(&thread->notified, false);
		} else if (ptr == &g_timer_marker) {
			thread->timer_armed_tick = 0;
			if (read(thread->timer_fd, &val, sizeof(val)) < 0 && errno != EAGAIN) {
				PLX_ERRLOG("thread %s timerfd: %s\n", thread->name,
					   strerror(errno));
			}
		} else {
			struct plx_poller *poller = ptr;

			if (!poller->fd_ready) {
				poller->fd_ready = true;
				thread->fd_ready_count++;
			}
		}
	}
}

int plx_thread_get_interrupt_fd(struct plx_thread *thread)
{
	return thread->epfd;
}
