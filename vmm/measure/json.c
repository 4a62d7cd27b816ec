// SPDX-License-Identifier: MIT
/*
 * Streaming JSON writer, see json.h.
 *
 * j->depth counts the open containers; the innermost one is described by
 * first[depth - 1] and is_object[depth - 1]. After the first misuse the
 * error is sticky and nothing more is written, so a broken document is
 * truncated rather than silently malformed in the middle.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "measure/json.h"

#include <unistd.h>

#include <errno.h>

void jw_init(struct jw *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

static void json_indent(struct jw *j)
{
	int i;

	if (j->compact)
		return;
	fputc('\n', j->out);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

static bool json_in_object(const struct jw *j)
{
	return j->depth > 0 && j->is_object[j->depth - 1];
}

/* Separator and indentation before a member of the innermost container. */
static void json_member_prefix(struct jw *j)
{
	if (!j->first[j->depth - 1])
		fputc(',', j->out);
	j->first[j->depth - 1] = false;
	json_indent(j);
}

/*
 * Called before every value: checks that a value may come here and writes
 * what precedes it. Returns false (and flags the error) on misuse.
 */
static bool json_value_prefix(struct jw *j)
{
	if (j->error)
		return false;
	if (j->depth == 0) {
		if (j->done) /* a second top-level value */
			goto misuse;
		return true;
	}
	if (json_in_object(j)) {
		if (!j->after_key)
			goto misuse;
		j->after_key = false;
		return true;
	}
	json_member_prefix(j);
	return true;
misuse:
	j->error = true;
	return false;
}

/* Called after every complete value. */
static void json_value_done(struct jw *j)
{
	if (j->depth == 0)
		j->done = true;
}

static void json_begin(struct jw *j, bool object)
{
	if (j->depth >= JW_MAX_DEPTH)
		j->error = true;
	if (!json_value_prefix(j))
		return;
	fputc(object ? '{' : '[', j->out);
	j->first[j->depth] = true;
	j->is_object[j->depth] = object;
	j->depth++;
}

static void json_end(struct jw *j, bool object)
{
	bool empty;

	if (j->error)
		return;
	if (j->depth == 0 || j->is_object[j->depth - 1] != object || j->after_key) {
		j->error = true;
		return;
	}
	empty = j->first[j->depth - 1];
	j->depth--;
	if (!empty)
		json_indent(j);
	fputc(object ? '}' : ']', j->out);
	json_value_done(j);
}

void jw_begin_object(struct jw *j)
{
	json_begin(j, true);
}

void jw_end_object(struct jw *j)
{
	json_end(j, true);
}

void jw_begin_array(struct jw *j)
{
	json_begin(j, false);
}

void jw_end_array(struct jw *j)
{
	json_end(j, false);
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if the
 * lead byte does not start one. Rejects overlongs, surrogates and code
 * points above U+10FFFF (RFC 3629 table).
 */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return len;
}

static void json_escape_ctrl(FILE *out, unsigned char c)
{
	switch (c) {
	case '\b':
		fputs("\\b", out);
		break;
	case '\f':
		fputs("\\f", out);
		break;
	case '\n':
		fputs("\\n", out);
		break;
	case '\r':
		fputs("\\r", out);
		break;
	case '\t':
		fputs("\\t", out);
		break;
	default:
		fprintf(out, "\\u%04x", c);
		break;
	}
}

static void json_write_escaped(FILE *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0, n;

	fputc('"', out);
	while (i < len) {
		unsigned char c = s[i];

		/* Plain ASCII (DEL included, JSON allows it) is copied in runs. */
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			run++;
			i++;
			continue;
		}
		if (c >= 0x80) {
			n = utf8_seq_len(s + i, len - i);
			if (n) {
				run += n;
				i += n;
				continue;
			}
		}
		fwrite(s + i - run, 1, run, out);
		run = 0;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			json_escape_ctrl(out, c);
		else
			fputs("\xef\xbf\xbd", out); /* U+FFFD for an invalid byte */
		i++;
	}
	fwrite(s + i - run, 1, run, out);
	fputc('"', out);
}

void jw_key(struct jw *j, const char *key)
{
	if (j->error)
		return;
	if (!key || !json_in_object(j) || j->after_key) {
		j->error = true;
		return;
	}
	json_member_prefix(j);
	json_write_escaped(j->out, key, strlen(key));
	fputs(j->compact ? ":" : ": ", j->out);
	j->after_key = true;
}

void jw_stringn(struct jw *j, const char *s, size_t len)
{
	if (!s && len) {
		j->error = true;
		return;
	}
	if (!json_value_prefix(j))
		return;
	json_write_escaped(j->out, s ? s : "", len);
	json_value_done(j);
}

/* A NULL string is written as null. */
void jw_string(struct jw *j, const char *s)
{
	if (!s) {
		jw_null(j);
		return;
	}
	jw_stringn(j, s, strlen(s));
}

void jw_u64(struct jw *j, uint64_t v)
{
	if (!json_value_prefix(j))
		return;
	fprintf(j->out, "%" PRIu64, v);
	json_value_done(j);
}

void jw_i64(struct jw *j, int64_t v)
{
	if (!json_value_prefix(j))
		return;
	fprintf(j->out, "%" PRId64, v);
	json_value_done(j);
}

/* Shortest of %.15g..%.17g that reads back as the same double. */
static void json_fmt_double(char *buf, size_t len, double v)
{
	int prec;

	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

void jw_double(struct jw *j, double v)
{
	char buf[32];

	if (!isfinite(v)) {
		jw_null(j);
		return;
	}
	if (!json_value_prefix(j))
		return;
	json_fmt_double(buf, sizeof(buf), v);
	fputs(buf, j->out);
	json_value_done(j);
}

void jw_bool(struct jw *j, bool v)
{
	if (!json_value_prefix(j))
		return;
	fputs(v ? "true" : "false", j->out);
	json_value_done(j);
}

void jw_null(struct jw *j)
{
	if (!json_value_prefix(j))
		return;
	fputs("null", j->out);
	json_value_done(j);
}

void jw_kv_string(struct jw *j, const char *key, const char *s)
{
	jw_key(j, key);
	jw_string(j, s);
}

void jw_kv_u64(struct jw *j, const char *key, uint64_t v)
{
	jw_key(j, key);
	jw_u64(j, v);
}

void jw_kv_i64(struct jw *j, const char *key, int64_t v)
{
	jw_key(j, key);
	jw_i64(j, v);
}

void jw_kv_double(struct jw *j, const char *key, double v)
{
	jw_key(j, key);
	jw_double(j, v);
}

void jw_kv_bool(struct jw *j, const char *key, bool v)
{
	jw_key(j, key);
	jw_bool(j, v);
}

int jw_finish(struct jw *j)
{
	if (j->depth != 0 || j->after_key || !j->done)
		j->error = true;
	if (!j->error)
		fputc('\n', j->out);
	if (fflush(j->out) || ferror(j->out))
		return -1;
	return j->error ? -1 : 0;
}
