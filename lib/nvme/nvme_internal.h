/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe host driver's internals: the transport ops table and the structures the core
 * (nvme_ctrlr.c, nvme_qpair.c, nvme_ns*.c, nvme_status.c) shares with the transports
 * (nvme_tcp*.c, nvme_pcie*.c).
 *
 * Ownership: a controller and its admin qpair belong to the thread that connected it; an I/O
 * qpair belongs to the thread that allocated it. No locks anywhere: the library is driven
 * only by the owners' calls (submit, process_completions). Blocking helpers (connect, reset,
 * property access on fabrics) poll the admin queue themselves until done or timed out.
 *
 * Request life: the core takes a request object from the qpair's free list (no allocation),
 * fills cmd (cid is the transport's business: it assigns one per submission), payload and
 * callback, and calls transport->qpair_submit_request. The transport completes it by calling
 * nvme_qpair_complete_request(qpair, req, cpl) from its process_completions (never from
 * inside submit: a transport that fails a submission synchronously returns an error instead,
 * and the core completes or returns it). The core then retries (status without DNR and
 * retries left), or runs the callback and puts the request back.
 */
#ifndef POLLUX_NVME_INTERNAL_H
#define POLLUX_NVME_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include "pollux/nvme.h"
#include "pollux/nvme_spec.h"

#define NVME_ADMIN_QUEUE_SIZE_DEFAULT  32
#define NVME_IO_QUEUE_SIZE_DEFAULT     128
#define NVME_IO_QUEUE_REQUESTS_DEFAULT 512
#define NVME_KATO_DEFAULT_MS	       10000
#define NVME_MAX_ASYNC_EVENTS	       4
#define NVME_RETRY_COUNT_DEFAULT       4
#define NVME_CONNECT_TIMEOUT_MS	       10000 /* fabrics: ICReq/Connect answered within */

struct nvme_transport_ops;

/* ---- payloads and requests ---- */

enum nvme_payload_type {
	NVME_PAYLOAD_NONE = 0,
	NVME_PAYLOAD_CONTIG, /* buf */
	NVME_PAYLOAD_SGL,    /* reset_sgl / next_sge with sgl_arg */
};

struct nvme_payload {
	enum nvme_payload_type type;
	void *buf;
	plx_nvme_req_reset_sgl_cb reset_sgl;
	plx_nvme_req_next_sge_cb next_sge;
	void *sgl_arg;
	/* fused Compare and Write: the second command's buffer */
	void *buf2;
};

struct nvme_request {
	struct plx_nvme_cmd cmd;
	struct nvme_payload payload;
	uint32_t payload_size; /* bytes moved by the command */
	enum plx_nvme_data_transfer xfer;
	plx_nvme_cmd_cb cb_fn;
	void *cb_arg;
	struct plx_nvme_qpair *qpair;
	uint64_t submit_tick; /* for command timeouts */
	uint32_t retries;
	bool timed_out;			   /* an Abort was sent for it */
	struct nvme_request *fused_second; /* the Write of a fused pair (submitted right after) */
	STAILQ_ENTRY(nvme_request) link;   /* free list or a transport's queue */
	/* Private to the transport (its per-request state lives in its own array by cid). */
	uint16_t transport_cid;
	uint8_t internal[8];
};

/* ---- queue pairs ---- */

enum nvme_qpair_state {
	NVME_QPAIR_DISCONNECTED = 0,
	NVME_QPAIR_CONNECTING,
	NVME_QPAIR_CONNECTED,
	NVME_QPAIR_FAILED,
};

/* The core's part of a qpair; the transport embeds it first in its own qpair. */
struct plx_nvme_qpair {
	struct plx_nvme_ctrlr *ctrlr;
	uint16_t id;	      /* 0: admin */
	uint32_t num_entries; /* queue size */
	uint32_t num_requests;
	enum nvme_qpair_state state;
	bool delay_cmd_submit;
	uint32_t outstanding;
	struct nvme_request *reqs; /* num_requests objects, allocated at creation */
	STAILQ_HEAD(, nvme_request) free_reqs;
	STAILQ_HEAD(, nvme_request) retry_queue; /* resubmitted on the next process call */
	TAILQ_ENTRY(plx_nvme_qpair) link;	 /* ctrlr->io_qpairs */

	/* Core-private (nvme_qpair.c): transports leave these alone. */
	uint8_t *req_scratch;	     /* NVME_REQ_SCRATCH_SIZE DMA-able bytes per request */
	uint8_t *dsm_bufs;	     /* NVME_DSM_BUFS DMA-able 4 KiB buffers for long range lists */
	uint32_t dsm_free;	     /* bit i set: dsm_bufs buffer i is free */
	uint64_t next_timeout_check; /* tick of the next command timeout scan */
};

/* ---- namespaces ---- */

struct plx_nvme_ns {
	struct plx_nvme_ctrlr *ctrlr;
	uint32_t id;
	bool active;
	uint32_t sector_size;
	uint64_t num_sectors;
	uint32_t ana_group_id;
	enum plx_nvme_ana_state ana_state;
	struct plx_nvme_ns_data data;
};

/* ---- controllers ---- */

enum nvme_ctrlr_state {
	NVME_CTRLR_INIT = 0,
	NVME_CTRLR_READY,
	NVME_CTRLR_RESETTING,
	NVME_CTRLR_FAILED,
};

/* The core's part of a controller; the transport embeds it first in its own. */
struct plx_nvme_ctrlr {
	const struct nvme_transport_ops *transport;
	struct plx_nvme_trid trid;
	struct plx_nvme_ctrlr_opts opts;
	enum nvme_ctrlr_state state;
	struct plx_nvme_qpair *adminq;
	union plx_nvme_cap cap;
	union plx_nvme_vs vs;
	struct plx_nvme_ctrlr_data cdata;
	uint16_t cntlid;
	uint32_t max_xfer_size;
	uint32_t num_io_queues; /* granted */
	uint8_t *free_qids;	/* 1 = free, index = qid (1..num_io_queues) */
	TAILQ_HEAD(, plx_nvme_qpair) io_qpairs;

	/* namespaces: ns[nsid - 1] for nsid 1..num_ns (nn from Identify) */
	uint32_t num_ns;
	struct plx_nvme_ns *ns;

	/* keep-alive and AERs */
	uint64_t next_keep_alive_tick;
	uint64_t keep_alive_interval_ticks;
	uint32_t num_aers;
	plx_nvme_aer_cb aer_cb;
	void *aer_cb_arg;
	bool ns_rescan_pending;

	/* Core-private (nvme_ctrlr.c): transports leave these alone. */
	/*
	 * Serialises the admin queue and the qpair list between the owner's admin poll and
	 * other threads allocating or freeing I/O qpairs (or sending an Abort for a timed-out
	 * command). Recursive: a reset under it runs blocking admin commands that take it again.
	 */
	pthread_mutex_t lock;
	struct plx_nvme_cpl aer_events[NVME_MAX_ASYNC_EVENTS]; /* completed AERs not yet handled */
	uint32_t num_aer_events;
	bool in_aer_handling;
	bool is_discovery;    /* a discovery controller: no I/O queues, namespaces or AERs */
	bool shutting_down;   /* AER completions must not re-arm */
	bool reset_requested; /* a command expired twice: reset at the end of the poll */
};

/* ---- transports ---- */

struct nvme_transport_ops {
	const char *name; /* "TCP", "PCIe" */
	int trtype;	  /* PLX_NVMF_TRTYPE_TCP, PLX_NVME_TRTYPE_PCIE */

	/*
	 * Allocate the transport's controller (struct plx_nvme_ctrlr first), create the admin
	 * qpair and bring it to where commands can flow: fabrics: ICReq and Connect qid 0 (the
	 * core then enables through Property Set); PCIe: map BAR0, disable (CC.EN 0, wait RDY 0),
	 * allocate the admin queues and program AQA/ASQ/ACQ. Copies trid and opts into the
	 * controller and sets ctrlr->transport, ->adminq, ->cntlid (fabrics). NULL with err.
	 * Calls nvme_ctrlr_lock_init on the new controller first.
	 */
	struct plx_nvme_ctrlr *(*ctrlr_construct)(const struct plx_nvme_trid *trid,
						  const struct plx_nvme_ctrlr_opts *opts,
						  char *err);
	/* Free everything (qpairs already destroyed except the admin qpair). */
	void (*ctrlr_destruct)(struct plx_nvme_ctrlr *ctrlr);

	/* Register access: PCIe MMIO; fabrics Property Get/Set on the admin queue (blocking). */
	int (*ctrlr_get_reg_4)(struct plx_nvme_ctrlr *ctrlr, uint32_t offset, uint32_t *value);
	int (*ctrlr_get_reg_8)(struct plx_nvme_ctrlr *ctrlr, uint32_t offset, uint64_t *value);
	int (*ctrlr_set_reg_4)(struct plx_nvme_ctrlr *ctrlr, uint32_t offset, uint32_t value);

	/* Largest payload of one command the transport can carry (bytes). */
	uint32_t (*ctrlr_get_max_xfer_size)(struct plx_nvme_ctrlr *ctrlr);

	/* Allocate an I/O qpair (struct plx_nvme_qpair first; the core fills the rest). */
	struct plx_nvme_qpair *(*qpair_create)(struct plx_nvme_ctrlr *ctrlr, uint16_t qid,
					       const struct plx_nvme_io_qpair_opts *opts);
	/*
	 * Connect it (blocking): fabrics: a new connection, ICReq, Connect with the controller's
	 * cntlid; PCIe: Create I/O CQ then SQ on the admin queue. Also used to reconnect after a
	 * reset. 0 or a negative errno.
	 */
	int (*qpair_connect)(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair);
	/* Tear the connection down (PCIe: Delete SQ/CQ); outstanding requests are aborted. */
	void (*qpair_disconnect)(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair);
	void (*qpair_destroy)(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair);

	/*
	 * Queue req for the device. With qpair->delay_cmd_submit the transport may hold it until
	 * the next process_completions (one doorbell / one writev per batch). 0, -EAGAIN (no
	 * queue slot now: the core keeps it and retries), or -ENXIO (qpair failed).
	 */
	int (*qpair_submit_request)(struct plx_nvme_qpair *qpair, struct nvme_request *req);

	/* Send what is batched, reap up to max completions (0: all). Returns the count or -ENXIO.
	 */
	int32_t (*qpair_process_completions)(struct plx_nvme_qpair *qpair, uint32_t max);

	/* Complete every request the transport holds with ABORTED_SQ_DELETION (dnr as given). */
	void (*qpair_abort_reqs)(struct plx_nvme_qpair *qpair, bool dnr);

	/* Optional: an fd readable when the qpair has something to process; -1 or NULL: poll. */
	int (*qpair_get_fd)(struct plx_nvme_qpair *qpair);

	/* PCIe only: call cb for each NVMe function bound to a user-space driver. */
	int (*scan)(const struct plx_nvme_trid *filter,
		    int (*cb)(void *ctx, const struct plx_nvme_trid *trid), void *ctx);
};

void nvme_transport_register(const struct nvme_transport_ops *ops);
const struct nvme_transport_ops *nvme_transport_find(int trtype);
#define NVME_TRANSPORT_REGISTER(name, ops)                                                         \
	__attribute__((constructor)) static void nvme_transport_register_##name(void)              \
	{                                                                                          \
		nvme_transport_register(ops);                                                      \
	}

/* ---- core functions the transports call ---- */

/* Initialise the core part of a qpair (request pool of num_requests objects). 0 or -ENOMEM. */
int nvme_qpair_init(struct plx_nvme_qpair *qpair, struct plx_nvme_ctrlr *ctrlr, uint16_t id,
		    uint32_t num_entries, uint32_t num_requests, bool delay_cmd_submit);
void nvme_qpair_fini(struct plx_nvme_qpair *qpair);

/* The transport finished req with cpl (from process_completions). */
void nvme_qpair_complete_request(struct plx_nvme_qpair *qpair, struct nvme_request *req,
				 const struct plx_nvme_cpl *cpl);

/* ctrlr_construct calls this right after allocating the controller (before any admin
 * command: fabrics send Connect from construct). */
void nvme_ctrlr_lock_init(struct plx_nvme_ctrlr *ctrlr);

/* Mark the qpair (and, for the admin qpair, the controller) failed. */
void nvme_qpair_set_failed(struct plx_nvme_qpair *qpair);

/* For a payload: copy out of / into it (transports without DMA, e.g. TCP over SGL callbacks). */
int nvme_payload_to_iov(struct nvme_request *req, struct iovec *iov, int max_iov);

/* Blocking admin command (internal helpers and transports): polls the admin queue. */
int nvme_ctrlr_cmd_admin_sync(struct plx_nvme_ctrlr *ctrlr, const struct plx_nvme_cmd *cmd,
			      void *buf, uint32_t len, struct plx_nvme_cpl *cpl);

/* Ticks now and per millisecond (the env clock). */
uint64_t nvme_ticks(void);
uint64_t nvme_ticks_per_ms(void);

#endif /* POLLUX_NVME_INTERNAL_H */
