/* SPDX-License-Identifier: MIT */
/*
 * gtrace/error.h - error codes shared by every gtrace library.
 *
 * Functions return >= 0 on success and a negative value on failure: either
 * -errno (from a syscall or a library below us) or -GT_E* for what errno
 * cannot name.  Project codes start at 4096 and are append-only.
 */
#ifndef GTRACE_ERROR_H
#define GTRACE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum gt_error {
	GT_ECORRUPT = 4096, /* data fails a check: bad magic, checksum, bounds */
	GT_EVERSION = 4097, /* written by a newer, incompatible gtrace */
	GT_ETRUNCATED = 4098, /* file ends before the structure it announces */
	GT_ECOMPRESS = 4099, /* zstd reported an error */
	GT_ELIMIT = 4100, /* a declared size exceeds a format limit */
};

/**
 * gt_strerror() - describe a negative return value.
 * @err: a value returned by a gtrace function (negative errno or -GT_E*).
 * Return: a static string; never NULL.  Thread-safe.  Since 0.1.
 */
const char *gt_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif /* GTRACE_ERROR_H */
