/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Subsystems: registered by constructors, ordered by their dependencies once at start-up,
 * initialised one after another (each may finish asynchronously) and finished in reverse.
 */
#include <errno.h>
#include <string.h>

#include "event_internal.h"

static struct plx_subsystem *g_subsystems; /* in registration order until sorted */
static struct plx_subsystem_depend *g_depends;
static struct plx_subsystem *g_cur; /* being initialised or finished */
static subsystem_done_fn g_init_done;
static void (*g_fini_done)(void);

void plx_add_subsystem(struct plx_subsystem *subsystem)
{
	struct plx_subsystem **pos = &g_subsystems;

	while (*pos != NULL) {
		pos = &(*pos)->next;
	}
	subsystem->next = NULL;
	*pos = subsystem;
}

void plx_add_subsystem_depend(struct plx_subsystem_depend *depend)
{
	depend->next = g_depends;
	g_depends = depend;
}

struct plx_subsystem *plx_subsystem_find(const char *name)
{
	for (struct plx_subsystem *s = g_subsystems; s != NULL; s = s->next) {
		if (strcmp(s->name, name) == 0) {
			return s;
		}
	}
	return NULL;
}

struct plx_subsystem *plx_subsystem_next(struct plx_subsystem *prev)
{
	return prev == NULL ? g_subsystems : prev->next;
}

void plx_subsystem_foreach_depend(const char *name, void (*cb)(const char *dep, void *arg),
				  void *arg)
{
	for (struct plx_subsystem_depend *d = g_depends; d != NULL; d = d->next) {
		if (strcmp(d->name, name) == 0) {
			cb(d->depends_on, arg);
		}
	}
}

static bool all_deps_placed(struct plx_subsystem *s, struct plx_subsystem *sorted)
{
	for (struct plx_subsystem_depend *d = g_depends; d != NULL; d = d->next) {
		struct plx_subsystem *p;

		if (strcmp(d->name, s->name) != 0) {
			continue;
		}
		for (p = sorted; p != NULL && strcmp(p->name, d->depends_on) != 0; p = p->next) {
		}
		if (p == NULL) {
			return false;
		}
	}
	return true;
}

int subsystems_sort(void)
{
	struct plx_subsystem *sorted = NULL, **tail = &sorted;

	for (struct plx_subsystem_depend *d = g_depends; d != NULL; d = d->next) {
		if (plx_subsystem_find(d->name) == NULL ||
		    plx_subsystem_find(d->depends_on) == NULL) {
			PLX_ERRLOG("subsystem %s depends on %s, and one of them does not exist\n",
				   d->name, d->depends_on);
			return -ENOENT;
		}
	}
	/* Repeatedly move the first subsystem whose dependencies are all placed. */
	while (g_subsystems != NULL) {
		struct plx_subsystem **pos = &g_subsystems;

		while (*pos != NULL && !all_deps_placed(*pos, sorted)) {
			pos = &(*pos)->next;
		}
		if (*pos == NULL) {
			PLX_ERRLOG("subsystem dependencies form a cycle (at %s)\n",
				   g_subsystems->name);
			*tail = g_subsystems;
			g_subsystems = sorted;
			return -ELOOP;
		}
		*tail = *pos;
		*pos = (*pos)->next;
		(*tail)->next = NULL;
		tail = &(*tail)->next;
	}
	g_subsystems = sorted;
	return 0;
}

static void init_step(void)
{
	while (g_cur != NULL && g_cur->init == NULL) {
		g_cur->initialized = true;
		g_cur = g_cur->next;
	}
	if (g_cur == NULL) {
		g_init_done(0);
		return;
	}
	PLX_DEBUGLOG(app, "initialising subsystem %s\n", g_cur->name);
	g_cur->init();
}

void plx_subsystem_init_next(int rc)
{
	if (rc != 0) {
		PLX_ERRLOG("subsystem %s failed to initialise: %s\n", g_cur->name, strerror(-rc));
		g_init_done(rc);
		return;
	}
	g_cur->initialized = true;
	g_cur = g_cur->next;
	init_step();
}

void subsystems_init(subsystem_done_fn done)
{
	g_init_done = done;
	g_cur = g_subsystems;
	init_step();
}

/* The initialised subsystem before cur in init order (NULL: start from the last). */
static struct plx_subsystem *prev_initialized(struct plx_subsystem *cur)
{
	struct plx_subsystem *found = NULL;

	for (struct plx_subsystem *s = g_subsystems; s != NULL && s != cur; s = s->next) {
		if (s->initialized) {
			found = s;
		}
	}
	return found;
}

static void fini_step(void)
{
	g_cur = prev_initialized(g_cur);
	if (g_cur == NULL) {
		g_fini_done();
		return;
	}
	g_cur->initialized = false;
	if (g_cur->fini == NULL) {
		fini_step();
		return;
	}
	PLX_DEBUGLOG(app, "finishing subsystem %s\n", g_cur->name);
	g_cur->fini();
}

void plx_subsystem_fini_next(void)
{
	fini_step();
}

void subsystems_fini(void (*done)(void))
{
	g_fini_done = done;
	g_cur = NULL;
	fini_step();
}

json_t *plx_subsystem_config_json(struct plx_subsystem *subsystem)
{
	json_t *config = json_array();

	if (config != NULL && subsystem->write_config_json != NULL) {
		subsystem->write_config_json(config);
	}
	return config;
}
