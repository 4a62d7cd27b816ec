// SPDX-License-Identifier: MIT
/*
 * The interrupt path on real guests: IPI ping-pong, an IPI storm whose
 * counts the guest and the VMM must agree on exactly (sent = delivered +
 * coalesced + dropped + pending), garbage APIC input, LAPIC timers, and
 * KVM's in-kernel LAPIC as the anchor.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "trace_check.h"
#include "vmmtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_int_t irq(const struct vmm_run *r, size_t vm, const char *key)
{
	json_t *v = json_object_get(json_object_get(report_vm(r, vm), "interrupts"), key);

	if (!v)
		fail_msg("vm %zu: no interrupts.%s in the report", vm, key);
	return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
}

static void test_pingpong(const char *wait, const char *irqchip)
{
	char spec[512];
	const char *args[] = { "--timeout", "120", "--quiet", "--irqchip", irqchip, spec, NULL };
	struct vmm_run r;
	json_int_t min, p50, p99, max;

	snprintf(spec, sizeof(spec), "%s:vcpus=2:args=rounds=60,wait=%s", guest("ipi-pingpong"),
		 wait);
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, NULL);
	assert_int_equal(report_result(&r, 0, "ipi-pingpong", "rounds"), 60);
	min = report_result(&r, 0, "ipi-pingpong", "min");
	p50 = report_result(&r, 0, "ipi-pingpong", "p50");
	p99 = report_result(&r, 0, "ipi-pingpong", "p99");
	max = report_result(&r, 0, "ipi-pingpong", "max");
	assert_true(0 < min && min <= p50 && p50 <= p99 && p99 <= max);
	if (!strcmp(irqchip, "user")) {
		/* Two IPIs a round, never two in flight: nothing coalesces or drops. */
		assert_int_equal(irq(&r, 0, "ipi_sent"), 120);
		assert_int_equal(irq(&r, 0, "ipi_delivered"), 120);
		assert_true(irq(&r, 0, "ipi_balanced"));
	}
	vmm_run_free(&r);
}

static void test_pingpong_halt(void **state)
{
	(void)state;
	test_pingpong("halt", "user");
}

static void test_pingpong_spin(void **state)
{
	(void)state;
	test_pingpong("spin", "user");
}

static void test_pingpong_kernel_irqchip(void **state)
{
	(void)state;
	test_pingpong("halt", "kernel");
}

/* Guest and VMM agree on every count of every VM of the run. */
static void check_storm(const struct vmm_run *r, size_t nr_vms)
{
	size_t i;

	vmm_expect_ok(r, NULL);
	for (i = 0; i < nr_vms; i++) {
		json_int_t sent = report_result(r, i, "ipi-storm", "sent");
		json_int_t received = report_result(r, i, "ipi-storm", "received");

		assert_true(irq(r, i, "ipi_balanced"));
		assert_int_equal(irq(r, i, "ipi_sent"), sent);
		assert_int_equal(irq(r, i, "ipi_delivered"), received);
		assert_int_equal(irq(r, i, "ipi_dropped"), 0);
		assert_int_equal(irq(r, i, "ipi_sent"), irq(r, i, "ipi_delivered") +
								irq(r, i, "ipi_coalesced") +
								irq(r, i, "ipi_pending"));
		assert_true(sent > 0);
	}
}

static void storm(unsigned int vms, unsigned int vcpus, unsigned int rounds, const char *fastpath)
{
	char spec[512];
	const char *args[8 + 16] = { "--timeout", "300", "--quiet", "--ipi-fastpath", fastpath };
	struct vmm_run r;
	unsigned int i;

	snprintf(spec, sizeof(spec), "%s:vcpus=%u:args=rounds=%u", guest("ipi-storm"), vcpus,
		 rounds);
	for (i = 0; i < vms; i++)
		args[5 + i] = spec;
	args[5 + vms] = NULL;
	assert_int_equal(vmm_run(&r, args), 0);
	check_storm(&r, vms);
	if (!strcmp(fastpath, "off"))
		assert_int_equal(irq(&r, 0, "ipi_fastpath_sent"), 0);
	else
		assert_true(irq(&r, 0, "ipi_fastpath_sent") > 0);
	vmm_run_free(&r);
}

static void test_storm_4(void **state)
{
	(void)state;
	storm(1, 4, 200, "on");
}

static void test_storm_8(void **state)
{
	(void)state;
	storm(1, 8, 200, "on");
}

static void test_storm_16(void **state)
{
	(void)state;
	storm(1, 16, 100, "on");
}

static void test_storm_generic_path(void **state)
{
	(void)state;
	storm(1, 4, 100, "off");
}

static void test_storm_4_vms(void **state)
{
	(void)state;
	storm(4, 8, 100, "on");
}

/* The bar: 4 VMs x 8 vCPUs on 2 host CPUs, 20 times in a row, counts always agree. */
static void test_storm_4_vms_20_times(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < 20; i++)
		storm(4, 8, 40, i % 2 ? "on" : "off");
}

static void test_apic_garbage(void **state)
{
	const char *args[] = { "--timeout", "120", "--quiet", NULL, guest("hello"), NULL };
	char spec[512];
	struct vmm_run r;

	(void)state;
	snprintf(spec, sizeof(spec), "%s:vcpus=2", guest("apic-garbage"));
	args[3] = spec;
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, NULL);
	/* Every #GP the guest took was one the VMM raised; every bad ICR was dropped. */
	assert_int_equal(report_result(&r, 0, "apic-garbage", "gp"), irq(&r, 0, "msr_gp"));
	assert_true(irq(&r, 0, "msr_gp") >= 8);
	assert_int_equal(report_result(&r, 0, "apic-garbage", "bad_icr"),
			 irq(&r, 0, "ipi_dropped"));
	assert_true(report_result(&r, 0, "apic-garbage", "esr") & (1 << 5));
	assert_true(irq(&r, 0, "ipi_balanced"));
	vmm_run_free(&r);
}

/*
 * IPIs waiting in IRR when the receiver disables its APIC are dropped, not
 * lost: sent = delivered + coalesced + dropped + pending across every
 * x2APIC -> disabled -> xAPIC -> x2APIC cycle (the old accounting kept them
 * as "came from an IPI" and the balance broke while the run exited 0).
 */
static void test_apic_reset(void **state)
{
	const char *args[] = { "--timeout", "60", "--quiet", NULL, NULL };
	char spec[512];
	struct vmm_run r;

	(void)state;
	snprintf(spec, sizeof(spec), "%s:vcpus=2:args=rounds=5", guest("apic-reset"));
	args[3] = spec;
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, "apic-reset");
	assert_true(report_result(&r, 0, "apic-reset", "received") >= 50);
	if (!irq(&r, 0, "ipi_balanced"))
		fail_msg(
			"sent %lld = delivered %lld + coalesced %lld + dropped %lld + pending %lld "
			"does not hold",
			(long long)irq(&r, 0, "ipi_sent"), (long long)irq(&r, 0, "ipi_delivered"),
			(long long)irq(&r, 0, "ipi_coalesced"),
			(long long)irq(&r, 0, "ipi_dropped"), (long long)irq(&r, 0, "ipi_pending"));
	assert_true(irq(&r, 0, "ipi_dropped") >= 1);
	vmm_run_free(&r);
}

/*
 * An NMI storm: the guest's handler count is what vmm calls delivered, and
 * the lost ones are counted coalesced, on a slot of its own, overcommitted
 * on one slot, and with Linux scheduling the threads. A healthy VM beside it
 * is unaffected.
 */
static void test_nmi_storm(void **state)
{
	static const char *const modes[][2] = { { "--pcpus", "2" },
						{ "--pcpus", "1" },
						{ "--sched", "host" } };
	char spec[512], hello[512];
	struct vmm_run r;
	size_t m;

	(void)state;
	snprintf(spec, sizeof(spec), "%s:vcpus=2:args=count=1500", guest("nmi-storm"));
	snprintf(hello, sizeof(hello), "%s:vcpus=2", guest("hello"));
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		const char *args[] = { "--timeout", "60", "--quiet", modes[m][0],
				       modes[m][1], spec, hello,     NULL };
		json_int_t sent, got;

		assert_int_equal(vmm_run(&r, args), 0);
		vmm_expect_ok(&r, modes[m][1]);
		sent = irq(&r, 0, "nmi_sent");
		got = report_result(&r, 0, "nmi-storm", "received");
		assert_int_equal(sent, report_result(&r, 0, "nmi-storm", "sent"));
		if (irq(&r, 0, "nmi_delivered") != got)
			fail_msg("%s %s: vmm says %lld NMIs delivered, the guest took %lld",
				 modes[m][0], modes[m][1], (long long)irq(&r, 0, "nmi_delivered"),
				 (long long)got);
		if (sent != got + irq(&r, 0, "nmi_coalesced") + irq(&r, 0, "nmi_pending") ||
		    !irq(&r, 0, "nmi_balanced"))
			fail_msg("%s %s: NMIs sent %lld != delivered %lld + coalesced %lld + "
				 "pending %lld",
				 modes[m][0], modes[m][1], (long long)sent, (long long)got,
				 (long long)irq(&r, 0, "nmi_coalesced"),
				 (long long)irq(&r, 0, "nmi_pending"));
		assert_int_equal(report_result(&r, 1, "hello", "vcpus"), 2);
		vmm_run_free(&r);
	}
}

/*
 * hackbench-like: every message arrives once and in order (the guest
 * checks), the wake IPIs balance, and the fastpath carries every one of
 * them when on and none when off; on slots and under --sched host.
 */
static void test_hackbench(void **state)
{
	static const char *const modes[][4] = {
		{ "--ipi-fastpath", "on", "--pcpus", "2" },
		{ "--ipi-fastpath", "off", "--pcpus", "2" },
		{ "--ipi-fastpath", "on", "--sched", "host" },
	};
	char spec[512];
	struct vmm_run r;
	size_t m;

	(void)state;
	snprintf(spec, sizeof(spec), "%s:vcpus=4:args=msgs=100", guest("hackbench-like"));
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		const char *args[] = { "--timeout", "60",	 "--quiet",
				       modes[m][0], modes[m][1], modes[m][2],
				       modes[m][3], spec,	 NULL };
		json_int_t sent;

		assert_int_equal(vmm_run(&r, args), 0);
		vmm_expect_ok(&r, modes[m][1]);
		assert_int_equal(report_result(&r, 0, "hackbench-like", "ops"), 200);
		sent = irq(&r, 0, "ipi_sent");
		assert_int_equal(sent, report_result(&r, 0, "hackbench-like", "ipis"));
		assert_true(sent > 0);
		assert_true(irq(&r, 0, "ipi_balanced"));
		assert_int_equal(irq(&r, 0, "ipi_fastpath_sent"),
				 strcmp(modes[m][1], "on") ? 0 : sent);
		vmm_run_free(&r);
	}
}

static void test_apic_timer(void **state)
{
	const char *args[] = { "--timeout", "120", "--quiet", NULL, NULL };
	char spec[512];
	struct vmm_run r;

	(void)state;
	snprintf(spec, sizeof(spec), "%s:vcpus=1", guest("apic-timer"));
	args[3] = spec;
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, NULL);
	assert_int_equal(report_result(&r, 0, "apic-timer", "periodic_ticks"), 10);
	assert_int_equal(report_result(&r, 0, "apic-timer", "past_deadline_fired"), 1);
	/* one-shot x2, periodic x10, deadline x2 at least */
	assert_true(irq(&r, 0, "timer_delivered") >= 14);
	vmm_run_free(&r);
}

static size_t trace_count(json_t *doc, const char *ph, const char *name)
{
	json_t *e;
	size_t i, n = 0;

	json_array_foreach(json_object_get(doc, "traceEvents"), i, e)
	{
		const char *nm = json_string_value(json_object_get(e, "name"));

		if (!strcmp(json_string_value(json_object_get(e, "ph")), ph) &&
		    (!name || !strncmp(nm, name, strlen(name))))
			n++;
	}
	return n;
}

/* A storm's trace: two tracks per vCPU, one flow start per post, one bound flow end per injection.
 */
static void test_storm_trace(void **state)
{
	char spec[512], path[] = "/tmp/vmmtest-trace-XXXXXX";
	const char *args[] = { "--timeout", "120", "--quiet", "--pcpus", "2",
			       "--trace",   path,  spec,      NULL };
	struct trace_counts c;
	struct vmm_run r;
	json_error_t jerr;
	json_t *doc;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "%s:vcpus=4:args=rounds=60", guest("ipi-storm"));
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, NULL);
	doc = json_load_file(path, 0, &jerr);
	if (!doc)
		fail_msg("trace does not parse: %s (line %d)", jerr.text, jerr.line);
	/* 4 vCPUs x (thread, scheduler) tracks in the VM's process, 2 slot tracks in "pCPU slots".
	 */
	assert_int_equal(trace_count(doc, "M", "thread_name"), 10);
	assert_int_equal(trace_count(doc, "M", "process_name"), 2);
	assert_true(trace_count(doc, "X", "guest") > 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "otherData"),
							    "dropped_events")),
			 0);
	trace_check(doc, "ipi-storm", &c);
	assert_int_equal(c.flows_out, irq(&r, 0, "ipi_sent"));
	assert_int_equal(c.flows_in, irq(&r, 0, "ipi_delivered"));
	json_decref(doc);
	unlink(path);
	vmm_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apic_reset),
		cmocka_unit_test(test_pingpong_halt),
		cmocka_unit_test(test_pingpong_spin),
		cmocka_unit_test(test_pingpong_kernel_irqchip),
		cmocka_unit_test(test_storm_4),
		cmocka_unit_test(test_storm_8),
		cmocka_unit_test(test_storm_16),
		cmocka_unit_test(test_storm_generic_path),
		cmocka_unit_test(test_storm_4_vms),
		cmocka_unit_test(test_storm_4_vms_20_times),
		cmocka_unit_test(test_apic_garbage),
		cmocka_unit_test(test_apic_timer),
		cmocka_unit_test(test_nmi_storm),
		cmocka_unit_test(test_hackbench),
		cmocka_unit_test(test_storm_trace),
	};

	vmmtest_require_kvm("system/test_ipi");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
