/* SPDX-License-Identifier: MIT */
/* Cross-vCPU synchronization. */
#include "internal.h"

/*
 * Sense-reversing barrier. The sense is a generation count read before
 * arriving: the last vCPU to arrive resets the count and flips the sense,
 * which releases the others. No per-CPU sense is needed, and the count is
 * reset before anyone can arrive for the next round.
 */
void barrier_wait(struct barrier *b)
{
	uint32_t nr = b->nr ? b->nr : nr_cpus();
	uint32_t sense = load_acquire(&b->sense);

	if (__atomic_add_fetch(&b->count, 1, __ATOMIC_ACQ_REL) == nr) {
		WRITE_ONCE(b->count, 0);
		store_release(&b->sense, sense + 1);
		return;
	}
	while (load_acquire(&b->sense) == sense)
		cpu_relax();
}
