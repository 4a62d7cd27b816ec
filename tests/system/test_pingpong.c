// SPDX-License-Identifier: MIT
/*
 * The 1-slot ping-pong: ipi-pingpong's two vCPUs share one pCPU slot
 * (--pcpus 1 --policy ipi-aware), so a waiting side holds the slot the
 * other needs to answer. With wait=spin the waiter's spin notifications
 * must reach the VMM (io:spin exits, the guest's count equal to the VMM's)
 * and the ipi-aware policy must hand the slot to the IPI receiver (tier-1
 * yields). wait=poll and wait=halt never notify, halt halts, and an
 * unknown wait= word fails the VM with a message. No timing thresholds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmmtest.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 20
/* guest/lib/guest.h: GUEST_STATUS_BAD_ARGS, workload arguments the image cannot use */
#define GUEST_STATUS_BAD_ARGS 6

static json_int_t jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("report: %s is not an integer", key);
	return json_integer_value(v);
}

static json_t *vm_sched(const struct vmm_run *r)
{
	json_t *s = json_object_get(report_vm(r, 0), "sched");

	if (!s)
		fail_msg("vm0 has no sched ledger in the report");
	return s;
}

static json_int_t tier(const struct vmm_run *r, size_t i)
{
	json_t *t = json_array_get(json_object_get(vm_sched(r), "successes_by_tier"), i);

	if (!json_is_integer(t))
		fail_msg("vm0: no successes_by_tier[%zu] in the report", i);
	return json_integer_value(t);
}

/* Both vCPUs on one slot under ipi-aware; `args` after rounds=. --quiet unless `console`. */
static void run_pingpong(struct vmm_run *r, const char *args, bool console)
{
	char spec[512];
	const char *argv[] = { "--timeout", "60",      "--pcpus", "1", "--policy",
			       "ipi-aware", "--quiet", spec,	  NULL };

	snprintf(spec, sizeof(spec), "%s:vcpus=2:args=rounds=%d,%s", guest("ipi-pingpong"), ROUNDS,
		 args);
	if (console) { /* drop --quiet */
		argv[6] = spec;
		argv[7] = NULL;
	}
	assert_int_equal(vmm_run(r, argv), 0);
}

/* What every finished ping-pong shows: all rounds, two IPIs each, all delivered. */
static void check_rounds(const struct vmm_run *r, const char *what)
{
	json_t *ints = json_object_get(report_vm(r, 0), "interrupts");

	vmm_expect_ok(r, what);
	assert_int_equal(report_result(r, 0, "ipi-pingpong", "rounds"), ROUNDS);
	assert_int_equal(jint(ints, "ipi_sent"), 2 * ROUNDS);
	assert_int_equal(jint(ints, "ipi_delivered"), 2 * ROUNDS);
}

/* A waiter that never notifies makes no spin exit, so the scheduler has nothing to yield. */
static void check_no_spins(const struct vmm_run *r, const char *what)
{
	if (report_exit_count(r, 0, "io:spin") || jint(vm_sched(r), "spin_exits") ||
	    report_result(r, 0, "ipi-pingpong", "spin_notifies"))
		fail_msg("%s: %lld io:spin exits, %lld spin exits in the ledger, guest sent %lld "
			 "spin notifications; want none",
			 what, (long long)report_exit_count(r, 0, "io:spin"),
			 (long long)jint(vm_sched(r), "spin_exits"),
			 (long long)report_result(r, 0, "ipi-pingpong", "spin_notifies"));
	assert_int_equal(jint(vm_sched(r), "yield_attempts"), 0);
}

/*
 * wait=spin: every PLE window the waiter exits, and while one side waits the
 * other cannot be running (one slot), so every spin exit has a candidate, and
 * the first one ipi-aware picks is the spinner's own IPI receiver.
 */
static void test_spin_yields_to_receiver(void **state)
{
	json_int_t spins, ok;
	struct vmm_run r;

	(void)state;
	run_pingpong(&r, "wait=spin", false);
	check_rounds(&r, "wait=spin");
	spins = report_exit_count(&r, 0, "io:spin");
	ok = jint(vm_sched(&r), "yield_successes");
	if (spins < 1 || jint(vm_sched(&r), "spin_exits") < 1)
		fail_msg("wait=spin: %lld io:spin exits, %lld in the ledger: the waiter never "
			 "notified",
			 (long long)spins, (long long)jint(vm_sched(&r), "spin_exits"));
	/* The guest's own count, both sides together, is the VMM's. */
	assert_int_equal(report_result(&r, 0, "ipi-pingpong", "spin_notifies"), spins);
	assert_int_equal(jint(vm_sched(&r), "spin_exits"), spins);
	assert_int_equal(report_result(&r, 0, "ipi-pingpong", "ple"), 64);
	assert_int_equal(report_result(&r, 0, "ipi-pingpong", "halt"), 0);
	if (ok < 1)
		fail_msg("wait=spin: %lld spin exits and no directed yield (%lld tried, %lld "
			 "without "
			 "a candidate)",
			 (long long)spins, (long long)jint(vm_sched(&r), "yield_attempts"),
			 (long long)jint(vm_sched(&r), "no_candidate"));
	assert_int_equal(tier(&r, 0) + tier(&r, 1) + tier(&r, 2), ok);
	if (tier(&r, 0) < 1)
		fail_msg("wait=spin: no tier-1 yield (IPI receiver) in %lld yields (tiers "
			 "%lld/%lld/%lld)",
			 (long long)ok, (long long)tier(&r, 0), (long long)tier(&r, 1),
			 (long long)tier(&r, 2));
	vmm_run_free(&r);
}

/* ple=0: wait=spin that never notifies, as the runtime's other spin-waits. */
static void test_spin_ple0_never_notifies(void **state)
{
	struct vmm_run r;

	(void)state;
	run_pingpong(&r, "wait=spin,ple=0", false);
	check_rounds(&r, "wait=spin,ple=0");
	check_no_spins(&r, "wait=spin,ple=0");
	vmm_run_free(&r);
}

/* wait=poll: hardware without PAUSE-loop exiting: the VMM never hears of the spinning. */
static void test_poll_never_notifies(void **state)
{
	struct vmm_run r;

	(void)state;
	run_pingpong(&r, "wait=poll", false);
	check_rounds(&r, "wait=poll");
	check_no_spins(&r, "wait=poll");
	assert_int_equal(report_result(&r, 0, "ipi-pingpong", "halt"), 0);
	assert_int_equal(report_result(&r, 0, "ipi-pingpong", "ple"), 0);
	vmm_run_free(&r);
}

/* wait=halt (the default): the waiters halt and never spin. */
static void test_halt_halts(void **state)
{
	struct vmm_run r;

	(void)state;
	run_pingpong(&r, "wait=halt", false);
	check_rounds(&r, "wait=halt");
	check_no_spins(&r, "wait=halt");
	assert_int_equal(report_result(&r, 0, "ipi-pingpong", "halt"), 1);
	/*
	 * One slot: a waiter gives it up by halting (or, rarely, at quantum
	 * expiry), so nearly every one of the 2 * ROUNDS waits halts. vCPU 1's
	 * final idle halt alone would not reach ROUNDS.
	 */
	if (report_exit_count(&r, 0, "hlt") < ROUNDS)
		fail_msg("wait=halt: %lld hlt exits for %d rounds: the waiters did not halt",
			 (long long)report_exit_count(&r, 0, "hlt"), ROUNDS);
	vmm_run_free(&r);
}

/* An unknown word (a known one as its prefix) fails the VM, with the guest saying why. */
static void test_bad_wait_fails(void **state)
{
	json_t *vm;
	struct vmm_run r;

	(void)state;
	run_pingpong(&r, "wait=spinning", true);
	if (r.status != 1)
		fail_msg("wait=spinning: vmm exited %d, want 1 (a VM failed)\nstdout:\n%s",
			 r.status, r.out);
	vm = report_vm(&r, 0);
	assert_false(json_is_true(json_object_get(vm, "ok")));
	assert_string_equal(json_string_value(json_object_get(vm, "end")), "shutdown");
	assert_int_equal(jint(vm, "status"), GUEST_STATUS_BAD_ARGS);
	assert_int_equal(json_array_size(json_object_get(vm, "results")), 0);
	if (!strstr(r.out, "[vm0/cpu0] ipi-pingpong: unknown wait=spinning"))
		fail_msg("wait=spinning: no guest message on the console:\n%s", r.out);
	vmm_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spin_yields_to_receiver),
		cmocka_unit_test(test_spin_ple0_never_notifies),
		cmocka_unit_test(test_poll_never_notifies),
		cmocka_unit_test(test_halt_halts),
		cmocka_unit_test(test_bad_wait_fails),
	};

	vmmtest_require_kvm("system/test_pingpong");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
