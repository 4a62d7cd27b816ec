// SPDX-License-Identifier: MIT
/*
 * Emulated x2APIC of one vCPU. See lapic.h for the model; section names in
 * comments refer to Intel SDM vol. 3, chapter "Advanced Programmable
 * Interrupt Controller (APIC)".
 */
#include <string.h>

#include "apic/lapic.h"

/* APIC_BASE: bits 0-7 and 9 are reserved, and so is every address bit at or above MAXPHYADDR. */
#define BASE_RESERVED_LOW (0xffull | (1ull << 9))

static uint64_t base_reserved(const struct lapic *l)
{
	return BASE_RESERVED_LOW | (~0ull << (l->phys_bits ? l->phys_bits : 52));
}

/* IA32_APIC_BASE[11:10] read as a number: "x2APIC State Transitions". */
enum apic_mode { MODE_DISABLED = 0, MODE_INVALID = 1, MODE_XAPIC = 2, MODE_X2APIC = 3 };

/*
 * Bits software may write, per register. Read-only fields (delivery status
 * bit 12, remote IRR bit 14) read as 0 here since delivery is immediate and
 * only edge interrupts exist, so a read-modify-write never trips on them.
 */
#define TPR_WRITABLE	   0xffull
#define SVR_WRITABLE	   0x3ffull /* vector, enable, focus check (stored, no effect) */
#define DCR_WRITABLE	   0xbull
#define SELF_IPI_WRITABLE  0xffull
#define TIMER_ICR_WRITABLE 0xffffffffull
/* x2APIC ICR: 12-13, 16-17 and 20-31 reserved ("Interrupt Command Register in x2APIC Mode"). */
#define ICR_WRITABLE 0xffffffff000ccfffull

#define LVT_VECTOR		0xffu
#define LVT_TIMER_MODE		(3u << 17)
#define LVT_TIMER_MODE_RESERVED (3u << 17)

static const uint32_t lvt_writable[LAPIC_LVT_NR] = {
	[LAPIC_LVT_TIMER] = 0x700ff,   /* vector, mask, timer mode */
	[LAPIC_LVT_THERMAL] = 0x107ff, /* vector, delivery mode, mask */
	[LAPIC_LVT_PERF] = 0x107ff,    [LAPIC_LVT_LINT0] = 0x1a7ff, /* + polarity 13, trigger 15 */
	[LAPIC_LVT_LINT1] = 0x1a7ff,   [LAPIC_LVT_ERROR] = 0x100ff, /* vector, mask */
	[LAPIC_LVT_CMCI] = 0x107ff,
};

static bool vec_test(const uint64_t *bits, unsigned int v)
{
	return (bits[v >> 6] >> (v & 63)) & 1;
}

static void vec_set(uint64_t *bits, unsigned int v)
{
	bits[v >> 6] |= 1ull << (v & 63);
}

static void vec_clear(uint64_t *bits, unsigned int v)
{
	bits[v >> 6] &= ~(1ull << (v & 63));
}

static int vec_highest(const uint64_t *bits)
{
	int i;

	for (i = 3; i >= 0; i--) {
		if (bits[i])
			return i * 64 + 63 - __builtin_clzll(bits[i]);
	}
	return -1;
}

/* 32-bit slice n of a 256-bit register, as the ISR/TMR/IRR MSRs show it. */
static uint32_t vec_word(const uint64_t *bits, unsigned int n)
{
	return (uint32_t)(bits[n >> 1] >> ((n & 1) * 32));
}

static enum apic_mode apic_mode(uint64_t base)
{
	return (enum apic_mode)((base >> 10) & 3);
}

static bool hw_enabled(const struct lapic *l)
{
	return l->apic_base & LAPIC_BASE_EN;
}

static bool sw_enabled(const struct lapic *l)
{
	return l->svr & LAPIC_SVR_ENABLE;
}

static uint32_t timer_mode(const struct lapic *l)
{
	return l->lvt[LAPIC_LVT_TIMER] & LVT_TIMER_MODE;
}

/* Divide configuration bits 3,1,0 as a number n: divide by 2^(n+1), n = 7 is divide by 1. */
static uint64_t timer_divisor(const struct lapic *l)
{
	uint32_t n = ((l->timer_dcr >> 1) & 4) | (l->timer_dcr & 3);

	return 1ull << ((n + 1) & 7);
}

/*
 * A periodic timer is clamped to timer_min_period, as KVM clamps it to
 * min_timer_period_us: an initial count of 1000 at divide 1 would expire
 * every 0.4 us, and every expiry is an exit (docs/kicks.md, "The timer").
 */
static uint64_t timer_period(const struct lapic *l)
{
	uint64_t p = (uint64_t)l->timer_icr * timer_divisor(l);

	if (timer_mode(l) == LAPIC_LVT_TIMER_PERIODIC && p < l->timer_min_period)
		p = l->timer_min_period;
	return p;
}

/* Registers after RESET, INIT or a global disable ("Local APIC State After Power-Up or Reset"). */
static void regs_reset(struct lapic *l)
{
	uint32_t id = l->id;
	uint64_t base = l->apic_base, min_period = l->timer_min_period;
	uint8_t phys_bits = l->phys_bits;
	int i;

	memset(l, 0, sizeof(*l));
	l->phys_bits = phys_bits;
	l->id = id;
	l->apic_base = base;
	l->timer_min_period = min_period;
	l->svr = 0xff;
	l->xapic_dfr = 0xffffffffu;
	for (i = 0; i < LAPIC_LVT_NR; i++)
		l->lvt[i] = LAPIC_LVT_MASKED;
}

void lapic_init_reset(struct lapic *l)
{
	regs_reset(l);
}

void lapic_set_min_period(struct lapic *l, uint64_t cycles)
{
	l->timer_min_period = cycles;
}

void lapic_set_phys_bits(struct lapic *l, unsigned int bits)
{
	l->phys_bits = (uint8_t)(bits >= 32 && bits <= 52 ? bits : 52);
}

void lapic_init(struct lapic *l, uint32_t id)
{
	l->timer_min_period = 0;
	l->phys_bits = 52;
	l->id = id;
	l->apic_base = LAPIC_BASE_DEFAULT | LAPIC_BASE_EN | (id == 0 ? LAPIC_BASE_BSP : 0);
	regs_reset(l);
}

bool lapic_msr_is_apic(uint32_t msr)
{
	return msr == LAPIC_MSR_APIC_BASE || msr == LAPIC_MSR_TSC_DEADLINE ||
	       (msr >= LAPIC_MSR_X2APIC_FIRST && msr <= LAPIC_MSR_X2APIC_LAST);
}

bool lapic_x2apic_enabled(const struct lapic *l)
{
	return apic_mode(l->apic_base) == MODE_X2APIC;
}

bool lapic_xapic_enabled(const struct lapic *l)
{
	return apic_mode(l->apic_base) == MODE_XAPIC;
}

uint64_t lapic_mmio_base(const struct lapic *l)
{
	return l->apic_base & ~(base_reserved(l) | 0xfffull);
}

uint8_t lapic_ppr(const struct lapic *l)
{
	int isrv = vec_highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	/* "Processor Priority Register": PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4.
	 */
	if ((l->tpr & 0xf0) >= isr_class)
		return (uint8_t)l->tpr;
	return (uint8_t)isr_class;
}

int lapic_highest_deliverable(const struct lapic *l)
{
	int v = vec_highest(l->irr);

	if (v < 0 || !hw_enabled(l))
		return -1;
	/* Lower IRR vectors have a class <= this one: if it is blocked, all are. */
	if (((unsigned int)v & 0xf0) <= (lapic_ppr(l) & 0xf0u))
		return -1;
	return v;
}

enum lapic_irq lapic_accept(struct lapic *l, uint8_t vector)
{
	if (!hw_enabled(l) || !sw_enabled(l))
		return LAPIC_REJECTED;
	/* "Error Handling": the APIC never sets an IRR bit for vectors 0-15. */
	if (vector < 16) {
		lapic_error(l, LAPIC_ESR_RECV_ILLEGAL);
		return LAPIC_REJECTED;
	}
	/* "Interrupt Acceptance for Fixed Interrupts": one in IRR (+ one in ISR); more collapse. */
	if (vec_test(l->irr, vector))
		return LAPIC_COALESCED;
	vec_set(l->irr, vector);
	vec_clear(l->tmr, vector); /* edge */
	return LAPIC_ACCEPTED;
}

int lapic_ack(struct lapic *l, uint8_t vector)
{
	if (!vec_test(l->irr, vector))
		return -1;
	vec_clear(l->irr, vector);
	vec_set(l->isr, vector);
	return 0;
}

int lapic_eoi(struct lapic *l)
{
	int v = vec_highest(l->isr);

	if (v < 0)
		return -1;
	vec_clear(l->isr, (unsigned int)v);
	vec_clear(l->tmr, (unsigned int)v);
	return v;
}

/* An LVT entry asks for its vector (fixed delivery only). */
static enum lapic_irq lvt_raise(struct lapic *l, enum lapic_lvt lvt)
{
	if (l->lvt[lvt] & LAPIC_LVT_MASKED)
		return LAPIC_NONE;
	return lapic_accept(l, (uint8_t)(l->lvt[lvt] & LVT_VECTOR));
}

enum lapic_irq lapic_error(struct lapic *l, uint32_t esr_bits)
{
	/*
	 * An ESR write re-arms the error interrupt, so raise it only for the
	 * first error since then. That also bounds the recursion when the
	 * error LVT vector is itself illegal.
	 */
	bool armed = l->esr_pending == 0;

	l->esr_pending |= esr_bits;
	if (!armed || !esr_bits)
		return LAPIC_NONE;
	return lvt_raise(l, LAPIC_LVT_ERROR);
}

uint64_t lapic_timer_next(const struct lapic *l)
{
	return l->timer_armed ? l->timer_deadline : 0;
}

static void timer_disarm(struct lapic *l)
{
	l->timer_armed = false;
	l->timer_deadline = 0;
}

/*
 * Current count ("APIC Timer"): the count drops by one every D cycles, so
 * with r cycles left until the expiry it reads ceil(r / D).
 */
static uint32_t timer_current(const struct lapic *l, uint64_t now)
{
	uint64_t d = timer_divisor(l), left;

	if (!l->timer_armed || timer_mode(l) == LAPIC_LVT_TIMER_TSCDEADLINE)
		return 0;
	if (now < l->timer_deadline) {
		left = l->timer_deadline - now;
	} else if (timer_mode(l) == LAPIC_LVT_TIMER_PERIODIC) {
		/* Expiry not processed yet: the counter has already reloaded. */
		left = timer_period(l) - (now - l->timer_deadline) % timer_period(l);
	} else {
		return 0;
	}
	left = (left + d - 1) / d;
	/* A clamped period runs longer than the count: the count never reads above its start. */
	return left > l->timer_icr ? l->timer_icr : (uint32_t)left;
}

bool lapic_timer_fire(struct lapic *l, uint64_t now, struct lapic_timer_event *ev)
{
	uint64_t period, k;

	ev->irq = LAPIC_NONE;
	ev->missed = 0;
	if (!l->timer_armed || now < l->timer_deadline)
		return false;

	switch (timer_mode(l)) {
	case LAPIC_LVT_TIMER_PERIODIC:
		period = timer_period(l);
		k = (now - l->timer_deadline) / period;
		ev->missed = k;
		l->timer_deadline += (k + 1) * period;
		break;
	case LAPIC_LVT_TIMER_TSCDEADLINE:
		/* "TSC-Deadline Mode": firing disarms and clears IA32_TSC_DEADLINE. */
		l->tsc_deadline = 0;
		timer_disarm(l);
		break;
	default:
		timer_disarm(l);
		break;
	}
	/* A masked timer still counts and reloads; it just raises nothing. */
	ev->irq = lvt_raise(l, LAPIC_LVT_TIMER);
	return true;
}

static void timer_arm_count(struct lapic *l, uint32_t count, uint64_t now)
{
	l->timer_icr = count;
	if (!count) {
		timer_disarm(l);
		return;
	}
	l->timer_armed = true;
	l->timer_deadline = now + timer_period(l);
}

/*
 * A new divide value changes the rate from now on: keep the current count
 * and let it run down at the new rate. An expiry already due keeps its time
 * (the next period uses the new divisor).
 */
static void timer_set_divide(struct lapic *l, uint32_t dcr, uint64_t now, struct lapic_effect *eff)
{
	uint32_t count = timer_current(l, now);

	l->timer_dcr = dcr;
	if (!l->timer_armed || timer_mode(l) == LAPIC_LVT_TIMER_TSCDEADLINE ||
	    now >= l->timer_deadline)
		return;
	l->timer_deadline = now + (uint64_t)count * timer_divisor(l);
	eff->timer_changed = true;
}

static int write_lvt(struct lapic *l, enum lapic_lvt lvt, uint64_t val, struct lapic_effect *eff)
{
	uint32_t old_mode = timer_mode(l);

	if (val & ~(uint64_t)lvt_writable[lvt])
		return LAPIC_GP;
	if (lvt == LAPIC_LVT_TIMER && (val & LVT_TIMER_MODE) == LVT_TIMER_MODE_RESERVED)
		return LAPIC_GP;
	l->lvt[lvt] = (uint32_t)val;
	/* "Local APIC State After It Has Been Software Disabled": masks stay set. */
	if (!sw_enabled(l))
		l->lvt[lvt] |= LAPIC_LVT_MASKED;
	/*
	 * "TSC-Deadline Mode": transitions between TSC-deadline and the other
	 * modes disarm the timer. One-shot <-> periodic keeps counting ("APIC
	 * Timer": changing the mode does not start the timer, nor stops it).
	 */
	if (lvt == LAPIC_LVT_TIMER && (timer_mode(l) == LAPIC_LVT_TIMER_TSCDEADLINE) !=
					      (old_mode == LAPIC_LVT_TIMER_TSCDEADLINE)) {
		l->timer_icr = 0;
		l->tsc_deadline = 0;
		timer_disarm(l);
		eff->timer_changed = true;
	}
	return LAPIC_OK;
}

static void write_svr(struct lapic *l, uint32_t val)
{
	int i;

	l->svr = val;
	if (sw_enabled(l))
		return;
	for (i = 0; i < LAPIC_LVT_NR; i++)
		l->lvt[i] |= LAPIC_LVT_MASKED;
}

/* "x2APIC State Transitions". */
static int write_apic_base(struct lapic *l, uint64_t val, struct lapic_effect *eff)
{
	enum apic_mode old = apic_mode(l->apic_base), new = apic_mode(val);

	if (val & base_reserved(l) || new == MODE_INVALID)
		return LAPIC_GP;
	if (old == MODE_X2APIC && new == MODE_XAPIC)
		return LAPIC_GP;
	if (old == MODE_DISABLED && new == MODE_X2APIC)
		return LAPIC_GP; /* must go through xAPIC mode */
	l->apic_base = val;
	/* A disabled APIC loses all register state but its ID. */
	if (new == MODE_DISABLED && old != MODE_DISABLED) {
		eff->timer_changed = l->timer_armed;
		eff->reset = true;
		regs_reset(l);
	}
	return LAPIC_OK;
}

static uint64_t read_tsc_deadline(const struct lapic *l)
{
	/* Outside TSC-deadline mode the MSR reads 0. */
	if (timer_mode(l) != LAPIC_LVT_TIMER_TSCDEADLINE)
		return 0;
	return l->tsc_deadline;
}

static void write_tsc_deadline(struct lapic *l, uint64_t val, struct lapic_effect *eff)
{
	/* Outside TSC-deadline mode writes are ignored. */
	if (timer_mode(l) != LAPIC_LVT_TIMER_TSCDEADLINE)
		return;
	l->tsc_deadline = val;
	l->timer_armed = val != 0;
	l->timer_deadline = val;
	eff->timer_changed = true;
}

static int lvt_index(uint32_t msr)
{
	if (msr == LAPIC_MSR_LVT_CMCI)
		return LAPIC_LVT_CMCI;
	if (msr >= LAPIC_MSR_LVT_TIMER && msr <= LAPIC_MSR_LVT_ERROR)
		return (int)(msr - LAPIC_MSR_LVT_TIMER);
	return -1;
}

static int read_x2apic(const struct lapic *l, uint32_t msr, uint64_t now, uint64_t *val)
{
	int lvt = lvt_index(msr);

	if (lvt >= 0) {
		*val = l->lvt[lvt];
		return LAPIC_OK;
	}
	if (msr >= LAPIC_MSR_ISR0 && msr < LAPIC_MSR_ISR0 + 8) {
		*val = vec_word(l->isr, msr - LAPIC_MSR_ISR0);
		return LAPIC_OK;
	}
	if (msr >= LAPIC_MSR_TMR0 && msr < LAPIC_MSR_TMR0 + 8) {
		*val = vec_word(l->tmr, msr - LAPIC_MSR_TMR0);
		return LAPIC_OK;
	}
	if (msr >= LAPIC_MSR_IRR0 && msr < LAPIC_MSR_IRR0 + 8) {
		*val = vec_word(l->irr, msr - LAPIC_MSR_IRR0);
		return LAPIC_OK;
	}
	switch (msr) {
	case LAPIC_MSR_ID:
		*val = l->id;
		return LAPIC_OK;
	case LAPIC_MSR_VERSION:
		*val = LAPIC_VERSION;
		return LAPIC_OK;
	case LAPIC_MSR_TPR:
		*val = l->tpr;
		return LAPIC_OK;
	case LAPIC_MSR_PPR:
		*val = lapic_ppr(l);
		return LAPIC_OK;
	case LAPIC_MSR_LDR:
		*val = lapic_x2apic_ldr(l->id);
		return LAPIC_OK;
	case LAPIC_MSR_SVR:
		*val = l->svr;
		return LAPIC_OK;
	case LAPIC_MSR_ESR:
		*val = l->esr;
		return LAPIC_OK;
	case LAPIC_MSR_ICR:
		*val = l->icr;
		return LAPIC_OK;
	case LAPIC_MSR_TIMER_ICR:
		*val = l->timer_icr;
		return LAPIC_OK;
	case LAPIC_MSR_TIMER_CCR:
		*val = timer_current(l, now);
		return LAPIC_OK;
	case LAPIC_MSR_TIMER_DCR:
		*val = l->timer_dcr;
		return LAPIC_OK;
	default:
		return LAPIC_GP; /* EOI, SELF_IPI (write-only) and holes */
	}
}

int lapic_rdmsr(const struct lapic *l, uint32_t msr, uint64_t now, uint64_t *val)
{
	if (msr == LAPIC_MSR_APIC_BASE) {
		*val = l->apic_base;
		return LAPIC_OK;
	}
	if (msr == LAPIC_MSR_TSC_DEADLINE) {
		*val = read_tsc_deadline(l);
		return LAPIC_OK;
	}
	if (!lapic_msr_is_apic(msr) || !lapic_x2apic_enabled(l))
		return LAPIC_GP;
	return read_x2apic(l, msr, now, val);
}

/* Non-zero bits outside `writable`: every x2APIC register #GPs on them. */
static bool reserved(uint64_t val, uint64_t writable)
{
	return val & ~writable;
}

static int write_x2apic(struct lapic *l, uint32_t msr, uint64_t val, uint64_t now,
			struct lapic_effect *eff)
{
	int lvt = lvt_index(msr);

	if (lvt >= 0)
		return write_lvt(l, (enum lapic_lvt)lvt, val, eff);

	switch (msr) {
	case LAPIC_MSR_TPR:
		if (reserved(val, TPR_WRITABLE))
			return LAPIC_GP;
		l->tpr = (uint32_t)val;
		return LAPIC_OK;
	case LAPIC_MSR_EOI:
		if (val)
			return LAPIC_GP;
		eff->eoi_vector = lapic_eoi(l);
		return LAPIC_OK;
	case LAPIC_MSR_SVR:
		/* Bit 12 (EOI-broadcast suppression) is reserved: version bit 24 is 0. */
		if (reserved(val, SVR_WRITABLE))
			return LAPIC_GP;
		write_svr(l, (uint32_t)val);
		return LAPIC_OK;
	case LAPIC_MSR_ESR:
		/* "Error Status Register": a write latches the errors seen since the last one. */
		if (val)
			return LAPIC_GP;
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		return LAPIC_OK;
	case LAPIC_MSR_ICR:
		if (reserved(val, ICR_WRITABLE))
			return LAPIC_GP;
		l->icr = val;
		eff->send_ipi = true;
		eff->icr = val;
		return LAPIC_OK;
	case LAPIC_MSR_TIMER_ICR:
		if (reserved(val, TIMER_ICR_WRITABLE))
			return LAPIC_GP;
		/* "TSC-Deadline Mode": initial-count writes are ignored. */
		if (timer_mode(l) == LAPIC_LVT_TIMER_TSCDEADLINE)
			return LAPIC_OK;
		timer_arm_count(l, (uint32_t)val, now);
		eff->timer_changed = true;
		return LAPIC_OK;
	case LAPIC_MSR_TIMER_DCR:
		if (reserved(val, DCR_WRITABLE))
			return LAPIC_GP;
		timer_set_divide(l, (uint32_t)val, now, eff);
		return LAPIC_OK;
	case LAPIC_MSR_SELF_IPI:
		if (reserved(val, SELF_IPI_WRITABLE))
			return LAPIC_GP;
		/* "Self IPI Register": a fixed, edge IPI to self; the ICR itself is untouched. */
		eff->send_ipi = true;
		eff->icr = (1ull << 18) | val;
		return LAPIC_OK;
	default:
		return LAPIC_GP; /* read-only registers and holes */
	}
}

int lapic_wrmsr(struct lapic *l, uint32_t msr, uint64_t val, uint64_t now, struct lapic_effect *eff)
{
	memset(eff, 0, sizeof(*eff));
	eff->eoi_vector = -1;

	if (msr == LAPIC_MSR_APIC_BASE)
		return write_apic_base(l, val, eff);
	if (msr == LAPIC_MSR_TSC_DEADLINE) {
		write_tsc_deadline(l, val, eff);
		return LAPIC_OK;
	}
	if (!lapic_msr_is_apic(msr) || !lapic_x2apic_enabled(l))
		return LAPIC_GP;
	return write_x2apic(l, msr, val, now, eff);
}

/* --- xAPIC MMIO: the same registers through the page ----------------- */

static uint32_t msr_of(uint32_t off)
{
	return LAPIC_MSR_X2APIC_FIRST + (off >> 4);
}

uint32_t lapic_mmio_read(const struct lapic *l, uint32_t off, uint64_t now)
{
	uint64_t val = 0;

	switch (off) {
	case LAPIC_MMIO_ID:
		return l->id << 24;
	case LAPIC_MMIO_LDR:
		return l->xapic_ldr;
	case LAPIC_MMIO_DFR:
		return l->xapic_dfr;
	case LAPIC_MMIO_ICR:
		return (uint32_t)l->icr; /* delivery status (bit 12) 0: delivery is immediate */
	case LAPIC_MMIO_ICR2:
		return l->xapic_icr2;
	default:
		break;
	}
	if ((off & 0xf) || off >= 0x400 || msr_of(off) == LAPIC_MSR_SELF_IPI)
		return 0;
	if (read_x2apic(l, msr_of(off), now, &val) != LAPIC_OK)
		return 0; /* EOI is write-only; holes */
	return (uint32_t)val;
}

/* The bits the x2APIC handler takes for the register, so an xAPIC write never faults there. */
static uint32_t writable(uint32_t msr)
{
	int lvt = lvt_index(msr);

	if (lvt >= 0)
		return lvt_writable[lvt];
	switch (msr) {
	case LAPIC_MSR_TPR:
		return TPR_WRITABLE;
	case LAPIC_MSR_SVR:
		return SVR_WRITABLE;
	case LAPIC_MSR_TIMER_DCR:
		return DCR_WRITABLE;
	case LAPIC_MSR_TIMER_ICR:
		return 0xffffffffu;
	default:
		return 0; /* EOI, ESR: the value is ignored */
	}
}

static void mmio_write_icr(struct lapic *l, uint32_t val, struct lapic_effect *eff)
{
	uint32_t dest = l->xapic_icr2 >> 24;

	l->icr = val & (uint32_t)ICR_WRITABLE;
	eff->send_ipi = true;
	eff->icr = ((uint64_t)(dest == 0xff ? 0xffffffffu : dest) << 32) | l->icr;
}

void lapic_mmio_write(struct lapic *l, uint32_t off, uint32_t val, uint64_t now,
		      struct lapic_effect *eff)
{
	memset(eff, 0, sizeof(*eff));
	eff->eoi_vector = -1;

	switch (off) {
	case LAPIC_MMIO_LDR:
		l->xapic_ldr = val & 0xff000000u;
		return;
	case LAPIC_MMIO_DFR:
		l->xapic_dfr = val | 0x0fffffffu;
		return;
	case LAPIC_MMIO_ICR2:
		l->xapic_icr2 = val & 0xff000000u;
		return;
	case LAPIC_MMIO_ICR:
		mmio_write_icr(l, val, eff);
		return;
	default:
		break;
	}
	/* ID stays the vCPU index: IPIs are routed by it. SELF_IPI does not exist in xAPIC. */
	if ((off & 0xf) || off >= 0x400 || off == LAPIC_MMIO_ID ||
	    msr_of(off) == LAPIC_MSR_SELF_IPI)
		return;
	/* A write the x2APIC path would #GP (read-only, reserved timer mode) is dropped. */
	(void)write_x2apic(l, msr_of(off), val & writable(msr_of(off)), now, eff);
}
