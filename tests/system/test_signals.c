// SPDX-License-Identifier: MIT
/*
 * Ctrl-C, SIGTERM and SIGHUP reach the main thread, which sleeps in ppoll
 * with only those unblocked (every vCPU thread blocks them): a run that would
 * go on for minutes ends at once with every VM "interrupted", the report on
 * stdout, the JSON written and exit status 128 + the signal, like a shell's.
 * A signal that comes while the report is being written is held until every
 * file is complete and still makes the exit status (and the JSON's) say so.
 * A report that cannot be written (stdout on a full device) is exit status
 * 4, not success.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmmtest.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void interrupt_with(const char *sig, const char *name, int signo)
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
	if (r.status != 128 + signo)
		fail_msg("SIG%s: vmm exited %d, want %d; stderr: %s", sig, r.status, 128 + signo,
			 r.err);
	if (!strstr(r.err, name) || !strstr(r.err, "stopping all VMs, the report follows"))
		fail_msg("SIG%s: stderr does not say it stopped: %s", sig, r.err);
	assert_non_null(strstr(r.out, "== vmm report: 2 VMs"));
	assert_non_null(r.json);
	assert_int_equal(report_int(r.json, "exit_code"), 128 + signo);
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
	interrupt_with("INT", "Interrupt", SIGINT);
}

static void test_sigterm(void **state)
{
	(void)state;
	interrupt_with("TERM", "Terminated", SIGTERM);
}

/* A closed terminal: SIGHUP ends the run like SIGTERM, report and JSON included. */
static void test_sighup(void **state)
{
	(void)state;
	interrupt_with("HUP", "Hangup", SIGHUP);
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

/*
 * SIGTERM while the trace is being written: the trace goes to a FIFO we stop
 * reading, so vmm is blocked mid-write when the signal comes. Every file must
 * still be complete, and vmm must exit 143 with a JSON that says 143.
 */
static void test_signal_during_output(void **state)
{
	char dir[] = "/tmp/vmmtest-sig-XXXXXX", fifo[64], json[64], errp[64], spec[512];
	char *trace = NULL, *err;
	size_t len = 0, cap = 1 << 20;
	json_error_t je;
	json_t *j, *t;
	int fd, st, efd;
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/trace.fifo", dir);
	snprintf(json, sizeof(json), "%s/r.json", dir);
	snprintf(errp, sizeof(errp), "%s/stderr", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* Enough events for well over a pipe's 64 KiB of trace. */
	snprintf(spec, sizeof(spec), "%s:vcpus=2:args=rounds=300", guest("ipi-storm"));
	pid = fork();
	if (pid == 0) {
		efd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(efd, 2);
		dup2(open("/dev/null", O_WRONLY), 1);
		execl(getenv("VMM"), "vmm", "--quiet", "--json", json, "--trace", fifo, spec,
		      (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	fd = open(fifo, O_RDONLY); /* returns once vmm opens it, after every VM ended */
	assert_true(fd >= 0);
	trace = malloc(cap);
	assert_non_null(trace);
	n = read(fd, trace, 4096); /* it has started; now the pipe fills and vmm blocks */
	assert_true(n > 0);
	len = (size_t)n;
	usleep(200 * 1000);
	kill(pid, SIGTERM);
	usleep(200 * 1000);
	while ((n = read(fd, trace + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2) {
			cap *= 2;
			trace = realloc(trace, cap);
			assert_non_null(trace);
		}
	}
	close(fd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	fd = open(errp, O_RDONLY);
	err = calloc(1, 65536);
	assert_true(read(fd, err, 65535) >= 0);
	close(fd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 128 + SIGTERM)
		fail_msg("SIGTERM during the trace write: status 0x%x, want exit %d; stderr: %s",
			 st, 128 + SIGTERM, err);
	assert_non_null(strstr(err, "while the report was written: the files are complete"));
	t = json_loadb(trace, len, 0, &je);
	if (!t)
		fail_msg("the trace (%zu bytes) is not complete JSON: %s", len, je.text);
	assert_true(len > 65536);
	j = json_load_file(json, 0, &je);
	assert_non_null(j);
	assert_int_equal(report_int(j, "exit_code"), 128 + SIGTERM);
	json_decref(j);
	json_decref(t);
	free(trace);
	free(err);
	unlink(json);
	unlink(errp);
	unlink(fifo);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigint),
		cmocka_unit_test(test_sigterm),
		cmocka_unit_test(test_sighup),
		cmocka_unit_test(test_stdout_full),
		cmocka_unit_test(test_signal_during_output),
	};

	vmmtest_require_kvm("system/test_signals");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
