// SPDX-License-Identifier: MIT
/*
 * Unit tests of the streaming JSON writer: every document is written into a
 * memstream and parsed back with jansson, an independent parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Our writer is jw_*; jansson (json_*) parses what it wrote. */
#include <jansson.h>

#include "measure/json.h"

#define FFFD "\xef\xbf\xbd"

struct doc {
	char *buf;
	size_t len;
	FILE *f;
	struct jw j;
};

static void doc_open(struct doc *d)
{
	d->buf = NULL;
	d->len = 0;
	d->f = open_memstream(&d->buf, &d->len);
	assert_non_null(d->f);
	jw_init(&d->j, d->f);
}

/* Returns jw_finish()'s result; d->buf holds the text afterwards. */
static int doc_close(struct doc *d)
{
	int rc = jw_finish(&d->j);

	fclose(d->f);
	return rc;
}

static json_t *parse(const struct doc *d, size_t flags)
{
	json_error_t err;
	json_t *v = json_loadb(d->buf, d->len, flags, &err);

	if (!v)
		fail_msg("jansson: %s (line %d col %d) in:\n%s", err.text, err.line, err.column,
			 d->buf);
	return v;
}

/* Writes one string value as the whole document and parses it back. */
static json_t *roundtrip_string(const char *s, size_t len, struct doc *d)
{
	json_t *v;

	doc_open(d);
	jw_stringn(&d->j, s, len);
	assert_int_equal(doc_close(d), 0);
	v = parse(d, JSON_DECODE_ANY | JSON_ALLOW_NUL);
	assert_true(json_is_string(v));
	return v;
}

static void assert_string_roundtrip(const char *in, size_t in_len, const char *want,
				    size_t want_len)
{
	struct doc d;
	json_t *v = roundtrip_string(in, in_len, &d);

	assert_int_equal(json_string_length(v), want_len);
	assert_memory_equal(json_string_value(v), want, want_len);
	json_decref(v);
	free(d.buf);
}

static void test_nested_document(void **state)
{
	json_t *root, *list, *deep, *o;
	struct doc d;
	int i;

	(void)state;
	doc_open(&d);
	jw_begin_object(&d.j);
	jw_key(&d.j, "name");
	jw_string(&d.j, "vmexit");
	jw_key(&d.j, "count");
	jw_u64(&d.j, 1234567890123ull);
	jw_key(&d.j, "delta");
	jw_i64(&d.j, -42);
	jw_key(&d.j, "ratio");
	jw_double(&d.j, 0.75);
	jw_key(&d.j, "ok");
	jw_bool(&d.j, true);
	jw_key(&d.j, "nothing");
	jw_null(&d.j);
	jw_key(&d.j, "list");
	jw_begin_array(&d.j);
	jw_u64(&d.j, 1);
	jw_string(&d.j, "two");
	jw_double(&d.j, 3.5);
	jw_bool(&d.j, false);
	jw_null(&d.j);
	jw_begin_object(&d.j);
	jw_end_object(&d.j);
	jw_begin_array(&d.j);
	jw_end_array(&d.j);
	jw_end_array(&d.j);
	jw_key(&d.j, "deep");
	jw_begin_object(&d.j);
	jw_key(&d.j, "a");
	for (i = 0; i < 5; i++)
		jw_begin_array(&d.j);
	jw_i64(&d.j, 7);
	for (i = 0; i < 5; i++)
		jw_end_array(&d.j);
	jw_end_object(&d.j);
	jw_key(&d.j, "vcpus");
	jw_begin_array(&d.j);
	for (i = 0; i < 3; i++) {
		jw_begin_object(&d.j);
		jw_kv_i64(&d.j, "id", i);
		jw_kv_string(&d.j, "state", i == 1 ? "halted" : "running");
		jw_end_object(&d.j);
	}
	jw_end_array(&d.j);
	jw_end_object(&d.j);
	assert_int_equal(doc_close(&d), 0);

	root = parse(&d, 0);
	assert_true(json_is_object(root));
	assert_int_equal(json_object_size(root), 9);
	assert_string_equal(json_string_value(json_object_get(root, "name")), "vmexit");
	assert_int_equal(json_integer_value(json_object_get(root, "count")), 1234567890123ll);
	assert_int_equal(json_integer_value(json_object_get(root, "delta")), -42);
	assert_true(json_real_value(json_object_get(root, "ratio")) == 0.75);
	assert_true(json_is_true(json_object_get(root, "ok")));
	assert_true(json_is_null(json_object_get(root, "nothing")));

	list = json_object_get(root, "list");
	assert_true(json_is_array(list));
	assert_int_equal(json_array_size(list), 7);
	assert_int_equal(json_integer_value(json_array_get(list, 0)), 1);
	assert_string_equal(json_string_value(json_array_get(list, 1)), "two");
	assert_true(json_real_value(json_array_get(list, 2)) == 3.5);
	assert_true(json_is_false(json_array_get(list, 3)));
	assert_true(json_is_null(json_array_get(list, 4)));
	assert_true(json_is_object(json_array_get(list, 5)));
	assert_int_equal(json_object_size(json_array_get(list, 5)), 0);
	assert_true(json_is_array(json_array_get(list, 6)));
	assert_int_equal(json_array_size(json_array_get(list, 6)), 0);

	deep = json_object_get(json_object_get(root, "deep"), "a");
	for (i = 0; i < 4; i++) {
		assert_true(json_is_array(deep));
		assert_int_equal(json_array_size(deep), 1);
		deep = json_array_get(deep, 0);
	}
	assert_int_equal(json_integer_value(json_array_get(deep, 0)), 7);

	list = json_object_get(root, "vcpus");
	assert_int_equal(json_array_size(list), 3);
	for (i = 0; i < 3; i++) {
		o = json_array_get(list, (size_t)i);
		assert_int_equal(json_integer_value(json_object_get(o, "id")), i);
		assert_string_equal(json_string_value(json_object_get(o, "state")),
				    i == 1 ? "halted" : "running");
	}
	json_decref(root);
	free(d.buf);
}

/* The layout the header promises: two spaces a level, "{}" when empty. */
static void test_exact_format(void **state)
{
	static const char want[] = "{\n"
				   "  \"a\": 1,\n"
				   "  \"b\": [\n"
				   "    true,\n"
				   "    {}\n"
				   "  ],\n"
				   "  \"c\": []\n"
				   "}\n";
	struct doc d;

	(void)state;
	doc_open(&d);
	jw_begin_object(&d.j);
	jw_kv_u64(&d.j, "a", 1);
	jw_key(&d.j, "b");
	jw_begin_array(&d.j);
	jw_bool(&d.j, true);
	jw_begin_object(&d.j);
	jw_end_object(&d.j);
	jw_end_array(&d.j);
	jw_key(&d.j, "c");
	jw_begin_array(&d.j);
	jw_end_array(&d.j);
	jw_end_object(&d.j);
	assert_int_equal(doc_close(&d), 0);
	assert_string_equal(d.buf, want);
	free(d.buf);
}

static void test_escape_ascii(void **state)
{
	char in[64];
	size_t n = 0, i;
	struct doc d;
	json_t *v;

	(void)state;
	for (i = 1; i < 0x20; i++)
		in[n++] = (char)i;
	in[n++] = '"';
	in[n++] = '\\';
	in[n++] = '/';
	in[n++] = 0x7f;
	in[n++] = 'z';
	in[n] = '\0';

	v = roundtrip_string(in, n, &d);
	assert_int_equal(json_string_length(v), n);
	assert_memory_equal(json_string_value(v), in, n);
	json_decref(v);

	/* Short forms where RFC 8259 has them, \u00XX otherwise. */
	assert_non_null(strstr(d.buf, "\\b\\t\\n\\u000b\\f\\r"));
	assert_non_null(strstr(d.buf, "\\u0001"));
	assert_non_null(strstr(d.buf, "\\u001f"));
	assert_non_null(strstr(d.buf, "\\\"\\\\/"));
	/* No raw control byte may appear inside the string. */
	for (i = 0; i + 1 < d.len; i++)
		assert_true((unsigned char)d.buf[i] >= 0x20);
	free(d.buf);
}

static void test_utf8_valid(void **state)
{
	static const char *const ok[] = {
		"caf\xc3\xa9",		    /* é */
		"\xf0\x9f\x98\x80",	    /* U+1F600 emoji */
		"\xe6\x97\xa5\xe6\x9c\xac", /* 日本 */
		"\xc2\x80",		    /* U+0080, smallest 2-byte */
		"\xdf\xbf",		    /* U+07FF */
		"\xe0\xa0\x80",		    /* U+0800, smallest 3-byte */
		"\xed\x9f\xbf",		    /* U+D7FF, just below the surrogates */
		"\xee\x80\x80",		    /* U+E000, just above them */
		"\xef\xbf\xbf",		    /* U+FFFF */
		"\xf0\x90\x80\x80",	    /* U+10000, smallest 4-byte */
		"\xf4\x8f\xbf\xbf",	    /* U+10FFFF, the largest */
		"\xe2\x80\xa8",		    /* U+2028 is fine in JSON */
		"a\xc3\xa9\"\xf0\x9f\x98\x80\n",
	};
	struct doc d;
	size_t i;
	json_t *v;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_string_roundtrip(ok[i], strlen(ok[i]), ok[i], strlen(ok[i]));

	/* Passed through as raw bytes, not as \u escapes. */
	v = roundtrip_string("\xf0\x9f\x98\x80", 4, &d);
	json_decref(v);
	assert_string_equal(d.buf, "\"\xf0\x9f\x98\x80\"\n");
	free(d.buf);
}

static void test_utf8_invalid(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "\xff", FFFD },
		{ "\xc3", FFFD }, /* lead byte at the end of the string */
		{ "a\xc3z", "a" FFFD "z" },
		{ "\xff\xc3", FFFD FFFD },
		{ "\x80", FFFD },			     /* lone continuation byte */
		{ "\xc0\xaf", FFFD FFFD },		     /* overlong '/' */
		{ "\xc1\xbf", FFFD FFFD },		     /* overlong */
		{ "\xe0\x80\xaf", FFFD FFFD FFFD },	     /* overlong 3-byte */
		{ "\xed\xa0\x80", FFFD FFFD FFFD },	     /* UTF-16 surrogate D800 */
		{ "\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD }, /* overlong 4-byte */
		{ "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD }, /* above U+10FFFF */
		{ "\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD },
		{ "\xe2\x82", FFFD FFFD }, /* truncated € */
		{ "\xe2\x82z", FFFD FFFD "z" },
		{ "\xf0\x9f\x98", FFFD FFFD FFFD }, /* truncated emoji */
		{ "caf\xc3\xa9\xff\xf0\x9f\x98\x80", "caf\xc3\xa9" FFFD "\xf0\x9f\x98\x80" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_roundtrip(cases[i].in, strlen(cases[i].in), cases[i].want,
					strlen(cases[i].want));
}

static void test_keys_escaped(void **state)
{
	static const char key[] = "k\"\\\n\x01\xc3\xa9\xff";
	static const char want[] = "k\"\\\n\x01\xc3\xa9" FFFD;
	struct doc d;
	json_t *root;

	(void)state;
	doc_open(&d);
	jw_begin_object(&d.j);
	jw_kv_bool(&d.j, key, true);
	jw_end_object(&d.j);
	assert_int_equal(doc_close(&d), 0);
	root = parse(&d, 0);
	assert_int_equal(json_object_size(root), 1);
	assert_true(json_is_true(json_object_get(root, want)));
	json_decref(root);
	free(d.buf);
}

static void test_stringn_and_null_string(void **state)
{
	struct doc d;
	json_t *root;

	(void)state;
	/* Embedded NUL becomes \u0000 and only len bytes are written. */
	assert_string_roundtrip("a\0b", 3, "a\0b", 3);
	assert_string_roundtrip("abcdef", 2, "ab", 2);
	assert_string_roundtrip("", 0, "", 0);
	/* A sequence cut by len is invalid even if the bytes after it would fit. */
	assert_string_roundtrip("\xc3\xa9", 1, FFFD, 3);
	assert_string_roundtrip("\xf0\x9f\x98\x80", 3, FFFD FFFD FFFD, 9);

	doc_open(&d);
	jw_begin_array(&d.j);
	jw_string(&d.j, NULL);
	jw_stringn(&d.j, NULL, 0);
	jw_end_array(&d.j);
	assert_int_equal(doc_close(&d), 0);
	root = parse(&d, 0);
	assert_true(json_is_null(json_array_get(root, 0)));
	assert_string_equal(json_string_value(json_array_get(root, 1)), "");
	json_decref(root);
	free(d.buf);
}

static void test_integers(void **state)
{
	static const int64_t iv[] = { 0, 1, -1, INT64_MAX, INT64_MIN, 1000000007 };
	static const uint64_t uv[] = { 0, 1, 4294967296ull, (uint64_t)INT64_MAX };
	struct doc d;
	json_t *root;
	size_t i;

	(void)state;
	doc_open(&d);
	jw_begin_array(&d.j);
	for (i = 0; i < sizeof(iv) / sizeof(iv[0]); i++)
		jw_i64(&d.j, iv[i]);
	for (i = 0; i < sizeof(uv) / sizeof(uv[0]); i++)
		jw_u64(&d.j, uv[i]);
	jw_end_array(&d.j);
	assert_int_equal(doc_close(&d), 0);
	root = parse(&d, 0);
	for (i = 0; i < sizeof(iv) / sizeof(iv[0]); i++)
		assert_true(json_integer_value(json_array_get(root, i)) == iv[i]);
	for (i = 0; i < sizeof(uv) / sizeof(uv[0]); i++) {
		json_t *e = json_array_get(root, i + sizeof(iv) / sizeof(iv[0]));

		assert_true((uint64_t)json_integer_value(e) == uv[i]);
	}
	json_decref(root);
	free(d.buf);

	/* Above INT64_MAX jansson can only read it as a real; check the text. */
	doc_open(&d);
	jw_u64(&d.j, UINT64_MAX);
	assert_int_equal(doc_close(&d), 0);
	assert_string_equal(d.buf, "18446744073709551615\n");
	root = parse(&d, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL);
	assert_true(json_real_value(root) == 18446744073709551616.0);
	json_decref(root);
	free(d.buf);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void test_double_roundtrip(void **state)
{
	enum { NRAND = 2000 };
	static const double fixed[] = {
		0.0,
		-0.0,
		1.0,
		-1.0,
		0.1,
		0.5,
		1.0 / 3,
		2.0 / 3,
		M_PI,
		1e-300,
		5e-324,
		DBL_MIN,
		DBL_MAX,
		-DBL_MAX,
		1e21,
		1e22,
		123456789.123456789,
		9007199254740993.0,
		1e17,
		12345678901234567.0,
		0.30000000000000004,
		100,
		1e100,
		-2.5e-8,
	};
	double v[sizeof(fixed) / sizeof(fixed[0]) + NRAND];
	size_t n = 0, i;
	uint64_t s = 12345, bits;
	struct doc d;
	json_t *root;

	(void)state;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		v[n++] = fixed[i];
	/* Random bit patterns cover every exponent; keep the finite ones. */
	while (n < sizeof(v) / sizeof(v[0])) {
		double x;

		bits = rng_next(&s);
		memcpy(&x, &bits, sizeof(x));
		if (isfinite(x))
			v[n++] = x;
	}

	doc_open(&d);
	jw_begin_array(&d.j);
	for (i = 0; i < n; i++)
		jw_double(&d.j, v[i]);
	jw_end_array(&d.j);
	assert_int_equal(doc_close(&d), 0);
	root = parse(&d, 0);
	assert_int_equal(json_array_size(root), n);
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(root, i);

		assert_true(json_is_number(e));
		if (json_number_value(e) != v[i])
			fail_msg("element %zu: wrote %.17g, read back %.17g", i, v[i],
				 json_number_value(e));
	}
	json_decref(root);
	/* Shortest form: 0.1 is not written as 0.10000000000000001. */
	assert_non_null(strstr(d.buf, "  0.1,\n"));
	assert_non_null(strstr(d.buf, "  0.6666666666666666,\n"));
	free(d.buf);
}

static void test_nonfinite_is_null(void **state)
{
	struct doc d;
	json_t *root;
	size_t i;

	(void)state;
	doc_open(&d);
	jw_begin_object(&d.j);
	jw_key(&d.j, "a");
	jw_begin_array(&d.j);
	jw_double(&d.j, NAN);
	jw_double(&d.j, INFINITY);
	jw_double(&d.j, -INFINITY);
	jw_double(&d.j, 2.0);
	jw_end_array(&d.j);
	jw_kv_double(&d.j, "nan", -NAN);
	jw_end_object(&d.j);
	assert_int_equal(doc_close(&d), 0);
	root = parse(&d, 0);
	for (i = 0; i < 3; i++)
		assert_true(json_is_null(json_array_get(json_object_get(root, "a"), i)));
	assert_true(json_number_value(json_array_get(json_object_get(root, "a"), 3)) == 2.0);
	assert_true(json_is_null(json_object_get(root, "nan")));
	json_decref(root);
	free(d.buf);
}

static void test_kv_shorthands(void **state)
{
	struct doc d;
	json_t *root;

	(void)state;
	doc_open(&d);
	jw_begin_object(&d.j);
	jw_kv_string(&d.j, "s", "x\ty");
	jw_kv_u64(&d.j, "u", 18000000000ull);
	jw_kv_i64(&d.j, "i", -9000000000ll);
	jw_kv_double(&d.j, "d", -0.125);
	jw_kv_bool(&d.j, "t", true);
	jw_kv_bool(&d.j, "f", false);
	jw_kv_string(&d.j, "n", NULL);
	jw_end_object(&d.j);
	assert_int_equal(doc_close(&d), 0);
	root = parse(&d, 0);
	assert_int_equal(json_object_size(root), 7);
	assert_string_equal(json_string_value(json_object_get(root, "s")), "x\ty");
	assert_int_equal(json_integer_value(json_object_get(root, "u")), 18000000000ll);
	assert_true(json_integer_value(json_object_get(root, "i")) == -9000000000ll);
	assert_true(json_real_value(json_object_get(root, "d")) == -0.125);
	assert_true(json_is_true(json_object_get(root, "t")));
	assert_true(json_is_false(json_object_get(root, "f")));
	assert_true(json_is_null(json_object_get(root, "n")));
	json_decref(root);
	free(d.buf);
}

/*
 * Misuse scenarios, each ending with the offending call: the error must be
 * flagged right there, and jw_finish() must then fail.
 */
static void misuse_value_without_key(struct jw *j)
{
	jw_begin_object(j);
	jw_u64(j, 1);
}

static void misuse_key_in_array(struct jw *j)
{
	jw_begin_array(j);
	jw_key(j, "k");
}

static void misuse_key_at_top(struct jw *j)
{
	jw_key(j, "k");
}

static void misuse_two_keys(struct jw *j)
{
	jw_begin_object(j);
	jw_key(j, "a");
	jw_key(j, "b");
}

static void misuse_key_without_value(struct jw *j)
{
	jw_begin_object(j);
	jw_key(j, "a");
	jw_end_object(j);
}

static void misuse_end_object_in_array(struct jw *j)
{
	jw_begin_array(j);
	jw_end_object(j);
}

static void misuse_end_array_in_object(struct jw *j)
{
	jw_begin_object(j);
	jw_end_array(j);
}

static void misuse_end_at_top(struct jw *j)
{
	jw_begin_array(j);
	jw_end_array(j);
	jw_end_array(j);
}

static void misuse_depth_overflow(struct jw *j)
{
	int i;

	for (i = 0; i <= JW_MAX_DEPTH; i++)
		jw_begin_array(j);
}

static void misuse_two_top_values(struct jw *j)
{
	jw_u64(j, 1);
	jw_u64(j, 2);
}

static void misuse_null_key(struct jw *j)
{
	jw_begin_object(j);
	jw_key(j, NULL);
}

/* These are only detectable when the document is finished. */
static void misuse_unclosed(struct jw *j)
{
	jw_begin_object(j);
	jw_kv_u64(j, "a", 1);
}

static void misuse_pending_key(struct jw *j)
{
	jw_begin_object(j);
	jw_key(j, "a");
}

static void misuse_empty_document(struct jw *j)
{
	(void)j;
}

typedef void (*scenario_fn)(struct jw *j);

static void run_misuse(const scenario_fn *fn, size_t n, bool immediate)
{
	struct doc d;
	size_t i;

	for (i = 0; i < n; i++) {
		doc_open(&d);
		fn[i](&d.j);
		if (immediate && !d.j.error)
			fail_msg("misuse scenario %zu not flagged", i);
		if (doc_close(&d) != -1)
			fail_msg("misuse scenario %zu accepted, wrote:\n%s", i, d.buf);
		assert_true(d.j.error);
		free(d.buf);
	}
}

static void test_misuse(void **state)
{
	static const scenario_fn immediate[] = {
		misuse_value_without_key,
		misuse_key_in_array,
		misuse_key_at_top,
		misuse_two_keys,
		misuse_key_without_value,
		misuse_end_object_in_array,
		misuse_end_array_in_object,
		misuse_end_at_top,
		misuse_depth_overflow,
		misuse_two_top_values,
		misuse_null_key,
	};
	static const scenario_fn at_finish[] = {
		misuse_unclosed,
		misuse_pending_key,
		misuse_empty_document,
	};

	(void)state;
	run_misuse(immediate, sizeof(immediate) / sizeof(immediate[0]), true);
	run_misuse(at_finish, sizeof(at_finish) / sizeof(at_finish[0]), false);
}

/* The deepest legal nesting works, and a scalar alone is a document. */
static void test_max_depth_and_scalar(void **state)
{
	struct doc d;
	json_t *root, *e;
	int i;

	(void)state;
	doc_open(&d);
	for (i = 0; i < JW_MAX_DEPTH; i++)
		jw_begin_array(&d.j);
	assert_false(d.j.error);
	jw_bool(&d.j, true);
	for (i = 0; i < JW_MAX_DEPTH; i++)
		jw_end_array(&d.j);
	assert_int_equal(doc_close(&d), 0);
	assert_false(d.j.error);
	root = parse(&d, 0);
	e = root;
	for (i = 0; i < JW_MAX_DEPTH; i++) {
		assert_true(json_is_array(e));
		e = json_array_get(e, 0);
	}
	assert_true(json_is_true(e));
	json_decref(root);
	free(d.buf);

	doc_open(&d);
	jw_string(&d.j, "alone");
	assert_int_equal(doc_close(&d), 0);
	assert_string_equal(d.buf, "\"alone\"\n");
	free(d.buf);
}

static void test_io_error(void **state)
{
	struct jw j;
	FILE *f = fopen("/dev/full", "w");
	int i;

	(void)state;
	if (!f)
		skip();
	jw_init(&j, f);
	jw_begin_array(&j);
	for (i = 0; i < 10000; i++)
		jw_u64(&j, (uint64_t)i);
	jw_end_array(&j);
	assert_int_equal(jw_finish(&j), -1);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_document),
		cmocka_unit_test(test_exact_format),
		cmocka_unit_test(test_escape_ascii),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_keys_escaped),
		cmocka_unit_test(test_stringn_and_null_string),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_double_roundtrip),
		cmocka_unit_test(test_nonfinite_is_null),
		cmocka_unit_test(test_kv_shorthands),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_max_depth_and_scalar),
		cmocka_unit_test(test_io_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
