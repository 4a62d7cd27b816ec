/* SPDX-License-Identifier: MIT */
/*
 * `stress --cpu`'s pattern, seed 1's second VM: pure compute, no locks, no
 * IPIs, no halts while it runs. The first `hogs` vCPUs (default: all) run
 * chunks of an xorshift generator, `chunk` steps each, either for `ms`
 * milliseconds of guest TSC time or, with chunks=N, exactly N chunks each;
 * the other vCPUs stay halted, as idle CPUs of a guest running fewer stress
 * workers than it has CPUs. Next to another VM it only takes CPU time away.
 *
 * Args: ms=N (default 2000), chunks=N (fixed work instead of a duration),
 * chunk=N generator steps per chunk (default 500), hogs=N (1..vCPUs,
 * default all). Any number of vCPUs.
 * Result "cpu-hog": vcpus, hogs, ops (chunks done by all hogs; with chunks=N
 * checked = hogs * N), cycles (guest TSC from the start barrier until the
 * last hog is done; the last hog reports), chunk, ms (0 with chunks=N), mix (the generators'
 * states xored, top 48 bits, so the work cannot be optimised away).
 */
#include "guest.h"

#include "apic.h"

struct hog_cpu {
	uint64_t chunks, state;
} __attribute__((aligned(64)));

static struct hog_cpu cpus[VMM_MAX_VCPUS];
static struct barrier all_cpus;
static uint32_t hogs_done;

static uint64_t run_chunk(uint64_t x, uint64_t steps)
{
	for (uint64_t i = 0; i < steps; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

static void hog(struct hog_cpu *c, uint64_t chunk, uint64_t nchunks, uint64_t end)
{
	for (;;) {
		if (nchunks ? c->chunks >= nchunks : rdtsc() >= end)
			break;
		c->state = run_chunk(c->state, chunk);
		c->chunks++;
	}
}

void guest_main(unsigned int cpu)
{
	unsigned int nr = nr_cpus();
	uint64_t ms = arg_u64("ms", 2000), nchunks = arg_u64("chunks", 0);
	uint64_t chunk = arg_u64("chunk", 500), hogs = arg_u64("hogs", nr);
	uint64_t t0, ops = 0, mix = 0;
	struct vmm_result r;

	if (!chunk || !hogs || hogs > nr || (!ms && !nchunks)) {
		if (cpu != 0)
			return; /* let vCPU 0's message out before the shutdown */
		printf("cpu-hog: needs chunk >= 1, 1 <= hogs <= vCPUs, and ms or chunks\n");
		shutdown(GUEST_STATUS_BAD_ARGS);
	}
	barrier_wait(&all_cpus);
	t0 = rdtsc();
	if (cpu >= hogs)
		return; /* idle: halted for good */
	cpus[cpu].state = 0x9E3779B97F4A7C15ull + cpu;
	hog(&cpus[cpu], chunk, nchunks, t0 + ms * tsc_khz());
	/* The last hog to finish reports: nobody waits, spinning or halted. */
	if (atomic_add(&hogs_done, 1) < hogs)
		return;
	t0 = rdtsc() - t0;
	for (unsigned int i = 0; i < hogs; i++) {
		ops += cpus[i].chunks;
		mix ^= cpus[i].state;
	}
	printf("cpu-hog: %lu of %u vCPUs x %s%lu: %lu chunks of %lu steps, %lu cycles (%lu us)\n",
	       hogs, nr, nchunks ? "chunks=" : "ms=", nchunks ? nchunks : ms, ops, chunk, t0,
	       tsc_to_ns(t0) / 1000);
	result_init(&r, "cpu-hog");
	result_add(&r, "vcpus", nr);
	result_add(&r, "hogs", hogs);
	result_add(&r, "ops", ops);
	result_add(&r, "cycles", t0);
	result_add(&r, "chunk", chunk);
	result_add(&r, "ms", nchunks ? 0 : ms);
	result_add(&r, "mix", mix >> 16); /* JSON readers take 63 bits at most */
	result_send(&r);
	shutdown(nchunks && ops != hogs * nchunks ? GUEST_STATUS_BUG : GUEST_STATUS_OK);
}
