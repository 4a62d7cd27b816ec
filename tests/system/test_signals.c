// SPDX-License-Identifier: MIT
/*
 * Ctrl-C, SIGTERM and SIGHUP reach the main thread, which sleeps in ppoll
 * with only those unblocked (every vCPU thread blocks them): a run that would
 * go on for minutes ends at once with every VM "interrupted", the report on
 * stdout, the JSON written and exit status 1. A report that cannot be
 * written (stdout on a full device) is exit status 4, not success.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmmtest.h"

#include <stdio.h>
#include <string.h>

static void interrupt_with(const char *sig, const char *name)
{
	/* timeout(1) sends the signal after 1 s and passes vmm's own exit status on. */
	const char *prefix[] = { "timeout", "--preserve-status", "-s", sig, "1", NULL };
	char spec[512];
	const char *args[] = { "--quiet", "--timeout", "20", spec, spec, NULL };
	struct vmm_run r;
	json_t *vm;
	size_t i;

	snprintf(spec, sizeof(spec), "%s:vcpus=4:args=iters=100000", guest("lock-hammer"));
	assert_int_equal(vmm_run_under(&r, prefix, args), 0);
	if (r.status != 1)
		fail_msg("SIG%s: vmm exited %d, want 1; stderr: %s", sig, r.status, r.err);
	if (!strstr(r.err, name) || !strstr(r.err, "stopping all VMs, the report follows"))
		fail_msg("SIG%s: stderr does not say it stopped: %s", sig, r.err);
	assert_non_null(strstr(r.out, "== vmm report: 2 VMs"));
	assert_non_null(r.json);
	json_array_foreach(json_object_get(r.json, "vms"), i, vm)
	{
		const char *end = json_string_value(json_object_get(vm, "end"));

		if (!end || strcmp(end, "interrupted"))
			fail_msg("SIG%s: vm%zu ended '%s', want 'interrupted'", sig, i,
				 end ? end : "?");
	}
	assert_int_equal(json_array_size(json_object_get(r.json, "vms")), 2);
	check_slot_books(&r, sig);
	vmm_run_free(&r);
}

static void test_sigint(void **state)
{
	(void)state;
	interrupt_with("INT", "Interrupt");
}

static void test_sigterm(void **state)
{
	(void)state;
	interrupt_with("TERM", "Terminated");
}

/* A closed terminal: SIGHUP ends the run like SIGTERM, report and JSON included. */
static void test_sighup(void **state)
{
	(void)state;
	interrupt_with("HUP", "Hangup");
}

/*
 * A report that cannot be written is an error, not a success: stdout on a
 * full device exits 4 with the reason, and the JSON still says so.
 */
static void test_stdout_full(void **state)
{
	const char *prefix[] = { "sh", "-c", "exec \"$0\" \"$@\" >/dev/full", NULL };
	char spec[512];
	const char *args[] = { "--quiet", spec, NULL };
	struct vmm_run r;

	(void)state;
	snprintf(spec, sizeof(spec), "%s:vcpus=2", guest("hello"));
	assert_int_equal(vmm_run_under(&r, prefix, args), 0);
	if (r.status != 4 ||
	    !strstr(r.err, "vmm: stdout: cannot write the report: No space left on device"))
		fail_msg("stdout on /dev/full: exit %d, stderr: %s", r.status, r.err);
	assert_non_null(r.json);
	assert_int_equal(json_integer_value(json_object_get(r.json, "exit_code")), 4);
	vmm_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigint),
		cmocka_unit_test(test_sigterm),
		cmocka_unit_test(test_sighup),
		cmocka_unit_test(test_stdout_full),
	};

	vmmtest_require_kvm("system/test_signals");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
