/* SPDX-License-Identifier: MIT */
/*
 * cmd_repair.c - `gtrace repair FILE [-o OUT]`: make a file cut short by a
 * crash (or damaged in the middle) complete again.
 *
 * The work is gt_repair_file() (format/gt_repair.c): every whole, verified
 * block is kept, damaged stretches are skipped by resynchronising on the
 * next verified block, and a new footer and trailer are appended.  In place
 * by default (a synced copy renamed over the file), or into OUT.  One line
 * on stdout says what was kept and dropped; a complete file is left alone.
 * Exit 0, or 2 on error (the message names the file and what to do).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <gtrace/error.h>

#include "commands.h"
#include "gt_repair.h"

#define GT_REPAIR_USAGE                                                                         \
	"usage: gtrace repair FILE [-o OUT]\n"                                                  \
	"  rebuilds the footer of a .gtrace file cut short (no or bad footer/trailer):\n"      \
	"  keeps every whole block whose checksum verifies, skips damaged stretches by\n"      \
	"  resynchronising on the next valid block, and writes a new footer and trailer.\n"    \
	"  Without -o the file is repaired in place (a synced copy is renamed over it, so\n"   \
	"  it needs free space for one copy); a complete file is left untouched.\n"           \
	"  -o OUT   write the repaired copy to OUT (must not exist); FILE is not changed\n"   \
	"  Do not repair a file that a running session is still writing.\n"                   \
	"exit: 0 repaired or already complete, 2 error\n"

int cmd_repair(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	struct gt_repair_result res;
	char err[768];
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(GT_REPAIR_USAGE, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "gtrace repair: %s needs a file name\n%s", argv[i],
					GT_REPAIR_USAGE);
				return 2;
			}
			out = argv[++i];
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "gtrace repair: unknown option '%s'\n%s", argv[i],
				GT_REPAIR_USAGE);
			return 2;
		}
		if (in) {
			fprintf(stderr, "gtrace repair: one FILE at a time ('%s' and '%s')\n%s", in,
				argv[i], GT_REPAIR_USAGE);
			return 2;
		}
		in = argv[i];
	}
	if (!in) {
		fprintf(stderr, "gtrace repair: no FILE given\n%s", GT_REPAIR_USAGE);
		return 2;
	}
	ret = gt_repair_file(in, out, &res, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "gtrace repair: %s\n", err[0] ? err : gt_strerror(ret));
		return 2;
	}
	if (res.was_complete) {
		printf("%s: already complete (%" PRIu64 " chunks, %" PRIu64 " events); not changed\n",
		       in, res.nchunks, res.nevents);
		return 0;
	}
	printf("repaired %s: %" PRIu64 " chunks, %" PRIu64 " events kept; %" PRIu64
	       " bytes dropped at offset %" PRIu64 "\n",
	       out ? out : in, res.nchunks, res.nevents, res.dropped_bytes, res.dropped_at);
	return 0;
}
