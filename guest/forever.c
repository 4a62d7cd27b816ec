/* SPDX-License-Identifier: MIT */
/* Every vCPU spins forever and never shuts down: for the VMM's timeout test. */
#include "guest.h"

void guest_main(unsigned int cpu)
{
	(void)cpu;
	for (;;)
		cpu_relax();
}
