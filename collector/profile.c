/* SPDX-License-Identifier: MIT */
/*
 * profile.c - session profiles: which providers to record and buffer sizes.
 *
 * A profile is either built in ("default": everything) or a small text file
 * (docs/profiles.md) of `provider PATTERN [level=L] [keywords=K]` and
 * `buffer [ring_size=S] [threads=N] [schema_size=S]` lines, a `file
 * sync=full|async` line, plus `kernel`
 * lines that select kernel events (docs/kernel.md) for the ftrace instance.  The provider
 * rules go to every producer in the WELCOME message and are applied to the
 * collector's own events; the last matching rule wins, as in the producer.
 * The file is user input: every error names FILE:LINE, what is wrong and
 * what was expected.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gt_col_int.h"

#define GT_PROFILE_FILE_MAX (1u << 20)
#define GT_PROFILE_LINE_MAX 4096u
#define GT_PROFILE_RINGS_MAX (256ull << 30)

/*
 * Only the scalars are cleared: the rule and kernel-selection arrays (62 KB,
 * nearly always unused) are read only up to nrules and nkspecs, and leaving
 * them untouched saves `gtrace run` 16 page faults (docs/perf.md).
 */
static void gt_profile_defaults(struct gt_profile *p, const char *name)
{
	memset(p, 0, offsetof(struct gt_profile, rules));
	p->ksystem_wide = false;
	p->kbuffer_kb = 0;
	p->nkspecs = 0;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->ring_size = 8u << 20; /* docs/perf.md, "Sustained capture" */
	p->nslots = 64;
	p->schema_size = 256u << 10;
}

static void gt_profile_add_all(struct gt_profile *p)
{
	struct gt_profile_rule *r = &p->rules[p->nrules++];

	snprintf(r->pattern, sizeof(r->pattern), "*");
	r->level = GT_PROFILE_LEVEL_ALL;
	r->keywords = ~0ull;
}

void gt_profile_copy(struct gt_profile *dst, const struct gt_profile *src)
{
	memcpy(dst, src, offsetof(struct gt_profile, rules));
	memcpy(dst->rules, src->rules, src->nrules * sizeof(src->rules[0]));
	dst->ksystem_wide = src->ksystem_wide;
	dst->kbuffer_kb = src->kbuffer_kb;
	dst->nkspecs = src->nkspecs;
	memcpy(dst->kspecs, src->kspecs, src->nkspecs * sizeof(src->kspecs[0]));
}

int gt_profile_builtin(const char *name, struct gt_profile *p)
{
	int n;

	if (strcmp(name, "default") && strcmp(name, "kernel"))
		return -ENOENT;
	gt_profile_defaults(p, name);
	gt_profile_add_all(p);
	if (!strcmp(name, "kernel")) {
		n = gt_kernel_builtin("kernel", p->kspecs, GT_KERNEL_SPECS_MAX);
		if (n < 0)
			return n;
		p->nkspecs = (uint32_t)(n < (int)GT_KERNEL_SPECS_MAX ? n : (int)GT_KERNEL_SPECS_MAX);
	}
	return 0;
}

bool gt_glob_match(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == '?' || *pat == *s) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

bool gt_profile_enabled(const struct gt_profile *p, const char *provider, unsigned int level,
			uint64_t keywords)
{
	for (uint32_t i = p->nrules; i-- > 0;) {
		const struct gt_profile_rule *r = &p->rules[i];

		if (!gt_glob_match(r->pattern, provider))
			continue;
		return r->level != GT_PROFILE_LEVEL_OFF && level <= r->level &&
		       (keywords == 0 || (keywords & r->keywords));
	}
	return !strncmp(provider, "gtrace.", 7);
}

/* ---- parser ---- */

struct gt_pctx {
	const char *fname;
	unsigned int line;
	char *err;
	size_t errcap;
};

static int __attribute__((format(printf, 2, 3))) gt_perr(struct gt_pctx *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(x->err, x->errcap, "%s:%u: ", x->fname, x->line);
	if (n >= 0 && (size_t)n < x->errcap) {
		va_start(ap, fmt);
		vsnprintf(x->err + n, x->errcap - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int gt_parse_level(const char *v, uint8_t *out)
{
	static const char *const names[] = {
		"off", "critical", "error", "warning", "info", "verbose",
	};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(v, names[i])) {
			*out = (uint8_t)i;
			return 0;
		}
	}
	if (v[0] >= '0' && v[0] <= '5' && v[1] == '\0') {
		*out = (uint8_t)(v[0] - '0');
		return 0;
	}
	return -EINVAL;
}

static int gt_parse_u64(const char *v, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)v[0]))
		return -EINVAL;
	errno = 0;
	*out = strtoull(v, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

/* "4096", "64K", "1M", "1G" (binary multiples). */
static int gt_parse_size(const char *v, uint64_t *out)
{
	char buf[32], *end;
	uint64_t mul = 1, n;
	size_t len = strlen(v);

	if (len == 0 || len >= sizeof(buf) || !isdigit((unsigned char)v[0]))
		return -EINVAL;
	memcpy(buf, v, len + 1);
	switch (toupper((unsigned char)buf[len - 1])) {
	case 'K':
		mul = 1ull << 10;
		break;
	case 'M':
		mul = 1ull << 20;
		break;
	case 'G':
		mul = 1ull << 30;
		break;
	}
	if (mul != 1)
		buf[len - 1] = '\0';
	errno = 0;
	n = strtoull(buf, &end, 10);
	if (errno || *end || n > (UINT64_MAX / mul))
		return -EINVAL;
	*out = n * mul;
	return 0;
}

/* Split @line in place at blanks; stops at a token starting with '#'. */
static unsigned int gt_tokenize(char *line, char **tok, unsigned int max)
{
	unsigned int n = 0;
	char *p = line;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			break;
		if (n == max)
			return max + 1;
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static int gt_parse_provider(struct gt_pctx *x, struct gt_profile *p, char **tok, unsigned int n)
{
	struct gt_profile_rule r = { .level = GT_PROFILE_LEVEL_ALL, .keywords = ~0ull };
	bool have_level = false, have_kw = false;

	if (n < 2 || strchr(tok[1], '='))
		return gt_perr(
			x,
			"provider needs a name pattern (expected 'provider NAME [level=L] [keywords=K]')");
	if (strlen(tok[1]) > GT_NAME_MAX)
		return gt_perr(
			x,
			"provider pattern is longer than %u bytes (expected a shorter name or a glob)",
			GT_NAME_MAX);
	if (p->nrules >= GT_RULES_MAX)
		return gt_perr(x, "too many provider rules (expected at most %u)", GT_RULES_MAX);
	snprintf(r.pattern, sizeof(r.pattern), "%s", tok[1]);
	for (unsigned int i = 2; i < n; i++) {
		char *eq = strchr(tok[i], '=');

		if (!eq)
			return gt_perr(x, "'%s' is not KEY=VALUE (expected level=L or keywords=K)",
				       tok[i]);
		*eq++ = '\0';
		if (!strcmp(tok[i], "level")) {
			if (have_level)
				return gt_perr(x,
					       "level given twice (expected one level= per line)");
			if (gt_parse_level(eq, &r.level) < 0)
				return gt_perr(
					x,
					"bad level '%s' (expected 1-5 or critical, error, warning, info, verbose, off)",
					eq);
			have_level = true;
		} else if (!strcmp(tok[i], "keywords")) {
			if (have_kw)
				return gt_perr(
					x,
					"keywords given twice (expected one keywords= per line)");
			if (gt_parse_u64(eq, &r.keywords) < 0)
				return gt_perr(
					x,
					"bad keywords '%s' (expected a 64-bit mask, hex 0x... or decimal)",
					eq);
			have_kw = true;
		} else {
			return gt_perr(
				x, "unknown provider option '%s' (expected level= or keywords=)",
				tok[i]);
		}
	}
	p->rules[p->nrules++] = r;
	return 0;
}

static int gt_parse_buffer(struct gt_pctx *x, struct gt_profile *p, char **tok, unsigned int n)
{
	if (n < 2)
		return gt_perr(
			x,
			"buffer needs at least one option (expected ring_size=S, threads=N or schema_size=S)");
	for (unsigned int i = 1; i < n; i++) {
		char *eq = strchr(tok[i], '=');
		uint64_t v;

		if (!eq)
			return gt_perr(
				x,
				"'%s' is not KEY=VALUE (expected ring_size=S, threads=N or schema_size=S)",
				tok[i]);
		*eq++ = '\0';
		if (!strcmp(tok[i], "ring_size")) {
			if (gt_parse_size(eq, &v) < 0 || v < 4096 || v > GT_SEG_MAX_RING ||
			    (v & (v - 1)))
				return gt_perr(
					x,
					"bad ring_size '%s' (expected a power of two from 4K to 256M, e.g. 1M)",
					eq);
			p->ring_size = (uint32_t)v;
		} else if (!strcmp(tok[i], "threads")) {
			if (gt_parse_u64(eq, &v) < 0 || v < 1 || v > GT_SEG_MAX_SLOTS)
				return gt_perr(
					x,
					"bad threads '%s' (expected a number of ring slots from 1 to %u)",
					eq, GT_SEG_MAX_SLOTS);
			p->nslots = (uint32_t)v;
		} else if (!strcmp(tok[i], "schema_size")) {
			if (gt_parse_size(eq, &v) < 0 || v < 4096 || v > GT_SEG_MAX_SCHEMA ||
			    (v % 4096))
				return gt_perr(
					x,
					"bad schema_size '%s' (expected a multiple of 4K from 4K to 64M)",
					eq);
			p->schema_size = (uint32_t)v;
		} else {
			return gt_perr(
				x,
				"unknown buffer option '%s' (expected ring_size=, threads= or schema_size=)",
				tok[i]);
		}
	}
	return 0;
}

/* `file sync=full|async`: whether a complete file is fsynced (docs/profiles.md). */
static int gt_parse_file(struct gt_pctx *x, struct gt_profile *p, char **tok, unsigned int n)
{
	if (n != 2 || strncmp(tok[1], "sync=", 5))
		return gt_perr(x, "file takes one option (expected sync=full or sync=async)");
	if (!strcmp(tok[1] + 5, "full"))
		p->sync_full = true;
	else if (!strcmp(tok[1] + 5, "async"))
		p->sync_full = false;
	else
		return gt_perr(x, "bad sync '%s' (expected full or async)", tok[1] + 5);
	return 0;
}

/*
 * `kernel SYSTEM:EVENT [if FILTER]`, `kernel set=NAME`, `kernel system-wide`,
 * `kernel buffer_kb=N`.  The words after `kernel` are joined by single spaces
 * again, so a filter's own spacing is normalised (harmless for ftrace).
 */
static int gt_parse_kernel(struct gt_pctx *x, struct gt_profile *p, char **tok, unsigned int n)
{
	char text[GT_PROFILE_LINE_MAX + 1], kerr[512];
	size_t len = 0;
	uint64_t v;
	int ret;

	if (n < 2)
		return gt_perr(
			x,
			"kernel needs an event selection or option (expected 'kernel SYSTEM:EVENT [if FILTER]', 'kernel set=kernel', 'kernel system-wide' or 'kernel buffer_kb=N')");
	if (n == 2 && !strcmp(tok[1], "system-wide")) {
		p->ksystem_wide = true;
		return 0;
	}
	if (n == 2 && !strncmp(tok[1], "buffer_kb=", 10)) {
		if (gt_parse_u64(tok[1] + 10, &v) < 0 || v < 4 || v > (1u << 20))
			return gt_perr(
				x,
				"bad buffer_kb '%s' (expected KiB per CPU from 4 to 1048576, e.g. 4096)",
				tok[1] + 10);
		p->kbuffer_kb = (uint32_t)v;
		return 0;
	}
	if (n == 2 && !strncmp(tok[1], "set=", 4)) {
		uint32_t room = GT_KERNEL_SPECS_MAX - p->nkspecs;

		ret = gt_kernel_builtin(tok[1] + 4, p->kspecs + p->nkspecs, room);
		if (ret < 0)
			return gt_perr(x, "unknown kernel set '%s' (expected set=kernel)",
				       tok[1] + 4);
		if ((uint32_t)ret > room)
			return gt_perr(x, "too many kernel selections (expected at most %u)",
				       GT_KERNEL_SPECS_MAX);
		p->nkspecs += (uint32_t)ret;
		return 0;
	}
	if (p->nkspecs >= GT_KERNEL_SPECS_MAX)
		return gt_perr(x, "too many kernel selections (expected at most %u)",
			       GT_KERNEL_SPECS_MAX);
	for (unsigned int i = 1; i < n; i++) {
		size_t l = strlen(tok[i]);

		if (len + l + 2 > sizeof(text))
			return gt_perr(x, "kernel line too long (expected a shorter selection)");
		if (i > 1)
			text[len++] = ' ';
		memcpy(text + len, tok[i], l);
		len += l;
	}
	text[len] = '\0';
	kerr[0] = '\0';
	ret = gt_kernel_spec_parse(text, &p->kspecs[p->nkspecs], kerr, sizeof(kerr));
	if (ret < 0)
		return gt_perr(x, "%s", kerr[0] ? kerr : "bad kernel selection (expected SYSTEM:EVENT [if FILTER])");
	p->nkspecs++;
	return 0;
}

int gt_profile_parse(const char *text, size_t len, const char *fname, struct gt_profile *p,
		     char *err, size_t errcap)
{
	struct gt_pctx x = { .fname = fname, .line = 0, .err = err, .errcap = errcap };
	char line[GT_PROFILE_LINE_MAX + 1];
	size_t pos = 0;
	int ret;

	gt_profile_defaults(p, fname);
	while (pos < len) {
		size_t end = pos, n;
		char *tok[GT_PROFILE_LINE_MAX / 2];
		unsigned int ntok;

		while (end < len && text[end] != '\n')
			end++;
		n = end - pos;
		x.line++;
		if (n > GT_PROFILE_LINE_MAX)
			return gt_perr(&x, "line is longer than %u bytes (expected a shorter line)",
				       GT_PROFILE_LINE_MAX);
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)text[pos + i];

			if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f)
				return gt_perr(
					&x, "control byte 0x%02x in line (expected printable text)",
					ch);
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos = end + 1;
		ntok = gt_tokenize(line, tok, sizeof(tok) / sizeof(tok[0]));
		if (ntok == 0)
			continue;
		if (ntok > sizeof(tok) / sizeof(tok[0]))
			return gt_perr(&x,
				       "too many words (expected a directive and a few options)");
		if (!strcmp(tok[0], "provider"))
			ret = gt_parse_provider(&x, p, tok, ntok);
		else if (!strcmp(tok[0], "buffer"))
			ret = gt_parse_buffer(&x, p, tok, ntok);
		else if (!strcmp(tok[0], "kernel"))
			ret = gt_parse_kernel(&x, p, tok, ntok);
		else if (!strcmp(tok[0], "file"))
			ret = gt_parse_file(&x, p, tok, ntok);
		else
			ret = gt_perr(
				&x,
				"unknown directive '%s' (expected 'provider', 'buffer', 'file' or 'kernel')",
				tok[0]);
		if (ret < 0)
			return ret;
	}
	if ((uint64_t)p->ring_size * p->nslots > GT_PROFILE_RINGS_MAX)
		return gt_perr(&x, "ring_size x threads is more than 256G per process (%s)",
			       "expected smaller buffers");
	if (p->nrules == 0)
		gt_profile_add_all(p);
	return 0;
}

int gt_profile_load(const char *arg, struct gt_profile *p, char *err, size_t errcap)
{
	struct stat st;
	char *buf = NULL;
	ssize_t got;
	size_t n = 0;
	int fd, ret;

	if (!strchr(arg, '/') && gt_profile_builtin(arg, p) == 0)
		return 0;
	fd = open(arg, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(
			err, errcap,
			"cannot read profile '%s': %s (expected a built-in name like 'default' or a profile file)",
			arg, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errcap, "cannot read profile '%s': not a regular file", arg);
		close(fd);
		return -EINVAL;
	}
	if (st.st_size > GT_PROFILE_FILE_MAX) {
		snprintf(err, errcap,
			 "profile '%s' is larger than 1 MiB (expected a short text file)", arg);
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (n < (size_t)st.st_size) {
		got = read(fd, buf + n, (size_t)st.st_size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	ret = gt_profile_parse(buf, n, arg, p, err, errcap);
	free(buf);
	return ret;
}
