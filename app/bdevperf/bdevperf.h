/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bdevperf: drives I/O at bdevs and reports IOPS, bandwidth and latency (SPDK's command line).
 *
 * A job is one (bdev, core) pair with its own plx_thread, descriptor, io_channel and a fixed
 * pool of tasks: nothing is allocated per I/O. Everything a job owns is touched only on its
 * thread; the app thread learns its figures by message (see stats.c).
 */
#ifndef BDEVPERF_H
#define BDEVPERF_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "pollux/bdev.h"
#include "pollux/thread.h"
#include "pollux/util.h"

#include "rand.h"

enum bp_workload {
	BP_W_READ,
	BP_W_WRITE,
	BP_W_RANDREAD,
	BP_W_RANDWRITE,
	BP_W_RW,
	BP_W_RANDRW,
	BP_W_VERIFY,
	BP_W_RESET,
	BP_W_UNMAP,
	BP_W_FLUSH,
	BP_W_WRITE_ZEROES,
};

struct bp_config {
	int queue_depth;  /* -q */
	uint64_t io_size; /* -o, bytes */
	int workload;	  /* -w, enum bp_workload; -1 when not given */
	const char *workload_name;
	int rw_read_pct; /* -M */
	bool rw_pct_given;
	double run_seconds;    /* -t */
	const char *bdev_name; /* -T */
	bool every_core;       /* -C */
	bool wait_rpc;	       /* -z */
	double stats_interval; /* -S, 0: off */
	int latency_level;     /* -l count: 1 summary, 2 histogram */
	bool continue_on_fail; /* -f */
	double zipf_theta;     /* -F, 0: uniform */
	double timeout_sec;    /* -k, 0: off */
	bool abort_timeout;    /* -X */

	/* Derived from the workload. */
	bool random;
	bool verify;
	bool mixed;
	bool needs_write;
	enum plx_bdev_io_type io_type; /* of non-mixed, non-verify workloads */
};

extern struct bp_config g_bp;

enum bp_op {
	BP_OP_READ,
	BP_OP_WRITE,
	BP_OP_OTHER, /* unmap, flush, write_zeroes: job->cfg io_type */
	BP_OP_VERIFY_WRITE,
	BP_OP_VERIFY_READ,
};

struct bp_job;

struct bp_task {
	struct bp_job *job;
	void *buf;  /* data written, or read into */
	void *rbuf; /* verify: what was read back */
	uint64_t offset_blocks;
	uint64_t submit_tsc;
	uint64_t generation; /* verify: which write this is */
	uint8_t op;	     /* enum bp_op */
	bool in_flight;
	bool timed_out;
	struct plx_bdev_io_wait_entry wait;
} __attribute__((aligned(64)));

/* Latency histogram: log-linear buckets over ticks (see stats.c). */
#define BP_HIST_SUB_BITS 5
#define BP_HIST_SUB	 (1u << BP_HIST_SUB_BITS)
#define BP_HIST_BUCKETS	 ((64 - BP_HIST_SUB_BITS + 1) * BP_HIST_SUB)

struct bp_stats {
	uint64_t io_completed;
	uint64_t io_failed;
	uint64_t io_timeout;
	uint64_t total_lat; /* ticks, over completed I/O */
	uint64_t min_lat;
	uint64_t max_lat;
};

struct bp_job {
	/* Hot: touched on every I/O. */
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct plx_thread *thread;
	struct bp_rand rng;
	uint64_t io_blocks;
	uint64_t seq_next;
	uint64_t range_start; /* blocks */
	uint64_t range_units; /* I/O units in the range */
	uint64_t range_end;   /* blocks, exclusive, a whole number of units */
	struct bp_stats st;
	uint64_t *hist; /* -l only */
	uint64_t generation;
	uint32_t active; /* tasks circulating (in flight or waiting for a bdev_io) */
	bool stopping;
	bool mixed;
	bool random;
	bool fast;	/* plain read or write without -k: io_done_fast */
	bool fast_read; /* ... and it reads */
	struct bp_zipf *zipf;
	uint64_t *busy_units; /* verify: bitmap of units with a task on them */

	/* Cold. */
	struct bp_task *tasks;
	void *buf_region;
	uint32_t num_tasks;
	struct plx_bdev *bdev;
	char *bdev_name;
	uint32_t block_size;
	uint32_t core;
	uint32_t index;
	struct plx_poller *timeout_poller;
	struct plx_poller *reset_poller;
	bool reset_outstanding;
	bool done_sent;
	bool removed;
	bool failed; /* an I/O failed, or a verify mismatch, and -f was not given */
	uint64_t start_tsc;
	uint64_t end_tsc;
	struct bp_stats cur; /* copied on the job's thread for -S */
	uint64_t cur_tsc;
	struct bp_stats snap; /* at the previous -S print (app thread) */
	uint64_t snap_tsc;
	bool finished; /* app thread: the job reported done */
	int init_rc;
	struct bp_job *next;
};

/* ---- options.c ---- */
/* Parse argv into g_bp and opts; returns the exit code to use now, or -1 to carry on. */
struct plx_app_opts;
int bp_parse_args(int argc, char **argv, struct plx_app_opts *opts);

/* ---- jobs.c (app thread) ---- */
/* Build the jobs for the bdevs present now; cb(rc) on the app thread when all are ready. */
void bp_jobs_setup(void (*cb)(int rc));
/* Release every job on its own thread (channel, descriptor, buffers, the thread itself),
 * free them, then cb() on the app thread. */
void bp_jobs_release(void (*cb)(void));
struct bp_job *bp_jobs_first(void);
uint32_t bp_jobs_count(void);

/* ---- engine.c ---- */
/* Run every job for the configured time; cb(rc) on the app thread when all have drained. */
void bp_run(void (*cb)(int rc));
/* On the job's thread: stop submitting and finish once the I/O in flight has completed. */
void bp_job_stop(struct bp_job *job);

/* ---- verify.c ---- */
/* Choose the run's seed (app thread, before any job starts). */
void bp_verify_init(void);
void bp_verify_fill(const struct bp_job *job, void *buf, uint64_t offset_blocks,
		    uint64_t generation);
/* false (and prints the first mismatch) when rbuf differs from wbuf. */
bool bp_verify_check(const struct bp_job *job, const void *wbuf, const void *rbuf,
		     uint64_t offset_blocks);

/* ---- stats.c ---- */
static inline uint32_t bp_hist_index(uint64_t ticks)
{
	uint32_t exp;

	if (ticks < BP_HIST_SUB) {
		return (uint32_t)ticks;
	}
	exp = 63u - (uint32_t)__builtin_clzll(ticks);
	return ((exp - BP_HIST_SUB_BITS + 1) << BP_HIST_SUB_BITS) |
	       (uint32_t)((ticks >> (exp - BP_HIST_SUB_BITS)) & (BP_HIST_SUB - 1));
}
void bp_print_header(void);
void bp_print_results(void);
/* -S: start printing every g_bp.stats_interval seconds on the app thread; stop. */
void bp_periodic_start(void);
void bp_periodic_stop(void);
/* The results as JSON (perform_tests answer); a new reference. */
json_t *bp_results_json(void);

/* ---- rpc.c ---- */
/* -z: wait for perform_tests. */
void bp_rpc_wait(void);

/* Stop every running job now, as when the time is up (app thread). */
void bp_run_stop(void);

/* ---- main.c ---- */
/* True once the app is shutting down: do not start anything new. */
bool bp_shutting_down(void);
/* Jobs exist (set-up started) or not any more (released); the app waits for false to shut
 * down. */
void bp_set_busy(bool busy);

#endif
