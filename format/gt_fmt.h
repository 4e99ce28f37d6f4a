/* SPDX-License-Identifier: MIT */
/*
 * gt_fmt.h - private constants and codec helpers of the .gtrace format v1.
 *
 * Offsets, sizes and limits here are the tables of docs/format.md; keep the
 * two in step.  The helpers are small inline functions shared by the writer
 * and the reader: little-endian loads/stores, LEB128 varints, zigzag, a
 * growable byte buffer (writer side) and a bounds-checked cursor (reader
 * side, for untrusted bytes).
 */
#ifndef GT_FMT_H
#define GT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define GT_FILE_MAGIC "\x89GTRACE\n"
#define GT_FILE_VERSION_MAJOR 1u
#define GT_FILE_VERSION_MINOR 0u
#define GT_FILE_HDR_SIZE 64u
#define GT_FILE_HDR_MAX 4096u

#define GT_BLK_MAGIC 0x4b425447u /* "GTBK" */
#define GT_BLK_HDR_SIZE 32u
enum gt_blk_type {
	GT_BLK_META = 1,
	GT_BLK_SCHEMA = 2,
	GT_BLK_CHUNK = 3,
	GT_BLK_FOOTER = 4,
	GT_BLK_STATS = 5,
};

#define GT_TRAILER_SIZE 32u
#define GT_TRAILER_MAGIC "GTRAILER"

#define GT_CHUNK_HDR_SIZE 48u

/* Limits (docs/format.md, "Limits"). */
#define GT_RAW_MAX (8u << 20)			   /* chunk body, decompressed */
#define GT_CHUNK_BLK_MAX (GT_RAW_MAX + (1u << 20)) /* chunk payload on disk */
#define GT_BLK_MAX (256u << 20)			   /* any other block (the footer) */
#define GT_META_MAX 4096u
#define GT_META_VALUE_MAX 65536u
#define GT_SCHEMAS_MAX 65536u
#define GT_FILE_NAME_MAX 4096u
#define GT_CHUNKS_MAX (1u << 24)
#define GT_STATS_MAX (1u << 20)
#define GT_VALUE_STR_MAX 65536u

static inline uint16_t gt_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t gt_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v; /* x86_64 and every target we build for is little-endian */
}

static inline uint64_t gt_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline void gt_put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline void gt_put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void gt_put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "format code assumes little-endian");

static inline uint64_t gt_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t gt_unzigzag(uint64_t u)
{
	return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

/* Encode @v at @p (room for 10 bytes); return bytes written. */
static inline size_t gt_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/*
 * Decode a varint from [p, end).  Return bytes consumed, or 0 if it runs
 * past @end, is longer than 10 bytes or overflows 64 bits.
 */
static inline size_t gt_varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	size_t i;

	if (p < end && p[0] < 0x80) {
		*v = p[0];
		return 1;
	}
	for (i = 0; i < 10; i++) {
		uint8_t b;

		if (p + i >= end)
			return 0;
		b = p[i];
		if (i == 9 && b > 1)
			return 0;
		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

/* ---- writer side: a growable byte buffer ---- */
struct gt_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

int gt_buf_grow(struct gt_buf *b, size_t more);
void gt_buf_release(struct gt_buf *b);

static inline int gt_buf_reserve(struct gt_buf *b, size_t more)
{
	if (__builtin_expect(b->cap - b->len >= more, 1))
		return 0;
	return gt_buf_grow(b, more);
}

static inline int gt_buf_add(struct gt_buf *b, const void *p, size_t n)
{
	if (gt_buf_reserve(b, n) < 0)
		return -12; /* -ENOMEM, without dragging errno.h into every user */
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

/* Caller reserved 10 bytes. */
static inline void gt_buf_varint_fast(struct gt_buf *b, uint64_t v)
{
	b->len += gt_varint_put(b->data + b->len, v);
}

static inline int gt_buf_varint(struct gt_buf *b, uint64_t v)
{
	if (gt_buf_reserve(b, 10) < 0)
		return -12;
	gt_buf_varint_fast(b, v);
	return 0;
}

static inline int gt_buf_str(struct gt_buf *b, const char *s, size_t n)
{
	if (gt_buf_varint(b, n) < 0)
		return -12;
	return gt_buf_add(b, s, n);
}

/* ---- reader side: a bounds-checked cursor over untrusted bytes ---- */
struct gt_cur {
	const uint8_t *p;
	const uint8_t *end;
	bool bad; /* sticky: set by the first failed read, later reads return 0 */
};

static inline void gt_cur_init(struct gt_cur *c, const void *p, size_t n)
{
	c->p = p;
	c->end = (const uint8_t *)p + n;
	c->bad = false;
}

static inline size_t gt_cur_left(const struct gt_cur *c)
{
	return (size_t)(c->end - c->p);
}

static inline uint64_t gt_cur_varint(struct gt_cur *c)
{
	uint64_t v = 0;
	size_t n;

	if (c->bad)
		return 0;
	n = gt_varint_get(c->p, c->end, &v);
	if (!n) {
		c->bad = true;
		return 0;
	}
	c->p += n;
	return v;
}

static inline uint8_t gt_cur_u8(struct gt_cur *c)
{
	if (c->bad || c->p >= c->end) {
		c->bad = true;
		return 0;
	}
	return *c->p++;
}

static inline uint64_t gt_cur_u64(struct gt_cur *c)
{
	uint64_t v;

	if (c->bad || gt_cur_left(c) < 8) {
		c->bad = true;
		return 0;
	}
	v = gt_le64(c->p);
	c->p += 8;
	return v;
}

/* A str of at most @max bytes: returns a pointer into the input, or NULL. */
static inline const uint8_t *gt_cur_str(struct gt_cur *c, size_t max, size_t *len)
{
	uint64_t n = gt_cur_varint(c);
	const uint8_t *s;

	*len = 0;
	if (c->bad || n > max || n > gt_cur_left(c)) {
		c->bad = true;
		return NULL;
	}
	s = c->p;
	c->p += n;
	*len = (size_t)n;
	return s;
}

/* ---- shared by writer and reader ---- */
uint64_t gt_blk_check(const uint8_t *hdr);
void gt_blk_hdr_fill(uint8_t *hdr, uint32_t type, uint32_t size, uint32_t raw_size,
		     const void *payload);
uint64_t gt_file_hdr_check(const uint8_t *hdr);

/* Array growth shared by writer and reader: -ENOMEM or 0. */
int gt_grow(void **p, size_t *cap, size_t need, size_t elem);

/* Write all @n bytes of @p to @fd (retrying short writes and EINTR).  Return: 0, -errno, -EIO. */
int gt_fd_write_all(int fd, const void *p, size_t n);

/* Read exactly @n bytes at @off of @fd into @p.  Return: 0, -errno, -EIO at end of file. */
int gt_fd_pread_all(int fd, void *p, size_t n, uint64_t off);

/*
 * fsync the directory that holds @path, so that a name created or renamed in
 * it is durable.  Return: 0, or -errno (-EINVAL/-EROFS: the file system
 * cannot sync a directory, which callers may take as done).
 */
int gt_fd_sync_dir(const char *path);

/* 64-to-32-bit mixer (murmur3 finalizer half) for the open-addressing tables. */
static inline uint32_t gt_hash32(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (uint32_t)k;
}

#endif /* GT_FMT_H */
