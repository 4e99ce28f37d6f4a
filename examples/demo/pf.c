/* SPDX-License-Identifier: MIT */
/*
 * pf.c - libpf: a first-match packet filter with counters, instrumented
 * with gtrace.
 *
 * The point of this library is to show what a traced component looks like:
 * rule loading sits in a LoadRules span with one RuleLoaded event per rule
 * and a gt_log() warning per line it rejects; packet filtering emits one
 * small PacketMatched event per packet (three integers, so it costs a few
 * nanoseconds and a few bytes on disk) inside Batch spans; counters are
 * reported as Stats events.  Nothing here knows whether a session is active:
 * with none, every event is one untaken branch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf.h"

GT_PROVIDER_DEFINE(pf_prov, "Demo.PacketFilter");

void pf_table_init(struct pf_table *t)
{
	memset(t, 0, sizeof(*t));
}

int pf_ip_parse(const char *s, uint32_t *out)
{
	unsigned int a, b, c, d;
	char tail;

	if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4)
		return -EINVAL;
	if (a > 255 || b > 255 || c > 255 || d > 255)
		return -EINVAL;
	*out = (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | (uint32_t)d;
	return 0;
}

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static int parse_ports(char *s, struct pf_rule *r)
{
	char *dash;

	if (!strcmp(s, "any")) {
		r->port_lo = 0;
		r->port_hi = 65535;
		return 0;
	}
	dash = strchr(s, '-');
	if (!dash) {
		if (parse_port(s, &r->port_lo))
			return -EINVAL;
		r->port_hi = r->port_lo;
		return 0;
	}
	*dash = '\0';
	if (parse_port(s, &r->port_lo) || parse_port(dash + 1, &r->port_hi))
		return -EINVAL;
	return r->port_lo <= r->port_hi ? 0 : -EINVAL;
}

static int parse_net(char *s, struct pf_rule *r)
{
	char *slash, *end;
	unsigned long bits = 32;
	uint32_t ip;

	if (!strcmp(s, "any")) {
		r->net = 0;
		r->mask = 0;
		return 0;
	}
	slash = strchr(s, '/');
	if (slash) {
		*slash = '\0';
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		bits = strtoul(slash + 1, &end, 10);
		if (*end || bits > 32)
			return -EINVAL;
	}
	if (pf_ip_parse(s, &ip))
		return -EINVAL;
	r->mask = bits ? ~(uint32_t)0 << (32 - bits) : 0;
	r->net = ip & r->mask;
	return 0;
}

int pf_rule_parse(const char *line, struct pf_rule *out)
{
	char buf[PF_LINE_MAX], *tok[5], *save = NULL, *p;
	struct pf_rule r = { 0 };
	int n = 0;

	if (strlen(line) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, line);
	for (p = strtok_r(buf, " \t\r\n", &save); p; p = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 4)
			return -EINVAL;
		tok[n++] = p;
	}
	if (n != 4)
		return -EINVAL;
	if (!strcmp(tok[0], "allow"))
		r.action = PF_ALLOW;
	else if (!strcmp(tok[0], "deny"))
		r.action = PF_DENY;
	else
		return -EINVAL;
	if (!strcmp(tok[1], "tcp"))
		r.proto = PF_PROTO_TCP;
	else if (!strcmp(tok[1], "udp"))
		r.proto = PF_PROTO_UDP;
	else if (!strcmp(tok[1], "icmp"))
		r.proto = PF_PROTO_ICMP;
	else if (!strcmp(tok[1], "any"))
		r.proto = PF_PROTO_ANY;
	else
		return -EINVAL;
	if (parse_net(tok[2], &r) || parse_ports(tok[3], &r))
		return -EINVAL;
	*out = r;
	return 0;
}

int pf_table_add_line(struct pf_table *t, const char *line, uint32_t lineno)
{
	char buf[PF_LINE_MAX];
	struct pf_rule r;
	size_t len;
	char *hash;

	len = strlen(line);
	if (len >= sizeof(buf)) {
		t->rejected++;
		gt_log(pf_prov, GT_LEVEL_WARNING, "rules line %u: longer than %d bytes, ignored",
		       lineno, PF_LINE_MAX - 1);
		return -EINVAL;
	}
	memcpy(buf, line, len + 1);
	hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	if (buf[strspn(buf, " \t\r\n")] == '\0')
		return 0;
	if (pf_rule_parse(buf, &r)) {
		t->rejected++;
		len = strlen(buf);
		while (len && strchr(" \t\r\n", buf[len - 1]))
			buf[--len] = '\0';
		gt_log(pf_prov, GT_LEVEL_WARNING, "rules line %u: cannot parse '%s', ignored",
		       lineno, buf);
		GT_EVENT(pf_prov, GT_LEVEL_WARNING, PF_KW_RULES, "RuleRejected",
			 GT_U32("line", lineno), GT_STR("text", buf));
		return -EINVAL;
	}
	if (t->nrules >= PF_RULES_MAX) {
		gt_log(pf_prov, GT_LEVEL_ERROR, "rules table full (%d rules), line %u dropped",
		       PF_RULES_MAX, lineno);
		return -ENOSPC;
	}
	r.line = lineno;
	t->rules[t->nrules] = r;
	GT_EVENT(pf_prov, GT_LEVEL_INFO, PF_KW_RULES, "RuleLoaded", GT_U32("index", t->nrules),
		 GT_U32("line", lineno), GT_BOOL("allow", r.action == PF_ALLOW),
		 GT_U32("proto", r.proto), GT_U32("net", r.net), GT_U32("mask", r.mask),
		 GT_U32("port_lo", r.port_lo), GT_U32("port_hi", r.port_hi));
	t->nrules++;
	return 1;
}

int pf_table_load(struct pf_table *t, const char *path)
{
	char line[PF_LINE_MAX * 2];
	uint32_t lineno = 0;
	int added = 0, ret = 0;
	FILE *f;

	GT_SPAN_BEGIN(pf_prov, GT_LEVEL_INFO, PF_KW_RULES, "LoadRules", GT_STR("file", path));
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		gt_log(pf_prov, GT_LEVEL_ERROR, "cannot open rules file '%s': %s", path,
		       strerror(-ret));
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		int c;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			/* longer than the buffer: drop the rest, the line is rejected as too long */
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
		}
		ret = pf_table_add_line(t, line, lineno);
		if (ret == -ENOSPC)
			break;
		if (ret > 0)
			added++;
	}
	fclose(f);
	ret = ret == -ENOSPC ? ret : added;
out:
	GT_SPAN_END(pf_prov, GT_LEVEL_INFO, PF_KW_RULES, "LoadRules", GT_I32("rc", ret),
		    GT_U32("rules", t->nrules), GT_U32("rejected", t->rejected));
	return ret;
}

static bool rule_matches(const struct pf_rule *r, const struct pf_packet *p)
{
	if (r->proto != PF_PROTO_ANY && r->proto != p->proto)
		return false;
	if ((p->src & r->mask) != r->net)
		return false;
	if (p->proto == PF_PROTO_ICMP)
		return r->port_lo == 0 && r->port_hi == 65535;
	return p->dport >= r->port_lo && p->dport <= r->port_hi;
}

int pf_match(const struct pf_table *t, const struct pf_packet *p)
{
	for (uint32_t i = 0; i < t->nrules; i++)
		if (rule_matches(&t->rules[i], p))
			return (int)i;
	return -1;
}

int pf_filter(struct pf_table *t, const struct pf_packet *p, uint64_t seq)
{
	int rule = pf_match(t, p);
	int action = rule < 0 ? PF_DENY : t->rules[rule].action;

	if (rule >= 0)
		t->hits[rule]++;
	if (action == PF_ALLOW) {
		t->allowed++;
		t->bytes_allowed += p->len;
	} else {
		t->denied++;
	}
	GT_EVENT(pf_prov, GT_LEVEL_VERBOSE, PF_KW_PACKETS, "PacketMatched",
		 GT_I64("seq", (int64_t)seq), GT_I32("rule", rule), GT_I32("len", p->len));
	return action;
}

size_t pf_filter_batch(struct pf_table *t, const struct pf_packet *pkts, size_t n, uint64_t seq0)
{
	size_t allowed = 0;

	GT_SPAN_BEGIN(pf_prov, GT_LEVEL_INFO, PF_KW_PACKETS, "Batch",
		      GT_I64("first", (int64_t)seq0), GT_U64("packets", n));
	for (size_t i = 0; i < n; i++)
		allowed += pf_filter(t, &pkts[i], seq0 + i) == PF_ALLOW;
	GT_SPAN_END(pf_prov, GT_LEVEL_INFO, PF_KW_PACKETS, "Batch", GT_U64("allowed", allowed),
		    GT_U64("denied", n - allowed));
	return allowed;
}

void pf_stats_emit(const struct pf_table *t, const char *when)
{
	GT_EVENT(pf_prov, GT_LEVEL_INFO, PF_KW_STATS, "Stats", GT_STR("when", when),
		 GT_U32("rules", t->nrules), GT_U64("allowed", t->allowed),
		 GT_U64("denied", t->denied), GT_U64("bytes_allowed", t->bytes_allowed));
	if (gt_enabled(pf_prov, GT_LEVEL_VERBOSE, PF_KW_STATS)) {
		/* per-rule hit counts are only worth computing when someone listens */
		for (uint32_t i = 0; i < t->nrules; i++)
			GT_EVENT(pf_prov, GT_LEVEL_VERBOSE, PF_KW_STATS, "RuleHits",
				 GT_U32("index", i), GT_U64("hits", t->hits[i]));
	}
}

/*
 * A 64-packet traffic sample replayed in a loop, like a capture: SSH and web
 * from the internal network, DNS, pings, and some scans that should be denied.
 */
void pf_traffic(struct pf_packet *pkts, size_t n)
{
	static const uint16_t dports[8] = { 22, 80, 443, 53, 8080, 5001, 23, 443 };
	static const uint8_t protos[8] = { PF_PROTO_TCP, PF_PROTO_TCP, PF_PROTO_TCP, PF_PROTO_UDP,
					   PF_PROTO_TCP, PF_PROTO_UDP, PF_PROTO_TCP, PF_PROTO_TCP };
	static const uint32_t srcs[8] = { 0x0a000005, 0x0a010203, 0xc0a80110, 0x08080808,
					  0xcb007105, 0x0a000009, 0xc6336407, 0xac100001 };

	for (size_t i = 0; i < n; i++) {
		size_t k = i % 64;
		struct pf_packet *p = &pkts[i];

		p->src = srcs[k % 8];
		p->dst = 0x0a0000fe;
		p->proto = k % 21 == 20 ? PF_PROTO_ICMP : protos[(k / 8 + k) % 8];
		p->dport = p->proto == PF_PROTO_ICMP ? 0 : dports[(k * 5) % 8];
		p->sport = (uint16_t)(40000 + k);
		p->len = (uint16_t)(64 + (k * 37) % 1400);
	}
}

const char *pf_workdir(void)
{
	const char *d = getenv("PF_WORKDIR");

	return d && *d ? d : "pf_work";
}

int pf_rules_path(char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/rules.conf", pf_workdir());

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}
