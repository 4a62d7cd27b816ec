/* SPDX-License-Identifier: MIT */
/*
 * Smoke test: every vCPU says hello, all meet at a barrier, vCPU 0 reports.
 * Args: lines=N (default 0): vCPU 0 first prints N lines of 200 characters,
 * a console flood (the watchdog test blocks it on a full stdout pipe).
 */
#include "guest.h"

static struct barrier all_cpus;

void guest_main(unsigned int cpu)
{
	struct vmm_result r;
	uint64_t t0, waited;

	printf("hello from vCPU %u of %u\n", cpu, nr_cpus());
	for (uint64_t i = 0, n = cpu ? 0 : arg_u64("lines", 0); i < n; i++)
		printf("line %4lu %0190u\n", i, 0u);

	t0 = rdtsc();
	barrier_wait(&all_cpus);
	waited = rdtsc() - t0;
	if (cpu != 0)
		return;

	printf("hello: all %u vCPUs met at the barrier after %lu cycles\n", nr_cpus(), waited);
	result_init(&r, "hello");
	result_add(&r, "vcpus", nr_cpus());
	result_add(&r, "barrier_cycles", waited);
	result_send(&r);
	shutdown(GUEST_STATUS_OK);
}
