/* SPDX-License-Identifier: MIT */
/*
 * vCPU 0 loads an empty IDT and executes ud2: #UD cannot be delivered, nor
 * the #GP and #DF that follow, so the CPU triple-faults and the VMM sees
 * KVM_EXIT_SHUTDOWN.
 */
#include "guest.h"

void guest_main(unsigned int cpu)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = { 0, 0 };

	if (cpu != 0)
		return;

	printf("triple-fault: vCPU 0 loads an empty IDT and executes ud2\n");
	asm volatile("lidt %0; ud2" : : "m"(empty) : "memory");
}
