/* SPDX-License-Identifier: MIT */
/*
 * The multiboot path of loader_parse (ELF32 i386 with a multiboot v1
 * header, as kvm-unit-tests' .flat images) and the info block the BSP finds
 * (mb_write_info). Each malformed case changes one field of a valid image
 * and checks the exact one-line message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "multiboot.h"

#define RAM_SIZE (64ULL << 20)
#define RESERVED 0x100000ULL
#define IMG_SIZE 0x3000
#define MB_OFF	 0x1000 /* the header, at the start of the text segment */

struct image {
	Elf32_Ehdr eh;
	Elf32_Phdr ph[4];
	uint32_t mb[3];	 /* magic, flags, checksum */
	uint32_t mb_off; /* where it goes in the file */
	size_t size;
	unsigned char buf[IMG_SIZE];
	struct loader_image img;
	char err[256];
};

static Elf32_Phdr load(uint32_t off, uint32_t paddr, uint32_t filesz, uint32_t memsz,
		       uint32_t flags)
{
	Elf32_Phdr ph = {
		.p_type = PT_LOAD,
		.p_offset = off,
		.p_vaddr = paddr,
		.p_paddr = paddr,
		.p_filesz = filesz,
		.p_memsz = memsz,
		.p_flags = flags,
		.p_align = 0x1000,
	};
	return ph;
}

/* Linked at 4 MiB like kvm-unit-tests: text with the header, then data with a big bss. */
static void valid(struct image *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->eh.e_ident, ELFMAG, SELFMAG);
	t->eh.e_ident[EI_CLASS] = ELFCLASS32;
	t->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	t->eh.e_ident[EI_VERSION] = EV_CURRENT;
	t->eh.e_type = ET_EXEC;
	t->eh.e_machine = EM_386;
	t->eh.e_version = EV_CURRENT;
	t->eh.e_entry = 0x40000c;
	t->eh.e_phoff = sizeof(Elf32_Ehdr);
	t->eh.e_ehsize = sizeof(Elf32_Ehdr);
	t->eh.e_phentsize = sizeof(Elf32_Phdr);
	t->eh.e_phnum = 2;
	t->ph[0] = load(0x1000, 0x400000, 0x800, 0x800, PF_R | PF_X);
	t->ph[1] = load(0x2000, 0x401000, 0x100, 0xc00000, PF_R | PF_W);
	t->mb[0] = LOADER_MB_MAGIC;
	t->mb[1] = 0;
	t->mb[2] = 0u - LOADER_MB_MAGIC;
	t->mb_off = MB_OFF;
	t->size = IMG_SIZE;
}

static int parse(struct image *t)
{
	size_t i;

	for (i = 0; i < IMG_SIZE; i++)
		t->buf[i] = (unsigned char)(i * 7 + 3);
	memcpy(t->buf, &t->eh, sizeof(t->eh));
	memcpy(t->buf + t->eh.e_phoff, t->ph, sizeof(t->ph[0]) * t->eh.e_phnum);
	if (t->mb_off + sizeof(t->mb) <= IMG_SIZE)
		memcpy(t->buf + t->mb_off, t->mb, sizeof(t->mb));
	memset(t->err, 0, sizeof(t->err));
	return loader_parse(t->buf, t->size, RAM_SIZE, RESERVED, &t->img, t->err, sizeof(t->err));
}

static struct image *new_image(void)
{
	struct image *t = malloc(sizeof(*t));

	assert_non_null(t);
	valid(t);
	return t;
}

/* One malformed field: exit 2 from vmm with exactly this line (after "vmm: IMAGE: "). */
#define assert_parse_error(t, msg)                    \
	do {                                          \
		assert_int_equal(parse(t), -1);       \
		assert_string_equal((t)->err, (msg)); \
		assert_null(strchr((t)->err, '\n'));  \
	} while (0)

static void test_valid(void **state)
{
	struct image *t = new_image();

	(void)state;
	assert_int_equal(parse(t), 0);
	assert_int_equal(t->img.kind, LOADER_MULTIBOOT);
	assert_int_equal(t->img.entry, 0x40000c);
	assert_int_equal(t->img.mb_offset, MB_OFF);
	assert_int_equal(t->img.nr_segments, 2);
	assert_int_equal(t->img.seg[1].paddr, 0x401000);
	assert_int_equal(t->img.seg[1].memsz, 0xc00000);
	assert_int_equal(t->img.seg[1].filesz, 0x100);
	free(t);
}

/* Start-up code in the data segment (kvm-unit-tests' trampolines) needs it executable. */
static void test_entry_in_data(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_entry = 0x401010;
	assert_parse_error(t, "entry 0x401010 is not inside an executable loaded segment");
	t->ph[1].p_flags |= PF_X;
	assert_int_equal(parse(t), 0);
	free(t);
}

static void test_no_header(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->mb[0] = 0x1badb003;
	assert_parse_error(t,
			   "32-bit ELF (ELFCLASS32) without a multiboot header (magic 0x1BADB002, "
			   "4-byte aligned in the first 8 KiB); a 64-bit image or a multiboot "
			   "one is required");
	free(t);
}

/* The spec's search window is 8 KiB and the header is 4-byte aligned. */
static void test_header_placement(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->mb_off = 0x1002;
	assert_int_equal(parse(t), -1);
	assert_non_null(strstr(t->err, "without a multiboot header"));
	free(t);
	/* Past 8 KiB it is not looked for: a 12 KiB file with it at 0x2000 + 4. */
	t = new_image();
	t->mb_off = 0x2004;
	assert_int_equal(parse(t), -1);
	assert_non_null(strstr(t->err, "without a multiboot header"));
	t->mb_off = 0x1ff4; /* the last place it fits */
	assert_int_equal(parse(t), 0);
	assert_int_equal(t->img.mb_offset, 0x1ff4);
	free(t);
}

static void test_bad_checksum(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->mb[2] += 1;
	assert_parse_error(t, "multiboot header at offset 0x1000: bad checksum 0xe4524fff (magic + "
			      "flags + checksum is 0x00000001, not 0)");
	free(t);
}

static void set_flags(struct image *t, uint32_t flags)
{
	t->mb[1] = flags;
	t->mb[2] = 0u - (LOADER_MB_MAGIC + flags);
}

static void test_flags(void **state)
{
	struct image *t = new_image();

	(void)state;
	/* Page-aligned modules and memory info: we give both. */
	set_flags(t, LOADER_MB_F_PAGE_ALIGN | LOADER_MB_F_MEMINFO);
	assert_int_equal(parse(t), 0);
	assert_int_equal(t->img.mb_flags, 3);
	set_flags(t, LOADER_MB_F_VIDEO);
	assert_parse_error(t, "multiboot header at offset 0x1000: flags 0x4 ask for a video mode "
			      "(bit 2); there is no display");
	set_flags(t, 1u << 5);
	assert_parse_error(t, "multiboot header at offset 0x1000: flags 0x20 have required bits "
			      "0x20 this loader does not know");
	set_flags(t, LOADER_MB_F_AOUT);
	assert_parse_error(t,
			   "multiboot header at offset 0x1000: flags 0x10000 give load addresses "
			   "in the header (bit 16); only ELF program headers are supported");
	/* Optional bits above 16 that we do not know are fine. */
	set_flags(t, 1u << 20);
	assert_int_equal(parse(t), 0);
	free(t);
}

static void test_elf32_fields(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_machine = EM_X86_64;
	assert_parse_error(t, "wrong machine 62; expected EM_386 (3)");
	valid(t);
	t->eh.e_type = ET_DYN;
	assert_parse_error(t, "position-independent (ET_DYN); build with -no-pie");
	valid(t);
	t->eh.e_version = 2;
	assert_parse_error(t, "unsupported e_version 2 (expected EV_CURRENT)");
	valid(t);
	t->eh.e_ehsize = 64;
	assert_parse_error(t, "bad e_ehsize 64 (expected 52)");
	valid(t);
	t->eh.e_phentsize = 56;
	assert_parse_error(t, "bad e_phentsize 56 (expected 32)");
	valid(t);
	t->eh.e_phnum = 0;
	assert_parse_error(t, "no program headers (e_phnum is 0)");
	valid(t);
	t->eh.e_ident[EI_DATA] = ELFDATA2MSB;
	assert_parse_error(t, "big-endian ELF (ELFDATA2MSB); expected little-endian");
	valid(t);
	t->size = 40;
	assert_parse_error(t, "truncated ELF header (40 bytes)");
	free(t);
}

static void test_phdr_table_past_eof(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->size = 0x60;
	assert_parse_error(t,
			   "program header table [0x34, 0x74) extends past end of file (96 bytes)");
	free(t);
}

/* The ELF64 checks apply to the widened headers: placement, RAM, overlap, file bounds. */
static void test_segments(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->ph[1].p_memsz = 0x3c00000;
	assert_parse_error(t, "segment 1 [0x401000, 0x4001000) ends beyond guest RAM (64 MiB)");
	valid(t);
	t->ph[0].p_paddr = 0x80000;
	t->eh.e_entry = 0x80000;
	assert_parse_error(t, "segment 0 [0x80000, 0x80800) overlaps the VMM's own pages [0x0, "
			      "0x100000)");
	valid(t);
	t->ph[1].p_paddr = 0x400400;
	assert_parse_error(t, "segment 1 [0x400400, 0x1000400) overlaps segment 0 [0x400000, "
			      "0x400800)");
	valid(t);
	t->ph[1].p_filesz = 0x1001;
	assert_parse_error(t, "segment 1: file bytes [0x2000, 0x3001) extend past end of file "
			      "(12288 bytes)");
	valid(t);
	t->ph[1].p_filesz = 0xc00001;
	assert_parse_error(t, "segment 1: p_filesz 0xc00001 exceeds p_memsz 0xc00000");
	valid(t);
	t->ph[1].p_type = PT_DYNAMIC;
	assert_parse_error(t, "PT_DYNAMIC in program header 1: dynamic images are not supported");
	free(t);
}

/* The info block: memory, command line (first word argv[0]), the environment module. */
static void test_info(void **state)
{
	uint8_t *ram = calloc(1, 2 << 20);
	const char env[] = "NR_CPUS=2\nTEST_DEVICE=0\n";
	struct mb_info info;
	struct mb_module mod;

	(void)state;
	assert_non_null(ram);
	mb_write_info(ram, 2 << 20, "x86/vmexit.flat", "ipi ipi_halt", env, sizeof(env) - 1);
	memcpy(&info, ram + MB_INFO_GPA, sizeof(info));
	assert_int_equal(info.flags, MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS);
	assert_int_equal(info.mem_lower, 640);
	assert_int_equal(info.mem_upper, 1024);
	assert_int_equal(info.cmdline, MB_CMDLINE_GPA);
	assert_string_equal((char *)ram + info.cmdline, "x86/vmexit.flat ipi ipi_halt");
	assert_int_equal(info.mods_count, 1);
	memcpy(&mod, ram + info.mods_addr, sizeof(mod));
	assert_int_equal(mod.end - mod.start, sizeof(env) - 1);
	assert_memory_equal(ram + mod.start, env, sizeof(env) - 1);
	assert_string_equal((char *)ram + mod.string, "env");

	/* No args, no env: the command line is the image alone, the list pointer still valid. */
	memset(ram, 0, 2 << 20);
	mb_write_info(ram, 2 << 20, "apic.flat", "", NULL, 0);
	memcpy(&info, ram + MB_INFO_GPA, sizeof(info));
	assert_string_equal((char *)ram + info.cmdline, "apic.flat");
	assert_int_equal(info.mods_count, 0);
	assert_int_equal(info.mods_addr, MB_MODS_GPA);
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),	     cmocka_unit_test(test_entry_in_data),
		cmocka_unit_test(test_no_header),    cmocka_unit_test(test_header_placement),
		cmocka_unit_test(test_bad_checksum), cmocka_unit_test(test_flags),
		cmocka_unit_test(test_elf32_fields), cmocka_unit_test(test_phdr_table_past_eof),
		cmocka_unit_test(test_segments),     cmocka_unit_test(test_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
