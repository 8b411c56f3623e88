/*
 * sbuf.h - a growable text buffer for the answers of the server: JSON,
 * CSV and HTML, with the escaping each needs. An allocation failure sets
 * `failed` and later appends do nothing; the caller checks it once.
 */
#ifndef MDE_SBUF_H
#define MDE_SBUF_H

#include <stddef.h>

#include "mde.h"

typedef struct mde_sbuf {
	char *s;
	size_t n, cap;
	bool failed;
} mde_sbuf;

void mde_sbuf_put(mde_sbuf *b, const char *s, size_t len);
void mde_sbuf_puts(mde_sbuf *b, const char *s);
void mde_sbuf_printf(mde_sbuf *b, const char *fmt, ...) MDE_PRINTF(2, 3);
/* s with & < > " ' as entities. */
void mde_sbuf_html(mde_sbuf *b, const char *s);
/* s as a JSON string, quotes included (control characters escaped). */
void mde_sbuf_json(mde_sbuf *b, const char *s, size_t len);
/* A double as 17 significant digits ("null" when not finite). */
void mde_sbuf_double(mde_sbuf *b, double v);
/* An integer in decimal, without printf. */
void mde_sbuf_int(mde_sbuf *b, int64_t v);
void mde_sbuf_free(mde_sbuf *b);

#endif
