// SPDX-License-Identifier: MIT
/*
 * Cross-check with the kernel's own accounting: the number of exits vmm
 * counted must equal the kvm:kvm_userspace_exit tracepoint's count exactly
 * (every KVM_RUN return, -EINTR included). Skips with one line where perf or
 * the tracepoint is unavailable.
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

static char perf_out[64];

/* Tracepoint count from `perf stat -x,` output, or -1. */
static long long perf_count(const char *path)
{
	char line[512];
	long long n = -1;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "kvm:kvm_userspace_exit"))
			n = strtoll(line, NULL, 10);
	if (f)
		fclose(f);
	return n;
}

static void cross_check(const char *const *args)
{
	const char *prefix[] = { "perf", "stat",   "-x,", "-e", "kvm:kvm_userspace_exit",
				 "-o",	 perf_out, "--",  NULL };
	struct vmm_run r;
	long long kernel;
	json_int_t ours;

	assert_int_equal(vmm_run_under(&r, prefix, args), 0);
	vmm_expect_ok(&r, "under perf");
	kernel = perf_count(perf_out);
	ours = json_integer_value(json_object_get(json_object_get(r.json, "exits"), "total"));
	printf("exits: vmm %lld, kvm:kvm_userspace_exit %lld\n", (long long)ours, kernel);
	assert_true(kernel > 0);
	assert_int_equal(ours, kernel);
	vmm_run_free(&r);
	unlink(perf_out);
}

static void test_hello_and_spin(void **state)
{
	char a[512], b[512];
	const char *args[] = { "--quiet", a, b, NULL };

	(void)state;
	snprintf(a, sizeof(a), "%s:vcpus=4", guest("hello"));
	snprintf(b, sizeof(b), "%s:vcpus=3:args=count=40", guest("spin-notify"));
	cross_check(args);
}

static void test_ipi_storm(void **state)
{
	char a[512];
	const char *args[] = { "--quiet", a, a, NULL };

	(void)state;
	snprintf(a, sizeof(a), "%s:vcpus=4:args=rounds=60", guest("ipi-storm"));
	cross_check(args);
}

/* perf present, and allowed to count the tracepoint? */
static int perf_usable(void)
{
	int rc = system("perf stat -x, -e kvm:kvm_userspace_exit -o /dev/null -- true "
			">/dev/null 2>&1");

	return rc == 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_and_spin),
		cmocka_unit_test(test_ipi_storm),
	};

	vmmtest_require_kvm("system/test_perf");
	if (!perf_usable()) {
		fprintf(stderr, "SKIP: system/test_perf: perf or the kvm:kvm_userspace_exit "
				"tracepoint is not available: exit counts NOT cross-checked\n");
		return 77;
	}
	snprintf(perf_out, sizeof(perf_out), "/tmp/vmmtest-perf-%d.txt", (int)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
