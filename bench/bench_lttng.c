/* SPDX-License-Identifier: MIT */
/*
 * bench_lttng.c - bench_emit's harness around an LTTng-UST 2.13 tracepoint
 * with the same payload (i64 counter, i32, a 16-character string copied per
 * event), so run_bench.sh can put gtrace and LTTng side by side on the same
 * machine in the same run.  Built only when lttng-ust is installed; the
 * session (lttng create / enable-event / start) is set up by run_bench.sh.
 *
 * usage and output: as bench_emit (same options, same output line).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_lttng_tp.h"

#define BENCH_THREADS_MAX 64
#define BENCH_RUNS_MAX 1000 /* run_bench.sh: 500 bursts for the 10 M-event files */

struct bench_thread {
	pthread_t th;
	pthread_barrier_t *start;
	uint64_t events;
	double rate; /* events/s to pace at; 0 = as fast as possible */
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

static void *bench_thread_main(void *arg)
{
	struct bench_thread *t = arg;
	char str[17] = "bench-string-00a";
	uint64_t n = t->events;

	/* first event of the thread: lets LTTng set up its per-thread state */
	lttng_ust_tracepoint(gtbench, sample, -1, -1, str);
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
				lttng_ust_tracepoint(gtbench, sample, (int64_t)i,
						     (int32_t)(i & 0xffff), str);
			}
			due = t->t_begin + (uint64_t)((double)i * 1e9 / t->rate);
			ts.tv_sec = (time_t)(due / 1000000000u);
			ts.tv_nsec = (long)(due % 1000000000u);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		}
	} else {
		for (uint64_t i = 0; i < n; i++) {
			str[15] = (char)('a' + (i & 15));
			lttng_ust_tracepoint(gtbench, sample, (int64_t)i, (int32_t)(i & 0xffff),
					     str);
		}
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

static int bench_run(unsigned int nthreads, uint64_t events, double pace, double *ns_per_event,
		     double *rate)
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
		if (pthread_create(&t[i].th, NULL, bench_thread_main, &t[i])) {
			fprintf(stderr, "bench_lttng: pthread_create failed\n");
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
	int opt;

	while ((opt = getopt(argc, argv, "t:n:r:p:R:l:")) != -1) {
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
		if (bench_run((unsigned int)threads, events, pace, &ns[r], &rates[r])) {
			fprintf(stderr, "bench_lttng: cannot start threads\n");
			return 2;
		}
	}
	qsort(ns, runs, sizeof(ns[0]), cmp_double);
	qsort(rates, runs, sizeof(rates[0]), cmp_double);
	printf("bench_lttng label=%s threads=%lu events=%llu runs=%lu median_ns=%.3f min_ns=%.3f "
	       "max_ns=%.3f rate_meps=%.1f tracer=%s\n",
	       label, threads, events, runs, ns[runs / 2], ns[0], ns[runs - 1],
	       rates[runs / 2] / 1e6, "lttng");
	return 0;
usage:
	fprintf(stderr,
		"usage: bench_lttng [-t THREADS] [-n EVENTS_PER_THREAD] [-r RUNS] [-p PAUSE_MS]\n"
		"                  [-R MEVENTS_PER_S_PER_THREAD] [-l LABEL]\n");
	return 2;
}
