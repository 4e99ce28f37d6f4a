/* SPDX-License-Identifier: MIT */
/*
 * sess_request.h - the part `gtrace rotate` and `gtrace snapshot` share:
 * options --op/--session/--json, one request to the session's collector,
 * and the answer printed as "PATH<TAB>BYTES" (or whole, with --json).
 */
#ifndef GT_SESS_REQUEST_H
#define GT_SESS_REQUEST_H

#include <stdbool.h>

#include <jansson.h>

struct gt_sess_cmd {
	const char *cmd;      /* subcommand and request name: "rotate", "snapshot" */
	const char *usage;    /* "usage: gtrace ...\n" */
	const char *help;     /* more --help lines, or "" */
	bool op_required;     /* --op NAME must be given */
	const char *file_key; /* the answer's member that describes the file to print */
	int timeout_ms;       /* how long the collector may take to answer */
};

/**
 * gt_sess_cmd_main() - run the subcommand @sc with @argc/@argv (argv[0] is
 * its name).  Return: the exit status, 0 or 2.
 */
int gt_sess_cmd_main(const struct gt_sess_cmd *sc, int argc, char **argv);

/** gt_print_file() - print a file object of an answer as "PATH<TAB>BYTES". */
void gt_print_file(const json_t *file);

#endif /* GT_SESS_REQUEST_H */
