/* SPDX-License-Identifier: MIT */
/*
 * Every invariant one vmm --json report carries, checked without cmocka so
 * that a caller can collect all the broken ones of a run (a soak wants the
 * whole list, not the first assert) and so that a report edited by hand can
 * be checked the same way. bench/soak has the same checks in Python;
 * docs/soak.md lists them and says which are documented and which are only
 * implied.
 */
#ifndef SOAK_CHECK_H
#define SOAK_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* What the caller knows about the run, to check the report against. */
struct soak_expect {
	int status;	    /* the process's exit status; -1: unknown */
	bool signalled;	    /* SIGINT/SIGTERM was sent: VMs may have ended "interrupted" */
	long nr_vms;	    /* VMs on the command line; -1: unknown */
	const char *mode;   /* "slots" or "host"; NULL: the report's */
	const char *policy; /* slots: the --policy asked; NULL: the report's */
	long pcpus;	    /* slots: the --pcpus asked; -1: the report's */
};

/* The failures found, one line each, naming the VM (or slot), the key and the numbers. */
struct soak_failures {
	char *text; /* NUL-terminated, NULL if there were none */
	size_t len, cap;
	unsigned int n; /* failures found; the text keeps the first SOAK_MAX_LINES */
};

#define SOAK_MAX_LINES 64

/* An expectation that knows nothing: check the report against itself. */
#define SOAK_EXPECT_NOTHING ((struct soak_expect){ .status = -1, .nr_vms = -1, .pcpus = -1 })

/* Check report; returns the number of failures (also in f->n, appended to f). */
unsigned int soak_check(json_t *report, const struct soak_expect *e, struct soak_failures *f);
void soak_failures_free(struct soak_failures *f);

#endif
