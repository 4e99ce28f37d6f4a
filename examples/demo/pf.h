/* SPDX-License-Identifier: MIT */
/*
 * pf.h - libpf, the toy packet filter that the gtrace demo pipeline traces.
 *
 * A rules table is loaded from a text file (one rule per line, first match
 * wins, no match means deny); packets are matched against it and per-rule
 * and per-verdict counters are kept.  Everything libpf does is reported
 * through the "Demo.PacketFilter" provider, with keywords:
 *   0x1 PF_KW_RULES    rule loading (span LoadRules, events RuleLoaded, RuleRejected)
 *   0x2 PF_KW_PACKETS  per-packet events (PacketMatched) and batches (span Batch)
 *   0x4 PF_KW_STATS    counter snapshots (Stats)
 *   0x8 PF_KW_TESTS    test cases of the demo tools (span TestCase, TestResult)
 *
 * Rule syntax:  allow|deny  tcp|udp|icmp|any  A.B.C.D/N|any  PORT|LO-HI|any
 * e.g. "allow tcp 10.0.0.0/8 22" or "deny udp any 5000-5100".  '#' starts a comment.
 */
#ifndef PF_H
#define PF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gtrace/gtrace.h>

GT_PROVIDER_DECLARE(pf_prov);

#define PF_KW_RULES 0x1
#define PF_KW_PACKETS 0x2
#define PF_KW_STATS 0x4
#define PF_KW_TESTS 0x8

#define PF_RULES_MAX 1024
#define PF_LINE_MAX 256

enum pf_proto { PF_PROTO_ANY = 0, PF_PROTO_ICMP = 1, PF_PROTO_TCP = 6, PF_PROTO_UDP = 17 };
enum pf_action { PF_DENY = 0, PF_ALLOW = 1 };

struct pf_rule {
	uint32_t net; /* host byte order, already masked */
	uint32_t mask; /* host byte order; 0 matches any address */
	uint16_t port_lo;
	uint16_t port_hi;
	uint8_t proto; /* enum pf_proto */
	uint8_t action; /* enum pf_action */
	uint32_t line; /* line of the rules file, for diagnostics */
};

struct pf_packet {
	uint32_t src; /* host byte order */
	uint32_t dst;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	uint16_t len;
};

struct pf_table {
	struct pf_rule rules[PF_RULES_MAX];
	uint64_t hits[PF_RULES_MAX];
	uint32_t nrules;
	uint32_t rejected; /* lines that failed to parse */
	uint64_t allowed;
	uint64_t denied;
	uint64_t bytes_allowed;
};

/* pf_table_init() - an empty table (everything is denied). */
void pf_table_init(struct pf_table *t);

/*
 * pf_rule_parse() - parse one rule line (without comment handling).
 * Return: 0, or -EINVAL when the line is not a valid rule.
 */
int pf_rule_parse(const char *line, struct pf_rule *out);

/*
 * pf_table_add_line() - parse @line (comments and blank lines are skipped)
 * and append the rule.  Return: 1 added, 0 nothing to add, -EINVAL bad rule
 * (counted in t->rejected), -ENOSPC table full.
 */
int pf_table_add_line(struct pf_table *t, const char *line, uint32_t lineno);

/* pf_table_load() - load a rules file.  Return: rules added, or -errno. */
int pf_table_load(struct pf_table *t, const char *path);

/* pf_match() - index of the first matching rule, or -1 (default deny). */
int pf_match(const struct pf_table *t, const struct pf_packet *p);

/* pf_filter() - match @p, update the counters, emit PacketMatched.  Return: enum pf_action. */
int pf_filter(struct pf_table *t, const struct pf_packet *p, uint64_t seq);

/* pf_filter_batch() - pf_filter() @n packets inside a Batch span.  Return: packets allowed. */
size_t pf_filter_batch(struct pf_table *t, const struct pf_packet *pkts, size_t n, uint64_t seq0);

/* pf_stats_emit() - emit a Stats event with the table's counters. */
void pf_stats_emit(const struct pf_table *t, const char *when);

/* pf_ip_parse() - parse dotted-quad @s into host byte order.  Return: 0 or -EINVAL. */
int pf_ip_parse(const char *s, uint32_t *out);

/* pf_traffic() - fill @pkts with a deterministic, repeating sample of traffic. */
void pf_traffic(struct pf_packet *pkts, size_t n);

/* pf_workdir() - the demo's work directory: $PF_WORKDIR or "pf_work". */
const char *pf_workdir(void);

/* pf_rules_path() - "<workdir>/rules.conf" into @buf.  Return: 0 or -ENAMETOOLONG. */
int pf_rules_path(char *buf, size_t cap);

#endif /* PF_H */
