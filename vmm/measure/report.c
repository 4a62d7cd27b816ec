// SPDX-License-Identifier: MIT
#include "measure/report.h"

#include "cli.h"
#include "apic/apic.h"
#include "measure/json.h"
#include "measure/outfile.h"
#include "measure/report_sched.h"
#include "measure/report_wake.h"
#include "measure/run_info.h"
#include "measure/stats.h"
#include "vcpu.h"
#include "vm.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* per_vm[0..n) and ev[0..n) per VM; per_vm[n] and ev[n] all VMs. */
struct report {
	struct vm *vms;
	unsigned int n;
	const struct options *o;
	uint64_t wall_ns;
	struct exit_stats *per_vm;
	struct event_stats *ev;
};

struct row {
	enum exit_key key;
	uint64_t count;
	uint64_t time; /* total */
	uint64_t avg, max, min;
};

static int row_cmp_samples(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return (int)x->key - (int)y->key;
}

/* Larger first; ties by samples, then by key, so the order is stable. */
static int row_cmp_u64(uint64_t x, uint64_t y, const void *a, const void *b)
{
	if (x != y)
		return x < y ? 1 : -1;
	return row_cmp_samples(a, b);
}

static int row_cmp_time(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return row_cmp_u64(x->avg, y->avg, a, b);
}

static int row_cmp_max(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return row_cmp_u64(x->max, y->max, a, b);
}

static int row_cmp_min(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return row_cmp_u64(x->min, y->min, a, b);
}

static int (*const row_cmp[])(const void *, const void *) = {
	[SORT_SAMPLES] = row_cmp_samples,
	[SORT_TIME] = row_cmp_time,
	[SORT_MAX] = row_cmp_max,
	[SORT_MIN] = row_cmp_min,
};

static void us_cell(FILE *out, uint64_t ns, int timed)
{
	if (timed)
		fprintf(out, " %9.2fus", (double)ns / 1e3);
	else
		fprintf(out, " %11s", "-");
}

static bool in_class(enum exit_key k, int cls)
{
	const char *n = exit_key_name(k);

	if (cls == CLASS_IO)
		return !strncmp(n, "io:", 3);
	if (cls == CLASS_MSR)
		return !strncmp(n, "rdmsr:", 6) || !strncmp(n, "wrmsr:", 6);
	return true;
}

void report_exit_table(FILE *out, const char *title, const struct exit_stats *s, int sort,
		       int timed, int cls)
{
	struct row rows[NR_EXIT_KEYS];
	uint64_t total = 0, total_time = 0;
	unsigned int n = 0, i;

	for (i = 0; i < NR_EXIT_KEYS; i++) {
		if (!s->count[i] || !in_class((enum exit_key)i, cls))
			continue;
		rows[n].key = (enum exit_key)i;
		rows[n].count = s->count[i];
		rows[n].time = s->time[i].sum;
		rows[n].avg = (uint64_t)hist_mean(&s->time[i]);
		rows[n].max = s->time[i].max;
		rows[n].min = s->time[i].count ? s->time[i].min : 0;
		total += rows[n].count;
		total_time += rows[n].time;
		n++;
	}
	qsort(rows, n, sizeof(rows[0]), row_cmp[sort >= 0 && sort <= SORT_MIN ? sort : 0]);
	fprintf(out, "\nAnalyze events for %s:\n\n", title);
	fprintf(out, "%20s %10s %9s %9s %11s %11s %11s %11s %11s %11s %11s\n\n", "VM-EXIT",
		"Samples", "Samples%", "Time%", "Min Time", "Max Time", "Avg time", "(+- %)", "p50",
		"p99", "p99.9");
	for (i = 0; i < n; i++) {
		const struct hist *h = &s->time[rows[i].key];

		fprintf(out, "%20s %10llu %8.2f%% %8.2f%%", exit_key_name(rows[i].key),
			(unsigned long long)rows[i].count,
			100.0 * (double)rows[i].count / (double)total,
			total_time ? 100.0 * (double)rows[i].time / (double)total_time : 0.0);
		us_cell(out, h->count ? h->min : 0, timed);
		us_cell(out, h->max, timed);
		us_cell(out, (uint64_t)hist_mean(h), timed);
		if (timed)
			fprintf(out, " (+-%6.2f%%)", hist_rel_stderr(h));
		else
			fprintf(out, " %11s", "-");
		us_cell(out, hist_percentile(h, 50), timed);
		us_cell(out, hist_percentile(h, 99), timed);
		us_cell(out, hist_percentile(h, 99.9), timed);
		fputc('\n', out);
	}
	fprintf(out, "\nTotal Samples:%llu, Total events handled time:%.2fus.\n",
		(unsigned long long)total, (double)total_time / 1e3);
}

static void vm_stats(struct vm *vm, struct exit_stats *s, struct event_stats *ev)
{
	unsigned int i;

	exit_stats_init(s);
	event_stats_init(ev);
	for (i = 0; i < vm->nr_vcpus; i++) {
		exit_stats_merge(s, &vm->vcpu[i]->stats);
		event_stats_merge(ev, &vm->vcpu[i]->events);
	}
}

static void report_event_table(FILE *out, const struct event_stats *ev, const char *scope)
{
	unsigned int k;

	fprintf(out, "\nEvent latencies, %s:\n\n%20s %10s %11s %11s %11s %11s %11s %11s\n\n", scope,
		"EVENT", "Samples", "Min", "Max", "Avg", "p50", "p99", "p99.9");
	for (k = 0; k < NR_EVENT_KEYS; k++) {
		const struct hist *h = &ev->lat[k];

		if (!h->count)
			continue; /* as perf: no samples, no row */
		fprintf(out, "%20s %10llu", event_key_name((enum event_key)k),
			(unsigned long long)h->count);
		us_cell(out, h->count ? h->min : 0, 1);
		us_cell(out, h->max, 1);
		us_cell(out, (uint64_t)hist_mean(h), 1);
		us_cell(out, hist_percentile(h, 50), 1);
		us_cell(out, hist_percentile(h, 99), 1);
		us_cell(out, hist_percentile(h, 99.9), 1);
		fputc('\n', out);
	}
}

static const char *vm_status_word(struct vm *vm)
{
	return vm_failed(vm) ? "FAILED" : "ok";
}

static void report_summary(FILE *out, struct vm *vms, unsigned int n, uint64_t wall_ns,
			   struct exit_stats *per_vm)
{
	unsigned int i, vcpus = 0;

	for (i = 0; i < n; i++)
		vcpus += vms[i].nr_vcpus;
	fprintf(out, "\n== vmm report: %u VM%s, %u vCPUs, %.3f s ==\n", n, n == 1 ? "" : "s", vcpus,
		(double)wall_ns / 1e9);
	/* What KVM still does on its own decides what the numbers mean: say it first. */
	if (n)
		fprintf(out, "PAUSE exits: %s; HLT: %s\n\n",
			vms[0].pause_exits ? vms[0].pause_exits : "?",
			vms[0].irqchip_kernel
				? "handled by KVM (--irqchip kernel: its halt polling "
				  "and wakeups are in force)"
				: "exits to vmm (userspace APIC)");
	fprintf(out, "%-5s %-16s %5s %6s %9s %10s  %s\n", "VM", "image", "vCPUs", "RAM", "seconds",
		"exits", "status");
	for (i = 0; i < n; i++) {
		struct vm *vm = &vms[i];

		fprintf(out, "%-5s %-16s %5u %5lluM %9.3f %10llu  %s", vm->name, vm->image,
			vm->nr_vcpus, (unsigned long long)(vm->ram_size >> 20),
			(double)(vm->t_end - vm->t_start) / 1e9,
			(unsigned long long)exit_stats_total(&per_vm[i]), vm_status_word(vm));
		if (vm_failed(vm))
			fprintf(out, " (%s): %s", vm_end_reason_name(vm_end_reason(vm)),
				vm->end_msg);
		fputc('\n', out);
	}
}

static void report_results(FILE *out, struct vm *vms, unsigned int n)
{
	unsigned int i, j, k, shown = 0;
	double ops;

	for (i = 0; i < n; i++) {
		for (j = 0; j < vms[i].nr_results; j++) {
			const struct vm_result *r = &vms[i].results[j];

			if (!shown++)
				fprintf(out, "\nGuest results:\n");
			fprintf(out, "  %s/cpu%u %s:", vms[i].name, r->vcpu, r->rec.name);
			for (k = 0; k < r->rec.nr_fields; k++)
				fprintf(out, " %s=%llu", r->rec.fields[k].key,
					(unsigned long long)r->rec.fields[k].value);
			if (report_ops_per_sec(&r->rec, vms[i].tsc_khz, &ops))
				fprintf(out, "  => %.1f ops/s", ops);
			fputc('\n', out);
		}
	}
}

static void vm_ipi(struct vm *vm, struct apic_counters *c, uint64_t *spurious)
{
	unsigned int i;

	memset(c, 0, sizeof(*c));
	*spurious = 0;
	for (i = 0; i < vm->nr_vcpus; i++) {
		apic_counters_add(c, &vm->vcpu[i]->apic.c);
		*spurious += vm->vcpu[i]->spurious_kicks;
	}
}

static bool ipi_balanced(const struct apic_counters *c)
{
	return c->ipi_sent == c->ipi_delivered + c->ipi_coalesced + c->ipi_dropped + c->ipi_pending;
}

static bool nmi_balanced(const struct apic_counters *c)
{
	return c->nmi_sent == c->nmi_delivered + c->nmi_coalesced + c->nmi_pending;
}

static void report_ipis(FILE *out, struct vm *vms, unsigned int n)
{
	struct apic_counters c;
	unsigned int i, shown = 0;
	uint64_t spurious;

	for (i = 0; i < n; i++) {
		if (vms[i].irqchip_kernel)
			continue;
		vm_ipi(&vms[i], &c, &spurious);
		if (!c.ipi_sent && !c.timer_fired && !c.nmi_sent && !c.msr_gp)
			continue;
		if (!shown++)
			fprintf(out,
				"\nInterrupts (sent = delivered + coalesced + dropped + pending):\n"
				"%-5s %10s %9s %10s %10s %8s %8s %8s %8s %6s %7s\n",
				"VM", "IPIs sent", "fastpath", "delivered", "coalesced", "dropped",
				"pending", "NMIs", "timer", "#GP", "check");
		fprintf(out, "%-5s %10llu %9llu %10llu %10llu %8llu %8llu %8llu %8llu %6llu %7s\n",
			vms[i].name, (unsigned long long)c.ipi_sent,
			(unsigned long long)c.ipi_fastpath, (unsigned long long)c.ipi_delivered,
			(unsigned long long)c.ipi_coalesced, (unsigned long long)c.ipi_dropped,
			(unsigned long long)c.ipi_pending, (unsigned long long)c.nmi_delivered,
			(unsigned long long)c.timer_delivered, (unsigned long long)c.msr_gp,
			ipi_balanced(&c) && nmi_balanced(&c) ? "ok" : "BROKEN");
	}
}

/* What --vm and --vcpu select, merged; the title names it. */
static void select_stats(struct vm *vms, unsigned int n, const struct options *o,
			 struct exit_stats *s, struct event_stats *ev, char *title, size_t len)
{
	unsigned int i, j;

	exit_stats_init(s);
	event_stats_init(ev);
	for (i = 0; i < n; i++) {
		if (o->sel_vm_index >= 0 && (int)i != o->sel_vm_index)
			continue;
		for (j = 0; j < vms[i].nr_vcpus; j++) {
			if (o->sel_vcpu >= 0 && (int)j != o->sel_vcpu)
				continue;
			exit_stats_merge(s, &vms[i].vcpu[j]->stats);
			event_stats_merge(ev, &vms[i].vcpu[j]->events);
		}
	}
	if (o->sel_vm_index >= 0)
		snprintf(title, len, "%s (%s), ", vms[o->sel_vm_index].name,
			 vms[o->sel_vm_index].image);
	else
		snprintf(title, len, "all VMs, ");
	if (o->sel_vcpu >= 0)
		snprintf(title + strlen(title), len - strlen(title), "VCPU %d", o->sel_vcpu);
	else
		snprintf(title + strlen(title), len - strlen(title), "all VCPUs");
}

static void report_hists(FILE *out, const struct options *o, const struct exit_stats *all,
			 const struct event_stats *ev, const char *scope)
{
	char title[192];
	unsigned int i;

	for (i = 0; i < o->nr_hist; i++) {
		int k = exit_key_parse(o->hist[i]);
		const struct hist *h =
			k >= 0 ? &all->time[k] : &ev->lat[event_key_parse(o->hist[i])];

		snprintf(title, sizeof(title), "%s %s, %s", o->hist[i],
			 k >= 0 ? "handling time" : "latency", scope);
		fputc('\n', out);
		if (!o->stats)
			fprintf(out, "%s: not timed (--no-stats)\n", title);
		else
			hist_print_ascii(out, h, title, 40);
	}
}

static void report_tables(FILE *out, struct vm *vms, unsigned int n, const struct options *o,
			  struct exit_stats *per_vm, struct exit_stats *all,
			  const struct event_stats *ev)
{
	bool selected = o->sel_vm_index >= 0 || o->sel_vcpu >= 0;
	struct exit_stats *sel = selected ? malloc(sizeof(*sel)) : NULL;
	struct event_stats *sel_ev = selected ? malloc(sizeof(*sel_ev)) : NULL;
	char title[128], scope[96] = "all VMs";
	unsigned int i, j;

	if (selected && sel && sel_ev) {
		select_stats(vms, n, o, sel, sel_ev, scope, sizeof(scope));
		all = sel;
		ev = sel_ev;
	}
	snprintf(title, sizeof(title), "%s", selected ? scope : "all VMs, all VCPUs");
	report_exit_table(out, title, all, o->sort, o->stats, o->event_class);
	if (o->stats)
		report_event_table(out, ev, selected ? scope : "all VMs");
	for (i = 0; o->report_vm && i < n; i++) {
		snprintf(title, sizeof(title), "%s (%s), all VCPUs", vms[i].name, vms[i].image);
		report_exit_table(out, title, &per_vm[i], o->sort, o->stats, o->event_class);
	}
	for (i = 0; o->report_vcpu && i < n; i++) {
		for (j = 0; j < vms[i].nr_vcpus; j++) {
			snprintf(title, sizeof(title), "%s (%s), VCPU %u", vms[i].name,
				 vms[i].image, j);
			report_exit_table(out, title, &vms[i].vcpu[j]->stats, o->sort, o->stats,
					  o->event_class);
		}
	}
	report_hists(out, o, all, ev, selected ? scope : "all VMs");
	free(sel);
	free(sel_ev);
}

static void json_hist(struct jw *j, const struct hist *h)
{
	unsigned int b;

	jw_begin_object(j);
	jw_kv_u64(j, "count", h->count);
	jw_kv_u64(j, "sum", h->sum);
	jw_kv_u64(j, "min", h->count ? h->min : 0);
	jw_kv_u64(j, "max", h->max);
	jw_kv_double(j, "mean", hist_mean(h));
	jw_kv_double(j, "stddev", hist_stddev(h));
	jw_kv_u64(j, "p50", hist_percentile(h, 50));
	jw_kv_u64(j, "p99", hist_percentile(h, 99));
	jw_kv_u64(j, "p999", hist_percentile(h, 99.9));
	/* Enough to rebuild the histogram exactly (vmm report FILE). */
	jw_kv_double(j, "sum_sq", h->sum_sq);
	jw_key(j, "buckets");
	jw_begin_array(j);
	for (b = 0; b < HIST_BUCKETS; b++) {
		if (!h->bucket[b])
			continue;
		jw_begin_array(j);
		jw_u64(j, hist_bucket_lo(b));
		jw_u64(j, h->bucket[b]);
		jw_end_array(j);
	}
	jw_end_array(j);
	jw_end_object(j);
}

static void json_exits(struct jw *j, const struct exit_stats *s, bool timed)
{
	unsigned int k;

	jw_begin_object(j);
	jw_kv_u64(j, "total", exit_stats_total(s));
	jw_key(j, "by_key");
	jw_begin_object(j);
	for (k = 0; k < NR_EXIT_KEYS; k++) {
		if (!s->count[k])
			continue;
		jw_key(j, exit_key_name((enum exit_key)k));
		jw_begin_object(j);
		jw_kv_u64(j, "count", s->count[k]);
		if (timed) {
			jw_key(j, "time_ns");
			json_hist(j, &s->time[k]);
		}
		jw_end_object(j);
	}
	jw_end_object(j);
	jw_end_object(j);
}

static void json_results(struct jw *j, struct vm *vm)
{
	unsigned int i, k;
	double ops;

	jw_begin_array(j);
	for (i = 0; i < vm->nr_results; i++) {
		const struct vm_result *r = &vm->results[i];

		jw_begin_object(j);
		jw_kv_u64(j, "vcpu", r->vcpu);
		jw_kv_string(j, "name", r->rec.name);
		jw_key(j, "fields");
		jw_begin_object(j);
		for (k = 0; k < r->rec.nr_fields; k++)
			jw_kv_u64(j, r->rec.fields[k].key, r->rec.fields[k].value);
		jw_end_object(j);
		if (report_ops_per_sec(&r->rec, vm->tsc_khz, &ops))
			jw_kv_double(j, "ops_per_sec", ops);
		jw_end_object(j);
	}
	jw_end_array(j);
}

static void json_ipi(struct jw *j, struct vm *vm)
{
	struct apic_counters c;
	uint64_t spurious;

	vm_ipi(vm, &c, &spurious);
	jw_begin_object(j);
	jw_kv_string(j, "irqchip", vm->irqchip_kernel ? "kernel" : "user");
	jw_kv_string(j, "pause_exits", vm->pause_exits ? vm->pause_exits : "?");
	jw_kv_string(j, "hlt_exits", vm->irqchip_kernel ? "kvm" : "vmm");
	jw_kv_bool(j, "ipi_fastpath", vm->ipi_fastpath);
	jw_kv_u64(j, "ipi_sent", c.ipi_sent);
	jw_kv_u64(j, "ipi_fastpath_sent", c.ipi_fastpath);
	jw_kv_u64(j, "ipi_delivered", c.ipi_delivered);
	jw_kv_u64(j, "ipi_coalesced", c.ipi_coalesced);
	jw_kv_u64(j, "ipi_dropped", c.ipi_dropped);
	jw_kv_u64(j, "ipi_pending", c.ipi_pending);
	jw_kv_bool(j, "ipi_balanced", ipi_balanced(&c));
	jw_kv_u64(j, "nmi_sent", c.nmi_sent);
	jw_kv_u64(j, "nmi_delivered", c.nmi_delivered);
	jw_kv_u64(j, "nmi_coalesced", c.nmi_coalesced);
	jw_kv_u64(j, "nmi_pending", c.nmi_pending);
	jw_kv_bool(j, "nmi_balanced", nmi_balanced(&c));
	jw_kv_u64(j, "timer_fired", c.timer_fired);
	jw_kv_u64(j, "timer_delivered", c.timer_delivered);
	jw_kv_u64(j, "timer_coalesced", c.timer_coalesced);
	jw_kv_u64(j, "msr_gp", c.msr_gp);
	jw_kv_u64(j, "window_requests", c.window_requests);
	jw_kv_u64(j, "spurious_kicks", spurious);
	jw_end_object(j);
}

static void json_events(struct jw *j, const struct event_stats *ev, bool timed)
{
	unsigned int k;

	jw_begin_object(j);
	for (k = 0; timed && k < NR_EVENT_KEYS; k++) {
		jw_key(j, event_key_name((enum event_key)k));
		json_hist(j, &ev->lat[k]);
	}
	jw_end_object(j);
}

static void json_watchdog(struct jw *j, const struct vm *vm)
{
	const struct vm_watchdog *d = &vm->watchdog;
	unsigned int i;

	jw_begin_object(j);
	jw_kv_u64(j, "reports", d->reports);
	jw_key(j, "records");
	jw_begin_array(j);
	for (i = 0; i < d->reports && i < WATCHDOG_MAX_RECORDS; i++) {
		jw_begin_object(j);
		jw_kv_u64(j, "vcpu", d->rec[i].vcpu);
		jw_kv_string(j, "condition", watchdog_cond_name(d->rec[i].cond));
		jw_kv_u64(j, "at_ns", d->rec[i].at_ns);
		jw_kv_u64(j, "stuck_ns", d->rec[i].stuck_ns);
		jw_end_object(j);
	}
	jw_end_array(j);
	if (d->dump)
		jw_kv_string(j, "dump", d->dump);
	jw_end_object(j);
}

static void json_vm(struct jw *j, struct vm *vm, const struct exit_stats *s,
		    const struct event_stats *ev, bool timed)
{
	unsigned int i;

	jw_begin_object(j);
	jw_kv_u64(j, "id", vm->id);
	jw_kv_string(j, "name", vm->name);
	jw_kv_string(j, "image", vm->image);
	jw_kv_string(j, "path", vm->path);
	jw_kv_string(j, "args", vm->args);
	jw_kv_u64(j, "vcpus", vm->nr_vcpus);
	jw_kv_u64(j, "ram_bytes", vm->ram_size);
	jw_kv_u64(j, "tsc_khz", vm->tsc_khz);
	jw_kv_bool(j, "ok", !vm_failed(vm));
	jw_kv_string(j, "end", vm_end_reason_name(vm_end_reason(vm)));
	jw_kv_u64(j, "status", vm->status);
	jw_kv_string(j, "message", vm->end_msg);
	jw_kv_double(j, "seconds", (double)(vm->t_end - vm->t_start) / 1e9);
	jw_key(j, "results");
	json_results(j, vm);
	jw_key(j, "interrupts");
	json_ipi(j, vm);
	jw_key(j, "wakeups");
	report_wake_json_vm(j, vm);
	jw_key(j, "watchdog");
	json_watchdog(j, vm);
	jw_key(j, "sched");
	report_sched_json_vm(j, vm);
	jw_key(j, "exits");
	json_exits(j, s, timed);
	jw_key(j, "events");
	json_events(j, ev, timed);
	jw_key(j, "vcpu");
	jw_begin_array(j);
	for (i = 0; i < vm->nr_vcpus; i++) {
		jw_begin_object(j);
		jw_kv_u64(j, "id", i);
		jw_key(j, "exits");
		json_exits(j, &vm->vcpu[i]->stats, timed);
		jw_key(j, "events");
		json_events(j, &vm->vcpu[i]->events, timed);
		jw_end_object(j);
	}
	jw_end_array(j);
	jw_end_object(j);
}

/* The whole JSON document, for an exit status rc. */
static void report_json_doc(struct jw *j, const struct report *r, int rc)
{
	unsigned int i, n = r->n;

	jw_begin_object(j);
	jw_kv_u64(j, "schema", 1);
	jw_kv_string(j, "vmm_version", VMM_VERSION);
	jw_kv_u64(j, "abi_version", VMM_ABI_VERSION);
	jw_kv_double(j, "wall_seconds", (double)r->wall_ns / 1e9);
	jw_kv_i64(j, "exit_code", rc);
	jw_kv_bool(j, "timed", r->o->stats);
	jw_key(j, "run");
	run_info_json(j, r->o->argc, r->o->argv, r->wall_ns);
	jw_key(j, "sched");
	report_sched_json(j, r->vms, n);
	jw_key(j, "vms");
	jw_begin_array(j);
	for (i = 0; i < n; i++)
		json_vm(j, &r->vms[i], &r->per_vm[i], &r->ev[i], r->o->stats);
	jw_end_array(j);
	jw_key(j, "exits");
	json_exits(j, &r->per_vm[n], r->o->stats);
	jw_key(j, "events");
	json_events(j, &r->ev[n], r->o->stats);
	jw_end_object(j);
}

/* Render into memory, so the exit code can still change until the last moment. */
static char *report_json_render(const struct report *r, int rc, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	struct jw j;
	int bad;

	if (!f)
		return NULL;
	jw_init(&j, f);
	report_json_doc(&j, r, rc);
	bad = jw_finish(&j);
	if (fclose(f) || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

int report_json(const struct report *r, const char *path, int *rc, int (*status)(int rc))
{
	struct outfile of;
	char err[PATH_MAX + 128];
	char *buf;
	size_t len;
	int final;

	buf = report_json_render(r, *rc, &len);
	/* A signal that came while we rendered ends the run as interrupted: render again. */
	final = status ? status(*rc) : *rc;
	if (buf && final != *rc) {
		free(buf);
		buf = report_json_render(r, final, &len);
	}
	*rc = final;
	if (!buf) {
		fprintf(stderr, "vmm: --json %s: out of memory for the report\n", path);
		return -1;
	}
	if (outfile_open(&of, path, err, sizeof(err)) < 0)
		goto fail;
	fwrite(buf, 1, len, of.f);
	if (outfile_commit(&of, false, err, sizeof(err)) < 0)
		goto fail;
	free(buf);
	return 0;
fail:
	fprintf(stderr, "vmm: --json %s: %s\n", path, err);
	free(buf);
	return -1;
}

static void report_watchdog(struct vm *vms, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct vm_watchdog *d = &vms[i].watchdog;

		if (d->reports)
			fprintf(stderr,
				"vmm: watchdog: %s: %u report%s, first vCPU %u %s for %.3f s "
				"(the state dump is in the JSON)\n",
				vms[i].name, d->reports, d->reports == 1 ? "" : "s", d->rec[0].vcpu,
				watchdog_cond_name(d->rec[0].cond),
				(double)d->rec[0].stuck_ns / 1e9);
	}
}

static void report_failures(struct vm *vms, unsigned int n)
{
	unsigned int i, failed = 0;

	for (i = 0; i < n; i++)
		failed += vm_failed(&vms[i]);
	if (!failed)
		return;
	fprintf(stderr, "vmm: %u of %u VM%s failed:\n", failed, n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++)
		if (vm_failed(&vms[i]))
			fprintf(stderr, "vmm:   %s (%s): %s: %s\n", vms[i].name, vms[i].image,
				vm_end_reason_name(vm_end_reason(&vms[i])), vms[i].end_msg);
}

/* per_vm[0..n) and ev[0..n) per VM; per_vm[n] and ev[n] all VMs. */
/*
 * A report nobody could read is a failed run: a full disk, or a pipe whose
 * reader left (SIGPIPE is ignored, so the write fails instead of killing us
 * before the JSON is written). The error indicator also keeps what failed
 * earlier, guest console lines included.
 */
static int report_flush_stdout(void)
{
	int err = fflush(stdout) == EOF ? errno : 0;

	if (!err && !ferror(stdout))
		return 0;
	fprintf(stderr, "vmm: stdout: cannot write the report: %s\n", strerror(err ? err : EIO));
	return -1;
}

struct report *report_prepare(struct vm *vms, unsigned int n, const struct options *o,
			      uint64_t wall_ns)
{
	struct report *r = calloc(1, sizeof(*r));
	unsigned int i;

	if (!r)
		return NULL;
	r->per_vm = calloc(n + 1, sizeof(*r->per_vm));
	r->ev = calloc(n + 1, sizeof(*r->ev));
	if (!r->per_vm || !r->ev) {
		report_free(r);
		return NULL;
	}
	r->vms = vms;
	r->n = n;
	r->o = o;
	r->wall_ns = wall_ns;
	exit_stats_init(&r->per_vm[n]);
	event_stats_init(&r->ev[n]);
	for (i = 0; i < n; i++) {
		vm_stats(&vms[i], &r->per_vm[i], &r->ev[i]);
		exit_stats_merge(&r->per_vm[n], &r->per_vm[i]);
		event_stats_merge(&r->ev[n], &r->ev[i]);
	}
	return r;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	free(r->per_vm);
	free(r->ev);
	free(r);
}

int report_replay_print(FILE *out, struct vm *vms, unsigned int n, const struct options *o,
			uint64_t wall_ns)
{
	struct report *r = report_prepare(vms, n, o, wall_ns);

	if (!r)
		return -1;
	report_summary(out, vms, n, wall_ns, r->per_vm);
	report_tables(out, vms, n, o, r->per_vm, &r->per_vm[n], &r->ev[n]);
	report_free(r);
	return 0;
}

int report_text(const struct report *r)
{
	unsigned int i, n = r->n;
	int rc = 0;

	/* A VM that failed on our side (a thread, an ioctl) is a host failure. */
	for (i = 0; i < n; i++)
		if (vm_end_reason(&r->vms[i]) == VM_END_HOST_ERROR)
			rc = 3;
		else if (vm_failed(&r->vms[i]) && !rc)
			rc = 1;
	report_summary(stdout, r->vms, n, r->wall_ns, r->per_vm);
	report_results(stdout, r->vms, n);
	report_ipis(stdout, r->vms, n);
	report_wake_text(stdout, r->vms, n);
	report_sched_text(stdout, r->vms, n);
	report_tables(stdout, r->vms, n, r->o, r->per_vm, &r->per_vm[n], &r->ev[n]);
	if (report_flush_stdout() < 0 && !rc)
		rc = REPORT_EXIT_OUTPUT;
	report_failures(r->vms, n);
	report_watchdog(r->vms, n);
	return rc;
}
