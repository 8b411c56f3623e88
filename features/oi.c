/*
 * oi.c - open_interest (as of the candle's end, staleness max(2P, 2 h))
 * and open_interest_change = oi_t / oi_prev - 1, NULL when either is NULL,
 * the previous bar is a gap, or oi_prev = 0. Crypto only.
 */
#include "engine.h"
#include "window.h"

#include <math.h>

#define OI_LAG 1 /* the change reads the previous bar */

void mde_k_oi(const mde_kin *in, double *const out[])
{
	double *oi = out[MDE_OUT(oi, OPEN_INTEREST)];
	double *ch = out[MDE_OUT(oi, OPEN_INTEREST_CHANGE)];
	if (!mde_kin_asof(in, MDE_AUX_OPEN_INTEREST, oi, NULL)) {
		for (size_t i = 0; i < in->n; i++)
			ch[i] = NAN;
		return;
	}
	for (size_t i = 0; i < in->n; i++) {
		/* NaN in either operand already gives NaN */
		ch[i] = (in->run[i] >= OI_LAG + 1 && oi[i - OI_LAG] != 0.0) ?
				oi[i] / oi[i - OI_LAG] - 1.0 :
				NAN;
	}
}

size_t mde_k_oi_start(int64_t period_ms, int asset)
{
	return OI_LAG;
}

size_t mde_k_oi_warmup(int64_t period_ms, int asset)
{
	return OI_LAG;
}
