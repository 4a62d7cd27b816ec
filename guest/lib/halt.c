/* SPDX-License-Identifier: MIT */
#include "guest.h"

/* IF=0 check, then `sti; hlt`: STI's shadow covers HLT, so no wakeup is lost. */
void halt_until(const uint32_t *count, uint32_t n)
{
	for (;;) {
		irq_disable();
		if (READ_ONCE(*count) >= n)
			return;
		asm volatile("sti; hlt" : : : "memory");
	}
}
