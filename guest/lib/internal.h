/* SPDX-License-Identifier: MIT */
/*
 * Library-private definitions. The top half is plain #defines shared with
 * entry.S (which cannot include vmm_abi.h); start.c checks them against the
 * ABI with _Static_assert.
 */
#ifndef GUEST_INTERNAL_H
#define GUEST_INTERNAL_H

#define GUEST_NR_VCPUS	    64	 /* == VMM_MAX_VCPUS */
#define GUEST_STACK_SHIFT   13	 /* 8 KiB per vCPU: all 64 stacks fit a 2 MiB VM */
#define BOOT_INFO_VCPU_ID   12	 /* offsetof(struct vmm_boot_info, vcpu_id) */
#define GUEST_PORT_SHUTDOWN 0xF4 /* == VMM_PORT_SHUTDOWN */
#define ISR_STUB_SIZE	    16	 /* bytes per vector stub in entry.S */
#define IRQ_FRAME_VECTOR    120	 /* offsetof(struct irq_frame, vector) */
#define IRQ_FRAME_SIZE	    176	 /* sizeof(struct irq_frame) */

#ifndef __ASSEMBLER__
#include "guest.h"

/* entry.S */
extern const char isr_stubs[];
void guest_start(const struct vmm_boot_info *bi) __attribute__((noreturn));
void irq_dispatch(struct irq_frame *f);

/* idt.c */
void idt_init(bool boot_cpu);

#endif
#endif
