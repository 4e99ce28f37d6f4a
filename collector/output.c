/* SPDX-License-Identifier: MIT */
/*
 * output.c - capturing the command's stdout and stderr.
 *
 * The command writes into pipes.  Every byte is passed through unchanged to
 * gtrace's own stdout/stderr at once (no line buffering, so interleaving and
 * prompts look as they would untraced), and each complete line, without its
 * newline, becomes a gtrace.output/line event.  A line longer than
 * GT_OUTPUT_LINE_MAX is split; a last line without a newline is recorded at
 * EOF.
 *
 * `gtrace run` puts a small relay process between the command's pipes and
 * the collector (gt_output_relay_spawn(), docs/reliability.md): the relay
 * holds the read ends, writes each piece to the real stdout/stderr first and
 * then copies it to the collector through a second pair of pipes.  If the
 * collector dies (gtrace SIGKILLed, OOM-killed), the relay notices (EOF on a
 * control pipe, EPIPE on the copy) and goes on passing the output through,
 * so the command never meets a reader-less pipe: no SIGPIPE, no blocking, no
 * changed exit status.  When gtrace ends normally it tells the relay to quit
 * with one byte on the control pipe.  The relay is a fork of gtrace taken
 * at the very start of `gtrace run`, while it is still one small thread
 * (about 0.1 ms; an exec of gtrace cost 5 ms, docs/perf.md): it keeps the
 * fds it needs at fixed numbers, closes every other one, and runs
 * gt_output_relay_main() until it _exits.
 */
#define _GNU_SOURCE /* pipe2, close_range */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
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
	o->out_broken = out_fd < 0; /* record only: the relay passes the bytes through */
	o->pid = pid;
	*out = o;
	return 0;
}

int gt_output_fd(const struct gt_output *o)
{
	return o->fd;
}

/*
 * Write all of @buf to @fd, waiting if it is non-blocking and full.
 * Return: 0 or -errno (-EPIPE: the reader is gone).
 */
static int gt_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, 1000);
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
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

/* ---- the output relay (a forked child of `gtrace run`, fds 3..7) ---- */

enum { GT_RELAY_IN_OUT = 3, GT_RELAY_IN_ERR, GT_RELAY_COL_OUT, GT_RELAY_COL_ERR, GT_RELAY_CTL };

static int gt_output_relay_main(void)
{
	static const int sigs[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	int in[2] = { GT_RELAY_IN_OUT, GT_RELAY_IN_ERR };
	int col[2] = { GT_RELAY_COL_OUT, GT_RELAY_COL_ERR };
	int out[2] = { STDOUT_FILENO, STDERR_FILENO };
	int ctl = GT_RELAY_CTL;
	bool out_broken[2] = { false, false };
	char buf[65536];
	sigset_t none;

	/*
	 * Signals meant for the command go to its process group, not to us; the
	 * relay lives exactly as long as someone holds the command's pipes (or
	 * until gtrace says quit), so a Ctrl-C reaches the command and its last
	 * words still get through.
	 */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	while (in[0] >= 0 || in[1] >= 0) {
		struct pollfd pfd[3];
		int n = 0, k;

		for (int s = 0; s < 2; s++)
			pfd[n++] = (struct pollfd){ .fd = in[s], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = ctl, .events = POLLIN };
		k = poll(pfd, (nfds_t)n, -1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		if (ctl >= 0 && pfd[2].revents) {
			char c = 0;
			ssize_t r = read(ctl, &c, 1);

			if (r == 1 && c == 'q')
				break; /* gtrace is done with the output: close, as it did before */
			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
				/* gtrace died: keep passing the output through, stop copying */
				close(ctl);
				ctl = -1;
				for (int s = 0; s < 2; s++) {
					if (col[s] >= 0)
						close(col[s]);
					col[s] = -1;
				}
			}
		}
		for (int s = 0; s < 2; s++) {
			ssize_t r;
			int ret;

			if (in[s] < 0 || !pfd[s].revents)
				continue;
			r = read(in[s], buf, sizeof(buf));
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (r <= 0)
				goto eof;
			ret = out_broken[s] ? 0 : gt_write_all(out[s], buf, (size_t)r);
			if (ret < 0 && ret != -EPIPE)
				out_broken[s] = true; /* keep recording */
			if (col[s] >= 0 && gt_write_all(col[s], buf, (size_t)r) < 0) {
				/* the collector is gone: from now on only pass through */
				for (int t = 0; t < 2; t++) {
					if (col[t] >= 0)
						close(col[t]);
					col[t] = -1;
				}
			}
			if (ret != -EPIPE)
				continue;
			/*
			 * Nobody reads our side (`gtrace run -- yes | head`): close the
			 * pipe so that the command gets SIGPIPE as it would untraced.
			 */
eof:
			close(in[s]);
			in[s] = -1;
			if (col[s] >= 0)
				close(col[s]);
			col[s] = -1;
		}
	}
	return 0;
}

int gt_output_relay_fork(int in_out, int in_err, int *col_out, int *col_err, int *ctl, pid_t *pid)
{
	int src[5], pc_out[2] = { -1, -1 }, pc_err[2] = { -1, -1 }, pctl[2] = { -1, -1 };
	int hi[5] = { -1, -1, -1, -1, -1 };
	int ret = 0;

	if (pipe2(pc_out, O_CLOEXEC) < 0 || pipe2(pc_err, O_CLOEXEC) < 0 ||
	    pipe2(pctl, O_CLOEXEC) < 0) {
		ret = -errno;
		goto out;
	}
	src[0] = in_out;
	src[1] = in_err;
	src[2] = pc_out[1];
	src[3] = pc_err[1];
	src[4] = pctl[0];
	/* above the targets 3..7, so that no dup2 overwrites a later source */
	for (int i = 0; i < 5; i++) {
		hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 16);
		if (hi[i] < 0) {
			ret = -errno;
			goto out;
		}
	}
	*pid = fork();
	if (*pid < 0) {
		ret = -errno;
		goto out;
	}
	if (*pid == 0) {
		int nul;

		(void)prctl(PR_SET_NAME, GT_OUTPUT_RELAY_NAME);
		for (int i = 0; i < 5; i++)
			if (dup2(hi[i], GT_RELAY_IN_OUT + i) < 0)
				_exit(125);
		/* the relay never reads stdin; it must not keep gtrace's open either */
		close_range(GT_RELAY_CTL + 1, ~0U, 0);
		nul = open("/dev/null", O_RDONLY);
		if (nul > STDIN_FILENO) {
			dup2(nul, STDIN_FILENO);
			close(nul);
		}
		_exit(gt_output_relay_main());
	}
out:
	for (int i = 0; i < 5; i++)
		if (hi[i] >= 0)
			close(hi[i]);
	if (pc_out[1] >= 0)
		close(pc_out[1]);
	if (pc_err[1] >= 0)
		close(pc_err[1]);
	if (pctl[0] >= 0)
		close(pctl[0]);
	if (ret < 0) {
		if (pc_out[0] >= 0)
			close(pc_out[0]);
		if (pc_err[0] >= 0)
			close(pc_err[0]);
		if (pctl[1] >= 0)
			close(pctl[1]);
		return ret;
	}
	*col_out = pc_out[0];
	*col_err = pc_err[0];
	*ctl = pctl[1];
	return 0;
}
