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
#define HALF 10            /* bars of A, and of B */
#define BACK (2 * HALF - 1) /* bars before a row that A and B read */

void mde_k_structure(const mde_kin *in, double *const out[])
{
	double *ms = out[MDE_OUT(structure, MARKET_STRUCTURE)];
	/* tile by tile: rolling max/min of rows [i - BACK, i + len) */
	double hx[TILE + BACK], lx[TILE + BACK];
	size_t n = in->n;
	for (size_t i = 0; i < n && i < BACK; i++)
		ms[i] = NAN;
	for (size_t i = BACK; i < n; i += TILE) {
		size_t len = n - i < TILE ? n - i : TILE;
		mde_win_max(in->h + i - BACK, len + BACK, HALF, hx);
		mde_win_min(in->l + i - BACK, len + BACK, HALF, lx);
		for (size_t j = 0; j < len; j++) {
			if (in->run[i + j] < 2 * HALF) {
				ms[i + j] = NAN;
				continue;
			}
			/* row i + j is at BACK + j in hx, lx; B ends HALF
			   rows earlier */
			double ha = hx[BACK + j], hb = hx[BACK - HALF + j];
			double la = lx[BACK + j], lb = lx[BACK - HALF + j];
			ms[i + j] = (ha > hb && la > lb) ? 1.0 :
				    (ha < hb && la < lb) ? -1.0 : 0.0;
		}
	}
}

size_t mde_k_structure_start(int64_t period_ms, int asset)
{
	return BACK;
}

size_t mde_k_structure_warmup(int64_t period_ms, int asset)
{
	return BACK;
}
