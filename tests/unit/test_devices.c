/* SPDX-License-Identifier: MIT */
/* The pure device models of a multiboot VM: the 16550 subset and fw_cfg. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "hw/fw_cfg.h"
#include "hw/serial.h"

/* kvm-unit-tests' serial_init, then a byte: every write but THR prints nothing. */
static void test_uart_init_sequence(void **state)
{
	struct uart u;
	uint8_t lcr;

	(void)state;
	uart_init(&u);
	lcr = uart_read(&u, UART_LCR);
	assert_int_equal(uart_write(&u, UART_LCR, lcr | UART_LCR_DLAB), -1);
	assert_int_equal(uart_write(&u, UART_THR, 0x01), -1); /* divisor low, not a character */
	assert_int_equal(uart_write(&u, UART_IER, 0x00), -1); /* divisor high */
	assert_int_equal(uart_read(&u, UART_THR), 0x01);
	assert_int_equal(uart_read(&u, UART_IER), 0x00);
	assert_int_equal(uart_read(&u, UART_LCR), lcr | UART_LCR_DLAB);
	assert_int_equal(uart_write(&u, UART_LCR, lcr & ~UART_LCR_DLAB), -1);
	assert_int_equal(uart_write(&u, UART_IER, 0x00), -1);
	assert_int_equal(uart_write(&u, UART_LCR, 0x03), -1);
	assert_int_equal(uart_write(&u, UART_IIR, 0x00), -1);
	assert_int_equal(uart_write(&u, UART_MCR, 0x03), -1);
	assert_int_equal(uart_read(&u, UART_LCR), 0x03);
	assert_int_equal(uart_read(&u, UART_MCR), 0x03);
	assert_int_equal(uart_write(&u, UART_THR, 'A'), 'A');
}

static void test_uart_status(void **state)
{
	struct uart u;

	(void)state;
	uart_init(&u);
	/* The transmitter is always ready: a polling loop never spins. */
	assert_true(uart_read(&u, UART_LSR) & UART_LSR_THRE);
	assert_int_equal(uart_read(&u, UART_IIR), UART_IIR_NONE);
	assert_int_equal(uart_read(&u, UART_THR), 0); /* nothing received */
	assert_int_equal(uart_write(&u, UART_SCR, 0x5a), -1);
	assert_int_equal(uart_read(&u, UART_SCR), 0x5a);
	assert_int_equal(uart_write(&u, UART_IER, 0xff), -1);
	assert_int_equal(uart_read(&u, UART_IER), 0x0f);
	assert_int_equal(uart_write(&u, UART_LSR, 0), -1); /* read-only */
	assert_true(uart_read(&u, UART_LSR) & UART_LSR_TEMT);
	assert_int_equal(uart_write(&u, UART_THR, 0), 0); /* a NUL is a character too */
}

static uint64_t read_item(struct fw_cfg *f, uint16_t key, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	fw_cfg_select(f, key);
	for (i = 0; i < bytes; i++)
		v |= (uint64_t)fw_cfg_read(f) << (8 * i);
	return v;
}

static void test_fw_cfg_items(void **state)
{
	struct fw_cfg f;
	char sig[5] = "";
	unsigned int i;

	(void)state;
	fw_cfg_init(&f, 3, 128ull << 20);
	fw_cfg_select(&f, FW_CFG_SIGNATURE);
	for (i = 0; i < 4; i++)
		sig[i] = (char)fw_cfg_read(&f);
	assert_string_equal(sig, "QEMU");
	assert_int_equal(read_item(&f, FW_CFG_ID, 4), 1);
	assert_int_equal(read_item(&f, FW_CFG_NB_CPUS, 2), 3);
	assert_int_equal(read_item(&f, FW_CFG_MAX_CPUS, 2), 3);
	assert_int_equal(read_item(&f, FW_CFG_RAM_SIZE, 8), 128ull << 20);
	assert_int_equal(read_item(&f, FW_CFG_MAX_RAM, 8), 0);
}

/* Reads past the item and of unknown items are 0; a new select rewinds. */
static void test_fw_cfg_bounds(void **state)
{
	struct fw_cfg f;

	(void)state;
	fw_cfg_init(&f, 2, 16ull << 20);
	assert_int_equal(read_item(&f, FW_CFG_NB_CPUS, 8), 2);
	assert_int_equal(read_item(&f, 0x1234, 4), 0);
	fw_cfg_select(&f, FW_CFG_NB_CPUS);
	assert_int_equal(fw_cfg_read(&f), 2);
	assert_int_equal(fw_cfg_read(&f), 0);
	assert_int_equal(fw_cfg_read(&f), 0);
	fw_cfg_select(&f, FW_CFG_NB_CPUS);
	assert_int_equal(fw_cfg_read(&f), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uart_init_sequence),
		cmocka_unit_test(test_uart_status),
		cmocka_unit_test(test_fw_cfg_items),
		cmocka_unit_test(test_fw_cfg_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
