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
#include "measure/report.h"
#include "sched/scheduler.h"
#include "measure/trace.h"
#include "vcpu.h"
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define EXIT_VM_FAILED 1
#define EXIT_USAGE     2
#define EXIT_HOST      3

struct image {
	void *buf;
	size_t size;
	struct loader_image img;
};

/* Read and validate every image before any VM exists: bad input never half-runs. */
static int load_images(const struct options *o, struct image *imgs)
{
	char err[256];
	unsigned int i;

	for (i = 0; i < o->nr_vms; i++) {
		const struct vm_spec *s = &o->vms[i];

		if (loader_read_file(s->path, &imgs[i].buf, &imgs[i].size, err, sizeof(err)) < 0 ||
		    loader_parse(imgs[i].buf, imgs[i].size, s->mem, VMM_GUEST_LOAD_MIN,
				 &imgs[i].img, err, sizeof(err)) < 0) {
			fprintf(stderr, "vmm: %s: %s\n", s->path, err);
			return -1;
		}
	}
	return 0;
}

/* An output file we could not write at the end would waste the run: try its directory now. */
static int check_output(const char *opt, const char *path)
{
	char tmp[4096];
	int fd;

	if (!path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EEXIST) {
		fprintf(stderr, "vmm: %s %s: cannot write: %s\n", opt, path, strerror(errno));
		return -1;
	}
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	return 0;
}

static int block_process_signals(void)
{
	sigset_t set;

	if (vcpu_signals_init() < 0)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* Blocked before any thread exists, so only the signalfd sees them. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static void announce_end(struct vm *vm, bool quiet)
{
	if (quiet)
		return;
	fprintf(stderr, "vmm: %s (%s) ended after %.3f s: %s%s%s\n", vm->name, vm->image,
		(double)(vm->t_end - vm->t_start) / 1e9, vm_end_reason_name(vm_end_reason(vm)),
		vm->end_msg[0] ? ": " : "", vm->end_msg);
}

/* Poll timeout until the earliest deadline of a running VM; -1 if none. */
static int next_timeout_ms(struct vm *vms, unsigned int n, uint64_t timeout_ns)
{
	uint64_t now = now_ns(), best = UINT64_MAX;
	unsigned int i;

	if (!timeout_ns)
		return -1;
	for (i = 0; i < n; i++) {
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

static void handle_signal(int sfd, struct vm *vms, unsigned int n)
{
	struct signalfd_siginfo si;
	unsigned int i;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return;
	fprintf(stderr, "vmm: %s: stopping all VMs, the report follows\n",
		strsignal((int)si.ssi_signo));
	for (i = 0; i < n; i++)
		vm_end(&vms[i], VM_END_INTERRUPTED, 0, "interrupted by %s",
		       strsignal((int)si.ssi_signo));
}

static void wait_for_vms(struct vm *vms, unsigned int n, const struct options *o, int efd, int sfd)
{
	bool *announced = calloc(n, sizeof(*announced));
	unsigned int i, live = n;
	uint64_t v;

	while (live) {
		struct pollfd p[2] = { { .fd = efd, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };

		if (poll(p, 2, next_timeout_ms(vms, n, o->timeout_ns)) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			(void)!read(efd, &v, sizeof(v));
		if (p[1].revents & POLLIN)
			handle_signal(sfd, vms, n);
		live = 0;
		for (i = 0; i < n; i++) {
			struct vm *vm = &vms[i];

			if (!vm_ended(vm) && o->timeout_ns &&
			    now_ns() >= vm->t_start + o->timeout_ns)
				vm_end(vm, VM_END_TIMEOUT, 0,
				       "still running after the %.3f s timeout",
				       (double)o->timeout_ns / 1e9);
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
}

static int sched_setup(struct sched *s, const struct options *o)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	struct sched_config c = {
		.mode = o->sched_host ? SCHED_MODE_HOST : SCHED_MODE_SLOTS,
		.pcpus = o->pcpus,
		.quantum_ns = o->quantum_ns,
		.policy = o->policy,
		.ipi_window_ns = o->ipi_window_ns,
	};

	if (!c.pcpus)
		c.pcpus = online < 1		     ? 1
			  : online > SCHED_MAX_SLOTS ? SCHED_MAX_SLOTS
						     : (unsigned int)online;
	return sched_init(s, &c);
}

static int run(const struct options *o, struct image *imgs)
{
	struct vm *vms = calloc(o->nr_vms, sizeof(*vms));
	struct kvm_host kvm;
	struct sched sched;
	int rc = EXIT_HOST, efd = -1, sfd;
	unsigned int i, created = 0;
	uint64_t t0;
	char err[256];

	sfd = block_process_signals();
	efd = eventfd(0, EFD_CLOEXEC);
	if (!vms || sfd < 0 || efd < 0) {
		fprintf(stderr, "vmm: host setup failed: %s\n", strerror(errno));
		goto out;
	}
	if (kvm_open(&kvm, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmm: %s\n", err);
		goto out;
	}
	if (sched_setup(&sched, o) < 0) {
		fprintf(stderr, "vmm: scheduler setup failed: %s\n", strerror(errno));
		kvm_close(&kvm);
		goto out;
	}
	for (i = 0; i < o->nr_vms; i++) {
		const struct vm_spec *s = &o->vms[i];
		struct vm_config cfg = { .id = i,
					 .path = s->path,
					 .nr_vcpus = s->vcpus,
					 .ram_size = s->mem,
					 .args = s->args,
					 .quiet = o->quiet,
					 .timed = o->stats,
					 .irqchip_kernel = o->irqchip_kernel,
					 .ipi_fastpath = o->ipi_fastpath,
					 .trace_events = o->trace ? o->trace_events : 0,
					 .pin = o->pin,
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
	wait_for_vms(vms, o->nr_vms, o, efd, sfd);
	for (i = 0; i < o->nr_vms; i++)
		vm_join(&vms[i]);
	rc = report_emit(vms, o->nr_vms, o, now_ns() - t0);
	if (o->trace &&
	    trace_write(o->trace, vms, o->nr_vms, t0, sched_slots(&sched), err, sizeof(err)) < 0) {
		fprintf(stderr, "vmm: --trace %s: %s\n", o->trace, err);
		rc = EXIT_HOST;
	}
destroy:
	for (i = 0; i < created; i++)
		vm_destroy(&vms[i]);
	kvm_close(&kvm);
	sched_destroy(&sched);
out:
	if (efd >= 0)
		close(efd);
	if (sfd >= 0)
		close(sfd);
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
	for (i = 0; imgs && i < o.nr_vms; i++)
		free(imgs[i].buf);
	free(imgs);
	cli_free(&o);
	return rc;
}
