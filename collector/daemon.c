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
 *   snapshot  memory mode (flight recorder): seal the open chunk, capture
 *           the window and write it as DIR/<op>_<ts>.gtrace on a helper
 *           thread, then answer; the window goes on
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
#include <malloc.h>
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

#include "format/gt_fmt.h"
#include "format/gt_window.h"
#include "gt_col_int.h"
#include "gt_daemon.h"
#include "gt_import.h"
#include "gt_ktrace.h"
#include "gt_system.h"

#define GT_D_CONNS_MAX 16
#define GT_D_READY_MS 10000 /* how long `gtrace start` waits for the collector */
#define GT_D_CLASH_MAX 10000u
#define GT_D_IDLE_NS 5000000000ull /* control connections without a request */
#define GT_D_SEAL_EXIT_EVENTS 4096u /* gt_d_seal_maybe() */
#define GT_D_MMAP_THRESHOLD (32 << 20) /* gt_d_setup(): malloc keeps writer buffers */
#define GT_D_TRIM_THRESHOLD (64 << 20)

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
	char *sync_path;        /* `file sync=full`: the old file, whose directory to sync */
	int ret;
	uint64_t events, lost; /* events from the writer; lost as the drain saw them */
	uint64_t t0, topen, tswitch, tdone; /* CLOCK_MONOTONIC ns */
};

/*
 * A snapshot of a memory-mode session being written by a helper thread: the
 * image is immutable, so the thread needs nothing else; it answers the
 * client itself and is joined by the loop (gt_d_snap_reap).
 */
struct gt_dsnap {
	struct gt_dsnap *next; /* daemon thread only */
	pthread_t th;
	bool started;
	struct gt_window_image *img;
	const char *dir;
	char op[GT_OP_NAME_MAX + 1];
	struct tm tm;
	int fd; /* control connection waiting for the answer, or -1 */
	/* results, read after the join */
	char path[PATH_MAX];
	int ret;
	uint64_t bytes, events, lost, evicted_chunks, evicted_events;
	uint64_t t0, tcapture; /* CLOCK_MONOTONIC ns: request, window captured */
	uint32_t done; /* atomic: the thread has finished (then it is joined) */
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
	struct gt_dsnap *snaps; /* memory mode: snapshots being written, newest first */
	json_t *snapped;        /* memory mode: the files snapshots wrote */
	struct gt_system *sys;  /* --system: running processes enabled (system.c) */
	uint32_t shell;         /* the process that ran `gtrace start`: kernel events' root */
	char outer[GT_SESS_NAME_MAX + 1]; /* nested: the session to forward files to, or "" */
	char kwarn[512];        /* why kernel events are off, for `gtrace start` */
	uint64_t last_sys_ns;   /* last registry scan */
	bool stop;
	uint64_t last_status_ns, last_seal_ns, seal_events, seal_detached;
};

/*
 * Seal the open chunk (the writer thread does it) once a second when events
 * arrived since the last seal, so that a collector that dies loses at most
 * that second; and at once when a traced process left with at least
 * GT_D_SEAL_EXIT_EVENTS events unsealed: its events are then in the file,
 * and a rotate or stop that follows (the next step of a pipeline) does not
 * have to encode them on its own path.  Fewer events wait for the timer, so
 * that many short processes do not cut the file into tiny chunks.
 */
static void gt_d_seal_maybe(struct gt_daemon *d, uint64_t now)
{
	struct gt_collector_stats st;
	uint64_t pending;
	bool left;

	gt_collector_stats(d->c, &st);
	pending = st.events - d->seal_events + d->c->batch.n;
	left = st.detached != d->seal_detached;
	d->seal_detached = st.detached;
	if (!(left && pending >= GT_D_SEAL_EXIT_EVENTS) && now - d->last_seal_ns < 1000000000ull)
		return;
	d->last_seal_ns = now;
	if (pending) {
		d->seal_events = st.events;
		gt_collector_seal(d->c);
	}
}

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
	struct gt_writer_opts wo = { .clock = d->clock, .sync_full = d->profile.sync_full };
	struct gt_clock_sample start;
	struct passwd *pw;
	char host[256];
	struct tm tm;
	time_t now = time(NULL);
	int ret = -EEXIST;

	localtime_r(&now, &tm);
	gt_clock_sample(d->clock, &start);
	if (d->o->memory) {
		/* flight recorder: no file, a window (gtrace snapshot writes files) */
		path[0] = '\0';
		ret = gt_writer_open_window(&wo, &start, d->o->window_bytes, out);
	}
	for (unsigned int n = 1; !d->o->memory && n <= GT_D_CLASH_MAX && ret == -EEXIST; n++) {
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

/* Memory mode: no current file; the window's fill and the snapshots written instead. */
static json_t *gt_d_status_memory(struct gt_daemon *d)
{
	struct gt_collector_stats st;
	struct gt_window_stats ws;

	gt_collector_stats(d->c, &st);
	gt_window_stats(gt_writer_window(d->w), &ws);
	return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:n, s:I, s:I, s:I, s:I, s:I, s:I, s:s, "
			 "s:O, s:{s:I, s:I, s:I, s:I, s:I, s:I}}",
			 "name", d->o->name, "pid", (json_int_t)getpid(), "mode", "memory",
			 "profile", d->profile.name, "dir", d->o->dir, "op", d->op, "file",
			 "size", (json_int_t)ws.bytes, "events", (json_int_t)st.events, "lost",
			 (json_int_t)st.lost, "session_events", (json_int_t)st.events,
			 "session_lost", (json_int_t)st.lost, "started_ns",
			 (json_int_t)d->started_ns, "socket", gt_collector_session(d->c), "files",
			 d->snapped, "window", "max_bytes", (json_int_t)ws.max_bytes, "bytes",
			 (json_int_t)ws.bytes, "chunks", (json_int_t)ws.chunks, "events",
			 (json_int_t)ws.events, "evicted_chunks", (json_int_t)ws.evicted_chunks,
			 "evicted_events", (json_int_t)ws.evicted_events);
}

/* --system: what the registry scans did (docs/sessions.md "System sessions"). */
static json_t *gt_d_status_sys(struct gt_daemon *d, json_t *j)
{
	struct gt_system_stats ss;

	if (!j)
		return j;
	json_object_set_new(j, "system", json_boolean(d->o->system));
	if (!d->sys)
		return j;
	gt_system_stats(d->sys, &ss);
	json_object_set_new(j, "registry", json_string(gt_system_registry(d->sys)));
	json_object_set_new(j, "system_enabled", json_integer((json_int_t)ss.enabled));
	json_object_set_new(j, "system_skipped",
			    json_integer((json_int_t)(ss.skipped_user + ss.skipped_perm)));
	json_object_set_new(j, "system_bad", json_integer((json_int_t)ss.bad));
	return j;
}

static json_t *gt_d_status(struct gt_daemon *d)
{
	struct gt_collector_stats st;
	const struct gt_dfile *cur = d->nfiles ? &d->files[d->nfiles - 1] : NULL;
	json_t *files = json_array(), *j;

	if (!cur)
		return gt_d_status_sys(d, gt_d_status_memory(d));
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
	return gt_d_status_sys(d, j);
}

/* status.json: written to a temporary name and renamed, so readers see a whole file. */
static void gt_d_write_status(struct gt_daemon *d)
{
	char tmp[PATH_MAX + 16], path[PATH_MAX + 16];
	json_t *j = gt_d_status(d);
	bool ok;
	int fd;

	d->last_status_ns = gt_col_mono_ns();
	if (!j)
		return;
	snprintf(tmp, sizeof(tmp), "%s/status.json.tmp", d->state);
	snprintf(path, sizeof(path), "%s/status.json", d->state);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		ok = json_dumpfd(j, fd, JSON_COMPACT) == 0;
		if (close(fd) == 0 && ok)
			rename(tmp, path);
	}
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
static void gt_d_forward(struct gt_daemon *d, const char *path);

/*
 * Closing an old file off the drain loop and off the writer thread:
 * gt_writer_close() seals the last chunk and writes the footer (and with
 * `file sync=full` fsyncs it and its directory), which takes milliseconds.
 * Reports the job on the notify pipe.
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
	if (!job->ret && job->sync_path)
		(void)gt_fd_sync_dir(job->sync_path); /* best effort, as for gtrace run */
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
	if (job->ret >= 0)
		gt_d_forward(d, f->path);
	free(job->sync_path);
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

	if (d->o->memory)
		return gt_d_error("session '%s' keeps its trace in memory (--mode memory), "
				  "there is no file to rotate; use 'gtrace snapshot --op %s' to "
				  "write one",
				  d->o->name, op_arg);
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
	if (d->profile.sync_full)
		job->sync_path = strdup(d->files[job->file].path);
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
	gt_collector_kernel_rotate(d->c); /* the new file declares its kernel schemas again */
	d->w = nw;
	d->ev_base = st.events;
	d->lost_base = st.lost;
	snprintf(d->op, sizeof(d->op), "%s", op);
	gt_d_write_status(d);
	return NULL;
}

/* The helper thread: write the image (a clash gets _2, _3...), answer the client. */
static void *gt_d_snap_main(void *arg)
{
	struct gt_dsnap *job = arg;
	json_t *j;

	job->ret = -EEXIST;
	for (unsigned int n = 1; n <= GT_D_CLASH_MAX && job->ret == -EEXIST; n++) {
		job->ret = gt_op_path(job->dir, job->op, &job->tm, n, job->path, sizeof(job->path));
		if (job->ret >= 0)
			job->ret = gt_window_image_write(job->img, job->path, &job->bytes);
	}
	if (job->ret < 0)
		j = gt_d_error("cannot write the snapshot '%s': %s", job->path,
			       gt_strerror(job->ret));
	else
		j = json_pack("{s:b, s:{s:s, s:I, s:I, s:I, s:I, s:I}, s:I, s:I}", "ok", 1, "file",
			      "path", job->path, "size", (json_int_t)job->bytes, "events",
			      (json_int_t)job->events, "lost", (json_int_t)job->lost,
			      "evicted_chunks", (json_int_t)job->evicted_chunks, "evicted_events",
			      (json_int_t)job->evicted_events, "capture_us",
			      (json_int_t)((job->tcapture - job->t0) / 1000), "snapshot_us",
			      (json_int_t)((gt_col_mono_ns() - job->t0) / 1000));
	if (job->fd >= 0) {
		gt_d_reply(job->fd, j);
		close(job->fd);
		job->fd = -1;
	} else {
		json_decref(j);
	}
	gt_window_image_free(job->img);
	job->img = NULL;
	__atomic_store_n(&job->done, 1, __ATOMIC_RELEASE); /* pairs with gt_d_snap_reap */
	return NULL;
}

/* Join finished snapshot threads (with @wait: all of them) and record their files. */
static void gt_d_snap_reap(struct gt_daemon *d, bool wait)
{
	struct gt_dsnap **pp = &d->snaps;

	while (*pp) {
		struct gt_dsnap *job = *pp;

		if (!wait && !__atomic_load_n(&job->done, __ATOMIC_ACQUIRE)) {
			pp = &job->next;
			continue;
		}
		if (job->started)
			pthread_join(job->th, NULL);
		*pp = job->next;
		if (job->ret < 0)
			gt_col_log("snapshot '%s' failed: %s", job->path, gt_strerror(job->ret));
		else
			json_array_append_new(d->snapped,
					      json_pack("{s:s, s:I, s:I, s:I}", "path", job->path,
							"size", (json_int_t)job->bytes, "events",
							(json_int_t)job->events, "lost",
							(json_int_t)job->lost));
		free(job);
	}
}

/*
 * Snapshot (memory mode): every record copied out of a ring so far reaches
 * the window (drain, then wait for the writer thread: the drain loop pauses
 * only for the writer's current batch, as in gt_collector_set_sink), the
 * open chunk is sealed and the window captured (reference counts, no
 * copy); a helper thread writes the file and answers @fd (which this takes).
 * Return NULL when the reply is deferred, else an immediate (error) reply.
 */
static json_t *gt_d_snapshot(struct gt_daemon *d, const char *op_arg, int fd)
{
	struct gt_collector_stats st;
	struct gt_window_stats ws;
	struct gt_clock_sample now;
	struct gt_dsnap *job;
	sigset_t all, old;
	time_t t = time(NULL);
	char buf[32];
	int ret;

	if (!d->o->memory)
		return gt_d_error("session '%s' writes its trace to files (--mode file), there is "
				  "no window to snapshot; use 'gtrace rotate' or start it with "
				  "--mode memory",
				  d->o->name);
	job = calloc(1, sizeof(*job));
	if (!job)
		return gt_d_error("out of memory");
	job->fd = -1;
	job->dir = d->o->dir;
	job->t0 = gt_col_mono_ns();
	localtime_r(&t, &job->tm);
	gt_op_sanitize(op_arg && op_arg[0] ? op_arg : d->op, job->op, sizeof(job->op));
	gt_collector_drain_rings(d->c);
	gt_collector_flush_batch(d->c); /* the writer thread is idle until the next handoff */
	gt_collector_stats(d->c, &st);
	gt_clock_sample(d->clock, &now);
	gt_writer_clock(d->w, &now);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)now.realtime_ns);
	gt_writer_set_meta(d->w, "end_realtime_ns", buf);
	gt_writer_set_meta(d->w, "op", job->op);
	ret = gt_writer_snapshot_prepare(d->w, &job->img);
	if (ret < 0) {
		free(job);
		return gt_d_error("cannot capture the window: %s", gt_strerror(ret));
	}
	job->tcapture = gt_col_mono_ns(); /* the drain loop goes on from here */
	gt_window_stats(gt_writer_window(d->w), &ws);
	job->events = gt_window_image_events(job->img);
	job->lost = st.lost;
	job->evicted_chunks = ws.evicted_chunks;
	job->evicted_events = ws.evicted_events;
	job->fd = fd;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&job->th, NULL, gt_d_snap_main, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	job->started = ret == 0;
	if (!job->started)
		gt_d_snap_main(job); /* no thread: write it here, the drain loop waits */
	job->next = d->snaps;
	d->snaps = job;
	return NULL;
}

/*
 * Free the collector and remove the session's state directory; the lock
 * stays held (by our descriptor) until we exit.
 */
static void gt_d_remove_state(struct gt_daemon *d)
{
	static const char *const names[] = { "control.sock", "status.json", "status.json.tmp",
					     "pid", "collector.log", "lock" };
	char path[PATH_MAX + 32];

	gt_collector_free(d->c);
	d->c = NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", d->state, names[i]);
		unlink(path);
	}
	rmdir(d->state);
}

/* End of session: final drain, close the file, remove the state directory. */
static json_t *gt_d_finish(struct gt_daemon *d)
{
	json_t *files = json_array();
	int ret;

	/* --system: every enabled process leaves first; the final drain takes the rest */
	gt_system_close(d->sys);
	d->sys = NULL;
	gt_collector_finish(d->c); /* performs queued switches: every close is under way */
	gt_d_close_poll(d, true);
	gt_d_snap_reap(d, true);
	if (d->o->memory) {
		/* the window is dropped: only what gtrace snapshot wrote stays */
		struct gt_window_stats ws;

		gt_window_stats(gt_writer_window(d->w), &ws);
		gt_writer_close(d->w);
		d->w = NULL;
		json_array_extend(files, d->snapped);
		json_decref(d->snapped);
		d->snapped = NULL;
		gt_d_remove_state(d);
		return json_pack("{s:b, s:o, s:s, s:I}", "ok", 1, "files", files, "mode",
				 "memory", "discarded_events", (json_int_t)ws.events);
	}
	gt_d_close_prepare(d, d->w, &d->files[d->nfiles - 1]);
	ret = gt_writer_close(d->w);
	d->w = NULL;
	if (!ret && d->profile.sync_full)
		(void)gt_fd_sync_dir(d->files[d->nfiles - 1].path);
	if (ret < 0)
		gt_col_log("closing '%s' failed: %s", d->files[d->nfiles - 1].path,
			   gt_strerror(ret));
	else
		gt_d_forward(d, d->files[d->nfiles - 1].path);
	for (size_t i = 0; i < d->nfiles; i++)
		json_array_append_new(files, gt_d_file_json(&d->files[i]));
	gt_d_remove_state(d);
	return json_pack("{s:b, s:o}", "ok", 1, "files", files);
}

static json_t *gt_d_mark(struct gt_daemon *d, uint32_t pid, const char *text)
{
	gt_collector_mark(d->c, pid, text, strlen(text));
	return json_pack("{s:b, s:s?}", "ok", 1, "file",
			 d->nfiles ? d->files[d->nfiles - 1].path : NULL);
}

/*
 * Nested sessions (docs/sessions.md): a file of another operation run inside
 * this session (a `gtrace run`, or a session started in this one's shell)
 * joins the current file.  The drain loop pauses while the file is read.
 */
static json_t *gt_d_import(struct gt_daemon *d, const char *path)
{
	struct gt_import_stats st;
	char err[1024] = "";
	int ret;

	if (d->stop || !d->c)
		return gt_d_error("session '%s' is stopping", d->o->name);
	ret = gt_import_file(d->c, path, &st, err, sizeof(err));
	if (ret < 0)
		return gt_d_error("%s", err[0] ? err : gt_strerror(ret));
	return json_pack("{s:b, s:I, s:I, s:I, s:s?}", "ok", 1, "events", (json_int_t)st.events,
			 "skipped", (json_int_t)(st.skipped + st.bad), "lost", (json_int_t)st.lost,
			 "file", d->nfiles ? d->files[d->nfiles - 1].path : NULL);
}

/* Nested in another session: hand it a file this session completed. */
static void gt_d_forward(struct gt_daemon *d, const char *path)
{
	char err[1024] = "";
	int64_t ret;

	if (!d->outer[0] || !path)
		return;
	ret = gt_import_request(d->outer, path, err, sizeof(err));
	if (ret >= 0)
		return;
	gt_col_log("warning: '%s' not forwarded to the outer session '%s': %s", path, d->outer,
		   err);
	if (ret == -ECONNREFUSED || ret == -ENOENT)
		d->outer[0] = '\0'; /* it is gone: do not try again */
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
	else if (!strcmp(cmd, "snapshot")) {
		/* before the helper thread may answer and close the fd */
		epoll_ctl(d->ep, EPOLL_CTL_DEL, cn->fd, NULL);
		rep = gt_d_snapshot(d, arg, cn->fd);
		if (!rep) {
			/* the helper thread answers once the file is complete: it owns the fd */
			for (int i = 0; i < GT_D_CONNS_MAX; i++)
				if (d->conns[i] == cn)
					d->conns[i] = NULL;
			free(cn);
			free(buf);
			json_decref(req);
			return;
		}
	}
	else if (!strcmp(cmd, "import") && arg)
		rep = gt_d_import(d, arg);
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

		/* --system: scan the registry about every 20 ms for processes to enable */
		if (gt_collector_poll(d->c, d->sys ? 20 : 200) == 1)
			gt_d_events(d);
		if (d->stop)
			break;
		if (d->sys && gt_col_mono_ns() - d->last_sys_ns >= 20000000ull) {
			d->last_sys_ns = gt_col_mono_ns();
			gt_system_scan(d->sys);
		}
		if (d->snaps)
			gt_d_snap_reap(d, false);
		now = gt_col_mono_ns();
		/* memory mode keeps nothing on disk: no reason to seal early */
		if (!d->o->memory)
			gt_d_seal_maybe(d, now);
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
	int fd;
	int ret;

	/*
	 * Every file of the session gets a new writer with megabytes of
	 * buffers (chunk arena, columns, zstd), and malloc gave them back to
	 * the kernel when the old file was closed: the next file faulted them
	 * in again, 150 to 660 page faults on every rotate, a few ms on this
	 * VM (docs/perf.md).  Keep freed memory for reuse instead; the
	 * collector's footprint is then its peak, a few MiB of it for writers.
	 */
	mallopt(M_MMAP_THRESHOLD, GT_D_MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, GT_D_TRIM_THRESHOLD);
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
	d->snapped = json_array();
	ret = d->o->memory ? (d->snapped ? 0 : -ENOMEM) : gt_d_add_file(d, fpath);
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
	if (ret == 0)
		ret = chmod(path, 0600); /* connect() needs only write permission */
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
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		dprintf(fd, "%d\n", (int)getpid());
		close(fd);
	}
	d->last_seal_ns = gt_col_mono_ns();
	if (d->o->system) {
		/* enable the running processes before `gtrace start` returns */
		ret = gt_system_open(5, gt_collector_session(d->c), d->o->name, &d->sys);
		if (ret < 0) {
			gt_d_err(err, errcap, "cannot set up the system session: %s",
				 gt_strerror(ret));
			goto fail_file;
		}
		gt_system_scan(d->sys);
		d->last_sys_ns = gt_col_mono_ns();
	}
	/*
	 * Kernel events (docs/kernel.md): the tree is the shell that ran
	 * `gtrace start` and its descendants, plus every process that joins
	 * (ktrace.c follows them as they attach).  Without them the session
	 * goes on with user events and `gtrace start` prints why.
	 */
	ret = gt_collector_kernel_open(d->c, d->o->name, d->shell, d->kwarn, sizeof(d->kwarn));
	if (ret < 0) {
		if (!d->kwarn[0])
			snprintf(d->kwarn, sizeof(d->kwarn), "kernel events skipped: %s",
				 gt_strerror(ret));
		gt_col_log("%s", d->kwarn);
	} else {
		d->kwarn[0] = '\0';
	}
	/* nested in another session: complete files are forwarded to it (import.c) */
	if (gt_import_outer(getenv("GTRACE_SESSION"), d->outer, sizeof(d->outer)) < 0 ||
	    !strcmp(d->outer, d->o->name))
		d->outer[0] = '\0';
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
gt_d_main(const struct gt_daemon_opts *o, const char *state, int ready, uint32_t shell)
{
	struct gt_daemon d = { .o = o, .lfd = -1, .sfd = -1, .ep = -1, .notify = { -1, -1 },
			       .shell = shell };
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
	/* "ok SOCKET", then a line with the kernel events' warning if any */
	snprintf(msg, sizeof(msg), "ok %s%s%s", gt_collector_session(d.c), d.kwarn[0] ? "\n" : "",
		 d.kwarn);
	if (write(ready, msg, strlen(msg)) < 0)
		_exit(1);
	close(ready);
	gt_d_loop(&d);
	for (size_t i = 0; i < d.nfiles; i++)
		free(d.files[i].path);
	free(d.files);
	_exit(0);
}

/* @what ("exe" link or "cmdline") of process @pid into @buf; length or -1. */
static ssize_t gt_d_proc_read(uint32_t pid, const char *what, char *buf, size_t cap)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/%s", pid, what);
	if (!strcmp(what, "exe"))
		return readlink(path, buf, cap);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, cap);
	close(fd);
	return n;
}

/* The parent of process @pid from /proc/<pid>/stat (after the last ')'), or 0. */
static uint32_t gt_d_ppid(uint32_t pid)
{
	char buf[512], *p;
	unsigned int ppid;
	ssize_t n = gt_d_proc_read(pid, "stat", buf, sizeof(buf) - 1);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %u", &ppid) != 1)
		return 0;
	return ppid;
}

/*
 * The shell that ran `gtrace start`: its parent, unless that is a subshell
 * about to exit, as in `out=$(gtrace start ... 2>err)`: a forked copy of
 * its own parent (same executable, same command line); then that parent.
 */
static uint32_t gt_d_shell(void)
{
	uint32_t pid = (uint32_t)getppid();
	char a[4096], b[4096];

	for (int depth = 0; depth < 4; depth++) {
		uint32_t pp = gt_d_ppid(pid);
		ssize_t na, nb;

		if (pp <= 1)
			break;
		na = gt_d_proc_read(pid, "exe", a, sizeof(a));
		nb = gt_d_proc_read(pp, "exe", b, sizeof(b));
		if (na <= 0 || na != nb || memcmp(a, b, (size_t)na))
			break;
		na = gt_d_proc_read(pid, "cmdline", a, sizeof(a));
		nb = gt_d_proc_read(pp, "cmdline", b, sizeof(b));
		if (na <= 0 || na != nb || memcmp(a, b, (size_t)na))
			break;
		pid = pp;
	}
	return pid;
}

int gt_daemon_start(const struct gt_daemon_opts *o, char *sock, size_t sockcap, char *err,
		    size_t errcap)
{
	char state[PATH_MAX], path[PATH_MAX + 16], buf[PATH_MAX + 64];
	int lfd = -1, sfd = -1, pfd[2] = { -1, -1 }, ret, st;
	size_t got = 0;
	pid_t pid, dpid = 0;
	/* whoever ran `gtrace start` (the pipeline's shell): the kernel events' root */
	uint32_t shell = gt_d_shell();

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
	if (o->system) {
		/* one system session at a time: refused here, before any fork */
		sfd = gt_system_claim(err, errcap);
		if (sfd < 0) {
			close(lfd);
			gt_sess_remove(o->name); /* the state directory made above */
			return sfd;
		}
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		ret = -errno;
		close(lfd);
		if (sfd >= 0)
			close(sfd);
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
		if (sfd >= 0) /* out of the way of fds 3 and 4 first */
			sfd = fcntl(sfd, F_DUPFD_CLOEXEC, 10);
		if (lfd < 0 || pfd[1] < 0 || dup2(lfd, 3) < 0 || dup2(pfd[1], 4) < 0)
			_exit(1);
		/* --system: the registry's lock as fd 5 (collector/system.c) */
		if (o->system && (sfd < 0 || dup2(sfd, 5) < 0))
			_exit(1);
		close_range(o->system ? 6 : 5, ~0u, 0);
		gt_d_main(o, state, 4, shell);
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
		char *nl = strchr(buf + 3, '\n');

		if (nl) {
			/* a warning the caller prints (kernel events skipped) */
			*nl = '\0';
			gt_d_err(err, errcap, "%s", nl + 1);
		} else if (err && errcap) {
			err[0] = '\0';
		}
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
	if (sfd >= 0)
		close(sfd); /* the collector holds its own copy */
	if (ret < 0 && gt_sess_probe(o->name) == GT_SESS_DEAD)
		gt_sess_remove(o->name);
	return ret;
}
