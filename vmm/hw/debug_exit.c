// SPDX-License-Identifier: MIT
/*
 * QEMU's isa-debug-exit: a write of `code` ends the VM, and QEMU exits with
 * (code << 1) | 1, so a guest can never report 0. kvm-unit-tests reads 1 as
 * pass, 3 as fail and 77 as skip (run_tests.sh); we end the VM with that
 * status, so vm_failed() holds for every such end, as QEMU's non-zero exit.
 */
#include "hw/pc.h"
#include "vcpu.h"
#include "vm.h"

#include <string.h>

enum exit_key debug_exit_io(struct vcpu *v, const struct hw_pio *io)
{
	uint32_t code = 0;

	if (!io->out) {
		memset(io->data, 0xff, (size_t)io->size * io->count);
		return EXIT_IO_OTHER;
	}
	memcpy(&code, io->data, io->size);
	vm_end(v->vm, VM_END_SHUTDOWN, (code << 1) | 1,
	       "isa-debug-exit: vCPU %u wrote 0x%x: status %u", v->id, code, (code << 1) | 1);
	return EXIT_IO_SHUTDOWN;
}
