// SPDX-License-Identifier: MIT
#include "measure/trace.h"

#include "measure/json.h"
#include "measure/outfile.h"
#include "measure/stats.h"
#include "vcpu.h"
#include "vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int trace_ring_init(struct trace_ring *r, uint32_t size)
{
	uint64_t n = 1;

	while (n < size)
		n <<= 1;
	r->ev = calloc(n, sizeof(*r->ev));
	r->mask = n - 1;
	r->head = 0;
	return r->ev ? 0 : -1;
}

void trace_ring_free(struct trace_ring *r)
{
	free(r->ev);
	r->ev = NULL;
}

uint64_t trace_ring_dropped(const struct trace_ring *r)
{
	return r->ev && r->head > r->mask + 1 ? r->head - (r->mask + 1) : 0;
}

void trace_emit_at(struct trace_ring *r, uint64_t ts, enum trace_type t, uint32_t a, uint16_t b,
		   uint8_t c)
{
	struct trace_event *e = &r->ev[r->head & r->mask];

	e->ts = ts;
	e->a = a;
	e->b = b;
	e->c = c;
	e->type = (uint8_t)t;
	r->head++;
}

struct tw {
	struct jw j;
	uint64_t t0;
	unsigned int pid;
	unsigned int tid;
};

/* Each vCPU has two tracks: its thread (guest, vmm work, halts) and its scheduler state. */
#define TID_THREAD(i) (2 * (i))
#define TID_SCHED(i)  (2 * (i) + 1)

static double us(const struct tw *w, uint64_t ts)
{
	return ts > w->t0 ? (double)(ts - w->t0) / 1e3 : 0.0;
}

static void ev_begin(struct tw *w, const char *name, const char *cat, const char *ph, uint64_t ts)
{
	jw_begin_object(&w->j);
	jw_kv_string(&w->j, "name", name);
	jw_kv_string(&w->j, "cat", cat);
	jw_kv_string(&w->j, "ph", ph);
	jw_kv_double(&w->j, "ts", us(w, ts));
	jw_kv_u64(&w->j, "pid", w->pid);
	jw_kv_u64(&w->j, "tid", w->tid);
}

static void ev_dur(struct tw *w, uint64_t start, uint64_t end)
{
	jw_kv_double(&w->j, "dur", end > start ? (double)(end - start) / 1e3 : 0.0);
}

static void ev_slice(struct tw *w, const char *name, const char *cat, uint64_t start, uint64_t end,
		     const char *arg_key, const char *arg)
{
	ev_begin(w, name, cat, "X", start);
	ev_dur(w, start, end);
	if (arg_key) {
		jw_key(&w->j, "args");
		jw_begin_object(&w->j);
		jw_kv_string(&w->j, arg_key, arg);
		jw_end_object(&w->j);
	}
	jw_end_object(&w->j);
}

static void ev_instant(struct tw *w, const char *name, const char *cat, uint64_t ts)
{
	ev_begin(w, name, cat, "i", ts);
	jw_kv_string(&w->j, "s", "t");
	jw_end_object(&w->j);
}

/*
 * An IPI is a zero-length slice at the ICR write (flow_out) and one at its
 * injection (flow_in), bound by id: the arrow joins those two slices, with
 * no enclosing-slice rules for an importer to apply.
 */
static void ev_ipi(struct tw *w, bool out, uint64_t ts, uint32_t id, unsigned int vec,
		   unsigned int target)
{
	char name[16];

	snprintf(name, sizeof(name), "ipi 0x%02x", vec);
	ev_begin(w, name, "ipi", "X", ts);
	ev_dur(w, ts, ts);
	jw_kv_u64(&w->j, "bind_id", ((uint64_t)w->pid << 32) | id);
	jw_kv_bool(&w->j, out ? "flow_out" : "flow_in", true);
	if (out) {
		jw_key(&w->j, "args");
		jw_begin_object(&w->j);
		jw_kv_u64(&w->j, "to_vcpu", target);
		jw_end_object(&w->j);
	}
	jw_end_object(&w->j);
}

static void ev_meta(struct tw *w, const char *what, const char *key, const char *name,
		    int64_t index)
{
	jw_begin_object(&w->j);
	jw_kv_string(&w->j, "name", what);
	jw_kv_string(&w->j, "ph", "M");
	jw_kv_u64(&w->j, "pid", w->pid);
	jw_kv_u64(&w->j, "tid", w->tid);
	jw_key(&w->j, "args");
	jw_begin_object(&w->j);
	if (name)
		jw_kv_string(&w->j, key, name);
	else
		jw_kv_i64(&w->j, key, index);
	jw_end_object(&w->j);
	jw_end_object(&w->j);
}

static void track_names(struct tw *w, const char *name, unsigned int sort)
{
	ev_meta(w, "thread_name", "name", name, 0);
	ev_meta(w, "thread_sort_index", "sort_index", NULL, sort);
}

/* The thread's track: guest, then the vmm work named by the exit it handles, halts inside it. */
static void thread_event(struct tw *w, const struct trace_event *e, uint64_t *run_ts,
			 uint64_t *exit_ts, uint64_t *halt_ts, uint32_t *key)
{
	switch ((enum trace_type)e->type) {
	case TR_RUN:
		if (*exit_ts)
			ev_slice(w, exit_key_name((enum exit_key) * key), "vmm", *exit_ts, e->ts,
				 NULL, NULL);
		*run_ts = e->ts;
		*exit_ts = 0;
		break;
	case TR_EXIT:
		if (*run_ts)
			ev_slice(w, "guest", "guest", *run_ts, e->ts, "exit",
				 exit_key_name((enum exit_key)e->a));
		*run_ts = 0;
		*exit_ts = e->ts;
		*key = e->a;
		break;
	case TR_HALT:
		*halt_ts = e->ts;
		break;
	case TR_WAKE:
		if (*halt_ts)
			ev_slice(w, "halted", "halt", *halt_ts, e->ts, NULL, NULL);
		*halt_ts = 0;
		break;
	case TR_IPI_SEND:
		ev_ipi(w, true, e->ts, e->a, e->c, e->b);
		break;
	case TR_IPI_INJECT:
		ev_ipi(w, false, e->ts, e->a, e->c, 0);
		break;
	case TR_SPIN:
		ev_instant(w, "spin", "spin", e->ts);
		break;
	default:
		break;
	}
}

/*
 * The scheduler's track: waiting for a slot, then holding one. The waker
 * marks a halted vCPU runnable before the vCPU's own thread wakes, so a
 * runnable slice may start inside the thread's halted one: on the thread's
 * track the two would overlap, here they follow each other.
 */
static void sched_event(struct tw *w, const struct trace_event *e, uint64_t *runnable_ts,
			uint64_t *slot_ts)
{
	char name[32];

	switch ((enum trace_type)e->type) {
	case TR_RUNNABLE:
		*runnable_ts = e->ts;
		break;
	case TR_SLOT_IN:
		if (*runnable_ts)
			ev_slice(w, "runnable", "sched", *runnable_ts, e->ts, NULL, NULL);
		*runnable_ts = 0;
		*slot_ts = e->ts;
		break;
	case TR_SLOT_OUT:
		if (*slot_ts) {
			snprintf(name, sizeof(name), "slot %u", e->b);
			ev_slice(w, name, "sched", *slot_ts, e->ts, NULL, NULL);
		}
		*slot_ts = 0;
		break;
	case TR_YIELD:
		snprintf(name, sizeof(name), "yield_to vCPU %u", e->a);
		ev_instant(w, name, "sched", e->ts);
		break;
	default:
		break;
	}
}

static void trace_vcpu(struct tw *w, const struct trace_ring *r, unsigned int id)
{
	uint64_t first = r->head > r->mask + 1 ? r->head - (r->mask + 1) : 0;
	uint64_t run_ts = 0, exit_ts = 0, halt_ts = 0, runnable_ts = 0, slot_ts = 0, i;
	uint32_t key = 0;

	w->tid = TID_THREAD(id);
	for (i = first; i < r->head; i++)
		thread_event(w, &r->ev[i & r->mask], &run_ts, &exit_ts, &halt_ts, &key);
	w->tid = TID_SCHED(id);
	for (i = first; i < r->head; i++)
		sched_event(w, &r->ev[i & r->mask], &runnable_ts, &slot_ts);
}

static void trace_vm(struct tw *w, struct vm *vm, uint64_t *dropped)
{
	char name[96];
	unsigned int i;

	w->pid = vm->id + 1;
	w->tid = 0;
	snprintf(name, sizeof(name), "%s (%s)", vm->name, vm->image);
	ev_meta(w, "process_name", "name", name, 0);
	ev_meta(w, "process_sort_index", "sort_index", NULL, vm->id);
	for (i = 0; i < vm->nr_vcpus; i++) {
		w->tid = TID_THREAD(i);
		snprintf(name, sizeof(name), "vCPU %u", i);
		track_names(w, name, TID_THREAD(i));
		w->tid = TID_SCHED(i);
		snprintf(name, sizeof(name), "vCPU %u scheduler", i);
		track_names(w, name, TID_SCHED(i));
		trace_vcpu(w, &vm->vcpu[i]->trace, i);
		*dropped += trace_ring_dropped(&vm->vcpu[i]->trace);
	}
}

/* The pCPU-slot tracks: who held each slot when, from every vCPU's slot events. */
static void trace_slots(struct tw *w, struct vm *vms, unsigned int n)
{
	unsigned int i, k, max_slot = 0;
	char name[64];

	w->pid = n + 1;
	w->tid = 0;
	ev_meta(w, "process_name", "name", "pCPU slots", 0);
	ev_meta(w, "process_sort_index", "sort_index", NULL, n);
	for (i = 0; i < n; i++) {
		for (k = 0; k < vms[i].nr_vcpus; k++) {
			const struct trace_ring *r = &vms[i].vcpu[k]->trace;
			uint64_t first = r->head > r->mask + 1 ? r->head - (r->mask + 1) : 0;
			uint64_t in_ts = 0, j;

			snprintf(name, sizeof(name), "%s vCPU %u", vms[i].name, k);
			for (j = first; j < r->head; j++) {
				const struct trace_event *e = &r->ev[j & r->mask];

				if (e->type == TR_SLOT_IN) {
					in_ts = e->ts;
				} else if (e->type == TR_SLOT_OUT && in_ts) {
					w->tid = e->b;
					max_slot = e->b > max_slot ? e->b : max_slot;
					ev_slice(w, name, "slot", in_ts, e->ts, "image",
						 vms[i].image);
					in_ts = 0;
				}
			}
		}
	}
	for (i = 0; i <= max_slot; i++) {
		w->tid = i;
		snprintf(name, sizeof(name), "slot %u", i);
		track_names(w, name, i);
	}
}

int trace_write(const char *path, struct vm *vms, unsigned int n, uint64_t t0, bool slot_tracks,
		char *err, size_t errlen)
{
	uint64_t dropped = 0;
	struct outfile of;
	struct tw w;
	unsigned int i;

	memset(&w, 0, sizeof(w));
	w.t0 = t0;
	if (outfile_open(&of, path, err, errlen) < 0)
		return -1;
	jw_init(&w.j, of.f);
	w.j.compact = true; /* tens of MB otherwise */
	jw_begin_object(&w.j);
	jw_kv_string(&w.j, "displayTimeUnit", "ns");
	jw_key(&w.j, "traceEvents");
	jw_begin_array(&w.j);
	for (i = 0; i < n; i++)
		trace_vm(&w, &vms[i], &dropped);
	if (slot_tracks)
		trace_slots(&w, vms, n);
	jw_end_array(&w.j);
	jw_key(&w.j, "otherData");
	jw_begin_object(&w.j);
	jw_kv_string(&w.j, "generator", "vmm " VMM_VERSION);
	jw_kv_u64(&w.j, "dropped_events", dropped);
	/* ts 0 is this CLOCK_MONOTONIC time: line the trace up with perf or trace-cmd. */
	jw_kv_u64(&w.j, "clock_monotonic_zero_ns", t0);
	jw_end_object(&w.j);
	jw_end_object(&w.j);
	if (outfile_commit(&of, jw_finish(&w.j) < 0, err, errlen) < 0)
		return -1;
	if (dropped)
		fprintf(stderr,
			"vmm: --trace %s: %llu oldest events dropped (ring full; raise "
			"--trace-events)\n",
			path, (unsigned long long)dropped);
	return 0;
}
