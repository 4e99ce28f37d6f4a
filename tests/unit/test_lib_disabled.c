/* SPDX-License-Identifier: MIT */
/*
 * test_lib_disabled.c - the header built with -DGT_DISABLE.
 *
 * Every macro must compile to nothing that runs: no argument is evaluated,
 * gt_enabled() is false, and (checked by test_lib under a fake collector)
 * no schema and no record reaches the segment even though the library is
 * linked and joins the session.
 */
#ifndef GT_DISABLE
#error "build with -DGT_DISABLE"
#endif
#include <gtrace/gtrace.h>

#include <stdio.h>
#include <string.h>

GT_PROVIDER_DEFINE(dis_prov, "Test.Disabled");
GT_PROVIDER_DECLARE(dis_prov);

int main(int argc, char **argv)
{
	static const unsigned char raw[3] = { 1, 2, 3 };
	int evals = 0;

	(void)argc;
	(void)argv;
	for (int i = 0; i < 3; i++) {
		GT_EVENT(dis_prov, GT_LEVEL_CRITICAL, 0, "Ev", GT_I32("a", ++evals),
			 GT_U32("b", (unsigned)++evals), GT_I64("c", ++evals), GT_U64("d", 1u),
			 GT_F64("e", 0.5), GT_BOOL("f", ++evals), GT_STR("g", "s"),
			 GT_BYTES("h", raw, sizeof(raw)));
		GT_EVENT(dis_prov, GT_LEVEL_CRITICAL, 0, "NoFields");
		GT_SPAN_BEGIN(dis_prov, GT_LEVEL_CRITICAL, 0, "Span", GT_I32("i", ++evals));
		GT_SPAN_END(dis_prov, GT_LEVEL_CRITICAL, 0, "Span");
		gt_log(dis_prov, GT_LEVEL_CRITICAL, "log %d %s", ++evals, "x");
		gt_log(dis_prov, GT_LEVEL_CRITICAL, "plain");
		if (gt_enabled(dis_prov, GT_LEVEL_CRITICAL, 0))
			return 2;
	}
	if (evals != 0) {
		fprintf(stderr, "test_lib_disabled: %d argument(s) evaluated\n", evals);
		return 1;
	}
	return 0;
}
