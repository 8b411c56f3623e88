/*
 * rsi.c - rsi_14: TA-Lib's RSI(14) with default settings, per segment.
 *
 * d_i = c_i - c_(i-1). At the 15th bar of a segment G and L are the
 * sequential sums of the first 14 gains and losses divided by 14; then
 * Wilder smoothing in TA-Lib's order: G *= 13, L *= 13, add the gain or the
 * loss, divide both by 14. RSI = 100 * (G / (G + L)), and 0 when
 * |G + L| < 1e-14 (TA_IS_ZERO), which a long flat stretch reaches as G and
 * L decay. Warm-up as atr.c.
 */
#include "engine.h"

#include <math.h>

static double rsi(double g, double l)
{
	double s = g + l;
	return (s > -1e-14 && s < 1e-14) ? 0.0 : 100.0 * (g / s);
}

void mde_k_rsi(const mde_kin *in, double *const col[])
{
	double *out = col[MDE_COL_RSI_14];
	const double *c = in->c;
	double g = 0.0, l = 0.0;
	for (size_t i = 0; i < in->n; i++) {
		uint32_t r = in->run[i];
		if (r < 2) {
			out[i] = NAN;
			continue;
		}
		double d = c[i] - c[i - 1];
		if (r <= 15) {
			if (r == 2)
				g = l = 0.0;
			if (d < 0)
				l -= d;
			else
				g += d;
			if (r < 15) {
				out[i] = NAN;
				continue;
			}
			g /= 14.0;
			l /= 14.0;
		} else {
			g *= 13.0;
			l *= 13.0;
			if (d < 0)
				l -= d;
			else
				g += d;
			g /= 14.0;
			l /= 14.0;
		}
		out[i] = rsi(g, l);
	}
}

size_t mde_k_rsi_start(int64_t period_ms, int asset)
{
	return 14;
}

size_t mde_k_rsi_warmup(int64_t period_ms, int asset)
{
	return 14 + MDE_WILDER_WARMUP;
}
