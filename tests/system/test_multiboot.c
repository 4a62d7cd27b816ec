// SPDX-License-Identifier: MIT
/*
 * Multiboot images (the platform kvm-unit-tests needs, docs/kvm-unit-tests.md)
 * with our own guest mb-smp: 32-bit entry, its own long-mode switch, xAPIC
 * MMIO then x2APIC, INIT/SIPI through a real-mode trampoline, fw_cfg's CPU
 * count, COM1 output, the command line and environment module, isa-debug-exit
 * status 1 for a pass. Under --irqchip user and kernel, every policy, one
 * slot, --sched host, and several VMs in one process.
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

static char env_path[64];

static int setup(void **state)
{
	FILE *f;
	int fd;

	(void)state;
	strcpy(env_path, "/tmp/vmmtest-mb-env-XXXXXX");
	fd = mkstemp(env_path);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		return -1;
	fputs("GREETING=hello\nTEST_DEVICE=0\n", f);
	return fclose(f);
}

static int teardown(void **state)
{
	(void)state;
	return unlink(env_path);
}

static void expect_in(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not in:\n%s", needle, hay);
}

/* VM i passed: status 1 ((0 << 1) | 1, as QEMU reports isa-debug-exit 0), ok in the JSON. */
static void expect_pass(const struct vmm_run *r, size_t i, unsigned int cpus)
{
	json_t *vm = report_vm(r, i);
	char line[96];

	assert_true(json_is_true(json_object_get(vm, "ok")));
	assert_string_equal(json_string_value(json_object_get(vm, "end")), "shutdown");
	assert_int_equal(report_int(vm, "status"), 1);
	snprintf(line, sizeof(line), "/cpu0] mb-smp: PASS: %u CPUs up, an IPI to each AP", cpus);
	expect_in(r->out, line);
	/* The BSP asked fw_cfg (select + 2 bytes) and used the xAPIC page before x2APIC. */
	assert_true(report_exit_count(r, i, "io:fw-cfg") >= 3);
	assert_true(report_exit_count(r, i, "io:serial") > 0);
}

static void boot(const char *irqchip)
{
	char spec[256];
	const char *args[] = { "--irqchip", irqchip, spec, NULL };
	struct vmm_run r;

	snprintf(spec, sizeof(spec), "%s:vcpus=3:env=%s:args=one two", guest("mb-smp"), env_path);
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, irqchip);
	expect_pass(&r, 0, 3);
	/* argv[0] is the image, then the arguments; the module is the environment. */
	expect_in(r.out, "] mb-smp: cmdline '");
	expect_in(r.out, "/mb-smp one two', 130048 KiB above 1 MiB");
	expect_in(r.out, "[vm0/cpu0] mb-smp: env GREETING=hello");
	/* Ours has seven LVTs (0x60014), KVM's six (0x50014): version 0x14 either way. */
	expect_in(r.out, "[vm0/cpu0] mb-smp: fw_cfg says 3 CPUs, xAPIC version ");
	expect_in(r.out, "[vm0/cpu1] mb-smp: AP 1 up in long mode (xAPIC ID 1)");
	expect_in(r.out, "[vm0/cpu2] mb-smp: AP 2 up in long mode (xAPIC ID 2)");
	expect_in(r.err, "isa-debug-exit: vCPU 0 wrote 0x0: status 1");
	if (!strcmp(irqchip, "user")) {
		/* Our APIC saw the page, and the unhandled port was reported once. */
		assert_true(report_exit_count(&r, 0, "mmio:apic") > 0);
		expect_in(r.out, "xAPIC version 60014");
		expect_in(r.err, "in from port 0x1234 (4 bytes) reaches no device");
	}
	vmm_run_free(&r);
}

static void test_irqchip_user(void **state)
{
	(void)state;
	boot("user");
}

static void test_irqchip_kernel(void **state)
{
	(void)state;
	boot("kernel");
}

/* Three VMs on one slot under each policy, then with no slots (--sched host). */
static void test_policies_and_vms(void **state)
{
	static const char *const modes[][4] = {
		{ "--pcpus", "1", "--policy", "none" },
		{ "--pcpus", "1", "--policy", "preempted" },
		{ "--pcpus", "1", "--policy", "ready" },
		{ "--pcpus", "1", "--policy", "ipi-aware" },
		{ "--pcpus", "2", "--policy", "ipi-aware" },
		{ "--sched", "host", NULL, NULL },
	};
	char a[128], b[128], c[128];
	unsigned int m;

	(void)state;
	snprintf(a, sizeof(a), "%s:vcpus=4", guest("mb-smp"));
	snprintf(b, sizeof(b), "%s:vcpus=2:name=two", guest("mb-smp"));
	snprintf(c, sizeof(c), "%s:vcpus=1", guest("mb-smp"));
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		const char *args[] = { modes[m][0], modes[m][1], a, b, c, NULL, NULL, NULL };
		struct vmm_run r;

		if (modes[m][2]) {
			args[2] = modes[m][2];
			args[3] = modes[m][3];
			args[4] = a;
			args[5] = b;
			args[6] = c;
		}
		assert_int_equal(vmm_run(&r, args), 0);
		vmm_expect_ok(&r, modes[m][3] ? modes[m][3] : "--sched host");
		expect_pass(&r, 0, 4);
		expect_pass(&r, 1, 2);
		expect_pass(&r, 2, 1);
		expect_in(r.out, "[two/cpu1] mb-smp: AP 1 up in long mode");
		vmm_run_free(&r);
	}
}

/* env= belongs to multiboot images: an ELF64 one refuses it, naming why (exit 2). */
static void test_env_on_elf64(void **state)
{
	char spec[256];
	const char *args[] = { spec, NULL };
	struct vmm_run r;

	(void)state;
	snprintf(spec, sizeof(spec), "%s:env=%s", guest("hello"), env_path);
	assert_int_equal(vmm_run_plain(&r, args), 0);
	assert_int_equal(r.status, 2);
	expect_in(r.err, "env= is for multiboot images; this is an ELF64 one (use args=)");
	vmm_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_irqchip_user),
		cmocka_unit_test(test_irqchip_kernel),
		cmocka_unit_test(test_policies_and_vms),
		cmocka_unit_test(test_env_on_elf64),
	};

	vmmtest_require_kvm("test_multiboot");
	return cmocka_run_group_tests(tests, setup, teardown);
}
