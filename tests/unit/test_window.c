/* SPDX-License-Identifier: MIT */
/*
 * test_window.c - the flight recorder's window (format/gt_window.c) through
 * a memory-mode writer: chunks are dropped oldest first and whole, a
 * snapshot is a complete file that the reader accepts (index and totals
 * for the kept chunks only, loss counts of the whole session, window meta
 * keys), the window goes on after a snapshot, an image outlives the chunks
 * the window evicts after it was taken, and --window sizes parse.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gtrace/error.h>
#include <gtrace/reader.h>

#include "format/gt_fmt.h"
#include "format/gt_window.h"
#include "format/gt_writer.h"
#include "gt_check.h"

static char dir[] = "/tmp/gt_test_window.XXXXXX";

static const struct gt_field_desc fields[] = {
	{ GT_TYPE_I64, "seq" },
	{ GT_TYPE_U64, "noise" },
	{ GT_TYPE_U64, "noise2" },
};

static const struct gt_schema_desc schema = {
	.id = 1,
	.kind = GT_KIND_EVENT,
	.level = 4,
	.provider = "Test.Window",
	.name = "Seq",
	.nfields = 3,
	.fields = fields,
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Events @from..@to-1 with seq = i at tick 1000 + i; random fields defeat compression. */
static void emit(struct gt_writer *w, int64_t from, int64_t to)
{
	uint8_t p[24];

	for (int64_t i = from; i < to; i++) {
		gt_put64(p, (uint64_t)i);
		gt_put64(p + 8, next_rand());
		gt_put64(p + 16, next_rand());
		CHECK(gt_writer_add_event(w, 1000 + (uint64_t)i, 10, 11, 1, p, sizeof(p)) == 0);
	}
}

/*
 * Read @path: complete, the Seq events one contiguous run ending at
 * @last, whose first value goes to @first; return the event count.
 */
static uint64_t check_file(const char *path, int64_t last, int64_t *first)
{
	struct gt_reader *r = NULL;
	struct gt_iter *it = NULL;
	const struct gt_event *ev;
	int64_t expect = -1;
	uint64_t n = 0;
	int ret;

	*first = -1;
	CHECK(gt_reader_open(path, &r) == 0);
	if (!r)
		return 0;
	CHECK(gt_reader_summary(r)->complete);
	CHECK(gt_reader_verify(r) == 0);
	CHECK(gt_iter_new(r, NULL, &it) == 0);
	while (it && (ret = gt_iter_next(it, &ev)) > 0) {
		int64_t seq = ev->values[0].i64;

		if (expect < 0)
			*first = seq;
		else
			CHECK(seq == expect); /* no hole: chunks are dropped whole, oldest first */
		expect = seq + 1;
		n++;
	}
	CHECK(expect - 1 == last);
	CHECK(n == gt_reader_summary(r)->nevents);
	gt_iter_free(it);
	gt_reader_close(r);
	return n;
}

static const char *meta_of(const char *path, const char *key, char *buf, size_t cap)
{
	struct gt_reader *r = NULL;
	const char *v;

	buf[0] = '\0';
	if (gt_reader_open(path, &r) < 0)
		return buf;
	v = gt_reader_meta(r, key);
	snprintf(buf, cap, "%s", v ? v : "");
	gt_reader_close(r);
	return buf;
}

static void test_parse(void)
{
	uint64_t v = 0;

	CHECK(gt_window_parse_size("64M", &v) == 0 && v == 64ull << 20);
	CHECK(gt_window_parse_size("1M", &v) == 0 && v == 1ull << 20);
	CHECK(gt_window_parse_size("2048K", &v) == 0 && v == 2ull << 20);
	CHECK(gt_window_parse_size("2GiB", &v) == 0 && v == 2ull << 30);
	CHECK(gt_window_parse_size("3mb", &v) == -EINVAL);
	CHECK(gt_window_parse_size("1048576", &v) == 0 && v == 1ull << 20);
	CHECK(gt_window_parse_size("1048576B", &v) == 0 && v == 1ull << 20);
	CHECK(gt_window_parse_size("512K", &v) == -ERANGE);
	CHECK(gt_window_parse_size("65G", &v) == -ERANGE);
	CHECK(gt_window_parse_size("99999999999999999999G", &v) == -ERANGE);
	CHECK(gt_window_parse_size("18446744073709551615G", &v) == -ERANGE);
	CHECK(gt_window_parse_size("", &v) == -EINVAL);
	CHECK(gt_window_parse_size("-1M", &v) == -EINVAL);
	CHECK(gt_window_parse_size("M", &v) == -EINVAL);
	CHECK(gt_window_parse_size("4MiBs", &v) == -EINVAL);
	CHECK(gt_window_parse_size(NULL, &v) == -EINVAL);
}

static void test_add_rejects(void)
{
	struct gt_window *win = NULL;
	uint8_t junk[128];

	memset(junk, 0xab, sizeof(junk));
	CHECK(gt_window_new(0, &win) == -EINVAL && !win);
	CHECK(gt_window_new(1 << 20, &win) == 0);
	CHECK(gt_window_add(win, junk, sizeof(junk)) == -EINVAL);
	CHECK(gt_window_add(win, junk, 10) == -EINVAL);
	gt_window_free(win);
	gt_window_free(NULL);
	gt_window_image_free(NULL);
}

static void test_window(void)
{
	struct gt_writer_opts o = { .clock = GT_CLOCK_MONO, .chunk_bytes = 4096 };
	struct gt_clock_sample start = { 1000, 5000000000ull, 1700000000000000000ull };
	struct gt_clock_sample later = { 1000000, 5000999000ull, 1700000000000999000ull };
	struct gt_window_image *img = NULL;
	struct gt_window_stats ws, ws2;
	struct gt_writer *w = NULL;
	char p1[300], p2[300], p3[300], p4[300], buf[64];
	uint64_t bytes = 0, events = 0, n;
	int64_t first = -1, first2 = -1;

	snprintf(p1, sizeof(p1), "%s/one.gtrace", dir);
	snprintf(p2, sizeof(p2), "%s/two.gtrace", dir);
	snprintf(p3, sizeof(p3), "%s/image.gtrace", dir);
	snprintf(p4, sizeof(p4), "%s/empty.gtrace", dir);

	CHECK(gt_writer_open_window(&o, &start, 0, &w) == -EINVAL && !w);
	CHECK(gt_writer_open_window(&o, &start, 16 << 10, &w) == 0);
	if (!w)
		return;
	CHECK(gt_writer_window(w) != NULL);
	CHECK(gt_writer_set_meta(w, "op", "window_test") == 0);
	CHECK(gt_writer_add_schema(w, &schema) == 0);

	/* an empty window is a valid file with no events */
	CHECK(gt_writer_snapshot(w, p4, &bytes, &events) == 0 && events == 0);
	CHECK(access(p4, F_OK) == 0 && bytes > 0);
	check_file(p4, -2, &first); /* no event: "last" is expect - 1 = -2 */

	/* 5000 events of ~40 raw bytes in 4 KiB chunks: ~50 chunks, ~8 fit in 16 KiB */
	emit(w, 0, 5000);
	CHECK(gt_writer_add_lost(w, 10, 11, 7) == 0);
	CHECK(gt_writer_clock(w, &later) == 0);
	gt_window_stats(gt_writer_window(w), &ws);
	CHECK(ws.max_bytes == 16 << 10);
	CHECK(ws.evicted_chunks > 0 && ws.evicted_events > 0);
	CHECK(ws.chunks >= 1 && ws.bytes <= ws.max_bytes + 9 * 1024); /* one chunk over at most */
	CHECK(ws.events + ws.evicted_events <= 5000); /* the rest sits in the open chunk */

	CHECK(gt_writer_snapshot(w, p1, &bytes, &events) == 0);
	CHECK(gt_writer_snapshot(w, p1, NULL, NULL) == -EEXIST); /* O_EXCL */
	n = check_file(p1, 4999, &first);
	CHECK(n == events && first > 0);
	gt_window_stats(gt_writer_window(w), &ws);
	CHECK((uint64_t)first == ws.evicted_events); /* exactly the dropped prefix is missing */
	CHECK(n == ws.events);
	CHECK(!strcmp(meta_of(p1, "mode", buf, sizeof(buf)), "memory"));
	CHECK(!strcmp(meta_of(p1, "op", buf, sizeof(buf)), "window_test"));
	CHECK(strtoull(meta_of(p1, "window_bytes", buf, sizeof(buf)), NULL, 10) == 16 << 10);
	CHECK(strtoull(meta_of(p1, "window_evicted_chunks", buf, sizeof(buf)), NULL, 10) ==
	      ws.evicted_chunks);
	CHECK(strtoull(meta_of(p1, "window_evicted_events", buf, sizeof(buf)), NULL, 10) ==
	      ws.evicted_events);
	/* MONO clock: ns = ticks - start.ticks; the first kept event has tick 1000 + first */
	CHECK(strtoull(meta_of(p1, "window_start_ns", buf, sizeof(buf)), NULL, 10) ==
	      (uint64_t)first);
	{
		struct gt_reader *r = NULL;

		CHECK(gt_reader_open(p1, &r) == 0);
		if (r) {
			/* lost counts cover the whole session */
			CHECK(gt_reader_summary(r)->lost_total == 7);
			CHECK(gt_reader_schema(r, 1) && gt_reader_schema(r, 1)->nevents == n);
			CHECK(gt_reader_summary(r)->last.mono_ns == later.mono_ns);
			gt_reader_close(r);
		}
	}

	/* an image taken now survives the window evicting every chunk in it */
	CHECK(gt_writer_snapshot_prepare(w, &img) == 0);
	CHECK(img && gt_window_image_events(img) == n);
	emit(w, 5000, 12000);
	gt_window_stats(gt_writer_window(w), &ws2);
	CHECK(ws2.evicted_events > n + ws.evicted_events); /* the image's chunks are gone */
	CHECK(gt_window_image_write(img, p3, &bytes) == 0);
	CHECK(check_file(p3, 4999, &first2) == n && first2 == first);
	gt_window_image_free(img);

	/* the window went on: a later snapshot holds the later events */
	CHECK(gt_writer_snapshot(w, p2, NULL, &events) == 0);
	n = check_file(p2, 11999, &first2);
	CHECK(n == events && first2 > 4999);
	gt_writer_close(w); /* drops the window, writes nothing */
}

/*
 * Threads (run under TSan in CI): the writer's thread adds chunks and
 * captures images; another thread writes and frees them while the window
 * evicts the same chunks, and reads the counters.
 */
struct img_slot {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct gt_window_image *img;
	bool done;
	struct gt_window *win;
	int written;
};

static void *img_writer(void *arg)
{
	struct img_slot *sl = arg;
	struct gt_window_stats ws;
	char path[300];

	for (;;) {
		struct gt_window_image *img;

		pthread_mutex_lock(&sl->mu);
		while (!sl->img && !sl->done)
			pthread_cond_wait(&sl->cv, &sl->mu);
		img = sl->img;
		sl->img = NULL;
		pthread_cond_broadcast(&sl->cv);
		pthread_mutex_unlock(&sl->mu);
		if (!img)
			break;
		gt_window_stats(sl->win, &ws); /* concurrently with the writer: atomics */
		CHECK(ws.max_bytes == 16 << 10);
		snprintf(path, sizeof(path), "%s/thr%d.gtrace", dir, sl->written);
		CHECK(gt_window_image_write(img, path, NULL) == 0);
		gt_window_image_free(img);
		sl->written++;
	}
	return NULL;
}

static void test_threads(void)
{
	struct gt_writer_opts o = { .clock = GT_CLOCK_MONO, .chunk_bytes = 4096 };
	struct gt_clock_sample start = { 1000, 1, 2 };
	struct img_slot sl = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	struct gt_writer *w = NULL;
	pthread_t th;
	int64_t first;
	char path[300];

	CHECK(gt_writer_open_window(&o, &start, 16 << 10, &w) == 0);
	if (!w)
		return;
	CHECK(gt_writer_add_schema(w, &schema) == 0);
	sl.win = gt_writer_window(w);
	CHECK(pthread_create(&th, NULL, img_writer, &sl) == 0);
	for (int round = 0; round < 20; round++) {
		struct gt_window_image *img = NULL;

		emit(w, round * 500, round * 500 + 500);
		CHECK(gt_writer_snapshot_prepare(w, &img) == 0);
		pthread_mutex_lock(&sl.mu);
		while (sl.img)
			pthread_cond_wait(&sl.cv, &sl.mu);
		sl.img = img;
		pthread_cond_broadcast(&sl.cv);
		pthread_mutex_unlock(&sl.mu);
	}
	pthread_mutex_lock(&sl.mu);
	sl.done = true;
	pthread_cond_broadcast(&sl.cv);
	pthread_mutex_unlock(&sl.mu);
	pthread_join(th, NULL);
	CHECK(sl.written == 20);
	/* the last image ends with the last event, whatever was evicted meanwhile */
	snprintf(path, sizeof(path), "%s/thr19.gtrace", dir);
	CHECK(check_file(path, 9999, &first) > 0 && first > 0);
	gt_writer_close(w);
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_parse();
	test_add_rejects();
	test_window();
	test_threads();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return gt_check_result("test_window");
}
