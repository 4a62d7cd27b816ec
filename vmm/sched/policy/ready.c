// SPDX-License-Identifier: MIT
/*
 * Seed 1: vcpu->ready is also set when a vCPU is woken for interrupt
 * delivery, so the target of a synchronous IPI the spinner waits on is a
 * candidate too.
 */
#include "sched/policy.h"

static int ready_candidate(const struct policy_snapshot *s, unsigned int i)
{
	return s->v[i].ready;
}

const struct policy policy_ready = {
	.name = "ready",
	.summary = "preempted or woken for interrupt delivery (seed 1)",
	.candidate = ready_candidate,
	.nr_tiers = 1,
};
