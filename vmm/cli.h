/* SPDX-License-Identifier: MIT */
/* Command line: options, image specs (IMAGE[:vcpus=N][:mem=SIZE][:env=FILE][:args=STRING]), units.
 */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include "sched/halt_poll.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_MAX_HIST 8
#define CLI_MAX_CPUS 256 /* host CPU numbers --slot-cpus takes */

struct policy;

struct vm_spec {
	char *path;
	unsigned int vcpus; /* 0: the --vcpus default */
	uint64_t mem;	    /* 0: the --mem default */
	bool mem_default;   /* neither mem= nor --mem given: the image may need more */
	char *args;	    /* NULL: none */
	char *env;	    /* env=FILE: NULL: none (multiboot images: the environment module) */
	char name[16];	    /* "": vm<index> */
};

/* perf kvm stat report --key: sample, time (= average time), max, min. */
enum report_sort { SORT_SAMPLES, SORT_TIME, SORT_MAX, SORT_MIN };

/* --event: which exits the tables show, as perf kvm stat --event=vmexit|ioport. */
enum report_class { CLASS_ALL, CLASS_IO, CLASS_MSR };

struct options {
	unsigned int vcpus;
	uint64_t mem;
	bool mem_set;	      /* --mem was given */
	uint64_t timeout_ns;  /* 0: none */
	uint64_t watchdog_ns; /* 0: off */
	const char *json;
	const char *trace;	   /* --trace FILE */
	unsigned int trace_events; /* per-vCPU ring size */
	bool quiet;
	bool stats;
	bool irqchip_kernel;
	bool ipi_fastpath;
	bool wake_deferred;		   /* --wake deferred */
	bool kick_redirect;		   /* --kick-redirect on or poll */
	bool kick_redirect_poll;	   /* --kick-redirect poll: the idle slots' helpers poll */
	struct halt_poll_config halt_poll; /* --halt-poll */
	bool pin;			   /* vCPU i of every VM on host CPU i mod online CPUs */
	bool sched_host;    /* --sched host: no slots, Linux schedules the vCPU threads */
	unsigned int pcpus; /* --pcpus, 0: online CPUs */
	uint64_t quantum_ns;
	const struct policy *policy;
	uint64_t ipi_window_ns;
	uint64_t wake_preempt_ns; /* 0: off */
	bool slot_cpus_auto;	  /* --slot-cpus auto (default) */
	uint8_t slot_cpus[256];	  /* --slot-cpus LIST; none and not auto: off */
	unsigned int nr_slot_cpus;
	unsigned int sched_opts_set; /* bit (option - OPT_SCHED) per slot option given */
	bool report_vm;		     /* an exit table per VM */
	bool report_vcpu;	     /* an exit table per vCPU */
	const char *sel_vm;	     /* --vm NAME|INDEX: tables and --hist of that VM only */
	int sel_vm_index;	     /* resolved; -1: every VM */
	int sel_vcpu;		     /* --vcpu N: of vCPU N only; -1: every vCPU */
	enum report_sort sort;
	enum report_class event_class;
	const char *hist[CLI_MAX_HIST];
	unsigned int nr_hist;
	struct vm_spec *vms;
	unsigned int nr_vms;
	int argc; /* as given, for the JSON's run record */
	char **argv;
	const char *report_file; /* vmm report FILE.json: re-render, run nothing */
};

enum cli_result { CLI_RUN, CLI_DONE, CLI_ERROR, CLI_REPORT };

/*
 * Parse argv. CLI_RUN: run the VMs in o. CLI_DONE: --help or --version was
 * printed to out. CLI_ERROR: a one-line reason naming the option or image is
 * in err (without the "vmm: " prefix).
 */
enum cli_result cli_parse(int argc, char **argv, struct options *o, FILE *out, char *err,
			  size_t errlen);
void cli_free(struct options *o);
void cli_usage(FILE *out);

/* "16M", "16MiB", "512k", "1G", "4096": bytes. 0 or -1 (bad syntax or overflow). */
int parse_size(const char *s, uint64_t *bytes);
/* "10" or "10s", "1.5s", "500ms", "100us", "2m": ns. 0 or -1. */
int parse_duration(const char *s, uint64_t *ns);
/* "0,2-3": up to max CPU numbers below CLI_MAX_CPUS into cpus, count in n. 0 or -1. */
int parse_cpu_list(const char *s, uint8_t *cpus, unsigned int max, unsigned int *n);
/* A decimal integer in [min, max]. 0 or -1. */
int parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *v);
/* One IMAGE[:key=value...] argument. 0, or -1 with the reason in err. */
int parse_image_spec(const char *arg, struct vm_spec *spec, char *err, size_t errlen);

/*
 * Resolve --vm (a name, or an index) and check --vcpu against n VMs named
 * names[] with vcpus[] vCPUs: the run's command line, or a saved report.
 */
int cli_select(struct options *o, const char *const *names, const unsigned int *vcpus,
	       unsigned int n, char *err, size_t errlen);

#endif
