// SPDX-License-Identifier: MIT
/*
 * Output files (--json, --trace): a regular file is replaced atomically and
 * keeps its mode, leaving no temporary beside it (not even an old PATH.tmp is
 * touched); a symlink is followed; a device stays a device; "-" is stdout; a
 * path that cannot be written is refused before any VM runs; a write that
 * fails at the end says why and exits 4, and the JSON's exit code is the
 * process's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmmtest.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/vmmtest-out-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *in_dir(const char *name)
{
	static char ring[4][128];
	static unsigned int next;
	char *p = ring[next++ % 4];

	snprintf(p, sizeof(ring[0]), "%s/%s", dir, name);
	return p;
}

/* Every entry of the test directory, sorted names joined by blanks. */
static void dir_listing(char *out, size_t len)
{
	struct dirent **names;
	int n, i;

	out[0] = '\0';
	n = scandir(dir, &names, NULL, alphasort);
	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		/* Dot files count: a leftover temporary would be one. */
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			strncat(out, names[i]->d_name, len - strlen(out) - 2);
			strcat(out, " ");
		}
		free(names[i]);
	}
	free(names);
}

static json_t *load(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);

	if (!j)
		fail_msg("%s: not JSON: %s (line %d)", path, e.text, e.line);
	return j;
}

static void run_hello(struct vmm_run *r, const char *opt1, const char *val1, const char *opt2,
		      const char *val2)
{
	const char *args[] = { "--quiet", opt1, val1, opt2, val2, guest("hello"), NULL };

	if (!opt2) {
		args[3] = guest("hello");
		args[4] = NULL;
	}
	assert_int_equal(vmm_run_plain(r, args), 0);
}

/* An existing file is replaced whole, keeps its mode, and nothing else appears. */
static void test_replace_regular(void **state)
{
	char listing[1024];
	struct vmm_run r;
	struct stat st;
	json_t *j;
	FILE *f;

	(void)state;
	f = fopen(in_dir("r.json"), "w");
	fputs("old", f);
	fclose(f);
	chmod(in_dir("r.json"), 0640);
	f = fopen(in_dir("r.json.tmp"), "w"); /* someone else's file: not ours to clobber */
	fputs("keep", f);
	fclose(f);
	run_hello(&r, "--json", in_dir("r.json"), "--trace", in_dir("t.json"));
	vmm_expect_ok(&r, "--json over an existing file");
	j = load(in_dir("r.json"));
	assert_int_equal(report_int(j, "exit_code"), 0);
	json_decref(j);
	json_decref(load(in_dir("t.json")));
	assert_int_equal(stat(in_dir("r.json"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	dir_listing(listing, sizeof(listing));
	assert_string_equal(listing, "r.json r.json.tmp t.json ");
	f = fopen(in_dir("r.json.tmp"), "r");
	assert_non_null(f);
	assert_non_null(fgets(listing, sizeof(listing), f));
	fclose(f);
	assert_string_equal(listing, "keep");
	unlink(in_dir("r.json"));
	unlink(in_dir("r.json.tmp"));
	unlink(in_dir("t.json"));
	vmm_run_free(&r);
}

/* A symlink is followed: the link stays, its target gets the report. */
static void test_symlink_followed(void **state)
{
	struct vmm_run r;
	struct stat st;

	(void)state;
	assert_int_equal(mkdir(in_dir("sub"), 0755), 0);
	assert_int_equal(symlink("sub/real.json", in_dir("link.json")), 0);
	run_hello(&r, "--json", in_dir("link.json"), NULL, NULL);
	vmm_expect_ok(&r, "--json through a dangling symlink");
	assert_int_equal(lstat(in_dir("link.json"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	json_decref(load(in_dir("sub/real.json")));
	vmm_run_free(&r);
	/* Again, now that the target exists: replaced through the link. */
	run_hello(&r, "--json", in_dir("link.json"), NULL, NULL);
	vmm_expect_ok(&r, "--json through a symlink");
	assert_int_equal(lstat(in_dir("link.json"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	json_decref(load(in_dir("link.json")));
	vmm_run_free(&r);
}

/*
 * Read a FIFO in a child: keep every byte (keep=true) or none (close it at
 * once). Private FIFOs and devices only: a broken build must not replace the
 * machine's /dev/null.
 */
static pid_t fifo_reader(const char *fifo, const char *copy, bool keep)
{
	pid_t pid = fork();
	char buf[4096];
	ssize_t n;
	int in, out;

	if (pid)
		return pid;
	alarm(20); /* a vmm that replaced the FIFO never opens it: fail, do not hang */
	in = open(fifo, O_RDONLY);
	if (!keep)
		_exit(in < 0);
	out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			_exit(1);
	_exit(0);
}

/* If vmm never opened the FIFO (a failure), let a reader blocked in open() go. */
static void reap_reader(const char *fifo, pid_t p)
{
	int fd = open(fifo, O_WRONLY | O_NONBLOCK), wst;

	if (fd >= 0)
		close(fd);
	assert_int_equal(waitpid(p, &wst, 0), p);
	if (!WIFEXITED(wst) || WEXITSTATUS(wst))
		fail_msg("%s: the reader never got the file (status 0x%x)", fifo, wst);
}

/* A FIFO (and, as root, a character device) is written where it is, not replaced. */
static void test_special_kept(void **state)
{
	struct vmm_run r;
	struct stat st;
	pid_t p;

	(void)state;
	assert_int_equal(mkfifo(in_dir("j.fifo"), 0600), 0);
	p = fifo_reader(in_dir("j.fifo"), in_dir("j.copy"), true);
	run_hello(&r, "--json", in_dir("j.fifo"), NULL, NULL);
	reap_reader(in_dir("j.fifo"), p);
	vmm_expect_ok(&r, "--json FIFO");
	assert_int_equal(lstat(in_dir("j.fifo"), &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	json_decref(load(in_dir("j.copy")));
	vmm_run_free(&r);
	if (geteuid() != 0 || mknod(in_dir("null"), S_IFCHR | 0666, makedev(1, 3)) < 0)
		return;
	run_hello(&r, "--json", in_dir("null"), NULL, NULL);
	vmm_expect_ok(&r, "--json on a character device");
	assert_int_equal(lstat(in_dir("null"), &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	vmm_run_free(&r);
}

/* "-" is stdout: the JSON alone, the text report moved to stderr. */
static void test_json_stdout(void **state)
{
	struct vmm_run r;
	json_error_t e;
	json_t *j;

	(void)state;
	run_hello(&r, "--json", "-", NULL, NULL);
	vmm_expect_ok(&r, "--json -");
	j = json_loads(r.out, 0, &e);
	if (!j)
		fail_msg("--json -: stdout is not JSON (%s): %.200s", e.text, r.out);
	assert_int_equal(report_int(j, "exit_code"), 0);
	assert_non_null(strstr(r.err, "== vmm report"));
	json_decref(j);
	vmm_run_free(&r);
}

/* Paths that cannot work are refused before any VM runs (exit 2, no report). */
static void test_refused_up_front(void **state)
{
	static const char *const cases[][3] = {
		{ "--json", "DIR", "Is a directory" },
		{ "--trace", "DIR", "Is a directory" },
		{ "--json", "/nonexistent-dir/x.json", "No such file or directory" },
		{ "--json", "/proc/version", "/proc" },
	};
	struct vmm_run r;
	size_t i;

	(void)state;
	mkdir(in_dir("DIR"), 0755);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = strcmp(cases[i][1], "DIR") ? cases[i][1] : in_dir("DIR");

		run_hello(&r, cases[i][0], path, NULL, NULL);
		if (r.status != 2 || !strstr(r.err, cases[i][2]) || strstr(r.err, ".tmp") ||
		    strstr(r.out, "== vmm report"))
			fail_msg("%s %s: exit %d, want 2 before any VM ran; stderr: %s",
				 cases[i][0], path, r.status, r.err);
		vmm_run_free(&r);
	}
}

/*
 * A write that fails at the end (a FIFO whose reader left: EPIPE, SIGPIPE is
 * ignored): the reason, exit 4, and the JSON, written last, says 4. The
 * trace is well over a pipe's 64 KiB, so a write must fail.
 */
static void test_trace_write_fails(void **state)
{
	char spec[512];
	const char *args[] = { "--quiet", "--trace", in_dir("t.fifo"), "--json", in_dir("f.json"),
			       spec,	  NULL };
	struct vmm_run r;
	json_t *j;
	pid_t p;

	(void)state;
	snprintf(spec, sizeof(spec), "%s:vcpus=2:args=rounds=300", guest("ipi-storm"));
	assert_int_equal(mkfifo(in_dir("t.fifo"), 0600), 0);
	p = fifo_reader(in_dir("t.fifo"), NULL, false);
	assert_int_equal(vmm_run_plain(&r, args), 0);
	reap_reader(in_dir("t.fifo"), p);
	if (r.status != 4 || !strstr(r.err, "cannot write") || !strstr(r.err, "Broken pipe"))
		fail_msg("--trace to a FIFO nobody reads: exit %d, stderr: %s", r.status, r.err);
	j = load(in_dir("f.json"));
	assert_int_equal(report_int(j, "exit_code"), 4);
	json_decref(j);
	vmm_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_regular),	 cmocka_unit_test(test_symlink_followed),
		cmocka_unit_test(test_special_kept),	 cmocka_unit_test(test_json_stdout),
		cmocka_unit_test(test_refused_up_front), cmocka_unit_test(test_trace_write_fails),
	};

	vmmtest_require_kvm("system/test_output");
	return cmocka_run_group_tests(tests, setup, teardown);
}
