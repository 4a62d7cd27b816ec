/* SPDX-License-Identifier: MIT */
/* The shared IDT, the C side of the vector stubs, and exception reports. */
#include "internal.h"
#include "fixup.h"

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type; /* P=1, DPL=0, 64-bit interrupt gate: IF is cleared on entry */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

#define GATE_INTERRUPT 0x8e

static struct idt_gate idt[256] __attribute__((aligned(16)));
static uint32_t idt_ready;
static irq_handler_t handlers[256];
static irq_handler_t nmi_handler;
static uint64_t reported[256 / 64]; /* unexpected vectors already printed */

static const char *const exception_names[32] = {
	[0] = "DE",  [1] = "DB",  [2] = "NMI", [3] = "BP",  [4] = "OF",	 [5] = "BR",
	[6] = "UD",  [7] = "NM",  [8] = "DF",  [9] = "CSO", [10] = "TS", [11] = "NP",
	[12] = "SS", [13] = "GP", [14] = "PF", [16] = "MF", [17] = "AC", [18] = "MC",
	[19] = "XM", [20] = "VE", [21] = "CP", [28] = "HV", [29] = "VC", [30] = "SX",
};

static void fill_idt(void)
{
	for (unsigned int v = 0; v < ARRAY_SIZE(idt); v++) {
		uint64_t addr = (uintptr_t)isr_stubs + v * ISR_STUB_SIZE;

		idt[v] = (struct idt_gate){
			.offset_lo = addr & 0xffff,
			.selector = VMM_SEL_CODE,
			.type = GATE_INTERRUPT,
			.offset_mid = (addr >> 16) & 0xffff,
			.offset_hi = addr >> 32,
		};
	}
}

/* vCPU 0 fills the table once; everyone loads it once it is complete. */
void idt_init(bool boot_cpu)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) desc = { sizeof(idt) - 1, (uintptr_t)idt };

	if (boot_cpu) {
		fill_idt();
		store_release(&idt_ready, 1);
	} else {
		while (!load_acquire(&idt_ready))
			cpu_relax();
	}
	asm volatile("lidt %0" : : "m"(desc));
}

void irq_set_handler(uint8_t vector, irq_handler_t fn)
{
	BUG_ON(vector < 32);
	store_release(&handlers[vector], fn);
}

void nmi_set_handler(irq_handler_t fn)
{
	store_release(&nmi_handler, fn);
}

static uint64_t read_cr2(void)
{
	uint64_t cr2;

	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	return cr2;
}

static void __noreturn exception(struct irq_frame *f)
{
	struct percpu *pc = this_cpu();
	const char *name = exception_names[f->vector];

	/* A fault while reporting one: the console path is broken, just stop. */
	if (pc->in_exception)
		shutdown(VMM_STATUS_EXCEPTION(f->vector));
	pc->in_exception = true;

	printf("cpu%u: exception #%s (vector %lu) error 0x%lx at RIP 0x%lx CR2 0x%lx\n", pc->id,
	       name ? name : "??", f->vector, f->error_code, f->rip, read_cr2());
	printf("cpu%u: rax=%lx rbx=%lx rcx=%lx rdx=%lx rsi=%lx rdi=%lx rbp=%lx rsp=%lx "
	       "r8=%lx r9=%lx r10=%lx r11=%lx r12=%lx r13=%lx r14=%lx r15=%lx "
	       "rflags=%lx cs=%lx ss=%lx\n",
	       pc->id, f->rax, f->rbx, f->rcx, f->rdx, f->rsi, f->rdi, f->rbp, f->rsp, f->r8, f->r9,
	       f->r10, f->r11, f->r12, f->r13, f->r14, f->r15, f->rflags, f->cs, f->ss);
	shutdown(VMM_STATUS_EXCEPTION(f->vector));
}

static void unexpected(unsigned int vector)
{
	uint64_t bit = 1ull << (vector % 64);

	if (__atomic_fetch_or(&reported[vector / 64], bit, __ATOMIC_RELAXED) & bit)
		return;
	printf("cpu%u: unexpected interrupt vector %u\n", this_cpu_id(), vector);
}

/* Called by isr_common in entry.S with interrupts disabled. */
void irq_dispatch(struct irq_frame *f)
{
	irq_handler_t fn;

	if (f->vector == 2 && (fn = load_acquire(&nmi_handler))) {
		fn(f);
		return;
	}
	if (f->vector < 32) {
		if (fixup_exception(f)) /* rdmsr_safe()/wrmsr_safe() */
			return;
		exception(f);
	}

	fn = load_acquire(&handlers[f->vector]);
	if (fn)
		fn(f);
	else
		unexpected(f->vector);
}
