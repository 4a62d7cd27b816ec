// SPDX-License-Identifier: MIT
/*
 * The progress watchdog. A vCPU really stuck outside its guest: vCPU 0 of a
 * hello VM floods the console while vmm's stdout is a pipe nobody reads, so
 * its thread blocks in write() while it holds the only slot, and its sibling
 * waits for that slot. Both must be reported (stderr with every vCPU's state,
 * and the JSON) once the limit passes; the run then finishes normally when
 * the pipe is drained. Healthy, busy, overcommitted runs get no report.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmmtest.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *slurp_path(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static bool has_record(json_t *wd, const char *cond)
{
	json_t *rec;
	size_t i;

	json_array_foreach(json_object_get(wd, "records"), i, rec)
	{
		const char *c = json_string_value(json_object_get(rec, "condition"));

		if (c && !strcmp(c, cond) && report_int(rec, "stuck_ns") >= 300000000)
			return true;
	}
	return false;
}

static void test_blocked_vcpu_reported(void **state)
{
	char spec[512], json[] = "/tmp/vmmtest-wd-XXXXXX", errp[] = "/tmp/vmmtest-wderr-XXXXXX";
	char buf[65536], *err;
	int pfd[2], efd, st;
	json_error_t je;
	json_t *j, *wd;
	pid_t pid;

	(void)state;
	close(mkstemp(json));
	efd = mkstemp(errp);
	snprintf(spec, sizeof(spec), "%s:vcpus=2:args=lines=200", guest("hello"));
	assert_int_equal(pipe(pfd), 0);
	/* One page: full after ~20 lines (console output is slow here: ~7 ms a line). */
	assert_true(fcntl(pfd[1], F_SETPIPE_SZ, 4096) > 0);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(efd, 2);
		close(pfd[0]);
		execl(getenv("VMM"), "vmm", "--pcpus", "1", "--watchdog", "300ms", "--timeout",
		      "60", "--json", json, spec, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	sleep(2); /* the pipe fills, vCPU 0 blocks; the watchdog has 300 ms */
	while (read(pfd[0], buf, sizeof(buf)) > 0)
		;
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	err = slurp_path(errp);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("vmm: status 0x%x; stderr: %s", st, err);
	if (!strstr(err, "vmm: watchdog: vm0 vCPU 0: outside-kvm-run for") ||
	    !strstr(err, "vmm: vm0 vCPU 1:") || !strstr(err, "for a host CPU, and vmm's threads"))
		fail_msg("no watchdog report with the state dump on stderr: %s", err);
	/* Blocked in write(), asleep: vmm's own doing, not the host's. */
	if (strstr(err, "the host did not run vmm"))
		fail_msg("a vCPU blocked in write() blamed on the host: %s", err);
	j = json_load_file(json, 0, &je);
	assert_non_null(j);
	wd = json_object_get(json_array_get(json_object_get(j, "vms"), 0), "watchdog");
	assert_non_null(wd);
	assert_true(report_int(wd, "reports") >= 2);
	assert_true(has_record(wd, "outside-kvm-run"));
	assert_true(has_record(wd, "waiting-for-slot"));
	assert_non_null(strstr(json_string_value(json_object_get(wd, "dump")), "vCPU 1:"));
	json_decref(j);
	free(err);
	unlink(json);
	unlink(errp);
	close(efd);
}

/*
 * Busy, overcommitted, halting, timer-driven: nothing stays stuck for a
 * second. ipi-pingpong's vCPU 2 idles in HLT with no timer for the whole
 * run: asleep by design, not past a timer (its host timer's last expiry, a
 * quantum end long gone, made every idle vCPU a report).
 */
static void test_healthy_runs_quiet(void **state)
{
	static const char *const modes[][2] = { { "--pcpus", "1" }, { "--sched", "host" } };
	char lh[512], eb[512], pp[512];
	struct vmm_run r;
	size_t m, i;
	json_t *vm;

	(void)state;
	snprintf(lh, sizeof(lh), "%s:vcpus=4:args=iters=300", guest("lock-hammer"));
	snprintf(eb, sizeof(eb), "%s:vcpus=4:args=rounds=10,sleep=200", guest("ebizzy-like"));
	snprintf(pp, sizeof(pp), "%s:vcpus=3:args=rounds=3000,wait=halt", guest("ipi-pingpong"));
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		const char *args[] = { "--quiet", "--watchdog", "1s", modes[m][0], modes[m][1],
				       lh,	  eb,		pp,   NULL };

		assert_int_equal(vmm_run(&r, args), 0);
		vmm_expect_ok(&r, modes[m][1]);
		json_array_foreach(json_object_get(r.json, "vms"), i, vm)
		{
			json_int_t n = report_int(json_object_get(vm, "watchdog"), "reports");

			if (n)
				fail_msg("%s %s: vm%zu: %lld watchdog reports in a healthy run: %s",
					 modes[m][0], modes[m][1], i, (long long)n, r.err);
		}
		vmm_run_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocked_vcpu_reported),
		cmocka_unit_test(test_healthy_runs_quiet),
	};

	vmmtest_require_kvm("system/test_watchdog");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
