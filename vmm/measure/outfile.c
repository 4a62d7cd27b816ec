// SPDX-License-Identifier: MIT
/*
 * Output files. A regular file is written as an unnamed O_TMPFILE in its
 * directory and only gets a name (a unique one, then rename over the target)
 * once complete: SIGKILL mid-write leaves nothing behind. Where O_TMPFILE is
 * not supported, a unique mkstemp() name is used instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "measure/outfile.h"

/* The real stdout, kept for "-" after fd 1 was pointed at stderr. */
static int saved_stdout = -1;
static unsigned int tmp_counter;

/* "<prefix><what>: <strerror(e)>" into err; returns -1. */
static int fail(char *err, size_t errlen, const char *prefix, const char *what, int e)
{
	snprintf(err, errlen, "%s%s: %s", prefix, what, strerror(e));
	return -1;
}

/* Follow symlinks by hand: a dangling link names the file to create. */
static int resolve(const char *path, char *out, struct stat *st, bool *exists, char *err,
		   size_t errlen)
{
	char link[PATH_MAX], next[PATH_MAX * 2];
	int hops;

	if (strlen(path) >= PATH_MAX)
		return fail(err, errlen, "", "path", ENAMETOOLONG);
	strcpy(out, path);
	for (hops = 0; hops < 40; hops++) {
		ssize_t n;
		char *slash;

		if (lstat(out, st) < 0) {
			if (errno != ENOENT)
				return fail(err, errlen, "", out, errno);
			*exists = false;
			return 0;
		}
		if (!S_ISLNK(st->st_mode)) {
			*exists = true;
			return 0;
		}
		n = readlink(out, link, sizeof(link) - 1);
		if (n < 0)
			return fail(err, errlen, "", out, errno);
		link[n] = '\0';
		slash = strrchr(out, '/');
		if (link[0] == '/' || !slash)
			snprintf(next, sizeof(next), "%s", link);
		else
			snprintf(next, sizeof(next), "%.*s/%s", (int)(slash - out), out, link);
		if (strlen(next) >= PATH_MAX)
			return fail(err, errlen, "", out, ENAMETOOLONG);
		strcpy(out, next);
	}
	return fail(err, errlen, "", path, ELOOP);
}

static void dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static mode_t new_file_mode(void)
{
	mode_t mask = umask(0);

	umask(mask);
	return 0666 & ~mask;
}

/* A writable fd in target's directory, unnamed if the filesystem allows. */
static int open_temp(struct outfile *o, mode_t mode, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	int fd;

	dir_of(o->target, dir, sizeof(dir));
	o->tmp[0] = '\0';
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
	if (fd >= 0) {
		o->tmpfile = true;
		return fd;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return fail(err, errlen, "cannot create a file in ", dir, errno);
	o->tmpfile = false;
	if (snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.XXXXXX", dir, base_of(o->target)) >=
	    (int)sizeof(o->tmp))
		return fail(err, errlen, "", o->target, ENAMETOOLONG);
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, "cannot create a file in ", dir, errno);
	if (fchmod(fd, mode) < 0) {
		int e = errno;

		close(fd);
		unlink(o->tmp);
		return fail(err, errlen, "", o->tmp, e);
	}
	return fd;
}

static int claim_stdout(char *err, size_t errlen)
{
	if (saved_stdout >= 0)
		return 0;
	saved_stdout = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved_stdout < 0)
		return fail(err, errlen, "", "stdout", errno);
	fflush(stdout);
	if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		return fail(err, errlen, "", "stdout", errno);
	return 0;
}

int outfile_check(const char *path, char *err, size_t errlen)
{
	struct outfile o;
	struct stat st;
	bool exists;
	int fd;

	if (!strcmp(path, "-"))
		return claim_stdout(err, errlen);
	if (resolve(path, o.target, &st, &exists, err, errlen) < 0)
		return -1;
	if (exists && S_ISDIR(st.st_mode))
		return fail(err, errlen, "", o.target, EISDIR);
	/* Not opened: opening a FIFO here would wait for its reader. */
	if (exists && !S_ISREG(st.st_mode))
		return access(o.target, W_OK) < 0 ? fail(err, errlen, "", o.target, errno) : 0;
	fd = open_temp(&o, 0600, err, errlen);
	if (fd < 0)
		return -1;
	close(fd);
	if (o.tmp[0])
		unlink(o.tmp);
	return 0;
}

/* The FILE's writer: keeps the first error's errno, which stdio would lose. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
	struct outfile *o = cookie;
	size_t done = 0;

	while (done < size) {
		ssize_t n = write(o->fd, buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!o->werr)
				o->werr = n < 0 ? errno : EIO;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)size;
}

int outfile_open(struct outfile *o, const char *path, char *err, size_t errlen)
{
	struct stat st;
	bool exists;
	int fd;

	memset(o, 0, sizeof(*o));
	if (!strcmp(path, "-")) {
		o->kind = OUTFILE_STDOUT;
		fd = saved_stdout >= 0 ? fcntl(saved_stdout, F_DUPFD_CLOEXEC, 3)
				       : fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return fail(err, errlen, "", "stdout", errno);
	} else {
		if (resolve(path, o->target, &st, &exists, err, errlen) < 0)
			return -1;
		if (exists && S_ISDIR(st.st_mode))
			return fail(err, errlen, "", o->target, EISDIR);
		if (exists && !S_ISREG(st.st_mode)) {
			o->kind = OUTFILE_DIRECT;
			fd = open(o->target, O_WRONLY | O_NOCTTY | O_CLOEXEC);
			if (fd < 0)
				return fail(err, errlen, "", o->target, errno);
		} else {
			o->kind = OUTFILE_REPLACE;
			fd = open_temp(o, exists ? st.st_mode & 07777 : new_file_mode(), err,
				       errlen);
			if (fd < 0)
				return -1;
		}
	}
	o->fd = fd;
	o->f = fopencookie(o, "w", (cookie_io_functions_t){ .write = cookie_write });
	if (!o->f) {
		int e = errno;

		close(fd);
		if (o->tmp[0])
			unlink(o->tmp);
		return fail(err, errlen, "", path, e);
	}
	return 0;
}

/* Give the unnamed file a unique name beside its target. */
static int link_temp(struct outfile *o)
{
	char proc[64], dir[PATH_MAX];
	int tries;

	dir_of(o->target, dir, sizeof(dir));
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	for (tries = 0; tries < 100; tries++) {
		if (snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.%d.%u", dir, base_of(o->target),
			     (int)getpid(), tmp_counter++) >= (int)sizeof(o->tmp)) {
			errno = ENAMETOOLONG;
			break;
		}
		if (!linkat(AT_FDCWD, proc, AT_FDCWD, o->tmp, AT_SYMLINK_FOLLOW))
			return 0;
		/* Without /proc, AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH. */
		if (errno == ENOENT && !linkat(o->fd, "", AT_FDCWD, o->tmp, AT_EMPTY_PATH))
			return 0;
		if (errno != EEXIST)
			break;
	}
	o->tmp[0] = '\0';
	return -1;
}

int outfile_commit(struct outfile *o, bool failed, char *err, size_t errlen)
{
	const char *what = o->kind == OUTFILE_REPLACE ? o->target : "stdout";
	int e = 0;

	if (o->kind == OUTFILE_DIRECT)
		what = o->target;
	if (fflush(o->f) == EOF || ferror(o->f))
		e = o->werr ? o->werr : EIO;
	fclose(o->f); /* the cookie has no close: fd is ours */
	o->f = NULL;
	if (!e && !failed && o->kind == OUTFILE_REPLACE && o->tmpfile && link_temp(o) < 0)
		e = errno;
	if (close(o->fd) < 0 && !e && errno != EINTR)
		e = errno;
	if (!e && !failed && o->kind == OUTFILE_REPLACE && rename(o->tmp, o->target) < 0)
		e = errno;
	if ((e || failed) && o->tmp[0])
		unlink(o->tmp);
	if (e)
		return fail(err, errlen, "cannot write ", what, e);
	if (failed) {
		snprintf(err, errlen, "cannot write %s: the document is incomplete", what);
		return -1;
	}
	return 0;
}
