/* SPDX-License-Identifier: MIT */
/*
 * Guest entry and the interrupt stubs.
 *
 * Every vCPU enters _start at once in long mode with RDI = its boot info and
 * RSP = 0. Each picks its own stack by vcpu_id and calls guest_start().
 */
#include "guest.h"
#include "internal.h"

	.section .text.entry, "ax"
	.globl	_start
	.type	_start, @function
_start:
	movl	BOOT_INFO_VCPU_ID(%rdi), %eax
	cmpl	$GUEST_NR_VCPUS, %eax
	jae	1f
	/* RSP = guest_stacks + (vcpu_id + 1) * stack size; 16-byte aligned. */
	incl	%eax
	shll	$GUEST_STACK_SHIFT, %eax
	addq	$guest_stacks, %rax
	movq	%rax, %rsp
	xorl	%ebp, %ebp
	call	guest_start		/* RDI still holds the boot info */
	jmp	2f
1:	/* No stack for this vCPU: report it without touching memory. */
	movl	$GUEST_STATUS_BAD_VCPU_ID, %eax
	outl	%eax, $GUEST_PORT_SHUTDOWN
2:	cli
	hlt
	jmp	2b
	.size	_start, . - _start

/*
 * One ISR_STUB_SIZE-byte stub per vector, so idt.c finds vector v's stub at
 * isr_stubs + v * ISR_STUB_SIZE. Each makes the frame uniform: a dummy error
 * code where the CPU pushes none, then the vector.
 */
#define ERRCODE_VECTORS ((1 << 8) | (0x1f << 10) | (1 << 17) | (1 << 21) | (1 << 29) | (1 << 30))

	.macro	isr_stub vec
0:
	.if	(\vec < 32) && ((ERRCODE_VECTORS >> (\vec & 31)) & 1)
	/* the CPU pushed an error code */
	.else
	pushq	$0
	.endif
	pushq	$\vec
	jmp	isr_common
	.org	0b + ISR_STUB_SIZE, 0xcc
	.endm

	/* Expands %vec to a number; isr_stub itself must not see altmacro's '&'. */
	.macro	isr_stub_num vec
	.noaltmacro
	isr_stub \vec
	.endm

	.text
	.balign	ISR_STUB_SIZE
	.globl	isr_stubs
isr_stubs:
	.set	vec, 0
	.rept	256
	.altmacro
	isr_stub_num %vec
	.set	vec, vec + 1
	.endr
	.size	isr_stubs, . - isr_stubs

/* Save every general register so the frame is a struct irq_frame. */
	.type	isr_common, @function
isr_common:
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rbx
	pushq	%rbp
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	/*
	 * The CPU aligned RSP to 16 before its 5-word frame; 2 + 15 more words
	 * make 22 in all, so RSP is 16-byte aligned here as the C ABI wants.
	 */
	cld
	movq	%rsp, %rdi
	call	irq_dispatch
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rbp
	popq	%rbx
	popq	%rdx
	popq	%rcx
	popq	%rax
	addq	$16, %rsp		/* vector and error code */
	iretq
	.size	isr_common, . - isr_common

	.bss
	.balign	4096
guest_stacks:
	.skip	GUEST_NR_VCPUS << GUEST_STACK_SHIFT

	.section .note.GNU-stack, "", @progbits
