/* SPDX-License-Identifier: MIT */
/*
 * gtrace/gtrace.h - the instrumentation API of libgtrace.
 *
 * A program declares providers (named event sources, e.g. "Contoso.Net")
 * and emits events from call sites.  Every call site owns a static const
 * descriptor (provider, name, level, keywords, field names and types,
 * source line, format) and a small mutable state word.  The first time a
 * call site runs it takes an out-of-line slow path that checks the
 * session's rules and registers the descriptor as a schema; afterwards the
 * state word is 0 (disabled: one load and one predictable branch) or the
 * schema id (enabled: the record is written inline into the calling
 * thread's ring).  An event on the wire is a timestamp, the id and the raw
 * field values; see docs/abi.md.
 *
 *	GT_PROVIDER_DEFINE(my_prov, "Contoso.Net");
 *	GT_EVENT(my_prov, GT_LEVEL_INFO, 0x1, "PacketSeen", GT_I64("seq", s),
 *		 GT_I32("len", n), GT_STR("iface", name));
 *	gt_log(my_prov, GT_LEVEL_WARNING, "retry %d of %s", i, name);
 *	if (gt_enabled(my_prov, GT_LEVEL_VERBOSE, 0x4))
 *		expensive();
 *
 * Rules for the macros:
 * - provider, event, field names and gt_log formats must be string
 *   literals; level and keywords must be compile-time constants;
 * - at most 16 fields per GT_EVENT/GT_SPAN_* and 16 arguments per gt_log;
 * - field values are evaluated exactly once, and only when the event is
 *   enabled;
 * - GT_STR(name, NULL) records an empty string; GT_BYTES(name, NULL, n)
 *   records zero bytes; strings and byte arrays are cut so that the whole
 *   record fits GT_REC_MAX (64 KiB);
 * - events are never blocking: when the thread's ring is full the event is
 *   dropped and counted;
 * - emitting from a signal handler that interrupted an emit on the same
 *   thread is not supported (the interrupted record may be lost or torn).
 *
 * Build with -DGT_DISABLE to compile every macro to nothing; the arguments
 * are still type-checked (in dead code) so disabled builds do not rot.
 *
 * Compiles as C11 (GNU extensions: statement expressions, __typeof__,
 * __atomic builtins, as in GCC and Clang) and as C++11 or later.
 */
#ifndef GTRACE_GTRACE_H
#define GTRACE_GTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

#include <gtrace/abi.h>

#if defined(__GNUC__)
#define GT_API __attribute__((visibility("default")))
#define GT__PRINTF(f, a) __attribute__((format(printf, f, a)))
/* the hot path's helpers: inline even where the compiler would not (clang) */
#define GT__INLINE static inline __attribute__((always_inline))
#else
#define GT_API
#define GT__PRINTF(f, a)
#define GT__INLINE static inline
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ETW-style levels: an event is enabled when its level <= the rule's level. */
enum gt_level {
	GT_LEVEL_CRITICAL = 1,
	GT_LEVEL_ERROR = 2,
	GT_LEVEL_WARNING = 3,
	GT_LEVEL_INFO = 4,
	GT_LEVEL_VERBOSE = 5,
};

/*
 * A provider: a named source of events.  Define one per name with
 * GT_PROVIDER_DEFINE() at file scope; the name is matched against the
 * session's rules (glob patterns) when each call site registers.
 */
struct gt_provider {
	const char *name; /* string literal */
	uint64_t reserved; /* zero; room for future per-provider state */
};

/*
 * The structures below are compiled into every call site of every
 * instrumented binary: their layout is part of libgtrace's ABI (SONAME
 * libgtrace.so.0) and must not change within it.
 */

/* Values of struct gt_site_state.state besides 0 (disabled) and an id. */
#define GT_SITE_SLOW 0xffffff00u     /* state >= this takes the slow path */
#define GT_SITE_NOSCHEMA 0xfffffffeu /* enabled but the schema region was full */
#define GT_SITE_UNREG 0xffffffffu    /* not registered yet (initial value) */
#define GT_KIND_PROBE_ 0xffu         /* gt_enabled() site: no schema, no events */

/*
 * Mutable per-call-site state.  @state is read with one relaxed load on
 * every pass; it is written (release) only under libgtrace's registration
 * lock.  @id, @site and @next are owned by libgtrace (the list of
 * registered call sites, for re-evaluation when rules change).
 */
struct gt_site_state {
	uint32_t state;
	uint32_t id;
	const struct gt_site *site;
	struct gt_site_state *next;
};

/*
 * Static, read-only description of one call site, built by the macros.
 * @types holds @nfields enum gt_type bytes; @fields holds @nfields
 * NUL-terminated names back to back; @format is NULL unless GT_KIND_LOG.
 */
struct gt_site {
	struct gt_provider *provider;
	const char *name;
	const char *file;
	const char *format;
	const char *types;
	const char *fields;
	uint64_t keywords;
	uint32_t line;
	uint8_t kind;  /* enum gt_kind, or GT_KIND_PROBE_ */
	uint8_t level; /* enum gt_level */
	uint8_t nfields;
	uint8_t flags; /* zero */
	struct gt_site_state *state;
};

/* Where and what to publish once a reserved record is written. */
struct gt_commit {
	uint64_t *head;
	uint64_t value;
};

/**
 * gt_site_slow() - slow path of a call site whose state is >= GT_SITE_SLOW.
 * @site: borrowed; must live for the whole process (static storage).
 *
 * On first use registers @site: joins the session if that has not been
 * tried yet, evaluates the rules for its provider, writes its schema.
 * Thread-safe.  Never blocks for long, never fails loudly.
 * Since 0.1.
 *
 * Return: the schema id to stamp on records (enabled), or 0 (disabled, or
 * dropped because the schema region is full: counted in lost_noschema).
 * For a gt_enabled() site, 1 when enabled.
 */
GT_API uint32_t gt_site_slow(const struct gt_site *site);

/**
 * gt_rec_reserve() - reserve a record in the calling thread's ring.
 * @id: schema id returned by the call site state or gt_site_slow().
 * @size: record bytes, header included (rounded up to 8 here); at most
 *        GT_REC_MAX.
 * @c: filled in with what gt_rec_commit() must publish.
 *
 * Stamps the record header (size, id, timestamp) and zeroes the record's
 * last 8 bytes so its padding is deterministic.  The first call of a
 * thread claims a ring slot.  Never blocks, never allocates (after the
 * first call of a thread), never makes a syscall (with the TSC clock).
 * The exported, out-of-line twin of gt_rec_reserve_inline(), which the
 * macros use: this one also writes the padding record at a wrap, reloads
 * the collector's tail, counts drops, and then sets up the thread's
 * gt_thread_ring for the inline path.  Since 0.1.
 *
 * Return: where the payload goes (size - 16 bytes); borrowed until
 * gt_rec_commit().  NULL when the event is dropped: the ring is full
 * (counted in the slot's lost), no slot is free (counted in lost_noslot),
 * the record is larger than the ring, or the process is not traced.
 */
GT_API void *gt_rec_reserve(uint32_t id, size_t size, struct gt_commit *c);

/**
 * gt_log_write() - write a gt_log() event (out of line: the arguments are
 * typed by the call site's descriptor, not known to the inline code).
 * @id: enabled schema id.  @site: borrowed, kind GT_KIND_LOG.
 * @fmt: the format (the same literal as site->format; not used at run time).
 * Since 0.1.
 */
GT_API void gt_log_write(uint32_t id, const struct gt_site *site, const char *fmt, ...);

/**
 * gt_set_log_handler() - route libgtrace's own diagnostics.
 * @fn: called with one line of text (no newline) and @arg; NULL restores
 *      the default (stderr when the environment has GT_DEBUG=1, else
 *      nothing).  The message is borrowed for the duration of the call.
 * libgtrace is silent by default and never writes to stdout; it preserves
 * errno.  Messages come from the slow paths only (joining the session, a
 * call site's first pass), sometimes with libgtrace's registration lock
 * held: @fn must not emit gtrace events itself.  Thread-safe.  Since 0.1.
 */
GT_API void gt_set_log_handler(void (*fn)(const char *msg, void *arg), void *arg);

/**
 * gt_version() - the library's version, e.g. "0.1.0" (GT_VERSION_STRING of
 * the build).  Return: a static string.  Since 0.1.
 */
GT_API const char *gt_version(void);

/*
 * The calling thread's ring cursor, read and written by the inline reserve
 * below.  Owned by its thread; libgtrace's slow path (gt_rec_reserve())
 * sets it up on the thread's first event, at every wrap of the ring and
 * whenever the cached room runs out.  While @limit is 0 every reservation
 * goes out of line: before the thread has a slot, after it exited, when
 * the session's clock is not the TSC, and in a fork child until its first
 * event.  Like the structures above, its layout is compiled into call
 * sites: fields are only ever appended.
 *
 * It is initial-exec TLS, which is right for a library loaded at program
 * start (linked, or LD_PRELOADed).  dlopen() of libgtrace (an FFI binding)
 * then needs glibc's static TLS reserve, which holds these 32 bytes and
 * libgtrace's other 40 with room to spare; FFI users call the exported
 * gt_rec_reserve() and do not touch this variable.
 */
struct gt_thread_ring {
	unsigned char *wp;       /* ring data + head % ring_size: the next record */
	uint64_t head;           /* producer position; published by gt_rec_commit() */
	uint64_t limit;          /* fast path iff head + need <= limit (room, no wrap) */
	struct gt_ring_ctl *ctl; /* the thread's slot (shared memory) */
};

/*
 * Since 0.1.  Exported for the inline fast path; not for direct use.  GNU
 * __thread also in C++: an extern thread_local would cost a call to a TLS
 * init wrapper on every access.
 */
GT_API extern __thread struct gt_thread_ring gt_thread_ring
#if defined(__GNUC__)
	__attribute__((tls_model("initial-exec")))
#endif
	;

/* The TSC now; 0 where there is none (the fast path is then never taken). */
GT__INLINE uint64_t gt__tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return 0;
#endif
}

/*
 * gt_rec_reserve_inline() with the timestamp read by the caller.  GT_EVENT
 * reads the TSC first thing, before it evaluates the fields: measured here
 * (AMD EPYC, KVM), an rdtsc issued after the record's stores costs about
 * 12 ns more per event than one issued before them, and strlen() of the
 * string fields overlaps with it.  @tsc is used only on the fast path; the
 * slow path reads its own clock (which may be CLOCK_MONOTONIC).
 */
GT__INLINE void *gt__rec_reserve_at(uint32_t id, size_t size, struct gt_commit *c,
					uint64_t tsc)
{
#if defined(__x86_64__) || defined(__i386__)
	struct gt_thread_ring *r = &gt_thread_ring;
	const uint64_t head = r->head;
	const uint64_t need = ((uint64_t)size + GT_REC_ALIGN - 1) & ~(uint64_t)(GT_REC_ALIGN - 1);
	const size_t hdr = sizeof(struct gt_rec_hdr);

	/* one unsigned compare rejects both size < 16 and size > GT_REC_MAX */
	if (__builtin_expect(size - hdr <= GT_REC_MAX - hdr && head + need <= r->limit, 1)) {
		unsigned char *w = r->wp;
		struct gt_ring_ctl *ctl = r->ctl;
		struct gt_rec_hdr h;
		const uint64_t zero = 0;
		uint64_t seq;

		r->head = head + need;
		r->wp = w + need;
		/* the last 8 bytes first: for a bare header the header overwrites them */
		memcpy(w + need - 8, &zero, 8);
		h.size = (uint32_t)need;
		h.id = id;
		h.ts = tsc;
		memcpy(w, &h, sizeof(h));
		/* seq is written by this thread only; the collector reads it as a statistic */
		seq = __atomic_load_n(&ctl->seq, __ATOMIC_RELAXED);
		__atomic_store_n(&ctl->seq, seq + 1, __ATOMIC_RELAXED);
		c->head = &ctl->head;
		c->value = head + need;
		return w + sizeof(h);
	}
#else
	(void)tsc;
#endif
	return gt_rec_reserve(id, size, c);
}

/**
 * gt_rec_reserve_inline() - gt_rec_reserve(), with its common case inline.
 * @id: schema id.  @size: record bytes, header included; at most GT_REC_MAX.
 * @c: filled in with what gt_rec_commit() must publish.
 *
 * Same contract as gt_rec_reserve(), which is its exported twin and which
 * it calls for everything but the common case: a thread that owns a slot,
 * the TSC clock, a record that fits before the ring's end in the room
 * already known free.  That case is a compare, the header stores, the
 * rdtsc and a relaxed store of the slot's seq; the commit is the one
 * release store in gt_rec_commit().  Since 0.1.
 *
 * Return: where the payload goes, borrowed until gt_rec_commit(); NULL
 * when the event is dropped (see gt_rec_reserve()).
 */
GT__INLINE void *gt_rec_reserve_inline(uint32_t id, size_t size, struct gt_commit *c)
{
	return gt__rec_reserve_at(id, size, c, gt__tsc());
}

/* Publish a reserved record; pairs with the collector's acquire load of head. */
GT__INLINE void gt_rec_commit(const struct gt_commit *c)
{
	__atomic_store_n(c->head, c->value, __ATOMIC_RELEASE);
}

/*
 * Copy @n bytes of a string field: up to 32 bytes with two overlapping
 * fixed-size copies (loads and stores the compiler does inline), longer
 * ones with memcpy().  Reads and writes exactly [src, src + n), [dst, dst + n).
 */
GT__INLINE void gt__copy(unsigned char *dst, const void *src_, size_t n)
{
	const unsigned char *src = (const unsigned char *)src_;
	uint64_t a8, b8;
	uint32_t a4, b4;

#if defined(__GNUC__)
	/*
	 * Hide what @src points to: with a string literal gcc cannot tie n to
	 * the literal's size and warns (-Wstringop-overread, -Warray-bounds)
	 * about the branches for longer strings, which never run for it.
	 */
	__asm__("" : "+r"(src));
#endif

	if (n >= 16 && n <= 32) {
		unsigned char a[16], b[16];

		memcpy(a, src, 16);
		memcpy(b, src + n - 16, 16);
		memcpy(dst, a, 16);
		memcpy(dst + n - 16, b, 16);
	} else if (n >= 8 && n < 16) {
		memcpy(&a8, src, 8);
		memcpy(&b8, src + n - 8, 8);
		memcpy(dst, &a8, 8);
		memcpy(dst + n - 8, &b8, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(&a4, src, 4);
		memcpy(&b4, src + n - 4, 4);
		memcpy(dst, &a4, 4);
		memcpy(dst + n - 4, &b4, 4);
	} else if (n > 32) {
		memcpy(dst, src, n);
	} else if (n) { /* 1 to 3 bytes: 0, n / 2 and n - 1 cover them all */
		dst[0] = src[0];
		dst[n / 2] = src[n / 2];
		dst[n - 1] = src[n - 1];
	}
}

/* Type-checks a gt_log() format against its arguments; never called. */
static inline GT__PRINTF(1, 2) void gt__printf_check(const char *fmt, ...)
{
	(void)fmt;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

/* ---------------- providers ---------------- */

#define GT_PROVIDER_DEFINE(var, pname) struct gt_provider var = { "" pname "", 0 }
#define GT_PROVIDER_DECLARE(var) extern struct gt_provider var

/* ---------------- fields: (tag, name, value, len) tuples ---------------- */

#define GT_I32(n, v) (GT__I32, n, v, 0)
#define GT_U32(n, v) (GT__U32, n, v, 0)
#define GT_I64(n, v) (GT__I64, n, v, 0)
#define GT_U64(n, v) (GT__U64, n, v, 0)
#define GT_F64(n, v) (GT__F64, n, v, 0)
#define GT_BOOL(n, v) (GT__BOOL, n, v, 0)
#define GT_STR(n, v) (GT__STR, n, v, 0)
#define GT_BYTES(n, p, len) (GT__BYTES, n, p, len)

/* ---------------- preprocessor plumbing ---------------- */

#define GT__CAT(a, b) GT__CAT_(a, b)
#define GT__CAT_(a, b) a##b
#define GT__STRIP(...) __VA_ARGS__
#define GT__FIRST(...) GT__FIRST_(__VA_ARGS__, ~)
#define GT__FIRST_(a, ...) a
/* GT__FE(m, x0, a0, a1, ...) expands to m(0, a0) m(1, a1) ...: x0 is skipped. */
#define GT__FE(m, ...) GT__CAT(GT__FE_, GT__NARG(__VA_ARGS__))(m, __VA_ARGS__)
#define GT__NARG(...) GT__NARG_(__VA_ARGS__, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, \
	22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define GT__NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, \
	_17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32, _33, N, \
	...) N
#define GT__FE_1(m, x0)
#define GT__FE_2(m, x0, a0) m(0, a0)
#define GT__FE_3(m, x0, a0, a1) m(0, a0) m(1, a1)
#define GT__FE_4(m, x0, a0, a1, a2) m(0, a0) m(1, a1) m(2, a2)
#define GT__FE_5(m, x0, a0, a1, a2, a3) m(0, a0) m(1, a1) m(2, a2) m(3, a3)
#define GT__FE_6(m, x0, a0, a1, a2, a3, a4) m(0, a0) m(1, a1) m(2, a2) m(3, a3) m(4, a4)
#define GT__FE_7(m, x0, a0, a1, a2, a3, a4, a5) m(0, a0) m(1, a1) m(2, a2) m(3, a3) m(4, \
	a4) m(5, a5)
#define GT__FE_8(m, x0, a0, a1, a2, a3, a4, a5, a6) m(0, a0) m(1, a1) m(2, a2) m(3, a3) \
	m(4, a4) m(5, a5) m(6, a6)
#define GT__FE_9(m, x0, a0, a1, a2, a3, a4, a5, a6, a7) m(0, a0) m(1, a1) m(2, a2) m(3, \
	a3) m(4, a4) m(5, a5) m(6, a6) m(7, a7)
#define GT__FE_10(m, x0, a0, a1, a2, a3, a4, a5, a6, a7, a8) m(0, a0) m(1, a1) m(2, a2) \
	m(3, a3) m(4, a4) m(5, a5) m(6, a6) m(7, a7) m(8, a8)
#define GT__FE_11(m, x0, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9) m(0, a0) m(1, a1) m(2, \
	a2) m(3, a3) m(4, a4) m(5, a5) m(6, a6) m(7, a7) m(8, a8) m(9, a9)
#define GT__FE_12(m, x0, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10) m(0, a0) m(1, a1) \
	m(2, a2) m(3, a3) m(4, a4) m(5, a5) m(6, a6) m(7, a7) m(8, a8) m(9, a9) m(10, a10)
#define GT__FE_13(m, x0, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) m(0, a0) m(1, \
	a1) m(2, a2) m(3, a3) m(4, a4) m(5, a5) m(6, a6) m(7, a7) m(8, a8) m(9, a9) m(10, a10) \
	m(11, a11)
#define GT__FE_14(m, x0, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12) m(0, a0) \
	m(1, a1) m(2, a2) m(3, a3) m(4, a4) m(5, a5) m(6, a6) m(7, a7) m(8, a8) m(9, a9) m(10, \
	a10) m(11, a11) m(12, a12)
#define GT__FE_15(m, x0, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13) m(0, \
	a0) m(1, a1) m(2, a2) m(3, a3) m(4, a4) m(5, a5) m(6, a6) m(7, a7) m(8, a8) m(9, a9) \
	m(10, a10) m(11, a11) m(12, a12) m(13, a13)
#define GT__FE_16(m, x0, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14) \
	m(0, a0) m(1, a1) m(2, a2) m(3, a3) m(4, a4) m(5, a5) m(6, a6) m(7, a7) m(8, a8) m(9, a9) \
	m(10, a10) m(11, a11) m(12, a12) m(13, a13) m(14, a14)
#define GT__FE_17(m, x0, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, \
	a15) m(0, a0) m(1, a1) m(2, a2) m(3, a3) m(4, a4) m(5, a5) m(6, a6) m(7, a7) m(8, a8) \
	m(9, a9) m(10, a10) m(11, a11) m(12, a12) m(13, a13) m(14, a14) m(15, a15)

/* Apply projection @what to field tuple @f at index @i. */
#define GT__F(what, i, f) GT__F_(what, i, GT__STRIP f)
#define GT__F_(...) GT__F__(__VA_ARGS__)
#define GT__F__(what, i, tag, n, v, l) GT__##what##_##tag(i, n, v, l)
#define GT__P_TYPE(i, f) GT__F(TYPE, i, f)
#define GT__P_NAME(i, f) GT__F(NAME, i, f)
#define GT__P_DECL(i, f) GT__F(DECL, i, f)
#define GT__P_FIX(i, f) GT__F(FIX, i, f)
#define GT__P_CLAMP(i, f) GT__F(CLAMP, i, f)
#define GT__P_VAR(i, f) GT__F(VAR, i, f)
#define GT__P_COPY(i, f) GT__F(COPY, i, f)
#define GT__P_USE(i, f) GT__F(USE, i, f)

/* Type byte (enum gt_type) as a string literal piece. */
#define GT__TYPE_GT__I32(i, n, v, l) "\x01"
#define GT__TYPE_GT__U32(i, n, v, l) "\x02"
#define GT__TYPE_GT__I64(i, n, v, l) "\x03"
#define GT__TYPE_GT__U64(i, n, v, l) "\x04"
#define GT__TYPE_GT__F64(i, n, v, l) "\x05"
#define GT__TYPE_GT__BOOL(i, n, v, l) "\x06"
#define GT__TYPE_GT__STR(i, n, v, l) "\x07"
#define GT__TYPE_GT__BYTES(i, n, v, l) "\x08"

/* Field names, NUL-terminated, back to back; literals only. */
#define GT__NAME_GT__I32(i, n, v, l) n "\0"
#define GT__NAME_GT__U32(i, n, v, l) n "\0"
#define GT__NAME_GT__I64(i, n, v, l) n "\0"
#define GT__NAME_GT__U64(i, n, v, l) n "\0"
#define GT__NAME_GT__F64(i, n, v, l) n "\0"
#define GT__NAME_GT__BOOL(i, n, v, l) n "\0"
#define GT__NAME_GT__STR(i, n, v, l) n "\0"
#define GT__NAME_GT__BYTES(i, n, v, l) n "\0"

/* Evaluate each value once, converting implicitly (so the compiler checks it). */
#define GT__DECL_GT__I32(i, n, v, l) const int32_t gt__v##i = (v);
#define GT__DECL_GT__U32(i, n, v, l) const uint32_t gt__v##i = (v);
#define GT__DECL_GT__I64(i, n, v, l) const int64_t gt__v##i = (v);
#define GT__DECL_GT__U64(i, n, v, l) const uint64_t gt__v##i = (v);
#define GT__DECL_GT__F64(i, n, v, l) const double gt__v##i = (v);
#define GT__DECL_GT__BOOL(i, n, v, l) const uint8_t gt__v##i = (v) ? 1 : 0;
#define GT__DECL_GT__STR(i, n, v, l)                                                   \
	const char *gt__p##i = (v);                                                    \
	size_t gt__n##i;                                                               \
	if (!gt__p##i)                                                                 \
		gt__p##i = "";                                                         \
	gt__n##i = strlen(gt__p##i);
#define GT__DECL_GT__BYTES(i, n, v, l)                                                 \
	const void *gt__p##i = (v);                                                    \
	size_t gt__n##i = (l);                                                         \
	if (!gt__p##i) {                                                               \
		gt__p##i = "";                                                         \
		gt__n##i = 0;                                                          \
	}

/* Fixed payload bytes (a STR/BYTES length prefix counts as fixed). */
#define GT__FIX_GT__I32(i, n, v, l) +4
#define GT__FIX_GT__U32(i, n, v, l) +4
#define GT__FIX_GT__I64(i, n, v, l) +8
#define GT__FIX_GT__U64(i, n, v, l) +8
#define GT__FIX_GT__F64(i, n, v, l) +8
#define GT__FIX_GT__BOOL(i, n, v, l) +1
#define GT__FIX_GT__STR(i, n, v, l) +4
#define GT__FIX_GT__BYTES(i, n, v, l) +4

/* Cut variable-length fields, in order, so the record fits GT_REC_MAX. */
#define GT__CLAMP_GT__I32(i, n, v, l)
#define GT__CLAMP_GT__U32(i, n, v, l)
#define GT__CLAMP_GT__I64(i, n, v, l)
#define GT__CLAMP_GT__U64(i, n, v, l)
#define GT__CLAMP_GT__F64(i, n, v, l)
#define GT__CLAMP_GT__BOOL(i, n, v, l)
#define GT__CLAMP_GT__STR(i, n, v, l)                                                  \
	if (gt__n##i > gt__room)                                                       \
		gt__n##i = gt__room;                                                   \
	gt__room -= gt__n##i;
#define GT__CLAMP_GT__BYTES(i, n, v, l) GT__CLAMP_GT__STR(i, n, v, l)

#define GT__VAR_GT__I32(i, n, v, l)
#define GT__VAR_GT__U32(i, n, v, l)
#define GT__VAR_GT__I64(i, n, v, l)
#define GT__VAR_GT__U64(i, n, v, l)
#define GT__VAR_GT__F64(i, n, v, l)
#define GT__VAR_GT__BOOL(i, n, v, l)
#define GT__VAR_GT__STR(i, n, v, l) +gt__n##i
#define GT__VAR_GT__BYTES(i, n, v, l) +gt__n##i

/* Copy into the reserved record (packed, little-endian, schema order). */
#define GT__COPY_FIXED(i, sz)                                                          \
	memcpy(gt__w, &gt__v##i, sz);                                                  \
	gt__w += sz;
#define GT__COPY_GT__I32(i, n, v, l) GT__COPY_FIXED(i, 4)
#define GT__COPY_GT__U32(i, n, v, l) GT__COPY_FIXED(i, 4)
#define GT__COPY_GT__I64(i, n, v, l) GT__COPY_FIXED(i, 8)
#define GT__COPY_GT__U64(i, n, v, l) GT__COPY_FIXED(i, 8)
#define GT__COPY_GT__F64(i, n, v, l) GT__COPY_FIXED(i, 8)
#define GT__COPY_GT__BOOL(i, n, v, l) *gt__w++ = gt__v##i;
#define GT__COPY_GT__STR(i, n, v, l)                                                   \
	{                                                                              \
		const uint32_t gt__u##i = (uint32_t)gt__n##i;                          \
		memcpy(gt__w, &gt__u##i, 4);                                           \
		gt__copy(gt__w + 4, gt__p##i, gt__n##i);                               \
		gt__w += 4 + gt__n##i;                                                 \
	}
#define GT__COPY_GT__BYTES(i, n, v, l) GT__COPY_GT__STR(i, n, v, l)

#define GT__USE_GT__I32(i, n, v, l) (void)gt__v##i;
#define GT__USE_GT__U32(i, n, v, l) (void)gt__v##i;
#define GT__USE_GT__I64(i, n, v, l) (void)gt__v##i;
#define GT__USE_GT__U64(i, n, v, l) (void)gt__v##i;
#define GT__USE_GT__F64(i, n, v, l) (void)gt__v##i;
#define GT__USE_GT__BOOL(i, n, v, l) (void)gt__v##i;
#define GT__USE_GT__STR(i, n, v, l) (void)gt__p##i, (void)gt__n##i;
#define GT__USE_GT__BYTES(i, n, v, l) (void)gt__p##i, (void)gt__n##i;

/*
 * gt_log() argument types: C11 _Generic, or a trait in C++.  char and short
 * are promoted to I32, float to F64, both string pointer types are STR; any
 * other type is a compile error.
 */
#ifdef __cplusplus
#include <type_traits>
template <typename T> struct gt__logtype; /* unsupported gt_log argument type */
#define GT__LOGTYPE_(T, code)                                                          \
	template <> struct gt__logtype<T> {                                            \
		static const char value = (char)(code);                                \
	}
GT__LOGTYPE_(bool, GT_TYPE_BOOL);
GT__LOGTYPE_(char, GT_TYPE_I32);
GT__LOGTYPE_(signed char, GT_TYPE_I32);
GT__LOGTYPE_(unsigned char, GT_TYPE_I32);
GT__LOGTYPE_(short, GT_TYPE_I32);
GT__LOGTYPE_(unsigned short, GT_TYPE_I32);
GT__LOGTYPE_(int, GT_TYPE_I32);
GT__LOGTYPE_(unsigned int, GT_TYPE_U32);
GT__LOGTYPE_(long, GT_TYPE_I64);
GT__LOGTYPE_(unsigned long, GT_TYPE_U64);
GT__LOGTYPE_(long long, GT_TYPE_I64);
GT__LOGTYPE_(unsigned long long, GT_TYPE_U64);
GT__LOGTYPE_(float, GT_TYPE_F64);
GT__LOGTYPE_(double, GT_TYPE_F64);
GT__LOGTYPE_(char *, GT_TYPE_STR);
GT__LOGTYPE_(const char *, GT_TYPE_STR);
#undef GT__LOGTYPE_
#define GT__LOGTYPE(x) gt__logtype<typename std::decay<decltype((x))>::type>::value
#else
#define GT__LOGTYPE(x)                                                                 \
	_Generic((x),                                                                  \
		_Bool: GT_TYPE_BOOL,                                                   \
		char: GT_TYPE_I32,                                                     \
		signed char: GT_TYPE_I32,                                              \
		unsigned char: GT_TYPE_I32,                                            \
		short: GT_TYPE_I32,                                                    \
		unsigned short: GT_TYPE_I32,                                           \
		int: GT_TYPE_I32,                                                      \
		unsigned int: GT_TYPE_U32,                                             \
		long: GT_TYPE_I64,                                                     \
		unsigned long: GT_TYPE_U64,                                            \
		long long: GT_TYPE_I64,                                                \
		unsigned long long: GT_TYPE_U64,                                       \
		float: GT_TYPE_F64,                                                    \
		double: GT_TYPE_F64,                                                   \
		char *: GT_TYPE_STR,                                                   \
		const char *: GT_TYPE_STR)
#endif
#define GT__P_LOGTYPE(i, x) (char)GT__LOGTYPE(x),
#define GT__P_LOGNAME(i, x) "arg" #i "\0"

#ifndef GT_DISABLE

/*
 * One call site: its static descriptor and state, the one-load check, and
 * (enabled) the inline record write.  __VA_ARGS__ is "name", fields...
 */
#define GT__EMIT(prov, lvl, kw, kind, ...)                                             \
	do {                                                                           \
		static struct gt_site_state gt__st = { GT_SITE_UNREG, 0, NULL, NULL }; \
		static const struct gt_site gt__site = {                               \
			&(prov), "" GT__FIRST(__VA_ARGS__) "", __FILE__, NULL,         \
			"" GT__FE(GT__P_TYPE, __VA_ARGS__),                            \
			"" GT__FE(GT__P_NAME, __VA_ARGS__), (kw), __LINE__, (kind),    \
			(lvl), GT__NARG(__VA_ARGS__) - 1, 0, &gt__st                   \
		};                                                                     \
		uint32_t gt__id = __atomic_load_n(&gt__st.state, __ATOMIC_RELAXED);    \
		if (__builtin_expect(gt__id != 0, 0)) {                                \
			if (__builtin_expect(gt__id >= GT_SITE_SLOW, 0))               \
				gt__id = gt_site_slow(&gt__site);                      \
			if (gt__id) {                                                  \
				const uint64_t gt__ts = gt__tsc();                     \
				GT__FE(GT__P_DECL, __VA_ARGS__)                        \
				size_t gt__room = GT_REC_MAX - (sizeof(struct gt_rec_hdr) \
					GT__FE(GT__P_FIX, __VA_ARGS__));               \
				struct gt_commit gt__c;                                \
				unsigned char *gt__w;                                  \
				GT__FE(GT__P_CLAMP, __VA_ARGS__)                       \
				(void)gt__room;                                        \
				gt__w = (unsigned char *)gt__rec_reserve_at(           \
					gt__id,                                        \
					sizeof(struct gt_rec_hdr)                      \
					GT__FE(GT__P_FIX, __VA_ARGS__)                 \
					GT__FE(GT__P_VAR, __VA_ARGS__), &gt__c, gt__ts); \
				if (gt__w) {                                           \
					GT__FE(GT__P_COPY, __VA_ARGS__)                \
					gt_rec_commit(&gt__c);                         \
				}                                                      \
			}                                                              \
		}                                                                      \
	} while (0)

/**
 * GT_EVENT() - emit an event.
 * @prov: a provider variable (GT_PROVIDER_DEFINE/DECLARE).
 * @lvl: GT_LEVEL_*, a constant.  @kw: 64-bit keyword mask, a constant.
 * ...: the event name (a literal), then up to 16 GT_I32()... fields.
 */
#define GT_EVENT(prov, lvl, kw, ...) GT__EMIT(prov, lvl, kw, GT_KIND_EVENT, __VA_ARGS__)
/** GT_SPAN_BEGIN() - like GT_EVENT(), opens span "name" on this thread. */
#define GT_SPAN_BEGIN(prov, lvl, kw, ...) GT__EMIT(prov, lvl, kw, GT_KIND_SPAN_BEGIN, __VA_ARGS__)
/** GT_SPAN_END() - like GT_EVENT(), closes the innermost span "name". */
#define GT_SPAN_END(prov, lvl, kw, ...) GT__EMIT(prov, lvl, kw, GT_KIND_SPAN_END, __VA_ARGS__)

/**
 * gt_log() - a printf-style event: gt_log(prov, lvl, "fmt", args...).
 * The format (a literal, checked like printf's) is stored once in the
 * schema; the event carries only the typed arguments, fields arg0..argN.
 * No formatting happens in the traced process.  Keywords are 0.
 */
#define gt_log(prov, lvl, ...)                                                         \
	do {                                                                           \
		static struct gt_site_state gt__st = { GT_SITE_UNREG, 0, NULL, NULL }; \
		static const char gt__t[] = { GT__FE(GT__P_LOGTYPE, __VA_ARGS__) 0 };  \
		static const struct gt_site gt__site = {                               \
			&(prov), "log", __FILE__, "" GT__FIRST(__VA_ARGS__) "", gt__t, \
			"" GT__FE(GT__P_LOGNAME, __VA_ARGS__), 0, __LINE__,            \
			GT_KIND_LOG, (lvl), GT__NARG(__VA_ARGS__) - 1, 0, &gt__st      \
		};                                                                     \
		uint32_t gt__id = __atomic_load_n(&gt__st.state, __ATOMIC_RELAXED);    \
		if (0)                                                                 \
			gt__printf_check(__VA_ARGS__);                                 \
		if (__builtin_expect(gt__id != 0, 0)) {                                \
			if (__builtin_expect(gt__id >= GT_SITE_SLOW, 0))               \
				gt__id = gt_site_slow(&gt__site);                      \
			if (gt__id)                                                    \
				gt_log_write(gt__id, &gt__site, __VA_ARGS__);          \
		}                                                                      \
	} while (0)

/**
 * gt_enabled() - would an event of @prov at @lvl with keywords @kw be
 * recorded?  One load once the call site is registered.  Use it to skip
 * work that only feeds an event.  Return: bool.
 */
#define gt_enabled(prov, lvl, kw)                                                      \
	__extension__({                                                                \
		static struct gt_site_state gt__st = { GT_SITE_UNREG, 0, NULL, NULL }; \
		static const struct gt_site gt__site = {                               \
			&(prov), "", __FILE__, NULL, "", "", (kw), __LINE__,           \
			GT_KIND_PROBE_, (lvl), 0, 0, &gt__st                           \
		};                                                                     \
		uint32_t gt__id = __atomic_load_n(&gt__st.state, __ATOMIC_RELAXED);    \
		if (__builtin_expect(gt__id >= GT_SITE_SLOW, 0))                       \
			gt__id = gt_site_slow(&gt__site);                              \
		gt__id != 0;                                                           \
	})

#else /* GT_DISABLE: nothing is emitted, everything is still type-checked */

#define GT__EMIT(prov, lvl, kw, kind, ...)                                             \
	do {                                                                           \
		if (0) {                                                               \
			static const char *const gt__names =                           \
				"" GT__FIRST(__VA_ARGS__) ""                            \
				GT__FE(GT__P_NAME, __VA_ARGS__);                       \
			GT__FE(GT__P_DECL, __VA_ARGS__)                                \
			GT__FE(GT__P_USE, __VA_ARGS__)                                 \
			(void)gt__names;                                               \
			(void)&(prov);                                                 \
			(void)(lvl);                                                   \
			(void)(kw);                                                    \
		}                                                                      \
	} while (0)
#define GT_EVENT(prov, lvl, kw, ...) GT__EMIT(prov, lvl, kw, GT_KIND_EVENT, __VA_ARGS__)
#define GT_SPAN_BEGIN(prov, lvl, kw, ...) GT__EMIT(prov, lvl, kw, GT_KIND_SPAN_BEGIN, __VA_ARGS__)
#define GT_SPAN_END(prov, lvl, kw, ...) GT__EMIT(prov, lvl, kw, GT_KIND_SPAN_END, __VA_ARGS__)
#define gt_log(prov, lvl, ...)                                                         \
	do {                                                                           \
		if (0) {                                                               \
			static const char gt__t[] = {                                  \
				GT__FE(GT__P_LOGTYPE, __VA_ARGS__) 0                   \
			};                                                             \
			(void)gt__t;                                                   \
			(void)&(prov);                                                 \
			(void)(lvl);                                                   \
			gt__printf_check(__VA_ARGS__);                                 \
		}                                                                      \
	} while (0)
#define gt_enabled(prov, lvl, kw) (false && ((void)&(prov), (void)(lvl), (void)(kw), true))

#endif /* GT_DISABLE */

#endif /* GTRACE_GTRACE_H */
