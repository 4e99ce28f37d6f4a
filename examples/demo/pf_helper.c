/* SPDX-License-Identifier: MIT */
/*
 * pf_helper.c - a filter "daemon" that pf_integration_tests starts with
 * fork+exec.  It loads the rules file named on its command line and then
 * answers one request per line on stdin, one reply per line on stdout:
 *
 *   PKT <src-ip> <proto> <dport> <len>  ->  ALLOW <rule> | DENY <rule>
 *   STATS                               ->  STATS <allowed> <denied> <bytes_allowed>
 *   QUIT                                ->  BYE  (then exit 0)
 *
 * It first replies "READY <nrules>" (or "ERROR <errno>" and exits 1).  It
 * uses libpf and joins the same gtrace session through the inherited
 * GTRACE_SESSION, so its events land in the same file under its own pid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf.h"

static struct pf_table pf_helper_table;

static int handle_pkt(const char *args, uint64_t seq)
{
	char src[64];
	unsigned int proto, dport, len;
	struct pf_packet p = { 0 };
	int action;

	if (sscanf(args, "%63s %u %u %u", src, &proto, &dport, &len) != 4 ||
	    pf_ip_parse(src, &p.src) || proto > 255 || dport > 65535 || len > 65535)
		return -1;
	p.proto = (uint8_t)proto;
	p.dport = (uint16_t)dport;
	p.len = (uint16_t)len;
	action = pf_filter(&pf_helper_table, &p, seq);
	printf("%s %d\n", action == PF_ALLOW ? "ALLOW" : "DENY", pf_match(&pf_helper_table, &p));
	return 0;
}

int main(int argc, char **argv)
{
	char line[PF_LINE_MAX];
	uint64_t seq = 0;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: pf_helper RULES_FILE\n");
		return 2;
	}
	GT_EVENT(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "HelperStart", GT_STR("rules", argv[1]));
	pf_table_init(&pf_helper_table);
	ret = pf_table_load(&pf_helper_table, argv[1]);
	if (ret < 0) {
		printf("ERROR %d\n", -ret);
		return 1;
	}
	printf("READY %u\n", pf_helper_table.nrules);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "PKT ", 4)) {
			if (handle_pkt(line + 4, seq++)) {
				gt_log(pf_prov, GT_LEVEL_WARNING, "bad request '%s'", line);
				printf("ERROR bad request\n");
			}
		} else if (!strcmp(line, "STATS")) {
			pf_stats_emit(&pf_helper_table, "helper");
			printf("STATS %llu %llu %llu\n",
			       (unsigned long long)pf_helper_table.allowed,
			       (unsigned long long)pf_helper_table.denied,
			       (unsigned long long)pf_helper_table.bytes_allowed);
		} else if (!strcmp(line, "QUIT")) {
			printf("BYE\n");
			GT_EVENT(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "HelperExit",
				 GT_U64("requests", seq));
			return 0;
		} else {
			gt_log(pf_prov, GT_LEVEL_WARNING, "unknown command '%s'", line);
			printf("ERROR unknown command\n");
		}
	}
	gt_log(pf_prov, GT_LEVEL_ERROR, "stdin closed without QUIT after %llu packets",
	       (unsigned long long)seq);
	return 1;
}
