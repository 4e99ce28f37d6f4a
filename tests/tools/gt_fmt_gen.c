/* SPDX-License-Identifier: MIT */
/*
 * gt_fmt_gen.c - writes synthetic .gtrace files through gt_writer, so that
 * tests of the reader and of `gtrace info`/`gtrace dump` need no collector.
 *
 * The content is deterministic; tests/cli/info and tests/cli/dump compute
 * the values they expect from the rules below (keep both in step):
 *
 *   clock mono: ticks are ns, start.ticks = 1000000000.
 *   clock tsc:  ticks = 5000000000 + 3 * ns (3 GHz), samples every 1000 events.
 *   schema 1 Test.Types/AllTypes (event, level 4, keywords 0x5): 4 events at
 *     ns 10, 20, 30, 40, pid 100 tid 100, with the edge values of gt_types[].
 *   schema 2 Test.Log/Message (log, level 3): "iteration %d of %s: %.2f%%"
 *     with (i / 1000, "phase", i * 100.0 / N) after every 1000th bench event.
 *   schema 3 Test.Bench/Tick (event, level 5, keywords 0x1): N events; event
 *     i at ns 1000 + 100 * i (minus 150 when i % 7 == 3, to exercise the
 *     sort), pid 100 + (i % T) / 2, tid 101 + i % T, fields counter = i,
 *     value = (i * 7) % 1000 - 500, name = gt_names[i % 8].
 *   schema 4/5 Test.Span/Step begin (ns 5) and end (ns 1000 + 100 * N),
 *     field name = "main", level 4.
 *   meta: op=gen, command="gt_fmt_gen test", cwd=/tmp, host=testhost,
 *     exit_status=0; lost: (100, 102) 7; corrupt: pid 100 3 (with T >= 2).
 *
 * usage: gt_fmt_gen OUT [--events N] [--threads T] [--chunk-bytes B]
 *        [--clock mono|tsc] [--level Z] [--unclosed] [--no-types]
 *        [--corrupt-chunk K] [--set-major M]
 * Prints "events N bytes B bytes_per_event X" on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gtrace/reader.h>

#include "gt_fmt.h"
#include "gt_writer.h"

#define GT_GEN_START 1000000000ull

static const char *const gt_names[8] = {
	"test_alloc_small", "test_alloc_large", "test_free_null__", "test_ring_wrap__",
	"test_span_nested", "test_log_format_", "test_clock_tsc__", "test_exit_status",
};

struct gt_pl {
	uint8_t b[70000];
	size_t n;
};

static void pl_u32(struct gt_pl *p, uint32_t v)
{
	memcpy(p->b + p->n, &v, 4);
	p->n += 4;
}

static void pl_u64(struct gt_pl *p, uint64_t v)
{
	memcpy(p->b + p->n, &v, 8);
	p->n += 8;
}

static void pl_f64(struct gt_pl *p, double v)
{
	memcpy(p->b + p->n, &v, 8);
	p->n += 8;
}

static void pl_u8(struct gt_pl *p, uint8_t v)
{
	p->b[p->n++] = v;
}

static void pl_str(struct gt_pl *p, const void *s, uint32_t n)
{
	pl_u32(p, n);
	memcpy(p->b + p->n, s, n);
	p->n += n;
}

static int gt_clock_kind = GT_CLOCK_MONO;

static uint64_t ticks_of(uint64_t ns)
{
	if (gt_clock_kind == GT_CLOCK_TSC)
		return 5000000000ull + 3 * ns;
	return GT_GEN_START + ns;
}

static void die(const char *what, int ret)
{
	fprintf(stderr, "gt_fmt_gen: %s: %s\n", what, gt_strerror(ret));
	exit(1);
}

static void sample(struct gt_writer *w, uint64_t ns)
{
	struct gt_clock_sample s = { ticks_of(ns), 7000000000ull + ns,
				     1764165600000000000ull + ns };
	int ret = gt_writer_clock(w, &s);

	if (ret < 0)
		die("clock", ret);
}

static int corrupt_chunk(const char *path, size_t k)
{
	char err[512];
	struct gt_reader *r;
	const struct gt_chunk_info *ci;
	uint64_t off;
	uint8_t b;
	int fd, ret = gt_reader_open_ex(path, 0, &r, err, sizeof(err));

	if (ret < 0) {
		fprintf(stderr, "gt_fmt_gen: %s\n", err);
		return 1;
	}
	ci = gt_reader_chunk_at(r, k);
	if (!ci) {
		fprintf(stderr, "gt_fmt_gen: no chunk %zu\n", k);
		gt_reader_close(r);
		return 1;
	}
	off = ci->offset + GT_BLK_HDR_SIZE + ci->size - 3; /* inside the zstd frame */
	gt_reader_close(r);
	ci = NULL;
	fd = open(path, O_RDWR);
	if (fd < 0 || pread(fd, &b, 1, (off_t)off) != 1)
		return 1;
	b ^= 0x5a;
	if (pwrite(fd, &b, 1, (off_t)off) != 1)
		return 1;
	close(fd);
	printf("corrupted chunk %zu: byte at offset %" PRIu64 "\n", k, off);
	return 0;
}

static int set_major(const char *path, unsigned int major)
{
	int fd = open(path, O_RDWR);
	uint8_t h[GT_FILE_HDR_SIZE];

	if (fd < 0 || pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return 1;
	gt_put16(h + 8, (uint16_t)major);
	gt_put64(h + 56, gt_file_hdr_check(h));
	if (pwrite(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return 1;
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t nevents = 1000;
	unsigned int threads = 2;
	struct gt_writer_opts opts = { .clock = GT_CLOCK_MONO };
	bool unclosed = false, types = true;
	long corrupt = -1, major = -1;
	struct gt_writer *w;
	struct gt_pl *p;
	const char *out;
	int ret;

	if (argc < 2) {
		fprintf(stderr,
			"usage: gt_fmt_gen OUT [--events N] [--threads T] [--chunk-bytes B] "
			"[--clock mono|tsc] [--level Z] [--unclosed] [--no-types] "
			"[--corrupt-chunk K] [--set-major M]\n");
		return 2;
	}
	out = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--unclosed")) {
			unclosed = true;
			continue;
		}
		if (!strcmp(a, "--no-types")) {
			types = false;
			continue;
		}
		if (!v) {
			fprintf(stderr, "gt_fmt_gen: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--events"))
			nevents = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--threads"))
			threads = (unsigned int)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--chunk-bytes"))
			opts.chunk_bytes = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--level"))
			opts.zstd_level = atoi(v);
		else if (!strcmp(a, "--clock"))
			opts.clock = !strcmp(v, "tsc") ? GT_CLOCK_TSC : GT_CLOCK_MONO;
		else if (!strcmp(a, "--corrupt-chunk"))
			corrupt = atol(v);
		else if (!strcmp(a, "--set-major"))
			major = atol(v);
		else {
			fprintf(stderr, "gt_fmt_gen: unknown option '%s'\n", a);
			return 2;
		}
	}
	if (corrupt >= 0)
		return corrupt_chunk(out, (size_t)corrupt);
	if (major >= 0)
		return set_major(out, (unsigned int)major);
	if (!threads)
		threads = 1;
	gt_clock_kind = (int)opts.clock;

	struct gt_clock_sample start = { ticks_of(0), 7000000000ull, 1764165600000000000ull };
	ret = gt_writer_open(out, &opts, &start, &w);
	if (ret < 0)
		die(out, ret);
	p = malloc(sizeof(*p));
	if (!p)
		die("malloc", -ENOMEM);

	static const struct gt_field_desc tf[] = {
		{ GT_TYPE_I32, "i32" }, { GT_TYPE_U32, "u32" }, { GT_TYPE_I64, "i64" },
		{ GT_TYPE_U64, "u64" }, { GT_TYPE_F64, "f64" }, { GT_TYPE_BOOL, "flag" },
		{ GT_TYPE_STR, "s" },	{ GT_TYPE_BYTES, "b" },
	};
	static const struct gt_field_desc lf[] = { { GT_TYPE_I32, "n" },
						   { GT_TYPE_STR, "what" },
						   { GT_TYPE_F64, "pct" } };
	static const struct gt_field_desc bf[] = { { GT_TYPE_I64, "counter" },
						   { GT_TYPE_I32, "value" },
						   { GT_TYPE_STR, "name" } };
	static const struct gt_field_desc sf[] = { { GT_TYPE_STR, "name" } };
	const struct gt_schema_desc sch[] = {
		{ 1, GT_KIND_EVENT, 4, 0x5, "Test.Types", "AllTypes", "gen.c", 10, NULL, 8, tf },
		{ 2, GT_KIND_LOG, 3, 0, "Test.Log", "Message", "gen.c", 20,
		  "iteration %d of %s: %.2f%%", 3, lf },
		{ 3, GT_KIND_EVENT, 5, 0x1, "Test.Bench", "Tick", "gen.c", 30, NULL, 3, bf },
		{ 4, GT_KIND_SPAN_BEGIN, 4, 0, "Test.Span", "Step", "gen.c", 40, NULL, 1, sf },
		{ 5, GT_KIND_SPAN_END, 4, 0, "Test.Span", "Step", "gen.c", 41, NULL, 1, sf },
	};
	for (size_t i = 0; i < sizeof(sch) / sizeof(sch[0]); i++) {
		ret = gt_writer_add_schema(w, &sch[i]);
		if (ret < 0)
			die("schema", ret);
	}
	gt_writer_set_meta(w, "op", "gen");
	gt_writer_set_meta(w, "command", "gt_fmt_gen test");
	gt_writer_set_meta(w, "cwd", "/tmp");
	gt_writer_set_meta(w, "host", "testhost");

	p->n = 0;
	pl_str(p, "main", 4);
	ret = gt_writer_add_event(w, ticks_of(5), 100, 101, 4, p->b, p->n);
	if (ret < 0)
		die("span", ret);
	if (types) {
		static const uint8_t bytes1[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff };
		static const char s1[] = "h\xc3\xa9llo \"q\" \\ \n\t\x01";
		static const char s2[] = "\xff\xfe bad";
		char *s3 = malloc(1000);

		memset(s3, 'x', 1000);
		for (int e = 0; e < 4; e++) {
			p->n = 0;
			switch (e) {
			case 0:
				pl_u32(p, (uint32_t)INT32_MIN), pl_u32(p, 0);
				pl_u64(p, (uint64_t)INT64_MIN), pl_u64(p, 0);
				pl_f64(p, NAN), pl_u8(p, 0), pl_str(p, "", 0), pl_str(p, "", 0);
				break;
			case 1:
				pl_u32(p, INT32_MAX), pl_u32(p, UINT32_MAX);
				pl_u64(p, INT64_MAX), pl_u64(p, UINT64_MAX);
				pl_f64(p, INFINITY), pl_u8(p, 1), pl_str(p, s1, sizeof(s1) - 1);
				pl_str(p, bytes1, sizeof(bytes1));
				break;
			case 2:
				pl_u32(p, (uint32_t)-1), pl_u32(p, 1);
				pl_u64(p, (uint64_t)-1), pl_u64(p, 9223372036854775808ull);
				pl_f64(p, -INFINITY), pl_u8(p, 1), pl_str(p, s2, sizeof(s2) - 1);
				pl_str(p, "GT", 2);
				break;
			default:
				pl_u32(p, 0), pl_u32(p, 123456);
				pl_u64(p, 0), pl_u64(p, 1);
				pl_f64(p, -1.5e-300), pl_u8(p, 0), pl_str(p, s3, 1000);
				pl_str(p, "\0\0", 2);
				break;
			}
			while (p->n % 8) /* like a ring record: zero padding */
				pl_u8(p, 0);
			ret = gt_writer_add_event(w, ticks_of(10 + 10 * (uint64_t)e), 100, 100, 1,
						  p->b, p->n);
			if (ret < 0)
				die("types event", ret);
		}
		free(s3);
	}
	for (uint64_t i = 0; i < nevents; i++) {
		uint64_t ns = 1000 + 100 * i - (i % 7 == 3 ? 150 : 0);
		uint32_t t = (uint32_t)(i % threads);

		p->n = 0;
		pl_u64(p, i);
		pl_u32(p, (uint32_t)(int32_t)((int64_t)(i * 7 % 1000) - 500));
		pl_str(p, gt_names[i % 8], 16);
		ret = gt_writer_add_event(w, ticks_of(ns), 100 + t / 2, 101 + t, 3, p->b, p->n);
		if (ret < 0)
			die("bench event", ret);
		if (i % 1000 == 999) {
			double pct = (double)i * 100.0 / (double)nevents;
			int32_t n = (int32_t)(i / 1000);

			p->n = 0;
			pl_u32(p, (uint32_t)n);
			pl_str(p, "phase", 5);
			pl_f64(p, pct);
			ret = gt_writer_add_event(w, ticks_of(ns + 1), 100, 101, 2, p->b, p->n);
			if (ret < 0)
				die("log event", ret);
			sample(w, ns + 2);
		}
	}
	p->n = 0;
	pl_str(p, "main", 4);
	ret = gt_writer_add_event(w, ticks_of(1000 + 100 * nevents), 100, 101, 5, p->b, p->n);
	if (ret < 0)
		die("span", ret);
	if (threads >= 2)
		gt_writer_add_lost(w, 100, 102, 7);
	gt_writer_add_corrupt(w, 100, 3);
	gt_writer_set_meta(w, "exit_status", "0");
	sample(w, 1000 + 100 * nevents + 500);
	if (unclosed) {
		/* a crash: whole chunks are on disk, the open one and the footer are not */
		printf("events %" PRIu64 " bytes %" PRIu64 " (unclosed)\n", gt_writer_events(w),
		       gt_writer_bytes(w));
		fflush(stdout);
		_exit(0);
	}
	uint64_t n = gt_writer_events(w);
	ret = gt_writer_close(w);
	if (ret < 0)
		die("close", ret);
	{
		FILE *f = fopen(out, "rb");
		long sz;

		if (!f)
			die(out, -errno);
		fseek(f, 0, SEEK_END);
		sz = ftell(f);
		fclose(f);
		printf("events %" PRIu64 " bytes %ld bytes_per_event %.3f\n", n, sz,
		       n ? (double)sz / (double)n : 0.0);
	}
	free(p);
	return 0;
}
