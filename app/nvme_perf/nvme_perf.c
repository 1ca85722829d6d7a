/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvme_perf: drive NVMe namespaces (NVMe/TCP or PCIe) from pinned worker threads and report
 * IOPS, bandwidth and latency, with SPDK perf's command line.
 *
 * Threads: the main thread attaches the controllers, allocates every I/O qpair (the admin
 * queue it uses for that is its own) and hands them to the workers before they start; during
 * the run it only polls the admin queues, which keeps fabrics keep-alives flowing. Each worker
 * then owns its qpairs alone: no locks anywhere on the I/O path.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "perf.h"
#include "pollux/env.h"
#include "pollux/util.h"

#define DEFAULT_SEED  0x706c78u /* fixed, so -V data written by one run verifies in the next */
#define ADMIN_POLL_NS (10 * 1000 * 1000)

struct perf_opts g_opts;
volatile int g_stop;

static struct perf_ctrlr *g_ctrlrs;
static uint32_t g_num_ctrlrs;
static struct perf_ns *g_nss;
static uint32_t g_num_nss;
static struct perf_worker *g_workers;
static uint32_t g_num_workers;

static void usage(void)
{
	printf("usage: " PROG " [-r TRID]... -q DEPTH -o SIZE -w TYPE -t SEC [options]\n"
	       " -r TRID   transport ID, repeatable: 'trtype:tcp adrfam:IPv4 traddr:127.0.0.1\n"
	       "           trsvcid:4420 subnqn:NQN' or 'trtype:pcie traddr:0000:00:04.0' (no -r:\n"
	       "           every PCIe controller bound to vfio-pci or uio_pci_generic)\n"
	       " -q DEPTH  I/O in flight per namespace per core\n"
	       " -o SIZE   I/O size in bytes (4k accepted), a multiple of the sector size\n"
	       " -w TYPE   read, write, randread, randwrite, rw, randrw\n"
	       " -M PCT    read percentage of rw/randrw (default 50)\n"
	       " -t SEC    run time in seconds\n"
	       " -c MASK   cores to run workers on, one pinned thread each (default 0x1)\n"
	       " -L        latency percentiles per namespace and core; -LL also the histogram\n"
	       " -H / -I   NVMe/TCP header / data digest\n"
	       " -P N      I/O queue pairs per namespace per core (default 1)\n"
	       " -s SEED   seed of offsets and of the -V pattern (default 0x%x)\n"
	       " -V        verify: writes carry their LBA and the seed, reads check them\n"
	       " --no-batch  submit every command at once instead of once per polling pass\n"
	       "           (Pollux only: to measure what submission batching buys)\n"
	       " -h        this help\n",
	       DEFAULT_SEED);
}

static int opt_fail(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return -EINVAL;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_workload(const char *w, bool *mixed)
{
	static const struct {
		const char *name;
		bool random;
		int read_pct;
		bool mixed;
	} types[] = {
	    {"read", false, 100, false},    {"write", false, 0, false},
	    {"randread", true, 100, false}, {"randwrite", true, 0, false},
	    {"rw", false, 50, true},	    {"randrw", true, 50, true},
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(w, types[i].name) == 0) {
			g_opts.random = types[i].random;
			g_opts.read_pct = types[i].read_pct;
			*mixed = types[i].mixed;
			return 0;
		}
	}
	return opt_fail("-w: unknown workload '%s' (read, write, randread, randwrite, rw, randrw)",
			w);
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"no-batch", no_argument, NULL, 'B'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char err[PLX_NVME_ERR_LEN];
	const char *workload = NULL;
	uint32_t read_pct = 50;
	bool mixed = false, have_m = false;
	int c;

	g_opts.qpairs_per_ns = 1;
	g_opts.seed = DEFAULT_SEED;
	snprintf(g_opts.core_mask, sizeof(g_opts.core_mask), "0x1");
	while ((c = getopt_long(argc, argv, "r:q:o:w:M:t:c:LHIP:s:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (g_opts.num_trids == PERF_MAX_TRIDS) {
				return opt_fail("-r: at most %s transport IDs", "16");
			}
			if (plx_nvme_trid_parse(&g_opts.trids[g_opts.num_trids], optarg, err) !=
			    0) {
				fprintf(stderr, PROG ": -r '%s': %s\n", optarg, err);
				return -EINVAL;
			}
			g_opts.num_trids++;
			break;
		case 'q':
			if (parse_u32(optarg, 1, 65536, &g_opts.queue_depth) != 0) {
				return opt_fail("-q: '%s' is not a queue depth (1-65536)", optarg);
			}
			break;
		case 'o':
			if (plx_parse_size(optarg, &g_opts.io_size) != 0 || g_opts.io_size == 0 ||
			    g_opts.io_size > (1u << 30)) {
				return opt_fail("-o: '%s' is not an I/O size", optarg);
			}
			break;
		case 'w':
			workload = optarg;
			break;
		case 'M':
			if (parse_u32(optarg, 0, 100, &read_pct) != 0) {
				return opt_fail("-M: '%s' is not a percentage (0-100)", optarg);
			}
			have_m = true;
			break;
		case 't':
			if (parse_u32(optarg, 1, 86400 * 365, &g_opts.time_sec) != 0) {
				return opt_fail("-t: '%s' is not a number of seconds", optarg);
			}
			break;
		case 'c':
			if (strlen(optarg) >= sizeof(g_opts.core_mask)) {
				return opt_fail("-c: '%s' is too long", optarg);
			}
			snprintf(g_opts.core_mask, sizeof(g_opts.core_mask), "%s", optarg);
			break;
		case 'L':
			g_opts.latency_level++;
			break;
		case 'H':
			g_opts.header_digest = true;
			break;
		case 'I':
			g_opts.data_digest = true;
			break;
		case 'P':
			if (parse_u32(optarg, 1, 256, &g_opts.qpairs_per_ns) != 0) {
				return opt_fail("-P: '%s' is not a number of queue pairs (1-256)",
						optarg);
			}
			break;
		case 's': {
			char *end;

			errno = 0;
			g_opts.seed = strtoull(optarg, &end, 0);
			if (errno != 0 || end == optarg || *end != '\0') {
				return opt_fail("-s: '%s' is not a seed", optarg);
			}
			break;
		}
		case 'V':
			g_opts.verify = true;
			break;
		case 'B':
			g_opts.no_batch = true;
			break;
		case 'h':
			usage();
			exit(0);
		default:
			usage();
			return -EINVAL;
		}
	}
	if (optind < argc) {
		return opt_fail("unexpected argument '%s'", argv[optind]);
	}
	if (g_opts.queue_depth == 0 || g_opts.io_size == 0 || workload == NULL ||
	    g_opts.time_sec == 0) {
		return opt_fail("%s", "-q, -o, -w and -t are required (-h for help)");
	}
	if (parse_workload(workload, &mixed) != 0) {
		return -EINVAL;
	}
	if (mixed) {
		g_opts.read_pct = (int)read_pct;
	} else if (have_m) {
		fprintf(stderr, PROG ": -M is ignored with -w %s\n", workload);
	}
	if (g_opts.qpairs_per_ns > g_opts.queue_depth) {
		return opt_fail("-P: more queue pairs than I/O in flight (-q %s)", "");
	}
	return 0;
}

/* ---- workers ---- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static int create_workers(void)
{
	struct plx_cpuset set;
	uint32_t ncpu = plx_env_get_core_count();
	int cpu;

	if (plx_cpuset_parse(&set, g_opts.core_mask) != 0 || plx_cpuset_count(&set) == 0) {
		return opt_fail("-c: '%s' is not a core mask", g_opts.core_mask);
	}
	g_num_workers = plx_cpuset_count(&set);
	if (g_num_workers > PERF_MAX_WORKERS) {
		return opt_fail("-c: more than %s cores", "128");
	}
	g_workers = calloc(g_num_workers, sizeof(*g_workers));
	if (g_workers == NULL) {
		return -ENOMEM;
	}
	g_num_workers = 0;
	for (cpu = plx_cpuset_next(&set, 0); cpu >= 0; cpu = plx_cpuset_next(&set, cpu + 1)) {
		struct perf_worker *w = &g_workers[g_num_workers++];

		if ((uint32_t)cpu >= ncpu) {
			fprintf(stderr, PROG ": -c %s: core %d is not online (%u cores)\n",
				g_opts.core_mask, cpu, ncpu);
			return -EINVAL;
		}
		w->core = (uint32_t)cpu;
		w->rng = mix64(g_opts.seed ^ ((uint64_t)cpu << 32)) | 1;
	}
	return 0;
}

/* ---- controllers ---- */

static void ctrlr_opts(struct plx_nvme_ctrlr_opts *opts)
{
	uint32_t queues = g_num_workers * g_opts.qpairs_per_ns * 4;

	plx_nvme_ctrlr_get_default_opts(opts);
	/* Ask for enough for several namespaces per core; the controller grants what it has. */
	opts->num_io_queues = queues < 65535 ? queues : 65535;
	opts->header_digest = g_opts.header_digest;
	opts->data_digest = g_opts.data_digest;
	opts->disable_sq_doorbell_batching = g_opts.no_batch;
}

static void trid_desc(const struct plx_nvme_trid *trid, char *buf, size_t len)
{
	if (trid->trtype == PLX_NVME_TRTYPE_PCIE) {
		snprintf(buf, len, "PCIE (%s)", trid->traddr[0] != '\0' ? trid->traddr : "all");
	} else {
		snprintf(buf, len, "%s (addr:%s:%s subnqn:%s)", plx_nvme_trtype_str(trid->trtype),
			 trid->traddr, trid->trsvcid, trid->subnqn);
	}
}

static int add_ctrlr(struct plx_nvme_ctrlr *ctrlr)
{
	struct perf_ctrlr *c;
	const struct plx_nvme_trid *trid = plx_nvme_ctrlr_get_trid(ctrlr);

	c = realloc(g_ctrlrs, (g_num_ctrlrs + 1) * sizeof(*g_ctrlrs));
	if (c == NULL) {
		plx_nvme_detach(ctrlr);
		return -ENOMEM;
	}
	g_ctrlrs = c;
	c = &g_ctrlrs[g_num_ctrlrs++];
	c->ctrlr = ctrlr;
	trid_desc(trid, c->name, sizeof(c->name));
	if (trid->trtype == PLX_NVME_TRTYPE_PCIE) {
		printf("Attached to NVMe controller at %s\n", trid->traddr);
	} else {
		printf("Attached to NVMe over Fabrics controller at %s:%s: %s\n", trid->traddr,
		       trid->trsvcid, trid->subnqn);
	}
	return 0;
}

static bool probe_cb(void *ctx, const struct plx_nvme_trid *trid, struct plx_nvme_ctrlr_opts *opts)
{
	ctrlr_opts(opts);
	return true;
}

static void attach_cb(void *ctx, const struct plx_nvme_trid *trid, struct plx_nvme_ctrlr *ctrlr,
		      const struct plx_nvme_ctrlr_opts *opts)
{
	int *rc = ctx;

	if (add_ctrlr(ctrlr) != 0) {
		*rc = -ENOMEM;
	}
}

/*
 * One subsystem: connect to it directly, so a failure comes back with its reason. PCIe and
 * discovery controllers: probe, attaching every controller found.
 */
static int attach_trid(const struct plx_nvme_trid *trid)
{
	char err[PLX_NVME_ERR_LEN] = "", desc[PLX_NVMF_TRADDR_MAX_LEN + PLX_NVMF_NQN_MAX_LEN + 64];
	struct plx_nvme_ctrlr_opts opts;
	struct plx_nvme_ctrlr *ctrlr;
	int rc = 0, n;

	trid_desc(trid, desc, sizeof(desc));
	if (trid->trtype != PLX_NVME_TRTYPE_PCIE && trid->subnqn[0] != '\0' &&
	    strcmp(trid->subnqn, PLX_NVMF_DISCOVERY_NQN) != 0) {
		ctrlr_opts(&opts);
		ctrlr = plx_nvme_connect(trid, &opts, err);
		if (ctrlr == NULL) {
			fprintf(stderr, PROG ": cannot connect to %s: %s\n", desc,
				err[0] != '\0' ? err : "unknown error");
			return -ENXIO;
		}
		return add_ctrlr(ctrlr);
	}
	n = plx_nvme_probe(trid, &rc, probe_cb, attach_cb);
	if (n < 0) {
		fprintf(stderr, PROG ": probing %s failed: %s\n", desc, strerror(-n));
		return n;
	}
	if (n == 0) {
		fprintf(stderr, PROG ": no NVMe controller found at %s\n", desc);
		return -ENODEV;
	}
	return rc;
}

/* Every active namespace the I/O size fits; the others are skipped with a warning. */
static int collect_namespaces(void)
{
	for (uint32_t i = 0; i < g_num_ctrlrs; i++) {
		struct plx_nvme_ctrlr *ctrlr = g_ctrlrs[i].ctrlr;
		uint32_t max_xfer = plx_nvme_ctrlr_get_max_xfer_size(ctrlr);

		for (uint32_t nsid = plx_nvme_ctrlr_get_first_active_ns(ctrlr); nsid != 0;
		     nsid = plx_nvme_ctrlr_get_next_active_ns(ctrlr, nsid)) {
			struct plx_nvme_ns *ns = plx_nvme_ctrlr_get_ns(ctrlr, nsid);
			uint32_t ss = ns != NULL ? plx_nvme_ns_get_sector_size(ns) : 0;
			struct perf_ns *p;

			if (ss == 0 || g_opts.io_size % ss != 0 || (g_opts.verify && ss % 8 != 0)) {
				fprintf(stderr,
					"WARNING: %s NSID %u: I/O size %" PRIu64 " is not a "
					"multiple of its %u-byte sectors; skipped\n",
					g_ctrlrs[i].name, nsid, g_opts.io_size, ss);
				continue;
			}
			if (max_xfer != 0 && g_opts.io_size > max_xfer) {
				fprintf(stderr,
					"WARNING: %s NSID %u: I/O size %" PRIu64 " is above the "
					"controller's maximum transfer of %u bytes; skipped\n",
					g_ctrlrs[i].name, nsid, g_opts.io_size, max_xfer);
				continue;
			}
			if (plx_nvme_ns_get_num_sectors(ns) < g_opts.io_size / ss) {
				fprintf(stderr,
					"WARNING: %s NSID %u is smaller than one I/O; skipped\n",
					g_ctrlrs[i].name, nsid);
				continue;
			}
			p = realloc(g_nss, (g_num_nss + 1) * sizeof(*g_nss));
			if (p == NULL) {
				return -ENOMEM;
			}
			g_nss = p;
			p = &g_nss[g_num_nss++];
			memset(p, 0, sizeof(*p));
			p->ctrlr = &g_ctrlrs[i];
			p->ns = ns;
			p->nsid = nsid;
			p->sector_size = ss;
			p->num_units = plx_nvme_ns_get_num_sectors(ns) / (g_opts.io_size / ss);
		}
	}
	if (g_num_nss == 0) {
		fprintf(stderr, PROG ": no namespace to run on\n");
		return -ENODEV;
	}
	return 0;
}

/*
 * SPDK perf's assignment: walk max(namespaces, cores) steps pairing namespace i % N with
 * core i % C, so every namespace has a core and every core a namespace.
 */
static int associate(void)
{
	uint32_t count = g_num_nss > g_num_workers ? g_num_nss : g_num_workers;
	uint64_t stamp = mix64(g_opts.seed ^ 0x5041545445524eull) | 1;

	for (uint32_t i = 0; i < count; i++) {
		struct perf_ns *ns = &g_nss[i % g_num_nss];
		struct perf_worker *w = &g_workers[i % g_num_workers];
		struct perf_ns_ctx *ctx = calloc(1, sizeof(*ctx)), **tail = &w->ctxs;

		if (ctx == NULL) {
			return -ENOMEM;
		}
		while (*tail != NULL) {
			tail = &(*tail)->next;
		}
		*tail = ctx;
		ctx->worker = w;
		ctx->ns = ns;
		ctx->stamp = stamp;
		ctx->task_base = (uint64_t)ns->num_workers * g_opts.queue_depth;
		ns->num_workers++;
		printf("Associating %s NSID %u with lcore %u\n", ns->ctrlr->name, ns->nsid,
		       w->core);
	}
	for (uint32_t k = 0; k < g_num_workers; k++) {
		for (struct perf_ns_ctx *c = g_workers[k].ctxs; c != NULL; c = c->next) {
			c->total_tasks = (uint64_t)c->ns->num_workers * g_opts.queue_depth;
			if (g_opts.verify && c->total_tasks > c->ns->num_units) {
				fprintf(stderr,
					PROG ": -V: %s NSID %u has %" PRIu64 " I/O units, fewer "
					     "than the %" PRIu64 " I/O in flight on it\n",
					c->ns->ctrlr->name, c->ns->nsid, c->ns->num_units,
					c->total_tasks);
				return -EINVAL;
			}
			if (perf_ctx_prepare(c) != 0) {
				return -ENOMEM;
			}
		}
	}
	return 0;
}

/* ---- the run ---- */

static bool workers_finished(uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		if (!atomic_load_explicit(&g_workers[k].finished, memory_order_acquire)) {
			return false;
		}
	}
	return true;
}

static int run(void)
{
	struct timespec nap = {0, ADMIN_POLL_NS};
	uint64_t hz = plx_get_ticks_hz(), start;
	bool *failed = calloc(g_num_ctrlrs, sizeof(bool));
	uint32_t k;

	if (failed == NULL) {
		return -ENOMEM;
	}
	for (k = 0; k < g_num_workers; k++) {
		if (pthread_create(&g_workers[k].thread, NULL, perf_worker_run, &g_workers[k]) !=
		    0) {
			fprintf(stderr, PROG ": cannot start a worker thread\n");
			g_stop = 1;
			break;
		}
	}
	start = plx_get_ticks();
	perf_worker_start_signal(start, start + (uint64_t)g_opts.time_sec * hz);
	/* The admin queues are this thread's: poll them for keep-alives and events. */
	while (!workers_finished(k)) {
		for (uint32_t i = 0; i < g_num_ctrlrs; i++) {
			if (!failed[i] &&
			    plx_nvme_ctrlr_process_admin_completions(g_ctrlrs[i].ctrlr) < 0) {
				fprintf(stderr, PROG ": %s: controller failed\n", g_ctrlrs[i].name);
				failed[i] = true;
			}
		}
		nanosleep(&nap, NULL);
	}
	for (uint32_t j = 0; j < k; j++) {
		pthread_join(g_workers[j].thread, NULL);
	}
	free(failed);
	return k == g_num_workers ? 0 : -EAGAIN;
}

static void on_signal(int sig)
{
	g_stop = 1;
}

static void cleanup(void)
{
	for (uint32_t k = 0; k < g_num_workers; k++) {
		struct perf_ns_ctx *c = g_workers[k].ctxs, *next;

		for (; c != NULL; c = next) {
			next = c->next;
			perf_ctx_release(c);
			free(c);
		}
	}
	for (uint32_t i = 0; i < g_num_ctrlrs; i++) {
		plx_nvme_detach(g_ctrlrs[i].ctrlr);
	}
	free(g_workers);
	free(g_ctrlrs);
	free(g_nss);
}

int main(int argc, char **argv)
{
	struct plx_env_opts env_opts;
	struct sigaction sa = {.sa_handler = on_signal};
	int rc;

	if (parse_args(argc, argv) != 0) {
		return 1;
	}
	plx_env_opts_init(&env_opts);
	if (plx_env_init(&env_opts) != 0 || create_workers() != 0) {
		free(g_workers);
		return 1;
	}
	if (g_opts.num_trids == 0) {
		/* SPDK's default: every local PCIe controller. */
		g_opts.trids[0].trtype = PLX_NVME_TRTYPE_PCIE;
		snprintf(g_opts.trids[0].trstring, sizeof(g_opts.trids[0].trstring), "PCIe");
		g_opts.num_trids = 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("Initializing NVMe Controllers\n");
	rc = 0;
	for (int i = 0; i < g_opts.num_trids && rc == 0; i++) {
		rc = attach_trid(&g_opts.trids[i]);
	}
	if (rc == 0) {
		rc = collect_namespaces();
	}
	if (rc == 0) {
		rc = associate();
	}
	if (rc == 0) {
		printf("Initialization complete. Launching workers.\n");
		fflush(stdout);
		rc = run();
	}
	if (rc == 0) {
		rc = perf_print_results(g_workers, g_num_workers, plx_get_ticks_hz());
	}
	cleanup();
	return rc == 0 ? 0 : 1;
}
