/* SPDX-License-Identifier: MIT */
/*
 * gt_window.h - the flight recorder's in-memory window (`--mode memory`).
 *
 * A writer opened with gt_writer_opts.window_bytes > 0 keeps its sealed
 * CHUNK blocks here instead of writing them to a file; the oldest chunks
 * are dropped whole once the window holds more than its size.  A snapshot
 * (gt_writer_snapshot(), or gt_writer_snapshot_prepare() then
 * gt_window_image_write() on another thread) turns the window into a
 * complete .gtrace file: header, META, SCHEMA (every schema), STATS, the
 * kept chunks byte for byte, a FOOTER indexing them, trailer
 * (docs/format.md, "Memory mode").
 *
 * Threads: the writer's thread adds chunks; gt_window_stats() may be called
 * from any thread (atomic counters); an image is immutable and independent
 * of the window (chunks are reference counted), so it can be written on
 * another thread while the window goes on.
 *
 * All functions return >= 0 on success or a negative errno / -GT_E* code.
 */
#ifndef GT_WINDOW_H
#define GT_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gt_writer.h"

#define GT_WINDOW_DEFAULT (64ull << 20) /* --window default */
#define GT_WINDOW_MIN (1ull << 20)      /* smallest --window */
#define GT_WINDOW_MAX (64ull << 30)     /* largest --window */

struct gt_window;
struct gt_window_image;

/* Counters of a window; every field is read atomically, not all at one instant. */
struct gt_window_stats {
	uint64_t max_bytes;      /* the window size */
	uint64_t bytes;          /* CHUNK block bytes kept */
	uint64_t chunks;         /* chunks kept */
	uint64_t events;         /* events in the kept chunks */
	uint64_t evicted_chunks; /* chunks dropped since the session began */
	uint64_t evicted_events; /* their events */
};

/**
 * gt_window_parse_size() - parse a --window value: a positive integer with
 * an optional K, M or G suffix (powers of 1024, optionally followed by "iB"
 * or "B"), between GT_WINDOW_MIN and GT_WINDOW_MAX.
 * @s: copies.  @out: the size in bytes.
 * Return: 0; -EINVAL (not a size) or -ERANGE (outside the limits).
 */
int gt_window_parse_size(const char *s, uint64_t *out);

/**
 * gt_window_new() - an empty window of @max_bytes (compressed chunk bytes).
 * @out: owned, free with gt_window_free().  Return: 0, -EINVAL, -ENOMEM.
 */
int gt_window_new(uint64_t max_bytes, struct gt_window **out);

/** gt_window_free() - drop every chunk the window holds (images keep theirs).  Accepts NULL. */
void gt_window_free(struct gt_window *win);

/**
 * gt_window_add() - keep one sealed CHUNK block (32-byte block header +
 * payload, as the writer built it; copies), then drop the oldest chunks
 * while the window holds more than its size and more than one chunk.
 * Return: 0, -EINVAL (not a whole CHUNK block), -ENOMEM.
 */
int gt_window_add(struct gt_window *win, const uint8_t *blk, size_t len);

/** gt_window_stats() - copy the counters (any thread). */
void gt_window_stats(const struct gt_window *win, struct gt_window_stats *st);

/**
 * gt_window_first_ts() - the smallest event tick of the kept chunks.
 * Return: true and @ts set, or false when the window is empty.  Writer thread.
 */
bool gt_window_first_ts(const struct gt_window *win, uint64_t *ts);

/* What a snapshot needs besides the chunks: the writer's state, encoded. */
struct gt_window_parts {
	uint32_t clock;                    /* enum gt_clock */
	struct gt_clock_sample start;      /* header start sample */
	struct gt_clock_sample last;       /* footer sample */
	const uint8_t *meta;               /* META payload (varint n + pairs) */
	size_t meta_len;
	const uint8_t *schemas; /* SCHEMA payload (varint n + schemas), every schema */
	size_t schemas_len;
	const uint8_t *stats;   /* STATS payload (whole-session loss counters) */
	size_t stats_len;
};

/**
 * gt_window_image_new() - capture the window as it is now, with @parts.
 * @parts: copies.  @out: owned, free with gt_window_image_free().
 * Writer thread (or the writer idle).  Return: 0, -ENOMEM, -GT_ELIMIT.
 */
int gt_window_image_new(const struct gt_window *win, const struct gt_window_parts *parts,
			struct gt_window_image **out);

/** gt_window_image_events() - events in the image's chunks. */
uint64_t gt_window_image_events(const struct gt_window_image *img);

/**
 * gt_window_image_write() - write the image as a complete .gtrace file at
 * @path (created with O_EXCL, mode 0644, fsynced).  Any thread.
 * @bytes: receives the file size (may be NULL).
 * Return: 0; -EEXIST; another -errno (the partial file is removed).
 */
int gt_window_image_write(const struct gt_window_image *img, const char *path, uint64_t *bytes);

/** gt_window_image_free() - release an image.  Accepts NULL. */
void gt_window_image_free(struct gt_window_image *img);

#endif /* GT_WINDOW_H */
