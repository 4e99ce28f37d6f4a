/* SPDX-License-Identifier: MIT */
/*
 * gt_import.h - nested sessions: an inner operation's file forwarded to the
 * outer long-lived session (import.c, docs/sessions.md "Nested sessions").
 *
 * All functions return >= 0 on success or a negative errno / -GT_E* code;
 * those taking @err/@errcap leave a one-line human message there.
 */
#ifndef GT_IMPORT_H
#define GT_IMPORT_H

#include <stddef.h>
#include <stdint.h>

struct gt_collector;

/* What gt_import_file() did. */
struct gt_import_stats {
	uint64_t events;  /* events queued to the collector's sink */
	uint64_t skipped; /* events left out (kernel events the session records itself) */
	uint64_t bad;	  /* events that could not be re-encoded */
	uint64_t lost;	  /* lost counts carried over */
};

/**
 * gt_import_file() - feed every event of the .gtrace file @path (untrusted)
 * into collector @c's normal batch/sink path: its schemas are interned under
 * @c's ids, its events keep their pid, tid and timestamps, its lost counts
 * are added.  Kernel events (providers "kernel.*") are left out when @c
 * records kernel events itself (its own process tree covers the command).
 * Must run on @c's drain thread.  @st: filled, may be NULL.
 * Return: 0; -EXDEV when the file's event clock differs from @c's (the
 * timestamps would not line up); -EINVAL (not an absolute path); the
 * reader's error (-errno, -GT_ECORRUPT, ...) otherwise.
 */
int gt_import_file(struct gt_collector *c, const char *path, struct gt_import_stats *st,
		   char *err, size_t errcap);

/**
 * gt_import_outer() - the long-lived session a GTRACE_SESSION value @sock
 * points into (ROOT/<name>/s<pid>.0 under this user's session root).
 * @name/@cap: receives the session name.
 * Return: 0, or -ENOENT when @sock is NULL, empty or not a long-lived
 * session of this user (e.g. the socket of a `gtrace run`).
 */
int gt_import_outer(const char *sock, char *name, size_t cap);

/**
 * gt_import_request() - ask session @outer's collector to import the
 * complete file @path (made absolute here).
 * Return: the number of events imported, or a negative code with @err set.
 */
int64_t gt_import_request(const char *outer, const char *path, char *err, size_t errcap);

#endif /* GT_IMPORT_H */
