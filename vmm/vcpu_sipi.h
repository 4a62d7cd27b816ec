/* SPDX-License-Identifier: MIT */
/*
 * Wait-for-SIPI, the state an INIT leaves a vCPU in (and every AP of a
 * multiboot VM before its first SIPI): the thread is outside KVM_RUN and
 * holds no pCPU slot, sleeping on its wake_seq until a SIPI (apic.sipi) or
 * the end of the VM; then the vCPU starts in real mode at vector * 4096 and
 * asks the scheduler for a slot again.
 */
#ifndef VMM_VCPU_SIPI_H
#define VMM_VCPU_SIPI_H

#include <stdbool.h>

struct vcpu;

/*
 * Owner, when apic.wait_sipi is set: holds_slot is false before the thread's
 * first sched_start (the caller then starts it), true inside the run loop.
 * False if the VM ended meanwhile.
 */
bool vcpu_wait_sipi(struct vcpu *v, bool holds_slot);

#endif
