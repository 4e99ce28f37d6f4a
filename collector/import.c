/* SPDX-License-Identifier: MIT */
/*
 * import.c - nested sessions: the events of an inner operation reach the
 * outer session too (docs/sessions.md, "Nested sessions").
 *
 * A process writes into one ring per thread, owned by the innermost
 * collector (the one its GTRACE_SESSION names), so the hot path knows
 * nothing about nesting.  Instead the inner side (`gtrace run`, or the
 * collector of a `gtrace start` run inside another session), which learnt
 * the outer session from its own GTRACE_SESSION before overriding it for
 * its command, asks the outer collector over its control socket to import
 * each file once it is complete (end of `gtrace run`, rotate or stop of the
 * inner session).  The outer collector reads the file with the reader API,
 * interns its schemas under its own ids (gt_schema_intern: deduplicated,
 * declared again after every rotation), and queues its events with their
 * original pid, tid and timestamps into the normal batch, so they reach the
 * outer session's current file through the same writer thread as every
 * other event.  Both collectors stamp events on the same machine with the
 * same event clock (raw TSC or CLOCK_MONOTONIC), so ticks need no
 * conversion; a file on another clock is refused.  The file is untrusted
 * input: the reader checks it, and every value is bounds-checked again while
 * it is re-encoded in the ring payload encoding (gtrace/abi.h), which the
 * writer validates once more.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <gtrace/error.h>
#include <gtrace/reader.h>

#include "gt_col_int.h"
#include "gt_daemon.h"
#include "gt_import.h"

#define GT_IMPORT_HANDOFF 4096u	      /* events queued between two handoffs to the writer */
#define GT_IMPORT_TIMEOUT_MS 120000   /* the outer collector reads the whole file */
#define GT_IMPORT_KERNEL "kernel."
#define GT_IMPORT_FILE_MAX 1024u /* source file name bytes taken (the writer's limit is larger) */

struct gt_imap {
	uint32_t from; /* schema id in the imported file */
	uint32_t to;   /* id in the collector's file; 0 = left out */
};

static int gt_imap_cmp(const void *a, const void *b)
{
	const struct gt_imap *x = a, *y = b;

	return x->from < y->from ? -1 : x->from > y->from;
}

static void __attribute__((format(printf, 3, 4)))
gt_import_err(char *err, size_t errcap, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errcap)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errcap, fmt, ap);
	va_end(ap);
}

/* Append @len bytes at *@n of @buf (GT_REC_MAX bytes); false when it would not fit. */
static bool gt_import_put(unsigned char *buf, size_t *n, const void *p, size_t len)
{
	size_t room = GT_REC_MAX - sizeof(struct gt_rec_hdr);

	if (*n > room || len > room - *n)
		return false;
	if (len)
		memcpy(buf + *n, p, len);
	*n += len;
	return true;
}

/* Re-encode @ev's values in the ring payload encoding; return its length or -1. */
static ssize_t gt_import_encode(const struct gt_event *ev, unsigned char *buf)
{
	size_t n = 0;

	if (!ev->schema || ev->nfields != ev->schema->nfields || ev->nfields > GT_FIELDS_MAX)
		return -1;
	for (uint32_t i = 0; i < ev->nfields; i++) {
		const struct gt_value *v = &ev->values[i];
		uint32_t u32, len;
		uint8_t b;
		bool ok;

		if (v->type != ev->schema->fields[i].type)
			return -1;
		switch (v->type) {
		case GT_TYPE_I32:
		case GT_TYPE_U32:
			u32 = v->type == GT_TYPE_I32 ? (uint32_t)(int32_t)v->i64 : (uint32_t)v->u64;
			ok = gt_import_put(buf, &n, &u32, 4);
			break;
		case GT_TYPE_I64:
		case GT_TYPE_U64:
		case GT_TYPE_F64:
			ok = gt_import_put(buf, &n, &v->u64, 8);
			break;
		case GT_TYPE_BOOL:
			b = v->b ? 1 : 0;
			ok = gt_import_put(buf, &n, &b, 1);
			break;
		case GT_TYPE_STR:
		case GT_TYPE_BYTES: {
			const void *src = v->type == GT_TYPE_STR ? (const void *)v->str
								 : (const void *)v->bytes;

			len = v->len;
			ok = gt_import_put(buf, &n, &len, 4) && gt_import_put(buf, &n, src, len);
			break;
		}
		default:
			return -1;
		}
		if (!ok)
			return -1;
	}
	return (ssize_t)n;
}

/* Would the writer take @s?  (A schema it refuses would end the whole session's recording.) */
static bool gt_import_schema_ok(const struct gt_schema *s)
{
	if (!s->id || s->kind > GT_KIND_MAX_ || s->nfields > GT_FIELDS_MAX ||
	    (s->nfields && !s->fields) || !s->provider || !s->name ||
	    strnlen(s->provider, GT_NAME_MAX + 1) > GT_NAME_MAX ||
	    strnlen(s->name, GT_NAME_MAX + 1) > GT_NAME_MAX ||
	    (s->file && strnlen(s->file, GT_IMPORT_FILE_MAX + 1) > GT_IMPORT_FILE_MAX) ||
	    (s->format && strnlen(s->format, GT_FORMAT_MAX + 1) > GT_FORMAT_MAX))
		return false;
	for (uint32_t f = 0; f < s->nfields; f++)
		if (s->fields[f].type < GT_TYPE_I32 || s->fields[f].type > GT_TYPE_MAX_ ||
		    !s->fields[f].name || strnlen(s->fields[f].name, GT_NAME_MAX + 1) > GT_NAME_MAX)
			return false;
	return true;
}

/* Intern every schema of @r; fill @map (sorted by file id).  Return 0 or -errno. */
static int gt_import_schemas(struct gt_collector *c, struct gt_reader *r, struct gt_imap *map,
			     size_t n)
{
	struct gt_field_desc fields[GT_FIELDS_MAX];

	for (size_t i = 0; i < n; i++) {
		const struct gt_schema *s = gt_reader_schema_at(r, i);
		struct gt_schema_desc d = { 0 };
		int ret;

		map[i].from = s ? s->id : 0;
		map[i].to = 0;
		if (!s || !gt_import_schema_ok(s))
			continue; /* its events are left out */
		if (c->kt && !strncmp(s->provider, GT_IMPORT_KERNEL, strlen(GT_IMPORT_KERNEL)))
			continue; /* the session records its own kernel events */
		for (uint32_t f = 0; f < s->nfields; f++) {
			fields[f].type = s->fields[f].type;
			fields[f].name = s->fields[f].name;
		}
		d.kind = s->kind;
		d.level = s->level;
		d.keywords = s->keywords;
		d.provider = s->provider;
		d.name = s->name;
		d.file = s->file;
		d.line = s->line;
		d.format = s->format;
		d.nfields = s->nfields;
		d.fields = fields;
		ret = gt_schema_intern(c, &d, &map[i].to);
		if (ret == -ENOMEM)
			return ret;
		if (ret < 0)
			map[i].to = 0; /* too many or too large: its events are left out */
	}
	qsort(map, n, sizeof(*map), gt_imap_cmp);
	return 0;
}

int gt_import_file(struct gt_collector *c, const char *path, struct gt_import_stats *st,
		   char *err, size_t errcap)
{
	struct gt_import_stats local = { 0 };
	const struct gt_summary *sum;
	struct gt_reader *r = NULL;
	struct gt_iter *it = NULL;
	struct gt_imap *map = NULL;
	unsigned char *buf = NULL;
	const struct gt_event *ev;
	char rerr[512] = "";
	size_t nschemas;
	unsigned int since = 0;
	int ret;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (!path || path[0] != '/') {
		gt_import_err(err, errcap, "import: '%s' is not an absolute path",
			      path ? path : "");
		return -EINVAL;
	}
	ret = gt_reader_open_ex(path, 0, &r, rerr, sizeof(rerr));
	if (ret < 0) {
		gt_import_err(err, errcap, "import: cannot read '%s': %s", path,
			      rerr[0] ? rerr : gt_strerror(ret));
		return ret;
	}
	sum = gt_reader_summary(r);
	if (sum->clock != c->clock) {
		gt_import_err(err, errcap,
			      "import: '%s' uses event clock %u, this session %u; timestamps would "
			      "not line up (is GTRACE_CLOCK set differently?)",
			      path, sum->clock, c->clock);
		ret = -EXDEV;
		goto out;
	}
	nschemas = gt_reader_schema_count(r);
	map = calloc(nschemas ? nschemas : 1, sizeof(*map));
	buf = malloc(GT_REC_MAX);
	if (!map || !buf) {
		ret = -ENOMEM;
		goto nomem;
	}
	ret = gt_import_schemas(c, r, map, nschemas);
	if (ret < 0)
		goto nomem;
	ret = gt_iter_new(r, NULL, &it);
	if (ret < 0)
		goto nomem;
	while ((ret = gt_iter_next(it, &ev)) == 1) {
		struct gt_imap key = { .from = ev->schema ? ev->schema->id : 0 };
		const struct gt_imap *m = bsearch(&key, map, nschemas, sizeof(*map), gt_imap_cmp);
		ssize_t len;
		void *dst;

		if (!m || !m->to) {
			st->skipped++;
			continue;
		}
		len = gt_import_encode(ev, buf);
		if (len < 0) {
			st->bad++;
			continue;
		}
		dst = gt_batch_add(&c->batch, ev->ticks, ev->pid, ev->tid, m->to, (size_t)len);
		if (!dst) {
			ret = -ENOMEM;
			goto nomem;
		}
		memcpy(dst, buf, (size_t)len);
		st->events++;
		if (++since >= GT_IMPORT_HANDOFF) {
			/* bounded memory: hand what we have to the writer thread */
			since = 0;
			gt_collector_handoff(c, true);
		}
	}
	if (ret < 0) {
		/* a bad chunk ends the import; what came before it is kept */
		gt_import_err(err, errcap, "import: '%s': %s", path, gt_reader_errmsg(r));
		goto out;
	}
	for (size_t i = 0; i < gt_reader_lost_count(r); i++) {
		const struct gt_lost *l = gt_reader_lost_at(r, i);

		if (l && l->count) {
			gt_collector_lost(c, l->pid, l->tid, l->count);
			st->lost += l->count;
		}
	}
	gt_collector_handoff(c, false);
	ret = 0;
	goto out;
nomem:
	gt_import_err(err, errcap, "import: '%s': %s", path, gt_strerror(ret));
out:
	gt_iter_free(it);
	free(buf);
	free(map);
	gt_reader_close(r);
	return ret;
}

int gt_import_outer(const char *sock, char *name, size_t cap)
{
	char root[PATH_MAX];
	const char *p, *slash;
	size_t rl;

	if (!sock || !sock[0] || gt_sess_root(root, sizeof(root)) < 0)
		return -ENOENT;
	rl = strlen(root);
	if (strncmp(sock, root, rl) || sock[rl] != '/')
		return -ENOENT;
	p = sock + rl + 1;
	slash = strchr(p, '/');
	if (!slash || (size_t)(slash - p) >= cap || strchr(slash + 1, '/'))
		return -ENOENT;
	memcpy(name, p, (size_t)(slash - p));
	name[slash - p] = '\0';
	return gt_sess_name_ok(name) ? 0 : -ENOENT;
}

int64_t gt_import_request(const char *outer, const char *path, char *err, size_t errcap)
{
	char abs[PATH_MAX], rerr[1024] = "";
	json_t *req, *rep = NULL;
	int64_t n;
	int ret;

	if (!realpath(path, abs)) {
		ret = -errno;
		gt_import_err(err, errcap, "cannot resolve '%s': %s", path, strerror(errno));
		return ret;
	}
	req = json_pack("{s:s, s:s}", "cmd", "import", "arg", abs);
	if (!req)
		return -ENOMEM;
	ret = gt_sess_request(outer, req, GT_IMPORT_TIMEOUT_MS, &rep, rerr, sizeof(rerr));
	json_decref(req);
	if (ret < 0) {
		gt_import_err(err, errcap, "%s", rerr[0] ? rerr : gt_strerror(ret));
		return ret;
	}
	n = json_integer_value(json_object_get(rep, "events"));
	json_decref(rep);
	return n;
}
