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

struct seg {
	unsigned char *map;
	size_t size;
	struct gt_shm_header *h;
	uint64_t schema_used;
	uint32_t next_id;
};

static void seg_init_at(struct seg *s, void *mem, uint32_t pid, uint32_t nslots, uint32_t ring_size,
			uint32_t schema_size)
{
	s->map = mem;
	s->h = mem;
	s->schema_used = 0;
	s->next_id = 1;
	memset(s->h, 0, sizeof(*s->h));
	s->h->magic = GT_SHM_MAGIC;
	s->h->abi_version = GT_ABI_VERSION;
	s->h->struct_size = sizeof(struct gt_shm_header);
	s->h->pid = pid;
	s->h->clock = GT_CLOCK_MONO;
	s->h->schema_off = GT_SHM_HDR_SIZE;
	s->h->schema_size = schema_size;
	s->h->slots_off = GT_SHM_HDR_SIZE + schema_size;
	s->h->nslots = nslots;
	s->h->ring_size = ring_size;
	s->h->slot_size = GT_RING_CTL_SIZE + ring_size;
	s->h->segment_size = s->size;
}

static size_t seg_bytes(uint32_t nslots, uint32_t ring_size, uint32_t schema_size)
{
	return GT_SHM_HDR_SIZE + schema_size + (size_t)nslots * (GT_RING_CTL_SIZE + ring_size);
}

static void seg_init(struct seg *s, uint32_t pid, uint32_t nslots, uint32_t ring_size)
{
	s->size = seg_bytes(nslots, ring_size, 8192);
	seg_init_at(s, aligned_alloc(4096, (s->size + 4095) & ~(size_t)4095), pid, nslots,
		    ring_size, 8192);
	memset(s->map + GT_SHM_HDR_SIZE, 0, s->size - GT_SHM_HDR_SIZE);
}

/* Append a schema record with fields (types[i], names[i]); return its id. */
static uint32_t seg_schema(struct seg *s, const char *prov, const char *name, unsigned int n,
			   const uint8_t *types, const char *const *names)
{
	unsigned char *p = s->map + s->h->schema_off + s->schema_used;
	struct gt_shm_schema h = { 0 };
	size_t pos = sizeof(h);

	for (unsigned int i = 0; i < n; i++)
		p[pos++] = types[i];
#define PUTS(str)                                      \
	do {                                           \
		memcpy(p + pos, str, strlen(str) + 1); \
		pos += strlen(str) + 1;                \
	} while (0)
	PUTS(prov);
	PUTS(name);
	PUTS("file.c");
	PUTS("");
	for (unsigned int i = 0; i < n; i++)
		PUTS(names[i]);
#undef PUTS
	pos = (pos + 7) & ~(size_t)7;
	h.size = (uint32_t)pos;
	h.id = s->next_id++;
	h.kind = GT_KIND_EVENT;
	h.level = 4;
	h.nfields = (uint8_t)n;
	h.line = 42;
	memcpy(p, &h, sizeof(h));
	s->schema_used += pos;
	__atomic_store_n(&s->h->schema_head, s->schema_used, __ATOMIC_RELEASE);
	return h.id;
}

static struct gt_ring_ctl *seg_ctl(struct seg *s, uint32_t slot)
{
	return (struct gt_ring_ctl *)(s->map + s->h->slots_off + (size_t)slot * s->h->slot_size);
}

static unsigned char *seg_ring(struct seg *s, uint32_t slot)
{
	return (unsigned char *)seg_ctl(s, slot) + GT_RING_CTL_SIZE;
}

static void slot_claim(struct seg *s, uint32_t slot, uint32_t tid)
{
	struct gt_ring_ctl *c = seg_ctl(s, slot);

	c->state = GT_SLOT_ACTIVE;
	c->tid = tid;
}

/* Producer write (docs/abi.md "Rings"); returns false when the ring is full. */
static bool slot_write(struct seg *s, uint32_t slot, uint32_t id, uint64_t ts, const void *payload,
		       uint32_t len)
{
	struct gt_ring_ctl *c = seg_ctl(s, slot);
	unsigned char *ring = seg_ring(s, slot);
	uint32_t rs = s->h->ring_size;
	uint32_t need = (16 + len + 7) & ~7u, off = (uint32_t)(c->head & (rs - 1)), pad = 0;
	struct gt_rec_hdr h = { .size = need, .id = id, .ts = ts };

	if (rs - off < need)
		pad = rs - off;
	if (c->head + pad + need - c->tail > rs) {
		c->lost++;
		return false;
	}
	if (pad) {
		uint32_t ph[2] = { pad, GT_REC_PAD_ID };

		memcpy(ring + off, ph, 8);
		c->head += pad;
		off = 0;
	}
	memcpy(ring + off, &h, sizeof(h));
	memcpy(ring + off + 16, payload, len);
	memset(ring + off + 16 + len, 0, need - 16 - len);
	c->seq++;
	__atomic_store_n(&c->head, c->head + need, __ATOMIC_RELEASE);
	return true;
}


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
