/* SPDX-License-Identifier: MIT */
/*
 * bench_lttng_tp.c - instantiates the LTTng-UST probe of bench_lttng_tp.h
 * (the tracepoint provider is linked statically into bench_lttng).
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "bench_lttng_tp.h"
