/* SPDX-License-Identifier: MIT */
/*
 * gt_system.h - system sessions (`gtrace start --system`): enabling
 * processes that were running before the session started.
 *
 * The collector side of docs/abi.md "Runtime enable": scan the registry of
 * processes that stand by (REGISTRY/p<pid>), and for each one write "join
 * this socket" into its control block and GT_SITE_UNREG into its call
 * sites' state words with process_vm_writev; at the end write "leave".
 * One system session at a time per registry (REGISTRY/session.lock); its
 * socket is advertised in REGISTRY/session for processes that start later.
 *
 * All functions return >= 0 on success or a negative errno / -GT_E* code.
 */
#ifndef GT_SYSTEM_H
#define GT_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/gt_sysdir.h" /* gt_system_dir() */

/**
 * gt_system_claim() - take the registry's system-session lock.
 * Return: the locked descriptor (the session keeps it open for its life),
 * -EEXIST when another system session holds it (@err names it), -errno.
 */
int gt_system_claim(char *err, size_t errcap);

struct gt_system;

/* Counters of one system session (status.json, `gtrace status`). */
struct gt_system_stats {
	uint64_t enabled;       /* processes told to join */
	uint64_t skipped_user;  /* processes of another user: not ours to enable */
	uint64_t skipped_perm;  /* the kernel refused process_vm_writev (ptrace rules) */
	uint64_t bad;           /* entries or control blocks that failed validation */
	uint64_t stale;         /* entries of processes that are gone */
};

/**
 * gt_system_open() - become the system session: advertise @sock.
 * @lockfd: from gt_system_claim(); takes.  @sock, @name: copies.
 * @out: owned, end with gt_system_close().
 */
int gt_system_open(int lockfd, const char *sock, const char *name, struct gt_system **out);

/** gt_system_scan() - enable every standing-by process not enabled yet.  Return: how many now. */
int gt_system_scan(struct gt_system *s);

/** gt_system_stats() - copy the counters. */
void gt_system_stats(const struct gt_system *s, struct gt_system_stats *st);

/** gt_system_registry() - the registry directory in use (borrowed). */
const char *gt_system_registry(const struct gt_system *s);

/**
 * gt_system_close() - tell every process of the session to leave, remove
 * the advertisement, release the lock.  Accepts NULL.
 */
void gt_system_close(struct gt_system *s);

/* ---- exposed for tests/unit/test_system.c ---- */

/* One parsed registry entry. */
struct gt_sys_entry {
	uint32_t pid;
	uint64_t starttime;
	uint64_t addr;
	uint64_t nonce;
};

/**
 * gt_system_parse_entry() - parse the text of a registry entry (untrusted).
 * Return: 0, or -EINVAL when it is not exactly one well-formed line.
 */
int gt_system_parse_entry(const char *text, size_t len, struct gt_sys_entry *e);

/**
 * gt_system_enable() - write "join @sock" (@join) or "leave" into process
 * @e->pid's control block, then GT_SITE_UNREG into its state words.
 * Everything read from the process is validated; a bad address or count
 * fails or is skipped, never followed.
 * Return: the state words written; -EPERM/-ESRCH from the kernel;
 * -GT_ECORRUPT for a block that fails validation; -E2BIG for a bogus count.
 */
int gt_system_enable(const struct gt_sys_entry *e, bool join, const char *sock, uint32_t uid);

#endif /* GT_SYSTEM_H */
