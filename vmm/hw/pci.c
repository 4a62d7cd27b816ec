// SPDX-License-Identifier: MIT
/*
 * PCI configuration mechanism #1 on an empty bus: CONFIG_ADDRESS (0xcf8)
 * reads back what was written, CONFIG_DATA (0xcfc-0xcff) reads all-ones, as
 * for a device that is not there; so a probing guest finds no device.
 */
#include "hw/pc.h"
#include "vcpu.h"
#include "vm.h"

#include <string.h>

enum exit_key pci_io(struct vcpu *v, const struct hw_pio *io)
{
	struct hw_pc *pc = v->vm->pc;
	uint32_t i;

	pthread_mutex_lock(&pc->lock);
	for (i = 0; i < io->count; i++) {
		uint8_t *d = io->data + i * io->size;

		if (io->port == 0xcf8 && io->size == 4) {
			if (io->out)
				memcpy(&pc->pci_addr, d, 4);
			else
				memcpy(d, &pc->pci_addr, 4);
		} else if (!io->out) {
			memset(d, 0xff, io->size);
		}
	}
	pthread_mutex_unlock(&pc->lock);
	return EXIT_IO_OTHER;
}
