/* SPDX-License-Identifier: MIT */
/*
 * gt_fmt.c - codec pieces shared by the writer and the reader: the byte
 * buffer's slow path, the header/block checksums of docs/format.md, and the
 * file-descriptor loops (write all, pread all, sync a directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "gt_fmt.h"

int gt_buf_grow(struct gt_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *p;

	if (more > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	while (cap - b->len < more)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

/* Grow array *@p of @elem-byte items to hold at least @need items (doubling). */
int gt_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 4 / elem)
			return -ENOMEM;
		ncap *= 2;
	}
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

void gt_buf_release(struct gt_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Block header_check: low 32 bits of XXH64 of header bytes [0, 28). */
uint64_t gt_blk_check(const uint8_t *hdr)
{
	return (uint32_t)XXH64(hdr, 28, 0);
}

void gt_blk_hdr_fill(uint8_t *hdr, uint32_t type, uint32_t size, uint32_t raw_size,
		     const void *payload)
{
	gt_put32(hdr, GT_BLK_MAGIC);
	gt_put32(hdr + 4, type);
	gt_put32(hdr + 8, size);
	gt_put32(hdr + 12, raw_size);
	gt_put64(hdr + 16, XXH3_64bits(payload, size));
	gt_put32(hdr + 24, 0);
	gt_put32(hdr + 28, (uint32_t)gt_blk_check(hdr));
}

/* File header checksum: XXH64 of bytes [0, 56). */
uint64_t gt_file_hdr_check(const uint8_t *hdr)
{
	return XXH64(hdr, 56, 0);
}

int gt_fd_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t r = write(fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

int gt_fd_pread_all(int fd, void *p, size_t n, uint64_t off)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = pread(fd, b, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		b += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int gt_fd_sync_dir(const char *path)
{
	char *d = strdup(path);
	int fd, ret = 0;

	if (!d)
		return -ENOMEM;
	fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(d);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}
