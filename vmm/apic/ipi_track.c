// SPDX-License-Identifier: MIT
#include "apic/ipi_track.h"

#define IPI_NS_MASK ((1ull << 56) - 1)

/*
 * The IPI records are hints that carry everything in one word: no other
 * memory is published through them, so relaxed ordering is enough. The
 * compare-and-swap is what makes an EOI clear only the record it matches.
 */
void ipi_track_init(struct ipi_track *t)
{
	unsigned int from, to;

	for (from = 0; from < VMM_MAX_VCPUS; from++)
		for (to = 0; to < VMM_MAX_VCPUS; to++)
			atomic_init(&t->rec[from][to], 0);
}

void ipi_track_sent(struct ipi_track *t, unsigned int from, unsigned int to, uint8_t vector,
		    uint64_t now_ns)
{
	uint64_t ns = now_ns & IPI_NS_MASK;

	if (from >= VMM_MAX_VCPUS || to >= VMM_MAX_VCPUS)
		return;
	/* A record of time 0 would read as "none". */
	if (!ns)
		ns = 1;
	atomic_store_explicit(&t->rec[from][to], ns << 8 | vector, memory_order_relaxed);
}

void ipi_track_eoi(struct ipi_track *t, unsigned int to, uint8_t vector, unsigned int nr)
{
	unsigned int from;

	if (to >= VMM_MAX_VCPUS)
		return;
	if (nr > VMM_MAX_VCPUS)
		nr = VMM_MAX_VCPUS;
	for (from = 0; from < nr; from++) {
		_Atomic uint64_t *rec = &t->rec[from][to];
		uint64_t old = atomic_load_explicit(rec, memory_order_relaxed);

		if (!old || (old & 0xff) != vector)
			continue;
		/* Failure means a newer IPI replaced the record: keep that one. */
		atomic_compare_exchange_strong_explicit(rec, &old, 0, memory_order_relaxed,
							memory_order_relaxed);
	}
}

uint64_t ipi_track_sent_ns(const struct ipi_track *t, unsigned int from, unsigned int to)
{
	if (from >= VMM_MAX_VCPUS || to >= VMM_MAX_VCPUS)
		return 0;
	return atomic_load_explicit(&t->rec[from][to], memory_order_relaxed) >> 8;
}
