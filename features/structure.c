/*
 * structure.c - market_structure: A = the 10 bars ending at t, B = the 10
 * before A. +1 when max h(A) > max h(B) and min l(A) > min l(B), -1 when
 * both are lower, 0 otherwise, NULL unless all 20 bars exist. Rolling
 * max/min are exact, so lag-by-lag tiles give the same values as any order.
 */
#include "engine.h"
#include "window.h"

#include <math.h>

#define TILE 256

void mde_k_structure(const mde_kin *in, double *const col[])
{
	double *out = col[MDE_COL_MARKET_STRUCTURE];
	/* tile by tile: rolling max/min of rows [i - 19, i + len) */
	double hx[TILE + 19], lx[TILE + 19];
	size_t n = in->n;
	for (size_t i = 0; i < n && i < 19; i++)
		out[i] = NAN;
	for (size_t i = 19; i < n; i += TILE) {
		size_t len = n - i < TILE ? n - i : TILE;
		mde_win_max(in->h + i - 19, len + 19, 10, hx);
		mde_win_min(in->l + i - 19, len + 19, 10, lx);
		for (size_t j = 0; j < len; j++) {
			if (in->run[i + j] < 20) {
				out[i + j] = NAN;
				continue;
			}
			/* row i + j is at 19 + j in hx, lx */
			double ha = hx[19 + j], hb = hx[9 + j];
			double la = lx[19 + j], lb = lx[9 + j];
			out[i + j] = (ha > hb && la > lb) ? 1.0 :
				     (ha < hb && la < lb) ? -1.0 : 0.0;
		}
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
