/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bdevperf's own options (SPDK's spelling) on top of the common app options. Every bad value
 * is reported naming the option; the caller exits 2.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/event.h"
#include "pollux/rpc.h"

#include "bdevperf.h"

struct bp_config g_bp = {
    .queue_depth = 0,
    .workload = -1,
    .rw_read_pct = 50,
};

static const struct {
	const char *name;
	enum bp_workload w;
} g_workloads[] = {
    {"read", BP_W_READ},
    {"write", BP_W_WRITE},
    {"randread", BP_W_RANDREAD},
    {"randwrite", BP_W_RANDWRITE},
    {"rw", BP_W_RW},
    {"randrw", BP_W_RANDRW},
    {"verify", BP_W_VERIFY},
    {"reset", BP_W_RESET},
    {"unmap", BP_W_UNMAP},
    {"flush", BP_W_FLUSH},
    {"write_zeroes", BP_W_WRITE_ZEROES},
};

#define BP_GETOPT "q:o:w:M:t:T:CzS:lfF:k:X"

static const struct option g_long_opts[] = {
    {"queue-depth", required_argument, NULL, 'q'}, {"io-size", required_argument, NULL, 'o'},
    {"workload", required_argument, NULL, 'w'},	   {"rw-mix-read", required_argument, NULL, 'M'},
    {"time", required_argument, NULL, 't'},	   {NULL, 0, NULL, 0},
};

static void bp_usage(void)
{
	printf("bdevperf options:\n"
	       " -q, --queue-depth N   I/O in flight per job (required)\n"
	       " -o, --io-size SIZE    bytes per I/O, 4k accepted (required)\n"
	       " -w, --workload TYPE   read, write, randread, randwrite, rw, randrw, verify,\n"
	       "                       reset, unmap, flush, write_zeroes (required)\n"
	       " -M, --rw-mix-read PCT reads in percent for rw and randrw (default 50)\n"
	       " -t, --time SEC        run time in seconds (required)\n"
	       " -T BDEV               run on this bdev only (default: every unclaimed bdev)\n"
	       " -C                    every core submits to every bdev\n"
	       " -z                    start idle; run when the perform_tests RPC arrives\n"
	       " -S N                  print statistics every N seconds\n"
	       " -l                    latency percentiles per job (-ll: the whole histogram)\n"
	       " -f                    carry on after I/O failures\n"
	       " -F THETA              Zipf distribution of offsets with exponent THETA\n"
	       " -k SEC                count I/O outstanding longer than SEC as timed out\n"
	       " -X                    abort timed-out I/O (with -k)\n");
}

static int bad(const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "bdevperf: invalid %s '%s': %s\n", opt, arg, why);
	return -EINVAL;
}

static int parse_double(const char *opt, const char *arg, double min_excl, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !isfinite(v)) {
		return bad(opt, arg, "not a number");
	}
	if (!(v > min_excl)) {
		fprintf(stderr, "bdevperf: invalid %s '%s': must be greater than %g\n", opt, arg,
			min_excl);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_int(const char *opt, const char *arg, long min, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0') {
		return bad(opt, arg, "not an integer");
	}
	if (v < min || v > max) {
		fprintf(stderr, "bdevperf: invalid %s '%s': must be between %ld and %ld\n", opt,
			arg, min, max);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

static int parse_workload(const char *arg)
{
	for (size_t i = 0; i < PLX_COUNTOF(g_workloads); i++) {
		if (strcmp(arg, g_workloads[i].name) == 0) {
			g_bp.workload = (int)g_workloads[i].w;
			g_bp.workload_name = g_workloads[i].name;
			return 0;
		}
	}
	return bad("-w", arg,
		   "expected read, write, randread, randwrite, rw, randrw, verify, reset, unmap, "
		   "flush or write_zeroes");
}

static int bp_parse_one(int ch, const char *arg)
{
	switch (ch) {
	case 'q':
		return parse_int("-q", arg, 1, 65536, &g_bp.queue_depth);
	case 'o':
		if (plx_parse_size(arg, &g_bp.io_size) != 0 || g_bp.io_size == 0) {
			return bad("-o", arg, "expected a size in bytes such as 4096 or 4k");
		}
		if (g_bp.io_size > (1ull << 30)) {
			return bad("-o", arg, "I/O size above 1 GiB");
		}
		return 0;
	case 'w':
		return parse_workload(arg);
	case 'M':
		g_bp.rw_pct_given = true;
		return parse_int("-M", arg, 0, 100, &g_bp.rw_read_pct);
	case 't':
		return parse_double("-t", arg, 0.0, &g_bp.run_seconds);
	case 'T':
		g_bp.bdev_name = arg;
		return 0;
	case 'C':
		g_bp.every_core = true;
		return 0;
	case 'z':
		g_bp.wait_rpc = true;
		return 0;
	case 'S':
		return parse_double("-S", arg, 0.0, &g_bp.stats_interval);
	case 'l':
		g_bp.latency_level++;
		return 0;
	case 'f':
		g_bp.continue_on_fail = true;
		return 0;
	case 'F':
		if (parse_double("-F", arg, 0.0, &g_bp.zipf_theta) != 0) {
			return -EINVAL;
		}
		if (g_bp.zipf_theta == 1.0) {
			return bad("-F", arg, "theta must not be exactly 1");
		}
		return 0;
	case 'k':
		return parse_double("-k", arg, 0.0, &g_bp.timeout_sec);
	case 'X':
		g_bp.abort_timeout = true;
		return 0;
	default:
		return -EINVAL;
	}
}

static void derive_workload(void)
{
	enum bp_workload w = (enum bp_workload)g_bp.workload;

	g_bp.random = w == BP_W_RANDREAD || w == BP_W_RANDWRITE || w == BP_W_RANDRW;
	g_bp.mixed = w == BP_W_RW || w == BP_W_RANDRW;
	/* As SPDK: reset runs verify I/O while resets come and go. */
	g_bp.verify = w == BP_W_VERIFY || w == BP_W_RESET;
	g_bp.needs_write =
	    !(w == BP_W_READ || w == BP_W_RANDREAD || (g_bp.mixed && g_bp.rw_read_pct == 100));
	switch (w) {
	case BP_W_READ:
	case BP_W_RANDREAD:
		g_bp.io_type = PLX_BDEV_IO_TYPE_READ;
		break;
	case BP_W_UNMAP:
		g_bp.io_type = PLX_BDEV_IO_TYPE_UNMAP;
		break;
	case BP_W_FLUSH:
		g_bp.io_type = PLX_BDEV_IO_TYPE_FLUSH;
		break;
	case BP_W_WRITE_ZEROES:
		g_bp.io_type = PLX_BDEV_IO_TYPE_WRITE_ZEROES;
		break;
	default:
		g_bp.io_type = PLX_BDEV_IO_TYPE_WRITE;
		break;
	}
}

static int check_required(void)
{
	if (g_bp.queue_depth == 0) {
		fprintf(stderr, "bdevperf: missing -q (queue depth)\n");
		return -EINVAL;
	}
	if (g_bp.io_size == 0) {
		fprintf(stderr, "bdevperf: missing -o (I/O size)\n");
		return -EINVAL;
	}
	if (g_bp.workload < 0) {
		fprintf(stderr, "bdevperf: missing -w (workload)\n");
		return -EINVAL;
	}
	if (g_bp.run_seconds == 0.0) {
		fprintf(stderr, "bdevperf: missing -t (run time in seconds)\n");
		return -EINVAL;
	}
	if (g_bp.rw_pct_given && !(g_bp.workload == BP_W_RW || g_bp.workload == BP_W_RANDRW)) {
		fprintf(stderr, "bdevperf: ignoring -M: it applies only to rw and randrw\n");
	}
	if (g_bp.abort_timeout && g_bp.timeout_sec == 0.0) {
		fprintf(stderr, "bdevperf: -X needs -k (the timeout)\n");
		return -EINVAL;
	}
	return 0;
}

int bp_parse_args(int argc, char **argv, struct plx_app_opts *opts)
{
	static const struct plx_app_extra_opts extra = {
	    .getopt_str = BP_GETOPT,
	    .long_opts = g_long_opts,
	    .parse = bp_parse_one,
	    .usage = bp_usage,
	};

	switch (plx_app_parse_args(argc, argv, opts, &extra)) {
	case PLX_APP_PARSE_EXIT:
		return 0;
	case PLX_APP_PARSE_ERROR:
		return 2;
	default:
		break;
	}
	if (check_required() != 0) {
		fprintf(stderr, "Try 'bdevperf --help' for the options.\n");
		return 2;
	}
	derive_workload();
	if (g_bp.zipf_theta != 0.0 && !g_bp.random) {
		fprintf(stderr, "bdevperf: ignoring -F: it applies only to random workloads\n");
		g_bp.zipf_theta = 0.0;
	}
	/*
	 * Without -z nothing needs the RPC server: do not take the default socket (another
	 * target may own it). An explicit -r is still honoured.
	 */
	if (!g_bp.wait_rpc && opts->rpc_addr != NULL &&
	    strcmp(opts->rpc_addr, PLX_DEFAULT_RPC_ADDR) == 0) {
		opts->rpc_addr = NULL;
	}
	return -1;
}
