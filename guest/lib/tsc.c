/* SPDX-License-Identifier: MIT */
/* Time from the TSC, at the frequency the VMM reports in the boot info. */
#include "internal.h"

uint32_t tsc_khz(void)
{
	return boot_info()->tsc_khz;
}

/* Split the division so cycles * 10^6 cannot overflow (no 128-bit libgcc). */
uint64_t tsc_to_ns(uint64_t cycles)
{
	uint64_t khz = tsc_khz();

	if (!khz)
		return 0;
	return cycles / khz * 1000000 + cycles % khz * 1000000 / khz;
}

void delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_khz() / 1000;

	while (rdtsc() < end)
		cpu_relax();
}
