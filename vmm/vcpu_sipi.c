// SPDX-License-Identifier: MIT
#include "vcpu_sipi.h"

#include "boot.h"
#include "clock.h"
#include "futex.h"
#include "sched/scheduler.h"
#include "vcpu.h"
#include "vm.h"

#include <stdio.h>

/*
 * A sender stores sipi, then bumps wake_seq and wakes us (vcpu_kick): we
 * read wake_seq before sipi, so either we see the SIPI or the futex wait
 * fails on the changed value. The mode stays VCPU_OUTSIDE: a fixed IPI
 * meanwhile is merged after the start into an APIC the INIT disabled, and
 * counted as dropped, as hardware ignores it in this state.
 */
bool vcpu_wait_sipi(struct vcpu *v, bool holds_slot)
{
	unsigned int seq, sipi;
	char err[128];
	bool ok;

	if (holds_slot)
		sched_halt_begin(v);
	apic_init_reset(v);
	for (;;) {
		seq = atomic_load(&v->wake_seq);
		sipi = atomic_load(&v->apic.sipi);
		if (sipi || vm_ended(v->vm))
			break;
		futex_wait_until(&v->wake_seq, seq, 0);
	}
	if (sipi) {
		atomic_store(&v->apic.wait_sipi, false);
		atomic_store(&v->apic.sipi, 0);
		if (boot_sipi(v->fd, (uint8_t)(sipi & 0xff), err, sizeof(err)) < 0)
			vm_end(v->vm, VM_END_HOST_ERROR, 0, "vCPU %u: SIPI: %s", v->id, err);
	}
	ok = !holds_slot || sched_halt_end(v);
	return ok && !vm_ended(v->vm);
}
