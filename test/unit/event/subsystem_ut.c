/* SPDX-License-Identifier: BSD-3-Clause */
/* Subsystem ordering, init and fini sequencing (lib/event/subsystem.c). */
#include <errno.h>
#include <string.h>

#include "event_internal.h"
#include "ut.h"
#include "ut_thread.h"

static char g_trace[256];
static int g_done_rc = 1;
static bool g_fini_done;

static void trace(const char *what, const char *name)
{
	strncat(g_trace, what, sizeof(g_trace) - strlen(g_trace) - 1);
	strncat(g_trace, name, sizeof(g_trace) - strlen(g_trace) - 1);
	strncat(g_trace, " ", sizeof(g_trace) - strlen(g_trace) - 1);
}

#define UT_SUBSYSTEM(n)                                                                            \
	static void init_##n(void)                                                                 \
	{                                                                                          \
		trace("+", #n);                                                                    \
		plx_subsystem_init_next(0);                                                        \
	}                                                                                          \
	static void fini_##n(void)                                                                 \
	{                                                                                          \
		trace("-", #n);                                                                    \
		plx_subsystem_fini_next();                                                         \
	}                                                                                          \
	static struct plx_subsystem ut_##n = {.name = #n, .init = init_##n, .fini = fini_##n};     \
	PLX_SUBSYSTEM_REGISTER(ut_##n)

/* Registered in an order the dependencies contradict: c needs b, b needs a. */
UT_SUBSYSTEM(c)
UT_SUBSYSTEM(b)
UT_SUBSYSTEM(a)
PLX_SUBSYSTEM_DEPEND(c, b)
PLX_SUBSYSTEM_DEPEND(b, a)

static void init_done(int rc)
{
	g_done_rc = rc;
}

static void fini_done(void)
{
	g_fini_done = true;
}

static int position(const char *name)
{
	int i = 0;

	for (struct plx_subsystem *s = plx_subsystem_next(NULL); s;
	     s = plx_subsystem_next(s), i++) {
		if (strcmp(s->name, name) == 0) {
			return i;
		}
	}
	return -1;
}

static void test_sort_respects_dependencies(void)
{
	CU_ASSERT_EQUAL(subsystems_sort(), 0);
	CU_ASSERT(position("a") >= 0);
	CU_ASSERT(position("a") < position("b"));
	CU_ASSERT(position("b") < position("c"));
	CU_ASSERT_PTR_NOT_NULL(plx_subsystem_find("scheduler"));
	CU_ASSERT_PTR_NULL(plx_subsystem_find("nope"));
}

static void test_init_then_fini_in_reverse(void)
{
	char *pa, *pb, *pc;

	/* Every linked subsystem (bdev, iobuf, ...) really starts: give them a thread. */
	ut_threads_init(1);
	g_trace[0] = '\0';
	subsystems_init(init_done);
	ut_poll_threads();
	CU_ASSERT_EQUAL(g_done_rc, 0);
	pa = strstr(g_trace, "+a ");
	pb = strstr(g_trace, "+b ");
	pc = strstr(g_trace, "+c ");
	CU_ASSERT(pa != NULL && pb != NULL && pc != NULL && pa < pb && pb < pc);

	g_trace[0] = '\0';
	subsystems_fini(fini_done);
	ut_poll_threads();
	CU_ASSERT_TRUE(g_fini_done);
	ut_threads_fini();
	pa = strstr(g_trace, "-a ");
	pb = strstr(g_trace, "-b ");
	pc = strstr(g_trace, "-c ");
	CU_ASSERT(pa != NULL && pb != NULL && pc != NULL && pc < pb && pb < pa);
}

static void collect_dep(const char *dep, void *arg)
{
	strcat(arg, dep);
}

static void test_foreach_depend(void)
{
	char deps[32] = "";

	plx_subsystem_foreach_depend("c", collect_dep, deps);
	CU_ASSERT_STRING_EQUAL(deps, "b");
	deps[0] = '\0';
	plx_subsystem_foreach_depend("a", collect_dep, deps);
	CU_ASSERT_STRING_EQUAL(deps, "");
}

static void test_config_json(void)
{
	json_t *config = plx_subsystem_config_json(plx_subsystem_find("scheduler"));
	json_t *entry = json_array_get(config, 0);

	CU_ASSERT_EQUAL(json_array_size(config), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(entry, "method")),
			       "framework_set_scheduler");
	json_decref(config);
	config = plx_subsystem_config_json(plx_subsystem_find("a"));
	CU_ASSERT_EQUAL(json_array_size(config), 0);
	json_decref(config);
}

/* A dependency on a subsystem nobody registered is refused, not silently ignored. */
static struct plx_subsystem_depend g_bad_dep = {.name = "a", .depends_on = "missing"};

static void test_missing_dependency(void)
{
	plx_add_subsystem_depend(&g_bad_dep);
	CU_ASSERT_EQUAL(subsystems_sort(), -ENOENT);
}

static const struct plx_ut_case cases[] = {
    {"sort_respects_dependencies", test_sort_respects_dependencies},
    {"init_then_fini_in_reverse", test_init_then_fini_in_reverse},
    {"foreach_depend", test_foreach_depend},
    {"config_json", test_config_json},
    {"missing_dependency", test_missing_dependency},
};

PLX_UT_MAIN("event_subsystem", cases)
