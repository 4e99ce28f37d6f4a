/* SPDX-License-Identifier: MIT */
/*
 * sess_request.c - one request to a long-lived session's collector, as
 * `gtrace rotate` and `gtrace snapshot` make it: parse --op/--session/--json,
 * resolve the session (collector/sessdir.c), send {"cmd", "arg"}, and print
 * the file the answer names as "PATH<TAB>BYTES", or the whole answer with
 * --json.  `gtrace stop` prints its files the same way.
 */
#include <stdio.h>
#include <string.h>

#include "collector/gt_daemon.h"
#include "sess_request.h"

void gt_print_file(const json_t *file)
{
	const char *path = json_string_value(json_object_get(file, "path"));

	if (path)
		printf("%s\t%lld\n", path, (long long)json_integer_value(json_object_get(file, "size")));
}

int gt_sess_cmd_main(const struct gt_sess_cmd *sc, int argc, char **argv)
{
	const char *session = NULL, *op = NULL;
	char name[GT_SESS_NAME_MAX + 1], err[1024];
	json_t *req, *rep = NULL;
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
			printf("%s%s", sc->usage, sc->help);
			return 0;
		} else {
			fprintf(stderr, "gtrace %s: unknown argument '%s'\n%s", sc->cmd, argv[i],
				sc->usage);
			return 2;
		}
	}
	if (sc->op_required && (!op || !op[0])) {
		fprintf(stderr, "gtrace %s: --op NAME is required (the next file's name)\n",
			sc->cmd);
		return 2;
	}
	if (op && !op[0]) {
		fprintf(stderr, "gtrace %s: --op needs a non-empty NAME\n", sc->cmd);
		return 2;
	}
	if (gt_sess_resolve(session, name, sizeof(name), err, sizeof(err)) < 0) {
		fprintf(stderr, "gtrace %s: %s\n", sc->cmd, err);
		return 2;
	}
	req = op ? json_pack("{s:s, s:s}", "cmd", sc->cmd, "arg", op)
		 : json_pack("{s:s}", "cmd", sc->cmd);
	ret = gt_sess_request(name, req, sc->timeout_ms, &rep, err, sizeof(err));
	json_decref(req);
	if (ret < 0) {
		fprintf(stderr, "gtrace %s: %s\n", sc->cmd, err);
		return 2;
	}
	if (json) {
		json_dumpf(rep, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		gt_print_file(json_object_get(rep, sc->file_key));
	}
	json_decref(rep);
	return fflush(stdout) == 0 ? 0 : 2;
}
