/* SPDX-License-Identifier: MIT */
/*
 * batch.c - the path from the drain loop to the sink, and the writer thread.
 *
 * Everything the collector sends to the sink goes through a batch: events
 * copied out of the rings and the collector's own events, but also schemas,
 * lost and corrupt counts and clock samples, as entries of an arena.  A
 * batch is sorted by timestamp with a stable natural merge sort (each ring
 * is already in order, so this is O(n log rings)); the non-event entries
 * carry timestamp 0, so a schema always reaches the sink before the events
 * that use it.
 *
 * Sealing a chunk (encoding, zstd) takes milliseconds, longer than a fast
 * producer needs to fill a ring.  So in threaded mode a writer thread owns
 * the sink: the drain loop hands it a full batch by swapping it with the
 * writer's empty one (under a mutex, once per drain round when the writer is
 * idle) and goes on draining into the other.  While the writer is busy the
 * drain side's batch grows; past GT_BATCH_FLUSH bytes the drain loop waits,
 * which bounds memory (producers then drop and count events).  Without the
 * thread (unit tests) the batch is fed inline at each drain.
 *
 * A payload the sink rejects as malformed is counted corrupt; a hard sink
 * error (disk full) is kept, reported once, and stops writing while the
 * rings keep draining.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gt_col_int.h"

/*
 * Batch memory grows geometrically (realloc, which moves large blocks by
 * remapping, not copying) and is reused from one batch to the next, so a
 * steady stream costs no allocation.  After a burst, arrays larger than
 * GT_BATCH_KEEP are shrunk back so an idle collector stays small.
 */
#define GT_BATCH_KEEP (16u << 20)

int gt_batch_grow(struct gt_batch *b, size_t bytes)
{
	if (b->n == b->ncap) {
		size_t ncap = b->ncap ? b->ncap * 2 : 4096;
		struct gt_batch_ent *e = realloc(b->ent, ncap * sizeof(*e));
		struct gt_batch_ent *t;

		if (!e)
			return -ENOMEM;
		b->ent = e;
		t = realloc(b->tmp, ncap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		b->tmp = t;
		b->ncap = ncap;
	}
	if (b->cap - b->used < bytes + 8) {
		size_t ncap = b->cap ? b->cap : 1u << 20;
		unsigned char *buf;

		while (ncap - b->used < bytes + 8)
			ncap *= 2;
		buf = realloc(b->buf, ncap);
		if (!buf)
			return -ENOMEM;
		b->buf = buf;
		b->cap = ncap;
	}
	return 0;
}

static size_t gt_run_end(const struct gt_batch_ent *e, size_t i, size_t n)
{
	for (i++; i < n && e[i - 1].ts <= e[i].ts; i++)
		;
	return i;
}

static void gt_merge(const struct gt_batch_ent *a, size_t na, const struct gt_batch_ent *b,
		     size_t nb, struct gt_batch_ent *out)
{
	size_t i = 0, j = 0, k = 0;

	while (i < na && j < nb)
		out[k++] = b[j].ts < a[i].ts ? b[j++] : a[i++];
	while (i < na)
		out[k++] = a[i++];
	while (j < nb)
		out[k++] = b[j++];
}

/* Stable natural merge sort of the batch by timestamp. */
static void gt_batch_sort(struct gt_batch *b)
{
	struct gt_batch_ent *src = b->ent, *dst = b->tmp;
	size_t n = b->n;

	if (n < 2 || gt_run_end(src, 0, n) == n)
		return;
	for (;;) {
		size_t i = 0, nruns = 0;
		struct gt_batch_ent *swap;

		while (i < n) {
			size_t m = gt_run_end(src, i, n), e;

			if (m == n) {
				memcpy(dst + i, src + i, (n - i) * sizeof(*src));
				nruns++;
				break;
			}
			e = gt_run_end(src, m, n);
			gt_merge(src + i, m - i, src + m, e - m, dst + i);
			nruns++;
			i = e;
		}
		swap = src;
		src = dst;
		dst = swap;
		if (nruns <= 1)
			break;
	}
	/* the sorted entries are in src; make them b->ent (both arrays are ncap long) */
	b->tmp = dst;
	b->ent = src;
}

static void gt_batch_reset(struct gt_batch *b)
{
	size_t keep_ent = GT_BATCH_KEEP / sizeof(*b->ent);

	b->n = 0;
	b->used = 0;
	/* after a burst, give most of the memory back; the rest stays warm */
	if (b->cap > GT_BATCH_KEEP) {
		unsigned char *buf = realloc(b->buf, GT_BATCH_KEEP);

		if (buf) {
			b->buf = buf;
			b->cap = GT_BATCH_KEEP;
		}
	}
	if (b->ncap > keep_ent) {
		struct gt_batch_ent *e = realloc(b->ent, keep_ent * sizeof(*e));
		struct gt_batch_ent *t = e ? realloc(b->tmp, keep_ent * sizeof(*t)) : NULL;

		if (e) {
			b->ent = e;
			b->ncap = keep_ent; /* tmp is at least as long either way */
		}
		if (t)
			b->tmp = t;
	}
}

/* Drop a batch's pending work, freeing what its schema entries own. */
static void gt_batch_discard(struct gt_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->ent[i].kind == GT_OP_SCHEMA || b->ent[i].kind == GT_OP_SWITCH) {
			void *p;

			memcpy(&p, b->buf + b->ent[i].off, sizeof(p));
			free(p);
		}
	}
	gt_batch_reset(b);
}

void gt_batch_release(struct gt_batch *b)
{
	gt_batch_discard(b);
	free(b->buf);
	free(b->ent);
	free(b->tmp);
	memset(b, 0, sizeof(*b));
}

int gt_collector_sink_err(const struct gt_collector *c)
{
	return __atomic_load_n(&c->st.sink_err, __ATOMIC_ACQUIRE);
}

bool gt_collector_writable(const struct gt_collector *c)
{
	return c->sink.add_event && !gt_collector_sink_err(c);
}

/* Sink side (writer thread or inline). */
static void gt_sink_failed(struct gt_collector *c, int err)
{
	int none = 0;

	if (__atomic_compare_exchange_n(&c->st.sink_err, &none, err, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		gt_col_log("writing the trace failed: %s; the rest of the session is not recorded",
			   gt_strerror(err));
}

static void gt_sink_check(struct gt_collector *c, int ret)
{
	if (ret < 0)
		gt_sink_failed(c, ret);
}

/* Sort @b and hand every entry to the sink, in order; leaves @b empty. */
static void gt_batch_run(struct gt_collector *c, struct gt_batch *b)
{
	uint64_t events = 0, corrupt = 0;

	gt_batch_sort(b);
	for (size_t i = 0; i < b->n; i++) {
		const struct gt_batch_ent *e = &b->ent[i];
		const unsigned char *p = b->buf + e->off;
		bool ok = gt_collector_writable(c);
		int ret = 0;

		switch (e->kind) {
		case GT_OP_EVENT:
			if (!ok)
				break;
			ret = c->sink.add_event(c->sink.ctx, e->ts, e->pid, e->tid, e->sid, p,
						e->len);
			if (ret == 0) {
				events++;
			} else if (ret == -GT_ECORRUPT || ret == -ENOENT) {
				corrupt++;
				gt_sink_check(c, c->sink.add_corrupt(c->sink.ctx, e->pid, 1));
			} else {
				gt_sink_failed(c, ret);
			}
			break;
		case GT_OP_SCHEMA: {
			struct gt_schema_desc *d;

			memcpy(&d, p, sizeof(d));
			if (ok && c->sink.add_schema)
				gt_sink_check(c, c->sink.add_schema(c->sink.ctx, d));
			free(d);
			break;
		}
		case GT_OP_LOST:
		case GT_OP_CORRUPT: {
			uint64_t n;

			memcpy(&n, p, sizeof(n));
			if (ok && e->kind == GT_OP_LOST && c->sink.add_lost)
				gt_sink_check(c, c->sink.add_lost(c->sink.ctx, e->pid, e->tid, n));
			else if (ok && e->kind == GT_OP_CORRUPT && c->sink.add_corrupt)
				gt_sink_check(c, c->sink.add_corrupt(c->sink.ctx, e->pid, n));
			break;
		}
		case GT_OP_CLOCK: {
			struct gt_clock_sample cs;

			memcpy(&cs, p, sizeof(cs));
			if (ok && c->sink.clock)
				gt_sink_check(c, c->sink.clock(c->sink.ctx, &cs));
			break;
		}
		case GT_OP_FLUSH:
			if (ok && c->sink.flush)
				gt_sink_check(c, c->sink.flush(c->sink.ctx));
			break;
		case GT_OP_SWITCH: {
			struct gt_switch *sw;

			/* c->sink belongs to the sink side: this thread (or inline) */
			memcpy(&sw, p, sizeof(sw));
			c->sink = sw->sink;
			__atomic_store_n(&c->st.sink_err, 0, __ATOMIC_RELEASE);
			if (sw->done)
				sw->done(sw->arg);
			free(sw);
			break;
		}
		}
	}
	__atomic_fetch_add(&c->st.events, events, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->st.corrupt, corrupt, __ATOMIC_RELAXED);
	gt_batch_reset(b);
}

/* ---- operations queued by the collector thread ---- */

static void gt_op_u64(struct gt_collector *c, enum gt_op op, uint32_t pid, uint32_t tid, uint64_t n)
{
	void *dst = gt_batch_add(&c->batch, 0, pid, tid, 0, sizeof(n));

	if (!dst)
		return;
	memcpy(dst, &n, sizeof(n));
	c->batch.ent[c->batch.n - 1].kind = op;
}

void gt_collector_corrupt(struct gt_collector *c, uint32_t pid, uint64_t n)
{
	__atomic_fetch_add(&c->st.corrupt, n, __ATOMIC_RELAXED);
	gt_op_u64(c, GT_OP_CORRUPT, pid, 0, n);
}

void gt_collector_lost(struct gt_collector *c, uint32_t pid, uint32_t tid, uint64_t n)
{
	c->st.lost += n;
	gt_op_u64(c, GT_OP_LOST, pid, tid, n);
}

void gt_collector_op_clock(struct gt_collector *c, const struct gt_clock_sample *s)
{
	void *dst = gt_batch_add(&c->batch, 0, 0, 0, 0, sizeof(*s));

	if (!dst)
		return;
	memcpy(dst, s, sizeof(*s));
	c->batch.ent[c->batch.n - 1].kind = GT_OP_CLOCK;
}

void gt_collector_seal(struct gt_collector *c)
{
	/* ts UINT64_MAX: the stable sort keeps it after every event of the batch */
	if (gt_batch_add(&c->batch, UINT64_MAX, 0, 0, 0, 0))
		c->batch.ent[c->batch.n - 1].kind = GT_OP_FLUSH;
}

static size_t gt_strsize(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static char *gt_strput(char **pos, const char *s)
{
	char *r = *pos;
	size_t n = gt_strsize(s);

	if (!s)
		return NULL;
	memcpy(r, s, n);
	*pos += n;
	return r;
}

/* Queue a deep copy of @d in one allocation at @ts; the sink side frees it. */
static void gt_op_schema_at(struct gt_collector *c, const struct gt_schema_desc *d, uint64_t ts)
{
	size_t size = sizeof(*d) + d->nfields * sizeof(struct gt_field_desc) +
		      gt_strsize(d->provider) + gt_strsize(d->name) + gt_strsize(d->file) +
		      gt_strsize(d->format);
	struct gt_schema_desc *copy;
	struct gt_field_desc *f;
	void *dst;
	char *pos;

	for (uint32_t i = 0; i < d->nfields; i++)
		size += gt_strsize(d->fields[i].name);
	copy = malloc(size);
	if (!copy)
		return;
	*copy = *d;
	f = (struct gt_field_desc *)(copy + 1);
	pos = (char *)(f + d->nfields);
	copy->provider = gt_strput(&pos, d->provider);
	copy->name = gt_strput(&pos, d->name);
	copy->file = gt_strput(&pos, d->file);
	copy->format = gt_strput(&pos, d->format);
	for (uint32_t i = 0; i < d->nfields; i++) {
		f[i].type = d->fields[i].type;
		f[i].name = gt_strput(&pos, d->fields[i].name);
	}
	copy->fields = f;
	dst = gt_batch_add(&c->batch, ts, 0, 0, 0, sizeof(copy));
	if (!dst) {
		free(copy);
		return;
	}
	memcpy(dst, &copy, sizeof(copy));
	c->batch.ent[c->batch.n - 1].kind = GT_OP_SCHEMA;
}

void gt_collector_op_schema(struct gt_collector *c, const struct gt_schema_desc *d)
{
	gt_op_schema_at(c, d, 0);
	/*
	 * The batch holds a sink switch (which sorts last): events of this batch
	 * go to the old sink, later ones to the new sink, so both need it.
	 */
	if (c->switch_queued)
		gt_op_schema_at(c, d, UINT64_MAX);
}

/* ---- the writer thread ---- */

static void *gt_writer_main(void *arg)
{
	struct gt_collector *c = arg;

	/*
	 * Compression must not delay a drain: on a machine whose cores are
	 * busy with producers, a lower priority (nice +10, not SCHED_IDLE,
	 * which could starve under load) lets the drain thread preempt this
	 * one at once; the backlog bound (GT_BATCH_FLUSH) keeps memory finite.
	 */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->wbusy && !c->wstop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->wbusy)
			break;
		pthread_mutex_unlock(&c->mu);
		gt_batch_run(c, &c->wbatch);
		pthread_mutex_lock(&c->mu);
		c->wbusy = false;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int gt_writer_thread_start(struct gt_collector *c)
{
	sigset_t all, old;
	int ret;

	ret = pthread_mutex_init(&c->mu, NULL);
	if (ret)
		return -ret;
	ret = pthread_cond_init(&c->cv, NULL);
	if (ret) {
		pthread_mutex_destroy(&c->mu);
		return -ret;
	}
	/* the thread takes no signals: they belong to the caller's loop (signalfd) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&c->wthread, NULL, gt_writer_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		return -ret;
	}
	c->threaded = true;
	return 0;
}

void gt_writer_thread_stop(struct gt_collector *c)
{
	if (!c->threaded)
		return;
	pthread_mutex_lock(&c->mu);
	c->wstop = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->wthread, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	c->threaded = false;
}

/*
 * Give the collector's batch to the writer thread if it is idle (or, with
 * @wait, once it is).  Inline mode: feed it now.
 */
void gt_collector_handoff(struct gt_collector *c, bool wait)
{
	struct gt_batch tmp;

	if (!c->threaded) {
		gt_batch_run(c, &c->batch);
		c->switch_queued = false;
		return;
	}
	if (c->batch.n == 0)
		return;
	pthread_mutex_lock(&c->mu);
	while (wait && c->wbusy)
		pthread_cond_wait(&c->cv, &c->mu);
	if (!c->wbusy) {
		/* swap: the writer's empty batch (buffers kept) becomes ours */
		tmp = c->wbatch;
		c->wbatch = c->batch;
		c->batch = tmp;
		c->switch_queued = false; /* the switch left with that batch */
		c->wbusy = true;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
}

/* Everything queued so far has reached the sink when this returns. */
int gt_collector_flush_batch(struct gt_collector *c)
{
	gt_collector_handoff(c, true);
	if (c->threaded) {
		pthread_mutex_lock(&c->mu);
		while (c->wbusy)
			pthread_cond_wait(&c->cv, &c->mu);
		pthread_mutex_unlock(&c->mu);
	}
	return gt_collector_sink_err(c);
}

int gt_collector_set_sink(struct gt_collector *c, const struct gt_sink *sink)
{
	int ret;

	/*
	 * The boundary: every record copied out of a ring before this point
	 * reaches the old sink.  After the flush the writer thread is idle and
	 * waits on c->mu, so this thread may use the sinks directly; the next
	 * handoff (under c->mu) publishes the new sink to the writer thread.
	 */
	gt_collector_drain_rings(c);
	gt_collector_flush_batch(c);
	ret = gt_schema_tab_replay(&c->schemas, sink);
	c->sink = *sink;
	__atomic_store_n(&c->st.sink_err, 0, __ATOMIC_RELEASE);
	return ret;
}

static int gt_queue_schema_last(void *ctx, const struct gt_schema_desc *d)
{
	gt_op_schema_at(ctx, d, UINT64_MAX);
	return 0;
}

int gt_collector_switch_sink(struct gt_collector *c, const struct gt_sink *sink,
			     void (*done)(void *arg), void *arg)
{
	struct gt_sink q = { .ctx = c, .add_schema = gt_queue_schema_last };
	struct gt_switch *sw = malloc(sizeof(*sw));
	void *dst;

	if (!sw)
		return -ENOMEM;
	sw->sink = *sink;
	sw->done = done;
	sw->arg = arg;
	/*
	 * The switch entry carries ts UINT64_MAX, so the stable sort puts it
	 * after every event of its batch and before the schema replay queued
	 * right after it (same ts, insertion order): the sink side declares
	 * the schemas to the new sink, then every later batch goes there.
	 */
	gt_collector_drain_rings(c);
	dst = gt_batch_add(&c->batch, UINT64_MAX, 0, 0, 0, sizeof(sw));
	if (!dst) {
		free(sw);
		return -ENOMEM;
	}
	memcpy(dst, &sw, sizeof(sw));
	c->batch.ent[c->batch.n - 1].kind = GT_OP_SWITCH;
	gt_schema_tab_replay(&c->schemas, &q);
	c->switch_queued = true;
	gt_collector_handoff(c, false);
	return 0;
}
