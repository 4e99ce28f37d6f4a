/* SPDX-License-Identifier: MIT */
/*
 * gt_col_int.h - the collector's internal structures, shared by its .c files
 * and by the unit tests (which build segments in memory and attach them
 * without a socket).  Not used outside collector/ and tests/unit/.
 */
#ifndef GT_COL_INT_H
#define GT_COL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <gtrace/error.h>

#include "gt_collector.h"

/* Sanity bounds on what a producer may declare (beyond abi.h's own limits). */
#define GT_SEG_MAX_BYTES (1ull << 40)  /* largest segment we map (sparse: address space only) */
#define GT_SEG_MAX_SLOTS 4096u         /* ring slots per segment */
#define GT_SEG_MAX_RING (256u << 20)   /* largest ring_size */
#define GT_SEG_MAX_SCHEMA (64u << 20)  /* largest schema region */
#define GT_SEG_MAX_IDS 65536u          /* schemas per segment */
/*
 * The backlog bound: past this many bytes or entries in the drain's batch
 * the drain waits for the writer thread.  A bound of 8 MiB / 256 K entries
 * (about 13 ms of 2 x 10 M events/s, batches that stay warm) was tried and
 * measured no better: the drain then waited for the writer 400 to 500
 * times in a 10 s run at 2 x 10 M events/s (docs/perf.md, "Sustained
 * capture").
 */
#define GT_BATCH_FLUSH (96u << 20)     /* backlog bytes beyond which the drain waits for the sink */
#define GT_BATCH_MAX_ENT (3u << 20)    /* backlog entries beyond which the drain waits */
#define GT_OUTPUT_LINE_MAX (60u << 10) /* split longer output lines */

/* One event waiting in the batch: its bytes live at gt_batch.buf + off. */
struct gt_batch_ent {
	uint64_t ts;
	uint32_t off;
	uint32_t len; /* payload bytes */
	uint32_t pid;
	uint32_t tid;
	uint32_t sid;  /* file schema id */
	uint32_t kind; /* enum gt_op */
};

/* What a batch entry asks of the sink; all but events carry ts 0 and sort first. */
enum gt_op {
	GT_OP_EVENT = 0,   /* add_event(ts, pid, tid, sid, bytes) */
	GT_OP_SCHEMA = 1,  /* add_schema(*(struct gt_schema_desc **)bytes), then free it */
	GT_OP_LOST = 2,    /* add_lost(pid, tid, *(uint64_t *)bytes) */
	GT_OP_CORRUPT = 3, /* add_corrupt(pid, *(uint64_t *)bytes) */
	GT_OP_CLOCK = 4,   /* clock(*(struct gt_clock_sample *)bytes) */
	GT_OP_FLUSH = 5,   /* flush(); carries ts UINT64_MAX so it sorts last */
	GT_OP_SWITCH = 6,  /* install (*(struct gt_switch **)bytes)->sink; ts UINT64_MAX */
};

/* A queued sink switch (gt_collector_switch_sink); the sink side frees it. */
struct gt_switch {
	struct gt_sink sink;
	void (*done)(void *arg);
	void *arg;
};

/*
 * Events and sink operations copied out of the rings but not yet handed to
 * the sink, in an arena of bytes plus an array of small entries.
 */
struct gt_batch_piece;
struct gt_batch {
	unsigned char *buf;
	size_t used, cap;
	struct gt_batch_ent *ent, *tmp;
	size_t n, ncap;
	/* batch.c: memory is mmap'd address space, touched only as used and kept warm */
	size_t hw_used, hw_n;  /* high-water marks: bytes of buf, entries of ent/tmp touched */
	unsigned int quiet;    /* consecutive small batches since the last burst */
	bool sorted;           /* already sorted by the collector thread before the handoff */
	struct gt_batch_piece *pieces; /* sort scratch: the batch's ascending runs */
};

/* Collector-side bookkeeping for one ring slot. */
struct gt_slot_track {
	uint64_t lost_seen; /* ctl->lost already reported */
	bool logged;        /* a corruption of this slot was already logged */
};

/* One attached producer segment (one process image). */
struct gt_segment {
	struct gt_segment *next;
	struct gt_shm_header hdr; /* validated copy; the live header is never re-trusted */
	unsigned char *map;
	size_t size;
	bool owned; /* munmap on close */
	uint32_t pid;
	/* schemas: local id i (1-based) maps to file id idmap[i - 1]; 0 = invalid */
	uint64_t schema_parsed;
	uint32_t *idmap;
	uint32_t nids, idcap;
	bool schema_poisoned;
	struct gt_slot_track *slots;
	uint64_t noslot_seen, noschema_seen;
	bool logged;
};

/* An entry of the dedupe table: a schema's canonical bytes and its file id. */
struct gt_schema_ent {
	uint64_t hash;
	uint32_t id;
	uint32_t len;
	unsigned char *bytes;
};

/* All schemas of the file, deduplicated by content across processes. */
struct gt_schema_tab {
	struct gt_schema_ent *ent; /* open addressing, power-of-two capacity */
	uint32_t cap, count;
	uint32_t next_id;
};

/*
 * Process table entry: a slot of the open-addressing table below.  An entry
 * lives from the process's start record until its exit record is written
 * and no session connection of that pid is open (proctab.c).
 */
struct gt_proc {
	uint32_t pid;
	bool used;     /* the slot holds a process */
	bool started;  /* a start event was written */
	bool attached; /* a segment was attached since (a later HELLO is an exec) */
	bool exited;   /* an exit event was written */
	bool detached; /* socket closed but process alive: exec'd or uninstrumented now */
	unsigned int nconns; /* session connections that said HELLO and are still open */
	uint64_t seq;  /* gt_proctab.next_seq when this process (image) was started */
	char *exe;
};

/*
 * Processes of the session that may still be referred to: linear probing
 * on pid, power-of-two @cap slots at most half full, deletion by backward
 * shift (no tombstones).  A pointer to an entry is valid until the next
 * gt_proc_get() of a new pid or the next exit/gone/reap call.
 */
struct gt_proctab {
	struct gt_proc *p;
	size_t n, cap;     /* live entries, slots */
	uint64_t next_seq; /* seq of the next started process (ktrace.c follows new ones) */
};

/* Internal events the collector writes itself (collector.c). */
enum gt_iid {
	GT_IID_START,
	GT_IID_EXEC,
	GT_IID_EXIT,
	GT_IID_LINE,
	GT_IID_WARNING,
	GT_IID_MARK,
	GT_IID_COUNT_,
};

struct gt_conn;
struct gt_output;

/* What an epoll event's data pointer points at: every target starts with this int. */
enum gt_ep_kind {
	GT_EP_LISTEN = 1,
	GT_EP_WAKE = 2,
	GT_EP_CONN = 3,
	GT_EP_OUTPUT = 4,
};

struct gt_collector {
	uint32_t clock;
	struct gt_profile profile;
	struct gt_sink sink;
	struct gt_schema_tab schemas;
	uint32_t iid[GT_IID_COUNT_]; /* file schema ids; 0 = not yet, UINT32_MAX = disabled */
	struct gt_segment *segs;
	struct gt_proctab procs;
	struct gt_batch batch; /* filled by the collector thread */
	/* counters: events, corrupt and sink_err are also written by the writer thread (atomics) */
	struct gt_collector_stats st;
	/* writer thread (batch.c): with it, the sink runs beside the drain loop */
	bool threaded;
	pthread_t wthread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct gt_batch wbatch; /* owned by the writer thread while wbusy */
	bool wbusy;             /* under mu: wbatch holds work */
	bool wstop;             /* under mu: the thread should exit */
	/* session socket and event loop (session.c) */
	int epfd;
	int lfd;
	char *dir;
	char *sock_path;
	struct gt_conn *conns;
	unsigned int nconns;
	struct gt_output *outs[2];
	int wake_fd;
	int ep_listen_tag, ep_wake_tag; /* epoll tags: their address is the epoll data */
	unsigned char evbuf[GT_REC_MAX];  /* encodes the collector's own events */
	uint64_t last_drain_ns, last_clock_ns, last_reap_ns;
	uint64_t interval_ns; /* current drain period */
	bool busy; /* the last drain found a ring at least 1/8 full: drain again at once */
	bool switch_queued; /* c->batch holds a GT_OP_SWITCH (collector thread) */
	bool finished;
	struct gt_ktrace *kt; /* kernel events (ktrace.c), NULL when the profile has none */
};

/* log.c-like helper: one line on stderr, prefixed "gtrace: ". */
void gt_col_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t gt_col_mono_ns(void);

/* batch (collector.c) */
int gt_batch_grow(struct gt_batch *b, size_t bytes);

/*
 * gt_batch_add() - reserve @len bytes for one event and describe it; return
 * where to copy its bytes, or NULL when out of memory.  Amortised O(1), no
 * allocation in the common case.
 */
static inline void *gt_batch_add(struct gt_batch *b, uint64_t ts, uint32_t pid, uint32_t tid,
				 uint32_t sid, size_t len)
{
	struct gt_batch_ent *e;
	void *dst;

	if (__builtin_expect(b->n == b->ncap || b->cap - b->used < len, 0) &&
	    gt_batch_grow(b, len) < 0)
		return NULL;
	e = &b->ent[b->n++];
	e->ts = ts;
	e->off = (uint32_t)b->used;
	e->len = (uint32_t)len;
	e->pid = pid;
	e->tid = tid;
	e->sid = sid;
	e->kind = GT_OP_EVENT;
	dst = b->buf + b->used;
	b->used += (len + 7) & ~(size_t)7;
	return dst;
}
void gt_batch_release(struct gt_batch *b);
int gt_collector_flush_batch(struct gt_collector *c);
void gt_collector_handoff(struct gt_collector *c, bool wait);
void gt_collector_drain_rings(struct gt_collector *c);
void gt_collector_op_schema(struct gt_collector *c, const struct gt_schema_desc *d);
void gt_collector_op_clock(struct gt_collector *c, const struct gt_clock_sample *s);
int gt_writer_thread_start(struct gt_collector *c);
void gt_writer_thread_stop(struct gt_collector *c);
int gt_collector_sink_err(const struct gt_collector *c);
void gt_collector_corrupt(struct gt_collector *c, uint32_t pid, uint64_t n);
void gt_collector_lost(struct gt_collector *c, uint32_t pid, uint32_t tid, uint64_t n);
bool gt_collector_writable(const struct gt_collector *c);

/* Encoding the collector's own events: append fields to c->evbuf, then emit. */
struct gt_evb {
	unsigned char *buf;
	size_t n;
};
void gt_evb_u32(struct gt_evb *e, uint32_t v);
void gt_evb_bool(struct gt_evb *e, bool v);
void gt_evb_str(struct gt_evb *e, const char *s, size_t len);
void gt_collector_emit(struct gt_collector *c, uint32_t sid, uint32_t pid, uint32_t tid,
		       const struct gt_evb *e);
uint32_t gt_collector_iid(struct gt_collector *c, enum gt_iid which);

/* schema.c */
int gt_schema_tab_init(struct gt_schema_tab *t);
void gt_schema_tab_release(struct gt_schema_tab *t);
int gt_schema_intern(struct gt_collector *c, const struct gt_schema_desc *d, uint32_t *id);
int gt_segment_parse_schemas(struct gt_collector *c, struct gt_segment *s);
int gt_schema_tab_replay(const struct gt_schema_tab *t, const struct gt_sink *sink);

/* segment.c */
int gt_segment_validate(const void *map, size_t size, uint32_t pid, uint32_t clock,
			struct gt_shm_header *out);
int gt_collector_attach_map(struct gt_collector *c, void *map, size_t size, uint32_t pid,
			    bool owned, struct gt_segment **out);
int gt_collector_attach_fd(struct gt_collector *c, int fd, uint32_t pid, struct gt_segment **out);
void gt_collector_detach(struct gt_collector *c, struct gt_segment *s);
void gt_segment_exit_info(const struct gt_segment *s, int *status, bool *normal);

/* drain.c */
void gt_segment_drain(struct gt_collector *c, struct gt_segment *s, bool final);

/* proctab.c */
struct gt_proc *gt_proc_find(struct gt_proctab *t, uint32_t pid);
struct gt_proc *gt_proc_get(struct gt_proctab *t, uint32_t pid);
void gt_proctab_release(struct gt_proctab *t);
size_t gt_proctab_count(const struct gt_proctab *t);
void gt_proc_read_info(uint32_t pid, uint32_t *ppid, char **exe, char **argv);
int gt_proc_stat_exit(uint32_t pid, int *wstatus);
void gt_collector_proc_hello(struct gt_collector *c, uint32_t pid);
void gt_collector_proc_gone(struct gt_collector *c, uint32_t pid, const struct gt_segment *s);
void gt_collector_reap_detached(struct gt_collector *c, bool final);

/* output.c */
int gt_output_new(struct gt_collector *c, int fd, int stream, int out_fd, uint32_t pid,
		  struct gt_output **out);
int gt_output_read(struct gt_collector *c, struct gt_output *o);
void gt_output_free(struct gt_collector *c, struct gt_output *o, bool flush);
int gt_output_fd(const struct gt_output *o);
void gt_collector_line(struct gt_collector *c, uint32_t pid, int stream, const char *line,
		       size_t len);

/* ktrace.c */
void gt_collector_kernel_poll(struct gt_collector *c, uint64_t now);
void gt_collector_kernel_finish(struct gt_collector *c);
void gt_collector_kernel_free(struct gt_collector *c);

/* session.c */
int gt_session_open(struct gt_collector *c, const char *dir);
void gt_session_close(struct gt_collector *c);
/* 1 when the wake fd fired, else 0, or -errno; *@served (optional): events served */
int gt_session_poll(struct gt_collector *c, int64_t timeout_ns, int *served);
int gt_session_welcome(const struct gt_collector *c, void *buf, size_t cap);

#endif /* GT_COL_INT_H */
