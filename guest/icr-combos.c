/* SPDX-License-Identifier: MIT */
/*
 * A hostile sender: every ICR combination through MSR 0x830. Delivery mode
 * 0-7 x destination mode (physical, logical) x level (assert, de-assert) x
 * trigger (edge, level) x shorthand (none, self, all, all-but-self) x
 * destination (self, another vCPU, a nonexistent ID, broadcast 0xFFFFFFFF,
 * logical masks: self|other, all of cluster 0, cluster 1 member 0) x vector
 * (0, 15, 16, 0x48, 0xFF): 8960 writes per sender. Then NMI bursts.
 *
 * What vmm does with each (vmm/apic/ipi.h, README): fixed, lowest-priority
 * and NMI are emulated (self and all-including-self take fixed only), a
 * fixed/lowest vector 0-15 is a send error (ESR bit 5), SMI, INIT, SIPI,
 * ExtINT and the reserved mode are dropped (so they go to live vCPUs too:
 * nothing can reset or stop one), level and trigger are ignored (edge), a
 * message that matches nobody is dropped. model() is that contract, with
 * the SDM's destination rules written here rather than taken from vmm.
 *
 * Senders take turns; everyone else halts with interrupts on and is woken
 * by a doorbell IPI when its turn comes or the sweep ends. After each write
 * the sender waits until every delivery the model expects reached a
 * handler, so nothing coalesces and each write is checked per vCPU (a
 * lowest-priority one: exactly one member of the set took it), and it
 * checks ESR once per run of writes that expect the same ESR. Vectors 0, 15,
 * 16 and NMI arrive through IDT gates the runtime keeps for exceptions, so
 * those gates are re-pointed at the stubs of spare vectors; 0xFF gets a
 * handler that EOIs (the runtime's spurious one does not: 0xFF would stay in
 * service and block every later interrupt).
 *
 * Args: senders=N (vCPUs that take a turn, default 2, at most vcpus),
 * nmi_burst=N (NMIs each sender sends back to back to every other vCPU,
 * default 100), wait_us=N (how long one write's deliveries may take,
 * default 1000000; after 3 timeouts, 1000), settle_us=N (for strays at the
 * end, default 2000), ple=N (spin-wait window, spinlock.h). 2 vCPUs or more
 * (3 make the logical masks select a strict subset); --irqchip user only.
 *
 * Result "icr-combos-cpu" from each vCPU: v0 v15 v16 v72 v255 (interrupts its
 * handlers took per vector; v0 and v15 must stay 0), nmi, doorbell, isr_left,
 * irr_left (vectors in service / requested at the end: must be 0).
 * Result "icr-combos" from vCPU 0: vcpus, senders, writes, dropped (writes
 * the model says vmm drops: one ipi_sent and one ipi_dropped each),
 * exp_v16, exp_v72, exp_v255, exp_nmi (deliveries the model expects, NMI
 * bursts included), burst_nmis, doorbells, misrouted (writes whose
 * deliveries differ from the model), timeouts, esr_bad, gp (ICR writes that
 * took #GP), unexpected (|received - expected| over the vectors and NMIs).
 * The VM fails (status 1) unless the last five and isr_left/irr_left are 0.
 */
#include "guest.h"

#include "apic.h"
#include "fixup.h"
#include "spinlock.h"

#define VEC_NORMAL   0x48
#define VEC_DOORBELL 0x50
/* Spare vectors whose stubs the exception gates are pointed at. */
#define ALIAS_V0  0x30
#define ALIAS_V15 0x31
#define ALIAS_V16 0x32
#define ALIAS_NMI 0x33
#define NMI_GATE  2

#define NR_VEC	      5
#define NR_DESTS      7
#define MAX_TIMEOUTS  3
#define SHORT_WAIT_US 1000
#define ICR_TRIGGER   (1ull << 15)

static const uint8_t vectors[NR_VEC] = { 0, 15, 16, VEC_NORMAL, 0xff };

enum kind { K_DROP, K_FIXED, K_LOWEST, K_NMI };

struct expect {
	enum kind kind;
	bool esr; /* send illegal vector */
	uint64_t set;
};

struct combo_cpu {
	uint64_t recv[NR_VEC]; /* written by this vCPU's handlers only */
	uint64_t nmi;
	uint64_t doorbell;
	uint32_t isr_left, irr_left;
} __attribute__((aligned(64)));

static struct combo_cpu cpus[VMM_MAX_VCPUS];
static struct barrier all_cpus;
static uint32_t turn; /* index of the sender whose turn it is; == senders: done */
static uint32_t nr, senders;

/* Sender-side tallies: one sender at a time writes them. */
static uint64_t writes, dropped, exp_recv[NR_VEC], exp_nmi, burst_nmis, doorbells;
static uint64_t misrouted, timeouts, esr_bad, gp;
static uint64_t wait_cycles, short_wait; /* TSC cycles */
static uint64_t irqs;			 /* every counted interrupt and NMI, all vCPUs */

static int vec_index(unsigned int vector)
{
	switch (vector) {
	case ALIAS_V0:
		return 0;
	case ALIAS_V15:
		return 1;
	case ALIAS_V16:
		return 2;
	case VEC_NORMAL:
		return 3;
	case 0xff:
		return 4;
	default:
		return -1;
	}
}

static void count_irq(struct irq_frame *f)
{
	struct combo_cpu *c = &cpus[this_cpu_id()];
	int i = vec_index((unsigned int)f->vector);

	if (i >= 0)
		WRITE_ONCE(c->recv[i], c->recv[i] + 1);
	atomic_add(&irqs, 1);
	apic_eoi();
}

/* NMI: no ISR bit, no EOI. */
static void count_nmi(struct irq_frame *f)
{
	struct combo_cpu *c = &cpus[this_cpu_id()];

	(void)f;
	WRITE_ONCE(c->nmi, c->nmi + 1);
	atomic_add(&irqs, 1);
}

static void count_doorbell(struct irq_frame *f)
{
	struct combo_cpu *c = &cpus[this_cpu_id()];

	(void)f;
	WRITE_ONCE(c->doorbell, c->doorbell + 1);
	apic_eoi();
}

struct idt_gate {
	uint64_t lo, hi;
};

/* Gate `vector` now enters through the stub of `alias`, whose handler we own. */
static void alias_gate(unsigned int vector, unsigned int alias)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) desc;
	struct idt_gate *idt;

	asm volatile("sidt %0" : "=m"(desc));
	idt = (struct idt_gate *)(uintptr_t)desc.base;
	idt[vector] = idt[alias];
}

static void install_handlers(void)
{
	alias_gate(0, ALIAS_V0);
	alias_gate(15, ALIAS_V15);
	alias_gate(16, ALIAS_V16);
	alias_gate(NMI_GATE, ALIAS_NMI);
	irq_set_handler(ALIAS_V0, count_irq);
	irq_set_handler(ALIAS_V15, count_irq);
	irq_set_handler(ALIAS_V16, count_irq);
	irq_set_handler(VEC_NORMAL, count_irq);
	irq_set_handler(0xff, count_irq);
	irq_set_handler(ALIAS_NMI, count_nmi);
	irq_set_handler(VEC_DOORBELL, count_doorbell);
}

/* No libgcc here: __builtin_popcount would call __popcountdi2. */
static uint64_t weight(uint64_t x)
{
	uint64_t n = 0;

	for (; x; x &= x - 1)
		n++;
	return n;
}

/*
 * What vmm documents for one ICR write: `set` is targets() of its
 * destination fields. An invalid combination is dropped before its vector is
 * looked at (vmm/apic/ipi.h: IPI_ERR_MODE, not IPI_ERR_VECTOR).
 */
static struct expect model(unsigned int mode, unsigned int sh, uint8_t vec, uint64_t set)
{
	struct expect e = { K_DROP, false, 0 };

	switch (mode) {
	case 0:
		break;
	case 1:
	case 4:
		if (sh == APIC_SH_SELF || sh == APIC_SH_ALL)
			return e; /* fixed only, SDM "Valid Combinations" */
		break;
	default:
		return e; /* SMI, reserved, INIT, SIPI, ExtINT: not emulated */
	}
	if (mode != 4 && vec < 16) {
		e.esr = true;
		return e;
	}
	e.set = set;
	if (set)
		e.kind = mode == 0 ? K_FIXED : mode == 1 ? K_LOWEST : K_NMI;
	return e;
}

/* The handler count a write can move: NMIs for mode 4 (even a dropped one), else its vector's. */
static uint64_t counter(unsigned int cpu, bool nmi, int vi)
{
	return nmi ? READ_ONCE(cpus[cpu].nmi) : READ_ONCE(cpus[cpu].recv[vi]);
}

static void report_mismatch(uint64_t icr, const char *what);

static void wait_deliveries(uint64_t icr, uint64_t before, uint64_t want)
{
	uint64_t end;
	uint32_t iter = 0;

	if (READ_ONCE(irqs) - before >= want)
		return; /* self only: taken on the way back from the ICR exit */
	end = rdtsc() + (timeouts >= MAX_TIMEOUTS ? short_wait : wait_cycles);
	while (READ_ONCE(irqs) - before < want) {
		if (rdtsc() > end) {
			timeouts++;
			report_mismatch(icr, "timed out waiting for its deliveries");
			return;
		}
		spin_wait_step(&iter);
	}
}

/*
 * Each member of a fixed or NMI set took exactly one, a lowest-priority set
 * exactly one in all, and nobody outside the set took any.
 */
static bool routed_as_modelled(const uint64_t *base, const struct expect *e, bool nmi, int vi)
{
	uint64_t total = 0;

	for (unsigned int c = 0; c < nr; c++) {
		uint64_t d = counter(c, nmi, vi) - base[c];
		uint64_t member = e->set >> c & 1;

		if (d && !member)
			return false;
		if (e->kind != K_LOWEST && d != member)
			return false;
		total += d;
	}
	return e->kind != K_LOWEST || total == 1;
}

static void report_mismatch(uint64_t icr, const char *what)
{
	/* The first few are enough to debug; the counts say how many. */
	if (misrouted + timeouts + esr_bad + gp <= 8)
		printf("icr-combos: cpu%u: ICR 0x%016lx: %s\n", this_cpu_id(), icr, what);
}

/*
 * ESR is sticky between ESR writes, and two exits to check: it is checked
 * once per run of writes that expect the same, so a wrong bit names the run
 * (its first ICR), not the write.
 */
static struct {
	bool want;
	uint64_t writes, first_icr;
} esr_run;

static void esr_check(void)
{
	uint32_t esr;

	if (!esr_run.writes)
		return;
	esr = apic_esr();
	if (esr != (esr_run.want ? APIC_ESR_SEND_ILLEGAL : 0)) {
		esr_bad++;
		report_mismatch(esr_run.first_icr, "ESR differs from the model in this run");
		printf("icr-combos: ESR 0x%x after %lu writes, expected 0x%x\n", esr,
		       esr_run.writes, esr_run.want ? APIC_ESR_SEND_ILLEGAL : 0);
	}
	esr_run.writes = 0;
}

static void esr_expect(bool want, uint64_t icr)
{
	if (esr_run.writes && esr_run.want != want)
		esr_check();
	if (!esr_run.writes) {
		esr_run.want = want;
		esr_run.first_icr = icr;
	}
	esr_run.writes++;
}

static void send_one(uint64_t icr, const struct expect *e, bool nmi, int vi)
{
	uint64_t base[VMM_MAX_VCPUS], before = READ_ONCE(irqs), want = 0;

	if (e->kind != K_DROP)
		for (unsigned int c = 0; c < nr; c++)
			base[c] = counter(c, nmi, vi);
	esr_expect(e->esr, icr);
	writes++;
	if (!wrmsr_safe(MSR_X2APIC_ICR, icr)) {
		gp++;
		report_mismatch(icr, "#GP");
		return;
	}
	switch (e->kind) {
	case K_DROP:
		dropped++;
		break;
	case K_NMI:
		want = weight(e->set);
		exp_nmi += want;
		break;
	case K_LOWEST:
		want = 1;
		exp_recv[vi]++;
		break;
	case K_FIXED:
		want = weight(e->set);
		exp_recv[vi] += want;
		break;
	}
	wait_deliveries(icr, before, want);
	/* A dropped write's stray to another vCPU may come later: the totals catch that one. */
	if (e->kind == K_DROP ? READ_ONCE(irqs) != before : !routed_as_modelled(base, e, nmi, vi)) {
		misrouted++;
		report_mismatch(icr, "deliveries differ from the model");
	}
}

/* SDM "Logical Destination Mode in x2APIC Mode": same cluster, member bits overlap. */
static uint64_t logical_set(uint32_t dest)
{
	uint64_t set = 0;

	for (uint32_t id = 0; id < nr; id++) {
		if (dest >> 16 == id >> 4 && (dest & 0xffff & (1u << (id & 15))))
			set |= 1ull << id;
	}
	return set;
}

/* Who an ICR's destination fields name; a shorthand overrides the destination. */
static uint64_t targets(bool logical, unsigned int sh, uint32_t dest, uint32_t self)
{
	uint64_t all = nr >= 64 ? ~0ull : (1ull << nr) - 1;

	switch (sh) {
	case APIC_SH_SELF:
		return 1ull << self;
	case APIC_SH_ALL:
		return all;
	case APIC_SH_ALL_BUT_SELF:
		return all & ~(1ull << self);
	default:
		break;
	}
	if (dest == APIC_DEST_ALL)
		return all;
	if (logical)
		return logical_set(dest);
	return dest < nr ? 1ull << dest : 0;
}

/*
 * Every combination, delivery mode outermost: the destination set of each
 * (destination mode, shorthand, destination) is worked out once, as guest
 * instructions are slow here.
 */
static void sweep(uint32_t self)
{
	uint32_t other = (self + 1) % nr;
	const uint32_t dests[NR_DESTS] = {
		self,	       /* logical: the member bits of its own ID */
		other,	       /* logical: likewise */
		0x00ff0100,    /* physical: no such ID; logical: cluster 0xff, nobody */
		APIC_DEST_ALL, /* broadcast in both modes */
		apic_ldr_of(self) | (apic_ldr_of(other) & 0xffff), /* logical: both */
		0x0000ffff, /* logical: every member of cluster 0 */
		0x00010001, /* logical: cluster 1, member 0 (vCPU 16) */
	};
	uint64_t sets[2][4][NR_DESTS];

	for (unsigned int i = 0; i < 2 * 4 * NR_DESTS; i++)
		sets[i / (4 * NR_DESTS)][i / NR_DESTS % 4][i % NR_DESTS] =
			targets(i / (4 * NR_DESTS), i / NR_DESTS % 4, dests[i % NR_DESTS], self);

	for (unsigned int mode = 0; mode < 8; mode++) {
		/* destination mode, level, trigger, shorthand, destination: 2 x 2 x 2 x 4 x 7 */
		for (unsigned int i = 0; i < 2 * 2 * 2 * 4 * NR_DESTS; i++) {
			unsigned int d = i % NR_DESTS, sh = i / NR_DESTS % 4;
			unsigned int trig = i / (4 * NR_DESTS) % 2, level = i / (8 * NR_DESTS) % 2;
			unsigned int logical = i / (16 * NR_DESTS);
			uint64_t icr = (uint64_t)dests[d] << 32 | (uint64_t)sh << APIC_SH_SHIFT |
				       trig * ICR_TRIGGER | level * APIC_INT_ASSERT |
				       logical * APIC_DEST_LOGICAL | mode << 8;

			for (int vi = 0; vi < NR_VEC; vi++) {
				struct expect e =
					model(mode, sh, vectors[vi], sets[logical][sh][d]);

				send_one(icr | vectors[vi], &e, mode == 4, vi);
			}
		}
	}
	esr_check();
}

/*
 * NMIs back to back to each other vCPU: the next is written the moment the
 * last one is counted, so it arrives while the target is still on its way
 * from the handler back to `sti; hlt` (in the STI shadow, or with NMIs
 * still blocked until its IRET). It must be taken all the same.
 */
static void nmi_burst(uint32_t self, uint64_t n)
{
	uint64_t base[VMM_MAX_VCPUS];

	for (uint32_t t = 0; t < nr; t++) {
		uint64_t icr = (uint64_t)t << 32 | APIC_DM_NMI;

		if (t == self)
			continue;
		for (uint32_t c = 0; c < nr; c++)
			base[c] = counter(c, true, 0);
		for (uint64_t i = 0; i < n; i++) {
			uint64_t before = READ_ONCE(irqs);

			wrmsr(MSR_X2APIC_ICR, icr);
			wait_deliveries(icr, before, 1);
		}
		writes += n;
		burst_nmis += n;
		exp_nmi += n;
		for (uint32_t c = 0; c < nr; c++) {
			if (counter(c, true, 0) - base[c] != (c == t ? n : 0)) {
				misrouted++;
				report_mismatch(icr, "NMI burst: counts differ");
			}
		}
	}
}

static void doorbell(uint32_t cpu)
{
	doorbells++;
	apic_send_ipi(cpu, VEC_DOORBELL);
}

/* Halt with interrupts on until it is our turn or the sweep is over. */
static void wait_turn(uint32_t self)
{
	for (;;) {
		uint32_t t;

		irq_disable();
		t = load_acquire(&turn);
		if (t == self || t >= senders)
			break;
		asm volatile("sti; hlt" : : : "memory");
	}
	irq_enable();
}

static void pass_turn(uint32_t self)
{
	store_release(&turn, self + 1);
	if (self + 1 < senders) {
		doorbell(self + 1);
		return;
	}
	for (uint32_t c = 0; c < nr; c++)
		if (c != self)
			doorbell(c);
}

static uint32_t bits_set(uint32_t msr0)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < 8; i++)
		n += (uint32_t)weight(rdmsr(msr0 + i));
	return n;
}

static void report_cpu(uint32_t self)
{
	struct combo_cpu *c = &cpus[self];
	struct vmm_result r;

	c->isr_left = bits_set(MSR_X2APIC_ISR0);
	c->irr_left = bits_set(MSR_X2APIC_IRR0);
	result_init(&r, "icr-combos-cpu");
	result_add(&r, "v0", c->recv[0]);
	result_add(&r, "v15", c->recv[1]);
	result_add(&r, "v16", c->recv[2]);
	result_add(&r, "v72", c->recv[3]);
	result_add(&r, "v255", c->recv[4]);
	result_add(&r, "nmi", c->nmi);
	result_add(&r, "doorbell", c->doorbell);
	result_add(&r, "isr_left", c->isr_left);
	result_add(&r, "irr_left", c->irr_left);
	result_send(&r);
}

static void report(void)
{
	uint64_t recv[NR_VEC] = { 0 }, nmi = 0, unexpected = 0, left = 0;
	bool bad = misrouted || timeouts || esr_bad || gp;
	struct vmm_result r;

	for (uint32_t c = 0; c < nr; c++) {
		for (int i = 0; i < NR_VEC; i++)
			recv[i] += cpus[c].recv[i];
		nmi += cpus[c].nmi;
		left += cpus[c].isr_left + cpus[c].irr_left;
	}
	for (int i = 0; i < NR_VEC; i++) {
		if (recv[i] != exp_recv[i]) {
			printf("icr-combos: vector %u: received %lu, expected %lu\n", vectors[i],
			       recv[i], exp_recv[i]);
			bad = true;
		}
		unexpected += recv[i] > exp_recv[i] ? recv[i] - exp_recv[i] : exp_recv[i] - recv[i];
	}
	if (nmi != exp_nmi) {
		printf("icr-combos: NMI: received %lu, expected %lu\n", nmi, exp_nmi);
		bad = true;
	}
	unexpected += nmi > exp_nmi ? nmi - exp_nmi : exp_nmi - nmi;
	printf("icr-combos: %u vCPUs, %u senders: %lu writes, %lu dropped, %lu/%lu/%lu received "
	       "on 16/0x48/0xff, %lu NMIs; misrouted %lu timeouts %lu esr_bad %lu gp %lu left "
	       "%lu\n",
	       nr, senders, writes, dropped, recv[2], recv[3], recv[4], nmi, misrouted, timeouts,
	       esr_bad, gp, left);
	result_init(&r, "icr-combos");
	result_add(&r, "vcpus", nr);
	result_add(&r, "senders", senders);
	result_add(&r, "writes", writes);
	result_add(&r, "dropped", dropped);
	result_add(&r, "exp_v16", exp_recv[2]);
	result_add(&r, "exp_v72", exp_recv[3]);
	result_add(&r, "exp_v255", exp_recv[4]);
	result_add(&r, "exp_nmi", exp_nmi);
	result_add(&r, "burst_nmis", burst_nmis);
	result_add(&r, "doorbells", doorbells);
	result_add(&r, "misrouted", misrouted);
	result_add(&r, "timeouts", timeouts);
	result_add(&r, "esr_bad", esr_bad);
	result_add(&r, "gp", gp);
	result_add(&r, "unexpected", unexpected);
	result_send(&r);
	shutdown(bad || left ? GUEST_STATUS_BUG : GUEST_STATUS_OK);
}

void guest_main(unsigned int cpu)
{
	uint64_t settle_us = arg_u64("settle_us", 2000), burst = arg_u64("nmi_burst", 100);

	nr = nr_cpus();
	senders = (uint32_t)arg_u64("senders", 2);
	wait_cycles = arg_u64("wait_us", 1000000) * tsc_khz() / 1000;
	short_wait = (uint64_t)SHORT_WAIT_US * tsc_khz() / 1000;
	/* KVM's LAPIC would really INIT, SIPI and SMI the vCPUs: this sweep is for vmm's. */
	if (boot_info()->flags & VMM_BOOT_F_IRQCHIP_KERNEL) {
		printf("icr-combos: needs vmm's userspace x2APIC (--irqchip user)\n");
		shutdown(GUEST_STATUS_BAD_ARGS);
	}
	if (nr < 2 || senders < 1 || senders > nr) {
		printf("icr-combos: needs 2 vCPUs or more and 1 <= senders <= vcpus\n");
		shutdown(GUEST_STATUS_BAD_ARGS);
	}
	apic_enable();
	/* Each apic_enable() installs the runtime's 0xFF handler: ours goes in after. */
	barrier_wait(&all_cpus);
	if (cpu == 0)
		install_handlers();
	barrier_wait(&all_cpus); /* gates and handlers in place, every APIC accepting */
	irq_enable();

	wait_turn(cpu);
	if (cpu < senders) {
		sweep(cpu);
		nmi_burst(cpu, burst);
		pass_turn(cpu);
	}
	wait_turn(cpu); /* non-senders and early senders: until the last one is done */

	barrier_wait(&all_cpus);
	delay_us(settle_us); /* strays the model did not expect land now */
	irq_disable();
	report_cpu(cpu);
	barrier_wait(&all_cpus);
	if (cpu != 0)
		apic_park();
	report();
}
