/* SPDX-License-Identifier: MIT */
/*
 * bench_scan.c - how fast a whole .gtrace file can be read back, every
 * event with every field, through the public reader API.
 *
 * A scan splits the file's chunk index into T ranges of consecutive chunks
 * with about as many events each (from the index, so nothing is decoded to
 * plan it); each thread opens its own reader and iterates its range with
 * gt_iter_new_chunks(), touching every value.  The ranges do not overlap,
 * so no chunk is decoded twice and the event counts must add up to the
 * file's total; a scan that sees a different number of events fails (exit
 * 1).  The best of R runs and the median are printed, plus bytes/event on
 * disk.
 *
 * `-g OUT -n N` instead writes a synthetic file of N events of the
 * bench_emit payload (i64 counter, i32, 16-character string) through the
 * format writer, for when no real trace of the wanted size is at hand.
 *
 * usage: bench_scan [-t THREADS] [-r RUNS] FILE
 *        bench_scan -g OUT [-n EVENTS]
 * output: "bench_scan file=F events=N bytes=B bytes_per_event=X threads=T
 *          runs=R best_meps=... median_meps=... checksum=..."
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gtrace/reader.h>

#include "gt_writer.h"

#define BENCH_THREADS_MAX 16
#define BENCH_RUNS_MAX 21

struct scan_part {
	pthread_t th;
	const char *path;
	size_t first; /* chunk range [first, first + count) */
	size_t count;
	uint64_t events; /* out */
	uint64_t sum;    /* out: depends on every value, so nothing is skipped */
	int ret;         /* out */
	char err[256];   /* out */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t touch_values(const struct gt_event *ev)
{
	uint64_t sum = ev->ts_ns ^ ((uint64_t)ev->tid << 32) ^ ev->schema->id;

	for (uint32_t i = 0; i < ev->nfields; i++) {
		const struct gt_value *v = &ev->values[i];

		switch (v->type) {
		case GT_TYPE_STR:
		case GT_TYPE_BYTES:
			sum += v->len;
			if (v->len)
				sum += (uint8_t)v->str[v->len - 1];
			break;
		case GT_TYPE_BOOL:
			sum += v->b;
			break;
		default:
			sum += v->u64; /* i32/u32/i64/u64/f64 bits */
			break;
		}
	}
	return sum;
}

static void *scan_part_main(void *arg)
{
	struct scan_part *p = arg;
	const struct gt_event *ev;
	struct gt_reader *r = NULL;
	struct gt_iter *it = NULL;
	int ret;

	ret = gt_reader_open_ex(p->path, 0, &r, p->err, sizeof(p->err));
	if (ret < 0)
		goto out;
	ret = gt_iter_new_chunks(r, NULL, p->first, p->count, &it);
	if (ret < 0)
		goto out;
	while ((ret = gt_iter_next(it, &ev)) > 0) {
		p->events++;
		p->sum += touch_values(ev);
	}
	if (ret < 0)
		snprintf(p->err, sizeof(p->err), "%s", gt_reader_errmsg(r));
out:
	gt_iter_free(it);
	gt_reader_close(r);
	p->ret = ret;
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Split the chunk index into ranges of consecutive chunks with ~nevents/T events each. */
static unsigned int plan_parts(const struct gt_reader *r, const char *path, unsigned int nthreads,
			       struct scan_part *parts)
{
	const struct gt_summary *s = gt_reader_summary(r);
	uint64_t acc = 0;
	unsigned int n = 0;

	memset(parts, 0, sizeof(*parts) * nthreads);
	for (size_t i = 0; i < s->nchunks; i++) {
		const struct gt_chunk_info *c = gt_reader_chunk_at(r, i);

		parts[n].count++;
		acc += c ? c->nevents : 0;
		/* close part n once it holds its share of the events */
		if (n + 1 < nthreads && acc * nthreads >= (uint64_t)(n + 1) * s->nevents &&
		    i + 1 < s->nchunks) {
			parts[++n].first = i + 1;
		}
	}
	n++;
	for (unsigned int k = 0; k < n; k++)
		parts[k].path = path;
	return n;
}

static int scan(const char *path, unsigned int nthreads, unsigned int runs)
{
	struct scan_part parts[BENCH_THREADS_MAX];
	uint64_t rates[BENCH_RUNS_MAX], total = 0, sum = 0, nevents, size;
	struct gt_reader *r;
	unsigned int nparts;
	char err[256];
	int ret;

	ret = gt_reader_open_ex(path, 0, &r, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "bench_scan: %s\n", err);
		return 1;
	}
	nevents = gt_reader_summary(r)->nevents;
	size = gt_reader_summary(r)->file_size;
	for (unsigned int run = 0; run < runs; run++) {
		uint64_t t0, dt;

		nparts = plan_parts(r, path, nthreads, parts);
		t0 = now_ns();
		for (unsigned int k = 0; k < nparts; k++) {
			if (pthread_create(&parts[k].th, NULL, scan_part_main, &parts[k])) {
				fprintf(stderr, "bench_scan: pthread_create failed\n");
				exit(2);
			}
		}
		total = 0;
		sum = 0;
		for (unsigned int k = 0; k < nparts; k++) {
			pthread_join(parts[k].th, NULL);
			if (parts[k].ret < 0) {
				fprintf(stderr, "bench_scan: '%s': %s (%s)\n", path, parts[k].err,
					gt_strerror(parts[k].ret));
				gt_reader_close(r);
				return 1;
			}
			total += parts[k].events;
			sum += parts[k].sum;
		}
		dt = now_ns() - t0;
		rates[run] = dt ? total * 1000000000u / dt : 0;
		if (total != nevents) {
			fprintf(stderr, "bench_scan: '%s': scanned %" PRIu64 " events, ", path,
				total);
			fprintf(stderr, "the index says %" PRIu64 "\n", nevents);
			gt_reader_close(r);
			return 1;
		}
	}
	gt_reader_close(r);
	qsort(rates, runs, sizeof(rates[0]), cmp_u64);
	printf("bench_scan file=%s events=%" PRIu64 " bytes=%" PRIu64 " bytes_per_event=%.3f "
	       "threads=%u runs=%u best_meps=%.1f median_meps=%.1f checksum=%016" PRIx64 "\n",
	       path, nevents, size, nevents ? (double)size / (double)nevents : 0.0, nparts, runs,
	       rates[runs - 1] / 1e6, rates[runs / 2] / 1e6, sum);
	return 0;
}

/* A synthetic file of @n bench_emit-like events: one thread, ~30 ticks apart. */
static int generate(const char *path, uint64_t n)
{
	static const struct gt_field_desc fields[] = {
		{ GT_TYPE_I64, "counter" }, { GT_TYPE_I32, "n" }, { GT_TYPE_STR, "s" },
	};
	struct gt_schema_desc schema = {
		.id = 1, .kind = GT_KIND_EVENT, .level = 4, .keywords = 1,
		.provider = "Bench.Emit", .name = "Sample", .file = "bench_scan.c",
		.line = __LINE__, .nfields = 3, .fields = fields,
	};
	struct gt_writer_opts opts = { .clock = GT_CLOCK_MONO };
	struct gt_clock_sample cs;
	uint8_t payload[8 + 4 + 4 + 16];
	struct gt_writer *w;
	struct timespec mono, real;
	uint64_t ts;
	uint32_t len = 16;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	cs.ticks = cs.mono_ns = (uint64_t)mono.tv_sec * 1000000000u + (uint64_t)mono.tv_nsec;
	cs.realtime_ns = (uint64_t)real.tv_sec * 1000000000u + (uint64_t)real.tv_nsec;
	ret = gt_writer_open(path, &opts, &cs, &w);
	if (ret < 0) {
		fprintf(stderr, "bench_scan: cannot create '%s': %s\n", path, gt_strerror(ret));
		return 1;
	}
	ret = gt_writer_set_meta(w, "op", "bench_scan_synthetic");
	if (ret >= 0)
		ret = gt_writer_add_schema(w, &schema);
	memcpy(payload + 16, "bench-string-00a", 16);
	ts = cs.ticks;
	for (uint64_t i = 0; ret >= 0 && i < n; i++) {
		int64_t counter = (int64_t)i;
		int32_t v = (int32_t)(i & 0xffff);

		memcpy(payload, &counter, 8);
		memcpy(payload + 8, &v, 4);
		memcpy(payload + 12, &len, 4);
		payload[31] = (uint8_t)('a' + (i & 15));
		/* ~25-35 ticks apart (about 12 ns at 2.5 GHz), with a little jitter */
		ts += 25 + (i * 7919 % 11);
		ret = gt_writer_add_event(w, ts, 1000, 1000, 1, payload, sizeof(payload));
		if (ret >= 0 && (i & 0xfffff) == 0xfffff) {
			cs.ticks = cs.mono_ns = ts;
			cs.realtime_ns += 1000000;
			ret = gt_writer_clock(w, &cs);
		}
	}
	if (ret < 0) {
		fprintf(stderr, "bench_scan: writing '%s': %s\n", path, gt_strerror(ret));
		gt_writer_close(w);
		return 1;
	}
	ret = gt_writer_close(w);
	if (ret < 0) {
		fprintf(stderr, "bench_scan: closing '%s': %s\n", path, gt_strerror(ret));
		return 1;
	}
	printf("bench_scan: wrote %" PRIu64 " events to %s\n", n, path);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long threads = 2, runs = 3;
	unsigned long long n = 10000000;
	const char *gen = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "t:r:g:n:")) != -1) {
		switch (opt) {
		case 't':
			threads = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			runs = strtoul(optarg, NULL, 10);
			break;
		case 'g':
			gen = optarg;
			break;
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (gen)
		return optind == argc && n > 0 ? generate(gen, n) : 2;
	if (optind + 1 != argc || threads < 1 || threads > BENCH_THREADS_MAX || runs < 1 ||
	    runs > BENCH_RUNS_MAX)
		goto usage;
	return scan(argv[optind], (unsigned int)threads, (unsigned int)runs);
usage:
	fprintf(stderr, "usage: bench_scan [-t THREADS] [-r RUNS] FILE\n"
			"       bench_scan -g OUT [-n EVENTS]\n");
	return 2;
}
