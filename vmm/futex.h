/* SPDX-License-Identifier: MIT */
/* The two futex calls the VMM makes, on 32-bit atomic words private to the process. */
#ifndef VMM_FUTEX_H
#define VMM_FUTEX_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline void futex_wake(atomic_uint *uaddr)
{
	syscall(SYS_futex, uaddr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Sleep while *uaddr == val, until an absolute CLOCK_MONOTONIC deadline (0 = none). */
static inline long futex_wait_until(atomic_uint *uaddr, unsigned int val, uint64_t deadline_ns)
{
	struct timespec ts = { (time_t)(deadline_ns / 1000000000ull),
			       (long)(deadline_ns % 1000000000ull) };

	/* FUTEX_WAIT_BITSET takes an absolute deadline, unlike FUTEX_WAIT. */
	return syscall(SYS_futex, uaddr, FUTEX_WAIT_BITSET_PRIVATE, val, deadline_ns ? &ts : NULL,
		       NULL, FUTEX_BITSET_MATCH_ANY);
}

#endif
