/* SPDX-License-Identifier: MIT */
/*
 * gt_sysdir.c - what both sides of runtime enable must agree on: libgtrace
 * registers in the registry directory and a system session's collector
 * reads it (gt_sysdir.h), and a registry entry names a process image by
 * pid and start time, written by one side and checked by the other.  The
 * directory may be shared between users (root's /run/gtrace/system is
 * 1777, like /tmp), so every level is lstat-checked: owned by us or root,
 * and not writable by others unless sticky.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gt_sysdir.h"

/* A directory that others may not tamper with: ours or root's, sticky if shared. */
static int gt_sys_dir_ok(const char *path, bool create, mode_t mode)
{
	struct stat st;

	if (create && mkdir(path, mode) == 0 && (mode & S_ISVTX))
		chmod(path, mode); /* mkdir drops the sticky bit under some umasks */
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return -EPERM;
	if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
		return -EPERM;
	return 0;
}

int gt_system_dir(char *out, size_t cap)
{
	const char *env = getenv("GTRACE_SYSTEM_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	char base[GT_SYS_DIR_MAX];
	int ret;

	if (env && *env) {
		if (env[0] != '/' || strlen(env) >= cap || strlen(env) >= GT_SYS_DIR_MAX)
			return -EINVAL;
		snprintf(out, cap, "%s", env);
		return gt_sys_dir_ok(out, true, 0700);
	}
	if (geteuid() == 0) {
		ret = gt_sys_dir_ok("/run/gtrace", true, 0755);
		if (ret == 0)
			ret = gt_sys_dir_ok("/run/gtrace/system", true, 01777);
		if (ret == 0) {
			snprintf(out, cap, "/run/gtrace/system");
			return 0;
		}
	} else if (gt_sys_dir_ok("/run/gtrace/system", false, 0) == 0) {
		snprintf(out, cap, "/run/gtrace/system");
		return 0;
	}
	if (xdg && xdg[0] == '/' && strlen(xdg) < 64)
		snprintf(base, sizeof(base), "%s/gtrace", xdg);
	else
		snprintf(base, sizeof(base), "/tmp/gtrace-%u", (unsigned int)geteuid());
	ret = gt_sys_dir_ok(base, true, 0700);
	if (ret < 0)
		return ret;
	if ((size_t)snprintf(out, cap, "%s/system", base) >= cap)
		return -ENAMETOOLONG;
	return gt_sys_dir_ok(out, true, 0700);
}

uint64_t gt_sys_starttime(uint32_t pid)
{
	char path[64], buf[1024];
	unsigned long long v = 0;
	const char *p;
	ssize_t n;
	int fd, field = 3;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/stat");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command name (field 2) may hold spaces and ')': skip to its last ')' */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	for (p += 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field != 22 || sscanf(p, "%llu", &v) != 1)
		return 0;
	return v;
}
