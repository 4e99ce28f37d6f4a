/* SPDX-License-Identifier: MIT */
/*
 * bench_lttng_tp.h - the LTTng-UST tracepoint that bench_lttng.c emits: the
 * same payload as bench_emit (i64 counter, i32, a 16-character string), for
 * a side-by-side comparison.  Standard lttng-ust 2.13 provider header.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER gtbench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./bench_lttng_tp.h"

#if !defined(BENCH_LTTNG_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define BENCH_LTTNG_TP_H

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(gtbench, sample,
	LTTNG_UST_TP_ARGS(int64_t, counter, int32_t, n, const char *, s),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int64_t, counter, counter)
		lttng_ust_field_integer(int32_t, n, n)
		lttng_ust_field_string(s, s)
	)
)

#endif /* BENCH_LTTNG_TP_H */

#include <lttng/tracepoint-event.h>
