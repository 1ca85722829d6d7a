/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nvme bdev's I/O path: choose a path, submit, complete. Everything here runs on the
 * bdev channel's thread and touches only that thread's channel and paths; the controller
 * state and ANA states it reads are written on the app thread (single words, relaxed).
 *
 * An I/O that fails for a reason of its path (the qpair went away, ANA inaccessible or in
 * transition, a path status) goes down another path at once, or waits on the channel while
 * some path may come back (a controller resetting or due to reconnect, an ANA transition
 * within ANATT). A timed poller retries waiting I/O every millisecond and fails what can no
 * longer wait. Other errors are retried bdev_retry_count times when the status allows it.
 */
#include <errno.h>
#include <string.h>

#include "bdev_nvme_internal.h"
#include "pollux/env.h"
#include "pollux/log.h"

#define NVME_MAX_NLB	      65536u /* blocks per read/write/write zeroes command */
#define NVME_DSM_MAX_RANGES   256u
#define NVME_ANA_WAIT_DEFAULT 10 /* seconds an inaccessible path may take (ANATT 0) */

struct nvme_bdev_io {
	struct nvme_io_path *io_path; /* the path of the attempt in flight */
	int iov_idx;		      /* scatter-gather cursor */
	uint32_t iov_off;
	uint64_t wait_start; /* ticks when it began waiting for a path; 0: not waiting */
	uint32_t retries;
	uint64_t next_lba; /* write zeroes: the chunk in flight starts here */
	uint64_t remaining;
	uint32_t chunk;
	TAILQ_ENTRY(nvme_bdev_io) link; /* the channel's waiting list */
};

int nvme_bdev_get_ctx_size(void)
{
	return (int)sizeof(struct nvme_bdev_io);
}

static void nvme_bdev_io_submit(struct nvme_bdev_channel *ch, struct nvme_bdev_io *nbio);

/* The thread's clock (what its timed pollers run by), not a fresh TSC read. */
static inline uint64_t nvme_now(void)
{
	return plx_thread_get_last_tsc(plx_get_thread());
}

/* ---- paths ---- */

enum plx_nvme_ana_state nvme_io_path_ana_state(const struct nvme_io_path *path)
{
	if (path->ana_override >= 0) {
		return (enum plx_nvme_ana_state)path->ana_override;
	}
	return (enum plx_nvme_ana_state)__atomic_load_n(&path->nvme_ns->ana_state,
							__ATOMIC_RELAXED);
}

static bool nvme_io_path_connected(const struct nvme_io_path *path)
{
	const struct nvme_ctrlr_channel *cc = path->ctrlr_ch;

	return cc->qpair != NULL && !cc->failure_reported &&
	       nvme_ctrlr_get_state(cc->ctrlr) == NVME_CTRLR_ENABLED;
}

bool nvme_io_path_is_usable(const struct nvme_io_path *path)
{
	enum plx_nvme_ana_state s;

	if (!nvme_io_path_connected(path)) {
		return false;
	}
	s = nvme_io_path_ana_state(path);
	return s == PLX_NVME_ANA_OPTIMIZED_STATE || s == PLX_NVME_ANA_NON_OPTIMIZED_STATE;
}

static bool nvme_io_path_is_optimized(const struct nvme_io_path *path)
{
	return nvme_io_path_ana_state(path) == PLX_NVME_ANA_OPTIMIZED_STATE;
}

/* Active-passive: the first optimized path in attach order, else the first usable one. */
static struct nvme_io_path *nvme_choose_first(struct nvme_bdev_channel *ch)
{
	struct nvme_io_path *path, *fallback = NULL;

	TAILQ_FOREACH(path, &ch->io_paths, link)
	{
		if (!nvme_io_path_is_usable(path)) {
			continue;
		}
		if (nvme_io_path_is_optimized(path)) {
			return path;
		}
		if (fallback == NULL) {
			fallback = path;
		}
	}
	return fallback;
}

/* Round robin over the optimized paths (or, with none, the non-optimized), starting after
 * the current one. */
static struct nvme_io_path *nvme_choose_next(struct nvme_bdev_channel *ch)
{
	struct nvme_io_path *start = ch->current, *path, *fallback = NULL;

	path = start != NULL && !start->removed ? TAILQ_NEXT(start, link) : NULL;
	for (uint32_t n = 0; n < 2; n++) {
		for (path = path != NULL ? path : TAILQ_FIRST(&ch->io_paths); path != NULL;
		     path = TAILQ_NEXT(path, link)) {
			if (nvme_io_path_is_usable(path)) {
				if (nvme_io_path_is_optimized(path)) {
					return path;
				}
				if (fallback == NULL) {
					fallback = path;
				}
			}
			if (path == start) {
				return fallback;
			}
		}
	}
	return fallback;
}

/* Queue depth: the optimized (else non-optimized) path with the fewest commands queued. */
static struct nvme_io_path *nvme_choose_least_busy(struct nvme_bdev_channel *ch)
{
	struct nvme_io_path *path, *best = NULL;
	uint32_t best_qd = UINT32_MAX;
	bool best_opt = false;

	TAILQ_FOREACH(path, &ch->io_paths, link)
	{
		uint32_t qd;
		bool opt;

		if (!nvme_io_path_is_usable(path)) {
			continue;
		}
		opt = nvme_io_path_is_optimized(path);
		qd = plx_nvme_qpair_get_outstanding(path->ctrlr_ch->qpair);
		if (best == NULL || (opt && !best_opt) || (opt == best_opt && qd < best_qd)) {
			best = path;
			best_qd = qd;
			best_opt = opt;
		}
	}
	return best;
}

static struct nvme_io_path *nvme_choose_path(struct nvme_bdev_channel *ch)
{
	struct nvme_io_path *cur = ch->current;

	if (ch->mp_policy == BDEV_NVME_MP_POLICY_ACTIVE_PASSIVE) {
		if (plx_likely(cur != NULL && nvme_io_path_is_usable(cur))) {
			return cur;
		}
		ch->current = nvme_choose_first(ch);
		return ch->current;
	}
	if (ch->mp_selector == BDEV_NVME_MP_SELECTOR_QUEUE_DEPTH) {
		return nvme_choose_least_busy(ch);
	}
	if (cur != NULL && ch->rr_count < ch->rr_min_io && nvme_io_path_is_usable(cur)) {
		ch->rr_count++;
		return cur;
	}
	ch->current = nvme_choose_next(ch);
	ch->rr_count = 1;
	return ch->current;
}

/* Some path of the channel may carry I/O later (nbio waited since wait_start). */
static bool nvme_bdev_may_wait(const struct nvme_bdev_channel *ch, const struct nvme_bdev_io *nbio)
{
	const struct nvme_io_path *path;
	uint32_t anatt = ch->nbdev->anatt_sec ? ch->nbdev->anatt_sec : NVME_ANA_WAIT_DEFAULT;
	bool ana_waited_out = nbio->wait_start != 0 &&
			      nvme_now() - nbio->wait_start > (uint64_t)anatt * plx_get_ticks_hz();

	TAILQ_FOREACH(path, &ch->io_paths, link)
	{
		enum plx_nvme_ana_state s = nvme_io_path_ana_state(path);

		if (!nvme_ctrlr_may_come_back(path->nvme_ns->ctrlr) ||
		    s == PLX_NVME_ANA_PERSISTENT_LOSS_STATE ||
		    (path->ctrlr_ch->alloc_failed &&
		     nvme_ctrlr_get_state(path->ctrlr_ch->ctrlr) == NVME_CTRLR_ENABLED)) {
			continue;
		}
		if (s == PLX_NVME_ANA_INACCESSIBLE_STATE || s == PLX_NVME_ANA_CHANGE_STATE) {
			if (!ana_waited_out) {
				return true;
			}
			continue;
		}
		return true;
	}
	return false;
}

/* ---- completion ---- */

static void nvme_bdev_io_finish(struct nvme_bdev_io *nbio, enum plx_bdev_io_status status)
{
	plx_bdev_io_complete(plx_bdev_io_from_ctx(nbio), status);
}

static struct nvme_bdev_channel *nvme_bdev_io_channel(struct nvme_bdev_io *nbio)
{
	return plx_io_channel_get_ctx(plx_bdev_io_get_io_channel(plx_bdev_io_from_ctx(nbio)));
}

static void nvme_bdev_io_wait(struct nvme_bdev_channel *ch, struct nvme_bdev_io *nbio)
{
	if (!nvme_bdev_may_wait(ch, nbio)) {
		nvme_bdev_io_finish(nbio, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
	if (nbio->wait_start == 0) {
		nbio->wait_start = nvme_now();
	}
	if (TAILQ_EMPTY(&ch->waiting)) {
		plx_poller_resume(ch->retry_poller);
	}
	TAILQ_INSERT_TAIL(&ch->waiting, nbio, link);
}

int nvme_bdev_channel_retry_poll(void *arg)
{
	struct nvme_bdev_channel *ch = arg;
	TAILQ_HEAD(, nvme_bdev_io) list = TAILQ_HEAD_INITIALIZER(list);
	struct nvme_bdev_io *nbio;

	if (TAILQ_EMPTY(&ch->waiting)) {
		plx_poller_pause(ch->retry_poller);
		return PLX_POLLER_IDLE;
	}
	/* Resubmitting may queue again: work from a private list. */
	TAILQ_CONCAT(&list, &ch->waiting, link);
	while ((nbio = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, nbio, link);
		nvme_bdev_io_submit(ch, nbio);
	}
	if (TAILQ_EMPTY(&ch->waiting)) {
		plx_poller_pause(ch->retry_poller);
	}
	return PLX_POLLER_BUSY;
}

void nvme_bdev_channel_fail_waiting(struct nvme_bdev_channel *ch)
{
	struct nvme_bdev_io *nbio;

	while ((nbio = TAILQ_FIRST(&ch->waiting)) != NULL) {
		TAILQ_REMOVE(&ch->waiting, nbio, link);
		nvme_bdev_io_finish(nbio, PLX_BDEV_IO_STATUS_FAILED);
	}
}

static bool nvme_status_is_path_error(const struct plx_nvme_status *st)
{
	return st->sct == PLX_NVME_SCT_PATH ||
	       (st->sct == PLX_NVME_SCT_GENERIC && st->sc == PLX_NVME_SC_ABORTED_SQ_DELETION);
}

/* What an ANA status says of the path until the next ANA log read (-1: nothing). */
static int nvme_status_ana_state(const struct plx_nvme_status *st)
{
	if (st->sct != PLX_NVME_SCT_PATH) {
		return -1;
	}
	switch (st->sc) {
	case PLX_NVME_SC_ASYMMETRIC_ACCESS_PERSISTENT_LOSS:
		return PLX_NVME_ANA_PERSISTENT_LOSS_STATE;
	case PLX_NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE:
		return PLX_NVME_ANA_INACCESSIBLE_STATE;
	case PLX_NVME_SC_ASYMMETRIC_ACCESS_TRANSITION:
		return PLX_NVME_ANA_CHANGE_STATE;
	default:
		return -1;
	}
}

static void nvme_io_path_put(struct nvme_io_path *path)
{
	if (--path->outstanding == 0 && path->removed) {
		free(path);
	}
}

static void nvme_bdev_io_done(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct nvme_bdev_io *nbio = arg;
	struct nvme_io_path *path = nbio->io_path;
	const struct plx_nvme_status *st = &cpl->status;
	struct nvme_bdev_channel *ch;
	int ana;

	nbio->io_path = NULL;
	if (plx_likely(!plx_nvme_cpl_is_error(cpl))) {
		nvme_io_path_put(path);
		if (nbio->remaining != 0) {
			/* Advanced only now: a chunk that failed on its path is sent again. */
			nbio->next_lba += nbio->chunk;
			nbio->remaining -= nbio->chunk;
			if (nbio->remaining != 0) {
				nvme_bdev_io_submit(nvme_bdev_io_channel(nbio), nbio);
				return;
			}
		}
		nvme_bdev_io_finish(nbio, PLX_BDEV_IO_STATUS_SUCCESS);
		return;
	}
	ch = nvme_bdev_io_channel(nbio);
	if (nvme_status_is_path_error(st)) {
		ana = nvme_status_ana_state(st);
		/* Believe the status on this thread now; ask for the log once per change, so
		 * every thread learns it (and learns when it is over, AER or not). */
		if (ana >= 0 && !path->removed && path->ana_override != ana) {
			path->ana_override = ana;
			nvme_ctrlr_ana_suspect(path->nvme_ns->ctrlr);
		}
		if (ch->current == path) {
			ch->current = NULL;
		}
		nvme_io_path_put(path);
		nvme_bdev_io_submit(ch, nbio);
		return;
	}
	nvme_io_path_put(path);
	if (st->sct == PLX_NVME_SCT_MEDIA_ERROR && st->sc == PLX_NVME_SC_COMPARE_FAILURE) {
		nvme_bdev_io_finish(nbio, PLX_BDEV_IO_STATUS_MISCOMPARE);
		return;
	}
	if (!st->dnr && (bdev_nvme_get_opts()->bdev_retry_count < 0 ||
			 nbio->retries < (uint32_t)bdev_nvme_get_opts()->bdev_retry_count)) {
		nbio->retries++;
		nvme_bdev_io_submit(ch, nbio);
		return;
	}
	nvme_bdev_io_finish(nbio, PLX_BDEV_IO_STATUS_FAILED);
}

/* ---- submission ---- */

static void nvme_sgl_reset(void *arg, uint32_t offset)
{
	struct nvme_bdev_io *nbio = arg;
	struct plx_bdev_io *io = plx_bdev_io_from_ctx(nbio);
	int i = 0;

	while (i < io->u.bdev.iovcnt && offset >= io->u.bdev.iovs[i].iov_len) {
		offset -= (uint32_t)io->u.bdev.iovs[i].iov_len;
		i++;
	}
	nbio->iov_idx = i;
	nbio->iov_off = offset;
}

static int nvme_sgl_next(void *arg, void **address, uint32_t *length)
{
	struct nvme_bdev_io *nbio = arg;
	struct plx_bdev_io *io = plx_bdev_io_from_ctx(nbio);
	const struct iovec *iov;

	if (nbio->iov_idx >= io->u.bdev.iovcnt) {
		return -EINVAL;
	}
	iov = &io->u.bdev.iovs[nbio->iov_idx];
	*address = (char *)iov->iov_base + nbio->iov_off;
	*length = (uint32_t)(iov->iov_len - nbio->iov_off);
	nbio->iov_idx++;
	nbio->iov_off = 0;
	return 0;
}

static int nvme_submit_rw(struct nvme_io_path *path, struct plx_bdev_io *io,
			  struct nvme_bdev_io *nbio, bool is_write)
{
	struct plx_nvme_ns *ns = path->nvme_ns->ns;
	struct plx_nvme_qpair *qp = path->ctrlr_ch->qpair;
	uint64_t lba = io->u.bdev.offset_blocks;
	uint32_t n = (uint32_t)io->u.bdev.num_blocks;
	uint64_t bytes = io->u.bdev.num_blocks * io->bdev->blocklen;

	if (is_write) {
		path->num_write_ops++;
		path->bytes_written += bytes;
	} else {
		path->num_read_ops++;
		path->bytes_read += bytes;
	}
	if (io->u.bdev.iovcnt == 1) {
		void *buf = io->u.bdev.iovs[0].iov_base;

		return is_write
			   ? plx_nvme_ns_cmd_write(ns, qp, buf, lba, n, nvme_bdev_io_done, nbio, 0)
			   : plx_nvme_ns_cmd_read(ns, qp, buf, lba, n, nvme_bdev_io_done, nbio, 0);
	}
	return is_write ? plx_nvme_ns_cmd_writev(ns, qp, lba, n, nvme_bdev_io_done, nbio, 0,
						 nvme_sgl_reset, nvme_sgl_next)
			: plx_nvme_ns_cmd_readv(ns, qp, lba, n, nvme_bdev_io_done, nbio, 0,
						nvme_sgl_reset, nvme_sgl_next);
}

static int nvme_submit_unmap(struct nvme_io_path *path, struct plx_bdev_io *io,
			     struct nvme_bdev_io *nbio)
{
	struct plx_nvme_dsm_range ranges[NVME_DSM_MAX_RANGES];
	uint64_t lba = io->u.bdev.offset_blocks, left = io->u.bdev.num_blocks;
	uint16_t n = 0;

	while (left != 0 && n < NVME_DSM_MAX_RANGES) {
		uint32_t len = (uint32_t)PLX_MIN(left, (uint64_t)UINT32_MAX);

		ranges[n++] = (struct plx_nvme_dsm_range){.length = len, .starting_lba = lba};
		lba += len;
		left -= len;
	}
	if (left != 0) {
		return -EINVAL;
	}
	return plx_nvme_ns_cmd_dataset_management(path->nvme_ns->ns, path->ctrlr_ch->qpair,
						  PLX_NVME_DSM_ATTR_DEALLOCATE, ranges, n,
						  nvme_bdev_io_done, nbio);
}

/* Write zeroes goes in chunks of the command's limit, one after another. */
static int nvme_submit_write_zeroes(struct nvme_io_path *path, struct nvme_bdev_io *nbio)
{
	nbio->chunk = (uint32_t)PLX_MIN(nbio->remaining, (uint64_t)NVME_MAX_NLB);
	return plx_nvme_ns_cmd_write_zeroes(path->nvme_ns->ns, path->ctrlr_ch->qpair,
					    nbio->next_lba, nbio->chunk, nvme_bdev_io_done, nbio,
					    0);
}

static int nvme_submit_on(struct nvme_io_path *path, struct nvme_bdev_io *nbio)
{
	struct plx_bdev_io *io = plx_bdev_io_from_ctx(nbio);

	switch (io->type) {
	case PLX_BDEV_IO_TYPE_READ:
		return nvme_submit_rw(path, io, nbio, false);
	case PLX_BDEV_IO_TYPE_WRITE:
		return nvme_submit_rw(path, io, nbio, true);
	case PLX_BDEV_IO_TYPE_UNMAP:
		return nvme_submit_unmap(path, io, nbio);
	case PLX_BDEV_IO_TYPE_WRITE_ZEROES:
		return nvme_submit_write_zeroes(path, nbio);
	case PLX_BDEV_IO_TYPE_FLUSH:
		return plx_nvme_ns_cmd_flush(path->nvme_ns->ns, path->ctrlr_ch->qpair,
					     nvme_bdev_io_done, nbio);
	default:
		return -ENOTSUP;
	}
}

static void nvme_bdev_io_submit(struct nvme_bdev_channel *ch, struct nvme_bdev_io *nbio)
{
	struct nvme_io_path *path;
	int rc;

	/* Each turn either submits, ends, or marks a path failed: at most one turn per path. */
	for (;;) {
		path = nvme_choose_path(ch);
		if (plx_unlikely(path == NULL)) {
			nvme_bdev_io_wait(ch, nbio);
			return;
		}
		nbio->io_path = path;
		path->outstanding++;
		rc = nvme_submit_on(path, nbio);
		if (plx_likely(rc == 0)) {
			nbio->wait_start = 0;
			nvme_ctrlr_channel_kick(path->ctrlr_ch);
			return;
		}
		nbio->io_path = NULL;
		nvme_io_path_put(path);
		if (rc != -ENXIO) {
			break;
		}
		/* The qpair failed under us (its aborts are completing right now, before its
		 * poller noticed): mark it so the next choice skips it. */
		nvme_ctrlr_channel_failed(path->ctrlr_ch);
		ch->current = NULL;
	}
	/* -ENOMEM: no request object free on the qpair; the bdev layer resubmits later. */
	nvme_bdev_io_finish(nbio,
			    rc == -ENOMEM ? PLX_BDEV_IO_STATUS_NOMEM : PLX_BDEV_IO_STATUS_FAILED);
}

/* ---- bdev reset: reset every controller behind the bdev ---- */

struct nvme_bdev_reset_ctx {
	struct nvme_bdev_io *nbio;
	struct plx_thread *thread;
	int rc;
};

static void nvme_bdev_reset_complete(void *arg)
{
	struct nvme_bdev_reset_ctx *ctx = arg;

	nvme_bdev_io_finish(ctx->nbio,
			    ctx->rc == 0 ? PLX_BDEV_IO_STATUS_SUCCESS : PLX_BDEV_IO_STATUS_FAILED);
	free(ctx);
}

/* Every controller's reset finished (app thread): back to the I/O's thread. */
static void nvme_bdev_reset_all_done(void *arg, int rc)
{
	struct nvme_bdev_reset_ctx *ctx = arg;

	ctx->rc = rc;
	plx_thread_send_msg(ctx->thread, nvme_bdev_reset_complete, ctx);
}

static void nvme_bdev_reset_on_app_thread(void *arg)
{
	struct nvme_bdev_reset_ctx *ctx = arg;
	struct plx_bdev_io *io = plx_bdev_io_from_ctx(ctx->nbio);
	struct nvme_bdev *nbdev = io->bdev->ctxt;
	struct nvme_fanout *f = nvme_fanout_new(nvme_bdev_reset_all_done, ctx);
	struct nvme_ns *ns;

	if (f == NULL) {
		nvme_bdev_reset_all_done(ctx, -ENOMEM);
		return;
	}
	TAILQ_FOREACH(ns, &nbdev->nvme_ns_list, link)
	{
		nvme_fanout_add(f);
		nvme_ctrlr_reset(ns->ctrlr, nvme_fanout_done, f);
	}
	nvme_fanout_done(f, 0);
}

static void nvme_bdev_reset(struct nvme_bdev_channel *ch, struct nvme_bdev_io *nbio)
{
	struct nvme_bdev_reset_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		nvme_bdev_io_finish(nbio, PLX_BDEV_IO_STATUS_NOMEM);
		return;
	}
	ctx->nbio = nbio;
	ctx->thread = ch->thread;
	plx_thread_send_msg(plx_thread_get_app_thread(), nvme_bdev_reset_on_app_thread, ctx);
}

/* ---- entry ---- */

static void nvme_bdev_read_buf_cb(struct plx_io_channel *pch, struct plx_bdev_io *io, bool ok)
{
	if (!ok) {
		plx_bdev_io_complete(io, PLX_BDEV_IO_STATUS_FAILED);
		return;
	}
	nvme_bdev_io_submit(plx_io_channel_get_ctx(pch), (struct nvme_bdev_io *)io->driver_ctx);
}

void nvme_bdev_submit_request(struct plx_io_channel *pch, struct plx_bdev_io *io)
{
	struct nvme_bdev_channel *ch = plx_io_channel_get_ctx(pch);
	struct nvme_bdev_io *nbio = (struct nvme_bdev_io *)io->driver_ctx;
	struct nvme_bdev *nbdev = ch->nbdev;

	nbio->io_path = NULL;
	nbio->wait_start = 0;
	nbio->retries = 0;
	nbio->remaining = 0;
	switch (io->type) {
	case PLX_BDEV_IO_TYPE_READ:
		if (plx_unlikely(io->u.bdev.iovs[0].iov_base == NULL)) {
			plx_bdev_io_get_buf(io, nvme_bdev_read_buf_cb,
					    io->u.bdev.num_blocks * io->bdev->blocklen);
			return;
		}
		break;
	case PLX_BDEV_IO_TYPE_WRITE_ZEROES:
		nbio->next_lba = io->u.bdev.offset_blocks;
		nbio->remaining = io->u.bdev.num_blocks;
		break;
	case PLX_BDEV_IO_TYPE_FLUSH:
		/* Nothing to write back without a volatile cache (SPDK's enable_flush default). */
		if (!nbdev->vwc && !bdev_nvme_get_opts()->enable_flush) {
			nvme_bdev_io_finish(nbio, PLX_BDEV_IO_STATUS_SUCCESS);
			return;
		}
		break;
	case PLX_BDEV_IO_TYPE_RESET:
		nvme_bdev_reset(ch, nbio);
		return;
	default:
		break;
	}
	nvme_bdev_io_submit(ch, nbio);
}
