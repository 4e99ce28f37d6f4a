/* SPDX-License-Identifier: MIT */
/*
 * test_collector.c - the collector against hand-built segments.
 *
 * A fake producer in this file lays out segments in memory exactly as
 * docs/abi.md describes (header, schema records, slots with rings, padding
 * at wrap-around) and a fake sink records what the collector delivers.
 * Good traffic must arrive complete and in order; hostile segments (bad
 * head/tail, bad record sizes, unknown ids, broken schemas, lying headers)
 * must be counted corrupt without a crash while other slots keep draining.
 * The process table must hold only processes that may still be referred to
 * (10,000 in turn leave it empty), give a reused pid a new start record and
 * leave a segment drained after its exit attributed to its pid.
 * The last tests run the real session socket handshake in-process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "collector/gt_col_int.h"

#include "gt_check.h"

/* ---- fake sink ---- */

#define MAXEV 40000
struct ev {
	uint64_t ts;
	uint32_t pid, tid, sid;
	size_t len;
	unsigned char p[64];
};

struct fake_sink {
	struct ev *ev;
	size_t nev;
	uint32_t nschemas;
	char sname[64][64]; /* "provider/name" by file id */
	uint64_t lost, lost_tid0, corrupt;
	uint32_t lost_last_tid;
	int nclock;
};

static int fs_schema(void *ctx, const struct gt_schema_desc *s)
{
	struct fake_sink *f = ctx;

	f->nschemas++;
	if (s->id < 64)
		snprintf(f->sname[s->id], sizeof(f->sname[0]), "%s/%s", s->provider, s->name);
	return 0;
}

static int fs_event(void *ctx, uint64_t ts, uint32_t pid, uint32_t tid, uint32_t sid, const void *p,
		    size_t len)
{
	struct fake_sink *f = ctx;
	struct ev *e;

	if (len >= 8 && !memcmp(p, "\xEE\xEE\xEE\xEE\xEE\xEE\xEE\xEE", 8))
		return -GT_ECORRUPT; /* pretend the writer found the payload malformed */
	if (f->nev == MAXEV)
		return -ENOSPC;
	e = &f->ev[f->nev++];
	e->ts = ts;
	e->pid = pid;
	e->tid = tid;
	e->sid = sid;
	e->len = len;
	memcpy(e->p, p, len < sizeof(e->p) ? len : sizeof(e->p));
	return 0;
}

static int fs_lost(void *ctx, uint32_t pid, uint32_t tid, uint64_t n)
{
	struct fake_sink *f = ctx;

	(void)pid;
	f->lost += n;
	if (tid == 0)
		f->lost_tid0 += n;
	f->lost_last_tid = tid;
	return 0;
}

static int fs_corrupt(void *ctx, uint32_t pid, uint64_t n)
{
	struct fake_sink *f = ctx;

	(void)pid;
	f->corrupt += n;
	return 0;
}

static int fs_clock(void *ctx, const struct gt_clock_sample *s)
{
	struct fake_sink *f = ctx;

	(void)s;
	f->nclock++;
	return 0;
}

static bool threaded_mode;

static struct gt_collector *new_collector(struct fake_sink *f, bool listen, const char *dir)
{
	struct gt_collector_opts o = { 0 };
	struct gt_collector *c = NULL;

	memset(f, 0, sizeof(*f));
	f->ev = calloc(MAXEV, sizeof(*f->ev));
	o.clock = GT_CLOCK_MONO;
	o.sink.ctx = f;
	o.sink.add_schema = fs_schema;
	o.sink.add_event = fs_event;
	o.sink.add_lost = fs_lost;
	o.sink.add_corrupt = fs_corrupt;
	o.sink.clock = fs_clock;
	o.listen = listen;
	o.session_dir = dir;
	o.threaded = threaded_mode;
	if (gt_collector_new(&o, &c) < 0)
		return NULL;
	return c;
}

static void free_collector(struct gt_collector *c, struct fake_sink *f)
{
	gt_collector_free(c);
	free(f->ev);
}

/* events of file schema "provider/name" */
static size_t count_of(const struct fake_sink *f, const char *pname)
{
	size_t n = 0;

	for (size_t i = 0; i < f->nev; i++)
		if (f->ev[i].sid < 64 && !strcmp(f->sname[f->ev[i].sid], pname))
			n++;
	return n;
}

/* ---- fake producer ---- */

#include "fake_seg.h"

/* Write raw bytes at the head and advance head (for hostile records). */
static void slot_raw(struct seg *s, uint32_t slot, uint32_t size, uint32_t id, uint64_t advance)
{
	struct gt_ring_ctl *c = seg_ctl(s, slot);
	unsigned char *ring = seg_ring(s, slot);
	uint32_t off = (uint32_t)(c->head & (s->h->ring_size - 1));
	uint32_t h[2] = { size, id };

	memcpy(ring + off, h, 8);
	c->head += advance;
}

static const uint8_t T_I64_STR[] = { GT_TYPE_I64, GT_TYPE_STR };
static const char *const N_SEQ_TXT[] = { "seq", "txt" };

/* payload of (I64 seq, STR txt) */
static uint32_t mk_payload(unsigned char *buf, int64_t seq, const char *txt)
{
	uint32_t n = (uint32_t)strlen(txt);

	memcpy(buf, &seq, 8);
	memcpy(buf + 8, &n, 4);
	memcpy(buf + 12, txt, n);
	return 12 + n;
}

static int64_t ev_seq(const struct ev *e)
{
	int64_t v;

	memcpy(&v, e->p, 8);
	return v;
}

/* ---- tests ---- */

static void test_opname(void)
{
	char out[GT_OP_NAME_MAX + 1], path[256];
	struct tm tm = { .tm_year = 126,
			 .tm_mon = 10,
			 .tm_mday = 26,
			 .tm_hour = 14,
			 .tm_min = 30,
			 .tm_sec = 45 };
	char big[300];

	gt_op_sanitize("unit_tests", out, sizeof(out));
	CHECK(!strcmp(out, "unit_tests"));
	gt_op_sanitize("../../x", out, sizeof(out));
	CHECK(!strcmp(out, "_.._x"));
	CHECK(!strchr(out, '/'));
	gt_op_sanitize("...hidden", out, sizeof(out));
	CHECK(!strcmp(out, "hidden"));
	gt_op_sanitize("..", out, sizeof(out));
	CHECK(!strcmp(out, "op"));
	gt_op_sanitize("", out, sizeof(out));
	CHECK(!strcmp(out, "op"));
	gt_op_sanitize("a b/c\\d\xc3\xa9:e", out, sizeof(out));
	CHECK(!strcmp(out, "a_b_c_d___e"));
	gt_op_sanitize("v1.2-rc_3", out, sizeof(out));
	CHECK(!strcmp(out, "v1.2-rc_3"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	gt_op_sanitize(big, out, sizeof(out));
	CHECK(strlen(out) == GT_OP_NAME_MAX);
	gt_op_sanitize("abcdef", out, 4);
	CHECK(!strcmp(out, "abc"));

	CHECK(gt_op_path("TestLogs", "unit_tests", &tm, 1, path, sizeof(path)) > 0);
	CHECK(!strcmp(path, "TestLogs/unit_tests_20261126_143045.gtrace"));
	CHECK(gt_op_path("d", "x", &tm, 2, path, sizeof(path)) > 0);
	CHECK(!strcmp(path, "d/x_20261126_143045_2.gtrace"));
	CHECK(gt_op_path("d", "x", &tm, 3, path, 10) == -ENAMETOOLONG);
}

static void test_validate(void)
{
	struct seg s;
	struct gt_shm_header out, save;

	seg_init(&s, 100, 2, 4096);
	CHECK(gt_segment_validate(s.map, s.size, 100, GT_CLOCK_MONO, &out) == 0);
	CHECK(out.nslots == 2 && out.ring_size == 4096);
	save = *s.h;
#define BAD(mutate, pid, clock)                                                  \
	do {                                                                     \
		*s.h = save;                                                     \
		mutate;                                                          \
		CHECK(gt_segment_validate(s.map, s.size, pid, clock, &out) < 0); \
	} while (0)
	BAD(s.h->magic ^= 1, 100, GT_CLOCK_MONO);
	BAD(s.h->abi_version = 2, 100, GT_CLOCK_MONO);
	BAD(s.h->struct_size = 64, 100, GT_CLOCK_MONO);
	BAD(s.h->struct_size = 8192, 100, GT_CLOCK_MONO);
	BAD((void)0, 101, GT_CLOCK_MONO); /* pid is not the peer's */
	BAD((void)0, 100, GT_CLOCK_TSC);  /* wrong clock */
	BAD(s.h->segment_size += 4096, 100, GT_CLOCK_MONO);
	BAD(s.h->ring_size = 6000, 100, GT_CLOCK_MONO);
	BAD(s.h->ring_size = 2048, 100, GT_CLOCK_MONO);
	BAD(s.h->slot_size = 4096, 100, GT_CLOCK_MONO);
	BAD(s.h->nslots = 0, 100, GT_CLOCK_MONO);
	BAD(s.h->nslots = 3, 100, GT_CLOCK_MONO);
	BAD(s.h->nslots = 0xffffffffu, 100, GT_CLOCK_MONO);
	BAD(s.h->schema_off = 100, 100, GT_CLOCK_MONO);
	BAD(s.h->schema_off = 0, 100, GT_CLOCK_MONO);
	BAD(s.h->schema_size = 12288, 100, GT_CLOCK_MONO); /* overlaps the slots */
	BAD(s.h->schema_size = 0x80000000u, 100, GT_CLOCK_MONO);
	BAD(s.h->slots_off = 4096 + 8192 + 8, 100, GT_CLOCK_MONO);
	BAD((s.h->ring_size = 0x80000000u, s.h->slot_size = 0x80000080u), 100, GT_CLOCK_MONO);
#undef BAD
	*s.h = save;
	/* mapping size disagreeing with the header, or absurd */
	CHECK(gt_segment_validate(s.map, s.size - 4096, 100, GT_CLOCK_MONO, &out) < 0);
	CHECK(gt_segment_validate(s.map, 100, 100, GT_CLOCK_MONO, &out) < 0);
	CHECK(gt_segment_validate(s.map, 1ull << 41, 100, GT_CLOCK_MONO, &out) < 0);
	free(s.map);
}

static void test_good_drain(void)
{
	struct fake_sink f;
	struct gt_collector *c = new_collector(&f, false, NULL);
	struct gt_segment *sg;
	struct seg s;
	unsigned char pl[512];
	uint32_t a, b, nwritten = 0;
	int64_t next = 0;
	char txt[200];

	CHECK(c != NULL);
	if (!c)
		return;
	seg_init(&s, 200, 4, 4096);
	a = seg_schema(&s, "Test.P", "A", 2, T_I64_STR, N_SEQ_TXT);
	CHECK(gt_collector_attach_map(c, s.map, s.size, 200, false, &sg) == 0);
	b = seg_schema(&s, "Test.P", "B", 2, T_I64_STR, N_SEQ_TXT); /* registered after attach */
	slot_claim(&s, 0, 1234);
	/* many rounds of variable-size records: the ring wraps many times, with padding */
	for (int round = 0; round < 50; round++) {
		for (int k = 0; k < 7; k++) {
			int len = (int)((next * 37) % 150);

			memset(txt, 'a' + (int)(next % 26), (size_t)len);
			txt[len] = '\0';
			if (!slot_write(&s, 0, (next & 1) ? b : a, 1000 + (uint64_t)next, pl,
					mk_payload(pl, next, txt)))
				break;
			next++;
			nwritten++;
		}
		gt_collector_drain(c);
		CHECK(seg_ctl(&s, 0)->tail == seg_ctl(&s, 0)->head);
	}
	CHECK(seg_ctl(&s, 0)->head > 4 * 4096); /* really wrapped */
	CHECK(f.corrupt == 0);
	CHECK(f.lost == 0);
	CHECK(f.nev == nwritten);
	CHECK(count_of(&f, "Test.P/A") + count_of(&f, "Test.P/B") == nwritten);
	for (size_t i = 0; i < f.nev; i++) {
		CHECK(ev_seq(&f.ev[i]) == (int64_t)i);
		CHECK(f.ev[i].ts == 1000 + i);
		CHECK(f.ev[i].pid == 200 && f.ev[i].tid == 1234);
		CHECK(!strcmp(f.sname[f.ev[i].sid], (i & 1) ? "Test.P/B" : "Test.P/A"));
		/* payload is the ring payload, padded to 8 */
		CHECK(f.ev[i].len % 8 == 0 && f.ev[i].len >= 12 + (i * 37) % 150);
		if (failures > 20)
			break;
	}

	/* lost deltas: per slot to its tid, process-wide to tid 0 */
	seg_ctl(&s, 0)->lost = 5;
	gt_collector_drain(c);
	CHECK(f.lost == 5 && f.lost_last_tid == 1234);
	seg_ctl(&s, 0)->lost = 7;
	s.h->lost_noslot = 3;
	s.h->lost_noschema = 4;
	gt_collector_drain(c);
	CHECK(f.lost == 14 && f.lost_tid0 == 7);
	gt_collector_drain(c);
	CHECK(f.lost == 14); /* nothing new, nothing counted twice */

	/* EXITED: drained, then handed back as FREE */
	slot_claim(&s, 1, 77);
	CHECK(slot_write(&s, 1, a, 5000, pl, mk_payload(pl, 9999, "bye")));
	seg_ctl(&s, 1)->state = GT_SLOT_EXITED;
	f.nev = 0;
	gt_collector_drain(c);
	CHECK(f.nev == 1 && f.ev[0].tid == 77 && ev_seq(&f.ev[0]) == 9999);
	CHECK(seg_ctl(&s, 1)->state == GT_SLOT_FREE);
	CHECK(seg_ctl(&s, 1)->tail == seg_ctl(&s, 1)->head);

	/* a FREE slot is not read even if it holds bytes */
	slot_write(&s, 1, a, 6000, pl, mk_payload(pl, 1, "x"));
	f.nev = 0;
	gt_collector_drain(c);
	CHECK(f.nev == 0);

	/* records of two threads interleaved in time come out sorted */
	slot_claim(&s, 2, 300);
	slot_claim(&s, 3, 301);
	for (int i = 0; i < 20; i++)
		slot_write(&s, 2 + (i % 2), a, 10000 + (uint64_t)i, pl, mk_payload(pl, i, "t"));
	f.nev = 0;
	gt_collector_drain(c);
	CHECK(f.nev == 20);
	for (size_t i = 0; i < f.nev; i++)
		CHECK(f.ev[i].ts == 10000 + i && f.ev[i].tid == 300 + (i % 2));

	/* a payload the writer rejects counts as corrupt, the rest still goes through */
	memset(pl, 0xEE, 8);
	slot_write(&s, 2, a, 20000, pl, 16);
	slot_write(&s, 2, a, 20001, pl + 1, 16);
	f.nev = 0;
	gt_collector_drain(c);
	CHECK(f.corrupt == 1 && f.nev == 1);

	/* nothing changed: no events, no counters */
	f.nev = 0;
	f.corrupt = 0;
	gt_collector_drain(c);
	CHECK(f.nev == 0 && f.corrupt == 0);
	gt_collector_detach(c, sg);
	free_collector(c, &f);
	free(s.map);
}

/* A ring full of hostile slots next to a good one: every bad slot is counted. */
static void test_hostile_rings(void)
{
	struct fake_sink f;
	struct gt_collector *c = new_collector(&f, false, NULL);
	struct gt_segment *sg;
	struct seg s;
	unsigned char pl[64];
	uint32_t a;
	const uint32_t N = 10;

	if (!c)
		return;
	seg_init(&s, 300, N, 4096);
	a = seg_schema(&s, "Test.H", "A", 2, T_I64_STR, N_SEQ_TXT);
	CHECK(gt_collector_attach_map(c, s.map, s.size, 300, false, &sg) == 0);
	for (uint32_t i = 0; i < N; i++)
		slot_claim(&s, i, 1000 + i);

	/* slot 0: good; written last so its records are checked after all the bad ones */
	/* slot 1: head behind tail */
	seg_ctl(&s, 1)->tail = 64;
	seg_ctl(&s, 1)->head = 32;
	/* slot 2: head - tail > ring_size */
	seg_ctl(&s, 2)->head = 4096 + 64;
	/* slot 3: one good record, then size 0 */
	slot_write(&s, 3, a, 3, pl, mk_payload(pl, 3, "ok"));
	slot_raw(&s, 3, 0, a, 64);
	/* slot 4: size not a multiple of 8 */
	slot_raw(&s, 4, 20, a, 24);
	/* slot 5: a record crossing the ring end */
	seg_ctl(&s, 5)->head = seg_ctl(&s, 5)->tail = 4096 - 32;
	slot_raw(&s, 5, 64, a, 64);
	/* slot 6: unknown schema id (framing fine: the next record still arrives) */
	slot_write(&s, 6, 99, 6, pl, mk_payload(pl, -1, "unknown"));
	slot_write(&s, 6, a, 7, pl, mk_payload(pl, 6, "after"));
	/* slot 7: size larger than what head published */
	slot_raw(&s, 7, 512, a, 64);
	/* slot 8: head not aligned */
	slot_write(&s, 8, a, 8, pl, mk_payload(pl, 8, "x"));
	seg_ctl(&s, 8)->head += 3;
	/* slot 9: huge size and a padding record bigger than the ring */
	slot_raw(&s, 9, 0xfffffff8u, a, 64);
	slot_write(&s, 0, a, 1, pl, mk_payload(pl, 0, "good"));
	slot_write(&s, 0, a, 2, pl, mk_payload(pl, 1, "good"));

	gt_collector_drain(c);
	/* good: slot 0 (2), slot 3's first record, slot 6's second record */
	CHECK(f.nev == 4);
	CHECK(count_of(&f, "Test.H/A") == 4);
	CHECK(f.corrupt >= 8);
	for (uint32_t i = 0; i < N; i++)
		CHECK(seg_ctl(&s, i)->tail == seg_ctl(&s, i)->head); /* skipped to head */

	/* the poisoned slots keep working afterwards */
	f.nev = 0;
	f.corrupt = 0;
	seg_ctl(&s, 1)->head = seg_ctl(&s, 1)->tail = 64;
	slot_write(&s, 1, a, 50, pl, mk_payload(pl, 50, "again"));
	slot_write(&s, 4, a, 51, pl, mk_payload(pl, 51, "again"));
	gt_collector_drain(c);
	CHECK(f.nev == 2 && f.corrupt == 0);

	/* padding record with size 8 is fine; padding with size 4 is not */
	f.nev = 0;
	seg_ctl(&s, 0)->head = seg_ctl(&s, 0)->tail = 8192 - 16;
	slot_raw(&s, 0, 8, GT_REC_PAD_ID, 8);
	slot_raw(&s, 0, 8, GT_REC_PAD_ID, 8);
	slot_write(&s, 0, a, 60, pl, mk_payload(pl, 60, "after pad"));
	gt_collector_drain(c);
	CHECK(f.nev == 1 && f.corrupt == 0);
	slot_raw(&s, 0, 4, GT_REC_PAD_ID, 8);
	gt_collector_drain(c);
	CHECK(f.corrupt == 1);

	/* lost counter going backwards is corrupt, not a huge loss */
	seg_ctl(&s, 0)->lost = 10;
	gt_collector_drain(c);
	seg_ctl(&s, 0)->lost = 2;
	f.lost = 0;
	gt_collector_drain(c);
	CHECK(f.lost == 0 && f.corrupt == 2);
	gt_collector_detach(c, sg);
	free_collector(c, &f);
	free(s.map);
}

/* Raw schema record with a caller-built body (types + strings). */
static void raw_schema(struct seg *s, uint32_t size, uint32_t id, uint8_t kind, uint8_t level,
		       uint8_t nfields, const void *body, size_t blen)
{
	unsigned char *p = s->map + s->h->schema_off + s->schema_used;
	struct gt_shm_schema h = {
		.size = size, .id = id, .kind = kind, .level = level, .nfields = nfields
	};

	memset(p, 0, size > 4096 ? 4096 : size);
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), body, blen);
	s->schema_used += size;
	s->next_id = id + 1;
	s->h->schema_head = s->schema_used;
}

static void test_hostile_schemas(void)
{
	struct fake_sink f;
	struct gt_collector *c = new_collector(&f, false, NULL);
	struct gt_segment *sg;
	struct seg s;
	unsigned char pl[64];
	uint32_t a, nsch;
	char body[64];

	if (!c)
		return;
	seg_init(&s, 400, 2, 4096);
	a = seg_schema(&s, "Test.S", "Good", 2, T_I64_STR, N_SEQ_TXT);
	/* id 2: strings without a NUL (fills the record with 'x') */
	memset(body, 'x', sizeof(body));
	raw_schema(&s, 24 + 64, 2, GT_KIND_EVENT, 4, 0, body, sizeof(body));
	/* id 3: nfields > GT_FIELDS_MAX */
	raw_schema(&s, 24 + 40, 3, GT_KIND_EVENT, 4, 200, "\1\1\1\1p\0e\0f\0\0", 12);
	/* id 4: bad type byte */
	raw_schema(&s, 24 + 16, 4, GT_KIND_EVENT, 4, 1, "\x09p\0e\0f\0\0n\0", 11);
	/* id 5: bad kind, id 6: level 0, id 7: empty provider */
	raw_schema(&s, 24 + 16, 5, 9, 4, 0, "p\0e\0f\0\0", 7);
	raw_schema(&s, 24 + 16, 6, GT_KIND_EVENT, 0, 0, "p\0e\0f\0\0", 7);
	raw_schema(&s, 24 + 16, 7, GT_KIND_EVENT, 4, 0, "\0e\0f\0\0", 6);
	CHECK(gt_collector_attach_map(c, s.map, s.size, 400, false, &sg) == 0);
	gt_collector_drain(c); /* sink operations are delivered by a drain */
	nsch = f.nschemas;
	CHECK(f.corrupt == 6);
	/* the good schema after the bad ones still works */
	s.next_id = 8;
	uint32_t g2 = seg_schema(&s, "Test.S", "Later", 2, T_I64_STR, N_SEQ_TXT);

	slot_claim(&s, 0, 1);
	slot_write(&s, 0, a, 1, pl, mk_payload(pl, 1, "a"));
	for (uint32_t id = 2; id <= 7; id++)
		slot_write(&s, 0, id, 1 + id, pl, mk_payload(pl, id, "bad schema"));
	slot_write(&s, 0, g2, 10, pl, mk_payload(pl, 10, "later"));
	f.corrupt = 0;
	gt_collector_drain(c);
	CHECK(f.nev == 2 && f.corrupt == 6);
	CHECK(f.nschemas == nsch + 1);

	/* framing errors poison the rest of the schema region */
	f.corrupt = 0;
	raw_schema(&s, 0x10000, 9, GT_KIND_EVENT, 4, 0, "p\0e\0f\0\0", 7); /* huge size */
	s.schema_used -= 0x10000;
	s.h->schema_head = s.schema_used + 0x10000 > 8192 ? 8192 : s.schema_used + 0x10000;
	gt_collector_drain(c);
	CHECK(f.corrupt == 1);
	s.h->schema_head = 1u << 30; /* beyond the region: already poisoned, not recounted */
	slot_write(&s, 0, 9, 20, pl, mk_payload(pl, 20, "x"));
	f.nev = 0;
	gt_collector_drain(c);
	CHECK(f.nev == 0 && f.corrupt == 2);
	gt_collector_detach(c, sg);

	/* schema_head out of range on a fresh segment; ids out of order */
	free(s.map);
	seg_init(&s, 401, 1, 4096);
	s.h->schema_head = 12345;
	f.corrupt = 0;
	CHECK(gt_collector_attach_map(c, s.map, s.size, 401, false, &sg) == 0);
	gt_collector_drain(c);
	CHECK(f.corrupt == 1);
	gt_collector_detach(c, sg);
	free(s.map);
	seg_init(&s, 402, 1, 4096);
	s.next_id = 5;
	seg_schema(&s, "Test.S", "Skip", 2, T_I64_STR, N_SEQ_TXT);
	f.corrupt = 0;
	CHECK(gt_collector_attach_map(c, s.map, s.size, 402, false, &sg) == 0);
	gt_collector_drain(c);
	CHECK(f.corrupt == 1);
	gt_collector_detach(c, sg);
	free_collector(c, &f);
	free(s.map);
}

/* Same schemas from two processes (fork/exec) are stored once. */
static void test_dedupe(void)
{
	struct fake_sink f;
	struct gt_collector *c = new_collector(&f, false, NULL);
	struct gt_segment *g1, *g2;
	struct seg s1, s2;
	unsigned char pl[64];
	uint32_t base;

	if (!c)
		return;
	gt_collector_drain(c);
	base = f.nschemas;
	CHECK(base == 0); /* the collector's own schemas are added on first use only */
	seg_init(&s1, 500, 1, 4096);
	seg_init(&s2, 501, 1, 4096);
	seg_schema(&s1, "Test.D", "X", 2, T_I64_STR, N_SEQ_TXT);
	seg_schema(&s1, "Test.D", "Y", 2, T_I64_STR, N_SEQ_TXT);
	/* the child registers the same call sites in another order */
	seg_schema(&s2, "Test.D", "Y", 2, T_I64_STR, N_SEQ_TXT);
	seg_schema(&s2, "Test.D", "X", 2, T_I64_STR, N_SEQ_TXT);
	seg_schema(&s2, "Test.D", "X", 1, T_I64_STR, N_SEQ_TXT); /* differs: one field */
	CHECK(gt_collector_attach_map(c, s1.map, s1.size, 500, false, &g1) == 0);
	CHECK(gt_collector_attach_map(c, s2.map, s2.size, 501, false, &g2) == 0);
	gt_collector_drain(c);
	CHECK(f.nschemas == base + 3);
	slot_claim(&s1, 0, 500);
	slot_claim(&s2, 0, 501);
	slot_write(&s1, 0, 1, 1, pl, mk_payload(pl, 1, "x")); /* X */
	slot_write(&s2, 0, 2, 2, pl, mk_payload(pl, 2, "x")); /* X */
	slot_write(&s2, 0, 1, 3, pl, mk_payload(pl, 3, "y")); /* Y */
	gt_collector_drain(c);
	CHECK(f.nev == 3);
	CHECK(f.ev[0].sid == f.ev[1].sid && f.ev[0].pid == 500 && f.ev[1].pid == 501);
	CHECK(f.ev[2].sid != f.ev[0].sid);
	gt_collector_detach(c, g1);
	gt_collector_detach(c, g2);
	free_collector(c, &f);
	free(s1.map);
	free(s2.map);
}

/* Collector's own events: process start/exit and output lines. */
static void test_internal_events(void)
{
	struct fake_sink f;
	struct gt_collector *c = new_collector(&f, false, NULL);
	int p[2];
	char big[70000];

	if (!c)
		return;
	gt_collector_proc_start(c, 42, 1, "/bin/x", "x -a");
	gt_collector_proc_exit(c, 42, 3, 0, false);
	gt_collector_proc_exit(c, 42, 4, 0, false); /* once only */
	CHECK(pipe(p) == 0);
	CHECK(fcntl(p[1], F_SETPIPE_SZ, 1 << 20) > 0);
	CHECK(gt_collector_add_output(c, p[0], 1, open("/dev/null", O_WRONLY), 42) == 0);
	CHECK(write(p[1], "one\ntwo\n", 8) == 8);
	memset(big, 'z', sizeof(big));
	CHECK(write(p[1], big, sizeof(big)) == (ssize_t)sizeof(big));
	CHECK(write(p[1], "\nlast", 5) == 5);
	close(p[1]);
	for (int i = 0; i < 50 && gt_collector_outputs_open(c); i++)
		gt_collector_poll(c, 10);
	CHECK(!gt_collector_outputs_open(c));
	gt_collector_finish(c);
	CHECK(count_of(&f, "gtrace.process/start") == 1);
	CHECK(count_of(&f, "gtrace.process/exit") == 1);
	/* one, two, 60 KiB piece, the rest of the long line, last */
	CHECK(count_of(&f, "gtrace.output/line") == 5);
	for (size_t i = 0; i < f.nev; i++) {
		if (strcmp(f.sname[f.ev[i].sid], "gtrace.output/line"))
			continue;
		CHECK(!memcmp(f.ev[i].p, "\6\0\0\0stdout", 10));
	}
	{
		uint32_t len;
		size_t last = f.nev - 1;

		while (strcmp(f.sname[f.ev[last].sid], "gtrace.output/line"))
			last--;
		memcpy(&len, f.ev[last].p + 10, 4);
		CHECK(len == 4 && !memcmp(f.ev[last].p + 14, "last", 4));
	}
	CHECK(f.nclock >= 1);
	free_collector(c, &f);
}

/* The profile applies to the collector's own events too. */
static void test_internal_filtered(void)
{
	static const char text[] = "provider * level=5\nprovider gtrace.output level=off\n";
	struct gt_collector_opts o = { 0 };
	struct gt_collector *c = NULL;
	struct gt_profile prof;
	struct fake_sink f;
	char err[256];

	CHECK(gt_profile_parse(text, strlen(text), "t", &prof, err, sizeof(err)) == 0);
	memset(&f, 0, sizeof(f));
	f.ev = calloc(MAXEV, sizeof(*f.ev));
	o.clock = GT_CLOCK_MONO;
	o.profile = &prof;
	o.sink.ctx = &f;
	o.sink.add_schema = fs_schema;
	o.sink.add_event = fs_event;
	o.sink.add_lost = fs_lost;
	o.sink.add_corrupt = fs_corrupt;
	o.sink.clock = fs_clock;
	o.threaded = threaded_mode;
	CHECK(gt_collector_new(&o, &c) == 0);
	if (!c)
		return;
	gt_collector_proc_start(c, 7, 1, "/bin/x", "x");
	gt_collector_line(c, 7, 1, "hidden", 6);
	gt_collector_proc_exit(c, 7, 0, 0, false);
	gt_collector_finish(c);
	CHECK(count_of(&f, "gtrace.process/start") == 1);
	CHECK(count_of(&f, "gtrace.process/exit") == 1);
	CHECK(count_of(&f, "gtrace.output/line") == 0);
	CHECK(f.nschemas == 2); /* no schema for the disabled event either */
	free_collector(c, &f);
}

/* ---- the process table (collector/proctab.c) ---- */

/* pids above PID_MAX_LIMIT (4194304): no such process, /proc reads fail */
#define NOPID 5000000u

/* Count start and exit records by the pid in their payload, for pids base..base+n-1. */
static void count_proc_recs(const struct fake_sink *f, uint32_t base, uint32_t n,
			    unsigned char *starts, unsigned char *exits)
{
	memset(starts, 0, n);
	memset(exits, 0, n);
	for (size_t i = 0; i < f->nev; i++) {
		const char *name = f->ev[i].sid < 64 ? f->sname[f->ev[i].sid] : "";
		uint32_t pid;

		memcpy(&pid, f->ev[i].p, 4);
		if (pid - base >= n || f->ev[i].pid != pid)
			continue;
		if (!strcmp(name, "gtrace.process/start") && starts[pid - base] < 255)
			starts[pid - base]++;
		else if (!strcmp(name, "gtrace.process/exit") && exits[pid - base] < 255)
			exits[pid - base]++;
	}
}

/*
 * A long-lived session meets many processes: the table holds only the live
 * ones, and every process gets exactly one start and one exit record.
 */
static void test_proctab_bounded(void)
{
	enum { NSEQ = 10000, NLIVE = 3000 };
	static unsigned char starts[NSEQ], exits[NSEQ];
	static uint32_t order[NLIVE];
	struct fake_sink f;
	struct gt_collector *c = new_collector(&f, false, NULL);
	size_t maxn = 0, maxcap = 0, bad = 0;
	uint32_t seed = 12345;

	if (!c)
		return;
	/* one after the other, as a session serving a test pipeline sees them */
	for (uint32_t i = 0; i < NSEQ; i++) {
		gt_collector_proc_start(c, NOPID + i, 1, "/bin/t", "t");
		if (gt_proctab_count(&c->procs) > maxn)
			maxn = gt_proctab_count(&c->procs);
		gt_collector_proc_exit(c, NOPID + i, 0, 0, false);
		gt_collector_proc_exit(c, NOPID + i, 1, 0, false); /* waitpid after the segment's */
		if (c->procs.cap > maxcap)
			maxcap = c->procs.cap;
	}
	CHECK(maxn == 1);
	CHECK(maxcap <= 16);
	CHECK(gt_proctab_count(&c->procs) == 0);
	gt_collector_finish(c);
	count_proc_recs(&f, NOPID, NSEQ, starts, exits);
	for (uint32_t i = 0; i < NSEQ; i++)
		bad += starts[i] != 1 || exits[i] != 1;
	CHECK(bad == 0);
	free_collector(c, &f);

	/* many at once, leaving in a shuffled order: lookups stay right while entries shift */
	c = new_collector(&f, false, NULL);
	if (!c)
		return;
	for (uint32_t i = 0; i < NLIVE; i++) {
		order[i] = NOPID + i * 7; /* spread, with probe runs that interleave */
		gt_collector_proc_start(c, order[i], 1, "/bin/t", "t");
	}
	CHECK(gt_proctab_count(&c->procs) == NLIVE);
	CHECK(c->procs.cap >= 2 * NLIVE);
	for (uint32_t i = NLIVE - 1; i > 0; i--) {
		uint32_t j, tmp;

		seed = seed * 1103515245u + 12345u;
		j = (seed >> 8) % (i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	bad = 0;
	for (uint32_t i = 0; i < NLIVE; i++) {
		gt_collector_proc_exit(c, order[i], 0, 0, false);
		bad += gt_proc_find(&c->procs, order[i]) != NULL;
		if (i % 97 == 0)
			for (uint32_t k = i + 1; k < NLIVE; k++)
				bad += gt_proc_find(&c->procs, order[k]) == NULL;
	}
	CHECK(bad == 0);
	CHECK(gt_proctab_count(&c->procs) == 0);
	gt_collector_reap_detached(c, false); /* gives back the slots of the burst */
	CHECK(c->procs.cap <= 16);
	gt_collector_finish(c);
	CHECK(count_of(&f, "gtrace.process/start") == NLIVE);
	CHECK(count_of(&f, "gtrace.process/exit") == NLIVE);
	free_collector(c, &f);
}

/* A pid used again after an exit is a new process: a new start record. */
static void test_proctab_reuse(void)
{
	unsigned char starts[4], exits[4];
	struct fake_sink f;
	struct gt_collector *c = new_collector(&f, false, NULL);
	uint32_t a = NOPID, b = NOPID + 1, d = NOPID + 2;

	if (!c)
		return;
	/* started by the collector, exited, started again */
	gt_collector_proc_start(c, a, 1, "/bin/x", "x");
	gt_collector_proc_exit(c, a, 0, 0, false);
	gt_collector_proc_start(c, a, 1, "/bin/y", "y");
	gt_collector_proc_exit(c, a, 2, 0, false);
	/* joined through the session: HELLO, connection closed (gone: no such process) */
	gt_collector_proc_hello(c, b);
	gt_collector_proc_gone(c, b, NULL);
	CHECK(gt_proc_find(&c->procs, b) == NULL);
	gt_collector_proc_hello(c, b);
	CHECK(gt_proc_find(&c->procs, b) != NULL);
	gt_collector_proc_gone(c, b, NULL);
	/*
	 * waitpid reports the exit before the connection's EOF is read, and the
	 * pid is reused meanwhile: the entry stays while a connection is open
	 */
	gt_collector_proc_start(c, d, 1, "/bin/x", "x");
	gt_collector_proc_hello(c, d);
	gt_collector_proc_exit(c, d, 0, 0, false);
	CHECK(gt_proc_find(&c->procs, d) != NULL);
	gt_collector_proc_hello(c, d); /* the new process of that pid */
	gt_collector_proc_gone(c, d, NULL); /* the old EOF: the new one is still connected */
	CHECK(gt_proc_find(&c->procs, d) != NULL);
	gt_collector_proc_gone(c, d, NULL);
	CHECK(gt_proc_find(&c->procs, d) == NULL);
	CHECK(gt_proctab_count(&c->procs) == 0);
	gt_collector_finish(c);
	count_proc_recs(&f, NOPID, 3, starts, exits);
	CHECK(starts[0] == 2 && exits[0] == 2);
	CHECK(starts[1] == 2 && exits[1] == 2);
	CHECK(starts[2] == 2 && exits[2] == 2);
	free_collector(c, &f);
}

/* Events still in a process's segment after its exit is recorded stay its own. */
static void test_proctab_drain_after_exit(void)
{
	struct fake_sink f;
	struct gt_collector *c = new_collector(&f, false, NULL);
	struct gt_segment *sg;
	unsigned char pl[64];
	struct seg s;
	uint32_t id;
	size_t mine = 0;

	if (!c)
		return;
	seg_init(&s, 700, 1, 4096);
	id = seg_schema(&s, "Test.Late", "E", 2, T_I64_STR, N_SEQ_TXT);
	CHECK(gt_collector_attach_map(c, s.map, s.size, 700, false, &sg) == 0);
	gt_collector_proc_start(c, 700, 1, "/bin/x", "x");
	slot_claim(&s, 0, 701);
	for (int i = 0; i < 3; i++)
		CHECK(slot_write(&s, 0, id, 10 + (uint64_t)i, pl, mk_payload(pl, i, "early")));
	gt_collector_proc_exit(c, 700, 0, 0, false);
	CHECK(gt_proctab_count(&c->procs) == 0);
	for (int i = 3; i < 5; i++) /* committed after the exit was recorded */
		CHECK(slot_write(&s, 0, id, 10 + (uint64_t)i, pl, mk_payload(pl, i, "late")));
	gt_segment_drain(c, sg, true);
	/* a new process of the same pid starts meanwhile: a new start record */
	gt_collector_proc_start(c, 700, 1, "/bin/y", "y");
	gt_collector_detach(c, sg);
	gt_collector_finish(c);
	for (size_t i = 0; i < f.nev; i++) {
		if (f.ev[i].sid >= 64 || strcmp(f.sname[f.ev[i].sid], "Test.Late/E"))
			continue;
		CHECK(f.ev[i].pid == 700 && f.ev[i].tid == 701);
		CHECK(ev_seq(&f.ev[i]) == (int64_t)mine);
		mine++;
	}
	CHECK(mine == 5);
	CHECK(count_of(&f, "gtrace.process/start") == 2);
	CHECK(count_of(&f, "gtrace.process/exit") == 1);
	free_collector(c, &f);
	free(s.map);
}

/* ---- the session socket, in-process ---- */

static int sock_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_msg(int fd, uint16_t type, int passfd)
{
	struct gt_msg m = { .magic = GT_MSG_MAGIC,
			    .type = type,
			    .size = sizeof(m),
			    .abi_version = GT_ABI_VERSION };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (passfd >= 0) {
		struct cmsghdr *cm;

		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &passfd, sizeof(int));
	}
	CHECK(sendmsg(fd, &mh, 0) == (ssize_t)sizeof(m));
}

static void pump(struct gt_collector *c)
{
	for (int i = 0; i < 5; i++)
		gt_collector_poll(c, 2);
}

/* Producer handshake; returns the socket, maps the segment into *s. */
static int producer_join(struct gt_collector *c, struct seg *s, int seals, long size_delta)
{
	unsigned char
		buf[sizeof(struct gt_msg_welcome) + GT_RULES_MAX * sizeof(struct gt_msg_rule)];
	struct gt_msg_welcome w;
	size_t size;
	ssize_t n;
	int fd, mfd;

	fd = sock_connect(gt_collector_session(c));
	CHECK(fd >= 0);
	if (fd < 0)
		return -1;
	send_msg(fd, GT_MSG_HELLO, -1);
	pump(c);
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK(n >= (ssize_t)sizeof(w));
	if (n < (ssize_t)sizeof(w))
		return fd;
	memcpy(&w, buf, sizeof(w));
	CHECK(w.hdr.magic == GT_MSG_MAGIC && w.hdr.type == GT_MSG_WELCOME);
	CHECK(w.hdr.size == (uint32_t)n && w.nrules == 1);
	CHECK(w.clock == GT_CLOCK_MONO && w.ring_size == (8u << 20) && w.nslots == 64);
	CHECK(w.schema_size == (256u << 10));
	CHECK(!strcmp(((struct gt_msg_rule *)(buf + sizeof(w)))->pattern, "*"));
	/* a small segment rather than the welcome's sizes: any valid layout is accepted */
	size = seg_bytes(2, 4096, 8192);
	mfd = memfd_create("gtrace-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	CHECK(mfd >= 0);
	CHECK(ftruncate(mfd, (off_t)size) == 0);
	s->size = size;
	s->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	seg_init_at(s, s->map, (uint32_t)getpid(), 2, 4096, 8192);
	if (size_delta)
		CHECK(ftruncate(mfd, (off_t)size + size_delta) == 0);
	if (seals)
		CHECK(fcntl(mfd, F_ADD_SEALS, seals) == 0);
	send_msg(fd, GT_MSG_ATTACH, mfd);
	close(mfd);
	pump(c);
	return fd;
}

static void test_session(void)
{
	char dir[] = "/tmp/gt_test_sess_XXXXXX";
	struct gt_collector_stats st;
	struct fake_sink f;
	struct gt_collector *c;
	struct seg s;
	unsigned char pl[64];
	uint32_t a;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	c = new_collector(&f, true, dir);
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(gt_collector_session(c) && !strncmp(gt_collector_session(c), dir, strlen(dir)));

	/* a good producer: events, then it exits with status 7 */
	fd = producer_join(c, &s, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL, 0);
	gt_collector_stats(c, &st);
	CHECK(st.segments == 1 && st.corrupt == 0);
	a = seg_schema(&s, "Test.Sock", "E", 2, T_I64_STR, N_SEQ_TXT);
	slot_claim(&s, 0, (uint32_t)getpid());
	for (int i = 0; i < 10; i++)
		slot_write(&s, 0, a, gt_clock_ticks(GT_CLOCK_MONO), pl, mk_payload(pl, i, "sock"));
	pump(c);
	gt_collector_drain(c);
	CHECK(count_of(&f, "Test.Sock/E") == 10);
	for (int i = 0; i < 3; i++)
		slot_write(&s, 0, a, gt_clock_ticks(GT_CLOCK_MONO), pl,
			   mk_payload(pl, 10 + i, "late"));
	s.h->exit_status = 7;
	s.h->exit_flags = GT_EXIT_NORMAL;
	close(fd); /* EOF: final drain of what was committed before "death" */
	munmap(s.map, s.size);
	pump(c);
	gt_collector_drain(c);
	CHECK(count_of(&f, "Test.Sock/E") == 13);
	CHECK(count_of(&f, "gtrace.process/start") == 1);
	CHECK(count_of(&f, "gtrace.process/exit") == 1);
	for (size_t i = 0; i < f.nev; i++) {
		int32_t v[3];

		if (strcmp(f.sname[f.ev[i].sid], "gtrace.process/exit"))
			continue;
		memcpy(v, f.ev[i].p, sizeof(v));
		CHECK(v[0] == getpid() && v[1] == 7 && v[2] == 0);
	}

	/* memfd without F_SEAL_SHRINK is refused */
	gt_collector_stats(c, &st);
	fd = producer_join(c, &s, 0, 0);
	{
		struct gt_collector_stats st2;

		gt_collector_stats(c, &st2);
		CHECK(st2.segments == st.segments && st2.corrupt == st.corrupt + 1);
		st = st2;
	}
	close(fd);
	munmap(s.map, s.size);
	pump(c);
	/* size disagreeing with the header is refused */
	fd = producer_join(c, &s, F_SEAL_SHRINK, 4096);
	{
		struct gt_collector_stats st2;

		gt_collector_stats(c, &st2);
		CHECK(st2.segments == st.segments && st2.corrupt == st.corrupt + 1);
		st = st2;
	}
	close(fd);
	munmap(s.map, s.size);
	pump(c);

	/* protocol abuse: ATTACH before HELLO, garbage, short message */
	fd = sock_connect(gt_collector_session(c));
	send_msg(fd, GT_MSG_ATTACH, -1);
	pump(c);
	CHECK(recv(fd, pl, sizeof(pl), MSG_DONTWAIT) == 0); /* closed by the collector */
	close(fd);
	fd = sock_connect(gt_collector_session(c));
	CHECK(send(fd, "xy", 2, 0) == 2);
	pump(c);
	CHECK(recv(fd, pl, sizeof(pl), MSG_DONTWAIT) == 0);
	close(fd);
	gt_collector_stats(c, &st);
	CHECK(st.segments == 1);
	gt_collector_finish(c);
	free_collector(c, &f);
	CHECK(rmdir(dir) == 0); /* the collector removed its socket: the directory is empty */
}

int main(void)
{
	test_opname();
	test_validate();
	/* inline sink, then the same with the sink on the writer thread */
	for (int mode = 0; mode < 2; mode++) {
		threaded_mode = mode;
		test_good_drain();
		test_hostile_rings();
		test_hostile_schemas();
		test_dedupe();
		test_internal_events();
		test_internal_filtered();
		test_proctab_bounded();
		test_proctab_reuse();
		test_proctab_drain_after_exit();
		test_session();
	}
	return gt_check_result("test_collector");
}
