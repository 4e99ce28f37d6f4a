/* SPDX-License-Identifier: MIT */
/*
 * test_lib_harness.h - a fake collector for libgtrace's unit tests.
 *
 * The harness plays the collector's part of docs/abi.md: it listens on a
 * SOCK_SEQPACKET socket, runs a traced program with GTRACE_SESSION pointing
 * at it, answers HELLO with a WELCOME of the test's choosing, maps the
 * memfd the program attaches, and drains the rings into a capture the test
 * then checks.  A traced program may ask for a drain in the middle of its
 * run (gt_test_sync()) to exercise wrap-around.
 */
#ifndef TEST_LIB_HARNESS_H
#define TEST_LIB_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gtrace/abi.h>

#define GT_TEST_SYNC_OUT_FD 11 /* child -> harness: "drain now" */
#define GT_TEST_SYNC_IN_FD 10  /* harness -> child: "done" */

struct gt_test_cfg {
	uint32_t clock;
	uint32_t ring_size;
	uint32_t nslots;
	uint32_t schema_size;
	uint32_t nrules;
	struct gt_msg_rule rules[8];
	int bad_welcome; /* GT_TEST_BAD_*: send a malformed WELCOME, expect no ATTACH */
};

/* Ways to spoil a WELCOME (struct gt_test_cfg.bad_welcome). */
enum gt_test_bad {
	GT_TEST_BAD_NONE = 0,
	GT_TEST_BAD_MAGIC,
	GT_TEST_BAD_VERSION,
	GT_TEST_BAD_SIZE,     /* hdr.size disagrees with the datagram */
	GT_TEST_BAD_SHORT,    /* shorter than struct gt_msg_welcome */
	GT_TEST_BAD_RING,     /* ring_size not a power of two */
	GT_TEST_BAD_NSLOTS,   /* zero slots */
	GT_TEST_BAD_SCHEMA,   /* schema_size not a multiple of 4096 */
	GT_TEST_BAD_NRULES,   /* nrules larger than the rules sent */
	GT_TEST_BAD_PATTERN,  /* a rule pattern without its NUL */
	GT_TEST_BAD_CLOCK,
	GT_TEST_BAD_HUGE,     /* a segment of 2^30 * 4096 bytes */
	GT_TEST_BAD_COUNT_,
};

struct gt_test_schema {
	uint32_t id;
	uint8_t kind, level, nfields;
	uint32_t line;
	uint64_t keywords;
	uint8_t types[GT_FIELDS_MAX];
	char provider[GT_NAME_MAX + 1];
	char name[GT_NAME_MAX + 1];
	char file[GT_NAME_MAX + 1];
	char format[GT_FORMAT_MAX + 1];
	char fields[GT_FIELDS_MAX][GT_NAME_MAX + 1];
};

struct gt_test_rec {
	int proc;
	uint32_t slot;
	uint32_t tid;
	uint32_t id;
	uint64_t ts;
	uint32_t len; /* payload bytes (record size - 16) */
	unsigned char *payload;
};

struct gt_test_proc {
	pid_t pid;
	int sock;
	unsigned char *seg;
	size_t size;
	uint64_t schema_parsed;
	struct gt_test_schema *schemas;
	size_t nschemas;
	uint32_t exited_tids[256];
	size_t nexited;
	uint64_t pads;
	uint64_t corrupt;
};

struct gt_test_cap {
	struct gt_test_proc procs[8];
	int nprocs;
	struct gt_test_rec *recs;
	size_t nrecs, cap;
	int status; /* waitpid status of the traced program */
	int rejected; /* connections that got a bad WELCOME and sent no ATTACH */
};

/* One decoded field value. */
struct gt_test_val {
	uint8_t type;
	uint64_t u;   /* integers and bools, zero/sign extended as stored */
	double f;     /* F64 */
	const unsigned char *p; /* STR/BYTES */
	uint32_t len;
};

void gt_test_cfg_default(struct gt_test_cfg *cfg);
void gt_test_cfg_rule(struct gt_test_cfg *cfg, const char *pattern, uint8_t level,
		      uint64_t keywords);
int gt_test_run(struct gt_test_cap *cap, const struct gt_test_cfg *cfg, const char *exe,
		const char *mode, bool session);
void gt_test_cap_free(struct gt_test_cap *cap);
const struct gt_test_schema *gt_test_schema_by_name(const struct gt_test_cap *cap, int proc,
						    const char *name);
const struct gt_test_schema *gt_test_schema_by_id(const struct gt_test_cap *cap, int proc,
						  uint32_t id);
size_t gt_test_count(const struct gt_test_cap *cap, int proc, const char *name);
int gt_test_decode(const struct gt_test_schema *s, const struct gt_test_rec *r,
		   struct gt_test_val *out);
struct gt_ring_ctl *gt_test_slot(const struct gt_test_proc *p, uint32_t i);
void gt_test_sync(void);

#endif /* TEST_LIB_HARNESS_H */
