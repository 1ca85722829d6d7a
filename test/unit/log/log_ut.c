/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/log.h"
#include "ut.h"

PLX_LOG_REGISTER_COMPONENT(ut_alpha)
PLX_LOG_REGISTER_COMPONENT(ut_beta)

/* Capture what the logger prints, through an in-memory stream. */
static char *g_buf;
static size_t g_len;
static FILE *g_stream;

static void capture_start(void)
{
	g_stream = open_memstream(&g_buf, &g_len);
	plx_log_set_stream(g_stream);
	plx_log_enable_timestamps(false);
}

static const char *capture_end(void)
{
	fflush(g_stream);
	plx_log_set_stream(NULL);
	return g_buf;
}

static void capture_free(void)
{
	fclose(g_stream);
	free(g_buf);
	g_buf = NULL;
}

static void test_level_names(void)
{
	enum plx_log_level level;

	CU_ASSERT_STRING_EQUAL(plx_log_level_name(PLX_LOG_ERROR), "ERROR");
	CU_ASSERT_STRING_EQUAL(plx_log_level_name(PLX_LOG_WARN), "WARNING");
	CU_ASSERT_STRING_EQUAL(plx_log_level_name(PLX_LOG_DEBUG), "DEBUG");
	CU_ASSERT(plx_log_level_parse("notice", &level) == 0 && level == PLX_LOG_NOTICE);
	CU_ASSERT(plx_log_level_parse("WARN", &level) == 0 && level == PLX_LOG_WARN);
	CU_ASSERT(plx_log_level_parse("INFO", &level) == 0 && level == PLX_LOG_INFO);
	CU_ASSERT_EQUAL(plx_log_level_parse("LOUD", &level), -EINVAL);
	CU_ASSERT_EQUAL(plx_log_level_parse("", &level), -EINVAL);
}

static void test_print_level_filters(void)
{
	const char *out;

	plx_log_set_print_level(PLX_LOG_WARN);
	CU_ASSERT_EQUAL(plx_log_get_print_level(), PLX_LOG_WARN);
	capture_start();
	PLX_ERRLOG("shown %d\n", 1);
	PLX_WARNLOG("shown %d\n", 2);
	PLX_NOTICELOG("hidden %d\n", 3);
	PLX_INFOLOG("hidden %d\n", 4);
	out = capture_end();
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "*ERROR*: shown 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "*WARNING*: shown 2"));
	CU_ASSERT_PTR_NULL(strstr(out, "hidden"));
	/* The location is part of every line. */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "log_ut.c:"));
	capture_free();
	plx_log_set_print_level(PLX_LOG_NOTICE);
}

static void test_newline_added_once(void)
{
	const char *out;

	capture_start();
	PLX_ERRLOG("no newline");
	PLX_ERRLOG("with newline\n");
	out = capture_end();
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "no newline\n"));
	CU_ASSERT_PTR_NULL(strstr(out, "with newline\n\n"));
	capture_free();
}

static void test_timestamps(void)
{
	const char *out;

	capture_start();
	plx_log_enable_timestamps(true);
	PLX_ERRLOG("stamped\n");
	out = capture_end();
	CU_ASSERT_EQUAL(out[0], '[');
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "] "));
	capture_free();
	plx_log_enable_timestamps(false);
}

static void test_debug_flags(void)
{
	const char *out;

	plx_log_set_print_level(PLX_LOG_DEBUG);
	CU_ASSERT_FALSE(plx_log_get_flag("ut_alpha"));
	capture_start();
	PLX_DEBUGLOG(ut_alpha, "off\n");
	CU_ASSERT_EQUAL(plx_log_set_flag("ut_alpha"), 0);
	CU_ASSERT_TRUE(plx_log_get_flag("ut_alpha"));
	PLX_DEBUGLOG(ut_alpha, "on\n");
	PLX_DEBUGLOG(ut_beta, "beta off\n");
	out = capture_end();
	CU_ASSERT_PTR_NULL(strstr(out, "off"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "*DEBUG*: on"));
	capture_free();

	CU_ASSERT_EQUAL(plx_log_clear_flag("ut_alpha"), 0);
	CU_ASSERT_FALSE(plx_log_get_flag("ut_alpha"));
	CU_ASSERT_EQUAL(plx_log_set_flag("no_such_flag"), -EINVAL);
	CU_ASSERT_EQUAL(plx_log_clear_flag("no_such_flag"), -EINVAL);
	CU_ASSERT_FALSE(plx_log_get_flag("no_such_flag"));
	plx_log_set_print_level(PLX_LOG_NOTICE);
}

static void test_all_flags(void)
{
	CU_ASSERT_EQUAL(plx_log_set_flag("all"), 0);
	for (struct plx_log_flag *f = plx_log_next_flag(NULL); f; f = plx_log_next_flag(f)) {
		CU_ASSERT_TRUE(f->enabled);
	}
	CU_ASSERT_EQUAL(plx_log_clear_flag("all"), 0);
	for (struct plx_log_flag *f = plx_log_next_flag(NULL); f; f = plx_log_next_flag(f)) {
		CU_ASSERT_FALSE(f->enabled);
	}
}

static void test_flags_sorted(void)
{
	struct plx_log_flag *prev = NULL;
	bool alpha = false, beta = false;

	for (struct plx_log_flag *f = plx_log_next_flag(NULL); f; f = plx_log_next_flag(f)) {
		if (prev != NULL) {
			CU_ASSERT(strcmp(prev->name, f->name) < 0);
		}
		alpha |= strcmp(f->name, "ut_alpha") == 0;
		beta |= strcmp(f->name, "ut_beta") == 0;
		prev = f;
	}
	CU_ASSERT_TRUE(alpha && beta);
}

static void test_syslog_level(void)
{
	plx_log_set_level(PLX_LOG_ERROR);
	CU_ASSERT_EQUAL(plx_log_get_level(), PLX_LOG_ERROR);
	plx_log_set_level(PLX_LOG_NOTICE);
	CU_ASSERT_EQUAL(plx_log_get_level(), PLX_LOG_NOTICE);
}

static const struct plx_ut_case cases[] = {
    {"level_names", test_level_names},
    {"print_level_filters", test_print_level_filters},
    {"newline_added_once", test_newline_added_once},
    {"timestamps", test_timestamps},
    {"debug_flags", test_debug_flags},
    {"all_flags", test_all_flags},
    {"flags_sorted", test_flags_sorted},
    {"syslog_level", test_syslog_level},
};

PLX_UT_MAIN("log", cases)
