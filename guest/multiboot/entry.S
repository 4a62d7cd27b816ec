/* SPDX-License-Identifier: MIT */
/*
 * A multiboot v1 image of our own (docs/kvm-unit-tests.md): entered in
 * 32-bit protected mode with paging off, it builds nothing at run time but
 * switches to long mode with static page tables (4 GiB identity map in
 * 2 MiB pages, so the APIC page at 0xFEE00000 is mapped), then calls
 * bsp_main(info). The APs start from a real-mode trampoline the BSP copies
 * to physical 0 (SIPI vector 0), go through the same 32-bit path and call
 * ap_main().
 */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x0
#define SEL_CODE32 0x08
#define SEL_DATA   0x10
#define SEL_CODE64 0x18
#define AP_STACK   16384

	.section .text.entry, "ax"
	.code32
	.align 4
mb_header:
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.globl _start
_start:
	cmp $0x2badb002, %eax
	jne bad_magic
	mov %ebx, mb_info
	mov $bsp_stack_top, %esp
	call long_mode
	ljmp $SEL_CODE64, $bsp64

bad_magic:
	mov $2, %eax
	out %eax, $0xf4
1:	hlt
	jmp 1b

/* Own GDT, PAE, CR3, EFER.LME, then paging: we are in compatibility mode after this. */
long_mode:
	lgdt gdt_desc
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	mov %cr4, %eax
	or $0x20, %eax
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax
	mov %eax, %cr0
	ret

/* An AP from the trampoline: a stack of its own, then the same way up. */
ap32:
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $AP_STACK, %esp
	lock xadd %esp, ap_stack_next
	call long_mode
	ljmp $SEL_CODE64, $ap64

	.code64
bsp64:
	mov $bsp_stack_top, %rsp
	mov mb_info(%rip), %edi
	call bsp_main
2:	hlt
	jmp 2b

ap64:
	mov %esp, %esp
	call ap_main
3:	hlt
	jmp 3b

/* Exceptions 0-31: the vector, then fault(vector), which reports and exits. */
	.globl exc_stubs
	.align 16
exc_stubs:
	vec = 0
	.rept 32
	.align 16
	push $vec
	jmp exc_common
	vec = vec + 1
	.endr
exc_common:
	pop %rdi
	and $-16, %rsp
	call fault

	.globl ipi_isr
ipi_isr:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	cld
	call ipi_handler
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	iretq

/* Real mode at vector 0 (CS base 0): copied to physical 0 by the BSP. */
	.code16
	.globl tramp_start, tramp_end
tramp_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	lgdtl tramp_gdt_desc - tramp_start
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $SEL_CODE32, $ap32
tramp_gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
tramp_end:

	.section .data
	.align 16
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff /* flat 32-bit code */
	.quad 0x00cf93000000ffff /* flat data */
	.quad 0x00af9b000000ffff /* 64-bit code */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.globl mb_info
mb_info:
	.long 0
ap_stack_next:
	.long ap_stacks + AP_STACK

	.align 4096
pml4:
	.quad pdpt + 3
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0003
	.quad pd + 0x1003
	.quad pd + 0x2003
	.quad pd + 0x3003
	.fill 508, 8, 0
pd:
	i = 0
	.rept 2048
	.quad (i << 21) | 0x83
	i = i + 1
	.endr

	.section .bss
	.align 4096
	.space 16384
bsp_stack_top:
	.globl ap_stacks
ap_stacks:
	.space AP_STACK * 8
