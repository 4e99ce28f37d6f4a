/* SPDX-License-Identifier: MIT */
/*
 * test_system.c - system sessions below the CLI (collector/system.c).
 *
 * The registry and the control blocks it points at come from other
 * processes, so the collector must survive anything there.  Entries: the
 * parser takes one exact line and nothing else.  Control blocks: this test
 * is its own target (process_vm_* on its own pid), with blocks at unmapped
 * addresses, with a wrong magic or nonce, a bogus site count, a site array
 * that is unmapped, and an array mixing good state words with NULL,
 * misaligned and unmapped addresses: the good words get GT_SITE_UNREG, the
 * rest is skipped, nothing crashes.  Then a registry directory full of
 * garbage (symlinks, directories, huge and malformed files, a live pid with
 * a bad address, a dead pid) is scanned: every entry is counted, none
 * enabled.  As root, a process that dropped to uid 65534 must be refused
 * by the kernel (-EPERM) when it tries to enable a root process, and two
 * claims of the registry lock cannot both succeed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtrace/abi.h>
#include <gtrace/error.h>
#include <gtrace/gtrace.h>

#include "collector/gt_system.h"

#include "gt_check.h"

static struct gt_sys_ctl blk __attribute__((aligned(64)));

/*
 * An address no access may succeed at: a PROT_NONE page that stays mapped
 * (an unmapped one could be reused by the next mmap, e.g. a sanitizer's).
 */
static void *noaccess_page(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void test_parse(void)
{
	struct gt_sys_entry e;
	char huge[400];
	static const char *const bad[] = {
		"",
		"gtrace-sys 1 10 5 1000 77",                  /* no newline */
		"gtrace-sys 1 10 5 1000 77\n\n",              /* two lines */
		"gtrace-sys 2 10 5 1000 77\n",                /* other ABI */
		"gtrace-sys 1 0 5 1000 77\n",                 /* pid 0 */
		"gtrace-sys 1 10 5 0 77\n",                   /* NULL block */
		"gtrace-sys 1 10 5 1001 77\n",                /* misaligned */
		"gtrace-sys 1 10 5 1000 0\n",                 /* nonce 0 */
		"gtrace-sys 1 10 5 1000 77 extra\n",          /* trailing words */
		"gtrace-sys 1 4294967295 5 1000 77\n",        /* pid out of range */
		"gtrace-sys 1 10 5 zz 77\n",
		"gtrace-sys\n",
		"p123\n",
	};

	CHECK(gt_system_parse_entry("gtrace-sys 1 10 5 7f00 abc\n", 27, &e) == 0);
	CHECK(e.pid == 10 && e.starttime == 5 && e.addr == 0x7f00 && e.nonce == 0xabc);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(gt_system_parse_entry(bad[i], strlen(bad[i]), &e) == -EINVAL);
	CHECK(gt_system_parse_entry("gtrace-sys 1 10\0 5 1000 77\n", 27, &e) == -EINVAL);
	memset(huge, '1', sizeof(huge));
	huge[sizeof(huge) - 1] = '\n';
	CHECK(gt_system_parse_entry(huge, sizeof(huge), &e) == -EINVAL);
}

static void blk_init(uint64_t nonce)
{
	memset(&blk, 0, sizeof(blk));
	blk.magic = GT_SYS_MAGIC;
	blk.abi_version = GT_ABI_VERSION;
	blk.struct_size = sizeof(blk);
	blk.nonce = nonce;
	blk.pid = (uint32_t)getpid();
}

static void test_enable(void)
{
	struct gt_sys_entry e = { .pid = (uint32_t)getpid(), .addr = (uint64_t)(uintptr_t)&blk,
				  .nonce = 0x1234567 };
	struct gt_site_state a = { 0, 0, NULL, NULL }, b = { 7, 7, NULL, NULL };
	void *hole = noaccess_page();
	uint64_t sites[6];
	uint32_t misaligned[2] = { 0, 0 };

	CHECK(hole != NULL);
	/* a block at an unmapped address */
	e.addr = (uint64_t)(uintptr_t)hole;
	CHECK(gt_system_enable(&e, true, "/x/s", 0) == -GT_ECORRUPT);
	e.addr = (uint64_t)(uintptr_t)&blk;
	/* wrong magic, wrong nonce, wrong pid, wrong version: nothing written */
	blk_init(0x1234567);
	blk.magic ^= 1;
	CHECK(gt_system_enable(&e, true, "/x/s", 0) == -GT_ECORRUPT);
	CHECK(blk.seq == 0 && blk.want == 0);
	blk_init(0x7654321);
	CHECK(gt_system_enable(&e, true, "/x/s", 0) == -GT_ECORRUPT);
	CHECK(blk.seq == 0);
	blk_init(0x1234567);
	blk.pid++;
	CHECK(gt_system_enable(&e, true, "/x/s", 0) == -GT_ECORRUPT);
	blk_init(0x1234567);
	blk.abi_version = 99;
	CHECK(gt_system_enable(&e, true, "/x/s", 0) == -GT_ECORRUPT);
	blk_init(0x1234567);
	blk.struct_size = 1u << 30;
	CHECK(gt_system_enable(&e, true, "/x/s", 0) == -GT_ECORRUPT);
	/* a bogus count is refused, never allocated or walked */
	blk_init(0x1234567);
	blk.nsites = GT_SYS_SITES_MAX + 1ull;
	blk.sites = (uint64_t)(uintptr_t)sites;
	CHECK(gt_system_enable(&e, true, "/x/s", 0) == -E2BIG);
	blk.nsites = UINT64_MAX;
	CHECK(gt_system_enable(&e, true, "/x/s", 0) == -E2BIG);
	/* a site array that is not mapped */
	blk_init(0x1234567);
	blk.nsites = 10;
	blk.sites = (uint64_t)(uintptr_t)hole;
	CHECK(gt_system_enable(&e, true, "/x/s", 0) == -GT_ECORRUPT);
	blk.sites = 3; /* misaligned */
	CHECK(gt_system_enable(&e, true, "/x/s", 0) == -GT_ECORRUPT);
	/* good words among NULL, misaligned and unmapped ones */
	blk_init(0x1234567);
	sites[0] = (uint64_t)(uintptr_t)&a.state;
	sites[1] = 0;
	sites[2] = (uint64_t)(uintptr_t)((char *)misaligned + 1);
	sites[3] = (uint64_t)(uintptr_t)hole;
	sites[4] = (uint64_t)(uintptr_t)&b.state;
	sites[5] = (uint64_t)(uintptr_t)hole + 8;
	blk.sites = (uint64_t)(uintptr_t)sites;
	blk.nsites = 6;
	CHECK(gt_system_enable(&e, true, "/run/x/s1.0", 1000) == 2);
	CHECK(a.state == GT_SITE_UNREG && b.state == GT_SITE_UNREG);
	CHECK(misaligned[0] == 0 && misaligned[1] == 0);
	CHECK(blk.seq == 2 && blk.want == GT_SYS_WANT_JOIN && blk.uid == 1000);
	CHECK(!strcmp(blk.socket, "/run/x/s1.0"));
	/* leave: seq moves on (even), want none, socket cleared */
	a.state = 5;
	CHECK(gt_system_enable(&e, false, NULL, 1000) == 2);
	CHECK(blk.seq == 4 && blk.want == GT_SYS_WANT_NONE && blk.socket[0] == '\0');
	CHECK(a.state == GT_SITE_UNREG);
	/* an odd seq left by a collector that died mid-write is moved past */
	blk.seq = 7;
	CHECK(gt_system_enable(&e, true, "/x/s", 0) == 2);
	CHECK(blk.seq == 10);
	/* a socket path that does not fit */
	{
		char longp[300];

		memset(longp, 'a', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = '\0';
		CHECK(gt_system_enable(&e, true, longp, 0) == -ENAMETOOLONG);
	}
}

static void put(const char *dir, const char *name, const char *text, size_t len)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write(fd, text, len) == (ssize_t)len);
		close(fd);
	}
}

static void test_scan(void)
{
	char dir[] = "/tmp/gt_test_system.XXXXXX", path[512], line[160], err[512];
	struct gt_system_stats st;
	struct gt_system *s = NULL;
	char *big;
	int fd, fd2;

	CHECK(mkdtemp(dir) != NULL);
	setenv("GTRACE_SYSTEM_DIR", dir, 1);
	/* malformed, symlink, directory, huge file, dead pid, live pid with a bad block */
	put(dir, "p123", "garbage\n", 8);
	snprintf(path, sizeof(path), "%s/p1", dir);
	CHECK(symlink("/etc/passwd", path) == 0);
	snprintf(path, sizeof(path), "%s/p5", dir);
	CHECK(mkdir(path, 0700) == 0);
	big = malloc(1 << 20);
	CHECK(big != NULL);
	if (big) {
		memset(big, 'x', 1 << 20);
		put(dir, "p7", big, 1 << 20);
		free(big);
	}
	put(dir, "p2147483646", "gtrace-sys 1 2147483646 1 1000 77\n", 34);
	snprintf(line, sizeof(line), "gtrace-sys 1 %d 1 1000 77\n", (int)getpid());
	put(dir, "p99999999999", line, strlen(line)); /* pid in the name out of range */
	{
		/* our own pid, right start time, a block address that is not mapped */
		char stat[1024];
		unsigned long long start = 0;
		const char *p;
		int field = 3;
		FILE *f = fopen("/proc/self/stat", "r");

		if (f) {
			size_t n = fread(stat, 1, sizeof(stat) - 1, f);

			stat[n] = '\0';
			fclose(f);
			p = strrchr(stat, ')');
			for (p = p ? p + 2 : stat; *p && field < 22; p++)
				if (*p == ' ')
					field++;
			sscanf(p, "%llu", &start);
		}
		snprintf(line, sizeof(line), "gtrace-sys 1 %d %llu %llx 77\n", (int)getpid(), start,
			 (unsigned long long)(uintptr_t)noaccess_page());
		snprintf(path, sizeof(path), "p%d", (int)getpid());
		put(dir, path, line, strlen(line));
	}
	fd = gt_system_claim(err, sizeof(err));
	CHECK(fd >= 0);
	fd2 = gt_system_claim(err, sizeof(err));
	CHECK(fd2 == -EEXIST); /* one system session at a time */
	if (fd >= 0 && gt_system_open(fd, "/nonexistent/s1.0", "t", &s) == 0) {
		CHECK(gt_system_scan(s) == 0);
		CHECK(gt_system_scan(s) == 0); /* a second scan counts nothing twice */
		gt_system_stats(s, &st);
		CHECK(st.enabled == 0);
		CHECK(st.bad == 3);   /* p123, p7 (too long to be a line), ours (bad block) */
		CHECK(st.stale == 1); /* the dead pid, removed */
		snprintf(path, sizeof(path), "%s/p2147483646", dir);
		CHECK(access(path, F_OK) < 0);
		snprintf(path, sizeof(path), "%s/session", dir);
		CHECK(access(path, F_OK) == 0); /* advertised */
		gt_system_close(s);
		CHECK(access(path, F_OK) < 0);
	} else {
		CHECK(0);
	}
	fd2 = gt_system_claim(err, sizeof(err)); /* free again */
	CHECK(fd2 >= 0);
	if (fd2 >= 0)
		close(fd2);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0);
	unsetenv("GTRACE_SYSTEM_DIR");
}

/* As root: a process of another uid cannot write into ours. */
static void test_other_user(void)
{
	struct gt_sys_entry e = { .pid = (uint32_t)getpid(), .addr = (uint64_t)(uintptr_t)&blk,
				  .nonce = 0x42 };
	int status = 0;
	pid_t pid;

	if (geteuid() != 0)
		return;
	blk_init(0x42);
	pid = fork();
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(3);
		_exit(gt_system_enable(&e, true, "/x/s", 65534) == -EPERM ? 0 : 1);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(blk.seq == 0 && blk.want == 0);
}

int main(void)
{
	test_parse();
	test_enable();
	test_scan();
	test_other_user();
	return gt_check_result("test_system");
}
