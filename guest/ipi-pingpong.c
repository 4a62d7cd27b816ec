/* SPDX-License-Identifier: MIT */
/*
 * vCPUs 0 and 1 bounce a fixed IPI `rounds` times; vCPU 0 times each round
 * trip with the TSC. Other vCPUs idle.
 *
 * Args: rounds=N (default 200, at most MAX_ROUNDS); wait=halt|spin|poll
 * (default halt): how each side waits for the next IPI, always with IF=1
 * on the count the handler bumps:
 *   halt  `sti; hlt` until the IPI arrives;
 *   spin  a spin-wait that sends a spin notification (the PAUSE-loop exit
 *         stand-in) every `ple` PAUSEs, as the runtime's other spin-waits do
 *         (spinlock.h; ple=N, default 64, 0 = never notify);
 *   poll  spinning on PAUSE that never notifies the VMM: hardware without
 *         PAUSE-loop exiting.
 * Any other wait= word fails the VM with GUEST_STATUS_BAD_ARGS. The receiver
 * replies from its main loop, so the wait mode is part of every round trip.
 * Result "ipi-pingpong": rounds, min, p50, p99, max (TSC cycles), halt (1
 * for wait=halt), spin_notifies (sent by vCPUs 0 and 1 together; 0 unless
 * wait=spin), ple (the window wait=spin used; 0 for halt and poll, which
 * never notify).
 */
#include "guest.h"

#include "apic.h"
#include "spinlock.h"

#define PING_VECTOR 0x40
#define MAX_ROUNDS  100000

enum wait_mode { WAIT_HALT, WAIT_SPIN, WAIT_POLL };

static const char *const wait_names[] = { "halt", "spin", "poll" };

static struct barrier pair = BARRIER_INIT(2);
static uint64_t samples[MAX_ROUNDS];
static uint32_t received[2];	  /* IPIs each of vCPUs 0 and 1 took */
static uint64_t spin_notifies[2]; /* spin notifications of vCPUs 0 and 1 */

static void ping_irq(struct irq_frame *f)
{
	(void)f;
	WRITE_ONCE(received[this_cpu_id()], received[this_cpu_id()] + 1);
	apic_eoi();
}

/* Checking with IF=0 and then `sti; hlt` cannot miss the wakeup: STI's shadow covers HLT. */
static void wait_count(uint32_t *count, uint32_t target, enum wait_mode mode)
{
	uint32_t iter = 0;

	switch (mode) {
	case WAIT_POLL:
		while (READ_ONCE(*count) < target)
			cpu_relax();
		return;
	case WAIT_SPIN:
		/* The count moves once per wait: any progress ends it, no window reset. */
		while (READ_ONCE(*count) < target)
			spin_wait_step(&iter);
		return;
	case WAIT_HALT:
		break;
	}
	for (;;) {
		irq_disable();
		if (READ_ONCE(*count) >= target)
			break;
		asm volatile("sti; hlt" : : : "memory");
	}
	irq_enable();
}

static bool is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n';
}

/*
 * arg_u64 takes numbers only: find the wait= word ourselves, splitting the
 * args as args.c does. Returns the mode (halt when there is no wait=), or
 * -1 with the unknown word copied to `bad`.
 */
static int parse_wait(char *bad, size_t size)
{
	const char *p = boot_info()->args, *w;
	size_t n;

	while (*p) {
		if (is_sep(*p)) {
			p++;
			continue;
		}
		if (!strncmp(p, "wait", 4) && (p[4] == '=' || p[4] == '\0' || is_sep(p[4]))) {
			w = p[4] == '=' ? p + 5 : p + 4;
			for (n = 0; w[n] && !is_sep(w[n]); n++)
				;
			for (unsigned int m = 0; m < ARRAY_SIZE(wait_names); m++)
				if (n == strlen(wait_names[m]) && !strncmp(w, wait_names[m], n))
					return (int)m;
			strlcpy(bad, w, n + 1 < size ? n + 1 : size);
			return -1;
		}
		while (*p && !is_sep(*p))
			p++;
	}
	return WAIT_HALT;
}

static void pong_loop(uint64_t rounds, enum wait_mode mode)
{
	for (uint64_t i = 0; i < rounds; i++) {
		wait_count(&received[1], i + 1, mode);
		if (i + 1 == rounds) {
			/* Final now (vCPU 1 waits no more); vCPU 0 reads it once the pong is in. */
			WRITE_ONCE(spin_notifies[1], spin_notify_count());
			smp_mb(); /* an x2APIC ICR write is not serializing */
		}
		apic_send_ipi(0, PING_VECTOR);
	}
}

static void ping_loop(uint64_t rounds, enum wait_mode mode)
{
	uint64_t t0;

	for (uint64_t i = 0; i < rounds; i++) {
		t0 = rdtsc();
		apic_send_ipi(1, PING_VECTOR);
		wait_count(&received[0], i + 1, mode);
		samples[i] = rdtsc() - t0;
	}
	spin_notifies[0] = spin_notify_count();
}

static void report(uint64_t rounds, enum wait_mode mode)
{
	uint64_t notifies = spin_notifies[0] + READ_ONCE(spin_notifies[1]);
	uint32_t ple = mode == WAIT_SPIN ? spin_ple_window() : 0;
	struct vmm_result r;
	uint64_t p50, p99;

	sort_u64(samples, rounds);
	p50 = samples[(rounds - 1) * 50 / 100];
	p99 = samples[(rounds - 1) * 99 / 100];
	printf("ipi-pingpong: %lu rounds (%s, ple %u): min %lu p50 %lu p99 %lu max %lu cycles, "
	       "p50 %lu ns, %lu spin notifications\n",
	       rounds, wait_names[mode], ple, samples[0], p50, p99, samples[rounds - 1],
	       tsc_to_ns(p50), notifies);
	result_init(&r, "ipi-pingpong");
	result_add(&r, "rounds", rounds);
	result_add(&r, "min", samples[0]);
	result_add(&r, "p50", p50);
	result_add(&r, "p99", p99);
	result_add(&r, "max", samples[rounds - 1]);
	result_add(&r, "halt", mode == WAIT_HALT);
	result_add(&r, "spin_notifies", notifies);
	result_add(&r, "ple", ple);
	result_send(&r);
}

void guest_main(unsigned int cpu)
{
	uint64_t rounds = arg_u64("rounds", 200);
	char bad[32];
	int mode = parse_wait(bad, sizeof(bad));

	if (cpu > 1)
		return;
	if (mode < 0 || nr_cpus() < 2 || rounds == 0 || rounds > MAX_ROUNDS) {
		if (cpu != 0)
			return; /* let vCPU 0's message out before the shutdown */
		if (mode < 0)
			printf("ipi-pingpong: unknown wait=%s (want halt, spin or poll)\n", bad);
		else
			printf("ipi-pingpong: need vcpus >= 2 and 1 <= rounds <= %u\n", MAX_ROUNDS);
		shutdown(GUEST_STATUS_BAD_ARGS);
	}

	spin_configure();
	irq_set_handler(PING_VECTOR, ping_irq);
	apic_enable();
	barrier_wait(&pair);
	irq_enable();

	if (cpu == 1) {
		pong_loop(rounds, mode);
		return;
	}
	ping_loop(rounds, mode);
	if (READ_ONCE(received[0]) != rounds) {
		printf("ipi-pingpong: %u pongs for %lu pings\n", READ_ONCE(received[0]), rounds);
		shutdown(GUEST_STATUS_BUG);
	}
	report(rounds, mode);
	shutdown(GUEST_STATUS_OK);
}
