// SPDX-License-Identifier: MIT
/*
 * x2APIC ICR decode and destination matching. Section names refer to Intel
 * SDM vol. 3, chapter "Advanced Programmable Interrupt Controller (APIC)".
 */
#include "apic/ipi.h"
#include "apic/lapic.h"

static uint64_t all_vcpus(uint32_t nr)
{
	if (nr >= 64)
		return ~0ull;
	return (1ull << nr) - 1;
}

static uint64_t self_bit(uint32_t self, uint32_t nr)
{
	return self < nr && self < 64 ? 1ull << self : 0;
}

int ipi_decode(uint64_t icr, struct ipi_msg *m)
{
	m->vector = IPI_ICR_VECTOR(icr);
	m->delivery = (uint8_t)((icr >> IPI_ICR_DM_SHIFT) & 7);
	m->logical = icr & IPI_ICR_LOGICAL;
	m->level_assert = icr & IPI_ICR_LEVEL_ASSERT;
	m->trigger_level = icr & IPI_ICR_TRIGGER_LEVEL;
	m->shorthand = (uint8_t)((icr >> IPI_ICR_SH_SHIFT) & 3);
	m->dest = (uint32_t)(icr >> IPI_ICR_DEST_SHIFT);

	switch (m->delivery) {
	case IPI_DM_FIXED:
		break;
	case IPI_DM_LOWEST:
	case IPI_DM_NMI:
		/* "Valid Combinations ... ICR": self and all-including-self take fixed only. */
		if (m->shorthand == IPI_SH_SELF || m->shorthand == IPI_SH_ALL)
			return IPI_ERR_MODE;
		break;
	default:
		return IPI_ERR_MODE; /* SMI, INIT, SIPI, ExtINT, reserved: not emulated */
	}
	if (m->delivery != IPI_DM_NMI && m->vector < 16)
		return IPI_ERR_VECTOR;
	return IPI_OK;
}

/* "Logical Destination Mode in x2APIC Mode": same cluster, overlapping member mask. */
static uint64_t logical_targets(uint32_t dest, uint32_t nr)
{
	uint64_t set = 0;
	uint32_t id, ldr;

	for (id = 0; id < nr && id < 64; id++) {
		ldr = lapic_x2apic_ldr(id);
		if ((ldr >> 16) == (dest >> 16) && (ldr & dest & 0xffff))
			set |= 1ull << id;
	}
	return set;
}

uint64_t ipi_targets(const struct ipi_msg *m, uint32_t self, uint32_t nr)
{
	switch (m->shorthand) {
	case IPI_SH_SELF:
		return self_bit(self, nr);
	case IPI_SH_ALL:
		return all_vcpus(nr);
	case IPI_SH_OTHERS:
		return all_vcpus(nr) & ~self_bit(self, nr);
	default:
		break;
	}
	if (m->dest == IPI_DEST_BROADCAST)
		return all_vcpus(nr);
	if (m->logical)
		return logical_targets(m->dest, nr);
	return m->dest < nr && m->dest < 64 ? 1ull << m->dest : 0;
}

int ipi_lowest_priority(uint64_t set, const uint8_t *ppr, uint32_t nr, uint32_t start)
{
	int best = -1;
	uint32_t i, id;

	if (nr > 64)
		nr = 64;
	for (i = 0; i < nr; i++) {
		id = (start + i) % nr;
		if (!(set >> id & 1))
			continue;
		/* Strictly lower only: the first of equals in scan order wins. */
		if (best < 0 || ppr[id] < ppr[best])
			best = (int)id;
	}
	return best;
}

int ipi_fastpath_dest(uint64_t icr, uint32_t nr)
{
	uint32_t dest = (uint32_t)(icr >> IPI_ICR_DEST_SHIFT);

	if ((icr >> IPI_ICR_SH_SHIFT) & 3)
		return -1;
	if (icr & (IPI_ICR_LOGICAL | IPI_ICR_TRIGGER_LEVEL))
		return -1;
	if (((icr >> IPI_ICR_DM_SHIFT) & 7) != IPI_DM_FIXED)
		return -1;
	if (IPI_ICR_VECTOR(icr) < 16)
		return -1; /* the generic path logs the ESR error */
	if (dest == IPI_DEST_BROADCAST || dest >= nr || dest >= 64)
		return -1;
	return (int)dest;
}
