/* SPDX-License-Identifier: MIT */
/*
 * cmd_info.c - `gtrace info FILE... [--json]`: what a trace file holds, from
 * its footer alone.
 *
 * Everything shown comes from the reader's index (footer, or the index
 * rebuilt from the blocks of a truncated file) plus one checksum pass over
 * the chunks (hashing only, skipped with --no-verify); no chunk is
 * decompressed, so a damaged chunk is reported without decoding events.
 * Each file that cannot be read gets one line on stderr naming it and the
 * fault; the others are still shown.  Exit 0, or 2 when any file failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <gtrace/reader.h>

#include "commands.h"
#include "read_report.h"

#define GT_INFO_USAGE                                                                        \
	"usage: gtrace info FILE... [--json] [--no-verify]\n"                                \
	"  shows op, command, exit status, start, duration, event counts per provider and\n" \
	"  event, lost and corrupt records, size and whether the file is complete.\n"        \
	"  --json        one JSON object per file (an array when several files)\n"           \
	"  --no-verify   read the footer only; skip the chunk checksum pass\n"               \
	"exit: 0 ok, 2 if any file could not be read\n"

struct gt_count {
	const char *provider;
	const char *name; /* NULL for a provider total */
	uint64_t n;
};

static int gt_cmp_count(const void *a, const void *b)
{
	const struct gt_count *x = a, *y = b;
	int c;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	c = strcmp(x->provider, y->provider);
	if (c || !x->name)
		return c;
	return strcmp(x->name, y->name);
}

/* Per-provider and per-event counts, each sorted by count desc then name. */
static int gt_counts(const struct gt_reader *r, struct gt_count **prov, size_t *nprov,
		     struct gt_count **ev, size_t *nev)
{
	size_t n = gt_reader_schema_count(r), np = 0, ne = 0;
	struct gt_count *p = calloc(n ? n : 1, sizeof(*p));
	struct gt_count *e = calloc(n ? n : 1, sizeof(*e));

	if (!p || !e) {
		free(p);
		free(e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct gt_schema *s = gt_reader_schema_at(r, i);
		size_t k;

		/* span begin/end and several call sites may share a name: merge them */
		for (k = 0; k < ne; k++)
			if (!strcmp(e[k].provider, s->provider) && !strcmp(e[k].name, s->name))
				break;
		if (k == ne)
			e[ne++] = (struct gt_count){ s->provider, s->name, 0 };
		e[k].n += s->nevents;
		for (k = 0; k < np; k++)
			if (!strcmp(p[k].provider, s->provider))
				break;
		if (k == np)
			p[np++] = (struct gt_count){ s->provider, NULL, 0 };
		p[k].n += s->nevents;
	}
	if (np > 1)
		qsort(p, np, sizeof(*p), gt_cmp_count);
	if (ne > 1)
		qsort(e, ne, sizeof(*e), gt_cmp_count);
	*prov = p;
	*nprov = np;
	*ev = e;
	*nev = ne;
	return 0;
}

static void gt_iso_time(uint64_t realtime_ns, char *buf, size_t cap)
{
	time_t t = (time_t)(realtime_ns / 1000000000u);
	struct tm tm;
	char z[8];
	size_t n;

	if (!localtime_r(&t, &tm)) {
		snprintf(buf, cap, "?");
		return;
	}
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(z, sizeof(z), "%z", &tm); /* +hhmm */
	snprintf(buf + n, cap - n, ".%03u%.3s:%.2s", (unsigned)(realtime_ns / 1000000u % 1000u), z,
		 z + 3);
}

/* "0", "signal 9", "timed out", "unknown" */
static void gt_exit_text(const struct gt_reader *r, char *buf, size_t cap)
{
	const char *st = gt_reader_meta(r, "exit_status");
	const char *sig = gt_reader_meta(r, "exit_signal");
	const char *to = gt_reader_meta(r, "timed_out");

	if (to && !strcmp(to, "1"))
		snprintf(buf, cap, "timed out");
	else if (sig && *sig)
		snprintf(buf, cap, "signal %.32s", sig);
	else if (st && *st)
		snprintf(buf, cap, "%.32s", st);
	else
		snprintf(buf, cap, "unknown");
}

static void gt_complete_text(const struct gt_summary *s, char *buf, size_t cap)
{
	if (s->complete)
		snprintf(buf, cap, "yes");
	else
		snprintf(buf, cap, "no (recovered %" PRIu64 " chunks; %s)", s->nchunks,
			 s->recover_note);
}

/* Untrusted text on one line: control bytes escaped. */
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

#define GT_INFO_DEPTH_MAX 64 /* indentation levels of the process tree */

/*
 * The meta key `processes` (collector/ktrace.c): a JSON array of objects
 * with at least an integer "pid".  Untrusted: anything else is ignored.
 * Return: a new reference, or NULL when absent or malformed.
 */
static json_t *gt_info_procs(const struct gt_reader *r)
{
	const char *v = gt_reader_meta(r, "processes");
	json_t *a, *x;
	size_t i;

	if (!v)
		return NULL;
	a = json_loads(v, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(a)) {
		json_decref(a);
		return NULL;
	}
	json_array_foreach(a, i, x) {
		if (!json_is_object(x) || !json_is_integer(json_object_get(x, "pid"))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_int_t gt_jint(const json_t *o, const char *key, json_int_t dflt)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static const char *gt_jtext(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Depth of process @i in the tree: steps up through parents that are listed. */
static int gt_proc_depth(const json_t *a, size_t i)
{
	json_int_t ppid = gt_jint(json_array_get(a, i), "ppid", -1);
	int depth = 0;

	while (depth < GT_INFO_DEPTH_MAX) {
		size_t j, n = json_array_size(a);

		for (j = 0; j < n; j++)
			if (gt_jint(json_array_get(a, j), "pid", -2) == ppid)
				break;
		if (j == n || j == i)
			break;
		depth++;
		ppid = gt_jint(json_array_get(a, j), "ppid", -1);
	}
	return depth;
}

/* "processes:" (kernel events: every process of the traced tree) and kernel losses. */
static void gt_info_text_kernel(const struct gt_reader *r)
{
	const char *lost = gt_reader_meta(r, "kernel_lost");
	json_t *a = gt_info_procs(r), *x;
	size_t i;

	if (lost) {
		printf("kernel lost:  ");
		gt_put_clean(lost);
		putchar('\n');
	}
	if (!a)
		return;
	printf("processes:    %zu\n", json_array_size(a));
	json_array_foreach(a, i, x) {
		const char *comm = gt_jtext(x, "comm"), *exe = gt_jtext(x, "exec");
		const json_t *exited = json_object_get(x, "exited");

		printf("  %*s%" JSON_INTEGER_FORMAT " ", 2 * gt_proc_depth(a, i), "",
		       gt_jint(x, "pid", 0));
		gt_put_clean(comm && *comm ? comm : "?");
		printf(" (ppid %" JSON_INTEGER_FORMAT ")", gt_jint(x, "ppid", 0));
		if (exe) {
			printf(" exec ");
			gt_put_clean(exe);
		}
		if (json_is_integer(json_object_get(x, "signal")) && gt_jint(x, "signal", 0))
			printf(" killed by signal %" JSON_INTEGER_FORMAT, gt_jint(x, "signal", 0));
		else if (json_is_integer(json_object_get(x, "status")))
			printf(" exit %" JSON_INTEGER_FORMAT, gt_jint(x, "status", 0));
		else if (json_is_true(exited))
			printf(" exited");
		else
			printf(" running");
		putchar('\n');
	}
	json_decref(a);
}

/*
 * A snapshot of a memory-mode session (flight recorder): how big the window
 * was and from when the file holds events (docs/format.md, meta window_*).
 */
static void gt_info_window(const struct gt_reader *r, const struct gt_summary *s)
{
	const char *mode = gt_reader_meta(r, "mode");
	const char *v;
	unsigned long long bytes = 0, chunks = 0, events = 0, start = 0;
	char when[64];

	if (!mode || strcmp(mode, "memory"))
		return;
	if ((v = gt_reader_meta(r, "window_bytes")))
		bytes = strtoull(v, NULL, 10);
	if ((v = gt_reader_meta(r, "window_evicted_chunks")))
		chunks = strtoull(v, NULL, 10);
	if ((v = gt_reader_meta(r, "window_evicted_events")))
		events = strtoull(v, NULL, 10);
	if ((v = gt_reader_meta(r, "window_start_ns")))
		start = strtoull(v, NULL, 10);
	printf("window:       last %.1f MiB of a memory session, ", (double)bytes / 1048576.0);
	if (!chunks) {
		printf("nothing dropped\n");
		return;
	}
	gt_iso_time(s->start.realtime_ns + start, when, sizeof(when));
	printf("%llu chunks (%llu events) dropped before %llu.%09llu s (%s)\n", chunks, events,
	       start / 1000000000ull, start % 1000000000ull, when);
}

static int gt_info_text(const struct gt_reader *r, const char *path, bool first)
{
	const struct gt_summary *s = gt_reader_summary(r);
	struct gt_count *p, *e;
	size_t np, ne;
	char buf[512];
	const char *v;

	if (gt_counts(r, &p, &np, &e, &ne) < 0)
		return -ENOMEM;
	if (!first)
		putchar('\n');
	printf("file:         %s\n", path);
	v = gt_reader_meta(r, "op");
	printf("op:           ");
	gt_put_clean(v ? v : "?");
	printf("\ncommand:      ");
	v = gt_reader_meta(r, "command");
	gt_put_clean(v ? v : "?");
	gt_exit_text(r, buf, sizeof(buf));
	printf("\nexit:         ");
	gt_put_clean(buf);
	gt_iso_time(s->start.realtime_ns, buf, sizeof(buf));
	printf("\nstart:        %s\n", buf);
	printf("duration:     %" PRIu64 ".%09" PRIu64 " s\n", s->duration_ns / 1000000000u,
	       s->duration_ns % 1000000000u);
	gt_info_window(r, s);
	printf("events:       %" PRIu64 "\n", s->nevents);
	if (np) {
		printf("by provider:\n");
		for (size_t i = 0; i < np; i++) {
			printf("  %12" PRIu64 "  ", p[i].n);
			gt_put_clean(p[i].provider);
			putchar('\n');
		}
		printf("by event:\n");
		for (size_t i = 0; i < ne; i++) {
			printf("  %12" PRIu64 "  ", e[i].n);
			gt_put_clean(e[i].provider);
			putchar('/');
			gt_put_clean(e[i].name);
			putchar('\n');
		}
	}
	printf("lost:         %" PRIu64 "\n", s->lost_total);
	for (size_t i = 0; i < gt_reader_lost_count(r); i++) {
		const struct gt_lost *l = gt_reader_lost_at(r, i);

		printf("  pid %u tid %u: %" PRIu64 "\n", l->pid, l->tid, l->count);
	}
	gt_info_text_kernel(r);
	printf("corrupt:      %" PRIu64 "\n", s->corrupt_total);
	for (size_t i = 0; i < gt_reader_corrupt_count(r); i++) {
		const struct gt_corrupt *c = gt_reader_corrupt_at(r, i);

		printf("  pid %u: %" PRIu64 "\n", c->pid, c->count);
	}
	printf("file size:    %" PRIu64 " bytes\n", s->file_size);
	if (s->nevents)
		printf("bytes/event:  %.2f\n", (double)s->file_size / (double)s->nevents);
	else
		printf("bytes/event:  -\n");
	printf("chunks:       %" PRIu64 "\n", s->nchunks);
	gt_complete_text(s, buf, sizeof(buf));
	printf("complete:     %s\n", buf);
	free(p);
	free(e);
	return 0;
}

/* JSON has no unsigned 64-bit integer in jansson; counts above INT64_MAX are clamped. */
static json_t *gt_jcount(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *gt_info_json(const struct gt_reader *r, const char *path)
{
	const struct gt_summary *s = gt_reader_summary(r);
	json_t *o = json_object(), *a, *m;
	struct gt_count *p, *e;
	size_t np, ne;
	char buf[512];
	const char *v;

	if (!o || gt_counts(r, &p, &np, &e, &ne) < 0) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "path", gt_jstr(path));
	v = gt_reader_meta(r, "op");
	json_object_set_new(o, "op", v ? gt_jstr(v) : json_null());
	v = gt_reader_meta(r, "command");
	json_object_set_new(o, "command", v ? gt_jstr(v) : json_null());
	v = gt_reader_meta(r, "exit_status");
	json_object_set_new(o, "exit_status",
			    v && *v ? json_integer(strtoll(v, NULL, 10)) : json_null());
	v = gt_reader_meta(r, "exit_signal");
	json_object_set_new(o, "exit_signal",
			    v && *v ? json_integer(strtoll(v, NULL, 10)) : json_null());
	v = gt_reader_meta(r, "timed_out");
	json_object_set_new(o, "timed_out", json_boolean(v && !strcmp(v, "1")));
	gt_exit_text(r, buf, sizeof(buf));
	json_object_set_new(o, "exit", gt_jstr(buf));
	gt_iso_time(s->start.realtime_ns, buf, sizeof(buf));
	json_object_set_new(o, "start", gt_jstr(buf));
	json_object_set_new(o, "start_realtime_ns", gt_jcount(s->start.realtime_ns));
	json_object_set_new(o, "duration_ns", gt_jcount(s->duration_ns));
	json_object_set_new(o, "events", gt_jcount(s->nevents));
	a = json_array();
	for (size_t i = 0; i < np; i++) {
		json_t *x = json_object();

		json_object_set_new(x, "provider", gt_jstr(p[i].provider));
		json_object_set_new(x, "events", gt_jcount(p[i].n));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "providers", a);
	a = json_array();
	for (size_t i = 0; i < ne; i++) {
		json_t *x = json_object();

		json_object_set_new(x, "provider", gt_jstr(e[i].provider));
		json_object_set_new(x, "event", gt_jstr(e[i].name));
		json_object_set_new(x, "events", gt_jcount(e[i].n));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "event_counts", a);
	json_object_set_new(o, "lost", gt_jcount(s->lost_total));
	a = json_array();
	for (size_t i = 0; i < gt_reader_lost_count(r); i++) {
		const struct gt_lost *l = gt_reader_lost_at(r, i);
		json_t *x = json_object();

		json_object_set_new(x, "pid", json_integer(l->pid));
		json_object_set_new(x, "tid", json_integer(l->tid));
		json_object_set_new(x, "count", gt_jcount(l->count));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "lost_by_thread", a);
	a = gt_info_procs(r);
	json_object_set_new(o, "processes", a ? a : json_null());
	v = gt_reader_meta(r, "kernel_lost");
	if (v) {
		/* "cpu0=N,cpu1=M" -> {"0": N, "1": M}; malformed parts are skipped */
		json_t *kl = json_object();
		const char *q = v;

		while (kl && *q) {
			unsigned int cpu;
			unsigned long long n;
			int used = 0;

			if (sscanf(q, "cpu%u=%llu%n", &cpu, &n, &used) == 2 && used > 0) {
				snprintf(buf, sizeof(buf), "%u", cpu);
				json_object_set_new(kl, buf, gt_jcount(n));
				q += used;
			}
			q = strchr(q, ',');
			if (!q)
				break;
			q++;
		}
		json_object_set_new(o, "kernel_lost", kl ? kl : json_null());
	}
	json_object_set_new(o, "corrupt", gt_jcount(s->corrupt_total));
	a = json_array();
	for (size_t i = 0; i < gt_reader_corrupt_count(r); i++) {
		const struct gt_corrupt *c = gt_reader_corrupt_at(r, i);
		json_t *x = json_object();

		json_object_set_new(x, "pid", json_integer(c->pid));
		json_object_set_new(x, "count", gt_jcount(c->count));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "corrupt_by_pid", a);
	json_object_set_new(o, "file_size", gt_jcount(s->file_size));
	json_object_set_new(o, "bytes_per_event",
			    s->nevents ? json_real((double)s->file_size / (double)s->nevents)
				       : json_null());
	json_object_set_new(o, "chunks", gt_jcount(s->nchunks));
	json_object_set_new(o, "complete", json_boolean(s->complete));
	json_object_set_new(o, "recovered", json_boolean(s->recovered));
	json_object_set_new(o, "recover_note", gt_jstr(s->recover_note));
	snprintf(buf, sizeof(buf), "%u.%u", s->version_major, s->version_minor);
	json_object_set_new(o, "format_version", gt_jstr(buf));
	json_object_set_new(o, "clock", json_string(s->clock == GT_CLOCK_TSC ? "tsc" : "mono"));
	m = json_object();
	for (size_t i = 0; i < gt_reader_meta_count(r); i++) {
		const char *k, *val;

		if (gt_reader_meta_at(r, i, &k, &val) == 0)
			json_object_set_new(m, k, gt_jstr(val));
	}
	json_object_set_new(o, "meta", m);
	free(p);
	free(e);
	return o;
}

int cmd_info(int argc, char **argv)
{
	bool json = false, first = true, verify = true;
	json_t *all = NULL;
	int rc = 0, nfiles = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(GT_INFO_USAGE, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--no-verify"))
			verify = false;
		else if (!strncmp(argv[i], "--", 2) && argv[i][2]) {
			fprintf(stderr, "gtrace info: unknown option '%s'\n%s", argv[i],
				GT_INFO_USAGE);
			return 2;
		} else
			nfiles++;
	}
	if (!nfiles) {
		fprintf(stderr, "gtrace info: missing FILE\n%s", GT_INFO_USAGE);
		return 2;
	}
	if (json && nfiles > 1)
		all = json_array();
	for (int i = 1; i < argc; i++) {
		const char *path = argv[i];
		struct gt_reader *r;
		char err[600];
		int ret;

		if (!strcmp(path, "--json") || (!strncmp(path, "--", 2) && path[2]))
			continue;
		ret = gt_reader_open_ex(path, verify ? GT_READER_VERIFY : 0, &r, err, sizeof(err));
		if (ret < 0) {
			/* damage inside a gtrace file can be repaired; a foreign file cannot */
			if ((ret == -GT_ECORRUPT || ret == -GT_ECOMPRESS) &&
			    !strstr(err, "not a gtrace file"))
				fprintf(stderr,
					"gtrace info: %s; run 'gtrace repair' or re-record\n", err);
			else
				fprintf(stderr, "gtrace info: %s\n", err);
			rc = 2;
			if (all) {
				json_t *x = json_object();

				json_object_set_new(x, "path", gt_jstr(path));
				json_object_set_new(x, "error", gt_jstr(err));
				json_array_append_new(all, x);
			}
			continue;
		}
		if (json) {
			json_t *o = gt_info_json(r, path);

			if (!o) {
				fprintf(stderr, "gtrace info: '%s': out of memory\n", path);
				rc = 2;
			} else if (all) {
				json_array_append_new(all, o);
			} else {
				json_dumpf(o, stdout, JSON_INDENT(2));
				putchar('\n');
				json_decref(o);
			}
		} else if (gt_info_text(r, path, first) < 0) {
			fprintf(stderr, "gtrace info: '%s': out of memory\n", path);
			rc = 2;
		}
		first = false;
		gt_reader_close(r);
	}
	if (all) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(all);
	}
	if (fflush(stdout) != 0 && !rc) {
		fprintf(stderr, "gtrace info: write error: %s\n", strerror(errno));
		rc = 2;
	}
	return rc;
}
