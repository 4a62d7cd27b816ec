/* SPDX-License-Identifier: MIT */
/*
 * Every vCPU sends fixed IPIs to pseudo-random other vCPUs and, every
 * `call_every` iterations, waits on an smp_call_function_many() to all the
 * others. The guest counts every IPI it sends and every handler run so the
 * totals can be compared with the VMM's exactly.
 *
 * Args: rounds=N (default 200), call_every=N (default 20, 0 = no calls).
 * Result "ipi-storm": vcpus, rounds, sent (ICR writes times their targets:
 * vector 0x41 sends + call doorbells), received (0x41 and 0xFB handler
 * runs), calls (call functions run, checked against the expected count),
 * isr_stuck (vCPUs whose ISR is not empty at the end: lost interrupts; must be 0).
 */
#include "guest.h"

#include "apic.h"
#include "call.h"

#define STORM_VECTOR  0x41
#define SETTLE_PAUSES 2000

struct storm_cpu {
	uint64_t sent; /* STORM_VECTOR IPIs sent */
	uint64_t received;
	uint64_t calls_done;
	uint64_t rng;
	int stuck_vector; /* highest ISR vector outside any handler, -1 if none */
} __attribute__((aligned(64)));

static struct storm_cpu cpus[VMM_MAX_VCPUS];
static struct barrier all_cpus;

static void storm_irq(struct irq_frame *f)
{
	(void)f;
	cpus[this_cpu_id()].received++;
	apic_eoi();
}

static void count_call(void *arg)
{
	(void)arg;
	cpus[this_cpu_id()].calls_done++;
}

/* A 64-bit LCG (Knuth's MMIX constants); the high bits are the good ones. */
static unsigned int random_other(struct storm_cpu *c, unsigned int self, unsigned int nr)
{
	unsigned int t;

	c->rng = c->rng * 6364136223846793005ull + 1442695040888963407ull;
	t = (unsigned int)((c->rng >> 33) % (nr - 1));
	return t >= self ? t + 1 : t;
}

static void storm(unsigned int self, uint64_t rounds, uint64_t call_every)
{
	struct storm_cpu *c = &cpus[self];
	unsigned int nr = nr_cpus();
	uint64_t all = nr < 64 ? (1ull << nr) - 1 : ~0ull;

	c->rng = self + 1;
	for (uint64_t i = 1; i <= rounds; i++) {
		apic_send_ipi(random_other(c, self, nr), STORM_VECTOR);
		c->sent++;
		if (call_every && i % call_every == 0)
			smp_call_function_many(all, count_call, NULL, true);
	}
}

/*
 * Outside every handler the ISR must be empty: a vector left in service was
 * delivered by the APIC but never reached the guest (or was never EOId).
 */
static int isr_highest(void)
{
	uint32_t w;

	for (int i = 7; i >= 0; i--) {
		w = (uint32_t)rdmsr(MSR_X2APIC_ISR0 + i);
		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

/* Let IPIs still in flight land (IF=1), then stop taking any more. */
static void settle(unsigned int self)
{
	barrier_wait(&all_cpus);
	for (unsigned int i = 0; i < SETTLE_PAUSES; i++)
		cpu_relax();
	irq_disable();
	cpus[self].stuck_vector = isr_highest();
	barrier_wait(&all_cpus);
}

static void report(uint64_t rounds, uint64_t call_every)
{
	unsigned int nr = nr_cpus();
	uint64_t sent = 0, received = 0, calls = 0, expected;
	unsigned int stuck = 0;
	struct vmm_result r;

	for (unsigned int i = 0; i < nr; i++) {
		if (cpus[i].stuck_vector >= 0) {
			printf("ipi-storm: cpu%u: vector 0x%x still in service: an interrupt was "
			       "lost\n",
			       i, cpus[i].stuck_vector);
			stuck++;
		}
		sent += cpus[i].sent + call_stats(i)->ipis_sent;
		received += cpus[i].received + call_stats(i)->irqs;
		calls += cpus[i].calls_done;
	}
	expected = call_every ? (uint64_t)nr * (rounds / call_every) * (nr - 1) : 0;
	printf("ipi-storm: %u vCPUs x %lu rounds: sent %lu received %lu calls %lu/%lu\n", nr,
	       rounds, sent, received, calls, expected);
	result_init(&r, "ipi-storm");
	result_add(&r, "vcpus", nr);
	result_add(&r, "rounds", rounds);
	result_add(&r, "sent", sent);
	result_add(&r, "received", received);
	result_add(&r, "calls", calls);
	result_add(&r, "isr_stuck", stuck);
	result_send(&r);
	if (calls != expected) {
		printf("ipi-storm: %lu call functions ran, expected %lu\n", calls, expected);
		shutdown(GUEST_STATUS_BUG);
	}
	if (stuck)
		shutdown(GUEST_STATUS_BUG);
}

void guest_main(unsigned int cpu)
{
	uint64_t rounds = arg_u64("rounds", 200);
	uint64_t call_every = arg_u64("call_every", 20);

	if (nr_cpus() < 2) {
		printf("ipi-storm: needs at least 2 vCPUs\n");
		shutdown(GUEST_STATUS_BAD_ARGS);
	}
	if (cpu == 0) {
		irq_set_handler(STORM_VECTOR, storm_irq);
		call_init();
	}
	apic_enable();
	barrier_wait(&all_cpus); /* handlers installed, every APIC accepting */
	irq_enable();

	storm(cpu, rounds, call_every);
	settle(cpu);
	if (cpu != 0)
		apic_park(); /* nothing may land while vCPU 0 sums the counts */
	report(rounds, call_every);
	shutdown(GUEST_STATUS_OK);
}
