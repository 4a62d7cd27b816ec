// SPDX-License-Identifier: MIT
/*
 * mb-smp: our own multiboot guest, exercising what kvm-unit-tests expects
 * of the platform (docs/kvm-unit-tests.md) without any of its code: COM1
 * output, the command line and environment module, the xAPIC MMIO page,
 * fw_cfg's CPU count, INIT/SIPI to start every AP through a real-mode
 * trampoline, the switch to x2APIC (the page then reads all-ones), a fixed
 * IPI to each AP, an unhandled port reading all-ones, and the result through
 * isa-debug-exit: code 0 (status 1) for pass, 1 (status 3) for a failed
 * check, 3 (status 7) for an exception.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#define COM1	     0x3f8
#define APIC	     ((volatile uint32_t *)0xfee00000ul)
#define APIC_ID	     (0x20 / 4)
#define APIC_VER     (0x30 / 4)
#define APIC_SVR     (0xf0 / 4)
#define APIC_ICR     (0x300 / 4)
#define APIC_ICR2    (0x310 / 4)
#define MSR_APICBASE 0x1b
#define MSR_X2_ID    0x802
#define MSR_X2_EOI   0x80b
#define MSR_X2_ICR   0x830
#define IPI_VECTOR   0x40
#define MAX_CPUS     9 /* entry.S has stacks for 8 APs */

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
};

struct mb_module {
	uint32_t start, end, string, reserved;
};

extern char tramp_start[], tramp_end[], exc_stubs[], ipi_isr[];
void bsp_main(uint32_t info);
void ap_main(void);
void fault(uint64_t vector);
void ipi_handler(void);

static volatile uint32_t online, print_lock;
static volatile uint32_t ipis[MAX_CPUS];
static uint64_t idt[256 * 2];

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
			 :
			 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static void putc_serial(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

static void put_num(uint64_t v, unsigned int base)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		putc_serial(buf[--n]);
}

/* %s, %u, %x: enough for this guest. One line at a time under a lock. */
static void print(const char *fmt, ...)
{
	const char *s;
	va_list ap;

	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc_serial(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 's':
			for (s = va_arg(ap, const char *); *s; s++)
				putc_serial(*s);
			break;
		case 'u':
			put_num(va_arg(ap, unsigned int), 10);
			break;
		case 'x':
			put_num(va_arg(ap, unsigned int), 16);
			break;
		default:
			putc_serial(*fmt);
		}
	}
	va_end(ap);
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

static __attribute__((noreturn)) void exit_code(uint32_t code)
{
	outl(0xf4, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void check(bool ok, const char *what)
{
	if (ok)
		return;
	print("mb-smp: FAIL: %s\n", what);
	exit_code(1);
}

void fault(uint64_t vector)
{
	print("mb-smp: exception %u\n", (unsigned int)vector);
	exit_code(3);
}

void ipi_handler(void)
{
	uint32_t id = (uint32_t)rdmsr(MSR_X2_ID);

	if (id < MAX_CPUS)
		ipis[id]++;
	wrmsr(MSR_X2_EOI, 0);
}

static void set_gate(unsigned int vec, void *fn)
{
	uint64_t a = (uint64_t)fn;

	/* Present 64-bit interrupt gate, selector 0x18 (entry.S), IST 0. */
	idt[vec * 2] =
		(a & 0xffff) | (0x18ull << 16) | (0x8eull << 40) | ((a >> 16 & 0xffff) << 48);
	idt[vec * 2 + 1] = a >> 32;
}

static void load_idt(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} d = { sizeof(idt) - 1, (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(d));
}

static void setup_idt(void)
{
	unsigned int v;

	for (v = 0; v < 32; v++)
		set_gate(v, exc_stubs + 16 * v);
	set_gate(IPI_VECTOR, ipi_isr);
}

static void serial_init(void)
{
	outb(COM1 + 3, 0x80); /* DLAB: 115200 baud */
	outb(COM1 + 0, 0x01);
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 4, 0x03);
}

static bool x2apic_capable(void)
{
	uint32_t a = 1, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return c & (1u << 21);
}

static void enable_x2apic(void)
{
	wrmsr(MSR_APICBASE, rdmsr(MSR_APICBASE) | (1u << 10));
}

static unsigned int fw_cfg_cpus(void)
{
	unsigned int lo, hi;

	outw(0x510, 0x05);
	lo = inb(0x511);
	hi = inb(0x511);
	return lo | hi << 8;
}

/* The command line's first word is argv[0]; the rest are our arguments. */
static void show_boot_info(const struct mb_info *mb)
{
	const char *cmd = (const char *)(uintptr_t)mb->cmdline;
	const struct mb_module *mod = (const void *)(uintptr_t)mb->mods_addr;
	char line[128];
	unsigned int n = 0;
	const char *p;

	check(mb->flags & 4, "no command line in the multiboot info");
	print("mb-smp: cmdline '%s', %u KiB above 1 MiB\n", cmd, mb->mem_upper);
	if (!(mb->flags & 8) || mb->mods_count != 1)
		return;
	for (p = (const char *)(uintptr_t)mod->start; p < (const char *)(uintptr_t)mod->end; p++) {
		if (*p != '\n' && n < sizeof(line) - 1) {
			line[n++] = *p;
			continue;
		}
		line[n] = 0;
		print("mb-smp: env %s\n", line);
		n = 0;
	}
}

/* The AP trampoline to physical 0 (rep movsb: no C pointer to address 0). */
static void copy_trampoline(void)
{
	uint64_t dst = 0, src = (uint64_t)tramp_start, n = (uint64_t)(tramp_end - tramp_start);

	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static void start_aps(unsigned int cpus)
{
	copy_trampoline();
	APIC[APIC_ICR2] = 0;
	APIC[APIC_ICR] = 0xc4500; /* INIT, assert, all but self */
	APIC[APIC_ICR] = 0xc0600; /* SIPI vector 0, all but self */
	while (__atomic_load_n(&online, __ATOMIC_ACQUIRE) != cpus - 1)
		__builtin_ia32_pause();
}

static void ping_aps(unsigned int cpus)
{
	unsigned int id, before;

	for (id = 1; id < cpus; id++) {
		before = ipis[id];
		wrmsr(MSR_X2_ICR, (uint64_t)id << 32 | IPI_VECTOR);
		while (ipis[id] == before)
			__builtin_ia32_pause();
	}
}

void bsp_main(uint32_t info)
{
	const struct mb_info *mb = (const void *)(uintptr_t)info;
	unsigned int cpus, ver;

	serial_init();
	show_boot_info(mb);
	setup_idt();
	load_idt();
	ver = APIC[APIC_VER];
	check((ver & 0xff) == 0x14, "xAPIC version register");
	check(APIC[APIC_ID] >> 24 == 0, "xAPIC ID of the BSP");
	APIC[APIC_SVR] = 0x1ff;
	check(APIC[APIC_SVR] == 0x1ff, "xAPIC SVR reads back");
	cpus = fw_cfg_cpus();
	print("mb-smp: fw_cfg says %u CPUs, xAPIC version %x\n", cpus, ver);
	check(cpus >= 1 && cpus <= MAX_CPUS, "fw_cfg CPU count");
	if (cpus > 1)
		start_aps(cpus);
	check(x2apic_capable(), "CPUID.1:ECX.x2APIC");
	enable_x2apic();
	check(rdmsr(MSR_X2_ID) == 0, "x2APIC ID of the BSP");
	check(APIC[APIC_VER] == 0xffffffffu, "the xAPIC page reads all-ones in x2APIC mode");
	check(inl(0x1234) == 0xffffffffu, "an unhandled port reads all-ones");
	ping_aps(cpus);
	print("mb-smp: PASS: %u CPUs up, an IPI to each AP\n", cpus);
	exit_code(0);
}

void ap_main(void)
{
	uint32_t xid, id;

	load_idt();
	xid = APIC[APIC_ID] >> 24;
	APIC[APIC_SVR] = 0x1ff;
	enable_x2apic();
	id = (uint32_t)rdmsr(MSR_X2_ID);
	check(id == xid && id < MAX_CPUS, "AP: x2APIC ID equals its xAPIC ID");
	print("mb-smp: AP %u up in long mode (xAPIC ID %u)\n", id, xid);
	__atomic_add_fetch(&online, 1, __ATOMIC_RELEASE);
	for (;;)
		__asm__ volatile("sti; hlt; cli");
}
