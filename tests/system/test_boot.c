// SPDX-License-Identifier: MIT
/*
 * Boot real guests on /dev/kvm: hello at 1, 4 and 16 vCPUs, several VMs at
 * once, a failing VM beside a healthy one, a guest that never stops.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmmtest.h"
#include "vmm_abi.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static json_int_t vm_int(const struct vmm_run *r, size_t vm, const char *key)
{
	return json_integer_value(json_object_get(report_vm(r, vm), key));
}

static const char *vm_str(const struct vmm_run *r, size_t vm, const char *key)
{
	return json_string_value(json_object_get(report_vm(r, vm), key));
}

static size_t count_substr(const char *s, const char *needle)
{
	size_t n = 0;

	while ((s = strstr(s, needle))) {
		n++;
		s++;
	}
	return n;
}

/* Per-vCPU exit counts add up to the VM's, and the VM's to the run's. */
static void check_exit_totals(const struct vmm_run *r)
{
	json_t *vms = json_object_get(r->json, "vms"), *vm, *vc;
	json_int_t all = 0;
	size_t i, j;

	json_array_foreach(vms, i, vm)
	{
		json_int_t sum = 0, total;

		json_array_foreach(json_object_get(vm, "vcpu"), j, vc) sum +=
			json_integer_value(json_object_get(json_object_get(vc, "exits"), "total"));
		total = json_integer_value(json_object_get(json_object_get(vm, "exits"), "total"));
		assert_int_equal(sum, total);
		assert_true(total > 0);
		all += total;
	}
	assert_int_equal(all, json_integer_value(
				      json_object_get(json_object_get(r->json, "exits"), "total")));
}

/* The printed perf-style table and the JSON count the same samples. */
static void check_table_total(const struct vmm_run *r)
{
	const char *p = strstr(r->out, "Total Samples:");
	long long printed;

	assert_non_null(p);
	printed = strtoll(p + strlen("Total Samples:"), NULL, 10);
	assert_int_equal(printed, json_integer_value(json_object_get(
					  json_object_get(r->json, "exits"), "total")));
}

static void boot_hello(unsigned int vcpus)
{
	char spec[512], line[64];
	const char *args[] = { "--timeout", "60", spec, NULL };
	struct vmm_run r;
	unsigned int i;

	snprintf(spec, sizeof(spec), "%s:vcpus=%u", guest("hello"), vcpus);
	assert_int_equal(vmm_run(&r, args), 0);
	assert_int_equal(r.status, 0);
	assert_true(json_is_true(json_object_get(report_vm(&r, 0), "ok")));
	assert_string_equal(vm_str(&r, 0, "end"), "shutdown");
	assert_int_equal(vm_int(&r, 0, "vcpus"), vcpus);
	assert_int_equal(report_result(&r, 0, "hello", "vcpus"), vcpus);
	for (i = 0; i < vcpus; i++) {
		snprintf(line, sizeof(line), "[vm0/cpu%u] hello from vCPU %u of %u\n", i, i, vcpus);
		assert_int_equal(count_substr(r.out, line), 1);
	}
	assert_int_equal(report_exit_count(&r, 0, "io:shutdown"), 1);
	assert_int_equal(report_exit_count(&r, 0, "io:result"), 1);
	check_exit_totals(&r);
	check_table_total(&r);
	vmm_run_free(&r);
}

static void test_hello_1(void **state)
{
	(void)state;
	boot_hello(1);
}

static void test_hello_4(void **state)
{
	(void)state;
	boot_hello(4);
}

static void test_hello_16(void **state)
{
	(void)state;
	boot_hello(16);
}

static void test_three_vms(void **state)
{
	const char *args[] = { "--timeout", "60", "--quiet", guest("hello"), NULL, NULL, NULL };
	char b[512], c[512];
	struct vmm_run r;
	size_t i;

	(void)state;
	snprintf(b, sizeof(b), "%s:vcpus=3", guest("hello"));
	snprintf(c, sizeof(c), "%s:vcpus=4:mem=32M", guest("hello"));
	args[4] = b;
	args[5] = c;
	assert_int_equal(vmm_run(&r, args), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(json_array_size(json_object_get(r.json, "vms")), 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(vm_str(&r, i, "end"), "shutdown");
		assert_int_equal(report_result(&r, i, "hello", "vcpus"), vm_int(&r, i, "vcpus"));
	}
	assert_int_equal(vm_int(&r, 2, "ram_bytes"), 32 << 20);
	assert_null(strstr(r.out, "hello from")); /* --quiet */
	check_exit_totals(&r);
	vmm_run_free(&r);
}

static void test_triple_fault_beside_healthy(void **state)
{
	char h[512];
	const char *args[] = { "--timeout", "60", guest("triple-fault"), h, NULL };
	struct vmm_run r;

	(void)state;
	snprintf(h, sizeof(h), "%s:vcpus=4", guest("hello"));
	assert_int_equal(vmm_run(&r, args), 0);
	assert_int_equal(r.status, 1);
	assert_string_equal(vm_str(&r, 0, "end"), "triple-fault");
	assert_true(json_is_false(json_object_get(report_vm(&r, 0), "ok")));
	assert_non_null(strstr(vm_str(&r, 0, "message"), "triple fault on vCPU 0 at RIP 0x"));
	assert_string_equal(vm_str(&r, 1, "end"), "shutdown");
	assert_int_equal(report_result(&r, 1, "hello", "vcpus"), 4);
	assert_non_null(strstr(r.err, "vmm: 1 of 2 VMs failed:"));
	assert_non_null(strstr(r.err, "vm0 (triple-fault): triple-fault: triple fault"));
	vmm_run_free(&r);
}

static void test_exception_reported(void **state)
{
	const char *args[] = { "--timeout", "60", guest("exception"), NULL, guest("hello"), NULL };
	char pf[512];
	struct vmm_run r;

	(void)state;
	snprintf(pf, sizeof(pf), "%s:args=vector=14", guest("exception"));
	args[3] = pf;
	assert_int_equal(vmm_run(&r, args), 0);
	assert_int_equal(r.status, 1);
	assert_int_equal(vm_int(&r, 0, "status"), VMM_STATUS_EXCEPTION(0));
	assert_non_null(strstr(vm_str(&r, 0, "message"), "#DE"));
	assert_int_equal(vm_int(&r, 1, "status"), VMM_STATUS_EXCEPTION(14));
	assert_non_null(strstr(vm_str(&r, 1, "message"), "#PF"));
	/* The guest's handler printed the faulting RIP through the console. */
	assert_non_null(strstr(r.out, "[vm0/cpu0] "));
	assert_non_null(strstr(r.out, "RIP"));
	assert_string_equal(vm_str(&r, 2, "end"), "shutdown");
	assert_true(json_is_true(json_object_get(report_vm(&r, 2), "ok")));
	vmm_run_free(&r);
}

/*
 * A periodic LAPIC timer of 1000 cycles with interrupts off used to stall its
 * vCPU in exits for good; clamped to 200 us it finishes, fires at most once
 * per 200 us, and the VM beside it is untouched.
 */
static void test_timer_storm(void **state)
{
	const char *args[] = { "--quiet",      "--timeout", "30", guest("timer-storm"),
			       guest("hello"), NULL };
	json_t *ints;
	struct vmm_run r;
	double secs;

	(void)state;
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, "timer-storm");
	assert_true(report_result(&r, 0, "timer-storm", "ticks") >= 3);
	ints = json_object_get(report_vm(&r, 0), "interrupts");
	secs = json_number_value(json_object_get(report_vm(&r, 0), "seconds"));
	if (report_int(ints, "timer_fired") > (json_int_t)(secs / 200e-6) + 2)
		fail_msg("%lld timer expiries in %.3f s: faster than one per 200 us",
			 (long long)report_int(ints, "timer_fired"), secs);
	vmm_run_free(&r);
}

/* What the guest died of is named: an exception, a reserved vector, an interrupt. */
static void test_vector_names(void **state)
{
	static const struct {
		const char *report, *want;
	} cases[] = {
		{ "13", "unhandled exception #GP (vector 13)" },
		{ "31", "unhandled reserved exception (vector 31)" },
		{ "29", "unhandled exception #VC (vector 29)" },
		{ "64", "unhandled interrupt (vector 64)" },
	};
	char spec[512];
	const char *args[] = { "--quiet", spec, NULL };
	struct vmm_run r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(spec, sizeof(spec), "%s:args=report=%s", guest("exception"),
			 cases[i].report);
		assert_int_equal(vmm_run(&r, args), 0);
		assert_int_equal(r.status, 1);
		if (!strstr(vm_str(&r, 0, "message"), cases[i].want))
			fail_msg("report=%s: '%s', want '%s'", cases[i].report,
				 vm_str(&r, 0, "message"), cases[i].want);
		vmm_run_free(&r);
	}
}

/* An instruction KVM's emulator lacks (int $31) is named as such, with its bytes; hello runs on. */
static void test_emulation_failure(void **state)
{
	char spec[512];
	const char *args[] = { "--quiet", spec, guest("hello"), NULL };
	struct vmm_run r;

	(void)state;
	snprintf(spec, sizeof(spec), "%s:args=vector=31", guest("exception"));
	assert_int_equal(vmm_run(&r, args), 0);
	assert_int_equal(r.status, 1);
	assert_string_equal(vm_str(&r, 0, "end"), "unexpected-exit");
	if (!strstr(vm_str(&r, 0, "message"), "KVM could not emulate the instruction at RIP") ||
	    !strstr(vm_str(&r, 0, "message"), "(bytes cd 1f"))
		fail_msg("message: %s", vm_str(&r, 0, "message"));
	assert_true(json_is_true(json_object_get(report_vm(&r, 1), "ok")));
	vmm_run_free(&r);
}

static void test_timeout(void **state)
{
	const char *args[] = { "--timeout", "1.5", guest("forever"), guest("hello"), NULL };
	struct vmm_run r;
	double secs;

	(void)state;
	assert_int_equal(vmm_run(&r, args), 0);
	assert_int_equal(r.status, 1);
	assert_string_equal(vm_str(&r, 0, "end"), "timeout");
	secs = json_number_value(json_object_get(report_vm(&r, 0), "seconds"));
	assert_true(secs >= 1.5);
	assert_string_equal(vm_str(&r, 1, "end"), "shutdown");
	assert_true(json_is_true(json_object_get(report_vm(&r, 1), "ok")));
	assert_non_null(strstr(r.err, "vm0 (forever): timeout: still running after the 1.500 s"));
	vmm_run_free(&r);
}

/*
 * PAUSE exits are off wherever KVM can turn them off (its own
 * kvm_vcpu_on_spin would otherwise act beside our policy), and the report
 * says which it is, in the header and the JSON.
 */
static void test_pause_exits_reported(void **state)
{
	const char *args[] = { "--quiet", guest("hello"), NULL };
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm, have;
	const char *said;
	struct vmm_run r;

	(void)state;
	assert_true(fd >= 0);
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	assert_true(vm >= 0);
	have = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_X86_DISABLE_EXITS);
	close(vm);
	close(fd);
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, NULL);
	said = json_string_value(
		json_object_get(json_object_get(report_vm(&r, 0), "interrupts"), "pause_exits"));
	assert_non_null(said);
	if (have > 0 && (have & KVM_X86_DISABLE_EXITS_PAUSE))
		assert_string_equal(said, "disabled");
	else
		assert_true(!strncmp(said, "kept: ", 6));
	if (!strstr(r.out, "PAUSE exits: ") || !strstr(r.out, said))
		fail_msg("the report header does not say '%s': %s", said, r.out);
	vmm_run_free(&r);
}

/* A VM's name= is its name everywhere: console prefix, every table, the JSON. */
static void test_named_vms(void **state)
{
	char a[512], b[512];
	const char *args[] = { a, b, NULL };
	struct vmm_run r;

	(void)state;
	snprintf(a, sizeof(a), "%s:name=alpha", guest("hello"));
	snprintf(b, sizeof(b), "%s:vcpus=2:name=web.1:args=rounds=20", guest("ipi-pingpong"));
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, NULL);
	assert_string_equal(json_string_value(json_object_get(report_vm(&r, 0), "name")), "alpha");
	assert_string_equal(json_string_value(json_object_get(report_vm(&r, 1), "name")), "web.1");
	if (!strstr(r.out, "[alpha/cpu0] hello from vCPU 0") || !strstr(r.out, "\nalpha ") ||
	    !strstr(r.out, "\nweb.1 ") || !strstr(r.out, "  alpha/cpu0 hello:") ||
	    strstr(r.out, "vm0") || strstr(r.out, "vm1"))
		fail_msg("the names are not used everywhere: %s", r.out);
	vmm_run_free(&r);
}

/* The total of the first exit table under --vm/--vcpu, from stdout. */
static long long first_total(const char *out, const char *scope)
{
	char head[160];
	const char *p;

	snprintf(head, sizeof(head), "Analyze events for %s:", scope);
	p = strstr(out, head);
	if (!p)
		fail_msg("no table '%s' in: %s", head, out);
	p = strstr(p, "Total Samples:");
	assert_non_null(p);
	return atoll(p + strlen("Total Samples:"));
}

/* Sum of the JSON's all-VMs exit counts whose key starts with one of the prefixes. */
static long long class_total(const struct vmm_run *r, const char *p1, const char *p2)
{
	json_t *by = json_object_get(json_object_get(r->json, "exits"), "by_key"), *e;
	const char *k;
	long long n = 0;

	json_object_foreach(by, k, e)
	{
		if (!strncmp(k, p1, strlen(p1)) || (p2 && !strncmp(k, p2, strlen(p2))))
			n += report_int(e, "count");
	}
	return n;
}

/* --event io|msr: the table holds exactly that class of exits, each MSR kind by name. */
static void test_event_class(void **state)
{
	char a[512];
	const char *msr[] = { "--quiet", "--event", "msr", a, NULL };
	const char *io[] = { "--quiet", "--event", "io", a, NULL };
	struct vmm_run r;

	(void)state;
	snprintf(a, sizeof(a), "%s:vcpus=1", guest("apic-timer"));
	assert_int_equal(vmm_run(&r, msr), 0);
	vmm_expect_ok(&r, NULL);
	assert_int_equal(first_total(r.out, "all VMs, all VCPUs"),
			 class_total(&r, "rdmsr:", "wrmsr:"));
	assert_true(report_exit_count(&r, 0, "wrmsr:apic-base") >= 1);
	assert_true(report_exit_count(&r, 0, "wrmsr:svr") >= 1);
	assert_null(strstr(r.out, " io:"));
	vmm_run_free(&r);
	assert_int_equal(vmm_run(&r, io), 0);
	vmm_expect_ok(&r, NULL);
	assert_int_equal(first_total(r.out, "all VMs, all VCPUs"), class_total(&r, "io:", NULL));
	assert_null(strstr(r.out, "wrmsr:"));
	vmm_run_free(&r);
}

/* --vm and --vcpu select what the tables count: exactly that VM's or vCPU's exits. */
static void test_selectors(void **state)
{
	char a[512], b[512];
	const char *vm_args[] = { "--quiet", "--vm", "storm", a, b, NULL };
	const char *vcpu_args[] = { "--quiet", "--vm", "1", "--vcpu", "2", a, b, NULL };
	const char *all_vcpu1[] = { "--quiet", "--vcpu", "1", a, b, NULL };
	json_t *vm;
	struct vmm_run r;

	(void)state;
	snprintf(a, sizeof(a), "%s:vcpus=2", guest("hello"));
	snprintf(b, sizeof(b), "%s:vcpus=3:name=storm:args=rounds=30", guest("ipi-storm"));
	assert_int_equal(vmm_run(&r, vm_args), 0);
	vmm_expect_ok(&r, NULL);
	assert_int_equal(first_total(r.out, "storm (ipi-storm), all VCPUs"),
			 report_int(json_object_get(report_vm(&r, 1), "exits"), "total"));
	vmm_run_free(&r);
	assert_int_equal(vmm_run(&r, vcpu_args), 0);
	vmm_expect_ok(&r, NULL);
	vm = json_array_get(json_object_get(report_vm(&r, 1), "vcpu"), 2);
	assert_int_equal(first_total(r.out, "storm (ipi-storm), VCPU 2"),
			 report_int(json_object_get(vm, "exits"), "total"));
	vmm_run_free(&r);
	assert_int_equal(vmm_run(&r, all_vcpu1), 0);
	vmm_expect_ok(&r, NULL);
	assert_int_equal(
		first_total(r.out, "all VMs, VCPU 1"),
		report_int(json_object_get(
				   json_array_get(json_object_get(report_vm(&r, 0), "vcpu"), 1),
				   "exits"),
			   "total") +
			report_int(json_object_get(
					   json_array_get(json_object_get(report_vm(&r, 1), "vcpu"),
							  1),
					   "exits"),
				   "total"));
	vmm_run_free(&r);
}

/*
 * timer-latency (tscdeadline_latency's shape): every sample's timer fired
 * and was delivered once, and the statistics are ordered, halted or spinning.
 */
static void test_timer_latency(void **state)
{
	static const char *const waits[] = { "spin=0", "spin=1" };
	char spec[512];
	const char *args[] = { "--quiet", spec, NULL };
	struct vmm_run r;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		json_int_t mn, p25, p50, p75, mx, mean;

		snprintf(spec, sizeof(spec), "%s:vcpus=1:args=samples=30,%s",
			 guest("timer-latency"), waits[i]);
		assert_int_equal(vmm_run(&r, args), 0);
		vmm_expect_ok(&r, waits[i]);
		assert_int_equal(report_result(&r, 0, "timer-latency", "samples"), 30);
		mn = report_result(&r, 0, "timer-latency", "min");
		p25 = report_result(&r, 0, "timer-latency", "p25");
		p50 = report_result(&r, 0, "timer-latency", "p50");
		p75 = report_result(&r, 0, "timer-latency", "p75");
		mx = report_result(&r, 0, "timer-latency", "max");
		mean = report_result(&r, 0, "timer-latency", "mean");
		if (!(mn <= p25 && p25 <= p50 && p50 <= p75 && p75 <= mx && mn <= mean &&
		      mean <= mx))
			fail_msg("%s: min %lld p25 %lld p50 %lld p75 %lld max %lld mean %lld",
				 waits[i], (long long)mn, (long long)p25, (long long)p50,
				 (long long)p75, (long long)mx, (long long)mean);
		assert_int_equal(report_int(json_object_get(report_vm(&r, 0), "interrupts"),
					    "timer_delivered"),
				 30);
		vmm_run_free(&r);
	}
}

static void test_spin_notify_counted(void **state)
{
	const char *args[] = { "--timeout", "60", "--quiet", NULL, NULL };
	char spec[512];
	struct vmm_run r;

	(void)state;
	snprintf(spec, sizeof(spec), "%s:vcpus=3:args=count=25", guest("spin-notify"));
	args[3] = spec;
	assert_int_equal(vmm_run(&r, args), 0);
	assert_int_equal(r.status, 0);
	/* The guest counts what it sent; the VMM counts the exits it handled. */
	assert_int_equal(report_exit_count(&r, 0, "io:spin"), 75);
	assert_int_equal(report_result(&r, 0, "spin-notify", "total"), 75);
	vmm_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_1),
		cmocka_unit_test(test_pause_exits_reported),
		cmocka_unit_test(test_named_vms),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_event_class),
		cmocka_unit_test(test_hello_4),
		cmocka_unit_test(test_hello_16),
		cmocka_unit_test(test_three_vms),
		cmocka_unit_test(test_triple_fault_beside_healthy),
		cmocka_unit_test(test_exception_reported),
		cmocka_unit_test(test_emulation_failure),
		cmocka_unit_test(test_vector_names),
		cmocka_unit_test(test_timer_storm),
		cmocka_unit_test(test_timer_latency),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_spin_notify_counted),
	};

	vmmtest_require_kvm("system/test_boot");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
