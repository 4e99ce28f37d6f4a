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
 */
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

struct gt_proc *gt_proc_find(struct gt_proctab *t, uint32_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->p[i].pid == pid)
			return &t->p[i];
	return NULL;
}

struct gt_proc *gt_proc_get(struct gt_proctab *t, uint32_t pid)
{
	struct gt_proc *p = gt_proc_find(t, pid);

	if (p)
		return p;
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct gt_proc *n = realloc(t->p, ncap * sizeof(*n));

		if (!n)
			return NULL;
		t->p = n;
		t->cap = ncap;
	}
	p = &t->p[t->n++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	return p;
}

void gt_proctab_release(struct gt_proctab *t)
{
	for (size_t i = 0; i < t->n; i++)
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

void gt_collector_proc_exit(struct gt_collector *c, uint32_t pid, int status, int signal, bool core)
{
	struct gt_proc *p = gt_proc_get(&c->procs, pid);
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

	if (!p || p->exited)
		return;
	if (p->nconns > 0)
		p->nconns--;
	if (p->nconns > 0)
		return; /* a newer image of the same pid is connected */
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
	(void) final;
	for (size_t i = 0; i < c->procs.n; i++) {
		struct gt_proc *p = &c->procs.p[i];
		int ws, ret;

		if (!p->detached || p->exited)
			continue;
		ret = gt_proc_stat_exit(p->pid, &ws);
		if (ret == 0)
			gt_proc_exit_wstatus(c, p->pid, ws);
		else if (ret != -EBUSY)
			gt_collector_proc_exit(c, p->pid, -1, 0, false);
	}
}
