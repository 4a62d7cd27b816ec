// SPDX-License-Identifier: MIT
/*
 * The --trace timeline of a real multi-VM run (the demo's five VMs on the
 * default slots, halts, IPIs and spinlocks among them) is something a
 * viewer can show: every track's slices nest, every flow binds, processes
 * are ordered, the CLOCK_MONOTONIC zero is written, and it is compact.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static size_t count_named(json_t *doc, const char *ph, const char *name)
{
	json_t *e;
	size_t i, n = 0;

	json_array_foreach(json_object_get(doc, "traceEvents"), i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "ph")), ph) &&
		    !strcmp(json_string_value(json_object_get(e, "name")), name))
			n++;
	}
	return n;
}

static json_int_t vm_irq(const struct vmm_run *r, size_t vm, const char *key)
{
	return report_int(json_object_get(report_vm(r, vm), "interrupts"), key);
}

static void test_demo_trace(void **state)
{
	char path[] = "/tmp/vmmtest-trace-XXXXXX", specs[5][512];
	const char *args[] = { "--quiet", "--timeout", "120",	 "--trace-events", "200000",
			       "--trace", path,	       specs[0], specs[1],	   specs[2],
			       specs[3],  specs[4],    NULL };
	struct trace_counts c;
	json_int_t sent = 0, delivered = 0;
	struct timespec now;
	struct vmm_run r;
	json_error_t jerr;
	struct stat st;
	json_t *doc, *other;
	size_t i;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(specs[0], sizeof(specs[0]), "%s:vcpus=4", guest("hello"));
	snprintf(specs[1], sizeof(specs[1]), "%s:vcpus=2:args=rounds=100", guest("ipi-pingpong"));
	snprintf(specs[2], sizeof(specs[2]), "%s:vcpus=4:args=rounds=100", guest("ipi-storm"));
	snprintf(specs[3], sizeof(specs[3]), "%s:vcpus=4:args=iters=30", guest("lock-hammer"));
	snprintf(specs[4], sizeof(specs[4]), "%s:vcpus=4:args=rounds=20,sleep=500",
		 guest("ebizzy-like"));
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, "the demo with --trace");
	doc = json_load_file(path, 0, &jerr);
	if (!doc)
		fail_msg("trace does not parse: %s (line %d)", jerr.text, jerr.line);
	other = json_object_get(doc, "otherData");
	assert_int_equal(report_int(other, "dropped_events"), 0);
	trace_check(doc, "demo", &c);
	for (i = 0; i < 5; i++) {
		sent += vm_irq(&r, i, "ipi_sent");
		delivered += vm_irq(&r, i, "ipi_delivered");
	}
	assert_int_equal(c.flows_out, sent);
	assert_int_equal(c.flows_in, delivered);
	/* 18 vCPUs x 2 tracks, and the slot tracks; 5 VM processes and the slots, ordered. */
	assert_true(c.tracks > 18);
	assert_int_equal(count_named(doc, "M", "process_sort_index"), 6);
	assert_true(count_named(doc, "X", "runnable") > 0);
	assert_true(count_named(doc, "X", "halted") > 0);
	assert_true(count_named(doc, "X", "wrmsr:icr") > 0);
	/* The zero is a CLOCK_MONOTONIC time of this run: before now, within the last minutes. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	{
		json_int_t zero = report_int(other, "clock_monotonic_zero_ns");
		json_int_t t = (json_int_t)now.tv_sec * 1000000000 + now.tv_nsec;

		assert_true(zero > 0 && zero < t && t - zero < 600ll * 1000000000);
	}
	/* Compact: no indentation, so about one line per few hundred events at most. */
	assert_int_equal(stat(path, &st), 0);
	{
		FILE *f = fopen(path, "r");
		size_t lines = 0;
		int ch;

		assert_non_null(f);
		while ((ch = fgetc(f)) != EOF)
			lines += ch == '\n';
		fclose(f);
		assert_true(lines <= 2);
	}
	json_decref(doc);
	unlink(path);
	vmm_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_trace),
	};

	vmmtest_require_kvm("system/test_trace");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
