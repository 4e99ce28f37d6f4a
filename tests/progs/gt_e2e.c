/* SPDX-License-Identifier: MIT */
/*
 * gt_e2e.c - an instrumented program for end-to-end tests.
 *
 * Each mode emits a known set of events through the public API so that a
 * test script can run it under `gtrace run` and compare `gtrace dump
 * --format json` with what was emitted, field by field.  The expected
 * values live in tests/cli/e2e/expect.py; keep the two in step.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtrace/gtrace.h>

GT_PROVIDER_DEFINE(gt_e2e_prov, "Test.E2E");
GT_PROVIDER_DEFINE(gt_e2e_other, "Test.Other");

static int mode_types(void)
{
	static const unsigned char bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff };
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	GT_EVENT(gt_e2e_prov, GT_LEVEL_INFO, 0x1, "Ints", GT_I32("i32min", INT32_MIN),
		 GT_I32("i32max", INT32_MAX), GT_U32("u32max", UINT32_MAX), GT_I64("i64min", INT64_MIN),
		 GT_I64("i64max", INT64_MAX), GT_U64("u64max", UINT64_MAX), GT_I32("zero", 0),
		 GT_I64("minus1", -1), GT_U64("u64big", 0x8000000000000001ull));
	GT_EVENT(gt_e2e_prov, GT_LEVEL_INFO, 0x1, "Floats", GT_F64("tenth", 0.1), GT_F64("negzero", -0.0),
		 GT_F64("max", DBL_MAX), GT_F64("min", DBL_MIN), GT_F64("nan", NAN),
		 GT_F64("inf", INFINITY), GT_F64("ninf", -INFINITY));
	GT_EVENT(gt_e2e_prov, GT_LEVEL_WARNING, 0x2, "Bools", GT_BOOL("yes", true), GT_BOOL("no", false));
	GT_EVENT(gt_e2e_prov, GT_LEVEL_ERROR, 0x2, "Strings", GT_STR("empty", ""),
		 GT_STR("escapes", "tab\there \"quoted\" back\\slash\nnewline \x01 ctl"),
		 GT_STR("utf8", "h\xc3\xa9llo \xe2\x82\xac"), GT_STR("sixteen", "0123456789abcdef"),
		 GT_STR("null", NULL), GT_STR("big", big));
	GT_EVENT(gt_e2e_prov, GT_LEVEL_VERBOSE, 0x4, "Bytes", GT_BYTES("raw", bytes, sizeof(bytes)),
		 GT_BYTES("none", bytes, 0));
	GT_EVENT(gt_e2e_prov, GT_LEVEL_CRITICAL, 0x8000000000000000ull, "NoFields");
	GT_EVENT(gt_e2e_other, GT_LEVEL_INFO, 0, "Other", GT_I32("n", 7));
	return 0;
}

static int mode_spans(void)
{
	for (int i = 0; i < 3; i++) {
		GT_SPAN_BEGIN(gt_e2e_prov, GT_LEVEL_INFO, 0, "Step", GT_I32("i", i));
		usleep(1000);
		GT_SPAN_END(gt_e2e_prov, GT_LEVEL_INFO, 0, "Step", GT_I32("rc", -i));
	}
	return 0;
}

static int mode_log(void)
{
	gt_log(gt_e2e_prov, GT_LEVEL_WARNING, "retry %d of %s after %.1f ms", 3, "connect", 2.5);
	gt_log(gt_e2e_prov, GT_LEVEL_INFO, "plain message");
	gt_log(gt_e2e_prov, GT_LEVEL_INFO, "big %llu neg %lld hex %x pct %%", 18446744073709551615ull,
	       (long long)INT64_MIN, 255u);
	return 0;
}

struct gt_e2e_thread {
	int index;
	int count;
};

static void *thread_main(void *arg)
{
	const struct gt_e2e_thread *t = arg;

	for (int i = 0; i < t->count; i++)
		GT_EVENT(gt_e2e_prov, GT_LEVEL_INFO, 0, "Seq", GT_I32("thread", t->index), GT_I64("seq", i));
	return NULL;
}

static int mode_threads(int nthreads, int count)
{
	pthread_t th[64];
	struct gt_e2e_thread arg[64];

	if (nthreads > 64)
		nthreads = 64;
	for (int i = 0; i < nthreads; i++) {
		arg[i].index = i;
		arg[i].count = count;
		if (pthread_create(&th[i], NULL, thread_main, &arg[i]))
			return 1;
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	return 0;
}

/*
 * numbered: NTHREADS threads each emit Test.E2E/Num {thread, seq} with seq
 * 0, 1, 2... at about RATE events per second per thread, until STOPFILE
 * exists or SECONDS passed; then print "thread T emitted N" per thread.
 */
struct gt_e2e_num {
	int index;
	int rate;
	double seconds;
	const char *stopfile;
	long long emitted;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *num_main(void *arg)
{
	struct gt_e2e_num *t = arg;
	double start = now_s();
	long long seq = 0;

	for (;;) {
		double el = now_s() - start;
		long long due = (long long)(el * t->rate) + 1;

		if (el >= t->seconds || (t->stopfile && access(t->stopfile, F_OK) == 0))
			break;
		for (; seq < due; seq++)
			GT_EVENT(gt_e2e_prov, GT_LEVEL_INFO, 0, "Num", GT_I32("thread", t->index),
				 GT_I64("seq", seq));
		usleep(1000);
	}
	t->emitted = seq;
	return NULL;
}

static int mode_numbered(int nthreads, int rate, double seconds, const char *stopfile)
{
	pthread_t th[64];
	struct gt_e2e_num arg[64];

	if (nthreads > 64)
		nthreads = 64;
	for (int i = 0; i < nthreads; i++) {
		arg[i] = (struct gt_e2e_num){ i, rate, seconds, stopfile, 0 };
		if (pthread_create(&th[i], NULL, num_main, &arg[i]))
			return 1;
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		printf("thread %d emitted %lld\n", i, arg[i].emitted);
	}
	return 0;
}

static int mode_fork(const char *self)
{
	pid_t pid;
	int status;

	GT_EVENT(gt_e2e_prov, GT_LEVEL_INFO, 0, "Parent", GT_I32("step", 1));
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		GT_EVENT(gt_e2e_prov, GT_LEVEL_INFO, 0, "ForkChild", GT_I32("step", 2));
		execl(self, self, "exec-child", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	GT_EVENT(gt_e2e_prov, GT_LEVEL_INFO, 0, "Parent", GT_I32("step", 4));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int mode_exec_child(void)
{
	GT_EVENT(gt_e2e_prov, GT_LEVEL_INFO, 0, "ExecChild", GT_I32("step", 3));
	return 0;
}

static int mode_output(void)
{
	printf("out line 1\n");
	fflush(stdout);
	fprintf(stderr, "err line 1\n");
	printf("out line 2 \"quoted\"\n");
	fflush(stdout);
	fprintf(stderr, "err no newline");
	return 0;
}

static int mode_killself(int n)
{
	for (int i = 0; i < n; i++)
		GT_EVENT(gt_e2e_prov, GT_LEVEL_INFO, 0, "BeforeKill", GT_I64("seq", i));
	raise(SIGKILL);
	return 1;
}

static int mode_exit(int code)
{
	GT_EVENT(gt_e2e_prov, GT_LEVEL_INFO, 0, "Exiting", GT_I32("code", code));
	return code;
}

/* Kernel events (tests/cli/kernel): an event just before each getppid(). */
static int mode_syscalls(int n)
{
	for (int i = 0; i < n; i++) {
		GT_EVENT(gt_e2e_prov, GT_LEVEL_INFO, 0, "BeforeSyscall", GT_I64("i", i));
		getppid();
	}
	return 0;
}

/* Kernel events: @n bare getppid() calls, no user events. */
static int mode_getppid(int n)
{
	for (int i = 0; i < n; i++)
		getppid();
	return 0;
}

/*
 * noise: @n events Test.E2E/Noise {seq, junk} where junk is 200 bytes that
 * zstd cannot compress, so a trace grows by ~200 bytes per event (flight
 * recorder tests fill a 1 MiB window quickly); paced so the ring never
 * overflows (a hole in seq would be a loss, not an eviction).
 */
static int mode_noise(int n)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned char junk[200];

	for (int i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(junk); k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			junk[k] = (unsigned char)x;
		}
		GT_EVENT(gt_e2e_prov, GT_LEVEL_INFO, 0, "Noise", GT_I64("seq", i),
			 GT_BYTES("junk", junk, sizeof(junk)));
		if (i % 256 == 255)
			usleep(1000);
	}
	return 0;
}

/*
 * halfrec RATE SECONDS (tests/cli/fault/midrecord.sh): a producer killed in
 * the middle of writing a record.  Thread "half" commits Test.E2E/HalfDone
 * {seq 0..4}, then reserves a Test.E2E/Half record with gt_rec_reserve(),
 * writes half of its payload and never commits it.  Meanwhile thread 1
 * emits Test.E2E/Num {thread 1, seq} at RATE per second for SECONDS; once it
 * is done, "thread 1 emitted N" is printed and the process SIGKILLs itself
 * with the half-written record still reserved.
 */
static pthread_mutex_t half_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t half_cv = PTHREAD_COND_INITIALIZER;
static int half_state; /* 1: record reserved */

static void *half_main(void *arg)
{
	static struct gt_site_state st = { GT_SITE_UNREG, 0, NULL, NULL };
	static const char types[] = { GT_TYPE_I64, 0 };
	static const struct gt_site site = { &gt_e2e_prov, "Half", __FILE__, NULL, types, "seq\0",
					     0, __LINE__, GT_KIND_EVENT, GT_LEVEL_INFO, 1, 0, &st };
	struct gt_commit c;
	uint32_t id;
	unsigned char *w;

	(void)arg;
	for (int i = 0; i < 5; i++)
		GT_EVENT(gt_e2e_prov, GT_LEVEL_INFO, 0, "HalfDone", GT_I64("seq", i));
	id = gt_site_slow(&site);
	w = id ? gt_rec_reserve(id, sizeof(struct gt_rec_hdr) + 8, &c) : NULL;
	if (w)
		memset(w, 0xab, 4); /* half of the i64, then never gt_rec_commit() */
	pthread_mutex_lock(&half_mu);
	half_state = 1;
	pthread_cond_signal(&half_cv);
	pthread_mutex_unlock(&half_mu);
	for (;;)
		pause();
	return NULL;
}

static int mode_halfrec(int rate, double seconds)
{
	struct gt_e2e_num num = { 1, rate, seconds, NULL, 0 };
	pthread_t th_half, th_num;

	if (pthread_create(&th_half, NULL, half_main, NULL))
		return 1;
	pthread_mutex_lock(&half_mu);
	while (!half_state)
		pthread_cond_wait(&half_cv, &half_mu);
	pthread_mutex_unlock(&half_mu);
	if (pthread_create(&th_num, NULL, num_main, &num))
		return 1;
	pthread_join(th_num, NULL);
	printf("thread 1 emitted %lld\n", num.emitted);
	fflush(stdout);
	raise(SIGKILL);
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "types"))
		return mode_types();
	if (!strcmp(mode, "spans"))
		return mode_spans();
	if (!strcmp(mode, "log"))
		return mode_log();
	if (!strcmp(mode, "threads") && argc > 3)
		return mode_threads(atoi(argv[2]), atoi(argv[3]));
	if (!strcmp(mode, "fork"))
		return mode_fork(argv[0]);
	if (!strcmp(mode, "exec-child"))
		return mode_exec_child();
	if (!strcmp(mode, "output"))
		return mode_output();
	if (!strcmp(mode, "killself") && argc > 2)
		return mode_killself(atoi(argv[2]));
	if (!strcmp(mode, "exit") && argc > 2)
		return mode_exit(atoi(argv[2]));
	if (!strcmp(mode, "syscalls") && argc > 2)
		return mode_syscalls(atoi(argv[2]));
	if (!strcmp(mode, "getppid") && argc > 2)
		return mode_getppid(atoi(argv[2]));
	if (!strcmp(mode, "numbered") && argc > 4)
		return mode_numbered(atoi(argv[2]), atoi(argv[3]), atof(argv[4]),
				     argc > 5 ? argv[5] : NULL);
	if (!strcmp(mode, "noise") && argc > 2)
		return mode_noise(atoi(argv[2]));
	if (!strcmp(mode, "halfrec") && argc > 3)
		return mode_halfrec(atoi(argv[2]), atof(argv[3]));
	fprintf(stderr,
		"usage: gt_e2e types|spans|log|threads N COUNT|fork|output|killself N|exit CODE|\n"
		"              numbered THREADS RATE SECONDS [STOPFILE]|syscalls N|getppid N|\n"
		"              noise N|halfrec RATE SECONDS\n");
	return 2;
}
