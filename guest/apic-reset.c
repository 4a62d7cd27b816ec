/* SPDX-License-Identifier: MIT */
/*
 * IPIs in flight across an APIC reset. vCPU 1 keeps interrupts off while
 * vCPU 0 sends it `ipis` IPIs (one lands in IRR, the rest coalesce), then
 * disables its APIC through IA32_APIC_BASE (x2APIC -> disabled -> xAPIC ->
 * x2APIC), which discards IRR, and enables interrupts again; vCPU 0 then sends
 * `ipis` more, one at a time, which must all arrive. The VMM must count a
 * discarded one as dropped: sent = delivered + coalesced + dropped + pending
 * holds. (An IPI of the first batch still posted but not yet in IRR at the
 * reset may be taken after it, as one in flight on a bus would be.)
 * Needs 2 vCPUs. Args: ipis=N (default 10), rounds=N (default 3).
 * Result "apic-reset": rounds, sent, received (by vCPU 1's handler).
 */
#include "guest.h"

#include "apic.h"
#include "fixup.h"

#define RESET_VECTOR 0x61

static volatile uint32_t phase, received;

static void reset_irq(struct irq_frame *f)
{
	(void)f;
	received++;
	apic_eoi();
}

/* vCPU 1: the APIC through disabled and back to x2APIC, as the SDM allows (no #GP). */
static void apic_cycle(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	wrmsr(MSR_APIC_BASE, base & ~(APIC_BASE_EN | APIC_BASE_EXTD));
	wrmsr(MSR_APIC_BASE, (base & ~APIC_BASE_EXTD) | APIC_BASE_EN);
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
	apic_enable(); /* the reset cleared SVR: software-enable it again */
}

static void wait_phase(uint32_t p)
{
	while (READ_ONCE(phase) != p)
		cpu_relax();
}

static void receiver(uint64_t rounds)
{
	uint64_t r;

	for (r = 0; r < rounds; r++) {
		irq_disable();
		WRITE_ONCE(phase, 4 * r + 1); /* ready: send with our interrupts off */
		wait_phase(4 * r + 2);
		apic_cycle();
		irq_enable();
		WRITE_ONCE(phase, 4 * r + 3); /* reset done: send again */
		wait_phase(4 * r + 4);
	}
}

static void sender(uint64_t rounds, uint64_t ipis)
{
	uint64_t r, i, sent = 0;
	struct vmm_result res;

	for (r = 0; r < rounds; r++) {
		wait_phase(4 * r + 1);
		for (i = 0; i < ipis; i++, sent++)
			apic_send_ipi(1, RESET_VECTOR);
		WRITE_ONCE(phase, 4 * r + 2);
		wait_phase(4 * r + 3);
		/* One at a time, each taken before the next: none coalesce, all arrive. */
		for (i = 0; i < ipis; i++, sent++) {
			uint32_t before = READ_ONCE(received);

			apic_send_ipi(1, RESET_VECTOR);
			while (READ_ONCE(received) == before)
				cpu_relax();
		}
		WRITE_ONCE(phase, 4 * r + 4);
	}
	result_init(&res, "apic-reset");
	result_add(&res, "rounds", rounds);
	result_add(&res, "sent", sent);
	result_add(&res, "received", READ_ONCE(received));
	result_send(&res);
	/* At least the second batches; a first-batch IPI still in flight at the reset may land
	 * after. */
	shutdown(READ_ONCE(received) >= rounds * ipis ? GUEST_STATUS_OK : GUEST_STATUS_BUG);
}

void guest_main(unsigned int cpu)
{
	uint64_t ipis = arg_u64("ipis", 10), rounds = arg_u64("rounds", 3);

	if (nr_cpus() < 2) {
		printf("apic-reset: needs 2 vCPUs\n");
		shutdown(GUEST_STATUS_BAD_ARGS);
	}
	if (cpu == 0) {
		apic_enable();
		sender(rounds, ipis);
	} else if (cpu == 1) {
		irq_set_handler(RESET_VECTOR, reset_irq);
		apic_enable();
		receiver(rounds);
	}
}
