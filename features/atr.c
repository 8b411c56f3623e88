/*
 * atr.c - atr_14: TA-Lib's ATR(14) run separately on every segment (maximal
 * run of bars with no gap).
 *
 * TR_i = max(h_i - l_i, |h_i - c_(i-1)|, |l_i - c_(i-1)|) for each bar with
 * a previous bar in its segment (TA-Lib's TRANGE, same comparisons). The
 * first ATR is at the 15th bar of a segment: the sequential sum of its
 * first 14 TRs divided by 14 (TA_INT_SMA); then ATR_i = (ATR_(i-1) * 13 +
 * TR_i) / 14 in exactly TA-Lib's order of operations (multiply, add,
 * divide). A chunk that starts inside a segment seeds differently; after
 * MDE_WILDER_WARMUP further bars the difference has shrunk by (13/14)^1000.
 */
#include "engine.h"

#include <math.h>

void mde_k_atr(const mde_kin *in, double *const col[])
{
	double *out = col[MDE_COL_ATR_14];
	const double *h = in->h, *l = in->l, *c = in->c;
	double sum = 0.0, atr = 0.0;
	for (size_t i = 0; i < in->n; i++) {
		uint32_t r = in->run[i];
		if (r < 2) {
			out[i] = NAN;
			continue;
		}
		double cy = c[i - 1], tr = h[i] - l[i];
		double v2 = fabs(cy - h[i]), v3 = fabs(l[i] - cy);
		if (v2 > tr)
			tr = v2;
		if (v3 > tr)
			tr = v3;
		if (r <= 15) {
			sum = r == 2 ? tr : sum + tr;
			if (r < 15) {
				out[i] = NAN;
				continue;
			}
			atr = sum / 14.0;
		} else {
			atr *= 13.0;
			atr += tr;
			atr /= 14.0;
		}
		out[i] = atr;
	}
}

size_t mde_k_atr_start(int64_t period_ms, int asset)
{
	return 14;
}

size_t mde_k_atr_warmup(int64_t period_ms, int asset)
{
	return 14 + MDE_WILDER_WARMUP;
}
