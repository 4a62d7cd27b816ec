// SPDX-License-Identifier: MIT
/*
 * The invariants of a vmm --json report (docs/json-report.md), each broken
 * one reported as a line "WHERE: KEY VALUE != OTHER VALUE", so that a soak
 * failure says which VM broke which identity by how much without a rerun.
 * The list, and which of these the docs state and which they only imply, is
 * in docs/soak.md; bench/soak checks the same ones in Python (keep the two
 * alike).
 */
#include "soak_check.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef long long ll;

/* A value the report did not have (already reported): comparisons with it are skipped. */
#define NA LLONG_MIN

static const char *const causes[] = { "free", "quantum", "halt", "yield", "preempt" };
#define NR_CAUSES (sizeof(causes) / sizeof(causes[0]))
#define MAX_VCPUS 64 /* per VM (vmm --vcpus) */

struct ck {
	struct soak_failures *f;
	const char *mode;   /* "slots" or "host" */
	const char *policy; /* slots only */
	bool signalled;
	bool timed;
};

static void add(struct ck *c, const char *where, const char *fmt, ...)
{
	struct soak_failures *f = c->f;
	char line[1024];
	size_t len;
	va_list ap;
	int n;

	if (++f->n > SOAK_MAX_LINES)
		return;
	n = snprintf(line, sizeof(line), "%s: ", where);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	len = strlen(line);
	if (f->len + len + 2 > f->cap) {
		size_t cap = (f->cap ? f->cap * 2 : 4096) + len;
		char *t = realloc(f->text, cap);

		if (!t)
			return;
		f->text = t;
		f->cap = cap;
	}
	memcpy(f->text + f->len, line, len);
	f->len += len;
	f->text[f->len++] = '\n';
	f->text[f->len] = 0;
}

void soak_failures_free(struct soak_failures *f)
{
	free(f->text);
	memset(f, 0, sizeof(*f));
}

static ll geti(struct ck *c, json_t *o, const char *key, const char *where)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v)) {
		add(c, where, "%s is missing or not an integer", key);
		return NA;
	}
	return json_integer_value(v);
}

/* -1 missing (reported), else 0 or 1. */
static int getb(struct ck *c, json_t *o, const char *key, const char *where)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v)) {
		add(c, where, "%s is missing or not a boolean", key);
		return -1;
	}
	return json_is_true(v);
}

static const char *gets(struct ck *c, json_t *o, const char *key, const char *where)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s)
		add(c, where, "%s is missing or not a string", key);
	return s;
}

static json_t *geto(struct ck *c, json_t *o, const char *key, const char *where, bool array)
{
	json_t *v = json_object_get(o, key);

	if (array ? !json_is_array(v) : !json_is_object(v)) {
		add(c, where, "%s is missing or not an %s", key, array ? "array" : "object");
		return NULL;
	}
	return v;
}

static void eq(struct ck *c, const char *where, const char *an, ll a, const char *bn, ll b)
{
	if (a != NA && b != NA && a != b)
		add(c, where, "%s %lld != %s %lld", an, a, bn, b);
}

static void le(struct ck *c, const char *where, const char *an, ll a, const char *bn, ll b)
{
	if (a != NA && b != NA && a > b)
		add(c, where, "%s %lld > %s %lld", an, a, bn, b);
}

static ll sum_na(ll a, ll b)
{
	return a == NA || b == NA ? NA : a + b;
}

/* Maps of key -> count, kept as JSON objects: exit keys and event keys. */
static void map_add(json_t *m, const char *key, ll n)
{
	json_t *v = json_object_get(m, key);

	json_object_set_new(m, key, json_integer((v ? json_integer_value(v) : 0) + n));
}

static ll map_get(json_t *m, const char *key)
{
	json_t *v = json_object_get(m, key);

	return v ? json_integer_value(v) : 0;
}

/* A guest's args= string, "iters=20,ple=16": the number after key=, or def. */
static ll arg_int(const char *args, const char *key, ll def)
{
	size_t k = strlen(key);
	const char *p = args;

	while (p && *p) {
		if (!strncmp(p, key, k) && p[k] == '=')
			return strtoll(p + k + 1, NULL, 0);
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return def;
}

static bool arg_is(const char *args, const char *key, const char *value, const char *def)
{
	size_t k = strlen(key), n = strlen(value);
	const char *p = args;

	while (p && *p) {
		if (!strncmp(p, key, k) && p[k] == '=')
			return !strncmp(p + k + 1, value, n) &&
			       (!p[k + 1 + n] || p[k + 1 + n] == ',');
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return !strcmp(value, def);
}

/* min <= p50 <= p99 <= p999 <= max and count*min <= sum <= count*max; returns count. */
static ll check_hist(struct ck *c, const char *where, json_t *h)
{
	static const char *const keys[] = { "count", "sum", "min", "p50", "p99", "p999", "max" };
	json_t *mean;
	double avg;
	ll v[7];
	size_t i;

	for (i = 0; i < 7; i++)
		v[i] = geti(c, h, keys[i], where);
	for (i = 0; i < 7; i++)
		if (v[i] == NA)
			return NA;
	mean = json_object_get(h, "mean");
	if (!v[0]) {
		for (i = 1; i < 7; i++)
			if (v[i])
				add(c, where, "empty histogram with %s %lld", keys[i], v[i]);
		if (json_number_value(mean) != 0)
			add(c, where, "empty histogram with mean %.17g", json_number_value(mean));
		return 0;
	}
	for (i = 2; i < 6; i++)
		le(c, where, keys[i], v[i], keys[i + 1], v[i + 1]);
	le(c, where, "count*min", v[0] * v[2], "sum", v[1]);
	le(c, where, "sum", v[1], "count*max", v[0] * v[6]);
	/* The mean is written so that it reads back exactly: sum/count as a double. */
	avg = (double)v[1] / (double)v[0];
	if (!json_is_number(mean))
		add(c, where, "mean is missing or not a number");
	else if (fabs(json_number_value(mean) - avg) > 1e-9 * fmax(1.0, fabs(avg)))
		add(c, where, "mean %.17g != sum/count %.17g", json_number_value(mean), avg);
	return v[0];
}

/* EXITS: total = the by_key counts, and a timed key's time_ns has as many; counts into m. */
static ll check_exits(struct ck *c, const char *where, json_t *ex, json_t *m)
{
	ll total = geti(c, ex, "total", where), sum = 0, n;
	json_t *by = geto(c, ex, "by_key", where, false), *e, *t;
	char w[256], hw[256];
	const char *k;

	if (!by)
		return total;
	json_object_foreach(by, k, e)
	{
		snprintf(w, sizeof(w), "%s %s", where, k);
		n = geti(c, e, "count", w);
		if (n == NA)
			continue;
		sum += n;
		map_add(m, k, n);
		if (!c->timed)
			continue;
		t = json_object_get(e, "time_ns");
		if (!json_is_object(t)) {
			add(c, w, "time_ns missing in a timed run");
			continue;
		}
		snprintf(hw, sizeof(hw), "%s %s.time_ns", where, k);
		eq(c, w, "count", n, "time_ns.count", check_hist(c, hw, t));
	}
	eq(c, where, "total", total, "sum of by_key counts", sum);
	return total;
}

/* The guest's own result record, against its args and the VMM's counts. */
static void check_results(struct ck *c, const char *where, json_t *vm, json_t *ints, json_t *counts)
{
	const char *image = json_string_value(json_object_get(vm, "image"));
	const char *args = json_string_value(json_object_get(vm, "args"));
	ll vcpus = json_integer_value(json_object_get(vm, "vcpus"));
	ll spins = map_get(counts, "io:spin");
	json_t *r, *f = NULL;
	char w[256];
	size_t i;

	static const char *const known[] = { "hello",	     "lock-hammer", "ebizzy-like",
					     "ipi-pingpong", "ipi-storm",   "timer-storm",
					     "apic-timer",   "spin-notify", "apic-reset",
					     "nmi-storm" };

	for (i = 0; image && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(image, known[i]))
			break;
	if (!image || i == sizeof(known) / sizeof(known[0]))
		return;
	json_array_foreach(json_object_get(vm, "results"), i, r)
	{
		const char *name = json_string_value(json_object_get(r, "name"));

		if (name && !strcmp(name, image)) {
			f = json_object_get(r, "fields");
			break;
		}
	}
	if (!f) {
		add(c, where, "no result record named %s", image);
		return;
	}
	snprintf(w, sizeof(w), "%s result %s", where, image);
#define FLD(k) geti(c, f, k, w)
#define INT(k) json_integer_value(json_object_get(ints, k))
	if (!strcmp(image, "hello")) {
		eq(c, w, "vcpus", FLD("vcpus"), "the VM's vcpus", vcpus);
	} else if (!strcmp(image, "lock-hammer")) {
		ll iters = FLD("iters"), ops = FLD("ops"), every = FLD("ipi_every");

		eq(c, w, "iters", iters, "args iters", arg_int(args, "iters", 100));
		eq(c, w, "vcpus", FLD("vcpus"), "the VM's vcpus", vcpus);
		if (iters != NA && ops != NA) {
			eq(c, w, "ops", ops, "vcpus*iters", vcpus * iters);
			eq(c, w, "counter", FLD("counter"), "ops", ops);
			if (every != NA)
				eq(c, w, "ipis", FLD("ipis"), "vcpus*(iters/ipi_every)",
				   every && vcpus > 1 ? vcpus * (iters / every) : 0);
		}
		eq(c, w, "spin_notifies", FLD("spin_notifies"), "io:spin exits", spins);
	} else if (!strcmp(image, "ebizzy-like")) {
		ll rounds = FLD("rounds");

		eq(c, w, "vcpus", FLD("vcpus"), "the VM's vcpus", vcpus);
		eq(c, w, "rounds", rounds, "args rounds", arg_int(args, "rounds", 100));
		if (rounds != NA) {
			eq(c, w, "ops", FLD("ops"), "vcpus*rounds", vcpus * rounds);
			eq(c, w, "calls", FLD("calls"), "vcpus*(vcpus-1)*rounds",
			   vcpus * (vcpus - 1) * rounds);
		}
		eq(c, w, "spin_notifies", FLD("spin_notifies"), "io:spin exits", spins);
	} else if (!strcmp(image, "ipi-pingpong")) {
		ll rounds = FLD("rounds");
		bool halt = arg_is(args, "wait", "halt", "halt");

		eq(c, w, "rounds", rounds, "args rounds", arg_int(args, "rounds", 200));
		eq(c, w, "halt", FLD("halt"), "wait=halt", halt);
		/* One IPI each way a round, each side waiting for the other: none coalesce. */
		if (rounds != NA) {
			eq(c, w, "2*rounds", 2 * rounds, "ipi_sent", INT("ipi_sent"));
			eq(c, w, "2*rounds", 2 * rounds, "ipi_delivered", INT("ipi_delivered"));
		}
		if (halt)
			eq(c, w, "spin_notifies", FLD("spin_notifies"), "wait=halt's", 0);
	} else if (!strcmp(image, "ipi-storm")) {
		eq(c, w, "vcpus", FLD("vcpus"), "the VM's vcpus", vcpus);
		eq(c, w, "isr_stuck", FLD("isr_stuck"), "expected", 0);
		eq(c, w, "sent", FLD("sent"), "ipi_sent", INT("ipi_sent"));
		eq(c, w, "received", FLD("received"), "ipi_delivered", INT("ipi_delivered"));
		eq(c, w, "ipi_dropped", INT("ipi_dropped"), "expected", 0);
	} else if (!strcmp(image, "timer-storm")) {
		json_t *secs = json_object_get(vm, "seconds");

		le(c, w, "args ticks", arg_int(args, "ticks", 3), "ticks", FLD("ticks"));
		eq(c, w, "iters", FLD("iters"), "args iters", arg_int(args, "iters", 1000));
		/* docs/kicks.md: a periodic timer fires at most every 200 us. */
		if (json_is_number(secs))
			le(c, w, "timer_fired", INT("timer_fired"), "seconds/200us + 2",
			   (ll)(json_number_value(secs) / 200e-6) + 2);
	} else if (!strcmp(image, "apic-timer")) {
		ll ticks = arg_int(args, "ticks", 10);

		eq(c, w, "periodic_ticks", FLD("periodic_ticks"), "args ticks", ticks);
		eq(c, w, "past_deadline_fired", FLD("past_deadline_fired"), "expected", 1);
		/* one-shot x2, the periodic ticks, the deadline and the past deadline */
		le(c, w, "4+ticks", 4 + ticks, "timer_delivered", INT("timer_delivered"));
	} else if (!strcmp(image, "spin-notify")) {
		ll total = FLD("total");

		eq(c, w, "count", FLD("count"), "args count", arg_int(args, "count", 100));
		eq(c, w, "total", total, "vcpus*count", vcpus * arg_int(args, "count", 100));
		eq(c, w, "total", total, "io:spin exits", spins);
	} else if (!strcmp(image, "nmi-storm")) {
		/* The guest's handler count is what was handed to KVM (docs/json-report.md). */
		eq(c, w, "sent", FLD("sent"), "nmi_sent", INT("nmi_sent"));
		eq(c, w, "received", FLD("received"), "nmi_delivered", INT("nmi_delivered"));
	} else if (!strcmp(image, "apic-reset")) {
		eq(c, w, "sent", FLD("sent"), "ipi_sent", INT("ipi_sent"));
		le(c, w, "ipis*rounds", arg_int(args, "ipis", 10) * arg_int(args, "rounds", 3),
		   "received", FLD("received"));
	}
#undef FLD
#undef INT
}

/* What a VM adds to the process-wide sums. */
struct vm_sums {
	ll succ, wp, waits, preempts, total, vcpus;
	json_t *counts, *events; /* key -> count */
};

/* docs/kicks.md "Counting, exactly", and what can only be fewer than what. */
static void check_interrupts(struct ck *c, const char *where, json_t *ints)
{
	static const char *const parts[] = { "ipi_delivered", "ipi_coalesced", "ipi_dropped",
					     "ipi_pending" };
	static const char *const nparts[] = { "nmi_delivered", "nmi_coalesced", "nmi_pending" };
	ll sent = geti(c, ints, "ipi_sent", where), p[4], rhs = 0;
	int bal = getb(c, ints, "ipi_balanced", where);
	ll nsent = geti(c, ints, "nmi_sent", where), np[3], nrhs;
	int nbal;
	ll fired = geti(c, ints, "timer_fired", where);
	ll tdel = geti(c, ints, "timer_delivered", where);
	ll tco = geti(c, ints, "timer_coalesced", where);
	size_t i;

	for (i = 0; i < 4; i++) {
		p[i] = geti(c, ints, parts[i], where);
		rhs = sum_na(rhs, p[i]);
	}
	if (sent != NA && rhs != NA) {
		if (sent != rhs)
			add(c, where,
			    "ipi_sent %lld != %s %lld + %s %lld + %s %lld + %s %lld = %lld", sent,
			    parts[0], p[0], parts[1], p[1], parts[2], p[2], parts[3], p[3], rhs);
		if (bal >= 0 && bal != (sent == rhs))
			add(c, where, "ipi_balanced %s but the counts say %s",
			    bal ? "true" : "false", sent == rhs ? "true" : "false");
	}
	if (bal == 0)
		add(c, where, "ipi_balanced is false");
	le(c, where, "ipi_fastpath_sent", geti(c, ints, "ipi_fastpath_sent", where), "ipi_sent",
	   sent);
	nbal = getb(c, ints, "nmi_balanced", where);
	/* docs/json-report.md INTERRUPTS: nmi_sent = delivered + coalesced + pending */
	for (i = 0, nrhs = 0; i < 3; i++) {
		np[i] = geti(c, ints, nparts[i], where);
		nrhs = sum_na(nrhs, np[i]);
	}
	if (nsent != NA && nrhs != NA) {
		if (nsent != nrhs)
			add(c, where, "nmi_sent %lld != %s %lld + %s %lld + %s %lld = %lld", nsent,
			    nparts[0], np[0], nparts[1], np[1], nparts[2], np[2], nrhs);
		if (nbal >= 0 && nbal != (nsent == nrhs))
			add(c, where, "nmi_balanced %s but the counts say %s",
			    nbal ? "true" : "false", nsent == nrhs ? "true" : "false");
	}
	if (nbal == 0)
		add(c, where, "nmi_balanced is false");
	/* Each expiry counts as fired, then as at most one of coalesced or (later) delivered. */
	le(c, where, "timer_delivered + timer_coalesced", sum_na(tdel, tco), "timer_fired", fired);
}

/* The yield ledger: docs/json-report.md, docs/scheduler.md "The yield ledger". */
/* docs/json-report.md WAKEUPS: each helper path's posted = merged + done + dropped. */
static void check_wakeups(struct ck *c, const char *where, json_t *wk)
{
	static const char *const paths[] = { "deferred", "redirect" };
	char w[192];
	ll posted, rhs;
	json_t *p;
	int bal;

	for (size_t i = 0; i < 2; i++) {
		snprintf(w, sizeof(w), "%s wakeups.%s", where, paths[i]);
		p = geto(c, wk, paths[i], w, false);
		posted = geti(c, p, "posted", w);
		rhs = sum_na(sum_na(geti(c, p, "merged", w), geti(c, p, "done", w)),
			     geti(c, p, "dropped", w));
		bal = getb(c, p, "balanced", w);
		if (posted != NA && rhs != NA && posted != rhs)
			add(c, w, "posted %lld != merged + done + dropped = %lld", posted, rhs);
		if (bal == 0)
			add(c, w, "balanced is false");
	}
	p = geto(c, wk, "halt_poll", where, false);
	le(c, where, "halt_successful_poll", geti(c, p, "halt_successful_poll", where),
	   "halt_attempted_poll", geti(c, p, "halt_attempted_poll", where));
}

static void check_ledger(struct ck *c, const char *where, json_t *led, ll vcpus, int ok,
			 json_t *counts, json_t *events, struct vm_sums *s)
{
	ll spins = geti(c, led, "spin_exits", where), att = geti(c, led, "yield_attempts", where);
	ll succ = geti(c, led, "yield_successes", where);
	ll nocand = geti(c, led, "no_candidate", where), pp = geti(c, led, "ping_pong", where);
	ll top = geti(c, led, "to_preempted", where), tow = geti(c, led, "to_woken", where);
	ll wp = geti(c, led, "wake_preempts", where);
	ll pa = 0, ps = 0, ppp = 0, outs = 0, ins = 0, out_by[MAX_VCPUS] = { 0 },
	   in_by[MAX_VCPUS] = { 0 };
	uint64_t seen[MAX_VCPUS] = { 0 }; /* seen[from] bit to: a pair listed already */
	json_t *tiers, *pairs, *vc, *e;
	bool host = !strcmp(c->mode, "host");
	char w[256];
	size_t i;

	(void)geti(c, led, "wake_preempt_moot", where);
	le(c, where, "yield_successes", succ, "yield_attempts", att);
	eq(c, where, "spin_exits", spins, "io:spin exits", map_get(counts, "io:spin"));
	if (host) {
		eq(c, where, "yield_attempts", att, "--sched host's", 0);
		eq(c, where, "yield_successes", succ, "--sched host's", 0);
		eq(c, where, "no_candidate", nocand, "--sched host's", 0);
		eq(c, where, "wake_preempts", wp, "--sched host's", 0);
	} else {
		/* A spin exit yields to its pick, or found no candidate (3 failed tries too). */
		eq(c, where, "spin_exits", spins, "yield_successes + no_candidate",
		   sum_na(succ, nocand));
	}
	eq(c, where, "to_preempted + to_woken", sum_na(top, tow), "yield_successes", succ);
	if (c->policy && !strcmp(c->policy, "none"))
		eq(c, where, "yield_attempts", att, "policy none's", 0);
	if (c->policy && !strcmp(c->policy, "preempted"))
		eq(c, where, "to_woken", tow, "policy preempted's", 0);

	tiers = geto(c, led, "successes_by_tier", where, true);
	if (tiers) {
		ll t[3] = { 0, 0, 0 };

		for (i = 0; i < 3; i++)
			t[i] = json_is_integer(json_array_get(tiers, i))
				       ? json_integer_value(json_array_get(tiers, i))
				       : NA;
		if (json_array_size(tiers) != 3 || t[0] == NA || t[1] == NA || t[2] == NA) {
			add(c, where, "successes_by_tier is not 3 integers");
		} else if (c->policy && !strcmp(c->policy, "ipi-aware")) {
			snprintf(w, sizeof(w), "sum of successes_by_tier %lld+%lld+%lld", t[0],
				 t[1], t[2]);
			eq(c, where, w, t[0] + t[1] + t[2], "yield_successes", succ);
		} else {
			snprintf(w, sizeof(w), "policy %s's", c->policy ? c->policy : c->mode);
			eq(c, where, "sum of successes_by_tier", t[0] + t[1] + t[2], w, 0);
		}
	}

	pairs = geto(c, led, "pairs", where, true);
	json_array_foreach(pairs, i, e)
	{
		ll fr, to, a, sc, g;

		snprintf(w, sizeof(w), "%s pair %lld->%lld", where,
			 (ll)json_integer_value(json_object_get(e, "from")),
			 (ll)json_integer_value(json_object_get(e, "to")));
		fr = geti(c, e, "from", w);
		to = geti(c, e, "to", w);
		a = geti(c, e, "attempts", w);
		sc = geti(c, e, "successes", w);
		g = geti(c, e, "ping_pong", w);
		if (fr == NA || to == NA || a == NA || sc == NA || g == NA)
			continue;
		if (fr == to || (vcpus != NA && (fr < 0 || fr >= vcpus || to < 0 || to >= vcpus)))
			add(c, w, "not a pair of two of the VM's %lld vCPUs", vcpus);
		if (fr >= 0 && fr < MAX_VCPUS && to >= 0 && to < MAX_VCPUS) {
			if (seen[fr] & (1ull << to))
				add(c, w, "listed twice");
			seen[fr] |= 1ull << to;
			out_by[fr] += sc;
			in_by[to] += sc;
		}
		le(c, w, "successes", sc, "attempts", a);
		le(c, w, "ping_pong", g, "successes", sc);
		pa += a;
		ps += sc;
		ppp += g;
	}
	eq(c, where, "sum of pairs' attempts", pa, "yield_attempts", att);
	eq(c, where, "sum of pairs' successes", ps, "yield_successes", succ);
	eq(c, where, "sum of pairs' ping_pong", ppp, "ping_pong", pp);

	vc = geto(c, led, "vcpus", where, true);
	if (vcpus != NA && vc)
		eq(c, where, "vcpus[] records", (ll)json_array_size(vc), "vcpus", vcpus);
	json_array_foreach(vc, i, e)
	{
		ll o, in, sw, wt, wm, pr;

		snprintf(w, sizeof(w), "%s vcpu %zu", where, i);
		eq(c, w, "id", geti(c, e, "id", w), "index", (ll)i);
		o = geti(c, e, "yields_out", w);
		in = geti(c, e, "yields_in", w);
		sw = geti(c, e, "slot_waits", w);
		wt = geti(c, e, "wait_total_ns", w);
		wm = geti(c, e, "wait_max_ns", w);
		pr = geti(c, e, "preemptions", w);
		le(c, w, "wait_max_ns", wm, "wait_total_ns", wt);
		/* Each yield is counted by the spinner (out) and by its target on the slot (in). */
		if (i < MAX_VCPUS) {
			eq(c, w, "yields_out", o, "its pairs' successes from it", out_by[i]);
			eq(c, w, "yields_in", in, "its pairs' successes to it", in_by[i]);
		}
		/* No starvation: a vCPU of a VM that finished got a slot. */
		if (!host && ok == 1 && sw != NA && sw < 1)
			add(c, w, "slot_waits 0: this vCPU never got a slot, yet its VM finished");
		outs += o == NA ? 0 : o;
		ins += in == NA ? 0 : in;
		s->waits += sw == NA ? 0 : sw;
		s->preempts += pr == NA ? 0 : pr;
	}
	/* Each yield is counted by the spinner (out) and by its target on the slot (in). */
	eq(c, where, "sum of yields_out", outs, "yield_successes", succ);
	eq(c, where, "sum of yields_in", ins, "yield_successes", succ);
	if (c->timed && !host) {
		eq(c, where, "sum of slot_waits", s->waits, "event:slot-wait count",
		   json_object_get(events, "event:slot-wait") ? map_get(events, "event:slot-wait")
							      : NA);
		le(c, where, "event:spin-yield count",
		   json_object_get(events, "event:spin-yield") ? map_get(events, "event:spin-yield")
							       : NA,
		   "sum of yields_in", ins);
	}
	s->succ = succ == NA ? 0 : succ;
	s->wp = wp == NA ? 0 : wp;
}

static void check_vm(struct ck *c, size_t idx, json_t *vm, struct vm_sums *s)
{
	const char *name = json_string_value(json_object_get(vm, "name"));
	const char *image = json_string_value(json_object_get(vm, "image"));
	ll vcpus, status, vsum = 0, t;
	json_t *ints, *vl, *e, *ev, *vkeys = json_object();
	char where[128], w[256], expect[32];
	const char *end, *k;
	int ok;
	size_t i;

	snprintf(where, sizeof(where), "%s (%s)", name ? name : "vm?", image ? image : "?");
	snprintf(expect, sizeof(expect), "vm%zu", idx);
	eq(c, where, "id", geti(c, vm, "id", where), "index", (ll)idx);
	if (name && strcmp(name, expect))
		add(c, where, "name %s != expected %s", name, expect);
	vcpus = geti(c, vm, "vcpus", where);
	ok = getb(c, vm, "ok", where);
	end = gets(c, vm, "end", where);
	status = geti(c, vm, "status", where);
	if (ok >= 0 && end && status != NA) {
		/* docs/json-report.md: ok is "shut down with status 0" */
		if (ok != (!strcmp(end, "shutdown") && status == 0))
			add(c, where, "ok %s but end %s status %lld", ok ? "true" : "false", end,
			    status);
		if (!ok && !(c->signalled && !strcmp(end, "interrupted")))
			add(c, where, "did not complete: end %s status %lld: %s", end, status,
			    json_string_value(json_object_get(vm, "message")));
	}

	/* A vCPU that should have run and did not for --watchdog (10 s) is a stall. */
	t = json_integer_value(json_object_get(json_object_get(vm, "watchdog"), "reports"));
	if (t)
		add(c, where, "watchdog: %lld reports (%s)", t,
		    json_string_value(json_object_get(json_object_get(vm, "watchdog"), "dump"))
			    ?: "");

	snprintf(w, sizeof(w), "%s interrupts", where);
	ints = geto(c, vm, "interrupts", where, false);
	check_interrupts(c, w, ints);
	check_wakeups(c, where, geto(c, vm, "wakeups", where, false));

	/* Exits: the VM's are the sum of its vCPUs'. */
	s->counts = json_object();
	snprintf(w, sizeof(w), "%s exits", where);
	s->total = check_exits(c, w, json_object_get(vm, "exits"), s->counts);
	vl = geto(c, vm, "vcpu", where, true);
	if (vl && vcpus != NA)
		eq(c, where, "vcpu[] records", (ll)json_array_size(vl), "vcpus", vcpus);
	json_array_foreach(vl, i, e)
	{
		snprintf(w, sizeof(w), "%s vcpu %zu", where, i);
		eq(c, w, "id", geti(c, e, "id", w), "index", (ll)i);
		snprintf(w, sizeof(w), "%s vcpu %zu exits", where, i);
		t = check_exits(c, w, json_object_get(e, "exits"), vkeys);
		vsum += t == NA ? 0 : t;
	}
	snprintf(w, sizeof(w), "%s exits", where);
	eq(c, w, "total", s->total, "sum over vcpu[]", vsum);
	json_object_foreach(s->counts, k, e)
	{
		snprintf(w, sizeof(w), "%s exits %s", where, k);
		eq(c, w, "count", json_integer_value(e), "sum over vcpu[]", map_get(vkeys, k));
	}
	json_object_foreach(vkeys, k, e)
	{
		if (json_object_get(s->counts, k))
			continue;
		snprintf(w, sizeof(w), "%s exits %s", where, k);
		eq(c, w, "count", 0, "sum over vcpu[]", json_integer_value(e));
	}
	json_decref(vkeys);

	s->events = json_object();
	json_object_foreach(json_object_get(vm, "events"), k, ev)
	{
		snprintf(w, sizeof(w), "%s %s", where, k);
		t = check_hist(c, w, ev);
		if (t != NA)
			map_add(s->events, k, t);
	}

	if (ok == 1 && end && !strcmp(end, "shutdown"))
		check_results(c, where, vm, ints, s->counts);

	snprintf(w, sizeof(w), "%s sched", where);
	check_ledger(c, w, geto(c, vm, "sched", where, false), vcpus, ok, s->counts, s->events, s);
	s->vcpus = vcpus == NA ? 0 : vcpus;
}

/* README "Exit status": 0 iff every VM is ok; a signal's run is 1 or 128 + the signal. */
static void check_exit_code(struct ck *c, json_t *vms, ll code)
{
	bool all_ok = true, interrupted = false;
	json_t *vm;
	size_t i;

	if (code == NA || !json_array_size(vms))
		return;
	json_array_foreach(vms, i, vm)
	{
		const char *end = json_string_value(json_object_get(vm, "end"));

		all_ok &= json_is_true(json_object_get(vm, "ok"));
		interrupted |= end && !strcmp(end, "interrupted");
	}
	if (all_ok && code != 0 && !c->signalled)
		add(c, "report", "exit_code %lld but every VM is ok", code);
	if (!all_ok && code == 0)
		add(c, "report", "exit_code 0 but a VM failed");
	/* 128 + SIGHUP, SIGINT, SIGTERM */
	if (interrupted && code != 1 && code != 129 && code != 130 && code != 143)
		add(c, "report", "exit_code %lld for an interrupted run (1 or 128+signal)", code);
}

/* The slots: at most P in KVM_RUN, the books of every grant, where the slots' time went. */
static void check_sched(struct ck *c, json_t *s, long pcpus, const struct vm_sums *vs, size_t n,
			json_t *top_events)
{
	ll P = geti(c, s, "pcpus", "sched"), grants = geti(c, s, "grants", "sched");
	ll wall = geti(c, s, "wall_ns", "sched"), g_sum = 0, completed = 0, by_sum = 0;
	ll succ = 0, wp = 0, waits = 0, preempts = 0, vcpus = 0, by[NR_CAUSES];
	json_t *slots = geto(c, s, "slots", "sched", true), *cause, *e;
	char w[128], name[64], by_name[64];
	size_t i;

	for (i = 0; i < n; i++) {
		succ += vs[i].succ;
		wp += vs[i].wp;
		waits += vs[i].waits;
		preempts += vs[i].preempts;
		vcpus += vs[i].vcpus;
	}
	if (!strcmp(c->mode, "host")) {
		eq(c, "sched", "pcpus", P, "--sched host's", 0);
		eq(c, "sched", "slot records", (ll)json_array_size(slots), "--sched host's", 0);
		eq(c, "sched", "grants", grants, "--sched host's", 0);
		return;
	}
	if (pcpus >= 0)
		eq(c, "sched", "pcpus", P, "asked", pcpus);
	/* docs/scheduler.md: never more than P in KVM_RUN; over_limit counts the entries that were
	 */
	le(c, "sched", "max_in_run", geti(c, s, "max_in_run", "sched"), "pcpus", P);
	eq(c, "sched", "over_limit", geti(c, s, "over_limit", "sched"), "expected", 0);
	le(c, "sched", "run_queue_max", geti(c, s, "run_queue_max", "sched"), "vCPUs in all",
	   vcpus);
	if (slots)
		eq(c, "sched", "slot records", (ll)json_array_size(slots), "pcpus", P);
	json_array_foreach(slots, i, e)
	{
		ll g, d, u, own, run, hand, fr;

		snprintf(w, sizeof(w), "sched slot %zu", i);
		eq(c, w, "id", geti(c, e, "id", w), "index", (ll)i);
		g = geti(c, e, "grants", w);
		d = geti(c, e, "completed", w);
		u = geti(c, e, "unused", w);
		own = geti(c, e, "owned_ns", w);
		run = geti(c, e, "run_ns", w);
		hand = geti(c, e, "handoff_ns", w);
		fr = geti(c, e, "free_ns", w);
		if (g == NA || d == NA || u == NA || own == NA || run == NA || hand == NA ||
		    fr == NA)
			continue;
		if (g != d + u)
			add(c, w, "grants %lld != completed %lld + unused %lld = %lld", g, d, u,
			    d + u);
		le(c, w, "run_ns", run, "owned_ns", own);
		le(c, w, "run_ns + handoff_ns", run + hand, "owned_ns", own);
		eq(c, w, "owned_ns + free_ns", own + fr, "wall_ns", wall);
		g_sum += g;
		completed += d;
	}
	eq(c, "sched", "sum of slots' grants", g_sum, "grants", grants);
	cause = geto(c, s, "grants_by_cause", "sched", false);
	for (i = 0; i < NR_CAUSES; i++) {
		by[i] = geti(c, cause, causes[i], "sched grants_by_cause");
		by_sum += by[i] == NA ? 0 : by[i];
	}
	eq(c, "sched", "sum of grants_by_cause", by_sum, "grants", grants);
	eq(c, "sched", "grants_by_cause.yield", by[3], "sum of VMs' yield_successes", succ);
	eq(c, "sched", "grants_by_cause.preempt", by[4], "sum of VMs' wake_preempts", wp);
	/*
	 * Each quantum handoff is one vCPU's preemption, exactly (the soak found
	 * a vCPU of an ended VM counting one more; docs/soak.md).
	 */
	eq(c, "sched", "grants_by_cause.quantum", by[1], "sum of vCPUs' preemptions", preempts);
	le(c, "sched", "completed grants", completed, "sum of vCPUs' slot_waits", waits);
	le(c, "sched", "sum of vCPUs' slot_waits", waits, "grants", grants);
	if (c->timed) {
		ll h = json_object_get(top_events, "event:handoff")
			       ? map_get(top_events, "event:handoff")
			       : NA,
		   parts = 0;

		eq(c, "sched", "event:handoff count", h, "completed grants", completed);
		for (i = 0; i < NR_CAUSES; i++) {
			snprintf(name, sizeof(name), "event:handoff-%s", causes[i]);
			snprintf(w, sizeof(w), "%s count", name);
			snprintf(by_name, sizeof(by_name), "grants_by_cause.%s", causes[i]);
			if (!json_object_get(top_events, name))
				continue;
			parts += map_get(top_events, name);
			le(c, "sched", w, map_get(top_events, name), by_name, by[i]);
		}
		eq(c, "sched", "event:handoff count", h, "sum of event:handoff-<cause>", parts);
	}
}

/*
 * Each key of the VMs' maps (exit keys, or event keys) against the top-level
 * map: an exit key the top lacks counts 0 there, an event it lacks was
 * already reported missing.
 */
static void check_sums(struct ck *c, const char *prefix, json_t *top, const struct vm_sums *vs,
		       size_t n, bool events)
{
	json_t *keys = json_object(), *v;
	const char *k;
	char w[128];
	size_t i;

	json_object_foreach(top, k, v) json_object_set(keys, k, json_true());
	for (i = 0; i < n; i++)
		json_object_foreach(events ? vs[i].events : vs[i].counts, k, v)
			json_object_set(keys, k, json_true());
	json_object_foreach(keys, k, v)
	{
		ll all = 0, mine = json_object_get(top, k) ? map_get(top, k) : events ? NA : 0;

		for (i = 0; i < n; i++)
			all += map_get(events ? vs[i].events : vs[i].counts, k);
		snprintf(w, sizeof(w), "%s%s", prefix, k);
		eq(c, w, "count", mine, "sum over vms[]", all);
	}
	json_decref(keys);
}

unsigned int soak_check(json_t *rep, const struct soak_expect *e, struct soak_failures *f)
{
	struct ck c = { .f = f, .signalled = e->signalled };
	unsigned int before = f->n;
	json_t *vms, *s, *top = json_object(), *tev = json_object(), *x;
	struct vm_sums *sums;
	const char *rmode, *rpol, *k;
	ll code, total, sum = 0;
	size_t i, n;
	char w[128];
	int timed;

	if (!json_is_object(rep)) {
		add(&c, "report", "not a JSON object");
		json_decref(top);
		json_decref(tev);
		return f->n - before;
	}
	eq(&c, "report", "schema", geti(&c, rep, "schema", "report"), "expected", 1);
	code = geti(&c, rep, "exit_code", "report");
	if (e->status >= 0)
		eq(&c, "report", "exit_code", code, "the process's exit status", e->status);
	timed = getb(&c, rep, "timed", "report");
	c.timed = timed == 1;
	vms = geto(&c, rep, "vms", "report", true);
	n = json_array_size(vms);
	if (e->nr_vms >= 0)
		eq(&c, "report", "VMs", (ll)n, "VMs on the command line", e->nr_vms);
	s = geto(&c, rep, "sched", "report", false);
	rmode = gets(&c, s, "mode", "sched");
	c.mode = e->mode ? e->mode : rmode ? rmode : "slots";
	if (rmode && strcmp(rmode, c.mode))
		add(&c, "sched", "mode %s != asked %s", rmode, c.mode);
	rpol = json_string_value(json_object_get(s, "policy"));
	if (!strcmp(c.mode, "slots")) {
		c.policy = e->policy ? e->policy : rpol;
		if (!rpol || (c.policy && strcmp(rpol, c.policy)))
			add(&c, "sched", "policy %s != asked %s", rpol ? rpol : "(none)",
			    c.policy ? c.policy : "?");
	}

	sums = calloc(n ? n : 1, sizeof(*sums));
	json_array_foreach(vms, i, x) check_vm(&c, i, x, &sums[i]);
	check_exit_code(&c, vms, code);

	/* All VMs: the top-level exits and events are the sums of the VMs'. */
	total = check_exits(&c, "report exits", json_object_get(rep, "exits"), top);
	for (i = 0; i < n; i++)
		sum += sums[i].total;
	eq(&c, "report exits", "total", total, "sum over vms[]", sum);
	json_object_foreach(json_object_get(rep, "events"), k, x)
	{
		ll cnt;

		snprintf(w, sizeof(w), "report %s", k);
		cnt = check_hist(&c, w, x);
		if (cnt != NA)
			map_add(tev, k, cnt);
	}
	check_sums(&c, "report exits ", top, sums, n, false);
	check_sums(&c, "report ", tev, sums, n, true);

	check_sched(&c, s, e->pcpus, sums, n, tev);
	for (i = 0; i < n; i++) {
		json_decref(sums[i].counts);
		json_decref(sums[i].events);
	}
	free(sums);
	json_decref(top);
	json_decref(tev);
	return f->n - before;
}
