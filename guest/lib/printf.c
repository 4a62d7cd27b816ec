/* SPDX-License-Identifier: MIT */
/*
 * vsnprintf: %d %i %u %x %X %p %s %c %% with width (or *), '0' and '-' flags
 * and the l, ll, z length modifiers. Returns the length the full output
 * would have had, like C99.
 */
#include "internal.h"

struct out {
	char *buf;
	size_t size;
	size_t len;
};

struct spec {
	int width;
	bool left;
	bool zero;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, int n, char c)
{
	for (; n > 0; n--)
		put(o, c);
}

static void put_str(struct out *o, const char *s, const struct spec *sp)
{
	int len;

	if (!s)
		s = "(null)";
	len = strlen(s);
	if (!sp->left)
		pad(o, sp->width - len, ' ');
	while (*s)
		put(o, *s++);
	if (sp->left)
		pad(o, sp->width - len, ' ');
}

/* prefix is the sign or "0x"; zero padding goes between it and the digits. */
static void put_num(struct out *o, uint64_t v, unsigned int base, bool upper, const char *prefix,
		    const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, fill;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);

	fill = sp->width - n - (int)strlen(prefix);
	if (!sp->left && !sp->zero)
		pad(o, fill, ' ');
	while (*prefix)
		put(o, *prefix++);
	if (!sp->left && sp->zero)
		pad(o, fill, '0');
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		pad(o, fill, ' ');
}

/* Length modifiers: 0 = int, 1 = long / size_t, 2 = long long. */
static uint64_t get_unsigned(va_list *ap, int lng)
{
	if (lng == 2)
		return va_arg(*ap, unsigned long long);
	if (lng == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static int64_t get_signed(va_list *ap, int lng)
{
	if (lng == 2)
		return va_arg(*ap, long long);
	if (lng == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

static const char *parse_spec(const char *fmt, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ 0 };
	for (;; fmt++) {
		if (*fmt == '-')
			sp->left = true;
		else if (*fmt == '0')
			sp->zero = true;
		else
			break;
	}
	if (*fmt == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = true;
			sp->width = -sp->width;
		}
		return fmt + 1;
	}
	while (*fmt >= '0' && *fmt <= '9')
		sp->width = sp->width * 10 + (*fmt++ - '0');
	return fmt;
}

static void convert(struct out *o, char conv, int lng, const struct spec *sp, va_list *ap)
{
	int64_t s;

	switch (conv) {
	case 'd':
	case 'i':
		s = get_signed(ap, lng);
		if (s < 0)
			put_num(o, -(uint64_t)s, 10, false, "-", sp);
		else
			put_num(o, s, 10, false, "", sp);
		break;
	case 'u':
		put_num(o, get_unsigned(ap, lng), 10, false, "", sp);
		break;
	case 'x':
	case 'X':
		put_num(o, get_unsigned(ap, lng), 16, conv == 'X', "", sp);
		break;
	case 'p':
		put_num(o, (uintptr_t)va_arg(*ap, void *), 16, false, "0x", sp);
		break;
	case 's':
		put_str(o, va_arg(*ap, const char *), sp);
		break;
	case 'c':
		put(o, (char)va_arg(*ap, int));
		break;
	case '%':
		put(o, '%');
		break;
	default: /* unknown: print it as written so the mistake is visible */
		put(o, '%');
		if (conv)
			put(o, conv);
		break;
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .size = size };
	struct spec sp;
	va_list aq;
	int lng;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp, &aq);
		lng = 0;
		if (*fmt == 'z') {
			lng = 1;
			fmt++;
		}
		for (; *fmt == 'l' && lng < 2; fmt++)
			lng++;
		convert(&o, *fmt, lng, &sp, &aq);
		if (*fmt)
			fmt++;
	}
	va_end(aq);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return len;
}
