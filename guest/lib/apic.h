/* SPDX-License-Identifier: MIT */
/*
 * x2APIC driver (Intel SDM vol. 3, "Advanced Programmable Interrupt
 * Controller"). Every register is an MSR; the same code runs on the VMM's
 * userspace x2APIC and on KVM's in-kernel LAPIC.
 */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include "guest.h"

/* MSRs */
#define MSR_APIC_BASE	     0x1bu
#define MSR_TSC_DEADLINE     0x6e0u
#define MSR_X2APIC_ID	     0x802u
#define MSR_X2APIC_VERSION   0x803u
#define MSR_X2APIC_TPR	     0x808u
#define MSR_X2APIC_PPR	     0x80au
#define MSR_X2APIC_EOI	     0x80bu
#define MSR_X2APIC_LDR	     0x80du
#define MSR_X2APIC_SVR	     0x80fu
#define MSR_X2APIC_ISR0	     0x810u /* ISR bits 0-31; 0x811-0x817 the rest */
#define MSR_X2APIC_IRR0	     0x820u
#define MSR_X2APIC_ESR	     0x828u
#define MSR_X2APIC_ICR	     0x830u
#define MSR_X2APIC_LVT_TIMER 0x832u
#define MSR_X2APIC_LVT_ERROR 0x837u
#define MSR_X2APIC_TIMER_ICR 0x838u
#define MSR_X2APIC_TIMER_CCR 0x839u
#define MSR_X2APIC_TIMER_DCR 0x83eu
#define MSR_X2APIC_SELF_IPI  0x83fu

/* IA32_APIC_BASE */
#define APIC_BASE_BSP  (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN   (1ull << 11)

#define APIC_SVR_ENABLE	     (1u << 8)
#define APIC_SPURIOUS_VECTOR 0xffu

/* ICR (x2APIC layout: destination in bits 63:32) */
#define APIC_DM_FIXED	  (0u << 8)
#define APIC_DM_LOWEST	  (1u << 8)
#define APIC_DM_SMI	  (2u << 8)
#define APIC_DM_RESERVED  (3u << 8)
#define APIC_DM_NMI	  (4u << 8)
#define APIC_DM_INIT	  (5u << 8)
#define APIC_DM_SIPI	  (6u << 8)
#define APIC_DM_EXTINT	  (7u << 8)
#define APIC_DEST_LOGICAL (1u << 11)
#define APIC_INT_ASSERT	  (1u << 14)
#define APIC_SH_SHIFT	  18
#define APIC_DEST_ALL	  0xffffffffu

/* Destination shorthands for apic_send_ipi_shorthand(). */
#define APIC_SH_SELF	     1u
#define APIC_SH_ALL	     2u /* including self */
#define APIC_SH_ALL_BUT_SELF 3u

/* LVT */
#define APIC_LVT_MASKED		   (1u << 16)
#define APIC_LVT_TIMER_ONESHOT	   (0u << 17)
#define APIC_LVT_TIMER_PERIODIC	   (1u << 17)
#define APIC_LVT_TIMER_TSCDEADLINE (2u << 17)

/* ESR */
#define APIC_ESR_SEND_ILLEGAL (1u << 5)
#define APIC_ESR_RECV_ILLEGAL (1u << 6)

/* x2APIC mode, SVR enabled with the spurious vector 0xFF, TPR 0. Per vCPU. */
void apic_enable(void);
uint32_t apic_id(void);
void apic_eoi(void);
/* Latch and return the errors since the last call (SDM: write ESR, then read). */
uint32_t apic_esr(void);
/* Spurious interrupts this vCPU took (the handler does not EOI). */
uint64_t apic_spurious_count(void);

/* Logical x2APIC ID of an x2APIC ID: cluster in 31:16, one member bit in 15:0. */
static inline uint32_t apic_ldr_of(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 15));
}

/* Fixed, edge IPIs. */
void apic_send_ipi(uint32_t dest_id, uint8_t vector); /* physical */
void apic_send_ipi_shorthand(uint32_t shorthand, uint8_t vector);
void apic_send_ipi_logical(uint32_t cluster_dest, uint8_t vector);
void apic_send_nmi(uint32_t dest_id);
void apic_self_ipi(uint8_t vector); /* the SELF_IPI MSR */
/*
 * Stop this vCPU for good, taking no more interrupts: TPR 0xF0 blocks every
 * vector (it stays pending in the IRR), and it halts with IF=1 because the
 * VMM ends a VM whose vCPU halts with IF=0.
 */
void apic_park(void) __noreturn;
/* Raw ICR write, for tests that send what the helpers refuse to build. */
void apic_write_icr(uint64_t icr);

/*
 * Timer: `divide` is the divisor 1, 2, 4, ... 128; the period is count *
 * divide cycles of the timer clock, apic_timer_khz(): the TSC with the
 * VMM's APIC, KVM's 1 GHz APIC bus clock with --irqchip kernel.
 */
uint32_t apic_timer_khz(void);
void apic_timer_oneshot(uint8_t vector, uint32_t count, uint32_t divide);
void apic_timer_periodic(uint8_t vector, uint32_t count, uint32_t divide);
void apic_timer_stop(void);
void apic_tsc_deadline(uint8_t vector, uint64_t tsc);

#endif
