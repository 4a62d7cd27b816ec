/* SPDX-License-Identifier: MIT */
/*
 * The TLB-shootdown pattern of `ebizzy -M` (threads that keep mapping and
 * unmapping memory): every vCPU runs rounds of a burst of private work and
 * then a "shootdown", smp_call_function_many() to all the other vCPUs with
 * wait=true, whose function does a little work (the flush) and counts. The
 * sender spin-waits for every target and sends a spin notification every
 * `ple` PAUSEs (the PAUSE-loop exit stand-in), so a descheduled target
 * stalls every vCPU that shoots it down: IPI-receiver preemption.
 *
 * Args: rounds=N shootdowns per vCPU (default 100), work=N private work
 * iterations per round (default 200), flush=N work iterations in the called
 * function (default 10), ple=N (read by call.c's spin-wait, default 64),
 * sleep=N microseconds each vCPU then blocks (HLT until its TSC-deadline
 * timer; default 0 = never), as ebizzy's threads block in the kernel: a
 * shootdown then wakes its halted targets, which are ready but were never
 * preempted (the case of seed 1's ready patch).
 * Needs at least 2 vCPUs.
 * Result "ebizzy-like": vcpus, rounds, ops (shootdown rounds completed, must
 * be vcpus * rounds), cycles (guest TSC from the start barrier to the end
 * barrier), calls (call functions run, must be vcpus * (vcpus - 1) *
 * rounds), spin_notifies (all vCPUs), then work, flush, ple and sleep. A wrong ops
 * or calls count fails the VM with GUEST_STATUS_BUG.
 */
#include "guest.h"

#include "apic.h"
#include "call.h"
#include "spinlock.h"

struct ebizzy_cpu {
	uint64_t rounds_done; /* shootdowns this vCPU completed */
	uint64_t calls_run;   /* flush functions this vCPU ran for others */
	uint64_t spin_notifies;
} __attribute__((aligned(64)));

static struct ebizzy_cpu cpus[VMM_MAX_VCPUS];
static volatile bool timer_fired[VMM_MAX_VCPUS];
static uint64_t sleep_arg;
static struct barrier all_cpus;
static uint64_t flush_work;

/* `n` iterations the compiler must keep: about 3 instructions each. */
static void busy(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		asm volatile("" : : : "memory");
}

/* Runs on each target in interrupt context. */
static void flush_fn(void *arg)
{
	(void)arg;
	busy(READ_ONCE(flush_work));
	cpus[this_cpu_id()].calls_run++;
}

#define SLEEP_VECTOR 0x40

static void sleep_irq(struct irq_frame *f)
{
	(void)f;
	timer_fired[this_cpu_id()] = true;
	apic_eoi();
}

/*
 * Block for us microseconds: halted, but still serving shootdowns that wake
 * us. The flag is checked with IF=0 and `sti; hlt` follows: STI's shadow
 * covers HLT. Checked with IF=1, a timer interrupt taken between the check
 * and the HLT would leave the vCPU halted with nothing left to wake it (seen
 * as a VM hung in its final barrier when exits fell into that window).
 */
static void sleep_us(unsigned int self, uint64_t us)
{
	timer_fired[self] = false;
	apic_tsc_deadline(SLEEP_VECTOR, rdtsc() + us * tsc_khz() / 1000);
	for (;;) {
		irq_disable();
		if (timer_fired[self])
			break;
		asm volatile("sti; hlt" : : : "memory");
	}
	irq_enable();
}

static void ebizzy(unsigned int self, uint64_t rounds, uint64_t work, uint64_t sleep)
{
	unsigned int nr = nr_cpus();
	uint64_t all = nr < 64 ? (1ull << nr) - 1 : ~0ull;

	for (uint64_t i = 0; i < rounds; i++) {
		busy(work);
		smp_call_function_many(all, flush_fn, NULL, true);
		cpus[self].rounds_done++;
		if (sleep)
			sleep_us(self, sleep);
	}
}

static void report(uint64_t rounds, uint64_t work, uint64_t cycles)
{
	unsigned int nr = nr_cpus();
	uint64_t ops = 0, calls = 0, spins = 0;
	uint64_t expected_ops = (uint64_t)nr * rounds;
	uint64_t expected_calls = expected_ops * (nr - 1);
	struct vmm_result r;

	for (unsigned int i = 0; i < nr; i++) {
		ops += cpus[i].rounds_done;
		calls += cpus[i].calls_run;
		spins += cpus[i].spin_notifies;
	}
	printf("ebizzy-like: %u vCPUs x %lu rounds (work %lu flush %lu ple %u): ops %lu/%lu "
	       "calls %lu/%lu spin_notifies %lu, %lu cycles (%lu us)\n",
	       nr, rounds, work, flush_work, spin_ple_window(), ops, expected_ops, calls,
	       expected_calls, spins, cycles, tsc_to_ns(cycles) / 1000);
	result_init(&r, "ebizzy-like");
	result_add(&r, "vcpus", nr);
	result_add(&r, "rounds", rounds);
	result_add(&r, "ops", ops);
	result_add(&r, "cycles", cycles);
	result_add(&r, "calls", calls);
	result_add(&r, "spin_notifies", spins);
	result_add(&r, "work", work);
	result_add(&r, "flush", flush_work);
	result_add(&r, "ple", spin_ple_window());
	result_add(&r, "sleep", READ_ONCE(sleep_arg));
	result_send(&r);
	if (ops != expected_ops || calls != expected_calls) {
		printf("ebizzy-like: %lu rounds and %lu call functions, expected %lu and %lu\n",
		       ops, calls, expected_ops, expected_calls);
		shutdown(GUEST_STATUS_BUG);
	}
}

void guest_main(unsigned int cpu)
{
	uint64_t rounds = arg_u64("rounds", 100);
	uint64_t work = arg_u64("work", 200);
	uint64_t sleep = arg_u64("sleep", 0);
	uint64_t t0 = 0, cycles;

	WRITE_ONCE(sleep_arg, sleep);
	if (nr_cpus() < 2) {
		printf("ebizzy-like: needs at least 2 vCPUs\n");
		shutdown(GUEST_STATUS_BAD_ARGS);
	}
	if (cpu == 0) {
		WRITE_ONCE(flush_work, arg_u64("flush", 10));
		irq_set_handler(SLEEP_VECTOR, sleep_irq);
		call_init();
	}
	spin_configure();
	apic_enable();
	barrier_wait(&all_cpus); /* handler installed, every APIC accepting */
	irq_enable();		 /* senders wait with IF=1, so everyone must serve */
	if (cpu == 0)
		t0 = rdtsc();

	ebizzy(cpu, rounds, work, sleep);
	cpus[cpu].spin_notifies = spin_notify_count();
	barrier_wait(&all_cpus); /* IF=1: still serving the others' shootdowns */
	if (cpu != 0)
		apic_park(); /* nothing may land while vCPU 0 sums the counts */
	cycles = rdtsc() - t0;
	report(rounds, work, cycles);
	shutdown(GUEST_STATUS_OK);
}
