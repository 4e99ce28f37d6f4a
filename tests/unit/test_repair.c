/* SPDX-License-Identifier: MIT */
/*
 * test_repair.c - gt_repair_file() (format/gt_repair.c, `gtrace repair`).
 *
 * A small file of many small chunks is written through gt_writer (two
 * schemas, meta data, loss counts, a STATS and a META block after the first
 * chunks), then damaged in every way a crash or a bad disk does: cut at
 * every byte offset, cut and left with a torn footer, bytes flipped in the
 * middle (one chunk, then random positions).  For each, the repaired copy
 * must read back as complete, verify, and hold exactly the events the
 * recovering reader sees in the damaged file (for a cut), or every event
 * of every chunk that was not damaged (for damage in the middle).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtrace/error.h>
#include <gtrace/reader.h>

#include "gt_check.h"
#include "gt_repair.h"
#include "gt_writer.h"

#define NEV 200 /* events; about 15 chunks of 16 events */

static char dir[256];

static void tpath(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

static uint8_t *slurp(const char *path, size_t *size)
{
	struct stat st;
	uint8_t *d;
	int fd = open(path, O_RDONLY);

	*size = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !(d = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return NULL;
	}
	if (read(fd, d, (size_t)st.st_size) != st.st_size) {
		free(d);
		d = NULL;
	}
	close(fd);
	*size = (size_t)st.st_size;
	return d;
}

static int spill(const char *path, const void *d, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, d, n) == (ssize_t)n;
	close(fd);
	return ok ? 0 : -1;
}

/* Write the test file: counter i in 0..NEV-1, pid 10, tid 11 + i % 3. */
static void make_file(const char *path)
{
	static const struct gt_field_desc f1[] = { { GT_TYPE_U64, "counter" },
						   { GT_TYPE_STR, "name" } };
	static const struct gt_field_desc f2[] = { { GT_TYPE_I32, "value" } };
	const struct gt_schema_desc s1 = { .id = 1, .kind = GT_KIND_EVENT, .level = 4,
					   .provider = "Repair.Test", .name = "Tick",
					   .nfields = 2, .fields = f1 };
	const struct gt_schema_desc s2 = { .id = 2, .kind = GT_KIND_EVENT, .level = 3,
					   .provider = "Repair.Test", .name = "Late",
					   .nfields = 1, .fields = f2 };
	const struct gt_clock_sample start = { 1000, 5000, 1700000000000000000ull };
	struct gt_writer_opts o = { .clock = GT_CLOCK_MONO, .chunk_bytes = 512 };
	struct gt_writer *w;

	CHECK(gt_writer_open(path, &o, &start, &w) == 0);
	if (!w)
		return;
	CHECK(gt_writer_add_schema(w, &s1) == 0);
	CHECK(gt_writer_set_meta(w, "op", "repair_test") == 0);
	for (uint32_t i = 0; i < NEV; i++) {
		uint8_t p[32];
		uint64_t c = i;
		uint32_t n = 4;

		memcpy(p, &c, 8);
		memcpy(p + 8, &n, 4);
		memcpy(p + 12, "abcd", 4);
		CHECK(gt_writer_add_event(w, 1000 + 10ull * i, 10, 11 + i % 3, 1, p, 16) == 0);
		if (i == 100) {
			/* a schema, meta and loss counts that appear mid-file */
			CHECK(gt_writer_add_schema(w, &s2) == 0);
			CHECK(gt_writer_set_meta(w, "phase", "second") == 0);
			CHECK(gt_writer_add_lost(w, 10, 11, 5) == 0);
			CHECK(gt_writer_add_corrupt(w, 10, 2) == 0);
		}
		if (i > 100 && i % 10 == 0) {
			int32_t v = -(int32_t)i;
			uint8_t q[8] = { 0 };

			memcpy(q, &v, 4);
			CHECK(gt_writer_add_event(w, 1005 + 10ull * i, 10, 20, 2, q, 4) == 0);
		}
		if (i % 50 == 0) {
			struct gt_clock_sample s = { 1000 + 10ull * i, 5000 + 10ull * i,
						     1700000000000000000ull + 10ull * i };

			CHECK(gt_writer_clock(w, &s) == 0);
		}
	}
	CHECK(gt_writer_close(w) == 0);
}

/*
 * Events of @path as "ticks pid tid id v0" lines, in order; NULL if it cannot
 * be read.  @bad_ok: a damaged chunk may end the iteration early.
 */
static char *events_of_ex(const char *path, uint64_t *n, bool *complete, bool bad_ok)
{
	struct gt_reader *r = NULL;
	struct gt_iter *it = NULL;
	const struct gt_event *ev;
	size_t len = 0, cap = 1 << 16;
	char *out = malloc(cap);
	int ret;

	*n = 0;
	if (!out || gt_reader_open(path, &r) < 0 || gt_iter_new(r, NULL, &it) < 0) {
		free(out);
		gt_reader_close(r);
		return NULL;
	}
	*complete = gt_reader_summary(r)->complete;
	out[0] = '\0';
	while ((ret = gt_iter_next(it, &ev)) > 0) {
		if (cap - len < 128) {
			char *o = realloc(out, cap * 2);

			if (!o)
				break;
			out = o;
			cap *= 2;
		}
		len += (size_t)snprintf(out + len, cap - len, "%" PRIu64 " %u %u %u %" PRIu64 "\n",
					ev->ticks, ev->pid, ev->tid, ev->schema->id,
					ev->values[0].u64);
		(*n)++;
	}
	CHECK(ret == 0 || (bad_ok && ret == -GT_ECORRUPT));
	gt_iter_free(it);
	gt_reader_close(r);
	return out;
}

static char *events_of(const char *path, uint64_t *n, bool *complete)
{
	return events_of_ex(path, n, complete, false);
}

/* The repaired @out must be complete, verify, and equal @expect event by event. */
static void check_repaired(const char *out, const char *expect, uint64_t nexpect,
			   const struct gt_repair_result *res)
{
	struct gt_reader *r = NULL;
	char err[512];
	bool complete = false;
	uint64_t n = 0;
	char *got;

	CHECK(gt_reader_open_ex(out, GT_READER_VERIFY, &r, err, sizeof(err)) == 0);
	if (r) {
		CHECK(gt_reader_summary(r)->complete);
		CHECK(gt_reader_summary(r)->nevents == res->nevents);
		CHECK(gt_reader_summary(r)->nchunks == res->nchunks);
		CHECK(gt_reader_meta(r, "repaired") != NULL);
		gt_reader_close(r);
	}
	got = events_of(out, &n, &complete);
	CHECK(got && complete);
	CHECK(n == nexpect && res->nevents == nexpect);
	if (got && expect && strcmp(got, expect)) {
		CHECK(!"repaired events differ from the recovered ones");
		fprintf(stderr, "  in %s\n", out);
	}
	free(got);
}

static void test_complete(const char *orig)
{
	struct gt_repair_result res;
	size_t n0, n1;
	uint8_t *a = slurp(orig, &n0), *b;
	char err[512];

	CHECK(gt_repair_file(orig, NULL, &res, err, sizeof(err)) == 0);
	CHECK(res.was_complete && res.nevents > NEV);
	b = slurp(orig, &n1);
	CHECK(a && b && n0 == n1 && !memcmp(a, b, n0)); /* untouched */
	free(a);
	free(b);
}

/* Cut the file at every offset; repair each cut with -o and in place. */
static void test_every_cut(const uint8_t *img, size_t size)
{
	char cut[512], out[512];
	unsigned int checked = 0;

	tpath(cut, sizeof(cut), "cut.gtrace");
	tpath(out, sizeof(out), "cut.repaired.gtrace");
	for (size_t len = 64; len < size; len++) {
		struct gt_repair_result res;
		char err[512];
		uint64_t n = 0;
		bool complete = true;
		char *expect;
		int ret;

		if (spill(cut, img, len) < 0) {
			CHECK(!"cannot write the cut file");
			break;
		}
		expect = events_of(cut, &n, &complete);
		CHECK(expect && !complete);
		unlink(out);
		/* odd cuts: in place; even cuts: a copy (each path on every kind of cut) */
		ret = gt_repair_file(cut, len % 2 ? NULL : out, &res, err, sizeof(err));
		CHECK(ret == 0);
		if (ret < 0)
			fprintf(stderr, "  cut at %zu: %s\n", len, err);
		CHECK(!res.was_complete);
		/* a cut only loses the tail: what was dropped is the torn block */
		CHECK(res.dropped_regions <= 1);
		CHECK(!res.dropped_bytes || res.dropped_at + res.dropped_bytes <= len);
		if (ret == 0)
			check_repaired(len % 2 ? cut : out, expect, n, &res);
		free(expect);
		checked++;
	}
	CHECK(checked == size - 64);
	unlink(cut);
	unlink(out);
}

/* Offsets of the CHUNK blocks of a complete file, from its index. */
static size_t chunk_offsets(const char *path, uint64_t *offs, uint32_t *sizes, size_t cap)
{
	struct gt_reader *r = NULL;
	size_t n = 0;

	if (gt_reader_open(path, &r) < 0)
		return 0;
	for (; n < gt_reader_summary(r)->nchunks && n < cap; n++) {
		offs[n] = gt_reader_chunk_at(r, n)->offset;
		sizes[n] = gt_reader_chunk_at(r, n)->size;
	}
	gt_reader_close(r);
	return n;
}

/* One byte flipped inside chunk k: every other chunk is kept, k is reported dropped. */
static void test_middle(const char *orig, const uint8_t *img, size_t size)
{
	uint64_t offs[256];
	uint32_t sizes[256];
	size_t nck = chunk_offsets(orig, offs, sizes, 256);
	char bad[512], out[512];
	uint8_t *d = malloc(size);

	CHECK(nck > 8);
	if (!d || nck <= 8) {
		free(d);
		return;
	}
	tpath(bad, sizeof(bad), "mid.gtrace");
	tpath(out, sizeof(out), "mid.repaired.gtrace");
	for (size_t k = 1; k < nck - 1; k += 3) {
		struct gt_repair_result res;
		struct gt_reader *r = NULL;
		char err[512];
		uint64_t n_all = 0, n_rec = 0, n_rep = 0;
		bool complete;
		char *all, *rec, *rep;

		memcpy(d, img, size);
		d[offs[k] + 32 + sizes[k] / 2] ^= 0x40;
		CHECK(spill(bad, d, size) == 0);
		unlink(out);
		CHECK(gt_repair_file(bad, out, &res, err, sizeof(err)) == 0);
		CHECK(!res.was_complete);
		CHECK(res.dropped_at == offs[k]);
		CHECK(res.dropped_bytes == 32 + sizes[k]);
		CHECK(res.dropped_regions == 1);
		CHECK(res.nchunks == nck - 1);
		/* every event outside chunk k is kept, in order */
		all = events_of(orig, &n_all, &complete);
		rec = events_of_ex(bad, &n_rec, &complete, true); /* stops at chunk k */
		rep = events_of(out, &n_rep, &complete);
		CHECK(complete && n_rep > n_rec && n_rep < n_all);
		r = NULL;
		CHECK(gt_reader_open(orig, &r) == 0);
		if (r) {
			CHECK(n_rep == n_all - gt_reader_chunk_at(r, k)->nevents);
			gt_reader_close(r);
		}
		/* the events the recovering reader saw are a prefix of the repaired ones */
		CHECK(all && rec && rep && !strncmp(rep, rec, strlen(rec)));
		free(all);
		free(rec);
		free(rep);
	}
	free(d);
	unlink(bad);
	unlink(out);
}

/* Random bytes overwritten at random places: repair never fails, never crashes. */
static void test_random(const uint8_t *img, size_t size)
{
	char bad[512], out[512];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	uint8_t *d = malloc(size);

	tpath(bad, sizeof(bad), "rnd.gtrace");
	tpath(out, sizeof(out), "rnd.repaired.gtrace");
	for (int round = 0; d && round < 300; round++) {
		struct gt_repair_result res;
		char err[512];
		uint64_t n = 0;
		bool complete = false;
		char *got;
		size_t len = size;
		int ret;

		memcpy(d, img, size);
		for (int k = 0; k < 1 + round % 5; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			/* keep the 64-byte file header: without it nothing is a gtrace file */
			d[64 + (seed >> 33) % (size - 64)] ^= (uint8_t)(1 + (seed >> 20) % 255);
		}
		if (round % 3 == 0)
			len = 64 + (size_t)((seed >> 13) % (size - 64));
		CHECK(spill(bad, d, len) == 0);
		unlink(out);
		ret = gt_repair_file(bad, out, &res, err, sizeof(err));
		CHECK(ret == 0);
		if (ret < 0) {
			fprintf(stderr, "  round %d: %s\n", round, err);
			continue;
		}
		if (res.was_complete)
			continue; /* a flip the reader does not check (none known): nothing to repair */
		got = events_of(out, &n, &complete);
		CHECK(got && complete && n == res.nevents);
		free(got);
	}
	free(d);
	unlink(bad);
	unlink(out);
}

static void test_errors(const char *orig)
{
	struct gt_repair_result res;
	char path[512], err[512];

	tpath(path, sizeof(path), "missing.gtrace");
	CHECK(gt_repair_file(path, NULL, &res, err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "missing.gtrace") != NULL);
	tpath(path, sizeof(path), "junk.gtrace");
	CHECK(spill(path, "this is not a trace file at all, just some text......."
			  "..............................................\n",
		    100) == 0);
	CHECK(gt_repair_file(path, NULL, &res, err, sizeof(err)) == -GT_ECORRUPT);
	CHECK(strstr(err, "junk.gtrace") != NULL);
	unlink(path);
	{
		/* -o onto an existing file is refused */
		size_t n;
		uint8_t *img = slurp(orig, &n);
		char cut[512];

		tpath(cut, sizeof(cut), "short.gtrace");
		CHECK(img && spill(cut, img, n / 2) == 0);
		CHECK(gt_repair_file(cut, orig, &res, err, sizeof(err)) == -EEXIST);
		CHECK(strstr(err, "already exists") != NULL);
		unlink(cut);
		free(img);
	}
}

/* No temporary file is left behind in the directory. */
static void check_dir_clean(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		CHECK(!strstr(e->d_name, ".tmp"));
	closedir(d);
}

int main(void)
{
	char orig[512];
	uint8_t *img;
	size_t size;
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(dir, sizeof(dir), "%s/gt_test_repair.XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	tpath(orig, sizeof(orig), "orig.gtrace");
	make_file(orig);
	img = slurp(orig, &size);
	CHECK(img && size > 1024);
	if (img) {
		test_complete(orig);
		test_every_cut(img, size);
		test_middle(orig, img, size);
		test_random(img, size);
		test_errors(orig);
		check_dir_clean();
	}
	free(img);
	unlink(orig);
	if (rmdir(dir) < 0)
		CHECK(!"test directory not empty");
	return gt_check_result("test_repair");
}
