/* SPDX-License-Identifier: MIT */
/*
 * Published by the APIC layer, read by the scheduler's ipi-aware policy: the
 * APIC records each unicast fixed IPI as it is sent and clears the record at
 * the receiver's EOI, so the scheduler never calls into the APIC (nor the
 * APIC into the scheduler) to learn who owes whom an acknowledgement.
 */
#ifndef VMM_IPI_TRACK_H
#define VMM_IPI_TRACK_H

#include "vmm_abi.h"

#include <stdatomic.h>
#include <stdint.h>

/*
 * ipi-aware's memory of unicast fixed IPIs, per VM: for each (sender,
 * receiver) the time of the sender's last such IPI and its vector, packed in
 * one word ((ns << 8) | vector, 0 = none) so that a receiver's EOI clears a
 * record only if it still holds that vector (compare-and-swap). Any thread.
 * A hint, like the seed's: a resend racing with the EOI of the previous one
 * may lose the record, never invent one.
 */
struct ipi_track {
	_Atomic uint64_t rec[VMM_MAX_VCPUS][VMM_MAX_VCPUS]; /* [from][to] */
};

void ipi_track_init(struct ipi_track *t);
/* `from` sent a unicast fixed IPI with `vector` to `to` at now_ns (> 0). */
void ipi_track_sent(struct ipi_track *t, unsigned int from, unsigned int to, uint8_t vector,
		    uint64_t now_ns);
/* `to` EOId `vector`: forget every sender's record of that vector to it (nr = vCPUs in the VM). */
void ipi_track_eoi(struct ipi_track *t, unsigned int to, uint8_t vector, unsigned int nr);
/* When `from` last sent `to` an IPI not EOId since, 0 = none (ns, 56 bits kept). */
uint64_t ipi_track_sent_ns(const struct ipi_track *t, unsigned int from, unsigned int to);

#endif
