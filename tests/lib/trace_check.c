// SPDX-License-Identifier: MIT
#include "trace_check.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

/* Timestamps are microseconds with ns digits: allow a rounding error well below 1 ns. */
#define EPS 0.0001

struct slice {
	json_int_t pid, tid;
	double ts, end;
	const char *name;
};

static int by_track_time(const void *a, const void *b)
{
	const struct slice *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	/* The longer first: a parent before the children that start with it. */
	return x->end > y->end ? -1 : x->end < y->end ? 1 : 0;
}

static void check_nesting(struct slice *s, size_t n, const char *what, struct trace_counts *c)
{
	struct slice *stack[64];
	size_t i, depth = 0;

	qsort(s, n, sizeof(*s), by_track_time);
	for (i = 0; i < n; i++) {
		if (i == 0 || s[i].pid != s[i - 1].pid || s[i].tid != s[i - 1].tid) {
			depth = 0;
			c->tracks++;
		}
		while (depth && stack[depth - 1]->end <= s[i].ts + EPS)
			depth--;
		if (depth && s[i].end > stack[depth - 1]->end + EPS)
			fail_msg("%s: track pid %lld tid %lld: '%s' [%.3f, %.3f] us overlaps '%s' "
				 "[%.3f, %.3f] us without nesting",
				 what, (long long)s[i].pid, (long long)s[i].tid, s[i].name, s[i].ts,
				 s[i].end, stack[depth - 1]->name, stack[depth - 1]->ts,
				 stack[depth - 1]->end);
		if (depth < 64)
			stack[depth++] = &s[i];
	}
}

struct flow {
	json_int_t id;
	double ts;
	bool out;
};

static int by_id(const void *a, const void *b)
{
	const struct flow *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->out == y->out ? 0 : x->out ? -1 : 1; /* the start first */
}

static void check_flows(struct flow *f, size_t n, const char *what, struct trace_counts *c)
{
	size_t i;

	qsort(f, n, sizeof(*f), by_id);
	for (i = 0; i < n; i++) {
		if (f[i].out) {
			if (i + 1 < n && f[i + 1].id == f[i].id && f[i + 1].out)
				fail_msg("%s: flow %lld starts twice", what, (long long)f[i].id);
			c->flows_out++;
			continue;
		}
		if (i == 0 || f[i - 1].id != f[i].id || !f[i - 1].out)
			fail_msg("%s: flow %lld ends at %.3f us but never starts", what,
				 (long long)f[i].id, f[i].ts);
		if (f[i - 1].ts > f[i].ts + EPS)
			fail_msg("%s: flow %lld ends at %.3f us before it starts at %.3f us", what,
				 (long long)f[i].id, f[i].ts, f[i - 1].ts);
		c->flows_in++;
	}
}

void trace_check(json_t *doc, const char *what, struct trace_counts *out)
{
	json_t *ev = json_object_get(doc, "traceEvents"), *e;
	size_t n = json_array_size(ev), ns = 0, nf = 0, i;
	struct slice *s = calloc(n + 1, sizeof(*s));
	struct flow *f = calloc(n + 1, sizeof(*f));
	struct trace_counts c = { 0 };

	assert_non_null(s);
	assert_non_null(f);
	json_array_foreach(ev, i, e)
	{
		const char *ph = json_string_value(json_object_get(e, "ph"));
		const char *name = json_string_value(json_object_get(e, "name"));
		double ts = json_number_value(json_object_get(e, "ts"));

		if (!ph || !name)
			fail_msg("%s: event %zu has no ph or name", what, i);
		if (strcmp(ph, "M") && !json_string_value(json_object_get(e, "cat")))
			fail_msg("%s: event %zu ('%s') has no category", what, i, name);
		if (strcmp(ph, "X"))
			continue;
		s[ns++] = (struct slice){ .pid = json_integer_value(json_object_get(e, "pid")),
					  .tid = json_integer_value(json_object_get(e, "tid")),
					  .ts = ts,
					  .end = ts + json_number_value(json_object_get(e, "dur")),
					  .name = name };
		if (json_is_true(json_object_get(e, "flow_out")) ||
		    json_is_true(json_object_get(e, "flow_in")))
			f[nf++] = (struct flow){
				.id = json_integer_value(json_object_get(e, "bind_id")),
				.ts = ts,
				.out = json_is_true(json_object_get(e, "flow_out")),
			};
	}
	c.slices = ns;
	check_nesting(s, ns, what, &c);
	check_flows(f, nf, what, &c);
	free(s);
	free(f);
	if (out)
		*out = c;
}
