/* SPDX-License-Identifier: MIT */
/*
 * test_lib.c - libgtrace end to end against a fake collector.
 *
 * The executable is both sides: run without arguments it is the harness
 * (test_lib_harness.c), which re-executes itself as "test_lib child MODE"
 * under a session it controls and then checks, byte by byte, what MODE
 * wrote into the shared segment.  Each MODE below is one scenario of
 * docs/abi.md: field encodings, spans, gt_log, threads, thread exit, a
 * full ring, wrap-around, rules, no session, fork, slot and schema
 * exhaustion, and the GT_DISABLE and C++ builds of the header.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtrace/gtrace.h>

#include "test_lib_harness.h"

GT_PROVIDER_DEFINE(tp, "Test.Lib");
GT_PROVIDER_DEFINE(tp_off, "Test.Off");
GT_PROVIDER_DEFINE(tp_other, "Other.Prov");

static const unsigned char test_bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff };
#define BIG_LEN 70000
#define FULL_N 1000
#define WRAP_BATCHES 40
#define WRAP_PER 25
#define RAW_N 1000
#define NTHREADS 4
#define NPER 1000

#include "gt_check.h"

/* ------------------------------------------------------------------ */
/* traced side: the scenarios, run as "test_lib child MODE"            */
/* ------------------------------------------------------------------ */

static char *big_string(void)
{
	char *s = malloc(BIG_LEN + 1);

	memset(s, 'y', BIG_LEN);
	s[BIG_LEN] = '\0';
	return s;
}

static int child_types(void)
{
	char *big = big_string();
	const char *nullstr = NULL;
	bool yes = true;

	GT_EVENT(tp, GT_LEVEL_INFO, 0x1, "Ints", GT_I32("i32min", INT32_MIN),
		 GT_I32("i32max", INT32_MAX), GT_U32("u32max", UINT32_MAX),
		 GT_I64("i64min", INT64_MIN), GT_I64("i64max", INT64_MAX),
		 GT_U64("u64max", UINT64_MAX), GT_I32("zero", 0));
	GT_EVENT(tp, GT_LEVEL_INFO, 0x1, "Floats", GT_F64("tenth", 0.1), GT_F64("negzero", -0.0),
		 GT_F64("nan", NAN), GT_F64("ninf", -INFINITY), GT_F64("max", DBL_MAX),
		 GT_BOOL("t", yes), GT_BOOL("f", false), GT_BOOL("two", 2));
	GT_EVENT(tp, GT_LEVEL_INFO, 0x1, "Strs", GT_STR("empty", ""), GT_STR("null", nullstr),
		 GT_STR("s16", "0123456789abcdef"), GT_BYTES("raw", test_bytes, sizeof(test_bytes)),
		 GT_BYTES("nullb", NULL, 5), GT_BYTES("none", test_bytes, 0));
	GT_EVENT(tp, GT_LEVEL_CRITICAL, 0x8000000000000000ull, "NoFields");
	GT_SPAN_BEGIN(tp, GT_LEVEL_INFO, 0, "Load", GT_STR("file", "a.txt"));
	GT_SPAN_END(tp, GT_LEVEL_INFO, 0, "Load", GT_I32("rc", -5));
	gt_log(tp, GT_LEVEL_WARNING, "retry %d of %s after %.1f ms", 3, "connect", 2.5);
	gt_log(tp, GT_LEVEL_INFO, "plain");
	gt_log(tp, GT_LEVEL_INFO, "all %d %u %ld %lu %lld %llu %c %hd %f %d %s %s", -7, 7u, -8L,
	       8ul, -9ll, 9ull, (char)'x', (short)-3, 1.5f, yes, (char *)"mut", nullstr);
	GT_EVENT(tp, GT_LEVEL_INFO, 0, "Big", GT_STR("big", big), GT_I32("after", 42));
	GT_EVENT(tp, GT_LEVEL_INFO, 0, "Big2", GT_STR("a", big), GT_STR("b", big));
	GT_EVENT(tp, GT_LEVEL_INFO, 0, "Sixteen", GT_I32("a1", 1), GT_I32("a2", 2), GT_I32("a3", 3),
		 GT_I32("a4", 4), GT_I32("a5", 5), GT_I32("a6", 6), GT_I32("a7", 7),
		 GT_I32("a8", 8), GT_I32("a9", 9), GT_I32("a10", 10), GT_I32("a11", 11), GT_I32("a12", 12),
		 GT_I32("a13", 13), GT_I32("a14", 14), GT_I32("a15", 15), GT_I32("a16", 16));
	free(big);
	exit(3); /* the on_exit handler must record it */
}

struct thr_arg {
	int index;
	pthread_barrier_t *start, *stop;
	uint32_t tid;
};

static void *thr_seq(void *p)
{
	struct thr_arg *a = p;

	a->tid = (uint32_t)syscall(SYS_gettid);
	for (int i = 0; i < NPER; i++)
		GT_EVENT(tp, GT_LEVEL_INFO, 0, "Seq", GT_I32("thread", a->index), GT_I64("seq", i));
	GT_EVENT(tp, GT_LEVEL_INFO, 0, "Last", GT_I32("thread", a->index),
		 GT_U32("tid", a->tid));
	return NULL;
}

static int child_threads(void)
{
	pthread_t th[NTHREADS];
	struct thr_arg arg[NTHREADS];

	GT_EVENT(tp, GT_LEVEL_INFO, 0, "Main", GT_I32("step", 0));
	for (int i = 0; i < NTHREADS; i++) {
		arg[i].index = i;
		if (pthread_create(&th[i], NULL, thr_seq, &arg[i]))
			return 50;
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	GT_EVENT(tp, GT_LEVEL_INFO, 0, "Main", GT_I32("step", 1));
	return 0;
}

static int child_full(void)
{
	for (int64_t i = 0; i < FULL_N; i++)
		GT_EVENT(tp, GT_LEVEL_INFO, 0, "Fill", GT_I64("i", i));
	return 0;
}

static void wrap_string(int i, char *buf)
{
	int len = (i * 7) % 90;

	for (int k = 0; k < len; k++)
		buf[k] = (char)('a' + (i + k) % 26);
	buf[len] = '\0';
}

static int child_wrap(void)
{
	char buf[128];

	for (int b = 0; b < WRAP_BATCHES; b++) {
		for (int k = 0; k < WRAP_PER; k++) {
			int i = b * WRAP_PER + k;

			wrap_string(i, buf);
			GT_EVENT(tp, GT_LEVEL_INFO, 0, "Wrap", GT_I64("i", i), GT_STR("s", buf));
		}
		gt_test_sync();
	}
	return 0;
}

/*
 * The exported API as an FFI binding would use it: its own descriptor,
 * gt_site_slow() for the id, then gt_rec_reserve() and
 * gt_rec_reserve_inline() alternately, with sizes the macros never pass.
 * Each record carries its index; the harness checks what arrived.
 */
static struct gt_site_state raw_state = { GT_SITE_UNREG, 0, NULL, NULL };
static const struct gt_site raw_site = { &tp, "Raw", __FILE__, NULL, "\x03", "i\0", 0, 1,
					 GT_KIND_EVENT, GT_LEVEL_INFO, 1, 0, &raw_state };

static int child_raw(void)
{
	uint32_t id = gt_site_slow(&raw_site);
	struct gt_commit c;
	int bad = 0;

	if (!id)
		return 10;
	/* too small, too large, absurd: dropped (and counted) by both entry points */
	bad += gt_rec_reserve_inline(id, 8, &c) != NULL;
	bad += gt_rec_reserve_inline(id, GT_REC_MAX + 1, &c) != NULL;
	bad += gt_rec_reserve_inline(id, (size_t)-1, &c) != NULL;
	bad += gt_rec_reserve(id, 15, &c) != NULL;
	if (bad)
		return 11;
	for (int64_t i = 0; i < RAW_N; i++) {
		unsigned char *w;

		/* 8 bytes of payload, or 8 plus some padding the record must carry as zeros */
		w = (i & 1) ? gt_rec_reserve_inline(id, 16 + 8 + (size_t)(i % 5), &c)
			    : gt_rec_reserve(id, 16 + 8 + (size_t)(i % 5), &c);
		if (!w)
			return 12;
		memcpy(w, &i, 8);
		gt_rec_commit(&c);
		if (i % 100 == 99)
			gt_test_sync();
	}
	return 0;
}

static int child_filter(void)
{
	int evals = 0;

	/* rules: "*" 5 all, "Test.*" 3 0x2, "Test.Off" 0 */
	GT_EVENT(tp, GT_LEVEL_WARNING, 0x2, "A", GT_I32("n", ++evals));
	GT_EVENT(tp, GT_LEVEL_ERROR, 0, "B", GT_I32("n", ++evals));
	GT_EVENT(tp, GT_LEVEL_INFO, 0x2, "C", GT_I32("n", ++evals));
	GT_EVENT(tp, GT_LEVEL_WARNING, 0x1, "D", GT_I32("n", ++evals));
	GT_EVENT(tp_off, GT_LEVEL_CRITICAL, 0, "E", GT_I32("n", ++evals));
	GT_EVENT(tp_other, GT_LEVEL_VERBOSE, 0x10, "F", GT_I32("n", ++evals));
	gt_log(tp, GT_LEVEL_INFO, "disabled log %d", ++evals);
	if (evals != 3)
		return 10; /* only A, B and F may evaluate their fields */
	if (!gt_enabled(tp, GT_LEVEL_WARNING, 0x2) || !gt_enabled(tp, GT_LEVEL_CRITICAL, 0))
		return 11;
	if (gt_enabled(tp, GT_LEVEL_INFO, 0) || gt_enabled(tp, GT_LEVEL_WARNING, 0x1))
		return 12;
	if (gt_enabled(tp_off, GT_LEVEL_CRITICAL, 0) ||
	    !gt_enabled(tp_other, GT_LEVEL_VERBOSE, 0x4))
		return 13;
	for (int i = 0; i < 3; i++) /* a second pass takes the fast path: same answers */
		GT_EVENT(tp, GT_LEVEL_INFO, 0x2, "C", GT_I32("n", ++evals));
	return evals == 3 ? 0 : 14;
}

static int child_nosession(void)
{
	int evals = 0;

	for (int i = 0; i < 3; i++) {
		GT_EVENT(tp, GT_LEVEL_CRITICAL, 0, "X", GT_I32("n", ++evals));
		GT_SPAN_BEGIN(tp, GT_LEVEL_CRITICAL, 0, "S", GT_STR("s", (++evals, "x")));
		GT_SPAN_END(tp, GT_LEVEL_CRITICAL, 0, "S");
		gt_log(tp, GT_LEVEL_CRITICAL, "x %d", ++evals);
		if (gt_enabled(tp, GT_LEVEL_CRITICAL, 0))
			return 20;
	}
	if (strcmp(gt_version(), "") == 0)
		return 21;
	return evals == 0 ? 0 : 22;
}

static void fork_site(int step)
{
	GT_EVENT(tp, GT_LEVEL_INFO, 0, "Before", GT_I32("step", step), GT_I32("pid", getpid()));
}

static int child_fork(void)
{
	int status;
	pid_t pid;

	GT_EVENT(tp, GT_LEVEL_INFO, 0, "ParentOnly", GT_I32("x", 1));
	fork_site(1);
	pid = fork();
	if (pid < 0)
		return 30;
	if (pid == 0) {
		fork_site(2);
		GT_EVENT(tp, GT_LEVEL_INFO, 0, "ChildOnly", GT_I32("x", 2));
		exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return 31;
	fork_site(3);
	return 0;
}

static void *thr_noslot(void *p)
{
	struct thr_arg *a = p;

	pthread_barrier_wait(a->start);
	for (int i = 0; i < 10; i++)
		GT_EVENT(tp, GT_LEVEL_INFO, 0, "Slot", GT_I32("thread", a->index));
	pthread_barrier_wait(a->stop); /* hold the slot until all have tried */
	return NULL;
}

static int child_noslot(void)
{
	pthread_barrier_t start, stop;
	pthread_t th[4];
	struct thr_arg arg[4];

	pthread_barrier_init(&start, NULL, 4);
	pthread_barrier_init(&stop, NULL, 4);
	for (int i = 0; i < 4; i++) {
		arg[i].index = i;
		arg[i].start = &start;
		arg[i].stop = &stop;
		if (pthread_create(&th[i], NULL, thr_noslot, &arg[i]))
			return 40;
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	return 0;
}

#define NS1(k)                                                                         \
	GT_EVENT(tp, GT_LEVEL_INFO, 0, "NoSchemaEventWithALongishName", GT_I32("k", k),    \
		 GT_I32("another_rather_long_field_name", r));
#define NS8(b)                                                                         \
	NS1(b + 0) NS1(b + 1) NS1(b + 2) NS1(b + 3) NS1(b + 4) NS1(b + 5) NS1(b + 6) NS1(b + 7)

static int log_calls;

static void count_log(const char *msg, void *arg)
{
	if (arg == &log_calls && strstr(msg, "schema region full"))
		log_calls++;
	errno = EIO; /* libgtrace must restore errno around the handler */
}

static int child_noschema(void)
{
	gt_set_log_handler(count_log, &log_calls);
	errno = 1234;
	for (int r = 0; r < 2; r++) {
		NS8(0) NS8(8) NS8(16) NS8(24) NS8(32) NS8(40) NS8(48) NS8(56)
	}
	if (errno != 1234)
		return 41;
	gt_set_log_handler(NULL, NULL);
	/* one message per call site that did not fit, on its first pass only */
	return log_calls > 0 && log_calls < 64 ? 0 : 42;
}

/* Count this process's open sockets and memfds (exec must not leak ours). */
static int count_fds(const char *prefix)
{
	char path[64], link[256];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		n += strncmp(link, prefix, strlen(prefix)) == 0;
	}
	return n;
}

static int child_exec(const char *self)
{
	GT_EVENT(tp, GT_LEVEL_INFO, 0, "PreExec", GT_I32("pid", getpid()));
	execl(self, self, "child", "exec2", (char *)NULL);
	return 60;
}

static int child_exec2(void)
{
	GT_EVENT(tp, GT_LEVEL_INFO, 0, "PostExec", GT_I32("pid", getpid()));
	/* only the new image's own session socket: the old one was CLOEXEC */
	if (count_fds("socket:") != 1 || count_fds("/memfd:") != 0)
		return 61;
	return 0;
}

static int child_quiet(void)
{
	GT_EVENT(tp, GT_LEVEL_CRITICAL, 0, "Quiet", GT_I32("n", 1));
	return gt_enabled(tp, GT_LEVEL_CRITICAL, 0) ? 70 : 0;
}

static const char *self_path(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n <= 0)
		return "/proc/self/exe";
	path[n] = '\0';
	return path;
}

/* The disabled path as the disassembly test sees it: see test_disasm(). */
__attribute__((noinline, used)) void gt_test_disabled_fn(int64_t s, int32_t n);
__attribute__((noinline, used)) void gt_test_disabled_fn(int64_t s, int32_t n)
{
	GT_EVENT(tp_off, GT_LEVEL_INFO, 0x1, "Disasm", GT_I64("seq", s), GT_I32("len", n));
}

/* The enabled path as the disassembly test sees it: see test_disasm_enabled(). */
__attribute__((noinline, used)) void gt_test_enabled_fn(int64_t s, int32_t n, const char *str);
__attribute__((noinline, used)) void gt_test_enabled_fn(int64_t s, int32_t n, const char *str)
{
	GT_EVENT(tp, GT_LEVEL_INFO, 0x1, "DisasmOn", GT_I64("seq", s), GT_I32("len", n),
		 GT_STR("s", str));
}

static int child_main(const char *mode)
{
	if (!strcmp(mode, "types"))
		return child_types();
	if (!strcmp(mode, "threads"))
		return child_threads();
	if (!strcmp(mode, "full"))
		return child_full();
	if (!strcmp(mode, "wrap"))
		return child_wrap();
	if (!strcmp(mode, "filter"))
		return child_filter();
	if (!strcmp(mode, "raw"))
		return child_raw();
	if (!strcmp(mode, "nosession"))
		return child_nosession();
	if (!strcmp(mode, "fork"))
		return child_fork();
	if (!strcmp(mode, "noslot"))
		return child_noslot();
	if (!strcmp(mode, "noschema"))
		return child_noschema();
	if (!strcmp(mode, "exec"))
		return child_exec(self_path());
	if (!strcmp(mode, "exec2"))
		return child_exec2();
	if (!strcmp(mode, "quiet"))
		return child_quiet();
	return 99;
}

/* ------------------------------------------------------------------ */
/* harness side: run each scenario and check what arrived              */
/* ------------------------------------------------------------------ */

static const char *self_exe;
static void common_checks(const struct gt_test_cap *cap);

/* Run "self child quiet" with @env; return what it wrote to stdout and stderr. */
static int run_capture(const char *const *env, char *out, size_t outcap, char *err,
		       size_t errcap)
{
	int po[2], pe[2], status;
	size_t no = 0, ne = 0;
	pid_t pid;

	if (pipe(po) < 0 || pipe(pe) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execle(self_exe, self_exe, "child", "quiet", (char *)NULL, env);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	for (;;) {
		ssize_t n = read(po[0], out + no, outcap - 1 - no);

		if (n <= 0)
			break;
		no += (size_t)n;
	}
	for (;;) {
		ssize_t n = read(pe[0], err + ne, errcap - 1 - ne);

		if (n <= 0)
			break;
		ne += (size_t)n;
	}
	out[no] = err[ne] = '\0';
	close(po[0]);
	close(pe[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/*
 * Run scenario @mode of @exe in a session of @cfg, joined, and apply the
 * checks every single-process scenario shares: exit 0, one process,
 * common_checks().  Return: true when @cap holds that one process.
 */
static bool run_single(struct gt_test_cap *cap, struct gt_test_cfg *cfg, const char *exe,
		       const char *mode)
{
	CHECK(gt_test_run(cap, cfg, exe, mode, true) == 0);
	CHECK(WIFEXITED(cap->status) && WEXITSTATUS(cap->status) == 0);
	CHECK(cap->nprocs == 1);
	if (cap->nprocs != 1)
		return false;
	common_checks(cap);
	return true;
}

static void test_debug_env(void)
{
	static const char *const quiet[] = { "GTRACE_SESSION=/nonexistent/gtrace.sock", NULL };
	static const char *const loud[] = { "GTRACE_SESSION=/nonexistent/gtrace.sock",
					     "GT_DEBUG=1", NULL };
	static const char *const nosess[] = { "GT_DEBUG=1", NULL };
	char out[4096], err[4096];

	/* a dead session: the program runs untraced and silent */
	CHECK(run_capture(quiet, out, sizeof(out), err, sizeof(err)) == 0);
	CHECK(out[0] == 0 && err[0] == 0);
	/* GT_DEBUG=1 says why on stderr, never on stdout */
	CHECK(run_capture(loud, out, sizeof(out), err, sizeof(err)) == 0);
	CHECK(out[0] == 0);
	CHECK(strstr(err, "gtrace: cannot connect to '/nonexistent/gtrace.sock'") != NULL);
	CHECK(run_capture(nosess, out, sizeof(out), err, sizeof(err)) == 0);
	CHECK(out[0] == 0 && strstr(err, "GTRACE_SESSION not set") != NULL);
}

/*
 * Disassembly smoke test of the disabled fast path: from gt_test_disabled_fn's
 * entry, the fall-through path (the one __builtin_expect lays out for a
 * disabled site) must reach its ret in a handful of instructions, with no
 * call.  Only meaningful in optimized builds with objdump at hand.
 */
static void test_disasm(void)
{
#if defined(__OPTIMIZE__) && !defined(GT_TEST_NO_DISASM)
	char cmd[4200], line[512];
	bool in = false, done = false;
	int n = 0, calls = 0;
	FILE *f;

	gt_test_disabled_fn(0, 0); /* not traced here: just keep it referenced */
	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn '%s' 2>/dev/null", self_exe);
	f = popen(cmd, "r");
	if (!f) {
		fprintf(stderr, "test_disasm: objdump unavailable, skipped\n");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!in) {
			in = strstr(line, "<gt_test_disabled_fn>:") != NULL;
			continue;
		}
		if (done || !strchr(line, '\t'))
			continue;
		n++;
		calls += strstr(line, "call") != NULL;
		if (strstr(line, "\tret"))
			done = true;
	}
	pclose(f);
	if (!in) {
		fprintf(stderr, "test_disasm: objdump unavailable or symbol missing, skipped\n");
		return;
	}
	fprintf(stderr, "test_disasm: disabled path is %d instructions\n", n);
	CHECK(done && calls == 0);
	CHECK(n > 0 && n <= 16);
#endif
}

/*
 * Disassembly smoke test of the enabled path: the reservation is inline, so
 * the rdtsc is at the call site, and the only calls in a GT_EVENT with an
 * i64, an i32 and a string are the slow paths (gt_site_slow,
 * gt_rec_reserve), strlen() and memcpy() (strings over 32 bytes only).
 */
static void test_disasm_enabled(void)
{
#if defined(__OPTIMIZE__) && !defined(GT_TEST_NO_DISASM) && defined(__x86_64__)
	char cmd[4200], line[512];
	bool in = false, rdtsc = false;
	int calls = 0, other = 0;
	FILE *f;

	gt_test_enabled_fn(0, 0, ""); /* not traced here: just keep it referenced */
	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn '%s' 2>/dev/null", self_exe);
	f = popen(cmd, "r");
	if (!f) {
		fprintf(stderr, "test_disasm_enabled: objdump unavailable, skipped\n");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!in) {
			in = strstr(line, "<gt_test_enabled_fn>:") != NULL;
			continue;
		}
		if (line[0] == '\n' || strstr(line, ">:")) /* the next function */
			break;
		rdtsc |= strstr(line, "\trdtsc") != NULL;
		if (!strstr(line, "\tcall") && !strstr(line, "\tjmp"))
			continue;
		if (!strchr(line, '<') || strstr(line, "<gt_test_enabled_fn"))
			continue; /* a jump inside the function */
		calls++;
		if (!strstr(line, "<gt_site_slow") && !strstr(line, "<gt_rec_reserve") &&
		    !strstr(line, "<strlen") && !strstr(line, "<memcpy")) {
			fprintf(stderr, "test_disasm_enabled: unexpected call: %s", line);
			other++;
		}
	}
	while (fgets(line, sizeof(line), f))
		;
	pclose(f);
	if (!in) {
		fprintf(stderr, "test_disasm_enabled: no objdump or no symbol, skipped\n");
		return;
	}
	fprintf(stderr, "test_disasm_enabled: %d calls, rdtsc %s\n", calls,
		rdtsc ? "inline" : "absent");
	CHECK(rdtsc);
	CHECK(calls >= 3 && other == 0);
#endif
}

/* A WELCOME is untrusted input: each malformed one leaves the program untraced. */
static void test_bad_welcome(void)
{
	for (int bad = 1; bad < GT_TEST_BAD_COUNT_; bad++) {
		struct gt_test_cfg cfg;
		struct gt_test_cap cap;

		gt_test_cfg_default(&cfg);
		gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
		cfg.bad_welcome = bad;
		CHECK(gt_test_run(&cap, &cfg, self_exe, "quiet", true) == 0);
		/* "quiet" exits 0 only if its call sites ended up disabled */
		CHECK(WIFEXITED(cap.status) && WEXITSTATUS(cap.status) == 0);
		CHECK(cap.rejected == 1 && cap.nprocs == 0 && cap.nrecs == 0);
		if (failures)
			fprintf(stderr, "test_bad_welcome: case %d\n", bad);
		gt_test_cap_free(&cap);
	}
}

static void test_exec(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;

	gt_test_cfg_default(&cfg);
	gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
	CHECK(gt_test_run(&cap, &cfg, self_exe, "exec", true) == 0);
	CHECK(WIFEXITED(cap.status) && WEXITSTATUS(cap.status) == 0);
	CHECK(cap.nprocs == 2);
	if (cap.nprocs != 2)
		goto out;
	common_checks(&cap);
	/* same pid, two images, two segments */
	CHECK(cap.procs[0].pid == cap.procs[1].pid);
	CHECK(gt_test_count(&cap, 0, "PreExec") == 1 && gt_test_count(&cap, 0, "PostExec") == 0);
	CHECK(gt_test_count(&cap, 1, "PostExec") == 1 && gt_test_count(&cap, 1, "PreExec") == 0);
	CHECK(((const struct gt_shm_header *)cap.procs[1].seg)->exit_flags == GT_EXIT_NORMAL);
out:
	gt_test_cap_free(&cap);
}

static const struct gt_test_rec *nth_rec(const struct gt_test_cap *cap, int proc,
					 const char *name, size_t n,
					 const struct gt_test_schema **sp)
{
	const struct gt_test_schema *s = gt_test_schema_by_name(cap, proc, name);

	*sp = s;
	if (!s)
		return NULL;
	for (size_t i = 0; i < cap->nrecs; i++)
		if (cap->recs[i].proc == proc && cap->recs[i].id == s->id && n-- == 0)
			return &cap->recs[i];
	return NULL;
}

/* Decode the n-th record named @name of process 0 into @v; NULL-safe CHECKs. */
static const struct gt_test_schema *get_rec(const struct gt_test_cap *cap, const char *name,
					    size_t n, struct gt_test_val *v)
{
	const struct gt_test_schema *s;
	const struct gt_test_rec *r = nth_rec(cap, 0, name, n, &s);

	if (!r || !s) {
		fprintf(stderr, "no record '%s' #%zu\n", name, n);
		failures++;
		return NULL;
	}
	if (gt_test_decode(s, r, v) < 0) {
		fprintf(stderr, "record '%s' #%zu does not decode exactly\n", name, n);
		failures++;
		return NULL;
	}
	return s;
}

static bool str_is(const struct gt_test_val *v, const char *s)
{
	return (v->type == GT_TYPE_STR || v->type == GT_TYPE_BYTES) && v->len == strlen(s) &&
	       memcmp(v->p, s, v->len) == 0;
}

static uint64_t bits(double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	return u;
}

static void common_checks(const struct gt_test_cap *cap)
{
	for (int i = 0; i < cap->nprocs; i++)
		CHECK(cap->procs[i].corrupt == 0);
}

static void test_types(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;
	struct gt_test_val v[GT_FIELDS_MAX];
	const struct gt_test_schema *s;
	const struct gt_shm_header *h;

	gt_test_cfg_default(&cfg);
	gt_test_cfg_rule(&cfg, "Test.*", 5, ~0ull);
	CHECK(gt_test_run(&cap, &cfg, self_exe, "types", true) == 0);
	CHECK(WIFEXITED(cap.status) && WEXITSTATUS(cap.status) == 3);
	CHECK(cap.nprocs == 1);
	if (cap.nprocs != 1)
		goto out;
	common_checks(&cap);
	h = (const struct gt_shm_header *)cap.procs[0].seg;
	CHECK(h->exit_flags == GT_EXIT_NORMAL && h->exit_status == 3);
	CHECK(h->lost_noslot == 0 && h->lost_noschema == 0);

	s = get_rec(&cap, "Ints", 0, v);
	if (s) {
		CHECK(s->nfields == 7 && s->kind == GT_KIND_EVENT && s->level == GT_LEVEL_INFO);
		CHECK(s->keywords == 0x1 && !strcmp(s->provider, "Test.Lib"));
		CHECK(!strcmp(s->fields[0], "i32min") && !strcmp(s->fields[6], "zero"));
		CHECK(strstr(s->file, "test_lib.c") != NULL && s->line > 0 && s->format[0] == 0);
		CHECK(v[0].type == GT_TYPE_I32 && (int64_t)v[0].u == INT32_MIN);
		CHECK((int64_t)v[1].u == INT32_MAX);
		CHECK(v[2].type == GT_TYPE_U32 && v[2].u == UINT32_MAX);
		CHECK(v[3].type == GT_TYPE_I64 && (int64_t)v[3].u == INT64_MIN);
		CHECK((int64_t)v[4].u == INT64_MAX);
		CHECK(v[5].type == GT_TYPE_U64 && v[5].u == UINT64_MAX);
		CHECK(v[6].u == 0);
	}
	s = get_rec(&cap, "Floats", 0, v);
	if (s) {
		CHECK(v[0].type == GT_TYPE_F64 && v[0].u == bits(0.1));
		CHECK(v[1].u == bits(-0.0));
		CHECK(isnan(v[2].f));
		CHECK(v[3].u == bits(-INFINITY) && v[4].u == bits(DBL_MAX));
		CHECK(v[5].type == GT_TYPE_BOOL && v[5].u == 1 && v[6].u == 0 && v[7].u == 1);
	}
	s = get_rec(&cap, "Strs", 0, v);
	if (s) {
		CHECK(v[0].type == GT_TYPE_STR && v[0].len == 0);
		CHECK(v[1].type == GT_TYPE_STR && v[1].len == 0); /* GT_STR(NULL) */
		CHECK(str_is(&v[2], "0123456789abcdef"));
		CHECK(v[3].type == GT_TYPE_BYTES && v[3].len == sizeof(test_bytes) &&
		      !memcmp(v[3].p, test_bytes, sizeof(test_bytes)));
		CHECK(v[4].type == GT_TYPE_BYTES && v[4].len == 0);
		CHECK(v[5].len == 0);
	}
	s = get_rec(&cap, "NoFields", 0, v);
	if (s) {
		CHECK(s->nfields == 0 && s->level == GT_LEVEL_CRITICAL);
		CHECK(s->keywords == 0x8000000000000000ull);
	}
	s = get_rec(&cap, "Load", 0, v);
	if (s) {
		CHECK(s->kind == GT_KIND_SPAN_BEGIN && str_is(&v[0], "a.txt"));
	}
	{
		/* the END schema is the one after BEGIN's */
		const struct gt_test_schema *b = gt_test_schema_by_name(&cap, 0, "Load");
		const struct gt_test_schema *e;

		e = b ? gt_test_schema_by_id(&cap, 0, b->id + 1) : NULL;

		CHECK(e && e->kind == GT_KIND_SPAN_END && !strcmp(e->name, "Load"));
		CHECK(e && e->nfields == 1 && e->types[0] == GT_TYPE_I32 &&
		      !strcmp(e->fields[0], "rc"));
		if (e) {
			size_t n = 0;

			for (size_t i = 0; i < cap.nrecs; i++) {
				if (cap.recs[i].id != e->id)
					continue;
				n++;
				CHECK(gt_test_decode(e, &cap.recs[i], v) == 0 &&
				      (int64_t)v[0].u == -5);
			}
			CHECK(n == 1);
		}
	}
	/* gt_log: three log schemas named "log", in order */
	{
		const struct gt_test_schema *l[3] = { 0 };
		size_t nl = 0;

		for (size_t i = 0; i < cap.procs[0].nschemas && nl < 3; i++)
			if (cap.procs[0].schemas[i].kind == GT_KIND_LOG)
				l[nl++] = &cap.procs[0].schemas[i];
		CHECK(nl == 3);
		if (nl == 3) {
			static const uint8_t t2[] = { GT_TYPE_I32, GT_TYPE_U32, GT_TYPE_I64,
						      GT_TYPE_U64, GT_TYPE_I64, GT_TYPE_U64,
						      GT_TYPE_I32, GT_TYPE_I32, GT_TYPE_F64,
						      GT_TYPE_BOOL, GT_TYPE_STR, GT_TYPE_STR };

			CHECK(!strcmp(l[0]->format, "retry %d of %s after %.1f ms"));
			CHECK(l[0]->nfields == 3 && l[0]->types[0] == GT_TYPE_I32 &&
			      l[0]->types[1] == GT_TYPE_STR && l[0]->types[2] == GT_TYPE_F64);
			CHECK(!strcmp(l[0]->fields[0], "arg0") && !strcmp(l[0]->fields[2], "arg2"));
			CHECK(l[0]->level == GT_LEVEL_WARNING);
			CHECK(!strcmp(l[1]->format, "plain") && l[1]->nfields == 0);
			CHECK(l[2]->nfields == sizeof(t2) && !memcmp(l[2]->types, t2, sizeof(t2)));
			for (size_t i = 0; i < cap.nrecs; i++) {
				const struct gt_test_rec *r = &cap.recs[i];

				if (r->id == l[0]->id) {
					CHECK(gt_test_decode(l[0], r, v) == 0);
					CHECK(v[0].u == 3 && str_is(&v[1], "connect") &&
					      v[2].f == 2.5);
				} else if (r->id == l[1]->id) {
					CHECK(r->len == 0);
				} else if (r->id == l[2]->id) {
					CHECK(gt_test_decode(l[2], r, v) == 0);
					CHECK((int64_t)v[0].u == -7 && v[1].u == 7);
					CHECK((int64_t)v[2].u == -8 && v[3].u == 8);
					CHECK((int64_t)v[4].u == -9 && v[5].u == 9);
					CHECK(v[6].u == 'x' && (int64_t)v[7].u == -3);
					CHECK(v[8].f == 1.5 && v[9].u == 1);
					CHECK(str_is(&v[10], "mut") && v[11].len == 0);
				}
			}
		}
	}
	/* truncation: the record is exactly GT_REC_MAX */
	s = get_rec(&cap, "Big", 0, v);
	if (s) {
		size_t want = GT_REC_MAX - 16 - 4 - 4;

		CHECK(v[0].len == want && (int64_t)v[1].u == 42);
		CHECK(v[0].p[0] == 'y' && v[0].p[want - 1] == 'y');
	}
	s = get_rec(&cap, "Big2", 0, v);
	if (s)
		CHECK(v[0].len == GT_REC_MAX - 16 - 8 && v[1].len == 0);
	s = get_rec(&cap, "Sixteen", 0, v);
	if (s) {
		CHECK(s->nfields == 16 && !strcmp(s->fields[15], "a16"));
		for (int i = 0; i < 16; i++)
			CHECK((int64_t)v[i].u == i + 1);
	}
	CHECK(cap.nrecs == 12);
	/* one thread: one slot, timestamps never go back */
	for (size_t i = 1; i < cap.nrecs; i++)
		CHECK(cap.recs[i].slot == cap.recs[0].slot && cap.recs[i].ts >= cap.recs[i - 1].ts);
out:
	gt_test_cap_free(&cap);
}

static void test_threads(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;
	struct gt_test_val v[4];
	const struct gt_test_schema *seq, *last;
	int64_t next[NTHREADS] = { 0 };
	int slot_of[NTHREADS];
	uint32_t tid_of[NTHREADS] = { 0 };

	gt_test_cfg_default(&cfg);
	gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
	if (!run_single(&cap, &cfg, self_exe, "threads"))
		goto out;
	seq = gt_test_schema_by_name(&cap, 0, "Seq");
	last = gt_test_schema_by_name(&cap, 0, "Last");
	CHECK(seq && last);
	if (!seq || !last)
		goto out;
	for (int i = 0; i < NTHREADS; i++)
		slot_of[i] = -1;
	for (size_t i = 0; i < cap.nrecs; i++) {
		const struct gt_test_rec *r = &cap.recs[i];
		int t;

		if (r->id == seq->id) {
			CHECK(gt_test_decode(seq, r, v) == 0);
			t = (int)v[0].u;
			CHECK(t >= 0 && t < NTHREADS);
			if (t < 0 || t >= NTHREADS)
				continue;
			if (slot_of[t] < 0)
				slot_of[t] = (int)r->slot;
			CHECK(slot_of[t] == (int)r->slot);
			CHECK((int64_t)v[1].u == next[t]); /* per-thread order kept */
			next[t] = (int64_t)v[1].u + 1;
		} else if (r->id == last->id) {
			CHECK(gt_test_decode(last, r, v) == 0);
			t = (int)v[0].u;
			if (t >= 0 && t < NTHREADS) {
				tid_of[t] = (uint32_t)v[1].u;
				CHECK(r->tid == tid_of[t]); /* slot tid is the thread's */
				CHECK(next[t] == NPER);     /* Last comes after every Seq */
			}
		}
	}
	for (int i = 0; i < NTHREADS; i++) {
		bool exited = false;

		CHECK(next[i] == NPER);
		CHECK(tid_of[i] != 0);
		for (int j = 0; j < i; j++)
			CHECK(slot_of[i] != slot_of[j] && tid_of[i] != tid_of[j]);
		for (size_t k = 0; k < cap.procs[0].nexited; k++)
			exited |= cap.procs[0].exited_tids[k] == tid_of[i];
		CHECK(exited); /* the thread's slot was marked EXITED */
	}
	CHECK(gt_test_count(&cap, 0, "Main") == 2);
	CHECK(cap.nrecs == NTHREADS * (NPER + 1) + 2);
out:
	gt_test_cap_free(&cap);
}

static void test_full(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;
	struct gt_test_val v[1];
	const struct gt_test_schema *s;
	uint64_t lost = 0;
	size_t n = 0;

	gt_test_cfg_default(&cfg);
	cfg.ring_size = 4096;
	cfg.nslots = 2;
	gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
	if (!run_single(&cap, &cfg, self_exe, "full"))
		goto out;
	s = gt_test_schema_by_name(&cap, 0, "Fill");
	CHECK(s != NULL);
	for (size_t i = 0; s && i < cap.nrecs; i++) {
		if (cap.recs[i].id != s->id)
			continue;
		CHECK(gt_test_decode(s, &cap.recs[i], v) == 0 && v[0].u == n);
		n++;
	}
	for (uint32_t i = 0; i < cfg.nslots; i++)
		lost += gt_test_slot(&cap.procs[0], i)->lost;
	/* 24-byte records in a 4 KiB ring that nobody drains: 170 fit */
	CHECK(n == 4096 / 24);
	CHECK(n + lost == FULL_N);
out:
	gt_test_cap_free(&cap);
}

static void test_wrap(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;
	struct gt_test_val v[2];
	const struct gt_test_schema *s;
	char buf[128];
	size_t n = 0;

	gt_test_cfg_default(&cfg);
	cfg.ring_size = 4096;
	cfg.nslots = 2;
	cfg.clock = GT_CLOCK_MONO;
	gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
	if (!run_single(&cap, &cfg, self_exe, "wrap"))
		goto out;
	s = gt_test_schema_by_name(&cap, 0, "Wrap");
	CHECK(s != NULL);
	for (size_t i = 0; s && i < cap.nrecs; i++) {
		if (cap.recs[i].id != s->id)
			continue;
		CHECK(gt_test_decode(s, &cap.recs[i], v) == 0 && v[0].u == n);
		wrap_string((int)n, buf);
		CHECK(str_is(&v[1], buf));
		if (i)
			CHECK(cap.recs[i].ts >= cap.recs[i - 1].ts);
		n++;
	}
	CHECK(n == WRAP_BATCHES * WRAP_PER);
	CHECK(cap.procs[0].pads > 0);
	CHECK(gt_test_slot(&cap.procs[0], 0)->lost == 0);
	CHECK(((const struct gt_shm_header *)cap.procs[0].seg)->clock == GT_CLOCK_MONO);
out:
	gt_test_cap_free(&cap);
}

/*
 * The wrap scenario again on the TSC clock, where GT_EVENT writes inline
 * (gt_rec_reserve_inline()) and the slow path runs only at each wrap and
 * when the cached room runs out: every record arrives once, in order, with
 * its padding bytes zero, and the slot's seq counts them.
 */
static void test_wrap_tsc(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;
	struct gt_test_val v[2];
	const struct gt_test_schema *s;
	char buf[128];
	size_t n = 0;

	gt_test_cfg_default(&cfg);
	cfg.ring_size = 4096;
	cfg.nslots = 2;
	cfg.clock = GT_CLOCK_TSC;
	gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
	if (!run_single(&cap, &cfg, self_exe, "wrap"))
		goto out;
	s = gt_test_schema_by_name(&cap, 0, "Wrap");
	CHECK(s != NULL);
	for (size_t i = 0; s && i < cap.nrecs; i++) {
		const struct gt_test_rec *r = &cap.recs[i];

		if (r->id != s->id)
			continue;
		CHECK(gt_test_decode(s, r, v) == 0 && v[0].u == n);
		wrap_string((int)n, buf);
		CHECK(str_is(&v[1], buf));
		/* payload: i64, u32 length, the bytes; zeros up to the 8-byte boundary */
		CHECK(r->len == ((12 + strlen(buf) + 7) & ~(size_t)7));
		for (size_t k = 12 + strlen(buf); k < r->len; k++)
			CHECK(r->payload[k] == 0);
		if (n)
			CHECK(r->ts >= cap.recs[i - 1].ts && r->ts != 0);
		n++;
	}
	CHECK(n == WRAP_BATCHES * WRAP_PER);
	CHECK(cap.procs[0].pads > 0);
	CHECK(gt_test_slot(&cap.procs[0], 0)->lost == 0);
	CHECK(gt_test_slot(&cap.procs[0], 0)->seq == WRAP_BATCHES * WRAP_PER);
	CHECK(((const struct gt_shm_header *)cap.procs[0].seg)->clock == GT_CLOCK_TSC);
out:
	gt_test_cap_free(&cap);
}

/* child_raw: the exported entry points, mixed, with bad sizes refused */
static void test_raw(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;
	struct gt_test_val v[1];
	const struct gt_test_schema *s;
	size_t n = 0;

	gt_test_cfg_default(&cfg);
	cfg.ring_size = 4096;
	cfg.nslots = 2;
	gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
	if (!run_single(&cap, &cfg, self_exe, "raw"))
		goto out;
	s = gt_test_schema_by_name(&cap, 0, "Raw");
	CHECK(s != NULL);
	for (size_t i = 0; s && i < cap.nrecs; i++) {
		const struct gt_test_rec *r = &cap.recs[i];
		size_t want = (8 + n % 5 + 7) & ~(size_t)7;

		if (r->id != s->id)
			continue;
		CHECK(r->len == want);
		if (r->len < 8)
			break;
		/* decode reads the first 8 bytes; the record may hold more */
		memcpy(&v[0].u, r->payload, 8);
		CHECK(v[0].u == n);
		for (size_t k = 8; k < r->len; k++)
			CHECK(r->payload[k] == 0);
		n++;
	}
	CHECK(n == RAW_N);
	/* the four refused reservations, and nothing else, were counted as lost */
	CHECK(gt_test_slot(&cap.procs[0], 0)->lost == 4);
	CHECK(gt_test_slot(&cap.procs[0], 0)->seq == RAW_N);
	CHECK(cap.procs[0].pads > 0);
out:
	gt_test_cap_free(&cap);
}

static void test_filter(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;

	gt_test_cfg_default(&cfg);
	gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
	gt_test_cfg_rule(&cfg, "Test.*", 3, 0x2);
	gt_test_cfg_rule(&cfg, "Test.Of?", 0, 0);
	if (!run_single(&cap, &cfg, self_exe, "filter"))
		goto out;
	CHECK(gt_test_count(&cap, 0, "A") == 1);
	CHECK(gt_test_count(&cap, 0, "B") == 1);
	CHECK(gt_test_count(&cap, 0, "F") == 1);
	/* disabled call sites register no schema at all */
	CHECK(!gt_test_schema_by_name(&cap, 0, "C") && !gt_test_schema_by_name(&cap, 0, "D"));
	CHECK(!gt_test_schema_by_name(&cap, 0, "E") && !gt_test_schema_by_name(&cap, 0, "log"));
	CHECK(cap.procs[0].nschemas == 3 && cap.nrecs == 3);
out:
	gt_test_cap_free(&cap);
}

static void test_nosession(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;

	gt_test_cfg_default(&cfg);
	gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
	CHECK(gt_test_run(&cap, &cfg, self_exe, "nosession", false) == 0);
	CHECK(WIFEXITED(cap.status) && WEXITSTATUS(cap.status) == 0);
	CHECK(cap.nprocs == 0 && cap.nrecs == 0);
	gt_test_cap_free(&cap);
}

static void test_fork(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;
	struct gt_test_val v[2];
	const struct gt_test_schema *sp, *sc;
	int steps[2][4] = { { 0 } };

	gt_test_cfg_default(&cfg);
	gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
	CHECK(gt_test_run(&cap, &cfg, self_exe, "fork", true) == 0);
	CHECK(WIFEXITED(cap.status) && WEXITSTATUS(cap.status) == 0);
	CHECK(cap.nprocs == 2);
	if (cap.nprocs != 2)
		goto out;
	common_checks(&cap);
	CHECK(cap.procs[0].pid != cap.procs[1].pid);
	sp = gt_test_schema_by_name(&cap, 0, "Before");
	sc = gt_test_schema_by_name(&cap, 1, "Before");
	CHECK(sp && sc && sp->id == sc->id); /* the child kept the parent's ids */
	CHECK(gt_test_schema_by_name(&cap, 1, "ParentOnly") != NULL); /* copied region */
	CHECK(gt_test_schema_by_name(&cap, 0, "ChildOnly") == NULL);
	CHECK(gt_test_count(&cap, 1, "ChildOnly") == 1);
	CHECK(gt_test_count(&cap, 1, "ParentOnly") == 0);
	for (size_t i = 0; sp && sc && i < cap.nrecs; i++) {
		const struct gt_test_rec *r = &cap.recs[i];
		const struct gt_test_schema *s = r->proc == 0 ? sp : sc;

		if (r->id != s->id)
			continue;
		CHECK(gt_test_decode(s, r, v) == 0);
		CHECK(v[1].u == (uint32_t)cap.procs[r->proc].pid);
		if (v[0].u < 4)
			steps[r->proc][v[0].u]++;
	}
	CHECK(steps[0][1] == 1 && steps[0][2] == 0 && steps[0][3] == 1);
	CHECK(steps[1][1] == 0 && steps[1][2] == 1 && steps[1][3] == 0);
	for (int i = 0; i < 2; i++) {
		const struct gt_shm_header *h = (const struct gt_shm_header *)cap.procs[i].seg;

		CHECK(h->pid == (uint32_t)cap.procs[i].pid);
		CHECK(h->exit_flags == GT_EXIT_NORMAL && h->exit_status == 0);
	}
out:
	gt_test_cap_free(&cap);
}

static void test_noslot(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;
	const struct gt_shm_header *h;

	gt_test_cfg_default(&cfg);
	cfg.nslots = 2;
	cfg.ring_size = 4096;
	gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
	if (!run_single(&cap, &cfg, self_exe, "noslot"))
		goto out;
	h = (const struct gt_shm_header *)cap.procs[0].seg;
	CHECK(gt_test_count(&cap, 0, "Slot") == 20);
	CHECK(h->lost_noslot == 20);
out:
	gt_test_cap_free(&cap);
}

static void test_noschema(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;
	const struct gt_shm_header *h;
	size_t n;

	gt_test_cfg_default(&cfg);
	cfg.schema_size = 4096;
	gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
	if (!run_single(&cap, &cfg, self_exe, "noschema"))
		goto out;
	h = (const struct gt_shm_header *)cap.procs[0].seg;
	n = cap.procs[0].nschemas;
	CHECK(n > 0 && n < 64);
	CHECK(h->schema_head <= 4096);
	CHECK(cap.nrecs == 2 * n);
	CHECK(h->lost_noschema == 2 * (64 - n));
out:
	gt_test_cap_free(&cap);
}

#ifdef GT_TEST_DISABLED_EXE
static void test_disabled_build(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;

	gt_test_cfg_default(&cfg);
	gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
	CHECK(gt_test_run(&cap, &cfg, GT_TEST_DISABLED_EXE, "disabled", true) == 0);
	CHECK(WIFEXITED(cap.status) && WEXITSTATUS(cap.status) == 0);
	for (int i = 0; i < cap.nprocs; i++)
		CHECK(cap.procs[i].nschemas == 0);
	CHECK(cap.nrecs == 0);
	gt_test_cap_free(&cap);
}
#endif

#ifdef GT_TEST_CPP_EXE
static void test_cpp(void)
{
	struct gt_test_cfg cfg;
	struct gt_test_cap cap;
	struct gt_test_val v[GT_FIELDS_MAX];
	const struct gt_test_schema *s;

	gt_test_cfg_default(&cfg);
	gt_test_cfg_rule(&cfg, "*", 5, ~0ull);
	if (!run_single(&cap, &cfg, GT_TEST_CPP_EXE, "cpp"))
		goto out;
	s = get_rec(&cap, "CppEvent", 0, v);
	if (s)
		CHECK((int64_t)v[0].u == -1 && str_is(&v[1], "cpp") && v[2].u == 1);
	s = get_rec(&cap, "log", 0, v);
	if (s) {
		static const uint8_t t[] = { GT_TYPE_I32, GT_TYPE_U32, GT_TYPE_I64, GT_TYPE_U64,
					     GT_TYPE_F64, GT_TYPE_F64, GT_TYPE_BOOL, GT_TYPE_STR,
					     GT_TYPE_I32, GT_TYPE_STR };

		CHECK(s->kind == GT_KIND_LOG && s->nfields == sizeof(t));
		CHECK(!memcmp(s->types, t, sizeof(t)));
		CHECK(!strcmp(s->format, "cpp %d %u %ld %llu %f %f %d %s %c %s"));
		CHECK((int64_t)v[0].u == -1 && v[1].u == 2 && (int64_t)v[2].u == -3);
		CHECK(v[3].u == 4 && v[4].f == 5.5 && v[5].f == 6.5 && v[6].u == 1);
		CHECK(str_is(&v[7], "seven") && v[8].u == 'z' && str_is(&v[9], "ten"));
	}
	CHECK(gt_test_count(&cap, 0, "CppSpan") == 2);
out:
	gt_test_cap_free(&cap);
}
#endif

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "child"))
		return child_main(argv[2]);
	self_exe = self_path();
	test_types();
	test_threads();
	test_full();
	test_wrap();
	test_wrap_tsc();
	test_raw();
	test_filter();
	test_nosession();
	test_fork();
	test_noslot();
	test_noschema();
	test_exec();
	test_bad_welcome();
	test_debug_env();
	test_disasm();
	test_disasm_enabled();
#ifdef GT_TEST_DISABLED_EXE
	test_disabled_build();
#endif
#ifdef GT_TEST_CPP_EXE
	test_cpp();
#endif
	return gt_check_result("test_lib");
}
