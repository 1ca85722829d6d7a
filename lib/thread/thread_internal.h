/* SPDX-License-Identifier: BSD-3-Clause */
/* Private structures of lib/thread, shared by its files and nothing else. */
#ifndef POLLUX_THREAD_INTERNAL_H
#define POLLUX_THREAD_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/queue.h>

#include "pollux/env.h"
#include "pollux/log.h"
#include "pollux/thread.h"

PLX_LOG_DECLARE_COMPONENT(thread);

#define PLX_NAME_MAX 64

enum poller_state {
	POLLER_WAITING,	     /* in a list, ready to run */
	POLLER_RUNNING,	     /* its function is executing now */
	POLLER_UNREGISTERED, /* unregistered while running: freed when the run returns */
	POLLER_PAUSING,	     /* paused while running: moves to the paused list after the run */
	POLLER_PAUSED,	     /* in the paused list */
};

struct plx_poller {
	TAILQ_ENTRY(plx_poller) link;
	plx_poller_fn fn;
	void *arg;
	struct plx_thread *thread;
	enum poller_state state;
	uint64_t period_ticks; /* 0: active poller */
	uint64_t next_run_tick;
	uint64_t run_count;
	uint64_t busy_count;
	uint64_t id;
	int intr_fd; /* -1 when the poller has no interrupt source */
	uint32_t intr_events;
	bool fd_ready; /* its fd was reported ready when the thread woke */
	char name[PLX_NAME_MAX];
};

TAILQ_HEAD(poller_list, plx_poller);

enum thread_state {
	THREAD_RUNNING,
	THREAD_EXITING,
	THREAD_EXITED,
};

struct plx_io_device;

struct plx_io_channel {
	struct plx_thread *thread;
	struct plx_io_device *dev;
	uint32_t ref;
	bool destroy_pending; /* a deferred destroy message is queued */
	TAILQ_ENTRY(plx_io_channel) link;
	/* The owner's context follows, cache-line aligned. */
} __attribute__((aligned(PLX_CACHE_LINE)));

struct plx_thread {
	/*
	 * What senders read, on a line of its own: the receiver writes its per-poll fields
	 * (stats, lists, tsc_last) elsewhere, so senders never miss the cache on them. The
	 * receiver writes sleeping only when it is about to sleep.
	 */
	struct plx_ring *messages;
	enum thread_state state;
	int msg_fd;
	_Atomic bool sleeping;
	_Atomic bool notified;
	uint64_t id;

	char name[PLX_NAME_MAX] __attribute__((aligned(PLX_CACHE_LINE)));
	struct plx_cpuset cpumask;

	struct poller_list active_pollers;
	struct poller_list timed_pollers; /* sorted by next_run_tick */
	struct poller_list paused_pollers;
	/* The active-poller walk's next element, fixed up when that element is removed. */
	struct plx_poller *active_iter_next;
	uint32_t fd_ready_count;

	/* Written by the owner only; read under g_devlist_mutex by for_each_channel walks. */
	TAILQ_HEAD(, plx_io_channel) io_channels;

	struct plx_thread_stats stats;
	uint64_t tsc_last;
	bool last_busy;
	uint64_t exit_start_tsc;
	bool exit_warned;

	/* Interrupt mode: epoll set of msg_fd, timer_fd and poller fds. */
	int epfd;
	int timer_fd;
	uint64_t timer_armed_tick; /* 0: disarmed */

	TAILQ_ENTRY(plx_thread) link; /* g_threads, under g_devlist_mutex */
	/* The runner's context follows. */
	char ctx[] __attribute__((aligned(PLX_CACHE_LINE)));
};

/* Protects the thread list, the io_device list and every thread's io_channel list. */
extern pthread_mutex_t g_devlist_mutex;
extern TAILQ_HEAD(thread_list, plx_thread) g_threads;

/* The clock used for thread timestamps before a runner passes its own (tests replace it). */
uint64_t thread_lib_now(void);

/* poller.c */
int poller_run_active(struct plx_thread *thread);
int poller_run_timed(struct plx_thread *thread, uint64_t now);
int poller_run_fd_ready(struct plx_thread *thread, uint64_t now);
void poller_insert_timed(struct plx_thread *thread, struct plx_poller *poller);

/* interrupt.c */
int thread_intr_init(struct plx_thread *thread);
void thread_intr_fini(struct plx_thread *thread);
void thread_intr_notify(struct plx_thread *thread);
int thread_intr_add_fd(struct plx_thread *thread, int fd, uint32_t events, void *data);
void thread_intr_del_fd(struct plx_thread *thread, int fd);

/* io_channel.c */
bool thread_has_io_channels(struct plx_thread *thread);

#endif
