/* SPDX-License-Identifier: MIT */
/*
 * segment.c - attaching a producer's shared-memory segment.
 *
 * A producer hands the collector a sealed memfd.  Before mapping it the
 * collector checks that it cannot shrink (F_SEAL_SHRINK: no SIGBUS later)
 * and that its size is the one the header declares, within sane bounds;
 * after mapping it copies the header out and validates every offset and size
 * in the copy (docs/abi.md, "Segment").  From then on only the copy's layout
 * is used; the producer's live header is read only for its counters.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gt_col_int.h"

int gt_segment_validate(const void *map, size_t size, uint32_t pid, uint32_t clock,
			struct gt_shm_header *out)
{
	struct gt_shm_header h;
	uint64_t slots_bytes;

	if (size < GT_SHM_HDR_SIZE || size > GT_SEG_MAX_BYTES)
		return -GT_ELIMIT;
	memcpy(&h, map, sizeof(h));
	if (h.magic != GT_SHM_MAGIC)
		return -GT_ECORRUPT;
	if (h.abi_version != GT_ABI_VERSION)
		return -GT_EVERSION;
	if (h.struct_size < sizeof(h) || h.struct_size > GT_SHM_HDR_SIZE)
		return -GT_ECORRUPT;
	if (h.segment_size != size || h.pid != pid || h.clock != clock)
		return -GT_ECORRUPT;
	if (h.schema_off < GT_SHM_HDR_SIZE || h.schema_off % 4096 || h.schema_size % 4096 ||
	    h.schema_size > GT_SEG_MAX_SCHEMA || h.slots_off % 4096)
		return -GT_ECORRUPT;
	if ((uint64_t)h.schema_off + h.schema_size > h.slots_off)
		return -GT_ECORRUPT;
	if (h.ring_size < 4096 || h.ring_size > GT_SEG_MAX_RING ||
	    (h.ring_size & (h.ring_size - 1)))
		return -GT_ECORRUPT;
	if (h.slot_size != GT_RING_CTL_SIZE + h.ring_size)
		return -GT_ECORRUPT;
	if (h.nslots < 1 || h.nslots > GT_SEG_MAX_SLOTS)
		return -GT_ECORRUPT;
	slots_bytes = (uint64_t)h.nslots * h.slot_size; /* < 2^12 * 2^29: no overflow */
	if ((uint64_t)h.slots_off + slots_bytes != h.segment_size)
		return -GT_ECORRUPT;
	*out = h;
	return 0;
}

int gt_collector_attach_map(struct gt_collector *c, void *map, size_t size, uint32_t pid,
			    bool owned, struct gt_segment **out)
{
	struct gt_segment *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	ret = gt_segment_validate(map, size, pid, c->clock, &s->hdr);
	if (ret < 0) {
		free(s);
		return ret;
	}
	s->slots = calloc(s->hdr.nslots, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return -ENOMEM;
	}
	s->map = map;
	s->size = size;
	s->owned = owned;
	s->pid = pid;
	/*
	 * Lost counters that are already non-zero belong to this process (a
	 * forked child copies nothing but the schema region), so start from 0.
	 */
	s->next = c->segs;
	c->segs = s;
	c->st.segments++;
	gt_segment_parse_schemas(c, s);
	*out = s;
	return 0;
}

int gt_collector_attach_fd(struct gt_collector *c, int fd, uint32_t pid, struct gt_segment **out)
{
	struct stat st;
	void *map;
	int seals, ret;

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return -errno;
	if (!(seals & F_SEAL_SHRINK))
		return -EPERM;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)GT_SHM_HDR_SIZE ||
	    (uint64_t)st.st_size > GT_SEG_MAX_BYTES)
		return -GT_ELIMIT;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	ret = gt_collector_attach_map(c, map, (size_t)st.st_size, pid, true, out);
	if (ret < 0)
		munmap(map, (size_t)st.st_size);
	return ret;
}

void gt_segment_exit_info(const struct gt_segment *s, int *status, bool *normal)
{
	const struct gt_shm_header *live = (const struct gt_shm_header *)s->map;
	uint32_t flags = __atomic_load_n(&live->exit_flags, __ATOMIC_ACQUIRE);

	*normal = flags & GT_EXIT_NORMAL;
	*status = *normal ? __atomic_load_n(&live->exit_status, __ATOMIC_RELAXED) : -1;
}

void gt_collector_detach(struct gt_collector *c, struct gt_segment *s)
{
	struct gt_segment **pp;

	if (!s)
		return;
	c->st.detached++;
	for (pp = &c->segs; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (s->owned)
		munmap(s->map, s->size);
	free(s->slots);
	free(s->idmap);
	free(s);
}
