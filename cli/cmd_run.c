/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c - `gtrace run`: trace one command into one file.
 *
 *   gtrace run [--op NAME] [--dir DIR] [--profile P] [--timeout S] [--strict]
 *              [--mode file|memory] [--keep failure|always] [--window SIZE] -- CMD [ARGS...]
 *
 * Opens DIR/<NAME>_<YYYYMMDD>_<HHMMSS>.gtrace, starts a collector with a
 * session socket, and runs CMD in its own process group with GTRACE_SESSION
 * set and its stdout/stderr going through the collector (passed through
 * byte for byte, and recorded line by line).  The loop waits on the session,
 * the pipes and a signalfd: SIGCHLD reaps the command, SIGINT/SIGTERM/SIGHUP/
 * SIGQUIT are forwarded to its process group, --timeout sends SIGTERM then
 * SIGKILL after a grace period to the group and to every other descendant
 * (gtrace is a child subreaper, so daemons stay descendants).  The output
 * goes through a relay process (collector/output.c) that keeps it flowing
 * if gtrace dies (docs/reliability.md).  gtrace exits with the command's own status
 * (128+N for signal N, 124 on timeout) so tracing never changes a verdict:
 * when tracing cannot start, it warns and runs the command untraced, unless
 * --strict makes that an error (exit 2, command not run).
 *
 * --mode memory (flight recorder) writes nothing while CMD runs: the trace
 * stays in an in-memory window of the last --window SIZE compressed bytes
 * (format/gt_window.c), written to the file at the end only when --keep
 * says so: `failure` (the default) when CMD failed (non-zero exit, signal,
 * timeout, not executable), `always` in every case.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtrace/error.h>
#include <gtrace/version.h>

#include "collector/gt_collector.h"
#include "collector/gt_daemon.h"
#include "collector/gt_import.h"
#include "commands.h"
#include "format/gt_fmt.h"
#include "format/gt_window.h"

#define GT_RUN_GRACE_NS 2000000000ull /* SIGTERM -> SIGKILL on timeout */
#define GT_RUN_LINGER_NS 500000000ull /* wait for pipes after the command exited */
#define GT_RUN_CLASH_MAX 10000u

enum { GT_KEEP_UNSET = 0, GT_KEEP_FAILURE = 1, GT_KEEP_ALWAYS = 2 };

struct gt_run {
	/* options */
	const char *op;
	const char *dir;
	const char *profile_arg;
	double timeout_s;
	bool strict;
	bool memory;		/* --mode memory */
	int keep;		/* GT_KEEP_*, memory mode only */
	uint64_t window;	/* --window bytes, memory mode only */
	char **cmd;
	/* tracing state; traced == false means the command runs untraced */
	bool traced;
	struct gt_profile profile;
	char path[PATH_MAX];
	struct gt_writer *w;
	struct gt_collector *c;
	uint32_t clock;
	const char *name; /* sanitised op name */
	struct tm tm;     /* start time, for the file name */
	/* the command */
	pid_t pid;
	int status; /* wait status */
	bool done;
	bool timed_out;
	bool exec_failed;
	/* the output relay (collector/output.c): 0 when none or reaped */
	pid_t relay;
	int relay_ctl; /* "q" + close ends it; -1 when none */
};

static uint64_t gt_run_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int gt_run_usage(FILE *f)
{
	fprintf(f, "usage: gtrace run [--op NAME] [--dir DIR] [--profile P] [--timeout SECONDS]\n"
		   "                  [--strict] [--mode file|memory] [--keep failure|always]\n"
		   "                  [--window SIZE] -- CMD [ARGS...]\n"
		   "  --mode memory  keep the trace in memory, the last --window SIZE of it\n"
		   "                 (default 64M; K/M/G suffixes, at least 1M), and write the\n"
		   "                 file only as --keep says: failure (default: non-zero exit,\n"
		   "                 signal or timeout) or always\n"
		   "  --timeout S    after S seconds SIGTERM the command and every process it\n"
		   "                 left behind (daemons too), SIGKILL 2 s later; exit 124\n");
	return 2;
}

static int gt_run_parse(struct gt_run *r, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		const char *names[] = {
			"--op", "--dir", "--profile", "--timeout", "--mode", "--keep", "--window",
		};
		size_t k;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			gt_run_usage(stdout);
			return 1;
		}
		if (!strcmp(a, "--strict")) {
			r->strict = true;
			continue;
		}
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			size_t n = strlen(names[k]);

			if (!strncmp(a, names[k], n) && a[n] == '=') {
				v = a + n + 1;
				break;
			}
			if (!strcmp(a, names[k])) {
				if (i + 1 >= argc) {
					fprintf(stderr, "gtrace run: option '%s' needs a value\n",
						a);
					return -1;
				}
				v = argv[++i];
				break;
			}
		}
		if (k == sizeof(names) / sizeof(names[0])) {
			fprintf(stderr, "gtrace run: unknown option '%s'\n", a);
			gt_run_usage(stderr);
			return -1;
		}
		switch (k) {
		case 0:
			r->op = v;
			break;
		case 1:
			r->dir = v;
			break;
		case 2:
			r->profile_arg = v;
			break;
		case 3: {
			char *end;

			errno = 0;
			r->timeout_s = strtod(v, &end);
			if (errno || end == v || *end || !isfinite(r->timeout_s) ||
			    r->timeout_s <= 0 || r->timeout_s > 1e9) {
				fprintf(stderr,
					"gtrace run: bad --timeout '%s' (expected seconds > 0, e.g. 30 or 0.5)\n",
					v);
				return -1;
			}
			break;
		}
		case 4:
			if (!strcmp(v, "file") || !strcmp(v, "memory")) {
				r->memory = !strcmp(v, "memory");
				break;
			}
			fprintf(stderr, "gtrace run: bad --mode '%s' (expected file or memory)\n",
				v);
			return -1;
		case 5:
			if (!strcmp(v, "failure") || !strcmp(v, "always")) {
				r->keep = !strcmp(v, "always") ? GT_KEEP_ALWAYS : GT_KEEP_FAILURE;
				break;
			}
			fprintf(stderr,
				"gtrace run: bad --keep '%s' (expected failure or always)\n", v);
			return -1;
		default: {
			int e = gt_window_parse_size(v, &r->window);

			if (e < 0) {
				fprintf(stderr,
					"gtrace run: bad --window '%s' (%s; expected a size "
					"from 1M to 64G, e.g. 64M or 512K)\n",
					v, e == -ERANGE ? "out of range" : "not a size");
				return -1;
			}
			break;
		}
		}
	}
	if (!r->memory && (r->keep || r->window)) {
		fprintf(stderr, "gtrace run: %s needs --mode memory (file mode always writes the "
				"whole trace)\n",
			r->keep ? "--keep" : "--window");
		return -1;
	}
	if (r->memory && !r->keep)
		r->keep = GT_KEEP_FAILURE;
	if (r->memory && !r->window)
		r->window = GT_WINDOW_DEFAULT;
	if (i >= argc || !argv[i][0]) {
		fprintf(stderr, "gtrace run: no command given\n");
		gt_run_usage(stderr);
		return -1;
	}
	r->cmd = argv + i;
	return 0;
}

/* Join argv with spaces, single-quoting words that a shell would split or expand. */
static char *gt_run_join(char **argv, bool quote)
{
	size_t cap = 1, n = 0;
	char *s;

	for (char **a = argv; *a; a++)
		cap += strlen(*a) * 4 + 3;
	s = malloc(cap);
	if (!s)
		return NULL;
	for (char **a = argv; *a; a++) {
		const char *p = *a;
		bool plain = p[0] != '\0';

		for (const char *q = p; *q && plain; q++)
			plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				       "_-./=:,+@%",
				       *q) != NULL;
		if (a != argv)
			s[n++] = ' ';
		if (!quote || plain) {
			memcpy(s + n, p, strlen(p));
			n += strlen(p);
			continue;
		}
		s[n++] = '\'';
		for (; *p; p++) {
			if (*p == '\'') {
				memcpy(s + n, "'\\''", 4);
				n += 4;
			} else {
				s[n++] = *p;
			}
		}
		s[n++] = '\'';
	}
	s[n] = '\0';
	return s;
}

/*
 * Report a tracing failure: a warning, or with --strict an error.  @hint says
 * what to do.  Return 0 to go on untraced, -1 to stop.
 */
static int __attribute__((format(printf, 3, 4)))
gt_run_trace_fail(const struct gt_run *r, const char *hint, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->strict) {
		fprintf(stderr, "gtrace run: error: %s (%s); not running the command (--strict)\n",
			msg, hint);
		return -1;
	}
	fprintf(stderr, "gtrace run: warning: %s; running untraced (%s)\n", msg, hint);
	return 0;
}

static void gt_run_meta(struct gt_run *r)
{
	char buf[PATH_MAX], *cmd;
	struct passwd *pw;

	cmd = gt_run_join(r->cmd, true);
	if (cmd)
		gt_writer_set_meta(r->w, "command", cmd);
	free(cmd);
	if (getcwd(buf, sizeof(buf)))
		gt_writer_set_meta(r->w, "cwd", buf);
	if (gethostname(buf, sizeof(buf) - 1) == 0) {
		buf[sizeof(buf) - 1] = '\0';
		gt_writer_set_meta(r->w, "host", buf);
	}
	pw = getpwuid(geteuid());
	if (pw && pw->pw_name)
		gt_writer_set_meta(r->w, "user", pw->pw_name);
	else if (getenv("USER"))
		gt_writer_set_meta(r->w, "user", getenv("USER"));
	gt_writer_set_meta(r->w, "gtrace_version", GT_VERSION_STRING);
	gt_writer_set_meta(r->w, "profile", r->profile.name);
}

/* Set up the profile, the file and the collector; on failure leave r->traced false. */
static int gt_run_setup(struct gt_run *r, const char *name)
{
	struct gt_collector_opts co = { 0 };
	struct gt_writer_opts wo = { 0 };
	struct gt_clock_sample start;
	char err[1024];
	struct tm tm;
	time_t now = time(NULL);
	int ret;

	ret = gt_profile_load(r->profile_arg ? r->profile_arg : "default", &r->profile, err,
			      sizeof(err));
	if (ret < 0)
		return gt_run_trace_fail(r, "fix the profile or use --profile default", "%s", err);
	ret = gt_op_mkdir_p(r->dir);
	if (ret < 0)
		return gt_run_trace_fail(r, "use --dir", "cannot create '%s': %s", r->dir,
					 gt_strerror(ret));
	r->clock = gt_clock_choose();
	wo.clock = r->clock;
	wo.sync_full = r->profile.sync_full;
	localtime_r(&now, &tm);
	r->tm = tm;
	r->name = name;
	gt_clock_sample(r->clock, &start);
	if (r->memory) {
		/* no file until the end (gt_run_keep) */
		ret = gt_writer_open_window(&wo, &start, r->window, &r->w);
		if (ret < 0) {
			r->w = NULL;
			return gt_run_trace_fail(r, "use a smaller --window",
						 "cannot set up the memory window: %s",
						 gt_strerror(ret));
		}
	}
	for (unsigned int n = 1; !r->memory; n++) {
		if (gt_op_path(r->dir, name, &tm, n, r->path, sizeof(r->path)) < 0)
			return gt_run_trace_fail(r, "use a shorter --dir",
						 "path for '%s' is too long", r->dir);
		ret = gt_writer_open(r->path, &wo, &start, &r->w);
		if (ret != -EEXIST || n >= GT_RUN_CLASH_MAX)
			break;
	}
	if (ret < 0) {
		r->w = NULL;
		return gt_run_trace_fail(r, "use --dir", "cannot create '%s': %s", r->path,
					 gt_strerror(ret));
	}
	gt_writer_set_meta(r->w, "op", name);
	gt_run_meta(r);
	co.clock = r->clock;
	co.profile = &r->profile;
	co.listen = true;
	co.threaded = true;
	gt_sink_writer(&co.sink, r->w);
	co.sink.name = r->path;
	ret = gt_collector_new(&co, &r->c);
	if (ret < 0) {
		r->c = NULL;
		gt_writer_close(r->w);
		r->w = NULL;
		unlink(r->path);
		return gt_run_trace_fail(r, "check $XDG_RUNTIME_DIR or /tmp",
					 "cannot open the session socket: %s", gt_strerror(ret));
	}
	r->traced = true;
	return 0;
}

static void gt_run_reap(struct gt_run *r)
{
	int st;
	pid_t p;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p == r->pid) {
			r->status = st;
			r->done = true;
		}
		if (p == r->relay)
			r->relay = 0;
	}
}

/*
 * Start the command with posix_spawnp: vfork semantics, so no page tables
 * are copied (fork of a process with a writer's buffers costs milliseconds)
 * and exec errors come back as the return value.  The command gets its own
 * process group, the signal mask and SIGPIPE disposition gtrace started
 * with, and, when traced, the capture pipes as stdout and stderr.
 * Returns 0 (r->pid set, or r->done with a shell-like 127/126 status when
 * it cannot be executed) or -errno when nothing could be started.
 */
static int gt_run_spawn(struct gt_run *r, const sigset_t *oldmask, int pout[2], int perr[2])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def;
	int ret;

	ret = posix_spawn_file_actions_init(&fa);
	if (ret)
		return -ret;
	ret = posix_spawnattr_init(&attr);
	if (ret) {
		posix_spawn_file_actions_destroy(&fa);
		return -ret;
	}
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	ret = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						      POSIX_SPAWN_SETSIGDEF);
	if (!ret)
		ret = posix_spawnattr_setpgroup(&attr, 0);
	if (!ret)
		ret = posix_spawnattr_setsigmask(&attr, oldmask);
	if (!ret)
		ret = posix_spawnattr_setsigdefault(&attr, &def);
	if (!ret && r->traced) {
		ret = posix_spawn_file_actions_adddup2(&fa, pout[1], STDOUT_FILENO);
		if (!ret)
			ret = posix_spawn_file_actions_adddup2(&fa, perr[1], STDERR_FILENO);
	}
	if (!ret)
		ret = posix_spawnp(&r->pid, r->cmd[0], &fa, &attr, r->cmd, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (ret == ENOMEM || ret == EAGAIN)
		return -ret;
	if (ret) {
		/* like a shell: 127 when not found, 126 when found but not executable */
		fprintf(stderr, "gtrace run: cannot run '%s': %s\n", r->cmd[0], strerror(ret));
		r->exec_failed = true;
		r->done = true;
		r->pid = 0;
		r->status = (ret == ENOENT ? 127 : 126) << 8;
	}
	return 0;
}

/*
 * With kernel events the command must not run ahead untraced: fork a child
 * that waits on a gate pipe, create the ftrace instance following the
 * child's pid, then open the gate so the child execs.  (posix_spawn cannot
 * wait, so this path pays for a fork.)  Exec errors come back through a
 * close-on-exec pipe.  Returns 0 (as gt_run_spawn), 1 when the kernel
 * events cannot start and --strict forbids running (the child is gone), or
 * -errno when nothing could be started.
 */
static int gt_run_spawn_gated(struct gt_run *r, const sigset_t *oldmask, int pout[2],
			      int perr[2], const char *name)
{
	int gate[2], errp[2], e = 0, ret;
	char err[1024] = "";
	ssize_t n;
	pid_t pid;

	if (pipe2(gate, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(errp, O_CLOEXEC) < 0) {
		ret = -errno;
		close(gate[0]);
		close(gate[1]);
		return ret;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(gate[0]);
		close(gate[1]);
		close(errp[0]);
		close(errp[1]);
		return ret;
	}
	if (pid == 0) {
		char g;

		/* async-signal-safe calls only: the parent has threads */
		close(gate[1]); /* so that a parent giving up means EOF here */
		close(errp[0]);
		do
			n = read(gate[0], &g, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(125);
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(pout[1], STDOUT_FILENO) < 0 || dup2(perr[1], STDERR_FILENO) < 0)
			_exit(126);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		execvp(r->cmd[0], r->cmd);
		e = errno;
		n = write(errp[1], &e, sizeof(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	setpgid(pid, pid); /* also in the child: whichever runs first */
	close(gate[0]);
	close(errp[1]);
	r->pid = pid;
	ret = gt_collector_kernel_open(r->c, name, (uint32_t)pid, err, sizeof(err));
	if (ret < 0) {
		if (r->strict) {
			fprintf(stderr,
				"gtrace run: error: %s; not running the command (--strict)\n",
				err[0] ? err : gt_strerror(ret));
			close(gate[1]);
			close(errp[0]);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			r->pid = 0;
			return 1;
		}
		fprintf(stderr, "gtrace run: warning: %s; recording user events only\n",
			err[0] ? err : gt_strerror(ret));
	}
	n = write(gate[1], "g", 1);
	close(gate[1]);
	do
		n = read(errp[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(errp[0]);
	if (n == (ssize_t)sizeof(e)) {
		fprintf(stderr, "gtrace run: cannot run '%s': %s\n", r->cmd[0], strerror(e));
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		r->exec_failed = true;
		r->done = true;
		r->pid = 0;
		r->status = (e == ENOENT ? 127 : 126) << 8;
	}
	return 0;
}

static void gt_run_signals(struct gt_run *r, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			gt_run_reap(r);
		else if (!r->done)
			kill(-r->pid, (int)si.ssi_signo);
	}
}

/*
 * Send @sig to the command's process group and to every other descendant
 * of gtrace but the output relay: gtrace is a child subreaper, so daemons
 * that left the group (setsid, double fork) are still our descendants.
 * Used when --timeout fires, so that nothing of the command outlives it.
 */
static void gt_run_kill_tree(const struct gt_run *r, int sig)
{
	enum { GT_KT_MAX = 65536 };
	pid_t *pids = malloc(GT_KT_MAX * sizeof(*pids)), *ppids = malloc(GT_KT_MAX * sizeof(*ppids));
	bool *mine = calloc(GT_KT_MAX, sizeof(*mine));
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	kill(-r->pid, sig);
	d = opendir("/proc");
	if (!pids || !ppids || !mine || !d)
		goto out;
	while ((e = readdir(d)) && n < GT_KT_MAX) {
		char path[64], buf[512], *rp;
		long pid = strtol(e->d_name, &rp, 10);
		ssize_t len;
		int fd;

		if (*rp || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		rp = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
		if (!rp || strlen(rp) < 5)
			continue;
		pids[n] = (pid_t)pid;
		ppids[n++] = (pid_t)strtol(rp + 4, NULL, 10); /* ") S ppid" */
	}
	/* descendants of gtrace: mark until nothing changes (bounded by n passes) */
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			if (mine[i] || pids[i] == r->relay)
				continue;
			if (ppids[i] == getpid()) {
				mine[i] = changed = true;
				continue;
			}
			for (size_t j = 0; j < n; j++)
				if (mine[j] && pids[j] == ppids[i]) {
					mine[i] = changed = true;
					break;
				}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (mine[i])
			kill(pids[i], sig);
out:
	if (d)
		closedir(d);
	free(pids);
	free(ppids);
	free(mine);
}

/* Tell the output relay that gtrace is done, and reap it (bounded). */
static void gt_run_relay_stop(struct gt_run *r)
{
	pid_t got = 0;
	int st, pfd;

	if (r->relay_ctl >= 0) {
		if (write(r->relay_ctl, "q", 1) < 0) {
			/* the relay is gone already: closing is all that is left */
		}
		close(r->relay_ctl);
		r->relay_ctl = -1;
	}
	if (r->relay <= 0)
		return;
	/* it exits at once unless our stdout blocks it; then give up after 5 s */
	pfd = pidfd_open(r->relay, 0);
	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		while (poll(&p, 1, 5000) < 0 && errno == EINTR)
			;
		close(pfd);
	}
	/* without a pidfd (kernel < 5.3), poll the hard way */
	for (int i = 0; i < (pfd >= 0 ? 1 : 5000); i++) {
		got = waitpid(r->relay, &st, WNOHANG);
		if (got != 0)
			break; /* reaped, or not our child any more */
		usleep(1000);
	}
	if (got == 0) {
		kill(r->relay, SIGKILL);
		while (waitpid(r->relay, NULL, 0) < 0 && errno == EINTR)
			;
	}
	r->relay = 0;
}

static void gt_run_loop(struct gt_run *r, int sfd)
{
	uint64_t deadline = 0, kill_at = 0, end_at = 0, now;
	bool killed = false;

	if (r->timeout_s > 0)
		deadline = gt_run_now() + (uint64_t)(r->timeout_s * 1e9);
	for (;;) {
		uint64_t next = UINT64_MAX;
		int wait_ms;

		now = gt_run_now();
		gt_run_reap(r);
		if (r->done) {
			if (!end_at)
				end_at = now + GT_RUN_LINGER_NS;
			if (!r->traced || !gt_collector_outputs_open(r->c) || now >= end_at)
				break;
			next = end_at;
		} else {
			if (deadline && now >= deadline && !r->timed_out) {
				r->timed_out = true;
				gt_run_kill_tree(r, SIGTERM);
				kill_at = now + GT_RUN_GRACE_NS;
			}
			if (kill_at && now >= kill_at && !killed) {
				killed = true;
				gt_run_kill_tree(r, SIGKILL);
			}
			if (deadline && !r->timed_out)
				next = deadline;
			if (kill_at && !killed)
				next = kill_at;
		}
		wait_ms = 200;
		if (next != UINT64_MAX && next > now && (next - now) / 1000000 < (uint64_t)wait_ms)
			wait_ms = (int)((next - now + 999999) / 1000000);
		if (r->traced) {
			gt_collector_poll(r->c, wait_ms);
		} else {
			struct pollfd pfd = { .fd = sfd, .events = POLLIN };

			poll(&pfd, 1, wait_ms);
		}
		gt_run_signals(r, sfd);
	}
}

static void gt_run_human(uint64_t bytes, char *buf, size_t cap)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, cap, "%.1f %s", v, units[u]);
}

/*
 * Memory mode, after the final drain: write the window to DIR/<NAME>_<start
 * time>.gtrace when --keep says so (a clash gets _2, _3...), drop it, and
 * print the summary line.
 */
static void gt_run_keep(struct gt_run *r, const struct gt_collector_stats *st)
{
	bool failed = r->timed_out || !WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0;
	uint64_t bytes = 0, events = 0, accepted = gt_writer_events(r->w);
	struct gt_window_stats ws;
	char size[32], win[32];
	int ret = 0;

	if (st->partial[1])
		fputc('\n', stderr); /* the summary starts a line of its own */
	gt_run_human(r->window, win, sizeof(win));
	if (r->keep == GT_KEEP_FAILURE && !failed) {
		gt_writer_close(r->w);
		r->w = NULL;
		fprintf(stderr,
			"gtrace: no file written (command succeeded, --keep failure; %llu events "
			"were in memory, %llu lost)\n",
			(unsigned long long)accepted, (unsigned long long)st->lost);
		return;
	}
	for (unsigned int n = 1;; n++) {
		if (gt_op_path(r->dir, r->name, &r->tm, n, r->path, sizeof(r->path)) < 0) {
			ret = -ENAMETOOLONG;
			break;
		}
		ret = gt_writer_snapshot(r->w, r->path, &bytes, &events);
		if (ret != -EEXIST || n >= GT_RUN_CLASH_MAX)
			break;
	}
	gt_window_stats(gt_writer_window(r->w), &ws);
	gt_writer_close(r->w);
	r->w = NULL;
	if (ret < 0) {
		fprintf(stderr, "gtrace run: warning: writing '%s' failed: %s; no trace kept\n",
			r->path, gt_strerror(ret));
		return;
	}
	gt_run_human(bytes, size, sizeof(size));
	fprintf(stderr,
		"gtrace: wrote %s (%s, %llu events, %llu lost; memory window %s, %llu chunks "
		"(%llu events) dropped before it)\n",
		r->path, size, (unsigned long long)events, (unsigned long long)st->lost, win,
		(unsigned long long)ws.evicted_chunks, (unsigned long long)ws.evicted_events);
}


/* Exit meta, final drain, close the file, print the summary line. */
static void gt_run_finish(struct gt_run *r)
{
	struct gt_collector_stats st;
	struct gt_clock_sample end;
	char buf[64], size[32];
	struct stat sb;
	uint64_t events;
	int ret, code = -1, sig = 0;

	if (WIFEXITED(r->status))
		code = WEXITSTATUS(r->status);
	else if (WIFSIGNALED(r->status))
		sig = WTERMSIG(r->status);
	if (r->done && !r->exec_failed) {
		gt_collector_proc_exit(r->c, (uint32_t)r->pid, code, sig,
				       WIFSIGNALED(r->status) && WCOREDUMP(r->status));
		gt_collector_kernel_status(r->c, (uint32_t)r->pid, code, sig);
	}
	gt_collector_finish(r->c);
	gt_collector_kernel_meta(r->c, r->w);
	gt_collector_stats(r->c, &st);
	gt_collector_free(r->c);
	r->c = NULL;
	/* docs/format.md: exit_status when it exited, exit_signal when killed, timed_out "1" */
	if (r->done && WIFEXITED(r->status)) {
		snprintf(buf, sizeof(buf), "%d", code);
		gt_writer_set_meta(r->w, "exit_status", buf);
	} else if (r->done && sig) {
		snprintf(buf, sizeof(buf), "%d", sig);
		gt_writer_set_meta(r->w, "exit_signal", buf);
	}
	if (r->timed_out)
		gt_writer_set_meta(r->w, "timed_out", "1");
	gt_clock_sample(r->clock, &end);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)end.realtime_ns);
	gt_writer_set_meta(r->w, "end_realtime_ns", buf);
	if (r->memory) {
		gt_run_keep(r, &st);
		return;
	}
	events = gt_writer_events(r->w);
	ret = gt_writer_close(r->w);
	r->w = NULL;
	if (ret == 0 && st.sink_err)
		ret = st.sink_err;
	if (ret < 0) {
		if (st.partial[1])
			fputc('\n', stderr);
		if (!st.sink_err) /* else the collector said it all when it happened */
			fprintf(stderr,
				"gtrace run: warning: writing '%s' failed: %s; the trace is "
				"incomplete\n",
				r->path, gt_strerror(ret));
		return;
	}
	if (st.partial[1])
		fputc('\n', stderr); /* the summary starts a line of its own */
	/* with `file sync=full` the name must be as durable as the contents */
	ret = r->profile.sync_full ? gt_fd_sync_dir(r->path) : 0;
	if (ret < 0 && ret != -EINVAL && ret != -EROFS)
		fprintf(stderr, "gtrace run: warning: cannot sync directory of '%s': %s\n",
			r->path, gt_strerror(ret));
	gt_run_human(stat(r->path, &sb) == 0 ? (uint64_t)sb.st_size : 0, size, sizeof(size));
	fprintf(stderr, "gtrace: wrote %s (%s, %llu events, %llu lost)\n", r->path, size,
		(unsigned long long)events, (unsigned long long)st.lost);
}

/*
 * Nested sessions (docs/sessions.md): `gtrace run` inside a long-lived
 * session's shell gives its complete file to that session too, which
 * imports its events into its current file.  Failing that, one warning;
 * the exit status stays the command's.
 */
static void gt_run_forward(const struct gt_run *r, const char *outer)
{
	char err[1024] = "";
	int64_t ret = gt_import_request(outer, r->path, err, sizeof(err));

	if (ret < 0)
		fprintf(stderr,
			"gtrace run: warning: events not forwarded to the enclosing session '%s': "
			"%s (they are in '%s')\n",
			outer, err, r->path);
}

static int gt_run_exit_code(const struct gt_run *r)
{
	if (r->timed_out)
		return 124;
	if (WIFEXITED(r->status))
		return WEXITSTATUS(r->status);
	if (WIFSIGNALED(r->status))
		return 128 + WTERMSIG(r->status);
	return 2;
}

/*
 * The command's stdout and stderr go into pipes read by the output relay
 * (collector/output.c).  It is forked first, while gtrace is still one small
 * thread: the collector's threads and buffers come after.  On failure the
 * pipes are read by the collector itself (*cout and *cerr stay -1).
 */
static void gt_run_relay_start(struct gt_run *r, int pout[2], int perr[2], int *cout, int *cerr)
{
	if (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0)
		return;
	if (gt_output_relay_fork(pout[0], perr[0], cout, cerr, &r->relay_ctl, &r->relay) < 0)
		return;
	close(pout[0]);
	close(perr[0]);
	pout[0] = perr[0] = -1;
}

static void gt_run_close_pipes(int pout[2], int perr[2], int *cout, int *cerr)
{
	int *fds[] = { &pout[0], &pout[1], &perr[0], &perr[1], cout, cerr };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int cmd_run(int argc, char **argv)
{
	/*
	 * Static, not on the stack: the 62 KB profile in it would be zeroed and
	 * so faulted in page by page; in .bss only the pages used are touched.
	 */
	static struct gt_run r;
	char name[GT_OP_NAME_MAX + 1], outer[GT_SESS_NAME_MAX + 1] = "";
	int pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, cout = -1, cerr = -1;
	sigset_t mask, oldmask;
	int ret, sfd;

	r.dir = "TestLogs";
	r.relay_ctl = -1;
	/* orphans of the command (daemons) become our children: --timeout reaches them */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	ret = gt_run_parse(&r, argc, argv);
	if (ret)
		return ret > 0 ? 0 : 2;
	if (r.op) {
		gt_op_sanitize(r.op, name, sizeof(name));
	} else {
		const char *base = strrchr(r.cmd[0], '/');

		gt_op_sanitize(base ? base + 1 : r.cmd[0], name, sizeof(name));
	}
	signal(SIGPIPE, SIG_IGN); /* a closed stdout or relay must not kill the collector */
	gt_run_relay_start(&r, pout, perr, &cout, &cerr);
	if (gt_run_setup(&r, name) < 0) {
		gt_run_close_pipes(pout, perr, &cout, &cerr);
		gt_run_relay_stop(&r);
		return 2;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r.traced && (sfd < 0 || pout[1] < 0 || perr[1] < 0 ||
			 gt_collector_watch(r.c, sfd) < 0)) {
		int err = sfd < 0 || pout[1] >= 0 ? errno : EMFILE;

		gt_collector_free(r.c);
		r.c = NULL;
		gt_writer_close(r.w);
		r.w = NULL;
		unlink(r.path);
		r.traced = false;
		if (gt_run_trace_fail(&r, "check the open file limit",
				      "cannot set up output capture: %s", strerror(err)) < 0) {
			gt_run_close_pipes(pout, perr, &cout, &cerr);
			gt_run_relay_stop(&r);
			return 2;
		}
	}
	if (!r.traced) {
		/* untraced: the command writes straight to our stdout and stderr */
		gt_run_close_pipes(pout, perr, &cout, &cerr);
		gt_run_relay_stop(&r);
	}
	/* nested in a long-lived session: the file is forwarded to it at the end */
	if (r.traced && gt_import_outer(getenv("GTRACE_SESSION"), outer, sizeof(outer)) < 0)
		outer[0] = '\0';
	if (r.traced)
		setenv("GTRACE_SESSION", gt_collector_session(r.c), 1);
	if (r.traced && r.profile.nkspecs > 0)
		ret = gt_run_spawn_gated(&r, &oldmask, pout, perr, name);
	else
		ret = gt_run_spawn(&r, &oldmask, pout, perr);
	if (ret != 0) {
		if (ret < 0)
			fprintf(stderr, "gtrace run: cannot start '%s': %s\n", r.cmd[0],
				strerror(-ret));
		/* else --strict and the kernel events could not start: nothing ran */
		gt_run_close_pipes(pout, perr, &cout, &cerr);
		gt_run_relay_stop(&r);
		if (r.traced) {
			gt_collector_free(r.c);
			gt_writer_close(r.w);
			if (ret > 0)
				unlink(r.path);
		}
		return 2;
	}
	if (r.traced) {
		close(pout[1]);
		close(perr[1]);
		if (cout >= 0) {
			/* the relay passes the bytes through; the collector records them */
			gt_collector_add_output(r.c, cout, 1, -1, (uint32_t)r.pid);
			gt_collector_add_output(r.c, cerr, 2, -1, (uint32_t)r.pid);
		} else {
			gt_collector_add_output(r.c, pout[0], 1, STDOUT_FILENO, (uint32_t)r.pid);
			gt_collector_add_output(r.c, perr[0], 2, STDERR_FILENO, (uint32_t)r.pid);
		}
		if (!r.exec_failed) {
			char link[64], exe[PATH_MAX], *args = gt_run_join(r.cmd, false);
			ssize_t n;

			snprintf(link, sizeof(link), "/proc/%d/exe", (int)r.pid);
			n = readlink(link, exe, sizeof(exe) - 1);
			if (n > 0)
				exe[n] = '\0';
			else
				snprintf(exe, sizeof(exe), "%s", r.cmd[0]);
			gt_collector_proc_start(r.c, (uint32_t)r.pid, (uint32_t)getpid(), exe,
						args ? args : r.cmd[0]);
			free(args);
		}
	}
	gt_run_loop(&r, sfd);
	if (r.traced)
		gt_run_finish(&r);
	gt_run_relay_stop(&r);
	if (sfd >= 0)
		close(sfd);
	if (outer[0] && r.path[0] && access(r.path, R_OK) == 0)
		gt_run_forward(&r, outer);
	return gt_run_exit_code(&r);
}
