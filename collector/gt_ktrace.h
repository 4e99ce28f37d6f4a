/* SPDX-License-Identifier: MIT */
/*
 * gt_ktrace.h - kernel events in a long-lived session (ktrace.c,
 * docs/kernel.md "Long-lived sessions").  The rest of ktrace.c's interface
 * is in gt_collector.h and gt_col_int.h.
 */
#ifndef GT_KTRACE_H
#define GT_KTRACE_H

struct gt_collector;

/**
 * gt_collector_kernel_rotate() - after a sink switch (rotate): forget the
 * kernel schemas declared so far, so the next drain declares them again,
 * with fresh ids, into the file current from then on.  Call on the drain
 * thread right after gt_collector_switch_sink()/gt_collector_set_sink():
 * every kernel event drained before the call sorts before the switch and
 * goes to the old file, which has its schema; every later one carries a new
 * id whose schema is queued ahead of it to both files.  No-op without
 * kernel events.
 */
void gt_collector_kernel_rotate(struct gt_collector *c);

#endif /* GT_KTRACE_H */
