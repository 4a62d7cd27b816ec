/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the guest image loader (vmm/loader.c): ELF64 images of
 * our ABI and ELF32 multiboot images.
 *
 * The input is the whole image file, passed to loader_parse() as-is so ASan
 * sees its exact bounds and a crash file is also an image `vmm` can be given.
 * Its last byte picks ram_size from ram_sizes[] below; reserved is always
 * VMM_GUEST_LOAD_MIN, as in the loader's real caller (vmm/main.c passes the
 * VM's mem= and VMM_GUEST_LOAD_MIN).
 *
 * Crashes alone would miss a check that was dropped, so on success this
 * re-derives, independently of the loader, what loader.c promises and aborts
 * with one "fuzz_loader: BROKEN PROMISE: ..." line on stderr if any fails:
 *
 *  - the file is an ELF64 little-endian EV_CURRENT x86-64 ET_EXEC (kind
 *    LOADER_ELF64) or an ELF32 one for i386 (kind LOADER_MULTIBOOT), e_ehsize
 *    and e_phentsize are that class's sizes, 0 < e_phnum < PN_XNUM, and the
 *    program header table lies inside the file without overflow;
 *  - multiboot: img->mb_offset is the first 4-aligned multiboot magic in the
 *    first 8 KiB, its checksum holds, and its flags ask for no video mode, no
 *    load addresses (bit 16) and no requirement bit above 1;
 *  - no PT_INTERP or PT_DYNAMIC program header;
 *  - 1 <= nr_segments <= LOADER_MAX_SEGMENTS, and img->seg[] is exactly the
 *    file's PT_LOAD headers with p_memsz != 0 (empty ones are skipped on
 *    purpose: they occupy nothing), fields copied unchanged;
 *  - per segment: memsz != 0, filesz <= memsz, and if filesz != 0 then
 *    offset + filesz <= size without overflow (loader.c checks p_offset
 *    only when there are file bytes, and loader_copy() ignores it otherwise);
 *  - per segment: reserved <= paddr and paddr + memsz <= ram_size without
 *    overflow;
 *  - no two segments overlap in guest RAM;
 *  - img->entry == e_entry and lies inside a PF_X segment.
 *
 * On failure: err is non-empty, NUL-terminated within errlen, and one line
 * (no '\n' or '\r').
 *
 * Then loader_copy() runs into a RAM buffer of exactly ram_size bytes (ASan
 * catches any write past it), after the segments were filled with a poison
 * byte, and each segment must read back as its file bytes then zeros.
 */
#include <elf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "vmm_abi.h"

#define ERR_LEN 256 /* what vmm/main.c passes */
#define POISON	0xa5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Guest RAM sizes vmm/cli.c accepts for mem=: 2 MiB is its minimum, 16 MiB its
 * default, 64 MiB a large but still cheap one, and mem=2052K a legal size that
 * is not whole MiB. Allocated once: a fresh 64 MiB per input would make the
 * fuzzer crawl.
 */
static const uint64_t ram_sizes[] = { 2ULL << 20, 16ULL << 20, 64ULL << 20, (2ULL << 20) + 4096 };
static unsigned char *ram_bufs[sizeof(ram_sizes) / sizeof(ram_sizes[0])];

static void broken(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void broken(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz_loader: BROKEN PROMISE: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void check_err(const char *err)
{
	const char *nul = memchr(err, '\0', ERR_LEN);

	if (!nul)
		broken("err is not NUL-terminated within %d bytes", ERR_LEN);
	if (nul == err)
		broken("loader_parse failed with an empty err");
	if (strpbrk(err, "\n\r"))
		broken("err is not one line: \"%s\"", err);
}

/* The fields checked below, from either class of ELF header. */
struct hdr {
	unsigned int class, machine, type, version, ehsize, phentsize, phnum;
	uint64_t phoff, entry;
};

static void read_ph(const uint8_t *file, const struct hdr *h, unsigned int i, Elf64_Phdr *ph)
{
	Elf32_Phdr p;

	if (h->class == ELFCLASS64) {
		memcpy(ph, file + h->phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
		return;
	}
	memcpy(&p, file + h->phoff + (uint64_t)i * sizeof(p), sizeof(p));
	ph->p_type = p.p_type;
	ph->p_flags = p.p_flags;
	ph->p_offset = p.p_offset;
	ph->p_paddr = p.p_paddr;
	ph->p_filesz = p.p_filesz;
	ph->p_memsz = p.p_memsz;
}

/* Does seg match one of the file's PT_LOAD headers field for field? */
static int seg_from_file(const struct loader_segment *s, const uint8_t *file, const struct hdr *h)
{
	Elf64_Phdr ph;
	unsigned int i;

	for (i = 0; i < h->phnum; i++) {
		read_ph(file, h, i, &ph);
		if (ph.p_type == PT_LOAD && ph.p_paddr == s->paddr && ph.p_memsz == s->memsz &&
		    ph.p_filesz == s->filesz && ph.p_offset == s->offset && ph.p_flags == s->flags)
			return 1;
	}
	return 0;
}

static uint32_t u32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void check_multiboot(const uint8_t *file, size_t size, const struct loader_image *img)
{
	size_t end = size < LOADER_MB_SEARCH ? size : LOADER_MB_SEARCH;
	uint32_t off = img->mb_offset, flags, o;

	if (img->kind != LOADER_MULTIBOOT)
		broken("an ELF32 image accepted as kind %d", img->kind);
	if (off % 4 || off + 12 > end)
		broken("multiboot header at 0x%x, outside the 4-aligned first 8 KiB", off);
	for (o = 0; o < off; o += 4)
		if (u32_at(file + o) == LOADER_MB_MAGIC)
			broken("multiboot header at 0x%x but an earlier magic at 0x%x", off, o);
	flags = u32_at(file + off + 4);
	if (u32_at(file + off) != LOADER_MB_MAGIC ||
	    LOADER_MB_MAGIC + flags + u32_at(file + off + 8) != 0)
		broken("multiboot header at 0x%x: bad magic or checksum", off);
	if (flags != img->mb_flags || (flags & (LOADER_MB_F_AOUT | (0xffffu & ~3u))))
		broken("multiboot flags 0x%x accepted", flags);
}

static void check_header(const uint8_t *file, size_t size, struct hdr *h,
			 const struct loader_image *img)
{
	Elf64_Ehdr e64;
	Elf32_Ehdr e32;
	const unsigned char *id = file;
	unsigned int want_machine, i;
	uint64_t tab;
	Elf64_Phdr ph;

	if (size < sizeof(e32) || (file[EI_CLASS] == ELFCLASS64 && size < sizeof(e64)))
		broken("accepted a %zu-byte file, shorter than its ELF header", size);
	if (memcmp(id, ELFMAG, SELFMAG) ||
	    (id[EI_CLASS] != ELFCLASS64 && id[EI_CLASS] != ELFCLASS32) ||
	    id[EI_DATA] != ELFDATA2LSB || id[EI_VERSION] != EV_CURRENT)
		broken("accepted a bad e_ident %02x %02x %02x %02x class %u data %u version %u",
		       id[0], id[1], id[2], id[3], id[EI_CLASS], id[EI_DATA], id[EI_VERSION]);
	if (id[EI_CLASS] == ELFCLASS64) {
		memcpy(&e64, file, sizeof(e64));
		*h = (struct hdr){ ELFCLASS64,	  e64.e_machine, e64.e_type,
				   e64.e_version, e64.e_ehsize,	 e64.e_phentsize,
				   e64.e_phnum,	  e64.e_phoff,	 e64.e_entry };
		want_machine = EM_X86_64;
		if (img->kind != LOADER_ELF64)
			broken("an ELF64 image accepted as kind %d", img->kind);
	} else {
		memcpy(&e32, file, sizeof(e32));
		*h = (struct hdr){ ELFCLASS32,	  e32.e_machine, e32.e_type,
				   e32.e_version, e32.e_ehsize,	 e32.e_phentsize,
				   e32.e_phnum,	  e32.e_phoff,	 e32.e_entry };
		want_machine = EM_386;
		check_multiboot(file, size, img);
	}
	if (h->machine != want_machine || h->type != ET_EXEC || h->version != EV_CURRENT)
		broken("accepted e_machine %u e_type %u e_version %u", h->machine, h->type,
		       h->version);
	if (h->ehsize != (h->class == ELFCLASS64 ? sizeof(e64) : sizeof(e32)) ||
	    h->phentsize != (h->class == ELFCLASS64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
		broken("accepted e_ehsize %u e_phentsize %u", h->ehsize, h->phentsize);
	if (h->phnum == 0 || h->phnum >= PN_XNUM)
		broken("accepted e_phnum %u", h->phnum);
	tab = (uint64_t)h->phnum * h->phentsize;
	if (h->phoff > size || tab > size - h->phoff)
		broken("accepted program header table at 0x%llx (+0x%llx) in a %zu-byte file",
		       (unsigned long long)h->phoff, (unsigned long long)tab, size);

	for (i = 0; i < h->phnum; i++) {
		read_ph(file, h, i, &ph);
		if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC)
			broken("accepted program header %u of type %u (dynamic image)", i,
			       ph.p_type);
	}
}

static void check_image(const uint8_t *file, size_t size, uint64_t ram_size,
			const struct loader_image *img)
{
	const struct loader_segment *s, *t;
	unsigned int i, j, loads = 0;
	int entry_ok = 0;
	struct hdr h;
	Elf64_Phdr ph;

	check_header(file, size, &h, img);
	for (i = 0; i < h.phnum; i++) {
		read_ph(file, &h, i, &ph);
		loads += ph.p_type == PT_LOAD && ph.p_memsz;
	}
	if (img->nr_segments == 0 || img->nr_segments > LOADER_MAX_SEGMENTS)
		broken("nr_segments %u out of [1, %u]", img->nr_segments, LOADER_MAX_SEGMENTS);
	if (img->nr_segments != loads)
		broken("nr_segments %u but the file has %u non-empty PT_LOAD headers",
		       img->nr_segments, loads);

	for (i = 0; i < img->nr_segments; i++) {
		s = &img->seg[i];
		if (!s->memsz)
			broken("segment %u is empty", i);
		if (s->filesz > s->memsz)
			broken("segment %u: filesz 0x%llx > memsz 0x%llx", i,
			       (unsigned long long)s->filesz, (unsigned long long)s->memsz);
		if (s->filesz && (s->offset > size || s->filesz > size - s->offset))
			broken("segment %u: file bytes at 0x%llx (+0x%llx) past a %zu-byte file", i,
			       (unsigned long long)s->offset, (unsigned long long)s->filesz, size);
		if (s->paddr < VMM_GUEST_LOAD_MIN)
			broken("segment %u at 0x%llx is in the VMM's pages below 0x%llx", i,
			       (unsigned long long)s->paddr, VMM_GUEST_LOAD_MIN);
		if (s->paddr > ram_size || s->memsz > ram_size - s->paddr)
			broken("segment %u at 0x%llx (+0x%llx) is past guest RAM (0x%llx)", i,
			       (unsigned long long)s->paddr, (unsigned long long)s->memsz,
			       (unsigned long long)ram_size);
		if (!seg_from_file(s, file, &h))
			broken("segment %u matches no PT_LOAD header of the file", i);
		for (j = 0; j < i; j++) {
			t = &img->seg[j];
			if (s->paddr < t->paddr + t->memsz && t->paddr < s->paddr + s->memsz)
				broken("segments %u and %u overlap", j, i);
		}
		if ((s->flags & PF_X) && img->entry >= s->paddr && img->entry - s->paddr < s->memsz)
			entry_ok = 1;
	}
	if (img->entry != h.entry)
		broken("entry 0x%llx but e_entry 0x%llx", (unsigned long long)img->entry,
		       (unsigned long long)h.entry);
	if (!entry_ok)
		broken("entry 0x%llx is in no executable segment", (unsigned long long)img->entry);
}

/* Poison first, so a bss tail loader_copy() forgot to zero shows up. */
static void copy_and_check(const struct loader_image *img, const uint8_t *file, unsigned char *ram)
{
	static const unsigned char zero[4096];
	const struct loader_segment *s;
	uint64_t off, n;
	unsigned int i;

	for (i = 0; i < img->nr_segments; i++)
		memset(ram + img->seg[i].paddr, POISON, img->seg[i].memsz);
	loader_copy(img, file, ram);
	for (i = 0; i < img->nr_segments; i++) {
		s = &img->seg[i];
		if (s->filesz && memcmp(ram + s->paddr, file + s->offset, s->filesz))
			broken("segment %u: RAM differs from the file after loader_copy", i);
		/* memcmp by pages: a byte loop under ASan is slow for a 60 MiB bss. */
		for (off = s->filesz; off < s->memsz; off += n) {
			n = s->memsz - off < sizeof(zero) ? s->memsz - off : sizeof(zero);
			if (memcmp(ram + s->paddr + off, zero, n))
				broken("segment %u: bss not zeroed near 0x%llx", i,
				       (unsigned long long)(s->paddr + off));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loader_image img;
	char err[ERR_LEN];
	unsigned int k;

	/* The empty file gets 16 MiB, vmm's default. */
	k = size ? data[size - 1] % (sizeof(ram_sizes) / sizeof(ram_sizes[0])) : 1;
	if (!ram_bufs[k]) {
		ram_bufs[k] = malloc(ram_sizes[k]);
		if (!ram_bufs[k]) {
			fprintf(stderr, "fuzz_loader: out of memory for guest RAM\n");
			abort();
		}
	}

	/* Garbage, not zeros, so an err that was never written is caught. */
	memset(err, POISON, sizeof(err));
	if (loader_parse(data, size, ram_sizes[k], VMM_GUEST_LOAD_MIN, &img, err, sizeof(err))) {
		check_err(err);
		return 0;
	}
	check_image(data, size, ram_sizes[k], &img);
	copy_and_check(&img, data, ram_bufs[k]);
	return 0;
}
