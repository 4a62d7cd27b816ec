// SPDX-License-Identifier: MIT
#include "boot.h"

#include "kvm.h"
#include "multiboot.h"
#include "vmm_abi.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7)

#define CR0_PE	       (1ull << 0)
#define CR0_MP	       (1ull << 1)
#define CR0_ET	       (1ull << 4)
#define CR0_NE	       (1ull << 5)
#define CR0_WP	       (1ull << 16)
#define CR0_PG	       (1ull << 31)
#define CR4_PAE	       (1ull << 5)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_LME       (1ull << 8)
#define EFER_LMA       (1ull << 10)

/* The TSS sits in the GDT's page, past the descriptors. */
#define TSS_OFFSET  0x100u
#define TSS_LIMIT   0x67u
#define GDT_ENTRIES 5 /* null, code, data, TSS (two slots) */

#define CPUID_1_ECX_X2APIC	 (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR	 (1u << 31)

static void boot_page_tables(uint8_t *ram)
{
	uint64_t *pml4 = (uint64_t *)(ram + VMM_PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(ram + VMM_PDPT_GPA);
	uint64_t *pd = (uint64_t *)(ram + VMM_PD_GPA);
	unsigned int i;

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = VMM_PDPT_GPA | PTE_P | PTE_RW;
	pdpt[0] = VMM_PD_GPA | PTE_P | PTE_RW;
	/* 512 x 2 MiB = the whole VMM_IDENTITY_MAP, whatever the RAM size. */
	for (i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_PS;
}

static uint64_t gdt_entry(uint32_t base, uint32_t limit, uint16_t flags)
{
	/* flags: bits 0-7 access byte, bits 12-15 granularity nibble (G, D/B, L, AVL). */
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf0ffu) << 40) |
	       ((uint64_t)(limit & 0xf0000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (limit & 0xffffu);
}

void boot_setup_memory(void *ram)
{
	uint64_t *gdt = (uint64_t *)((uint8_t *)ram + VMM_GDT_GPA);
	uint64_t tss = VMM_GDT_GPA + TSS_OFFSET;

	boot_page_tables(ram);
	memset(gdt, 0, 4096);
	gdt[VMM_SEL_CODE / 8] = gdt_entry(0, 0xfffff, 0xa09b); /* G, L, P, code r/x */
	gdt[VMM_SEL_DATA / 8] = gdt_entry(0, 0xfffff, 0xc093); /* G, D/B, P, data r/w */
	gdt[VMM_SEL_TSS / 8] = gdt_entry((uint32_t)tss, TSS_LIMIT, 0x008b); /* busy 64-bit TSS */
	gdt[VMM_SEL_TSS / 8 + 1] = tss >> 32;
	/* TSS: I/O map base past the limit, so no I/O bitmap. */
	*(uint16_t *)((uint8_t *)ram + tss + 0x66) = TSS_LIMIT + 1;
}

static void seg_flat(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

static void boot_sregs(struct kvm_sregs *sr)
{
	seg_flat(&sr->cs, VMM_SEL_CODE, 0xb, 1);
	seg_flat(&sr->ds, VMM_SEL_DATA, 0x3, 0);
	sr->es = sr->fs = sr->gs = sr->ss = sr->ds;
	memset(&sr->tr, 0, sizeof(sr->tr));
	sr->tr.selector = VMM_SEL_TSS;
	sr->tr.base = VMM_GDT_GPA + TSS_OFFSET;
	sr->tr.limit = TSS_LIMIT;
	sr->tr.type = 0xb;
	sr->tr.present = 1;
	memset(&sr->ldt, 0, sizeof(sr->ldt));
	sr->ldt.type = 0x2;
	sr->ldt.present = 1;
	sr->ldt.unusable = 1;
	sr->gdt.base = VMM_GDT_GPA;
	sr->gdt.limit = GDT_ENTRIES * 8 - 1;
	sr->idt.base = 0;
	sr->idt.limit = 0;
	sr->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sr->cr3 = VMM_PML4_GPA;
	sr->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sr->efer = EFER_LME | EFER_LMA;
}

static int boot_cpuid(const struct kvm_host *kvm, int fd, unsigned int id, char *err, size_t errlen)
{
	size_t sz = sizeof(struct kvm_cpuid2) + kvm->cpuid->nent * sizeof(kvm->cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	uint32_t i;
	int r;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(c, kvm->cpuid, sz);
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ecx |= CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE |
				  CPUID_1_ECX_HYPERVISOR;
			e->ebx = (e->ebx & 0x00ffffffu) | (id << 24);
			break;
		case 0xb:
		case 0x1f:
			e->edx = id;
			break;
		case 0x40000001:
			/* PV features do not work here (docs/host-facts.md): advertise none. */
			e->eax = 0;
			e->edx = 0;
			break;
		default:
			break;
		}
	}
	r = kvm_ioctl(fd, KVM_SET_CPUID2, c);
	if (r < 0)
		snprintf(err, errlen, "KVM_SET_CPUID2: %s", strerror(errno));
	free(c);
	return r < 0 ? -1 : 0;
}

int boot_setup_vcpu(const struct kvm_host *kvm, int fd, unsigned int id, uint64_t entry,
		    uint64_t boot_info_gpa, char *err, size_t errlen)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;

	if (boot_cpuid(kvm, fd, id, err, errlen) < 0)
		return -1;
	if (kvm_ioctl(fd, KVM_GET_SREGS, &sr) < 0) {
		snprintf(err, errlen, "KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	boot_sregs(&sr);
	if (kvm_ioctl(fd, KVM_SET_SREGS, &sr) < 0) {
		snprintf(err, errlen, "KVM_SET_SREGS: %s", strerror(errno));
		return -1;
	}
	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rdi = boot_info_gpa;
	regs.rflags = 0x2;
	if (kvm_ioctl(fd, KVM_SET_REGS, &regs) < 0) {
		snprintf(err, errlen, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void boot_setup_memory_mb(void *ram)
{
	uint64_t *gdt = (uint64_t *)((uint8_t *)ram + MB_GDT_GPA);
	uint64_t tss = MB_GDT_GPA + TSS_OFFSET;

	memset(gdt, 0, 4096);
	gdt[VMM_SEL_CODE / 8] = gdt_entry(0, 0xfffff, 0xc09b); /* G, D, P, code r/x */
	gdt[VMM_SEL_DATA / 8] = gdt_entry(0, 0xfffff, 0xc093); /* G, D/B, P, data r/w */
	gdt[VMM_SEL_TSS / 8] = gdt_entry((uint32_t)tss, TSS_LIMIT, 0x008b); /* busy 32-bit TSS */
}

static void seg_set(struct kvm_segment *s, uint16_t sel, uint64_t base, uint32_t limit,
		    uint8_t type, bool big)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = base;
	s->limit = limit;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->db = big;
	s->g = big;
}

/* What both entries share: no LDT, a busy TSS, no IDT, no paging. */
static void sregs_common(struct kvm_sregs *sr, uint64_t tss, uint16_t tr_sel)
{
	memset(&sr->tr, 0, sizeof(sr->tr));
	sr->tr.selector = tr_sel;
	sr->tr.base = tss;
	sr->tr.limit = TSS_LIMIT;
	sr->tr.type = 0xb;
	sr->tr.present = 1;
	memset(&sr->ldt, 0, sizeof(sr->ldt));
	sr->ldt.type = 0x2;
	sr->ldt.present = 1;
	sr->ldt.unusable = 1;
	sr->idt.base = 0;
	sr->idt.limit = 0x3ff;
	sr->cr3 = 0;
	sr->cr4 = 0;
	sr->efer = 0;
}

static int set_state(int fd, struct kvm_sregs *sr, struct kvm_regs *regs, char *err, size_t errlen)
{
	if (kvm_ioctl(fd, KVM_SET_SREGS, sr) < 0) {
		snprintf(err, errlen, "KVM_SET_SREGS: %s", strerror(errno));
		return -1;
	}
	if (kvm_ioctl(fd, KVM_SET_REGS, regs) < 0) {
		snprintf(err, errlen, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int boot_setup_vcpu_mb(const struct kvm_host *kvm, int fd, unsigned int id, uint64_t entry,
		       uint64_t info_gpa, char *err, size_t errlen)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;

	if (boot_cpuid(kvm, fd, id, err, errlen) < 0)
		return -1;
	if (kvm_ioctl(fd, KVM_GET_SREGS, &sr) < 0) {
		snprintf(err, errlen, "KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	seg_set(&sr.cs, VMM_SEL_CODE, 0, 0xffffffff, 0xb, true);
	seg_set(&sr.ds, VMM_SEL_DATA, 0, 0xffffffff, 0x3, true);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sregs_common(&sr, MB_GDT_GPA + TSS_OFFSET, VMM_SEL_TSS);
	sr.gdt.base = MB_GDT_GPA;
	sr.gdt.limit = GDT_ENTRIES * 8 - 1;
	sr.cr0 = CR0_PE | CR0_ET;
	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rax = MB_BOOT_MAGIC;
	regs.rbx = info_gpa;
	regs.rflags = 0x2;
	return set_state(fd, &sr, &regs, err, errlen);
}

int boot_sipi(int fd, uint8_t vector, char *err, size_t errlen)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;

	if (kvm_ioctl(fd, KVM_GET_SREGS, &sr) < 0) {
		snprintf(err, errlen, "KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	/* SDM "MP Initialization": CS selector vector << 8, base vector << 12, IP 0. */
	seg_set(&sr.cs, (uint16_t)(vector << 8), (uint64_t)vector << 12, 0xffff, 0xb, false);
	seg_set(&sr.ds, 0, 0, 0xffff, 0x3, false);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sregs_common(&sr, 0, 0);
	sr.gdt.base = 0;
	sr.gdt.limit = 0xffff;
	sr.cr0 = CR0_ET;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	return set_state(fd, &sr, &regs, err, errlen);
}
