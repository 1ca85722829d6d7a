/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bdevperf: measure bdevs with SPDK's command line (see --help).
 *
 *   bdevperf --json CONF -q 128 -o 4k -w randread -t 5 [-m 0x1] [-T BDEV] [-C] [-l] ...
 *
 * Exit codes: 0 success (also after SIGINT/SIGTERM ended a clean run early); 1 I/O failures,
 * a verify mismatch (0 with -f), a removed bdev or a start-up failure; 2 bad options.
 */
#include <errno.h>
#include <stdio.h>

#include "pollux/bdev.h"
#include "pollux/event.h"

#include "bdevperf.h"

static int g_exit_rc;
static bool g_busy;	    /* jobs exist: from set-up until they are released */
static bool g_shutdown;	    /* the app is shutting down */
static bool g_fini_pending; /* our subsystem fini waits for the jobs to go */

/*
 * A subsystem that depends on bdev, so its fini runs before the bdevs are unregistered: a
 * signal then ends the run like the timer does (results printed, exit 0), rather than as a hot
 * remove of every bdev.
 */
static void bp_subsystem_fini(void)
{
	g_shutdown = true;
	if (!g_busy) {
		plx_subsystem_fini_next();
		return;
	}
	g_fini_pending = true;
	bp_run_stop();
}

static struct plx_subsystem g_bdevperf_subsystem = {
    .name = "bdevperf",
    .fini = bp_subsystem_fini,
};
PLX_SUBSYSTEM_REGISTER(g_bdevperf_subsystem)
PLX_SUBSYSTEM_DEPEND(bdevperf, bdev)

bool bp_shutting_down(void)
{
	return g_shutdown;
}

void bp_set_busy(bool busy)
{
	g_busy = busy;
	if (!busy && g_fini_pending) {
		g_fini_pending = false;
		plx_subsystem_fini_next();
	}
}

static void run_released(void)
{
	bp_set_busy(false);
	plx_app_stop(g_exit_rc);
}

static void run_finished(int rc)
{
	bp_print_results();
	if (rc != 0 && !(rc == -EIO && g_bp.continue_on_fail)) {
		g_exit_rc = 1;
	}
	bp_jobs_release(run_released);
}

static void setup_done(int rc)
{
	if (rc != 0 || g_shutdown) {
		g_exit_rc = rc != 0 ? 1 : 0;
		bp_jobs_release(run_released);
		return;
	}
	bp_run(run_finished);
}

static void examined(void *arg)
{
	if (g_shutdown) {
		return;
	}
	bp_set_busy(true);
	bp_jobs_setup(setup_done);
}

static void bp_start(void *arg)
{
	int rc;

	if (g_bp.wait_rpc) {
		bp_rpc_wait();
		return;
	}
	rc = plx_bdev_wait_for_examine(examined, NULL);
	if (rc != 0) {
		fprintf(stderr, "bdevperf: waiting for bdev examination failed: %d\n", rc);
		plx_app_stop(1);
	}
}

int main(int argc, char **argv)
{
	struct plx_app_opts opts;
	int rc;

	plx_app_opts_init(&opts);
	rc = bp_parse_args(argc, argv, &opts);
	if (rc >= 0) {
		return rc;
	}
	opts.print_ready = g_bp.wait_rpc;
	rc = plx_app_start(&opts, bp_start, NULL);
	if (rc < 0) {
		fprintf(stderr, "bdevperf: start-up failed: %d\n", rc);
		return 1;
	}
	return rc;
}
