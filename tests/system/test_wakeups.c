// SPDX-License-Identifier: MIT
/*
 * The wakeup paths on real guests (docs/wakeups.md): --wake direct|deferred,
 * --kick-redirect on|off and --halt-poll, each checked by exact accounting.
 * Every wake handed to a helper is merged, done or dropped; every IPI is
 * delivered, coalesced, dropped or pending; nobody is left halted with an
 * interrupt (the watchdog stays silent and the guests finish). A path that
 * is bypassed fails: the helper must have done the wakes it was given.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmmtest.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static json_t *wk(const struct vmm_run *r, size_t vm, const char *path)
{
	json_t *w = json_object_get(report_vm(r, vm), "wakeups");
	json_t *p = path ? json_object_get(w, path) : w;

	if (!p)
		fail_msg("vm %zu: no wakeups%s%s in the report", vm, path ? "." : "",
			 path ? path : "");
	return p;
}

static json_int_t irq(const struct vmm_run *r, size_t vm, const char *key)
{
	json_t *v = json_object_get(json_object_get(report_vm(r, vm), "interrupts"), key);

	if (!v)
		fail_msg("vm %zu: no interrupts.%s in the report", vm, key);
	return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
}

/* posted = merged + done + dropped, with the flag agreeing. */
static void check_path(const struct vmm_run *r, size_t vm, const char *path)
{
	json_t *p = wk(r, vm, path);
	json_int_t posted = report_int(p, "posted"), merged = report_int(p, "merged");
	json_int_t done = report_int(p, "done"), dropped = report_int(p, "dropped");

	if (posted != merged + done + dropped)
		fail_msg("vm %zu %s: posted %lld != merged %lld + done %lld + dropped %lld", vm,
			 path, (long long)posted, (long long)merged, (long long)done,
			 (long long)dropped);
	assert_true(json_is_true(json_object_get(p, "balanced")));
}

/* What every run must show, whatever the flags. */
static void check_books(const struct vmm_run *r, size_t vm)
{
	assert_true(irq(r, vm, "ipi_balanced"));
	assert_int_equal(irq(r, vm, "ipi_sent"),
			 irq(r, vm, "ipi_delivered") + irq(r, vm, "ipi_coalesced") +
				 irq(r, vm, "ipi_dropped") + irq(r, vm, "ipi_pending"));
	check_path(r, vm, "deferred");
	check_path(r, vm, "redirect");
	assert_int_equal(report_int(json_object_get(report_vm(r, vm), "watchdog"), "reports"), 0);
}

static void run_ok(struct vmm_run *r, const char *const *args, const char *what)
{
	assert_int_equal(vmm_run(r, args), 0);
	vmm_expect_ok(r, what);
}

/*
 * timer-latency halts on its TSC-deadline timer: deferred, the VM's helper
 * fires those timers (at most one a sample; one already due when the vCPU
 * halts needs none: the first run in CI, on a loaded host, had all 30 of
 * its 77 us deadlines due), direct none. ipi-pingpong's IPIs to a halted receiver
 * go through the helper deferred, never direct.
 */
static void test_wake_modes(void **state)
{
	static const char *const modes[] = { "direct", "deferred" };
	char tl[256], pp[256];
	const char *args[] = { "--quiet", "--wake", NULL, tl, pp, NULL };
	struct vmm_run r;
	size_t i;

	(void)state;
	/* 20M cycles (~8 ms) ahead: the HLT comes long before the deadline, even on a loaded host.
	 */
	snprintf(tl, sizeof(tl), "%s:vcpus=1:args=samples=10,delta=20000000",
		 guest("timer-latency"));
	snprintf(pp, sizeof(pp), "%s:vcpus=2:args=rounds=40,wait=halt", guest("ipi-pingpong"));
	for (i = 0; i < 2; i++) {
		bool deferred = i == 1;
		json_int_t timers, posted;

		args[2] = modes[i];
		run_ok(&r, args, modes[i]);
		assert_int_equal(report_result(&r, 0, "timer-latency", "samples"), 10);
		assert_int_equal(report_result(&r, 1, "ipi-pingpong", "rounds"), 40);
		check_books(&r, 0);
		check_books(&r, 1);
		assert_string_equal(json_string_value(json_object_get(wk(&r, 0, NULL), "wake")),
				    modes[i]);
		timers = report_int(wk(&r, 0, "deferred"), "timers");
		posted = report_int(wk(&r, 1, "deferred"), "posted");
		if (deferred) {
			/* Each sample halts once for its timer; one already due needs no helper. */
			assert_in_range(timers, 1, 10);
			assert_in_range(posted, 1, irq(&r, 1, "ipi_sent"));
			assert_int_equal(report_int(wk(&r, 1, "deferred"), "done"), posted);
		} else {
			assert_int_equal(timers, 0);
			assert_int_equal(posted, 0);
		}
		vmm_run_free(&r);
	}
}

/*
 * Redirection needs an idle slot: with two slots the receiver's is free
 * while it halts, so wakes are redirected; with one slot the sender holds
 * the only one, so every wake is inline and none is posted. Polling helpers
 * take some requests without a wake, never more than they carried out.
 */
static void test_kick_redirect(void **state)
{
	static const char *const pcpus[] = { "2", "1", "2" };
	static const char *const mode[] = { "on", "on", "poll" };
	char pp[256];
	const char *args[] = { "--quiet", "--kick-redirect", NULL, "--pcpus", NULL, pp, NULL };
	struct vmm_run r;
	size_t i;

	(void)state;
	snprintf(pp, sizeof(pp), "%s:vcpus=2:args=rounds=40,wait=halt", guest("ipi-pingpong"));
	for (i = 0; i < 3; i++) {
		json_t *p;

		args[2] = mode[i];
		args[4] = pcpus[i];
		run_ok(&r, args, pcpus[i]);
		check_books(&r, 0);
		check_slot_books(&r, pcpus[i]);
		p = wk(&r, 0, "redirect");
		assert_true(json_is_true(json_object_get(wk(&r, 0, NULL), "kick_redirect")));
		assert_true(report_int(p, "posted") + report_int(p, "inline") > 0);
		assert_true(report_int(p, "polled") <= report_int(p, "done"));
		assert_int_equal(
			json_is_true(json_object_get(wk(&r, 0, NULL), "kick_redirect_poll")),
			i == 2);
		if (i != 1) {
			assert_true(report_int(p, "posted") > 0);
		} else {
			assert_int_equal(report_int(p, "posted"), 0);
			assert_true(report_int(p, "inline") > 0);
		}
		assert_int_equal(report_int(p, "dropped"), 0);
		vmm_run_free(&r);
	}
}

/*
 * VMs that end while redirected or deferred wakes are still queued: a
 * hackbench (IPIs to halted receivers, nonstop) cut by --timeout next to a
 * VM that finishes. The books still close
 * (the helpers completed or dropped every request before the VM's vCPUs
 * were freed; ASan and TSan builds run this too), and the healthy VM is ok.
 */
static void test_teardown(void **state)
{
	static const char *const flags[][2] = { { "--kick-redirect", "on" },
						{ "--wake", "deferred" } };
	char storm[256], ok[256];
	/* Four slots: the receivers' free slots are idle ones to redirect to. */
	const char *args[] = { "--quiet", "--pcpus", "4",   "--timeout", "2",
			       NULL,	  NULL,	     storm, ok,		 NULL };
	struct vmm_run r;
	size_t i;

	(void)state;
	snprintf(storm, sizeof(storm), "%s:vcpus=4:args=msgs=1000000", guest("hackbench-like"));
	snprintf(ok, sizeof(ok), "%s:vcpus=2", guest("hello"));
	for (i = 0; i < 2; i++) {
		args[5] = flags[i][0];
		args[6] = flags[i][1];
		assert_int_equal(vmm_run(&r, args), 0);
		assert_int_equal(r.status, 1); /* the storm timed out */
		assert_string_equal(json_string_value(json_object_get(report_vm(&r, 0), "end")),
				    "timeout");
		assert_true(json_is_true(json_object_get(report_vm(&r, 1), "ok")));
		check_books(&r, 0);
		check_books(&r, 1);
		assert_true(report_int(wk(&r, 0, i ? "deferred" : "redirect"), "posted") > 0);
		vmm_run_free(&r);
	}
}

static json_int_t poll_stat(const struct vmm_run *r, size_t vm, const char *key)
{
	return report_int(wk(r, vm, "halt_poll"), key);
}

/*
 * --halt-poll: a fixed window polls at every halt (the guest halts only in
 * its waits, so polls = HLT exits), adaptive at most then, 0 never; polls
 * that found the interrupt never slept, so they are at most the polls.
 */
static void test_halt_poll(void **state)
{
	static const char *const windows[] = { "0", "50us", "adaptive" };
	char pp[256];
	const char *args[] = { "--quiet", "--halt-poll", NULL, pp, NULL };
	struct vmm_run r;
	size_t i;

	(void)state;
	snprintf(pp, sizeof(pp), "%s:vcpus=2:args=rounds=40,wait=halt", guest("ipi-pingpong"));
	for (i = 0; i < 3; i++) {
		json_int_t polls, hlt;

		args[2] = windows[i];
		run_ok(&r, args, windows[i]);
		check_books(&r, 0);
		polls = poll_stat(&r, 0, "halt_attempted_poll");
		hlt = report_exit_count(&r, 0, "hlt");
		assert_true(hlt > 0);
		assert_true(poll_stat(&r, 0, "halt_successful_poll") <= polls);
		if (i == 0)
			assert_int_equal(polls, 0);
		else if (i == 1)
			assert_int_equal(polls, hlt);
		else
			assert_in_range(polls, 0, hlt);
		if (polls)
			assert_true(poll_stat(&r, 0, "halt_poll_success_ns") +
					    poll_stat(&r, 0, "halt_poll_fail_ns") >
				    0);
		vmm_run_free(&r);
	}
}

/*
 * On one slot, the partner waits for the poller's slot at every round: a
 * poller must let go at once (yielded), never hold the slot for its window
 * (1 s here: 40 rounds would take minutes and time out).
 */
static void test_halt_poll_yields(void **state)
{
	char pp[256];
	const char *args[] = { "--quiet",     "--timeout", "60", "--pcpus", "1",
			       "--halt-poll", "1s",	   pp,	 NULL };
	struct vmm_run r;

	(void)state;
	snprintf(pp, sizeof(pp), "%s:vcpus=2:args=rounds=40,wait=halt", guest("ipi-pingpong"));
	run_ok(&r, args, "1 slot, 1s window");
	check_books(&r, 0);
	check_slot_books(&r, "1 slot");
	/* Every poll that failed, but for the VM's end, was cut short by the waiting partner. */
	assert_true(poll_stat(&r, 0, "yielded") > 0);
	assert_true(poll_stat(&r, 0, "yielded") >=
		    poll_stat(&r, 0, "halt_attempted_poll") -
			    poll_stat(&r, 0, "halt_successful_poll") -
			    poll_stat(&r, 0, "halt_poll_invalid"));
	vmm_run_free(&r);
}

/*
 * ipi-rpc, the request/response guest of bench/kick-redirect: one request
 * and one answer in flight at a time, so every IPI is delivered, none
 * coalesces, and the servers handled every request.
 */
static void test_ipi_rpc(void **state)
{
	static const char *const flags[][2] = { { "--kick-redirect", "off" },
						{ "--kick-redirect", "on" },
						{ "--halt-poll", "adaptive" },
						{ "--wake", "deferred" } };
	char spec[256];
	const char *args[] = { "--quiet", NULL, NULL, spec, NULL };
	struct vmm_run r;
	size_t i;

	(void)state;
	snprintf(spec, sizeof(spec), "%s:vcpus=4:args=rounds=60", guest("ipi-rpc"));
	for (i = 0; i < 4; i++) {
		args[1] = flags[i][0];
		args[2] = flags[i][1];
		run_ok(&r, args, flags[i][1]);
		assert_int_equal(report_result(&r, 0, "ipi-rpc", "served"), 60);
		assert_int_equal(report_result(&r, 0, "ipi-rpc", "ops"), 60);
		assert_int_equal(irq(&r, 0, "ipi_sent"), 120);
		assert_int_equal(irq(&r, 0, "ipi_delivered"), 120);
		check_books(&r, 0);
		vmm_run_free(&r);
	}
}

/* The flags under --sched host (no slots: redirect is refused) and every policy's ready path. */
static void test_host_sched(void **state)
{
	char pp[256];
	const char *args[] = { "--quiet",     "--sched",  "host", "--wake", "deferred",
			       "--halt-poll", "adaptive", pp,	  NULL };
	const char *bad[] = { "--quiet", "--sched", "host", "--kick-redirect", "on", pp, NULL };
	struct vmm_run r;

	(void)state;
	snprintf(pp, sizeof(pp), "%s:vcpus=2:args=rounds=40,wait=halt", guest("ipi-pingpong"));
	run_ok(&r, args, "--sched host");
	check_books(&r, 0);
	assert_true(report_int(wk(&r, 0, "deferred"), "posted") +
			    poll_stat(&r, 0, "halt_successful_poll") >
		    0);
	vmm_run_free(&r);
	assert_int_equal(vmm_run_plain(&r, bad), 0);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--kick-redirect on: only with --sched slots"));
	vmm_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wake_modes),	 cmocka_unit_test(test_kick_redirect),
		cmocka_unit_test(test_teardown),	 cmocka_unit_test(test_halt_poll),
		cmocka_unit_test(test_halt_poll_yields), cmocka_unit_test(test_ipi_rpc),
		cmocka_unit_test(test_host_sched),
	};

	vmmtest_require_kvm("system/test_wakeups");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
