/* SPDX-License-Identifier: MIT */
/*
 * Log-linear latency histogram (HdrHistogram-like, 3 significant bits):
 * values 0..15 ns have one bucket each; above, every power of two is split
 * into HIST_SUB linear sub-buckets, so a bucket's width is at most 1/8 of
 * its lower bound. Covers 0 ns .. 2^HIST_MAX_POW2 ns (~4.6 minutes); larger
 * values land in the last bucket (max still records them exactly).
 * Not thread-safe: one writer (the owning vCPU thread), merged at the end.
 */
#ifndef VMM_HIST_H
#define VMM_HIST_H

#include <stdint.h>
#include <stdio.h>

#define HIST_SUB_BITS 3
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_MAX_POW2 38
#define HIST_BUCKETS  ((HIST_MAX_POW2 - HIST_SUB_BITS + 1) * HIST_SUB + HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t sum;  /* ns; saturates at UINT64_MAX */
	uint64_t min;  /* ns; UINT64_MAX while empty */
	uint64_t max;  /* ns */
	double sum_sq; /* ns^2, for the standard deviation */
	uint64_t bucket[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t ns);
void hist_merge(struct hist *dst, const struct hist *src);

/* Bucket index of a value, and the [lo, hi] value range of a bucket. */
unsigned int hist_bucket(uint64_t ns);
uint64_t hist_bucket_lo(unsigned int b);
uint64_t hist_bucket_hi(unsigned int b);

/*
 * The value at percentile p (0 < p <= 100): the upper bound of the bucket
 * holding the ceil(p/100 * count)-th smallest sample, clamped to [min, max].
 * 0 when empty.
 */
uint64_t hist_percentile(const struct hist *h, double p);
double hist_mean(const struct hist *h);
/* Sample standard deviation (n - 1); 0 with fewer than two samples. */
double hist_stddev(const struct hist *h);
/*
 * perf stat's "+- x%": the standard deviation of the mean (stddev / sqrt(n))
 * as a percentage of the mean; 0 when undefined.
 */
double hist_rel_stderr(const struct hist *h);

/*
 * ASCII histogram (rtla/bpftrace style): one row per non-empty bucket range,
 * "[lo, hi) count |@@@@@   |", bars scaled to the largest bucket, rows merged
 * so that at most max_rows are printed.
 */
void hist_print_ascii(FILE *out, const struct hist *h, const char *title, unsigned int max_rows);

#endif
