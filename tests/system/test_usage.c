// SPDX-License-Identifier: MIT
/*
 * Bad options and malformed images through the real vmm binary: each gives
 * exactly one line "vmm: <what>: <why>" on stderr, exit status 2, and no VM
 * runs. Needs no KVM: everything is checked before /dev/kvm is opened.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmmtest.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void expect_usage_error(const char *const *args, const char *prefix)
{
	struct vmm_run r;
	const char *nl;

	assert_int_equal(vmm_run(&r, args), 0);
	assert_int_equal(r.status, 2);
	nl = strchr(r.err, '\n');
	assert_non_null(nl);
	assert_string_equal(nl + 1, ""); /* exactly one line */
	if (strncmp(r.err, prefix, strlen(prefix)))
		fail_msg("stderr '%s' does not start with '%s'", r.err, prefix);
	assert_string_equal(r.out, ""); /* nothing ran, no report */
	assert_null(r.json);
	vmm_run_free(&r);
}

static void test_bad_options(void **state)
{
	const char *hello = guest("hello");
	const char *a1[] = { "--vcpus", "0", hello, NULL };
	const char *a2[] = { "--mem", "lots", hello, NULL };
	const char *a3[] = { "--timeout", "-3", hello, NULL };
	const char *a4[] = { "--bogus", hello, NULL };
	const char *a5[] = { NULL };
	const char *a6[] = { "--hist", "nope", hello, NULL };
	const char *a8[] = { "--trace", "/nonexistent-dir/t.json", hello, NULL };
	const char *a9[] = { "--policy", "fastest", hello, NULL };
	const char *a10[] = { "--sched", "host", "--quantum", "1ms", hello, NULL };
	char spec[512];
	const char *a7[] = { spec, NULL };

	(void)state;
	expect_usage_error(a1, "vmm: --vcpus: expected an integer in 1..64, got '0'");
	expect_usage_error(a2, "vmm: --mem: expected a size");
	expect_usage_error(a3, "vmm: --timeout: expected a duration");
	expect_usage_error(a4, "vmm: --bogus: unknown option");
	expect_usage_error(a5, "vmm: no guest image given");
	expect_usage_error(a6, "vmm: --hist: unknown exit key 'nope'");
	expect_usage_error(a8, "vmm: --trace /nonexistent-dir/t.json: cannot create a file in "
			       "/nonexistent-dir: No such file");
	expect_usage_error(a9, "vmm: --policy: unknown policy 'fastest' (known: none, preempted, "
			       "ready, ipi-aware)");
	expect_usage_error(a10, "vmm: --quantum: only with --sched slots (the default)");
	char msg[600];

	snprintf(spec, sizeof(spec), "%s:vcpus=100", hello);
	snprintf(msg, sizeof(msg), "vmm: %s: vcpus= must be an integer in 1..64, got '100'\n",
		 spec);
	expect_usage_error(a7, msg);
	/* A misspelt image option is named, not taken for a file that cannot be opened. */
	snprintf(spec, sizeof(spec), "%s:foo=1", hello);
	snprintf(msg, sizeof(msg),
		 "vmm: %s: unknown image option 'foo' (known: vcpus=, mem=, name=, env=, args=)\n",
		 spec);
	expect_usage_error(a7, msg);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void test_bad_images(void **state)
{
	char dir[] = "/tmp/vmmtest-img-XXXXXX", txt[300], trunc[300], dyn[300], msg[400];
	const char *args[] = { "--quiet", guest("hello"), NULL, NULL };
	Elf64_Ehdr eh;
	FILE *f;
	void *buf;
	long len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(txt, sizeof(txt), "%s/text", dir);
	write_file(txt, "hello, I am not an ELF file\n", 28);
	args[2] = txt;
	snprintf(msg, sizeof(msg), "vmm: %s: ", txt);
	expect_usage_error(args, msg);

	/* The real hello image cut short. */
	f = fopen(guest("hello"), "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	snprintf(trunc, sizeof(trunc), "%s/trunc", dir);
	write_file(trunc, buf, 40);
	args[2] = trunc;
	snprintf(msg, sizeof(msg), "vmm: %s: truncated ELF header", trunc);
	expect_usage_error(args, msg);

	/* The real image relabelled ET_DYN. */
	memcpy(&eh, buf, sizeof(eh));
	eh.e_type = ET_DYN;
	memcpy(buf, &eh, sizeof(eh));
	snprintf(dyn, sizeof(dyn), "%s/dyn", dir);
	write_file(dyn, buf, (size_t)len);
	args[2] = dyn;
	snprintf(msg, sizeof(msg), "vmm: %s: ", dyn);
	expect_usage_error(args, msg);

	args[2] = "/nonexistent/image";
	expect_usage_error(args, "vmm: /nonexistent/image: ");
	args[2] = dir;
	snprintf(msg, sizeof(msg), "vmm: %s: ", dir);
	expect_usage_error(args, msg);

	unlink(trunc);
	unlink(dyn);
	unlink(txt);
	rmdir(dir);
	free(buf);
}

/* A device node that is not KVM, or none: exit 3 with the device named and why. */
static void test_not_kvm(void **state)
{
	static const char *const cases[][2] = {
		{ "VMM_KVM_DEVICE=/dev/null",
		  "vmm: /dev/null is not a KVM device: KVM_GET_API_VERSION: Inappropriate ioctl" },
		{ "VMM_KVM_DEVICE=/nonexistent-kvm",
		  "vmm: cannot open /nonexistent-kvm: No such file or directory" },
	};
	const char *args[] = { guest("hello"), NULL };
	struct vmm_run r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *prefix[] = { "env", cases[i][0], NULL };

		assert_int_equal(vmm_run_under(&r, prefix, args), 0);
		if (r.status != 3 || strncmp(r.err, cases[i][1], strlen(cases[i][1])))
			fail_msg("%s: exit %d, stderr '%s'", cases[i][0], r.status, r.err);
		vmm_run_free(&r);
	}
}

static void test_help_and_version(void **state)
{
	const char *h[] = { "--help", NULL };
	const char *v[] = { "--version", NULL };
	struct vmm_run r;

	(void)state;
	assert_int_equal(vmm_run(&r, h), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: vmm [options] IMAGE"));
	assert_non_null(strstr(r.out, "--timeout"));
	vmm_run_free(&r);
	assert_int_equal(vmm_run(&r, v), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "vmm 0."));
	vmm_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_bad_images),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_not_kvm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
