/* SPDX-License-Identifier: MIT */
/*
 * gt_reader.c - reads a .gtrace file (format v1, docs/format.md).
 *
 * Opening maps the file, checks the header and loads the index from the
 * footer that the trailer points at.  When there is no valid footer (the
 * writer crashed or the tail is damaged) the blocks are scanned forward from
 * the header and every block whose checksum verifies is kept, up to the
 * first bad or incomplete one: the index is rebuilt in memory and the file
 * is reported as recovered.  Summary questions are answered from the index.
 *
 * The iterator merges chunks in time order: chunks are sorted inside but
 * their ranges may overlap, so it keeps a heap of decoded chunks keyed by
 * their next event and decodes a further chunk (in min_ts order) only once
 * its min_ts is not after the heap's smallest event.  Filters drop chunks
 * from the index before anything is decompressed.
 *
 * Speed (docs/perf.md, "Full scan"): a chunk is decoded column by column in
 * tight loops (one per column type, bounds checked once per column where
 * that is equivalent), timestamps are converted to ns there too, and a
 * chunk with one schema and one thread skips its index columns; the
 * iterator then hands out events of the only chunk in the heap without
 * touching the heap or the filter.  gt_iter_new_chunks() limits an
 * iterator to a range of chunks, so that threads with a reader each can
 * split a full scan without decoding a chunk twice.
 *
 * Every byte of the file is untrusted: reads go through a bounds-checked
 * cursor, and every declared count is compared with the format limits and
 * with the bytes that could possibly hold it before anything is allocated.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include <gtrace/reader.h>

#include "gt_fmt.h"

/*
 * Fuzzing builds accept any checksum, so that mutations reach the parsers
 * behind them instead of stopping at the first hash (as libpng and zstd do).
 */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define GT_SUM_OK(a, b) ((void)(a), (void)(b), true)
#else
#define GT_SUM_OK(a, b) ((a) == (b))
#endif

struct gt_rschema {
	struct gt_schema s;
	struct gt_field f[GT_FIELDS_MAX];
	char *mem; /* all strings of this schema */
};

struct gt_rkv {
	char *key;
	char *value;
	size_t seq; /* position in its block: a later duplicate wins */
};

struct gt_rchunk {
	struct gt_chunk_info info;
	struct gt_clock_point seal; /* from the chunk header (recovered files only) */
	size_t sch_off;		    /* (id, count) pairs in r->chunk_sch */
	uint32_t nsch;
};

struct gt_reader {
	char *path;
	const uint8_t *data;
	size_t size;
	bool mapped;
	int fd; /* the mapped file, kept for the verify pass (pread); -1 for memory */
	char errmsg[512];
	char note[256];
	char footer_note[300]; /* a footer that verified but could not be used */
	uint64_t footer_off;
	struct gt_summary sum;
	uint32_t hdr_size;
	ZSTD_DCtx *dctx;
	uint64_t tsc_num, tsc_den; /* ns = (ticks - start) * num / den; den 0: 1:1 */
	unsigned __int128 tsc_m;   /* floor(num * 2^64 / den): the ratio in 64.64 fixed point */

	struct gt_rschema *schemas;
	size_t nschemas, schemas_cap;
	uint32_t *sch_hash; /* index + 1, while building */
	size_t sch_hash_cap;

	struct gt_rkv *meta;
	size_t nmeta;
	struct gt_lost *lost;
	size_t nlost;
	struct gt_corrupt *corrupt;
	size_t ncorrupt;

	struct gt_rchunk *chunks;
	size_t nchunks, chunks_cap;
	uint32_t *chunk_sch;
	size_t chunk_sch_len, chunk_sch_cap;

	uint32_t *totals; /* footer: (id, count-lo, count-hi) triples, checked at finalize */
	size_t ntotals;
	bool verified;
};

static const char *const gt_blk_names[] = { "block", "meta", "schema", "chunk", "footer", "stats" };

static const char *gt_blk_name(uint32_t type)
{
	return type < 6 ? gt_blk_names[type] : "block";
}

__attribute__((format(printf, 2, 3))) static int gt_fail(struct gt_reader *r, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->errmsg, sizeof(r->errmsg), "'%s': ", r->path);

	if (n < 0 || (size_t)n >= sizeof(r->errmsg))
		return 0;
	va_start(ap, fmt);
	vsnprintf(r->errmsg + n, sizeof(r->errmsg) - (size_t)n, fmt, ap);
	va_end(ap);
	return 0;
}

/* ---------------------------------------------------------------- schemas */

static struct gt_rschema *gt_schema_lookup(const struct gt_reader *r, uint32_t id)
{
	size_t mask = r->sch_hash_cap - 1;

	if (!r->sch_hash_cap)
		return NULL;
	for (size_t h = gt_hash32(id) & mask;; h = (h + 1) & mask) {
		uint32_t v = r->sch_hash[h];

		if (!v)
			return NULL;
		if (r->schemas[v - 1].s.id == id)
			return &r->schemas[v - 1];
	}
}

static int gt_schema_insert(struct gt_reader *r, struct gt_rschema *s)
{
	size_t mask, h;

	if (r->nschemas + 1 > r->sch_hash_cap / 2) {
		size_t cap = r->sch_hash_cap ? r->sch_hash_cap * 2 : 64;
		uint32_t *t = calloc(cap, sizeof(*t));

		if (!t)
			return -ENOMEM;
		for (size_t i = 0; i < r->nschemas; i++) {
			h = gt_hash32(r->schemas[i].s.id) & (cap - 1);
			while (t[h])
				h = (h + 1) & (cap - 1);
			t[h] = (uint32_t)(i + 1);
		}
		free(r->sch_hash);
		r->sch_hash = t;
		r->sch_hash_cap = cap;
	}
	if (gt_grow((void **)&r->schemas, &r->schemas_cap, r->nschemas + 1, sizeof(*r->schemas)))
		return -ENOMEM;
	mask = r->sch_hash_cap - 1;
	for (h = gt_hash32(s->s.id) & mask; r->sch_hash[h]; h = (h + 1) & mask)
		;
	r->schemas[r->nschemas++] = *s;
	r->sch_hash[h] = (uint32_t)r->nschemas;
	return 0;
}

/* Copy @n bytes of an untrusted string into @dst as a C string (cut at a NUL). */
static char *gt_put_str(char **dst, const uint8_t *s, size_t n)
{
	char *p = *dst;

	memcpy(p, s, n);
	p[n] = 0;
	*dst += n + 1;
	return p;
}

/*
 * Parse one schema at @c and add it unless its id is already known.
 * Return 0, -GT_ECORRUPT / -GT_ELIMIT (cursor marked bad), -ENOMEM.
 */
static int gt_schema_parse(struct gt_reader *r, struct gt_cur *c)
{
	const uint8_t *prov, *name, *file, *fmt, *fn[GT_FIELDS_MAX];
	size_t lprov, lname, lfile, lfmt, lfn[GT_FIELDS_MAX], total;
	struct gt_rschema s;
	uint64_t id, nf, line;
	char *p;
	int ret;

	memset(&s, 0, sizeof(s));
	id = gt_cur_varint(c);
	s.s.kind = gt_cur_u8(c);
	s.s.level = gt_cur_u8(c);
	s.s.keywords = gt_cur_varint(c);
	prov = gt_cur_str(c, GT_NAME_MAX, &lprov);
	name = gt_cur_str(c, GT_NAME_MAX, &lname);
	file = gt_cur_str(c, GT_FILE_NAME_MAX, &lfile);
	line = gt_cur_varint(c);
	fmt = gt_cur_str(c, GT_FORMAT_MAX, &lfmt);
	nf = gt_cur_varint(c);
	if (c->bad)
		return -GT_ECORRUPT;
	if (!id || id > UINT32_MAX || s.s.kind > GT_KIND_MAX_ || line > UINT32_MAX) {
		c->bad = true;
		return -GT_ECORRUPT;
	}
	if (nf > GT_FIELDS_MAX) {
		c->bad = true;
		return -GT_ELIMIT;
	}
	total = lprov + lname + lfile + lfmt + 4;
	for (uint64_t i = 0; i < nf; i++) {
		s.f[i].type = gt_cur_u8(c);
		fn[i] = gt_cur_str(c, GT_NAME_MAX, &lfn[i]);
		if (c->bad || s.f[i].type < GT_TYPE_I32 || s.f[i].type > GT_TYPE_MAX_) {
			c->bad = true;
			return -GT_ECORRUPT;
		}
		total += lfn[i] + 1;
	}
	if (gt_schema_lookup(r, (uint32_t)id))
		return 0; /* first definition wins */
	s.mem = malloc(total);
	if (!s.mem)
		return -ENOMEM;
	p = s.mem;
	s.s.id = (uint32_t)id;
	s.s.line = (uint32_t)line;
	s.s.provider = gt_put_str(&p, prov, lprov);
	s.s.name = gt_put_str(&p, name, lname);
	s.s.file = gt_put_str(&p, file, lfile);
	s.s.format = gt_put_str(&p, fmt, lfmt);
	s.s.nfields = (uint32_t)nf;
	for (uint64_t i = 0; i < nf; i++)
		s.f[i].name = gt_put_str(&p, fn[i], lfn[i]);
	ret = gt_schema_insert(r, &s);
	if (ret < 0)
		free(s.mem);
	return ret;
}

static int gt_schemas_parse(struct gt_reader *r, struct gt_cur *c)
{
	uint64_t n = gt_cur_varint(c);

	/* a schema takes at least 10 bytes */
	if (c->bad || n > GT_SCHEMAS_MAX || n > gt_cur_left(c) / 10) {
		c->bad = true;
		return -GT_ECORRUPT;
	}
	for (uint64_t i = 0; i < n; i++) {
		int ret = gt_schema_parse(r, c);

		if (ret < 0)
			return ret;
		if (r->nschemas > GT_SCHEMAS_MAX)
			return -GT_ELIMIT;
	}
	return 0;
}

/* ------------------------------------------------------------ meta, stats */

static void gt_meta_free(struct gt_rkv *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].key);
		free(m[i].value);
	}
	free(m);
}

/* A complete meta set: replaces the current one. */
static int gt_meta_parse(struct gt_reader *r, struct gt_cur *c)
{
	uint64_t n = gt_cur_varint(c);
	struct gt_rkv *m;

	if (c->bad || n > GT_META_MAX || n > gt_cur_left(c) / 2) {
		c->bad = true;
		return -GT_ECORRUPT;
	}
	m = calloc(n ? n : 1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++) {
		size_t lk, lv;
		const uint8_t *k = gt_cur_str(c, GT_NAME_MAX, &lk);
		const uint8_t *v = gt_cur_str(c, GT_META_VALUE_MAX, &lv);

		if (c->bad) {
			gt_meta_free(m, i);
			return -GT_ECORRUPT;
		}
		m[i].key = malloc(lk + 1);
		m[i].value = malloc(lv + 1);
		m[i].seq = i;
		if (!m[i].key || !m[i].value) {
			gt_meta_free(m, i + 1);
			return -ENOMEM;
		}
		memcpy(m[i].key, k, lk);
		m[i].key[lk] = 0;
		memcpy(m[i].value, v, lv);
		m[i].value[lv] = 0;
	}
	gt_meta_free(r->meta, r->nmeta);
	r->meta = m;
	r->nmeta = n;
	return 0;
}

/* Cumulative loss counters: replace the current ones. */
static int gt_stats_parse(struct gt_reader *r, struct gt_cur *c)
{
	uint64_t nl = gt_cur_varint(c), nc;
	struct gt_lost *l;
	struct gt_corrupt *k;

	if (c->bad || nl > GT_STATS_MAX || nl > gt_cur_left(c) / 3) {
		c->bad = true;
		return -GT_ECORRUPT;
	}
	l = calloc(nl ? nl : 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (uint64_t i = 0; i < nl; i++) {
		uint64_t pid = gt_cur_varint(c), tid = gt_cur_varint(c);

		l[i].count = gt_cur_varint(c);
		if (pid > UINT32_MAX || tid > UINT32_MAX)
			c->bad = true;
		l[i].pid = (uint32_t)pid;
		l[i].tid = (uint32_t)tid;
	}
	nc = gt_cur_varint(c);
	if (c->bad || nc > GT_STATS_MAX || nc > gt_cur_left(c) / 2) {
		c->bad = true;
		free(l);
		return -GT_ECORRUPT;
	}
	k = calloc(nc ? nc : 1, sizeof(*k));
	if (!k) {
		free(l);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < nc; i++) {
		uint64_t pid = gt_cur_varint(c);

		k[i].count = gt_cur_varint(c);
		if (pid > UINT32_MAX)
			c->bad = true;
		k[i].pid = (uint32_t)pid;
	}
	if (c->bad) {
		free(l);
		free(k);
		return -GT_ECORRUPT;
	}
	free(r->lost);
	free(r->corrupt);
	r->lost = l;
	r->nlost = nl;
	r->corrupt = k;
	r->ncorrupt = nc;
	return 0;
}

/* ------------------------------------------------------------------ index */

static int gt_chunk_add(struct gt_reader *r, const struct gt_rchunk *ck, const uint32_t *pairs)
{
	if (r->nchunks >= GT_CHUNKS_MAX)
		return -GT_ELIMIT;
	if (gt_grow((void **)&r->chunks, &r->chunks_cap, r->nchunks + 1, sizeof(*r->chunks)) ||
	    gt_grow((void **)&r->chunk_sch, &r->chunk_sch_cap, r->chunk_sch_len + 2 * ck->nsch,
		    sizeof(*r->chunk_sch)))
		return -ENOMEM;
	r->chunks[r->nchunks] = *ck;
	r->chunks[r->nchunks].sch_off = r->chunk_sch_len;
	if (pairs)
		memcpy(r->chunk_sch + r->chunk_sch_len, pairs, 8 * (size_t)ck->nsch);
	r->chunk_sch_len += 2 * (size_t)ck->nsch;
	r->nchunks++;
	return 0;
}

/*
 * Check a schema list: ids strictly increasing, counts >= 1 summing to
 * @nevents.  With @known, every id must name a schema already read.
 */
static bool gt_pairs_ok(const struct gt_reader *r, const uint32_t *p, uint32_t n, uint32_t nevents,
			bool known)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (!p[2 * i + 1] || (i && p[2 * i] <= p[2 * i - 2]))
			return false;
		if (known && !gt_schema_lookup(r, p[2 * i]))
			return false;
		sum += p[2 * i + 1];
	}
	return sum == nevents;
}

/* Parse the footer payload into the index.  Return 0 or a negative code with errmsg set. */
static int gt_footer_parse(struct gt_reader *r, const uint8_t *p, size_t n, uint64_t foff)
{
	struct gt_cur c;
	uint64_t nck, nt;
	int ret = 0;

	gt_cur_init(&c, p, n);
	r->sum.last.ticks = gt_cur_u64(&c);
	r->sum.last.mono_ns = gt_cur_u64(&c);
	r->sum.last.realtime_ns = gt_cur_u64(&c);
	nck = gt_cur_varint(&c);
	if (c.bad || nck > GT_CHUNKS_MAX || nck > gt_cur_left(&c) / 9) {
		gt_fail(r, "footer at offset %" PRIu64 ": bad chunk count", foff);
		return -GT_ECORRUPT;
	}
	for (uint64_t i = 0; i < nck; i++) {
		struct gt_rchunk ck;
		uint64_t v[7];

		memset(&ck, 0, sizeof(ck));
		for (int k = 0; k < 7; k++)
			v[k] = gt_cur_varint(&c);
		if (c.bad || v[1] > GT_CHUNK_BLK_MAX || v[2] > GT_RAW_MAX || !v[3] ||
		    v[3] > v[2] / 3 || v[4] > v[5] || !v[6] || v[6] > v[3] ||
		    v[6] > GT_SCHEMAS_MAX || v[6] > gt_cur_left(&c) / 2 || v[0] < r->hdr_size ||
		    v[0] > foff || v[1] + GT_BLK_HDR_SIZE > foff - v[0]) {
			gt_fail(r,
				"footer at offset %" PRIu64 ": bad index entry for chunk %" PRIu64,
				foff, i);
			return -GT_ECORRUPT;
		}
		ck.info.offset = v[0];
		ck.info.size = (uint32_t)v[1];
		ck.info.raw_size = (uint32_t)v[2];
		ck.info.nevents = (uint32_t)v[3];
		ck.info.min_ticks = v[4];
		ck.info.max_ticks = v[5];
		ck.nsch = (uint32_t)v[6];
		ret = gt_chunk_add(r, &ck, NULL);
		if (ret < 0)
			return ret;
		for (uint32_t k = 0; k < ck.nsch; k++) {
			uint64_t id = gt_cur_varint(&c), cnt = gt_cur_varint(&c);

			if (id > UINT32_MAX || cnt > UINT32_MAX)
				c.bad = true;
			r->chunk_sch[r->chunks[i].sch_off + 2 * k] = (uint32_t)id;
			r->chunk_sch[r->chunks[i].sch_off + 2 * k + 1] = (uint32_t)cnt;
		}
		if (c.bad || !gt_pairs_ok(r, r->chunk_sch + r->chunks[i].sch_off, ck.nsch,
					  ck.info.nevents, false)) {
			gt_fail(r,
				"footer at offset %" PRIu64 ": bad schema list for chunk %" PRIu64,
				foff, i);
			return -GT_ECORRUPT;
		}
	}
	ret = gt_schemas_parse(r, &c);
	if (ret < 0) {
		gt_fail(r, "footer at offset %" PRIu64 ": bad schema table", foff);
		return ret == -ENOMEM ? ret : -GT_ECORRUPT;
	}
	nt = gt_cur_varint(&c);
	if (c.bad || nt > GT_SCHEMAS_MAX || nt > gt_cur_left(&c) / 2) {
		gt_fail(r, "footer at offset %" PRIu64 ": bad totals", foff);
		return -GT_ECORRUPT;
	}
	r->totals = calloc(nt ? nt * 3 : 1, sizeof(*r->totals));
	if (!r->totals)
		return -ENOMEM;
	r->ntotals = nt;
	for (uint64_t i = 0; i < nt; i++) {
		uint64_t id = gt_cur_varint(&c), cnt = gt_cur_varint(&c);

		r->totals[3 * i] = (uint32_t)id;
		r->totals[3 * i + 1] = (uint32_t)cnt;
		r->totals[3 * i + 2] = (uint32_t)(cnt >> 32);
		if (id > UINT32_MAX)
			c.bad = true;
	}
	if (c.bad) {
		gt_fail(r, "footer at offset %" PRIu64 ": bad totals", foff);
		return -GT_ECORRUPT;
	}
	ret = gt_stats_parse(r, &c);
	if (!ret)
		ret = gt_meta_parse(r, &c);
	if (ret < 0) {
		gt_fail(r, "footer at offset %" PRIu64 ": bad %s section", foff,
			r->meta ? "meta" : "stats");
		return ret == -ENOMEM ? ret : -GT_ECORRUPT;
	}
	/* bytes after the known sections belong to a newer minor version */
	return 0;
}

/* Validate a block header at @off; return its payload size or a negative reason. */
enum { GT_BH_SHORT = -1, GT_BH_BAD = -2, GT_BH_PAST = -3 };

/* ... with the header's bytes at @h when given (a copy read from the file), else mapped. */
static int64_t gt_blk_hdr_check_at(const struct gt_reader *r, const uint8_t *h, uint64_t off,
				   uint32_t *type, uint32_t *raw)
{
	uint32_t size;

	if (off > r->size || r->size - off < GT_BLK_HDR_SIZE)
		return GT_BH_SHORT;
	if (!h)
		h = r->data + off;
	if (gt_le32(h) != GT_BLK_MAGIC || !GT_SUM_OK(gt_le32(h + 28), (uint32_t)gt_blk_check(h)))
		return GT_BH_BAD;
	*type = gt_le32(h + 4);
	size = gt_le32(h + 8);
	*raw = gt_le32(h + 12);
	if (size > GT_BLK_MAX || *raw > GT_BLK_MAX ||
	    (*type == GT_BLK_CHUNK && (size > GT_CHUNK_BLK_MAX || *raw > GT_RAW_MAX)))
		return GT_BH_BAD;
	if (size > r->size - off - GT_BLK_HDR_SIZE)
		return GT_BH_PAST;
	return size;
}

static int64_t gt_blk_hdr_check(const struct gt_reader *r, uint64_t off, uint32_t *type,
				uint32_t *raw)
{
	return gt_blk_hdr_check_at(r, NULL, off, type, raw);
}

static bool gt_payload_ok(const struct gt_reader *r, uint64_t off, uint32_t size)
{
	const uint8_t *h = r->data + off;

	return GT_SUM_OK(XXH3_64bits(h + GT_BLK_HDR_SIZE, size), gt_le64(h + 16));
}

/* Try the trailer and footer.  Return 1 if loaded, 0 if absent/bad (recover), <0 error. */
static int gt_load_footer(struct gt_reader *r)
{
	const uint8_t *t;
	uint64_t foff, fsize;
	uint32_t type, raw;
	int64_t size;
	int ret;

	if (r->size < (uint64_t)r->hdr_size + GT_BLK_HDR_SIZE + GT_TRAILER_SIZE)
		return 0;
	t = r->data + r->size - GT_TRAILER_SIZE;
	if (memcmp(t + 24, GT_TRAILER_MAGIC, 8))
		return 0;
	foff = gt_le64(t);
	fsize = gt_le64(t + 8);
	if (foff < r->hdr_size || foff > r->size - GT_TRAILER_SIZE ||
	    fsize != r->size - GT_TRAILER_SIZE - foff)
		return 0;
	size = gt_blk_hdr_check(r, foff, &type, &raw);
	if (size < 0 || type != GT_BLK_FOOTER || (uint64_t)size + GT_BLK_HDR_SIZE != fsize ||
	    !GT_SUM_OK(gt_le64(t + 16), gt_le64(r->data + foff + 16)) ||
	    !gt_payload_ok(r, foff, (uint32_t)size))
		return 0;
	r->footer_off = foff;
	ret = gt_footer_parse(r, r->data + foff + GT_BLK_HDR_SIZE, (size_t)size, foff);
	return ret < 0 ? ret : 1;
}

/* Reset the index before recovering from a footer that failed to parse. */
static void gt_index_reset(struct gt_reader *r)
{
	for (size_t i = 0; i < r->nschemas; i++)
		free(r->schemas[i].mem);
	r->nschemas = 0;
	if (r->sch_hash)
		memset(r->sch_hash, 0, r->sch_hash_cap * sizeof(*r->sch_hash));
	gt_meta_free(r->meta, r->nmeta);
	r->meta = NULL;
	r->nmeta = 0;
	free(r->lost);
	free(r->corrupt);
	r->lost = NULL;
	r->corrupt = NULL;
	r->nlost = r->ncorrupt = 0;
	r->nchunks = 0;
	r->chunk_sch_len = 0;
	free(r->totals);
	r->totals = NULL;
	r->ntotals = 0;
	{
		/* keep what the header said, forget what the footer said */
		struct gt_summary keep = r->sum;

		memset(&r->sum, 0, sizeof(r->sum));
		r->sum.version_major = keep.version_major;
		r->sum.version_minor = keep.version_minor;
		r->sum.clock = keep.clock;
		r->sum.start = keep.start;
		r->sum.last = keep.start;
		r->sum.file_size = keep.file_size;
		r->sum.recover_note = r->note;
	}
	r->tsc_num = r->tsc_den = 0;
	r->tsc_m = 0;
}

/* Parse a chunk header at payload @p (@size bytes) into @ck; pairs point into the file. */
static bool gt_chunk_hdr_parse(const uint8_t *p, uint32_t size, uint32_t raw, struct gt_rchunk *ck,
			       const uint8_t **pairs)
{
	uint32_t nev, nsch;

	if (size < GT_CHUNK_HDR_SIZE)
		return false;
	nev = gt_le32(p);
	nsch = gt_le32(p + 4);
	if (!nev || !nsch || nsch > nev || nsch > GT_SCHEMAS_MAX || raw > GT_RAW_MAX ||
	    nev > raw / 3 || (size - GT_CHUNK_HDR_SIZE) / 8 < nsch)
		return false;
	memset(ck, 0, sizeof(*ck));
	ck->info.nevents = nev;
	ck->info.raw_size = raw;
	ck->info.size = size;
	ck->info.min_ticks = gt_le64(p + 8);
	ck->info.max_ticks = gt_le64(p + 16);
	ck->seal.ticks = gt_le64(p + 24);
	ck->seal.mono_ns = gt_le64(p + 32);
	ck->seal.realtime_ns = gt_le64(p + 40);
	ck->nsch = nsch;
	*pairs = p + GT_CHUNK_HDR_SIZE;
	return ck->info.min_ticks <= ck->info.max_ticks;
}

/* Scan blocks from the header; keep every verified block up to the first bad one. */
static int gt_recover(struct gt_reader *r)
{
	uint64_t off = r->hdr_size;
	uint32_t *pairs = NULL;
	size_t pairs_cap = 0;
	int ret = 0;

	r->sum.recovered = true;
	for (;;) {
		uint32_t type = 0, raw = 0;
		int64_t size = gt_blk_hdr_check(r, off, &type, &raw);
		const uint8_t *p;
		struct gt_cur c;

		if (size == GT_BH_SHORT) {
			if (off == r->size)
				snprintf(r->note, sizeof(r->note),
					 "file ends after the last whole block at offset %" PRIu64,
					 off);
			else
				snprintf(r->note, sizeof(r->note),
					 "file ends inside a block header at offset %" PRIu64, off);
			break;
		}
		if (size == GT_BH_BAD) {
			snprintf(r->note, sizeof(r->note), "bad block header at offset %" PRIu64,
				 off);
			break;
		}
		if (size == GT_BH_PAST) {
			snprintf(r->note, sizeof(r->note),
				 "file ends inside a %s at offset %" PRIu64, gt_blk_name(type),
				 off);
			break;
		}
		if (!gt_payload_ok(r, off, (uint32_t)size)) {
			snprintf(r->note, sizeof(r->note),
				 "checksum mismatch in %s at offset %" PRIu64, gt_blk_name(type),
				 off);
			break;
		}
		p = r->data + off + GT_BLK_HDR_SIZE;
		gt_cur_init(&c, p, (size_t)size);
		switch (type) {
		case GT_BLK_META:
			ret = gt_meta_parse(r, &c);
			break;
		case GT_BLK_SCHEMA:
			ret = gt_schemas_parse(r, &c);
			break;
		case GT_BLK_STATS:
			ret = gt_stats_parse(r, &c);
			break;
		case GT_BLK_CHUNK: {
			struct gt_rchunk ck;
			const uint8_t *pp;

			if (!gt_chunk_hdr_parse(p, (uint32_t)size, raw, &ck, &pp)) {
				ret = -GT_ECORRUPT;
				break;
			}
			if (gt_grow((void **)&pairs, &pairs_cap, 2 * (size_t)ck.nsch, 4)) {
				ret = -ENOMEM;
				break;
			}
			memcpy(pairs, pp, 8 * (size_t)ck.nsch);
			if (!gt_pairs_ok(r, pairs, ck.nsch, ck.info.nevents, true)) {
				ret = -GT_ECORRUPT;
				break;
			}
			ck.info.offset = off;
			ret = gt_chunk_add(r, &ck, pairs);
			break;
		}
		case GT_BLK_FOOTER:
			if (r->footer_note[0] && off == r->footer_off)
				snprintf(r->note, sizeof(r->note), "%.250s", r->footer_note);
			else
				snprintf(r->note, sizeof(r->note),
					 "footer at offset %" PRIu64
					 " is not followed by a valid trailer",
					 off);
			goto done;
		default:
			break; /* newer minor version: skip */
		}
		if (ret == -ENOMEM)
			goto done;
		if (ret < 0) {
			snprintf(r->note, sizeof(r->note), "malformed %s at offset %" PRIu64,
				 gt_blk_name(type), off);
			ret = 0;
			break;
		}
		off += GT_BLK_HDR_SIZE + (uint64_t)size;
	}
done:
	free(pairs);
	r->sum.recovered_end = off;
	return ret;
}

static int gt_cmp_schema(const void *a, const void *b)
{
	uint32_t x = ((const struct gt_rschema *)a)->s.id, y = ((const struct gt_rschema *)b)->s.id;

	return x < y ? -1 : x > y;
}

static int gt_cmp_meta(const void *a, const void *b)
{
	const struct gt_rkv *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int gt_cmp_lost(const void *a, const void *b)
{
	const struct gt_lost *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static int gt_cmp_corrupt(const void *a, const void *b)
{
	const struct gt_corrupt *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/*
 * Exact floor(@d * num / den) without a 128-bit division per event:
 * multiply by the 64.64 fixed-point ratio (which can only round down, by
 * less than 2), then correct upwards with exact products.  Inline: the
 * chunk decoder converts every event's timestamp with it, in a loop of its
 * own.
 */
static inline uint64_t gt_ticks_scale(const struct gt_reader *r, uint64_t d)
{
	unsigned __int128 approx, prod;
	uint64_t c;

	approx = (unsigned __int128)d * (uint64_t)(r->tsc_m >> 64) +
		 (((unsigned __int128)d * (uint64_t)r->tsc_m) >> 64);
	if (approx > UINT64_MAX)
		return UINT64_MAX;
	c = (uint64_t)approx;
	prod = (unsigned __int128)d * r->tsc_num;
	while (c != UINT64_MAX && (unsigned __int128)(c + 1) * r->tsc_den <= prod)
		c++;
	return c;
}

/* Ticks to ns since the start (docs/format.md, "Time"). */
static inline uint64_t gt_ticks_ns(const struct gt_reader *r, uint64_t ticks)
{
	if (ticks <= r->sum.start.ticks)
		return 0;
	if (!r->tsc_den)
		return ticks - r->sum.start.ticks;
	return gt_ticks_scale(r, ticks - r->sum.start.ticks);
}

uint64_t gt_reader_ticks_to_ns(const struct gt_reader *r, uint64_t ticks)
{
	return gt_ticks_ns(r, ticks);
}

static int gt_finalize(struct gt_reader *r)
{
	struct gt_summary *s = &r->sum;

	/* schemas: sort by id, wire field pointers, count events */
	if (r->nschemas > 1)
		qsort(r->schemas, r->nschemas, sizeof(*r->schemas), gt_cmp_schema);
	for (size_t i = 0; i < r->nschemas; i++)
		r->schemas[i].s.fields = r->schemas[i].f;
	free(r->sch_hash);
	r->sch_hash = NULL;
	r->sch_hash_cap = 0;
	s->nchunks = r->nchunks;
	s->nevents = 0;
	for (size_t i = 0; i < r->nchunks; i++) {
		const struct gt_rchunk *ck = &r->chunks[i];

		s->nevents += ck->info.nevents;
		for (uint32_t k = 0; k < ck->nsch; k++) {
			struct gt_schema *sc = (struct gt_schema *)gt_reader_schema(
				r, r->chunk_sch[ck->sch_off + 2 * k]);

			if (!sc) {
				gt_fail(r, "chunk %zu at offset %" PRIu64 ": unknown schema id %u",
					i, ck->info.offset, r->chunk_sch[ck->sch_off + 2 * k]);
				return -GT_ECORRUPT;
			}
			sc->nevents += r->chunk_sch[ck->sch_off + 2 * k + 1];
		}
		if (r->sum.recovered && ck->seal.mono_ns > s->last.mono_ns &&
		    ck->seal.ticks > s->last.ticks)
			s->last = ck->seal;
	}
	for (size_t i = 0; i < r->ntotals; i++) {
		const struct gt_schema *sc = gt_reader_schema(r, r->totals[3 * i]);
		uint64_t cnt = r->totals[3 * i + 1] | (uint64_t)r->totals[3 * i + 2] << 32;

		if (!sc || sc->nevents != cnt) {
			gt_fail(r, "footer: event count of schema %u does not match its chunks",
				r->totals[3 * i]);
			return -GT_ECORRUPT;
		}
	}
	/* meta: by key, last duplicate wins (keep the last of each run) */
	if (r->nmeta > 1)
		qsort(r->meta, r->nmeta, sizeof(*r->meta), gt_cmp_meta);
	{
		size_t o = 0;

		for (size_t i = 0; i < r->nmeta; i++) {
			if (i + 1 < r->nmeta && !strcmp(r->meta[i].key, r->meta[i + 1].key)) {
				free(r->meta[i].key);
				free(r->meta[i].value);
				continue;
			}
			r->meta[o++] = r->meta[i];
		}
		r->nmeta = o;
	}
	if (r->nlost > 1)
		qsort(r->lost, r->nlost, sizeof(*r->lost), gt_cmp_lost);
	if (r->ncorrupt > 1)
		qsort(r->corrupt, r->ncorrupt, sizeof(*r->corrupt), gt_cmp_corrupt);
	for (size_t i = 0; i < r->nlost; i++)
		s->lost_total += r->lost[i].count;
	for (size_t i = 0; i < r->ncorrupt; i++)
		s->corrupt_total += r->corrupt[i].count;

	/* time */
	if (s->clock == GT_CLOCK_TSC && s->last.ticks > s->start.ticks &&
	    s->last.mono_ns > s->start.mono_ns) {
		r->tsc_num = s->last.mono_ns - s->start.mono_ns;
		r->tsc_den = s->last.ticks - s->start.ticks;
		r->tsc_m = ((unsigned __int128)r->tsc_num << 64) / r->tsc_den;
	}
	for (size_t i = 0; i < r->nchunks; i++) {
		struct gt_chunk_info *ci = &r->chunks[i].info;

		ci->min_ts_ns = gt_reader_ticks_to_ns(r, ci->min_ticks);
		ci->max_ts_ns = gt_reader_ticks_to_ns(r, ci->max_ticks);
		if (!i || ci->min_ts_ns < s->first_ts_ns)
			s->first_ts_ns = ci->min_ts_ns;
		if (ci->max_ts_ns > s->last_ts_ns)
			s->last_ts_ns = ci->max_ts_ns;
	}
	s->duration_ns =
		s->last.mono_ns > s->start.mono_ns ? s->last.mono_ns - s->start.mono_ns : 0;
	if (s->last_ts_ns > s->duration_ns)
		s->duration_ns = s->last_ts_ns;
	s->recover_note = r->note;
	return 0;
}

static int gt_reader_load(struct gt_reader *r, unsigned int flags)
{
	const uint8_t *h = r->data;
	uint16_t major, minor;
	int ret;

	r->sum.file_size = r->size;
	if (r->size == 0) {
		gt_fail(r, "empty file (not a gtrace file)");
		return -GT_ECORRUPT;
	}
	if (r->size < 8 || memcmp(h, GT_FILE_MAGIC, 8)) {
		gt_fail(r, "not a gtrace file (bad magic)");
		return -GT_ECORRUPT;
	}
	if (r->size < GT_FILE_HDR_SIZE) {
		gt_fail(r, "file ends inside the header (%zu bytes)", r->size);
		return -GT_ETRUNCATED;
	}
	major = gt_le16(h + 8);
	minor = gt_le16(h + 10);
	if (major > GT_FILE_VERSION_MAJOR) {
		gt_fail(r, "written by a newer gtrace (format %u.%u); this reader reads %u.x",
			major, minor, GT_FILE_VERSION_MAJOR);
		return -GT_EVERSION;
	}
	if (major < 1 || !GT_SUM_OK(gt_le64(h + 56), gt_file_hdr_check(h))) {
		gt_fail(r, "header checksum mismatch at offset 0 (file damaged)");
		return -GT_ECORRUPT;
	}
	r->hdr_size = gt_le32(h + 12);
	r->sum.clock = gt_le32(h + 20);
	if (r->hdr_size < GT_FILE_HDR_SIZE || r->hdr_size > GT_FILE_HDR_MAX || r->hdr_size % 8 ||
	    r->hdr_size > r->size ||
	    (r->sum.clock != GT_CLOCK_TSC && r->sum.clock != GT_CLOCK_MONO)) {
		gt_fail(r, "bad header (size %u, clock %u)", r->hdr_size, r->sum.clock);
		return -GT_ECORRUPT;
	}
	r->sum.version_major = major;
	r->sum.version_minor = minor;
	r->sum.start.ticks = gt_le64(h + 24);
	r->sum.start.mono_ns = gt_le64(h + 32);
	r->sum.start.realtime_ns = gt_le64(h + 40);
	r->sum.last = r->sum.start;

	ret = gt_load_footer(r);
	if (ret == 1) {
		r->sum.complete = true;
		ret = gt_finalize(r);
		if (ret == 0)
			goto loaded;
	}
	if (ret == -ENOMEM)
		return ret;
	{
		if (ret < 0) {
			/* the footer verified but is inconsistent: say so, then recover */
			size_t skip = strlen(r->path) + 4;

			snprintf(r->footer_note, sizeof(r->footer_note), "damaged %s",
				 strlen(r->errmsg) > skip ? r->errmsg + skip : "footer");
		}
		gt_index_reset(r);
		r->errmsg[0] = 0;
		if (flags & GT_READER_NO_RECOVER) {
			gt_fail(r, "no valid footer (file truncated or damaged)");
			return -GT_ETRUNCATED;
		}
		ret = gt_recover(r);
		if (ret < 0) {
			gt_fail(r, "%s", gt_strerror(ret));
			return ret;
		}
		ret = gt_finalize(r);
		if (ret < 0)
			return ret;
	}
loaded:
	if (flags & GT_READER_VERIFY)
		return gt_reader_verify(r);
	return 0;
}

static int gt_reader_new(const char *name, struct gt_reader **out)
{
	struct gt_reader *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->path = strdup(name ? name : "<memory>");
	r->dctx = ZSTD_createDCtx();
	if (!r->path || !r->dctx) {
		free(r->path);
		ZSTD_freeDCtx(r->dctx);
		free(r);
		return -ENOMEM;
	}
	r->sum.recover_note = r->note;
	r->fd = -1;
	*out = r;
	return 0;
}

static void gt_copy_err(const struct gt_reader *r, const char *path, int ret, char *err,
			size_t err_cap)
{
	if (!err || !err_cap)
		return;
	if (r && r->errmsg[0])
		snprintf(err, err_cap, "%s", r->errmsg);
	else
		snprintf(err, err_cap, "'%s': %s", path ? path : "<memory>", gt_strerror(ret));
}

int gt_reader_open_ex(const char *path, unsigned int flags, struct gt_reader **out, char *err,
		      size_t err_cap)
{
	struct gt_reader *r = NULL;
	struct stat st;
	int fd, ret;

	*out = NULL;
	if (err && err_cap)
		err[0] = 0;
	if (!path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		ret = -EISDIR;
		goto fail;
	}
	ret = gt_reader_new(path, &r);
	if (ret < 0) {
		close(fd);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		gt_fail(r, "not a regular file");
		ret = -EINVAL;
		goto fail;
	}
	r->size = (size_t)st.st_size;
	if (r->size) {
		void *m = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (m == MAP_FAILED) {
			ret = -errno;
			close(fd);
			goto fail;
		}
		r->data = m;
		r->mapped = true;
		r->fd = fd;
	} else {
		close(fd);
	}
	ret = gt_reader_load(r, flags);
	if (ret < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	gt_copy_err(r, path, ret, err, err_cap);
	gt_reader_close(r);
	return ret;
}

int gt_reader_open(const char *path, struct gt_reader **out)
{
	return gt_reader_open_ex(path, 0, out, NULL, 0);
}

int gt_reader_open_mem(const void *data, size_t size, const char *name, unsigned int flags,
		       struct gt_reader **out, char *err, size_t err_cap)
{
	struct gt_reader *r = NULL;
	uint8_t *copy;
	int ret;

	*out = NULL;
	if (err && err_cap)
		err[0] = 0;
	if (size && !data)
		return -EINVAL;
	ret = gt_reader_new(name, &r);
	if (ret < 0)
		goto fail;
	copy = malloc(size ? size : 1);
	if (!copy) {
		ret = -ENOMEM;
		goto fail;
	}
	if (size)
		memcpy(copy, data, size);
	r->data = copy;
	r->size = size;
	ret = gt_reader_load(r, flags);
	if (ret < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	gt_copy_err(r, name, ret, err, err_cap);
	gt_reader_close(r);
	return ret;
}

void gt_reader_close(struct gt_reader *r)
{
	if (!r)
		return;
	if (r->mapped)
		munmap((void *)r->data, r->size);
	else
		free((void *)r->data);
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < r->nschemas; i++)
		free(r->schemas[i].mem);
	free(r->schemas);
	free(r->sch_hash);
	gt_meta_free(r->meta, r->nmeta);
	free(r->lost);
	free(r->corrupt);
	free(r->chunks);
	free(r->chunk_sch);
	free(r->totals);
	ZSTD_freeDCtx(r->dctx);
	free(r->path);
	free(r);
}

const char *gt_reader_errmsg(const struct gt_reader *r)
{
	return r ? r->errmsg : "";
}

const char *gt_reader_path(const struct gt_reader *r)
{
	return r->path;
}

const struct gt_summary *gt_reader_summary(const struct gt_reader *r)
{
	return &r->sum;
}

/*
 * Check chunk @i's block header against the index and its checksum.  @blk:
 * the block's bytes (header and payload) copied from the file by the
 * verify pass, or NULL to read them through the mapping.
 */
static int gt_chunk_check(struct gt_reader *r, size_t i, const uint8_t *blk)
{
	const struct gt_rchunk *ck = &r->chunks[i];
	uint32_t type = 0, raw = 0;
	int64_t size = gt_blk_hdr_check_at(r, blk, ck->info.offset, &type, &raw);

	if (size < 0 || type != GT_BLK_CHUNK || (uint64_t)size != ck->info.size ||
	    raw != ck->info.raw_size) {
		gt_fail(r, "chunk %zu at offset %" PRIu64 ": bad block header (file damaged)", i,
			ck->info.offset);
		return -GT_ECORRUPT;
	}
	if (blk ? !GT_SUM_OK(XXH3_64bits(blk + GT_BLK_HDR_SIZE, ck->info.size), gt_le64(blk + 16))
		: !gt_payload_ok(r, ck->info.offset, ck->info.size)) {
		gt_fail(r, "chunk %zu at offset %" PRIu64 ": checksum mismatch (file damaged)", i,
			ck->info.offset);
		return -GT_ECORRUPT;
	}
	return 0;
}

#define GT_VERIFY_WIN (256u << 10) /* bytes per read of the verify pass, at least */

/*
 * Read [@off, @off + @need) of the file into the window @win (@cap bytes),
 * reading ahead as far as the window allows; *@lo..*@hi is what it holds.
 * Return: a pointer to @off's bytes, or NULL when the file reads short.
 */
static const uint8_t *gt_verify_fill(const struct gt_reader *r, uint8_t *win, size_t cap,
				     uint64_t off, size_t need, uint64_t *lo, uint64_t *hi)
{
	size_t len, got = 0;

	if (off >= *lo && off <= *hi && need <= *hi - off)
		return win + (off - *lo);
	len = r->size - off < cap ? (size_t)(r->size - off) : cap;
	while (got < len) {
		ssize_t n = pread(r->fd, win + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*lo = off;
	*hi = off + got;
	return need <= got ? win : NULL;
}

/*
 * The checksum pass reads the chunks with pread() into one small reused
 * window (256 KiB, or the largest chunk) rather than through the mapping:
 * on this project's VM, faulting in and later unmapping every page of a
 * 50 MB file costs more than copying it, and a small window is faulted in
 * once (docs/perf.md, "gtrace info").  A file that changes under us reads
 * short or hashes differently, and either is reported as damage.
 */
int gt_reader_verify(struct gt_reader *r)
{
	uint64_t lo = 0, hi = 0;
	uint8_t *win = NULL;
	size_t cap = 0;
	int ret = 0;

	if (r->verified)
		return 0;
	if (r->fd >= 0 && r->nchunks) {
		cap = GT_VERIFY_WIN;
		/* every size was bounded by GT_CHUNK_BLK_MAX when the index was read */
		for (size_t i = 0; i < r->nchunks; i++)
			if (r->chunks[i].info.size <= GT_CHUNK_BLK_MAX &&
			    GT_BLK_HDR_SIZE + (size_t)r->chunks[i].info.size > cap)
				cap = GT_BLK_HDR_SIZE + (size_t)r->chunks[i].info.size;
		if (cap > r->size)
			cap = r->size;
		win = malloc(cap); /* NULL: hash through the mapping instead */
	}
	for (size_t i = 0; i < r->nchunks && !ret; i++) {
		const struct gt_chunk_info *ci = &r->chunks[i].info;
		const uint8_t *blk = NULL;

		if (win && cap > GT_BLK_HDR_SIZE && ci->offset <= r->size &&
		    ci->size <= cap - GT_BLK_HDR_SIZE &&
		    GT_BLK_HDR_SIZE + (uint64_t)ci->size <= r->size - ci->offset) {
			blk = gt_verify_fill(r, win, cap, ci->offset, GT_BLK_HDR_SIZE + ci->size,
					     &lo, &hi);
			if (!blk) {
				gt_fail(r, "chunk %zu at offset %" PRIu64
					   ": file reads short (changed or damaged while read)",
					i, ci->offset);
				ret = -GT_ECORRUPT;
				break;
			}
		}
		ret = gt_chunk_check(r, i, blk);
	}
	free(win);
	if (ret < 0)
		return ret;
	r->verified = true;
	return 0;
}

const char *gt_reader_meta(const struct gt_reader *r, const char *key)
{
	size_t lo = 0, hi = r->nmeta;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->meta[mid].key, key);

		if (!c)
			return r->meta[mid].value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t gt_reader_meta_count(const struct gt_reader *r)
{
	return r->nmeta;
}

int gt_reader_meta_at(const struct gt_reader *r, size_t i, const char **key, const char **value)
{
	if (i >= r->nmeta)
		return -ERANGE;
	*key = r->meta[i].key;
	*value = r->meta[i].value;
	return 0;
}

size_t gt_reader_schema_count(const struct gt_reader *r)
{
	return r->nschemas;
}

const struct gt_schema *gt_reader_schema_at(const struct gt_reader *r, size_t i)
{
	return i < r->nschemas ? &r->schemas[i].s : NULL;
}

const struct gt_schema *gt_reader_schema(const struct gt_reader *r, uint32_t id)
{
	size_t lo = 0, hi = r->nschemas;

	if (r->sch_hash) {
		const struct gt_rschema *s = gt_schema_lookup(r, id);

		return s ? &s->s : NULL;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->schemas[mid].s.id == id)
			return &r->schemas[mid].s;
		if (r->schemas[mid].s.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t gt_reader_lost_count(const struct gt_reader *r)
{
	return r->nlost;
}

const struct gt_lost *gt_reader_lost_at(const struct gt_reader *r, size_t i)
{
	return i < r->nlost ? &r->lost[i] : NULL;
}

size_t gt_reader_corrupt_count(const struct gt_reader *r)
{
	return r->ncorrupt;
}

const struct gt_corrupt *gt_reader_corrupt_at(const struct gt_reader *r, size_t i)
{
	return i < r->ncorrupt ? &r->corrupt[i] : NULL;
}

const struct gt_chunk_info *gt_reader_chunk_at(const struct gt_reader *r, size_t i)
{
	return i < r->nchunks ? &r->chunks[i].info : NULL;
}

/* --------------------------------------------------------- chunk decoding */

/*
 * A decoded chunk: the S, T and D columns as per-event arrays, and the
 * field values of schema slot s at vals[s], one row of nfields values per
 * event of that schema.  A chunk with one schema (or one stream), the
 * common case, leaves slot and rank (stream) unfilled: slot and stream are
 * then 0 and rank is the event index, which saves their stores per event.
 */
struct gt_dchunk {
	size_t index;
	uint32_t nevents;
	uint32_t pos; /* next event */
	uint8_t *raw; /* decompressed body; strings point here */
	uint64_t *ts;
	uint64_t *ns;	  /* ts converted to ns since the start */
	uint32_t *stream; /* unfilled when one_stream */
	uint32_t *slot;	  /* unfilled when one_sch */
	uint32_t *rank;	  /* unfilled when one_sch */
	uint32_t *pids;	  /* nstreams (pid, tid) pairs */
	uint32_t nsch;
	bool one_sch;
	bool one_stream;
	bool all; /* every event passes the iterator's filter: no per-event check */
	const struct gt_schema **sch;
	struct gt_value **vals; /* per slot: count * nfields values */
	bool *keep;		/* per slot: passes the schema filter */
	void *mem;		/* one allocation for the arrays above */
	struct gt_value *values;
	/* capacities, so that a recycled chunk reallocates only to grow */
	size_t raw_cap, mem_cap, values_cap, pids_cap;
};

static inline uint32_t gt_d_slot(const struct gt_dchunk *d, uint32_t e)
{
	return d->one_sch ? 0 : d->slot[e];
}

static inline uint32_t gt_d_rank(const struct gt_dchunk *d, uint32_t e)
{
	return d->one_sch ? e : d->rank[e];
}

static inline uint32_t gt_d_stream(const struct gt_dchunk *d, uint32_t e)
{
	return d->one_stream ? 0 : d->stream[e];
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GT_BUF_MALLOC_ONLY 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
#define GT_BUF_MALLOC_ONLY 1
#endif
#ifdef GT_BUF_MALLOC_ONLY
/* ASan and the fuzzer see overruns of exact-size malloc() blocks, not of a mapping */
#define GT_BUF_BIG SIZE_MAX
#else
#define GT_BUF_BIG (256u << 10) /* buffers from this size on are mapped ... */
#endif
#define GT_BUF_STEP (2u << 20) /* ... in steps of one transparent huge page */

/*
 * A decoded chunk needs a few MB of buffers (body, per-event arrays,
 * values: about 90 bytes per event), which a scan reuses from chunk to
 * chunk.  On this project's VM a 4 KiB page fault costs 5 to 12 us, and
 * every page of such buffers is faulted in on first touch (and again when
 * malloc() gives a block back and a larger chunk needs a new one): faults
 * were most of the time of a `gtrace stats` on a 1 M-event file
 * (docs/perf.md, "Full scan").  So a buffer of 256 KiB
 * or more is mapped in whole 2 MiB steps, 2 MiB aligned, and marked for
 * transparent huge pages (MADV_HUGEPAGE; ignored where THP is off): a
 * handful of faults instead of hundreds, and room to grow.
 */
static void *gt_buf_map(size_t need, size_t *cap)
{
	size_t len = (need + GT_BUF_STEP - 1) & ~(size_t)(GT_BUF_STEP - 1);
	uint8_t *m, *a;
	size_t head;

	if (len < need || len > SIZE_MAX - GT_BUF_STEP)
		return NULL; /* overflow */
	m = mmap(NULL, len + GT_BUF_STEP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		 0);
	if (m == MAP_FAILED)
		return NULL;
	a = (uint8_t *)(((uintptr_t)m + GT_BUF_STEP - 1) & ~(uintptr_t)(GT_BUF_STEP - 1));
	head = (size_t)(a - m);
	if (head)
		munmap(m, head);
	if (GT_BUF_STEP - head)
		munmap(a + len, GT_BUF_STEP - head);
	madvise(a, len, MADV_HUGEPAGE);
	*cap = len;
	return a;
}

/* Free a buffer of gt_ensure(); @cap says how it was allocated. */
static void gt_buf_free(void *p, size_t cap)
{
	if (p && cap >= GT_BUF_BIG)
		munmap(p, cap);
	else
		free(p);
}

/* Make *@p hold at least @need bytes; the old content is not kept. */
static int gt_ensure(void **p, size_t *cap, size_t need)
{
	size_t ncap = need ? need : 1;
	void *n;

	if (need <= *cap && *p)
		return 0;
	n = need >= GT_BUF_BIG ? gt_buf_map(need, &ncap) : malloc(ncap);
	if (!n)
		return -ENOMEM;
	gt_buf_free(*p, *cap);
	*p = n;
	*cap = ncap;
	return 0;
}

static void gt_dchunk_free(struct gt_dchunk *d)
{
	if (!d)
		return;
	gt_buf_free(d->raw, d->raw_cap);
	gt_buf_free(d->pids, d->pids_cap);
	gt_buf_free(d->mem, d->mem_cap);
	gt_buf_free(d->values, d->values_cap);
	free(d);
}

#define GT_DFAIL(msg)                                                                           \
	do {                                                                                    \
		gt_fail(r, "chunk %zu at offset %" PRIu64 ": %s (file damaged)", i, ci->offset, \
			msg);                                                                   \
		ret = -GT_ECORRUPT;                                                             \
		goto fail;                                                                      \
	} while (0)

/*
 * Read one varint at @p into @v and advance @p; jump to @bad when it is
 * malformed or runs past @end.  The one-byte case (most deltas, lengths and
 * indexes) costs one compare with @end and one with 0x80; the column loops
 * keep @p in a register instead of going through a struct gt_cur.
 * GT_VARINT_ROOM() is the same for when at least 10 bytes are left (the
 * caller checked that once for the whole column, gt_room()): its one-byte
 * case needs no compare with @end.
 */
#define GT_VARINT_IF(fits, p, end, v, bad)                                     \
	do {                                                                   \
		if (__builtin_expect((fits) && *(p) < 0x80, 1)) {              \
			(v) = *(p)++;                                          \
		} else {                                                       \
			size_t n_ = gt_varint_get((p), (end), &(v));           \
			if (!n_)                                               \
				goto bad;                                      \
			(p) += n_;                                             \
		}                                                              \
	} while (0)
#define GT_VARINT(p, end, v, bad) GT_VARINT_IF((p) < (end), p, end, v, bad)
#define GT_VARINT_ROOM(p, end, v, bad) GT_VARINT_IF(1, p, end, v, bad)

/*
 * A column of @n varints that must all be 0 (a chunk with one schema or
 * one stream): the usual encoding is @n zero bytes, checked 8 at a time.
 * Return true when it is exactly that; false sends the caller to the
 * varint-by-varint loop, which also takes longer encodings of 0 and
 * rejects anything else.
 */
static bool gt_zero_column(const uint8_t *p, const uint8_t *end, uint32_t n)
{
	uint64_t acc = 0, w;
	size_t i = 0;

	if ((size_t)(end - p) < n)
		return false;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= p[i];
	return !acc;
}

/*
 * Store one value as two 8-byte words: the payload, then len and type (and
 * zero padding).  A compound literal made gcc zero all 16 bytes first and
 * then store the fields over them, three stores where two do.
 */
_Static_assert(sizeof(struct gt_value) == 16 && offsetof(struct gt_value, len) == 8 &&
		       offsetof(struct gt_value, type) == 12,
	       "struct gt_value layout");

static inline void gt_value_set(struct gt_value *x, uint64_t bits, uint32_t len, uint8_t type)
{
	uint64_t hi = (uint64_t)len | (uint64_t)type << 32;

	memcpy(x, &bits, 8);
	memcpy((uint8_t *)x + 8, &hi, 8);
}

/* Do @n varints surely fit in what is left?  Each takes at most 10 bytes. */
static inline bool gt_room(const uint8_t *p, const uint8_t *end, uint32_t n)
{
	return (size_t)(end - p) / 10 >= (size_t)n + 1;
}

/*
 * One integer column of @cnt values of type @t into x[0], x[stride], ...
 * Always inlined with a constant @t, so each type gets its own loop without
 * per-value type tests.  Return the position after the column, or NULL on
 * malformed input.
 */
static inline __attribute__((always_inline)) const uint8_t *
gt_column_int(const uint8_t *p, const uint8_t *end, uint8_t t, struct gt_value *x, uint32_t cnt,
	      uint32_t stride)
{
	uint64_t prev = 0, u;

#define GT_INT_VALUE()                                                         \
	do {                                                                   \
		prev += (uint64_t)gt_unzigzag(u);                              \
		if (t == GT_TYPE_I32 && (int64_t)prev != (int32_t)prev)        \
			return NULL;                                           \
		if (t == GT_TYPE_U32 && prev > UINT32_MAX)                     \
			return NULL;                                           \
		gt_value_set(x, prev, 0, t);                                   \
	} while (0)
	if (gt_room(p, end, cnt)) {
		for (uint32_t k = 0; k < cnt; k++, x += stride) {
			GT_VARINT_ROOM(p, end, u, bad);
			GT_INT_VALUE();
		}
	} else {
		for (uint32_t k = 0; k < cnt; k++, x += stride) {
			GT_VARINT(p, end, u, bad);
			GT_INT_VALUE();
		}
	}
#undef GT_INT_VALUE
	return p;
bad:
	return NULL;
}

/*
 * Decode one column of @cnt values of type @t at @p into x[0], x[stride],
 * ...  Return the position after it, or NULL on malformed input.  The
 * switch sits outside the loops: one column holds one type.
 */
static const uint8_t *gt_column_decode(const uint8_t *p, const uint8_t *end, uint8_t t,
				       struct gt_value *x, uint32_t cnt, uint32_t stride)
{
	uint64_t n;

	switch (t) {
	case GT_TYPE_I32:
		return gt_column_int(p, end, GT_TYPE_I32, x, cnt, stride);
	case GT_TYPE_U32:
		return gt_column_int(p, end, GT_TYPE_U32, x, cnt, stride);
	case GT_TYPE_I64:
		return gt_column_int(p, end, GT_TYPE_I64, x, cnt, stride);
	case GT_TYPE_U64:
		return gt_column_int(p, end, GT_TYPE_U64, x, cnt, stride);
	case GT_TYPE_F64:
		if ((size_t)(end - p) / 8 < cnt)
			return NULL;
		for (uint32_t k = 0; k < cnt; k++, x += stride, p += 8) {
			uint64_t f;

			memcpy(&f, p, 8);
			gt_value_set(x, f, 0, t);
		}
		return p;
	case GT_TYPE_BOOL:
		if ((size_t)(end - p) < cnt)
			return NULL;
		for (uint32_t k = 0; k < cnt; k++, x += stride) {
			uint8_t b = *p++;

			if (b > 1)
				return NULL;
			gt_value_set(x, b, 0, t);
		}
		return p;
	default: /* STR, BYTES */
		for (uint32_t k = 0; k < cnt; k++, x += stride) {
			GT_VARINT(p, end, n, bad);
			if (n > GT_VALUE_STR_MAX || n > (size_t)(end - p))
				return NULL;
			gt_value_set(x, (uint64_t)(uintptr_t)p, (uint32_t)n, t);
			p += n;
		}
		return p;
	}
bad:
	return NULL;
}

static int gt_dchunk_decode(struct gt_reader *r, size_t i, struct gt_dchunk **out)
{
	const struct gt_rchunk *ck = &r->chunks[i];
	const struct gt_chunk_info *ci = &ck->info;
	const uint8_t *payload, *pairs, *p, *end;
	struct gt_rchunk hdr;
	struct gt_dchunk *d;
	uint64_t nvalues = 0, ts, v, nstreams;
	uint32_t *counts, n;
	size_t zs, got;
	int ret;

	d = *out; /* a recycled chunk, or NULL */
	*out = NULL;
	ret = gt_chunk_check(r, i, NULL);
	if (ret < 0) {
		gt_dchunk_free(d);
		return ret;
	}
	if (!d)
		d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->index = i;
	d->pos = 0;
	payload = r->data + ci->offset + GT_BLK_HDR_SIZE;
	if (!gt_chunk_hdr_parse(payload, ci->size, ci->raw_size, &hdr, &pairs) ||
	    hdr.info.nevents != ci->nevents || hdr.nsch != ck->nsch ||
	    hdr.info.min_ticks != ci->min_ticks || hdr.info.max_ticks != ci->max_ticks ||
	    memcmp(pairs, r->chunk_sch + ck->sch_off, 8 * (size_t)ck->nsch))
		GT_DFAIL("chunk header does not match the index");
	d->nevents = n = ci->nevents;
	d->nsch = ck->nsch;

	/* one allocation for the per-event and per-slot arrays; sizes are checked above */
	{
		size_t k = d->nsch;
		size_t bytes =
			(size_t)n * (8 + 8 + 4 + 4 + 4) + k * (sizeof(void *) * 2 + 4 + 1) + 64;

		if (gt_ensure(&d->mem, &d->mem_cap, bytes) < 0) {
			ret = -ENOMEM;
			goto fail;
		}
		d->ts = d->mem;
		d->ns = d->ts + n;
		d->stream = (uint32_t *)(d->ns + n);
		d->slot = d->stream + n;
		d->rank = d->slot + n;
		d->sch = (const struct gt_schema **)(void *)(((uintptr_t)(d->rank + n) + 7) &
							     ~(uintptr_t)7);
		d->vals = (struct gt_value **)(d->sch + k);
		counts = (uint32_t *)(d->vals + k);
		d->keep = (bool *)(counts + k);
	}
	for (uint32_t s = 0; s < d->nsch; s++) {
		d->sch[s] = gt_reader_schema(r, r->chunk_sch[ck->sch_off + 2 * s]);
		if (!d->sch[s])
			GT_DFAIL("unknown schema id");
		nvalues += (uint64_t)r->chunk_sch[ck->sch_off + 2 * s + 1] * d->sch[s]->nfields;
		counts[s] = 0;
		d->keep[s] = true;
	}
	/* every value takes at least one body byte, every event three */
	if (nvalues + 3ull * n > ci->raw_size)
		GT_DFAIL("more values than body bytes");

	zs = ci->size - GT_CHUNK_HDR_SIZE - 8 * (size_t)ck->nsch;
	if (gt_ensure((void **)&d->raw, &d->raw_cap, ci->raw_size) < 0) {
		ret = -ENOMEM;
		goto fail;
	}
	got = ZSTD_decompressDCtx(r->dctx, d->raw, ci->raw_size, pairs + 8 * (size_t)ck->nsch, zs);
	if (ZSTD_isError(got) || got != ci->raw_size) {
		gt_fail(r, "chunk %zu at offset %" PRIu64 ": cannot decompress (%s)", i, ci->offset,
			ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong size");
		ret = -GT_ECOMPRESS;
		goto fail;
	}

	p = d->raw;
	end = d->raw + ci->raw_size;
	GT_VARINT(p, end, nstreams, bad_streams);
	if (!nstreams || nstreams > n)
		goto bad_streams;
	if (gt_ensure((void **)&d->pids, &d->pids_cap, 8 * (size_t)nstreams) < 0) {
		ret = -ENOMEM;
		goto fail;
	}
	for (uint64_t k = 0; k < nstreams; k++) {
		uint64_t pid, tid;

		GT_VARINT(p, end, pid, bad_streams);
		GT_VARINT(p, end, tid, bad_streams);
		if (pid > UINT32_MAX || tid > UINT32_MAX)
			goto bad_streams;
		d->pids[2 * k] = (uint32_t)pid;
		d->pids[2 * k + 1] = (uint32_t)tid;
	}

	/* column S: slots; with one schema, usually n zero bytes */
	d->one_sch = d->nsch == 1 && gt_zero_column(p, end, n);
	if (d->one_sch) {
		p += n;
		counts[0] = n;
	} else {
		for (uint32_t e = 0; e < n; e++) {
			GT_VARINT(p, end, v, bad_slots);
			if (v >= d->nsch)
				goto bad_slots;
			d->slot[e] = (uint32_t)v;
			d->rank[e] = counts[v]++;
		}
	}
	for (uint32_t s = 0; s < d->nsch; s++) {
		if (counts[s] != r->chunk_sch[ck->sch_off + 2 * s + 1])
			GT_DFAIL("schema counts do not match the header");
	}
	/* column T: streams */
	d->one_stream = nstreams == 1 && gt_zero_column(p, end, n);
	if (d->one_stream) {
		p += n;
	} else {
		for (uint32_t e = 0; e < n; e++) {
			GT_VARINT(p, end, v, bad_streamcol);
			if (v >= nstreams)
				goto bad_streamcol;
			d->stream[e] = (uint32_t)v;
		}
	}
	/*
	 * column D: timestamp deltas, the first one 0, ending at max_ticks.
	 * The ns of each event are computed here, once per chunk, not per
	 * event in gt_iter_next(); for a CLOCK_MONOTONIC chunk that starts
	 * after the trace start that is one subtraction in the same loop.
	 */
	{
		const uint64_t max = ci->max_ticks, start = r->sum.start.ticks;
		const bool mono = !r->tsc_den && ci->min_ticks >= start;
		uint64_t *tsp = d->ts, *nsp = d->ns;

		ts = ci->min_ticks;
		GT_VARINT(p, end, v, bad_ts);
		if (v)
			goto bad_ts;
		tsp[0] = ts;
		nsp[0] = ts - start;
		if (mono && gt_room(p, end, n)) {
			for (uint32_t e = 1; e < n; e++) {
				GT_VARINT_ROOM(p, end, v, bad_ts);
				if (v > max - ts)
					goto bad_ts;
				ts += v;
				tsp[e] = ts;
				nsp[e] = ts - start;
			}
		} else {
			for (uint32_t e = 1; e < n; e++) {
				GT_VARINT(p, end, v, bad_ts);
				if (v > max - ts)
					goto bad_ts;
				ts += v;
				tsp[e] = ts;
			}
			for (uint32_t e = 0; e < n; e++)
				nsp[e] = gt_ticks_ns(r, tsp[e]);
		}
		if (ts != max)
			GT_DFAIL("timestamps do not match the header");
	}

	/* field columns */
	if (gt_ensure((void **)&d->values, &d->values_cap, (size_t)nvalues * sizeof(*d->values)) <
	    0) {
		ret = -ENOMEM;
		goto fail;
	}
	{
		struct gt_value *x = d->values;

		for (uint32_t s = 0; s < d->nsch; s++) {
			const struct gt_schema *sc = d->sch[s];
			uint32_t cnt = counts[s], nf = sc->nfields;

			d->vals[s] = x;
			for (uint32_t f = 0; f < nf; f++) {
				p = gt_column_decode(p, end, sc->fields[f].type, x + f, cnt, nf);
				if (!p)
					GT_DFAIL("bad field column");
			}
			x += (size_t)cnt * nf;
		}
	}
	if (p != end)
		GT_DFAIL("bad field column");
	*out = d;
	return 0;
bad_streams:
	GT_DFAIL("bad stream table");
bad_slots:
	GT_DFAIL("bad schema column");
bad_streamcol:
	GT_DFAIL("bad stream column");
bad_ts:
	GT_DFAIL("bad timestamp column");
fail:
	gt_dchunk_free(d);
	return ret;
}

/* --------------------------------------------------------------- iterator */

/*
 * The merge keeps a heap of decoded chunks.  When only one chunk is in it,
 * its events go out without touching the heap or the filter, up to the
 * first event at or after the next unopened chunk's min_ts (run_end): a
 * full scan of a file whose chunks do not overlap, the usual case, costs a
 * few loads and stores per event.
 */
struct gt_iter {
	struct gt_reader *r;
	struct gt_filter f;
	uint32_t *ids;	     /* sorted copy of f.schema_ids */
	size_t *order;	     /* candidate chunks, by (min_ts, index) */
	size_t norder, next; /* next chunk of order[] to open */
	struct gt_dchunk **heap;
	size_t nheap;
	struct gt_dchunk *done;	 /* exhausted; recycled on the next call */
	struct gt_dchunk *spare; /* buffers to reuse for the next chunk */
	struct gt_dchunk *cur;	 /* heap[0] while the only chunk and d->all, else NULL */
	uint32_t run_end;	 /* cur's events before this index skip heap and filter */
	bool run_const;		 /* cur: one schema, one thread; ev's other fields are set */
	uint32_t run_nf;	 /* run_const: fields per event, values at run_vals */
	const struct gt_value *run_vals;
	struct gt_event ev;
	bool end;
};

static int gt_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool gt_iter_wants(const struct gt_iter *it, uint32_t id)
{
	size_t lo = 0, hi = it->f.nschema_ids;

	if (!hi)
		return true;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (it->ids[mid] == id)
			return true;
		if (it->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int gt_cmp_order(const void *a, const void *b, void *arg)
{
	const struct gt_reader *r = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint64_t mx = r->chunks[x].info.min_ticks, my = r->chunks[y].info.min_ticks;

	if (mx != my)
		return mx < my ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The iterator over chunks [@first, @first + @count) of the index. */
static int gt_iter_make(struct gt_reader *r, const struct gt_filter *filter, size_t first,
			size_t count, struct gt_iter **out)
{
	struct gt_iter *it = calloc(1, sizeof(*it));

	*out = NULL;
	if (!it)
		return -ENOMEM;
	it->r = r;
	it->f.until_ns = UINT64_MAX;
	if (filter)
		it->f = *filter;
	if (it->f.nschema_ids) {
		if (!it->f.schema_ids) {
			free(it);
			return -EINVAL;
		}
		it->ids = malloc(it->f.nschema_ids * sizeof(*it->ids));
		if (!it->ids)
			goto nomem;
		memcpy(it->ids, it->f.schema_ids, it->f.nschema_ids * sizeof(*it->ids));
		if (it->f.nschema_ids > 1)
			qsort(it->ids, it->f.nschema_ids, sizeof(*it->ids), gt_cmp_u32);
	}
	it->f.schema_ids = NULL;
	it->order = malloc((count ? count : 1) * sizeof(*it->order));
	it->heap = malloc((count ? count : 1) * sizeof(*it->heap));
	if (!it->order || !it->heap)
		goto nomem;
	for (size_t i = first; i < first + count; i++) {
		const struct gt_rchunk *ck = &r->chunks[i];
		bool any = !it->f.nschema_ids;

		if (ck->info.max_ts_ns < it->f.since_ns || ck->info.min_ts_ns > it->f.until_ns)
			continue;
		for (uint32_t k = 0; k < ck->nsch && !any; k++)
			any = gt_iter_wants(it, r->chunk_sch[ck->sch_off + 2 * k]);
		if (any)
			it->order[it->norder++] = i;
	}
	if (it->norder > 1)
		qsort_r(it->order, it->norder, sizeof(*it->order), gt_cmp_order, r);
	*out = it;
	return 0;
nomem:
	gt_iter_free(it);
	return -ENOMEM;
}

int gt_iter_new(struct gt_reader *r, const struct gt_filter *filter, struct gt_iter **out)
{
	return gt_iter_make(r, filter, 0, r->nchunks, out);
}

int gt_iter_new_chunks(struct gt_reader *r, const struct gt_filter *filter, size_t first,
		       size_t count, struct gt_iter **out)
{
	*out = NULL;
	if (first > r->nchunks || count > r->nchunks - first)
		return -ERANGE;
	return gt_iter_make(r, filter, first, count, out);
}

void gt_iter_free(struct gt_iter *it)
{
	if (!it)
		return;
	for (size_t i = 0; i < it->nheap; i++)
		gt_dchunk_free(it->heap[i]);
	gt_dchunk_free(it->done);
	gt_dchunk_free(it->spare);
	free(it->heap);
	free(it->order);
	free(it->ids);
	free(it);
}

/* Does event @e of @d pass the event-level filter? */
static bool gt_iter_match(const struct gt_iter *it, const struct gt_dchunk *d, uint32_t e)
{
	uint64_t ns;

	if (d->all)
		return true;
	if (!d->keep[gt_d_slot(d, e)])
		return false;
	if (!it->f.since_ns && it->f.until_ns == UINT64_MAX)
		return true;
	ns = d->ns[e];
	return ns >= it->f.since_ns && ns <= it->f.until_ns;
}

/* Advance @d to its next matching event; false when exhausted. */
static bool gt_dchunk_seek(const struct gt_iter *it, struct gt_dchunk *d)
{
	while (d->pos < d->nevents && !gt_iter_match(it, d, d->pos))
		d->pos++;
	return d->pos < d->nevents;
}

static bool gt_heap_less(const struct gt_dchunk *a, const struct gt_dchunk *b)
{
	uint64_t x = a->ts[a->pos], y = b->ts[b->pos];

	if (x != y)
		return x < y;
	return a->index < b->index;
}

static void gt_heap_down(struct gt_iter *it, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < it->nheap && gt_heap_less(it->heap[l], it->heap[m]))
			m = l;
		if (l + 1 < it->nheap && gt_heap_less(it->heap[l + 1], it->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		struct gt_dchunk *t = it->heap[i];

		it->heap[i] = it->heap[m];
		it->heap[m] = t;
		i = m;
	}
}

static void gt_heap_push(struct gt_iter *it, struct gt_dchunk *d)
{
	size_t i = it->nheap++;

	it->heap[i] = d;
	while (i && gt_heap_less(it->heap[i], it->heap[(i - 1) / 2])) {
		struct gt_dchunk *t = it->heap[i];

		it->heap[i] = it->heap[(i - 1) / 2];
		it->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* Point the iterator's event at event @e of @d. */
static inline void gt_iter_fill(struct gt_iter *it, const struct gt_dchunk *d, uint32_t e)
{
	uint32_t s = gt_d_slot(d, e), st = gt_d_stream(d, e);
	const struct gt_schema *sc = d->sch[s];
	it->ev.ticks = d->ts[e];
	it->ev.ts_ns = d->ns[e];
	it->ev.pid = d->pids[2 * st];
	it->ev.tid = d->pids[2 * st + 1];
	it->ev.schema = sc;
	it->ev.nfields = sc->nfields;
	it->ev.values = d->vals[s] + (size_t)gt_d_rank(d, e) * sc->nfields;
}

/*
 * After an event went out through the heap: if one chunk is left in it and
 * no per-event filter applies, let gt_iter_next() take its events directly
 * up to the first that is not before the next unopened chunk's min_ts.
 * The chunk's last event always goes through the heap path, which retires
 * the chunk.
 */
static void gt_iter_set_run(struct gt_iter *it, const struct gt_dchunk *filled)
{
	struct gt_dchunk *h;
	uint32_t lo, hi;

	it->cur = NULL;
	it->run_end = 0;
	if (it->nheap != 1 || !it->heap[0]->all)
		return;
	h = it->heap[0];
	lo = h->pos;
	hi = h->nevents - 1;
	if (it->next < it->norder) {
		uint64_t lim = it->r->chunks[it->order[it->next]].info.min_ticks;

		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;

			if (h->ts[mid] < lim)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	it->cur = h;
	it->run_end = hi;
	/*
	 * One schema, one thread: pid, tid and schema stay as the event just
	 * filled them, if that event came from this chunk (not from one just
	 * used up, whose thread may differ).
	 */
	it->run_const = h == filled && h->one_sch && h->one_stream;
	it->run_nf = h->sch[0]->nfields;
	it->run_vals = h->vals[0];
}

/* Out of line: the fast path in gt_iter_next() then needs no stack frame. */
static __attribute__((noinline)) int gt_iter_next_slow(struct gt_iter *it,
						     const struct gt_event **ev)
{
	struct gt_reader *r = it->r;
	struct gt_dchunk *d;

	*ev = NULL;
	it->cur = NULL;
	it->run_end = 0;
	if (it->done) {
		gt_dchunk_free(it->spare);
		it->spare = it->done;
		it->done = NULL;
	}
	if (it->end)
		return 0;
	/* open every chunk that could hold the next event */
	while (it->next < it->norder &&
	       (!it->nheap || r->chunks[it->order[it->next]].info.min_ticks <=
				      it->heap[0]->ts[it->heap[0]->pos])) {
		const struct gt_chunk_info *ci;
		int ret;

		d = it->spare;
		it->spare = NULL;
		ret = gt_dchunk_decode(r, it->order[it->next], &d);
		it->next++;
		if (ret < 0) {
			it->end = true;
			return ret;
		}
		ci = &r->chunks[d->index].info;
		d->all = ci->min_ts_ns >= it->f.since_ns && ci->max_ts_ns <= it->f.until_ns;
		for (uint32_t k = 0; k < d->nsch; k++) {
			d->keep[k] = gt_iter_wants(it, d->sch[k]->id);
			d->all = d->all && d->keep[k];
		}
		if (gt_dchunk_seek(it, d)) {
			gt_heap_push(it, d);
		} else {
			gt_dchunk_free(it->spare);
			it->spare = d;
		}
	}
	if (!it->nheap) {
		it->end = true;
		return 0;
	}
	d = it->heap[0];
	gt_iter_fill(it, d, d->pos);
	d->pos++;
	if (gt_dchunk_seek(it, d)) {
		gt_heap_down(it, 0);
	} else {
		it->heap[0] = it->heap[--it->nheap];
		gt_heap_down(it, 0);
		it->done = d; /* the event still points into it */
	}
	gt_iter_set_run(it, d);
	*ev = &it->ev;
	return 1;
}

int gt_iter_next(struct gt_iter *it, const struct gt_event **ev)
{
	struct gt_dchunk *d = it->cur;

	if (__builtin_expect(d && d->pos < it->run_end, 1)) {
		uint32_t e = d->pos++;

		if (it->run_const) {
			it->ev.ticks = d->ts[e];
			it->ev.ts_ns = d->ns[e];
			it->ev.values = it->run_vals + (size_t)e * it->run_nf;
		} else {
			gt_iter_fill(it, d, e);
		}
		*ev = &it->ev;
		return 1;
	}
	return gt_iter_next_slow(it, ev);
}
