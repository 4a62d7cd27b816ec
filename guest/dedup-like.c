/* SPDX-License-Identifier: MIT */
/*
 * PARSEC dedup's pattern, a workload of seed 2 (IPI-aware directed yield):
 * a pipeline of `stages` stages (chunk -> hash -> compress -> write), one
 * vCPU per stage, joined by bounded queues under ticket spinlocks. The
 * vCPUs form nr / stages independent lanes, one stream of items each; spare
 * vCPUs only wait for the end. The hash stage looks every chunk's
 * fingerprint up in one table shared by all lanes, under one more spinlock,
 * and the compress stage skips the work for duplicates, as dedup does.
 *
 * A stage that finds its input queue empty (or its output queue full) says
 * so under the queue's lock and halts; the other side, under the same lock,
 * takes the announcement and wakes it with one single-target fixed IPI
 * after unlocking: a guest's futex wake becoming a reschedule IPI. The
 * sleeper runs `sti; hlt` with interrupts still off since the lock, so an
 * IPI sent in between waits in the STI shadow and ends the hlt. Many short
 * lock holds (spin notifications every `ple` PAUSEs while the holder is
 * away) and many IPIs to halted vCPUs: what seed 2 gains most on.
 *
 * Args: items=N items per stream (default 600), stages=N (2..8, default 4,
 * at most the vCPUs), depth=N queue slots (1..64, default 4), work=N work
 * iterations per stage and item (default 300), dup_every=N (every Nth
 * item repeats the previous one's chunk; default 4, 0 = never), ple=N (read
 * by the spinlock, default 64). At least 2 vCPUs.
 * Result "dedup-like": vcpus, lanes, stages, items, ops (items written, in
 * order, checked = lanes * items), cycles (guest TSC from the start barrier
 * until the last vCPU is done), dups (checked = lanes * (items / dup_every)),
 * ipis (wake IPIs the stages sent; the VMM's ipi_sent for the VM must be
 * ipis + vcpus - 1, the done IPIs to vCPU 0), sleeps (stage halts),
 * spin_notifies, then depth, work, dup_every, ple. A lost, repeated or
 * reordered item or a wrong dup count fails the VM with GUEST_STATUS_BUG.
 */
#include "guest.h"

#include "apic.h"
#include "spinlock.h"

#define WAKE_VECTOR 0x43
#define DONE_VECTOR 0x44
#define MAX_DEPTH   64
#define MAX_STAGES  8
#define TABLE_SIZE  8192 /* fingerprint slots, a power of two */

/* An item: stream in 63:48, sequence number in 47:1, "duplicate" in bit 0. */
#define ITEM(stream, seq) (((uint64_t)(stream) << 48) | ((uint64_t)(seq) << 1))
#define ITEM_STREAM(v)	  ((unsigned int)((v) >> 48))
#define ITEM_SEQ(v)	  (((v) >> 1) & ((1ull << 47) - 1))
#define ITEM_DUP	  1ull

struct queue {
	struct spinlock lock;
	uint64_t head, tail; /* under lock */
	uint64_t slot[MAX_DEPTH];
	bool prod_sleeping, cons_sleeping; /* under lock */
} __attribute__((aligned(64)));

struct dedup_cpu {
	uint64_t ipis, sleeps, spin_notifies, dups, written, bad;
} __attribute__((aligned(64)));

/* queues[l][k] joins stage k and k + 1 of lane l. */
static struct queue queues[VMM_MAX_VCPUS / 2][MAX_STAGES - 1];
static struct dedup_cpu cpus[VMM_MAX_VCPUS];
static struct spinlock table_lock = SPINLOCK_INIT;
static uint64_t table[TABLE_SIZE]; /* fingerprint + 1, 0 = free; under table_lock */
static struct barrier all_cpus;
static uint32_t done; /* vCPUs other than 0 that finished */
static unsigned int nstages, nlanes;
static uint64_t nitems, depth, work, dup_every;

static void wake_irq(struct irq_frame *f)
{
	(void)f;
	apic_eoi();
}

/* `n` iterations the compiler must keep: about 3 instructions each. */
static void busy(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		asm volatile("" : : : "memory");
}

static unsigned int cpu_of(unsigned int lane, unsigned int stage)
{
	return lane * nstages + stage;
}

/* Sleep until woken; interrupts are off since before the announcement. */
static void sleep_locked(struct queue *q, struct dedup_cpu *c)
{
	c->sleeps++;
	spin_unlock(&q->lock);
	asm volatile("sti; hlt" : : : "memory");
}

static void wake(unsigned int cpu, struct dedup_cpu *c)
{
	apic_send_ipi(cpu, WAKE_VECTOR);
	c->ipis++;
}

static void push(struct queue *q, uint64_t v, unsigned int consumer, struct dedup_cpu *c)
{
	bool sleeper;

	for (;;) {
		irq_disable();
		spin_lock(&q->lock);
		if (q->tail - q->head < depth)
			break;
		q->prod_sleeping = true;
		sleep_locked(q, c);
	}
	q->slot[q->tail++ % depth] = v;
	sleeper = q->cons_sleeping;
	q->cons_sleeping = false;
	spin_unlock(&q->lock);
	if (sleeper)
		wake(consumer, c);
	irq_enable();
}

static uint64_t pop(struct queue *q, unsigned int producer, struct dedup_cpu *c)
{
	bool sleeper;
	uint64_t v;

	for (;;) {
		irq_disable();
		spin_lock(&q->lock);
		if (q->tail != q->head)
			break;
		q->cons_sleeping = true;
		sleep_locked(q, c);
	}
	v = q->slot[q->head++ % depth];
	sleeper = q->prod_sleeping;
	q->prod_sleeping = false;
	spin_unlock(&q->lock);
	if (sleeper)
		wake(producer, c);
	irq_enable();
	return v;
}

/* The chunk's fingerprint: every dup_every-th chunk repeats the one before it. */
static uint64_t fingerprint(uint64_t v)
{
	uint64_t seq = ITEM_SEQ(v);

	if (dup_every && seq % dup_every == 0)
		seq--;
	return ((uint64_t)ITEM_STREAM(v) << 32) | seq;
}

/* True if the fingerprint was in the shared table already. */
static bool table_insert(uint64_t fp)
{
	uint64_t h = (fp * 0x9E3779B97F4A7C15ull) >> 51; /* 13 bits: TABLE_SIZE */
	bool dup = false;

	spin_lock(&table_lock);
	for (;; h = (h + 1) & (TABLE_SIZE - 1)) {
		if (table[h] == fp + 1) {
			dup = true;
			break;
		}
		if (!table[h]) {
			table[h] = fp + 1;
			break;
		}
	}
	spin_unlock(&table_lock);
	return dup;
}

/* Stage `stage` of lane `lane` on this vCPU: handle every item of the lane's stream. */
static void run_stage(unsigned int lane, unsigned int stage, struct dedup_cpu *c)
{
	struct queue *in = stage ? &queues[lane][stage - 1] : NULL;
	struct queue *out = stage < nstages - 1 ? &queues[lane][stage] : NULL;
	uint64_t v, expect = 1;

	for (uint64_t i = 1; i <= nitems; i++) {
		v = in ? pop(in, cpu_of(lane, stage - 1), c) : ITEM(lane, i);
		if (stage == 1 && table_insert(fingerprint(v))) {
			v |= ITEM_DUP;
			c->dups++;
		}
		if (stage < 2 || !(v & ITEM_DUP))
			busy(work); /* duplicates skip compression and the write of their data */
		if (out) {
			push(out, v, cpu_of(lane, stage + 1), c);
			continue;
		}
		if (ITEM_STREAM(v) != lane || ITEM_SEQ(v) != expect)
			c->bad++;
		expect++;
		c->written++;
	}
}

static bool check_args(void)
{
	unsigned int nr = nr_cpus();

	nitems = arg_u64("items", 600);
	nstages = arg_u64("stages", 4);
	depth = arg_u64("depth", 4);
	work = arg_u64("work", 300);
	dup_every = arg_u64("dup_every", 4);
	if (nstages > nr)
		nstages = nr;
	nlanes = nstages ? nr / nstages : 0;
	if (nr < 2 || nstages < 2 || nstages > MAX_STAGES || !depth || depth > MAX_DEPTH ||
	    !nitems || nitems >= (1ull << 32)) {
		printf("dedup-like: needs >= 2 vCPUs, 2 <= stages <= %u, 1 <= depth <= %u, "
		       "1 <= items < 2^32\n",
		       MAX_STAGES, MAX_DEPTH);
		return false;
	}
	if (nlanes * nitems > TABLE_SIZE / 2) {
		printf("dedup-like: lanes * items must be at most %u\n", TABLE_SIZE / 2);
		return false;
	}
	return true;
}

static void report(uint64_t cycles)
{
	unsigned int nr = nr_cpus();
	uint64_t ipis = 0, sleeps = 0, spins = 0, dups = 0, ops = 0, bad = 0;
	uint64_t expected_ops = nlanes * nitems;
	uint64_t expected_dups = dup_every ? nlanes * (nitems / dup_every) : 0;
	struct vmm_result r;

	for (unsigned int i = 0; i < nr; i++) {
		ipis += cpus[i].ipis;
		sleeps += cpus[i].sleeps;
		spins += cpus[i].spin_notifies;
		dups += cpus[i].dups;
		ops += cpus[i].written;
		bad += cpus[i].bad;
	}
	printf("dedup-like: %u lanes x %u stages x %lu items (depth %lu work %lu dup_every %lu): "
	       "written %lu/%lu (%lu out of order) dups %lu/%lu, %lu wake IPIs, %lu sleeps, "
	       "%lu spin_notifies, %lu cycles (%lu us)\n",
	       nlanes, nstages, nitems, depth, work, dup_every, ops, expected_ops, bad, dups,
	       expected_dups, ipis, sleeps, spins, cycles, tsc_to_ns(cycles) / 1000);
	result_init(&r, "dedup-like");
	result_add(&r, "vcpus", nr);
	result_add(&r, "lanes", nlanes);
	result_add(&r, "stages", nstages);
	result_add(&r, "items", nitems);
	result_add(&r, "ops", ops);
	result_add(&r, "cycles", cycles);
	result_add(&r, "dups", dups);
	result_add(&r, "ipis", ipis);
	result_add(&r, "sleeps", sleeps);
	result_add(&r, "spin_notifies", spins);
	result_add(&r, "depth", depth);
	result_add(&r, "work", work);
	result_add(&r, "dup_every", dup_every);
	result_add(&r, "ple", spin_ple_window());
	result_send(&r);
	if (ops != expected_ops || bad || dups != expected_dups) {
		printf("dedup-like: an item was lost, repeated or reordered, or a dup missed\n");
		shutdown(GUEST_STATUS_BUG);
	}
}

void guest_main(unsigned int cpu)
{
	struct dedup_cpu *c = &cpus[cpu];
	unsigned int nr = nr_cpus();
	uint64_t t0 = 0;

	if (!check_args()) {
		if (cpu == 0)
			shutdown(GUEST_STATUS_BAD_ARGS);
		return;
	}
	if (cpu == 0) {
		irq_set_handler(WAKE_VECTOR, wake_irq);
		irq_set_handler(DONE_VECTOR, wake_irq);
	}
	spin_configure();
	apic_enable();
	barrier_wait(&all_cpus); /* handlers installed, every APIC accepting */
	irq_enable();
	if (cpu == 0)
		t0 = rdtsc();
	if (cpu < nlanes * nstages)
		run_stage(cpu / nstages, cpu % nstages, c);
	c->spin_notifies = spin_notify_count();
	if (cpu != 0) {
		/* Halted, not spinning, while the others finish: a spare vCPU takes no slot. */
		atomic_add(&done, 1);
		apic_send_ipi(0, DONE_VECTOR);
		apic_park();
	}
	halt_until(&done, nr - 1);
	irq_enable();
	report(rdtsc() - t0);
	shutdown(GUEST_STATUS_OK);
}
