/* SPDX-License-Identifier: MIT */
/*
 * The progress watchdog: a vCPU that should be running and is not (waiting
 * for a slot, halted with an interrupt it could take, halted past its timer,
 * outside KVM_RUN on a slot) for longer than a limit is reported with every
 * vCPU's state of its VM, to stderr and the JSON. It only reports: a slow
 * run may still finish; --timeout stops one.
 */
#ifndef VMM_WATCHDOG_H
#define VMM_WATCHDOG_H

#include <stdint.h>

struct vm;
struct watchdog;

#define WATCHDOG_DEFAULT_NS  10000000000ull
#define WATCHDOG_MAX_RECORDS 8

enum watchdog_cond {
	WD_NONE,
	WD_WAIT_SLOT,	 /* runnable, no slot */
	WD_HALT_WORK,	 /* halted with a deliverable interrupt or NMI */
	WD_HALT_OVERDUE, /* halted, its host timer past due */
	WD_OUTSIDE,	 /* outside KVM_RUN, not halted, not waiting */
	NR_WD_CONDS,
};

/* One report, kept in the VM for the JSON (main thread only). */
struct watchdog_record {
	unsigned int vcpu;
	enum watchdog_cond cond;
	uint64_t at_ns;	   /* since the VM started */
	uint64_t stuck_ns; /* how long the condition had held */
};

struct vm_watchdog {
	unsigned int reports;
	struct watchdog_record rec[WATCHDOG_MAX_RECORDS];
	char *dump; /* every vCPU's state at the first report (malloc'd) */
};

const char *watchdog_cond_name(enum watchdog_cond c);

/* limit_ns 0: off (NULL is returned and every call below accepts it). */
struct watchdog *watchdog_new(struct vm *vms, unsigned int n, uint64_t limit_ns);
/* Look at every running VM; returns the time of the next look (0: never). */
uint64_t watchdog_check(struct watchdog *w, uint64_t now);
void watchdog_free(struct watchdog *w);

#endif
