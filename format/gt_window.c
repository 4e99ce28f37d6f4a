/* SPDX-License-Identifier: MIT */
/*
 * gt_window.c - the flight recorder's window: the most recent sealed chunks
 * of a session, kept in memory, dropped oldest first and whole.
 *
 * A chunk is kept exactly as the writer would have written it (its CHUNK
 * block, header included), so a snapshot is mostly copying: the file is
 * the header, one META, one SCHEMA and one STATS block rebuilt from the
 * writer's state, the kept chunk blocks unchanged, and a footer whose index
 * and per-schema totals cover the kept chunks only.  Each chunk is one
 * allocation with a reference count: the window holds one reference, a
 * snapshot image one more, so an image can be written to disk on another
 * thread while the writer goes on adding and evicting.
 *
 * Only the writer's thread changes the window; the counters are atomics so
 * that `gtrace status` can read them from the collector's control thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include <gtrace/error.h>

#include "gt_fmt.h"
#include "gt_window.h"

/* One kept CHUNK block; immutable after creation except @refs. */
struct gt_wblk {
	uint32_t refs; /* atomic: the window's reference plus one per image */
	uint32_t len;  /* bytes of data[]: block header + payload */
	uint32_t size, raw_size;
	uint32_t nevents, nschemas;
	uint64_t min_ts, max_ts;
	uint8_t data[];
};

struct gt_window {
	uint64_t max_bytes;
	/* FIFO of chunks, oldest at q[head]; writer thread only */
	struct gt_wblk **q;
	size_t head, n, cap;
	/* counters: written by the writer thread, read by any (relaxed atomics) */
	uint64_t bytes, chunks, events, evicted_chunks, evicted_events;
};

struct gt_window_image {
	uint32_t clock;
	struct gt_clock_sample start, last;
	uint8_t *meta, *schemas, *stats; /* one allocation, at meta */
	size_t meta_len, schemas_len, stats_len;
	struct gt_wblk **blks;
	size_t n;
	uint64_t nevents;
};

int gt_window_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	switch (*end) {
	case 'k':
	case 'K':
		mult = 1ull << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mult = 1ull << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mult = 1ull << 30;
		end++;
		break;
	}
	if (mult > 1 && !strcmp(end, "iB"))
		end += 2;
	else if (!strcmp(end, "B"))
		end++;
	if (*end)
		return -EINVAL;
	if (v > GT_WINDOW_MAX / mult || v * mult < GT_WINDOW_MIN || v * mult > GT_WINDOW_MAX)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

static void gt_wblk_put(struct gt_wblk *b)
{
	/* pairs with the other holders' decrements: the last one frees */
	if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(b);
}

int gt_window_new(uint64_t max_bytes, struct gt_window **out)
{
	struct gt_window *win;

	*out = NULL;
	if (!max_bytes)
		return -EINVAL;
	win = calloc(1, sizeof(*win));
	if (!win)
		return -ENOMEM;
	win->max_bytes = max_bytes;
	*out = win;
	return 0;
}

void gt_window_free(struct gt_window *win)
{
	if (!win)
		return;
	for (size_t i = 0; i < win->n; i++)
		gt_wblk_put(win->q[(win->head + i) % win->cap]);
	free(win->q);
	free(win);
}

static void gt_window_evict(struct gt_window *win)
{
	struct gt_wblk *b = win->q[win->head];

	win->head = (win->head + 1) % win->cap;
	win->n--;
	__atomic_store_n(&win->chunks, win->n, __ATOMIC_RELAXED);
	__atomic_store_n(&win->bytes, win->bytes - b->len, __ATOMIC_RELAXED);
	__atomic_store_n(&win->events, win->events - b->nevents, __ATOMIC_RELAXED);
	__atomic_store_n(&win->evicted_chunks, win->evicted_chunks + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&win->evicted_events, win->evicted_events + b->nevents, __ATOMIC_RELAXED);
	gt_wblk_put(b);
}

int gt_window_add(struct gt_window *win, const uint8_t *blk, size_t len)
{
	const uint8_t *ch = blk + GT_BLK_HDR_SIZE;
	struct gt_wblk *b;
	uint32_t size, nsch;

	/* our own bytes, but cheap to check: a whole CHUNK block with its schema table */
	if (len < GT_BLK_HDR_SIZE + GT_CHUNK_HDR_SIZE || gt_le32(blk) != GT_BLK_MAGIC ||
	    gt_le32(blk + 4) != GT_BLK_CHUNK)
		return -EINVAL;
	size = gt_le32(blk + 8);
	nsch = gt_le32(ch + 4);
	if (size != len - GT_BLK_HDR_SIZE || size > GT_CHUNK_BLK_MAX ||
	    nsch > (size - GT_CHUNK_HDR_SIZE) / 8)
		return -EINVAL;
	if (win->n == win->cap) {
		size_t cap = win->cap ? win->cap * 2 : 64;
		struct gt_wblk **q = malloc(cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		for (size_t i = 0; i < win->n; i++)
			q[i] = win->q[(win->head + i) % win->cap];
		free(win->q);
		win->q = q;
		win->head = 0;
		win->cap = cap;
	}
	b = malloc(sizeof(*b) + len);
	if (!b)
		return -ENOMEM;
	b->refs = 1;
	b->len = (uint32_t)len;
	b->size = size;
	b->raw_size = gt_le32(blk + 12);
	b->nevents = gt_le32(ch);
	b->nschemas = nsch;
	b->min_ts = gt_le64(ch + 8);
	b->max_ts = gt_le64(ch + 16);
	memcpy(b->data, blk, len);
	win->q[(win->head + win->n) % win->cap] = b;
	win->n++;
	__atomic_store_n(&win->chunks, win->n, __ATOMIC_RELAXED);
	__atomic_store_n(&win->bytes, win->bytes + len, __ATOMIC_RELAXED);
	__atomic_store_n(&win->events, win->events + b->nevents, __ATOMIC_RELAXED);
	while (win->n > 1 && win->bytes > win->max_bytes)
		gt_window_evict(win);
	return 0;
}

void gt_window_stats(const struct gt_window *win, struct gt_window_stats *st)
{
	st->max_bytes = win->max_bytes;
	st->bytes = __atomic_load_n(&win->bytes, __ATOMIC_RELAXED);
	st->chunks = __atomic_load_n(&win->chunks, __ATOMIC_RELAXED);
	st->events = __atomic_load_n(&win->events, __ATOMIC_RELAXED);
	st->evicted_chunks = __atomic_load_n(&win->evicted_chunks, __ATOMIC_RELAXED);
	st->evicted_events = __atomic_load_n(&win->evicted_events, __ATOMIC_RELAXED);
}

bool gt_window_first_ts(const struct gt_window *win, uint64_t *ts)
{
	uint64_t m = UINT64_MAX;

	/* chunks of different batches may overlap in time: take the minimum */
	for (size_t i = 0; i < win->n; i++) {
		const struct gt_wblk *b = win->q[(win->head + i) % win->cap];

		if (b->min_ts < m)
			m = b->min_ts;
	}
	if (!win->n)
		return false;
	*ts = m;
	return true;
}

int gt_window_image_new(const struct gt_window *win, const struct gt_window_parts *p,
			struct gt_window_image **out)
{
	struct gt_window_image *img;
	size_t total = p->meta_len + p->schemas_len + p->stats_len;

	*out = NULL;
	if (win->n > GT_CHUNKS_MAX)
		return -GT_ELIMIT;
	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	img->meta = malloc(total ? total : 1);
	img->blks = malloc((win->n ? win->n : 1) * sizeof(*img->blks));
	if (!img->meta || !img->blks) {
		gt_window_image_free(img);
		return -ENOMEM;
	}
	img->clock = p->clock;
	img->start = p->start;
	img->last = p->last;
	img->schemas = img->meta + p->meta_len;
	img->stats = img->schemas + p->schemas_len;
	img->meta_len = p->meta_len;
	img->schemas_len = p->schemas_len;
	img->stats_len = p->stats_len;
	if (p->meta_len)
		memcpy(img->meta, p->meta, p->meta_len);
	if (p->schemas_len)
		memcpy(img->schemas, p->schemas, p->schemas_len);
	if (p->stats_len)
		memcpy(img->stats, p->stats, p->stats_len);
	for (size_t i = 0; i < win->n; i++) {
		struct gt_wblk *b = win->q[(win->head + i) % win->cap];

		__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED); /* the window holds one */
		img->blks[img->n++] = b;
		img->nevents += b->nevents;
	}
	*out = img;
	return 0;
}

uint64_t gt_window_image_events(const struct gt_window_image *img)
{
	return img->nevents;
}

void gt_window_image_free(struct gt_window_image *img)
{
	if (!img)
		return;
	for (size_t i = 0; i < img->n; i++)
		gt_wblk_put(img->blks[i]);
	free(img->blks);
	free(img->meta);
	free(img);
}

/* (schema id, count) of one chunk's schema table, for the footer totals. */
struct gt_wtotal {
	uint32_t id;
	uint64_t n;
};

static int gt_cmp_total(const void *pa, const void *pb)
{
	const struct gt_wtotal *a = pa, *b = pb;

	return a->id < b->id ? -1 : a->id > b->id;
}

static int gt_img_block(struct gt_buf *out, uint32_t type, const uint8_t *p, size_t n)
{
	uint8_t hdr[GT_BLK_HDR_SIZE];

	if (n > GT_BLK_MAX)
		return -GT_ELIMIT;
	gt_blk_hdr_fill(hdr, type, (uint32_t)n, (uint32_t)n, p);
	if (gt_buf_add(out, hdr, sizeof(hdr)) < 0 || gt_buf_add(out, p, n) < 0)
		return -ENOMEM;
	return 0;
}

/* Header, META, SCHEMA, STATS into @out. */
static int gt_img_prefix(const struct gt_window_image *img, struct gt_buf *out)
{
	uint8_t hdr[GT_FILE_HDR_SIZE];
	int ret;

	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, GT_FILE_MAGIC, 8);
	gt_put16(hdr + 8, GT_FILE_VERSION_MAJOR);
	gt_put16(hdr + 10, GT_FILE_VERSION_MINOR);
	gt_put32(hdr + 12, GT_FILE_HDR_SIZE);
	gt_put32(hdr + 20, img->clock);
	gt_put64(hdr + 24, img->start.ticks);
	gt_put64(hdr + 32, img->start.mono_ns);
	gt_put64(hdr + 40, img->start.realtime_ns);
	gt_put64(hdr + 56, gt_file_hdr_check(hdr));
	if (gt_buf_add(out, hdr, sizeof(hdr)) < 0)
		return -ENOMEM;
	ret = gt_img_block(out, GT_BLK_META, img->meta, img->meta_len);
	if (!ret && img->schemas_len > 1) /* "\0": no schema at all */
		ret = gt_img_block(out, GT_BLK_SCHEMA, img->schemas, img->schemas_len);
	if (!ret)
		ret = gt_img_block(out, GT_BLK_STATS, img->stats, img->stats_len);
	return ret;
}

/*
 * The footer (payload built in @f) and the trailer into @out, for chunks
 * written back to back from file offset @off on; @footer receives the
 * footer's offset.
 */
static int gt_img_footer(const struct gt_window_image *img, uint64_t off, struct gt_buf *f,
			 struct gt_buf *out, uint64_t *footer)
{
	struct gt_wtotal *t = NULL;
	size_t nt = 0, k = 0;
	uint8_t tr[GT_TRAILER_SIZE];
	int ret = 0;

	for (size_t i = 0; i < img->n; i++)
		nt += img->blks[i]->nschemas;
	t = malloc((nt ? nt : 1) * sizeof(*t));
	if (!t || gt_buf_reserve(f, 24) < 0) {
		free(t);
		return -ENOMEM;
	}
	gt_put64(f->data, img->last.ticks);
	gt_put64(f->data + 8, img->last.mono_ns);
	gt_put64(f->data + 16, img->last.realtime_ns);
	f->len = 24;
	ret |= gt_buf_varint(f, img->n);
	for (size_t i = 0; i < img->n; i++) {
		const struct gt_wblk *b = img->blks[i];
		const uint8_t *tab = b->data + GT_BLK_HDR_SIZE + GT_CHUNK_HDR_SIZE;

		ret |= gt_buf_varint(f, off);
		ret |= gt_buf_varint(f, b->size);
		ret |= gt_buf_varint(f, b->raw_size);
		ret |= gt_buf_varint(f, b->nevents);
		ret |= gt_buf_varint(f, b->min_ts);
		ret |= gt_buf_varint(f, b->max_ts);
		ret |= gt_buf_varint(f, b->nschemas);
		for (uint32_t s = 0; s < b->nschemas; s++) {
			t[k].id = gt_le32(tab + 8 * s);
			t[k].n = gt_le32(tab + 8 * s + 4);
			ret |= gt_buf_varint(f, t[k].id);
			ret |= gt_buf_varint(f, t[k].n);
			k++;
		}
		off += b->len;
	}
	/* totals: events per schema over the kept chunks (the reader checks the sum) */
	if (nt > 1)
		qsort(t, nt, sizeof(*t), gt_cmp_total);
	k = 0;
	for (size_t i = 0; i < nt; i++) {
		if (k && t[k - 1].id == t[i].id)
			t[k - 1].n += t[i].n;
		else
			t[k++] = t[i];
	}
	if (gt_buf_add(f, img->schemas, img->schemas_len) < 0)
		ret = -ENOMEM;
	ret |= gt_buf_varint(f, k);
	for (size_t i = 0; i < k; i++) {
		ret |= gt_buf_varint(f, t[i].id);
		ret |= gt_buf_varint(f, t[i].n);
	}
	free(t);
	if (gt_buf_add(f, img->stats, img->stats_len) < 0 ||
	    gt_buf_add(f, img->meta, img->meta_len) < 0 || ret)
		return -ENOMEM;
	ret = gt_img_block(out, GT_BLK_FOOTER, f->data, f->len);
	if (ret < 0)
		return ret;
	*footer = off;
	gt_put64(tr, off);
	gt_put64(tr + 8, GT_BLK_HDR_SIZE + f->len);
	gt_put64(tr + 16, XXH3_64bits(f->data, f->len));
	memcpy(tr + 24, GT_TRAILER_MAGIC, 8);
	return gt_buf_add(out, tr, sizeof(tr)) < 0 ? -ENOMEM : 0;
}

int gt_window_image_write(const struct gt_window_image *img, const char *path, uint64_t *bytes)
{
	struct gt_buf out = { 0 }, f = { 0 };
	uint64_t first = 0, footer = 0;
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = gt_img_prefix(img, &out);
	if (!ret)
		ret = gt_fd_write_all(fd, out.data, out.len);
	first = out.len;
	for (size_t i = 0; i < img->n && !ret; i++)
		ret = gt_fd_write_all(fd, img->blks[i]->data, img->blks[i]->len);
	if (!ret) {
		out.len = 0;
		ret = gt_img_footer(img, first, &f, &out, &footer);
	}
	if (!ret)
		ret = gt_fd_write_all(fd, out.data, out.len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && bytes)
		*bytes = footer + out.len;
	if (ret < 0)
		unlink(path);
	gt_buf_release(&out);
	gt_buf_release(&f);
	return ret;
}
