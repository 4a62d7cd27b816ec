// SPDX-License-Identifier: MIT
#include "hw/pv.h"

#include "clock.h"
#include "sched/scheduler.h"
#include "vcpu.h"
#include "vm.h"
#include "vmm_abi.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

void pv_console_flush(struct vcpu *v)
{
	if (!v->con_len)
		return;
	if (!v->vm->quiet) {
		/* One stdio call per line: glibc locks the stream, so lines never interleave. */
		fprintf(stdout, "[%s/cpu%u] %.*s\n", v->vm->name, v->id, (int)v->con_len, v->con);
		fflush(stdout);
	}
	v->con_len = 0;
}

void pv_console_putc(struct vcpu *v, char c)
{
	if (c == '\n') {
		pv_console_flush(v);
		return;
	}
	if (c == '\r')
		return;
	if (v->con_len == sizeof(v->con))
		pv_console_flush(v);
	v->con[v->con_len++] = c;
}

static void pv_console_str(struct vcpu *v, uint32_t gpa)
{
	struct vm *vm = v->vm;
	uint64_t len = VMM_CONSOLE_STR_MAX;
	const char *s;
	uint64_t i;

	if (gpa >= vm->ram_size) {
		vm_end(vm, VM_END_GUEST_ERROR, 0,
		       "vCPU %u: console string at 0x%x is outside guest RAM", v->id, gpa);
		return;
	}
	if (len > vm->ram_size - gpa)
		len = vm->ram_size - gpa;
	s = (const char *)vm->ram + gpa;
	for (i = 0; i < len && s[i]; i++)
		pv_console_putc(v, s[i]);
}

static void pv_result(struct vcpu *v, uint32_t gpa)
{
	const struct vmm_result *src = vm_gpa(v->vm, gpa, sizeof(*src));
	struct vmm_result r;
	unsigned int i;

	if (!src) {
		vm_end(v->vm, VM_END_GUEST_ERROR, 0,
		       "vCPU %u: result record at 0x%x is outside guest RAM", v->id, gpa);
		return;
	}
	memcpy(&r, src, sizeof(r));
	if (r.nr_fields > VMM_RESULT_MAX_FIELDS) {
		vm_end(v->vm, VM_END_GUEST_ERROR, 0,
		       "vCPU %u: result record '%.31s' has %u fields (at most %u)", v->id, r.name,
		       r.nr_fields, VMM_RESULT_MAX_FIELDS);
		return;
	}
	r.name[sizeof(r.name) - 1] = 0;
	for (i = 0; i < r.nr_fields; i++)
		r.fields[i].key[sizeof(r.fields[i].key) - 1] = 0;
	vm_add_result(v->vm, v->id, &r);
}

/* SDM vol. 3 table 6-1 (and AMD's #HV, #VC, #SX); the gaps are reserved vectors. */
static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF",	  "#BR",	"#UD",	      "#NM", "#DF",
	"CSO", "#TS", "#NP", "#SS", "#GP",	  "#PF",	"#15",	      "#MF", "#AC",
	"#MC", "#XM", "#VE", "#CP", [28] = "#HV", [29] = "#VC", [30] = "#SX",
};

/* What a vector the guest died of was: "exception #GP", a reserved one, or an interrupt. */
static void vector_name(unsigned int vec, char *buf, size_t len)
{
	if (vec >= 32)
		snprintf(buf, len, "interrupt");
	else if (exception_names[vec])
		snprintf(buf, len, "exception %s", exception_names[vec]);
	else
		snprintf(buf, len, "reserved exception");
}

static void pv_shutdown(struct vcpu *v, uint32_t status)
{
	char name[32];

	if (!status) {
		vm_end(v->vm, VM_END_SHUTDOWN, 0, "vCPU %u shut the VM down with status 0", v->id);
		return;
	}
	if (VMM_STATUS_IS_EXCEPTION(status)) {
		vector_name(status & 0xff, name, sizeof(name));
		vm_end(v->vm, VM_END_SHUTDOWN, status,
		       "guest failed: unhandled %s (vector %u) on vCPU %u", name, status & 0xff,
		       v->id);
		return;
	}
	vm_end(v->vm, VM_END_SHUTDOWN, status, "guest failed: vCPU %u shut down with status %u",
	       v->id, status);
}

static enum exit_key pv_out(struct vcpu *v, uint16_t port, uint8_t size, const uint8_t *data,
			    uint32_t count)
{
	uint32_t val = 0, i;

	memcpy(&val, data, size);
	switch (port) {
	case VMM_PORT_CONSOLE:
		for (i = 0; i < count; i++)
			pv_console_putc(v, (char)data[i * size]);
		return EXIT_IO_CONSOLE;
	case VMM_PORT_CONSOLE_STR:
		if (size != 4)
			break;
		pv_console_str(v, val);
		return EXIT_IO_CONSOLE;
	case VMM_PORT_RESULT:
		if (size != 4)
			break;
		pv_result(v, val);
		return EXIT_IO_RESULT;
	case VMM_PORT_SHUTDOWN:
		pv_shutdown(v, val);
		return EXIT_IO_SHUTDOWN;
	case VMM_PORT_SPIN:
		trace_emit(&v->trace, now_ns(), TR_SPIN, 0, 0, 0);
		sched_on_spin(v);
		return EXIT_IO_SPIN;
	default:
		break;
	}
	vm_end(v->vm, VM_END_GUEST_ERROR, 0, "vCPU %u: unexpected out to port 0x%x (%u bytes)",
	       v->id, port, size);
	return EXIT_IO_OTHER;
}

enum exit_key pv_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	const uint8_t *data = (const uint8_t *)run + run->io.data_offset;

	if (run->io.direction == KVM_EXIT_IO_OUT)
		return pv_out(v, run->io.port, run->io.size, data, run->io.count);
	vm_end(v->vm, VM_END_GUEST_ERROR, 0, "vCPU %u: unexpected in from port 0x%x (%u bytes)",
	       v->id, run->io.port, run->io.size);
	return EXIT_IO_OTHER;
}
