/* SPDX-License-Identifier: MIT */
/* The scheduler's part of the run report: slots, the at-most-P check, the yield ledger. */
#ifndef VMM_REPORT_SCHED_H
#define VMM_REPORT_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jw;
struct vm;
struct vmm_result;

void report_sched_text(FILE *out, struct vm *vms, unsigned int n);
/* The top-level "sched" object and a VM's "sched" object (docs/json-report.md). */
void report_sched_json(struct jw *j, struct vm *vms, unsigned int n);
void report_sched_json_vm(struct jw *j, struct vm *vm);
/* Guest throughput: ops per host second from a record's `ops` and `cycles`; false if absent. */
bool report_ops_per_sec(const struct vmm_result *r, uint32_t tsc_khz, double *ops_per_sec);

#endif
