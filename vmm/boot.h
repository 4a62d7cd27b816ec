/* SPDX-License-Identifier: MIT */
/*
 * The x86 state a vCPU starts in: long mode, identity map, flat GDT (our ABI);
 * 32-bit protected mode (multiboot); real mode at a SIPI vector (an AP).
 */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct kvm_host;

/* Write page tables and GDT/TSS into the VMM-owned low pages of guest RAM. */
void boot_setup_memory(void *ram);

/*
 * Put one vCPU into 64-bit mode at `entry` with RDI = boot_info_gpa, and give
 * it CPUID that advertises x2APIC and TSC-deadline with its own APIC ID.
 * Returns 0, or -1 with the failing ioctl in err.
 */
int boot_setup_vcpu(const struct kvm_host *kvm, int vcpu_fd, unsigned int id, uint64_t entry,
		    uint64_t boot_info_gpa, char *err, size_t errlen);

/* Multiboot: a flat 32-bit GDT and TSS at MB_GDT_GPA. */
void boot_setup_memory_mb(void *ram);

/*
 * Multiboot entry (spec 3.2): 32-bit protected mode, paging off, flat
 * segments, IF=0, EAX = 0x2BADB002, EBX = info_gpa; the same CPUID as above.
 */
int boot_setup_vcpu_mb(const struct kvm_host *kvm, int vcpu_fd, unsigned int id, uint64_t entry,
		       uint64_t info_gpa, char *err, size_t errlen);

/* An AP's start-up IPI: real mode at vector * 4096 (CS = vector << 8, IP = 0). */
int boot_sipi(int vcpu_fd, uint8_t vector, char *err, size_t errlen);

#endif
