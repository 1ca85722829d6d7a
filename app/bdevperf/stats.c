/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Output, as SPDK's bdevperf prints it: a table with one row per job and a Total row;
 * latency percentiles and histograms (-l, -ll); figures every N seconds (-S); and the same
 * results as JSON for the perform_tests answer. Everything here runs on the app thread and
 * reads a job's counters only after the job handed them over by message.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pollux/env.h"
#include "pollux/event.h"
#include "pollux/log.h"

#include "bdevperf.h"

#define TABLE_RULE                                                                                 \
	"====================================================================================="    \
	"==============================="

struct figures {
	double runtime;
	double iops;
	double mibps;
	double fail_ps;
	double to_ps;
	double avg_us;
	double min_us;
	double max_us;
};

static double ticks_to_us(uint64_t ticks)
{
	return (double)ticks * 1e6 / (double)plx_get_ticks_hz();
}

static void figures_of(const struct bp_stats *st, uint64_t ticks, struct figures *f)
{
	double secs = (double)ticks / (double)plx_get_ticks_hz();

	memset(f, 0, sizeof(*f));
	f->runtime = secs;
	if (secs <= 0.0) {
		return;
	}
	f->iops = (double)st->io_completed / secs;
	f->mibps = f->iops * (double)g_bp.io_size / (1024.0 * 1024.0);
	f->fail_ps = (double)st->io_failed / secs;
	f->to_ps = (double)st->io_timeout / secs;
	if (st->io_completed > 0) {
		f->avg_us = ticks_to_us(st->total_lat) / (double)st->io_completed;
		f->min_us = ticks_to_us(st->min_lat);
		f->max_us = ticks_to_us(st->max_lat);
	}
}

static uint64_t job_ticks(const struct bp_job *job)
{
	return job->end_tsc > job->start_tsc ? job->end_tsc - job->start_tsc : 0;
}

static void print_row(const char *name, const struct figures *f, bool runtime)
{
	char rt[16] = "";

	if (runtime) {
		snprintf(rt, sizeof(rt), "%10.2f", f->runtime);
	}
	printf("%-28s: %10s %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f\n", name, rt, f->iops,
	       f->mibps, f->fail_ps, f->to_ps, f->avg_us, f->min_us, f->max_us);
}

void bp_print_header(void)
{
	printf("Running I/O for %g seconds...\n", g_bp.run_seconds);
	fflush(stdout);
}

static void print_table_head(void)
{
	printf("%*s\n", 116, "Latency(us)");
	printf("%-28s: %10s %10s %10s %10s %10s %10s %10s %10s\n", "Device Information",
	       "runtime(s)", "IOPS", "MiB/s", "Fail/s", "TO/s", "Average", "min", "max");
}

static void print_job_head(const struct bp_job *job)
{
	printf("Job: %s (Core Mask 0x%" PRIx64 ")\n", job->bdev_name, (uint64_t)1 << job->core);
	printf("\t workload: %s, depth: %u, IO size: %" PRIu64 "\n", g_bp.workload_name,
	       job->num_tasks, g_bp.io_size);
	if (g_bp.verify) {
		printf("\t Verification LBA range: start 0x%" PRIx64 " length 0x%" PRIx64 "\n",
		       job->range_start, job->range_end - job->range_start);
	}
}

/* ---- latency histogram ---- */

static void bucket_range(uint32_t idx, uint64_t *lo, uint64_t *hi)
{
	uint32_t e = idx >> BP_HIST_SUB_BITS, m = idx & (BP_HIST_SUB - 1);

	if (e == 0) {
		*lo = m;
		*hi = (uint64_t)m + 1;
		return;
	}
	*lo = (uint64_t)(BP_HIST_SUB + m) << (e - 1);
	*hi = (uint64_t)(BP_HIST_SUB + m + 1) << (e - 1);
}

/* The latency (µs, a bucket's upper bound) below which pct percent of the I/O finished. */
static double hist_percentile(const uint64_t *hist, uint64_t total, double pct)
{
	uint64_t target = (uint64_t)ceil((double)total * pct / 100.0), sum = 0, lo, hi;

	for (uint32_t i = 0; i < BP_HIST_BUCKETS; i++) {
		sum += hist[i];
		if (sum >= target && sum > 0) {
			bucket_range(i, &lo, &hi);
			return ticks_to_us(hi);
		}
	}
	return 0.0;
}

static void print_latency(const struct bp_job *job)
{
	static const double pcts[] = {1, 10, 25, 50, 75, 90, 99, 99.9, 99.99};
	uint64_t total = 0, sum = 0, lo, hi;

	for (uint32_t i = 0; i < BP_HIST_BUCKETS; i++) {
		total += job->hist[i];
	}
	printf("\nLatency summary [us] for %s on core %u: p50 %.3f, p99 %.3f, p99.9 %.3f\n",
	       job->bdev_name, job->core, hist_percentile(job->hist, total, 50),
	       hist_percentile(job->hist, total, 99), hist_percentile(job->hist, total, 99.9));
	for (size_t i = 0; i < PLX_COUNTOF(pcts); i++) {
		printf("  %9.5f%% : %12.3fus\n", pcts[i],
		       hist_percentile(job->hist, total, pcts[i]));
	}
	if (g_bp.latency_level < 2 || total == 0) {
		return;
	}
	printf("\nLatency histogram for %s on core %u\n", job->bdev_name, job->core);
	printf("%27s : %11s  %s\n", "Range in us", "Cumulative", "IO count");
	for (uint32_t i = 0; i < BP_HIST_BUCKETS; i++) {
		if (job->hist[i] == 0) {
			continue;
		}
		sum += job->hist[i];
		bucket_range(i, &lo, &hi);
		printf("%12.3f - %12.3f: %10.4f%%  (%8" PRIu64 ")\n", ticks_to_us(lo),
		       ticks_to_us(hi), (double)sum * 100.0 / (double)total, job->hist[i]);
	}
}

/* ---- final results ---- */

static void stats_add(struct bp_stats *sum, const struct bp_stats *st)
{
	sum->io_completed += st->io_completed;
	sum->io_failed += st->io_failed;
	sum->io_timeout += st->io_timeout;
	sum->total_lat += st->total_lat;
	if (st->io_completed > 0) {
		sum->min_lat = PLX_MIN(sum->min_lat, st->min_lat);
		sum->max_lat = PLX_MAX(sum->max_lat, st->max_lat);
	}
}

static void total_figures(struct figures *tot)
{
	struct bp_job *job;
	struct figures f;
	struct bp_stats sum = {.min_lat = UINT64_MAX};

	memset(tot, 0, sizeof(*tot));
	for (job = bp_jobs_first(); job != NULL; job = job->next) {
		figures_of(&job->st, job_ticks(job), &f);
		tot->iops += f.iops;
		tot->mibps += f.mibps;
		tot->fail_ps += f.fail_ps;
		tot->to_ps += f.to_ps;
		stats_add(&sum, &job->st);
	}
	if (sum.io_completed > 0) {
		tot->avg_us = ticks_to_us(sum.total_lat) / (double)sum.io_completed;
		tot->min_us = ticks_to_us(sum.min_lat);
		tot->max_us = ticks_to_us(sum.max_lat);
	}
}

void bp_print_results(void)
{
	struct bp_job *job;
	struct figures f;
	char name[64];

	printf("\n");
	print_table_head();
	for (job = bp_jobs_first(); job != NULL; job = job->next) {
		print_job_head(job);
		figures_of(&job->st, job_ticks(job), &f);
		snprintf(name, sizeof(name), "\t %s", job->bdev_name);
		print_row(name, &f, true);
	}
	printf("%s\n", TABLE_RULE);
	total_figures(&f);
	print_row("Total", &f, false);
	for (job = bp_jobs_first(); job != NULL; job = job->next) {
		if (job->hist != NULL) {
			print_latency(job);
		}
	}
	fflush(stdout);
}

json_t *bp_results_json(void)
{
	json_t *results = json_array(), *o;
	struct bp_job *job;
	struct figures f;
	char mask[32];

	for (job = bp_jobs_first(); job != NULL; job = job->next) {
		figures_of(&job->st, job_ticks(job), &f);
		snprintf(mask, sizeof(mask), "0x%" PRIx64, (uint64_t)1 << job->core);
		o = json_pack(
		    "{s:s, s:s, s:s, s:s, s:i, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
		    "s:f}",
		    "job", job->bdev_name, "core_mask", mask, "workload", g_bp.workload_name,
		    "status", job->failed ? "failed" : (job->removed ? "removed" : "finished"),
		    "queue_depth", (int)job->num_tasks, "io_size", (json_int_t)g_bp.io_size,
		    "runtime", f.runtime, "iops", f.iops, "mibps", f.mibps, "io_failed", f.fail_ps,
		    "io_timeout", f.to_ps, "avg_latency_us", f.avg_us, "min_latency_us", f.min_us,
		    "max_latency_us", f.max_us);
		json_array_append_new(results, o);
	}
	return json_pack("{s:o, s:i}", "results", results, "core_count", (int)plx_reactor_count());
}

/* ---- -S: figures every N seconds ---- */

static struct plx_poller *g_periodic;
static uint32_t g_snap_pending;
static bool g_periodic_on;

static void print_interval(void)
{
	struct bp_job *job;
	struct bp_stats d, sum = {.min_lat = UINT64_MAX};
	struct figures f, tot;
	char name[64];

	memset(&tot, 0, sizeof(tot));
	print_table_head();
	for (job = bp_jobs_first(); job != NULL; job = job->next) {
		if (job->cur_tsc == 0) {
			continue;
		}
		d = job->cur;
		d.io_completed -= job->snap.io_completed;
		d.io_failed -= job->snap.io_failed;
		d.io_timeout -= job->snap.io_timeout;
		d.total_lat -= job->snap.total_lat;
		figures_of(&d, job->cur_tsc - job->snap_tsc, &f);
		f.runtime = (double)(job->cur_tsc - job->start_tsc) / (double)plx_get_ticks_hz();
		snprintf(name, sizeof(name), "%s (core %u)", job->bdev_name, job->core);
		print_row(name, &f, true);
		tot.iops += f.iops;
		tot.mibps += f.mibps;
		tot.fail_ps += f.fail_ps;
		tot.to_ps += f.to_ps;
		stats_add(&sum, &d);
		job->snap = job->cur;
		job->snap_tsc = job->cur_tsc;
	}
	if (sum.io_completed > 0) {
		tot.avg_us = ticks_to_us(sum.total_lat) / (double)sum.io_completed;
		tot.min_us = ticks_to_us(sum.min_lat);
		tot.max_us = ticks_to_us(sum.max_lat);
	}
	print_row("Total", &tot, false);
	printf("\n");
	fflush(stdout);
}

static void snapshot_done(void *arg)
{
	if (--g_snap_pending == 0 && g_periodic_on) {
		print_interval();
	}
}

static void snapshot(void *arg)
{
	struct bp_job *job = arg;

	job->cur = job->st;
	job->cur_tsc = plx_get_ticks();
	plx_thread_send_msg(plx_thread_get_app_thread(), snapshot_done, job);
}

static int periodic_poll(void *arg)
{
	struct bp_job *job;

	if (g_snap_pending != 0) {
		return PLX_POLLER_IDLE;
	}
	for (job = bp_jobs_first(); job != NULL; job = job->next) {
		if (!job->finished && plx_thread_send_msg(job->thread, snapshot, job) == 0) {
			g_snap_pending++;
		}
	}
	return PLX_POLLER_BUSY;
}

void bp_periodic_start(void)
{
	if (g_bp.stats_interval <= 0.0) {
		return;
	}
	g_periodic_on = true;
	g_periodic = plx_poller_register_named(
	    periodic_poll, NULL, (uint64_t)(g_bp.stats_interval * 1e6), "bdevperf_stats");
}

void bp_periodic_stop(void)
{
	g_periodic_on = false;
	plx_poller_unregister(&g_periodic);
}
