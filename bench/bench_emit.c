/* SPDX-License-Identifier: MIT */
/*
 * bench_emit.c - what one GT_EVENT costs the instrumented program.
 *
 * Each run starts T threads behind a barrier; every thread emits E events of
 * the reference payload (an i64 counter, an i32 and a 16-character string
 * whose last byte changes every event, so the copy is real) and times its
 * own loop with CLOCK_MONOTONIC.  A run's cost is the mean ns/event of its
 * threads; the program prints the median, min and max over R runs and the
 * aggregate rate (all threads' events / wall time of the run).
 *
 * Whether the events are enabled is decided outside: run it under
 * `gtrace run` for the enabled cost, without a session (GTRACE_SESSION
 * unset) or under a profile that disables the provider for the disabled
 * cost.  The program cannot tell how many events were lost in the rings;
 * run_bench.sh reads that from the file with `gtrace info --json`.
 *
 * With -p MS the program sleeps MS milliseconds between runs: with runs
 * small enough to fit a thread's ring (-n 20000 at default buffers) and a
 * pause long enough for the collector to drain, nothing is dropped and the
 * time is that of real writes, not of the cheaper drop path.
 *
 * With -R M each thread paces itself at M million events/s (a millisecond's
 * worth of events, then a sleep until the schedule catches up): a
 * sustained, known load for checking how much the collector keeps;
 * ns/event is then wall time.
 *
 * With -b the loop runs without the event (the same counter and string
 * store): the baseline that bench/callgrind.sh subtracts.
 *
 * usage: bench_emit [-t THREADS] [-n EVENTS_PER_THREAD] [-r RUNS] [-p PAUSE_MS]
 *                   [-R MEVENTS_PER_S_PER_THREAD] [-l LABEL] [-b]
 * output: one line "bench_emit label=L threads=T events=E runs=R median_ns=...
 *         min_ns=... max_ns=... rate_meps=..." on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gtrace/gtrace.h>

GT_PROVIDER_DEFINE(bench_prov, "Bench.Emit");

#define BENCH_THREADS_MAX 64
#define BENCH_RUNS_MAX 1000 /* run_bench.sh: 500 bursts for the 10 M-event files */

struct bench_thread {
	pthread_t th;
	pthread_barrier_t *start;
	uint64_t events;
	double rate; /* events/s to pace at; 0 = as fast as possible */
	bool baseline; /* -b: run the loop without the event */
	uint64_t ns;
	uint64_t t_begin;
	uint64_t t_end;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The measured loop, out of line so that bench/callgrind.sh can count its
 * instructions alone (--toggle-collect=bench_loop): the events, the loop
 * and the string byte store, nothing else.
 */
static __attribute__((noinline)) void bench_loop(char *str, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		str[15] = (char)('a' + (i & 15));
		GT_EVENT(bench_prov, GT_LEVEL_INFO, 0x1, "Sample", GT_I64("counter", (int64_t)i),
			 GT_I32("n", (int32_t)(i & 0xffff)), GT_STR("s", str));
	}
}

/*
 * The same loop without the event (-b): what bench_loop costs besides the
 * event.  The empty asm keeps the compiler from folding the stores away.
 */
static __attribute__((noinline)) void bench_loop_empty(char *str, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		str[15] = (char)('a' + (i & 15));
		__asm__ volatile("" : : "r"(str), "r"(i) : "memory");
	}
}

static void *bench_thread_main(void *arg)
{
	struct bench_thread *t = arg;
	char str[17] = "bench-string-00a";
	uint64_t n = t->events;

	/* first event of the thread: claims a ring slot and registers the call site */
	GT_EVENT(bench_prov, GT_LEVEL_INFO, 0x1, "Sample", GT_I64("counter", -1), GT_I32("n", -1),
		 GT_STR("s", str));
	pthread_barrier_wait(t->start);
	t->t_begin = now_ns();
	if (t->rate > 0) {
		/*
		 * paced: a millisecond's worth of events, then sleep until the
		 * schedule catches up, leaving the CPU to the collector
		 */
		uint64_t burst = t->rate > 256e3 ? (uint64_t)(t->rate / 1000) : 256;

		for (uint64_t i = 0; i < n;) {
			uint64_t end = i + burst < n ? i + burst : n, due;
			struct timespec ts;

			for (; i < end; i++) {
				str[15] = (char)('a' + (i & 15));
				GT_EVENT(bench_prov, GT_LEVEL_INFO, 0x1, "Sample",
					 GT_I64("counter", (int64_t)i),
					 GT_I32("n", (int32_t)(i & 0xffff)), GT_STR("s", str));
			}
			due = t->t_begin + (uint64_t)((double)i * 1e9 / t->rate);
			ts.tv_sec = (time_t)(due / 1000000000u);
			ts.tv_nsec = (long)(due % 1000000000u);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		}
	} else if (t->baseline) {
		bench_loop_empty(str, n);
	} else {
		bench_loop(str, n);
	}
	t->t_end = now_ns();
	t->ns = t->t_end - t->t_begin;
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench_run(unsigned int nthreads, uint64_t events, double pace, bool baseline,
		     double *ns_per_event, double *rate)
{
	struct bench_thread t[BENCH_THREADS_MAX];
	pthread_barrier_t start;
	uint64_t first = UINT64_MAX, last = 0;
	double sum = 0;

	if (pthread_barrier_init(&start, NULL, nthreads))
		return -1;
	for (unsigned int i = 0; i < nthreads; i++) {
		t[i].start = &start;
		t[i].events = events;
		t[i].rate = pace;
		t[i].baseline = baseline;
		if (pthread_create(&t[i].th, NULL, bench_thread_main, &t[i])) {
			fprintf(stderr, "bench_emit: pthread_create failed\n");
			exit(2); /* the barrier would never open */
		}
	}
	for (unsigned int i = 0; i < nthreads; i++) {
		pthread_join(t[i].th, NULL);
		sum += (double)t[i].ns / (double)events;
		first = t[i].t_begin < first ? t[i].t_begin : first;
		last = t[i].t_end > last ? t[i].t_end : last;
	}
	pthread_barrier_destroy(&start);
	*ns_per_event = sum / nthreads;
	*rate = last > first ? (double)events * nthreads * 1e9 / (double)(last - first) : 0;
	return 0;
}

int main(int argc, char **argv)
{
	double ns[BENCH_RUNS_MAX], rates[BENCH_RUNS_MAX];
	unsigned long threads = 1, runs = 5, pause_ms = 0;
	double pace = 0;
	unsigned long long events = 5000000;
	const char *label = "emit";
	bool baseline = false;
	int opt;

	while ((opt = getopt(argc, argv, "t:n:r:p:R:l:b")) != -1) {
		switch (opt) {
		case 't':
			threads = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			events = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			runs = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			pause_ms = strtoul(optarg, NULL, 10);
			break;
		case 'R':
			pace = strtod(optarg, NULL) * 1e6;
			break;
		case 'l':
			label = optarg;
			break;
		case 'b':
			baseline = true;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || threads < 1 || threads > BENCH_THREADS_MAX || runs < 1 ||
	    runs > BENCH_RUNS_MAX || events < 1)
		goto usage;

	for (unsigned long r = 0; r < runs; r++) {
		if (pause_ms && r)
			usleep((useconds_t)(pause_ms * 1000));
		if (bench_run((unsigned int)threads, events, pace, baseline, &ns[r], &rates[r])) {
			fprintf(stderr, "bench_emit: cannot start threads\n");
			return 2;
		}
	}
	qsort(ns, runs, sizeof(ns[0]), cmp_double);
	qsort(rates, runs, sizeof(rates[0]), cmp_double);
	printf("bench_emit label=%s threads=%lu events=%llu runs=%lu median_ns=%.3f min_ns=%.3f "
	       "max_ns=%.3f rate_meps=%.1f session=%s\n",
	       label, threads, events, runs, ns[runs / 2], ns[0], ns[runs - 1],
	       rates[runs / 2] / 1e6, getenv("GTRACE_SESSION") ? "yes" : "no");
	return 0;
usage:
	fprintf(stderr,
		"usage: bench_emit [-t THREADS] [-n EVENTS_PER_THREAD] [-r RUNS] [-p PAUSE_MS]\n"
		"                  [-R MEVENTS_PER_S_PER_THREAD] [-l LABEL] [-b]\n");
	return 2;
}
