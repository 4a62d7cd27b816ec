// SPDX-License-Identifier: MIT
#include "cli.h"

#include "sched/policy.h"
#include "sched/scheduler.h"
#include "sched/watchdog.h"
#include "measure/stats.h"
#include "measure/trace.h"
#include "vmm_abi.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MEM_MIN		   (2ull << 20)
#define DEFAULT_VCPUS	   2
#define DEFAULT_MEM	   (16ull << 20)
#define DEFAULT_TIMEOUT_NS (120ull * 1000000000ull)

void cli_usage(FILE *out)
{
	char policies[512];
	size_t len = 0;
	unsigned int i;

	policies[0] = 0;
	for (i = 0; policy_all[i] && len < sizeof(policies); i++)
		len += (size_t)snprintf(policies + len, sizeof(policies) - len,
					"                       %-10s %s\n", policy_all[i]->name,
					policy_all[i]->summary);
	fprintf(out,
		"usage: vmm [options] "
		"IMAGE[:vcpus=N][:mem=SIZE][:name=NAME][:env=FILE][:args=STRING] ...\n"
		"\n"
		"Boot each IMAGE (an ELF64 guest kernel, or a multiboot ELF32 one such as a\n"
		"kvm-unit-tests .flat) as its own VM, all in this process. The same image may be\n"
		"given several times. args= takes the rest of the argument; env=FILE is a "
		"multiboot\n"
		"image's environment (NAME=value lines).\n"
		"\n"
		"options:\n"
		"  --vcpus N          vCPUs per VM when the image does not say (default %u, max "
		"%u)\n"
		"  --mem SIZE         guest RAM per VM, e.g. 16 (MiB), 64MiB, 1G (default 16M,\n"
		"                     128M for a multiboot image; 2M..1G)\n"
		"  --timeout DURATION stop a VM still running after this long and report it as\n"
		"                     timed out, e.g. 30, 30s, 500ms; 0 = never (default 120s)\n"
		"  --watchdog DURATION|off  report (stderr, JSON) every vCPU of a VM in which\n"
		"                     one should run and has not for this long (default 10s)\n"
		"  --json FILE        write the run report as JSON (docs/json-report.md); - is\n"
		"                     stdout (the text report then goes to stderr)\n"
		"  --trace FILE       write a timeline (Chrome trace-event JSON: open it in\n"
		"                     Perfetto or chrome://tracing)\n"
		"  --trace-events N   trace ring size per vCPU, newest kept (default %u)\n"
		"  --irqchip user|kernel  our userspace x2APIC (default) or KVM's in-kernel LAPIC\n"
		"  --ipi-fastpath on|off  single-target IPIs straight from the ICR exit (default "
		"on)\n"
		"  --wake direct|deferred  a halted vCPU's timer and IPI wakeups: from its own\n"
		"                     futex timeout and the sender (default), or through a\n"
		"                     helper thread per VM first (seed 3; docs/wakeups.md)\n"
		"  --kick-redirect on|poll|off  an IPI sender hands the wake of a halted\n"
		"                     target to an idle slot's helper instead of doing it;\n"
		"                     poll: the helper polls 200us after each wake while its\n"
		"                     slot stays idle (default off)\n"
		"  --halt-poll DURATION|adaptive|0  a halting vCPU polls for an interrupt this\n"
		"                     long before it sleeps; adaptive moves the window as KVM's\n"
		"                     halt_poll_ns does (max 200us); 0 = off (default)\n"
		"  --vm NAME|INDEX    the exit and event tables and --hist of that VM only\n"
		"  --vcpu N           ... of vCPU N only (of every VM, or of the --vm one)\n"
		"  --event all|io|msr the exit tables show every exit (default), port I/O or\n"
		"                     MSR exits only, as perf kvm stat --event\n"
		"  --report vm|vcpu   also print an exit table per VM or per vCPU (repeatable)\n"
		"  --sort KEY         order of the exit table rows, as perf kvm stat's --key:\n"
		"                     sample (default), time (average time), max, min\n"
		"  --hist KEY         print an ASCII histogram of exit KEY's handling time,\n"
		"                     e.g. io:console, hlt, wrmsr:icr, or of an event latency:\n"
		"                     event:ipi, event:wakeup, event:slot-wait, event:handoff,\n"
		"                     event:spin-yield (repeatable)\n"
		"  --no-stats         count exits but do not time them\n"
		"  --pin              pin vCPU i of every VM to host CPU i (mod online CPUs)\n"
		"  --quiet            do not print guest console output\n"
		"  -h, --help, --version   (options are written in full: no abbreviations)\n"
		"\n"
		"scheduling (docs/scheduler.md):\n"
		"  --sched slots|host all VMs share P pCPU slots run by our scheduler (default),\n"
		"                     or threads run free under Linux and a spin exit calls\n"
		"                     sched_yield()\n"
		"  --pcpus P          pCPU slots (default: the usable CPUs, see taskset; max %u)\n"
		"  --quantum DURATION time slice of a slot (default 5ms)\n"
		"  --policy NAME      who a spinning vCPU yields its slot to (default ready):\n"
		"%s"
		"  --ipi-window DURATION  ipi-aware: how long an IPI receiver stays preferred\n"
		"                     (default 50ms)\n"
		"  --slot-cpus auto|off|LIST  home host CPU of each slot: a thread that gets\n"
		"                     slot i runs on CPU LIST[i mod n]; auto spreads the slots\n"
		"                     over the CPUs this process may use (default; off with\n"
		"                     --pin); off lets Linux place the threads\n"
		"  --wake-preempt DURATION|off  a vCPU woken by an IPI that still waits for a\n"
		"                     slot this long after takes the sender's slot (default %s)\n"
		"\n"
		"exit status: 0 every VM shut down with status 0; 1 a VM failed (guest status,\n"
		"triple fault, unexpected exit, timeout); 2 bad option, image or output path;\n"
		"3 KVM or host setup failed; 4 every VM succeeded but the report could not be\n"
		"written (stdout, --json, --trace); 128+N signal N stopped the run.\n",
		DEFAULT_VCPUS, VMM_MAX_VCPUS, TRACE_DEFAULT_EVENTS, SCHED_MAX_SLOTS, policies,
		SCHED_DEFAULT_WAKE_PREEMPT_STR);
}

int parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *v)
{
	unsigned long long x;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return -1;
	*v = (unsigned int)x;
	return 0;
}

int parse_size(const char *s, uint64_t *bytes)
{
	unsigned long long x;
	unsigned int shift = 0;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 0:
		break;
	default:
		return -1;
	}
	if (shift && (!strcasecmp(end, "ib") || !strcasecmp(end, "b")))
		end += strlen(end);
	if (*end)
		return -1;
	if (x > (UINT64_MAX >> shift))
		return -1;
	*bytes = (uint64_t)x << shift;
	return 0;
}

int parse_duration(const char *s, uint64_t *ns)
{
	double x, scale = 1e9;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	x = strtod(s, &end);
	if (errno || end == s || !isfinite(x) || x < 0)
		return -1;
	if (!*end || !strcmp(end, "s"))
		scale = 1e9;
	else if (!strcmp(end, "ms"))
		scale = 1e6;
	else if (!strcmp(end, "us"))
		scale = 1e3;
	else if (!strcmp(end, "ns"))
		scale = 1;
	else if (!strcmp(end, "m"))
		scale = 60e9;
	else
		return -1;
	if (x * scale > 1e18)
		return -1;
	*ns = (uint64_t)(x * scale + 0.5);
	return 0;
}

/* Guest RAM: a plain number is MiB, as in QEMU's -m and kvmtool's -m. */
static int parse_mem(const char *s, uint64_t *bytes)
{
	if (parse_size(s, bytes) < 0)
		return -1;
	if (s[strspn(s, "0123456789")] == 0) {
		if (*bytes > (UINT64_MAX >> 20))
			return -1;
		*bytes <<= 20;
	}
	return 0;
}

static int spec_key(const char *key, size_t klen, const char *val, size_t vlen,
		    struct vm_spec *spec, char *err, size_t errlen)
{
	char buf[64];

	if (vlen >= sizeof(buf)) {
		snprintf(err, errlen, "%.*s= value is too long", (int)klen, key);
		return -1;
	}
	memcpy(buf, val, vlen);
	buf[vlen] = 0;
	if (klen == 5 && !memcmp(key, "vcpus", 5)) {
		if (parse_uint(buf, 1, VMM_MAX_VCPUS, &spec->vcpus) == 0)
			return 0;
		snprintf(err, errlen, "vcpus= must be an integer in 1..%u, got '%s'", VMM_MAX_VCPUS,
			 buf);
		return -1;
	}
	if (klen == 4 && !memcmp(key, "name", 4)) {
		size_t i, ok = vlen > 0 && vlen < sizeof(spec->name);

		for (i = 0; ok && i < vlen; i++)
			ok = isalnum((unsigned char)buf[i]) || strchr("_.-", buf[i]);
		if (ok) {
			memcpy(spec->name, buf, vlen + 1);
			return 0;
		}
		snprintf(err, errlen,
			 "name= must be 1..%zu letters, digits, '_', '.' or '-', got '%s'",
			 sizeof(spec->name) - 1, buf);
		return -1;
	}
	if (klen == 3 && !memcmp(key, "mem", 3)) {
		if (parse_mem(buf, &spec->mem) == 0 && spec->mem >= MEM_MIN &&
		    spec->mem <= VMM_MEM_MAX && !(spec->mem & 4095))
			return 0;
		snprintf(err, errlen, "mem= must be a size in 2M..1G, a multiple of 4K, got '%s'",
			 buf);
		return -1;
	}
	snprintf(err, errlen,
		 "unknown image option '%.*s' (known: vcpus=, mem=, name=, env=, args=)", (int)klen,
		 key);
	return -1;
}

/* Where the next ":key=" starts in s, for one of the known keys; NULL if none. */
static const char *next_key(const char *s)
{
	static const char *const keys[] = { ":vcpus=", ":mem=", ":name=", ":env=", ":args=" };
	const char *best = NULL, *p;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		p = strstr(s, keys[i]);
		if (p && (!best || p < best))
			best = p;
	}
	return best;
}

int parse_image_spec(const char *arg, struct vm_spec *spec, char *err, size_t errlen)
{
	const char *p = next_key(arg), *eq, *end;

	memset(spec, 0, sizeof(*spec));
	spec->path = strndup(arg, p ? (size_t)(p - arg) : strlen(arg));
	if (!spec->path || !*spec->path) {
		snprintf(err, errlen, "empty image path");
		return -1;
	}
	while (p) {
		p++; /* skip ':' */
		eq = strchr(p, '=');
		if (!strncmp(p, "args=", 5)) {
			/* args takes the rest, colons included. */
			spec->args = strdup(eq + 1);
			if (strlen(spec->args) >= VMM_ARGS_MAX) {
				snprintf(err, errlen, "args= is longer than %u bytes",
					 VMM_ARGS_MAX - 1);
				return -1;
			}
			return 0;
		}
		end = next_key(eq);
		if (!end)
			end = eq + strlen(eq);
		if (!strncmp(p, "env=", 4)) {
			/* A path: longer than the other values, so not through spec_key. */
			free(spec->env);
			spec->env = strndup(eq + 1, (size_t)(end - eq - 1));
			if (!spec->env || !*spec->env) {
				snprintf(err, errlen, "env= needs a file name");
				return -1;
			}
			p = *end ? end : NULL;
			continue;
		}
		if (spec_key(p, (size_t)(eq - p), eq + 1, (size_t)(end - eq - 1), spec, err,
			     errlen) < 0)
			return -1;
		p = *end ? end : NULL;
	}
	return 0;
}

enum {
	OPT_VCPUS = 256,
	OPT_MEM,
	OPT_TIMEOUT,
	OPT_JSON,
	OPT_QUIET,
	OPT_NO_STATS,
	OPT_PIN,
	OPT_REPORT,
	OPT_SORT,
	OPT_HIST,
	OPT_TRACE,
	OPT_TRACE_EVENTS,
	OPT_IRQCHIP,
	OPT_IPI_FASTPATH,
	OPT_WAKE,
	OPT_KICK_REDIRECT,
	OPT_HALT_POLL,
	OPT_SCHED,
	OPT_PCPUS,
	OPT_QUANTUM,
	OPT_POLICY,
	OPT_IPI_WINDOW,
	OPT_SLOT_CPUS,
	OPT_WAKE_PREEMPT,
	OPT_WATCHDOG,
	OPT_SEL_VM,
	OPT_SEL_VCPU,
	OPT_EVENT,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_opts[] = {
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "watchdog", required_argument, NULL, OPT_WATCHDOG },
	{ "vm", required_argument, NULL, OPT_SEL_VM },
	{ "vcpu", required_argument, NULL, OPT_SEL_VCPU },
	{ "event", required_argument, NULL, OPT_EVENT },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "no-stats", no_argument, NULL, OPT_NO_STATS },
	{ "pin", no_argument, NULL, OPT_PIN },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "sort", required_argument, NULL, OPT_SORT },
	{ "hist", required_argument, NULL, OPT_HIST },
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "trace-events", required_argument, NULL, OPT_TRACE_EVENTS },
	{ "irqchip", required_argument, NULL, OPT_IRQCHIP },
	{ "ipi-fastpath", required_argument, NULL, OPT_IPI_FASTPATH },
	{ "wake", required_argument, NULL, OPT_WAKE },
	{ "kick-redirect", required_argument, NULL, OPT_KICK_REDIRECT },
	{ "halt-poll", required_argument, NULL, OPT_HALT_POLL },
	{ "sched", required_argument, NULL, OPT_SCHED },
	{ "pcpus", required_argument, NULL, OPT_PCPUS },
	{ "quantum", required_argument, NULL, OPT_QUANTUM },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "ipi-window", required_argument, NULL, OPT_IPI_WINDOW },
	{ "slot-cpus", required_argument, NULL, OPT_SLOT_CPUS },
	{ "wake-preempt", required_argument, NULL, OPT_WAKE_PREEMPT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int cli_policy(struct options *o, const char *arg, char *err, size_t errlen)
{
	char names[128];
	size_t len = 0;
	unsigned int i;

	o->policy = policy_find(arg);
	if (o->policy)
		return 0;
	names[0] = 0;
	for (i = 0; policy_all[i] && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "",
					policy_all[i]->name);
	snprintf(err, errlen, "--policy: unknown policy '%s' (known: %s)", arg, names);
	return -1;
}

int parse_cpu_list(const char *s, uint8_t *cpus, unsigned int max, unsigned int *n)
{
	unsigned int lo, hi, c;
	char *end;

	*n = 0;
	if (!s || !*s)
		return -1;
	for (;;) {
		if (*s < '0' || *s > '9')
			return -1;
		lo = hi = (unsigned int)strtoul(s, &end, 10);
		if (*end == '-') {
			s = end + 1;
			if (*s < '0' || *s > '9')
				return -1;
			hi = (unsigned int)strtoul(s, &end, 10);
		}
		if (lo > hi || hi >= CLI_MAX_CPUS || *n + (hi - lo) >= max)
			return -1;
		for (c = lo; c <= hi; c++)
			cpus[(*n)++] = (uint8_t)c;
		if (!*end)
			return 0;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

static int cli_slot_cpus(struct options *o, const char *arg, char *err, size_t errlen)
{
	o->slot_cpus_auto = !strcmp(arg, "auto");
	o->nr_slot_cpus = 0;
	if (o->slot_cpus_auto || !strcmp(arg, "off"))
		return 0;
	if (parse_cpu_list(arg, o->slot_cpus, SCHED_MAX_SLOTS, &o->nr_slot_cpus) == 0)
		return 0;
	snprintf(err, errlen,
		 "--slot-cpus: expected 'auto', 'off' or a list of host CPUs below %u like "
		 "0,2-3 (at most %u), got '%s'",
		 CLI_MAX_CPUS, SCHED_MAX_SLOTS, arg);
	return -1;
}

static int cli_sched_option(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	o->sched_opts_set |= c == OPT_SCHED ? 0 : 1u << (c - OPT_SCHED);
	switch (c) {
	case OPT_SCHED:
		if (!strcmp(arg, "slots") || !strcmp(arg, "host")) {
			o->sched_host = arg[0] == 'h';
			return 0;
		}
		snprintf(err, errlen, "--sched: expected 'slots' or 'host', got '%s'", arg);
		return -1;
	case OPT_PCPUS:
		if (parse_uint(arg, 1, SCHED_MAX_SLOTS, &o->pcpus) == 0)
			return 0;
		snprintf(err, errlen, "--pcpus: expected an integer in 1..%u, got '%s'",
			 SCHED_MAX_SLOTS, arg);
		return -1;
	case OPT_QUANTUM:
		if (parse_duration(arg, &o->quantum_ns) == 0 &&
		    o->quantum_ns >= SCHED_MIN_QUANTUM && o->quantum_ns <= 10000000000ull)
			return 0;
		snprintf(err, errlen,
			 "--quantum: expected a duration in 50us..10s, got '%s' (a handoff and a "
			 "KVM entry take ~30 us here: a shorter slot may run no guest code)",
			 arg);
		return -1;
	case OPT_POLICY:
		return cli_policy(o, arg, err, errlen);
	case OPT_SLOT_CPUS:
		return cli_slot_cpus(o, arg, err, errlen);
	case OPT_WAKE_PREEMPT:
		if (!strcmp(arg, "off")) {
			o->wake_preempt_ns = 0;
			return 0;
		}
		if (parse_duration(arg, &o->wake_preempt_ns) == 0 &&
		    o->wake_preempt_ns <= 10000000000ull)
			return 0;
		snprintf(err, errlen,
			 "--wake-preempt: expected a duration in 0..10s or 'off', got '%s'", arg);
		return -1;
	default:
		if (parse_duration(arg, &o->ipi_window_ns) == 0 && o->ipi_window_ns > 0)
			return 0;
		snprintf(err, errlen, "--ipi-window: expected a duration like 50ms, got '%s'", arg);
		return -1;
	}
}

static int cli_halt_poll(struct options *o, const char *arg, char *err, size_t errlen)
{
	struct halt_poll_config *hp = &o->halt_poll;

	if (!strcmp(arg, "adaptive")) {
		hp->mode = HALT_POLL_ADAPTIVE;
		hp->ns = HALT_POLL_MAX_NS;
		return 0;
	}
	if (!strcmp(arg, "off") || !strcmp(arg, "0")) {
		hp->mode = HALT_POLL_OFF;
		hp->ns = 0;
		return 0;
	}
	if (parse_duration(arg, &hp->ns) == 0 && hp->ns > 0 && hp->ns <= 1000000000ull) {
		hp->mode = HALT_POLL_FIXED;
		return 0;
	}
	snprintf(err, errlen,
		 "--halt-poll: expected 'adaptive', 0 (off) or a duration in 1ns..1s like "
		 "100us, got '%s'",
		 arg);
	return -1;
}

/* The wakeup paths of seeds 3 and 4, and halt polling (docs/wakeups.md). */
static int cli_wake_option(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	switch (c) {
	case OPT_WAKE:
		if (!strcmp(arg, "direct") || !strcmp(arg, "deferred")) {
			o->wake_deferred = arg[1] == 'e';
			return 0;
		}
		snprintf(err, errlen, "--wake: expected 'direct' or 'deferred', got '%s'", arg);
		return -1;
	case OPT_KICK_REDIRECT:
		if (!strcmp(arg, "on") || !strcmp(arg, "off") || !strcmp(arg, "poll")) {
			o->kick_redirect = strcmp(arg, "off") != 0;
			o->kick_redirect_poll = arg[0] == 'p';
			return 0;
		}
		snprintf(err, errlen, "--kick-redirect: expected 'on', 'poll' or 'off', got '%s'",
			 arg);
		return -1;
	default:
		return cli_halt_poll(o, arg, err, errlen);
	}
}

/* Slot options mean nothing when Linux schedules the threads: say so instead of ignoring. */
/* A VM's name as the tables will show it. */
static void vm_display_name(const struct options *o, unsigned int i, char *buf, size_t len)
{
	if (o->vms[i].name[0])
		snprintf(buf, len, "%s", o->vms[i].name);
	else
		snprintf(buf, len, "vm%u", i);
}

static unsigned int spec_vcpus(const struct options *o, unsigned int i)
{
	return o->vms[i].vcpus ? o->vms[i].vcpus : o->vcpus;
}

int cli_select(struct options *o, const char *const *names, const unsigned int *vcpus,
	       unsigned int n, char *err, size_t errlen)
{
	unsigned int i, most = 0;
	unsigned long idx;
	char *end;

	for (i = 0; o->sel_vm && i < n; i++)
		if (!strcmp(names[i], o->sel_vm))
			o->sel_vm_index = (int)i;
	if (o->sel_vm && o->sel_vm_index < 0) {
		idx = strtoul(o->sel_vm, &end, 10);
		if (*o->sel_vm && !*end && idx < n)
			o->sel_vm_index = (int)idx;
	}
	if (o->sel_vm && o->sel_vm_index < 0) {
		snprintf(err, errlen, "--vm %s: no such VM (a name, or an index below %u)",
			 o->sel_vm, n);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (o->sel_vm_index < 0 || (int)i == o->sel_vm_index)
			most = vcpus[i] > most ? vcpus[i] : most;
	if (o->sel_vcpu >= (int)most) {
		snprintf(err, errlen, "--vcpu %d: the %s %u vCPU%s", o->sel_vcpu,
			 o->sel_vm_index < 0 ? "largest VM has" : "VM has", most,
			 most == 1 ? "" : "s");
		return -1;
	}
	return 0;
}

/* The selectors against the command line's VMs. */
static int cli_resolve_selectors(struct options *o, char *err, size_t errlen)
{
	char(*names)[16] = calloc(o->nr_vms, sizeof(*names));
	const char **np = calloc(o->nr_vms, sizeof(*np));
	unsigned int *vc = calloc(o->nr_vms, sizeof(*vc)), i;
	int rc = -1;

	if (!o->sel_vm && o->sel_vcpu < 0)
		rc = 0;
	else if (!names || !np || !vc)
		snprintf(err, errlen, "out of memory");
	else {
		for (i = 0; i < o->nr_vms; i++) {
			vm_display_name(o, i, names[i], sizeof(names[i]));
			np[i] = names[i];
			vc[i] = spec_vcpus(o, i);
		}
		rc = cli_select(o, np, vc, o->nr_vms, err, errlen);
	}
	free(names);
	free(np);
	free(vc);
	return rc;
}

/* Two VMs of one name would make every table ambiguous. */
static int cli_check_names(const struct options *o, char *err, size_t errlen)
{
	char a[16], b[16];
	unsigned int i, k;

	for (i = 0; i < o->nr_vms; i++) {
		vm_display_name(o, i, a, sizeof(a));
		for (k = 0; k < i; k++) {
			vm_display_name(o, k, b, sizeof(b));
			if (strcmp(a, b))
				continue;
			snprintf(err, errlen, "%s: name '%s' is already VM %u's (%s)",
				 o->vms[i].path, a, k, o->vms[k].path);
			return -1;
		}
	}
	return 0;
}

/* The wake paths live in our userspace APIC's halt; say so rather than ignore them. */
static int cli_check_wake(const struct options *o, char *err, size_t errlen)
{
	const char *opt = o->wake_deferred		       ? "--wake deferred"
			  : o->kick_redirect		       ? "--kick-redirect on"
			  : o->halt_poll.mode != HALT_POLL_OFF ? "--halt-poll"
							       : NULL;

	if (opt && o->irqchip_kernel) {
		snprintf(err, errlen,
			 "%s: only with --irqchip user (KVM's in-kernel LAPIC halts and wakes "
			 "inside KVM)",
			 opt);
		return -1;
	}
	if (o->kick_redirect && o->sched_host) {
		snprintf(err, errlen,
			 "--kick-redirect on: only with --sched slots (it hands wakes to idle "
			 "slots)");
		return -1;
	}
	if (o->kick_redirect && o->wake_deferred) {
		snprintf(err, errlen,
			 "--kick-redirect on: only with --wake direct (a deferred wake already "
			 "leaves the sender to the VM's helper)");
		return -1;
	}
	return 0;
}

static int cli_check(const struct options *o, char *err, size_t errlen)
{
	static const char *const names[] = { "--pcpus",	     "--quantum",   "--policy",
					     "--ipi-window", "--slot-cpus", "--wake-preempt" };
	unsigned int i;

	/* Two writers of one file: the later would silently replace the earlier. */
	if (o->json && o->trace && !strcmp(o->json, o->trace)) {
		snprintf(err, errlen, "--trace %s: the same file as --json", o->trace);
		return -1;
	}
	if (cli_check_wake(o, err, errlen) < 0)
		return -1;
	if (!o->sched_host)
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (o->sched_opts_set & (1u << (i + 1))) {
			snprintf(err, errlen, "%s: only with --sched slots (the default)",
				 names[i]);
			return -1;
		}
	}
	return 0;
}

static int cli_sort(struct options *o, const char *arg, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum report_sort key;
	} keys[] = { { "sample", SORT_SAMPLES },
		     { "samples", SORT_SAMPLES },
		     { "time", SORT_TIME },
		     { "max", SORT_MAX },
		     { "min", SORT_MIN } };
	unsigned int i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!strcmp(arg, keys[i].name)) {
			o->sort = keys[i].key;
			return 0;
		}
	}
	snprintf(err, errlen,
		 "--sort: expected sample, time (average, as perf kvm stat), max or min, got '%s'",
		 arg);
	return -1;
}

static int cli_option(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	switch (c) {
	case OPT_VCPUS:
		if (parse_uint(arg, 1, VMM_MAX_VCPUS, &o->vcpus) == 0)
			return 0;
		snprintf(err, errlen, "--vcpus: expected an integer in 1..%u, got '%s'",
			 VMM_MAX_VCPUS, arg);
		return -1;
	case OPT_MEM:
		o->mem_set = true;
		if (parse_mem(arg, &o->mem) == 0 && o->mem >= MEM_MIN && o->mem <= VMM_MEM_MAX &&
		    !(o->mem & 4095))
			return 0;
		snprintf(err, errlen,
			 "--mem: expected a size in 2M..1G, a multiple of 4K, got '%s'", arg);
		return -1;
	case OPT_WATCHDOG:
		if (!strcmp(arg, "off")) {
			o->watchdog_ns = 0;
			return 0;
		}
		if (parse_duration(arg, &o->watchdog_ns) == 0 && o->watchdog_ns >= 100000000ull)
			return 0;
		snprintf(err, errlen,
			 "--watchdog: expected a duration of at least 100ms or 'off', got '%s'",
			 arg);
		return -1;
	case OPT_TIMEOUT:
		if (parse_duration(arg, &o->timeout_ns) == 0)
			return 0;
		snprintf(err, errlen,
			 "--timeout: expected a duration like 30, 30s, 500ms, got '%s'", arg);
		return -1;
	case OPT_JSON:
		if (*arg) {
			o->json = arg;
			return 0;
		}
		snprintf(err, errlen, "--json: expected a file name");
		return -1;
	case OPT_TRACE:
		if (*arg) {
			o->trace = arg;
			return 0;
		}
		snprintf(err, errlen, "--trace: expected a file name");
		return -1;
	case OPT_TRACE_EVENTS:
		if (parse_uint(arg, 16, 1u << 24, &o->trace_events) == 0)
			return 0;
		snprintf(err, errlen,
			 "--trace-events: expected an integer in 16..16777216, got '%s'", arg);
		return -1;
	case OPT_IRQCHIP:
		if (!strcmp(arg, "user") || !strcmp(arg, "kernel")) {
			o->irqchip_kernel = arg[0] == 'k';
			return 0;
		}
		snprintf(err, errlen, "--irqchip: expected 'user' or 'kernel', got '%s'", arg);
		return -1;
	case OPT_IPI_FASTPATH:
		if (!strcmp(arg, "on") || !strcmp(arg, "off")) {
			o->ipi_fastpath = arg[1] == 'n';
			return 0;
		}
		snprintf(err, errlen, "--ipi-fastpath: expected 'on' or 'off', got '%s'", arg);
		return -1;
	case OPT_WAKE:
	case OPT_KICK_REDIRECT:
	case OPT_HALT_POLL:
		return cli_wake_option(o, c, arg, err, errlen);
	case OPT_SCHED:
	case OPT_PCPUS:
	case OPT_QUANTUM:
	case OPT_POLICY:
	case OPT_IPI_WINDOW:
	case OPT_SLOT_CPUS:
	case OPT_WAKE_PREEMPT:
		return cli_sched_option(o, c, arg, err, errlen);
	case OPT_QUIET:
		o->quiet = true;
		return 0;
	case OPT_NO_STATS:
		o->stats = false;
		return 0;
	case OPT_PIN:
		o->pin = true;
		return 0;
	case OPT_REPORT:
		if (!strcmp(arg, "vcpu") || !strcmp(arg, "vm")) {
			*(arg[1] == 'c' ? &o->report_vcpu : &o->report_vm) = true;
			return 0;
		}
		snprintf(err, errlen, "--report: expected 'vm' or 'vcpu', got '%s'", arg);
		return -1;
	case OPT_SORT:
		return cli_sort(o, arg, err, errlen);
	case OPT_SEL_VM:
		o->sel_vm = arg;
		return 0;
	case OPT_EVENT:
		if (!strcmp(arg, "all") || !strcmp(arg, "io") || !strcmp(arg, "msr")) {
			o->event_class = arg[0] == 'a'	 ? CLASS_ALL
					 : arg[0] == 'i' ? CLASS_IO
							 : CLASS_MSR;
			return 0;
		}
		snprintf(err, errlen, "--event: expected all, io or msr, got '%s'", arg);
		return -1;
	case OPT_SEL_VCPU: {
		unsigned int n;

		if (parse_uint(arg, 0, VMM_MAX_VCPUS - 1, &n) == 0) {
			o->sel_vcpu = (int)n;
			return 0;
		}
		snprintf(err, errlen, "--vcpu: expected a vCPU index in 0..%u, got '%s'",
			 VMM_MAX_VCPUS - 1, arg);
		return -1;
	}
	case OPT_HIST:
		if (exit_key_parse(arg) < 0 && event_key_parse(arg) < 0) {
			snprintf(err, errlen,
				 "--hist: unknown exit key '%s' (e.g. io:console, hlt, "
				 "wrmsr:icr; see --help)",
				 arg);
			return -1;
		}
		if (o->nr_hist == CLI_MAX_HIST) {
			snprintf(err, errlen, "--hist: at most %d keys", CLI_MAX_HIST);
			return -1;
		}
		o->hist[o->nr_hist++] = arg;
		return 0;
	default:
		snprintf(err, errlen, "unknown option (see --help)");
		return -1;
	}
}

static void cli_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->vcpus = DEFAULT_VCPUS;
	o->mem = DEFAULT_MEM;
	o->timeout_ns = DEFAULT_TIMEOUT_NS;
	o->watchdog_ns = WATCHDOG_DEFAULT_NS;
	o->sel_vm_index = -1;
	o->sel_vcpu = -1;
	o->stats = true;
	o->ipi_fastpath = true;
	o->trace_events = TRACE_DEFAULT_EVENTS;
	o->sort = SORT_SAMPLES;
	o->quantum_ns = SCHED_DEFAULT_QUANTUM;
	o->policy = &policy_ready;
	o->ipi_window_ns = SCHED_DEFAULT_IPI_WINDOW;
	o->wake_preempt_ns = SCHED_DEFAULT_WAKE_PREEMPT;
	o->slot_cpus_auto = true;
}

static int cli_images(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	char why[200];
	int i;

	o->nr_vms = (unsigned int)(argc - optind);
	if (!o->nr_vms) {
		snprintf(err, errlen,
			 "no guest image given (usage: vmm [options] IMAGE ...; "
			 "see --help)");
		return -1;
	}
	o->vms = calloc(o->nr_vms, sizeof(*o->vms));
	if (!o->vms) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = optind; i < argc; i++) {
		struct vm_spec *s = &o->vms[i - optind];

		if (parse_image_spec(argv[i], s, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", argv[i], why);
			return -1;
		}
		if (!s->vcpus)
			s->vcpus = o->vcpus;
		s->mem_default = !s->mem && !o->mem_set;
		if (!s->mem)
			s->mem = o->mem;
	}
	return 0;
}

/*
 * Options are taken by their full names only: a script that says --vc would
 * change meaning the day another option starts with "vc". getopt_long
 * accepts unique prefixes, so refuse them here, naming the option meant.
 */
static int cli_abbreviated(const char *arg, const struct option *opt, char *err, size_t errlen)
{
	size_t n;

	if (strncmp(arg, "--", 2))
		return 0;
	n = strcspn(arg + 2, "=");
	if (n == strlen(opt->name) && !strncmp(arg + 2, opt->name, n))
		return 0;
	snprintf(err, errlen, "%.*s: options are not abbreviated: did you mean --%s?", (int)n + 2,
		 arg, opt->name);
	return -1;
}

/* An option getopt_long refused: unknown, ambiguous (the options it could be), or missing its
 * value. */
static void cli_unknown(const char *arg, bool bad_value, char *err, size_t errlen)
{
	size_t n = strncmp(arg, "--", 2) ? 0 : strcspn(arg + 2, "="), len = 0;
	char names[256] = "";
	unsigned int i, k = 0;

	for (i = 0; n && long_opts[i].name; i++) {
		if (strncmp(long_opts[i].name, arg + 2, n) || len >= sizeof(names))
			continue;
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s--%s", k++ ? ", " : "",
					long_opts[i].name);
	}
	if (k > 1 && !bad_value)
		snprintf(err, errlen, "%.*s: ambiguous: it could be %s (write the option in full)",
			 (int)n + 2, arg, names);
	else
		snprintf(err, errlen, "%s: %s", arg,
			 bad_value ? "missing or bad argument (see --help)"
				   : "unknown option (see --help)");
}

/* vmm report FILE.json takes only what shapes the tables. */
static bool report_option(int c)
{
	return c == OPT_SORT || c == OPT_REPORT || c == OPT_HIST || c == OPT_SEL_VM ||
	       c == OPT_EVENT || c == OPT_SEL_VCPU || c == OPT_HELP || c == OPT_VERSION ||
	       c == '?' || c == ':';
}

static enum cli_result cli_report_file(struct options *o, int argc, char **argv, char *err,
				       size_t errlen)
{
	if (argc - optind != 1) {
		snprintf(err, errlen,
			 "report: expected one JSON file (vmm report [--sort KEY] "
			 "[--report vm|vcpu] [--hist KEY] [--vm NAME] [--vcpu N] FILE)");
		return CLI_ERROR;
	}
	o->report_file = argv[optind];
	return CLI_REPORT;
}

enum cli_result cli_parse(int argc, char **argv, struct options *o, FILE *out, char *err,
			  size_t errlen)
{
	bool report = argc > 1 && !strcmp(argv[1], "report");
	const char *tok;
	int c, idx;

	cli_defaults(o);
	o->argc = argc;
	o->argv = argv;
	if (report) {
		argc--;
		argv++;
	}
	optind = 0; /* full reset, so tests can parse several argvs */
	opterr = 0;
	for (;;) {
		idx = -1;
		c = getopt_long(argc, argv, "h", long_opts, &idx);
		if (c == -1)
			break;
		if (c == 'h')
			c = OPT_HELP;
		/* The option as typed: before its value when that was a separate argument. */
		tok = optarg && optind >= 2 && optarg == argv[optind - 1] ? argv[optind - 2]
									  : argv[optind - 1];
		if (idx >= 0 && cli_abbreviated(tok, &long_opts[idx], err, errlen))
			return CLI_ERROR;
		if (c == OPT_HELP) {
			cli_usage(out);
			return CLI_DONE;
		}
		if (c == OPT_VERSION) {
			fprintf(out, "vmm %s (guest ABI %u)\n", VMM_VERSION, VMM_ABI_VERSION);
			return CLI_DONE;
		}
		if (c == '?' || c == ':') {
			cli_unknown(argv[optind - 1], c == ':' || optopt, err, errlen);
			return CLI_ERROR;
		}
		if (report && !report_option(c)) {
			snprintf(err, errlen,
				 "%s: not an option of 'vmm report' (it takes --sort, --report, "
				 "--hist, --vm, --vcpu, --event)",
				 tok);
			return CLI_ERROR;
		}
		if (cli_option(o, c, optarg, err, errlen) < 0)
			return CLI_ERROR;
	}
	if (report)
		return cli_report_file(o, argc, argv, err, errlen);
	if (cli_check(o, err, errlen) < 0 || cli_images(o, argc, argv, err, errlen) < 0 ||
	    cli_check_names(o, err, errlen) < 0 || cli_resolve_selectors(o, err, errlen) < 0)
		return CLI_ERROR;
	return CLI_RUN;
}

void cli_free(struct options *o)
{
	unsigned int i;

	for (i = 0; i < o->nr_vms && o->vms; i++) {
		free(o->vms[i].path);
		free(o->vms[i].args);
		free(o->vms[i].env);
	}
	free(o->vms);
	o->vms = NULL;
	o->nr_vms = 0;
}
