// SPDX-License-Identifier: MIT
/*
 * The trace writer: events written into per-vCPU rings come out as Chrome
 * trace-event JSON that jansson parses, with the expected tracks, slices,
 * flow pairs, and an exact count of what a full ring dropped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "measure/trace.h"
#include "trace_check.h"
#include "vcpu.h"
#include "vm.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct vm *fake_vm(unsigned int id, unsigned int nr, uint32_t ring)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	unsigned int i;

	vm->id = id;
	vm->nr_vcpus = nr;
	snprintf(vm->name, sizeof(vm->name), "vm%u", id);
	vm->image = "img";
	for (i = 0; i < nr; i++) {
		vm->vcpu[i] = calloc(1, sizeof(struct vcpu));
		vm->vcpu[i]->id = i;
		assert_int_equal(trace_ring_init(&vm->vcpu[i]->trace, ring), 0);
	}
	return vm;
}

static void free_vm(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		trace_ring_free(&vm->vcpu[i]->trace);
		free(vm->vcpu[i]);
	}
	free(vm);
}

static json_t *write_and_parse(struct vm *vms, unsigned int n, uint64_t t0)
{
	char path[] = "/tmp/vmmtest-trace-XXXXXX", err[128];
	json_error_t jerr;
	json_t *doc;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(trace_write(path, vms, n, t0, false, err, sizeof(err)), 0);
	doc = json_load_file(path, 0, &jerr);
	if (!doc)
		fail_msg("trace is not JSON: %s line %d", jerr.text, jerr.line);
	unlink(path);
	return doc;
}

static size_t count_events(json_t *doc, const char *ph, const char *name, int tid)
{
	json_t *ev = json_object_get(doc, "traceEvents"), *e;
	size_t i, n = 0;

	json_array_foreach(ev, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "ph")), ph))
			continue;
		if (name && strcmp(json_string_value(json_object_get(e, "name")), name))
			continue;
		if (tid >= 0 && json_integer_value(json_object_get(e, "tid")) != tid)
			continue;
		n++;
	}
	return n;
}

static void test_tracks_slices_flows(void **state)
{
	struct vm *vm = fake_vm(0, 2, 64);
	struct trace_ring *a = &vm->vcpu[0]->trace, *b = &vm->vcpu[1]->trace;
	struct trace_counts c;
	json_t *doc, *ev, *e;
	size_t i;
	double dur = -1;

	(void)state;
	/* vCPU 0 runs, exits on an ICR write, sends IPI flow 7 to vCPU 1, runs again. */
	trace_emit(a, 1000, TR_RUN, 0, 0, 0);
	trace_emit(a, 5000, TR_EXIT, EXIT_WRMSR_ICR, 0, 0);
	trace_emit(a, 5500, TR_IPI_SEND, 7, 1, 0x41);
	trace_emit(a, 6000, TR_RUN, 0, 0, 0);
	trace_emit(a, 9000, TR_EXIT, EXIT_IO_SPIN, 0, 0);
	trace_emit(a, 9000, TR_SPIN, 0, 0, 0);
	/* vCPU 1 is halted until the IPI, then injects it. */
	trace_emit(b, 2000, TR_HALT, 0, 0, 0);
	trace_emit(b, 7000, TR_WAKE, 0, 0, 0);
	trace_emit(b, 7500, TR_IPI_INJECT, 7, 0, 0x41);
	trace_emit(b, 7600, TR_RUN, 0, 0, 0);
	doc = write_and_parse(vm, 1, 0);
	trace_check(doc, "two vCPUs", &c);
	assert_int_equal(c.flows_out, 1);
	assert_int_equal(c.flows_in, 1);
	assert_int_equal(count_events(doc, "M", "process_name", -1), 1);
	assert_int_equal(count_events(doc, "M", "process_sort_index", -1), 1);
	/* Two tracks per vCPU: its thread (tid 2i) and its scheduler state (2i + 1). */
	assert_int_equal(count_events(doc, "M", "thread_name", -1), 4);
	assert_int_equal(count_events(doc, "X", "guest", 0), 2);
	/* The vmm work is named by the exit it handled. */
	assert_int_equal(count_events(doc, "X", "wrmsr:icr", 0), 1);
	assert_int_equal(count_events(doc, "X", "halted", 2), 1);
	assert_int_equal(count_events(doc, "i", "spin", 0), 1);
	assert_int_equal(count_events(doc, "X", "ipi 0x41", 0), 1);
	assert_int_equal(count_events(doc, "X", "ipi 0x41", 2), 1);
	/* The first guest slice: 1000..5000 ns = 4 us, exit key as argument. */
	ev = json_object_get(doc, "traceEvents");
	json_array_foreach(ev, i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "name")), "guest")) {
			dur = json_number_value(json_object_get(e, "dur"));
			assert_string_equal(json_string_value(json_object_get(
						    json_object_get(e, "args"), "exit")),
					    "wrmsr:icr");
			break;
		}
	}
	assert_true(dur > 3.999 && dur < 4.001);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "otherData"),
							    "dropped_events")),
			 0);
	json_decref(doc);
	free_vm(vm);
}

/*
 * The waker marks a halted vCPU runnable (6000) before its thread wakes
 * (7000), and the vCPU gets a slot at 8000: on one track "runnable" would
 * start inside "halted" and end after it. It must be on the scheduler track.
 */
static void test_runnable_inside_halt_nests(void **state)
{
	struct vm *vm = fake_vm(0, 1, 64);
	struct trace_ring *a = &vm->vcpu[0]->trace;
	json_t *doc;

	(void)state;
	trace_emit(a, 1000, TR_SLOT_IN, 0, 0, 0);
	trace_emit(a, 1500, TR_RUN, 0, 0, 0);
	trace_emit(a, 1900, TR_EXIT, EXIT_HLT, 0, 0);
	trace_emit(a, 1950, TR_SLOT_OUT, 0, 0, 0);
	trace_emit(a, 2000, TR_HALT, 0, 0, 0);
	trace_emit(a, 7000, TR_WAKE, 0, 0, 0);
	trace_emit(a, 6000, TR_RUNNABLE, 0, 0, 0); /* written at the unlock, stamped earlier */
	trace_emit(a, 8000, TR_SLOT_IN, 0, 1, 0);
	trace_emit(a, 8200, TR_RUN, 0, 0, 0);
	doc = write_and_parse(vm, 1, 0);
	trace_check(doc, "runnable while halted", NULL);
	assert_int_equal(count_events(doc, "X", "halted", 0), 1);
	assert_int_equal(count_events(doc, "X", "runnable", 1), 1);
	assert_int_equal(count_events(doc, "X", "slot 0", 1), 1);
	assert_int_equal(count_events(doc, "X", "hlt", 0), 1);
	json_decref(doc);
	free_vm(vm);
}

static void test_ring_overflow_counted(void **state)
{
	struct vm *vm = fake_vm(3, 1, 16);
	struct trace_ring *r = &vm->vcpu[0]->trace;
	json_t *doc;
	unsigned int i;

	(void)state;
	for (i = 0; i < 100; i++)
		trace_emit(r, 1000 + i, TR_SPIN, 0, 0, 0);
	assert_int_equal(trace_ring_dropped(r), 84);
	doc = write_and_parse(vm, 1, 0);
	/* The newest 16 are kept. */
	assert_int_equal(count_events(doc, "i", "spin", 0), 16);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "otherData"),
							    "dropped_events")),
			 84);
	json_decref(doc);
	free_vm(vm);
}

static void test_ring_rounds_up(void **state)
{
	struct trace_ring r;

	(void)state;
	assert_int_equal(trace_ring_init(&r, 100), 0);
	assert_int_equal(r.mask, 127);
	trace_ring_free(&r);
	assert_null(r.ev);
	r.head = 5;
	trace_emit(&r, 1, TR_SPIN, 0, 0, 0); /* off: a no-op */
	assert_int_equal(r.head, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tracks_slices_flows),
		cmocka_unit_test(test_runnable_inside_halt_nests),
		cmocka_unit_test(test_ring_overflow_counted),
		cmocka_unit_test(test_ring_rounds_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
