// SPDX-License-Identifier: MIT
#include "apic/apic.h"

#include "clock.h"
#include "apic/ipi.h"
#include "apic/ipi_track.h"
#include "kvm.h"
#include "apic/timer.h"
#include "vcpu.h"
#include "vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

/* How long to wait for an IRQ-window exit before a self-timer kicks us (docs/host-facts.md). */
#define WINDOW_TIMER_NS 100000ull

#define BIT(v)	(1ull << ((v)&63))
#define WORD(v) ((v) >> 6)

void apic_init(struct vcpu_apic *a, uint32_t id)
{
	memset(a, 0, sizeof(*a));
	lapic_init(&a->l, id);
}

void apic_counters_add(struct apic_counters *d, const struct apic_counters *s)
{
	d->ipi_sent += s->ipi_sent;
	d->ipi_fastpath += s->ipi_fastpath;
	d->ipi_dropped += s->ipi_dropped;
	d->ipi_coalesced += s->ipi_coalesced;
	d->ipi_delivered += s->ipi_delivered;
	d->ipi_pending += s->ipi_pending;
	d->nmi_sent += s->nmi_sent;
	d->nmi_delivered += s->nmi_delivered;
	d->nmi_coalesced += s->nmi_coalesced;
	d->nmi_pending += s->nmi_pending;
	d->timer_fired += s->timer_fired;
	d->timer_coalesced += s->timer_coalesced;
	d->timer_delivered += s->timer_delivered;
	d->msr_gp += s->msr_gp;
	d->window_requests += s->window_requests;
}

/* Sender side: request `vector` on dst and make sure dst will look. */
static void apic_post(struct vcpu *src, struct vcpu *dst, uint8_t vector)
{
	uint64_t old, t = src->vm->timed || src->vm->tracing ? now_ns() : 0;

	/*
	 * Stamped before the request is visible, so the owner's merge reads this
	 * or a later one. One stamp for both: the owner may merge an earlier
	 * request of this vector after it sees the new flow id, and its injection
	 * must still come no earlier than the send it is drawn from.
	 */
	if (src->vm->timed)
		atomic_store_explicit(&dst->apic.post_ns[vector], t, memory_order_release);
	if (src->vm->tracing) {
		uint32_t id = atomic_fetch_add(&src->vm->flow_seq, 1) + 1;

		trace_emit(&src->trace, t, TR_IPI_SEND, id, (uint16_t)dst->id, vector);
		atomic_store_explicit(&dst->apic.post_flow[vector], id, memory_order_release);
	}
	old = atomic_fetch_or(&dst->apic.pir[WORD(vector)], BIT(vector));
	if (old & BIT(vector)) {
		/* Already requested and not yet merged: one interrupt, as on hardware. */
		src->apic.c.ipi_coalesced++;
		return;
	}
	atomic_store(&dst->apic.pir_on, true);
	if (dst != src)
		vcpu_kick_ipi(dst, src);
}

/* At most one NMI waits to be taken (SDM 10.6 / 6.7.1): another is lost, and counted so. */
static void apic_post_nmi(struct vcpu *src, struct vcpu *dst)
{
	src->apic.c.nmi_sent++;
	if (atomic_exchange(&dst->apic.nmi_pending, 1)) {
		src->apic.c.nmi_coalesced++;
		return;
	}
	if (dst != src)
		vcpu_kick_ipi(dst, src);
}

static uint64_t apic_lowest(struct vcpu *src, uint64_t set)
{
	struct vm *vm = src->vm;
	uint8_t ppr[VMM_MAX_VCPUS];
	unsigned int i;
	int t;

	for (i = 0; i < vm->nr_vcpus; i++)
		ppr[i] = atomic_load_explicit(&vm->vcpu[i]->apic.ppr, memory_order_relaxed);
	t = ipi_lowest_priority(set, ppr, vm->nr_vcpus, src->apic.lowest_rr);
	src->apic.lowest_rr = (uint32_t)(t + 1) % vm->nr_vcpus;
	return 1ull << t;
}

/* ipi-aware reads these records (apic/ipi_track.h); kept only when it is the policy. */
static void apic_track_sent(struct vcpu *src, unsigned int to, uint8_t vector)
{
	struct vm *vm = src->vm;

	if (vm->ipi_track && to != src->id)
		ipi_track_sent(vm->ipi_track, src->id, to, vector, now_ns());
}

static void apic_track_eoi(struct vcpu *v, uint8_t vector)
{
	struct vm *vm = v->vm;

	if (vm->ipi_track)
		ipi_track_eoi(vm->ipi_track, v->id, vector, vm->nr_vcpus);
}

/*
 * INIT and SIPI (SDM "MP Initialization"), on the PC platform only: our own
 * ABI starts every vCPU at the entry, and there they stay dropped (the
 * icr-combos guest checks it). INIT puts each target in wait-for-SIPI (its
 * thread leaves its slot and KVM_RUN; vcpu_sipi.c) and forgets an earlier
 * SIPI; a SIPI starts a waiting target in real mode at vector * 4096, and
 * any other target ignores it. INIT level de-assert does nothing. Both may
 * come back to back: the target need not have taken the INIT yet.
 */
static void apic_send_startup(struct vcpu *src, const struct ipi_msg *m)
{
	struct vm *vm = src->vm;
	uint64_t set = ipi_targets(m, src->id, vm->nr_vcpus);
	struct vcpu *dst;

	if (m->delivery == IPI_DM_INIT && !m->level_assert && m->trigger_level)
		return;
	while (set) {
		dst = vm->vcpu[__builtin_ctzll(set)];
		set &= set - 1;
		if (m->delivery == IPI_DM_INIT) {
			atomic_store(&dst->apic.sipi, 0);
			atomic_store(&dst->apic.wait_sipi, true);
		} else if (atomic_load(&dst->apic.wait_sipi)) {
			atomic_store(&dst->apic.sipi, APIC_SIPI_VALID | m->vector);
		} else {
			continue;
		}
		if (dst != src)
			vcpu_kick(dst);
	}
}

/* Route an ICR write (or SELF_IPI) of vCPU src. */
static void apic_send(struct vcpu *src, uint64_t icr)
{
	struct vm *vm = src->vm;
	struct ipi_msg m;
	uint64_t set;
	int d, st;

	if (vm->ipi_fastpath) {
		d = ipi_fastpath_dest(icr, vm->nr_vcpus);
		if (d >= 0) {
			src->apic.c.ipi_sent++;
			src->apic.c.ipi_fastpath++;
			apic_track_sent(src, (unsigned int)d, IPI_ICR_VECTOR(icr));
			apic_post(src, vm->vcpu[d], IPI_ICR_VECTOR(icr));
			return;
		}
	}
	st = ipi_decode(icr, &m);
	if (vm->multiboot && (m.delivery == IPI_DM_INIT || m.delivery == IPI_DM_SIPI)) {
		apic_send_startup(src, &m);
		return;
	}
	set = st == IPI_OK ? ipi_targets(&m, src->id, vm->nr_vcpus) : 0;
	if (!set) {
		src->apic.c.ipi_sent++;
		src->apic.c.ipi_dropped++;
		if (st == IPI_ERR_VECTOR)
			lapic_error(&src->apic.l, LAPIC_ESR_SEND_ILLEGAL);
		return;
	}
	if (m.delivery == IPI_DM_LOWEST)
		set = apic_lowest(src, set);
	/* Recorded before the post, so the receiver's EOI always finds it (ipi-aware). */
	if (m.delivery == IPI_DM_FIXED && !(set & (set - 1)))
		apic_track_sent(src, (unsigned int)__builtin_ctzll(set), m.vector);
	while (set) {
		d = __builtin_ctzll(set);
		set &= set - 1;
		if (m.delivery == IPI_DM_NMI) {
			apic_post_nmi(src, vm->vcpu[d]);
			continue;
		}
		src->apic.c.ipi_sent++;
		apic_post(src, vm->vcpu[d], m.vector);
	}
}

static enum exit_key wrmsr_key(uint32_t msr)
{
	switch (msr) {
	case LAPIC_MSR_ICR:
	case LAPIC_MSR_SELF_IPI:
		return EXIT_WRMSR_ICR;
	case LAPIC_MSR_EOI:
		return EXIT_WRMSR_EOI;
	case LAPIC_MSR_TSC_DEADLINE:
		return EXIT_WRMSR_TSC_DEADLINE;
	case LAPIC_MSR_TPR:
		return EXIT_WRMSR_TPR;
	case LAPIC_MSR_LVT_TIMER:
	case LAPIC_MSR_TIMER_ICR:
	case LAPIC_MSR_TIMER_DCR:
		return EXIT_WRMSR_TIMER;
	case LAPIC_MSR_APIC_BASE:
		return EXIT_WRMSR_APIC_BASE;
	case LAPIC_MSR_SVR:
		return EXIT_WRMSR_SVR;
	case LAPIC_MSR_LVT_CMCI:
	case LAPIC_MSR_LVT_THERMAL:
	case LAPIC_MSR_LVT_PERF:
	case LAPIC_MSR_LVT_LINT0:
	case LAPIC_MSR_LVT_LINT1:
	case LAPIC_MSR_LVT_ERROR:
		return EXIT_WRMSR_LVT;
	case LAPIC_MSR_ESR:
		return EXIT_WRMSR_ESR;
	default:
		return EXIT_WRMSR_OTHER; /* an x2APIC register with no key of its own, or none */
	}
}

/*
 * Owner: publish what other threads and the scheduler read about this APIC
 * without calling into it: the priority for lowest-priority arbitration, and
 * whether IRR holds a deliverable vector (a pending interrupt a spinner's
 * snapshot must see while this vCPU waits for a slot).
 */
static void apic_publish(struct vcpu_apic *a)
{
	bool work = lapic_highest_deliverable(&a->l) >= 0;

	atomic_store_explicit(&a->ppr, lapic_ppr(&a->l), memory_order_relaxed);
	if (atomic_load_explicit(&a->irr_pending, memory_order_relaxed) != work)
		atomic_store_explicit(&a->irr_pending, work, memory_order_relaxed);
}

enum exit_key apic_rdmsr(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint64_t val = 0;

	if (lapic_rdmsr(&v->apic.l, run->msr.index, timer_rdtsc(), &val) != LAPIC_OK) {
		run->msr.error = 1; /* KVM injects #GP */
		v->apic.c.msr_gp++;
	} else {
		run->msr.error = 0;
		run->msr.data = val;
	}
	if (run->msr.index == LAPIC_MSR_APIC_BASE)
		return EXIT_RDMSR_APIC_BASE;
	if (run->msr.index == LAPIC_MSR_TSC_DEADLINE)
		return EXIT_RDMSR_TSC_DEADLINE;
	return lapic_msr_is_apic(run->msr.index) ? EXIT_RDMSR_APIC : EXIT_RDMSR_OTHER;
}

/*
 * A disable discarded IRR: the IPIs waiting there were neither delivered nor
 * coalesced, so they count as dropped, and the bookkeeping of where IRR bits
 * came from starts afresh (a later IPI of the same vector is a new one). What
 * is still posted is merged later into the reset APIC, and dropped there if it
 * is still disabled.
 */
static void apic_discard(struct vcpu_apic *a)
{
	unsigned int w;

	for (w = 0; w < 4; w++) {
		a->c.ipi_dropped += (uint64_t)__builtin_popcountll(a->from_ipi[w]);
		a->from_ipi[w] = 0;
		a->from_timer[w] = 0;
	}
}

/* What a register write asks of the vCPU's APIC, by either access method. */
static void apic_apply(struct vcpu *v, const struct lapic_effect *eff)
{
	if (eff->send_ipi)
		apic_send(v, eff->icr);
	if (eff->eoi_vector >= 0)
		apic_track_eoi(v, (uint8_t)eff->eoi_vector);
	if (eff->reset)
		apic_discard(&v->apic);
	apic_publish(&v->apic);
}

enum exit_key apic_wrmsr(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct lapic_effect eff;

	memset(&eff, 0, sizeof(eff));
	eff.eoi_vector = -1;
	if (lapic_wrmsr(&v->apic.l, run->msr.index, run->msr.data, timer_rdtsc(), &eff) !=
	    LAPIC_OK) {
		run->msr.error = 1;
		v->apic.c.msr_gp++;
		return wrmsr_key(run->msr.index);
	}
	run->msr.error = 0;
	apic_apply(v, &eff);
	return wrmsr_key(run->msr.index);
}

bool apic_mmio_claims(struct vcpu *v, uint64_t gpa)
{
	uint64_t base = lapic_mmio_base(&v->apic.l);

	return gpa >= base && gpa - base < LAPIC_MMIO_SIZE;
}

/*
 * Only aligned 32-bit accesses reach a register (SDM "Local APIC Register
 * Address Map"); anything else, and every access outside xAPIC mode, reads
 * all-ones and is dropped.
 */
enum exit_key apic_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t off = (uint32_t)(run->mmio.phys_addr - lapic_mmio_base(&v->apic.l)), val;
	struct lapic_effect eff;

	if (!lapic_xapic_enabled(&v->apic.l) || run->mmio.len != 4 || (off & 3)) {
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		return EXIT_MMIO_APIC;
	}
	if (!run->mmio.is_write) {
		val = lapic_mmio_read(&v->apic.l, off, timer_rdtsc());
		memcpy(run->mmio.data, &val, 4);
		return EXIT_MMIO_APIC;
	}
	memcpy(&val, run->mmio.data, 4);
	lapic_mmio_write(&v->apic.l, off, val, timer_rdtsc(), &eff);
	apic_apply(v, &eff);
	return EXIT_MMIO_APIC;
}

static void apic_merge_vector(struct vcpu_apic *a, unsigned int vec)
{
	switch (lapic_accept(&a->l, (uint8_t)vec)) {
	case LAPIC_ACCEPTED:
		a->from_ipi[WORD(vec)] |= BIT(vec);
		a->merged_post_ns[vec] =
			atomic_load_explicit(&a->post_ns[vec], memory_order_acquire);
		a->merged_flow[vec] =
			atomic_load_explicit(&a->post_flow[vec], memory_order_acquire);
		break;
	case LAPIC_COALESCED:
		a->c.ipi_coalesced++;
		break;
	case LAPIC_REJECTED:
	case LAPIC_NONE:
		a->c.ipi_dropped++;
		break;
	}
}

static void apic_merge_pir(struct vcpu_apic *a)
{
	unsigned int w;

	/* Clear "on" before taking the bits: a post racing with us re-sets it. */
	atomic_store(&a->pir_on, false);
	for (w = 0; w < 4; w++) {
		uint64_t bits = atomic_exchange(&a->pir[w], 0);

		while (bits) {
			apic_merge_vector(a, w * 64 + (unsigned int)__builtin_ctzll(bits));
			bits &= bits - 1;
		}
	}
}

static void apic_fire_timer(struct vcpu_apic *a, uint64_t now_tsc)
{
	struct lapic_timer_event ev;
	int vec;

	if (!lapic_timer_fire(&a->l, now_tsc, &ev))
		return;
	a->c.timer_fired++;
	if (ev.irq == LAPIC_COALESCED) {
		a->c.timer_coalesced++;
	} else if (ev.irq == LAPIC_ACCEPTED) {
		vec = a->l.lvt[LAPIC_LVT_TIMER] & 0xff;
		a->from_timer[WORD(vec)] |= BIT(vec);
	}
}

/*
 * CR8 is TPR[7:4] (SDM "Task Priority in IA-32e Mode"). Without an in-kernel
 * LAPIC KVM keeps CR8 itself and passes it through run->cr8 both ways: a
 * value that differs from the one we gave it is the guest's MOV to CR8.
 */
static void apic_sync_cr8(struct vcpu *v)
{
	struct vcpu_apic *a = &v->apic;
	uint8_t cr8 = (uint8_t)(v->run->cr8 & 0xf);

	if (cr8 == a->cr8_given)
		return;
	a->l.tpr = (uint32_t)cr8 << 4;
	a->cr8_given = cr8;
}

void apic_sync(struct vcpu *v)
{
	struct vcpu_apic *a = &v->apic;

	apic_sync_cr8(v);
	if (atomic_load_explicit(&a->pir_on, memory_order_acquire))
		apic_merge_pir(a);
	if (lapic_timer_next(&a->l))
		apic_fire_timer(a, timer_rdtsc());
	apic_publish(a);
}

bool apic_has_work(struct vcpu *v)
{
	return lapic_highest_deliverable(&v->apic.l) >= 0 || atomic_load(&v->apic.nmi_pending) ||
	       atomic_load_explicit(&v->apic.wait_sipi, memory_order_relaxed);
}

void apic_init_reset(struct vcpu *v)
{
	struct vcpu_apic *a = &v->apic;

	apic_merge_pir(a); /* what was posted before the INIT is lost with the IRR */
	lapic_init_reset(&a->l);
	apic_discard(a);
	a->window_deadline_ns = 0;
	apic_publish(a);
}

static void apic_account_injection(struct vcpu *v, unsigned int vec, uint64_t now)
{
	struct vcpu_apic *a = &v->apic;

	if (a->from_ipi[WORD(vec)] & BIT(vec)) {
		a->from_ipi[WORD(vec)] &= ~BIT(vec);
		a->c.ipi_delivered++;
		if (v->vm->timed && a->merged_post_ns[vec] && now > a->merged_post_ns[vec])
			hist_record(&v->events.lat[EVENT_IPI], now - a->merged_post_ns[vec]);
		trace_emit(&v->trace, now, TR_IPI_INJECT, a->merged_flow[vec], 0, (uint8_t)vec);
	} else if (a->from_timer[WORD(vec)] & BIT(vec)) {
		a->from_timer[WORD(vec)] &= ~BIT(vec);
		a->c.timer_delivered++;
	}
}

/*
 * KVM keeps an NMI that arrives while the guest is in its NMI handler
 * pending until the IRET, as the CPU latches one; a second one it would
 * silently merge. So ours goes in only when KVM holds none: then the guest
 * takes it (delivered); otherwise it is the one hardware would lose.
 */
static int apic_inject_nmi(struct vcpu *v)
{
	struct kvm_vcpu_events ev;

	if (!atomic_exchange(&v->apic.nmi_pending, 0))
		return 0;
	if (kvm_ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -1;
	if (ev.nmi.pending) {
		v->apic.c.nmi_coalesced++;
		return 0;
	}
	if (kvm_ioctl(v->fd, KVM_NMI, NULL) < 0)
		return -1;
	v->apic.c.nmi_delivered++;
	v->apic.nmi_in_kvm = true;
	return 0;
}

bool apic_nmi_held(struct vcpu *v)
{
	struct kvm_vcpu_events ev;

	if (!v->apic.nmi_in_kvm)
		return false;
	if (kvm_ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return false;
	if (ev.nmi.injected || (ev.nmi.pending && !ev.nmi.masked))
		return true;
	/* Taken, or latched behind a handler that must IRET first: no reason to stay awake. */
	v->apic.nmi_in_kvm = ev.nmi.pending;
	return false;
}

/*
 * Ask KVM for an interrupt window, bounded by a self-timer: the window exit
 * alone takes ~0.8 ms here. The timer is armed once per wait, not pushed
 * back at every exit, so the wait stays bounded and the host timer is not
 * reprogrammed on every entry.
 */
static void apic_request_window(struct vcpu_apic *a, struct kvm_run *run, uint64_t now)
{
	run->request_interrupt_window = 1;
	if (a->window_deadline_ns && now < a->window_deadline_ns)
		return;
	a->window_deadline_ns = now + WINDOW_TIMER_NS;
	a->c.window_requests++;
}

int apic_inject(struct vcpu *v, uint64_t now)
{
	struct vcpu_apic *a = &v->apic;
	struct kvm_run *run = v->run;
	struct kvm_interrupt irq;
	int vec;

	run->request_interrupt_window = 0;
	a->cr8_given = (uint8_t)(a->l.tpr >> 4);
	run->cr8 = a->cr8_given;
	/* One ioctl besides KVM_RUN per exit: an NMI goes first, a vector waits. */
	if (atomic_load_explicit(&a->nmi_pending, memory_order_relaxed)) {
		a->window_deadline_ns = 0;
		return apic_inject_nmi(v);
	}
	vec = lapic_highest_deliverable(&a->l);
	if (vec < 0) {
		a->window_deadline_ns = 0;
		return 0;
	}
	if (!run->ready_for_interrupt_injection || !run->if_flag) {
		apic_request_window(a, run, now);
		return 0;
	}
	irq.irq = (uint32_t)vec;
	if (ioctl(v->fd, KVM_INTERRUPT, &irq) < 0) {
		if (errno != EEXIST && errno != EINTR)
			return -1;
		/* KVM still holds the last one: leave this vector in IRR for later. */
		apic_request_window(a, run, now);
		return 0;
	}
	a->window_deadline_ns = 0;
	lapic_ack(&a->l, (uint8_t)vec);
	/*
	 * KVM recomputes this field at every exit (false while it still holds a
	 * vector). Consume it: a second KVM_INTERRUPT before the guest runs
	 * would silently replace the first without an in-kernel irqchip.
	 */
	run->ready_for_interrupt_injection = 0;
	apic_account_injection(v, (unsigned int)vec, now);
	apic_publish(a);
	return 0;
}

uint64_t apic_timer_ns(struct vcpu *v)
{
	struct vcpu_apic *a = &v->apic;
	uint64_t tsc = lapic_timer_next(&a->l), tsc_now, ns_now;

	/*
	 * Convert once per deadline: a fresh conversion jitters by a few ns. The
	 * TSC is read first so that the host time errs late, never early: a host
	 * timer that fired before the guest's deadline was due would find nothing
	 * to deliver.
	 */
	if (tsc && tsc != a->timer_tsc) {
		tsc_now = timer_rdtsc();
		ns_now = now_ns();
		a->timer_tsc = tsc;
		a->timer_ns = timer_tsc_to_ns(&v->timer, tsc, ns_now, tsc_now);
	}
	return tsc ? a->timer_ns : 0;
}

uint64_t apic_deadline_ns(struct vcpu *v)
{
	uint64_t t = apic_timer_ns(v), d = v->apic.window_deadline_ns;

	if (t && (!d || t < d))
		d = t;
	return d;
}

/* An NMI handed to KVM that the guest never got to run is pending, not delivered. */
static void apic_finish_nmi(struct vcpu *v)
{
	struct kvm_vcpu_events ev;
	unsigned int n;

	if (v->vm->irqchip_kernel || kvm_ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return;
	n = (ev.nmi.pending ? 1u : 0u) + (ev.nmi.injected ? 1u : 0u);
	if (n > v->apic.c.nmi_delivered)
		n = (unsigned int)v->apic.c.nmi_delivered;
	v->apic.c.nmi_delivered -= n;
	v->apic.c.nmi_pending += n;
}

void apic_finish(struct vcpu *v)
{
	struct vcpu_apic *a = &v->apic;
	unsigned int w;

	apic_merge_pir(a);
	for (w = 0; w < 4; w++)
		a->c.ipi_pending += (uint64_t)__builtin_popcountll(a->from_ipi[w]);
	if (atomic_exchange(&a->nmi_pending, 0))
		a->c.nmi_pending++;
	apic_finish_nmi(v);
}
