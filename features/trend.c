/*
 * trend.c - trend_direction: +1 when c_t is above sma_20 and sma_20 above
 * sma_50, -1 when both are below, 0 otherwise, NULL when sma_50 is NULL.
 * "x above y" is x - y > 1e-10 * |y| (values closer than that are a tie:
 * a flat stretch, or a close equal to the decimal mean on a tick grid).
 */
#include "engine.h"

#include <math.h>

static int cmp(double x, double y)
{
	double tol = 1e-10 * fabs(y);
	if (x - y > tol)
		return 1;
	if (y - x > tol)
		return -1;
	return 0;
}

void mde_k_trend(const mde_kin *in, double *const out[])
{
	const double *s20 = in->col[MDE_COL_SMA_20];
	const double *s50 = in->col[MDE_COL_SMA_50];
	double *td = out[MDE_OUT(trend, TREND_DIRECTION)];
	for (size_t i = 0; i < in->n; i++) {
		if (isnan(s50[i])) {
			td[i] = NAN;
			continue;
		}
		int a = cmp(in->c[i], s20[i]), b = cmp(s20[i], s50[i]);
		td[i] = (a == b && a != 0) ? (double)a : 0.0;
	}
}

/* A row reads its own sma_20 and sma_50 (sma.c): defined from sma_50's
   first row on, which is sma's warm-up. */
size_t mde_k_trend_start(int64_t period_ms, int asset)
{
	return mde_k_sma_warmup(period_ms, asset);
}

size_t mde_k_trend_warmup(int64_t period_ms, int asset)
{
	return mde_k_sma_warmup(period_ms, asset);
}
