/* SPDX-License-Identifier: MIT */
/*
 * gt_load.c - load generator and its accounting check (docs/reliability.md).
 *
 * The promise under test is exact accounting under load: for every thread,
 * events emitted == events recorded in the file + events the file counts as
 * lost for that thread, and the recorded ones come in per-thread order, once.
 *
 *   gt_load emit PROCS THREADS SECONDS COUNTS
 *     forks PROCS processes of THREADS threads; once every process has joined
 *     the session (one Test.Load/Ready event each), each thread emits
 *     Test.Load/Seq {thread, seq} with seq 0, 1, 2... as fast as it can for
 *     SECONDS, then the process appends one JSON line per thread to COUNTS:
 *     {"pid":P,"tid":T,"thread":I,"emitted":N}.  Exit 0 when every child
 *     exited 0.
 *   gt_load check FILE COUNTS
 *     reads FILE with the reader library and checks, for every thread of
 *     COUNTS, that its recorded seqs are strictly increasing and below N and
 *     that recorded + lost (the file's lost count for that pid/tid) == N; no
 *     event or lost count may belong to a thread COUNTS does not name.
 *     Prints the totals (one JSON line); exit 0 if all hold, 1 if not.
 *
 * `check` decodes the file itself rather than parsing `gtrace dump` output:
 * a 10 s run records tens of millions of events.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtrace/gtrace.h>
#include <gtrace/reader.h>

GT_PROVIDER_DEFINE(gt_load_prov, "Test.Load");

#define GT_LOAD_MAX_THREADS 64
#define GT_LOAD_MAX_PROCS 256

struct gt_load_thread {
	int index;
	double seconds;
	pthread_barrier_t *start;
	uint32_t tid;
	uint64_t emitted;
};

static double gt_load_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *gt_load_thread_main(void *arg)
{
	struct gt_load_thread *t = arg;
	uint64_t seq = 0;
	double end;

	t->tid = (uint32_t)gettid();
	pthread_barrier_wait(t->start);
	end = gt_load_now() + t->seconds;
	do {
		/* the clock is read once per 1024 events, not per event */
		for (int k = 0; k < 1024; k++, seq++)
			GT_EVENT(gt_load_prov, GT_LEVEL_INFO, 0, "Seq", GT_U32("thread", t->index),
				 GT_U64("seq", seq));
	} while (gt_load_now() < end);
	t->emitted = seq;
	return NULL;
}

static int gt_load_child(int proc, int nthreads, double seconds, const char *counts, int ready,
			 int go)
{
	struct gt_load_thread th[GT_LOAD_MAX_THREADS];
	pthread_t id[GT_LOAD_MAX_THREADS];
	pthread_barrier_t start;
	char buf[GT_LOAD_MAX_THREADS * 96];
	size_t len = 0;
	int fd, n;
	char c;

	/*
	 * Join the session before anyone starts spinning: the first event of a
	 * forked child joins, and a collector starved by 64 spinning threads
	 * could miss the library's join timeout, leaving this process untraced.
	 */
	GT_EVENT(gt_load_prov, GT_LEVEL_INFO, 0, "Ready", GT_I32("proc", proc));
	if (!gt_enabled(gt_load_prov, GT_LEVEL_INFO, 0)) {
		fprintf(stderr, "gt_load: process %d did not join the session\n", (int)getpid());
		return 1;
	}
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 0) /* parent closes go: start */
		return 1;
	close(ready);
	close(go);
	pthread_barrier_init(&start, NULL, (unsigned int)nthreads);
	for (int i = 0; i < nthreads; i++) {
		th[i] = (struct gt_load_thread){ proc * nthreads + i, seconds, &start, 0, 0 };
		if (pthread_create(&id[i], NULL, gt_load_thread_main, &th[i])) {
			fprintf(stderr, "gt_load: cannot create thread %d\n", i);
			_exit(1);
		}
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(id[i], NULL);
		n = snprintf(buf + len, sizeof(buf) - len,
			     "{\"pid\":%d,\"tid\":%u,\"thread\":%d,\"emitted\":%" PRIu64 "}\n",
			     (int)getpid(), th[i].tid, th[i].index, th[i].emitted);
		if (n < 0 || (size_t)n >= sizeof(buf) - len)
			return 1;
		len += (size_t)n;
	}
	/* one O_APPEND write per process: the lines of processes never interleave */
	fd = open(counts, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len) {
		fprintf(stderr, "gt_load: cannot write '%s': %s\n", counts, strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}

static int gt_load_emit(int nprocs, int nthreads, double seconds, const char *counts)
{
	pid_t pids[GT_LOAD_MAX_PROCS];
	int ready[2], go[2], bad = 0;
	char c;

	if (nprocs < 1 || nprocs > GT_LOAD_MAX_PROCS || nthreads < 1 ||
	    nthreads > GT_LOAD_MAX_THREADS || seconds <= 0) {
		fprintf(stderr, "gt_load: 1..%d processes of 1..%d threads, seconds > 0\n",
			GT_LOAD_MAX_PROCS, GT_LOAD_MAX_THREADS);
		return 2;
	}
	if (pipe(ready) < 0 || pipe(go) < 0) {
		fprintf(stderr, "gt_load: pipe: %s\n", strerror(errno));
		return 1;
	}
	for (int p = 0; p < nprocs; p++) {
		pids[p] = fork();
		if (pids[p] < 0) {
			fprintf(stderr, "gt_load: fork: %s\n", strerror(errno));
			nprocs = p;
			bad++;
			break;
		}
		if (pids[p] == 0) {
			close(ready[0]);
			close(go[1]);
			_exit(gt_load_child(p, nthreads, seconds, counts, ready[1], go[0]));
		}
	}
	/* every child has joined (or died: its end of ready closes) -> go */
	close(ready[1]);
	close(go[0]);
	for (int p = 0; p < nprocs; p++)
		if (read(ready[0], &c, 1) != 1)
			break;
	close(go[1]);
	close(ready[0]);
	for (int p = 0; p < nprocs; p++) {
		int st;

		if (waitpid(pids[p], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	return bad ? 1 : 0;
}

struct gt_load_count {
	uint32_t pid, tid;
	uint64_t emitted;
	uint64_t recorded;
	uint64_t lost;
	uint64_t last; /* last recorded seq + 1; 0 = none yet */
};

static int gt_load_cmp(const void *a, const void *b)
{
	const struct gt_load_count *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static struct gt_load_count *gt_load_find(struct gt_load_count *c, size_t n, uint32_t pid,
					  uint32_t tid)
{
	struct gt_load_count key = { .pid = pid, .tid = tid };

	return bsearch(&key, c, n, sizeof(*c), gt_load_cmp);
}

static int gt_load_check(const char *path, const char *counts)
{
	static struct gt_load_count c[GT_LOAD_MAX_PROCS * GT_LOAD_MAX_THREADS];
	uint64_t emitted = 0, recorded = 0, lost = 0, stray = 0;
	const struct gt_event *ev;
	struct gt_filter filt = { .until_ns = UINT64_MAX };
	struct gt_reader *r = NULL;
	struct gt_iter *it = NULL;
	struct gt_load_count *hit = NULL;
	uint32_t sid = 0;
	char line[256];
	size_t n = 0;
	int ret, bad = 0;
	FILE *f;

	f = fopen(counts, "r");
	if (!f) {
		fprintf(stderr, "gt_load: cannot open '%s': %s\n", counts, strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned int pid, tid;
		int idx;
		uint64_t e;

		if (n == sizeof(c) / sizeof(c[0]) ||
		    sscanf(line, "{\"pid\":%u,\"tid\":%u,\"thread\":%d,\"emitted\":%" SCNu64 "}",
			   &pid, &tid, &idx, &e) != 4) {
			fprintf(stderr, "gt_load: '%s': bad line %zu: %s", counts, n + 1, line);
			fclose(f);
			return 2;
		}
		c[n++] = (struct gt_load_count){ .pid = pid, .tid = tid, .emitted = e };
	}
	fclose(f);
	qsort(c, n, sizeof(c[0]), gt_load_cmp);

	ret = gt_reader_open(path, &r);
	if (ret < 0) {
		fprintf(stderr, "gt_load: cannot open '%s': %s\n", path, gt_strerror(ret));
		return 2;
	}
	for (size_t i = 0; i < gt_reader_schema_count(r); i++) {
		const struct gt_schema *s = gt_reader_schema_at(r, i);

		if (s && !strcmp(s->provider, "Test.Load") && !strcmp(s->name, "Seq"))
			sid = s->id;
	}
	if (sid) {
		filt.schema_ids = &sid;
		filt.nschema_ids = 1;
		ret = gt_iter_new(r, &filt, &it);
		if (ret < 0)
			goto out;
		while ((ret = gt_iter_next(it, &ev)) > 0) {
			uint64_t seq;

			if (ev->nfields != 2) {
				bad++;
				continue;
			}
			seq = ev->values[1].u64;
			if (!hit || hit->pid != ev->pid || hit->tid != ev->tid)
				hit = gt_load_find(c, n, ev->pid, ev->tid);
			if (!hit) {
				if (stray++ < 5)
					fprintf(stderr, "gt_load: event of unknown thread %u/%u\n",
						ev->pid, ev->tid);
				continue;
			}
			if (seq < hit->last || seq >= hit->emitted) {
				if (bad++ < 10)
					fprintf(stderr,
						"gt_load: thread %u/%u: seq %" PRIu64
						" after %" PRIu64 " (emitted %" PRIu64 ")\n",
						hit->pid, hit->tid, seq, hit->last, hit->emitted);
				continue;
			}
			hit->last = seq + 1;
			hit->recorded++;
		}
		if (ret < 0) {
			fprintf(stderr, "gt_load: '%s': %s\n", path, gt_reader_errmsg(r));
			goto out;
		}
	}
	for (size_t i = 0; i < gt_reader_lost_count(r); i++) {
		const struct gt_lost *l = gt_reader_lost_at(r, i);
		struct gt_load_count *x = l ? gt_load_find(c, n, l->pid, l->tid) : NULL;

		if (x) {
			x->lost += l->count;
		} else if (l) {
			stray++;
			fprintf(stderr, "gt_load: %" PRIu64 " lost for unknown thread %u/%u\n",
				l->count, l->pid, l->tid);
		}
	}
	for (size_t i = 0; i < n; i++) {
		emitted += c[i].emitted;
		recorded += c[i].recorded;
		lost += c[i].lost;
		if (c[i].recorded + c[i].lost != c[i].emitted && bad++ < 20)
			fprintf(stderr,
				"gt_load: thread %u/%u: emitted %" PRIu64 " != recorded %" PRIu64
				" + lost %" PRIu64 "\n",
				c[i].pid, c[i].tid, c[i].emitted, c[i].recorded, c[i].lost);
	}
	printf("{\"threads\":%zu,\"emitted\":%" PRIu64 ",\"recorded\":%" PRIu64
	       ",\"lost\":%" PRIu64 ",\"stray\":%" PRIu64 ",\"bad\":%d}\n",
	       n, emitted, recorded, lost, stray, bad);
	ret = (bad || stray || n == 0) ? 1 : 0;
out:
	gt_iter_free(it);
	gt_reader_close(r);
	return ret < 0 ? 2 : ret;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "emit"))
		return gt_load_emit(atoi(argv[2]), atoi(argv[3]), atof(argv[4]), argv[5]);
	if (argc == 4 && !strcmp(argv[1], "check"))
		return gt_load_check(argv[2], argv[3]);
	fprintf(stderr, "usage: gt_load emit PROCS THREADS SECONDS COUNTS\n"
			"       gt_load check FILE COUNTS\n");
	return 2;
}
