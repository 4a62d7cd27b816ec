/* SPDX-License-Identifier: MIT */
/* The run report: summary, guest results, perf-kvm-stat-like exit tables, JSON. */
#ifndef VMM_REPORT_H
#define VMM_REPORT_H

#include <stdint.h>
#include <stdio.h>

struct vm;
struct options;
struct exit_stats;

/*
 * Print the report to stdout (and the JSON file if asked) for VMs that have
 * all ended and been joined. Returns the process exit status: 0 if every VM
 * shut down with status 0, else 1; 3 if the JSON file cannot be written.
 */
int report_emit(struct vm *vms, unsigned int n, const struct options *o, uint64_t wall_ns);

/* One `perf kvm stat report`-style table with p50/p99/p99.9 columns. */
void report_exit_table(FILE *out, const char *title, const struct exit_stats *s, int sort,
		       int timed);

/* The exit status of a run whose VMs all succeeded but whose report could not be written. */
#define REPORT_EXIT_OUTPUT 4

#endif
