/* SPDX-License-Identifier: MIT */
/*
 * Every vCPU takes ONE shared ticket spinlock (spinlock.h) `iters` times
 * around a short critical section, with a little private work between
 * acquisitions. Every `ipi_every` acquisitions of a vCPU the holder, still
 * inside the critical section, runs a function on another vCPU (round robin
 * over the others) with smp_call_function_single(..., wait=true) and spins
 * until it has run: the lock-holder and IPI-receiver preemption pattern. Lock
 * waiters and the waiting holder both send a spin notification every `ple`
 * PAUSEs without progress (the PAUSE-loop exit stand-in).
 *
 * The critical section reads the shared counter, does `cs` iterations of
 * trivial work and writes the counter back plus one, so a lock that let two
 * holders in would lose increments.
 *
 * Args: iters=N acquisitions per vCPU (default 100), cs=N critical-section
 * work iterations (default 20), think=N private work iterations between
 * acquisitions (default 10), ipi_every=N (default 8, 0 = never), ple=N (read
 * by the spinlock, default 64). Runs on 1 vCPU too, as the uncontended
 * baseline: there is no other vCPU to call, so ipi_every is taken as 0.
 * Result "lock-hammer": vcpus, iters, ops (acquisitions, vcpus * iters),
 * cycles (guest TSC from the start barrier to the end barrier), counter
 * (must equal ops), ipis (call functions run, must equal vcpus * (iters /
 * ipi_every)), spin_notifies (all vCPUs), then cs, think, ipi_every (as
 * used) and ple. A wrong counter or ipis count fails the VM with
 * GUEST_STATUS_BUG.
 */
#include "guest.h"

#include "apic.h"
#include "call.h"
#include "spinlock.h"

struct hammer_cpu {
	uint64_t ipis_run; /* call functions this vCPU ran for holders */
	uint64_t spin_notifies;
	unsigned int next; /* last vCPU this one called */
} __attribute__((aligned(64)));

static struct hammer_cpu cpus[VMM_MAX_VCPUS];
static struct spinlock lock = SPINLOCK_INIT;
static uint64_t counter; /* written only under `lock`, non-atomically */
static struct barrier all_cpus;

/* `n` iterations the compiler must keep: about 3 instructions each. */
static void busy(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		asm volatile("" : : : "memory");
}

/* Runs on the receiver in interrupt context. */
static void ipi_fn(void *arg)
{
	(void)arg;
	cpus[this_cpu_id()].ipis_run++;
}

static unsigned int next_other(struct hammer_cpu *c, unsigned int self, unsigned int nr)
{
	do
		c->next = (c->next + 1) % nr;
	while (c->next == self);
	return c->next;
}

static void hammer(unsigned int self, uint64_t iters, uint64_t cs, uint64_t think,
		   uint64_t ipi_every)
{
	struct hammer_cpu *c = &cpus[self];
	unsigned int nr = nr_cpus();
	uint64_t v;

	c->next = self;
	for (uint64_t i = 1; i <= iters; i++) {
		spin_lock(&lock);
		v = READ_ONCE(counter);
		busy(cs);
		if (ipi_every && i % ipi_every == 0)
			smp_call_function_single(next_other(c, self, nr), ipi_fn, NULL, true);
		WRITE_ONCE(counter, v + 1);
		spin_unlock(&lock);
		busy(think);
	}
}

static void report(uint64_t iters, uint64_t cs, uint64_t think, uint64_t ipi_every, uint64_t cycles)
{
	unsigned int nr = nr_cpus();
	uint64_t ops = (uint64_t)nr * iters, ipis = 0, spins = 0, expected_ipis;
	struct vmm_result r;

	for (unsigned int i = 0; i < nr; i++) {
		ipis += cpus[i].ipis_run;
		spins += cpus[i].spin_notifies;
	}
	expected_ipis = ipi_every ? (uint64_t)nr * (iters / ipi_every) : 0;
	printf("lock-hammer: %u vCPUs x %lu iters (cs %lu think %lu ipi_every %lu ple %u): "
	       "counter %lu/%lu ipis %lu/%lu spin_notifies %lu, %lu cycles (%lu us)\n",
	       nr, iters, cs, think, ipi_every, spin_ple_window(), counter, ops, ipis,
	       expected_ipis, spins, cycles, tsc_to_ns(cycles) / 1000);
	result_init(&r, "lock-hammer");
	result_add(&r, "vcpus", nr);
	result_add(&r, "iters", iters);
	result_add(&r, "ops", ops);
	result_add(&r, "cycles", cycles);
	result_add(&r, "counter", counter);
	result_add(&r, "ipis", ipis);
	result_add(&r, "spin_notifies", spins);
	result_add(&r, "cs", cs);
	result_add(&r, "think", think);
	result_add(&r, "ipi_every", ipi_every);
	result_add(&r, "ple", spin_ple_window());
	result_send(&r);
	if (counter != ops) {
		printf("lock-hammer: counter %lu, expected %lu: the lock let two holders in\n",
		       counter, ops);
		shutdown(GUEST_STATUS_BUG);
	}
	if (ipis != expected_ipis) {
		printf("lock-hammer: %lu call functions ran, expected %lu\n", ipis, expected_ipis);
		shutdown(GUEST_STATUS_BUG);
	}
}

void guest_main(unsigned int cpu)
{
	uint64_t iters = arg_u64("iters", 100);
	uint64_t cs = arg_u64("cs", 20);
	uint64_t think = arg_u64("think", 10);
	uint64_t ipi_every = nr_cpus() > 1 ? arg_u64("ipi_every", 8) : 0;
	uint64_t t0 = 0, cycles;

	if (iters == 0) {
		if (cpu != 0)
			return; /* let vCPU 0's message out before the shutdown */
		printf("lock-hammer: needs iters >= 1\n");
		shutdown(GUEST_STATUS_BAD_ARGS);
	}
	if (cpu == 0)
		call_init();
	spin_configure();
	apic_enable();
	barrier_wait(&all_cpus); /* handler installed, every APIC accepting */
	irq_enable();		 /* holders call with IF=1, so everyone must serve */
	if (cpu == 0)
		t0 = rdtsc();

	hammer(cpu, iters, cs, think, ipi_every);
	cpus[cpu].spin_notifies = spin_notify_count();
	barrier_wait(&all_cpus); /* IF=1: still serving the holders' calls */
	if (cpu != 0)
		apic_park(); /* nothing may land while vCPU 0 sums the counts */
	cycles = rdtsc() - t0;
	report(iters, cs, think, ipi_every, cycles);
	shutdown(GUEST_STATUS_OK);
}
