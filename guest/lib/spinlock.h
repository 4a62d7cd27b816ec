/* SPDX-License-Identifier: MIT */
/*
 * Ticket spinlock with the paravirtual spin notification: a waiter that
 * sees no progress for `ple` (args, default 64) PAUSE iterations calls
 * spin_notify(), the stand-in for a PAUSE-loop exit, and keeps spinning.
 */
#ifndef GUEST_SPINLOCK_H
#define GUEST_SPINLOCK_H

#include "guest.h"

#define SPIN_PLE_DEFAULT 64u

struct spinlock {
	uint32_t head; /* ticket being served */
	uint32_t tail; /* next ticket to hand out */
};
#define SPINLOCK_INIT \
	{             \
		0, 0  \
	}

void spin_lock(struct spinlock *l);
bool spin_trylock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
bool spin_is_locked(struct spinlock *l);

/* Read `ple=N` from the args (0 = never notify). Runs lazily on first use too. */
void spin_configure(void);
uint32_t spin_ple_window(void);

/*
 * One iteration of a spin-wait: PAUSE, and every PLE window iterations a
 * spin notification. Start *iter at 0 and reset it when the wait progresses.
 */
void spin_wait_step(uint32_t *iter);

/* Spin notifications this vCPU sent from spin_wait_step(). */
uint64_t spin_notify_count(void);

#endif
