/* SPDX-License-Identifier: MIT */
/*
 * pf_perf_tests.c - the "performance tests" step of the demo pipeline:
 * pushes N packets (default 2,000,000) through the filter in batches of
 * 4096, one PacketMatched event per packet, and prints the throughput.
 * It also checks the verdict counts against a reference computed from one
 * period of the (periodic) traffic sample, so a fast but wrong filter fails.
 *
 * usage: pf_perf_tests [PACKETS]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pf.h"

#define PF_PERF_BATCH 4096 /* a multiple of the traffic period (64) */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static struct pf_packet batch[PF_PERF_BATCH];
	static struct pf_table t, ref;
	uint64_t n = 2000000, done = 0, allowed = 0, want_allowed = 0, t0, dt;
	char rules[4096], *end;
	int ret;

	if (argc > 1) {
		errno = 0;
		n = strtoull(argv[1], &end, 10);
		if (errno || *end || n == 0) {
			fprintf(stderr, "usage: pf_perf_tests [PACKETS]\n");
			return 2;
		}
	}
	if (pf_rules_path(rules, sizeof(rules)))
		return 2;
	pf_table_init(&t);
	ret = pf_table_load(&t, rules);
	if (ret < 0) {
		fprintf(stderr, "pf_perf_tests: cannot load '%s': %s (run pf_setup first)\n", rules,
			strerror(-ret));
		return 1;
	}
	pf_traffic(batch, PF_PERF_BATCH);

	/* reference: allowed packets per 64-packet period, without events */
	ref = t;
	for (int i = 0; i < 64; i++) {
		int rule = pf_match(&ref, &batch[i]);

		if (rule >= 0 && ref.rules[rule].action == PF_ALLOW)
			want_allowed += n / 64 + ((uint64_t)i < n % 64);
	}

	GT_SPAN_BEGIN(pf_prov, GT_LEVEL_INFO, PF_KW_PACKETS, "PerfRun", GT_U64("packets", n),
		      GT_U32("batch", PF_PERF_BATCH));
	t0 = now_ns();
	while (done < n) {
		size_t k = n - done < PF_PERF_BATCH ? (size_t)(n - done) : PF_PERF_BATCH;

		allowed += pf_filter_batch(&t, batch, k, done);
		done += k;
	}
	dt = now_ns() - t0;
	GT_SPAN_END(pf_prov, GT_LEVEL_INFO, PF_KW_PACKETS, "PerfRun", GT_U64("ns", dt),
		    GT_U64("allowed", allowed));
	pf_stats_emit(&t, "perf");

	printf("pf_perf_tests: %" PRIu64 " packets in %.1f ms: %.2f Mpackets/s, %.1f ns/packet "
	       "(one event each)\n",
	       n, dt / 1e6, dt ? n * 1e3 / (double)dt : 0.0, (double)dt / (double)n);
	if (allowed != want_allowed || t.allowed + t.denied != n) {
		printf("FAIL throughput: allowed %" PRIu64 ", want %" PRIu64 "\n", allowed,
		       want_allowed);
		return 1;
	}
	printf("PASS throughput: %" PRIu64 " allowed, %" PRIu64 " denied\n", t.allowed, t.denied);
	return 0;
}
