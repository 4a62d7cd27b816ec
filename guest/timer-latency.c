/* SPDX-License-Identifier: MIT */
/*
 * TSC-deadline timer latency, in the shape of kvm-unit-tests'
 * tscdeadline_latency (the benchmark of seed 3): arm the TSC-deadline timer
 * `delta` cycles ahead, wait for it, and record how late the handler ran
 * (TSC in the handler - deadline), `samples` times. The wait is HLT with
 * interrupts on (the vCPU sleeps and must be woken by its host timer: the
 * wakeup path seed 3 shortened), or, with spin=1, a spin with interrupts on
 * (the vCPU stays in its guest and the timer only has to kick it).
 *
 * Args: delta=N cycles (default 200000), samples=N (default 100, at most
 * MAX_SAMPLES), spin=0|1 (default 0).
 * Result "timer-latency": samples, delta, spin, min, max, mean, std, p25,
 * p50, p75 (cycles late; std is the population standard deviation).
 */
#include "guest.h"

#include "apic.h"

#define TIMER_VECTOR 0x51
#define MAX_SAMPLES  2000

static uint64_t late[MAX_SAMPLES];
static uint64_t deadline;
static uint32_t fired;

static void timer_irq(struct irq_frame *f)
{
	uint64_t now = rdtsc();

	(void)f;
	late[fired] = now > deadline ? now - deadline : 0;
	WRITE_ONCE(fired, fired + 1);
	apic_eoi();
}

static void wait_halt(uint32_t n)
{
	halt_until(&fired, n);
	irq_enable();
}

static void wait_spin(uint32_t n)
{
	while (READ_ONCE(fired) < n)
		cpu_relax();
}

static uint64_t isqrt(uint64_t x)
{
	uint64_t r = x, y = (x + 1) / 2;

	if (x < 2)
		return x;
	while (y < r) {
		r = y;
		y = (r + x / r) / 2;
	}
	return r;
}

void guest_main(unsigned int cpu)
{
	uint64_t delta = arg_u64("delta", 200000), n = arg_u64("samples", 100);
	uint64_t spin = arg_u64("spin", 0), sum = 0, var = 0, mean;
	struct vmm_result r;

	apic_enable(); /* x2APIC mode first: apic_park's TPR write would #GP without it */
	if (cpu != 0)
		apic_park();
	if (!n || n > MAX_SAMPLES || !delta || spin > 1) {
		printf("timer-latency: needs 1 <= samples <= %u, delta >= 1, spin=0|1\n",
		       MAX_SAMPLES);
		shutdown(GUEST_STATUS_BAD_ARGS);
	}
	irq_set_handler(TIMER_VECTOR, timer_irq);
	irq_enable();
	for (uint32_t i = 1; i <= n; i++) {
		WRITE_ONCE(deadline, rdtsc() + delta);
		apic_tsc_deadline(TIMER_VECTOR, deadline);
		if (spin)
			wait_spin(i);
		else
			wait_halt(i);
	}
	for (uint64_t i = 0; i < n; i++)
		sum += late[i];
	mean = sum / n;
	for (uint64_t i = 0; i < n; i++)
		var += (late[i] - mean) * (late[i] - mean) / n;
	sort_u64(late, n);
	printf("timer-latency: %lu samples, delta %lu: late min %lu p50 %lu max %lu cycles\n", n,
	       delta, late[0], late[n / 2], late[n - 1]);
	result_init(&r, "timer-latency");
	result_add(&r, "samples", n);
	result_add(&r, "delta", delta);
	result_add(&r, "spin", spin);
	result_add(&r, "min", late[0]);
	result_add(&r, "max", late[n - 1]);
	result_add(&r, "mean", mean);
	result_add(&r, "std", isqrt(var));
	result_add(&r, "p25", late[n / 4]);
	result_add(&r, "p50", late[n / 2]);
	result_add(&r, "p75", late[(3 * n) / 4]);
	result_send(&r);
	shutdown(GUEST_STATUS_OK);
}
