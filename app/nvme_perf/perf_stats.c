/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvme_perf's results, laid out as SPDK perf prints them: a row per namespace and core
 * (IOPS, MiB/s, average/min/max latency in µs), a Total row, then with -L the latency
 * percentiles and with -LL the histogram of each row. Runs on the main thread after the
 * workers were joined, so it reads their counters without synchronisation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "perf.h"

uint64_t perf_hist_bucket_start(uint32_t i)
{
	uint32_t shift;

	if (i < PERF_HIST_SUB) {
		return i;
	}
	shift = i / PERF_HIST_SUB - 1;
	return (uint64_t)(PERF_HIST_SUB + i % PERF_HIST_SUB) << shift;
}

/* The upper end of the bucket holding the value below which pct percent of I/O lie. */
uint64_t perf_hist_percentile(const struct perf_hist *h, double pct)
{
	uint64_t total = 0, seen = 0, target;

	for (uint32_t i = 0; i < PERF_HIST_BUCKETS; i++) {
		total += h->buckets[i];
	}
	if (total == 0) {
		return 0;
	}
	target = (uint64_t)((double)total * pct / 100.0 + 0.999999);
	if (target == 0) {
		target = 1;
	}
	for (uint32_t i = 0; i < PERF_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= target) {
			return i + 1 < PERF_HIST_BUCKETS ? perf_hist_bucket_start(i + 1) - 1
							 : UINT64_MAX;
		}
	}
	return UINT64_MAX;
}

static double g_us_per_tick;

static double to_us(uint64_t ticks)
{
	return (double)ticks * g_us_per_tick;
}

static void row_name(const struct perf_ns_ctx *ctx, char *buf, size_t len)
{
	snprintf(buf, len, "%s NSID %u from core %2u", ctx->ns->ctrlr->name, ctx->ns->nsid,
		 ctx->worker->core);
}

static void print_row(const char *name, int width, double iops, uint64_t ios, uint64_t ticks,
		      uint64_t min, uint64_t max)
{
	double mibs = iops * (double)g_opts.io_size / (1024.0 * 1024.0);
	double avg = ios != 0 ? to_us(ticks) / (double)ios : 0;

	printf("%-*s: %10.2f %10.2f %10.2f %10.2f %10.2f\n", width, name, iops, mibs, avg,
	       ios != 0 ? to_us(min) : 0, to_us(max));
}

static double worker_secs(const struct perf_worker *w)
{
	return to_us(w->stop_tick - w->start_tick) / 1e6;
}

/* Percentiles are bucket upper ends: never above the largest latency seen. */
static void print_percentiles(const char *name, const struct perf_hist *h, uint64_t max)
{
	static const double pcts[] = {1, 10, 25, 50, 75, 90, 95, 98, 99, 99.5, 99.9, 99.99, 99.999};

	printf("Summary latency data for %s:\n", name);
	printf(
	    "=================================================================================\n");
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		uint64_t v = perf_hist_percentile(h, pcts[i]);

		printf("%10.5f%% : %12.3fus\n", pcts[i], to_us(v < max ? v : max));
	}
	printf("\n");
}

static void print_histogram(const char *name, const struct perf_hist *h)
{
	uint64_t total = 0, seen = 0;

	for (uint32_t i = 0; i < PERF_HIST_BUCKETS; i++) {
		total += h->buckets[i];
	}
	printf("Latency histogram for %s:\n", name);
	printf("==============================================================================\n");
	printf("       Range in us     Cumulative    IO count\n");
	for (uint32_t i = 0; i < PERF_HIST_BUCKETS && total != 0; i++) {
		uint64_t lo = perf_hist_bucket_start(i);
		uint64_t hi = i + 1 < PERF_HIST_BUCKETS ? perf_hist_bucket_start(i + 1) : lo;

		if (h->buckets[i] == 0) {
			continue;
		}
		seen += h->buckets[i];
		printf("%10.3f - %10.3f: %9.4f%%  (%9" PRIu64 ")\n", to_us(lo), to_us(hi),
		       100.0 * (double)seen / (double)total, h->buckets[i]);
	}
	printf("\n");
}

/* Errors, verification and each core's cost per I/O: what the table does not show. */
static int print_footer(struct perf_worker *workers, uint32_t num_workers)
{
	uint64_t errors = 0, submit_errors = 0, verified = 0, verify_errors = 0, unchecked = 0;
	int rc = 0;

	for (uint32_t k = 0; k < num_workers; k++) {
		struct perf_worker *w = &workers[k];
		uint64_t ios = 0;
		double secs = worker_secs(w);

		for (struct perf_ns_ctx *c = w->ctxs; c != NULL; c = c->next) {
			ios += c->io_completed;
			errors += c->io_errors;
			submit_errors += c->submit_errors;
			verified += c->verified_blocks;
			verify_errors += c->verify_errors;
			unchecked += c->unchecked_blocks;
			rc |= c->failed ? 1 : 0;
		}
		rc |= w->rc != 0 ? 1 : 0;
		printf("Core %2u: initiator busy %5.1f%% of %.2f s, %.0f ns per I/O (submission "
		       "batching %s)\n",
		       w->core, secs > 0 ? 100.0 * to_us(w->busy_ticks) / (secs * 1e6) : 0, secs,
		       ios != 0 ? to_us(w->busy_ticks) * 1000.0 / (double)ios : 0,
		       g_opts.no_batch ? "off" : "on");
	}
	if (g_opts.verify) {
		printf("Verify: %" PRIu64 " blocks checked, %" PRIu64 " errors, %" PRIu64
		       " read blocks not written with this seed\n",
		       verified, verify_errors, unchecked);
	}
	if (errors != 0 || submit_errors != 0) {
		printf("Errors: %" PRIu64 " I/O failed, %" PRIu64 " submissions failed\n", errors,
		       submit_errors);
	}
	return rc != 0 || errors != 0 || verify_errors != 0;
}

int perf_print_results(struct perf_worker *workers, uint32_t num_workers, uint64_t hz)
{
	char name[sizeof(((struct perf_ctrlr *)0)->name) + 64];
	uint64_t ios = 0, ticks = 0, min = UINT64_MAX, max = 0;
	double iops_sum = 0;
	int width = (int)strlen("Device Information");

	g_us_per_tick = 1e6 / (double)hz;
	for (uint32_t k = 0; k < num_workers; k++) {
		for (struct perf_ns_ctx *c = workers[k].ctxs; c != NULL; c = c->next) {
			row_name(c, name, sizeof(name));
			if ((int)strlen(name) > width) {
				width = (int)strlen(name);
			}
		}
	}
	printf("========================================================\n");
	printf("%*s\n", width + 57, "Latency(us)");
	printf("%-*s: %10s %10s %10s %10s %10s\n", width, "Device Information", "IOPS", "MiB/s",
	       "Average", "min", "max");
	for (uint32_t k = 0; k < num_workers; k++) {
		double secs = worker_secs(&workers[k]);

		for (struct perf_ns_ctx *c = workers[k].ctxs; c != NULL; c = c->next) {
			double iops = secs > 0 ? (double)c->io_completed / secs : 0;

			row_name(c, name, sizeof(name));
			print_row(name, width, iops, c->io_completed, c->total_ticks, c->min_ticks,
				  c->max_ticks);
			ios += c->io_completed;
			ticks += c->total_ticks;
			min = c->min_ticks < min ? c->min_ticks : min;
			max = c->max_ticks > max ? c->max_ticks : max;
			iops_sum += iops;
		}
	}
	printf("========================================================\n");
	/* Rows may have run for slightly different times: Total adds their rates. */
	print_row("Total", width, iops_sum, ios, ticks, min, max);
	printf("\n");
	for (uint32_t k = 0; k < num_workers && g_opts.latency_level > 0; k++) {
		for (struct perf_ns_ctx *c = workers[k].ctxs; c != NULL; c = c->next) {
			row_name(c, name, sizeof(name));
			print_percentiles(name, c->hist, c->max_ticks);
			if (g_opts.latency_level > 1) {
				print_histogram(name, c->hist);
			}
		}
	}
	return print_footer(workers, num_workers);
}
