// SPDX-License-Identifier: MIT
/*
 * The watchdog samples published state from the main thread: the vCPU's
 * mode, its entry count, the APIC's posted/pending flags and the armed host
 * timer (atomics), and the scheduler's state under its lock. A condition is
 * one episode while the vCPU has not entered its guest since it was first
 * seen (the entry count is unchanged), so a vCPU that runs between two
 * looks is never reported.
 */
#include "sched/watchdog.h"

#include "apic/apic.h"
#include "clock.h"
#include "sched/scheduler.h"
#include "vcpu.h"
#include "vm.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wd_obs {
	enum watchdog_cond cond;
	uint64_t since;
	uint64_t entries;
	uint64_t delay0;  /* the thread's host run-queue delay (schedstat) at since */
	uint64_t pdelay0; /* ... of all of vmm's threads */
	int tid;
	bool reported;
};

struct watchdog {
	struct vm *vms;
	unsigned int n;
	uint64_t limit_ns, period_ns;
	struct wd_obs *obs; /* n * VMM_MAX_VCPUS */
};

static const char *const cond_names[NR_WD_CONDS] = {
	[WD_NONE] = "none",
	[WD_WAIT_SLOT] = "waiting-for-slot",
	[WD_HALT_WORK] = "halted-with-interrupt",
	[WD_HALT_OVERDUE] = "halted-past-timer",
	[WD_OUTSIDE] = "outside-kvm-run",
};

const char *watchdog_cond_name(enum watchdog_cond c)
{
	return c < NR_WD_CONDS ? cond_names[c] : "?";
}

struct watchdog *watchdog_new(struct vm *vms, unsigned int n, uint64_t limit_ns)
{
	struct watchdog *w;

	if (!limit_ns)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->obs = calloc((size_t)n * VMM_MAX_VCPUS, sizeof(*w->obs));
	if (!w->obs) {
		free(w);
		return NULL;
	}
	w->vms = vms;
	w->n = n;
	w->limit_ns = limit_ns;
	/* Four looks per limit: a report comes at most 25% late. */
	w->period_ns = limit_ns / 4;
	if (w->period_ns < 20000000)
		w->period_ns = 20000000;
	if (w->period_ns > 1000000000)
		w->period_ns = 1000000000;
	return w;
}

void watchdog_free(struct watchdog *w)
{
	if (!w)
		return;
	free(w->obs);
	free(w);
}

/*
 * The thread's time runnable but waiting for a host CPU (schedstat field 2)
 * and its state letter: whether the host, not vmm, kept it from running.
 */
static uint64_t thread_delay(int tid, char *state)
{
	unsigned long long run = 0, delay = 0;
	char path[64], buf[512], *p;
	FILE *f;

	*state = '?';
	if (tid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu %llu", &run, &delay) != 2)
			delay = 0;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (f) {
		/* "tid (comm) S ...": the state follows the last ')' */
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] && p[2])
			*state = p[2];
		fclose(f);
	}
	return delay;
}

/* Every thread of the process: how long they were runnable and not run, in all. */
static uint64_t process_delay(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	uint64_t sum = 0;
	char st;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			sum += thread_delay(atoi(e->d_name), &st);
	closedir(d);
	return sum;
}

static enum watchdog_cond classify(struct vcpu *v, const struct sched_view *sv, bool slots,
				   uint64_t now)
{
	int mode = atomic_load(&v->mode);
	uint64_t armed;

	/* Waiting for a SIPI (vcpu_sipi.h) is not running by design. */
	if (sv->exited || mode == VCPU_IN_GUEST || atomic_load(&v->apic.wait_sipi))
		return WD_NONE;
	if (slots && sv->state == SCHED_RUNNABLE && sv->slot < 0)
		return WD_WAIT_SLOT;
	if (mode == VCPU_HALTED) {
		if (apic_pending(&v->apic))
			return WD_HALT_WORK;
		/*
		 * Its LAPIC deadline, not the host timer: that one keeps the last
		 * quantum end it was armed for, long past, while the vCPU rightly
		 * sleeps without a timer (every idle AP was reported).
		 */
		armed = atomic_load_explicit(&v->halt_until_ns, memory_order_relaxed);
		return armed && armed < now ? WD_HALT_OVERDUE : WD_NONE;
	}
	/* A vCPU that halts with nothing to do sleeps in SCHED_HALTED with mode HALTED. */
	return sv->state == SCHED_HALTED ? WD_NONE : WD_OUTSIDE;
}

/* One line per stuck vCPU; the caller prints the VM's state once after them. */
static void report(struct watchdog *w, struct vm *vm, unsigned int i, struct wd_obs *o,
		   uint64_t now)
{
	struct vm_watchdog *d = &vm->watchdog;

	char state;
	uint64_t waited = thread_delay(o->tid, &state) - o->delay0, stuck = now - o->since;
	uint64_t all = process_delay() - o->pdelay0;

	o->reported = true;
	/*
	 * A thread the host kept waiting (nice, CPU hogs) is not a lost wakeup:
	 * say how long it, and all of vmm's threads together, were runnable but
	 * not run meanwhile. More than the episode's length means the host, not
	 * vmm, held the VM up.
	 */
	fprintf(stderr,
		"vmm: watchdog: %s vCPU %u: %s for %.3f s (limit %.3f s); its thread %d is %c, "
		"waited %.3f s for a host CPU, and vmm's threads %.3f s in all%s\n",
		vm->name, i, cond_names[o->cond], (double)stuck / 1e9, (double)w->limit_ns / 1e9,
		o->tid, state, (double)waited / 1e9, (double)all / 1e9,
		waited > stuck / 2 || all > stuck
			? ": the host did not run vmm (CPU contention, nice?)"
			: "");
	if (d->reports < WATCHDOG_MAX_RECORDS)
		d->rec[d->reports] = (struct watchdog_record){ .vcpu = i,
							       .cond = o->cond,
							       .at_ns = now - vm->t_start,
							       .stuck_ns = now - o->since };
	d->reports++;
}

/* Every vCPU's state, to stderr and (the first time) into the JSON's record. */
static void dump(struct vm *vm)
{
	struct vm_watchdog *d = &vm->watchdog;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	sched_dump_vm(stderr, vm);
	if (d->dump || !(f = open_memstream(&buf, &len)))
		return;
	sched_dump_vm(f, vm);
	if (fclose(f) == 0)
		d->dump = buf;
	else
		free(buf);
}

static void check_vm(struct watchdog *w, struct vm *vm, struct wd_obs *obs, uint64_t now)
{
	struct sched_view view[VMM_MAX_VCPUS];
	bool slots = vm->sched && sched_slots(vm->sched);
	unsigned int i, reported = 0;

	sched_view_vm(vm, view);
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpu[i];
		struct wd_obs *o = &obs[i];
		enum watchdog_cond c = classify(v, &view[i], slots, now);
		uint64_t entries = atomic_load_explicit(&v->entries, memory_order_relaxed);

		if (c == WD_NONE || c != o->cond || entries != o->entries) {
			char st;

			*o = (struct wd_obs){
				.cond = c, .since = now, .entries = entries, .tid = view[i].tid
			};
			if (c != WD_NONE) {
				o->delay0 = thread_delay(o->tid, &st);
				o->pdelay0 = process_delay();
			}
			continue;
		}
		if (!o->reported && now - o->since >= w->limit_ns) {
			/* A thread that had not started when the episode began: all its delay
			 * counts. */
			if (!o->tid) {
				o->tid = view[i].tid;
				o->delay0 = 0;
			}
			report(w, vm, i, o, now);
			reported++;
		}
	}
	if (reported)
		dump(vm);
}

uint64_t watchdog_check(struct watchdog *w, uint64_t now)
{
	unsigned int i;

	if (!w)
		return 0;
	for (i = 0; i < w->n; i++)
		if (!vm_ended(&w->vms[i]))
			check_vm(w, &w->vms[i], &w->obs[(size_t)i * VMM_MAX_VCPUS], now);
	return now + w->period_ns;
}
