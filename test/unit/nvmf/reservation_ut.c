/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reservations: the rules for every type and role, the conflict table, report data, the PTPL
 * file and the command path across threads. reservation.c is compiled into this test (its
 * static helpers are reachable) and the functions of the rest of the target are stand-ins
 * below, so the test does not depend on the target's other parts.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ut.h"
#include "ut_thread.h"

#include "reservation.c"

#define WE     PLX_NVME_RESV_WRITE_EXCLUSIVE
#define EA     PLX_NVME_RESV_EXCLUSIVE_ACCESS
#define WE_RO  PLX_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY
#define EA_RO  PLX_NVME_RESV_EXCLUSIVE_ACCESS_REG_ONLY
#define WE_AR  PLX_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS
#define EA_AR  PLX_NVME_RESV_EXCLUSIVE_ACCESS_ALL_REGS
#define NONE   PLX_NVME_RESV_NONE
#define OK     0
#define CONFL  RESV_CONFLICT
#define INVAL  RESV_INVALID_FIELD
#define KEY_A  0xaaaaull
#define KEY_B  0xbbbbull
#define KEY_D  0xddddull
#define HOST_A 0
#define HOST_B 1
#define HOST_C 2 /* never registered unless a test says so */
#define HOST_D 3

static const uint8_t k_types[] = {WE, EA, WE_RO, EA_RO, WE_AR, EA_AR};
static uint8_t g_host[4][16];

static void hosts_init(void)
{
	for (int i = 0; i < 4; i++) {
		memset(g_host[i], 0x10 * (i + 1), 16);
		g_host[i][15] = (uint8_t)i;
	}
}

static bool is_all_regs(uint8_t t)
{
	return t == WE_AR || t == EA_AR;
}

/* ---- stand-ins for the rest of the target ---- */

struct test_req {
	struct nvmf_request req;
	struct plx_nvme_cmd cmd;
	struct plx_nvme_cpl rsp;
	uint8_t data[4096];
	int completed;
	bool completed_on_own_thread;
};

struct notice {
	struct nvmf_ctrlr *ctrlr;
	uint32_t nsid;
	uint8_t type;
};

static struct notice g_notices[64];
static uint32_t g_num_notices;
static int g_for_each_active;
static int g_for_each_runs;
static const struct plx_uuid *g_bdev_uuid;

void nvmf_request_complete(struct nvmf_request *req)
{
	struct test_req *t = PLX_CONTAINEROF(req, struct test_req, req);

	t->completed++;
	t->completed_on_own_thread = plx_get_thread() == req->qpair->group->thread;
}

size_t nvmf_request_copy_to_iov(struct nvmf_request *req, const void *buf, size_t len,
				size_t offset)
{
	size_t n = PLX_MIN(len, req->iov[0].iov_len - offset);

	memcpy((uint8_t *)req->iov[0].iov_base + offset, buf, n);
	return n;
}

size_t nvmf_request_copy_from_iov(struct nvmf_request *req, void *buf, size_t len)
{
	size_t n = PLX_MIN(len, req->iov[0].iov_len);

	memcpy(buf, req->iov[0].iov_base, n);
	return n;
}

struct nvmf_ns *nvmf_subsystem_get_ns(struct nvmf_subsystem *subsys, uint32_t nsid)
{
	return nsid == 0 || nsid > subsys->max_nsid ? NULL : subsys->ns[nsid - 1];
}

void nvmf_ctrlr_notify(struct nvmf_ctrlr *ctrlr, enum nvmf_notice notice, uint32_t nsid,
		       uint8_t resv_type)
{
	CU_ASSERT_EQUAL(notice, NVMF_NOTICE_RESERVATION);
	CU_ASSERT(plx_get_thread() == ut_thread(0));
	if (g_num_notices < PLX_COUNTOF(g_notices)) {
		g_notices[g_num_notices++] = (struct notice){ctrlr, nsid, resv_type};
	}
}

const struct plx_uuid *plx_bdev_get_uuid(const struct plx_bdev *bdev)
{
	return g_bdev_uuid;
}

/* Sequential visit by messages, as the target does; also proves commands never overlap. */
struct for_each {
	struct nvmf_tgt *tgt;
	nvmf_pg_fn fn;
	void *ctx;
	void (*cpl)(void *ctx);
	struct plx_thread *origin;
	uint32_t next;
};
static struct for_each g_fe;

static void for_each_visit(void *arg)
{
	struct nvmf_poll_group *group = g_fe.tgt->poll_groups[g_fe.next];

	CU_ASSERT(plx_get_thread() == group->thread);
	g_fe.fn(group, g_fe.ctx);
}

static void for_each_finish(void *arg)
{
	g_for_each_active--;
	g_fe.cpl(g_fe.ctx);
}

void nvmf_tgt_for_each_poll_group(struct nvmf_tgt *tgt, nvmf_pg_fn fn, void *ctx,
				  void (*cpl)(void *ctx))
{
	CU_ASSERT_EQUAL(g_for_each_active, 0);
	g_for_each_active++;
	g_for_each_runs++;
	g_fe = (struct for_each){tgt, fn, ctx, cpl, plx_get_thread(), 0};
	if (tgt->num_poll_groups == 0) {
		plx_thread_send_msg(g_fe.origin, for_each_finish, NULL);
		return;
	}
	plx_thread_send_msg(tgt->poll_groups[0]->thread, for_each_visit, NULL);
}

void nvmf_poll_group_continue(struct nvmf_poll_group *group, void *ctx)
{
	CU_ASSERT(ctx == g_fe.ctx);
	g_fe.next++;
	if (g_fe.next < g_fe.tgt->num_poll_groups) {
		plx_thread_send_msg(g_fe.tgt->poll_groups[g_fe.next]->thread, for_each_visit, NULL);
	} else {
		plx_thread_send_msg(g_fe.origin, for_each_finish, NULL);
	}
}

/* ---- rule helpers ---- */

static void resv_fresh(struct nvmf_reservation *r)
{
	memset(r, 0, sizeof(*r));
}

static uint16_t do_reg(struct nvmf_reservation *r, int h, uint8_t action, bool iekey,
		       uint64_t crkey, uint64_t nrkey)
{
	return nvmf_resv_register(r, g_host[h], action, iekey, crkey, nrkey);
}

static uint16_t do_acq(struct nvmf_reservation *r, int h, uint8_t action, uint8_t type,
		       uint64_t crkey, uint64_t prkey, uint32_t *npre, uint8_t pre[][16])
{
	uint8_t local[NVMF_MAX_RESERVATION_REGISTRANTS][16];
	uint32_t n;

	return nvmf_resv_acquire(r, g_host[h], action, type, false, crkey, prkey,
				 pre != NULL ? pre : local, npre != NULL ? npre : &n);
}

static uint16_t do_rel(struct nvmf_reservation *r, int h, uint8_t action, uint8_t type,
		       uint64_t crkey, bool *released)
{
	bool local;

	return nvmf_resv_release(r, g_host[h], action, type, false, crkey,
				 released != NULL ? released : &local);
}

static bool is_reg(struct nvmf_reservation *r, int h)
{
	return resv_find(r, g_host[h]) != NULL;
}

static bool holds(struct nvmf_reservation *r, int h)
{
	struct nvmf_reservation_registrant *reg = resv_find(r, g_host[h]);

	return reg != NULL && resv_holds(r, reg);
}

/* A (KEY_A) holds type t; B (KEY_B) is a registrant; C is not registered. */
static void setup_held(struct nvmf_reservation *r, uint8_t t)
{
	resv_fresh(r);
	CU_ASSERT_EQUAL(do_reg(r, HOST_A, 0, false, 0, KEY_A), OK);
	CU_ASSERT_EQUAL(do_reg(r, HOST_B, 0, false, 0, KEY_B), OK);
	CU_ASSERT_EQUAL(do_acq(r, HOST_A, PLX_NVME_RESV_ACQUIRE, t, KEY_A, 0, NULL, NULL), OK);
	CU_ASSERT_EQUAL(r->rtype, t);
}

/* ---- register ---- */

struct register_case {
	bool registered; /* host A registered with KEY_A before */
	uint8_t action;
	bool iekey;
	uint64_t crkey, nrkey;
	uint16_t status;
	bool registered_after;
	uint64_t key_after;
};

static void test_register_table(void)
{
	static const struct register_case cases[] = {
	    /* register */
	    {false, PLX_NVME_RESV_REGISTER_KEY, false, 0, KEY_A, OK, true, KEY_A},
	    {true, PLX_NVME_RESV_REGISTER_KEY, false, 0, KEY_A, OK, true, KEY_A},
	    {true, PLX_NVME_RESV_REGISTER_KEY, false, 0, KEY_B, CONFL, true, KEY_A},
	    {true, PLX_NVME_RESV_REGISTER_KEY, true, 0, KEY_B, CONFL, true, KEY_A},
	    /* unregister */
	    {true, PLX_NVME_RESV_UNREGISTER_KEY, false, KEY_A, 0, OK, false, 0},
	    {true, PLX_NVME_RESV_UNREGISTER_KEY, false, KEY_B, 0, CONFL, true, KEY_A},
	    {true, PLX_NVME_RESV_UNREGISTER_KEY, true, KEY_B, 0, OK, false, 0},
	    {false, PLX_NVME_RESV_UNREGISTER_KEY, false, KEY_A, 0, CONFL, false, 0},
	    {false, PLX_NVME_RESV_UNREGISTER_KEY, true, 0, 0, CONFL, false, 0},
	    /* replace */
	    {true, PLX_NVME_RESV_REPLACE_KEY, false, KEY_A, KEY_D, OK, true, KEY_D},
	    {true, PLX_NVME_RESV_REPLACE_KEY, false, KEY_B, KEY_D, CONFL, true, KEY_A},
	    {true, PLX_NVME_RESV_REPLACE_KEY, true, KEY_B, KEY_D, OK, true, KEY_D},
	    {false, PLX_NVME_RESV_REPLACE_KEY, false, 0, KEY_D, CONFL, false, 0},
	    {false, PLX_NVME_RESV_REPLACE_KEY, true, 0, KEY_D, CONFL, false, 0},
	    /* reserved action */
	    {true, 3, false, KEY_A, KEY_D, INVAL, true, KEY_A},
	    {false, 7, false, 0, KEY_D, INVAL, false, 0},
	};

	for (size_t i = 0; i < PLX_COUNTOF(cases); i++) {
		const struct register_case *c = &cases[i];
		struct nvmf_reservation r;
		struct nvmf_reservation_registrant *reg;
		uint32_t gen;

		resv_fresh(&r);
		if (c->registered) {
			CU_ASSERT_EQUAL(do_reg(&r, HOST_A, 0, false, 0, KEY_A), OK);
		}
		gen = r.generation;
		CU_ASSERT_EQUAL(do_reg(&r, HOST_A, c->action, c->iekey, c->crkey, c->nrkey),
				c->status);
		reg = resv_find(&r, g_host[HOST_A]);
		CU_ASSERT_EQUAL(reg != NULL, c->registered_after);
		CU_ASSERT_EQUAL(r.num_registrants, c->registered_after ? 1u : 0u);
		if (reg != NULL) {
			CU_ASSERT_EQUAL(reg->rkey, c->key_after);
		}
		/* Every successful Register moves the generation; a failed one does not. */
		CU_ASSERT_EQUAL(r.generation, gen + (c->status == OK ? 1 : 0));
		nvmf_resv_clear_all(&r);
	}
}

static void test_register_limit(void)
{
	struct nvmf_reservation r;
	uint8_t id[16] = {0};

	resv_fresh(&r);
	for (uint32_t i = 0; i < NVMF_MAX_RESERVATION_REGISTRANTS; i++) {
		id[0] = (uint8_t)i;
		CU_ASSERT_EQUAL(nvmf_resv_register(&r, id, 0, false, 0, i + 1), OK);
	}
	id[0] = 0xfe;
	CU_ASSERT_EQUAL(nvmf_resv_register(&r, id, 0, false, 0, 99), INVAL);
	CU_ASSERT_EQUAL(r.num_registrants, NVMF_MAX_RESERVATION_REGISTRANTS);
	nvmf_resv_clear_all(&r);
	CU_ASSERT_EQUAL(r.num_registrants, 0u);
	CU_ASSERT(TAILQ_EMPTY(&r.registrants));
}

/* Replacing the holder's key keeps the reservation and moves crkey along. */
static void test_replace_holder_key(void)
{
	struct nvmf_reservation r;

	setup_held(&r, WE);
	CU_ASSERT_EQUAL(do_reg(&r, HOST_A, PLX_NVME_RESV_REPLACE_KEY, false, KEY_A, KEY_D), OK);
	CU_ASSERT(holds(&r, HOST_A));
	CU_ASSERT_EQUAL(r.crkey, KEY_D);
	CU_ASSERT_EQUAL(do_rel(&r, HOST_A, 0, WE, KEY_A, NULL), CONFL);
	CU_ASSERT_EQUAL(do_rel(&r, HOST_A, 0, WE, KEY_D, NULL), OK);
	nvmf_resv_clear_all(&r);
}

/* ---- acquire ---- */

static void test_acquire_every_type_and_role(void)
{
	for (size_t i = 0; i < PLX_COUNTOF(k_types); i++) {
		uint8_t t = k_types[i], other = t == WE ? EA : WE;
		struct nvmf_reservation r;
		uint32_t gen;

		setup_held(&r, t);
		CU_ASSERT(holds(&r, HOST_A));
		CU_ASSERT_EQUAL(holds(&r, HOST_B), is_all_regs(t));
		CU_ASSERT_EQUAL(r.holder == NULL, is_all_regs(t));
		gen = r.generation;
		/* holder: same type is a no-op, another type conflicts */
		CU_ASSERT_EQUAL(do_acq(&r, HOST_A, 0, t, KEY_A, 0, NULL, NULL), OK);
		CU_ASSERT_EQUAL(do_acq(&r, HOST_A, 0, other, KEY_A, 0, NULL, NULL), CONFL);
		/* registrant: a holder too in the all-registrants types */
		CU_ASSERT_EQUAL(do_acq(&r, HOST_B, 0, t, KEY_B, 0, NULL, NULL),
				is_all_regs(t) ? OK : CONFL);
		CU_ASSERT_EQUAL(do_acq(&r, HOST_B, 0, other, KEY_B, 0, NULL, NULL), CONFL);
		/* non-registrant, wrong key */
		CU_ASSERT_EQUAL(do_acq(&r, HOST_C, 0, t, 0, 0, NULL, NULL), CONFL);
		CU_ASSERT_EQUAL(do_acq(&r, HOST_A, 0, t, KEY_B, 0, NULL, NULL), CONFL);
		/* Acquire never moves the generation, and nothing changed */
		CU_ASSERT_EQUAL(r.generation, gen);
		CU_ASSERT_EQUAL(r.rtype, t);
		CU_ASSERT(holds(&r, HOST_A));
		nvmf_resv_clear_all(&r);
	}
}

static void test_acquire_invalid_fields(void)
{
	struct nvmf_reservation r;
	uint8_t pre[NVMF_MAX_RESERVATION_REGISTRANTS][16];
	uint32_t n = 77;

	resv_fresh(&r);
	CU_ASSERT_EQUAL(do_reg(&r, HOST_A, 0, false, 0, KEY_A), OK);
	CU_ASSERT_EQUAL(do_acq(&r, HOST_A, 0, 0, KEY_A, 0, NULL, NULL), INVAL);
	CU_ASSERT_EQUAL(do_acq(&r, HOST_A, 0, 7, KEY_A, 0, NULL, NULL), INVAL);
	CU_ASSERT_EQUAL(do_acq(&r, HOST_A, 3, WE, KEY_A, 0, NULL, NULL), INVAL);
	CU_ASSERT_EQUAL(nvmf_resv_acquire(&r, g_host[HOST_A], 0, WE, true, KEY_A, 0, pre, &n),
			INVAL);
	CU_ASSERT_EQUAL(n, 0u);
	CU_ASSERT_EQUAL(r.rtype, NONE);
	nvmf_resv_clear_all(&r);
}

/* ---- preempt ---- */

static void test_preempt_single_holder_types(void)
{
	static const uint8_t single[] = {WE, EA, WE_RO, EA_RO};
	static const uint8_t actions[] = {PLX_NVME_RESV_PREEMPT, PLX_NVME_RESV_PREEMPT_ABORT};

	for (size_t a = 0; a < PLX_COUNTOF(actions); a++) {
		for (size_t i = 0; i < PLX_COUNTOF(single); i++) {
			uint8_t t = single[i];
			uint8_t pre[NVMF_MAX_RESERVATION_REGISTRANTS][16];
			struct nvmf_reservation r;
			uint32_t n, gen;

			/* B takes the reservation from A (new type EA_RO): A is unregistered */
			setup_held(&r, t);
			gen = r.generation;
			CU_ASSERT_EQUAL(
			    do_acq(&r, HOST_B, actions[a], EA_RO, KEY_B, KEY_A, &n, pre), OK);
			CU_ASSERT_EQUAL(n, 1u);
			CU_ASSERT(memcmp(pre[0], g_host[HOST_A], 16) == 0);
			CU_ASSERT(!is_reg(&r, HOST_A));
			CU_ASSERT(holds(&r, HOST_B));
			CU_ASSERT_EQUAL(r.rtype, EA_RO);
			CU_ASSERT_EQUAL(r.crkey, KEY_B);
			CU_ASSERT_EQUAL(r.generation, gen + 1);
			nvmf_resv_clear_all(&r);

			/* prkey 0 when a single host holds it: Invalid Field */
			setup_held(&r, t);
			gen = r.generation;
			CU_ASSERT_EQUAL(do_acq(&r, HOST_B, actions[a], t, KEY_B, 0, &n, pre),
					INVAL);
			CU_ASSERT_EQUAL(n, 0u);
			CU_ASSERT(holds(&r, HOST_A));
			CU_ASSERT_EQUAL(r.generation, gen);
			nvmf_resv_clear_all(&r);

			/* prkey of a non-holder: that registration goes, the reservation stays */
			setup_held(&r, t);
			CU_ASSERT_EQUAL(do_reg(&r, HOST_D, 0, false, 0, KEY_D), OK);
			CU_ASSERT_EQUAL(do_acq(&r, HOST_B, actions[a], WE, KEY_B, KEY_D, &n, pre),
					OK);
			CU_ASSERT_EQUAL(n, 1u);
			CU_ASSERT(!is_reg(&r, HOST_D));
			CU_ASSERT(holds(&r, HOST_A));
			CU_ASSERT_EQUAL(r.rtype, t);
			/* prkey nobody has: conflict */
			CU_ASSERT_EQUAL(do_acq(&r, HOST_B, actions[a], WE, KEY_B, 0x1234, &n, pre),
					CONFL);
			/* a non-registrant cannot preempt */
			CU_ASSERT_EQUAL(do_acq(&r, HOST_C, actions[a], WE, 0, KEY_A, &n, pre),
					CONFL);
			CU_ASSERT(holds(&r, HOST_A));
			nvmf_resv_clear_all(&r);
		}
	}
}

/* Every registrant sharing the holder's key goes; the holder may preempt itself to retype. */
static void test_preempt_shared_key_and_self(void)
{
	uint8_t pre[NVMF_MAX_RESERVATION_REGISTRANTS][16];
	struct nvmf_reservation r;
	uint32_t n;

	setup_held(&r, WE);
	CU_ASSERT_EQUAL(do_reg(&r, HOST_D, 0, false, 0, KEY_A), OK);
	CU_ASSERT_EQUAL(do_acq(&r, HOST_B, PLX_NVME_RESV_PREEMPT, WE, KEY_B, KEY_A, &n, pre), OK);
	CU_ASSERT_EQUAL(n, 2u);
	CU_ASSERT(!is_reg(&r, HOST_A) && !is_reg(&r, HOST_D));
	CU_ASSERT_EQUAL(r.num_registrants, 1u);
	nvmf_resv_clear_all(&r);

	setup_held(&r, WE);
	CU_ASSERT_EQUAL(do_acq(&r, HOST_A, PLX_NVME_RESV_PREEMPT, EA, KEY_A, KEY_A, &n, pre), OK);
	CU_ASSERT_EQUAL(n, 0u);
	CU_ASSERT(holds(&r, HOST_A));
	CU_ASSERT(is_reg(&r, HOST_B));
	CU_ASSERT_EQUAL(r.rtype, EA);
	nvmf_resv_clear_all(&r);
}

static void test_preempt_all_registrants_types(void)
{
	static const uint8_t new_types[] = {WE, WE_AR, EA_AR};

	for (size_t i = 0; i < 2; i++) {
		uint8_t t = i == 0 ? WE_AR : EA_AR;

		for (size_t j = 0; j < PLX_COUNTOF(new_types); j++) {
			uint8_t pre[NVMF_MAX_RESERVATION_REGISTRANTS][16];
			struct nvmf_reservation r;
			uint32_t n, gen;

			/* prkey 0: everyone but the issuer goes, the issuer holds the new type */
			setup_held(&r, t);
			CU_ASSERT_EQUAL(do_reg(&r, HOST_D, 0, false, 0, KEY_D), OK);
			gen = r.generation;
			CU_ASSERT_EQUAL(do_acq(&r, HOST_B, PLX_NVME_RESV_PREEMPT, new_types[j],
					       KEY_B, 0, &n, pre),
					OK);
			CU_ASSERT_EQUAL(n, 2u);
			CU_ASSERT_EQUAL(r.num_registrants, 1u);
			CU_ASSERT(is_reg(&r, HOST_B) && !is_reg(&r, HOST_A) && !is_reg(&r, HOST_D));
			CU_ASSERT_EQUAL(r.rtype, new_types[j]);
			CU_ASSERT(holds(&r, HOST_B));
			CU_ASSERT_EQUAL(r.holder == NULL, is_all_regs(new_types[j]));
			CU_ASSERT_EQUAL(r.generation, gen + 1);
			nvmf_resv_clear_all(&r);
		}

		/* prkey != 0: registrants with it go, the reservation stays */
		{
			uint8_t pre[NVMF_MAX_RESERVATION_REGISTRANTS][16];
			struct nvmf_reservation r;
			uint32_t n;

			setup_held(&r, t);
			CU_ASSERT_EQUAL(
			    do_acq(&r, HOST_B, PLX_NVME_RESV_PREEMPT, WE, KEY_B, KEY_A, &n, pre),
			    OK);
			CU_ASSERT_EQUAL(n, 1u);
			CU_ASSERT(!is_reg(&r, HOST_A));
			CU_ASSERT_EQUAL(r.rtype, t);
			CU_ASSERT(holds(&r, HOST_B));
			CU_ASSERT_EQUAL(
			    do_acq(&r, HOST_B, PLX_NVME_RESV_PREEMPT, WE, KEY_B, 0x77, &n, pre),
			    CONFL);
			/* the last registrant preempting its own key: the reservation ends */
			CU_ASSERT_EQUAL(
			    do_acq(&r, HOST_B, PLX_NVME_RESV_PREEMPT, WE, KEY_B, KEY_B, &n, pre),
			    OK);
			CU_ASSERT_EQUAL(r.num_registrants, 0u);
			CU_ASSERT_EQUAL(r.rtype, NONE);
			nvmf_resv_clear_all(&r);
		}
	}
}

static void test_preempt_without_reservation(void)
{
	uint8_t pre[NVMF_MAX_RESERVATION_REGISTRANTS][16];
	struct nvmf_reservation r;
	uint32_t n, gen;

	resv_fresh(&r);
	CU_ASSERT_EQUAL(do_reg(&r, HOST_A, 0, false, 0, KEY_A), OK);
	CU_ASSERT_EQUAL(do_reg(&r, HOST_B, 0, false, 0, KEY_B), OK);
	gen = r.generation;
	CU_ASSERT_EQUAL(do_acq(&r, HOST_A, PLX_NVME_RESV_PREEMPT, WE, KEY_A, 0x99, &n, pre), CONFL);
	CU_ASSERT_EQUAL(r.generation, gen);
	CU_ASSERT_EQUAL(do_acq(&r, HOST_A, PLX_NVME_RESV_PREEMPT, WE, KEY_A, KEY_B, &n, pre), OK);
	CU_ASSERT_EQUAL(n, 1u);
	CU_ASSERT(!is_reg(&r, HOST_B));
	CU_ASSERT_EQUAL(r.rtype, NONE); /* no reservation is created */
	CU_ASSERT_EQUAL(r.generation, gen + 1);
	nvmf_resv_clear_all(&r);
}

/* ---- release, unregister, clear ---- */

static void test_release_every_type_and_role(void)
{
	for (size_t i = 0; i < PLX_COUNTOF(k_types); i++) {
		uint8_t t = k_types[i], other = t == WE ? EA : WE;
		struct nvmf_reservation r;
		bool released;
		uint32_t gen;

		setup_held(&r, t);
		gen = r.generation;
		/* non-registrant and wrong key: conflict */
		CU_ASSERT_EQUAL(do_rel(&r, HOST_C, 0, t, 0, &released), CONFL);
		CU_ASSERT_EQUAL(do_rel(&r, HOST_A, 0, t, KEY_B, &released), CONFL);
		/* IEKEY and a reserved action: invalid */
		CU_ASSERT_EQUAL(nvmf_resv_release(&r, g_host[HOST_A], 0, t, true, KEY_A, &released),
				INVAL);
		CU_ASSERT_EQUAL(do_rel(&r, HOST_A, 2, t, KEY_A, &released), INVAL);
		/* holder with another type: invalid field */
		CU_ASSERT_EQUAL(do_rel(&r, HOST_A, 0, other, KEY_A, &released), INVAL);
		CU_ASSERT_EQUAL(r.rtype, t);
		/* a registrant: no effect, unless it is a holder too (all-registrants) */
		CU_ASSERT_EQUAL(do_rel(&r, HOST_B, 0, t, KEY_B, &released), OK);
		CU_ASSERT_EQUAL(released, is_all_regs(t));
		CU_ASSERT_EQUAL(r.rtype, is_all_regs(t) ? NONE : t);
		if (!is_all_regs(t)) {
			CU_ASSERT_EQUAL(do_rel(&r, HOST_A, 0, t, KEY_A, &released), OK);
			CU_ASSERT(released);
		}
		CU_ASSERT_EQUAL(r.rtype, NONE);
		CU_ASSERT(r.holder == NULL);
		/* releasing nothing succeeds; registrations stay; no generation change */
		CU_ASSERT_EQUAL(do_rel(&r, HOST_A, 0, t, KEY_A, &released), OK);
		CU_ASSERT(!released);
		CU_ASSERT_EQUAL(r.num_registrants, 2u);
		CU_ASSERT_EQUAL(r.generation, gen);
		nvmf_resv_clear_all(&r);
	}
}

static void test_unregister_holder(void)
{
	for (size_t i = 0; i < PLX_COUNTOF(k_types); i++) {
		uint8_t t = k_types[i];
		struct nvmf_reservation r;

		setup_held(&r, t);
		CU_ASSERT_EQUAL(do_reg(&r, HOST_A, PLX_NVME_RESV_UNREGISTER_KEY, false, KEY_A, 0),
				OK);
		if (is_all_regs(t)) {
			/* B still registered: still reserved, B a holder; gone with B */
			CU_ASSERT_EQUAL(r.rtype, t);
			CU_ASSERT(holds(&r, HOST_B));
			CU_ASSERT_EQUAL(
			    do_reg(&r, HOST_B, PLX_NVME_RESV_UNREGISTER_KEY, false, KEY_B, 0), OK);
		}
		CU_ASSERT_EQUAL(r.rtype, NONE);
		CU_ASSERT(r.holder == NULL);
		CU_ASSERT_EQUAL(r.crkey, 0u);
		nvmf_resv_clear_all(&r);
	}

	/* A registrant (not the holder) leaving changes nothing else. */
	{
		struct nvmf_reservation r;

		setup_held(&r, EA);
		CU_ASSERT_EQUAL(do_reg(&r, HOST_B, PLX_NVME_RESV_UNREGISTER_KEY, false, KEY_B, 0),
				OK);
		CU_ASSERT(holds(&r, HOST_A));
		CU_ASSERT_EQUAL(r.rtype, EA);
		nvmf_resv_clear_all(&r);
	}
}

static void test_clear(void)
{
	for (size_t i = 0; i < PLX_COUNTOF(k_types); i++) {
		struct nvmf_reservation r;
		bool released;
		uint32_t gen;

		setup_held(&r, k_types[i]);
		gen = r.generation;
		CU_ASSERT_EQUAL(do_rel(&r, HOST_C, PLX_NVME_RESV_CLEAR, 0, 0, &released), CONFL);
		CU_ASSERT_EQUAL(do_rel(&r, HOST_B, PLX_NVME_RESV_CLEAR, 0, KEY_A, &released),
				CONFL);
		CU_ASSERT_EQUAL(r.generation, gen);
		/* any registrant may clear, with any rtype */
		CU_ASSERT_EQUAL(do_rel(&r, HOST_B, PLX_NVME_RESV_CLEAR, 0, KEY_B, &released), OK);
		CU_ASSERT(released);
		CU_ASSERT_EQUAL(r.rtype, NONE);
		CU_ASSERT_EQUAL(r.num_registrants, 0u);
		CU_ASSERT(TAILQ_EMPTY(&r.registrants));
		CU_ASSERT_EQUAL(r.generation, gen + 1);
		nvmf_resv_clear_all(&r);
	}
}

static void test_generation_counter(void)
{
	struct nvmf_reservation r;
	uint32_t n;
	bool rel;

	resv_fresh(&r);
	CU_ASSERT_EQUAL(do_reg(&r, HOST_A, 0, false, 0, KEY_A), OK); /* 1 */
	CU_ASSERT_EQUAL(do_reg(&r, HOST_A, 0, false, 0, KEY_A), OK); /* 2: same key again */
	CU_ASSERT_EQUAL(do_reg(&r, HOST_A, 0, false, 0, KEY_D), CONFL);
	CU_ASSERT_EQUAL(do_reg(&r, HOST_B, 0, false, 0, KEY_B), OK);		      /* 3 */
	CU_ASSERT_EQUAL(do_reg(&r, HOST_B, 2, false, KEY_B, KEY_D), OK);	      /* 4 */
	CU_ASSERT_EQUAL(do_acq(&r, HOST_A, 0, WE, KEY_A, 0, &n, NULL), OK);	      /* 4 */
	CU_ASSERT_EQUAL(do_rel(&r, HOST_A, 0, WE, KEY_A, &rel), OK);		      /* 4 */
	CU_ASSERT_EQUAL(do_acq(&r, HOST_A, 0, WE, KEY_A, 0, &n, NULL), OK);	      /* 4 */
	CU_ASSERT_EQUAL(do_acq(&r, HOST_B, 1, EA, KEY_D, KEY_A, &n, NULL), OK);	      /* 5 */
	CU_ASSERT_EQUAL(do_reg(&r, HOST_A, 0, false, 0, KEY_A), OK);		      /* 6 */
	CU_ASSERT_EQUAL(do_reg(&r, HOST_A, 1, false, KEY_A, 0), OK);		      /* 7 */
	CU_ASSERT_EQUAL(do_rel(&r, HOST_B, PLX_NVME_RESV_CLEAR, 0, KEY_D, &rel), OK); /* 8 */
	CU_ASSERT_EQUAL(r.generation, 8u);
	nvmf_resv_clear_all(&r);
}

/* ---- the conflict table ---- */

static const uint8_t k_read_ops[] = {PLX_NVME_OPC_READ, PLX_NVME_OPC_COMPARE, PLX_NVME_OPC_VERIFY};
static const uint8_t k_write_ops[] = {PLX_NVME_OPC_WRITE, PLX_NVME_OPC_WRITE_UNCORRECTABLE,
				      PLX_NVME_OPC_WRITE_ZEROES, PLX_NVME_OPC_DATASET_MANAGEMENT,
				      PLX_NVME_OPC_COPY};
static const uint8_t k_free_ops[] = {
    PLX_NVME_OPC_FLUSH, PLX_NVME_OPC_RESERVATION_REGISTER, PLX_NVME_OPC_RESERVATION_REPORT,
    PLX_NVME_OPC_RESERVATION_ACQUIRE, PLX_NVME_OPC_RESERVATION_RELEASE};

/* The spec's table: [type][role] with roles holder, registrant, non-registrant. */
static const struct {
	uint8_t rtype;
	bool read[3];
	bool write[3];
} k_access[] = {
    {WE, {true, true, true}, {true, false, false}},
    {EA, {true, false, false}, {true, false, false}},
    {WE_RO, {true, true, true}, {true, true, false}},
    {EA_RO, {true, true, false}, {true, true, false}},
    {WE_AR, {true, true, true}, {true, true, false}},
    {EA_AR, {true, true, false}, {true, true, false}},
};

static void test_conflict_table(void)
{
	static const int roles[3] = {HOST_A, HOST_B, HOST_C};
	struct nvmf_ns ns;
	struct nvmf_pg_ns pg;

	for (size_t i = 0; i < PLX_COUNTOF(k_access); i++) {
		memset(&ns, 0, sizeof(ns));
		memset(&pg, 0, sizeof(pg));
		setup_held(&ns.resv, k_access[i].rtype);
		nvmf_ns_reservation_snapshot(&ns, &pg);
		for (int role = 0; role < 3; role++) {
			const uint8_t *h = g_host[roles[role]];

			for (size_t o = 0; o < PLX_COUNTOF(k_read_ops); o++) {
				CU_ASSERT_EQUAL(nvmf_ns_reservation_allows(&pg, h, k_read_ops[o]),
						k_access[i].read[role]);
			}
			for (size_t o = 0; o < PLX_COUNTOF(k_write_ops); o++) {
				CU_ASSERT_EQUAL(nvmf_ns_reservation_allows(&pg, h, k_write_ops[o]),
						k_access[i].write[role]);
			}
			for (size_t o = 0; o < PLX_COUNTOF(k_free_ops); o++) {
				CU_ASSERT(nvmf_ns_reservation_allows(&pg, h, k_free_ops[o]));
			}
		}
		nvmf_resv_clear_all(&ns.resv);
	}
}

/* Registered but unreserved, and empty: everything runs for everyone. */
static void test_conflict_unreserved(void)
{
	struct nvmf_ns ns;
	struct nvmf_pg_ns pg;

	memset(&ns, 0, sizeof(ns));
	memset(&pg, 0xff, sizeof(pg));
	nvmf_ns_reservation_snapshot(&ns, &pg);
	CU_ASSERT_EQUAL(pg.rtype, NONE);
	CU_ASSERT_EQUAL(pg.num_registrants, 0u);
	CU_ASSERT(!pg.has_holder);
	CU_ASSERT_EQUAL(do_reg(&ns.resv, HOST_A, 0, false, 0, KEY_A), OK);
	nvmf_ns_reservation_snapshot(&ns, &pg);
	for (int h = 0; h < 3; h++) {
		CU_ASSERT(nvmf_ns_reservation_allows(&pg, g_host[h], PLX_NVME_OPC_WRITE));
		CU_ASSERT(nvmf_ns_reservation_allows(&pg, g_host[h], PLX_NVME_OPC_READ));
	}
	nvmf_resv_clear_all(&ns.resv);
}

static void test_snapshot_contents(void)
{
	struct nvmf_ns ns;
	struct nvmf_pg_ns pg;

	memset(&ns, 0, sizeof(ns));
	memset(&pg, 0, sizeof(pg));
	setup_held(&ns.resv, WE_RO);
	nvmf_ns_reservation_snapshot(&ns, &pg);
	CU_ASSERT_EQUAL(pg.rtype, WE_RO);
	CU_ASSERT(pg.has_holder);
	CU_ASSERT(memcmp(pg.holder_hostid, g_host[HOST_A], 16) == 0);
	CU_ASSERT_EQUAL(pg.num_registrants, 2u);
	CU_ASSERT(memcmp(pg.reg_hostid[0], g_host[HOST_A], 16) == 0);
	CU_ASSERT(memcmp(pg.reg_hostid[1], g_host[HOST_B], 16) == 0);
	nvmf_resv_clear_all(&ns.resv);
	nvmf_ns_reservation_snapshot(&ns, &pg);
	CU_ASSERT_EQUAL(pg.rtype, NONE);
	CU_ASSERT(!pg.has_holder);
	CU_ASSERT_EQUAL(pg.num_registrants, 0u);
}

/* ---- report data ---- */

static void test_report_regular_and_extended(void)
{
	struct plx_nvme_reservation_status_data hdr;
	struct plx_nvme_registered_ctrlr_extended_data ext;
	struct plx_nvme_registered_ctrlr_data reg;
	struct nvmf_reservation r;
	uint8_t buf[512];
	uint64_t hostid64;

	setup_held(&r, EA);
	r.ptpl_activated = true;
	CU_ASSERT_EQUAL(resv_report_size(&r, false), 24u + 2 * 24u);
	CU_ASSERT_EQUAL(resv_report_size(&r, true), 64u + 2 * 64u);

	memset(buf, 0, sizeof(buf));
	resv_build_report(&r, true, buf);
	memcpy(&hdr, buf, sizeof(hdr));
	CU_ASSERT_EQUAL(hdr.gen, r.generation);
	CU_ASSERT_EQUAL(hdr.rtype, EA);
	CU_ASSERT_EQUAL(hdr.regctl, 2);
	CU_ASSERT_EQUAL(hdr.ptpls, 1);
	memcpy(&ext, buf + 64, sizeof(ext));
	CU_ASSERT_EQUAL(ext.cntlid, 0xffff);
	CU_ASSERT_EQUAL(ext.rcsts, 1);
	CU_ASSERT_EQUAL(ext.rkey, KEY_A);
	CU_ASSERT(memcmp(ext.hostid, g_host[HOST_A], 16) == 0);
	memcpy(&ext, buf + 128, sizeof(ext));
	CU_ASSERT_EQUAL(ext.rcsts, 0);
	CU_ASSERT_EQUAL(ext.rkey, KEY_B);
	CU_ASSERT(memcmp(ext.hostid, g_host[HOST_B], 16) == 0);

	memset(buf, 0, sizeof(buf));
	resv_build_report(&r, false, buf);
	memcpy(&hdr, buf, sizeof(hdr));
	CU_ASSERT_EQUAL(hdr.regctl, 2);
	memcpy(&reg, buf + 24, sizeof(reg));
	memcpy(&hostid64, g_host[HOST_A], 8);
	CU_ASSERT_EQUAL(reg.cntlid, 0xffff);
	CU_ASSERT_EQUAL(reg.rcsts, 1);
	CU_ASSERT_EQUAL(reg.rkey, KEY_A);
	CU_ASSERT_EQUAL(reg.hostid, hostid64);
	memcpy(&reg, buf + 48, sizeof(reg));
	CU_ASSERT_EQUAL(reg.rcsts, 0);
	CU_ASSERT_EQUAL(reg.rkey, KEY_B);
	nvmf_resv_clear_all(&r);

	/* all-registrants: every registrant is marked as holding */
	setup_held(&r, WE_AR);
	memset(buf, 0, sizeof(buf));
	resv_build_report(&r, true, buf);
	memcpy(&ext, buf + 64, sizeof(ext));
	CU_ASSERT_EQUAL(ext.rcsts, 1);
	memcpy(&ext, buf + 128, sizeof(ext));
	CU_ASSERT_EQUAL(ext.rcsts, 1);
	nvmf_resv_clear_all(&r);

	/* nothing registered: just the header */
	resv_fresh(&r);
	CU_ASSERT_EQUAL(resv_report_size(&r, true), 64u);
}

/* ---- PTPL file ---- */

static char g_dir[64];
static struct plx_uuid g_uuid1, g_uuid2;

static void ptpl_dir_init(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/resv_ut.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(g_dir) != NULL);
	plx_uuid_parse(&g_uuid1, "11111111-2222-3333-4444-555555555555");
	plx_uuid_parse(&g_uuid2, "99999999-2222-3333-4444-555555555555");
	g_bdev_uuid = &g_uuid1;
}

static void ptpl_dir_fini(void)
{
	char path[384];
	DIR *d = opendir(g_dir);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", g_dir, e->d_name);
			unlink(path);
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	rmdir(g_dir);
}

static void ns_init_ptpl(struct nvmf_ns *ns, const char *name)
{
	memset(ns, 0, sizeof(*ns));
	ns->nsid = 1;
	ns->bdev = (struct plx_bdev *)&g_uuid1; /* only passed to the plx_bdev_get_uuid stand-in */
	snprintf(ns->ptpl_file, sizeof(ns->ptpl_file), "%s/%s", g_dir, name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
}

static void test_ptpl_round_trip(void)
{
	static const uint8_t types[] = {WE, EA_RO, WE_AR, NONE};
	struct nvmf_ns ns, ns2;

	ptpl_dir_init();
	for (size_t i = 0; i < PLX_COUNTOF(types); i++) {
		ns_init_ptpl(&ns, "rt.json");
		CU_ASSERT_EQUAL(nvmf_ns_reservation_load(&ns), 0);
		nvmf_resv_clear_all(&ns.resv);
		if (types[i] != NONE) {
			setup_held(&ns.resv, types[i]);
		} else {
			resv_fresh(&ns.resv);
			CU_ASSERT_EQUAL(do_reg(&ns.resv, HOST_B, 0, false, 0, UINT64_MAX), OK);
		}
		ns.resv.ptpl_activated = true;
		CU_ASSERT_EQUAL(resv_ptpl_save(&ns), 0);
		CU_ASSERT_EQUAL(access(ns.ptpl_file, F_OK), 0);

		ns_init_ptpl(&ns2, "rt.json");
		CU_ASSERT_EQUAL(nvmf_ns_reservation_load(&ns2), 0);
		CU_ASSERT(nvmf_ns_reservation_ptpl_activated(&ns2));
		CU_ASSERT_EQUAL(ns2.resv.rtype, ns.resv.rtype);
		CU_ASSERT_EQUAL(ns2.resv.crkey, ns.resv.crkey);
		CU_ASSERT_EQUAL(ns2.resv.num_registrants, ns.resv.num_registrants);
		CU_ASSERT_EQUAL(ns2.resv.holder == NULL, ns.resv.holder == NULL);
		if (ns.resv.holder != NULL && ns2.resv.holder != NULL) {
			CU_ASSERT(memcmp(ns2.resv.holder->hostid, ns.resv.holder->hostid, 16) == 0);
		}
		for (struct nvmf_reservation_registrant *a = TAILQ_FIRST(&ns.resv.registrants),
							*b = TAILQ_FIRST(&ns2.resv.registrants);
		     a != NULL && b != NULL; a = TAILQ_NEXT(a, link), b = TAILQ_NEXT(b, link)) {
			CU_ASSERT(memcmp(a->hostid, b->hostid, 16) == 0);
			CU_ASSERT_EQUAL(a->rkey, b->rkey);
		}
		nvmf_resv_clear_all(&ns.resv);
		nvmf_resv_clear_all(&ns2.resv);
	}

	/* Saved without PTPL: the next power on starts empty. */
	ns_init_ptpl(&ns, "noptpl.json");
	setup_held(&ns.resv, WE);
	ns.resv.ptpl_activated = false;
	CU_ASSERT_EQUAL(resv_ptpl_save(&ns), 0);
	ns_init_ptpl(&ns2, "noptpl.json");
	CU_ASSERT_EQUAL(nvmf_ns_reservation_load(&ns2), 0);
	CU_ASSERT(!nvmf_ns_reservation_ptpl_activated(&ns2));
	CU_ASSERT_EQUAL(ns2.resv.num_registrants, 0u);
	CU_ASSERT_EQUAL(ns2.resv.rtype, NONE);
	nvmf_resv_clear_all(&ns.resv);

	/* No ptpl_file: load only initialises. */
	memset(&ns2, 0, sizeof(ns2));
	CU_ASSERT_EQUAL(nvmf_ns_reservation_load(&ns2), 0);
	CU_ASSERT(TAILQ_EMPTY(&ns2.resv.registrants));
	CU_ASSERT_EQUAL(nvmf_ns_reservation_set_ptpl(&ns2, true), -ENOTSUP);
	CU_ASSERT_EQUAL(nvmf_ns_reservation_set_ptpl(&ns2, false), 0);
	ptpl_dir_fini();
}

static void test_ptpl_file_format(void)
{
	struct nvmf_ns ns;
	json_error_t err;
	json_t *root, *regs;

	ptpl_dir_init();
	ns_init_ptpl(&ns, "fmt.json");
	setup_held(&ns.resv, WE_RO);
	ns.resv.ptpl_activated = true;
	CU_ASSERT_EQUAL(resv_ptpl_save(&ns), 0);
	root = json_load_file(ns.ptpl_file, 0, &err);
	CU_ASSERT_FATAL(root != NULL);
	CU_ASSERT(json_is_true(json_object_get(root, "ptpl")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(root, "rtype")), WE_RO);
	CU_ASSERT_EQUAL((uint64_t)json_integer_value(json_object_get(root, "crkey")), KEY_A);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(root, "bdev_uuid")),
			       "11111111-2222-3333-4444-555555555555");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(root, "holder_uuid")),
			       "10101010-1010-1010-1010-101010101000");
	regs = json_object_get(root, "registrants");
	CU_ASSERT_EQUAL(json_array_size(regs), 2u);
	CU_ASSERT_EQUAL(
	    (uint64_t)json_integer_value(json_object_get(json_array_get(regs, 1), "rkey")), KEY_B);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(json_array_get(regs, 1), "host_uuid")),
	    "20202020-2020-2020-2020-202020202001");
	json_decref(root);
	/* the temp file is gone after the rename */
	{
		char tmp[300];

		snprintf(tmp, sizeof(tmp), "%s.tmp", ns.ptpl_file);
		CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
	}
	/* set_ptpl(false) rewrites the file */
	CU_ASSERT_EQUAL(nvmf_ns_reservation_set_ptpl(&ns, false), 0);
	root = json_load_file(ns.ptpl_file, 0, &err);
	CU_ASSERT_FATAL(root != NULL);
	CU_ASSERT(json_is_false(json_object_get(root, "ptpl")));
	json_decref(root);
	nvmf_resv_clear_all(&ns.resv);
	ptpl_dir_fini();
}

static void test_ptpl_corrupt_files(void)
{
	static const char *const bad[] = {
	    "",
	    "{",
	    "{\"ptpl\": true, \"rtype\": 1, \"crkey\": 5, \"bdev_uuid\": \"11111111-2222-3333",
	    "[1, 2, 3]",
	    "{\"rtype\": 1}",
	    "{\"ptpl\": \"yes\"}",
	    "{\"ptpl\": true, \"rtype\": 0, \"crkey\": 0, \"registrants\": []}",
	    "{\"ptpl\": true, \"rtype\": 9, \"crkey\": 0, \"bdev_uuid\": \"\", \"registrants\": "
	    "[]}",
	    "{\"ptpl\": true, \"rtype\": -1, \"crkey\": 0, \"bdev_uuid\": \"\", \"registrants\": "
	    "[]}",
	    "{\"ptpl\": true, \"rtype\": 0, \"crkey\": 0, \"bdev_uuid\": "
	    "\"99999999-2222-3333-4444-555555555555\", \"registrants\": []}",
	    "{\"ptpl\": true, \"rtype\": 0, \"crkey\": 0, \"bdev_uuid\": \"\", \"registrants\": "
	    "{}}",
	    "{\"ptpl\": true, \"rtype\": 0, \"crkey\": 0, \"bdev_uuid\": \"\", \"registrants\": "
	    "[{\"rkey\": 1, \"host_uuid\": \"nope\"}]}",
	    "{\"ptpl\": true, \"rtype\": 0, \"crkey\": 0, \"bdev_uuid\": \"\", \"registrants\": "
	    "[{\"rkey\": \"1\", \"host_uuid\": \"10101010-1010-1010-1010-101010101000\"}]}",
	    "{\"ptpl\": true, \"rtype\": 0, \"crkey\": 0, \"bdev_uuid\": \"\", \"registrants\": "
	    "[{\"rkey\": 1, \"host_uuid\": \"10101010-1010-1010-1010-101010101000\"}, "
	    "{\"rkey\": 2, \"host_uuid\": \"10101010-1010-1010-1010-101010101000\"}]}",
	    /* holder not registered */
	    "{\"ptpl\": true, \"rtype\": 1, \"crkey\": 1, \"bdev_uuid\": \"\", "
	    "\"holder_uuid\": \"20202020-2020-2020-2020-202020202001\", \"registrants\": "
	    "[{\"rkey\": 1, \"host_uuid\": \"10101010-1010-1010-1010-101010101000\"}]}",
	    /* single-holder type without a holder */
	    "{\"ptpl\": true, \"rtype\": 2, \"crkey\": 1, \"bdev_uuid\": \"\", \"holder_uuid\": "
	    "\"\", \"registrants\": [{\"rkey\": 1, \"host_uuid\": "
	    "\"10101010-1010-1010-1010-101010101000\"}]}",
	    /* crkey is not the holder's key */
	    "{\"ptpl\": true, \"rtype\": 1, \"crkey\": 2, \"bdev_uuid\": \"\", \"holder_uuid\": "
	    "\"10101010-1010-1010-1010-101010101000\", \"registrants\": [{\"rkey\": 1, "
	    "\"host_uuid\": \"10101010-1010-1010-1010-101010101000\"}]}",
	    /* all-registrants type with nobody registered */
	    "{\"ptpl\": true, \"rtype\": 5, \"crkey\": 0, \"bdev_uuid\": \"\", \"registrants\": "
	    "[]}",
	};
	enum plx_log_level saved = plx_log_get_print_level();
	struct nvmf_ns ns, good;
	json_t *root;
	char *text;
	size_t len;

	ptpl_dir_init();
	plx_log_set_print_level(PLX_LOG_DISABLED);
	for (size_t i = 0; i < PLX_COUNTOF(bad); i++) {
		ns_init_ptpl(&ns, "bad.json");
		write_file(ns.ptpl_file, bad[i]);
		CU_ASSERT_EQUAL(nvmf_ns_reservation_load(&ns), -EINVAL);
		CU_ASSERT_EQUAL(ns.resv.num_registrants, 0u);
		CU_ASSERT(TAILQ_EMPTY(&ns.resv.registrants));
		CU_ASSERT_EQUAL(ns.resv.rtype, NONE);
		CU_ASSERT(!ns.resv.ptpl_activated);
	}

	/* A real file cut short at every length fails cleanly. */
	ns_init_ptpl(&good, "good.json");
	setup_held(&good.resv, WE_RO);
	good.resv.ptpl_activated = true;
	CU_ASSERT_EQUAL(resv_ptpl_save(&good), 0);
	root = resv_ptpl_to_json(&good);
	text = json_dumps(root, 0);
	json_decref(root);
	nvmf_resv_clear_all(&good.resv);
	CU_ASSERT_FATAL(text != NULL);
	len = strlen(text);
	for (size_t cut = 0; cut < len; cut++) {
		char saved_c = text[cut];

		text[cut] = '\0';
		ns_init_ptpl(&ns, "cut.json");
		write_file(ns.ptpl_file, text);
		CU_ASSERT_EQUAL(nvmf_ns_reservation_load(&ns), -EINVAL);
		CU_ASSERT_EQUAL(ns.resv.num_registrants, 0u);
		text[cut] = saved_c;
	}
	free(text);

	/* The file of another bdev is refused. */
	ns_init_ptpl(&ns, "good.json");
	g_bdev_uuid = &g_uuid2;
	CU_ASSERT_EQUAL(nvmf_ns_reservation_load(&ns), -EINVAL);
	g_bdev_uuid = &g_uuid1;
	CU_ASSERT_EQUAL(nvmf_ns_reservation_load(&ns), 0);
	CU_ASSERT_EQUAL(ns.resv.rtype, WE_RO);
	nvmf_resv_clear_all(&ns.resv);
	plx_log_set_print_level(saved);
	ptpl_dir_fini();
}

/* ---- the command path across threads ---- */

/* Thread 0 is the app thread; threads 1 and 2 run poll groups 0 and 1. */
struct env {
	struct nvmf_tgt tgt;
	struct nvmf_subsystem subsys;
	struct nvmf_ns ns;
	struct nvmf_ns *ns_table[2];
	struct nvmf_poll_group groups[2];
	struct nvmf_poll_group *group_ptrs[2];
	struct nvmf_pg_subsystem sgroups[2][2];
	struct nvmf_pg_ns pg_ns[2][2];
	struct nvmf_ctrlr ctrlrs[3]; /* host A on group 0, host B on group 1, host A again */
	struct nvmf_qpair qpairs[3];
};

static struct env *env_create(const char *ptpl_name)
{
	struct env *e = calloc(1, sizeof(*e));

	ut_threads_init(3);
	g_num_notices = 0;
	e->tgt.thread = ut_thread(0);
	e->tgt.num_poll_groups = 2;
	e->tgt.poll_groups = e->group_ptrs;
	e->subsys.tgt = &e->tgt;
	e->subsys.id = 1;
	e->subsys.max_nsid = 2;
	e->subsys.ns = e->ns_table;
	TAILQ_INIT(&e->subsys.ctrlrs);
	e->ns.subsystem = &e->subsys;
	e->ns.nsid = 1;
	e->ns.bdev = (struct plx_bdev *)&g_uuid1;
	if (ptpl_name != NULL) {
		snprintf(e->ns.ptpl_file, sizeof(e->ns.ptpl_file), "%s/%s", g_dir, ptpl_name);
	}
	CU_ASSERT_EQUAL(nvmf_ns_reservation_load(&e->ns), 0);
	e->ns_table[0] = &e->ns;
	for (int g = 0; g < 2; g++) {
		e->groups[g].tgt = &e->tgt;
		e->groups[g].thread = ut_thread(g + 1);
		e->groups[g].num_sgroups = 2;
		e->groups[g].sgroups = e->sgroups[g];
		e->group_ptrs[g] = &e->groups[g];
		e->sgroups[g][1].num_ns = 2;
		e->sgroups[g][1].ns_info = e->pg_ns[g];
		e->pg_ns[g][0].state = NVMF_PG_NS_ACTIVE;
		e->pg_ns[g][0].ns = &e->ns;
		TAILQ_INIT(&e->pg_ns[g][0].pending);
	}
	for (int c = 0; c < 3; c++) {
		struct nvmf_ctrlr *ctrlr = &e->ctrlrs[c];

		ctrlr->subsys = &e->subsys;
		ctrlr->cntlid = (uint16_t)(c + 1);
		memcpy(ctrlr->hostid, g_host[c == 1 ? HOST_B : HOST_A], 16);
		TAILQ_INSERT_TAIL(&e->subsys.ctrlrs, ctrlr, link);
		e->qpairs[c].ctrlr = ctrlr;
		e->qpairs[c].group = &e->groups[c == 1 ? 1 : 0];
		e->qpairs[c].qid = 1;
	}
	return e;
}

static void env_destroy(struct env *e)
{
	ut_poll_threads();
	nvmf_resv_clear_all(&e->ns.resv);
	ut_threads_fini();
	free(e);
}

/* Build a command from qpair q; data holds the key payload or receives the report. */
static struct test_req *make_req(struct env *e, int q, uint8_t opc, uint32_t cdw10, uint32_t cdw11,
				 uint64_t k1, uint64_t k2, uint32_t len)
{
	struct test_req *t = calloc(1, sizeof(*t));

	t->cmd.opc = opc;
	t->cmd.nsid = 1;
	t->cmd.cdw10 = cdw10;
	t->cmd.cdw11 = cdw11;
	memcpy(t->data, &k1, 8);
	memcpy(t->data + 8, &k2, 8);
	t->req.qpair = &e->qpairs[q];
	t->req.cmd = &t->cmd;
	t->req.rsp = &t->rsp;
	t->req.data = t->data;
	t->req.length = len;
	t->req.iovcnt = 1;
	t->req.iov[0].iov_base = t->data;
	t->req.iov[0].iov_len = len;
	return t;
}

/* Submit on the qpair's poll group thread, run everything, return the status (sct<<8|sc). */
static uint16_t run_req(struct env *e, struct test_req *t)
{
	unsigned int thread = t->req.qpair->group == &e->groups[0] ? 1 : 2;

	ut_set_thread(thread);
	nvmf_ns_reservation_request(&t->req, &e->pg_ns[thread - 1][0]);
	ut_poll_threads();
	CU_ASSERT_EQUAL(t->completed, 1);
	CU_ASSERT(t->completed_on_own_thread);
	return RESV_STATUS(t->rsp.status.sct, t->rsp.status.sc);
}

static uint16_t cmd_status(struct env *e, int q, uint8_t opc, uint32_t cdw10, uint64_t k1,
			   uint64_t k2)
{
	uint32_t len = opc == PLX_NVME_OPC_RESERVATION_RELEASE ? 8 : 16;
	struct test_req *t = make_req(e, q, opc, cdw10, 0, k1, k2, len);
	uint16_t status = run_req(e, t);

	free(t);
	return status;
}

#define REGISTER(e, q, act, k1, k2) cmd_status(e, q, PLX_NVME_OPC_RESERVATION_REGISTER, act, k1, k2)
#define ACQUIRE(e, q, act, type, k1, k2)                                                           \
	cmd_status(e, q, PLX_NVME_OPC_RESERVATION_ACQUIRE, (act) | ((type) << 8), k1, k2)
#define RELEASE(e, q, act, type, k1)                                                               \
	cmd_status(e, q, PLX_NVME_OPC_RESERVATION_RELEASE, (act) | ((type) << 8), k1, 0)

static bool noticed(struct env *e, int c, uint8_t type)
{
	for (uint32_t i = 0; i < g_num_notices; i++) {
		if (g_notices[i].ctrlr == &e->ctrlrs[c] && g_notices[i].type == type &&
		    g_notices[i].nsid == 1) {
			return true;
		}
	}
	return false;
}

static void test_path_register_acquire_snapshots(void)
{
	struct env *e = env_create(NULL);
	struct test_req *t;

	/* The answer waits for the app thread and both poll groups. */
	t = make_req(e, 0, PLX_NVME_OPC_RESERVATION_REGISTER, 0, 0, 0, KEY_A, 16);
	ut_set_thread(1);
	nvmf_ns_reservation_request(&t->req, &e->pg_ns[0][0]);
	CU_ASSERT_EQUAL(t->completed, 0);
	ut_poll_threads();
	CU_ASSERT_EQUAL(t->completed, 1);
	CU_ASSERT(t->completed_on_own_thread);
	CU_ASSERT_EQUAL(t->rsp.status_raw, 0);
	free(t);
	for (int g = 0; g < 2; g++) {
		CU_ASSERT_EQUAL(e->pg_ns[g][0].num_registrants, 1u);
		CU_ASSERT_EQUAL(e->pg_ns[g][1].num_registrants, 0u); /* other namespace untouched */
	}

	CU_ASSERT_EQUAL(REGISTER(e, 1, 0, 0, KEY_B), OK);
	CU_ASSERT_EQUAL(ACQUIRE(e, 0, 0, EA_RO, KEY_A, 0), OK);
	for (int g = 0; g < 2; g++) {
		const struct nvmf_pg_ns *pg = &e->pg_ns[g][0];

		CU_ASSERT_EQUAL(pg->rtype, EA_RO);
		CU_ASSERT(pg->has_holder);
		CU_ASSERT(memcmp(pg->holder_hostid, g_host[HOST_A], 16) == 0);
		CU_ASSERT_EQUAL(pg->num_registrants, 2u);
		CU_ASSERT(nvmf_ns_reservation_allows(pg, g_host[HOST_B], PLX_NVME_OPC_WRITE));
		CU_ASSERT(!nvmf_ns_reservation_allows(pg, g_host[HOST_C], PLX_NVME_OPC_READ));
	}
	/* Acquire again with the same type changes nothing: no refresh round. */
	g_for_each_runs = 0;
	CU_ASSERT_EQUAL(ACQUIRE(e, 0, 0, EA_RO, KEY_A, 0), OK);
	CU_ASSERT_EQUAL(g_for_each_runs, 0);
	/* Conflicts come back as Reservation Conflict with DNR. */
	t = make_req(e, 1, PLX_NVME_OPC_RESERVATION_ACQUIRE, WE << 8, 0, KEY_B, 0, 16);
	CU_ASSERT_EQUAL(run_req(e, t), CONFL);
	CU_ASSERT_EQUAL(t->rsp.status.dnr, 1);
	free(t);
	CU_ASSERT_EQUAL(g_num_notices, 0u);
	env_destroy(e);
}

static void test_path_preempt_notices(void)
{
	struct env *e = env_create(NULL);

	CU_ASSERT_EQUAL(REGISTER(e, 0, 0, 0, KEY_A), OK);
	CU_ASSERT_EQUAL(REGISTER(e, 1, 0, 0, KEY_B), OK);
	CU_ASSERT_EQUAL(ACQUIRE(e, 0, 0, WE, KEY_A, 0), OK);
	/* B preempts A: both of A's controllers learn their registration was preempted. */
	CU_ASSERT_EQUAL(ACQUIRE(e, 1, PLX_NVME_RESV_PREEMPT_ABORT, EA, KEY_B, KEY_A), OK);
	CU_ASSERT_EQUAL(g_num_notices, 2u);
	CU_ASSERT(noticed(e, 0, PLX_NVME_REGISTRATION_PREEMPTED));
	CU_ASSERT(noticed(e, 2, PLX_NVME_REGISTRATION_PREEMPTED));
	CU_ASSERT(!noticed(e, 1, PLX_NVME_REGISTRATION_PREEMPTED));
	for (int g = 0; g < 2; g++) {
		CU_ASSERT_EQUAL(e->pg_ns[g][0].rtype, EA);
		CU_ASSERT(memcmp(e->pg_ns[g][0].holder_hostid, g_host[HOST_B], 16) == 0);
		CU_ASSERT(!nvmf_ns_reservation_allows(&e->pg_ns[g][0], g_host[HOST_A],
						      PLX_NVME_OPC_READ));
	}
	/* A's registration is gone: its Release conflicts. */
	CU_ASSERT_EQUAL(RELEASE(e, 0, 0, EA, KEY_A), CONFL);
	env_destroy(e);
}

static void test_path_release_and_clear_notices(void)
{
	struct env *e = env_create(NULL);

	CU_ASSERT_EQUAL(REGISTER(e, 0, 0, 0, KEY_A), OK);
	CU_ASSERT_EQUAL(REGISTER(e, 1, 0, 0, KEY_B), OK);
	/* Releasing a Write Exclusive reservation tells nobody. */
	CU_ASSERT_EQUAL(ACQUIRE(e, 0, 0, WE, KEY_A, 0), OK);
	CU_ASSERT_EQUAL(RELEASE(e, 0, 0, WE, KEY_A), OK);
	CU_ASSERT_EQUAL(g_num_notices, 0u);
	/* A registrants-only type: the other registrants hear it was released. */
	CU_ASSERT_EQUAL(ACQUIRE(e, 0, 0, WE_RO, KEY_A, 0), OK);
	CU_ASSERT_EQUAL(RELEASE(e, 0, 0, EA, KEY_A), INVAL);
	CU_ASSERT_EQUAL(RELEASE(e, 0, 0, WE_RO, KEY_A), OK);
	CU_ASSERT_EQUAL(g_num_notices, 1u);
	CU_ASSERT(noticed(e, 1, PLX_NVME_RESERVATION_RELEASED));
	CU_ASSERT_EQUAL(e->pg_ns[0][0].rtype, NONE);
	CU_ASSERT_EQUAL(e->pg_ns[1][0].rtype, NONE);
	/* Unregistering the holder of a registrants-only type releases it too. */
	g_num_notices = 0;
	CU_ASSERT_EQUAL(ACQUIRE(e, 1, 0, EA_RO, KEY_B, 0), OK);
	CU_ASSERT_EQUAL(REGISTER(e, 1, PLX_NVME_RESV_UNREGISTER_KEY, KEY_B, 0), OK);
	CU_ASSERT_EQUAL(g_num_notices, 2u);
	CU_ASSERT(noticed(e, 0, PLX_NVME_RESERVATION_RELEASED));
	CU_ASSERT(noticed(e, 2, PLX_NVME_RESERVATION_RELEASED));
	/* Clear: everyone else's reservation was preempted. */
	g_num_notices = 0;
	CU_ASSERT_EQUAL(REGISTER(e, 1, 0, 0, KEY_B), OK);
	CU_ASSERT_EQUAL(ACQUIRE(e, 1, 0, EA, KEY_B, 0), OK);
	CU_ASSERT_EQUAL(RELEASE(e, 1, PLX_NVME_RESV_CLEAR, 0, KEY_B), OK);
	CU_ASSERT_EQUAL(g_num_notices, 2u);
	CU_ASSERT(noticed(e, 0, PLX_NVME_RESERVATION_PREEMPTED));
	CU_ASSERT(noticed(e, 2, PLX_NVME_RESERVATION_PREEMPTED));
	CU_ASSERT_EQUAL(e->pg_ns[0][0].num_registrants, 0u);
	CU_ASSERT_EQUAL(e->pg_ns[1][0].num_registrants, 0u);
	env_destroy(e);
}

static void test_path_report(void)
{
	struct env *e = env_create(NULL);
	struct plx_nvme_reservation_status_data hdr;
	struct plx_nvme_registered_ctrlr_extended_data ext;
	struct test_req *t;

	CU_ASSERT_EQUAL(REGISTER(e, 0, 0, 0, KEY_A), OK);
	CU_ASSERT_EQUAL(REGISTER(e, 1, 0, 0, KEY_B), OK);
	CU_ASSERT_EQUAL(ACQUIRE(e, 1, 0, WE, KEY_B, 0), OK);

	/* Extended: NUMD is 0's based dwords. */
	t = make_req(e, 0, PLX_NVME_OPC_RESERVATION_REPORT, 4096 / 4 - 1, 1, 0, 0, 4096);
	memset(t->data, 0xee, sizeof(t->data));
	CU_ASSERT_EQUAL(run_req(e, t), OK);
	memcpy(&hdr, t->data, sizeof(hdr));
	CU_ASSERT_EQUAL(hdr.gen, 2u);
	CU_ASSERT_EQUAL(hdr.rtype, WE);
	CU_ASSERT_EQUAL(hdr.regctl, 2);
	CU_ASSERT_EQUAL(hdr.ptpls, 0);
	memcpy(&ext, t->data + 128, sizeof(ext));
	CU_ASSERT_EQUAL(ext.rcsts, 1);
	CU_ASSERT_EQUAL(ext.rkey, KEY_B);
	CU_ASSERT_EQUAL(t->data[192], 0xee); /* nothing past the data */
	free(t);

	/* A buffer shorter than the data gets what fits; regctl still counts all. */
	t = make_req(e, 0, PLX_NVME_OPC_RESERVATION_REPORT, 96 / 4 - 1, 1, 0, 0, 4096);
	memset(t->data, 0xee, sizeof(t->data));
	CU_ASSERT_EQUAL(run_req(e, t), OK);
	memcpy(&hdr, t->data, sizeof(hdr));
	CU_ASSERT_EQUAL(hdr.regctl, 2);
	CU_ASSERT_EQUAL(t->data[95], 0);
	CU_ASSERT_EQUAL(t->data[96], 0xee);
	free(t);

	/* Without EDS the 128-bit host identifiers do not fit. */
	t = make_req(e, 0, PLX_NVME_OPC_RESERVATION_REPORT, 1023, 0, 0, 0, 4096);
	CU_ASSERT_EQUAL(run_req(e, t), RESV_SC(PLX_NVME_SC_HOSTID_INCONSISTENT_FORMAT));
	free(t);
	env_destroy(e);
}

static void test_path_bad_commands(void)
{
	struct env *e = env_create(NULL);
	struct test_req *t;

	/* Decoding errors complete at once on the poll group, without the app thread. */
	t = make_req(e, 0, PLX_NVME_OPC_RESERVATION_REGISTER, 3, 0, 0, KEY_A, 16);
	ut_set_thread(1);
	nvmf_ns_reservation_request(&t->req, &e->pg_ns[0][0]);
	CU_ASSERT_EQUAL(t->completed, 1);
	CU_ASSERT_EQUAL(RESV_STATUS(t->rsp.status.sct, t->rsp.status.sc), INVAL);
	free(t);
	CU_ASSERT_EQUAL(REGISTER(e, 0, 1u << 30, 0, KEY_A), INVAL); /* CPTPL 01b reserved */
	CU_ASSERT_EQUAL(REGISTER(e, 0, 3u << 30, 0, KEY_A), INVAL); /* no ptpl_file */
	CU_ASSERT_EQUAL(ACQUIRE(e, 0, 0, 0, KEY_A, 0), INVAL);
	CU_ASSERT_EQUAL(ACQUIRE(e, 0, 1u << 3, WE, KEY_A, 0), INVAL); /* IEKEY */
	CU_ASSERT_EQUAL(RELEASE(e, 0, 5, WE, KEY_A), INVAL);
	/* Short data. */
	t = make_req(e, 0, PLX_NVME_OPC_RESERVATION_REGISTER, 0, 0, 0, KEY_A, 8);
	CU_ASSERT_EQUAL(run_req(e, t), INVAL);
	free(t);
	/* A namespace that went away. */
	t = make_req(e, 0, PLX_NVME_OPC_RESERVATION_REGISTER, 0, 0, 0, KEY_A, 16);
	t->cmd.nsid = 2;
	CU_ASSERT_EQUAL(run_req(e, t), RESV_SC(PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT));
	free(t);
	CU_ASSERT_EQUAL(e->ns.resv.num_registrants, 0u);
	env_destroy(e);
}

/* Commands from both groups at once run one after another, each answered once. */
static void test_path_concurrent_commands(void)
{
	struct env *e = env_create(NULL);
	struct test_req *t[6];

	for (int i = 0; i < 6; i++) {
		int q = i % 2;
		uint64_t key = q == 0 ? KEY_A : KEY_B;

		t[i] = i < 2 ? make_req(e, q, PLX_NVME_OPC_RESERVATION_REGISTER, 0, 0, 0, key, 16)
			     : make_req(e, q, PLX_NVME_OPC_RESERVATION_ACQUIRE, EA << 8, 0, key, 0,
					16);
		ut_set_thread(q + 1);
		nvmf_ns_reservation_request(&t[i]->req, &e->pg_ns[q][0]);
	}
	ut_poll_threads();
	CU_ASSERT_EQUAL(g_for_each_active, 0);
	for (int i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(t[i]->completed, 1);
	}
	/* A registered first and acquired first; B's acquires conflict. */
	CU_ASSERT_EQUAL(t[2]->rsp.status_raw, 0);
	CU_ASSERT_EQUAL(RESV_STATUS(t[3]->rsp.status.sct, t[3]->rsp.status.sc), CONFL);
	CU_ASSERT_EQUAL(RESV_STATUS(t[5]->rsp.status.sct, t[5]->rsp.status.sc), CONFL);
	CU_ASSERT_EQUAL(e->pg_ns[1][0].rtype, EA);
	for (int i = 0; i < 6; i++) {
		free(t[i]);
	}
	env_destroy(e);
}

/* CPTPL through Register, written on every change and restored by load. */
static void test_path_ptpl(void)
{
	struct env *e;
	struct nvmf_ns ns2;

	ptpl_dir_init();
	e = env_create("path.json");
	CU_ASSERT_EQUAL(REGISTER(e, 0, 3u << 30, 0, KEY_A), OK);
	CU_ASSERT(nvmf_ns_reservation_ptpl_activated(&e->ns));
	CU_ASSERT_EQUAL(REGISTER(e, 1, 0, 0, KEY_B), OK);
	CU_ASSERT_EQUAL(ACQUIRE(e, 1, 0, EA_AR, KEY_B, 0), OK);
	ns_init_ptpl(&ns2, "path.json");
	CU_ASSERT_EQUAL(nvmf_ns_reservation_load(&ns2), 0);
	CU_ASSERT(ns2.resv.ptpl_activated);
	CU_ASSERT_EQUAL(ns2.resv.rtype, EA_AR);
	CU_ASSERT_EQUAL(ns2.resv.num_registrants, 2u);
	nvmf_resv_clear_all(&ns2.resv);
	/* CPTPL 10b: stop persisting; the next power on starts empty. */
	CU_ASSERT_EQUAL(REGISTER(e, 0, 2u << 30, 0, KEY_A), OK);
	CU_ASSERT(!nvmf_ns_reservation_ptpl_activated(&e->ns));
	ns_init_ptpl(&ns2, "path.json");
	CU_ASSERT_EQUAL(nvmf_ns_reservation_load(&ns2), 0);
	CU_ASSERT_EQUAL(ns2.resv.num_registrants, 0u);
	/* The report shows PTPLS. */
	CU_ASSERT_EQUAL(REGISTER(e, 0, 3u << 30, 0, KEY_A), OK);
	{
		struct test_req *t =
		    make_req(e, 0, PLX_NVME_OPC_RESERVATION_REPORT, 15, 1, 0, 0, 4096);

		CU_ASSERT_EQUAL(run_req(e, t), OK);
		CU_ASSERT_EQUAL(t->data[9], 1);
		free(t);
	}
	env_destroy(e);
	ptpl_dir_fini();
}

static const struct plx_ut_case cases[] = {
    {"register_table", test_register_table},
    {"register_limit", test_register_limit},
    {"replace_holder_key", test_replace_holder_key},
    {"acquire_every_type_and_role", test_acquire_every_type_and_role},
    {"acquire_invalid_fields", test_acquire_invalid_fields},
    {"preempt_single_holder_types", test_preempt_single_holder_types},
    {"preempt_shared_key_and_self", test_preempt_shared_key_and_self},
    {"preempt_all_registrants_types", test_preempt_all_registrants_types},
    {"preempt_without_reservation", test_preempt_without_reservation},
    {"release_every_type_and_role", test_release_every_type_and_role},
    {"unregister_holder", test_unregister_holder},
    {"clear", test_clear},
    {"generation_counter", test_generation_counter},
    {"conflict_table", test_conflict_table},
    {"conflict_unreserved", test_conflict_unreserved},
    {"snapshot_contents", test_snapshot_contents},
    {"report_regular_and_extended", test_report_regular_and_extended},
    {"ptpl_round_trip", test_ptpl_round_trip},
    {"ptpl_file_format", test_ptpl_file_format},
    {"ptpl_corrupt_files", test_ptpl_corrupt_files},
    {"path_register_acquire_snapshots", test_path_register_acquire_snapshots},
    {"path_preempt_notices", test_path_preempt_notices},
    {"path_release_and_clear_notices", test_path_release_and_clear_notices},
    {"path_report", test_path_report},
    {"path_bad_commands", test_path_bad_commands},
    {"path_concurrent_commands", test_path_concurrent_commands},
    {"path_ptpl", test_path_ptpl},
};

static int run(void)
{
	hosts_init();
	return plx_ut_run("nvmf_reservation", cases, PLX_COUNTOF(cases));
}

int main(void)
{
	return run();
}
