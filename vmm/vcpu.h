/* SPDX-License-Identifier: MIT */
/*
 * One vCPU: its thread (the only caller of KVM_RUN on its fd), the run loop
 * and exit dispatch. Policy-free: what an exit means is decided by the
 * modules the dispatcher calls.
 */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include "apic/apic.h"
#include "sched/scheduler.h"
#include "sched/halt_poll.h"
#include "measure/stats.h"
#include "apic/timer.h"
#include "measure/trace.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct kvm_host;
struct kvm_run;

#define VCPU_CONSOLE_LINE 256
#define VCPU_KICK_SIGNAL  SIGUSR1 /* blocked but inside KVM_RUN (docs/kicks.md) */

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread; /* as pthread_create returned it (main thread) */
	atomic_bool thread_started;
	pthread_t self;	 /* as the thread itself saw it, for kicks */
	atomic_int mode; /* enum vcpu_mode, published by the owner */

	_Atomic uint64_t entries; /* KVM_RUN calls, for the watchdog (owner, relaxed) */
	/* Futex word: bumped by every waker; a halted vCPU sleeps on it. */
	atomic_uint wake_seq;

	struct vcpu_apic apic;
	struct vcpu_sched sched;
	struct vcpu_timer timer;
	uint64_t spurious_kicks; /* -EINTR exits that found nothing to do */

	char con[VCPU_CONSOLE_LINE]; /* console line being assembled */
	size_t con_len;

	struct exit_stats stats;
	struct event_stats events;
	struct trace_ring trace;
	_Atomic uint64_t wake_req_ns; /* first IPI wake request since the halt began */
	/* The LAPIC deadline a halted vCPU sleeps until, 0: none (owner; the watchdog reads it). */
	_Atomic uint64_t halt_until_ns;
	uint64_t wake_from_ns;	       /* when the wakeup that ended the last halt was asked */
	struct wake_req wake_deferred; /* --wake deferred: in the VM helper's queue */
	struct wake_req wake_redirect; /* --kick-redirect on: in an idle slot helper's queue */
	struct halt_poll poll;	       /* --halt-poll: window and counts (owner only) */
};

/* Process-wide: block the kick signal in the calling thread and install its handler. */
int vcpu_signals_init(void);

int vcpu_create(struct vm *vm, const struct kvm_host *kvm, unsigned int id, uint64_t boot_info_gpa,
		struct vcpu **out, char *err, size_t errlen);
/* Start the vCPU thread; 0, or the pthread_create() error number. */
int vcpu_start(struct vcpu *v);
/* Where the owner thread is; senders read it to choose how to kick (docs/kicks.md). */
enum vcpu_mode {
	VCPU_OUTSIDE,  /* handling an exit: it merges posted interrupts before re-entering */
	VCPU_IN_GUEST, /* inside KVM_RUN (or about to be): needs a signal */
	VCPU_HALTED,   /* sleeping on wake_seq: needs a futex wake */
};

/* Make the vCPU look at its state again, whatever it is doing (VM end, rare events). */
void vcpu_kick(struct vcpu *v);
/* After src (NULL: not a vCPU) posted an interrupt to v: the cheapest kick that cannot be lost. */
void vcpu_kick_ipi(struct vcpu *v, struct vcpu *src);
void vcpu_destroy(struct vcpu *v);

#endif
