/* SPDX-License-Identifier: MIT */
/*
 * A VM: guest RAM, its vCPUs, the loaded image, boot info, and how it ended.
 * A VM ends exactly once (vm_end: the first caller's reason wins); ending it
 * stops only its own vCPUs, never the process or the other VMs.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include "sched/halt_poll.h"
#include "sched/waker.h"
#include "sched/watchdog.h"
#include "vmm_abi.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm_host;
struct loader_image;
struct vcpu;
struct sched;
struct vm_sched;
struct ipi_track;
struct hw_pc;

/* --wake: how a halted vCPU is woken (docs/wakeups.md). */
enum wake_mode {
	WAKE_DIRECT,   /* its own futex timeout is its timer; an IPI sender wakes it */
	WAKE_DEFERRED, /* both go through the VM's helper thread first (seed 3's old path) */
};

struct vm_config {
	unsigned int id;
	const char *path; /* image file as given */
	const char *name; /* NULL or "": vm<id> */
	unsigned int nr_vcpus;
	uint64_t ram_size;
	const char *args; /* workload arguments for the guest, may be "" */
	const void *env;  /* multiboot: the environment module's bytes (env_len) */
	size_t env_len;
	bool quiet;	       /* drop guest console output */
	bool timed;	       /* record exit handling-time histograms */
	bool irqchip_kernel;   /* KVM's in-kernel LAPIC instead of ours */
	bool ipi_fastpath;     /* single-target IPIs straight from the ICR exit */
	uint32_t trace_events; /* per-vCPU trace ring size, 0 = no trace */
	bool pin;	       /* vCPU i on host CPU i mod online CPUs */
	struct sched *sched;   /* shared by every VM of the process; NULL = none (tests) */
	enum wake_mode wake;   /* --wake */
	bool kick_redirect;    /* --kick-redirect on (needs sched's helpers) */
	struct halt_poll_config halt_poll;
};

enum vm_end_reason {
	VM_RUNNING = 0,
	VM_END_SHUTDOWN,     /* the guest wrote the shutdown port; see status */
	VM_END_TRIPLE_FAULT, /* KVM_EXIT_SHUTDOWN */
	VM_END_GUEST_ERROR,  /* the guest did something the VMM cannot go on from */
	VM_END_BAD_EXIT,     /* KVM reported an exit reason the VMM does not handle */
	VM_END_TIMEOUT,
	VM_END_INTERRUPTED, /* SIGINT/SIGTERM */
	VM_END_HOST_ERROR,  /* an ioctl or allocation failed on our side */
};

struct vm_result {
	unsigned int vcpu;
	struct vmm_result rec;
};

struct vm {
	unsigned int id;
	char name[16]; /* "vm<id>" */
	const char *path;
	const char *image; /* basename of path */
	char args[VMM_ARGS_MAX];
	int fd;
	uint8_t *ram;
	uint64_t ram_size;
	uint64_t entry;
	bool multiboot;	  /* a multiboot image: 32-bit entry, PC devices (hw/), APs wait for SIPI */
	struct hw_pc *pc; /* its devices (multiboot only) */
	uint32_t tsc_khz;
	unsigned int nr_vcpus;
	struct vcpu *vcpu[VMM_MAX_VCPUS];
	bool quiet;
	bool timed;
	bool irqchip_kernel;
	const char *pause_exits; /* "disabled", or "kept: <why>" */
	bool ipi_fastpath;
	bool tracing;
	bool pin;
	enum wake_mode wake;
	bool kick_redirect;
	struct halt_poll_config halt_poll;
	struct waker waker; /* --wake deferred: the VM's helper */
	struct wake_counts wk_deferred, wk_redirect;
	atomic_int redirect_inflight; /* redirected wakes of our vCPUs not yet finished */
	struct sched *sched;	      /* the process's vCPU scheduler */
	struct vm_sched *vs;	      /* this VM's scheduling state: last boosted, ledger */
	struct ipi_track
		*ipi_track;   /* published by the APIC when the policy reads it (ipi-aware) */
	atomic_uint flow_seq; /* trace flow ids for IPIs */
	int notify_fd;	      /* eventfd the main loop polls; written when the VM ends */

	_Atomic int end_reason; /* enum vm_end_reason; set once */
	uint32_t status;	/* guest shutdown status */
	char end_msg[512];
	uint64_t t_start, t_end; /* ns, CLOCK_MONOTONIC */
	atomic_uint threads_live;

	struct vm_watchdog watchdog; /* reports (main thread) */

	pthread_mutex_t lock; /* results; end_reason transitions */
	struct vm_result *results;
	unsigned int nr_results, cap_results;
};

int vm_create(struct vm *vm, const struct kvm_host *kvm, const struct vm_config *cfg,
	      const void *image, const struct loader_image *img, int notify_fd, char *err,
	      size_t errlen);
/* Start every vCPU thread. On failure the VM is ended with VM_END_HOST_ERROR. */
int vm_start(struct vm *vm);
/* End the VM (first call wins) and kick its vCPUs out of KVM_RUN / halt. */
void vm_end(struct vm *vm, enum vm_end_reason reason, uint32_t status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline enum vm_end_reason vm_end_reason(struct vm *vm)
{
	return (enum vm_end_reason)atomic_load_explicit(&vm->end_reason, memory_order_acquire);
}
static inline bool vm_ended(struct vm *vm)
{
	return vm_end_reason(vm) != VM_RUNNING;
}
/* True unless the guest shut down with status 0. Only after the VM ended. */
bool vm_failed(struct vm *vm);
const char *vm_end_reason_name(enum vm_end_reason r);
/* Wait for every vCPU thread of an ended VM, then settle its interrupt accounting. */
void vm_join(struct vm *vm);
void vm_destroy(struct vm *vm);

/* Called by a vCPU thread as it leaves; the last one notifies the main loop. */
void vm_vcpu_exited(struct vm *vm);
/* Store a result record the guest sent (copied). */
void vm_add_result(struct vm *vm, unsigned int vcpu, const struct vmm_result *r);

/* A guest physical range [gpa, gpa+len) inside RAM, or NULL. */
void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len);

#endif
