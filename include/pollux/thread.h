/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pollux thread: lightweight threads, pollers, messages, io_devices and io_channels.
 *
 * A plx_thread is a unit of scheduling, not an OS thread: many run on one OS thread (a
 * reactor, or a test harness), one at a time. Everything a plx_thread owns (its pollers,
 * its io_channels) is touched only while that thread runs; other threads ask by message.
 *
 * Who runs threads: the library does not create OS threads. Whoever calls
 * plx_thread_lib_init() supplies a hook that is told of every new thread and is expected to
 * call plx_thread_poll() on it repeatedly (the event library's reactors, or the deterministic
 * test harness in test/common).
 *
 * Interrupt mode: when enabled at library init, every thread owns an epoll fd
 * (plx_thread_get_interrupt_fd) that becomes readable when the thread has work: a message,
 * an expired timed poller, or a ready fd registered by a poller. A runner may then sleep in
 * epoll_wait on it once plx_thread_can_sleep() said yes.
 */
#ifndef POLLUX_THREAD_H
#define POLLUX_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pollux/util.h"

#ifdef __cplusplus
extern "C" {
#endif

struct plx_thread;
struct plx_poller;
struct plx_io_channel;
struct plx_io_channel_iter;

typedef void (*plx_msg_fn)(void *ctx);

#define PLX_POLLER_IDLE 0
#define PLX_POLLER_BUSY 1

/* A poller returns PLX_POLLER_BUSY when it did work, PLX_POLLER_IDLE otherwise. */
typedef int (*plx_poller_fn)(void *ctx);

/* Told of each new thread; returns 0 when it took the thread, negative errno otherwise. */
typedef int (*plx_new_thread_fn)(struct plx_thread *thread);

/* Maximum messages taken from a thread's queue in one plx_thread_poll() call by default. */
#define PLX_MSG_BATCH_SIZE 32

/* Slots in each thread's message queue. */
#define PLX_MSG_QUEUE_SIZE 8192

/* ---- library ---- */

/*
 * Initialise the library. new_thread_fn may be NULL (threads are then polled by whoever
 * created them). ctx_sz is the size of a per-thread area for the runner (plx_thread_get_ctx).
 * interrupt_mode: threads own epoll fds and can sleep (see above).
 */
int plx_thread_lib_init(plx_new_thread_fn new_thread_fn, size_t ctx_sz, bool interrupt_mode);

/* Tear the library down; every thread must have been destroyed. */
void plx_thread_lib_fini(void);

bool plx_interrupt_mode_is_enabled(void);

/*
 * Replace the clock that stamps new threads and pollers before their first poll (tests drive
 * a fake clock; NULL restores plx_get_ticks). Runners pass their own time to plx_thread_poll.
 */
void plx_thread_lib_set_clock(uint64_t (*now_fn)(void));

/* ---- threads ---- */

/*
 * A new thread named name (copied; NULL gives "thread<id>") allowed on cpumask (NULL: any).
 * The first thread created becomes the app thread. NULL when out of memory or refused.
 */
struct plx_thread *plx_thread_create(const char *name, const struct plx_cpuset *cpumask);

/*
 * Start an orderly exit of the current thread. It keeps running until every poller it owns is
 * unregistered, every io_channel it holds is put and its message queue is drained; then
 * plx_thread_is_exited() turns true and its runner calls plx_thread_destroy().
 */
void plx_thread_exit(struct plx_thread *thread);

bool plx_thread_is_exited(struct plx_thread *thread);
bool plx_thread_is_running(struct plx_thread *thread);

/* Free an exited thread. */
void plx_thread_destroy(struct plx_thread *thread);

/*
 * Run thread once: up to max_msgs messages (0 means PLX_MSG_BATCH_SIZE), every active
 * poller, every timed poller due at now (ticks), and pollers whose fd woke the thread.
 * Returns > 0 when anything did work, 0 when idle. Accounts busy/idle ticks.
 */
int plx_thread_poll(struct plx_thread *thread, uint32_t max_msgs, uint64_t now);

/* Tick at which the earliest timed poller is due; 0 when there is none. */
uint64_t plx_thread_next_poller_expiration(struct plx_thread *thread);

/* True when thread has at least one running active poller (so it cannot sleep). */
bool plx_thread_has_active_pollers(struct plx_thread *thread);

/* True when thread owns any poller at all. */
bool plx_thread_has_pollers(struct plx_thread *thread);

/* True when no message is queued and no poller is due at now. */
bool plx_thread_is_idle(struct plx_thread *thread, uint64_t now);

/*
 * Interrupt mode only. Announce that the runner is about to sleep on the thread's fd: arms the
 * timer for the next timed poller, publishes the sleeping flag (so senders write the eventfd),
 * and re-checks the queue. Returns true when the thread may sleep; false when it has work (the
 * flag is then already withdrawn). After waking, call plx_thread_wakeup().
 */
bool plx_thread_prepare_sleep(struct plx_thread *thread);

/* Interrupt mode only. Withdraw the sleeping flag and learn which fds are ready. */
void plx_thread_wakeup(struct plx_thread *thread);

/* Interrupt mode only: the thread's epoll fd; -1 otherwise. */
int plx_thread_get_interrupt_fd(struct plx_thread *thread);

/* The runner's per-thread area (ctx_sz bytes given at library init), and back. */
void *plx_thread_get_ctx(struct plx_thread *thread);
struct plx_thread *plx_thread_get_from_ctx(void *ctx);

const struct plx_cpuset *plx_thread_get_cpumask(struct plx_thread *thread);
const char *plx_thread_get_name(const struct plx_thread *thread);
uint64_t plx_thread_get_id(const struct plx_thread *thread);

/* The thread running on this OS thread now, or NULL. */
struct plx_thread *plx_get_thread(void);

/* Make thread current on this OS thread (runners and tests); NULL clears it. */
void plx_set_thread(struct plx_thread *thread);

/* The first thread created; where the app framework and RPC run. */
struct plx_thread *plx_thread_get_app_thread(void);

/* Number of threads alive (created and not destroyed). */
uint32_t plx_thread_count(void);

/* Ticks passed to the most recent plx_thread_poll() of thread. */
uint64_t plx_thread_get_last_tsc(struct plx_thread *thread);

/*
 * Queue fn(ctx) to run on thread. Callable from any OS thread, lock-free. Wakes a sleeping
 * thread with one eventfd write only when it announced sleep. -ENOMEM when the queue is full,
 * -EIO when the thread has exited.
 */
int plx_thread_send_msg(const struct plx_thread *thread, plx_msg_fn fn, void *ctx);

/*
 * Run fn(ctx) on every thread alive, one after another, then cpl(ctx) on the calling thread.
 * Must be called from a plx_thread.
 */
void plx_for_each_thread(plx_msg_fn fn, void *ctx, plx_msg_fn cpl);

struct plx_thread_stats {
	uint64_t busy_tsc;
	uint64_t idle_tsc;
};

/* Busy and idle ticks of the current thread; -EINVAL when none is current. */
int plx_thread_get_stats(struct plx_thread_stats *stats);

/* ---- pollers (all on the current thread) ---- */

/*
 * Register fn(arg) on the current thread. period_us == 0: an active poller, run on every
 * plx_thread_poll(). Otherwise a timed poller, run when period_us has passed since its last
 * run. name is copied. NULL when there is no current thread or out of memory.
 */
struct plx_poller *plx_poller_register_named(plx_poller_fn fn, void *arg, uint64_t period_us,
					     const char *name);
#define PLX_POLLER_REGISTER(fn, arg, period_us) plx_poller_register_named(fn, arg, period_us, #fn)

/*
 * Unregister *ppoller (from its own thread) and set *ppoller to NULL. Safe from inside the
 * poller's own function: it is freed after the current run. NULL is allowed.
 */
void plx_poller_unregister(struct plx_poller **ppoller);

/* A paused poller does not run until resumed. Both are idempotent. */
void plx_poller_pause(struct plx_poller *poller);
void plx_poller_resume(struct plx_poller *poller);

/*
 * Give poller an interrupt source: fd (epoll events, e.g. EPOLLIN). In interrupt mode the fd
 * readiness wakes a sleeping thread and runs the poller at once; a timed poller with an fd no
 * longer arms the sleep timer. Without an fd, an active poller keeps its reactor polling.
 * One fd per poller: -EEXIST when it has one already. Outside interrupt mode it does nothing
 * and returns 0, so callers need not care about the mode.
 */
int plx_poller_set_interrupt_fd(struct plx_poller *poller, int fd, uint32_t events);

const char *plx_poller_get_name(const struct plx_poller *poller);

/* ---- io_devices and io_channels ---- */

typedef int (*plx_io_channel_create_cb)(void *io_device, void *ctx_buf);
typedef void (*plx_io_channel_destroy_cb)(void *io_device, void *ctx_buf);
typedef void (*plx_io_device_unregister_cb)(void *io_device);

/*
 * Register io_device (any unique pointer). Each thread that asks gets one channel with a
 * ctx_size-byte context, built by create_cb on that thread and torn down by destroy_cb on that
 * thread. name is copied (NULL: the pointer in hex). Registering twice is an error (logged).
 */
void plx_io_device_register(void *io_device, plx_io_channel_create_cb create_cb,
			    plx_io_channel_destroy_cb destroy_cb, uint32_t ctx_size,
			    const char *name);

/*
 * Unregister io_device. New channels can no longer be got; unregister_cb(io_device) runs on
 * the calling thread once every existing channel has been destroyed. cb may be NULL.
 */
void plx_io_device_unregister(void *io_device, plx_io_device_unregister_cb unregister_cb);

/*
 * The current thread's channel to io_device: the existing one with one more reference, or a
 * new one (create_cb). NULL when the device is unknown or unregistering, or create_cb failed.
 */
struct plx_io_channel *plx_get_io_channel(void *io_device);

/* Drop a reference from the channel's own thread; destroy_cb runs later, on this thread. */
void plx_put_io_channel(struct plx_io_channel *ch);

void *plx_io_channel_get_ctx(struct plx_io_channel *ch);
struct plx_io_channel *plx_io_channel_from_ctx(void *ctx);
struct plx_thread *plx_io_channel_get_thread(struct plx_io_channel *ch);
void *plx_io_channel_get_io_device(struct plx_io_channel *ch);
const char *plx_io_channel_get_name(struct plx_io_channel *ch);
uint32_t plx_io_channel_get_ref(struct plx_io_channel *ch);

typedef void (*plx_channel_msg)(struct plx_io_channel_iter *i);
typedef void (*plx_channel_for_each_cpl)(struct plx_io_channel_iter *i, int status);

/*
 * Call fn on every thread holding a channel to io_device, one after another, on that thread.
 * fn must end with plx_for_each_channel_continue(i, status); a non-zero status stops the walk.
 * Then cpl(i, status) runs on the calling thread. Channels created during the walk may be
 * skipped; channels destroyed during it are skipped.
 */
void plx_for_each_channel(void *io_device, plx_channel_msg fn, void *ctx,
			  plx_channel_for_each_cpl cpl);
void plx_for_each_channel_continue(struct plx_io_channel_iter *i, int status);
void *plx_io_channel_iter_get_io_device(struct plx_io_channel_iter *i);
struct plx_io_channel *plx_io_channel_iter_get_channel(struct plx_io_channel_iter *i);
void *plx_io_channel_iter_get_ctx(struct plx_io_channel_iter *i);

/* ---- introspection (for RPC; each call reads the current thread only) ---- */

struct plx_poller_info {
	const char *name;
	uint64_t id;
	const char *state; /* "waiting", "running", "paused" */
	uint64_t run_count;
	uint64_t busy_count;
	uint64_t period_ticks; /* 0 for active pollers */
	bool paused;
};

/* Call cb on every poller of the current thread. */
void plx_thread_foreach_poller(void (*cb)(const struct plx_poller_info *info, void *arg),
			       void *arg);

/* Call cb on every io_channel of the current thread. */
void plx_thread_foreach_io_channel(void (*cb)(const char *name, uint32_t ref, void *arg),
				   void *arg);

#ifdef __cplusplus
}
#endif
#endif
