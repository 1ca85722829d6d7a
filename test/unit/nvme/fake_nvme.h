/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fake NVMe transport for the core's unit tests: registers kept in memory, admin commands
 * answered from the tables in g_dev, I/O completed with scripted statuses, and a clock the
 * test moves (it overrides the driver's nvme_ticks: 1 tick = 1 us).
 */
#ifndef POLLUX_TEST_FAKE_NVME_H
#define POLLUX_TEST_FAKE_NVME_H

#include "../../../lib/nvme/nvme_internal.h"

#define FAKE_TRTYPE    0x7f
#define FAKE_MAX_NS    2048
#define FAKE_MAX_CMDS  4096
#define FAKE_MAX_DISC  4
#define FAKE_MAX_PORTS 4
#define FAKE_SUBNQN    "nqn.2016-06.io.pollux:fake"

struct fake_cmd {
	struct plx_nvme_cmd cmd;
	enum nvme_payload_type payload_type;
	void *buf;
	uint32_t payload_size;
	uint16_t qid;
	uint8_t data[64]; /* the first bytes of a host-to-controller payload, as submitted */
};

/*
 * Per-port behaviour, for tests that run several fake controllers at once (the paths of a
 * multipath bdev): a controller belongs to the port whose trsvcid equals its trid's. Knobs
 * left zero change nothing; controllers of no port follow g_dev alone.
 */
struct fake_port {
	char trsvcid[33];
	bool refuse;	 /* connects fail: controller construct, admin and I/O qpair connect */
	bool io_hold;	 /* I/O stays outstanding (fake_port_release_io completes it) */
	uint16_t cntlid; /* Identify Controller CNTLID (0: g_dev.cdata's) */
	bool ana;	 /* the ANA log reports group_state below instead of g_dev's */
	uint8_t group_state[8];
	struct plx_nvme_status io_status; /* how the next io_status_count I/Os complete */
	uint32_t io_status_count;

	/* what happened */
	uint32_t constructs;	 /* controller connects tried (refused ones too) */
	uint32_t admin_connects; /* admin queue reconnects tried: controller resets */
	uint32_t io_submitted;	 /* I/O commands the transport accepted */
};

struct fake_dev {
	/* registers */
	union plx_nvme_cap cap;
	uint32_t vs;
	uint32_t initial_cc;
	bool never_ready;
	bool cfs;
	uint32_t ready_delay_reads; /* CSTS reads before RDY follows CC.EN */
	uint32_t ms_per_csts_read;  /* the clock moves this much on every CSTS read */

	/* admin answers */
	struct plx_nvme_ctrlr_data cdata;
	bool ns_active[FAKE_MAX_NS + 1];
	uint32_t ns_group[FAKE_MAX_NS + 1];
	uint8_t group_state[8];
	uint32_t nq_cdw0;   /* Number of Queues answer; UINT32_MAX: echo the request */
	uint32_t kato_cdw0; /* Get Features Keep Alive Timer answer */
	uint32_t max_xfer;  /* the transport's own limit */
	uint8_t fail_opc;   /* fail admin commands with this opcode (0xff: none) */
	int fail_cns;	    /* ... and, for Identify, only this CNS (-1: any) */
	struct plx_nvme_status fail_status;
	bool abort_completes; /* Abort completes its target with ABORTED_BY_REQUEST */
	struct plx_nvmf_discovery_log_page_entry disc[FAKE_MAX_DISC];
	uint32_t num_disc;

	/* I/O behaviour */
	struct plx_nvme_status io_status[16]; /* statuses of successive I/O completions */
	uint32_t io_status_count, io_status_next;
	bool io_hold;	   /* leave I/O outstanding */
	uint32_t sq_slots; /* per qpair at the transport before -EAGAIN; 0: no limit */
	bool fail_io_process;
	int qpair_connect_rc;
	bool construct_fails;

	/* what happened */
	char log[16384];
	struct fake_cmd admin[FAKE_MAX_CMDS];
	uint32_t num_admin;
	struct fake_cmd io[FAKE_MAX_CMDS];
	uint32_t num_io;
	uint32_t cc_writes, last_cc, keep_alives, aers_pending;
	uint32_t constructs, destructs, qpair_connects, qpair_disconnects;
	uint64_t now; /* us */

	struct fake_port ports[FAKE_MAX_PORTS];
	uint32_t num_ports;
};

extern struct fake_dev g_dev;

/* Defaults: CAP.TO 2 s, MQES 127, VS 1.4, MDTS 5 (128 KiB), namespaces 1 and 2 (4 KiB), AERL 3,
 * namespace attribute notices, 4 queues asked and granted. */
void fake_reset(void);

/* Complete one outstanding AER with cdw0; false when none is outstanding. */
bool fake_aen(uint32_t cdw0);

/* Complete every held I/O with success. */
void fake_release_io(void);

/* The port of trsvcid, added (all knobs off) on first use. */
struct fake_port *fake_port(const char *trsvcid);

/* A lost connection: every I/O qpair of trsvcid's controllers connected now fails at its next
 * poll (qpairs connected later work). Returns how many were hit. */
uint32_t fake_port_fail_qpairs(const char *trsvcid);

/* Complete trsvcid's held I/O with success; how many. */
uint32_t fake_port_release_io(const char *trsvcid);

/* I/O held at trsvcid's qpairs. */
uint32_t fake_port_held_io(const char *trsvcid);

/* Complete one outstanding AER of a controller of trsvcid; false when none is outstanding. */
bool fake_port_aen(const char *trsvcid, uint32_t cdw0);

/* A connected controller with default options but for opts (may be NULL). */
struct plx_nvme_ctrlr *fake_connect(const struct plx_nvme_ctrlr_opts *opts);

/* The admin commands of opcode opc seen so far; the last one or NULL. */
uint32_t fake_count_admin(uint8_t opc);
const struct fake_cmd *fake_last_admin(uint8_t opc);

#endif
