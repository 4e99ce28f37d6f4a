/* SPDX-License-Identifier: MIT */
/*
 * gtrace/reader.h - read a .gtrace file (format v1, docs/format.md).
 *
 * A reader maps one file, checks its header, and loads the footer index (or,
 * when the file was cut short, rebuilds the index by scanning the blocks that
 * made it to disk).  Summary questions (meta data, counts, lost events,
 * schemas) are answered from that index without decompressing anything.
 * Events come out of an iterator in global time order; it decodes a chunk
 * only when the merge needs it, and skips chunks a filter rules out.
 *
 * Every byte of the file is untrusted: a damaged or hostile file makes the
 * reader return -GT_ECORRUPT (or -GT_ELIMIT, -GT_EVERSION), never crash, hang
 * or allocate from an unchecked size.  gt_reader_errmsg() then names the
 * file, the chunk/offset and the fault.
 *
 * Threads: a reader and the iterators made from it are used by one thread
 * at a time; different readers are independent.
 *
 * All int-returning functions return >= 0 on success or a negative errno /
 * -GT_E* code (gtrace/error.h).
 */
#ifndef GTRACE_READER_H
#define GTRACE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gtrace/abi.h>
#include <gtrace/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gt_reader;
struct gt_iter;

/* One field of a schema: enum gt_type and a NUL-terminated name. */
struct gt_field {
	uint8_t type;
	const char *name;
};

/*
 * A schema (the static description of one call site) as stored in the file.
 * All strings are NUL-terminated (an embedded NUL in the file cuts the
 * string there); @file and @format are "" when absent.  Borrowed: valid
 * until gt_reader_close().
 */
struct gt_schema {
	uint32_t id;   /* unique in the file, >= 1 */
	uint8_t kind;  /* enum gt_kind */
	uint8_t level; /* 1 critical .. 5 verbose (as recorded, not checked) */
	uint64_t keywords;
	const char *provider;
	const char *name;
	const char *file;
	uint32_t line;
	const char *format; /* printf-style, GT_KIND_LOG only; untrusted */
	uint32_t nfields;   /* <= GT_FIELDS_MAX */
	const struct gt_field *fields;
	uint64_t nevents; /* events of this schema in the file (index) */
};

/*
 * One typed field value.  @type repeats schema->fields[i].type.  For
 * GT_TYPE_STR and GT_TYPE_BYTES, @str/@bytes point at @len bytes that are
 * NOT NUL-terminated and may hold any bytes (UTF-8 is not enforced).
 * I32 values are in @i64 (sign-extended), U32 in @u64.
 */
struct gt_value {
	union {
		int64_t i64;
		uint64_t u64;
		double f64;
		bool b;
		const char *str;
		const uint8_t *bytes;
	};
	uint32_t len;
	uint8_t type;
};

/*
 * One event.  Borrowed, with everything it points to: valid until the next
 * gt_iter_next() or gt_iter_free() on the iterator that returned it.
 */
struct gt_event {
	uint64_t ts_ns; /* ns since the trace start (0 if before the start) */
	uint64_t ticks; /* raw event-clock timestamp */
	uint32_t pid;
	uint32_t tid;
	const struct gt_schema *schema;
	uint32_t nfields; /* == schema->nfields */
	const struct gt_value *values;
};

/* A clock sample (same meaning as struct gt_clock_sample in the writer). */
struct gt_clock_point {
	uint64_t ticks;
	uint64_t mono_ns;
	uint64_t realtime_ns;
};

/*
 * Whole-file summary, computed at open from the footer (or the recovered
 * index).  Borrowed: valid until gt_reader_close().  New fields are only
 * ever added at the end.
 */
struct gt_summary {
	uint16_t version_major;
	uint16_t version_minor;
	uint32_t clock;		     /* enum gt_clock */
	struct gt_clock_point start; /* header sample: event time 0 */
	struct gt_clock_point last;  /* latest sample in the file (footer or last chunk) */
	bool complete;		     /* footer and trailer present and valid */
	bool recovered;		     /* !complete: index rebuilt by scanning blocks */
	uint64_t recovered_end;	     /* recovered: offset where the scan stopped */
	const char *recover_note;    /* recovered: why the scan stopped ("" otherwise) */
	uint64_t file_size;
	uint64_t nchunks;
	uint64_t nevents;	/* sum of the chunks' event counts */
	uint64_t lost_total;	/* events lost in rings (all threads) */
	uint64_t corrupt_total; /* records dropped as malformed (all processes) */
	uint64_t duration_ns;	/* last sample - start (or last event time), 0 if none */
	uint64_t first_ts_ns;	/* earliest event, ns since start (0 if no events) */
	uint64_t last_ts_ns;	/* latest event, ns since start (0 if no events) */
};

/* Events lost by one thread. */
struct gt_lost {
	uint32_t pid;
	uint32_t tid;
	uint64_t count;
};

/* Malformed records dropped from one process. */
struct gt_corrupt {
	uint32_t pid;
	uint64_t count;
};

/* One chunk of the index. */
struct gt_chunk_info {
	uint64_t offset;   /* file offset of the chunk's block header */
	uint32_t size;	   /* block payload bytes on disk */
	uint32_t raw_size; /* decompressed body bytes */
	uint32_t nevents;
	uint64_t min_ticks;
	uint64_t max_ticks;
	uint64_t min_ts_ns; /* since the trace start */
	uint64_t max_ts_ns;
};

/* Flags for gt_reader_open_ex(). */
enum gt_reader_open_flags {
	GT_READER_NO_RECOVER = 1u << 0, /* fail with -GT_ETRUNCATED instead of scanning */
	GT_READER_VERIFY = 1u << 1,	/* check chunk checksums at open (no decompression) */
};

/**
 * gt_reader_open() - open a .gtrace file and load its index.
 * @path: copies.
 * @out: owned, free with gt_reader_close(); NULL on failure.
 *
 * A file without a valid footer/trailer is recovered: the blocks are scanned
 * from the header, every block whose checksum verifies is kept up to the
 * first incomplete or bad one, and summary->recovered is set.  A footer
 * that fails its checksum or does not parse also leads to recovery.  The
 * file is mapped read-only: a file still being written may be opened (what
 * is on disk at open time is read), but it must not shrink while open.  The
 * reader keeps one descriptor of the file open until gt_reader_close(), for
 * the checksum pass (gt_reader_verify() reads chunks with pread()).
 *
 * Return: 0; -errno from open/fstat/mmap (e.g. -ENOENT, -EISDIR);
 * -GT_ECORRUPT (not a gtrace file, bad header checksum, a chunk that names
 * an unknown schema); -GT_ETRUNCATED (header cut short); -GT_EVERSION
 * (newer major format); -GT_ELIMIT (a declared size beyond the format
 * limits); -ENOMEM.  The failure detail is lost: use gt_reader_open_ex()
 * to get the message.  Since 0.1.
 */
int gt_reader_open(const char *path, struct gt_reader **out);

/**
 * gt_reader_open_ex() - gt_reader_open() with flags and an error message.
 * @path: copies.
 * @flags: enum gt_reader_open_flags.
 * @out: owned, free with gt_reader_close(); NULL on failure.
 * @err: on failure receives a one-line message naming the file, the offset
 *       or chunk and the fault, e.g. "'x.gtrace': chunk 3 at offset 81920:
 *       checksum mismatch"; may be NULL.  Copies (written into the buffer).
 * @err_cap: bytes available at @err.
 * Return: as gt_reader_open().  Since 0.1.
 */
int gt_reader_open_ex(const char *path, unsigned int flags, struct gt_reader **out, char *err,
		      size_t err_cap);

/**
 * gt_reader_open_mem() - open a file image held in memory (tests, fuzzing).
 * @data/@size: copies.  @name: copies; used in messages (NULL = "<memory>").
 * @flags, @out, @err, @err_cap: as gt_reader_open_ex().
 * Return: as gt_reader_open().  Since 0.1.
 */
int gt_reader_open_mem(const void *data, size_t size, const char *name, unsigned int flags,
		       struct gt_reader **out, char *err, size_t err_cap);

/** gt_reader_close() - unmap and free.  Accepts NULL.  Since 0.1. */
void gt_reader_close(struct gt_reader *r);

/**
 * gt_reader_errmsg() - detail of the last failure on @r.
 * Return: borrowed (until the next call on @r); "" when nothing failed.
 * The message names the file, the chunk/offset and the fault.  Since 0.1.
 */
const char *gt_reader_errmsg(const struct gt_reader *r);

/** gt_reader_path() - the name given at open.  Return: borrowed.  Since 0.1. */
const char *gt_reader_path(const struct gt_reader *r);

/** gt_reader_summary() - whole-file numbers.  Return: borrowed, never NULL.  Since 0.1. */
const struct gt_summary *gt_reader_summary(const struct gt_reader *r);

/**
 * gt_reader_verify() - check every chunk's checksum without decompressing.
 * A file reader copies the chunks through a small buffer (pread) rather than
 * touching the whole mapping; a file that changes meanwhile is reported as
 * damaged.
 * Return: 0; -GT_ECORRUPT with gt_reader_errmsg() naming the first bad chunk
 * and its offset.  Since 0.1.
 */
int gt_reader_verify(struct gt_reader *r);

/**
 * gt_reader_meta() - look up a session attribute (op, command, exit_status...).
 * @key: copies (compared, not kept).
 * Return: borrowed NUL-terminated value, or NULL if the key is absent.  Since 0.1.
 */
const char *gt_reader_meta(const struct gt_reader *r, const char *key);

/** gt_reader_meta_count() - number of meta key/value pairs.  Since 0.1. */
size_t gt_reader_meta_count(const struct gt_reader *r);

/**
 * gt_reader_meta_at() - the @i-th pair, in key order.
 * @key/@value: borrowed (until close).  Return: 0 or -ERANGE.  Since 0.1.
 */
int gt_reader_meta_at(const struct gt_reader *r, size_t i, const char **key, const char **value);

/** gt_reader_schema_count() - number of schemas.  Since 0.1. */
size_t gt_reader_schema_count(const struct gt_reader *r);

/** gt_reader_schema_at() - the @i-th schema in id order.  Return: borrowed or NULL.  Since 0.1. */
const struct gt_schema *gt_reader_schema_at(const struct gt_reader *r, size_t i);

/** gt_reader_schema() - schema by id.  Return: borrowed, or NULL if unknown.  Since 0.1. */
const struct gt_schema *gt_reader_schema(const struct gt_reader *r, uint32_t id);

/** gt_reader_lost_count() - number of threads with lost events.  Since 0.1. */
size_t gt_reader_lost_count(const struct gt_reader *r);

/** gt_reader_lost_at() - @i-th (pid, tid, count), sorted by pid, tid.  Borrowed or NULL. */
const struct gt_lost *gt_reader_lost_at(const struct gt_reader *r, size_t i);

/** gt_reader_corrupt_count() - number of processes with dropped records.  Since 0.1. */
size_t gt_reader_corrupt_count(const struct gt_reader *r);

/** gt_reader_corrupt_at() - @i-th (pid, count), sorted by pid.  Borrowed or NULL. */
const struct gt_corrupt *gt_reader_corrupt_at(const struct gt_reader *r, size_t i);

/** gt_reader_chunk_at() - @i-th chunk of the index, in file order.  Borrowed or NULL. */
const struct gt_chunk_info *gt_reader_chunk_at(const struct gt_reader *r, size_t i);

/**
 * gt_reader_ticks_to_ns() - convert an event-clock timestamp to ns since the
 * trace start (GT_CLOCK_MONO: ticks are ns; GT_CLOCK_TSC: scaled by
 * (last.mono_ns - start.mono_ns) / (last.ticks - start.ticks), 1:1 when the
 * file has no later sample).  Times before the start give 0.  Since 0.1.
 */
uint64_t gt_reader_ticks_to_ns(const struct gt_reader *r, uint64_t ticks);

/*
 * Iterator filter.  Chunks that cannot match are skipped without being
 * decompressed; events are then filtered one by one.
 */
struct gt_filter {
	uint64_t since_ns;	    /* keep ts_ns >= since_ns (0 = from the start) */
	uint64_t until_ns;	    /* keep ts_ns <= until_ns (UINT64_MAX = to the end) */
	const uint32_t *schema_ids; /* keep only these schema ids; copies */
	size_t nschema_ids;	    /* 0 = all schemas */
};

/**
 * gt_iter_new() - iterate the events of @r in global time order.
 * @r: borrowed; must outlive the iterator.
 * @filter: copies; NULL = every event.  nschema_ids == 0 means all schemas
 *          (a caller whose selection matches no schema should not iterate).
 * @out: owned, free with gt_iter_free().
 * Events with equal timestamps come out in file order.
 * Return: 0 or -ENOMEM.  Since 0.1.
 */
int gt_iter_new(struct gt_reader *r, const struct gt_filter *filter, struct gt_iter **out);

/**
 * gt_iter_next() - the next event.
 * @ev: set to a borrowed event (valid until the next call or gt_iter_free()).
 * Return: 1 and *@ev set; 0 at the end; -GT_ECORRUPT / -GT_ECOMPRESS /
 * -GT_ELIMIT / -ENOMEM when a chunk cannot be decoded (gt_reader_errmsg()
 * names the chunk and its offset; the iterator then stays at its end).
 * Since 0.1.
 */
int gt_iter_next(struct gt_iter *it, const struct gt_event **ev);

/**
 * gt_iter_new_chunks() - iterate the events of chunks [@first, @first + @count)
 * of the index only (gt_reader_chunk_at() order), in time order among them.
 * @r: borrowed; must outlive the iterator.
 * @filter: as gt_iter_new(); copies.
 * @first/@count: a range of chunk indexes; @count 0 gives an empty iterator.
 * @out: owned, free with gt_iter_free().
 *
 * For parallel full scans: iterators over disjoint ranges that together
 * cover [0, nchunks) return every event of the file exactly once (each
 * thread with its own reader, see "Threads" above), and no chunk is
 * decoded twice.  Events of different ranges are not merged: only within
 * one iterator do they come out in time order.
 * Return: 0; -ERANGE when the range goes past the index; -ENOMEM; -EINVAL
 * as gt_iter_new().  Since 0.2.
 */
int gt_iter_new_chunks(struct gt_reader *r, const struct gt_filter *filter, size_t first,
		       size_t count, struct gt_iter **out);

/** gt_iter_free() - free an iterator.  Accepts NULL.  Since 0.1. */
void gt_iter_free(struct gt_iter *it);

/**
 * gt_format_render() - render a printf-style @fmt with typed @args, safely.
 * @fmt/@fmt_len: untrusted format (not necessarily NUL-terminated); copies.
 * @args/@nargs: values consumed in order by the conversions; copies.
 * @dst/@dst_cap: output; always NUL-terminated when @dst_cap > 0.
 *
 * Supports %d %i %u %x %X %o %c %s %p %f %F %g %G %e %E %a %A %% with flags
 * "-+ #0", a decimal width and precision (each <= 4096) and the length
 * modifiers hh h l ll z j t L (ignored: the argument's own type decides).
 * '*' width/precision, %n and unknown conversions are printed literally.
 * A conversion whose argument is missing prints "<missing>"; one whose
 * argument type does not fit (e.g. %s on an integer) prints the value in
 * its natural form.  Never undefined behaviour.
 * Return: bytes written to @dst, excluding the NUL (output is cut at
 * @dst_cap - 1).  Since 0.1.
 */
size_t gt_format_render(const char *fmt, size_t fmt_len, const struct gt_value *args, size_t nargs,
			char *dst, size_t dst_cap);

/**
 * gt_format_message() - render a GT_KIND_LOG event's message.
 * @ev: borrowed.  @dst/@dst_cap: as gt_format_render().
 * Return: bytes written, excluding the NUL.  For a non-log event, renders
 * nothing (returns 0, @dst = "").  Since 0.1.
 */
size_t gt_format_message(const struct gt_event *ev, char *dst, size_t dst_cap);

/** gt_type_name() - "i32", "u32", "i64", "u64", "f64", "bool", "str", "bytes" or "?". */
const char *gt_type_name(unsigned int type);

/** gt_kind_name() - "event", "span_begin", "span_end", "log" or "?". */
const char *gt_kind_name(unsigned int kind);

/** gt_level_name() - "critical", "error", "warning", "info", "verbose" or "?". */
const char *gt_level_name(unsigned int level);

#ifdef __cplusplus
}
#endif
#endif /* GTRACE_READER_H */
