/* SPDX-License-Identifier: MIT */
/*
 * sessdir.c - the state directories of long-lived sessions, seen by clients.
 *
 * Every session lives in ROOT/<name>/ (gt_daemon.h lists its files).  A
 * session is alive exactly while its collector holds the flock on `lock`:
 * the kernel drops the lock when the collector dies, however it dies, so a
 * free lock reliably means "dead" and no pid can be mistaken for a reused
 * one.  Clients talk to a live collector over `control.sock` with one JSON
 * request and one JSON reply per connection (SOCK_SEQPACKET keeps the
 * message boundaries).  The directories are private (0700, our uid, checked
 * with lstat so a planted symlink is refused); names are restricted to
 * [A-Za-z0-9._-] so a name can never leave ROOT.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gt_daemon.h"

bool gt_sess_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > GT_SESS_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* mkdir @path 0700 if missing, then insist it is our private directory. */
static int gt_private_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

/* Where the sessions directory of this user is (not checked). */
static int gt_sess_root_path(char *base, size_t bcap, char *out, size_t cap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	/* same choice as the session socket of `gtrace run` (session.c) */
	if (xdg && xdg[0] == '/' && strlen(xdg) < 64)
		n = snprintf(base, bcap, "%s/gtrace", xdg);
	else
		n = snprintf(base, bcap, "/tmp/gtrace-%u", (unsigned int)geteuid());
	if (n < 0 || (size_t)n >= bcap)
		return -ENAMETOOLONG;
	n = snprintf(out, cap, "%s/sessions", base);
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return 0;
}

int gt_sess_root(char *out, size_t cap)
{
	char base[PATH_MAX];
	int ret;

	ret = gt_sess_root_path(base, sizeof(base), out, cap);
	if (ret < 0)
		return ret;
	ret = gt_private_dir(base);
	if (ret < 0)
		return ret;
	return gt_private_dir(out);
}

int gt_sess_path(const char *name, const char *file, char *out, size_t cap)
{
	char root[PATH_MAX];
	int n, ret;

	if (!gt_sess_name_ok(name))
		return -EINVAL;
	ret = gt_sess_root(root, sizeof(root));
	if (ret < 0)
		return ret;
	if (file)
		n = snprintf(out, cap, "%s/%s/%s", root, name, file);
	else
		n = snprintf(out, cap, "%s/%s", root, name);
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return 0;
}

enum gt_sess_state gt_sess_probe(const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	if (gt_sess_path(name, NULL, path, sizeof(path)) < 0 || lstat(path, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		return GT_SESS_NONE;
	if (gt_sess_path(name, "lock", path, sizeof(path)) < 0)
		return GT_SESS_NONE;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return GT_SESS_DEAD; /* a directory without a lock: half set up or half removed */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		close(fd);
		return errno == EWOULDBLOCK ? GT_SESS_ALIVE : GT_SESS_DEAD;
	}
	close(fd); /* releases our probe lock */
	return GT_SESS_DEAD;
}

static int gt_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void gt_sess_list_strerror(int ret, char *err, size_t errcap)
{
	char base[PATH_MAX], root[PATH_MAX];

	if (gt_sess_root_path(base, sizeof(base), root, sizeof(root)) < 0)
		snprintf(root, sizeof(root), "$XDG_RUNTIME_DIR/gtrace/sessions");
	if (ret == -EACCES || ret == -EPERM)
		snprintf(err, errcap,
			 "cannot use the sessions directory '%s': %s (it must be a directory of "
			 "uid %u, mode 0700); sessions belong to the user who started them: run "
			 "gtrace as that user, or set XDG_RUNTIME_DIR to your own runtime directory",
			 root, ret == -EPERM ? "not a private directory" : strerror(-ret),
			 (unsigned)geteuid());
	else
		snprintf(err, errcap, "cannot list the sessions in '%s': %s", root,
			 strerror(-ret));
}

int gt_sess_list(char ***out)
{
	char root[PATH_MAX], **v = NULL;
	struct dirent *de;
	int n = 0, cap = 0, ret;
	DIR *d;

	*out = NULL;
	ret = gt_sess_root(root, sizeof(root));
	if (ret < 0)
		return ret;
	d = opendir(root);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!gt_sess_name_ok(de->d_name))
			continue;
		if (n == cap) {
			int ncap = cap ? cap * 2 : 8;
			char **nv = realloc(v, (size_t)ncap * sizeof(*nv));

			if (!nv) {
				ret = -ENOMEM;
				goto fail;
			}
			v = nv;
			cap = ncap;
		}
		v[n] = strdup(de->d_name);
		if (!v[n]) {
			ret = -ENOMEM;
			goto fail;
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, (size_t)n, sizeof(*v), gt_name_cmp);
	*out = v;
	return n;
fail:
	closedir(d);
	gt_sess_list_free(v, n);
	return ret;
}

void gt_sess_list_free(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The session GTRACE_SESSION points into: ROOT/<name>/s<pid>.<n>. */
static bool gt_sess_from_env(char *name, size_t cap)
{
	const char *env = getenv("GTRACE_SESSION");
	char root[PATH_MAX];
	size_t rl;
	const char *p, *slash;

	if (!env || gt_sess_root(root, sizeof(root)) < 0)
		return false;
	rl = strlen(root);
	if (strncmp(env, root, rl) || env[rl] != '/')
		return false;
	p = env + rl + 1;
	slash = strchr(p, '/');
	if (!slash || (size_t)(slash - p) >= cap || strchr(slash + 1, '/'))
		return false;
	memcpy(name, p, (size_t)(slash - p));
	name[slash - p] = '\0';
	return gt_sess_name_ok(name);
}

int gt_sess_resolve(const char *opt, char *name, size_t cap, char *err, size_t errcap)
{
	char **names;
	int n, alive = 0, pick = -1;
	size_t used;

	if (opt) {
		if (!gt_sess_name_ok(opt) || strlen(opt) >= cap) {
			snprintf(err, errcap, "invalid session name '%s' (use [A-Za-z0-9._-])",
				 opt);
			return -EINVAL;
		}
		if (gt_sess_probe(opt) == GT_SESS_NONE) {
			snprintf(err, errcap, "no session named '%s'; see 'gtrace status'", opt);
			return -ENOENT;
		}
		snprintf(name, cap, "%s", opt);
		return 0;
	}
	if (gt_sess_from_env(name, cap)) {
		if (gt_sess_probe(name) == GT_SESS_NONE) {
			snprintf(err, errcap,
				 "session '%s' named by $GTRACE_SESSION does not exist any more; "
				 "unset GTRACE_SESSION or use --session NAME",
				 name);
			return -ENOENT;
		}
		return 0;
	}
	n = gt_sess_list(&names);
	if (n < 0) {
		gt_sess_list_strerror(n, err, errcap);
		return n;
	}
	for (int i = 0; i < n; i++) {
		if (gt_sess_probe(names[i]) == GT_SESS_ALIVE) {
			alive++;
			pick = i;
		}
	}
	if (alive == 1) {
		snprintf(name, cap, "%s", names[pick]);
		gt_sess_list_free(names, n);
		return 0;
	}
	if (alive == 0) {
		snprintf(err, errcap, "no active session; start one with 'gtrace start --op NAME'");
		gt_sess_list_free(names, n);
		return -ENOENT;
	}
	used = (size_t)snprintf(err, errcap, "%d sessions are active, choose one with --session:",
				alive);
	for (int i = 0; i < n && used < errcap; i++)
		if (gt_sess_probe(names[i]) == GT_SESS_ALIVE)
			used += (size_t)snprintf(err + used, errcap - used, " %s", names[i]);
	gt_sess_list_free(names, n);
	return -EEXIST;
}

static int gt_wait(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ret;

	do
		ret = poll(&p, 1, timeout_ms);
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	return ret == 0 ? -ETIMEDOUT : 0;
}

int gt_sess_request(const char *name, json_t *req, int timeout_ms, json_t **reply, char *err,
		    size_t errcap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[PATH_MAX], *text = NULL, *buf = NULL;
	json_error_t je;
	ssize_t n;
	int fd = -1, ret;

	*reply = NULL;
	ret = gt_sess_path(name, "control.sock", path, sizeof(path));
	if (ret < 0 || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errcap, "no control socket path for session '%s'", name);
		return ret < 0 ? ret : -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	text = json_dumps(req, JSON_COMPACT);
	buf = malloc(GT_SESS_MSG_MAX + 1);
	if (!text || !buf) {
		ret = -ENOMEM;
		snprintf(err, errcap, "out of memory");
		goto out;
	}
	if (strlen(text) > GT_SESS_MSG_MAX) {
		ret = -EMSGSIZE;
		snprintf(err, errcap, "request too large (at most %u bytes)", GT_SESS_MSG_MAX);
		goto out;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		snprintf(err, errcap, "cannot reach the collector of session '%s' at '%s': %s",
			 name, path, strerror(errno));
		goto out;
	}
	if (send(fd, text, strlen(text), MSG_NOSIGNAL) < 0) {
		ret = -errno;
		snprintf(err, errcap, "cannot send to session '%s': %s", name, strerror(errno));
		goto out;
	}
	ret = gt_wait(fd, POLLIN, timeout_ms);
	if (ret < 0) {
		snprintf(err, errcap, "session '%s' did not answer: %s", name, strerror(-ret));
		goto out;
	}
	n = recv(fd, buf, GT_SESS_MSG_MAX, MSG_TRUNC);
	if (n <= 0 || n > (ssize_t)GT_SESS_MSG_MAX) {
		ret = n < 0 ? -errno : -EPROTO;
		snprintf(err, errcap, "session '%s' closed the connection without an answer%s",
			 name, n == 0 ? " (did its collector die?)" : "");
		goto out;
	}
	*reply = json_loadb(buf, (size_t)n, 0, &je);
	if (!*reply || !json_is_object(*reply)) {
		json_decref(*reply);
		*reply = NULL;
		ret = -EPROTO;
		snprintf(err, errcap, "session '%s' sent a malformed answer: %s", name, je.text);
		goto out;
	}
	if (!json_is_true(json_object_get(*reply, "ok"))) {
		snprintf(err, errcap, "session '%s': %s", name,
			 json_string_value(json_object_get(*reply, "error")) ?: "failed");
		json_decref(*reply);
		*reply = NULL;
		ret = -EREMOTEIO;
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	free(buf);
	return ret;
}

json_t *gt_sess_status_file(const char *name)
{
	char path[PATH_MAX];
	json_error_t je;
	json_t *j;

	if (gt_sess_path(name, "status.json", path, sizeof(path)) < 0)
		return NULL;
	/* our own file, but a truncated or foreign one must not hurt: bounded, checked */
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

int gt_sess_remove(const char *name)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;
	int lfd, ret = 0;

	if (gt_sess_path(name, NULL, dir, sizeof(dir)) < 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/lock", dir);
	/* hold the lock while removing, so a collector cannot come alive meanwhile */
	lfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		close(lfd);
		return -EBUSY;
	}
	d = opendir(dir);
	if (!d) {
		ret = -errno;
		goto out;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0 && errno != ENOENT)
			ret = -errno;
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		ret = -errno;
out:
	if (lfd >= 0)
		close(lfd);
	return ret;
}
