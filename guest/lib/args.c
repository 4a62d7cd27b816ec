/* SPDX-License-Identifier: MIT */
/* Workload arguments from the boot info: "key=value" pairs split by ',' or ' '. */
#include "internal.h"

static bool is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n';
}

static bool is_end(char c)
{
	return c == '\0' || is_sep(c);
}

/* Returns what follows the key in its pair ("=value" or the separator), or NULL. */
static const char *arg_find(const char *key)
{
	const char *p = boot_info()->args;
	size_t klen = strlen(key);

	while (*p) {
		if (is_sep(*p)) {
			p++;
			continue;
		}
		if (!strncmp(p, key, klen) && (p[klen] == '=' || is_end(p[klen])))
			return p + klen;
		while (!is_end(*p))
			p++;
	}
	return NULL;
}

bool arg_present(const char *key)
{
	return arg_find(key) != NULL;
}

static int digit(char c, unsigned int base)
{
	int d = -1;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	return d < (int)base ? d : -1;
}

uint64_t arg_u64(const char *key, uint64_t def)
{
	const char *p = arg_find(key);
	unsigned int base = 10;
	uint64_t v = 0;
	int d;

	if (!p || *p != '=')
		return def;
	p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (is_end(*p))
		goto bad;
	for (; !is_end(*p); p++) {
		d = digit(*p, base);
		if (d < 0)
			goto bad;
		v = v * base + d;
	}
	return v;
bad:
	printf("cpu%u: args: bad number for '%s', using %lu\n", this_cpu_id(), key, def);
	return def;
}
