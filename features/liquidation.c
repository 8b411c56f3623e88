/*
 * liquidation.c - liquidation_intensity: the liquidated base quantity of
 * every event with open_time <= time < open_time + P, summed in time
 * order, divided by v. NULL when no liquidation source is configured, when
 * v = 0, for gaps and for equities; 0 when the bar had no event.
 */
#include "engine.h"

#include <math.h>

void mde_k_liquidation(const mde_kin *in, double *const out[])
{
	double *li = out[MDE_OUT(liquidation, LIQUIDATION_INTENSITY)];
	const mde_aux *a = &in->aux->s[MDE_AUX_LIQUIDATIONS];
	bool on = in->asset == MDE_CRYPTO &&
		  in->aux->configured[MDE_AUX_LIQUIDATIONS];
	size_t j = 0;
	for (size_t i = 0; i < in->n; i++) {
		if (!on || !in->valid[i] || !(in->v[i] != 0.0)) {
			li[i] = NAN;
			continue;
		}
		int64_t t0 = in->t[i], t1 = t0 + in->period_ms;
		while (j < a->n && a->t[j] < t0)
			j++;
		double sum = 0.0;
		for (; j < a->n && a->t[j] < t1; j++)
			sum += a->v[j];
		li[i] = sum / in->v[i];
	}
}

/* A row reads nothing of the bars before it. */
size_t mde_k_liquidation_start(int64_t period_ms, int asset)
{
	return 0;
}

size_t mde_k_liquidation_warmup(int64_t period_ms, int asset)
{
	return 0;
}
