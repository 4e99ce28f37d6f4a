/* SPDX-License-Identifier: MIT */
/*
 * schema.c - schema translation: producer schema records to file schemas.
 *
 * Each segment numbers its schemas 1, 2, 3... in its own schema region.  The
 * file has one id space, so the collector parses every new schema record
 * (copied out of shared memory first, then validated field by field against
 * abi.h's limits), interns it by content in a hash table, and keeps a
 * per-segment array from local id to file id.  Interning by content means a
 * forked or re-exec'd child registering the same call sites adds nothing to
 * the file.  A schema record with a broken frame poisons the rest of the
 * region; one with a bad field is counted corrupt and its id stays invalid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "gt_col_int.h"

#define GT_SCHEMA_CANON_MAX (GT_SCHEMA_MAX + 64u)
#define GT_SCHEMAS_MAX (1u << 20) /* distinct schemas per file */

int gt_schema_tab_init(struct gt_schema_tab *t)
{
	t->cap = 64;
	t->count = 0;
	t->next_id = 1;
	t->ent = calloc(t->cap, sizeof(*t->ent));
	return t->ent ? 0 : -ENOMEM;
}

void gt_schema_tab_release(struct gt_schema_tab *t)
{
	if (!t->ent)
		return;
	for (uint32_t i = 0; i < t->cap; i++)
		free(t->ent[i].bytes);
	free(t->ent);
	t->ent = NULL;
}

static int gt_schema_tab_grow(struct gt_schema_tab *t)
{
	uint32_t ncap = t->cap * 2;
	struct gt_schema_ent *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->cap; i++) {
		uint32_t j;

		if (!t->ent[i].bytes)
			continue;
		for (j = (uint32_t)t->ent[i].hash & (ncap - 1); n[j].bytes;
		     j = (j + 1) & (ncap - 1))
			;
		n[j] = t->ent[i];
	}
	free(t->ent);
	t->ent = n;
	t->cap = ncap;
	return 0;
}

static size_t gt_canon_str(unsigned char *buf, size_t pos, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (pos + n + 1 > GT_SCHEMA_CANON_MAX)
		return GT_SCHEMA_CANON_MAX + 1;
	memcpy(buf + pos, s ? s : "", n);
	buf[pos + n] = '\0';
	return pos + n + 1;
}

/* Serialise everything that makes two schemas the same (not the id). */
static size_t gt_schema_canon(const struct gt_schema_desc *d, unsigned char *buf)
{
	size_t pos = 0;

	buf[pos++] = d->kind;
	buf[pos++] = d->level;
	memcpy(buf + pos, &d->keywords, 8);
	pos += 8;
	memcpy(buf + pos, &d->line, 4);
	pos += 4;
	buf[pos++] = (unsigned char)d->nfields;
	for (uint32_t i = 0; i < d->nfields; i++)
		buf[pos++] = d->fields[i].type;
	pos = gt_canon_str(buf, pos, d->provider);
	if (pos <= GT_SCHEMA_CANON_MAX)
		pos = gt_canon_str(buf, pos, d->name);
	if (pos <= GT_SCHEMA_CANON_MAX)
		pos = gt_canon_str(buf, pos, d->file);
	if (pos <= GT_SCHEMA_CANON_MAX)
		pos = gt_canon_str(buf, pos, d->format);
	for (uint32_t i = 0; i < d->nfields && pos <= GT_SCHEMA_CANON_MAX; i++)
		pos = gt_canon_str(buf, pos, d->fields[i].name);
	return pos;
}

int gt_schema_intern(struct gt_collector *c, const struct gt_schema_desc *d, uint32_t *id)
{
	struct gt_schema_tab *t = &c->schemas;
	unsigned char buf[GT_SCHEMA_CANON_MAX + 1];
	struct gt_schema_desc copy;
	struct gt_schema_ent *e;
	size_t len;
	uint64_t h;
	uint32_t j;
	int ret;

	if (d->nfields > GT_FIELDS_MAX)
		return -GT_ELIMIT;
	len = gt_schema_canon(d, buf);
	if (len > GT_SCHEMA_CANON_MAX)
		return -GT_ELIMIT;
	h = XXH3_64bits(buf, len);
	for (j = (uint32_t)h & (t->cap - 1); t->ent[j].bytes; j = (j + 1) & (t->cap - 1)) {
		e = &t->ent[j];
		if (e->hash == h && e->len == len && !memcmp(e->bytes, buf, len)) {
			*id = e->id;
			return 0;
		}
	}
	if (t->count >= GT_SCHEMAS_MAX)
		return -GT_ELIMIT; /* bounds the memory hostile producers can make us hold */
	if ((t->count + 1) * 2 > t->cap) {
		ret = gt_schema_tab_grow(t);
		if (ret < 0)
			return ret;
		for (j = (uint32_t)h & (t->cap - 1); t->ent[j].bytes; j = (j + 1) & (t->cap - 1))
			;
	}
	e = &t->ent[j];
	e->bytes = malloc(len);
	if (!e->bytes)
		return -ENOMEM;
	memcpy(e->bytes, buf, len);
	e->hash = h;
	e->len = (uint32_t)len;
	e->id = t->next_id++;
	t->count++;
	copy = *d;
	copy.id = e->id;
	gt_collector_op_schema(c, &copy);
	*id = e->id;
	return 0;
}

/* Next NUL-terminated string of @rec at *@pos, at most @max bytes; NULL if malformed. */
static const char *gt_rec_str(const unsigned char *rec, size_t size, size_t *pos, size_t max)
{
	const unsigned char *nul;
	size_t n;

	if (*pos >= size)
		return NULL;
	nul = memchr(rec + *pos, '\0', size - *pos);
	if (!nul)
		return NULL;
	n = (size_t)(nul - (rec + *pos));
	if (n > max)
		return NULL;
	const char *s = (const char *)rec + *pos;

	*pos += n + 1;
	return s;
}

/*
 * Parse one schema record copied out of shared memory.  Return 0 and fill
 * @d/@fields (pointing into @rec), or -GT_ECORRUPT.
 */
static int gt_schema_decode(const unsigned char *rec, size_t size, struct gt_schema_desc *d,
			    struct gt_field_desc *fields)
{
	struct gt_shm_schema h;
	size_t pos = sizeof(h);

	memcpy(&h, rec, sizeof(h));
	if (h.kind > GT_KIND_MAX_ || h.level < 1 || h.level > 5 || h.nfields > GT_FIELDS_MAX)
		return -GT_ECORRUPT;
	if (size - pos < h.nfields)
		return -GT_ECORRUPT;
	for (unsigned int i = 0; i < h.nfields; i++) {
		fields[i].type = rec[pos + i];
		if (fields[i].type < 1 || fields[i].type > GT_TYPE_MAX_)
			return -GT_ECORRUPT;
	}
	pos += h.nfields;
	memset(d, 0, sizeof(*d));
	d->kind = h.kind;
	d->level = h.level;
	d->keywords = h.keywords;
	d->line = h.line;
	d->nfields = h.nfields;
	d->fields = fields;
	d->provider = gt_rec_str(rec, size, &pos, GT_NAME_MAX);
	d->name = gt_rec_str(rec, size, &pos, GT_NAME_MAX);
	d->file = gt_rec_str(rec, size, &pos, GT_SCHEMA_MAX);
	d->format = gt_rec_str(rec, size, &pos, GT_FORMAT_MAX);
	if (!d->provider || !d->name || !d->file || !d->format || !d->provider[0] || !d->name[0])
		return -GT_ECORRUPT;
	for (unsigned int i = 0; i < h.nfields; i++) {
		fields[i].name = gt_rec_str(rec, size, &pos, GT_NAME_MAX);
		if (!fields[i].name)
			return -GT_ECORRUPT;
	}
	if (!d->file[0])
		d->file = NULL;
	if (!d->format[0])
		d->format = NULL;
	return 0;
}

static void gt_schema_poison(struct gt_collector *c, struct gt_segment *s, const char *why)
{
	s->schema_poisoned = true;
	gt_collector_corrupt(c, s->pid, 1);
	if (!s->logged) {
		s->logged = true;
		gt_col_log("process %u: corrupt schema region (%s); ignoring its new schemas",
			   s->pid, why);
	}
}

static int gt_idmap_push(struct gt_segment *s, uint32_t fid)
{
	if (s->nids == s->idcap) {
		uint32_t ncap = s->idcap ? s->idcap * 2 : 64;
		uint32_t *n = realloc(s->idmap, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->idmap = n;
		s->idcap = ncap;
	}
	s->idmap[s->nids++] = fid;
	return 0;
}

int gt_segment_parse_schemas(struct gt_collector *c, struct gt_segment *s)
{
	const struct gt_shm_header *live = (const struct gt_shm_header *)s->map;
	unsigned char rec[GT_SCHEMA_MAX];
	struct gt_field_desc fields[GT_FIELDS_MAX];
	struct gt_schema_desc d;
	uint64_t head;
	int added = 0;

	if (s->schema_poisoned)
		return 0;
	/* pairs with the producer's release store after appending a schema */
	head = __atomic_load_n(&live->schema_head, __ATOMIC_ACQUIRE);
	if (head == s->schema_parsed)
		return 0;
	if (head > s->hdr.schema_size || head < s->schema_parsed || (head % GT_REC_ALIGN)) {
		gt_schema_poison(c, s, "schema_head out of range");
		return 0;
	}
	while (s->schema_parsed < head) {
		const unsigned char *src = s->map + s->hdr.schema_off + s->schema_parsed;
		uint64_t rem = head - s->schema_parsed;
		struct gt_shm_schema h;
		uint32_t fid = 0;

		if (rem < sizeof(h)) {
			gt_schema_poison(c, s, "truncated record");
			break;
		}
		memcpy(&h, src, sizeof(h));
		if (h.size < sizeof(h) || h.size % GT_REC_ALIGN || h.size > GT_SCHEMA_MAX ||
		    h.size > rem) {
			gt_schema_poison(c, s, "bad record size");
			break;
		}
		if (h.id != s->nids + 1 || s->nids >= GT_SEG_MAX_IDS) {
			gt_schema_poison(c, s, "schema ids out of order");
			break;
		}
		memcpy(rec, src, h.size);
		if (gt_schema_decode(rec, h.size, &d, fields) < 0) {
			gt_collector_corrupt(c, s->pid, 1);
			if (!s->logged) {
				s->logged = true;
				gt_col_log("process %u: malformed schema %u ignored", s->pid, h.id);
			}
		} else if (gt_schema_intern(c, &d, &fid) < 0) {
			fid = 0;
			gt_collector_corrupt(c, s->pid, 1);
		}
		if (gt_idmap_push(s, fid) < 0)
			break;
		s->schema_parsed += h.size;
		added++;
	}
	return added;
}

/* Next NUL-terminated string of our own canonical bytes, or NULL past the end. */
static const char *gt_canon_next(const unsigned char *b, size_t len, size_t *pos)
{
	const unsigned char *nul;
	const char *s;

	if (*pos >= len)
		return NULL;
	nul = memchr(b + *pos, '\0', len - *pos);
	if (!nul)
		return NULL;
	s = (const char *)b + *pos;
	*pos = (size_t)(nul - b) + 1;
	return s;
}

/* Rebuild a schema description from its canonical bytes (gt_schema_canon). */
static int gt_canon_decode(const struct gt_schema_ent *e, struct gt_schema_desc *d,
			   struct gt_field_desc *fields)
{
	const unsigned char *b = e->bytes;
	size_t pos = 15;

	if (e->len < 15)
		return -GT_ECORRUPT;
	memset(d, 0, sizeof(*d));
	d->id = e->id;
	d->kind = b[0];
	d->level = b[1];
	memcpy(&d->keywords, b + 2, 8);
	memcpy(&d->line, b + 10, 4);
	d->nfields = b[14];
	if (d->nfields > GT_FIELDS_MAX || e->len - pos < d->nfields)
		return -GT_ECORRUPT;
	for (uint32_t i = 0; i < d->nfields; i++)
		fields[i].type = b[pos++];
	d->fields = fields;
	d->provider = gt_canon_next(b, e->len, &pos);
	d->name = gt_canon_next(b, e->len, &pos);
	d->file = gt_canon_next(b, e->len, &pos);
	d->format = gt_canon_next(b, e->len, &pos);
	if (!d->provider || !d->name || !d->file || !d->format)
		return -GT_ECORRUPT;
	for (uint32_t i = 0; i < d->nfields; i++) {
		fields[i].name = gt_canon_next(b, e->len, &pos);
		if (!fields[i].name)
			return -GT_ECORRUPT;
	}
	if (!d->file[0])
		d->file = NULL;
	if (!d->format[0])
		d->format = NULL;
	return 0;
}

static int gt_ent_by_id(const void *a, const void *b)
{
	uint32_t x = (*(const struct gt_schema_ent *const *)a)->id;
	uint32_t y = (*(const struct gt_schema_ent *const *)b)->id;

	return x < y ? -1 : x > y;
}

/*
 * Declare every schema of @t to @sink in id order (a rotated file must be
 * self-describing).  Return 0 or the first error the sink returned.
 */
int gt_schema_tab_replay(const struct gt_schema_tab *t, const struct gt_sink *sink)
{
	struct gt_field_desc fields[GT_FIELDS_MAX];
	const struct gt_schema_ent **v;
	struct gt_schema_desc d;
	uint32_t n = 0;
	int ret = 0;

	if (!t->count || !sink->add_schema)
		return 0;
	v = malloc(t->count * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->cap && n < t->count; i++)
		if (t->ent[i].bytes)
			v[n++] = &t->ent[i];
	qsort(v, n, sizeof(*v), gt_ent_by_id);
	for (uint32_t i = 0; i < n; i++) {
		int r = gt_canon_decode(v[i], &d, fields);

		if (r == 0)
			r = sink->add_schema(sink->ctx, &d);
		if (r < 0 && ret == 0)
			ret = r;
	}
	free(v);
	return ret;
}
