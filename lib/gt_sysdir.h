/* SPDX-License-Identifier: MIT */
/*
 * gt_sysdir.h - what the two sides of runtime enable (docs/abi.md "Runtime
 * enable") must agree on: where the registry lives and how a process image
 * is told apart.  lib/gt_sysdir.c is compiled into both libgtrace (the
 * processes that register) and the collector (the system session that
 * reads the registry), so the two cannot drift apart.
 */
#ifndef GT_SYSDIR_H
#define GT_SYSDIR_H

#include <stddef.h>
#include <stdint.h>

#define GT_SYS_DIR_MAX 96u /* registry directory path bytes (fits sun_path with room) */

/**
 * gt_system_dir() - the registry directory, created if missing and checked:
 * $GTRACE_SYSTEM_DIR; else /run/gtrace/system (root creates it, mode 1777);
 * else, while no root ever created that, a private
 * $XDG_RUNTIME_DIR/gtrace/system or /tmp/gtrace-<uid>/system.
 * @out/@cap: receives the path (at most GT_SYS_DIR_MAX bytes are used).
 * Return: 0, -EINVAL (a bad $GTRACE_SYSTEM_DIR), -EPERM (a directory others
 * may tamper with), -errno.
 */
int gt_system_dir(char *out, size_t cap);

/**
 * gt_sys_starttime() - field 22 of /proc/<pid>/stat (the start time, in
 * clock ticks since boot), which tells a reused pid apart; @pid 0 is the
 * calling process.  Return: the start time, or 0 when the process is gone
 * or the file is unreadable.
 */
uint64_t gt_sys_starttime(uint32_t pid);

#endif /* GT_SYSDIR_H */
