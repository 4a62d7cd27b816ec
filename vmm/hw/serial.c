// SPDX-License-Identifier: MIT
#include "hw/serial.h"

#include <stdbool.h>
#include <string.h>

void uart_init(struct uart *u)
{
	memset(u, 0, sizeof(*u));
	u->dll = 12; /* 9600 baud, what a PC BIOS leaves */
}

int uart_write(struct uart *u, unsigned int off, uint8_t val)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_THR:
		if (dlab) {
			u->dll = val;
			return -1;
		}
		return val;
	case UART_IER:
		if (dlab)
			u->dlm = val;
		else
			u->ier = val & 0x0f;
		return -1;
	case UART_LCR:
		u->lcr = val;
		return -1;
	case UART_MCR:
		u->mcr = val & 0x1f;
		return -1;
	case UART_SCR:
		u->scr = val;
		return -1;
	default:
		return -1; /* FCR, and LSR/MSR (read-only) */
	}
}

uint8_t uart_read(const struct uart *u, unsigned int off)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_THR:
		return dlab ? u->dll : 0;
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		return UART_IIR_NONE;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT;
	case UART_MSR:
		return 0xb0; /* DCD, DSR, CTS: a terminal is there */
	case UART_SCR:
		return u->scr;
	default:
		return 0xff;
	}
}

/* --- COM1 of a multiboot VM: output goes to the vCPU's console line ------ */

#include "hw/pc.h"
#include "hw/pv.h"
#include "vcpu.h"
#include "vm.h"

enum exit_key serial_io(struct vcpu *v, const struct hw_pio *io)
{
	struct hw_pc *pc = v->vm->pc;
	unsigned int off = io->port - UART_COM1;
	uint32_t i;
	int c;

	for (i = 0; i < io->count; i++) {
		uint8_t *d = io->data + i * io->size;

		pthread_mutex_lock(&pc->lock);
		if (io->out) {
			c = uart_write(&pc->uart, off, d[0]);
		} else {
			c = -1;
			memset(d, 0, io->size);
			d[0] = uart_read(&pc->uart, off);
		}
		pthread_mutex_unlock(&pc->lock);
		if (c >= 0)
			pv_console_putc(v, (char)c);
	}
	return EXIT_IO_SERIAL;
}
