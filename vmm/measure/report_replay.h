/* SPDX-License-Identifier: MIT */
/*
 * vmm report FILE.json: print a saved run's summary and its exit and event
 * tables again, with other --sort, --report, --hist, --vm and --vcpu, as
 * `perf kvm stat report` does after `record`. The tables come out as the
 * run printed them: the JSON keeps every histogram whole.
 */
#ifndef VMM_REPORT_REPLAY_H
#define VMM_REPORT_REPLAY_H

#include <stddef.h>
#include <stdio.h>

struct options;

/* 0, or -1 with a one-line reason naming the file and the field in err. */
int report_replay(struct options *o, FILE *out, char *err, size_t errlen);

#endif
