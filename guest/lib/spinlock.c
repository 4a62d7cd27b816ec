/* SPDX-License-Identifier: MIT */
/* Ticket spinlock and the PLE-window spin-wait shared with call.c. */
#include "spinlock.h"

static uint32_t ple_window = SPIN_PLE_DEFAULT;
static uint32_t ple_configured;

struct spin_stats {
	uint64_t notified;
} __attribute__((aligned(64)));

static struct spin_stats stats[VMM_MAX_VCPUS];

/* Idempotent: every vCPU reads the same args, so racing callers agree. */
void spin_configure(void)
{
	WRITE_ONCE(ple_window, (uint32_t)arg_u64("ple", SPIN_PLE_DEFAULT));
	store_release(&ple_configured, 1);
}

uint32_t spin_ple_window(void)
{
	if (unlikely(!load_acquire(&ple_configured)))
		spin_configure();
	return READ_ONCE(ple_window);
}

void spin_wait_step(uint32_t *iter)
{
	uint32_t ple = spin_ple_window();

	cpu_relax();
	if (!ple || ++*iter < ple)
		return;
	*iter = 0;
	stats[this_cpu_id()].notified++;
	spin_notify();
}

uint64_t spin_notify_count(void)
{
	return stats[this_cpu_id()].notified;
}

void spin_lock(struct spinlock *l)
{
	uint32_t me = __atomic_fetch_add(&l->tail, 1, __ATOMIC_ACQUIRE);
	uint32_t head, last = me - 1, iter = 0;

	/* Only a lack of progress counts: a moving queue is not worth an exit. */
	while ((head = load_acquire(&l->head)) != me) {
		if (head != last) {
			last = head;
			iter = 0;
		}
		spin_wait_step(&iter);
	}
}

bool spin_trylock(struct spinlock *l)
{
	uint32_t head = load_acquire(&l->head);
	uint32_t tail = head;

	/* Free means tail == head: take ticket `head` by bumping the tail. */
	return __atomic_compare_exchange_n(&l->tail, &tail, head + 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

void spin_unlock(struct spinlock *l)
{
	/* Only the holder writes head. */
	store_release(&l->head, READ_ONCE(l->head) + 1);
}

bool spin_is_locked(struct spinlock *l)
{
	return READ_ONCE(l->head) != READ_ONCE(l->tail);
}
