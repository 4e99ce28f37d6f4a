/* SPDX-License-Identifier: MIT */
/*
 * system.c - system sessions: enabling processes that were already running.
 *
 * A process with libgtrace and no GTRACE_SESSION stands by: it lists the
 * addresses of its call sites' state words in a control block in its own
 * memory and names the block's address in a registry entry,
 * REGISTRY/p<pid> (docs/abi.md "Runtime enable").  A system session
 * scans the registry at start and about every 20 ms after; for each new
 * entry it reads the block with process_vm_readv, checks it (magic,
 * version, pid, the entry's nonce: the process is untrusted, and the entry
 * may be stale), writes "join SOCKET" under a sequence lock with
 * process_vm_writev, and then GT_SITE_UNREG into every state word, so the
 * next pass of each call site takes the slow path and joins.  At the end
 * it writes "leave" the same way.  The kernel decides who may write into
 * whom (ptrace-attach rights: the same user, or CAP_SYS_PTRACE): that is
 * "only the process's own user or root can enable it".  A process of
 * another user is skipped, counted and logged once, never an error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <gtrace/abi.h>
#include <gtrace/gtrace.h>

#include "gt_col_int.h"
#include "gt_system.h"
#include "lib/gt_sysdir.h"

#define GT_SYS_ENTRY_MAX 255u
#define GT_SYS_BATCH 512u /* state words per process_vm_* call (IOV_MAX is 1024) */

enum gt_sys_status {
	GT_SYSP_ENABLED = 1,
	GT_SYSP_SKIPPED = 2, /* another user's, or the kernel refused: not retried */
	GT_SYSP_BAD = 3,     /* failed validation: not retried */
};

/* A registry entry already handled; (pid, starttime, nonce) names one process image. */
struct gt_sysproc {
	uint32_t pid;
	uint64_t starttime, nonce, addr;
	int status;
	bool seen; /* still in the registry at the last scan */
};

struct gt_system {
	char dir[GT_SYS_DIR_MAX];
	char sock[GT_SYS_SOCKET_MAX];
	int lockfd;
	bool advertised;
	struct gt_sysproc *p;
	size_t n, cap;
	struct gt_system_stats st;
};

/* Read at most @cap - 1 bytes of a regular file, not following a symlink. */
static ssize_t gt_sys_read_file(int dirfd, const char *name, char *buf, size_t cap,
				struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

int gt_system_claim(char *err, size_t errcap)
{
	char dir[GT_SYS_DIR_MAX], path[GT_SYS_DIR_MAX + 16], adv[512] = "";
	char *name = NULL, *uid = NULL, *pid = NULL;
	struct stat st;
	int fd, ret, dfd;

	ret = gt_system_dir(dir, sizeof(dir));
	if (ret < 0) {
		snprintf(err, errcap,
			 "no registry directory for system sessions: %s (set GTRACE_SYSTEM_DIR "
			 "to a directory of yours)",
			 gt_strerror(ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/session.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EACCES) /* another user's lock file in a shared registry */
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errcap, "cannot open '%s': %s", path, strerror(errno));
		return ret;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	ret = errno == EWOULDBLOCK ? -EEXIST : -errno;
	close(fd);
	if (ret != -EEXIST) {
		snprintf(err, errcap, "cannot lock '%s': %s", path, gt_strerror(ret));
		return ret;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (gt_sys_read_file(dfd, "session", adv, sizeof(adv), &st) > 0) {
			char *save = NULL;

			strtok_r(adv, "\n", &save); /* the socket */
			name = strtok_r(NULL, "\n", &save);
			uid = strtok_r(NULL, "\n", &save);
			pid = strtok_r(NULL, "\n", &save);
		}
		close(dfd);
	}
	snprintf(err, errcap,
		 "a system session is already running: '%s' (uid %s, collector pid %s); only one "
		 "at a time: stop it first with 'gtrace stop --session %s'",
		 name ? name : "?", uid ? uid : "?", pid ? pid : "?", name ? name : "NAME");
	return -EEXIST;
}

int gt_system_parse_entry(const char *text, size_t len, struct gt_sys_entry *e)
{
	char buf[GT_SYS_ENTRY_MAX + 1], tail;
	unsigned int abi, pid;
	unsigned long long st, addr, nonce;
	int n;

	if (len == 0 || len > GT_SYS_ENTRY_MAX || memchr(text, '\0', len) ||
	    text[len - 1] != '\n' || memchr(text, '\n', len - 1))
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	n = sscanf(buf, "gtrace-sys %u %u %llu %llx %llx%c", &abi, &pid, &st, &addr, &nonce,
		   &tail);
	if (n != 6 || tail != '\n' || abi != GT_ABI_VERSION || pid == 0 || pid > INT32_MAX ||
	    addr == 0 || (addr & 7) || nonce == 0)
		return -EINVAL;
	e->pid = pid;
	e->starttime = st;
	e->addr = addr;
	e->nonce = nonce;
	return 0;
}

static ssize_t gt_sys_readv(uint32_t pid, void *dst, uint64_t addr, size_t len)
{
	struct iovec l = { .iov_base = dst, .iov_len = len };
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv((pid_t)pid, &l, 1, &r, 1, 0);

	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EFAULT;
}

static int gt_sys_writev(uint32_t pid, const void *src, uint64_t addr, size_t len)
{
	struct iovec l = { .iov_base = (void *)src, .iov_len = len };
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_writev((pid_t)pid, &l, 1, &r, 1, 0);

	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EFAULT;
}

/* GT_SITE_UNREG into @n state words at @addrs; a bad address is skipped. */
static int gt_sys_unreg(uint32_t pid, const uint64_t *addrs, size_t n)
{
	static const uint32_t unreg[GT_SYS_BATCH] = { [0 ... GT_SYS_BATCH - 1] = GT_SITE_UNREG };
	struct iovec r[GT_SYS_BATCH];
	struct iovec l = { .iov_base = (void *)unreg };
	size_t k = 0, i = 0;
	int done = 0;

	while (i < n) {
		k = 0;
		for (; i < n && k < GT_SYS_BATCH; i++) {
			if (!addrs[i] || (addrs[i] & 3))
				continue; /* not a state word: never followed */
			r[k].iov_base = (void *)(uintptr_t)addrs[i];
			r[k].iov_len = sizeof(uint32_t);
			k++;
		}
		for (size_t from = 0; from < k;) {
			ssize_t got;

			l.iov_len = (k - from) * sizeof(uint32_t);
			got = process_vm_writev((pid_t)pid, &l, 1, r + from, k - from, 0);
			if (got < 0 && errno != EFAULT)
				return done ? done : -errno;
			if (got < 0)
				got = 0;
			/* the kernel stops at the first bad address: skip it, go on */
			from += (size_t)got / sizeof(uint32_t);
			done += (int)((size_t)got / sizeof(uint32_t));
			if (from < k && (size_t)got < l.iov_len)
				from++;
		}
	}
	return done;
}

int gt_system_enable(const struct gt_sys_entry *e, bool join, const char *sock, uint32_t uid)
{
	struct {
		uint32_t want;
		uint32_t uid;
		char socket[GT_SYS_SOCKET_MAX];
	} f;
	struct gt_sys_ctl b;
	uint64_t seq, nsites, sites, *addrs = NULL;
	int ret, total = 0;

	_Static_assert(offsetof(struct gt_sys_ctl, uid) == offsetof(struct gt_sys_ctl, want) + 4,
		       "control fields are contiguous");
	_Static_assert(offsetof(struct gt_sys_ctl, socket) == offsetof(struct gt_sys_ctl, want) + 8,
		       "control fields are contiguous");
	if (!e->addr || (e->addr & 7) || e->addr > UINT64_MAX - sizeof(b))
		return -GT_ECORRUPT;
	ret = (int)gt_sys_readv(e->pid, &b, e->addr, sizeof(b));
	if (ret < 0)
		return ret == -EFAULT ? -GT_ECORRUPT : ret;
	if (b.magic != GT_SYS_MAGIC || b.abi_version != GT_ABI_VERSION ||
	    b.struct_size < sizeof(b) || b.struct_size > 4096 || b.pid != e->pid ||
	    b.nonce != e->nonce)
		return -GT_ECORRUPT;
	memset(&f, 0, sizeof(f));
	f.want = join ? GT_SYS_WANT_JOIN : GT_SYS_WANT_NONE;
	f.uid = uid;
	if (join && sock) {
		if (strlen(sock) >= sizeof(f.socket))
			return -ENAMETOOLONG;
		memcpy(f.socket, sock, strlen(sock));
	}
	/* sequence lock: odd, fields, even (docs/abi.md "Runtime enable") */
	seq = (b.seq + 1) | 1;
	ret = gt_sys_writev(e->pid, &seq, e->addr + offsetof(struct gt_sys_ctl, seq), 8);
	if (ret < 0)
		return ret;
	ret = gt_sys_writev(e->pid, &f, e->addr + offsetof(struct gt_sys_ctl, want), sizeof(f));
	seq++;
	if (ret == 0)
		ret = gt_sys_writev(e->pid, &seq, e->addr + offsetof(struct gt_sys_ctl, seq), 8);
	if (ret < 0)
		return ret;
	/*
	 * Only now the site list: a site registered after this read saw the
	 * new seq (its Dekker check) and evaluates itself.  nsites before
	 * sites: every entry below the count is in whatever array we read.
	 */
	ret = (int)gt_sys_readv(e->pid, &nsites, e->addr + offsetof(struct gt_sys_ctl, nsites), 8);
	if (ret == 0)
		ret = (int)gt_sys_readv(e->pid, &sites,
					e->addr + offsetof(struct gt_sys_ctl, sites), 8);
	if (ret < 0)
		return ret == -EFAULT ? -GT_ECORRUPT : ret;
	if (nsites > GT_SYS_SITES_MAX)
		return -E2BIG;
	if (nsites && (!sites || (sites & 7) || sites > UINT64_MAX - nsites * 8))
		return -GT_ECORRUPT;
	addrs = malloc(GT_SYS_BATCH * sizeof(*addrs));
	if (!addrs)
		return -ENOMEM;
	for (uint64_t i = 0; i < nsites; i += GT_SYS_BATCH) {
		size_t k = nsites - i < GT_SYS_BATCH ? (size_t)(nsites - i) : GT_SYS_BATCH;

		ret = (int)gt_sys_readv(e->pid, addrs, sites + i * 8, k * 8);
		if (ret < 0) {
			ret = ret == -EFAULT ? -GT_ECORRUPT : ret;
			break;
		}
		ret = gt_sys_unreg(e->pid, addrs, k);
		if (ret < 0)
			break;
		total += ret;
	}
	free(addrs);
	return ret < 0 ? ret : total;
}

static int gt_sys_advertise(struct gt_system *s, const char *name)
{
	char tmp[GT_SYS_DIR_MAX + 32], path[GT_SYS_DIR_MAX + 16], text[512];
	int fd, len, ret = 0;
	mode_t old;

	snprintf(tmp, sizeof(tmp), "%s/.session.%d.tmp", s->dir, (int)getpid());
	snprintf(path, sizeof(path), "%s/session", s->dir);
	len = snprintf(text, sizeof(text), "%s\n%s\n%u\n%d\n", s->sock, name,
		       (unsigned int)geteuid(), (int)getpid());
	if (len < 0 || (size_t)len >= sizeof(text))
		return -ENAMETOOLONG;
	old = umask(022);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	umask(old);
	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)len) != len)
		ret = -EIO;
	close(fd);
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
	return ret;
}

int gt_system_open(int lockfd, const char *sock, const char *name, struct gt_system **out)
{
	struct gt_system *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s) {
		close(lockfd);
		return -ENOMEM;
	}
	s->lockfd = lockfd;
	ret = gt_system_dir(s->dir, sizeof(s->dir));
	if (ret == 0 && strlen(sock) >= sizeof(s->sock))
		ret = -ENAMETOOLONG;
	if (ret < 0) {
		gt_system_close(s);
		return ret;
	}
	snprintf(s->sock, sizeof(s->sock), "%s", sock);
	ret = gt_sys_advertise(s, name);
	if (ret < 0) /* processes that start later are still found by the scan */
		gt_col_log("cannot advertise the system session in '%s': %s", s->dir,
			   gt_strerror(ret));
	s->advertised = ret == 0;
	*out = s;
	return 0;
}

static struct gt_sysproc *gt_sys_find(struct gt_system *s, const struct gt_sys_entry *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i].pid == e->pid && s->p[i].starttime == e->starttime &&
		    s->p[i].nonce == e->nonce)
			return &s->p[i];
	return NULL;
}

static struct gt_sysproc *gt_sys_add(struct gt_system *s, const struct gt_sys_entry *e, int status)
{
	struct gt_sysproc *p;

	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;

		p = realloc(s->p, ncap * sizeof(*p));
		if (!p)
			return NULL;
		s->p = p;
		s->cap = ncap;
	}
	p = &s->p[s->n++];
	p->pid = e->pid;
	p->starttime = e->starttime;
	p->nonce = e->nonce;
	p->addr = e->addr;
	p->status = status;
	p->seen = true;
	return p;
}

/* One registry entry: enable it, or say once why not. */
static int gt_sys_entry(struct gt_system *s, int dfd, const char *name, uint32_t npid)
{
	char text[GT_SYS_ENTRY_MAX + 2];
	struct gt_sys_entry e;
	struct gt_sysproc *p;
	struct stat st;
	uint64_t start;
	ssize_t n;
	int ret;

	memset(&st, 0, sizeof(st));
	n = gt_sys_read_file(dfd, name, text, sizeof(text), &st);
	if (n == -EACCES || (n >= 0 && st.st_uid != geteuid() && geteuid() != 0)) {
		/* another user's process: the kernel would refuse anyway */
		e = (struct gt_sys_entry){ .pid = npid, .starttime = 0, .nonce = st.st_uid + 1 };
		if (n == -EACCES && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			e.nonce = st.st_uid + 1ull;
		if ((p = gt_sys_find(s, &e))) {
			p->seen = true;
			return 0;
		}
		gt_sys_add(s, &e, GT_SYSP_SKIPPED);
		s->st.skipped_user++;
		gt_col_log("system session: process %u of uid %u not enabled: only its own user or "
			   "root may enable it",
			   npid, (unsigned int)(e.nonce - 1));
		return 0;
	}
	if (n < 0)
		return 0; /* gone meanwhile, or not a regular file */
	if (gt_system_parse_entry(text, (size_t)n, &e) < 0 || e.pid != npid) {
		e = (struct gt_sys_entry){ .pid = npid, .nonce = (uint64_t)st.st_ino ^ 1 };
		if ((p = gt_sys_find(s, &e))) {
			p->seen = true;
			return 0;
		}
		gt_sys_add(s, &e, GT_SYSP_BAD);
		s->st.bad++;
		gt_col_log("system session: registry entry '%s/%s' is malformed; ignored", s->dir,
			   name);
		return 0;
	}
	if ((p = gt_sys_find(s, &e))) {
		p->seen = true;
		return 0;
	}
	start = gt_sys_starttime(e.pid);
	if (start == 0 || start != e.starttime) {
		/* the process is gone (or its pid reused): remove what it left, if we may */
		if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
			s->st.stale++;
		return 0;
	}
	ret = gt_system_enable(&e, true, s->sock, (uint32_t)geteuid());
	if (ret >= 0) {
		gt_sys_add(s, &e, GT_SYSP_ENABLED);
		s->st.enabled++;
		return 1;
	}
	if (ret == -ESRCH)
		return 0; /* exited meanwhile */
	if (ret == -EPERM || ret == -EACCES) {
		gt_sys_add(s, &e, GT_SYSP_SKIPPED);
		s->st.skipped_perm++;
		gt_col_log("system session: process %u not enabled: %s (the kernel lets only its "
			   "own user or root write into it)",
			   e.pid, gt_strerror(ret));
		return 0;
	}
	gt_sys_add(s, &e, GT_SYSP_BAD);
	s->st.bad++;
	gt_col_log("system session: process %u not enabled: its control block at 0x%" PRIx64
		   " %s",
		   e.pid, e.addr,
		   ret == -GT_ECORRUPT ? "is unreadable or fails validation (magic, version, pid, "
					 "nonce or site list)"
				       : gt_strerror(ret));
	return 0;
}

int gt_system_scan(struct gt_system *s)
{
	struct dirent *de;
	int dfd, got = 0;
	DIR *d;

	dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	for (size_t i = 0; i < s->n; i++)
		s->p[i].seen = false;
	while ((de = readdir(d))) {
		char *end;
		unsigned long pid;

		if (de->d_name[0] != 'p' || de->d_name[1] < '1' || de->d_name[1] > '9')
			continue;
		errno = 0;
		pid = strtoul(de->d_name + 1, &end, 10);
		if (*end || errno || pid > INT32_MAX)
			continue;
		got += gt_sys_entry(s, dfd, de->d_name, (uint32_t)pid);
	}
	closedir(d);
	/* forget entries that left the registry (their processes exited) */
	for (size_t i = 0; i < s->n;) {
		if (!s->p[i].seen)
			s->p[i] = s->p[--s->n];
		else
			i++;
	}
	return got;
}

void gt_system_stats(const struct gt_system *s, struct gt_system_stats *st)
{
	*st = s->st;
}

const char *gt_system_registry(const struct gt_system *s)
{
	return s->dir;
}

void gt_system_close(struct gt_system *s)
{
	char path[GT_SYS_DIR_MAX + 16], text[512];
	struct stat st;
	int dfd;

	if (!s)
		return;
	/* everyone we enabled leaves; a process that joined through the advertisement too */
	gt_system_scan(s);
	for (size_t i = 0; i < s->n; i++) {
		struct gt_sys_entry e = { s->p[i].pid, s->p[i].starttime, s->p[i].addr,
					  s->p[i].nonce };

		if (s->p[i].status == GT_SYSP_ENABLED)
			gt_system_enable(&e, false, NULL, (uint32_t)geteuid());
	}
	dfd = s->dir[0] ? open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd >= 0 && s->advertised) {
		/* remove the advertisement only while it is still ours */
		if (gt_sys_read_file(dfd, "session", text, sizeof(text), &st) > 0 &&
		    !strncmp(text, s->sock, strlen(s->sock)) && text[strlen(s->sock)] == '\n') {
			snprintf(path, sizeof(path), "%s/session", s->dir);
			unlink(path);
		}
	}
	if (dfd >= 0)
		close(dfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s->p);
	free(s);
}
