// SPDX-License-Identifier: MIT
/*
 * The wake helper thread (waker.h, docs/wakeups.md).
 *
 * Lost-wake argument. A poster enqueues, then bumps seq and wakes the
 * helper's futex; the helper reads seq before it looks at the queue and the
 * timers, and sleeps only while seq is unchanged. A request enqueued after
 * the helper looked was bumped after the helper read seq: its futex_wait
 * returns at once. A vCPU arming a timer stores its deadline, then reads the
 * helper's sleep_until (both seq_cst); the helper stores sleep_until, then
 * scans the deadlines again: one of the two sees the other, so either the
 * helper finds the new deadline or the vCPU wakes it to find it.
 */
#include "sched/waker.h"

#include "clock.h"
#include "futex.h"
#include "sched/scheduler.h"
#include "vcpu.h"
#include "vm.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

void wake_req_init(struct wake_req *r, struct vcpu *v, struct wake_counts *c, atomic_int *inflight)
{
	cds_wfcq_node_init(&r->node);
	atomic_init(&r->queued, false);
	atomic_init(&r->src, NULL);
	atomic_init(&r->timer_at, 0);
	r->v = v;
	r->counts = c;
	r->inflight = inflight;
}

static void waker_nudge(struct waker *w)
{
	atomic_fetch_add(&w->seq, 1);
	futex_wake(&w->seq);
}

static void resv_release(struct waker *w)
{
	if (w->resv_word)
		atomic_fetch_and(w->resv_word, ~w->resv_bit);
}

void waker_post(struct waker *w, struct wake_req *r, struct vcpu *src)
{
	atomic_store_explicit(&r->src, src, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->counts->posted, 1, memory_order_relaxed);
	/* The release pairs with the helper's acquire exchange: it sees src. */
	if (atomic_exchange_explicit(&r->queued, true, memory_order_acq_rel)) {
		atomic_fetch_add_explicit(&r->counts->merged, 1, memory_order_relaxed);
		resv_release(w);
		return;
	}
	if (r->inflight)
		atomic_fetch_add(r->inflight, 1);
	/* Ours alone now; its next still points where it was when last dequeued. */
	cds_wfcq_node_init(&r->node);
	cds_wfcq_enqueue(&w->head, &w->tail, &r->node);
	/*
	 * A polling helper sees the node without a wake. It clears polling
	 * (seq_cst) before it looks at the queue a last time and sleeps: if
	 * our load saw polling set, that look comes after our enqueue.
	 */
	atomic_fetch_add(&w->seq, 1);
	if (!atomic_load(&w->polling))
		futex_wake(&w->seq);
}

/*
 * One request. The vCPU may be awake by now (its own timer, another waker):
 * the wake is then a harmless extra look, as for any racing sender. The
 * decrement of inflight is the last touch of the VM's memory: vm_join waits
 * for it before anything is freed.
 */
static void deliver(struct waker *w, struct wake_req *r, bool polled)
{
	struct vcpu *v = r->v;
	struct wake_counts *c = r->counts;
	atomic_int *inflight = r->inflight;
	struct vcpu *src;

	atomic_exchange_explicit(&r->queued, false, memory_order_acq_rel);
	src = atomic_load_explicit(&r->src, memory_order_relaxed);
	if (vm_ended(v->vm)) {
		atomic_fetch_add_explicit(&c->dropped, 1, memory_order_relaxed);
	} else {
		sched_kick_halted(v, src);
		atomic_fetch_add_explicit(&c->done, 1, memory_order_relaxed);
		if (polled)
			atomic_fetch_add_explicit(&c->polled, 1, memory_order_relaxed);
	}
	resv_release(w);
	if (inflight)
		atomic_fetch_sub(inflight, 1);
}

static bool drain(struct waker *w, bool polled)
{
	struct cds_wfcq_node *n;
	bool any = false;

	/* One dequeuer (this thread, or waker_stop after the join): no dequeue lock needed. */
	while ((n = __cds_wfcq_dequeue_blocking(&w->head, &w->tail))) {
		deliver(w, caa_container_of(n, struct wake_req, node), polled);
		any = true;
	}
	return any;
}

static bool slot_idle(const struct waker *w)
{
	return atomic_load_explicit(w->idle_word, memory_order_relaxed) & w->idle_bit;
}

/*
 * Poll the queue for poll_ns while the slot stays idle: nobody else needs
 * this CPU then. Stops when a vCPU gets the slot (it would share the CPU
 * with us) or at stop. True if a request came, which is then drained here.
 */
static bool poll_queue(struct waker *w)
{
	uint64_t end = now_ns() + w->poll_ns;
	bool got = false;

	atomic_store(&w->polling, true);
	while (!atomic_load(&w->stop) && slot_idle(w) && now_ns() < end) {
		if (!cds_wfcq_empty(&w->head, &w->tail)) {
			got = true;
			break;
		}
		sched_yield(); /* other host threads first, as KVM's poll loops do */
	}
	atomic_store(&w->polling, false);
	if (got)
		drain(w, true);
	return got;
}

/* Fire the due timers; the earliest deadline still ahead, UINT64_MAX if none. */
static uint64_t fire_timers(struct waker *w)
{
	uint64_t next = UINT64_MAX, now = now_ns(), t;
	unsigned int i;

	for (i = 0; i < w->nr_vcpus; i++) {
		struct vcpu *v = w->vcpus[i];
		struct wake_req *r = &v->wake_deferred;

		t = atomic_load(&r->timer_at);
		if (!t)
			continue;
		if (t > now) {
			next = t < next ? t : next;
			continue;
		}
		/* The vCPU may disarm at the same moment: whoever clears it owns it. */
		if (!atomic_compare_exchange_strong(&r->timer_at, &t, 0))
			continue;
		atomic_fetch_add_explicit(&r->counts->timers, 1, memory_order_relaxed);
		atomic_fetch_add(&v->wake_seq, 1);
		futex_wake(&v->wake_seq);
	}
	return next;
}

static void pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* A failure leaves the helper where Linux put it: slower, still correct. */
	(void)sched_setaffinity(0, sizeof(set), &set);
}

static void *waker_main(void *arg)
{
	struct waker *w = arg;
	uint64_t next;
	unsigned int seq;

	pin_self(w->cpu);
	for (;;) {
		seq = atomic_load(&w->seq);
		if (atomic_load(&w->stop))
			break;
		if (drain(w, false) && w->poll_ns)
			while (poll_queue(w))
				;
		next = fire_timers(w);
		atomic_store(&w->sleep_until, next);
		if (fire_timers(w) < next || !cds_wfcq_empty(&w->head, &w->tail))
			continue;
		futex_wait_until(&w->seq, seq, next == UINT64_MAX ? 0 : next);
	}
	return NULL;
}

int waker_start(struct waker *w, int cpu, struct vcpu *const *vcpus, unsigned int n)
{
	int e;

	cds_wfcq_init(&w->head, &w->tail);
	atomic_init(&w->seq, 0);
	atomic_init(&w->stop, false);
	atomic_init(&w->sleep_until, UINT64_MAX);
	atomic_init(&w->polling, false);
	w->cpu = cpu;
	w->vcpus = vcpus;
	w->nr_vcpus = vcpus ? n : 0;
	e = pthread_create(&w->thread, NULL, waker_main, w);
	w->started = !e;
	return e;
}

void waker_stop(struct waker *w)
{
	if (!w->started)
		return;
	atomic_store(&w->stop, true);
	waker_nudge(w);
	pthread_join(w->thread, NULL);
	w->started = false;
	drain(w, false);
	cds_wfcq_destroy(&w->head, &w->tail);
}

void waker_arm(struct waker *w, struct wake_req *r, uint64_t deadline)
{
	atomic_store(&r->timer_at, deadline);
	if (deadline < atomic_load(&w->sleep_until))
		waker_nudge(w);
}

void waker_disarm(struct wake_req *r)
{
	atomic_store(&r->timer_at, 0);
}
