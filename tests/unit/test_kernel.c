/* SPDX-License-Identifier: MIT */
/*
 * test_kernel.c - kernel events through a private ftrace instance
 * (collector/kernel.c).
 *
 * Selection parsing runs everywhere; everything else needs root and tracefs
 * (the test mounts it when it can) and exits 77 otherwise.  The traced
 * processes are children of this test that wait on a pipe until tracing is
 * on, then make a known number of getppid() calls; the test checks which
 * events arrive, from whom, with which schema and at which timestamps.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <tracefs.h>

#include <gtrace/error.h>

#include "collector/kernel.h"
#include "format/gt_writer.h"

#include "gt_check.h"

/* ---- an in-memory sink ---- */

struct cap_schema {
	uint32_t id;
	char provider[64], name[64];
	uint32_t nfields;
	char fname[GT_FIELDS_MAX][64];
	uint8_t ftype[GT_FIELDS_MAX];
};

struct cap_event {
	uint64_t ts;
	uint32_t pid, tid, sid;
};

struct cap_proc {
	uint32_t type, pid, tid, ppid;
	bool thread;
	char path[128];
};

struct cap {
	uint32_t next_id;
	struct cap_schema schemas[64];
	uint32_t nschemas;
	struct cap_event *ev;
	size_t nev, evcap;
	struct cap_proc procs[256];
	size_t nprocs;
	uint64_t lost;
	struct gt_writer *w; /* also forward here when set */
	uint64_t writer_refused;
};

static int cap_alloc_id(void *ctx, uint32_t *id)
{
	struct cap *c = ctx;

	*id = ++c->next_id;
	return 0;
}

static int cap_add_schema(void *ctx, const struct gt_schema_desc *s)
{
	struct cap *c = ctx;
	struct cap_schema *d;

	if (c->nschemas >= 64)
		return -ENOSPC;
	d = &c->schemas[c->nschemas++];
	d->id = s->id;
	snprintf(d->provider, sizeof(d->provider), "%s", s->provider);
	snprintf(d->name, sizeof(d->name), "%s", s->name);
	d->nfields = s->nfields;
	for (uint32_t i = 0; i < s->nfields && i < GT_FIELDS_MAX; i++) {
		snprintf(d->fname[i], sizeof(d->fname[i]), "%s", s->fields[i].name);
		d->ftype[i] = s->fields[i].type;
	}
	return c->w ? gt_writer_add_schema(c->w, s) : 0;
}

static int cap_add_event(void *ctx, uint64_t ts, uint32_t pid, uint32_t tid, uint32_t sid,
			 const void *payload, size_t len)
{
	struct cap *c = ctx;

	if (c->nev == c->evcap) {
		size_t n = c->evcap ? c->evcap * 2 : 4096;
		struct cap_event *t = realloc(c->ev, n * sizeof(*t));

		if (!t)
			return -ENOMEM;
		c->ev = t;
		c->evcap = n;
	}
	c->ev[c->nev++] = (struct cap_event){ ts, pid, tid, sid };
	if (c->w && gt_writer_add_event(c->w, ts, pid, tid, sid, payload, len) < 0)
		c->writer_refused++;
	return 0;
}

static int cap_add_lost(void *ctx, uint32_t pid, uint32_t tid, uint64_t n)
{
	struct cap *c = ctx;

	(void)pid;
	(void)tid;
	c->lost += n;
	return 0;
}

static void cap_proc(void *ctx, const struct gt_kernel_proc *p)
{
	struct cap *c = ctx;
	struct cap_proc *d;

	if (c->nprocs >= 256)
		return;
	d = &c->procs[c->nprocs++];
	d->type = p->type;
	d->pid = p->pid;
	d->tid = p->tid;
	d->ppid = p->ppid;
	d->thread = p->thread;
	snprintf(d->path, sizeof(d->path), "%s", p->path);
}

static void cap_out(struct cap *c, struct gt_kernel_out *o)
{
	memset(o, 0, sizeof(*o));
	o->ctx = c;
	o->alloc_id = cap_alloc_id;
	o->add_schema = cap_add_schema;
	o->add_event = cap_add_event;
	o->add_lost = cap_add_lost;
	o->proc = cap_proc;
}

static void cap_free(struct cap *c)
{
	free(c->ev);
	memset(c, 0, sizeof(*c));
}

static const struct cap_schema *cap_schema_named(const struct cap *c, const char *name)
{
	for (uint32_t i = 0; i < c->nschemas; i++)
		if (!strcmp(c->schemas[i].name, name))
			return &c->schemas[i];
	return NULL;
}

static int cap_field(const struct cap_schema *s, const char *name)
{
	for (uint32_t i = 0; i < s->nfields; i++)
		if (!strcmp(s->fname[i], name))
			return s->ftype[i];
	return -1;
}

static size_t cap_count(const struct cap *c, uint32_t sid, uint32_t tid)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nev; i++)
		n += c->ev[i].sid == sid && (!tid || c->ev[i].tid == tid);
	return n;
}

/* ---- children that wait for a go ---- */

struct child {
	pid_t pid;
	int go; /* write end: one byte releases the child */
};

/* Fork a child that waits for the go byte, then runs @fn(@arg) and exits 0. */
static int child_spawn(struct child *ch, void (*fn)(void *), void *arg)
{
	int p[2];
	char b;

	if (pipe(p) < 0)
		return -errno;
	ch->pid = fork();
	if (ch->pid < 0)
		return -errno;
	if (ch->pid == 0) {
		close(p[1]);
		if (read(p[0], &b, 1) != 1)
			_exit(3);
		fn(arg);
		_exit(0);
	}
	close(p[0]);
	ch->go = p[1];
	return 0;
}

static int child_go_wait(struct child *ch)
{
	int st = 0;

	if (write(ch->go, "g", 1) != 1)
		return -1;
	close(ch->go);
	if (waitpid(ch->pid, &st, 0) != ch->pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void do_getppid(void *arg)
{
	long n = (long)(intptr_t)arg;

	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
}

/* child that forks a grandchild, both call getppid; grandchild pid to *shared */
struct tree_arg {
	volatile uint32_t *grandchild;
	long calls;
};

static void do_tree(void *arg)
{
	struct tree_arg *t = arg;
	pid_t g = fork();

	if (g == 0) {
		do_getppid((void *)(intptr_t)t->calls);
		_exit(0);
	}
	if (g > 0) {
		*t->grandchild = (uint32_t)g;
		do_getppid((void *)(intptr_t)t->calls);
		waitpid(g, NULL, 0);
	}
}

static struct gt_kernel *kopen(const char *spec, uint32_t clock, uint32_t buffer_kb, bool track,
			       uint32_t pid)
{
	struct gt_kernel_spec s;
	struct gt_kernel_opts o = { 0 };
	struct gt_kernel *k = NULL;
	char err[512];
	int ret;

	if (gt_kernel_spec_parse(spec, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "spec: %s\n", err);
		return NULL;
	}
	o.session = "unit";
	o.clock = clock;
	o.specs = &s;
	o.nspecs = 1;
	o.buffer_kb = buffer_kb;
	o.track_procs = track;
	o.root_pid = pid;
	ret = gt_kernel_open(&o, &k, err, sizeof(err));
	if (ret < 0)
		fprintf(stderr, "gt_kernel_open(%s): %s (%s)\n", spec, err, gt_strerror(ret));
	return k;
}

/* Drain until the buffers are empty; Return: records read, or the error. */
static long drain_all(struct gt_kernel *k, const struct gt_kernel_out *out)
{
	long total = 0;
	int ret;

	while ((ret = gt_kernel_drain(k, out)) > 0)
		total += ret;
	return ret < 0 ? ret : total;
}

/* ---- tests ---- */

static void test_spec_parse(void)
{
	struct gt_kernel_spec s, set[16];
	char err[256];
	int n;

	CHECK(gt_kernel_spec_parse("sched:sched_process_*", &s, err, sizeof(err)) == 0);
	CHECK(!strcmp(s.system, "sched") && !strcmp(s.event, "sched_process_*") && !s.filter[0]);
	CHECK(gt_kernel_spec_parse("  block:* ", &s, err, sizeof(err)) == 0);
	CHECK(!strcmp(s.system, "block") && !strcmp(s.event, "*"));
	CHECK(gt_kernel_spec_parse("syscalls:sys_enter_openat if dfd == -100 && flags & 1  ", &s,
				   err, sizeof(err)) == 0);
	CHECK(!strcmp(s.event, "sys_enter_openat"));
	CHECK(!strcmp(s.filter, "dfd == -100 && flags & 1"));

	CHECK(gt_kernel_spec_parse("sched_switch", &s, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "SYSTEM:EVENT") != NULL);
	CHECK(gt_kernel_spec_parse(":x", &s, err, sizeof(err)) == -EINVAL);
	CHECK(gt_kernel_spec_parse("sched:", &s, err, sizeof(err)) == -EINVAL);
	CHECK(gt_kernel_spec_parse("sched:x y", &s, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "if FILTER") != NULL);
	CHECK(gt_kernel_spec_parse("sched:x if ", &s, err, sizeof(err)) == -EINVAL);
	CHECK(gt_kernel_spec_parse("sch/ed:x", &s, err, sizeof(err)) == -EINVAL);
	CHECK(gt_kernel_spec_parse("sched:x if a\x01", &s, err, sizeof(err)) == -EINVAL);
	{
		char big[300];

		memset(big, 'a', sizeof(big));
		big[0] = 's';
		big[1] = ':';
		big[sizeof(big) - 1] = 0;
		CHECK(gt_kernel_spec_parse(big, &s, err, sizeof(err)) == -ENAMETOOLONG);
	}

	n = gt_kernel_builtin("kernel", set, 16);
	CHECK(n == 8);
	CHECK(n == 8 && !strcmp(set[0].system, "sched") &&
	      !strcmp(set[0].event, "sched_process_fork"));
	CHECK(n == 8 && !strcmp(set[6].system, "raw_syscalls"));
	CHECK(gt_kernel_builtin("nope", set, 16) == -ENOENT);

	{
		char name[128];

		CHECK(gt_kernel_instance_name("my op/../x", 42, name, sizeof(name)) > 0);
		CHECK(!strcmp(name, "gtrace_my_op_.._x_42"));
		CHECK(gt_kernel_instance_name("x", 1, name, 5) == -ENAMETOOLONG);
	}
}

static void test_no_permission(void)
{
	pid_t p = fork();
	int st = 0;

	if (p == 0) {
		struct gt_kernel_spec s;
		struct gt_kernel_opts o = { .session = "np", .clock = GT_CLOCK_MONO };
		struct gt_kernel *k = NULL;
		char err[512] = "";
		const char *skipped = "kernel events skipped: /sys/kernel/tracing not mounted or "
				      "not accessible (need root): ";
		int ret;

		gt_kernel_spec_parse("sched:sched_switch", &s, NULL, 0);
		o.specs = &s;
		o.nspecs = 1;
		o.root_pid = 1;
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(77);
		ret = gt_kernel_open(&o, &k, err, sizeof(err));
		if (ret >= 0 || k)
			_exit(1);
		if (strncmp(err, skipped, strlen(skipped)) || strlen(err) <= strlen(skipped))
			_exit(2);
		_exit(0);
	}
	CHECK(p > 0 && waitpid(p, &st, 0) == p);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_instance_lifecycle(void)
{
	struct gt_kernel *k = kopen("sched:sched_switch", GT_CLOCK_MONO, 512, false, 1);
	char name[128], *clk;
	struct tracefs_instance *inst;

	CHECK(k != NULL);
	if (!k)
		return;
	snprintf(name, sizeof(name), "%s", gt_kernel_instance(k));
	CHECK(!strncmp(name, "gtrace_unit_", 12));
	CHECK(tracefs_instance_exists(name));
	inst = tracefs_instance_alloc(NULL, name);
	CHECK(inst != NULL);
	if (inst) {
		clk = tracefs_get_clock(inst);
		CHECK(clk && !strcmp(clk, "mono"));
		free(clk);
		CHECK(tracefs_option_is_enabled(inst, TRACEFS_OPTION_EVENT_FORK));
		CHECK(!tracefs_option_is_enabled(inst, TRACEFS_OPTION_OVERWRITE));
		CHECK(tracefs_trace_is_on(inst) == 0);
		tracefs_instance_free(inst);
	}
	/* an unknown event and a bad filter are refused with a message */
	{
		struct gt_kernel_spec s;
		struct gt_kernel_opts o = { .session = "unit", .clock = GT_CLOCK_MONO };
		struct gt_kernel *k2 = NULL;
		char err[512] = "", bad[64];

		snprintf(bad, sizeof(bad), "gtrace_unitbad_%d", (int)getpid());
		gt_kernel_spec_parse("sched:no_such_event_*", &s, NULL, 0);
		o.specs = &s;
		o.nspecs = 1;
		o.instance = bad;
		CHECK(gt_kernel_open(&o, &k2, err, sizeof(err)) == -ENOENT && !k2);
		CHECK(strstr(err, "matches no event") != NULL);
		CHECK(!tracefs_instance_exists(bad));
		gt_kernel_spec_parse("sched:sched_switch if no_such_field == 1", &s, NULL, 0);
		CHECK(gt_kernel_open(&o, &k2, err, sizeof(err)) < 0 && !k2);
		CHECK(strstr(err, "filter") != NULL);
		CHECK(!tracefs_instance_exists(bad));
		/* same name twice */
		o.instance = name;
		gt_kernel_spec_parse("sched:sched_switch", &s, NULL, 0);
		CHECK(gt_kernel_open(&o, &k2, err, sizeof(err)) == -EEXIST && !k2);
	}
	/* start without a pid is refused unless system-wide */
	CHECK(gt_kernel_close(k) == 0);
	CHECK(!tracefs_instance_exists(name));
	{
		struct gt_kernel_spec s;
		struct gt_kernel_opts o = { .session = "nopid", .clock = GT_CLOCK_MONO };
		struct gt_kernel *k3 = NULL;

		gt_kernel_spec_parse("sched:sched_switch", &s, NULL, 0);
		o.specs = &s;
		o.nspecs = 1;
		CHECK(gt_kernel_open(&o, &k3, NULL, 0) == 0);
		CHECK(gt_kernel_start(k3) == -EINVAL);
		gt_kernel_close(k3);
	}
}

static void test_pid_filter(void)
{
	volatile uint32_t *shared =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct tree_arg ta = { shared, 50 };
	struct child traced, other;
	struct gt_kernel_out out;
	struct cap c = { 0 };
	const struct cap_schema *sc;
	struct gt_kernel *k;
	bool fork_seen = false, exit_seen = false;

	CHECK(shared != MAP_FAILED);
	if (shared == MAP_FAILED)
		return;
	CHECK(child_spawn(&traced, do_tree, &ta) == 0);
	CHECK(child_spawn(&other, do_getppid, (void *)(intptr_t)50) == 0);
	k = kopen("syscalls:sys_enter_getppid", GT_CLOCK_MONO, 1024, true, (uint32_t)traced.pid);
	CHECK(k != NULL);
	if (!k) {
		child_go_wait(&traced);
		child_go_wait(&other);
		return;
	}
	cap_out(&c, &out);
	CHECK(gt_kernel_start(k) == 0);
	CHECK(child_go_wait(&traced) == 0);
	CHECK(child_go_wait(&other) == 0);
	CHECK(gt_kernel_stop(k) == 0);
	CHECK(drain_all(k, &out) >= 100);
	sc = cap_schema_named(&c, "sys_enter_getppid");
	CHECK(sc != NULL);
	if (sc) {
		CHECK(!strcmp(sc->provider, "kernel.syscalls"));
		CHECK(cap_count(&c, sc->id, (uint32_t)traced.pid) == 50);
		CHECK(cap_count(&c, sc->id, *shared) == 50);
		CHECK(cap_count(&c, sc->id, (uint32_t)other.pid) == 0);
		CHECK(cap_count(&c, sc->id, 0) == 100);
	}
	/* track_procs events are read but not written: only one schema */
	CHECK(c.nschemas == 1);
	for (size_t i = 0; i < c.nprocs; i++) {
		if (c.procs[i].type == GT_KERNEL_PROC_FORK && c.procs[i].tid == *shared) {
			fork_seen = true;
			CHECK(c.procs[i].ppid == (uint32_t)traced.pid);
			CHECK(c.procs[i].pid == *shared && !c.procs[i].thread);
		}
		if (c.procs[i].type == GT_KERNEL_PROC_EXIT &&
		    c.procs[i].tid == (uint32_t)traced.pid) {
			exit_seen = true;
			CHECK(!c.procs[i].thread);
		}
		CHECK(c.procs[i].tid != (uint32_t)other.pid);
	}
	CHECK(fork_seen);
	CHECK(exit_seen);
	CHECK(gt_kernel_close(k) == 0);
	cap_free(&c);
	munmap((void *)shared, 4096);
}

static void do_exec(void *arg)
{
	(void)arg;
	execl("/bin/true", "true", (char *)NULL);
}

static void test_exec_callback(void)
{
	struct child ch;
	struct gt_kernel_out out;
	struct cap c = { 0 };
	struct gt_kernel *k;
	bool seen = false;

	CHECK(child_spawn(&ch, do_exec, NULL) == 0);
	k = kopen("sched:sched_process_exec", GT_CLOCK_MONO, 512, true, (uint32_t)ch.pid);
	CHECK(k != NULL);
	if (!k) {
		child_go_wait(&ch);
		return;
	}
	cap_out(&c, &out);
	CHECK(gt_kernel_start(k) == 0);
	CHECK(child_go_wait(&ch) == 0);
	CHECK(drain_all(k, &out) >= 1);
	for (size_t i = 0; i < c.nprocs; i++)
		if (c.procs[i].type == GT_KERNEL_PROC_EXEC && c.procs[i].pid == (uint32_t)ch.pid) {
			seen = true;
			CHECK(strstr(c.procs[i].path, "true") != NULL);
		}
	CHECK(seen);
	{
		const struct cap_schema *sc = cap_schema_named(&c, "sched_process_exec");

		CHECK(sc && cap_field(sc, "filename") == GT_TYPE_STR);
		CHECK(sc && cap_field(sc, "pid") == GT_TYPE_I32);
	}
	CHECK(gt_kernel_close(k) == 0);
	cap_free(&c);
}

static void do_sleeps(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++) {
		struct timespec ts = { 0, 200000 };

		nanosleep(&ts, NULL);
	}
}

static void test_sched_switch_schema(void)
{
	struct child ch;
	struct gt_kernel_out out;
	struct cap c = { 0 };
	const struct cap_schema *sc;
	struct gt_kernel *k;
	char path[] = "/tmp/gt_kernel_XXXXXX";
	struct gt_clock_sample start = { 0 };
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	unlink(path);
	CHECK(child_spawn(&ch, do_sleeps, NULL) == 0);
	k = kopen("sched:sched_switch", GT_CLOCK_MONO, 512, false, (uint32_t)ch.pid);
	CHECK(k != NULL);
	if (!k) {
		child_go_wait(&ch);
		return;
	}
	/* forward to a real writer: every payload must match its schema */
	CHECK(gt_writer_open(path, &(struct gt_writer_opts){ .clock = GT_CLOCK_MONO }, &start,
			     &c.w) == 0);
	cap_out(&c, &out);
	CHECK(gt_kernel_start(k) == 0);
	CHECK(child_go_wait(&ch) == 0);
	CHECK(drain_all(k, &out) >= 20);
	sc = cap_schema_named(&c, "sched_switch");
	CHECK(sc != NULL);
	if (sc) {
		CHECK(!strcmp(sc->provider, "kernel.sched"));
		CHECK(cap_field(sc, "prev_comm") == GT_TYPE_STR);
		CHECK(cap_field(sc, "next_comm") == GT_TYPE_STR);
		CHECK(cap_field(sc, "prev_pid") == GT_TYPE_I32);
		CHECK(cap_field(sc, "next_pid") == GT_TYPE_I32);
		CHECK(cap_field(sc, "prev_prio") == GT_TYPE_I32);
		CHECK(cap_field(sc, "prev_state") == GT_TYPE_I64);
		CHECK(cap_field(sc, "common_pid") == -1);
		CHECK(cap_field(sc, "common_type") == -1);
	}
	CHECK(c.writer_refused == 0);
	CHECK(c.w && gt_writer_events(c.w) == c.nev);
	CHECK(gt_writer_close(c.w) == 0);
	unlink(path);
	/* a new file: schemas are declared again with fresh ids */
	gt_kernel_reset_schemas(k);
	{
		struct gt_kernel_stats st;

		gt_kernel_stats(k, &st);
		CHECK(st.schemas == 0 && st.events == c.nev && st.ncpus >= 1);
	}
	CHECK(gt_kernel_close(k) == 0);
	cap_free(&c);
}

#define ORDER_N 10000

static int cmp_ev(const void *a, const void *b)
{
	const struct cap_event *x = a, *y = b;

	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t *order_stamps;
static uint32_t order_clock;

static void do_stamped(void *arg)
{
	(void)arg;
	for (int i = 0; i < ORDER_N; i++) {
		order_stamps[i] = order_clock == GT_CLOCK_TSC ? __rdtsc() : mono_ns();
		syscall(SYS_getppid);
	}
}

/* A user stamp taken just before a syscall is earlier than the kernel's stamp of it. */
static void test_ordering(uint32_t clock)
{
	struct child ch;
	struct gt_kernel_out out;
	struct cap c = { 0 };
	struct gt_kernel *k;
	size_t good = 0, between = 0;

	order_clock = clock;
	order_stamps = mmap(NULL, ORDER_N * sizeof(uint64_t), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(order_stamps != MAP_FAILED);
	if (order_stamps == MAP_FAILED)
		return;
	CHECK(child_spawn(&ch, do_stamped, NULL) == 0);
	k = kopen("syscalls:sys_enter_getppid", clock, 4096, false, (uint32_t)ch.pid);
	if (!k && clock == GT_CLOCK_TSC) {
		fprintf(stderr, "x86-tsc trace clock not available, ordering test skipped\n");
		child_go_wait(&ch);
		return;
	}
	CHECK(k != NULL);
	if (!k) {
		child_go_wait(&ch);
		return;
	}
	cap_out(&c, &out);
	CHECK(gt_kernel_start(k) == 0);
	CHECK(child_go_wait(&ch) == 0);
	CHECK(drain_all(k, &out) == ORDER_N);
	CHECK(c.nev == ORDER_N);
	CHECK(gt_kernel_report_lost(k, &out) == 0);
	if (c.nev == ORDER_N) {
		qsort(c.ev, c.nev, sizeof(*c.ev), cmp_ev);
		for (size_t i = 0; i < ORDER_N; i++) {
			good += order_stamps[i] < c.ev[i].ts;
			between += i + 1 == ORDER_N || c.ev[i].ts < order_stamps[i + 1];
		}
		if (good != ORDER_N || between != ORDER_N)
			fprintf(stderr, "ordering (%s): %zu/%d before, %zu/%d between\n",
				clock == GT_CLOCK_TSC ? "tsc" : "mono", good, ORDER_N, between,
				ORDER_N);
		CHECK(good == ORDER_N);
		CHECK(between == ORDER_N);
	}
	CHECK(gt_kernel_close(k) == 0);
	cap_free(&c);
	munmap(order_stamps, ORDER_N * sizeof(uint64_t));
}

/* Small buffers, no drain while the child runs: recorded + lost == emitted. */
static void test_loss_accounting(void)
{
	const long calls = 200000;
	struct child ch;
	struct gt_kernel_out out;
	struct cap c = { 0 };
	struct gt_kernel *k;
	struct gt_kernel_stats st;
	uint64_t percpu[GT_KERNEL_CPUS_MAX];
	uint64_t sum = 0;
	int n, ret;

	CHECK(child_spawn(&ch, do_getppid, (void *)(intptr_t)calls) == 0);
	k = kopen("syscalls:sys_enter_getppid", GT_CLOCK_MONO, 64, false, (uint32_t)ch.pid);
	CHECK(k != NULL);
	if (!k) {
		child_go_wait(&ch);
		return;
	}
	cap_out(&c, &out);
	CHECK(gt_kernel_start(k) == 0);
	CHECK(child_go_wait(&ch) == 0);
	CHECK(gt_kernel_stop(k) == 0);
	while ((ret = gt_kernel_drain(k, &out)) > 0)
		;
	CHECK(ret == 0);
	ret = gt_kernel_report_lost(k, &out);
	CHECK(ret > 0);
	n = gt_kernel_lost(k, percpu, GT_KERNEL_CPUS_MAX);
	CHECK(n >= 1);
	for (int i = 0; i < n && i < (int)GT_KERNEL_CPUS_MAX; i++)
		sum += percpu[i];
	CHECK(sum == c.lost);
	fprintf(stderr, "loss: recorded %zu + lost %llu (of %ld)\n", c.nev,
		(unsigned long long)c.lost, calls);
	CHECK(c.lost > 0);
	CHECK(c.nev + c.lost == (uint64_t)calls);
	/* an idle drain is cheap (one read per CPU): 1000 must not take a second */
	{
		uint64_t t0 = mono_ns(), dt;

		for (int i = 0; i < 1000; i++)
			CHECK(gt_kernel_drain(k, &out) == 0);
		dt = mono_ns() - t0;
		fprintf(stderr, "idle drain: %llu ns each\n", (unsigned long long)(dt / 1000));
		CHECK(dt < 1000000000ull);
	}
	/* a second report adds nothing */
	{
		uint64_t before = c.lost;

		gt_kernel_report_lost(k, &out);
		CHECK(c.lost == before);
	}
	gt_kernel_stats(k, &st);
	CHECK(st.events == c.nev && st.lost == c.lost);
	CHECK(gt_kernel_close(k) == 0);
	cap_free(&c);
}

/* Draining while the child runs (reads of half-filled pages): still exact. */
static void test_loss_concurrent(void)
{
	const long calls = 200000;
	struct child ch;
	struct gt_kernel_out out;
	struct cap c = { 0 };
	struct gt_kernel *k;
	int st = 0, ret, rounds = 0;

	CHECK(child_spawn(&ch, do_getppid, (void *)(intptr_t)calls) == 0);
	k = kopen("syscalls:sys_enter_getppid", GT_CLOCK_TSC, 256, false, (uint32_t)ch.pid);
	if (!k)
		k = kopen("syscalls:sys_enter_getppid", GT_CLOCK_MONO, 256, false,
			  (uint32_t)ch.pid);
	CHECK(k != NULL);
	if (!k) {
		child_go_wait(&ch);
		return;
	}
	cap_out(&c, &out);
	CHECK(gt_kernel_start(k) == 0);
	CHECK(write(ch.go, "g", 1) == 1);
	close(ch.go);
	while (waitpid(ch.pid, &st, WNOHANG) == 0) {
		struct timespec ts = { 0, 1000000 };

		CHECK(gt_kernel_drain(k, &out) >= 0);
		nanosleep(&ts, NULL);
		rounds++;
	}
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	while ((ret = gt_kernel_drain(k, &out)) > 0)
		;
	CHECK(ret == 0);
	CHECK(gt_kernel_report_lost(k, &out) >= 0);
	fprintf(stderr, "concurrent: recorded %zu + lost %llu (of %ld) in %d drains\n", c.nev,
		(unsigned long long)c.lost, calls, rounds);
	CHECK(rounds > 1);
	CHECK(c.nev + c.lost == (uint64_t)calls);
	for (size_t i = 1; i < c.nev; i++)
		CHECK(c.ev[i].tid == (uint32_t)ch.pid);
	CHECK(gt_kernel_close(k) == 0);
	cap_free(&c);
}

static void test_cleanup_stale(void)
{
	pid_t dead = fork();
	char stale[64], live[64], removed[512];
	struct tracefs_instance *a, *b;
	int n;

	if (dead == 0)
		_exit(0);
	CHECK(dead > 0 && waitpid(dead, NULL, 0) == dead);
	snprintf(stale, sizeof(stale), "gtrace_unitstale_%d", (int)dead);
	snprintf(live, sizeof(live), "gtrace_unitlive_%d", (int)getpid());
	a = tracefs_instance_create(stale);
	b = tracefs_instance_create(live);
	CHECK(a && b);
	CHECK(tracefs_instance_exists(stale) && tracefs_instance_exists(live));
	n = gt_kernel_cleanup_stale(removed, sizeof(removed));
	CHECK(n >= 1);
	CHECK(strstr(removed, stale) != NULL);
	CHECK(strstr(removed, live) == NULL);
	CHECK(!tracefs_instance_exists(stale));
	CHECK(tracefs_instance_exists(live));
	if (b)
		tracefs_instance_destroy(b);
	tracefs_instance_free(a);
	tracefs_instance_free(b);
}

static bool have_tracefs(void)
{
	struct stat sb;

	if (geteuid() != 0)
		return false;
	if (stat("/sys/kernel/tracing/instances", &sb) == 0)
		return true;
	mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
	return stat("/sys/kernel/tracing/instances", &sb) == 0;
}

int main(void)
{
	test_spec_parse();
	if (!have_tracefs()) {
		fprintf(stderr, "test_kernel: not root or no tracefs, kernel tests skipped\n");
		return failures ? 1 : 77;
	}
	test_no_permission();
	test_instance_lifecycle();
	test_pid_filter();
	test_exec_callback();
	test_sched_switch_schema();
	test_ordering(GT_CLOCK_TSC);
	test_ordering(GT_CLOCK_MONO);
	test_loss_accounting();
	test_loss_concurrent();
	test_cleanup_stale();
	return gt_check_result("test_kernel");
}
