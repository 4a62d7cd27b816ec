/* SPDX-License-Identifier: MIT */
/*
 * PARSEC vips's pattern, a workload of seed 2 (IPI-aware directed yield):
 * an image of `tiles` tiles of `tile` words is filtered in `passes` passes
 * (a 3-point stencil from one buffer into the other). Every vCPU takes tiles
 * from one shared work queue (a ticket spinlock around a cursor, so the
 * lock is held briefly and often) until the pass has none left, then waits
 * at a barrier: it halts, and the last vCPU to arrive opens the next pass
 * and kicks every other vCPU with one single-target IPI each. Long compute,
 * moderate synchronisation.
 *
 * Every tile carries the pass that wrote it. A pass reads only tiles the
 * pass before wrote (its own and both neighbours'), so a barrier that let a
 * vCPU run ahead, or a tile taken twice or never, is seen.
 *
 * Args: passes=N (default 40), tiles=N per pass (default 32, at most 256),
 * tile=N words per tile (default 128, at most 256), ple=N (read by the
 * spinlock, default 64). Any number of vCPUs.
 * Result "vips-like": vcpus, passes, tiles, ops (tiles filtered, checked =
 * passes * tiles), cycles (guest TSC from the start barrier to the end of
 * the last pass), kicks (barrier IPIs sent, checked = passes * (vcpus - 1):
 * the VMM's ipi_sent for the VM must equal it), sleeps (barrier halts),
 * spin_notifies, stale (tiles that read a neighbour from the wrong pass,
 * must be 0), checksum (of the final image, its top 48 bits), then tile and ple.
 */
#include "guest.h"

#include "apic.h"
#include "spinlock.h"

#define KICK_VECTOR 0x45
#define MAX_TILES   256
#define MAX_WORDS   256

struct tile {
	uint64_t pass; /* the pass that wrote it, + 1; 0 = the input */
	uint64_t w[MAX_WORDS];
};

struct vips_cpu {
	uint64_t tiles, kicks, sleeps, spin_notifies, stale;
} __attribute__((aligned(64)));

static struct tile image[2][MAX_TILES]; /* pass p reads image[p % 2], writes the other */
static struct vips_cpu cpus[VMM_MAX_VCPUS];
static struct spinlock queue_lock = SPINLOCK_INIT;
static uint64_t next_tile;  /* under queue_lock: the cursor of the current pass */
static uint32_t arrived;    /* at the pass barrier */
static uint32_t generation; /* passes opened; waiters halt until it moves */
static uint32_t done;	    /* vCPUs other than 0 that are finished */
static struct barrier all_cpus;
static uint64_t npasses, ntiles, nwords;

static void kick_irq(struct irq_frame *f)
{
	(void)f;
	apic_eoi();
}

/* The next tile of this pass, or -1 when the queue is empty. */
static int64_t take_tile(void)
{
	int64_t t = -1;

	spin_lock(&queue_lock);
	if (next_tile < ntiles)
		t = next_tile++;
	spin_unlock(&queue_lock);
	return t;
}

static void filter(uint64_t pass, uint64_t t, struct vips_cpu *c)
{
	const struct tile *src = image[pass % 2];
	struct tile *dst = &image[(pass + 1) % 2][t];
	const struct tile *left = &src[t ? t - 1 : ntiles - 1];
	const struct tile *right = &src[(t + 1) % ntiles];
	const uint64_t *s = src[t].w;

	if (src[t].pass != pass || left->pass != pass || right->pass != pass)
		c->stale++;
	dst->w[0] = left->w[nwords - 1] + 3 * s[0] + s[nwords > 1 ? 1 : 0];
	for (uint64_t i = 1; i + 1 < nwords; i++)
		dst->w[i] = s[i - 1] + 3 * s[i] + s[i + 1];
	if (nwords > 1)
		dst->w[nwords - 1] = s[nwords - 2] + 3 * s[nwords - 1] + right->w[0];
	dst->pass = pass + 1;
	c->tiles++;
}

/* The last to arrive opens the next pass and kicks the others, which halt until then. */
static void pass_barrier(unsigned int self, uint32_t gen, struct vips_cpu *c)
{
	unsigned int nr = nr_cpus();

	if (atomic_add(&arrived, 1) == nr) {
		/* Everyone else is past take_tile(): the cursor needs no lock. */
		WRITE_ONCE(arrived, 0);
		WRITE_ONCE(next_tile, 0);
		atomic_add(&generation, 1);
		for (unsigned int i = 0; i < nr; i++) {
			if (i == self)
				continue;
			apic_send_ipi(i, KICK_VECTOR);
			c->kicks++;
		}
		return;
	}
	c->sleeps++;
	halt_until(&generation, gen + 1);
	irq_enable();
}

static void report(uint64_t cycles)
{
	unsigned int nr = nr_cpus();
	uint64_t ops = 0, kicks = 0, sleeps = 0, spins = 0, stale = 0, sum = 0;
	const struct tile *final = image[npasses % 2];
	struct vmm_result r;

	for (unsigned int i = 0; i < nr; i++) {
		ops += cpus[i].tiles;
		kicks += cpus[i].kicks;
		sleeps += cpus[i].sleeps;
		spins += cpus[i].spin_notifies;
		stale += cpus[i].stale;
	}
	for (uint64_t t = 0; t < ntiles; t++) {
		for (uint64_t i = 0; i < nwords; i++)
			sum = sum * 31 + final[t].w[i];
		if (final[t].pass != npasses)
			stale++;
	}
	printf("vips-like: %u vCPUs, %lu passes x %lu tiles x %lu words: tiles %lu/%lu kicks "
	       "%lu/%lu sleeps %lu stale %lu spin_notifies %lu checksum 0x%lx, %lu cycles (%lu "
	       "us)\n",
	       nr, npasses, ntiles, nwords, ops, npasses * ntiles, kicks, npasses * (nr - 1),
	       sleeps, stale, spins, sum, cycles, tsc_to_ns(cycles) / 1000);
	result_init(&r, "vips-like");
	result_add(&r, "vcpus", nr);
	result_add(&r, "passes", npasses);
	result_add(&r, "tiles", ntiles);
	result_add(&r, "ops", ops);
	result_add(&r, "cycles", cycles);
	result_add(&r, "kicks", kicks);
	result_add(&r, "sleeps", sleeps);
	result_add(&r, "spin_notifies", spins);
	result_add(&r, "stale", stale);
	result_add(&r, "checksum", sum >> 16); /* JSON readers take 63 bits at most */
	result_add(&r, "tile", nwords);
	result_add(&r, "ple", spin_ple_window());
	result_send(&r);
	if (ops != npasses * ntiles || kicks != npasses * (nr - 1) || stale) {
		printf("vips-like: a tile was skipped, filtered twice or read from the wrong "
		       "pass\n");
		shutdown(GUEST_STATUS_BUG);
	}
}

void guest_main(unsigned int cpu)
{
	struct vips_cpu *c = &cpus[cpu];
	uint64_t t0 = 0;
	uint32_t spin_iter = 0;
	int64_t t;

	npasses = arg_u64("passes", 40);
	ntiles = arg_u64("tiles", 32);
	nwords = arg_u64("tile", 128);
	if (!npasses || !ntiles || ntiles > MAX_TILES || !nwords || nwords > MAX_WORDS) {
		if (cpu != 0)
			return; /* let vCPU 0's message out before the shutdown */
		printf("vips-like: needs passes >= 1, 1 <= tiles <= %u, 1 <= tile <= %u\n",
		       MAX_TILES, MAX_WORDS);
		shutdown(GUEST_STATUS_BAD_ARGS);
	}
	if (cpu == 0) {
		irq_set_handler(KICK_VECTOR, kick_irq);
		for (uint64_t i = 0; i < ntiles; i++)
			for (uint64_t k = 0; k < nwords; k++)
				image[0][i].w[k] = i * nwords + k;
	}
	spin_configure();
	apic_enable();
	barrier_wait(&all_cpus); /* handler installed, input written, every APIC accepting */
	irq_enable();
	if (cpu == 0)
		t0 = rdtsc();
	for (uint64_t p = 0; p < npasses; p++) {
		while ((t = take_tile()) >= 0)
			filter(p, t, c);
		pass_barrier(cpu, p, c);
	}
	c->spin_notifies = spin_notify_count();
	if (cpu != 0) {
		/* The last kicker may still be sending: vCPU 0 waits for all to be done. */
		atomic_add(&done, 1);
		apic_park();
	}
	while (load_acquire(&done) < nr_cpus() - 1)
		spin_wait_step(&spin_iter);
	c->spin_notifies = spin_notify_count();
	report(rdtsc() - t0);
	shutdown(GUEST_STATUS_OK);
}
