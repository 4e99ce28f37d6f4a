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
#include "commands.h"
#include "sess_request.h"

int cmd_snapshot(int argc, char **argv)
{
	static const struct gt_sess_cmd snapshot = {
		.cmd = "snapshot",
		.usage = "usage: gtrace snapshot [--op NAME] [--session NAME] [--json]\n",
		.help = "  writes the window of a session started with --mode memory to\n"
			"  DIR/<NAME>_<ts>.gtrace (NAME: --op, default the session's op);\n"
			"  prints PATH<TAB>BYTES; the session goes on recording\n",
		.op_required = false,
		.file_key = "file",
		.timeout_ms = 120000,
	};

	return gt_sess_cmd_main(&snapshot, argc, argv);
}
