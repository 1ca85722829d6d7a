/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Job set-up and tear-down. The app thread decides which (bdev, core) pairs get a job and
 * creates a plx_thread for each; the job's resources (descriptor, channel, tasks, buffers) are
 * made and released on that thread, which owns them. Each phase fans out one message per job
 * and counts the answers on the app thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/env.h"
#include "pollux/event.h"
#include "pollux/log.h"

#include "bdevperf.h"

static struct bp_job *g_jobs;
static struct bp_job **g_jobs_tail = &g_jobs;
static uint32_t g_job_count;
static uint32_t g_pending;
static int g_setup_rc;
static void (*g_setup_cb)(int rc);
static void (*g_release_cb)(void);

struct bp_job *bp_jobs_first(void)
{
	return g_jobs;
}

uint32_t bp_jobs_count(void)
{
	return g_job_count;
}

/* ---- on the job's thread ---- */

static void job_event_cb(enum plx_bdev_event_type type, struct plx_bdev *bdev, void *ctx)
{
	struct bp_job *job = ctx;

	if (type != PLX_BDEV_EVENT_REMOVE) {
		return;
	}
	PLX_NOTICELOG("bdev %s is being removed: job on core %u stops\n", job->bdev_name,
		      job->core);
	job->removed = true;
	bp_job_stop(job);
}

static void fill_write_buffers(struct bp_job *job)
{
	uint8_t *p = job->buf_region;
	size_t len = (size_t)job->num_tasks * g_bp.io_size;

	/* Not zeros: a back end that skips zero pages must still move the data. */
	for (size_t i = 0; i < len; i++) {
		p[i] = (uint8_t)(i * 31 + 7);
	}
}

static int job_alloc_tasks(struct bp_job *job)
{
	size_t align = plx_bdev_get_buf_align(job->bdev);
	size_t per_task = g_bp.verify ? 2 * g_bp.io_size : g_bp.io_size;

	align = PLX_MAX(align, (size_t)64);
	if (!PLX_IS_POW2(align)) {
		align = 4096;
	}
	job->tasks = aligned_alloc(64, sizeof(struct bp_task) * job->num_tasks);
	job->buf_region = plx_dma_malloc(per_task * job->num_tasks, align);
	if (job->tasks == NULL || job->buf_region == NULL) {
		return -ENOMEM;
	}
	memset(job->tasks, 0, sizeof(struct bp_task) * job->num_tasks);
	for (uint32_t i = 0; i < job->num_tasks; i++) {
		struct bp_task *t = &job->tasks[i];

		t->job = job;
		t->buf = (char *)job->buf_region + (size_t)i * per_task;
		t->rbuf = g_bp.verify ? (char *)t->buf + g_bp.io_size : NULL;
		t->wait.bdev = job->bdev;
		t->wait.cb_arg = t;
	}
	if (!g_bp.verify) {
		fill_write_buffers(job);
	}
	return 0;
}

static int job_alloc_extras(struct bp_job *job)
{
	if (g_bp.latency_level > 0) {
		job->hist = calloc(BP_HIST_BUCKETS, sizeof(uint64_t));
		if (job->hist == NULL) {
			return -ENOMEM;
		}
	}
	if (g_bp.zipf_theta != 0.0) {
		job->zipf = bp_zipf_create(job->range_units, g_bp.zipf_theta);
		if (job->zipf == NULL) {
			return -ENOMEM;
		}
	}
	if (g_bp.verify) {
		job->busy_units = calloc((job->range_units + 63) / 64, sizeof(uint64_t));
		if (job->busy_units == NULL) {
			return -ENOMEM;
		}
	}
	return 0;
}

static void job_init_done(void *arg)
{
	struct bp_job *job = arg;

	if (job->init_rc != 0 && g_setup_rc == 0) {
		g_setup_rc = job->init_rc;
	}
	if (--g_pending == 0) {
		g_setup_cb(g_setup_rc);
	}
}

static void job_init(void *arg)
{
	struct bp_job *job = arg;
	int rc;

	rc = plx_bdev_open_ext(job->bdev_name, g_bp.needs_write, job_event_cb, job, &job->desc);
	if (rc != 0) {
		PLX_ERRLOG("cannot open bdev %s%s: %s\n", job->bdev_name,
			   g_bp.needs_write ? " for writing" : "", strerror(-rc));
		goto out;
	}
	job->ch = plx_bdev_get_io_channel(job->desc);
	if (job->ch == NULL) {
		PLX_ERRLOG("bdev %s: no I/O channel on core %u\n", job->bdev_name, job->core);
		rc = -ENOMEM;
		goto out;
	}
	rc = job_alloc_tasks(job);
	if (rc == 0) {
		rc = job_alloc_extras(job);
	}
	if (rc != 0) {
		PLX_ERRLOG("bdev %s: out of memory for %u tasks of %lu bytes\n", job->bdev_name,
			   job->num_tasks, (unsigned long)g_bp.io_size);
	}
out:
	job->init_rc = rc;
	plx_thread_send_msg(plx_thread_get_app_thread(), job_init_done, job);
}

static void job_released(void *arg)
{
	struct bp_job *job;

	(void)arg;
	if (--g_pending != 0) {
		return;
	}
	while ((job = g_jobs) != NULL) {
		g_jobs = job->next;
		free(job->bdev_name);
		free(job);
	}
	g_jobs_tail = &g_jobs;
	g_job_count = 0;
	g_release_cb();
}

static void job_release(void *arg)
{
	struct bp_job *job = arg;

	if (job->ch != NULL) {
		plx_put_io_channel(job->ch);
	}
	if (job->desc != NULL) {
		plx_bdev_close(job->desc);
	}
	plx_dma_free(job->buf_region);
	free(job->tasks);
	free(job->hist);
	free(job->busy_units);
	bp_zipf_free(job->zipf);
	plx_thread_exit(plx_get_thread());
	plx_thread_send_msg(plx_thread_get_app_thread(), job_released, job);
}

/* ---- on the app thread ---- */

void bp_jobs_release(void (*cb)(void))
{
	struct bp_job *job;

	g_release_cb = cb;
	g_pending = g_job_count;
	if (g_pending == 0) {
		g_pending = 1;
		job_released(NULL);
		return;
	}
	for (job = g_jobs; job != NULL; job = job->next) {
		if (plx_thread_send_msg(job->thread, job_release, job) != 0) {
			PLX_ERRLOG("cannot reach the thread of job %u\n", job->index);
			job_released(NULL);
		}
	}
}

/* Whether bdev can run the workload; logs why not. */
static bool bdev_fits(struct plx_bdev *bdev)
{
	const char *name = plx_bdev_get_name(bdev);
	uint32_t bs = plx_bdev_get_block_size(bdev);

	if (g_bp.io_size % bs != 0) {
		fprintf(stderr,
			"bdevperf: -o %lu is not a multiple of the block size %u of bdev %s\n",
			(unsigned long)g_bp.io_size, bs, name);
		return false;
	}
	if (g_bp.io_size / bs * (g_bp.every_core ? plx_reactor_count() : 1) >
	    plx_bdev_get_num_blocks(bdev)) {
		fprintf(stderr, "bdevperf: -o %lu is larger than bdev %s%s\n",
			(unsigned long)g_bp.io_size, name,
			g_bp.every_core ? " divided among the cores (-C)" : "");
		return false;
	}
	if (!plx_bdev_io_type_supported(bdev, g_bp.io_type) ||
	    ((g_bp.mixed || g_bp.verify) &&
	     !plx_bdev_io_type_supported(bdev, PLX_BDEV_IO_TYPE_READ)) ||
	    (g_bp.workload == BP_W_RESET &&
	     !plx_bdev_io_type_supported(bdev, PLX_BDEV_IO_TYPE_RESET))) {
		fprintf(stderr, "bdevperf: bdev %s does not support the %s workload\n", name,
			g_bp.workload_name);
		return false;
	}
	return true;
}

static struct bp_job *job_new(struct plx_bdev *bdev, uint32_t core, uint32_t part, uint32_t parts)
{
	struct bp_job *job = calloc(1, sizeof(*job));
	uint64_t bs = plx_bdev_get_block_size(bdev);
	uint64_t units;

	if (job == NULL || (job->bdev_name = strdup(plx_bdev_get_name(bdev))) == NULL) {
		free(job);
		return NULL;
	}
	job->bdev = bdev;
	job->block_size = (uint32_t)bs;
	job->core = core;
	job->io_blocks = g_bp.io_size / bs;
	/* Jobs sharing a bdev (-C) get disjoint ranges, so verify never races itself. */
	units = plx_bdev_get_num_blocks(bdev) / job->io_blocks;
	job->range_units = PLX_MAX(units / parts, (uint64_t)1);
	job->range_start = (uint64_t)part * job->range_units * job->io_blocks;
	job->range_end = job->range_start + job->range_units * job->io_blocks;
	job->num_tasks = (uint32_t)g_bp.queue_depth;
	if (g_bp.verify && job->num_tasks > job->range_units) {
		/* Two tasks may never hold the same range in verify mode. */
		job->num_tasks = (uint32_t)job->range_units;
	}
	job->random = g_bp.random;
	job->mixed = g_bp.mixed;
	job->fast =
	    !g_bp.verify && !g_bp.mixed && g_bp.timeout_sec == 0.0 &&
	    (g_bp.io_type == PLX_BDEV_IO_TYPE_READ || g_bp.io_type == PLX_BDEV_IO_TYPE_WRITE);
	job->fast_read = g_bp.io_type == PLX_BDEV_IO_TYPE_READ;
	job->seq_next = job->range_start;
	return job;
}

static int job_add(struct plx_bdev *bdev, uint32_t core, uint32_t part, uint32_t parts)
{
	struct bp_job *job = job_new(bdev, core, part, parts);
	struct plx_cpuset mask;
	char name[64];

	if (job == NULL) {
		return -ENOMEM;
	}
	job->index = g_job_count;
	bp_rand_seed(&job->rng, plx_get_ticks() + job->index * 0x9e3779b97f4a7c15ull);
	*g_jobs_tail = job;
	g_jobs_tail = &job->next;
	g_job_count++;
	plx_cpuset_zero(&mask);
	plx_cpuset_set_cpu(&mask, core, true);
	snprintf(name, sizeof(name), "bdevperf_%s_%u", job->bdev_name, core);
	job->thread = plx_thread_create(name, &mask);
	if (job->thread == NULL) {
		PLX_ERRLOG("cannot create thread %s\n", name);
		return -ENOMEM;
	}
	return 0;
}

static int add_jobs_for(struct plx_bdev *bdev, uint32_t *rr)
{
	uint32_t n = plx_reactor_count();
	int rc = 0;

	if (!g_bp.every_core) {
		return job_add(bdev, plx_reactor_core((*rr)++ % n), 0, 1);
	}
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		rc = job_add(bdev, plx_reactor_core(i), i, n);
	}
	return rc;
}

static int build_jobs(void)
{
	struct plx_bdev *bdev;
	uint32_t rr = 0;
	int rc = 0;

	if (g_bp.bdev_name != NULL) {
		bdev = plx_bdev_get_by_name(g_bp.bdev_name);
		if (bdev == NULL) {
			fprintf(stderr, "bdevperf: bdev %s not found (-T)\n", g_bp.bdev_name);
			return -ENODEV;
		}
		return bdev_fits(bdev) ? add_jobs_for(bdev, &rr) : -EINVAL;
	}
	for (bdev = plx_bdev_next(NULL); bdev != NULL && rc == 0; bdev = plx_bdev_next(bdev)) {
		if (plx_bdev_get_claim_module_name(bdev) != NULL || !bdev_fits(bdev)) {
			continue;
		}
		rc = add_jobs_for(bdev, &rr);
	}
	if (rc == 0 && g_job_count == 0) {
		fprintf(stderr,
			"bdevperf: no usable bdev to run on (create one with --json CONFIG)\n");
		rc = -ENODEV;
	}
	return rc;
}

static void setup_failed(int rc)
{
	struct bp_job *job, **pp;

	/* Jobs without a thread never had anything to release. */
	for (pp = &g_jobs; (job = *pp) != NULL;) {
		if (job->thread == NULL) {
			*pp = job->next;
			free(job->bdev_name);
			free(job);
			g_job_count--;
		} else {
			pp = &job->next;
		}
	}
	g_jobs_tail = pp;
	g_setup_cb(rc);
}

void bp_jobs_setup(void (*cb)(int rc))
{
	struct bp_job *job;
	int rc;

	g_setup_cb = cb;
	g_setup_rc = 0;
	bp_verify_init();
	rc = build_jobs();
	if (rc != 0) {
		setup_failed(rc);
		return;
	}
	g_pending = g_job_count;
	for (job = g_jobs; job != NULL; job = job->next) {
		if (plx_thread_send_msg(job->thread, job_init, job) != 0) {
			job->init_rc = -EIO;
			job_init_done(job);
		}
	}
}
