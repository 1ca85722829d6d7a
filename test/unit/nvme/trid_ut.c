/* SPDX-License-Identifier: BSD-3-Clause */
/* Transport addresses, ANA state names and NQN validation (include/pollux/nvme.h). */
#include <errno.h>
#include <string.h>

#include "pollux/nvme.h"
#include "ut.h"

static void test_trid_parse(void)
{
	struct plx_nvme_trid a, b;
	char err[PLX_NVME_ERR_LEN];

	CU_ASSERT_EQUAL(plx_nvme_trid_from_strings(&a, "tcp", "ipv4", "127.0.0.1", "4420", err), 0);
	CU_ASSERT_EQUAL(a.trtype, PLX_NVMF_TRTYPE_TCP);
	CU_ASSERT_EQUAL(a.adrfam, PLX_NVMF_ADRFAM_IPV4);
	CU_ASSERT_STRING_EQUAL(a.trstring, "TCP");
	CU_ASSERT_STRING_EQUAL(a.traddr, "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(a.trsvcid, "4420");

	/* Family guessed from the address when absent; names are case-insensitive. */
	CU_ASSERT_EQUAL(plx_nvme_trid_from_strings(&b, "TCP", NULL, "::1", "4420", err), 0);
	CU_ASSERT_EQUAL(b.adrfam, PLX_NVMF_ADRFAM_IPV6);
	CU_ASSERT_FALSE(plx_nvme_trid_equal(&a, &b));
	CU_ASSERT_EQUAL(plx_nvme_trid_from_strings(&b, "TCP", "IPv4", "127.0.0.1", "4420", err), 0);
	CU_ASSERT_TRUE(plx_nvme_trid_equal(&a, &b));
	CU_ASSERT_EQUAL(plx_nvme_trid_from_strings(&b, "TCP", "IPv4", "127.0.0.1", "4421", err), 0);
	CU_ASSERT_FALSE(plx_nvme_trid_equal(&a, &b));
}

static void test_trid_errors_name_the_field(void)
{
	struct plx_nvme_trid t;
	char err[PLX_NVME_ERR_LEN];

	CU_ASSERT_EQUAL(plx_nvme_trid_from_strings(&t, "carrier-pigeon", NULL, "x", "1", err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "trtype"));
	CU_ASSERT_EQUAL(plx_nvme_trid_from_strings(&t, "tcp", "ipx", "127.0.0.1", "1", err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "adrfam"));
	CU_ASSERT_EQUAL(plx_nvme_trid_from_strings(&t, "tcp", NULL, "127.0.0.1", "70000", err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "trsvcid"));
	CU_ASSERT_EQUAL(plx_nvme_trid_from_strings(&t, "tcp", NULL, "127.0.0.1", NULL, err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "trsvcid"));
	CU_ASSERT_EQUAL(plx_nvme_trid_from_strings(&t, "tcp", NULL, "", "4420", err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "traddr"));
	CU_ASSERT_EQUAL(plx_nvme_trid_from_strings(&t, "tcp", "IB", "127.0.0.1", "4420", err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "adrfam"));
}

static void test_ana_names(void)
{
	enum plx_nvme_ana_state s;

	CU_ASSERT_STRING_EQUAL(plx_nvme_ana_state_str(PLX_NVME_ANA_OPTIMIZED_STATE), "optimized");
	CU_ASSERT_STRING_EQUAL(plx_nvme_ana_state_str(PLX_NVME_ANA_INACCESSIBLE_STATE),
			       "inaccessible");
	CU_ASSERT_EQUAL(plx_nvme_ana_state_from_str("non_optimized", &s), 0);
	CU_ASSERT_EQUAL(s, PLX_NVME_ANA_NON_OPTIMIZED_STATE);
	CU_ASSERT_EQUAL(plx_nvme_ana_state_from_str("sleepy", &s), -EINVAL);
	CU_ASSERT_STRING_EQUAL(plx_nvme_ana_state_str((enum plx_nvme_ana_state)9), "unknown");
}

static void test_nqn_validation(void)
{
	CU_ASSERT_TRUE(plx_nvmf_nqn_is_valid("nqn.2016-06.io.spdk:cnode1"));
	CU_ASSERT_TRUE(plx_nvmf_nqn_is_valid(PLX_NVMF_DISCOVERY_NQN));
	CU_ASSERT_TRUE(plx_nvmf_nqn_is_valid(
	    "nqn.2014-08.org.nvmexpress:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"));
	CU_ASSERT_FALSE(plx_nvmf_nqn_is_valid("nqn.2014-08.org.nvmexpress:uuid:short"));
	CU_ASSERT_FALSE(plx_nvmf_nqn_is_valid("iqn.2016-06.io.spdk:cnode1"));
	CU_ASSERT_FALSE(plx_nvmf_nqn_is_valid("nqn.16-06.io.spdk:x"));
	CU_ASSERT_FALSE(plx_nvmf_nqn_is_valid("nqn.2016-06"));
	CU_ASSERT_FALSE(plx_nvmf_nqn_is_valid("nqn.2016-06.io.spdk:\x01"));
	char longnqn[300];
	memset(longnqn, 'a', sizeof(longnqn));
	memcpy(longnqn, "nqn.2016-06.io.x:", 17);
	longnqn[224] = '\0';
	CU_ASSERT_FALSE(plx_nvmf_nqn_is_valid(longnqn));
	longnqn[223] = '\0';
	CU_ASSERT_TRUE(plx_nvmf_nqn_is_valid(longnqn));
}

static void test_trid_parse_string(void)
{
	struct plx_nvme_trid t;
	char err[PLX_NVME_ERR_LEN];

	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t,
					    "trtype:tcp adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 "
					    "subnqn:nqn.2016-06.io.spdk:cnode1",
					    err),
			0);
	CU_ASSERT_EQUAL(t.trtype, PLX_NVMF_TRTYPE_TCP);
	CU_ASSERT_STRING_EQUAL(t.trstring, "TCP");
	CU_ASSERT_EQUAL(t.adrfam, PLX_NVMF_ADRFAM_IPV4);
	CU_ASSERT_STRING_EQUAL(t.traddr, "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(t.trsvcid, "4420");
	CU_ASSERT_STRING_EQUAL(t.subnqn, "nqn.2016-06.io.spdk:cnode1");

	/* Keys in any case, '=' for ':', extra blanks, family from the address. */
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "  TrType=TCP\ttraddr=::1   TRSVCID:4421 ", err),
			0);
	CU_ASSERT_EQUAL(t.trtype, PLX_NVMF_TRTYPE_TCP);
	CU_ASSERT_EQUAL(t.adrfam, PLX_NVMF_ADRFAM_IPV6);
	CU_ASSERT_STRING_EQUAL(t.traddr, "::1");
	CU_ASSERT_STRING_EQUAL(t.trsvcid, "4421");
	CU_ASSERT_STRING_EQUAL(t.subnqn, "");

	/* PCIe: the address keeps its colons, and gains its domain when it has none. */
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "trtype:PCIe traddr:0000:00:04.0", err), 0);
	CU_ASSERT_EQUAL(t.trtype, PLX_NVME_TRTYPE_PCIE);
	CU_ASSERT_STRING_EQUAL(t.trstring, "PCIe");
	CU_ASSERT_STRING_EQUAL(t.traddr, "0000:00:04.0");
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "trtype:pcie traddr:0A:1f.7", err), 0);
	CU_ASSERT_STRING_EQUAL(t.traddr, "0000:0a:1f.7");
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "trtype:pcie", err), 0); /* every controller */
	CU_ASSERT_STRING_EQUAL(t.traddr, "");

	/* Keys SPDK's tools add for themselves are tolerated. */
	CU_ASSERT_EQUAL(
	    plx_nvme_trid_parse(&t, "trtype:tcp traddr:10.0.0.1 trsvcid:4420 ns:1", err), 0);
}

static void test_trid_parse_errors_name_the_key(void)
{
	struct plx_nvme_trid t;
	char err[PLX_NVME_ERR_LEN];

	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "trtype:pigeon traddr:x", err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "trtype"));
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "traddr:127.0.0.1 trsvcid:4420", err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "trtype"));
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "trtype:tcp trsvcid:4420", err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "traddr"));
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "trtype:tcp traddr:1.2.3.4 trsvcid:99999", err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "trsvcid"));
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "trtype:tcp adrfam:ipx traddr:1.2.3.4", err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "adrfam"));
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "trtype:tcp traddr:1.2.3.4 colour:blue", err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "colour"));
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "trtype:tcp traddr", err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "traddr"));
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "trtype:tcp traddr:", err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "traddr"));
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "trtype:pcie traddr:00:04", err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "traddr"));
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, "", err), -EINVAL);
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, NULL, err), -EINVAL);

	char longval[400];
	memset(longval, 'a', sizeof(longval));
	memcpy(longval, "trtype:tcp traddr:1.2.3.4 subnqn:", 33);
	longval[sizeof(longval) - 1] = '\0';
	CU_ASSERT_EQUAL(plx_nvme_trid_parse(&t, longval, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "subnqn"));
}

static const struct plx_ut_case cases[] = {
    {"trid_parse", test_trid_parse},
    {"trid_errors_name_the_field", test_trid_errors_name_the_field},
    {"ana_names", test_ana_names},
    {"nqn_validation", test_nqn_validation},
    {"trid_parse_string", test_trid_parse_string},
    {"trid_parse_errors_name_the_key", test_trid_parse_errors_name_the_key},
};
PLX_UT_MAIN("nvme_trid", cases)
