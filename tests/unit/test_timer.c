// SPDX-License-Identifier: MIT
/*
 * The vCPU host timer: an expiry asked for again after it has passed is armed
 * again (it fires), one still ahead is not reprogrammed, and a TSC deadline
 * converts to a host time that is never early.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "apic/timer.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#define SIG SIGUSR2

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Take the (blocked) timer signal if it is pending within ms milliseconds. */
static int took_signal(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIG);
	return sigtimedwait(&set, NULL, &ts) == SIG;
}

static void test_rearm_after_expiry(void **state)
{
	struct vcpu_timer t;
	sigset_t set;
	uint64_t at;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIG);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
	assert_int_equal(timer_setup(&t, SIG, 1000000), 0);

	at = mono_ns() + 2000000;
	assert_int_equal(timer_program(&t, at), 0);
	assert_true(took_signal(1000));
	/* The same expiry again, now in the past: it must fire again, not be skipped. */
	assert_int_equal(timer_program(&t, at), 0);
	assert_true(took_signal(1000));

	/* Still ahead: asking again changes nothing, and it fires once. */
	at = mono_ns() + 20000000;
	assert_int_equal(timer_program(&t, at), 0);
	assert_int_equal(timer_program(&t, at), 0);
	assert_true(took_signal(1000));
	assert_false(took_signal(30));
	timer_teardown(&t);
}

static void test_tsc_to_ns_never_early(void **state)
{
	struct vcpu_timer t = { .tsc_khz = 3 }; /* 3000 cycles per ms: 1 cycle = 333333.3 ns */

	(void)state;
	assert_int_equal(timer_tsc_to_ns(&t, 101, 1000, 100), 1000 + 333334);
	assert_int_equal(timer_tsc_to_ns(&t, 103, 1000, 100), 1000 + 1000000);
	assert_int_equal(timer_tsc_to_ns(&t, 100, 1000, 100), 1000);
	assert_int_equal(timer_tsc_to_ns(&t, 50, 1000, 100), 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rearm_after_expiry),
		cmocka_unit_test(test_tsc_to_ns_never_early),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
