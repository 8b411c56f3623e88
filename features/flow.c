/*
 * flow.c - delta = 2 * tbb - v (= tbb - (v - tbb), one rounding) and
 * buy_sell_ratio = tbb / (v - tbb), NULL when v - tbb = 0. A NULL taker
 * volume makes both NULL. Crypto only (NULL for equities).
 */
#include "engine.h"

#include <math.h>

void mde_k_flow(const mde_kin *in, double *const out[])
{
	double *delta = out[MDE_OUT(flow, DELTA)];
	double *ratio = out[MDE_OUT(flow, BUY_SELL_RATIO)];
	bool on = in->asset == MDE_CRYPTO;
	for (size_t i = 0; i < in->n; i++) {
		double tbb = on ? in->tbb[i] : NAN, v = in->v[i];
		double sell = v - tbb;
		delta[i] = 2.0 * tbb - v;
		ratio[i] = sell != 0.0 ? tbb / sell : NAN;
	}
}

/* A row reads nothing of the bars before it. */
size_t mde_k_flow_start(int64_t period_ms, int asset)
{
	return 0;
}

size_t mde_k_flow_warmup(int64_t period_ms, int asset)
{
	return 0;
}
