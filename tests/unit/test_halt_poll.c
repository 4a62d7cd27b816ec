// SPDX-License-Identifier: MIT
/* The halt-poll window (sched/halt_poll.c): KVM's grow and shrink rules, and its counters. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sched/halt_poll.h"

static const struct halt_poll_config adaptive = { HALT_POLL_ADAPTIVE, HALT_POLL_MAX_NS };

/* Starts at 0 (no poll); a short halt grows it to the start value, then doubles it to the max. */
static void test_grow(void **state)
{
	struct halt_poll hp;

	(void)state;
	halt_poll_init(&hp, &adaptive);
	assert_int_equal(halt_poll_window(&hp), 0);
	halt_poll_end(&hp, false, 0, false, 50000, true);
	assert_int_equal(halt_poll_window(&hp), HALT_POLL_GROW_START_NS);
	assert_int_equal(hp.attempted_poll, 0); /* it did not poll */
	halt_poll_end(&hp, true, 10000, false, 50000, true);
	assert_int_equal(halt_poll_window(&hp), 20000);
	halt_poll_end(&hp, true, 20000, false, 50000, true);
	assert_int_equal(halt_poll_window(&hp), 40000);
	halt_poll_end(&hp, true, 40000, false, 50000, true);
	halt_poll_end(&hp, true, 50000, true, 50000, true); /* covered: kept */
	assert_int_equal(halt_poll_window(&hp), 80000);
	for (int i = 0; i < 5; i++)
		halt_poll_end(&hp, true, 80000, false, 190000, true);
	assert_int_equal(halt_poll_window(&hp), HALT_POLL_MAX_NS); /* capped */
	assert_int_equal(hp.grows, 6);
}

/* A halt longer than the max, or one that no interrupt ended, halves the window. */
static void test_shrink(void **state)
{
	struct halt_poll hp;

	(void)state;
	halt_poll_init(&hp, &adaptive);
	hp.window_ns = 160000;
	halt_poll_end(&hp, true, 160000, false, 5000000, true);
	assert_int_equal(halt_poll_window(&hp), 80000);
	halt_poll_end(&hp, true, 80000, false, 100000, false);
	assert_int_equal(halt_poll_window(&hp), 40000);
	assert_int_equal(hp.poll_invalid, 1);
	assert_int_equal(hp.shrinks, 2);
}

/* Success time, failure time and the sleep after a failed poll, as KVM's stats count them. */
static void test_counters(void **state)
{
	struct halt_poll_config fixed = { HALT_POLL_FIXED, 30000 };
	struct halt_poll hp;

	(void)state;
	halt_poll_init(&hp, &fixed);
	halt_poll_end(&hp, true, 12000, true, 12000, true);
	halt_poll_end(&hp, true, 30000, false, 100000, true);
	assert_int_equal(hp.attempted_poll, 2);
	assert_int_equal(hp.successful_poll, 1);
	assert_int_equal(hp.poll_success_ns, 12000);
	assert_int_equal(hp.poll_fail_ns, 30000);
	assert_int_equal(hp.wait_ns, 70000);
	assert_int_equal(halt_poll_window(&hp), 30000); /* fixed never moves */
	assert_int_equal(hp.grows + hp.shrinks, 0);
}

static void test_off(void **state)
{
	struct halt_poll_config off = { HALT_POLL_OFF, 0 };
	struct halt_poll hp;
	char buf[32];

	(void)state;
	halt_poll_init(&hp, &off);
	halt_poll_end(&hp, false, 0, false, 100000, true);
	assert_int_equal(halt_poll_window(&hp), 0);
	assert_int_equal(hp.attempted_poll, 0);
	assert_string_equal(halt_poll_name(&off, buf, sizeof(buf)), "off");
	assert_string_equal(halt_poll_name(&adaptive, buf, sizeof(buf)), "adaptive (max 200us)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_shrink),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
