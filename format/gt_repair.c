/* SPDX-License-Identifier: MIT */
/*
 * gt_repair.c - rebuild a complete .gtrace file from one cut short or
 * damaged (docs/format.md, "Repair").
 *
 * A file whose writer died has whole blocks up to some offset and then a
 * torn block, or damage in the middle (a bad sector, a stray write).  Every
 * block carries its own magic, a check of its header and a checksum of its
 * payload, so the repair copies the header and then every block that
 * verifies; at a block that does not, it searches forward for the next
 * block header that verifies and whose payload verifies (resynchronising)
 * and counts the bytes in between as dropped.  The copy is then opened with
 * the recovering reader, which parses the kept META/SCHEMA/STATS/CHUNK
 * blocks, and gt_writer adopts the copy to index its chunks and append the
 * footer and trailer: there is one footer encoder, the writer's.
 *
 * In-place repair writes the copy to a temporary file next to the input,
 * fsyncs it, renames it over the input and fsyncs the directory: at every
 * instant the path names either the old file or the whole new one.  This
 * needs free space for one copy; `-o OUT` needs the same.  The input is
 * only read, with pread (a file shrinking under us gives short reads, not
 * SIGBUS), and every size read from it is checked against the format
 * limits before anything is allocated.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include <gtrace/error.h>
#include <gtrace/reader.h>

#include "gt_fmt.h"
#include "gt_repair.h"
#include "gt_writer.h"

#define GT_SCAN_WINDOW (64u << 10) /* bytes searched per read when resynchronising */

struct gt_repair {
	const char *in_path;
	int in;
	uint64_t in_size;
	uint32_t hdr_size;
	int out;
	uint64_t out_off;
	uint8_t *buf; /* block payload, grows up to GT_BLK_MAX */
	size_t buf_cap;
	/*
	 * Payload bytes resynchronisation may still hash.  A hostile file can
	 * put a verifying block header (with a wrong payload checksum) every
	 * few bytes; without a cap that is quadratic.  Past it, the rest of
	 * the file counts as dropped.
	 */
	uint64_t resync_budget;
	char *err;
	size_t err_cap;
};

static void gt_rp_err(struct gt_repair *rp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void gt_rp_err(struct gt_repair *rp, const char *fmt, ...)
{
	va_list ap;

	if (!rp->err || !rp->err_cap)
		return;
	va_start(ap, fmt);
	vsnprintf(rp->err, rp->err_cap, fmt, ap);
	va_end(ap);
}

/*
 * Check the block at @off.  Return its payload size when its header and
 * payload verify (the payload is then in rp->buf, the header in @hdr), -1
 * when they do not, or -errno.
 */
static int64_t gt_rp_block(struct gt_repair *rp, uint64_t off, uint8_t *hdr, bool resync)
{
	uint32_t type, size, raw;
	int ret;

	if (off > rp->in_size || rp->in_size - off < GT_BLK_HDR_SIZE)
		return -1;
	ret = gt_fd_pread_all(rp->in, hdr, GT_BLK_HDR_SIZE, off);
	if (ret < 0)
		return ret == -EIO ? -1 : ret;
	if (gt_le32(hdr) != GT_BLK_MAGIC || gt_le32(hdr + 28) != (uint32_t)gt_blk_check(hdr))
		return -1;
	type = gt_le32(hdr + 4);
	size = gt_le32(hdr + 8);
	raw = gt_le32(hdr + 12);
	if (size > GT_BLK_MAX || raw > GT_BLK_MAX ||
	    (type == GT_BLK_CHUNK && (size > GT_CHUNK_BLK_MAX || raw > GT_RAW_MAX)))
		return -1;
	if (size > rp->in_size - off - GT_BLK_HDR_SIZE)
		return -1;
	if (resync) {
		if (size > rp->resync_budget)
			return -1;
		rp->resync_budget -= size;
	}
	if (size > rp->buf_cap) {
		uint8_t *b = realloc(rp->buf, size);

		if (!b)
			return -ENOMEM;
		rp->buf = b;
		rp->buf_cap = size;
	}
	ret = gt_fd_pread_all(rp->in, rp->buf, size, off + GT_BLK_HDR_SIZE);
	if (ret < 0)
		return ret == -EIO ? -1 : ret;
	if (XXH3_64bits(rp->buf, size) != gt_le64(hdr + 16))
		return -1;
	return size;
}

/*
 * Find the first offset after @from where a block verifies.  Return it,
 * rp->in_size when there is none, or -errno.
 */
static int64_t gt_rp_resync(struct gt_repair *rp, uint64_t from)
{
	static const uint8_t magic[4] = { 'G', 'T', 'B', 'K' };
	uint8_t *win = malloc(GT_SCAN_WINDOW + 3);
	uint64_t pos = from + 1;
	int64_t ret = (int64_t)rp->in_size;

	if (!win)
		return -ENOMEM;
	while (pos + GT_BLK_HDR_SIZE <= rp->in_size && rp->resync_budget) {
		size_t n = rp->in_size - pos < GT_SCAN_WINDOW + 3 ? (size_t)(rp->in_size - pos)
								   : GT_SCAN_WINDOW + 3;
		int r = gt_fd_pread_all(rp->in, win, n, pos);
		uint8_t *p = win, *end = win + n;

		if (r < 0) {
			ret = r == -EIO ? (int64_t)rp->in_size : r;
			break;
		}
		while ((p = memmem(p, (size_t)(end - p), magic, 4))) {
			uint8_t hdr[GT_BLK_HDR_SIZE];
			uint64_t at = pos + (uint64_t)(p - win);
			int64_t size = gt_rp_block(rp, at, hdr, true);

			if (size >= 0 || size < -1) {
				ret = size >= 0 ? (int64_t)at : size;
				goto out;
			}
			p++;
		}
		pos += GT_SCAN_WINDOW; /* the 3 extra bytes catch a magic across windows */
	}
out:
	free(win);
	return ret;
}

/* Copy header and verified blocks of the input to rp->out. */
static int gt_rp_copy(struct gt_repair *rp, struct gt_repair_result *res)
{
	uint8_t *hdr = malloc(rp->hdr_size);
	uint64_t off = rp->hdr_size;
	int ret;

	if (!hdr)
		return -ENOMEM;
	ret = gt_fd_pread_all(rp->in, hdr, rp->hdr_size, 0);
	if (!ret)
		ret = gt_fd_write_all(rp->out, hdr, rp->hdr_size);
	free(hdr);
	if (ret < 0)
		return ret;
	rp->out_off = rp->hdr_size;
	while (off < rp->in_size) {
		uint8_t bh[GT_BLK_HDR_SIZE];
		int64_t size = gt_rp_block(rp, off, bh, false), next;

		if (size < -1)
			return (int)size;
		if (size >= 0) {
			if (gt_le32(bh + 4) == GT_BLK_FOOTER)
				break; /* the old footer (and trailer): rebuilt below */
			ret = gt_fd_write_all(rp->out, bh, sizeof(bh));
			if (!ret)
				ret = gt_fd_write_all(rp->out, rp->buf, (size_t)size);
			if (ret < 0)
				return ret;
			rp->out_off += GT_BLK_HDR_SIZE + (uint64_t)size;
			off += GT_BLK_HDR_SIZE + (uint64_t)size;
			continue;
		}
		next = gt_rp_resync(rp, off);
		if (next < 0)
			return (int)next;
		if (!res->dropped_bytes)
			res->dropped_at = off;
		res->dropped_bytes += (uint64_t)next - off;
		res->dropped_regions++;
		off = (uint64_t)next;
	}
	return 0;
}

/* Give the writer everything the reader found in the copy, then close it. */
static int gt_rp_finish(struct gt_repair *rp, struct gt_reader *r, uint64_t end, uint32_t clock,
			const struct gt_repair_result *res)
{
	const struct gt_summary *sum = gt_reader_summary(r);
	/* fsynced: it is renamed over the input, which must never be lost */
	struct gt_writer_opts opts = { .clock = clock, .sync_full = true };
	struct gt_clock_sample start = { sum->start.ticks, sum->start.mono_ns,
					 sum->start.realtime_ns };
	struct gt_clock_sample last = { sum->last.ticks, sum->last.mono_ns,
					sum->last.realtime_ns };
	struct gt_field_desc fields[GT_FIELDS_MAX];
	uint8_t hdr[GT_CHUNK_HDR_SIZE], *ch = NULL;
	size_t ch_cap = 0;
	struct gt_writer *w;
	char note[160];
	int ret, rd;

	rd = dup(rp->out); /* for reading chunk headers back; the writer takes rp->out */
	if (rd < 0)
		return -errno;
	ret = gt_writer_open_fd(rp->out, end, &opts, &start, &w);
	if (ret < 0) {
		close(rd);
		return ret;
	}
	rp->out = -1;
	for (size_t i = 0; i < gt_reader_schema_count(r); i++) {
		const struct gt_schema *s = gt_reader_schema_at(r, i);
		struct gt_schema_desc d = {
			.id = s->id, .kind = s->kind, .level = s->level, .keywords = s->keywords,
			.provider = s->provider, .name = s->name, .file = s->file,
			.line = s->line, .format = s->format, .nfields = s->nfields,
			.fields = fields,
		};

		for (uint32_t f = 0; f < s->nfields && f < GT_FIELDS_MAX; f++) {
			fields[f].type = s->fields[f].type;
			fields[f].name = s->fields[f].name;
		}
		ret = gt_writer_add_schema(w, &d);
		if (ret < 0) {
			gt_rp_err(rp, "'%s': schema %" PRIu32 " cannot be kept: %s", rp->in_path,
				  s->id, gt_strerror(ret));
			goto out;
		}
	}
	for (size_t i = 0; i < gt_reader_meta_count(r); i++) {
		const char *k, *v;

		/* a key the writer refuses (empty, too long) is left out, not fatal */
		if (gt_reader_meta_at(r, i, &k, &v) == 0)
			(void)gt_writer_set_meta(w, k, v);
	}
	if (res->dropped_bytes) {
		snprintf(note, sizeof(note),
			 "%" PRIu64 " bytes dropped at offset %" PRIu64 " (%" PRIu64 " regions)",
			 res->dropped_bytes, res->dropped_at, res->dropped_regions);
		(void)gt_writer_set_meta(w, "repaired", note);
	} else {
		(void)gt_writer_set_meta(w, "repaired", "footer rebuilt, nothing dropped");
	}
	for (size_t i = 0; i < gt_reader_lost_count(r); i++) {
		const struct gt_lost *l = gt_reader_lost_at(r, i);

		ret = gt_writer_add_lost(w, l->pid, l->tid, l->count);
		if (ret < 0)
			goto out;
	}
	for (size_t i = 0; i < gt_reader_corrupt_count(r); i++) {
		const struct gt_corrupt *c = gt_reader_corrupt_at(r, i);

		ret = gt_writer_add_corrupt(w, c->pid, c->count);
		if (ret < 0)
			goto out;
	}
	if (last.ticks >= start.ticks)
		gt_writer_clock(w, &last);
	for (size_t i = 0; i < sum->nchunks; i++) {
		const struct gt_chunk_info *ci = gt_reader_chunk_at(r, i);
		uint32_t nsch;

		/* the reader checked this chunk header when it indexed it; re-read its table */
		if (!ci || ci->size < GT_CHUNK_HDR_SIZE) {
			ret = -GT_ECORRUPT;
			goto out;
		}
		ret = gt_fd_pread_all(rd, hdr, GT_CHUNK_HDR_SIZE, ci->offset + GT_BLK_HDR_SIZE);
		if (ret < 0)
			goto out;
		nsch = gt_le32(hdr + 4);
		if (nsch > GT_SCHEMAS_MAX || GT_CHUNK_HDR_SIZE + 8 * (uint64_t)nsch > ci->size) {
			ret = -GT_ECORRUPT;
			goto out;
		}
		if (gt_grow((void **)&ch, &ch_cap, 8 * (size_t)nsch, 1) < 0) {
			ret = -ENOMEM;
			goto out;
		}
		ret = gt_fd_pread_all(rd, ch, 8 * (size_t)nsch,
				   ci->offset + GT_BLK_HDR_SIZE + GT_CHUNK_HDR_SIZE);
		if (ret < 0)
			goto out;
		ret = gt_writer_index_chunk(w, ci->offset, ci->size, ci->raw_size, ci->nevents,
					    ci->min_ticks, ci->max_ticks, nsch, ch);
		if (ret < 0) {
			gt_rp_err(rp, "'%s': chunk %zu at offset %" PRIu64 " cannot be indexed: %s",
				  rp->in_path, i, ci->offset, gt_strerror(ret));
			goto out;
		}
	}
	gt_writer_mark_written(w);
out:
	free(ch);
	close(rd);
	if (ret < 0) {
		(void)gt_writer_close(w); /* the caller removes the copy */
		return ret;
	}
	return gt_writer_close(w);
}


int gt_repair_file(const char *in, const char *out, struct gt_repair_result *res, char *err,
		   size_t err_cap)
{
	struct gt_repair rp = { .in_path = in, .in = -1, .out = -1, .err = err, .err_cap = err_cap };
	const char *dst = out;
	struct gt_reader *r = NULL;
	const struct gt_summary *sum;
	char *tmp = NULL, *real = NULL, msg[512];
	uint8_t fh[GT_FILE_HDR_SIZE];
	bool created = false;
	struct stat st;
	uint32_t clock;
	int ret;

	memset(res, 0, sizeof(*res));
	if (err && err_cap)
		err[0] = '\0';
	if (!in)
		return -EINVAL;
	/* the reader checks the header (magic, version, checksum) and says what is wrong */
	ret = gt_reader_open_ex(in, 0, &r, msg, sizeof(msg));
	if (ret < 0) {
		gt_rp_err(&rp, "%s", msg);
		return ret;
	}
	sum = gt_reader_summary(r);
	if (sum->complete && gt_reader_verify(r) == 0) {
		res->was_complete = true;
		res->nchunks = sum->nchunks;
		res->nevents = sum->nevents;
		gt_reader_close(r);
		return 0;
	}
	gt_reader_close(r);
	r = NULL;

	rp.in = open(in, O_RDONLY | O_CLOEXEC);
	if (rp.in < 0 || fstat(rp.in, &st) < 0) {
		ret = -errno;
		gt_rp_err(&rp, "'%s': %s", in, strerror(-ret));
		goto out;
	}
	rp.in_size = (uint64_t)st.st_size;
	rp.resync_budget = 4 * rp.in_size + (64u << 20);
	ret = gt_fd_pread_all(rp.in, fh, sizeof(fh), 0);
	if (ret < 0) {
		gt_rp_err(&rp, "'%s': cannot read the header: %s", in, gt_strerror(ret));
		goto out;
	}
	rp.hdr_size = gt_le32(fh + 12);
	clock = gt_le32(fh + 20);
	if (rp.hdr_size < GT_FILE_HDR_SIZE || rp.hdr_size > GT_FILE_HDR_MAX ||
	    rp.hdr_size > rp.in_size) {
		ret = -GT_ECORRUPT; /* the reader accepted it: the file changed under us */
		gt_rp_err(&rp, "'%s': header changed while reading; retry when nothing writes it",
			  in);
		goto out;
	}
	if (!out) {
		/* through a symlink: repair (and rename next to) the file it names */
		real = realpath(in, NULL);
		if (!real) {
			ret = -errno;
			gt_rp_err(&rp, "'%s': %s", in, strerror(-ret));
			goto out;
		}
		if (asprintf(&tmp, "%s.repair-%d.tmp", real, (int)getpid()) < 0) {
			tmp = NULL;
			ret = -ENOMEM;
			goto out;
		}
		dst = tmp;
	}
	rp.out = open(dst, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, out ? 0600 : st.st_mode & 0777);
	if (rp.out < 0) {
		ret = -errno;
		if (out && ret == -EEXIST)
			gt_rp_err(&rp, "'%s': already exists; remove it or choose another -o", out);
		else
			gt_rp_err(&rp, "'%s': cannot create: %s%s", dst, strerror(-ret),
				  out ? "" : " (repair in place writes a copy next to the file)");
		goto out;
	}
	created = true;
	ret = gt_rp_copy(&rp, res);
	if (ret < 0) {
		gt_rp_err(&rp, "'%s': copying the whole blocks to '%s' failed: %s", in, dst,
			  gt_strerror(ret));
		goto out;
	}
	ret = gt_reader_open_ex(dst, 0, &r, msg, sizeof(msg));
	if (ret < 0) {
		gt_rp_err(&rp, "'%s': the copy does not read back: %s", in, msg);
		goto out;
	}
	sum = gt_reader_summary(r);
	if (sum->recovered_end < rp.out_off) {
		/*
		 * A block that verifies but does not parse (or a chunk naming a schema
		 * that was dropped): the reader stopped there.  Keep what it read.
		 */
		uint64_t cut = rp.out_off - sum->recovered_end;

		if (ftruncate(rp.out, (off_t)sum->recovered_end) < 0) {
			ret = -errno;
			gt_rp_err(&rp, "'%s': cannot truncate: %s", dst, strerror(-ret));
			goto out;
		}
		if (!res->dropped_bytes)
			res->dropped_at = sum->recovered_end; /* an offset of the copy */
		res->dropped_bytes += cut;
		res->dropped_regions++;
		rp.out_off = sum->recovered_end;
	}
	res->nchunks = sum->nchunks;
	res->nevents = sum->nevents;
	ret = gt_rp_finish(&rp, r, rp.out_off, clock, res);
	if (ret < 0) {
		if (!rp.err || !rp.err[0])
			gt_rp_err(&rp, "'%s': writing the footer to '%s' failed: %s", in, dst,
				  gt_strerror(ret));
		goto out;
	}
	gt_reader_close(r);
	r = NULL;
	/* read the result back as a complete file before it replaces anything */
	ret = gt_reader_open_ex(dst, GT_READER_VERIFY, &r, msg, sizeof(msg));
	if (ret == 0 && !gt_reader_summary(r)->complete)
		ret = -GT_ECORRUPT;
	if (ret < 0) {
		gt_rp_err(&rp, "'%s': the repaired copy does not verify (%s); please report this",
			  in, msg);
		goto out;
	}
	if (!out) {
		if (rename(tmp, real) < 0) {
			ret = -errno;
			gt_rp_err(&rp, "'%s': cannot replace it with '%s': %s", in, tmp,
				  strerror(-ret));
			goto out;
		}
		created = false;
		gt_fd_sync_dir(real);
	}
	created = false;
out:
	gt_reader_close(r);
	if (rp.out >= 0)
		close(rp.out);
	if (rp.in >= 0)
		close(rp.in);
	if (created)
		(void)unlink(dst);
	free(tmp);
	free(real);
	free(rp.buf);
	return ret;
}
