/* SPDX-License-Identifier: MIT */
/*
 * Exit dispatch to devices: one table of port ranges and one of MMIO ranges,
 * each entry naming the platforms it exists on (kvmtool's hw/ is the model:
 * a device per file, registered in one place). An ELF64 VM of our ABI has
 * the paravirtual ports (hw/pv); a multiboot VM has the PC devices (hw/pc.h)
 * and the debug console and spin ports. The local APIC's MMIO page is an
 * entry too, handled by apic/.
 *
 * What no entry claims: on the PV platform it ends the VM (our guests never
 * do it by mistake-free design, so it is a bug worth stopping for); on the
 * PC platform an IN or a read is all-ones and an OUT or a write is dropped,
 * counted as io:other / mmio, and the first of each is reported once.
 */
#ifndef VMM_HW_HW_H
#define VMM_HW_HW_H

#include "measure/stats.h"

struct vcpu;

/* KVM_EXIT_IO and KVM_EXIT_MMIO: returns the exit key the access was filed under. */
enum exit_key hw_io(struct vcpu *v);
enum exit_key hw_mmio(struct vcpu *v);

#endif
