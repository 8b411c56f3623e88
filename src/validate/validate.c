/*
 * validate.c - FEATURES.md "Validation": every hard check of every row,
 * duplicates (last row wins, then validated), out-of-order counting, and
 * the hand-over of the accepted rows to mde_grid_place (grid.c).
 *
 * A bad candle is data, not an error: it gets every reason it fails and
 * goes to the rejects. Only allocation failure or an absurd grid is an
 * error.
 */
#include "validate.h"
#include "timeutil.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool present(const mde_candles *c, int f, size_t i)
{
	return c->txt[f][i] != MDE_NULL_TXT;
}

/*
 * A row with a field that did not arrive as a number is malformed; its
 * unreadable values are NaN but not "not_finite" (that is for a source
 * that sent NaN or inf as such). Returns r corrected.
 */
static uint32_t malformed(const mde_candles *c, size_t i, uint32_t r)
{
	if (!c->malformed[i])
		return r;
	r &= ~(uint32_t)MDE_RJ_NOT_FINITE;
	for (int f = 0; f < MDE_NFIELDS; f++) {
		const char *t = mde_candles_text(c, i, f);
		double v;
		if (t && mde_parse_decimal(t, strlen(t), &v) == 0 &&
		    !isfinite(v))
			r |= MDE_RJ_NOT_FINITE;
	}
	return r | MDE_RJ_MALFORMED;
}

uint32_t mde_validate_row(const mde_candles *c, size_t i, int64_t period_ms,
			  enum mde_asset asset, int64_t now_ms)
{
	uint32_t r = 0;
	static const int prices[] = {MDE_OPEN, MDE_HIGH, MDE_LOW, MDE_CLOSE};
	for (size_t k = 0; k < MDE_ARRAY_LEN(prices); k++) {
		double v = c->val[prices[k]][i];
		if (!present(c, prices[k], i))
			r |= MDE_RJ_MISSING;
		else if (!isfinite(v))
			r |= MDE_RJ_NOT_FINITE;
		else if (v <= 0.0)
			r |= MDE_RJ_NONPOSITIVE;
	}
	static const int vols[] = {MDE_VOLUME, MDE_QUOTE_VOLUME,
				   MDE_TAKER_BUY_BASE, MDE_TAKER_BUY_QUOTE};
	for (size_t k = 0; k < MDE_ARRAY_LEN(vols); k++) {
		double v = c->val[vols[k]][i];
		if (!present(c, vols[k], i)) {
			if (vols[k] == MDE_VOLUME)
				r |= MDE_RJ_MISSING;
		} else if (!isfinite(v)) {
			r |= MDE_RJ_NOT_FINITE;
		} else if (v < 0.0) {
			r |= MDE_RJ_NEGATIVE_VOLUME;
		}
	}
	double o = c->val[MDE_OPEN][i], h = c->val[MDE_HIGH][i],
	       l = c->val[MDE_LOW][i], cl = c->val[MDE_CLOSE][i];
	if (isfinite(o) && isfinite(h) && isfinite(l) && isfinite(cl) &&
	    (l > o || l > cl || o > h || cl > h))
		r |= MDE_RJ_HIGH_LOW;
	double v = c->val[MDE_VOLUME][i], tb = c->val[MDE_TAKER_BUY_BASE][i];
	if (isfinite(v) && isfinite(tb) && tb > v)
		r |= MDE_RJ_TAKER_GT_VOLUME;
	double qv = c->val[MDE_QUOTE_VOLUME][i],
	       tq = c->val[MDE_TAKER_BUY_QUOTE][i];
	if (isfinite(qv) && isfinite(tq) && tq > qv)
		r |= MDE_RJ_TAKER_QUOTE_GT_QUOTE;
	int64_t t = c->open_time_ms[i];
	if (asset == MDE_CRYPTO && t - mde_floor_div(t, period_ms) * period_ms)
		r |= MDE_RJ_MISALIGNED;
	if (t > now_ms - period_ms)
		r |= MDE_RJ_NOT_CLOSED;
	return malformed(c, i, r);
}

/*
 * The same checks as mde_validate_row for every row at once, column by
 * column and without branches that depend on the data, so that the loops
 * vectorize (tests hold it against mde_validate_row). Alignment is tested
 * with a division only when a row does not follow the previous one by
 * exactly one period.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
	!defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"),
	       optimize("tree-vectorize", "vect-cost-model=dynamic")))
#endif
static void check_all(const mde_candles *c, int64_t period_ms,
		      enum mde_asset asset,
		      int64_t now_ms, uint32_t *restrict r)
{
	size_t n = c->n;
	const double *restrict o = c->val[MDE_OPEN], *restrict h =
		c->val[MDE_HIGH], *restrict l = c->val[MDE_LOW],
		*restrict cl = c->val[MDE_CLOSE], *restrict v =
		c->val[MDE_VOLUME], *restrict qv = c->val[MDE_QUOTE_VOLUME],
		*restrict tb = c->val[MDE_TAKER_BUY_BASE], *restrict tq =
		c->val[MDE_TAKER_BUY_QUOTE];
	const uint32_t *restrict to = c->txt[MDE_OPEN], *restrict th =
		c->txt[MDE_HIGH], *restrict tl = c->txt[MDE_LOW],
		*restrict tc = c->txt[MDE_CLOSE], *restrict tv =
		c->txt[MDE_VOLUME], *restrict tqv = c->txt[MDE_QUOTE_VOLUME],
		*restrict ttb = c->txt[MDE_TAKER_BUY_BASE], *restrict ttq =
		c->txt[MDE_TAKER_BUY_QUOTE];
/* straight-line, branch-free expressions: the loop vectorizes */
#define FIN(x) (fabs(x) <= DBL_MAX)
#define NUL(tx) ((tx) == MDE_NULL_TXT)
#define PRICE(x, tx)                                                     \
	(NUL(tx) * MDE_RJ_MISSING |                                       \
	 (!NUL(tx) & !FIN(x)) * MDE_RJ_NOT_FINITE |                       \
	 (FIN(x) & ((x) <= 0.0)) * MDE_RJ_NONPOSITIVE)
#define VOL(x, tx)                                                       \
	((!NUL(tx) & !FIN(x)) * MDE_RJ_NOT_FINITE |                       \
	 (FIN(x) & ((x) < 0.0)) * MDE_RJ_NEGATIVE_VOLUME)
	for (size_t i = 0; i < n; i++) {
		uint32_t m = PRICE(o[i], to[i]) | PRICE(h[i], th[i]) |
			     PRICE(l[i], tl[i]) | PRICE(cl[i], tc[i]) |
			     VOL(v[i], tv[i]) | VOL(qv[i], tqv[i]) |
			     VOL(tb[i], ttb[i]) | VOL(tq[i], ttq[i]) |
			     NUL(tv[i]) * MDE_RJ_MISSING;
		uint32_t pfin = FIN(o[i]) & FIN(h[i]) & FIN(l[i]) & FIN(cl[i]);
		uint32_t hl = (l[i] > o[i]) | (l[i] > cl[i]) | (o[i] > h[i]) |
			      (cl[i] > h[i]);
		m |= (pfin & hl) * MDE_RJ_HIGH_LOW |
		     (FIN(v[i]) & FIN(tb[i]) & (tb[i] > v[i])) *
			     MDE_RJ_TAKER_GT_VOLUME |
		     (FIN(qv[i]) & FIN(tq[i]) & (tq[i] > qv[i])) *
			     MDE_RJ_TAKER_QUOTE_GT_QUOTE;
		r[i] = m;
	}
#undef FIN
#undef NUL
#undef PRICE
#undef VOL
	const int64_t *t = c->open_time_ms;
	bool aligned = false;
	for (size_t i = 0; i < n; i++) {
		if (asset == MDE_CRYPTO) {
			if (!(aligned && t[i] - t[i - 1] == period_ms))
				aligned = t[i] - mde_floor_div(t[i], period_ms) *
							 period_ms == 0;
			if (!aligned)
				r[i] |= MDE_RJ_MISALIGNED;
		}
		if (t[i] > now_ms - period_ms)
			r[i] |= MDE_RJ_NOT_CLOSED;
		r[i] = malformed(c, i, r[i]);
	}
}

void mde_validation_free(mde_validation *v)
{
	if (!v)
		return;
	mde_series_free(&v->series);
	free(v->rejects);
	free(v->dups);
	free(v->work);
	memset(v, 0, sizeof *v);
}

typedef struct tkey {
	int64_t t;
	uint32_t row;
} tkey;

static int cmp_tkey(const void *pa, const void *pb)
{
	const tkey *a = pa, *b = pb;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->row < b->row ? -1 : a->row > b->row;
}

int mde_validate(mde_validation *out, const mde_candles *c, int64_t period_ms,
		 enum mde_asset asset, int64_t now_ms, mde_err *err)
{
	int rc = 0;
	size_t n = c->n;
	uint32_t *reasons = NULL, *keep = NULL;
	uint8_t *winner = NULL;
	tkey *keys = NULL;
	/* keep a previous series' buffer and working memory: reusing them
	   saves the page faults */
	mde_series keep_series = out->series;
	void *work = out->work;
	size_t work_cap = out->work_cap;
	free(out->rejects);
	free(out->dups);
	memset(out, 0, sizeof *out);
	out->series = keep_series;
	out->work = work;
	out->work_cap = work_cap;
	if (period_ms <= 0 || n >= UINT32_MAX) {
		rc = mde_err_set(err, MDE_EINVAL, false,
				 "bad period or too many candles");
		goto done;
	}
	size_t cap = n ? n : 1;
	if (mde_grow_bytes(&out->work, &out->work_cap,
			   cap * (sizeof *reasons + sizeof *keep + 1), 4096))
		goto nomem;
	reasons = out->work;
	keep = reasons + cap;
	winner = (uint8_t *)(keep + cap);
	mde_vstats *st = &out->stats;
	st->received = n;
	bool strict = true;
	check_all(c, period_ms, asset, now_ms, reasons);
	memset(winner, 1, n);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && c->open_time_ms[i] <= c->open_time_ms[i - 1]) {
			strict = false;
			st->out_of_order += c->open_time_ms[i] <
					    c->open_time_ms[i - 1];
		}
	}
	size_t nkeep = 0;
	if (strict) {
		for (size_t i = 0; i < n; i++)
			if (!reasons[i])
				keep[nkeep++] = (uint32_t)i;
	} else {
		keys = malloc(n * sizeof *keys);
		if (!keys)
			goto nomem;
		for (size_t i = 0; i < n; i++)
			keys[i] = (tkey){c->open_time_ms[i], (uint32_t)i};
		qsort(keys, n, sizeof *keys, cmp_tkey);
		for (size_t i = 0; i < n; i++) {
			uint32_t row = keys[i].row;
			if (i + 1 < n && keys[i + 1].t == keys[i].t)
				winner[row] = 0; /* a later copy follows */
			else if (!reasons[row])
				keep[nkeep++] = row;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!winner[i])
			st->duplicates++;
		else if (reasons[i])
			st->rejected++;
	}
	out->rejects = malloc((st->rejected ? st->rejected : 1) *
			      sizeof *out->rejects);
	out->dups = malloc((st->duplicates ? st->duplicates : 1) *
			   sizeof *out->dups);
	if (!out->rejects || !out->dups)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		if (!winner[i])
			out->dups[out->ndups++] = (uint32_t)i;
		else if (reasons[i])
			out->rejects[out->nrejects++] =
				(mde_reject){(uint32_t)i, reasons[i]};
	}
	rc = mde_grid_place(&out->series, c, keep, nkeep, period_ms, asset,
			    err);
	if (rc)
		goto done;
	st->valid = nkeep;
	st->expected = asset == MDE_CRYPTO ? out->series.n : nkeep + st->rejected;
	st->gaps = asset == MDE_CRYPTO ? out->series.n - nkeep : 0;
	goto done;
nomem:
	rc = mde_err_set(err, MDE_ENOMEM, false, "out of memory");
done:
	if (rc)
		mde_validation_free(out);
	free(keys);
	return rc;
}
