/* SPDX-License-Identifier: MIT */
/* Thin, checked wrappers over /dev/kvm: open, capability checks, VM/vCPU fds. */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <stddef.h>
#include <stdint.h>

struct kvm_cpuid2;

struct kvm_host {
	int fd;			  /* /dev/kvm */
	int vcpu_mmap_size;	  /* size of each vCPU's struct kvm_run mapping */
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, owned */
};

/*
 * Open /dev/kvm and check the API version and every capability the VMM uses.
 * Returns 0, or -1 with one line in err saying what is missing and why.
 */
int kvm_open(struct kvm_host *kvm, char *err, size_t errlen);
void kvm_close(struct kvm_host *kvm);

/* 1 if /dev/kvm can be opened read-write, else 0 with the reason in err. */
int kvm_available(char *err, size_t errlen);

/* ioctl that retries on EINTR (never use for KVM_RUN). Returns ioctl's result. */
int kvm_ioctl(int fd, unsigned long req, void *arg);

#endif
