/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pollux event: reactors, subsystems and the application framework.
 *
 * A reactor is an OS thread pinned to one core of the app's mask, running plx_threads. In
 * interrupt mode (the default) a reactor whose threads are all idle sleeps in epoll and wakes
 * within microseconds of a message, a timer or an fd; under load it busy-polls with no
 * syscalls per iteration. Subsystems (bdev, nvmf, ...) register init/fini/config callbacks and
 * their dependencies; the framework initialises them in dependency order after the RPC server
 * is up, and finishes them in reverse order on shutdown.
 */
#ifndef POLLUX_EVENT_H
#define POLLUX_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "pollux/log.h"
#include "pollux/util.h"

#ifdef __cplusplus
extern "C" {
#endif

struct plx_app_opts {
	const char *name;	      /* program name, for logs */
	const char *reactor_mask;     /* -m; default "0x1" */
	const char *rpc_addr;	      /* -r; default PLX_DEFAULT_RPC_ADDR; NULL disables RPC */
	const char *json_config_file; /* -c/--json */
	bool json_ignore_init_errors;
	bool wait_for_rpc; /* stay in startup state until framework_start_init */
	bool poll_mode;	   /* --poll: never sleep */
	bool huge;	   /* --huge: hugepage-backed DMA buffers */
	bool print_ready;  /* print the one "ready" line on stdout */
	enum plx_log_level print_level;
};

/* Defaults into opts. */
void plx_app_opts_init(struct plx_app_opts *opts);

typedef void (*plx_app_start_fn)(void *ctx);

/* Extra options of an app: getopt string and long options, and a handler for them. */
struct plx_app_extra_opts {
	const char *getopt_str;
	const void *long_opts; /* const struct option *, terminated by a zeroed entry */
	int (*parse)(int ch, const char *arg);
	void (*usage)(void);
};

enum plx_app_parse_rv {
	PLX_APP_PARSE_OK = 0,
	PLX_APP_PARSE_EXIT = 1,	 /* -h or -v were handled: exit 0 */
	PLX_APP_PARSE_ERROR = 2, /* a bad option was reported: exit non-zero */
};

/* Parse the common options (see docs) plus extra into opts. */
enum plx_app_parse_rv plx_app_parse_args(int argc, char **argv, struct plx_app_opts *opts,
					 const struct plx_app_extra_opts *extra);

/*
 * Run the application: env, reactors, RPC server, subsystems, config file; then start_fn(ctx)
 * on the app thread. Blocks until plx_app_stop() or a SIGINT/SIGTERM has shut everything down.
 * Returns the rc given to plx_app_stop (0 after a signal), or a negative errno when start-up
 * failed.
 */
int plx_app_start(const struct plx_app_opts *opts, plx_app_start_fn start_fn, void *ctx);

/* Begin an orderly shutdown from any plx_thread; plx_app_start returns rc. */
void plx_app_stop(int rc);

/* True once the subsystems are initialised (framework_start_init has completed). */
bool plx_app_is_initialized(void);

/* ---- subsystems ---- */

struct plx_subsystem {
	const char *name;
	/* Initialise, then call plx_subsystem_init_next(rc) (now or later). NULL: nothing. */
	void (*init)(void);
	/* Finish, then call plx_subsystem_fini_next() (now or later). NULL: nothing. */
	void (*fini)(void);
	/* Append {"method", "params"} objects that recreate the current state to config. */
	void (*write_config_json)(json_t *config);
	/* framework internal */
	struct plx_subsystem *next;
	bool initialized;
};

struct plx_subsystem_depend {
	const char *name;
	const char *depends_on;
	struct plx_subsystem_depend *next;
};

void plx_add_subsystem(struct plx_subsystem *subsystem);
void plx_add_subsystem_depend(struct plx_subsystem_depend *depend);

#define PLX_SUBSYSTEM_REGISTER(_name)                                                              \
	__attribute__((constructor)) static void plx_subsystem_register_##_name(void)              \
	{                                                                                          \
		plx_add_subsystem(&_name);                                                         \
	}

#define PLX_SUBSYSTEM_DEPEND(_name, _depends_on)                                                   \
	static struct plx_subsystem_depend plx_subsystem_depend_##_name##_##_depends_on = {        \
	    .name = #_name, .depends_on = #_depends_on};                                           \
	__attribute__((constructor)) static void plx_subsystem_depend_reg_##_name##_##_depends_on( \
	    void)                                                                                  \
	{                                                                                          \
		plx_add_subsystem_depend(&plx_subsystem_depend_##_name##_##_depends_on);           \
	}

void plx_subsystem_init_next(int rc);
void plx_subsystem_fini_next(void);

/* Subsystem by name, or NULL. */
struct plx_subsystem *plx_subsystem_find(const char *name);

/* Iterate subsystems in initialisation order: NULL for the first. */
struct plx_subsystem *plx_subsystem_next(struct plx_subsystem *prev);

/* Call cb for each subsystem that name depends on directly. */
void plx_subsystem_foreach_depend(const char *name, void (*cb)(const char *dep, void *arg),
				  void *arg);

/* A subsystem's config array (new reference): the entries its write_config_json produces. */
json_t *plx_subsystem_config_json(struct plx_subsystem *subsystem);

/* ---- reactors ---- */

/* Number of reactors, and the core of reactor i. */
uint32_t plx_reactor_count(void);
uint32_t plx_reactor_core(uint32_t i);

/* The app's core mask. */
const struct plx_cpuset *plx_app_get_core_mask(void);

#ifdef __cplusplus
}
#endif
#endif
