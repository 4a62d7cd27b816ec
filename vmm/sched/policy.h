/* SPDX-License-Identifier: MIT */
/*
 * Directed-yield candidate selection: what a spinning vCPU yields its pCPU
 * slot to. A pure function over a snapshot of one VM's vCPU states, so every
 * policy is unit-tested without KVM (tests/unit/test_policy.c).
 *
 * policy_on_spin() models KVM's kvm_vcpu_on_spin(): a round-robin scan that
 * starts after the VM's last boosted vCPU, skips the spinner itself and
 * blocked vCPUs with nothing pending, applies the policy's candidate test,
 * then kvm_vcpu_eligible_for_directed_yield() (which toggles dy_eligible of
 * a candidate that is itself in a spin loop), then "yield_to", which
 * succeeds only on a vCPU that waits for a slot (runnable, not running) and
 * fails on a running or halted one; the scan gives up after 3 failed yields.
 * Unlike KVM it stores the index actually boosted in last_boosted (KVM stores
 * the loop counter, a known bug).
 *
 * Policies with tiers (ipi-aware) scan once per tier, best tier first, so a
 * tier-1 candidate anywhere in the VM wins over a tier-2 one earlier in the
 * round-robin order.
 */
#ifndef VMM_POLICY_H
#define VMM_POLICY_H

#include "vmm_abi.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum sched_state {
	SCHED_RUNNING,	/* owns a pCPU slot */
	SCHED_RUNNABLE, /* waits in the run queue for a slot */
	SCHED_HALTED,	/* HLT: no slot, sleeping until an interrupt */
};

/* What the scheduler knows about one vCPU, at the moment of the spin exit. */
struct policy_vcpu {
	uint8_t state;		 /* enum sched_state */
	bool preempted;		 /* lost its slot while runnable (quantum expiry or a yield) */
	bool ready;		 /* preempted, or woken for interrupt delivery (seed 1) */
	bool in_spin_loop;	 /* inside its own spin-exit handling right now */
	bool dy_eligible;	 /* KVM's spin_loop.dy_eligible */
	bool pending_intr;	 /* an interrupt is posted to it and not yet taken */
	uint64_t ipi_from_me_ns; /* ipi-aware: when the spinner last sent it a unicast fixed IPI
				    that it has not EOId yet; 0 = none */
};

struct policy_snapshot {
	unsigned int nr;  /* vCPUs in the VM */
	unsigned int me;  /* the spinning vCPU */
	int last_boosted; /* the VM's last_boosted_vcpu; the scan starts after it */
	uint64_t now_ns;
	uint64_t ipi_window_ns; /* ipi-aware recency window */
	struct policy_vcpu v[VMM_MAX_VCPUS];
};

#define POLICY_MAX_TRIES 3 /* failed yield_to()s before kvm_vcpu_on_spin gives up */

struct policy_pick {
	int target;	      /* vCPU to yield to, -1 = none (keep the slot) */
	int tier;	      /* tier of the target (1 = best), 0 if none */
	int last_boosted;     /* the VM's new last_boosted_vcpu (unchanged if no target) */
	unsigned int tries;   /* yield_to() attempts, the successful one included */
	unsigned int failed;  /* of those, failed (target running or halted) */
	uint64_t failed_mask; /* the vCPUs a yield_to() failed on */
	uint64_t dy_flip;     /* vCPUs whose dy_eligible the scan toggled */
};

struct policy {
	const char *name;
	const char *summary; /* one line for --help and the docs */
	/*
	 * The candidate test: 0 = not a candidate, else its tier (1 = best).
	 * NULL: the policy ignores spin exits altogether.
	 */
	int (*candidate)(const struct policy_snapshot *s, unsigned int i);
	int nr_tiers; /* highest tier candidate() returns */
};

/*
 * The kvm_vcpu_on_spin() model for the spinner s->me. Pure: reads s only.
 * The caller applies out->dy_flip, the spinner's own in_spin_loop/dy_eligible
 * reset, and out->last_boosted.
 */
void policy_on_spin(const struct policy *p, const struct policy_snapshot *s,
		    struct policy_pick *out);

/* The policy called `name`, or NULL. */
const struct policy *policy_find(const char *name);
/* All policies, NULL-terminated, in the order --help lists them. */
extern const struct policy *const policy_all[];

extern const struct policy policy_none;
extern const struct policy policy_preempted;
extern const struct policy policy_ready;
extern const struct policy policy_ipi_aware;

#endif
