/* SPDX-License-Identifier: MIT */
/*
 * Halt polling above KVM (--halt-poll, docs/wakeups.md): how long a halting
 * vCPU spins for an interrupt before it sleeps, and what that cost. The
 * window follows KVM's halt_poll_ns: fixed, or adaptive the way
 * grow_halt_poll_ns()/shrink_halt_poll_ns() move it. The poll loop itself is
 * the vCPU's (vcpu.c): this module decides and counts, it polls nothing.
 */
#ifndef VMM_HALT_POLL_H
#define VMM_HALT_POLL_H

#include <stdbool.h>
#include <stdint.h>

enum halt_poll_mode { HALT_POLL_OFF, HALT_POLL_FIXED, HALT_POLL_ADAPTIVE };

/* KVM's x86 defaults: halt_poll_ns, halt_poll_ns_grow_start, _grow, _shrink. */
#define HALT_POLL_MAX_NS	(200 * 1000ull)
#define HALT_POLL_GROW_START_NS (10 * 1000ull)
#define HALT_POLL_GROW		2u
#define HALT_POLL_SHRINK	2u

struct halt_poll_config {
	enum halt_poll_mode mode;
	uint64_t ns; /* fixed: the window; adaptive: its ceiling */
};

/* Per vCPU, owner only; the names are KVM's vCPU stats. */
struct halt_poll {
	struct halt_poll_config cfg;
	uint64_t window_ns; /* the next poll's length */
	uint64_t attempted_poll;
	uint64_t successful_poll;
	uint64_t poll_invalid;	  /* polls that ended for no interrupt (VM end) */
	uint64_t poll_success_ns; /* time spent in polls that found an interrupt */
	uint64_t poll_fail_ns;	  /* ... in polls that did not: the vCPU slept after */
	uint64_t wait_ns;	  /* time asleep after a failed poll, or without one */
	uint64_t yielded;	  /* polls cut short because another vCPU waited for a slot */
	uint64_t grows, shrinks;
};

void halt_poll_init(struct halt_poll *hp, const struct halt_poll_config *cfg);
/* How long to poll at this halt (0: sleep at once). */
uint64_t halt_poll_window(const struct halt_poll *hp);
/*
 * The halt is over: if it polled, for poll_ns (success: the poll found the
 * interrupt); it lasted halt_ns in all, and valid says an interrupt ended it.
 */
void halt_poll_end(struct halt_poll *hp, bool polled, uint64_t poll_ns, bool success,
		   uint64_t halt_ns, bool valid);
/* "adaptive", "off", or the fixed window ("100us"): for the report. */
const char *halt_poll_name(const struct halt_poll_config *cfg, char *buf, unsigned int len);

#endif
