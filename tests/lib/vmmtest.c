// SPDX-License-Identifier: MIT
#include "vmmtest.h"

#include "kvm.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 64

void vmmtest_require_kvm(const char *test)
{
	char why[256];

	if (kvm_available(why, sizeof(why)))
		return;
	fprintf(stderr, "SKIP: %s: KVM TESTS NOT RUN: %s\n", test, why);
	exit(77);
}

static const char *env_or_die(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v) {
		fprintf(stderr, "%s is not set (run the tests through ctest)\n", name);
		exit(1);
	}
	return v;
}

const char *guest(const char *name)
{
	static char ring[8][512];
	static unsigned int next;
	char *buf = ring[next++ % 8];

	snprintf(buf, sizeof(ring[0]), "%s/%s", env_or_die("GUEST_DIR"), name);
	return buf;
}

static char *slurp_fd(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2) {
			char *b = realloc(buf, cap * 2);

			if (!b) {
				free(buf);
				return NULL;
			}
			buf = b;
			cap *= 2;
		}
	}
	if (buf)
		buf[len] = 0;
	return buf;
}

static int tmpfile_fd(char *path)
{
	strcpy(path, "/tmp/vmmtest-XXXXXX");
	return mkstemp(path);
}

int vmm_run(struct vmm_run *r, const char *const *args)
{
	return vmm_run_under(r, NULL, args);
}

static int run_vmm(struct vmm_run *r, const char *const *prefix, const char *const *args,
		   bool want_json)
{
	char opath[64], epath[64], jpath[64];
	const char *argv[MAX_ARGS];
	json_error_t jerr;
	int ofd, efd, st, n = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	ofd = tmpfile_fd(opath);
	efd = tmpfile_fd(epath);
	close(tmpfile_fd(jpath));
	unlink(jpath);
	while (prefix && *prefix && n < MAX_ARGS / 2)
		argv[n++] = *prefix++;
	argv[n++] = env_or_die("VMM");
	if (want_json) {
		argv[n++] = "--json";
		argv[n++] = jpath;
	}
	while (*args && n < MAX_ARGS - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = slurp_fd(ofd);
	r->err = slurp_fd(efd);
	r->json = want_json ? json_load_file(jpath, 0, &jerr) : NULL;
	close(ofd);
	close(efd);
	unlink(opath);
	unlink(epath);
	unlink(jpath);
	return 0;
}

int vmm_run_under(struct vmm_run *r, const char *const *prefix, const char *const *args)
{
	return run_vmm(r, prefix, args, true);
}

int vmm_run_plain(struct vmm_run *r, const char *const *args)
{
	return run_vmm(r, NULL, args, false);
}

void vmm_run_free(struct vmm_run *r)
{
	free(r->out);
	free(r->err);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

json_t *report_vm(const struct vmm_run *r, size_t i)
{
	json_t *vm;

	assert_non_null(r->json);
	vm = json_array_get(json_object_get(r->json, "vms"), i);
	assert_non_null(vm);
	return vm;
}

json_int_t report_result(const struct vmm_run *r, size_t vm, const char *name, const char *field)
{
	json_t *res = json_object_get(report_vm(r, vm), "results"), *e, *f;
	size_t i;

	json_array_foreach(res, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "name")), name))
			continue;
		f = json_object_get(json_object_get(e, "fields"), field);
		assert_non_null(f);
		return json_integer_value(f);
	}
	fail_msg("vm %zu has no result named %s", vm, name);
	return -1;
}

json_int_t report_exit_count(const struct vmm_run *r, size_t vm, const char *key)
{
	json_t *e = json_object_get(
		json_object_get(json_object_get(report_vm(r, vm), "exits"), "by_key"), key);

	return e ? json_integer_value(json_object_get(e, "count")) : 0;
}

void vmm_expect_ok(const struct vmm_run *r, const char *what)
{
	if (r->status != 0)
		fail_msg("%s%svmm exited %d\nstderr:\n%s", what ? what : "", what ? ": " : "",
			 r->status, r->err);
}

json_int_t report_int(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("report: %s is not an integer", key);
	return json_integer_value(v);
}

/*
 * Every grant of a slot is closed exactly once, by its receiver: in KVM_RUN
 * (completed) or given back first (unused). A grant to a thread that never
 * ran, or a lost wake that left one open, breaks the sum; the per-slot and
 * per-cause totals are counted in other places than the grants themselves.
 */
void check_slot_books(const struct vmm_run *r, const char *what)
{
	json_t *s = json_object_get(r->json, "sched"), *slots, *e, *c;
	json_int_t grants = 0, by_cause = 0;
	const char *k;
	size_t i;

	if (!s || strcmp(json_string_value(json_object_get(s, "mode")), "slots"))
		return;
	slots = json_object_get(s, "slots");
	if ((json_int_t)json_array_size(slots) != report_int(s, "pcpus"))
		fail_msg("%s: %zu slot records for %lld slots", what, json_array_size(slots),
			 (long long)report_int(s, "pcpus"));
	json_array_foreach(slots, i, e)
	{
		json_int_t g = report_int(e, "grants"), done = report_int(e, "completed"),
			   unused = report_int(e, "unused");

		if (g != done + unused)
			fail_msg("%s: slot %zu granted %lld times, %lld reached KVM_RUN, %lld "
				 "given back unused",
				 what, i, (long long)g, (long long)done, (long long)unused);
		if (report_int(e, "owned_ns") < report_int(e, "run_ns"))
			fail_msg("%s: slot %zu ran longer than it was owned", what, i);
		grants += g;
	}
	json_object_foreach(json_object_get(s, "grants_by_cause"), k, c) by_cause +=
		json_integer_value(c);
	if (grants != report_int(s, "grants") || by_cause != grants)
		fail_msg("%s: %lld grants in the slots, %lld in all, %lld by cause", what,
			 (long long)grants, (long long)report_int(s, "grants"),
			 (long long)by_cause);
}

void check_policy_ledger(const struct vmm_run *r, size_t vm, const char *policy)
{
	json_t *l = json_object_get(report_vm(r, vm), "sched");
	json_t *tiers = json_object_get(l, "successes_by_tier");
	json_int_t ok = report_int(l, "yield_successes");

	assert_true(ok <= report_int(l, "yield_attempts"));
	if (!strcmp(policy, "none")) {
		assert_int_equal(report_int(l, "yield_attempts"), 0);
		assert_int_equal(ok, 0);
	}
	if (!strcmp(policy, "preempted"))
		assert_int_equal(report_int(l, "to_woken"), 0);
	if (!strcmp(policy, "ipi-aware"))
		assert_int_equal(json_integer_value(json_array_get(tiers, 0)) +
					 json_integer_value(json_array_get(tiers, 1)) +
					 json_integer_value(json_array_get(tiers, 2)),
				 ok);
}
