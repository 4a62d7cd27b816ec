// SPDX-License-Identifier: MIT
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KVM_DEV		  "/dev/kvm"
#define CPUID_MAX_ENTRIES 256

/* $VMM_KVM_DEVICE, e.g. a KVM node bind-mounted elsewhere in a container; else /dev/kvm. */
static const char *kvm_dev(void)
{
	const char *d = getenv("VMM_KVM_DEVICE");

	return d && *d ? d : KVM_DEV;
}

struct kvm_cap_req {
	long cap;
	const char *name;
	const char *why;
};

static const struct kvm_cap_req required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest RAM" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "CPUID with x2APIC and TSC-deadline" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "kicking vCPUs between exits" },
	{ KVM_CAP_GET_TSC_KHZ, "KVM_CAP_GET_TSC_KHZ", "guest TSC frequency" },
	{ KVM_CAP_X86_USER_SPACE_MSR, "KVM_CAP_X86_USER_SPACE_MSR", "the userspace x2APIC" },
	{ KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER", "routing x2APIC MSRs to userspace" },
};

int kvm_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && errno == EINTR);
	return r;
}

/* Open the device and make sure it is KVM at the API we speak; -1 with the reason. */
static int kvm_open_dev(char *err, size_t errlen)
{
	const char *dev = kvm_dev();
	int fd = open(dev, O_RDWR | O_CLOEXEC), v;

	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s%s", dev, strerror(errno),
			 errno == EACCES   ? " (add yourself to the kvm group or run as root)"
			 : errno == ENOENT ? " (no KVM on this machine: load kvm_intel/kvm_amd)"
					   : "");
		return -1;
	}
	v = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (v < 0) {
		snprintf(err, errlen, "%s is not a KVM device: KVM_GET_API_VERSION: %s", dev,
			 strerror(errno));
		close(fd);
		return -1;
	}
	if (v != KVM_API_VERSION) {
		snprintf(err, errlen, "%s: KVM API version %d, this vmm needs %d", dev, v,
			 KVM_API_VERSION);
		close(fd);
		return -1;
	}
	return fd;
}

int kvm_available(char *err, size_t errlen)
{
	int fd = kvm_open_dev(err, errlen), vm;

	if (fd < 0)
		return 0;
	/* Present is not usable: a VM must be creatable (no nested virt, no memory...). */
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	if (vm < 0) {
		snprintf(err, errlen, "%s: KVM_CREATE_VM: %s", kvm_dev(), strerror(errno));
		close(fd);
		return 0;
	}
	close(vm);
	close(fd);
	return 1;
}

static int kvm_get_cpuid(struct kvm_host *kvm, char *err, size_t errlen)
{
	struct kvm_cpuid2 *c;

	c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->nent = CPUID_MAX_ENTRIES;
	if (kvm_ioctl(kvm->fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(c);
		return -1;
	}
	kvm->cpuid = c;
	return 0;
}

int kvm_open(struct kvm_host *kvm, char *err, size_t errlen)
{
	size_t i;

	memset(kvm, 0, sizeof(*kvm));
	kvm->fd = kvm_open_dev(err, errlen);
	if (kvm->fd < 0)
		return -1;
	for (i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(kvm->fd, KVM_CHECK_EXTENSION, required_caps[i].cap) > 0)
			continue;
		snprintf(err, errlen, "%s: capability %s is missing (needed for %s)", kvm_dev(),
			 required_caps[i].name, required_caps[i].why);
		goto fail;
	}
	kvm->vcpu_mmap_size = ioctl(kvm->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		goto fail;
	}
	if (kvm_get_cpuid(kvm, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	kvm_close(kvm);
	return -1;
}

void kvm_close(struct kvm_host *kvm)
{
	if (kvm->fd >= 0)
		close(kvm->fd);
	kvm->fd = -1;
	free(kvm->cpuid);
	kvm->cpuid = NULL;
}
