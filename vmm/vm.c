// SPDX-License-Identifier: MIT
#include "vm.h"

#include "boot.h"
#include "clock.h"
#include "kvm.h"
#include "loader.h"
#include "hw/pc.h"
#include "multiboot.h"
#include "apic/ipi_track.h"
#include "sched/scheduler.h"
#include "measure/trace.h"
#include "vcpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Only needed by VMX for real-mode emulation, harmless elsewhere; 3 pages below 4 GiB. */
#define VM_TSS_ADDR 0xfffbd000ul

static const char *const end_reason_names[] = {
	[VM_RUNNING] = "running",
	[VM_END_SHUTDOWN] = "shutdown",
	[VM_END_TRIPLE_FAULT] = "triple-fault",
	[VM_END_GUEST_ERROR] = "guest-error",
	[VM_END_BAD_EXIT] = "unexpected-exit",
	[VM_END_TIMEOUT] = "timeout",
	[VM_END_INTERRUPTED] = "interrupted",
	[VM_END_HOST_ERROR] = "host-error",
};

const char *vm_end_reason_name(enum vm_end_reason r)
{
	if ((unsigned int)r >= sizeof(end_reason_names) / sizeof(end_reason_names[0]))
		return "?";
	return end_reason_names[r];
}

void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa > vm->ram_size || len > vm->ram_size - gpa)
		return NULL;
	return vm->ram + gpa;
}

static void vm_write_boot_info(struct vm *vm, unsigned int id)
{
	struct vmm_boot_info *bi = (struct vmm_boot_info *)(vm->ram + VMM_BOOTINFO_GPA) + id;

	memset(bi, 0, sizeof(*bi));
	bi->magic = VMM_BOOT_MAGIC;
	bi->abi_version = VMM_ABI_VERSION;
	bi->vcpu_id = id;
	bi->nr_vcpus = vm->nr_vcpus;
	bi->tsc_khz = vm->tsc_khz;
	bi->ram_size = vm->ram_size;
	bi->vm_id = vm->id;
	bi->flags = vm->irqchip_kernel ? VMM_BOOT_F_IRQCHIP_KERNEL : 0;
	memcpy(bi->args, vm->args, sizeof(bi->args));
}

static int vm_setup_memory(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_userspace_memory_region region;

	vm->ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		snprintf(err, errlen, "cannot allocate %llu bytes of guest RAM: %s",
			 (unsigned long long)vm->ram_size, strerror(errno));
		return -1;
	}
	memset(&region, 0, sizeof(region));
	region.memory_size = vm->ram_size;
	region.userspace_addr = (uintptr_t)vm->ram;
	if (kvm_ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A PAUSE-loop exit would run KVM's own kvm_vcpu_on_spin() beside our yield
 * policy and blur every comparison: turn PAUSE exits off where KVM can (it
 * must happen before the first vCPU). Our guests' spin-waits notify us
 * through the spin port instead (docs/guest-abi.md).
 */
static void vm_disable_pause_exits(struct vm *vm)
{
	struct kvm_enable_cap cap;
	int have = ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_DISABLE_EXITS);

	vm->pause_exits = "kept: KVM cannot disable them here (no KVM_X86_DISABLE_EXITS_PAUSE)";
	if (have <= 0 || !(have & KVM_X86_DISABLE_EXITS_PAUSE))
		return;
	memset(&cap, 0, sizeof(cap));
	cap.cap = KVM_CAP_X86_DISABLE_EXITS;
	cap.args[0] = KVM_X86_DISABLE_EXITS_PAUSE;
	vm->pause_exits = kvm_ioctl(vm->fd, KVM_ENABLE_CAP, &cap) == 0
				  ? "disabled"
				  : "kept: KVM_ENABLE_CAP(KVM_CAP_X86_DISABLE_EXITS) failed";
}

/*
 * Our x2APIC: every x2APIC MSR, IA32_APIC_BASE and IA32_TSC_DEADLINE exits to
 * userspace; every other MSR KVM knows stays with KVM.
 */
static int vm_route_apic_msrs(struct vm *vm, char *err, size_t errlen)
{
	static uint8_t deny[256 / 8]; /* all zero: no access allowed in-kernel */
	struct kvm_enable_cap cap;
	struct kvm_msr_filter f;

	memset(&cap, 0, sizeof(cap));
	cap.cap = KVM_CAP_X86_USER_SPACE_MSR;
	/*
	 * KVM ignores filters on 0x800-0x8FF ("x2APIC MSRs are always allowed"):
	 * without an in-kernel LAPIC it fails them as INVAL, which this routes to
	 * us; the filter is what brings 0x1B and 0x6E0.
	 */
	cap.args[0] = KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_INVAL;
	if (kvm_ioctl(vm->fd, KVM_ENABLE_CAP, &cap) < 0) {
		snprintf(err, errlen, "KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR): %s",
			 strerror(errno));
		return -1;
	}
	memset(&f, 0, sizeof(f));
	f.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
	f.ranges[0] =
		(struct kvm_msr_filter_range){ .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
					       .nmsrs = 256,
					       .base = 0x800,
					       .bitmap = deny };
	f.ranges[1] =
		(struct kvm_msr_filter_range){ .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
					       .nmsrs = 1,
					       .base = 0x1b,
					       .bitmap = deny };
	f.ranges[2] =
		(struct kvm_msr_filter_range){ .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
					       .nmsrs = 1,
					       .base = 0x6e0,
					       .bitmap = deny };
	if (kvm_ioctl(vm->fd, KVM_X86_SET_MSR_FILTER, &f) < 0) {
		snprintf(err, errlen, "KVM_X86_SET_MSR_FILTER: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int vm_setup_irqchip(struct vm *vm, char *err, size_t errlen)
{
	if (!vm->irqchip_kernel)
		return vm_route_apic_msrs(vm, err, errlen);
	if (kvm_ioctl(vm->fd, KVM_CREATE_IRQCHIP, NULL) < 0) {
		snprintf(err, errlen, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void vm_init_fields(struct vm *vm, const struct vm_config *cfg, int notify_fd)
{
	const char *slash = strrchr(cfg->path, '/');

	memset(vm, 0, sizeof(*vm));
	vm->id = cfg->id;
	if (cfg->name && cfg->name[0])
		snprintf(vm->name, sizeof(vm->name), "%s", cfg->name);
	else
		snprintf(vm->name, sizeof(vm->name), "vm%u", cfg->id);
	vm->path = cfg->path;
	vm->image = slash ? slash + 1 : cfg->path;
	snprintf(vm->args, sizeof(vm->args), "%s", cfg->args ? cfg->args : "");
	vm->fd = -1;
	vm->ram_size = cfg->ram_size;
	vm->nr_vcpus = cfg->nr_vcpus;
	vm->quiet = cfg->quiet;
	vm->timed = cfg->timed;
	vm->irqchip_kernel = cfg->irqchip_kernel;
	vm->ipi_fastpath = cfg->ipi_fastpath;
	vm->tracing = cfg->trace_events > 0;
	vm->pin = cfg->pin;
	vm->wake = cfg->wake;
	vm->kick_redirect = cfg->kick_redirect && cfg->sched && cfg->sched->redirect;
	vm->halt_poll = cfg->halt_poll;
	vm->sched = cfg->sched;
	vm->notify_fd = notify_fd;
	pthread_mutex_init(&vm->lock, NULL);
}

/* MAXPHYADDR as the guest's CPUID says it (0x80000008 EAX[7:0]), 0 if KVM gives no leaf. */
static unsigned int vm_phys_bits(const struct kvm_host *kvm)
{
	uint32_t i;

	for (i = 0; i < kvm->cpuid->nent; i++)
		if (kvm->cpuid->entries[i].function == 0x80000008)
			return kvm->cpuid->entries[i].eax & 0xff;
	return 0;
}

int vm_create(struct vm *vm, const struct kvm_host *kvm, const struct vm_config *cfg,
	      const void *image, const struct loader_image *img, int notify_fd, char *err,
	      size_t errlen)
{
	unsigned int i;
	int khz;

	vm_init_fields(vm, cfg, notify_fd);
	vm->vs = sched_vm_new();
	if (vm->sched && vm->sched->track_ipis) {
		vm->ipi_track = malloc(sizeof(*vm->ipi_track));
		if (vm->ipi_track)
			ipi_track_init(vm->ipi_track);
	}
	if (!vm->vs || (vm->sched && vm->sched->track_ipis && !vm->ipi_track)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	vm->fd = kvm_ioctl(kvm->fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	(void)kvm_ioctl(vm->fd, KVM_SET_TSS_ADDR, (void *)VM_TSS_ADDR);
	vm_disable_pause_exits(vm);
	if (vm_setup_memory(vm, err, errlen) < 0 || vm_setup_irqchip(vm, err, errlen) < 0)
		return -1;
	vm->multiboot = img->kind == LOADER_MULTIBOOT;
	if (vm->multiboot) {
		vm->pc = hw_pc_new(vm->nr_vcpus, vm->ram_size);
		if (!vm->pc) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		boot_setup_memory_mb(vm->ram);
		mb_write_info(vm->ram, vm->ram_size, cfg->path, vm->args, cfg->env, cfg->env_len);
	} else {
		boot_setup_memory(vm->ram);
	}
	loader_copy(img, image, vm->ram);
	vm->entry = img->entry;
	for (i = 0; i < vm->nr_vcpus; i++) {
		uint64_t gpa = VMM_BOOTINFO_GPA + i * sizeof(struct vmm_boot_info);

		if (vcpu_create(vm, kvm, i, gpa, &vm->vcpu[i], err, errlen) < 0)
			return -1;
		wake_req_init(&vm->vcpu[i]->wake_deferred, vm->vcpu[i], &vm->wk_deferred, NULL);
		wake_req_init(&vm->vcpu[i]->wake_redirect, vm->vcpu[i], &vm->wk_redirect,
			      &vm->redirect_inflight);
		halt_poll_init(&vm->vcpu[i]->poll, &vm->halt_poll);
		/* A multiboot AP waits for INIT/SIPI from the BSP (KVM's LAPIC does it itself). */
		if (vm->multiboot && i && !vm->irqchip_kernel)
			atomic_store(&vm->vcpu[i]->apic.wait_sipi, true);
		if (cfg->trace_events && trace_ring_init(&vm->vcpu[i]->trace, cfg->trace_events)) {
			snprintf(err, errlen, "out of memory for the trace rings");
			return -1;
		}
		if (i > 0)
			continue;
		khz = ioctl(vm->vcpu[0]->fd, KVM_GET_TSC_KHZ, 0);
		if (khz <= 0) {
			snprintf(err, errlen, "KVM_GET_TSC_KHZ: %s", strerror(errno));
			return -1;
		}
		vm->tsc_khz = (uint32_t)khz;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		lapic_set_min_period(&vm->vcpu[i]->apic.l,
				     (uint64_t)vm->tsc_khz * LAPIC_MIN_PERIOD_US / 1000);
		lapic_set_phys_bits(&vm->vcpu[i]->apic.l, vm_phys_bits(kvm));
	}
	for (i = 0; !vm->multiboot && i < vm->nr_vcpus; i++)
		vm_write_boot_info(vm, i);
	return 0;
}

int vm_start(struct vm *vm)
{
	unsigned int i;

	vm->t_start = now_ns();
	atomic_store(&vm->threads_live, vm->nr_vcpus);
	if (vm->wake == WAKE_DEFERRED) {
		int e = waker_start(&vm->waker, -1, vm->vcpu, vm->nr_vcpus);

		if (e) {
			vm_end(vm, VM_END_HOST_ERROR, 0, "cannot start the wake helper: %s",
			       strerror(e));
			for (i = 0; i < vm->nr_vcpus; i++)
				vm_vcpu_exited(vm);
			return -1;
		}
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		int e = vcpu_start(vm->vcpu[i]);

		if (!e)
			continue;
		vm_end(vm, VM_END_HOST_ERROR, 0, "cannot start the thread of vCPU %u: %s", i,
		       strerror(e));
		/* The threads that never started count as gone. */
		while (i++ < vm->nr_vcpus)
			vm_vcpu_exited(vm);
		return -1;
	}
	return 0;
}

void vm_end(struct vm *vm, enum vm_end_reason reason, uint32_t status, const char *fmt, ...)
{
	uint64_t one = 1;
	unsigned int i;
	va_list ap;

	/* Status and message are written before the release that publishes the reason. */
	pthread_mutex_lock(&vm->lock);
	if (atomic_load_explicit(&vm->end_reason, memory_order_relaxed) != VM_RUNNING) {
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	vm->status = status;
	va_start(ap, fmt);
	vsnprintf(vm->end_msg, sizeof(vm->end_msg), fmt, ap);
	va_end(ap);
	vm->t_end = now_ns();
	atomic_store_explicit(&vm->end_reason, (int)reason, memory_order_release);
	pthread_mutex_unlock(&vm->lock);

	for (i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpu[i])
			vcpu_kick(vm->vcpu[i]);
	if (vm->notify_fd >= 0 && write(vm->notify_fd, &one, sizeof(one)) < 0)
		perror("vmm: eventfd");
}

bool vm_failed(struct vm *vm)
{
	/* A multiboot test passes with isa-debug-exit status (0 << 1) | 1, as under QEMU. */
	return vm_end_reason(vm) != VM_END_SHUTDOWN || vm->status != (vm->multiboot ? 1u : 0u);
}

void vm_vcpu_exited(struct vm *vm)
{
	uint64_t one = 1;

	if (atomic_fetch_sub(&vm->threads_live, 1) != 1)
		return;
	if (vm->notify_fd >= 0 && write(vm->notify_fd, &one, sizeof(one)) < 0)
		perror("vmm: eventfd");
}

void vm_add_result(struct vm *vm, unsigned int vcpu, const struct vmm_result *r)
{
	struct vm_result *n;

	pthread_mutex_lock(&vm->lock);
	if (vm->nr_results == vm->cap_results) {
		unsigned int cap = vm->cap_results ? vm->cap_results * 2 : 8;

		n = realloc(vm->results, cap * sizeof(*n));
		if (!n)
			goto out;
		vm->results = n;
		vm->cap_results = cap;
	}
	vm->results[vm->nr_results].vcpu = vcpu;
	vm->results[vm->nr_results].rec = *r;
	vm->nr_results++;
out:
	pthread_mutex_unlock(&vm->lock);
}

void vm_join(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpu[i];

		if (v && atomic_load(&v->thread_started)) {
			pthread_join(v->thread, NULL);
			atomic_store(&v->thread_started, false);
		}
	}
	/* The helper's queue is drained: what is left is dropped, and counted. */
	waker_stop(&vm->waker);
	/* Slot helpers may still hold a redirected wake of ours: they finish it, then let go. */
	while (atomic_load(&vm->redirect_inflight))
		sched_yield();
	/* No thread runs now: what is still posted or in IRR was never delivered. */
	for (i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpu[i] && !vm->irqchip_kernel)
			apic_finish(vm->vcpu[i]);
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpu[i])
			vcpu_destroy(vm->vcpu[i]);
		vm->vcpu[i] = NULL;
	}
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	vm->ram = NULL;
	free(vm->watchdog.dump);
	vm->watchdog.dump = NULL;
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
	free(vm->results);
	vm->results = NULL;
	sched_vm_free(vm->vs);
	hw_pc_free(vm->pc);
	vm->pc = NULL;
	free(vm->ipi_track);
	vm->vs = NULL;
	pthread_mutex_destroy(&vm->lock);
}
