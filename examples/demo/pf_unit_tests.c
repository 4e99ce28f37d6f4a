/* SPDX-License-Identifier: MIT */
/*
 * pf_unit_tests.c - the "unit tests" step of the demo pipeline: real tests
 * of libpf's parser, matcher and counters.  Each test case runs inside a
 * TestCase span and ends with a TestResult event, so a failing case is
 * easy to find in the trace: `gtrace dump FILE --event TestResult`.
 * Prints PASS/FAIL per case; exits 0 when all pass, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pf.h"

static int pf_ut_failures; /* failed checks in the current case */

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("  check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);        \
			GT_EVENT(pf_prov, GT_LEVEL_ERROR, PF_KW_TESTS, "CheckFailed",              \
				 GT_STR("expr", #cond), GT_I32("line", __LINE__));                 \
			pf_ut_failures++;                                                          \
		}                                                                                  \
	} while (0)

static struct pf_table pf_ut_table;

static struct pf_packet pkt(const char *src, int proto, int dport)
{
	struct pf_packet p = { 0 };

	if (pf_ip_parse(src, &p.src))
		abort(); /* test bug, not a libpf failure */
	p.dst = 0x0a0000fe;
	p.proto = (uint8_t)proto;
	p.dport = (uint16_t)dport;
	p.sport = 40000;
	p.len = 100;
	return p;
}

static void test_parse_valid(void)
{
	struct pf_rule r;

	CHECK(pf_rule_parse("allow tcp 10.0.0.0/8 22", &r) == 0);
	CHECK(r.action == PF_ALLOW && r.proto == PF_PROTO_TCP);
	CHECK(r.net == 0x0a000000 && r.mask == 0xff000000);
	CHECK(r.port_lo == 22 && r.port_hi == 22);
	CHECK(pf_rule_parse("deny\tudp any 5000-5100", &r) == 0);
	CHECK(r.action == PF_DENY && r.proto == PF_PROTO_UDP && r.mask == 0);
	CHECK(r.port_lo == 5000 && r.port_hi == 5100);
	CHECK(pf_rule_parse("allow any 192.168.1.77 any", &r) == 0);
	CHECK(r.net == 0xc0a8014d && r.mask == 0xffffffff && r.port_hi == 65535);
	CHECK(pf_rule_parse("allow tcp 10.9.9.9/0 1", &r) == 0);
	CHECK(r.net == 0 && r.mask == 0);
}

static void test_parse_invalid(void)
{
	static const char *const bad[] = {
		"",
		"allow",
		"permit tcp any 22",
		"allow sctp any 22",
		"allow tcp 10.0.0.0/33 22",
		"allow tcp 10.0.0.256 22",
		"allow tcp 10.0.0 22",
		"allow tcp any 65536",
		"allow tcp any 90-80",
		"allow tcp any -1",
		"allow tcp any 22 extra",
		"allow tcp 1.2.3.4/ 22",
	};
	struct pf_rule r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = pf_rule_parse(bad[i], &r);

		if (ret == 0)
			printf("  accepted bad rule '%s'\n", bad[i]);
		CHECK(ret < 0);
	}
}

static void test_comments_and_blanks(void)
{
	pf_table_init(&pf_ut_table);
	CHECK(pf_table_add_line(&pf_ut_table, "# only a comment\n", 1) == 0);
	CHECK(pf_table_add_line(&pf_ut_table, "   \t\n", 2) == 0);
	CHECK(pf_table_add_line(&pf_ut_table, "allow tcp any 80  # web\n", 3) == 1);
	CHECK(pf_table_add_line(&pf_ut_table, "bogus line\n", 4) < 0);
	CHECK(pf_ut_table.nrules == 1 && pf_ut_table.rejected == 1);
	CHECK(pf_ut_table.rules[0].line == 3);
}

static void test_prefix_match(void)
{
	struct pf_packet in = pkt("10.200.3.4", PF_PROTO_TCP, 22);
	struct pf_packet out = pkt("11.0.0.1", PF_PROTO_TCP, 22);
	struct pf_packet edge = pkt("10.255.255.255", PF_PROTO_TCP, 22);

	pf_table_init(&pf_ut_table);
	CHECK(pf_table_add_line(&pf_ut_table, "allow tcp 10.0.0.0/8 22", 1) == 1);
	CHECK(pf_match(&pf_ut_table, &in) == 0);
	CHECK(pf_match(&pf_ut_table, &edge) == 0);
	CHECK(pf_match(&pf_ut_table, &out) == -1);
}

static void test_port_range(void)
{
	static const int ports[] = { 4999, 5000, 5050, 5100, 5101 };
	static const int want[] = { -1, 0, 0, 0, -1 };

	pf_table_init(&pf_ut_table);
	CHECK(pf_table_add_line(&pf_ut_table, "deny udp any 5000-5100", 1) == 1);
	for (size_t i = 0; i < 5; i++) {
		struct pf_packet p = pkt("1.2.3.4", PF_PROTO_UDP, ports[i]);

		CHECK(pf_match(&pf_ut_table, &p) == want[i]);
	}
	/* the rule is udp-only */
	struct pf_packet tcp = pkt("1.2.3.4", PF_PROTO_TCP, 5050);
	CHECK(pf_match(&pf_ut_table, &tcp) == -1);
}

static void test_first_match_wins(void)
{
	struct pf_packet telnet = pkt("10.0.0.1", PF_PROTO_TCP, 23);
	struct pf_packet ssh = pkt("10.0.0.1", PF_PROTO_TCP, 22);

	pf_table_init(&pf_ut_table);
	CHECK(pf_table_add_line(&pf_ut_table, "deny tcp any 23", 1) == 1);
	CHECK(pf_table_add_line(&pf_ut_table, "allow tcp 10.0.0.0/8 any", 2) == 1);
	CHECK(pf_match(&pf_ut_table, &telnet) == 0);
	CHECK(pf_filter(&pf_ut_table, &telnet, 1) == PF_DENY);
	CHECK(pf_match(&pf_ut_table, &ssh) == 1);
	CHECK(pf_filter(&pf_ut_table, &ssh, 2) == PF_ALLOW);
}

static void test_counters_and_default_deny(void)
{
	struct pf_packet web = pkt("8.8.4.4", PF_PROTO_TCP, 443);
	struct pf_packet other = pkt("8.8.4.4", PF_PROTO_TCP, 444);
	struct pf_packet ping = pkt("8.8.4.4", PF_PROTO_ICMP, 0);

	pf_table_init(&pf_ut_table);
	CHECK(pf_table_add_line(&pf_ut_table, "allow tcp any 443", 1) == 1);
	for (int i = 0; i < 10; i++)
		CHECK(pf_filter(&pf_ut_table, &web, (uint64_t)i) == PF_ALLOW);
	CHECK(pf_filter(&pf_ut_table, &other, 10) == PF_DENY);
	CHECK(pf_filter(&pf_ut_table, &ping, 11) == PF_DENY);
	CHECK(pf_ut_table.allowed == 10 && pf_ut_table.denied == 2);
	CHECK(pf_ut_table.bytes_allowed == 1000);
	CHECK(pf_ut_table.hits[0] == 10);
	pf_stats_emit(&pf_ut_table, "counters test");
}

static void test_load_file(void)
{
	char path[] = "/tmp/pf_unit_rules_XXXXXX";
	FILE *f;
	int fd;

	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	CHECK(f != NULL);
	if (!f) {
		close(fd);
		unlink(path);
		return;
	}
	fputs("allow tcp any 80\n# c\ndeny udp any any\nallow tcp 1.2.3.4/40 1\n", f);
	/* a 1000-byte line counts as one rejected line, not as several */
	fputs("deny tcp any 22 ", f);
	for (int i = 0; i < 1000; i++)
		fputc('x', f);
	fputs("\nallow tcp any 443", f); /* no final newline */
	fclose(f);
	pf_table_init(&pf_ut_table);
	CHECK(pf_table_load(&pf_ut_table, path) == 3);
	CHECK(pf_ut_table.nrules == 3 && pf_ut_table.rejected == 2);
	CHECK(pf_ut_table.rules[1].line == 3);
	CHECK(pf_ut_table.rules[2].line == 6 && pf_ut_table.rules[2].port_lo == 443);
	unlink(path);
	CHECK(pf_table_load(&pf_ut_table, path) < 0);
}

static void test_batch(void)
{
	struct pf_packet pkts[256];
	size_t allowed;

	pf_table_init(&pf_ut_table);
	CHECK(pf_table_add_line(&pf_ut_table, "allow tcp any 80", 1) == 1);
	CHECK(pf_table_add_line(&pf_ut_table, "allow tcp any 443", 2) == 1);
	pf_traffic(pkts, 256);
	allowed = pf_filter_batch(&pf_ut_table, pkts, 256, 0);
	CHECK(allowed == pf_ut_table.allowed);
	CHECK(pf_ut_table.allowed + pf_ut_table.denied == 256);
	CHECK(allowed == pf_ut_table.hits[0] + pf_ut_table.hits[1]);
	CHECK(allowed > 0 && allowed < 256);
}

static const struct {
	const char *name;
	void (*fn)(void);
} pf_ut_cases[] = {
	{ "parse_valid", test_parse_valid },
	{ "parse_invalid", test_parse_invalid },
	{ "comments_and_blanks", test_comments_and_blanks },
	{ "prefix_match", test_prefix_match },
	{ "port_range", test_port_range },
	{ "first_match_wins", test_first_match_wins },
	{ "counters_and_default_deny", test_counters_and_default_deny },
	{ "load_file", test_load_file },
	{ "batch", test_batch },
};

int main(void)
{
	size_t n = sizeof(pf_ut_cases) / sizeof(pf_ut_cases[0]);
	int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < n; i++) {
		pf_ut_failures = 0;
		GT_SPAN_BEGIN(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestCase",
			      GT_STR("name", pf_ut_cases[i].name));
		pf_ut_cases[i].fn();
		GT_SPAN_END(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestCase",
			    GT_STR("name", pf_ut_cases[i].name),
			    GT_I32("failures", pf_ut_failures));
		GT_EVENT(pf_prov, GT_LEVEL_INFO, PF_KW_TESTS, "TestResult",
			 GT_STR("name", pf_ut_cases[i].name),
			 GT_BOOL("passed", pf_ut_failures == 0));
		printf("%s %s\n", pf_ut_failures ? "FAIL" : "PASS", pf_ut_cases[i].name);
		failed += pf_ut_failures != 0;
	}
	printf("pf_unit_tests: %zu passed, %d failed\n", n - (size_t)failed, failed);
	return failed ? 1 : 0;
}
