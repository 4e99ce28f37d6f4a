/* SPDX-License-Identifier: MIT */
/*
 * pf_integration_tests.c - the "integration tests" step of the demo
 * pipeline.  Starts pf_helper (found next to this executable) with
 * fork+exec, talks to it over two pipes, checks that its verdicts and
 * counters agree with an in-process libpf table loaded from the same rules
 * file, then asks it to quit and reaps it.  Both processes emit events to
 * the same gtrace session, so the file holds two pids.
 * Prints PASS/FAIL per case; exits 0 when all pass.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pf.h"

#define PF_IT_PACKETS 2000

struct pf_helper_conn {
	pid_t pid;
	FILE *to;
	FILE *from;
};

static struct pf_table pf_it_table;
static int pf_it_failed;

static void report(const char *name, int ok, const char *why)
{
	GT_EVENT(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestResult", GT_STR("name", name),
		 GT_BOOL("passed", ok));
	if (ok) {
		printf("PASS %s\n", name);
	} else {
		printf("FAIL %s: %s\n", name, why);
		pf_it_failed++;
	}
}

static int helper_path(char *buf, size_t cap)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int len;

	if (n < 0)
		return -errno;
	exe[n] = '\0';
	len = snprintf(buf, cap, "%s/pf_helper", dirname(exe));
	return len < 0 || (size_t)len >= cap ? -ENAMETOOLONG : 0;
}

static int helper_start(struct pf_helper_conn *h, const char *rules)
{
	char path[PATH_MAX];
	int in[2], out[2];

	if (helper_path(path, sizeof(path)))
		return -1;
	if (pipe2(in, O_CLOEXEC))
		return -1;
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	GT_EVENT(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "HelperSpawn", GT_STR("path", path));
	h->pid = fork();
	if (h->pid < 0)
		return -1;
	if (h->pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
			_exit(126);
		execl(path, path, rules, (char *)NULL);
		fprintf(stderr, "pf_integration_tests: cannot exec '%s': %s\n", path,
			strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	h->to = fdopen(in[1], "w");
	h->from = fdopen(out[0], "r");
	if (!h->to || !h->from)
		return -1;
	setvbuf(h->to, NULL, _IOLBF, 0);
	return 0;
}

/* Send one request, read one reply line into @reply.  Return 0 or -1. */
static int helper_call(struct pf_helper_conn *h, const char *req, char *reply, size_t cap)
{
	if (req && fprintf(h->to, "%s\n", req) < 0)
		return -1;
	if (!fgets(reply, (int)cap, h->from))
		return -1;
	reply[strcspn(reply, "\n")] = '\0';
	return 0;
}

static void ip_str(uint32_t ip, char *buf, size_t cap)
{
	snprintf(buf, cap, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
}

static void test_verdicts(struct pf_helper_conn *h)
{
	static struct pf_packet pkts[PF_IT_PACKETS];
	char req[128], reply[128], src[32], want[64];
	int mismatches = 0;

	pf_traffic(pkts, PF_IT_PACKETS);
	GT_SPAN_BEGIN(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestCase", GT_STR("name", "verdicts"));
	for (size_t i = 0; i < PF_IT_PACKETS; i++) {
		int rule, action;

		ip_str(pkts[i].src, src, sizeof(src));
		snprintf(req, sizeof(req), "PKT %s %u %u %u", src, pkts[i].proto, pkts[i].dport,
			 pkts[i].len);
		action = pf_filter(&pf_it_table, &pkts[i], i);
		rule = pf_match(&pf_it_table, &pkts[i]);
		snprintf(want, sizeof(want), "%s %d", action == PF_ALLOW ? "ALLOW" : "DENY", rule);
		if (helper_call(h, req, reply, sizeof(reply))) {
			mismatches = -1;
			break;
		}
		if (strcmp(reply, want)) {
			if (mismatches++ < 3)
				printf("  packet %zu (%s): helper says '%s', want '%s'\n", i, req,
				       reply, want);
		}
	}
	GT_SPAN_END(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestCase", GT_STR("name", "verdicts"),
		    GT_I32("mismatches", mismatches));
	report("verdicts", mismatches == 0,
	       mismatches < 0 ? "helper stopped answering" : "helper verdicts differ");
}

static void test_stats(struct pf_helper_conn *h)
{
	char reply[128], want[128];

	GT_SPAN_BEGIN(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestCase", GT_STR("name", "stats"));
	snprintf(want, sizeof(want), "STATS %" PRIu64 " %" PRIu64 " %" PRIu64, pf_it_table.allowed,
		 pf_it_table.denied, pf_it_table.bytes_allowed);
	if (helper_call(h, "STATS", reply, sizeof(reply)))
		strcpy(reply, "(no reply)");
	pf_stats_emit(&pf_it_table, "integration");
	GT_SPAN_END(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestCase", GT_STR("name", "stats"),
		    GT_STR("reply", reply));
	if (strcmp(reply, want))
		printf("  helper: '%s', want '%s'\n", reply, want);
	report("stats", !strcmp(reply, want), "helper counters differ");
}

static void test_bad_request(struct pf_helper_conn *h)
{
	char reply[128];
	int ok;

	GT_SPAN_BEGIN(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestCase",
		      GT_STR("name", "bad_request"));
	ok = !helper_call(h, "PKT 999.1.1.1 6 22 60", reply, sizeof(reply)) &&
	     !strncmp(reply, "ERROR", 5);
	ok = ok && !helper_call(h, "HELLO", reply, sizeof(reply)) && !strncmp(reply, "ERROR", 5);
	GT_SPAN_END(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestCase", GT_STR("name", "bad_request"),
		    GT_BOOL("ok", ok));
	report("bad_request", ok, "helper accepted a malformed request");
}

static void test_quit(struct pf_helper_conn *h)
{
	char reply[128];
	int status = -1, ok;

	GT_SPAN_BEGIN(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestCase", GT_STR("name", "quit"));
	ok = !helper_call(h, "QUIT", reply, sizeof(reply)) && !strcmp(reply, "BYE");
	fclose(h->to);
	h->to = NULL;
	while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR)
		;
	h->pid = -1;
	ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	GT_SPAN_END(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestCase", GT_STR("name", "quit"),
		    GT_I32("status", status));
	report("quit", ok, "helper did not exit cleanly");
}

int main(void)
{
	struct pf_helper_conn h = { .pid = -1 };
	char rules[4096], reply[128];
	unsigned int nrules = 0;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (pf_rules_path(rules, sizeof(rules)))
		return 2;
	pf_table_init(&pf_it_table);
	ret = pf_table_load(&pf_it_table, rules);
	if (ret < 0) {
		fprintf(stderr, "pf_integration_tests: cannot load '%s': %s (run pf_setup first)\n",
			rules, strerror(-ret));
		return 1;
	}

	GT_SPAN_BEGIN(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestCase",
		      GT_STR("name", "helper_start"));
	ret = helper_start(&h, rules);
	if (!ret)
		ret = helper_call(&h, NULL, reply, sizeof(reply));
	if (!ret && (sscanf(reply, "READY %u", &nrules) != 1 || nrules != pf_it_table.nrules))
		ret = -1;
	GT_SPAN_END(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestCase", GT_STR("name", "helper_start"),
		    GT_I32("pid", h.pid), GT_U32("rules", nrules));
	report("helper_start", ret == 0, "helper did not come up with the same rules");

	if (ret == 0) {
		test_verdicts(&h);
		test_stats(&h);
		test_bad_request(&h);
		test_quit(&h);
	}
	if (h.to)
		fclose(h.to);
	if (h.from)
		fclose(h.from);
	if (h.pid > 0) {
		kill(h.pid, SIGTERM);
		waitpid(h.pid, NULL, 0);
	}
	printf("pf_integration_tests: %d failed\n", pf_it_failed);
	return pf_it_failed ? 1 : 0;
}
