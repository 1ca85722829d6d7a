/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pollers. A poller lives in exactly one list of its thread (active, timed or paused) except
 * while a timed poller runs: it is taken off the timed list for its run and put back after,
 * so the timed walk only ever looks at the head. Unregistering or pausing a poller that is
 * running only marks it; the walk finishes the job when the run returns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "thread_internal.h"

static _Atomic uint64_t g_next_poller_id = 1;

static struct poller_list *poller_home(struct plx_poller *poller)
{
	if (poller->state == POLLER_PAUSED) {
		return &poller->thread->paused_pollers;
	}
	return poller->period_ticks == 0 ? &poller->thread->active_pollers
					 : &poller->thread->timed_pollers;
}

void poller_insert_timed(struct plx_thread *thread, struct plx_poller *poller)
{
	struct plx_poller *iter;

	/* New expiries are usually the latest, so search from the tail. */
	TAILQ_FOREACH_REVERSE(iter, &thread->timed_pollers, poller_list, link)
	{
		if (iter->next_run_tick <= poller->next_run_tick) {
			TAILQ_INSERT_AFTER(&thread->timed_pollers, iter, poller, link);
			return;
		}
	}
	TAILQ_INSERT_HEAD(&thread->timed_pollers, poller, link);
}

/* Take poller out of its list, keeping the active walk's cursor valid. */
static void poller_unlink(struct plx_poller *poller)
{
	struct plx_thread *thread = poller->thread;

	if (thread->active_iter_next == poller) {
		thread->active_iter_next = TAILQ_NEXT(poller, link);
	}
	TAILQ_REMOVE(poller_home(poller), poller, link);
}

static void poller_free(struct plx_poller *poller)
{
	if (poller->intr_fd >= 0 && poller->state != POLLER_PAUSED) {
		thread_intr_del_fd(poller->thread, poller->intr_fd);
	}
	if (poller->fd_ready) {
		poller->thread->fd_ready_count--;
	}
	free(poller);
}

struct plx_poller *plx_poller_register_named(plx_poller_fn fn, void *arg, uint64_t period_us,
					     const char *name)
{
	struct plx_thread *thread = plx_get_thread();
	struct plx_poller *poller;

	if (thread == NULL) {
		PLX_ERRLOG("poller %s registered outside a plx_thread\n", name ? name : "");
		return NULL;
	}
	if (thread->state != THREAD_RUNNING) {
		PLX_ERRLOG("poller %s registered on exiting thread %s\n", name ? name : "",
			   thread->name);
		return NULL;
	}
	poller = calloc(1, sizeof(*poller));
	if (poller == NULL) {
		return NULL;
	}
	poller->fn = fn;
	poller->arg = arg;
	poller->thread = thread;
	poller->intr_fd = -1;
	poller->id = atomic_fetch_add(&g_next_poller_id, 1);
	snprintf(poller->name, sizeof(poller->name), "%s", name ? name : "poller");
	if (period_us == 0) {
		TAILQ_INSERT_TAIL(&thread->active_pollers, poller, link);
	} else {
		/* 128 bits: at a few GHz, 64 bits overflow for periods of about two hours. */
		poller->period_ticks =
		    (uint64_t)((unsigned __int128)period_us * plx_get_ticks_hz() / 1000000);
		if (poller->period_ticks == 0) {
			poller->period_ticks = 1;
		}
		poller->next_run_tick = thread->tsc_last + poller->period_ticks;
		poller_insert_timed(thread, poller);
	}
	return poller;
}

void plx_poller_unregister(struct plx_poller **ppoller)
{
	struct plx_poller *poller = *ppoller;

	if (poller == NULL) {
		return;
	}
	*ppoller = NULL;
	if (poller->thread != plx_get_thread()) {
		PLX_ERRLOG("poller %s unregistered from a thread that does not own it\n",
			   poller->name);
		return;
	}
	if (poller->state == POLLER_RUNNING || poller->state == POLLER_PAUSING) {
		poller->state = POLLER_UNREGISTERED;
		return;
	}
	if (poller->state == POLLER_UNREGISTERED) {
		return;
	}
	poller_unlink(poller);
	poller_free(poller);
}

/* A paused poller's fd must not wake the thread: a ready fd nobody reads would spin it. */
static void poller_enter_paused(struct plx_poller *poller)
{
	poller->state = POLLER_PAUSED;
	if (poller->intr_fd >= 0) {
		thread_intr_del_fd(poller->thread, poller->intr_fd);
	}
}

void plx_poller_pause(struct plx_poller *poller)
{
	switch (poller->state) {
	case POLLER_RUNNING:
		poller->state = POLLER_PAUSING;
		break;
	case POLLER_WAITING:
		poller_unlink(poller);
		poller_enter_paused(poller);
		TAILQ_INSERT_TAIL(&poller->thread->paused_pollers, poller, link);
		break;
	default:
		break;
	}
}

void plx_poller_resume(struct plx_poller *poller)
{
	struct plx_thread *thread = poller->thread;

	if (poller->state == POLLER_PAUSING) {
		poller->state = POLLER_RUNNING;
		return;
	}
	if (poller->state != POLLER_PAUSED) {
		return;
	}
	TAILQ_REMOVE(&thread->paused_pollers, poller, link);
	poller->state = POLLER_WAITING;
	if (poller->intr_fd >= 0 &&
	    thread_intr_add_fd(thread, poller->intr_fd, poller->intr_events, poller) != 0) {
		PLX_ERRLOG("poller %s resumed without its interrupt fd\n", poller->name);
		poller->intr_fd = -1;
	}
	if (poller->period_ticks == 0) {
		TAILQ_INSERT_TAIL(&thread->active_pollers, poller, link);
	} else {
		poller->next_run_tick = thread->tsc_last + poller->period_ticks;
		poller_insert_timed(thread, poller);
	}
}

int plx_poller_set_interrupt_fd(struct plx_poller *poller, int fd, uint32_t events)
{
	int rc;

	if (!plx_interrupt_mode_is_enabled()) {
		return 0;
	}
	if (poller->intr_fd >= 0) {
		return -EEXIST;
	}
	/* A paused poller's fd stays out of the epoll set until plx_poller_resume adds it. */
	if (poller->state != POLLER_PAUSED) {
		rc = thread_intr_add_fd(poller->thread, fd, events, poller);
		if (rc != 0) {
			return rc;
		}
	}
	poller->intr_fd = fd;
	poller->intr_events = events;
	return 0;
}

const char *plx_poller_get_name(const struct plx_poller *poller)
{
	return poller->name;
}

/*
 * Run one poller; it is not in any list only if it is timed. Returns its result, and leaves it
 * where its state says: *keep is false when it was freed or paused (not to be requeued).
 */
static int poller_run(struct plx_poller *poller, bool *keep)
{
	int rc;

	poller->state = POLLER_RUNNING;
	rc = poller->fn(poller->arg);
	poller->run_count++;
	if (rc > 0) {
		poller->busy_count++;
	}
	*keep = true;
	switch (poller->state) {
	case POLLER_UNREGISTERED:
		*keep = false;
		break;
	case POLLER_PAUSING:
		*keep = false;
		poller_enter_paused(poller);
		break;
	default:
		poller->state = POLLER_WAITING;
		break;
	}
	return rc > 0 ? 1 : 0;
}

int poller_run_active(struct plx_thread *thread)
{
	struct plx_poller *poller;
	int busy = 0;
	bool keep;

	for (poller = TAILQ_FIRST(&thread->active_pollers); poller != NULL;
	     poller = thread->active_iter_next) {
		thread->active_iter_next = TAILQ_NEXT(poller, link);
		busy += poller_run(poller, &keep);
		if (!keep) {
			TAILQ_REMOVE(&thread->active_pollers, poller, link);
			if (poller->state == POLLER_PAUSED) {
				TAILQ_INSERT_TAIL(&thread->paused_pollers, poller, link);
			} else {
				poller_free(poller);
			}
		}
	}
	thread->active_iter_next = NULL;
	return busy;
}

static int poller_run_timed_one(struct plx_thread *thread, struct plx_poller *poller, uint64_t now)
{
	int busy;
	bool keep;

	TAILQ_REMOVE(&thread->timed_pollers, poller, link);
	if (poller->fd_ready) {
		poller->fd_ready = false;
		thread->fd_ready_count--;
	}
	busy = poller_run(poller, &keep);
	if (keep) {
		poller->next_run_tick = now + poller->period_ticks;
		poller_insert_timed(thread, poller);
	} else if (poller->state == POLLER_PAUSED) {
		TAILQ_INSERT_TAIL(&thread->paused_pollers, poller, link);
	} else {
		poller_free(poller);
	}
	return busy;
}

int poller_run_timed(struct plx_thread *thread, uint64_t now)
{
	struct plx_poller *poller;
	int busy = 0;

	while ((poller = TAILQ_FIRST(&thread->timed_pollers)) != NULL &&
	       poller->next_run_tick <= now) {
		busy += poller_run_timed_one(thread, poller, now);
	}
	return busy;
}

int poller_run_fd_ready(struct plx_thread *thread, uint64_t now)
{
	struct plx_poller *poller;
	int busy = 0;

	/* Rare (only after a wake-up), so a scan is fine. Active pollers already ran. */
	TAILQ_FOREACH(poller, &thread->timed_pollers, link)
	{
		if (poller->fd_ready) {
			busy += poller_run_timed_one(thread, poller, now);
			/* The list may have been reordered; restart the scan. */
			return busy + poller_run_fd_ready(thread, now);
		}
	}
	/* Flags left on active or paused pollers carry no work: clear them. */
	TAILQ_FOREACH(poller, &thread->active_pollers, link)
	{
		poller->fd_ready = false;
	}
	TAILQ_FOREACH(poller, &thread->paused_pollers, link)
	{
		poller->fd_ready = false;
	}
	thread->fd_ready_count = 0;
	return busy;
}

void plx_thread_foreach_poller(void (*cb)(const struct plx_poller_info *info, void *arg), void *arg)
{
	static const char *const state_names[] = {
	    [POLLER_WAITING] = "waiting",
	    [POLLER_RUNNING] = "running",
	    [POLLER_UNREGISTERED] = "unregistered",
	    [POLLER_PAUSING] = "pausing",
	    [POLLER_PAUSED] = "paused",
	};
	struct plx_thread *thread = plx_get_thread();
	struct poller_list *lists[3];
	struct plx_poller *p;

	if (thread == NULL) {
		return;
	}
	lists[0] = &thread->active_pollers;
	lists[1] = &thread->timed_pollers;
	lists[2] = &thread->paused_pollers;
	for (int i = 0; i < 3; i++) {
		TAILQ_FOREACH(p, lists[i], link)
		{
			struct plx_poller_info info = {
			    .name = p->name,
			    .id = p->id,
			    .state = state_names[p->state],
			    .run_count = p->run_count,
			    .busy_count = p->busy_count,
			    .period_ticks = p->period_ticks,
			    .paused = p->state == POLLER_PAUSED,
			};
			cb(&info, arg);
		}
	}
}
