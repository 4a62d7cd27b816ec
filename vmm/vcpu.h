/* SPDX-License-Identifier: MIT */
/*
 * One vCPU: its thread (the only caller of KVM_RUN on its fd), the run loop
 * and exit dispatch. Policy-free: what an exit means is decided by the
 * modules the dispatcher calls.
 */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include "stats.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct kvm_host;
struct kvm_run;

#define VCPU_CONSOLE_LINE 256

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	atomic_bool thread_started;

	/* Futex word: bumped by every waker; a halted vCPU sleeps on it. */
	atomic_uint wake_seq;

	char con[VCPU_CONSOLE_LINE]; /* console line being assembled */
	size_t con_len;

	struct exit_stats stats;
};

/* Process-wide: block the kick signal in the calling thread and install its handler. */
int vcpu_signals_init(void);

int vcpu_create(struct vm *vm, const struct kvm_host *kvm, unsigned int id, uint64_t boot_info_gpa,
		struct vcpu **out, char *err, size_t errlen);
int vcpu_start(struct vcpu *v);
/* Make the vCPU look at its state again: out of KVM_RUN, or out of its halt sleep. */
void vcpu_kick(struct vcpu *v);
void vcpu_destroy(struct vcpu *v);

#endif
