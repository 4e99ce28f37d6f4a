/* SPDX-License-Identifier: MIT */
/*
 * cmd_status.c - `gtrace status`: the user's long-lived sessions.
 *
 *   gtrace status [--session NAME] [--json]
 *
 * For each session: name, state (alive, or dead when its collector is gone
 * and only its state directory is left), collector pid, mode, current file
 * with its size, events and lost events in it; a system session (--system)
 * gets a second line with the processes it enabled.  A live collector answers
 * with live numbers; for a dead one the last status.json it wrote is shown.
 * --json prints an array of objects (docs/sessions.md).
 */
#include <stdio.h>
#include <string.h>

#include "collector/gt_daemon.h"
#include "commands.h"

static json_t *gt_status_one(const char *name)
{
	enum gt_sess_state s = gt_sess_probe(name);
	json_t *st = NULL, *req, *rep = NULL;
	const char *state = "dead";
	char err[1024];

	if (s == GT_SESS_NONE)
		return NULL;
	if (s == GT_SESS_ALIVE) {
		req = json_pack("{s:s}", "cmd", "status");
		if (gt_sess_request(name, req, 5000, &rep, err, sizeof(err)) == 0 &&
		    json_is_object(json_object_get(rep, "status"))) {
			st = json_incref(json_object_get(rep, "status"));
			state = "alive";
		} else {
			state = "alive"; /* the lock is held, it just did not answer */
		}
		json_decref(req);
		json_decref(rep);
	}
	if (!st)
		st = gt_sess_status_file(name);
	if (!st)
		st = json_object();
	json_object_set_new(st, "name", json_string(name));
	json_object_set_new(st, "state", json_string(state));
	return st;
}

static const char *gt_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

int cmd_status(int argc, char **argv)
{
	const char *session = NULL;
	json_t *all = json_array(), *st;
	bool json = false;
	char **names = NULL, err[1024];
	int n = 0;
	size_t i;

	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--json")) {
			json = true;
		} else if (!strcmp(argv[k], "--session") && k + 1 < argc) {
			session = argv[++k];
		} else if (!strncmp(argv[k], "--session=", 10)) {
			session = argv[k] + 10;
		} else if (!strcmp(argv[k], "-h") || !strcmp(argv[k], "--help")) {
			printf("usage: gtrace status [--session NAME] [--json]\n");
			json_decref(all);
			return 0;
		} else {
			fprintf(stderr, "gtrace status: unknown argument '%s'\n"
					"usage: gtrace status [--session NAME] [--json]\n",
				argv[k]);
			json_decref(all);
			return 2;
		}
	}
	if (session) {
		st = gt_sess_name_ok(session) ? gt_status_one(session) : NULL;
		if (!st) {
			fprintf(stderr, "gtrace status: no session named '%s'\n", session);
			json_decref(all);
			return 2;
		}
		json_array_append_new(all, st);
	} else {
		n = gt_sess_list(&names);
		if (n < 0) {
			gt_sess_list_strerror(n, err, sizeof(err));
			fprintf(stderr, "gtrace status: %s\n", err);
			json_decref(all);
			return 2;
		}
		for (int k = 0; k < n; k++) {
			st = gt_status_one(names[k]);
			if (st)
				json_array_append_new(all, st);
		}
		gt_sess_list_free(names, n);
	}
	if (json) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (json_array_size(all) == 0) {
		printf("no sessions\n");
	} else {
		printf("%-20s %-6s %8s %-5s %12s %10s %12s  %s\n", "SESSION", "STATE", "PID",
		       "MODE", "EVENTS", "LOST", "SIZE", "FILE");
		json_array_foreach(all, i, st) {
			printf("%-20s %-6s %8lld %-5s %12lld %10lld %12lld  %s\n",
			       gt_str(st, "name"), gt_str(st, "state"),
			       (long long)json_integer_value(json_object_get(st, "pid")),
			       gt_str(st, "mode"),
			       (long long)json_integer_value(json_object_get(st, "events")),
			       (long long)json_integer_value(json_object_get(st, "lost")),
			       (long long)json_integer_value(json_object_get(st, "size")),
			       gt_str(st, "file"));
			if (json_is_true(json_object_get(st, "system")))
				printf("%-20s system session: %lld processes enabled, %lld skipped"
				       " (registry %s)\n",
				       "", (long long)json_integer_value(
						   json_object_get(st, "system_enabled")),
				       (long long)json_integer_value(
					       json_object_get(st, "system_skipped")),
				       gt_str(st, "registry"));
			if (json_is_object(json_object_get(st, "window"))) {
				/* memory mode (flight recorder): the window instead of a file */
				json_t *w = json_object_get(st, "window");

				printf("%-20s memory window: %.1f of %.1f MiB, %lld chunks kept, "
				       "%lld dropped; %zu snapshots\n",
				       "",
				       (double)json_integer_value(json_object_get(w, "bytes")) /
					       1048576.0,
				       (double)json_integer_value(json_object_get(w, "max_bytes")) /
					       1048576.0,
				       (long long)json_integer_value(json_object_get(w, "chunks")),
				       (long long)json_integer_value(
					       json_object_get(w, "evicted_chunks")),
				       json_array_size(json_object_get(st, "files")));
			}
		}
	}
	json_decref(all);
	return fflush(stdout) == 0 ? 0 : 2;
}
