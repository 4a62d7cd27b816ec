/* SPDX-License-Identifier: MIT */
/* The paravirtual ports of the guest ABI: console, results, shutdown, spin. */
#ifndef VMM_PV_H
#define VMM_PV_H

#include "measure/stats.h"

struct vcpu;

/* A KVM_EXIT_IO on a port of our ABI (hw/hw.c routes it); returns the exit key it was filed under.
 */
enum exit_key pv_io(struct vcpu *v);
/* One character of a vCPU's console line (the debug port, or a serial port). */
void pv_console_putc(struct vcpu *v, char c);
/* Print what is left in the vCPU's console line buffer. */
void pv_console_flush(struct vcpu *v);

#endif
