/*
 * asof.c - long_short_ratio (staleness max(2P, 2 h)) and exchange_inflow
 * (staleness 2 days): the latest observation with timestamp < open_time +
 * P whose age is <= the limit. Crypto only; NULL when not configured.
 */
#include "engine.h"
#include "window.h"

#include <math.h>

void mde_k_asof(const mde_kin *in, double *const out[])
{
	mde_kin_asof(in, MDE_AUX_LONG_SHORT,
		     out[MDE_OUT(asof, LONG_SHORT_RATIO)], NULL);
	mde_kin_asof(in, MDE_AUX_INFLOW, out[MDE_OUT(asof, EXCHANGE_INFLOW)],
		     NULL);
}

/* A row reads nothing of the bars before it. */
size_t mde_k_asof_start(int64_t period_ms, int asset)
{
	return 0;
}

size_t mde_k_asof_warmup(int64_t period_ms, int asset)
{
	return 0;
}
