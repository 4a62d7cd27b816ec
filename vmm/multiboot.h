/* SPDX-License-Identifier: MIT */
/*
 * The multiboot v1 boot protocol (Multiboot Specification 0.6.96, section 3):
 * what a multiboot image finds in guest RAM below 1 MiB when its BSP starts.
 * Page 0 stays free: kvm-unit-tests copies its AP trampoline there.
 */
#ifndef VMM_MULTIBOOT_H
#define VMM_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#define MB_BOOT_MAGIC  0x2badb002u /* EAX at entry */
#define MB_GDT_GPA     0x8000ull   /* flat 32-bit GDT and a TSS, for the entry state */
#define MB_INFO_GPA    0x9000ull   /* struct multiboot_info: EBX at entry */
#define MB_MODS_GPA    0x9100ull   /* the module list (at most one: the environment) */
#define MB_CMDLINE_GPA 0xa000ull
#define MB_CMDLINE_MAX 4096u
#define MB_ENV_GPA     0xb000ull
#define MB_ENV_MAX     (0x9f000ull - MB_ENV_GPA) /* up to the end of conventional memory */

/* Info flags we set (spec 3.3). */
#define MB_INFO_MEMORY	(1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS	(1u << 3)

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB below 1 MiB */
	uint32_t mem_upper; /* KiB from 1 MiB up to the first hole */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
};

struct mb_module {
	uint32_t start, end; /* [start, end) */
	uint32_t string;     /* the module's name */
	uint32_t reserved;
};

/*
 * Write the info block, the command line ("IMAGE ARGS": the first word is
 * argv[0], as QEMU passes "kernel-filename append-string") and, if env_len,
 * the environment module into ram (ram_size bytes, at least 1 MiB). The
 * caller checked env_len <= MB_ENV_MAX.
 */
void mb_write_info(uint8_t *ram, uint64_t ram_size, const char *image, const char *args,
		   const void *env, size_t env_len);

#endif
