/* SPDX-License-Identifier: MIT */
/*
 * ktrace.c - the glue between the kernel-events module (kernel.c) and the
 * collector.
 *
 * When the session's profile selects kernel events, gt_collector_kernel_open()
 * creates the private ftrace instance with the command's pid as the root of
 * the traced tree and turns it on.  From then on every gt_collector_poll()
 * drains the per-CPU buffers about once a millisecond into the same batch
 * as the ring records, so kernel and user events are sorted together on the
 * session's event clock; schema ids come from the collector's id space;
 * per-CPU losses are forwarded to the sink once a second.  The process
 * callbacks keep a small process tree (fork, exec, exit) that covers
 * descendants which never loaded libgtrace; at the end it is written to the
 * footer as the meta key `processes` (JSON), with the per-CPU loss totals as
 * `kernel_lost`, so `gtrace info` shows both without decoding a chunk.
 * gt_collector_finish() stops tracing, drains what is left and removes the
 * instance; gt_collector_free() removes it too, so no error path leaves one
 * behind.  In a long-lived session (daemon.c) the root is the shell that ran
 * `gtrace start`; every process that joins through GTRACE_SESSION is
 * followed too (gt_kt_follow), and after each rotation
 * gt_collector_kernel_rotate() makes the next drain declare the kernel
 * schemas again into the new file.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "gt_col_int.h"
#include "gt_ktrace.h"

#define GT_KT_PROCS_MAX 4096u      /* processes remembered for the tree */
#define GT_KT_PATH_MAX 1024u       /* bytes of an exec file name kept */
#define GT_KT_DRAIN_NS 1000000ull  /* drain period */
#define GT_KT_LOST_NS 1000000000ull /* loss report period */
#define GT_KT_FINAL_ROUNDS 100000u /* bound on the final drain loop */

struct gt_kt_proc {
	uint32_t pid, ppid;
	char comm[17];
	char *path; /* last exec file name, or NULL */
	bool exited;
	bool have_status;
	int status, signal;
};

struct gt_ktrace {
	struct gt_kernel *k;
	uint32_t root_pid;
	uint64_t last_drain_ns, last_lost_ns;
	struct gt_kt_proc *procs;
	size_t nprocs, cap;
	uint64_t dropped_procs; /* processes beyond GT_KT_PROCS_MAX */
	uint64_t cpu_lost[GT_KERNEL_CPUS_MAX];
	uint32_t ncpus;
	/*
	 * exit codes: syscalls:sys_enter_exit_group is enabled for the process
	 * tree; its events reach the file only if the profile selects them
	 */
	bool exit_user;    /* the profile selects sys_enter_exit_group itself */
	uint32_t exit_sid; /* its schema id, 0 = not seen */
	uint32_t exit_off; /* payload offset of error_code; UINT32_MAX = unusable */
	uint32_t exit_size;
	/*
	 * processes that joined through GTRACE_SESSION: those of c->procs with
	 * seq below this were already added to set_event_pid
	 */
	uint64_t procs_followed;
};

#define GT_KT_EXIT_SYS "syscalls"
#define GT_KT_EXIT_EVENT "sys_enter_exit_group"

static struct gt_kt_proc *gt_kt_proc_get(struct gt_ktrace *kt, uint32_t pid)
{
	struct gt_kt_proc *p;

	for (size_t i = kt->nprocs; i-- > 0;)
		if (kt->procs[i].pid == pid)
			return &kt->procs[i];
	if (kt->nprocs >= GT_KT_PROCS_MAX) {
		kt->dropped_procs++;
		return NULL;
	}
	if (kt->nprocs == kt->cap) {
		size_t ncap = kt->cap ? kt->cap * 2 : 16;

		p = realloc(kt->procs, ncap * sizeof(*p));
		if (!p)
			return NULL;
		kt->procs = p;
		kt->cap = ncap;
	}
	p = &kt->procs[kt->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	return p;
}

/* ---- gt_kernel_out callbacks; ctx is the collector ---- */

static int gt_kt_alloc_id(void *ctx, uint32_t *id)
{
	struct gt_collector *c = ctx;

	if (c->schemas.next_id == UINT32_MAX)
		return -GT_ELIMIT;
	*id = c->schemas.next_id++;
	return 0;
}

/* Where error_code sits in a sys_enter_exit_group payload (fixed-size fields before it). */
static void gt_kt_exit_schema(struct gt_ktrace *kt, const struct gt_schema_desc *s)
{
	uint32_t off = 0;

	kt->exit_sid = s->id;
	kt->exit_off = UINT32_MAX;
	for (uint32_t i = 0; i < s->nfields; i++) {
		uint32_t size;

		switch (s->fields[i].type) {
		case GT_TYPE_I32:
		case GT_TYPE_U32:
			size = 4;
			break;
		case GT_TYPE_I64:
		case GT_TYPE_U64:
			size = 8;
			break;
		default:
			return;
		}
		if (!strcmp(s->fields[i].name, "error_code")) {
			kt->exit_off = off;
			kt->exit_size = size;
			return;
		}
		off += size;
	}
}

static int gt_kt_add_schema(void *ctx, const struct gt_schema_desc *s)
{
	struct gt_collector *c = ctx;
	struct gt_ktrace *kt = c->kt;

	if (!strcmp(s->provider, "kernel." GT_KT_EXIT_SYS) && !strcmp(s->name, GT_KT_EXIT_EVENT)) {
		gt_kt_exit_schema(kt, s);
		if (!kt->exit_user)
			return 0; /* enabled for the process tree only: not in the file */
	}
	gt_collector_op_schema(c, s);
	return 0;
}

static void gt_kt_exit_code(struct gt_ktrace *kt, uint32_t pid, const void *payload, size_t len)
{
	struct gt_kt_proc *p;
	uint64_t v = 0;
	uint32_t v32;

	if (kt->exit_off == UINT32_MAX || len < kt->exit_off || len - kt->exit_off < kt->exit_size)
		return;
	if (kt->exit_size == 4) {
		memcpy(&v32, (const unsigned char *)payload + kt->exit_off, 4);
		v = v32;
	} else {
		memcpy(&v, (const unsigned char *)payload + kt->exit_off, 8);
	}
	p = gt_kt_proc_get(kt, pid);
	if (!p || p->have_status)
		return;
	p->have_status = true;
	p->status = (int)(v & 0xff); /* what wait() reports */
	p->signal = 0;
}

static int gt_kt_add_event(void *ctx, uint64_t ts, uint32_t pid, uint32_t tid, uint32_t sid,
			   const void *payload, size_t len)
{
	struct gt_collector *c = ctx;
	void *dst;

	if (len > GT_REC_MAX)
		return -GT_ECORRUPT;
	if (sid && sid == c->kt->exit_sid) {
		gt_kt_exit_code(c->kt, pid, payload, len);
		if (!c->kt->exit_user)
			return 0;
	}
	dst = gt_batch_add(&c->batch, ts, pid, tid, sid, len);
	if (!dst)
		return -ENOMEM;
	memcpy(dst, payload, len);
	return 0;
}

static int gt_kt_add_lost(void *ctx, uint32_t pid, uint32_t tid, uint64_t n)
{
	struct gt_collector *c = ctx;
	struct gt_ktrace *kt = c->kt;

	if (tid < GT_KERNEL_CPUS_MAX) {
		kt->cpu_lost[tid] += n;
		if (tid + 1 > kt->ncpus)
			kt->ncpus = tid + 1;
	}
	gt_collector_lost(c, pid, tid, n);
	return 0;
}

static void gt_kt_proc_cb(void *ctx, const struct gt_kernel_proc *kp)
{
	struct gt_collector *c = ctx;
	struct gt_ktrace *kt = c->kt;
	struct gt_kt_proc *p;

	if (kp->thread)
		return; /* the tree is of processes; a thread's fork/exit changes nothing */
	p = gt_kt_proc_get(kt, kp->pid);
	if (!p)
		return;
	if (kp->comm && kp->comm[0])
		snprintf(p->comm, sizeof(p->comm), "%s", kp->comm);
	switch (kp->type) {
	case GT_KERNEL_PROC_FORK:
		p->ppid = kp->ppid;
		break;
	case GT_KERNEL_PROC_EXEC:
		if (kp->path && kp->path[0]) {
			free(p->path);
			p->path = strndup(kp->path, GT_KT_PATH_MAX);
		}
		break;
	case GT_KERNEL_PROC_EXIT:
		p->exited = true;
		break;
	}
}

static void gt_kt_out(struct gt_collector *c, struct gt_kernel_out *out)
{
	out->ctx = c;
	out->alloc_id = gt_kt_alloc_id;
	out->add_schema = gt_kt_add_schema;
	out->add_event = gt_kt_add_event;
	out->add_lost = gt_kt_add_lost;
	out->proc = gt_kt_proc_cb;
}

/* ---- lifecycle ---- */

int gt_collector_kernel_open(struct gt_collector *c, const char *session, uint32_t root_pid,
			     char *err, size_t errcap)
{
	const struct gt_profile *p = &c->profile;
	struct gt_kernel_opts o = { 0 };
	struct gt_ktrace *kt;
	struct gt_kt_proc *root;
	int ret;

	if (p->nkspecs == 0)
		return 0;
	if (c->kt)
		return -EBUSY;
	kt = calloc(1, sizeof(*kt));
	if (!kt)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->nkspecs; i++)
		if (!fnmatch(p->kspecs[i].system, GT_KT_EXIT_SYS, 0) &&
		    !fnmatch(p->kspecs[i].event, GT_KT_EXIT_EVENT, 0))
			kt->exit_user = true;
	o.session = session;
	o.clock = c->clock;
	o.specs = p->kspecs;
	o.nspecs = p->nkspecs;
	o.system_wide = p->ksystem_wide;
	o.track_procs = true;
	o.buffer_kb = p->kbuffer_kb;
	o.root_pid = root_pid;
	if (!kt->exit_user && !p->ksystem_wide) {
		/* also exit codes for the tree, if this kernel has syscall events */
		struct gt_kernel_spec *specs = calloc(p->nkspecs + 1, sizeof(*specs));

		if (specs) {
			memcpy(specs, p->kspecs, p->nkspecs * sizeof(*specs));
			snprintf(specs[p->nkspecs].system, GT_KERNEL_SYS_MAX, GT_KT_EXIT_SYS);
			snprintf(specs[p->nkspecs].event, GT_KERNEL_EVENT_MAX, GT_KT_EXIT_EVENT);
			o.specs = specs;
			o.nspecs = p->nkspecs + 1;
			ret = gt_kernel_open(&o, &kt->k, err, errcap);
			free(specs);
			o.specs = p->kspecs;
			o.nspecs = p->nkspecs;
			if (ret == 0)
				goto opened;
			if (ret != -ENOENT && ret != -EINVAL && ret != -ENOEXEC) {
				free(kt);
				return ret;
			}
		}
	}
	ret = gt_kernel_open(&o, &kt->k, err, errcap);
	if (ret < 0) {
		free(kt);
		return ret;
	}
opened:
	ret = gt_kernel_start(kt->k);
	if (ret < 0) {
		snprintf(err, errcap, "kernel events skipped: cannot start tracing: %s",
			 gt_strerror(ret));
		gt_kernel_close(kt->k);
		free(kt);
		return ret;
	}
	kt->root_pid = root_pid;
	root = root_pid ? gt_kt_proc_get(kt, root_pid) : NULL;
	if (root)
		root->ppid = (uint32_t)getpid();
	kt->last_drain_ns = kt->last_lost_ns = gt_col_mono_ns();
	c->kt = kt;
	return 1;
}

/*
 * A process that joined the session through GTRACE_SESSION is followed too
 * (with its descendants from then on, through event-fork), wherever it runs:
 * for a long-lived session the tree is the shell that ran `gtrace start`
 * plus every process that attached.  Processes already in the tree are
 * simply listed twice in set_event_pid, which the kernel ignores.
 */
static void gt_kt_follow(struct gt_collector *c, struct gt_ktrace *kt)
{
	const struct gt_proctab *t = &c->procs;

	if (kt->procs_followed == t->next_seq)
		return; /* nobody new: the common case costs one compare */
	for (size_t i = 0; i < t->cap; i++) {
		uint32_t pid = t->p[i].pid;

		if (!t->p[i].used || t->p[i].seq < kt->procs_followed)
			continue;
		if (pid && pid != kt->root_pid && gt_kernel_add_pid(kt->k, pid) < 0)
			gt_col_log("kernel events: cannot follow process %u", pid);
	}
	kt->procs_followed = t->next_seq;
}

void gt_collector_kernel_rotate(struct gt_collector *c)
{
	if (c->kt && c->kt->k)
		gt_kernel_reset_schemas(c->kt->k);
}

void gt_collector_kernel_poll(struct gt_collector *c, uint64_t now)
{
	struct gt_ktrace *kt = c->kt;
	struct gt_kernel_out out;
	size_t before = c->batch.n;
	int ret;

	if (!kt || !kt->k || now - kt->last_drain_ns < GT_KT_DRAIN_NS)
		return;
	kt->last_drain_ns = now;
	gt_kt_follow(c, kt);
	gt_kt_out(c, &out);
	ret = gt_kernel_drain(kt->k, &out);
	if (ret < 0 && ret != -EAGAIN && ret != -EINTR)
		gt_col_log("kernel events: drain failed: %s", gt_strerror(ret));
	if (now - kt->last_lost_ns >= GT_KT_LOST_NS) {
		kt->last_lost_ns = now;
		gt_kernel_report_lost(kt->k, &out);
	}
	if (c->batch.n > before)
		gt_collector_handoff(c, false);
}

/* Stop tracing, read what the buffers still hold, count losses, remove the instance. */
void gt_collector_kernel_finish(struct gt_collector *c)
{
	struct gt_ktrace *kt = c->kt;
	struct gt_kernel_out out;
	int ret;

	if (!kt || !kt->k)
		return;
	gt_kt_out(c, &out);
	gt_kernel_stop(kt->k);
	for (unsigned int i = 0; i < GT_KT_FINAL_ROUNDS; i++) {
		ret = gt_kernel_drain(kt->k, &out);
		if (ret <= 0)
			break;
	}
	gt_kernel_report_lost(kt->k, &out);
	ret = gt_kernel_lost(kt->k, kt->cpu_lost, GT_KERNEL_CPUS_MAX);
	if (ret > 0)
		kt->ncpus = (uint32_t)ret < GT_KERNEL_CPUS_MAX ? (uint32_t)ret : GT_KERNEL_CPUS_MAX;
	ret = gt_kernel_close(kt->k);
	if (ret < 0)
		gt_col_log("kernel events: cannot remove the ftrace instance: %s",
			   gt_strerror(ret));
	kt->k = NULL;
}

void gt_collector_kernel_free(struct gt_collector *c)
{
	struct gt_ktrace *kt = c->kt;

	if (!kt)
		return;
	gt_kernel_close(kt->k);
	for (size_t i = 0; i < kt->nprocs; i++)
		free(kt->procs[i].path);
	free(kt->procs);
	free(kt);
	c->kt = NULL;
}

void gt_collector_kernel_status(struct gt_collector *c, uint32_t pid, int status, int signal)
{
	struct gt_kt_proc *p;

	if (!c->kt)
		return;
	p = gt_kt_proc_get(c->kt, pid);
	if (!p)
		return;
	p->exited = true;
	p->have_status = true;
	p->status = status;
	p->signal = signal;
}

static json_t *gt_kt_proc_json(const struct gt_kt_proc *p)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "pid", json_integer(p->pid));
	json_object_set_new(o, "ppid", json_integer(p->ppid));
	json_object_set_new(o, "comm", json_string(p->comm));
	if (p->path)
		json_object_set_new(o, "exec", json_string(p->path));
	json_object_set_new(o, "exited", json_boolean(p->exited));
	if (p->have_status) {
		json_object_set_new(o, "status", json_integer(p->status));
		json_object_set_new(o, "signal", json_integer(p->signal));
	}
	return o;
}

int gt_collector_kernel_meta(struct gt_collector *c, struct gt_writer *w)
{
	struct gt_ktrace *kt = c->kt;
	char *s = NULL, *lost;
	size_t n, pos = 0;
	json_t *a;
	int ret = 0;

	if (!kt)
		return 0;
	/* drop processes from the end until the JSON fits one meta value */
	for (n = kt->nprocs;; n /= 2) {
		a = json_array();
		if (!a)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, gt_kt_proc_json(&kt->procs[i]));
		s = json_dumps(a, JSON_COMPACT | JSON_ENSURE_ASCII);
		json_decref(a);
		if (!s)
			return -ENOMEM;
		if (strlen(s) <= 60000 || n == 0)
			break;
		free(s);
	}
	ret = gt_writer_set_meta(w, "processes", s);
	free(s);
	if (ret < 0)
		return ret;
	lost = malloc((size_t)kt->ncpus * 24 + 1);
	if (!lost)
		return -ENOMEM;
	lost[0] = '\0';
	for (uint32_t i = 0; i < kt->ncpus; i++)
		pos += (size_t)sprintf(lost + pos, "%scpu%u=%llu", i ? "," : "", i,
				       (unsigned long long)kt->cpu_lost[i]);
	if (kt->ncpus)
		ret = gt_writer_set_meta(w, "kernel_lost", lost);
	free(lost);
	return ret;
}
