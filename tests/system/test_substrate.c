// SPDX-License-Identifier: MIT
/*
 * The scheduler's substrate on real guests: each slot's home CPU (default
 * spread over the CPUs the process may use, --slot-cpus LIST, off, --pin,
 * taskset, more slots than CPUs), the books of every handoff (each grant
 * reaches KVM_RUN or is given back: a grant to a thread that never runs, or
 * a lost wake, breaks them or hangs the VM), at most P in KVM_RUN, and
 * wakeup preemption (a woken IPI receiver takes its sender's slot).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmmtest.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

#define EBIZZY "ebizzy-like:vcpus=4:args=rounds=6,sleep=200"
/* Long sleeps: the receivers are halted when the shootdowns come, even in a slow (TSan) build. */
#define SLEEPY "ebizzy-like:vcpus=4:args=rounds=12,sleep=1000"

static const char *spec(const char *s)
{
	static char buf[16][512];
	static unsigned int k;
	char name[64];
	const char *colon = strchr(s, ':');

	snprintf(name, sizeof(name), "%.*s", (int)(colon ? colon - s : (long)strlen(s)), s);
	k = (k + 1) % 16;
	snprintf(buf[k], sizeof(buf[k]), "%s%s", guest(name), colon ? colon : "");
	return buf[k];
}

/* The CPUs this test (and so vmm) may run on, in order. */
static int allowed_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int i, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		fail_msg("sched_getaffinity failed");
	for (i = 0; i < CPU_SETSIZE && n < max; i++)
		if (CPU_ISSET(i, &set))
			cpus[n++] = i;
	return n;
}

/* Exit 0, books balanced, at most P in KVM_RUN, IPIs balanced in every VM. */
static json_t *check_ok(const struct vmm_run *r, const char *what)
{
	json_t *s = json_object_get(r->json, "sched"), *vm;
	size_t i;

	vmm_expect_ok(r, what);
	if (report_int(s, "over_limit") || report_int(s, "max_in_run") > report_int(s, "pcpus"))
		fail_msg("%s: %lld vCPUs in KVM_RUN at once on %lld slots", what,
			 (long long)report_int(s, "max_in_run"), (long long)report_int(s, "pcpus"));
	check_slot_books(r, what);
	json_array_foreach(json_object_get(r->json, "vms"), i, vm) assert_true(
		json_is_true(json_object_get(json_object_get(vm, "interrupts"), "ipi_balanced")));
	return s;
}

static void expect_homes(json_t *s, const int *homes, size_t n, const char *what)
{
	json_t *slots = json_object_get(s, "slots");
	size_t i;

	assert_int_equal(json_array_size(slots), n);
	for (i = 0; i < n; i++) {
		json_int_t h = report_int(json_array_get(slots, i), "home_cpu");

		if (h != homes[i])
			fail_msg("%s: slot %zu has home CPU %lld, expected %d", what, i,
				 (long long)h, homes[i]);
	}
}

static void run_homes(const char *const *prefix, const char *const *args, const int *homes,
		      size_t n, const char *what)
{
	struct vmm_run r;

	assert_int_equal(prefix ? vmm_run_under(&r, prefix, args) : vmm_run(&r, args), 0);
	expect_homes(check_ok(&r, what), homes, n, what);
	vmm_run_free(&r);
}

static void test_default_homes(void **state)
{
	int cpus[64], homes[3], n = allowed_cpus(cpus, 64), i;
	const char *two[] = { "--quiet", "--pcpus", "2", spec(EBIZZY), spec(EBIZZY), NULL };
	const char *three[] = { "--quiet", "--pcpus", "3", spec(EBIZZY), NULL };

	(void)state;
	for (i = 0; i < 3; i++)
		homes[i] = cpus[i % n];
	run_homes(NULL, two, homes, 2, "--pcpus 2");
	/* More slots than CPUs: the homes wrap around. */
	run_homes(NULL, three, homes, 3, "--pcpus 3");
}

static void test_explicit_homes(void **state)
{
	int cpus[64], n = allowed_cpus(cpus, 64);
	const int none[2] = { -1, -1 };
	int rev[2] = { cpus[n > 1 ? 1 : 0], cpus[0] };
	char list[32];
	const char *given[] = {
		"--quiet", "--pcpus", "2", "--slot-cpus", list, spec(EBIZZY), NULL
	};
	const char *off[] = { "--quiet", "--pcpus", "2", "--slot-cpus", "off", spec(EBIZZY), NULL };
	const char *pin[] = { "--quiet", "--pcpus", "2", "--pin", spec(EBIZZY), NULL };

	(void)state;
	snprintf(list, sizeof(list), "%d,%d", rev[0], rev[1]);
	run_homes(NULL, given, rev, 2, "--slot-cpus LIST");
	run_homes(NULL, off, none, 2, "--slot-cpus off");
	/* --pin places the threads itself: the slots have no home. */
	run_homes(NULL, pin, none, 2, "--pin");
}

/* taskset: the homes are the CPUs the process may use, not the online ones. */
static void test_taskset(void **state)
{
	int cpus[64], n = allowed_cpus(cpus, 64);
	int homes[2] = { cpus[n - 1], cpus[n - 1] };
	char cpu[16];
	const char *prefix[] = { "taskset", "-c", cpu, NULL };
	const char *args[] = { "--quiet", spec(EBIZZY), spec("lock-hammer:vcpus=4:args=iters=8"),
			       NULL };
	struct vmm_run r;

	(void)state;
	snprintf(cpu, sizeof(cpu), "%d", cpus[n - 1]);
	assert_int_equal(vmm_run_under(&r, prefix, args), 0);
	/* One CPU allowed: one slot by default. */
	expect_homes(check_ok(&r, "taskset, default slots"), homes, 1, "taskset, default slots");
	vmm_run_free(&r);
	{
		const char *two[] = { "--quiet", "--pcpus", "2", spec(EBIZZY), NULL };

		run_homes(prefix, two, homes, 2, "taskset, --pcpus 2");
	}
}

static void test_bad_slot_cpu(void **state)
{
	const char *args[] = { "--quiet", "--slot-cpus", "255", spec("hello"), NULL };
	struct vmm_run r;

	(void)state;
	assert_int_equal(vmm_run(&r, args), 0);
	assert_int_equal(r.status, 2);
	if (!strstr(r.err, "vmm: --slot-cpus: host CPU 255 is not one this process may run on"))
		fail_msg("unexpected stderr: %s", r.err);
	if (strchr(r.err, '\n') != r.err + strlen(r.err) - 1)
		fail_msg("more than one line on stderr: %s", r.err);
	vmm_run_free(&r);
}

static json_int_t vm_ledger(const struct vmm_run *r, const char *key)
{
	json_t *vm;
	json_int_t n = 0;
	size_t i;

	json_array_foreach(json_object_get(r->json, "vms"), i, vm) n +=
		report_int(json_object_get(vm, "sched"), key);
	return n;
}

static json_int_t preempt_grants(const struct vmm_run *r)
{
	return report_int(json_object_get(json_object_get(r->json, "sched"), "grants_by_cause"),
			  "preempt");
}

/*
 * Policy none never yields, so only wakeup preemption gives a halted IPI
 * receiver its sender's slot: each one is a grant of cause preempt, and the
 * ledger counts the same number; off, there are none.
 */
static void test_wake_preempt(void **state)
{
	const char *on[] = { "--quiet",	       "--pcpus", "1",		"--policy", "none",
			     "--wake-preempt", "100us",	  spec(SLEEPY), NULL };
	const char *off[] = { "--quiet",	"--pcpus", "1",		 "--policy", "none",
			      "--wake-preempt", "off",	   spec(SLEEPY), NULL };
	struct vmm_run r;

	(void)state;
	assert_int_equal(vmm_run(&r, on), 0);
	check_ok(&r, "--wake-preempt 100us");
	if (vm_ledger(&r, "wake_preempts") < 1)
		fail_msg("no wakeup preemption in %lld attempts",
			 (long long)(vm_ledger(&r, "wake_preempts") +
				     vm_ledger(&r, "wake_preempt_moot")));
	assert_int_equal(preempt_grants(&r), vm_ledger(&r, "wake_preempts"));
	assert_int_equal(vm_ledger(&r, "yield_successes"), 0);
	vmm_run_free(&r);

	assert_int_equal(vmm_run(&r, off), 0);
	check_ok(&r, "--wake-preempt off");
	assert_int_equal(preempt_grants(&r), 0);
	assert_int_equal(vm_ledger(&r, "wake_preempts") + vm_ledger(&r, "wake_preempt_moot"), 0);
	vmm_run_free(&r);
}

/*
 * The shortest quantum --quantum accepts still runs guest code to the end
 * (10 us ran none: every slot's timer had fired before the guest ran).
 */
static void test_short_quantum(void **state)
{
	const char *args[] = { "--quiet",
			       "--timeout",
			       "60",
			       "--quantum",
			       "50us",
			       spec("hello:vcpus=4"),
			       spec("hello:vcpus=4"),
			       NULL };
	struct vmm_run r;

	(void)state;
	assert_int_equal(vmm_run(&r, args), 0);
	check_ok(&r, "--quantum 50us");
	vmm_run_free(&r);
}

/* Many VMs and vCPUs on few slots: every handoff still closes, nobody is left asleep. */
static void test_crowd(void **state)
{
	const char *args[24] = { "--quiet", "--pcpus", "2", "--policy", "ipi-aware" };
	unsigned int i, n = 5;
	struct vmm_run r;

	(void)state;
	for (i = 0; i < 8; i++)
		args[n++] = spec(i % 2 ? "ebizzy-like:vcpus=8:args=rounds=2,sleep=100"
				       : "hello:vcpus=8");
	args[n] = NULL;
	assert_int_equal(vmm_run(&r, args), 0);
	check_ok(&r, "8 VMs x 8 vCPUs on 2 slots");
	vmm_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_homes), cmocka_unit_test(test_explicit_homes),
		cmocka_unit_test(test_taskset),	      cmocka_unit_test(test_bad_slot_cpu),
		cmocka_unit_test(test_wake_preempt),  cmocka_unit_test(test_short_quantum),
		cmocka_unit_test(test_crowd),
	};

	vmmtest_require_kvm("system/test_substrate");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
