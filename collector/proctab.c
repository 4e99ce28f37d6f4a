/* SPDX-License-Identifier: MIT */
/*
 * proctab.c - the process table: which processes took part in the session.
 *
 * The collector writes gtrace.process/start when it first meets a process
 * (the command it forked, or a producer's HELLO), gtrace.process/exec when a
 * known live process says HELLO again with a new image, and
 * gtrace.process/exit once per process.  The exit status comes, best first,
 * from waitpid (the command itself), from the producer's on_exit record in
 * its segment header, or from /proc/<pid>/stat field 52 while the process is
 * a zombie; otherwise it is -1 (unknown).  A producer whose socket closed
 * while it is still alive exec'd an image without libgtrace: it is "detached"
 * and checked once a second until it is gone.  /proc is read while the
 * process is blocked in the handshake, and every /proc read is bounded.
 *
 * The table holds only processes that may still be referred to: an entry is
 * dropped once its exit record is written and no session connection of that
 * pid is open (a connection's EOF may arrive after waitpid reported the
 * exit).  Nothing else needs it then: segments carry their own pid and are
 * drained (final drain included) without the table, gt_collector_proc_exit()
 * ignores a pid it does not hold (so `gtrace run`'s waitpid after the
 * segment's exit record writes no second one), and a later process with the
 * same pid gets a fresh entry and a new start record.  A long-lived session
 * so keeps memory for its live processes only, looked up by pid in an
 * open-addressing hash (linear probing, backward-shift deletion).
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gt_col_int.h"

#define GT_ARGV_MAX 8192u

#define GT_PROCTAB_MIN 16u /* smallest table, in slots */

static size_t gt_proc_hash(uint32_t pid, size_t mask)
{
	return (size_t)(((uint64_t)pid * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

struct gt_proc *gt_proc_find(struct gt_proctab *t, uint32_t pid)
{
	size_t mask = t->cap - 1;

	if (!t->cap)
		return NULL;
	/* at most half full, so the probe meets an empty slot */
	for (size_t i = gt_proc_hash(pid, mask);; i = (i + 1) & mask) {
		if (!t->p[i].used)
			return NULL;
		if (t->p[i].pid == pid)
			return &t->p[i];
	}
}

/* Rehash into @ncap slots (a power of two, > 2 * t->n); entries move. */
static int gt_proctab_resize(struct gt_proctab *t, size_t ncap)
{
	struct gt_proc *np = calloc(ncap, sizeof(*np));

	if (!np)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (!t->p[i].used)
			continue;
		for (j = gt_proc_hash(t->p[i].pid, ncap - 1); np[j].used; j = (j + 1) & (ncap - 1))
			;
		np[j] = t->p[i];
	}
	free(t->p);
	t->p = np;
	t->cap = ncap;
	return 0;
}

/* Give back slots after a burst of processes; entries move. */
static void gt_proctab_fit(struct gt_proctab *t)
{
	size_t ncap = t->cap;

	while (ncap > GT_PROCTAB_MIN && t->n * 8 < ncap)
		ncap /= 2;
	if (ncap != t->cap)
		gt_proctab_resize(t, ncap); /* out of memory: keep the larger table */
}

struct gt_proc *gt_proc_get(struct gt_proctab *t, uint32_t pid)
{
	struct gt_proc *p = gt_proc_find(t, pid);
	size_t i;

	if (p)
		return p;
	gt_proctab_fit(t);
	if ((t->n + 1) * 2 > t->cap &&
	    gt_proctab_resize(t, t->cap ? t->cap * 2 : GT_PROCTAB_MIN) < 0)
		return NULL;
	for (i = gt_proc_hash(pid, t->cap - 1); t->p[i].used; i = (i + 1) & (t->cap - 1))
		;
	p = &t->p[i];
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->pid = pid;
	t->n++;
	return p;
}

/* Remove @p (an entry of @t); later entries of its probe run shift back into the hole. */
static void gt_proc_drop(struct gt_proctab *t, struct gt_proc *p)
{
	size_t mask = t->cap - 1, i = (size_t)(p - t->p), j = i;

	assert(i < t->cap && p->used);
	free(p->exe);
	memset(p, 0, sizeof(*p));
	t->n--;
	for (;;) {
		size_t k;

		j = (j + 1) & mask;
		if (!t->p[j].used)
			return;
		k = gt_proc_hash(t->p[j].pid, mask);
		/* the entry at j may fill hole i unless its home k lies cyclically in (i, j] */
		if (i <= j ? (k > i && k <= j) : (k > i || k <= j))
			continue;
		t->p[i] = t->p[j];
		memset(&t->p[j], 0, sizeof(t->p[j]));
		i = j;
	}
}

/* Drop @p once its exit is written and no connection of its pid is open. */
static void gt_proc_maybe_drop(struct gt_proctab *t, struct gt_proc *p)
{
	if (p->exited && p->nconns == 0)
		gt_proc_drop(t, p);
}

size_t gt_proctab_count(const struct gt_proctab *t)
{
	return t->n;
}

void gt_proctab_release(struct gt_proctab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->p[i].used)
			free(t->p[i].exe);
	free(t->p);
	t->p = NULL;
	t->n = t->cap = 0;
}

/* Read at most @cap - 1 bytes of /proc/<pid>/<what>; return the length or -errno. */
static ssize_t gt_proc_read(uint32_t pid, const char *what, char *buf, size_t cap)
{
	char path[64];
	size_t n = 0;
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/%s", pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n < cap - 1) {
		got = read(fd, buf + n, cap - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

/* Fields after "(comm)" of /proc/<pid>/stat: field 3 is state.  comm may hold ')' and spaces. */
static const char *gt_proc_stat_rest(uint32_t pid, char *buf, size_t cap)
{
	char *rp;

	if (gt_proc_read(pid, "stat", buf, cap) <= 0)
		return NULL;
	rp = strrchr(buf, ')');
	if (!rp || rp[1] != ' ')
		return NULL;
	return rp + 2;
}

void gt_proc_read_info(uint32_t pid, uint32_t *ppid, char **exe, char **argv)
{
	char buf[1024], link[64];
	char *args = malloc(GT_ARGV_MAX);
	const char *rest = gt_proc_stat_rest(pid, buf, sizeof(buf));
	ssize_t n;

	*ppid = 0;
	if (rest) {
		char state;
		unsigned int pp;

		if (sscanf(rest, "%c %u", &state, &pp) == 2)
			*ppid = pp;
	}
	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	n = readlink(link, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	*exe = strdup(buf);
	if (args) {
		n = gt_proc_read(pid, "cmdline", args, GT_ARGV_MAX);
		if (n < 0)
			n = 0;
		/* argv is NUL-separated: join with spaces, drop the trailing NUL */
		while (n > 0 && args[n - 1] == '\0')
			n--;
		for (ssize_t i = 0; i < n; i++)
			if (args[i] == '\0')
				args[i] = ' ';
		args[n] = '\0';
	}
	*argv = args;
}

int gt_proc_stat_exit(uint32_t pid, int *wstatus)
{
	char buf[2048];
	const char *rest = gt_proc_stat_rest(pid, buf, sizeof(buf));
	const char *p;
	int field = 3;

	if (!rest)
		return -ESRCH;
	if (rest[0] != 'Z')
		return -EBUSY;
	/* field 52 is exit_code (a wait status); rest starts at field 3 */
	for (p = rest; *p && field < 52; p++)
		if (*p == ' ')
			field++;
	if (field != 52 || !*p)
		return -ENODATA;
	*wstatus = atoi(p);
	return 0;
}

static void gt_emit_start(struct gt_collector *c, uint32_t pid, uint32_t ppid, const char *exe,
			  const char *argv)
{
	struct gt_evb e = { .buf = c->evbuf };

	gt_evb_u32(&e, pid);
	gt_evb_u32(&e, ppid);
	gt_evb_str(&e, exe ? exe : "", exe ? strlen(exe) : 0);
	gt_evb_str(&e, argv ? argv : "", argv ? strlen(argv) : 0);
	gt_collector_emit(c, gt_collector_iid(c, GT_IID_START), pid, pid, &e);
}

void gt_collector_proc_start(struct gt_collector *c, uint32_t pid, uint32_t ppid, const char *exe,
			     const char *argv)
{
	struct gt_proc *p = gt_proc_get(&c->procs, pid);

	if (!p)
		return;
	free(p->exe);
	p->exe = exe ? strdup(exe) : NULL;
	p->started = true;
	p->exited = false;
	p->attached = false;
	p->seq = c->procs.next_seq++;
	gt_emit_start(c, pid, ppid, exe, argv);
}

void gt_collector_proc_hello(struct gt_collector *c, uint32_t pid)
{
	struct gt_proc *p = gt_proc_get(&c->procs, pid);
	char *exe = NULL, *argv = NULL;
	uint32_t ppid;

	if (!p)
		return;
	gt_proc_read_info(pid, &ppid, &exe, &argv);
	if (!p->started || p->exited) {
		p->started = true;
		p->exited = false;
		p->seq = c->procs.next_seq++;
		gt_emit_start(c, pid, ppid, exe, argv);
	} else if (p->attached || !p->exe || !exe || strcmp(p->exe, exe)) {
		struct gt_evb e = { .buf = c->evbuf };

		gt_evb_u32(&e, pid);
		gt_evb_str(&e, exe ? exe : "", exe ? strlen(exe) : 0);
		gt_evb_str(&e, argv ? argv : "", argv ? strlen(argv) : 0);
		gt_collector_emit(c, gt_collector_iid(c, GT_IID_EXEC), pid, pid, &e);
	}
	free(p->exe);
	p->exe = exe;
	free(argv);
	p->attached = true;
	p->detached = false;
	p->nconns++;
}

/*
 * A pid the table does not hold has no start record here or already has its
 * exit record (its entry was dropped): nothing to write.
 */
void gt_collector_proc_exit(struct gt_collector *c, uint32_t pid, int status, int signal, bool core)
{
	struct gt_proc *p = gt_proc_find(&c->procs, pid);
	struct gt_evb e = { .buf = c->evbuf };

	if (!p || p->exited)
		return;
	p->exited = true;
	p->detached = false;
	gt_evb_u32(&e, pid);
	gt_evb_u32(&e, (uint32_t)status);
	gt_evb_u32(&e, (uint32_t)signal);
	gt_evb_bool(&e, core);
	gt_collector_emit(c, gt_collector_iid(c, GT_IID_EXIT), pid, pid, &e);
	gt_proc_maybe_drop(&c->procs, p);
}

static void gt_proc_exit_wstatus(struct gt_collector *c, uint32_t pid, int ws)
{
	if (WIFSIGNALED(ws))
		gt_collector_proc_exit(c, pid, -1, WTERMSIG(ws), WCOREDUMP(ws));
	else
		gt_collector_proc_exit(c, pid, WEXITSTATUS(ws), 0, false);
}

/* Decide what a closed connection means; @s is its segment (or NULL). */
void gt_collector_proc_gone(struct gt_collector *c, uint32_t pid, const struct gt_segment *s)
{
	struct gt_proc *p = gt_proc_find(&c->procs, pid);
	bool normal = false;
	int status = -1, ws, ret;

	if (!p)
		return;
	if (p->nconns > 0)
		p->nconns--;
	if (p->nconns > 0)
		return; /* a newer image of the same pid is connected */
	if (p->exited) {
		gt_proc_drop(&c->procs, p); /* waitpid wrote the exit before this EOF */
		return;
	}
	if (s)
		gt_segment_exit_info(s, &status, &normal);
	if (normal) {
		gt_collector_proc_exit(c, pid, status, 0, false);
		return;
	}
	ret = gt_proc_stat_exit(pid, &ws);
	if (ret == 0)
		gt_proc_exit_wstatus(c, pid, ws);
	else if (ret == -EBUSY)
		p->detached = true; /* alive: exec'd into an uninstrumented image */
	else
		gt_collector_proc_exit(c, pid, -1, 0, false);
}

void gt_collector_reap_detached(struct gt_collector *c, bool final)
{
	struct gt_proctab *t = &c->procs;

	(void) final;
	for (size_t i = 0; i < t->cap;) {
		uint32_t pid = t->p[i].pid;
		int ws, ret;

		if (!t->p[i].used || !t->p[i].detached || t->p[i].exited) {
			i++;
			continue;
		}
		ret = gt_proc_stat_exit(pid, &ws);
		if (ret == -EBUSY) {
			i++;
			continue;
		}
		if (ret == 0)
			gt_proc_exit_wstatus(c, pid, ws);
		else
			gt_collector_proc_exit(c, pid, -1, 0, false);
		/*
		 * Its entry was dropped and a later one may have shifted into
		 * slot i: look at i again.  Shifts move entries backwards only
		 * (from a wrapped run's start to the end at most), so none is
		 * skipped; one may be looked at twice, which is harmless.
		 */
		if (t->p[i].used && t->p[i].pid == pid)
			i++;
	}
	gt_proctab_fit(t);
}
