/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The application framework: start-up sequence, signals and orderly shutdown.
 *
 * Start-up, on the app thread: RPC server (startup state) -> startup entries of --json ->
 * [wait for framework_start_init when --wait-for-rpc] -> subsystems init -> runtime state ->
 * runtime entries of --json -> the app's start_fn -> "ready". Shutdown, also on the app
 * thread: subsystems fini in reverse -> RPC server closed -> every thread exits -> reactors
 * stop -> plx_app_start returns.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "event_internal.h"
#include "pollux/rpc.h"

PLX_LOG_REGISTER_COMPONENT(app)

struct init_waiter {
	void (*cb)(void *arg);
	void *arg;
	struct init_waiter *next;
};

static struct plx_app_opts g_opts;
static plx_app_start_fn g_start_fn;
static void *g_start_ctx;
static int g_rc;
static bool g_initialized;
static bool g_init_started;
static bool g_stopping;
static int g_signal_fd = -1;
static struct plx_poller *g_signal_poller;
static struct init_waiter *g_init_waiters;
static void (*g_init_done_cb)(int rc, void *arg);
static void *g_init_done_arg;

void plx_app_opts_init(struct plx_app_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->name = "pollux";
	opts->reactor_mask = "0x1";
	opts->rpc_addr = PLX_DEFAULT_RPC_ADDR;
	opts->print_level = PLX_LOG_NOTICE;
}

bool plx_app_is_initialized(void)
{
	return g_initialized;
}

/* ---- shutdown ---- */

/* The app thread exits last: the walk's completion comes back to it. */
static void thread_exit_self(void *arg)
{
	if (plx_get_thread() != plx_thread_get_app_thread()) {
		plx_thread_exit(plx_get_thread());
	}
}

static void all_threads_exiting(void *arg)
{
	plx_thread_exit(plx_get_thread());
	reactors_stop();
}

static void shutdown_after_fini(void)
{
	plx_rpc_close();
	plx_poller_unregister(&g_signal_poller);
	if (g_signal_fd >= 0) {
		close(g_signal_fd);
		g_signal_fd = -1;
	}
	json_config_free();
	plx_for_each_thread(thread_exit_self, NULL, all_threads_exiting);
}

static void app_shutdown(void *arg)
{
	if (g_stopping) {
		return;
	}
	g_stopping = true;
	PLX_DEBUGLOG(app, "shutting down (rc %d)\n", g_rc);
	subsystems_fini(shutdown_after_fini);
}

void plx_app_stop(int rc)
{
	struct plx_thread *app = plx_thread_get_app_thread();

	if (rc != 0 && g_rc == 0) {
		g_rc = rc;
	}
	if (app == NULL || plx_thread_send_msg(app, app_shutdown, NULL) != 0) {
		PLX_ERRLOG("cannot reach the app thread to shut down\n");
	}
}

static int signal_poll(void *arg)
{
	struct signalfd_siginfo si;
	int busy = PLX_POLLER_IDLE;

	while (read(g_signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		busy = PLX_POLLER_BUSY;
		PLX_NOTICELOG("%s received, shutting down\n", strsignal((int)si.ssi_signo));
		app_shutdown(NULL);
	}
	return busy;
}

static int signals_setup(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	g_signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (g_signal_fd < 0) {
		PLX_ERRLOG("signalfd: %s\n", strerror(errno));
		return -errno;
	}
	/* Timed, with the fd as its interrupt source: no cost while nothing arrives. */
	g_signal_poller = plx_poller_register_named(signal_poll, NULL, 100000, "app_signal");
	if (g_signal_poller == NULL) {
		return -ENOMEM;
	}
	return plx_poller_set_interrupt_fd(g_signal_poller, g_signal_fd, EPOLLIN);
}

/* ---- start-up ---- */

static void print_ready(void)
{
	if (!g_opts.print_ready) {
		return;
	}
	printf("%s: ready, pid %d, rpc %s, %u reactor(s)\n", g_opts.name, (int)getpid(),
	       g_opts.rpc_addr ? g_opts.rpc_addr : "disabled", plx_reactor_count());
	fflush(stdout);
}

static void runtime_config_done(int rc)
{
	struct init_waiter *w;

	if (rc != 0) {
		plx_app_stop(rc);
		return;
	}
	g_initialized = true;
	if (g_start_fn != NULL) {
		g_start_fn(g_start_ctx);
	}
	if (!g_opts.wait_for_rpc) {
		print_ready();
	}
	if (g_init_done_cb != NULL) {
		g_init_done_cb(0, g_init_done_arg);
		g_init_done_cb = NULL;
	}
	while ((w = g_init_waiters) != NULL) {
		g_init_waiters = w->next;
		w->cb(w->arg);
		free(w);
	}
}

static void subsystems_init_done(int rc)
{
	if (rc != 0) {
		if (g_init_done_cb != NULL) {
			g_init_done_cb(rc, g_init_done_arg);
			g_init_done_cb = NULL;
		}
		plx_app_stop(rc);
		return;
	}
	plx_rpc_set_state(PLX_RPC_RUNTIME);
	json_config_load_runtime(runtime_config_done);
}

int app_start_init(void (*done)(int rc, void *arg), void *arg)
{
	if (g_init_started) {
		return -EALREADY;
	}
	g_init_started = true;
	g_init_done_cb = done;
	g_init_done_arg = arg;
	subsystems_init(subsystems_init_done);
	return 0;
}

void app_wait_init(void (*cb)(void *arg), void *arg)
{
	struct init_waiter *w;

	if (g_initialized) {
		cb(arg);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		PLX_ERRLOG("framework_wait_init: out of memory\n");
		cb(arg);
		return;
	}
	*w = (struct init_waiter){.cb = cb, .arg = arg, .next = g_init_waiters};
	g_init_waiters = w;
}

static void startup_config_done(int rc)
{
	if (rc != 0) {
		plx_app_stop(rc);
		return;
	}
	if (g_opts.wait_for_rpc) {
		PLX_NOTICELOG("waiting for framework_start_init over RPC\n");
		print_ready();
		return;
	}
	app_start_init(NULL, NULL);
}

static void app_bootstrap(void *arg)
{
	int rc;

	rc = signals_setup();
	if (rc == 0) {
		rc = subsystems_sort();
	}
	if (rc == 0 && g_opts.rpc_addr != NULL) {
		plx_rpc_set_state(PLX_RPC_STARTUP);
		rc = plx_rpc_listen(g_opts.rpc_addr);
	}
	if (rc != 0) {
		plx_app_stop(rc);
		return;
	}
	if (g_opts.json_config_file != NULL) {
		json_config_load_startup(g_opts.json_config_file, g_opts.json_ignore_init_errors,
					 startup_config_done);
	} else {
		startup_config_done(0);
	}
}

static int block_signals(void)
{
	sigset_t set;

	/* Blocked before any reactor starts, so every OS thread inherits it; only signalfd
	 * sees these signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int create_reactor_threads(const struct plx_cpuset *mask)
{
	struct plx_cpuset one;
	char name[32];
	int core = plx_cpuset_next(mask, 0);

	plx_cpuset_zero(&one);
	plx_cpuset_set_cpu(&one, (uint32_t)core, true);
	if (plx_thread_create("app_thread", &one) == NULL) {
		return -ENOMEM;
	}
	/* One thread on every other reactor, so each core has a place for work sent to it. */
	for (core = plx_cpuset_next(mask, core + 1); core >= 0;
	     core = plx_cpuset_next(mask, core + 1)) {
		plx_cpuset_zero(&one);
		plx_cpuset_set_cpu(&one, (uint32_t)core, true);
		snprintf(name, sizeof(name), "reactor_%d", core);
		if (plx_thread_create(name, &one) == NULL) {
			return -ENOMEM;
		}
	}
	return 0;
}

static int app_check_mask(const char *str, struct plx_cpuset *mask)
{
	uint32_t ncores = plx_env_get_core_count();
	int last = -1;

	if (plx_cpuset_parse(mask, str) != 0 || plx_cpuset_count(mask) == 0) {
		PLX_ERRLOG("invalid core mask '%s' (expected e.g. 0x3 or [0,1])\n", str);
		return -EINVAL;
	}
	for (int c = plx_cpuset_next(mask, 0); c >= 0; c = plx_cpuset_next(mask, c + 1)) {
		last = c;
	}
	if ((uint32_t)last >= ncores) {
		PLX_ERRLOG("core mask '%s' names core %d, but this machine has %u core(s)\n", str,
			   last, ncores);
		return -EINVAL;
	}
	return 0;
}

int plx_app_start(const struct plx_app_opts *opts, plx_app_start_fn start_fn, void *ctx)
{
	struct plx_env_opts env_opts;
	struct plx_cpuset mask;
	int rc;

	g_opts = *opts;
	g_start_fn = start_fn;
	g_start_ctx = ctx;
	g_rc = 0;
	plx_log_set_print_level(opts->print_level);
	plx_log_open(opts->name);

	plx_env_opts_init(&env_opts);
	env_opts.huge = opts->huge;
	rc = plx_env_init(&env_opts);
	if (rc == 0) {
		rc = app_check_mask(opts->reactor_mask, &mask);
	}
	if (rc == 0) {
		rc = block_signals();
	}
	if (rc == 0) {
		rc = reactors_init(&mask, !opts->poll_mode);
	}
	if (rc != 0) {
		plx_log_close();
		return rc;
	}
	rc = create_reactor_threads(&mask);
	if (rc == 0) {
		rc = plx_thread_send_msg(plx_thread_get_app_thread(), app_bootstrap, NULL);
	}
	if (rc != 0) {
		PLX_ERRLOG("cannot start the app: %s\n", strerror(-rc));
		reactors_fini();
		plx_log_close();
		return rc;
	}
	reactors_run();
	reactors_fini();
	plx_log_close();
	return g_rc;
}
