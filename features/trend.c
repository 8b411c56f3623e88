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

void mde_k_trend(const mde_kin *in, double *const col[])
{
	const double *s20 = col[MDE_COL_SMA_20], *s50 = col[MDE_COL_SMA_50];
	double *out = col[MDE_COL_TREND_DIRECTION];
	for (size_t i = 0; i < in->n; i++) {
		if (isnan(s50[i])) {
			out[i] = NAN;
			continue;
		}
		int a = cmp(in->c[i], s20[i]), b = cmp(s20[i], s50[i]);
		out[i] = (a == b && a != 0) ? (double)a : 0.0;
	}
}

size_t mde_k_trend_start(int64_t period_ms, int asset)
{
	return 49;
}

size_t mde_k_trend_warmup(int64_t period_ms, int asset)
{
	return 49;
}
