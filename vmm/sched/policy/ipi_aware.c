// SPDX-License-Identifier: MIT
/*
 * Seed 2: kvm_vcpu_is_good_yield_candidate(), in tiers. The seed's helper
 * returns a bool; the tier number it would have returned at is kept so that
 * policy_on_spin() can scan best tier first.
 */
#include "sched/policy.h"

/*
 * kvm_vcpu_is_ipi_receiver(): the spinner sent it an IPI it has not EOId,
 * recently. A send time in the future (clocks read on different threads) is
 * as recent as it gets.
 */
static bool ipi_receiver(const struct policy_snapshot *s, const struct policy_vcpu *v)
{
	if (!v->ipi_from_me_ns)
		return false;
	if (s->now_ns < v->ipi_from_me_ns)
		return true;
	return s->now_ns - v->ipi_from_me_ns <= s->ipi_window_ns;
}

static int ipi_aware_candidate(const struct policy_snapshot *s, unsigned int i)
{
	const struct policy_vcpu *v = &s->v[i];

	/* KVM keeps its vcpu->ready gate in front of the seed's helper. */
	if (!v->ready)
		return 0;
	if (ipi_receiver(s, v))
		return 1;
	/* kvm_arch_dy_has_pending_interrupt() */
	if (v->pending_intr)
		return 2;
	/*
	 * The seed also requires preempted-in-kernel when yielding to kernel
	 * mode; our guests spin only in kernel mode, so that always holds.
	 */
	if (v->preempted)
		return 3;
	return 0;
}

const struct policy policy_ipi_aware = {
	.name = "ipi-aware",
	.summary = "recent IPI receivers first, then pending interrupt, then preempted (seed 2)",
	.candidate = ipi_aware_candidate,
	.nr_tiers = 3,
};
