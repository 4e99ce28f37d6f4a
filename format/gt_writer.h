/* SPDX-License-Identifier: MIT */
/*
 * gt_writer.h - writes one .gtrace file (format v1, docs/format.md).
 *
 * The collector hands the writer schemas and events as they come out of the
 * rings; the writer buffers events into a chunk, sorts the chunk by
 * timestamp, encodes it column by column, compresses it with zstd, checksums
 * it and appends it; on close it writes the footer index and the trailer.
 * A file whose writer never closed is still readable up to its last whole
 * chunk.  Not thread-safe: one thread drives one writer.
 *
 * All functions return >= 0 on success or a negative errno / -GT_E* code.
 */
#ifndef GT_WRITER_H
#define GT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gtrace/abi.h>

struct gt_writer;

/* One field of a schema. */
struct gt_field_desc {
	uint8_t type;     /* enum gt_type */
	const char *name; /* copies */
};

/*
 * A schema as the writer stores it.  @id is chosen by the caller, unique in
 * the file, >= 1.  Strings are copied.  @format is NULL unless GT_KIND_LOG.
 */
struct gt_schema_desc {
	uint32_t id;
	uint8_t kind;  /* enum gt_kind */
	uint8_t level; /* 1..5 */
	uint64_t keywords;
	const char *provider;
	const char *name;
	const char *file; /* may be NULL */
	uint32_t line;
	const char *format; /* may be NULL */
	uint32_t nfields;   /* <= GT_FIELDS_MAX */
	const struct gt_field_desc *fields;
};

/* A clock sample: the same instant read on the event clock and the system clocks. */
struct gt_clock_sample {
	uint64_t ticks;       /* event clock (TSC ticks or CLOCK_MONOTONIC ns) */
	uint64_t mono_ns;     /* CLOCK_MONOTONIC */
	uint64_t realtime_ns; /* CLOCK_REALTIME, ns since the epoch */
};

struct gt_writer_opts {
	uint32_t clock;       /* enum gt_clock of every event timestamp */
	uint32_t chunk_bytes; /* seal a chunk when its raw size reaches this; 0 = 1 MiB */
	int zstd_level;       /* 0 = default (3) */
	bool sync_full;       /* close: fsync (durable); else start writeback, do not wait */
};

/**
 * gt_writer_open() - create @path (O_EXCL, mode 0644) and write the header.
 * @path: copies.  @opts: copies; NULL for defaults.
 * @start: the session's first clock sample; event time 0 in the reader.
 * @out: owned, free with gt_writer_close().
 * Return: 0, -EEXIST, or another -errno from open/write.
 */
int gt_writer_open(const char *path, const struct gt_writer_opts *opts,
		   const struct gt_clock_sample *start, struct gt_writer **out);

struct gt_window;
struct gt_window_image;

/**
 * gt_writer_open_window() - a writer in memory mode (flight recorder): it
 * writes no file; sealed chunks stay in a window of @window_bytes
 * compressed bytes whose oldest chunks are dropped whole (format/gt_window.h).
 * gt_writer_snapshot() writes the window as a file; close drops it.
 * @opts, @start, @out: as gt_writer_open().
 * Return: 0, -EINVAL, -ENOMEM.
 */
int gt_writer_open_window(const struct gt_writer_opts *opts, const struct gt_clock_sample *start,
			  uint64_t window_bytes, struct gt_writer **out);

/**
 * gt_writer_snapshot_prepare() - memory mode: seal the open chunk and
 * capture the window with the writer's schemas, loss counts and meta (plus
 * the keys mode, window_bytes, window_evicted_chunks, window_evicted_events,
 * window_start_ns, docs/format.md).  The window goes on.
 * @out: owned, free with gt_window_image_free(); write it with
 * gt_window_image_write() from any thread.
 * Return: 0; -EINVAL (not memory mode); the writer's sticky error; -ENOMEM.
 */
int gt_writer_snapshot_prepare(struct gt_writer *w, struct gt_window_image **out);

/**
 * gt_writer_snapshot() - gt_writer_snapshot_prepare() and write it to @path
 * (O_EXCL: -EEXIST when it exists).  @bytes, @events: receive the file size
 * and its event count (either may be NULL).
 */
int gt_writer_snapshot(struct gt_writer *w, const char *path, uint64_t *bytes, uint64_t *events);

/** gt_writer_window() - the window of a memory-mode writer (borrowed), or NULL. */
struct gt_window *gt_writer_window(const struct gt_writer *w);

/**
 * gt_writer_set_meta() - set a session attribute (UTF-8 key and value).
 * Known keys (docs/format.md): op, command, cwd, host, user, gtrace_version,
 * profile, exit_status, exit_signal, timed_out, end_realtime_ns.
 * Header-time keys are written with the next chunk and again in the footer;
 * setting a key twice keeps the last value.  Copies.
 */
int gt_writer_set_meta(struct gt_writer *w, const char *key, const char *value);

/** gt_writer_add_schema() - declare schema @s before any event using s->id. Copies. */
int gt_writer_add_schema(struct gt_writer *w, const struct gt_schema_desc *s);

/**
 * gt_writer_add_event() - append one event.
 * @ts: event clock ticks.  @payload/@len: the ring payload of schema
 * @schema_id (see struct gt_rec_hdr); copies.
 * Return: 0; -GT_ECORRUPT if the payload does not match the schema (the
 * event is not written, the caller counts it); -ENOENT for an unknown
 * schema; -errno if sealing a full chunk failed to write.
 */
int gt_writer_add_event(struct gt_writer *w, uint64_t ts, uint32_t pid, uint32_t tid,
			uint32_t schema_id, const void *payload, size_t len);

/** gt_writer_add_lost() - add @n events lost by thread (@pid, @tid). */
int gt_writer_add_lost(struct gt_writer *w, uint32_t pid, uint32_t tid, uint64_t n);

/** gt_writer_add_corrupt() - add @n records dropped as malformed from process @pid. */
int gt_writer_add_corrupt(struct gt_writer *w, uint32_t pid, uint64_t n);

/** gt_writer_clock() - record a later clock sample (call at least once a second). */
int gt_writer_clock(struct gt_writer *w, const struct gt_clock_sample *s);

/** gt_writer_flush() - seal the open chunk (if any) and write it out. */
int gt_writer_flush(struct gt_writer *w);

/** gt_writer_bytes() - bytes written to the file so far. */
uint64_t gt_writer_bytes(const struct gt_writer *w);

/** gt_writer_events() - events accepted so far. */
uint64_t gt_writer_events(const struct gt_writer *w);

/**
 * gt_writer_open_fd() - adopt a file whose header and blocks are already
 * written (gtrace repair): later writes append at @off.
 * @fd: takes (closed by gt_writer_close(), not on error), open for writing.
 * @off: end of the last whole block to keep; the file must hold the header.
 * @opts: copies; NULL for defaults; opts->clock must match the file header.
 * @start: the header's clock sample.  @out: owned, free with gt_writer_close().
 * Return: 0, -EINVAL, -ENOMEM, or -errno from lseek.
 */
int gt_writer_open_fd(int fd, uint64_t off, const struct gt_writer_opts *opts,
		      const struct gt_clock_sample *start, struct gt_writer **out);

/**
 * gt_writer_index_chunk() - add a CHUNK block already in the file to the
 * footer index, as if the writer had sealed it.
 * @offset, @size, @raw_size: its block header's offset, size and raw_size.
 * @nevents, @min_ts, @max_ts, @nschemas: from its chunk header.
 * @pairs: its chunk header's { u32 schema_id; u32 count } table; copies.
 * Every id must have been added with gt_writer_add_schema() first.
 * Return: 0; -ENOENT for an unknown schema id; -GT_ECORRUPT when the counts
 * do not sum to @nevents; -EINVAL for values out of range; -ENOMEM.
 */
int gt_writer_index_chunk(struct gt_writer *w, uint64_t offset, uint32_t size, uint32_t raw_size,
			  uint32_t nevents, uint64_t min_ts, uint64_t max_ts, uint32_t nschemas,
			  const uint8_t *pairs);

/**
 * gt_writer_mark_written() - treat the schemas, meta data and loss counts
 * given so far as already in the file (an adopted file holds their blocks),
 * so that close writes them only in the footer.
 */
void gt_writer_mark_written(struct gt_writer *w);

/**
 * gt_writer_close() - seal the last chunk, write footer and trailer, fsync,
 * close and free.  Accepts NULL.  Return: 0 or the first write error met
 * during the writer's life (the file is then valid up to its last whole chunk).
 */
int gt_writer_close(struct gt_writer *w);

#endif /* GT_WRITER_H */
