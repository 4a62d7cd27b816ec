/* SPDX-License-Identifier: MIT */
/*
 * The PC devices of a multiboot VM (the platform kvm-unit-tests expects of
 * QEMU): COM1, fw_cfg, isa-debug-exit, the PIC's mask registers and an empty
 * PCI bus. One state per VM, shared by its vCPU threads under one lock;
 * every access is an exit, so the lock is never held for long.
 */
#ifndef VMM_HW_PC_H
#define VMM_HW_PC_H

#include "hw/fw_cfg.h"
#include "hw/serial.h"
#include "measure/stats.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

#define PC_PORT_DEBUG_EXIT 0xf4u /* QEMU's isa-debug-exit at iobase=0xf4 */

struct hw_pc {
	pthread_mutex_t lock;
	struct uart uart;
	struct fw_cfg fw_cfg;
	uint8_t pic_imr[2];    /* master, slave interrupt masks */
	uint32_t pci_addr;     /* CONFIG_ADDRESS as last written */
	atomic_bool told_port; /* the first unhandled port was reported */
	atomic_bool told_mmio;
};

struct hw_pc *hw_pc_new(unsigned int nr_cpus, uint64_t ram_size);
void hw_pc_free(struct hw_pc *pc);

/* One port access of a vCPU: the exit's fields, data in the kvm_run page. */
struct hw_pio {
	uint16_t port;
	bool out;
	uint8_t size; /* 1, 2 or 4 */
	uint32_t count;
	uint8_t *data; /* count * size bytes */
};

enum exit_key serial_io(struct vcpu *v, const struct hw_pio *io);
enum exit_key fw_cfg_io(struct vcpu *v, const struct hw_pio *io);
enum exit_key debug_exit_io(struct vcpu *v, const struct hw_pio *io);
enum exit_key pic_io(struct vcpu *v, const struct hw_pio *io);
enum exit_key pci_io(struct vcpu *v, const struct hw_pio *io);

#endif
