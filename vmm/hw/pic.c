// SPDX-License-Identifier: MIT
/*
 * The 8259A pair, as a sink: a test kernel masks every line at start-up
 * (0xff to ports 0x21 and 0xa1) and never uses it. The masks read back; the
 * command ports take anything and read 0 (no interrupt in service). No line
 * ever raises an interrupt.
 */
#include "hw/pc.h"
#include "vcpu.h"
#include "vm.h"

#include <string.h>

enum exit_key pic_io(struct vcpu *v, const struct hw_pio *io)
{
	struct hw_pc *pc = v->vm->pc;
	unsigned int chip = io->port >= 0xa0, data_port = io->port & 1;
	uint32_t i;

	pthread_mutex_lock(&pc->lock);
	for (i = 0; i < io->count; i++) {
		uint8_t *d = io->data + i * io->size;

		if (io->out) {
			if (data_port)
				pc->pic_imr[chip] = d[0];
			continue;
		}
		memset(d, 0, io->size);
		if (data_port)
			d[0] = pc->pic_imr[chip];
	}
	pthread_mutex_unlock(&pc->lock);
	return EXIT_IO_OTHER;
}
