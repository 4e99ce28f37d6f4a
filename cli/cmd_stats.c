/* SPDX-License-Identifier: MIT */
/*
 * cmd_stats.c - `gtrace stats FILE [--json] [--threads N]`: decode every
 * event of a trace and summarise it per event type (schema): how many, what
 * share, first and last time, rate, and min/max/mean of every numeric field,
 * plus the totals and the lost and corrupt counts of the file.
 *
 * Unlike `info`, which answers from the footer, this is a full scan, done
 * in parallel: the chunk index is cut into N ranges of consecutive chunks
 * with about as many events each; each further thread opens its own reader
 * (a reader is used by one thread at a time), the calling thread takes the
 * first range with the reader it already has, and each decodes its range
 * with gt_iter_new_chunks(), so no chunk is decoded twice.
 * Each thread adds into its own table; the tables are summed at the end, so
 * nothing is shared while decoding.  The events decoded must add up to the
 * index's count, or the file is reported as damaged.  Exit 0, 2 on error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <gtrace/reader.h>

#include "commands.h"
#include "read_report.h"

#define GT_STATS_USAGE                                                                         \
	"usage: gtrace stats FILE [--json] [--threads N]\n"                                    \
	"  decodes every event (a full scan, in parallel) and shows per event type\n"          \
	"  (provider/name): count, share of all events, first and last time (s since the\n"   \
	"  trace start), rate (events/s between its first and last event), and min, max\n"    \
	"  and mean of every numeric field (i32 u32 i64 u64 f64 bool); then the totals and\n" \
	"  the lost and corrupt counts.\n"                                                     \
	"  --json        the same as one JSON object (u64 values above 2^63 as reals)\n"      \
	"  --threads N   decoding threads (default: the number of online CPUs)\n"              \
	"exit: 0 ok, 2 if the file could not be read or is damaged\n"

#define GT_STATS_THREADS_MAX 64

/*
 * One field's accumulators; which members count depends on the field's
 * type.  min and max start at the type's extremes (gt_sstat_init()), so
 * adding a value is two compares and an add, without a first-value test.
 */
struct gt_sfield {
	union {
		int64_t i;
		uint64_t u;
		double f;
	} min, max;
	__int128 isum;		/* i32, i64 */
	unsigned __int128 usum; /* u32, u64, bool */
	double fsum;		/* f64 */
	uint64_t n;		/* values seen (f64: not NaN) */
};

/* One schema's numbers, in one thread's table (then the merged one). */
struct gt_sstat {
	uint64_t count;
	uint64_t first_ns;
	uint64_t last_ns;
	struct gt_sfield f[GT_FIELDS_MAX];
};

struct gt_stats_part {
	pthread_t th;
	const char *path;
	struct gt_reader *r; /* the caller's reader (part 0 of a one-thread scan), or NULL */
	const uint32_t *ids; /* schema ids in id order: the table's rows */
	size_t nids;
	size_t first, count;  /* chunk range */
	struct gt_sstat *tab; /* nids rows */
	uint64_t events;
	int ret;
	char err[600];
};

/* Empty rows for the schemas of @r (row i = schema i in id order). */
static void gt_sstat_init(struct gt_sstat *t, const struct gt_reader *r)
{
	size_t n = gt_reader_schema_count(r);

	memset(t, 0, n * sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		const struct gt_schema *sc = gt_reader_schema_at(r, i);

		t[i].first_ns = UINT64_MAX;
		for (uint32_t k = 0; k < sc->nfields && k < GT_FIELDS_MAX; k++) {
			struct gt_sfield *a = &t[i].f[k];

			switch (sc->fields[k].type) {
			case GT_TYPE_I32:
			case GT_TYPE_I64:
				a->min.i = INT64_MAX;
				a->max.i = INT64_MIN;
				break;
			case GT_TYPE_F64:
				a->min.f = INFINITY;
				a->max.f = -INFINITY;
				break;
			default:
				a->min.u = UINT64_MAX;
				a->max.u = 0;
				break;
			}
		}
	}
}

static size_t gt_stats_row(const uint32_t *ids, size_t n, uint32_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && ids[lo] == id ? lo : SIZE_MAX;
}

/* Add one value to @a. */
static inline void gt_sfield_add(struct gt_sfield *a, const struct gt_value *v)
{
	switch (v->type) {
	case GT_TYPE_I32:
	case GT_TYPE_I64:
		a->min.i = v->i64 < a->min.i ? v->i64 : a->min.i;
		a->max.i = v->i64 > a->max.i ? v->i64 : a->max.i;
		a->isum += v->i64;
		a->n++;
		break;
	case GT_TYPE_U32:
	case GT_TYPE_U64:
		a->min.u = v->u64 < a->min.u ? v->u64 : a->min.u;
		a->max.u = v->u64 > a->max.u ? v->u64 : a->max.u;
		a->usum += v->u64;
		a->n++;
		break;
	case GT_TYPE_BOOL:
		a->min.u = v->b < a->min.u ? v->b : a->min.u;
		a->max.u = v->b > a->max.u ? v->b : a->max.u;
		a->usum += v->b;
		a->n++;
		break;
	case GT_TYPE_F64:
		if (isnan(v->f64))
			break;
		a->min.f = v->f64 < a->min.f ? v->f64 : a->min.f;
		a->max.f = v->f64 > a->max.f ? v->f64 : a->max.f;
		a->fsum += v->f64;
		a->n++;
		break;
	default: /* str, bytes: counted with the event only */
		break;
	}
}

static void *gt_stats_part_main(void *arg)
{
	struct gt_stats_part *p = arg;
	const struct gt_schema *last = NULL;
	struct gt_sstat *row = NULL;
	struct gt_reader *r = p->r;
	struct gt_iter *it = NULL;
	const struct gt_event *ev;
	int ret;

	if (!r) {
		ret = gt_reader_open_ex(p->path, 0, &r, p->err, sizeof(p->err));
		if (ret < 0)
			goto out;
	}
	ret = gt_iter_new_chunks(r, NULL, p->first, p->count, &it);
	if (ret < 0) {
		/* the file lost chunks since the first open: it changed under us */
		snprintf(p->err, sizeof(p->err), "'%s': %s (the file changed while read)",
			 p->path, gt_strerror(ret));
		ret = -GT_ECORRUPT;
		goto out;
	}
	while ((ret = gt_iter_next(it, &ev)) > 0) {
		const struct gt_schema *sc = ev->schema;

		if (sc != last) {
			size_t k = gt_stats_row(p->ids, p->nids, sc->id);

			if (k == SIZE_MAX) {
				snprintf(p->err, sizeof(p->err),
					 "'%s': schema %u is not in the index (the file changed "
					 "while read)",
					 p->path, sc->id);
				ret = -GT_ECORRUPT;
				goto out;
			}
			row = &p->tab[k];
			last = sc;
		}
		p->events++;
		row->count++;
		if (ev->ts_ns < row->first_ns)
			row->first_ns = ev->ts_ns;
		if (ev->ts_ns > row->last_ns)
			row->last_ns = ev->ts_ns;
		{
			const struct gt_value *v = ev->values;
			const struct gt_value *ve = v + (ev->nfields < GT_FIELDS_MAX
							     ? ev->nfields
							     : GT_FIELDS_MAX);
			struct gt_sfield *a = row->f;

			for (; v < ve; v++, a++)
				gt_sfield_add(a, v);
		}
	}
	if (ret < 0)
		snprintf(p->err, sizeof(p->err), "%s", gt_reader_errmsg(r));
out:
	gt_iter_free(it);
	if (r != p->r)
		gt_reader_close(r);
	p->ret = ret < 0 ? ret : 0;
	return NULL;
}

/* Add table @b into @a (same rows). */
static void gt_sstat_merge(struct gt_sstat *a, const struct gt_sstat *b, size_t n,
			   const struct gt_reader *r)
{
	for (size_t i = 0; i < n; i++) {
		const struct gt_schema *sc = gt_reader_schema_at(r, i);

		if (!b[i].count)
			continue;
		a[i].count += b[i].count;
		if (b[i].first_ns < a[i].first_ns)
			a[i].first_ns = b[i].first_ns;
		if (b[i].last_ns > a[i].last_ns)
			a[i].last_ns = b[i].last_ns;
		for (uint32_t f = 0; sc && f < sc->nfields && f < GT_FIELDS_MAX; f++) {
			struct gt_sfield *x = &a[i].f[f];
			const struct gt_sfield *y = &b[i].f[f];
			uint8_t t = sc->fields[f].type;

			if (t == GT_TYPE_I32 || t == GT_TYPE_I64) {
				x->min.i = y->min.i < x->min.i ? y->min.i : x->min.i;
				x->max.i = y->max.i > x->max.i ? y->max.i : x->max.i;
			} else if (t == GT_TYPE_F64) {
				x->min.f = y->min.f < x->min.f ? y->min.f : x->min.f;
				x->max.f = y->max.f > x->max.f ? y->max.f : x->max.f;
			} else {
				x->min.u = y->min.u < x->min.u ? y->min.u : x->min.u;
				x->max.u = y->max.u > x->max.u ? y->max.u : x->max.u;
			}
			x->isum += y->isum;
			x->usum += y->usum;
			x->fsum += y->fsum;
			x->n += y->n;
		}
	}
}

static bool gt_numeric(uint8_t t)
{
	return t != GT_TYPE_STR && t != GT_TYPE_BYTES;
}

static double gt_sfield_mean(const struct gt_sfield *a, uint8_t t)
{
	if (!a->n)
		return 0.0;
	if (t == GT_TYPE_I32 || t == GT_TYPE_I64)
		return (double)a->isum / (double)a->n;
	if (t == GT_TYPE_F64)
		return a->fsum / (double)a->n;
	return (double)a->usum / (double)a->n;
}

/* Events/s between the first and the last event; 0 when that span is empty. */
static double gt_rate(const struct gt_sstat *s)
{
	if (s->count < 2 || s->last_ns <= s->first_ns)
		return 0.0;
	return (double)(s->count - 1) * 1e9 / (double)(s->last_ns - s->first_ns);
}

/* Print @s with control bytes escaped (names come from the file). */
static void gt_put_clean(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static void gt_print_val(const struct gt_sfield *a, uint8_t t, bool max)
{
	if (t == GT_TYPE_I32 || t == GT_TYPE_I64)
		printf("%" PRId64, max ? a->max.i : a->min.i);
	else if (t == GT_TYPE_F64)
		printf("%.17g", max ? a->max.f : a->min.f);
	else
		printf("%" PRIu64, max ? a->max.u : a->min.u);
}

/* Rows in output order: count desc, then provider, name, id. */
static const struct gt_reader *gt_sort_r;
static const struct gt_sstat *gt_sort_tab;

static int gt_cmp_rows(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const struct gt_schema *sx = gt_reader_schema_at(gt_sort_r, x);
	const struct gt_schema *sy = gt_reader_schema_at(gt_sort_r, y);
	int c;

	if (gt_sort_tab[x].count != gt_sort_tab[y].count)
		return gt_sort_tab[x].count > gt_sort_tab[y].count ? -1 : 1;
	c = strcmp(sx->provider, sy->provider);
	if (!c)
		c = strcmp(sx->name, sy->name);
	return c ? c : (sx->id < sy->id ? -1 : sx->id > sy->id);
}

static void gt_stats_text(const struct gt_reader *r, const char *path, const struct gt_sstat *tab,
			  const size_t *order, size_t n, uint64_t total, unsigned int nthreads)
{
	const struct gt_summary *s = gt_reader_summary(r);

	printf("file:         ");
	gt_put_clean(path);
	printf("\ncomplete:     %s\n", s->complete ? "yes" : "no (recovered)");
	printf("events:       %" PRIu64 " decoded (%u thread%s), %zu event type%s\n", total,
	       nthreads, nthreads == 1 ? "" : "s", n, n == 1 ? "" : "s");
	printf("time:         first %.6f s, last %.6f s, duration %.6f s\n",
	       (double)s->first_ts_ns / 1e9, (double)s->last_ts_ns / 1e9,
	       (double)s->duration_ns / 1e9);
	printf("lost:         %" PRIu64 "\n", s->lost_total);
	printf("corrupt:      %" PRIu64 "\n", s->corrupt_total);
	if (!n)
		return;
	printf("\n%12s %7s %14s %14s %14s  %s\n", "count", "share", "first s", "last s", "rate/s",
	       "provider/event");
	for (size_t k = 0; k < n; k++) {
		size_t i = order[k];
		const struct gt_schema *sc = gt_reader_schema_at(r, i);
		const struct gt_sstat *t = &tab[i];

		printf("%12" PRIu64 " %6.2f%% %14.6f %14.6f %14.1f  ", t->count,
		       total ? 100.0 * (double)t->count / (double)total : 0.0,
		       t->count ? (double)t->first_ns / 1e9 : 0.0, (double)t->last_ns / 1e9,
		       gt_rate(t));
		gt_put_clean(sc->provider);
		putchar('/');
		gt_put_clean(sc->name);
		if (sc->kind != GT_KIND_EVENT)
			printf(" (%s)", gt_kind_name(sc->kind));
		putchar('\n');
		for (uint32_t f = 0; f < sc->nfields && f < GT_FIELDS_MAX; f++) {
			uint8_t ty = sc->fields[f].type;

			if (!gt_numeric(ty) || !t->f[f].n)
				continue;
			printf("%12s %7s   ", "", gt_type_name(ty));
			gt_put_clean(sc->fields[f].name);
			printf(": min ");
			gt_print_val(&t->f[f], ty, false);
			printf(", max ");
			gt_print_val(&t->f[f], ty, true);
			printf(", mean %.10g\n", gt_sfield_mean(&t->f[f], ty));
		}
	}
}

static json_t *gt_jcount(uint64_t v)
{
	return v > INT64_MAX ? json_real((double)v) : json_integer((json_int_t)v);
}

static json_t *gt_jval(const struct gt_sfield *a, uint8_t t, bool max)
{
	if (t == GT_TYPE_I32 || t == GT_TYPE_I64)
		return json_integer(max ? a->max.i : a->min.i);
	if (t == GT_TYPE_F64)
		return json_real(max ? a->max.f : a->min.f);
	return gt_jcount(max ? a->max.u : a->min.u);
}

static json_t *gt_stats_json(const struct gt_reader *r, const char *path,
			     const struct gt_sstat *tab, const size_t *order, size_t n,
			     uint64_t total, unsigned int nthreads)
{
	const struct gt_summary *s = gt_reader_summary(r);
	json_t *o = json_object(), *a = json_array();

	if (!o || !a) {
		json_decref(o);
		json_decref(a);
		return NULL;
	}
	json_object_set_new(o, "path", gt_jstr(path));
	json_object_set_new(o, "complete", json_boolean(s->complete));
	json_object_set_new(o, "events", gt_jcount(total));
	json_object_set_new(o, "threads", json_integer(nthreads));
	json_object_set_new(o, "first_ts_ns", gt_jcount(s->first_ts_ns));
	json_object_set_new(o, "last_ts_ns", gt_jcount(s->last_ts_ns));
	json_object_set_new(o, "duration_ns", gt_jcount(s->duration_ns));
	json_object_set_new(o, "lost", gt_jcount(s->lost_total));
	json_object_set_new(o, "corrupt", gt_jcount(s->corrupt_total));
	for (size_t k = 0; k < n; k++) {
		size_t i = order[k];
		const struct gt_schema *sc = gt_reader_schema_at(r, i);
		const struct gt_sstat *t = &tab[i];
		json_t *x = json_object(), *fa = json_array();

		json_object_set_new(x, "id", json_integer(sc->id));
		json_object_set_new(x, "provider", gt_jstr(sc->provider));
		json_object_set_new(x, "event", gt_jstr(sc->name));
		json_object_set_new(x, "kind", json_string(gt_kind_name(sc->kind)));
		json_object_set_new(x, "level", json_integer(sc->level));
		json_object_set_new(x, "count", gt_jcount(t->count));
		json_object_set_new(x, "share",
				    json_real(total ? (double)t->count / (double)total : 0.0));
		json_object_set_new(x, "first_ts_ns", gt_jcount(t->count ? t->first_ns : 0));
		json_object_set_new(x, "last_ts_ns", gt_jcount(t->last_ns));
		json_object_set_new(x, "rate_per_s", json_real(gt_rate(t)));
		for (uint32_t f = 0; f < sc->nfields && f < GT_FIELDS_MAX; f++) {
			uint8_t ty = sc->fields[f].type;
			json_t *y = json_object();

			json_object_set_new(y, "name", gt_jstr(sc->fields[f].name));
			json_object_set_new(y, "type", json_string(gt_type_name(ty)));
			if (gt_numeric(ty) && t->f[f].n) {
				json_object_set_new(y, "min", gt_jval(&t->f[f], ty, false));
				json_object_set_new(y, "max", gt_jval(&t->f[f], ty, true));
				json_object_set_new(y, "mean",
						    json_real(gt_sfield_mean(&t->f[f], ty)));
			}
			json_array_append_new(fa, y);
		}
		json_object_set_new(x, "fields", fa);
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "schemas", a);
	return o;
}

static void gt_stats_error(const char *msg, int ret)
{
	/* damage inside a gtrace file can be repaired; a foreign file cannot */
	if ((ret == -GT_ECORRUPT || ret == -GT_ECOMPRESS) && !strstr(msg, "not a gtrace file"))
		fprintf(stderr, "gtrace stats: %s; run 'gtrace repair' or re-record\n", msg);
	else
		fprintf(stderr, "gtrace stats: %s\n", msg);
}

/* Cut the chunk index into at most @nthreads ranges with about as many events each. */
static unsigned int gt_stats_plan(const struct gt_reader *r, unsigned int nthreads,
				  struct gt_stats_part *parts)
{
	const struct gt_summary *s = gt_reader_summary(r);
	uint64_t acc = 0;
	unsigned int n = 0;

	parts[0].first = 0;
	parts[0].count = 0;
	for (size_t i = 0; i < s->nchunks; i++) {
		const struct gt_chunk_info *c = gt_reader_chunk_at(r, i);

		parts[n].count++;
		acc += c ? c->nevents : 0;
		if (n + 1 < nthreads && i + 1 < s->nchunks &&
		    acc * nthreads >= (uint64_t)(n + 1) * s->nevents) {
			n++;
			parts[n].first = i + 1;
			parts[n].count = 0;
		}
	}
	return n + 1;
}

int cmd_stats(int argc, char **argv)
{
	struct gt_stats_part parts[GT_STATS_THREADS_MAX];
	const char *path = NULL;
	struct gt_reader *r = NULL;
	struct gt_sstat *tab = NULL;
	uint32_t *ids = NULL;
	size_t *order = NULL, nsch = 0;
	unsigned int nthreads = 0, nparts = 0, started = 0;
	uint64_t total = 0;
	bool json = false;
	char err[600];
	int ret, rc = 2;

	memset(parts, 0, sizeof(parts));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(GT_STATS_USAGE, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 10);

			if (*end || !v || v > GT_STATS_THREADS_MAX) {
				fprintf(stderr, "gtrace stats: --threads '%s': want 1 to %d\n",
					argv[i], GT_STATS_THREADS_MAX);
				return 2;
			}
			nthreads = (unsigned int)v;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "gtrace stats: unknown option '%s'\n%s", argv[i],
				GT_STATS_USAGE);
			return 2;
		} else if (!path) {
			path = argv[i];
		} else {
			fprintf(stderr, "gtrace stats: one FILE only ('%s' is extra)\n%s", argv[i],
				GT_STATS_USAGE);
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "gtrace stats: missing FILE\n%s", GT_STATS_USAGE);
		return 2;
	}
	if (!nthreads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		nthreads = n < 1 ? 1 : n > GT_STATS_THREADS_MAX ? GT_STATS_THREADS_MAX
								 : (unsigned int)n;
	}

	ret = gt_reader_open_ex(path, 0, &r, err, sizeof(err));
	if (ret < 0) {
		gt_stats_error(err, ret);
		goto out;
	}
	nsch = gt_reader_schema_count(r);
	ids = malloc((nsch ? nsch : 1) * sizeof(*ids));
	order = malloc((nsch ? nsch : 1) * sizeof(*order));
	tab = malloc((nsch ? nsch : 1) * sizeof(*tab) * (nthreads + 1));
	if (!ids || !order || !tab) {
		fprintf(stderr, "gtrace stats: '%s': out of memory\n", path);
		goto out;
	}
	for (size_t i = 0; i < nsch; i++)
		ids[i] = gt_reader_schema_at(r, i)->id; /* id order */
	for (unsigned int k = 0; k <= nthreads; k++)
		gt_sstat_init(tab + nsch * k, r);
	nparts = gt_stats_plan(r, nthreads, parts);
	for (unsigned int k = 0; k < nparts; k++) {
		parts[k].path = path;
		parts[k].ids = ids;
		parts[k].nids = nsch;
		parts[k].tab = tab + nsch * (k + 1);
	}
	/*
	 * Parts 1.. on threads of their own, each opening the file again; part
	 * 0 here, with the reader already open.  A thread that cannot be
	 * started has its part done here too.
	 */
	parts[0].r = r;
	for (started = 1; started < nparts; started++)
		if (pthread_create(&parts[started].th, NULL, gt_stats_part_main, &parts[started]))
			break;
	for (unsigned int k = started; k < nparts; k++)
		gt_stats_part_main(&parts[k]);
	gt_stats_part_main(&parts[0]);
	for (unsigned int k = 1; k < started; k++)
		pthread_join(parts[k].th, NULL);
	for (unsigned int k = 0; k < nparts; k++) {
		if (parts[k].ret < 0) {
			gt_stats_error(parts[k].err[0] ? parts[k].err : gt_strerror(parts[k].ret),
				       parts[k].ret);
			goto out;
		}
		total += parts[k].events;
		gt_sstat_merge(tab, parts[k].tab, nsch, r);
	}
	if (total != gt_reader_summary(r)->nevents) {
		fprintf(stderr,
			"gtrace stats: '%s': decoded %" PRIu64 " events, the index says %" PRIu64
			" (file damaged or changed while read); run 'gtrace repair' or re-record\n",
			path, total, gt_reader_summary(r)->nevents);
		goto out;
	}
	for (size_t i = 0; i < nsch; i++)
		order[i] = i;
	gt_sort_r = r;
	gt_sort_tab = tab;
	if (nsch > 1)
		qsort(order, nsch, sizeof(*order), gt_cmp_rows);
	if (json) {
		json_t *o = gt_stats_json(r, path, tab, order, nsch, total, nparts);

		if (!o || json_dumpf(o, stdout, JSON_INDENT(2)) < 0) {
			json_decref(o);
			fprintf(stderr, "gtrace stats: '%s': cannot write JSON\n", path);
			goto out;
		}
		json_decref(o);
		putchar('\n');
	} else {
		gt_stats_text(r, path, tab, order, nsch, total, nparts);
	}
	gt_warn_recovered("stats", r, path);
	rc = 0;
out:
	if (fflush(stdout) != 0 && !rc) {
		fprintf(stderr, "gtrace stats: write error: %s\n", strerror(errno));
		rc = 2;
	}
	free(tab);
	free(order);
	free(ids);
	gt_reader_close(r);
	return rc;
}
