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
 * gt_writer_close() - seal the last chunk, write footer and trailer, fsync,
 * close and free.  Accepts NULL.  Return: 0 or the first write error met
 * during the writer's life (the file is then valid up to its last whole chunk).
 */
int gt_writer_close(struct gt_writer *w);

#endif /* GT_WRITER_H */
