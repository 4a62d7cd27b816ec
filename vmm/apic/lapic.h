/* SPDX-License-Identifier: MIT */
/*
 * The emulated local APIC of one vCPU, x2APIC mode only (Intel SDM vol. 3,
 * "Advanced Programmable Interrupt Controller (APIC)").
 *
 * A pure module: no locks, no clock reads, no KVM. Every function must be
 * called by the thread that owns the vCPU. Other threads never touch a
 * struct lapic: a sender posts vectors somewhere else (an atomic bitmap) and
 * the owner merges them with lapic_accept(). What senders need is either
 * pure (lapic_x2apic_ldr) or a value the owner publishes (lapic_ppr, for
 * lowest-priority arbitration). NMIs never pass through the IRR: the caller
 * injects them directly.
 *
 * Time: the APIC timer is clocked by the guest TSC. With divide value D and
 * initial count N a one-shot/periodic period is N * D TSC cycles, and the
 * current count drops by one every D cycles. Callers pass the current guest
 * TSC as `now`.
 *
 * One register model, two access methods: x2APIC mode (EN=1, EXTD=1) reads
 * and writes it through MSRs 0x800-0x8FF, xAPIC mode (EN=1, EXTD=0) through
 * the 4 KiB MMIO page at APIC_BASE (lapic_mmio_*: register at offset
 * 0x10 * n is MSR 0x800 + n, with the SDM's xAPIC differences: the ID in bits
 * 31:24, a writable LDR and DFR, ICR split into ICR (0x300) and ICR2 (0x310),
 * reserved bits ignored instead of #GP). In the other mode each method is
 * refused: MSRs #GP, the page reads all-ones (the caller's part).
 */
#ifndef VMM_LAPIC_H
#define VMM_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* MSRs handled here. */
#define LAPIC_MSR_APIC_BASE    0x1bu
#define LAPIC_MSR_TSC_DEADLINE 0x6e0u
#define LAPIC_MSR_X2APIC_FIRST 0x800u
#define LAPIC_MSR_X2APIC_LAST  0x8ffu
#define LAPIC_MSR_ID	       0x802u
#define LAPIC_MSR_VERSION      0x803u
#define LAPIC_MSR_TPR	       0x808u
#define LAPIC_MSR_PPR	       0x80au
#define LAPIC_MSR_EOI	       0x80bu
#define LAPIC_MSR_LDR	       0x80du
#define LAPIC_MSR_SVR	       0x80fu
#define LAPIC_MSR_ISR0	       0x810u
#define LAPIC_MSR_TMR0	       0x818u
#define LAPIC_MSR_IRR0	       0x820u
#define LAPIC_MSR_ESR	       0x828u
#define LAPIC_MSR_LVT_CMCI     0x82fu
#define LAPIC_MSR_ICR	       0x830u
#define LAPIC_MSR_LVT_TIMER    0x832u
#define LAPIC_MSR_LVT_THERMAL  0x833u
#define LAPIC_MSR_LVT_PERF     0x834u
#define LAPIC_MSR_LVT_LINT0    0x835u
#define LAPIC_MSR_LVT_LINT1    0x836u
#define LAPIC_MSR_LVT_ERROR    0x837u
#define LAPIC_MSR_TIMER_ICR    0x838u /* initial count */
#define LAPIC_MSR_TIMER_CCR    0x839u /* current count */
#define LAPIC_MSR_TIMER_DCR    0x83eu /* divide configuration */
#define LAPIC_MSR_SELF_IPI     0x83fu

/* xAPIC MMIO offsets that differ from their x2APIC MSR. */
#define LAPIC_MMIO_ID	0x020u
#define LAPIC_MMIO_EOI	0x0b0u
#define LAPIC_MMIO_LDR	0x0d0u
#define LAPIC_MMIO_DFR	0x0e0u
#define LAPIC_MMIO_ESR	0x280u
#define LAPIC_MMIO_ICR	0x300u
#define LAPIC_MMIO_ICR2 0x310u
#define LAPIC_MMIO_SIZE 0x1000u

/* IA32_APIC_BASE bits. */
#define LAPIC_BASE_BSP	   (1ull << 8)
#define LAPIC_BASE_EXTD	   (1ull << 10)
#define LAPIC_BASE_EN	   (1ull << 11)
#define LAPIC_BASE_DEFAULT 0xfee00000ull

/*
 * Version register: version 0x14 (integrated APIC), max LVT entry 6 (seven
 * LVTs including CMCI), bit 24 (EOI-broadcast suppression) clear.
 */
#define LAPIC_VERSION 0x00060014u

/* SVR */
#define LAPIC_SVR_ENABLE (1u << 8)

/* LVT fields */
#define LAPIC_LVT_MASKED	    (1u << 16)
#define LAPIC_LVT_TIMER_ONESHOT	    (0u << 17)
#define LAPIC_LVT_TIMER_PERIODIC    (1u << 17)
#define LAPIC_LVT_TIMER_TSCDEADLINE (2u << 17)

/* ESR bits (SDM "Error Handling"). */
#define LAPIC_ESR_REDIRECTABLE_IPI (1u << 4)
#define LAPIC_ESR_SEND_ILLEGAL	   (1u << 5)
#define LAPIC_ESR_RECV_ILLEGAL	   (1u << 6)

enum lapic_lvt {
	LAPIC_LVT_TIMER,
	LAPIC_LVT_THERMAL,
	LAPIC_LVT_PERF,
	LAPIC_LVT_LINT0,
	LAPIC_LVT_LINT1,
	LAPIC_LVT_ERROR,
	LAPIC_LVT_CMCI,
	LAPIC_LVT_NR
};

/* Return of lapic_rdmsr/lapic_wrmsr. */
enum { LAPIC_OK = 0, LAPIC_GP = -1 };

/* What became of an interrupt offered to the IRR. */
enum lapic_irq {
	LAPIC_ACCEPTED,	 /* IRR bit set */
	LAPIC_COALESCED, /* IRR bit was already set: this one is lost, count it */
	LAPIC_REJECTED,	 /* APIC disabled (globally or via SVR) or vector 0-15 */
	LAPIC_NONE,	 /* nothing offered: LVT masked, or error interrupt not re-armed */
};

struct lapic {
	uint32_t id; /* x2APIC ID == vCPU id */
	uint64_t apic_base;
	uint32_t tpr;
	uint32_t svr;
	uint32_t esr;	      /* latched at the last ESR write: what RDMSR returns */
	uint32_t esr_pending; /* errors since the last ESR write */
	uint64_t icr;
	uint32_t xapic_icr2; /* xAPIC: ICR2 as written (destination in 31:24) */
	uint32_t xapic_ldr;  /* xAPIC: LDR (31:24) */
	uint32_t xapic_dfr;  /* xAPIC: DFR (model in 31:28; 0xFFFFFFFF = flat) */
	uint32_t lvt[LAPIC_LVT_NR];
	uint32_t timer_icr;		 /* initial count */
	uint32_t timer_dcr;		 /* divide configuration */
	uint64_t irr[4], isr[4], tmr[4]; /* 256 bits each: vector v is bit v % 64 of word v / 64 */
	bool timer_armed;
	uint64_t timer_deadline;   /* guest TSC of the next expiry while armed */
	uint64_t tsc_deadline;	   /* IA32_TSC_DEADLINE */
	uint64_t timer_min_period; /* cycles; a periodic timer never fires faster (0: no limit) */
	uint8_t phys_bits;	   /* MAXPHYADDR: APIC_BASE bits at or above it are reserved */
};

/* KVM's min_timer_period_us: a faster periodic timer would only stall its vCPU with exits. */
#define LAPIC_MIN_PERIOD_US 200

/* What the caller must do after a successful lapic_wrmsr. */
struct lapic_effect {
	bool send_ipi;	    /* route `icr` (ICR write, or SELF_IPI as a self fixed IPI) */
	bool timer_changed; /* lapic_timer_next() changed: reprogram the host timer */
	int eoi_vector;	    /* vector an EOI retired from ISR, -1 if none */
	bool reset;	    /* the APIC was disabled: IRR, ISR and the rest were discarded */
	uint64_t icr;
};

/* Result of lapic_timer_fire(). */
struct lapic_timer_event {
	enum lapic_irq irq; /* LAPIC_NONE when the LVT is masked */
	uint64_t missed;    /* whole periodic periods skipped (not delivered) */
};

/* Logical x2APIC ID, derived from the x2APIC ID (SDM "Logical Destination Mode in x2APIC Mode"). */
static inline uint32_t lapic_x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 15));
}

/* Power-up state: xAPIC mode (EN=1, EXTD=0), BSP iff id == 0, LVTs masked, SVR 0xFF. */
void lapic_init(struct lapic *l, uint32_t id);
/* INIT: every register as after power-up but the ID and APIC_BASE (SDM "INIT Reset"). */
void lapic_init_reset(struct lapic *l);
/* MAXPHYADDR of the vCPU (CPUID 0x80000008 EAX[7:0]; 52 until told, kept across resets). */
void lapic_set_phys_bits(struct lapic *l, unsigned int bits);
/* The shortest period of a periodic timer, in TSC cycles (kept across resets). */
void lapic_set_min_period(struct lapic *l, uint64_t cycles);

/* True for the MSRs this module emulates: APIC_BASE, TSC_DEADLINE, 0x800-0x8FF. */
bool lapic_msr_is_apic(uint32_t msr);

/* True in x2APIC mode (EN=1, EXTD=1). */
bool lapic_x2apic_enabled(const struct lapic *l);

/* True in xAPIC mode (EN=1, EXTD=0): the MMIO page is live. */
bool lapic_xapic_enabled(const struct lapic *l);

/* Guest physical address of the MMIO page (APIC_BASE bits 51:12). */
uint64_t lapic_mmio_base(const struct lapic *l);

/* xAPIC MMIO: a 32-bit read of the register at off (0..0xFF0). Holes read 0. */
uint32_t lapic_mmio_read(const struct lapic *l, uint32_t off, uint64_t now);

/*
 * xAPIC MMIO: a 32-bit write. Read-only registers and holes ignore it, and
 * reserved bits are dropped (xAPIC never faults); *eff as for lapic_wrmsr.
 * An ICR write sends: eff->icr is the message in the x2APIC layout
 * (destination ICR2[31:24], 0xFF = broadcast).
 */
void lapic_mmio_write(struct lapic *l, uint32_t off, uint32_t val, uint64_t now,
		      struct lapic_effect *eff);

/* RDMSR: LAPIC_OK with *val, or LAPIC_GP (write-only, unknown, x2APIC off). */
int lapic_rdmsr(const struct lapic *l, uint32_t msr, uint64_t now, uint64_t *val);

/*
 * WRMSR: LAPIC_OK and *eff filled, or LAPIC_GP with the state unchanged
 * (read-only, unknown, reserved bits set, illegal APIC_BASE transition).
 */
int lapic_wrmsr(struct lapic *l, uint32_t msr, uint64_t val, uint64_t now,
		struct lapic_effect *eff);

/* Offer a fixed, edge-triggered interrupt to the IRR. Vectors 0-15 log ESR bit 6. */
enum lapic_irq lapic_accept(struct lapic *l, uint8_t vector);

/* Processor priority (SDM "Processor Priority Register"): max(TPR, ISR-highest class). */
uint8_t lapic_ppr(const struct lapic *l);

/*
 * Highest IRR vector whose class (v >> 4) is above the PPR class, or -1.
 * A software-disabled APIC still delivers what its IRR already holds.
 */
int lapic_highest_deliverable(const struct lapic *l);

/* Injection of `vector`: move it from IRR to ISR. 0, or -1 if it was not in IRR. */
int lapic_ack(struct lapic *l, uint8_t vector);

/* EOI: retire the highest ISR vector and return it, -1 if ISR was empty. */
int lapic_eoi(struct lapic *l);

/*
 * Log errors into ESR (visible to the guest after its next ESR write) and
 * raise the LVT error interrupt, once per ESR write (the write re-arms it).
 */
enum lapic_irq lapic_error(struct lapic *l, uint32_t esr_bits);

/* Guest TSC of the next timer expiry, 0 if the timer is not armed. */
uint64_t lapic_timer_next(const struct lapic *l);

/*
 * If the timer expired at or before `now`: raise the LVT timer vector unless
 * masked, rearm periodic (next = deadline + k * period, the first one after
 * now; k - 1 periods are reported as missed), disarm one-shot and
 * TSC-deadline (which also clears IA32_TSC_DEADLINE), and return true.
 */
bool lapic_timer_fire(struct lapic *l, uint64_t now, struct lapic_timer_event *ev);

#endif
