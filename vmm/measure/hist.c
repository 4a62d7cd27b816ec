// SPDX-License-Identifier: MIT
/*
 * Log-linear latency histogram, see hist.h for the bucket layout.
 *
 * A value v >= 8 with top bit e (2^e <= v < 2^(e+1)) is described by its
 * top HIST_SUB_BITS + 1 bits m = v >> (e - 3), 8 <= m <= 15, and lands in
 * bucket (e - 3) * 8 + m. For e == 3 that is simply v, and forcing bit 3 on
 * before taking the logarithm extends the identity to 0..7, so one formula
 * without branches covers everything below the clamp to the last bucket.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "measure/hist.h"

#define HIST_LAST      (HIST_BUCKETS - 1)
#define HIST_LINEAR    (HIST_SUB * 2) /* values below have a bucket each */
#define HIST_BAR_WIDTH 40

_Static_assert(HIST_BUCKETS == HIST_LINEAR + (HIST_MAX_POW2 - HIST_SUB_BITS) * HIST_SUB,
	       "bucket count does not match the layout");

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned int hist_bucket(uint64_t ns)
{
	unsigned int e = 63 - (unsigned int)__builtin_clzll(ns | HIST_SUB);
	unsigned int shift = e - HIST_SUB_BITS;
	uint64_t b = ((uint64_t)shift << HIST_SUB_BITS) + (ns >> shift);

	return b < HIST_LAST ? (unsigned int)b : HIST_LAST;
}

/* Out-of-range indices are treated as the last bucket. */
uint64_t hist_bucket_lo(unsigned int b)
{
	unsigned int shift;

	if (b > HIST_LAST)
		b = HIST_LAST;
	if (b < HIST_LINEAR)
		return b;
	shift = (b >> HIST_SUB_BITS) - 1;
	return (uint64_t)(HIST_SUB + (b & (HIST_SUB - 1))) << shift;
}

uint64_t hist_bucket_hi(unsigned int b)
{
	if (b >= HIST_LAST)
		return UINT64_MAX; /* the last bucket absorbs everything above */
	return hist_bucket_lo(b + 1) - 1;
}

/* Hot path: runs on every VM exit. */
void hist_record(struct hist *h, uint64_t ns)
{
	h->count++;
	if (__builtin_add_overflow(h->sum, ns, &h->sum))
		h->sum = UINT64_MAX; /* saturate rather than wrap */
	h->min = ns < h->min ? ns : h->min;
	h->max = ns > h->max ? ns : h->max;
	h->sum_sq += (double)ns * (double)ns;
	h->bucket[hist_bucket(ns)]++;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned int b;

	dst->count += src->count;
	if (__builtin_add_overflow(dst->sum, src->sum, &dst->sum))
		dst->sum = UINT64_MAX;
	dst->sum_sq += src->sum_sq;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	for (b = 0; b < HIST_BUCKETS; b++)
		dst->bucket[b] += src->bucket[b];
}

/* 1-based rank of the sample at percentile p, within [1, count]. */
static uint64_t hist_rank(uint64_t count, double p)
{
	double r;

	if (!(p > 0)) /* also catches NaN */
		return 1;
	if (p >= 100)
		return count;
	/* p * count first: exact for integral p, so e.g. p99 of 100 is 99. */
	r = ceil(p * (double)count / 100.0);
	if (r < 1)
		return 1;
	if (r >= (double)count)
		return count;
	return (uint64_t)r;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0, v;
	unsigned int b;

	if (!h->count)
		return 0;
	rank = hist_rank(h->count, p);
	for (b = 0; b < HIST_LAST; b++) {
		seen += h->bucket[b];
		if (seen >= rank)
			break;
	}
	v = hist_bucket_hi(b);
	if (v < h->min)
		return h->min;
	return v > h->max ? h->max : v;
}

double hist_mean(const struct hist *h)
{
	if (!h->count)
		return 0;
	return (double)h->sum / (double)h->count;
}

double hist_stddev(const struct hist *h)
{
	double n = (double)h->count, var;

	if (h->count < 2)
		return 0;
	var = (h->sum_sq - (double)h->sum * (double)h->sum / n) / (n - 1);
	return var > 0 ? sqrt(var) : 0; /* rounding can leave a tiny negative */
}

double hist_rel_stderr(const struct hist *h)
{
	double mean = hist_mean(h);

	if (h->count < 2 || mean <= 0)
		return 0;
	return 100.0 * hist_stddev(h) / sqrt((double)h->count) / mean;
}

/* Three significant digits in the largest unit that keeps the value >= 1. */
static void hist_fmt_ns(char *buf, size_t len, uint64_t ns)
{
	static const char *const units[] = { "ns", "us", "ms", "s" };
	unsigned int u = 0;
	double v = (double)ns;

	if (ns < 1000) {
		snprintf(buf, len, "%" PRIu64 "ns", ns);
		return;
	}
	/* Compare against 999.5 so rounding never prints "1000us". */
	while (u < 3 && v >= 999.5) {
		v /= 1000;
		u++;
	}
	if (v < 9.995)
		snprintf(buf, len, "%.2f%s", v, units[u]);
	else if (v < 99.95)
		snprintf(buf, len, "%.1f%s", v, units[u]);
	else
		snprintf(buf, len, "%.0f%s", v, units[u]);
}

static void hist_print_header(FILE *out, const struct hist *h, const char *title)
{
	char min[32], p50[32], p99[32], max[32];

	if (!h->count) {
		fprintf(out, "%s: count 0\n", title);
		return;
	}
	hist_fmt_ns(min, sizeof(min), h->min);
	hist_fmt_ns(p50, sizeof(p50), hist_percentile(h, 50));
	hist_fmt_ns(p99, sizeof(p99), hist_percentile(h, 99));
	hist_fmt_ns(max, sizeof(max), h->max);
	fprintf(out, "%s: count %" PRIu64 ", min %s, p50 %s, p99 %s, max %s\n", title, h->count,
		min, p50, p99, max);
}

static uint64_t hist_sum_range(const struct hist *h, unsigned int from, unsigned int to)
{
	uint64_t n = 0;

	for (; from <= to; from++)
		n += h->bucket[from];
	return n;
}

/* Buckets [from, to] as one row; the bar is n / peak of HIST_BAR_WIDTH. */
static void hist_print_row(FILE *out, const struct hist *h, unsigned int from, unsigned int to,
			   uint64_t peak)
{
	char lo[32], hi[32], label[80], bar[HIST_BAR_WIDTH + 1];
	uint64_t n = hist_sum_range(h, from, to);
	unsigned int w;

	hist_fmt_ns(lo, sizeof(lo), hist_bucket_lo(from));
	if (to >= HIST_LAST)
		snprintf(hi, sizeof(hi), "...");
	else
		hist_fmt_ns(hi, sizeof(hi), hist_bucket_hi(to) + 1);
	snprintf(label, sizeof(label), "[%s, %s)", lo, hi);

	w = (unsigned int)((double)n * HIST_BAR_WIDTH / (double)peak);
	memset(bar, ' ', HIST_BAR_WIDTH);
	memset(bar, '@', w);
	bar[HIST_BAR_WIDTH] = '\0';
	fprintf(out, "%-18s %10" PRIu64 " |%s|\n", label, n, bar);
}

void hist_print_ascii(FILE *out, const struct hist *h, const char *title, unsigned int max_rows)
{
	unsigned int first = 0, last = HIST_LAST, group, b, end;
	uint64_t peak = 0, n;

	hist_print_header(out, h, title ? title : "hist");
	if (!h->count)
		return;
	while (!h->bucket[first])
		first++;
	while (!h->bucket[last])
		last--;

	/* 0 means no limit; otherwise merge runs of 'group' adjacent buckets. */
	group = 1;
	if (max_rows && last - first + 1 > max_rows)
		group = (last - first + max_rows) / max_rows;

	for (b = first; b <= last; b += group) {
		end = b + group - 1 < last ? b + group - 1 : last;
		n = hist_sum_range(h, b, end);
		if (n > peak)
			peak = n;
	}
	for (b = first; b <= last; b += group) {
		end = b + group - 1 < last ? b + group - 1 : last;
		hist_print_row(out, h, b, end, peak);
	}
}
