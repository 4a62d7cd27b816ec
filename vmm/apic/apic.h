/* SPDX-License-Identifier: MIT */
/*
 * The userspace x2APIC of one vCPU, wired to its thread: x2APIC MSR exits,
 * IPI routing (generic path and single-target fastpath), posted interrupts
 * from other threads, the LAPIC timer, and injection with KVM_INTERRUPT.
 *
 * Ownership: `l` (the architectural state, see lapic.h) is touched only by
 * the owning vCPU thread. Other threads reach it only through `pir` (a
 * posted-interrupt request bitmap, like VT-d's PI descriptor): they set a
 * bit and `pir_on`, then kick; the owner merges pir into IRR before every
 * entry. The kick protocol is in docs/kicks.md.
 *
 * Accounting, per vCPU and exact: sent = delivered + coalesced + dropped +
 * pending. "sent" counts one per target; "delivered" is injection (IRR to
 * ISR); "coalesced" an IPI that found its vector already requested (in PIR
 * or IRR); "dropped" no or invalid target, illegal vector, APIC disabled;
 * "pending" still in PIR/IRR when the VM ended.
 */
#ifndef VMM_APIC_H
#define VMM_APIC_H

#include "apic/lapic.h"
#include "measure/stats.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

struct apic_counters {
	uint64_t ipi_sent;	/* counted by the sender */
	uint64_t ipi_fastpath;	/* of those, through the fastpath */
	uint64_t ipi_dropped;	/* by the sender (no target...) or the target (APIC off) */
	uint64_t ipi_coalesced; /* by the sender (in PIR) or the target (in IRR) */
	uint64_t ipi_delivered; /* by the target */
	uint64_t ipi_pending;	/* by the target, when the VM ended */
	uint64_t nmi_sent;	/* by the sender */
	uint64_t nmi_delivered; /* by the target: handed to KVM when it held none */
	uint64_t nmi_coalesced; /* one was already waiting: lost, as on hardware */
	uint64_t nmi_pending;	/* by the target, when the VM ended */
	uint64_t timer_fired;
	uint64_t timer_coalesced;
	uint64_t timer_delivered;
	uint64_t msr_gp; /* #GP returned for an x2APIC MSR access */
	uint64_t window_requests;
};

struct vcpu_apic {
	struct lapic l;
	_Atomic uint64_t pir[4];
	atomic_bool pir_on;
	atomic_uint nmi_pending;       /* 0 or 1: an NMI posted, not yet handed to KVM */
	bool nmi_in_kvm;	       /* owner: handed to KVM, not yet seen taken */
	_Atomic uint8_t ppr;	       /* published for lowest-priority arbitration */
	atomic_bool irr_pending;       /* published by the owner: IRR holds a deliverable vector */
	_Atomic uint64_t post_ns[256]; /* when a sender last requested each vector */
	uint64_t merged_post_ns[256];  /* post_ns as seen at merge (owner only) */
	_Atomic uint32_t post_flow[256]; /* trace flow id of the last request */
	uint32_t merged_flow[256];
	uint64_t from_ipi[4]; /* IRR bits that came from an IPI (owner only) */
	uint64_t from_timer[4];
	uint32_t lowest_rr;	      /* round-robin start for lowest-priority sends */
	uint64_t window_deadline_ns;  /* self-timer while waiting for an IRQ window */
	uint64_t timer_tsc, timer_ns; /* last LAPIC deadline and its host time */
	uint8_t cr8_given;	      /* TPR[7:4] as last handed to KVM in run->cr8 */
	/* INIT/SIPI (multiboot VMs): set by senders, taken by the owner (vcpu_sipi.c). */
	atomic_bool wait_sipi; /* an INIT came: wait for a SIPI outside KVM_RUN, without a slot */
	atomic_uint sipi;      /* 0, or APIC_SIPI_VALID | vector: the SIPI that ends the wait */
	struct apic_counters c;
};

#define APIC_SIPI_VALID 0x100u

void apic_init(struct vcpu_apic *a, uint32_t id);

/* KVM_EXIT_X86_RDMSR / WRMSR on an x2APIC MSR; returns the exit key. */
enum exit_key apic_rdmsr(struct vcpu *v);
enum exit_key apic_wrmsr(struct vcpu *v);

/* KVM_EXIT_MMIO: is gpa on this vCPU's APIC page (at APIC_BASE, whatever the mode)? */
bool apic_mmio_claims(struct vcpu *v, uint64_t gpa);
/* KVM_EXIT_MMIO on the APIC page: xAPIC registers, or all-ones outside xAPIC mode. */
enum exit_key apic_mmio(struct vcpu *v);

/* Owner, before each entry and while halted: merge posted IPIs, fire a due timer. */
void apic_sync(struct vcpu *v);
/* Owner, as it enters wait-for-SIPI: the APIC state after an INIT (SDM "INIT Reset"). */
void apic_init_reset(struct vcpu *v);
/* Owner: true if an interrupt could be injected now, an NMI is waiting, or an INIT came. */
bool apic_has_work(struct vcpu *v);
/* Owner, right before KVM_RUN: inject one event or ask for a window. -1 on ioctl failure. */
int apic_inject(struct vcpu *v, uint64_t now_ns);
/* Owner: CLOCK_MONOTONIC time of the LAPIC timer's next expiry (0 = none). */
uint64_t apic_timer_ns(struct vcpu *v);
/* Owner: the CLOCK_MONOTONIC time the host timer must fire at (0 = none). */
uint64_t apic_deadline_ns(struct vcpu *v);
/* Owner, when its thread leaves: count what was never delivered. */
void apic_finish(struct vcpu *v);

/*
 * Owner, at HLT: does KVM still hold an NMI it will inject at the next
 * entry? One handed over just before the guest's `sti; hlt` waits in KVM
 * while our HLT exit comes: sleeping then would leave it there (an ioctl
 * only after an NMI was handed over).
 */
bool apic_nmi_held(struct vcpu *v);

/* Any thread: a posted interrupt is waiting for the owner to merge. */
static inline bool apic_posted(struct vcpu_apic *a)
{
	return atomic_load(&a->pir_on) || atomic_load(&a->nmi_pending);
}

/* Any thread: what the owner published, or what was posted to it: an interrupt waits. */
static inline bool apic_pending(struct vcpu_apic *a)
{
	return apic_posted(a) || atomic_load_explicit(&a->irr_pending, memory_order_relaxed);
}

void apic_counters_add(struct apic_counters *dst, const struct apic_counters *src);

#endif
