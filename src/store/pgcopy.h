/*
 * pgcopy.h - writing PostgreSQL's binary COPY format (COPY ... FROM STDIN
 * BINARY): mde_copy_begin, then per row mde_copy_put16(nfields) and one
 * mde_copy_* per field, then mde_copy_end. The buffer grows by doubling;
 * an allocation failure sets oom and makes every later call a no-op.
 * The caller frees b->p.
 */
#ifndef MDE_PGCOPY_H
#define MDE_PGCOPY_H

#include "mde.h"

typedef struct mde_copybuf {
	unsigned char *p;
	size_t n, cap;
	bool oom;
} mde_copybuf;

void mde_copy_begin(mde_copybuf *b);
void mde_copy_end(mde_copybuf *b);
void mde_copy_put(mde_copybuf *b, const void *src, size_t len);
void mde_copy_put16(mde_copybuf *b, int16_t v);
void mde_copy_null(mde_copybuf *b);
void mde_copy_text(mde_copybuf *b, const char *s);
void mde_copy_int8(mde_copybuf *b, int64_t v);
void mde_copy_int4(mde_copybuf *b, int32_t v);
/* timestamptz from ms since the epoch (UTC). */
void mde_copy_time(mde_copybuf *b, int64_t ms);
/* NaN is NULL. */
void mde_copy_float8(mde_copybuf *b, double v);
void mde_copy_int2(mde_copybuf *b, double v);
/* numeric from decimal text ("-93548.80", "1.5e+06"); NULL text is NULL.
 * -1 when the text is not a decimal number. */
int mde_copy_numeric(mde_copybuf *b, const char *text) MDE_MUSTCHECK;

/* Encodes decimal text as PostgreSQL's binary numeric; returns the byte
 * length, or -1 when the text is not a decimal number. */
int mde_numeric_encode(const char *text, unsigned char *out, size_t cap);

#endif
