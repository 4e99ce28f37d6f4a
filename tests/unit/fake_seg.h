/* SPDX-License-Identifier: MIT */
/*
 * fake_seg.h - a fake producer for the collector's unit tests: segments laid
 * out in memory exactly as docs/abi.md describes (header, schema records,
 * slots with rings, padding at wrap-around), filled by hand so that tests
 * control every byte the collector reads.  Needs gt_col_int.h first.
 */
#ifndef GT_TESTS_FAKE_SEG_H
#define GT_TESTS_FAKE_SEG_H

struct seg {
	unsigned char *map;
	size_t size;
	struct gt_shm_header *h;
	uint64_t schema_used;
	uint32_t next_id;
};

static inline void seg_init_at(struct seg *s, void *mem, uint32_t pid, uint32_t nslots, uint32_t ring_size,
			uint32_t schema_size)
{
	s->map = mem;
	s->h = mem;
	s->schema_used = 0;
	s->next_id = 1;
	memset(s->h, 0, sizeof(*s->h));
	s->h->magic = GT_SHM_MAGIC;
	s->h->abi_version = GT_ABI_VERSION;
	s->h->struct_size = sizeof(struct gt_shm_header);
	s->h->pid = pid;
	s->h->clock = GT_CLOCK_MONO;
	s->h->schema_off = GT_SHM_HDR_SIZE;
	s->h->schema_size = schema_size;
	s->h->slots_off = GT_SHM_HDR_SIZE + schema_size;
	s->h->nslots = nslots;
	s->h->ring_size = ring_size;
	s->h->slot_size = GT_RING_CTL_SIZE + ring_size;
	s->h->segment_size = s->size;
}

static inline size_t seg_bytes(uint32_t nslots, uint32_t ring_size, uint32_t schema_size)
{
	return GT_SHM_HDR_SIZE + schema_size + (size_t)nslots * (GT_RING_CTL_SIZE + ring_size);
}

static inline void seg_init(struct seg *s, uint32_t pid, uint32_t nslots, uint32_t ring_size)
{
	s->size = seg_bytes(nslots, ring_size, 8192);
	seg_init_at(s, aligned_alloc(4096, (s->size + 4095) & ~(size_t)4095), pid, nslots,
		    ring_size, 8192);
	memset(s->map + GT_SHM_HDR_SIZE, 0, s->size - GT_SHM_HDR_SIZE);
}

/* Append a schema record with fields (types[i], names[i]); return its id. */
static inline uint32_t seg_schema(struct seg *s, const char *prov, const char *name, unsigned int n,
			   const uint8_t *types, const char *const *names)
{
	unsigned char *p = s->map + s->h->schema_off + s->schema_used;
	struct gt_shm_schema h = { 0 };
	size_t pos = sizeof(h);

	for (unsigned int i = 0; i < n; i++)
		p[pos++] = types[i];
#define PUTS(str)                                      \
	do {                                           \
		memcpy(p + pos, str, strlen(str) + 1); \
		pos += strlen(str) + 1;                \
	} while (0)
	PUTS(prov);
	PUTS(name);
	PUTS("file.c");
	PUTS("");
	for (unsigned int i = 0; i < n; i++)
		PUTS(names[i]);
#undef PUTS
	pos = (pos + 7) & ~(size_t)7;
	h.size = (uint32_t)pos;
	h.id = s->next_id++;
	h.kind = GT_KIND_EVENT;
	h.level = 4;
	h.nfields = (uint8_t)n;
	h.line = 42;
	memcpy(p, &h, sizeof(h));
	s->schema_used += pos;
	__atomic_store_n(&s->h->schema_head, s->schema_used, __ATOMIC_RELEASE);
	return h.id;
}

static inline struct gt_ring_ctl *seg_ctl(struct seg *s, uint32_t slot)
{
	return (struct gt_ring_ctl *)(s->map + s->h->slots_off + (size_t)slot * s->h->slot_size);
}

static inline unsigned char *seg_ring(struct seg *s, uint32_t slot)
{
	return (unsigned char *)seg_ctl(s, slot) + GT_RING_CTL_SIZE;
}

static inline void slot_claim(struct seg *s, uint32_t slot, uint32_t tid)
{
	struct gt_ring_ctl *c = seg_ctl(s, slot);

	c->state = GT_SLOT_ACTIVE;
	c->tid = tid;
}

/* Producer write (docs/abi.md "Rings"); returns false when the ring is full. */
static inline bool slot_write(struct seg *s, uint32_t slot, uint32_t id, uint64_t ts, const void *payload,
		       uint32_t len)
{
	struct gt_ring_ctl *c = seg_ctl(s, slot);
	unsigned char *ring = seg_ring(s, slot);
	uint32_t rs = s->h->ring_size;
	uint32_t need = (16 + len + 7) & ~7u, off = (uint32_t)(c->head & (rs - 1)), pad = 0;
	struct gt_rec_hdr h = { .size = need, .id = id, .ts = ts };

	if (rs - off < need)
		pad = rs - off;
	if (c->head + pad + need - c->tail > rs) {
		c->lost++;
		return false;
	}
	if (pad) {
		uint32_t ph[2] = { pad, GT_REC_PAD_ID };

		memcpy(ring + off, ph, 8);
		c->head += pad;
		off = 0;
	}
	memcpy(ring + off, &h, sizeof(h));
	memcpy(ring + off + 16, payload, len);
	memset(ring + off + 16 + len, 0, need - 16 - len);
	c->seq++;
	__atomic_store_n(&c->head, c->head + need, __ATOMIC_RELEASE);
	return true;
}

#endif
