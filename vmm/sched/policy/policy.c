// SPDX-License-Identifier: MIT
/*
 * The kvm_vcpu_on_spin() model shared by every policy and the policy table.
 * The policies themselves are one candidate test each, in the other files of
 * this directory.
 */
#include <string.h>

#include "sched/policy.h"

/* The scan's running state: what one kvm_vcpu_on_spin() call has done so far. */
struct spin_scan {
	const struct policy_snapshot *s;
	const struct policy *p;
	unsigned int nr;
	unsigned int start;
	struct policy_pick *out;
};

/*
 * kvm_vcpu_eligible_for_directed_yield(): a vCPU that is itself in a spin
 * loop is eligible only every other time it is considered, so two spinners
 * do not keep boosting each other. The snapshot is const: the toggled value
 * is the snapshot's XOR the flips made so far in this scan.
 */
static bool dy_eligible(struct spin_scan *sc, unsigned int idx)
{
	const uint64_t bit = 1ull << idx;
	bool eligible;

	if (!sc->s->v[idx].in_spin_loop)
		return true;
	eligible = sc->s->v[idx].dy_eligible != !!(sc->out->dy_flip & bit);
	sc->out->dy_flip ^= bit;
	return eligible;
}

/* kvm_vcpu_yield_to(): only a vCPU waiting for a slot can take ours. */
static bool yield_to(struct spin_scan *sc, unsigned int idx, int tier)
{
	struct policy_pick *out = sc->out;

	out->tries++;
	if (sc->s->v[idx].state == SCHED_RUNNABLE) {
		out->target = (int)idx;
		out->tier = tier;
		out->last_boosted = (int)idx;
		return true;
	}
	out->failed++;
	out->failed_mask |= 1ull << idx;
	return false;
}

/*
 * One round-robin pass over the VM; tier 0 means any candidate. Returns true
 * when the scan is over: a yield succeeded or too many failed.
 */
static bool scan_pass(struct spin_scan *sc, int want)
{
	const struct policy_snapshot *s = sc->s;
	unsigned int i;

	for (i = 0; i < sc->nr; i++) {
		unsigned int idx = (sc->start + i) % sc->nr;
		const struct policy_vcpu *v = &s->v[idx];
		int tier;

		if (idx == s->me)
			continue;
		/* kvm_vcpu_is_blocking() && !vcpu_dy_runnable() */
		if (v->state == SCHED_HALTED && !v->pending_intr)
			continue;
		tier = sc->p->candidate(s, idx);
		if (!tier || (want && tier != want))
			continue;
		if (!dy_eligible(sc, idx))
			continue;
		if (yield_to(sc, idx, tier))
			return true;
		if (sc->out->failed >= POLICY_MAX_TRIES)
			return true;
	}
	return false;
}

void policy_on_spin(const struct policy *p, const struct policy_snapshot *s,
		    struct policy_pick *out)
{
	struct spin_scan sc = { .s = s, .p = p, .out = out };
	int t;

	memset(out, 0, sizeof(*out));
	out->target = -1;
	out->last_boosted = s->last_boosted;
	if (!p->candidate || s->nr < 2)
		return;

	/* The masks are 64 bits wide, so is the snapshot; never read past it. */
	sc.nr = s->nr < VMM_MAX_VCPUS ? s->nr : VMM_MAX_VCPUS;
	/* -1: nothing boosted yet, start at vCPU 0. */
	sc.start = s->last_boosted < 0 ? 0 : (unsigned int)s->last_boosted + 1;

	if (p->nr_tiers <= 1) {
		scan_pass(&sc, 0);
		return;
	}
	/* Best tier first: a tier-1 vCPU anywhere beats an earlier tier-2 one. */
	for (t = 1; t <= p->nr_tiers; t++)
		if (scan_pass(&sc, t))
			return;
}

const struct policy *const policy_all[] = {
	&policy_none, &policy_preempted, &policy_ready, &policy_ipi_aware, NULL,
};

const struct policy *policy_find(const char *name)
{
	const struct policy *const *p;

	if (!name)
		return NULL;
	for (p = policy_all; *p; p++)
		if (!strcmp((*p)->name, name))
			return *p;
	return NULL;
}
