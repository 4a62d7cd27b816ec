/* SPDX-License-Identifier: MIT */
/*
 * The guest/host ABI: the one header both vmm/ and guest/ include.
 *
 * Every guest image is an ELF64 x86-64 ET_EXEC loaded at its physical
 * addresses, at or above VMM_GUEST_LOAD_MIN. The VMM owns everything below
 * that (page tables, GDT/TSS, boot info blocks) and enters every vCPU at
 * e_entry at the same time, already in 64-bit long mode, with the first
 * VMM_IDENTITY_MAP bytes identity mapped, interrupts disabled and
 * RDI = address of that vCPU's read-only struct vmm_boot_info.
 * RSP is 0: the guest sets up its own stack.
 *
 * Guest -> VMM signals are `out` instructions to the ports below, never
 * VMCALL (it livelocks on this KVM, see docs/host-facts.md).
 */
#ifndef VMM_ABI_H
#define VMM_ABI_H

#include <stdint.h>

#define VMM_ABI_VERSION 1u
#define VMM_BOOT_MAGIC	0x31544f4f424d4d56ull /* "VMMBOOT1" little-endian */

#define VMM_MAX_VCPUS 64u
#define VMM_ARGS_MAX  256u

/* Guest physical layout owned by the VMM. */
#define VMM_GDT_GPA	   0x1000ull
#define VMM_PML4_GPA	   0x2000ull
#define VMM_PDPT_GPA	   0x3000ull
#define VMM_PD_GPA	   0x4000ull   /* one page directory: 1 GiB in 2 MiB pages */
#define VMM_BOOTINFO_GPA   0x10000ull  /* + vcpu_id * sizeof(struct vmm_boot_info) */
#define VMM_GUEST_LOAD_MIN 0x100000ull /* first byte an image may occupy */
#define VMM_IDENTITY_MAP   (1ull << 30)
#define VMM_MEM_MAX	   VMM_IDENTITY_MAP

/* GDT selectors set up by the VMM (flat, 64-bit code). */
#define VMM_SEL_CODE 0x08u
#define VMM_SEL_DATA 0x10u
#define VMM_SEL_TSS  0x18u

struct vmm_boot_info {
	uint64_t magic;	      /* VMM_BOOT_MAGIC */
	uint32_t abi_version; /* VMM_ABI_VERSION */
	uint32_t vcpu_id;     /* also this vCPU's x2APIC ID */
	uint32_t nr_vcpus;    /* vCPUs in this VM, ids 0..nr_vcpus-1 */
	uint32_t tsc_khz;     /* guest TSC frequency (KVM_GET_TSC_KHZ) */
	uint64_t ram_size;    /* bytes of guest RAM starting at GPA 0 */
	uint32_t vm_id;	      /* index of this VM in the vmm process */
	uint32_t flags;	      /* VMM_BOOT_F_* */
	uint64_t reserved[4];
	char args[VMM_ARGS_MAX]; /* workload arguments, NUL-terminated */
};

/* The vCPU's interrupt controller is KVM's in-kernel LAPIC (--irqchip=kernel). */
#define VMM_BOOT_F_IRQCHIP_KERNEL (1u << 0)

/* Paravirtual ports. */
#define VMM_PORT_CONSOLE     0xE9u /* outb: one character of console output */
#define VMM_PORT_CONSOLE_STR 0xEAu /* outl: GPA of a NUL-terminated string */
#define VMM_PORT_RESULT	     0xECu /* outl: GPA of a struct vmm_result */
#define VMM_PORT_SHUTDOWN    0xF4u /* outl: VM exit status, 0 = success */
#define VMM_PORT_SPIN	     0xF5u /* outb: spin notification (PLE stand-in) */

#define VMM_CONSOLE_STR_MAX 1024u /* longest string one CONSOLE_STR write carries */

/* Shutdown status a guest uses after an unhandled CPU exception. */
#define VMM_STATUS_EXCEPTION(vec)  (0x100u | ((vec)&0xffu))
#define VMM_STATUS_IS_EXCEPTION(s) (((s) & ~0xffu) == 0x100u)

#define VMM_RESULT_NAME_MAX   32u
#define VMM_RESULT_KEY_MAX    24u
#define VMM_RESULT_MAX_FIELDS 16u

/* A result record: the guest's own measurement, named key/value pairs. */
struct vmm_result_field {
	char key[VMM_RESULT_KEY_MAX]; /* NUL-terminated */
	uint64_t value;
};

struct vmm_result {
	char name[VMM_RESULT_NAME_MAX]; /* NUL-terminated */
	uint32_t nr_fields;		/* <= VMM_RESULT_MAX_FIELDS */
	uint32_t reserved;
	struct vmm_result_field fields[VMM_RESULT_MAX_FIELDS];
};

#endif
