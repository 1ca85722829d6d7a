/* SPDX-License-Identifier: BSD-3-Clause */
/* The command-line options every Pollux app shares (SPDK's spelling, see docs/usage.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_internal.h"

enum {
	OPT_JSON_IGNORE_INIT_ERRORS = 256,
	OPT_WAIT_FOR_RPC,
	OPT_POLL,
	OPT_HUGE,
	OPT_INTERRUPT_MODE,
};

#define COMMON_GETOPT "m:r:c:L:hv"

static const struct option g_common_long[] = {
    {"cpumask", required_argument, NULL, 'm'},
    {"rpc-socket", required_argument, NULL, 'r'},
    {"json", required_argument, NULL, 'c'},
    {"config", required_argument, NULL, 'c'},
    {"logflag", required_argument, NULL, 'L'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'v'},
    {"json-ignore-init-errors", no_argument, NULL, OPT_JSON_IGNORE_INIT_ERRORS},
    {"wait-for-rpc", no_argument, NULL, OPT_WAIT_FOR_RPC},
    {"poll", no_argument, NULL, OPT_POLL},
    {"huge", no_argument, NULL, OPT_HUGE},
    {"interrupt-mode", no_argument, NULL, OPT_INTERRUPT_MODE},
};

static void usage(const char *prog, const struct plx_app_extra_opts *extra)
{
	struct plx_log_flag *f;

	printf("Usage: %s [options]\n\n", prog);
	printf(" -m, --cpumask MASK         cores to run reactors on: 0x3 or [0,1] (default 0x1)\n"
	       " -r, --rpc-socket PATH      JSON-RPC socket (default %s)\n"
	       " -c, --json FILE            load a JSON config file (SPDK's format)\n"
	       "     --json-ignore-init-errors  carry on when a config entry fails\n"
	       "     --wait-for-rpc         stay in start-up state until framework_start_init\n"
	       " -L, --logflag FLAG         enable a debug log flag (repeatable)\n"
	       "     --poll                 busy-poll always (default: sleep when idle)\n"
	       "     --interrupt-mode       sleep when idle (the default)\n"
	       "     --huge                 back DMA buffers with hugepages\n"
	       " -h, --help                 this help\n"
	       " -v, --version              print the version\n",
	       "/var/tmp/pollux.sock");
	if (extra != NULL && extra->usage != NULL) {
		printf("\n");
		extra->usage();
	}
	printf("\nLog flags:");
	for (f = plx_log_next_flag(NULL); f != NULL; f = plx_log_next_flag(f)) {
		printf(" %s", f->name);
	}
	printf("\n");
}

static int build_options(const struct plx_app_extra_opts *extra, char *short_opts, size_t len,
			 struct option **long_opts)
{
	const struct option *extra_long = extra ? extra->long_opts : NULL;
	size_t n_common = PLX_COUNTOF(g_common_long), n_extra = 0;

	snprintf(short_opts, len, "%s%s", COMMON_GETOPT,
		 extra && extra->getopt_str ? extra->getopt_str : "");
	while (extra_long != NULL && extra_long[n_extra].name != NULL) {
		n_extra++;
	}
	*long_opts = calloc(n_common + n_extra + 1, sizeof(struct option));
	if (*long_opts == NULL) {
		return -1;
	}
	memcpy(*long_opts, g_common_long, sizeof(g_common_long));
	if (n_extra > 0) {
		memcpy(*long_opts + n_common, extra_long, n_extra * sizeof(struct option));
	}
	return 0;
}

static enum plx_app_parse_rv parse_common(int ch, const char *arg, const char *prog,
					  struct plx_app_opts *opts,
					  const struct plx_app_extra_opts *extra)
{
	switch (ch) {
	case 'm':
		opts->reactor_mask = arg;
		break;
	case 'r':
		opts->rpc_addr = arg;
		break;
	case 'c':
		opts->json_config_file = arg;
		break;
	case 'L':
		if (plx_log_set_flag(arg) != 0) {
			fprintf(stderr, "%s: unknown log flag '%s' (see --help)\n", prog, arg);
			return PLX_APP_PARSE_ERROR;
		}
		opts->print_level = PLX_LOG_DEBUG;
		break;
	case 'h':
		usage(prog, extra);
		return PLX_APP_PARSE_EXIT;
	case 'v':
		printf("%s Pollux v%s\n", prog, POLLUX_VERSION);
		return PLX_APP_PARSE_EXIT;
	case OPT_JSON_IGNORE_INIT_ERRORS:
		opts->json_ignore_init_errors = true;
		break;
	case OPT_WAIT_FOR_RPC:
		opts->wait_for_rpc = true;
		break;
	case OPT_POLL:
		opts->poll_mode = true;
		break;
	case OPT_INTERRUPT_MODE:
		opts->poll_mode = false;
		break;
	case OPT_HUGE:
		opts->huge = true;
		break;
	default:
		if (extra != NULL && extra->parse != NULL && extra->parse(ch, arg) == 0) {
			break;
		}
		fprintf(stderr, "Try '%s --help' for the options.\n", prog);
		return PLX_APP_PARSE_ERROR;
	}
	return PLX_APP_PARSE_OK;
}

enum plx_app_parse_rv plx_app_parse_args(int argc, char **argv, struct plx_app_opts *opts,
					 const struct plx_app_extra_opts *extra)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	enum plx_app_parse_rv rv = PLX_APP_PARSE_OK;
	struct option *long_opts;
	char short_opts[128];
	int ch;

	if (build_options(extra, short_opts, sizeof(short_opts), &long_opts) != 0) {
		return PLX_APP_PARSE_ERROR;
	}
	opts->name = prog;
	optind = 1;
	while (rv == PLX_APP_PARSE_OK &&
	       (ch = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		rv = parse_common(ch, optarg, prog, opts, extra);
	}
	if (rv == PLX_APP_PARSE_OK && optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		rv = PLX_APP_PARSE_ERROR;
	}
	free(long_opts);
	return rv;
}
