/* SPDX-License-Identifier: MIT */
/*
 * cmd_mark.c - `gtrace mark`: a marker event in the active session.
 *
 *   gtrace mark [--session NAME] TEXT...
 *
 * The collector drains every ring, then writes a gtrace.session/mark event
 * (field text: the arguments joined by spaces) stamped on the session's
 * clock into its current file, so the mark sorts after everything the
 * session's processes emitted before it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/gt_daemon.h"
#include "commands.h"

#define GT_MARK_TEXT_MAX 60000u

int cmd_mark(int argc, char **argv)
{
	const char *session = NULL;
	char name[GT_SESS_NAME_MAX + 1], err[1024], *text;
	size_t len = 0;
	json_t *req, *rep = NULL;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--session") && i + 1 < argc) {
			session = argv[++i];
		} else if (!strncmp(argv[i], "--session=", 10)) {
			session = argv[i] + 10;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: gtrace mark [--session NAME] TEXT...\n");
			return 0;
		} else {
			break;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: gtrace mark [--session NAME] TEXT...\n");
		return 2;
	}
	text = calloc(1, GT_MARK_TEXT_MAX + 1);
	if (!text)
		return 2;
	for (int k = i; k < argc && len < GT_MARK_TEXT_MAX; k++) {
		size_t n = strlen(argv[k]);

		if (k > i)
			text[len++] = ' ';
		if (n > GT_MARK_TEXT_MAX - len)
			n = GT_MARK_TEXT_MAX - len;
		memcpy(text + len, argv[k], n);
		len += n;
	}
	text[len] = '\0';
	if (gt_sess_resolve(session, name, sizeof(name), err, sizeof(err)) < 0) {
		fprintf(stderr, "gtrace mark: %s\n", err);
		free(text);
		return 2;
	}
	req = json_pack("{s:s, s:s}", "cmd", "mark", "arg", text);
	free(text);
	if (!req) {
		fprintf(stderr, "gtrace mark: TEXT must be UTF-8\n");
		return 2;
	}
	ret = gt_sess_request(name, req, 10000, &rep, err, sizeof(err));
	json_decref(req);
	if (ret < 0) {
		fprintf(stderr, "gtrace mark: %s\n", err);
		return 2;
	}
	json_decref(rep);
	return 0;
}
