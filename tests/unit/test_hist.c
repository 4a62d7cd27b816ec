// SPDX-License-Identifier: MIT
/*
 * Unit tests of the latency histogram. References are built independently
 * of hist.c: bucket bounds by accumulating bucket widths, percentiles from
 * a sorted copy of the samples.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/hist.h"

#define LAST	 (HIST_BUCKETS - 1)
#define NSAMPLES 20000

/* Bucket lower bounds from the widths: 1 for 0..15, then doubling every 8. */
static uint64_t ref_lo[HIST_BUCKETS];

static void build_ref_lo(void)
{
	unsigned int b;

	ref_lo[0] = 0;
	for (b = 0; b + 1 < HIST_BUCKETS; b++) {
		uint64_t width = b < 16 ? 1 : (uint64_t)1 << ((b - 16) / 8 + 1);

		ref_lo[b + 1] = ref_lo[b] + width;
	}
}

/* Reference bucket of v: the last bucket whose lower bound is <= v. */
static unsigned int ref_bucket(uint64_t v)
{
	unsigned int lo = 0, hi = LAST;

	while (lo < hi) {
		unsigned int mid = (lo + hi + 1) / 2;

		if (ref_lo[mid] <= v)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* xorshift64*: deterministic per seed, independent of libc rand(). */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static double rng_unit(uint64_t *s)
{
	return (double)((rng_next(s) >> 11) + 1) / 9007199254740993.0; /* (0, 1) */
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

enum dist { DIST_SMALL, DIST_WIDE, DIST_EXP, DIST_LOGNORMAL, DIST_BIMODAL, DIST_CONST, DIST_N };

static uint64_t sample(enum dist d, uint64_t *s)
{
	double u;

	switch (d) {
	case DIST_SMALL:
		return rng_next(s) % 40;
	case DIST_WIDE:
		return rng_next(s) % 1000000000000ull;
	case DIST_EXP:
		return (uint64_t)(-log(rng_unit(s)) * 5000.0);
	case DIST_LOGNORMAL:
		/* Box-Muller normal, exp'ed around ~20us with a wide spread. */
		u = sqrt(-2 * log(rng_unit(s))) * cos(2 * M_PI * rng_unit(s));
		return (uint64_t)exp(10.0 + 2.5 * u);
	case DIST_BIMODAL:
		return rng_next(s) % 8 ? 800 + rng_next(s) % 400 : 2000000 + rng_next(s) % 5000000;
	case DIST_CONST:
		return 123456;
	case DIST_N:
		break;
	}
	return 0;
}

static int setup(void **state)
{
	(void)state;
	build_ref_lo();
	return 0;
}

static void test_bucket_consistency(void **state)
{
	unsigned int b;

	(void)state;
	assert_int_equal(hist_bucket_lo(0), 0);
	assert_true(hist_bucket_hi(LAST) == UINT64_MAX);
	for (b = 0; b < HIST_BUCKETS; b++) {
		uint64_t lo = hist_bucket_lo(b), hi = hist_bucket_hi(b);

		assert_true(lo == ref_lo[b]);
		assert_true(lo <= hi);
		assert_int_equal(hist_bucket(lo), b);
		assert_int_equal(hist_bucket(hi), b);
		if (b + 1 < HIST_BUCKETS)
			assert_true(hi + 1 == hist_bucket_lo(b + 1));
	}
	/* The last regular power of two is 2^HIST_MAX_POW2. */
	assert_true(hist_bucket_lo(LAST) == 15ull << (HIST_MAX_POW2 - HIST_SUB_BITS));
}

static void test_bucket_values(void **state)
{
	static const struct {
		uint64_t v, lo, hi;
	} cases[] = {
		{ 0, 0, 0 },
		{ 1, 1, 1 },
		{ 15, 15, 15 },
		{ 16, 16, 17 },
		{ 17, 16, 17 },
		{ 18, 18, 19 },
		{ 31, 30, 31 },
		{ 32, 32, 35 },
		{ 1000, 960, 1023 },
		{ 1024, 1024, 1151 },
		{ 1ull << 20, 1ull << 20, (1ull << 20) + (1ull << 17) - 1 },
		{ UINT64_MAX, 15ull << 35, UINT64_MAX },
		{ 1ull << 39, 15ull << 35, UINT64_MAX },
		{ (1ull << 39) - 1, 15ull << 35, UINT64_MAX },
	};
	size_t i;

	(void)state;
	assert_int_equal(hist_bucket(0), 0);
	assert_int_equal(hist_bucket(1), 1);
	assert_int_equal(hist_bucket(15), 15);
	assert_int_equal(hist_bucket(16), 16);
	assert_int_equal(hist_bucket(17), 16);
	assert_int_equal(hist_bucket(UINT64_MAX), LAST);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int b = hist_bucket(cases[i].v);

		assert_true(hist_bucket_lo(b) == cases[i].lo);
		assert_true(hist_bucket_hi(b) == cases[i].hi);
	}
}

static void test_bucket_random_vs_reference(void **state)
{
	uint64_t s = 0x9e3779b97f4a7c15ull, v;
	int i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		/* Spread over all magnitudes: random value shifted right randomly. */
		v = rng_next(&s) >> (rng_next(&s) % 64);
		assert_int_equal(hist_bucket(v), ref_bucket(v));
	}
	for (i = 0; i < 64; i++) {
		v = 1ull << i;
		assert_int_equal(hist_bucket(v), ref_bucket(v));
		assert_int_equal(hist_bucket(v - 1), ref_bucket(v - 1));
	}
}

static void test_bucket_relative_width(void **state)
{
	unsigned int b;

	(void)state;
	for (b = 0; b < 16; b++)
		assert_true(hist_bucket_hi(b) == hist_bucket_lo(b));
	for (b = 16; b < LAST; b++) {
		uint64_t width = hist_bucket_hi(b) - hist_bucket_lo(b) + 1;

		assert_true(width * 8 <= hist_bucket_lo(b));
	}
}

static void test_empty(void **state)
{
	struct hist h;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	hist_init(&h);
	assert_int_equal(h.count, 0);
	assert_true(h.min == UINT64_MAX);
	assert_int_equal(h.max, 0);
	assert_int_equal(h.sum, 0);
	assert_int_equal(hist_percentile(&h, 50), 0);
	assert_int_equal(hist_percentile(&h, 100), 0);
	assert_true(hist_mean(&h) == 0.0);

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	hist_print_ascii(f, &h, "empty", 10);
	fclose(f);
	assert_non_null(strstr(buf, "empty"));
	assert_non_null(strstr(buf, "count 0"));
	assert_null(strchr(buf, '@'));
	assert_null(strchr(buf, '['));
	free(buf);
}

static void test_stats(void **state)
{
	static const uint64_t v[] = { 500, 7, 1000000, 42, 3, 999 };
	struct hist h;
	uint64_t sum = 0;
	size_t i;

	(void)state;
	hist_init(&h);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		hist_record(&h, v[i]);
		sum += v[i];
	}
	assert_int_equal(h.count, 6);
	assert_int_equal(h.min, 3);
	assert_int_equal(h.max, 1000000);
	assert_int_equal(h.sum, sum);
	assert_true(fabs(hist_mean(&h) - (double)sum / 6) < 1e-9);
	/* Sum of the buckets equals the count. */
	sum = 0;
	for (i = 0; i < HIST_BUCKETS; i++)
		sum += h.bucket[i];
	assert_int_equal(sum, 6);

	/* Huge values land in the last bucket, max stays exact. */
	hist_record(&h, UINT64_MAX - 1);
	assert_true(h.max == UINT64_MAX - 1);
	assert_int_equal(h.bucket[LAST], 1);
	assert_true(hist_percentile(&h, 100) == UINT64_MAX - 1);
	/* The sum saturates instead of wrapping. */
	assert_true(h.sum == UINT64_MAX);
	hist_record(&h, 1);
	assert_true(h.sum == UINT64_MAX);
}

/*
 * The spread perf prints: 1, 2, 3, 4 ns has sample stddev sqrt(5/3) and a
 * mean of 2.5, so "+- x%" = 100 * sqrt(5/3) / sqrt(4) / 2.5 = 25.82%.
 * Merging two halves gives the same; one sample or none has no spread.
 */
static void test_stddev(void **state)
{
	struct hist a, b;
	uint64_t i;

	(void)state;
	hist_init(&a);
	hist_init(&b);
	assert_true(hist_stddev(&a) == 0 && hist_rel_stderr(&a) == 0);
	hist_record(&a, 7);
	assert_true(hist_stddev(&a) == 0 && hist_rel_stderr(&a) == 0);
	hist_init(&a);
	for (i = 1; i <= 4; i++)
		hist_record(i <= 2 ? &a : &b, i);
	hist_merge(&a, &b);
	assert_true(fabs(hist_stddev(&a) - sqrt(5.0 / 3.0)) < 1e-12);
	assert_true(fabs(hist_rel_stderr(&a) - 100.0 * sqrt(5.0 / 3.0) / 2.0 / 2.5) < 1e-9);
	/* Equal samples: no spread beyond rounding (sum_sq is a double), never a NaN. */
	hist_init(&b);
	for (i = 0; i < 1000; i++)
		hist_record(&b, 123456789);
	assert_true(hist_stddev(&b) < 1e-6 * 123456789);
	assert_false(isnan(hist_rel_stderr(&b)));
}

static void test_percentile_exact(void **state)
{
	struct hist h;
	uint64_t v;

	(void)state;
	hist_init(&h);
	for (v = 1; v <= 100; v++)
		hist_record(&h, v);
	assert_int_equal(hist_percentile(&h, 1), 1);
	assert_int_equal(hist_percentile(&h, 10), 10);
	assert_int_equal(hist_percentile(&h, 15), 15);
	/* 50th is 50, in [48, 51]. */
	assert_int_equal(hist_percentile(&h, 50), 51);
	/* 99th is 99, in [96, 103], clamped to max. */
	assert_int_equal(hist_percentile(&h, 99), 100);
	assert_int_equal(hist_percentile(&h, 100), 100);
	/* 0.5% of 100 rounds up to the first sample. */
	assert_int_equal(hist_percentile(&h, 0.5), 1);

	hist_init(&h);
	hist_record(&h, 1000); /* bucket [960, 1023], clamped to min = max */
	assert_int_equal(hist_percentile(&h, 1), 1000);
	assert_int_equal(hist_percentile(&h, 100), 1000);
}

/*
 * Percentiles given as twice their value (so 99.5 is 199): with integral
 * 2p the reference rank ceil(p/100 * n) is computed exactly in integers.
 */
static const unsigned int pct2[] = { 1, 2, 20, 50, 100, 150, 180, 198, 199, 200 };

static void check_percentiles(const struct hist *h, const uint64_t *sorted, uint64_t n)
{
	size_t i;

	for (i = 0; i < sizeof(pct2) / sizeof(pct2[0]); i++) {
		uint64_t rank = (pct2[i] * n + 199) / 200;
		uint64_t exact = sorted[rank - 1];
		uint64_t got = hist_percentile(h, pct2[i] / 2.0);

		if (got < exact || got > hist_bucket_hi(ref_bucket(exact)))
			fail_msg("p%.1f of %" PRIu64 ": exact %" PRIu64 ", hist %" PRIu64,
				 pct2[i] / 2.0, n, exact, got);
		assert_true(got >= sorted[0] && got <= sorted[n - 1]);
	}
}

static void test_percentile_random(void **state)
{
	static const uint64_t seeds[] = { 1, 42, 0xdeadbeef, 0x123456789abcdefull };
	static const uint64_t sizes[] = { 1, 7, 100, 1000, NSAMPLES };
	uint64_t *v = malloc(NSAMPLES * sizeof(*v));
	struct hist h;
	size_t si, ni;
	uint64_t i, s;
	int d;

	(void)state;
	assert_non_null(v);
	for (d = 0; d < DIST_N; d++) {
		for (si = 0; si < sizeof(seeds) / sizeof(seeds[0]); si++) {
			for (ni = 0; ni < sizeof(sizes) / sizeof(sizes[0]); ni++) {
				s = seeds[si];
				hist_init(&h);
				for (i = 0; i < sizes[ni]; i++) {
					v[i] = sample((enum dist)d, &s);
					hist_record(&h, v[i]);
				}
				qsort(v, sizes[ni], sizeof(*v), cmp_u64);
				assert_true(h.min == v[0]);
				assert_true(h.max == v[sizes[ni] - 1]);
				check_percentiles(&h, v, sizes[ni]);
			}
		}
	}
	free(v);
}

static void test_merge(void **state)
{
	struct hist parts[DIST_N], merged, all, empty;
	uint64_t s = 7;
	int p, i;

	(void)state;
	hist_init(&merged);
	hist_init(&all);
	hist_init(&empty);
	/* Merging an empty histogram into an empty one keeps it empty. */
	hist_merge(&merged, &empty);
	assert_int_equal(merged.count, 0);
	assert_true(merged.min == UINT64_MAX);

	/* Each part gets a different distribution and size. */
	for (p = 0; p < DIST_N; p++) {
		hist_init(&parts[p]);
		for (i = 0; i < 1000 * (p + 1); i++) {
			uint64_t v = sample((enum dist)p, &s);

			hist_record(&parts[p], v);
			hist_record(&all, v);
		}
	}
	for (p = DIST_N - 1; p >= 0; p--) {
		hist_merge(&merged, &parts[p]);
		hist_merge(&merged, &empty); /* no-op */
	}
	assert_int_equal(merged.count, all.count);
	assert_int_equal(merged.sum, all.sum);
	assert_int_equal(merged.min, all.min);
	assert_int_equal(merged.max, all.max);
	assert_memory_equal(merged.bucket, all.bucket, sizeof(all.bucket));
	assert_true(hist_percentile(&merged, 99) == hist_percentile(&all, 99));
}

/* The result, in *buf, must be freed by the caller. */
static void print_to_string(char **buf, const struct hist *h, const char *title, unsigned int rows)
{
	size_t len = 0;
	FILE *f;

	*buf = NULL;
	f = open_memstream(buf, &len);
	assert_non_null(f);
	hist_print_ascii(f, h, title, rows);
	fclose(f);
}

/* Number of lines that are histogram rows, and the sum of their counts. */
static unsigned int parse_rows(const char *buf, uint64_t *total)
{
	unsigned int rows = 0;
	const char *line = buf, *close;

	*total = 0;
	while (line && *line) {
		close = strchr(line, ')');
		if (line[0] == '[' && close && strchr(close, '|')) {
			*total += strtoull(close + 1, NULL, 10);
			rows++;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return rows;
}

static void test_print_ascii(void **state)
{
	struct hist h;
	uint64_t total;
	char *buf, *row;
	int i;

	(void)state;
	hist_init(&h);
	for (i = 0; i < 12; i++)
		hist_record(&h, 1100); /* [1024, 1152) */
	for (i = 0; i < 3; i++)
		hist_record(&h, 1300); /* [1280, 1408) */
	print_to_string(&buf, &h, "exits", 0);

	assert_non_null(strstr(buf, "exits"));
	assert_non_null(strstr(buf, "count 15"));
	assert_non_null(strstr(buf, "min 1.10us"));
	assert_non_null(strstr(buf, "max 1.30us"));
	/* p50 is 1100 in [1024, 1151]; p99 is 1300 in [1280, 1407], clamped to max. */
	assert_non_null(strstr(buf, "p50 1.15us"));
	assert_non_null(strstr(buf, "p99 1.30us"));

	row = strstr(buf, "[1.02us, 1.15us)");
	assert_non_null(row);
	assert_int_equal(strtoull(row + strlen("[1.02us, 1.15us)"), NULL, 10), 12);
	/* The largest bucket gets the full 40-character bar. */
	assert_non_null(strstr(row, "|@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"));

	/* The empty bucket in between is shown, with no bar. */
	row = strstr(buf, "[1.15us, 1.28us)");
	assert_non_null(row);
	assert_int_equal(strtoull(row + strlen("[1.15us, 1.28us)"), NULL, 10), 0);

	row = strstr(buf, "[1.28us, 1.41us)");
	assert_non_null(row);
	assert_int_equal(strtoull(row + strlen("[1.28us, 1.41us)"), NULL, 10), 3);
	/* 3/12 of 40 = 10 characters. */
	assert_non_null(strstr(row, "|@@@@@@@@@@                              |"));

	/* Only first..last non-empty bucket. */
	assert_int_equal(parse_rows(buf, &total), 3);
	assert_int_equal(total, 15);
	free(buf);

	/* Nanosecond buckets print exact, half-open bounds. */
	hist_init(&h);
	hist_record(&h, 20);
	hist_record(&h, 21);
	hist_record(&h, 25);
	print_to_string(&buf, &h, "ns", 0);
	assert_non_null(strstr(buf, "min 20ns"));
	assert_non_null(strstr(buf, "max 25ns"));
	row = strstr(buf, "[20ns, 22ns)");
	assert_non_null(row);
	assert_int_equal(strtoull(row + strlen("[20ns, 22ns)"), NULL, 10), 2);
	assert_non_null(strstr(buf, "[22ns, 24ns)"));
	assert_non_null(strstr(buf, "[24ns, 26ns)"));
	assert_int_equal(parse_rows(buf, &total), 3);
	assert_int_equal(total, 3);
	free(buf);
}

static void test_print_ascii_merge_rows(void **state)
{
	static const unsigned int limits[] = { 1, 3, 5, 10, 24, 1000 };
	uint64_t s = 99, total;
	unsigned int rows, nb, i;
	struct hist h;
	char *buf;

	(void)state;
	hist_init(&h);
	for (i = 0; i < 5000; i++)
		hist_record(&h, 100 + sample(DIST_LOGNORMAL, &s));
	hist_record(&h, 5); /* widen the range to include the linear buckets */
	hist_record(&h, 3ull * 1000000000ull);
	nb = hist_bucket(h.max) - hist_bucket(h.min) + 1;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		print_to_string(&buf, &h, "lat", limits[i]);
		rows = parse_rows(buf, &total);
		assert_true(rows >= 1);
		assert_true(rows <= limits[i]);
		assert_int_equal(total, h.count);
		if (limits[i] >= nb)
			assert_int_equal(rows, nb);
		/* Units: first row starts at 5ns, last row ends in seconds. */
		assert_non_null(strstr(buf, "[5ns, "));
		assert_non_null(strstr(buf, "max 3.00s"));
		free(buf);
	}

	/* Values beyond the covered range print an open upper bound. */
	hist_init(&h);
	hist_record(&h, UINT64_MAX);
	print_to_string(&buf, &h, "huge", 10);
	assert_non_null(strstr(buf, "...)"));
	assert_int_equal(parse_rows(buf, &total), 1);
	assert_int_equal(total, 1);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_consistency),
		cmocka_unit_test(test_bucket_values),
		cmocka_unit_test(test_bucket_random_vs_reference),
		cmocka_unit_test(test_bucket_relative_width),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_stddev),
		cmocka_unit_test(test_percentile_exact),
		cmocka_unit_test(test_percentile_random),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_print_ascii),
		cmocka_unit_test(test_print_ascii_merge_rows),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
