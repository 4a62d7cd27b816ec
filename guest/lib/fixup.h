/* SPDX-License-Identifier: MIT */
/*
 * MSR accesses that may fault. A per-CPU fixup names the one instruction
 * allowed to #GP and where to resume; idt.c asks fixup_exception() before
 * treating an exception as fatal.
 */
#ifndef GUEST_FIXUP_H
#define GUEST_FIXUP_H

#include "guest.h"

/* False when the access raised #GP (*val is then left unchanged). */
bool rdmsr_safe(uint32_t msr, uint64_t *val);
bool wrmsr_safe(uint32_t msr, uint64_t val);

/* #GPs this vCPU survived through a fixup. */
uint64_t fixup_gp_count(void);

/* idt.c: true if `f` was an armed #GP and now resumes at its fixup address. */
bool fixup_exception(struct irq_frame *f);

#endif
