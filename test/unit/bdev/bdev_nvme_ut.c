/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nvme bdev module on the fake NVMe transport (test/unit/nvme/fake_nvme.c) under the
 * deterministic thread harness: attach and detach, I/O from several threads (each with its
 * own qpair), multipath policies and ANA, a path that fails while others carry on, and the
 * reconnect loop with its timeouts.
 *
 * Two link-time wraps (meson.build) make it deterministic: connect jobs run inline on the app
 * thread (pthread_create refuses unless a test asks for the helper thread), and the module's
 * clock (plx_get_ticks) is the harness clock, so ut_advance_time_us drives the outage
 * timeouts as well as the reconnect timer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../module/bdev/nvme/bdev_nvme.h"
#include "../nvme/fake_nvme.h"
#include "bm_ut.h"

#define BS     4096 /* the fake's namespaces: LBA format 1, 4 KiB */
#define PORT_A "4420"
#define PORT_B "4421"

/* ---- link-time hooks ---- */

uint64_t __wrap_plx_get_ticks(void);
int __real_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg);
int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg);

static bool g_connect_on_helper; /* false: the module's connect jobs run inline */

uint64_t __wrap_plx_get_ticks(void)
{
	return ut_now();
}

int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg)
{
	if (!g_connect_on_helper) {
		return EAGAIN;
	}
	return __real_pthread_create(thread, attr, fn, arg);
}

/* ---- set-up ---- */

static void *g_buf;

static void setup(unsigned int nthreads)
{
	struct bdev_nvme_opts o;
	char err[256];

	fake_reset();
	ut_bdev_init(nthreads);
	g_connect_on_helper = false;
	bdev_nvme_get_default_opts(&o);
	CU_ASSERT_EQUAL_FATAL(bdev_nvme_set_opts(&o, err, sizeof(err)), 0);
	if (g_buf == NULL) {
		g_buf = aligned_alloc(BS, 4 * BS);
		memset(g_buf, 0x5a, 4 * BS);
	}
}

static size_t num_ctrlr_names(void)
{
	json_t *arr = json_array();
	size_t n;

	CU_ASSERT_EQUAL(bdev_nvme_ctrlrs_json(NULL, arr), 0);
	n = json_array_size(arr);
	json_decref(arr);
	return n;
}

static void teardown(void)
{
	CU_ASSERT_EQUAL(num_ctrlr_names(), 0);
	ut_set_thread(0);
	ut_bdev_fini();
}

/* Run every thread until idle, then let a few milliseconds pass (the retry poller's period)
 * and run them again: what a path change or a resubmission needs to play out. */
static void settle(void)
{
	ut_poll_threads();
	for (int i = 0; i < 5; i++) {
		ut_advance_time_us(1000);
		ut_poll_threads();
	}
}

static void advance_sec(unsigned int sec)
{
	for (unsigned int i = 0; i < sec; i++) {
		ut_advance_time_us(1000000);
		ut_poll_threads();
	}
	settle();
}

/* Poll until *flag: the helper-thread connect answers by message, at a time of its own. */
static void wait_for(const bool *flag)
{
	for (int i = 0; i < 20000 && !__atomic_load_n(flag, __ATOMIC_ACQUIRE); i++) {
		ut_poll_threads();
		if (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
			usleep(500);
		}
	}
	CU_ASSERT_FATAL(*flag);
}

/* ---- attach / detach ---- */

struct attach_res {
	bool done;
	int rc;
	json_t *names;
	char err[512];
};

static void attach_done(void *cb_arg, int rc, json_t *names, const char *err)
{
	struct attach_res *r = cb_arg;

	r->rc = rc;
	r->names = names;
	snprintf(r->err, sizeof(r->err), "%s", err != NULL ? err : "");
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
}

static void attach_opts(struct bdev_nvme_attach_opts *o, const char *name, const char *svcid,
			enum bdev_nvme_multipath_mode mode)
{
	bdev_nvme_get_default_attach_opts(o);
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->trid.trtype = FAKE_TRTYPE;
	o->trid.adrfam = PLX_NVMF_ADRFAM_IPV4;
	snprintf(o->trid.traddr, sizeof(o->trid.traddr), "127.0.0.1");
	snprintf(o->trid.trsvcid, sizeof(o->trid.trsvcid), "%s", svcid);
	snprintf(o->trid.subnqn, sizeof(o->trid.subnqn), "%s", FAKE_SUBNQN);
	o->multipath = mode;
}

/* Attach on the app thread; the names as compact JSON text into names (may be NULL). */
static int attach(const struct bdev_nvme_attach_opts *o, char *names, size_t len)
{
	struct attach_res r = {0};

	ut_set_thread(0);
	bdev_nvme_attach(o, attach_done, &r);
	wait_for(&r.done);
	if (r.rc == 0) {
		char *s = json_dumps(r.names, JSON_COMPACT);

		CU_ASSERT_PTR_NOT_NULL(r.names);
		if (names != NULL) {
			snprintf(names, len, "%s", s != NULL ? s : "");
		}
		free(s);
	} else {
		CU_ASSERT_PTR_NULL(r.names);
		CU_ASSERT(r.err[0] != '\0');
	}
	json_decref(r.names);
	return r.rc;
}

static int attach_port(const char *name, const char *svcid, enum bdev_nvme_multipath_mode mode)
{
	struct bdev_nvme_attach_opts o;

	attach_opts(&o, name, svcid, mode);
	return attach(&o, NULL, 0);
}

struct done_res {
	bool done;
	int rc;
};

static void done_cb(void *cb_arg, int rc)
{
	struct done_res *r = cb_arg;

	r->rc = rc;
	r->done = true;
}

static int detach(const char *name, const struct bdev_nvme_path_filter *filter)
{
	struct done_res r = {0};
	int rc;

	ut_set_thread(0);
	rc = bdev_nvme_detach(name, filter, done_cb, &r);
	if (rc != 0) {
		return rc;
	}
	ut_poll_threads();
	CU_ASSERT_FATAL(r.done);
	return r.rc;
}

/* ---- looking at the module ---- */

/* bdev_nvme_get_controllers knows name. */
static bool name_exists(const char *name)
{
	json_t *arr = json_array();
	int rc = bdev_nvme_ctrlrs_json(name, arr);

	json_decref(arr);
	return rc == 0;
}

/* The state bdev_nvme_get_controllers reports for the controller at svcid ("" if none). */
static const char *ctrlr_state(const char *name, const char *svcid, bool *fast_io_failed)
{
	static char state[32];
	json_t *arr = json_array();

	state[0] = '\0';
	if (bdev_nvme_ctrlrs_json(name, arr) == 0 && json_array_size(arr) == 1) {
		json_t *ctrlrs = json_object_get(json_array_get(arr, 0), "ctrlrs");
		size_t i;
		json_t *c;

		json_array_foreach(ctrlrs, i, c)
		{
			json_t *trid = json_object_get(c, "trid");

			if (strcmp(json_string_value(json_object_get(trid, "trsvcid")), svcid) !=
			    0) {
				continue;
			}
			snprintf(state, sizeof(state), "%s",
				 json_string_value(json_object_get(c, "state")));
			if (fast_io_failed != NULL) {
				*fast_io_failed =
				    json_is_true(json_object_get(c, "fast_io_fail_timedout"));
			}
		}
	}
	json_decref(arr);
	return state;
}

static bool ctrlr_exists(const char *name, const char *svcid)
{
	return ctrlr_state(name, svcid, NULL)[0] != '\0';
}

/* The paths bdev_get_bdevs reports for bdev_name (driver_specific.nvme). */
static size_t num_paths(const char *bdev_name)
{
	struct plx_bdev *bdev = plx_bdev_get_by_name(bdev_name);
	json_t *info = json_object();
	size_t n;

	if (bdev == NULL) {
		json_decref(info);
		return 0;
	}
	bdev->fn_table->dump_info_json(bdev->ctxt, info);
	n = json_array_size(json_object_get(info, "nvme"));
	json_decref(info);
	return n;
}

/* ---- I/O ---- */

struct chans {
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch[3]; /* by harness thread; [0] unused */
	unsigned int nthreads;
};

/* Open bdev on the app thread and get a channel on each I/O thread 1..nthreads-1. */
static void open_chans(struct chans *c, const char *bdev, unsigned int nthreads)
{
	memset(c, 0, sizeof(*c));
	ut_set_thread(0);
	c->desc = ut_bdev_open(bdev);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->desc);
	c->nthreads = nthreads;
	for (unsigned int t = 1; t < nthreads; t++) {
		ut_set_thread(t);
		c->ch[t] = plx_bdev_get_io_channel(c->desc);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c->ch[t]);
	}
	ut_poll_threads();
}

static void close_chans(struct chans *c)
{
	for (unsigned int t = 1; t < c->nthreads; t++) {
		ut_set_thread(t);
		plx_put_io_channel(c->ch[t]);
	}
	ut_set_thread(0);
	plx_bdev_close(c->desc);
	ut_poll_threads();
}

static void submit(struct chans *c, unsigned int t, bool write, uint64_t lba, struct bm_io *r)
{
	*r = (struct bm_io){0};
	ut_set_thread(t);
	if (write) {
		CU_ASSERT_EQUAL_FATAL(
		    plx_bdev_write_blocks(c->desc, c->ch[t], g_buf, lba, 1, bm_io_cb, r), 0);
	} else {
		CU_ASSERT_EQUAL_FATAL(
		    plx_bdev_read_blocks(c->desc, c->ch[t], g_buf, lba, 1, bm_io_cb, r), 0);
	}
}

/* One read on thread t, run to completion: 1 success, -1 failure, 0 still outstanding. */
static int read_one(struct chans *c, unsigned int t)
{
	struct bm_io r;

	submit(c, t, false, 0, &r);
	settle();
	return r.done;
}

/* Which port the next read on thread t goes to: "A", "B" or "?" (it must succeed). */
static const char *read_goes_to(struct chans *c, unsigned int t)
{
	uint32_t a = fake_port(PORT_A)->io_submitted, b = fake_port(PORT_B)->io_submitted;
	int rc = read_one(c, t);
	uint32_t da = fake_port(PORT_A)->io_submitted - a, db = fake_port(PORT_B)->io_submitted - b;

	CU_ASSERT_EQUAL(rc, 1);
	if (da == 1 && db == 0) {
		return "A";
	}
	if (da == 0 && db == 1) {
		return "B";
	}
	return "?";
}

/* ---- 1: attach, names, geometry, detach, refusals ---- */

static void test_attach_detach(void)
{
	struct bdev_nvme_attach_opts o;
	struct plx_bdev *b1, *b2;
	char names[256];

	setup(2);
	fake_port(PORT_A);
	attach_opts(&o, "Nvme0", PORT_A, BDEV_NVME_MP_FAILOVER);
	CU_ASSERT_EQUAL(attach(&o, names, sizeof(names)), 0);
	CU_ASSERT_STRING_EQUAL(names, "[\"Nvme0n1\",\"Nvme0n2\"]");
	CU_ASSERT_EQUAL(fake_port(PORT_A)->constructs, 1);

	/* The fake's namespaces: nsze 1000 + nsid blocks of 4 KiB (LBA format 1). */
	b1 = plx_bdev_get_by_name("Nvme0n1");
	b2 = plx_bdev_get_by_name("Nvme0n2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b2);
	CU_ASSERT_STRING_EQUAL(plx_bdev_get_module_name(b1), "nvme");
	CU_ASSERT_EQUAL(plx_bdev_get_block_size(b1), BS);
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(b1), 1001);
	CU_ASSERT_EQUAL(plx_bdev_get_block_size(b2), BS);
	CU_ASSERT_EQUAL(plx_bdev_get_num_blocks(b2), 1002);
	CU_ASSERT_EQUAL(num_paths("Nvme0n1"), 1);
	CU_ASSERT_STRING_EQUAL(ctrlr_state("Nvme0", PORT_A, NULL), "enabled");

	/* Same name, multipath disabled: refused, nothing connected. */
	attach_opts(&o, "Nvme0", PORT_B, BDEV_NVME_MP_DISABLE);
	CU_ASSERT_EQUAL(attach(&o, NULL, 0), -EEXIST);
	/* Another path must lead to the same subsystem. */
	attach_opts(&o, "Nvme0", PORT_B, BDEV_NVME_MP_MULTIPATH);
	snprintf(o.trid.subnqn, sizeof(o.trid.subnqn), "nqn.2016-06.io.pollux:other");
	CU_ASSERT_EQUAL(attach(&o, NULL, 0), -EINVAL);
	/* The same path twice. */
	attach_opts(&o, "Nvme0", PORT_A, BDEV_NVME_MP_MULTIPATH);
	CU_ASSERT_EQUAL(attach(&o, NULL, 0), -EEXIST);
	CU_ASSERT_EQUAL(fake_port(PORT_A)->constructs, 1);
	CU_ASSERT_EQUAL(fake_port(PORT_B)->constructs, 0);
	CU_ASSERT_EQUAL(num_paths("Nvme0n1"), 1);

	/* A target that refuses: -ENXIO, and the name is not left behind. */
	fake_port("4430")->refuse = true;
	attach_opts(&o, "Nvme1", "4430", BDEV_NVME_MP_FAILOVER);
	CU_ASSERT_EQUAL(attach(&o, NULL, 0), -ENXIO);
	CU_ASSERT_FALSE(name_exists("Nvme1"));
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("Nvme1n1"));

	CU_ASSERT_EQUAL(detach("Nvme1", NULL), -ENODEV);
	CU_ASSERT_EQUAL(detach("Nvme0", NULL), 0);
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("Nvme0n1"));
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("Nvme0n2"));
	CU_ASSERT_FALSE(name_exists("Nvme0"));
	CU_ASSERT_EQUAL(g_dev.destructs, 1);
	teardown();
}

/* ---- 2: I/O from two threads, each on its own qpair ---- */

static void test_io_two_threads(void)
{
	struct bm_io r[4];
	struct chans c;
	uint16_t qid1, qid2;

	setup(3);
	CU_ASSERT_EQUAL_FATAL(attach_port("Nvme0", PORT_A, BDEV_NVME_MP_FAILOVER), 0);
	open_chans(&c, "Nvme0n1", 3);
	g_dev.num_io = 0;
	submit(&c, 1, true, 7, &r[0]);
	submit(&c, 2, false, 9, &r[1]);
	submit(&c, 1, false, 1000, &r[2]);
	submit(&c, 2, true, 0, &r[3]);
	settle();
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(r[i].done, 1);
		CU_ASSERT_EQUAL(r[i].status, PLX_BDEV_IO_STATUS_SUCCESS);
	}
	/* What the controller saw: the right commands, one qpair per thread. */
	CU_ASSERT_EQUAL_FATAL(g_dev.num_io, 4);
	CU_ASSERT_EQUAL(g_dev.io[0].cmd.opc, PLX_NVME_OPC_WRITE);
	CU_ASSERT_EQUAL(g_dev.io[0].cmd.cdw10, 7);
	CU_ASSERT_EQUAL(g_dev.io[0].cmd.cdw12 & 0xffff, 0); /* one block, 0's based */
	CU_ASSERT_EQUAL(g_dev.io[0].payload_size, BS);
	CU_ASSERT_EQUAL(memcmp(g_dev.io[0].data, g_buf, sizeof(g_dev.io[0].data)), 0);
	CU_ASSERT_EQUAL(g_dev.io[1].cmd.opc, PLX_NVME_OPC_READ);
	CU_ASSERT_EQUAL(g_dev.io[1].cmd.cdw10, 9);
	CU_ASSERT_EQUAL(g_dev.io[1].cmd.nsid, 1);
	qid1 = g_dev.io[0].qid;
	qid2 = g_dev.io[1].qid;
	CU_ASSERT_NOT_EQUAL(qid1, qid2);
	CU_ASSERT_EQUAL(g_dev.io[2].qid, qid1);
	CU_ASSERT_EQUAL(g_dev.io[2].cmd.cdw10, 1000);
	CU_ASSERT_EQUAL(g_dev.io[3].qid, qid2);

	/* Past the end: refused by the bdev layer before the module sees it. */
	ut_set_thread(1);
	CU_ASSERT_NOT_EQUAL(plx_bdev_read_blocks(c.desc, c.ch[1], g_buf, 1001, 1, bm_io_cb, &r[0]),
			    0);

	close_chans(&c);
	CU_ASSERT_EQUAL(detach("Nvme0", NULL), 0);
	teardown();
}

/* ---- 3: multipath ---- */

/* Two controllers of one subsystem (ports A and B, cntlid 1 and 2) under the name Nvme0. */
static void attach_two_paths(void)
{
	char names[256];
	struct bdev_nvme_attach_opts o;

	fake_port(PORT_A)->cntlid = 1;
	fake_port(PORT_B)->cntlid = 2;
	attach_opts(&o, "Nvme0", PORT_A, BDEV_NVME_MP_MULTIPATH);
	CU_ASSERT_EQUAL_FATAL(attach(&o, names, sizeof(names)), 0);
	attach_opts(&o, "Nvme0", PORT_B, BDEV_NVME_MP_MULTIPATH);
	CU_ASSERT_EQUAL_FATAL(attach(&o, names, sizeof(names)), 0);
	/* The added path serves the bdevs that exist: no new ones. */
	CU_ASSERT_STRING_EQUAL(names, "[\"Nvme0n1\",\"Nvme0n2\"]");
	CU_ASSERT_EQUAL(num_paths("Nvme0n1"), 2);
	CU_ASSERT_EQUAL(num_paths("Nvme0n2"), 2);
	CU_ASSERT_TRUE(ctrlr_exists("Nvme0", PORT_A));
	CU_ASSERT_TRUE(ctrlr_exists("Nvme0", PORT_B));
}

static void set_policy(const char *bdev, enum bdev_nvme_mp_policy policy,
		       enum bdev_nvme_mp_selector selector, uint32_t rr_min_io)
{
	struct done_res r = {0};
	char err[256];

	ut_set_thread(0);
	CU_ASSERT_EQUAL_FATAL(bdev_nvme_set_multipath_policy(bdev, policy, selector, rr_min_io,
							     done_cb, &r, err, sizeof(err)),
			      0);
	ut_poll_threads();
	CU_ASSERT(r.done);
	CU_ASSERT_EQUAL(r.rc, 0);
}

struct paths_res {
	bool done;
	json_t *result;
};

static void paths_cb(void *cb_arg, json_t *result)
{
	struct paths_res *r = cb_arg;

	r->result = result;
	r->done = true;
}

/* Enable ANA reporting: both namespaces in group 1, which each port reports itself. */
static void ana_setup(uint8_t state_a, uint8_t state_b)
{
	g_dev.cdata.cmic = PLX_NVME_CMIC_ANA_REPORTING;
	g_dev.cdata.oaes |= PLX_NVME_OAES_ANA_CHANGE;
	g_dev.cdata.nanagrpid = 1;
	g_dev.ns_group[1] = g_dev.ns_group[2] = 1;
	fake_port(PORT_A)->ana = true;
	fake_port(PORT_A)->group_state[1] = state_a;
	fake_port(PORT_B)->ana = true;
	fake_port(PORT_B)->group_state[1] = state_b;
}

/* Port svcid's ANA state of group 1 changes and its controller tells the host. */
static void ana_change(const char *svcid, uint8_t state)
{
	fake_port(svcid)->group_state[1] = state;
	CU_ASSERT_FATAL(fake_port_aen(svcid, PLX_NVME_ASYNC_EVENT_TYPE_NOTICE |
						 (PLX_NVME_ASYNC_EVENT_ANA_CHANGE << 8)));
	/* The admin poller runs every 10 ms. */
	ut_advance_time_us(20000);
	settle();
}

static void test_multipath_active_passive_ana(void)
{
	struct paths_res pr = {0};
	struct chans c;
	json_t *groups;
	struct bm_io r;

	setup(3);
	ana_setup(PLX_NVME_ANA_OPTIMIZED_STATE, PLX_NVME_ANA_OPTIMIZED_STATE);
	attach_two_paths();
	open_chans(&c, "Nvme0n1", 3);

	/* Every thread has both paths. */
	ut_set_thread(0);
	CU_ASSERT_EQUAL_FATAL(bdev_nvme_io_paths_json("Nvme0n1", paths_cb, &pr), 0);
	ut_poll_threads();
	CU_ASSERT_FATAL(pr.done);
	groups = json_object_get(pr.result, "poll_groups");
	CU_ASSERT_EQUAL(json_array_size(groups), 2);
	for (size_t i = 0; i < json_array_size(groups); i++) {
		CU_ASSERT_EQUAL(
		    json_array_size(json_object_get(json_array_get(groups, i), "io_paths")), 2);
	}
	json_decref(pr.result);

	/* Active-passive: the first path only, on either thread. */
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 1 + i % 2), "A");
	}

	/* A's namespace becomes inaccessible (ANA log after an event): I/O moves to B
	 * without a single failure on A. */
	ana_change(PORT_A, PLX_NVME_ANA_INACCESSIBLE_STATE);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 1 + i % 2), "B");
	}
	/* Back to optimized: A again (auto failback). */
	ana_change(PORT_A, PLX_NVME_ANA_OPTIMIZED_STATE);
	CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 1), "A");
	CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 2), "A");

	/* A path status on A (ANA inaccessible, SCT 3 SC 2) from a target that sends no event:
	 * the I/O is retried on B and succeeds; the module reads the ANA log, and later I/O
	 * avoids A. */
	fake_port(PORT_A)->group_state[1] = PLX_NVME_ANA_INACCESSIBLE_STATE;
	fake_port(PORT_A)->io_status = (struct plx_nvme_status){
	    .sct = PLX_NVME_SCT_PATH, .sc = PLX_NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE};
	fake_port(PORT_A)->io_status_count = 1;
	{
		uint32_t a = fake_port(PORT_A)->io_submitted, b = fake_port(PORT_B)->io_submitted;

		submit(&c, 1, true, 3, &r);
		settle();
		CU_ASSERT_EQUAL(r.done, 1);
		CU_ASSERT_EQUAL(fake_port(PORT_A)->io_submitted - a, 1);
		CU_ASSERT_EQUAL(fake_port(PORT_B)->io_submitted - b, 1);
	}
	ut_advance_time_us(20000); /* the admin poll that reads the log */
	settle();
	CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 1), "B");
	CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 2), "B"); /* the other thread knows too */
	/* Optimized again (with an event this time): A again. */
	ana_change(PORT_A, PLX_NVME_ANA_OPTIMIZED_STATE);
	CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 1), "A");

	/* Both inaccessible: I/O waits (ANATT) rather than failing; B comes back: done. */
	ana_change(PORT_A, PLX_NVME_ANA_INACCESSIBLE_STATE);
	ana_change(PORT_B, PLX_NVME_ANA_INACCESSIBLE_STATE);
	submit(&c, 2, false, 5, &r);
	settle();
	CU_ASSERT_EQUAL(r.done, 0);
	ana_change(PORT_B, PLX_NVME_ANA_OPTIMIZED_STATE);
	CU_ASSERT_EQUAL(r.done, 1);

	close_chans(&c);
	CU_ASSERT_EQUAL(detach("Nvme0", NULL), 0);
	teardown();
}

static void test_multipath_round_robin(void)
{
	struct chans c;

	setup(2);
	attach_two_paths();
	open_chans(&c, "Nvme0n1", 2);
	set_policy("Nvme0n1", BDEV_NVME_MP_POLICY_ACTIVE_ACTIVE, BDEV_NVME_MP_SELECTOR_ROUND_ROBIN,
		   1);
	{
		const char *first = read_goes_to(&c, 1);
		const char *other = strcmp(first, "A") == 0 ? "B" : "A";

		CU_ASSERT_STRING_NOT_EQUAL(first, "?");
		for (int i = 0; i < 3; i++) {
			CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 1), other);
			CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 1), first);
		}
	}
	/* rr_min_io 3: three in a row on each path. */
	set_policy("Nvme0n1", BDEV_NVME_MP_POLICY_ACTIVE_ACTIVE, BDEV_NVME_MP_SELECTOR_ROUND_ROBIN,
		   3);
	{
		uint32_t a = fake_port(PORT_A)->io_submitted;
		char seq[16] = "";

		for (int i = 0; i < 12; i++) {
			strcat(seq, read_goes_to(&c, 1));
		}
		CU_ASSERT(strcmp(seq, "AAABBBAAABBB") == 0 || strcmp(seq, "BBBAAABBBAAA") == 0);
		CU_ASSERT_EQUAL(fake_port(PORT_A)->io_submitted - a, 6);
	}
	/* Back to active-passive: the first path only. */
	set_policy("Nvme0n1", BDEV_NVME_MP_POLICY_ACTIVE_PASSIVE, BDEV_NVME_MP_SELECTOR_ROUND_ROBIN,
		   1);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 1), "A");
	}
	close_chans(&c);
	CU_ASSERT_EQUAL(detach("Nvme0", NULL), 0);
	teardown();
}

static void test_multipath_queue_depth(void)
{
	struct bm_io held, r[6];
	struct chans c;

	setup(2);
	attach_two_paths();
	open_chans(&c, "Nvme0n1", 2);
	set_policy("Nvme0n1", BDEV_NVME_MP_POLICY_ACTIVE_ACTIVE, BDEV_NVME_MP_SELECTOR_QUEUE_DEPTH,
		   1);
	/* A holds its I/O: once one is queued there, B (empty) gets every other one. */
	fake_port(PORT_A)->io_hold = true;
	submit(&c, 1, false, 0, &held);
	settle();
	CU_ASSERT_EQUAL(held.done, 0);
	CU_ASSERT_EQUAL(fake_port_held_io(PORT_A), 1);
	for (int i = 0; i < 6; i++) {
		submit(&c, 1, false, (uint64_t)i, &r[i]);
		settle();
		CU_ASSERT_EQUAL(r[i].done, 1);
	}
	CU_ASSERT_EQUAL(fake_port(PORT_A)->io_submitted, 1);
	CU_ASSERT_EQUAL(fake_port(PORT_B)->io_submitted, 6);
	/* Submitted together with both queues empty, they spread over both paths. */
	fake_port(PORT_A)->io_hold = false;
	CU_ASSERT_EQUAL(fake_port_release_io(PORT_A), 1);
	settle();
	CU_ASSERT_EQUAL(held.done, 1);
	for (int i = 0; i < 6; i++) {
		submit(&c, 1, false, (uint64_t)i, &r[i]);
	}
	settle();
	for (int i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(r[i].done, 1);
	}
	CU_ASSERT_EQUAL(fake_port(PORT_A)->io_submitted, 4);
	CU_ASSERT_EQUAL(fake_port(PORT_B)->io_submitted, 9);
	close_chans(&c);
	CU_ASSERT_EQUAL(detach("Nvme0", NULL), 0);
	teardown();
}

/* ---- 4: one path fails; the other carries the I/O, only the failed one is reset ---- */

static void attach_two_paths_reconnecting(void)
{
	struct bdev_nvme_attach_opts o;

	fake_port(PORT_A)->cntlid = 1;
	fake_port(PORT_B)->cntlid = 2;
	attach_opts(&o, "Nvme0", PORT_A, BDEV_NVME_MP_MULTIPATH);
	o.ctrlr_loss_timeout_sec = 10;
	o.reconnect_delay_sec = 1;
	CU_ASSERT_EQUAL_FATAL(attach(&o, NULL, 0), 0);
	attach_opts(&o, "Nvme0", PORT_B, BDEV_NVME_MP_MULTIPATH);
	o.ctrlr_loss_timeout_sec = 10;
	o.reconnect_delay_sec = 1;
	CU_ASSERT_EQUAL_FATAL(attach(&o, NULL, 0), 0);
	CU_ASSERT_EQUAL(num_paths("Nvme0n1"), 2);
}

static void test_path_failure(void)
{
	struct bm_io r[4];
	struct chans c;

	setup(3);
	attach_two_paths_reconnecting();
	open_chans(&c, "Nvme0n1", 3);
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 0);

	/* Four I/Os outstanding on A (two per thread), then A's connection breaks and its
	 * first reconnect is refused: whatever completes must have gone through B. */
	fake_port(PORT_A)->io_hold = true;
	submit(&c, 1, false, 1, &r[0]);
	submit(&c, 1, true, 2, &r[1]);
	submit(&c, 2, false, 3, &r[2]);
	submit(&c, 2, true, 4, &r[3]);
	settle();
	CU_ASSERT_EQUAL(fake_port_held_io(PORT_A), 4);
	CU_ASSERT_EQUAL(fake_port(PORT_B)->io_submitted, 0);
	fake_port(PORT_A)->io_hold = false;
	fake_port(PORT_A)->refuse = true;
	CU_ASSERT_EQUAL(fake_port_fail_qpairs(PORT_A), 2);
	settle();

	/* Every I/O completed successfully, through B. */
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(r[i].done, 1);
	}
	CU_ASSERT_EQUAL(fake_port(PORT_A)->io_submitted, 4);
	CU_ASSERT_EQUAL(fake_port(PORT_B)->io_submitted, 4);
	/* A was reset (one attempt so far); B was left alone. */
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 1);
	CU_ASSERT_EQUAL(fake_port(PORT_B)->admin_connects, 0);
	CU_ASSERT_EQUAL(fake_port(PORT_B)->constructs, 1);
	CU_ASSERT_STRING_EQUAL(ctrlr_state("Nvme0", PORT_A, NULL), "reconnect_is_delayed");
	CU_ASSERT_STRING_EQUAL(ctrlr_state("Nvme0", PORT_B, NULL), "enabled");
	/* Meanwhile new I/O goes to B. */
	CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 1), "B");
	CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 2), "B");

	/* A comes back on the next attempt, with new qpairs on both threads: active-passive
	 * fails back to it. B was never touched. */
	fake_port(PORT_A)->refuse = false;
	advance_sec(1);
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 2);
	CU_ASSERT_EQUAL(fake_port(PORT_B)->admin_connects, 0);
	CU_ASSERT_STRING_EQUAL(ctrlr_state("Nvme0", PORT_A, NULL), "enabled");
	CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 1), "A");
	CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 2), "A");

	/* Removing path A (detach with a filter) leaves the bdev on B. */
	{
		struct bdev_nvme_path_filter f = {0};

		snprintf(f.trsvcid, sizeof(f.trsvcid), PORT_A);
		CU_ASSERT_EQUAL(detach("Nvme0", &f), 0);
		settle();
		CU_ASSERT_EQUAL(num_paths("Nvme0n1"), 1);
		CU_ASSERT_FALSE(ctrlr_exists("Nvme0", PORT_A));
		CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 1), "B");
		CU_ASSERT_STRING_EQUAL(read_goes_to(&c, 2), "B");
		CU_ASSERT_EQUAL(ut_bdev_remove_events, 0);
	}
	close_chans(&c);
	CU_ASSERT_EQUAL(detach("Nvme0", NULL), 0);
	teardown();
}

/*
 * A qpair that breaks under held I/O: every abort goes to the healthy path at once. (The
 * first abort completes inside plx_nvme_qpair_process_completions, before the channel poller
 * marks the qpair failed; its resubmission meets -ENXIO from the broken qpair and must choose
 * again rather than wait for the retry poller.)
 */
static void test_failover_immediate(void)
{
	struct bm_io r[2];
	struct chans c;

	setup(2);
	attach_two_paths_reconnecting();
	open_chans(&c, "Nvme0n1", 2);
	fake_port(PORT_A)->io_hold = true;
	submit(&c, 1, false, 1, &r[0]);
	submit(&c, 1, false, 2, &r[1]);
	settle();
	CU_ASSERT_EQUAL_FATAL(fake_port_held_io(PORT_A), 2);
	fake_port(PORT_A)->io_hold = false;
	fake_port(PORT_A)->refuse = true;
	CU_ASSERT_EQUAL(fake_port_fail_qpairs(PORT_A), 1);
	/* No time passes: B is healthy, nothing has a reason to wait. */
	ut_poll_threads();
	CU_ASSERT_EQUAL(r[0].done, 1);			     /* fails: 0, parked */
	CU_ASSERT_EQUAL(r[1].done, 1);			     /* passes */
	CU_ASSERT_EQUAL(fake_port(PORT_B)->io_submitted, 2); /* fails: 1 */
	/* 1 ms later the retry poller sends the parked one to B. */
	settle();
	CU_ASSERT_EQUAL(r[0].done, 1);
	CU_ASSERT_EQUAL(fake_port(PORT_B)->io_submitted, 2);
	close_chans(&c);
	CU_ASSERT_EQUAL(detach("Nvme0", NULL), 0);
	teardown();
}

/* ---- failover mode: an alternate address, tried when the connection is lost ---- */

static void test_failover_alternate(void)
{
	struct bdev_nvme_attach_opts o;
	char names[256];
	struct bm_io r;
	struct chans c;

	setup(2);
	attach_opts(&o, "Nvme0", PORT_A, BDEV_NVME_MP_FAILOVER);
	o.ctrlr_loss_timeout_sec = 10;
	o.reconnect_delay_sec = 1;
	CU_ASSERT_EQUAL_FATAL(attach(&o, NULL, 0), 0);
	attach_opts(&o, "Nvme0", PORT_B, BDEV_NVME_MP_FAILOVER);
	CU_ASSERT_EQUAL_FATAL(attach(&o, names, sizeof(names)), 0);
	/* Only remembered: nothing connected, no second path. */
	CU_ASSERT_STRING_EQUAL(names, "[\"Nvme0n1\",\"Nvme0n2\"]");
	CU_ASSERT_EQUAL(fake_port(PORT_B)->constructs, 0);
	CU_ASSERT_EQUAL(num_paths("Nvme0n1"), 1);
	CU_ASSERT_EQUAL(attach(&o, NULL, 0), -EEXIST);

	open_chans(&c, "Nvme0n1", 2);
	fake_port(PORT_A)->io_hold = true;
	submit(&c, 1, false, 0, &r);
	settle();
	fake_port(PORT_A)->io_hold = false;
	fake_port(PORT_A)->refuse = true;
	CU_ASSERT_EQUAL(fake_port_fail_qpairs(PORT_A), 1);
	settle();
	/* The reset of A failed, the alternate B answered: the I/O completed through B. */
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 1);
	CU_ASSERT_EQUAL(fake_port(PORT_B)->constructs, 1);
	CU_ASSERT_EQUAL(r.done, 1);
	CU_ASSERT_EQUAL(fake_port(PORT_B)->io_submitted, 1);
	CU_ASSERT_STRING_EQUAL(ctrlr_state("Nvme0", PORT_B, NULL), "enabled");
	CU_ASSERT_EQUAL(read_one(&c, 1), 1);
	CU_ASSERT_EQUAL(fake_port(PORT_B)->io_submitted, 2);
	close_chans(&c);
	CU_ASSERT_EQUAL(detach("Nvme0", NULL), 0);
	teardown();
}

/* ---- 5: reconnect ---- */

/* One path with the given reconnect parameters, a channel on thread 1, and a read held at
 * the controller when its connection breaks while the target refuses new ones. */
static void outage_setup(struct chans *c, struct bm_io *r, int32_t loss, uint32_t delay,
			 uint32_t fast_fail)
{
	struct bdev_nvme_attach_opts o;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(
	    bdev_nvme_check_reconnect_params(loss, delay, fast_fail, err, sizeof(err)), 0);
	attach_opts(&o, "Nvme0", PORT_A, BDEV_NVME_MP_FAILOVER);
	o.ctrlr_loss_timeout_sec = loss;
	o.reconnect_delay_sec = delay;
	o.fast_io_fail_timeout_sec = fast_fail;
	CU_ASSERT_EQUAL_FATAL(attach(&o, NULL, 0), 0);
	open_chans(c, "Nvme0n1", 2);
	fake_port(PORT_A)->io_hold = true;
	submit(c, 1, false, 0, r);
	settle();
	CU_ASSERT_EQUAL(fake_port_held_io(PORT_A), 1);
	fake_port(PORT_A)->io_hold = false;
	fake_port(PORT_A)->refuse = true;
	CU_ASSERT_EQUAL(fake_port_fail_qpairs(PORT_A), 1);
	settle();
	/* The first reset tried at once, and failed. */
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 1);
}

static void test_reconnect(void)
{
	struct bm_io r, r2;
	struct chans c;

	setup(2);
	outage_setup(&c, &r, 3, 1, 0);
	CU_ASSERT_EQUAL(r.done, 0); /* waiting, not failed */
	CU_ASSERT_STRING_EQUAL(ctrlr_state("Nvme0", PORT_A, NULL), "reconnect_is_delayed");

	/* One attempt a second. */
	advance_sec(1);
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 2);
	CU_ASSERT_EQUAL(r.done, 0);
	/* New I/O waits too. */
	submit(&c, 1, true, 1, &r2);
	settle();
	CU_ASSERT_EQUAL(r2.done, 0);
	advance_sec(1);
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 3);
	CU_ASSERT_EQUAL(r.done, 0);
	CU_ASSERT_EQUAL(r2.done, 0);

	/* The target is back before ctrlr_loss_timeout_sec: the next attempt works and the
	 * waiting I/O completes successfully. */
	fake_port(PORT_A)->refuse = false;
	advance_sec(1);
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 4);
	CU_ASSERT_EQUAL(r.done, 1);
	CU_ASSERT_EQUAL(r2.done, 1);
	CU_ASSERT_STRING_EQUAL(ctrlr_state("Nvme0", PORT_A, NULL), "enabled");
	CU_ASSERT_EQUAL(read_one(&c, 1), 1);
	/* No further attempts once connected. */
	advance_sec(3);
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 4);
	CU_ASSERT_EQUAL(ut_bdev_remove_events, 0);

	close_chans(&c);
	CU_ASSERT_EQUAL(detach("Nvme0", NULL), 0);
	teardown();
}

static void test_ctrlr_loss_timeout(void)
{
	struct bm_io r;
	struct chans c;

	setup(2);
	outage_setup(&c, &r, 3, 1, 0);
	advance_sec(2);
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 3);
	CU_ASSERT_EQUAL(r.done, 0);
	CU_ASSERT_TRUE(ctrlr_exists("Nvme0", PORT_A));

	/* 3 s after the failure the attempt fails for the last time: the controller and its
	 * (only-path) bdevs go, and the waiting I/O fails. */
	advance_sec(1);
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 4);
	CU_ASSERT_EQUAL(r.done, -1);
	/* Going: it waits for our channel to be put before it is freed. */
	CU_ASSERT_STRING_EQUAL(ctrlr_state("Nvme0", PORT_A, NULL), "deleting");
	CU_ASSERT_EQUAL(ut_bdev_remove_events, 1); /* our descriptor is told */
	/* New I/O on the dying bdev fails at once. */
	CU_ASSERT_EQUAL(read_one(&c, 1), -1);
	close_chans(&c);
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("Nvme0n1"));
	CU_ASSERT_PTR_NULL(plx_bdev_get_by_name("Nvme0n2"));
	CU_ASSERT_FALSE(name_exists("Nvme0"));
	/* And nothing tries again. */
	advance_sec(2);
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 4);
	teardown();
}

static void test_fast_io_fail(void)
{
	bool fast_failed = false;
	struct bm_io r;
	struct chans c;

	setup(2);
	outage_setup(&c, &r, 5, 1, 2);
	advance_sec(1);
	CU_ASSERT_EQUAL(r.done, 0);
	CU_ASSERT_STRING_EQUAL(ctrlr_state("Nvme0", PORT_A, &fast_failed), "reconnect_is_delayed");
	CU_ASSERT_FALSE(fast_failed);

	/* 2 s: waiting I/O fails, new I/O fails at once, but the controller stays and keeps
	 * trying. */
	advance_sec(1);
	CU_ASSERT_EQUAL(r.done, -1);
	CU_ASSERT_EQUAL(read_one(&c, 1), -1);
	CU_ASSERT_STRING_EQUAL(ctrlr_state("Nvme0", PORT_A, &fast_failed), "reconnect_is_delayed");
	CU_ASSERT_TRUE(fast_failed);
	CU_ASSERT_PTR_NOT_NULL(plx_bdev_get_by_name("Nvme0n1"));
	CU_ASSERT_EQUAL(ut_bdev_remove_events, 0);
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 3);

	/* Back before the loss timeout: I/O works again. */
	fake_port(PORT_A)->refuse = false;
	advance_sec(1);
	CU_ASSERT_STRING_EQUAL(ctrlr_state("Nvme0", PORT_A, &fast_failed), "enabled");
	CU_ASSERT_FALSE(fast_failed);
	CU_ASSERT_EQUAL(read_one(&c, 1), 1);

	close_chans(&c);
	CU_ASSERT_EQUAL(detach("Nvme0", NULL), 0);
	teardown();
}

/* ---- 6: reconnect_delay_sec 0: no reconnect ---- */

static void test_no_reconnect(void)
{
	struct done_res done = {0};
	struct bm_io r;
	struct chans c;

	setup(2);
	outage_setup(&c, &r, 0, 0, 0);
	/* The failed reset is final: the waiting I/O fails, new I/O fails at once. */
	CU_ASSERT_EQUAL(r.done, -1);
	CU_ASSERT_STRING_EQUAL(ctrlr_state("Nvme0", PORT_A, NULL), "failed");
	submit(&c, 1, false, 0, &r);
	ut_poll_threads();
	CU_ASSERT_EQUAL(r.done, -1);
	advance_sec(5);
	CU_ASSERT_EQUAL(fake_port(PORT_A)->admin_connects, 1);
	CU_ASSERT_PTR_NOT_NULL(plx_bdev_get_by_name("Nvme0n1"));

	/* A manual reset (bdev_nvme_reset_controller) brings it back. */
	fake_port(PORT_A)->refuse = false;
	ut_set_thread(0);
	CU_ASSERT_EQUAL(bdev_nvme_reset_rpc("Nvme0", -1, done_cb, &done), 0);
	settle();
	CU_ASSERT(done.done);
	CU_ASSERT_EQUAL(done.rc, 0);
	CU_ASSERT_STRING_EQUAL(ctrlr_state("Nvme0", PORT_A, NULL), "enabled");
	CU_ASSERT_EQUAL(read_one(&c, 1), 1);

	close_chans(&c);
	CU_ASSERT_EQUAL(detach("Nvme0", NULL), 0);
	teardown();
}

/* ---- 7: options ---- */

static void test_opts(void)
{
	struct bdev_nvme_opts o;
	char err[256];

	setup(1);
	bdev_nvme_get_default_opts(&o);
	CU_ASSERT_EQUAL(o.bdev_retry_count, 3);
	CU_ASSERT_EQUAL(o.mp_policy, BDEV_NVME_MP_POLICY_ACTIVE_PASSIVE);
	o.reconnect_delay_sec = 2;
	o.ctrlr_loss_timeout_sec = 10;
	CU_ASSERT_EQUAL(bdev_nvme_set_opts(&o, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(bdev_nvme_get_opts()->reconnect_delay_sec, 2);
	/* Attach defaults follow the options. */
	{
		struct bdev_nvme_attach_opts ao;

		bdev_nvme_get_default_attach_opts(&ao);
		CU_ASSERT_EQUAL(ao.reconnect_delay_sec, 2);
		CU_ASSERT_EQUAL(ao.ctrlr_loss_timeout_sec, 10);
	}
	/* Inconsistent reconnect parameters. */
	o.reconnect_delay_sec = 0;
	CU_ASSERT_EQUAL(bdev_nvme_set_opts(&o, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "reconnect_delay_sec"));
	CU_ASSERT_EQUAL(bdev_nvme_get_opts()->reconnect_delay_sec, 2);

	/* Refused while a controller exists, allowed again after. */
	CU_ASSERT_EQUAL_FATAL(attach_port("Nvme0", PORT_A, BDEV_NVME_MP_FAILOVER), 0);
	bdev_nvme_get_default_opts(&o);
	err[0] = '\0';
	CU_ASSERT_EQUAL(bdev_nvme_set_opts(&o, err, sizeof(err)), -EPERM);
	CU_ASSERT(err[0] != '\0');
	CU_ASSERT_EQUAL(bdev_nvme_get_opts()->reconnect_delay_sec, 2);
	CU_ASSERT_EQUAL(detach("Nvme0", NULL), 0);
	CU_ASSERT_EQUAL(bdev_nvme_set_opts(&o, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(bdev_nvme_get_opts()->reconnect_delay_sec, 0);
	teardown();
}

static void test_reconnect_params(void)
{
	static const struct {
		int32_t loss;
		uint32_t delay, fast;
		int rc;
	} cases[] = {
	    {0, 0, 0, 0},  /* no reconnect */
	    {-1, 1, 0, 0}, /* forever */
	    {3, 1, 0, 0},	 {3, 3, 0, 0},	      {-1, 5, 5, 0},
	    {10, 2, 5, 0},	 {-2, 1, 0, -EINVAL}, /* below -1 */
	    {3, 0, 0, -EINVAL},			      /* a loss timeout without a delay */
	    {-1, 0, 0, -EINVAL},		      /* forever without a delay */
	    {2, 3, 0, -EINVAL},			      /* loss shorter than the delay */
	    {0, 0, 1, -EINVAL},			      /* fast fail without reconnect */
	    {10, 3, 2, -EINVAL},		      /* fast fail shorter than the delay */
	    {5, 1, 5, -EINVAL},			      /* fast fail not before the loss */
	    {5, 1, 6, -EINVAL},
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		err[0] = '\0';
		rc = bdev_nvme_check_reconnect_params(cases[i].loss, cases[i].delay, cases[i].fast,
						      err, sizeof(err));
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc != cases[i].rc) {
			fprintf(stderr, "case %zu (%d, %u, %u): got %d\n", i, cases[i].loss,
				cases[i].delay, cases[i].fast, rc);
		}
		CU_ASSERT(rc == 0 || err[0] != '\0');
	}
}

/* ---- the connect job on its helper thread (as for TCP) ---- */

static void test_attach_on_helper_thread(void)
{
	struct chans c;
	char names[256];
	struct bdev_nvme_attach_opts o;

	setup(2);
	g_connect_on_helper = true;
	attach_opts(&o, "Nvme0", PORT_A, BDEV_NVME_MP_FAILOVER);
	CU_ASSERT_EQUAL_FATAL(attach(&o, names, sizeof(names)), 0);
	CU_ASSERT_STRING_EQUAL(names, "[\"Nvme0n1\",\"Nvme0n2\"]");
	open_chans(&c, "Nvme0n1", 2);
	CU_ASSERT_EQUAL(read_one(&c, 1), 1);
	close_chans(&c);
	/* A refused connect answers the same way. */
	fake_port("4430")->refuse = true;
	attach_opts(&o, "Nvme1", "4430", BDEV_NVME_MP_FAILOVER);
	CU_ASSERT_EQUAL(attach(&o, NULL, 0), -ENXIO);
	CU_ASSERT_FALSE(name_exists("Nvme1"));
	CU_ASSERT_EQUAL(detach("Nvme0", NULL), 0);
	g_connect_on_helper = false;
	teardown();
}

static const struct plx_ut_case cases[] = {
    {"attach_detach", test_attach_detach},
    {"io_two_threads", test_io_two_threads},
    {"multipath_active_passive_ana", test_multipath_active_passive_ana},
    {"multipath_round_robin", test_multipath_round_robin},
    {"multipath_queue_depth", test_multipath_queue_depth},
    {"path_failure", test_path_failure},
    {"failover_alternate", test_failover_alternate},
    {"reconnect", test_reconnect},
    {"ctrlr_loss_timeout", test_ctrlr_loss_timeout},
    {"fast_io_fail", test_fast_io_fail},
    {"no_reconnect", test_no_reconnect},
    {"opts", test_opts},
    {"reconnect_params", test_reconnect_params},
    {"attach_on_helper_thread", test_attach_on_helper_thread},
    {"failover_immediate", test_failover_immediate},
};

int main(void)
{
	return plx_ut_run("bdev_nvme", cases, sizeof(cases) / sizeof(cases[0]));
}
