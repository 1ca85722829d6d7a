/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connecting and reconnecting controllers without stalling a reactor.
 *
 * lib/nvme connects synchronously: it polls until the controller is ready or a timeout
 * passes (for fabrics, up to the connect timeout when an address does not answer). Done on
 * the app thread, one unreachable path would freeze every other controller's admin queue and
 * any I/O sharing that core, for every reconnect attempt. So fabrics connects and resets run
 * on a short-lived helper pthread, and the result comes back to the app thread as a message.
 * While it runs nobody else touches the controller: the module keeps it out of the admin
 * poller (state RESETTING or not yet published) and its I/O qpairs are freed beforehand.
 * PCIe connects stay on the app thread: they are bounded by CAP.TO and map device memory
 * through process-wide state that is simplest left to one thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_nvme_internal.h"
#include "pollux/log.h"

struct nvme_connect_job {
	struct bdev_nvme_attach_opts opts;
	struct bdev_nvme_opts gopts;
	struct plx_nvme_ctrlr *old;
	bool reset_old;
	uint32_t num_trids;
	struct plx_nvme_trid *trids;
	nvme_connect_cb cb;
	void *cb_arg;
	/* results */
	struct plx_nvme_ctrlr *result;
	int winner;
	char err[PLX_NVME_ERR_LEN];
};

static struct plx_nvme_ctrlr *nvme_connect_one(struct nvme_connect_job *job,
					       const struct plx_nvme_trid *trid)
{
	const struct bdev_nvme_opts *g = &job->gopts;
	struct plx_nvme_ctrlr_opts o;

	plx_nvme_ctrlr_get_default_opts(&o);
	o.num_io_queues = job->opts.num_io_queues != 0 ? job->opts.num_io_queues : 1024;
	if (g->io_queue_requests != 0) {
		o.io_queue_requests = g->io_queue_requests;
	}
	o.keep_alive_timeout_ms = g->keep_alive_timeout_ms;
	snprintf(o.hostnqn, sizeof(o.hostnqn), "%s", job->opts.hostnqn);
	o.header_digest = job->opts.hdgst;
	o.data_digest = job->opts.ddgst;
	if (g->action_on_timeout != BDEV_NVME_TIMEOUT_ACTION_NONE && g->timeout_us != 0) {
		o.command_timeout_ms = (uint32_t)PLX_MAX(g->timeout_us / 1000, 1);
	}
	o.transport_retry_count = g->transport_retry_count;
	/* The module resets itself: qpairs live on other threads and go first. */
	o.disable_auto_reset = true;
	return plx_nvme_connect(trid, &o, job->err);
}

/* Reset in place, else try each transport ID once (the old one last). */
static void nvme_connect_run(struct nvme_connect_job *job)
{
	uint32_t first = 0;

	job->winner = -1;
	job->result = NULL;
	if (job->old != NULL && job->reset_old) {
		if (plx_nvme_ctrlr_reset(job->old) == 0) {
			job->result = job->old;
			job->winner = 0;
			return;
		}
		snprintf(job->err, sizeof(job->err), "controller reset failed");
		if (job->num_trids == 1) {
			/* Kept: the next attempt resets the same object, its namespaces stay put.
			 */
			job->result = job->old;
			return;
		}
		first = 1;
	}
	if (job->old != NULL) {
		plx_nvme_detach(job->old);
		job->old = NULL;
	}
	for (uint32_t n = 0; n < job->num_trids; n++) {
		uint32_t i = (first + n) % job->num_trids;
		const struct plx_nvme_trid *t = &job->trids[i];

		job->result = nvme_connect_one(job, t);
		if (job->result != NULL) {
			job->winner = (int)i;
			return;
		}
		PLX_ERRLOG("%s: connect to %s %s:%s failed: %s\n", job->opts.name,
			   plx_nvme_trtype_str(t->trtype), t->traddr, t->trsvcid, job->err);
	}
}

static void nvme_connect_finish(void *arg)
{
	struct nvme_connect_job *job = arg;

	job->cb(job->cb_arg, job->result, job->winner >= 0 ? &job->trids[job->winner] : NULL,
		job->err);
	free(job->trids);
	free(job);
}

static void *nvme_connect_worker(void *arg)
{
	struct nvme_connect_job *job = arg;

	nvme_connect_run(job);
	nvme_on_app_thread(nvme_connect_finish, job);
	return NULL;
}

void nvme_connect(const struct bdev_nvme_attach_opts *opts, struct plx_nvme_ctrlr *old,
		  bool reset_old, const struct plx_nvme_trid *trids, uint32_t num_trids,
		  nvme_connect_cb cb, void *cb_arg)
{
	struct nvme_connect_job *job = calloc(1, sizeof(*job));
	pthread_attr_t attr;
	pthread_t tid;
	int rc = -1;

	if (job == NULL || (job->trids = calloc(num_trids, sizeof(*trids))) == NULL ||
	    num_trids == 0) {
		free(job != NULL ? job->trids : NULL);
		free(job);
		cb(cb_arg, old, NULL, "out of memory");
		return;
	}
	job->opts = *opts;
	job->gopts = *bdev_nvme_get_opts();
	job->old = old;
	job->reset_old = reset_old;
	job->num_trids = num_trids;
	memcpy(job->trids, trids, num_trids * sizeof(*trids));
	job->cb = cb;
	job->cb_arg = cb_arg;
	if (trids[0].trtype != PLX_NVME_TRTYPE_PCIE && pthread_attr_init(&attr) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&tid, &attr, nvme_connect_worker, job);
		pthread_attr_destroy(&attr);
	}
	if (rc != 0) {
		nvme_connect_run(job);
		nvme_connect_finish(job);
	}
}
