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
#include <sys/types.h>
#include <time.h>

#include <gtrace/abi.h>

#include "format/gt_writer.h"
#include "kernel.h"

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

/* A parsed profile: provider rules (last match wins), buffer sizes, file options. */
struct gt_profile {
	char name[GT_PROFILE_NAME_MAX + 1]; /* built-in name or file path */
	uint32_t ring_size;                 /* bytes per thread ring, power of two */
	uint32_t nslots;                    /* ring slots (threads) per process */
	uint32_t schema_size;               /* schema region bytes, multiple of 4096 */
	bool sync_full;                     /* `file sync=full`: fsync files when complete */
	uint32_t nrules;
	struct gt_profile_rule rules[GT_RULES_MAX];
	/* kernel events (`kernel` lines, docs/kernel.md); nkspecs == 0: none */
	bool ksystem_wide;   /* `kernel system-wide`: no pid filter */
	uint32_t kbuffer_kb; /* `kernel buffer_kb=N`; 0 = the module's default */
	uint32_t nkspecs;
	struct gt_kernel_spec kspecs[GT_KERNEL_SPECS_MAX];
};

/**
 * gt_profile_builtin() - fill @p with the built-in profile @name.
 * @name: "default" (every provider, every level, all keywords) or "kernel"
 * (default plus gt_kernel_builtin("kernel")).  Copies.
 * Return: 0, or -ENOENT when no built-in has that name.
 */
int gt_profile_builtin(const char *name, struct gt_profile *p);

/**
 * gt_profile_copy() - copy @src to @dst: its settings and the rules and
 * kernel selections in use, not the unused rest of the arrays.
 */
void gt_profile_copy(struct gt_profile *dst, const struct gt_profile *src);

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
 * gt_op_mkdir_p() - create DIR and its missing parents (mode 0777 & ~umask).
 * Return: 0 when @dir is (now) a directory; -ENOTDIR, -ENAMETOOLONG or the
 * -errno of the mkdir/stat that failed.
 */
int gt_op_mkdir_p(const char *dir);

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
	const char *name; /* the file written, for messages; borrowed, may be NULL */
	int (*add_schema)(void *ctx, const struct gt_schema_desc *s);
	int (*add_event)(void *ctx, uint64_t ts, uint32_t pid, uint32_t tid, uint32_t schema_id,
			 const void *payload, size_t len);
	int (*add_lost)(void *ctx, uint32_t pid, uint32_t tid, uint64_t n);
	int (*add_corrupt)(void *ctx, uint32_t pid, uint64_t n);
	int (*clock)(void *ctx, const struct gt_clock_sample *s);
	int (*flush)(void *ctx); /* seal the open chunk; may be NULL */
};

/**
 * gt_sink_writer() - a sink that forwards to @w (borrowed, must outlive the
 * sink); its name is NULL, set it to name the file in messages.
 */
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
	uint64_t detached; /* segments detached: their process left */
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
 * @out_fd at once (@out_fd -1: record only, the output relay passes the bytes
 * through), and each complete line becomes a gtrace.output/line event of
 * process @pid.
 */
int gt_collector_add_output(struct gt_collector *c, int fd, int stream, int out_fd, uint32_t pid);

/* the output relay's process name (/proc/PID/comm) */
#define GT_OUTPUT_RELAY_NAME "gtrace-relay"

/**
 * gt_output_relay_fork() - start the output relay (collector/output.c): a
 * forked child that reads the command's pipes @in_out/@in_err (borrowed: the
 * caller closes its copies), writes every byte to our stdout/stderr and
 * copies it to @col_out/@col_err, the read ends the collector captures with
 * out_fd -1 (owned).  @ctl (owned): write "q" and close it when the session
 * ends; if gtrace dies instead, the relay keeps passing output through so
 * that the command never writes into a pipe without a reader.  @pid: the
 * relay's pid, to reap.  It forks: call it while the process has a single
 * thread.  The child closes every fd but 0..2 and its own five.
 * Return: 0 or -errno (nothing started, all closed).
 */
int gt_output_relay_fork(int in_out, int in_err, int *col_out, int *col_err, int *ctl, pid_t *pid);

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
 * Once per process: ignored for a pid with no start record or whose exit was
 * already recorded (e.g. from its segment before waitpid returned).
 */
void gt_collector_proc_exit(struct gt_collector *c, uint32_t pid, int status, int signal,
			    bool core);

/**
 * gt_collector_finish() - end of session: flush partial output lines, drain
 * every segment a final time, record exits, write a last clock sample.
 * The collector stays valid for gt_collector_stats() and _free().
 */
int gt_collector_finish(struct gt_collector *c);

/**
 * gt_collector_mark() - record a gtrace.session/mark event with field text.
 * @pid: the process that asked for it (tid is the same).  @text/@len: copies;
 * cut to fit one event.  Every ring is drained first, so events committed
 * before the call sort before the mark.  Call from the polling thread.
 */
void gt_collector_mark(struct gt_collector *c, uint32_t pid, const char *text, size_t len);

/**
 * gt_collector_seal() - ask the sink to seal its open chunk once everything
 * queued so far has reached it (asynchronous: the writer thread does it).
 * Long-lived sessions call it about once a second so that a collector that
 * dies loses at most the last second.  Call from the polling thread.
 */
void gt_collector_seal(struct gt_collector *c);

/**
 * gt_collector_set_sink() - switch to @sink between two drain rounds
 * (rotation).  Drains every ring and hands everything queued to the old
 * sink, waits until the writer thread is idle, declares every schema known
 * so far to the new sink (in id order), clears a previous sink error and
 * installs @sink.  Events drained before the call reached the old sink,
 * every later one goes to the new sink: none is lost or doubled.  After it
 * returns the old sink is no longer used (its writer may be closed).
 * @sink: copies the struct; ctx is borrowed.  Call from the polling thread.
 * Return: 0, or the first error the new sink returned for a schema (the
 * switch happens anyway).
 */
int gt_collector_set_sink(struct gt_collector *c, const struct gt_sink *sink);

/**
 * gt_collector_switch_sink() - like gt_collector_set_sink(), without waiting.
 * Drains every ring and queues the switch behind everything queued so far;
 * the sink side (the writer thread, or inline) installs @sink when it gets
 * there, declares every schema to it, and then calls @done(@arg) on its own
 * thread: from then on the old sink is no longer used (close it, but not
 * from @done if that blocks; hand it to another thread).  The drain loop is
 * never paused, so no ring overflows while the old file is being sealed.
 * @sink: copies the struct; ctx is borrowed.  Call from the polling thread.
 * Return: 0 or -ENOMEM (nothing queued).
 */
int gt_collector_switch_sink(struct gt_collector *c, const struct gt_sink *sink,
			     void (*done)(void *arg), void *arg);

/**
 * gt_collector_kernel_open() - start the kernel events of the profile
 * (docs/kernel.md): a private ftrace instance named after @session, following
 * @root_pid and its descendants (unless the profile says system-wide), on
 * the collector's clock.  Drained by gt_collector_poll(), stopped and
 * removed by gt_collector_finish() (or gt_collector_free()).
 * @session: copies.  @err/@errcap: on failure one line for the warning.
 * Return: 1 started, 0 the profile selects no kernel events, or -errno
 * (-EACCES/-EPERM/-ENODEV: no tracefs access) with @err set.
 */
int gt_collector_kernel_open(struct gt_collector *c, const char *session, uint32_t root_pid,
			     char *err, size_t errcap);

/** gt_collector_kernel_status() - the exit status of process @pid, for the process tree. */
void gt_collector_kernel_status(struct gt_collector *c, uint32_t pid, int status, int signal);

/**
 * gt_collector_kernel_meta() - after gt_collector_finish(): write the meta
 * keys `processes` (JSON array of {pid, ppid, comm, exec, exited, status,
 * signal}) and `kernel_lost` ("cpu0=N,cpu1=M") to @w (borrowed).
 * Return: 0 (also when there were no kernel events) or -errno.
 */
int gt_collector_kernel_meta(struct gt_collector *c, struct gt_writer *w);

/** gt_collector_stats() - copy the counters into @st. */
void gt_collector_stats(const struct gt_collector *c, struct gt_collector_stats *st);

#endif /* GT_COLLECTOR_H */
