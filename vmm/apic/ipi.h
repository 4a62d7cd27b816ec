/* SPDX-License-Identifier: MIT */
/*
 * x2APIC ICR decode and destination matching (Intel SDM vol. 3, "Issuing
 * Interprocessor Interrupts" and "x2APIC Interrupt Command Register").
 *
 * Pure functions over ICR values and vCPU ids. Destinations are uint64_t
 * bitmaps over vCPUs 0..nr-1 (nr <= VMM_MAX_VCPUS = 64); every vCPU's x2APIC
 * ID is its index and its logical ID is lapic_x2apic_ldr(index), so no APIC
 * state is read here and any thread may call these.
 */
#ifndef VMM_IPI_H
#define VMM_IPI_H

#include <stdbool.h>
#include <stdint.h>

/* ICR fields (x2APIC layout: 64-bit, destination in bits 63:32). */
#define IPI_ICR_VECTOR(icr)   ((uint8_t)((icr)&0xff))
#define IPI_ICR_DM_SHIFT      8
#define IPI_ICR_LOGICAL	      (1ull << 11)
#define IPI_ICR_LEVEL_ASSERT  (1ull << 14)
#define IPI_ICR_TRIGGER_LEVEL (1ull << 15)
#define IPI_ICR_SH_SHIFT      18
#define IPI_ICR_DEST_SHIFT    32
#define IPI_DEST_BROADCAST    0xffffffffu

enum ipi_delivery {
	IPI_DM_FIXED = 0,
	IPI_DM_LOWEST = 1,
	IPI_DM_SMI = 2,
	IPI_DM_RESERVED = 3,
	IPI_DM_NMI = 4,
	IPI_DM_INIT = 5,
	IPI_DM_SIPI = 6,
	IPI_DM_EXTINT = 7,
};

enum ipi_shorthand {
	IPI_SH_NONE = 0,
	IPI_SH_SELF = 1,
	IPI_SH_ALL = 2,	   /* all including self */
	IPI_SH_OTHERS = 3, /* all excluding self */
};

enum ipi_status {
	IPI_OK = 0,
	IPI_ERR_VECTOR = -1, /* fixed/lowest-priority vector 0-15: set ESR "send illegal vector" */
	IPI_ERR_MODE = -2, /* SMI/INIT/SIPI/ExtINT/reserved, or an invalid shorthand combination */
};

struct ipi_msg {
	uint32_t dest;
	uint8_t vector;
	uint8_t delivery;  /* enum ipi_delivery */
	uint8_t shorthand; /* enum ipi_shorthand */
	bool logical;
	bool level_assert;
	bool trigger_level; /* ignored: every IPI is delivered as edge */
};

/*
 * Split an ICR into *m (always filled) and check it: IPI_OK for fixed,
 * lowest-priority and NMI messages the SDM's "Valid Combinations" table
 * allows (self and all-including-self take fixed only), else an ipi_status
 * error; the message is then dropped. The NMI vector is ignored.
 */
int ipi_decode(uint64_t icr, struct ipi_msg *m);

/*
 * Destination set of a decoded message sent by vCPU `self` in a VM of nr
 * vCPUs. A shorthand overrides dest. Physical: dest == id, 0xFFFFFFFF = all.
 * Logical (x2APIC cluster): dest[31:16] == LDR[31:16] and dest[15:0] & LDR[15:0],
 * 0xFFFFFFFF = all. Ids that do not exist match nothing: the set may be empty.
 */
uint64_t ipi_targets(const struct ipi_msg *m, uint32_t self, uint32_t nr);

/*
 * Lowest-priority arbitration: the member of `set` with the lowest ppr[id]
 * (the full 8-bit PPR, our stand-in for the arbitration priority). Ties go to
 * the first tied member found scanning ids start, start+1, ... nr-1, 0, ...
 * (the caller advances `start` for round-robin). -1 if set is empty.
 */
int ipi_lowest_priority(uint64_t set, const uint8_t *ppr, uint32_t nr, uint32_t start);

/*
 * Single-target fastpath (KVM's "Single target IPI fastpath"): the destination
 * id if icr is physical, fixed, edge, without shorthand, with a legal vector
 * and a non-broadcast destination < nr; else -1 (use the generic path).
 */
int ipi_fastpath_dest(uint64_t icr, uint32_t nr);

#endif
