/* SPDX-License-Identifier: MIT */
/*
 * What a trace viewer needs of a --trace file, checked: on every track
 * (pid, tid) the complete ("X") slices nest (two either do not overlap or
 * one contains the other), every event has a category, and every flow
 * binds: each flow_in's bind_id has exactly one flow_out slice, no later.
 */
#ifndef TRACE_CHECK_H
#define TRACE_CHECK_H

#include <jansson.h>
#include <stddef.h>

struct trace_counts {
	size_t slices;	  /* X events */
	size_t tracks;	  /* (pid, tid) pairs with slices */
	size_t flows_out; /* X slices with flow_out */
	size_t flows_in;  /* X slices with flow_in, each bound to its flow_out */
};

/* Fails the test (naming `what`, the track and both slices) unless doc is well formed. */
void trace_check(json_t *doc, const char *what, struct trace_counts *out);

#endif
