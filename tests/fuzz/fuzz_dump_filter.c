/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dump_filter.c - libFuzzer entry point for the `gtrace dump` filter
 * argument parser (cli/dump_filter.c).
 *
 * The input is an argument vector: NUL-separated strings (at most 64),
 * after an implicit argv[0] "dump".  Beyond not crashing, the parser must
 * return one of its three results, a level of 1-5, and times that agree
 * with a plain decimal reading: "<digits>ns" is the number itself,
 * "<digits>" and "<digits>s" are that times 10^9 (or rejected as overflow),
 * and any accepted "I.F<unit>" lies in [I, I + 1) units (never wraps).
 * A broken promise is a __builtin_trap(), i.e. a crash the fuzzer reports.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dump_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ARGS_MAX 64
#define FZ_CHECK(cond)                   \
	do {                             \
		if (!(cond))             \
			__builtin_trap(); \
	} while (0)

static FILE *fz_null;

/* Parse @s as plain decimal digits; false if it is not or overflows. */
static bool fz_decimal(const char *s, size_t n, uint64_t *v)
{
	*v = 0;
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || *v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return true;
}

/* The unit suffix's multiplier, or 0 if @u is not a unit. */
static uint64_t fz_unit(const char *u)
{
	if (!*u || !strcmp(u, "s"))
		return 1000000000ull;
	if (!strcmp(u, "ms"))
		return 1000000ull;
	if (!strcmp(u, "us"))
		return 1000ull;
	return strcmp(u, "ns") ? 0 : 1;
}

static void fz_check_time(const char *s)
{
	size_t n = strlen(s), k;
	uint64_t t = 0, v, mult;
	int ret = gt_dump_parse_time(s, &t);

	FZ_CHECK(ret == 0 || ret == -EINVAL);
	/* "I.F<unit>": accepted only within [I, I + 1) units */
	k = strspn(s, "0123456789");
	if (ret == 0 && fz_decimal(s, k, &v) && s[k] == '.') {
		mult = fz_unit(s + k + 1 + strspn(s + k + 1, "0123456789"));
		FZ_CHECK(mult && v <= UINT64_MAX / mult && t >= v * mult);
		if (v * mult <= UINT64_MAX - mult)
			FZ_CHECK(t < v * mult + mult);
	}
	if (n > 2 && !strcmp(s + n - 2, "ns") && fz_decimal(s, n - 2, &v))
		FZ_CHECK(ret == 0 && t == v);
	if (fz_decimal(s, n, &v) || (n > 1 && s[n - 1] == 's' && fz_decimal(s, n - 1, &v))) {
		if (v <= UINT64_MAX / 1000000000ull)
			FZ_CHECK(ret == 0 && t == v * 1000000000ull);
		else
			FZ_CHECK(ret == -EINVAL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[FZ_ARGS_MAX + 2];
	struct gt_dump_args a;
	int argc = 1, ret, lvl;
	size_t i = 0;

	if (!fz_null)
		fz_null = fopen("/dev/null", "w");
	if (!fz_null)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[0] = (char *)"dump";
	while (i <= size && argc <= FZ_ARGS_MAX) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;

	ret = gt_dump_args_parse(argc, argv, &a, "usage\n", fz_null);
	FZ_CHECK(ret == 0 || ret == GT_DUMP_ARGS_HELP || ret == GT_DUMP_ARGS_USAGE);
	if (ret == 0) {
		FZ_CHECK(a.level >= 1 && a.level <= 5);
		FZ_CHECK(!a.path || (a.path >= buf && a.path <= buf + size));
	}
	for (int k = 1; k < argc; k++) {
		fz_check_time(argv[k]);
		lvl = gt_dump_parse_level(argv[k]);
		FZ_CHECK(lvl == -1 || (lvl >= 1 && lvl <= 5));
	}
	free(buf);
	return 0;
}
