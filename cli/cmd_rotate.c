/* SPDX-License-Identifier: MIT */
/*
 * cmd_rotate.c - `gtrace rotate`: close the session's file, go on in a new one.
 *
 *   gtrace rotate --op NAME [--session NAME] [--json]
 *
 * The collector switches its writer between two drain rounds, so every
 * event lands in exactly one of the two files; the old file is complete
 * with its footer on disk when this returns.  Prints the closed file as
 * "PATH<TAB>BYTES" (with --json: the collector's whole answer, including
 * the new file and the time the switch took, rotate_us).
 */
#include <stdio.h>
#include <string.h>

#include "collector/gt_daemon.h"
#include "commands.h"

#define GT_ROTATE_TIMEOUT_MS 60000

int cmd_rotate(int argc, char **argv)
{
	const char *session = NULL, *op = NULL;
	char name[GT_SESS_NAME_MAX + 1], err[1024];
	json_t *req, *rep = NULL, *closed;
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
			printf("usage: gtrace rotate --op NAME [--session NAME] [--json]\n");
			return 0;
		} else {
			fprintf(stderr,
				"gtrace rotate: unknown argument '%s'\n"
				"usage: gtrace rotate --op NAME [--session NAME] [--json]\n",
				argv[i]);
			return 2;
		}
	}
	if (!op || !op[0]) {
		fprintf(stderr, "gtrace rotate: --op NAME is required (the next file's name)\n");
		return 2;
	}
	if (gt_sess_resolve(session, name, sizeof(name), err, sizeof(err)) < 0) {
		fprintf(stderr, "gtrace rotate: %s\n", err);
		return 2;
	}
	req = json_pack("{s:s, s:s}", "cmd", "rotate", "arg", op);
	ret = gt_sess_request(name, req, GT_ROTATE_TIMEOUT_MS, &rep, err, sizeof(err));
	json_decref(req);
	if (ret < 0) {
		fprintf(stderr, "gtrace rotate: %s\n", err);
		return 2;
	}
	if (json) {
		json_dumpf(rep, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		closed = json_object_get(rep, "closed");
		printf("%s\t%lld\n", json_string_value(json_object_get(closed, "path")) ?: "",
		       (long long)json_integer_value(json_object_get(closed, "size")));
	}
	json_decref(rep);
	return 0;
}
