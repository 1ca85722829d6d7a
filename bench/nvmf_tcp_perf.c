/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvmf_tcp_perf: a one-thread NVMe/TCP load generator with SPDK perf's options and output, the
 * stop-gap host of bench/nvmf_tcp.sh until Pollux has its own initiator (issue 6).
 *
 * It must not be the bottleneck, so it works like a polled-mode host: non-blocking sockets in a
 * busy loop, one recv per connection and loop that parses every PDU it holds, every PDU queued
 * in a loop sent by one writev, preallocated command slots and buffers (nothing allocated per
 * I/O), one clock read per receive batch. Read data is received but only copied out when -V
 * checks it; write data goes from preallocated buffers, in-capsule when the controller's
 * capsule allows it (IOCCSZ), else on R2T.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvmf_tcp_perf.h"

#define ADMIN_SLOTS	  2  /* one for synchronous commands, one for keep-alive */
#define STALL_TIMEOUT_S	  10 /* I/O phase: no completion for this long with I/O outstanding */
#define KATO_MS		  10000
#define VERIFY_MAX_BLOCKS (1u << 24)
#define VERIFY_MAGIC	  0x5946495245584c50ull /* "PLXERIFY" */

/* ---- options ---- */

struct perf_opts {
	char traddr[PLX_NVMF_TRADDR_MAX_LEN + 1];
	char trsvcid[33];
	char subnqn[PLX_NVMF_NQN_MAX_LEN + 1];
	char hostnqn[PLX_NVMF_NQN_MAX_LEN + 1];
	int family;
	uint32_t qd;
	uint32_t io_size;
	bool random;
	int read_pct;
	uint32_t time_s;
	int latency;
	bool hdgst;
	bool ddgst;
	bool verify;
	uint32_t nqpairs;
	uint64_t seed;
	int core;
	const char *workload;
};

static void usage(void)
{
	printf("usage: " PROG " -r TRID [options]\n"
	       " -r TRID   'trtype:tcp adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:NQN'\n"
	       "           (also hostnqn:NQN)\n"
	       " -q N      queue depth, total for the namespace (default 64)\n"
	       " -o SIZE   I/O size in bytes, 4k accepted (default 4096)\n"
	       " -w TYPE   read, write, randread, randwrite, rw, randrw (default randread)\n"
	       " -M PCT    read percentage of rw/randrw (default 50)\n"
	       " -t SEC    run time (default 10)\n"
	       " -L        latency percentiles; -LL also the histogram\n"
	       " -H / -I   header / data digest\n"
	       " -P N      number of I/O queue pairs, each its own connection (default 1)\n"
	       " -s SEED   seed of the offset generator (default 1)\n"
	       " -c MASK   core mask; the first core in it runs the tool (default the last core)\n"
	       " -V        verify: writes carry LBA and sequence stamps, reads are checked\n"
	       " --self-test  check the histogram, the PDU layouts and the option parsers\n");
}

static int copy_field(char *dst, size_t cap, const char *val, const char *key)
{
	if (strlen(val) >= cap) {
		return fail("%s too long: %s", key, val);
	}
	strcpy(dst, val);
	return 0;
}

/* SPDK's transport ID string: whitespace-separated key:value pairs (the value may hold ':'). */
static int parse_trid(struct perf_opts *o, const char *str)
{
	char buf[1024], *save = NULL, *tok;

	if (strlen(str) >= sizeof(buf)) {
		return fail("-r: transport ID too long");
	}
	strcpy(buf, str);
	for (tok = strtok_r(buf, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
		char *val = strchr(tok, ':');
		int rc = 0;

		if (val == NULL) {
			val = strchr(tok, '=');
		}
		if (val == NULL || val[1] == '\0') {
			return fail("-r: '%s' is not key:value", tok);
		}
		*val++ = '\0';
		if (strcasecmp(tok, "trtype") == 0) {
			if (strcasecmp(val, "tcp") != 0) {
				return fail("-r: only trtype:tcp is supported, not %s", val);
			}
		} else if (strcasecmp(tok, "adrfam") == 0) {
			if (strcasecmp(val, "ipv4") == 0) {
				o->family = AF_INET;
			} else if (strcasecmp(val, "ipv6") == 0) {
				o->family = AF_INET6;
			} else {
				return fail("-r: adrfam %s is not IPv4 or IPv6", val);
			}
		} else if (strcasecmp(tok, "traddr") == 0) {
			rc = copy_field(o->traddr, sizeof(o->traddr), val, "traddr");
		} else if (strcasecmp(tok, "trsvcid") == 0) {
			rc = copy_field(o->trsvcid, sizeof(o->trsvcid), val, "trsvcid");
		} else if (strcasecmp(tok, "subnqn") == 0) {
			rc = copy_field(o->subnqn, sizeof(o->subnqn), val, "subnqn");
		} else if (strcasecmp(tok, "hostnqn") == 0) {
			rc = copy_field(o->hostnqn, sizeof(o->hostnqn), val, "hostnqn");
		} else {
			return fail("-r: unknown key '%s'", tok);
		}
		if (rc != 0) {
			return rc;
		}
	}
	if (o->traddr[0] == '\0') {
		return fail("-r: traddr is missing");
	}
	return 0;
}

static int parse_u32(const char *opt, const char *str, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (plx_parse_size(str, &v) != 0 || v < min || v > max) {
		return fail("%s: '%s' is not a number in [%u, %u]", opt, str, min, max);
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_workload(struct perf_opts *o, const char *w, bool m_given)
{
	static const struct {
		const char *name;
		bool random;
		int read_pct; /* -1: from -M */
	} kinds[] = {{"read", false, 100},   {"write", false, 0}, {"randread", true, 100},
		     {"randwrite", true, 0}, {"rw", false, -1},	  {"randrw", true, -1}};

	for (size_t i = 0; i < PLX_COUNTOF(kinds); i++) {
		if (strcmp(w, kinds[i].name) == 0) {
			o->random = kinds[i].random;
			if (kinds[i].read_pct >= 0) {
				if (m_given) {
					fprintf(stderr, PROG ": -M is ignored with -w %s\n", w);
				}
				o->read_pct = kinds[i].read_pct;
			}
			o->workload = kinds[i].name;
			return 0;
		}
	}
	return fail("-w: unknown workload '%s'", w);
}

static int self_test(void);

/* 0: run; 1: exit 0 (help); -1: error. */
static int parse_args(int argc, char **argv, struct perf_opts *o)
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
						 {"self-test", no_argument, NULL, 'T'},
						 {NULL, 0, NULL, 0}};
	const char *workload = "randread";
	bool m_given = false;
	uint32_t v = 0;
	int c;

	memset(o, 0, sizeof(*o));
	o->family = AF_INET;
	strcpy(o->traddr, "127.0.0.1");
	strcpy(o->trsvcid, "4420");
	strcpy(o->subnqn, "nqn.2016-06.io.spdk:cnode1");
	o->qd = 64;
	o->io_size = 4096;
	o->read_pct = 50;
	o->time_s = 10;
	o->nqpairs = 1;
	o->seed = 1;
	o->core = -1;
	optind = 0; /* glibc: start over, also when --self-test parses again */
	while ((c = getopt_long(argc, argv, "r:q:o:w:M:t:LHIP:s:c:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (parse_trid(o, optarg) != 0) {
				return -1;
			}
			break;
		case 'q':
			if (parse_u32("-q", optarg, 1, 65535, &o->qd) != 0) {
				return -1;
			}
			break;
		case 'o':
			if (parse_u32("-o", optarg, 512, 64u << 20, &o->io_size) != 0) {
				return -1;
			}
			break;
		case 'w':
			workload = optarg;
			break;
		case 'M':
			if (parse_u32("-M", optarg, 0, 100, &v) != 0) {
				return -1;
			}
			o->read_pct = (int)v;
			m_given = true;
			break;
		case 't':
			if (parse_u32("-t", optarg, 1, 86400, &o->time_s) != 0) {
				return -1;
			}
			break;
		case 'L':
			o->latency++;
			break;
		case 'H':
			o->hdgst = true;
			break;
		case 'I':
			o->ddgst = true;
			break;
		case 'P':
			if (parse_u32("-P", optarg, 1, 64, &o->nqpairs) != 0) {
				return -1;
			}
			break;
		case 's': {
			char *end;

			errno = 0;
			o->seed = strtoull(optarg, &end, 0);
			if (errno != 0 || *end != '\0' || end == optarg) {
				return fail("-s: '%s' is not a number", optarg);
			}
			break;
		}
		case 'c': {
			struct plx_cpuset set;

			if (plx_cpuset_parse(&set, optarg) != 0 || plx_cpuset_next(&set, 0) < 0) {
				return fail("-c: bad core mask '%s'", optarg);
			}
			o->core = plx_cpuset_next(&set, 0);
			break;
		}
		case 'V':
			o->verify = true;
			break;
		case 'h':
			usage();
			return 1;
		case 'T':
			return self_test() == 0 ? 1 : -1;
		default:
			usage();
			return -1;
		}
	}
	if (optind < argc) {
		return fail("unexpected argument '%s'", argv[optind]);
	}
	if (parse_workload(o, workload, m_given) != 0) {
		return -1;
	}
	if (o->nqpairs > o->qd) {
		return fail("-P %u needs a queue depth of at least %u", o->nqpairs, o->nqpairs);
	}
	return 0;
}

/* ---- latency histogram: log-linear, 128 linear steps per power of two (error < 0.8%) ---- */

#define HIST_SUB_BITS 7
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_BUCKETS  ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count[HIST_BUCKETS];
	uint64_t n;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
};

static inline uint32_t hist_index(uint64_t v)
{
	uint32_t shift = 0;

	if (v >= 2 * HIST_SUB) {
		shift = (uint32_t)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
	}
	return (shift << HIST_SUB_BITS) + (uint32_t)(v >> shift);
}

/* Smallest value and width of bucket idx. */
static void hist_bucket_range(uint32_t idx, uint64_t *lo, uint64_t *width)
{
	uint32_t g = idx >> HIST_SUB_BITS, shift = g == 0 ? 0 : g - 1;

	*lo = (uint64_t)(idx - (shift << HIST_SUB_BITS)) << shift;
	*width = 1ull << shift;
}

static inline void hist_add(struct hist *h, uint64_t v)
{
	h->count[hist_index(v)]++;
	h->n++;
	h->sum += v;
	if (v < h->min) {
		h->min = v;
	}
	if (v > h->max) {
		h->max = v;
	}
}

static void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/* The value at or below which pct percent of the samples lie: its bucket's top, within min..max. */
static uint64_t hist_percentile(const struct hist *h, double pct)
{
	uint64_t want = (uint64_t)((double)h->n * pct / 100.0 + 0.999999), seen = 0, lo, width;

	if (h->n == 0) {
		return 0;
	}
	if (want == 0) {
		want = 1;
	}
	for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= want) {
			hist_bucket_range(i, &lo, &width);
			return PLX_MAX(h->min, PLX_MIN(h->max, lo + width - 1));
		}
	}
	return h->max;
}

static double ticks_to_us(uint64_t t)
{
	return (double)t * 1e6 / (double)g_hz;
}

struct perf {
	struct perf_opts o;
	struct host_params host;
	struct conn admin;
	struct conn *io;
	uint16_t cntlid;
	union plx_nvme_cap cap;
	uint32_t mdts_bytes; /* 0: no limit */
	uint32_t ioccsz;
	uint32_t block_size;
	uint64_t nblocks;
	uint32_t nlb_per_io;
	uint64_t nios; /* I/O-sized units in the range used */
	uint64_t seq_next;
	uint64_t rng;
	bool running; /* counting completions */
	bool failed;
	uint64_t inflight;
	struct slot *ka_slot; /* Keep Alive outstanding on the admin queue */
	bool admin_ready;     /* enabled and not broken: worth a clean shutdown */
	struct hist hist;
	uint64_t reads;
	uint64_t writes;
	uint64_t idle_ticks; /* of the run, in loops that received nothing */
	/* verify */
	uint32_t *expect; /* per block: stamp of the last completed write, 0 unknown */
	uint8_t *claim;	  /* per block: 0 free, 1..254 readers, 255 a writer */
	uint32_t stamp;
	uint64_t verified_blocks;
};

static inline uint64_t rand_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Wait until CSTS.RDY == rdy, or for a shutdown (rdy < 0) until SHST is complete. */
static void io_complete(struct conn *c, struct slot *s);

static int wait_csts(struct perf *p, int rdy, uint64_t timeout_ms)
{
	uint64_t deadline = mono_ns() + timeout_ms * 1000000ull, v;
	union plx_nvme_csts csts;

	for (;;) {
		if (prop_get(&p->admin, PLX_NVME_REG_CSTS, false, &v) != 0) {
			return -1;
		}
		csts.raw = (uint32_t)v;
		if (csts.bits.cfs) {
			return fail("controller fatal status (CSTS 0x%08x)", csts.raw);
		}
		if (rdy >= 0 ? csts.bits.rdy == (uint32_t)rdy
			     : csts.bits.shst == PLX_NVME_SHST_COMPLETE) {
			return 0;
		}
		if (mono_ns() > deadline) {
			return fail("CSTS 0x%08x: %s not reached within %" PRIu64 " ms", csts.raw,
				    rdy >= 0 ? "RDY" : "shutdown complete", timeout_ms);
		}
		usleep(1000);
	}
}

static int admin_setup(struct perf *p)
{
	struct plx_nvme_ctrlr_data *cd = NULL;
	struct plx_nvme_ns_data *nd = NULL;
	union plx_nvme_cc cc = {0};
	uint32_t lbads;
	int rc = -1;

	if (conn_open(&p->host, &p->admin, 0, ADMIN_SLOTS, ADMIN_BUF) != 0 ||
	    fabric_connect(&p->host, &p->admin, 31, KATO_MS, &p->cntlid) != 0 ||
	    prop_get(&p->admin, PLX_NVME_REG_CAP, true, &p->cap.raw) != 0) {
		return -1;
	}
	cc.bits.en = 1;
	cc.bits.iosqes = 6;
	cc.bits.iocqes = 4;
	if (prop_set(&p->admin, PLX_NVME_REG_CC, cc.raw) != 0 ||
	    wait_csts(p, 1, PLX_MAX(1000u, 500u * (uint32_t)p->cap.bits.to)) != 0) {
		return -1;
	}
	cd = aligned_alloc(64, sizeof(*cd));
	nd = aligned_alloc(64, sizeof(*nd));
	if (cd == NULL || nd == NULL) {
		fail("out of memory");
		goto out;
	}
	if (identify(&p->admin, PLX_NVME_IDENTIFY_CTRLR, 0, cd) != 0 ||
	    identify(&p->admin, PLX_NVME_IDENTIFY_NS, 1, nd) != 0) {
		goto out;
	}
	p->ioccsz = cd->ioccsz;
	p->mdts_bytes =
	    cd->mdts == 0 || cd->mdts > 20 ? 0 : (1u << cd->mdts) << (12 + p->cap.bits.mpsmin);
	lbads = nd->lbaf[nd->flbas & 0xf].lbads;
	if (nd->nsze == 0 || lbads < 9 || lbads > 16) {
		fail("namespace 1 is not active (nsze %" PRIu64 ", lbads %u)", nd->nsze, lbads);
		goto out;
	}
	p->block_size = 1u << lbads;
	p->nblocks = nd->nsze;
	printf("Attached to NVMe over Fabrics controller at %s:%s: %s (cntlid %u, model '%.40s')\n",
	       p->o.traddr, p->o.trsvcid, p->o.subnqn, p->cntlid, cd->mn);
	printf("  namespace 1: %" PRIu64 " blocks of %u bytes (%" PRIu64
	       " MiB); mdts %u bytes; ioccsz %u (in-capsule data up to %u bytes); MQES %u\n",
	       p->nblocks, p->block_size, p->nblocks * p->block_size >> 20, p->mdts_bytes,
	       p->ioccsz, p->ioccsz >= 4 ? p->ioccsz * 16 - 64 : 0, (unsigned)p->cap.bits.mqes);
	p->admin_ready = true;
	rc = 0;
out:
	free(cd);
	free(nd);
	return rc;
}

static int io_setup(struct perf *p)
{
	uint32_t n = p->o.nqpairs,
		 buf = PLX_MAX(p->o.io_size, (uint32_t)sizeof(struct plx_nvmf_connect_data));

	p->io = calloc(n, sizeof(*p->io));
	if (p->io == NULL) {
		return fail("out of memory");
	}
	for (uint32_t i = 0; i < n; i++) {
		struct conn *c = &p->io[i];
		uint32_t qd = p->o.qd / n + (i < p->o.qd % n ? 1 : 0);

		if (qd > p->cap.bits.mqes) {
			return fail(
			    "queue depth %u per queue pair exceeds the target's limit of %u "
			    "commands (CAP.MQES %u); use -P to spread it",
			    qd, (unsigned)p->cap.bits.mqes, (unsigned)p->cap.bits.mqes);
		}
		if (conn_open(&p->host, c, (uint16_t)(i + 1), qd, buf) != 0) {
			return -1;
		}
		c->icd_max = p->ioccsz >= 4 ? p->ioccsz * 16 - 64 : 0;
		c->io_done = io_complete;
		c->ctx = p;
		c->qd = qd;
		/* SQSIZE is 0's based and a queue of N entries holds N - 1 commands. */
		if (fabric_connect(&p->host, c, (uint16_t)qd, 0, &p->cntlid) != 0) {
			return -1;
		}
		for (uint32_t k = 0; k < c->nslots; k++) {
			struct plx_nvme_cmd *cmd = slot_cmd(&c->slots[k]);

			c->slots[k].sync = false;
			c->slots[k].keep_data = p->o.verify;
			memset(cmd, 0, sizeof(*cmd));
			cmd->psdt = 1;
			cmd->nsid = 1;
		}
	}
	return 0;
}

static void shutdown_ctrlr(struct perf *p)
{
	union plx_nvme_cc cc = {0};

	if (!p->admin_ready) {
		return;
	}
	cc.bits.en = 1;
	cc.bits.iosqes = 6;
	cc.bits.iocqes = 4;
	cc.bits.shn = PLX_NVME_SHN_NORMAL;
	if (prop_set(&p->admin, PLX_NVME_REG_CC, cc.raw) == 0) {
		wait_csts(p, -1, 2000);
	}
}

/* ---- the I/O loop ---- */

static inline uint64_t verify_pattern(uint64_t lba, uint32_t seq, uint32_t word)
{
	return (lba * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)seq << 32) ^ word;
}

static void verify_stamp(struct perf *p, struct slot *s)
{
	for (uint32_t b = 0; b < s->nlb; b++) {
		uint64_t *w = (uint64_t *)(s->buf + (size_t)b * p->block_size);
		uint64_t lba = s->lba + b;

		w[0] = VERIFY_MAGIC;
		w[1] = lba;
		w[2] = s->seq;
		for (uint32_t i = 3; i < p->block_size / 8; i++) {
			w[i] = verify_pattern(lba, s->seq, i);
		}
	}
}

static int verify_check(struct perf *p, struct slot *s)
{
	for (uint32_t b = 0; b < s->nlb; b++) {
		const uint64_t *w = (const uint64_t *)(s->buf + (size_t)b * p->block_size);
		uint64_t lba = s->lba + b;
		uint32_t seq = p->expect[lba];

		if (seq == 0) {
			continue; /* not written by this run */
		}
		for (uint32_t i = 0; i < p->block_size / 8; i++) {
			uint64_t want = i == 0	 ? VERIFY_MAGIC
					: i == 1 ? lba
					: i == 2 ? seq
						 : verify_pattern(lba, seq, i);

			if (w[i] != want) {
				return fail("verify: LBA %" PRIu64 " word %u is 0x%016" PRIx64
					    ", expected 0x%016" PRIx64 " (block stamp: LBA %" PRIu64
					    " write #%" PRIu64 "; expected write #%u)",
					    lba, i, w[i], want, w[1], w[2], seq);
			}
		}
		p->verified_blocks++;
	}
	return 0;
}

/* Claim the blocks of an I/O so no read overlaps a write in flight; false if taken. */
static bool verify_claim(struct perf *p, uint64_t lba, uint32_t nlb, bool is_read)
{
	for (uint32_t b = 0; b < nlb; b++) {
		uint8_t v = p->claim[lba + b];

		if (v == 255 || (!is_read && v != 0) || v == 254) {
			return false;
		}
	}
	for (uint32_t b = 0; b < nlb; b++) {
		p->claim[lba + b] = is_read ? p->claim[lba + b] + 1 : 255;
	}
	return true;
}

static void verify_release(struct perf *p, struct slot *s, bool is_read)
{
	for (uint32_t b = 0; b < s->nlb; b++) {
		p->claim[s->lba + b] = is_read ? p->claim[s->lba + b] - 1 : 0;
	}
}

/* Start one I/O on c; false when none could start (verify found no free range this time). */
static bool submit_io(struct perf *p, struct conn *c)
{
	struct slot *s;
	struct plx_nvme_cmd *cmd;
	bool is_read = p->o.read_pct == 100 ||
		       (p->o.read_pct > 0 && (int)(rand_next(&p->rng) % 100) < p->o.read_pct);
	uint64_t lba = 0;
	int tries;

	for (tries = 0; tries < 16; tries++) {
		uint64_t unit;

		if (p->o.random) {
			unit = (uint64_t)(((unsigned __int128)rand_next(&p->rng) * p->nios) >> 64);
		} else {
			unit = p->seq_next;
			p->seq_next = p->seq_next + 1 == p->nios ? 0 : p->seq_next + 1;
		}
		lba = unit * p->nlb_per_io;
		if (!p->o.verify || verify_claim(p, lba, p->nlb_per_io, is_read)) {
			break;
		}
	}
	if (tries == 16) {
		return false;
	}
	s = slot_get(c);
	cmd = slot_cmd(s);
	s->opc = is_read ? PLX_NVME_OPC_READ : PLX_NVME_OPC_WRITE;
	s->dir = is_read ? PLX_NVME_DATA_CONTROLLER_TO_HOST : PLX_NVME_DATA_HOST_TO_CONTROLLER;
	s->lba = lba;
	s->nlb = p->nlb_per_io;
	s->len = p->o.io_size;
	s->tsc = c->now;
	cmd->opc = s->opc;
	cmd->cdw10 = (uint32_t)lba;
	cmd->cdw11 = (uint32_t)(lba >> 32);
	cmd->cdw12 = s->nlb - 1;
	if (p->o.verify && !is_read) {
		s->seq = ++p->stamp;
		verify_stamp(p, s);
	}
	conn_submit(c, s);
	p->inflight++;
	return true;
}

static void io_complete(struct conn *c, struct slot *s)
{
	struct perf *p = c->ctx;
	bool is_read = s->opc == PLX_NVME_OPC_READ;

	p->inflight--;
	if (plx_unlikely(plx_nvme_cpl_is_error(&s->cpl))) {
		fprintf(stderr,
			PROG ": %s of LBA %" PRIu64 " (%u blocks) on queue %u failed: sct 0x%x "
			     "sc 0x%02x (%s)\n",
			is_read ? "read" : "write", s->lba, s->nlb, c->qid, s->cpl.status.sct,
			s->cpl.status.sc, status_str(&s->cpl));
		p->failed = true;
	} else if (p->o.verify) {
		if (is_read) {
			if (verify_check(p, s) != 0) {
				p->failed = true;
			}
		} else {
			for (uint32_t b = 0; b < s->nlb; b++) {
				p->expect[s->lba + b] = s->seq;
			}
		}
	}
	if (p->o.verify) {
		verify_release(p, s, is_read);
	}
	if (plx_likely(p->running)) {
		hist_add(&p->hist, c->now - s->tsc);
		if (is_read) {
			p->reads++;
		} else {
			p->writes++;
		}
	}
	slot_put(c, s);
}

static void send_keep_alive(struct perf *p)
{
	struct conn *a = &p->admin;
	struct plx_nvme_cmd *cmd;
	struct slot *s;

	if (p->ka_slot != NULL || (s = slot_get(a)) == NULL) {
		return; /* the last one is still out */
	}
	cmd = slot_cmd(s);
	memset(cmd, 0, sizeof(*cmd));
	cmd->opc = PLX_NVME_OPC_KEEP_ALIVE;
	cmd->psdt = 1;
	s->opc = PLX_NVME_OPC_KEEP_ALIVE;
	s->dir = PLX_NVME_DATA_NONE;
	s->len = 0;
	s->sync = true;
	conn_submit(a, s);
	p->ka_slot = s;
}

static int poll_admin(struct perf *p)
{
	struct conn *a = &p->admin;
	struct slot *s = p->ka_slot;

	if (conn_flush(a) != 0 || conn_poll(a) < 0) {
		p->admin_ready = false;
		return -1;
	}
	if (s != NULL && s->done) {
		p->ka_slot = NULL;
		slot_put(a, s);
		if (plx_nvme_cpl_is_error(&s->cpl)) {
			return fail("Keep Alive failed: sct 0x%x sc 0x%02x (%s)", s->cpl.status.sct,
				    s->cpl.status.sc, status_str(&s->cpl));
		}
	}
	return 0;
}

static int run(struct perf *p, uint64_t *elapsed)
{
	uint64_t start = ticks(), end = start + (uint64_t)p->o.time_s * g_hz, now = start;
	uint64_t ka_period = (uint64_t)KATO_MS * g_hz / 4000, next_ka = start + ka_period;
	uint64_t next_admin = start, last_progress = start, stop = 0, idle = 0;
	uint64_t stall = (uint64_t)STALL_TIMEOUT_S * g_hz;

	p->running = true;
	hist_reset(&p->hist);
	for (uint32_t i = 0; i < p->o.nqpairs; i++) {
		p->io[i].now = start;
	}
	for (;;) {
		bool progress = false;

		for (uint32_t i = 0; i < p->o.nqpairs; i++) {
			struct conn *c = &p->io[i];
			int rc = conn_poll(c);

			if (rc < 0) {
				return -1;
			}
			if (rc > 0) {
				progress = true;
			} else if (c->inflight < c->qd && p->running) {
				/* Submissions without a receive batch this loop. */
				c->now = ticks();
			}
			while (p->running && c->inflight < c->qd && !p->failed) {
				if (!submit_io(p, c)) {
					break;
				}
			}
			if (c->iov_cnt > 0 && conn_flush(c) != 0) {
				return -1;
			}
		}
		if (p->failed) {
			return -1;
		}
		/* One more clock read per loop: loops that found no data are the idle share. */
		if (!progress) {
			uint64_t t = ticks();

			if (p->running) {
				idle += t - now;
			}
			now = t;
		} else {
			now = ticks();
			last_progress = now;
		}
		if (p->running && now >= end) {
			p->running = false;
			stop = now;
			p->idle_ticks = idle;
		}
		if (!p->running && p->inflight == 0) {
			break;
		}
		if (now >= next_admin) {
			next_admin = now + g_hz / 1000;
			if (now >= next_ka) {
				next_ka = now + ka_period;
				send_keep_alive(p);
			}
			if (poll_admin(p) != 0) {
				return -1;
			}
		}
		if (p->inflight > 0 && now - last_progress > stall) {
			return fail("no completion for %d s with %" PRIu64 " commands outstanding: "
				    "the target stalled",
				    STALL_TIMEOUT_S, p->inflight);
		}
	}
	*elapsed = stop - start;
	return 0;
}

/* ---- output ---- */

static void print_results(struct perf *p, uint64_t elapsed, int core)
{
	const struct hist *h = &p->hist;
	double secs = (double)elapsed / (double)g_hz, iops = (double)h->n / secs;
	double mibs = iops * p->o.io_size / (1024.0 * 1024.0);
	double avg = h->n ? ticks_to_us(h->sum) / (double)h->n : 0;
	double mn = h->n ? ticks_to_us(h->min) : 0, mx = ticks_to_us(h->max);
	static const double pcts[] = {1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99};
	char name[640];

	snprintf(name, sizeof(name), "TCP  (addr:%s subnqn:%s) NSID 1 from core %2d", p->o.traddr,
		 p->o.subnqn, core);
	printf("========================================================\n");
	printf("%*s\n", 88, "Latency(us)");
	printf("%-60s: %10s %10s %10s %10s %10s\n", "Device Information", "IOPS", "MiB/s",
	       "Average", "min", "max");
	printf("%-60s: %10.2f %10.2f %10.2f %10.2f %10.2f\n", name, iops, mibs, avg, mn, mx);
	printf("========================================================\n");
	printf("%-60s: %10.2f %10.2f %10.2f %10.2f %10.2f\n", "Total", iops, mibs, avg, mn, mx);
	printf("\n(%" PRIu64 " reads, %" PRIu64 " writes in %.3f s", p->reads, p->writes, secs);
	if (p->o.verify) {
		printf("; %" PRIu64 " blocks verified", p->verified_blocks);
	}
	printf(")\n");
	printf("initiator busy: %.1f%% of the run (the rest polled sockets with nothing to read)\n",
	       100.0 - 100.0 * (double)p->idle_ticks / (double)elapsed);
	if (p->o.latency == 0) {
		return;
	}
	printf("\nSummary latency data for %s:\n", name);
	printf(
	    "=================================================================================\n");
	for (size_t i = 0; i < PLX_COUNTOF(pcts); i++) {
		printf("%9.5f%% : %12.3fus\n", pcts[i], ticks_to_us(hist_percentile(h, pcts[i])));
	}
	printf("\n");
	if (p->o.latency < 2) {
		return;
	}
	printf("Latency histogram for %s:\n", name);
	printf("==============================================================================\n");
	printf("       Range in us     Cumulative    IO count\n");
	uint64_t seen = 0;
	for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
		uint64_t lo, width;

		if (h->count[i] == 0) {
			continue;
		}
		hist_bucket_range(i, &lo, &width);
		seen += h->count[i];
		printf("%10.3f - %10.3f: %9.4f%%  (%9" PRIu64 ")\n", ticks_to_us(lo),
		       ticks_to_us(lo + width), 100.0 * (double)seen / (double)h->n, h->count[i]);
	}
	printf("\n");
}

static int pin_thread(int core)
{
	cpu_set_t set;

	if (core < 0) {
		if (sched_getaffinity(0, sizeof(set), &set) != 0) {
			return fail("sched_getaffinity: %s", strerror(errno));
		}
		for (int i = CPU_SETSIZE - 1; i >= 0; i--) {
			if (CPU_ISSET(i, &set)) {
				core = i;
				break;
			}
		}
	}
	CPU_ZERO(&set);
	CPU_SET(core, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fail("cannot run on core %d: %s", core, strerror(errno));
		return -1;
	}
	return core;
}

static int prepare(struct perf *p)
{
	uint64_t blocks;

	if (p->o.io_size % p->block_size != 0) {
		return fail("-o %u is not a multiple of the block size %u", p->o.io_size,
			    p->block_size);
	}
	if (p->mdts_bytes != 0 && p->o.io_size > p->mdts_bytes) {
		return fail(
		    "-o %u exceeds the controller's maximum transfer size (MDTS) of %u bytes",
		    p->o.io_size, p->mdts_bytes);
	}
	p->nlb_per_io = p->o.io_size / p->block_size;
	blocks = p->nblocks;
	if (p->o.verify) {
		blocks = PLX_MIN(blocks, (uint64_t)VERIFY_MAX_BLOCKS);
		p->expect = calloc(blocks, sizeof(*p->expect));
		p->claim = calloc(blocks, 1);
		if (p->expect == NULL || p->claim == NULL) {
			return fail("out of memory");
		}
	}
	p->nios = blocks / p->nlb_per_io;
	if (p->nios == 0) {
		return fail("the namespace is smaller than one I/O");
	}
	p->rng = p->o.seed;
	return 0;
}

static void perf_free(struct perf *p)
{
	for (uint32_t i = 0; p->io != NULL && i < p->o.nqpairs; i++) {
		conn_free(&p->io[i]);
	}
	free(p->io);
	conn_free(&p->admin);
	free(p->expect);
	free(p->claim);
}

int main(int argc, char **argv)
{
	struct perf *p = calloc(1, sizeof(*p));
	char uuid[PLX_UUID_STRING_LEN];
	uint64_t elapsed = 0;
	int rc, core;

	if (p == NULL) {
		return 1;
	}
	p->admin.fd = -1;
	rc = parse_args(argc, argv, &p->o);
	if (rc != 0) {
		free(p);
		return rc > 0 ? 0 : 1;
	}
	core = pin_thread(p->o.core);
	if (core < 0) {
		free(p);
		return 1;
	}
	clock_init();
	plx_uuid_generate(&p->host.hostid);
	plx_uuid_fmt_lower(uuid, sizeof(uuid), &p->host.hostid);
	if (p->o.hostnqn[0] != '\0') {
		strcpy(p->host.hostnqn, p->o.hostnqn);
	} else {
		snprintf(p->host.hostnqn, sizeof(p->host.hostnqn), "%s%s", PLX_NVMF_NQN_UUID_PRE,
			 uuid);
	}
	strcpy(p->host.traddr, p->o.traddr);
	strcpy(p->host.trsvcid, p->o.trsvcid);
	strcpy(p->host.subnqn, p->o.subnqn);
	p->host.family = p->o.family;
	p->host.hdgst = p->o.hdgst;
	p->host.ddgst = p->o.ddgst;
	printf(PROG
	       ": -q %u -o %u -w %s -M %d -t %u -P %u%s%s%s on core %d (clock: %s, %.3f GHz)\n",
	       p->o.qd, p->o.io_size, p->o.workload, p->o.read_pct, p->o.time_s, p->o.nqpairs,
	       p->o.hdgst ? " -H" : "", p->o.ddgst ? " -I" : "", p->o.verify ? " -V" : "", core,
	       g_use_tsc ? "TSC" : "CLOCK_MONOTONIC_RAW", (double)g_hz / 1e9);
	rc = admin_setup(p) == 0 && prepare(p) == 0 && io_setup(p) == 0 ? 0 : -1;
	if (rc == 0) {
		printf("Associating TCP (addr:%s subnqn:%s) NSID 1 with lcore %d: %u I/O queue "
		       "pair(s), %s%s, writes %s\n",
		       p->o.traddr, p->o.subnqn, core, p->o.nqpairs,
		       p->io[0].hdgst ? "header digest" : "no header digest",
		       p->io[0].ddgst ? ", data digest" : "",
		       p->o.io_size <= p->io[0].icd_max ? "in-capsule" : "on R2T");
		fflush(stdout);
		rc = run(p, &elapsed);
	}
	if (rc == 0) {
		print_results(p, elapsed, core);
	}
	shutdown_ctrlr(p);
	perf_free(p);
	free(p);
	return rc == 0 ? 0 : 1;
}

/* ---- --self-test: what can be checked without a target ---- */

#define ST_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "self-test failed at line %d: %s\n", __LINE__, #cond);     \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

static int self_test_hist(void)
{
	static struct hist h;
	uint64_t lo, width, prev_end = 0;

	/* Buckets tile the whole range without gaps, and every value falls in its own. */
	for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
		hist_bucket_range(i, &lo, &width);
		ST_CHECK(lo == prev_end || (i == 0 && lo == 0));
		ST_CHECK(hist_index(lo) == i && hist_index(lo + width - 1) == i);
		prev_end = lo + width;
		if (i > 2 * HIST_SUB) {
			ST_CHECK(width * HIST_SUB <= lo); /* relative error under 1/128 */
		}
	}
	ST_CHECK(prev_end == 0); /* wrapped exactly at 2^64 */
	ST_CHECK(hist_index(UINT64_MAX) == HIST_BUCKETS - 1);
	hist_reset(&h);
	for (uint64_t v = 1; v <= 1000; v++) {
		hist_add(&h, v * 1000);
	}
	ST_CHECK(h.n == 1000 && h.min == 1000 && h.max == 1000000);
	for (int pct = 1; pct <= 100; pct++) {
		uint64_t got = hist_percentile(&h, pct), want = (uint64_t)pct * 10 * 1000;

		ST_CHECK(got >= want && got <= want + want / 128 + 1);
	}
	ST_CHECK(hist_percentile(&h, 99.9) >= 999000 && hist_percentile(&h, 99.9) <= 1000000);
	return 0;
}

static int self_test_pdu(void)
{
	struct conn c;
	struct slot *s;
	struct plx_nvme_tcp_cmd *pdu;
	const uint8_t *raw;
	uint32_t crc;

	memset(&c, 0, sizeof(c));
	c.hdgst = c.ddgst = true;
	c.cpda_align = 4;
	c.maxh2cdata = 8192;
	c.max_h2c_pdus = 2;
	c.icd_max = 4096;
	ST_CHECK(conn_alloc(&c, 2, 16384) == 0);

	/* In-capsule 4 KiB write with both digests: header 72 + 4, data at pdo 76. */
	s = slot_get(&c);
	memset(slot_cmd(s), 0, 64);
	slot_cmd(s)->opc = PLX_NVME_OPC_WRITE;
	s->opc = PLX_NVME_OPC_WRITE;
	s->dir = PLX_NVME_DATA_HOST_TO_CONTROLLER;
	s->len = 4096;
	conn_submit(&c, s);
	pdu = (struct plx_nvme_tcp_cmd *)s->hdr;
	raw = s->hdr;
	ST_CHECK(raw[0] == 0x04 && raw[1] == 0x03 && raw[2] == 72 && raw[3] == 76);
	ST_CHECK(le32(raw + 4) == 76 + 4096 + 4);
	ST_CHECK(le32(raw + 8 + 24 + 8) == 4096 && raw[8 + 24 + 15] == 0x01); /* SGL: offset */
	ST_CHECK(le32(raw + 8) == ((uint32_t)s->cid << 16 | PLX_NVME_OPC_WRITE));
	crc = plx_crc32c(raw, 72);
	ST_CHECK(le32(raw + 72) == crc);
	ST_CHECK(c.iov_cnt == 3 && c.iov[0].iov_len == 76 && c.iov[1].iov_len == 4096 &&
		 c.iov[2].iov_len == 4);
	ST_CHECK(le32(c.iov[2].iov_base) == plx_crc32c(s->buf, 4096));
	ST_CHECK(pdu->ccsqe.dptr.sgl1.unkeyed.type == PLX_NVME_SGL_TYPE_DATA_BLOCK);

	/* 16 KiB write: transport SGL 0x5A, then an R2T for all of it gives two H2CData PDUs. */
	c.iov_cnt = 0;
	s->len = 16384;
	conn_submit(&c, s);
	ST_CHECK(raw[1] == 0x01 && raw[3] == 0 && le32(raw + 4) == 76);
	ST_CHECK(raw[8 + 24 + 15] == 0x5a && le32(raw + 8 + 24 + 8) == 16384);
	ST_CHECK(c.iov_cnt == 1);
	struct plx_nvme_tcp_r2t_hdr r2t = {.cccid = s->cid, .ttag = 7, .r2to = 0, .r2tl = 16384};

	ST_CHECK(conn_on_r2t(&c, &r2t) == 0);
	ST_CHECK(c.iov_cnt == 1 + 2 * 3);
	raw = s->h2c;
	ST_CHECK(raw[0] == 0x06 && raw[1] == 0x03 && raw[2] == 24 && raw[3] == 28);
	ST_CHECK(le32(raw + 4) == 28 + 8192 + 4 && le32(raw + 12) == 0 && le32(raw + 16) == 8192);
	ST_CHECK(raw[8] == s->cid && raw[10] == 7 && le32(raw + 24) == plx_crc32c(raw, 24));
	raw = s->h2c + HDR_STRIDE;
	ST_CHECK(raw[1] == (0x03 | PLX_NVME_TCP_DATA_FLAGS_LAST_PDU) && le32(raw + 12) == 8192);
	ST_CHECK(c.iov[2].iov_base == s->buf && c.iov[5].iov_base == s->buf + 8192);
	/* A second R2T for data already sent is a target error. */
	ST_CHECK(conn_on_r2t(&c, &r2t) != 0);
	c.fd = -1;
	conn_free(&c);
	return 0;
}

static int self_test_args(void)
{
	struct perf_opts o;
	char *a1[] = {
	    PROG,
	    "-r",
	    "trtype:TCP adrfam:IPv4 traddr:10.0.0.2 trsvcid:4421 subnqn:nqn.2016-06.io.spdk:c1",
	    "-q",
	    "32",
	    "-o",
	    "128k",
	    "-w",
	    "randrw",
	    "-M",
	    "70",
	    "-LL",
	    "-H",
	    "-I",
	    "-P",
	    "2",
	    "-c",
	    "0x2",
	    NULL};
	char *a2[] = {PROG, "-w", "bogus", NULL};
	char *a3[] = {PROG, "-r", "trtype:rdma traddr:1.2.3.4", NULL};
	char *a4[] = {PROG, "-q", "2", "-P", "4", NULL};

	ST_CHECK(parse_args(18, a1, &o) == 0);
	ST_CHECK(strcmp(o.traddr, "10.0.0.2") == 0 && strcmp(o.trsvcid, "4421") == 0);
	ST_CHECK(strcmp(o.subnqn, "nqn.2016-06.io.spdk:c1") == 0 && o.family == AF_INET);
	ST_CHECK(o.qd == 32 && o.io_size == 131072 && o.random && o.read_pct == 70);
	ST_CHECK(o.latency == 2 && o.hdgst && o.ddgst && o.nqpairs == 2 && o.core == 1);
	fprintf(stderr, "(the next three errors are expected)\n");
	ST_CHECK(parse_args(3, a2, &o) < 0);
	ST_CHECK(parse_args(3, a3, &o) < 0);
	ST_CHECK(parse_args(5, a4, &o) < 0);
	return 0;
}

static int self_test(void)
{
	if (self_test_hist() != 0 || self_test_pdu() != 0 || self_test_args() != 0) {
		return -1;
	}
	printf("self-test passed\n");
	return 0;
}
