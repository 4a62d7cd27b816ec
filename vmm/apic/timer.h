/* SPDX-License-Identifier: MIT */
/*
 * Host-side timer of one vCPU thread: a POSIX timer that sends the vCPU's
 * kick signal to that thread (SIGEV_THREAD_ID), so an expiry inside KVM_RUN
 * returns -EINTR like any kick. It serves the LAPIC timer of a running vCPU
 * and the short self-timer that bounds the wait for an interrupt window. A
 * halted vCPU does not need it: it sleeps on its futex until the deadline.
 * Guest TSC == host TSC here (docs/host-facts.md), so deadlines convert with the
 * TSC frequency alone.
 */
#ifndef VMM_TIMER_H
#define VMM_TIMER_H

#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

struct vcpu_timer {
	timer_t id;
	bool created;
	_Atomic uint64_t armed_ns; /* CLOCK_MONOTONIC expiry programmed, 0 = disarmed; the owner
				      writes it, a timeout's state dump reads it */
	uint32_t tsc_khz;
};

/* Create the timer for the calling thread (a vCPU thread). 0 or -1 (errno). */
int timer_setup(struct vcpu_timer *t, int signo, uint32_t tsc_khz);
void timer_teardown(struct vcpu_timer *t);
/* Program an absolute CLOCK_MONOTONIC expiry (0 = none); a no-op while the same one is ahead. */
int timer_program(struct vcpu_timer *t, uint64_t expiry_ns);

uint64_t timer_rdtsc(void);
/* CLOCK_MONOTONIC time at which the guest TSC reaches tsc, rounded up; now_tsc read first. */
uint64_t timer_tsc_to_ns(const struct vcpu_timer *t, uint64_t tsc, uint64_t now_ns,
			 uint64_t now_tsc);

#endif
