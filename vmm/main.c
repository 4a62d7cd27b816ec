// SPDX-License-Identifier: MIT
/*
 * vmm: boot every image on the command line as its own VM in this process,
 * wait for all of them to end (guest shutdown, failure, timeout, Ctrl-C),
 * then print the report. A VM that fails stops only itself.
 */
#include "cli.h"
#include "clock.h"
#include "kvm.h"
#include "loader.h"
#include "multiboot.h"
#include "measure/outfile.h"
#include "measure/report.h"
#include "measure/report_replay.h"
#include "measure/trace.h"
#include "sched/scheduler.h"
#include "sched/watchdog.h"
#include "vcpu.h"
#include "vm.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EXIT_VM_FAILED 1
#define EXIT_USAGE     2
#define EXIT_HOST      3

struct image {
	void *buf;
	size_t size;
	struct loader_image img;
	uint64_t ram; /* the VM's RAM: mem=, --mem, or the default for the image's kind */
	void *env;    /* env=FILE's bytes */
	size_t env_len;
};

/* QEMU's default, ample for kvm-unit-tests (their images end near 16.3 MiB). */
#define MULTIBOOT_DEFAULT_MEM (128ull << 20)

/*
 * "hello:foo=1" is read as the path "hello:foo=1" (a path may hold colons);
 * when no such file exists but the part after a colon looks like an image
 * option, the user meant one: name it.
 */
static bool unknown_image_key(const char *path)
{
	const char *c = strrchr(path, ':'), *k;
	char base[4096];

	if (!c || access(path, F_OK) == 0)
		return false;
	for (k = c + 1; *k >= 'a' && *k <= 'z'; k++)
		;
	if (k == c + 1 || *k != '=')
		return false;
	snprintf(base, sizeof(base), "%.*s", (int)(c - path), path);
	fprintf(stderr,
		"vmm: %s: unknown image option '%.*s' (known: vcpus=, mem=, name=, env=, "
		"args=)%s\n",
		path, (int)(k - c - 1), c + 1,
		access(base, F_OK) ? ", and no such file either" : "");
	return true;
}

static int load_error(const char *path, const char *what, const char *err)
{
	fprintf(stderr, "vmm: %s: %s%s%s\n", path, what, err,
		strstr(err, "beyond guest RAM") ? "; give it more with IMAGE:mem=SIZE or --mem"
						: "");
	return -1;
}

/* env=FILE: a multiboot image's environment module, below 1 MiB (multiboot.h). */
static int load_env(const struct vm_spec *s, struct image *im)
{
	char err[256];

	if (!s->env)
		return 0;
	if (im->img.kind != LOADER_MULTIBOOT)
		return load_error(s->path, "",
				  "env= is for multiboot images; this is an ELF64 one (use args=)");
	if (loader_read_file(s->env, &im->env, &im->env_len, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmm: %s: env=%s: %s\n", s->path, s->env, err);
		return -1;
	}
	if (im->env_len > MB_ENV_MAX) {
		fprintf(stderr,
			"vmm: %s: env=%s: %zu bytes, more than the %llu a module may have\n",
			s->path, s->env, im->env_len, (unsigned long long)MB_ENV_MAX);
		return -1;
	}
	return 0;
}

/*
 * Read and validate every image before any VM exists: bad input never
 * half-runs. A multiboot image without mem= or --mem gets QEMU's default RAM.
 */
static int load_images(const struct options *o, struct image *imgs)
{
	char err[256];
	unsigned int i;

	for (i = 0; i < o->nr_vms; i++) {
		const struct vm_spec *s = &o->vms[i];
		struct image *im = &imgs[i];

		if (unknown_image_key(s->path))
			return -1;
		if (loader_read_file(s->path, &im->buf, &im->size, err, sizeof(err)) < 0)
			return load_error(s->path, "", err);
		im->ram = s->mem;
		if (s->mem_default && im->size > EI_CLASS &&
		    ((const unsigned char *)im->buf)[EI_CLASS] == ELFCLASS32 &&
		    im->ram < MULTIBOOT_DEFAULT_MEM)
			im->ram = MULTIBOOT_DEFAULT_MEM;
		if (loader_parse(im->buf, im->size, im->ram, VMM_GUEST_LOAD_MIN, &im->img, err,
				 sizeof(err)) < 0)
			return load_error(s->path, "", err);
		if (load_env(s, im) < 0)
			return -1;
	}
	return 0;
}

/* An output file we could not write at the end would waste the run: try it now. */
static int check_output(const char *opt, const char *path)
{
	char err[PATH_MAX + 128];

	if (!path || outfile_check(path, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "vmm: %s %s: %s\n", opt, path, err);
	return -1;
}

static volatile sig_atomic_t stop_signal;
static int stopped_by; /* the signal that stopped the VMs, if one did */

static void stop_handler(int sig)
{
	stop_signal = sig;
}

/*
 * SIGINT, SIGTERM and SIGHUP (a closed terminal) are blocked in every thread
 * (before any exists) and taken only inside the main thread's ppoll. Not a signalfd: every signal
 * sent to any thread of the process (each kick, each quantum timer) wakes a
 * signalfd's poller, and the main thread would preempt vCPU threads for
 * nothing. `wait` is the mask ppoll sleeps with.
 */
static int block_process_signals(sigset_t *wait)
{
	struct sigaction sa;
	sigset_t set;

	if (vcpu_signals_init() < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		return -1;
	/* A closed stdout must not kill the run before the JSON is written (report.c). */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, wait))
		return -1;
	sigdelset(wait, SIGINT);
	sigdelset(wait, SIGTERM);
	sigdelset(wait, SIGHUP);
	return 0;
}

static void announce_end(struct vm *vm, bool quiet)
{
	if (quiet)
		return;
	fprintf(stderr, "vmm: %s (%s) ended after %.3f s: %s%s%s\n", vm->name, vm->image,
		(double)(vm->t_end - vm->t_start) / 1e9, vm_end_reason_name(vm_end_reason(vm)),
		vm->end_msg[0] ? ": " : "", vm->end_msg);
}

/* Poll timeout until the earliest deadline of a running VM or the watchdog's next look; -1 if none.
 */
static int next_timeout_ms(struct vm *vms, unsigned int n, uint64_t timeout_ns, uint64_t wd_next)
{
	uint64_t now = now_ns(), best = wd_next ? (wd_next > now ? wd_next - now : 0) : UINT64_MAX;
	unsigned int i;

	for (i = 0; timeout_ns && i < n; i++) {
		uint64_t dl = vms[i].t_start + timeout_ns;

		if (vm_ended(&vms[i]))
			continue;
		if (dl <= now)
			return 0;
		if (dl - now < best)
			best = dl - now;
	}
	return best == UINT64_MAX ? -1 : (int)(best / 1000000 + 1);
}

static void handle_signal(int sig, struct vm *vms, unsigned int n)
{
	unsigned int i;

	if (!stopped_by)
		stopped_by = sig;
	fprintf(stderr, "vmm: %s: stopping all VMs, the report follows\n", strsignal(sig));
	for (i = 0; i < n; i++)
		vm_end(&vms[i], VM_END_INTERRUPTED, 0, "interrupted by %s", strsignal(sig));
}

static void wait_for_vms(struct vm *vms, unsigned int n, const struct options *o, int efd,
			 const sigset_t *wait)
{
	bool *announced = calloc(n, sizeof(*announced));
	struct watchdog *wd = watchdog_new(vms, n, o->watchdog_ns);
	uint64_t v, wd_next = wd ? now_ns() : 0;
	unsigned int i, live = n;
	int ms, sig;

	while (live) {
		struct pollfd p = { .fd = efd, .events = POLLIN };
		struct timespec ts;

		if (wd && now_ns() >= wd_next)
			wd_next = watchdog_check(wd, now_ns());
		ms = next_timeout_ms(vms, n, o->timeout_ns, wd_next);
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		if (ppoll(&p, 1, ms < 0 ? NULL : &ts, wait) < 0 && errno != EINTR)
			break;
		if (p.revents & POLLIN)
			(void)!read(efd, &v, sizeof(v));
		sig = stop_signal;
		if (sig) {
			stop_signal = 0;
			handle_signal(sig, vms, n);
		}
		live = 0;
		for (i = 0; i < n; i++) {
			struct vm *vm = &vms[i];

			if (!vm_ended(vm) && o->timeout_ns &&
			    now_ns() >= vm->t_start + o->timeout_ns) {
				sched_dump_vm(stderr, vm);
				vm_end(vm, VM_END_TIMEOUT, 0,
				       "still running after the %.3f s timeout",
				       (double)o->timeout_ns / 1e9);
			}
			if (vm_ended(vm) && atomic_load(&vm->threads_live) == 0) {
				if (announced && !announced[i])
					announce_end(vm, o->quiet);
				if (announced)
					announced[i] = true;
				continue;
			}
			live++;
		}
	}
	free(announced);
	watchdog_free(wd);
}

/*
 * Each slot's home CPU: --slot-cpus LIST, or (auto) the CPUs this process may
 * run on (taskset) in turn; none with --pin or --slot-cpus off. -1 with a
 * one-line reason when LIST names a CPU the process may not use.
 */
static int slot_homes(struct sched_config *c, const struct options *o, const cpu_set_t *allowed)
{
	int cpus[CPU_SETSIZE], n = 0, i;

	for (i = 0; i < (int)SCHED_MAX_SLOTS; i++)
		c->home[i] = -1;
	if (o->pin || (!o->slot_cpus_auto && !o->nr_slot_cpus))
		return 0;
	if (o->nr_slot_cpus) {
		for (i = 0; i < (int)o->nr_slot_cpus; i++) {
			cpus[n++] = o->slot_cpus[i];
			if (!CPU_ISSET(cpus[i], allowed)) {
				fprintf(stderr,
					"vmm: --slot-cpus: host CPU %d is not one this process may "
					"run on (see taskset -p %d)\n",
					cpus[i], (int)getpid());
				return -1;
			}
		}
	} else {
		for (i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, allowed))
				cpus[n++] = i;
	}
	for (i = 0; n && i < (int)c->pcpus; i++)
		c->home[i] = cpus[i % n];
	return 0;
}

/* 0, -1 (usage: the message is printed), or -2 (host: errno). */
static int sched_setup(struct sched *s, const struct options *o)
{
	struct sched_config c = {
		.mode = o->sched_host ? SCHED_MODE_HOST : SCHED_MODE_SLOTS,
		.pcpus = o->pcpus,
		.quantum_ns = o->quantum_ns,
		.policy = o->policy,
		.ipi_window_ns = o->ipi_window_ns,
		.wake_preempt_ns = o->wake_preempt_ns,
		.kick_redirect = o->kick_redirect,
		.redirect_poll_ns = o->kick_redirect_poll ? HALT_POLL_MAX_NS : 0,
	};
	cpu_set_t allowed;
	int usable, e;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return -2;
	usable = CPU_COUNT(&allowed);
	if (!c.pcpus)
		c.pcpus = usable < 1			  ? 1
			  : usable > (int)SCHED_MAX_SLOTS ? SCHED_MAX_SLOTS
							  : (unsigned int)usable;
	if (slot_homes(&c, o, &allowed) < 0)
		return -1;
	c.allowed = allowed;
	if (sched_init(s, &c) < 0)
		return -2;
	e = sched_redirect_start(s);
	if (e) {
		sched_destroy(s);
		errno = e;
		return -2;
	}
	return 0;
}

/*
 * A run a signal stopped, or one that came while the report was being
 * written (the signals stay blocked then, so every file is still completed),
 * exits like a shell's interrupted command: 128 + the signal.
 */
static int final_status(int rc)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	static int late;
	sigset_t pending;
	unsigned int i;

	if (rc == EXIT_HOST)
		return rc;
	if (stopped_by)
		return 128 + stopped_by;
	if (late)
		return 128 + late;
	if (sigpending(&pending) < 0)
		return rc;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (!sigismember(&pending, sigs[i]))
			continue;
		late = sigs[i];
		fprintf(stderr, "vmm: %s while the report was written: the files are complete\n",
			strsignal(late));
		return 128 + late;
	}
	return rc;
}

static int output_failed(int rc)
{
	return rc ? rc : REPORT_EXIT_OUTPUT;
}

/* Text report, then the trace, then the JSON: the JSON's exit code is the process's. */
static int emit_report(struct vm *vms, const struct options *o, uint64_t wall_ns, uint64_t t0,
		       bool slot_tracks)
{
	struct report *r = report_prepare(vms, o->nr_vms, o, wall_ns);
	char err[PATH_MAX + 128];
	int rc;

	if (!r) {
		fprintf(stderr, "vmm: out of memory for the report\n");
		return EXIT_HOST;
	}
	rc = report_text(r);
	if (o->trace &&
	    trace_write(o->trace, vms, o->nr_vms, t0, slot_tracks, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmm: --trace %s: %s\n", o->trace, err);
		rc = output_failed(rc);
	}
	if (!o->json)
		rc = final_status(rc);
	else if (report_json(r, o->json, &rc, final_status) < 0)
		rc = output_failed(rc);
	report_free(r);
	return rc;
}

static int run(const struct options *o, struct image *imgs)
{
	struct vm *vms = calloc(o->nr_vms, sizeof(*vms));
	struct kvm_host kvm;
	struct sched sched;
	int rc = EXIT_HOST, efd = -1, r;
	sigset_t wait;
	unsigned int i, created = 0;
	uint64_t t0;
	char err[256];

	r = block_process_signals(&wait);
	efd = eventfd(0, EFD_CLOEXEC);
	if (!vms || r < 0 || efd < 0) {
		fprintf(stderr, "vmm: host setup failed: %s\n", strerror(errno));
		goto out;
	}
	if (kvm_open(&kvm, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmm: %s\n", err);
		goto out;
	}
	r = sched_setup(&sched, o);
	if (r < 0) {
		if (r == -2)
			fprintf(stderr, "vmm: scheduler setup failed: %s\n", strerror(errno));
		else
			rc = EXIT_USAGE;
		kvm_close(&kvm);
		goto out;
	}
	for (i = 0; i < o->nr_vms; i++) {
		const struct vm_spec *s = &o->vms[i];
		struct vm_config cfg = { .id = i,
					 .path = s->path,
					 .name = s->name,
					 .nr_vcpus = s->vcpus,
					 .ram_size = imgs[i].ram,
					 .args = s->args,
					 .env = imgs[i].env,
					 .env_len = imgs[i].env_len,
					 .quiet = o->quiet,
					 .timed = o->stats,
					 .irqchip_kernel = o->irqchip_kernel,
					 .ipi_fastpath = o->ipi_fastpath,
					 .trace_events = o->trace ? o->trace_events : 0,
					 .pin = o->pin,
					 .wake = o->wake_deferred ? WAKE_DEFERRED : WAKE_DIRECT,
					 .kick_redirect = o->kick_redirect,
					 .halt_poll = o->halt_poll,
					 .sched = &sched };

		created = i + 1; /* a half-created VM is destroyed too */
		if (vm_create(&vms[i], &kvm, &cfg, imgs[i].buf, &imgs[i].img, efd, err,
			      sizeof(err)) < 0) {
			fprintf(stderr, "vmm: vm%u (%s): %s\n", i, s->path, err);
			goto destroy;
		}
	}
	t0 = now_ns();
	for (i = 0; i < o->nr_vms; i++)
		vm_start(&vms[i]);
	wait_for_vms(vms, o->nr_vms, o, efd, &wait);
	for (i = 0; i < o->nr_vms; i++)
		vm_join(&vms[i]);
	sched_finish(&sched);
	rc = emit_report(vms, o, now_ns() - t0, t0, sched_slots(&sched));
destroy:
	for (i = 0; i < created; i++)
		vm_destroy(&vms[i]);
	kvm_close(&kvm);
	sched_destroy(&sched);
out:
	if (efd >= 0)
		close(efd);
	free(vms);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct image *imgs = NULL;
	char err[512];
	int rc = EXIT_USAGE;
	unsigned int i;

	switch (cli_parse(argc, argv, &o, stdout, err, sizeof(err))) {
	case CLI_DONE:
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "vmm: %s\n", err);
		goto out;
	case CLI_REPORT:
		rc = report_replay(&o, stdout, err, sizeof(err)) == 0 ? 0 : EXIT_USAGE;
		if (rc)
			fprintf(stderr, "vmm: %s\n", err);
		cli_free(&o);
		return rc;
	case CLI_RUN:
		break;
	}
	if (check_output("--json", o.json) < 0 || check_output("--trace", o.trace) < 0)
		goto out;
	imgs = calloc(o.nr_vms, sizeof(*imgs));
	if (!imgs || load_images(&o, imgs) < 0)
		goto out;
	rc = run(&o, imgs);
out:
	for (i = 0; imgs && i < o.nr_vms; i++) {
		free(imgs[i].buf);
		free(imgs[i].env);
	}
	free(imgs);
	cli_free(&o);
	return rc;
}
