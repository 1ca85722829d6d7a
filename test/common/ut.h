/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one unit-test framework of Pollux is CUnit. A test file defines its cases and a table:
 *
 *   static const struct plx_ut_case cases[] = {
 *           {"ring_single_thread", test_ring_single_thread},
 *           ...
 *   };
 *   PLX_UT_MAIN("env_ring", cases)
 *
 * The generated main() runs every case and prints, last, the line
 *   "<suite>: N passed, N failed"
 * counting test cases, which test/run_tests.py adds up. The exit code is non-zero on failure.
 */
#ifndef POLLUX_TEST_UT_H
#define POLLUX_TEST_UT_H

#include <CUnit/Basic.h>
#include <stdio.h>

struct plx_ut_case {
	const char *name;
	void (*fn)(void);
};

static inline int plx_ut_run(const char *suite_name, const struct plx_ut_case *cases, size_t n)
{
	CU_pSuite suite;
	unsigned int failed_tests, total;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		return 2;
	}
	suite = CU_add_suite(suite_name, NULL, NULL);
	for (size_t i = 0; suite != NULL && i < n; i++) {
		CU_add_test(suite, cases[i].name, cases[i].fn);
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed_tests = CU_get_number_of_tests_failed();
	total = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	printf("%s: %u passed, %u failed\n", suite_name, total - failed_tests, failed_tests);
	return failed_tests == 0 && total == n ? 0 : 1;
}

#define PLX_UT_MAIN(suite_name, cases)                                                             \
	int main(void)                                                                             \
	{                                                                                          \
		return plx_ut_run(suite_name, cases, sizeof(cases) / sizeof(cases[0]));            \
	}

#endif
