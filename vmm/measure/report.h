/* SPDX-License-Identifier: MIT */
/* The run report: summary, guest results, perf-kvm-stat-like exit tables, JSON. */
#ifndef VMM_REPORT_H
#define VMM_REPORT_H

#include <stdint.h>
#include <stdio.h>

struct vm;
struct options;
struct exit_stats;

struct report;

/* Gather every VM's counters (all VMs ended and joined); NULL if out of memory. */
struct report *report_prepare(struct vm *vms, unsigned int n, const struct options *o,
			      uint64_t wall_ns);
void report_free(struct report *r);

/*
 * Print the text report to stdout and the failed VMs to stderr. Returns 0 if
 * every VM shut down with status 0, 1 if one failed, REPORT_EXIT_OUTPUT if
 * they all succeeded but stdout could not take the report.
 */
int report_text(const struct report *r);

/*
 * Write the JSON report to path with exit code *rc. status(), if given, is
 * asked for the final exit code once the document is rendered (a signal may
 * have come meanwhile); *rc is set to it. Returns 0, or -1 after one line on
 * stderr naming the file and the reason.
 */
int report_json(const struct report *r, const char *path, int *rc, int (*status)(int rc));

/*
 * vmm report FILE.json: the summary and the exit/event tables of VMs rebuilt
 * from a saved JSON, by the same code as the run's report. -1: out of memory.
 */
int report_replay_print(FILE *out, struct vm *vms, unsigned int n, const struct options *o,
			uint64_t wall_ns);

/* One `perf kvm stat report`-style table with p50/p99/p99.9 columns. */
void report_exit_table(FILE *out, const char *title, const struct exit_stats *s, int sort,
		       int timed, int cls);

/* The exit status of a run whose VMs all succeeded but whose report (stdout, --json or --trace)
 * could not be written. */
#define REPORT_EXIT_OUTPUT 4

#endif
