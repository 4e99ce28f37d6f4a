/* SPDX-License-Identifier: MIT */
/*
 * batch.c - the path from the drain loop to the sink, and the writer thread.
 *
 * Everything the collector sends to the sink goes through a batch: events
 * copied out of the rings and the collector's own events, but also schemas,
 * lost and corrupt counts and clock samples, as entries of an arena.  A
 * batch is sorted by timestamp with a stable merge of its ascending runs
 * (each ring is already in order, so one pass over the batch usually does);
 * the non-event entries carry timestamp 0, so a schema always reaches the
 * sink before the events that use it.
 *
 * Sealing a chunk (encoding, zstd) takes milliseconds, longer than a fast
 * producer needs to fill a ring.  So in threaded mode a writer thread owns
 * the sink: the drain loop hands it a full batch by swapping it with the
 * writer's empty one (under a mutex, once per drain round when the writer is
 * idle, after sorting it itself: the writer is the pipeline's bottleneck)
 * and goes on draining into the other.  While the writer is busy the
 * drain side's batch grows; past GT_BATCH_FLUSH bytes or GT_BATCH_MAX_ENT
 * entries the drain loop waits, which bounds memory (producers then drop
 * and count events).  Without the thread (unit tests) the batch is fed
 * inline at each drain.
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
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "gt_col_int.h"
#include "gt_prof.h"

struct gt_col_prof gt_col_prof;

uint64_t gt_prof_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void gt_prof_init_once(void)
{
	const char *v = getenv("GTRACE_COLLECTOR_STATS");

	gt_col_prof.on = v && *v && strcmp(v, "0");
}

/* Read the environment once per process (several collectors may start threads). */
void gt_prof_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, gt_prof_init_once);
}

/* One line on stderr: what the collector's threads spent (after the writer thread joined). */
void gt_prof_report(void)
{
	const struct gt_col_prof *p = &gt_col_prof;
	struct rusage ru;
	double cpu, ev;

	if (!p->on || getrusage(RUSAGE_SELF, &ru) < 0)
		return;
	cpu = (double)ru.ru_utime.tv_sec * 1e9 + (double)ru.ru_utime.tv_usec * 1e3 +
	      (double)ru.ru_stime.tv_sec * 1e9 + (double)ru.ru_stime.tv_usec * 1e3;
	ev = p->wevents ? (double)p->wevents : 1;
	fprintf(stderr,
		"gtrace-stats: events=%llu cpu_ns_per_event=%.1f writer_cpu_ns_per_event=%.1f "
		"sort_ns_per_event=%.1f drain_sort_ns_per_event=%.1f sink_ns_per_event=%.1f "
		"minflt=%ld rounds=%llu "
		"round_avg_us=%.1f round_max_us=%.1f gap_max_us=%.1f handoffs=%llu "
		"waits=%llu wait_ms=%.1f wait_max_ms=%.2f batches=%llu\n",
		(unsigned long long)p->wevents, cpu / ev, (double)p->wcpu_ns / ev,
		(double)p->sort_ns / ev, (double)p->dsort_ns / ev, (double)p->sink_ns / ev,
		ru.ru_minflt,
		(unsigned long long)p->rounds,
		p->rounds ? (double)p->round_ns / (double)p->rounds / 1e3 : 0,
		(double)p->round_max_ns / 1e3, (double)p->gap_max_ns / 1e3,
		(unsigned long long)p->handoffs, (unsigned long long)p->waits,
		(double)p->wait_ns / 1e6, (double)p->wait_max_ns / 1e6,
		(unsigned long long)p->batches);
}

/*
 * Batch memory is address space reserved once with mmap (MAP_NORESERVE, so
 * only touched pages cost memory) and never moved, shrunk or freed while
 * events flow: on this kind of VM a page fault costs 5 to 12 us, and a
 * batch that was freed or shrunk after each burst paid them again on every
 * refill, stalling the drain loop long enough for rings to overflow.  The
 * reservations are asked for transparent huge pages, one fault per 2 MiB.
 * The reservation covers the backlog bound (GT_BATCH_FLUSH bytes,
 * GT_BATCH_MAX_ENT entries) plus room for the collector's own events (the
 * first GT_BATCH_SMALL bytes of each stay on small pages, so a short
 * session does not pay for zeroing huge pages it never fills); past
 * it a mapping grows with mremap, which moves page tables, not bytes.  After
 * a burst, once GT_BATCH_QUIET batches in a row stayed small, the pages
 * beyond GT_BATCH_KEEP are given back (MADV_DONTNEED) so an idle collector
 * stays small.
 */
#define GT_BATCH_KEEP (16u << 20)
#define GT_BATCH_QUIET 4096u
#define GT_BATCH_BUF_RESERVE ((size_t)GT_BATCH_FLUSH + (32u << 20))
#define GT_BATCH_ENT_RESERVE ((size_t)GT_BATCH_MAX_ENT + (1u << 20))

/* Runs of the natural merge (gt_batch_sort()): [lo, hi) of ent, next in its chain. */
struct gt_batch_piece {
	size_t lo, hi, next;
};
#define GT_SORT_CHAINS 16u     /* more interleaved streams than this: pairwise merge sort */
#define GT_SORT_PIECES 65536u  /* more runs than this: pairwise merge sort */
#define GT_BATCH_SORT_HERE (256u << 10) /* largest batch the drain thread sorts itself */

#define GT_BATCH_SMALL (2u << 20)

/* Ask for huge pages beyond the first GT_BATCH_SMALL bytes (best effort: THP may be off). */
static void gt_map_advise(void *p, size_t bytes)
{
	if (bytes > GT_BATCH_SMALL)
		(void)madvise((unsigned char *)p + GT_BATCH_SMALL, bytes - GT_BATCH_SMALL,
			      MADV_HUGEPAGE);
}

static void *gt_map_reserve(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	gt_map_advise(p, bytes);
	return p;
}

/* Grow mapping *@p from @old to @bytes (mremap may move it); -ENOMEM if it cannot. */
static int gt_map_grow(void **p, size_t old, size_t bytes)
{
	void *q;

	if (!*p) {
		q = gt_map_reserve(bytes);
	} else {
		q = mremap(*p, old, bytes, MREMAP_MAYMOVE);
		if (q == MAP_FAILED)
			q = NULL;
		else
			gt_map_advise(q, bytes);
	}
	if (!q)
		return -ENOMEM;
	*p = q;
	return 0;
}

int gt_batch_grow(struct gt_batch *b, size_t bytes)
{
	if (b->n == b->ncap) {
		size_t ncap = b->ncap ? b->ncap * 2 : GT_BATCH_ENT_RESERVE;
		void *e = b->ent, *t = b->tmp;

		if (gt_map_grow(&e, b->ncap * sizeof(*b->ent), ncap * sizeof(*b->ent)) < 0)
			return -ENOMEM;
		b->ent = e;
		if (gt_map_grow(&t, b->ncap * sizeof(*b->tmp), ncap * sizeof(*b->tmp)) < 0) {
			/* keep ent and tmp the same length: shrink ent back */
			e = mremap(b->ent, ncap * sizeof(*b->ent), b->ncap * sizeof(*b->ent), 0);
			if (!b->ncap) {
				munmap(b->ent, ncap * sizeof(*b->ent));
				b->ent = NULL;
			}
			(void)e;
			return -ENOMEM;
		}
		b->tmp = t;
		b->ncap = ncap;
	}
	if (b->cap - b->used < bytes + 8) {
		size_t ncap = b->cap ? b->cap : GT_BATCH_BUF_RESERVE;
		void *buf = b->buf;

		while (ncap - b->used < bytes + 8)
			ncap *= 2;
		if (gt_map_grow(&buf, b->cap, ncap) < 0)
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

/*
 * One-pass merge for the usual batch: each drain round appends one ascending
 * run per ring, so the batch is R rounds x T rings of runs, but the runs of
 * one ring chain up in order across rounds.  Deal the runs onto chains
 * (first chain whose last ts <= the run's first ts), then merge the chains
 * in a single pass, ties going to the earlier position: the same stable
 * order as the pairwise merge sort, in O(n * chains) instead of
 * O(n log runs).  Returns false (nothing changed) when the batch has too
 * many runs or chains for that, e.g. a ring with timestamps out of order.
 */
static bool gt_batch_merge_chains(struct gt_batch *b)
{
	const struct gt_batch_ent *e = b->ent;
	struct gt_batch_ent *out = b->tmp, *swap;
	struct gt_batch_piece *pc;
	size_t n = b->n, npc = 0, nch = 0, o = 0;
	size_t tail[GT_SORT_CHAINS], cur[GT_SORT_CHAINS], end[GT_SORT_CHAINS], pk[GT_SORT_CHAINS];
	uint64_t last[GT_SORT_CHAINS];

	if (!b->pieces) {
		b->pieces = malloc(GT_SORT_PIECES * sizeof(*b->pieces));
		if (!b->pieces)
			return false;
	}
	pc = b->pieces;
	for (size_t i = 0; i < n;) {
		size_t m = gt_run_end(e, i, n), k;

		if (npc == GT_SORT_PIECES)
			return false;
		for (k = 0; k < nch && last[k] > e[i].ts; k++)
			;
		if (k == nch) {
			if (nch == GT_SORT_CHAINS)
				return false;
			pk[nch++] = npc; /* head of the new chain */
		} else {
			pc[tail[k]].next = npc;
		}
		tail[k] = npc;
		last[k] = e[m - 1].ts;
		pc[npc++] = (struct gt_batch_piece){ i, m, SIZE_MAX };
		i = m;
	}
	if (nch <= 1)
		return true; /* one chain of runs in array order: already sorted */
	for (size_t k = 0; k < nch; k++) {
		cur[k] = pc[pk[k]].lo;
		end[k] = pc[pk[k]].hi;
	}
	while (nch > 1) {
		size_t best = 0;

		for (size_t k = 1; k < nch; k++) {
			const struct gt_batch_ent *x = &e[cur[k]], *y = &e[cur[best]];

			if (x->ts < y->ts || (x->ts == y->ts && cur[k] < cur[best]))
				best = k;
		}
		out[o++] = e[cur[best]++];
		if (cur[best] == end[best]) {
			size_t next = pc[pk[best]].next;

			if (next != SIZE_MAX) {
				pk[best] = next;
				cur[best] = pc[next].lo;
				end[best] = pc[next].hi;
			} else {
				nch--;
				pk[best] = pk[nch];
				cur[best] = cur[nch];
				end[best] = end[nch];
			}
		}
	}
	/* the last chain: copy its remaining runs */
	for (size_t p = pk[0], lo = cur[0];;) {
		memcpy(out + o, e + lo, (pc[p].hi - lo) * sizeof(*e));
		o += pc[p].hi - lo;
		p = pc[p].next;
		if (p == SIZE_MAX)
			break;
		lo = pc[p].lo;
	}
	swap = b->ent;
	b->ent = out;
	b->tmp = swap;
	return true;
}

/* Stable sort of the batch by timestamp. */
static void gt_batch_sort(struct gt_batch *b)
{
	struct gt_batch_ent *src = b->ent, *dst = b->tmp;
	size_t n = b->n;

	if (n < 2 || gt_run_end(src, 0, n) == n)
		return;
	if (gt_batch_merge_chains(b))
		return;
	/* many runs or chains: natural pairwise merge sort, O(n log runs) */
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
	if (b->used > b->hw_used)
		b->hw_used = b->used;
	if (b->n > b->hw_n)
		b->hw_n = b->n;
	/* after a burst, once the stream has been small for a while, give the pages back */
	if (b->used < GT_BATCH_KEEP / 8 && b->n < GT_BATCH_KEEP / 8 / sizeof(*b->ent)) {
		size_t keep_n = GT_BATCH_KEEP / sizeof(*b->ent);

		if (++b->quiet >= GT_BATCH_QUIET &&
		    (b->hw_used > GT_BATCH_KEEP || b->hw_n > keep_n)) {
			if (b->hw_used > GT_BATCH_KEEP)
				(void)madvise(b->buf + GT_BATCH_KEEP, b->hw_used - GT_BATCH_KEEP,
					      MADV_DONTNEED);
			if (b->hw_n > keep_n) {
				(void)madvise(b->ent + keep_n, (b->hw_n - keep_n) * sizeof(*b->ent),
					      MADV_DONTNEED);
				(void)madvise(b->tmp + keep_n, (b->hw_n - keep_n) * sizeof(*b->tmp),
					      MADV_DONTNEED);
			}
			b->hw_used = b->used;
			b->hw_n = b->n;
		}
	} else {
		b->quiet = 0;
	}
	b->n = 0;
	b->used = 0;
	b->sorted = false;
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
	if (b->buf)
		munmap(b->buf, b->cap);
	if (b->ent)
		munmap(b->ent, b->ncap * sizeof(*b->ent));
	if (b->tmp)
		munmap(b->tmp, b->ncap * sizeof(*b->tmp));
	free(b->pieces);
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
					__ATOMIC_ACQUIRE)) {
		if (c->sink.name)
			gt_col_log("warning: writing '%s' failed: %s; it keeps what was written "
				   "before (up to its last whole chunk) and records nothing more",
				   c->sink.name, gt_strerror(err));
		else
			gt_col_log("warning: writing the trace failed: %s; the rest of the "
				   "session is not recorded",
				   gt_strerror(err));
	}
}

static void gt_sink_check(struct gt_collector *c, int ret)
{
	if (ret < 0)
		gt_sink_failed(c, ret);
}

/* Sort @b and hand every entry to the sink, in order; leaves @b empty. */
static void gt_batch_run(struct gt_collector *c, struct gt_batch *b)
{
	uint64_t events = 0, corrupt = 0, t0 = 0, t1 = 0;

	if (gt_col_prof.on)
		t0 = gt_prof_now();
	if (!b->sorted)
		gt_batch_sort(b);
	if (gt_col_prof.on)
		t1 = gt_prof_now();
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
	if (gt_col_prof.on && c->threaded) {
		uint64_t t2 = gt_prof_now();

		gt_col_prof.batches++;
		gt_col_prof.wevents += events;
		gt_col_prof.sort_ns += t1 - t0;
		gt_col_prof.sink_ns += t2 - t1;
	}
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
	 * The writer runs at the drain thread's priority.  It used to run at
	 * nice +10 so that a drain would preempt it at once, but on a busy
	 * machine that starved it: every other runnable task got about nine
	 * times its share, batches piled up to the backlog bound and the
	 * drain loop then waited for it for seconds (docs/perf.md, "Sustained
	 * capture").  The drain thread sleeps between rounds, so the
	 * scheduler still favours it when it wakes; the rings (8 MiB by
	 * default) absorb the rest.
	 */
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
	if (gt_col_prof.on) {
		struct timespec ts;

		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		gt_col_prof.wcpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	return NULL;
}

int gt_writer_thread_start(struct gt_collector *c)
{
	sigset_t all, old;
	int ret;

	gt_prof_init();
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
	gt_prof_report();
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
	bool idle;

	if (!c->threaded) {
		gt_batch_run(c, &c->batch);
		c->switch_queued = false;
		return;
	}
	if (c->batch.n == 0)
		return;
	pthread_mutex_lock(&c->mu);
	if (wait && c->wbusy && gt_col_prof.on) {
		uint64_t t0 = gt_prof_now(), d;

		while (c->wbusy)
			pthread_cond_wait(&c->cv, &c->mu);
		d = gt_prof_now() - t0;
		gt_col_prof.waits++;
		gt_col_prof.wait_ns += d;
		if (d > gt_col_prof.wait_max_ns)
			gt_col_prof.wait_max_ns = d;
	}
	while (wait && c->wbusy)
		pthread_cond_wait(&c->cv, &c->mu);
	idle = !c->wbusy;
	pthread_mutex_unlock(&c->mu);
	if (!idle)
		return;
	/*
	 * Only this thread sets wbusy, so the writer stays idle meanwhile: sort
	 * the batch here, on the drain thread's spare time, rather than on
	 * the writer, the pipeline's bottleneck (docs/perf.md, "Sustained
	 * capture").  A batch that piled up while the writer was busy is left
	 * to the writer: sorting it here would hold up the next drain.
	 */
	if (c->batch.n <= GT_BATCH_SORT_HERE) {
		uint64_t t0 = gt_col_prof.on ? gt_prof_now() : 0;

		gt_batch_sort(&c->batch);
		c->batch.sorted = true;
		if (gt_col_prof.on)
			gt_col_prof.dsort_ns += gt_prof_now() - t0;
	}
	pthread_mutex_lock(&c->mu);
	if (gt_col_prof.on)
		gt_col_prof.handoffs++;
	/* swap: the writer's empty batch (buffers kept) becomes ours */
	tmp = c->wbatch;
	c->wbatch = c->batch;
	c->batch = tmp;
	c->switch_queued = false; /* the switch left with that batch */
	c->wbusy = true;
	pthread_cond_broadcast(&c->cv);
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
