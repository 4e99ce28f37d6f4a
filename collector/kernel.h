/* SPDX-License-Identifier: MIT */
/*
 * kernel.h - kernel events for a gtrace session, through libtracefs and
 * libtraceevent (docs/kernel.md).
 *
 * A session that asks for kernel events gets a private ftrace instance,
 * "gtrace_<session>_<collector pid>", with the selected events enabled,
 * filtered to the traced process tree (set_event_pid + event-fork) and
 * stamped on the session's event clock (x86-tsc or mono), so kernel and user
 * events share one timeline.  The collector's loop calls gt_kernel_drain()
 * about once a millisecond; it reads whatever the per-CPU ring buffers hold
 * without blocking, declares a writer schema for each event type the first
 * time it meets one (built from the kernel's own format), and hands each
 * event over in the ring payload encoding of gtrace/abi.h.
 *
 * Usage:
 *
 *	gt_kernel_open(&opts, &k, err, sizeof(err));   (warn with err, go on)
 *	gt_kernel_add_pid(k, child);                   (if not known at open)
 *	gt_kernel_start(k);
 *	loop: gt_kernel_drain(k, &out); now and then gt_kernel_report_lost(k, &out);
 *	gt_kernel_stop(k); gt_kernel_drain(k, &out); gt_kernel_report_lost(k, &out);
 *	gt_kernel_close(k);
 *
 * Not thread-safe: one thread drives one struct gt_kernel.  All functions
 * return >= 0 on success or a negative errno / -GT_E* code.
 */
#ifndef GT_KERNEL_H
#define GT_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gtrace/abi.h>

#include "format/gt_writer.h"

#define GT_KERNEL_SYS_MAX 64u	  /* bytes of a system name or pattern, NUL included */
#define GT_KERNEL_EVENT_MAX 128u  /* bytes of an event name or pattern, NUL included */
#define GT_KERNEL_FILTER_MAX 512u /* bytes of an ftrace filter expression, NUL included */
#define GT_KERNEL_SPECS_MAX 64u	  /* selections per session */
#define GT_KERNEL_CPUS_MAX 1024u  /* per-CPU buffers we read */

/*
 * One event selection: "system:event" with shell wildcards ('*', '?', '[..]')
 * in either part, optionally "... if FILTER" where FILTER is an ftrace filter
 * expression written to each matched event's `filter` file.
 */
struct gt_kernel_spec {
	char system[GT_KERNEL_SYS_MAX];
	char event[GT_KERNEL_EVENT_MAX];
	char filter[GT_KERNEL_FILTER_MAX]; /* "" = no filter */
};

/**
 * gt_kernel_spec_parse() - parse one selection, e.g.
 * "sched:sched_process_*", "syscalls:sys_enter_openat if dfd == -100",
 * "block:*".
 * @text: NUL-terminated, untrusted; leading and trailing blanks are ignored.
 * @out: filled on success.
 * @err/@errcap: on failure receives a message naming what is wrong and what
 * is expected; may be NULL/0.
 * Return: 0, or -EINVAL (syntax) / -ENAMETOOLONG (a part too long), with
 * @err set.  Thread-safe.  Since 0.1.
 */
int gt_kernel_spec_parse(const char *text, struct gt_kernel_spec *out, char *err, size_t errcap);

/**
 * gt_kernel_builtin() - expand a built-in set of selections.
 * @name: "kernel": process and thread lifecycle (sched_process_fork, _exec,
 * _exit, task_newtask), context switches (sched_switch, sched_wakeup) and
 * system calls (raw_syscalls:sys_enter, sys_exit).
 * @out/@cap: receives up to @cap specs.
 * Return: the number of specs in the set (may exceed @cap, then only @cap
 * were written), or -ENOENT when no set has that name.  Since 0.1.
 */
int gt_kernel_builtin(const char *name, struct gt_kernel_spec *out, size_t cap);

/**
 * gt_kernel_instance_name() - "gtrace_<session>_<pid>" with every byte of
 * @session outside [A-Za-z0-9._-] replaced by '_' and @session cut to 64 bytes.
 * Return: bytes written, or -ENAMETOOLONG if @cap is too small.
 */
int gt_kernel_instance_name(const char *session, uint32_t pid, char *out, size_t cap);

/* What gt_kernel_open() sets up.  Strings and specs are copied. */
struct gt_kernel_opts {
	/* session/op name, for the instance name */
	const char *session;
	/* full instance name; NULL = gt_kernel_instance_name(session, getpid()) */
	const char *instance;
	/* enum gt_clock of the session: TSC -> trace clock x86-tsc, MONO -> mono */
	uint32_t clock;
	/* the selections; at most GT_KERNEL_SPECS_MAX */
	const struct gt_kernel_spec *specs;
	size_t nspecs;
	/* no pid filter: every process on the machine */
	bool system_wide;
	/*
	 * also enable sched_process_fork/exec/exit and task_newtask for the
	 * process callback (written to the file only if a spec selects them)
	 */
	bool track_procs;
	/* per-CPU ring buffer size in KiB; 0 = 4096 (docs/kernel.md: sizing) */
	uint32_t buffer_kb;
	/* first pid to follow; 0 = add later with gt_kernel_add_pid() */
	uint32_t root_pid;
};

struct gt_kernel;

/**
 * gt_kernel_open() - create and configure the session's ftrace instance.
 * Tracing stays off until gt_kernel_start().  Mounts tracefs if it is not
 * mounted and we may.  Every selection must match at least one event.
 * First removes the instances of collectors that died
 * (gt_kernel_cleanup_stale()).  Unless system-wide, set_event_pid always
 * holds a pid no task can have, so the list never becomes empty (which
 * would mean every process) when the followed processes have exited.
 * @o: copies.  @out: owned, free with gt_kernel_close().
 * @err/@errcap: on failure a one-line message for the collector's warning;
 * without permission it reads "kernel events skipped: /sys/kernel/tracing
 * not mounted or not accessible (need root): <reason>".
 * Return: 0; -EACCES/-EPERM/-ENODEV (no tracefs access); -ENOENT (a selection
 * matches no event); -EINVAL (bad filter, clock not offered, bad options);
 * -EEXIST (an instance of that name exists); -ENOEXEC (libtraceevent cannot
 * parse a selected event's format); -ENOMEM; other -errno.
 */
int gt_kernel_open(const struct gt_kernel_opts *o, struct gt_kernel **out, char *err,
		   size_t errcap);

/**
 * gt_kernel_add_pid() - follow process @pid (and, through event-fork, every
 * descendant it forks from now on).  Safe before and after start.
 * Return: 0, or -errno writing set_event_pid.  No-op when system-wide.
 */
int gt_kernel_add_pid(struct gt_kernel *k, uint32_t pid);

/**
 * gt_kernel_start() - turn tracing on.
 * Return: 0; -EINVAL when neither system-wide nor any pid was given
 * (tracing everything by accident is refused); -errno.
 */
int gt_kernel_start(struct gt_kernel *k);

/** gt_kernel_stop() - turn tracing off; buffered events can still be drained. */
int gt_kernel_stop(struct gt_kernel *k);

/* What gt_kernel_proc reports. */
enum gt_kernel_proc_type {
	GT_KERNEL_PROC_FORK = 1, /* @pid/@tid: the new task; @ppid: the parent's process */
	GT_KERNEL_PROC_EXEC = 2, /* @pid: the process; @path: the file executed */
	GT_KERNEL_PROC_EXIT = 3, /* @tid exited; @thread false when its whole process is gone */
};

/* A process lifecycle change seen in the kernel events. */
struct gt_kernel_proc {
	uint32_t type;	  /* enum gt_kernel_proc_type */
	uint64_t ts;	  /* event clock ticks */
	uint32_t pid;	  /* process (tgid) concerned */
	uint32_t tid;	  /* task concerned */
	uint32_t ppid;	  /* FORK: the parent's process (tgid); else 0 */
	bool thread;	  /* FORK: a new thread, not a process; EXIT: only a thread ended */
	const char *comm; /* task name or ""; borrowed until the callback returns */
	const char *path; /* EXEC: file name; else ""; borrowed until the callback returns */
};

/*
 * Where gt_kernel_drain() and gt_kernel_report_lost() send what they find.
 * Each callback returns like the matching gt_writer_* call; a negative return
 * from alloc_id/add_schema/add_event stops the drain with that error (the
 * events already read are lost and counted in gt_kernel_stats.rejected).
 * add_event returning -GT_ECORRUPT or -ENOENT only counts the event.
 */
struct gt_kernel_out {
	void *ctx;
	/* a fresh schema id in the file's id space (the collector owns it) */
	int (*alloc_id)(void *ctx, uint32_t *id);
	int (*add_schema)(void *ctx, const struct gt_schema_desc *s);
	int (*add_event)(void *ctx, uint64_t ts, uint32_t pid, uint32_t tid, uint32_t schema_id,
			 const void *payload, size_t len);
	/* events lost by the kernel buffer of CPU @tid, reported with @pid 0; may be NULL */
	int (*add_lost)(void *ctx, uint32_t pid, uint32_t tid, uint64_t n);
	/* process lifecycle; may be NULL */
	void (*proc)(void *ctx, const struct gt_kernel_proc *p);
};

/**
 * gt_kernel_drain() - read every per-CPU buffer without blocking and hand the
 * events to @out.  Reads at most a bounded number of pages per CPU per call,
 * so a flood cannot stall the caller's loop (call again while it returns
 * > 0 to empty the buffers at the end); an idle drain costs one poll() over
 * all CPUs.  Events of one CPU come in time order; across CPUs they do not
 * (the writer sorts each chunk by time).
 * @out: borrowed for the call.
 * Return: number of records read from the buffers (handed to @out, skipped
 * as not selected, or rejected; 0 = the buffers were empty), or the first
 * negative value a callback returned, or -errno from poll()/read().
 */
int gt_kernel_drain(struct gt_kernel *k, const struct gt_kernel_out *out);

/**
 * gt_kernel_reset_schemas() - forget which schemas were declared, so that
 * the next drain declares them again with fresh ids (call after the caller
 * starts a new file, e.g. on rotate).
 */
void gt_kernel_reset_schemas(struct gt_kernel *k);

/**
 * gt_kernel_lost() - events the kernel lost so far, per CPU: the sum of the
 * "overrun:", "commit overrun:" and "dropped events:" lines of the instance's
 * per_cpu/cpuN/stats.  Counts only grow.
 * @counts/@cap: receives up to @cap per-CPU totals (index = CPU).
 * Return: the number of CPUs (may exceed @cap), or -errno.
 */
int gt_kernel_lost(struct gt_kernel *k, uint64_t *counts, size_t cap);

/**
 * gt_kernel_report_lost() - read the per-CPU loss counters and, for each CPU
 * whose count grew since the last report, call @out->add_lost(ctx, 0, cpu,
 * increase).  Costs one small file read per CPU: call it about once a
 * second and once after the final drain, not on every drain.
 * Return: total events lost so far (all CPUs, capped at INT_MAX), or -errno.
 */
int gt_kernel_report_lost(struct gt_kernel *k, const struct gt_kernel_out *out);

/* Counters, for the summary line and tests. */
struct gt_kernel_stats {
	uint64_t events;   /* events accepted by out->add_event */
	uint64_t skipped;  /* events read but not selected (e.g. kept for track_procs) */
	uint64_t rejected; /* events out->add_event refused, or unparsable */
	uint64_t lost;	   /* last total seen by gt_kernel_report_lost() / gt_kernel_lost() */
	uint64_t pages;	   /* sub-buffers read */
	uint32_t schemas;  /* schemas declared to the current file */
	uint32_t ncpus;	   /* per-CPU buffers read */
};

/** gt_kernel_stats() - copy the counters into @st. */
void gt_kernel_stats(const struct gt_kernel *k, struct gt_kernel_stats *st);

/** gt_kernel_instance() - the ftrace instance name (borrowed, valid until close). */
const char *gt_kernel_instance(const struct gt_kernel *k);

/**
 * gt_kernel_close() - turn tracing off, close the buffers and remove the
 * instance.  Accepts NULL.  Return: 0, or -errno if the instance could not
 * be removed (it is then left for gt_kernel_cleanup_stale()).
 */
int gt_kernel_close(struct gt_kernel *k);

/**
 * gt_kernel_cleanup_stale() - remove the ftrace instances "gtrace_*_<pid>"
 * whose collector process <pid> no longer exists (for `gtrace stop --all`,
 * and at every gt_kernel_open()).  A dead collector's pid reused by a live
 * process keeps its instance until that process is gone too: a live
 * collector's instance is never removed.
 * @removed_names/@cap: if not NULL, receives the first names removed,
 * comma-separated, NUL-terminated.
 * Return: number of instances removed, or -errno if tracefs is not accessible.
 */
int gt_kernel_cleanup_stale(char *removed_names, size_t cap);

#endif /* GT_KERNEL_H */
