/* SPDX-License-Identifier: BSD-3-Clause */
/* Transport addresses, ANA state names and NQN validation (include/pollux/nvmf.h). */
#include <errno.h>
#include <string.h>

#include "pollux/nvmf.h"
#include "ut.h"

static void test_trid_parse(void)
{
	struct plx_nvme_trid a, b;
	char err[PLX_NVMF_ERR_LEN];

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
	char err[PLX_NVMF_ERR_LEN];

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

static const struct plx_ut_case cases[] = {
    {"trid_parse", test_trid_parse},
    {"trid_errors_name_the_field", test_trid_errors_name_the_field},
    {"ana_names", test_ana_names},
    {"nqn_validation", test_nqn_validation},
};
PLX_UT_MAIN("nvmf_trid", cases)
