/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the KVM integration tests: run the real vmm binary ($VMM) on
 * real guest images ($GUEST_DIR), capture its exit status, stdout, stderr and
 * --json report (parsed with jansson).
 */
#ifndef VMMTEST_H
#define VMMTEST_H

#include <jansson.h>

struct vmm_run {
	int status;   /* exit status, or 128+signal */
	char *out;    /* stdout, NUL-terminated */
	char *err;    /* stderr */
	json_t *json; /* the --json report, NULL if none was written */
};

/*
 * If /dev/kvm cannot be used, print one loud SKIP line naming the test and
 * exit 77 (ctest reports the test as skipped). Call first in main().
 */
void vmmtest_require_kvm(const char *test);

/* Path of a built guest image (a static ring of buffers: valid for a few calls). */
const char *guest(const char *name);

/*
 * Run vmm with the NULL-terminated args (--json FILE is added). Returns 0
 * when the run could be made at all; r->status says how it went.
 */
int vmm_run(struct vmm_run *r, const char *const *args);
/* The same, with vmm run under a command: prefix is NULL-terminated, e.g. {"perf", "stat", ...,
 * "--", NULL}. */
int vmm_run_under(struct vmm_run *r, const char *const *prefix, const char *const *args);
/* Run vmm with exactly args (no --json added; r->json stays NULL). */
int vmm_run_plain(struct vmm_run *r, const char *const *args);
void vmm_run_free(struct vmm_run *r);
/* Fail unless vmm exited 0, with its stderr; `what` (may be NULL) names the run. */
void vmm_expect_ok(const struct vmm_run *r, const char *what);

/* The VM object at index i of the report (asserts it exists). */
json_t *report_vm(const struct vmm_run *r, size_t i);
/* A result field of the first result named `name` of VM i; asserts it exists. */
json_int_t report_result(const struct vmm_run *r, size_t vm, const char *name, const char *field);
/* An integer member of a JSON object; fails the test if it is missing or not an integer. */
json_int_t report_int(json_t *o, const char *key);
/* Fail unless every slot grant was completed (KVM_RUN) or given back unused, and totals agree. */
void check_slot_books(const struct vmm_run *r, const char *what);
/* Fail unless VM vm's yield ledger shows only what `policy` may do (none: no attempts, ...). */
void check_policy_ledger(const struct vmm_run *r, size_t vm, const char *policy);
/* vms[i].exits.by_key.<key>.count, 0 if absent. */
json_int_t report_exit_count(const struct vmm_run *r, size_t vm, const char *key);

#endif
