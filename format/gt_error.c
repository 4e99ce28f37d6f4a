/* SPDX-License-Identifier: MIT */
/*
 * gt_error.c - text for the negative return values of every gtrace library.
 *
 * A return value below zero is either -errno (from a syscall or a library
 * below us) or -GT_E* (gtrace/error.h) for faults errno cannot name.  One
 * function covers both so that a caller never has to know which it got.
 */
#include <string.h>

#include <gtrace/error.h>

const char *gt_strerror(int err)
{
	int e = err < 0 ? -err : err;

	switch (e) {
	case 0:
		return "Success";
	case GT_ECORRUPT:
		return "Corrupt data (file damaged)";
	case GT_EVERSION:
		return "Written by a newer, incompatible gtrace";
	case GT_ETRUNCATED:
		return "File is truncated";
	case GT_ECOMPRESS:
		return "Compression error";
	case GT_ELIMIT:
		return "Declared size exceeds a format limit";
	default:
		break;
	}
	if (e > 0 && e < 4096) {
		/* strerror() may use a static buffer only for unknown values */
		const char *s = strerror(e);

		if (s)
			return s;
	}
	return "Unknown error";
}
