/* SPDX-License-Identifier: MIT */
/*
 * vCPUs 0 and 1 bounce a fixed IPI `rounds` times; vCPU 0 times each round
 * trip with the TSC. Other vCPUs idle.
 *
 * Args: rounds=N (default 200, at most MAX_ROUNDS); wait=halt|spin (default
 * halt): how each side waits for the next IPI, `sti; hlt` or spinning with
 * IF=1 on the count the handler bumps. The receiver replies from its main
 * loop, so the wait mode is part of every round trip.
 * Result "ipi-pingpong": rounds, min, p50, p99, max (TSC cycles), halt.
 */
#include "guest.h"

#include "apic.h"

#define PING_VECTOR 0x40
#define MAX_ROUNDS  100000

static struct barrier pair = BARRIER_INIT(2);
static uint64_t samples[MAX_ROUNDS];
static uint32_t received[2]; /* IPIs each of vCPUs 0 and 1 took */

static void ping_irq(struct irq_frame *f)
{
	(void)f;
	WRITE_ONCE(received[this_cpu_id()], received[this_cpu_id()] + 1);
	apic_eoi();
}

/* Checking with IF=0 and then `sti; hlt` cannot miss the wakeup: STI's shadow covers HLT. */
static void wait_count(uint32_t *count, uint32_t target, bool halt)
{
	if (!halt) {
		while (READ_ONCE(*count) < target)
			cpu_relax();
		return;
	}
	for (;;) {
		irq_disable();
		if (READ_ONCE(*count) >= target)
			break;
		asm volatile("sti; hlt" : : : "memory");
	}
	irq_enable();
}

/* arg_u64 takes numbers only: find the wait= word ourselves, at a token start. */
static bool parse_halt(void)
{
	const char *a = boot_info()->args;

	for (const char *p = a; *p; p++) {
		if (p != a && p[-1] != ',' && p[-1] != ' ')
			continue;
		if (!strncmp(p, "wait=spin", 9))
			return false;
		if (!strncmp(p, "wait=halt", 9))
			return true;
	}
	return true;
}

static void shell_sort(uint64_t *v, uint64_t n)
{
	static const uint64_t gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
	uint64_t gap, i, j, x;

	for (unsigned int g = 0; g < ARRAY_SIZE(gaps); g++) {
		gap = gaps[g];
		for (i = gap; i < n; i++) {
			x = v[i];
			for (j = i; j >= gap && v[j - gap] > x; j -= gap)
				v[j] = v[j - gap];
			v[j] = x;
		}
	}
}

static void pong_loop(uint64_t rounds, bool halt)
{
	for (uint64_t i = 0; i < rounds; i++) {
		wait_count(&received[1], i + 1, halt);
		apic_send_ipi(0, PING_VECTOR);
	}
}

static void ping_loop(uint64_t rounds, bool halt)
{
	uint64_t t0;

	for (uint64_t i = 0; i < rounds; i++) {
		t0 = rdtsc();
		apic_send_ipi(1, PING_VECTOR);
		wait_count(&received[0], i + 1, halt);
		samples[i] = rdtsc() - t0;
	}
}

static void report(uint64_t rounds, bool halt)
{
	struct vmm_result r;
	uint64_t p50, p99;

	shell_sort(samples, rounds);
	p50 = samples[(rounds - 1) * 50 / 100];
	p99 = samples[(rounds - 1) * 99 / 100];
	printf("ipi-pingpong: %lu rounds (%s): min %lu p50 %lu p99 %lu max %lu cycles, "
	       "p50 %lu ns\n",
	       rounds, halt ? "halt" : "spin", samples[0], p50, p99, samples[rounds - 1],
	       tsc_to_ns(p50));
	result_init(&r, "ipi-pingpong");
	result_add(&r, "rounds", rounds);
	result_add(&r, "min", samples[0]);
	result_add(&r, "p50", p50);
	result_add(&r, "p99", p99);
	result_add(&r, "max", samples[rounds - 1]);
	result_add(&r, "halt", halt);
	result_send(&r);
}

void guest_main(unsigned int cpu)
{
	uint64_t rounds = arg_u64("rounds", 200);
	bool halt = parse_halt();

	if (cpu > 1)
		return;
	if (nr_cpus() < 2 || rounds == 0 || rounds > MAX_ROUNDS) {
		if (cpu == 0)
			printf("ipi-pingpong: need vcpus >= 2 and 1 <= rounds <= %u\n", MAX_ROUNDS);
		shutdown(GUEST_STATUS_BAD_ARGS);
	}

	irq_set_handler(PING_VECTOR, ping_irq);
	apic_enable();
	barrier_wait(&pair);
	irq_enable();

	if (cpu == 1) {
		pong_loop(rounds, halt);
		return;
	}
	ping_loop(rounds, halt);
	if (READ_ONCE(received[0]) != rounds) {
		printf("ipi-pingpong: %u pongs for %lu pings\n", READ_ONCE(received[0]), rounds);
		shutdown(GUEST_STATUS_BUG);
	}
	report(rounds, halt);
	shutdown(GUEST_STATUS_OK);
}
