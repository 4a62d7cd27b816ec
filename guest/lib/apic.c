/* SPDX-License-Identifier: MIT */
/* x2APIC driver: every access is an MSR (an exit with the userspace APIC). */
#include "apic.h"

#include "fixup.h"

static uint64_t spurious[VMM_MAX_VCPUS];

/* The SDM says a spurious interrupt sets no ISR bit: no EOI. */
static void spurious_irq(struct irq_frame *f)
{
	(void)f;
	spurious[this_cpu_id()]++;
}

uint64_t apic_spurious_count(void)
{
	return spurious[this_cpu_id()];
}

/* x2APIC is only reachable from xAPIC mode: disabled -> xAPIC -> x2APIC. */
static void apic_enable_x2apic(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if ((base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD))
		return;
	if (!(base & APIC_BASE_EN)) {
		base |= APIC_BASE_EN;
		wrmsr(MSR_APIC_BASE, base);
	}
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
}

void apic_enable(void)
{
	irq_set_handler(APIC_SPURIOUS_VECTOR, spurious_irq);
	apic_enable_x2apic();
	/* The first x2APIC register access: say plainly when nobody emulates them. */
	if (!wrmsr_safe(MSR_X2APIC_SVR, APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR)) {
		printf("cpu%u: apic: x2APIC SVR write took #GP: x2APIC MSRs are not emulated\n",
		       this_cpu_id());
		shutdown(GUEST_STATUS_BUG);
	}
	wrmsr(MSR_X2APIC_TPR, 0);
	apic_esr(); /* start from a clean error status */
}

uint32_t apic_id(void)
{
	return (uint32_t)rdmsr(MSR_X2APIC_ID);
}

void apic_eoi(void)
{
	wrmsr(MSR_X2APIC_EOI, 0);
}

uint32_t apic_esr(void)
{
	wrmsr(MSR_X2APIC_ESR, 0);
	return (uint32_t)rdmsr(MSR_X2APIC_ESR);
}

void apic_write_icr(uint64_t icr)
{
	wrmsr(MSR_X2APIC_ICR, icr);
}

void apic_send_ipi(uint32_t dest_id, uint8_t vector)
{
	apic_write_icr((uint64_t)dest_id << 32 | APIC_DM_FIXED | vector);
}

void apic_send_ipi_shorthand(uint32_t shorthand, uint8_t vector)
{
	apic_write_icr((uint64_t)(shorthand & 3) << APIC_SH_SHIFT | APIC_DM_FIXED | vector);
}

void apic_send_ipi_logical(uint32_t cluster_dest, uint8_t vector)
{
	apic_write_icr((uint64_t)cluster_dest << 32 | APIC_DEST_LOGICAL | APIC_DM_FIXED | vector);
}

void apic_send_nmi(uint32_t dest_id)
{
	apic_write_icr((uint64_t)dest_id << 32 | APIC_DM_NMI);
}

void apic_self_ipi(uint8_t vector)
{
	wrmsr(MSR_X2APIC_SELF_IPI, vector);
}

/* KVM's in-kernel LAPIC counts at 1 ns per bus cycle unless the VMM sets
 * KVM_CAP_X86_APIC_BUS_CYCLES_NS. */
#define KVM_APIC_BUS_KHZ 1000000u

uint32_t apic_timer_khz(void)
{
	if (boot_info()->flags & VMM_BOOT_F_IRQCHIP_KERNEL)
		return KVM_APIC_BUS_KHZ;
	return tsc_khz();
}

/* Divide configuration bits 3,1,0 encode divide by 2^(n+1); n = 7 is divide by 1. */
static uint32_t apic_dcr(uint32_t divide)
{
	uint32_t n = 0;

	while (n < 7 && (1u << n) < divide)
		n++;
	n = (n + 7) & 7; /* log2(divide) - 1, with divide 1 -> 7 */
	return ((n & 4) << 1) | (n & 3);
}

/* LVT first: a mode change disarms the timer and clears the initial count. */
static void apic_timer_start(uint32_t mode, uint8_t vector, uint32_t count, uint32_t divide)
{
	wrmsr(MSR_X2APIC_LVT_TIMER, mode | vector);
	wrmsr(MSR_X2APIC_TIMER_DCR, apic_dcr(divide));
	wrmsr(MSR_X2APIC_TIMER_ICR, count);
}

void apic_timer_oneshot(uint8_t vector, uint32_t count, uint32_t divide)
{
	apic_timer_start(APIC_LVT_TIMER_ONESHOT, vector, count, divide);
}

void apic_timer_periodic(uint8_t vector, uint32_t count, uint32_t divide)
{
	apic_timer_start(APIC_LVT_TIMER_PERIODIC, vector, count, divide);
}

/* Leaving TSC-deadline or periodic mode disarms; a zero count disarms one-shot. */
void apic_park(void)
{
	wrmsr(MSR_X2APIC_TPR, 0xf0);
	for (;;)
		asm volatile("sti; hlt; cli" : : : "memory");
}

void apic_timer_stop(void)
{
	wrmsr(MSR_X2APIC_LVT_TIMER, APIC_LVT_MASKED | APIC_LVT_TIMER_ONESHOT);
	wrmsr(MSR_X2APIC_TIMER_ICR, 0);
}

void apic_tsc_deadline(uint8_t vector, uint64_t tsc)
{
	wrmsr(MSR_X2APIC_LVT_TIMER, APIC_LVT_TIMER_TSCDEADLINE | vector);
	wrmsr(MSR_TSC_DEADLINE, tsc);
}
