/* SPDX-License-Identifier: MIT */
/*
 * cmd_start.c - `gtrace start`: begin a long-lived session.
 *
 *   gtrace start --op NAME [--dir DIR] [--profile P] [--mode file|memory] [--window SIZE]
 *                [--name SESSION] [--system]
 *
 * Starts the session's background collector (collector/daemon.c), which
 * writes DIR/<NAME>_<YYYYMMDD>_<HHMMSS>.gtrace until `gtrace rotate` or
 * `gtrace stop`, and returns once it is ready.  On stdout it prints the
 * environment a shell exports so that every command it runs joins the
 * session:  eval "$(gtrace start --op setup)".  The session is named
 * SESSION (default: the sanitised op name); docs/sessions.md has the rest.
 * With --mode memory (flight recorder) nothing is written: the session keeps
 * the last --window SIZE of compressed trace in memory, and `gtrace
 * snapshot` writes it to DIR/<NAME>_<ts>.gtrace.  With --system the session
 * also enables the processes running without GTRACE_SESSION (services),
 * before it returns, and those that start later (docs/sessions.md "System
 * sessions"); one system session at a time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gtrace/error.h>

#include "collector/gt_collector.h"
#include "collector/gt_daemon.h"
#include "commands.h"
#include "format/gt_window.h"

static int gt_start_usage(FILE *f)
{
	fprintf(f, "usage: gtrace start --op NAME [--dir DIR] [--profile P] [--mode file|memory]"
		   " [--window SIZE] [--name SESSION] [--system]\n"
		   "  --system: also enable the processes already running without"
		   " GTRACE_SESSION\n"
		   "  (services linked with libgtrace), and those started later; one at a time\n"
		   "  --mode memory: keep the last --window SIZE (default 64M, K/M/G, at least"
		   " 1M)\n"
		   "  of compressed trace in memory and write nothing; 'gtrace snapshot' writes"
		   " it\n"
		   "  prints 'export GTRACE_SESSION=...;' for:"
		   " eval \"$(gtrace start --op NAME)\"\n");
	return 2;
}

/* Print @s single-quoted for a POSIX shell. */
static void gt_start_quote(const char *s)
{
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

int cmd_start(int argc, char **argv)
{
	const char *op = NULL, *dir = "TestLogs", *profile = NULL, *mode = "file", *name = NULL;
	const char *window = NULL;
	uint64_t window_bytes = GT_WINDOW_DEFAULT;
	bool system = false;
	char sess[GT_OP_NAME_MAX + 1], absdir[PATH_MAX], sock[PATH_MAX], err[1024];
	char absprof[PATH_MAX];
	struct gt_profile p;
	int pid, ret;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		const char *opts[] = { "--op",	 "--dir",  "--profile",
				       "--mode", "--name", "--window" };
		const char **dst[] = { &op, &dir, &profile, &mode, &name, &window };
		size_t k, n = sizeof(opts) / sizeof(opts[0]);

		if (!strcmp(a, "--system")) { /* docs/sessions.md "System sessions" */
			system = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			gt_start_usage(stdout);
			return 0;
		}
		for (k = 0; k < n; k++) {
			size_t l = strlen(opts[k]);

			if (!strncmp(a, opts[k], l) && a[l] == '=') {
				v = a + l + 1;
				break;
			}
			if (!strcmp(a, opts[k])) {
				if (i + 1 >= argc) {
					fprintf(stderr, "gtrace start: %s needs a value\n", a);
					return gt_start_usage(stderr);
				}
				v = argv[++i];
				break;
			}
		}
		if (k == n) {
			fprintf(stderr, "gtrace start: unknown option '%s'\n", a);
			return gt_start_usage(stderr);
		}
		*dst[k] = v;
	}
	if (!op || !op[0]) {
		fprintf(stderr, "gtrace start: --op NAME is required\n");
		return gt_start_usage(stderr);
	}
	if (strcmp(mode, "file") && strcmp(mode, "memory")) {
		fprintf(stderr, "gtrace start: bad --mode '%s' (expected file or memory)\n", mode);
		return 2;
	}
	if (window && strcmp(mode, "memory")) {
		fprintf(stderr, "gtrace start: --window needs --mode memory (file mode writes the "
				"whole trace)\n");
		return 2;
	}
	if (window) {
		ret = gt_window_parse_size(window, &window_bytes);
		if (ret < 0) {
			fprintf(stderr,
				"gtrace start: bad --window '%s' (%s; expected a size from 1M to "
				"64G, e.g. 64M or 512K)\n",
				window, ret == -ERANGE ? "out of range" : "not a size");
			return 2;
		}
	}
	if (name) {
		if (!gt_sess_name_ok(name)) {
			fprintf(stderr,
				"gtrace start: invalid --name '%s' (1-%u of [A-Za-z0-9._-], "
				"not starting with '.')\n",
				name, GT_SESS_NAME_MAX);
			return 2;
		}
		snprintf(sess, sizeof(sess), "%s", name);
	} else {
		gt_op_sanitize(op, sess, sizeof(sess));
		sess[GT_SESS_NAME_MAX] = '\0';
	}
	ret = gt_profile_load(profile ? profile : "default", &p, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "gtrace start: %s\n", err);
		return 2;
	}
	ret = gt_op_mkdir_p(dir);
	if (ret < 0 || !realpath(dir, absdir)) {
		fprintf(stderr, "gtrace start: cannot create '%s': %s (use --dir)\n", dir,
			gt_strerror(ret < 0 ? ret : -errno));
		return 2;
	}
	/* the collector runs in '/': a profile file is given to it by its absolute path */
	if (profile && (strchr(profile, '/') || gt_profile_builtin(profile, &p) < 0) &&
	    realpath(profile, absprof))
		profile = absprof;
	struct gt_daemon_opts o = { .name = sess,
				    .op = op,
				    .dir = absdir,
				    .profile_arg = profile,
				    .memory = !strcmp(mode, "memory"),
				    .window_bytes = window_bytes,
				    .system = system };

	err[0] = '\0';
	pid = gt_daemon_start(&o, sock, sizeof(sock), err, sizeof(err));
	if (pid < 0) {
		fprintf(stderr, "gtrace start: %s\n", err);
		return 2;
	}
	if (err[0]) /* the session runs, but without kernel events: say why */
		fprintf(stderr, "gtrace start: warning: %s; recording user events only\n", err);
	fputs("export GTRACE_SESSION=", stdout);
	gt_start_quote(sock);
	fputs(";\nexport GTRACE_SESSION_NAME=", stdout);
	gt_start_quote(sess);
	fputs(";\n", stdout);
	if (o.memory)
		fprintf(stderr,
			"gtrace: session '%s' started (collector pid %d), in memory (window %llu "
			"bytes); 'gtrace snapshot' writes into %s\n",
			sess, pid, (unsigned long long)window_bytes, absdir);
	else
		fprintf(stderr,
			"gtrace: session '%s' started (collector pid %d), writing into %s\n", sess,
			pid, absdir);
	return fflush(stdout) == 0 ? 0 : 2;
}
