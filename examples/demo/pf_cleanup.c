/* SPDX-License-Identifier: MIT */
/*
 * pf_cleanup.c - the "cleanup" step of the demo pipeline: removes the work
 * directory that pf_setup created, one traced event per file removed.
 * Symbolic links are removed, never followed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pf.h"

static unsigned int pf_cleanup_removed;

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (remove(path)) {
		fprintf(stderr, "pf_cleanup: cannot remove '%s': %s\n", path, strerror(errno));
		return 1;
	}
	pf_cleanup_removed++;
	GT_EVENT(pf_prov, GT_LEVEL_INFO, 0, "Removed", GT_STR("path", path),
		 GT_BOOL("dir", type == FTW_DP), GT_I64("bytes", (int64_t)st->st_size));
	return 0;
}

int main(void)
{
	const char *dir = pf_workdir();
	struct stat st;
	int ret = 0;

	GT_SPAN_BEGIN(pf_prov, GT_LEVEL_INFO, 0, "Cleanup", GT_STR("workdir", dir));
	if (lstat(dir, &st)) {
		if (errno != ENOENT) {
			fprintf(stderr, "pf_cleanup: cannot stat '%s': %s\n", dir, strerror(errno));
			ret = 1;
		} else {
			gt_log(pf_prov, GT_LEVEL_WARNING, "work directory '%s' already gone", dir);
			printf("pf_cleanup: %s already gone\n", dir);
		}
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "pf_cleanup: '%s' is not a directory, left alone\n", dir);
		ret = 1;
		goto out;
	}
	ret = nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) ? 1 : 0;
	if (!ret)
		printf("pf_cleanup: removed %s (%u entries)\n", dir, pf_cleanup_removed);
out:
	GT_SPAN_END(pf_prov, GT_LEVEL_INFO, 0, "Cleanup", GT_I32("rc", ret),
		    GT_U32("removed", pf_cleanup_removed));
	return ret;
}
