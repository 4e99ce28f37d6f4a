/* SPDX-License-Identifier: MIT */
/*
 * test_session.c - long-lived sessions below the CLI: rotation and state.
 *
 * Rotation: a producer thread writes numbered events into an in-memory
 * segment while the collector (threaded, as in `gtrace start`) drains it and
 * the test switches sinks again and again with gt_collector_set_sink() and
 * gt_collector_switch_sink() (queued, without waiting for the writer); every
 * number must reach exactly one sink, every sink must have the schema before
 * the events using it, marks must land in the sink current when they were
 * made, and a sealed chunk must be asked for with gt_collector_seal().
 * State directories: names, lock-based liveness, resolution and removal
 * (sessdir.c), in a private XDG_RUNTIME_DIR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/gt_col_int.h"
#include "collector/gt_daemon.h"

#include "gt_check.h"

/* ---- a recording sink (called on the collector's writer thread) ---- */

#define NSINKS 40
#define NEVENTS 200000

struct rsink {
	int index;
	uint32_t schema_ids[16];
	char schema_names[16][64];
	int nschemas;
	uint64_t events, bad_order, flushes;
	char marks[4][32];
	int nmarks;
};

static unsigned char *g_seen; /* per sequence number: how many sinks got it */
static int g_done;             /* gt_collector_switch_sink() callbacks seen */

static void on_switched(void *arg)
{
	(void)arg;
	__atomic_fetch_add(&g_done, 1, __ATOMIC_RELAXED);
}

static int rs_schema(void *ctx, const struct gt_schema_desc *s)
{
	struct rsink *r = ctx;

	if (r->nschemas < 16) {
		r->schema_ids[r->nschemas] = s->id;
		snprintf(r->schema_names[r->nschemas], 64, "%s/%s/%u/%s", s->provider, s->name,
			 s->nfields, s->nfields ? s->fields[0].name : "");
		r->nschemas++;
	}
	return 0;
}

static bool rs_known(const struct rsink *r, uint32_t id)
{
	for (int i = 0; i < r->nschemas; i++)
		if (r->schema_ids[i] == id)
			return true;
	return false;
}

static int rs_event(void *ctx, uint64_t ts, uint32_t pid, uint32_t tid, uint32_t sid,
		    const void *p, size_t len)
{
	struct rsink *r = ctx;
	int64_t seq;

	(void)ts;
	(void)pid;
	(void)tid;
	if (!rs_known(r, sid))
		r->bad_order++;
	r->events++;
	if (len == 8) {
		memcpy(&seq, p, 8);
		if (seq >= 0 && seq < NEVENTS)
			g_seen[seq]++;
	} else if (len >= 4 && r->nmarks < 4) {
		uint32_t n;

		memcpy(&n, p, 4);
		if (n < 32 && n <= len - 4) {
			memcpy(r->marks[r->nmarks], (const char *)p + 4, n);
			r->marks[r->nmarks][n] = '\0';
			r->nmarks++;
		}
	}
	return 0;
}

static int rs_lost(void *ctx, uint32_t pid, uint32_t tid, uint64_t n)
{
	(void)ctx;
	(void)pid;
	(void)tid;
	(void)n;
	return 0;
}

static int rs_corrupt(void *ctx, uint32_t pid, uint64_t n)
{
	(void)ctx;
	(void)pid;
	(void)n;
	return 0;
}

static int rs_clock(void *ctx, const struct gt_clock_sample *s)
{
	(void)ctx;
	(void)s;
	return 0;
}

static int rs_flush(void *ctx)
{
	((struct rsink *)ctx)->flushes++;
	return 0;
}

static void rs_init(struct gt_sink *s, struct rsink *r)
{
	s->ctx = r;
	s->add_schema = rs_schema;
	s->add_event = rs_event;
	s->add_lost = rs_lost;
	s->add_corrupt = rs_corrupt;
	s->clock = rs_clock;
	s->flush = rs_flush;
}

/* ---- a producer writing one I64 field per event into slot 0 ---- */

#define RING (64u << 10)
#define SCHEMA (8u << 10)

struct prod {
	unsigned char *map;
	size_t size;
	struct gt_shm_header *h;
	uint32_t id;
	volatile int go;
};

static void prod_init(struct prod *p)
{
	struct gt_shm_schema sh = { 0 };
	unsigned char *rec;
	size_t pos = sizeof(sh);

	p->size = GT_SHM_HDR_SIZE + SCHEMA + GT_RING_CTL_SIZE + RING;
	p->map = aligned_alloc(4096, (p->size + 4095) & ~(size_t)4095);
	memset(p->map, 0, p->size);
	p->h = (struct gt_shm_header *)p->map;
	p->h->magic = GT_SHM_MAGIC;
	p->h->abi_version = GT_ABI_VERSION;
	p->h->struct_size = sizeof(*p->h);
	p->h->segment_size = p->size;
	p->h->pid = 4242;
	p->h->clock = GT_CLOCK_MONO;
	p->h->schema_off = GT_SHM_HDR_SIZE;
	p->h->schema_size = SCHEMA;
	p->h->slots_off = GT_SHM_HDR_SIZE + SCHEMA;
	p->h->nslots = 1;
	p->h->ring_size = RING;
	p->h->slot_size = GT_RING_CTL_SIZE + RING;
	/* schema 1: Test.Rot/Num (I64 seq) */
	rec = p->map + GT_SHM_HDR_SIZE;
	rec[pos++] = GT_TYPE_I64;
	memcpy(rec + pos, "Test.Rot\0Num\0f.c\0\0seq\0", 22);
	pos = (pos + 22 + 7) & ~(size_t)7;
	sh.size = (uint32_t)pos;
	sh.id = 1;
	sh.kind = GT_KIND_EVENT;
	sh.level = 4;
	sh.nfields = 1;
	memcpy(rec, &sh, sizeof(sh));
	p->h->schema_head = pos;
	p->id = 1;
}

static void *prod_main(void *arg)
{
	struct prod *p = arg;
	struct gt_ring_ctl *c = (struct gt_ring_ctl *)(p->map + p->h->slots_off);
	unsigned char *ring = (unsigned char *)c + GT_RING_CTL_SIZE;
	uint64_t head = 0;

	c->tid = 4243;
	__atomic_store_n(&c->state, GT_SLOT_ACTIVE, __ATOMIC_RELEASE);
	for (int64_t seq = 0; seq < NEVENTS;) {
		struct gt_rec_hdr rh = { .size = 24, .id = p->id };
		uint32_t off = (uint32_t)(head & (RING - 1));

		rh.ts = gt_clock_ticks(GT_CLOCK_MONO);
		/* 24-byte records never straddle the end of a 64 KiB ring: 65536 % 8 == 0,
		 * but 65536 % 24 != 0, so pad when fewer than 24 bytes remain */
		if (RING - off < 24) {
			uint32_t pad[2] = { RING - off, GT_REC_PAD_ID };

			if (head + pad[0] + 24 - __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE) > RING)
				continue; /* full: the test producer waits instead of dropping */
			memcpy(ring + off, pad, 8);
			head += pad[0];
			off = 0;
		}
		if (head + 24 - __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE) > RING)
			continue;
		memcpy(ring + off, &rh, 16);
		memcpy(ring + off + 16, &seq, 8);
		head += 24;
		__atomic_store_n(&c->head, head, __ATOMIC_RELEASE);
		if (++seq % 2000 == 0)
			usleep(1000); /* pace it, so that many rotations happen meanwhile */
	}
	__atomic_store_n(&p->go, 0, __ATOMIC_RELEASE);
	return NULL;
}

static void test_rotation(void)
{
	static struct rsink rs[NSINKS];
	struct gt_collector_opts o = { .clock = GT_CLOCK_MONO, .threaded = true };
	struct gt_collector *c;
	struct gt_segment *sg;
	struct gt_sink sink;
	struct prod p;
	pthread_t th;
	int cur = 0, marks = 0;

	g_seen = calloc(NEVENTS, 1);
	memset(rs, 0, sizeof(rs));
	prod_init(&p);
	rs_init(&o.sink, &rs[0]);
	CHECK(gt_collector_new(&o, &c) == 0);
	CHECK(gt_collector_attach_map(c, p.map, p.size, 4242, false, &sg) == 0);
	p.go = 1;
	CHECK(pthread_create(&th, NULL, prod_main, &p) == 0);
	while (__atomic_load_n(&p.go, __ATOMIC_ACQUIRE)) {
		gt_collector_poll(c, 1);
		if (cur + 1 < NSINKS && (rand() % 4) == 0) {
			if (cur % 5 == 0 && marks < 4) {
				gt_collector_mark(c, 1, "m", 1);
				marks++;
			}
			gt_collector_seal(c);
			rs[cur + 1].index = cur + 1;
			rs_init(&sink, &rs[cur + 1]);
			/* half of the switches wait for the writer, half are queued */
			if (cur % 2)
				CHECK(gt_collector_switch_sink(c, &sink, on_switched, NULL) == 0);
			else
				CHECK(gt_collector_set_sink(c, &sink) == 0);
			cur++;
		}
	}
	pthread_join(th, NULL);
	CHECK(gt_collector_finish(c) == 0);
	gt_collector_free(c);

	uint64_t total = 0;
	int once = 0, nmarks = 0;

	for (int i = 0; i < NEVENTS; i++)
		once += g_seen[i] == 1;
	CHECK(once == NEVENTS);
	for (int i = 0; i <= cur; i++) {
		total += rs[i].events;
		nmarks += rs[i].nmarks;
		CHECK(rs[i].bad_order == 0);
		/* every sink knows the producer's schema (declared or replayed) */
		bool has = false;

		for (int k = 0; k < rs[i].nschemas; k++)
			has |= !strcmp(rs[i].schema_names[k], "Test.Rot/Num/1/seq");
		CHECK(has);
		if (i > 0) /* a replay declares the same schemas in the same order, ids kept */
			CHECK(rs[i].nschemas >= rs[i - 1].nschemas &&
			      !memcmp(rs[i].schema_ids, rs[i - 1].schema_ids,
				      (size_t)rs[i - 1].nschemas * sizeof(uint32_t)));
		if (i < cur) /* the seal queued before each switch reached the old sink */
			CHECK(rs[i].flushes >= 1);
	}
	CHECK(cur >= 5);
	CHECK(g_done == cur / 2);
	CHECK(nmarks == marks);
	CHECK(total == (uint64_t)NEVENTS + (uint64_t)marks);
	printf("rotation: %d sinks, %d events each exactly once, %d marks\n", cur + 1, once,
	       nmarks);
	free(g_seen);
	free(p.map);
}

/*
 * A schema first seen while a queued switch waits behind a busy writer
 * thread: the events drained with it go to the old sink, later ones to the
 * new sink, and both must know the schema.
 */
static volatile int g_gate;

static int gate_event(void *ctx, uint64_t ts, uint32_t pid, uint32_t tid, uint32_t sid,
		      const void *p, size_t len)
{
	while (__atomic_load_n(&g_gate, __ATOMIC_ACQUIRE))
		usleep(100);
	return rs_event(ctx, ts, pid, tid, sid, p, len);
}

static void put_event(struct prod *p, uint32_t id, int64_t seq)
{
	struct gt_ring_ctl *c = (struct gt_ring_ctl *)(p->map + p->h->slots_off);
	unsigned char *ring = (unsigned char *)c + GT_RING_CTL_SIZE;
	struct gt_rec_hdr rh = { .size = 24, .id = id, .ts = gt_clock_ticks(GT_CLOCK_MONO) };
	uint64_t head = c->head;

	memcpy(ring + (head & (RING - 1)), &rh, 16);
	memcpy(ring + (head & (RING - 1)) + 16, &seq, 8);
	__atomic_store_n(&c->head, head + 24, __ATOMIC_RELEASE);
}

static void test_switch_new_schema(void)
{
	static struct rsink a, b;
	struct gt_collector_opts o = { .clock = GT_CLOCK_MONO, .threaded = true };
	struct gt_shm_schema sh = { 0 };
	struct gt_collector *c;
	struct gt_segment *sg;
	struct gt_sink sink;
	struct prod p;
	unsigned char *rec;
	size_t pos = sizeof(sh);

	g_seen = calloc(NEVENTS, 1);
	g_done = 0;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	prod_init(&p);
	((struct gt_ring_ctl *)(p.map + p.h->slots_off))->state = GT_SLOT_ACTIVE;
	rs_init(&o.sink, &a);
	o.sink.add_event = gate_event;
	CHECK(gt_collector_new(&o, &c) == 0);
	CHECK(gt_collector_attach_map(c, p.map, p.size, 4242, false, &sg) == 0);
	g_gate = 1;
	put_event(&p, 1, 0);
	gt_collector_drain_rings(c);
	gt_collector_handoff(c, false); /* hand it over without waiting... */
	usleep(20000); /* ...the writer thread is now stuck in gate_event */
	rs_init(&sink, &b);
	CHECK(gt_collector_switch_sink(c, &sink, on_switched, NULL) == 0);
	CHECK(c->switch_queued); /* the writer is busy: the switch waits in the batch */
	/* schema 2 appears now, with an event drained into the same batch */
	rec = p.map + GT_SHM_HDR_SIZE + p.h->schema_head;
	rec[pos++] = GT_TYPE_I64;
	memcpy(rec + pos, "Test.Rot\0Late\0f.c\0\0seq\0", 23);
	pos = (pos + 23 + 7) & ~(size_t)7;
	sh.size = (uint32_t)pos;
	sh.id = 2;
	sh.level = 4;
	sh.nfields = 1;
	memcpy(rec, &sh, sizeof(sh));
	__atomic_store_n(&p.h->schema_head, p.h->schema_head + pos, __ATOMIC_RELEASE);
	put_event(&p, 2, 1);
	gt_collector_drain_rings(c);
	__atomic_store_n(&g_gate, 0, __ATOMIC_RELEASE);
	CHECK(gt_collector_flush_batch(c) == 0);
	put_event(&p, 2, 2); /* after the switch */
	CHECK(gt_collector_finish(c) == 0);
	gt_collector_free(c);
	CHECK(g_done == 1);
	CHECK(a.events == 2 && b.events == 1);
	CHECK(a.bad_order == 0 && b.bad_order == 0);
	CHECK(a.nschemas == 2 && b.nschemas == 2);
	CHECK(g_seen[0] == 1 && g_seen[1] == 1 && g_seen[2] == 1);
	free(g_seen);
	free(p.map);
}

/* ---- state directories ---- */

static void test_sessdir(void)
{
	char tmpl[] = "/tmp/gtunit.XXXXXX", root[4096], path[4096], name[64], err[512];
	char **names;
	int n, fd;

	CHECK(mkdtemp(tmpl) != NULL);
	setenv("XDG_RUNTIME_DIR", tmpl, 1);
	unsetenv("GTRACE_SESSION");

	CHECK(gt_sess_name_ok("a.b-c_9"));
	CHECK(!gt_sess_name_ok(""));
	CHECK(!gt_sess_name_ok(".hidden"));
	CHECK(!gt_sess_name_ok("a/b"));
	CHECK(!gt_sess_name_ok(".."));
	CHECK(!gt_sess_name_ok("0123456789012345678901234567890123456789012345678")); /* 49 */

	CHECK(gt_sess_root(root, sizeof(root)) == 0);
	CHECK(strstr(root, tmpl) == root);
	struct stat st;

	CHECK(stat(root, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK(gt_sess_probe("one") == GT_SESS_NONE);
	CHECK(gt_sess_resolve(NULL, name, sizeof(name), err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "no active session") != NULL);

	/* a directory whose lock someone holds is alive */
	CHECK(gt_sess_path("one", NULL, path, sizeof(path)) == 0 && mkdir(path, 0700) == 0);
	CHECK(gt_sess_path("one", "lock", path, sizeof(path)) == 0);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
	CHECK(gt_sess_probe("one") == GT_SESS_ALIVE);
	CHECK(gt_sess_resolve(NULL, name, sizeof(name), err, sizeof(err)) == 0);
	CHECK(!strcmp(name, "one"));
	CHECK(gt_sess_remove("one") == -EBUSY);

	/* two alive: the caller must choose; GTRACE_SESSION chooses */
	int fd2;

	CHECK(gt_sess_path("two", NULL, path, sizeof(path)) == 0 && mkdir(path, 0700) == 0);
	CHECK(gt_sess_path("two", "lock", path, sizeof(path)) == 0);
	fd2 = open(path, O_RDWR | O_CREAT, 0600);
	CHECK(fd2 >= 0 && flock(fd2, LOCK_EX) == 0);
	CHECK(gt_sess_resolve(NULL, name, sizeof(name), err, sizeof(err)) == -EEXIST);
	CHECK(strstr(err, "one two") != NULL);
	CHECK(gt_sess_path("two", "s1.0", path, sizeof(path)) == 0);
	setenv("GTRACE_SESSION", path, 1);
	CHECK(gt_sess_resolve(NULL, name, sizeof(name), err, sizeof(err)) == 0);
	CHECK(!strcmp(name, "two"));
	setenv("GTRACE_SESSION", "/elsewhere/s1.0", 1); /* a `gtrace run` socket: ignored */
	CHECK(gt_sess_resolve(NULL, name, sizeof(name), err, sizeof(err)) == -EEXIST);
	CHECK(gt_sess_resolve("one", name, sizeof(name), err, sizeof(err)) == 0);
	CHECK(gt_sess_resolve("../x", name, sizeof(name), err, sizeof(err)) == -EINVAL);
	CHECK(gt_sess_resolve("three", name, sizeof(name), err, sizeof(err)) == -ENOENT);
	unsetenv("GTRACE_SESSION");

	n = gt_sess_list(&names);
	CHECK(n == 2 && !strcmp(names[0], "one") && !strcmp(names[1], "two"));
	if (n > 0)
		gt_sess_list_free(names, n);

	/* the collector dies: the lock is free, the state is dead and removable */
	close(fd);
	CHECK(gt_sess_probe("one") == GT_SESS_DEAD);
	CHECK(gt_sess_path("one", "status.json", path, sizeof(path)) == 0);
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f) {
		fputs("{\"name\":\"one\",\"file\":\"/x.gtrace\"}", f);
		fclose(f);
	}
	json_t *j = gt_sess_status_file("one");

	CHECK(j && !strcmp(json_string_value(json_object_get(j, "file")), "/x.gtrace"));
	json_decref(j);
	CHECK(gt_sess_remove("one") == 0);
	CHECK(gt_sess_probe("one") == GT_SESS_NONE);
	/* a request to a session without a collector fails cleanly */
	json_t *req = json_pack("{s:s}", "cmd", "status"), *rep = NULL;

	CHECK(gt_sess_request("two", req, 100, &rep, err, sizeof(err)) < 0 && !rep);
	json_decref(req);
	close(fd2);
	CHECK(gt_sess_remove("two") == 0);
	CHECK(rmdir(root) == 0);
	snprintf(path, sizeof(path), "%s/gtrace", tmpl);
	CHECK(rmdir(path) == 0 && rmdir(tmpl) == 0);
}

int main(void)
{
	test_sessdir();
	test_rotation();
	test_switch_new_schema();
	return gt_check_result("test_session");
}
