/*
 * pgcopy.h - writing PostgreSQL's binary COPY format (COPY ... FROM STDIN
 * BINARY): mde_copy_begin, then per row mde_copy_put16(nfields) and one
 * mde_copy_* per field, then mde_copy_end. The buffer grows by doubling;
 * an allocation failure sets oom and makes every later call a no-op.
 * The caller frees b->p.
 */
#ifndef MDE_PGCOPY_H
#define MDE_PGCOPY_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "mde.h"

typedef struct mde_copybuf {
	unsigned char *p;
	size_t n, cap;
	bool oom;
} mde_copybuf;

void mde_copy_begin(mde_copybuf *b);
void mde_copy_end(mde_copybuf *b);
/* Room for len more bytes; false (and oom set) when there is none. */
bool mde_copy_grow(mde_copybuf *b, size_t len);

/* The writers of one field are inline: a row is some forty of them. */
static inline void mde_copy_put(mde_copybuf *b, const void *src, size_t len)
{
	if (b->n + len > b->cap && !mde_copy_grow(b, len))
		return;
	memcpy(b->p + b->n, src, len);
	b->n += len;
}

static inline void mde_copy_put16(mde_copybuf *b, int16_t v)
{
	uint16_t x = htobe16((uint16_t)v);
	mde_copy_put(b, &x, 2);
}

/* A field's length and an 8-byte big-endian value, in one write. */
static inline void mde_copy_len_be64(mde_copybuf *b, uint64_t v)
{
	unsigned char f[12];
	uint32_t len = htobe32(8);
	uint64_t x = htobe64(v);
	memcpy(f, &len, 4);
	memcpy(f + 4, &x, 8);
	mde_copy_put(b, f, 12);
}

static inline void mde_copy_null(mde_copybuf *b)
{
	uint32_t x = htobe32(UINT32_MAX);
	mde_copy_put(b, &x, 4);
}

static inline void mde_copy_int8(mde_copybuf *b, int64_t v)
{
	mde_copy_len_be64(b, (uint64_t)v);
}

static inline void mde_copy_int4(mde_copybuf *b, int32_t v)
{
	unsigned char f[8];
	uint32_t len = htobe32(4), x = htobe32((uint32_t)v);
	memcpy(f, &len, 4);
	memcpy(f + 4, &x, 4);
	mde_copy_put(b, f, 8);
}

/* timestamptz from ms since the epoch (UTC): microseconds since
 * 2000-01-01 00:00 UTC. */
static inline void mde_copy_time(mde_copybuf *b, int64_t ms)
{
	mde_copy_int8(b, (ms - INT64_C(946684800000)) * 1000);
}

/* NaN is NULL. */
static inline void mde_copy_float8(mde_copybuf *b, double v)
{
	if (v != v) {
		mde_copy_null(b);
		return;
	}
	uint64_t bits;
	memcpy(&bits, &v, 8);
	mde_copy_len_be64(b, bits);
}

void mde_copy_text(mde_copybuf *b, const char *s);
void mde_copy_int2(mde_copybuf *b, double v);
/* numeric from decimal text ("-93548.80", "1.5e+06"); NULL text is NULL.
 * -1 when the text is not a decimal number. */
int mde_copy_numeric(mde_copybuf *b, const char *text) MDE_MUSTCHECK;

/* Encodes decimal text as PostgreSQL's binary numeric; returns the byte
 * length, or -1 when the text is not a decimal number. */
int mde_numeric_encode(const char *text, unsigned char *out, size_t cap);

#endif
