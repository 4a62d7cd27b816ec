/* SPDX-License-Identifier: MIT */
/* Per-CPU exception fixups for rdmsr_safe() / wrmsr_safe(). */
#include "fixup.h"

#define X86_TRAP_GP 13

struct fixup {
	uint64_t rip; /* the instruction allowed to fault, 0 = none armed */
	uint64_t resume;
	uint64_t taken;
} __attribute__((aligned(64)));

static struct fixup fixups[VMM_MAX_VCPUS];

bool fixup_exception(struct irq_frame *f)
{
	struct fixup *fx = &fixups[this_cpu_id()];

	if (f->vector != X86_TRAP_GP || !fx->rip || fx->rip != f->rip)
		return false;
	f->rip = fx->resume;
	fx->rip = 0;
	fx->taken++;
	return true;
}

uint64_t fixup_gp_count(void)
{
	return fixups[this_cpu_id()].taken;
}

/*
 * Arm the fixup for label 1 (the MSR instruction), resuming at label 2 with
 * `failed` still 1. Interrupts are off so no handler re-arms it meanwhile.
 */
bool rdmsr_safe(uint32_t msr, uint64_t *val)
{
	struct fixup *fx = &fixups[this_cpu_id()];
	unsigned long flags = irq_save();
	uint32_t lo, hi;
	uint64_t failed;

	asm volatile("leaq 1f(%%rip), %[tmp]\n\t"
		     "movq %[tmp], %[rip]\n\t"
		     "leaq 2f(%%rip), %[tmp]\n\t"
		     "movq %[tmp], %[resume]\n\t"
		     "movl $1, %k[tmp]\n"
		     "1:\trdmsr\n\t"
		     "xorl %k[tmp], %k[tmp]\n"
		     "2:"
		     : "=a"(lo),
		       "=d"(hi), [tmp] "=&r"(failed), [rip] "=m"(fx->rip), [resume] "=m"(fx->resume)
		     : "c"(msr)
		     : "memory");
	fx->rip = 0;
	irq_restore(flags);
	if (failed)
		return false;
	*val = ((uint64_t)hi << 32) | lo;
	return true;
}

bool wrmsr_safe(uint32_t msr, uint64_t val)
{
	struct fixup *fx = &fixups[this_cpu_id()];
	unsigned long flags = irq_save();
	uint64_t failed;

	asm volatile("leaq 1f(%%rip), %[tmp]\n\t"
		     "movq %[tmp], %[rip]\n\t"
		     "leaq 2f(%%rip), %[tmp]\n\t"
		     "movq %[tmp], %[resume]\n\t"
		     "movl $1, %k[tmp]\n"
		     "1:\twrmsr\n\t"
		     "xorl %k[tmp], %k[tmp]\n"
		     "2:"
		     : [tmp] "=&r"(failed), [rip] "=m"(fx->rip), [resume] "=m"(fx->resume)
		     : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
		     : "memory");
	fx->rip = 0;
	irq_restore(flags);
	return !failed;
}
