// SPDX-License-Identifier: MIT
#include "measure/stats.h"

#include <string.h>

static const char *const exit_key_names[NR_EXIT_KEYS] = {
	[EXIT_IO_CONSOLE] = "io:console",
	[EXIT_IO_RESULT] = "io:result",
	[EXIT_IO_SHUTDOWN] = "io:shutdown",
	[EXIT_IO_SPIN] = "io:spin",
	[EXIT_IO_SERIAL] = "io:serial",
	[EXIT_IO_FW_CFG] = "io:fw-cfg",
	[EXIT_IO_OTHER] = "io:other",
	[EXIT_HLT] = "hlt",
	[EXIT_INTR] = "intr",
	[EXIT_IRQ_WINDOW] = "irq-window",
	[EXIT_WRMSR_ICR] = "wrmsr:icr",
	[EXIT_WRMSR_EOI] = "wrmsr:eoi",
	[EXIT_WRMSR_TSC_DEADLINE] = "wrmsr:tsc-deadline",
	[EXIT_WRMSR_TPR] = "wrmsr:tpr",
	[EXIT_WRMSR_TIMER] = "wrmsr:timer",
	[EXIT_WRMSR_APIC_BASE] = "wrmsr:apic-base",
	[EXIT_WRMSR_SVR] = "wrmsr:svr",
	[EXIT_WRMSR_LVT] = "wrmsr:lvt",
	[EXIT_WRMSR_ESR] = "wrmsr:esr",
	[EXIT_WRMSR_OTHER] = "wrmsr:other",
	[EXIT_RDMSR_APIC] = "rdmsr:apic",
	[EXIT_RDMSR_APIC_BASE] = "rdmsr:apic-base",
	[EXIT_RDMSR_TSC_DEADLINE] = "rdmsr:tsc-deadline",
	[EXIT_RDMSR_OTHER] = "rdmsr:other",
	[EXIT_MMIO] = "mmio",
	[EXIT_MMIO_APIC] = "mmio:apic",
	[EXIT_SHUTDOWN] = "shutdown",
	[EXIT_INTERNAL_ERROR] = "internal-error",
	[EXIT_FAIL_ENTRY] = "fail-entry",
	[EXIT_OTHER] = "other",
};

const char *exit_key_name(enum exit_key k)
{
	if ((unsigned int)k >= NR_EXIT_KEYS)
		return "?";
	return exit_key_names[k];
}

static int key_lookup(const char *const *names, int n, const char *name)
{
	int k;

	for (k = 0; k < n; k++)
		if (!strcmp(name, names[k]))
			return k;
	return -1;
}

int exit_key_parse(const char *name)
{
	return key_lookup(exit_key_names, NR_EXIT_KEYS, name);
}

void exit_stats_init(struct exit_stats *s)
{
	int k;

	memset(s->count, 0, sizeof(s->count));
	for (k = 0; k < NR_EXIT_KEYS; k++)
		hist_init(&s->time[k]);
}

void exit_stats_merge(struct exit_stats *dst, const struct exit_stats *src)
{
	int k;

	for (k = 0; k < NR_EXIT_KEYS; k++) {
		dst->count[k] += src->count[k];
		hist_merge(&dst->time[k], &src->time[k]);
	}
}

uint64_t exit_stats_total(const struct exit_stats *s)
{
	uint64_t t = 0;
	int k;

	for (k = 0; k < NR_EXIT_KEYS; k++)
		t += s->count[k];
	return t;
}

static const char *const event_key_names[NR_EVENT_KEYS] = {
	[EVENT_IPI] = "event:ipi",
	[EVENT_WAKEUP] = "event:wakeup",
	[EVENT_SLOT_WAIT] = "event:slot-wait",
	[EVENT_SPIN_YIELD] = "event:spin-yield",
	[EVENT_HANDOFF] = "event:handoff",
	[EVENT_HANDOFF_FREE] = "event:handoff-free",
	[EVENT_HANDOFF_QUANTUM] = "event:handoff-quantum",
	[EVENT_HANDOFF_HALT] = "event:handoff-halt",
	[EVENT_HANDOFF_YIELD] = "event:handoff-yield",
	[EVENT_HANDOFF_PREEMPT] = "event:handoff-preempt",
};

const char *event_key_name(enum event_key k)
{
	if ((unsigned int)k >= NR_EVENT_KEYS)
		return "?";
	return event_key_names[k];
}

int event_key_parse(const char *name)
{
	return key_lookup(event_key_names, NR_EVENT_KEYS, name);
}

void event_stats_init(struct event_stats *s)
{
	int k;

	for (k = 0; k < NR_EVENT_KEYS; k++)
		hist_init(&s->lat[k]);
}

void event_stats_merge(struct event_stats *dst, const struct event_stats *src)
{
	int k;

	for (k = 0; k < NR_EVENT_KEYS; k++)
		hist_merge(&dst->lat[k], &src->lat[k]);
}
