// SPDX-License-Identifier: MIT
#include "measure/report_sched.h"

#include "measure/json.h"
#include "sched/scheduler.h"
#include "vcpu.h"
#include "vm.h"

#include <string.h>
#include <unistd.h>

#define TOP_PAIRS 5

struct pair {
	unsigned int from, to;
	uint32_t tries, ok, pp;
};

bool report_ops_per_sec(const struct vmm_result *r, uint32_t tsc_khz, double *ops_per_sec)
{
	uint64_t ops = 0, cycles = 0;
	bool have_ops = false;
	unsigned int k;

	for (k = 0; k < r->nr_fields && k < VMM_RESULT_MAX_FIELDS; k++) {
		if (!strcmp(r->fields[k].key, "ops")) {
			ops = r->fields[k].value;
			have_ops = true;
		} else if (!strcmp(r->fields[k].key, "cycles")) {
			cycles = r->fields[k].value;
		}
	}
	if (!have_ops || !cycles || !tsc_khz)
		return false;
	/* Guest TSC == host TSC here (docs/host-facts.md): cycles / (kHz * 1000) are host seconds.
	 */
	*ops_per_sec = (double)ops * (double)tsc_khz * 1000.0 / (double)cycles;
	return true;
}

/* The VM's most used (from, to) pairs, by successful yields then attempts. */
static unsigned int top_pairs(const struct yield_ledger *l, unsigned int nr, struct pair *top)
{
	unsigned int f, t, n = 0, i;

	for (f = 0; f < nr; f++) {
		for (t = 0; t < nr; t++) {
			struct pair p = { f, t, l->pair_attempts[f][t], l->pair_successes[f][t],
					  l->pair_ping_pong[f][t] };

			if (!p.tries)
				continue;
			for (i = n < TOP_PAIRS ? n++ : TOP_PAIRS; i > 0; i--) {
				if (top[i - 1].ok > p.ok ||
				    (top[i - 1].ok == p.ok && top[i - 1].tries >= p.tries))
					break;
				if (i < TOP_PAIRS)
					top[i] = top[i - 1];
			}
			if (i < TOP_PAIRS)
				top[i] = p;
		}
	}
	return n;
}

static void vm_waits(struct vm *vm, uint64_t *preempt, uint64_t *waits, uint64_t *max)
{
	unsigned int i;

	*preempt = *waits = *max = 0;
	for (i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu_sched *vs = &vm->vcpu[i]->sched;

		*preempt += vs->preemptions;
		*waits += vs->slot_waits;
		if (vs->wait_max_ns > *max)
			*max = vs->wait_max_ns;
	}
}

static void text_pairs(FILE *out, struct vm *vm)
{
	struct pair top[TOP_PAIRS];
	unsigned int i, n = top_pairs(&vm->vs->ledger, vm->nr_vcpus, top);

	for (i = 0; i < n; i++) {
		fprintf(out, "  %-5s vCPU%-3u -> vCPU%-3u %8u of %u", vm->name, top[i].from,
			top[i].to, top[i].ok, top[i].tries);
		/* A->B->A within a quantum: the two hand the slot back and forth. */
		if (top[i].pp)
			fprintf(out, " PING-PONG x%u", top[i].pp);
		fputc('\n', out);
	}
}

static unsigned int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned int)n : 1;
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* The host's view and the mutex: is the substrate itself in the way? */
static void text_host(FILE *out, const struct sched *s, unsigned int cpus)
{
	uint64_t wall = s->t_end > s->t0 ? s->t_end - s->t0 : 0;

	fprintf(out,
		"Host: vCPU threads on a CPU %.1f%% of %u CPUs x %.3f s, runnable waiting for a "
		"CPU %.1f ms in all\n",
		share(atomic_load(&s->host_cpu_ns), wall * cpus), cpus, (double)wall / 1e9,
		(double)atomic_load(&s->host_delay_ns) / 1e6);
	if (sched_slots(s))
		fprintf(out,
			"Scheduler lock: %llu acquisitions, %llu contended (%.2f%%), %.3f ms "
			"waited\n",
			(unsigned long long)s->lock_acquired, (unsigned long long)s->lock_contended,
			share(s->lock_contended, s->lock_acquired), (double)s->lock_wait_ns / 1e6);
}

/* Where each slot's time went: in the guest, in vmm (exits), handing over, free. */
static void text_slots(FILE *out, const struct sched *s)
{
	uint64_t wall = s->t_end > s->t0 ? s->t_end - s->t0 : 0;
	unsigned int i;

	fprintf(out, "%-5s %5s %8s %9s %8s %8s %8s %9s\n", "slot", "home", "grants", "in-guest",
		"in-vmm", "handoff", "free", "off-home");
	for (i = 0; i < s->cfg.pcpus; i++) {
		const struct slot_stats *ss = &s->slot[i];
		uint64_t other = ss->owned_ns - ss->run_ns - ss->handoff_ns;
		char home[12] = "-";

		if (ss->run_ns + ss->handoff_ns > ss->owned_ns)
			other = 0;
		if (s->cfg.home[i] >= 0)
			snprintf(home, sizeof(home), "%d", s->cfg.home[i]);
		fprintf(out, "%-5u %5s %8llu %8.1f%% %7.1f%% %7.1f%% %7.1f%% %9llu\n", i, home,
			(unsigned long long)ss->grants, share(ss->run_ns, wall), share(other, wall),
			share(ss->handoff_ns, wall), share(ss->free_ns, wall),
			(unsigned long long)ss->off_home);
	}
}

void report_sched_text(FILE *out, struct vm *vms, unsigned int n)
{
	const struct sched *s = vms[0].sched;
	uint64_t preempt, waits, max;
	unsigned int i;

	if (!s)
		return;
	if (!sched_slots(s)) {
		fprintf(out,
			"\nScheduler: host (Linux runs the vCPU threads; spin exits call "
			"sched_yield()); at most %u vCPUs were in KVM_RUN at once\n",
			atomic_load(&s->max_in_run));
		text_host(out, s, online_cpus());
		return;
	}
	fprintf(out,
		"\nScheduler: %u pCPU slots, quantum %.3f ms, policy %s; at most %u vCPUs in "
		"KVM_RUN at once (limit %u, %s)\n",
		s->cfg.pcpus, (double)s->cfg.quantum_ns / 1e6, s->cfg.policy->name,
		atomic_load(&s->max_in_run), s->cfg.pcpus,
		atomic_load(&s->over_limit) ? "VIOLATED" : "held");
	text_slots(out, s);
	text_host(out, s, s->cfg.pcpus);
	fprintf(out, "%-5s %8s %8s %8s %8s %9s %8s %8s %10s %10s\n", "VM", "spins", "tries",
		"yields", "no-cand", "ping-pong", "wake-pre", "preempt", "slot-waits", "max-wait");
	for (i = 0; i < n; i++) {
		const struct yield_ledger *l = &vms[i].vs->ledger;

		vm_waits(&vms[i], &preempt, &waits, &max);
		fprintf(out, "%-5s %8llu %8llu %8llu %8llu %9llu %8llu %8llu %10llu %8.2fms\n",
			vms[i].name, (unsigned long long)l->spins, (unsigned long long)l->attempts,
			(unsigned long long)l->successes, (unsigned long long)l->no_candidate,
			(unsigned long long)l->ping_pong, (unsigned long long)l->wake_preempts,
			(unsigned long long)preempt, (unsigned long long)waits, (double)max / 1e6);
	}
	for (i = 0; i < n; i++) {
		if (!vms[i].vs->ledger.attempts)
			continue;
		fprintf(out, "Top directed yields of %s (from -> to, successful of tried):\n",
			vms[i].name);
		text_pairs(out, &vms[i]);
	}
}

static const char *const cause_names[NR_HANDOFF_CAUSES] = {
	[HANDOFF_FREE] = "free",   [HANDOFF_QUANTUM] = "quantum", [HANDOFF_HALT] = "halt",
	[HANDOFF_YIELD] = "yield", [HANDOFF_PREEMPT] = "preempt",
};

static void json_causes(struct jw *j, const struct sched *s)
{
	unsigned int c;

	jw_key(j, "grants_by_cause");
	jw_begin_object(j);
	for (c = 0; c < NR_HANDOFF_CAUSES; c++)
		jw_kv_u64(j, cause_names[c], s->by_cause[c]);
	jw_end_object(j);
}

static void json_slots(struct jw *j, const struct sched *s)
{
	unsigned int i;

	jw_begin_array(j);
	for (i = 0; sched_slots(s) && i < s->cfg.pcpus; i++) {
		const struct slot_stats *ss = &s->slot[i];

		jw_begin_object(j);
		jw_kv_u64(j, "id", i);
		jw_kv_i64(j, "home_cpu", s->cfg.home[i]);
		jw_kv_u64(j, "grants", ss->grants);
		jw_kv_u64(j, "completed", ss->completed);
		jw_kv_u64(j, "unused", ss->unused);
		jw_kv_u64(j, "off_home", ss->off_home);
		jw_kv_u64(j, "owned_ns", ss->owned_ns);
		jw_kv_u64(j, "run_ns", ss->run_ns);
		jw_kv_u64(j, "handoff_ns", ss->handoff_ns);
		jw_kv_u64(j, "free_ns", ss->free_ns);
		jw_end_object(j);
	}
	jw_end_array(j);
}

void report_sched_json(struct jw *j, struct vm *vms, unsigned int n)
{
	const struct sched *s = vms[0].sched;

	(void)n;
	jw_begin_object(j);
	if (s) {
		jw_kv_string(j, "mode", sched_slots(s) ? "slots" : "host");
		jw_kv_u64(j, "pcpus", sched_slots(s) ? s->cfg.pcpus : 0);
		jw_kv_u64(j, "quantum_ns", sched_slots(s) ? s->cfg.quantum_ns : 0);
		jw_kv_string(j, "policy", sched_slots(s) ? s->cfg.policy->name : "");
		jw_kv_u64(j, "ipi_window_ns", s->cfg.ipi_window_ns);
		jw_kv_u64(j, "max_in_run", atomic_load(&s->max_in_run));
		jw_kv_u64(j, "over_limit", atomic_load(&s->over_limit));
		jw_kv_u64(j, "grants", s->grants);
		jw_kv_u64(j, "run_queue_max", s->rq_max);
		jw_kv_u64(j, "wake_preempt_ns", sched_slots(s) ? s->cfg.wake_preempt_ns : 0);
		json_causes(j, s);
		jw_kv_u64(j, "wall_ns", s->t_end > s->t0 ? s->t_end - s->t0 : 0);
		jw_kv_u64(j, "host_cpu_ns", atomic_load(&s->host_cpu_ns));
		jw_kv_u64(j, "host_delay_ns", atomic_load(&s->host_delay_ns));
		jw_kv_u64(j, "lock_acquired", s->lock_acquired);
		jw_kv_u64(j, "lock_contended", s->lock_contended);
		jw_kv_u64(j, "lock_wait_ns", s->lock_wait_ns);
		jw_key(j, "slots");
		json_slots(j, s);
	}
	jw_end_object(j);
}

static void json_pairs(struct jw *j, const struct yield_ledger *l, unsigned int nr)
{
	unsigned int f, t;

	jw_begin_array(j);
	for (f = 0; f < nr; f++) {
		for (t = 0; t < nr; t++) {
			if (!l->pair_attempts[f][t])
				continue;
			jw_begin_object(j);
			jw_kv_u64(j, "from", f);
			jw_kv_u64(j, "to", t);
			jw_kv_u64(j, "attempts", l->pair_attempts[f][t]);
			jw_kv_u64(j, "successes", l->pair_successes[f][t]);
			jw_kv_u64(j, "ping_pong", l->pair_ping_pong[f][t]);
			jw_end_object(j);
		}
	}
	jw_end_array(j);
}

static void json_vcpus(struct jw *j, struct vm *vm)
{
	unsigned int i;

	jw_begin_array(j);
	for (i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu_sched *vs = &vm->vcpu[i]->sched;

		jw_begin_object(j);
		jw_kv_u64(j, "id", i);
		jw_kv_u64(j, "preemptions", vs->preemptions);
		jw_kv_u64(j, "slot_waits", vs->slot_waits);
		jw_kv_u64(j, "wait_total_ns", vs->wait_total_ns);
		jw_kv_u64(j, "wait_max_ns", vs->wait_max_ns);
		jw_kv_u64(j, "yields_out", vs->yields_out);
		jw_kv_u64(j, "yields_in", vs->yields_in);
		jw_end_object(j);
	}
	jw_end_array(j);
}

void report_sched_json_vm(struct jw *j, struct vm *vm)
{
	const struct yield_ledger *l = &vm->vs->ledger;

	jw_begin_object(j);
	jw_kv_i64(j, "last_boosted", vm->vs->last_boosted);
	jw_kv_u64(j, "spin_exits", l->spins);
	jw_kv_u64(j, "yield_attempts", l->attempts);
	jw_kv_u64(j, "yield_successes", l->successes);
	jw_kv_u64(j, "no_candidate", l->no_candidate);
	jw_kv_u64(j, "ping_pong", l->ping_pong);
	jw_kv_u64(j, "to_preempted", l->to_preempted);
	jw_kv_u64(j, "to_woken", l->to_woken);
	jw_kv_u64(j, "wake_preempts", l->wake_preempts);
	jw_kv_u64(j, "wake_preempt_moot", l->wake_preempt_moot);
	jw_key(j, "successes_by_tier");
	jw_begin_array(j);
	jw_u64(j, l->tiers[1]);
	jw_u64(j, l->tiers[2]);
	jw_u64(j, l->tiers[3]);
	jw_end_array(j);
	jw_key(j, "pairs");
	json_pairs(j, l, vm->nr_vcpus);
	jw_key(j, "vcpus");
	json_vcpus(j, vm);
	jw_end_object(j);
}
