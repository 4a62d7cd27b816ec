// SPDX-License-Identifier: MIT
#include "hw/hw.h"

#include "apic/apic.h"
#include "hw/pc.h"
#include "hw/pv.h"
#include "kvm.h"
#include "vcpu.h"
#include "vm.h"
#include "vmm_abi.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HW_PV = 1, HW_PC = 2 };

typedef enum exit_key (*pio_fn)(struct vcpu *v, const struct hw_pio *io);

struct port_range {
	uint16_t first, last;
	uint8_t platforms;
	pio_fn fn;
};

static enum exit_key pv_port(struct vcpu *v, const struct hw_pio *io)
{
	(void)io;
	return pv_io(v);
}

/*
 * Port 0xf4 is our shutdown port on PV and isa-debug-exit on PC (the same
 * port QEMU's kvm-unit-tests configuration uses; its other three bytes stay
 * free so 0xf5 is still the spin port).
 */
static const struct port_range ports[] = {
	{ 0x20, 0x21, HW_PC, pic_io },
	{ 0xa0, 0xa1, HW_PC, pic_io },
	{ VMM_PORT_CONSOLE, VMM_PORT_CONSOLE, HW_PV | HW_PC, pv_port },
	{ VMM_PORT_CONSOLE_STR, VMM_PORT_CONSOLE_STR, HW_PV, pv_port },
	{ VMM_PORT_RESULT, VMM_PORT_RESULT, HW_PV, pv_port },
	{ VMM_PORT_SHUTDOWN, VMM_PORT_SHUTDOWN, HW_PV, pv_port },
	{ PC_PORT_DEBUG_EXIT, PC_PORT_DEBUG_EXIT, HW_PC, debug_exit_io },
	{ VMM_PORT_SPIN, VMM_PORT_SPIN, HW_PV | HW_PC, pv_port },
	{ UART_COM1, UART_COM1 + UART_NPORTS - 1, HW_PC, serial_io },
	{ FW_CFG_PORT_SEL, FW_CFG_PORT_DATA, HW_PC, fw_cfg_io },
	{ 0xcf8, 0xcff, HW_PC, pci_io },
};

struct hw_pc *hw_pc_new(unsigned int nr_cpus, uint64_t ram_size)
{
	struct hw_pc *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return NULL;
	pthread_mutex_init(&pc->lock, NULL);
	uart_init(&pc->uart);
	fw_cfg_init(&pc->fw_cfg, nr_cpus, ram_size);
	return pc;
}

void hw_pc_free(struct hw_pc *pc)
{
	if (!pc)
		return;
	pthread_mutex_destroy(&pc->lock);
	free(pc);
}

static unsigned int platform(const struct vm *vm)
{
	return vm->multiboot ? HW_PC : HW_PV;
}

/* Once per VM and kind: a test that polls an absent device must not flood the console. */
static void tell_once(struct vcpu *v, atomic_bool *told, const char *what, uint64_t where,
		      unsigned int size)
{
	if (v->vm->quiet || atomic_exchange(told, true))
		return;
	fprintf(stderr,
		"vmm: %s: vCPU %u: %s 0x%llx (%u bytes) reaches no device: reads are all-ones, "
		"writes dropped (this and later ones counted in the exit table)\n",
		v->vm->name, v->id, what, (unsigned long long)where, size);
}

enum exit_key hw_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct hw_pio io = {
		.port = run->io.port,
		.out = run->io.direction == KVM_EXIT_IO_OUT,
		.size = run->io.size,
		.count = run->io.count,
		.data = (uint8_t *)run + run->io.data_offset,
	};
	unsigned int p = platform(v->vm), i;

	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if ((ports[i].platforms & p) && io.port >= ports[i].first &&
		    io.port <= ports[i].last)
			return ports[i].fn(v, &io);
	if (p == HW_PV)
		return pv_io(v); /* it ends the VM, naming the port */
	tell_once(v, &v->vm->pc->told_port, io.out ? "out to port" : "in from port", io.port,
		  io.size);
	if (!io.out)
		memset(io.data, 0xff, (size_t)io.size * io.count);
	return EXIT_IO_OTHER;
}

static unsigned long long vcpu_rip_of(struct vcpu *v)
{
	struct kvm_regs regs;

	if (kvm_ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return 0;
	return regs.rip;
}

enum exit_key hw_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (!v->vm->irqchip_kernel && apic_mmio_claims(v, run->mmio.phys_addr))
		return apic_mmio(v);
	if (platform(v->vm) == HW_PV) {
		vm_end(v->vm, VM_END_GUEST_ERROR, 0,
		       "vCPU %u: %s of %u bytes at 0x%llx, outside guest RAM (RIP 0x%llx)", v->id,
		       run->mmio.is_write ? "write" : "read", run->mmio.len,
		       (unsigned long long)run->mmio.phys_addr, vcpu_rip_of(v));
		return EXIT_MMIO;
	}
	tell_once(v, &v->vm->pc->told_mmio, run->mmio.is_write ? "write to" : "read of",
		  run->mmio.phys_addr, run->mmio.len);
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	return EXIT_MMIO;
}
