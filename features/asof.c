/*
 * asof.c - long_short_ratio (staleness max(2P, 2 h)) and exchange_inflow
 * (staleness 2 days): the latest observation with timestamp < open_time +
 * P whose age is <= the limit. Crypto only; NULL when not configured.
 */
#include "engine.h"
#include "window.h"

#include <math.h>

static void join(const mde_kin *in, int kind, double *out)
{
	const mde_aux *a = &in->aux->s[kind];
	if (in->asset != MDE_CRYPTO || !in->aux->configured[kind]) {
		for (size_t i = 0; i < in->n; i++)
			out[i] = NAN;
		return;
	}
	mde_win_asof(in->t, in->valid, in->n, in->period_ms, a->t, a->v, a->n,
		     mde_features_staleness(kind, in->period_ms), out, NULL);
}

void mde_k_asof(const mde_kin *in, double *const col[])
{
	join(in, MDE_AUX_LONG_SHORT, col[MDE_COL_LONG_SHORT_RATIO]);
	join(in, MDE_AUX_INFLOW, col[MDE_COL_EXCHANGE_INFLOW]);
}

size_t mde_k_asof_start(int64_t period_ms, int asset)
{
	return 0;
}

size_t mde_k_asof_warmup(int64_t period_ms, int asset)
{
	return 0;
}
