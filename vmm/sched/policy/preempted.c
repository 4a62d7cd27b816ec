// SPDX-License-Identifier: MIT
/*
 * KVM before seed 1: only a vCPU that lost its slot while runnable is a
 * candidate, so one woken for interrupt delivery is passed over.
 */
#include "sched/policy.h"

static int preempted_candidate(const struct policy_snapshot *s, unsigned int i)
{
	return s->v[i].preempted;
}

const struct policy policy_preempted = {
	.name = "preempted",
	.summary = "preempted vCPUs only (KVM before the ready patch)",
	.candidate = preempted_candidate,
	.nr_tiers = 1,
};
