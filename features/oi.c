/*
 * oi.c - open_interest (as of the candle's end, staleness max(2P, 2 h))
 * and open_interest_change = oi_t / oi_prev - 1, NULL when either is NULL,
 * the previous bar is a gap, or oi_prev = 0. Crypto only.
 */
#include "engine.h"
#include "window.h"

#include <math.h>

void mde_k_oi(const mde_kin *in, double *const col[])
{
	double *oi = col[MDE_COL_OPEN_INTEREST];
	double *ch = col[MDE_COL_OPEN_INTEREST_CHANGE];
	const mde_aux *a = &in->aux->s[MDE_AUX_OPEN_INTEREST];
	if (in->asset != MDE_CRYPTO ||
	    !in->aux->configured[MDE_AUX_OPEN_INTEREST]) {
		for (size_t i = 0; i < in->n; i++)
			oi[i] = ch[i] = NAN;
		return;
	}
	mde_win_asof(in->t, in->valid, in->n, in->period_ms, a->t, a->v, a->n,
		     mde_features_staleness(MDE_AUX_OPEN_INTEREST,
					    in->period_ms),
		     oi, NULL);
	for (size_t i = 0; i < in->n; i++) {
		/* NaN in either operand already gives NaN */
		ch[i] = (in->run[i] >= 2 && oi[i - 1] != 0.0) ?
				oi[i] / oi[i - 1] - 1.0 :
				NAN;
	}
}

size_t mde_k_oi_start(int64_t period_ms, int asset)
{
	return 1;
}

size_t mde_k_oi_warmup(int64_t period_ms, int asset)
{
	return 1;
}
