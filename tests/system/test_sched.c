// SPDX-License-Identifier: MIT
/*
 * The vCPU scheduler on real guests: lock-hammer and ebizzy-like finish with
 * correct results under every policy and under --sched host, at 1x, 2x, 4x
 * and 8x overcommit on P = 1 and 2 slots; never more than P vCPUs inside
 * KVM_RUN; every vCPU gets slots (none starves); IPI counts still balance;
 * each policy picks only the targets it may (none: nobody; preempted: only
 * preempted vCPUs; ipi-aware: by tier); an IPI storm's counts stay exact
 * under every policy; the trace's slot tracks never overlap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmmtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const policies[] = { "none", "preempted", "ready", "ipi-aware" };

/* Small runs: at 8x overcommit without directed yield a ticket lock convoys (a quantum a turn). */
static const char *image_args(const char *image)
{
	return !strcmp(image, "lock-hammer") ? "iters=12" : "rounds=4";
}

static json_t *sched_of(const struct vmm_run *r)
{
	json_t *s = json_object_get(r->json, "sched");

	if (!s)
		fail_msg("no top-level sched object in the report");
	return s;
}

static json_t *vm_sched(const struct vmm_run *r, size_t vm)
{
	return json_object_get(report_vm(r, vm), "sched");
}

/* What every run must show, whatever the policy. */
static void check_run(const struct vmm_run *r, const char *what, const char *image,
		      unsigned int vcpus, unsigned int pcpus)
{
	json_t *s = sched_of(r), *vm = report_vm(r, 0), *e;
	json_t *ints = json_object_get(vm, "interrupts");
	size_t i;

	vmm_expect_ok(r, what);
	/* The guest checked its own counter / call count; ops is what it did. */
	if (!strcmp(image, "lock-hammer"))
		assert_int_equal(report_result(r, 0, image, "ops"),
				 vcpus * report_result(r, 0, image, "iters"));
	assert_true(json_is_true(json_object_get(ints, "ipi_balanced")));
	if (!pcpus) {
		assert_string_equal(json_string_value(json_object_get(s, "mode")), "host");
		return;
	}
	assert_string_equal(json_string_value(json_object_get(s, "mode")), "slots");
	assert_int_equal(report_int(s, "pcpus"), pcpus);
	check_slot_books(r, what);
	if (report_int(s, "over_limit") || report_int(s, "max_in_run") > (json_int_t)pcpus)
		fail_msg("%s: %lld vCPUs in KVM_RUN at once on %u slots (%lld over-limit entries)",
			 what, (long long)report_int(s, "max_in_run"), pcpus,
			 (long long)report_int(s, "over_limit"));
	/* No starvation: every vCPU got a slot and ran to the end (the guest checked its work). */
	json_array_foreach(json_object_get(vm_sched(r, 0), "vcpus"), i, e)
		assert_true(report_int(e, "slot_waits") >= 1);
	assert_int_equal(json_array_size(json_object_get(vm_sched(r, 0), "vcpus")), vcpus);
}

static void run_one(const char *image, unsigned int vcpus, unsigned int pcpus, const char *policy)
{
	char spec[512], p[16], what[160];
	const char *slots[] = { "--timeout", "120",  "--quiet", "--pcpus", p,
				"--policy",  policy, spec,	NULL };
	const char *host[] = { "--timeout", "120", "--quiet", "--sched", "host", spec, NULL };
	struct vmm_run r;

	snprintf(spec, sizeof(spec), "%s:vcpus=%u:args=%s", guest(image), vcpus, image_args(image));
	snprintf(p, sizeof(p), "%u", pcpus);
	snprintf(what, sizeof(what), "%s vcpus=%u %s%s%s", image, vcpus,
		 pcpus ? "pcpus=" : "--sched host", pcpus ? p : "", pcpus ? policy : "");
	assert_int_equal(vmm_run(&r, pcpus ? slots : host), 0);
	check_run(&r, what, image, vcpus, pcpus);
	if (pcpus)
		check_policy_ledger(&r, 0, policy);
	vmm_run_free(&r);
}

/* 1x, 2x, 4x, 8x overcommit: vCPUs = factor * P. */
static void matrix(const char *image, unsigned int pcpus)
{
	unsigned int f, k;

	for (f = 1; f <= 8; f *= 2) {
		/* One vCPU has nobody to send to: ebizzy-like needs two. */
		if (f * pcpus < 2 && strcmp(image, "lock-hammer"))
			continue;
		for (k = 0; k < sizeof(policies) / sizeof(policies[0]); k++)
			run_one(image, f * pcpus, pcpus, policies[k]);
	}
}

static void test_lock_hammer_p1(void **state)
{
	(void)state;
	matrix("lock-hammer", 1);
}

static void test_lock_hammer_p2(void **state)
{
	(void)state;
	matrix("lock-hammer", 2);
}

static void test_ebizzy_p1(void **state)
{
	(void)state;
	matrix("ebizzy-like", 1);
}

static void test_ebizzy_p2(void **state)
{
	(void)state;
	matrix("ebizzy-like", 2);
}

/* --sched host at the same vCPU counts (1x..8x of the 2 slots the others get). */
static void test_host(void **state)
{
	unsigned int n;

	(void)state;
	for (n = 2; n <= 16; n *= 2) {
		run_one("lock-hammer", n, 0, NULL);
		run_one("ebizzy-like", n, 0, NULL);
	}
}

/*
 * P = 1: while a lock holder waits for its IPI receiver, the receiver cannot
 * be running (there is one slot), so the holder's spin exits must find it as
 * a tier-1 candidate (a recent IPI receiver of the spinner, not yet EOId).
 */
static void test_ipi_aware_tier1(void **state)
{
	char spec[512];
	const char *args[] = { "--timeout", "120",	 "--quiet", "--pcpus", "1",
			       "--policy",  "ipi-aware", spec,	    NULL };
	struct vmm_run r;
	json_t *tiers;

	(void)state;
	snprintf(spec, sizeof(spec), "%s:vcpus=4:args=iters=20,ipi_every=2", guest("lock-hammer"));
	assert_int_equal(vmm_run(&r, args), 0);
	check_run(&r, "ipi-aware tier 1", "lock-hammer", 4, 1);
	tiers = json_object_get(vm_sched(&r, 0), "successes_by_tier");
	if (json_integer_value(json_array_get(tiers, 0)) < 1)
		fail_msg("no tier-1 yield (IPI receiver) in %lld yields",
			 (long long)report_int(vm_sched(&r, 0), "yield_successes"));
	vmm_run_free(&r);
}

/* IPIs are neither lost nor invented when vCPUs wait for slots: the guest's counts equal ours. */
static void storm_under(const char *policy)
{
	char spec[512];
	const char *slots[] = { "--timeout", "120",  "--quiet", "--pcpus", "2",
				"--policy",  policy, spec,	NULL };
	const char *host[] = { "--timeout", "120", "--quiet", "--sched", "host", spec, NULL };
	json_t *ints;
	struct vmm_run r;

	snprintf(spec, sizeof(spec), "%s:vcpus=8:args=rounds=40,call_every=10", guest("ipi-storm"));
	assert_int_equal(vmm_run(&r, policy ? slots : host), 0);
	vmm_expect_ok(&r, policy ? policy : "--sched host");
	ints = json_object_get(report_vm(&r, 0), "interrupts");
	assert_true(json_is_true(json_object_get(ints, "ipi_balanced")));
	assert_int_equal(report_int(ints, "ipi_sent"), report_result(&r, 0, "ipi-storm", "sent"));
	assert_int_equal(report_int(ints, "ipi_delivered"),
			 report_result(&r, 0, "ipi-storm", "received"));
	assert_int_equal(report_int(ints, "ipi_dropped"), 0);
	if (policy)
		assert_true(report_int(sched_of(&r), "max_in_run") <= 2);
	vmm_run_free(&r);
}

static void test_storm_every_policy(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(policies) / sizeof(policies[0]); k++)
		storm_under(policies[k]);
	storm_under(NULL);
}

/*
 * Two VMs share the slots. Each yield is counted twice, by different threads:
 * by the spinner in its VM's ledger, and by the target when it resumes on the
 * slot it was handed (yields_in). The two must agree VM by VM: a handoff that
 * was lost, went to the wrong vCPU or crossed into the other VM breaks them.
 */
static void test_two_vms(void **state)
{
	char a[512], b[512];
	const char *args[] = { "--timeout", "120", "--quiet", "--pcpus", "2", a, b, NULL };
	struct vmm_run r;
	size_t vm;
	json_t *e;
	size_t i;

	(void)state;
	snprintf(a, sizeof(a), "%s:vcpus=4:args=iters=12", guest("lock-hammer"));
	snprintf(b, sizeof(b), "%s:vcpus=4:args=rounds=4", guest("ebizzy-like"));
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, "two VMs");
	assert_true(report_int(sched_of(&r), "max_in_run") <= 2);
	assert_int_equal(report_int(sched_of(&r), "over_limit"), 0);
	for (vm = 0; vm < 2; vm++) {
		json_int_t sum = 0, in = 0;

		json_array_foreach(json_object_get(vm_sched(&r, vm), "pairs"), i, e)
		{
			assert_true(report_int(e, "from") < 4 && report_int(e, "to") < 4);
			assert_true(report_int(e, "from") != report_int(e, "to"));
			sum += report_int(e, "successes");
		}
		assert_int_equal(sum, report_int(vm_sched(&r, vm), "yield_successes"));
		json_array_foreach(json_object_get(vm_sched(&r, vm), "vcpus"), i, e) in +=
			report_int(e, "yields_in");
		assert_int_equal(in, sum);
		assert_true(sum > 0); /* 4 vCPUs on 2 slots: lock-hammer and ebizzy-like spin */
	}
	vmm_run_free(&r);
}

/* In the trace, a slot is never held by two vCPUs at once, and there are P slot tracks. */
static void test_slot_trace(void **state)
{
	char spec[512], path[] = "/tmp/vmmtest-slots-XXXXXX";
	const char *args[] = { "--timeout", "120", "--quiet", "--pcpus", "2",
			       "--trace",   path,  spec,      NULL };
	double end[2] = { 0, 0 };
	struct vmm_run r;
	json_error_t jerr;
	json_t *doc, *e, *slots = json_array();
	size_t i, n = 0;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "%s:vcpus=6:args=iters=10", guest("lock-hammer"));
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, "slot trace");
	doc = json_load_file(path, 0, &jerr);
	if (!doc)
		fail_msg("trace does not parse: %s (line %d)", jerr.text, jerr.line);
	/* pid 2 is "pCPU slots" (one VM): its slices, in the order written (per vCPU). */
	json_array_foreach(json_object_get(doc, "traceEvents"), i, e)
	{
		if (report_int(e, "pid") == 2 &&
		    !strcmp(json_string_value(json_object_get(e, "ph")), "X"))
			json_array_append(slots, e);
	}
	assert_true(json_array_size(slots) > 6);
	/* Sort-free check: a sweep over every pair of slices on the same slot. */
	json_array_foreach(slots, i, e)
	{
		double ts = json_number_value(json_object_get(e, "ts"));
		double te = ts + json_number_value(json_object_get(e, "dur"));
		json_int_t tid = report_int(e, "tid");
		size_t k;
		json_t *o;

		assert_true(tid >= 0 && tid < 2);
		end[tid] = te > end[tid] ? te : end[tid];
		json_array_foreach(slots, k, o)
		{
			double os = json_number_value(json_object_get(o, "ts"));
			double oe = os + json_number_value(json_object_get(o, "dur"));

			if (k <= i || report_int(o, "tid") != tid)
				continue;
			/* 1 us of slack: the handoff is stamped by two threads. */
			if (os < te - 1.0 && ts < oe - 1.0)
				fail_msg("slot %lld held twice: [%.1f, %.1f] and [%.1f, %.1f] us",
					 (long long)tid, ts, te, os, oe);
			n++;
		}
	}
	assert_true(n > 0);
	assert_true(end[0] > 0 && end[1] > 0);
	json_decref(slots);
	json_decref(doc);
	unlink(path);
	vmm_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipi_aware_tier1),	   cmocka_unit_test(test_two_vms),
		cmocka_unit_test(test_slot_trace),	   cmocka_unit_test(test_lock_hammer_p1),
		cmocka_unit_test(test_lock_hammer_p2),	   cmocka_unit_test(test_ebizzy_p1),
		cmocka_unit_test(test_ebizzy_p2),	   cmocka_unit_test(test_host),
		cmocka_unit_test(test_storm_every_policy),
	};

	vmmtest_require_kvm("system/test_sched");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
