/* SPDX-License-Identifier: MIT */
/*
 * replay.c - runs a fuzz target's LLVMFuzzerTestOneInput over every file of
 * the corpus directories (or files) given on the command line, so a corpus
 * becomes an ordinary ctest and every crash found by fuzzing, once added to
 * the corpus, stays fixed.  Exit 0 when every input returned.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int gt_replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *d;
	long n;

	if (!f) {
		perror(path);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return -1;
	}
	d = malloc(n ? (size_t)n : 1);
	if (!d || fread(d, 1, (size_t)n, f) != (size_t)n) {
		free(d);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(d, (size_t)n);
	free(d);
	return 0;
}

int main(int argc, char **argv)
{
	int nfiles = 0, bad = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *dir;
		struct dirent *de;

		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad += gt_replay_file(argv[i]) < 0;
			nfiles++;
			continue;
		}
		dir = opendir(argv[i]);
		if (!dir) {
			perror(argv[i]);
			return 1;
		}
		while ((de = readdir(dir))) {
			char p[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
			if (stat(p, &st) < 0 || !S_ISREG(st.st_mode))
				continue;
			bad += gt_replay_file(p) < 0;
			nfiles++;
		}
		closedir(dir);
	}
	printf("replayed %d inputs, %d unreadable\n", nfiles, bad);
	return nfiles == 0 || bad ? 1 : 0;
}
