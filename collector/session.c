/* SPDX-License-Identifier: MIT */
/*
 * session.c - the session socket server and the event loop's descriptors.
 *
 * The session is a SOCK_SEQPACKET unix socket (mode 0600) in a private
 * directory (mode 0700, owned by us, checked with lstat so a planted
 * symlink or someone else's directory is refused).  Its path goes into the
 * children's GTRACE_SESSION.  A producer connects, sends HELLO, gets WELCOME
 * (clock, buffer sizes, provider rules from the profile), creates its
 * segment and sends ATTACH with the memfd.  Identity comes from
 * SO_PEERCRED only; a peer of another uid (other than root) is refused,
 * logged and counted as one corrupt record of its pid.  A
 * connection's EOF means its process image is gone: its segment gets a final
 * drain, the process table decides between exit and exec, and the mapping
 * is released.  One epoll set serves the listener, connections, output
 * pipes and the caller's wake fd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <gtrace/error.h>

#include "gt_col_int.h"

#define GT_CONNS_MAX 4096u
#define GT_EP_BATCH 64

enum gt_conn_state {
	GT_CONN_HELLO = 0,  /* waiting for HELLO */
	GT_CONN_ATTACH = 1, /* WELCOME sent, waiting for ATTACH */
	GT_CONN_LIVE = 2,   /* segment attached (or refused); only EOF expected */
};

struct gt_conn {
	int kind; /* GT_EP_CONN; must stay first */
	int fd;
	uint32_t pid;
	enum gt_conn_state state;
	bool helloed;
	struct gt_segment *seg;
	struct gt_conn *next;
};

static int gt_session_dir(struct gt_collector *c, const char *dir)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char buf[256];
	struct stat st;

	if (dir)
		snprintf(buf, sizeof(buf), "%s", dir);
	else if (xdg && xdg[0] == '/' && strlen(xdg) < 64)
		snprintf(buf, sizeof(buf), "%s/gtrace", xdg);
	else
		snprintf(buf, sizeof(buf), "/tmp/gtrace-%u", (unsigned int)geteuid());
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(buf, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		gt_col_log("session directory '%s' is not a private directory of this user", buf);
		return -EPERM;
	}
	c->dir = strdup(buf);
	return c->dir ? 0 : -ENOMEM;
}

int gt_session_open(struct gt_collector *c, const char *dir)
{
	static unsigned int serial;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	mode_t old;
	int ret, n;

	ret = gt_session_dir(c, dir);
	if (ret < 0)
		return ret;
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s%d.%u", c->dir, (int)getpid(),
		     serial++);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	c->sock_path = strdup(sa.sun_path);
	if (!c->sock_path)
		return -ENOMEM;
	c->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		return -errno;
	unlink(sa.sun_path);
	old = umask(0177); /* the socket is created 0600 (bind applies the umask to 0777) */
	ret = bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(c->lfd, 128) < 0) {
		ret = -errno;
		free(c->sock_path);
		c->sock_path = NULL;
		return ret;
	}
	c->ep_listen_tag = GT_EP_LISTEN;
	ev.data.ptr = &c->ep_listen_tag;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &ev) < 0)
		return -errno;
	return 0;
}

static void gt_conn_close(struct gt_collector *c, struct gt_conn *cn, bool drain)
{
	struct gt_conn **pp;

	for (pp = &c->conns; *pp; pp = &(*pp)->next) {
		if (*pp == cn) {
			*pp = cn->next;
			break;
		}
	}
	c->nconns--;
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, cn->fd, NULL);
	close(cn->fd);
	if (cn->seg && drain)
		gt_segment_drain(c, cn->seg, true);
	if (cn->helloed)
		gt_collector_proc_gone(c, cn->pid, cn->seg);
	gt_collector_detach(c, cn->seg);
	free(cn);
}

void gt_session_close(struct gt_collector *c)
{
	while (c->conns)
		gt_conn_close(c, c->conns, false);
	for (int i = 0; i < 2; i++) {
		gt_output_free(c, c->outs[i], false);
		c->outs[i] = NULL;
	}
	if (c->lfd >= 0)
		close(c->lfd);
	c->lfd = -1;
	if (c->sock_path)
		unlink(c->sock_path);
	/* the directory stays: removing it could race with another session's bind */
	free(c->sock_path);
	free(c->dir);
	c->sock_path = NULL;
	c->dir = NULL;
	if (c->epfd >= 0)
		close(c->epfd);
	c->epfd = -1;
}

int gt_session_welcome(const struct gt_collector *c, void *buf, size_t cap)
{
	struct gt_msg_welcome w;
	size_t size = sizeof(w) + (size_t)c->profile.nrules * sizeof(struct gt_msg_rule);

	if (cap < size)
		return -ENOSPC;
	memset(&w, 0, sizeof(w));
	w.hdr.magic = GT_MSG_MAGIC;
	w.hdr.type = GT_MSG_WELCOME;
	w.hdr.size = (uint32_t)size;
	w.hdr.abi_version = GT_ABI_VERSION;
	w.clock = c->clock;
	w.ring_size = c->profile.ring_size;
	w.nslots = c->profile.nslots;
	w.schema_size = c->profile.schema_size;
	w.nrules = c->profile.nrules;
	memcpy(buf, &w, sizeof(w));
	for (uint32_t i = 0; i < c->profile.nrules; i++) {
		struct gt_msg_rule r;

		memset(&r, 0, sizeof(r));
		r.level = c->profile.rules[i].level;
		r.keywords = c->profile.rules[i].keywords;
		snprintf(r.pattern, sizeof(r.pattern), "%s", c->profile.rules[i].pattern);
		memcpy((char *)buf + sizeof(w) + i * sizeof(r), &r, sizeof(r));
	}
	return (int)size;
}

static void gt_session_accept(struct gt_collector *c)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct gt_conn *cn;
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    c->nconns >= GT_CONNS_MAX) {
			close(fd);
			continue;
		}
		if (cred.uid != geteuid() && cred.uid != 0) {
			/*
			 * Another user reached the socket (its directory is 0700,
			 * so only through a misconfiguration): never serve it.
			 * Counted against its pid, so the file says it happened.
			 */
			gt_col_log("process %u of uid %u refused: the session belongs to uid %u; "
				   "run the process as that user or start a session of your own",
				   (unsigned int)cred.pid, (unsigned int)cred.uid,
				   (unsigned int)geteuid());
			gt_collector_corrupt(c, (uint32_t)cred.pid, 1);
			close(fd);
			continue;
		}
		cn = calloc(1, sizeof(*cn));
		if (!cn) {
			close(fd);
			continue;
		}
		cn->kind = GT_EP_CONN;
		cn->fd = fd;
		cn->pid = (uint32_t)cred.pid;
		ev.data.ptr = cn;
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(cn);
			continue;
		}
		cn->next = c->conns;
		c->conns = cn;
		c->nconns++;
	}
}

static void gt_conn_refuse(struct gt_collector *c, struct gt_conn *cn, const char *why, int err)
{
	gt_col_log("process %u: session message refused: %s%s%s", cn->pid, why, err ? ": " : "",
		   err ? gt_strerror(err) : "");
	gt_collector_corrupt(c, cn->pid, 1);
	gt_conn_close(c, cn, true);
}

/* Serve one readable connection; it may be closed (and freed) here. */
static void gt_conn_read(struct gt_collector *c, struct gt_conn *cn)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct gt_msg m;
	char data[64];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	int memfd = -1, ret;
	ssize_t n;

	n = recvmsg(cn->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* collect every passed fd so none leaks; keep only the first */
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t off = 0; CMSG_LEN(off + sizeof(int)) <= cm->cmsg_len;
		     off += sizeof(int)) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + off, sizeof(fd));
			if (memfd < 0)
				memfd = fd;
			else
				close(fd);
		}
	}
	if (n <= 0) {
		if (memfd >= 0)
			close(memfd);
		gt_conn_close(c, cn, true);
		return;
	}
	if ((size_t)n < sizeof(m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (memfd >= 0)
			close(memfd);
		gt_conn_refuse(c, cn, "short or truncated message", 0);
		return;
	}
	memcpy(&m, data, sizeof(m));
	if (m.magic != GT_MSG_MAGIC || m.size != (uint32_t)n || m.abi_version != GT_ABI_VERSION) {
		if (memfd >= 0)
			close(memfd);
		gt_conn_refuse(c, cn, "bad header or ABI version", 0);
		return;
	}
	if (cn->state == GT_CONN_HELLO && m.type == GT_MSG_HELLO && memfd < 0) {
		char wbuf[sizeof(struct gt_msg_welcome) +
			  GT_RULES_MAX * sizeof(struct gt_msg_rule)];
		int len = gt_session_welcome(c, wbuf, sizeof(wbuf));

		cn->helloed = true;
		gt_collector_proc_hello(c, cn->pid);
		if (len < 0 ||
		    send(cn->fd, wbuf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) != len) {
			gt_conn_close(c, cn, false);
			return;
		}
		cn->state = GT_CONN_ATTACH;
		return;
	}
	if (cn->state == GT_CONN_ATTACH && m.type == GT_MSG_ATTACH && memfd >= 0) {
		cn->state = GT_CONN_LIVE;
		ret = gt_collector_attach_fd(c, memfd, cn->pid, &cn->seg);
		close(memfd);
		if (ret < 0) {
			cn->seg = NULL;
			gt_col_log("process %u: segment refused: %s", cn->pid, gt_strerror(ret));
			gt_collector_corrupt(c, cn->pid, 1);
		}
		return;
	}
	if (memfd >= 0)
		close(memfd);
	gt_conn_refuse(c, cn, "unexpected message", 0);
}

int gt_collector_watch(struct gt_collector *c, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	c->ep_wake_tag = GT_EP_WAKE;
	c->wake_fd = fd;
	ev.data.ptr = &c->ep_wake_tag;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

int gt_session_poll(struct gt_collector *c, int64_t timeout_ns, int *served)
{
	struct epoll_event evs[GT_EP_BATCH];
	struct timespec ts = { .tv_sec = timeout_ns / 1000000000,
			       .tv_nsec = timeout_ns % 1000000000 };
	int n, woke = 0;

	if (c->epfd < 0)
		return 0;
	/* epoll_pwait2: sub-millisecond timeouts for the drain period */
	n = epoll_pwait2(c->epfd, evs, GT_EP_BATCH, timeout_ns < 0 ? NULL : &ts, NULL);
	if (n < 0 && errno == ENOSYS)
		n = epoll_wait(c->epfd, evs, GT_EP_BATCH,
			       timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000));
	if (served)
		*served = n > 0 ? n : 0;
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	/*
	 * Serve outputs and listener first; a connection may be freed while
	 * serving it, and no other event of this batch points at it.
	 */
	for (int i = 0; i < n; i++) {
		int kind = *(int *)evs[i].data.ptr;

		if (kind == GT_EP_WAKE) {
			woke = 1;
		} else if (kind == GT_EP_LISTEN) {
			gt_session_accept(c);
		} else if (kind == GT_EP_CONN) {
			gt_conn_read(c, evs[i].data.ptr);
		} else if (kind == GT_EP_OUTPUT) {
			struct gt_output *o = evs[i].data.ptr;

			if (gt_output_read(c, o)) {
				for (int k = 0; k < 2; k++)
					if (c->outs[k] == o)
						c->outs[k] = NULL;
				gt_output_free(c, o, true);
			}
		}
	}
	return woke;
}
