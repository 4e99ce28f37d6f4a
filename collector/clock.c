/* SPDX-License-Identifier: MIT */
/*
 * clock.c - the session's event clock.
 *
 * Producers stamp records with rdtsc when the TSC is invariant (CPUID says
 * so: what the kernel shows as constant_tsc and nonstop_tsc), else with
 * CLOCK_MONOTONIC; the collector decides once per session and says so in the WELCOME message and
 * the file.  The file also stores clock samples, each reading the event
 * clock and the two system clocks at (nearly) one instant, so a reader can
 * convert ticks to nanoseconds.  The collector's own events (process starts,
 * output lines) are stamped on the same clock.
 */
#include <stdbool.h>
#include <time.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

#include "gt_collector.h"

/*
 * The invariant TSC bit, CPUID leaf 0x80000007 EDX bit 8, from which the
 * kernel sets both constant_tsc and nonstop_tsc.  Asking the CPU costs a
 * few hundred cycles; reading /proc/cpuinfo, as this did before, cost
 * 0.25 ms of every `gtrace run` (docs/perf.md).
 */
static bool gt_cpu_has_invariant_tsc(void)
{
#if defined(__x86_64__)
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx))
		return false;
	return edx & (1u << 8);
#else
	return false;
#endif
}

uint32_t gt_clock_choose(void)
{
#if defined(__x86_64__)
	if (gt_cpu_has_invariant_tsc())
		return GT_CLOCK_TSC;
#endif
	return GT_CLOCK_MONO;
}

static uint64_t gt_ts_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t gt_clock_ticks(uint32_t clock)
{
#if defined(__x86_64__)
	if (clock == GT_CLOCK_TSC)
		return __rdtsc();
#endif
	return gt_ts_ns(CLOCK_MONOTONIC);
}

void gt_clock_sample(uint32_t clock, struct gt_clock_sample *s)
{
	uint64_t m0, m1, t;

	/* bracket the tick read with two monotonic reads and keep their midpoint */
	m0 = gt_ts_ns(CLOCK_MONOTONIC);
	t = gt_clock_ticks(clock);
	m1 = gt_ts_ns(CLOCK_MONOTONIC);
	s->realtime_ns = gt_ts_ns(CLOCK_REALTIME);
	s->mono_ns = m0 + (m1 - m0) / 2;
	s->ticks = clock == GT_CLOCK_TSC ? t : s->mono_ns;
}
