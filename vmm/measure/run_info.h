/* SPDX-License-Identifier: MIT */
/* The run record of the JSON: what ran, where, when (docs/json-report.md). */
#ifndef VMM_RUN_INFO_H
#define VMM_RUN_INFO_H

#include <stdint.h>

struct jw;

/* "run": vmm version and commit, argv, kernel, CPU model and count, host, start time. */
void run_info_json(struct jw *j, int argc, char *const *argv, uint64_t wall_ns);

#endif
