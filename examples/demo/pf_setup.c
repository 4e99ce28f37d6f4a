/* SPDX-License-Identifier: MIT */
/*
 * pf_setup.c - the "setup" step of the demo pipeline: creates the work
 * directory ($PF_WORKDIR or ./pf_work) and writes the rules file the tests
 * load.  One rule is deliberately malformed so the traces of the later
 * steps carry a warning to look at.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pf.h"

static const char pf_setup_rules[] =
	"# demo rules written by pf_setup: first match wins, default deny\n"
	"allow tcp 10.0.0.0/8 22\n"
	"allow tcp any 80\n"
	"allow tcp any 443\n"
	"allow udp 8.8.8.8/32 53\n"
	"deny tcp any 23\n"
	"deny udp any 5000-5100\n"
	"allow icmp 10.0.0.0/8 any\n"
	"allow tcp 172.16.0.0/12 8000-8999\n"
	"\n"
	"# legacy entry with an impossible prefix: rejected with a warning at load time\n"
	"allow tcp 10.0.0.0/33 8443\n";

int main(void)
{
	const char *dir = pf_workdir();
	char path[4096];
	struct pf_table *t;
	FILE *f;
	int ret;

	GT_SPAN_BEGIN(pf_prov, GT_LEVEL_INFO, PF_KW_RULES, "Setup", GT_STR("workdir", dir));
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "pf_setup: cannot create '%s': %s\n", dir, strerror(errno));
		ret = 1;
		goto out;
	}
	if (pf_rules_path(path, sizeof(path))) {
		fprintf(stderr, "pf_setup: work directory path too long\n");
		ret = 1;
		goto out;
	}
	f = fopen(path, "we");
	if (!f || fputs(pf_setup_rules, f) == EOF || fclose(f)) {
		fprintf(stderr, "pf_setup: cannot write '%s': %s\n", path, strerror(errno));
		ret = 1;
		goto out;
	}
	GT_EVENT(pf_prov, GT_LEVEL_INFO, PF_KW_RULES, "FileWritten", GT_STR("path", path),
		 GT_U64("bytes", sizeof(pf_setup_rules) - 1));

	/* check that what we wrote loads: 8 rules, 1 rejected */
	t = malloc(sizeof(*t));
	if (!t) {
		ret = 1;
		goto out;
	}
	pf_table_init(t);
	ret = pf_table_load(t, path);
	if (ret != 8 || t->rejected != 1) {
		fprintf(stderr, "pf_setup: '%s' loaded %d rules, %u rejected (want 8, 1)\n", path,
			ret, t->rejected);
		ret = 1;
	} else {
		printf("pf_setup: wrote %s (%u rules, %u rejected on purpose)\n", path, t->nrules,
		       t->rejected);
		ret = 0;
	}
	free(t);
out:
	GT_SPAN_END(pf_prov, GT_LEVEL_INFO, PF_KW_RULES, "Setup", GT_I32("rc", ret));
	return ret;
}
