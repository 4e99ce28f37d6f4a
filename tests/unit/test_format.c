/* SPDX-License-Identifier: MIT */
/*
 * test_format.c - the .gtrace codec: varints, writer -> reader round trips
 * of every field type and edge value, time-order merge of overlapping
 * chunks, filters, recovery of truncated files, damage detection, format
 * limits, write errors and the safe log-message renderer.
 *
 * Exit 0 pass, 1 fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtrace/reader.h>

#include "format/gt_fmt.h"
#include "format/gt_writer.h"

#include "gt_check.h"

static char tmpdir[256];

static void tpath(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmpdir, name);
	unlink(buf);
}

/* ---------------------------------------------------------------- payload */

struct pl {
	uint8_t b[70000];
	size_t n;
};

static void p_u32(struct pl *p, uint32_t v)
{
	memcpy(p->b + p->n, &v, 4);
	p->n += 4;
}

static void p_u64(struct pl *p, uint64_t v)
{
	memcpy(p->b + p->n, &v, 8);
	p->n += 8;
}

static void p_f64(struct pl *p, double v)
{
	memcpy(p->b + p->n, &v, 8);
	p->n += 8;
}

static void p_str(struct pl *p, const void *s, uint32_t n)
{
	p_u32(p, n);
	if (n)
		memcpy(p->b + p->n, s, n);
	p->n += n;
}

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *d;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc(n ? (size_t)n : 1);
	if (d && fread(d, 1, (size_t)n, f) != (size_t)n) {
		free(d);
		d = NULL;
	}
	fclose(f);
	*size = (size_t)n;
	return d;
}

static int write_file(const char *path, const void *d, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(d, 1, n, f) == n;
	fclose(f);
	return ok ? 0 : -1;
}

/* ---------------------------------------------------------------- varints */

static void test_varint(void)
{
	static const uint64_t vals[] = { 0,
					 1,
					 127,
					 128,
					 255,
					 16383,
					 16384,
					 UINT32_MAX,
					 (uint64_t)INT64_MAX,
					 (uint64_t)INT64_MAX + 1,
					 UINT64_MAX };
	static const int64_t svals[] = { 0,  1,		-1,	   63,	      -64,
					 64, INT32_MIN, INT32_MAX, INT64_MIN, INT64_MAX };
	uint8_t buf[16];

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint64_t v = 0;
		size_t n = gt_varint_put(buf, vals[i]);

		CHECK(n >= 1 && n <= 10);
		CHECK(gt_varint_get(buf, buf + n, &v) == n);
		CHECK(v == vals[i]);
		/* cut short: never reads past the end */
		CHECK(gt_varint_get(buf, buf + n - 1, &v) == 0 || n == 1);
	}
	CHECK(gt_varint_put(buf, UINT64_MAX) == 10);
	for (size_t i = 0; i < sizeof(svals) / sizeof(svals[0]); i++)
		CHECK(gt_unzigzag(gt_zigzag(svals[i])) == svals[i]);
	CHECK(gt_zigzag(0) == 0 && gt_zigzag(-1) == 1 && gt_zigzag(1) == 2);
	CHECK(gt_zigzag(INT64_MIN) == UINT64_MAX);
	/* 11 continuation bytes, and a 10th byte > 1, are rejected */
	{
		uint64_t v;

		memset(buf, 0x80, sizeof(buf));
		CHECK(gt_varint_get(buf, buf + 16, &v) == 0);
		memset(buf, 0xff, 9);
		buf[9] = 0x02;
		CHECK(gt_varint_get(buf, buf + 10, &v) == 0);
		buf[9] = 0x01;
		CHECK(gt_varint_get(buf, buf + 10, &v) == 10 && v == UINT64_MAX);
	}
}

/* ------------------------------------------------------------ round trip */

static const struct gt_field_desc all_fields[] = {
	{ GT_TYPE_I32, "i32" }, { GT_TYPE_U32, "u32" }, { GT_TYPE_I64, "i64" },
	{ GT_TYPE_U64, "u64" }, { GT_TYPE_F64, "f64" }, { GT_TYPE_BOOL, "b" },
	{ GT_TYPE_STR, "s" },	{ GT_TYPE_BYTES, "y" },
};

struct row {
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	double f64;
	bool b;
	const char *s;
	uint32_t slen;
	const uint8_t *y;
	uint32_t ylen;
};

static char big[65536];
static uint8_t bin[256];

static struct row rows[] = {
	{ INT32_MIN, 0, INT64_MIN, 0, NAN, false, "", 0, NULL, 0 },
	{ INT32_MAX, UINT32_MAX, INT64_MAX, UINT64_MAX, INFINITY, true, "x", 1, bin, 256 },
	{ -1, 1, -1, (uint64_t)INT64_MAX + 1, -INFINITY, true, big, sizeof(big), bin, 1 },
	{ 0, 7, 0, 1, -0.0, false, "h\xc3\xa9\0llo", 7, bin + 255, 1 },
	{ 12345, 0x80000000u, 1, UINT64_MAX - 1, 1e-308, true, "\xff\xfe", 2, bin, 0 },
	{ INT32_MIN, UINT32_MAX, INT64_MAX, 0, DBL_MAX, false, "z", 1, bin, 3 },
};

static void row_payload(const struct row *r, struct pl *p)
{
	p->n = 0;
	p_u32(p, (uint32_t)r->i32);
	p_u32(p, r->u32);
	p_u64(p, (uint64_t)r->i64);
	p_u64(p, r->u64);
	p_f64(p, r->f64);
	p->b[p->n++] = r->b;
	p_str(p, r->s, r->slen);
	p_str(p, r->y, r->ylen);
}

static bool same_f64(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return memcmp(&a, &b, 8) == 0;
}

static void check_row(const struct gt_event *ev, const struct row *r)
{
	const struct gt_value *v = ev->values;

	CHECK(ev->nfields == 8);
	CHECK(v[0].type == GT_TYPE_I32 && v[0].i64 == r->i32);
	CHECK(v[1].type == GT_TYPE_U32 && v[1].u64 == r->u32);
	CHECK(v[2].type == GT_TYPE_I64 && v[2].i64 == r->i64);
	CHECK(v[3].type == GT_TYPE_U64 && v[3].u64 == r->u64);
	CHECK(v[4].type == GT_TYPE_F64 && same_f64(v[4].f64, r->f64));
	CHECK(v[5].type == GT_TYPE_BOOL && v[5].b == r->b);
	CHECK(v[6].type == GT_TYPE_STR && v[6].len == r->slen &&
	      (!r->slen || !memcmp(v[6].str, r->s, r->slen)));
	CHECK(v[7].type == GT_TYPE_BYTES && v[7].len == r->ylen &&
	      (!r->ylen || !memcmp(v[7].bytes, r->y, r->ylen)));
}

static const struct gt_clock_sample start_mono = { 1000, 5000, 1700000000000000000ull };

static struct gt_schema_desc types_schema = {
	.id = 7,
	.kind = GT_KIND_EVENT,
	.level = 4,
	.keywords = 0xffffffffffffffffull,
	.provider = "Unit.Types",
	.name = "All",
	.file = "test.c",
	.line = 42,
	.nfields = 8,
	.fields = all_fields,
};

static void test_roundtrip(void)
{
	struct gt_writer_opts o = { .clock = GT_CLOCK_MONO, .chunk_bytes = 100000 };
	size_t nrows = sizeof(rows) / sizeof(rows[0]);
	struct gt_writer *w;
	struct gt_reader *r;
	struct gt_iter *it;
	const struct gt_event *ev;
	struct pl *p = malloc(sizeof(*p));
	char path[512], err[512];
	int ret;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)i;
	tpath(path, sizeof(path), "rt.gtrace");
	{
		struct gt_writer *w0;

		CHECK(gt_writer_open(path, &o, &start_mono, &w0) == 0);
		CHECK(gt_writer_open(path, &o, &start_mono, &w) == -EEXIST && !w); /* O_EXCL */
		CHECK(gt_writer_close(w0) == 0);
		unlink(path);
	}
	CHECK(gt_writer_open(path, &o, &start_mono, &w) == 0);
	CHECK(gt_writer_add_schema(w, &types_schema) == 0);
	CHECK(gt_writer_add_schema(w, &types_schema) == -EEXIST);
	CHECK(gt_writer_set_meta(w, "op", "first") == 0);
	CHECK(gt_writer_set_meta(w, "op", "unit") == 0);
	CHECK(gt_writer_set_meta(w, "command", "test_format --all") == 0);
	for (int rep = 0; rep < 3; rep++) {
		for (size_t i = 0; i < nrows; i++) {
			row_payload(&rows[i], p);
			ret = gt_writer_add_event(w, 2000 + 10 * (rep * nrows + i), 1,
						  2 + (uint32_t)rep, 7, p->b, p->n);
			CHECK(ret == 0);
		}
	}
	/* bad payloads are refused and not counted */
	row_payload(&rows[0], p);
	CHECK(gt_writer_add_event(w, 1, 1, 1, 7, p->b, p->n - 1) == -GT_ECORRUPT);
	CHECK(gt_writer_add_event(w, 1, 1, 1, 7, p->b, 3) == -GT_ECORRUPT);
	p->b[p->n] = 1;
	CHECK(gt_writer_add_event(w, 1, 1, 1, 7, p->b, p->n + 1) == -GT_ECORRUPT);
	p->b[p->n] = 0;
	CHECK(gt_writer_add_event(w, 1, 1, 1, 7, p->b, p->n + 1) == 0); /* zero padding ok */
	CHECK(gt_writer_add_event(w, 1, 1, 1, 99, p->b, p->n) == -ENOENT);
	{
		/* a string length pointing past the payload */
		struct pl q = { .n = 0 };

		row_payload(&rows[1], p);
		memcpy(q.b, p->b, p->n);
		q.n = p->n;
		memset(q.b + 33, 0xff, 4);
		CHECK(gt_writer_add_event(w, 1, 1, 1, 7, q.b, q.n) == -GT_ECORRUPT);
	}
	{
		/* a schema without fields (a bare span): no payload at all */
		struct gt_schema_desc bare = { .id = 8,
					       .kind = GT_KIND_SPAN_BEGIN,
					       .level = 1,
					       .provider = "Unit.Types",
					       .name = "Bare" };

		CHECK(gt_writer_add_schema(w, &bare) == 0);
		CHECK(gt_writer_add_event(w, 100000, 3, 3, 8, NULL, 0) == 0);
		CHECK(gt_writer_add_event(w, 100001, 3, 3, 8, p->b, 1) == -GT_ECORRUPT || p->b[0]);
	}
	CHECK(gt_writer_add_lost(w, 1, 2, 5) == 0);
	CHECK(gt_writer_add_lost(w, 1, 2, 6) == 0);
	CHECK(gt_writer_add_corrupt(w, 9, 4) == 0);
	CHECK(gt_writer_events(w) == 3 * nrows + 2);
	CHECK(gt_writer_close(w) == 0);

	ret = gt_reader_open_ex(path, GT_READER_VERIFY, &r, err, sizeof(err));
	CHECK(ret == 0);
	if (ret)
		goto out;
	{
		const struct gt_summary *s = gt_reader_summary(r);
		const struct gt_schema *sc = gt_reader_schema(r, 7);

		CHECK(s->complete && !s->recovered);
		CHECK(s->nevents == 3 * nrows + 2);
		CHECK(s->lost_total == 11 && s->corrupt_total == 4);
		CHECK(gt_reader_lost_count(r) == 1 && gt_reader_lost_at(r, 0)->tid == 2);
		CHECK(gt_reader_corrupt_at(r, 0)->pid == 9);
		CHECK(s->start.realtime_ns == start_mono.realtime_ns);
		CHECK(s->clock == GT_CLOCK_MONO);
		CHECK(!strcmp(gt_reader_meta(r, "op"), "unit"));
		CHECK(!strcmp(gt_reader_meta(r, "command"), "test_format --all"));
		CHECK(gt_reader_meta(r, "nope") == NULL);
		CHECK(sc && sc->nevents == 3 * nrows + 1 && sc->keywords == UINT64_MAX);
		CHECK(sc && !strcmp(sc->provider, "Unit.Types") && !strcmp(sc->name, "All"));
		CHECK(sc && sc->line == 42 && !strcmp(sc->file, "test.c") && sc->nfields == 8);
		CHECK(sc && !strcmp(sc->fields[7].name, "y") &&
		      sc->fields[7].type == GT_TYPE_BYTES);
		CHECK(gt_reader_schema(r, 9) == NULL);
	}
	CHECK(gt_iter_new(r, NULL, &it) == 0);
	{
		size_t n = 0;

		/* the padded event has ts 1 (before start 1000 -> 0 ns) */
		CHECK(gt_iter_next(it, &ev) == 1);
		CHECK(ev->ts_ns == 0 && ev->ticks == 1);
		while (gt_iter_next(it, &ev) == 1) {
			if (ev->schema->id == 8) {
				CHECK(ev->nfields == 0 && ev->ts_ns == 99000 && n == 3 * nrows);
				CHECK(ev->schema->kind == GT_KIND_SPAN_BEGIN);
				continue;
			}
			CHECK(ev->ts_ns == 1000 + 10 * n);
			CHECK(ev->pid == 1 && ev->tid == 2 + n / nrows);
			check_row(ev, &rows[n % nrows]);
			n++;
		}
		CHECK(n == 3 * nrows);
		CHECK(gt_iter_next(it, &ev) == 0);
	}
	gt_iter_free(it);
out:
	gt_reader_close(r);
	free(p);
}

/* ---------------------------------------------- overlapping chunks, filters */

static const struct gt_field_desc one_field[] = { { GT_TYPE_U64, "seq" } };

static void test_merge(void)
{
	struct gt_writer_opts o = { .clock = GT_CLOCK_TSC, .chunk_bytes = 1 << 20 };
	struct gt_schema_desc a = {
		.id = 1, .level = 4, .provider = "P", .name = "A", .nfields = 1, .fields = one_field
	};
	struct gt_schema_desc b = {
		.id = 2, .level = 5, .provider = "P", .name = "B", .nfields = 1, .fields = one_field
	};
	struct gt_clock_sample s0 = { 1000000, 0, 0 }, s1 = { 1000000 + 3000000, 1000000, 0 };
	const int nck = 5, per = 200;
	struct gt_writer *w;
	struct gt_reader *r;
	struct gt_iter *it;
	const struct gt_event *ev;
	char path[512];
	uint64_t seq;

	tpath(path, sizeof(path), "merge.gtrace");
	CHECK(gt_writer_open(path, &o, &s0, &w) == 0);
	CHECK(gt_writer_add_schema(w, &a) == 0);
	CHECK(gt_writer_add_schema(w, &b) == 0);
	/* chunk k holds ticks 1000000 + 3*(k + nck*i): every chunk overlaps every other */
	for (int k = 0; k < nck; k++) {
		for (int i = 0; i < per; i++) {
			seq = (uint64_t)(k + nck * i);
			CHECK(gt_writer_add_event(w, 1000000 + 3 * seq, 10, 10, k == 2 ? 2 : 1,
						  &seq, 8) == 0);
		}
		CHECK(gt_writer_flush(w) == 0);
	}
	/* a chunk whose events tie with chunk 0: file order decides */
	seq = 0;
	CHECK(gt_writer_add_event(w, 1000000, 10, 11, 1, &seq, 8) == 0);
	CHECK(gt_writer_clock(w, &s1) == 0);
	CHECK(gt_writer_close(w) == 0);

	CHECK(gt_reader_open(path, &r) == 0);
	if (!r)
		return;
	CHECK(gt_reader_summary(r)->nchunks == (uint64_t)nck + 1);
	CHECK(gt_iter_new(r, NULL, &it) == 0);
	{
		uint64_t n = 0;

		CHECK(gt_iter_next(it, &ev) == 1 && ev->tid == 10 && ev->values[0].u64 == 0);
		CHECK(gt_iter_next(it, &ev) == 1 && ev->tid == 11 && ev->values[0].u64 == 0);
		n = 1;
		while (gt_iter_next(it, &ev) == 1) {
			CHECK(ev->values[0].u64 == n);
			/* TSC: 3 ticks per ns (3e6 ticks over 1e6 ns) */
			CHECK(ev->ts_ns == n);
			n++;
		}
		CHECK(n == (uint64_t)nck * per);
	}
	gt_iter_free(it);

	/* schema filter: only B (chunk 2), whose chunk alone is decoded */
	{
		uint32_t ids[] = { 2 };
		struct gt_filter f = { .until_ns = UINT64_MAX,
				       .schema_ids = ids,
				       .nschema_ids = 1 };
		uint64_t n = 0;

		CHECK(gt_iter_new(r, &f, &it) == 0);
		while (gt_iter_next(it, &ev) == 1) {
			CHECK(ev->schema->id == 2 && ev->values[0].u64 % nck == 2);
			n++;
		}
		CHECK(n == (uint64_t)per);
		gt_iter_free(it);
	}
	/* time filter, inclusive at both ends */
	{
		struct gt_filter f = { .since_ns = 100, .until_ns = 199 };
		uint64_t n = 0, first = UINT64_MAX;

		CHECK(gt_iter_new(r, &f, &it) == 0);
		while (gt_iter_next(it, &ev) == 1) {
			CHECK(ev->ts_ns >= 100 && ev->ts_ns <= 199);
			if (first == UINT64_MAX)
				first = ev->ts_ns;
			n++;
		}
		CHECK(n == 100 && first == 100);
		gt_iter_free(it);
	}
	gt_reader_close(r);
}

/* Rows are sorted by tick inside a chunk, stably: equal ticks keep arrival order. */
static void test_sort(void)
{
	struct gt_writer_opts o = { .clock = GT_CLOCK_MONO, .chunk_bytes = 16 << 20 };
	struct gt_schema_desc a = {
		.id = 1, .level = 4, .provider = "P", .name = "A", .nfields = 1, .fields = one_field
	};
	const uint64_t n = 100000;
	struct gt_writer *w;
	struct gt_reader *r;
	struct gt_iter *it;
	const struct gt_event *ev;
	char path[512];
	uint64_t x = 0x9e3779b97f4a7c15ull, prev_ts = 0, prev_seq = 0, got = 0;

	tpath(path, sizeof(path), "sort.gtrace");
	CHECK(gt_writer_open(path, &o, &start_mono, &w) == 0);
	CHECK(gt_writer_add_schema(w, &a) == 0);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t ts;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* batches of sorted runs, random jumps, many equal ticks */
		ts = i % 1000 < 500 ? 1000 + i / 7 : 1000 + (x % 5000);
		CHECK(gt_writer_add_event(w, ts, 1, (uint32_t)(i % 3), 1, &i, 8) == 0);
	}
	CHECK(gt_writer_close(w) == 0);
	CHECK(gt_reader_open(path, &r) == 0);
	if (!r)
		return;
	CHECK(gt_reader_summary(r)->nchunks == 1);
	CHECK(gt_iter_new(r, NULL, &it) == 0);
	while (gt_iter_next(it, &ev) == 1) {
		uint64_t seq = ev->values[0].u64;

		CHECK(ev->ticks >= prev_ts);
		CHECK(ev->ticks > prev_ts || got == 0 || seq > prev_seq);
		CHECK(ev->tid == seq % 3);
		prev_ts = ev->ticks;
		prev_seq = seq;
		got++;
	}
	CHECK(got == n);
	gt_iter_free(it);
	gt_reader_close(r);
}

/* TSC conversion: exact floor((t - start) * num / den) for any tick value. */
static void test_tsc_exact(void)
{
	struct gt_writer_opts o = { .clock = GT_CLOCK_TSC };
	const uint64_t num = 999999937, den = 2999999929ull, s0 = 123456789;
	struct gt_clock_sample a = { s0, 1000, 0 }, b = { s0 + den, 1000 + num, 0 };
	struct gt_writer *w;
	struct gt_reader *r;
	char path[512];
	uint64_t x = 88172645463325252ull;

	tpath(path, sizeof(path), "tsc.gtrace");
	CHECK(gt_writer_open(path, &o, &a, &w) == 0);
	CHECK(gt_writer_clock(w, &b) == 0);
	CHECK(gt_writer_close(w) == 0);
	CHECK(gt_reader_open(path, &r) == 0);
	if (!r)
		return;
	CHECK(gt_reader_summary(r)->duration_ns == num);
	CHECK(gt_reader_ticks_to_ns(r, s0 - 1) == 0);
	CHECK(gt_reader_ticks_to_ns(r, s0 + den) == num);
	for (int i = 0; i < 200000; i++) {
		uint64_t t, d, want;
		unsigned __int128 e;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		t = i < 1000 ? s0 + (uint64_t)i : x >> (i % 64);
		if (t <= s0)
			continue;
		d = t - s0;
		e = (unsigned __int128)d * num / den;
		want = e > UINT64_MAX ? UINT64_MAX : (uint64_t)e;
		CHECK(gt_reader_ticks_to_ns(r, t) == want);
	}
	gt_reader_close(r);
}

/* ------------------------------------------- truncation, damage, versions */

static void make_file(const char *path, int nevents, uint32_t chunk_bytes)
{
	struct gt_writer_opts o = { .clock = GT_CLOCK_MONO, .chunk_bytes = chunk_bytes };
	struct gt_schema_desc a = {
		.id = 1, .level = 4, .provider = "P", .name = "A", .nfields = 1, .fields = one_field
	};
	struct gt_writer *w;

	unlink(path);
	CHECK(gt_writer_open(path, &o, &start_mono, &w) == 0);
	CHECK(gt_writer_add_schema(w, &a) == 0);
	CHECK(gt_writer_set_meta(w, "op", "trunc") == 0);
	for (int i = 0; i < nevents; i++) {
		uint64_t v = (uint64_t)i * 2654435761u; /* poorly compressible */

		CHECK(gt_writer_add_event(w, 2000 + (uint64_t)i, 1, 1, 1, &v, 8) == 0);
	}
	CHECK(gt_writer_add_lost(w, 1, 1, 3) == 0);
	CHECK(gt_writer_close(w) == 0);
}

/* Read every event; return the count, or -1 on error.  Values must be the originals. */
static long read_all(struct gt_reader *r)
{
	struct gt_iter *it;
	const struct gt_event *ev;
	long n = 0;
	int ret;

	if (gt_iter_new(r, NULL, &it) < 0)
		return -1;
	while ((ret = gt_iter_next(it, &ev)) == 1) {
		CHECK(ev->values[0].u64 == (uint64_t)n * 2654435761u);
		n++;
	}
	gt_iter_free(it);
	return ret < 0 ? -1 : n;
}

static void test_truncate(void)
{
	char path[512], cut[512], err[512];
	struct gt_reader *r;
	uint8_t *d;
	size_t size;
	const int total = 20000;

	tpath(path, sizeof(path), "full.gtrace");
	tpath(cut, sizeof(cut), "cut.gtrace");
	make_file(path, total, 16384);
	d = read_file(path, &size);
	CHECK(d != NULL);
	if (!d)
		return;
	CHECK(gt_reader_open(path, &r) == 0);
	CHECK(r && gt_reader_summary(r)->nchunks > 8);
	gt_reader_close(r);
	for (int k = 0; k <= 16; k++) {
		size_t n = size * (size_t)k / 16;
		long got;
		int ret;

		write_file(cut, d, n);
		ret = gt_reader_open_ex(cut, 0, &r, err, sizeof(err));
		if (n < GT_FILE_HDR_SIZE) {
			CHECK(ret == -GT_ECORRUPT || ret == -GT_ETRUNCATED);
			CHECK(strstr(err, "cut.gtrace") != NULL);
			continue;
		}
		CHECK(ret == 0);
		if (ret)
			continue;
		got = read_all(r);
		CHECK(got >= 0 && (uint64_t)got == gt_reader_summary(r)->nevents);
		if (k == 16) {
			CHECK(gt_reader_summary(r)->complete && got == total);
		} else {
			const struct gt_summary *s = gt_reader_summary(r);

			CHECK(!s->complete && s->recovered);
			CHECK(s->recovered_end <= n && strlen(s->recover_note) > 0);
			/* everything in whole chunks before the cut is there */
			CHECK(got > (long)(total * (k - 2) / 16) || k < 3);
			CHECK(k < 2 || !strcmp(gt_reader_meta(r, "op"), "trunc"));
		}
		gt_reader_close(r);
	}
	/* NO_RECOVER refuses a cut file */
	write_file(cut, d, size / 2);
	CHECK(gt_reader_open_ex(cut, GT_READER_NO_RECOVER, &r, err, sizeof(err)) == -GT_ETRUNCATED);
	/* open from memory: same answers */
	CHECK(gt_reader_open_mem(d, size, "mem", 0, &r, err, sizeof(err)) == 0);
	CHECK(r && read_all(r) == total);
	gt_reader_close(r);
	free(d);
}

static void test_damage(void)
{
	char path[512], bad[512], err[512];
	struct gt_reader *r;
	const struct gt_chunk_info *ci;
	uint8_t *d;
	size_t size;
	uint64_t off, flip;

	tpath(path, sizeof(path), "dmg.gtrace");
	tpath(bad, sizeof(bad), "bad.gtrace");
	make_file(path, 5000, 8192);
	d = read_file(path, &size);
	if (!d)
		return;
	CHECK(gt_reader_open(path, &r) == 0);
	ci = gt_reader_chunk_at(r, 2);
	CHECK(ci != NULL);
	off = ci ? ci->offset : 64;
	flip = off + GT_BLK_HDR_SIZE + (ci ? ci->size : 0) - 2;
	gt_reader_close(r);

	/* a flipped byte in chunk 2: open works, verify and iteration name the chunk */
	d[flip] ^= 1;
	write_file(bad, d, size);
	CHECK(gt_reader_open_ex(bad, 0, &r, err, sizeof(err)) == 0);
	if (r) {
		char want[128];

		snprintf(want, sizeof(want), "chunk 2 at offset %" PRIu64 ": checksum mismatch",
			 off);
		CHECK(gt_reader_verify(r) == -GT_ECORRUPT);
		CHECK(strstr(gt_reader_errmsg(r), want) != NULL);
		if (!strstr(gt_reader_errmsg(r), want))
			fprintf(stderr, "got: %s\n", gt_reader_errmsg(r));
		CHECK(strstr(gt_reader_errmsg(r), "bad.gtrace") != NULL);
		CHECK(read_all(r) == -1);
		gt_reader_close(r);
	}
	CHECK(gt_reader_open_ex(bad, GT_READER_VERIFY, &r, err, sizeof(err)) == -GT_ECORRUPT);
	CHECK(strstr(err, "chunk 2 at offset") != NULL);
	d[flip] ^= 1;

	/* newer major version */
	gt_put16(d + 8, 2);
	write_file(bad, d, size);
	CHECK(gt_reader_open_ex(bad, 0, &r, err, sizeof(err)) == -GT_EVERSION);
	CHECK(strstr(err, "written by a newer gtrace (format 2.0); this reader reads 1.x") != NULL);
	gt_put16(d + 8, 1);

	/* newer minor version is read */
	gt_put16(d + 10, 7);
	gt_put64(d + 56, gt_file_hdr_check(d));
	write_file(bad, d, size);
	CHECK(gt_reader_open(bad, &r) == 0 && r && gt_reader_summary(r)->version_minor == 7);
	gt_reader_close(r);
	gt_put16(d + 10, 0);
	gt_put64(d + 56, gt_file_hdr_check(d));

	/* header checksum */
	d[30] ^= 1;
	write_file(bad, d, size);
	CHECK(gt_reader_open(bad, &r) == -GT_ECORRUPT);
	d[30] ^= 1;

	/* damaged footer: falls back to recovery, all chunks still there */
	d[size - GT_TRAILER_SIZE - 5] ^= 1;
	write_file(bad, d, size);
	CHECK(gt_reader_open(bad, &r) == 0);
	CHECK(r && gt_reader_summary(r)->recovered && read_all(r) == 5000);
	CHECK(r && gt_reader_summary(r)->lost_total == 3); /* from the last STATS block */
	gt_reader_close(r);
	d[size - GT_TRAILER_SIZE - 5] ^= 1;

	/* a footer that verifies but does not parse: recovered, with a note saying so */
	{
		uint64_t foff = gt_le64(d + size - GT_TRAILER_SIZE);
		uint32_t fsz = gt_le32(d + foff + 8);
		uint8_t *fp = d + foff + GT_BLK_HDR_SIZE, save = fp[24];

		CHECK(fp[24] > 1 && fp[24] < 128); /* one-byte chunk count */
		fp[24] -= 1;
		gt_blk_hdr_fill(d + foff, GT_BLK_FOOTER, fsz, fsz, fp);
		memcpy(d + size - GT_TRAILER_SIZE + 16, d + foff + 16, 8);
		write_file(bad, d, size);
		CHECK(gt_reader_open(bad, &r) == 0);
		CHECK(r && gt_reader_summary(r)->recovered && read_all(r) == 5000);
		CHECK(r &&
		      !strncmp(gt_reader_summary(r)->recover_note, "damaged footer at offset", 24));
		gt_reader_close(r);
		fp[24] = save;
		gt_blk_hdr_fill(d + foff, GT_BLK_FOOTER, fsz, fsz, fp);
		memcpy(d + size - GT_TRAILER_SIZE + 16, d + foff + 16, 8);
		write_file(bad, d, size);
		CHECK(gt_reader_open(bad, &r) == 0 && r && gt_reader_summary(r)->complete);
		gt_reader_close(r);
	}

	/* random bytes, empty file, a directory */
	{
		uint8_t rnd[4096];

		srand(7);
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)rand();
		write_file(bad, rnd, sizeof(rnd));
		CHECK(gt_reader_open_ex(bad, 0, &r, err, sizeof(err)) == -GT_ECORRUPT);
		CHECK(strstr(err, "not a gtrace file") != NULL);
		/* a valid header followed by garbage: recovered, empty */
		memcpy(rnd, d, GT_FILE_HDR_SIZE);
		write_file(bad, rnd, sizeof(rnd));
		CHECK(gt_reader_open(bad, &r) == 0);
		CHECK(r && gt_reader_summary(r)->recovered && gt_reader_summary(r)->nevents == 0);
		CHECK(r && read_all(r) == 0);
		gt_reader_close(r);
		write_file(bad, rnd, 0);
		CHECK(gt_reader_open(bad, &r) == -GT_ECORRUPT);
		CHECK(gt_reader_open(tmpdir, &r) == -EISDIR);
		CHECK(gt_reader_open_ex("/nonexistent/x.gtrace", 0, &r, err, sizeof(err)) ==
		      -ENOENT);
		CHECK(strstr(err, "No such file or directory") && strstr(err, "x.gtrace"));
	}
	free(d);
}

/* Build a file: valid header + the given blocks (no footer). */
static size_t craft(uint8_t *out, const uint32_t *types, const uint8_t *const *payloads,
		    const size_t *sizes, const uint32_t *raws, int n)
{
	size_t off = GT_FILE_HDR_SIZE;

	memset(out, 0, GT_FILE_HDR_SIZE);
	memcpy(out, GT_FILE_MAGIC, 8);
	gt_put16(out + 8, 1);
	gt_put32(out + 12, GT_FILE_HDR_SIZE);
	gt_put32(out + 20, GT_CLOCK_MONO);
	gt_put64(out + 56, gt_file_hdr_check(out));
	for (int i = 0; i < n; i++) {
		memcpy(out + off + GT_BLK_HDR_SIZE, payloads[i], sizes[i]);
		gt_blk_hdr_fill(out + off, types[i], (uint32_t)sizes[i], raws[i],
				out + off + GT_BLK_HDR_SIZE);
		off += GT_BLK_HDR_SIZE + sizes[i];
	}
	return off;
}

static void test_limits(void)
{
	static uint8_t file[1 << 16];
	struct gt_reader *r;
	char err[512];
	size_t n;

	/* a schema with 33 fields is refused: the scan stops there */
	{
		uint8_t s[2048];
		size_t k = 0;
		const uint8_t *pl[] = { s };
		size_t sz[1];
		uint32_t ty[] = { GT_BLK_SCHEMA }, raw[1];

		s[k++] = 1; /* one schema */
		s[k++] = 1; /* id */
		s[k++] = 0; /* kind */
		s[k++] = 4; /* level */
		s[k++] = 0; /* keywords */
		s[k++] = 1, s[k++] = 'P';
		s[k++] = 1, s[k++] = 'E';
		s[k++] = 0;  /* file */
		s[k++] = 0;  /* line */
		s[k++] = 0;  /* format */
		s[k++] = 33; /* nfields */
		for (int i = 0; i < 33; i++)
			s[k++] = GT_TYPE_U64, s[k++] = 1, s[k++] = 'f';
		sz[0] = raw[0] = (uint32_t)k;
		n = craft(file, ty, pl, sz, raw, 1);
		CHECK(gt_reader_open_mem(file, n, "lim", 0, &r, err, sizeof(err)) == 0);
		CHECK(r && gt_reader_schema_count(r) == 0);
		CHECK(r && strstr(gt_reader_summary(r)->recover_note, "malformed schema"));
		gt_reader_close(r);
		/* the same with 32 fields is fine */
		s[12] = 32;
		sz[0] = raw[0] = (uint32_t)k - 3;
		n = craft(file, ty, pl, sz, raw, 1);
		CHECK(gt_reader_open_mem(file, n, "lim", 0, &r, err, sizeof(err)) == 0);
		CHECK(r && gt_reader_schema_count(r) == 1);
		gt_reader_close(r);
	}
	/* a block header declaring 1 GiB: not trusted, the scan stops */
	{
		uint8_t pl0[8] = { 0 };
		const uint8_t *pl[] = { pl0 };
		size_t sz[] = { 8 };
		uint32_t ty[] = { GT_BLK_META }, raw[] = { 8 };

		n = craft(file, ty, pl, sz, raw, 1);
		gt_put32(file + GT_FILE_HDR_SIZE + 8, 1u << 30);
		gt_put32(file + GT_FILE_HDR_SIZE + 28,
			 (uint32_t)gt_blk_check(file + GT_FILE_HDR_SIZE));
		CHECK(gt_reader_open_mem(file, n, "lim", 0, &r, err, sizeof(err)) == 0);
		CHECK(r && strstr(gt_reader_summary(r)->recover_note, "bad block header"));
		gt_reader_close(r);
	}
	/* a chunk claiming 2^31 events in 1 KiB raw, or 8 MiB + 1 raw */
	{
		uint8_t ch[64] = { 0 };
		const uint8_t *pl[] = { ch };
		size_t sz[] = { sizeof(ch) };
		uint32_t ty[] = { GT_BLK_CHUNK }, raw[] = { 1024 };

		gt_put32(ch, 1u << 31);
		gt_put32(ch + 4, 1);
		gt_put32(ch + 48, 1);
		gt_put32(ch + 52, 1u << 31);
		n = craft(file, ty, pl, sz, raw, 1);
		CHECK(gt_reader_open_mem(file, n, "lim", 0, &r, err, sizeof(err)) == 0);
		CHECK(r && gt_reader_summary(r)->nchunks == 0);
		CHECK(r && strstr(gt_reader_summary(r)->recover_note, "malformed chunk"));
		gt_reader_close(r);
		gt_put32(ch, 1);
		gt_put32(ch + 52, 1);
		raw[0] = GT_RAW_MAX + 1;
		n = craft(file, ty, pl, sz, raw, 1);
		CHECK(gt_reader_open_mem(file, n, "lim", 0, &r, err, sizeof(err)) == 0);
		CHECK(r && gt_reader_summary(r)->nchunks == 0);
		gt_reader_close(r);
	}
	/* meta with a huge declared count */
	{
		uint8_t m[16];
		const uint8_t *pl[] = { m };
		size_t sz[1];
		uint32_t ty[] = { GT_BLK_META }, raw[1];

		sz[0] = raw[0] = gt_varint_put(m, 1ull << 40);
		n = craft(file, ty, pl, sz, raw, 1);
		CHECK(gt_reader_open_mem(file, n, "lim", 0, &r, err, sizeof(err)) == 0);
		CHECK(r && gt_reader_meta_count(r) == 0);
		gt_reader_close(r);
	}
}

/* ------------------------------------------------------------ write error */

static void test_write_error(void)
{
	struct gt_writer_opts o = { .clock = GT_CLOCK_MONO, .chunk_bytes = 4096, .zstd_level = 1 };
	struct gt_schema_desc a = {
		.id = 1, .level = 4, .provider = "P", .name = "A", .nfields = 1, .fields = one_field
	};
	struct rlimit old, lim = { 40000, RLIM_INFINITY };
	struct gt_writer *w;
	struct gt_reader *r;
	char path[512];
	int ret = 0, i;

	tpath(path, sizeof(path), "efbig.gtrace");
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim.rlim_max = old.rlim_max;
	if (setrlimit(RLIMIT_FSIZE, &lim) < 0)
		return;
	CHECK(gt_writer_open(path, &o, &start_mono, &w) == 0);
	CHECK(gt_writer_add_schema(w, &a) == 0);
	for (i = 0; i < 200000 && ret == 0; i++) {
		uint64_t v = (uint64_t)i * 2654435761u * 0x9e3779b97f4a7c15ull;

		ret = gt_writer_add_event(w, 2000 + (uint64_t)i, 1, 1, 1, &v, 8);
	}
	CHECK(ret == -EFBIG);
	{
		uint64_t v = 0;

		CHECK(gt_writer_add_event(w, 1, 1, 1, 1, &v, 8) == -EFBIG); /* sticky */
	}
	CHECK(gt_writer_close(w) == -EFBIG);
	setrlimit(RLIMIT_FSIZE, &old);
	/* the file holds every whole chunk written before the error */
	CHECK(gt_reader_open(path, &r) == 0);
	if (r) {
		const struct gt_summary *s = gt_reader_summary(r);

		CHECK(s->recovered && s->nchunks > 0 && s->file_size <= 40000);
		CHECK(strstr(s->recover_note, "after the last whole block") != NULL);
		{
			struct gt_iter *it;
			const struct gt_event *ev;
			uint64_t k = 0;

			CHECK(gt_iter_new(r, NULL, &it) == 0);
			while (it && gt_iter_next(it, &ev) == 1) {
				CHECK(ev->values[0].u64 == k * 2654435761u * 0x9e3779b97f4a7c15ull);
				k++;
			}
			CHECK(k == s->nevents && k > 0);
			gt_iter_free(it);
		}
		gt_reader_close(r);
	}
}

/* ------------------------------------------------------------ log render */

static void test_render(void)
{
	struct gt_value v[4];
	char out[256];
	size_t n;

	memset(v, 0, sizeof(v));
	v[0].type = GT_TYPE_I32, v[0].i64 = -42;
	v[1].type = GT_TYPE_STR, v[1].str = "abcdef", v[1].len = 3;
	v[2].type = GT_TYPE_F64, v[2].f64 = 3.14159;
	v[3].type = GT_TYPE_U64, v[3].u64 = UINT64_MAX;

#define R(fmt, nargs) (n = gt_format_render(fmt, strlen(fmt), v, nargs, out, sizeof(out)), out)
	CHECK(!strcmp(R("n=%d s=%s f=%.2f u=%llu %%", 4),
		      "n=-42 s=abc f=3.14 u=18446744073709551615 %"));
	CHECK(n == strlen(out));
	CHECK(!strcmp(R("[%5d|%-5d|%05d|%+d]", 4),
		      "[  -42|abc|3.1415899999999999|18446744073709551615]"));
	{
		struct gt_value w4[4] = { v[0], v[0], v[0], v[0] };

		n = gt_format_render("[%5d|%-5d|%05d|%+i]", 19, w4, 4, out, sizeof(out));
		CHECK(!strcmp(out, "[  -42|-42  |-0042|-42]"));
		n = gt_format_render("%10.2s|", 7, v + 1, 1, out, sizeof(out));
		CHECK(!strcmp(out, "        ab|"));
	}
	CHECK(!strcmp(R("%x", 4), "ffffffffffffffd6"));
	/* type mismatch prints the value naturally */
	CHECK(!strcmp(R("%s %d %s", 4), "-42 abc 3.1415899999999999"));
	/* missing args, %n, '*', unknown and cut-short conversions */
	CHECK(!strcmp(R("%d %d", 1), "-42 <missing>"));
	CHECK(!strcmp(R("a%nb", 4), "a%nb"));
	CHECK(!strcmp(R("%*d|%d", 4), "%*d|-42"));
	CHECK(!strcmp(R("%q %y", 4), "%q %y"));
	CHECK(!strcmp(R("end %", 4), "end %"));
	CHECK(!strcmp(R("%ld %zu %lld", 4), "-42 abc 3.1415899999999999"));
	/* width and precision are bounded; output is cut at the buffer */
	CHECK(!strcmp(R("%99999d", 4), "%99999d"));
	R("%4000d", 4);
	CHECK(n == sizeof(out) - 1 && strlen(out) == sizeof(out) - 1);
	{
		char tiny[4];

		n = gt_format_render("hello", 5, v, 0, tiny, sizeof(tiny));
		CHECK(n == 3 && !strcmp(tiny, "hel"));
	}
	/* the format need not be NUL-terminated */
	CHECK(gt_format_render("%dXYZ", 2, v, 1, out, sizeof(out)) == 3 && !strcmp(out, "-42"));
	/* %c and %p */
	v[0].type = GT_TYPE_I32, v[0].i64 = 'A';
	CHECK(!strcmp(R("%c%p", 1), "A<missing>"));
	v[1].type = GT_TYPE_U64, v[1].u64 = 0x1000;
	CHECK(!strcmp(R("%c %p", 2), "A 0x1000"));
	CHECK(!strcmp(gt_type_name(GT_TYPE_BYTES), "bytes") && !strcmp(gt_type_name(99), "?"));
	CHECK(!strcmp(gt_level_name(3), "warning") && !strcmp(gt_kind_name(3), "log"));
	CHECK(!strcmp(gt_strerror(-GT_ECORRUPT), "Corrupt data (file damaged)"));
	CHECK(!strcmp(gt_strerror(-ENOENT), "No such file or directory"));
#undef R
}

/*
 * gt_iter_new_chunks(): disjoint chunk ranges return every event exactly
 * once, each range in time order; chunks with one schema and one thread
 * (the decoder's shortcut) and chunks with several of each, chunks that
 * touch at their boundary tick (the iterator's run without the heap ends
 * there) and a range past the index.
 */
/*
 * Two single-thread chunks that overlap in time: while the first is merged
 * with the second, events alternate; once the first is used up, the rest
 * of the second must still carry the second's thread (the iterator's
 * single-chunk fast path once kept the pid/tid of the event before it).
 */
static void test_overlap_threads(void)
{
	struct gt_writer_opts o = { .clock = GT_CLOCK_MONO };
	struct gt_schema_desc a = {
		.id = 1, .level = 4, .provider = "P", .name = "A", .nfields = 1, .fields = one_field
	};
	const struct gt_event *ev;
	struct gt_writer *w;
	struct gt_reader *r;
	struct gt_iter *it;
	uint64_t n = 0, prev = 0;
	char path[512];

	tpath(path, sizeof(path), "overlap.gtrace");
	CHECK(gt_writer_open(path, &o, &start_mono, &w) == 0);
	CHECK(gt_writer_add_schema(w, &a) == 0);
	/* chunk 0, thread 5: even ticks 2000..2198; chunk 1, thread 6: odd ticks, then 100 more */
	for (uint64_t i = 0; i < 100; i++)
		CHECK(gt_writer_add_event(w, 2000 + 2 * i, 4, 5, 1, &i, 8) == 0);
	CHECK(gt_writer_flush(w) == 0);
	for (uint64_t i = 0; i < 200; i++) {
		uint64_t t = i < 100 ? 2001 + 2 * i : 3000 + i;

		CHECK(gt_writer_add_event(w, t, 4, 6, 1, &i, 8) == 0);
	}
	CHECK(gt_writer_close(w) == 0);
	CHECK(gt_reader_open(path, &r) == 0);
	if (!r)
		return;
	CHECK(gt_reader_summary(r)->nchunks == 2);
	CHECK(gt_iter_new(r, NULL, &it) == 0);
	while (gt_iter_next(it, &ev) == 1) {
		bool first = ev->ticks < 2200 && ev->ticks % 2 == 0;

		CHECK(ev->tid == (first ? 5u : 6u) && ev->pid == 4);
		CHECK(ev->ticks >= prev);
		prev = ev->ticks;
		n++;
	}
	CHECK(n == 300);
	gt_iter_free(it);
	gt_reader_close(r);
	unlink(path);
}

static void test_chunk_ranges(void)
{
	struct gt_writer_opts o = { .clock = GT_CLOCK_MONO, .chunk_bytes = 1 << 20 };
	struct gt_schema_desc a = {
		.id = 1, .level = 4, .provider = "P", .name = "A", .nfields = 1, .fields = one_field
	};
	struct gt_schema_desc b = {
		.id = 7, .level = 4, .provider = "P", .name = "B", .nfields = 1, .fields = one_field
	};
	enum { NCK = 6, PER = 101 };
	static uint8_t seen[NCK * PER];
	const struct gt_event *ev;
	struct gt_writer *w;
	struct gt_reader *r;
	struct gt_iter *it;
	char path[512];

	tpath(path, sizeof(path), "ranges.gtrace");
	CHECK(gt_writer_open(path, &o, &start_mono, &w) == 0);
	CHECK(gt_writer_add_schema(w, &a) == 0);
	CHECK(gt_writer_add_schema(w, &b) == 0);
	/* chunk k: ticks 2000 + 100k .. 2000 + 100k + 100, so chunk k's last tick is k+1's first */
	for (int k = 0; k < NCK; k++) {
		for (int i = 0; i < PER; i++) {
			uint64_t seq = (uint64_t)(k * PER + i);
			bool mixed = k % 2; /* odd chunks: two schemas, two threads */
			uint32_t id = mixed && i % 3 == 0 ? 7 : 1;
			uint32_t tid = mixed && i % 2 ? 6 : 5;

			CHECK(gt_writer_add_event(w, 2000 + 100 * (uint64_t)k + (uint64_t)i, 4, tid,
						  id, &seq, 8) == 0);
		}
		CHECK(gt_writer_flush(w) == 0);
	}
	CHECK(gt_writer_close(w) == 0);
	CHECK(gt_reader_open(path, &r) == 0);
	if (!r)
		return;
	CHECK(gt_reader_summary(r)->nchunks == NCK);
	/* the whole file: in time order, ties in file order */
	{
		uint64_t n = 0, prev = 0;

		CHECK(gt_iter_new(r, NULL, &it) == 0);
		while (gt_iter_next(it, &ev) == 1) {
			uint64_t seq = ev->values[0].u64;
			int k = (int)(seq / PER), i = (int)(seq % PER);

			CHECK(seq == n);
			CHECK(ev->ticks == 2000 + 100 * (uint64_t)k + (uint64_t)i);
			CHECK(ev->ticks >= prev);
			CHECK(ev->ts_ns == ev->ticks - start_mono.ticks);
			CHECK(ev->schema->id == (k % 2 && i % 3 == 0 ? 7u : 1u));
			CHECK(ev->tid == (k % 2 && i % 2 ? 6u : 5u) && ev->pid == 4);
			prev = ev->ticks;
			n++;
		}
		CHECK(n == NCK * PER);
		gt_iter_free(it);
	}
	/* every split into two ranges, and one range per chunk */
	for (size_t split = 0; split <= NCK + 1; split++) {
		size_t first[NCK], count[NCK], nr = 0;

		memset(seen, 0, sizeof(seen));
		if (split <= NCK) {
			first[0] = 0;
			count[0] = split;
			first[1] = split;
			count[1] = NCK - split;
			nr = 2;
		} else {
			for (size_t k = 0; k < NCK; k++) {
				first[k] = k;
				count[k] = 1;
			}
			nr = NCK;
		}
		for (size_t q = 0; q < nr; q++) {
			uint64_t prev = 0, n = 0;

			CHECK(gt_iter_new_chunks(r, NULL, first[q], count[q], &it) == 0);
			if (!it)
				continue;
			while (gt_iter_next(it, &ev) == 1) {
				uint64_t seq = ev->values[0].u64;

				CHECK(seq < NCK * PER && seq / PER >= first[q] &&
				      seq / PER < first[q] + count[q]);
				CHECK(ev->ticks >= prev);
				if (seq < NCK * PER)
					seen[seq]++;
				prev = ev->ticks;
				n++;
			}
			CHECK(n == count[q] * PER);
			gt_iter_free(it);
		}
		for (size_t e = 0; e < NCK * PER; e++)
			CHECK(seen[e] == 1);
	}
	/* a filter applies inside a range */
	{
		uint32_t ids[] = { 7 };
		struct gt_filter f = {
			.until_ns = UINT64_MAX, .schema_ids = ids, .nschema_ids = 1
		};
		uint64_t n = 0;

		CHECK(gt_iter_new_chunks(r, &f, 1, 2, &it) == 0);
		while (it && gt_iter_next(it, &ev) == 1) {
			CHECK(ev->schema->id == 7 && ev->values[0].u64 / PER == 1);
			n++;
		}
		CHECK(n == (PER + 2) / 3);
		gt_iter_free(it);
	}
	/* empty and out-of-range ranges */
	CHECK(gt_iter_new_chunks(r, NULL, NCK, 0, &it) == 0);
	CHECK(it && gt_iter_next(it, &ev) == 0 && !ev);
	gt_iter_free(it);
	CHECK(gt_iter_new_chunks(r, NULL, NCK + 1, 0, &it) == -ERANGE && !it);
	CHECK(gt_iter_new_chunks(r, NULL, 2, NCK - 1, &it) == -ERANGE && !it);
	CHECK(gt_iter_new_chunks(r, NULL, 1, SIZE_MAX, &it) == -ERANGE && !it);
	gt_reader_close(r);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gt_test_format.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_varint();
	test_roundtrip();
	test_merge();
	test_chunk_ranges();
	test_overlap_threads();
	test_tsc_exact();
	test_sort();
	test_truncate();
	test_damage();
	test_limits();
	test_write_error();
	test_render();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "warning: could not remove %s\n", tmpdir);
	}
	return gt_check_result("test_format");
}
