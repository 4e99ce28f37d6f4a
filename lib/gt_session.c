/* SPDX-License-Identifier: MIT */
/*
 * gt_session.c - joining a session, and the process events around it:
 * library start, fork, exit, diagnostics.
 *
 * A process image joins the session GTRACE_SESSION names at most once
 * (docs/abi.md "Joining a session"); without the variable it may join and
 * leave system sessions any number of times (gt_system.c), re-attaching
 * the same segment each time.  Joining: connect, say HELLO, validate the
 * WELCOME (it comes from another process: every field is checked), build
 * and seal a memfd segment of the size the WELCOME dictates, and hand it
 * over with ATTACH.  Any failure leaves the process untraced and silent
 * (GT_DEBUG=1 says why): tracing must never change what the program does.
 * A fork child forgets its parent's socket and slot and joins again on its
 * next event with a fresh segment whose schema region is a copy of the
 * parent's, so ids stay valid; exec re-joins from the new image's
 * constructor.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtrace/version.h>

#include "gt_lib.h"

#define GT_JOIN_TIMEOUT_MS 2000
#define GT_RING_SIZE_MAX (1u << 30)
#define GT_NSLOTS_MAX 4096u
#define GT_SCHEMA_SIZE_MAX (64u << 20)
#define GT_SEGMENT_MAX (64ull << 30)

struct gt_proc gt_proc = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.sock = -1,
	.next_id = 1,
	.memfd = -1,
};

static pthread_once_t gt_init_once = PTHREAD_ONCE_INIT;
static pthread_key_t gt_thread_key;
static bool gt_key_ok;
static int gt_debug_on;
static void (*gt_log_fn)(const char *msg, void *arg);
static void *gt_log_arg;

/* ---- diagnostics: silent unless asked, never stdout, errno preserved ---- */

GT_API void gt_set_log_handler(void (*fn)(const char *msg, void *arg), void *arg)
{
	__atomic_store_n(&gt_log_arg, arg, __ATOMIC_RELAXED);
	__atomic_store_n(&gt_log_fn, fn, __ATOMIC_RELEASE);
}

GT_API const char *gt_version(void)
{
	return GT_VERSION_STRING;
}

void gt_dbg(const char *fmt, ...)
{
	void (*fn)(const char *, void *) = __atomic_load_n(&gt_log_fn, __ATOMIC_ACQUIRE);
	int saved = errno;
	char buf[512];
	va_list ap;
	int n;

	if (!fn && !gt_debug_on)
		return;
	memcpy(buf, "gtrace: ", 8);
	va_start(ap, fmt);
	n = vsnprintf(buf + 8, sizeof(buf) - 9, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	n += 8;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	if (fn) {
		buf[n] = '\0';
		fn(buf + 8, __atomic_load_n(&gt_log_arg, __ATOMIC_RELAXED));
	} else {
		buf[n++] = '\n';
		/* write(2) is async-signal-safe; a short write is not worth a retry */
		if (write(STDERR_FILENO, buf, (size_t)n) < 0)
			(void)0;
	}
	errno = saved;
}

/* ---- the join handshake ---- */

static int gt_wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ret;

	do
		ret = poll(&p, 1, GT_JOIN_TIMEOUT_MS);
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIMEDOUT;
	return 0;
}

static int gt_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(int);
	int fd, err = 0, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN && errno != EINTR) {
			ret = -errno;
			goto fail;
		}
		ret = gt_wait_fd(fd, POLLOUT);
		if (ret < 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			ret = err ? -err : -errno;
			goto fail;
		}
	}
	return fd;
fail:
	close(fd);
	return ret;
}

static int gt_send_msg(int fd, uint16_t type, int pass_fd)
{
	struct gt_msg m = { .magic = GT_MSG_MAGIC, .type = type, .size = sizeof(m),
			    .abi_version = GT_ABI_VERSION };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int ret;

	if (pass_fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	for (;;) {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n == (ssize_t)sizeof(m))
			return 0;
		if (n >= 0)
			return -EIO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		ret = gt_wait_fd(fd, POLLOUT);
		if (ret < 0)
			return ret;
	}
}

/* A checked WELCOME, not yet applied to gt_proc. */
struct gt_welcome_info {
	uint32_t nrules;
	uint32_t ring_size;
	uint32_t nslots;
	uint32_t schema_size;
	bool clock_tsc;
	size_t seg_size;
	struct gt_msg_rule rules[GT_RULES_MAX];
};

/* Receive and check a WELCOME into @wi (every field comes from another process). */
static int gt_recv_welcome(int fd, struct gt_welcome_info *wi)
{
	static unsigned char buf[sizeof(struct gt_msg_welcome) +
				 GT_RULES_MAX * sizeof(struct gt_msg_rule)];
	struct gt_msg_welcome w;
	uint64_t seg;
	ssize_t n;
	int ret;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		ret = gt_wait_fd(fd, POLLIN);
		if (ret < 0)
			return ret;
	}
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n < sizeof(w) || (size_t)n > sizeof(buf))
		return -EPROTO;
	memcpy(&w, buf, sizeof(w));
	if (w.hdr.magic != GT_MSG_MAGIC || w.hdr.type != GT_MSG_WELCOME || w.hdr.size != (size_t)n)
		return -EPROTO;
	if (w.hdr.abi_version != GT_ABI_VERSION)
		return -EPROTONOSUPPORT;
	if (w.nrules > GT_RULES_MAX ||
	    (size_t)n != sizeof(w) + (size_t)w.nrules * sizeof(struct gt_msg_rule))
		return -EPROTO;
	if (w.clock != GT_CLOCK_TSC && w.clock != GT_CLOCK_MONO)
		return -EPROTO;
	if (w.ring_size < 4096 || w.ring_size > GT_RING_SIZE_MAX ||
	    (w.ring_size & (w.ring_size - 1)))
		return -EPROTO;
	if (w.nslots < 1 || w.nslots > GT_NSLOTS_MAX)
		return -EPROTO;
	if (w.schema_size < 4096 || w.schema_size > GT_SCHEMA_SIZE_MAX || (w.schema_size & 4095))
		return -EPROTO;
	seg = GT_SHM_HDR_SIZE + (uint64_t)w.schema_size +
	      (uint64_t)w.nslots * (GT_RING_CTL_SIZE + (uint64_t)w.ring_size);
	if (seg > GT_SEGMENT_MAX)
		return -EPROTO;
	for (uint32_t i = 0; i < w.nrules; i++) {
		struct gt_msg_rule r;

		memcpy(&r, buf + sizeof(w) + i * sizeof(r), sizeof(r));
		if (!memchr(r.pattern, '\0', sizeof(r.pattern)))
			return -EPROTO;
		wi->rules[i] = r;
	}
	wi->nrules = w.nrules;
	wi->ring_size = w.ring_size;
	wi->nslots = w.nslots;
	wi->schema_size = w.schema_size;
#if defined(__x86_64__) || defined(__i386__)
	wi->clock_tsc = w.clock == GT_CLOCK_TSC;
#else
	wi->clock_tsc = false;
#endif
	wi->seg_size = (size_t)seg;
	return 0;
}

static void gt_welcome_rules(const struct gt_welcome_info *wi)
{
	memcpy(gt_proc.rules, wi->rules, wi->nrules * sizeof(wi->rules[0]));
	gt_proc.nrules = wi->nrules;
}

/* Create, fill and seal the segment; returns the memfd, the mapping in gt_proc. */
static int gt_segment_create(void)
{
	struct gt_shm_header *h;
	void *map;
	int fd, ret;

	fd = memfd_create("gtrace", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)gt_proc.seg_size) < 0) {
		ret = -errno;
		goto fail;
	}
	map = mmap(NULL, gt_proc.seg_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		goto fail;
	}
	h = map;
	h->magic = GT_SHM_MAGIC;
	h->abi_version = GT_ABI_VERSION;
	h->struct_size = sizeof(*h);
	h->segment_size = gt_proc.seg_size;
	h->pid = (uint32_t)getpid();
	h->clock = gt_proc.clock_tsc ? GT_CLOCK_TSC : GT_CLOCK_MONO;
	h->schema_off = GT_SHM_HDR_SIZE;
	h->schema_size = gt_proc.schema_size;
	h->slots_off = GT_SHM_HDR_SIZE + gt_proc.schema_size;
	h->nslots = gt_proc.nslots;
	h->slot_size = GT_RING_CTL_SIZE + gt_proc.ring_size;
	h->ring_size = gt_proc.ring_size;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		ret = -errno;
		munmap(map, gt_proc.seg_size);
		goto fail;
	}
	gt_proc.seg = map;
	gt_proc.hdr = h;
	return fd;
fail:
	close(fd);
	return ret;
}

/* Give a fork child's new segment the parent's schemas, so ids stay valid. */
static int gt_schema_inherit(void)
{
	if (!gt_proc.old_seg)
		return 0;
	if (gt_proc.old_schema_used > gt_proc.schema_size)
		return -ENOSPC;
	memcpy(gt_proc.seg + GT_SHM_HDR_SIZE, gt_proc.old_seg + GT_SHM_HDR_SIZE,
	       gt_proc.old_schema_used);
	gt_proc.schema_used = gt_proc.old_schema_used;
	__atomic_store_n(&gt_proc.hdr->schema_head, gt_proc.schema_used, __ATOMIC_RELEASE);
	return 0;
}

/*
 * A kept segment (system session left, docs/abi.md "Runtime enable") is
 * attached again instead of a new one: other threads may still hold ring
 * cursors into it.  Whatever was written while no session was there is
 * skipped (tail = head; no collector is attached to it meanwhile).
 */
static int gt_segment_reuse(const struct gt_welcome_info *wi)
{
	struct gt_shm_header *h = gt_proc.hdr;
	struct stat st;
	int seals = fcntl(gt_proc.memfd, F_GET_SEALS);

	/* the program may have closed our descriptor (closefrom) and reused the number */
	if (seals < 0 || !(seals & F_SEAL_SHRINK) || fstat(gt_proc.memfd, &st) < 0 ||
	    (uint64_t)st.st_size != gt_proc.seg_size)
		return -EBADF;
	if ((h->clock == GT_CLOCK_TSC) != wi->clock_tsc)
		return -EPROTO;
	for (uint32_t i = 0; i < gt_proc.nslots; i++) {
		struct gt_ring_ctl *ctl = (struct gt_ring_ctl *)(gt_proc.seg + GT_SHM_HDR_SIZE +
			gt_proc.schema_size + (size_t)i * (GT_RING_CTL_SIZE + gt_proc.ring_size));

		__atomic_store_n(&ctl->tail, __atomic_load_n(&ctl->head, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
	}
	return 0;
}

/*
 * Connect to the session socket @path and attach a segment: a new one, or
 * the kept one of an earlier system session.  Called with the lock held
 * and gt_proc.join FAILED; leaves it OK on success.  @rejoin: fork child,
 * copy the parent's schemas.  @keep: keep the memfd of a new segment open
 * (gt_proc.memfd) so that a later system session can attach it again.
 * Return: 0 or -errno (logged with GT_DEBUG).
 */
int gt_proc_connect_locked(const char *path, bool rejoin, bool keep)
{
	static struct gt_welcome_info wi;
	bool reuse = gt_proc.seg && gt_proc.memfd >= 0 && !rejoin;
	int fd = -1, memfd = -1, ret;

	ret = fd = gt_connect(path);
	if (ret < 0) {
		gt_dbg("cannot connect to '%s': %s", path, strerror(-ret));
		goto out;
	}
	ret = gt_send_msg(fd, GT_MSG_HELLO, -1);
	if (ret < 0) {
		gt_dbg("cannot send HELLO to '%s': %s", path, strerror(-ret));
		goto out;
	}
	ret = gt_recv_welcome(fd, &wi);
	if (ret < 0) {
		gt_dbg("bad or missing WELCOME from '%s': %s", path, strerror(-ret));
		goto out;
	}
	if (reuse) {
		ret = gt_segment_reuse(&wi);
		if (ret < 0) {
			gt_dbg("cannot attach the kept segment to '%s': %s", path,
			       ret == -EPROTO ? "the session uses another clock"
					      : "its descriptor was closed");
			goto out;
		}
		gt_welcome_rules(&wi);
		memfd = gt_proc.memfd;
	} else {
		gt_welcome_rules(&wi);
		gt_proc.ring_size = wi.ring_size;
		gt_proc.nslots = wi.nslots;
		gt_proc.schema_size = wi.schema_size;
		gt_proc.clock_tsc = wi.clock_tsc;
		gt_proc.seg_size = wi.seg_size;
		ret = memfd = gt_segment_create();
		if (ret < 0) {
			gt_dbg("cannot create a %zu-byte segment: %s", gt_proc.seg_size,
			       strerror(-ret));
			goto out;
		}
		if (rejoin) {
			ret = gt_schema_inherit();
			if (ret < 0) {
				gt_dbg("fork child: parent's schemas do not fit the new segment");
				goto out;
			}
		}
	}
	ret = gt_send_msg(fd, GT_MSG_ATTACH, memfd);
	if (ret < 0) {
		gt_dbg("cannot send ATTACH to '%s': %s", path, strerror(-ret));
		goto out;
	}
	gt_proc.sock = fd;
	fd = -1;
	if (keep && !reuse) {
		gt_proc.memfd = memfd;
		memfd = -1;
	}
	/* Pairs with the acquire load in gt_proc_segment(): the mapping is set up. */
	__atomic_store_n(&gt_proc.join, GT_JOIN_OK, __ATOMIC_RELEASE);
	gt_dbg("joined session '%s' (pid %d, %u slots of %u bytes, %s clock%s)", path,
	       (int)getpid(), gt_proc.nslots, gt_proc.ring_size,
	       gt_proc.clock_tsc ? "tsc" : "monotonic", reuse ? ", kept segment" : "");
	ret = 0;
out:
	if (memfd >= 0 && memfd != gt_proc.memfd)
		close(memfd);
	if (fd >= 0)
		close(fd);
	if (gt_proc.join != GT_JOIN_OK && gt_proc.seg && !reuse) {
		munmap(gt_proc.seg, gt_proc.seg_size);
		gt_proc.seg = NULL;
		gt_proc.hdr = NULL;
	}
	return ret;
}

/*
 * Join the session named by GTRACE_SESSION or, without one, stand by for a
 * system session (gt_system.c); fail silently.  Called with the lock held
 * when gt_proc.join is NONE or REJOIN; leaves it OK or FAILED.
 */
void gt_proc_join_locked(void)
{
	const char *path = getenv("GTRACE_SESSION");
	bool rejoin = gt_proc.join == GT_JOIN_REJOIN;

	__atomic_store_n(&gt_proc.join, GT_JOIN_FAILED, __ATOMIC_RELAXED);
	if (!path || !*path) {
		gt_dbg("GTRACE_SESSION not set: untraced until a system session enables us");
		gt_sys_start_locked(rejoin);
	} else {
		gt_proc_connect_locked(path, rejoin, false);
	}
	if (gt_proc.old_seg) {
		munmap(gt_proc.old_seg, gt_proc.old_seg_size);
		gt_proc.old_seg = NULL;
	}
	if (rejoin)
		gt_sites_eval_locked();
}

/*
 * Leave a system session (docs/abi.md "Runtime enable"): the collector has
 * drained the segment already.  The segment stays mapped, and its memfd
 * open, for a later session: threads may still hold cursors into it.
 */
void gt_proc_leave_locked(void)
{
	if (gt_proc.sock >= 0) {
		close(gt_proc.sock);
		gt_proc.sock = -1;
	}
	__atomic_store_n(&gt_proc.join, GT_JOIN_FAILED, __ATOMIC_RELEASE);
}

/* The segment to write into, joining first if this process has not yet. */
unsigned char *gt_proc_segment(void)
{
	int join = __atomic_load_n(&gt_proc.join, __ATOMIC_ACQUIRE);

	if (join == GT_JOIN_OK)
		return gt_proc.seg;
	if (join == GT_JOIN_FAILED)
		return NULL;
	gt_lib_init();
	pthread_mutex_lock(&gt_proc.lock);
	if (gt_proc.join == GT_JOIN_NONE || gt_proc.join == GT_JOIN_REJOIN)
		gt_proc_join_locked();
	pthread_mutex_unlock(&gt_proc.lock);
	return gt_proc.join == GT_JOIN_OK ? gt_proc.seg : NULL;
}

/* Arrange for gt_thread_exit() to run when this thread ends. */
void gt_thread_mark(void)
{
	if (gt_key_ok)
		pthread_setspecific(gt_thread_key, &gt_tls);
}

/* ---- fork and exit ---- */

static void gt_atfork_prepare(void)
{
	pthread_mutex_lock(&gt_proc.lock);
}

static void gt_atfork_parent(void)
{
	pthread_mutex_unlock(&gt_proc.lock);
}

static void gt_atfork_child(void)
{
	pthread_mutex_init(&gt_proc.lock, NULL);
	gt_thread_forget();
	gt_sys_atfork_child();
	if (gt_proc.sock >= 0) {
		close(gt_proc.sock);
		gt_proc.sock = -1;
	}
	if (gt_proc.memfd >= 0) { /* the parent's segment: never ours to attach */
		close(gt_proc.memfd);
		gt_proc.memfd = -1;
	}
	if (gt_proc.seg) { /* joined, or a system session's kept segment */
		/* keep the parent's mapping until the re-join has copied its schemas */
		gt_proc.old_seg = gt_proc.seg;
		gt_proc.old_seg_size = gt_proc.seg_size;
		gt_proc.old_schema_used = gt_proc.schema_used;
		gt_proc.seg = NULL;
		gt_proc.hdr = NULL;
		gt_proc.join = GT_JOIN_REJOIN;
	}
}

static void gt_on_exit(int status, void *arg)
{
	struct gt_shm_header *h = gt_proc.hdr;

	(void)arg;
	gt_sys_exit();
	if (__atomic_load_n(&gt_proc.join, __ATOMIC_ACQUIRE) != GT_JOIN_OK || !h)
		return;
	h->exit_status = status;
	/* Pairs with the collector's acquire load of exit_flags: status first. */
	__atomic_fetch_or(&h->exit_flags, GT_EXIT_NORMAL, __ATOMIC_RELEASE);
}

static void gt_lib_init_once(void)
{
	const char *dbg = getenv("GT_DEBUG");

	gt_debug_on = dbg && *dbg && strcmp(dbg, "0") != 0;
	gt_key_ok = pthread_key_create(&gt_thread_key, gt_thread_exit) == 0;
	pthread_atfork(gt_atfork_prepare, gt_atfork_parent, gt_atfork_child);
	on_exit(gt_on_exit, NULL);
}

void gt_lib_init(void)
{
	pthread_once(&gt_init_once, gt_lib_init_once);
}

/* Join in the constructor so the collector sees the process even if it never emits. */
__attribute__((constructor)) static void gt_lib_ctor(void)
{
	gt_lib_init();
	pthread_mutex_lock(&gt_proc.lock);
	if (gt_proc.join == GT_JOIN_NONE)
		gt_proc_join_locked();
	pthread_mutex_unlock(&gt_proc.lock);
}
