/* SPDX-License-Identifier: MIT */
/* C entry on every vCPU: per-CPU data, boot info checks, IDT, guest_main. */
#include "internal.h"

_Static_assert(GUEST_NR_VCPUS == VMM_MAX_VCPUS, "entry.S stack count");
_Static_assert(BOOT_INFO_VCPU_ID == offsetof(struct vmm_boot_info, vcpu_id), "entry.S offset");
_Static_assert(GUEST_PORT_SHUTDOWN == VMM_PORT_SHUTDOWN, "entry.S port");
_Static_assert(IRQ_FRAME_VECTOR == offsetof(struct irq_frame, vector), "entry.S frame");
_Static_assert(IRQ_FRAME_SIZE == sizeof(struct irq_frame), "entry.S frame");
_Static_assert(offsetof(struct percpu, self) == 0, "this_cpu() reads %gs:0");

static struct percpu percpus[VMM_MAX_VCPUS];

static void check_boot_info(const struct vmm_boot_info *bi)
{
	if (bi->magic != VMM_BOOT_MAGIC) {
		printf("cpu%u: bad boot info magic 0x%lx\n", bi->vcpu_id, bi->magic);
		shutdown(GUEST_STATUS_BAD_MAGIC);
	}
	if (bi->abi_version != VMM_ABI_VERSION) {
		printf("cpu%u: boot info ABI %u, guest built for %u\n", bi->vcpu_id,
		       bi->abi_version, VMM_ABI_VERSION);
		shutdown(GUEST_STATUS_BAD_ABI);
	}
	if (bi->nr_vcpus > VMM_MAX_VCPUS || bi->vcpu_id >= bi->nr_vcpus) {
		printf("cpu%u: bad vCPU id (nr_vcpus %u)\n", bi->vcpu_id, bi->nr_vcpus);
		shutdown(GUEST_STATUS_BAD_VCPU_ID);
	}
	/* arg parsing relies on the terminating NUL */
	if (strnlen(bi->args, VMM_ARGS_MAX) == VMM_ARGS_MAX) {
		printf("cpu%u: boot info args not NUL-terminated\n", bi->vcpu_id);
		shutdown(GUEST_STATUS_BAD_BOOTINFO);
	}
}

void guest_start(const struct vmm_boot_info *bi)
{
	/* entry.S already refused vcpu_id >= VMM_MAX_VCPUS */
	struct percpu *pc = &percpus[bi->vcpu_id];

	pc->self = pc;
	pc->id = bi->vcpu_id;
	pc->boot = bi;
	wrmsr(MSR_GS_BASE, (uintptr_t)pc);

	check_boot_info(bi);
	idt_init(pc->id == 0);
	guest_main(pc->id);

	for (;;)
		asm volatile("sti; hlt" : : : "memory");
}

void shutdown(uint32_t status)
{
	outl(VMM_PORT_SHUTDOWN, status);
	for (;;)
		asm volatile("cli; hlt" : : : "memory");
}

void bug(const char *file, int line)
{
	printf("cpu%u: BUG at %s:%d\n", this_cpu_id(), file, line);
	shutdown(GUEST_STATUS_BUG);
}
