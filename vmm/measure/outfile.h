/* SPDX-License-Identifier: MIT */
/*
 * Output files (--json, --trace): a regular file is replaced atomically, so
 * a reader never sees half of one and a killed run leaves the old file and no
 * temporary behind; a symlink is followed to its target; a device, FIFO or
 * socket is written in place; "-" is the process's stdout.
 */
#ifndef VMM_OUTFILE_H
#define VMM_OUTFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum outfile_kind {
	OUTFILE_REPLACE, /* a regular file, or a name to create: temp + rename */
	OUTFILE_DIRECT,	 /* a device, FIFO or socket: written where it is */
	OUTFILE_STDOUT,	 /* "-" */
};

struct outfile {
	FILE *f; /* buffered over fd; a failed write keeps its errno in werr */
	int fd;
	int werr;
	enum outfile_kind kind;
	bool tmpfile;		 /* REPLACE: unnamed O_TMPFILE, linked at commit */
	char target[PATH_MAX];	 /* REPLACE: the path renamed over (symlinks followed) */
	char tmp[PATH_MAX + 32]; /* REPLACE: a named temporary, when there is one */
};

/*
 * Before any VM runs: can path be written at the end? Refuses a directory, a
 * missing or unwritable directory, a symlink loop. Fills err with a one-line
 * reason (no prefix) and returns -1. For "-", stdout is set aside for the
 * file, and everything else the process prints to stdout goes to stderr.
 */
int outfile_check(const char *path, char *err, size_t errlen);

/* Start writing; returns 0, or -1 with the reason in err. */
int outfile_open(struct outfile *o, const char *path, char *err, size_t errlen);

/*
 * Finish: flush, and for a regular file move it into place. `failed` says the
 * content is incomplete (the writer saw an error): the target is then left as
 * it was. Returns 0, or -1 with the reason (strerror) in err.
 */
int outfile_commit(struct outfile *o, bool failed, char *err, size_t errlen);

#endif
