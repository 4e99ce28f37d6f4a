/* SPDX-License-Identifier: MIT */
/*
 * test_batch.c - the collector's batch: the order in which drained events
 * reach the sink when many drain rounds of several rings pile up in one
 * batch (the one-pass chain merge of batch.c), its fallback for rings whose
 * timestamps go backwards, and batch memory reuse across many batches.
 * Segments are built in memory, as libgtrace lays them out.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/gt_col_int.h"
#include "gt_check.h"

#define MAXEV 400000

/* A sink that records what it receives, in order. */
struct rec {
	uint64_t ts;
	uint32_t tid;
	int64_t seq;
};
struct sink {
	struct rec *ev;
	size_t n;
	uint64_t lost;
};

static int s_schema(void *ctx, const struct gt_schema_desc *d)
{
	(void)ctx;
	(void)d;
	return 0;
}

static int s_event(void *ctx, uint64_t ts, uint32_t pid, uint32_t tid, uint32_t id, const void *p,
		   size_t len)
{
	struct sink *k = ctx;

	(void)pid;
	(void)id;
	if (k->n >= MAXEV || len < 8)
		return -22;
	k->ev[k->n].ts = ts;
	k->ev[k->n].tid = tid;
	memcpy(&k->ev[k->n].seq, p, 8);
	k->n++;
	return 0;
}

static int s_lost(void *ctx, uint32_t pid, uint32_t tid, uint64_t n)
{
	(void)pid;
	(void)tid;
	((struct sink *)ctx)->lost += n;
	return 0;
}

static int s_corrupt(void *ctx, uint32_t pid, uint64_t n)
{
	(void)ctx;
	(void)pid;
	(void)n;
	return 0;
}

#include "fake_seg.h"

static const uint8_t T_I64[] = { GT_TYPE_I64 };
static const char *const N_SEQ[] = { "seq" };

static struct gt_collector *new_collector(struct sink *k)
{
	struct gt_collector_opts o = { 0 };
	struct gt_collector *c = NULL;

	memset(k, 0, sizeof(*k));
	k->ev = calloc(MAXEV, sizeof(*k->ev));
	o.clock = GT_CLOCK_MONO;
	o.sink.ctx = k;
	o.sink.add_schema = s_schema;
	o.sink.add_event = s_event;
	o.sink.add_lost = s_lost;
	o.sink.add_corrupt = s_corrupt;
	if (!k->ev || gt_collector_new(&o, &c) < 0)
		return NULL;
	return c;
}

/* Sorted by ts, and equal timestamps keep their drain order (slot order within a round). */
static void check_order(const struct sink *k, size_t want)
{
	size_t bad = 0;

	CHECK(k->n == want);
	for (size_t i = 1; i < k->n; i++) {
		const struct rec *a = &k->ev[i - 1], *b = &k->ev[i];

		/* equal ts: ring 0's event was drained (slot order) before ring 2's */
		if (a->ts > b->ts || (a->ts == b->ts && a->tid >= b->tid))
			bad++;
	}
	CHECK(bad == 0);
}

/*
 * Three rings with interleaved (and partly equal) timestamps, R drain rounds
 * per batch: the batch holds 3R runs that chain up into 3 chains.
 */
static void test_rounds(unsigned int rounds_per_batch, unsigned int per_round)
{
	struct sink k;
	struct gt_collector *c = new_collector(&k);
	struct gt_segment *sg;
	struct seg s;
	uint64_t ts = 100;
	size_t total = 0;
	int64_t seq[3] = { 0, 0, 0 };
	uint32_t id;

	CHECK(c != NULL);
	if (!c)
		return;
	seg_init(&s, 900, 3, 1u << 20);
	id = seg_schema(&s, "P", "e", 1, T_I64, N_SEQ);
	for (uint32_t t = 0; t < 3; t++)
		slot_claim(&s, t, 1000 + t);
	CHECK(gt_collector_attach_map(c, s.map, s.size, 900, false, &sg) == 0);
	for (unsigned int batch = 0; batch < 20; batch++) {
		for (unsigned int r = 0; r < rounds_per_batch; r++) {
			for (unsigned int i = 0; i < per_round; i++, ts += 2) {
				for (uint32_t t = 0; t < 3; t++) {
					/* ring 2 shares ring 0's timestamps: ties */
					uint64_t when = ts + (t == 1);

					CHECK(slot_write(&s, t, id, when, &seq[t], 8));
					seq[t]++;
					total++;
				}
			}
			gt_collector_drain_rings(c);
		}
		gt_collector_handoff(c, false); /* inline: sort and feed the sink now */
	}
	CHECK(gt_collector_flush_batch(c) == 0);
	check_order(&k, total);
	gt_collector_free(c);
	free(k.ev);
	free(s.map);
}

/* A ring whose timestamps go backwards: every record is its own run (fallback sort). */
static void test_backwards(void)
{
	struct sink k;
	struct gt_collector *c = new_collector(&k);
	struct gt_segment *sg;
	struct seg s;
	size_t total = 0;
	int64_t seq = 0;
	uint32_t id;

	CHECK(c != NULL);
	if (!c)
		return;
	seg_init(&s, 901, 2, 1u << 20);
	id = seg_schema(&s, "P", "e", 1, T_I64, N_SEQ);
	slot_claim(&s, 0, 2000);
	slot_claim(&s, 1, 2001);
	CHECK(gt_collector_attach_map(c, s.map, s.size, 901, false, &sg) == 0);
	for (unsigned int r = 0; r < 4; r++) {
		for (unsigned int i = 0; i < 5000; i++) {
			CHECK(slot_write(&s, 0, id, 1000000 - (uint64_t)(r * 5000 + i), &seq, 8));
			seq++;
			CHECK(slot_write(&s, 1, id, 7 * (uint64_t)(r * 5000 + i) % 1000003, &seq, 8));
			seq++;
			total += 2;
		}
		gt_collector_drain_rings(c);
	}
	gt_collector_handoff(c, false);
	CHECK(gt_collector_flush_batch(c) == 0);
	CHECK(k.n == total);
	for (size_t i = 1; i < k.n; i++)
		if (k.ev[i - 1].ts > k.ev[i].ts) {
			CHECK(!"events out of order");
			break;
		}
	gt_collector_free(c);
	free(k.ev);
	free(s.map);
}

int main(void)
{
	test_rounds(1, 1000);  /* one round per batch: 3 runs */
	test_rounds(40, 100);  /* 120 runs in 3 chains */
	test_rounds(7, 3);     /* short runs */
	test_backwards();
	return gt_check_result("test_batch");
}
