/* SPDX-License-Identifier: MIT */
/*
 * clock.c - the session's event clock.
 *
 * Producers stamp records with rdtsc when the TSC is invariant (the CPU
 * advertises constant_tsc and nonstop_tsc), else with CLOCK_MONOTONIC; the
 * collector decides once per session and says so in the WELCOME message and
 * the file.  The file also stores clock samples, each reading the event
 * clock and the two system clocks at (nearly) one instant, so a reader can
 * convert ticks to nanoseconds.  The collector's own events (process starts,
 * output lines) are stamped on the same clock.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "gt_collector.h"

static bool gt_cpuinfo_has_invariant_tsc(void)
{
	bool constant = false, nonstop = false;
	char line[8192];
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL;

		if (strncmp(line, "flags", 5))
			continue;
		for (tok = strtok_r(line, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save)) {
			if (!strcmp(tok, "constant_tsc"))
				constant = true;
			else if (!strcmp(tok, "nonstop_tsc"))
				nonstop = true;
		}
		break; /* the first CPU speaks for all */
	}
	fclose(f);
	return constant && nonstop;
}

uint32_t gt_clock_choose(void)
{
#if defined(__x86_64__)
	if (gt_cpuinfo_has_invariant_tsc())
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
