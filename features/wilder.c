/*
 * wilder.c - atr_14 and rsi_14: TA-Lib's ATR(14) and RSI(14) (default
 * settings), each run separately on every segment (maximal run of bars
 * with no gap). One loop computes both: their recursions are independent
 * chains of divisions, and interleaving them lets the CPU overlap the two.
 *
 * ATR: TR_i = max(h_i - l_i, |c_(i-1) - h_i|, |l_i - c_(i-1)|) for each bar
 * with a previous bar in its segment (TA-Lib's TRANGE, same comparisons).
 * The first ATR is at the 15th bar of a segment: the sequential sum of the
 * first 14 TRs divided by 14 (TA_INT_SMA); then ATR = ATR * 13, += TR,
 * /= 14, in exactly TA-Lib's order of operations.
 *
 * RSI: d_i = c_i - c_(i-1). At the 15th bar G and L are the sequential sums
 * of the first 14 gains and losses (L -= d for d < 0, G += d otherwise)
 * divided by 14; then G *= 13, L *= 13, add the gain or the loss, divide
 * both by 14. RSI = 100 * (G / (G + L)), and 0 when |G + L| < 1e-14
 * (TA_IS_ZERO), which a long flat stretch reaches as G and L decay.
 *
 * A chunk that starts inside a segment seeds both differently; after
 * MDE_WILDER_WARMUP more bars the difference has shrunk by
 * (13/14)^1000 ~ 6e-33.
 */
#include "engine.h"

#include <math.h>

#define WILDER_PERIOD 14 /* ATR(14), RSI(14) */

static double rsi(double g, double l)
{
	double s = g + l;
	return (s > -1e-14 && s < 1e-14) ? 0.0 : 100.0 * (g / s);
}

void mde_k_wilder(const mde_kin *in, double *const out[])
{
	double *atr_out = out[MDE_OUT(wilder, ATR_14)];
	double *rsi_out = out[MDE_OUT(wilder, RSI_14)];
	/* exactly 14.0 and 13.0: TA-Lib's constants */
	const double per = WILDER_PERIOD, keep = WILDER_PERIOD - 1;
	const double *h = in->h, *l = in->l, *c = in->c;
	double sum = 0.0, atr = 0.0, g = 0.0, lo = 0.0;
	for (size_t i = 0; i < in->n; i++) {
		uint32_t r = in->run[i];
		if (r < 2) {
			atr_out[i] = rsi_out[i] = NAN;
			continue;
		}
		double cy = c[i - 1], tr = h[i] - l[i];
		double v2 = fabs(cy - h[i]), v3 = fabs(l[i] - cy);
		if (v2 > tr)
			tr = v2;
		if (v3 > tr)
			tr = v3;
		double d = c[i] - cy;
		if (r <= WILDER_PERIOD + 1) {
			if (r == 2)
				sum = g = lo = 0.0;
			sum += tr;
			if (d < 0)
				lo -= d;
			else
				g += d;
			if (r < WILDER_PERIOD + 1) {
				atr_out[i] = rsi_out[i] = NAN;
				continue;
			}
			atr = sum / per;
			g /= per;
			lo /= per;
		} else {
			atr *= keep;
			atr += tr;
			atr /= per;
			g *= keep;
			lo *= keep;
			if (d < 0)
				lo -= d;
			else
				g += d;
			g /= per;
			lo /= per;
		}
		atr_out[i] = atr;
		rsi_out[i] = rsi(g, lo);
	}
}

/* The first value is at the (WILDER_PERIOD + 1)th bar of a segment. */
size_t mde_k_wilder_start(int64_t period_ms, int asset)
{
	return WILDER_PERIOD;
}

size_t mde_k_wilder_warmup(int64_t period_ms, int asset)
{
	return WILDER_PERIOD + MDE_WILDER_WARMUP;
}
