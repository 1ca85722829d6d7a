/* SPDX-License-Identifier: BSD-3-Clause */
/* Private interfaces between the files of lib/event. */
#ifndef POLLUX_EVENT_INTERNAL_H
#define POLLUX_EVENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "pollux/env.h"
#include "pollux/event.h"
#include "pollux/thread.h"

PLX_LOG_DECLARE_COMPONENT(reactor);
PLX_LOG_DECLARE_COMPONENT(app);

struct reactor;

/* The runner's area inside each plx_thread. */
struct lw_thread {
	struct reactor *reactor;
	uint64_t created_tsc;
	TAILQ_ENTRY(lw_thread) link;
};

struct reactor {
	uint32_t core;
	uint32_t index;
	pthread_t pthread;
	pid_t tid;
	TAILQ_HEAD(, lw_thread) threads; /* touched by this reactor's OS thread only */
	uint32_t thread_count;
	struct plx_ring *events; /* MP_SC: {fn, arg} run on the reactor itself */
	int epfd;		 /* sleep set: event_fd and each thread's interrupt fd */
	int event_fd;
	_Atomic bool sleeping;
	_Atomic bool notified;
	_Atomic uint64_t busy_tsc;
	_Atomic uint64_t idle_tsc;
	_Atomic bool in_interrupt;
	uint64_t stop_tsc;
} __attribute__((aligned(64)));

typedef void (*reactor_event_fn)(void *arg);

/* reactor.c */
int reactors_init(const struct plx_cpuset *mask, bool interrupt_mode);
void reactors_fini(void);
/* Run every reactor (others on new OS threads, the first on the caller) until stopped. */
void reactors_run(void);
/* Ask every reactor to stop once its threads have exited. */
void reactors_stop(void);
struct reactor *reactor_get(uint32_t index);
int reactor_send_event(struct reactor *reactor, reactor_event_fn fn, void *arg);

/* subsystem.c */
typedef void (*subsystem_done_fn)(int rc);
int subsystems_sort(void);
void subsystems_init(subsystem_done_fn done);
void subsystems_fini(void (*done)(void));

/* json_config.c */
typedef void (*json_config_done_fn)(int rc);
/* Load file and run its startup-state entries; done(rc) when through. */
void json_config_load_startup(const char *file, bool ignore_errors, json_config_done_fn done);
/* Run the remaining (runtime) entries of the loaded file; done(rc) when through. */
void json_config_load_runtime(json_config_done_fn done);
void json_config_free(void);

/* app.c: initialise subsystems (framework_start_init); done runs after init completes. */
int app_start_init(void (*done)(int rc, void *arg), void *arg);
/* Queue req-like waiters for framework_wait_init: cb(arg) runs once init has completed. */
void app_wait_init(void (*cb)(void *arg), void *arg);

#endif
