/* SPDX-License-Identifier: MIT */
/*
 * gt_daemon.h - long-lived sessions: `gtrace start/stop/rotate/status/mark`.
 *
 * A long-lived session is a background collector (daemon.c) that owns one
 * state directory, ROOT/<name>/ (sessdir.c), where ROOT is
 * $XDG_RUNTIME_DIR/gtrace/sessions or /tmp/gtrace-<uid>/sessions, every
 * level mode 0700 and owned by the user.  The directory holds:
 *
 *   lock            flock()ed by the collector for its whole life: a held
 *                   lock means alive, a free one means the collector died
 *   pid             the collector's pid (informative)
 *   control.sock    SOCK_SEQPACKET control socket: one JSON request, one
 *                   JSON reply per connection (docs/sessions.md)
 *   s<pid>.0        the producer socket that GTRACE_SESSION names
 *   status.json     name, pid, mode, current file, counters; rewritten
 *                   about once a second, so it survives a collector's death
 *   collector.log   the collector's stderr
 *
 * All functions return >= 0 on success or a negative errno / -GT_E* code;
 * those taking @err/@errcap also leave a one-line human message there.
 */
#ifndef GT_DAEMON_H
#define GT_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define GT_SESS_NAME_MAX 48u      /* keeps socket paths within sun_path */
#define GT_SESS_MSG_MAX (64u << 10) /* largest control request or reply */

/** gt_sess_name_ok() - is @name a valid session name ([A-Za-z0-9._-], no leading dot)? */
bool gt_sess_name_ok(const char *name);

/**
 * gt_sess_root() - the per-user sessions directory, created (0700) if missing.
 * @out/@cap: receives the path.  Return: 0, -EPERM when a level is not a
 * private directory of this user (a symlink, another owner, group/other
 * access), or -errno.
 */
int gt_sess_root(char *out, size_t cap);

/** gt_sess_path() - "ROOT/@name/@file" (@file may be NULL for the directory). */
int gt_sess_path(const char *name, const char *file, char *out, size_t cap);

enum gt_sess_state {
	GT_SESS_NONE = 0,  /* no such session */
	GT_SESS_ALIVE = 1, /* its collector holds the lock */
	GT_SESS_DEAD = 2,  /* state left behind by a collector that died */
};

/** gt_sess_probe() - is session @name alive, dead or absent?  Never blocks. */
enum gt_sess_state gt_sess_probe(const char *name);

/**
 * gt_sess_list() - the names of every session directory of this user, sorted.
 * @out: owned, free with gt_sess_list_free().  Return: the count or -errno.
 */
int gt_sess_list(char ***out);
void gt_sess_list_free(char **names, int n);

/**
 * gt_sess_list_strerror() - explain gt_sess_list()'s failure @ret (-errno)
 * in @err/@errcap: the directory at fault and what to do.
 */
void gt_sess_list_strerror(int ret, char *err, size_t errcap);

/**
 * gt_sess_resolve() - which session a command addresses: @opt (--session)
 * if given, else the one $GTRACE_SESSION points into, else the only live
 * session.  @name/@cap receives it.  Return: 0; -ENOENT (none, or the named
 * one does not exist) or -EEXIST (several, the message names them).
 */
int gt_sess_resolve(const char *opt, char *name, size_t cap, char *err, size_t errcap);

/**
 * gt_sess_request() - send one JSON request to session @name's collector and
 * wait for its reply (at most @timeout_ms; rotation and stop wait for files
 * to be complete on disk).
 * @req: borrowed.  @reply: owned (json_decref), set only on success.
 * Return: 0 (the reply says "ok": true); -EREMOTEIO when the collector
 * refused (@err: "session 'NAME': its reason"); -ECONNREFUSED when the
 * collector is gone; -errno.
 */
int gt_sess_request(const char *name, json_t *req, int timeout_ms, json_t **reply, char *err,
		    size_t errcap);

/** gt_sess_status_file() - the last status.json a collector wrote, or NULL.  Owned. */
json_t *gt_sess_status_file(const char *name);

/**
 * gt_sess_remove() - remove the state directory of a dead session.
 * Return: 0, -EBUSY when it is alive after all, -errno.
 */
int gt_sess_remove(const char *name);

/* What `gtrace start` asks for. */
struct gt_daemon_opts {
	const char *name;        /* session name, gt_sess_name_ok() */
	const char *op;          /* first operation name, sanitised */
	const char *dir;         /* output directory, absolute, exists */
	const char *profile_arg; /* --profile argument, already checked to load */
	bool memory;             /* --mode memory: a window in memory, files only by snapshot */
	uint64_t window_bytes;   /* its size (gt_window_parse_size), when @memory */
	bool system;             /* --system: enable running processes (collector/system.c) */
};

/**
 * gt_daemon_start() - start the background collector of session @o->name and
 * wait until it is ready (file created, both sockets listening).
 * @sock/@sockcap: receives the producer socket path for GTRACE_SESSION.
 * Return: the collector's pid; -EEXIST when the session is already running;
 * -errno or -GT_E* (with @err) when the collector could not start.
 */
int gt_daemon_start(const struct gt_daemon_opts *o, char *sock, size_t sockcap, char *err,
		    size_t errcap);

#endif /* GT_DAEMON_H */
