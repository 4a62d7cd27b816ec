// SPDX-License-Identifier: MIT
/* Baseline: a spin exit never gives the slot away. */
#include <stddef.h>

#include "sched/policy.h"

const struct policy policy_none = {
	.name = "none",
	.summary = "never yields on a spin exit (baseline)",
	.candidate = NULL,
	.nr_tiers = 0,
};
