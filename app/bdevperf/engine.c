/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The I/O engine. Each task circulates: submit, complete, account, pick the next offset,
 * submit again from the completion callback (the bdev layer defers completions, so this does
 * not recurse). Nothing is allocated per I/O and nothing is shared between jobs.
 *
 * Time stamps are the reactor iteration's TSC (plx_thread_get_last_tsc), not a fresh rdtsc
 * per I/O: on the VMs we measure on, rdtsc alone cost a quarter of the null bdev's per-I/O
 * time. A completion is only observed when the poll that delivers it runs, so latency is
 * resolved to one reactor iteration (a few µs at QD128, far less at low depth); the average
 * still obeys Little's law (depth / IOPS).
 *
 * A job stops (time is up, a failure without -f, hot remove) by no longer resubmitting: each
 * task that comes back is parked, and the last one finishes the job.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pollux/env.h"
#include "pollux/log.h"

#include "bdevperf.h"

static void io_done(struct plx_bdev_io *bio, bool success, void *arg);
static void io_done_fast(struct plx_bdev_io *bio, bool success, void *arg);
static void verify_write_done(struct plx_bdev_io *bio, bool success, void *arg);
static void verify_read_done(struct plx_bdev_io *bio, bool success, void *arg);
static inline __attribute__((always_inline)) void task_submit(struct bp_task *t);

static void (*g_run_cb)(int rc);
static uint32_t g_running;
static struct plx_poller *g_run_timer;

/* ---- job side: finishing ---- */

static void job_done_msg(void *arg);

static void job_maybe_finish(struct bp_job *job)
{
	if (job->active == 0 && !job->reset_outstanding && !job->done_sent) {
		job->done_sent = true;
		plx_thread_send_msg(plx_thread_get_app_thread(), job_done_msg, job);
	}
}

static void task_park(struct bp_job *job)
{
	if (--job->active == 0 && job->stopping) {
		job_maybe_finish(job);
	}
}

void bp_job_stop(struct bp_job *job)
{
	if (job->stopping || job->start_tsc == 0) {
		return;
	}
	job->stopping = true;
	job->end_tsc = plx_get_ticks();
	plx_poller_unregister(&job->timeout_poller);
	plx_poller_unregister(&job->reset_poller);
	if (job->active == 0) {
		job_maybe_finish(job);
	}
}

static void job_fail(struct bp_job *job)
{
	if (g_bp.continue_on_fail) {
		return;
	}
	job->failed = true;
	bp_job_stop(job);
}

/* ---- job side: offsets ---- */

static inline void verify_release(struct bp_job *job, struct bp_task *t)
{
	uint64_t unit = (t->offset_blocks - job->range_start) / job->io_blocks;

	job->busy_units[unit / 64] &= ~(1ull << (unit % 64));
}

/* The next unit nobody works on (there is one: tasks <= units). */
static void verify_claim(struct bp_job *job, struct bp_task *t)
{
	uint64_t unit;

	for (;;) {
		unit = (job->seq_next - job->range_start) / job->io_blocks;
		job->seq_next += job->io_blocks;
		if (job->seq_next >= job->range_end) {
			job->seq_next = job->range_start;
		}
		if (!(job->busy_units[unit / 64] & (1ull << (unit % 64)))) {
			break;
		}
	}
	job->busy_units[unit / 64] |= 1ull << (unit % 64);
	t->offset_blocks = job->range_start + unit * job->io_blocks;
	t->generation = ++job->generation;
	bp_verify_fill(job, t->buf, t->offset_blocks, t->generation);
}

static inline uint64_t next_offset(struct bp_job *job)
{
	uint64_t off;

	if (job->random) {
		uint64_t unit = plx_likely(job->zipf == NULL)
				    ? bp_rand_below(&job->rng, job->range_units)
				    : bp_zipf_next(job->zipf, &job->rng);

		return job->range_start + unit * job->io_blocks;
	}
	off = job->seq_next;
	job->seq_next += job->io_blocks;
	if (plx_unlikely(job->seq_next >= job->range_end)) {
		job->seq_next = job->range_start;
	}
	return off;
}

/* Start a fresh I/O on t, stamped with now. */
static inline void task_new_io(struct bp_job *job, struct bp_task *t, uint64_t now)
{
	t->submit_tsc = now;
	t->timed_out = false;
	if (plx_unlikely(g_bp.verify)) {
		t->op = BP_OP_VERIFY_WRITE;
		verify_claim(job, t);
	} else {
		t->offset_blocks = next_offset(job);
		if (job->mixed) {
			t->op = bp_rand_below(&job->rng, 100) < (uint64_t)g_bp.rw_read_pct
				    ? BP_OP_READ
				    : BP_OP_WRITE;
		}
	}
	task_submit(t);
}

/* ---- job side: submit ---- */

static void task_retry(void *arg)
{
	struct bp_task *t = arg;
	struct bp_job *job = t->job;

	if (job->stopping) {
		if (g_bp.verify) {
			verify_release(job, t);
		}
		task_park(job);
		return;
	}
	task_submit(t);
}

static void submit_error(struct bp_task *t, int rc)
{
	struct bp_job *job = t->job;

	t->in_flight = false;
	if (rc == -ENOMEM) {
		t->wait.cb_fn = task_retry;
		rc = plx_bdev_queue_io_wait(job->bdev, job->ch, &t->wait);
		if (rc == 0) {
			return;
		}
	}
	if (job->st.io_failed++ == 0) {
		PLX_ERRLOG("bdev %s: submit failed: %s\n", job->bdev_name, strerror(-rc));
	}
	if (g_bp.verify) {
		verify_release(job, t);
	}
	/* A request the bdev refused would be refused again: this task retires. */
	job_fail(job);
	task_park(job);
}

static int submit_other(struct bp_job *job, struct bp_task *t)
{
	switch (g_bp.io_type) {
	case PLX_BDEV_IO_TYPE_UNMAP:
		return plx_bdev_unmap_blocks(job->desc, job->ch, t->offset_blocks, job->io_blocks,
					     io_done, t);
	case PLX_BDEV_IO_TYPE_FLUSH:
		return plx_bdev_flush_blocks(job->desc, job->ch, t->offset_blocks, job->io_blocks,
					     io_done, t);
	default:
		return plx_bdev_write_zeroes_blocks(job->desc, job->ch, t->offset_blocks,
						    job->io_blocks, io_done, t);
	}
}

static inline __attribute__((always_inline)) void task_submit(struct bp_task *t)
{
	struct bp_job *job = t->job;
	int rc;

	t->in_flight = true;
	switch (t->op) {
	case BP_OP_READ:
		rc = plx_bdev_read_blocks(job->desc, job->ch, t->buf, t->offset_blocks,
					  job->io_blocks, job->fast ? io_done_fast : io_done, t);
		break;
	case BP_OP_WRITE:
		rc = plx_bdev_write_blocks(job->desc, job->ch, t->buf, t->offset_blocks,
					   job->io_blocks, job->fast ? io_done_fast : io_done, t);
		break;
	case BP_OP_VERIFY_WRITE:
		rc = plx_bdev_write_blocks(job->desc, job->ch, t->buf, t->offset_blocks,
					   job->io_blocks, verify_write_done, t);
		break;
	case BP_OP_VERIFY_READ:
		rc = plx_bdev_read_blocks(job->desc, job->ch, t->rbuf, t->offset_blocks,
					  job->io_blocks, verify_read_done, t);
		break;
	default:
		rc = submit_other(job, t);
		break;
	}
	if (plx_unlikely(rc != 0)) {
		submit_error(t, rc);
	}
}

/* ---- job side: completions ---- */

static void io_failed(struct bp_job *job, struct bp_task *t)
{
	job->st.io_failed++;
	/* Our own aborts and I/O caught by a reset were expected to fail. */
	if ((t->timed_out && g_bp.abort_timeout) || g_bp.workload == BP_W_RESET) {
		return;
	}
	if (!job->failed && !g_bp.continue_on_fail) {
		PLX_ERRLOG("bdev %s: I/O at block %lu failed\n", job->bdev_name,
			   (unsigned long)t->offset_blocks);
	}
	job_fail(job);
}

static inline void task_account(struct bp_job *job, uint64_t lat)
{
	job->st.io_completed++;
	job->st.total_lat += lat;
	if (plx_unlikely(lat < job->st.min_lat)) {
		job->st.min_lat = lat;
	}
	if (plx_unlikely(lat > job->st.max_lat)) {
		job->st.max_lat = lat;
	}
	if (job->hist != NULL) {
		job->hist[bp_hist_index(lat)]++;
	}
}

static inline void task_next(struct bp_job *job, struct bp_task *t, uint64_t now)
{
	if (plx_unlikely(job->stopping)) {
		task_park(job);
		return;
	}
	task_new_io(job, t, now);
}

static void io_done(struct plx_bdev_io *bio, bool success, void *arg)
{
	struct bp_task *t = arg;
	struct bp_job *job = t->job;
	uint64_t now = plx_thread_get_last_tsc(job->thread);

	plx_bdev_free_io(bio);
	t->in_flight = false;
	if (plx_likely(success)) {
		task_account(job, now - t->submit_tsc);
	} else {
		io_failed(job, t);
	}
	task_next(job, t, now);
}

/*
 * The completion of plain read and write workloads without -k: what the headline figures
 * measure, so only what they need. Anything unusual (a failure, the stop) takes io_done.
 */
static void io_done_fast(struct plx_bdev_io *bio, bool success, void *arg)
{
	struct bp_task *t = arg;
	struct bp_job *job = t->job;
	uint64_t now;
	int rc;

	if (plx_unlikely(!success || job->stopping)) {
		io_done(bio, success, arg);
		return;
	}
	now = plx_thread_get_last_tsc(job->thread);
	plx_bdev_free_io(bio);
	task_account(job, now - t->submit_tsc);
	t->submit_tsc = now;
	t->offset_blocks = next_offset(job);
	if (job->fast_read) {
		rc = plx_bdev_read_blocks(job->desc, job->ch, t->buf, t->offset_blocks,
					  job->io_blocks, io_done_fast, t);
	} else {
		rc = plx_bdev_write_blocks(job->desc, job->ch, t->buf, t->offset_blocks,
					   job->io_blocks, io_done_fast, t);
	}
	if (plx_unlikely(rc != 0)) {
		submit_error(t, rc);
	}
}

static void verify_write_done(struct plx_bdev_io *bio, bool success, void *arg)
{
	struct bp_task *t = arg;
	struct bp_job *job = t->job;

	plx_bdev_free_io(bio);
	t->in_flight = false;
	if (!success) {
		io_failed(job, t);
		verify_release(job, t);
		task_next(job, t, plx_thread_get_last_tsc(job->thread));
		return;
	}
	t->op = BP_OP_VERIFY_READ;
	task_submit(t);
}

static void verify_read_done(struct plx_bdev_io *bio, bool success, void *arg)
{
	struct bp_task *t = arg;
	struct bp_job *job = t->job;
	uint64_t now = plx_thread_get_last_tsc(job->thread);

	plx_bdev_free_io(bio);
	t->in_flight = false;
	if (!success) {
		io_failed(job, t);
	} else if (!bp_verify_check(job, t->buf, t->rbuf, t->offset_blocks)) {
		job->st.io_failed++;
		job_fail(job);
	} else {
		task_account(job, now - t->submit_tsc);
	}
	verify_release(job, t);
	task_next(job, t, now);
}

/* ---- job side: timeouts and resets ---- */

static void abort_done(struct plx_bdev_io *bio, bool success, void *arg)
{
	plx_bdev_free_io(bio);
}

static int timeout_poll(void *arg)
{
	struct bp_job *job = arg;
	uint64_t now = plx_get_ticks();
	uint64_t limit = (uint64_t)(g_bp.timeout_sec * (double)plx_get_ticks_hz());

	for (uint32_t i = 0; i < job->num_tasks; i++) {
		struct bp_task *t = &job->tasks[i];

		if (!t->in_flight || t->timed_out || now - t->submit_tsc < limit) {
			continue;
		}
		t->timed_out = true;
		job->st.io_timeout++;
		if (g_bp.abort_timeout &&
		    plx_bdev_abort(job->desc, job->ch, t, abort_done, job) != 0) {
			PLX_WARNLOG("bdev %s: cannot abort a timed-out I/O\n", job->bdev_name);
		}
	}
	return PLX_POLLER_BUSY;
}

static void reset_done(struct plx_bdev_io *bio, bool success, void *arg)
{
	struct bp_job *job = arg;

	plx_bdev_free_io(bio);
	job->reset_outstanding = false;
	if (!success) {
		PLX_ERRLOG("bdev %s: reset failed\n", job->bdev_name);
		job->st.io_failed++;
		job_fail(job);
	}
	if (job->stopping && job->active == 0) {
		job_maybe_finish(job);
	}
}

static int reset_poll(void *arg)
{
	struct bp_job *job = arg;

	if (job->reset_outstanding || job->stopping) {
		return PLX_POLLER_IDLE;
	}
	if (plx_bdev_reset(job->desc, job->ch, reset_done, job) == 0) {
		job->reset_outstanding = true;
	}
	return PLX_POLLER_BUSY;
}

static void job_start_pollers(struct bp_job *job)
{
	uint64_t run_us = (uint64_t)(g_bp.run_seconds * 1e6);

	if (g_bp.timeout_sec > 0.0) {
		uint64_t us = (uint64_t)(g_bp.timeout_sec * 1e6) / 2;

		us = PLX_MAX(PLX_MIN(us, (uint64_t)1000000), (uint64_t)1000);
		job->timeout_poller =
		    plx_poller_register_named(timeout_poll, job, us, "bdevperf_timeout");
	}
	if (g_bp.workload == BP_W_RESET) {
		/* SPDK resets every 10 s; short runs still get at least one reset. */
		uint64_t us = PLX_MIN(run_us / 2, (uint64_t)10000000);

		job->reset_poller = plx_poller_register_named(
		    reset_poll, job, PLX_MAX(us, (uint64_t)1000), "bdevperf_reset");
	}
}

static void job_start(void *arg)
{
	struct bp_job *job = arg;
	uint64_t now = plx_thread_get_last_tsc(job->thread);
	enum bp_op op;

	memset(&job->st, 0, sizeof(job->st));
	job->st.min_lat = UINT64_MAX;
	job->start_tsc = plx_get_ticks();
	job->snap_tsc = job->start_tsc;
	job->active = job->num_tasks;
	job_start_pollers(job);
	if (job->removed) {
		bp_job_stop(job);
	}
	op = g_bp.io_type == PLX_BDEV_IO_TYPE_READ    ? BP_OP_READ
	     : g_bp.io_type == PLX_BDEV_IO_TYPE_WRITE ? BP_OP_WRITE
						      : BP_OP_OTHER;
	for (uint32_t i = 0; i < job->num_tasks; i++) {
		struct bp_task *t = &job->tasks[i];

		t->op = (uint8_t)op;
		if (job->stopping) {
			task_park(job);
			continue;
		}
		task_new_io(job, t, now);
	}
}

static void job_stop_msg(void *arg)
{
	bp_job_stop(arg);
}

/* ---- app side ---- */

static int run_error(void)
{
	struct bp_job *job;

	for (job = bp_jobs_first(); job != NULL; job = job->next) {
		/* A removed bdev explains its failed I/O: report the removal. */
		if (job->removed) {
			return -ENODEV;
		}
	}
	for (job = bp_jobs_first(); job != NULL; job = job->next) {
		if (job->failed) {
			return -EIO;
		}
	}
	return 0;
}

static void job_done_msg(void *arg)
{
	struct bp_job *job = arg;

	if (job->finished) {
		return;
	}
	job->finished = true;
	if (--g_running != 0) {
		return;
	}
	plx_poller_unregister(&g_run_timer);
	bp_periodic_stop();
	g_run_cb(run_error());
}

void bp_run_stop(void)
{
	struct bp_job *job;

	plx_poller_unregister(&g_run_timer);
	for (job = bp_jobs_first(); job != NULL; job = job->next) {
		if (!job->finished) {
			plx_thread_send_msg(job->thread, job_stop_msg, job);
		}
	}
}

static int run_timer(void *arg)
{
	bp_run_stop();
	return PLX_POLLER_BUSY;
}

void bp_run(void (*cb)(int rc))
{
	struct bp_job *job;

	g_run_cb = cb;
	g_running = bp_jobs_count();
	bp_print_header();
	g_run_timer = plx_poller_register_named(run_timer, NULL, (uint64_t)(g_bp.run_seconds * 1e6),
						"bdevperf_run");
	bp_periodic_start();
	for (job = bp_jobs_first(); job != NULL; job = job->next) {
		plx_thread_send_msg(job->thread, job_start, job);
	}
}
