/* SPDX-License-Identifier: MIT */
/*
 * gt_sysdir.h - where the registry of runtime enable lives (docs/abi.md
 * "Runtime enable").  lib/gt_sysdir.c is compiled into both libgtrace (the
 * processes that register) and the collector (the system session that
 * reads the registry), so the two always agree on the directory.
 */
#ifndef GT_SYSDIR_H
#define GT_SYSDIR_H

#include <stddef.h>

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

#endif /* GT_SYSDIR_H */
