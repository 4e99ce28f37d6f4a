/* SPDX-License-Identifier: MIT */
/*
 * fsync_spy.c - an LD_PRELOAD library for tests/cli/run/sync.sh: logs every
 * fsync() and sync_file_range() with the path of its descriptor to the file
 * named by $GT_FSYNC_LOG ("fsync PATH" / "range PATH"), then does the call.
 * It shows which files and directories gtrace makes durable, and how.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* exported: the project builds with hidden visibility by default */
#define SPY_API __attribute__((visibility("default")))

SPY_API int fsync(int fd);
SPY_API int sync_file_range(int fd, off64_t off, off64_t n, unsigned int flags);

static void spy_log(const char *what, int fd)
{
	const char *log = getenv("GT_FSYNC_LOG");
	char link[64], path[4096], line[4200];
	ssize_t n;
	int lfd;

	if (!log)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	n = snprintf(line, sizeof(line), "%s %s\n", what, path);
	lfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0)
		return;
	if (write(lfd, line, (size_t)n) < 0) {
		/* a test helper: the test sees the missing line */
	}
	close(lfd);
}

int fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");

	spy_log("fsync", fd);
	return real ? real(fd) : 0;
}

int sync_file_range(int fd, off64_t off, off64_t n, unsigned int flags)
{
	int (*real)(int, off64_t, off64_t, unsigned int) =
		(int (*)(int, off64_t, off64_t, unsigned int))dlsym(RTLD_NEXT, "sync_file_range");

	spy_log("range", fd);
	return real ? real(fd, off, n, flags) : 0;
}
