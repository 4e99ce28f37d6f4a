/* SPDX-License-Identifier: MIT */
/*
 * fuzz_segment.c - libFuzzer entry point for the collector's view of a
 * producer segment: header validation, the schema region parser and the
 * ring drain (collector/segment.c, schema.c, drain.c).
 *
 * The input is a hostile producer.  It is laid into a fixed-geometry
 * segment (4 KiB header page, 4 KiB schema region, two 4 KiB rings), so the
 * harness never allocates from a size the input declares:
 *
 *   byte 0          flags: bit 0 keep the input's header geometry as is
 *                   (else the layout fields are forced valid and only the
 *                   counters come from the input); bit 1 drain a second
 *                   time after moving every head by the input's last bytes
 *   bytes 1..128    struct gt_shm_header
 *   bytes 129..384  struct gt_ring_ctl of slot 0 and slot 1
 *   bytes 385..386  u16 L: bytes of schema region that follow (<= 4096)
 *   L bytes         schema region
 *   the rest        ring 0 data, then ring 1 data (4096 bytes each)
 *
 * The segment is attached with gt_collector_attach_map() and drained into a
 * sink that reads every byte it is handed, so an out-of-bounds payload or
 * schema string is an AddressSanitizer report.  Anything but a clean
 * return is a bug.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/gt_col_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_SCHEMA 4096u
#define FZ_NSLOTS 2u
#define FZ_RING 4096u
#define FZ_SEG (GT_SHM_HDR_SIZE + FZ_SCHEMA + FZ_NSLOTS * (GT_RING_CTL_SIZE + FZ_RING))
#define FZ_ALLOC ((FZ_SEG + 4095u) & ~4095u)

static volatile uint64_t fz_sink;

static uint64_t fz_str(const char *s)
{
	return s ? strlen(s) : 0;
}

static int fz_schema(void *ctx, const struct gt_schema_desc *s)
{
	(void)ctx;
	fz_sink += s->id + s->kind + s->level + s->keywords + s->line + s->nfields;
	fz_sink += fz_str(s->provider) + fz_str(s->name) + fz_str(s->file) + fz_str(s->format);
	for (uint32_t i = 0; i < s->nfields && i < GT_FIELDS_MAX; i++)
		fz_sink += s->fields[i].type + fz_str(s->fields[i].name);
	return 0;
}

static int fz_event(void *ctx, uint64_t ts, uint32_t pid, uint32_t tid, uint32_t sid,
		    const void *payload, size_t len)
{
	const unsigned char *p = payload;

	(void)ctx;
	fz_sink += ts + pid + tid + sid + len;
	for (size_t i = 0; i < len; i++)
		fz_sink += p[i];
	return 0;
}

static int fz_lost(void *ctx, uint32_t pid, uint32_t tid, uint64_t n)
{
	(void)ctx;
	fz_sink += pid + tid + n;
	return 0;
}

static int fz_corrupt(void *ctx, uint32_t pid, uint64_t n)
{
	(void)ctx;
	fz_sink += pid + n;
	return 0;
}

static int fz_clock(void *ctx, const struct gt_clock_sample *s)
{
	(void)ctx;
	fz_sink += s->ticks;
	return 0;
}

/* Copy up to @n bytes of the input at *@pos into @dst (the rest stays zero). */
static void fz_take(void *dst, size_t n, const uint8_t *data, size_t size, size_t *pos)
{
	size_t k = *pos < size ? size - *pos : 0;

	if (k > n)
		k = n;
	memcpy(dst, data + *pos, k);
	*pos += k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gt_collector_opts o = { 0 };
	struct gt_collector *c = NULL;
	struct gt_segment *sg;
	static unsigned char *map; /* reused: fresh pages per input would dominate the run time */
	struct gt_shm_header *h;
	size_t pos = 1, slots_off = GT_SHM_HDR_SIZE + FZ_SCHEMA;
	uint16_t slen = 0;
	uint8_t flags = size ? data[0] : 0;

	if (!map)
		map = aligned_alloc(4096, FZ_ALLOC);
	if (!map)
		return 0;
	memset(map, 0, FZ_ALLOC);
	h = (struct gt_shm_header *)map;
	fz_take(h, sizeof(*h), data, size, &pos);
	if (!(flags & 1)) {
		h->magic = GT_SHM_MAGIC;
		h->abi_version = GT_ABI_VERSION;
		h->struct_size = sizeof(*h);
		h->segment_size = FZ_SEG;
		h->pid = 1000;
		h->clock = GT_CLOCK_MONO;
		h->schema_off = GT_SHM_HDR_SIZE;
		h->schema_size = FZ_SCHEMA;
		h->slots_off = (uint32_t)slots_off;
		h->nslots = FZ_NSLOTS;
		h->slot_size = GT_RING_CTL_SIZE + FZ_RING;
		h->ring_size = FZ_RING;
	}
	for (uint32_t i = 0; i < FZ_NSLOTS; i++)
		fz_take(map + slots_off + i * (GT_RING_CTL_SIZE + FZ_RING), GT_RING_CTL_SIZE, data,
			size, &pos);
	fz_take(&slen, sizeof(slen), data, size, &pos);
	fz_take(map + GT_SHM_HDR_SIZE, slen < FZ_SCHEMA ? slen : FZ_SCHEMA, data, size, &pos);
	for (uint32_t i = 0; i < FZ_NSLOTS; i++)
		fz_take(map + slots_off + i * (GT_RING_CTL_SIZE + FZ_RING) + GT_RING_CTL_SIZE,
			FZ_RING, data, size, &pos);

	o.clock = GT_CLOCK_MONO;
	o.sink.add_schema = fz_schema;
	o.sink.add_event = fz_event;
	o.sink.add_lost = fz_lost;
	o.sink.add_corrupt = fz_corrupt;
	o.sink.clock = fz_clock;
	if (gt_collector_new(&o, &c) < 0)
		goto out;
	if (gt_collector_attach_map(c, map, FZ_SEG, 1000, false, &sg) == 0) {
		gt_collector_drain(c);
		if (flags & 2) {
			/* the producer moves on: heads (and the schema head) grow */
			for (uint32_t i = 0; i < FZ_NSLOTS; i++) {
				struct gt_ring_ctl *ctl = (struct gt_ring_ctl *)(map + slots_off +
						i * (GT_RING_CTL_SIZE + FZ_RING));

				ctl->head += size > i + 1 ? data[size - 1 - i] * 8u : 0;
				ctl->lost += flags >> 4;
			}
			h->schema_head += size > 3 ? data[size - 3] * 8u : 0;
			h->lost_noslot += flags >> 5;
			gt_collector_drain(c);
		}
		gt_collector_finish(c);
	}
out:
	gt_collector_free(c);
	return 0;
}
