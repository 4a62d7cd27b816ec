// SPDX-License-Identifier: MIT
/*
 * Unit tests of ICR decode and x2APIC destination matching. ICRs are built
 * from the SDM's x2APIC ICR layout in this file; expected target sets are
 * written out by hand from the destination rules (physical id, logical
 * cluster/member, shorthands), never computed by ipi.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "apic/ipi.h"
#include "apic/lapic.h"

/*
 * x2APIC ICR: vector 7:0, delivery mode 10:8, dest mode 11, level 14,
 * trigger 15, shorthand 19:18, destination 63:32.
 */
enum { FIXED = 0, LOWEST = 1, SMI = 2, DM3 = 3, NMI = 4, INIT = 5, SIPI = 6, EXTINT = 7 };
enum { NOSH = 0, SELF = 1, ALL = 2, OTHERS = 3 };
enum { PHYS = 0, LOGICAL = 1 };

static uint64_t icr(unsigned int dm, unsigned int logical, unsigned int sh, uint32_t dest,
		    unsigned int vector)
{
	return ((uint64_t)dest << 32) | ((uint64_t)sh << 18) | ((uint64_t)logical << 11) |
	       ((uint64_t)dm << 8) | vector;
}

static uint64_t targets(uint64_t v, uint32_t self, uint32_t nr)
{
	struct ipi_msg m;

	assert_int_equal(ipi_decode(v, &m), IPI_OK);
	return ipi_targets(&m, self, nr);
}

static void test_decode_fields(void **state)
{
	const uint64_t v =
		(0x00020003ull << 32) | (1u << 15) | (1u << 14) | (1u << 11) | (LOWEST << 8) | 0x9a;
	struct ipi_msg m;

	(void)state;
	assert_int_equal(ipi_decode(v, &m), IPI_OK);
	assert_int_equal(m.vector, 0x9a);
	assert_int_equal(m.delivery, LOWEST);
	assert_true(m.logical);
	assert_true(m.level_assert);
	assert_true(m.trigger_level);
	assert_int_equal(m.shorthand, NOSH);
	assert_int_equal(m.dest, 0x00020003);

	assert_int_equal(ipi_decode(icr(NMI, PHYS, OTHERS, 7, 0), &m), IPI_OK);
	assert_int_equal(m.delivery, NMI);
	assert_false(m.logical);
	assert_false(m.trigger_level);
	assert_int_equal(m.shorthand, OTHERS);
	assert_int_equal(m.dest, 7);
}

static void test_physical_single(void **state)
{
	(void)state;
	assert_int_equal(targets(icr(FIXED, PHYS, NOSH, 5, 0x30), 0, 8), 1ull << 5);
	assert_int_equal(targets(icr(FIXED, PHYS, NOSH, 0, 0x30), 3, 8), 1ull << 0);
	assert_int_equal(targets(icr(FIXED, PHYS, NOSH, 7, 0x30), 7, 8), 1ull << 7);
	assert_int_equal(targets(icr(FIXED, PHYS, NOSH, 63, 0x30), 0, 64), 1ull << 63);
}

static void test_physical_nonexistent(void **state)
{
	(void)state;
	assert_int_equal(targets(icr(FIXED, PHYS, NOSH, 8, 0x30), 0, 8), 0);
	assert_int_equal(targets(icr(FIXED, PHYS, NOSH, 0x100, 0x30), 0, 8), 0);
	assert_int_equal(targets(icr(FIXED, PHYS, NOSH, 0xfffffffe, 0x30), 0, 8), 0);
	assert_int_equal(targets(icr(FIXED, PHYS, NOSH, 64, 0x30), 0, 64), 0);
}

static void test_physical_broadcast(void **state)
{
	(void)state;
	/* x2APIC: physical destination 0xFFFFFFFF is a broadcast, self included. */
	assert_int_equal(targets(icr(FIXED, PHYS, NOSH, 0xffffffff, 0x30), 2, 8), 0xffull);
	assert_int_equal(targets(icr(FIXED, PHYS, NOSH, 0xffffffff, 0x30), 0, 1), 1ull);
	assert_int_equal(targets(icr(FIXED, PHYS, NOSH, 0xffffffff, 0x30), 0, 64), ~0ull);
	assert_int_equal(targets(icr(NMI, PHYS, NOSH, 0xffffffff, 0), 0, 3), 0x7ull);
}

static void test_logical_clusters(void **state)
{
	/* LDR of id i: cluster i >> 4 in dest[31:16], member bit 1 << (i & 15) in dest[15:0]. */
	(void)state;
	assert_int_equal(targets(icr(FIXED, LOGICAL, NOSH, 0x00000001, 0x30), 0, 64), 1ull << 0);
	assert_int_equal(targets(icr(FIXED, LOGICAL, NOSH, 0x00000005, 0x30), 0, 64),
			 (1ull << 0) | (1ull << 2));
	assert_int_equal(targets(icr(FIXED, LOGICAL, NOSH, 0x00010005, 0x30), 0, 64),
			 (1ull << 16) | (1ull << 18));
	assert_int_equal(targets(icr(FIXED, LOGICAL, NOSH, 0x00028001, 0x30), 0, 64),
			 (1ull << 32) | (1ull << 47));
	assert_int_equal(targets(icr(FIXED, LOGICAL, NOSH, 0x0003ffff, 0x30), 0, 64),
			 0xffff000000000000ull);
	/* Cluster 4 would hold ids 64-79: none exist. Empty member mask: nobody. */
	assert_int_equal(targets(icr(FIXED, LOGICAL, NOSH, 0x0004ffff, 0x30), 0, 64), 0);
	assert_int_equal(targets(icr(FIXED, LOGICAL, NOSH, 0x00010000, 0x30), 0, 64), 0);
}

static void test_logical_partial_cluster(void **state)
{
	(void)state;
	/* 20 vCPUs: cluster 1 only has ids 16-19. */
	assert_int_equal(targets(icr(FIXED, LOGICAL, NOSH, 0x0001ffff, 0x30), 0, 20), 0xf0000ull);
	assert_int_equal(targets(icr(FIXED, LOGICAL, NOSH, 0x00000003, 0x30), 0, 20), 0x3ull);
	assert_int_equal(targets(icr(FIXED, LOGICAL, NOSH, 0x00020001, 0x30), 0, 20), 0);
	/* Logical dest 5 is members 0 and 2 of cluster 0, not physical id 5. */
	assert_int_equal(targets(icr(FIXED, LOGICAL, NOSH, 5, 0x30), 0, 20) >> 5 & 1, 0);
}

static void test_logical_broadcast(void **state)
{
	(void)state;
	assert_int_equal(targets(icr(FIXED, LOGICAL, NOSH, 0xffffffff, 0x30), 4, 10), 0x3ffull);
	assert_int_equal(targets(icr(FIXED, LOGICAL, NOSH, 0xffffffff, 0x30), 0, 64), ~0ull);
}

static void test_shorthand_self(void **state)
{
	(void)state;
	/* The destination field is ignored with a shorthand. */
	assert_int_equal(targets(icr(FIXED, PHYS, SELF, 7, 0x30), 3, 8), 1ull << 3);
	assert_int_equal(targets(icr(FIXED, LOGICAL, SELF, 0xffffffff, 0x30), 63, 64), 1ull << 63);
}

static void test_shorthand_all_including_self(void **state)
{
	(void)state;
	assert_int_equal(targets(icr(FIXED, PHYS, ALL, 1, 0x30), 3, 8), 0xffull);
	assert_int_equal(targets(icr(FIXED, PHYS, ALL, 0, 0x30), 0, 1), 0x1ull);
	assert_int_equal(targets(icr(FIXED, PHYS, ALL, 0, 0x30), 5, 64), ~0ull);
}

static void test_shorthand_all_excluding_self(void **state)
{
	(void)state;
	assert_int_equal(targets(icr(FIXED, PHYS, OTHERS, 3, 0x30), 3, 8), 0xf7ull);
	assert_int_equal(targets(icr(FIXED, PHYS, OTHERS, 0, 0x30), 0, 1), 0);
	assert_int_equal(targets(icr(NMI, PHYS, OTHERS, 0, 0), 63, 64), ~0ull >> 1);
	assert_int_equal(targets(icr(LOWEST, PHYS, OTHERS, 0, 0x30), 0, 4), 0xeull);
}

static void test_shorthand_combinations(void **state)
{
	struct ipi_msg m;

	(void)state;
	/* SDM "Valid Combinations" table: self and all-including-self take fixed only. */
	assert_int_equal(ipi_decode(icr(FIXED, PHYS, SELF, 0, 0x30), &m), IPI_OK);
	assert_int_equal(ipi_decode(icr(NMI, PHYS, SELF, 0, 0), &m), IPI_ERR_MODE);
	assert_int_equal(ipi_decode(icr(LOWEST, PHYS, SELF, 0, 0x30), &m), IPI_ERR_MODE);
	assert_int_equal(ipi_decode(icr(NMI, PHYS, ALL, 0, 0), &m), IPI_ERR_MODE);
	assert_int_equal(ipi_decode(icr(LOWEST, PHYS, ALL, 0, 0x30), &m), IPI_ERR_MODE);
	assert_int_equal(ipi_decode(icr(NMI, PHYS, OTHERS, 0, 0), &m), IPI_OK);
	assert_int_equal(ipi_decode(icr(LOWEST, PHYS, OTHERS, 0, 0x30), &m), IPI_OK);
}

static void test_illegal_vectors(void **state)
{
	struct ipi_msg m;
	unsigned int v;

	(void)state;
	for (v = 0; v < 16; v++) {
		assert_int_equal(ipi_decode(icr(FIXED, PHYS, NOSH, 1, v), &m), IPI_ERR_VECTOR);
		assert_int_equal(ipi_decode(icr(LOWEST, LOGICAL, NOSH, 1, v), &m), IPI_ERR_VECTOR);
		assert_int_equal(ipi_decode(icr(FIXED, PHYS, SELF, 0, v), &m), IPI_ERR_VECTOR);
	}
	assert_int_equal(ipi_decode(icr(FIXED, PHYS, NOSH, 1, 16), &m), IPI_OK);
	assert_int_equal(ipi_decode(icr(FIXED, PHYS, NOSH, 1, 255), &m), IPI_OK);
	/* NMI has no vector. */
	assert_int_equal(ipi_decode(icr(NMI, PHYS, NOSH, 1, 0), &m), IPI_OK);
}

static void test_unsupported_delivery_modes(void **state)
{
	static const unsigned int modes[] = { SMI, DM3, INIT, SIPI, EXTINT };
	struct ipi_msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(ipi_decode(icr(modes[i], PHYS, NOSH, 1, 0x30), &m), IPI_ERR_MODE);
		assert_int_equal(ipi_decode(icr(modes[i], PHYS, OTHERS, 0, 0x08), &m),
				 IPI_ERR_MODE);
	}
}

static void test_lowest_priority_lowest_ppr(void **state)
{
	static const uint8_t ppr[8] = { 0x50, 0x40, 0x30, 0x20, 0x60, 0x10, 0x70, 0x00 };
	static const uint8_t fine[3] = { 0x2f, 0x21, 0x2f };

	(void)state;
	/* Members 1, 3, 5 have PPR 0x40, 0x20, 0x10: vCPU 5 wins from any start. */
	assert_int_equal(ipi_lowest_priority(0x2a, ppr, 8, 0), 5);
	assert_int_equal(ipi_lowest_priority(0x2a, ppr, 8, 6), 5);
	assert_int_equal(ipi_lowest_priority(0xff, ppr, 8, 3), 7);
	assert_int_equal(ipi_lowest_priority(1u << 4, ppr, 8, 0), 4);
	/* Full PPR value compared: 0x21 is below 0x2F. */
	assert_int_equal(ipi_lowest_priority(0x7, fine, 3, 2), 1);
}

static void test_lowest_priority_ties(void **state)
{
	static const uint8_t same[8] = { 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20 };
	static const uint8_t two[8] = { 0x00, 0x30, 0x00, 0x20, 0x00, 0x20, 0x00, 0x00 };
	const uint64_t set = (1u << 1) | (1u << 3) | (1u << 5);

	(void)state;
	/* Ties: the first member at or after `start`, wrapping at nr. */
	assert_int_equal(ipi_lowest_priority(set, same, 8, 0), 1);
	assert_int_equal(ipi_lowest_priority(set, same, 8, 1), 1);
	assert_int_equal(ipi_lowest_priority(set, same, 8, 2), 3);
	assert_int_equal(ipi_lowest_priority(set, same, 8, 4), 5);
	assert_int_equal(ipi_lowest_priority(set, same, 8, 6), 1);
	assert_int_equal(ipi_lowest_priority(set, same, 8, 12), 5); /* start taken modulo nr */
	/* Only the members tied at the lowest PPR take turns: 3 and 5, never 1. */
	assert_int_equal(ipi_lowest_priority(set, two, 8, 0), 3);
	assert_int_equal(ipi_lowest_priority(set, two, 8, 4), 5);
	assert_int_equal(ipi_lowest_priority(set, two, 8, 6), 3);
}

static void test_lowest_priority_empty(void **state)
{
	static const uint8_t ppr[4] = { 0 };

	(void)state;
	assert_int_equal(ipi_lowest_priority(0, ppr, 4, 0), -1);
	assert_int_equal(ipi_lowest_priority(0x1, ppr, 0, 0), -1);
	/* Members beyond nr do not exist. */
	assert_int_equal(ipi_lowest_priority(1u << 5, ppr, 4, 0), -1);
}

static void test_fastpath_accepts(void **state)
{
	(void)state;
	assert_int_equal(ipi_fastpath_dest(icr(FIXED, PHYS, NOSH, 3, 0xec), 4), 3);
	assert_int_equal(ipi_fastpath_dest(icr(FIXED, PHYS, NOSH, 0, 0x10), 4), 0);
	assert_int_equal(ipi_fastpath_dest(icr(FIXED, PHYS, NOSH, 63, 0xff), 64), 63);
	/* Level "assert" (bit 14) is what every non-INIT IPI carries. */
	assert_int_equal(ipi_fastpath_dest(icr(FIXED, PHYS, NOSH, 2, 0xec) | (1u << 14), 4), 2);
}

static void test_fastpath_rejects(void **state)
{
	(void)state;
	assert_int_equal(ipi_fastpath_dest(icr(FIXED, LOGICAL, NOSH, 1, 0xec), 4), -1);
	assert_int_equal(ipi_fastpath_dest(icr(LOWEST, PHYS, NOSH, 1, 0xec), 4), -1);
	assert_int_equal(ipi_fastpath_dest(icr(NMI, PHYS, NOSH, 1, 0), 4), -1);
	assert_int_equal(ipi_fastpath_dest(icr(INIT, PHYS, NOSH, 1, 0), 4), -1);
	assert_int_equal(ipi_fastpath_dest(icr(FIXED, PHYS, SELF, 1, 0xec), 4), -1);
	assert_int_equal(ipi_fastpath_dest(icr(FIXED, PHYS, ALL, 1, 0xec), 4), -1);
	assert_int_equal(ipi_fastpath_dest(icr(FIXED, PHYS, OTHERS, 1, 0xec), 4), -1);
	assert_int_equal(ipi_fastpath_dest(icr(FIXED, PHYS, NOSH, 1, 0xec) | (1u << 15), 4), -1);
	assert_int_equal(ipi_fastpath_dest(icr(FIXED, PHYS, NOSH, 0xffffffff, 0xec), 4), -1);
	assert_int_equal(ipi_fastpath_dest(icr(FIXED, PHYS, NOSH, 4, 0xec), 4), -1);
	assert_int_equal(ipi_fastpath_dest(icr(FIXED, PHYS, NOSH, 1, 15), 4), -1);
}

/* ---- Through the sender's and receivers' APICs --------------------------- */

static void apics_up(struct lapic *l, uint32_t nr)
{
	struct lapic_effect eff;
	uint32_t i;

	for (i = 0; i < nr; i++) {
		lapic_init(&l[i], i);
		assert_int_equal(lapic_wrmsr(&l[i], 0x1b, 0xfee00c00ull, 0, &eff), LAPIC_OK);
		assert_int_equal(lapic_wrmsr(&l[i], 0x80f, 0x1ff, 0, &eff), LAPIC_OK);
	}
}

static void test_self_ipi_msr_end_to_end(void **state)
{
	struct lapic l[4];
	struct lapic_effect eff;
	struct ipi_msg m;
	uint64_t set;

	(void)state;
	apics_up(l, 4);
	assert_int_equal(lapic_wrmsr(&l[2], 0x83f, 0x45, 0, &eff), LAPIC_OK);
	assert_true(eff.send_ipi);
	assert_int_equal(ipi_decode(eff.icr, &m), IPI_OK);
	set = ipi_targets(&m, 2, 4);
	assert_int_equal(set, 1ull << 2);
	assert_int_equal(lapic_accept(&l[2], m.vector), LAPIC_ACCEPTED);
	assert_int_equal(lapic_highest_deliverable(&l[2]), 0x45);
	assert_int_equal(ipi_fastpath_dest(eff.icr, 4), -1); /* self shorthand: generic path */
}

static void test_icr_logical_end_to_end(void **state)
{
	struct lapic l[4];
	struct lapic_effect eff;
	struct ipi_msg m;
	uint64_t set;
	uint32_t i, round;

	(void)state;
	apics_up(l, 4);
	/* Cluster 0, members 1 and 2, fixed vector 0x50, sent twice by vCPU 0. */
	for (round = 0; round < 2; round++) {
		assert_int_equal(
			lapic_wrmsr(&l[0], 0x830, icr(FIXED, LOGICAL, NOSH, 0x6, 0x50), 0, &eff),
			LAPIC_OK);
		assert_int_equal(ipi_decode(eff.icr, &m), IPI_OK);
		set = ipi_targets(&m, 0, 4);
		assert_int_equal(set, 0x6ull);
		for (i = 0; i < 4; i++) {
			if (set >> i & 1)
				assert_int_equal(lapic_accept(&l[i], m.vector),
						 round ? LAPIC_COALESCED : LAPIC_ACCEPTED);
		}
	}
	assert_int_equal(lapic_highest_deliverable(&l[0]), -1);
	assert_int_equal(lapic_highest_deliverable(&l[1]), 0x50);
	assert_int_equal(lapic_highest_deliverable(&l[3]), -1);
}

static void test_send_illegal_vector_esr(void **state)
{
	struct lapic l[2];
	struct lapic_effect eff;
	struct ipi_msg m;
	uint64_t esr;

	(void)state;
	apics_up(l, 2);
	assert_int_equal(lapic_wrmsr(&l[0], 0x830, icr(FIXED, PHYS, NOSH, 1, 3), 0, &eff),
			 LAPIC_OK);
	assert_int_equal(ipi_decode(eff.icr, &m), IPI_ERR_VECTOR);
	lapic_error(&l[0], LAPIC_ESR_SEND_ILLEGAL);
	assert_int_equal(lapic_wrmsr(&l[0], 0x828, 0, 0, &eff), LAPIC_OK);
	assert_int_equal(lapic_rdmsr(&l[0], 0x828, 0, &esr), LAPIC_OK);
	assert_int_equal(esr, 1u << 5); /* "Send Illegal Vector" */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_fields),
		cmocka_unit_test(test_physical_single),
		cmocka_unit_test(test_physical_nonexistent),
		cmocka_unit_test(test_physical_broadcast),
		cmocka_unit_test(test_logical_clusters),
		cmocka_unit_test(test_logical_partial_cluster),
		cmocka_unit_test(test_logical_broadcast),
		cmocka_unit_test(test_shorthand_self),
		cmocka_unit_test(test_shorthand_all_including_self),
		cmocka_unit_test(test_shorthand_all_excluding_self),
		cmocka_unit_test(test_shorthand_combinations),
		cmocka_unit_test(test_illegal_vectors),
		cmocka_unit_test(test_unsupported_delivery_modes),
		cmocka_unit_test(test_lowest_priority_lowest_ppr),
		cmocka_unit_test(test_lowest_priority_ties),
		cmocka_unit_test(test_lowest_priority_empty),
		cmocka_unit_test(test_fastpath_accepts),
		cmocka_unit_test(test_fastpath_rejects),
		cmocka_unit_test(test_self_ipi_msr_end_to_end),
		cmocka_unit_test(test_icr_logical_end_to_end),
		cmocka_unit_test(test_send_illegal_vector_esr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
