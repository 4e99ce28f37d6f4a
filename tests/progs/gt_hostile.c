/* SPDX-License-Identifier: MIT */
/*
 * gt_hostile.c - a producer that attacks the collector through its own rings.
 *
 * The collector maps every producer's segment and must treat it as hostile
 * (docs/abi.md, docs/reliability.md promise 4).  This program joins a session
 * honestly through libgtrace (one event, so it has a segment, a schema and a
 * ring slot), then finds its own writable mapping of the segment in
 * /proc/self/maps (the library's memfd is named "gtrace") and, for a given
 * time, writes into it what a buggy or malicious process could: random bytes,
 * absurd record sizes, torn records, records of unknown schemas or with
 * payloads that do not match their schema, heads behind tails or beyond the
 * ring, shrinking lost counters, garbage schema records and a garbage
 * schema_head, and random states, tids and heads in other slots.  Every
 * choice comes from a seed given on the command line (and printed), so a run
 * that breaks the collector can be replayed.
 *
 * usage: gt_hostile SEED SECONDS
 * Exit: 0 after SECONDS of attack, 2 on usage error, 3 if it could not find
 * its segment (not in a session).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gtrace/abi.h>
#include <gtrace/gtrace.h>

GT_PROVIDER_DEFINE(gt_hostile_prov, "Test.Hostile");

static uint64_t gt_rng_state;

/* splitmix64: small, seedable, good enough to pick attacks */
static uint64_t gt_rnd(void)
{
	uint64_t z = (gt_rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t gt_rnd_below(uint64_t n)
{
	return n ? gt_rnd() % n : 0;
}

static double gt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Find this process's own mapping of its gtrace segment; NULL if none. */
static unsigned char *gt_find_segment(size_t *size)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned char *found = NULL;

	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];
		const struct gt_shm_header *h;

		if (!strstr(line, "/memfd:gtrace"))
			continue;
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[1] != 'w' ||
		    hi - lo < GT_SHM_HDR_SIZE)
			continue;
		h = (const struct gt_shm_header *)lo;
		if (h->magic != GT_SHM_MAGIC || h->pid != (uint32_t)getpid() ||
		    h->segment_size != hi - lo)
			continue;
		found = (unsigned char *)lo;
		*size = hi - lo;
	}
	fclose(f);
	return found;
}

struct gt_target {
	unsigned char *seg;
	struct gt_shm_header *hdr;
	struct gt_shm_header layout; /* the honest layout, copied at the start */
	uint32_t own;                /* our thread's slot */
};

static struct gt_ring_ctl *gt_slot(struct gt_target *t, uint32_t i)
{
	return (struct gt_ring_ctl *)(t->seg + t->layout.slots_off +
				      (size_t)i * t->layout.slot_size);
}

static unsigned char *gt_ring(struct gt_target *t, uint32_t i)
{
	return (unsigned char *)gt_slot(t, i) + GT_RING_CTL_SIZE;
}

static void gt_fill_random(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)gt_rnd();
}

/* A size a record header should never have, or one that is almost right. */
static uint32_t gt_bad_size(uint32_t ring_size, uint32_t to_end)
{
	static const uint32_t fixed[] = { 0, 1, 4, 7, 8, 9, 15, 17, 24, GT_REC_MAX,
					  GT_REC_MAX + 8, 0x7ffffff8u, 0xfffffff8u, 0xffffffffu };

	switch (gt_rnd_below(4)) {
	case 0:
		return fixed[gt_rnd_below(sizeof(fixed) / sizeof(fixed[0]))];
	case 1:
		return to_end + 8;
	case 2:
		return ring_size;
	default:
		return (uint32_t)gt_rnd();
	}
}

/*
 * Write @n bytes of records at our slot's current tail and publish them with
 * a head of tail + @publish.  The writes race with the collector's reads, as
 * a hostile producer's would.
 */
static void gt_publish(struct gt_target *t, uint64_t publish)
{
	struct gt_ring_ctl *ctl = gt_slot(t, t->own);

	__atomic_store_n(&ctl->head, __atomic_load_n(&ctl->tail, __ATOMIC_ACQUIRE) + publish,
			 __ATOMIC_RELEASE);
}

static void gt_attack(struct gt_target *t, uint64_t *counts)
{
	struct gt_ring_ctl *ctl = gt_slot(t, t->own);
	unsigned char *ring = gt_ring(t, t->own);
	const uint32_t rsize = t->layout.ring_size, mask = rsize - 1;
	uint64_t tail = __atomic_load_n(&ctl->tail, __ATOMIC_ACQUIRE) & ~(uint64_t)7;
	uint32_t off = (uint32_t)(tail & mask), to_end = rsize - off;
	struct gt_rec_hdr rh;
	unsigned int op = (unsigned int)gt_rnd_below(12);

	counts[op]++;
	switch (op) {
	case 0: /* random bytes, published as if they were records */
		gt_fill_random(ring + off, to_end < 4096 ? to_end : 4096);
		gt_publish(t, (gt_rnd_below(4096) + 8) & ~7ull);
		break;
	case 1: /* absurd head: behind the tail, beyond the ring, misaligned */
		switch (gt_rnd_below(4)) {
		case 0:
			__atomic_store_n(&ctl->head, tail - 8, __ATOMIC_RELEASE);
			break;
		case 1:
			__atomic_store_n(&ctl->head, tail + rsize + 8, __ATOMIC_RELEASE);
			break;
		case 2:
			__atomic_store_n(&ctl->head, tail + 3, __ATOMIC_RELEASE);
			break;
		default:
			__atomic_store_n(&ctl->head, gt_rnd(), __ATOMIC_RELEASE);
			break;
		}
		break;
	case 2: /* a record header with an absurd size */
		rh.size = gt_bad_size(rsize, to_end);
		rh.id = (uint32_t)gt_rnd_below(3);
		rh.ts = gt_rnd();
		if (to_end >= sizeof(rh)) {
			memcpy(ring + off, &rh, sizeof(rh));
			gt_publish(t, to_end < 64 ? to_end : 64);
		}
		break;
	case 3: /* a torn record: its size runs past the published head */
		rh.size = 64;
		rh.id = 1;
		rh.ts = gt_rnd();
		if (to_end >= 64) {
			memcpy(ring + off, &rh, sizeof(rh));
			gt_publish(t, 8 * (1 + gt_rnd_below(7)));
		}
		break;
	case 4: /* well framed records of known and unknown schemas, garbage payload */
		for (uint32_t done = 0, k = 0; k < 32 && done + 16 + 256 <= to_end; k++) {
			uint32_t size = 16 + 8 * (uint32_t)gt_rnd_below(33);

			rh.size = size;
			rh.id = gt_rnd_below(4) ? (uint32_t)(1 + gt_rnd_below(4))
						: (uint32_t)gt_rnd();
			rh.ts = gt_rnd_below(2) ? gt_rnd() : 0;
			memcpy(ring + off + done, &rh, sizeof(rh));
			gt_fill_random(ring + off + done + 16, size - 16);
			/* sometimes a string or bytes length that lies */
			if (size > 16 && gt_rnd_below(3) == 0) {
				uint32_t lie = (uint32_t)gt_rnd() | 0x80000000u;
				uint64_t at = 16 + 4 * gt_rnd_below((size - 16) / 4);

				memcpy(ring + off + done + at, &lie, 4);
			}
			done += size;
			gt_publish(t, done);
		}
		break;
	case 5: /* padding records with odd sizes */
		rh.size = gt_rnd_below(2) ? to_end : (uint32_t)(8 * (1 + gt_rnd_below(16)));
		rh.id = GT_REC_PAD_ID;
		memcpy(ring + off, &rh, 8);
		gt_publish(t, gt_rnd_below(2) ? rh.size : (uint64_t)to_end);
		break;
	case 6: { /* garbage schema records and schema_head */
		uint64_t sh = __atomic_load_n(&t->hdr->schema_head, __ATOMIC_ACQUIRE);
		unsigned char *region = t->seg + t->layout.schema_off;
		struct gt_shm_schema s;

		if (sh < t->layout.schema_size && t->layout.schema_size - sh >= 512 &&
		    gt_rnd_below(2)) {
			memset(&s, 0, sizeof(s));
			if (gt_rnd_below(2))
				s.size = (uint32_t)(8 * (3 + gt_rnd_below(60)));
			else
				s.size = gt_bad_size(4096, 512);
			if (gt_rnd_below(2))
				s.id = (uint32_t)gt_rnd();
			else
				s.id = (uint32_t)(2 + gt_rnd_below(8));
			s.kind = (uint8_t)gt_rnd_below(6);
			s.level = (uint8_t)gt_rnd_below(7);
			s.nfields = (uint8_t)gt_rnd_below(40);
			memcpy(region + sh, &s, sizeof(s));
			gt_fill_random(region + sh + sizeof(s), 512 - sizeof(s));
			/* mostly type bytes and NULs: gets further into the parser */
			if (gt_rnd_below(2)) {
				for (size_t i = sizeof(s); i < 512; i++) {
					uint64_t v = gt_rnd_below(3) ? gt_rnd_below(9) : 0;

					region[sh + i] = (unsigned char)v;
				}
			}
			__atomic_store_n(&t->hdr->schema_head, sh + 8 * (1 + gt_rnd_below(64)),
					 __ATOMIC_RELEASE);
		} else {
			uint64_t v[] = { gt_rnd(), t->layout.schema_size + 8,
					 t->layout.schema_size, sh - 8, 0 };

			__atomic_store_n(&t->hdr->schema_head, v[gt_rnd_below(5)],
					 __ATOMIC_RELEASE);
		}
		break;
	}
	case 7: /* header words: counters backwards and forwards, layout lies */
		switch (gt_rnd_below(5)) {
		case 0:
			__atomic_store_n(&t->hdr->lost_noslot, gt_rnd_below(1000),
					 __ATOMIC_RELAXED);
			break;
		case 1:
			__atomic_store_n(&t->hdr->lost_noschema, gt_rnd_below(1000),
					 __ATOMIC_RELAXED);
			break;
		case 2:
			t->hdr->nslots = (uint32_t)gt_rnd();
			t->hdr->ring_size = (uint32_t)gt_rnd();
			t->hdr->slots_off = (uint32_t)gt_rnd();
			t->hdr->segment_size = gt_rnd();
			break;
		case 3:
			__atomic_store_n(&t->hdr->exit_flags, (uint32_t)gt_rnd(), __ATOMIC_RELEASE);
			t->hdr->exit_status = (int32_t)gt_rnd();
			break;
		default:
			gt_fill_random(t->seg + sizeof(struct gt_shm_header),
				       GT_SHM_HDR_SIZE - sizeof(struct gt_shm_header));
			break;
		}
		break;
	case 8: /* our own lost counter: shrinking, then growing */
		__atomic_store_n(&ctl->lost, gt_rnd_below(2) ? gt_rnd_below(100) : ctl->lost + 1,
				 __ATOMIC_RELAXED);
		break;
	case 9: { /* another slot: random state, tid, head, ring bytes */
		uint32_t i = (uint32_t)gt_rnd_below(t->layout.nslots);
		struct gt_ring_ctl *o = gt_slot(t, i);

		if (i == t->own)
			break;
		gt_fill_random(gt_ring(t, i), 256);
		__atomic_store_n(&o->tid, (uint32_t)gt_rnd(), __ATOMIC_RELAXED);
		__atomic_store_n(&o->lost, gt_rnd_below(50), __ATOMIC_RELAXED);
		__atomic_store_n(&o->head, gt_rnd_below(2) ? gt_rnd() : 8 * gt_rnd_below(40),
				 __ATOMIC_RELEASE);
		__atomic_store_n(&o->state, (uint32_t)gt_rnd_below(4), __ATOMIC_RELEASE);
		break;
	}
	case 10: /* our own slot's state flips, as if the thread exited and came back */
		__atomic_store_n(&ctl->state, (uint32_t)gt_rnd_below(4), __ATOMIC_RELEASE);
		break;
	default: /* random bytes anywhere in the header or our control block */
		if (gt_rnd_below(2))
			gt_fill_random((unsigned char *)ctl, 64);
		else
			gt_fill_random(t->seg, sizeof(struct gt_shm_header));
		break;
	}
}

int main(int argc, char **argv)
{
	struct gt_target t;
	uint64_t counts[12] = { 0 };
	unsigned long long seed;
	double seconds, end;
	size_t size = 0;
	uint64_t n = 0;

	if (argc != 3 || sscanf(argv[1], "%llu", &seed) != 1 || (seconds = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: gt_hostile SEED SECONDS\n");
		return 2;
	}
	printf("gt_hostile: seed %llu\n", seed);
	fflush(stdout);
	gt_rng_state = seed;
	/* join honestly: a schema, a slot and a committed record */
	GT_EVENT(gt_hostile_prov, GT_LEVEL_INFO, 0, "Hello", GT_I64("seed", (int64_t)seed),
		 GT_STR("name", "hostile"));
	GT_EVENT(gt_hostile_prov, GT_LEVEL_INFO, 0, "Pair", GT_I32("a", 1), GT_BYTES("b", "xy", 2));
	t.seg = gt_find_segment(&size);
	if (!t.seg) {
		fprintf(stderr, "gt_hostile: no gtrace segment mapped in this process; run it "
				"in a session (GTRACE_SESSION)\n");
		return 3;
	}
	t.hdr = (struct gt_shm_header *)t.seg;
	memcpy(&t.layout, t.seg, sizeof(t.layout));
	t.own = 0;
	for (uint32_t i = 0; i < t.layout.nslots; i++) {
		if (gt_slot(&t, i)->tid == (uint32_t)gettid()) {
			t.own = i;
			break;
		}
	}
	/*
	 * Attack only once the collector has validated the segment and drained
	 * our first records (its tail reached our head): a header garbled before
	 * that is merely a refused segment and would test nothing else.
	 */
	end = gt_now() + 10;
	while (__atomic_load_n(&gt_slot(&t, t.own)->tail, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(&gt_slot(&t, t.own)->head, __ATOMIC_RELAXED)) {
		if (gt_now() > end) {
			fprintf(stderr, "gt_hostile: the collector did not drain the first "
					"records within 10 s\n");
			return 3;
		}
		usleep(1000);
	}
	end = gt_now() + seconds;
	while (gt_now() < end) {
		for (int k = 0; k < 64; k++, n++)
			gt_attack(&t, counts);
		usleep(100); /* leave the honest producer and the collector some CPU */
	}
	printf("gt_hostile: %" PRIu64 " attacks:", n);
	for (int i = 0; i < 12; i++)
		printf(" %" PRIu64, counts[i]);
	printf("\n");
	return 0;
}
