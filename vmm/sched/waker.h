/* SPDX-License-Identifier: MIT */
/*
 * A wake helper (docs/wakeups.md): a host thread that wakes halted vCPUs on
 * behalf of others. Requests reach it through a wait-free queue (liburcu's
 * wfcqueue): a poster never takes a lock and never waits for the helper.
 *
 * Two users: --wake deferred gives each VM one helper that also owns the
 * VM's halted LAPIC timers (seed 3's timer -> softirq -> vCPU path), and
 * --kick-redirect on gives each pCPU slot one, pinned to the slot's home CPU,
 * that an IPI sender hands its wake to when that slot is idle (seed 4).
 */
#ifndef VMM_WAKER_H
#define VMM_WAKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <urcu/wfcqueue.h>

struct vcpu;

/*
 * Counts of one path, per VM, updated by posters and helpers. Once every
 * helper is stopped: posted = merged + done + dropped.
 */
struct wake_counts {
	_Atomic uint64_t posted;  /* wake requests given to a helper */
	_Atomic uint64_t merged;  /* found their vCPU already queued: one wake serves both */
	_Atomic uint64_t done;	  /* taken by a helper and carried out */
	_Atomic uint64_t dropped; /* taken after the vCPU's VM ended: nobody to wake */
	_Atomic uint64_t timers;  /* halted LAPIC timers the helper fired (deferred) */
	_Atomic uint64_t inline_; /* redirect: no idle slot, the sender woke the vCPU itself */
	_Atomic uint64_t polled;  /* redirect poll: taken by a polling helper, no futex wake */
};

/*
 * A vCPU's place in a helper's queue, embedded in the vCPU so that posting
 * never allocates. While queued it stays queued: a second post merges.
 */
struct wake_req {
	struct cds_wfcq_node node;
	atomic_bool queued;
	struct vcpu *_Atomic src; /* last poster's vCPU (NULL: not a vCPU) */
	struct vcpu *v;
	struct wake_counts *counts;
	_Atomic uint64_t timer_at; /* deferred: wake v then (ns), 0: no timer armed */
	atomic_int *inflight;	   /* redirect: the VM's requests not yet finished */
};

struct waker {
	struct cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	atomic_uint seq; /* futex word of the helper: bumped by every post */
	atomic_bool stop;
	int cpu; /* home CPU, -1: none */
	pthread_t thread;
	bool started;
	/* Deferred: the vCPUs whose halted timers this helper fires. */
	struct vcpu *const *vcpus;
	unsigned int nr_vcpus;
	_Atomic uint64_t sleep_until; /* the helper's own timeout (UINT64_MAX: none) */
	/* Redirect: the slot's bit in the scheduler's reservation mask, released per request. */
	_Atomic uint64_t *resv_word;
	uint64_t resv_bit;
	/*
	 * --kick-redirect poll: after each round of work the helper polls its
	 * queue for poll_ns while its slot stays idle (the slot's bit in
	 * idle_word), as an idle core that polls; a poster then skips the wake.
	 */
	uint64_t poll_ns;
	_Atomic uint64_t *idle_word;
	uint64_t idle_bit;
	atomic_bool polling;
};

void wake_req_init(struct wake_req *r, struct vcpu *v, struct wake_counts *c, atomic_int *inflight);
/* Start the helper thread (pinned to cpu unless -1); 0 or an errno. vcpus may be NULL. */
int waker_start(struct waker *w, int cpu, struct vcpu *const *vcpus, unsigned int n);
/* Stop and join the helper; requests still queued are carried out or dropped, and counted. */
void waker_stop(struct waker *w);
/*
 * Any thread: have the helper wake r's halted vCPU. Never blocks. A post
 * that merges into one already queued releases w's reservation at once.
 */
void waker_post(struct waker *w, struct wake_req *r, struct vcpu *src);
/* The vCPU itself, before sleeping in HLT: the helper wakes it at deadline (ns). */
void waker_arm(struct waker *w, struct wake_req *r, uint64_t deadline);
/* ... and after: the timer is its own again. */
void waker_disarm(struct wake_req *r);

#endif
