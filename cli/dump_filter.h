/* SPDX-License-Identifier: MIT */
/*
 * dump_filter.h - the command-line filter arguments shared by `gtrace dump`
 * (and later `gtrace filter`): provider/event globs, a level, a time range
 * and an output format.  Split out of cmd_dump.c so that the parser can be
 * unit-tested and fuzzed (tests/fuzz/fuzz_dump_filter.c) without a file.
 */
#ifndef GT_DUMP_FILTER_H
#define GT_DUMP_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* What `gtrace dump FILE [filters]` was asked for. */
struct gt_dump_args {
	const char *path;   /* FILE; borrowed from argv */
	const char *prov;   /* --provider glob or NULL; borrowed from argv */
	const char *evname; /* --event glob or NULL; borrowed from argv */
	int level;          /* --level, 1..5 (default 5) */
	uint64_t since_ns;  /* --since, default 0 */
	uint64_t until_ns;  /* --until, default UINT64_MAX */
	bool json;          /* --format json */
};

/* gt_dump_args_parse() results besides 0. */
#define GT_DUMP_ARGS_HELP 1  /* --help / -h: print the usage on stdout, exit 0 */
#define GT_DUMP_ARGS_USAGE 2 /* a usage error was written to @errf: exit 2 */

/**
 * gt_dump_parse_time() - parse "1.5s", "200ms", "1500us", "10ns" or "3"
 * (seconds) into nanoseconds.
 * @s: NUL-terminated, untrusted.  @out: receives the value on success.
 * Return: 0, or -EINVAL on a malformed or overflowing value.
 */
int gt_dump_parse_time(const char *s, uint64_t *out);

/**
 * gt_dump_parse_level() - parse "1"-"5" or a level name (any case).
 * Return: 1..5, or -1 if @s is neither.
 */
int gt_dump_parse_level(const char *s);

/**
 * gt_dump_args_parse() - parse `gtrace dump` arguments (argv[0] is skipped).
 * @argc/@argv: untrusted strings; @a keeps pointers into @argv (borrowed).
 * @usage: appended to usage errors.  @errf: where usage errors are written.
 * Return: 0, GT_DUMP_ARGS_HELP, or GT_DUMP_ARGS_USAGE after writing
 * "gtrace dump: what is wrong" and @usage to @errf.  A missing FILE is
 * not an error here: the caller checks @a->path.
 */
int gt_dump_args_parse(int argc, char **argv, struct gt_dump_args *a, const char *usage,
		       FILE *errf);

#endif /* GT_DUMP_FILTER_H */
