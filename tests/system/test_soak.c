// SPDX-License-Identifier: MIT
/*
 * The soak that keeps the scheduler honest: under every scheduler
 * configuration (--policy none, preempted, ready, ipi-aware on 2 slots, and
 * --sched host), one vmm process after another runs nine VMs at once, a
 * mix of lock-hammer, two ebizzy-likes with short sleeps, ipi-pingpong
 * (wait=halt), timer-storm, apic-timer, spin-notify, ipi-storm and hello on
 * 1 to 8 vCPUs each (about 15 vCPUs per slot), and every invariant of every
 * report is checked (tests/lib/soak_check.c; docs/soak.md lists them): each
 * VM finished with its guest's own result right, IPIs and timers balance,
 * never more than P vCPUs in KVM_RUN, the slot books close, the yield
 * ledger adds up. A run that hangs ends at its --timeout with every vCPU's
 * state on stderr, which the failure prints.
 *
 * SOAK_SECONDS (default 60) is the whole test's budget, shared by the five
 * configurations; each runs at least one process, and starts another while
 * half of the last one still fits, so that it ends near its share on
 * average. SOAK_SCALE (default 1) multiplies the guests' work: sanitizer
 * builds, 3-10x slower, want less (docs/soak.md has the values measured) so
 * that each process still ends well inside its timeout.
 *
 * SOAK_CHECK_JSON=FILE runs none of it: it checks FILE (a report edited by
 * hand, say) and prints what is broken; SOAK_CHECK_STATUS=N adds the exit
 * status the run had, SOAK_CHECK_SIGNALLED=1 that a signal stopped it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "soak_check.h"
#include "vmmtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NR_CONFIGS 5 /* the four policies and --sched host share SOAK_SECONDS */
#define MAX_VMS	   9
#define VM_TIMEOUT 60 /* s, each VM; vmm dumps every vCPU's state when it hits it */

static double env_num(const char *name, double def)
{
	const char *v = getenv(name);
	char *end;
	double x;

	if (!v || !*v)
		return def;
	x = strtod(v, &end);
	if (*end || x <= 0) {
		fprintf(stderr, "%s=%s: want a positive number\n", name, v);
		exit(1);
	}
	return x;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned int scaled(unsigned int n)
{
	double x = n * env_num("SOAK_SCALE", 1.0);

	return x < 1 ? 1 : (unsigned int)(x + 0.5);
}

struct mix {
	char spec[MAX_VMS][256];
	unsigned int nr, vcpus;
};

static void add_vm(struct mix *m, const char *image, unsigned int vcpus, const char *fmt, ...)
{
	char args[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(m->spec[m->nr++], sizeof(m->spec[0]), "%s:vcpus=%u%s%s", guest(image), vcpus,
		 *args ? ":args=" : "", args);
	m->vcpus += vcpus;
}

/*
 * Round k of a configuration: the same nine guests with vCPU counts turned
 * by k, so consecutive processes differ. The work is sized so that at scale
 * 1 the long guests (lock-hammer, ebizzy-like, ipi-pingpong) run about 3 s
 * under ready and 6 s under none, and the short ones about 1 s, in the plain
 * build. lock-hammer stays at 4 vCPUs or fewer: under none, a ticket lock
 * convoys at a quantum a turn, and 8 of them on 2 slots shared with 25 other
 * vCPUs would make a process minutes long.
 */
static void make_mix(struct mix *m, unsigned int k)
{
	static const unsigned int lh[] = { 4, 3, 2, 4 }, eb[] = { 4, 3, 6, 2 },
				  eb2[] = { 2, 4, 3, 3 };
	static const unsigned int sn[] = { 3, 2, 4, 1 }, st[] = { 4, 3, 2, 6 },
				  hl[] = { 8, 4, 1, 6 };
	unsigned int r = k % 4;

	memset(m, 0, sizeof(*m));
	add_vm(m, "lock-hammer", lh[r], "iters=%u,ipi_every=%u", scaled(100), r % 2 ? 2 : 8);
	add_vm(m, "ebizzy-like", eb[r], "rounds=%u,sleep=50", scaled(50));
	add_vm(m, "ebizzy-like", eb2[r], "rounds=%u,sleep=%u", scaled(50), r % 2 ? 10 : 200);
	add_vm(m, "ipi-pingpong", 2, "rounds=%u,wait=halt", scaled(500));
	add_vm(m, "timer-storm", 1, "iters=%u,ticks=%u", scaled(2000), scaled(1200));
	/*
	 * apic-timer reads the one-shot's current count right after it writes
	 * the initial count and fails (status 1) if it is already 0: a slot
	 * lost in between and a wait longer than the period (120-140 ms here,
	 * at most) fires the timer first, rightly. 100 ms makes that rare.
	 */
	add_vm(m, "apic-timer", 2, "ticks=%u,period_us=100000", scaled(15));
	add_vm(m, "spin-notify", sn[r], "count=%u", scaled(250));
	add_vm(m, "ipi-storm", st[r], "rounds=%u,call_every=20", scaled(250));
	add_vm(m, "hello", hl[r], "");
}

/* The report of a failed run, kept: vmm_run deletes its copy. */
static const char *keep_report(json_t *rep, const char *policy, unsigned int round)
{
	static char path[128];

	snprintf(path, sizeof(path), "/tmp/soak-%s-%u-XXXXXX", policy ? policy : "host", round);
	if (!rep || mkstemp(path) < 0 || json_dump_file(rep, path, JSON_INDENT(1)) < 0)
		return "(not kept)";
	return path;
}

static void soak_round(const char *policy, unsigned int round, json_int_t *yields)
{
	char timeout[16], outer[16], cmd[4096];
	const char *prefix[] = { "timeout", "-k", "10", "-s", "TERM", outer, NULL };
	const char *args[10 + 2 * MAX_VMS] = { "--quiet", "--timeout", timeout };
	/* Static: the message outlives the run it describes, freed before the failure. */
	static char msg[1 << 16];
	const char *name = policy ? policy : "host";
	struct soak_failures f = { 0 };
	struct soak_expect e = SOAK_EXPECT_NOTHING;
	struct vmm_run r;
	struct mix m;
	unsigned int i, n = 3, broken;
	size_t len = 0, idx;
	json_t *vm;
	json_int_t before = *yields;
	double t0;

	*msg = 0;
	snprintf(timeout, sizeof(timeout), "%ds", VM_TIMEOUT);
	/* Past vmm's own timeout: a vmm that does not end then is stopped, report and all. */
	snprintf(outer, sizeof(outer), "%d", VM_TIMEOUT + 30);
	if (policy) {
		args[n++] = "--pcpus";
		args[n++] = "2";
		args[n++] = "--policy";
		args[n++] = policy;
	} else {
		args[n++] = "--sched";
		args[n++] = "host";
	}
	/* Every round one of the wake paths (docs/wakeups.md), redirect only where there are slots.
	 */
	switch (round % 4) {
	case 1:
		args[n++] = "--wake";
		args[n++] = "deferred";
		break;
	case 2:
		args[n++] = policy ? "--kick-redirect" : "--halt-poll";
		args[n++] = policy ? "on" : "20us";
		break;
	case 3:
		args[n++] = "--halt-poll";
		args[n++] = "adaptive";
		break;
	default:
		break;
	}
	make_mix(&m, round);
	for (i = 0; i < m.nr; i++)
		args[n++] = m.spec[i];
	args[n] = NULL;
	for (i = 0; args[i] && len < sizeof(cmd) - 1; i++)
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, " %s", args[i]);

	t0 = now_s();
	assert_int_equal(vmm_run_under(&r, prefix, args), 0);
	e.status = r.status;
	e.nr_vms = m.nr;
	e.mode = policy ? "slots" : "host";
	e.policy = policy;
	e.pcpus = policy ? 2 : -1;
	if (r.status == 124)
		snprintf(msg, sizeof(msg),
			 "soak %s round %u: vmm did not end %s s after it started, past its own "
			 "--timeout: stopped by SIGTERM\ncommand: vmm%s\nstderr:\n%s",
			 name, round, outer, cmd, r.err);
	else if (!r.json)
		snprintf(msg, sizeof(msg),
			 "soak %s round %u: no JSON report, vmm exited %d\ncommand: vmm%s\n"
			 "stderr:\n%s",
			 name, round, r.status, cmd, r.err);
	else if ((broken = soak_check(r.json, &e, &f)))
		snprintf(msg, sizeof(msg),
			 "soak %s round %u: %u invariants broken (exit status %d):\n%s"
			 "command: vmm%s\nreport kept in %s\nstderr:\n%s",
			 name, round, broken, r.status, f.text, cmd,
			 keep_report(r.json, policy, round), r.err);
	if (*msg) {
		/* Free first: the failure longjmps, and LeakSanitizer would add noise to it. */
		soak_failures_free(&f);
		vmm_run_free(&r);
		fail_msg("%s", msg);
	}
	/* What the other system tests check, in their words too. */
	vmm_expect_ok(&r, policy ? policy : "--sched host");
	check_slot_books(&r, policy ? policy : "--sched host");
	json_array_foreach(json_object_get(r.json, "vms"), idx, vm) *yields += json_integer_value(
		json_object_get(json_object_get(vm, "sched"), "yield_successes"));
	printf("soak %-9s round %u: %u VMs, %2u vCPUs, %5.2f s, %lld grants, %lld directed "
	       "yields\n",
	       name, round, m.nr, m.vcpus, now_s() - t0,
	       (long long)json_integer_value(
		       json_object_get(json_object_get(r.json, "sched"), "grants")),
	       (long long)(*yields - before));
	soak_failures_free(&f);
	vmm_run_free(&r);
}

/*
 * One configuration for its share of SOAK_SECONDS: at least one process,
 * and another while half of the last one's time still fits in what is left.
 */
static void soak(const char *policy)
{
	double budget = env_num("SOAK_SECONDS", 60.0) / NR_CONFIGS, t0 = now_s(), last;
	json_int_t yields = 0;
	unsigned int round = 0;

	do {
		double t = now_s();

		soak_round(policy, round++, &yields);
		last = now_s() - t;
	} while (now_s() - t0 + last / 2 <= budget);
	/* The policies that yield must have: a soak that never reached a yield tested little. */
	if (policy && strcmp(policy, "none") && yields < 1)
		fail_msg("soak %s: no directed yield in %u processes", policy, round);
	printf("soak %-9s %u processes in %.1f s\n", policy ? policy : "host", round, now_s() - t0);
}

static void test_soak_none(void **state)
{
	(void)state;
	soak("none");
}

static void test_soak_preempted(void **state)
{
	(void)state;
	soak("preempted");
}

static void test_soak_ready(void **state)
{
	(void)state;
	soak("ready");
}

static void test_soak_ipi_aware(void **state)
{
	(void)state;
	soak("ipi-aware");
}

static void test_soak_host(void **state)
{
	(void)state;
	soak(NULL);
}

/* --- the checker catches what it should -------------------------------- */

/* The integer at "a/0/b" (arrays by index) set to value; returns the old one. */
static json_int_t poke(json_t *rep, const char *path, json_int_t value, bool add)
{
	char buf[256], *part, *next, *save = NULL;
	json_t *o = rep, *parent = NULL, *v;
	json_int_t old;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, "/", &save); part; part = next) {
		next = strtok_r(NULL, "/", &save);
		parent = o;
		o = json_is_array(o) ? json_array_get(o, strtoul(part, NULL, 10))
				     : json_object_get(o, part);
		if (!next)
			break;
	}
	if (!json_is_integer(o))
		fail_msg("mutation: %s is not an integer in the report", path);
	old = json_integer_value(o);
	v = json_integer(add ? old + value : value);
	if (json_is_array(parent))
		json_array_set_new(parent, strtoul(part, NULL, 10), v);
	else
		json_object_set_new(parent, part, v);
	return old;
}

static json_int_t val(json_t *rep, const char *path)
{
	json_int_t v = poke(rep, path, 0, true);

	return v;
}

/* The checker must name the VM, the key and the numbers: want is a substring of a failure. */
static void caught(json_t *m, int status, const char *what, const char *fmt, ...)
{
	struct soak_expect e = SOAK_EXPECT_NOTHING;
	struct soak_failures f = { 0 };
	char want[512];
	const char *line, *eol;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	e.status = status;
	e.nr_vms = 9;
	e.mode = "slots";
	e.policy = "ipi-aware";
	e.pcpus = 2;
	if (!soak_check(m, &e, &f))
		fail_msg("mutation '%s' went unnoticed", what);
	line = f.text ? strstr(f.text, want) : NULL;
	if (!line)
		fail_msg("mutation '%s': no failure says \"%s\"; they were:\n%s", what, want,
			 f.text ? f.text : "");
	while (line > f.text && line[-1] != '\n')
		line--;
	eol = strchr(line, '\n');
	printf("caught %-28s %.*s\n", what, (int)(eol ? eol - line : (long)strlen(line)), line);
	soak_failures_free(&f);
	json_decref(m);
}

/*
 * A real report passes; each identity broken by hand in a copy of it is
 * reported, naming where, which key and the numbers.
 */
static void test_checker_catches(void **state)
{
	char timeout[16];
	const char *args[4 + 4 + MAX_VMS + 1] = { "--quiet", "--timeout", timeout,    "--pcpus",
						  "2",	     "--policy",  "ipi-aware" };
	struct soak_expect e = SOAK_EXPECT_NOTHING;
	struct soak_failures f = { 0 };
	struct vmm_run r;
	struct mix mx;
	unsigned int n = 7;
	json_t *g, *m, *vm;
	json_int_t a, b2, c;
	size_t i;

	(void)state;
	snprintf(timeout, sizeof(timeout), "%ds", VM_TIMEOUT);
	make_mix(&mx, 0);
	for (i = 0; i < mx.nr; i++)
		args[n++] = mx.spec[i];
	args[n] = NULL;
	assert_int_equal(vmm_run(&r, args), 0);
	vmm_expect_ok(&r, "checker run");
	g = r.json;
	e.status = 0;
	e.nr_vms = mx.nr;
	e.mode = "slots";
	e.policy = "ipi-aware";
	e.pcpus = 2;
	if (soak_check(g, &e, &f))
		fail_msg("the unedited report fails:\n%s", f.text);
	soak_failures_free(&f);

	m = json_deep_copy(g);
	a = poke(m, "vms/7/interrupts/ipi_delivered", 1, true);
	caught(m, 0, "IPI balance",
	       "vm7 (ipi-storm) interrupts: ipi_sent %lld != ipi_delivered %lld",
	       (long long)val(g, "vms/7/interrupts/ipi_sent"), (long long)a + 1);

	m = json_deep_copy(g);
	json_object_set_new(
		json_object_get(json_array_get(json_object_get(m, "vms"), 7), "interrupts"),
		"ipi_balanced", json_false());
	caught(m, 0, "ipi_balanced flag",
	       "vm7 (ipi-storm) interrupts: ipi_balanced false but the "
	       "counts say true");

	m = json_deep_copy(g);
	a = val(g, "vms/5/interrupts/timer_fired");
	b2 = val(g, "vms/5/interrupts/timer_coalesced");
	poke(m, "vms/5/interrupts/timer_delivered", a + 1 - b2, false);
	caught(m, 0, "timers fired/delivered",
	       "vm5 (apic-timer) interrupts: timer_delivered + timer_coalesced %lld > timer_fired "
	       "%lld",
	       (long long)a + 1, (long long)a);

	m = json_deep_copy(g);
	poke(m, "vms/7/wakeups/redirect/done", 1, true);
	a = val(g, "vms/7/wakeups/redirect/posted");
	caught(m, 0, "wake helper books",
	       "vm7 (ipi-storm) wakeups.redirect: posted %lld != merged + done + dropped = %lld",
	       (long long)a, (long long)a + 1);

	m = json_deep_copy(g);
	poke(m, "sched/max_in_run", 3, false);
	caught(m, 0, "at most P", "sched: max_in_run 3 > pcpus 2");

	m = json_deep_copy(g);
	poke(m, "sched/over_limit", 1, false);
	caught(m, 0, "over_limit", "sched: over_limit 1 != expected 0");

	m = json_deep_copy(g);
	a = poke(m, "sched/slots/1/unused", 1, true);
	caught(m, 0, "slot books", "sched slot 1: grants %lld != completed %lld + unused %lld",
	       (long long)val(g, "sched/slots/1/grants"),
	       (long long)val(g, "sched/slots/1/completed"), (long long)a + 1);

	m = json_deep_copy(g);
	a = poke(m, "sched/slots/0/free_ns", 1000, true);
	caught(m, 0, "slot time", "sched slot 0: owned_ns + free_ns %lld != wall_ns %lld",
	       (long long)(val(g, "sched/slots/0/owned_ns") + a + 1000),
	       (long long)val(g, "sched/wall_ns"));

	m = json_deep_copy(g);
	a = poke(m, "sched/grants_by_cause/yield", 1, true);
	caught(m, 0, "grants by cause",
	       "sched: grants_by_cause.yield %lld != sum of VMs' "
	       "yield_successes %lld",
	       (long long)a + 1, (long long)a);

	m = json_deep_copy(g);
	c = 0;
	json_array_foreach(json_object_get(g, "vms"), i, vm)
	{
		size_t k;
		json_t *x;

		json_array_foreach(json_object_get(json_object_get(vm, "sched"), "vcpus"), k, x)
			c += json_integer_value(json_object_get(x, "preemptions"));
	}
	poke(m, "sched/grants_by_cause/quantum", c + 1, false);
	caught(m, 0, "quantum handoffs",
	       "sched: grants_by_cause.quantum %lld != sum of vCPUs' "
	       "preemptions %lld",
	       (long long)c + 1, (long long)c);

	m = json_deep_copy(g);
	poke(m, "vms/0/watchdog/reports", 2, false);
	caught(m, 0, "watchdog", "vm0 (lock-hammer): watchdog: 2 reports");

	m = json_deep_copy(g);
	a = poke(m, "vms/0/sched/yield_successes", 1, true);
	caught(m, 0, "ledger successes",
	       "vm0 (lock-hammer) sched: sum of pairs' successes %lld != "
	       "yield_successes %lld",
	       (long long)a, (long long)a + 1);

	m = json_deep_copy(g);
	a = val(g, "vms/0/sched/successes_by_tier/0");
	b2 = val(g, "vms/0/sched/successes_by_tier/1");
	c = val(g, "vms/0/sched/successes_by_tier/2");
	poke(m, "vms/0/sched/successes_by_tier/0", 1, true);
	caught(m, 0, "ledger tiers",
	       "vm0 (lock-hammer) sched: sum of successes_by_tier %lld+%lld+%lld %lld != "
	       "yield_successes %lld",
	       (long long)a + 1, (long long)b2, (long long)c, (long long)(a + b2 + c + 1),
	       (long long)val(g, "vms/0/sched/yield_successes"));

	if (json_array_size(json_object_get(
		    json_object_get(json_array_get(json_object_get(g, "vms"), 0), "sched"),
		    "pairs"))) {
		m = json_deep_copy(g);
		poke(m, "vms/0/sched/pairs/0/attempts", 1, true);
		caught(m, 0, "ledger pairs",
		       "vm0 (lock-hammer) sched: sum of pairs' attempts %lld != yield_attempts "
		       "%lld",
		       (long long)val(g, "vms/0/sched/yield_attempts") + 1,
		       (long long)val(g, "vms/0/sched/yield_attempts"));
	}

	m = json_deep_copy(g);
	a = poke(m, "vms/0/sched/to_woken", 1, true);
	caught(m, 0, "ledger targets",
	       "vm0 (lock-hammer) sched: to_preempted + to_woken %lld != "
	       "yield_successes %lld",
	       (long long)(val(g, "vms/0/sched/to_preempted") + a + 1),
	       (long long)val(g, "vms/0/sched/yield_successes"));

	m = json_deep_copy(g);
	poke(m, "vms/8/sched/vcpus/0/slot_waits", 0, false);
	caught(m, 0, "starvation", "vm8 (hello) sched vcpu 0: slot_waits 0");

	m = json_deep_copy(g);
	a = poke(m, "vms/0/results/0/fields/counter", 1, true);
	caught(m, 0, "guest result",
	       "vm0 (lock-hammer) result lock-hammer: counter %lld != ops %lld", (long long)a + 1,
	       (long long)val(g, "vms/0/results/0/fields/ops"));

	m = json_deep_copy(g);
	a = poke(m, "vms/6/exits/by_key/io:spin/count", 1, true);
	caught(m, 0, "guest vs exits",
	       "vm6 (spin-notify) result spin-notify: total %lld != io:spin "
	       "exits %lld",
	       (long long)a, (long long)a + 1);

	m = json_deep_copy(g);
	a = poke(m, "vms/3/exits/total", 1, true);
	caught(m, 0, "exit totals",
	       "vm3 (ipi-pingpong) exits: total %lld != sum of by_key counts %lld",
	       (long long)a + 1, (long long)a);

	m = json_deep_copy(g);
	json_object_set_new(json_array_get(json_object_get(m, "vms"), 3), "end",
			    json_string("timeout"));
	caught(m, 0, "a VM that did not finish", "vm3 (ipi-pingpong): ok true but end timeout");

	m = json_deep_copy(g);
	caught(m, 1, "exit status", "report: exit_code 0 != the process's exit status 1");
	vmm_run_free(&r);
}

/* SOAK_CHECK_JSON=FILE: the checker alone, on a report already written. */
static int check_file(const char *path)
{
	struct soak_expect e = SOAK_EXPECT_NOTHING;
	struct soak_failures f = { 0 };
	const char *st = getenv("SOAK_CHECK_STATUS");
	json_error_t err;
	json_t *rep = json_load_file(path, 0, &err);
	unsigned int n;

	if (!rep) {
		fprintf(stderr, "%s: %s (line %d)\n", path, err.text, err.line);
		return 1;
	}
	if (st && *st)
		e.status = atoi(st);
	e.signalled = getenv("SOAK_CHECK_SIGNALLED") != NULL;
	n = soak_check(rep, &e, &f);
	printf("%s%s: %s\n", f.text ? f.text : "", path, n ? "invariants broken" : "ok");
	soak_failures_free(&f);
	json_decref(rep);
	return n ? 1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker_catches), cmocka_unit_test(test_soak_none),
		cmocka_unit_test(test_soak_preempted),	cmocka_unit_test(test_soak_ready),
		cmocka_unit_test(test_soak_ipi_aware),	cmocka_unit_test(test_soak_host),
	};
	const char *file = getenv("SOAK_CHECK_JSON");

	if (file && *file)
		return check_file(file);
	vmmtest_require_kvm("system/test_soak");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
