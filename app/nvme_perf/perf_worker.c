/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The I/O loop of one worker thread: pinned to its core, it owns the qpairs of every
 * namespace it drives, keeps queue_depth tasks in flight on each and polls the qpairs until
 * the run ends. Nothing here allocates or locks: tasks and their buffers were set up before
 * the run, and the TSC is read once per polling pass (completions of that pass share it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf.h"
#include "pollux/env.h"

#define DRAIN_TIMEOUT_SEC   30 /* after the run: outstanding I/O must have completed by then */
#define MAX_REPORTED_ERRORS 5  /* per namespace and core: the rest are only counted */

static atomic_bool g_go;
static uint64_t g_start_tick;
static uint64_t g_end_tick;

/* Release every worker waiting at the start line (after all were set up). */
void perf_worker_start_signal(uint64_t start_tick, uint64_t end_tick)
{
	g_start_tick = start_tick;
	g_end_tick = end_tick;
	atomic_store_explicit(&g_go, true, memory_order_release);
}

static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n) by multiply-high: a 64-bit divide per I/O would cost more than the rest. */
static inline uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(s) * n) >> 64);
}

/* ---- -V data pattern: every block says which LBA it is and which seed wrote it ---- */

static inline uint64_t pattern_word(uint64_t lba, uint64_t stamp, uint64_t i)
{
	return (lba * 0x9e3779b97f4a7c15ull) ^ (stamp + i * 0xbf58476d1ce4e5b9ull);
}

static void pattern_fill(struct perf_ns_ctx *ctx, uint64_t *words, uint64_t lba, uint32_t blocks)
{
	uint32_t per_block = ctx->ns->sector_size / 8;

	for (uint32_t b = 0; b < blocks; b++, lba++, words += per_block) {
		words[0] = lba;
		words[1] = ctx->stamp;
		for (uint32_t i = 2; i < per_block; i++) {
			words[i] = pattern_word(lba, ctx->stamp, i);
		}
	}
}

/*
 * Blocks that carry this run's stamp must be exactly the pattern of their LBA; blocks
 * without it were never written with this seed and are only counted. Tasks own disjoint
 * units (see task_next_unit), so no write can be in flight over a block being read.
 */
static void pattern_check(struct perf_ns_ctx *ctx, const uint64_t *words, uint64_t lba,
			  uint32_t blocks)
{
	uint32_t per_block = ctx->ns->sector_size / 8;

	for (uint32_t b = 0; b < blocks; b++, lba++, words += per_block) {
		uint32_t bad = UINT32_MAX;

		if (words[1] != ctx->stamp) {
			ctx->unchecked_blocks++;
			continue;
		}
		if (words[0] != lba) {
			bad = 0;
		}
		for (uint32_t i = 2; i < per_block && bad == UINT32_MAX; i++) {
			if (words[i] != pattern_word(lba, ctx->stamp, i)) {
				bad = i;
			}
		}
		if (bad == UINT32_MAX) {
			ctx->verified_blocks++;
			continue;
		}
		if (ctx->verify_errors++ < MAX_REPORTED_ERRORS) {
			fprintf(stderr,
				PROG ": verify error: NSID %u LBA %" PRIu64 " word %u: expected "
				     "0x%016" PRIx64 ", read 0x%016" PRIx64 "\n",
				ctx->ns->nsid, lba, bad,
				bad == 0 ? lba : pattern_word(lba, ctx->stamp, bad), words[bad]);
		}
	}
}

/* ---- submission and completion ---- */

static uint64_t task_next_unit(struct perf_task *t)
{
	struct perf_ns_ctx *ctx = t->ctx;
	uint64_t n = ctx->ns->num_units, count, j;

	if (!g_opts.verify) {
		if (g_opts.random) {
			return rng_below(&ctx->worker->rng, n);
		}
		j = ctx->seq_offset;
		ctx->seq_offset = j + 1 == n ? 0 : j + 1;
		return j;
	}
	/* -V: task gid owns units gid, gid + T, gid + 2T, ... (T tasks on this namespace). */
	count = (n - t->gid + ctx->total_tasks - 1) / ctx->total_tasks;
	if (g_opts.random) {
		j = rng_below(&ctx->worker->rng, count);
	} else {
		j = t->seq_next;
		t->seq_next = j + 1 == count ? 0 : j + 1;
	}
	return t->gid + j * ctx->total_tasks;
}

static void task_complete(void *arg, const struct plx_nvme_cpl *cpl);

static void task_submit(struct perf_task *t)
{
	struct perf_ns_ctx *ctx = t->ctx;
	struct perf_worker *w = ctx->worker;
	uint32_t blocks = ctx->blocks_per_io;
	uint64_t lba;
	int rc;

	t->unit = task_next_unit(t);
	lba = t->unit * blocks;
	t->is_read = g_opts.read_pct == 100 ||
		     (g_opts.read_pct != 0 && (int)rng_below(&w->rng, 100) < g_opts.read_pct);
	if (!t->is_read && g_opts.verify) {
		pattern_fill(ctx, t->buf, lba, blocks);
	}
	t->submit_tick = w->now;
	if (t->is_read) {
		rc = plx_nvme_ns_cmd_read(ctx->ns->ns, t->qpair, t->buf, lba, blocks, task_complete,
					  t, 0);
	} else {
		rc = plx_nvme_ns_cmd_write(ctx->ns->ns, t->qpair, t->buf, lba, blocks,
					   task_complete, t, 0);
	}
	if (rc == 0) {
		ctx->inflight++;
		return;
	}
	ctx->submit_errors++;
	if (rc == -ENOMEM) {
		/* No request object right now: try again on the next pass. */
		ctx->pending[ctx->num_pending++] = t;
		return;
	}
	if (!ctx->failed) {
		fprintf(stderr, PROG ": NSID %u core %u: submission failed: %s\n", ctx->ns->nsid,
			w->core, strerror(-rc));
	}
	ctx->failed = true;
}

static void task_complete(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct perf_task *t = arg;
	struct perf_ns_ctx *ctx = t->ctx;
	struct perf_worker *w = ctx->worker;
	uint64_t lat = w->now - t->submit_tick;

	ctx->inflight--;
	if (plx_nvme_cpl_is_error(cpl)) {
		if (ctx->io_errors++ < MAX_REPORTED_ERRORS) {
			fprintf(stderr,
				PROG ": NSID %u core %u: %s of LBA %" PRIu64
				     " failed: %s (sct %u sc "
				     "0x%02x)\n",
				ctx->ns->nsid, w->core, t->is_read ? "read" : "write",
				t->unit * ctx->blocks_per_io, plx_nvme_status_string(&cpl->status),
				cpl->status.sct, cpl->status.sc);
		}
	} else if (t->is_read && g_opts.verify) {
		pattern_check(ctx, t->buf, t->unit * ctx->blocks_per_io, ctx->blocks_per_io);
	}
	if (w->draining) {
		return;
	}
	ctx->io_completed++;
	ctx->total_ticks += lat;
	if (lat < ctx->min_ticks) {
		ctx->min_ticks = lat;
	}
	if (lat > ctx->max_ticks) {
		ctx->max_ticks = lat;
	}
	if (ctx->hist != NULL) {
		ctx->hist->buckets[perf_hist_index(lat)]++;
	}
	if (!ctx->failed) {
		task_submit(t);
	}
}

/* One pass over the worker's qpairs; returns completions (failed qpairs are marked). */
static int64_t worker_poll(struct perf_worker *w, uint64_t *inflight)
{
	int64_t done = 0;

	*inflight = 0;
	for (struct perf_ns_ctx *ctx = w->ctxs; ctx != NULL; ctx = ctx->next) {
		uint32_t retry = ctx->num_pending;

		ctx->num_pending = 0;
		for (uint32_t i = 0; i < retry && !w->draining && !ctx->failed; i++) {
			task_submit(ctx->pending[i]);
		}
		for (uint32_t q = 0; q < g_opts.qpairs_per_ns; q++) {
			int32_t rc = plx_nvme_qpair_process_completions(ctx->qpairs[q], 0);

			if (rc < 0) {
				if (!ctx->failed) {
					fprintf(stderr,
						PROG ": NSID %u core %u: queue pair failed (%s)\n",
						ctx->ns->nsid, w->core, strerror(-rc));
				}
				ctx->failed = true;
				/* The library completed its commands with an abort status. */
				continue;
			}
			done += rc;
		}
		*inflight += ctx->inflight;
	}
	return done;
}

/* Nothing left to drive: every namespace's qpair failed (the run ends early, and fails). */
static bool all_failed(const struct perf_worker *w)
{
	for (const struct perf_ns_ctx *ctx = w->ctxs; ctx != NULL; ctx = ctx->next) {
		if (!ctx->failed) {
			return false;
		}
	}
	return true;
}

void *perf_worker_run(void *arg)
{
	struct perf_worker *w = arg;
	uint64_t hz = plx_get_ticks_hz(), inflight, prev, drain_deadline = 0;
	int64_t done = 0;
	bool busy = false;

	if (plx_env_pin_current_thread(w->core) != 0) {
		fprintf(stderr, PROG ": cannot pin a worker to core %u\n", w->core);
	}
	while (!atomic_load_explicit(&g_go, memory_order_acquire)) {
		__builtin_ia32_pause();
	}
	w->now = plx_get_ticks();
	w->start_tick = g_start_tick;
	w->end_tick = g_end_tick;
	for (struct perf_ns_ctx *ctx = w->ctxs; ctx != NULL; ctx = ctx->next) {
		for (uint32_t i = 0; i < ctx->num_tasks && !ctx->failed; i++) {
			task_submit(&ctx->tasks[i]);
		}
	}
	busy = true; /* the first pass sends the batch just queued */
	for (;;) {
		prev = w->now;
		w->now = plx_get_ticks();
		if (busy) {
			w->busy_ticks += w->now - prev;
		}
		if (!w->draining && (w->now >= w->end_tick || g_stop || all_failed(w))) {
			w->draining = true;
			w->stop_tick = w->now;
			drain_deadline = w->now + DRAIN_TIMEOUT_SEC * hz;
		}
		done = worker_poll(w, &inflight);
		busy = done > 0 && !w->draining;
		if (w->draining && (inflight == 0 || w->now > drain_deadline)) {
			break;
		}
	}
	if (inflight != 0) {
		fprintf(stderr, PROG ": core %u: %" PRIu64 " I/O still outstanding after %d s\n",
			w->core, inflight, DRAIN_TIMEOUT_SEC);
		w->rc = -ETIMEDOUT;
	}
	atomic_store_explicit(&w->finished, true, memory_order_release);
	return NULL;
}

/* ---- set-up and tear-down (main thread, before and after the run) ---- */

static struct plx_nvme_qpair *alloc_qpair(struct perf_ns_ctx *ctx, uint32_t depth)
{
	struct plx_nvme_ctrlr *ctrlr = ctx->ns->ctrlr->ctrlr;
	struct plx_nvme_io_qpair_opts qopts;
	uint32_t max_entries = (uint32_t)plx_nvme_ctrlr_get_cap(ctrlr).bits.mqes + 1, want;

	if (max_entries < 2) {
		max_entries = 65536; /* CAP not known: let the controller's limit decide */
	}
	plx_nvme_ctrlr_get_default_io_qpair_opts(ctrlr, &qopts);
	/* One entry of an NVMe queue stays empty: depth + 1 keeps depth commands in flight. */
	want = depth + 1 < max_entries ? depth + 1 : max_entries;
	if (qopts.io_queue_size < want) {
		qopts.io_queue_size = want;
	}
	if (qopts.io_queue_requests < depth) {
		qopts.io_queue_requests = depth;
	}
	qopts.delay_cmd_submit = !g_opts.no_batch;
	return plx_nvme_ctrlr_alloc_io_qpair(ctrlr, &qopts);
}

int perf_ctx_prepare(struct perf_ns_ctx *ctx)
{
	uint32_t p = g_opts.qpairs_per_ns;

	ctx->num_tasks = g_opts.queue_depth;
	ctx->blocks_per_io = (uint32_t)(g_opts.io_size / ctx->ns->sector_size);
	ctx->min_ticks = UINT64_MAX;
	ctx->qpairs = calloc(p, sizeof(*ctx->qpairs));
	ctx->tasks = calloc(ctx->num_tasks, sizeof(*ctx->tasks));
	ctx->pending = calloc(ctx->num_tasks, sizeof(*ctx->pending));
	if (ctx->qpairs == NULL || ctx->tasks == NULL || ctx->pending == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return -ENOMEM;
	}
	if (g_opts.latency_level > 0) {
		ctx->hist = calloc(1, sizeof(*ctx->hist));
		if (ctx->hist == NULL) {
			fprintf(stderr, PROG ": out of memory\n");
			return -ENOMEM;
		}
	}
	for (uint32_t q = 0; q < p; q++) {
		/* Tasks go round-robin over the qpairs: qpair q gets every p-th task. */
		uint32_t depth = ctx->num_tasks / p + (q < ctx->num_tasks % p ? 1 : 0);

		ctx->qpairs[q] = alloc_qpair(ctx, depth);
		if (ctx->qpairs[q] == NULL) {
			fprintf(stderr,
				PROG ": %s: cannot allocate I/O queue pair %u for NSID %u (the "
				     "controller granted %u I/O queues)\n",
				ctx->ns->ctrlr->name, q, ctx->ns->nsid,
				plx_nvme_ctrlr_get_num_io_queues(ctx->ns->ctrlr->ctrlr));
			return -ENOMEM;
		}
	}
	for (uint32_t i = 0; i < ctx->num_tasks; i++) {
		struct perf_task *t = &ctx->tasks[i];

		t->ctx = ctx;
		t->qpair = ctx->qpairs[i % p];
		t->gid = ctx->task_base + i;
		t->buf = plx_dma_zmalloc(g_opts.io_size, 4096);
		if (t->buf == NULL) {
			fprintf(stderr, PROG ": cannot allocate %" PRIu64 "-byte I/O buffers\n",
				g_opts.io_size);
			return -ENOMEM;
		}
	}
	return 0;
}

void perf_ctx_release(struct perf_ns_ctx *ctx)
{
	for (uint32_t q = 0; ctx->qpairs != NULL && q < g_opts.qpairs_per_ns; q++) {
		if (ctx->qpairs[q] != NULL) {
			plx_nvme_ctrlr_free_io_qpair(ctx->qpairs[q]);
		}
	}
	for (uint32_t i = 0; ctx->tasks != NULL && i < ctx->num_tasks; i++) {
		plx_dma_free(ctx->tasks[i].buf);
	}
	free(ctx->qpairs);
	free(ctx->tasks);
	free(ctx->pending);
	free(ctx->hist);
}
