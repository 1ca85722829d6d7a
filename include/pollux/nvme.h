/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pollux nvme: a polled, lock-free NVMe host driver in user space, over NVMe/TCP (and PCIe).
 *
 * Find or connect to controllers, let the library initialise them as the specification
 * orders (CC/CSTS handshake, Identify, Number of Queues, namespaces, AER, keep-alive), then
 * allocate I/O queue pairs and submit commands. Nothing here uses interrupts or locks on the
 * I/O path: a queue pair belongs to the thread that allocated it, which submits on it and
 * polls it with plx_nvme_qpair_process_completions(); command callbacks run from that call.
 * The admin queue belongs to the thread that connected the controller; poll it with
 * plx_nvme_ctrlr_process_admin_completions() (it also sends keep-alives and handles AERs).
 *
 * Errors: functions returning int return 0 or a negative errno (-ENOMEM: no free request
 * object on the queue pair right now; -ENXIO: the controller or qpair failed). A command that
 * was accepted always completes through its callback exactly once, with an NVMe status (a
 * failed connection completes outstanding commands with ABORTED_SQ_DELETION).
 */
#ifndef POLLUX_NVME_H
#define POLLUX_NVME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pollux/nvme_spec.h"

#ifdef __cplusplus
extern "C" {
#endif

struct plx_nvme_ctrlr;
struct plx_nvme_ns;
struct plx_nvme_qpair;

/* ---- transport IDs ---- */

#define PLX_NVME_TRTYPE_PCIE 256 /* not a fabrics type: SPDK's value */
#define PLX_NVME_ERR_LEN     256

/* An NVMe transport address: a PCIe function, or an NVMe-oF address and subsystem. */
struct plx_nvme_trid {
	int trtype; /* enum plx_nvmf_trtype, or PLX_NVME_TRTYPE_PCIE */
	enum plx_nvmf_adrfam adrfam;
	char trstring[PLX_NVMF_TRSTRING_MAX_LEN + 1]; /* "TCP", "PCIE" */
	char traddr[PLX_NVMF_TRADDR_MAX_LEN + 1];     /* IP address, or 0000:00:04.0 */
	char trsvcid[32 + 1];
	char subnqn[PLX_NVMF_NQN_MAX_LEN + 1];
};

/*
 * Fill trid from RPC-style strings (trtype "TCP"/"tcp"/"PCIe", adrfam "IPv4"/"IPv6", traddr,
 * trsvcid). adrfam may be NULL (IPv4 unless traddr contains ':'). -EINVAL with err set.
 */
int plx_nvme_trid_from_strings(struct plx_nvme_trid *trid, const char *trtype, const char *adrfam,
			       const char *traddr, const char *trsvcid, char *err);

/*
 * Parse SPDK's transport ID string: "trtype:tcp adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420
 * subnqn:nqn..." or "trtype:pcie traddr:0000:00:04.0" (keys case-insensitive, separated by
 * spaces; '=' also accepted for ':'). -EINVAL with err naming the bad key.
 */
int plx_nvme_trid_parse(struct plx_nvme_trid *trid, const char *str, char *err);

/* "TCP", "PCIe", "IPv4": the names RPC results and tools print. */
const char *plx_nvme_trtype_str(int trtype);
const char *plx_nvme_adrfam_str(enum plx_nvmf_adrfam adrfam);

/* Same transport, family, address and service id (subnqn ignored). */
bool plx_nvme_trid_equal(const struct plx_nvme_trid *a, const struct plx_nvme_trid *b);

/* "optimized", "non_optimized", "inaccessible", "persistent_loss", "change" and back. */
const char *plx_nvme_ana_state_str(enum plx_nvme_ana_state state);
int plx_nvme_ana_state_from_str(const char *str, enum plx_nvme_ana_state *state);

/* True when nqn is a well-formed NQN (length, "nqn." prefix with date and domain, or UUID form). */
bool plx_nvmf_nqn_is_valid(const char *nqn);

/* ---- status ---- */

/* A readable name of a completion status ("SUCCESS", "INVALID FIELD", "LBA OUT OF RANGE"). */
const char *plx_nvme_status_string(const struct plx_nvme_status *status);

/* The status code type's name ("GENERIC", "COMMAND SPECIFIC", "MEDIA ERROR", "PATH"). */
const char *plx_nvme_sct_string(uint8_t sct);

/* ---- controllers ---- */

struct plx_nvme_ctrlr_opts {
	uint32_t num_io_queues;		/* I/O queues to ask for (Set Features Number of Queues) */
	uint32_t io_queue_size;		/* default entries of an I/O queue */
	uint32_t io_queue_requests;	/* default request objects per I/O queue */
	uint32_t admin_queue_size;	/* entries of the admin queue */
	uint32_t keep_alive_timeout_ms; /* fabrics: KATO sent in Connect; 0 disables */
	char hostnqn[PLX_NVMF_NQN_MAX_LEN + 1]; /* "" : generated from hostid */
	uint8_t hostid[16];			/* all zero: generated once per process */
	bool header_digest;			/* NVMe/TCP HDGST */
	bool data_digest;			/* NVMe/TCP DDGST */
	uint32_t command_timeout_ms;		/* 0: none; else abort, then reset on expiry */
	uint32_t transport_retry_count;		/* resubmits of retryable (no DNR) failures */
	bool disable_sq_doorbell_batching;	/* PCIe: ring per command (for comparison runs) */
	/*
	 * Never reset on its own: a command that expired twice marks the controller failed
	 * instead (the admin poll returns -ENXIO) and the owner decides (the nvme bdev resets
	 * every path itself, qpairs first, because they live on other threads).
	 */
	bool disable_auto_reset;
};

/*
 * Defaults into opts: admin queue 32 entries; 1 I/O queue of 128 entries and 512 requests;
 * keep-alive 10 s; no digests; no command timeout; 4 transport retries; batched doorbells.
 */
void plx_nvme_ctrlr_get_default_opts(struct plx_nvme_ctrlr_opts *opts);

/*
 * Connect to the controller at trid and initialise it; blocks (polling) until it is ready
 * or has failed, for at most CAP.TO (fabrics: plus the connect timeout). NULL with err set
 * (why, e.g. "Connect rejected: INVALID HOST (sct 1 sc 0x84)"). opts NULL: defaults.
 */
struct plx_nvme_ctrlr *plx_nvme_connect(const struct plx_nvme_trid *trid,
					const struct plx_nvme_ctrlr_opts *opts, char *err);

/*
 * Find controllers: for PCIe, every NVMe function (class 0x010802) bound to vfio-pci or
 * uio_pci_generic (trid->traddr "" for all, or one address); for NVMe-oF, trid names a
 * discovery controller (subnqn empty or the discovery NQN: every NVM subsystem entry of its
 * log) or one subsystem. probe_cb(ctx, trid, opts) returns true to attach (it may edit
 * opts); attach_cb runs for each controller that initialised. Returns the number attached or
 * a negative errno.
 */
typedef bool (*plx_nvme_probe_cb)(void *cb_ctx, const struct plx_nvme_trid *trid,
				  struct plx_nvme_ctrlr_opts *opts);
typedef void (*plx_nvme_attach_cb)(void *cb_ctx, const struct plx_nvme_trid *trid,
				   struct plx_nvme_ctrlr *ctrlr,
				   const struct plx_nvme_ctrlr_opts *opts);
int plx_nvme_probe(const struct plx_nvme_trid *trid, void *cb_ctx, plx_nvme_probe_cb probe_cb,
		   plx_nvme_attach_cb attach_cb);

/* Shut the controller down (CC.SHN, Disconnect) and free it; its qpairs must be freed first. */
int plx_nvme_detach(struct plx_nvme_ctrlr *ctrlr);

const struct plx_nvme_trid *plx_nvme_ctrlr_get_trid(const struct plx_nvme_ctrlr *ctrlr);
/* The host NQN the controller was connected with (the generated one when none was given). */
const char *plx_nvme_ctrlr_get_hostnqn(const struct plx_nvme_ctrlr *ctrlr);
const struct plx_nvme_ctrlr_data *plx_nvme_ctrlr_get_data(const struct plx_nvme_ctrlr *ctrlr);
union plx_nvme_cap plx_nvme_ctrlr_get_cap(const struct plx_nvme_ctrlr *ctrlr);
union plx_nvme_vs plx_nvme_ctrlr_get_vs(const struct plx_nvme_ctrlr *ctrlr);
/* Largest data transfer of one command in bytes (from MDTS and the transport). */
uint32_t plx_nvme_ctrlr_get_max_xfer_size(const struct plx_nvme_ctrlr *ctrlr);
/* I/O queues the controller granted (Number of Queues). */
uint32_t plx_nvme_ctrlr_get_num_io_queues(const struct plx_nvme_ctrlr *ctrlr);
/* True once the controller failed (transport lost, CSTS.CFS); reset or detach it. */
bool plx_nvme_ctrlr_is_failed(const struct plx_nvme_ctrlr *ctrlr);

/* Active namespaces: first, next after prev (0 when there is none), and one by id. */
uint32_t plx_nvme_ctrlr_get_first_active_ns(struct plx_nvme_ctrlr *ctrlr);
uint32_t plx_nvme_ctrlr_get_next_active_ns(struct plx_nvme_ctrlr *ctrlr, uint32_t prev_nsid);
struct plx_nvme_ns *plx_nvme_ctrlr_get_ns(struct plx_nvme_ctrlr *ctrlr, uint32_t nsid);

/* Command completion: cpl is valid during the call only. */
typedef void (*plx_nvme_cmd_cb)(void *cb_arg, const struct plx_nvme_cpl *cpl);

/*
 * Poll the admin queue: completes admin commands, sends a Keep Alive when due, handles
 * asynchronous events (re-reads the namespace list on a namespace change). Returns the
 * number of completions, or -ENXIO once the controller failed.
 */
int32_t plx_nvme_ctrlr_process_admin_completions(struct plx_nvme_ctrlr *ctrlr);

/*
 * For owners that sleep between polls: an fd that becomes readable when the admin queue has
 * something to process (fabrics: the admin connection's socket; also on EOF or error), or -1
 * when it must be polled (PCIe). It changes with a reset: ask again after one. Poll at least
 * every plx_nvme_ctrlr_get_keep_alive_interval_ms() as well, so keep-alives go out.
 */
int plx_nvme_ctrlr_get_admin_fd(const struct plx_nvme_ctrlr *ctrlr);
/* How often a Keep Alive is due (ms); 0: none (PCIe, or KATO 0). */
uint32_t plx_nvme_ctrlr_get_keep_alive_interval_ms(const struct plx_nvme_ctrlr *ctrlr);

/*
 * Read the ANA log again without blocking (a path error may say more than the last read):
 * plx_nvme_ns_get_ana_state reports the new states once cb(cb_arg, rc) runs, from a later
 * admin poll (rc 0 or a negative errno). Owner thread only. 0 when submitted, -ENOTSUP when
 * the controller has no ANA reporting (cb does not run), or a negative errno.
 */
typedef void (*plx_nvme_ctrlr_done_cb)(void *cb_arg, int rc);
int plx_nvme_ctrlr_refresh_ana(struct plx_nvme_ctrlr *ctrlr, plx_nvme_ctrlr_done_cb cb,
			       void *cb_arg);

/* Called for every asynchronous event, after the library handled it. */
typedef void (*plx_nvme_aer_cb)(void *cb_arg, const struct plx_nvme_cpl *cpl);
void plx_nvme_ctrlr_register_aer_callback(struct plx_nvme_ctrlr *ctrlr, plx_nvme_aer_cb cb,
					  void *cb_arg);

/* Any admin command (cmd copied; cid assigned by the library); buf of len bytes, may be NULL. */
int plx_nvme_ctrlr_cmd_admin_raw(struct plx_nvme_ctrlr *ctrlr, const struct plx_nvme_cmd *cmd,
				 void *buf, uint32_t len, plx_nvme_cmd_cb cb, void *cb_arg);

/* Helpers built on it. */
int plx_nvme_ctrlr_cmd_get_log_page(struct plx_nvme_ctrlr *ctrlr, uint8_t lid, uint32_t nsid,
				    void *buf, uint32_t len, uint64_t offset, plx_nvme_cmd_cb cb,
				    void *cb_arg);
int plx_nvme_ctrlr_cmd_identify(struct plx_nvme_ctrlr *ctrlr, uint8_t cns, uint32_t nsid, void *buf,
				uint32_t len, plx_nvme_cmd_cb cb, void *cb_arg);
int plx_nvme_ctrlr_cmd_get_feature(struct plx_nvme_ctrlr *ctrlr, uint8_t fid, uint32_t cdw11,
				   void *buf, uint32_t len, plx_nvme_cmd_cb cb, void *cb_arg);
int plx_nvme_ctrlr_cmd_set_feature(struct plx_nvme_ctrlr *ctrlr, uint8_t fid, uint32_t cdw11,
				   uint32_t cdw12, void *buf, uint32_t len, plx_nvme_cmd_cb cb,
				   void *cb_arg);

/*
 * Reset the controller (fabrics: reconnect every queue; PCIe: CC.EN 0 -> 1) and re-create its
 * I/O qpairs (they keep their handles; commands outstanding at the time complete with
 * ABORTED_SQ_DELETION). Blocks until done. 0 or a negative errno (the controller stays failed).
 */
int plx_nvme_ctrlr_reset(struct plx_nvme_ctrlr *ctrlr);

/* ---- I/O queue pairs ---- */

struct plx_nvme_io_qpair_opts {
	uint32_t io_queue_size;	    /* entries; 0: the controller default */
	uint32_t io_queue_requests; /* request objects; 0: the controller default */
	/*
	 * Batch submissions: commands are queued and the doorbell is rung (PCIe) or the PDUs
	 * written (TCP) once per process_completions call (or when the batch fills), not per
	 * command. The default; false submits each command at once.
	 */
	bool delay_cmd_submit;
};

void plx_nvme_ctrlr_get_default_io_qpair_opts(struct plx_nvme_ctrlr *ctrlr,
					      struct plx_nvme_io_qpair_opts *opts);

/*
 * Allocate and connect an I/O queue pair owned by the calling thread; NULL on failure.
 * Allocating and freeing qpairs may happen on any thread, also while the controller's owner
 * polls its admin queue: they serialise with the admin queue on the controller's lock (a
 * control-path lock; nothing on the I/O path takes it). The I/O path of a qpair stays its
 * owner's alone. Freeing completes the qpair's outstanding commands (aborted) on the calling
 * thread, so free a qpair on the thread that polls it.
 */
struct plx_nvme_qpair *plx_nvme_ctrlr_alloc_io_qpair(struct plx_nvme_ctrlr *ctrlr,
						     const struct plx_nvme_io_qpair_opts *opts);
int plx_nvme_ctrlr_free_io_qpair(struct plx_nvme_qpair *qpair);

/*
 * Submit what is batched, then reap up to max completions (0: no limit) and run their
 * callbacks. Returns the number completed, or -ENXIO when the qpair failed (its outstanding
 * commands have completed with an abort status).
 */
int32_t plx_nvme_qpair_process_completions(struct plx_nvme_qpair *qpair, uint32_t max);

/* Commands submitted and not yet completed. */
uint32_t plx_nvme_qpair_get_outstanding(const struct plx_nvme_qpair *qpair);

/* Any I/O command on qpair (cmd copied; cid assigned by the library). */
int plx_nvme_ctrlr_cmd_io_raw(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_qpair *qpair,
			      const struct plx_nvme_cmd *cmd, void *buf, uint32_t len,
			      plx_nvme_cmd_cb cb, void *cb_arg);

/* ---- namespaces ---- */

uint32_t plx_nvme_ns_get_id(const struct plx_nvme_ns *ns);
uint32_t plx_nvme_ns_get_sector_size(const struct plx_nvme_ns *ns);
uint64_t plx_nvme_ns_get_num_sectors(const struct plx_nvme_ns *ns);
const struct plx_nvme_ns_data *plx_nvme_ns_get_data(const struct plx_nvme_ns *ns);
/* ANA group and state as the last ANA log read reported (0 / OPTIMIZED without ANA). */
uint32_t plx_nvme_ns_get_ana_group_id(const struct plx_nvme_ns *ns);
enum plx_nvme_ana_state plx_nvme_ns_get_ana_state(const struct plx_nvme_ns *ns);

/* Flags of I/O commands (cdw12 bits): force unit access, limited retry. */
#define PLX_NVME_IO_FLAGS_FUA		(1u << 30)
#define PLX_NVME_IO_FLAGS_LIMITED_RETRY (1u << 31)

/* Contiguous buffers (PCIe: from plx_dma_malloc). */
int plx_nvme_ns_cmd_read(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, void *buf,
			 uint64_t lba, uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg,
			 uint32_t io_flags);
int plx_nvme_ns_cmd_write(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, void *buf,
			  uint64_t lba, uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg,
			  uint32_t io_flags);
int plx_nvme_ns_cmd_compare(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, void *buf,
			    uint64_t lba, uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg,
			    uint32_t io_flags);

/*
 * Scatter-gather: reset_sgl(cb_arg, offset) positions at a byte offset of the payload;
 * next_sge(cb_arg, &address, &length) returns the next piece (0, or a negative errno).
 */
typedef void (*plx_nvme_req_reset_sgl_cb)(void *cb_arg, uint32_t offset);
typedef int (*plx_nvme_req_next_sge_cb)(void *cb_arg, void **address, uint32_t *length);
int plx_nvme_ns_cmd_readv(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, uint64_t lba,
			  uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags,
			  plx_nvme_req_reset_sgl_cb reset_sgl, plx_nvme_req_next_sge_cb next_sge);
int plx_nvme_ns_cmd_writev(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, uint64_t lba,
			   uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags,
			   plx_nvme_req_reset_sgl_cb reset_sgl, plx_nvme_req_next_sge_cb next_sge);

int plx_nvme_ns_cmd_write_zeroes(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, uint64_t lba,
				 uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg,
				 uint32_t io_flags);
int plx_nvme_ns_cmd_flush(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair, plx_nvme_cmd_cb cb,
			  void *cb_arg);
/* Deallocate (attributes PLX_NVME_DSM_ATTR_DEALLOCATE) the ranges (copied). */
int plx_nvme_ns_cmd_dataset_management(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair,
				       uint32_t attributes, const struct plx_nvme_dsm_range *ranges,
				       uint16_t num_ranges, plx_nvme_cmd_cb cb, void *cb_arg);
/* Fused Compare and Write of the same range: both complete, the write only on a match. */
int plx_nvme_ns_cmd_compare_and_write(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair,
				      void *compare_buf, void *write_buf, uint64_t lba,
				      uint32_t lba_count, plx_nvme_cmd_cb cb, void *cb_arg);

/* Reservations (data copied). */
int plx_nvme_ns_cmd_reservation_register(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair,
					 const struct plx_nvme_reservation_register_data *data,
					 bool ignore_key, uint8_t action, uint8_t cptpl,
					 plx_nvme_cmd_cb cb, void *cb_arg);
int plx_nvme_ns_cmd_reservation_acquire(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair,
					const struct plx_nvme_reservation_acquire_data *data,
					bool ignore_key, uint8_t action, uint8_t rtype,
					plx_nvme_cmd_cb cb, void *cb_arg);
int plx_nvme_ns_cmd_reservation_release(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair,
					uint64_t crkey, bool ignore_key, uint8_t action,
					uint8_t rtype, plx_nvme_cmd_cb cb, void *cb_arg);
int plx_nvme_ns_cmd_reservation_report(struct plx_nvme_ns *ns, struct plx_nvme_qpair *qpair,
				       void *buf, uint32_t len, bool extended, plx_nvme_cmd_cb cb,
				       void *cb_arg);

#ifdef __cplusplus
}
#endif

#endif /* POLLUX_NVME_H */
