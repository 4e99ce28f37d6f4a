/* SPDX-License-Identifier: MIT */
/*
 * read_report.h - what the commands that read a file (info, dump, stats)
 * print alike: names as JSON strings, and the warning for a file that was
 * read only up to its last whole chunk.
 */
#ifndef GT_READ_REPORT_H
#define GT_READ_REPORT_H

#include <jansson.h>

#include <gtrace/reader.h>

/**
 * gt_jstr() - @s as a JSON string; jansson refuses invalid UTF-8, so such
 * a string has its bytes from 0x80 up replaced by '?' rather than being
 * lost.  Return: a new reference (JSON null when out of memory).
 */
json_t *gt_jstr(const char *s);

/**
 * gt_warn_recovered() - when @r read @path only up to its last whole chunk,
 * say so on stderr after flushing stdout: "gtrace CMD: warning: ...".
 */
void gt_warn_recovered(const char *cmd, const struct gt_reader *r, const char *path);

#endif /* GT_READ_REPORT_H */
