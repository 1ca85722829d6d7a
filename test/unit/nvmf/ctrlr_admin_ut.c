/* SPDX-License-Identifier: BSD-3-Clause */
/* Controller core: Identify, Get Log Page, features, Abort, discovery. */
#include "ctrlr_ut.h"

#define GEN   PLX_NVME_SCT_GENERIC
#define CSPEC PLX_NVME_SCT_COMMAND_SPECIFIC

static unsigned int identify(struct ut_qpair *qp, uint8_t cns, uint32_t nsid, uint8_t csi,
			     void *out)
{
	struct ut_req *r = ut_req_new(qp, PLX_NVME_OPC_IDENTIFY, 4096);
	unsigned int st;

	r->cmd.nsid = nsid;
	r->cmd.cdw10 = cns;
	r->cmd.cdw11 = (uint32_t)csi << 24;
	memset(r->buf, 0xee, 4096);
	ut_submit(qp, r);
	CU_ASSERT_EQUAL(r->completions, 1);
	st = ut_status(r);
	memcpy(out, r->buf, 4096);
	ut_req_free(r);
	return st;
}

static unsigned int get_log(struct ut_qpair *qp, uint8_t lid, uint8_t lsp, uint64_t offset,
			    void *out, size_t len)
{
	struct ut_req *r = ut_req_new(qp, PLX_NVME_OPC_GET_LOG_PAGE, len);
	uint32_t numd = (uint32_t)(len / 4 - 1);
	unsigned int st;

	r->cmd.cdw10 = lid | (uint32_t)lsp << 8 | (numd & 0xffff) << 16;
	r->cmd.cdw11 = numd >> 16;
	r->cmd.cdw12 = (uint32_t)offset;
	r->cmd.cdw13 = (uint32_t)(offset >> 32);
	memset(r->buf, 0xee, len);
	ut_submit(qp, r);
	CU_ASSERT_EQUAL(r->completions, 1);
	st = ut_status(r);
	memcpy(out, r->buf, len);
	ut_req_free(r);
	return st;
}

static bool padded(const char *field, size_t len, const char *text)
{
	size_t n = strlen(text);

	if (memcmp(field, text, n) != 0) {
		return false;
	}
	for (size_t i = n; i < len; i++) {
		if (field[i] != ' ') {
			return false;
		}
	}
	return true;
}

static void test_identify_ctrlr(void)
{
	struct ut_qpair *admin;
	struct nvmf_ctrlr *ctrlr;
	struct plx_nvme_ctrlr_data cd;

	ut_env_init();
	ctrlr = ut_admin_connect(&admin, 0);
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_CTRLR, 0, 0, &cd), 0);
	CU_ASSERT(padded(cd.sn, sizeof(cd.sn), "SN0001"));
	CU_ASSERT(padded(cd.mn, sizeof(cd.mn), "Pollux UT"));
	CU_ASSERT(padded(cd.fr, sizeof(cd.fr), NVMF_FIRMWARE_REV));
	CU_ASSERT_EQUAL(cd.cntlid, ctrlr->cntlid);
	CU_ASSERT_EQUAL(cd.ver, PLX_NVME_VERSION(1, 4, 0));
	CU_ASSERT_EQUAL(cd.cntrltype, 1);
	CU_ASSERT_EQUAL(cd.mdts, 5); /* 128 KiB in 4 KiB units */
	CU_ASSERT_EQUAL(cd.cmic, PLX_NVME_CMIC_MULTI_PORT | PLX_NVME_CMIC_MULTI_CTRLR |
				     PLX_NVME_CMIC_ANA_REPORTING);
	CU_ASSERT_EQUAL(cd.oaes, PLX_NVME_OAES_NS_ATTR | PLX_NVME_OAES_ANA_CHANGE);
	CU_ASSERT_EQUAL(cd.acl, NVMF_ABORT_COMMAND_LIMIT);
	CU_ASSERT_EQUAL(cd.aerl, NVMF_MAX_ASYNC_EVENTS - 1);
	CU_ASSERT_EQUAL(cd.elpe, NVMF_ERROR_LOG_ENTRIES - 1);
	CU_ASSERT_EQUAL(cd.lpa, PLX_NVME_LPA_EXTENDED_DATA | PLX_NVME_LPA_CMD_EFFECTS);
	CU_ASSERT_EQUAL(cd.kas, 10);
	CU_ASSERT_EQUAL(cd.anatt, NVMF_ANATT_SEC);
	CU_ASSERT(cd.anacap & PLX_NVME_ANACAP_INACCESSIBLE);
	CU_ASSERT_EQUAL(cd.anagrpmax, UT_MAX_NSID);
	CU_ASSERT_EQUAL(cd.nanagrpid, UT_MAX_NSID);
	CU_ASSERT_EQUAL(cd.sqes, 0x66);
	CU_ASSERT_EQUAL(cd.cqes, 0x44);
	CU_ASSERT_EQUAL(cd.maxcmd, UT_QD);
	CU_ASSERT_EQUAL(cd.nn, UT_MAX_NSID);
	CU_ASSERT_EQUAL(cd.oncs, PLX_NVME_ONCS_COMPARE | PLX_NVME_ONCS_DSM |
				     PLX_NVME_ONCS_WRITE_ZEROES | PLX_NVME_ONCS_RESERVATIONS);
	CU_ASSERT_EQUAL(cd.fuses, 1);
	CU_ASSERT_EQUAL(cd.sgls,
			PLX_NVME_SGLS_SUPPORTED | PLX_NVME_SGLS_OFFSET | PLX_NVME_SGLS_TRANSPORT);
	CU_ASSERT_STRING_EQUAL(cd.subnqn, UT_SUBNQN);
	CU_ASSERT_EQUAL(cd.ioccsz, (64 + 4096) / 16);
	CU_ASSERT_EQUAL(cd.iorcsz, 1);
	CU_ASSERT_EQUAL(cd.icdoff, 0);
	CU_ASSERT_EQUAL(cd.msdbd, 1);
	CU_ASSERT_EQUAL(cd.ctratt & 1, 1);

	/* Without ANA reporting, no ANA bits. */
	g_env->subsys.ana_reporting = false;
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_CTRLR, 0, 0, &cd), 0);
	CU_ASSERT_EQUAL(cd.cmic, PLX_NVME_CMIC_MULTI_PORT | PLX_NVME_CMIC_MULTI_CTRLR);
	CU_ASSERT_EQUAL(cd.oaes, PLX_NVME_OAES_NS_ATTR);
	CU_ASSERT_EQUAL(cd.anagrpmax, 0);
	ut_disconnect(admin);
	ut_qpair_release(admin);
	ut_env_fini();
}

static void test_identify_ns(void)
{
	struct ut_qpair *admin;
	struct plx_nvme_ns_data ns;
	uint32_t list[1024];
	uint8_t buf[4096];
	struct plx_nvme_ns_id_desc *d;

	ut_env_init();
	ut_admin_connect(&admin, 0);
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_NS, 1, 0, &ns), 0);
	CU_ASSERT_EQUAL(ns.nsze, UT_BLOCKS);
	CU_ASSERT_EQUAL(ns.ncap, UT_BLOCKS);
	CU_ASSERT_EQUAL(ns.nuse, UT_BLOCKS);
	CU_ASSERT_EQUAL(ns.nlbaf, 0);
	CU_ASSERT_EQUAL(ns.flbas, 0);
	CU_ASSERT_EQUAL(ns.lbaf[0].lbads, 9);
	CU_ASSERT_EQUAL(ns.nmic, 1);
	CU_ASSERT_EQUAL(ns.rescap & 0x7e, 0x7e);
	CU_ASSERT_EQUAL(ns.anagrpid, 1);
	CU_ASSERT_EQUAL(ns.noiob, 8);
	CU_ASSERT_EQUAL(memcmp(ns.eui64, "\x01\x02\x03\x04\x05\x06\x07\x08", 8), 0);
	CU_ASSERT_EQUAL(memcmp(ns.nguid, g_env->ns.uuid.u, 16), 0);

	/* Inactive: zeroes; out of range: Invalid Namespace. */
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_NS, 2, 0, &ns), 0);
	CU_ASSERT_EQUAL(ns.nsze, 0);
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_NS, UT_MAX_NSID + 1, 0, &ns),
			UT_SC(GEN, PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT));
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_NS, 0, 0, &ns),
			UT_SC(GEN, PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT));

	/* No-auto-visible namespaces need the controller's bit. */
	g_env->ns.no_auto_visible = true;
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_NS, 1, 0, &ns), 0);
	CU_ASSERT_EQUAL(ns.nsze, 0);
	plx_bit_array_set(admin->q.ctrlr->visible_ns, 0);
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_NS, 1, 0, &ns), 0);
	CU_ASSERT_EQUAL(ns.nsze, UT_BLOCKS);
	g_env->ns.no_auto_visible = false;

	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_ACTIVE_NS_LIST, 0, 0, list), 0);
	CU_ASSERT_EQUAL(list[0], 1);
	CU_ASSERT_EQUAL(list[1], 0);
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_ACTIVE_NS_LIST, 1, 0, list), 0);
	CU_ASSERT_EQUAL(list[0], 0);
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_ACTIVE_NS_LIST, 0xfffffffe, 0, list),
			UT_SC(GEN, PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT));

	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_NS_ID_DESCRIPTOR_LIST, 1, 0, buf), 0);
	d = (struct plx_nvme_ns_id_desc *)buf;
	CU_ASSERT_EQUAL(d->nidt, PLX_NVME_NIDT_EUI64);
	CU_ASSERT_EQUAL(d->nidl, 8);
	d = (struct plx_nvme_ns_id_desc *)(buf + 12);
	CU_ASSERT_EQUAL(d->nidt, PLX_NVME_NIDT_NGUID);
	CU_ASSERT_EQUAL(d->nidl, 16);
	d = (struct plx_nvme_ns_id_desc *)(buf + 32);
	CU_ASSERT_EQUAL(d->nidt, PLX_NVME_NIDT_UUID);
	CU_ASSERT_EQUAL(memcmp(d->nid, g_env->ns.uuid.u, 16), 0);
	d = (struct plx_nvme_ns_id_desc *)(buf + 52);
	CU_ASSERT_EQUAL(d->nidt, PLX_NVME_NIDT_CSI);
	CU_ASSERT_EQUAL(d->nidl, 1);
	CU_ASSERT_EQUAL(d->nid[0], PLX_NVME_CSI_NVM);
	CU_ASSERT_EQUAL(buf[57], 0);
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_NS_ID_DESCRIPTOR_LIST, 2, 0, buf),
			UT_SC(GEN, PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT));

	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_NS_IOCS, 1, PLX_NVME_CSI_NVM, buf), 0);
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_NS_IOCS, 1, PLX_NVME_CSI_ZNS, buf),
			UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_CTRLR_IOCS, 0, PLX_NVME_CSI_NVM, buf), 0);
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_CTRLR_IOCS, 0, PLX_NVME_CSI_KV, buf),
			UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));
	CU_ASSERT_EQUAL(identify(admin, PLX_NVME_IDENTIFY_IOCS, 0, 0, buf), 0);
	CU_ASSERT_EQUAL(buf[0], 1);
	CU_ASSERT_EQUAL(identify(admin, 0x55, 0, 0, buf), UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));
	ut_disconnect(admin);
	ut_qpair_release(admin);
	ut_env_fini();
}

static void test_log_pages(void)
{
	struct ut_qpair *admin;
	static uint8_t buf[8192];
	struct plx_nvme_cmds_and_effect_log_page *ep = (void *)buf;
	struct plx_nvme_firmware_page *fw = (void *)buf;
	struct plx_nvme_health_information_page *hp = (void *)buf;
	struct plx_nvme_ana_page *ana = (void *)buf;
	struct plx_nvme_ana_group_descriptor *gd = (void *)(buf + sizeof(*ana));
	uint32_t dw;

	ut_env_init();
	ut_admin_connect(&admin, 0);

	/* Larger than the page: the rest reads as zero. */
	CU_ASSERT_EQUAL(get_log(admin, PLX_NVME_LOG_COMMAND_EFFECTS, 0, 0, buf, 8192), 0);
	CU_ASSERT_EQUAL(ep->admin_cmds_supported[PLX_NVME_OPC_IDENTIFY], PLX_NVME_CMD_EFFECT_CSUPP);
	CU_ASSERT_EQUAL(ep->admin_cmds_supported[PLX_NVME_OPC_FORMAT_NVM], 0);
	CU_ASSERT_EQUAL(ep->io_cmds_supported[PLX_NVME_OPC_WRITE],
			PLX_NVME_CMD_EFFECT_CSUPP | PLX_NVME_CMD_EFFECT_LBCC);
	CU_ASSERT_EQUAL(buf[4096], 0);
	CU_ASSERT_EQUAL(buf[8191], 0);
	/* An offset inside the page. */
	CU_ASSERT_EQUAL(get_log(admin, PLX_NVME_LOG_COMMAND_EFFECTS, 0, 1024 + 4, &dw, 4), 0);
	CU_ASSERT_EQUAL(dw, PLX_NVME_CMD_EFFECT_CSUPP | PLX_NVME_CMD_EFFECT_LBCC); /* write */
	CU_ASSERT_EQUAL(get_log(admin, PLX_NVME_LOG_COMMAND_EFFECTS, 0, 1ull << 40, &dw, 4), 0);
	CU_ASSERT_EQUAL(dw, 0);
	CU_ASSERT_EQUAL(get_log(admin, PLX_NVME_LOG_COMMAND_EFFECTS, 0, 2, &dw, 4),
			UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));

	CU_ASSERT_EQUAL(get_log(admin, PLX_NVME_LOG_FIRMWARE_SLOT, 0, 0, buf, 512), 0);
	CU_ASSERT_EQUAL(fw->afi, 1);
	CU_ASSERT(padded(fw->revision[0], 8, NVMF_FIRMWARE_REV));

	CU_ASSERT_EQUAL(get_log(admin, PLX_NVME_LOG_HEALTH_INFORMATION, 0, 0, buf, 512), 0);
	CU_ASSERT_EQUAL(hp->temperature[0] | hp->temperature[1] << 8, 323);
	CU_ASSERT_EQUAL(hp->available_spare, 100);

	CU_ASSERT_EQUAL(get_log(admin, PLX_NVME_LOG_ERROR, 0, 0, buf, 64), 0);
	CU_ASSERT_EQUAL(get_log(admin, PLX_NVME_LOG_SUPPORTED_LOG_PAGES, 0, 0, buf, 1024), 0);
	CU_ASSERT_EQUAL(((uint32_t *)buf)[PLX_NVME_LOG_ASYMMETRIC_NAMESPACE_ACCESS], 1);

	/* ANA: one group with namespace 1, its state through the controller's listener. */
	CU_ASSERT_EQUAL(get_log(admin, PLX_NVME_LOG_ASYMMETRIC_NAMESPACE_ACCESS, 0, 0, buf, 4096),
			0);
	CU_ASSERT_EQUAL(ana->num_ana_group_desc, 1);
	CU_ASSERT_EQUAL(gd->ana_group_id, 1);
	CU_ASSERT_EQUAL(gd->num_of_nsid, 1);
	CU_ASSERT_EQUAL(gd->ana_state, PLX_NVME_ANA_OPTIMIZED_STATE);
	CU_ASSERT_EQUAL(gd->nsid[0], 1);
	CU_ASSERT_EQUAL(buf[sizeof(*ana) + sizeof(*gd) + 4], 0);
	g_env->ana[0] = PLX_NVME_ANA_INACCESSIBLE_STATE;
	g_env->subsys.ana_change_count = 7;
	CU_ASSERT_EQUAL(get_log(admin, PLX_NVME_LOG_ASYMMETRIC_NAMESPACE_ACCESS,
				PLX_NVME_ANA_LSP_RGO, 0, buf, 4096),
			0);
	CU_ASSERT_EQUAL(ana->change_count, 7);
	CU_ASSERT_EQUAL(gd->ana_state, PLX_NVME_ANA_INACCESSIBLE_STATE);
	CU_ASSERT_EQUAL(gd->num_of_nsid, 0);
	CU_ASSERT_EQUAL(gd->change_count, 7);

	CU_ASSERT_EQUAL(get_log(admin, 0x42, 0, 0, buf, 512),
			UT_SC(CSPEC, PLX_NVME_SC_INVALID_LOG_PAGE));
	CU_ASSERT_EQUAL(get_log(admin, PLX_NVME_LOG_DISCOVERY, 0, 0, buf, 1024),
			UT_SC(CSPEC, PLX_NVME_SC_INVALID_LOG_PAGE));
	ut_disconnect(admin);
	ut_qpair_release(admin);
	ut_env_fini();
}

static void test_features(void)
{
	struct ut_qpair *admin;
	struct nvmf_ctrlr *ctrlr;
	struct ut_req *r;
	uint32_t cdw0;

	ut_env_init();
	ctrlr = ut_admin_connect(&admin, 0);
	CU_ASSERT_EQUAL(
	    ut_run(admin, PLX_NVME_OPC_GET_FEATURES, 0, PLX_NVME_FEAT_NUMBER_OF_QUEUES, 0, &cdw0),
	    0);
	CU_ASSERT_EQUAL(cdw0, (UT_MAX_QPAIRS - 2) | (UT_MAX_QPAIRS - 2) << 16);
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_SET_FEATURES, 0, PLX_NVME_FEAT_NUMBER_OF_QUEUES,
			       0x003f003f, &cdw0),
			0);
	CU_ASSERT_EQUAL(cdw0, (UT_MAX_QPAIRS - 2) | (UT_MAX_QPAIRS - 2) << 16);
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_SET_FEATURES, 0,
			       PLX_NVME_FEAT_ARBITRATION | 1u << 31, 0, NULL),
			UT_SC(CSPEC, PLX_NVME_SC_FEATURE_ID_NOT_SAVEABLE));
	CU_ASSERT_EQUAL(
	    ut_run(admin, PLX_NVME_OPC_SET_FEATURES, 0, PLX_NVME_FEAT_ARBITRATION, 0x3, NULL), 0);
	CU_ASSERT_EQUAL(
	    ut_run(admin, PLX_NVME_OPC_GET_FEATURES, 0, PLX_NVME_FEAT_ARBITRATION, 0, &cdw0), 0);
	CU_ASSERT_EQUAL(cdw0, 3);
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_GET_FEATURES, 0,
			       PLX_NVME_FEAT_TEMPERATURE_THRESHOLD, 0, &cdw0),
			0);
	CU_ASSERT_EQUAL(cdw0, 343);
	CU_ASSERT_EQUAL(
	    ut_run(admin, PLX_NVME_OPC_SET_FEATURES, 0, PLX_NVME_FEAT_POWER_MANAGEMENT, 1, NULL),
	    UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_GET_FEATURES, 0, 0x7e, 0, NULL),
			UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));

	/* Keep alive timer: rounded to KAS. */
	CU_ASSERT_EQUAL(
	    ut_run(admin, PLX_NVME_OPC_SET_FEATURES, 0, PLX_NVME_FEAT_KEEP_ALIVE_TIMER, 2500, NULL),
	    0);
	CU_ASSERT_EQUAL(
	    ut_run(admin, PLX_NVME_OPC_GET_FEATURES, 0, PLX_NVME_FEAT_KEEP_ALIVE_TIMER, 0, &cdw0),
	    0);
	CU_ASSERT_EQUAL(cdw0, 3000);
	CU_ASSERT_EQUAL(ctrlr->kato_ms, 3000);

	/* Host identifier: the 16 bytes from Connect; never set over fabrics. */
	r = ut_req_new(admin, PLX_NVME_OPC_GET_FEATURES, 16);
	r->cmd.cdw10 = PLX_NVME_FEAT_HOST_IDENTIFIER;
	r->cmd.cdw11 = 1;
	ut_submit(admin, r);
	CU_ASSERT_EQUAL(ut_status(r), 0);
	CU_ASSERT_EQUAL(r->buf[0], 0xab);
	CU_ASSERT_EQUAL(r->buf[15], 0xab);
	ut_req_free(r);
	CU_ASSERT_EQUAL(
	    ut_run(admin, PLX_NVME_OPC_GET_FEATURES, 0, PLX_NVME_FEAT_HOST_IDENTIFIER, 0, NULL),
	    UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));
	CU_ASSERT_EQUAL(
	    ut_run(admin, PLX_NVME_OPC_SET_FEATURES, 0, PLX_NVME_FEAT_HOST_IDENTIFIER, 1, NULL),
	    UT_SC(GEN, PLX_NVME_SC_COMMAND_SEQUENCE_ERROR));

	/* Reservation notification mask and persistence, per namespace. */
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_SET_FEATURES, 0xffffffff,
			       PLX_NVME_FEAT_HOST_RESERVE_MASK, PLX_NVME_RESV_MASK_RESPRE, NULL),
			0);
	CU_ASSERT_EQUAL(
	    ut_run(admin, PLX_NVME_OPC_GET_FEATURES, 1, PLX_NVME_FEAT_HOST_RESERVE_MASK, 0, &cdw0),
	    0);
	CU_ASSERT_EQUAL(cdw0, PLX_NVME_RESV_MASK_RESPRE);
	CU_ASSERT_EQUAL(
	    ut_run(admin, PLX_NVME_OPC_GET_FEATURES, 2, PLX_NVME_FEAT_HOST_RESERVE_MASK, 0, NULL),
	    UT_SC(GEN, PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT));
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_GET_FEATURES, 1,
			       PLX_NVME_FEAT_HOST_RESERVE_MASK | PLX_NVME_FEAT_SEL_SUPPORTED << 8,
			       0, &cdw0),
			0);
	CU_ASSERT_EQUAL(cdw0, 0x6); /* changeable, namespace specific */
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_GET_FEATURES, 1,
			       PLX_NVME_FEAT_HOST_RESERVE_PERSIST, 0, &cdw0),
			0);
	CU_ASSERT_EQUAL(cdw0, 0);
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_SET_FEATURES, 1,
			       PLX_NVME_FEAT_HOST_RESERVE_PERSIST, 1, NULL),
			UT_SC(CSPEC, PLX_NVME_SC_FEATURE_NOT_CHANGEABLE));
	snprintf(g_env->ns.ptpl_file, sizeof(g_env->ns.ptpl_file), "/tmp/ut.ptpl");
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_SET_FEATURES, 1,
			       PLX_NVME_FEAT_HOST_RESERVE_PERSIST, 1, NULL),
			0);
	CU_ASSERT(g_env->ns.resv.ptpl_activated);
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_GET_FEATURES, 1,
			       PLX_NVME_FEAT_HOST_RESERVE_PERSIST, 0, &cdw0),
			0);
	CU_ASSERT_EQUAL(cdw0, 1);
	g_env->ns.resv.ptpl_activated = false;

	/* Unknown admin opcode; Keep Alive. */
	CU_ASSERT_EQUAL(ut_run(admin, 0xc0, 0, 0, 0, NULL), UT_SC(GEN, PLX_NVME_SC_INVALID_OPCODE));
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_KEEP_ALIVE, 0, 0, 0, NULL), 0);
	ut_disconnect(admin);
	ut_qpair_release(admin);
	ut_env_fini();
}

static void test_abort(void)
{
	struct ut_qpair *admin, *io;
	struct nvmf_ctrlr *ctrlr;
	struct ut_req *aer, *first;
	uint32_t cdw0;

	ut_env_init();
	ctrlr = ut_admin_connect(&admin, 0);
	io = ut_io_connect(ctrlr, 0, 1); /* same poll group: reachable from Abort */

	aer = ut_req_new(admin, PLX_NVME_OPC_ASYNC_EVENT_REQUEST, 0);
	aer->cmd.cid = 42;
	ut_submit(admin, aer);
	CU_ASSERT_EQUAL(aer->completions, 0);
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_ABORT, 0, 0 | 42u << 16, 0, &cdw0), 0);
	CU_ASSERT_EQUAL(cdw0, 0);
	CU_ASSERT_EQUAL(aer->completions, 1);
	CU_ASSERT_EQUAL(ut_status(aer), UT_SC(GEN, PLX_NVME_SC_ABORTED_BY_REQUEST));
	CU_ASSERT_EQUAL(ctrlr->num_aer, 0);

	/* Nothing with that cid: not aborted. */
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_ABORT, 0, 0 | 43u << 16, 0, &cdw0), 0);
	CU_ASSERT_EQUAL(cdw0, 1);
	/* The transport holds it. */
	ut_abort_cid = 77;
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_ABORT, 0, 1 | 77u << 16, 0, &cdw0), 0);
	CU_ASSERT_EQUAL(cdw0, 0);
	ut_abort_cid = -1;

	/* A fused FIRST waiting for its SECOND. */
	first = ut_req_new(io, PLX_NVME_OPC_COMPARE, UT_BS);
	first->cmd.cid = 9;
	first->cmd.fuse = PLX_NVME_FUSE_FIRST;
	first->cmd.nsid = 1;
	ut_submit(io, first);
	CU_ASSERT_EQUAL(first->completions, 0);
	CU_ASSERT_EQUAL(ut_run(admin, PLX_NVME_OPC_ABORT, 0, 1 | 9u << 16, 0, &cdw0), 0);
	CU_ASSERT_EQUAL(cdw0, 0);
	CU_ASSERT_EQUAL(first->completions, 1);
	CU_ASSERT_EQUAL(ut_status(first), UT_SC(GEN, PLX_NVME_SC_ABORTED_BY_REQUEST));

	ut_disconnect(admin);
	CU_ASSERT(io->freed);
	ut_req_free(aer);
	ut_req_free(first);
	ut_qpair_release(admin);
	ut_qpair_release(io);
	ut_env_fini();
}

static char *unpad(char *dst, const char *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
	for (size_t i = len; i > 0 && dst[i - 1] == ' '; i--) {
		dst[i - 1] = '\0';
	}
	return dst;
}

static void test_discovery(void)
{
	struct ut_qpair *dq;
	struct plx_nvme_ctrlr_data cd;
	static uint8_t buf[8192];
	struct plx_nvmf_discovery_log_page *page = (void *)buf;
	struct nvmf_referral ref;
	struct ut_req *aer;
	char s[260];

	ut_env_init();
	dq = ut_qpair_new(1);
	CU_ASSERT_EQUAL(ut_connect(dq, 0, 31, 0xffff, UT_HOSTNQN, PLX_NVMF_DISCOVERY_NQN, 0, NULL),
			0);
	CU_ASSERT_EQUAL(ut_prop(dq, true, PLX_NVME_REG_CC, 0, UT_CC_ENABLE, NULL), 0);
	CU_ASSERT_EQUAL(identify(dq, PLX_NVME_IDENTIFY_CTRLR, 0, 0, &cd), 0);
	CU_ASSERT_EQUAL(cd.cntrltype, 2);
	CU_ASSERT_EQUAL(cd.ver, PLX_NVME_VERSION(1, 3, 0));
	CU_ASSERT_EQUAL(cd.oaes, PLX_NVME_OAES_DISCOVERY_LOG_CHANGE);
	CU_ASSERT_STRING_EQUAL(cd.subnqn, PLX_NVMF_DISCOVERY_NQN);
	CU_ASSERT_EQUAL(identify(dq, PLX_NVME_IDENTIFY_NS, 1, 0, &cd),
			UT_SC(GEN, PLX_NVME_SC_INVALID_FIELD));
	CU_ASSERT_EQUAL(get_log(dq, PLX_NVME_LOG_HEALTH_INFORMATION, 0, 0, buf, 512),
			UT_SC(CSPEC, PLX_NVME_SC_INVALID_LOG_PAGE));

	CU_ASSERT_EQUAL(get_log(dq, PLX_NVME_LOG_DISCOVERY, 0, 0, buf, 4096), 0);
	CU_ASSERT_EQUAL(page->genctr, 1);
	CU_ASSERT_EQUAL(page->numrec, 2);
	CU_ASSERT_EQUAL(page->entries[0].subtype, PLX_NVMF_SUBTYPE_DISCOVERY_CURRENT);
	CU_ASSERT_STRING_EQUAL(page->entries[0].subnqn, PLX_NVMF_DISCOVERY_NQN);
	CU_ASSERT_EQUAL(page->entries[1].subtype, PLX_NVMF_SUBTYPE_NVME);
	CU_ASSERT_EQUAL(page->entries[1].trtype, PLX_NVMF_TRTYPE_TCP);
	CU_ASSERT_EQUAL(page->entries[1].adrfam, PLX_NVMF_ADRFAM_IPV4);
	CU_ASSERT_EQUAL(page->entries[1].portid, 1);
	CU_ASSERT_EQUAL(page->entries[1].cntlid, 0xffff);
	CU_ASSERT_EQUAL(page->entries[1].asqsz, 32);
	CU_ASSERT_EQUAL(page->entries[1].tsas[0], 0x5a);
	CU_ASSERT_STRING_EQUAL(page->entries[1].subnqn, UT_SUBNQN);
	CU_ASSERT(padded(page->entries[1].trsvcid, 32, "4420"));
	CU_ASSERT(padded(page->entries[1].traddr, 256, "127.0.0.1"));
	CU_ASSERT_STRING_EQUAL(unpad(s, page->entries[1].traddr, 256), "127.0.0.1");
	CU_ASSERT_EQUAL(buf[3072], 0);

	/* A piece at an offset: the second entry alone. */
	CU_ASSERT_EQUAL(get_log(dq, PLX_NVME_LOG_DISCOVERY, 0, 2048, buf, 1024), 0);
	CU_ASSERT_STRING_EQUAL(((struct plx_nvmf_discovery_log_page_entry *)buf)->subnqn,
			       UT_SUBNQN);

	/* A referral, and the change announced to a host that asked for it. */
	CU_ASSERT_EQUAL(ut_run(dq, PLX_NVME_OPC_SET_FEATURES, 0,
			       PLX_NVME_FEAT_ASYNC_EVENT_CONFIGURATION,
			       PLX_NVME_AEC_DISCOVERY_LOG_CHANGE, NULL),
			0);
	aer = ut_req_new(dq, PLX_NVME_OPC_ASYNC_EVENT_REQUEST, 0);
	ut_submit(dq, aer);
	memset(&ref, 0, sizeof(ref));
	ut_trid(&ref.trid, "10.0.0.2", "8009");
	TAILQ_INSERT_TAIL(&g_env->tgt.referrals, &ref, link);
	ut_set_thread(0);
	nvmf_tgt_discovery_changed(&g_env->tgt);
	ut_poll_threads();
	CU_ASSERT_EQUAL(aer->completions, 1);
	CU_ASSERT_EQUAL(aer->rsp.cdw0, 0x70f002u);
	ut_req_free(aer);
	CU_ASSERT_EQUAL(get_log(dq, PLX_NVME_LOG_DISCOVERY, 0, 0, buf, 4096), 0);
	CU_ASSERT_EQUAL(page->genctr, 2);
	CU_ASSERT_EQUAL(page->numrec, 3);
	CU_ASSERT_EQUAL(page->entries[2].subtype, PLX_NVMF_SUBTYPE_DISCOVERY);
	CU_ASSERT(padded(page->entries[2].traddr, 256, "10.0.0.2"));
	CU_ASSERT_EQUAL(dq->q.ctrlr->disc_genctr_seen, 2);

	/* The filter: only entries on the address the host came through. */
	g_env->tgt.conf.discovery_filter = 2; /* address */
	snprintf(dq->q.listen_trid.traddr, sizeof(dq->q.listen_trid.traddr), "10.9.9.9");
	CU_ASSERT_EQUAL(get_log(dq, PLX_NVME_LOG_DISCOVERY, 0, 0, buf, 4096), 0);
	CU_ASSERT_EQUAL(page->numrec, 1); /* the referral only */
	g_env->tgt.conf.discovery_filter = 0;
	TAILQ_REMOVE(&g_env->tgt.referrals, &ref, link);
	ut_disconnect(dq);
	ut_qpair_release(dq);

	/* A host the subsystem does not allow sees only the discovery entry. */
	dq = ut_qpair_new(0);
	CU_ASSERT_EQUAL(ut_connect(dq, 0, 31, 0xffff, UT_HOSTNQN2, PLX_NVMF_DISCOVERY_NQN, 0, NULL),
			0);
	CU_ASSERT_EQUAL(get_log(dq, PLX_NVME_LOG_DISCOVERY, 0, 0, buf, 4096), 0);
	CU_ASSERT_EQUAL(page->numrec, 1);
	ut_disconnect(dq);
	ut_qpair_release(dq);
	ut_env_fini();
}

static const struct plx_ut_case cases[] = {
    {"identify_ctrlr", test_identify_ctrlr},
    {"identify_ns", test_identify_ns},
    {"log_pages", test_log_pages},
    {"features", test_features},
    {"abort", test_abort},
    {"discovery", test_discovery},
};

PLX_UT_MAIN("nvmf_ctrlr_admin", cases)
