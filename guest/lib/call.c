/* SPDX-License-Identifier: MIT */
/* smp_call_function_*: see call.h; the structure follows Linux's kernel/smp.c. */
#include "call.h"

#include "apic.h"
#include "spinlock.h"

#define CSD_LOCK (1u << 0) /* slot in use until the target is done with it */
#define CSD_WAIT (1u << 1) /* sender waits: unlock only after fn returned */

/* Call-single-data: one slot per (sender, target), reused once unlocked. */
struct csd {
	struct csd *next; /* call queue link */
	void (*fn)(void *);
	void *arg;
	uint32_t flags;
} __attribute__((aligned(32)));

struct call_queue {
	struct csd *first; /* lock-free stack: cmpxchg push, xchg pop-all */
} __attribute__((aligned(64)));

static struct csd csds[VMM_MAX_VCPUS][VMM_MAX_VCPUS]; /* [sender][target] */
static struct call_queue queues[VMM_MAX_VCPUS];
static struct call_stats stats[VMM_MAX_VCPUS];

const struct call_stats *call_stats(unsigned int cpu)
{
	return &stats[cpu];
}

static bool irqs_enabled(void)
{
	unsigned long flags;

	asm volatile("pushfq; popq %0" : "=r"(flags));
	return flags & (1ul << 9);
}

/* Returns true when the queue was empty: the caller must ring the doorbell. */
static bool queue_push(struct call_queue *q, struct csd *c)
{
	struct csd *first = READ_ONCE(q->first);

	do {
		c->next = first;
	} while (!atomic_cmpxchg(&q->first, &first, c));
	return first == NULL;
}

/* The stack pops newest first: reverse it to run calls in the order queued. */
static struct csd *queue_pop_all(struct call_queue *q)
{
	struct csd *c = atomic_xchg(&q->first, NULL), *rev = NULL, *next;

	for (; c; c = next) {
		next = c->next;
		c->next = rev;
		rev = c;
	}
	return rev;
}

static void csd_unlock(struct csd *c)
{
	store_release(&c->flags, 0);
}

/* The spin-wait overcommit punishes: notify the VMM every PLE window. */
static void csd_lock_wait(struct csd *c)
{
	uint32_t iter = 0;

	while (load_acquire(&c->flags) & CSD_LOCK)
		spin_wait_step(&iter);
}

static void run_csd(struct csd *c)
{
	void (*fn)(void *) = c->fn;
	void *arg = c->arg;

	/* An async slot is free as soon as fn and arg are copied out. */
	if (!(c->flags & CSD_WAIT)) {
		csd_unlock(c);
		fn(arg);
		return;
	}
	fn(arg);
	csd_unlock(c);
}

static void call_function_irq(struct irq_frame *f)
{
	struct call_stats *st = &stats[this_cpu_id()];
	struct csd *c, *next;

	(void)f;
	st->irqs++;
	for (c = queue_pop_all(&queues[this_cpu_id()]); c; c = next) {
		next = c->next; /* read before the unlock hands the slot back */
		run_csd(c);
		st->calls++;
	}
	apic_eoi();
}

void call_init(void)
{
	irq_set_handler(CALL_FUNCTION_VECTOR, call_function_irq);
}

static void call_queue_one(unsigned int self, unsigned int cpu, void (*fn)(void *), void *arg,
			   bool wait)
{
	struct csd *c = &csds[self][cpu];

	csd_lock_wait(c); /* an earlier async call may still hold the slot */
	c->fn = fn;
	c->arg = arg;
	c->flags = CSD_LOCK | (wait ? CSD_WAIT : 0);
	if (!queue_push(&queues[cpu], c))
		return; /* a doorbell is already on its way and the handler pops all */
	stats[self].ipis_sent++;
	apic_send_ipi(cpu, CALL_FUNCTION_VECTOR);
}

void smp_call_function_many(uint64_t cpumask, void (*fn)(void *), void *arg, bool wait)
{
	unsigned int self = this_cpu_id(), nr = nr_cpus(), cpu;
	uint64_t mask;

	BUG_ON(!irqs_enabled());
	if (nr < 64)
		cpumask &= (1ull << nr) - 1;
	cpumask &= ~(1ull << self);

	for (mask = cpumask; mask; mask &= mask - 1)
		call_queue_one(self, __builtin_ctzll(mask), fn, arg, wait);
	if (!wait)
		return;
	for (mask = cpumask; mask; mask &= mask - 1) {
		cpu = __builtin_ctzll(mask);
		csd_lock_wait(&csds[self][cpu]);
	}
}

void smp_call_function_single(unsigned int cpu, void (*fn)(void *), void *arg, bool wait)
{
	unsigned long flags;

	BUG_ON(cpu >= nr_cpus());
	if (cpu == this_cpu_id()) {
		flags = irq_save();
		fn(arg);
		irq_restore(flags);
		return;
	}
	smp_call_function_many(1ull << cpu, fn, arg, wait);
}
