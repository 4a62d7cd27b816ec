/* SPDX-License-Identifier: MIT */
/*
 * A hostile use of the LAPIC timer: periodic mode with an initial count of
 * `count` (default 1000 TSC-rate ticks at divide 1, well under a
 * microsecond), then `iters` iterations of work with interrupts off, then
 * interrupts on until `ticks` timer interrupts were taken. The VMM clamps a
 * periodic timer to 200 us (as KVM does); without that every expiry was an
 * exit and the loop never finished. vCPU 0 only.
 * Args: count=N (default 1000), iters=N (default 1000), ticks=N (default 3).
 * Result "timer-storm": iters, ticks (taken), cycles (of the interrupts-off loop).
 */
#include "guest.h"

#include "apic.h"

#define STORM_VECTOR 0x50

static volatile uint64_t taken;

static void storm_irq(struct irq_frame *f)
{
	(void)f;
	taken++;
	apic_eoi();
}

void guest_main(unsigned int cpu)
{
	uint64_t count = arg_u64("count", 1000), iters = arg_u64("iters", 1000);
	uint64_t ticks = arg_u64("ticks", 3), t0, cycles, i;
	volatile uint64_t sink = 0;
	struct vmm_result r;

	if (cpu != 0)
		return;
	irq_set_handler(STORM_VECTOR, storm_irq);
	apic_enable();
	irq_disable();
	apic_timer_periodic(STORM_VECTOR, (uint32_t)count, 1);
	t0 = rdtsc();
	for (i = 0; i < iters; i++)
		sink += i;
	cycles = rdtsc() - t0;
	irq_enable();
	while (taken < ticks)
		asm volatile("hlt");
	apic_timer_stop();
	result_init(&r, "timer-storm");
	result_add(&r, "iters", iters);
	result_add(&r, "ticks", taken);
	result_add(&r, "cycles", cycles);
	result_send(&r);
	shutdown(GUEST_STATUS_OK);
}
