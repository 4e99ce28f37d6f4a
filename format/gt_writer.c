/* SPDX-License-Identifier: MIT */
/*
 * gt_writer.c - writes one .gtrace file (format v1, docs/format.md).
 *
 * Events of the open chunk are kept as rows (ts, stream, schema, payload
 * offset) plus one arena of payload bytes, so appending an event is a
 * bounds check, a memcpy and no malloc.  When the raw bytes reach the chunk
 * size the chunk is sealed: rows are sorted by timestamp (stable), split
 * into columns (schema, stream, ts delta, then one column per schema
 * field, integers as zigzag deltas), compressed with a reused ZSTD_CCtx,
 * checksummed and appended with a single write() together with any pending
 * SCHEMA/META/STATS blocks.  Every buffer lives as long as the writer and
 * only grows, so the steady state allocates nothing.
 *
 * A write error is sticky: the first one is remembered, the file is cut
 * back to the end of its last whole block, and later calls return it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include <gtrace/error.h>

#include "gt_fmt.h"
#include "gt_window.h"
#include "gt_writer.h"

#define GT_CHUNK_DEFAULT (1u << 20)
#define GT_CHUNK_CAP (4u << 20) /* body <= 1.25 x raw: stays below GT_RAW_MAX */
#define GT_ROW_OVERHEAD 16u	/* what a ring record header costs, for chunk sizing */

struct gt_wschema {
	uint32_t id;
	uint8_t kind;
	uint8_t level;
	uint8_t has_var; /* a STR or BYTES field: payload size varies */
	bool written;	 /* already in a SCHEMA block */
	uint64_t keywords;
	char *provider;
	char *name;
	char *file;
	char *format;
	uint32_t line;
	uint32_t nfields;
	uint32_t fixed_len; /* payload bytes when !has_var */
	uint8_t types[GT_FIELDS_MAX];
	uint8_t fsize[GT_FIELDS_MAX]; /* bytes of each field, 4 (the length) for STR/BYTES */
	uint32_t var_first; /* index of the first STR/BYTES field (has_var) */
	uint32_t var_off;   /* its offset: the fixed fields before it */
	char *fnames[GT_FIELDS_MAX];
	uint64_t total; /* events in the file */
	/* open chunk */
	uint32_t ccount;     /* events of this schema in the chunk */
	size_t cbytes;       /* their payload bytes: bounds each string column */
	uint32_t cslot;	     /* index in the chunk's schema table */
	struct gt_buf *cols; /* nfields column buffers, reused */
	uint64_t prev[GT_FIELDS_MAX];
};

struct gt_wrow {
	uint64_t ts;
	uint32_t stream;
	uint32_t schema; /* index in w->schemas */
	uint32_t off;	 /* payload offset in w->arena */
	uint32_t len;
};

struct gt_kv {
	char *key;
	char *value;
};

struct gt_wlost {
	uint32_t pid;
	uint32_t tid;
	uint64_t n;
};

struct gt_wchunk {
	uint64_t offset;
	uint32_t size;
	uint32_t raw_size;
	uint32_t nevents;
	uint32_t nschemas;
	uint64_t min_ts;
	uint64_t max_ts;
	size_t sch_off; /* (id, count) pairs in w->chunk_sch, u32 each */
};

struct gt_writer {
	int fd;
	struct gt_window *win; /* memory mode: sealed chunks go here, fd is -1 (gt_window.c) */
	int err;	  /* first write error, sticky */
	uint64_t off;	  /* bytes written and kept */
	uint64_t nevents; /* events accepted */
	struct gt_writer_opts opts;
	struct gt_clock_sample start;
	struct gt_clock_sample last;
	ZSTD_CCtx *cctx;

	/* schemas: array + open-addressing id -> index + 1 table */
	struct gt_wschema *schemas;
	size_t nschemas, schemas_cap;
	uint32_t *sch_hash;
	size_t sch_hash_cap; /* power of two */
	uint32_t last_id, last_idx;
	bool schemas_pending;

	/* open chunk */
	struct gt_wrow *rows, *rows_tmp;
	size_t nrows, rows_cap;
	size_t *runs; /* run ends, while sorting */
	size_t runs_cap;
	struct gt_buf arena;
	size_t raw;
	uint64_t *streams; /* pid << 32 | tid, in first-seen order */
	size_t nstreams, streams_cap;
	uint32_t *st_hash; /* stream index + 1 */
	size_t st_hash_cap;
	uint64_t last_stream_key, prev_stream_key; /* a 2-entry cache: threads interleave */
	uint32_t last_stream, prev_stream;
	uint32_t *used; /* schema indexes used by the chunk */
	size_t nused, used_cap;

	/* output */
	struct gt_buf body, out, scratch;
	struct gt_wchunk *chunks;
	size_t nchunks, chunks_cap;
	struct gt_buf chunk_sch;

	struct gt_kv *meta;
	size_t nmeta, meta_cap;
	bool meta_dirty;
	struct gt_wlost *lost;
	size_t nlost, lost_cap;
	struct gt_wlost *corrupt; /* tid unused */
	size_t ncorrupt, corrupt_cap;
	bool stats_dirty;
};

static int gt_write_all(struct gt_writer *w, const uint8_t *p, size_t n)
{
	int ret;

	if (w->err)
		return w->err;
	if (w->win)
		return 0; /* memory mode: a snapshot rebuilds every block but the chunks */
	ret = gt_fd_write_all(w->fd, p, n);
	if (ret < 0) {
		w->err = ret;
		/* keep the file valid up to its last whole block */
		if (ftruncate(w->fd, (off_t)w->off) == 0)
			(void)lseek(w->fd, (off_t)w->off, SEEK_SET);
		return ret;
	}
	w->off += n;
	return 0;
}

/* Append a whole block (header + payload) to @out. */
static int gt_out_block(struct gt_buf *out, uint32_t type, const uint8_t *payload, size_t size,
			size_t raw_size)
{
	uint8_t hdr[GT_BLK_HDR_SIZE];

	if (size > GT_BLK_MAX || raw_size > GT_BLK_MAX)
		return -GT_ELIMIT;
	gt_blk_hdr_fill(hdr, type, (uint32_t)size, (uint32_t)raw_size, payload);
	if (gt_buf_add(out, hdr, sizeof(hdr)) < 0 || gt_buf_add(out, payload, size) < 0)
		return -ENOMEM;
	return 0;
}

static int gt_enc_schema(struct gt_buf *b, const struct gt_wschema *s)
{
	int ret = 0;

	ret |= gt_buf_varint(b, s->id);
	ret |= gt_buf_add(b, &s->kind, 1);
	ret |= gt_buf_add(b, &s->level, 1);
	ret |= gt_buf_varint(b, s->keywords);
	ret |= gt_buf_str(b, s->provider, strlen(s->provider));
	ret |= gt_buf_str(b, s->name, strlen(s->name));
	ret |= gt_buf_str(b, s->file, strlen(s->file));
	ret |= gt_buf_varint(b, s->line);
	ret |= gt_buf_str(b, s->format, strlen(s->format));
	ret |= gt_buf_varint(b, s->nfields);
	for (uint32_t i = 0; i < s->nfields; i++) {
		ret |= gt_buf_add(b, &s->types[i], 1);
		ret |= gt_buf_str(b, s->fnames[i], strlen(s->fnames[i]));
	}
	return ret ? -ENOMEM : 0;
}

static int gt_enc_stats(struct gt_buf *b, const struct gt_writer *w)
{
	int ret = gt_buf_varint(b, w->nlost);

	for (size_t i = 0; i < w->nlost; i++) {
		ret |= gt_buf_varint(b, w->lost[i].pid);
		ret |= gt_buf_varint(b, w->lost[i].tid);
		ret |= gt_buf_varint(b, w->lost[i].n);
	}
	ret |= gt_buf_varint(b, w->ncorrupt);
	for (size_t i = 0; i < w->ncorrupt; i++) {
		ret |= gt_buf_varint(b, w->corrupt[i].pid);
		ret |= gt_buf_varint(b, w->corrupt[i].n);
	}
	return ret ? -ENOMEM : 0;
}

static int gt_enc_meta(struct gt_buf *b, const struct gt_writer *w)
{
	int ret = gt_buf_varint(b, w->nmeta);

	for (size_t i = 0; i < w->nmeta; i++) {
		ret |= gt_buf_str(b, w->meta[i].key, strlen(w->meta[i].key));
		ret |= gt_buf_str(b, w->meta[i].value, strlen(w->meta[i].value));
	}
	return ret ? -ENOMEM : 0;
}

/* Append pending SCHEMA, META and STATS blocks to w->out. */
static int gt_out_pending(struct gt_writer *w)
{
	struct gt_buf *s = &w->scratch;
	int ret;

	if (w->schemas_pending) {
		size_t n = 0;

		s->len = 0;
		for (size_t i = 0; i < w->nschemas; i++)
			n += !w->schemas[i].written;
		if (gt_buf_varint(s, n) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < w->nschemas; i++) {
			if (w->schemas[i].written)
				continue;
			ret = gt_enc_schema(s, &w->schemas[i]);
			if (ret < 0)
				return ret;
		}
		ret = gt_out_block(&w->out, GT_BLK_SCHEMA, s->data, s->len, s->len);
		if (ret < 0)
			return ret;
	}
	if (w->meta_dirty) {
		s->len = 0;
		ret = gt_enc_meta(s, w);
		if (ret < 0)
			return ret;
		ret = gt_out_block(&w->out, GT_BLK_META, s->data, s->len, s->len);
		if (ret < 0)
			return ret;
	}
	if (w->stats_dirty) {
		s->len = 0;
		ret = gt_enc_stats(s, w);
		if (ret < 0)
			return ret;
		ret = gt_out_block(&w->out, GT_BLK_STATS, s->data, s->len, s->len);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The pending blocks made it to disk. */
static void gt_pending_done(struct gt_writer *w)
{
	if (w->schemas_pending)
		for (size_t i = 0; i < w->nschemas; i++)
			w->schemas[i].written = true;
	w->schemas_pending = false;
	w->meta_dirty = false;
	w->stats_dirty = false;
}

/*
 * Stable sort of the rows by ts.  Rows arrive as per-thread batches, each
 * already in order, so this is a natural merge sort: find the ascending
 * runs (short ones extended to GT_RUN_MIN by insertion sort, which also
 * absorbs small local disorder), then merge neighbouring runs pass by pass.
 * Cost O(n log runs); an already sorted chunk costs one scan.
 */
#define GT_RUN_MIN 32

static int gt_rows_sort(struct gt_writer *w)
{
	struct gt_wrow *a = w->rows, *b;
	size_t n = w->nrows, i, lo, nruns = 0;

	for (i = 1; i < n; i++)
		if (a[i].ts < a[i - 1].ts)
			break;
	if (i >= n)
		return 0;
	if (!w->rows_tmp) {
		w->rows_tmp = malloc(w->rows_cap * sizeof(*w->rows_tmp));
		if (!w->rows_tmp)
			return -ENOMEM;
	}
	if (gt_grow((void **)&w->runs, &w->runs_cap, n / GT_RUN_MIN + 2, sizeof(*w->runs)) < 0)
		return -ENOMEM;
	for (lo = 0; lo < n;) {
		size_t hi = lo + 1, want = n - lo > GT_RUN_MIN ? lo + GT_RUN_MIN : n;

		while (hi < n && a[hi].ts >= a[hi - 1].ts)
			hi++;
		for (; hi < want; hi++) {
			struct gt_wrow t = a[hi];
			size_t j = hi;

			while (j > lo && a[j - 1].ts > t.ts) {
				a[j] = a[j - 1];
				j--;
			}
			a[j] = t;
		}
		while (hi < n && a[hi].ts >= a[hi - 1].ts)
			hi++;
		w->runs[nruns++] = hi; /* end of the run */
		lo = hi;
	}
	b = w->rows_tmp;
	while (nruns > 1) {
		size_t out = 0, start = 0;

		for (size_t r = 0; r < nruns; r += 2) {
			size_t mid = w->runs[r], hi = r + 1 < nruns ? w->runs[r + 1] : mid;
			size_t x = start, y = mid, k = start;

			while (x < mid && y < hi)
				b[k++] = a[y].ts < a[x].ts ? a[y++] : a[x++];
			memcpy(b + k, a + x, (mid - x) * sizeof(*a));
			k += mid - x;
			memcpy(b + k, a + y, (hi - y) * sizeof(*a));
			w->runs[out++] = hi;
			start = hi;
		}
		nruns = out;
		struct gt_wrow *t = a;

		a = b;
		b = t;
	}
	if (a != w->rows) {
		/* the result sits in the temp array: swap roles */
		w->rows_tmp = w->rows;
		w->rows = a;
	}
	return 0;
}

static int gt_cmp_used(const void *pa, const void *pb, void *arg)
{
	const struct gt_wschema *s = arg;
	uint32_t a = s[*(const uint32_t *)pa].id, b = s[*(const uint32_t *)pb].id;

	return a < b ? -1 : a > b;
}

/*
 * Copy @n bytes that a caller has room for: short strings and payloads (the
 * common case, a few dozen bytes) with two overlapping fixed-size moves
 * that stay within [src, src + n) and [dst, dst + n), instead of a libc call.
 */
static inline void gt_copy_small(uint8_t *dst, const uint8_t *src, size_t n)
{
	uint64_t a, b, c, d;

	if (n >= 16 && n <= 32) {
		memcpy(&a, src, 8);
		memcpy(&b, src + 8, 8);
		memcpy(&c, src + n - 16, 8);
		memcpy(&d, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + 8, &b, 8);
		memcpy(dst + n - 16, &c, 8);
		memcpy(dst + n - 8, &d, 8);
	} else if (n >= 8 && n < 16) {
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else if (n > 32) {
		memcpy(dst, src, n);
	} else {
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

/* Encode one row's fields into its schema's columns (payload already validated). */
static void gt_row_encode(struct gt_wschema *s, const uint8_t *p)
{
	for (uint32_t f = 0; f < s->nfields; f++) {
		struct gt_buf *c = &s->cols[f];
		uint64_t v;
		uint32_t n;

		switch (s->types[f]) {
		case GT_TYPE_I32:
			v = (uint64_t)(int64_t)(int32_t)gt_le32(p);
			p += 4;
			goto integer;
		case GT_TYPE_U32:
			v = gt_le32(p);
			p += 4;
			goto integer;
		case GT_TYPE_I64:
		case GT_TYPE_U64:
			v = gt_le64(p);
			p += 8;
integer:
			gt_buf_varint_fast(c, gt_zigzag((int64_t)(v - s->prev[f])));
			s->prev[f] = v;
			break;
		case GT_TYPE_F64:
			memcpy(c->data + c->len, p, 8);
			c->len += 8;
			p += 8;
			break;
		case GT_TYPE_BOOL:
			c->data[c->len++] = *p ? 1 : 0;
			p += 1;
			break;
		default: /* STR, BYTES */
			n = gt_le32(p);
			p += 4;
			gt_buf_varint_fast(c, n);
			gt_copy_small(c->data + c->len, p, n);
			c->len += n;
			p += n;
			break;
		}
	}
}

static int gt_seal(struct gt_writer *w)
{
	struct gt_buf *body = &w->body;
	size_t nsch, hdr_at, bound, csize;
	uint64_t prev_ts, min_ts, max_ts;
	struct gt_wchunk *ck;
	uint8_t *ch;
	int ret;

	if (w->err)
		return w->err;
	w->out.len = 0;
	ret = gt_out_pending(w);
	if (ret < 0)
		goto out;
	if (!w->nrows) {
		if (w->out.len) {
			ret = gt_write_all(w, w->out.data, w->out.len);
			if (ret == 0)
				gt_pending_done(w);
		}
		goto out;
	}
	ret = gt_rows_sort(w);
	if (ret < 0)
		goto out;
	min_ts = w->rows[0].ts;
	max_ts = w->rows[w->nrows - 1].ts;

	/* schema table of the chunk, increasing id */
	nsch = w->nused;
	if (nsch > 1)
		qsort_r(w->used, nsch, sizeof(*w->used), gt_cmp_used, w->schemas);
	for (size_t i = 0; i < nsch; i++) {
		struct gt_wschema *s = &w->schemas[w->used[i]];

		s->cslot = (uint32_t)i;
		memset(s->prev, 0, sizeof(s->prev));
		for (uint32_t f = 0; f < s->nfields; f++)
			s->cols[f].len = 0;
	}

	/* body: streams, then columns S, T, D */
	body->len = 0;
	if (gt_buf_reserve(body, 10 + w->nstreams * 20 + w->nrows * 30) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	gt_buf_varint_fast(body, w->nstreams);
	for (size_t i = 0; i < w->nstreams; i++) {
		gt_buf_varint_fast(body, w->streams[i] >> 32);
		gt_buf_varint_fast(body, (uint32_t)w->streams[i]);
	}
	for (size_t i = 0; i < w->nrows; i++)
		gt_buf_varint_fast(body, w->schemas[w->rows[i].schema].cslot);
	for (size_t i = 0; i < w->nrows; i++)
		gt_buf_varint_fast(body, w->rows[i].stream);
	prev_ts = min_ts;
	for (size_t i = 0; i < w->nrows; i++) {
		gt_buf_varint_fast(body, w->rows[i].ts - prev_ts);
		prev_ts = w->rows[i].ts;
	}

	/*
	 * field columns: reserve the worst case per schema once (a varint per
	 * row, plus for a string column all the chunk's payload bytes of the
	 * schema, which bound its strings), then encode row by row with no check
	 */
	for (size_t i = 0; i < nsch; i++) {
		struct gt_wschema *s = &w->schemas[w->used[i]];

		for (uint32_t f = 0; f < s->nfields; f++) {
			size_t need = (size_t)s->ccount * 10;

			if (s->types[f] == GT_TYPE_STR || s->types[f] == GT_TYPE_BYTES)
				need += s->cbytes;
			if (gt_buf_reserve(&s->cols[f], need) < 0) {
				ret = -ENOMEM;
				goto out;
			}
		}
	}
	for (size_t i = 0; i < w->nrows; i++) {
		const struct gt_wrow *r = &w->rows[i];
		struct gt_wschema *s = &w->schemas[r->schema];

		if (s->nfields) /* a schema without fields may leave the arena unallocated */
			gt_row_encode(s, w->arena.data + r->off);
	}
	for (size_t i = 0; i < nsch; i++) {
		struct gt_wschema *s = &w->schemas[w->used[i]];

		for (uint32_t f = 0; f < s->nfields; f++)
			if (gt_buf_add(body, s->cols[f].data, s->cols[f].len) < 0) {
				ret = -ENOMEM;
				goto out;
			}
	}
	if (body->len > GT_RAW_MAX) {
		ret = -GT_ELIMIT;
		goto out;
	}

	/* chunk block: header, chunk header, zstd frame */
	bound = ZSTD_compressBound(body->len);
	if (gt_buf_reserve(&w->out, GT_BLK_HDR_SIZE + GT_CHUNK_HDR_SIZE + 8 * nsch + bound) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	hdr_at = w->out.len;
	ch = w->out.data + hdr_at + GT_BLK_HDR_SIZE;
	gt_put32(ch, (uint32_t)w->nrows);
	gt_put32(ch + 4, (uint32_t)nsch);
	gt_put64(ch + 8, min_ts);
	gt_put64(ch + 16, max_ts);
	gt_put64(ch + 24, w->last.ticks);
	gt_put64(ch + 32, w->last.mono_ns);
	gt_put64(ch + 40, w->last.realtime_ns);
	for (size_t i = 0; i < nsch; i++) {
		gt_put32(ch + 48 + 8 * i, w->schemas[w->used[i]].id);
		gt_put32(ch + 52 + 8 * i, w->schemas[w->used[i]].ccount);
	}
	csize = ZSTD_compress2(w->cctx, ch + 48 + 8 * nsch, bound, body->data, body->len);
	if (ZSTD_isError(csize)) {
		ret = -GT_ECOMPRESS;
		goto out;
	}
	csize += 48 + 8 * nsch;
	if (csize > GT_CHUNK_BLK_MAX) {
		ret = -GT_ELIMIT;
		goto out;
	}
	gt_blk_hdr_fill(w->out.data + hdr_at, GT_BLK_CHUNK, (uint32_t)csize, (uint32_t)body->len,
			ch);
	w->out.len = hdr_at + GT_BLK_HDR_SIZE + csize;
	if (w->win) {
		/* memory mode: keep the chunk block; the window indexes it and may evict */
		ret = gt_window_add(w->win, w->out.data + hdr_at, GT_BLK_HDR_SIZE + csize);
		if (ret == 0)
			gt_pending_done(w);
		goto out;
	}

	/* index entry (before the write, so a failure leaves nothing half-done) */
	ret = gt_grow((void **)&w->chunks, &w->chunks_cap, w->nchunks + 1, sizeof(*w->chunks));
	if (ret < 0)
		goto out;
	if (gt_buf_reserve(&w->chunk_sch, 8 * nsch) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	ret = gt_write_all(w, w->out.data, w->out.len);
	if (ret < 0)
		goto out;
	gt_pending_done(w);
	ck = &w->chunks[w->nchunks++];
	ck->offset = w->off - GT_BLK_HDR_SIZE - csize;
	ck->size = (uint32_t)csize;
	ck->raw_size = (uint32_t)body->len;
	ck->nevents = (uint32_t)w->nrows;
	ck->nschemas = (uint32_t)nsch;
	ck->min_ts = min_ts;
	ck->max_ts = max_ts;
	ck->sch_off = w->chunk_sch.len;
	for (size_t i = 0; i < nsch; i++) {
		struct gt_wschema *s = &w->schemas[w->used[i]];
		uint8_t *q = w->chunk_sch.data + w->chunk_sch.len;

		gt_put32(q, s->id);
		gt_put32(q + 4, s->ccount);
		w->chunk_sch.len += 8;
		s->total += s->ccount;
	}
out:
	/* the chunk is gone either way: reset it */
	for (size_t i = 0; i < w->nused; i++) {
		w->schemas[w->used[i]].ccount = 0;
		w->schemas[w->used[i]].cbytes = 0;
	}
	w->nused = 0;
	w->nrows = 0;
	w->arena.len = 0;
	w->raw = 0;
	w->nstreams = 0;
	if (w->st_hash)
		memset(w->st_hash, 0, w->st_hash_cap * sizeof(*w->st_hash));
	w->last_stream_key = UINT64_MAX;
	w->prev_stream_key = UINT64_MAX;
	if (ret < 0 && !w->err)
		w->err = ret;
	return ret;
}

/* A writer without a file: options, clock and zstd context (the open functions add the fd). */
static int gt_writer_new(const struct gt_writer_opts *opts, const struct gt_clock_sample *start,
			 struct gt_writer **out)
{
	struct gt_writer *w;
	int ret;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	if (opts)
		w->opts = *opts;
	if (w->opts.clock != GT_CLOCK_TSC && w->opts.clock != GT_CLOCK_MONO)
		w->opts.clock = GT_CLOCK_MONO;
	if (!w->opts.chunk_bytes)
		w->opts.chunk_bytes = GT_CHUNK_DEFAULT;
	if (w->opts.chunk_bytes > GT_CHUNK_CAP)
		w->opts.chunk_bytes = GT_CHUNK_CAP;
	if (!w->opts.zstd_level)
		w->opts.zstd_level = 3;
	w->start = *start;
	w->last = *start;
	w->last_stream_key = UINT64_MAX;
	w->prev_stream_key = UINT64_MAX;
	w->cctx = ZSTD_createCCtx();
	if (!w->cctx) {
		ret = -ENOMEM;
		goto fail;
	}
	if (ZSTD_isError(
		    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->opts.zstd_level))) {
		ret = -EINVAL;
		goto fail;
	}
	*out = w;
	return 0;
fail:
	ZSTD_freeCCtx(w->cctx);
	free(w);
	return ret;
}

int gt_writer_open(const char *path, const struct gt_writer_opts *opts,
		   const struct gt_clock_sample *start, struct gt_writer **out)
{
	uint8_t hdr[GT_FILE_HDR_SIZE];
	struct gt_writer *w;
	int ret;

	*out = NULL;
	if (!path || !start)
		return -EINVAL;
	ret = gt_writer_new(opts, start, &w);
	if (ret < 0)
		return ret;
	w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		ret = -errno;
		goto fail;
	}
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, GT_FILE_MAGIC, 8);
	gt_put16(hdr + 8, GT_FILE_VERSION_MAJOR);
	gt_put16(hdr + 10, GT_FILE_VERSION_MINOR);
	gt_put32(hdr + 12, GT_FILE_HDR_SIZE);
	gt_put32(hdr + 16, 0);
	gt_put32(hdr + 20, w->opts.clock);
	gt_put64(hdr + 24, start->ticks);
	gt_put64(hdr + 32, start->mono_ns);
	gt_put64(hdr + 40, start->realtime_ns);
	gt_put64(hdr + 56, gt_file_hdr_check(hdr));
	ret = gt_write_all(w, hdr, sizeof(hdr));
	if (ret < 0) {
		(void)unlink(path);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	w->err = 0;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	ZSTD_freeCCtx(w->cctx);
	free(w);
	return ret;
}

int gt_writer_open_window(const struct gt_writer_opts *opts, const struct gt_clock_sample *start,
			  uint64_t window_bytes, struct gt_writer **out)
{
	struct gt_writer *w;
	int ret;

	*out = NULL;
	if (!start || !window_bytes)
		return -EINVAL;
	ret = gt_writer_new(opts, start, &w);
	if (ret < 0)
		return ret;
	ret = gt_window_new(window_bytes, &w->win);
	if (ret < 0) {
		ZSTD_freeCCtx(w->cctx);
		free(w);
		return ret;
	}
	*out = w;
	return 0;
}

int gt_writer_set_meta(struct gt_writer *w, const char *key, const char *value)
{
	size_t klen, vlen;
	char *v;

	if (!key || !value)
		return -EINVAL;
	klen = strlen(key);
	vlen = strlen(value);
	if (!klen || klen > GT_NAME_MAX || vlen > GT_META_VALUE_MAX)
		return -GT_ELIMIT;
	v = strdup(value);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < w->nmeta; i++) {
		if (!strcmp(w->meta[i].key, key)) {
			free(w->meta[i].value);
			w->meta[i].value = v;
			w->meta_dirty = true;
			return 0;
		}
	}
	if (w->nmeta >= GT_META_MAX ||
	    gt_grow((void **)&w->meta, &w->meta_cap, w->nmeta + 1, sizeof(*w->meta)) < 0) {
		free(v);
		return w->nmeta >= GT_META_MAX ? -GT_ELIMIT : -ENOMEM;
	}
	w->meta[w->nmeta].key = strdup(key);
	if (!w->meta[w->nmeta].key) {
		free(v);
		return -ENOMEM;
	}
	w->meta[w->nmeta++].value = v;
	w->meta_dirty = true;
	return 0;
}

static int gt_schema_find(const struct gt_writer *w, uint32_t id)
{
	size_t mask = w->sch_hash_cap - 1;

	if (!w->sch_hash_cap)
		return -1;
	for (size_t h = gt_hash32(id) & mask;; h = (h + 1) & mask) {
		uint32_t v = w->sch_hash[h];

		if (!v)
			return -1;
		if (w->schemas[v - 1].id == id)
			return (int)(v - 1);
	}
}

static int gt_schema_hash_rebuild(struct gt_writer *w, size_t cap)
{
	uint32_t *t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	free(w->sch_hash);
	w->sch_hash = t;
	w->sch_hash_cap = cap;
	for (size_t i = 0; i < w->nschemas; i++) {
		size_t h = gt_hash32(w->schemas[i].id) & (cap - 1);

		while (t[h])
			h = (h + 1) & (cap - 1);
		t[h] = (uint32_t)(i + 1);
	}
	return 0;
}

static void gt_wschema_release(struct gt_wschema *s)
{
	free(s->provider);
	free(s->name);
	free(s->file);
	free(s->format);
	for (uint32_t f = 0; f < s->nfields; f++) {
		free(s->fnames[f]);
		if (s->cols)
			gt_buf_release(&s->cols[f]);
	}
	free(s->cols);
}

static char *gt_strdup_max(const char *s, size_t max, int *ret)
{
	char *d;

	if (!s)
		s = "";
	if (strlen(s) > max) {
		*ret = -GT_ELIMIT;
		return NULL;
	}
	d = strdup(s);
	if (!d)
		*ret = -ENOMEM;
	return d;
}

int gt_writer_add_schema(struct gt_writer *w, const struct gt_schema_desc *d)
{
	struct gt_wschema s;
	int ret = 0;

	if (!d || !d->id || d->kind > GT_KIND_MAX_ || d->nfields > GT_FIELDS_MAX ||
	    (d->nfields && !d->fields) || !d->provider || !d->name)
		return -EINVAL;
	if (gt_schema_find(w, d->id) >= 0)
		return -EEXIST;
	if (w->nschemas >= GT_SCHEMAS_MAX)
		return -GT_ELIMIT;
	memset(&s, 0, sizeof(s));
	s.id = d->id;
	s.kind = d->kind;
	s.level = d->level;
	s.keywords = d->keywords;
	s.line = d->line;
	s.nfields = 0;
	s.provider = gt_strdup_max(d->provider, GT_NAME_MAX, &ret);
	s.name = gt_strdup_max(d->name, GT_NAME_MAX, &ret);
	s.file = gt_strdup_max(d->file, GT_FILE_NAME_MAX, &ret);
	s.format = gt_strdup_max(d->format, GT_FORMAT_MAX, &ret);
	s.cols = calloc(d->nfields ? d->nfields : 1, sizeof(*s.cols));
	if (!s.cols && !ret)
		ret = -ENOMEM;
	for (uint32_t f = 0; f < d->nfields && !ret; f++) {
		uint8_t t = d->fields[f].type;

		if (t < GT_TYPE_I32 || t > GT_TYPE_MAX_ || !d->fields[f].name) {
			ret = -EINVAL;
			break;
		}
		s.types[f] = t;
		s.fsize[f] = t == GT_TYPE_I32 || t == GT_TYPE_U32 || t == GT_TYPE_STR ||
					     t == GT_TYPE_BYTES
				     ? 4
				     : t == GT_TYPE_BOOL ? 1 : 8;
		s.fnames[f] = gt_strdup_max(d->fields[f].name, GT_NAME_MAX, &ret);
		s.nfields = f + 1;
		if ((t == GT_TYPE_STR || t == GT_TYPE_BYTES) && !s.has_var) {
			s.has_var = 1;
			s.var_first = f;
			s.var_off = s.fixed_len;
		}
		s.fixed_len += t == GT_TYPE_I32 || t == GT_TYPE_U32 ? 4 : t == GT_TYPE_BOOL ? 1 : 8;
	}
	if (!ret && w->nschemas + 1 > w->sch_hash_cap / 2)
		ret = gt_schema_hash_rebuild(w, w->sch_hash_cap ? w->sch_hash_cap * 2 : 64);
	if (!ret)
		ret = gt_grow((void **)&w->schemas, &w->schemas_cap, w->nschemas + 1,
			      sizeof(*w->schemas));
	if (ret) {
		gt_wschema_release(&s);
		return ret;
	}
	w->schemas[w->nschemas++] = s;
	{
		size_t mask = w->sch_hash_cap - 1, h = gt_hash32(s.id) & mask;

		while (w->sch_hash[h])
			h = (h + 1) & mask;
		w->sch_hash[h] = (uint32_t)w->nschemas;
	}
	w->schemas_pending = true;
	return 0;
}

/* Check @p/@len against schema @s; return the bytes used (the rest is padding) or -1. */
static ssize_t gt_payload_check(const struct gt_wschema *s, const uint8_t *p, size_t len)
{
	size_t off = 0;

	if (!s->has_var) {
		off = s->fixed_len;
		if (len < off)
			return -1;
	} else {
		/* the fixed fields before the first string: one check */
		off = s->var_off;
		if (len < off)
			return -1;
		for (uint32_t f = s->var_first; f < s->nfields; f++) {
			uint8_t t = s->types[f];
			size_t need = s->fsize[f];

			if (len - off < need)
				return -1;
			if (t == GT_TYPE_STR || t == GT_TYPE_BYTES) {
				uint32_t n = gt_le32(p + off);

				off += 4;
				if (n > GT_VALUE_STR_MAX || len - off < n)
					return -1;
				off += n;
			} else {
				off += need;
			}
		}
	}
	/* a ring payload may carry up to 7 bytes of zero padding */
	if (len - off >= GT_REC_ALIGN)
		return -1;
	for (size_t i = off; i < len; i++)
		if (p[i])
			return -1;
	return (ssize_t)off;
}

static int gt_stream_find(struct gt_writer *w, uint32_t pid, uint32_t tid, uint32_t *idx)
{
	uint64_t key = (uint64_t)pid << 32 | tid;
	size_t mask, h;

	if (key == w->last_stream_key) {
		*idx = w->last_stream;
		return 0;
	}
	if (key == w->prev_stream_key) {
		*idx = w->prev_stream;
		goto found;
	}
	if (w->nstreams + 1 > w->st_hash_cap / 2) {
		size_t cap = w->st_hash_cap ? w->st_hash_cap * 2 : 64;
		uint32_t *t = calloc(cap, sizeof(*t));

		if (!t)
			return -ENOMEM;
		for (size_t i = 0; i < w->nstreams; i++) {
			h = gt_hash32(w->streams[i]) & (cap - 1);
			while (t[h])
				h = (h + 1) & (cap - 1);
			t[h] = (uint32_t)(i + 1);
		}
		free(w->st_hash);
		w->st_hash = t;
		w->st_hash_cap = cap;
	}
	mask = w->st_hash_cap - 1;
	for (h = gt_hash32(key) & mask; w->st_hash[h]; h = (h + 1) & mask) {
		if (w->streams[w->st_hash[h] - 1] == key) {
			*idx = w->st_hash[h] - 1;
			goto found;
		}
	}
	if (gt_grow((void **)&w->streams, &w->streams_cap, w->nstreams + 1, sizeof(*w->streams)))
		return -ENOMEM;
	w->streams[w->nstreams] = key;
	w->st_hash[h] = (uint32_t)(w->nstreams + 1);
	*idx = (uint32_t)w->nstreams++;
found:
	w->prev_stream_key = w->last_stream_key;
	w->prev_stream = w->last_stream;
	w->last_stream_key = key;
	w->last_stream = *idx;
	return 0;
}

int gt_writer_add_event(struct gt_writer *w, uint64_t ts, uint32_t pid, uint32_t tid,
			uint32_t schema_id, const void *payload, size_t len)
{
	struct gt_wschema *s;
	struct gt_wrow *r;
	uint32_t si, stream;
	ssize_t used;
	int ret;

	if (w->err)
		return w->err;
	if (schema_id == w->last_id && w->nschemas) {
		si = w->last_idx;
	} else {
		int i = gt_schema_find(w, schema_id);

		if (i < 0)
			return -ENOENT;
		si = (uint32_t)i;
		w->last_id = schema_id;
		w->last_idx = si;
	}
	s = &w->schemas[si];
	if (len && !payload)
		return -EINVAL;
	used = gt_payload_check(s, payload, len);
	if (used < 0)
		return -GT_ECORRUPT;
	ret = gt_stream_find(w, pid, tid, &stream);
	if (ret < 0)
		return ret;
	if (w->nrows >= w->rows_cap) {
		size_t old = w->rows_cap;

		ret = gt_grow((void **)&w->rows, &w->rows_cap, w->nrows + 1, sizeof(*w->rows));
		if (ret < 0)
			return ret;
		if (w->rows_cap != old) {
			free(w->rows_tmp); /* reallocated at the right size on the next sort */
			w->rows_tmp = NULL;
		}
	}
	if (gt_buf_reserve(&w->arena, (size_t)used) < 0)
		return -ENOMEM;
	gt_copy_small(w->arena.data + w->arena.len, payload, (size_t)used);
	w->arena.len += (size_t)used;
	if (!s->ccount) {
		if (gt_grow((void **)&w->used, &w->used_cap, w->nused + 1, sizeof(*w->used)) < 0) {
			w->arena.len -= (size_t)used;
			return -ENOMEM;
		}
		w->used[w->nused++] = si;
	}
	s->ccount++;
	s->cbytes += (size_t)used;
	r = &w->rows[w->nrows++];
	r->ts = ts;
	r->stream = stream;
	r->schema = si;
	r->off = (uint32_t)(w->arena.len - (size_t)used);
	r->len = (uint32_t)used;
	w->nevents++;
	w->raw += (size_t)used + GT_ROW_OVERHEAD;
	if (w->raw >= w->opts.chunk_bytes)
		return gt_seal(w);
	return 0;
}

int gt_writer_add_lost(struct gt_writer *w, uint32_t pid, uint32_t tid, uint64_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < w->nlost; i++) {
		if (w->lost[i].pid == pid && w->lost[i].tid == tid) {
			w->lost[i].n += n;
			w->stats_dirty = true;
			return 0;
		}
	}
	if (w->nlost >= GT_STATS_MAX)
		return -GT_ELIMIT;
	if (gt_grow((void **)&w->lost, &w->lost_cap, w->nlost + 1, sizeof(*w->lost)) < 0)
		return -ENOMEM;
	w->lost[w->nlost++] = (struct gt_wlost){ pid, tid, n };
	w->stats_dirty = true;
	return 0;
}

int gt_writer_add_corrupt(struct gt_writer *w, uint32_t pid, uint64_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < w->ncorrupt; i++) {
		if (w->corrupt[i].pid == pid) {
			w->corrupt[i].n += n;
			w->stats_dirty = true;
			return 0;
		}
	}
	if (w->ncorrupt >= GT_STATS_MAX)
		return -GT_ELIMIT;
	if (gt_grow((void **)&w->corrupt, &w->corrupt_cap, w->ncorrupt + 1, sizeof(*w->corrupt)) <
	    0)
		return -ENOMEM;
	w->corrupt[w->ncorrupt++] = (struct gt_wlost){ pid, 0, n };
	w->stats_dirty = true;
	return 0;
}

int gt_writer_clock(struct gt_writer *w, const struct gt_clock_sample *s)
{
	if (!s)
		return -EINVAL;
	w->last = *s;
	return w->err;
}

int gt_writer_flush(struct gt_writer *w)
{
	return gt_seal(w);
}

uint64_t gt_writer_bytes(const struct gt_writer *w)
{
	return w->off;
}

uint64_t gt_writer_events(const struct gt_writer *w)
{
	return w->nevents;
}

/*
 * Adopting blocks already on disk (gtrace repair, format/gt_repair.c): the
 * writer indexes them and appends only what is missing, so the footer comes
 * from the same encoder as in a normal close.
 */
int gt_writer_open_fd(int fd, uint64_t off, const struct gt_writer_opts *opts,
		      const struct gt_clock_sample *start, struct gt_writer **out)
{
	struct gt_writer *w;
	int ret;

	*out = NULL;
	if (fd < 0 || !start || off < GT_FILE_HDR_SIZE || off > INT64_MAX)
		return -EINVAL;
	if (lseek(fd, (off_t)off, SEEK_SET) < 0)
		return -errno;
	ret = gt_writer_new(opts, start, &w);
	if (ret < 0)
		return ret;
	w->fd = fd;
	w->off = off;
	*out = w;
	return 0;
}

int gt_writer_index_chunk(struct gt_writer *w, uint64_t offset, uint32_t size, uint32_t raw_size,
			  uint32_t nevents, uint64_t min_ts, uint64_t max_ts, uint32_t nschemas,
			  const uint8_t *pairs)
{
	struct gt_wchunk *ck;
	uint64_t sum = 0;
	int ret;

	if (w->err)
		return w->err;
	if (!nevents || !nschemas || nschemas > nevents || nschemas > GT_SCHEMAS_MAX ||
	    min_ts > max_ts || offset > w->off || size > w->off - offset)
		return -EINVAL;
	for (uint32_t i = 0; i < nschemas; i++) {
		if (gt_schema_find(w, gt_le32(pairs + 8 * i)) < 0)
			return -ENOENT;
		sum += gt_le32(pairs + 8 * i + 4);
	}
	if (sum != nevents)
		return -GT_ECORRUPT;
	ret = gt_grow((void **)&w->chunks, &w->chunks_cap, w->nchunks + 1, sizeof(*w->chunks));
	if (ret < 0)
		return ret;
	if (gt_buf_add(&w->chunk_sch, pairs, 8 * (size_t)nschemas) < 0)
		return -ENOMEM;
	ck = &w->chunks[w->nchunks++];
	ck->offset = offset;
	ck->size = size;
	ck->raw_size = raw_size;
	ck->nevents = nevents;
	ck->nschemas = nschemas;
	ck->min_ts = min_ts;
	ck->max_ts = max_ts;
	ck->sch_off = w->chunk_sch.len - 8 * (size_t)nschemas;
	for (uint32_t i = 0; i < nschemas; i++)
		w->schemas[gt_schema_find(w, gt_le32(pairs + 8 * i))].total +=
			gt_le32(pairs + 8 * i + 4);
	w->nevents += nevents;
	return 0;
}

void gt_writer_mark_written(struct gt_writer *w)
{
	gt_pending_done(w);
}

/* Event time of @ticks in ns since the start sample, as a reader computes it (docs/format.md). */
static uint64_t gt_ticks_ns(const struct gt_writer *w, uint64_t ticks)
{
	uint64_t dt = w->last.ticks - w->start.ticks;

	if (ticks < w->start.ticks)
		return 0;
	if (w->opts.clock != GT_CLOCK_TSC || w->last.ticks <= w->start.ticks)
		return ticks - w->start.ticks;
	return (uint64_t)((unsigned __int128)(ticks - w->start.ticks) *
			  (w->last.mono_ns - w->start.mono_ns) / dt);
}

int gt_writer_snapshot_prepare(struct gt_writer *w, struct gt_window_image **out)
{
	struct gt_buf sch = { 0 }, st = { 0 }, meta = { 0 };
	struct gt_window_parts parts;
	struct gt_window_stats ws;
	char v[32];
	uint64_t ts;
	int ret;

	*out = NULL;
	if (!w->win)
		return -EINVAL;
	ret = gt_seal(w);
	if (ret < 0)
		return ret;
	gt_window_stats(w->win, &ws);
	ret = gt_writer_set_meta(w, "mode", "memory");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)ws.max_bytes);
	ret |= gt_writer_set_meta(w, "window_bytes", v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)ws.evicted_chunks);
	ret |= gt_writer_set_meta(w, "window_evicted_chunks", v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)ws.evicted_events);
	ret |= gt_writer_set_meta(w, "window_evicted_events", v);
	if (gt_window_first_ts(w->win, &ts)) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)gt_ticks_ns(w, ts));
		ret |= gt_writer_set_meta(w, "window_start_ns", v);
	}
	if (ret)
		return -ENOMEM;
	ret = gt_buf_varint(&sch, w->nschemas);
	for (size_t i = 0; i < w->nschemas && !ret; i++)
		ret = gt_enc_schema(&sch, &w->schemas[i]);
	if (!ret)
		ret = gt_enc_stats(&st, w);
	if (!ret)
		ret = gt_enc_meta(&meta, w);
	if (!ret) {
		parts = (struct gt_window_parts){
			.clock = w->opts.clock, .start = w->start, .last = w->last,
			.meta = meta.data, .meta_len = meta.len,
			.schemas = sch.data, .schemas_len = sch.len,
			.stats = st.data, .stats_len = st.len,
		};
		ret = gt_window_image_new(w->win, &parts, out);
	}
	gt_buf_release(&sch);
	gt_buf_release(&st);
	gt_buf_release(&meta);
	return ret;
}

int gt_writer_snapshot(struct gt_writer *w, const char *path, uint64_t *bytes, uint64_t *events)
{
	struct gt_window_image *img;
	int ret = gt_writer_snapshot_prepare(w, &img);

	if (ret < 0)
		return ret;
	if (events)
		*events = gt_window_image_events(img);
	ret = gt_window_image_write(img, path, bytes);
	gt_window_image_free(img);
	return ret;
}

struct gt_window *gt_writer_window(const struct gt_writer *w)
{
	return w->win;
}

static int gt_write_footer(struct gt_writer *w)
{
	struct gt_buf *s = &w->scratch;
	uint8_t tr[GT_TRAILER_SIZE];
	uint64_t foff;
	int ret = 0;

	w->out.len = 0;
	ret = gt_out_pending(w);
	if (ret < 0)
		return ret;
	s->len = 0;
	if (gt_buf_reserve(s, 24) < 0)
		return -ENOMEM;
	gt_put64(s->data, w->last.ticks);
	gt_put64(s->data + 8, w->last.mono_ns);
	gt_put64(s->data + 16, w->last.realtime_ns);
	s->len = 24;
	ret |= gt_buf_varint(s, w->nchunks);
	for (size_t i = 0; i < w->nchunks; i++) {
		const struct gt_wchunk *c = &w->chunks[i];

		ret |= gt_buf_varint(s, c->offset);
		ret |= gt_buf_varint(s, c->size);
		ret |= gt_buf_varint(s, c->raw_size);
		ret |= gt_buf_varint(s, c->nevents);
		ret |= gt_buf_varint(s, c->min_ts);
		ret |= gt_buf_varint(s, c->max_ts);
		ret |= gt_buf_varint(s, c->nschemas);
		for (uint32_t k = 0; k < c->nschemas; k++) {
			const uint8_t *q = w->chunk_sch.data + c->sch_off + 8 * k;

			ret |= gt_buf_varint(s, gt_le32(q));
			ret |= gt_buf_varint(s, gt_le32(q + 4));
		}
	}
	ret |= gt_buf_varint(s, w->nschemas);
	for (size_t i = 0; i < w->nschemas; i++)
		ret |= gt_enc_schema(s, &w->schemas[i]);
	ret |= gt_buf_varint(s, w->nschemas);
	for (size_t i = 0; i < w->nschemas; i++) {
		ret |= gt_buf_varint(s, w->schemas[i].id);
		ret |= gt_buf_varint(s, w->schemas[i].total);
	}
	ret |= gt_enc_stats(s, w);
	ret |= gt_enc_meta(s, w);
	if (ret)
		return -ENOMEM;
	foff = w->off + w->out.len;
	ret = gt_out_block(&w->out, GT_BLK_FOOTER, s->data, s->len, s->len);
	if (ret < 0)
		return ret;
	gt_put64(tr, foff);
	gt_put64(tr + 8, GT_BLK_HDR_SIZE + s->len);
	gt_put64(tr + 16, XXH3_64bits(s->data, s->len));
	memcpy(tr + 24, GT_TRAILER_MAGIC, 8);
	if (gt_buf_add(&w->out, tr, sizeof(tr)) < 0)
		return -ENOMEM;
	ret = gt_write_all(w, w->out.data, w->out.len);
	if (ret == 0)
		gt_pending_done(w);
	return ret;
}

int gt_writer_close(struct gt_writer *w)
{
	int ret;

	if (!w)
		return 0;
	ret = w->err;
	if (w->win) {
		/* memory mode: nothing to write, what no snapshot took is dropped */
		gt_window_free(w->win);
		goto release;
	}
	if (!ret)
		ret = gt_seal(w);
	if (!w->err) {
		int r = gt_write_footer(w);

		if (r < 0 && !ret)
			ret = r;
	}
	/*
	 * Complete for every reader now.  Durable on disk: with sync_full wait
	 * for it (a journal commit, 1 to 4 ms here); else start the writeback
	 * and go on (docs/profiles.md, `file sync=`).
	 */
	if (!ret && w->opts.sync_full && fsync(w->fd) < 0)
		ret = -errno;
	if (!ret && !w->opts.sync_full)
		(void)sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (close(w->fd) < 0 && !ret)
		ret = -errno;
release:
	for (size_t i = 0; i < w->nschemas; i++)
		gt_wschema_release(&w->schemas[i]);
	free(w->schemas);
	free(w->sch_hash);
	free(w->rows);
	free(w->rows_tmp);
	free(w->runs);
	gt_buf_release(&w->arena);
	free(w->streams);
	free(w->st_hash);
	free(w->used);
	gt_buf_release(&w->body);
	gt_buf_release(&w->out);
	gt_buf_release(&w->scratch);
	free(w->chunks);
	gt_buf_release(&w->chunk_sch);
	for (size_t i = 0; i < w->nmeta; i++) {
		free(w->meta[i].key);
		free(w->meta[i].value);
	}
	free(w->meta);
	free(w->lost);
	free(w->corrupt);
	ZSTD_freeCCtx(w->cctx);
	free(w);
	return ret;
}
