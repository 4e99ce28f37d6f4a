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
#include "commands.h"
#include "sess_request.h"

int cmd_rotate(int argc, char **argv)
{
	static const struct gt_sess_cmd rotate = {
		.cmd = "rotate",
		.usage = "usage: gtrace rotate --op NAME [--session NAME] [--json]\n",
		.help = "",
		.op_required = true,
		.file_key = "closed",
		.timeout_ms = 60000,
	};

	return gt_sess_cmd_main(&rotate, argc, argv);
}
