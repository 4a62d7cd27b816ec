// SPDX-License-Identifier: MIT
#include "measure/report_wake.h"

#include "measure/json.h"
#include "sched/halt_poll.h"
#include "sched/scheduler.h"
#include "sched/waker.h"
#include "vcpu.h"
#include "vm.h"

#include <string.h>

/* A plain copy of one path's counters (every helper has stopped: no writer is left). */
struct wake_sums {
	uint64_t posted, merged, done, dropped, timers, inline_, polled;
};

static struct wake_sums wake_sums(const struct wake_counts *c)
{
	struct wake_sums s = {
		.posted = atomic_load(&c->posted),
		.merged = atomic_load(&c->merged),
		.done = atomic_load(&c->done),
		.dropped = atomic_load(&c->dropped),
		.timers = atomic_load(&c->timers),
		.inline_ = atomic_load(&c->inline_),
		.polled = atomic_load(&c->polled),
	};
	return s;
}

static bool wake_balanced(const struct wake_sums *s)
{
	return s->posted == s->merged + s->done + s->dropped;
}

static void vm_poll(const struct vm *vm, struct halt_poll *sum)
{
	unsigned int i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < vm->nr_vcpus; i++) {
		const struct halt_poll *p = &vm->vcpu[i]->poll;

		sum->attempted_poll += p->attempted_poll;
		sum->successful_poll += p->successful_poll;
		sum->poll_invalid += p->poll_invalid;
		sum->poll_success_ns += p->poll_success_ns;
		sum->poll_fail_ns += p->poll_fail_ns;
		sum->wait_ns += p->wait_ns;
		sum->yielded += p->yielded;
		sum->grows += p->grows;
		sum->shrinks += p->shrinks;
	}
}

static bool wake_used(const struct vm *vm)
{
	return !vm->irqchip_kernel && (vm->wake == WAKE_DEFERRED || vm->kick_redirect ||
				       vm->halt_poll.mode != HALT_POLL_OFF);
}

static const char *num(char *buf, size_t len, uint64_t v, bool shown)
{
	if (!shown)
		return "-";
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

static void helper_row(FILE *out, const char *vm, const char *path, const struct wake_sums *s,
		       bool redirect)
{
	char t[24], in[24], po[24];

	fprintf(out, "%-5s %-10s %9llu %8llu %9llu %8llu %9s %9s %9s %6s\n", vm, path,
		(unsigned long long)s->posted, (unsigned long long)s->merged,
		(unsigned long long)s->done, (unsigned long long)s->dropped,
		num(t, sizeof(t), s->timers, !redirect), num(in, sizeof(in), s->inline_, redirect),
		num(po, sizeof(po), s->polled, redirect), wake_balanced(s) ? "ok" : "BROKEN");
}

static bool redirect_polls(const struct vm *vm)
{
	return vm->kick_redirect && vm->sched && vm->sched->cfg.redirect_poll_ns;
}

static void report_helpers(FILE *out, struct vm *vms, unsigned int n)
{
	unsigned int i, shown = 0;
	struct wake_sums s;

	for (i = 0; i < n; i++) {
		if (vms[i].irqchip_kernel ||
		    (vms[i].wake != WAKE_DEFERRED && !vms[i].kick_redirect))
			continue;
		if (!shown++)
			fprintf(out,
				"\nWake helpers (posted = merged + done + dropped):\n"
				"%-5s %-10s %9s %8s %9s %8s %9s %9s %9s %6s\n",
				"VM", "path", "posted", "merged", "done", "dropped", "timers",
				"inline", "polled", "check");
		if (vms[i].wake == WAKE_DEFERRED) {
			s = wake_sums(&vms[i].wk_deferred);
			helper_row(out, vms[i].name, "deferred", &s, false);
		}
		if (vms[i].kick_redirect) {
			s = wake_sums(&vms[i].wk_redirect);
			helper_row(out, vms[i].name,
				   redirect_polls(&vms[i]) ? "redir-poll" : "redirect", &s, true);
		}
	}
}

static double vm_seconds(const struct vm *vm)
{
	return vm->t_end > vm->t_start ? (double)(vm->t_end - vm->t_start) / 1e9 : 0;
}

static void report_polls(FILE *out, struct vm *vms, unsigned int n)
{
	unsigned int i, shown = 0;
	struct halt_poll p;
	char name[40];
	double secs;

	for (i = 0; i < n; i++) {
		if (vms[i].irqchip_kernel || vms[i].halt_poll.mode == HALT_POLL_OFF)
			continue;
		if (!shown++)
			fprintf(out,
				"\nHalt polling (as KVM's halt_poll stats; poll CPU = polling time "
				"/ "
				"VM time):\n"
				"%-5s %-20s %8s %10s %7s %7s %11s %11s %11s %8s\n",
				"VM", "window", "polls", "successful", "invalid", "yielded",
				"success_us", "fail_us", "wait_us", "poll CPU");
		vm_poll(&vms[i], &p);
		secs = vm_seconds(&vms[i]);
		fprintf(out, "%-5s %-20s %8llu %10llu %7llu %7llu %11.1f %11.1f %11.1f %7.1f%%\n",
			vms[i].name, halt_poll_name(&vms[i].halt_poll, name, sizeof(name)),
			(unsigned long long)p.attempted_poll, (unsigned long long)p.successful_poll,
			(unsigned long long)p.poll_invalid, (unsigned long long)p.yielded,
			(double)p.poll_success_ns / 1e3, (double)p.poll_fail_ns / 1e3,
			(double)p.wait_ns / 1e3,
			secs > 0 ? 100.0 * (double)(p.poll_success_ns + p.poll_fail_ns) / 1e9 / secs
				 : 0.0);
	}
}

void report_wake_text(FILE *out, struct vm *vms, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n && !wake_used(&vms[i]); i++)
		;
	if (i == n)
		return;
	report_helpers(out, vms, n);
	report_polls(out, vms, n);
}

static void json_path(struct jw *j, const char *key, const struct wake_counts *c, bool redirect)
{
	struct wake_sums s = wake_sums(c);

	jw_key(j, key);
	jw_begin_object(j);
	jw_kv_u64(j, "posted", s.posted);
	jw_kv_u64(j, "merged", s.merged);
	jw_kv_u64(j, "done", s.done);
	jw_kv_u64(j, "dropped", s.dropped);
	if (redirect) {
		jw_kv_u64(j, "inline", s.inline_);
		jw_kv_u64(j, "polled", s.polled);
	} else {
		jw_kv_u64(j, "timers", s.timers);
	}
	jw_kv_bool(j, "balanced", wake_balanced(&s));
	jw_end_object(j);
}

void report_wake_json_vm(struct jw *j, struct vm *vm)
{
	const char *mode[] = { "off", "fixed", "adaptive" };
	struct halt_poll p;

	vm_poll(vm, &p);
	jw_begin_object(j);
	jw_kv_string(j, "wake", vm->wake == WAKE_DEFERRED ? "deferred" : "direct");
	jw_kv_bool(j, "kick_redirect", vm->kick_redirect);
	jw_kv_bool(j, "kick_redirect_poll", redirect_polls(vm));
	json_path(j, "deferred", &vm->wk_deferred, false);
	json_path(j, "redirect", &vm->wk_redirect, true);
	jw_key(j, "halt_poll");
	jw_begin_object(j);
	jw_kv_string(j, "mode", mode[vm->halt_poll.mode]);
	jw_kv_u64(j, "window_ns", vm->halt_poll.ns);
	jw_kv_u64(j, "halt_attempted_poll", p.attempted_poll);
	jw_kv_u64(j, "halt_successful_poll", p.successful_poll);
	jw_kv_u64(j, "halt_poll_invalid", p.poll_invalid);
	jw_kv_u64(j, "halt_poll_success_ns", p.poll_success_ns);
	jw_kv_u64(j, "halt_poll_fail_ns", p.poll_fail_ns);
	jw_kv_u64(j, "halt_wait_ns", p.wait_ns);
	jw_kv_u64(j, "yielded", p.yielded);
	jw_kv_u64(j, "grows", p.grows);
	jw_kv_u64(j, "shrinks", p.shrinks);
	jw_end_object(j);
	jw_end_object(j);
}
