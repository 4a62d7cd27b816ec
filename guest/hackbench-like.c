/* SPDX-License-Identifier: MIT */
/*
 * hackbench's pattern, the workload of seed 5 (the single-target IPI
 * fastpath): vCPUs in pairs, a sender and a receiver joined by a ring of
 * messages. A receiver that finds its ring empty halts, and the sender's
 * next message wakes it with one single-target fixed IPI, as a guest's
 * futex wake becomes a reschedule IPI. Many IPIs, most to a halted vCPU.
 *
 * The sleep/wake handshake cannot lose a wakeup: the receiver announces it
 * will sleep (interrupts off), then looks at the ring again, and only then
 * runs `sti; hlt`; the sender publishes the message, then takes the
 * announcement. Both sides use sequentially consistent accesses, so one of
 * them sees the other; an IPI that comes between the look and the hlt waits
 * in the STI shadow and ends the hlt.
 *
 * Args: msgs=N messages per pair (default 500, about a second here), ring=N slots (default 1,
 * 1..64). vCPUs: an even number, at least 2.
 * Result "hackbench-like": vcpus, pairs, msgs, ops (messages received, in
 * order, checked = pairs * msgs), cycles (guest TSC from the start barrier
 * to the end one), ipis (wake IPIs the senders sent), sleeps (receiver
 * halts), wake_samples, wake_mean, wake_max (cycles from the TSC read just
 * before a wake IPI to the woken receiver's first instruction after its HLT,
 * over the halts that IPI ended).
 */
#include "guest.h"

#include "apic.h"

#define WAKE_VECTOR 0x42
#define MAX_RING    64

struct pair {
	uint64_t slot[MAX_RING];
	uint64_t head; /* the receiver's */
	uint64_t tail; /* the sender's */
	uint32_t sleeping;
	uint64_t ipi_tsc; /* the sender's TSC just before its wake IPI, 0: taken */
	uint64_t ipis, sleeps, received, bad;
	uint64_t lat_sum, lat_max, lat_n; /* the receiver's: wake IPI sent -> its HLT over */
} __attribute__((aligned(64)));

static struct pair pairs[VMM_MAX_VCPUS / 2];
static struct barrier all_cpus;
static uint64_t nmsgs, ring;

static void wake_irq(struct irq_frame *f)
{
	(void)f;
	apic_eoi();
}

static void send(struct pair *p, unsigned int receiver)
{
	for (uint64_t m = 1; m <= nmsgs; m++) {
		while (m - 1 - __atomic_load_n(&p->head, __ATOMIC_SEQ_CST) >= ring)
			cpu_relax(); /* full: the receiver is behind */
		p->slot[(m - 1) % ring] = m;
		__atomic_store_n(&p->tail, m, __ATOMIC_SEQ_CST);
		if (__atomic_exchange_n(&p->sleeping, 0, __ATOMIC_SEQ_CST)) {
			__atomic_store_n(&p->ipi_tsc, rdtsc(), __ATOMIC_SEQ_CST);
			apic_send_ipi(receiver, WAKE_VECTOR);
			p->ipis++;
		}
	}
}

/* After a HLT: if the sender's wake IPI ended it, how long it took (guest TSC = host TSC). */
static void note_wake(struct pair *p)
{
	uint64_t now = rdtsc(), sent = __atomic_exchange_n(&p->ipi_tsc, 0, __ATOMIC_SEQ_CST);

	if (!sent || now < sent)
		return;
	p->lat_sum += now - sent;
	p->lat_max = now - sent > p->lat_max ? now - sent : p->lat_max;
	p->lat_n++;
}

static void receive(struct pair *p)
{
	uint64_t expect = 1;

	while (expect <= nmsgs) {
		irq_disable();
		if (__atomic_load_n(&p->tail, __ATOMIC_SEQ_CST) < expect) {
			__atomic_store_n(&p->sleeping, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&p->tail, __ATOMIC_SEQ_CST) < expect) {
				p->sleeps++;
				asm volatile("sti; hlt" : : : "memory");
				note_wake(p);
			}
			__atomic_store_n(&p->sleeping, 0, __ATOMIC_SEQ_CST);
		}
		irq_enable();
		while (expect <= __atomic_load_n(&p->tail, __ATOMIC_SEQ_CST)) {
			if (p->slot[(expect - 1) % ring] != expect)
				p->bad++;
			p->received++;
			__atomic_store_n(&p->head, expect, __ATOMIC_SEQ_CST);
			expect++;
		}
	}
}

void guest_main(unsigned int cpu)
{
	unsigned int nr = nr_cpus(), np = nr / 2;
	uint64_t t0, ops = 0, ipis = 0, sleeps = 0, bad = 0, lat_sum = 0, lat_max = 0, lat_n = 0;
	struct vmm_result r;

	nmsgs = arg_u64("msgs", 500);
	ring = arg_u64("ring", 1);
	if (nr < 2 || nr % 2 || !nmsgs || !ring || ring > MAX_RING) {
		printf("hackbench-like: needs an even number of vCPUs and 1 <= ring <= %u\n",
		       MAX_RING);
		shutdown(GUEST_STATUS_BAD_ARGS);
	}
	if (cpu == 0)
		irq_set_handler(WAKE_VECTOR, wake_irq);
	apic_enable();
	barrier_wait(&all_cpus);
	irq_enable();
	t0 = rdtsc();
	if (cpu % 2 == 0)
		send(&pairs[cpu / 2], cpu + 1);
	else
		receive(&pairs[cpu / 2]);
	barrier_wait(&all_cpus);
	if (cpu != 0)
		apic_park();
	t0 = rdtsc() - t0;
	for (unsigned int i = 0; i < np; i++) {
		ops += pairs[i].received;
		ipis += pairs[i].ipis;
		sleeps += pairs[i].sleeps;
		bad += pairs[i].bad;
		lat_sum += pairs[i].lat_sum;
		lat_n += pairs[i].lat_n;
		lat_max = pairs[i].lat_max > lat_max ? pairs[i].lat_max : lat_max;
	}
	printf("hackbench-like: %u pairs x %lu messages: received %lu, %lu wake IPIs, %lu sleeps\n",
	       np, nmsgs, ops, ipis, sleeps);
	result_init(&r, "hackbench-like");
	result_add(&r, "vcpus", nr);
	result_add(&r, "pairs", np);
	result_add(&r, "msgs", nmsgs);
	result_add(&r, "ops", ops);
	result_add(&r, "cycles", t0);
	result_add(&r, "ipis", ipis);
	result_add(&r, "sleeps", sleeps);
	result_add(&r, "wake_samples", lat_n);
	result_add(&r, "wake_mean", lat_n ? lat_sum / lat_n : 0);
	result_add(&r, "wake_max", lat_max);
	result_send(&r);
	shutdown(ops == np * nmsgs && !bad ? GUEST_STATUS_OK : GUEST_STATUS_BUG);
}
