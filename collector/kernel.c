/* SPDX-License-Identifier: MIT */
/*
 * kernel.c - kernel events through a private ftrace instance.
 *
 * Each session that wants kernel events creates its own ftrace instance
 * (instances/gtrace_<session>_<pid>), so it never disturbs the top-level
 * buffer or another tracer.  The instance is configured while tracing is off:
 * event clock (x86-tsc when the session stamps user events with rdtsc, mono
 * when it uses CLOCK_MONOTONIC, so both kinds of timestamps compare directly),
 * per-CPU buffer size, overwrite off (a full buffer drops new events and
 * counts them, rather than silently overwriting older ones), the selected
 * events with their filters, and set_event_pid + event-fork to follow only
 * the traced process tree.  The per-CPU trace_pipe_raw files are read with
 * O_NONBLOCK one sub-buffer at a time and parsed with kbuffer; each event
 * type is described once to the writer from its tep_event format.  The kernel
 * is the writer of these buffers, but sizes and offsets are still checked
 * before each access: a bad record is counted, never followed.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <event-parse.h>
#include <kbuffer.h>
#include <tracefs.h>

#include <gtrace/error.h>

#include "kernel.h"

#define GT_KERNEL_PREFIX "gtrace_"
#define GT_KERNEL_DEF_BUF_KB 4096u
#define GT_KERNEL_NO_PID "4194304" /* PID_MAX_LIMIT: no task has it (gt_kernel_sentinel) */
#define GT_KERNEL_PAGES_PER_DRAIN 512u /* per CPU per call: bounds one drain's time */
#define GT_KERNEL_MAX_EVENT_ID 65535
#define GT_KERNEL_TGID_SLOTS 8192u /* power of two */
#define GT_KERNEL_PAYLOAD_MAX (GT_REC_MAX - sizeof(struct gt_rec_hdr))
#define GT_KERNEL_NOACCESS                                                                         \
	"kernel events skipped: /sys/kernel/tracing not mounted or not accessible (need root): "
#define GT_KERNEL_NAME_HINT " (expected letters, digits, _ and wildcards)"
#define GT_KERNEL_CLONE_THREAD 0x00010000ull /* CLONE_THREAD, from linux/sched.h */

enum gt_kev_proc {
	GT_KEV_NONE = 0,
	GT_KEV_FORK,
	GT_KEV_EXEC,
	GT_KEV_EXIT,
	GT_KEV_NEWTASK,
};

/* How one kernel field becomes one gtrace field. */
struct gt_kfield {
	int offset;
	int size;
	unsigned long flags; /* TEP_FIELD_IS_* */
	uint8_t type;	     /* enum gt_type */
};

/* One ftrace event type met in the buffers, with its writer schema. */
struct gt_kev {
	struct tep_event *ev; /* borrowed from k->tep */
	uint32_t sid;	      /* file schema id, 0 = not declared in this file */
	bool emit;	      /* selected by a spec (else only read for track_procs) */
	uint8_t proc;	      /* enum gt_kev_proc */
	uint32_t nfields;
	struct gt_kfield f[GT_FIELDS_MAX];
	/* fields the process callback reads, -1 when absent */
	int p_parent, p_child, p_pid, p_file, p_comm, p_flags, p_dead, p_ccomm;
};

struct gt_tgid_ent {
	uint32_t tid; /* 0 = empty */
	uint32_t tgid;
};

struct gt_kernel {
	struct tracefs_instance *inst;
	struct tep_handle *tep;
	struct kbuffer *kbuf;
	char name[128];
	struct gt_kernel_spec *specs;
	size_t nspecs;
	bool system_wide;
	bool have_pid;
	bool started;
	int ncpus;
	int *fds;	    /* per CPU trace_pipe_raw, -1 if absent */
	struct pollfd *pfd; /* the open ones, for one poll() per drain */
	int npfd;
	int *pcpu;	     /* pfd index -> CPU */
	uint64_t *lost_seen; /* per CPU, last total reported */
	size_t subbuf;
	unsigned char *page;
	unsigned char *payload;
	struct gt_kev **kev; /* indexed by event id, grown on demand */
	size_t nkev;
	struct gt_tgid_ent *tgid;
	uint32_t ntgid;
	struct gt_kernel_stats st;
};

static void gt_seterr(char *err, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void gt_seterr(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!err || !cap)
		return;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

/* ---- selections ---- */

static bool gt_name_char(int c)
{
	return isalnum(c) || c == '_' || c == '*' || c == '?' || c == '[' || c == ']' || c == '-' ||
	       c == '!' || c == '.';
}

int gt_kernel_spec_parse(const char *text, struct gt_kernel_spec *out, char *err, size_t errcap)
{
	const char *p = text, *colon, *end, *rest;
	size_t slen, elen, flen;

	if (!text || !out) {
		gt_seterr(err, errcap, "kernel event selection missing");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	while (*p == ' ' || *p == '\t')
		p++;
	colon = strchr(p, ':');
	if (!colon || colon == p) {
		gt_seterr(err, errcap,
			  "kernel event '%.80s': expected SYSTEM:EVENT (e.g. sched:sched_switch)",
			  text);
		return -EINVAL;
	}
	slen = (size_t)(colon - p);
	end = colon + 1;
	while (*end && *end != ' ' && *end != '\t')
		end++;
	elen = (size_t)(end - colon - 1);
	if (!elen) {
		gt_seterr(err, errcap,
			  "kernel event '%.80s': event name missing after ':' (use * for all)",
			  text);
		return -EINVAL;
	}
	if (slen >= GT_KERNEL_SYS_MAX || elen >= GT_KERNEL_EVENT_MAX) {
		gt_seterr(err, errcap,
			  "kernel event '%.80s': name too long (system < %u, event < %u bytes)",
			  text, GT_KERNEL_SYS_MAX, GT_KERNEL_EVENT_MAX);
		return -ENAMETOOLONG;
	}
	for (size_t i = 0; i < slen; i++) {
		if (!gt_name_char((unsigned char)p[i])) {
			gt_seterr(
				err, errcap,
				"kernel event '%.80s': bad character '%c' in system" GT_KERNEL_NAME_HINT,
				text, isprint((unsigned char)p[i]) ? p[i] : '?');
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < elen; i++) {
		if (!gt_name_char((unsigned char)colon[1 + i])) {
			gt_seterr(
				err, errcap,
				"kernel event '%.80s': bad character '%c' in event" GT_KERNEL_NAME_HINT,
				text, isprint((unsigned char)colon[1 + i]) ? colon[1 + i] : '?');
			return -EINVAL;
		}
	}
	memcpy(out->system, p, slen);
	memcpy(out->event, colon + 1, elen);

	rest = end;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	if (!*rest)
		return 0;
	if (strncmp(rest, "if", 2) || (rest[2] != ' ' && rest[2] != '\t')) {
		gt_seterr(err, errcap,
			  "kernel event '%.80s': expected 'if FILTER' after the event name", text);
		return -EINVAL;
	}
	rest += 3;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	flen = strlen(rest);
	while (flen && (rest[flen - 1] == ' ' || rest[flen - 1] == '\t' || rest[flen - 1] == '\n' ||
			rest[flen - 1] == '\r'))
		flen--;
	if (!flen) {
		gt_seterr(err, errcap, "kernel event '%.80s': empty filter after 'if'", text);
		return -EINVAL;
	}
	if (flen >= GT_KERNEL_FILTER_MAX) {
		gt_seterr(err, errcap, "kernel event '%.80s': filter longer than %u bytes", text,
			  GT_KERNEL_FILTER_MAX - 1);
		return -ENAMETOOLONG;
	}
	for (size_t i = 0; i < flen; i++) {
		if (!isprint((unsigned char)rest[i])) {
			gt_seterr(err, errcap,
				  "kernel event '%.80s': control character in filter at byte %zu",
				  text, i);
			return -EINVAL;
		}
	}
	memcpy(out->filter, rest, flen);
	return 0;
}

static const char *const gt_kernel_set[] = {
	"sched:sched_process_fork", "sched:sched_process_exec", "sched:sched_process_exit",
	"task:task_newtask",	    "sched:sched_switch",	"sched:sched_wakeup",
	"raw_syscalls:sys_enter",   "raw_syscalls:sys_exit",
};

int gt_kernel_builtin(const char *name, struct gt_kernel_spec *out, size_t cap)
{
	size_t n = sizeof(gt_kernel_set) / sizeof(gt_kernel_set[0]);

	if (!name || strcmp(name, "kernel"))
		return -ENOENT;
	for (size_t i = 0; i < n && i < cap; i++) {
		int ret = gt_kernel_spec_parse(gt_kernel_set[i], &out[i], NULL, 0);

		if (ret < 0)
			return ret;
	}
	return (int)n;
}

int gt_kernel_instance_name(const char *session, uint32_t pid, char *out, size_t cap)
{
	char clean[65];
	size_t n = 0;
	int len;

	for (const char *s = session ? session : ""; *s && n < 64; s++)
		clean[n++] = (isalnum((unsigned char)*s) || *s == '.' || *s == '-' || *s == '_')
				     ? *s
				     : '_';
	clean[n] = 0;
	if (!n)
		strcpy(clean, "session");
	len = snprintf(out, cap, GT_KERNEL_PREFIX "%s_%u", clean, pid);
	if (len < 0 || (size_t)len >= cap)
		return -ENAMETOOLONG;
	return len;
}

/* ---- instance set-up ---- */

/*
 * The tracefs directory if we may use it, else NULL with errno set.  Mounts
 * tracefs at the usual place when we are root and it is not mounted yet.
 * (tracefs_tracing_dir_is_mounted() of libtracefs 1.6 leaks a string per
 * call, so this is done by hand; tracefs_tracing_dir() caches its answer.)
 */
static const char *gt_tracefs_dir(void)
{
	struct stat sb;
	const char *dir;

	if (geteuid() == 0 && stat("/sys/kernel/tracing/instances", &sb) < 0 &&
	    stat("/sys/kernel/tracing", &sb) == 0)
		mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
	dir = tracefs_tracing_dir();
	if (!dir) {
		errno = ENODEV;
		return NULL;
	}
	if (access(dir, R_OK | W_OK | X_OK) < 0)
		return NULL;
	return dir;
}

static int gt_neg_errno(int fallback)
{
	return errno > 0 ? -errno : -fallback;
}

static int gt_inst_write(struct gt_kernel *k, const char *file, const char *val)
{
	if (tracefs_instance_file_write(k->inst, file, val) < 0)
		return gt_neg_errno(EIO);
	return 0;
}

/*
 * The parser knows only the ring buffer's page header and the formats of the
 * events we enable (gt_tep_add()): loading every format of the kernel (and
 * kallsyms) as tracefs_local_events() does costs far more than a session
 * start may.
 */
static int gt_tep_init(struct gt_kernel *k)
{
	char *hdr;
	int size = 0, ret;

	k->tep = tep_alloc();
	if (!k->tep)
		return -ENOMEM;
	tep_set_long_size(k->tep, (int)sizeof(long));
	tep_set_page_size(k->tep, (int)sysconf(_SC_PAGESIZE));
	tep_set_file_bigendian(k->tep, TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(k->tep, TEP_LITTLE_ENDIAN);
	hdr = tracefs_instance_file_read(NULL, "events/header_page", &size);
	if (!hdr)
		return gt_neg_errno(EIO);
	ret = tep_parse_header_page(k->tep, hdr, (unsigned long)size, (int)sizeof(long));
	free(hdr);
	return ret ? -EINVAL : 0;
}

/* Parse the format of @sys:@ev into k->tep (once). */
static int gt_tep_add(struct gt_kernel *k, const char *sys, const char *ev)
{
	char *fmt;
	int size = 0, ret;

	if (tep_find_event_by_name(k->tep, sys, ev))
		return 0;
	fmt = tracefs_event_file_read(k->inst, sys, ev, "format", &size);
	if (!fmt)
		return gt_neg_errno(EIO);
	ret = tep_parse_event(k->tep, fmt, (unsigned long)size, sys);
	free(fmt);
	return ret ? -ENOEXEC : 0;
}

/* Does a selected spec name system:event?  Used for what gets written. */
static bool gt_specs_match(const struct gt_kernel *k, const char *sys, const char *ev)
{
	for (size_t i = 0; i < k->nspecs; i++)
		if (!fnmatch(k->specs[i].system, sys, 0) && !fnmatch(k->specs[i].event, ev, 0))
			return true;
	return false;
}

static int gt_enable_one(struct gt_kernel *k, const char *sys, const char *ev, const char *filter,
			 char *err, size_t errcap)
{
	int ret = gt_tep_add(k, sys, ev);

	if (ret < 0) {
		gt_seterr(err, errcap, "kernel event %s:%s: cannot parse its format: %s", sys, ev,
			  ret == -ENOEXEC ? "libtraceevent refused it" : strerror(-ret));
		return ret;
	}
	if (filter && *filter) {
		if (tracefs_event_file_write(k->inst, sys, ev, "filter", filter) < 0) {
			char *why;

			ret = gt_neg_errno(EINVAL); /* before tracefs_error_last() touches errno */
			why = tracefs_error_last(k->inst);
			gt_seterr(err, errcap, "kernel event %s:%s: filter '%.200s' refused: %s",
				  sys, ev, filter, why && *why ? why : strerror(-ret));
			free(why);
			return ret;
		}
	}
	if (tracefs_event_file_write(k->inst, sys, ev, "enable", "1") < 0) {
		ret = gt_neg_errno(EIO);

		gt_seterr(err, errcap, "kernel event %s:%s: cannot enable: %s", sys, ev,
			  strerror(-ret));
		return ret;
	}
	return 0;
}

static bool gt_has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Enable every event matching @s; Return: number enabled or -errno. */
static int gt_enable_spec(struct gt_kernel *k, const struct gt_kernel_spec *s, char **systems,
			  char *err, size_t errcap)
{
	int n = 0;

	for (size_t i = 0; systems && systems[i]; i++) {
		char **events;

		if (fnmatch(s->system, systems[i], 0))
			continue;
		events = tracefs_system_events(NULL, systems[i]);
		for (size_t j = 0; events && events[j]; j++) {
			int ret;

			if (fnmatch(s->event, events[j], 0))
				continue;
			ret = gt_enable_one(k, systems[i], events[j], s->filter, err, errcap);
			if (ret == -ENOEXEC && gt_has_glob(s->event))
				continue; /* a pattern skips what we cannot decode */
			if (ret < 0) {
				tracefs_list_free(events);
				return ret;
			}
			n++;
		}
		tracefs_list_free(events);
	}
	return n;
}

static int gt_open_cpus(struct gt_kernel *k)
{
	long conf = sysconf(_SC_NPROCESSORS_CONF);
	long ps = sysconf(_SC_PAGESIZE);
	char *sub;

	if (conf < 1)
		conf = 1;
	if (conf > (long)GT_KERNEL_CPUS_MAX)
		conf = GT_KERNEL_CPUS_MAX;
	k->subbuf = ps > 0 ? (size_t)ps : 4096;
	/* newer kernels let sub-buffers be larger than a page */
	sub = tracefs_instance_file_read(k->inst, "buffer_subbuf_size_kb", NULL);
	if (sub) {
		unsigned long kb = strtoul(sub, NULL, 10);

		if (kb >= 1 && kb <= 1024 && kb * 1024 > k->subbuf)
			k->subbuf = kb * 1024;
		free(sub);
	}
	k->ncpus = (int)conf;
	k->fds = calloc((size_t)conf, sizeof(*k->fds));
	k->lost_seen = calloc((size_t)conf, sizeof(*k->lost_seen));
	/* slack: kbuffer may read an event header a few bytes past the last event */
	k->page = calloc(1, k->subbuf + 64);
	k->payload = malloc(GT_KERNEL_PAYLOAD_MAX);
	k->pfd = calloc((size_t)conf, sizeof(*k->pfd));
	k->pcpu = calloc((size_t)conf, sizeof(*k->pcpu));
	if (!k->fds || !k->lost_seen || !k->page || !k->payload || !k->pfd || !k->pcpu)
		return -ENOMEM;
	for (int c = 0; c < k->ncpus; c++) {
		char rel[64];
		char *path;

		k->fds[c] = -1;
		snprintf(rel, sizeof(rel), "per_cpu/cpu%d/trace_pipe_raw", c);
		path = tracefs_instance_get_file(k->inst, rel);
		if (!path)
			return -ENOMEM;
		k->fds[c] = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		tracefs_put_tracing_file(path);
		if (k->fds[c] < 0 && errno != ENOENT)
			return -errno;
		if (k->fds[c] >= 0) {
			k->pfd[k->npfd].fd = k->fds[c];
			k->pfd[k->npfd].events = POLLIN;
			k->pcpu[k->npfd++] = c;
			k->st.ncpus++;
		}
	}
	return 0;
}

/*
 * Write a pid no task can have to set_event_pid: PID_MAX_LIMIT (2^22, above
 * any pid_max on 64-bit Linux), else, where the kernel's list is only
 * pid_max long (before 5.13), the largest pid pid_max allows when it is not
 * in use.
 */
static int gt_kernel_sentinel(struct gt_kernel *k)
{
	char buf[32];
	unsigned long max = 0;
	FILE *f;

	if (tracefs_instance_file_write(k->inst, "set_event_pid", GT_KERNEL_NO_PID) >= 0)
		return 0;
	f = fopen("/proc/sys/kernel/pid_max", "re");
	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 0;
		fclose(f);
	}
	if (max < 2 || max > 4194304ul)
		return gt_neg_errno(EINVAL);
	snprintf(buf, sizeof(buf), "%lu", max - 1);
	if (kill((pid_t)(max - 1), 0) == 0 || errno != ESRCH)
		return -EBUSY;
	if (tracefs_instance_file_write(k->inst, "set_event_pid", buf) < 0)
		return gt_neg_errno(EIO);
	return 0;
}

int gt_kernel_open(const struct gt_kernel_opts *o, struct gt_kernel **out, char *err, size_t errcap)
{
	struct gt_kernel *k;
	const char *dir = NULL;
	char **systems = NULL;
	char buf[32];
	int ret;

	*out = NULL;
	if (!o || o->nspecs > GT_KERNEL_SPECS_MAX || (o->nspecs && !o->specs)) {
		gt_seterr(err, errcap, "kernel events: bad options (at most %u selections)",
			  GT_KERNEL_SPECS_MAX);
		return -EINVAL;
	}
	if (o->clock != GT_CLOCK_TSC && o->clock != GT_CLOCK_MONO) {
		gt_seterr(err, errcap, "kernel events: unknown session clock %u", o->clock);
		return -EINVAL;
	}
	errno = 0;
	dir = gt_tracefs_dir();
	if (!dir) {
		ret = errno == ENOENT || !errno ? -ENODEV : -errno;
		gt_seterr(err, errcap, GT_KERNEL_NOACCESS "%s", strerror(-ret));
		return ret;
	}
	/* instances of collectors that were killed (SIGKILL) go first: cheap, a readdir */
	gt_kernel_cleanup_stale(NULL, 0);
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->system_wide = o->system_wide;
	k->nspecs = o->nspecs;
	k->specs = calloc(o->nspecs ? o->nspecs : 1, sizeof(*k->specs));
	if (!k->specs) {
		ret = -ENOMEM;
		goto fail;
	}
	if (o->nspecs)
		memcpy(k->specs, o->specs, o->nspecs * sizeof(*k->specs));
	if (o->instance) {
		if (strlen(o->instance) >= sizeof(k->name) || strchr(o->instance, '/') ||
		    !strcmp(o->instance, ".") || !strcmp(o->instance, "..") || !*o->instance) {
			gt_seterr(err, errcap, "kernel events: bad instance name '%.80s'",
				  o->instance);
			ret = -EINVAL;
			goto fail;
		}
		strcpy(k->name, o->instance);
	} else {
		ret = gt_kernel_instance_name(o->session, (uint32_t)getpid(), k->name,
					      sizeof(k->name));
		if (ret < 0)
			goto fail;
	}
	if (tracefs_instance_exists(k->name)) {
		gt_seterr(err, errcap, "kernel events: ftrace instance '%s' already exists",
			  k->name);
		ret = -EEXIST;
		goto fail;
	}
	k->inst = tracefs_instance_create(k->name);
	if (!k->inst) {
		ret = gt_neg_errno(EIO);
		gt_seterr(err, errcap, GT_KERNEL_NOACCESS "cannot create instance '%s': %s",
			  k->name, strerror(-ret));
		goto fail;
	}
	if ((ret = gt_inst_write(k, "tracing_on", "0")) < 0) {
		gt_seterr(err, errcap, "kernel events: cannot turn tracing off in '%s': %s",
			  k->name, strerror(-ret));
		goto fail;
	}
	ret = gt_inst_write(k, "trace_clock", o->clock == GT_CLOCK_TSC ? "x86-tsc" : "mono");
	if (ret < 0) {
		gt_seterr(err, errcap,
			  "kernel events: trace clock '%s' not offered by this kernel: %s",
			  o->clock == GT_CLOCK_TSC ? "x86-tsc" : "mono", strerror(-ret));
		goto fail;
	}
	snprintf(buf, sizeof(buf), "%u", o->buffer_kb ? o->buffer_kb : GT_KERNEL_DEF_BUF_KB);
	if ((ret = gt_inst_write(k, "buffer_size_kb", buf)) < 0) {
		gt_seterr(err, errcap, "kernel events: cannot set buffer_size_kb to %s: %s", buf,
			  strerror(-ret));
		goto fail;
	}
	/* poll() reports a CPU buffer readable as soon as it holds one event */
	if ((ret = gt_inst_write(k, "buffer_percent", "0")) < 0) {
		gt_seterr(err, errcap, "kernel events: cannot set buffer_percent: %s",
			  strerror(-ret));
		goto fail;
	}
	/* keep what is there, count what does not fit ("dropped events") */
	tracefs_option_disable(k->inst, TRACEFS_OPTION_OVERWRITE);
	if (!o->system_wide) {
		if (tracefs_option_enable(k->inst, TRACEFS_OPTION_EVENT_FORK) < 0) {
			ret = gt_neg_errno(EINVAL);
			gt_seterr(err, errcap, "kernel events: cannot set option event-fork: %s",
				  strerror(-ret));
			goto fail;
		}
		/*
		 * An empty set_event_pid means "every process": once every
		 * followed process has exited (the kernel drops them from the
		 * list), the instance would record the whole machine.  A pid that
		 * no task can have keeps the list non-empty for the instance's life.
		 */
		ret = gt_kernel_sentinel(k);
		if (ret < 0) {
			gt_seterr(err, errcap, "kernel events: cannot write set_event_pid: %s",
				  strerror(-ret));
			goto fail;
		}
	}
	ret = gt_tep_init(k);
	if (ret < 0) {
		gt_seterr(err, errcap, "kernel events: cannot parse events/header_page: %s",
			  strerror(-ret));
		goto fail;
	}
	k->kbuf = tep_kbuffer(k->tep);
	if (!k->kbuf) {
		ret = -ENOMEM;
		goto fail;
	}
	systems = tracefs_event_systems(NULL);
	for (size_t i = 0; i < o->nspecs; i++) {
		const struct gt_kernel_spec *s = &o->specs[i];

		ret = gt_enable_spec(k, s, systems, err, errcap);
		if (ret == 0) {
			gt_seterr(
				err, errcap,
				"kernel events: selection '%s:%s' matches no event of this kernel "
				"(see %s/available_events)",
				s->system, s->event, dir);
			ret = -ENOENT;
		}
		if (ret < 0)
			goto fail;
	}
	if (o->track_procs) {
		static const char *const pe[][2] = { { "sched", "sched_process_fork" },
						     { "sched", "sched_process_exec" },
						     { "sched", "sched_process_exit" },
						     { "task", "task_newtask" } };

		for (size_t i = 0; i < 4; i++) {
			if (gt_specs_match(k, pe[i][0], pe[i][1]))
				continue;
			/* absent on an old kernel: the callback just sees less */
			if (tracefs_event_file_exists(k->inst, pe[i][0], pe[i][1], "enable"))
				gt_enable_one(k, pe[i][0], pe[i][1], NULL, NULL, 0);
		}
	}
	tracefs_list_free(systems);
	systems = NULL;
	if (o->root_pid) {
		ret = gt_kernel_add_pid(k, o->root_pid);
		if (ret < 0) {
			gt_seterr(err, errcap, "kernel events: cannot write set_event_pid: %s",
				  strerror(-ret));
			goto fail;
		}
	}
	ret = gt_open_cpus(k);
	if (ret < 0) {
		gt_seterr(err, errcap, "kernel events: cannot open the per-CPU buffers: %s",
			  strerror(-ret));
		goto fail;
	}
	k->tgid = calloc(GT_KERNEL_TGID_SLOTS, sizeof(*k->tgid));
	if (!k->tgid) {
		ret = -ENOMEM;
		goto fail;
	}
	*out = k;
	return 0;
fail:
	tracefs_list_free(systems);
	gt_kernel_close(k);
	return ret;
}

int gt_kernel_add_pid(struct gt_kernel *k, uint32_t pid)
{
	char buf[16];

	if (!k || !pid)
		return -EINVAL;
	if (k->system_wide)
		return 0;
	snprintf(buf, sizeof(buf), "%u", pid);
	if (tracefs_instance_file_append(k->inst, "set_event_pid", buf) < 0)
		return gt_neg_errno(EIO);
	k->have_pid = true;
	return 0;
}

int gt_kernel_start(struct gt_kernel *k)
{
	int ret;

	if (!k)
		return -EINVAL;
	if (!k->system_wide && !k->have_pid)
		return -EINVAL;
	ret = gt_inst_write(k, "tracing_on", "1");
	if (ret == 0)
		k->started = true;
	return ret;
}

int gt_kernel_stop(struct gt_kernel *k)
{
	if (!k)
		return -EINVAL;
	k->started = false;
	return gt_inst_write(k, "tracing_on", "0");
}

/* ---- schemas ---- */

static uint8_t gt_field_type(const struct tep_format_field *f)
{
	if (f->flags & (TEP_FIELD_IS_DYNAMIC | TEP_FIELD_IS_RELATIVE))
		return (f->flags & TEP_FIELD_IS_STRING) ? GT_TYPE_STR : GT_TYPE_BYTES;
	if (f->flags & TEP_FIELD_IS_ARRAY)
		return (f->flags & TEP_FIELD_IS_STRING) ? GT_TYPE_STR : GT_TYPE_BYTES;
	switch (f->size) {
	case 1:
	case 2:
	case 4:
		return ((f->flags & TEP_FIELD_IS_SIGNED) && !(f->flags & TEP_FIELD_IS_POINTER))
			       ? GT_TYPE_I32
			       : GT_TYPE_U32;
	case 8:
		return ((f->flags & TEP_FIELD_IS_SIGNED) && !(f->flags & TEP_FIELD_IS_POINTER))
			       ? GT_TYPE_I64
			       : GT_TYPE_U64;
	default:
		return GT_TYPE_BYTES;
	}
}

static int gt_field_index(const struct gt_kev *kv, const struct tep_event *ev, const char *name)
{
	int i = 0;

	for (const struct tep_format_field *f = ev->format.fields; f && i < (int)kv->nfields;
	     f = f->next, i++)
		if (!strcmp(f->name, name))
			return i;
	return -1;
}

static struct gt_kev *gt_kev_get(struct gt_kernel *k, unsigned int id)
{
	struct tep_event *ev;
	struct gt_kev *kv;

	if (id > GT_KERNEL_MAX_EVENT_ID)
		return NULL;
	if (id >= k->nkev) {
		size_t n =
			id + 64 > GT_KERNEL_MAX_EVENT_ID + 1 ? GT_KERNEL_MAX_EVENT_ID + 1 : id + 64;
		struct gt_kev **t = realloc(k->kev, n * sizeof(*t));

		if (!t)
			return NULL;
		memset(t + k->nkev, 0, (n - k->nkev) * sizeof(*t));
		k->kev = t;
		k->nkev = n;
	}
	if (k->kev[id])
		return k->kev[id];
	ev = tep_find_event(k->tep, (int)id);
	if (!ev || !ev->system || !ev->name)
		return NULL;
	kv = calloc(1, sizeof(*kv));
	if (!kv)
		return NULL;
	kv->ev = ev;
	kv->emit = gt_specs_match(k, ev->system, ev->name);
	for (const struct tep_format_field *f = ev->format.fields; f && kv->nfields < GT_FIELDS_MAX;
	     f = f->next) {
		struct gt_kfield *g = &kv->f[kv->nfields++];

		g->offset = f->offset;
		g->size = f->size;
		g->flags = f->flags;
		g->type = gt_field_type(f);
	}
	kv->p_parent = gt_field_index(kv, ev, "parent_pid");
	kv->p_child = gt_field_index(kv, ev, "child_pid");
	kv->p_pid = gt_field_index(kv, ev, "pid");
	kv->p_file = gt_field_index(kv, ev, "filename");
	kv->p_comm = gt_field_index(kv, ev, "comm");
	kv->p_ccomm = gt_field_index(kv, ev, "child_comm");
	kv->p_flags = gt_field_index(kv, ev, "clone_flags");
	kv->p_dead = gt_field_index(kv, ev, "group_dead");
	if (!strcmp(ev->system, "sched")) {
		if (!strcmp(ev->name, "sched_process_fork"))
			kv->proc = GT_KEV_FORK;
		else if (!strcmp(ev->name, "sched_process_exec"))
			kv->proc = GT_KEV_EXEC;
		else if (!strcmp(ev->name, "sched_process_exit"))
			kv->proc = GT_KEV_EXIT;
	} else if (!strcmp(ev->system, "task") && !strcmp(ev->name, "task_newtask")) {
		kv->proc = GT_KEV_NEWTASK;
	}
	k->kev[id] = kv;
	return kv;
}

static int gt_kev_declare(struct gt_kernel *k, struct gt_kev *kv, const struct gt_kernel_out *out)
{
	struct gt_field_desc fd[GT_FIELDS_MAX];
	struct gt_schema_desc s = { 0 };
	char provider[GT_NAME_MAX + 1];
	const struct tep_format_field *f = kv->ev->format.fields;
	uint32_t id = 0;
	int ret;

	if (!out->alloc_id || !out->add_schema)
		return -EINVAL;
	ret = out->alloc_id(out->ctx, &id);
	if (ret < 0)
		return ret;
	snprintf(provider, sizeof(provider), "kernel.%s", kv->ev->system);
	for (uint32_t i = 0; i < kv->nfields && f; i++, f = f->next) {
		fd[i].type = kv->f[i].type;
		fd[i].name = f->name;
	}
	s.id = id;
	s.kind = GT_KIND_EVENT;
	s.level = 4;
	s.provider = provider;
	s.name = kv->ev->name;
	s.nfields = kv->nfields;
	s.fields = fd;
	ret = out->add_schema(out->ctx, &s);
	if (ret < 0)
		return ret;
	kv->sid = id;
	k->st.schemas++;
	return 0;
}

void gt_kernel_reset_schemas(struct gt_kernel *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->nkev; i++)
		if (k->kev[i])
			k->kev[i]->sid = 0;
	k->st.schemas = 0;
}

/* ---- records ---- */

static uint64_t gt_rd(const unsigned char *p, int size)
{
	uint64_t v = 0;

	memcpy(&v, p, (size_t)size); /* little-endian host (x86_64) */
	return v;
}

static int64_t gt_rd_signed(const unsigned char *p, int size)
{
	switch (size) {
	case 1:
		return (int8_t)p[0];
	case 2: {
		int16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	case 4: {
		int32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	default: {
		int64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	}
}

/*
 * Locate field @g's bytes inside the record [data, data+size).  Dynamic
 * fields hold a u32 (len << 16 | offset); relative ones count the offset
 * from the end of the field.  Return: false if out of bounds.
 */
static bool gt_field_span(const struct gt_kfield *g, const unsigned char *data, uint32_t size,
			  const unsigned char **p, uint32_t *len)
{
	uint32_t off, l;

	if (g->offset < 0 || g->size < 0 || (uint32_t)g->offset > size ||
	    (uint32_t)g->size > size - (uint32_t)g->offset)
		return false;
	if (!(g->flags & (TEP_FIELD_IS_DYNAMIC | TEP_FIELD_IS_RELATIVE))) {
		*p = data + g->offset;
		*len = (uint32_t)g->size;
		return true;
	}
	if (g->size < 4)
		return false;
	off = (uint32_t)gt_rd(data + g->offset, 4);
	l = off >> 16;
	off &= 0xffff;
	if (g->flags & TEP_FIELD_IS_RELATIVE)
		off += (uint32_t)g->offset + (uint32_t)g->size;
	if (off > size || l > size - off)
		return false;
	*p = data + off;
	*len = l;
	return true;
}

/* Encode the record as a ring payload.  Return: payload bytes, or -1 if malformed. */
static ssize_t gt_encode(struct gt_kernel *k, const struct gt_kev *kv, const unsigned char *data,
			 uint32_t size)
{
	unsigned char *o = k->payload;
	size_t used = 0, cap = GT_KERNEL_PAYLOAD_MAX;

	for (uint32_t i = 0; i < kv->nfields; i++) {
		const struct gt_kfield *g = &kv->f[i];
		const unsigned char *p;
		uint32_t len;

		if (!gt_field_span(g, data, size, &p, &len))
			return -1;
		switch (g->type) {
		case GT_TYPE_I32: {
			int32_t v = (int32_t)gt_rd_signed(p, g->size);

			memcpy(o + used, &v, 4);
			used += 4;
			break;
		}
		case GT_TYPE_U32: {
			uint32_t v = (uint32_t)gt_rd(p, g->size);

			memcpy(o + used, &v, 4);
			used += 4;
			break;
		}
		case GT_TYPE_I64:
		case GT_TYPE_U64: {
			uint64_t v = gt_rd(p, 8);

			memcpy(o + used, &v, 8);
			used += 8;
			break;
		}
		default: { /* STR, BYTES */
			/* keep 4 bytes for this length and 8 for each later field */
			size_t keep = 4 + 8 * (size_t)(kv->nfields - i - 1);
			size_t room = cap - used > keep ? cap - used - keep : 0;

			if (g->type == GT_TYPE_STR) {
				const unsigned char *nul = memchr(p, 0, len);

				if (nul)
					len = (uint32_t)(nul - p);
			}
			if (len > room)
				len = (uint32_t)room;
			memcpy(o + used, &len, 4);
			memcpy(o + used + 4, p, len);
			used += 4 + len;
			break;
		}
		}
	}
	return (ssize_t)used;
}

static uint32_t gt_tgid_hash(uint32_t tid)
{
	return (tid * 2654435761u) & (GT_KERNEL_TGID_SLOTS - 1);
}

static void gt_tgid_put(struct gt_kernel *k, uint32_t tid, uint32_t tgid)
{
	uint32_t h;

	if (!tid)
		return;
	if (k->ntgid >= GT_KERNEL_TGID_SLOTS / 2) {
		memset(k->tgid, 0, GT_KERNEL_TGID_SLOTS * sizeof(*k->tgid));
		k->ntgid = 0;
	}
	for (h = gt_tgid_hash(tid);; h = (h + 1) & (GT_KERNEL_TGID_SLOTS - 1)) {
		if (k->tgid[h].tid == tid || !k->tgid[h].tid)
			break;
	}
	if (!k->tgid[h].tid)
		k->ntgid++;
	k->tgid[h].tid = tid;
	k->tgid[h].tgid = tgid;
}

/* tgid of task @tid: cached, else /proc/<tid>/status, else @tid itself. */
static uint32_t gt_tgid_of(struct gt_kernel *k, uint32_t tid)
{
	char path[64], buf[512];
	uint32_t tgid = tid;
	ssize_t n;
	int fd;

	if (!tid)
		return 0;
	for (uint32_t h = gt_tgid_hash(tid); k->tgid[h].tid;
	     h = (h + 1) & (GT_KERNEL_TGID_SLOTS - 1))
		if (k->tgid[h].tid == tid)
			return k->tgid[h].tgid;
	snprintf(path, sizeof(path), "/proc/%u/status", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			char *t;

			buf[n] = 0;
			t = strstr(buf, "\nTgid:");
			if (t) {
				unsigned long v = strtoul(t + 6, NULL, 10);

				if (v && v <= UINT32_MAX)
					tgid = (uint32_t)v;
			}
		}
	}
	gt_tgid_put(k, tid, tgid);
	return tgid;
}

static int64_t gt_kev_num(const struct gt_kev *kv, int idx, const unsigned char *data,
			  uint32_t size, bool *ok)
{
	const unsigned char *p;
	uint32_t len;

	if (idx < 0 || kv->f[idx].type == GT_TYPE_STR || kv->f[idx].type == GT_TYPE_BYTES ||
	    !gt_field_span(&kv->f[idx], data, size, &p, &len)) {
		*ok = false;
		return 0;
	}
	if (kv->f[idx].flags & TEP_FIELD_IS_SIGNED)
		return gt_rd_signed(p, kv->f[idx].size);
	return (int64_t)gt_rd(p, kv->f[idx].size);
}

/* Copy a string field into @dst (NUL-terminated, maybe cut); "" if absent or bad. */
static void gt_kev_str(const struct gt_kev *kv, int idx, const unsigned char *data, uint32_t size,
		       char *dst, size_t cap)
{
	const unsigned char *p;
	uint32_t len;

	dst[0] = 0;
	if (idx < 0 || kv->f[idx].type != GT_TYPE_STR ||
	    !gt_field_span(&kv->f[idx], data, size, &p, &len))
		return;
	if (len >= cap)
		len = (uint32_t)cap - 1;
	memcpy(dst, p, len);
	dst[len] = 0;
	dst[strnlen(dst, len)] = 0;
}

static void gt_kev_proc(struct gt_kernel *k, const struct gt_kev *kv, uint64_t ts, uint32_t tid,
			const unsigned char *data, uint32_t size, const struct gt_kernel_out *out)
{
	struct gt_kernel_proc p = { .ts = ts, .comm = "", .path = "" };
	char comm[64], path[4096];
	bool ok = true;

	switch (kv->proc) {
	case GT_KEV_NEWTASK: {
		/* runs in the parent before sched_process_fork: learn the child's tgid */
		uint32_t child = (uint32_t)gt_kev_num(kv, kv->p_pid, data, size, &ok);
		uint64_t flags = (uint64_t)gt_kev_num(kv, kv->p_flags, data, size, &ok);

		if (ok && child)
			gt_tgid_put(k, child,
				    (flags & GT_KERNEL_CLONE_THREAD) ? gt_tgid_of(k, tid) : child);
		return;
	}
	case GT_KEV_FORK: {
		uint32_t parent = (uint32_t)gt_kev_num(kv, kv->p_parent, data, size, &ok);
		uint32_t child = (uint32_t)gt_kev_num(kv, kv->p_child, data, size, &ok);

		if (!ok || !child)
			return;
		p.type = GT_KERNEL_PROC_FORK;
		p.tid = child;
		p.pid = gt_tgid_of(k, child);
		p.ppid = gt_tgid_of(k, parent);
		p.thread = p.pid != child;
		gt_kev_str(kv, kv->p_ccomm, data, size, comm, sizeof(comm));
		p.comm = comm;
		break;
	}
	case GT_KEV_EXEC: {
		uint32_t pid = (uint32_t)gt_kev_num(kv, kv->p_pid, data, size, &ok);

		if (!ok || !pid)
			return;
		/* after exec the task leads its thread group */
		gt_tgid_put(k, pid, pid);
		p.type = GT_KERNEL_PROC_EXEC;
		p.pid = p.tid = pid;
		gt_kev_str(kv, kv->p_file, data, size, path, sizeof(path));
		p.path = path;
		break;
	}
	case GT_KEV_EXIT: {
		uint32_t pid = (uint32_t)gt_kev_num(kv, kv->p_pid, data, size, &ok);
		bool dead_ok = true;
		int64_t dead = gt_kev_num(kv, kv->p_dead, data, size, &dead_ok);

		if (!ok || !pid)
			return;
		p.type = GT_KERNEL_PROC_EXIT;
		p.tid = pid;
		p.pid = gt_tgid_of(k, pid);
		p.thread = dead_ok ? !dead : p.pid != pid;
		gt_kev_str(kv, kv->p_comm, data, size, comm, sizeof(comm));
		p.comm = comm;
		break;
	}
	default:
		return;
	}
	if (out->proc)
		out->proc(out->ctx, &p);
}

/*
 * Parse one sub-buffer of @len bytes in k->page.  Return: records read from
 * it (accepted, skipped or rejected; a rejected page counts 1), or the error
 * a callback returned.
 */
static int gt_parse_page(struct gt_kernel *k, size_t len, const struct gt_kernel_out *out)
{
	unsigned long long ts;
	uint64_t commit;
	int hdr, n = 0;
	void *rec;

	/* header: u64 timestamp, long commit (flags in the top bits); then data */
	hdr = 16;
	if (len < (size_t)hdr)
		return 0;
	commit = gt_rd(k->page + 8, 8) & ((1ull << 27) - 1);
	if (commit > len - (size_t)hdr) {
		k->st.rejected++;
		return 1;
	}
	if (kbuffer_load_subbuffer(k->kbuf, k->page) < 0) {
		k->st.rejected++;
		return 1;
	}
	for (rec = kbuffer_read_event(k->kbuf, &ts); rec; rec = kbuffer_next_event(k->kbuf, &ts)) {
		const unsigned char *data = rec;
		int esize = kbuffer_event_size(k->kbuf);
		struct gt_kev *kv;
		uint32_t tid, pid;
		ssize_t plen;
		int ret;

		n++;
		if (esize < 8 || data < k->page || data + esize > k->page + len) {
			k->st.rejected++;
			continue;
		}
		kv = gt_kev_get(k, (unsigned int)gt_rd(data, 2));
		if (!kv) {
			k->st.rejected++;
			continue;
		}
		tid = (uint32_t)gt_rd(data + 4, 4); /* common_pid */
		if (kv->proc)
			gt_kev_proc(k, kv, ts, tid, data, (uint32_t)esize, out);
		if (!kv->emit) {
			k->st.skipped++;
			continue;
		}
		if (!kv->sid) {
			ret = gt_kev_declare(k, kv, out);
			if (ret < 0)
				return ret;
		}
		plen = gt_encode(k, kv, data, (uint32_t)esize);
		if (plen < 0) {
			k->st.rejected++;
			continue;
		}
		pid = tid ? gt_tgid_of(k, tid) : 0;
		ret = out->add_event(out->ctx, ts, pid, tid, kv->sid, k->payload, (size_t)plen);
		if (ret == -GT_ECORRUPT || ret == -ENOENT) {
			k->st.rejected++;
			continue;
		}
		if (ret < 0)
			return ret;
		k->st.events++;
	}
	return n;
}

int gt_kernel_drain(struct gt_kernel *k, const struct gt_kernel_out *out)
{
	int total = 0;

	if (!k || !out || !out->add_event)
		return -EINVAL;
	/*
	 * One poll() tells which CPUs have data (buffer_percent is 0, so any
	 * event makes a buffer readable); an idle drain costs that one call.
	 */
	if (poll(k->pfd, (nfds_t)k->npfd, 0) < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < k->npfd; i++) {
		int c = k->pcpu[i];

		if (!(k->pfd[i].revents & (POLLIN | POLLRDNORM)))
			continue;
		for (unsigned int pg = 0; pg < GT_KERNEL_PAGES_PER_DRAIN; pg++) {
			ssize_t r = read(k->fds[c], k->page, k->subbuf);
			int ret;

			if (r < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				return -errno;
			}
			if (r == 0)
				break;
			k->st.pages++;
			ret = gt_parse_page(k, (size_t)r, out);
			if (ret < 0)
				return ret;
			if (total <= INT_MAX - ret)
				total += ret;
		}
	}
	return total;
}

/* ---- losses ---- */

static uint64_t gt_stat_line(const char *text, const char *key)
{
	const char *p = text;
	size_t kl = strlen(key);

	while (p && *p) {
		if (!strncmp(p, key, kl))
			return strtoull(p + kl, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

int gt_kernel_lost(struct gt_kernel *k, uint64_t *counts, size_t cap)
{
	uint64_t total = 0;

	if (!k)
		return -EINVAL;
	for (int c = 0; c < k->ncpus; c++) {
		char rel[64];
		char *text;
		uint64_t v;

		snprintf(rel, sizeof(rel), "per_cpu/cpu%d/stats", c);
		text = tracefs_instance_file_read(k->inst, rel, NULL);
		if (!text) {
			if ((size_t)c < cap)
				counts[c] = k->lost_seen[c];
			continue;
		}
		v = gt_stat_line(text, "overrun:") + gt_stat_line(text, "commit overrun:") +
		    gt_stat_line(text, "dropped events:");
		free(text);
		if ((size_t)c < cap)
			counts[c] = v;
		total += v;
	}
	k->st.lost = total;
	return k->ncpus;
}

int gt_kernel_report_lost(struct gt_kernel *k, const struct gt_kernel_out *out)
{
	uint64_t *now;
	uint64_t total = 0;
	int n, ret = 0;

	if (!k || !out)
		return -EINVAL;
	now = calloc((size_t)k->ncpus, sizeof(*now));
	if (!now)
		return -ENOMEM;
	n = gt_kernel_lost(k, now, (size_t)k->ncpus);
	if (n < 0) {
		free(now);
		return n;
	}
	for (int c = 0; c < k->ncpus; c++) {
		if (now[c] > k->lost_seen[c]) {
			if (out->add_lost) {
				ret = out->add_lost(out->ctx, 0, (uint32_t)c,
						    now[c] - k->lost_seen[c]);
				if (ret < 0)
					break;
			}
			k->lost_seen[c] = now[c];
		}
		total += k->lost_seen[c];
	}
	free(now);
	if (ret < 0)
		return ret;
	return total > INT_MAX ? INT_MAX : (int)total;
}

/* ---- misc ---- */

void gt_kernel_stats(const struct gt_kernel *k, struct gt_kernel_stats *st)
{
	if (k && st)
		*st = k->st;
}

const char *gt_kernel_instance(const struct gt_kernel *k)
{
	return k ? k->name : NULL;
}

int gt_kernel_close(struct gt_kernel *k)
{
	int ret = 0;

	if (!k)
		return 0;
	for (int c = 0; k->fds && c < k->ncpus; c++)
		if (k->fds[c] >= 0)
			close(k->fds[c]);
	if (k->inst) {
		tracefs_instance_file_write(k->inst, "tracing_on", "0");
		if (tracefs_instance_destroy(k->inst) < 0)
			ret = gt_neg_errno(EBUSY);
		tracefs_instance_free(k->inst);
	}
	for (size_t i = 0; i < k->nkev; i++)
		free(k->kev[i]);
	free(k->kev);
	if (k->kbuf)
		kbuffer_free(k->kbuf);
	if (k->tep)
		tep_free(k->tep);
	free(k->tgid);
	free(k->payload);
	free(k->page);
	free(k->lost_seen);
	free(k->pcpu);
	free(k->pfd);
	free(k->fds);
	free(k->specs);
	free(k);
	return ret;
}

/* Parse "gtrace_<anything>_<pid>"; Return: pid or 0. */
static pid_t gt_instance_pid(const char *name)
{
	const char *u = strrchr(name, '_');
	char *end;
	unsigned long v;

	if (strncmp(name, GT_KERNEL_PREFIX, strlen(GT_KERNEL_PREFIX)) || !u ||
	    u < name + strlen(GT_KERNEL_PREFIX) || !isdigit((unsigned char)u[1]))
		return 0;
	errno = 0;
	v = strtoul(u + 1, &end, 10);
	if (errno || *end || !v || v > INT_MAX)
		return 0;
	return (pid_t)v;
}

int gt_kernel_cleanup_stale(char *removed_names, size_t cap)
{
	const char *dir;
	char path[PATH_MAX];
	struct dirent *de;
	size_t used = 0;
	DIR *d;
	int n = 0;

	if (removed_names && cap)
		removed_names[0] = 0;
	errno = 0;
	dir = gt_tracefs_dir();
	if (!dir)
		return errno > 0 ? -errno : -ENODEV;
	/* by hand: tracefs_instances() of libtracefs 1.6 leaks its regex */
	if (snprintf(path, sizeof(path), "%s/instances", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		pid_t pid = gt_instance_pid(name);
		struct tracefs_instance *inst;

		if (!pid || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		inst = tracefs_instance_alloc(NULL, name);
		if (!inst)
			continue;
		tracefs_instance_file_write(inst, "tracing_on", "0");
		if (tracefs_instance_destroy(inst) == 0) {
			n++;
			if (removed_names && cap) {
				int w = snprintf(removed_names + used, cap - used, "%s%s",
						 used ? "," : "", name);

				if (w > 0 && (size_t)w < cap - used)
					used += (size_t)w;
			}
		}
		tracefs_instance_free(inst);
	}
	closedir(d);
	return n;
}
