/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pollux log: levels, per-component debug flags and timestamps.
 *
 * Two thresholds, as in SPDK: the log level decides what goes to syslog, the print level
 * what goes to stderr. Debug messages (PLX_DEBUGLOG) appear only when their component's flag
 * is set (-L FLAG or log_set_flag) and the print level is DEBUG.
 */
#ifndef POLLUX_LOG_H
#define POLLUX_LOG_H

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum plx_log_level {
	PLX_LOG_DISABLED = -1,
	PLX_LOG_ERROR = 0,
	PLX_LOG_WARN = 1,
	PLX_LOG_NOTICE = 2,
	PLX_LOG_INFO = 3,
	PLX_LOG_DEBUG = 4,
};

/* A debug component; declare with PLX_LOG_REGISTER_COMPONENT. */
struct plx_log_flag {
	const char *name;
	bool enabled;
	struct plx_log_flag *next;
};

/* Register a flag (done by PLX_LOG_REGISTER_COMPONENT at load time). */
void plx_log_register_flag(struct plx_log_flag *flag);

/* Declares component FLAG (an identifier, also its name) in the file that owns it. */
#define PLX_LOG_REGISTER_COMPONENT(FLAG)                                                           \
	struct plx_log_flag PLX_LOG_FLAG_##FLAG = {.name = #FLAG};                                 \
	__attribute__((constructor)) static void plx_log_flag_register_##FLAG(void)                \
	{                                                                                          \
		plx_log_register_flag(&PLX_LOG_FLAG_##FLAG);                                       \
	}

/* Refers, from another file, to a component declared elsewhere. */
#define PLX_LOG_DECLARE_COMPONENT(FLAG) extern struct plx_log_flag PLX_LOG_FLAG_##FLAG

void plx_log(enum plx_log_level level, const char *file, int line, const char *func,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define PLX_ERRLOG(...)	   plx_log(PLX_LOG_ERROR, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define PLX_WARNLOG(...)   plx_log(PLX_LOG_WARN, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define PLX_NOTICELOG(...) plx_log(PLX_LOG_NOTICE, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define PLX_INFOLOG(...)   plx_log(PLX_LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define PLX_DEBUGLOG(FLAG, ...)                                                                    \
	do {                                                                                       \
		extern struct plx_log_flag PLX_LOG_FLAG_##FLAG;                                    \
		if (__builtin_expect(PLX_LOG_FLAG_##FLAG.enabled, 0)) {                            \
			plx_log(PLX_LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__);         \
		}                                                                                  \
	} while (0)

/* Level names as used over RPC: "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG". */
const char *plx_log_level_name(enum plx_log_level level);

/* Parse a level name (case-insensitive); -EINVAL when unknown. */
int plx_log_level_parse(const char *name, enum plx_log_level *level);

void plx_log_set_level(enum plx_log_level level);
enum plx_log_level plx_log_get_level(void);
void plx_log_set_print_level(enum plx_log_level level);
enum plx_log_level plx_log_get_print_level(void);

/* Enable or disable one flag by name, or every flag with "all"; -EINVAL when unknown. */
int plx_log_set_flag(const char *name);
int plx_log_clear_flag(const char *name);

/* Whether a flag is enabled; false for unknown names. */
bool plx_log_get_flag(const char *name);

/* Iterate the registered flags in name order: pass NULL for the first. */
struct plx_log_flag *plx_log_next_flag(struct plx_log_flag *prev);

/* Prefix every line with a wall-clock timestamp (default on). */
void plx_log_enable_timestamps(bool enable);

/* Open syslog under ident; without it only stderr output happens. */
void plx_log_open(const char *ident);
void plx_log_close(void);

/* Redirect stderr-bound output (tests); NULL restores stderr. */
void plx_log_set_stream(FILE *stream);

#ifdef __cplusplus
}
#endif
#endif
