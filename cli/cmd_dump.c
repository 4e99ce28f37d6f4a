/* SPDX-License-Identifier: MIT */
/*
 * cmd_dump.c - `gtrace dump FILE [filters] [--format text|json]`: print the
 * events of one file, one line each, in time order.
 *
 * Filters are turned into a schema-id set (provider/event globs, level) and
 * a time range before iterating, so the reader skips every chunk that holds
 * nothing wanted without decompressing it.  Text lines are for people; JSON
 * lines (jansson) are for scripts and keep every value exact: 64-bit
 * integers print as integers even above INT64_MAX, NaN and infinities
 * become strings, invalid UTF-8 in strings is replaced with U+FFFD and
 * BYTES become lowercase hex.
 *
 * Exit status: 0, also for a truncated file that was recovered (a warning
 * on stderr names what was lost); 2 for usage errors and for files that
 * cannot be read (missing, not a gtrace file, newer format, a damaged chunk
 * in a complete file - the events before it are printed first).
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <jansson.h>

#include <gtrace/reader.h>

#include "commands.h"
#include "dump_filter.h"
#include "read_report.h"

#define GT_DUMP_USAGE                                                                              \
	"usage: gtrace dump FILE [--provider P] [--event E] [--level L] [--since T] [--until T]\n" \
	"                        [--format text|json]\n"                                           \
	"  --provider P, --event E   glob patterns ('*', '?') on provider and event names\n"       \
	"  --level L                 keep level <= L: 1-5 or "                                     \
	"critical|error|warning|info|verbose\n"                                                    \
	"  --since T, --until T      times since the trace start: 1.5s, 200ms, 1500us, 10ns\n"     \
	"                            (a bare number is seconds); both ends inclusive\n"            \
	"  --format text|json        one line per event; json: one object per line\n"              \
	"exit: 0 ok (a truncated file prints its whole chunks and a warning), 2 error\n"

struct gt_dump {
	bool json;
	char nonce[40]; /* marks u64 placeholders in JSON text */
	char *line;
	size_t line_cap;
};

/* ------------------------------------------------------------------ text */

static void gt_text_str(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void gt_text_value(FILE *f, const struct gt_value *v)
{
	switch (v->type) {
	case GT_TYPE_I32:
	case GT_TYPE_I64:
		fprintf(f, "%" PRId64, v->i64);
		break;
	case GT_TYPE_U32:
	case GT_TYPE_U64:
		fprintf(f, "%" PRIu64, v->u64);
		break;
	case GT_TYPE_F64:
		fprintf(f, "%.17g", v->f64);
		break;
	case GT_TYPE_BOOL:
		fputs(v->b ? "true" : "false", f);
		break;
	case GT_TYPE_STR:
		gt_text_str(f, v->str, v->len);
		break;
	case GT_TYPE_BYTES:
		fputs("0x", f);
		for (uint32_t i = 0; i < v->len; i++)
			fprintf(f, "%02x", v->bytes[i]);
		break;
	default:
		fputc('?', f);
	}
}

static void gt_dump_text(struct gt_dump *d, const struct gt_event *ev)
{
	const struct gt_schema *s = ev->schema;
	char level[16];
	const char *ln = gt_level_name(s->level);
	size_t i;

	for (i = 0; ln[i] && i + 1 < sizeof(level); i++)
		level[i] = (char)(ln[i] >= 'a' && ln[i] <= 'z' ? ln[i] - 32 : ln[i]);
	level[i] = 0;
	printf("%" PRIu64 ".%09" PRIu64 " %u/%u %s/%s [%s]", ev->ts_ns / 1000000000u,
	       ev->ts_ns % 1000000000u, ev->pid, ev->tid, s->provider, s->name, level);
	if (s->kind == GT_KIND_SPAN_BEGIN)
		fputs(" begin", stdout);
	else if (s->kind == GT_KIND_SPAN_END)
		fputs(" end", stdout);
	if (s->kind == GT_KIND_LOG) {
		size_t n = gt_format_message(ev, d->line, d->line_cap);

		fputc(' ', stdout);
		/* the message is untrusted text: keep it on one line */
		for (size_t k = 0; k < n; k++) {
			unsigned char c = (unsigned char)d->line[k];

			if (c < 0x20 || c == 0x7f)
				printf("\\x%02x", c);
			else
				fputc(c, stdout);
		}
	} else {
		for (uint32_t f = 0; f < ev->nfields; f++) {
			printf(" %s=", s->fields[f].name);
			gt_text_value(stdout, &ev->values[f]);
		}
	}
	fputc('\n', stdout);
}

/* ------------------------------------------------------------------ json */

/* Valid UTF-8 copy of @s: every invalid sequence becomes U+FFFD.  Returns malloc'd. */
static char *gt_utf8_clean(const char *s, size_t n, size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)s;
	char *o = malloc(n * 3 + 1), *q = o;
	size_t i = 0;

	if (!o)
		return NULL;
	while (i < n) {
		unsigned char c = p[i];
		size_t len = 0;
		uint32_t cp = 0, min = 0;

		if (c < 0x80) {
			*q++ = (char)c;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			len = 2, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			len = 3, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			len = 4, cp = c & 0x07, min = 0x10000;
		if (len && i + len <= n) {
			size_t k;

			for (k = 1; k < len && (p[i + k] & 0xc0) == 0x80; k++)
				cp = cp << 6 | (p[i + k] & 0x3f);
			if (k == len && cp >= min && cp <= 0x10ffff &&
			    (cp < 0xd800 || cp > 0xdfff)) {
				memcpy(q, p + i, len);
				q += len;
				i += len;
				continue;
			}
		}
		memcpy(q, "\xef\xbf\xbd", 3);
		q += 3;
		i++;
	}
	*q = 0;
	*out_len = (size_t)(q - o);
	return o;
}

static json_t *gt_json_str(const char *s, size_t n)
{
	size_t len;
	char *c = gt_utf8_clean(s, n, &len);
	json_t *j;

	if (!c)
		return NULL;
	j = json_stringn(c, len);
	free(c);
	return j;
}

/* Integers above INT64_MAX become a marked string, rewritten as digits after dumping. */
static json_t *gt_json_u64(const struct gt_dump *d, uint64_t v)
{
	char buf[96];

	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof(buf), "%s%" PRIu64, d->nonce, v);
	return json_stringn(buf, strlen(buf) + 1); /* trailing NUL ends the marker */
}

static json_t *gt_json_value(const struct gt_dump *d, const struct gt_value *v)
{
	static const char hex[] = "0123456789abcdef";

	switch (v->type) {
	case GT_TYPE_I32:
	case GT_TYPE_I64:
		return json_integer(v->i64);
	case GT_TYPE_U32:
	case GT_TYPE_U64:
		return gt_json_u64(d, v->u64);
	case GT_TYPE_F64:
		if (isnan(v->f64))
			return json_string("NaN");
		if (isinf(v->f64))
			return json_string(v->f64 > 0 ? "Infinity" : "-Infinity");
		return json_real(v->f64);
	case GT_TYPE_BOOL:
		return json_boolean(v->b);
	case GT_TYPE_STR:
		return gt_json_str(v->str, v->len);
	case GT_TYPE_BYTES: {
		char *h = malloc((size_t)v->len * 2 + 1);
		json_t *j;

		if (!h)
			return NULL;
		for (uint32_t i = 0; i < v->len; i++) {
			h[2 * i] = hex[v->bytes[i] >> 4];
			h[2 * i + 1] = hex[v->bytes[i] & 15];
		}
		j = json_stringn(h, (size_t)v->len * 2);
		free(h);
		return j;
	}
	default:
		return json_null();
	}
}

/* Print @text, replacing each "<nonce>digits\u0000" string with the bare digits. */
static void gt_json_emit(const struct gt_dump *d, const char *text)
{
	size_t nl = strlen(d->nonce);
	const char *p = text;

	for (;;) {
		const char *m = strstr(p, d->nonce);
		const char *e;

		if (!m) {
			fputs(p, stdout);
			break;
		}
		/* the marker is preceded by the opening quote */
		e = strstr(m + nl, "\\u0000\"");
		if (m == p || m[-1] != '"' || !e) {
			fwrite(p, 1, (size_t)(m + nl - p), stdout);
			p = m + nl;
			continue;
		}
		fwrite(p, 1, (size_t)(m - 1 - p), stdout);
		fwrite(m + nl, 1, (size_t)(e - (m + nl)), stdout);
		p = e + 7;
	}
	fputc('\n', stdout);
}

static int gt_dump_json(struct gt_dump *d, const struct gt_event *ev)
{
	const struct gt_schema *s = ev->schema;
	json_t *o = json_object(), *f = json_object();
	char *text;

	if (!o || !f) {
		json_decref(o);
		json_decref(f);
		return -ENOMEM;
	}
	json_object_set_new(o, "ts", gt_json_u64(d, ev->ts_ns));
	json_object_set_new(o, "pid", json_integer(ev->pid));
	json_object_set_new(o, "tid", json_integer(ev->tid));
	json_object_set_new(o, "provider", gt_json_str(s->provider, strlen(s->provider)));
	json_object_set_new(o, "event", gt_json_str(s->name, strlen(s->name)));
	json_object_set_new(o, "kind", json_string(gt_kind_name(s->kind)));
	json_object_set_new(o, "level", json_integer(s->level));
	json_object_set_new(o, "keywords", gt_json_u64(d, s->keywords));
	for (uint32_t i = 0; i < ev->nfields; i++) {
		const char *name = s->fields[i].name;
		size_t len;
		char *key = gt_utf8_clean(name, strlen(name), &len);

		if (key) {
			json_object_set_new(f, key, gt_json_value(d, &ev->values[i]));
			free(key);
		}
	}
	json_object_set_new(o, "fields", f);
	if (s->kind == GT_KIND_LOG) {
		size_t n = gt_format_message(ev, d->line, d->line_cap);

		json_object_set_new(o, "message", gt_json_str(d->line, n));
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	gt_json_emit(d, text);
	free(text);
	return 0;
}

/* ------------------------------------------------------------------ main */

static void gt_dump_error(const char *msg, int ret)
{
	/* damage inside a gtrace file can be repaired; a foreign file cannot */
	if ((ret == -GT_ECORRUPT || ret == -GT_ECOMPRESS) && !strstr(msg, "not a gtrace file"))
		fprintf(stderr, "gtrace dump: %s; run 'gtrace repair' or re-record\n", msg);
	else
		fprintf(stderr, "gtrace dump: %s\n", msg);
}

int cmd_dump(int argc, char **argv)
{
	const char *path, *prov, *evname;
	struct gt_dump_args args;
	struct gt_filter filter = { .since_ns = 0, .until_ns = UINT64_MAX };
	struct gt_dump d = { 0 };
	struct gt_reader *r = NULL;
	struct gt_iter *it = NULL;
	const struct gt_event *ev;
	uint32_t *ids = NULL;
	size_t nids = 0, nsch;
	int level, ret, rc = 0;
	char err[600];
	uint64_t nonce[2] = { 0, 0 };

	ret = gt_dump_args_parse(argc, argv, &args, GT_DUMP_USAGE, stderr);
	if (ret == GT_DUMP_ARGS_HELP) {
		fputs(GT_DUMP_USAGE, stdout);
		return 0;
	}
	if (ret)
		return 2;
	path = args.path;
	prov = args.prov;
	evname = args.evname;
	level = args.level;
	filter.since_ns = args.since_ns;
	filter.until_ns = args.until_ns;
	if (!path) {
		fprintf(stderr, "gtrace dump: missing FILE\n%s", GT_DUMP_USAGE);
		return 2;
	}
	d.json = args.json;
	if (getrandom(nonce, sizeof(nonce), GRND_NONBLOCK) < 0)
		nonce[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&d;
	snprintf(d.nonce, sizeof(d.nonce), "GTU64%016" PRIx64 "%016" PRIx64 ":", nonce[0],
		 nonce[1]);
	d.line_cap = 16384;
	d.line = malloc(d.line_cap);
	if (!d.line) {
		fprintf(stderr, "gtrace dump: out of memory\n");
		return 2;
	}

	ret = gt_reader_open_ex(path, 0, &r, err, sizeof(err));
	if (ret < 0) {
		gt_dump_error(err, ret);
		rc = 2;
		goto out;
	}
	nsch = gt_reader_schema_count(r);
	ids = malloc((nsch ? nsch : 1) * sizeof(*ids));
	if (!ids) {
		fprintf(stderr, "gtrace dump: out of memory\n");
		rc = 2;
		goto out;
	}
	for (size_t i = 0; i < nsch; i++) {
		const struct gt_schema *s = gt_reader_schema_at(r, i);

		if (prov && fnmatch(prov, s->provider, 0))
			continue;
		if (evname && fnmatch(evname, s->name, 0))
			continue;
		if (s->level > level)
			continue;
		ids[nids++] = s->id;
	}
	if (nids) {
		if (nids < nsch) {
			filter.schema_ids = ids;
			filter.nschema_ids = nids;
		}
		ret = gt_iter_new(r, &filter, &it);
		if (ret < 0) {
			fprintf(stderr, "gtrace dump: '%s': %s\n", path, gt_strerror(ret));
			rc = 2;
			goto out;
		}
		while ((ret = gt_iter_next(it, &ev)) > 0) {
			if (d.json) {
				if (gt_dump_json(&d, ev) < 0) {
					ret = -ENOMEM;
					break;
				}
			} else {
				gt_dump_text(&d, ev);
			}
		}
		if (ret < 0) {
			fflush(stdout);
			if (gt_reader_errmsg(r)[0])
				gt_dump_error(gt_reader_errmsg(r), ret);
			else
				fprintf(stderr, "gtrace dump: '%s': %s\n", path, gt_strerror(ret));
			rc = 2;
			goto out;
		}
	}
	gt_warn_recovered("dump", r, path);
out:
	if (fflush(stdout) != 0 && !rc) {
		fprintf(stderr, "gtrace dump: write error: %s\n", strerror(errno));
		rc = 2;
	}
	gt_iter_free(it);
	gt_reader_close(r);
	free(ids);
	free(d.line);
	return rc;
}
