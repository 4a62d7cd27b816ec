// SPDX-License-Identifier: MIT
#include "apic/timer.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

int timer_setup(struct vcpu_timer *t, int signo, uint32_t tsc_khz)
{
	struct sigevent sev;

	memset(t, 0, sizeof(*t));
	t->tsc_khz = tsc_khz;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = signo;
	sev.sigev_notify_thread_id = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &t->id) < 0)
		return -1;
	t->created = true;
	return 0;
}

void timer_teardown(struct vcpu_timer *t)
{
	if (t->created)
		timer_delete(t->id);
	t->created = false;
}

/*
 * Skip the syscall only while the same expiry is still ahead. One that has
 * passed has fired (or is about to): asked for again, it must be armed again,
 * or a deadline that was not yet due by the guest's clock when the signal
 * came (or an IRQ-window self-timer kept across exits) would leave the vCPU
 * with no timer at all, quantum included, and a guest spinning with nothing
 * to exit for would hold its slot forever.
 */
int timer_program(struct vcpu_timer *t, uint64_t expiry_ns)
{
	struct itimerspec its;
	struct timespec now;

	if (expiry_ns == atomic_load_explicit(&t->armed_ns, memory_order_relaxed)) {
		if (!expiry_ns)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec < expiry_ns)
			return 0;
	}
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(expiry_ns / 1000000000ull);
	its.it_value.tv_nsec = (long)(expiry_ns % 1000000000ull);
	if (timer_settime(t->id, TIMER_ABSTIME, &its, NULL) < 0)
		return -1;
	atomic_store_explicit(&t->armed_ns, expiry_ns, memory_order_relaxed);
	return 0;
}

uint64_t timer_rdtsc(void)
{
	return __rdtsc();
}

uint64_t timer_tsc_to_ns(const struct vcpu_timer *t, uint64_t tsc, uint64_t now_ns,
			 uint64_t now_tsc)
{
	unsigned __int128 d;

	if (tsc <= now_tsc)
		return now_ns;
	/* cycles / kHz = ms; * 1e6 = ns, rounded up. 128-bit: far deadlines must not wrap. */
	d = ((unsigned __int128)(tsc - now_tsc) * 1000000u + t->tsc_khz - 1) / t->tsc_khz;
	if (d > UINT64_MAX - now_ns)
		return UINT64_MAX;
	return now_ns + (uint64_t)d;
}
