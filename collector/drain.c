/* SPDX-License-Identifier: MIT */
/*
 * drain.c - the ring drain: copying records out of producers' rings.
 *
 * For every slot of a segment the collector loads the producer's head once
 * (acquire, pairing with the producer's release store after a record), checks
 * it against the collector-owned tail (tail <= head, head - tail <= ring_size,
 * both 8-aligned), then walks [tail, head): each record's frame is read once
 * into locals and checked (size >= 16 or >= 8 for padding, a multiple of 8,
 * within the ring end and within head) before the whole record is copied
 * into the batch; only the copy and the checked locals are used afterwards.
 * Any violation poisons the rest of the walk: it is counted corrupt, logged
 * once per slot, and the tail skips to head so the slot keeps working.  The
 * walk ends with a release store of tail (pairing with the producer's
 * acquire load when it runs out of room).  The hot loop does no syscall and
 * no allocation beyond amortised batch growth.
 */
#define _GNU_SOURCE
#include <string.h>

#include "gt_col_int.h"
#include "gt_prof.h"

/* Map a segment-local schema id to a file id, parsing new schemas once if needed. */
static inline uint32_t gt_local_to_file(struct gt_collector *c, struct gt_segment *s, uint32_t id)
{
	if (__builtin_expect(id - 1u < s->nids, 1))
		return s->idmap[id - 1];
	gt_segment_parse_schemas(c, s);
	return id - 1u < s->nids ? s->idmap[id - 1] : 0;
}

static void gt_slot_poison(struct gt_segment *s, uint32_t i, const char *why, uint64_t where)
{
	if (!s->slots[i].logged) {
		s->slots[i].logged = true;
		gt_col_log(
			"process %u: ring slot %u corrupt (%s at byte %llu); skipping its records",
			s->pid, i, why, (unsigned long long)where);
	}
}

static void gt_slot_drain(struct gt_collector *c, struct gt_segment *s, uint32_t i)
{
	unsigned char *base = s->map + s->hdr.slots_off + (size_t)i * s->hdr.slot_size;
	struct gt_ring_ctl *ctl = (struct gt_ring_ctl *)base;
	const unsigned char *ring = base + GT_RING_CTL_SIZE;
	const uint32_t rsize = s->hdr.ring_size, mask = rsize - 1;
	uint64_t head, tail, pos, lost, corrupt = 0;
	uint32_t state, tid;

	/* pairs with the producer's CAS FREE->ACTIVE / release store of EXITED */
	state = __atomic_load_n(&ctl->state, __ATOMIC_ACQUIRE);
	if (state == GT_SLOT_FREE)
		return;
	/* pairs with the producer's release store of head after each record */
	head = __atomic_load_n(&ctl->head, __ATOMIC_ACQUIRE);
	tid = __atomic_load_n(&ctl->tid, __ATOMIC_RELAXED);
	tail = __atomic_load_n(&ctl->tail, __ATOMIC_RELAXED);
	lost = __atomic_load_n(&ctl->lost, __ATOMIC_RELAXED);

	if (head != tail) {
		if (tail > head || head - tail > rsize || ((head | tail) & (GT_REC_ALIGN - 1))) {
			gt_slot_poison(s, i, "head/tail out of range", head);
			corrupt++;
			goto done;
		}
		/*
		 * A ring found 1/8 full: drain again at once.  Its pages are not
		 * pre-faulted in our view (MADV_POPULATE_READ): on a shared
		 * memfd that allocates every page the producer has not touched
		 * yet, a stall of 10 to 25 ms for an 8 MiB ring on this kind of
		 * VM; faulting in the pages the producer wrote, one per 4 KiB as
		 * the walk reaches them, costs far less and only on the first lap.
		 */
		if (head - tail >= rsize / 8)
			c->busy = true;
		for (pos = tail; pos < head;) {
			uint32_t off = (uint32_t)(pos & mask), to_end = rsize - off;
			uint64_t avail = head - pos;
			uint32_t size, id, fid;
			unsigned char *dst;

			if (avail < 8) {
				gt_slot_poison(s, i, "truncated record", pos);
				corrupt++;
				break;
			}
			memcpy(&size, ring + off, 4);
			memcpy(&id, ring + off + 4, 4);
			if (size < 8 || (size & (GT_REC_ALIGN - 1)) || size > to_end ||
			    size > avail) {
				gt_slot_poison(s, i, "bad record size", pos);
				corrupt++;
				break;
			}
			if (id == GT_REC_PAD_ID) {
				pos += size;
				continue;
			}
			if (size < sizeof(struct gt_rec_hdr) || size > GT_REC_MAX) {
				gt_slot_poison(s, i, "bad record size", pos);
				corrupt++;
				break;
			}
			pos += size;
			fid = gt_local_to_file(c, s, id);
			if (!fid) {
				corrupt++; /* unknown or invalid schema: framing is fine, go on */
				continue;
			}
			dst = gt_batch_add(&c->batch, 0, s->pid, tid, fid,
					   size - sizeof(struct gt_rec_hdr));
			if (!dst) {
				corrupt++;
				continue;
			}
			/* copy the record out; the payload copy is all the writer sees */
			memcpy(&c->batch.ent[c->batch.n - 1].ts, ring + off + 8, 8);
			memcpy(dst, ring + off + sizeof(struct gt_rec_hdr),
			       size - sizeof(struct gt_rec_hdr));
			if (__builtin_expect(c->batch.used >= GT_BATCH_FLUSH ||
						     c->batch.n >= GT_BATCH_MAX_ENT,
					     0))
				gt_collector_handoff(c,
						     true); /* bounds memory: wait for the writer */
		}
	}
done:
	/* pairs with the producer's acquire load of tail when its ring looks full */
	__atomic_store_n(&ctl->tail, head, __ATOMIC_RELEASE);
	if (lost != s->slots[i].lost_seen) {
		if (lost > s->slots[i].lost_seen)
			gt_collector_lost(c, s->pid, tid, lost - s->slots[i].lost_seen);
		else
			corrupt++; /* lost counts only grow */
		s->slots[i].lost_seen = lost;
	}
	if (corrupt)
		gt_collector_corrupt(c, s->pid, corrupt);
	if (state == GT_SLOT_EXITED) {
		uint32_t expect = GT_SLOT_EXITED;

		/* pairs with a later producer's acquire CAS FREE->ACTIVE */
		__atomic_compare_exchange_n(&ctl->state, &expect, GT_SLOT_FREE, false,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
}

static void gt_counter_delta(struct gt_collector *c, struct gt_segment *s, const uint64_t *live,
			     uint64_t *seen)
{
	uint64_t v = __atomic_load_n(live, __ATOMIC_RELAXED);

	if (v > *seen)
		gt_collector_lost(c, s->pid, 0, v - *seen);
	else if (v < *seen)
		gt_collector_corrupt(c, s->pid, 1);
	*seen = v;
}

void gt_segment_drain(struct gt_collector *c, struct gt_segment *s, bool final)
{
	struct gt_shm_header *live = (struct gt_shm_header *)s->map;
	uint64_t t0 = 0;

	(void) final; /* a dead producer's ACTIVE slots are drained the same way */
	if (gt_col_prof.on) {
		t0 = gt_prof_now();
		if (gt_col_prof.last_begin_ns && t0 - gt_col_prof.last_begin_ns > gt_col_prof.gap_max_ns)
			gt_col_prof.gap_max_ns = t0 - gt_col_prof.last_begin_ns;
		gt_col_prof.last_begin_ns = t0;
	}
	gt_segment_parse_schemas(c, s);
	for (uint32_t i = 0; i < s->hdr.nslots; i++)
		gt_slot_drain(c, s, i);
	gt_counter_delta(c, s, &live->lost_noslot, &s->noslot_seen);
	gt_counter_delta(c, s, &live->lost_noschema, &s->noschema_seen);
	if (gt_col_prof.on) {
		uint64_t d = gt_prof_now() - t0;

		gt_col_prof.rounds++;
		gt_col_prof.round_ns += d;
		if (d > gt_col_prof.round_max_ns)
			gt_col_prof.round_max_ns = d;
	}
}
