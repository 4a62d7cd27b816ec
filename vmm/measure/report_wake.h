/* SPDX-License-Identifier: MIT */
/* The wakeup paths' part of the run report: wake helpers and halt polling (docs/wakeups.md). */
#ifndef VMM_REPORT_WAKE_H
#define VMM_REPORT_WAKE_H

#include <stdio.h>

struct jw;
struct vm;

/* Shown only when some VM uses --wake deferred, --kick-redirect on or --halt-poll. */
void report_wake_text(FILE *out, struct vm *vms, unsigned int n);
/* A VM's "wakeups" object (docs/json-report.md). */
void report_wake_json_vm(struct jw *j, struct vm *vm);

#endif
