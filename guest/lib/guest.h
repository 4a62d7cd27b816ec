/* SPDX-License-Identifier: MIT */
/*
 * The guest runtime: the one header every guest image includes.
 *
 * The library owns _start: it sets up a stack, per-CPU data and the IDT on
 * every vCPU, then calls the image's guest_main(cpu) on all of them at once.
 * When guest_main returns, that vCPU idles (sti; hlt) forever; the VM ends
 * when some vCPU calls shutdown().
 */
#ifndef GUEST_H
#define GUEST_H

/* Shutdown statuses the library uses (exceptions use VMM_STATUS_EXCEPTION). */
#define GUEST_STATUS_OK		  0
#define GUEST_STATUS_BUG	  1 /* BUG_ON fired */
#define GUEST_STATUS_BAD_VCPU_ID  2 /* vcpu_id >= VMM_MAX_VCPUS or >= nr_vcpus */
#define GUEST_STATUS_BAD_MAGIC	  3 /* boot info magic mismatch */
#define GUEST_STATUS_BAD_ABI	  4 /* boot info ABI version mismatch */
#define GUEST_STATUS_BAD_BOOTINFO 5 /* other inconsistent boot info */
#define GUEST_STATUS_BAD_ARGS	  6 /* workload arguments the image cannot use */

#ifndef __ASSEMBLER__
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmm_abi.h>

#define __noreturn     __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(__printf__, a, b)))
#define likely(x)      __builtin_expect(!!(x), 1)
#define unlikely(x)    __builtin_expect(!!(x), 0)
#define ARRAY_SIZE(a)  (sizeof(a) / sizeof((a)[0]))

/* Entry point every image defines; runs on every vCPU. */
void guest_main(unsigned int cpu);

/* ---- port I/O, MSRs, interrupt flag ---- */

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

/* The memory clobber makes buffers the VMM reads visible before the exit. */
static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline unsigned long irq_save(void)
{
	unsigned long flags;

	asm volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

static inline void irq_restore(unsigned long flags)
{
	if (flags & (1ul << 9))
		asm volatile("sti" : : : "memory");
}

static inline void irq_enable(void)
{
	asm volatile("sti" : : : "memory");
}

static inline void irq_disable(void)
{
	asm volatile("cli" : : : "memory");
}

/* ---- per-CPU data, reached through the GS base ---- */

#define MSR_GS_BASE 0xC0000101u

struct percpu {
	struct percpu *self; /* at %gs:0 so this_cpu() is one load */
	unsigned int id;
	bool in_exception; /* a fault while reporting a fault: just stop */
	const struct vmm_boot_info *boot;
	uint64_t scratch[8];	       /* free for images */
	char buf[VMM_CONSOLE_STR_MAX]; /* printf's line buffer */
} __attribute__((aligned(64)));

static inline struct percpu *this_cpu(void)
{
	struct percpu *pc;

	asm("movq %%gs:0, %0" : "=r"(pc));
	return pc;
}

static inline unsigned int this_cpu_id(void)
{
	unsigned int id;

	asm("movl %%gs:%c1, %0" : "=r"(id) : "i"(offsetof(struct percpu, id)));
	return id;
}

static inline const struct vmm_boot_info *boot_info(void)
{
	return this_cpu()->boot;
}

static inline unsigned int nr_cpus(void)
{
	return boot_info()->nr_vcpus;
}

/* ---- console, shutdown, paravirtual signals ---- */

void console_putc(char c);
void console_puts(const char *s); /* one CONSOLE_STR exit per 1023 bytes */
int printf(const char *fmt, ...) __printf(1, 2);
int vprintf(const char *fmt, va_list ap) __printf(1, 0);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) __printf(3, 0);

void shutdown(uint32_t status) __noreturn;

/* Tell the VMM this vCPU is spinning (the PAUSE-loop-exit stand-in). */
static inline void spin_notify(void)
{
	outb(VMM_PORT_SPIN, 0);
}

void bug(const char *file, int line) __noreturn;
#define BUG_ON(cond)                             \
	do {                                     \
		if (unlikely(cond))              \
			bug(__FILE__, __LINE__); \
	} while (0)

/* ---- result records ---- */

void result_init(struct vmm_result *r, const char *name);
bool result_add(struct vmm_result *r, const char *key, uint64_t value); /* false when full */
void result_send(const struct vmm_result *r);

/* ---- interrupts ---- */

/* What the entry stubs push: general registers, vector, error code, CPU frame. */
struct irq_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector;
	uint64_t error_code; /* 0 where the CPU pushes none */
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_t)(struct irq_frame *f);

/* Vectors 32-255 only; exceptions (0-31) always report and shut down. */
void irq_set_handler(uint8_t vector, irq_handler_t fn);
/* The NMI (vector 2) handler; it runs with NMIs blocked until its IRET. */
void nmi_set_handler(irq_handler_t fn);

/*
 * Sleep in HLT until *count (bumped by an interrupt handler) reaches n.
 * Returns with interrupts disabled.
 */
void halt_until(const uint32_t *count, uint32_t n);

/* Sort samples in place, ascending (lib/sort.c). */
void sort_u64(uint64_t *v, uint64_t n);

/* ---- SMP: atomics, barrier ---- */

#define READ_ONCE(x)	       __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)       __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define load_acquire(p)	       __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define store_release(p, v)    __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define atomic_add(p, v)       __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define atomic_fetch_add(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define atomic_xchg(p, v)      __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define atomic_cmpxchg(p, oldp, v) \
	__atomic_compare_exchange_n((p), (oldp), (v), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static inline void cpu_relax(void)
{
	asm volatile("pause" : : : "memory");
}

/*
 * A reusable sense-reversing barrier for `nr` vCPUs (0 = all of them), so a
 * zero-initialized struct barrier works for every vCPU.
 */
struct barrier {
	uint32_t nr;
	uint32_t count;
	uint32_t sense;
};
#define BARRIER_INIT(n)   \
	{                 \
		.nr = (n) \
	}

void barrier_wait(struct barrier *b);

/* ---- TSC ---- */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

uint32_t tsc_khz(void);
uint64_t tsc_to_ns(uint64_t cycles);
void delay_us(uint64_t us);

/* ---- workload arguments: "key=value" pairs split by commas or spaces ---- */

uint64_t arg_u64(const char *key, uint64_t def); /* decimal or 0x hex */
bool arg_present(const char *key);

/* ---- strings ---- */

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
size_t strlcpy(char *dst, const char *src, size_t size);

#endif /* __ASSEMBLER__ */
#endif
