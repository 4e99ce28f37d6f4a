/* SPDX-License-Identifier: MIT */
/*
 * cmd_stop.c - `gtrace stop`: end a long-lived session.
 *
 *   gtrace stop [--session NAME] [--all]
 *
 * Asks the session's collector to drain every ring a last time and close
 * its file with the footer, and prints every file the session wrote, one
 * "PATH<TAB>BYTES" line each, once they are complete on disk.  --all stops
 * every session of the user and removes the state of collectors that died
 * (their files are printed too; the last one may lack its footer, readers
 * still read it up to its last whole chunk), and, as root, the ftrace
 * instances of collectors that died (gt_kernel_cleanup_stale()).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collector/gt_daemon.h"
#include "collector/kernel.h"
#include "commands.h"
#include "sess_request.h"

#define GT_STOP_TIMEOUT_MS 120000

static void gt_stop_print_files(json_t *files)
{
	size_t i;
	json_t *f;

	json_array_foreach(files, i, f)
		gt_print_file(f);
}

/*
 * The ftrace instances of collectors that died (a SIGKILLed `gtrace run` or
 * session collector): removed when their owner pid is gone.  Only root can
 * have made them; for others this is silent.
 */
static void gt_stop_stale_instances(void)
{
	char names[1024];
	int n;

	if (geteuid() != 0 || access("/sys/kernel/tracing/instances", W_OK) < 0)
		return;
	n = gt_kernel_cleanup_stale(names, sizeof(names));
	if (n > 0)
		fprintf(stderr,
			"gtrace stop: removed %d ftrace instance%s left by dead collectors: %s\n",
			n, n == 1 ? "" : "s", names);
}

/* Stop one session; return 0 or 2. */
static int gt_stop_one(const char *name)
{
	char err[1024];
	json_t *req, *rep = NULL, *st;
	int ret;

	switch (gt_sess_probe(name)) {
	case GT_SESS_NONE:
		fprintf(stderr, "gtrace stop: no session named '%s'\n", name);
		return 2;
	case GT_SESS_DEAD:
		st = gt_sess_status_file(name);
		fprintf(stderr,
			"gtrace stop: the collector of session '%s' had died; removing its state "
			"(its last file may lack a footer, readers read it up to its last whole "
			"chunk)\n",
			name);
		if (st) {
			json_t *files = json_object_get(st, "files");
			json_t *cur = json_pack("{s:O, s:I}", "path", json_object_get(st, "file"),
						"size", (json_int_t)0);
			const char *p = json_string_value(json_object_get(st, "file"));
			FILE *f = p ? fopen(p, "rb") : NULL;

			if (f) {
				fseek(f, 0, SEEK_END);
				json_object_set_new(cur, "size", json_integer(ftell(f)));
				fclose(f);
			}
			gt_stop_print_files(files);
			if (p) {
				json_t *one = json_array();

				json_array_append(one, cur);
				gt_stop_print_files(one);
				json_decref(one);
			}
			json_decref(cur);
			json_decref(st);
		}
		ret = gt_sess_remove(name);
		if (ret < 0 && ret != -EBUSY) {
			fprintf(stderr, "gtrace stop: cannot remove the state of '%s': %s\n", name,
				strerror(-ret));
			return 2;
		}
		return 0;
	case GT_SESS_ALIVE:
		break;
	}
	req = json_pack("{s:s}", "cmd", "stop");
	ret = gt_sess_request(name, req, GT_STOP_TIMEOUT_MS, &rep, err, sizeof(err));
	json_decref(req);
	if (ret < 0) {
		fprintf(stderr, "gtrace stop: %s\n", err);
		return 2;
	}
	gt_stop_print_files(json_object_get(rep, "files"));
	if (!strcmp(json_string_value(json_object_get(rep, "mode")) ?: "", "memory"))
		fprintf(stderr,
			"gtrace stop: memory session '%s' stopped; its window (%lld events) was "
			"discarded, nothing more written (use 'gtrace snapshot' before "
			"'gtrace stop')\n",
			name,
			(long long)json_integer_value(json_object_get(rep, "discarded_events")));
	json_decref(rep);
	return 0;
}

int cmd_stop(int argc, char **argv)
{
	const char *session = NULL;
	char name[GT_SESS_NAME_MAX + 1], err[1024];
	bool all = false;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--all")) {
			all = true;
		} else if (!strcmp(argv[i], "--session") && i + 1 < argc) {
			session = argv[++i];
		} else if (!strncmp(argv[i], "--session=", 10)) {
			session = argv[i] + 10;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: gtrace stop [--session NAME] [--all]\n"
			       "  --all  stop every session of the user, remove the state of\n"
			       "         collectors that died and (as root) their ftrace\n"
			       "         instances\n");
			return 0;
		} else {
			fprintf(stderr, "gtrace stop: unknown argument '%s'\n"
					"usage: gtrace stop [--session NAME] [--all]\n",
				argv[i]);
			return 2;
		}
	}
	if (all) {
		char **names;
		int n = gt_sess_list(&names);

		if (n < 0) {
			gt_sess_list_strerror(n, err, sizeof(err));
			fprintf(stderr, "gtrace stop: %s\n", err);
			return 2;
		}
		for (int i = 0; i < n; i++)
			if (gt_stop_one(names[i]) != 0)
				rc = 2;
		gt_sess_list_free(names, n);
		gt_stop_stale_instances();
		return rc;
	}
	if (gt_sess_resolve(session, name, sizeof(name), err, sizeof(err)) < 0) {
		fprintf(stderr, "gtrace stop: %s\n", err);
		return 2;
	}
	return gt_stop_one(name);
}
