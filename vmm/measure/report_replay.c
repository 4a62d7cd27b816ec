// SPDX-License-Identifier: MIT
/*
 * Rebuild just enough of each VM from the JSON (name, image, size, end,
 * and every vCPU's exit and event histograms) to run the report's own
 * table code on it: the same code, so the same tables.
 */
#include "measure/report_replay.h"

#include "cli.h"
#include "measure/hist.h"
#include "measure/report.h"
#include "measure/stats.h"
#include "vcpu.h"
#include "vm.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct replay {
	const char *path;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int bad(struct replay *rp, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(rp->err, rp->errlen, "%s: %s", rp->path, msg);
	return -1;
}

static int get_u64(struct replay *rp, json_t *o, const char *key, const char *where, uint64_t *v)
{
	json_t *x = json_object_get(o, key);

	if (!json_is_integer(x) || json_integer_value(x) < 0)
		return bad(rp, "%s.%s: missing or not a count", where, key);
	*v = (uint64_t)json_integer_value(x);
	return 0;
}

static int load_hist(struct replay *rp, json_t *o, const char *where, struct hist *h)
{
	json_t *b = json_object_get(o, "buckets"), *pair;
	uint64_t lo, n, total = 0;
	size_t i;

	hist_init(h);
	if (get_u64(rp, o, "count", where, &h->count) || get_u64(rp, o, "sum", where, &h->sum) ||
	    get_u64(rp, o, "min", where, &h->min) || get_u64(rp, o, "max", where, &h->max))
		return -1;
	if (!h->count)
		h->min = UINT64_MAX;
	if (!json_is_number(json_object_get(o, "sum_sq")) || !json_is_array(b))
		return bad(rp, "%s: no sum_sq or buckets (a JSON from an older vmm?)", where);
	h->sum_sq = json_number_value(json_object_get(o, "sum_sq"));
	json_array_foreach(b, i, pair)
	{
		unsigned int k;

		if (!json_is_integer(json_array_get(pair, 0)) ||
		    !json_is_integer(json_array_get(pair, 1)))
			return bad(rp, "%s.buckets[%zu]: expected [lower bound, count]", where, i);
		lo = (uint64_t)json_integer_value(json_array_get(pair, 0));
		n = (uint64_t)json_integer_value(json_array_get(pair, 1));
		k = hist_bucket(lo);
		if (hist_bucket_lo(k) != lo)
			return bad(rp, "%s.buckets[%zu]: %llu ns is not a bucket's lower bound",
				   where, i, (unsigned long long)lo);
		h->bucket[k] = n;
		total += n;
	}
	if (total != h->count)
		return bad(rp, "%s: buckets hold %llu samples, count says %llu", where,
			   (unsigned long long)total, (unsigned long long)h->count);
	return 0;
}

static int load_exits(struct replay *rp, json_t *o, const char *where, bool timed,
		      struct exit_stats *s)
{
	json_t *by = json_object_get(json_object_get(o, "exits"), "by_key"), *e;
	const char *key;
	char w[128];
	int k;

	exit_stats_init(s);
	if (!json_is_object(by))
		return bad(rp, "%s.exits.by_key: missing", where);
	json_object_foreach(by, key, e)
	{
		snprintf(w, sizeof(w), "%s.exits.%s", where, key);
		k = exit_key_parse(key);
		if (k < 0)
			return bad(rp, "%s: unknown exit key", w);
		if (get_u64(rp, e, "count", w, &s->count[k]))
			return -1;
		if (timed && load_hist(rp, json_object_get(e, "time_ns"), w, &s->time[k]))
			return -1;
	}
	return 0;
}

static int load_events(struct replay *rp, json_t *o, const char *where, bool timed,
		       struct event_stats *ev)
{
	json_t *evs = json_object_get(o, "events"), *h;
	const char *key;
	char w[128];
	int k;

	event_stats_init(ev);
	json_object_foreach(evs, key, h)
	{
		snprintf(w, sizeof(w), "%s.events.%s", where, key);
		k = event_key_parse(key);
		if (k < 0)
			return bad(rp, "%s: unknown event key", w);
		if (timed && load_hist(rp, h, w, &ev->lat[k]))
			return -1;
	}
	return 0;
}

static enum vm_end_reason end_reason(const char *name)
{
	int r;

	for (r = VM_END_SHUTDOWN; r <= VM_END_HOST_ERROR; r++)
		if (name && !strcmp(name, vm_end_reason_name((enum vm_end_reason)r)))
			return (enum vm_end_reason)r;
	return VM_END_BAD_EXIT;
}

static int load_vm(struct replay *rp, json_t *j, unsigned int i, bool timed, struct vm *vm)
{
	json_t *vcpus = json_object_get(j, "vcpu"), *v;
	const char *s;
	char where[64];
	size_t k;

	snprintf(where, sizeof(where), "vms[%u]", i);
	s = json_string_value(json_object_get(j, "name"));
	snprintf(vm->name, sizeof(vm->name), "%s", s ? s : "?");
	s = json_string_value(json_object_get(j, "image"));
	vm->image = strdup(s ? s : "?");
	s = json_string_value(json_object_get(json_object_get(j, "interrupts"), "pause_exits"));
	vm->pause_exits = s ? strdup(s) : NULL;
	s = json_string_value(json_object_get(json_object_get(j, "interrupts"), "irqchip"));
	vm->irqchip_kernel = s && !strcmp(s, "kernel");
	vm->ram_size = (uint64_t)json_integer_value(json_object_get(j, "ram_bytes"));
	vm->t_end = (uint64_t)(json_number_value(json_object_get(j, "seconds")) * 1e9 + 0.5);
	vm->status = (uint32_t)json_integer_value(json_object_get(j, "status"));
	s = json_string_value(json_object_get(j, "message"));
	snprintf(vm->end_msg, sizeof(vm->end_msg), "%s", s ? s : "");
	atomic_store(&vm->end_reason,
		     (int)end_reason(json_string_value(json_object_get(j, "end"))));
	if (!vm->image || !json_is_array(vcpus) || !json_array_size(vcpus) ||
	    json_array_size(vcpus) > VMM_MAX_VCPUS)
		return bad(rp, "%s.vcpu: missing, empty or too long", where);
	json_array_foreach(vcpus, k, v)
	{
		char w[112];

		vm->vcpu[k] = calloc(1, sizeof(*vm->vcpu[k]));
		if (!vm->vcpu[k])
			return bad(rp, "out of memory");
		vm->nr_vcpus = (unsigned int)k + 1;
		vm->vcpu[k]->id = (unsigned int)k;
		snprintf(w, sizeof(w), "%s.vcpu[%zu]", where, k);
		if (load_exits(rp, v, w, timed, &vm->vcpu[k]->stats) ||
		    load_events(rp, v, w, timed, &vm->vcpu[k]->events))
			return -1;
	}
	return 0;
}

static void free_vms(struct vm *vms, unsigned int n)
{
	unsigned int i, k;

	for (i = 0; vms && i < n; i++) {
		for (k = 0; k < vms[i].nr_vcpus; k++)
			free(vms[i].vcpu[k]);
		free((char *)vms[i].image);
		free((char *)vms[i].pause_exits);
	}
	free(vms);
}

/* --vm and --vcpu, against the VMs of the file, as the command line does. */
static int resolve(struct replay *rp, struct options *o, struct vm *vms, unsigned int n)
{
	const char **names = calloc(n, sizeof(*names));
	unsigned int *vcpus = calloc(n, sizeof(*vcpus)), i;
	char msg[160];
	int rc = -1;

	if (names && vcpus) {
		for (i = 0; i < n; i++) {
			names[i] = vms[i].name;
			vcpus[i] = vms[i].nr_vcpus;
		}
		rc = cli_select(o, names, vcpus, n, msg, sizeof(msg));
		if (rc < 0)
			bad(rp, "%s", msg);
	} else {
		bad(rp, "out of memory");
	}
	free(names);
	free(vcpus);
	return rc;
}

int report_replay(struct options *o, FILE *out, char *err, size_t errlen)
{
	struct replay rp = { .path = o->report_file, .err = err, .errlen = errlen };
	json_t *doc, *arr, *v;
	struct vm *vms = NULL;
	json_error_t je;
	unsigned int n = 0;
	size_t i;
	int rc = -1;

	doc = json_load_file(o->report_file, 0, &je);
	if (!doc)
		return bad(&rp, "not a vmm JSON report: %s (line %d)", je.text, je.line);
	arr = json_object_get(doc, "vms");
	if (json_integer_value(json_object_get(doc, "schema")) != 1 || !json_is_array(arr) ||
	    !json_array_size(arr)) {
		bad(&rp, "not a vmm JSON report (schema 1 with vms[])");
		goto out;
	}
	o->stats = json_is_true(json_object_get(doc, "timed"));
	vms = calloc(json_array_size(arr), sizeof(*vms));
	if (!vms) {
		bad(&rp, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, v)
	{
		n = (unsigned int)i + 1;
		if (load_vm(&rp, v, (unsigned int)i, o->stats, &vms[i]) < 0)
			goto out;
	}
	if (resolve(&rp, o, vms, n) < 0)
		goto out;
	fprintf(out, "# %s: vmm %s, run of %s\n", o->report_file,
		json_string_value(json_object_get(json_object_get(doc, "run"), "git_commit"))
			?: "?",
		json_string_value(json_object_get(json_object_get(doc, "run"), "started")) ?: "?");
	rc = report_replay_print(
		out, vms, n, o,
		(uint64_t)(json_number_value(json_object_get(doc, "wall_seconds")) * 1e9 + 0.5));
	if (rc < 0)
		bad(&rp, "out of memory");
out:
	free_vms(vms, n);
	json_decref(doc);
	return rc;
}
