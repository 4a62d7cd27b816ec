/* SPDX-License-Identifier: MIT */
/*
 * Per-vCPU exit accounting: every exit is filed under a key (exit reason plus
 * sub-reason, e.g. "wrmsr:icr", "io:console") with a count and, unless stats
 * are off, a histogram of its userspace handling time (KVM_RUN return to the
 * next KVM_RUN call). Owned by the vCPU thread: no locks, no sharing; merged
 * per VM and overall when the run is over.
 */
#ifndef VMM_STATS_H
#define VMM_STATS_H

#include "measure/hist.h"

#include <stdbool.h>
#include <stdint.h>

enum exit_key {
	EXIT_IO_CONSOLE,
	EXIT_IO_RESULT,
	EXIT_IO_SHUTDOWN,
	EXIT_IO_SPIN,
	EXIT_IO_SERIAL, /* multiboot VMs: COM1 */
	EXIT_IO_FW_CFG,
	EXIT_IO_OTHER,
	EXIT_HLT,
	EXIT_INTR,
	EXIT_IRQ_WINDOW,
	EXIT_WRMSR_ICR,
	EXIT_WRMSR_EOI,
	EXIT_WRMSR_TSC_DEADLINE,
	EXIT_WRMSR_TPR,
	EXIT_WRMSR_TIMER,
	EXIT_WRMSR_APIC_BASE,
	EXIT_WRMSR_SVR,
	EXIT_WRMSR_LVT,
	EXIT_WRMSR_ESR,
	EXIT_WRMSR_OTHER,
	EXIT_RDMSR_APIC,
	EXIT_RDMSR_APIC_BASE,
	EXIT_RDMSR_TSC_DEADLINE,
	EXIT_RDMSR_OTHER,
	EXIT_MMIO,
	EXIT_MMIO_APIC, /* the xAPIC page */
	EXIT_SHUTDOWN,
	EXIT_INTERNAL_ERROR,
	EXIT_FAIL_ENTRY,
	EXIT_OTHER,
	NR_EXIT_KEYS
};

struct exit_stats {
	uint64_t count[NR_EXIT_KEYS];
	struct hist time[NR_EXIT_KEYS]; /* handling time, ns; empty with --no-stats */
};

/* Latencies of events that span threads, recorded by the vCPU that sees them end. */
enum event_key {
	EVENT_IPI,    /* ICR write (latest one requesting the vector) to injection on the target */
	EVENT_WAKEUP, /* wake request (IPI post or timer deadline) to the halted vCPU in KVM_RUN */
	EVENT_SLOT_WAIT,       /* runnable without a slot to running on one (--sched=slots) */
	EVENT_SPIN_YIELD,      /* a spinner's directed yield to its target running on the slot */
	EVENT_HANDOFF,	       /* a slot granted to its receiver inside KVM_RUN, any cause */
	EVENT_HANDOFF_FREE,    /* ... a free slot taken on wake or start */
	EVENT_HANDOFF_QUANTUM, /* ... at the giver's quantum expiry */
	EVENT_HANDOFF_HALT,    /* ... the giver halted or ended */
	EVENT_HANDOFF_YIELD,   /* ... a directed yield */
	EVENT_HANDOFF_PREEMPT, /* ... wakeup preemption */
	NR_EVENT_KEYS
};

struct event_stats {
	struct hist lat[NR_EVENT_KEYS]; /* ns */
};

const char *event_key_name(enum event_key k);
int event_key_parse(const char *name);
void event_stats_init(struct event_stats *s);
void event_stats_merge(struct event_stats *dst, const struct event_stats *src);

const char *exit_key_name(enum exit_key k);
/* The key named `name` (as printed, e.g. "wrmsr:icr"), or -1. */
int exit_key_parse(const char *name);

void exit_stats_init(struct exit_stats *s);
void exit_stats_merge(struct exit_stats *dst, const struct exit_stats *src);
uint64_t exit_stats_total(const struct exit_stats *s);

static inline void exit_stats_record(struct exit_stats *s, enum exit_key k, uint64_t ns, bool timed)
{
	s->count[k]++;
	if (timed)
		hist_record(&s->time[k], ns);
}

#endif
