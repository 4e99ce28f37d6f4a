/* SPDX-License-Identifier: MIT */
/*
 * gt_repair.h - rebuild the footer of a .gtrace file cut short or damaged
 * (`gtrace repair`, docs/format.md "Repair").
 */
#ifndef GT_REPAIR_H
#define GT_REPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What gt_repair_file() did. */
struct gt_repair_result {
	bool was_complete;	/* the file was already complete: nothing written */
	uint64_t nchunks;	/* chunks in the repaired file */
	uint64_t nevents;	/* events in the repaired file */
	uint64_t dropped_bytes; /* input bytes not carried over (damaged or torn) */
	uint64_t dropped_at;	/* input offset of the first dropped byte (0 if none) */
	uint64_t dropped_regions; /* damaged stretches skipped (each resynced or at the end) */
};

/**
 * gt_repair_file() - make a complete .gtrace file from one cut short or
 * damaged: keep every whole block whose header check and payload checksum
 * verify, skip damaged stretches by resynchronising on the next verified
 * block header, then append a footer and trailer written by gt_writer.
 * @in: the file to repair; copies.
 * @out: path of the repaired copy (must not exist), or NULL to repair @in in
 *       place: the copy is written to a temporary file next to @in, synced,
 *       and renamed over @in, so a crash leaves either file whole.  Copies.
 * @res: receives what was done.
 * @err: on failure a one-line message naming the file and the fault; may be
 *       NULL.  @err_cap: bytes at @err.
 *
 * A file that is already complete and whose chunks verify is left untouched
 * (res->was_complete).  Not safe on a file still being written.
 *
 * Return: 0; -errno (open, read, write, rename, e.g. -ENOENT, -EEXIST,
 * -ENOSPC); -GT_ECORRUPT / -GT_EVERSION / -GT_ETRUNCATED when the header is
 * not a readable gtrace header; -ENOMEM.
 */
int gt_repair_file(const char *in, const char *out, struct gt_repair_result *res, char *err,
		   size_t err_cap);

#endif /* GT_REPAIR_H */
