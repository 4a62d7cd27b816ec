/* SPDX-License-Identifier: MIT */
/*
 * NMIs faster than the target can take them. vCPU 0 sends `count` NMIs by
 * ICR to vCPU 1, whose handler counts each one and stays `work` loop
 * iterations in the handler, with NMIs blocked. A CPU keeps at most one NMI
 * waiting while it is in its handler (and one waiting when it is not yet in
 * it): the rest are lost, so the target counts fewer than were sent. The VMM
 * must count them the same way: delivered = what the guest's handler ran,
 * sent = delivered + coalesced + pending.
 *
 * Args: count=N NMIs (default 2000), work=N handler loop iterations (default
 * 20; 0 = return at once).
 * Result "nmi-storm": sent (ICR writes), received (handler runs on vCPU 1,
 * after every NMI still on its way has landed).
 */
#include "guest.h"

#include "apic.h"

#define FLUSH_EXITS 4

static volatile uint64_t received;
static uint64_t work;
static uint32_t sender_done, target_done;
static struct barrier all_cpus;

static void count_nmi(struct irq_frame *f)
{
	(void)f;
	received++;
	for (uint64_t i = 0; i < work; i++)
		cpu_relax();
}

/*
 * An NMI the sender posted last may still sit in the VMM, handed to the
 * vCPU only at its next exit, and one may be latched until our IRET. A few
 * exits (each an x2APIC ID read) and handler returns let every one land.
 */
static void flush(void)
{
	for (unsigned int i = 0; i < FLUSH_EXITS; i++)
		(void)rdmsr(MSR_X2APIC_ID);
}

void guest_main(unsigned int cpu)
{
	uint64_t count = arg_u64("count", 2000);
	struct vmm_result r;

	work = arg_u64("work", 20);
	if (nr_cpus() < 2) {
		printf("nmi-storm: needs at least 2 vCPUs\n");
		shutdown(GUEST_STATUS_BAD_ARGS);
	}
	if (cpu == 0)
		nmi_set_handler(count_nmi);
	apic_enable();
	barrier_wait(&all_cpus);
	if (cpu == 1) {
		while (!load_acquire(&sender_done))
			cpu_relax();
		flush();
		store_release(&target_done, 1);
	}
	if (cpu != 0)
		apic_park();
	for (uint64_t i = 0; i < count; i++)
		apic_send_nmi(1);
	store_release(&sender_done, 1);
	while (!load_acquire(&target_done))
		cpu_relax();
	printf("nmi-storm: sent %lu NMIs, vCPU 1 took %lu\n", count, received);
	result_init(&r, "nmi-storm");
	result_add(&r, "sent", count);
	result_add(&r, "received", received);
	result_send(&r);
	shutdown(received && received <= count ? GUEST_STATUS_OK : GUEST_STATUS_BUG);
}
