/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>

#include "pollux/log.h"

static const char *const g_level_names[] = {
    [PLX_LOG_ERROR] = "ERROR", [PLX_LOG_WARN] = "WARNING", [PLX_LOG_NOTICE] = "NOTICE",
    [PLX_LOG_INFO] = "INFO",   [PLX_LOG_DEBUG] = "DEBUG",
};

/* Thresholds are read on every log call from any OS thread: relaxed atomics, no lock. */
static _Atomic int g_log_level = PLX_LOG_NOTICE;
static _Atomic int g_print_level = PLX_LOG_NOTICE;
static _Atomic bool g_timestamps = true;
static _Atomic bool g_syslog_open;
static FILE *g_stream;

/* Flags are registered by constructors before main() and only toggled afterwards. */
static struct plx_log_flag *g_flags;

const char *plx_log_level_name(enum plx_log_level level)
{
	if (level < PLX_LOG_ERROR || level > PLX_LOG_DEBUG) {
		return "DISABLED";
	}
	return g_level_names[level];
}

int plx_log_level_parse(const char *name, enum plx_log_level *level)
{
	for (int i = PLX_LOG_ERROR; i <= PLX_LOG_DEBUG; i++) {
		if (strcasecmp(name, g_level_names[i]) == 0) {
			*level = (enum plx_log_level)i;
			return 0;
		}
	}
	/* SPDK accepts WARN as well as WARNING. */
	if (strcasecmp(name, "WARN") == 0) {
		*level = PLX_LOG_WARN;
		return 0;
	}
	return -EINVAL;
}

void plx_log_set_level(enum plx_log_level level)
{
	atomic_store_explicit(&g_log_level, level, memory_order_relaxed);
}

enum plx_log_level plx_log_get_level(void)
{
	return (enum plx_log_level)atomic_load_explicit(&g_log_level, memory_order_relaxed);
}

void plx_log_set_print_level(enum plx_log_level level)
{
	atomic_store_explicit(&g_print_level, level, memory_order_relaxed);
}

enum plx_log_level plx_log_get_print_level(void)
{
	return (enum plx_log_level)atomic_load_explicit(&g_print_level, memory_order_relaxed);
}

void plx_log_enable_timestamps(bool enable)
{
	atomic_store(&g_timestamps, enable);
}

void plx_log_set_stream(FILE *stream)
{
	g_stream = stream;
}

void plx_log_open(const char *ident)
{
	openlog(ident, LOG_PID, LOG_LOCAL7);
	atomic_store(&g_syslog_open, true);
}

void plx_log_close(void)
{
	if (atomic_exchange(&g_syslog_open, false)) {
		closelog();
	}
}

void plx_log_register_flag(struct plx_log_flag *flag)
{
	struct plx_log_flag **pos = &g_flags;

	/* Keep the list sorted by name so log_get_flags answers in a stable order. */
	while (*pos != NULL && strcmp((*pos)->name, flag->name) < 0) {
		pos = &(*pos)->next;
	}
	flag->next = *pos;
	*pos = flag;
}

struct plx_log_flag *plx_log_next_flag(struct plx_log_flag *prev)
{
	return prev == NULL ? g_flags : prev->next;
}

static struct plx_log_flag *find_flag(const char *name)
{
	for (struct plx_log_flag *f = g_flags; f != NULL; f = f->next) {
		if (strcmp(f->name, name) == 0) {
			return f;
		}
	}
	return NULL;
}

static int toggle_flag(const char *name, bool enable)
{
	struct plx_log_flag *flag;

	if (strcmp(name, "all") == 0) {
		for (flag = g_flags; flag != NULL; flag = flag->next) {
			flag->enabled = enable;
		}
		return 0;
	}
	flag = find_flag(name);
	if (flag == NULL) {
		return -EINVAL;
	}
	flag->enabled = enable;
	return 0;
}

int plx_log_set_flag(const char *name)
{
	return toggle_flag(name, true);
}

int plx_log_clear_flag(const char *name)
{
	return toggle_flag(name, false);
}

bool plx_log_get_flag(const char *name)
{
	struct plx_log_flag *flag = find_flag(name);

	return flag != NULL && flag->enabled;
}

static const int g_syslog_prio[] = {
    [PLX_LOG_ERROR] = LOG_ERR, [PLX_LOG_WARN] = LOG_WARNING, [PLX_LOG_NOTICE] = LOG_NOTICE,
    [PLX_LOG_INFO] = LOG_INFO, [PLX_LOG_DEBUG] = LOG_DEBUG,
};

static void format_timestamp(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	snprintf(buf, len, "[%04d-%02d-%02d %02d:%02d:%02d.%06ld] ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
}

void plx_log(enum plx_log_level level, const char *file, int line, const char *func,
	     const char *fmt, ...)
{
	char msg[1024], ts[64] = "";
	const char *base = strrchr(file, '/');
	bool to_syslog = level <= plx_log_get_level() && atomic_load(&g_syslog_open);
	bool to_print = level <= plx_log_get_print_level();
	va_list ap;

	if (!to_syslog && !to_print) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	base = base != NULL ? base + 1 : file;

	if (to_syslog) {
		syslog(g_syslog_prio[level], "%s:%d:%s: *%s*: %s", base, line, func,
		       g_level_names[level], msg);
	}
	if (to_print) {
		size_t n = strlen(msg);
		FILE *out = g_stream != NULL ? g_stream : stderr;

		if (atomic_load_explicit(&g_timestamps, memory_order_relaxed)) {
			format_timestamp(ts, sizeof(ts));
		}
		/* One fprintf per line so lines from different reactors do not interleave. */
		fprintf(out, "%s%s:%d:%s: *%s*: %s%s", ts, base, line, func, g_level_names[level],
			msg, n > 0 && msg[n - 1] == '\n' ? "" : "\n");
	}
}
