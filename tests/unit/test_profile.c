/* SPDX-License-Identifier: MIT */
/*
 * test_profile.c - profile parser (collector/profile.c): good files, every
 * kind of bad line with its FILE:LINE message, rule matching and globs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/gt_collector.h"

#include "gt_check.h"

static int parse(const char *text, struct gt_profile *p, char *err, size_t cap)
{
	err[0] = '\0';
	return gt_profile_parse(text, strlen(text), "p.prof", p, err, cap);
}

static void test_good(void)
{
	static const char text[] = "# comment\n"
				   "\n"
				   "provider Contoso.*      level=verbose keywords=0x5\n"
				   "provider gtrace.output  level=info   # trailing comment\n"
				   "provider Exact.Name level=2 keywords=12\n"
				   "  provider Tab.Sep\tlevel=WARNING\r\n"
				   "buffer ring_size=1M threads=64\n"
				   "buffer schema_size=64K ring_size=4096\n";
	struct gt_profile p;
	char err[512];

	CHECK(parse(text, &p, err, sizeof(err)) == 0);
	CHECK(err[0] == '\0');
	CHECK(p.nrules == 4);
	CHECK(!strcmp(p.rules[0].pattern, "Contoso.*"));
	CHECK(p.rules[0].level == 5 && p.rules[0].keywords == 5);
	CHECK(!strcmp(p.rules[1].pattern, "gtrace.output") && p.rules[1].level == 4);
	CHECK(p.rules[1].keywords == ~0ull);
	CHECK(p.rules[2].level == 2 && p.rules[2].keywords == 12);
	CHECK(!strcmp(p.rules[3].pattern, "Tab.Sep") && p.rules[3].level == 3);
	CHECK(p.ring_size == 4096 && p.nslots == 64 && p.schema_size == 65536);
	CHECK(!strcmp(p.name, "p.prof"));

	/* enabled(): levels, keywords, last match wins, unmatched providers */
	CHECK(gt_profile_enabled(&p, "Contoso.Net", 5, 0x1));
	CHECK(gt_profile_enabled(&p, "Contoso.Net", 5, 0x4));
	CHECK(!gt_profile_enabled(&p, "Contoso.Net", 5, 0x2));
	CHECK(gt_profile_enabled(&p, "Contoso.Net", 1, 0)); /* keywords 0 always matches */
	CHECK(gt_profile_enabled(&p, "gtrace.output", 4, 0));
	CHECK(!gt_profile_enabled(&p, "gtrace.output", 5, 0));
	CHECK(gt_profile_enabled(&p, "gtrace.process", 5, 0)); /* internal, unmatched: on */
	CHECK(!gt_profile_enabled(&p, "Other", 1, 0)); /* unmatched: off */
	CHECK(gt_profile_enabled(&p, "Exact.Name", 2, 8));
	CHECK(!gt_profile_enabled(&p, "Exact.Name", 3, 8));
	CHECK(!gt_profile_enabled(&p, "Exact.Name", 2, 1));

	/* last matching rule wins, even if it is narrower */
	CHECK(parse("provider * level=5\nprovider Noisy.* level=off\n", &p, err, sizeof(err)) == 0);
	CHECK(gt_profile_enabled(&p, "Quiet", 5, 0));
	CHECK(!gt_profile_enabled(&p, "Noisy.X", 1, 0));
	CHECK(parse("provider Noisy.* level=off\nprovider * level=1\n", &p, err, sizeof(err)) == 0);
	CHECK(gt_profile_enabled(&p, "Noisy.X", 1, 0));
	CHECK(!gt_profile_enabled(&p, "Noisy.X", 2, 0));

	/* no provider line: everything, like default; empty input too */
	CHECK(parse("buffer threads=8\n", &p, err, sizeof(err)) == 0);
	CHECK(p.nrules == 1 && p.nslots == 8 && gt_profile_enabled(&p, "Any", 5, 1));
	CHECK(gt_profile_parse("", 0, "e", &p, err, sizeof(err)) == 0 && p.nrules == 1);
	/* not NUL-terminated input: only len bytes are read */
	CHECK(gt_profile_parse("provider A level=1XXXX", 18, "n", &p, err, sizeof(err)) == 0);
	CHECK(p.nrules == 1 && p.rules[0].level == 1);

	/* file sync: async unless the profile asks for full */
	CHECK(parse("provider *\n", &p, err, sizeof(err)) == 0 && !p.sync_full);
	CHECK(parse("file sync=full\n", &p, err, sizeof(err)) == 0 && p.sync_full);
	CHECK(parse("file sync=full\nfile sync=async\n", &p, err, sizeof(err)) == 0 &&
	      !p.sync_full);
	CHECK(gt_profile_builtin("default", &p) == 0 && !p.sync_full);
}

struct bad_case {
	const char *text;
	const char *expect; /* substring of the message */
};

static void test_bad(void)
{
	static const struct bad_case cases[] = {
		{ "frobnicate x\n",
		  "p.prof:1: unknown directive 'frobnicate' (expected 'provider', 'buffer', 'file' or 'kernel')" },
		{ "kernel\n", "p.prof:1: kernel needs an event selection or option (expected" },
		{ "# k\nkernel sched\n", "p.prof:2: kernel event 'sched': expected SYSTEM:EVENT" },
		{ "kernel sched:sched_switch when prev_pid > 0\n",
		  "p.prof:1: kernel event 'sched:sched_switch when prev_pid > 0': expected 'if FILTER'" },
		{ "kernel buffer_kb=0\n",
		  "p.prof:1: bad buffer_kb '0' (expected KiB per CPU from 4 to 1048576" },
		{ "kernel buffer_kb=lots\n", "bad buffer_kb 'lots'" },
		{ "kernel set=everything\n",
		  "p.prof:1: unknown kernel set 'everything' (expected set=kernel)" },
		{ "# ok\nprovider\n", "p.prof:2: provider needs a name pattern (expected" },
		{ "provider level=3\n", "p.prof:1: provider needs a name pattern" },
		{ "provider A level=9\n", "p.prof:1: bad level '9' (expected 1-5" },
		{ "provider A level=loud\n", "bad level 'loud'" },
		{ "provider A level=\n", "bad level ''" },
		{ "provider A keywords=zz\n",
		  "p.prof:1: bad keywords 'zz' (expected a 64-bit mask" },
		{ "provider A keywords=0x1ffffffffffffffff\n", "bad keywords" },
		{ "provider A keywords=-1\n", "bad keywords '-1'" },
		{ "provider A level=1 level=2\n", "level given twice" },
		{ "provider A keywords=1 keywords=2\n", "keywords given twice" },
		{ "provider A colour=red\n",
		  "unknown provider option 'colour' (expected level= or keywords=)" },
		{ "provider A verbose\n", "'verbose' is not KEY=VALUE" },
		{ "buffer\n", "p.prof:1: buffer needs at least one option" },
		{ "file\n", "p.prof:1: file takes one option (expected sync=full or sync=async)" },
		{ "file sync=full fast\n", "file takes one option" },
		{ "file sync=maybe\n", "p.prof:1: bad sync 'maybe' (expected full or async)" },
		{ "buffer ring_size=3M\n",
		  "bad ring_size '3M' (expected a power of two from 4K to 256M" },
		{ "buffer ring_size=1K\n", "bad ring_size '1K'" },
		{ "buffer ring_size=1T\n", "bad ring_size '1T'" },
		{ "buffer ring_size=512M\n", "bad ring_size '512M'" },
		{ "buffer threads=0\n",
		  "bad threads '0' (expected a number of ring slots from 1 to" },
		{ "buffer threads=100000\n", "bad threads '100000'" },
		{ "buffer schema_size=5000\n",
		  "bad schema_size '5000' (expected a multiple of 4K" },
		{ "buffer size=1\n", "unknown buffer option 'size'" },
		{ "buffer 1M\n", "'1M' is not KEY=VALUE" },
		{ "provider A\n\n\nprovider B level=x\n", "p.prof:4: bad level 'x'" },
		{ "provider A\x01\n", "p.prof:1: control byte 0x01" },
	};
	struct gt_profile p;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = parse(cases[i].text, &p, err, sizeof(err));

		if (ret != -EINVAL || !strstr(err, cases[i].expect)) {
			fprintf(stderr, "bad case %zu: ret %d, message '%s', expected '%s'\n", i,
				ret, err, cases[i].expect);
			failures++;
		}
	}
	/* buffers whose product is absurd (reported at the end of the file) */
	CHECK(parse("buffer ring_size=256M\nbuffer threads=4096\n", &p, err, sizeof(err)) ==
	      -EINVAL);
	CHECK(strstr(err, "p.prof:2: ring_size x threads is more than 256G") != NULL);
	CHECK(parse("buffer ring_size=64M threads=64\n", &p, err, sizeof(err)) == 0);
	/* a NUL byte inside the text is a control byte, not an end */
	CHECK(gt_profile_parse("provider A\0B\n", 13, "z", &p, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "z:1: control byte 0x00") != NULL);

	/* long pattern, long line, too many rules */
	{
		char *t = malloc(8192);
		size_t n;

		n = (size_t)snprintf(t, 8192, "provider ");
		memset(t + n, 'a', 300);
		strcpy(t + n + 300, "\n");
		CHECK(parse(t, &p, err, sizeof(err)) == -EINVAL);
		CHECK(strstr(err, "provider pattern is longer than 255 bytes") != NULL);
		memset(t, ' ', 5000);
		strcpy(t + 5000, "x\n");
		CHECK(parse(t, &p, err, sizeof(err)) == -EINVAL);
		CHECK(strstr(err, "line is longer than") != NULL);
		n = 0;
		for (int i = 0; i < 65; i++)
			n += (size_t)snprintf(t + n, 8192 - n, "provider P%d\n", i);
		CHECK(parse(t, &p, err, sizeof(err)) == -EINVAL);
		CHECK(strstr(err, "p.prof:65: too many provider rules (expected at most 64)") !=
		      NULL);
		free(t);
	}
	/* a tiny error buffer is never overrun */
	CHECK(parse("nope\n", &p, err, 8) == -EINVAL && strlen(err) == 7);
}

static void test_glob(void)
{
	CHECK(gt_glob_match("*", ""));
	CHECK(gt_glob_match("*", "anything"));
	CHECK(gt_glob_match("Contoso.*", "Contoso.Net"));
	CHECK(!gt_glob_match("Contoso.*", "Contoso"));
	CHECK(gt_glob_match("C?ntoso", "Contoso"));
	CHECK(!gt_glob_match("C?ntoso", "Cntoso"));
	CHECK(gt_glob_match("*.Net", "A.B.Net"));
	CHECK(gt_glob_match("a*b*c", "aXXbYYc"));
	CHECK(!gt_glob_match("a*b*c", "aXXbYY"));
	CHECK(gt_glob_match("**x", "x"));
	CHECK(!gt_glob_match("abc", "abcd"));
	CHECK(!gt_glob_match("", "a"));
}

static void test_kernel(void)
{
	static const char text[] = "provider A\n"
				   "kernel sched:sched_process_*\n"
				   "kernel syscalls:sys_enter_openat if dfd == -100   # comment\n"
				   "kernel  block:*\n"
				   "kernel system-wide\n"
				   "kernel buffer_kb=256\n";
	struct gt_profile p;
	char err[512], *big;
	size_t n = 0;

	CHECK(parse(text, &p, err, sizeof(err)) == 0);
	CHECK(err[0] == '\0');
	CHECK(p.nrules == 1 && p.nkspecs == 3);
	CHECK(!strcmp(p.kspecs[0].system, "sched") && !strcmp(p.kspecs[0].event, "sched_process_*"));
	CHECK(p.kspecs[0].filter[0] == '\0');
	CHECK(!strcmp(p.kspecs[1].system, "syscalls") &&
	      !strcmp(p.kspecs[1].event, "sys_enter_openat"));
	CHECK(!strcmp(p.kspecs[1].filter, "dfd == -100"));
	CHECK(!strcmp(p.kspecs[2].system, "block") && !strcmp(p.kspecs[2].event, "*"));
	CHECK(p.ksystem_wide && p.kbuffer_kb == 256);

	/* no kernel line: no kernel events */
	CHECK(parse("provider A\n", &p, err, sizeof(err)) == 0);
	CHECK(p.nkspecs == 0 && !p.ksystem_wide && p.kbuffer_kb == 0);

	/* set=kernel expands the built-in set, and adds to other selections */
	CHECK(parse("kernel block:*\nkernel set=kernel\n", &p, err, sizeof(err)) == 0);
	CHECK(p.nkspecs > 3 && !strcmp(p.kspecs[0].system, "block"));
	CHECK((int)p.nkspecs - 1 == gt_kernel_builtin("kernel", NULL, 0));

	/* built-in profile "kernel" = default providers + the kernel set */
	CHECK(gt_profile_builtin("kernel", &p) == 0);
	CHECK(p.nrules == 1 && !strcmp(p.rules[0].pattern, "*") && p.rules[0].level == 5);
	CHECK(p.nkspecs >= 6 && !p.ksystem_wide);
	CHECK(gt_profile_load("kernel", &p, err, sizeof(err)) == 0 && !strcmp(p.name, "kernel"));
	CHECK(gt_profile_builtin("default", &p) == 0 && p.nkspecs == 0);

	/* too many selections: named at the line that overflows */
	big = malloc(GT_KERNEL_SPECS_MAX * 32 + 64);
	CHECK(big != NULL);
	if (!big)
		return;
	for (unsigned int i = 0; i <= GT_KERNEL_SPECS_MAX; i++)
		n += (size_t)sprintf(big + n, "kernel sched:e%u\n", i);
	CHECK(gt_profile_parse(big, n, "p.prof", &p, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "p.prof:65: too many kernel selections (expected at most 64)") == err);
	free(big);
}

static void test_builtin_and_load(void)
{
	struct gt_profile p;
	char err[512], path[] = "/tmp/gt_test_profile_XXXXXX";
	int fd;

	CHECK(gt_profile_builtin("default", &p) == 0);
	CHECK(p.nrules == 1 && !strcmp(p.rules[0].pattern, "*") && p.rules[0].level == 5);
	CHECK(p.ring_size == (8u << 20) && p.nslots == 64 && p.schema_size == (256u << 10));
	CHECK(gt_profile_builtin("nope", &p) == -ENOENT);
	CHECK(gt_profile_load("default", &p, err, sizeof(err)) == 0 && !strcmp(p.name, "default"));
	CHECK(gt_profile_load("/nonexistent/x.prof", &p, err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "cannot read profile '/nonexistent/x.prof': No such file or directory") !=
	      NULL);
	CHECK(gt_profile_load("no-such-builtin", &p, err, sizeof(err)) == -ENOENT);

	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, "provider X level=3\nbogus\n", 25) == 25);
	close(fd);
	CHECK(gt_profile_load(path, &p, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, ":2: unknown directive 'bogus'") != NULL && strstr(err, path) == err);
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, "provider X level=3\n", 19) == 19);
	close(fd);
	CHECK(gt_profile_load(path, &p, err, sizeof(err)) == 0);
	CHECK(p.nrules == 1 && p.rules[0].level == 3 && !strcmp(p.name, path));
	unlink(path);
	CHECK(gt_profile_load("/tmp", &p, err, sizeof(err)) < 0);
}

int main(void)
{
	test_good();
	test_bad();
	test_glob();
	test_kernel();
	test_builtin_and_load();
	return gt_check_result("test_profile");
}
