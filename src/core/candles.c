/*
 * candles.c - storage for the tables of candles.h. Raw candles grow by
 * doubling (each column its own array, text in one arena); a series and a
 * frame keep every column in one 64-byte aligned block so that vector code,
 * BLAS and GSL can work on them and there is one point of failure.
 */
#include "candles.h"
#include "numtext.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const char *const mde_field_names[MDE_NFIELDS] = {
	"open",   "high",         "low",            "close",
	"volume", "quote_volume", "taker_buy_base", "taker_buy_quote",
};

const char *const mde_column_names[MDE_NFEATURES] = {
#define MDE_COLUMN(e, name, type) name,
#include "columns.def"
#undef MDE_COLUMN
};
const char *const mde_column_types[MDE_NFEATURES] = {
#define MDE_COLUMN(e, name, type) type,
#include "columns.def"
#undef MDE_COLUMN
};

static const char *const origin_names[MDE_NSRC] = {
	"binance", "binance-spot", "yahoo", "polygon", "replay", "csv",
};

const char *mde_origin_name(enum mde_origin origin)
{
	return origin >= 0 && origin < MDE_NSRC ? origin_names[origin] : "?";
}

int mde_origin_parse(const char *name)
{
	if (!name)
		return -1;
	if (strncmp(name, "replay:", 7) == 0)
		return MDE_SRC_REPLAY;
	for (int o = 0; o < MDE_NSRC; o++)
		if (strcmp(name, origin_names[o]) == 0)
			return o;
	return -1;
}

int mde_origin_rank(enum mde_origin origin)
{
	return origin == MDE_SRC_BINANCE_SPOT || origin == MDE_SRC_YAHOO ? 1
									: 2;
}

const char *mde_asset_name(enum mde_asset asset)
{
	return asset == MDE_EQUITY ? "equity" : "crypto";
}

int mde_asset_parse(const char *s, int *asset)
{
	if (s && strcmp(s, "crypto") == 0)
		*asset = MDE_CRYPTO;
	else if (s && strcmp(s, "equity") == 0)
		*asset = MDE_EQUITY;
	else
		return MDE_EINVAL;
	return 0;
}

/* ---- raw candles ---------------------------------------------------- */

void mde_candles_init(mde_candles *c)
{
	memset(c, 0, sizeof *c);
}

void mde_candles_free(mde_candles *c)
{
	if (!c)
		return;
	free(c->open_time_ms);
	for (int f = 0; f < MDE_NFIELDS; f++) {
		free(c->val[f]);
		free(c->txt[f]);
	}
	free(c->trades);
	free(c->origin);
	free(c->malformed);
	free(c->text);
	memset(c, 0, sizeof *c);
}

void mde_candles_clear(mde_candles *c)
{
	c->n = 0;
	c->text_len = 0;
}

static int grow(void **p, size_t elem, size_t n)
{
	void *q = realloc(*p, elem * n);
	if (!q)
		return MDE_ENOMEM;
	*p = q;
	return 0;
}

int mde_candles_reserve(mde_candles *c, size_t n)
{
	if (n <= c->cap)
		return 0;
	/* The first reservation is what was asked (a chunk's rows, a
	 * file's); growth after it doubles. */
	size_t cap = c->cap ? c->cap : n > 256 ? n : 256;
	while (cap < n)
		cap *= 2;
	if (grow((void **)&c->open_time_ms, sizeof(int64_t), cap) ||
	    grow((void **)&c->trades, sizeof(int64_t), cap) ||
	    grow((void **)&c->origin, 1, cap) ||
	    grow((void **)&c->malformed, 1, cap))
		return MDE_ENOMEM;
	for (int f = 0; f < MDE_NFIELDS; f++)
		if (grow((void **)&c->val[f], sizeof(double), cap) ||
		    grow((void **)&c->txt[f], sizeof(uint32_t), cap))
			return MDE_ENOMEM;
	c->cap = cap;
	return 0;
}

int mde_candles_reserve_text(mde_candles *c, size_t bytes)
{
	if (bytes <= c->text_cap)
		return 0;
	if (bytes > UINT32_MAX || grow((void **)&c->text, 1, bytes))
		return MDE_ENOMEM;
	c->text_cap = bytes;
	return 0;
}

/* Room for `more` bytes of text after text_len (offsets are 32-bit). */
static int text_room(mde_candles *c, size_t more)
{
	size_t need = c->text_len + more;
	if (need > UINT32_MAX)
		return MDE_ENOMEM;
	return mde_grow_bytes((void **)&c->text, &c->text_cap, need, 4096);
}

static int text_append(mde_candles *c, const char *s, size_t len,
		       uint32_t *off)
{
	if (text_room(c, len + 1))
		return MDE_ENOMEM;
	memcpy(c->text + c->text_len, s, len);
	c->text[c->text_len + len] = '\0';
	*off = (uint32_t)c->text_len;
	c->text_len += len + 1;
	return 0;
}

int mde_parse_decimal(const char *s, size_t len, double *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof buf || isspace((unsigned char)s[0]))
		return MDE_EPARSE;
	/* exact and fast; strtod only for what it does not take (the words
	 * nan and inf, which validation rejects as data) */
	if (mde_num_parse(s, len, out) == 0)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strpbrk(buf, "xXpP"))
		return MDE_EPARSE; /* no hexadecimal floats from a source */
	char *end;
	double v = strtod(buf, &end);
	if (end != buf + len)
		return MDE_EPARSE;
	*out = v;
	return 0;
}

static bool same_text(const char *x, const char *y)
{
	return x && y ? strcmp(x, y) == 0 : x == y;
}

bool mde_candles_equal(const mde_candles *a, const mde_candles *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		if (a->open_time_ms[i] != b->open_time_ms[i] ||
		    a->trades[i] != b->trades[i] ||
		    a->origin[i] != b->origin[i] ||
		    a->malformed[i] != b->malformed[i])
			return false;
		for (int f = 0; f < MDE_NFIELDS; f++) {
			double x = a->val[f][i], y = b->val[f][i];
			if ((x != y && !(isnan(x) && isnan(y))) ||
			    !same_text(mde_candles_text(a, i, f),
				       mde_candles_text(b, i, f)))
				return false;
		}
	}
	return true;
}

int mde_candles_push(mde_candles *c, const mde_candle_in *in, mde_err *err)
{
	double v[MDE_NFIELDS];
	size_t len[MDE_NFIELDS];
	bool bad = in->malformed;
	for (int f = 0; f < MDE_NFIELDS; f++) {
		const char *s = in->txt[f];
		len[f] = s ? (in->len[f] ? in->len[f] : strlen(s)) : 0;
		v[f] = NAN;
		if (!len[f] || mde_parse_decimal(s, len[f], &v[f]) == 0)
			continue;
		v[f] = NAN;
		bad = true;
		if (!in->lenient)
			return mde_err_set(err, MDE_EPARSE, false,
					   "%s is not a number: \"%.*s\"",
					   mde_field_names[f],
					   (int)(len[f] > 40 ? 40 : len[f]), s);
	}
	if (mde_candles_reserve(c, c->n + 1))
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	size_t i = c->n, text_mark = c->text_len;
	uint32_t none = MDE_NULL_TXT; /* the row's "", for no_text */
	for (int f = 0; f < MDE_NFIELDS; f++) {
		c->val[f][i] = v[f];
		c->txt[f][i] = MDE_NULL_TXT;
		if (!len[f])
			continue;
		int rc = !in->no_text ? text_append(c, in->txt[f], len[f],
						    &c->txt[f][i])
			 : none == MDE_NULL_TXT ? text_append(c, "", 0, &none)
						: 0;
		if (rc) {
			c->text_len = text_mark;
			return mde_err_set(err, MDE_ENOMEM, false,
					   "out of memory");
		}
		if (in->no_text)
			c->txt[f][i] = none;
	}
	c->open_time_ms[i] = in->open_time_ms;
	c->trades[i] = in->trades;
	c->origin[i] = (uint8_t)in->origin;
	c->malformed[i] = bad;
	c->n++;
	return 0;
}

int mde_fmt_double(char *buf, size_t len, double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		int k = snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v || prec == 17)
			return k;
	}
	return 0;
}

int mde_candles_push_num(mde_candles *c, int64_t open_time_ms,
			 const double vals[MDE_NFIELDS], int64_t trades,
			 enum mde_origin origin)
{
	char buf[MDE_NFIELDS][40];
	mde_candle_in in = {.open_time_ms = open_time_ms,
			    .trades = trades,
			    .origin = origin};
	for (int f = 0; f < MDE_NFIELDS; f++) {
		if (isnan(vals[f]))
			continue;
		mde_fmt_double(buf[f], sizeof buf[f], vals[f]);
		in.txt[f] = buf[f];
	}
	return mde_candles_push(c, &in, NULL);
}

int mde_candles_copy_row(mde_candles *dst, const mde_candles *src, size_t i)
{
	if (mde_candles_reserve(dst, dst->n + 1))
		return MDE_ENOMEM;
	size_t k = dst->n, text_mark = dst->text_len;
	for (int f = 0; f < MDE_NFIELDS; f++) {
		/* the value as it is, not parsed again: a table read without
		 * its texts (no_text) has "" for them */
		const char *t = mde_candles_text(src, i, f);
		dst->val[f][k] = src->val[f][i];
		dst->txt[f][k] = MDE_NULL_TXT;
		if (t && text_append(dst, t, strlen(t), &dst->txt[f][k])) {
			dst->text_len = text_mark;
			return MDE_ENOMEM;
		}
	}
	dst->open_time_ms[k] = src->open_time_ms[i];
	dst->trades[k] = src->trades[i];
	dst->origin[k] = src->origin[i];
	dst->malformed[k] = src->malformed[i];
	dst->n++;
	return 0;
}

/* The first text offset of the rows from `from` on: rows are appended in
 * order, so it is where their text starts (text_len when none has any). */
static size_t first_text(const mde_candles *c, size_t from)
{
	for (size_t i = from; i < c->n; i++)
		for (int f = 0; f < MDE_NFIELDS; f++)
			if (c->txt[f][i] != MDE_NULL_TXT)
				return c->txt[f][i];
	return c->text_len;
}

/* Where the text of rows [from, n) starts: the whole arena for the first
 * row, as it always was. */
static size_t text_from(const mde_candles *c, size_t from)
{
	return from == 0 ? 0 : first_text(c, from);
}

int mde_candles_append_rows(mde_candles *dst, const mde_candles *src,
			    size_t from, size_t to)
{
	if (to > src->n)
		to = src->n;
	if (from >= to)
		return 0;
	size_t n = dst->n, m = to - from, t0 = text_from(src, from);
	size_t tl = (to == src->n ? src->text_len : text_from(src, to)) - t0;
	if (mde_candles_reserve(dst, n + m) || text_room(dst, tl))
		return MDE_ENOMEM;
	/* a text offset o of src is o - t0 + text_len in dst */
	int64_t shift = (int64_t)dst->text_len - (int64_t)t0;
	memcpy(dst->text + dst->text_len, src->text + t0, tl);
	memcpy(dst->open_time_ms + n, src->open_time_ms + from,
	       m * sizeof *src->open_time_ms);
	memcpy(dst->trades + n, src->trades + from, m * sizeof *src->trades);
	memcpy(dst->origin + n, src->origin + from, m);
	memcpy(dst->malformed + n, src->malformed + from, m);
	for (int f = 0; f < MDE_NFIELDS; f++) {
		memcpy(dst->val[f] + n, src->val[f] + from, m * sizeof(double));
		for (size_t i = 0; i < m; i++) {
			uint32_t o = src->txt[f][from + i];
			dst->txt[f][n + i] = o == MDE_NULL_TXT
						     ? MDE_NULL_TXT
						     : (uint32_t)((int64_t)o + shift);
		}
	}
	dst->n += m;
	dst->text_len += tl;
	return 0;
}

void mde_candles_drop_head(mde_candles *c, size_t k)
{
	if (k > c->n)
		k = c->n;
	size_t m = c->n - k;
	memmove(c->open_time_ms, c->open_time_ms + k, m * sizeof *c->open_time_ms);
	memmove(c->trades, c->trades + k, m * sizeof *c->trades);
	memmove(c->origin, c->origin + k, m);
	memmove(c->malformed, c->malformed + k, m);
	for (int f = 0; f < MDE_NFIELDS; f++) {
		memmove(c->val[f], c->val[f] + k, m * sizeof(double));
		memmove(c->txt[f], c->txt[f] + k, m * sizeof *c->txt[f]);
	}
	c->n = m;
}

void mde_candles_compact(mde_candles *c)
{
	if (c->n == 0) {
		mde_candles_free(c);
		return;
	}
	/* the text before the first row's is a dropped head's */
	size_t t0 = first_text(c, 0);
	if (t0 && t0 < c->text_len) {
		memmove(c->text, c->text + t0, c->text_len - t0);
		c->text_len -= t0;
		for (int f = 0; f < MDE_NFIELDS; f++)
			for (size_t i = 0; i < c->n; i++)
				if (c->txt[f][i] != MDE_NULL_TXT)
					c->txt[f][i] -= (uint32_t)t0;
	}
	/* shrinking never fails for want of memory; if it did, the larger
	 * block stays */
	size_t n = c->n;
	(void)grow((void **)&c->open_time_ms, sizeof(int64_t), n);
	(void)grow((void **)&c->trades, sizeof(int64_t), n);
	(void)grow((void **)&c->origin, 1, n);
	(void)grow((void **)&c->malformed, 1, n);
	for (int f = 0; f < MDE_NFIELDS; f++) {
		(void)grow((void **)&c->val[f], sizeof(double), n);
		(void)grow((void **)&c->txt[f], sizeof(uint32_t), n);
	}
	c->cap = n;
	if (c->text_len && grow((void **)&c->text, 1, c->text_len) == 0)
		c->text_cap = c->text_len;
}

int mde_candles_append(mde_candles *dst, const mde_candles *src)
{
	return mde_candles_append_rows(dst, src, 0, src->n);
}

/* ---- aligned blocks: series and frame ------------------------------- */

void mde_advise_huge(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t e = ((uintptr_t)p + len) & ~(uintptr_t)4095;
	if (len >= (4u << 20) && e > a)
		(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
	(void)p;
	(void)len;
#endif
}

#define MDE_ALIGN 64
static size_t round_up(size_t x)
{
	return (x + MDE_ALIGN - 1) & ~(size_t)(MDE_ALIGN - 1);
}

void mde_series_free(mde_series *s)
{
	if (!s)
		return;
	free(s->mem);
	memset(s, 0, sizeof *s);
}

/* Points every column of s into its own block (mem, cap slots). */
void mde_series_own(mde_series *s)
{
	size_t d = round_up(s->cap * 8), u = round_up(s->cap * 4);
	char *p = s->mem;
	s->t = (int64_t *)p, p += d;
	s->trades = (int64_t *)p, p += d;
	for (int f = 0; f < MDE_NFIELDS; f++)
		s->val[f] = (double *)p, p += d;
	s->row = (uint32_t *)p, p += u;
	s->valid = (uint8_t *)p;
}

int mde_series_reserve(mde_series *s, size_t n)
{
	if (n <= s->cap && s->mem)
		return 0;
	size_t cap = s->cap ? s->cap : n > 64 ? n : 64;
	while (cap < n)
		cap *= 2;
	size_t d = round_up(cap * 8), b = round_up(cap), u = round_up(cap * 4);
	size_t total = d * (2 + MDE_NFIELDS) + b + u;
	char *mem = aligned_alloc(MDE_ALIGN, total);
	if (!mem)
		return MDE_ENOMEM;
	mde_series old = *s;
	s->mem = mem;
	s->cap = cap;
	mde_series_own(s);
	if (old.mem && old.n) {
		memcpy(s->t, old.t, old.n * 8);
		memcpy(s->trades, old.trades, old.n * 8);
		for (int f = 0; f < MDE_NFIELDS; f++)
			memcpy(s->val[f], old.val[f], old.n * 8);
		memcpy(s->row, old.row, old.n * 4);
		memcpy(s->valid, old.valid, old.n);
	}
	free(old.mem);
	return 0;
}

void mde_frame_free(mde_frame *f)
{
	if (!f)
		return;
	free(f->mem);
	free(f->work);
	memset(f, 0, sizeof *f);
}

int mde_frame_reserve(mde_frame *f, size_t n)
{
	if (n <= f->cap && f->mem)
		return 0;
	size_t cap = n ? n : 1;
	size_t d = round_up(cap * 8), u = round_up(cap * 4);
	char *mem = aligned_alloc(MDE_ALIGN, d * (MDE_NFEATURES + 1) + u);
	if (!mem)
		return MDE_ENOMEM;
	free(f->mem);
	char *p = mem;
	for (int k = 0; k < MDE_NFEATURES; k++)
		f->col[k] = (double *)p, p += d;
	f->quality = (double *)p, p += d;
	f->flags = (int32_t *)p;
	f->mem = mem;
	f->cap = cap;
	f->n = 0;
	return 0;
}

/* ---- auxiliary series ----------------------------------------------- */

void mde_aux_free(mde_aux *a)
{
	if (!a)
		return;
	free(a->t);
	free(a->v);
	memset(a, 0, sizeof *a);
}

int mde_aux_push(mde_aux *a, int64_t t, double v)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 128;
		if (grow((void **)&a->t, 8, cap) || grow((void **)&a->v, 8, cap))
			return MDE_ENOMEM;
		a->cap = cap;
	}
	a->t[a->n] = t;
	a->v[a->n] = v;
	a->n++;
	return 0;
}

/* Insertion-ordered stable merge sort on (t, v) pairs by t. */
static void merge_sort(int64_t *t, double *v, int64_t *tt, double *tv,
		       size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	merge_sort(t, v, tt, tv, h);
	merge_sort(t + h, v + h, tt, tv, n - h);
	if (t[h - 1] <= t[h])
		return;
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n) {
		if (t[j] < t[i])
			tt[k] = t[j], tv[k++] = v[j++];
		else
			tt[k] = t[i], tv[k++] = v[i++];
	}
	while (i < h)
		tt[k] = t[i], tv[k++] = v[i++];
	while (j < n)
		tt[k] = t[j], tv[k++] = v[j++];
	memcpy(t, tt, n * 8);
	memcpy(v, tv, n * 8);
}

int mde_aux_sort(mde_aux *a)
{
	bool sorted = true;
	for (size_t i = 1; i < a->n && sorted; i++)
		sorted = a->t[i - 1] <= a->t[i];
	if (sorted)
		return 0;
	int64_t *tt = malloc(a->n * 8);
	double *tv = malloc(a->n * 8);
	int rc = tt && tv ? 0 : MDE_ENOMEM;
	if (!rc)
		merge_sort(a->t, a->v, tt, tv, a->n);
	free(tt);
	free(tv);
	return rc;
}

int mde_aux_normalize(mde_aux *a)
{
	int rc = mde_aux_sort(a);
	if (rc)
		return rc;
	/* Stable sort: among equal times the last pushed is last; keep it. */
	size_t w = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (w > 0 && a->t[w - 1] == a->t[i]) {
			a->v[w - 1] = a->v[i];
			continue;
		}
		a->t[w] = a->t[i];
		a->v[w] = a->v[i];
		w++;
	}
	a->n = w;
	return 0;
}

void mde_auxset_free(mde_auxset *a)
{
	if (!a)
		return;
	for (int k = 0; k < MDE_NAUX; k++)
		mde_aux_free(&a->s[k]);
}
