/* SPDX-License-Identifier: MIT */
/*
 * read_report.c - output that `gtrace info`, `dump` and `stats` share
 * (read_report.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read_report.h"

json_t *gt_jstr(const char *s)
{
	json_t *j = json_string(s);
	char *c;
	size_t n;

	if (j)
		return j;
	n = strlen(s);
	c = malloc(n + 1);
	if (!c)
		return json_null();
	for (size_t i = 0; i <= n; i++)
		c[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
	j = json_string(c);
	free(c);
	return j ? j : json_null();
}

void gt_warn_recovered(const char *cmd, const struct gt_reader *r, const char *path)
{
	const struct gt_summary *s = gt_reader_summary(r);

	if (!s->recovered)
		return;
	fflush(stdout);
	fprintf(stderr,
		"gtrace %s: warning: '%s' is incomplete (recovered %" PRIu64
		" chunks; %s); events after that point are lost\n",
		cmd, path, s->nchunks, s->recover_note);
}
