/* SPDX-License-Identifier: MIT */
/*
 * gt_system.c - runtime enable: how a running process without
 * GTRACE_SESSION is found and enabled by a system session.
 *
 * ETW enables a provider in processes that are already running; gtrace
 * does it without a thread of its own in the process and without slowing
 * the disabled call site, which reads only its own state word.  So the
 * process tells the world where its words are: it keeps a control block
 * (struct gt_sys_ctl, abi.h) with the address of an array of every
 * registered call site's state word, and writes the block's address in a
 * registry entry, REGISTRY/p<pid> (docs/abi.md "Runtime enable").  A
 * system session's collector writes "join SOCKET" and a new sequence
 * number into the block with process_vm_writev (the kernel allows that to
 * the process's own user and root only) and then GT_SITE_UNREG into every
 * state word: the next pass of any call site lands in gt_site_slow(),
 * which calls gt_sys_poll_locked() to join (or, when the session ends,
 * leave) and evaluates every site again.  A process that starts while a
 * system session runs finds its advertisement, REGISTRY/session, and
 * joins at once.  Everything read here comes from other users' files or
 * from the collector: it is bounded and checked, and failure means
 * "untraced", never an error the program sees.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gt_lib.h"
#include "gt_sysdir.h"

#define GT_SYS_ADVERT_MAX 512u
#define GT_SYS_SPIN_MAX 1000 /* sched_yield()s waiting for the collector's odd seq */

/* Written by a system session's collector, from outside (process_vm_writev). */
static struct gt_sys_ctl gt_sys_blk __attribute__((aligned(64)));

/* Our side of it; owned by gt_proc.lock. */
static struct {
	bool active;       /* no GTRACE_SESSION: the block and the entry are set up */
	bool joined;       /* joined a system session (through the block or the advertisement) */
	pid_t entry_pid;   /* the process that wrote @entry (a fork child must not remove it) */
	uint64_t acked;    /* the block's seq we acted on last */
	uint64_t *arr;     /* the state-word addresses; arr[-1] links the previous array */
	uint64_t n, cap;
	char entry[GT_SYS_DIR_MAX + 32];
	char path[GT_SYS_SOCKET_MAX]; /* the socket we joined */
} gt_sys;

/* Write REGISTRY/p<pid> (a temporary file renamed over it: readers see whole lines). */
static int gt_sys_register(const char *dir)
{
	struct gt_sys_ctl *b = &gt_sys_blk;
	char tmp[GT_SYS_DIR_MAX + 48], line[160];
	uint64_t nonce = 0;
	pid_t pid = getpid();
	int fd, len, ret = 0;

	if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != (ssize_t)sizeof(nonce))
		nonce = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)pid ^
			(uint64_t)(uintptr_t)&nonce;
	nonce |= 1; /* never 0: a zeroed block does not match */
	if (__atomic_load_n(&b->magic, __ATOMIC_RELAXED) != GT_SYS_MAGIC) {
		b->abi_version = GT_ABI_VERSION;
		b->struct_size = sizeof(*b);
		__atomic_store_n(&b->magic, GT_SYS_MAGIC, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&b->nonce, nonce, __ATOMIC_RELAXED);
	__atomic_store_n(&b->pid, (uint32_t)pid, __ATOMIC_RELAXED);
	__atomic_store_n(&b->joined, 0, __ATOMIC_RELAXED);
	gt_sys.acked = __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE);
	__atomic_store_n(&b->acked, gt_sys.acked, __ATOMIC_RELAXED);

	snprintf(gt_sys.entry, sizeof(gt_sys.entry), "%s/p%d", dir, (int)pid);
	snprintf(tmp, sizeof(tmp), "%s/.p%d.tmp", dir, (int)pid);
	len = snprintf(line, sizeof(line), "gtrace-sys %u %d %llu %llx %llx\n", GT_ABI_VERSION,
		       (int)pid, (unsigned long long)gt_sys_starttime(0),
		       (unsigned long long)(uintptr_t)b, (unsigned long long)nonce);
	unlink(tmp); /* ours, if a process with our pid left it behind */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, line, (size_t)len) != len)
		ret = -EIO;
	close(fd);
	if (ret == 0 && rename(tmp, gt_sys.entry) < 0)
		ret = -errno;
	if (ret < 0) {
		unlink(tmp);
		gt_sys.entry[0] = '\0';
		return ret;
	}
	gt_sys.entry_pid = pid;
	return 0;
}

/*
 * A system session already running advertises its socket in
 * REGISTRY/session: join it now, if the file and the socket are ours (a
 * session of another user must not receive our events).
 */
static void gt_sys_advert_join(const char *dir, bool rejoin)
{
	char path[GT_SYS_DIR_MAX + 16], buf[GT_SYS_ADVERT_MAX];
	struct stat st;
	size_t len;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/session", dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	len = strcspn(buf, "\n");
	buf[len] = '\0';
	if (buf[0] != '/' || len >= GT_SYS_SOCKET_MAX || lstat(buf, &st) < 0 ||
	    !S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
		return;
	if (gt_proc_connect_locked(buf, rejoin, true) == 0) {
		gt_sys.joined = true;
		memcpy(gt_sys.path, buf, len + 1);
		__atomic_store_n(&gt_sys_blk.joined, 1, __ATOMIC_RELAXED);
	}
}

void gt_sys_start_locked(bool rejoin)
{
	char dir[GT_SYS_DIR_MAX];
	int ret;

	ret = gt_system_dir(dir, sizeof(dir));
	if (ret < 0) {
		gt_dbg("no registry directory for system sessions: %s", strerror(-ret));
		return;
	}
	ret = gt_sys_register(dir);
	if (ret < 0) {
		gt_dbg("cannot write the registry entry in '%s': %s", dir, strerror(-ret));
		return;
	}
	gt_sys.active = true;
	gt_sys_advert_join(dir, rejoin);
}

/*
 * Act on a new sequence number in the control block: join or leave, then
 * evaluate every call site.  Return: the seq acted on (or already acked).
 */
uint64_t gt_sys_poll_locked(void)
{
	struct gt_sys_ctl *b = &gt_sys_blk;
	char sock[GT_SYS_SOCKET_MAX];
	uint64_t s1, s2;
	uint32_t want = 0;
	int spins = 0;

	if (!gt_sys.active)
		return 0;
	/* Pairs with the collector's last write of seq (even) after the fields. */
	s1 = __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE);
	if (s1 == gt_sys.acked)
		return s1;
	for (;;) {
		if (s1 & 1) { /* the collector is writing: a few microseconds */
			if (++spins > GT_SYS_SPIN_MAX)
				return gt_sys.acked;
			sched_yield();
			s1 = __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE);
			continue;
		}
		want = __atomic_load_n(&b->want, __ATOMIC_RELAXED);
		memcpy(sock, b->socket, sizeof(sock));
		gt_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&b->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			break;
		s1 = s2;
	}
	sock[sizeof(sock) - 1] = '\0';
	if (want == GT_SYS_WANT_JOIN && sock[0] == '/') {
		if (!(gt_sys.joined && gt_proc.join == GT_JOIN_OK && !strcmp(gt_sys.path, sock))) {
			if (gt_proc.join == GT_JOIN_OK)
				gt_proc_leave_locked();
			gt_sys.joined = gt_proc_connect_locked(sock, false, true) == 0;
			snprintf(gt_sys.path, sizeof(gt_sys.path), "%s", gt_sys.joined ? sock : "");
		}
	} else if (gt_sys.joined) {
		gt_dbg("system session '%s' ended: leaving it", gt_sys.path);
		gt_proc_leave_locked();
		gt_sys.joined = false;
		gt_sys.path[0] = '\0';
	}
	gt_sys.acked = s1;
	__atomic_store_n(&b->acked, s1, __ATOMIC_RELAXED);
	__atomic_store_n(&b->joined, gt_sys.joined ? 1u : 0u, __ATOMIC_RELAXED);
	gt_sites_eval_locked();
	return s1;
}

bool gt_sys_changed(uint64_t seq)
{
	return gt_sys.active && __atomic_load_n(&gt_sys_blk.seq, __ATOMIC_RELAXED) != seq;
}

/*
 * List @st's state word for the collector.  A full array is replaced by
 * one twice as large that starts with the same entries; the old one is
 * never freed (a collector may be reading it) but stays reachable through
 * the new one's link word.
 */
void gt_sys_track_locked(struct gt_site_state *st)
{
	struct gt_sys_ctl *b = &gt_sys_blk;

	if (gt_sys.n == gt_sys.cap) {
		uint64_t ncap = gt_sys.cap ? gt_sys.cap * 2 : 64;
		uint64_t *p = malloc((size_t)(ncap + 1) * sizeof(*p));

		if (!p || ncap > GT_SYS_SITES_MAX) {
			free(p);
			gt_dbg("too many call sites for a system session to enable");
			return;
		}
		p[0] = (uint64_t)(uintptr_t)(gt_sys.arr ? gt_sys.arr - 1 : NULL);
		if (gt_sys.n)
			memcpy(p + 1, gt_sys.arr, (size_t)gt_sys.n * sizeof(*p));
		gt_sys.arr = p + 1;
		gt_sys.cap = ncap;
		/* Release: the copied entries are visible before the new address. */
		__atomic_store_n(&b->sites, (uint64_t)(uintptr_t)gt_sys.arr, __ATOMIC_RELEASE);
	}
	gt_sys.arr[gt_sys.n++] = (uint64_t)(uintptr_t)&st->state;
	/* Release: the entry is written before the count that covers it. */
	__atomic_store_n(&b->nsites, gt_sys.n, __ATOMIC_RELEASE);
}

/* Exit: our registry entry goes (a stale one is also removed by collectors). */
void gt_sys_exit(void)
{
	if (gt_sys.entry[0] && gt_sys.entry_pid == getpid())
		unlink(gt_sys.entry);
}

/*
 * Fork child (single-threaded): the entry and the session are the
 * parent's.  A child of a standing-by parent sends its registered sites to
 * the slow path, so it registers on its first event.
 */
void gt_sys_atfork_child(void)
{
	bool was_active = gt_sys.active;

	gt_sys.active = false;
	gt_sys.joined = false;
	gt_sys.path[0] = '\0';
	if (!was_active)
		return;
	__atomic_store_n(&gt_proc.join, GT_JOIN_REJOIN, __ATOMIC_RELAXED);
	for (struct gt_site_state *st = gt_proc.sites; st; st = st->next)
		__atomic_store_n(&st->state, GT_SITE_UNREG, __ATOMIC_RELAXED);
}
