// SPDX-License-Identifier: MIT
/*
 * Unit tests of directed-yield candidate selection. Every snapshot is built
 * by hand and every expected pick is worked out from kvm_vcpu_on_spin() and
 * the seeds' candidate tests, never by calling the policy code twice.
 *
 * Default vCPU in these snapshots: running, not preempted, not ready, not
 * spinning: no policy's candidate. The helpers below turn it into one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "sched/policy.h"
#include "apic/ipi_track.h"

#define BIT(i) (1ull << (i))
#define WINDOW 1000000ull /* 1 ms */
#define NOW    50000000ull
#define VEC    0x40

static struct policy_snapshot S;

static void snap(unsigned int nr, unsigned int me, int last_boosted)
{
	memset(&S, 0, sizeof(S));
	S.nr = nr;
	S.me = me;
	S.last_boosted = last_boosted;
	S.now_ns = NOW;
	S.ipi_window_ns = WINDOW;
}

/* Lost its slot while runnable: waits in the run queue, preempted and ready. */
static void preempted(unsigned int i)
{
	S.v[i].state = SCHED_RUNNABLE;
	S.v[i].preempted = true;
	S.v[i].ready = true;
}

/* Woken from HLT for interrupt delivery, queued: ready but not preempted. */
static void woken(unsigned int i)
{
	S.v[i].state = SCHED_RUNNABLE;
	S.v[i].ready = true;
	S.v[i].pending_intr = true;
}

/* The spinner sent it an IPI `ago` ns before now. */
static void ipi_from_me(unsigned int i, uint64_t ago)
{
	S.v[i].ipi_from_me_ns = NOW - ago;
}

static struct policy_pick spin(const struct policy *p)
{
	struct policy_pick out;

	memset(&out, 0xa5, sizeof(out)); /* policy_on_spin() must set every field */
	policy_on_spin(p, &S, &out);
	return out;
}

/* What the scheduler does with a pick before the next spin exit. */
static void apply(const struct policy_pick *out)
{
	unsigned int i;

	for (i = 0; i < S.nr; i++)
		if (out->dy_flip & BIT(i))
			S.v[i].dy_eligible = !S.v[i].dy_eligible;
	S.last_boosted = out->last_boosted;
}

static void assert_none(const struct policy_pick *out, int last_boosted)
{
	assert_int_equal(out->target, -1);
	assert_int_equal(out->tier, 0);
	assert_int_equal(out->last_boosted, last_boosted);
}

static void test_none_never_yields(void **state)
{
	struct policy_pick out;
	unsigned int i;

	(void)state;
	snap(4, 0, 2);
	for (i = 1; i < 4; i++) {
		preempted(i);
		S.v[i].pending_intr = true;
		S.v[i].in_spin_loop = true;
		S.v[i].dy_eligible = true;
		ipi_from_me(i, 10);
	}
	out = spin(&policy_none);
	assert_none(&out, 2);
	assert_int_equal(out.tries, 0);
	assert_int_equal(out.failed, 0);
	assert_int_equal(out.failed_mask, 0);
	assert_int_equal(out.dy_flip, 0);
	/* The same snapshot does have a candidate for a real policy. */
	assert_int_equal(spin(&policy_preempted).target, 3);
}

static void test_preempted_skips_woken(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, -1);
	woken(1);
	preempted(2);
	out = spin(&policy_preempted);
	assert_int_equal(out.target, 2);
	assert_int_equal(out.tier, 1);
	assert_int_equal(out.last_boosted, 2);
	assert_int_equal(out.tries, 1);
	assert_int_equal(out.failed, 0);

	/* With only the woken one, vanilla KVM finds nobody. */
	S.v[2] = S.v[3];
	out = spin(&policy_preempted);
	assert_none(&out, -1);
	assert_int_equal(out.tries, 0);
}

static void test_ready_takes_woken(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, -1);
	woken(1);
	preempted(2);
	out = spin(&policy_ready);
	assert_int_equal(out.target, 1);
	assert_int_equal(out.tier, 1);
	assert_int_equal(out.last_boosted, 1);
	assert_int_equal(out.tries, 1);

	/* preempted alone does not make a candidate for ready: ready does. */
	snap(3, 0, -1);
	S.v[1].state = SCHED_RUNNABLE;
	S.v[1].preempted = true;
	out = spin(&policy_ready);
	assert_none(&out, -1);
}

static void test_ipi_tier1_over_earlier_tiers(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, -1);
	preempted(1);	     /* tier 3, first in round-robin order */
	woken(2);	     /* tier 2 */
	preempted(3);	     /* tier 1 */
	ipi_from_me(3, 500); /* well within the window */
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 3);
	assert_int_equal(out.tier, 1);
	assert_int_equal(out.last_boosted, 3);
	assert_int_equal(out.tries, 1);
	/* ready, a single pass, takes the first in round-robin order. */
	assert_int_equal(spin(&policy_ready).target, 1);
}

static void test_ipi_tier2_over_tier3(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, -1);
	preempted(1);
	preempted(3);
	S.v[3].pending_intr = true;
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 3);
	assert_int_equal(out.tier, 2);
	assert_int_equal(out.tries, 1);
}

static void test_ipi_tier3_alone(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 1, -1);
	preempted(2);
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 2);
	assert_int_equal(out.tier, 3);
	assert_int_equal(out.last_boosted, 2);

	/* Ready but neither IPI receiver, pending nor preempted: no tier. */
	snap(4, 1, -1);
	S.v[2].state = SCHED_RUNNABLE;
	S.v[2].ready = true;
	out = spin(&policy_ipi_aware);
	assert_none(&out, -1);
	assert_int_equal(out.tries, 0);
}

static void test_ipi_ready_gate(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, -1);
	/* Everything the seed's helper wants, but vcpu->ready is false. */
	S.v[1].state = SCHED_RUNNABLE;
	S.v[1].preempted = true;
	S.v[1].pending_intr = true;
	ipi_from_me(1, 10);
	preempted(3);
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 3);
	assert_int_equal(out.tier, 3);
	assert_int_equal(out.tries, 1);

	S.v[3] = S.v[2];
	out = spin(&policy_ipi_aware);
	assert_none(&out, -1);
	assert_int_equal(out.tries, 0);
}

static void test_ipi_window_expired(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, -1);
	preempted(1);
	ipi_from_me(1, WINDOW + 1);
	woken(3);
	ipi_from_me(3, WINDOW + 1);
	S.v[3].preempted = true;
	/* Neither is tier 1 any more: the pending one (3) wins at tier 2. */
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 3);
	assert_int_equal(out.tier, 2);

	/* Without the pending interrupt, the preempted one at tier 3. */
	S.v[3].pending_intr = false;
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 1);
	assert_int_equal(out.tier, 3);

	/* An expired IPI alone is nothing. */
	snap(4, 0, -1);
	S.v[2].state = SCHED_RUNNABLE;
	S.v[2].ready = true;
	ipi_from_me(2, WINDOW + 1);
	out = spin(&policy_ipi_aware);
	assert_none(&out, -1);
}

static void test_ipi_window_boundary(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, -1);
	woken(1);
	preempted(2);
	ipi_from_me(2, WINDOW);
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 2);
	assert_int_equal(out.tier, 1);

	/* One nanosecond later it is out. */
	S.now_ns = NOW + 1;
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 1);
	assert_int_equal(out.tier, 2);
}

static void test_ipi_sent_after_now(void **state)
{
	struct policy_pick out;

	(void)state;
	/* The send was timed on another thread's clock read, a bit later. */
	snap(4, 0, -1);
	woken(1);
	preempted(2);
	S.v[2].ipi_from_me_ns = NOW + 5;
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 2);
	assert_int_equal(out.tier, 1);
}

static void test_ipi_tier1_round_robin(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(5, 0, 2);
	preempted(1);
	ipi_from_me(1, 1);
	preempted(2);
	ipi_from_me(2, 1);
	woken(3);
	/* Start after 2: 3 (tier 2) and 4 come first, but tier 1 goes to 1. */
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 1);
	assert_int_equal(out.tier, 1);
	apply(&out);
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 2);
	assert_int_equal(out.tier, 1);
}

static void test_ipi_track_eoi_clears(void **state)
{
	static struct ipi_track t;
	struct policy_pick out;
	unsigned int i;

	(void)state;
	ipi_track_init(&t);
	ipi_track_sent(&t, 0, 2, VEC, NOW - 100);
	assert_int_equal(ipi_track_sent_ns(&t, 0, 2), NOW - 100);
	assert_int_equal(ipi_track_sent_ns(&t, 2, 0), 0);
	assert_int_equal(ipi_track_sent_ns(&t, 1, 2), 0);

	snap(4, 0, -1);
	preempted(1);
	preempted(2);
	for (i = 0; i < 4; i++)
		S.v[i].ipi_from_me_ns = ipi_track_sent_ns(&t, 0, i);
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 2);
	assert_int_equal(out.tier, 1);

	ipi_track_eoi(&t, 2, VEC, 4);
	assert_int_equal(ipi_track_sent_ns(&t, 0, 2), 0);
	for (i = 0; i < 4; i++)
		S.v[i].ipi_from_me_ns = ipi_track_sent_ns(&t, 0, i);
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 1);
	assert_int_equal(out.tier, 3);
}

static void test_ipi_track_eoi_other_vector(void **state)
{
	static struct ipi_track t;

	(void)state;
	ipi_track_init(&t);
	ipi_track_sent(&t, 0, 2, VEC, 1234);
	ipi_track_eoi(&t, 2, VEC + 1, 4);
	assert_int_equal(ipi_track_sent_ns(&t, 0, 2), 1234);
	/* The EOI of another receiver does not clear it either. */
	ipi_track_eoi(&t, 1, VEC, 4);
	assert_int_equal(ipi_track_sent_ns(&t, 0, 2), 1234);
	/* A resend with another vector replaces the record: the old EOI misses. */
	ipi_track_sent(&t, 0, 2, VEC + 1, 2000);
	ipi_track_eoi(&t, 2, VEC, 4);
	assert_int_equal(ipi_track_sent_ns(&t, 0, 2), 2000);
	ipi_track_eoi(&t, 2, VEC + 1, 4);
	assert_int_equal(ipi_track_sent_ns(&t, 0, 2), 0);
}

static void test_ipi_track_eoi_every_sender(void **state)
{
	static struct ipi_track t;

	(void)state;
	ipi_track_init(&t);
	ipi_track_sent(&t, 0, 2, VEC, 100);
	ipi_track_sent(&t, 1, 2, VEC, 200);
	ipi_track_sent(&t, 63, 2, VEC, 300);
	ipi_track_sent(&t, 3, 2, VEC + 1, 400); /* other vector */
	ipi_track_sent(&t, 0, 1, VEC, 500);	/* other receiver */
	ipi_track_eoi(&t, 2, VEC, 64);
	assert_int_equal(ipi_track_sent_ns(&t, 0, 2), 0);
	assert_int_equal(ipi_track_sent_ns(&t, 1, 2), 0);
	assert_int_equal(ipi_track_sent_ns(&t, 63, 2), 0);
	assert_int_equal(ipi_track_sent_ns(&t, 3, 2), 400);
	assert_int_equal(ipi_track_sent_ns(&t, 0, 1), 500);
}

static void test_ipi_track_time_bits(void **state)
{
	static struct ipi_track t;

	(void)state;
	ipi_track_init(&t);
	/* 56 bits of time are kept. */
	ipi_track_sent(&t, 0, 1, 0xff, (1ull << 60) | 12345);
	assert_int_equal(ipi_track_sent_ns(&t, 0, 1), 12345);
	/* A time whose kept bits are 0 still makes a record. */
	ipi_track_sent(&t, 0, 1, 0xff, 1ull << 56);
	assert_int_equal(ipi_track_sent_ns(&t, 0, 1), 1);
	ipi_track_eoi(&t, 1, 0xff, 2);
	assert_int_equal(ipi_track_sent_ns(&t, 0, 1), 0);
	/* Vector 0 is a real record too (the time makes it non-zero). */
	ipi_track_sent(&t, 1, 0, 0, 77);
	assert_int_equal(ipi_track_sent_ns(&t, 1, 0), 77);
	ipi_track_eoi(&t, 0, 0, 2);
	assert_int_equal(ipi_track_sent_ns(&t, 1, 0), 0);
	/* init forgets everything. */
	ipi_track_sent(&t, 5, 6, VEC, 99);
	ipi_track_init(&t);
	assert_int_equal(ipi_track_sent_ns(&t, 5, 6), 0);
}

static void test_rr_starts_after_last_boosted(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, 1);
	preempted(1);
	preempted(2);
	preempted(3);
	out = spin(&policy_preempted);
	assert_int_equal(out.target, 2);
	assert_int_equal(out.last_boosted, 2);
	S.last_boosted = 2;
	assert_int_equal(spin(&policy_preempted).target, 3);
}

static void test_rr_wraps(void **state)
{
	struct policy_pick out;

	(void)state;
	/* Start at 3, nobody there; wrap to 0. The candidate 2 comes last. */
	snap(4, 1, 2);
	preempted(0);
	preempted(2);
	out = spin(&policy_ready);
	assert_int_equal(out.target, 0);
	assert_int_equal(out.last_boosted, 0);

	/* last_boosted = nr - 1: start wraps straight to 0. */
	snap(4, 1, 3);
	preempted(2);
	preempted(3);
	assert_int_equal(spin(&policy_ready).target, 2);
}

static void test_rr_rotates_over_calls(void **state)
{
	static const int expect[] = { 1, 2, 3, 1, 2 };
	struct policy_pick out;
	unsigned int k;

	(void)state;
	snap(4, 0, -1);
	preempted(1);
	preempted(2);
	preempted(3);
	for (k = 0; k < sizeof(expect) / sizeof(expect[0]); k++) {
		out = spin(&policy_preempted);
		assert_int_equal(out.target, expect[k]);
		apply(&out);
	}
}

static void test_rr_minus_one_starts_at_zero(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 3, -1);
	preempted(0);
	preempted(2);
	out = spin(&policy_ready);
	assert_int_equal(out.target, 0);
	assert_int_equal(out.last_boosted, 0);
}

static void test_last_boosted_is_index(void **state)
{
	struct policy_pick out;

	(void)state;
	/* Start at 2 (not a candidate); 3 is found at loop counter 1. */
	snap(4, 0, 1);
	preempted(3);
	out = spin(&policy_preempted);
	assert_int_equal(out.target, 3);
	assert_int_equal(out.last_boosted, 3); /* KVM would store 1 */

	snap(6, 2, 4);
	woken(1);
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 1);
	assert_int_equal(out.last_boosted, 1); /* counter 2 */
}

static void test_dy_spinning_not_eligible(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, -1);
	preempted(1);
	S.v[1].in_spin_loop = true;
	S.v[1].dy_eligible = false;
	preempted(2);
	out = spin(&policy_preempted);
	assert_int_equal(out.target, 2);
	assert_int_equal(out.dy_flip, BIT(1));
	assert_int_equal(out.tries, 1);
	assert_int_equal(out.failed, 0);
}

static void test_dy_spinning_eligible(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, -1);
	preempted(1);
	S.v[1].in_spin_loop = true;
	S.v[1].dy_eligible = true;
	preempted(2);
	out = spin(&policy_preempted);
	assert_int_equal(out.target, 1);
	assert_int_equal(out.dy_flip, BIT(1));
	assert_int_equal(out.tries, 1);

	/* Eligible but running: flipped all the same, and the yield fails. */
	S.v[1].state = SCHED_RUNNING;
	out = spin(&policy_preempted);
	assert_int_equal(out.target, 2);
	assert_int_equal(out.dy_flip, BIT(1));
	assert_int_equal(out.failed_mask, BIT(1));
}

static void test_dy_not_spinning_no_flip(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, -1);
	preempted(1);
	S.v[1].dy_eligible = false;
	out = spin(&policy_preempted);
	assert_int_equal(out.target, 1);
	assert_int_equal(out.dy_flip, 0);

	/* A spinning vCPU that is no candidate is never looked at. */
	snap(4, 0, -1);
	S.v[1].state = SCHED_RUNNABLE;
	S.v[1].in_spin_loop = true;
	preempted(2);
	S.v[2].in_spin_loop = true;
	out = spin(&policy_preempted);
	assert_none(&out, -1);
	assert_int_equal(out.dy_flip, BIT(2));
}

static void test_dy_flip_applied_next_call(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(3, 0, -1);
	preempted(2);
	S.v[2].in_spin_loop = true;
	out = spin(&policy_ready);
	assert_none(&out, -1);
	assert_int_equal(out.dy_flip, BIT(2));
	assert_int_equal(out.tries, 0);
	apply(&out);
	assert_true(S.v[2].dy_eligible);

	out = spin(&policy_ready);
	assert_int_equal(out.target, 2);
	assert_int_equal(out.dy_flip, BIT(2));
	apply(&out);
	assert_false(S.v[2].dy_eligible);
}

static void test_spinner_excluded(void **state)
{
	const struct policy *const *p;
	struct policy_pick out;

	(void)state;
	snap(4, 2, 1);
	preempted(2);
	S.v[2].pending_intr = true;
	S.v[2].in_spin_loop = true;
	S.v[2].dy_eligible = true;
	ipi_from_me(2, 1);
	for (p = policy_all; *p; p++) {
		out = spin(*p);
		assert_none(&out, 1);
		assert_int_equal(out.tries, 0);
		assert_int_equal(out.dy_flip, 0);
	}
}

static void test_running_fails_and_continues(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, -1);
	preempted(1);
	S.v[1].state = SCHED_RUNNING; /* got its slot back since */
	preempted(3);
	out = spin(&policy_preempted);
	assert_int_equal(out.target, 3);
	assert_int_equal(out.tries, 2);
	assert_int_equal(out.failed, 1);
	assert_int_equal(out.failed_mask, BIT(1));
	assert_int_equal(out.last_boosted, 3);
}

static void test_three_failures_stop(void **state)
{
	struct policy_pick out;
	unsigned int i;

	(void)state;
	snap(6, 0, -1);
	for (i = 1; i <= 4; i++)
		preempted(i);
	for (i = 1; i <= 3; i++)
		S.v[i].state = SCHED_RUNNING;
	out = spin(&policy_preempted);
	assert_none(&out, -1);
	assert_int_equal(out.tries, 3);
	assert_int_equal(out.failed, 3);
	assert_int_equal(out.failed_mask, BIT(1) | BIT(2) | BIT(3));

	/* Two failures are not enough to stop. */
	S.v[3].state = SCHED_RUNNABLE;
	out = spin(&policy_preempted);
	assert_int_equal(out.target, 3);
	assert_int_equal(out.tries, 3);
	assert_int_equal(out.failed, 2);
}

static void test_three_failures_stop_across_tiers(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(6, 0, -1);
	preempted(1); /* tier 2, running */
	S.v[1].pending_intr = true;
	S.v[1].state = SCHED_RUNNING;
	preempted(2); /* tier 3, running */
	S.v[2].state = SCHED_RUNNING;
	preempted(3); /* tier 1, running */
	ipi_from_me(3, 1);
	S.v[3].state = SCHED_RUNNING;
	preempted(4); /* tier 3, runnable, but after three failures */
	out = spin(&policy_ipi_aware);
	assert_none(&out, -1);
	assert_int_equal(out.tries, 3);
	assert_int_equal(out.failed_mask, BIT(1) | BIT(2) | BIT(3));

	/* A tier-1 failure falls through to the next tier. */
	S.v[2].state = SCHED_RUNNABLE;
	S.v[1].state = SCHED_RUNNABLE;
	out = spin(&policy_ipi_aware);
	assert_int_equal(out.target, 1);
	assert_int_equal(out.tier, 2);
	assert_int_equal(out.tries, 2);
	assert_int_equal(out.failed_mask, BIT(3));
}

static void test_halted_without_pending_skipped(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, -1);
	preempted(1);
	S.v[1].state = SCHED_HALTED;
	preempted(2);
	out = spin(&policy_ready);
	assert_int_equal(out.target, 2);
	assert_int_equal(out.tries, 1);
	assert_int_equal(out.failed, 0);
	assert_int_equal(out.failed_mask, 0);

	/* A halted spinner-candidate is not even checked for eligibility. */
	S.v[1].in_spin_loop = true;
	out = spin(&policy_ready);
	assert_int_equal(out.dy_flip, 0);
}

static void test_halted_with_pending_fails(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(4, 0, -1);
	woken(1);
	S.v[1].state = SCHED_HALTED; /* interrupt posted, not yet woken */
	woken(2);
	out = spin(&policy_ready);
	assert_int_equal(out.target, 2);
	assert_int_equal(out.tries, 2);
	assert_int_equal(out.failed, 1);
	assert_int_equal(out.failed_mask, BIT(1));
}

static void test_no_candidate(void **state)
{
	const struct policy *const *p;
	struct policy_pick out;

	(void)state;
	snap(8, 3, 5);
	S.v[6].state = SCHED_RUNNABLE; /* runnable but neither ready nor preempted */
	S.v[7].state = SCHED_HALTED;
	for (p = policy_all; *p; p++) {
		out = spin(*p);
		assert_none(&out, 5);
		assert_int_equal(out.tries, 0);
		assert_int_equal(out.failed, 0);
		assert_int_equal(out.failed_mask, 0);
		assert_int_equal(out.dy_flip, 0);
	}
}

static void test_single_vcpu(void **state)
{
	const struct policy *const *p;
	struct policy_pick out;

	(void)state;
	snap(1, 0, -1);
	preempted(0);
	S.v[0].in_spin_loop = true;
	preempted(1); /* beyond nr: must not be looked at */
	for (p = policy_all; *p; p++) {
		out = spin(*p);
		assert_none(&out, -1);
		assert_int_equal(out.tries, 0);
		assert_int_equal(out.dy_flip, 0);
	}
}

static void test_large_vm(void **state)
{
	struct policy_pick out;

	(void)state;
	snap(VMM_MAX_VCPUS, 0, 61);
	preempted(63);
	S.v[63].in_spin_loop = true;
	preempted(1);
	out = spin(&policy_preempted);
	/* 62 is nobody, 63 flips and is skipped, 0 is me, then 1. */
	assert_int_equal(out.target, 1);
	assert_int_equal(out.dy_flip, BIT(63));
}

static void test_policy_find(void **state)
{
	(void)state;
	assert_ptr_equal(policy_find("none"), &policy_none);
	assert_ptr_equal(policy_find("preempted"), &policy_preempted);
	assert_ptr_equal(policy_find("ready"), &policy_ready);
	assert_ptr_equal(policy_find("ipi-aware"), &policy_ipi_aware);
	assert_null(policy_find("ipi_aware"));
	assert_null(policy_find("Ready"));
	assert_null(policy_find("read"));
	assert_null(policy_find("ready "));
	assert_null(policy_find(""));
}

static void test_policy_all(void **state)
{
	const struct policy *const *p;

	(void)state;
	assert_ptr_equal(policy_all[0], &policy_none);
	assert_ptr_equal(policy_all[1], &policy_preempted);
	assert_ptr_equal(policy_all[2], &policy_ready);
	assert_ptr_equal(policy_all[3], &policy_ipi_aware);
	assert_null(policy_all[4]);
	for (p = policy_all; *p; p++) {
		assert_non_null((*p)->summary);
		assert_true(strlen((*p)->summary) > 0);
		assert_ptr_equal(policy_find((*p)->name), *p);
	}
	assert_null(policy_none.candidate);
	assert_int_equal(policy_ipi_aware.nr_tiers, 3);
	assert_int_equal(policy_ready.nr_tiers, 1);
	assert_int_equal(policy_preempted.nr_tiers, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none_never_yields),
		cmocka_unit_test(test_preempted_skips_woken),
		cmocka_unit_test(test_ready_takes_woken),
		cmocka_unit_test(test_ipi_tier1_over_earlier_tiers),
		cmocka_unit_test(test_ipi_tier2_over_tier3),
		cmocka_unit_test(test_ipi_tier3_alone),
		cmocka_unit_test(test_ipi_ready_gate),
		cmocka_unit_test(test_ipi_window_expired),
		cmocka_unit_test(test_ipi_window_boundary),
		cmocka_unit_test(test_ipi_sent_after_now),
		cmocka_unit_test(test_ipi_tier1_round_robin),
		cmocka_unit_test(test_ipi_track_eoi_clears),
		cmocka_unit_test(test_ipi_track_eoi_other_vector),
		cmocka_unit_test(test_ipi_track_eoi_every_sender),
		cmocka_unit_test(test_ipi_track_time_bits),
		cmocka_unit_test(test_rr_starts_after_last_boosted),
		cmocka_unit_test(test_rr_wraps),
		cmocka_unit_test(test_rr_rotates_over_calls),
		cmocka_unit_test(test_rr_minus_one_starts_at_zero),
		cmocka_unit_test(test_last_boosted_is_index),
		cmocka_unit_test(test_dy_spinning_not_eligible),
		cmocka_unit_test(test_dy_spinning_eligible),
		cmocka_unit_test(test_dy_not_spinning_no_flip),
		cmocka_unit_test(test_dy_flip_applied_next_call),
		cmocka_unit_test(test_spinner_excluded),
		cmocka_unit_test(test_running_fails_and_continues),
		cmocka_unit_test(test_three_failures_stop),
		cmocka_unit_test(test_three_failures_stop_across_tiers),
		cmocka_unit_test(test_halted_without_pending_skipped),
		cmocka_unit_test(test_halted_with_pending_fails),
		cmocka_unit_test(test_no_candidate),
		cmocka_unit_test(test_single_vcpu),
		cmocka_unit_test(test_large_vm),
		cmocka_unit_test(test_policy_find),
		cmocka_unit_test(test_policy_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
