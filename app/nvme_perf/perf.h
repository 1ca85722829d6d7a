/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvme_perf: SPDK perf's command line over Pollux's NVMe host driver. nvme_perf.c parses
 * options, attaches controllers and assigns namespaces to cores; perf_worker.c is the I/O
 * loop each pinned worker thread runs; perf_stats.c keeps latency histograms and prints.
 */
#ifndef NVME_PERF_H
#define NVME_PERF_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pollux/nvme.h"

#define PROG		 "nvme_perf"
#define PERF_MAX_TRIDS	 16
#define PERF_MAX_WORKERS 128

/* ---- options ---- */

struct perf_opts {
	struct plx_nvme_trid trids[PERF_MAX_TRIDS];
	int num_trids;
	uint32_t queue_depth; /* per namespace per core (per qpair: spread over -P) */
	uint64_t io_size;
	bool random;
	int read_pct; /* 100 read, 0 write */
	uint32_t time_sec;
	char core_mask[64];
	int latency_level; /* -L count */
	bool header_digest;
	bool data_digest;
	uint32_t qpairs_per_ns; /* -P */
	uint64_t seed;
	bool verify;
	bool no_batch;
};

/* ---- latency histogram: log-linear buckets over TSC ticks ---- */

#define PERF_HIST_SUB_BITS 7 /* 128 linear buckets per power of two: < 1% error */
#define PERF_HIST_SUB	   (1u << PERF_HIST_SUB_BITS)
#define PERF_HIST_BUCKETS  ((64 - PERF_HIST_SUB_BITS + 1) * PERF_HIST_SUB)

struct perf_hist {
	uint64_t buckets[PERF_HIST_BUCKETS];
};

static inline uint32_t perf_hist_index(uint64_t ticks)
{
	uint32_t msb, shift;

	if (ticks < PERF_HIST_SUB) {
		return (uint32_t)ticks;
	}
	/* Keep the top PERF_HIST_SUB_BITS + 1 bits: the leading one picks the octave. */
	msb = 63u - (uint32_t)__builtin_clzll(ticks);
	shift = msb - PERF_HIST_SUB_BITS;
	return (shift + 1) * PERF_HIST_SUB + (uint32_t)((ticks >> shift) & (PERF_HIST_SUB - 1));
}

/* Lowest tick count that lands in bucket i (the next bucket's start bounds it). */
uint64_t perf_hist_bucket_start(uint32_t i);
/* Tick count at or below which pct percent of the recorded values lie. */
uint64_t perf_hist_percentile(const struct perf_hist *h, double pct);

/* ---- controllers, namespaces, workers ---- */

struct perf_ctrlr {
	struct plx_nvme_ctrlr *ctrlr;
	char name[PLX_NVMF_TRADDR_MAX_LEN + PLX_NVMF_NQN_MAX_LEN + 64]; /* "TCP (addr:...)" */
};

struct perf_ns {
	struct perf_ctrlr *ctrlr;
	struct plx_nvme_ns *ns;
	uint32_t nsid;
	uint32_t sector_size;
	uint64_t num_units;   /* I/O-sized units in the namespace */
	uint32_t num_workers; /* workers driving it (for -V partitioning) */
};

struct perf_worker;

/* One outstanding I/O: preallocated with its buffer, reused for every submission. */
struct perf_task {
	struct perf_ns_ctx *ctx;
	struct plx_nvme_qpair *qpair;
	void *buf;
	uint64_t submit_tick;
	uint64_t unit;	   /* current I/O's unit (LBA / sectors per I/O) */
	uint64_t seq_next; /* -V sequential: this task's next unit */
	uint64_t gid;	   /* -V: global task number, its units are gid + k * total_tasks */
	bool is_read;
};

/* What one worker drives on one namespace: its qpairs, tasks and statistics. */
struct perf_ns_ctx {
	struct perf_worker *worker;
	struct perf_ns *ns;
	struct plx_nvme_qpair **qpairs; /* -P of them */
	struct perf_task *tasks;	/* queue_depth of them, spread over the qpairs */
	uint32_t num_tasks;
	uint64_t seq_offset;  /* sequential workloads without -V */
	uint64_t total_tasks; /* -V: every task on this namespace, all workers */
	uint64_t task_base;   /* -V: gid of tasks[0] */
	uint64_t stamp;	      /* -V: the seed's mark in every written block */
	uint32_t blocks_per_io;
	uint32_t inflight;
	struct perf_task **pending; /* submissions to retry (no request object was free) */
	uint32_t num_pending;
	bool failed; /* a qpair failed: stop submitting */
	/* statistics, written by the worker only */
	uint64_t io_completed;
	uint64_t total_ticks;
	uint64_t min_ticks;
	uint64_t max_ticks;
	uint64_t io_errors;
	uint64_t submit_errors;
	uint64_t verified_blocks;
	uint64_t verify_errors;
	uint64_t unchecked_blocks; /* -V reads of blocks this seed never wrote */
	struct perf_hist *hist;	   /* -L only */
	struct perf_ns_ctx *next;
};

struct perf_worker {
	uint32_t core;
	pthread_t thread;
	struct perf_ns_ctx *ctxs;
	uint64_t rng;
	uint64_t now; /* one TSC read per polling pass */
	uint64_t start_tick;
	uint64_t end_tick;   /* stop submitting at */
	uint64_t stop_tick;  /* when it stopped (end_tick, or earlier on SIGINT) */
	bool draining;	     /* past stop_tick: completions no longer counted */
	uint64_t busy_ticks; /* polling passes that completed or sent something */
	atomic_bool finished;
	int rc;
};

extern struct perf_opts g_opts;
extern volatile int g_stop; /* SIGINT */

/* perf_worker.c */
void *perf_worker_run(void *arg);
int perf_ctx_prepare(struct perf_ns_ctx *ctx);
void perf_ctx_release(struct perf_ns_ctx *ctx);
void perf_worker_start_signal(uint64_t start_tick, uint64_t end_tick);

/* perf_stats.c */
/* Print the table (and -L data); nonzero when any I/O failed or verification found errors. */
int perf_print_results(struct perf_worker *workers, uint32_t num_workers, uint64_t hz);

#endif
