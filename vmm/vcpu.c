// SPDX-License-Identifier: MIT
#include "vcpu.h"

#include "boot.h"
#include "clock.h"
#include "futex.h"
#include "kvm.h"
#include "multiboot.h"
#include "hw/hw.h"
#include "hw/pv.h"
#include "sched/scheduler.h"
#include "vcpu_sipi.h"
#include "vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * The kick signal is blocked in every thread and unblocked only inside
 * KVM_RUN (KVM_SET_SIGNAL_MASK). A kick sent while the target is outside
 * KVM_RUN stays pending and makes its next KVM_RUN return -EINTR at once, so
 * a kick can never fall between "checked my state" and "entered the guest".
 */
#define SIG_KICK VCPU_KICK_SIGNAL

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_signals_init(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIG_KICK, &sa, NULL) < 0)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	return pthread_sigmask(SIG_BLOCK, &set, NULL) ? -1 : 0;
}

/* The signal stays pending after KVM_RUN returns -EINTR here: take it. */
static void vcpu_drain_kick(void)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	while (sigtimedwait(&set, NULL, &zero) == SIG_KICK)
		;
}

void vcpu_kick(struct vcpu *v)
{
	/* Bump before waking: a sleeper that read the old value fails its futex_wait. */
	atomic_fetch_add(&v->wake_seq, 1);
	futex_wake(&v->wake_seq);
	/* Outside KVM_RUN the signal stays pending and makes the next entry return at once. */
	if (atomic_load_explicit(&v->thread_started, memory_order_acquire))
		pthread_kill(v->thread, SIG_KICK);
}

/*
 * Who does the wake of a halted target (docs/wakeups.md): the VM's helper
 * (--wake deferred), an idle slot's helper (--kick-redirect on), or the
 * sender itself. Either way it is queued (ready) before it even wakes, so a
 * spinner can yield to it at once.
 */
static void vcpu_wake_halted(struct vcpu *v, struct vcpu *src)
{
	struct vm *vm = v->vm;

	if (vm->wake == WAKE_DEFERRED) {
		waker_post(&vm->waker, &v->wake_deferred, src);
		return;
	}
	if (vm->kick_redirect && sched_redirect(v, src))
		return;
	sched_kick_halted(v, src);
}

/*
 * The caller has just posted an interrupt (a seq_cst store to pir_on). This
 * seq_cst load of the mode pairs with the owner's store of its mode followed
 * by its load of pir_on: one of the two sees the other (docs/kicks.md).
 */
void vcpu_kick_ipi(struct vcpu *v, struct vcpu *src)
{
	switch (atomic_load(&v->mode)) {
	case VCPU_IN_GUEST:
		pthread_kill(v->self, SIG_KICK);
		break;
	case VCPU_HALTED:
		if (v->vm->timed) {
			uint64_t zero = 0;

			atomic_compare_exchange_strong(&v->wake_req_ns, &zero, now_ns());
		}
		vcpu_wake_halted(v, src);
		break;
	default:
		break; /* it merges posted interrupts before it enters again */
	}
}

static uint64_t vcpu_rip(struct vcpu *v)
{
	struct kvm_regs regs;

	if (kvm_ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return 0;
	return regs.rip;
}

/* What ended the halt: the first IPI wake request, or the timer deadline if earlier. */
static void vcpu_note_wakeup(struct vcpu *v, uint64_t deadline)
{
	uint64_t req = atomic_exchange(&v->wake_req_ns, 0);

	if (deadline && deadline <= now_ns() && (!req || deadline < req))
		req = deadline;
	v->wake_from_ns = req;
}

/*
 * --halt-poll: spin for an interrupt before sleeping, keeping the slot, as
 * KVM's halt polling keeps the pCPU. The mode stays VCPU_OUTSIDE, so a
 * sender only posts (no futex, no signal) and we merge what it posted. We
 * stop the moment another vCPU waits for a slot: a poller never keeps one
 * from it. True if an interrupt (or the timer) came.
 */
static bool vcpu_halt_poll(struct vcpu *v, uint64_t window, uint64_t t0, uint64_t *polled)
{
	struct sched *s = v->vm->sched;
	uint64_t now = t0, timer;
	bool found;

	apic_sync(v);
	for (;;) {
		found = apic_has_work(v);
		if (found || now - t0 >= window || vm_ended(v->vm))
			break;
		if (sched_has_waiters(s)) {
			v->poll.yielded++;
			break;
		}
		/*
		 * KVM polls only while single_task_running(): a poller that spins on
		 * its CPU starves the threads queued behind it there (measured: the
		 * vCPU that just handed us the slot, 3.7 ms late, until CFS
		 * preempted us). sched_yield() lets them run first.
		 */
		sched_yield();
		now = now_ns();
		timer = apic_timer_ns(v);
		if (apic_posted(&v->apic) || (timer && timer <= now))
			apic_sync(v);
	}
	*polled = now_ns() - t0;
	return found;
}

/* Sleep on wake_seq until deadline; deferred, the VM's helper owns the timer. */
static void vcpu_sleep(struct vcpu *v, unsigned int seq, uint64_t deadline)
{
	if (v->vm->wake != WAKE_DEFERRED) {
		futex_wait_until(&v->wake_seq, seq, deadline);
		return;
	}
	if (deadline)
		waker_arm(&v->vm->waker, &v->wake_deferred, deadline);
	futex_wait_until(&v->wake_seq, seq, 0);
}

/*
 * HLT with IF=1: sleep until an interrupt is deliverable, the LAPIC timer is
 * due, or the VM ends. The mode and sequence are published before the
 * condition is read: a sender posts, then reads our mode; if it saw
 * VCPU_HALTED it bumps wake_seq and wakes us, and futex_wait fails on the
 * changed value; if it did not, our read of the condition sees its post.
 */
static void vcpu_halt(struct vcpu *v)
{
	uint64_t deadline = 0, t0 = 0, window, polled = 0;
	unsigned int seq;
	bool polling;

	if (apic_nmi_held(v))
		return; /* KVM_RUN injects it; the HLT is over as on hardware */
	if (!v->run->if_flag && !atomic_load(&v->apic.nmi_pending)) {
		vm_end(v->vm, VM_END_GUEST_ERROR, 0,
		       "vCPU %u halted with interrupts disabled at RIP 0x%llx: it can never wake",
		       v->id, (unsigned long long)vcpu_rip(v));
		return;
	}
	atomic_store(&v->wake_req_ns, 0);
	polling = v->poll.cfg.mode != HALT_POLL_OFF;
	window = halt_poll_window(&v->poll);
	if (polling)
		t0 = now_ns();
	if (window) {
		if (vcpu_halt_poll(v, window, t0, &polled)) {
			halt_poll_end(&v->poll, true, polled, true, polled, true);
			return; /* the slot was never let go: nothing to hand back */
		}
	}
	sched_halt_begin(v);
	trace_emit(&v->trace, now_ns(), TR_HALT, 0, 0, 0);
	for (;;) {
		atomic_store(&v->mode, VCPU_HALTED);
		seq = atomic_load(&v->wake_seq);
		apic_sync(v);
		if (vm_ended(v->vm) || apic_has_work(v))
			break;
		sched_halt_idle(v);
		deadline = apic_timer_ns(v);
		atomic_store_explicit(&v->halt_until_ns, deadline, memory_order_relaxed);
		vcpu_sleep(v, seq, deadline);
	}
	atomic_store_explicit(&v->halt_until_ns, 0, memory_order_relaxed);
	if (v->vm->wake == WAKE_DEFERRED)
		waker_disarm(&v->wake_deferred);
	vcpu_note_wakeup(v, deadline);
	trace_emit(&v->trace, now_ns(), TR_WAKE, 0, 0, 0);
	atomic_store(&v->mode, VCPU_OUTSIDE);
	if (polling)
		halt_poll_end(&v->poll, window > 0, polled, false, now_ns() - t0, !vm_ended(v->vm));
	sched_halt_end(v);
}

static void vcpu_triple_fault(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (kvm_ioctl(v->fd, KVM_GET_REGS, &r) < 0 || kvm_ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		vm_end(v->vm, VM_END_TRIPLE_FAULT, 0, "triple fault on vCPU %u", v->id);
		return;
	}
	vm_end(v->vm, VM_END_TRIPLE_FAULT, 0,
	       "triple fault on vCPU %u at RIP 0x%llx RSP 0x%llx RFLAGS 0x%llx CR0 0x%llx "
	       "CR2 0x%llx CR3 0x%llx IDT 0x%llx/%u RAX 0x%llx RDI 0x%llx",
	       v->id, (unsigned long long)r.rip, (unsigned long long)r.rsp,
	       (unsigned long long)r.rflags, (unsigned long long)s.cr0, (unsigned long long)s.cr2,
	       (unsigned long long)s.cr3, (unsigned long long)s.idt.base, s.idt.limit,
	       (unsigned long long)r.rax, (unsigned long long)r.rdi);
}

static const char *const kvm_exit_names[] = {
	"UNKNOWN",
	"EXCEPTION",
	"IO",
	"HYPERCALL",
	"DEBUG",
	"HLT",
	"MMIO",
	"IRQ_WINDOW_OPEN",
	"SHUTDOWN",
	"FAIL_ENTRY",
	"INTR",
	"SET_TPR",
	"TPR_ACCESS",
	"S390_SIEIC",
	"S390_RESET",
	"DCR",
	"NMI",
	"INTERNAL_ERROR",
	"OSI",
	"PAPR_HCALL",
	"S390_UCONTROL",
	"WATCHDOG",
	"S390_TSCH",
	"EPR",
	"SYSTEM_EVENT",
	"S390_STSI",
	"IOAPIC_EOI",
	"HYPERV",
	"ARM_NISV",
	"X86_RDMSR",
	"X86_WRMSR",
	"DIRTY_RING_FULL",
	"AP_RESET_HOLD",
	"X86_BUS_LOCK",
	"XEN",
	"RISCV_SBI",
	"RISCV_CSR",
	"NOTIFY",
	"LOONGARCH_IOCSR",
	"MEMORY_FAULT",
};

static const char *kvm_exit_name(uint32_t reason)
{
	if (reason >= sizeof(kvm_exit_names) / sizeof(kvm_exit_names[0]))
		return "?";
	return kvm_exit_names[reason];
}

/*
 * KVM's instruction emulator gave up (all guest code is emulated here, and
 * it cannot do int3, int n, SSE...): say so, with the instruction bytes, from
 * KVM when it reports them, else the first 8 from guest memory (our guests
 * are identity-mapped, so RIP is a guest physical address).
 */
static void vcpu_emulation_failed(struct vcpu *v, unsigned long long rip)
{
	struct kvm_run *run = v->run;
	const uint8_t *insn = NULL;
	char bytes[15 * 3 + 1] = "";
	unsigned int n = 0, i;

	if (run->emulation_failure.ndata >= 3 &&
	    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		insn = run->emulation_failure.insn_bytes;
		n = run->emulation_failure.insn_size;
	}
	/* This KVM reports one byte at most: read the instruction from guest memory then. */
	if (n < 2 || n > 15) {
		n = 8;
		insn = vm_gpa(v->vm, rip, n);
		while (!insn && --n)
			insn = vm_gpa(v->vm, rip, n);
	}
	for (i = 0; insn && i < n; i++)
		snprintf(bytes + 3 * i, sizeof(bytes) - 3 * i, "%02x ", insn[i]);
	if (insn && n)
		bytes[3 * n - 1] = 0;
	vm_end(v->vm, VM_END_BAD_EXIT, 0,
	       "vCPU %u: KVM could not emulate the instruction at RIP 0x%llx (bytes %s): an "
	       "instruction this KVM's emulator lacks (int3, int n, SSE, ...)",
	       v->id, rip, insn ? bytes : "unreadable");
}

static enum exit_key vcpu_bad_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned long long rip = vcpu_rip(v);

	switch (run->exit_reason) {
	case KVM_EXIT_INTERNAL_ERROR:
		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
			vcpu_emulation_failed(v, rip);
			return EXIT_INTERNAL_ERROR;
		}
		vm_end(v->vm, VM_END_BAD_EXIT, 0,
		       "vCPU %u: KVM internal error, suberror %u (RIP 0x%llx)", v->id,
		       run->internal.suberror, rip);
		return EXIT_INTERNAL_ERROR;
	case KVM_EXIT_FAIL_ENTRY:
		vm_end(v->vm, VM_END_BAD_EXIT, 0,
		       "vCPU %u: VM entry failed, hardware reason 0x%llx (RIP 0x%llx)", v->id,
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason, rip);
		return EXIT_FAIL_ENTRY;
	default:
		vm_end(v->vm, VM_END_BAD_EXIT, 0,
		       "vCPU %u: unexpected exit reason %u (KVM_EXIT_%s) at RIP 0x%llx", v->id,
		       run->exit_reason, kvm_exit_name(run->exit_reason), rip);
		return EXIT_OTHER;
	}
}

static enum exit_key vcpu_handle_exit(struct vcpu *v)
{
	switch (v->run->exit_reason) {
	case KVM_EXIT_IO:
		return hw_io(v);
	case KVM_EXIT_MMIO:
		return hw_mmio(v);
	case KVM_EXIT_HLT:
		vcpu_halt(v);
		return EXIT_HLT;
	case KVM_EXIT_SHUTDOWN:
		vcpu_triple_fault(v);
		return EXIT_SHUTDOWN;
	case KVM_EXIT_X86_RDMSR:
		return apic_rdmsr(v);
	case KVM_EXIT_X86_WRMSR:
		return apic_wrmsr(v);
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return EXIT_IRQ_WINDOW; /* the entry path injects */
	case KVM_EXIT_SET_TPR:
		return EXIT_OTHER; /* a lowered CR8: the entry path reads run->cr8 and injects */
	default:
		return vcpu_bad_exit(v);
	}
}

static enum exit_key vcpu_run_failed(struct vcpu *v, int err)
{
	if (err == EINTR || err == EAGAIN) {
		vcpu_drain_kick();
		/* Nothing posted, not ending, and not our own timer: a kick that found no work. */
		if (!apic_posted(&v->apic) && !vm_ended(v->vm) &&
		    !(atomic_load(&v->timer.armed_ns) &&
		      now_ns() >= atomic_load(&v->timer.armed_ns)))
			v->spurious_kicks++;
		return EXIT_INTR;
	}
	vm_end(v->vm, VM_END_HOST_ERROR, 0, "vCPU %u: KVM_RUN: %s", v->id, strerror(err));
	return EXIT_OTHER;
}

/* The host timer serves the LAPIC deadline and the scheduler quantum, whichever is first. */
static int vcpu_program_timer(struct vcpu *v, uint64_t apic_ns)
{
	uint64_t q = sched_quantum_end(v), t = apic_ns;

	if (q && (!t || q < t))
		t = q;
	if (timer_program(&v->timer, t) < 0) {
		vm_end(v->vm, VM_END_HOST_ERROR, 0, "vCPU %u: timer_settime: %s", v->id,
		       strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Before KVM_RUN: merge posted interrupts, inject, program the host timer,
 * then publish VCPU_IN_GUEST and look at pir_on once more. A sender that
 * posted before our store either saw IN_GUEST and signals us (the signal
 * stays pending: KVM_RUN returns at once), or its post is seen by our
 * re-check and we go round again.
 */
static int vcpu_prepare_entry(struct vcpu *v)
{
	uint64_t now;

	if (v->vm->irqchip_kernel)
		return vcpu_program_timer(v, 0);
	for (;;) {
		apic_sync(v);
		now = now_ns(); /* after the merge: an injection is never stamped before its send */
		if (apic_inject(v, now) < 0) {
			vm_end(v->vm, VM_END_HOST_ERROR, 0, "vCPU %u: interrupt injection: %s",
			       v->id, strerror(errno));
			return -1;
		}
		if (vcpu_program_timer(v, apic_deadline_ns(v)) < 0)
			return -1;
		atomic_store(&v->mode, VCPU_IN_GUEST);
		if (!apic_posted(&v->apic))
			return 0;
		atomic_store(&v->mode, VCPU_OUTSIDE);
	}
}

static void vcpu_pin(struct vcpu *v)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET((int)(v->id % (n > 0 ? (unsigned long)n : 1)), &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		fprintf(stderr, "vmm: %s: cannot pin vCPU %u\n", v->vm->name, v->id);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	enum exit_key key = NR_EXIT_KEYS;
	uint64_t t_exit = 0, t, waited = 0;
	int r;

	v->self = pthread_self();
	if (vm->pin)
		vcpu_pin(v);
	if ((!vm->irqchip_kernel || sched_slots(vm->sched)) &&
	    timer_setup(&v->timer, SIG_KICK, vm->tsc_khz) < 0)
		vm_end(vm, VM_END_HOST_ERROR, 0, "vCPU %u: timer_create: %s", v->id,
		       strerror(errno));
	if (atomic_load(&v->apic.wait_sipi))
		vcpu_wait_sipi(v, false);
	sched_start(v);
	while (!vm_ended(vm)) {
		if (atomic_load_explicit(&v->apic.wait_sipi, memory_order_relaxed) &&
		    !vcpu_wait_sipi(v, true))
			break;
		if (vcpu_prepare_entry(v) < 0)
			break;
		t = now_ns();
		/* Time spent waiting for a slot is the scheduler's (event:slot-wait), not the
		 * exit's. */
		if (key != NR_EXIT_KEYS)
			exit_stats_record(&v->stats, key,
					  t - t_exit - (v->sched.wait_total_ns - waited),
					  vm->timed);
		if (v->wake_from_ns) {
			if (vm->timed && t > v->wake_from_ns)
				hist_record(&v->events.lat[EVENT_WAKEUP], t - v->wake_from_ns);
			v->wake_from_ns = 0;
		}
		trace_emit(&v->trace, t, TR_RUN, 0, 0, 0);
		sched_run_enter(v, t);
		atomic_fetch_add_explicit(&v->entries, 1, memory_order_relaxed);
		r = ioctl(v->fd, KVM_RUN, 0);
		t_exit = now_ns();
		sched_run_leave(v, t_exit);
		waited = v->sched.wait_total_ns;
		atomic_store(&v->mode, VCPU_OUTSIDE);
		key = r < 0 ? vcpu_run_failed(v, errno) : vcpu_handle_exit(v);
		trace_emit(&v->trace, t_exit, TR_EXIT, key, 0, 0);
		sched_tick(v, t_exit);
	}
	sched_stop(v);
	/* The exit that ended the VM still counts (e.g. the shutdown write). */
	if (key != NR_EXIT_KEYS)
		exit_stats_record(&v->stats, key, now_ns() - t_exit, vm->timed);
	timer_teardown(&v->timer);
	pv_console_flush(v);
	vm_vcpu_exited(vm);
	return NULL;
}

static int vcpu_set_signal_mask(struct vcpu *v, char *err, size_t errlen)
{
	union {
		struct kvm_signal_mask m;
		uint8_t buf[sizeof(struct kvm_signal_mask) + 8];
	} u;
	sigset_t set;

	/* Inside KVM_RUN: the thread's mask less the kick signal. */
	pthread_sigmask(SIG_BLOCK, NULL, &set);
	sigdelset(&set, SIG_KICK);
	u.m.len = 8; /* the kernel's sigset_t */
	memcpy(u.m.sigset, &set, 8);
	if (kvm_ioctl(v->fd, KVM_SET_SIGNAL_MASK, &u.m) < 0) {
		snprintf(err, errlen, "KVM_SET_SIGNAL_MASK: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* With KVM's LAPIC, APs start UNINITIALIZED and KVM_RUN would block (docs/host-facts.md). */
static int vcpu_set_runnable(struct vcpu *v, char *err, size_t errlen)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

	if (kvm_ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0) {
		snprintf(err, errlen, "KVM_SET_MP_STATE %u: %s", v->id, strerror(errno));
		return -1;
	}
	return 0;
}

int vcpu_create(struct vm *vm, const struct kvm_host *kvm, unsigned int id, uint64_t boot_info_gpa,
		struct vcpu **out, char *err, size_t errlen)
{
	struct vcpu *v = calloc(1, sizeof(*v));

	*out = v;
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	v->vm = vm;
	v->id = id;
	v->run = MAP_FAILED;
	exit_stats_init(&v->stats);
	event_stats_init(&v->events);
	apic_init(&v->apic, id);
	sched_vcpu_init(&v->sched);
	v->fd = kvm_ioctl(vm->fd, KVM_CREATE_VCPU, (void *)(uintptr_t)id);
	if (v->fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		return -1;
	}
	v->run_size = (size_t)kvm->vcpu_mmap_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		snprintf(err, errlen, "mmap of vCPU %u: %s", id, strerror(errno));
		return -1;
	}
	if (vm->multiboot
		    ? boot_setup_vcpu_mb(kvm, v->fd, id, vm->entry, MB_INFO_GPA, err, errlen) < 0
		    : boot_setup_vcpu(kvm, v->fd, id, vm->entry, boot_info_gpa, err, errlen) < 0)
		return -1;
	/* A multiboot AP waits for INIT/SIPI: KVM's LAPIC starts it then. */
	if (vm->irqchip_kernel && !(vm->multiboot && id) && vcpu_set_runnable(v, err, errlen) < 0)
		return -1;
	return vcpu_set_signal_mask(v, err, errlen);
}

int vcpu_start(struct vcpu *v)
{
	int e = pthread_create(&v->thread, NULL, vcpu_thread, v);

	if (e)
		return e;
	atomic_store_explicit(&v->thread_started, true, memory_order_release);
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	trace_ring_free(&v->trace);
	if (v->run != MAP_FAILED)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	free(v);
}
