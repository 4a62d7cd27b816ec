/* SPDX-License-Identifier: MIT */
/* The x86 state every vCPU starts in: long mode, identity map, flat GDT, CPUID. */
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

#endif
