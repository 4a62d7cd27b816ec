/* SPDX-License-Identifier: MIT */
/*
 * vCPU 0 exercises the LAPIC timer modes: one-shot with divide 1 and 16,
 * periodic, TSC-deadline, and a TSC deadline already in the past, which
 * must fire at once. Each part takes a few ms. Counts are in the timer's
 * clock (apic_timer_khz: the TSC here, 1 GHz under KVM's LAPIC); every
 * reported number is in TSC cycles.
 *
 * Args: period_us=N (default 1000): one-shot and deadline distance and the
 * periodic period; ticks=N (default 10): periodic interrupts to wait for.
 * Result "apic-timer": oneshot_cycles (expiry latency beyond the programmed
 * time, divide 1), oneshot16_cycles (same, divide 16), periodic_ticks,
 * periodic_tick_cycles (cycles per tick: "periodic_cycles_per_tick" is longer
 * than VMM_RESULT_KEY_MAX allows), deadline_late_cycles, past_deadline_fired,
 * past_deadline_cycles.
 */
#include "guest.h"

#include "apic.h"

#define TIMER_VECTOR 0x50
#define PAST_WAIT_US 20000 /* "at once" with emulation and exits: well within this */

static uint32_t fired;
static uint64_t fired_tsc; /* TSC at the latest timer interrupt */

static void timer_irq(struct irq_frame *f)
{
	(void)f;
	WRITE_ONCE(fired_tsc, rdtsc());
	WRITE_ONCE(fired, fired + 1);
	apic_eoi();
}

static void wait_fired(uint32_t n)
{
	halt_until(&fired, n);
}

static void fail(const char *why, uint64_t a, uint64_t b)
{
	printf("apic-timer: %s (%lu, %lu)\n", why, a, b);
	shutdown(GUEST_STATUS_BUG);
}

/* Timer clock cycles (apic_timer_khz) to TSC cycles, rounded down. */
static uint64_t to_tsc(uint64_t ticks)
{
	return ticks * tsc_khz() / apic_timer_khz();
}

/* Latency beyond the programmed expiry (TSC cycles); an early expiry is a bug. */
static uint64_t oneshot(uint64_t count1, uint32_t divide)
{
	uint32_t count = (uint32_t)(count1 / divide), n = fired + 1;
	uint64_t t0, ccr, programmed = to_tsc((uint64_t)count * divide);

	t0 = rdtsc();
	apic_timer_oneshot(TIMER_VECTOR, count, divide);
	ccr = rdmsr(MSR_X2APIC_TIMER_CCR);
	if (!ccr || ccr > count)
		fail("one-shot current count out of range", ccr, count);
	wait_fired(n);
	if (fired_tsc - t0 < programmed)
		fail("one-shot fired early", fired_tsc - t0, programmed);
	return fired_tsc - t0 - programmed;
}

/* TSC cycles per tick over `ticks` ticks; then the timer must stay quiet. */
static uint64_t periodic(uint64_t count, uint32_t ticks)
{
	uint64_t t0, per_tick, period = to_tsc(count);
	uint32_t n0 = fired;

	t0 = rdtsc();
	apic_timer_periodic(TIMER_VECTOR, (uint32_t)count, 1);
	wait_fired(n0 + ticks);
	apic_timer_stop();
	per_tick = (fired_tsc - t0) / ticks;
	if (per_tick < period)
		fail("periodic ticks faster than the period", per_tick, period);

	/* One expiry may have been pending when the stop landed; a live timer gives ~4. */
	irq_enable();
	delay_us(4 * period * 1000 / tsc_khz());
	irq_disable();
	if (fired > n0 + ticks + 1)
		fail("periodic timer ticked after it was stopped", fired - n0, ticks);
	return per_tick;
}

static uint64_t deadline(uint64_t period)
{
	uint64_t when = rdtsc() + period;

	apic_tsc_deadline(TIMER_VECTOR, when);
	wait_fired(fired + 1);
	if (fired_tsc < when)
		fail("TSC deadline fired early", fired_tsc, when);
	return fired_tsc - when;
}

/* Spin with IF=1 instead of HLT: if it never fires, say so instead of hanging. */
static bool past_deadline(uint64_t *cycles)
{
	uint32_t n = fired + 1;
	uint64_t t0 = rdtsc(), end = t0 + (uint64_t)PAST_WAIT_US * tsc_khz() / 1000;

	irq_enable();
	apic_tsc_deadline(TIMER_VECTOR, t0 - 1000);
	while (READ_ONCE(fired) < n && rdtsc() < end)
		cpu_relax();
	irq_disable();
	*cycles = fired_tsc - t0;
	return fired >= n;
}

void guest_main(unsigned int cpu)
{
	uint64_t period_us = arg_u64("period_us", 1000), ticks = arg_u64("ticks", 10);
	uint64_t period = period_us * tsc_khz() / 1000;	      /* TSC-deadline distance */
	uint64_t count = period_us * apic_timer_khz() / 1000; /* timer clock cycles */
	uint64_t os1, os16, per_tick, late, past_cycles;
	struct vmm_result r;
	bool past;

	if (cpu != 0)
		return;
	if (count < 16 || count > 0xffffffffull || !ticks || ticks > 1000) {
		printf("apic-timer: need a period of 16..2^32 timer cycles, 1 <= ticks <= 1000\n");
		shutdown(GUEST_STATUS_BAD_ARGS);
	}
	irq_set_handler(TIMER_VECTOR, timer_irq);
	apic_enable();

	os1 = oneshot(count, 1);
	os16 = oneshot(count, 16);
	per_tick = periodic(count, (uint32_t)ticks);
	late = deadline(period);
	past = past_deadline(&past_cycles);
	apic_timer_stop();

	printf("apic-timer: one-shot late by %lu (div 1) / %lu (div 16) cycles, %lu periodic "
	       "ticks of %lu cycles (period %lu), deadline late by %lu, past deadline %s\n",
	       os1, os16, ticks, per_tick, period, late, past ? "fired" : "DID NOT FIRE");
	result_init(&r, "apic-timer");
	result_add(&r, "oneshot_cycles", os1);
	result_add(&r, "oneshot16_cycles", os16);
	result_add(&r, "periodic_ticks", ticks);
	result_add(&r, "periodic_tick_cycles", per_tick);
	result_add(&r, "deadline_late_cycles", late);
	result_add(&r, "past_deadline_fired", past);
	result_add(&r, "past_deadline_cycles", past ? past_cycles : 0);
	result_send(&r);
	shutdown(past ? GUEST_STATUS_OK : GUEST_STATUS_BUG);
}
