// SPDX-License-Identifier: MIT
/*
 * vmm report FILE.json prints a saved run's summary and tables again, and
 * they are the run's own, byte for byte: with the default options, with
 * --sort/--report/--hist/--vm/--vcpu, and without timing (--no-stats).
 * A file that is not a report, a damaged histogram or an option that does
 * not shape the tables is refused in one line naming the file and field.
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

#define MAX_OPTS 16

static char json_path[] = "/tmp/vmmtest-report-XXXXXX";

/* The summary table, and the exit tables to the end: what both print. */
static char *tables(const char *out)
{
	const char *sum = strstr(out, "\nVM    image"), *end = NULL, *exits = NULL;
	char *t;

	if (!sum || !(end = strstr(sum, "\n\n")) || !(exits = strstr(end, "\nAnalyze events for ")))
		fail_msg("no summary or exit table in: %s", out);
	t = malloc((size_t)(end - sum) + strlen(exits) + 1);
	assert_non_null(t);
	memcpy(t, sum, (size_t)(end - sum));
	strcpy(t + (end - sum), exits);
	return t;
}

/* live_only: options of the run that vmm report does not take (they are in the JSON). */
static void same_as_live(const char *const *opts, const char *live_only)
{
	char storm[512], hello[512];
	const char *live[MAX_OPTS + 8] = { "--quiet", "--json", json_path },
				    *again[MAX_OPTS + 4] = { "report" };
	struct vmm_run a, b;
	size_t n = 3, m = 1, i;
	char *ta, *tb;

	snprintf(storm, sizeof(storm), "%s:vcpus=3:name=storm:args=rounds=30", guest("ipi-storm"));
	snprintf(hello, sizeof(hello), "%s:vcpus=2", guest("hello"));
	if (live_only)
		live[n++] = live_only;
	for (i = 0; opts[i]; i++) {
		live[n++] = opts[i];
		again[m++] = opts[i];
	}
	live[n++] = storm;
	live[n++] = hello;
	live[n] = NULL;
	again[m++] = json_path;
	again[m] = NULL;
	assert_int_equal(vmm_run_plain(&a, live), 0);
	vmm_expect_ok(&a, "the live run");
	assert_int_equal(vmm_run_plain(&b, again), 0);
	vmm_expect_ok(&b, "vmm report");
	ta = tables(a.out);
	tb = tables(b.out);
	if (strcmp(ta, tb))
		fail_msg("vmm report printed other tables than the run.\n--- run:\n%s\n--- "
			 "report:\n%s",
			 ta, tb);
	free(ta);
	free(tb);
	vmm_run_free(&a);
	vmm_run_free(&b);
}

static void test_default(void **state)
{
	const char *opts[] = { NULL };

	(void)state;
	same_as_live(opts, NULL);
}

static void test_options(void **state)
{
	const char *opts[] = { "--sort",    "time",   "--report",  "vcpu", "--hist",
			       "wrmsr:icr", "--hist", "event:ipi", "--vm", "storm",
			       "--vcpu",    "1",      NULL };

	(void)state;
	same_as_live(opts, NULL);
}

static void test_event_class(void **state)
{
	const char *opts[] = { "--event", "msr", "--report", "vm", NULL };

	(void)state;
	same_as_live(opts, NULL);
}

static void test_no_stats(void **state)
{
	const char *opts[] = { "--report", "vm", NULL };

	(void)state;
	same_as_live(opts, "--no-stats");
}

static void expect_refused(const char *const *args, const char *what)
{
	struct vmm_run r;

	assert_int_equal(vmm_run_plain(&r, args), 0);
	if (r.status != 2 || !strstr(r.err, what) || strchr(r.err, '\n') != strrchr(r.err, '\n'))
		fail_msg("exit %d, want 2 and one line with '%s': %s", r.status, what, r.err);
	vmm_run_free(&r);
}

static void test_refused(void **state)
{
	char storm[512], cmd[1200];
	const char *run[] = { "--quiet", "--json", json_path, storm, NULL };
	const char *not_json[] = { "report", "/proc/version", NULL };
	const char *bad_opt[] = { "report", "--pcpus", "2", json_path, NULL };
	const char *no_vm[] = { "report", "--vm", "nosuch", json_path, NULL };
	const char *damaged[] = { "report", json_path, NULL };
	struct vmm_run r;

	(void)state;
	snprintf(storm, sizeof(storm), "%s:vcpus=2:args=rounds=20", guest("ipi-storm"));
	assert_int_equal(vmm_run_plain(&r, run), 0);
	vmm_expect_ok(&r, NULL);
	vmm_run_free(&r);
	expect_refused(not_json, "/proc/version: not a vmm JSON report");
	expect_refused(bad_opt, "--pcpus: not an option of 'vmm report'");
	expect_refused(no_vm, "--vm nosuch: no such VM (a name, or an index below 1)");
	/* One bucket count changed: the histogram no longer adds up to its count. */
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; p=sys.argv[1]; d=json.load(open(p)); "
		 "h=d[\"vms\"][0][\"vcpu\"][0][\"exits\"][\"by_key\"][\"wrmsr:icr\"][\"time_ns\"]; "
		 "h[\"buckets\"][0][1]+=1; json.dump(d,open(p,\"w\"))' %s",
		 json_path);
	assert_int_equal(system(cmd), 0);
	expect_refused(damaged, "vms[0].vcpu[0].exits.wrmsr:icr: buckets hold");
}

static int setup(void **state)
{
	int fd = mkstemp(json_path);

	(void)state;
	return fd < 0 ? -1 : close(fd);
}

static int teardown(void **state)
{
	(void)state;
	return unlink(json_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),	    cmocka_unit_test(test_options),
		cmocka_unit_test(test_event_class), cmocka_unit_test(test_no_stats),
		cmocka_unit_test(test_refused),
	};

	vmmtest_require_kvm("system/test_report");
	return cmocka_run_group_tests(tests, setup, teardown);
}
