/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * -z: bdevperf starts idle and runs when the perform_tests RPC arrives (SPDK's bdevperf.py
 * sends it without parameters). The jobs are built at that moment, so bdevs created over RPC
 * in the meantime take part. The answer comes when the run is over: the results as JSON, or
 * an error when the run failed. The process stays up for further runs until it is signalled.
 */
#include <errno.h>
#include <stdio.h>

#include "pollux/rpc.h"

#include "bdevperf.h"

static struct plx_jsonrpc_request *g_req;
static bool g_waiting;
static int g_run_rc;

void bp_rpc_wait(void)
{
	g_waiting = true;
	printf("bdevperf: waiting for the perform_tests RPC\n");
	fflush(stdout);
}

static void rpc_run_released(void)
{
	struct plx_jsonrpc_request *req = g_req;

	g_req = NULL;
	if (g_run_rc == 0) {
		bp_set_busy(false);
		return;
	}
	plx_jsonrpc_send_error(req, g_run_rc, "bdevperf run failed: %s",
			       g_run_rc == -ENODEV	? "bdev missing or removed"
			       : g_run_rc == -EIO	? "I/O failed"
			       : g_run_rc == -ESHUTDOWN ? "shutting down"
							: "could not set up the jobs");
	/* Last: when the app is shutting down this lets it carry on. */
	bp_set_busy(false);
}

static void rpc_run_done(int rc)
{
	g_run_rc = rc;
	bp_print_results();
	if (rc == 0) {
		/* Answer before the jobs go: the JSON reads them. */
		plx_jsonrpc_send_result(g_req, bp_results_json());
	}
	bp_jobs_release(rpc_run_released);
}

static void rpc_setup_done(int rc)
{
	if (rc == 0 && bp_shutting_down()) {
		rc = -ESHUTDOWN;
	}
	if (rc != 0) {
		g_run_rc = rc;
		bp_jobs_release(rpc_run_released);
		return;
	}
	bp_run(rpc_run_done);
}

static void rpc_perform_tests(struct plx_jsonrpc_request *req, const json_t *params)
{
	if (params != NULL && !(json_is_object(params) && json_object_size(params) == 0)) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "perform_tests takes no parameters");
		return;
	}
	if (!g_waiting) {
		plx_jsonrpc_send_error(req, -EPERM, "bdevperf was not started with -z");
		return;
	}
	if (g_req != NULL) {
		plx_jsonrpc_send_error(req, -EBUSY, "a test run is already in progress");
		return;
	}
	if (bp_shutting_down()) {
		plx_jsonrpc_send_error(req, -ESHUTDOWN, "bdevperf is shutting down");
		return;
	}
	g_req = req;
	bp_set_busy(true);
	bp_jobs_setup(rpc_setup_done);
}
PLX_RPC_REGISTER("perform_tests", rpc_perform_tests, PLX_RPC_RUNTIME)
