/* SPDX-License-Identifier: MIT */
/*
 * gt_ring.c - the producer side of the per-thread rings.
 *
 * Each thread owns one single-producer ring (docs/abi.md "Rings"), found
 * through an initial-exec TLS cursor, so reserving a record is a few loads
 * and stores: no lock, no syscall (with the TSC clock), no allocation.  The
 * collector's tail is cached and reloaded only when the cached value says
 * the ring is full; a full ring drops the event and counts it.  A record
 * never straddles the end of the ring: a padding record fills the rest.
 * The first event of a thread claims a free slot by CAS; a pthread key
 * destructor marks it EXITED when the thread ends, after its last commit.
 *
 * The common case runs inline at the call site (gt_rec_reserve_inline() in
 * gtrace.h) against the exported cursor gt_thread_ring: its limit is the
 * smaller of "cached tail + ring size" (room) and the end of the ring's
 * current lap (no wrap), so one compare decides.  This file is the rest:
 * the first event of a thread, padding at the wrap, reloading the tail,
 * drops, the CLOCK_MONOTONIC fallback; after each reservation it sets the
 * limit again, or leaves it 0 to keep every reservation out of line.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gt_lib.h"

__thread struct gt_tls gt_tls __attribute__((tls_model("initial-exec")));
GT_API __thread struct gt_thread_ring gt_thread_ring __attribute__((tls_model("initial-exec")));

/* A timestamp on the clock the collector chose (docs/architecture.md "Time"). */
static inline __attribute__((always_inline)) uint64_t gt_now(bool tsc)
{
	struct timespec ts;

#if defined(__x86_64__) || defined(__i386__)
	if (tsc)
		return __builtin_ia32_rdtsc();
#else
	(void)tsc;
#endif
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Claim a free slot for the calling thread.  Slow path: once per thread. */
static int gt_thread_attach(struct gt_tls *t)
{
	unsigned char *seg = gt_proc_segment();
	struct gt_shm_header *h = (struct gt_shm_header *)seg;

	if (!seg)
		return -ENOENT;
	for (uint32_t i = 0; i < gt_proc.nslots; i++) {
		struct gt_ring_ctl *ctl = (struct gt_ring_ctl *)(seg + GT_SHM_HDR_SIZE +
			gt_proc.schema_size + (size_t)i * (GT_RING_CTL_SIZE + gt_proc.ring_size));
		uint32_t expect = GT_SLOT_FREE;
		uint64_t head, tail;

		if (__atomic_load_n(&ctl->state, __ATOMIC_RELAXED) != GT_SLOT_FREE)
			continue;
		/* Acquire pairs with the collector's release of FREE: its last tail is visible. */
		if (!__atomic_compare_exchange_n(&ctl->state, &expect, GT_SLOT_ACTIVE, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&ctl->tid, (uint32_t)gettid(), __ATOMIC_RELAXED);
		head = __atomic_load_n(&ctl->head, __ATOMIC_RELAXED);
		tail = __atomic_load_n(&ctl->tail, __ATOMIC_ACQUIRE);
		head = (head + GT_REC_ALIGN - 1) & ~(uint64_t)(GT_REC_ALIGN - 1);
		if (tail > head || head - tail > gt_proc.ring_size)
			tail = head; /* a confused collector: our writes stay in bounds anyway */
		t->data = (unsigned char *)ctl + GT_RING_CTL_SIZE;
		t->size = gt_proc.ring_size;
		t->tail = tail;
		t->lost = __atomic_load_n(&ctl->lost, __ATOMIC_RELAXED);
		t->ctl = ctl;
		gt_thread_ring.head = head;
		gt_thread_ring.ctl = ctl;
		gt_thread_ring.limit = 0; /* set by the first reservation */
		gt_thread_mark();
		return 0;
	}
	__atomic_fetch_add(&h->lost_noslot, 1, __ATOMIC_RELAXED);
	return -EBUSY;
}

/* Runs at thread exit (pthread key destructor) and marks the slot EXITED. */
void gt_thread_exit(void *arg)
{
	struct gt_tls *t = &gt_tls;

	(void)arg;
	if (!t->ctl)
		return;
	/* Pairs with the collector's acquire load of state: every commit precedes it. */
	__atomic_store_n(&t->ctl->state, GT_SLOT_EXITED, __ATOMIC_RELEASE);
	t->ctl = NULL;
	memset(&gt_thread_ring, 0, sizeof(gt_thread_ring));
}

/* Fork child: the parent's slot is not ours. */
void gt_thread_forget(void)
{
	memset(&gt_tls, 0, sizeof(gt_tls));
	memset(&gt_thread_ring, 0, sizeof(gt_thread_ring));
}

/* Drop the event: ctl->lost is written by this thread only; the collector reads it. */
static __attribute__((noinline, cold)) void *gt_rec_drop(struct gt_tls *t)
{
	__atomic_store_n(&t->ctl->lost, ++t->lost, __ATOMIC_RELAXED);
	return NULL;
}

static __attribute__((noinline, cold)) void *gt_rec_reserve_first(uint32_t id, size_t size,
								   struct gt_commit *c)
{
	if (gt_thread_attach(&gt_tls) < 0)
		return NULL;
	return gt_rec_reserve(id, size, c);
}

/*
 * The reservation itself, instantiated once per clock so that the TSC
 * version makes no call on its hot path (every call it makes is a tail call
 * on a cold path) and the clock choice costs one predictable branch.
 */
static inline __attribute__((always_inline)) void *gt_reserve(uint32_t id, size_t size,
							     struct gt_commit *c, bool tsc)
{
	struct gt_tls *t = &gt_tls;
	struct gt_thread_ring *r = &gt_thread_ring;
	struct gt_ring_ctl *ctl = t->ctl;
	struct gt_rec_hdr *h;
	uint64_t need, head, pos, pad, seq, mask, lap_end, room_end;

	if (__builtin_expect(!ctl, 0))
		return gt_rec_reserve_first(id, size, c);
	need = ((uint64_t)size + GT_REC_ALIGN - 1) & ~(uint64_t)(GT_REC_ALIGN - 1);
	if (__builtin_expect(need > t->size || size > GT_REC_MAX || size < sizeof(*h), 0))
		return gt_rec_drop(t);
	mask = t->size - 1;
	head = r->head;
	pos = head & mask;
	pad = t->size - pos;
	if (pad >= need)
		pad = 0;
	if (__builtin_expect(head + pad + need - t->tail > t->size, 0)) {
		/* Pairs with the collector's release store of tail after it copied records out. */
		uint64_t tail = __atomic_load_n(&ctl->tail, __ATOMIC_ACQUIRE);

		if (tail <= head && head - tail <= t->size)
			t->tail = tail;
		if (head + pad + need - t->tail > t->size)
			return gt_rec_drop(t);
	}
	if (pad) {
		h = (struct gt_rec_hdr *)(t->data + pos);
		h->size = (uint32_t)pad;
		h->id = GT_REC_PAD_ID;
		head += pad;
		pos = 0;
	}
	h = (struct gt_rec_hdr *)(t->data + pos);
	if (need > sizeof(*h)) /* zero the tail padding; the payload overwrites the rest */
		memset((unsigned char *)h + need - 8, 0, 8);
	h->size = (uint32_t)need;
	h->id = id;
	h->ts = gt_now(tsc);
	head += need;
	r->head = head;
	if (tsc) {
		/* the next inline reservation must fit the known room and this lap */
		lap_end = (head & ~mask) + t->size;
		room_end = t->tail + t->size;
		r->wp = t->data + (head & mask);
		r->limit = lap_end < room_end ? lap_end : room_end;
	}
	seq = __atomic_load_n(&ctl->seq, __ATOMIC_RELAXED) + 1;
	__atomic_store_n(&ctl->seq, seq, __ATOMIC_RELAXED);
	c->head = &ctl->head;
	c->value = head;
	return h + 1;
}

static __attribute__((noinline)) void *gt_rec_reserve_mono(uint32_t id, size_t size,
							   struct gt_commit *c)
{
	return gt_reserve(id, size, c, false);
}

GT_API void *gt_rec_reserve(uint32_t id, size_t size, struct gt_commit *c)
{
	if (__builtin_expect(!gt_proc.clock_tsc, 0))
		return gt_rec_reserve_mono(id, size, c);
	return gt_reserve(id, size, c, true);
}

/* One gt_log() argument after default promotions, as read from the va_list. */
union gt_logval {
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	double f64;
	uint8_t b;
	const char *s;
};

GT_API void gt_log_write(uint32_t id, const struct gt_site *site, const char *fmt, ...)
{
	union gt_logval v[GT_FIELDS_MAX];
	size_t len[GT_FIELDS_MAX];
	size_t size = sizeof(struct gt_rec_hdr), room;
	unsigned n = site ? site->nfields : 0;
	struct gt_commit c;
	unsigned char *w;
	va_list ap;

	if (!site || n > GT_FIELDS_MAX || (n && !site->types))
		return;
	va_start(ap, fmt);
	for (unsigned i = 0; i < n; i++) {
		switch ((uint8_t)site->types[i]) {
		case GT_TYPE_I32:
			v[i].i32 = va_arg(ap, int);
			size += 4;
			break;
		case GT_TYPE_U32:
			v[i].u32 = va_arg(ap, unsigned int);
			size += 4;
			break;
		case GT_TYPE_I64:
			v[i].i64 = va_arg(ap, long long);
			size += 8;
			break;
		case GT_TYPE_U64:
			v[i].u64 = va_arg(ap, unsigned long long);
			size += 8;
			break;
		case GT_TYPE_F64:
			v[i].f64 = va_arg(ap, double);
			size += 8;
			break;
		case GT_TYPE_BOOL:
			v[i].b = va_arg(ap, int) ? 1 : 0;
			size += 1;
			break;
		case GT_TYPE_STR:
			v[i].s = va_arg(ap, const char *);
			if (!v[i].s)
				v[i].s = "";
			size += 4;
			break;
		default: /* not produced by gt_log(); the rest of the list is unreadable */
			va_end(ap);
			return;
		}
	}
	va_end(ap);
	room = GT_REC_MAX - size;
	for (unsigned i = 0; i < n; i++) {
		if ((uint8_t)site->types[i] != GT_TYPE_STR)
			continue;
		len[i] = strnlen(v[i].s, room);
		room -= len[i];
		size += len[i];
	}
	w = gt_rec_reserve(id, size, &c);
	if (!w)
		return;
	for (unsigned i = 0; i < n; i++) {
		uint32_t l;

		switch ((uint8_t)site->types[i]) {
		case GT_TYPE_I32:
		case GT_TYPE_U32:
			memcpy(w, &v[i].u32, 4);
			w += 4;
			break;
		case GT_TYPE_I64:
		case GT_TYPE_U64:
		case GT_TYPE_F64:
			memcpy(w, &v[i].u64, 8);
			w += 8;
			break;
		case GT_TYPE_BOOL:
			*w++ = v[i].b;
			break;
		default:
			l = (uint32_t)len[i];
			memcpy(w, &l, 4);
			memcpy(w + 4, v[i].s, l);
			w += 4 + l;
			break;
		}
	}
	gt_rec_commit(&c);
}
