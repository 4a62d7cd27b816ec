/* SPDX-License-Identifier: MIT */
/*
 * Streaming JSON writer: nesting and commas are tracked for the caller,
 * strings are escaped per RFC 8259 (control characters as \u00XX, invalid
 * UTF-8 bytes replaced by U+FFFD). Output is indented, two spaces a level.
 * Prefixed jw_, not json_: jansson exports json_string() and json_null().
 */
#ifndef VMM_JSON_H
#define VMM_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 32

struct jw {
	FILE *out;
	int depth;
	bool first[JW_MAX_DEPTH];     /* no member written yet at this level */
	bool after_key;		      /* a key was written, its value comes next */
	bool error;		      /* misuse (depth, value without key...) */
	bool is_object[JW_MAX_DEPTH]; /* container kind at each level */
	bool done;		      /* the top-level value is complete */
	bool compact;		      /* set after jw_init: no indentation (a big trace) */
};

void jw_init(struct jw *j, FILE *out);
void jw_begin_object(struct jw *j);
void jw_end_object(struct jw *j);
void jw_begin_array(struct jw *j);
void jw_end_array(struct jw *j);
void jw_key(struct jw *j, const char *key);
void jw_string(struct jw *j, const char *s);
void jw_stringn(struct jw *j, const char *s, size_t len);
void jw_u64(struct jw *j, uint64_t v);
void jw_i64(struct jw *j, int64_t v);
void jw_double(struct jw *j, double v); /* non-finite values are written as null */
void jw_bool(struct jw *j, bool v);
void jw_null(struct jw *j);

/* Shorthands: key + value. */
void jw_kv_string(struct jw *j, const char *key, const char *s);
void jw_kv_u64(struct jw *j, const char *key, uint64_t v);
void jw_kv_i64(struct jw *j, const char *key, int64_t v);
void jw_kv_double(struct jw *j, const char *key, double v);
void jw_kv_bool(struct jw *j, const char *key, bool v);

/* Finish: newline at top level; returns -1 if misuse or an I/O error occurred. */
int jw_finish(struct jw *j);

#endif
