/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe-oF target's internal structures and the contracts between its parts:
 *
 *   tgt.c, subsystem.c, ns.c, listener.c  the configuration (app thread): subsystems, namespaces,
 *                                         hosts, listeners, ANA states, referrals
 *   poll_group.c                          one poll group per core: connections and bdev channels
 *   ctrlr.c                               controllers: Connect, properties, keep alive, AER,
 * teardown ctrlr_admin.c, ctrlr_log.c            admin commands: Identify, Get Log Page, features,
 * abort ctrlr_io.c                            NVM commands on bdevs (read, write, flush, ...)
 *   reservation.c                         reservation register/acquire/release/report and checks
 *   discovery.c                           the discovery log page
 *   tcp*.c                                the TCP transport (behind struct nvmf_transport_ops)
 *   nvmf_rpc*.c, nvmf_subsystem_event.c   JSON-RPC methods and the "nvmf" event subsystem
 *
 * Threads and ownership (the rule that keeps the I/O path free of locks):
 * - The app thread owns the target, every subsystem's configuration (namespace table, hosts,
 *   listeners, ANA states, reservation state of record) and the controller list of each
 *   subsystem. Only it changes them.
 * - A poll group (one plx_thread per core) owns its qpairs, their requests, its transport poll
 *   groups and, per subsystem, a copy of what the I/O path needs: bdev channels per namespace
 *   and a reservation snapshot (struct nvmf_pg_ns). The app thread changes those copies only
 *   through nvmf_tgt_for_each_poll_group() messages, so the I/O path reads poll-group-local
 *   memory plus namespace fields that never change while the namespace is attached.
 * - A controller lives on the thread of its admin qpair (ctrlr->thread). Its I/O qpairs may be
 *   on other poll groups; they read ctrlr fields that are fixed after Connect (cntlid, hostid,
 *   subsys, listener) and the few that change through atomics (ctrlr->state).
 * - Messages between two threads arrive in the order they were sent. Teardown relies on it:
 *   a qpair leaving its controller sends "remove" to ctrlr->thread and frees itself only after
 *   the acknowledgement, so any earlier message from the controller to the qpair has run.
 */
#ifndef POLLUX_NVMF_INTERNAL_H
#define POLLUX_NVMF_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <jansson.h>

#include "pollux/bdev.h"
#include "pollux/nvme_spec.h"
#include "pollux/nvmf.h"
#include "pollux/thread.h"
#include "pollux/util.h"

struct nvmf_tgt;
struct nvmf_transport;
struct nvmf_transport_poll_group;
struct nvmf_poll_group;
struct nvmf_subsystem;
struct nvmf_ctrlr;
struct nvmf_qpair;
struct nvmf_request;
struct nvmf_ns;

/* ---- limits and defaults ---- */

#define NVMF_TGT_NAME			 "nvmf_tgt"
#define NVMF_DEFAULT_MAX_SUBSYSTEMS	 1024
#define NVMF_DEFAULT_MAX_NAMESPACES	 32
#define NVMF_MAX_NAMESPACES_LIMIT	 4096 /* largest max_namespaces accepted */
#define NVMF_MIN_CNTLID			 1
#define NVMF_MAX_CNTLID			 0xffef
#define NVMF_DEFAULT_SN			 "Pollux00000000000001"
#define NVMF_DEFAULT_MN			 "Pollux_Controller1"
#define NVMF_FIRMWARE_REV		 "0.1.0"
#define NVMF_VERSION			 PLX_NVME_VERSION(1, 4, 0)
#define NVMF_MAX_ASYNC_EVENTS		 4 /* AER slots per controller (aerl + 1) */
#define NVMF_ABORT_COMMAND_LIMIT	 3 /* acl, 0's based */
#define NVMF_ERROR_LOG_ENTRIES		 16
#define NVMF_MAX_RESERVATION_REGISTRANTS 32
#define NVMF_REQ_MAX_IOVS		 32 /* data buffers one request may carry */
#define NVMF_CAP_TO_500MS		 30 /* CAP.TO: 15 s to become ready */
#define NVMF_ANATT_SEC			 10

/* Transport defaults (SPDK's TCP defaults, for nvmf_create_transport without options). */
#define NVMF_TCP_DEFAULT_MAX_QUEUE_DEPTH      128
#define NVMF_TCP_DEFAULT_MAX_IO_QPAIRS	      127
#define NVMF_TCP_DEFAULT_IN_CAPSULE_DATA_SIZE 4096
#define NVMF_TCP_DEFAULT_MAX_IO_SIZE	      131072
#define NVMF_TCP_DEFAULT_IO_UNIT_SIZE	      131072
#define NVMF_TCP_DEFAULT_AQ_DEPTH	      128
#define NVMF_TCP_ADMIN_ICD_SIZE		      8192 /* in-capsule data on the admin queue (NVMe/TCP) */

/* ---- transport ---- */

struct nvmf_transport_opts {
	uint16_t max_queue_depth;
	uint16_t max_qpairs_per_ctrlr; /* max_io_qpairs_per_ctrlr + 1 (the admin queue) */
	uint32_t in_capsule_data_size;
	uint32_t max_io_size;
	uint32_t io_unit_size;
	uint32_t max_aq_depth;
	uint32_t num_shared_buffers;
	uint32_t buf_cache_size;
	uint32_t iobuf_small_cache_size;
	uint32_t iobuf_large_cache_size;
	bool dif_insert_or_strip;
	bool zcopy;
	uint32_t abort_timeout_sec;
	uint32_t acceptor_poll_rate; /* µs */
	uint32_t ack_timeout;	     /* ms */
	uint32_t data_wr_pool_size;
	bool disable_command_passthru;
	uint16_t kas;	   /* keep alive granularity, 100 ms units */
	uint32_t min_kato; /* ms */
	/* TCP */
	bool c2h_success;
	uint32_t sock_priority;
	uint16_t control_msg_num;
};

/*
 * A transport. Every op runs on the thread named in its comment. The transport allocates its
 * own structures with the core's structure embedded (struct nvmf_transport first in its
 * transport, struct nvmf_qpair in its qpair, struct nvmf_request in its request) and gets
 * back to its own with container_of-style casts.
 */
struct nvmf_transport_ops {
	const char *name;	     /* "TCP" */
	enum plx_nvmf_trtype trtype; /* PLX_NVMF_TRTYPE_TCP */

	/* Defaults for nvmf_create_transport (any thread). */
	void (*opts_init)(struct nvmf_transport_opts *opts);

	/*
	 * App thread. Create the transport with validated opts (the core copies opts into
	 * transport->opts after create returns). NULL with err filled on bad options.
	 */
	struct nvmf_transport *(*create)(const struct nvmf_transport_opts *opts, char *err);

	/* App thread. Every listener is gone and every poll group destroyed before this. */
	void (*destroy)(struct nvmf_transport *transport);

	/*
	 * App thread. Start listening on trid (several subsystems may share one listener: the
	 * core calls listen once per distinct address and counts references). New connections
	 * are accepted on the app thread (the transport's acceptor poller) and handed to
	 * nvmf_tgt_new_qpair().
	 */
	int (*listen)(struct nvmf_transport *transport, const struct plx_nvme_trid *trid,
		      char *err);
	void (*stop_listen)(struct nvmf_transport *transport, const struct plx_nvme_trid *trid);

	/* Fill the transport-specific parts of a discovery log entry (treq, tsas). */
	void (*listener_discover)(struct nvmf_transport *transport,
				  const struct plx_nvme_trid *trid,
				  struct plx_nvmf_discovery_log_page_entry *entry);

	/* Poll group thread: per-core state (socket group, buffer caches). */
	struct nvmf_transport_poll_group *(*poll_group_create)(struct nvmf_transport *transport,
							       struct nvmf_poll_group *group);
	void (*poll_group_destroy)(struct nvmf_transport_poll_group *tgroup);

	/* Poll group thread: take ownership of a new qpair (its socket joins the group). */
	int (*poll_group_add)(struct nvmf_transport_poll_group *tgroup, struct nvmf_qpair *qpair);

	/* Poll group thread: one poll; PLX_POLLER_BUSY when it did work. */
	int (*poll_group_poll)(struct nvmf_transport_poll_group *tgroup);

	/*
	 * An fd that wakes the poll group when a connection needs attention (interrupt mode),
	 * or -1.
	 */
	int (*poll_group_get_fd)(struct nvmf_transport_poll_group *tgroup);

	/*
	 * Poll group thread: the core finished req (req->rsp filled; read data in req->iov).
	 * The transport sends data and response, then calls nvmf_request_free(req)... no: the
	 * transport owns the request from here on and releases it itself (buffers back to its
	 * caches, the request back to its qpair's free list).
	 */
	int (*req_complete)(struct nvmf_request *req);

	/*
	 * Poll group thread: stop the connection (close the socket, fail requests still waiting
	 * for data). Requests the core is executing complete normally through req_complete (the
	 * transport discards their responses). Once the transport holds no request the core is
	 * executing, it calls nvmf_qpair_transport_closed(qpair); after that the core calls
	 * qpair_free when it is done with the qpair.
	 */
	void (*qpair_disconnect)(struct nvmf_qpair *qpair);
	void (*qpair_free)(struct nvmf_qpair *qpair);

	/* Addresses of a connection (poll group thread). 0 or -errno. */
	int (*qpair_get_peer_trid)(struct nvmf_qpair *qpair, struct plx_nvme_trid *trid);
	int (*qpair_get_local_trid)(struct nvmf_qpair *qpair, struct plx_nvme_trid *trid);
	int (*qpair_get_listen_trid)(struct nvmf_qpair *qpair, struct plx_nvme_trid *trid);

	/*
	 * Poll group thread: Abort for a command the transport still holds (waiting for a
	 * buffer or for H2C data): complete it with ABORTED_BY_REQUEST and return true; false
	 * when the transport does not hold it (the core then looks at its own requests).
	 */
	bool (*qpair_abort_request)(struct nvmf_qpair *qpair, uint16_t cid);

	/* App thread: add transport-specific parameters (c2h_success, sock_priority, ...) to the
	 * nvmf_create_transport / nvmf_get_transports object. */
	void (*dump_opts)(struct nvmf_transport *transport, json_t *params);

	/* Poll group thread: add transport statistics to the nvmf_get_stats object. */
	void (*poll_group_dump_stat)(struct nvmf_transport_poll_group *tgroup, json_t *obj);
};

struct nvmf_transport {
	const struct nvmf_transport_ops *ops;
	struct nvmf_transport_opts opts;
	struct nvmf_tgt *tgt;
	TAILQ_ENTRY(nvmf_transport) link;
};

/* Transport poll groups: the transport embeds this first in its own. */
struct nvmf_transport_poll_group {
	struct nvmf_transport *transport;
	struct nvmf_poll_group *group;
	TAILQ_ENTRY(nvmf_transport_poll_group) link;
};

/* Registration (constructor), as bdev modules do. */
void nvmf_transport_register(const struct nvmf_transport_ops *ops);
#define NVMF_TRANSPORT_REGISTER(name, ops)                                                         \
	__attribute__((constructor)) static void nvmf_transport_register_##name(void)              \
	{                                                                                          \
		nvmf_transport_register(ops);                                                      \
	}
const struct nvmf_transport_ops *nvmf_transport_find_ops(const char *name);

/* ---- requests ---- */

/*
 * One command and its response. The transport embeds it in its request and fills it before
 * nvmf_request_exec():
 * - cmd points at the 64-byte SQE; rsp at a zeroed CQE the transport will send.
 * - For any command that moves data (both directions, admin and I/O, including Read: the
 *   transport supplies the buffers the bdev reads into), iov/iovcnt describe length bytes of
 *   buffer, and for host-to-controller commands they hold the data. data points at iov[0]
 *   (admin and fabrics commands need one contiguous buffer: the transport gives them one
 *   iovec of length bytes).
 * - length is the transfer length the SGL asked for (0 when none).
 * The core fills rsp (cid, sqid, sqhd are filled by nvmf_request_complete) and calls
 * transport->ops->req_complete exactly once.
 */
struct nvmf_request {
	struct nvmf_qpair *qpair;
	struct plx_nvme_cmd *cmd;
	struct plx_nvme_cpl *rsp;
	void *data;
	uint32_t length;
	enum plx_nvme_data_transfer xfer;
	int iovcnt;
	struct iovec iov[NVMF_REQ_MAX_IOVS];

	/* Owned by the core while it executes the request. */
	struct nvmf_request *first_fused; /* on the second half of a fused pair */
	struct nvmf_pg_ns *pg_ns;	  /* namespace being accessed, for drain accounting */
	struct plx_bdev_io_wait_entry bdev_io_wait;
	uint64_t submit_tsc;
	bool aborted;
	TAILQ_ENTRY(nvmf_request) link;		/* qpair->outstanding */
	TAILQ_ENTRY(nvmf_request) pending_link; /* pg_ns->pending, while the namespace is paused */
};

/* Run req (poll group thread of req->qpair). Completes, now or later, via req_complete. */
void nvmf_request_exec(struct nvmf_request *req);

/* Fill cid/sqid/sqhd, advance the qpair's sq_head and hand req to the transport. */
void nvmf_request_complete(struct nvmf_request *req);

/* Set the status of req->rsp. */
static inline void nvmf_request_set_status(struct nvmf_request *req, uint8_t sct, uint8_t sc)
{
	req->rsp->status.sct = sct;
	req->rsp->status.sc = sc;
	req->rsp->status.dnr = sct != PLX_NVME_SCT_PATH && sc != PLX_NVME_SC_SUCCESS;
}

/* Copy len bytes from buf into the request's data iovecs (reads, log pages); returns copied. */
size_t nvmf_request_copy_to_iov(struct nvmf_request *req, const void *buf, size_t len,
				size_t offset);
size_t nvmf_request_copy_from_iov(struct nvmf_request *req, void *buf, size_t len);

/* ---- qpairs ---- */

enum nvmf_qpair_state {
	NVMF_QPAIR_UNINITIALIZED = 0, /* accepted; waiting for Connect */
	NVMF_QPAIR_CONNECTING,	      /* Connect being processed */
	NVMF_QPAIR_ENABLED,	      /* connected to a controller */
	NVMF_QPAIR_DEACTIVATING,      /* disconnect started */
	NVMF_QPAIR_ERROR,
};

/* I/O counters for the SMART log: written by the qpair's thread, read by its controller's. */
struct nvmf_io_stat {
	uint64_t read_cmds;
	uint64_t write_cmds;
	uint64_t bytes_read;
	uint64_t bytes_written;
};

struct nvmf_qpair {
	struct nvmf_transport *transport;
	struct nvmf_poll_group *group;
	struct nvmf_ctrlr *ctrlr; /* set when Connect succeeded */
	enum nvmf_qpair_state state;
	uint16_t qid;
	uint16_t sq_head;
	uint16_t sq_size; /* entries (Connect SQSIZE + 1) */
	bool sq_flow_control_disabled;
	bool transport_closed;
	uint32_t outstanding_count;
	TAILQ_HEAD(, nvmf_request) outstanding; /* executing in the core */
	TAILQ_ENTRY(nvmf_qpair) link;		/* group->qpairs */
	TAILQ_ENTRY(nvmf_qpair) ctrlr_link;	/* ctrlr->qpairs (ctrlr thread) */
	struct plx_nvme_trid listen_trid;	/* which listener accepted it */
	uint64_t id;				/* unique, for nvmf_subsystem_get_qpairs */
	struct nvmf_io_stat io_stat;		/* relaxed atomics, see nvmf_io_stat */
};

/*
 * App thread: a transport accepted a connection. The core assigns it to a poll group (round
 * robin) and moves it there; transport->ops->poll_group_add runs on that group's thread.
 */
void nvmf_tgt_new_qpair(struct nvmf_tgt *tgt, struct nvmf_qpair *qpair);

/*
 * Poll group thread: begin tearing down qpair (socket closed by the peer, protocol error,
 * controller reset, keep-alive timeout). Idempotent. The core asks the transport to close,
 * waits for executing requests, leaves the controller, then frees the qpair.
 */
void nvmf_qpair_disconnect(struct nvmf_qpair *qpair);

/* Poll group thread: the transport has closed and returned every request (see ops). */
void nvmf_qpair_transport_closed(struct nvmf_qpair *qpair);

/* True when the qpair may take commands: Connect first, then everything once enabled. */
static inline bool nvmf_qpair_is_active(const struct nvmf_qpair *qpair)
{
	return qpair->state == NVMF_QPAIR_ENABLED;
}

/* ---- namespaces ---- */

struct nvmf_reservation_registrant {
	uint8_t hostid[16];
	uint64_t rkey;
	TAILQ_ENTRY(nvmf_reservation_registrant) link;
};

/* Reservation state of record of one namespace (app thread). */
struct nvmf_reservation {
	uint32_t generation;
	enum plx_nvme_reservation_type rtype;	    /* NONE when not reserved */
	struct nvmf_reservation_registrant *holder; /* NULL: none (or all-registrants types) */
	uint64_t crkey;				    /* the holder's key */
	bool ptpl_activated;
	uint32_t num_registrants;
	TAILQ_HEAD(, nvmf_reservation_registrant) registrants;
};

struct nvmf_ns {
	struct nvmf_subsystem *subsystem;
	uint32_t nsid;
	uint32_t anagrpid;
	struct plx_bdev *bdev;
	struct plx_bdev_desc *desc; /* opened on the app thread, write access */
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct plx_uuid uuid;
	bool nguid_set, eui64_set, uuid_set; /* given by the user (saved in the config) */
	bool no_auto_visible;
	char ptpl_file[256];
	struct nvmf_reservation resv;
};

/*
 * The I/O path's view of a namespace, per poll group per subsystem. Changed only by messages
 * from the app thread (nvmf_tgt_for_each_poll_group).
 */
enum nvmf_pg_ns_state {
	NVMF_PG_NS_INACTIVE = 0, /* no namespace with this id: Invalid Namespace */
	NVMF_PG_NS_ACTIVE,
	NVMF_PG_NS_PAUSED, /* being removed or updated: new commands wait in pending */
};

struct nvmf_pg_ns {
	enum nvmf_pg_ns_state state;
	struct nvmf_ns *ns;
	struct plx_io_channel *ch;
	uint64_t io_outstanding;
	TAILQ_HEAD(, nvmf_request) pending; /* arrived while paused (req->pending_link) */
	/* Reservation snapshot for the conflict check of every command. */
	enum plx_nvme_reservation_type rtype;
	uint8_t holder_hostid[16];
	bool has_holder;
	uint32_t num_registrants;
	uint8_t reg_hostid[NVMF_MAX_RESERVATION_REGISTRANTS][16];
};

struct nvmf_pg_subsystem {
	uint32_t num_ns; /* entries in ns_info (the subsystem's max_namespaces) */
	struct nvmf_pg_ns *ns_info;
	uint64_t mgmt_io_outstanding; /* admin commands using the subsystem */
};

/*
 * Namespace lookup on a poll group thread (admin and I/O paths): the group's view, never the
 * app thread's table. NULL when nsid is 0 or beyond the subsystem's max_namespaces.
 */
static inline struct nvmf_pg_ns *nvmf_pg_get_ns(struct nvmf_pg_subsystem *sgroup, uint32_t nsid)
{
	return nsid == 0 || nsid > sgroup->num_ns ? NULL : &sgroup->ns_info[nsid - 1];
}

/* ---- poll groups ---- */

struct nvmf_poll_group_stat {
	uint64_t admin_qpairs;
	uint64_t io_qpairs;
	uint64_t current_admin_qpairs;
	uint64_t current_io_qpairs;
	uint64_t pending_bdev_io;
	uint64_t completed_nvme_io;
};

struct nvmf_poll_group {
	struct nvmf_tgt *tgt;
	struct plx_thread *thread;
	struct plx_poller *poller;
	char name[64];
	uint32_t index;
	TAILQ_HEAD(, nvmf_transport_poll_group) tgroups;
	TAILQ_HEAD(, nvmf_qpair) qpairs;
	uint32_t num_sgroups;		   /* = tgt->max_subsystems */
	struct nvmf_pg_subsystem *sgroups; /* indexed by subsystem id */
	struct nvmf_poll_group_stat stat;
	TAILQ_HEAD(, pg_iter) visits; /* nvmf_tgt_for_each_poll_group visits in progress here */
	struct pg_create_ctx *create_ctx;
	bool own_thread; /* created for the group (exits with it) */
	bool destroying;
};

/*
 * Poll group thread: the core calls this right before transport->ops->qpair_free(qpair), so
 * the group forgets the qpair (it was put on group->qpairs when the group took it).
 */
void nvmf_poll_group_remove_qpair(struct nvmf_qpair *qpair);

/* The group's view of subsys (poll group thread). */
static inline struct nvmf_pg_subsystem *nvmf_pg_get_sgroup(struct nvmf_poll_group *group,
							   const struct nvmf_subsystem *subsys);

/* The transport poll group of a given transport in group (NULL when none). */
struct nvmf_transport_poll_group *nvmf_poll_group_get_tgroup(struct nvmf_poll_group *group,
							     struct nvmf_transport *transport);

/* ---- subsystems ---- */

enum nvmf_subtype {
	NVMF_SUBTYPE_DISCOVERY = 1,
	NVMF_SUBTYPE_NVME = 2,
};

struct nvmf_host {
	char nqn[PLX_NVMF_NQN_MAX_LEN + 1];
	TAILQ_ENTRY(nvmf_host) link;
};

/* A listener of a subsystem, with the ANA state of each ANA group through it. */
struct nvmf_subsystem_listener {
	struct plx_nvme_trid trid;
	struct nvmf_transport *transport;
	uint32_t id; /* portid in the discovery log */
	/*
	 * ANA state per group id (index anagrpid - 1, max_nsid entries), read by poll groups
	 * with __atomic loads. A removed listener is kept (on subsys->retired_listeners) until
	 * the subsystem is destroyed, because controllers that connected through it may still
	 * point at it while they disconnect.
	 */
	enum plx_nvme_ana_state *ana_state;
	uint32_t ana_state_change_count;
	TAILQ_ENTRY(nvmf_subsystem_listener) link;
};

struct nvmf_subsystem {
	struct nvmf_tgt *tgt;
	uint32_t id; /* index in tgt->subsystems and poll groups' sgroups */
	enum nvmf_subtype subtype;
	char subnqn[PLX_NVMF_NQN_MAX_LEN + 1];
	char sn[21];
	char mn[41];
	bool allow_any_host;
	bool ana_reporting;
	bool destroying;
	uint16_t min_cntlid, max_cntlid, next_cntlid;
	uint32_t max_nsid;   /* = max_namespaces */
	struct nvmf_ns **ns; /* [max_nsid], NULL for free ids */
	uint32_t num_ns;
	uint64_t ana_change_count;
	TAILQ_HEAD(, nvmf_host) hosts;
	TAILQ_HEAD(, nvmf_subsystem_listener) listeners;
	TAILQ_HEAD(, nvmf_subsystem_listener) retired_listeners;
	TAILQ_HEAD(, nvmf_ctrlr) ctrlrs;
	void (*on_ctrlrs_gone)(void *subsys); /* deletion waits for the last controller */
	void *delete_ctx;		      /* app thread's list */
};

/* ---- controllers ---- */

enum nvmf_ctrlr_state {
	NVMF_CTRLR_ACTIVE = 0,
	NVMF_CTRLR_DESTRUCTING, /* no new qpairs; qpairs are being disconnected */
};

struct nvmf_async_event {
	uint32_t cdw0;
	STAILQ_ENTRY(nvmf_async_event) link;
};

struct nvmf_ctrlr_features {
	uint32_t arbitration;
	uint32_t power_management;
	uint32_t temperature_threshold;
	uint32_t error_recovery;
	uint32_t volatile_write_cache;
	uint32_t number_of_queues;
	uint32_t interrupt_coalescing;
	uint32_t async_event_configuration;
	uint32_t keep_alive_timer; /* ms */
	uint32_t reservation_notification_mask;
	uint32_t reservation_persistence;
	uint32_t write_atomicity;
};

struct nvmf_ctrlr {
	struct nvmf_subsystem *subsys;
	struct nvmf_subsystem_listener *listener; /* through which the admin queue connected */
	struct plx_thread *thread;		  /* the admin qpair's poll group thread */
	struct nvmf_qpair *admin_qpair;
	uint16_t cntlid;
	uint8_t hostid[16];
	char hostnqn[PLX_NVMF_NQN_MAX_LEN + 1];
	int state; /* enum nvmf_ctrlr_state; read by other threads with __atomic loads */

	/* Registers (ctrlr thread) */
	union plx_nvme_cap cap;
	union plx_nvme_vs vs;
	union plx_nvme_cc cc;
	union plx_nvme_csts csts;

	struct nvmf_ctrlr_features feat;
	uint32_t kato_ms;
	uint64_t last_keep_alive_tsc;
	struct plx_poller *keep_alive_poller;

	/* Asynchronous events */
	struct nvmf_request *aer_req[NVMF_MAX_ASYNC_EVENTS];
	uint32_t num_aer;
	STAILQ_HEAD(, nvmf_async_event) pending_events;
	bool ns_changed_masked, ana_changed_masked, disc_changed_masked; /* until log read */

	/* Changed namespace list (log 0x04), cleared when read */
	struct plx_nvme_ns_list changed_ns_list;
	uint32_t changed_ns_count;

	/* Error log (log 0x01) */
	struct plx_nvme_error_info_entry error_log[NVMF_ERROR_LOG_ENTRIES];
	uint64_t error_count;

	/* Reservation notification log (0x80) */
	uint64_t resv_log_page_count;
	STAILQ_HEAD(, nvmf_reservation_log) resv_log;
	uint32_t num_resv_log;

	/* Namespace visibility for no_auto_visible namespaces (bit per nsid - 1) */
	struct plx_bit_array *visible_ns;

	/* I/O qpairs (ctrlr thread) */
	struct plx_bit_array *qpair_mask; /* qid in use */
	TAILQ_HEAD(, nvmf_qpair) qpairs;
	uint32_t num_io_qpairs;

	/* Reservation notification mask (feature 0x82) per nsid - 1, [subsys->max_nsid] */
	uint32_t *ns_resv_mask;
	/* I/O counters of qpairs that already left (SMART log) */
	struct nvmf_io_stat io_stat_departed;

	uint64_t disc_genctr_seen;    /* discovery controllers: generation last reported */
	TAILQ_ENTRY(nvmf_ctrlr) link; /* subsys->ctrlrs (app thread) */
};

struct nvmf_reservation_log {
	struct plx_nvme_reservation_notification_log log;
	STAILQ_ENTRY(nvmf_reservation_log) link;
};

/* ---- ctrlr.c ---- */

/* Fabrics commands (Connect on any queue; Property Get/Set and Disconnect). */
void nvmf_ctrlr_process_fabrics_cmd(struct nvmf_request *req);

/* Admin command on an enabled admin qpair (ctrlr thread). */
void nvmf_ctrlr_process_admin_cmd(struct nvmf_request *req);

/* NVM command on an enabled I/O qpair (its poll group thread). */
void nvmf_ctrlr_process_io_cmd(struct nvmf_request *req);

/*
 * Queue an asynchronous event for ctrlr (any thread: the call sends a message to
 * ctrlr->thread). Honors the async event configuration and the per-type masking until the
 * host reads the log page.
 */
void nvmf_ctrlr_async_event(struct nvmf_ctrlr *ctrlr, uint32_t cdw0);

/* Changed-namespace list: note nsid (ctrlr thread). */
void nvmf_ctrlr_ns_changed(struct nvmf_ctrlr *ctrlr, uint32_t nsid);

/* What the configuration side tells controllers about. */
enum nvmf_notice {
	NVMF_NOTICE_NS_CHANGED,	       /* nsid added, removed or resized */
	NVMF_NOTICE_ANA_CHANGED,       /* an ANA state or group membership changed */
	NVMF_NOTICE_DISCOVERY_CHANGED, /* discovery log generation moved */
	NVMF_NOTICE_RESERVATION,       /* resv_type: enum plx_nvme_reservation_notification_type */
};

/*
 * App thread only, for a controller still in subsys->ctrlrs: send a message to ctrlr->thread
 * that records the notice (changed namespace list, reservation notification log) and raises
 * the matching asynchronous event if the host enabled it. Messages from the app thread reach
 * the controller before the one that frees it, so this is safe against teardown.
 */
void nvmf_ctrlr_notify(struct nvmf_ctrlr *ctrlr, enum nvmf_notice notice, uint32_t nsid,
		       uint8_t resv_type);

/*
 * App thread only, for a controller in subsys->ctrlrs: tear the controller down (all its
 * qpairs disconnect). Used by delete_subsystem, remove_host and remove_listener. The
 * controller leaves subsys->ctrlrs through nvmf_subsystem_remove_ctrlr when it is gone.
 */
void nvmf_ctrlr_disconnect_async(struct nvmf_ctrlr *ctrlr);

/* True when nsid is visible to ctrlr (attached and, for no_auto_visible, allowed). */
bool nvmf_ctrlr_ns_is_visible(struct nvmf_ctrlr *ctrlr, uint32_t nsid);

/* ANA state of the group anagrpid through ctrlr's listener (any thread). */
enum plx_nvme_ana_state nvmf_ctrlr_get_ana_state(struct nvmf_ctrlr *ctrlr, uint32_t anagrpid);

/* Whether a controller belongs to the discovery subsystem. */
static inline bool nvmf_ctrlr_is_discovery(const struct nvmf_ctrlr *ctrlr)
{
	return ctrlr->subsys->subtype == NVMF_SUBTYPE_DISCOVERY;
}

/* Internals shared by request.c and ctrlr*.c only (poll group / controller thread). */
void nvmf_qpair_teardown_continue(struct nvmf_qpair *qpair); /* last request completed */
void nvmf_qpair_abort_held_fused(struct nvmf_qpair *qpair);  /* a FIRST waiting alone */
bool nvmf_qpair_abort_held_fused_cid(struct nvmf_qpair *qpair, uint16_t cid);
void nvmf_ctrlr_aer_request(struct nvmf_request *req);
bool nvmf_ctrlr_abort_aer(struct nvmf_ctrlr *ctrlr, uint16_t cid);
void nvmf_ctrlr_keep_alive(struct nvmf_ctrlr *ctrlr);
void nvmf_ctrlr_set_kato(struct nvmf_ctrlr *ctrlr, uint32_t kato_ms);
void nvmf_ctrlr_features_init(struct nvmf_ctrlr *ctrlr);
void nvmf_ctrlr_raise_event(struct nvmf_ctrlr *ctrlr, uint32_t cdw0);	      /* on ctrlr->thread */
struct nvmf_pg_ns *nvmf_ctrlr_pg_ns(struct nvmf_ctrlr *ctrlr, uint32_t nsid); /* visible or NULL */

/* ---- ctrlr_admin.c / ctrlr_log.c ---- */

void nvmf_ctrlr_identify(struct nvmf_request *req);
void nvmf_ctrlr_get_log_page(struct nvmf_request *req);
void nvmf_ctrlr_get_features(struct nvmf_request *req);
void nvmf_ctrlr_set_features(struct nvmf_request *req);
void nvmf_ctrlr_abort(struct nvmf_request *req);

/* Fill an Identify Controller structure for ctrlr. */
void nvmf_ctrlr_fill_identify(struct nvmf_ctrlr *ctrlr, struct plx_nvme_ctrlr_data *cdata);

/* Fill an Identify Namespace structure; false when nsid is not an active namespace. */
bool nvmf_ctrlr_fill_identify_ns(struct nvmf_ctrlr *ctrlr, uint32_t nsid,
				 struct plx_nvme_ns_data *nsdata);

/* Build the ANA log page into buf (at most len bytes from offset); returns bytes written. */
size_t nvmf_ctrlr_ana_log(struct nvmf_ctrlr *ctrlr, bool rgo, void *buf, size_t offset, size_t len);

/* ---- ctrlr_io.c ---- */

/* Submit an NVM command to the bdev (after namespace/ANA/reservation checks). */
void nvmf_ctrlr_io_submit(struct nvmf_request *req, struct nvmf_pg_ns *pg_ns);

/* ---- reservation.c ---- */

/*
 * Reservation Register/Acquire/Release/Report (poll group thread of req): the command goes
 * to the app thread, which applies it to ns->resv, refreshes every poll group's snapshot
 * and notifies affected controllers, then completes req on its own thread.
 */
void nvmf_ns_reservation_request(struct nvmf_request *req, struct nvmf_pg_ns *pg_ns);

/*
 * The I/O path's conflict check (poll group thread): true when the command from a
 * controller with hostid may run given the snapshot in pg_ns; false means Reservation
 * Conflict.
 */
bool nvmf_ns_reservation_allows(const struct nvmf_pg_ns *pg_ns, const uint8_t hostid[16],
				uint8_t opc);

/* Copy ns->resv into a poll group snapshot (called from poll group threads by message). */
void nvmf_ns_reservation_snapshot(const struct nvmf_ns *ns, struct nvmf_pg_ns *pg_ns);

/* Pure rule functions on a struct nvmf_reservation (app thread; unit-tested directly). They
 * return an NVMe status (sct << 8 | sc), 0 on success. */
uint16_t nvmf_resv_register(struct nvmf_reservation *resv, const uint8_t hostid[16], uint8_t action,
			    bool iekey, uint64_t crkey, uint64_t nrkey);
uint16_t nvmf_resv_acquire(struct nvmf_reservation *resv, const uint8_t hostid[16], uint8_t action,
			   uint8_t rtype, bool iekey, uint64_t crkey, uint64_t prkey,
			   uint8_t preempted_hostids[][16], uint32_t *num_preempted);
uint16_t nvmf_resv_release(struct nvmf_reservation *resv, const uint8_t hostid[16], uint8_t action,
			   uint8_t rtype, bool iekey, uint64_t crkey, bool *released);
void nvmf_resv_clear_all(struct nvmf_reservation *resv);

/* Persist Through Power Loss state (Get Features 0x83; any thread). */
bool nvmf_ns_reservation_ptpl_activated(const struct nvmf_ns *ns);

/* App thread (Set Features 0x83): set PTPL and persist; -ENOTSUP when ns has no ptpl_file. */
int nvmf_ns_reservation_set_ptpl(struct nvmf_ns *ns, bool ptpl);

/*
 * App thread, when a namespace with ns->ptpl_file is added: restore the reservation state
 * saved there (a missing file is an empty state). 0 or a negative errno (corrupt file).
 */
int nvmf_ns_reservation_load(struct nvmf_ns *ns);

/* ---- discovery.c ---- */

/* Build the discovery log page as seen by hostnqn into buf (offset/len); returns bytes. */
size_t nvmf_discovery_log(struct nvmf_tgt *tgt, const char *hostnqn, void *buf, size_t offset,
			  size_t len);

/*
 * The same, with tgt->conf.discovery_filter applied against local (the listener the
 * discovery controller connected through; NULL: no filtering).
 */
size_t nvmf_discovery_log_filtered(struct nvmf_tgt *tgt, const char *hostnqn,
				   const struct plx_nvme_trid *local, void *buf, size_t offset,
				   size_t len);

/* A subsystem, listener, host or referral changed: bump genctr, tell discovery controllers. */
void nvmf_tgt_discovery_changed(struct nvmf_tgt *tgt);

/* ---- target ---- */

struct nvmf_referral {
	struct plx_nvme_trid trid;
	bool secure_channel;
	TAILQ_ENTRY(nvmf_referral) link;
};

/* nvmf_set_config's admin_cmd_passthru flags, in SPDK's order (accepted and saved; there
 * are no NVMe passthrough bdevs yet). */
#define NVMF_ADMIN_PASSTHRU_FLAGS 9
extern const char *const nvmf_admin_passthru_names[NVMF_ADMIN_PASSTHRU_FLAGS];

struct nvmf_tgt_config {
	bool admin_passthru[NVMF_ADMIN_PASSTHRU_FLAGS];
	uint32_t dhchap_digests;   /* bit per name in SPDK's order; accepted and saved */
	uint32_t dhchap_dhgroups;  /* likewise */
	uint32_t discovery_filter; /* bit 0 transport, 1 address, 2 svcid */
	bool dup_host_policy_restrict;
	uint16_t crdt[3];
	char poll_groups_mask[64];
};

struct nvmf_tgt {
	char name[64];
	struct plx_thread *thread; /* the app thread */
	uint32_t max_subsystems;
	struct nvmf_subsystem **subsystems; /* [max_subsystems]; [0] is discovery */
	struct nvmf_subsystem *discovery;
	TAILQ_HEAD(, nvmf_transport) transports;
	TAILQ_HEAD(, nvmf_referral) referrals;
	uint64_t discovery_genctr;
	struct nvmf_tgt_config conf;
	uint32_t num_poll_groups;
	struct nvmf_poll_group **poll_groups;
	uint32_t next_poll_group; /* round robin for new qpairs */
	uint64_t next_qpair_id;
	uint32_t next_listener_id;
	TAILQ_HEAD(, nvmf_tgt_listen) listens; /* addresses listened on, shared by subsystems */
};

/* The one target (NULL before the nvmf subsystem initialised). */
struct nvmf_tgt *nvmf_get_tgt(void);

struct nvmf_subsystem *nvmf_tgt_find_subsystem(struct nvmf_tgt *tgt, const char *subnqn);
struct nvmf_transport *nvmf_tgt_find_transport(struct nvmf_tgt *tgt, const char *trstring);

/*
 * Run fn(group, ctx) on every poll group's thread, one after another; then cpl(ctx) on the
 * calling thread (app thread). fn must call nvmf_poll_group_continue(group, ctx) when done
 * (it may do so later, e.g. after outstanding I/O drained).
 */
typedef void (*nvmf_pg_fn)(struct nvmf_poll_group *group, void *ctx);
void nvmf_tgt_for_each_poll_group(struct nvmf_tgt *tgt, nvmf_pg_fn fn, void *ctx,
				  void (*cpl)(void *ctx));
void nvmf_poll_group_continue(struct nvmf_poll_group *group, void *ctx);

/* Subsystem checks Connect needs (app thread). */
bool nvmf_subsystem_host_allowed(struct nvmf_subsystem *subsys, const char *hostnqn);
struct nvmf_subsystem_listener *nvmf_subsystem_find_listener(struct nvmf_subsystem *subsys,
							     const struct plx_nvme_trid *trid);

/* Controller registration with the subsystem (app thread). 0, or -EBUSY (no free cntlid). */
int nvmf_subsystem_add_ctrlr(struct nvmf_subsystem *subsys, struct nvmf_ctrlr *ctrlr);
void nvmf_subsystem_remove_ctrlr(struct nvmf_subsystem *subsys, struct nvmf_ctrlr *ctrlr);
struct nvmf_ctrlr *nvmf_subsystem_get_ctrlr(struct nvmf_subsystem *subsys, uint16_t cntlid);

/* The active namespace with this id (app thread), or NULL. */
struct nvmf_ns *nvmf_subsystem_get_ns(struct nvmf_subsystem *subsys, uint32_t nsid);
/* Next active namespace after prev_nsid (0 for the first), or NULL. */
struct nvmf_ns *nvmf_subsystem_next_ns(struct nvmf_subsystem *subsys, uint32_t prev_nsid);

static inline struct nvmf_pg_subsystem *nvmf_pg_get_sgroup(struct nvmf_poll_group *group,
							   const struct nvmf_subsystem *subsys)
{
	return &group->sgroups[subsys->id];
}

#endif /* POLLUX_NVMF_INTERNAL_H */
