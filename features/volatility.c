/*
 * volatility.c - volatility_20, volatility_50: sample standard deviation
 * (n - 1 divisor, not annualised) of log_return over the 20 (50) bars
 * ending at t, in two passes per window (mean, then squared deviations):
 * an add-one-remove-one running variance is not accurate to 1e-9 after a
 * large move leaves the window. The N log returns exist iff the N + 1 bars
 * ending at t do. Reads log_return (written by returns.c).
 */
#include "engine.h"
#include "window.h"

#define VOL_SHORT 20 /* log returns of volatility_20 */
#define VOL_LONG 50  /* log returns of volatility_50 */

void mde_k_volatility(const mde_kin *in, double *const out[])
{
	static const size_t w[2] = {VOL_SHORT, VOL_LONG};
	static const uint32_t need[2] = {VOL_SHORT + 1, VOL_LONG + 1};
	double *const mean[2] = {NULL, NULL};
	double *const sd[2] = {out[MDE_OUT(volatility, VOLATILITY_20)],
			       out[MDE_OUT(volatility, VOLATILITY_50)]};
	mde_win_meansd2(in->col[MDE_COL_LOG_RETURN], in->n, w, in->run, need,
			mean, sd);
}

/* N log returns span the N + 1 bars ending at a row: N bars before it. */
size_t mde_k_volatility_start(int64_t period_ms, int asset)
{
	return VOL_SHORT;
}

size_t mde_k_volatility_warmup(int64_t period_ms, int asset)
{
	return VOL_LONG;
}
