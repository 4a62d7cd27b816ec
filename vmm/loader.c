/* SPDX-License-Identifier: MIT */
/*
 * Guest image loader: ELF64 x86-64 images of our ABI and ELF32 i386 images
 * with a multiboot v1 header. The image is untrusted input: every header field
 * is checked against the file size and the guest memory map before anything
 * is copied, and all headers are memcpy'd into local structs so no pointer is
 * ever formed at an unaligned or out-of-range offset.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"

#define LOADER_MAX_FILE (256ULL << 20)

/* Always returns -1 so callers can `return fail(...)`. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* "16 MiB" reads better than 0x1000000 in a message about RAM size. */
static void fmt_size(char *buf, size_t len, uint64_t bytes)
{
	static const char *const unit[] = { "GiB", "MiB", "KiB" };
	static const unsigned int shift[] = { 30, 20, 10 };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		if (bytes && !(bytes & ((1ULL << shift[i]) - 1))) {
			snprintf(buf, len, "%" PRIu64 " %s", bytes >> shift[i], unit[i]);
			return;
		}
	}
	snprintf(buf, len, "%" PRIu64 " bytes", bytes);
}

static const char *machine_name(unsigned int m)
{
	switch (m) {
	case EM_386:
		return "EM_386";
	case EM_ARM:
		return "EM_ARM";
	case EM_AARCH64:
		return "EM_AARCH64";
	case EM_RISCV:
		return "EM_RISCV";
	default:
		return NULL;
	}
}

static int check_ident(const unsigned char *id, char *err, size_t errlen)
{
	if (memcmp(id, ELFMAG, SELFMAG))
		return fail(err, errlen, "bad ELF magic %02x %02x %02x %02x (not an ELF file)",
			    id[0], id[1], id[2], id[3]);
	if (id[EI_CLASS] != ELFCLASS64 && id[EI_CLASS] != ELFCLASS32)
		return fail(err, errlen,
			    "invalid EI_CLASS %u (expected ELFCLASS64, or ELFCLASS32 with a "
			    "multiboot header)",
			    id[EI_CLASS]);
	if (id[EI_DATA] == ELFDATA2MSB)
		return fail(err, errlen, "big-endian ELF (ELFDATA2MSB); expected little-endian");
	if (id[EI_DATA] != ELFDATA2LSB)
		return fail(err, errlen, "invalid EI_DATA %u (expected ELFDATA2LSB)", id[EI_DATA]);
	if (id[EI_VERSION] != EV_CURRENT)
		return fail(err, errlen, "unsupported EI_VERSION %u (expected EV_CURRENT)",
			    id[EI_VERSION]);
	return 0;
}

static int check_machine(unsigned int machine, unsigned int want, const char *want_name, char *err,
			 size_t errlen)
{
	const char *name = machine_name(machine);

	if (machine == want)
		return 0;
	if (name)
		return fail(err, errlen, "wrong machine %s (%u); expected %s (%u)", name, machine,
			    want_name, want);
	return fail(err, errlen, "wrong machine %u; expected %s (%u)", machine, want_name, want);
}

static int check_e_type(unsigned int type, char *err, size_t errlen)
{
	switch (type) {
	case ET_EXEC:
		return 0;
	case ET_DYN:
		return fail(err, errlen, "position-independent (ET_DYN); build with -no-pie");
	case ET_REL:
		return fail(err, errlen, "relocatable object (ET_REL); link it into an executable");
	case ET_CORE:
		return fail(err, errlen, "core dump (ET_CORE), not an executable");
	default:
		return fail(err, errlen, "unsupported e_type %u (expected ET_EXEC)", type);
	}
}

static int check_type(const Elf64_Ehdr *eh, char *err, size_t errlen)
{
	if (check_machine(eh->e_machine, EM_X86_64, "EM_X86_64", err, errlen))
		return -1;
	return check_e_type(eh->e_type, err, errlen);
}

static int check_ehdr(const Elf64_Ehdr *eh, size_t size, char *err, size_t errlen)
{
	uint64_t tab;

	if (check_ident(eh->e_ident, err, errlen) || check_type(eh, err, errlen))
		return -1;
	if (eh->e_version != EV_CURRENT)
		return fail(err, errlen, "unsupported e_version %u (expected EV_CURRENT)",
			    eh->e_version);
	if (eh->e_ehsize != sizeof(Elf64_Ehdr))
		return fail(err, errlen, "bad e_ehsize %u (expected %zu)", eh->e_ehsize,
			    sizeof(Elf64_Ehdr));
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return fail(err, errlen, "bad e_phentsize %u (expected %zu)", eh->e_phentsize,
			    sizeof(Elf64_Phdr));
	if (eh->e_phnum == 0)
		return fail(err, errlen, "no program headers (e_phnum is 0)");
	/* PN_XNUM moves the real count into section 0; nobody needs that here. */
	if (eh->e_phnum == PN_XNUM)
		return fail(err, errlen,
			    "extended program header numbering (PN_XNUM) not supported");

	/* At most 0xfffe * 56 bytes, so only the addition can overflow. */
	tab = (uint64_t)eh->e_phnum * eh->e_phentsize;
	if (eh->e_phoff > UINT64_MAX - tab)
		return fail(err, errlen,
			    "program header table offset 0x%" PRIx64 " + 0x%" PRIx64 " overflows",
			    eh->e_phoff, tab);
	if (eh->e_phoff + tab > size)
		return fail(err, errlen,
			    "program header table [0x%" PRIx64 ", 0x%" PRIx64
			    ") extends past end of file (%zu bytes)",
			    eh->e_phoff, eh->e_phoff + tab, size);
	return 0;
}

/* The program header table of either class; bounds were checked before one is made. */
struct phtab {
	const unsigned char *file;
	uint64_t off;
	unsigned int n;
	bool is32;
};

/* ELF32 headers are widened to the ELF64 layout, so one set of checks serves both. */
static void read_phdr(const struct phtab *t, unsigned int i, Elf64_Phdr *ph)
{
	Elf32_Phdr p32;

	if (!t->is32) {
		memcpy(ph, t->file + t->off + (uint64_t)i * sizeof(*ph), sizeof(*ph));
		return;
	}
	memcpy(&p32, t->file + t->off + (uint64_t)i * sizeof(p32), sizeof(p32));
	ph->p_type = p32.p_type;
	ph->p_flags = p32.p_flags;
	ph->p_offset = p32.p_offset;
	ph->p_vaddr = p32.p_vaddr;
	ph->p_paddr = p32.p_paddr;
	ph->p_filesz = p32.p_filesz;
	ph->p_memsz = p32.p_memsz;
	ph->p_align = p32.p_align;
}

/* Whole-file property, so report it before any per-segment complaint. */
static int check_static(const struct phtab *t, char *err, size_t errlen)
{
	Elf64_Phdr ph;
	unsigned int i;

	for (i = 0; i < t->n; i++) {
		read_phdr(t, i, &ph);
		if (ph.p_type == PT_INTERP)
			return fail(
				err, errlen,
				"PT_INTERP in program header %u: dynamic images are not supported",
				i);
		if (ph.p_type == PT_DYNAMIC)
			return fail(
				err, errlen,
				"PT_DYNAMIC in program header %u: dynamic images are not supported",
				i);
	}
	return 0;
}

static int check_load(const Elf64_Phdr *ph, unsigned int i, size_t size, uint64_t ram_size,
		      uint64_t reserved, char *err, size_t errlen)
{
	uint64_t start = ph->p_paddr, end;
	char ram[32];

	if (ph->p_filesz > ph->p_memsz)
		return fail(err, errlen,
			    "segment %u: p_filesz 0x%" PRIx64 " exceeds p_memsz 0x%" PRIx64, i,
			    ph->p_filesz, ph->p_memsz);
	/* Empty segments occupy nothing, so their placement does not matter. */
	if (!ph->p_memsz)
		return 0;
	if (ph->p_filesz) {
		if (ph->p_offset > UINT64_MAX - ph->p_filesz)
			return fail(err, errlen,
				    "segment %u: p_offset 0x%" PRIx64 " + p_filesz 0x%" PRIx64
				    " overflows",
				    i, ph->p_offset, ph->p_filesz);
		if (ph->p_offset + ph->p_filesz > size)
			return fail(err, errlen,
				    "segment %u: file bytes [0x%" PRIx64 ", 0x%" PRIx64
				    ") extend past end of file (%zu bytes)",
				    i, ph->p_offset, ph->p_offset + ph->p_filesz, size);
	}
	if (start > UINT64_MAX - ph->p_memsz)
		return fail(err, errlen,
			    "segment %u: p_paddr 0x%" PRIx64 " + p_memsz 0x%" PRIx64 " overflows",
			    i, start, ph->p_memsz);
	end = start + ph->p_memsz;
	if (start < reserved)
		return fail(err, errlen,
			    "segment %u [0x%" PRIx64 ", 0x%" PRIx64
			    ") overlaps the VMM's own pages [0x0, 0x%" PRIx64 ")",
			    i, start, end, reserved);
	if (end > ram_size) {
		fmt_size(ram, sizeof(ram), ram_size);
		return fail(err, errlen,
			    "segment %u [0x%" PRIx64 ", 0x%" PRIx64 ") ends beyond guest RAM (%s)",
			    i, start, end, ram);
	}
	return 0;
}

/* seg_ph[] maps img->seg[] back to program header numbers for messages. */
static int check_overlap(const struct loader_image *img, const unsigned int *seg_ph,
			 const Elf64_Phdr *ph, unsigned int i, char *err, size_t errlen)
{
	uint64_t start = ph->p_paddr, end = ph->p_paddr + ph->p_memsz;
	const struct loader_segment *s;
	unsigned int j;

	for (j = 0; j < img->nr_segments; j++) {
		s = &img->seg[j];
		if (start < s->paddr + s->memsz && s->paddr < end)
			return fail(err, errlen,
				    "segment %u [0x%" PRIx64 ", 0x%" PRIx64
				    ") overlaps segment %u [0x%" PRIx64 ", 0x%" PRIx64 ")",
				    i, start, end, seg_ph[j], s->paddr, s->paddr + s->memsz);
	}
	return 0;
}

static int check_entry(const struct loader_image *img, char *err, size_t errlen)
{
	const struct loader_segment *s;
	unsigned int i;

	for (i = 0; i < img->nr_segments; i++) {
		s = &img->seg[i];
		if ((s->flags & PF_X) && img->entry >= s->paddr && img->entry - s->paddr < s->memsz)
			return 0;
	}
	return fail(err, errlen, "entry 0x%" PRIx64 " is not inside an executable loaded segment",
		    img->entry);
}

static int collect_segments(const struct phtab *t, size_t size, uint64_t ram_size,
			    uint64_t reserved, struct loader_image *img, char *err, size_t errlen)
{
	unsigned int seg_ph[LOADER_MAX_SEGMENTS];
	struct loader_segment *s;
	Elf64_Phdr ph;
	unsigned int i;

	if (check_static(t, err, errlen))
		return -1;
	for (i = 0; i < t->n; i++) {
		read_phdr(t, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		if (check_load(&ph, i, size, ram_size, reserved, err, errlen))
			return -1;
		if (!ph.p_memsz)
			continue;
		if (img->nr_segments == LOADER_MAX_SEGMENTS)
			return fail(err, errlen, "too many loadable segments (limit %u)",
				    LOADER_MAX_SEGMENTS);
		if (check_overlap(img, seg_ph, &ph, i, err, errlen))
			return -1;
		seg_ph[img->nr_segments] = i;
		s = &img->seg[img->nr_segments++];
		s->paddr = ph.p_paddr;
		s->memsz = ph.p_memsz;
		s->filesz = ph.p_filesz;
		s->offset = ph.p_offset;
		s->flags = ph.p_flags;
	}
	if (!img->nr_segments)
		return fail(err, errlen, "no loadable segments");
	return check_entry(img, err, errlen);
}

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Multiboot spec 3.1.2: flags 0-15 are requirements a loader must meet or refuse the image. */
static int check_mb_flags(uint32_t off, uint32_t flags, char *err, size_t errlen)
{
	uint32_t unknown = flags & 0xffffu &
			   ~(LOADER_MB_F_PAGE_ALIGN | LOADER_MB_F_MEMINFO | LOADER_MB_F_VIDEO);

	if (flags & LOADER_MB_F_VIDEO)
		return fail(err, errlen,
			    "multiboot header at offset 0x%x: flags 0x%x ask for a video mode "
			    "(bit 2); there is no display",
			    off, flags);
	if (unknown)
		return fail(err, errlen,
			    "multiboot header at offset 0x%x: flags 0x%x have required bits 0x%x "
			    "this loader does not know",
			    off, flags, unknown);
	if (flags & LOADER_MB_F_AOUT)
		return fail(err, errlen,
			    "multiboot header at offset 0x%x: flags 0x%x give load addresses in "
			    "the header (bit 16); only ELF program headers are supported",
			    off, flags);
	return 0;
}

static int find_multiboot(const unsigned char *file, size_t size, struct loader_image *img,
			  char *err, size_t errlen)
{
	size_t end = size < LOADER_MB_SEARCH ? size : LOADER_MB_SEARCH;
	uint32_t off, flags, sum;

	for (off = 0; off + 12 <= end; off += 4) {
		if (rd32(file + off) != LOADER_MB_MAGIC)
			continue;
		flags = rd32(file + off + 4);
		sum = LOADER_MB_MAGIC + flags + rd32(file + off + 8);
		if (sum)
			return fail(err, errlen,
				    "multiboot header at offset 0x%x: bad checksum 0x%08x (magic + "
				    "flags + checksum is 0x%08x, not 0)",
				    off, rd32(file + off + 8), sum);
		if (check_mb_flags(off, flags, err, errlen))
			return -1;
		img->mb_offset = off;
		img->mb_flags = flags;
		return 0;
	}
	return fail(err, errlen,
		    "32-bit ELF (ELFCLASS32) without a multiboot header (magic 0x1BADB002, "
		    "4-byte aligned in the first 8 KiB); a 64-bit image or a multiboot one is "
		    "required");
}

static int check_ehdr32(const Elf32_Ehdr *eh, size_t size, char *err, size_t errlen)
{
	uint64_t tab = (uint64_t)eh->e_phnum * eh->e_phentsize;

	if (check_machine(eh->e_machine, EM_386, "EM_386", err, errlen) ||
	    check_e_type(eh->e_type, err, errlen))
		return -1;
	if (eh->e_version != EV_CURRENT)
		return fail(err, errlen, "unsupported e_version %u (expected EV_CURRENT)",
			    eh->e_version);
	if (eh->e_ehsize != sizeof(Elf32_Ehdr))
		return fail(err, errlen, "bad e_ehsize %u (expected %zu)", eh->e_ehsize,
			    sizeof(Elf32_Ehdr));
	if (eh->e_phentsize != sizeof(Elf32_Phdr))
		return fail(err, errlen, "bad e_phentsize %u (expected %zu)", eh->e_phentsize,
			    sizeof(Elf32_Phdr));
	if (eh->e_phnum == 0)
		return fail(err, errlen, "no program headers (e_phnum is 0)");
	if (eh->e_phnum == PN_XNUM)
		return fail(err, errlen,
			    "extended program header numbering (PN_XNUM) not supported");
	/* 32-bit fields: the sum cannot overflow 64 bits. */
	if (eh->e_phoff + tab > size)
		return fail(err, errlen,
			    "program header table [0x%" PRIx32 ", 0x%" PRIx64
			    ") extends past end of file (%zu bytes)",
			    eh->e_phoff, eh->e_phoff + tab, size);
	return 0;
}

static int parse_multiboot(const void *file, size_t size, uint64_t ram_size, uint64_t reserved,
			   struct loader_image *img, char *err, size_t errlen)
{
	struct phtab t;
	Elf32_Ehdr eh;

	if (size < sizeof(eh))
		return fail(err, errlen, "truncated ELF header (%zu bytes)", size);
	memcpy(&eh, file, sizeof(eh));
	if (check_ident(eh.e_ident, err, errlen) || check_ehdr32(&eh, size, err, errlen) ||
	    find_multiboot(file, size, img, err, errlen))
		return -1;
	img->kind = LOADER_MULTIBOOT;
	img->entry = eh.e_entry;
	t = (struct phtab){ .file = file, .off = eh.e_phoff, .n = eh.e_phnum, .is32 = true };
	return collect_segments(&t, size, ram_size, reserved, img, err, errlen);
}

int loader_parse(const void *file, size_t size, uint64_t ram_size, uint64_t reserved,
		 struct loader_image *img, char *err, size_t errlen)
{
	struct phtab t;
	Elf64_Ehdr eh;

	memset(img, 0, sizeof(*img));
	/* A short file that does not even start like ELF is not a truncated ELF. */
	if (size < SELFMAG)
		return fail(err, errlen, "not an ELF file (%zu bytes)", size);
	if (memcmp(file, ELFMAG, SELFMAG)) {
		memset(&eh, 0, sizeof(eh));
		memcpy(&eh, file, size < sizeof(eh) ? size : sizeof(eh));
		return check_ident(eh.e_ident, err, errlen);
	}
	if (size > EI_CLASS && ((const unsigned char *)file)[EI_CLASS] == ELFCLASS32)
		return parse_multiboot(file, size, ram_size, reserved, img, err, errlen);
	if (size < sizeof(eh))
		return fail(err, errlen, "truncated ELF header (%zu bytes)", size);
	memcpy(&eh, file, sizeof(eh));
	if (check_ehdr(&eh, size, err, errlen))
		return -1;
	img->kind = LOADER_ELF64;
	img->entry = eh.e_entry;
	t = (struct phtab){ .file = file, .off = eh.e_phoff, .n = eh.e_phnum, .is32 = false };
	return collect_segments(&t, size, ram_size, reserved, img, err, errlen);
}

void loader_copy(const struct loader_image *img, const void *file, void *ram)
{
	const struct loader_segment *s;
	unsigned char *dst;
	unsigned int i;

	for (i = 0; i < img->nr_segments; i++) {
		s = &img->seg[i];
		dst = (unsigned char *)ram + s->paddr;
		if (s->filesz)
			memcpy(dst, (const unsigned char *)file + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
}

/* Loop because read() may return short counts (and EINTR) on any file. */
static int read_all(int fd, unsigned char *buf, size_t size, char *err, size_t errlen)
{
	size_t done = 0;
	ssize_t n;

	while (done < size) {
		n = read(fd, buf + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(err, errlen, "cannot read: %s", strerror(errno));
		if (n == 0)
			return fail(err, errlen, "file shrank while reading (%zu of %zu bytes)",
				    done, size);
		done += (size_t)n;
	}
	return 0;
}

int loader_read_file(const char *path, void **buf, size_t *size, char *err, size_t errlen)
{
	unsigned char *data = NULL;
	struct stat st;
	int ret = -1;
	int fd;

	*buf = NULL;
	*size = 0;
	/* O_NONBLOCK: opening a FIFO must not hang before we can reject it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fail(err, errlen, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st)) {
		fail(err, errlen, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		fail(err, errlen, "is a directory, not an image file");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(err, errlen, "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > LOADER_MAX_FILE) {
		fail(err, errlen, "file too large (%jd bytes; limit 256 MiB)",
		     (intmax_t)st.st_size);
		goto out;
	}

	/* +1 so an empty file still gets a real buffer; the parser rejects it. */
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		fail(err, errlen, "out of memory for %jd bytes", (intmax_t)st.st_size);
		goto out;
	}
	if (read_all(fd, data, (size_t)st.st_size, err, errlen)) {
		free(data);
		goto out;
	}

	*buf = data;
	*size = (size_t)st.st_size;
	ret = 0;
out:
	close(fd);
	return ret;
}
