/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nvme bdev module: NVMe namespaces (over lib/nvme: PCIe or NVMe/TCP) as bdevs, with
 * multipath and reconnect. What the module's files share:
 *   bdev_nvme.c       module, global options, controllers (paths): attach, detach, admin
 *                     poller, reset/reconnect state machine, per-thread qpair channels
 *   bdev_nvme_bdev.c  namespaces as bdevs: merging paths, per-thread path lists, path
 *                     choice, submit/complete, retry on another path, waiting for a path
 *   bdev_nvme_rpc.c   the bdev_nvme_* JSON-RPC methods and the JSON shapes they return
 *
 * Names, as in SPDK: a "bdev controller" (struct nvme_bdev_ctrlr) is the name given to
 * bdev_nvme_attach_controller ("Nvme0"); it holds one or more controllers (struct
 * nvme_ctrlr, one per connection, i.e. per path: "-x multipath" adds another), and each
 * controller may know alternate transport IDs it fails over to ("-x failover"). Bdevs are
 * "<name>n<nsid>" and hold one struct nvme_ns per controller exposing that namespace.
 *
 * Threads: every controller, bdev controller and bdev is created, changed and destroyed on
 * the app thread (RPCs and the admin pollers run there). I/O threads own their channels: a
 * per-thread controller channel (the I/O qpair and its poller) and a per-thread bdev channel
 * (the list of I/O paths, the path cache and the I/Os waiting for a path). The app thread
 * changes what channels see only through plx_for_each_channel messages; the few fields I/O
 * threads read directly (an nvme_ns's ANA state, a controller's state and fast-I/O-fail flag)
 * are single words written with relaxed atomics, and only ever steer path choice.
 */
#ifndef BDEV_NVME_H
#define BDEV_NVME_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "pollux/bdev_module.h"
#include "pollux/nvme.h"
#include "pollux/thread.h"

#define BDEV_NVME_NAME_MAX 128

enum bdev_nvme_multipath_mode {
	BDEV_NVME_MP_FAILOVER = 0, /* same name: another transport ID for the same controller */
	BDEV_NVME_MP_MULTIPATH,	   /* same name: another controller, its namespaces merged */
	BDEV_NVME_MP_DISABLE,	   /* same name: refused */
};

enum bdev_nvme_mp_policy {
	BDEV_NVME_MP_POLICY_ACTIVE_PASSIVE = 0,
	BDEV_NVME_MP_POLICY_ACTIVE_ACTIVE,
};

enum bdev_nvme_mp_selector {
	BDEV_NVME_MP_SELECTOR_ROUND_ROBIN = 1, /* SPDK's enum values */
	BDEV_NVME_MP_SELECTOR_QUEUE_DEPTH = 2,
};

enum bdev_nvme_timeout_action {
	BDEV_NVME_TIMEOUT_ACTION_NONE = 0,
	BDEV_NVME_TIMEOUT_ACTION_RESET,
	BDEV_NVME_TIMEOUT_ACTION_ABORT,
};

/* bdev_nvme_set_options: every SPDK parameter is accepted and saved; the ones marked
 * "used" change behaviour, the others have no effect on these transports. */
struct bdev_nvme_opts {
	enum bdev_nvme_timeout_action action_on_timeout; /* used: abort/reset -> command timeout */
	uint64_t timeout_us;				 /* used */
	uint64_t timeout_admin_us;
	uint32_t keep_alive_timeout_ms; /* used */
	uint32_t arbitration_burst;
	uint32_t low_priority_weight;
	uint32_t medium_priority_weight;
	uint32_t high_priority_weight;
	uint64_t nvme_adminq_poll_period_us; /* used */
	uint64_t nvme_ioq_poll_period_us;    /* used */
	uint32_t io_queue_requests;	     /* used (0: lib default) */
	bool delay_cmd_submit;		     /* used */
	uint32_t transport_retry_count;	     /* used */
	int32_t bdev_retry_count;	     /* used: -1 infinite */
	uint8_t transport_ack_timeout;
	int32_t ctrlr_loss_timeout_sec;	   /* used: default for attach */
	uint32_t reconnect_delay_sec;	   /* used: default for attach */
	uint32_t fast_io_fail_timeout_sec; /* used: default for attach */
	bool disable_auto_failback;	   /* used */
	bool generate_uuids;		   /* used: namespaces without an id get one from SN+nsid */
	uint8_t transport_tos;
	bool nvme_error_stat;
	uint32_t rdma_srq_size;
	bool io_path_stat;
	bool allow_accel_sequence;
	uint32_t rdma_max_cq_size;
	uint16_t rdma_cm_event_timeout_ms;
	uint32_t dhchap_digests;  /* bitmask: sha256 1, sha384 2, sha512 4 */
	uint32_t dhchap_dhgroups; /* bitmask: null 1, ffdhe2048 2 ... ffdhe8192 32 */
	bool rdma_umr_per_io;
	uint32_t tcp_connect_timeout_ms;
	bool enable_flush; /* used: pass flushes on even without a volatile write cache */
	/* multipath_opts: the default policy of new bdevs */
	enum bdev_nvme_mp_policy mp_policy;
	enum bdev_nvme_mp_selector mp_selector;
	uint32_t mp_rr_min_io;
};

/* Defaults as SPDK's (see the saved config in ../shared/spdk-compat). */
void bdev_nvme_get_default_opts(struct bdev_nvme_opts *opts);
const struct bdev_nvme_opts *bdev_nvme_get_opts(void);
/* -EPERM once a controller exists (SPDK: "only before any bdev NVMe has been created");
 * -EINVAL with err for inconsistent reconnect parameters. */
int bdev_nvme_set_opts(const struct bdev_nvme_opts *opts, char *err, size_t errlen);

/* bdev_nvme_attach_controller, decoded. */
struct bdev_nvme_attach_opts {
	char name[BDEV_NVME_NAME_MAX];
	struct plx_nvme_trid trid;		/* trtype, adrfam, traddr, trsvcid, subnqn */
	char hostnqn[PLX_NVMF_NQN_MAX_LEN + 1]; /* "" : the library's default */
	char hostaddr[64];			/* accepted and saved (connect binds nothing) */
	char hostsvcid[32];
	bool hdgst;
	bool ddgst;
	enum bdev_nvme_multipath_mode multipath;
	uint32_t num_io_queues;		     /* 0: default (1024, clipped by the controller) */
	uint64_t fabrics_connect_timeout_us; /* 0: default */
	int32_t ctrlr_loss_timeout_sec;
	uint32_t reconnect_delay_sec;
	uint32_t fast_io_fail_timeout_sec;
	bool has_mp_opts; /* multipath_opts given: the new bdevs' policy */
	enum bdev_nvme_mp_policy mp_policy;
	enum bdev_nvme_mp_selector mp_selector;
	uint32_t mp_rr_min_io;
};

/* Fill opts with the global defaults (reconnect timeouts from bdev_nvme_set_options). */
void bdev_nvme_get_default_attach_opts(struct bdev_nvme_attach_opts *opts);

/* The rule SPDK documents for the three reconnect parameters: 0, or -EINVAL with err. */
int bdev_nvme_check_reconnect_params(int32_t ctrlr_loss_timeout_sec, uint32_t reconnect_delay_sec,
				     uint32_t fast_io_fail_timeout_sec, char *err, size_t errlen);

/*
 * Connect and create the bdevs; cb(cb_arg, rc, bdev_names, err) on the app thread when done
 * (later: fabrics connects run off the reactors; or before this returns). For a new name: a
 * bdev controller with one controller. For an existing name: failover mode adds trid as an
 * alternate of the first controller (-EEXIST if it already has it); multipath mode connects
 * another controller (same subnqn required: -EINVAL) and merges its namespaces; disable
 * mode: -EEXIST. On success bdev_names is a JSON array of the bdevs created (for an added
 * path: the bdevs it serves), owned by cb; on failure NULL and err says why.
 */
typedef void (*bdev_nvme_attach_cb)(void *cb_arg, int rc, json_t *bdev_names, const char *err);
void bdev_nvme_attach(const struct bdev_nvme_attach_opts *opts, bdev_nvme_attach_cb cb,
		      void *cb_arg);

/*
 * Detach bdev controller name, or only the path(s) matching filter (fields set in filter:
 * trtype != 0, non-empty traddr/trsvcid/subnqn; adrfam when filter_adrfam). Removing the
 * last path removes the bdevs. cb(cb_arg, rc) runs on the app thread when done: 0, -ENODEV
 * (no such name / no matching path). Returns 0 when started, else the errno (cb not called).
 */
struct bdev_nvme_path_filter {
	int trtype; /* 0: any */
	bool filter_adrfam;
	enum plx_nvmf_adrfam adrfam;
	char traddr[PLX_NVMF_TRADDR_MAX_LEN + 1];
	char trsvcid[33];
	char subnqn[PLX_NVMF_NQN_MAX_LEN + 1];
};
typedef void (*bdev_nvme_done_cb)(void *cb_arg, int rc);
int bdev_nvme_detach(const char *name, const struct bdev_nvme_path_filter *filter,
		     bdev_nvme_done_cb cb, void *cb_arg);

/*
 * bdev_nvme_reset_controller: reset every controller of name, or the one with cntlid (-1:
 * all). cb(cb_arg, rc) when the resets finished (rc 0: all succeeded). -ENODEV: no name or
 * no such cntlid (cb not called).
 */
int bdev_nvme_reset_rpc(const char *name, int32_t cntlid, bdev_nvme_done_cb cb, void *cb_arg);

/*
 * bdev_nvme_set_multipath_policy on bdev name (an nvme bdev): -ENODEV when it is not one;
 * -EINVAL (err) for a selector with active_passive or rr_min_io 0. cb when every channel uses
 * the new policy.
 */
int bdev_nvme_set_multipath_policy(const char *name, enum bdev_nvme_mp_policy policy,
				   enum bdev_nvme_mp_selector selector, uint32_t rr_min_io,
				   bdev_nvme_done_cb cb, void *cb_arg, char *err, size_t errlen);

/* bdev_nvme_get_controllers: the entries of name (NULL: all) appended to array; -ENODEV. */
int bdev_nvme_ctrlrs_json(const char *name, json_t *array);

/*
 * bdev_nvme_get_io_paths: visits every thread; cb(cb_arg, result) on the app thread with
 * {"poll_groups": [{"io_paths": [...]}, ...]} (result owned by cb). bdev_name NULL: all nvme
 * bdevs; -ENODEV when bdev_name is not an nvme bdev (cb not called).
 */
typedef void (*bdev_nvme_json_cb)(void *cb_arg, json_t *result);
int bdev_nvme_io_paths_json(const char *bdev_name, bdev_nvme_json_cb cb, void *cb_arg);

/* Strings of the enums (RPC input/output). NULL / -EINVAL for unknown. */
const char *bdev_nvme_mp_policy_str(enum bdev_nvme_mp_policy policy);
const char *bdev_nvme_mp_selector_str(enum bdev_nvme_mp_selector selector);
int bdev_nvme_mp_policy_from_str(const char *s, enum bdev_nvme_mp_policy *policy);
int bdev_nvme_mp_selector_from_str(const char *s, enum bdev_nvme_mp_selector *selector);
int bdev_nvme_mp_mode_from_str(const char *s, enum bdev_nvme_multipath_mode *mode);
const char *bdev_nvme_mp_mode_str(enum bdev_nvme_multipath_mode mode);

/* JSON for save_config (bdev_nvme_rpc.c): the params objects of bdev_nvme_set_options and of
 * one bdev_nvme_attach_controller entry (one per path; alternates as further failover
 * entries). */
json_t *bdev_nvme_opts_json(const struct bdev_nvme_opts *opts);
json_t *bdev_nvme_attach_opts_json(const struct bdev_nvme_attach_opts *opts);

/* The params of the bdev_nvme_set_hotplug entry of save_config: {"period_us", "enable"}. PCIe
 * hotplug is not implemented; the setting is only remembered (bdev_nvme_rpc.c). */
json_t *bdev_nvme_hotplug_json(void);

/* A trid as SPDK prints it: {"trtype","adrfam","traddr","trsvcid","subnqn"}. */
json_t *bdev_nvme_trid_json(const struct plx_nvme_trid *trid);

extern struct plx_bdev_module g_bdev_nvme_module;

#endif /* BDEV_NVME_H */
