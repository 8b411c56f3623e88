/*
 * returns.c - return_1h, return_1d, log_return.
 *
 * return_1h: c_t / c_(t-1h) - 1 with t-1h the bar exactly 3600 s earlier
 * (crypto: the slot 1h/P back, whatever lies between; NULL when P > 1h).
 * return_1d: crypto c_t / c_(t-24h) - 1 (NULL when P > 1d); equity
 * c_t / c_prev - 1. log_return: ln(c_t / c_prev), prev = previous bar (the
 * slot before, NaN when it is a gap). Gaps are NaN in c, so a missing bar
 * propagates NaN without a test.
 */
#include "engine.h"
#include "timeutil.h"

#include <math.h>

/* log_return (and an equity's return_1d) reads the previous bar. */
#define PREV_LAG 1

/* Crypto: ratio of the slot lag back; lag 0 means "not defined". */
static void lag_return(const mde_kin *in, size_t lag, double *out)
{
	const double *c = in->c;
	size_t n = in->n, i = 0;
	if (lag == 0)
		lag = n;
	for (; i < n && i < lag; i++)
		out[i] = NAN;
	for (; i < n; i++)
		out[i] = c[i] / c[i - lag] - 1.0;
}

/* Equity: the bar whose open_time is exactly t - dt (bars are sorted). */
static void time_return(const mde_kin *in, int64_t dt, double *out)
{
	size_t j = 0;
	for (size_t i = 0; i < in->n; i++) {
		int64_t want = in->t[i] - dt;
		while (j < i && in->t[j] < want)
			j++;
		out[i] = (j < i && in->t[j] == want) ?
				 in->c[i] / in->c[j] - 1.0 :
				 NAN;
	}
}

static size_t lag_of(int64_t span, int64_t period_ms)
{
	if (period_ms <= 0 || period_ms > span || span % period_ms)
		return 0;
	return (size_t)(span / period_ms);
}

void mde_k_returns(const mde_kin *in, double *const out[])
{
	double *r1h = out[MDE_OUT(returns, RETURN_1H)];
	double *r1d = out[MDE_OUT(returns, RETURN_1D)];
	double *lr = out[MDE_OUT(returns, LOG_RETURN)];
	const double *c = in->c;
	if (in->asset == MDE_EQUITY) {
		if (in->period_ms <= MDE_HOUR_MS)
			time_return(in, MDE_HOUR_MS, r1h);
		else
			lag_return(in, 0, r1h);
		lag_return(in, PREV_LAG, r1d);
	} else {
		lag_return(in, lag_of(MDE_HOUR_MS, in->period_ms), r1h);
		lag_return(in, lag_of(MDE_DAY_MS, in->period_ms), r1d);
	}
	if (in->n)
		lr[0] = NAN;
	for (size_t i = 1; i < in->n; i++)
		lr[i] = log(c[i] / c[i - 1]);
}

size_t mde_k_returns_start(int64_t period_ms, int asset)
{
	return PREV_LAG;
}

/* Equity: return_1h finds the bar 1 h back by time, within 1h / P bars
   and the previous one; crypto: return_1d reads the slot 1 d back. */
size_t mde_k_returns_warmup(int64_t period_ms, int asset)
{
	if (asset == MDE_EQUITY)
		return period_ms <= MDE_HOUR_MS ?
			       (size_t)(MDE_HOUR_MS / period_ms) + PREV_LAG :
			       PREV_LAG;
	size_t d = lag_of(MDE_DAY_MS, period_ms);
	return d > PREV_LAG ? d : PREV_LAG;
}
