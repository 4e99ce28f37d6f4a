/* SPDX-License-Identifier: MIT */
/*
 * fuzz_profile.c - libFuzzer entry point for the profile parser
 * (collector/profile.c, docs/profiles.md).
 *
 * The input is the text of a profile file.  A profile that parses must obey
 * every documented limit (at most GT_RULES_MAX rules, NUL-terminated
 * patterns of at most 255 bytes, levels 0-5, ring_size a power of two from
 * 4K to 256M, 1-4096 threads, schema_size a multiple of 4K up to 64M); a
 * profile that does not must come with a message naming the file.  Each
 * parsed rule is then matched against a provider name taken from the input,
 * which also hunts for glob patterns that take exponential time.  A limit
 * violated is a __builtin_trap(), i.e. a crash the fuzzer reports.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "collector/gt_collector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t fz_sink;

#define FZ_CHECK(cond)                   \
	do {                             \
		if (!(cond))             \
			__builtin_trap(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gt_profile p;
	char err[512], name[GT_NAME_MAX + 1];
	size_t n;
	int ret;

	memset(err, 'x', sizeof(err));
	ret = gt_profile_parse((const char *)data, size, "fuzz.prof", &p, err, sizeof(err));
	if (ret < 0) {
		FZ_CHECK(ret == -EINVAL);
		FZ_CHECK(memchr(err, 0, sizeof(err)) != NULL);
		FZ_CHECK(!strncmp(err, "fuzz.prof", 9));
		return 0;
	}
	FZ_CHECK(ret == 0);
	FZ_CHECK(p.nrules <= GT_RULES_MAX);
	FZ_CHECK(p.ring_size >= 4096 && p.ring_size <= (256u << 20) &&
		 !(p.ring_size & (p.ring_size - 1)));
	FZ_CHECK(p.nslots >= 1 && p.nslots <= 4096);
	FZ_CHECK(p.schema_size >= 4096 && p.schema_size <= (64u << 20) && !(p.schema_size % 4096));
	FZ_CHECK((uint64_t)p.ring_size * p.nslots <= (256ull << 30));

	/* a provider name from the tail of the input (printable bytes only) */
	n = 0;
	for (size_t i = size > GT_NAME_MAX ? size - GT_NAME_MAX : 0; i < size; i++)
		if (data[i] > ' ' && data[i] < 127)
			name[n++] = (char)data[i];
	name[n] = 0;
	for (uint32_t i = 0; i < p.nrules; i++) {
		FZ_CHECK(memchr(p.rules[i].pattern, 0, sizeof(p.rules[i].pattern)) != NULL);
		FZ_CHECK(p.rules[i].level <= 5);
		fz_sink += gt_glob_match(p.rules[i].pattern, name);
		fz_sink += gt_glob_match(p.rules[i].pattern, p.rules[i].pattern);
	}
	for (unsigned int l = 1; l <= 5; l++) {
		fz_sink += gt_profile_enabled(&p, name, l, 0);
		fz_sink += gt_profile_enabled(&p, name, l, 1ull << (l * 7));
		fz_sink += gt_profile_enabled(&p, "gtrace.output", l, 0);
	}
	return 0;
}
