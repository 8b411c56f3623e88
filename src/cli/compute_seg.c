/* compute_seg.c - see compute_seg.h. */
#include "compute_seg.h"

#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	return (a > b) - (a < b);
}

int mde_cseg_split(const mde_candles *c, int64_t period_ms, int asset,
		   size_t max_gap_slots, mde_cseg **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t rows = c->n;
	int64_t *t = malloc((rows ? rows : 1) * sizeof *t);
	mde_cseg *s = malloc(sizeof *s);
	if (!t || !s)
		goto nomem;
	if (rows) {
		memcpy(t, c->open_time_ms, rows * sizeof *t);
		qsort(t, rows, sizeof *t, cmp_i64);
	}
	size_t ns = 0, cap = 1;
	/* Differences as unsigned: any two int64 times are apart by less
	 * than 2^64. */
	uint64_t gap = asset == MDE_CRYPTO && period_ms > 0
			       ? ((uint64_t)max_gap_slots + 1) *
					 (uint64_t)period_ms
			       : UINT64_MAX;
	for (size_t i = 0; i < rows; i++) {
		if (i > 0 && (uint64_t)t[i] - (uint64_t)t[i - 1] <= gap) {
			s[ns - 1].hi_ms = t[i];
			s[ns - 1].rows++;
			continue;
		}
		if (ns == cap) {
			mde_cseg *g = realloc(s, 2 * cap * sizeof *s);
			if (!g)
				goto nomem;
			s = g;
			cap *= 2;
		}
		s[ns++] = (mde_cseg){t[i], t[i], 1};
	}
	if (ns == 0)
		s[ns++] = (mde_cseg){0, -1, 0};
	free(t);
	*out = s;
	*n = ns;
	return 0;
nomem:
	free(t);
	free(s);
	return MDE_ENOMEM;
}

int mde_cseg_extract(const mde_candles *c, const mde_cseg *seg,
		     mde_candles *sub, uint32_t **map)
{
	mde_candles_clear(sub);
	free(*map);
	*map = malloc((seg->rows ? seg->rows : 1) * sizeof **map);
	if (!*map || mde_candles_reserve(sub, seg->rows))
		return MDE_ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++) {
		int64_t t = c->open_time_ms[i];
		if (t < seg->lo_ms || t > seg->hi_ms)
			continue;
		if (mde_candles_copy_row(sub, c, i))
			return MDE_ENOMEM;
		(*map)[k++] = (uint32_t)i;
	}
	return 0;
}
