// SPDX-License-Identifier: MIT
/*
 * A hostile guest next to a healthy one: icr-combos writes every ICR
 * combination (all 8 delivery modes, both destination modes, level, trigger,
 * every shorthand, live, nonexistent, broadcast and logical destinations,
 * legal and illegal vectors) and then NMI bursts, while hello runs in the
 * same vmm. The run must end as README says a clean run ends (exit 0), hello
 * must finish, every VM's books must balance (sent = delivered + coalesced +
 * dropped + pending), and what the guest's handlers counted must equal what
 * vmm says it delivered and dropped. The same under --sched host and on one
 * slot (5 vCPUs on --pcpus 1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmmtest.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMBOS_VCPUS 3 /* 3: the guest's logical masks then pick a strict subset */
#define HELLO_VCPUS  2
/* A delivery may wait 10 s: on a loaded host a slot handoff alone took over 1 s (soak, load 8). */
#define COMBOS_ARGS "senders=2,nmi_burst=100,wait_us=10000000"

/* Every mismatch of one run, so a failure lists them all at once. */
struct verdict {
	char msg[8192];
	size_t len;
	unsigned int bad;
};

static void __attribute__((format(printf, 3, 4)))
expect(struct verdict *v, bool ok, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ok)
		return;
	v->bad++;
	if (v->len >= sizeof(v->msg) - 2)
		return;
	va_start(ap, fmt);
	n = vsnprintf(v->msg + v->len, sizeof(v->msg) - v->len - 1, fmt, ap);
	va_end(ap);
	if (n > 0)
		v->len = strlen(v->msg);
	v->msg[v->len++] = '\n';
	v->msg[v->len] = 0;
}

/* interrupts.<key> of VM i; -1 (and a mismatch) if missing. */
static json_int_t irq(struct verdict *v, const struct vmm_run *r, size_t vm, const char *key)
{
	json_t *o = json_object_get(json_object_get(report_vm(r, vm), "interrupts"), key);

	expect(v, o != NULL, "vm%zu: no interrupts.%s in the report", vm, key);
	if (!o)
		return -1;
	return json_is_boolean(o) ? json_is_true(o) : json_integer_value(o);
}

/* The fields of the result record `name` that vCPU `vcpu` of VM i sent, NULL if none. */
static json_t *record(const struct vmm_run *r, size_t vm, const char *name, json_int_t vcpu)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(report_vm(r, vm), "results"), i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "name")), name) &&
		    json_integer_value(json_object_get(e, "vcpu")) == vcpu)
			return json_object_get(e, "fields");
	}
	return NULL;
}

static json_int_t field(struct verdict *v, json_t *fields, const char *what, const char *key)
{
	json_t *f = json_object_get(fields, key);

	expect(v, json_is_integer(f), "%s: no field %s", what, key);
	return json_is_integer(f) ? json_integer_value(f) : -1;
}

/* What the guest printed (its own account of a mismatch), for the failure message. */
static void guest_lines(struct verdict *v, const struct vmm_run *r)
{
	const char *p = r->out;
	unsigned int n = 0;

	while (p && *p && n < 8) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (!strncmp(p, "[vm0/", 5) && strstr(p, "icr-combos:") && len < 300) {
			expect(v, false, "  guest: %.*s", (int)len, p);
			n++;
		}
		p = nl ? nl + 1 : p + len;
	}
}

/* Every VM's books balance, and each count of the line is there. */
static void check_balance(struct verdict *v, const struct vmm_run *r, size_t vm)
{
	json_int_t sent = irq(v, r, vm, "ipi_sent"), delivered = irq(v, r, vm, "ipi_delivered");
	json_int_t coalesced = irq(v, r, vm, "ipi_coalesced"),
		   dropped = irq(v, r, vm, "ipi_dropped");
	json_int_t pending = irq(v, r, vm, "ipi_pending");

	expect(v, irq(v, r, vm, "ipi_balanced") == 1, "vm%zu: ipi_balanced is false", vm);
	expect(v, sent == delivered + coalesced + dropped + pending,
	       "vm%zu: sent %lld != delivered %lld + coalesced %lld + dropped %lld + pending %lld",
	       vm, (long long)sent, (long long)delivered, (long long)coalesced, (long long)dropped,
	       (long long)pending);
}

static const char *const vec_keys[] = { "v0", "v15", "v16", "v72", "v255" };

/* The guest's own counts against vmm's, and the guest's own verdicts. */
static void check_combos(struct verdict *v, const struct vmm_run *r)
{
	json_t *sum = record(r, 0, "icr-combos", 0), *cpu;
	json_int_t recv[5] = { 0 }, nmi = 0, doorbell = 0, got = 0, senders, writes;
	char what[64];
	unsigned int c, k;

	expect(v, sum != NULL, "vm0: no icr-combos result record (the guest never finished)");
	if (!sum)
		return;
	for (c = 0; c < COMBOS_VCPUS; c++) {
		snprintf(what, sizeof(what), "vm0/cpu%u icr-combos-cpu", c);
		cpu = record(r, 0, "icr-combos-cpu", c);
		expect(v, cpu != NULL, "%s: no record", what);
		if (!cpu)
			return;
		for (k = 0; k < 5; k++)
			recv[k] += field(v, cpu, what, vec_keys[k]);
		nmi += field(v, cpu, what, "nmi");
		doorbell += field(v, cpu, what, "doorbell");
		/* Vectors 0-15 are never delivered, and nothing is left in service or requested. */
		expect(v, field(v, cpu, what, "v0") == 0, "%s: took vector 0", what);
		expect(v, field(v, cpu, what, "v15") == 0, "%s: took vector 15", what);
		expect(v, field(v, cpu, what, "isr_left") == 0, "%s: ISR not empty at the end",
		       what);
		expect(v, field(v, cpu, what, "irr_left") == 0, "%s: IRR not empty at the end",
		       what);
	}
	for (k = 0; k < 5; k++)
		got += recv[k];

	/* Per vector: what the handlers took is what the model says vmm delivers. */
	expect(v, recv[2] == field(v, sum, "icr-combos", "exp_v16"),
	       "vector 16: guest took %lld, expected %lld", (long long)recv[2],
	       (long long)field(v, sum, "icr-combos", "exp_v16"));
	expect(v, recv[3] == field(v, sum, "icr-combos", "exp_v72"),
	       "vector 0x48: guest took %lld, expected %lld", (long long)recv[3],
	       (long long)field(v, sum, "icr-combos", "exp_v72"));
	expect(v, recv[4] == field(v, sum, "icr-combos", "exp_v255"),
	       "vector 0xff: guest took %lld, expected %lld", (long long)recv[4],
	       (long long)field(v, sum, "icr-combos", "exp_v255"));
	expect(v, nmi == field(v, sum, "icr-combos", "exp_nmi"),
	       "NMI: guest took %lld, expected %lld", (long long)nmi,
	       (long long)field(v, sum, "icr-combos", "exp_nmi"));
	expect(v, doorbell == field(v, sum, "icr-combos", "doorbells"),
	       "doorbells: %lld taken, %lld sent", (long long)doorbell,
	       (long long)field(v, sum, "icr-combos", "doorbells"));

	/* The guest's vectors plus its doorbells are all vmm delivered; NMIs are counted apart. */
	expect(v, irq(v, r, 0, "ipi_delivered") == got + doorbell,
	       "ipi_delivered %lld, but the guest's handlers took %lld (+ %lld doorbells)",
	       (long long)irq(v, r, 0, "ipi_delivered"), (long long)got, (long long)doorbell);
	expect(v, irq(v, r, 0, "nmi_delivered") == nmi,
	       "nmi_delivered %lld, but the guest's NMI handler ran %lld times",
	       (long long)irq(v, r, 0, "nmi_delivered"), (long long)nmi);
	expect(v, irq(v, r, 0, "nmi_sent") == field(v, sum, "icr-combos", "exp_nmi"),
	       "nmi_sent %lld, the guest sent %lld NMIs to live vCPUs",
	       (long long)irq(v, r, 0, "nmi_sent"),
	       (long long)field(v, sum, "icr-combos", "exp_nmi"));
	/* One NMI in flight at a time (the sender waits for each): none may be lost or left. */
	expect(v,
	       irq(v, r, 0, "nmi_balanced") && irq(v, r, 0, "nmi_coalesced") == 0 &&
		       irq(v, r, 0, "nmi_pending") == 0,
	       "nmi_sent %lld != nmi_delivered %lld (coalesced %lld, pending %lld)",
	       (long long)irq(v, r, 0, "nmi_sent"), (long long)irq(v, r, 0, "nmi_delivered"),
	       (long long)irq(v, r, 0, "nmi_coalesced"), (long long)irq(v, r, 0, "nmi_pending"));
	/* One sent and one dropped for each write vmm must refuse or that matches nobody. */
	expect(v, irq(v, r, 0, "ipi_dropped") == field(v, sum, "icr-combos", "dropped"),
	       "ipi_dropped %lld, the guest made %lld writes vmm must drop",
	       (long long)irq(v, r, 0, "ipi_dropped"),
	       (long long)field(v, sum, "icr-combos", "dropped"));
	expect(v,
	       irq(v, r, 0, "ipi_sent") == field(v, sum, "icr-combos", "exp_v16") +
						   field(v, sum, "icr-combos", "exp_v72") +
						   field(v, sum, "icr-combos", "exp_v255") +
						   field(v, sum, "icr-combos", "doorbells") +
						   field(v, sum, "icr-combos", "dropped"),
	       "ipi_sent %lld != expected deliveries + doorbells + dropped writes",
	       (long long)irq(v, r, 0, "ipi_sent"));
	/* Each write waited for its deliveries: nothing can coalesce or stay pending. */
	expect(v, irq(v, r, 0, "ipi_coalesced") == 0, "ipi_coalesced %lld, expected 0",
	       (long long)irq(v, r, 0, "ipi_coalesced"));
	expect(v, irq(v, r, 0, "ipi_pending") == 0, "ipi_pending %lld, expected 0",
	       (long long)irq(v, r, 0, "ipi_pending"));
	expect(v, irq(v, r, 0, "msr_gp") == 0, "msr_gp %lld: a legal write took #GP",
	       (long long)irq(v, r, 0, "msr_gp"));

	/* Every combination was written, each one ICR exit (the doorbells too). */
	senders = field(v, sum, "icr-combos", "senders");
	writes = field(v, sum, "icr-combos", "writes");
	expect(v, senders == 2, "senders %lld, asked for 2", (long long)senders);
	expect(v, writes == senders * 8960 + field(v, sum, "icr-combos", "burst_nmis"),
	       "%lld writes, expected %lld combinations + the NMI bursts", (long long)writes,
	       (long long)senders * 8960);
	expect(v, field(v, sum, "icr-combos", "burst_nmis") == senders * (COMBOS_VCPUS - 1) * 100,
	       "burst_nmis %lld", (long long)field(v, sum, "icr-combos", "burst_nmis"));
	expect(v,
	       report_exit_count(r, 0, "wrmsr:icr") ==
		       writes + field(v, sum, "icr-combos", "doorbells"),
	       "%lld wrmsr:icr exits for %lld ICR writes",
	       (long long)report_exit_count(r, 0, "wrmsr:icr"),
	       (long long)(writes + field(v, sum, "icr-combos", "doorbells")));

	/* The guest's own per-write checks. */
	expect(v, field(v, sum, "icr-combos", "misrouted") == 0,
	       "misrouted %lld: writes whose deliveries were not the ones the model names",
	       (long long)field(v, sum, "icr-combos", "misrouted"));
	expect(v, field(v, sum, "icr-combos", "timeouts") == 0,
	       "timeouts %lld: writes whose deliveries did not arrive in time (1 s; 1 ms "
	       "after the third)",
	       (long long)field(v, sum, "icr-combos", "timeouts"));
	expect(v, field(v, sum, "icr-combos", "esr_bad") == 0,
	       "esr_bad %lld: ESR differed from the model",
	       (long long)field(v, sum, "icr-combos", "esr_bad"));
	expect(v, field(v, sum, "icr-combos", "gp") == 0, "gp %lld",
	       (long long)field(v, sum, "icr-combos", "gp"));
	expect(v, field(v, sum, "icr-combos", "unexpected") == 0,
	       "unexpected %lld: received != expected over all vectors and NMIs",
	       (long long)field(v, sum, "icr-combos", "unexpected"));
}

static void check_hello(struct verdict *v, const struct vmm_run *r)
{
	json_t *vm = report_vm(r, 1), *h = record(r, 1, "hello", 0);

	expect(v, json_is_true(json_object_get(vm, "ok")), "vm1 (hello) failed: %s",
	       json_string_value(json_object_get(vm, "message")));
	expect(v, h && field(v, h, "vm1 hello", "vcpus") == HELLO_VCPUS,
	       "vm1 (hello) did not report its %u vCPUs", HELLO_VCPUS);
}

static void combos(const char *what, const char *const *opts)
{
	char spec[512], hello[512];
	const char *args[16] = { "--timeout", "120" };
	struct verdict v = { .len = 0 };
	struct vmm_run r;
	json_t *vm0;
	unsigned int n = 2;

	snprintf(spec, sizeof(spec), "%s:vcpus=%u:args=%s", guest("icr-combos"), COMBOS_VCPUS,
		 COMBOS_ARGS);
	snprintf(hello, sizeof(hello), "%s:vcpus=%u", guest("hello"), HELLO_VCPUS);
	while (*opts)
		args[n++] = *opts++;
	args[n++] = spec;
	args[n++] = hello;
	args[n] = NULL;
	assert_int_equal(vmm_run(&r, args), 0);
	if (!r.json)
		fail_msg("%s: vmm exited %d without a JSON report\nstderr:\n%s", what, r.status,
			 r.err);

	/* README: 0 when every VM shut down with status 0 (1 if one failed, 3 host setup). */
	expect(&v, r.status == 0, "vmm exited %d, expected 0 (every VM shut down with status 0)",
	       r.status);
	expect(&v, report_int(r.json, "exit_code") == r.status,
	       "JSON exit_code %lld, vmm exited %d", (long long)report_int(r.json, "exit_code"),
	       r.status);
	vm0 = report_vm(&r, 0);
	expect(&v, json_is_true(json_object_get(vm0, "ok")), "vm0 (icr-combos) failed: %s",
	       json_string_value(json_object_get(vm0, "message")));
	check_hello(&v, &r);
	check_balance(&v, &r, 0);
	check_balance(&v, &r, 1);
	check_combos(&v, &r);
	check_slot_books(&r, what);
	expect(&v, report_int(json_object_get(r.json, "sched"), "over_limit") == 0,
	       "sched.over_limit %lld: vCPUs entered KVM_RUN beyond the slots",
	       (long long)report_int(json_object_get(r.json, "sched"), "over_limit"));
	if (v.bad) {
		unsigned int bad = v.bad;

		/* cmocka truncates long messages: the whole list goes to stderr first. */
		guest_lines(&v, &r);
		fprintf(stderr, "%s: %u check(s) failed:\n%s", what, bad, v.msg);
		fail_msg("%s: %u check(s) failed (listed above), the first: %.*s", what, bad,
			 (int)strcspn(v.msg, "\n"), v.msg);
	}
	vmm_run_free(&r);
}

static void test_combos_next_to_hello(void **state)
{
	const char *opts[] = { NULL };

	(void)state;
	combos("icr-combos + hello", opts);
}

static void test_combos_sched_host(void **state)
{
	const char *opts[] = { "--sched", "host", NULL };

	(void)state;
	combos("icr-combos + hello, --sched host", opts);
}

/* 5 vCPUs on one slot: every delivery to another vCPU waits for a handoff. */
static void test_combos_one_slot(void **state)
{
	const char *opts[] = { "--pcpus", "1", NULL };

	(void)state;
	combos("icr-combos + hello, --pcpus 1", opts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_combos_next_to_hello),
		cmocka_unit_test(test_combos_sched_host),
		cmocka_unit_test(test_combos_one_slot),
	};

	vmmtest_require_kvm("system/test_hostile");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
