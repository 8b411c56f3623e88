/*
 * structure.c - market_structure: A = the 10 bars ending at t, B = the 10
 * before A. +1 when max h(A) > max h(B) and min l(A) > min l(B), -1 when
 * both are lower, 0 otherwise, NULL unless all 20 bars exist. Rolling
 * max/min are exact, so lag-by-lag tiles give the same values as any order.
 */
#include "engine.h"
#include "window.h"

#include <math.h>

void mde_k_structure(const mde_kin *in, double *const col[])
{
	double *out = col[MDE_COL_MARKET_STRUCTURE];
	double *hx = in->scratch, *lx = hx + in->n;
	size_t n = in->n;
	mde_win_max(in->h, n, 10, hx);
	mde_win_min(in->l, n, 10, lx);
	for (size_t i = 0; i < n; i++) {
		if (in->run[i] < 20) {
			out[i] = NAN;
			continue;
		}
		double ha = hx[i], hb = hx[i - 10], la = lx[i], lb = lx[i - 10];
		out[i] = (ha > hb && la > lb) ? 1.0 :
			 (ha < hb && la < lb) ? -1.0 : 0.0;
	}
}

size_t mde_k_structure_start(int64_t period_ms, int asset)
{
	return 19;
}

size_t mde_k_structure_warmup(int64_t period_ms, int asset)
{
	return 19;
}
