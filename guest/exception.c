/* SPDX-License-Identifier: MIT */
/*
 * vCPU 0 raises a CPU exception the library reports, ending the VM with
 * VMM_STATUS_EXCEPTION(vector). Args: vector=N picks it: 0 (#DE, default),
 * 6 (#UD), 13 (#GP), 14 (#PF), 31 (`int $31`: this KVM cannot emulate it, nor
 * int3, so the VM ends in an emulation failure). report=N shuts down as if
 * vector N had been taken, for the host's naming of vectors no guest can raise
 * here (reserved ones, interrupts).
 */
#include "guest.h"

/* A real `div`: gcc turns a C division by a volatile zero into a compare. */
static void divide_by_zero(void)
{
	uint32_t lo = 1, hi = 0, zero = 0;

	asm volatile("divl %2" : "+a"(lo), "+d"(hi) : "r"(zero));
}

/* The first byte past the identity map has no page table entry. */
static void page_fault(void)
{
	volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)VMM_IDENTITY_MAP;

	(void)*p;
}

/* A non-canonical address faults with #GP, not #PF. */
static void general_protection(void)
{
	volatile uint8_t *p = (volatile uint8_t *)0x8000000000000000ull;

	(void)*p;
}

void guest_main(unsigned int cpu)
{
	uint64_t vector = arg_u64("vector", 0), report = arg_u64("report", 256);

	if (cpu != 0)
		return;
	if (report < 256)
		shutdown(VMM_STATUS_EXCEPTION(report));

	printf("exception: vCPU 0 raises vector %lu\n", vector);
	switch (vector) {
	case 0:
		divide_by_zero();
		break;
	case 6:
		asm volatile("ud2");
		break;
	case 13:
		general_protection();
		break;
	case 14:
		page_fault();
		break;
	case 31:
		asm volatile("int $31");
		break;
	default:
		printf("exception: vector=%lu not supported (0, 6, 13, 14, 31)\n", vector);
		shutdown(GUEST_STATUS_BAD_ARGS);
	}
	printf("exception: vector %lu did not fault\n", vector);
	shutdown(GUEST_STATUS_BUG);
}
