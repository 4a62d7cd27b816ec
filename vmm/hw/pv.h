/* SPDX-License-Identifier: MIT */
/* The paravirtual ports of the guest ABI: console, results, shutdown, spin. */
#ifndef VMM_PV_H
#define VMM_PV_H

#include "measure/stats.h"

struct vcpu;

/* Handle a KVM_EXIT_IO; returns the exit key it was filed under. */
enum exit_key pv_io(struct vcpu *v);
/* Print what is left in the vCPU's console line buffer. */
void pv_console_flush(struct vcpu *v);

#endif
