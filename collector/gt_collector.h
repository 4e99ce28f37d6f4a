/* SPDX-License-Identifier: MIT */
/*
 * gt_collector.h - the collector side of a gtrace session, as the CLI uses it.
 *
 * A collector owns the session socket that producers join (docs/abi.md),
 * the memfd segments they attach, the child's stdout/stderr pipes and the
 * process table, and turns all of them into events for one sink (normally a
 * gt_writer).  It is single-threaded: one thread calls gt_collector_poll()
 * in a loop, which waits on every descriptor and drains every ring about
 * once a millisecond.  Profiles, clocks and operation names live here too
 * because both the collector and `gtrace run` need them.
 *
 * All functions return >= 0 on success or a negative errno / -GT_E* code.
 */
#ifndef GT_COLLECTOR_H
#define GT_COLLECTOR_H

#include <errno.h> /* the -E codes the functions below return */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gtrace/abi.h>

#include "format/gt_writer.h"

/* ---- profiles (profile.c, docs/profiles.md) ---- */

#define GT_PROFILE_NAME_MAX 255u
#define GT_PROFILE_LEVEL_OFF 0u
#define GT_PROFILE_LEVEL_ALL 5u

/* One `provider` line: enable @pattern up to @level for @keywords. */
struct gt_profile_rule {
	char pattern[GT_NAME_MAX + 1];
	uint8_t level;     /* 0 (off) .. 5 (verbose) */
	uint64_t keywords; /* ~0 = all */
};

/* A parsed profile: provider rules (last match wins) and buffer sizes. */
struct gt_profile {
	char name[GT_PROFILE_NAME_MAX + 1]; /* built-in name or file path */
	uint32_t ring_size;                 /* bytes per thread ring, power of two */
	uint32_t nslots;                    /* ring slots (threads) per process */
	uint32_t schema_size;               /* schema region bytes, multiple of 4096 */
	uint32_t nrules;
	struct gt_profile_rule rules[GT_RULES_MAX];
};

/**
 * gt_profile_builtin() - fill @p with the built-in profile @name.
 * @name: "default" (every provider, every level, all keywords).  Copies.
 * Return: 0, or -ENOENT when no built-in has that name.
 */
int gt_profile_builtin(const char *name, struct gt_profile *p);

/**
 * gt_profile_parse() - parse profile text (docs/profiles.md).
 * @text/@len: the file contents, untrusted; need not be NUL-terminated.
 * @fname: the name used in error messages.  @p: filled on success.
 * @err/@errcap: on failure receives "FILE:LINE: what is wrong (expected ...)".
 * Return: 0, or -EINVAL with @err set.
 */
int gt_profile_parse(const char *text, size_t len, const char *fname, struct gt_profile *p,
		     char *err, size_t errcap);

/**
 * gt_profile_load() - resolve `--profile ARG`: a built-in name, else a file.
 * Return: 0; -ENOENT / -errno / -EINVAL with a human message in @err.
 */
int gt_profile_load(const char *arg, struct gt_profile *p, char *err, size_t errcap);

/**
 * gt_profile_enabled() - does @p record an event of @provider at @level with
 * @keywords?  The last rule whose pattern matches decides.  Providers named
 * "gtrace.*" (the collector's own) are enabled when no rule matches them;
 * any other provider is disabled.
 */
bool gt_profile_enabled(const struct gt_profile *p, const char *provider, unsigned int level,
			uint64_t keywords);

/** gt_glob_match() - match @s against @pat with '*' and '?' (no classes). */
bool gt_glob_match(const char *pat, const char *s);

/* ---- clock (clock.c) ---- */

/** gt_clock_choose() - GT_CLOCK_TSC if the TSC is invariant here, else GT_CLOCK_MONO. */
uint32_t gt_clock_choose(void);

/** gt_clock_ticks() - read the event clock @clock (enum gt_clock). */
uint64_t gt_clock_ticks(uint32_t clock);

/** gt_clock_sample() - read @clock, CLOCK_MONOTONIC and CLOCK_REALTIME at one instant. */
void gt_clock_sample(uint32_t clock, struct gt_clock_sample *s);

/* ---- operation names and file names (opname.c) ---- */

#define GT_OP_NAME_MAX 100u

/**
 * gt_op_sanitize() - make an operation name safe for a file name.
 * Every byte outside [A-Za-z0-9._-] becomes '_', leading dots are dropped,
 * the result is cut at GT_OP_NAME_MAX bytes, and an empty result is "op".
 * @out/@cap: receives the NUL-terminated name; @cap >= 3.
 */
void gt_op_sanitize(const char *in, char *out, size_t cap);

/**
 * gt_op_path() - "DIR/NAME_YYYYMMDD_HHMMSS.gtrace", or "..._N.gtrace" for @n >= 2.
 * Return: bytes written, or -ENAMETOOLONG if @cap is too small.
 */
int gt_op_path(const char *dir, const char *name, const struct tm *tm, unsigned int n, char *out,
	       size_t cap);

/* ---- the event sink (normally a gt_writer) ---- */

/* Where the collector sends what it collects; each returns like the gt_writer_* call. */
struct gt_sink {
	void *ctx;
	int (*add_schema)(void *ctx, const struct gt_schema_desc *s);
	int (*add_event)(void *ctx, uint64_t ts, uint32_t pid, uint32_t tid, uint32_t schema_id,
			 const void *payload, size_t len);
	int (*add_lost)(void *ctx, uint32_t pid, uint32_t tid, uint64_t n);
	int (*add_corrupt)(void *ctx, uint32_t pid, uint64_t n);
	int (*clock)(void *ctx, const struct gt_clock_sample *s);
};

/** gt_sink_writer() - a sink that forwards to @w (borrowed, must outlive the sink). */
void gt_sink_writer(struct gt_sink *sink, struct gt_writer *w);

/* ---- the collector (collector.c, session.c, segment.c, drain.c, ...) ---- */

struct gt_collector;

struct gt_collector_opts {
	uint32_t clock;                   /* enum gt_clock; 0 = gt_clock_choose() */
	const struct gt_profile *profile; /* copies; NULL = built-in default */
	struct gt_sink sink;              /* copies the struct; ctx is borrowed */
	bool listen;                      /* create the session socket */
	const char *session_dir;          /* NULL = $XDG_RUNTIME_DIR/gtrace or /tmp/gtrace-UID */
	bool threaded; /* drive the sink from a second thread so compression never delays a drain */
};

/* Counters, for the summary line and tests. */
struct gt_collector_stats {
	uint64_t events;   /* events handed to the sink and accepted */
	uint64_t lost;     /* events producers reported lost */
	uint64_t corrupt;  /* records/schemas/segments rejected as malformed */
	uint64_t segments; /* segments attached over the session's life */
	int sink_err;      /* first hard error the sink returned (0 = none) */
	bool partial[2];   /* stdout/stderr passthrough ended without a newline */
};

/**
 * gt_collector_new() - create a collector and, with @o->listen, its socket.
 * @o: copies.  @out: owned, free with gt_collector_free().
 * Return: 0 or -errno (socket, directory, epoll).
 */
int gt_collector_new(const struct gt_collector_opts *o, struct gt_collector **out);

/** gt_collector_free() - close every descriptor and mapping, remove the socket.  Accepts NULL. */
void gt_collector_free(struct gt_collector *c);

/** gt_collector_session() - the socket path for GTRACE_SESSION (borrowed), or NULL. */
const char *gt_collector_session(const struct gt_collector *c);

/** gt_collector_watch() - make gt_collector_poll() return 1 when @fd is readable. */
int gt_collector_watch(struct gt_collector *c, int fd);

/**
 * gt_collector_add_output() - capture the child's @stream (1 stdout, 2 stderr).
 * @fd: read end of the pipe; takes.  Every byte read is written unchanged to
 * @out_fd at once, and each complete line becomes a gtrace.output/line event
 * of process @pid.
 */
int gt_collector_add_output(struct gt_collector *c, int fd, int stream, int out_fd, uint32_t pid);

/** gt_collector_outputs_open() - true while any captured pipe is still open. */
bool gt_collector_outputs_open(const struct gt_collector *c);

/**
 * gt_collector_poll() - wait at most @timeout_ms (or until the next drain
 * tick) for sockets, pipes and watched fds; serve them; drain when due.
 * Return: 1 if a watched fd is readable, 0 otherwise, -errno on failure.
 */
int gt_collector_poll(struct gt_collector *c, int timeout_ms);

/** gt_collector_drain() - drain every attached segment once and feed the sink. */
int gt_collector_drain(struct gt_collector *c);

/** gt_collector_proc_start() - record a gtrace.process/start the collector saw itself. */
void gt_collector_proc_start(struct gt_collector *c, uint32_t pid, uint32_t ppid, const char *exe,
			     const char *argv);

/**
 * gt_collector_proc_exit() - record process @pid's exit (e.g. from waitpid).
 * @status: exit code or -1; @signal: 0 if none; @core: dumped core.
 */
void gt_collector_proc_exit(struct gt_collector *c, uint32_t pid, int status, int signal,
			    bool core);

/**
 * gt_collector_finish() - end of session: flush partial output lines, drain
 * every segment a final time, record exits, write a last clock sample.
 * The collector stays valid for gt_collector_stats() and _free().
 */
int gt_collector_finish(struct gt_collector *c);

/** gt_collector_stats() - copy the counters into @st. */
void gt_collector_stats(const struct gt_collector *c, struct gt_collector_stats *st);

#endif /* GT_COLLECTOR_H */
