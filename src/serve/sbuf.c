/* sbuf.c - see sbuf.h. */
#include "sbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mde.h"
#include "numtext.h"

static bool reserve(mde_sbuf *b, size_t more)
{
	if (!b->failed &&
	    mde_grow_bytes((void **)&b->s, &b->cap, b->n + more + 1, 4096))
		b->failed = true;
	return !b->failed;
}

void mde_sbuf_put(mde_sbuf *b, const char *s, size_t len)
{
	if (!reserve(b, len))
		return;
	memcpy(b->s + b->n, s, len);
	b->n += len;
	b->s[b->n] = '\0';
}

void mde_sbuf_puts(mde_sbuf *b, const char *s)
{
	mde_sbuf_put(b, s, strlen(s));
}

void mde_sbuf_printf(mde_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0 || !reserve(b, (size_t)k))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

void mde_sbuf_html(mde_sbuf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		switch (*p) {
		case '&': mde_sbuf_puts(b, "&amp;"); break;
		case '<': mde_sbuf_puts(b, "&lt;"); break;
		case '>': mde_sbuf_puts(b, "&gt;"); break;
		case '"': mde_sbuf_puts(b, "&quot;"); break;
		case '\'': mde_sbuf_puts(b, "&#39;"); break;
		default: mde_sbuf_put(b, p, 1);
		}
	}
}

void mde_sbuf_json(mde_sbuf *b, const char *s, size_t len)
{
	if (!reserve(b, len + 2))
		return;
	mde_sbuf_put(b, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch != '"' && ch != '\\' && ch != '<') {
			run++;
			continue;
		}
		mde_sbuf_put(b, s + i - run, run);
		run = 0;
		char esc[8];
		if (ch == '"' || ch == '\\')
			snprintf(esc, sizeof esc, "\\%c", ch);
		else /* controls, and '<' so that JSON inside <script> is safe */
			snprintf(esc, sizeof esc, "\\u%04x", ch);
		mde_sbuf_puts(b, esc);
	}
	mde_sbuf_put(b, s + len - run, run);
	mde_sbuf_put(b, "\"", 1);
}

void mde_sbuf_double(mde_sbuf *b, double v)
{
	if (!isfinite(v)) {
		mde_sbuf_put(b, "null", 4);
		return;
	}
	if (!reserve(b, MDE_NUM_TEXT_MAX))
		return;
	b->n += (size_t)mde_num_shortest(b->s + b->n, v);
	b->s[b->n] = '\0';
}

void mde_sbuf_int(mde_sbuf *b, int64_t v)
{
	if (!reserve(b, MDE_INT_TEXT_MAX))
		return;
	b->n += (size_t)mde_num_int(b->s + b->n, v);
}

void mde_sbuf_free(mde_sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof *b);
}
