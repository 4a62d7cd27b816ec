/* SPDX-License-Identifier: MIT */
/*
 * Scheduler/interrupt timeline: each vCPU thread appends fixed-size events to
 * its own ring (no locks, no sharing); when the run ends the rings are
 * written as Chrome trace-event JSON, which Perfetto and chrome://tracing
 * open. A ring keeps the newest events: older ones are overwritten and
 * counted as dropped, and the count is reported, never silent.
 */
#ifndef VMM_TRACE_H
#define VMM_TRACE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

enum trace_type {
	TR_RUN,	       /* entering KVM_RUN */
	TR_EXIT,       /* KVM_RUN returned; a = exit key */
	TR_HALT,       /* halted, sleeping until an interrupt */
	TR_WAKE,       /* halt over */
	TR_IPI_SEND,   /* a = flow id, b = target vCPU, c = vector */
	TR_IPI_INJECT, /* a = flow id, c = vector */
	TR_SPIN,       /* spin notification exit */
	TR_RUNNABLE,   /* waiting for a pCPU slot */
	TR_SLOT_IN,    /* got pCPU slot b */
	TR_SLOT_OUT,   /* gave pCPU slot b up */
	TR_YIELD,      /* directed yield: a = target vCPU, c = policy tier */
};

struct trace_event {
	uint64_t ts; /* CLOCK_MONOTONIC ns */
	uint32_t a;
	uint16_t b;
	uint8_t c;
	uint8_t type;
};

struct trace_ring {
	struct trace_event *ev; /* NULL: tracing off */
	uint64_t mask;
	uint64_t head; /* events ever written */
};

#define TRACE_DEFAULT_EVENTS 16384u

/* size is rounded up to a power of two. 0 or -1 (out of memory). */
int trace_ring_init(struct trace_ring *r, uint32_t size);
void trace_ring_free(struct trace_ring *r);
uint64_t trace_ring_dropped(const struct trace_ring *r);

void trace_emit_at(struct trace_ring *r, uint64_t ts, enum trace_type t, uint32_t a, uint16_t b,
		   uint8_t c);

static inline void trace_emit(struct trace_ring *r, uint64_t ts, enum trace_type t, uint32_t a,
			      uint16_t b, uint8_t c)
{
	if (r->ev)
		trace_emit_at(r, ts, t, a, b, c);
}

/*
 * Write the rings of every vCPU of every VM (all threads joined) to path.
 * t0 is the time zero of the timeline. 0, or -1 with the reason in err.
 */
int trace_write(const char *path, struct vm *vms, unsigned int n, uint64_t t0, bool slot_tracks,
		char *err, size_t errlen);

#endif
