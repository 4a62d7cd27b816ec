// SPDX-License-Identifier: MIT
/*
 * The overcommit suite's guests (bench/overcommit) on real VMs: dedup-like,
 * vips-like, hackbench-like and cpu-hog under every policy and under --sched
 * host, at 1x and 4x overcommit of 2 slots, alone and as several VMs. Each
 * guest checks its own work (items once and in order, tiles once per pass,
 * message counts, chunk counts) and fails its VM otherwise; here the IPIs it
 * says it sent must be exactly the VMM's ipi_sent, none dropped, the books
 * balanced; the slot limits, slot books and policy ledgers hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmmtest.h"

#include <stdio.h>
#include <string.h>

#define PCPUS 2

static const char *const scheds[] = { "none", "preempted", "ready", "ipi-aware", NULL /* host */ };

struct workload {
	const char *image;
	const char *args; /* small: the suite runs under ASan and TSan too */
	/* The IPIs the guest's result says it sent, given its vCPU count. */
	json_int_t (*ipis)(const struct vmm_run *r, size_t vm, unsigned int vcpus);
	json_int_t (*ops)(unsigned int vcpus); /* what the guest must have done */
};

static json_int_t dedup_ipis(const struct vmm_run *r, size_t vm, unsigned int vcpus)
{
	/* wake IPIs between stages, and one "done" IPI to vCPU 0 from every other vCPU */
	return report_result(r, vm, "dedup-like", "ipis") + vcpus - 1;
}

static json_int_t dedup_ops(unsigned int vcpus)
{
	unsigned int stages = vcpus < 4 ? vcpus : 4;

	return (json_int_t)(vcpus / stages) * 20;
}

static json_int_t vips_ipis(const struct vmm_run *r, size_t vm, unsigned int vcpus)
{
	assert_int_equal(report_result(r, vm, "vips-like", "kicks"), 3 * (vcpus - 1));
	return report_result(r, vm, "vips-like", "kicks");
}

static json_int_t vips_ops(unsigned int vcpus)
{
	(void)vcpus;
	return 3 * 8;
}

static json_int_t hackbench_ipis(const struct vmm_run *r, size_t vm, unsigned int vcpus)
{
	(void)vcpus;
	return report_result(r, vm, "hackbench-like", "ipis");
}

static json_int_t hackbench_ops(unsigned int vcpus)
{
	return (json_int_t)(vcpus / 2) * 20;
}

static json_int_t hog_ipis(const struct vmm_run *r, size_t vm, unsigned int vcpus)
{
	(void)r, (void)vm, (void)vcpus;
	return 0;
}

static json_int_t hog_ops(unsigned int vcpus)
{
	return (json_int_t)vcpus * 3;
}

static const struct workload workloads[] = {
	{ "dedup-like", "items=20,work=20", dedup_ipis, dedup_ops },
	{ "vips-like", "passes=3,tiles=8,tile=8", vips_ipis, vips_ops },
	{ "hackbench-like", "msgs=20", hackbench_ipis, hackbench_ops },
	{ "cpu-hog", "chunks=3,chunk=50", hog_ipis, hog_ops },
};

static void check_vm(const struct vmm_run *r, size_t vm, const struct workload *w,
		     unsigned int vcpus, const char *what)
{
	json_t *ints = json_object_get(report_vm(r, vm), "interrupts");

	if (report_result(r, vm, w->image, "ops") != w->ops(vcpus))
		fail_msg("%s vm%zu: ops %lld, expected %lld", what, vm,
			 (long long)report_result(r, vm, w->image, "ops"),
			 (long long)w->ops(vcpus));
	if (report_int(ints, "ipi_sent") != w->ipis(r, vm, vcpus))
		fail_msg("%s vm%zu: the VMM counted %lld IPIs sent, the guest %lld", what, vm,
			 (long long)report_int(ints, "ipi_sent"), (long long)w->ipis(r, vm, vcpus));
	assert_int_equal(report_int(ints, "ipi_dropped"), 0);
	assert_true(json_is_true(json_object_get(ints, "ipi_balanced")));
}

/* `nvms` VMs of `vcpus` vCPUs each, all running w, on PCPUS slots under `policy` (NULL: host). */
static void run_one(const struct workload *w, unsigned int vcpus, unsigned int nvms,
		    const char *policy)
{
	char spec[512], what[160], p[8];
	const char *args[16] = { "--timeout", "120", "--quiet" };
	unsigned int n = 3, i;
	json_t *s;
	struct vmm_run r;

	snprintf(spec, sizeof(spec), "%s:vcpus=%u:args=%s", guest(w->image), vcpus, w->args);
	snprintf(p, sizeof(p), "%u", PCPUS);
	snprintf(what, sizeof(what), "%s %u vCPUs x%u %s", w->image, vcpus, nvms,
		 policy ? policy : "--sched host");
	if (policy) {
		args[n++] = "--pcpus";
		args[n++] = p;
		args[n++] = "--policy";
		args[n++] = policy;
	} else {
		args[n++] = "--sched";
		args[n++] = "host";
	}
	for (i = 0; i < nvms; i++)
		args[n++] = spec;
	args[n] = NULL;
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, what);
	for (i = 0; i < nvms; i++) {
		check_vm(&r, i, w, vcpus, what);
		if (policy)
			check_policy_ledger(&r, i, policy);
	}
	s = json_object_get(r.json, "sched");
	assert_string_equal(json_string_value(json_object_get(s, "mode")),
			    policy ? "slots" : "host");
	if (policy) {
		check_slot_books(&r, what);
		if (report_int(s, "over_limit") || report_int(s, "max_in_run") > PCPUS)
			fail_msg("%s: %lld vCPUs in KVM_RUN at once on %u slots", what,
				 (long long)report_int(s, "max_in_run"), PCPUS);
	}
	vmm_run_free(&r);
}

/* 1x (one VM of PCPUS vCPUs) and 4x (one VM of 4 * PCPUS, and two VMs of 2 * PCPUS). */
static void matrix(const struct workload *w)
{
	size_t k;

	for (k = 0; k < sizeof(scheds) / sizeof(scheds[0]); k++) {
		run_one(w, PCPUS, 1, scheds[k]);
		run_one(w, 4 * PCPUS, 1, scheds[k]);
		run_one(w, 2 * PCPUS, 2, scheds[k]);
	}
}

static void test_dedup(void **state)
{
	(void)state;
	matrix(&workloads[0]);
}

static void test_vips(void **state)
{
	(void)state;
	matrix(&workloads[1]);
}

static void test_hackbench(void **state)
{
	(void)state;
	matrix(&workloads[2]);
}

static void test_cpu_hog(void **state)
{
	(void)state;
	matrix(&workloads[3]);
}

/* Seed 1's pair: ebizzy-like next to a cpu-hog VM on the same slots; both finish and balance. */
static void test_ebizzy_with_hog(void **state)
{
	char a[512], b[512];
	const char *args[] = { "--timeout", "120", "--quiet", "--pcpus", "2", a, b, NULL };
	struct vmm_run r;

	(void)state;
	snprintf(a, sizeof(a), "%s:vcpus=4:args=rounds=4,sleep=500", guest("ebizzy-like"));
	snprintf(b, sizeof(b), "%s:vcpus=4:args=chunks=3,chunk=50,hogs=2", guest("cpu-hog"));
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, "ebizzy-like + cpu-hog");
	assert_int_equal(report_result(&r, 0, "ebizzy-like", "ops"), 16);
	assert_int_equal(report_result(&r, 1, "cpu-hog", "ops"), 6);
	assert_int_equal(report_int(json_object_get(report_vm(&r, 1), "interrupts"), "ipi_sent"),
			 0);
	vmm_run_free(&r);
}

/* Arguments a guest cannot use fail its VM with GUEST_STATUS_BAD_ARGS (6), not a hang. */
static void test_bad_args(void **state)
{
	static const char *const bad[] = { "dedup-like:vcpus=1:args=items=5",
					   "dedup-like:vcpus=4:args=depth=0",
					   "vips-like:vcpus=2:args=tiles=999",
					   "cpu-hog:vcpus=2:args=hogs=3" };
	char spec[512];
	const char *args[] = { "--timeout", "60", "--quiet", spec, NULL };
	struct vmm_run r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(spec, sizeof(spec), "%s%s", guest(""), bad[i]);
		assert_int_equal(vmm_run(&r, args), 0);
		if (r.status != 1 || !strstr(r.err, "status 6"))
			fail_msg("%s: exit %d, expected 1 with guest status 6: %s", bad[i],
				 r.status, r.err);
		vmm_run_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dedup),		cmocka_unit_test(test_vips),
		cmocka_unit_test(test_hackbench),	cmocka_unit_test(test_cpu_hog),
		cmocka_unit_test(test_ebizzy_with_hog), cmocka_unit_test(test_bad_args),
	};

	vmmtest_require_kvm("system/test_overcommit");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
