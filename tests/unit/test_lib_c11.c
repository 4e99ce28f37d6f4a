/* SPDX-License-Identifier: MIT */
/*
 * test_lib_c11.c - gtrace.h included alone, built as ISO C11 (no GNU
 * dialect), linked against the static library, run without a session:
 * every call site must end up disabled, no argument evaluated, the program
 * unaffected.
 */
#include <gtrace/gtrace.h>

#include <stdio.h>
#include <stdlib.h>

GT_PROVIDER_DEFINE(c11_prov, "Test.C11");

int main(void)
{
	int evals = 0;

	if (getenv("GTRACE_SESSION"))
		return 77; /* running under a real session: the premise does not hold */
	for (int i = 0; i < 4; i++) {
		GT_EVENT(c11_prov, GT_LEVEL_CRITICAL, 0x1, "Ev", GT_I32("a", ++evals),
			 GT_STR("s", "x"), GT_F64("f", 1.0), GT_BOOL("b", 1));
		GT_EVENT(c11_prov, GT_LEVEL_INFO, 0, "NoFields");
		GT_SPAN_BEGIN(c11_prov, GT_LEVEL_INFO, 0, "Span");
		GT_SPAN_END(c11_prov, GT_LEVEL_INFO, 0, "Span", GT_I32("rc", ++evals));
		gt_log(c11_prov, GT_LEVEL_ERROR, "x=%d y=%s", ++evals, "why");
		if (gt_enabled(c11_prov, GT_LEVEL_CRITICAL, 0)) {
			fprintf(stderr, "test_lib_c11: enabled without a session\n");
			return 1;
		}
	}
	if (evals) {
		fprintf(stderr, "test_lib_c11: %d argument(s) evaluated untraced\n", evals);
		return 1;
	}
	if (!gt_version()[0])
		return 1;
	return 0;
}
