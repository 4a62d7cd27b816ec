/* SPDX-License-Identifier: MIT */
/*
 * Cross-vCPU function calls, built like Linux's kernel/smp.c: a per-CPU
 * lock-free call queue, a call-single-data slot per (sender, target) with a
 * LOCK flag, and an IPI on CALL_FUNCTION_VECTOR as the doorbell, sent only
 * when the target's queue was empty.
 *
 * Callers must have their APIC enabled (apic_enable) and call_init() done,
 * and must run with interrupts ENABLED: a waiting sender keeps serving the
 * calls others send it, or two senders waiting on each other deadlock.
 * `fn` runs on the target in interrupt context (IF=0) and must not call here.
 */
#ifndef GUEST_CALL_H
#define GUEST_CALL_H

#include "guest.h"

#define CALL_FUNCTION_VECTOR 0xfbu

struct call_stats {
	uint64_t ipis_sent; /* doorbell IPIs this vCPU sent */
	uint64_t irqs;	    /* doorbell handler invocations on this vCPU */
	uint64_t calls;	    /* functions this vCPU ran for others */
} __attribute__((aligned(64)));

/* Install the doorbell handler (vectors are shared: once is enough, more is harmless). */
void call_init(void);

/* Run fn(arg) on every vCPU in `cpumask` but this one; wait: until all have returned. */
void smp_call_function_many(uint64_t cpumask, void (*fn)(void *), void *arg, bool wait);

/* Run fn(arg) on `cpu`; on this vCPU it runs at once with interrupts disabled. */
void smp_call_function_single(unsigned int cpu, void (*fn)(void *), void *arg, bool wait);

/* The counters of vCPU `cpu` (read them once that vCPU is quiet). */
const struct call_stats *call_stats(unsigned int cpu);

#endif
