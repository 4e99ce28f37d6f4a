/* SPDX-License-Identifier: MIT */
/*
 * gtrace.c - the command table: `gtrace <command> [args]` dispatches to
 * cmd_<command>() in cli/cmd_<command>.c.
 */
#include <stdio.h>
#include <string.h>

#include <gtrace/version.h>

#include "commands.h"

struct gt_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static const struct gt_command gt_commands[] = {
	{ "run", cmd_run,
	  "run [--op NAME] [--dir DIR] [--profile P] [--timeout S] [--strict] [--mode file|memory]\n"
	  "             [--keep failure|always] [--window SIZE] -- CMD [ARGS...]" },
	{ "start", cmd_start,
	  "start --op NAME [--dir DIR] [--profile P] [--mode file|memory] [--window SIZE]\n"
	  "               [--name SESSION]" },
	{ "rotate", cmd_rotate, "rotate --op NAME [--session NAME] [--json]" },
	{ "snapshot", cmd_snapshot, "snapshot [--op NAME] [--session NAME] [--json]" },
	{ "stop", cmd_stop, "stop [--session NAME] [--all]" },
	{ "status", cmd_status, "status [--session NAME] [--json]" },
	{ "mark", cmd_mark, "mark [--session NAME] TEXT..." },
	{ "info", cmd_info, "info FILE... [--json]" },
	{ "dump", cmd_dump,
	  "dump FILE [--provider P] [--event E] [--level L] [--since T] [--until T] [--format text|json]" },
	{ "stats", cmd_stats, "stats FILE [--json] [--threads N]" },
	{ "repair", cmd_repair, "repair FILE [-o OUT]" },
};

static void gt_usage(FILE *f)
{
	fprintf(f, "usage: gtrace <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(gt_commands) / sizeof(gt_commands[0]); i++)
		fprintf(f, "  gtrace %s\n", gt_commands[i].usage);
	fprintf(f, "\nSee 'gtrace <command> --help' for one command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		gt_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		gt_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("gtrace %s\n", GT_VERSION_STRING);
		return 0;
	}
	for (size_t i = 0; i < sizeof(gt_commands) / sizeof(gt_commands[0]); i++)
		if (!strcmp(argv[1], gt_commands[i].name))
			return gt_commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "gtrace: unknown command '%s'; run 'gtrace --help' for the list\n", argv[1]);
	return 2;
}
