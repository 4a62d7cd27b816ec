/* SPDX-License-Identifier: MIT */
/*
 * QEMU's fw_cfg, the legacy I/O interface: a 16-bit key written to the
 * selector port, then the item's bytes read one at a time from the data port
 * (QEMU docs/specs/fw_cfg.rst). Only the items a test kernel asks for: the
 * signature, the interface ID, RAM size and the CPU counts (kvm-unit-tests
 * reads key 0x05 to know how many APs to wait for). Any other key reads as
 * zeros. Pure: the caller locks.
 */
#ifndef VMM_HW_FW_CFG_H
#define VMM_HW_FW_CFG_H

#include <stdint.h>

#define FW_CFG_PORT_SEL	 0x510u /* 16-bit write: select an item, rewind */
#define FW_CFG_PORT_DATA 0x511u /* 8-bit reads: the next byte of the item */

#define FW_CFG_SIGNATURE 0x00u /* "QEMU" */
#define FW_CFG_ID	 0x01u /* u32 1: the traditional interface only */
#define FW_CFG_RAM_SIZE	 0x03u /* u64 */
#define FW_CFG_NB_CPUS	 0x05u /* u16 */
#define FW_CFG_MAX_CPUS	 0x0fu /* u16 */
#define FW_CFG_MAX_RAM	 0x11u /* u64; 0: no limit (kvm-unit-tests reads it with an mmap) */

struct fw_cfg {
	uint16_t key;
	uint32_t pos; /* next byte of the selected item */
	uint16_t nr_cpus;
	uint64_t ram_size;
};

void fw_cfg_init(struct fw_cfg *f, unsigned int nr_cpus, uint64_t ram_size);
void fw_cfg_select(struct fw_cfg *f, uint16_t key);
/* The next byte of the selected item; past its end (or an unknown item), 0. */
uint8_t fw_cfg_read(struct fw_cfg *f);

#endif
