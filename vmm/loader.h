/* SPDX-License-Identifier: MIT */
/* ELF64 guest images: validate every field before any byte reaches guest RAM. */
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

struct loader_image {
	uint64_t entry;
	unsigned int nr_segments;
	struct loader_segment seg[LOADER_MAX_SEGMENTS];
};

/*
 * Check the ELF image in file[0..size) for a guest with ram_size bytes of RAM
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
