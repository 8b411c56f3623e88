/*
 * pgcopy.c - PostgreSQL's binary COPY format, written into a growing
 * buffer: the file header, rows of fields (int2/int4/int8, float8,
 * timestamptz, text) and numeric encoded straight from decimal text, so a
 * price is stored with every digit and the scale it was sent with.
 */
#include "pgcopy.h"

#include <arpa/inet.h>
#include <endian.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int mde_numeric_encode(const char *text, unsigned char *out, size_t cap)
{
	const char *p = text;
	int neg = 0;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	char dig[128];
	int nd = 0, point = -1;
	for (; *p && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.' && point < 0) {
			point = nd;
		} else if (*p >= '0' && *p <= '9' && nd < (int)sizeof dig) {
			dig[nd++] = (char)(*p - '0');
		} else {
			return -1;
		}
	}
	if (nd == 0)
		return -1;
	if (point < 0)
		point = nd;
	if (*p) { /* exponent: e or E, an optional sign, digits */
		const char *d = p + 1 + (p[1] == '+' || p[1] == '-');
		if (*d < '0' || *d > '9')
			return -1;
		char *end;
		long e = strtol(p + 1, &end, 10);
		if (*end || e > 1000 || e < -1000)
			return -1;
		point += (int)e;
	}
	int dscale = nd - point > 0 ? nd - point : 0;
	/* Digit k of the number has place value 10^(point - 1 - k). Group by
	 * 4 from the decimal point: group g covers 10^(4g) .. 10^(4g+3). */
	int hi = point - 1;           /* highest power of ten present */
	int lo = point - nd;          /* lowest */
	int ghi = hi >= 0 ? hi / 4 : -((-hi + 3) / 4);
	int glo = lo >= 0 ? lo / 4 : -((-lo + 3) / 4);
	int16_t groups[64];
	int ng = 0;
	for (int g = ghi; g >= glo && ng < 64; g--) {
		int v = 0;
		for (int k = 3; k >= 0; k--) {
			int pw = 4 * g + k, idx = point - 1 - pw;
			v = v * 10 + (idx >= 0 && idx < nd ? dig[idx] : 0);
		}
		groups[ng++] = (int16_t)v;
	}
	int weight = ghi, first = 0, last = ng;
	while (first < last && groups[first] == 0)
		first++, weight--;
	while (last > first && groups[last - 1] == 0)
		last--;
	int ndigits = last - first;
	if (ndigits == 0)
		weight = 0, neg = 0;
	size_t need = 8 + 2 * (size_t)ndigits;
	if (need > cap)
		return -1;
	uint16_t h[4] = {htons((uint16_t)ndigits), htons((uint16_t)weight),
			 htons(neg ? 0x4000 : 0), htons((uint16_t)dscale)};
	memcpy(out, h, 8);
	for (int i = 0; i < ndigits; i++) {
		uint16_t d = htons((uint16_t)groups[first + i]);
		memcpy(out + 8 + 2 * i, &d, 2);
	}
	return (int)need;
}

bool mde_copy_grow(mde_copybuf *b, size_t len)
{
	if (!b->oom &&
	    mde_grow_bytes((void **)&b->p, &b->cap, b->n + len, 1 << 16))
		b->oom = true;
	return !b->oom;
}

static void put32(mde_copybuf *b, int32_t v)
{
	uint32_t x = htobe32((uint32_t)v);
	mde_copy_put(b, &x, 4);
}

void mde_copy_text(mde_copybuf *b, const char *s)
{
	size_t n = strlen(s);
	put32(b, (int32_t)n);
	mde_copy_put(b, s, n);
}

void mde_copy_int2(mde_copybuf *b, double v)
{
	if (isnan(v)) {
		mde_copy_null(b);
		return;
	}
	put32(b, 2);
	mde_copy_put16(b, (int16_t)lrint(v));
}

int mde_copy_numeric(mde_copybuf *b, const char *text)
{
	if (!text) {
		mde_copy_null(b);
		return 0;
	}
	/* encoded in place, after the room of its length */
	enum { MAX = 4 + 8 + 2 * 64 };
	if (b->n + MAX > b->cap && !mde_copy_grow(b, MAX))
		return 0; /* oom: the caller checks b->oom */
	int n = mde_numeric_encode(text, b->p + b->n + 4, MAX - 4);
	if (n < 0)
		return -1;
	uint32_t len = htobe32((uint32_t)n);
	memcpy(b->p + b->n, &len, 4);
	b->n += 4 + (size_t)n;
	return 0;
}

void mde_copy_begin(mde_copybuf *b)
{
	static const char hdr[] = "PGCOPY\n\377\r\n";
	mde_copy_put(b, hdr, 11);
	put32(b, 0); /* flags */
	put32(b, 0); /* header extension length */
}

void mde_copy_end(mde_copybuf *b)
{
	mde_copy_put16(b, -1);
}
