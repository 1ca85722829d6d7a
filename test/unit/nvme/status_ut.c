/* SPDX-License-Identifier: BSD-3-Clause */
/* Status names and the retry policy table (lib/nvme/nvme_status.c). */
#include <stdio.h>
#include <string.h>

#include "../../../lib/nvme/nvme_core.h"
#include "ut.h"

static struct plx_nvme_status st(uint8_t sct, uint8_t sc)
{
	return (struct plx_nvme_status){.sct = sct, .sc = sc};
}

static const char *name(uint8_t sct, uint8_t sc)
{
	struct plx_nvme_status s = st(sct, sc);

	return plx_nvme_status_string(&s);
}

static void test_names(void)
{
	CU_ASSERT_STRING_EQUAL(name(0, PLX_NVME_SC_SUCCESS), "SUCCESS");
	CU_ASSERT_STRING_EQUAL(name(0, PLX_NVME_SC_INVALID_FIELD), "INVALID FIELD");
	CU_ASSERT_STRING_EQUAL(name(0, PLX_NVME_SC_LBA_OUT_OF_RANGE), "LBA OUT OF RANGE");
	CU_ASSERT_STRING_EQUAL(name(0, PLX_NVME_SC_ABORTED_SQ_DELETION), "ABORTED - SQ DELETION");
	CU_ASSERT_STRING_EQUAL(name(1, PLX_NVMF_SC_INVALID_HOST), "INVALID HOST");
	CU_ASSERT_STRING_EQUAL(name(1, PLX_NVME_SC_INVALID_LOG_PAGE), "INVALID LOG PAGE");
	CU_ASSERT_STRING_EQUAL(name(2, PLX_NVME_SC_COMPARE_FAILURE), "COMPARE FAILURE");
	CU_ASSERT_STRING_EQUAL(name(3, PLX_NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE),
			       "ASYMMETRIC ACCESS INACCESSIBLE");
	/* Codes NVM and fabrics commands share: both meanings without the opcode ... */
	CU_ASSERT_STRING_EQUAL(name(1, 0x82),
			       "ATTEMPTED WRITE TO READ ONLY RANGE / INVALID PARAMETERS");
	/* ... and the right one with it. */
	struct plx_nvme_status s = st(1, 0x82);
	CU_ASSERT_STRING_EQUAL(nvme_status_string_opc(PLX_NVME_OPC_FABRIC, &s),
			       "INVALID PARAMETERS");
	CU_ASSERT_STRING_EQUAL(nvme_status_string_opc(PLX_NVME_OPC_WRITE, &s),
			       "ATTEMPTED WRITE TO READ ONLY RANGE / INVALID PARAMETERS");
	s = st(1, PLX_NVMF_SC_CONTROLLER_BUSY);
	CU_ASSERT_STRING_EQUAL(nvme_status_string_opc(PLX_NVME_OPC_FABRIC, &s), "CONTROLLER BUSY");
	/* DNR, More and the phase bit do not change the name. */
	s = st(0, PLX_NVME_SC_INVALID_OPCODE);
	s.dnr = 1;
	s.m = 1;
	s.p = 1;
	CU_ASSERT_STRING_EQUAL(plx_nvme_status_string(&s), "INVALID OPCODE");
}

static void test_unknown(void)
{
	CU_ASSERT_STRING_EQUAL(name(0, 0x7f), "UNKNOWN (sct 0 sc 0x7f)");
	CU_ASSERT_STRING_EQUAL(name(7, 0x01), "UNKNOWN (sct 7 sc 0x01)");
	CU_ASSERT_STRING_EQUAL(name(5, 0xc3), "UNKNOWN (sct 5 sc 0xc3)");
	CU_ASSERT_STRING_EQUAL(name(2, 0x00), "UNKNOWN (sct 2 sc 0x00)");
}

/* Every code nvme_spec.h defines has a name. */
static void test_every_spec_code_named(void)
{
	static const uint8_t generic[] = {
	    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
	    0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x18, 0x19, 0x1a,
	    0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x80, 0x81, 0x82, 0x83, 0x84};
	static const uint8_t cmd_specific[] = {0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0x08, 0x09,
					       0x0a, 0x0c, 0x0d, 0x0e, 0x0f, 0x16, 0x18, 0x1a, 0x80,
					       0x81, 0x82, 0x83, 0x84, 0x85, 0x90, 0x91};
	static const uint8_t media[] = {0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87};
	static const uint8_t path[] = {0x00, 0x01, 0x02, 0x03, 0x60, 0x70, 0x71};
	const struct {
		uint8_t sct;
		const uint8_t *codes;
		size_t n;
	} sets[] = {{0, generic, sizeof(generic)},
		    {1, cmd_specific, sizeof(cmd_specific)},
		    {2, media, sizeof(media)},
		    {3, path, sizeof(path)}};

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		for (size_t j = 0; j < sets[i].n; j++) {
			const char *n = name(sets[i].sct, sets[i].codes[j]);

			if (strncmp(n, "UNKNOWN", 7) == 0) {
				fprintf(stderr, "unnamed: sct %u sc 0x%02x\n", sets[i].sct,
					sets[i].codes[j]);
			}
			CU_ASSERT_NOT_EQUAL(strncmp(n, "UNKNOWN", 7), 0);
		}
	}
}

static void test_sct_names(void)
{
	CU_ASSERT_STRING_EQUAL(plx_nvme_sct_string(0), "GENERIC");
	CU_ASSERT_STRING_EQUAL(plx_nvme_sct_string(1), "COMMAND SPECIFIC");
	CU_ASSERT_STRING_EQUAL(plx_nvme_sct_string(2), "MEDIA ERROR");
	CU_ASSERT_STRING_EQUAL(plx_nvme_sct_string(3), "PATH");
	CU_ASSERT_STRING_EQUAL(plx_nvme_sct_string(7), "VENDOR SPECIFIC");
	CU_ASSERT_STRING_EQUAL(plx_nvme_sct_string(5), "RESERVED");
}

static void test_retryable(void)
{
	struct plx_nvme_status s;

	s = st(0, PLX_NVME_SC_NAMESPACE_NOT_READY);
	CU_ASSERT_TRUE(nvme_status_is_retryable(&s));
	s.dnr = 1;
	CU_ASSERT_FALSE(nvme_status_is_retryable(&s));
	s = st(0, PLX_NVME_SC_COMMAND_INTERRUPTED);
	CU_ASSERT_TRUE(nvme_status_is_retryable(&s));
	s = st(0, PLX_NVME_SC_TRANSIENT_TRANSPORT_ERROR);
	CU_ASSERT_TRUE(nvme_status_is_retryable(&s));
	s = st(0, PLX_NVME_SC_ABORTED_BY_REQUEST);
	CU_ASSERT_TRUE(nvme_status_is_retryable(&s));
	s = st(3, PLX_NVME_SC_ASYMMETRIC_ACCESS_TRANSITION);
	CU_ASSERT_TRUE(nvme_status_is_retryable(&s));
	s = st(3, PLX_NVME_SC_INTERNAL_PATH_ERROR);
	CU_ASSERT_TRUE(nvme_status_is_retryable(&s));
	/* Permanent, or for multipath to decide, or the queue going away. */
	s = st(0, PLX_NVME_SC_ABORTED_SQ_DELETION);
	CU_ASSERT_FALSE(nvme_status_is_retryable(&s));
	s = st(0, PLX_NVME_SC_INVALID_FIELD);
	CU_ASSERT_FALSE(nvme_status_is_retryable(&s));
	s = st(2, PLX_NVME_SC_UNRECOVERED_READ_ERROR);
	CU_ASSERT_FALSE(nvme_status_is_retryable(&s));
	s = st(3, PLX_NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE);
	CU_ASSERT_FALSE(nvme_status_is_retryable(&s));
	s = st(3, PLX_NVME_SC_HOST_PATH_ERROR);
	CU_ASSERT_FALSE(nvme_status_is_retryable(&s));
	s = st(7, 0x00);
	CU_ASSERT_FALSE(nvme_status_is_retryable(&s));
}

static const struct plx_ut_case cases[] = {
    {"names", test_names},
    {"unknown", test_unknown},
    {"every_spec_code_named", test_every_spec_code_named},
    {"sct_names", test_sct_names},
    {"retryable", test_retryable},
};
PLX_UT_MAIN("nvme_status", cases)
