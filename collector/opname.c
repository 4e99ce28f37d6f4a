/* SPDX-License-Identifier: MIT */
/*
 * opname.c - operation names and the trace file name built from them.
 *
 * An operation's file is DIR/<NAME>_<YYYYMMDD>_<HHMMSS>.gtrace.  NAME comes
 * from the user (--op) or from the command's basename, so it is sanitised
 * to [A-Za-z0-9._-] without leading dots: it can never hold a '/', be "."
 * or "..", or start a hidden file, so the file always lands inside DIR.
 */
#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "gt_collector.h"

static bool gt_op_char_ok(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

void gt_op_sanitize(const char *in, char *out, size_t cap)
{
	size_t n = 0, max = cap - 1;

	if (max > GT_OP_NAME_MAX)
		max = GT_OP_NAME_MAX;
	for (; in && *in && n < max; in++) {
		unsigned char ch = (unsigned char)*in;

		if (n == 0 && ch == '.')
			continue;
		out[n++] = gt_op_char_ok(ch) ? (char)ch : '_';
	}
	if (n == 0) {
		snprintf(out, cap, "op");
		return;
	}
	out[n] = '\0';
}

int gt_op_path(const char *dir, const char *name, const struct tm *tm, unsigned int n, char *out,
	       size_t cap)
{
	char stamp[32], suffix[16] = "";
	int len;

	if (!strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", tm))
		return -EINVAL;
	if (n >= 2)
		snprintf(suffix, sizeof(suffix), "_%u", n);
	len = snprintf(out, cap, "%s/%s_%s%s.gtrace", dir, name, stamp, suffix);
	if (len < 0 || (size_t)len >= cap)
		return -ENAMETOOLONG;
	return len;
}

int gt_op_mkdir_p(const char *dir)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);
	struct stat st;

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0777) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = dir[i];
	}
	if (stat(dir, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}
