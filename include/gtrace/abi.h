/* SPDX-License-Identifier: MIT */
/*
 * gtrace/abi.h - the contract between libgtrace (producer) and the collector.
 *
 * Everything in this header crosses a process boundary: it is laid out in a
 * shared memfd segment or sent over the session's unix socket.  Fields are
 * fixed-width and little-endian (x86_64), padding is explicit, and sizes and
 * offsets are checked with _Static_assert.  New fields go at the end only.
 * The collector treats every byte described here as untrusted input.
 *
 * The prose version with offset tables is docs/abi.md.
 */
#ifndef GTRACE_ABI_H
#define GTRACE_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GT_ABI_VERSION 1u

#ifdef __cplusplus
#define GT_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define GT_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

/* ---- field types: shared by ring records, schemas and the file format ---- */
enum gt_type {
	GT_TYPE_I32 = 1,
	GT_TYPE_U32 = 2,
	GT_TYPE_I64 = 3,
	GT_TYPE_U64 = 4,
	GT_TYPE_F64 = 5,
	GT_TYPE_BOOL = 6,
	GT_TYPE_STR = 7,   /* u32 length + bytes, no NUL, UTF-8 not enforced */
	GT_TYPE_BYTES = 8, /* u32 length + bytes */
	GT_TYPE_MAX_ = 8,
};

/* What a schema describes; analysis pairs SPAN_BEGIN/SPAN_END by name+thread. */
enum gt_kind {
	GT_KIND_EVENT = 0,
	GT_KIND_SPAN_BEGIN = 1,
	GT_KIND_SPAN_END = 2,
	GT_KIND_LOG = 3, /* format string in the schema, args are the fields */
	GT_KIND_MAX_ = 3,
};

/* Which clock the producer stamps records with (decided by the collector). */
enum gt_clock {
	GT_CLOCK_TSC = 1,  /* rdtsc ticks; the file stores the calibration */
	GT_CLOCK_MONO = 2, /* CLOCK_MONOTONIC nanoseconds */
};

/* ---- limits (a record or schema beyond these is malformed) ---- */
#define GT_REC_ALIGN 8u
#define GT_REC_MAX 65536u       /* largest ring record, header included */
#define GT_FIELDS_MAX 32u       /* fields per event */
#define GT_NAME_MAX 255u        /* provider, event, field name bytes */
#define GT_FORMAT_MAX 1024u     /* gt_log format string bytes */
#define GT_SCHEMA_MAX 4096u     /* largest schema record */

/*
 * Ring record.  Records are GT_REC_ALIGN aligned and never straddle the end
 * of the ring.  @size is the total size including this header, a multiple of
 * 8.  @id 0 is padding: it fills the ring up to its end, and only its first
 * 8 bytes (@size, @id) are guaranteed to exist.  Any other @id names a schema
 * of the same segment.  The payload follows the header: fields packed in
 * schema order, I32/U32 4 bytes, I64/U64/F64 8 bytes, BOOL 1 byte,
 * STR/BYTES a u32 length then the bytes; the record is zero-padded to @size.
 */
struct gt_rec_hdr {
	uint32_t size;
	uint32_t id;
	uint64_t ts;
};
GT_STATIC_ASSERT(sizeof(struct gt_rec_hdr) == 16, "gt_rec_hdr layout");
#define GT_REC_PAD_ID 0u

/*
 * Schema record, appended by the producer to the segment's schema region.
 * @size is total bytes (multiple of 8), @id is 1, 2, 3... in order of
 * appearance.  Followed by @nfields type bytes (enum gt_type), then
 * NUL-terminated strings in this order: provider, event name, source file,
 * format (empty unless GT_KIND_LOG), then @nfields field names.
 */
struct gt_shm_schema {
	uint32_t size;
	uint32_t id;
	uint8_t kind;   /* enum gt_kind */
	uint8_t level;  /* 1..5 */
	uint8_t nfields;
	uint8_t pad0;
	uint32_t line;
	uint64_t keywords;
};
GT_STATIC_ASSERT(sizeof(struct gt_shm_schema) == 24, "gt_shm_schema layout");

/* Ring slot states (struct gt_ring_ctl.state). */
enum gt_slot_state {
	GT_SLOT_FREE = 0,   /* collector-owned; a producer may claim it by CAS */
	GT_SLOT_ACTIVE = 1, /* owned by thread @tid */
	GT_SLOT_EXITED = 2, /* thread gone; collector drains, then sets FREE */
};

/*
 * Per-thread ring control block, at the start of each slot; the ring data
 * (ring_size bytes, a power of two) follows at offset GT_RING_CTL_SIZE.
 * @head and @tail are byte positions that only grow; the live bytes are
 * [tail, head) modulo ring_size.
 */
struct gt_ring_ctl {
	/* cache line 0: written by the producer thread only */
	uint64_t head;  /* release-stored after a record is written; pairs with the collector's acquire load */
	uint64_t lost;  /* events dropped because the ring was full (monotonic) */
	uint32_t state; /* enum gt_slot_state; see transitions above */
	uint32_t tid;
	uint64_t seq;   /* records committed in this slot (monotonic) */
	uint8_t pad0[32];
	/* cache line 1: written by the collector only */
	uint64_t tail;  /* release-stored after records are copied out; pairs with the producer's acquire load */
	uint8_t pad1[56];
};
GT_STATIC_ASSERT(sizeof(struct gt_ring_ctl) == 128, "gt_ring_ctl layout");
#define GT_RING_CTL_SIZE 128u

/*
 * Segment header, at offset 0 of the producer's memfd.  The segment is:
 *   [0, GT_SHM_HDR_SIZE)            this header
 *   [schema_off, +schema_size)      schema records (struct gt_shm_schema...)
 *   [slots_off, +nslots*slot_size)  slots: struct gt_ring_ctl + ring data
 * schema_off, schema_size and slots_off are multiples of 4096; ring_size
 * is a power of two >= 4096 and slot_size == GT_RING_CTL_SIZE + ring_size,
 * so slot i starts at slots_off + i * slot_size and its ring data follows
 * its control block.  segment_size == slots_off + nslots * slot_size.
 */
#define GT_SHM_MAGIC 0x314d485352544704ull /* "\x04GTRSHM1" little-endian */
#define GT_SHM_HDR_SIZE 4096u
struct gt_shm_header {
	uint64_t magic;
	uint32_t abi_version;
	uint32_t struct_size; /* sizeof(struct gt_shm_header) of the writer */
	uint64_t segment_size;
	uint32_t pid;
	uint32_t clock; /* enum gt_clock in use by this producer */
	uint32_t schema_off;
	uint32_t schema_size;
	uint32_t slots_off;
	uint32_t nslots;
	uint32_t slot_size; /* GT_RING_CTL_SIZE + ring_size */
	uint32_t ring_size; /* power of two */
	uint8_t pad0[8];
	/* cache line 1: producer-written, process-wide */
	uint64_t schema_head;   /* bytes of schema region published (release) */
	uint64_t lost_noslot;   /* events dropped: no ring slot free (atomic add) */
	uint64_t lost_noschema; /* events dropped: schema region full (atomic add) */
	uint32_t exit_flags;    /* GT_EXIT_* set by the on_exit handler */
	int32_t exit_status;    /* exit() value when GT_EXIT_NORMAL */
	uint8_t pad1[32];
};
GT_STATIC_ASSERT(sizeof(struct gt_shm_header) == 128, "gt_shm_header layout");
enum gt_exit_flags { GT_EXIT_NORMAL = 1u << 0 };

/*
 * Socket protocol.  GTRACE_SESSION holds the path of the collector's
 * SOCK_SEQPACKET unix socket.  Every message starts with struct gt_msg.
 *   producer -> collector  GT_MSG_HELLO   (no body)
 *   collector -> producer  GT_MSG_WELCOME (struct gt_msg_welcome + rules)
 *   producer -> collector  GT_MSG_ATTACH  (no body, memfd in SCM_RIGHTS)
 * The collector learns the producer's pid/uid from SO_PEERCRED, never from
 * the message.  The socket stays open for the life of the process image;
 * EOF means the process exited or exec'd.
 */
#define GT_MSG_MAGIC 0x4754u /* "GT" */
enum gt_msg_type {
	GT_MSG_HELLO = 1,
	GT_MSG_WELCOME = 2,
	GT_MSG_ATTACH = 3,
};
struct gt_msg {
	uint16_t magic;
	uint16_t type;
	uint32_t size; /* whole message, header included */
	uint32_t abi_version;
	uint32_t pad0;
};
GT_STATIC_ASSERT(sizeof(struct gt_msg) == 16, "gt_msg layout");

/* A provider rule: providers whose name matches @pattern (glob, '*' and '?')
 * are enabled for events with level <= @level and (keywords == 0 or
 * keywords & @keywords).  The last matching rule wins. */
struct gt_msg_rule {
	uint8_t level;
	uint8_t pad0[7];
	uint64_t keywords;
	char pattern[GT_NAME_MAX + 1]; /* NUL-terminated */
};
GT_STATIC_ASSERT(sizeof(struct gt_msg_rule) == 272, "gt_msg_rule layout");

#define GT_RULES_MAX 64u
struct gt_msg_welcome {
	struct gt_msg hdr;
	uint32_t clock;       /* enum gt_clock the producer must use */
	uint32_t ring_size;   /* bytes per thread ring, power of two */
	uint32_t nslots;      /* ring slots per process */
	uint32_t schema_size; /* schema region bytes, multiple of 4096 */
	uint32_t nrules;      /* <= GT_RULES_MAX; rules follow */
	uint32_t pad0;
	/* struct gt_msg_rule rules[nrules]; */
};
GT_STATIC_ASSERT(sizeof(struct gt_msg_welcome) == 40, "gt_msg_welcome layout");

/*
 * Runtime enable (`gtrace start --system`, docs/abi.md "Runtime enable").
 *
 * A process with libgtrace and no GTRACE_SESSION keeps one struct
 * gt_sys_ctl in its own memory and names its address in a registry entry,
 * a file "p<pid>" (mode 0600) in the registry directory holding one line:
 *   "gtrace-sys <abi> <pid> <starttime> <ctl address, hex> <nonce, hex>\n"
 * (starttime: field 22 of /proc/<pid>/stat).  A system session reads the
 * block with process_vm_readv and writes the fields below "collector" with
 * process_vm_writev (so only the process's own user or root can), then
 * writes GT_SITE_UNREG into every state word listed in @sites, which sends
 * the next pass of each call site to the slow path.
 *
 * Sequence lock: the collector stores @seq + 1 (odd), then @want, @uid and
 * @socket, then @seq + 2 (even), then the state words.  The producer acts
 * on an even @seq whose value did not change while it copied the fields.
 * @sites is the address of an array of @nsites 64-bit addresses of
 * uint32_t state words; arrays are never freed, a grown array starts with
 * the old one's entries, and an entry is written before @nsites is
 * release-stored, so a reader that loads @nsites before @sites reads only
 * written entries.
 */
#define GT_SYS_MAGIC 0x314c544353544704ull /* "\x04GTSCTL1" little-endian */
#define GT_SYS_SOCKET_MAX 108u             /* sizeof(sun_path) */
#define GT_SYS_SITES_MAX (1u << 20)        /* the collector's bound on @nsites */
enum gt_sys_want {
	GT_SYS_WANT_NONE = 0, /* leave any system session */
	GT_SYS_WANT_JOIN = 1, /* join the session at @socket */
};
struct gt_sys_ctl {
	/* producer-written once, before the registry entry exists */
	uint64_t magic;
	uint32_t abi_version;
	uint32_t struct_size;
	uint64_t nonce; /* also in the registry entry: a stale entry cannot match */
	uint32_t pid;
	uint32_t pad0;
	/* producer-written under its registration lock */
	uint64_t sites;  /* address of uint64_t[]: addresses of state words */
	uint64_t nsites; /* entries published (release, after the entry) */
	/* collector-written (process_vm_writev) */
	uint64_t seq;  /* even: stable; odd: being written */
	uint32_t want; /* enum gt_sys_want */
	uint32_t uid;  /* the session's user (informative) */
	char socket[GT_SYS_SOCKET_MAX]; /* producer socket to join, NUL-terminated */
	uint8_t pad1[4];
	/* producer-written: what it did last (read by tests and `status`) */
	uint64_t acked;  /* the @seq the producer last acted on */
	uint32_t joined; /* 1 while joined through this block or the advertisement */
	uint32_t pad2;
};
GT_STATIC_ASSERT(sizeof(struct gt_sys_ctl) == 192, "gt_sys_ctl layout");

#ifdef __cplusplus
}
#endif
#endif /* GTRACE_ABI_H */
