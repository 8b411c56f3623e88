/*
 * grid.c - places valid candles on their series grid (validate.h).
 *
 * Crypto series live on the regular time grid: slot k is first + k * P,
 * and a slot with no candle is a gap (valid 0, NaN values, no row); nothing
 * is ever filled in. Equity bars are consecutive, one slot per bar. Rows
 * arrive sorted and unique in the common case (a straight fetch), which is
 * detected in one pass; otherwise they are sorted by (open_time, position
 * in the list) so that the last of each open_time wins.
 */
#include "validate.h"
#include "timeutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct key {
	int64_t t;
	uint32_t seq; /* position in the list: the larger wins */
	uint32_t row;
} key;

static int cmp_key(const void *pa, const void *pb)
{
	const key *a = pa, *b = pb;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorted, unique-time copy of rows (last wins) into *out (malloc'd). */
static int sort_unique(const mde_candles *c, const uint32_t *rows,
		       size_t nrows, uint32_t **out, size_t *nout)
{
	key *k = malloc((nrows ? nrows : 1) * sizeof *k);
	uint32_t *u = malloc((nrows ? nrows : 1) * sizeof *u);
	if (!k || !u) {
		free(k);
		free(u);
		return MDE_ENOMEM;
	}
	for (size_t i = 0; i < nrows; i++)
		k[i] = (key){c->open_time_ms[rows[i]], (uint32_t)i, rows[i]};
	qsort(k, nrows, sizeof *k, cmp_key);
	size_t m = 0;
	for (size_t i = 0; i < nrows; i++)
		if (i + 1 == nrows || k[i + 1].t != k[i].t)
			u[m++] = k[i].row;
	free(k);
	*out = u;
	*nout = m;
	return 0;
}

/*
 * Fills the series from the sorted, unique rows use[0..m): slot[i] is the
 * slot of use[i]. Column by column (each loop streams two arrays); when
 * the rows are consecutive rows of c with no gap, the series borrows c's
 * columns instead (candles.h).
 */
static void fill(mde_series *s, const mde_candles *c, const uint32_t *use,
		 size_t m, int64_t first)
{
	size_t n = s->n;
	bool dense = n == m;
	for (size_t i = 1; i < m && dense; i++)
		dense = use[i] == use[i - 1] + 1;
	mde_series_own(s);
	if (dense && m) {
		/* consecutive rows without a gap: the series borrows their
		   columns (candles.h) */
		size_t r0 = use[0];
		s->t = c->open_time_ms + r0;
		s->trades = c->trades + r0;
		for (int f = 0; f < MDE_NFIELDS; f++)
			s->val[f] = c->val[f] + r0;
		memset(s->valid, 1, m);
		for (size_t i = 0; i < m; i++)
			s->row[i] = (uint32_t)(r0 + i);
		return;
	}
	memset(s->valid, 0, n);
	memset(s->row, 0xff, n * sizeof *s->row); /* UINT32_MAX: a gap */
	if (s->asset == MDE_CRYPTO) {
		for (size_t k = 0; k < n; k++)
			s->t[k] = first + (int64_t)k * s->period_ms;
		size_t k = 0;
		int64_t tk = first;
		for (size_t i = 0; i < m; i++) {
			int64_t t = c->open_time_ms[use[i]];
			if (t != tk) /* a gap before this row */
				k = (size_t)((t - first) / s->period_ms);
			s->row[k] = use[i];
			s->valid[k] = 1;
			k++;
			tk = t + s->period_ms;
		}
	} else {
		for (size_t i = 0; i < m; i++) {
			s->t[i] = c->open_time_ms[use[i]];
			s->row[i] = use[i];
			s->valid[i] = 1;
		}
	}
	const uint32_t *restrict row = s->row;
	for (size_t k = 0; k < n; k++)
		s->trades[k] = row[k] == UINT32_MAX ? MDE_NULL_TRADES :
						      c->trades[row[k]];
	for (int f = 0; f < MDE_NFIELDS; f++) {
		const double *restrict src = c->val[f];
		double *restrict dst = s->val[f];
		for (size_t k = 0; k < n; k++)
			dst[k] = row[k] == UINT32_MAX ? NAN : src[row[k]];
	}
}

int mde_grid_place(mde_series *out, const mde_candles *c,
		   const uint32_t *rows, size_t nrows, int64_t period_ms,
		   enum mde_asset asset, mde_err *err)
{
	int rc = 0;
	uint32_t *sorted = NULL;
	const uint32_t *use = rows;
	size_t m = nrows;
	if (period_ms <= 0) {
		rc = mde_err_set(err, MDE_EINVAL, false, "bad period %lld",
				 (long long)period_ms);
		goto done;
	}
	bool strict = true;
	for (size_t i = 1; i < nrows && strict; i++)
		strict = c->open_time_ms[rows[i]] > c->open_time_ms[rows[i - 1]];
	if (!strict) {
		if (sort_unique(c, rows, nrows, &sorted, &m)) {
			rc = mde_err_set(err, MDE_ENOMEM, false, "out of memory");
			goto done;
		}
		use = sorted;
	}
	size_t slots = m;
	int64_t first = m ? c->open_time_ms[use[0]] : 0;
	if (asset == MDE_CRYPTO && m) {
		for (size_t i = 0; i < m; i++) {
			int64_t t = c->open_time_ms[use[i]];
			if (i > 0 && t - c->open_time_ms[use[i - 1]] == period_ms)
				continue; /* one period after an aligned row */
			if (t - mde_floor_div(t, period_ms) * period_ms != 0) {
				rc = mde_err_set(err, MDE_EINVAL, false,
						 "open_time %lld is not aligned "
						 "to the period",
						 (long long)t);
				goto done;
			}
		}
		int64_t last = c->open_time_ms[use[m - 1]];
		uint64_t span = (uint64_t)(last - first) / (uint64_t)period_ms;
		if (span >= MDE_GRID_MAX) {
			rc = mde_err_set(err, MDE_EINVAL, false,
					 "grid of %llu slots is too large",
					 (unsigned long long)span + 1);
			goto done;
		}
		slots = (size_t)span + 1;
	}
	out->n = 0; /* nothing to keep: every slot is written below */
	if (mde_series_reserve(out, slots ? slots : 1)) {
		rc = mde_err_set(err, MDE_ENOMEM, false, "out of memory");
		goto done;
	}
	/* the series' block: ten 8-byte columns, row and valid per slot */
	mde_advise_huge(out->mem, out->cap * (10 * 8 + 4 + 1));
	out->period_ms = period_ms;
	out->asset = asset;
	out->n = slots;
	fill(out, c, use, m, first);
done:
	free(sorted);
	return rc;
}
