// SPDX-License-Identifier: MIT
/*
 * Unit tests of the emulated x2APIC. Expected values are written from the
 * Intel SDM (vol. 3, APIC chapter) in this file: MSR numbers from the x2APIC
 * register table, bit layouts from the register figures, priorities and
 * timer arithmetic from the rules quoted next to each test. Nothing here
 * derives an expectation by calling lapic.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>

#include "apic/lapic.h"

/* SDM "x2APIC Register Address Space". */
enum {
	APIC_BASE = 0x1b,
	TSC_DEADLINE = 0x6e0,
	X_ID = 0x802,
	X_VER = 0x803,
	X_TPR = 0x808,
	X_PPR = 0x80a,
	X_EOI = 0x80b,
	X_LDR = 0x80d,
	X_SVR = 0x80f,
	X_ISR0 = 0x810,
	X_TMR0 = 0x818,
	X_IRR0 = 0x820,
	X_ESR = 0x828,
	X_CMCI = 0x82f,
	X_ICR = 0x830,
	X_TIMER = 0x832,
	X_THERMAL = 0x833,
	X_PERF = 0x834,
	X_LINT0 = 0x835,
	X_LINT1 = 0x836,
	X_ERROR = 0x837,
	X_TMICT = 0x838,
	X_TMCCT = 0x839,
	X_TDCR = 0x83e,
	X_SELF_IPI = 0x83f,
};

#define EN	 (1ull << 11)
#define EXTD	 (1ull << 10)
#define BSP	 (1ull << 8)
#define MASK	 (1u << 16)
#define PERIODIC (1u << 17)
#define DEADLINE (2u << 17)

static uint64_t rd(const struct lapic *l, uint32_t msr, uint64_t now)
{
	uint64_t v = 0xdeadbeef;

	assert_int_equal(lapic_rdmsr(l, msr, now, &v), LAPIC_OK);
	return v;
}

static struct lapic_effect wr(struct lapic *l, uint32_t msr, uint64_t val, uint64_t now)
{
	struct lapic_effect eff;

	assert_int_equal(lapic_wrmsr(l, msr, val, now, &eff), LAPIC_OK);
	return eff;
}

static void rd_gp(const struct lapic *l, uint32_t msr)
{
	uint64_t v;

	assert_int_equal(lapic_rdmsr(l, msr, 0, &v), LAPIC_GP);
}

static void wr_gp(struct lapic *l, uint32_t msr, uint64_t val)
{
	struct lapic_effect eff;

	assert_int_equal(lapic_wrmsr(l, msr, val, 0, &eff), LAPIC_GP);
}

/* An APIC as a guest leaves it after boot: x2APIC mode, software-enabled, spurious 0xFF. */
static void x2apic_up(struct lapic *l, uint32_t id)
{
	lapic_init(l, id);
	wr(l, APIC_BASE, 0xfee00000ull | EN | EXTD | (id == 0 ? BSP : 0), 0);
	wr(l, X_SVR, 0x1ff, 0);
}

/* IRR/ISR/TMR register n holds vectors 32n..32n+31, vector v at bit v % 32. */
static bool reg_bit(const struct lapic *l, uint32_t base, unsigned int v)
{
	return (rd(l, base + v / 32, 0) >> (v % 32)) & 1;
}

static void put_in_service(struct lapic *l, uint8_t v)
{
	assert_int_equal(lapic_accept(l, v), LAPIC_ACCEPTED);
	assert_int_equal(lapic_ack(l, v), 0);
}

/* ---- APIC_BASE ---------------------------------------------------------- */

static void test_reset_apic_base(void **state)
{
	struct lapic l;

	(void)state;
	lapic_init(&l, 0);
	/* Reset: base 0xFEE00000, EN set, BSP on the boot processor, EXTD clear. */
	assert_int_equal(rd(&l, APIC_BASE, 0), 0xfee00900ull);
	lapic_init(&l, 7);
	assert_int_equal(rd(&l, APIC_BASE, 0), 0xfee00800ull);
	assert_false(lapic_x2apic_enabled(&l));
}

static void test_apic_base_transitions(void **state)
{
	const uint64_t xapic = 0xfee00000ull | EN, x2apic = xapic | EXTD, off = 0xfee00000ull;
	const uint64_t invalid = 0xfee00000ull | EXTD;
	struct lapic l;

	(void)state;
	lapic_init(&l, 3);
	wr_gp(&l, APIC_BASE, invalid); /* xAPIC -> invalid */
	wr(&l, APIC_BASE, xapic, 0);   /* xAPIC -> xAPIC */
	wr(&l, APIC_BASE, x2apic, 0);  /* xAPIC -> x2APIC */
	assert_true(lapic_x2apic_enabled(&l));
	wr(&l, APIC_BASE, x2apic, 0);  /* x2APIC -> x2APIC */
	wr_gp(&l, APIC_BASE, xapic);   /* x2APIC -> xAPIC: illegal */
	wr_gp(&l, APIC_BASE, invalid); /* x2APIC -> invalid */
	assert_int_equal(rd(&l, APIC_BASE, 0), x2apic);
	wr(&l, APIC_BASE, off, 0); /* x2APIC -> disabled */
	assert_int_equal(rd(&l, APIC_BASE, 0), off);
	wr_gp(&l, APIC_BASE, x2apic);  /* disabled -> x2APIC: must go through xAPIC */
	wr_gp(&l, APIC_BASE, invalid); /* disabled -> invalid */
	wr(&l, APIC_BASE, xapic, 0);   /* disabled -> xAPIC */
	wr(&l, APIC_BASE, off, 0);     /* xAPIC -> disabled */
	wr(&l, APIC_BASE, xapic, 0);
	wr(&l, APIC_BASE, x2apic, 0);
	assert_int_equal(rd(&l, APIC_BASE, 0), x2apic);
}

static void test_apic_base_reserved(void **state)
{
	const uint64_t xapic = 0xfee00000ull | EN;
	struct lapic l;
	unsigned int b;

	(void)state;
	lapic_init(&l, 1);
	/* Bits 0-7, 9 and 52-63 are reserved (52-bit physical addresses). */
	for (b = 0; b < 8; b++)
		wr_gp(&l, APIC_BASE, xapic | (1ull << b));
	wr_gp(&l, APIC_BASE, xapic | (1ull << 9));
	for (b = 52; b < 64; b++)
		wr_gp(&l, APIC_BASE, xapic | (1ull << b));
	assert_int_equal(rd(&l, APIC_BASE, 0), xapic);
	/* The base address field itself is writable. */
	wr(&l, APIC_BASE, 0xfed00000ull | EN, 0);
	assert_int_equal(rd(&l, APIC_BASE, 0), 0xfed00000ull | EN);
	wr(&l, APIC_BASE, (1ull << 51) | EN, 0);
}

static void test_x2apic_not_enabled_gp(void **state)
{
	struct lapic l;
	uint32_t msr;

	(void)state;
	lapic_init(&l, 2); /* xAPIC mode */
	for (msr = 0x800; msr <= 0x8ff; msr++) {
		rd_gp(&l, msr);
		wr_gp(&l, msr, 0);
	}
	wr(&l, APIC_BASE, 0xfee00000ull, 0); /* disabled */
	for (msr = 0x800; msr <= 0x8ff; msr++) {
		rd_gp(&l, msr);
		wr_gp(&l, msr, 0);
	}
	/* A globally disabled APIC accepts nothing and has nothing to deliver. */
	assert_int_equal(lapic_accept(&l, 0x40), LAPIC_REJECTED);
	assert_int_equal(lapic_highest_deliverable(&l), -1);
}

static void test_disable_resets_registers(void **state)
{
	struct lapic l;
	struct lapic_effect eff;
	uint32_t msr;

	(void)state;
	x2apic_up(&l, 9);
	wr(&l, X_TPR, 0x20, 0);
	wr(&l, X_TIMER, 0x30, 0);
	wr(&l, X_TMICT, 500, 0);
	assert_int_equal(lapic_accept(&l, 0x50), LAPIC_ACCEPTED);
	eff = wr(&l, APIC_BASE, 0xfee00000ull, 0);
	assert_true(eff.timer_changed);
	assert_int_equal(lapic_timer_next(&l), 0);
	wr(&l, APIC_BASE, 0xfee00000ull | EN, 0);
	wr(&l, APIC_BASE, 0xfee00000ull | EN | EXTD, 0);
	/* Only the x2APIC ID survives; the rest is back at its reset value. */
	assert_int_equal(rd(&l, X_ID, 0), 9);
	assert_int_equal(rd(&l, X_TPR, 0), 0);
	assert_int_equal(rd(&l, X_SVR, 0), 0xff);
	assert_int_equal(rd(&l, X_TMICT, 0), 0);
	for (msr = X_IRR0; msr < X_IRR0 + 8; msr++)
		assert_int_equal(rd(&l, msr, 0), 0);
	for (msr = X_TIMER; msr <= X_ERROR; msr++)
		assert_int_equal(rd(&l, msr, 0), MASK);
	assert_int_equal(rd(&l, X_CMCI, 0), MASK);
}

/* ---- Register map ------------------------------------------------------- */

static void test_id_version(void **state)
{
	struct lapic l;
	uint64_t ver;

	(void)state;
	x2apic_up(&l, 5);
	assert_int_equal(rd(&l, X_ID, 0), 5);
	x2apic_up(&l, 63);
	assert_int_equal(rd(&l, X_ID, 0), 63);
	ver = rd(&l, X_VER, 0);
	assert_int_equal(ver & 0xff, 0x14);	 /* integrated APIC */
	assert_int_equal((ver >> 16) & 0xff, 6); /* 7 LVT entries (with CMCI) minus one */
	assert_int_equal((ver >> 24) & 1, 0);	 /* no EOI-broadcast suppression */
}

static void test_ldr_derivation(void **state)
{
	/* x2APIC LDR: cluster = id[31:4] in bits 31:16, member bit 1 << id[3:0]. */
	static const struct {
		uint32_t id, ldr;
	} c[] = {
		{ 0, 0x00000001 },  { 1, 0x00000002 },	{ 15, 0x00008000 }, { 16, 0x00010001 },
		{ 17, 0x00010002 }, { 31, 0x00018000 }, { 47, 0x00028000 }, { 63, 0x00038000 },
	};
	struct lapic l;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		x2apic_up(&l, c[i].id);
		assert_int_equal(rd(&l, X_LDR, 0), c[i].ldr);
		assert_int_equal(lapic_x2apic_ldr(c[i].id), c[i].ldr);
	}
}

static void test_readonly_write_gp(void **state)
{
	static const uint32_t ro[] = { X_ID, X_VER, X_PPR, X_LDR, X_TMCCT };
	static const uint64_t vals[] = { 0, 1, 0xff };
	struct lapic l;
	size_t i, j;
	uint32_t n;

	(void)state;
	x2apic_up(&l, 4);
	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		for (j = 0; j < sizeof(vals) / sizeof(vals[0]); j++)
			wr_gp(&l, ro[i], vals[j]);
	}
	for (n = 0; n < 8; n++) {
		wr_gp(&l, X_ISR0 + n, 0);
		wr_gp(&l, X_TMR0 + n, 0);
		wr_gp(&l, X_IRR0 + n, 0);
	}
	assert_int_equal(rd(&l, X_ID, 0), 4);
}

static void test_writeonly_read_gp(void **state)
{
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	rd_gp(&l, X_EOI);
	rd_gp(&l, X_SELF_IPI);
}

static void test_unknown_registers_gp(void **state)
{
	/* Holes of the x2APIC map: APR, RRD, DFR and ICR high do not exist in x2APIC mode. */
	static const uint32_t holes[] = { 0x800, 0x801, 0x804, 0x805, 0x806, 0x807, 0x809, 0x80c,
					  0x80e, 0x829, 0x82a, 0x82b, 0x82c, 0x82d, 0x82e, 0x831,
					  0x83a, 0x83b, 0x83c, 0x83d, 0x840, 0x880, 0x8ff };
	struct lapic l;
	size_t i;

	(void)state;
	x2apic_up(&l, 0);
	for (i = 0; i < sizeof(holes) / sizeof(holes[0]); i++) {
		rd_gp(&l, holes[i]);
		wr_gp(&l, holes[i], 0);
	}
	/* Not an APIC MSR at all. */
	assert_false(lapic_msr_is_apic(0x10));
	assert_true(lapic_msr_is_apic(0x1b));
	assert_true(lapic_msr_is_apic(0x6e0));
	assert_true(lapic_msr_is_apic(0x8ff));
	assert_false(lapic_msr_is_apic(0x900));
}

/* Every address of 0x800-0x8FF against the SDM table: readable / writable with value 0. */
static void test_register_map_exhaustive(void **state)
{
	struct lapic l;
	struct lapic_effect eff;
	uint64_t v;
	uint32_t msr;
	bool readable, writable;

	(void)state;
	for (msr = 0x800; msr <= 0x8ff; msr++) {
		readable = msr == X_ID || msr == X_VER || msr == X_TPR || msr == X_PPR ||
			   msr == X_LDR || msr == X_SVR || (msr >= 0x810 && msr <= 0x828) ||
			   msr == X_CMCI || msr == X_ICR || (msr >= 0x832 && msr <= 0x839) ||
			   msr == X_TDCR;
		writable = msr == X_TPR || msr == X_EOI || msr == X_SVR || msr == X_ESR ||
			   msr == X_CMCI || msr == X_ICR || (msr >= 0x832 && msr <= 0x838) ||
			   msr == X_TDCR || msr == X_SELF_IPI;
		x2apic_up(&l, 1);
		assert_int_equal(lapic_rdmsr(&l, msr, 0, &v), readable ? LAPIC_OK : LAPIC_GP);
		assert_int_equal(lapic_wrmsr(&l, msr, 0, 0, &eff), writable ? LAPIC_OK : LAPIC_GP);
	}
}

struct bad_write {
	uint32_t msr;
	uint64_t val;
};

static void test_reserved_bits_gp(void **state)
{
	static const struct bad_write bad[] = {
		{ X_TPR, 0x100 },
		{ X_TPR, 1ull << 32 },
		{ X_SVR, 1u << 10 },
		{ X_SVR, 1u << 12 },
		{ X_SVR, 1ull << 32 },
		{ X_ESR, 1 },
		{ X_ESR, 0x40 },
		{ X_EOI, 1 },
		{ X_EOI, 1ull << 32 },
		{ X_TIMER, 1u << 8 },
		{ X_TIMER, 1u << 12 },
		{ X_TIMER, 1u << 15 },
		{ X_TIMER, 1u << 19 },
		{ X_TIMER, 3u << 17 },
		{ X_TIMER, 1ull << 32 },
		{ X_THERMAL, 1u << 12 },
		{ X_THERMAL, 1u << 13 },
		{ X_THERMAL, 1u << 15 },
		{ X_PERF, 1u << 17 },
		{ X_CMCI, 1u << 12 },
		{ X_CMCI, 1u << 15 },
		{ X_LINT0, 1u << 12 },
		{ X_LINT0, 1u << 14 },
		{ X_LINT1, 1u << 17 },
		{ X_ERROR, 1u << 8 },
		{ X_ERROR, 1u << 12 },
		{ X_ERROR, 1u << 15 },
		{ X_TMICT, 1ull << 32 },
		{ X_TDCR, 1u << 2 },
		{ X_TDCR, 1u << 4 },
		{ X_TDCR, 1u << 31 },
		{ X_ICR, 1u << 12 },
		{ X_ICR, 1u << 13 },
		{ X_ICR, 1u << 16 },
		{ X_ICR, 1u << 17 },
		{ X_ICR, 1u << 20 },
		{ X_ICR, 1u << 31 },
		{ X_SELF_IPI, 1u << 8 },
		{ X_SELF_IPI, 1ull << 32 },
	};
	struct lapic l;
	uint64_t before;
	size_t i;

	(void)state;
	x2apic_up(&l, 2);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i].msr == X_EOI || bad[i].msr == X_SELF_IPI) {
			wr_gp(&l, bad[i].msr, bad[i].val);
			continue;
		}
		before = rd(&l, bad[i].msr, 0);
		wr_gp(&l, bad[i].msr, bad[i].val);
		assert_int_equal(rd(&l, bad[i].msr, 0), before); /* a #GP changes nothing */
	}
}

static void test_register_readback(void **state)
{
	/* Every defined bit of each read/write register (SDM register figures). */
	static const struct bad_write good[] = {
		{ X_TPR, 0xff },
		{ X_TIMER, 0x300ff },
		{ X_THERMAL, 0x107ff },
		{ X_PERF, 0x107ff },
		{ X_LINT0, 0x1a7ff },
		{ X_LINT1, 0x1a7ff },
		{ X_ERROR, 0x100ff },
		{ X_CMCI, 0x107ff },
		{ X_TDCR, 0xb },
		{ X_TMICT, 0xffffffff },
		{ X_ICR, 0xffffffff000ccfffull },
		{ X_SVR, 0x3ff },
		{ X_SVR, 0x1ff },
	};
	struct lapic l;
	size_t i;

	(void)state;
	x2apic_up(&l, 2);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		wr(&l, good[i].msr, good[i].val, 0);
		assert_int_equal(rd(&l, good[i].msr, 0), good[i].val);
	}
}

/* ---- ESR ---------------------------------------------------------------- */

static void test_esr_write_latch(void **state)
{
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	assert_int_equal(rd(&l, X_ESR, 0), 0);
	assert_int_equal(lapic_accept(&l, 3), LAPIC_REJECTED);
	/* "Error Status Register": errors become visible only after a write. */
	assert_int_equal(rd(&l, X_ESR, 0), 0);
	wr(&l, X_ESR, 0, 0);
	assert_int_equal(rd(&l, X_ESR, 0), 1u << 6); /* received illegal vector */
	wr(&l, X_ESR, 0, 0);
	assert_int_equal(rd(&l, X_ESR, 0), 0);
	lapic_error(&l, 1u << 5);
	assert_int_equal(lapic_accept(&l, 15), LAPIC_REJECTED);
	assert_int_equal(rd(&l, X_ESR, 0), 0);
	wr(&l, X_ESR, 0, 0);
	assert_int_equal(rd(&l, X_ESR, 0), (1u << 5) | (1u << 6));
}

static void test_esr_error_interrupt(void **state)
{
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	wr(&l, X_ERROR, 0xfe, 0);
	assert_int_equal(lapic_accept(&l, 2), LAPIC_REJECTED);
	assert_true(reg_bit(&l, X_IRR0, 0xfe));
	assert_int_equal(lapic_ack(&l, 0xfe), 0);
	/* No second error interrupt until software writes ESR (which re-arms it). */
	assert_int_equal(lapic_error(&l, 1u << 5), LAPIC_NONE);
	assert_false(reg_bit(&l, X_IRR0, 0xfe));
	wr(&l, X_ESR, 0, 0);
	assert_int_equal(lapic_error(&l, 1u << 5), LAPIC_ACCEPTED);
	assert_true(reg_bit(&l, X_IRR0, 0xfe));
	/* A masked error LVT logs the error but raises nothing. */
	wr(&l, X_ESR, 0, 0);
	wr(&l, X_ERROR, 0xfe | MASK, 0);
	assert_int_equal(lapic_error(&l, 1u << 5), LAPIC_NONE);
}

/* ---- Acceptance, priority, EOI ------------------------------------------ */

static void test_accept_coalescing(void **state)
{
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	assert_int_equal(lapic_accept(&l, 0x40), LAPIC_ACCEPTED);
	assert_int_equal(lapic_accept(&l, 0x40), LAPIC_COALESCED);
	assert_int_equal(lapic_accept(&l, 0x41), LAPIC_ACCEPTED);
	/* "Interrupt Acceptance for Fixed Interrupts": one in IRR plus one in ISR per vector. */
	assert_int_equal(lapic_ack(&l, 0x40), 0);
	assert_int_equal(lapic_accept(&l, 0x40), LAPIC_ACCEPTED);
	assert_int_equal(lapic_accept(&l, 0x40), LAPIC_COALESCED);
	assert_true(reg_bit(&l, X_IRR0, 0x40));
	assert_true(reg_bit(&l, X_ISR0, 0x40));
}

static void test_accept_illegal_vector(void **state)
{
	struct lapic l;
	unsigned int v;
	uint32_t n;

	(void)state;
	x2apic_up(&l, 0);
	for (v = 0; v < 16; v++)
		assert_int_equal(lapic_accept(&l, (uint8_t)v), LAPIC_REJECTED);
	for (n = 0; n < 8; n++)
		assert_int_equal(rd(&l, X_IRR0 + n, 0), 0);
	assert_int_equal(lapic_accept(&l, 16), LAPIC_ACCEPTED);
	wr(&l, X_ESR, 0, 0);
	assert_int_equal(rd(&l, X_ESR, 0), 1u << 6);
}

static void test_svr_software_disable(void **state)
{
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	wr(&l, X_TIMER, 0x30, 0);
	wr(&l, X_LINT0, 0x31, 0);
	assert_int_equal(lapic_accept(&l, 0x50), LAPIC_ACCEPTED);
	wr(&l, X_SVR, 0xff, 0); /* bit 8 clear: software disabled */
	assert_int_equal(lapic_accept(&l, 0x60), LAPIC_REJECTED);
	/* "Software disabled": every LVT mask is set and cannot be cleared. */
	assert_int_equal(rd(&l, X_TIMER, 0), 0x30 | MASK);
	assert_int_equal(rd(&l, X_LINT0, 0), 0x31 | MASK);
	wr(&l, X_TIMER, 0x32, 0);
	assert_int_equal(rd(&l, X_TIMER, 0), 0x32 | MASK);
	/* What was already in IRR is held. */
	assert_true(reg_bit(&l, X_IRR0, 0x50));
	assert_false(reg_bit(&l, X_IRR0, 0x60));
	wr(&l, X_SVR, 0x1ff, 0);
	assert_int_equal(rd(&l, X_TIMER, 0), 0x32 | MASK); /* re-enabling does not unmask */
	assert_int_equal(lapic_accept(&l, 0x60), LAPIC_ACCEPTED);
}

static void test_priority_classes(void **state)
{
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	assert_int_equal(lapic_highest_deliverable(&l), -1);
	lapic_accept(&l, 0x10);
	assert_int_equal(lapic_highest_deliverable(&l), 0x10); /* class 1 > PPR class 0 */
	lapic_accept(&l, 0x4f);
	lapic_accept(&l, 0x41);
	assert_int_equal(lapic_highest_deliverable(&l), 0x4f);

	x2apic_up(&l, 0);
	put_in_service(&l, 0x35);
	lapic_accept(&l, 0x31);
	lapic_accept(&l, 0x3f);
	/* 0x3F > 0x35 but shares class 3: not above PPR class 3. */
	assert_int_equal(lapic_highest_deliverable(&l), -1);
	lapic_accept(&l, 0x41);
	assert_int_equal(lapic_highest_deliverable(&l), 0x41);
}

static void test_tpr_masking(void **state)
{
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	lapic_accept(&l, 0x55);
	lapic_accept(&l, 0x5f);
	wr(&l, X_TPR, 0x50, 0);
	assert_int_equal(lapic_highest_deliverable(&l), -1);
	wr(&l, X_TPR, 0x5f, 0);
	assert_int_equal(lapic_highest_deliverable(&l), -1);
	wr(&l, X_TPR, 0x4f, 0);
	assert_int_equal(lapic_highest_deliverable(&l), 0x5f);
	wr(&l, X_TPR, 0x50, 0);
	lapic_accept(&l, 0x61);
	assert_int_equal(lapic_highest_deliverable(&l), 0x61);
	lapic_accept(&l, 0xfe);
	wr(&l, X_TPR, 0xff, 0);
	assert_int_equal(lapic_highest_deliverable(&l), -1);
	wr(&l, X_TPR, 0, 0);
	assert_int_equal(lapic_highest_deliverable(&l), 0xfe);
}

static void test_ppr_computation(void **state)
{
	/*
	 * "Processor Priority Register": ISRV = highest vector in service (0 if
	 * none); PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4.
	 */
	static const struct {
		uint8_t tpr;
		uint8_t isr[3]; /* 0 ends the list */
		uint8_t ppr;
	} c[] = {
		{ 0x00, { 0 }, 0x00 },
		{ 0x25, { 0 }, 0x25 },
		{ 0x25, { 0x31 }, 0x30 },
		{ 0x35, { 0x31 }, 0x35 },
		{ 0x3f, { 0x4a }, 0x40 },
		{ 0x4a, { 0x41 }, 0x4a },
		{ 0x10, { 0x31, 0x95, 0x60 }, 0x90 },
		{ 0xf0, { 0xff }, 0xf0 },
		{ 0x00, { 0x20 }, 0x20 },
	};
	struct lapic l;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		x2apic_up(&l, 0);
		wr(&l, X_TPR, c[i].tpr, 0);
		for (j = 0; j < 3 && c[i].isr[j]; j++)
			put_in_service(&l, c[i].isr[j]);
		assert_int_equal(rd(&l, X_PPR, 0), c[i].ppr);
		assert_int_equal(lapic_ppr(&l), c[i].ppr);
	}
}

static void test_eoi_nested(void **state)
{
	struct lapic l;
	struct lapic_effect eff;

	(void)state;
	x2apic_up(&l, 0);
	assert_int_equal(lapic_accept(&l, 0x40), LAPIC_ACCEPTED);
	assert_int_equal(lapic_highest_deliverable(&l), 0x40);
	assert_int_equal(lapic_ack(&l, 0x40), 0);
	/* A higher class preempts the one in service. */
	assert_int_equal(lapic_accept(&l, 0x80), LAPIC_ACCEPTED);
	assert_int_equal(lapic_highest_deliverable(&l), 0x80);
	assert_int_equal(lapic_ack(&l, 0x80), 0);
	assert_true(reg_bit(&l, X_ISR0, 0x40));
	assert_true(reg_bit(&l, X_ISR0, 0x80));
	/* EOI retires the highest vector in service first. */
	eff = wr(&l, X_EOI, 0, 0);
	assert_int_equal(eff.eoi_vector, 0x80);
	assert_false(eff.send_ipi);
	assert_false(reg_bit(&l, X_ISR0, 0x80));
	assert_true(reg_bit(&l, X_ISR0, 0x40));
	eff = wr(&l, X_EOI, 0, 0);
	assert_int_equal(eff.eoi_vector, 0x40);
	eff = wr(&l, X_EOI, 0, 0);
	assert_int_equal(eff.eoi_vector, -1);
}

static void test_lower_waits_for_eoi(void **state)
{
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	put_in_service(&l, 0x80);
	lapic_accept(&l, 0x40);
	lapic_accept(&l, 0x8f);
	assert_int_equal(lapic_highest_deliverable(&l), -1);
	assert_int_equal(lapic_eoi(&l), 0x80);
	assert_int_equal(lapic_highest_deliverable(&l), 0x8f);
	assert_int_equal(lapic_ack(&l, 0x8f), 0);
	assert_int_equal(lapic_highest_deliverable(&l), -1);
	assert_int_equal(lapic_eoi(&l), 0x8f);
	assert_int_equal(lapic_highest_deliverable(&l), 0x40);
}

static void test_ack_at_injection(void **state)
{
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	assert_int_equal(lapic_ack(&l, 0x40), -1); /* not pending */
	lapic_accept(&l, 0x40);
	/* Accepting does not put it in service; only the ack does. */
	assert_false(reg_bit(&l, X_ISR0, 0x40));
	assert_int_equal(rd(&l, X_PPR, 0), 0);
	assert_int_equal(lapic_ack(&l, 0x40), 0);
	assert_false(reg_bit(&l, X_IRR0, 0x40));
	assert_true(reg_bit(&l, X_ISR0, 0x40));
	assert_int_equal(rd(&l, X_PPR, 0), 0x40);
	assert_int_equal(lapic_ack(&l, 0x40), -1);
}

static void test_irr_isr_registers(void **state)
{
	static const uint8_t vecs[] = { 0x20, 0x5f, 0xe1, 0xff, 0x10 };
	uint32_t expect[8] = { 0 };
	struct lapic l;
	size_t i;
	uint32_t n;

	(void)state;
	x2apic_up(&l, 0);
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		lapic_accept(&l, vecs[i]);
		expect[vecs[i] / 32] |= 1u << (vecs[i] % 32);
	}
	for (n = 0; n < 8; n++) {
		assert_int_equal(rd(&l, X_IRR0 + n, 0), expect[n]);
		assert_int_equal(rd(&l, X_ISR0 + n, 0), 0);
		assert_int_equal(rd(&l, X_TMR0 + n, 0), 0); /* edge only */
	}
	lapic_ack(&l, 0x5f);
	assert_int_equal(rd(&l, X_ISR0 + 2, 0), 0x80000000u);
	assert_int_equal(rd(&l, X_IRR0 + 2, 0), 0);
	assert_int_equal(rd(&l, X_IRR0 + 7, 0), 0x80000002u);
}

/* ---- ICR, SELF_IPI ------------------------------------------------------ */

static void test_icr_write(void **state)
{
	/* Fixed, logical, dest cluster 2 member 0x3, vector 0xEC. */
	const uint64_t icr = (0x00020003ull << 32) | (1u << 11) | 0xec;
	struct lapic l;
	struct lapic_effect eff;

	(void)state;
	x2apic_up(&l, 0);
	assert_int_equal(rd(&l, X_ICR, 0), 0);
	eff = wr(&l, X_ICR, icr, 0);
	assert_true(eff.send_ipi);
	assert_int_equal(eff.icr, icr);
	assert_int_equal(eff.eoi_vector, -1);
	assert_false(eff.timer_changed);
	assert_int_equal(rd(&l, X_ICR, 0), icr);
	eff = wr(&l, X_TPR, 0, 0);
	assert_false(eff.send_ipi);
}

static void test_self_ipi_msr(void **state)
{
	const uint64_t icr = (5ull << 32) | 0xd0;
	struct lapic l;
	struct lapic_effect eff;

	(void)state;
	x2apic_up(&l, 5);
	wr(&l, X_ICR, icr, 0);
	eff = wr(&l, X_SELF_IPI, 0x45, 0);
	/* "SELF IPI": same as an ICR fixed, edge, shorthand self (bits 19:18 = 01). */
	assert_true(eff.send_ipi);
	assert_int_equal(eff.icr, (1ull << 18) | 0x45);
	assert_int_equal(rd(&l, X_ICR, 0), icr);
}

/* ---- Timer -------------------------------------------------------------- */

/* Divide configuration (bits 3,1,0) to divisor, from the SDM figure. */
static const struct {
	uint32_t dcr;
	uint64_t div;
} divides[] = {
	{ 0x0, 2 },  { 0x1, 4 },  { 0x2, 8 },	{ 0x3, 16 },
	{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
};

/* Current count of a one-shot started at t0: N - floor((t - t0) / D) until it reaches 0. */
static uint64_t ref_count(uint64_t n, uint64_t d, uint64_t t0, uint64_t t)
{
	uint64_t ticks = (t - t0) / d;

	return ticks >= n ? 0 : n - ticks;
}

static void test_timer_oneshot_every_divide(void **state)
{
	const uint64_t t0 = 1000000, n = 1000;
	struct lapic_timer_event ev;
	struct lapic_effect eff;
	struct lapic l;
	uint64_t d, expiry;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(divides) / sizeof(divides[0]); i++) {
		d = divides[i].div;
		expiry = t0 + n * d;
		x2apic_up(&l, 0);
		wr(&l, X_TDCR, divides[i].dcr, 0);
		wr(&l, X_TIMER, 0x40, 0); /* one-shot, unmasked */
		eff = wr(&l, X_TMICT, n, t0);
		assert_true(eff.timer_changed);
		assert_int_equal(lapic_timer_next(&l), expiry);
		assert_int_equal(rd(&l, X_TMCCT, t0), n);
		assert_int_equal(rd(&l, X_TMCCT, t0 + 3 * d), ref_count(n, d, t0, t0 + 3 * d));
		assert_int_equal(rd(&l, X_TMCCT, t0 + 4 * d - 1),
				 ref_count(n, d, t0, t0 + 4 * d - 1));
		assert_int_equal(rd(&l, X_TMCCT, expiry - 1), ref_count(n, d, t0, expiry - 1));
		assert_false(lapic_timer_fire(&l, expiry - 1, &ev));
		assert_false(reg_bit(&l, X_IRR0, 0x40));
		assert_int_equal(rd(&l, X_TMCCT, expiry), 0);
		assert_true(lapic_timer_fire(&l, expiry, &ev));
		assert_int_equal(ev.irq, LAPIC_ACCEPTED);
		assert_true(reg_bit(&l, X_IRR0, 0x40));
		/* One-shot: disarmed, count stays 0, initial count unchanged. */
		assert_int_equal(lapic_timer_next(&l), 0);
		assert_false(lapic_timer_fire(&l, expiry + n * d, &ev));
		assert_int_equal(rd(&l, X_TMCCT, expiry + 5), 0);
		assert_int_equal(rd(&l, X_TMICT, expiry + 5), n);
	}
}

static void test_timer_periodic_rearm(void **state)
{
	const uint64_t t0 = 5000, n = 100, period = 200; /* divide by 2 */
	struct lapic_timer_event ev;
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	wr(&l, X_TDCR, 0x0, 0);
	wr(&l, X_TIMER, 0x41 | PERIODIC, 0);
	wr(&l, X_TMICT, n, t0);
	assert_int_equal(lapic_timer_next(&l), t0 + period);
	assert_true(lapic_timer_fire(&l, t0 + period, &ev));
	assert_int_equal(ev.irq, LAPIC_ACCEPTED);
	assert_int_equal(ev.missed, 0);
	assert_int_equal(lapic_timer_next(&l), t0 + 2 * period);
	/* Late by 10 cycles: next is still on the original grid. */
	assert_true(lapic_timer_fire(&l, t0 + 2 * period + 10, &ev));
	assert_int_equal(ev.missed, 0);
	assert_int_equal(ev.irq, LAPIC_COALESCED); /* 0x41 still in IRR */
	assert_int_equal(lapic_timer_next(&l), t0 + 3 * period);
}

/*
 * A periodic timer faster than the minimum period fires at the minimum (as
 * KVM's min_timer_period_us), and its count still reads within 0..initial.
 * One-shot timers are not clamped. The minimum survives an APIC reset.
 */
static void test_timer_periodic_clamped(void **state)
{
	const uint64_t t0 = 5000, min = 1000; /* count 10 at divide 2 would be 20 cycles */
	struct lapic_timer_event ev;
	uint64_t v = 0;
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	lapic_set_min_period(&l, min);
	wr(&l, X_TDCR, 0x0, 0);
	wr(&l, X_TIMER, 0x41 | PERIODIC, 0);
	wr(&l, X_TMICT, 10, t0);
	assert_int_equal(lapic_timer_next(&l), t0 + min);
	assert_int_equal(lapic_rdmsr(&l, X_TMCCT, t0 + 1, &v), LAPIC_OK);
	assert_int_equal(v, 10);
	assert_true(lapic_timer_fire(&l, t0 + min, &ev));
	assert_int_equal(lapic_timer_next(&l), t0 + 2 * min);
	/* One-shot: the count as programmed. */
	wr(&l, X_TIMER, 0x41, 0);
	wr(&l, X_TMICT, 10, t0);
	assert_int_equal(lapic_timer_next(&l), t0 + 20);
	/* Through a global disable and re-enable the minimum stays. */
	wr(&l, APIC_BASE, 0xfee00000ull | BSP, 0);
	wr(&l, APIC_BASE, 0xfee00000ull | EN | BSP, 0);
	wr(&l, APIC_BASE, 0xfee00000ull | EN | EXTD | BSP, 0);
	wr(&l, X_SVR, 0x1ff, 0);
	wr(&l, X_TIMER, 0x41 | PERIODIC, 0);
	wr(&l, X_TMICT, 10, t0);
	assert_int_equal(lapic_timer_next(&l), t0 + min);
}

static void test_timer_periodic_missed(void **state)
{
	const uint64_t t0 = 5000, period = 200;
	struct lapic_timer_event ev;
	struct lapic l;
	uint64_t first = t0 + period;

	(void)state;
	x2apic_up(&l, 0);
	wr(&l, X_TDCR, 0x0, 0);
	wr(&l, X_TIMER, 0x41 | PERIODIC, 0);
	wr(&l, X_TMICT, 100, t0);
	/* Expiries at first, +200, +400, +600 have all passed: one interrupt, 3 missed. */
	assert_true(lapic_timer_fire(&l, first + 3 * period + 50, &ev));
	assert_int_equal(ev.irq, LAPIC_ACCEPTED);
	assert_int_equal(ev.missed, 3);
	assert_int_equal(lapic_timer_next(&l), first + 4 * period);
	assert_false(lapic_timer_fire(&l, first + 4 * period - 1, &ev));
}

static void test_timer_current_count(void **state)
{
	const uint64_t t0 = 5000, n = 100, d = 2, period = 200;
	struct lapic l;
	uint64_t t;

	(void)state;
	x2apic_up(&l, 0);
	wr(&l, X_TDCR, 0x0, 0);
	wr(&l, X_TIMER, 0x41 | PERIODIC, 0);
	wr(&l, X_TMICT, n, t0);
	/* Periodic: the count reloads N at each period boundary, fired or not. */
	for (t = t0; t < t0 + 3 * period; t += 37)
		assert_int_equal(rd(&l, X_TMCCT, t), n - ((t - t0) % period) / d);
	assert_int_equal(rd(&l, X_TMCCT, t0 + 350), 25);
	assert_int_equal(rd(&l, X_TMCCT, t0 + period), n);

	/* Stopped timer reads 0. */
	wr(&l, X_TMICT, 0, t0);
	assert_int_equal(rd(&l, X_TMCCT, t0 + 1), 0);
}

static void test_timer_masked(void **state)
{
	struct lapic_timer_event ev;
	struct lapic l;
	uint32_t n;

	(void)state;
	x2apic_up(&l, 0);
	wr(&l, X_TDCR, 0xb, 0); /* divide by 1 */
	wr(&l, X_TIMER, 0x42 | PERIODIC | MASK, 0);
	wr(&l, X_TMICT, 1000, 0);
	/* Masked: it still counts and reloads, but nothing reaches IRR. */
	assert_int_equal(rd(&l, X_TMCCT, 250), 750);
	assert_int_equal(lapic_timer_next(&l), 1000);
	assert_true(lapic_timer_fire(&l, 1000, &ev));
	assert_int_equal(ev.irq, LAPIC_NONE);
	assert_int_equal(lapic_timer_next(&l), 2000);
	for (n = 0; n < 8; n++)
		assert_int_equal(rd(&l, X_IRR0 + n, 0), 0);
	/* Unmasking later lets the next expiry through. */
	wr(&l, X_TIMER, 0x42 | PERIODIC, 1500);
	assert_int_equal(lapic_timer_next(&l), 2000);
	assert_true(lapic_timer_fire(&l, 2000, &ev));
	assert_int_equal(ev.irq, LAPIC_ACCEPTED);
}

static void test_timer_svr_disabled_and_illegal(void **state)
{
	struct lapic_timer_event ev;
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	wr(&l, X_SVR, 0xff, 0);
	wr(&l, X_TDCR, 0xb, 0);
	wr(&l, X_TIMER, 0x40, 0); /* forced masked while software-disabled */
	wr(&l, X_TMICT, 10, 0);
	assert_true(lapic_timer_fire(&l, 10, &ev));
	assert_int_equal(ev.irq, LAPIC_NONE);

	/* An LVT vector below 16 is a "received illegal vector" error. */
	x2apic_up(&l, 0);
	wr(&l, X_TDCR, 0xb, 0);
	wr(&l, X_TIMER, 0x05, 0);
	wr(&l, X_TMICT, 10, 0);
	assert_true(lapic_timer_fire(&l, 10, &ev));
	assert_int_equal(ev.irq, LAPIC_REJECTED);
	wr(&l, X_ESR, 0, 0);
	assert_int_equal(rd(&l, X_ESR, 0), 1u << 6);
}

static void test_timer_initial_count_zero_stops(void **state)
{
	struct lapic_effect eff;
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	wr(&l, X_TIMER, 0x40 | PERIODIC, 0);
	wr(&l, X_TMICT, 50, 100);
	assert_int_equal(lapic_timer_next(&l), 100 + 50 * 2);
	eff = wr(&l, X_TMICT, 0, 120);
	assert_true(eff.timer_changed);
	assert_int_equal(lapic_timer_next(&l), 0);
	assert_int_equal(rd(&l, X_TMCCT, 130), 0);
	/* Re-writing the initial count restarts counting from now. */
	wr(&l, X_TMICT, 50, 1000);
	assert_int_equal(lapic_timer_next(&l), 1100);
	wr(&l, X_TMICT, 10, 1050);
	assert_int_equal(lapic_timer_next(&l), 1070);
}

static void test_timer_divide_change(void **state)
{
	const uint64_t t0 = 100000;
	struct lapic_effect eff;
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	wr(&l, X_TDCR, 0xb, 0); /* divide by 1 */
	wr(&l, X_TIMER, 0x40, 0);
	wr(&l, X_TMICT, 1000, t0);
	assert_int_equal(rd(&l, X_TMCCT, t0 + 400), 600);
	/* From t0+400 the remaining 600 counts run at divide by 4. */
	eff = wr(&l, X_TDCR, 0x1, t0 + 400);
	assert_true(eff.timer_changed);
	assert_int_equal(lapic_timer_next(&l), t0 + 400 + 600 * 4);
	assert_int_equal(rd(&l, X_TMCCT, t0 + 408), 598);
}

static void test_tsc_deadline_arm_disarm(void **state)
{
	struct lapic_timer_event ev;
	struct lapic_effect eff;
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	wr(&l, X_TIMER, 0x43 | DEADLINE, 0);
	assert_int_equal(lapic_timer_next(&l), 0);
	eff = wr(&l, TSC_DEADLINE, 10000, 5000);
	assert_true(eff.timer_changed);
	assert_int_equal(lapic_timer_next(&l), 10000);
	assert_int_equal(rd(&l, TSC_DEADLINE, 5000), 10000);
	assert_int_equal(rd(&l, X_TMCCT, 5000), 0); /* always 0 in TSC-deadline mode */
	assert_false(lapic_timer_fire(&l, 9999, &ev));
	assert_true(lapic_timer_fire(&l, 10000, &ev));
	assert_int_equal(ev.irq, LAPIC_ACCEPTED);
	assert_true(reg_bit(&l, X_IRR0, 0x43));
	/* One interrupt per write: fired means disarmed and the MSR cleared. */
	assert_int_equal(lapic_timer_next(&l), 0);
	assert_int_equal(rd(&l, TSC_DEADLINE, 10001), 0);
	assert_false(lapic_timer_fire(&l, 20000, &ev));

	wr(&l, TSC_DEADLINE, 30000, 20000);
	assert_int_equal(lapic_timer_next(&l), 30000);
	wr(&l, TSC_DEADLINE, 25000, 20000); /* moved earlier */
	assert_int_equal(lapic_timer_next(&l), 25000);
	eff = wr(&l, TSC_DEADLINE, 0, 20000);
	assert_true(eff.timer_changed);
	assert_int_equal(lapic_timer_next(&l), 0);
	assert_false(lapic_timer_fire(&l, 40000, &ev));
}

static void test_tsc_deadline_past(void **state)
{
	struct lapic_timer_event ev;
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	wr(&l, X_TIMER, 0x44 | DEADLINE, 0);
	/* A deadline already passed fires at the next check. */
	wr(&l, TSC_DEADLINE, 4000, 5000);
	assert_int_equal(lapic_timer_next(&l), 4000);
	assert_true(lapic_timer_fire(&l, 5000, &ev));
	assert_int_equal(ev.irq, LAPIC_ACCEPTED);
	assert_int_equal(ev.missed, 0);
	wr(&l, TSC_DEADLINE, 1, 5000);
	assert_true(lapic_timer_fire(&l, 5000, &ev));
	assert_int_equal(ev.irq, LAPIC_COALESCED);
}

static void test_tsc_deadline_other_modes(void **state)
{
	struct lapic_effect eff;
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	/* One-shot mode: the deadline MSR reads 0 and ignores writes. */
	eff = wr(&l, TSC_DEADLINE, 1234, 0);
	assert_false(eff.timer_changed);
	assert_int_equal(rd(&l, TSC_DEADLINE, 0), 0);
	assert_int_equal(lapic_timer_next(&l), 0);
	/* TSC-deadline mode: initial-count writes are ignored, current count reads 0. */
	wr(&l, X_TIMER, 0x40 | DEADLINE, 0);
	eff = wr(&l, X_TMICT, 1000, 0);
	assert_false(eff.timer_changed);
	assert_int_equal(lapic_timer_next(&l), 0);
	assert_int_equal(rd(&l, X_TMICT, 10), 0);
	assert_int_equal(rd(&l, X_TMCCT, 10), 0);
	/* The deadline MSR is not an x2APIC register: usable before x2APIC is on. */
	lapic_init(&l, 0);
	assert_int_equal(rd(&l, TSC_DEADLINE, 0), 0);
}

static void test_timer_mode_switch(void **state)
{
	struct lapic_effect eff;
	struct lapic l;

	(void)state;
	x2apic_up(&l, 0);
	wr(&l, X_TIMER, 0x40, 0);
	wr(&l, X_TMICT, 100, 0);
	/* Same mode, new vector and mask: stays armed. */
	eff = wr(&l, X_TIMER, 0x41 | MASK, 10);
	assert_false(eff.timer_changed);
	assert_int_equal(lapic_timer_next(&l), 200);
	/*
	 * One-shot <-> periodic: the count goes on from where it was ("APIC
	 * Timer": changing the mode does not start the timer; kvm-unit-tests'
	 * apic test checks the count is neither reset nor stopped).
	 */
	eff = wr(&l, X_TIMER, 0x41 | PERIODIC, 10);
	assert_false(eff.timer_changed);
	assert_int_equal(lapic_timer_next(&l), 200);
	assert_int_equal(rd(&l, X_TMICT, 20), 100);
	assert_int_equal(rd(&l, X_TMCCT, 20), 90);
	eff = wr(&l, X_TIMER, 0x41, 30);
	assert_false(eff.timer_changed);
	assert_int_equal(lapic_timer_next(&l), 200);
	/* "Transitions between TSC-deadline mode and other timer modes also disarm the timer." */
	wr(&l, X_TIMER, 0x41 | DEADLINE, 30);
	assert_int_equal(lapic_timer_next(&l), 0);
	assert_int_equal(rd(&l, X_TMICT, 30), 0);
	wr(&l, X_TIMER, 0x41, 30);

	/* TSC-deadline -> one-shot disarms, and back does not re-arm. */
	wr(&l, X_TIMER, 0x41 | DEADLINE, 10);
	wr(&l, TSC_DEADLINE, 5000, 10);
	assert_int_equal(lapic_timer_next(&l), 5000);
	eff = wr(&l, X_TIMER, 0x41, 20);
	assert_true(eff.timer_changed);
	assert_int_equal(lapic_timer_next(&l), 0);
	wr(&l, X_TIMER, 0x41 | DEADLINE, 30);
	assert_int_equal(lapic_timer_next(&l), 0);
	assert_int_equal(rd(&l, TSC_DEADLINE, 30), 0);

	/* Periodic -> TSC-deadline disarms too. */
	wr(&l, X_TIMER, 0x41 | PERIODIC, 40);
	wr(&l, X_TMICT, 7, 40);
	assert_int_equal(lapic_timer_next(&l), 40 + 7 * 2);
	wr(&l, X_TIMER, 0x41 | DEADLINE, 41);
	assert_int_equal(lapic_timer_next(&l), 0);
}

/* ---- xAPIC MMIO: the same registers through the page ------------------- */

/* SDM "Local APIC Register Address Map" (xAPIC offsets). */
enum {
	M_ID = 0x20,
	M_VER = 0x30,
	M_TPR = 0x80,
	M_PPR = 0xa0,
	M_EOI = 0xb0,
	M_LDR = 0xd0,
	M_DFR = 0xe0,
	M_SVR = 0xf0,
	M_ISR0 = 0x100,
	M_IRR0 = 0x200,
	M_ESR = 0x280,
	M_ICR = 0x300,
	M_ICR2 = 0x310,
	M_TIMER = 0x320,
	M_ERROR = 0x370,
	M_TMICT = 0x380,
	M_TMCCT = 0x390,
	M_TDCR = 0x3e0,
	M_SELF_IPI = 0x3f0,
};

static struct lapic_effect mw(struct lapic *l, uint32_t off, uint32_t val, uint64_t now)
{
	struct lapic_effect eff;

	lapic_mmio_write(l, off, val, now, &eff);
	return eff;
}

/* After reset the APIC is in xAPIC mode: the page is live, the MSRs #GP. */
static void test_xapic_mode_after_reset(void **state)
{
	struct lapic l;

	(void)state;
	lapic_init(&l, 3);
	assert_true(lapic_xapic_enabled(&l));
	assert_int_equal(lapic_mmio_base(&l), 0xfee00000ull);
	rd_gp(&l, X_ID);
	/* xAPIC ID in bits 31:24; version 0x14 in the low byte. */
	assert_int_equal(lapic_mmio_read(&l, M_ID, 0), 3u << 24);
	assert_int_equal(lapic_mmio_read(&l, M_VER, 0) & 0xff, 0x14);
	assert_int_equal(lapic_mmio_read(&l, M_SVR, 0), 0xff);
	assert_int_equal(lapic_mmio_read(&l, M_DFR, 0), 0xffffffffu);
	/* x2APIC: the page is not the way any more. */
	wr(&l, APIC_BASE, 0xfee00000ull | EN | EXTD, 0);
	assert_false(lapic_xapic_enabled(&l));
	/* Disabled: neither. */
	wr(&l, APIC_BASE, 0xfee00000ull, 0);
	assert_false(lapic_xapic_enabled(&l));
	assert_false(lapic_x2apic_enabled(&l));
}

/* One register model: what one method writes, the other reads. */
static void test_xapic_shares_registers(void **state)
{
	struct lapic l;

	(void)state;
	lapic_init(&l, 1);
	mw(&l, M_SVR, 0x1f0, 0);
	mw(&l, M_TPR, 0x40, 0);
	mw(&l, M_TIMER, 0x20 | PERIODIC, 0);
	mw(&l, M_ERROR, 0xfe, 0);
	assert_int_equal(lapic_mmio_read(&l, M_TPR, 0), 0x40);
	assert_int_equal(lapic_mmio_read(&l, M_PPR, 0), 0x40);
	wr(&l, APIC_BASE, 0xfee00000ull | EN | EXTD, 0);
	assert_int_equal(rd(&l, X_SVR, 0), 0x1f0);
	assert_int_equal(rd(&l, X_TPR, 0), 0x40);
	assert_int_equal(rd(&l, X_TIMER, 0), 0x20 | PERIODIC);
	assert_int_equal(rd(&l, X_ERROR, 0), 0xfe);
}

/* xAPIC never faults: reserved bits are dropped, read-only registers ignore writes. */
static void test_xapic_reserved_dropped(void **state)
{
	struct lapic l;

	(void)state;
	lapic_init(&l, 0);
	mw(&l, M_SVR, 0x1ff, 0);
	mw(&l, M_TPR, 0xffffff30u, 0);
	assert_int_equal(lapic_mmio_read(&l, M_TPR, 0), 0x30);
	mw(&l, M_ID, 5u << 24, 0); /* the ID stays the vCPU's: IPIs route by it */
	assert_int_equal(lapic_mmio_read(&l, M_ID, 0), 0);
	mw(&l, M_VER, 0, 0);
	assert_int_equal(lapic_mmio_read(&l, M_VER, 0) & 0xff, 0x14);
	mw(&l, M_PPR, 0xff, 0);
	assert_int_equal(lapic_mmio_read(&l, M_PPR, 0), 0x30);
	/* The reserved timer mode 3 is not taken (x2APIC #GPs it). */
	mw(&l, M_TIMER, 0x40 | (3u << 17), 0);
	assert_int_equal(lapic_mmio_read(&l, M_TIMER, 0), MASK);
	/* SELF_IPI exists only in x2APIC mode; unaligned offsets and holes read 0. */
	assert_false(mw(&l, M_SELF_IPI, 0x40, 0).send_ipi);
	assert_int_equal(lapic_mmio_read(&l, M_SELF_IPI, 0), 0);
	assert_int_equal(lapic_mmio_read(&l, 0x24, 0), 0);
	assert_int_equal(lapic_mmio_read(&l, 0x040, 0), 0);
}

/* ICR2 holds the destination in 31:24; writing ICR sends, in the x2APIC layout. */
static void test_xapic_icr(void **state)
{
	struct lapic_effect eff;
	struct lapic l;

	(void)state;
	lapic_init(&l, 0);
	mw(&l, M_ICR2, 0x02ffffffu, 0);
	assert_int_equal(lapic_mmio_read(&l, M_ICR2, 0), 0x02000000u);
	eff = mw(&l, M_ICR2, 2u << 24, 0);
	assert_false(eff.send_ipi);
	eff = mw(&l, M_ICR, 0x4041, 0); /* assert, fixed, vector 0x41 */
	assert_true(eff.send_ipi);
	assert_int_equal(eff.icr, (2ull << 32) | 0x4041);
	/* Delivery status (bit 12) reads 0: the IPI is already delivered. */
	assert_int_equal(lapic_mmio_read(&l, M_ICR, 0), 0x4041);
	/* Destination 0xFF is the xAPIC broadcast: x2APIC's 0xFFFFFFFF. */
	mw(&l, M_ICR2, 0xffu << 24, 0);
	eff = mw(&l, M_ICR, 0x4042, 0);
	assert_int_equal(eff.icr >> 32, 0xffffffffu);
	/* INIT to all-but-self (shorthand 3), SIPI vector 0: what kvm-unit-tests sends. */
	eff = mw(&l, M_ICR, 0xc4500, 0);
	assert_int_equal(eff.icr & 0xfffff, 0xc4500);
	eff = mw(&l, M_ICR, 0xc0600, 0);
	assert_int_equal(eff.icr & 0xfffff, 0xc0600);
}

/* EOI and ESR take any value in xAPIC mode (x2APIC #GPs a non-zero one). */
static void test_xapic_eoi_esr(void **state)
{
	struct lapic_effect eff;
	struct lapic l;

	(void)state;
	lapic_init(&l, 0);
	mw(&l, M_SVR, 0x1ff, 0);
	put_in_service(&l, 0x50);
	assert_int_equal(lapic_mmio_read(&l, M_ISR0 + 0x10 * (0x50 / 32), 0), 1u << (0x50 % 32));
	eff = mw(&l, M_EOI, 0x1234, 0);
	assert_int_equal(eff.eoi_vector, 0x50);
	assert_int_equal(lapic_mmio_read(&l, M_ISR0 + 0x10 * (0x50 / 32), 0), 0);
	assert_int_equal(lapic_accept(&l, 3), LAPIC_REJECTED); /* illegal vector: ESR bit 6 */
	mw(&l, M_ESR, 0xffffffffu, 0);
	assert_int_equal(lapic_mmio_read(&l, M_ESR, 0), 1u << 6);
	assert_int_equal(lapic_accept(&l, 0x60), LAPIC_ACCEPTED);
	assert_int_equal(lapic_mmio_read(&l, M_IRR0 + 0x10 * (0x60 / 32), 0), 1u << (0x60 % 32));
}

/* LDR and DFR are writable in xAPIC mode; in x2APIC the LDR is derived from the ID. */
static void test_xapic_ldr_dfr(void **state)
{
	struct lapic l;

	(void)state;
	lapic_init(&l, 17);
	mw(&l, M_LDR, 0x12345678u, 0);
	assert_int_equal(lapic_mmio_read(&l, M_LDR, 0), 0x12000000u);
	mw(&l, M_DFR, 0x0u, 0);
	assert_int_equal(lapic_mmio_read(&l, M_DFR, 0), 0x0fffffffu);
	wr(&l, APIC_BASE, 0xfee00000ull | EN | EXTD, 0);
	assert_int_equal(rd(&l, X_LDR, 0), (1u << 16) | (1u << 1));
}

/* The timer counts the same way by either method. */
static void test_xapic_timer(void **state)
{
	struct lapic_effect eff;
	struct lapic l;

	(void)state;
	lapic_init(&l, 0);
	mw(&l, M_SVR, 0x1ff, 0);
	mw(&l, M_TDCR, 0xb, 0); /* divide by 1 */
	mw(&l, M_TIMER, 0x30, 1000);
	eff = mw(&l, M_TMICT, 500, 1000);
	assert_true(eff.timer_changed);
	assert_int_equal(lapic_timer_next(&l), 1500);
	assert_int_equal(lapic_mmio_read(&l, M_TMCCT, 1200), 300);
	assert_int_equal(lapic_mmio_read(&l, M_TMICT, 1200), 500);
}

/* With MAXPHYADDR 40, an APIC_BASE address bit at 40 or above is reserved (#GP). */
static void test_apic_base_maxphyaddr(void **state)
{
	struct lapic l;

	(void)state;
	lapic_init(&l, 0);
	lapic_set_phys_bits(&l, 40);
	wr_gp(&l, APIC_BASE, 0xfee00000ull | EN | BSP | (1ull << 40));
	wr_gp(&l, APIC_BASE, 0xfee00000ull | EN | BSP | (1ull << 51));
	wr(&l, APIC_BASE, 0xfee00000ull | EN | BSP | (1ull << 39), 0);
	assert_int_equal(lapic_mmio_base(&l), (1ull << 39) | 0xfee00000ull);
	/* A reset keeps it. */
	wr(&l, APIC_BASE, 0xfee00000ull | BSP, 0);
	wr_gp(&l, APIC_BASE, 0xfee00000ull | EN | BSP | (1ull << 45));
}

/* APIC_BASE moves the page (bits 51:12) and keeps the mode. */
static void test_xapic_relocation(void **state)
{
	struct lapic l;

	(void)state;
	lapic_init(&l, 0);
	wr(&l, APIC_BASE, 0xfed00000ull | EN | BSP, 0);
	assert_int_equal(lapic_mmio_base(&l), 0xfed00000ull);
	assert_true(lapic_xapic_enabled(&l));
	wr_gp(&l, APIC_BASE, 0xfed00000ull | EXTD); /* EXTD without EN: invalid */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_apic_base),
		cmocka_unit_test(test_apic_base_transitions),
		cmocka_unit_test(test_apic_base_reserved),
		cmocka_unit_test(test_x2apic_not_enabled_gp),
		cmocka_unit_test(test_disable_resets_registers),
		cmocka_unit_test(test_id_version),
		cmocka_unit_test(test_ldr_derivation),
		cmocka_unit_test(test_readonly_write_gp),
		cmocka_unit_test(test_writeonly_read_gp),
		cmocka_unit_test(test_unknown_registers_gp),
		cmocka_unit_test(test_register_map_exhaustive),
		cmocka_unit_test(test_reserved_bits_gp),
		cmocka_unit_test(test_register_readback),
		cmocka_unit_test(test_esr_write_latch),
		cmocka_unit_test(test_esr_error_interrupt),
		cmocka_unit_test(test_accept_coalescing),
		cmocka_unit_test(test_accept_illegal_vector),
		cmocka_unit_test(test_svr_software_disable),
		cmocka_unit_test(test_priority_classes),
		cmocka_unit_test(test_tpr_masking),
		cmocka_unit_test(test_ppr_computation),
		cmocka_unit_test(test_eoi_nested),
		cmocka_unit_test(test_lower_waits_for_eoi),
		cmocka_unit_test(test_ack_at_injection),
		cmocka_unit_test(test_irr_isr_registers),
		cmocka_unit_test(test_icr_write),
		cmocka_unit_test(test_self_ipi_msr),
		cmocka_unit_test(test_timer_oneshot_every_divide),
		cmocka_unit_test(test_timer_periodic_rearm),
		cmocka_unit_test(test_timer_periodic_missed),
		cmocka_unit_test(test_timer_periodic_clamped),
		cmocka_unit_test(test_timer_current_count),
		cmocka_unit_test(test_xapic_mode_after_reset),
		cmocka_unit_test(test_xapic_shares_registers),
		cmocka_unit_test(test_xapic_reserved_dropped),
		cmocka_unit_test(test_xapic_icr),
		cmocka_unit_test(test_xapic_eoi_esr),
		cmocka_unit_test(test_xapic_ldr_dfr),
		cmocka_unit_test(test_xapic_timer),
		cmocka_unit_test(test_xapic_relocation),
		cmocka_unit_test(test_apic_base_maxphyaddr),
		cmocka_unit_test(test_timer_masked),
		cmocka_unit_test(test_timer_svr_disabled_and_illegal),
		cmocka_unit_test(test_timer_initial_count_zero_stops),
		cmocka_unit_test(test_timer_divide_change),
		cmocka_unit_test(test_tsc_deadline_arm_disarm),
		cmocka_unit_test(test_tsc_deadline_past),
		cmocka_unit_test(test_tsc_deadline_other_modes),
		cmocka_unit_test(test_timer_mode_switch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
