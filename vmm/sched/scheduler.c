// SPDX-License-Identifier: MIT
#include "sched/scheduler.h"

#include "apic/apic.h"
#include "apic/ipi_track.h"
#include "clock.h"
#include "futex.h"
#include "measure/trace.h"
#include "vcpu.h"
#include "vm.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A slot's idle bit, for kick redirection (under the lock; read without it). */
static void idle_set(struct sched *s, int slot, bool idle)
{
	uint64_t bit = 1ull << (slot % 64);

	if (idle)
		atomic_fetch_or_explicit(&s->idle[slot / 64], bit, memory_order_release);
	else
		atomic_fetch_and_explicit(&s->idle[slot / 64], ~bit, memory_order_relaxed);
}

int sched_init(struct sched *s, const struct sched_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	if (!s->cfg.policy)
		s->cfg.policy = &policy_ready;
	s->track_ipis = s->cfg.policy == &policy_ipi_aware;
	s->nr_free = cfg->pcpus;
	for (unsigned int i = 0; i < cfg->pcpus && i < SCHED_MAX_SLOTS; i++)
		idle_set(s, (int)i, true);
	s->t0 = now_ns();
	for (unsigned int i = 0; i < SCHED_MAX_SLOTS; i++)
		s->slot[i].since = s->t0;
	return pthread_mutex_init(&s->lock, NULL) ? -1 : 0;
}

void sched_destroy(struct sched *s)
{
	sched_redirect_stop(s);
	pthread_mutex_destroy(&s->lock);
}

struct vm_sched *sched_vm_new(void)
{
	struct vm_sched *vs = calloc(1, sizeof(*vs));
	unsigned int i;

	if (!vs)
		return NULL;
	/* KVM starts last_boosted_vcpu at 0, so its first scan begins at vCPU 1. */
	vs->last_boosted = 0;
	for (i = 0; i < VMM_MAX_VCPUS; i++)
		vs->ledger.last_to[i] = -1;
	return vs;
}

void sched_vm_free(struct vm_sched *vs)
{
	free(vs);
}

void sched_vcpu_init(struct vcpu_sched *vs)
{
	memset(vs, 0, sizeof(*vs));
	vs->state = SCHED_RUNNABLE;
	vs->slot = -1;
	atomic_init(&vs->pin_cpu, -1);
}

static struct sched *sched_of(const struct vcpu *v)
{
	return v->vm->sched;
}

/* The mutex, with its contention counted (docs/scheduler.md shows whether it matters). */
static void sched_lock(struct sched *s)
{
	uint64_t t;

	if (pthread_mutex_trylock(&s->lock)) {
		t = now_ns();
		pthread_mutex_lock(&s->lock);
		s->lock_contended++;
		s->lock_wait_ns += now_ns() - t;
	}
	s->lock_acquired++;
}

static void sched_unlock(struct sched *s)
{
	pthread_mutex_unlock(&s->lock);
}

/*
 * The grants a critical section made, carried out after the unlock: pin the
 * receiver to its slot's home CPU, then wake it. Pinned before the wake, it
 * wakes on that CPU, where the giver (the slot's previous owner) is about to
 * sleep: a same-CPU wakeup, and no thread is woken into a held mutex.
 */
struct wakes {
	unsigned int n;
	struct vcpu *v[4];
	int cpu[4];
};

/*
 * A critical section grants two slots at most (requeue_self: the slot it
 * passes on, and a free one for itself). Should that ever grow, a grant past
 * the list is woken at once, under the lock: slower, never lost.
 */
static void wakes_add(struct wakes *w, struct vcpu *v, int cpu)
{
	if (w->n == sizeof(w->v) / sizeof(w->v[0])) {
		futex_wake(&v->wake_seq);
		return;
	}
	w->v[w->n] = v;
	w->cpu[w->n++] = cpu;
}

static void pin_thread(struct vcpu *v, int tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* A failure (CPU gone, cpuset change) leaves the thread where Linux put it. */
	if (!sched_setaffinity(tid, sizeof(set), &set))
		atomic_store_explicit(&v->sched.pin_cpu, cpu, memory_order_relaxed);
}

/*
 * A halting thread drops its pin: whoever wakes it (its own LAPIC timer, an
 * IPI) should find it on any idle CPU, as Linux would place it, not stuck
 * behind the owner of its old slot's CPU. Its next grant pins it again.
 */
static void unpin_self(struct sched *s, struct vcpu *v)
{
	if (atomic_load_explicit(&v->sched.pin_cpu, memory_order_relaxed) < 0)
		return;
	if (!sched_setaffinity(0, sizeof(s->cfg.allowed), &s->cfg.allowed))
		atomic_store_explicit(&v->sched.pin_cpu, -1, memory_order_relaxed);
}

/*
 * vCPU memory lives until every vCPU thread of the process has been joined
 * (main.c destroys VMs only then), so a wake issued after the unlock never
 * touches freed memory even if its receiver already ran and ended.
 */
static void wakes_commit(struct wakes *w)
{
	unsigned int i;

	for (i = 0; i < w->n; i++) {
		struct vcpu *v = w->v[i];

		if (w->cpu[i] >= 0 &&
		    atomic_load_explicit(&v->sched.pin_cpu, memory_order_relaxed) != w->cpu[i])
			pin_thread(v, v->sched.tid, w->cpu[i]);
		futex_wake(&v->wake_seq);
	}
}

/* --- under s->lock ------------------------------------------------------ */

static void rq_push(struct sched *s, struct vcpu *v)
{
	v->sched.rq_next = NULL;
	v->sched.queued = true;
	if (s->rq_tail)
		s->rq_tail->sched.rq_next = v;
	else
		s->rq_head = v;
	s->rq_tail = v;
	if (++s->rq_len > s->rq_max)
		s->rq_max = s->rq_len;
}

static struct vcpu *rq_pop(struct sched *s)
{
	struct vcpu *v = s->rq_head;

	if (!v)
		return NULL;
	s->rq_head = v->sched.rq_next;
	if (!s->rq_head)
		s->rq_tail = NULL;
	v->sched.queued = false;
	s->rq_len--;
	return v;
}

static void rq_remove(struct sched *s, struct vcpu *v)
{
	struct vcpu **pp = &s->rq_head, *prev = NULL;

	while (*pp && *pp != v) {
		prev = *pp;
		pp = &(*pp)->sched.rq_next;
	}
	if (!*pp)
		return;
	*pp = v->sched.rq_next;
	if (s->rq_tail == v)
		s->rq_tail = prev;
	v->sched.queued = false;
	s->rq_len--;
}

/*
 * Give slot to v, which waits for one. Like KVM's sched_in, getting the CPU
 * clears preempted and ready. The bump of wake_seq makes a waiter that read
 * the old value fail its futex_wait; the wake itself is the caller's, after
 * the unlock (w).
 */
static void slot_grant(struct sched *s, struct vcpu *v, int slot, uint64_t end_ns, uint64_t now,
		       uint64_t yield_ns, enum handoff_cause cause, struct wakes *w)
{
	struct vcpu_sched *vs = &v->sched;
	struct slot_stats *ss = &s->slot[slot];

	s->owner[slot] = v;
	idle_set(s, slot, false);
	s->grants++;
	s->by_cause[cause]++;
	ss->grants++;
	ss->free_ns += now - ss->since;
	ss->since = now;
	if (!yield_ns)
		s->slot_epoch[slot] = now;
	vs->slot = slot;
	vs->slot_end_ns = end_ns;
	vs->state = SCHED_RUNNING;
	vs->preempted = false;
	vs->ready = false;
	vs->grant_ns = now;
	vs->yield_ns = yield_ns;
	vs->grant_cause = (uint8_t)cause;
	atomic_store_explicit(&vs->granted, true, memory_order_release);
	atomic_fetch_add(&v->wake_seq, 1);
	wakes_add(w, v, s->cfg.home[slot]);
}

/*
 * The owner v gives its slot up (the caller hands it on). A grant it never
 * used (it halted again, or its VM ended, before KVM_RUN) counts as unused,
 * so that every grant is either completed or unused (tests check it).
 */
static int slot_release(struct sched *s, struct vcpu *v, uint64_t now)
{
	struct vcpu_sched *vs = &v->sched;
	int slot = vs->slot;
	struct slot_stats *ss;

	if (slot < 0)
		return -1;
	ss = &s->slot[slot];
	if (atomic_exchange(&vs->granted, false) || vs->handoff_open)
		ss->unused++;
	vs->handoff_open = false;
	ss->owned_ns += now - ss->since;
	ss->since = now;
	vs->slot = -1;
	atomic_store_explicit(&vs->wp_target, NULL, memory_order_relaxed);
	s->owner[slot] = NULL;
	return slot;
}

/* v (the owner) lets its slot go: to the run-queue head with a fresh quantum, or free. */
static void slot_pass(struct sched *s, struct vcpu *v, uint64_t now, enum handoff_cause cause,
		      struct wakes *w)
{
	int slot = slot_release(s, v, now);
	struct vcpu *next;

	if (slot < 0)
		return;
	next = rq_pop(s);
	if (next) {
		slot_grant(s, next, slot, now + s->cfg.quantum_ns, now, 0, cause, w);
	} else {
		s->nr_free++;
		idle_set(s, slot, true);
	}
}

/* v becomes runnable without a slot: take a free one, or queue at the tail. */
static void make_runnable(struct sched *s, struct vcpu *v, uint64_t now, struct wakes *w)
{
	unsigned int i;

	v->sched.state = SCHED_RUNNABLE;
	v->sched.runnable_ns = now;
	if (!s->nr_free) {
		rq_push(s, v);
		return;
	}
	for (i = 0; i < s->cfg.pcpus; i++)
		if (!s->owner[i])
			break;
	s->nr_free--;
	slot_grant(s, v, (int)i, now + s->cfg.quantum_ns, now, 0, HANDOFF_FREE, w);
}

/* --- the owner thread ---------------------------------------------------- */

/*
 * Sleep until granted a slot; false if the VM ended first (sched_stop cleans
 * up). While it waits, spinners' snapshots see whether an interrupt already
 * merged into its IRR waits for delivery (the PIR alone would miss those):
 * KVM's dy_has_pending_interrupt() sees the posted-interrupt descriptor,
 * which holds them until the next entry.
 */
static bool wait_slot(struct vcpu *v)
{
	struct vcpu_sched *vs = &v->sched;
	unsigned int seq;
	uint64_t now, wait;

	for (;;) {
		seq = atomic_load(&v->wake_seq);
		if (atomic_load_explicit(&vs->granted, memory_order_acquire))
			break;
		if (vm_ended(v->vm))
			return false;
		futex_wait_until(&v->wake_seq, seq, 0);
	}
	atomic_store_explicit(&vs->granted, false, memory_order_relaxed);
	vs->handoff_open = true;
	vs->slot_started = false;
	now = now_ns();
	/* Fields below were written by the granter before its release store of granted. */
	trace_emit(&v->trace, vs->grant_ns, TR_SLOT_IN, 0, (uint16_t)vs->slot, 0);
	wait = now > vs->runnable_ns ? now - vs->runnable_ns : 0;
	vs->slot_waits++;
	vs->wait_total_ns += wait;
	if (wait > vs->wait_max_ns)
		vs->wait_max_ns = wait;
	if (v->vm->timed) {
		hist_record(&v->events.lat[EVENT_SLOT_WAIT], wait);
		if (vs->grant_cause == HANDOFF_YIELD && now > vs->yield_ns)
			hist_record(&v->events.lat[EVENT_SPIN_YIELD], now - vs->yield_ns);
	}
	if (vs->grant_cause == HANDOFF_YIELD)
		vs->yields_in++;
	return true;
}

/*
 * v was just made runnable under the lock: unlock, do our own bookkeeping,
 * only then wake the receivers of our grants (so none of it delays them),
 * and wait for a slot.
 */
static bool unlock_and_wait(struct sched *s, struct vcpu *v, struct wakes *w)
{
	bool queued = v->sched.queued;
	uint64_t since = v->sched.runnable_ns;

	sched_unlock(s);
	if (queued)
		trace_emit(&v->trace, since, TR_RUNNABLE, 0, 0, 0);
	wakes_commit(w);
	return wait_slot(v);
}

bool sched_start(struct vcpu *v)
{
	struct sched *s = sched_of(v);
	struct wakes w = { 0 };

	atomic_store(&v->sched.tid, gettid());
	if (!sched_slots(s))
		return true;
	sched_lock(s);
	make_runnable(s, v, now_ns(), &w);
	return unlock_and_wait(s, v, &w);
}

/* The owner leaves its slot without staying runnable: it halts, or its thread ends. */
static void leave_slot(struct vcpu *v, bool exiting)
{
	struct sched *s = sched_of(v);
	struct wakes w = { 0 };
	uint64_t now;
	int slot;

	if (!sched_slots(s))
		return;
	sched_lock(s);
	now = now_ns(); /* after the lock: scheduler times follow the lock order (the trace nests)
			 */
	slot = v->sched.slot;
	if (v->sched.queued)
		rq_remove(s, v);
	/* One timestamp for our SLOT_OUT and the next owner's SLOT_IN: the trace never overlaps. */
	slot_pass(s, v, now, HANDOFF_HALT, &w);
	v->sched.state = SCHED_HALTED;
	v->sched.preempted = false; /* gave the CPU up voluntarily */
	v->sched.exited = exiting;
	sched_unlock(s);
	if (slot >= 0)
		trace_emit(&v->trace, now, TR_SLOT_OUT, 0, (uint16_t)slot, 0);
	wakes_commit(&w);
	if (!exiting)
		unpin_self(s, v);
}

/* Fields 2 and 3 of schedstat: ns on a CPU, ns runnable waiting for one. */
static void host_times(struct sched *s)
{
	unsigned long long run = 0, delay = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (!f)
		return;
	if (fscanf(f, "%llu %llu", &run, &delay) == 2) {
		atomic_fetch_add(&s->host_cpu_ns, run);
		atomic_fetch_add(&s->host_delay_ns, delay);
	}
	fclose(f);
}

void sched_stop(struct vcpu *v)
{
	struct sched *s = sched_of(v);

	leave_slot(v, true);
	if (s)
		host_times(s);
}

void sched_finish(struct sched *s)
{
	unsigned int i;

	s->t_end = now_ns();
	for (i = 0; sched_slots(s) && i < s->cfg.pcpus; i++) {
		if (!s->owner[i])
			s->slot[i].free_ns += s->t_end - s->slot[i].since;
		s->slot[i].since = s->t_end;
	}
}

uint64_t sched_quantum_end(struct vcpu *v)
{
	struct vcpu_sched *vs = &v->sched;
	uint64_t wp, now;

	if (!sched_slots(sched_of(v)))
		return 0;
	/*
	 * The first time the timer is armed after a grant, just before KVM_RUN:
	 * the slot's time starts now, not at the grant, so the handoff is not
	 * charged to the receiver and a quantum shorter than a handoff still runs
	 * guest code (10 us quanta used to run none: the timer had expired).
	 */
	if (!vs->slot_started) {
		now = now_ns();
		if (now > vs->grant_ns)
			vs->slot_end_ns += now - vs->grant_ns;
		vs->slot_started = true;
	}
	wp = atomic_load_explicit(&vs->wp_target, memory_order_acquire)
		     ? atomic_load_explicit(&vs->wp_at, memory_order_relaxed)
		     : 0;
	return wp && wp < vs->slot_end_ns ? wp : vs->slot_end_ns;
}

static const enum event_key handoff_event[NR_HANDOFF_CAUSES] = {
	[HANDOFF_FREE] = EVENT_HANDOFF_FREE,	   [HANDOFF_QUANTUM] = EVENT_HANDOFF_QUANTUM,
	[HANDOFF_HALT] = EVENT_HANDOFF_HALT,	   [HANDOFF_YIELD] = EVENT_HANDOFF_YIELD,
	[HANDOFF_PREEMPT] = EVENT_HANDOFF_PREEMPT,
};

/*
 * The receiver's first entry after a grant closes the handoff: its latency,
 * and the check that it runs on the slot's home CPU. A thread found
 * elsewhere (a pin raced with an older one, or failed) moves itself now.
 */
static void handoff_done(struct sched *s, struct vcpu *v, uint64_t now)
{
	struct vcpu_sched *vs = &v->sched;
	struct slot_stats *ss = &s->slot[vs->slot];
	int home = s->cfg.home[vs->slot];
	uint64_t lat = now > vs->grant_ns ? now - vs->grant_ns : 0;

	vs->handoff_open = false;
	ss->completed++;
	ss->handoff_ns += lat;
	if (v->vm->timed) {
		hist_record(&v->events.lat[EVENT_HANDOFF], lat);
		hist_record(&v->events.lat[handoff_event[vs->grant_cause]], lat);
	}
	if (home >= 0 && sched_getcpu() != home) {
		ss->off_home++;
		pin_thread(v, 0, home);
	}
}

void sched_run_enter(struct vcpu *v, uint64_t now)
{
	struct sched *s = sched_of(v);
	unsigned int n, max;

	if (!s)
		return;
	v->sched.run_t0 = now;
	if (v->sched.handoff_open && v->sched.slot >= 0)
		handoff_done(s, v, now);
	n = atomic_fetch_add(&s->in_run, 1) + 1;
	max = atomic_load_explicit(&s->max_in_run, memory_order_relaxed);
	while (n > max &&
	       !atomic_compare_exchange_weak_explicit(&s->max_in_run, &max, n, memory_order_relaxed,
						      memory_order_relaxed))
		;
	/* The slot field is the owner's to read: only it gives a slot up. */
	if (sched_slots(s) && (n > s->cfg.pcpus || v->sched.slot < 0))
		atomic_fetch_add(&s->over_limit, 1);
}

void sched_run_leave(struct vcpu *v, uint64_t now)
{
	struct sched *s = sched_of(v);

	if (!s)
		return;
	atomic_fetch_sub(&s->in_run, 1);
	/* The owner alone adds to its slot's run time; the next owner comes after a release. */
	if (v->sched.slot >= 0)
		s->slot[v->sched.slot].run_ns += now - v->sched.run_t0;
}

/* The owner gives its slot up while staying runnable: to `to` (a yield) or the queue head. */
static bool requeue_self(struct sched *s, struct vcpu *v, uint64_t now, struct wakes *w)
{
	trace_emit(&v->trace, now, TR_SLOT_OUT, 0, (uint16_t)v->sched.slot, 0);
	v->sched.preempted = true; /* scheduled out while runnable, as KVM's sched_out sees it */
	v->sched.ready = true;
	slot_pass(s, v, now, HANDOFF_QUANTUM, w);
	make_runnable(s, v, now, w);
	return unlock_and_wait(s, v, w);
}

static void yield_slot(struct sched *s, struct vcpu *v, struct vcpu *t, uint64_t now,
		       enum handoff_cause cause, struct wakes *w);

/*
 * Wakeup preemption: the IPI receiver v woke (see sched_wake) still waits
 * for a slot; give it ours, as a host gives a woken task the CPU. True if
 * it did (the ledger counts both outcomes).
 */
static bool wake_preempt(struct sched *s, struct vcpu *v, uint64_t now, struct wakes *w)
{
	struct vcpu *t = atomic_load_explicit(&v->sched.wp_target, memory_order_relaxed);
	struct yield_ledger *l = &v->vm->vs->ledger;

	atomic_store_explicit(&v->sched.wp_target, NULL, memory_order_relaxed);
	if (t->sched.state != SCHED_RUNNABLE || !t->sched.queued) {
		l->wake_preempt_moot++;
		return false;
	}
	l->wake_preempts++;
	trace_emit(&v->trace, now, TR_YIELD, t->id, 0, 0);
	yield_slot(s, v, t, now, HANDOFF_PREEMPT, w);
	return true;
}

bool sched_tick(struct vcpu *v, uint64_t now)
{
	struct sched *s = sched_of(v);
	struct vcpu_sched *vs = &v->sched;
	struct wakes w = { 0 };

	/* sched_quantum_end: the quantum end, or an earlier wakeup-preemption deadline. */
	if (!sched_slots(s) || now < sched_quantum_end(v))
		return true;
	sched_lock(s);
	/* Now, not at the exit (that wait would count twice), and after the lock, as every grant.
	 */
	now = now_ns();
	/*
	 * Back from a slot wait or a halt that the VM's end cut short: there is
	 * no slot to preempt, and queueing a dead VM's vCPU would hand it one
	 * it only gives back (and count a preemption that never was).
	 */
	if (vs->slot < 0 || vm_ended(v->vm)) {
		sched_unlock(s);
		return true;
	}
	if (atomic_load_explicit(&vs->wp_target, memory_order_relaxed) &&
	    now >= atomic_load_explicit(&vs->wp_at, memory_order_relaxed) &&
	    wake_preempt(s, v, now, &w))
		return unlock_and_wait(s, v, &w);
	if (now < vs->slot_end_ns) {
		sched_unlock(s);
		return true;
	}
	if (!s->rq_head) {
		/* Nobody waits: a new quantum, no switch. */
		vs->slot_end_ns = now + s->cfg.quantum_ns;
		sched_unlock(s);
		return true;
	}
	vs->preemptions++;
	return requeue_self(s, v, now, &w);
}

void sched_halt_begin(struct vcpu *v)
{
	leave_slot(v, false);
}

void sched_halt_idle(struct vcpu *v)
{
	struct sched *s = sched_of(v);
	struct wakes w = { 0 };

	if (!sched_slots(s))
		return;
	sched_lock(s);
	if (v->sched.state != SCHED_HALTED) {
		/* Woken for an interrupt that turned out not deliverable: halt again. */
		if (v->sched.queued)
			rq_remove(s, v);
		slot_pass(s, v, now_ns(), HANDOFF_HALT, &w);
		v->sched.state = SCHED_HALTED;
		v->sched.ready = false;
	}
	sched_unlock(s);
	wakes_commit(&w);
}

bool sched_halt_end(struct vcpu *v)
{
	struct sched *s = sched_of(v);
	struct wakes w = { 0 };

	if (!sched_slots(s))
		return true;
	sched_lock(s);
	if (vm_ended(v->vm)) {
		sched_unlock(s);
		return false;
	}
	if (v->sched.state == SCHED_HALTED) {
		/* Woken by our own timer or before a waker got to it (seed 1: ready). */
		v->sched.ready = true;
		make_runnable(s, v, now_ns(), &w);
	}
	return unlock_and_wait(s, v, &w);
}

static void wp_set(struct vcpu *x, struct vcpu *t, uint64_t at)
{
	atomic_store_explicit(&x->sched.wp_at, at, memory_order_relaxed);
	atomic_store_explicit(&x->sched.wp_target, t, memory_order_release);
}

/*
 * t was woken and queued: the sender src (the caller's own vCPU) gives t its
 * slot if t still waits after the grace (sched_tick).
 */
static void wake_preempt_arm(struct sched *s, struct vcpu *src, struct vcpu *t, uint64_t now)
{
	if (!s->cfg.wake_preempt_ns || !src || src->vm != t->vm)
		return;
	if (src->sched.slot >= 0 &&
	    !atomic_load_explicit(&src->sched.wp_target, memory_order_relaxed))
		wp_set(src, t, now + s->cfg.wake_preempt_ns);
}

/*
 * A halted target whose thread sleeps is not woken just to find that it has
 * no slot: it is queued, and the grant wakes it. The bump of wake_seq still
 * makes a halt loop that is about to sleep look again (docs/kicks.md).
 */
bool sched_wake(struct vcpu *v, struct vcpu *src)
{
	struct sched *s = sched_of(v);
	struct wakes w = { 0 };
	uint64_t now;
	bool took = true;

	if (!sched_slots(s))
		return false;
	sched_lock(s);
	if (v->sched.exited) {
		took = false;
	} else if (v->sched.state == SCHED_HALTED) {
		now = now_ns();
		v->sched.ready = true; /* seed 1: woken for interrupt delivery */
		make_runnable(s, v, now, &w);
		if (v->sched.queued)
			wake_preempt_arm(s, src, v, now);
	}
	/* Runnable or running: an earlier waker queued it or granted it a slot. */
	atomic_fetch_add(&v->wake_seq, 1);
	sched_unlock(s);
	wakes_commit(&w);
	return took;
}

void sched_kick_halted(struct vcpu *v, struct vcpu *src)
{
	if (sched_wake(v, src))
		return;
	atomic_fetch_add(&v->wake_seq, 1);
	futex_wake(&v->wake_seq);
}

/* --- kick redirection (docs/wakeups.md) --------------------------------- */

/*
 * Reserve an idle slot: one atomic OR on the reservation word; the bit we
 * set is ours if it was clear. The sender's own slot is never idle, so the
 * helper runs on another host CPU. No lock, no syscall but the helper's wake.
 */
static int redirect_reserve(struct sched *s)
{
	unsigned int n = (s->cfg.pcpus + 63) / 64, i;

	for (i = 0; i < n; i++) {
		uint64_t free = atomic_load_explicit(&s->idle[i], memory_order_acquire) &
				~atomic_load_explicit(&s->resv[i], memory_order_relaxed);
		uint64_t bit;

		while (free) {
			bit = free & -free;
			if (!(atomic_fetch_or(&s->resv[i], bit) & bit))
				return (int)(i * 64 + (unsigned int)__builtin_ctzll(bit));
			free &= ~bit;
		}
	}
	return -1;
}

bool sched_redirect(struct vcpu *v, struct vcpu *src)
{
	struct sched *s = sched_of(v);
	int slot;

	if (!s || !s->redirect)
		return false;
	slot = redirect_reserve(s);
	if (slot < 0) {
		atomic_fetch_add_explicit(&v->wake_redirect.counts->inline_, 1,
					  memory_order_relaxed);
		return false;
	}
	waker_post(&s->redirect[slot], &v->wake_redirect, src);
	return true;
}

int sched_redirect_start(struct sched *s)
{
	unsigned int i;
	int e;

	if (!sched_slots(s) || !s->cfg.kick_redirect)
		return 0;
	s->redirect = calloc(s->cfg.pcpus, sizeof(*s->redirect));
	if (!s->redirect)
		return ENOMEM;
	for (i = 0; i < s->cfg.pcpus; i++) {
		s->redirect[i].resv_word = &s->resv[i / 64];
		s->redirect[i].resv_bit = 1ull << (i % 64);
		s->redirect[i].idle_word = &s->idle[i / 64];
		s->redirect[i].idle_bit = 1ull << (i % 64);
		s->redirect[i].poll_ns = s->cfg.redirect_poll_ns;
		e = waker_start(&s->redirect[i], s->cfg.home[i], NULL, 0);
		if (e) {
			sched_redirect_stop(s);
			return e;
		}
	}
	return 0;
}

void sched_redirect_stop(struct sched *s)
{
	unsigned int i;

	if (!s->redirect)
		return;
	for (i = 0; i < s->cfg.pcpus; i++)
		waker_stop(&s->redirect[i]);
	free(s->redirect);
	s->redirect = NULL;
}

/* --- spin exits ---------------------------------------------------------- */

static void snapshot(struct sched *s, struct vcpu *me, struct policy_snapshot *snap, uint64_t now)
{
	struct vm *vm = me->vm;
	unsigned int i;

	snap->nr = vm->nr_vcpus;
	snap->me = me->id;
	snap->last_boosted = vm->vs->last_boosted;
	snap->now_ns = now;
	snap->ipi_window_ns = s->cfg.ipi_window_ns;
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *t = vm->vcpu[i];
		struct policy_vcpu *p = &snap->v[i];

		p->state = t->sched.state;
		p->preempted = t->sched.preempted;
		p->ready = t->sched.ready;
		p->in_spin_loop = atomic_load(&t->sched.in_spin_loop);
		p->dy_eligible = t->sched.dy_eligible;
		p->pending_intr = !t->sched.exited && apic_pending(&t->apic);
		p->ipi_from_me_ns = vm->ipi_track ? ipi_track_sent_ns(vm->ipi_track, me->id, i) : 0;
	}
}

/* A->B now, B->A within one quantum before: the two keep handing the slot back and forth. */
static void ledger_success(struct sched *s, struct yield_ledger *l, unsigned int from,
			   unsigned int to, int tier, uint64_t now)
{
	l->successes++;
	l->pair_successes[from][to]++;
	/* Only ipi-aware has tiers; the others report every pick as tier 1. */
	if (s->track_ipis && tier > 0 && tier < 4)
		l->tiers[tier]++;
	if (l->last_to[to] == (int)from && now - l->last_ns[to] <= s->cfg.quantum_ns) {
		l->ping_pong++;
		l->pair_ping_pong[from][to]++;
	}
	l->last_to[from] = (int)to;
	l->last_ns[from] = now;
}

static void ledger_pick(struct yield_ledger *l, unsigned int me, const struct policy_pick *pk)
{
	uint64_t m = pk->failed_mask;

	l->spins++;
	l->attempts += pk->tries;
	while (m) {
		l->pair_attempts[me][__builtin_ctzll(m)]++;
		m &= m - 1;
	}
	if (pk->target >= 0)
		l->pair_attempts[me][pk->target]++;
	else
		l->no_candidate++;
}

/*
 * The quantum a yield target gets: at least half a quantum, so the yield is
 * worth the switch (CFS's yield_to also lets the target run a real slice),
 * but never past two quanta since the slot last came from the run queue, so
 * a chain of yields cannot keep the queue head waiting without bound.
 */
static uint64_t yield_end(const struct sched *s, int slot, uint64_t inherited, uint64_t now)
{
	uint64_t end = inherited, cap = s->slot_epoch[slot] + 2 * s->cfg.quantum_ns;

	if (end < now + s->cfg.quantum_ns / 2)
		end = now + s->cfg.quantum_ns / 2;
	return end < cap ? end : cap;
}

/*
 * yield_to under the lock: the spinner v hands its slot straight to t (for
 * yield_end's time) and queues itself, preempted and ready as KVM's
 * sched_out would see it.
 */
static void yield_slot(struct sched *s, struct vcpu *v, struct vcpu *t, uint64_t now,
		       enum handoff_cause cause, struct wakes *w)
{
	uint64_t end = v->sched.slot_end_ns;
	int slot = slot_release(s, v, now);

	rq_remove(s, t);
	slot_grant(s, t, slot, yield_end(s, slot, end, now), now, now, cause, w);
	v->sched.preempted = true;
	v->sched.ready = true;
	v->sched.state = SCHED_RUNNABLE;
	v->sched.runnable_ns = now;
	v->sched.yields_out += cause == HANDOFF_YIELD;
	rq_push(s, v);
	trace_emit(&v->trace, now, TR_SLOT_OUT, 0, (uint16_t)slot, 0);
}

static void ledger_yield(struct sched *s, struct vcpu *v, struct vcpu *t,
			 const struct policy_pick *pk, uint64_t now)
{
	struct yield_ledger *l = &v->vm->vs->ledger;

	ledger_success(s, l, v->id, t->id, pk->tier, now);
	if (t->sched.preempted)
		l->to_preempted++;
	else if (t->sched.ready)
		l->to_woken++;
}

bool sched_on_spin(struct vcpu *v)
{
	struct sched *s = sched_of(v);
	struct vm *vm = v->vm;
	struct policy_snapshot snap;
	struct policy_pick pk;
	struct wakes w = { 0 };
	struct vcpu *t;
	uint64_t now, m;

	if (!sched_slots(s)) {
		if (!s)
			return true;
		/* --sched host: the ledger still counts spin exits, so host runs compare. */
		sched_lock(s);
		vm->vs->ledger.spins++;
		sched_unlock(s);
		sched_yield();
		return true;
	}
	atomic_store(&v->sched.in_spin_loop, true);
	sched_lock(s);
	now = now_ns();
	snapshot(s, v, &snap, now);
	policy_on_spin(s->cfg.policy, &snap, &pk);
	for (m = pk.dy_flip; m; m &= m - 1) {
		t = vm->vcpu[__builtin_ctzll(m)];
		t->sched.dy_eligible = !t->sched.dy_eligible;
	}
	v->sched.dy_eligible = false; /* not eligible during its next spin loop */
	atomic_store(&v->sched.in_spin_loop, false);
	ledger_pick(&vm->vs->ledger, v->id, &pk);
	/* The snapshot was taken under this lock: a pick is still runnable and queued. */
	t = pk.target >= 0 ? vm->vcpu[pk.target] : NULL;
	if (!t || t->sched.state != SCHED_RUNNABLE || !t->sched.queued) {
		sched_unlock(s);
		return true;
	}
	vm->vs->last_boosted = pk.last_boosted;
	ledger_yield(s, v, t, &pk, now);
	trace_emit(&v->trace, now, TR_YIELD, t->id, 0, (uint8_t)pk.tier);
	yield_slot(s, v, t, now, HANDOFF_YIELD, &w);
	return unlock_and_wait(s, v, &w);
}

static const char *const state_names[] = { "running", "runnable", "halted" };
static const char *const mode_names[] = { "outside", "in-guest", "halted" };

static long long rel_us(uint64_t t, uint64_t now)
{
	return t ? ((long long)t - (long long)now) / 1000 : 0;
}

/*
 * A VM that made no progress until its timeout: what each vCPU looked like,
 * so that a lost wakeup or a slot nobody gives back can be told apart.
 * Scheduler fields under the lock; the rest are published atomics.
 */
void sched_dump_vm(FILE *out, struct vm *vm)
{
	struct sched *s = vm->sched;
	uint64_t now = now_ns();
	unsigned int i;

	if (s)
		sched_lock(s);
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpu[i];
		struct vcpu_sched *vs = &v->sched;

		fprintf(out,
			"vmm: %s vCPU %u: %s, %s%s%s%s, slot %d, granted %d, wake_seq %u, "
			"cpu %d, timer %+lldus, quantum end %+lldus, pir_on %d, irr_pending %d, "
			"nmi %u\n",
			vm->name, i, mode_names[atomic_load(&v->mode) % 3],
			state_names[vs->state % 3], vs->queued ? " queued" : "",
			vs->preempted ? " preempted" : "", vs->ready ? " ready" : "", vs->slot,
			atomic_load(&vs->granted), atomic_load(&v->wake_seq),
			atomic_load(&vs->pin_cpu), rel_us(atomic_load(&v->timer.armed_ns), now),
			rel_us(vs->slot_end_ns, now), atomic_load(&v->apic.pir_on),
			atomic_load(&v->apic.irr_pending), atomic_load(&v->apic.nmi_pending));
	}
	if (s)
		sched_unlock(s);
}

void sched_view_vm(struct vm *vm, struct sched_view *out)
{
	struct sched *s = vm->sched;
	unsigned int i;

	if (s)
		sched_lock(s);
	for (i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu_sched *vs = &vm->vcpu[i]->sched;

		out[i] = (struct sched_view){ .state = vs->state,
					      .queued = vs->queued,
					      .exited = vs->exited,
					      .slot = vs->slot,
					      .tid = atomic_load(&vs->tid) };
	}
	if (s)
		sched_unlock(s);
}
