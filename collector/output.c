/* SPDX-License-Identifier: MIT */
/*
 * output.c - capturing the command's stdout and stderr.
 *
 * The command writes into pipes the collector reads.  Every byte read is
 * passed through unchanged to gtrace's own stdout/stderr at once (no line
 * buffering, so interleaving and prompts look as they would untraced), and
 * each complete line, without its newline, becomes a gtrace.output/line
 * event.  A line longer than GT_OUTPUT_LINE_MAX is split; a last line
 * without a newline is recorded at EOF.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "gt_col_int.h"

struct gt_output {
	int kind; /* GT_EP_OUTPUT; must stay first */
	int fd;
	int stream;
	int out_fd;
	uint32_t pid;
	bool out_broken; /* passthrough target failed: keep recording anyway */
	size_t n;
	char *line; /* GT_OUTPUT_LINE_MAX bytes */
};

int gt_output_new(struct gt_collector *c, int fd, int stream, int out_fd, uint32_t pid,
		  struct gt_output **out)
{
	struct gt_output *o = calloc(1, sizeof(*o));

	(void)c;
	if (!o) {
		close(fd);
		return -ENOMEM;
	}
	o->line = malloc(GT_OUTPUT_LINE_MAX);
	if (!o->line) {
		free(o);
		close(fd);
		return -ENOMEM;
	}
	o->kind = GT_EP_OUTPUT;
	o->fd = fd;
	o->stream = stream;
	o->out_fd = out_fd;
	o->pid = pid;
	*out = o;
	return 0;
}

int gt_output_fd(const struct gt_output *o)
{
	return o->fd;
}

/* Write all of @buf to @fd, waiting if it is non-blocking and full. */
static int gt_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			poll(&pfd, 1, 1000);
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void gt_output_lines(struct gt_collector *c, struct gt_output *o, const char *p, size_t len)
{
	while (len) {
		const char *nl = memchr(p, '\n', len);
		size_t take = nl ? (size_t)(nl - p) : len;
		size_t room = GT_OUTPUT_LINE_MAX - o->n;

		if (take >= room) {
			/* split an over-long line at the limit */
			memcpy(o->line + o->n, p, room);
			gt_collector_line(c, o->pid, o->stream, o->line, GT_OUTPUT_LINE_MAX);
			o->n = 0;
			p += room;
			len -= room;
			continue;
		}
		memcpy(o->line + o->n, p, take);
		o->n += take;
		if (!nl)
			return;
		gt_collector_line(c, o->pid, o->stream, o->line, o->n);
		o->n = 0;
		p += take + 1;
		len -= take + 1;
	}
}

/* Return 1 at EOF (the caller frees @o), 0 otherwise. */
int gt_output_read(struct gt_collector *c, struct gt_output *o)
{
	char buf[65536];

	for (int round = 0; round < 16; round++) {
		ssize_t n = read(o->fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return 1;
		}
		if (n == 0)
			return 1;
		if (!o->out_broken) {
			int ret = gt_write_all(o->out_fd, buf, (size_t)n);

			if (ret == -EPIPE) {
				/*
				 * Nobody reads our side any more (`gtrace run -- yes | head`):
				 * record this piece, then close the pipe so the command gets
				 * SIGPIPE as it would untraced.
				 */
				gt_output_lines(c, o, buf, (size_t)n);
				return 1;
			}
			if (ret < 0)
				o->out_broken = true; /* keep recording */
		}
		c->st.partial[o->stream - 1] = buf[n - 1] != '\n';
		gt_output_lines(c, o, buf, (size_t)n);
	}
	return 0;
}

void gt_output_free(struct gt_collector *c, struct gt_output *o, bool flush)
{
	if (!o)
		return;
	if (flush) {
		/* whatever is still in the pipe (bounded: a daemon may keep writing), then
		 * the partial last line */
		for (int i = 0; i < 64 && gt_output_read(c, o) == 0; i++) {
			struct pollfd pfd = { .fd = o->fd, .events = POLLIN };

			if (poll(&pfd, 1, 0) <= 0)
				break;
		}
		if (o->n)
			gt_collector_line(c, o->pid, o->stream, o->line, o->n);
	}
	if (c->epfd >= 0)
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, o->fd, NULL);
	close(o->fd);
	free(o->line);
	free(o);
}

int gt_collector_add_output(struct gt_collector *c, int fd, int stream, int out_fd, uint32_t pid)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct gt_output *o;
	int ret, flags;

	if (stream != 1 && stream != 2) {
		close(fd);
		return -EINVAL;
	}
	if (c->epfd < 0) {
		close(fd);
		return -EBADF;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	ret = gt_output_new(c, fd, stream, out_fd, pid, &o);
	if (ret < 0)
		return ret;
	ev.data.ptr = o;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ret = -errno;
		gt_output_free(c, o, false);
		return ret;
	}
	gt_output_free(c, c->outs[stream - 1], true);
	c->outs[stream - 1] = o;
	return 0;
}

bool gt_collector_outputs_open(const struct gt_collector *c)
{
	return c->outs[0] || c->outs[1];
}
