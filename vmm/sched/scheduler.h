/* SPDX-License-Identifier: MIT */
/*
 * The vCPU scheduler (docs/scheduler.md): P pCPU slots shared by every VM of
 * the process. A vCPU thread runs guest code only while it owns a slot; the
 * others sleep on their futex. Slots pass by futex handoff: at quantum
 * expiry to the run-queue head, on HLT to the head, on a spin exit straight
 * to the vCPU the policy picked (yield_to). With --sched=host there are no
 * slots: threads run free under Linux and a spin exit calls sched_yield().
 *
 * One mutex guards the run queue, slot owners and the scheduling state of
 * every vCPU; it is taken on slot changes, halts, wakeups of halted vCPUs and
 * spin exits, never on the plain exit path. Nothing that wakes or moves a
 * thread happens under it: a critical section collects the grants it made,
 * and the caller pins each receiver to its slot's home CPU and wakes it after
 * the unlock (docs/kicks.md).
 */
#ifndef VMM_SCHEDULER_H
#define VMM_SCHEDULER_H

#include "sched/policy.h"
#include "sched/waker.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct vcpu;
struct vm;

#define SCHED_MAX_SLOTS	      256u
#define SCHED_DEFAULT_QUANTUM (5 * 1000000ull) /* ns; see docs/scheduler.md */
/* ns: below this a slot ran no guest code here (10 us: none in 30 s; 20 us: slow) */
#define SCHED_MIN_QUANTUM	 (50 * 1000ull)
#define SCHED_DEFAULT_IPI_WINDOW (50 * 1000000ull) /* ns, as in seed 2 */
/* ns: longer than a PLE window, so a spinner's directed yield decides first (docs/scheduler.md) */
#define SCHED_DEFAULT_WAKE_PREEMPT     (1000000ull)
#define SCHED_DEFAULT_WAKE_PREEMPT_STR "1ms"

/* Why a slot changed hands: each has its event:handoff-* latency. */
enum handoff_cause {
	HANDOFF_FREE,	 /* a free slot, taken by a vCPU that became runnable */
	HANDOFF_QUANTUM, /* the owner's quantum expired: to the run-queue head */
	HANDOFF_HALT,	 /* the owner halted or its thread ended: to the head */
	HANDOFF_YIELD,	 /* a spinner's directed yield */
	HANDOFF_PREEMPT, /* wakeup preemption: an IPI sender's slot to its waiting receiver */
	NR_HANDOFF_CAUSES
};

enum sched_mode { SCHED_MODE_SLOTS, SCHED_MODE_HOST };

struct sched_config {
	enum sched_mode mode;
	unsigned int pcpus;
	uint64_t quantum_ns;
	const struct policy *policy;
	uint64_t ipi_window_ns;
	uint64_t wake_preempt_ns;  /* 0: off */
	int home[SCHED_MAX_SLOTS]; /* host CPU of each slot, -1: none (Linux places the thread) */
	cpu_set_t allowed;	   /* where a thread without a slot may run (halted: anywhere) */
	bool kick_redirect;	   /* --kick-redirect on: wakes of halted vCPUs to idle slots */
	uint64_t redirect_poll_ns; /* --kick-redirect poll: an idle slot's helper polls this long */
};

/*
 * One slot's time, for its busy share: owned_ns + free_ns is the wall time;
 * of owned_ns, run_ns was inside KVM_RUN and handoff_ns between a grant and
 * the receiver's KVM_RUN. Grant and release fields under the lock; run_ns,
 * handoff_ns, completed and off_home by the owner of the moment.
 */
struct slot_stats {
	_Alignas(64) uint64_t since; /* last grant or release */
	uint64_t grants;
	uint64_t completed; /* grants whose receiver reached KVM_RUN */
	uint64_t unused;    /* grants given back before KVM_RUN (halt with no work, VM end) */
	uint64_t off_home;  /* receivers that found themselves off the home CPU and moved */
	uint64_t owned_ns, free_ns, run_ns, handoff_ns;
};

struct sched {
	struct sched_config cfg;
	bool track_ipis; /* the policy reads the APIC's ipi_track */
	pthread_mutex_t lock;
	unsigned int nr_free;
	struct vcpu *owner[SCHED_MAX_SLOTS];
	uint64_t slot_epoch[SCHED_MAX_SLOTS]; /* when the slot last came from the queue or free */
	struct vcpu *rq_head, *rq_tail;	      /* FIFO of vCPUs waiting for a slot */
	atomic_uint rq_len; /* written under the lock; halt polling reads it without */
	/* Debug counters the tests read: threads inside KVM_RUN right now, at most, over P. */
	_Alignas(64) atomic_uint in_run; /* every entry and exit touches it: own cache line */
	atomic_uint max_in_run;
	_Atomic uint64_t over_limit; /* entries that made in_run > P, or entries without a slot */
	uint64_t rq_max;	     /* longest run queue seen */
	uint64_t grants;	     /* slots handed over (queue head, free slot or yield) */
	uint64_t by_cause[NR_HANDOFF_CAUSES];
	/* The mutex itself: is it contended? (docs/scheduler.md) */
	uint64_t lock_acquired, lock_contended, lock_wait_ns;
	/* Host view of the vCPU threads (schedstat, at thread exit): on a CPU, waiting for one. */
	_Atomic uint64_t host_cpu_ns, host_delay_ns;
	uint64_t t0, t_end;
	struct slot_stats slot[SCHED_MAX_SLOTS];
	/*
	 * Kick redirection (docs/wakeups.md): a bit per slot that holds no vCPU,
	 * written under the lock, read by senders without it; a sender reserves
	 * an idle slot's bit in resv with one atomic OR, its helper clears it.
	 */
	_Atomic uint64_t idle[SCHED_MAX_SLOTS / 64];
	_Atomic uint64_t resv[SCHED_MAX_SLOTS / 64];
	struct waker *redirect; /* one helper per slot, or NULL */
};

/* Per vCPU. Under sched->lock unless marked otherwise. */
struct vcpu_sched {
	uint8_t state; /* enum sched_state */
	bool preempted;
	bool ready;
	bool dy_eligible;
	bool queued;
	bool exited;
	atomic_bool in_spin_loop; /* written by the owner, read by spinners' snapshots */
	atomic_bool granted;	  /* a slot was handed to the owner while it waited */
	atomic_int pin_cpu;	  /* the CPU its affinity was last set to, -1: none */
	atomic_int tid;		  /* set by the owner first thing (the watchdog reads it) */
	uint8_t grant_cause;	  /* enum handoff_cause of the slot it holds */
	bool handoff_open;	  /* owner: saw the grant, not yet in KVM_RUN */
	bool slot_started;	  /* owner: the slot's quantum was started at the first entry */
	int slot;		  /* -1: none */
	struct vcpu *rq_next;
	_Atomic uint64_t
		slot_end_ns;  /* quantum expiry of the slot held (the state dump reads it) */
	uint64_t runnable_ns; /* when it last became runnable without a slot */
	uint64_t grant_ns;    /* when the slot it waits for was handed to it */
	uint64_t yield_ns;    /* that handoff was a directed yield made at this time; 0 = not */
	uint64_t run_t0;      /* owner: this KVM_RUN began */
	/* Wakeup preemption: give our slot to this woken vCPU at wp_at if it still waits. Set
	 * under the lock; atomic so that the state dump may read it. */
	struct vcpu *_Atomic wp_target;
	_Atomic uint64_t wp_at;
	/* Owner only, for the report. */
	uint64_t preemptions; /* slot lost at quantum expiry to a waiter */
	uint64_t slot_waits;
	uint64_t wait_max_ns;
	uint64_t wait_total_ns;
	uint64_t yields_out, yields_in;
};

/* The directed-yield ledger of one VM. Under sched->lock. */
struct yield_ledger {
	uint64_t spins;	       /* spin exits the policy was asked about */
	uint64_t attempts;     /* yield_to() calls */
	uint64_t successes;    /* of those, slot handed over */
	uint64_t no_candidate; /* spin exits that found nobody to yield to */
	uint64_t ping_pong;    /* A->B then B->A within one quantum */
	uint32_t pair_attempts[VMM_MAX_VCPUS][VMM_MAX_VCPUS]; /* [from][to] */
	uint32_t pair_successes[VMM_MAX_VCPUS][VMM_MAX_VCPUS];
	uint32_t pair_ping_pong[VMM_MAX_VCPUS][VMM_MAX_VCPUS]; /* counted on the return leg */
	int last_to[VMM_MAX_VCPUS];			       /* last successful target, -1 */
	uint64_t last_ns[VMM_MAX_VCPUS];
	uint64_t tiers[4];	/* successes by tier (ipi-aware), [0] unused */
	uint64_t to_preempted;	/* successes whose target had been preempted */
	uint64_t to_woken;	/* successes whose target was only woken (ready, not preempted) */
	uint64_t wake_preempts; /* slots given to a woken IPI receiver still waiting */
	uint64_t wake_preempt_moot; /* the receiver had a slot by then */
};

/* Per VM. */
struct vm_sched {
	int last_boosted; /* KVM's kvm->last_boosted_vcpu; under sched->lock */
	struct yield_ledger ledger;
};

int sched_init(struct sched *s, const struct sched_config *cfg);
void sched_destroy(struct sched *s);
static inline bool sched_slots(const struct sched *s)
{
	return s && s->cfg.mode == SCHED_MODE_SLOTS;
}

struct vm_sched *sched_vm_new(void);
void sched_vm_free(struct vm_sched *vs);
void sched_vcpu_init(struct vcpu_sched *vs);

/*
 * The vCPU thread's side. The ones returning bool block until the vCPU owns
 * a slot again; false means its VM ended meanwhile (the caller just leaves).
 */
bool sched_start(struct vcpu *v);
void sched_stop(struct vcpu *v);
/* After every exit: at quantum expiry, hand the slot to a waiter if there is one. */
bool sched_tick(struct vcpu *v, uint64_t now);
/* When the host timer must fire for the quantum or a wakeup preemption (0 = never). */
uint64_t sched_quantum_end(struct vcpu *v);
/* Around KVM_RUN (now = the entry / exit time): at-most-P, handoff latency, slot time. */
void sched_run_enter(struct vcpu *v, uint64_t now);
void sched_run_leave(struct vcpu *v, uint64_t now);
/* Main thread, when vm timed out: every vCPU's scheduler and published APIC state, one line each.
 */
void sched_dump_vm(FILE *out, struct vm *vm);

/* A vCPU's scheduler state as the watchdog reads it. */
struct sched_view {
	uint8_t state; /* enum sched_state */
	bool queued;
	bool exited;
	int slot;
	int tid; /* 0 until the thread started */
};

/* Every vCPU of vm, read under the lock in one go. */
void sched_view_vm(struct vm *vm, struct sched_view *out);
/* Main thread, after every vCPU thread ended: close the slots' books. */
void sched_finish(struct sched *s);

/* HLT: give the slot away; while sleeping, undo a wake that found no work; get a slot back. */
void sched_halt_begin(struct vcpu *v);
void sched_halt_idle(struct vcpu *v);
bool sched_halt_end(struct vcpu *v);
/* Spin notification: ask the policy, maybe yield the slot to its pick. */
bool sched_on_spin(struct vcpu *v);

/*
 * Any thread (src: the sender, or NULL): an interrupt was posted to v, whose
 * mode is halted. Make it runnable (ready) and queue it or give it a free
 * slot. True if the scheduler owns the wake (the grant wakes the thread);
 * false: the caller must bump wake_seq and wake it itself.
 */
bool sched_wake(struct vcpu *v, struct vcpu *src);
/* Any thread: wake v, halted, as an IPI sender does (sched_wake, or its futex). */
void sched_kick_halted(struct vcpu *v, struct vcpu *src);
/*
 * --kick-redirect on, an IPI sender: reserve an idle slot and hand the wake
 * of v to its helper. Lock-free; false if no slot was idle (wake inline).
 */
bool sched_redirect(struct vcpu *v, struct vcpu *src);
/* Any thread: does a vCPU wait for a slot? (A halt poller must not keep one then.) */
static inline bool sched_has_waiters(struct sched *s)
{
	return sched_slots(s) && atomic_load_explicit(&s->rq_len, memory_order_relaxed) > 0;
}
/* Start / stop the slots' redirect helpers (cfg.kick_redirect). 0 or an errno. */
int sched_redirect_start(struct sched *s);
void sched_redirect_stop(struct sched *s);

#endif
