/* SPDX-License-Identifier: MIT */
/*
 * vCPU 0 feeds its x2APIC garbage: ICR writes the APIC must drop (INIT,
 * SIPI, SMI, reserved and ExtINT delivery modes, vectors 0-15, destinations
 * that match nobody, illegal shorthand combinations) and MSR accesses that
 * must #GP (reserved, read-only, write-only, reserved bits, illegal
 * APIC_BASE transitions), taken through rdmsr_safe()/wrmsr_safe(). Then it
 * checks the APIC still works. The VM must survive all of it.
 *
 * With KVM's in-kernel LAPIC (--irqchip kernel), ICRs that would really
 * INIT/SMI/NMI a vCPU go to a non-existent destination instead, and
 * accesses KVM accepts are listed, not fatal.
 *
 * Result "apic-garbage": gp (#GPs taken), gp_expected, bad_icr (garbage ICR
 * writes), esr (ESR after a send with vector 3: bit 5 = send illegal
 * vector), not_faulted (accesses that should have faulted but did not).
 */
#include "guest.h"

#include "apic.h"
#include "fixup.h"

#define TEST_VECTOR   0x42
#define WAIT_US	      50000
#define ICR_RESERVED1 (1ull << 12) /* delivery status: read-only */
#define ICR_RESERVED2 (1ull << 17)

enum { RD, WR };

struct msr_access {
	const char *what;
	uint8_t dir;
	uint32_t msr;
	uint64_t val; /* for WR; APIC_BASE entries are XORed into the current value */
};

/* Every one of these must #GP on an x2APIC per the SDM. */
static const struct msr_access must_fault[] = {
	{ "read EOI", RD, MSR_X2APIC_EOI, 0 },
	{ "read SELF_IPI", RD, MSR_X2APIC_SELF_IPI, 0 },
	{ "read 0x801 (hole)", RD, 0x801, 0 },
	{ "read 0x8ff (hole)", RD, 0x8ff, 0 },
	{ "read DFR 0x80e (xAPIC only)", RD, 0x80e, 0 },
	{ "read ICR high 0x831 (xAPIC only)", RD, 0x831, 0 },
	{ "write 0x801 (hole)", WR, 0x801, 0 },
	{ "write 0x8ff (hole)", WR, 0x8ff, 0 },
	{ "write ID", WR, MSR_X2APIC_ID, 5 },
	{ "write VERSION", WR, MSR_X2APIC_VERSION, 0 },
	{ "write PPR", WR, MSR_X2APIC_PPR, 0 },
	{ "write LDR", WR, MSR_X2APIC_LDR, 1 },
	{ "write ISR0", WR, MSR_X2APIC_ISR0, 0 },
	{ "write IRR0", WR, MSR_X2APIC_IRR0, 0 },
	{ "write current count", WR, MSR_X2APIC_TIMER_CCR, 0 },
	{ "EOI with a non-zero value", WR, MSR_X2APIC_EOI, 1 },
	{ "ESR with a non-zero value", WR, MSR_X2APIC_ESR, 1 },
	{ "TPR reserved bit 8", WR, MSR_X2APIC_TPR, 0x100 },
	{ "SVR reserved bit 12", WR, MSR_X2APIC_SVR,
	  APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR | (1u << 12) },
	{ "SVR reserved bit 20", WR, MSR_X2APIC_SVR,
	  APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR | (1u << 20) },
	{ "LVT timer reserved mode 3", WR, MSR_X2APIC_LVT_TIMER,
	  APIC_LVT_MASKED | (3u << 17) | TEST_VECTOR },
	{ "LVT timer reserved bit 20", WR, MSR_X2APIC_LVT_TIMER,
	  APIC_LVT_MASKED | (1u << 20) | TEST_VECTOR },
	{ "LVT error reserved bit 8", WR, MSR_X2APIC_LVT_ERROR, APIC_LVT_MASKED | 0x100 },
	{ "divide config reserved bit 2", WR, MSR_X2APIC_TIMER_DCR, 0x4 },
	{ "SELF_IPI reserved bit 8", WR, MSR_X2APIC_SELF_IPI, 0x100 | TEST_VECTOR },
	{ "ICR reserved bit 12", WR, MSR_X2APIC_ICR, ICR_RESERVED1 | TEST_VECTOR },
	{ "ICR reserved bit 17", WR, MSR_X2APIC_ICR, ICR_RESERVED2 | TEST_VECTOR },
	/* APIC_BASE: XOR masks on the current (x2APIC) value */
	{ "APIC_BASE x2APIC -> xAPIC", WR, MSR_APIC_BASE, APIC_BASE_EXTD },
	{ "APIC_BASE EXTD without EN (invalid)", WR, MSR_APIC_BASE, APIC_BASE_EN },
	{ "APIC_BASE reserved bit 9", WR, MSR_APIC_BASE, 1ull << 9 },
	{ "APIC_BASE reserved bit 63", WR, MSR_APIC_BASE, 1ull << 63 },
};

/* And these must not. */
static const struct msr_access must_work[] = {
	{ "read VERSION", RD, MSR_X2APIC_VERSION, 0 },
	{ "read PPR", RD, MSR_X2APIC_PPR, 0 },
	{ "read ISR0", RD, MSR_X2APIC_ISR0, 0 },
	{ "read ICR", RD, MSR_X2APIC_ICR, 0 },
	{ "read current count", RD, MSR_X2APIC_TIMER_CCR, 0 },
	{ "read TSC_DEADLINE", RD, MSR_TSC_DEADLINE, 0 },
};

/* ICR values the APIC must drop. `real` ones name a live vCPU: never under KVM. */
struct bad_icr {
	const char *what;
	uint64_t icr;
	bool real;
};

#define DEST(d) ((uint64_t)(d) << 32)

static uint32_t nr, nobody; /* nobody: a physical ID no vCPU has */
static bool kernel_apic;
static uint32_t received;
static uint32_t not_faulted;

static void test_irq(struct irq_frame *f)
{
	(void)f;
	WRITE_ONCE(received, received + 1);
	apic_eoi();
}

static bool access(const struct msr_access *a)
{
	uint64_t v;

	if (a->dir == RD)
		return rdmsr_safe(a->msr, &v);
	if (a->msr == MSR_APIC_BASE)
		return wrmsr_safe(a->msr, rdmsr(MSR_APIC_BASE) ^ a->val);
	return wrmsr_safe(a->msr, a->val);
}

/* Put back what a wrongly accepted write may have changed. */
static void repair(void)
{
	apic_enable();
	wrmsr(MSR_X2APIC_LVT_TIMER, APIC_LVT_MASKED);
	wrmsr(MSR_X2APIC_LVT_ERROR, APIC_LVT_MASKED);
	wrmsr(MSR_X2APIC_TIMER_DCR, 0);
}

static void msr_garbage(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(must_fault); i++) {
		if (!access(&must_fault[i]))
			continue;
		not_faulted++;
		printf("apic-garbage: %s did not #GP\n", must_fault[i].what);
		repair();
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(must_work); i++) {
		if (access(&must_work[i]))
			continue;
		printf("apic-garbage: %s took #GP\n", must_work[i].what);
		shutdown(GUEST_STATUS_BUG);
	}
}

static unsigned int icr_garbage(void)
{
	uint32_t live = nr > 1 ? 1 : 0;
	const struct bad_icr bad[] = {
		{ "INIT", DEST(live) | APIC_DM_INIT | APIC_INT_ASSERT, true },
		{ "INIT de-assert", DEST(live) | APIC_DM_INIT | (1u << 15), true },
		{ "SIPI", DEST(live) | APIC_DM_SIPI | 0x10, true },
		{ "SMI", DEST(live) | APIC_DM_SMI, true },
		{ "reserved mode 3", DEST(live) | APIC_DM_RESERVED | TEST_VECTOR, true },
		{ "ExtINT", DEST(live) | APIC_DM_EXTINT | TEST_VECTOR, true },
		{ "fixed vector 15", DEST(live) | APIC_DM_FIXED | 15, true },
		{ "lowest-priority vector 0", DEST(live) | APIC_DM_LOWEST, true },
		{ "NMI to self (shorthand)", (uint64_t)APIC_SH_SELF << APIC_SH_SHIFT | APIC_DM_NMI,
		  true },
		{ "lowest-priority to all incl. self",
		  (uint64_t)APIC_SH_ALL << APIC_SH_SHIFT | APIC_DM_LOWEST | TEST_VECTOR, true },
		{ "fixed to no such vCPU", DEST(nobody) | TEST_VECTOR, false },
		{ "NMI to no such vCPU", DEST(nobody) | APIC_DM_NMI, false },
		{ "logical, cluster 0x7fff", DEST(0x7fff0001) | APIC_DEST_LOGICAL | TEST_VECTOR,
		  false },
		{ "logical, empty member mask", DEST(0) | APIC_DEST_LOGICAL | TEST_VECTOR, false },
		{ "logical, member 15 of cluster 3",
		  DEST(0x00038000) | APIC_DEST_LOGICAL | TEST_VECTOR, false },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		uint64_t icr = bad[i].icr;

		/* KVM would really INIT, SMI or NMI that vCPU. */
		if (kernel_apic && bad[i].real) {
			if (icr >> APIC_SH_SHIFT & 3)
				icr &= ~(3ull << APIC_SH_SHIFT);
			icr = (icr & 0xffffffffull) | DEST(nobody);
		}
		apic_write_icr(icr);
	}
	return i;
}

/* A send with an illegal vector must set ESR bit 5 (SDM "Error Handling"). */
static uint32_t illegal_vector_esr(void)
{
	apic_esr();
	apic_write_icr(DEST(kernel_apic ? nobody : 0) | APIC_DM_FIXED | 3);
	return apic_esr();
}

static void wait_received(uint32_t n, const char *how)
{
	uint64_t end = rdtsc() + (uint64_t)WAIT_US * tsc_khz() / 1000;

	while (READ_ONCE(received) < n) {
		if (rdtsc() > end) {
			printf("apic-garbage: self IPI via %s never arrived\n", how);
			shutdown(GUEST_STATUS_BUG);
		}
		cpu_relax();
	}
}

/* The APIC still works after all that: one self IPI by every route. */
static void check_alive(void)
{
	uint32_t id = apic_id();

	irq_enable();
	apic_self_ipi(TEST_VECTOR);
	wait_received(1, "SELF_IPI");
	apic_send_ipi_shorthand(APIC_SH_SELF, TEST_VECTOR);
	wait_received(2, "shorthand self");
	apic_send_ipi(id, TEST_VECTOR);
	wait_received(3, "physical");
	apic_send_ipi_logical(apic_ldr_of(id), TEST_VECTOR);
	wait_received(4, "logical");
	irq_disable();
}

static void check_ldr(void)
{
	uint32_t id = apic_id(), ldr = (uint32_t)rdmsr(MSR_X2APIC_LDR);

	if (id != this_cpu_id() || ldr != apic_ldr_of(id)) {
		printf("apic-garbage: id %u ldr 0x%x, expected %u 0x%x\n", id, ldr, this_cpu_id(),
		       apic_ldr_of(this_cpu_id()));
		shutdown(GUEST_STATUS_BUG);
	}
}

void guest_main(unsigned int cpu)
{
	uint64_t gp0, gp;
	unsigned int bad;
	uint32_t esr;
	struct vmm_result r;

	if (cpu != 0)
		return;
	nr = nr_cpus();
	nobody = nr + 5;
	kernel_apic = boot_info()->flags & VMM_BOOT_F_IRQCHIP_KERNEL;
	irq_set_handler(TEST_VECTOR, test_irq);
	apic_enable();
	check_ldr();

	gp0 = fixup_gp_count();
	msr_garbage();
	gp = fixup_gp_count() - gp0;
	bad = icr_garbage() + 1; /* + the illegal vector send */
	esr = illegal_vector_esr();
	check_alive();

	printf("apic-garbage: %lu #GPs (%lu expected), %u bad ICR writes, ESR 0x%x, "
	       "%u accesses did not fault, %lu spurious\n",
	       gp, (uint64_t)ARRAY_SIZE(must_fault), bad, esr, not_faulted, apic_spurious_count());
	result_init(&r, "apic-garbage");
	result_add(&r, "gp", gp);
	result_add(&r, "gp_expected", ARRAY_SIZE(must_fault));
	result_add(&r, "bad_icr", bad);
	result_add(&r, "esr", esr);
	result_add(&r, "not_faulted", not_faulted);
	result_send(&r);

	/* KVM's LAPIC may be laxer; ours must follow the SDM exactly. */
	if (!kernel_apic && (not_faulted || !(esr & APIC_ESR_SEND_ILLEGAL)))
		shutdown(GUEST_STATUS_BUG);
	shutdown(GUEST_STATUS_OK);
}
