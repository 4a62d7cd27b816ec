/* SPDX-License-Identifier: MIT */
/*
 * Guest images: validate every field before any byte reaches guest RAM.
 * Two kinds, chosen by the image itself: an ELF64 x86-64 executable (our
 * ABI, include/vmm_abi.h), or an ELF32 i386 executable with a multiboot v1
 * header (kvm-unit-tests' .flat images; docs/kvm-unit-tests.md).
 */
#ifndef VMM_LOADER_H
#define VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#define LOADER_MAX_SEGMENTS 16

struct loader_segment {
	uint64_t paddr;	 /* guest physical load address */
	uint64_t memsz;	 /* bytes in guest RAM (the tail past filesz is zeroed) */
	uint64_t filesz; /* bytes copied from the file */
	uint64_t offset; /* file offset of those bytes */
	uint32_t flags;	 /* PF_R | PF_W | PF_X */
};

enum loader_kind {
	LOADER_ELF64,	  /* entered in long mode with our boot info (vmm_abi.h) */
	LOADER_MULTIBOOT, /* entered in 32-bit protected mode, EAX = 0x2BADB002 */
};

/* Multiboot v1 header (Multiboot Specification 0.6.96, section 3.1). */
#define LOADER_MB_MAGIC	       0x1badb002u
#define LOADER_MB_SEARCH       8192u	  /* the header lies 4-aligned in the first 8 KiB */
#define LOADER_MB_F_PAGE_ALIGN (1u << 0)  /* modules page-aligned: ours are */
#define LOADER_MB_F_MEMINFO    (1u << 1)  /* mem_lower/mem_upper: always given */
#define LOADER_MB_F_VIDEO      (1u << 2)  /* a video mode: there is no display */
#define LOADER_MB_F_AOUT       (1u << 16) /* load addresses in the header instead of ELF */

struct loader_image {
	enum loader_kind kind;
	uint64_t entry;
	uint32_t mb_offset; /* multiboot: file offset of the header */
	uint32_t mb_flags;
	unsigned int nr_segments;
	struct loader_segment seg[LOADER_MAX_SEGMENTS];
};

/*
 * Check the image in file[0..size) for a guest with ram_size bytes of RAM
 * whose first `reserved` bytes belong to the VMM. Returns 0 and fills img, or
 * -1 with a one-line description of the first problem in err (no prefix, no
 * trailing newline; the caller prints "vmm: IMAGE: <err>").
 */
int loader_parse(const void *file, size_t size, uint64_t ram_size, uint64_t reserved,
		 struct loader_image *img, char *err, size_t errlen);

/* Copy a parsed image into guest RAM and zero each segment's bss tail. */
void loader_copy(const struct loader_image *img, const void *file, void *ram);

/*
 * Read a whole image file into a malloc'd buffer. Returns 0, or -1 with a
 * one-line reason in err (e.g. "cannot open: No such file or directory").
 */
int loader_read_file(const char *path, void **buf, size_t *size, char *err, size_t errlen);

#endif
