/* SPDX-License-Identifier: MIT */
/*
 * gt_lib.h - libgtrace internals shared by its .c files (not installed).
 *
 * One struct gt_proc holds the process-wide state: the session connection,
 * the mapped segment, the rules from the WELCOME and the list of registered
 * call sites.  Fields marked "lock" are owned by gt_proc.lock; the segment
 * pointers are published before any call site can be enabled and stay
 * mapped until exit (or, in a fork child, until the re-join replaces them).
 */
#ifndef GT_LIB_H
#define GT_LIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gtrace/abi.h>
#include <gtrace/gtrace.h>

/*
 * gt_fence() - a memory fence of @order.  GCC's ThreadSanitizer does not
 * model fences and refuses to build them (-Wtsan); in such a build a
 * sequentially consistent read-modify-write of a private word stands in
 * (on x86 a locked instruction, a full barrier too).
 */
#if defined(__SANITIZE_THREAD__)
static int gt_fence_word __attribute__((unused));
#define gt_fence(order) ((void)(order), (void)__atomic_fetch_add(&gt_fence_word, 0, __ATOMIC_SEQ_CST))
#else
#define gt_fence(order) __atomic_thread_fence(order)
#endif

#define GT_HIDDEN __attribute__((visibility("hidden")))

/* Where the process stands with its session (gt_proc.join). */
enum gt_join_state {
	GT_JOIN_NONE = 0,   /* not tried yet */
	GT_JOIN_OK = 1,     /* segment attached; events flow */
	GT_JOIN_FAILED = 2, /* no session or join failed: untraced (a system session may join) */
	GT_JOIN_REJOIN = 3, /* fork child: join again, keep the schema ids */
};

struct gt_proc {
	pthread_mutex_t lock;
	int join;       /* enum gt_join_state; lock */
	int sock;       /* session socket or -1; lock */
	unsigned char *seg;           /* segment mapping (NULL unless JOIN_OK); lock to write */
	size_t seg_size;
	struct gt_shm_header *hdr;    /* == seg */
	unsigned char *old_seg;       /* parent's segment in a fork child; lock */
	size_t old_seg_size;
	uint64_t old_schema_used;
	bool clock_tsc;               /* stamp with rdtsc, else CLOCK_MONOTONIC */
	uint32_t ring_size;
	uint32_t nslots;
	uint32_t schema_size;
	uint64_t schema_used;         /* our copy of hdr->schema_head; lock */
	uint32_t next_id;             /* next schema id; lock */
	uint32_t nrules;              /* lock */
	struct gt_msg_rule rules[GT_RULES_MAX];
	struct gt_site_state *sites;  /* registered call sites; lock */
	int memfd;                    /* kept segment memfd for a system re-join, or -1; lock */
};

/*
 * Per-thread ring state of the slow path (initial-exec TLS, owned by its
 * thread).  The producer position lives in the exported gt_thread_ring
 * (gtrace.h), shared with the inline fast path.
 */
struct gt_tls {
	struct gt_ring_ctl *ctl; /* NULL until the thread claims a slot */
	unsigned char *data;     /* ring data, ctl + GT_RING_CTL_SIZE */
	uint64_t tail;           /* last tail seen (acquire), validated */
	uint64_t size;           /* ring bytes, power of two */
	uint64_t lost;           /* mirrors ctl->lost */
};

extern struct gt_proc gt_proc GT_HIDDEN;
extern __thread struct gt_tls gt_tls GT_HIDDEN __attribute__((tls_model("initial-exec")));

/* gt_session.c */
void gt_lib_init(void) GT_HIDDEN;
void gt_proc_join_locked(void) GT_HIDDEN;
int gt_proc_connect_locked(const char *path, bool rejoin, bool keep) GT_HIDDEN;
void gt_proc_leave_locked(void) GT_HIDDEN;
unsigned char *gt_proc_segment(void) GT_HIDDEN;
void gt_dbg(const char *fmt, ...) GT_HIDDEN __attribute__((format(printf, 1, 2)));
void gt_thread_mark(void) GT_HIDDEN;

/* gt_site.c */
void gt_sites_eval_locked(void) GT_HIDDEN;
bool gt_rules_match(const char *provider, uint8_t level, uint64_t keywords) GT_HIDDEN;
bool gt_glob_match(const char *pat, const char *s) GT_HIDDEN;

/* gt_system.c: runtime enable by a system session (docs/abi.md "Runtime enable") */
void gt_sys_start_locked(bool rejoin) GT_HIDDEN;
uint64_t gt_sys_poll_locked(void) GT_HIDDEN;
bool gt_sys_changed(uint64_t seq) GT_HIDDEN;
void gt_sys_track_locked(struct gt_site_state *st) GT_HIDDEN;
void gt_sys_exit(void) GT_HIDDEN;
void gt_sys_atfork_child(void) GT_HIDDEN;

/* gt_ring.c */
void gt_thread_forget(void) GT_HIDDEN;
void gt_thread_exit(void *arg) GT_HIDDEN;

#endif /* GT_LIB_H */
