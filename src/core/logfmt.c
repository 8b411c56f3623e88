/*
 * logfmt.c - the formatter of log lines (log.h): printf, except that a %s
 * value cannot forge fields. A %s written right after "key=" is quoted
 * when it is empty or holds a space, '=', a quote or a backslash; a %s
 * inside quotes of the format ("error=\"%s\"") has its quotes and
 * backslashes escaped. The JSON writer undoes the escapes.
 */
#include "log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

typedef struct out {
	char *p;
	size_t n, cap;
} out;

static void put(out *o, char c)
{
	if (o->n + 1 < o->cap)
		o->p[o->n++] = c;
}

static void puts_esc(out *o, const char *s, bool esc)
{
	for (; *s; s++) {
		if (esc && (*s == '"' || *s == '\\'))
			put(o, '\\');
		put(o, *s);
	}
}

static bool needs_quotes(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if (isspace((unsigned char)*s) || *s == '=' || *s == '"' ||
		    *s == '\\')
			return true;
	return false;
}

/* One conversion spec: flags, width, precision, length and type. */
typedef struct spec {
	char text[48]; /* the spec with * resolved, for snprintf */
	char len[3];   /* "", "hh", "h", "l", "ll", "z", "j", "t", "L" */
	char conv;
} spec;

static const char *parse_spec(const char *p, spec *sp, va_list *ap)
{
	size_t k = 0;
	char *t = sp->text;
	t[k++] = '%';
	while (*p && strchr("-+ #0", *p) && k < 8)
		t[k++] = *p++;
	if (*p == '*') {
		k += (size_t)snprintf(t + k, 16, "%d", va_arg(*ap, int));
		p++;
	}
	while (isdigit((unsigned char)*p) && k < 20)
		t[k++] = *p++;
	if (*p == '.') {
		t[k++] = *p++;
		if (*p == '*') {
			k += (size_t)snprintf(t + k, 16, "%d", va_arg(*ap, int));
			p++;
		}
		while (isdigit((unsigned char)*p) && k < 38)
			t[k++] = *p++;
	}
	size_t l = 0;
	while (*p && strchr("hlzjtL", *p) && l < 2)
		sp->len[l++] = *p++;
	sp->len[l] = '\0';
	memcpy(t + k, sp->len, l);
	k += l;
	sp->conv = *p ? *p++ : 's';
	t[k++] = sp->conv;
	t[k] = '\0';
	return p;
}

#define LEN(s) (strcmp(sp->len, s) == 0)

/* The spec is one conversion parsed above, its argument of that type. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/* Formats one argument of sp into buf. */
static void convert(const spec *sp, va_list *ap, char *buf, size_t cap)
{
	const char *f = sp->text;
	switch (sp->conv) {
	case 'd': case 'i':
		if (LEN("ll")) snprintf(buf, cap, f, va_arg(*ap, long long));
		else if (LEN("l")) snprintf(buf, cap, f, va_arg(*ap, long));
		else if (LEN("z")) snprintf(buf, cap, f, va_arg(*ap, ssize_t));
		else if (LEN("j")) snprintf(buf, cap, f, va_arg(*ap, intmax_t));
		else if (LEN("t")) snprintf(buf, cap, f, va_arg(*ap, ptrdiff_t));
		else snprintf(buf, cap, f, va_arg(*ap, int));
		break;
	case 'u': case 'o': case 'x': case 'X':
		if (LEN("ll"))
			snprintf(buf, cap, f, va_arg(*ap, unsigned long long));
		else if (LEN("l"))
			snprintf(buf, cap, f, va_arg(*ap, unsigned long));
		else if (LEN("z")) snprintf(buf, cap, f, va_arg(*ap, size_t));
		else if (LEN("j")) snprintf(buf, cap, f, va_arg(*ap, uintmax_t));
		else if (LEN("t")) snprintf(buf, cap, f, va_arg(*ap, ptrdiff_t));
		else snprintf(buf, cap, f, va_arg(*ap, unsigned));
		break;
	case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
	case 'a': case 'A':
		if (LEN("L"))
			snprintf(buf, cap, f, va_arg(*ap, long double));
		else
			snprintf(buf, cap, f, va_arg(*ap, double));
		break;
	case 'c': snprintf(buf, cap, f, va_arg(*ap, int)); break;
	case 'p': snprintf(buf, cap, f, va_arg(*ap, void *)); break;
	case 's': {
		const char *s = va_arg(*ap, const char *);
		snprintf(buf, cap, f, s ? s : "(null)");
		break;
	}
	default: snprintf(buf, cap, "%%%c", sp->conv); break;
	}
}
#pragma GCC diagnostic pop

void mde_log_vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
	out o = {buf, 0, cap};
	bool quoted = false; /* inside "..." of the format */
	va_list aq;
	va_copy(aq, ap);
	for (const char *p = fmt; *p;) {
		if (*p != '%' || p[1] == '%') {
			quoted ^= *p == '"';
			put(&o, *p);
			p += *p == '%' ? 2 : 1;
			continue;
		}
		bool after_eq = p > fmt && p[-1] == '=';
		spec sp;
		memset(&sp, 0, sizeof sp);
		p = parse_spec(p + 1, &sp, &aq);
		char val[1024];
		convert(&sp, &aq, val, sizeof val);
		if (sp.conv == 's' && quoted) {
			puts_esc(&o, val, true);
		} else if (sp.conv == 's' && after_eq && needs_quotes(val)) {
			put(&o, '"');
			puts_esc(&o, val, true);
			put(&o, '"');
		} else {
			puts_esc(&o, val, false);
		}
	}
	va_end(aq);
	if (cap)
		o.p[o.n] = '\0';
}
