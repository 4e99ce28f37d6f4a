/* SPDX-License-Identifier: MIT */
/*
 * gt_prof.h - the collector's optional self-measurement (batch.c).
 *
 * With GTRACE_COLLECTOR_STATS=1 in its environment the collector times its
 * drain rounds, the waits of the drain loop behind the writer thread and
 * the writer's stages, and prints one line on stderr when the writer thread
 * stops (docs/perf.md, "Sustained capture").  Off, each hook is one
 * predictable branch per drain round or per batch, never per event.
 */
#ifndef GT_PROF_H
#define GT_PROF_H

#include <stdbool.h>
#include <stdint.h>

struct gt_col_prof {
	bool on;
	/* drain thread */
	uint64_t rounds;
	uint64_t round_ns, round_max_ns; /* time inside gt_segment_drain() */
	uint64_t gap_max_ns;             /* longest time between two drain starts */
	uint64_t last_begin_ns;
	uint64_t waits, wait_ns, wait_max_ns; /* blocked behind the writer */
	uint64_t handoffs;
	uint64_t dsort_ns; /* sorting batches before the handoff */
	/* writer thread */
	uint64_t batches, wevents;
	uint64_t sort_ns, sink_ns, wcpu_ns;
};

extern struct gt_col_prof gt_col_prof;

uint64_t gt_prof_now(void);
void gt_prof_init(void);
void gt_prof_report(void);

#endif /* GT_PROF_H */
