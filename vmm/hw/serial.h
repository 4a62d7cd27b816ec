/* SPDX-License-Identifier: MIT */
/*
 * The 16550 UART subset a test kernel needs (kvm-unit-tests' lib/x86/io.c
 * programs the divisor, line control and modem control, then polls LSR
 * before each byte): every register reads back, LSR always says the
 * transmitter is empty, nothing is ever received, no interrupt is raised.
 * Pure: the caller locks and prints.
 */
#ifndef VMM_HW_SERIAL_H
#define VMM_HW_SERIAL_H

#include <stdint.h>

#define UART_COM1   0x3f8u
#define UART_NPORTS 8u

/* Register offsets. DLAB (LCR bit 7) turns 0 and 1 into the divisor latch. */
#define UART_THR 0 /* write: transmit; read: receive buffer (RBR) */
#define UART_IER 1
#define UART_IIR 2 /* read; write: FIFO control (FCR) */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_LCR_DLAB 0x80u
#define UART_LSR_THRE 0x20u /* transmit holding register empty */
#define UART_LSR_TEMT 0x40u /* transmitter empty */
#define UART_IIR_NONE 0x01u /* no interrupt pending */

struct uart {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
};

void uart_init(struct uart *u);
/* A byte written at offset off (0..7): the character to print, or -1 if none. */
int uart_write(struct uart *u, unsigned int off, uint8_t val);
uint8_t uart_read(const struct uart *u, unsigned int off);

#endif
