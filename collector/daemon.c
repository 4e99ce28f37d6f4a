/* SPDX-License-Identifier: MIT */
/*
 * daemon.c - the background collector of a long-lived session.
 *
 * `gtrace start` takes the session's lock, then double-forks: the
 * grandchild (setsid, cwd /, stdin /dev/null, stdout/stderr to
 * collector.log) inherits the locked descriptor and becomes the collector.
 * It creates the first file, the producer socket and the control socket,
 * writes pid and status.json, and only then reports "ready" on a pipe, so
 * `gtrace start` returns once processes can join.  The lock is held until
 * the process ends; a free lock is how clients recognise a dead collector.
 *
 * The loop is the collector's own (gt_collector_poll); a private epoll set
 * holding the control socket, its connections and a signalfd is the
 * collector's watched fd.  Requests (docs/sessions.md):
 *
 *   status  counters of the current file and the session
 *   mark    a gtrace.session/mark event in the current file
 *   rotate  open DIR/<op>_<ts>.gtrace, switch the sink between two drain
 *           rounds (gt_collector_set_sink: nothing lost or doubled, every
 *           known schema declared again), close the old file complete with
 *           its footer, then answer
 *   stop    final drain, close the file, remove the state, answer, exit
 *
 * SIGTERM, SIGINT and SIGHUP stop the session like `stop`.  The open chunk
 * is sealed about once a second while events flow, so a collector that is
 * killed loses at most the last second of events; the files it completed
 * stay readable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtrace/error.h>
#include <gtrace/version.h>

#include "gt_col_int.h"
#include "gt_daemon.h"

#define GT_D_CONNS_MAX 16
#define GT_D_READY_MS 10000 /* how long `gtrace start` waits for the collector */
#define GT_D_CLASH_MAX 10000u
#define GT_D_IDLE_NS 5000000000ull /* control connections without a request */

/* A file the session wrote (closed) or is writing (the last one). */
struct gt_dfile {
	char *path;
	uint64_t events, lost;
};

/* A control connection waiting for its request. */
struct gt_dconn {
	int kind; /* GT_DK_CONN; must stay first */
	int fd;
	uint32_t pid;
	uint64_t since_ns; /* accepted at (CLOCK_MONOTONIC); idle ones are dropped */
};

enum { GT_DK_LISTEN = 1, GT_DK_SIGNAL = 2, GT_DK_CONN = 3, GT_DK_CLOSED = 4 };

/* An old file being closed by a helper thread after a rotation. */
struct gt_dclose {
	struct gt_dclose *next; /* daemon thread only */
	struct gt_writer *w;    /* the close thread's from the switch until it reports */
	size_t file;            /* index of the old file in gt_daemon.files */
	int fd;                 /* control connection waiting for the answer, or -1 */
	int notify;             /* the close thread writes this job's address here when done */
	uint32_t clock;
	int ret;
	uint64_t events, lost; /* events from the writer; lost as the drain saw them */
	uint64_t t0, topen, tswitch, tdone; /* CLOCK_MONOTONIC ns */
};

/* Owned by the daemon's only loop thread (the collector's writer thread never sees it). */
struct gt_daemon {
	const struct gt_daemon_opts *o;
	char state[PATH_MAX];
	char op[GT_OP_NAME_MAX + 1];
	char cwd[PATH_MAX];
	struct gt_profile profile;
	uint32_t clock;
	struct gt_collector *c;
	struct gt_writer *w;
	struct gt_dfile *files; /* files[nfiles - 1] is the current one */
	size_t nfiles;
	uint64_t ev_base, lost_base; /* session counters when the current file began */
	uint64_t started_ns;         /* CLOCK_REALTIME */
	int ep, lfd, sfd;
	int ep_listen, ep_signal, ep_closed;
	int notify[2];              /* pipe: finished closes (struct gt_dclose *) */
	struct gt_dclose *closing; /* pending closes, newest first */
	struct gt_dconn *conns[GT_D_CONNS_MAX];
	bool stop;
	uint64_t last_status_ns, last_seal_ns, seal_events;
};

static void __attribute__((format(printf, 3, 4)))
gt_d_err(char *err, size_t errcap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errcap, fmt, ap);
	va_end(ap);
}

/* Create DIR/<op>_<ts>[_N].gtrace with the session's meta. */
static int gt_d_open_file(struct gt_daemon *d, const char *op, struct gt_writer **out,
			  char *path, size_t cap)
{
	struct gt_writer_opts wo = { .clock = d->clock };
	struct gt_clock_sample start;
	struct passwd *pw;
	char host[256];
	struct tm tm;
	time_t now = time(NULL);
	int ret = -EEXIST;

	localtime_r(&now, &tm);
	gt_clock_sample(d->clock, &start);
	for (unsigned int n = 1; n <= GT_D_CLASH_MAX && ret == -EEXIST; n++) {
		ret = gt_op_path(d->o->dir, op, &tm, n, path, cap);
		if (ret < 0)
			return ret;
		ret = gt_writer_open(path, &wo, &start, out);
	}
	if (ret < 0)
		return ret;
	gt_writer_set_meta(*out, "op", op);
	gt_writer_set_meta(*out, "session", d->o->name);
	gt_writer_set_meta(*out, "cwd", d->cwd);
	if (gethostname(host, sizeof(host) - 1) == 0) {
		host[sizeof(host) - 1] = '\0';
		gt_writer_set_meta(*out, "host", host);
	}
	pw = getpwuid(geteuid());
	if (pw && pw->pw_name)
		gt_writer_set_meta(*out, "user", pw->pw_name);
	gt_writer_set_meta(*out, "gtrace_version", GT_VERSION_STRING);
	gt_writer_set_meta(*out, "profile", d->profile.name);
	return 0;
}

static int gt_d_add_file(struct gt_daemon *d, const char *path)
{
	struct gt_dfile *f = realloc(d->files, (d->nfiles + 1) * sizeof(*f));

	if (!f)
		return -ENOMEM;
	d->files = f;
	memset(&f[d->nfiles], 0, sizeof(*f));
	f[d->nfiles].path = strdup(path);
	if (!f[d->nfiles].path)
		return -ENOMEM;
	d->nfiles++;
	return 0;
}

/* Counters and final meta of the file @w writes (writer thread idle or stopped). */
static void gt_d_close_prepare(struct gt_daemon *d, struct gt_writer *w, struct gt_dfile *f)
{
	struct gt_collector_stats st;
	struct gt_clock_sample end;
	char buf[32];

	gt_collector_stats(d->c, &st);
	f->events = gt_writer_events(w);
	f->lost = st.lost - d->lost_base;
	gt_clock_sample(d->clock, &end);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)end.realtime_ns);
	gt_writer_set_meta(w, "end_realtime_ns", buf);
}

static uint64_t gt_d_file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static json_t *gt_d_file_json(const struct gt_dfile *f)
{
	return json_pack("{s:s, s:I, s:I, s:I}", "path", f->path, "size",
			 (json_int_t)gt_d_file_size(f->path), "events", (json_int_t)f->events,
			 "lost", (json_int_t)f->lost);
}

static json_t *gt_d_status(struct gt_daemon *d)
{
	struct gt_collector_stats st;
	const struct gt_dfile *cur = &d->files[d->nfiles - 1];
	json_t *files = json_array(), *j;

	gt_collector_stats(d->c, &st);
	for (size_t i = 0; i + 1 < d->nfiles; i++)
		json_array_append_new(files, gt_d_file_json(&d->files[i]));
	j = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:o}",
		      "name", d->o->name, "pid", (json_int_t)getpid(), "mode", "file", "profile",
		      d->profile.name, "dir", d->o->dir, "op", d->op, "file", cur->path, "size",
		      (json_int_t)gt_d_file_size(cur->path), "events",
		      (json_int_t)(st.events - d->ev_base), "lost",
		      (json_int_t)(st.lost - d->lost_base), "session_events",
		      (json_int_t)st.events, "session_lost", (json_int_t)st.lost, "started_ns",
		      (json_int_t)d->started_ns, "socket", gt_collector_session(d->c), "files",
		      files);
	return j;
}

/* status.json: written to a temporary name and renamed, so readers see a whole file. */
static void gt_d_write_status(struct gt_daemon *d)
{
	char tmp[PATH_MAX + 16], path[PATH_MAX + 16];
	json_t *j = gt_d_status(d);

	d->last_status_ns = gt_col_mono_ns();
	if (!j)
		return;
	snprintf(tmp, sizeof(tmp), "%s/status.json.tmp", d->state);
	snprintf(path, sizeof(path), "%s/status.json", d->state);
	if (json_dump_file(j, tmp, JSON_COMPACT) == 0)
		rename(tmp, path);
	json_decref(j);
}

static json_t *gt_d_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *gt_d_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static void gt_d_reply(int fd, json_t *j);

/*
 * Closing an old file off the drain loop and off the writer thread:
 * gt_writer_close() seals the last chunk, writes the footer and fsyncs,
 * which takes milliseconds.  Reports the job on the notify pipe.
 */
static void *gt_d_close_main(void *arg)
{
	struct gt_dclose *job = arg;
	struct gt_clock_sample end;
	char buf[32];
	ssize_t n;

	job->events = gt_writer_events(job->w);
	gt_clock_sample(job->clock, &end);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)end.realtime_ns);
	gt_writer_set_meta(job->w, "end_realtime_ns", buf);
	job->ret = gt_writer_close(job->w);
	job->w = NULL;
	job->tdone = gt_col_mono_ns();
	do
		n = write(job->notify, &job, sizeof(job));
	while (n < 0 && errno == EINTR);
	return NULL;
}

/* On the collector's writer thread, once the new sink is installed. */
static void gt_d_switched(void *arg)
{
	struct gt_dclose *job = arg;
	pthread_attr_t attr;
	pthread_t th;
	sigset_t all, old;
	int ret;

	job->tswitch = gt_col_mono_ns();
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_attr_init(&attr);
	if (!ret)
		ret = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (!ret)
		ret = pthread_create(&th, &attr, gt_d_close_main, job);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		gt_d_close_main(job); /* no thread: close here, the writer waits */
}

/* A close finished: answer the rotate request. */
static void gt_d_close_done(struct gt_daemon *d, struct gt_dclose *job)
{
	struct gt_dclose **pp;
	struct gt_dfile *f = &d->files[job->file];
	json_t *j;

	for (pp = &d->closing; *pp; pp = &(*pp)->next) {
		if (*pp == job) {
			*pp = job->next;
			break;
		}
	}
	f->events = job->events;
	f->lost = job->lost;
	if (job->ret < 0)
		gt_col_log("closing '%s' failed: %s", f->path, gt_strerror(job->ret));
	j = json_pack("{s:b, s:o, s:s, s:I, s:I, s:I, s:I}", "ok", 1, "closed", gt_d_file_json(f),
		      "file", d->files[job->file + 1].path, "rotate_us",
		      (json_int_t)((job->tdone - job->t0) / 1000), "open_us",
		      (json_int_t)((job->topen - job->t0) / 1000), "switch_us",
		      (json_int_t)((job->tswitch - job->topen) / 1000), "close_us",
		      (json_int_t)((job->tdone - job->tswitch) / 1000));
	if (j && job->ret < 0)
		json_object_set_new(j, "warning", json_string(gt_strerror(job->ret)));
	if (job->fd >= 0) {
		gt_d_reply(job->fd, j);
		close(job->fd);
	} else {
		json_decref(j);
	}
	free(job);
}

/* Serve finished closes; with @wait, until none is pending (end of session). */
static void gt_d_close_poll(struct gt_daemon *d, bool wait)
{
	struct gt_dclose *job;

	for (;;) {
		while (read(d->notify[0], &job, sizeof(job)) == (ssize_t)sizeof(job))
			gt_d_close_done(d, job);
		if (!wait || !d->closing)
			return;
		struct pollfd p = { .fd = d->notify[0], .events = POLLIN };

		if (poll(&p, 1, 60000) == 0) {
			gt_col_log("a rotated file is still not closed after 60 s; giving up on it");
			return;
		}
	}
}

/*
 * Rotate: create the new file, switch the sink between two drain rounds,
 * then close the old file on a helper thread; the reply goes to @fd (which
 * this takes) when the old file is complete.  Return NULL when the reply
 * is deferred, else an immediate (error) reply.
 */
static json_t *gt_d_rotate(struct gt_daemon *d, const char *op_arg, int fd)
{
	struct gt_collector_stats st;
	struct gt_dclose *job;
	struct gt_sink sink;
	char op[GT_OP_NAME_MAX + 1], path[PATH_MAX];
	struct gt_writer *nw;
	int ret;

	job = calloc(1, sizeof(*job));
	if (!job)
		return gt_d_error("out of memory");
	job->t0 = gt_col_mono_ns();
	job->fd = -1;
	job->notify = d->notify[1];
	job->clock = d->clock;
	gt_op_sanitize(op_arg, op, sizeof(op));
	/* the new file first: if it cannot be created, the session goes on in the old one */
	ret = gt_d_open_file(d, op, &nw, path, sizeof(path));
	if (ret < 0) {
		free(job);
		return gt_d_error("cannot create '%s': %s; still writing '%s'", path,
				  gt_strerror(ret), d->files[d->nfiles - 1].path);
	}
	if (gt_d_add_file(d, path) < 0) {
		free(job);
		gt_writer_close(nw);
		unlink(path);
		return gt_d_error("out of memory");
	}
	gt_sink_writer(&sink, nw);
	gt_collector_stats(d->c, &st);
	job->w = d->w;
	job->file = d->nfiles - 2;
	job->lost = st.lost - d->lost_base;
	job->fd = fd;
	job->next = d->closing;
	d->closing = job;
	job->topen = gt_col_mono_ns();
	if (gt_collector_switch_sink(d->c, &sink, gt_d_switched, job) < 0) {
		/* cannot queue it: switch now, waiting for the writer thread */
		gt_collector_set_sink(d->c, &sink);
		gt_d_switched(job);
	}
	d->w = nw;
	d->ev_base = st.events;
	d->lost_base = st.lost;
	snprintf(d->op, sizeof(d->op), "%s", op);
	gt_d_write_status(d);
	return NULL;
}

/* End of session: final drain, close the file, remove the state directory. */
static json_t *gt_d_finish(struct gt_daemon *d)
{
	static const char *const names[] = { "control.sock", "status.json", "status.json.tmp",
					     "pid", "collector.log", "lock" };
	json_t *files = json_array();
	char path[PATH_MAX + 32];
	int ret;

	gt_collector_finish(d->c); /* performs queued switches: every close is under way */
	gt_d_close_poll(d, true);
	gt_d_close_prepare(d, d->w, &d->files[d->nfiles - 1]);
	ret = gt_writer_close(d->w);
	d->w = NULL;
	if (ret < 0)
		gt_col_log("closing '%s' failed: %s", d->files[d->nfiles - 1].path,
			   gt_strerror(ret));
	for (size_t i = 0; i < d->nfiles; i++)
		json_array_append_new(files, gt_d_file_json(&d->files[i]));
	gt_collector_free(d->c);
	d->c = NULL;
	/* the lock stays held (by our descriptor) until we exit */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", d->state, names[i]);
		unlink(path);
	}
	rmdir(d->state);
	return json_pack("{s:b, s:o}", "ok", 1, "files", files);
}

static json_t *gt_d_mark(struct gt_daemon *d, uint32_t pid, const char *text)
{
	gt_collector_mark(d->c, pid, text, strlen(text));
	return json_pack("{s:b, s:s}", "ok", 1, "file", d->files[d->nfiles - 1].path);
}

static void gt_d_reply(int fd, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (text && strlen(text) <= GT_SESS_MSG_MAX)
		send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
	free(text);
	json_decref(j);
}

static void gt_d_conn_close(struct gt_daemon *d, struct gt_dconn *cn)
{
	for (int i = 0; i < GT_D_CONNS_MAX; i++)
		if (d->conns[i] == cn)
			d->conns[i] = NULL;
	epoll_ctl(d->ep, EPOLL_CTL_DEL, cn->fd, NULL);
	close(cn->fd);
	free(cn);
}

/* Serve one request; the request text is untrusted (same user, but any bytes). */
static void gt_d_serve(struct gt_daemon *d, struct gt_dconn *cn)
{
	char *buf = malloc(GT_SESS_MSG_MAX + 1);
	const char *cmd = NULL, *arg = NULL;
	json_t *req = NULL, *rep;
	json_error_t je;
	ssize_t n;

	if (!buf) {
		gt_d_conn_close(d, cn);
		return;
	}
	n = recv(cn->fd, buf, GT_SESS_MSG_MAX, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		free(buf);
		return;
	}
	if (n <= 0) {
		free(buf);
		gt_d_conn_close(d, cn);
		return;
	}
	if (n > (ssize_t)GT_SESS_MSG_MAX)
		rep = gt_d_error("request larger than %u bytes", GT_SESS_MSG_MAX);
	else if (!(req = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &je)) ||
		 json_unpack(req, "{s:s, s?s}", "cmd", &cmd, "arg", &arg) < 0)
		rep = gt_d_error("malformed request");
	else if (!strcmp(cmd, "status"))
		rep = json_pack("{s:b, s:o}", "ok", 1, "status", gt_d_status(d));
	else if (!strcmp(cmd, "mark") && arg)
		rep = gt_d_mark(d, cn->pid, arg);
	else if (!strcmp(cmd, "rotate") && arg) {
		rep = gt_d_rotate(d, arg, cn->fd);
		if (!rep) {
			/* the answer comes when the old file is complete: the job owns the fd */
			for (int i = 0; i < GT_D_CONNS_MAX; i++)
				if (d->conns[i] == cn)
					d->conns[i] = NULL;
			epoll_ctl(d->ep, EPOLL_CTL_DEL, cn->fd, NULL);
			free(cn);
			free(buf);
			json_decref(req);
			return;
		}
	}
	else if (!strcmp(cmd, "stop")) {
		rep = gt_d_finish(d);
		d->stop = true;
	} else
		rep = gt_d_error("unknown request '%s'", cmd);
	free(buf);
	json_decref(req);
	gt_d_reply(cn->fd, rep);
	gt_d_conn_close(d, cn);
}

static void gt_d_accept(struct gt_daemon *d)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct gt_dconn *cn;
		int fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), slot = -1;

		if (fd < 0)
			return;
		for (int i = 0; i < GT_D_CONNS_MAX; i++)
			if (!d->conns[i])
				slot = i;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    (cred.uid != geteuid() && cred.uid != 0) || slot < 0 ||
		    !(cn = calloc(1, sizeof(*cn)))) {
			close(fd);
			continue;
		}
		cn->kind = GT_DK_CONN;
		cn->fd = fd;
		cn->pid = (uint32_t)cred.pid;
		cn->since_ns = gt_col_mono_ns();
		ev.data.ptr = cn;
		if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(cn);
			continue;
		}
		d->conns[slot] = cn;
	}
}

static void gt_d_events(struct gt_daemon *d)
{
	struct epoll_event evs[8];
	int n = epoll_wait(d->ep, evs, 8, 0);

	for (int i = 0; i < n && !d->stop; i++) {
		int kind = *(int *)evs[i].data.ptr;

		if (kind == GT_DK_LISTEN) {
			gt_d_accept(d);
		} else if (kind == GT_DK_SIGNAL) {
			struct signalfd_siginfo si;

			while (read(d->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				gt_col_log("signal %u: stopping session '%s'", si.ssi_signo,
					   d->o->name);
				json_decref(gt_d_finish(d));
				d->stop = true;
				break;
			}
		} else if (kind == GT_DK_CONN) {
			gt_d_serve(d, evs[i].data.ptr);
		} else if (kind == GT_DK_CLOSED) {
			gt_d_close_poll(d, false);
		}
	}
}

static void gt_d_loop(struct gt_daemon *d)
{
	while (!d->stop) {
		uint64_t now;
		struct gt_collector_stats st;

		if (gt_collector_poll(d->c, 200) == 1)
			gt_d_events(d);
		if (d->stop)
			break;
		now = gt_col_mono_ns();
		if (now - d->last_seal_ns >= 1000000000ull) {
			/* seal the open chunk when events arrived since the last seal */
			gt_collector_stats(d->c, &st);
			d->last_seal_ns = now;
			if (st.events != d->seal_events || d->c->batch.n) {
				d->seal_events = st.events;
				gt_collector_seal(d->c);
			}
		}
		if (now - d->last_status_ns >= 1000000000ull) {
			gt_d_write_status(d);
			/* a client that connected but never sent its request */
			for (int i = 0; i < GT_D_CONNS_MAX; i++)
				if (d->conns[i] && now - d->conns[i]->since_ns > GT_D_IDLE_NS)
					gt_d_conn_close(d, d->conns[i]);
		}
	}
}

/* Everything the grandchild does; writes "ok" or an error on @ready. */
static int gt_d_setup(struct gt_daemon *d, char *err, size_t errcap)
{
	struct gt_collector_opts co = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	char path[PATH_MAX + 32], fpath[PATH_MAX];
	struct timespec ts;
	sigset_t mask;
	mode_t old;
	FILE *f;
	int ret;

	clock_gettime(CLOCK_REALTIME, &ts);
	d->started_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	ret = gt_profile_load(d->o->profile_arg ? d->o->profile_arg : "default", &d->profile, err,
			      errcap);
	if (ret < 0)
		return ret;
	d->clock = gt_clock_choose();
	gt_op_sanitize(d->o->op, d->op, sizeof(d->op));
	ret = gt_d_open_file(d, d->op, &d->w, fpath, sizeof(fpath));
	if (ret < 0) {
		gt_d_err(err, errcap, "cannot create '%s': %s", fpath, gt_strerror(ret));
		return ret;
	}
	ret = gt_d_add_file(d, fpath);
	if (ret < 0)
		goto fail_file;
	co.clock = d->clock;
	co.profile = &d->profile;
	co.listen = true;
	co.session_dir = d->state;
	co.threaded = true;
	gt_sink_writer(&co.sink, d->w);
	ret = gt_collector_new(&co, &d->c);
	if (ret < 0) {
		d->c = NULL;
		gt_d_err(err, errcap, "cannot open the session socket in '%s': %s", d->state,
			 gt_strerror(ret));
		goto fail_file;
	}
	/* control socket */
	snprintf(path, sizeof(path), "%s/control.sock", d->state);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		ret = -ENAMETOOLONG;
		gt_d_err(err, errcap, "control socket path '%s' is too long", path);
		goto fail_file;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	d->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	old = umask(077);
	ret = d->lfd < 0 ? -1 : bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(d->lfd, 16) < 0) {
		ret = -errno;
		gt_d_err(err, errcap, "cannot listen on '%s': %s", path, strerror(errno));
		goto fail_file;
	}
	/* signals and control connections: one epoll set, watched by the collector */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->sfd < 0 || d->ep < 0) {
		ret = -errno;
		gt_d_err(err, errcap, "signalfd/epoll: %s", strerror(errno));
		goto fail_file;
	}
	if (pipe2(d->notify, O_CLOEXEC | O_NONBLOCK) < 0) {
		ret = -errno;
		gt_d_err(err, errcap, "pipe: %s", strerror(errno));
		goto fail_file;
	}
	d->ep_listen = GT_DK_LISTEN;
	d->ep_signal = GT_DK_SIGNAL;
	d->ep_closed = GT_DK_CLOSED;
	ev.data.ptr = &d->ep_listen;
	ret = epoll_ctl(d->ep, EPOLL_CTL_ADD, d->lfd, &ev);
	ev.data.ptr = &d->ep_signal;
	if (ret == 0)
		ret = epoll_ctl(d->ep, EPOLL_CTL_ADD, d->sfd, &ev);
	ev.data.ptr = &d->ep_closed;
	if (ret == 0)
		ret = epoll_ctl(d->ep, EPOLL_CTL_ADD, d->notify[0], &ev);
	if (ret == 0)
		ret = gt_collector_watch(d->c, d->ep);
	if (ret < 0) {
		ret = -errno;
		gt_d_err(err, errcap, "epoll: %s", strerror(errno));
		goto fail_file;
	}
	snprintf(path, sizeof(path), "%s/pid", d->state);
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	d->last_seal_ns = gt_col_mono_ns();
	gt_d_write_status(d);
	return 0;
fail_file:
	gt_collector_free(d->c);
	d->c = NULL;
	gt_writer_close(d->w);
	d->w = NULL;
	unlink(fpath);
	return ret;
}

/* The grandchild: becomes the collector.  Never returns. */
static void __attribute__((noreturn))
gt_d_main(const struct gt_daemon_opts *o, const char *state, int ready)
{
	struct gt_daemon d = { .o = o, .lfd = -1, .sfd = -1, .ep = -1, .notify = { -1, -1 } };
	char log[PATH_MAX + 16], err[1024] = "", msg[PATH_MAX + 64];
	int fd, ret;

	snprintf(d.state, sizeof(d.state), "%s", state);
	if (!getcwd(d.cwd, sizeof(d.cwd)))
		d.cwd[0] = '\0';
	snprintf(log, sizeof(log), "%s/collector.log", state);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	if (chdir("/") < 0)
		_exit(1);
	signal(SIGPIPE, SIG_IGN);
	ret = gt_d_setup(&d, err, sizeof(err));
	if (ret < 0) {
		snprintf(msg, sizeof(msg), "error %s", err[0] ? err : gt_strerror(ret));
		if (write(ready, msg, strlen(msg)) < 0)
			_exit(1);
		_exit(1);
	}
	snprintf(msg, sizeof(msg), "ok %s", gt_collector_session(d.c));
	if (write(ready, msg, strlen(msg)) < 0)
		_exit(1);
	close(ready);
	gt_d_loop(&d);
	for (size_t i = 0; i < d.nfiles; i++)
		free(d.files[i].path);
	free(d.files);
	_exit(0);
}

int gt_daemon_start(const struct gt_daemon_opts *o, char *sock, size_t sockcap, char *err,
		    size_t errcap)
{
	char state[PATH_MAX], path[PATH_MAX + 16], buf[PATH_MAX + 64];
	int lfd = -1, pfd[2] = { -1, -1 }, ret, st;
	size_t got = 0;
	pid_t pid, dpid = 0;

	ret = gt_sess_path(o->name, NULL, state, sizeof(state));
	if (ret < 0) {
		gt_d_err(err, errcap, "cannot use session directory for '%s': %s", o->name,
			 gt_strerror(ret));
		return ret;
	}
	if (gt_sess_probe(o->name) == GT_SESS_DEAD)
		gt_sess_remove(o->name); /* state of a collector that died */
	if (mkdir(state, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		gt_d_err(err, errcap, "cannot create '%s': %s", state, strerror(errno));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/lock", state);
	lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lfd < 0) {
		ret = -errno;
		gt_d_err(err, errcap, "cannot open '%s': %s", path, strerror(errno));
		return ret;
	}
	if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		close(lfd);
		gt_d_err(err, errcap,
			 "session '%s' is already running; stop it with 'gtrace stop --session %s' "
			 "or choose another --name",
			 o->name, o->name);
		return -EEXIST;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		ret = -errno;
		close(lfd);
		gt_d_err(err, errcap, "pipe: %s", strerror(errno));
		return ret;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		gt_d_err(err, errcap, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* first child: new session, then the grandchild is the collector */
		close(pfd[0]);
		setsid();
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? 1 : 0);
		/* keep only the lock (held while we live) and the ready pipe, as fds 3 and 4 */
		lfd = fcntl(lfd, F_DUPFD_CLOEXEC, 10);
		pfd[1] = fcntl(pfd[1], F_DUPFD_CLOEXEC, 10);
		if (lfd < 0 || pfd[1] < 0 || dup2(lfd, 3) < 0 || dup2(pfd[1], 4) < 0)
			_exit(1);
		close_range(5, ~0u, 0);
		gt_d_main(o, state, 4);
	}
	close(pfd[1]);
	pfd[1] = -1;
	waitpid(pid, &st, 0);
	/* read "ok SOCKET" or "error MESSAGE" until the collector closes the pipe */
	for (;;) {
		struct pollfd pl = { .fd = pfd[0], .events = POLLIN };
		ssize_t n;

		n = poll(&pl, 1, GT_D_READY_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		n = read(pfd[0], buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) >= sizeof(buf) - 1)
			break;
	}
	buf[got] = '\0';
	if (!strncmp(buf, "ok ", 3)) {
		snprintf(sock, sockcap, "%s", buf + 3);
		snprintf(path, sizeof(path), "%s/pid", state);
		FILE *f = fopen(path, "re");

		if (f) {
			if (fscanf(f, "%d", &dpid) != 1)
				dpid = 0;
			fclose(f);
		}
		ret = dpid > 0 ? dpid : 1;
	} else if (!strncmp(buf, "error ", 6)) {
		gt_d_err(err, errcap, "%s", buf + 6);
		ret = -EIO;
	} else {
		/* it died before it could say why: its log is all there is */
		char tail[512] = "";
		FILE *f;

		snprintf(path, sizeof(path), "%s/collector.log", state);
		f = fopen(path, "re");
		if (f) {
			size_t n = fread(tail, 1, sizeof(tail) - 1, f);

			tail[n] = '\0';
			tail[strcspn(tail, "\n")] = '\0';
			fclose(f);
		}
		gt_d_err(err, errcap, "the collector exited during start-up%s%s",
			 tail[0] ? ": " : "", tail);
		ret = -EIO;
	}
out:
	close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	close(lfd);
	if (ret < 0 && gt_sess_probe(o->name) == GT_SESS_DEAD)
		gt_sess_remove(o->name);
	return ret;
}
