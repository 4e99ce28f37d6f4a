/* SPDX-License-Identifier: MIT */
/*
 * test_kernel_parse.c - the sub-buffer parser of collector/kernel.c against
 * hand-built and then randomly damaged ring-buffer pages.  Needs neither root
 * nor tracefs: the page header and event formats are the kernel's text,
 * embedded here, and the parser is reached by including kernel.c.
 */
#include "collector/kernel.c"

#include "gt_check.h"

static const char hdr_page[] = "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
			       "\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
			       "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
			       "\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n";

static const char exec_fmt[] =
	"name: sched_process_exec\n"
	"ID: 365\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;\n"
	"\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;\n"
	"\n"
	"print fmt: \"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, "
	"REC->old_pid\n";

static const char comm_fmt[] =
	"name: sched_process_exit\n"
	"ID: 367\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t pid;\toffset:24;\tsize:4;\tsigned:1;\n"
	"\tfield:int prio;\toffset:28;\tsize:4;\tsigned:1;\n"
	"\tfield:bool group_dead;\toffset:32;\tsize:1;\tsigned:0;\n"
	"\n"
	"print fmt: \"comm=%s pid=%d prio=%d group_dead=%s\", REC->comm, REC->pid, REC->prio, "
	"REC->group_dead ? \"true\" : \"false\"\n";

struct sink {
	uint32_t ids;
	size_t events, schemas, procs;
	char path[64];
	uint32_t pid;
	struct gt_writer *w;
	size_t refused;
};

static int s_alloc(void *ctx, uint32_t *id)
{
	*id = ++((struct sink *)ctx)->ids;
	return 0;
}

static int s_schema(void *ctx, const struct gt_schema_desc *s)
{
	struct sink *k = ctx;

	k->schemas++;
	return k->w ? gt_writer_add_schema(k->w, s) : 0;
}

static int s_event(void *ctx, uint64_t ts, uint32_t pid, uint32_t tid, uint32_t sid,
		   const void *payload, size_t len)
{
	struct sink *k = ctx;

	k->events++;
	/* the writer checks that the payload matches the schema */
	if (k->w && gt_writer_add_event(k->w, ts, pid, tid, sid, payload, len) < 0)
		k->refused++;
	return 0;
}

static void s_proc(void *ctx, const struct gt_kernel_proc *p)
{
	struct sink *k = ctx;

	k->procs++;
	if (p->type == GT_KERNEL_PROC_EXEC) {
		snprintf(k->path, sizeof(k->path), "%s", p->path);
		k->pid = p->pid;
	}
}

/* Append one ring-buffer event (type_len in 4-byte units) with @data at @off. */
static size_t put_event(unsigned char *page, size_t off, const void *data, size_t len,
			uint32_t delta)
{
	uint32_t words = (uint32_t)((len + 3) / 4);
	uint32_t h = (words & 0x1f) | (delta << 5);

	memcpy(page + off, &h, 4);
	memset(page + off + 4, 0, words * 4);
	memcpy(page + off + 4, data, len);
	return off + 4 + words * 4;
}

static size_t build_page(unsigned char *page)
{
	unsigned char ev[64] = { 0 };
	uint16_t type = 365;
	int32_t pid = 4242, tid = 4242;
	uint32_t loc = (10u << 16) | 20u; /* len 10, offset 20 */
	uint64_t ts = 1000000, commit;
	size_t off = 16;

	memcpy(ev, &type, 2);
	memcpy(ev + 4, &tid, 4);
	memcpy(ev + 8, &loc, 4);
	memcpy(ev + 12, &pid, 4);
	memcpy(ev + 16, &pid, 4);
	memcpy(ev + 20, "/bin/true", 10);
	off = put_event(page, off, ev, 30, 5);

	memset(ev, 0, sizeof(ev));
	type = 367;
	memcpy(ev, &type, 2);
	memcpy(ev + 4, &tid, 4);
	memcpy(ev + 8, "true", 4);
	memcpy(ev + 24, &pid, 4);
	ev[32] = 1;
	off = put_event(page, off, ev, 33, 7);

	memcpy(page, &ts, 8);
	commit = off - 16;
	memcpy(page + 8, &commit, 8);
	return off;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(void)
{
	struct gt_kernel_spec all;
	struct gt_kernel *k = calloc(1, sizeof(*k));
	struct sink sk = { 0 };
	struct gt_kernel_out out = { .ctx = &sk,
				     .alloc_id = s_alloc,
				     .add_schema = s_schema,
				     .add_event = s_event,
				     .proc = s_proc };
	unsigned char good[4096];
	struct gt_clock_sample start = { 0 };
	char path[] = "/tmp/gt_kparse_XXXXXX";
	size_t len;
	int fd, ret;

	CHECK(gt_kernel_spec_parse("*:*", &all, NULL, 0) == 0);
	k->specs = &all;
	k->nspecs = 1;
	k->tep = tep_alloc();
	tep_set_long_size(k->tep, 8);
	tep_set_page_size(k->tep, 4096);
	tep_set_file_bigendian(k->tep, TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(k->tep, TEP_LITTLE_ENDIAN);
	CHECK(tep_parse_header_page(k->tep, (char *)hdr_page, sizeof(hdr_page) - 1, 8) == 0);
	CHECK(tep_parse_event(k->tep, exec_fmt, sizeof(exec_fmt) - 1, "sched") == 0);
	CHECK(tep_parse_event(k->tep, comm_fmt, sizeof(comm_fmt) - 1, "sched") == 0);
	k->kbuf = tep_kbuffer(k->tep);
	k->subbuf = 4096;
	k->page = calloc(1, k->subbuf + 64);
	k->payload = malloc(GT_KERNEL_PAYLOAD_MAX);
	k->tgid = calloc(GT_KERNEL_TGID_SLOTS, sizeof(*k->tgid));
	CHECK(k->kbuf && k->page && k->payload && k->tgid);
	if (failures)
		return 1;

	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	unlink(path);
	CHECK(gt_writer_open(path, NULL, &start, &sk.w) == 0);

	/* a well-formed page: two events, two schemas, exec and exit seen */
	memset(good, 0, sizeof(good));
	len = build_page(good);
	memcpy(k->page, good, len);
	ret = gt_parse_page(k, len, &out);
	CHECK(ret == 2);
	CHECK(sk.events == 2 && sk.schemas == 2 && sk.refused == 0);
	CHECK(!strcmp(sk.path, "/bin/true") && sk.pid == 4242);
	CHECK(sk.procs == 2);

	/* a commit beyond the bytes read is refused whole */
	memcpy(k->page, good, len);
	ret = gt_parse_page(k, 20, &out);
	CHECK(ret == 1 && sk.events == 2);

	/* a data_loc pointing outside the record drops that event only */
	memcpy(k->page, good, len);
	k->page[16 + 4 + 8 + 2] = 0x7f; /* filename offset byte 2: length field */
	ret = gt_parse_page(k, len, &out);
	CHECK(ret == 2 && sk.events == 3);

	/* random damage: never a crash (run under ASan), never a refused payload */
	for (int it = 0; it < 50000; it++) {
		size_t n = 1 + xr() % 8, plen = len;

		memcpy(k->page, good, len);
		for (size_t j = 0; j < n; j++)
			k->page[xr() % len] = (unsigned char)xr();
		if (it % 7 == 0)
			plen = xr() % (len + 1);
		if (it % 11 == 0) {
			for (size_t j = 16; j < 4096; j++)
				k->page[j] = (unsigned char)xr();
			plen = 4096;
		}
		ret = gt_parse_page(k, plen, &out);
		CHECK(ret >= 0);
		if (ret < 0)
			break;
	}
	CHECK(sk.refused == 0);
	fprintf(stderr, "kernel parse: %zu events from damaged pages, %llu rejected\n", sk.events,
		(unsigned long long)k->st.rejected);
	CHECK(gt_writer_close(sk.w) == 0);
	unlink(path);

	for (size_t i = 0; i < k->nkev; i++)
		free(k->kev[i]);
	free(k->kev);
	kbuffer_free(k->kbuf);
	tep_free(k->tep);
	free(k->tgid);
	free(k->payload);
	free(k->page);
	free(k);
	return gt_check_result("test_kernel_parse");
}
