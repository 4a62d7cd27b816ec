/* SPDX-License-Identifier: MIT */
/*
 * Console output. Every port write is a ~9 us exit, so whole strings go out
 * with one CONSOLE_STR write of their address (identity map: virtual ==
 * physical, and all guest memory is below 4 GiB).
 */
#include "internal.h"

void console_putc(char c)
{
	outb(VMM_PORT_CONSOLE, c);
}

static void console_str(const char *s)
{
	outl(VMM_PORT_CONSOLE_STR, (uint32_t)(uintptr_t)s);
}

void console_puts(const char *s)
{
	size_t len = strlen(s);
	unsigned long flags;
	char *buf;

	if (len < VMM_CONSOLE_STR_MAX) {
		if (len)
			console_str(s);
		return;
	}

	/* Too long for one write: send it in chunks through the line buffer. */
	flags = irq_save();
	buf = this_cpu()->buf;
	for (; len;) {
		size_t n = len < VMM_CONSOLE_STR_MAX - 1 ? len : VMM_CONSOLE_STR_MAX - 1;

		memcpy(buf, s, n);
		buf[n] = '\0';
		console_str(buf);
		s += n;
		len -= n;
	}
	irq_restore(flags);
}

/* Interrupts stay off while the per-CPU buffer is in use, so handlers may print. */
int vprintf(const char *fmt, va_list ap)
{
	unsigned long flags = irq_save();
	char *buf = this_cpu()->buf;
	int len = vsnprintf(buf, VMM_CONSOLE_STR_MAX, fmt, ap);

	if (len > 0)
		console_str(buf);
	irq_restore(flags);
	return len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vprintf(fmt, ap);
	va_end(ap);
	return len;
}
