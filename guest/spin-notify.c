/* SPDX-License-Identifier: MIT */
/*
 * Each vCPU sends count= (default 100) spin notifications; vCPU 0 reports
 * the VM-wide total for the test to compare with the VMM's exit count.
 */
#include "guest.h"

static struct barrier all_cpus;
static uint64_t total;

void guest_main(unsigned int cpu)
{
	uint64_t count = arg_u64("count", 100);
	struct vmm_result r;

	for (uint64_t i = 0; i < count; i++)
		spin_notify();
	atomic_add(&total, count);
	barrier_wait(&all_cpus);
	if (cpu != 0)
		return;

	printf("spin-notify: %u vCPUs sent %lu notifications\n", nr_cpus(), total);
	result_init(&r, "spin-notify");
	result_add(&r, "vcpus", nr_cpus());
	result_add(&r, "count", count);
	result_add(&r, "total", total);
	result_send(&r);
	shutdown(GUEST_STATUS_OK);
}
