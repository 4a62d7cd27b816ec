// SPDX-License-Identifier: MIT
/* Command-line parsing: units, image specs, every option's error message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cli.h"
#include "sched/policy.h"
#include "sched/scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_parse_size(void **state)
{
	uint64_t b;

	(void)state;
	assert_int_equal(parse_size("4096", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(parse_size("16M", &b), 0);
	assert_int_equal(b, 16u << 20);
	assert_int_equal(parse_size("16MiB", &b), 0);
	assert_int_equal(b, 16u << 20);
	assert_int_equal(parse_size("64k", &b), 0);
	assert_int_equal(b, 64u << 10);
	assert_int_equal(parse_size("1G", &b), 0);
	assert_int_equal(b, 1u << 30);
	assert_int_equal(parse_size("2mb", &b), 0);
	assert_int_equal(b, 2u << 20);
	assert_int_equal(parse_size("", &b), -1);
	assert_int_equal(parse_size("M", &b), -1);
	assert_int_equal(parse_size("-1M", &b), -1);
	assert_int_equal(parse_size("12X", &b), -1);
	assert_int_equal(parse_size("1Mx", &b), -1);
	assert_int_equal(parse_size("99999999999999999999", &b), -1);
	assert_int_equal(parse_size("17179869184G", &b), -1); /* 2^34 GiB overflows */
}

static void test_parse_duration(void **state)
{
	uint64_t ns;

	(void)state;
	assert_int_equal(parse_duration("10", &ns), 0);
	assert_int_equal(ns, 10000000000ull);
	assert_int_equal(parse_duration("1.5s", &ns), 0);
	assert_int_equal(ns, 1500000000ull);
	assert_int_equal(parse_duration("500ms", &ns), 0);
	assert_int_equal(ns, 500000000ull);
	assert_int_equal(parse_duration("100us", &ns), 0);
	assert_int_equal(ns, 100000ull);
	assert_int_equal(parse_duration("2m", &ns), 0);
	assert_int_equal(ns, 120000000000ull);
	assert_int_equal(parse_duration("0", &ns), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(parse_duration("-1", &ns), -1);
	assert_int_equal(parse_duration("abc", &ns), -1);
	assert_int_equal(parse_duration("10h", &ns), -1);
	assert_int_equal(parse_duration("nan", &ns), -1);
	assert_int_equal(parse_duration("1e30", &ns), -1);
}

static void test_parse_uint(void **state)
{
	unsigned int v;

	(void)state;
	assert_int_equal(parse_uint("1", 1, 64, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(parse_uint("64", 1, 64, &v), 0);
	assert_int_equal(parse_uint("65", 1, 64, &v), -1);
	assert_int_equal(parse_uint("0", 1, 64, &v), -1);
	assert_int_equal(parse_uint("4x", 1, 64, &v), -1);
	assert_int_equal(parse_uint("+4", 1, 64, &v), -1);
	assert_int_equal(parse_uint("", 1, 64, &v), -1);
}

static void spec_free(struct vm_spec *s)
{
	free(s->path);
	free(s->args);
	free(s->env);
}

static void test_image_spec_ok(void **state)
{
	struct vm_spec s;
	char err[200];

	(void)state;
	assert_int_equal(parse_image_spec("guest/hello", &s, err, sizeof(err)), 0);
	assert_string_equal(s.path, "guest/hello");
	assert_int_equal(s.vcpus, 0);
	assert_int_equal(s.mem, 0);
	assert_null(s.args);
	spec_free(&s);

	assert_int_equal(
		parse_image_spec("a/b:vcpus=4:mem=32M:args=x=1,y=a:b", &s, err, sizeof(err)), 0);
	assert_string_equal(s.path, "a/b");
	assert_int_equal(s.vcpus, 4);
	assert_int_equal(s.mem, 32u << 20);
	assert_string_equal(s.args, "x=1,y=a:b"); /* args takes the rest, colons too */
	spec_free(&s);

	assert_int_equal(parse_image_spec("img:mem=4M:vcpus=2", &s, err, sizeof(err)), 0);
	assert_int_equal(s.vcpus, 2);
	assert_int_equal(s.mem, 4u << 20);
	spec_free(&s);

	assert_int_equal(parse_image_spec("img:name=web-1.a_b:vcpus=2", &s, err, sizeof(err)), 0);
	assert_string_equal(s.name, "web-1.a_b");
	assert_int_equal(s.vcpus, 2);
	spec_free(&s);

	/* env= (a multiboot image's environment module) is a path; args= still takes the rest. */
	assert_int_equal(parse_image_spec("x.flat:vcpus=2:env=/tmp/a:b.env:args=ipi ipi_halt", &s,
					  err, sizeof(err)),
			 0);
	assert_string_equal(s.path, "x.flat");
	assert_string_equal(s.env, "/tmp/a:b.env");
	assert_string_equal(s.args, "ipi ipi_halt");
	spec_free(&s);

	/* A colon that starts no known key belongs to the path. */
	assert_int_equal(parse_image_spec("dir:x/img:vcpus=3", &s, err, sizeof(err)), 0);
	assert_string_equal(s.path, "dir:x/img");
	assert_int_equal(s.vcpus, 3);
	spec_free(&s);
}

static void expect_spec_error(const char *arg, const char *msg)
{
	struct vm_spec s;
	char err[200] = "";

	assert_int_equal(parse_image_spec(arg, &s, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
	spec_free(&s);
}

static void test_image_spec_errors(void **state)
{
	(void)state;
	expect_spec_error("img:vcpus=0", "vcpus= must be an integer in 1..64, got '0'");
	expect_spec_error("img:env=", "env= needs a file name");
	expect_spec_error("img:env=:vcpus=2", "env= needs a file name");
	expect_spec_error("img:vcpus=65", "vcpus= must be an integer in 1..64, got '65'");
	expect_spec_error("img:vcpus=", "vcpus= must be an integer in 1..64, got ''");
	expect_spec_error("img:mem=1M",
			  "mem= must be a size in 2M..1G, a multiple of 4K, got '1M'");
	expect_spec_error("img:mem=2G",
			  "mem= must be a size in 2M..1G, a multiple of 4K, got '2G'");
	expect_spec_error("img:mem=3000000",
			  "mem= must be a size in 2M..1G, a multiple of 4K, got '3000000'");
	expect_spec_error(":vcpus=2", "empty image path");
	expect_spec_error("img:name=",
			  "name= must be 1..15 letters, digits, '_', '.' or '-', got ''");
	expect_spec_error("img:name=a b",
			  "name= must be 1..15 letters, digits, '_', '.' or '-', got 'a b'");
	expect_spec_error("img:name=sixteen-chars-xx",
			  "name= must be 1..15 letters, digits, '_', '.' or '-', got "
			  "'sixteen-chars-xx'");
}

static enum cli_result parse(struct options *o, char *err, size_t len, ...)
{
	static char prog[] = "vmm";
	char *argv[32];
	int argc = 0;
	va_list ap;
	enum cli_result r;
	FILE *out = fopen("/dev/null", "w");

	argv[argc++] = prog;
	va_start(ap, len);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	err[0] = 0;
	r = cli_parse(argc, argv, o, out, err, len);
	fclose(out);
	return r;
}

static void test_cli_defaults_and_images(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), "a", "b:vcpus=8", "--vcpus", "3", "--mem",
			       "32M", "--timeout", "5", "--quiet", "--no-stats", NULL),
			 CLI_RUN);
	assert_int_equal(o.nr_vms, 2);
	assert_int_equal(o.vms[0].vcpus, 3); /* --vcpus applies after the images too */
	assert_int_equal(o.vms[1].vcpus, 8);
	assert_int_equal(o.vms[0].mem, 32u << 20);
	assert_int_equal(o.timeout_ns, 5000000000ull);
	assert_true(o.quiet);
	assert_false(o.stats);
	/* Whether the RAM was asked for: a multiboot image gets more when it was not. */
	assert_false(o.vms[0].mem_default);
	assert_false(o.vms[1].mem_default);
	cli_free(&o);

	assert_int_equal(parse(&o, err, sizeof(err), "a", "b:mem=8M", NULL), CLI_RUN);
	assert_true(o.vms[0].mem_default);
	assert_false(o.vms[1].mem_default);
	cli_free(&o);

	assert_int_equal(parse(&o, err, sizeof(err), "img", NULL), CLI_RUN);
	assert_int_equal(o.vms[0].vcpus, 2);
	assert_int_equal(o.vms[0].mem, 16u << 20);
	assert_int_equal(o.timeout_ns, 120000000000ull);
	assert_true(o.stats);
	assert_true(o.ipi_fastpath);
	assert_false(o.irqchip_kernel);
	cli_free(&o);

	assert_int_equal(parse(&o, err, sizeof(err), "img", "--irqchip", "kernel",
			       "--ipi-fastpath=off", NULL),
			 CLI_RUN);
	assert_true(o.irqchip_kernel);
	assert_false(o.ipi_fastpath);
	cli_free(&o);
}

/* Names must be unique, the default vm<i> names included. */
static void test_vm_names(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), "a:name=x", "b:name=y", "c", NULL), CLI_RUN);
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "a:name=x", "b:name=x", NULL), CLI_ERROR);
	assert_string_equal(err, "b: name 'x' is already VM 0's (a)");
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "a:name=vm2", "b", "c", NULL), CLI_ERROR);
	assert_string_equal(err, "c: name 'vm2' is already VM 0's (a)");
	cli_free(&o);
	/* Selectors: by name or index, and only vCPUs that exist. */
	assert_int_equal(parse(&o, err, sizeof(err), "--vm", "web", "a", "b:name=web", NULL),
			 CLI_RUN);
	assert_int_equal(o.sel_vm_index, 1);
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--vm", "0", "a", NULL), CLI_RUN);
	assert_int_equal(o.sel_vm_index, 0);
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--vm", "db", "a", "b:name=web", NULL),
			 CLI_ERROR);
	assert_string_equal(err, "--vm db: no such VM (a name, or an index below 2)");
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--vm", "1", "--vcpu", "2", "a:vcpus=4",
			       "b:vcpus=2", NULL),
			 CLI_ERROR);
	assert_string_equal(err, "--vcpu 2: the VM has 2 vCPUs");
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--vcpu", "3", "a:vcpus=4", "b:vcpus=2", NULL),
			 CLI_RUN);
	assert_int_equal(o.sel_vcpu, 3);
	cli_free(&o);
}

static void expect_cli_error(const char *opt, const char *val, const char *msg)
{
	struct options o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), "img", opt, val, NULL), CLI_ERROR);
	assert_string_equal(err, msg);
	cli_free(&o);
}

static void test_cli_errors(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	expect_cli_error("--vcpus", "0", "--vcpus: expected an integer in 1..64, got '0'");
	expect_cli_error("--vcpus", "x", "--vcpus: expected an integer in 1..64, got 'x'");
	expect_cli_error("--mem", "1K",
			 "--mem: expected a size in 2M..1G, a multiple of 4K, got '1K'");
	expect_cli_error("--timeout", "soon",
			 "--timeout: expected a duration like 30, 30s, 500ms, got 'soon'");
	expect_cli_error("--report", "vms", "--report: expected 'vm' or 'vcpu', got 'vms'");
	expect_cli_error(
		"--sort", "name",
		"--sort: expected sample, time (average, as perf kvm stat), max or min, got "
		"'name'");
	expect_cli_error(
		"--hist", "bogus",
		"--hist: unknown exit key 'bogus' (e.g. io:console, hlt, wrmsr:icr; see --help)");
	expect_cli_error("--json", "", "--json: expected a file name");
	expect_cli_error("--irqchip", "split",
			 "--irqchip: expected 'user' or 'kernel', got 'split'");
	expect_cli_error("--ipi-fastpath", "yes",
			 "--ipi-fastpath: expected 'on' or 'off', got 'yes'");
	expect_cli_error("--frobnicate", NULL, "--frobnicate: unknown option (see --help)");
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--vcpus", NULL), CLI_ERROR);
	assert_string_equal(err, "--vcpus: missing or bad argument (see --help)");
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), NULL), CLI_ERROR);
	assert_string_equal(err,
			    "no guest image given (usage: vmm [options] IMAGE ...; see --help)");
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "x:vcpus=99", NULL), CLI_ERROR);
	assert_string_equal(err, "x:vcpus=99: vcpus= must be an integer in 1..64, got '99'");
	cli_free(&o);
}

/* --wake, --kick-redirect, --halt-poll: values, defaults and the combinations refused. */
static void test_cli_wake(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), "img", NULL), CLI_RUN);
	assert_false(o.wake_deferred);
	assert_false(o.kick_redirect);
	assert_int_equal(o.halt_poll.mode, HALT_POLL_OFF);
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--wake", "deferred", "--halt-poll",
			       "adaptive", NULL),
			 CLI_RUN);
	assert_true(o.wake_deferred);
	assert_int_equal(o.halt_poll.mode, HALT_POLL_ADAPTIVE);
	assert_int_equal(o.halt_poll.ns, HALT_POLL_MAX_NS);
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--kick-redirect", "on", "--halt-poll",
			       "150us", NULL),
			 CLI_RUN);
	assert_true(o.kick_redirect);
	assert_int_equal(o.halt_poll.mode, HALT_POLL_FIXED);
	assert_int_equal(o.halt_poll.ns, 150000);
	cli_free(&o);
	assert_int_equal(
		parse(&o, err, sizeof(err), "img", "--halt-poll", "1ms", "--halt-poll", "0", NULL),
		CLI_RUN);
	assert_int_equal(o.halt_poll.mode, HALT_POLL_OFF); /* the last one wins */
	cli_free(&o);
	expect_cli_error("--wake", "lazy", "--wake: expected 'direct' or 'deferred', got 'lazy'");
	expect_cli_error("--kick-redirect", "1",
			 "--kick-redirect: expected 'on', 'poll' or 'off', got '1'");
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--kick-redirect", "poll", NULL),
			 CLI_RUN);
	assert_true(o.kick_redirect && o.kick_redirect_poll);
	cli_free(&o);
	expect_cli_error("--halt-poll", "2s",
			 "--halt-poll: expected 'adaptive', 0 (off) or a duration in 1ns..1s like "
			 "100us, got '2s'");
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--irqchip", "kernel", "--halt-poll",
			       "adaptive", NULL),
			 CLI_ERROR);
	assert_string_equal(err, "--halt-poll: only with --irqchip user (KVM's in-kernel LAPIC "
				 "halts and wakes inside KVM)");
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--kick-redirect", "on", "--wake",
			       "deferred", NULL),
			 CLI_ERROR);
	assert_string_equal(err, "--kick-redirect on: only with --wake direct (a deferred wake "
				 "already leaves the sender to the VM's helper)");
	cli_free(&o);
}

static void test_cli_sched(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), "img", NULL), CLI_RUN);
	assert_false(o.sched_host);
	assert_int_equal(o.pcpus, 0); /* online CPUs, resolved when the run starts */
	assert_int_equal(o.quantum_ns, SCHED_DEFAULT_QUANTUM);
	assert_ptr_equal(o.policy, &policy_ready);
	assert_int_equal(o.ipi_window_ns, 50000000ull);
	cli_free(&o);

	assert_int_equal(parse(&o, err, sizeof(err), "img", "--pcpus", "3", "--quantum", "2ms",
			       "--policy", "ipi-aware", "--ipi-window", "10ms", NULL),
			 CLI_RUN);
	assert_int_equal(o.pcpus, 3);
	assert_int_equal(o.quantum_ns, 2000000ull);
	assert_ptr_equal(o.policy, &policy_ipi_aware);
	assert_int_equal(o.ipi_window_ns, 10000000ull);
	cli_free(&o);

	assert_int_equal(parse(&o, err, sizeof(err), "img", "--sched", "host", NULL), CLI_RUN);
	assert_true(o.sched_host);
	cli_free(&o);

	expect_cli_error("--policy", "fair",
			 "--policy: unknown policy 'fair' (known: none, preempted, ready, "
			 "ipi-aware)");
	expect_cli_error("--sched", "cfs", "--sched: expected 'slots' or 'host', got 'cfs'");
	expect_cli_error("--pcpus", "0", "--pcpus: expected an integer in 1..256, got '0'");
	expect_cli_error("--quantum", "1us",
			 "--quantum: expected a duration in 50us..10s, got '1us' (a handoff and a "
			 "KVM entry take ~30 us here: a shorter slot may run no guest code)");
	expect_cli_error("--quantum", "20us",
			 "--quantum: expected a duration in 50us..10s, got '20us' (a handoff and "
			 "a KVM entry take ~30 us here: a shorter slot may run no guest code)");
	expect_cli_error("--ipi-window", "0",
			 "--ipi-window: expected a duration like 50ms, got '0'");
	/* Slot options with --sched host are refused, whatever their order. */
	assert_int_equal(
		parse(&o, err, sizeof(err), "img", "--policy", "none", "--sched", "host", NULL),
		CLI_ERROR);
	assert_string_equal(err, "--policy: only with --sched slots (the default)");
	cli_free(&o);
	assert_int_equal(
		parse(&o, err, sizeof(err), "img", "--sched", "host", "--pcpus", "1", NULL),
		CLI_ERROR);
	assert_string_equal(err, "--pcpus: only with --sched slots (the default)");
	cli_free(&o);
}

static void test_cpu_list(void **state)
{
	uint8_t c[8];
	unsigned int n;

	(void)state;
	assert_int_equal(parse_cpu_list("0,2-4,7", c, 8, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(c[0], 0);
	assert_int_equal(c[1], 2);
	assert_int_equal(c[3], 4);
	assert_int_equal(c[4], 7);
	assert_int_equal(parse_cpu_list("3", c, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0], 3);
	assert_int_equal(parse_cpu_list("", c, 8, &n), -1);
	assert_int_equal(parse_cpu_list("1,", c, 8, &n), -1);
	assert_int_equal(parse_cpu_list("3-1", c, 8, &n), -1);
	assert_int_equal(parse_cpu_list("1-", c, 8, &n), -1);
	assert_int_equal(parse_cpu_list("-1", c, 8, &n), -1);
	assert_int_equal(parse_cpu_list("a", c, 8, &n), -1);
	assert_int_equal(parse_cpu_list("256", c, 8, &n), -1);
	assert_int_equal(parse_cpu_list("0-8", c, 8, &n), -1); /* 9 CPUs do not fit in 8 */
	assert_int_equal(parse_cpu_list("0-7", c, 8, &n), 0);
	assert_int_equal(n, 8);
}

/* A plain --mem / mem= number is MiB (QEMU, kvmtool); -h is --help; no abbreviations. */
static void test_cli_user_view(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), "img:mem=32", "--mem", "16", NULL), CLI_RUN);
	assert_int_equal(o.mem, 16u << 20);
	assert_int_equal(o.vms[0].mem, 32u << 20);
	cli_free(&o);
	expect_cli_error("--mem", "4096",
			 "--mem: expected a size in 2M..1G, a multiple of 4K, got '4096'");
	expect_cli_error("--quan", "1ms",
			 "--quan: options are not abbreviated: did you mean --quantum?");
	expect_cli_error("--vc", "4",
			 "--vc: ambiguous: it could be --vcpus, --vcpu (write the option in full)");
	expect_cli_error(
		"--q", NULL,
		"--q: ambiguous: it could be --quiet, --quantum (write the option in full)");
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--vcpu=3", NULL), CLI_ERROR);
	assert_string_equal(err, "--vcpu 3: the largest VM has 2 vCPUs"); /* a real option now */
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--vcpuz=3", NULL), CLI_ERROR);
	assert_string_equal(err, "--vcpuz=3: unknown option (see --help)");
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--vcpus=3", NULL), CLI_RUN);
	assert_int_equal(o.vcpus, 3);
	cli_free(&o);
	/* A value that looks like an option is still the value, not a misspelt option. */
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--json", "--x", NULL), CLI_RUN);
	assert_string_equal(o.json, "--x");
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--json", "a", "--trace", "a", NULL),
			 CLI_ERROR);
	assert_string_equal(err, "--trace a: the same file as --json");
	cli_free(&o);
}

static void test_cli_substrate(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), "img", NULL), CLI_RUN);
	assert_true(o.slot_cpus_auto);
	assert_int_equal(o.nr_slot_cpus, 0);
	assert_int_equal(o.wake_preempt_ns, SCHED_DEFAULT_WAKE_PREEMPT);
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--slot-cpus", "1,0", "--wake-preempt",
			       "250us", NULL),
			 CLI_RUN);
	assert_false(o.slot_cpus_auto);
	assert_int_equal(o.nr_slot_cpus, 2);
	assert_int_equal(o.slot_cpus[0], 1);
	assert_int_equal(o.wake_preempt_ns, 250000ull);
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--slot-cpus", "off", "--wake-preempt",
			       "off", NULL),
			 CLI_RUN);
	assert_false(o.slot_cpus_auto);
	assert_int_equal(o.nr_slot_cpus, 0);
	assert_int_equal(o.wake_preempt_ns, 0);
	cli_free(&o);
	expect_cli_error("--slot-cpus", "0-",
			 "--slot-cpus: expected 'auto', 'off' or a list of host CPUs below 256 "
			 "like 0,2-3 (at most 256), got '0-'");
	expect_cli_error("--wake-preempt", "soon",
			 "--wake-preempt: expected a duration in 0..10s or 'off', got 'soon'");
	assert_int_equal(
		parse(&o, err, sizeof(err), "img", "--sched", "host", "--slot-cpus", "0", NULL),
		CLI_ERROR);
	assert_string_equal(err, "--slot-cpus: only with --sched slots (the default)");
	cli_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--wake-preempt", "1ms", "--sched",
			       "host", NULL),
			 CLI_ERROR);
	assert_string_equal(err, "--wake-preempt: only with --sched slots (the default)");
	cli_free(&o);
}

static void test_cli_help_version(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), "--help", NULL), CLI_DONE);
	assert_int_equal(parse(&o, err, sizeof(err), "img", "--version", NULL), CLI_DONE);
	assert_int_equal(
		parse(&o, err, sizeof(err), "--hist", "wrmsr:icr", "--hist", "hlt", "img", NULL),
		CLI_RUN);
	assert_int_equal(o.nr_hist, 2);
	assert_string_equal(o.hist[0], "wrmsr:icr");
	cli_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_image_spec_ok),
		cmocka_unit_test(test_image_spec_errors),
		cmocka_unit_test(test_vm_names),
		cmocka_unit_test(test_cli_defaults_and_images),
		cmocka_unit_test(test_cli_errors),
		cmocka_unit_test(test_cli_sched),
		cmocka_unit_test(test_cli_wake),
		cmocka_unit_test(test_cpu_list),
		cmocka_unit_test(test_cli_substrate),
		cmocka_unit_test(test_cli_user_view),
		cmocka_unit_test(test_cli_help_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
