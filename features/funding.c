/*
 * funding.c - funding_rate and funding_rate_percentile.
 *
 * Both are joined to candles as of the candle's end (latest event with
 * fundingTime < open_time + P, age <= 24 h). The percentile belongs to the
 * event: its rank among the 90 most recent events up to and including it
 * (counted in events, not time), ties averaged as pandas
 * rolling(90).rank(pct=True): (count_less + (count_equal + 1) / 2) / 90,
 * count_equal including the event itself; NULL for the first 89 events of
 * the series given. The count is exact and direct (90 comparisons per
 * distinct event joined); consecutive candles share an event, so it is
 * computed once per event.
 */
#include "engine.h"
#include "timeutil.h"
#include "window.h"

#include <math.h>

#define FUNDING_WINDOW MDE_FUNDING_WINDOW /* events, engine.h */

static double percentile(const double *rate, size_t k)
{
	if (k + 1 < FUNDING_WINDOW)
		return NAN;
	double x = rate[k];
	unsigned less = 0, equal = 0;
	for (size_t j = k + 1 - FUNDING_WINDOW; j <= k; j++) {
		less += rate[j] < x;
		equal += rate[j] == x;
	}
	return (less + (equal + 1) / 2.0) / FUNDING_WINDOW;
}

void mde_k_funding(const mde_kin *in, double *const out[])
{
	double *fr = out[MDE_OUT(funding, FUNDING_RATE)];
	double *pc = out[MDE_OUT(funding, FUNDING_RATE_PERCENTILE)];
	const mde_aux *a = &in->aux->s[MDE_AUX_FUNDING];
	int32_t *idx = in->scratch;
	if (!mde_kin_asof(in, MDE_AUX_FUNDING, fr, idx)) {
		for (size_t i = 0; i < in->n; i++)
			pc[i] = NAN;
		return;
	}
	int32_t last = -1;
	double lastp = NAN;
	for (size_t i = 0; i < in->n; i++) {
		if (idx[i] < 0) {
			pc[i] = NAN;
			continue;
		}
		if (idx[i] != last) {
			last = idx[i];
			lastp = percentile(a->v, (size_t)last);
		}
		pc[i] = lastp;
	}
}

/* The percentile's window counts events, not bars: the engine loads them
   (mde_features_aux_need); a row reads no earlier bar. */
size_t mde_k_funding_start(int64_t period_ms, int asset)
{
	return 0;
}

size_t mde_k_funding_warmup(int64_t period_ms, int asset)
{
	return 0;
}
