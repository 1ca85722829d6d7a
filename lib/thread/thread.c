/* SPDX-License-Identifier: BSD-3-Clause */
/* Lightweight threads: creation, the poll loop, messages and orderly exit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "thread_internal.h"

PLX_LOG_REGISTER_COMPONENT(thread)

struct msg {
	plx_msg_fn fn;
	void *ctx;
};

pthread_mutex_t g_devlist_mutex = PTHREAD_MUTEX_INITIALIZER;
struct thread_list g_threads = TAILQ_HEAD_INITIALIZER(g_threads);

static plx_new_thread_fn g_new_thread_fn;
static size_t g_ctx_sz;
static bool g_interrupt_mode;
static bool g_lib_initialized;
static uint64_t g_next_thread_id = 1;
static uint32_t g_thread_count;
static struct plx_thread *g_app_thread;
static __thread struct plx_thread *tls_thread;
static uint64_t (*g_clock)(void) = plx_get_ticks;

/* A thread that has not finished exiting after this long is reported once. */
#define THREAD_EXIT_WARN_SEC 5

int plx_thread_lib_init(plx_new_thread_fn new_thread_fn, size_t ctx_sz, bool interrupt_mode)
{
	if (g_lib_initialized) {
		PLX_ERRLOG("thread library initialised twice\n");
		return -EALREADY;
	}
	g_new_thread_fn = new_thread_fn;
	g_ctx_sz = ctx_sz;
	g_interrupt_mode = interrupt_mode;
	g_lib_initialized = true;
	return 0;
}

void plx_thread_lib_fini(void)
{
	if (!TAILQ_EMPTY(&g_threads)) {
		PLX_ERRLOG("thread library torn down with %u thread(s) alive\n", g_thread_count);
	}
	g_lib_initialized = false;
	g_app_thread = NULL;
	g_new_thread_fn = NULL;
	g_clock = plx_get_ticks;
}

bool plx_interrupt_mode_is_enabled(void)
{
	return g_interrupt_mode;
}

void plx_thread_lib_set_clock(uint64_t (*now_fn)(void))
{
	g_clock = now_fn != NULL ? now_fn : plx_get_ticks;
}

uint64_t thread_lib_now(void)
{
	return g_clock();
}

static void thread_free(struct plx_thread *thread)
{
	thread_intr_fini(thread);
	plx_ring_free(thread->messages);
	free(thread);
}

struct plx_thread *plx_thread_create(const char *name, const struct plx_cpuset *cpumask)
{
	struct plx_thread *thread;

	if (!g_lib_initialized) {
		PLX_ERRLOG("plx_thread_create before plx_thread_lib_init\n");
		return NULL;
	}
	thread = aligned_alloc(PLX_CACHE_LINE,
			       PLX_ALIGN_UP(sizeof(*thread) + g_ctx_sz, (size_t)PLX_CACHE_LINE));
	if (thread == NULL) {
		return NULL;
	}
	memset(thread, 0, sizeof(*thread) + g_ctx_sz);
	TAILQ_INIT(&thread->active_pollers);
	TAILQ_INIT(&thread->timed_pollers);
	TAILQ_INIT(&thread->paused_pollers);
	TAILQ_INIT(&thread->io_channels);
	thread->epfd = thread->msg_fd = thread->timer_fd = -1;
	if (cpumask != NULL) {
		plx_cpuset_copy(&thread->cpumask, cpumask);
	} else {
		for (uint32_t i = 0; i < plx_env_get_core_count(); i++) {
			plx_cpuset_set_cpu(&thread->cpumask, i, true);
		}
	}
	thread->messages = plx_ring_create(PLX_RING_MP_SC, PLX_MSG_QUEUE_SIZE, sizeof(struct msg));
	if (thread->messages == NULL || (g_interrupt_mode && thread_intr_init(thread) != 0)) {
		PLX_ERRLOG("cannot create thread %s: out of resources\n", name ? name : "");
		thread_free(thread);
		return NULL;
	}
	thread->tsc_last = g_clock();

	pthread_mutex_lock(&g_devlist_mutex);
	thread->id = g_next_thread_id++;
	if (name != NULL) {
		snprintf(thread->name, sizeof(thread->name), "%s", name);
	} else {
		snprintf(thread->name, sizeof(thread->name), "thread%lu",
			 (unsigned long)thread->id);
	}
	TAILQ_INSERT_TAIL(&g_threads, thread, link);
	g_thread_count++;
	if (g_app_thread == NULL) {
		g_app_thread = thread;
	}
	pthread_mutex_unlock(&g_devlist_mutex);

	if (g_new_thread_fn != NULL && g_new_thread_fn(thread) != 0) {
		PLX_ERRLOG("the runner refused thread %s\n", thread->name);
		pthread_mutex_lock(&g_devlist_mutex);
		TAILQ_REMOVE(&g_threads, thread, link);
		g_thread_count--;
		if (g_app_thread == thread) {
			g_app_thread = NULL;
		}
		pthread_mutex_unlock(&g_devlist_mutex);
		thread_free(thread);
		return NULL;
	}
	PLX_DEBUGLOG(thread, "created thread %s (id %lu)\n", thread->name,
		     (unsigned long)thread->id);
	return thread;
}

void plx_thread_exit(struct plx_thread *thread)
{
	if (thread->state != THREAD_RUNNING) {
		return;
	}
	thread->state = THREAD_EXITING;
	thread->exit_start_tsc = thread->tsc_last;
	PLX_DEBUGLOG(thread, "thread %s exiting\n", thread->name);
}

bool plx_thread_is_exited(struct plx_thread *thread)
{
	return thread->state == THREAD_EXITED;
}

bool plx_thread_is_running(struct plx_thread *thread)
{
	return thread->state == THREAD_RUNNING;
}

void plx_thread_destroy(struct plx_thread *thread)
{
	if (thread->state != THREAD_EXITED) {
		PLX_ERRLOG("destroying thread %s that has not exited\n", thread->name);
	}
	pthread_mutex_lock(&g_devlist_mutex);
	TAILQ_REMOVE(&g_threads, thread, link);
	g_thread_count--;
	if (g_app_thread == thread) {
		g_app_thread = NULL;
	}
	pthread_mutex_unlock(&g_devlist_mutex);
	if (tls_thread == thread) {
		tls_thread = NULL;
	}
	thread_free(thread);
}

static bool thread_has_work_left(struct plx_thread *thread)
{
	return !TAILQ_EMPTY(&thread->active_pollers) || !TAILQ_EMPTY(&thread->timed_pollers) ||
	       !TAILQ_EMPTY(&thread->paused_pollers) || thread_has_io_channels(thread) ||
	       plx_ring_count(thread->messages) > 0;
}

static void thread_check_exit(struct plx_thread *thread, uint64_t now)
{
	if (!thread_has_work_left(thread)) {
		thread->state = THREAD_EXITED;
		PLX_DEBUGLOG(thread, "thread %s exited\n", thread->name);
		return;
	}
	if (!thread->exit_warned &&
	    now - thread->exit_start_tsc > THREAD_EXIT_WARN_SEC * plx_get_ticks_hz()) {
		PLX_WARNLOG(
		    "thread %s still waiting to exit: pollers %s, io_channels %s\n", thread->name,
		    TAILQ_EMPTY(&thread->active_pollers) && TAILQ_EMPTY(&thread->timed_pollers) &&
			    TAILQ_EMPTY(&thread->paused_pollers)
			? "none"
			: "registered",
		    thread_has_io_channels(thread) ? "held" : "none");
		thread->exit_warned = true;
	}
}

static int thread_run_msgs(struct plx_thread *thread, uint32_t max_msgs)
{
	struct msg batch[PLX_MSG_BATCH_SIZE];
	size_t n, total = 0;

	if (max_msgs == 0) {
		max_msgs = PLX_MSG_BATCH_SIZE;
	}
	while (total < max_msgs) {
		n = plx_ring_dequeue(thread->messages, batch,
				     PLX_MIN((size_t)PLX_MSG_BATCH_SIZE, max_msgs - total));
		for (size_t i = 0; i < n; i++) {
			batch[i].fn(batch[i].ctx);
		}
		total += n;
		if (n < PLX_MSG_BATCH_SIZE) {
			break;
		}
	}
	return (int)total;
}

int plx_thread_poll(struct plx_thread *thread, uint32_t max_msgs, uint64_t now)
{
	struct plx_thread *prev = tls_thread;
	int rc;

	if (thread->state == THREAD_EXITED) {
		return 0;
	}
	/* Time since the last call counts as busy or idle by what that call found. */
	if (now > thread->tsc_last) {
		if (thread->last_busy) {
			thread->stats.busy_tsc += now - thread->tsc_last;
		} else {
			thread->stats.idle_tsc += now - thread->tsc_last;
		}
	}
	thread->tsc_last = now;
	tls_thread = thread;

	rc = thread_run_msgs(thread, max_msgs);
	rc += poller_run_active(thread);
	rc += poller_run_timed(thread, now);
	if (thread->fd_ready_count > 0) {
		rc += poller_run_fd_ready(thread, now);
	}
	thread->last_busy = rc > 0;

	if (thread->state == THREAD_EXITING) {
		thread_check_exit(thread, now);
	}
	tls_thread = prev;
	return rc;
}

uint64_t plx_thread_next_poller_expiration(struct plx_thread *thread)
{
	struct plx_poller *first = TAILQ_FIRST(&thread->timed_pollers);

	return first != NULL ? first->next_run_tick : 0;
}

bool plx_thread_has_active_pollers(struct plx_thread *thread)
{
	return !TAILQ_EMPTY(&thread->active_pollers);
}

bool plx_thread_has_pollers(struct plx_thread *thread)
{
	return !TAILQ_EMPTY(&thread->active_pollers) || !TAILQ_EMPTY(&thread->timed_pollers) ||
	       !TAILQ_EMPTY(&thread->paused_pollers);
}

bool plx_thread_is_idle(struct plx_thread *thread, uint64_t now)
{
	uint64_t next = plx_thread_next_poller_expiration(thread);

	return plx_ring_count(thread->messages) == 0 && TAILQ_EMPTY(&thread->active_pollers) &&
	       (next == 0 || next > now);
}

void *plx_thread_get_ctx(struct plx_thread *thread)
{
	return thread->ctx;
}

struct plx_thread *plx_thread_get_from_ctx(void *ctx)
{
	return PLX_CONTAINEROF(ctx, struct plx_thread, ctx);
}

const struct plx_cpuset *plx_thread_get_cpumask(struct plx_thread *thread)
{
	return &thread->cpumask;
}

const char *plx_thread_get_name(const struct plx_thread *thread)
{
	return thread->name;
}

uint64_t plx_thread_get_id(const struct plx_thread *thread)
{
	return thread->id;
}

struct plx_thread *plx_get_thread(void)
{
	return tls_thread;
}

void plx_set_thread(struct plx_thread *thread)
{
	tls_thread = thread;
}

struct plx_thread *plx_thread_get_app_thread(void)
{
	return g_app_thread;
}

uint32_t plx_thread_count(void)
{
	return g_thread_count;
}

uint64_t plx_thread_get_last_tsc(struct plx_thread *thread)
{
	return thread->tsc_last;
}

int plx_thread_get_stats(struct plx_thread_stats *stats)
{
	if (tls_thread == NULL) {
		return -EINVAL;
	}
	*stats = tls_thread->stats;
	return 0;
}

int plx_thread_send_msg(const struct plx_thread *cthread, plx_msg_fn fn, void *ctx)
{
	struct plx_thread *thread = (struct plx_thread *)cthread;
	struct msg m = {.fn = fn, .ctx = ctx};

	/* No log here: a full queue is back-pressure, and the sender decides what it means. */
	if (plx_unlikely(thread->state == THREAD_EXITED)) {
		return -EIO;
	}
	if (plx_unlikely(plx_ring_enqueue(thread->messages, &m, 1) != 1)) {
		return -ENOMEM;
	}
	if (g_interrupt_mode) {
		thread_intr_notify(thread);
	}
	return 0;
}

/* ---- for_each_thread: visit threads in id order, one message hop at a time ---- */

struct thread_iter {
	plx_msg_fn fn;
	plx_msg_fn cpl;
	void *ctx;
	struct plx_thread *origin;
	uint64_t cur_id;
};

/* The first thread, by id, after id; taken under the lock so threads may come and go. */
static struct plx_thread *thread_after(uint64_t id)
{
	struct plx_thread *t;

	pthread_mutex_lock(&g_devlist_mutex);
	TAILQ_FOREACH(t, &g_threads, link)
	{
		if (t->id > id && t->state != THREAD_EXITED) {
			break;
		}
	}
	pthread_mutex_unlock(&g_devlist_mutex);
	return t;
}

static void thread_iter_done(void *arg)
{
	struct thread_iter *it = arg;

	it->cpl(it->ctx);
	free(it);
}

static void thread_iter_step(void *arg)
{
	struct thread_iter *it = arg;
	struct plx_thread *next;

	it->fn(it->ctx);
	next = thread_after(it->cur_id);
	if (next != NULL) {
		it->cur_id = next->id;
		if (plx_thread_send_msg(next, thread_iter_step, it) == 0) {
			return;
		}
	}
	if (plx_thread_send_msg(it->origin, thread_iter_done, it) != 0) {
		PLX_ERRLOG("for_each_thread could not reach its origin thread\n");
	}
}

void plx_for_each_thread(plx_msg_fn fn, void *ctx, plx_msg_fn cpl)
{
	struct thread_iter *it = calloc(1, sizeof(*it));
	struct plx_thread *first = thread_after(0);

	if (it == NULL || tls_thread == NULL || first == NULL) {
		PLX_ERRLOG("for_each_thread: %s\n", it == NULL ? "out of memory" : "no thread");
		free(it);
		return;
	}
	*it = (struct thread_iter){
	    .fn = fn, .cpl = cpl, .ctx = ctx, .origin = tls_thread, .cur_id = first->id};
	if (plx_thread_send_msg(first, thread_iter_step, it) != 0) {
		free(it);
	}
}
