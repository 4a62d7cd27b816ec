/* SPDX-License-Identifier: MIT */
/*
 * Request/response over IPIs, the small-message pattern of seed 4 (kick
 * redirection): vCPU 0, the client, sends a request IPI to one server after
 * the other (vCPUs 1..N-1, round robin); the server sleeps in HLT until the
 * request comes, then answers with an IPI; the client halts until the answer
 * is in and times the round trip with the TSC. Every request is an IPI to a
 * halted vCPU, and so is every answer.
 *
 * Args: rounds=N requests in all (default 300, at most MAX_ROUNDS). vCPUs:
 * at least 2.
 * Result "ipi-rpc": rounds, servers, ops (answers received = rounds),
 * cycles (the client's TSC over all rounds), min, p50, p99, max (round trip
 * cycles), served (requests the servers handled together, checked = rounds).
 */
#include "guest.h"

#include "apic.h"

#define REQUEST_VECTOR 0x43
#define ANSWER_VECTOR  0x44
#define MAX_ROUNDS     20000

static struct barrier all = BARRIER_INIT(0);
static uint64_t samples[MAX_ROUNDS];
static uint32_t answers;		 /* on vCPU 0 */
static uint32_t requests[VMM_MAX_VCPUS]; /* taken by each server */

static void request_irq(struct irq_frame *f)
{
	(void)f;
	WRITE_ONCE(requests[this_cpu_id()], requests[this_cpu_id()] + 1);
	apic_eoi();
}

static void answer_irq(struct irq_frame *f)
{
	(void)f;
	WRITE_ONCE(answers, answers + 1);
	apic_eoi();
}

/* Server s handles requests s-1, s-1+servers, ...: this many. */
static uint32_t share(uint64_t rounds, unsigned int servers, unsigned int s)
{
	return (uint32_t)(rounds / servers + (s - 1 < rounds % servers));
}

static void serve(uint32_t n)
{
	unsigned int me = this_cpu_id();

	for (uint32_t i = 0; i < n; i++) {
		halt_until(&requests[me], i + 1);
		irq_enable();
		apic_send_ipi(0, ANSWER_VECTOR);
	}
}

static void client(uint64_t rounds, unsigned int servers)
{
	uint64_t t0 = rdtsc(), t, served = 0;
	struct vmm_result r;

	for (uint64_t i = 0; i < rounds; i++) {
		t = rdtsc();
		apic_send_ipi((uint32_t)(1 + i % servers), REQUEST_VECTOR);
		halt_until(&answers, (uint32_t)(i + 1));
		irq_enable();
		samples[i] = rdtsc() - t;
	}
	t0 = rdtsc() - t0;
	for (unsigned int s = 1; s <= servers; s++)
		served += READ_ONCE(requests[s]);
	sort_u64(samples, rounds);
	printf("ipi-rpc: %lu requests to %u servers: round trip min %lu p50 %lu p99 %lu max %lu "
	       "cycles\n",
	       rounds, servers, samples[0], samples[rounds / 2], samples[(rounds - 1) * 99 / 100],
	       samples[rounds - 1]);
	result_init(&r, "ipi-rpc");
	result_add(&r, "rounds", rounds);
	result_add(&r, "servers", servers);
	result_add(&r, "ops", answers);
	result_add(&r, "cycles", t0);
	result_add(&r, "min", samples[0]);
	result_add(&r, "p50", samples[rounds / 2]);
	result_add(&r, "p99", samples[(rounds - 1) * 99 / 100]);
	result_add(&r, "max", samples[rounds - 1]);
	result_add(&r, "served", served);
	result_send(&r);
	shutdown(served == rounds && answers == rounds ? GUEST_STATUS_OK : GUEST_STATUS_BUG);
}

void guest_main(unsigned int cpu)
{
	uint64_t rounds = arg_u64("rounds", 300);
	unsigned int servers = nr_cpus() - 1;

	if (nr_cpus() < 2 || !rounds || rounds > MAX_ROUNDS) {
		if (cpu == 0) {
			printf("ipi-rpc: needs vcpus >= 2 and 1 <= rounds <= %u\n", MAX_ROUNDS);
			shutdown(GUEST_STATUS_BAD_ARGS);
		}
		return;
	}
	irq_set_handler(cpu ? REQUEST_VECTOR : ANSWER_VECTOR, cpu ? request_irq : answer_irq);
	apic_enable();
	barrier_wait(&all);
	if (cpu)
		serve(share(rounds, servers, cpu));
	else
		client(rounds, servers);
}
