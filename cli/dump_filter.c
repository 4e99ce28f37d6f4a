/* SPDX-License-Identifier: MIT */
/*
 * dump_filter.c - parsing the filter arguments of `gtrace dump`.
 *
 * Every argument is untrusted text.  Options take their value either as the
 * next argument (`--level 3`) or after '=' (`--level=3`); times are decimal
 * with an optional fraction and unit and are rejected rather than wrapped
 * when they overflow 64-bit nanoseconds.  Nothing here allocates: the
 * result points into argv.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "dump_filter.h"

int gt_dump_parse_time(const char *s, uint64_t *out)
{
	uint64_t ip = 0, frac = 0, fdiv = 1, mult, fns;
	const char *p = s;
	bool digits = false;

	while (*p >= '0' && *p <= '9') {
		if (ip > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		ip = ip * 10 + (uint64_t)(*p++ - '0');
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (fdiv < 1000000000000ull) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				fdiv *= 10;
			}
			p++;
			digits = true;
		}
	}
	if (!digits)
		return -EINVAL;
	if (!*p || !strcmp(p, "s"))
		mult = 1000000000ull;
	else if (!strcmp(p, "ms"))
		mult = 1000000ull;
	else if (!strcmp(p, "us"))
		mult = 1000ull;
	else if (!strcmp(p, "ns"))
		mult = 1;
	else
		return -EINVAL;
	if (ip > UINT64_MAX / mult)
		return -EINVAL;
	/* the fraction can still carry the sum past 2^64 - 1: reject, never wrap */
	fns = (uint64_t)((unsigned __int128)frac * mult / fdiv);
	if (ip * mult > UINT64_MAX - fns)
		return -EINVAL;
	*out = ip * mult + fns;
	return 0;
}

int gt_dump_parse_level(const char *s)
{
	static const char *const names[] = { "critical", "error", "warning", "info", "verbose" };

	if (s[0] >= '1' && s[0] <= '5' && !s[1])
		return s[0] - '0';
	for (int i = 0; i < 5; i++)
		if (!strcasecmp(s, names[i]))
			return i + 1;
	return -1;
}

int gt_dump_args_parse(int argc, char **argv, struct gt_dump_args *a, const char *usage,
		       FILE *errf)
{
	memset(a, 0, sizeof(*a));
	a->level = 5;
	a->until_ns = UINT64_MAX;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v = NULL;
		const char *eq = strchr(arg, '=');
		char opt[32];

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
			return GT_DUMP_ARGS_HELP;
		if (strncmp(arg, "--", 2) || !arg[2]) {
			if (a->path) {
				fprintf(errf, "gtrace dump: one FILE only ('%s' is extra)\n%s", arg,
					usage);
				return GT_DUMP_ARGS_USAGE;
			}
			a->path = arg;
			continue;
		}
		if (eq && (size_t)(eq - arg) < sizeof(opt)) {
			memcpy(opt, arg, (size_t)(eq - arg));
			opt[eq - arg] = 0;
			v = eq + 1;
			arg = opt;
		} else if (i + 1 < argc) {
			v = argv[++i];
		}
		if (!v) {
			fprintf(errf, "gtrace dump: option '%s' needs a value\n%s", arg, usage);
			return GT_DUMP_ARGS_USAGE;
		}
		if (!strcmp(arg, "--provider")) {
			a->prov = v;
		} else if (!strcmp(arg, "--event")) {
			a->evname = v;
		} else if (!strcmp(arg, "--level")) {
			a->level = gt_dump_parse_level(v);
			if (a->level < 0) {
				fprintf(errf,
					"gtrace dump: bad --level '%s': use 1-5 or critical, "
					"error, warning, info, verbose\n",
					v);
				return GT_DUMP_ARGS_USAGE;
			}
		} else if (!strcmp(arg, "--since") || !strcmp(arg, "--until")) {
			uint64_t t;

			if (gt_dump_parse_time(v, &t) < 0) {
				fprintf(errf,
					"gtrace dump: bad time '%s' for %s: use e.g. 1.5s, "
					"200ms, 1500us, 10ns\n",
					v, arg);
				return GT_DUMP_ARGS_USAGE;
			}
			if (arg[2] == 's')
				a->since_ns = t;
			else
				a->until_ns = t;
		} else if (!strcmp(arg, "--format")) {
			if (strcmp(v, "text") && strcmp(v, "json")) {
				fprintf(errf, "gtrace dump: bad --format '%s': use text or json\n",
					v);
				return GT_DUMP_ARGS_USAGE;
			}
			a->json = !strcmp(v, "json");
		} else {
			fprintf(errf, "gtrace dump: unknown option '%s'\n%s", arg, usage);
			return GT_DUMP_ARGS_USAGE;
		}
	}
	return 0;
}
