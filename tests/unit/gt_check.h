/* SPDX-License-Identifier: MIT */
/*
 * gt_check.h - the check macro of the unit tests.
 *
 * CHECK(cond) counts a false condition in @failures and reports it with its
 * file and line (the first 50 of them, so a broken loop stays readable); the
 * test carries on, so one run shows every failure.  A test's main() ends
 * with `return gt_check_result("test_x");` (exit 0 pass, 1 fail; 77 is
 * returned by hand for a skip).  One test executable is one translation
 * unit, so @failures is static.
 */
#ifndef GT_TESTS_CHECK_H
#define GT_TESTS_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond) && failures++ < 50)                                              \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
	} while (0)

/* Print the verdict of test @name; return its exit status. */
static inline int gt_check_result(const char *name)
{
	if (failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
		return 1;
	}
	printf("%s: ok\n", name);
	return 0;
}

#endif
