/* SPDX-License-Identifier: MIT */
/*
 * test_lib_harness.c - the fake collector used by test_lib (see the header).
 *
 * It follows docs/abi.md from the collector's side, strictly: every value
 * read from the traced program is checked, and anything malformed is
 * counted as corrupt, which the tests assert is zero.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_lib_harness.h"

#define H_FAIL(...)                                                                     \
	do {                                                                           \
		fprintf(stderr, "harness: " __VA_ARGS__);                              \
		fputc('\n', stderr);                                                   \
		return -1;                                                             \
	} while (0)

void gt_test_cfg_default(struct gt_test_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->clock = GT_CLOCK_TSC;
	cfg->ring_size = 1u << 20;
	cfg->nslots = 16;
	cfg->schema_size = 256u << 10;
}

void gt_test_cfg_rule(struct gt_test_cfg *cfg, const char *pattern, uint8_t level,
		      uint64_t keywords)
{
	struct gt_msg_rule *r = &cfg->rules[cfg->nrules++];

	memset(r, 0, sizeof(*r));
	r->level = level;
	r->keywords = keywords;
	snprintf(r->pattern, sizeof(r->pattern), "%s", pattern);
}

void gt_test_sync(void)
{
	char c = 's';

	if (write(GT_TEST_SYNC_OUT_FD, &c, 1) != 1 || read(GT_TEST_SYNC_IN_FD, &c, 1) != 1)
		_exit(90);
}

struct gt_ring_ctl *gt_test_slot(const struct gt_test_proc *p, uint32_t i)
{
	const struct gt_shm_header *h = (const struct gt_shm_header *)p->seg;

	return (struct gt_ring_ctl *)(p->seg + h->slots_off + (size_t)i * h->slot_size);
}

static int wait_fd(int fd, short ev, int ms)
{
	struct pollfd pf = { .fd = fd, .events = ev };
	int n = poll(&pf, 1, ms);

	return n == 1 ? 0 : -1;
}

static void parse_schemas(struct gt_test_proc *p)
{
	const struct gt_shm_header *h = (const struct gt_shm_header *)p->seg;
	uint64_t head = __atomic_load_n(&h->schema_head, __ATOMIC_ACQUIRE);

	if (head > h->schema_size) {
		p->corrupt++;
		return;
	}
	while (p->schema_parsed + sizeof(struct gt_shm_schema) <= head) {
		const unsigned char *b = p->seg + h->schema_off + p->schema_parsed;
		struct gt_shm_schema r;
		struct gt_test_schema *s;
		const unsigned char *q, *end;
		char *dst[4 + GT_FIELDS_MAX];
		size_t cap[4 + GT_FIELDS_MAX];

		memcpy(&r, b, sizeof(r));
		if (r.size < sizeof(r) || r.size % 8 || r.size > head - p->schema_parsed ||
		    r.nfields > GT_FIELDS_MAX || r.id != p->nschemas + 1) {
			p->corrupt++;
			return;
		}
		p->schemas = realloc(p->schemas, (p->nschemas + 1) * sizeof(*s));
		s = &p->schemas[p->nschemas];
		memset(s, 0, sizeof(*s));
		s->id = r.id;
		s->kind = r.kind;
		s->level = r.level;
		s->nfields = r.nfields;
		s->line = r.line;
		s->keywords = r.keywords;
		q = b + sizeof(r);
		end = b + r.size;
		memcpy(s->types, q, r.nfields);
		q += r.nfields;
		dst[0] = s->provider, cap[0] = sizeof(s->provider);
		dst[1] = s->name, cap[1] = sizeof(s->name);
		dst[2] = s->file, cap[2] = sizeof(s->file);
		dst[3] = s->format, cap[3] = sizeof(s->format);
		for (unsigned i = 0; i < r.nfields; i++)
			dst[4 + i] = s->fields[i], cap[4 + i] = sizeof(s->fields[i]);
		for (unsigned i = 0; i < 4u + r.nfields; i++) {
			const unsigned char *z = memchr(q, 0, (size_t)(end - q));

			if (!z || (size_t)(z - q) >= cap[i]) {
				p->corrupt++;
				return;
			}
			memcpy(dst[i], q, (size_t)(z - q) + 1);
			q = z + 1;
		}
		p->nschemas++;
		p->schema_parsed += r.size;
	}
}

static void add_rec(struct gt_test_cap *cap, int proc, uint32_t slot, uint32_t tid,
		    const struct gt_rec_hdr *rh, const unsigned char *payload)
{
	struct gt_test_rec *r;

	if (cap->nrecs == cap->cap) {
		cap->cap = cap->cap ? cap->cap * 2 : 1024;
		cap->recs = realloc(cap->recs, cap->cap * sizeof(*r));
	}
	r = &cap->recs[cap->nrecs++];
	r->proc = proc;
	r->slot = slot;
	r->tid = tid;
	r->id = rh->id;
	r->ts = rh->ts;
	r->len = rh->size - 16;
	r->payload = malloc(r->len + 1);
	memcpy(r->payload, payload, r->len);
}

static void drain_proc(struct gt_test_cap *cap, int pi)
{
	struct gt_test_proc *p = &cap->procs[pi];
	const struct gt_shm_header *h = (const struct gt_shm_header *)p->seg;

	parse_schemas(p);
	for (uint32_t i = 0; i < h->nslots; i++) {
		struct gt_ring_ctl *ctl = gt_test_slot(p, i);
		unsigned char *data = (unsigned char *)ctl + GT_RING_CTL_SIZE;
		uint32_t state = __atomic_load_n(&ctl->state, __ATOMIC_ACQUIRE);
		uint64_t head = __atomic_load_n(&ctl->head, __ATOMIC_ACQUIRE);
		uint64_t tail = ctl->tail;
		uint32_t tid = ctl->tid;

		if (state == GT_SLOT_FREE)
			continue;
		if (tail > head || head - tail > h->ring_size || head % 8) {
			p->corrupt++;
			continue;
		}
		while (tail < head) {
			uint64_t pos = tail & (h->ring_size - 1);
			struct gt_rec_hdr rh;

			memcpy(&rh, data + pos, 8);
			if (rh.size < 8 || rh.size % 8 || pos + rh.size > h->ring_size ||
			    rh.size > head - tail) {
				p->corrupt++;
				break;
			}
			if (rh.id == GT_REC_PAD_ID) {
				p->pads++;
				tail += rh.size;
				continue;
			}
			if (rh.size < 16 || rh.size > GT_REC_MAX) {
				p->corrupt++;
				break;
			}
			memcpy(&rh, data + pos, 16);
			if (rh.id > p->nschemas) {
				parse_schemas(p);
				if (rh.id > p->nschemas) {
					p->corrupt++;
					break;
				}
			}
			add_rec(cap, pi, i, tid, &rh, data + pos + 16);
			tail += rh.size;
		}
		/* pairs with the producer's acquire load of tail */
		__atomic_store_n(&ctl->tail, head, __ATOMIC_RELEASE);
		if (state == GT_SLOT_EXITED) {
			if (p->nexited < 256)
				p->exited_tids[p->nexited++] = tid;
			__atomic_store_n(&ctl->state, GT_SLOT_FREE, __ATOMIC_RELEASE);
		}
	}
}

static void drain_all(struct gt_test_cap *cap)
{
	for (int i = 0; i < cap->nprocs; i++)
		drain_proc(cap, i);
}

static int handshake(struct gt_test_cap *cap, const struct gt_test_cfg *cfg, int s)
{
	unsigned char wbuf[sizeof(struct gt_msg_welcome) + 8 * sizeof(struct gt_msg_rule)];
	struct gt_msg_welcome w;
	struct gt_msg m;
	struct ucred cr;
	socklen_t crl = sizeof(cr);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	struct gt_test_proc *p;
	struct stat st;
	size_t wlen = sizeof(w) + cfg->nrules * sizeof(struct gt_msg_rule);
	int fd, seals;
	void *map;

	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0)
		H_FAIL("SO_PEERCRED: %s", strerror(errno));
	if (wait_fd(s, POLLIN, 5000) < 0 || recv(s, &m, sizeof(m), 0) != sizeof(m))
		H_FAIL("no HELLO");
	if (m.magic != GT_MSG_MAGIC || m.type != GT_MSG_HELLO || m.size != sizeof(m) ||
	    m.abi_version != GT_ABI_VERSION)
		H_FAIL("bad HELLO");
	memset(&w, 0, sizeof(w));
	w.hdr.magic = GT_MSG_MAGIC;
	w.hdr.type = GT_MSG_WELCOME;
	w.hdr.size = (uint32_t)wlen;
	w.hdr.abi_version = GT_ABI_VERSION;
	w.clock = cfg->clock;
	w.ring_size = cfg->ring_size;
	w.nslots = cfg->nslots;
	w.schema_size = cfg->schema_size;
	w.nrules = cfg->nrules;
	switch (cfg->bad_welcome) {
	case GT_TEST_BAD_MAGIC:
		w.hdr.magic = 0x5447;
		break;
	case GT_TEST_BAD_VERSION:
		w.hdr.abi_version = GT_ABI_VERSION + 1;
		break;
	case GT_TEST_BAD_SIZE:
		w.hdr.size += 8;
		break;
	case GT_TEST_BAD_SHORT:
		wlen = sizeof(w) - 8;
		w.hdr.size = (uint32_t)wlen;
		break;
	case GT_TEST_BAD_RING:
		w.ring_size = 4096 + 8;
		break;
	case GT_TEST_BAD_NSLOTS:
		w.nslots = 0;
		break;
	case GT_TEST_BAD_SCHEMA:
		w.schema_size = 4096 + 100;
		break;
	case GT_TEST_BAD_NRULES:
		w.nrules = cfg->nrules + 1;
		break;
	case GT_TEST_BAD_CLOCK:
		w.clock = 7;
		break;
	case GT_TEST_BAD_HUGE:
		w.ring_size = 1u << 30;
		w.nslots = 4096;
		break;
	default:
		break;
	}
	memcpy(wbuf, &w, sizeof(w) < wlen ? sizeof(w) : wlen);
	if (wlen > sizeof(w))
		memcpy(wbuf + sizeof(w), cfg->rules, cfg->nrules * sizeof(struct gt_msg_rule));
	if (cfg->bad_welcome == GT_TEST_BAD_PATTERN && cfg->nrules)
		memset(wbuf + sizeof(w) + offsetof(struct gt_msg_rule, pattern), 'x',
		       GT_NAME_MAX + 1);
	if (send(s, wbuf, wlen, MSG_NOSIGNAL) != (ssize_t)wlen)
		H_FAIL("send WELCOME: %s", strerror(errno));
	if (cfg->bad_welcome) {
		/* the producer must give up: close without ATTACH */
		char b[64];

		if (wait_fd(s, POLLIN, 5000) < 0 || recv(s, b, sizeof(b), 0) != 0)
			H_FAIL("producer answered a bad WELCOME (%d)", cfg->bad_welcome);
		cap->rejected++;
		close(s);
		return 0;
	}
	if (wait_fd(s, POLLIN, 5000) < 0 || recvmsg(s, &mh, MSG_CMSG_CLOEXEC) != sizeof(m))
		H_FAIL("no ATTACH");
	if (m.magic != GT_MSG_MAGIC || m.type != GT_MSG_ATTACH)
		H_FAIL("bad ATTACH");
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		H_FAIL("ATTACH without fd");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK) || !(seals & F_SEAL_GROW) ||
	    !(seals & F_SEAL_SEAL))
		H_FAIL("memfd not sealed (%d)", seals);
	if (fstat(fd, &st) < 0)
		H_FAIL("fstat");
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		H_FAIL("mmap");
	{
		const struct gt_shm_header *h = map;
		uint64_t want = GT_SHM_HDR_SIZE + (uint64_t)cfg->schema_size +
				(uint64_t)cfg->nslots * (GT_RING_CTL_SIZE + cfg->ring_size);

		if (h->magic != GT_SHM_MAGIC || h->abi_version != GT_ABI_VERSION ||
		    h->struct_size != sizeof(*h) || h->segment_size != (uint64_t)st.st_size ||
		    h->segment_size != want || h->pid != (uint32_t)cr.pid ||
		    h->clock != cfg->clock || h->schema_off != GT_SHM_HDR_SIZE ||
		    h->schema_size != cfg->schema_size ||
		    h->slots_off != GT_SHM_HDR_SIZE + cfg->schema_size ||
		    h->nslots != cfg->nslots || h->ring_size != cfg->ring_size ||
		    h->slot_size != GT_RING_CTL_SIZE + cfg->ring_size)
			H_FAIL("segment header does not match the WELCOME");
	}
	if (cap->nprocs == 8)
		H_FAIL("too many processes");
	p = &cap->procs[cap->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = cr.pid;
	p->sock = s;
	p->seg = map;
	p->size = (size_t)st.st_size;
	return 0;
}

int gt_test_run(struct gt_test_cap *cap, const struct gt_test_cfg *cfg, const char *exe,
		const char *mode, bool session)
{
	char dir[] = "/tmp/gtlibtest.XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ls, c2p[2], p2c[2], ret = 0;
	bool exited = false;
	struct timespec t0, t1;
	pid_t pid;

	memset(cap, 0, sizeof(*cap));
	if (!mkdtemp(dir))
		H_FAIL("mkdtemp: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 16) < 0)
		H_FAIL("listen: %s", strerror(errno));
	if (pipe2(c2p, O_CLOEXEC) < 0 || pipe2(p2c, O_CLOEXEC) < 0)
		H_FAIL("pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		H_FAIL("fork");
	if (pid == 0) {
		dup2(c2p[1], GT_TEST_SYNC_OUT_FD);
		dup2(p2c[0], GT_TEST_SYNC_IN_FD);
		if (session)
			setenv("GTRACE_SESSION", sa.sun_path, 1);
		else
			unsetenv("GTRACE_SESSION");
		execl(exe, exe, "child", mode, (char *)NULL);
		_exit(127);
	}
	close(c2p[1]);
	close(p2c[0]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pf[2] = { { .fd = ls, .events = POLLIN },
					{ .fd = c2p[0], .events = POLLIN } };
		int status;

		if (poll(pf, 2, 20) > 0) {
			if (pf[0].revents & POLLIN) {
				int s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);

				if (s >= 0 && handshake(cap, cfg, s) < 0) {
					close(s);
					ret = -1;
				}
			}
			if (pf[1].revents & POLLIN) {
				char ch;

				if (read(c2p[0], &ch, 1) == 1) {
					drain_all(cap);
					if (write(p2c[1], &ch, 1) != 1)
						ret = -1;
				}
			}
		}
		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = true;
			cap->status = status;
		}
		if (exited)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 60) {
			kill(pid, SIGKILL);
			waitpid(pid, &cap->status, 0);
			fprintf(stderr, "harness: '%s %s' timed out\n", exe, mode);
			ret = -1;
			break;
		}
	}
	drain_all(cap);
	close(c2p[0]);
	close(p2c[1]);
	close(ls);
	unlink(sa.sun_path);
	rmdir(dir);
	return ret;
}

void gt_test_cap_free(struct gt_test_cap *cap)
{
	for (int i = 0; i < cap->nprocs; i++) {
		munmap(cap->procs[i].seg, cap->procs[i].size);
		close(cap->procs[i].sock);
		free(cap->procs[i].schemas);
	}
	for (size_t i = 0; i < cap->nrecs; i++)
		free(cap->recs[i].payload);
	free(cap->recs);
	memset(cap, 0, sizeof(*cap));
}

const struct gt_test_schema *gt_test_schema_by_name(const struct gt_test_cap *cap, int proc,
						    const char *name)
{
	const struct gt_test_proc *p = &cap->procs[proc];

	for (size_t i = 0; i < p->nschemas; i++)
		if (!strcmp(p->schemas[i].name, name))
			return &p->schemas[i];
	return NULL;
}

const struct gt_test_schema *gt_test_schema_by_id(const struct gt_test_cap *cap, int proc,
						  uint32_t id)
{
	const struct gt_test_proc *p = &cap->procs[proc];

	if (id == 0 || id > p->nschemas)
		return NULL;
	return &p->schemas[id - 1];
}

size_t gt_test_count(const struct gt_test_cap *cap, int proc, const char *name)
{
	const struct gt_test_proc *p = &cap->procs[proc];
	size_t n = 0;

	/* every call site has its own schema: count them all */
	for (size_t i = 0; i < cap->nrecs; i++) {
		const struct gt_test_rec *r = &cap->recs[i];

		if (r->proc == proc && r->id >= 1 && r->id <= p->nschemas &&
		    !strcmp(p->schemas[r->id - 1].name, name))
			n++;
	}
	return n;
}

/* Decode @r by @s.  Return 0 if the payload is exactly the fields plus zero padding < 8. */
int gt_test_decode(const struct gt_test_schema *s, const struct gt_test_rec *r,
		   struct gt_test_val *out)
{
	const unsigned char *p = r->payload, *end = r->payload + r->len;

	for (unsigned i = 0; i < s->nfields; i++) {
		struct gt_test_val *v = &out[i];
		size_t sz;
		uint32_t u32;
		int32_t i32;

		memset(v, 0, sizeof(*v));
		v->type = s->types[i];
		switch (v->type) {
		case GT_TYPE_I32:
			sz = 4;
			break;
		case GT_TYPE_U32:
			sz = 4;
			break;
		case GT_TYPE_BOOL:
			sz = 1;
			break;
		case GT_TYPE_STR:
		case GT_TYPE_BYTES:
			sz = 4;
			break;
		default:
			sz = 8;
			break;
		}
		if ((size_t)(end - p) < sz)
			return -1;
		switch (v->type) {
		case GT_TYPE_I32:
			memcpy(&i32, p, 4);
			v->u = (uint64_t)(int64_t)i32;
			break;
		case GT_TYPE_U32:
			memcpy(&u32, p, 4);
			v->u = u32;
			break;
		case GT_TYPE_BOOL:
			v->u = *p;
			break;
		case GT_TYPE_F64:
			memcpy(&v->f, p, 8);
			memcpy(&v->u, p, 8);
			break;
		case GT_TYPE_STR:
		case GT_TYPE_BYTES:
			memcpy(&v->len, p, 4);
			if ((size_t)(end - p - 4) < v->len)
				return -1;
			v->p = p + 4;
			sz += v->len;
			break;
		default:
			memcpy(&v->u, p, 8);
			break;
		}
		p += sz;
	}
	if (end - p >= 8)
		return -1;
	for (; p < end; p++)
		if (*p)
			return -1;
	return 0;
}
