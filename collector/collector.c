/* SPDX-License-Identifier: MIT */
/*
 * collector.c - the collector object: drain rounds, the batch, the sink.
 *
 * Each drain round copies the new records of every ring of every segment
 * into one batch (an arena of payload bytes plus an array of small
 * entries), adds the collector's own events (process lifecycle, output
 * lines), sorts the entries by timestamp with a natural merge sort (each
 * ring is already in order, so this costs O(n log rings)), and feeds them to
 * the sink.  The arena and entry arrays grow geometrically and are reused,
 * so a steady stream of events costs no allocation.  A payload the sink
 * rejects as malformed is counted corrupt; a hard sink error (disk full) is
 * kept, reported once, and stops writing while the rings keep draining.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <gtrace/error.h>

#include "gt_col_int.h"

#define GT_LOG_MAX 50u /* collector messages per process */
#define GT_DRAIN_MIN_NS 250000ull  /* drain period while events flow */
#define GT_DRAIN_MAX_NS 1000000ull /* drain period when idle */

void gt_col_log(const char *fmt, ...)
{
	static unsigned int count; /* a hostile producer must not flood stderr */
	unsigned int n = __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED);
	char buf[1024];
	va_list ap;

	if (n > GT_LOG_MAX)
		return;
	if (n == GT_LOG_MAX) {
		fprintf(stderr, "gtrace: further collector messages suppressed\n");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "gtrace: %s\n", buf);
}

uint64_t gt_col_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- sink backed by a gt_writer ---- */

static int gt_ws_schema(void *ctx, const struct gt_schema_desc *s)
{
	return gt_writer_add_schema(ctx, s);
}

static int gt_ws_event(void *ctx, uint64_t ts, uint32_t pid, uint32_t tid, uint32_t id,
		       const void *p, size_t len)
{
	return gt_writer_add_event(ctx, ts, pid, tid, id, p, len);
}

static int gt_ws_lost(void *ctx, uint32_t pid, uint32_t tid, uint64_t n)
{
	return gt_writer_add_lost(ctx, pid, tid, n);
}

static int gt_ws_corrupt(void *ctx, uint32_t pid, uint64_t n)
{
	return gt_writer_add_corrupt(ctx, pid, n);
}

static int gt_ws_clock(void *ctx, const struct gt_clock_sample *s)
{
	return gt_writer_clock(ctx, s);
}

static int gt_ws_flush(void *ctx)
{
	return gt_writer_flush(ctx);
}

void gt_sink_writer(struct gt_sink *sink, struct gt_writer *w)
{
	sink->ctx = w;
	sink->name = NULL;
	sink->add_schema = gt_ws_schema;
	sink->add_event = gt_ws_event;
	sink->add_lost = gt_ws_lost;
	sink->add_corrupt = gt_ws_corrupt;
	sink->clock = gt_ws_clock;
	sink->flush = gt_ws_flush;
}

/* ---- the collector's own events ---- */

static void gt_evb_put(struct gt_evb *e, const void *p, size_t len)
{
	if (len > GT_REC_MAX - 16 - e->n)
		len = GT_REC_MAX - 16 - e->n;
	memcpy(e->buf + e->n, p, len);
	e->n += len;
}

void gt_evb_u32(struct gt_evb *e, uint32_t v)
{
	gt_evb_put(e, &v, 4);
}

void gt_evb_bool(struct gt_evb *e, bool v)
{
	uint8_t b = v;

	gt_evb_put(e, &b, 1);
}

/* STR: u32 length then bytes; cut so the whole event stays within GT_REC_MAX. */
void gt_evb_str(struct gt_evb *e, const char *s, size_t len)
{
	size_t room = GT_REC_MAX - 16 - e->n;
	uint32_t n;

	if (room < 4)
		return;
	if (len > room - 4)
		len = room - 4;
	n = (uint32_t)len;
	gt_evb_put(e, &n, 4);
	gt_evb_put(e, s, len);
}

void gt_collector_emit(struct gt_collector *c, uint32_t sid, uint32_t pid, uint32_t tid,
		       const struct gt_evb *e)
{
	void *dst;

	if (!sid)
		return;
	dst = gt_batch_add(&c->batch, gt_clock_ticks(c->clock), pid, tid, sid, e->n);
	if (dst)
		memcpy(dst, e->buf, e->n);
}

/* The collector's own schemas (docs/profiles.md), registered on first use. */
static const struct gt_field_desc gt_f_start[] = {
	{ GT_TYPE_I32, "pid" },
	{ GT_TYPE_I32, "ppid" },
	{ GT_TYPE_STR, "exe" },
	{ GT_TYPE_STR, "argv" },
};
static const struct gt_field_desc gt_f_exec[] = {
	{ GT_TYPE_I32, "pid" },
	{ GT_TYPE_STR, "exe" },
	{ GT_TYPE_STR, "argv" },
};
static const struct gt_field_desc gt_f_exit[] = {
	{ GT_TYPE_I32, "pid" },
	{ GT_TYPE_I32, "status" },
	{ GT_TYPE_I32, "signal" },
	{ GT_TYPE_BOOL, "core" },
};
static const struct gt_field_desc gt_f_line[] = {
	{ GT_TYPE_STR, "stream" },
	{ GT_TYPE_STR, "line" },
};
static const struct gt_field_desc gt_f_warning[] = { { GT_TYPE_STR, "text" } };
static const struct gt_field_desc gt_f_mark[] = { { GT_TYPE_STR, "text" } };

static const struct {
	const char *provider, *name;
	unsigned int nfields;
	const struct gt_field_desc *fields;
} gt_internal[GT_IID_COUNT_] = {
	[GT_IID_START] = { "gtrace.process", "start", 4, gt_f_start },
	[GT_IID_EXEC] = { "gtrace.process", "exec", 3, gt_f_exec },
	[GT_IID_EXIT] = { "gtrace.process", "exit", 4, gt_f_exit },
	[GT_IID_LINE] = { "gtrace.output", "line", 2, gt_f_line },
	[GT_IID_WARNING] = { "gtrace.session", "warning", 1, gt_f_warning },
	[GT_IID_MARK] = { "gtrace.session", "mark", 1, gt_f_mark },
};

uint32_t gt_collector_iid(struct gt_collector *c, enum gt_iid which)
{
	struct gt_schema_desc d = {
		.kind = GT_KIND_EVENT,
		.level = 4,
		.keywords = 0,
		.provider = gt_internal[which].provider,
		.name = gt_internal[which].name,
		.nfields = gt_internal[which].nfields,
		.fields = gt_internal[which].fields,
	};
	uint32_t id = 0;

	if (c->iid[which])
		return c->iid[which] == UINT32_MAX ? 0 : c->iid[which];
	if (!gt_profile_enabled(&c->profile, d.provider, d.level, d.keywords) ||
	    gt_schema_intern(c, &d, &id) < 0)
		id = 0;
	c->iid[which] = id ? id : UINT32_MAX;
	return id;
}

void gt_collector_line(struct gt_collector *c, uint32_t pid, int stream, const char *line,
		       size_t len)
{
	uint32_t sid = gt_collector_iid(c, GT_IID_LINE);
	const char *name = stream == 2 ? "stderr" : "stdout";
	struct gt_evb e = { .buf = c->evbuf };

	if (!sid)
		return;
	gt_evb_str(&e, name, strlen(name));
	gt_evb_str(&e, line, len);
	gt_collector_emit(c, sid, pid, pid, &e);
}

void gt_collector_mark(struct gt_collector *c, uint32_t pid, const char *text, size_t len)
{
	uint32_t sid = gt_collector_iid(c, GT_IID_MARK);
	struct gt_evb e = { .buf = c->evbuf };

	if (!sid)
		return;
	/* what producers committed before the mark was asked for sorts before it */
	gt_collector_drain_rings(c);
	gt_evb_str(&e, text, len);
	gt_collector_emit(c, sid, pid, pid, &e);
}

/* ---- lifecycle ---- */

int gt_collector_new(const struct gt_collector_opts *o, struct gt_collector **out)
{
	struct gt_collector *c;
	struct gt_clock_sample cs;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->epfd = -1;
	c->lfd = -1;
	c->wake_fd = -1;
	c->clock = o->clock ? o->clock : gt_clock_choose();
	if (o->profile)
		gt_profile_copy(&c->profile, o->profile);
	else
		gt_profile_builtin("default", &c->profile);
	c->sink = o->sink;
	c->interval_ns = GT_DRAIN_MIN_NS;
	ret = gt_schema_tab_init(&c->schemas);
	if (ret < 0)
		goto fail;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0) {
		ret = -errno;
		goto fail;
	}
	if (o->listen) {
		ret = gt_session_open(c, o->session_dir);
		if (ret < 0)
			goto fail;
	}
	if (o->threaded) {
		ret = gt_writer_thread_start(c);
		if (ret < 0)
			goto fail;
	}
	gt_clock_sample(c->clock, &cs);
	c->last_drain_ns = c->last_clock_ns = c->last_reap_ns = cs.mono_ns;
	*out = c;
	return 0;
fail:
	gt_collector_free(c);
	return ret;
}

void gt_collector_free(struct gt_collector *c)
{
	if (!c)
		return;
	gt_collector_kernel_free(c);
	gt_writer_thread_stop(c);
	gt_session_close(c);
	while (c->segs)
		gt_collector_detach(c, c->segs);
	gt_schema_tab_release(&c->schemas);
	gt_proctab_release(&c->procs);
	gt_batch_release(&c->batch);
	gt_batch_release(&c->wbatch);
	free(c);
}

const char *gt_collector_session(const struct gt_collector *c)
{
	return c->sock_path;
}

void gt_collector_drain_rings(struct gt_collector *c)
{
	c->busy = false;
	for (struct gt_segment *s = c->segs; s; s = s->next)
		gt_segment_drain(c, s, false);
	c->last_drain_ns = gt_col_mono_ns();
}

int gt_collector_drain(struct gt_collector *c)
{
	gt_collector_drain_rings(c);
	return gt_collector_flush_batch(c);
}

static void gt_collector_clock_tick(struct gt_collector *c)
{
	struct gt_clock_sample cs;

	gt_clock_sample(c->clock, &cs);
	c->last_clock_ns = cs.mono_ns;
	gt_collector_op_clock(c, &cs);
}

int gt_collector_poll(struct gt_collector *c, int timeout_ms)
{
	uint64_t now = gt_col_mono_ns(), due;
	int64_t wait_ns = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000;
	int ret;

	if (c->segs || c->batch.n) {
		due = c->last_drain_ns + c->interval_ns;
		if (due <= now || c->busy)
			wait_ns = 0;
		else if (wait_ns < 0 || (uint64_t)wait_ns > due - now)
			wait_ns = (int64_t)(due - now);
	}
	if (c->kt && (wait_ns < 0 || wait_ns > 1000000))
		wait_ns = 1000000; /* kernel buffers are drained about once a millisecond */
	ret = gt_session_poll(c, wait_ns, NULL);
	now = gt_col_mono_ns();
	if ((c->segs || c->batch.n) && (c->busy || now >= c->last_drain_ns + c->interval_ns)) {
		size_t before = c->batch.n;

		/*
		 * Adaptive: drain every 250 us while events flow (the default 8 MiB
		 * ring holds about 17 ms of a producer at 10 M events/s), back off to 1 ms when idle;
		 * at once again while a ring was found 1/8 full.  The batch goes to
		 * the writer thread when it is idle; meanwhile it keeps growing.
		 */
		gt_collector_drain_rings(c);
		if (c->batch.n > before)
			c->interval_ns = GT_DRAIN_MIN_NS;
		else if (c->interval_ns < GT_DRAIN_MAX_NS)
			c->interval_ns *= 2;
		gt_collector_handoff(c, false);
	}
	gt_collector_kernel_poll(c, now);
	if (now - c->last_clock_ns >= 1000000000ull)
		gt_collector_clock_tick(c);
	if (now - c->last_reap_ns >= 1000000000ull) {
		c->last_reap_ns = now;
		gt_collector_reap_detached(c, false);
	}
	return ret;
}

int gt_collector_finish(struct gt_collector *c)
{
	if (c->finished)
		return gt_collector_sink_err(c);
	c->finished = true;
	/*
	 * Serve connection events still queued: a descendant that exited just
	 * before the command did has its EOF (and so its exit record) pending.
	 * Bounded, because a daemon that outlives the command may keep writing.
	 */
	for (int i = 0, n = 1; i < 64 && n > 0; i++)
		if (gt_session_poll(c, 0, &n) < 0)
			break;
	for (int i = 0; i < 2; i++) {
		if (c->outs[i]) {
			gt_output_free(c, c->outs[i], true);
			c->outs[i] = NULL;
		}
	}
	for (struct gt_segment *s = c->segs; s; s = s->next)
		gt_segment_drain(c, s, true);
	gt_collector_reap_detached(c, true);
	gt_collector_kernel_finish(c);
	gt_collector_clock_tick(c);
	/*
	 * Join the writer thread first (it finishes the batch it holds), then
	 * write the last batch from this thread: one wake-up and one join
	 * instead of a handoff, a wait and a join, which on a loaded machine
	 * is a scheduler delay less at every `gtrace run` exit (docs/perf.md).
	 */
	gt_writer_thread_stop(c);
	gt_collector_flush_batch(c);
	return gt_collector_sink_err(c);
}

void gt_collector_stats(const struct gt_collector *c, struct gt_collector_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->lost = c->st.lost;
	st->segments = c->st.segments;
	st->detached = c->st.detached;
	st->partial[0] = c->st.partial[0];
	st->partial[1] = c->st.partial[1];
	st->events = __atomic_load_n(&c->st.events, __ATOMIC_RELAXED);
	st->corrupt = __atomic_load_n(&c->st.corrupt, __ATOMIC_RELAXED);
	st->sink_err = gt_collector_sink_err(c);
}
