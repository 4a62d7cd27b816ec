/* SPDX-License-Identifier: MIT */
/*
 * loader_parse/loader_copy/loader_read_file. Every image is built in memory
 * from an Ehdr, a Phdr array and a patterned payload; each malformed case
 * changes one field of a valid image and checks the exact message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"

#define RAM_SIZE (16ULL << 20)
#define RESERVED 0x10000ULL
#define IMG_SIZE 0x3000
#define MAX_PH	 (LOADER_MAX_SEGMENTS + 2)

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAX_PH];
	size_t size; /* bytes of buf handed to the parser */
	unsigned char buf[IMG_SIZE];
	struct loader_image img;
	char err[256];
};

static unsigned char pattern(size_t off)
{
	return (unsigned char)(off * 7 + 3);
}

static Elf64_Phdr load(uint64_t off, uint64_t paddr, uint64_t filesz, uint64_t memsz,
		       uint32_t flags)
{
	Elf64_Phdr ph = {
		.p_type = PT_LOAD,
		.p_flags = flags,
		.p_offset = off,
		.p_vaddr = paddr,
		.p_paddr = paddr,
		.p_filesz = filesz,
		.p_memsz = memsz,
		.p_align = 0x1000,
	};
	return ph;
}

/*
 * Text at 0x100000 (R+X, 0x800 bytes from file offset 0x1000), data at
 * 0x101000 (R+W, 0x100 bytes from 0x2000 followed by 0x1f00 bytes of bss).
 */
static void valid(struct image *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->eh.e_ident, ELFMAG, SELFMAG);
	t->eh.e_ident[EI_CLASS] = ELFCLASS64;
	t->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	t->eh.e_ident[EI_VERSION] = EV_CURRENT;
	t->eh.e_type = ET_EXEC;
	t->eh.e_machine = EM_X86_64;
	t->eh.e_version = EV_CURRENT;
	t->eh.e_entry = 0x100010;
	t->eh.e_phoff = sizeof(Elf64_Ehdr);
	t->eh.e_ehsize = sizeof(Elf64_Ehdr);
	t->eh.e_phentsize = sizeof(Elf64_Phdr);
	t->eh.e_phnum = 2;
	t->ph[0] = load(0x1000, 0x100000, 0x800, 0x800, PF_R | PF_X);
	t->ph[1] = load(0x2000, 0x101000, 0x100, 0x2000, PF_R | PF_W);
	t->size = IMG_SIZE;
}

/* Serialize t->eh and t->ph[0..e_phnum) over the payload. */
static void build(struct image *t)
{
	size_t tab = (size_t)t->eh.e_phnum * sizeof(Elf64_Phdr);
	size_t i;

	for (i = 0; i < IMG_SIZE; i++)
		t->buf[i] = pattern(i);
	memcpy(t->buf, &t->eh, sizeof(t->eh));
	/* Tests that move the table out of the file just leave it unwritten. */
	if (t->eh.e_phnum <= MAX_PH && t->eh.e_phoff <= IMG_SIZE - tab)
		memcpy(t->buf + t->eh.e_phoff, t->ph, tab);
}

static int parse(struct image *t)
{
	build(t);
	memset(t->err, 0, sizeof(t->err));
	return loader_parse(t->buf, t->size, RAM_SIZE, RESERVED, &t->img, t->err, sizeof(t->err));
}

#define assert_parse_error(t, msg)                    \
	do {                                          \
		assert_int_equal(parse(t), -1);       \
		assert_string_equal((t)->err, (msg)); \
	} while (0)

static struct image *new_image(void)
{
	struct image *t = malloc(sizeof(*t));

	assert_non_null(t);
	valid(t);
	return t;
}

static void test_valid(void **state)
{
	struct image *t = new_image();
	unsigned char *ram = malloc(RAM_SIZE);
	size_t i;

	(void)state;
	assert_non_null(ram);
	assert_int_equal(parse(t), 0);
	assert_string_equal(t->err, "");
	assert_int_equal(t->img.entry, 0x100010);
	assert_int_equal(t->img.nr_segments, 2);
	assert_int_equal(t->img.seg[0].paddr, 0x100000);
	assert_int_equal(t->img.seg[0].memsz, 0x800);
	assert_int_equal(t->img.seg[0].filesz, 0x800);
	assert_int_equal(t->img.seg[0].offset, 0x1000);
	assert_int_equal(t->img.seg[0].flags, PF_R | PF_X);
	assert_int_equal(t->img.seg[1].paddr, 0x101000);
	assert_int_equal(t->img.seg[1].memsz, 0x2000);
	assert_int_equal(t->img.seg[1].filesz, 0x100);
	assert_int_equal(t->img.seg[1].offset, 0x2000);
	assert_int_equal(t->img.seg[1].flags, PF_R | PF_W);

	/* Fill with junk so zeroing of the bss is actually observed. */
	memset(ram, 0xaa, RAM_SIZE);
	loader_copy(&t->img, t->buf, ram);
	for (i = 0; i < 0x800; i++)
		assert_int_equal(ram[0x100000 + i], pattern(0x1000 + i));
	assert_int_equal(ram[0x100800], 0xaa);
	for (i = 0; i < 0x100; i++)
		assert_int_equal(ram[0x101000 + i], pattern(0x2000 + i));
	for (i = 0x100; i < 0x2000; i++)
		assert_int_equal(ram[0x101000 + i], 0);
	assert_int_equal(ram[0x103000], 0xaa);
	assert_int_equal(ram[0xfffff], 0xaa);
	free(ram);
	free(t);
}

/* Zero-sized PT_LOADs are skipped, wherever they claim to live. */
static void test_empty_segment_ignored(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->ph[2] = load(0, 0, 0, 0, PF_R);
	t->eh.e_phnum = 3;
	assert_int_equal(parse(t), 0);
	assert_int_equal(t->img.nr_segments, 2);
	free(t);
}

static void test_truncated_header(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->size = 63;
	assert_parse_error(t, "truncated ELF header (63 bytes)");
	free(t);
}

/* A short file that is not ELF at all (a shell script) says so, rather than "truncated". */
static void test_short_non_elf(void **state)
{
	static const char script[] = "#!/bin/sh\necho hi\n";
	struct loader_image img;
	char err[256];

	(void)state;
	assert_int_equal(
		loader_parse(script, sizeof(script) - 1, 16u << 20, 0, &img, err, sizeof(err)), -1);
	assert_string_equal(err, "bad ELF magic 23 21 2f 62 (not an ELF file)");
	assert_int_equal(loader_parse(script, 3, 16u << 20, 0, &img, err, sizeof(err)), -1);
	assert_string_equal(err, "not an ELF file (3 bytes)");
}

static void test_bad_magic(void **state)
{
	struct image *t = new_image();

	(void)state;
	memcpy(t->eh.e_ident, "MZ\x90\x00", 4);
	assert_parse_error(t, "bad ELF magic 4d 5a 90 00 (not an ELF file)");
	free(t);
}

static void test_class32(void **state)
{
	struct image *t = new_image();

	(void)state;
	/* Read as ELF32 now (multiboot images): an ELF64 header's fields fail there. */
	t->eh.e_ident[EI_CLASS] = ELFCLASS32;
	assert_parse_error(t, "wrong machine 62; expected EM_386 (3)");
	free(t);
}

static void test_class_invalid(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_ident[EI_CLASS] = 7;
	assert_parse_error(
		t,
		"invalid EI_CLASS 7 (expected ELFCLASS64, or ELFCLASS32 with a multiboot header)");
	free(t);
}

static void test_big_endian(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_ident[EI_DATA] = ELFDATA2MSB;
	assert_parse_error(t, "big-endian ELF (ELFDATA2MSB); expected little-endian");
	free(t);
}

static void test_ident_version(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_ident[EI_VERSION] = 0;
	assert_parse_error(t, "unsupported EI_VERSION 0 (expected EV_CURRENT)");
	free(t);
}

static void test_wrong_machine(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_machine = EM_AARCH64;
	assert_parse_error(t, "wrong machine EM_AARCH64 (183); expected EM_X86_64 (62)");
	t->eh.e_machine = 0x1234;
	assert_parse_error(t, "wrong machine 4660; expected EM_X86_64 (62)");
	free(t);
}

static void test_et_dyn(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_type = ET_DYN;
	assert_parse_error(t, "position-independent (ET_DYN); build with -no-pie");
	free(t);
}

static void test_et_rel(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_type = ET_REL;
	assert_parse_error(t, "relocatable object (ET_REL); link it into an executable");
	free(t);
}

static void test_e_version(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_version = 2;
	assert_parse_error(t, "unsupported e_version 2 (expected EV_CURRENT)");
	free(t);
}

static void test_ehsize(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_ehsize = 52;
	assert_parse_error(t, "bad e_ehsize 52 (expected 64)");
	free(t);
}

static void test_phentsize(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_phentsize = 32;
	assert_parse_error(t, "bad e_phentsize 32 (expected 56)");
	free(t);
}

static void test_phdr_past_eof(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_phoff = IMG_SIZE - 100;
	assert_parse_error(t, "program header table [0x2f9c, 0x300c) extends past end of file "
			      "(12288 bytes)");
	free(t);
}

static void test_phoff_overflow(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_phoff = UINT64_MAX - 0x10;
	assert_parse_error(t, "program header table offset 0xffffffffffffffef + 0x70 overflows");
	free(t);
}

static void test_zero_phnum(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_phnum = 0;
	assert_parse_error(t, "no program headers (e_phnum is 0)");
	free(t);
}

static void test_no_load(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->ph[0].p_type = PT_NOTE;
	t->ph[1].p_type = PT_GNU_STACK;
	assert_parse_error(t, "no loadable segments");

	/* A PT_LOAD with nothing in memory does not count either. */
	t->ph[1] = load(0x2000, 0x101000, 0, 0, PF_R | PF_X);
	assert_parse_error(t, "no loadable segments");
	free(t);
}

static void test_beyond_ram(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->ph[1].p_paddr = RAM_SIZE - 0x1000;
	assert_parse_error(t, "segment 1 [0xfff000, 0x1001000) ends beyond guest RAM (16 MiB)");
	free(t);
}

static void test_in_reserved(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->ph[0].p_paddr = RESERVED - 0x100;
	assert_parse_error(t, "segment 0 [0xff00, 0x10700) overlaps the VMM's own pages "
			      "[0x0, 0x10000)");
	free(t);
}

static void test_overlap(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->ph[1].p_paddr = 0x1007ff;
	assert_parse_error(t, "segment 1 [0x1007ff, 0x1027ff) overlaps segment 0 "
			      "[0x100000, 0x100800)");
	free(t);
}

/* Adjacent is fine: the end of a segment is exclusive. */
static void test_adjacent(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->ph[1].p_paddr = 0x100800;
	assert_int_equal(parse(t), 0);
	free(t);
}

static void test_filesz_gt_memsz(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->ph[1].p_filesz = 0x2001;
	assert_parse_error(t, "segment 1: p_filesz 0x2001 exceeds p_memsz 0x2000");
	free(t);
}

static void test_offset_past_eof(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->ph[1].p_offset = 0x2f01;
	assert_parse_error(t, "segment 1: file bytes [0x2f01, 0x3001) extend past end of file "
			      "(12288 bytes)");
	free(t);
}

static void test_offset_overflow(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->ph[1].p_offset = UINT64_MAX - 0x80;
	assert_parse_error(t, "segment 1: p_offset 0xffffffffffffff7f + p_filesz 0x100 overflows");
	free(t);
}

static void test_paddr_overflow(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->ph[1].p_paddr = UINT64_MAX - 0xfff;
	assert_parse_error(t, "segment 1: p_paddr 0xfffffffffffff000 + p_memsz 0x2000 overflows");
	free(t);
}

static void test_entry_outside(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_entry = 0x100800; /* one past the end of the text */
	assert_parse_error(t, "entry 0x100800 is not inside an executable loaded segment");
	free(t);
}

static void test_entry_not_exec(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->eh.e_entry = 0x101000;
	assert_parse_error(t, "entry 0x101000 is not inside an executable loaded segment");
	free(t);
}

static void test_interp(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->ph[2] = t->ph[1];
	t->ph[1] = load(0x200, 0, 0x1c, 0, PF_R);
	t->ph[1].p_type = PT_INTERP;
	t->eh.e_phnum = 3;
	assert_parse_error(t, "PT_INTERP in program header 1: dynamic images are not supported");
	free(t);
}

static void test_dynamic(void **state)
{
	struct image *t = new_image();

	(void)state;
	t->ph[2] = load(0x2000, 0x101000, 0x100, 0x100, PF_R | PF_W);
	t->ph[2].p_type = PT_DYNAMIC;
	t->eh.e_phnum = 3;
	assert_parse_error(t, "PT_DYNAMIC in program header 2: dynamic images are not supported");
	free(t);
}

static void test_too_many_segments(void **state)
{
	struct image *t = new_image();
	unsigned int i;

	(void)state;
	for (i = 0; i <= LOADER_MAX_SEGMENTS; i++)
		t->ph[i] = load(0, 0x100000 + i * 0x1000ULL, 0, 0x1000, PF_R | PF_X);
	t->eh.e_phnum = LOADER_MAX_SEGMENTS + 1;
	assert_parse_error(t, "too many loadable segments (limit 16)");

	/* Exactly the limit is accepted. */
	t->eh.e_phnum = LOADER_MAX_SEGMENTS;
	assert_int_equal(parse(t), 0);
	assert_int_equal(t->img.nr_segments, LOADER_MAX_SEGMENTS);
	free(t);
}

static void test_read_missing(void **state)
{
	char err[128] = "";
	void *buf = (void *)1;
	size_t size = 1;

	(void)state;
	assert_int_equal(loader_read_file("/nonexistent/guest.elf", &buf, &size, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "cannot open: No such file or directory");
	assert_null(buf);
	assert_int_equal(size, 0);
}

static void test_read_directory(void **state)
{
	char err[128] = "";
	void *buf;
	size_t size;

	(void)state;
	assert_int_equal(loader_read_file("/", &buf, &size, err, sizeof(err)), -1);
	assert_string_equal(err, "is a directory, not an image file");
}

static int temp_file(char *path)
{
	int fd;

	strcpy(path, "/tmp/test_loader.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	return fd;
}

static void test_read_roundtrip(void **state)
{
	struct image *t = new_image();
	char path[64], err[128] = "";
	void *buf;
	size_t size;
	int fd;

	(void)state;
	build(t);
	fd = temp_file(path);
	assert_int_equal(write(fd, t->buf, IMG_SIZE), IMG_SIZE);
	close(fd);
	assert_int_equal(loader_read_file(path, &buf, &size, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(size, IMG_SIZE);
	assert_memory_equal(buf, t->buf, IMG_SIZE);
	assert_int_equal(loader_parse(buf, size, RAM_SIZE, RESERVED, &t->img, err, sizeof(err)), 0);
	free(buf);
	free(t);
}

/* A sparse file costs no disk space but has the size that matters. */
static void test_read_too_large(void **state)
{
	char path[64], err[128] = "";
	void *buf;
	size_t size;
	int fd;

	(void)state;
	fd = temp_file(path);
	assert_int_equal(ftruncate(fd, (256 << 20) + 1), 0);
	close(fd);
	assert_int_equal(loader_read_file(path, &buf, &size, err, sizeof(err)), -1);
	unlink(path);
	assert_string_equal(err, "file too large (268435457 bytes; limit 256 MiB)");
}

static void test_read_fifo(void **state)
{
	char path[64], err[128] = "";
	void *buf;
	size_t size;
	int fd;

	(void)state;
	fd = temp_file(path);
	close(fd);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(loader_read_file(path, &buf, &size, err, sizeof(err)), -1);
	unlink(path);
	assert_string_equal(err, "not a regular file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_empty_segment_ignored),
		cmocka_unit_test(test_adjacent),
		cmocka_unit_test(test_truncated_header),
		cmocka_unit_test(test_short_non_elf),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_class32),
		cmocka_unit_test(test_class_invalid),
		cmocka_unit_test(test_big_endian),
		cmocka_unit_test(test_ident_version),
		cmocka_unit_test(test_wrong_machine),
		cmocka_unit_test(test_et_dyn),
		cmocka_unit_test(test_et_rel),
		cmocka_unit_test(test_e_version),
		cmocka_unit_test(test_ehsize),
		cmocka_unit_test(test_phentsize),
		cmocka_unit_test(test_phdr_past_eof),
		cmocka_unit_test(test_phoff_overflow),
		cmocka_unit_test(test_zero_phnum),
		cmocka_unit_test(test_no_load),
		cmocka_unit_test(test_beyond_ram),
		cmocka_unit_test(test_in_reserved),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_filesz_gt_memsz),
		cmocka_unit_test(test_offset_past_eof),
		cmocka_unit_test(test_offset_overflow),
		cmocka_unit_test(test_paddr_overflow),
		cmocka_unit_test(test_entry_outside),
		cmocka_unit_test(test_entry_not_exec),
		cmocka_unit_test(test_interp),
		cmocka_unit_test(test_dynamic),
		cmocka_unit_test(test_too_many_segments),
		cmocka_unit_test(test_read_missing),
		cmocka_unit_test(test_read_directory),
		cmocka_unit_test(test_read_roundtrip),
		cmocka_unit_test(test_read_too_large),
		cmocka_unit_test(test_read_fifo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
