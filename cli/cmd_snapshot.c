/* SPDX-License-Identifier: MIT */
/*
 * cmd_snapshot.c - `gtrace snapshot`: write a memory-mode session's window.
 *
 *   gtrace snapshot [--op NAME] [--session NAME] [--json]
 *
 * A session started with --mode memory (flight recorder) keeps the most
 * recent part of its trace in memory and writes nothing by itself.  This
 * asks its collector to seal the open chunk and write everything the window
 * holds as DIR/<NAME>_<YYYYMMDD>_<HHMMSS>.gtrace (NAME: --op, default the
 * session's op), like `wpr -stop` or `lttng snapshot record`, but the window
 * goes on recording.  Prints "PATH<TAB>BYTES" once the file is complete on
 * disk (with --json the collector's whole answer: events, lost, and the
 * chunks/events dropped from the window before it).  docs/sessions.md,
 * "Flight recorder".
 */
#include <stdio.h>
#include <string.h>

#include "collector/gt_daemon.h"
#include "commands.h"

#define GT_SNAPSHOT_TIMEOUT_MS 120000
#define GT_SNAPSHOT_USAGE "usage: gtrace snapshot [--op NAME] [--session NAME] [--json]\n"

int cmd_snapshot(int argc, char **argv)
{
	const char *session = NULL, *op = NULL;
	char name[GT_SESS_NAME_MAX + 1], err[1024];
	json_t *req, *rep = NULL, *file;
	bool json = false;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--session") && i + 1 < argc) {
			session = argv[++i];
		} else if (!strncmp(argv[i], "--session=", 10)) {
			session = argv[i] + 10;
		} else if (!strcmp(argv[i], "--op") && i + 1 < argc) {
			op = argv[++i];
		} else if (!strncmp(argv[i], "--op=", 5)) {
			op = argv[i] + 5;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf(GT_SNAPSHOT_USAGE
			       "  writes the window of a session started with --mode memory to\n"
			       "  DIR/<NAME>_<ts>.gtrace (NAME: --op, default the session's op);\n"
			       "  prints PATH<TAB>BYTES; the session goes on recording\n");
			return 0;
		} else {
			fprintf(stderr,
				"gtrace snapshot: unknown argument '%s'\n" GT_SNAPSHOT_USAGE,
				argv[i]);
			return 2;
		}
	}
	if (op && !op[0]) {
		fprintf(stderr, "gtrace snapshot: --op needs a non-empty NAME\n");
		return 2;
	}
	if (gt_sess_resolve(session, name, sizeof(name), err, sizeof(err)) < 0) {
		fprintf(stderr, "gtrace snapshot: %s\n", err);
		return 2;
	}
	req = op ? json_pack("{s:s, s:s}", "cmd", "snapshot", "arg", op)
		 : json_pack("{s:s}", "cmd", "snapshot");
	ret = gt_sess_request(name, req, GT_SNAPSHOT_TIMEOUT_MS, &rep, err, sizeof(err));
	json_decref(req);
	if (ret < 0) {
		fprintf(stderr, "gtrace snapshot: %s\n", err);
		return 2;
	}
	if (json) {
		json_dumpf(rep, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		file = json_object_get(rep, "file");
		printf("%s\t%lld\n", json_string_value(json_object_get(file, "path")) ?: "",
		       (long long)json_integer_value(json_object_get(file, "size")));
	}
	json_decref(rep);
	return fflush(stdout) == 0 ? 0 : 2;
}
