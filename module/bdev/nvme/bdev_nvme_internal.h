/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What bdev_nvme.c (controllers and their channels) and bdev_nvme_bdev.c (bdevs, paths and
 * I/O) share. Threads and ownership: see bdev_nvme.h.
 */
#ifndef BDEV_NVME_INTERNAL_H
#define BDEV_NVME_INTERNAL_H

#include <pthread.h>

#include "bdev_nvme.h"

struct nvme_bdev;
struct nvme_bdev_ctrlr;

enum nvme_ctrlr_state {
	NVME_CTRLR_ENABLED = 0, /* connected: channels have (or are getting) qpairs */
	NVME_CTRLR_RESETTING,	/* qpairs going away, then the reconnect */
	NVME_CTRLR_FAILED,	/* a reconnect failed; another one may be scheduled */
	NVME_CTRLR_DELETING,	/* going away for good */
};

/* A transport ID a controller may (re)connect to: the first is the one in use. */
struct nvme_path_id {
	struct plx_nvme_trid trid;
	TAILQ_ENTRY(nvme_path_id) link;
};

/* One namespace of one controller: a path of a bdev. */
struct nvme_ns {
	uint32_t id;
	struct nvme_ctrlr *ctrlr;
	struct plx_nvme_ns *ns; /* the library's; refreshed after every reconnect */
	struct nvme_bdev *bdev;
	int ana_state; /* enum plx_nvme_ana_state; app thread writes, I/O threads read */
	TAILQ_ENTRY(nvme_ns) link; /* bdev->nvme_ns_list */
};

/* A controller: one connection to one NVM subsystem (one path), the io_device of its
 * per-thread qpair channels. */
struct nvme_ctrlr {
	struct nvme_bdev_ctrlr *nbdev_ctrlr;
	struct plx_nvme_ctrlr *ctrlr; /* NULL while no connection exists */
	struct bdev_nvme_attach_opts opts;
	TAILQ_HEAD(, nvme_path_id) trids;
	uint16_t cntlid;
	int state; /* enum nvme_ctrlr_state; written on the app thread */
	/*
	 * Taken by state changes (app thread) and by a channel allocating its qpair (any
	 * thread), so no qpair is allocated on a controller a reset or delete is taking away.
	 * Control path only.
	 */
	pthread_mutex_t lock;
	bool fast_io_fail_timedout; /* I/O waiting for this controller gives up */
	bool reconnect_scheduled;   /* FAILED, and a reconnect is due */
	uint64_t reset_start_tsc;   /* start of the current outage; 0: none */
	uint32_t num_ns;
	struct nvme_ns **ns;		      /* by nsid - 1; NULL: not active */
	struct plx_poller *adminq_poller;     /* while enabled only */
	struct plx_poller *keep_alive_poller; /* when adminq_poller runs on its socket's fd */
	struct plx_poller *reconnect_timer;
	TAILQ_HEAD(, nvme_reset_waiter) reset_waiters;
	bool reset_again;	  /* a reset was asked for while one ran */
	bool ana_refresh_pending; /* an ANA log read is on its way */
	bool destruct_after_reset;
	uint32_t ref; /* held by in-flight channel iterations and resets */
	TAILQ_ENTRY(nvme_ctrlr) link;
};

/* The per-thread channel of a controller: its I/O qpair and poller. */
struct nvme_ctrlr_channel {
	struct nvme_ctrlr *ctrlr;
	struct plx_nvme_qpair *qpair; /* NULL while the controller is down */
	struct plx_poller *poller;
	bool poller_paused;
	bool failure_reported; /* told the app thread this qpair failed */
	bool alloc_failed;     /* no qpair could be allocated for this thread since the reset */
};

/* A named group of controllers (the attach RPC's "name"). */
struct nvme_bdev_ctrlr {
	char name[BDEV_NVME_NAME_MAX];
	uint32_t attaching; /* attaches connecting for this name right now */
	TAILQ_HEAD(, nvme_ctrlr) ctrlrs;
	TAILQ_HEAD(, nvme_bdev) bdevs;
	TAILQ_ENTRY(nvme_bdev_ctrlr) link;
};

/* A namespace as a bdev: the io_device of its per-thread path lists. */
struct nvme_bdev {
	struct plx_bdev disk;
	struct nvme_bdev_ctrlr *nbdev_ctrlr;
	uint32_t nsid;
	TAILQ_HEAD(, nvme_ns) nvme_ns_list;
	enum bdev_nvme_mp_policy mp_policy;
	enum bdev_nvme_mp_selector mp_selector;
	uint32_t rr_min_io;
	bool unregistering;
	uint16_t oncs;		 /* of the first controller: which commands exist */
	bool vwc;		 /* volatile write cache present */
	uint8_t anatt_sec;	 /* how long an inaccessible path may stay in transition */
	pthread_mutex_t ns_lock; /* nvme_ns_list: app thread writes, channel creation reads */
	TAILQ_ENTRY(nvme_bdev) link;
};

/* One bdev's path through one controller, on one thread (in its bdev channel). */
struct nvme_io_path {
	struct nvme_ns *nvme_ns;
	struct plx_io_channel *ctrlr_io_ch; /* our reference on the controller's channel */
	struct nvme_ctrlr_channel *ctrlr_ch;
	int ana_override; /* -1, or the state a path error reported until the next ANA read */
	bool removed;	  /* unlinked: freed when its last command completes */
	uint32_t outstanding;
	uint64_t num_read_ops;
	uint64_t num_write_ops;
	uint64_t bytes_read;
	uint64_t bytes_written;
	TAILQ_ENTRY(nvme_io_path) link;
};

struct nvme_bdev_io;

/* A bdev's per-thread channel: its paths, the path in use and the I/O waiting for one. */
struct nvme_bdev_channel {
	struct nvme_bdev *nbdev;
	TAILQ_HEAD(, nvme_io_path) io_paths;
	struct nvme_io_path *current; /* cached choice; NULL: choose again */
	uint32_t rr_count;	      /* I/Os sent down current (round robin) */
	enum bdev_nvme_mp_policy mp_policy;
	enum bdev_nvme_mp_selector mp_selector;
	uint32_t rr_min_io;
	TAILQ_HEAD(, nvme_bdev_io) waiting;
	struct plx_poller *retry_poller;
	struct plx_thread *thread;
	TAILQ_ENTRY(nvme_bdev_channel) link; /* g_nvme_bdev_channels (get_io_paths) */
};

/* ---- bdev_nvme.c: a count of asynchronous steps ---- */

/*
 * One answer for several asynchronous steps (deleting controllers, resetting them, removing
 * paths): cb(cb_arg, rc) runs once the last step finished, with the first error (-EALREADY,
 * a step already under way, counts as success). The count starts at one, held by the caller
 * while it starts the steps and dropped with nvme_fanout_done(f, 0), so steps that finish at
 * once cannot end it early. NULL when out of memory.
 */
struct nvme_fanout;
struct nvme_fanout *nvme_fanout_new(bdev_nvme_done_cb cb, void *cb_arg);
void nvme_fanout_add(struct nvme_fanout *f);
/* A step finished (a bdev_nvme_done_cb: pass f as the step's cb_arg). */
void nvme_fanout_done(void *f, int rc);

/*
 * Run fn(arg) on the app thread: at once when called there, else as a message (waiting for
 * room when its ring is full: only helper threads and I/O threads wait, never the app thread
 * on itself).
 */
void nvme_on_app_thread(plx_msg_fn fn, void *arg);

/* ---- bdev_nvme.c: controllers ---- */

struct nvme_bdev_ctrlr *nvme_bdev_ctrlr_get_by_name(const char *name);
extern TAILQ_HEAD(nvme_bdev_ctrlr_list, nvme_bdev_ctrlr) g_nvme_bdev_ctrlrs;

/* I/O threads read these while choosing a path. */
static inline int nvme_ctrlr_get_state(const struct nvme_ctrlr *ctrlr)
{
	return __atomic_load_n(&ctrlr->state, __ATOMIC_RELAXED);
}

/* The controller is down but may come back before I/O must fail. */
bool nvme_ctrlr_may_come_back(const struct nvme_ctrlr *ctrlr);

/* A qpair on ctrlr_ch's thread failed (process_completions gave -ENXIO). */
void nvme_ctrlr_channel_failed(struct nvme_ctrlr_channel *ctrlr_ch);

/* A path of ctrlr reported an ANA state (I/O thread): read the ANA log again. */
void nvme_ctrlr_ana_suspect(struct nvme_ctrlr *ctrlr);

/* Make sure the channel's poller runs (something was submitted). */
static inline void nvme_ctrlr_channel_kick(struct nvme_ctrlr_channel *ctrlr_ch)
{
	if (ctrlr_ch->poller_paused) {
		ctrlr_ch->poller_paused = false;
		plx_poller_resume(ctrlr_ch->poller);
	}
}

/* Free nbc when it holds nothing and no attach is connecting on its behalf. */
void nvme_bdev_ctrlr_maybe_free(struct nvme_bdev_ctrlr *nbc);

/* ---- bdev_nvme_connect.c ---- */

/*
 * Connect (app thread): reset old in place when reset_old, else (or when that fails and
 * there are other transport IDs) detach old and try trids in turn. cb(cb_arg, result, used,
 * err) runs on the app thread, later (fabrics: the work runs on a helper pthread) or before
 * this returns (PCIe). result: the controller to hold from now on (old when kept, a new one,
 * or NULL); used: the transport ID now in use (valid during cb), NULL when it failed.
 */
typedef void (*nvme_connect_cb)(void *cb_arg, struct plx_nvme_ctrlr *result,
				const struct plx_nvme_trid *used, const char *err);
void nvme_connect(const struct bdev_nvme_attach_opts *opts, struct plx_nvme_ctrlr *old,
		  bool reset_old, const struct plx_nvme_trid *trids, uint32_t num_trids,
		  nvme_connect_cb cb, void *cb_arg);

/* Reset one controller (app thread); cb(cb_arg, rc) when done. */
void nvme_ctrlr_reset(struct nvme_ctrlr *ctrlr, bdev_nvme_done_cb cb, void *cb_arg);

/* ---- bdev_nvme_bdev.c: bdevs ---- */

/* Create or extend the bdevs for every active namespace of ctrlr (app thread). Names of
 * the bdevs ctrlr serves are appended to names (may be NULL). */
int nvme_bdev_ctrlr_add_namespaces(struct nvme_ctrlr *ctrlr, json_t *names, char *err,
				   size_t errlen);

/* After a reconnect: refresh namespace pointers and ANA states; drop vanished ones. */
void nvme_ctrlr_refresh_namespaces(struct nvme_ctrlr *ctrlr);

/* ANA states may have changed (AER): reread them and let channels choose paths again. */
void nvme_ctrlr_ana_changed(struct nvme_ctrlr *ctrlr);

/*
 * Remove ctrlr's paths from its bdevs (app thread): bdevs left with no path are
 * unregistered. cb(cb_arg) when every channel stopped using the paths and those bdevs are
 * gone.
 */
void nvme_ctrlr_remove_paths(struct nvme_ctrlr *ctrlr, bdev_nvme_done_cb cb, void *cb_arg);

/* The controller's qpairs are back (or changed): channels retry waiting I/O. */
void nvme_ctrlr_paths_changed(struct nvme_ctrlr *ctrlr);

/* ---- bdev_nvme_io.c: the I/O path ---- */

int nvme_bdev_get_ctx_size(void);
void nvme_bdev_submit_request(struct plx_io_channel *ch, struct plx_bdev_io *bdev_io);
/* The channel's timed poller: resubmit waiting I/O, fail what can no longer wait. */
int nvme_bdev_channel_retry_poll(void *arg);
/* The path's effective ANA state (a path error's report wins until the next ANA read). */
enum plx_nvme_ana_state nvme_io_path_ana_state(const struct nvme_io_path *path);
/* Connected, and its ANA state allows I/O. */
bool nvme_io_path_is_usable(const struct nvme_io_path *path);
/* Fail every waiting I/O (the channel is going away). */
void nvme_bdev_channel_fail_waiting(struct nvme_bdev_channel *ch);

#endif /* BDEV_NVME_INTERNAL_H */
