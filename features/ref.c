/*
 * ref.c - the naive twin of the engine: every column computed from
 * FEATURES.md's wording, one row at a time, by looking bars up by time and
 * walking windows oldest to newest, with none of the engine's helpers (no
 * run lengths, no tiles, no shared as-of join). Slow (O(n * window)) and
 * obviously right; tests hold the engine against it.
 *
 * One twin mde_ref_<name> per features.def row, writing the same columns
 * through the same out[MDE_OUT(name, COLUMN)]; the registry points at it,
 * so a kernel without its twin does not link. Each twin computes from the
 * series alone (trend recomputes its SMAs), gap rows NaN.
 */
#include "engine.h"
#include "timeutil.h"

#include <math.h>
#include <stdlib.h>

/* Index of the bar with open_time t (valid), or -1. */
static long find_bar(const mde_series *s, long from, int64_t t)
{
	for (long j = from; j >= 0 && s->t[j] >= t; j--)
		if (s->t[j] == t)
			return s->valid[j] ? j : -1;
	return -1;
}

/* The previous bar of i: slot t - P (crypto) or the previous trading bar
   (equity), -1 if missing. */
static long prev_bar(const mde_series *s, long i)
{
	if (i <= 0)
		return -1;
	if (s->asset == MDE_EQUITY)
		return i - 1;
	return find_bar(s, i - 1, s->t[i] - s->period_ms);
}

/* The N bars ending at i exist: fills idx[0..N) oldest first. */
static bool window(const mde_series *s, long i, int nb, long *idx)
{
	long j = i;
	for (int k = nb - 1; k >= 0; k--) {
		if (j < 0 || !s->valid[j])
			return false;
		idx[k] = j;
		if (k > 0)
			j = prev_bar(s, j);
	}
	return true;
}

static double mean_of(const double *x, int nb)
{
	double sum = 0.0;
	for (int k = 0; k < nb; k++)
		sum += x[k];
	bool same = true;
	for (int k = 1; k < nb; k++)
		same = same && x[k] == x[0];
	return same ? x[0] : sum / nb;
}

static double sd_of(const double *x, int nb)
{
	double m = mean_of(x, nb), ss = 0.0;
	for (int k = 0; k < nb; k++)
		ss += (x[k] - m) * (x[k] - m);
	bool same = true;
	for (int k = 1; k < nb; k++)
		same = same && x[k] == x[0];
	return same ? 0.0 : sqrt(ss / (nb - 1));
}

static double col_mean(const mde_series *s, int f, long i, int nb)
{
	long idx[64];
	double x[64];
	if (!window(s, i, nb, idx))
		return NAN;
	for (int k = 0; k < nb; k++)
		x[k] = s->val[f][idx[k]];
	return mean_of(x, nb);
}

static double log_ret(const mde_series *s, long i)
{
	long p = prev_bar(s, i);
	if (p < 0 || !s->valid[i])
		return NAN;
	return log(s->val[MDE_CLOSE][i] / s->val[MDE_CLOSE][p]);
}

static double vol(const mde_series *s, long i, int nb)
{
	long idx[64];
	double x[64];
	if (!window(s, i, nb + 1, idx))
		return NAN;
	for (int k = 0; k < nb; k++)
		x[k] = log_ret(s, idx[k + 1]);
	return sd_of(x, nb);
}

static double ret_back(const mde_series *s, long i, int64_t dt)
{
	long j = find_bar(s, i - 1, s->t[i] - dt);
	return j < 0 ? NAN : s->val[MDE_CLOSE][i] / s->val[MDE_CLOSE][j] - 1.0;
}

/* ATR and RSI, TA-Lib style, separately on each segment. */
static void wilder(const mde_series *s, double *atr, double *rsi)
{
	long n = (long)s->n;
	for (long i = 0; i < n; i++)
		atr[i] = rsi[i] = NAN;
	long a = 0;
	while (a < n) {
		if (!s->valid[a]) {
			a++;
			continue;
		}
		long b = a; /* segment [a, b] */
		while (b + 1 < n && s->valid[b + 1] && prev_bar(s, b + 1) == b)
			b++;
		const double *h = s->val[MDE_HIGH], *l = s->val[MDE_LOW],
			     *c = s->val[MDE_CLOSE];
		double trs = 0, at = 0, g = 0, lo = 0;
		for (long i = a + 1; i <= b; i++) {
			long k = i - a; /* TRs so far */
			double tr = fmax(h[i] - l[i],
					 fmax(fabs(h[i] - c[i - 1]),
					      fabs(l[i] - c[i - 1])));
			double d = c[i] - c[i - 1];
			double gain = d > 0 ? d : 0, loss = d < 0 ? -d : 0;
			if (k <= 14) {
				trs += tr;
				g += gain;
				lo += loss;
				if (k < 14)
					continue;
				at = trs / 14;
				g /= 14;
				lo /= 14;
			} else {
				at = (at * 13 + tr) / 14;
				g = (g * 13 + gain) / 14;
				lo = (lo * 13 + loss) / 14;
			}
			atr[i] = at;
			rsi[i] = fabs(g + lo) < 1e-14 ? 0 : 100 * (g / (g + lo));
		}
		a = b + 1;
	}
}

static int above(double x, double y)
{
	return x - y > 1e-10 * fabs(y);
}

static double trend(double c, double s20, double s50)
{
	if (isnan(s50))
		return NAN;
	if (above(c, s20) && above(s20, s50))
		return 1;
	if (above(s20, c) && above(s50, s20))
		return -1;
	return 0;
}

static double structure(const mde_series *s, long i)
{
	long idx[20];
	if (!window(s, i, 20, idx))
		return NAN;
	double hb = -INFINITY, lb = INFINITY, ha = -INFINITY, la = INFINITY;
	for (int k = 0; k < 10; k++) {
		hb = fmax(hb, s->val[MDE_HIGH][idx[k]]);
		lb = fmin(lb, s->val[MDE_LOW][idx[k]]);
		ha = fmax(ha, s->val[MDE_HIGH][idx[k + 10]]);
		la = fmin(la, s->val[MDE_LOW][idx[k + 10]]);
	}
	if (ha > hb && la > lb)
		return 1;
	if (ha < hb && la < lb)
		return -1;
	return 0;
}

/* Latest observation before end, within limit: its index or -1. */
static long asof(const mde_aux *a, int64_t end, int64_t limit)
{
	long j = -1;
	for (long k = 0; k < (long)a->n && a->t[k] < end; k++)
		j = k;
	if (j >= 0 && end - a->t[j] > limit)
		j = -1;
	return j;
}

static double pct(const mde_aux *a, long e)
{
	if (e < 89)
		return NAN;
	double less = 0, eq = 0;
	for (long k = e - 89; k <= e; k++) {
		if (a->v[k] < a->v[e])
			less++;
		if (a->v[k] == a->v[e])
			eq++;
	}
	return (less + (eq + 1) / 2) / 90;
}

/* Gap slot i: NaN in the nout columns out[], and true. */
static bool gap(const mde_series *s, long i, double *const out[],
		size_t nout)
{
	if (s->valid[i])
		return false;
	for (size_t j = 0; j < nout; j++)
		out[j][i] = NAN;
	return true;
}

#define ROWS(name)                                                        \
	for (long i = 0; i < (long)s->n; i++)                             \
		if (!gap(s, i, out, MDE_NOUT(name)))

/* max(2P, 2 h): open interest and long/short staleness */
static int64_t lim2(const mde_series *s)
{
	int64_t P = s->period_ms;
	return P * 2 > 2 * MDE_HOUR_MS ? P * 2 : 2 * MDE_HOUR_MS;
}

void mde_ref_returns(const mde_series *s, const mde_auxset *aux,
		     double *const out[])
{
	int64_t P = s->period_ms;
	bool crypto = s->asset == MDE_CRYPTO;
	ROWS(returns) {
		double c = s->val[MDE_CLOSE][i];
		out[MDE_OUT(returns, RETURN_1H)][i] =
			P <= MDE_HOUR_MS ? ret_back(s, i, MDE_HOUR_MS) : NAN;
		if (crypto)
			out[MDE_OUT(returns, RETURN_1D)][i] =
				P <= MDE_DAY_MS ? ret_back(s, i, MDE_DAY_MS) :
						  NAN;
		else
			out[MDE_OUT(returns, RETURN_1D)][i] =
				i > 0 ? c / s->val[MDE_CLOSE][i - 1] - 1 : NAN;
		out[MDE_OUT(returns, LOG_RETURN)][i] = log_ret(s, i);
	}
}

void mde_ref_volatility(const mde_series *s, const mde_auxset *aux,
			double *const out[])
{
	ROWS(volatility) {
		out[MDE_OUT(volatility, VOLATILITY_20)][i] = vol(s, i, 20);
		out[MDE_OUT(volatility, VOLATILITY_50)][i] = vol(s, i, 50);
	}
}

void mde_ref_wilder(const mde_series *s, const mde_auxset *aux,
		    double *const out[])
{
	wilder(s, out[MDE_OUT(wilder, ATR_14)], out[MDE_OUT(wilder, RSI_14)]);
}

void mde_ref_sma(const mde_series *s, const mde_auxset *aux,
		 double *const out[])
{
	ROWS(sma) {
		out[MDE_OUT(sma, SMA_20)][i] = col_mean(s, MDE_CLOSE, i, 20);
		out[MDE_OUT(sma, SMA_50)][i] = col_mean(s, MDE_CLOSE, i, 50);
	}
}

void mde_ref_volume(const mde_series *s, const mde_auxset *aux,
		    double *const out[])
{
	ROWS(volume) {
		double v = s->val[MDE_VOLUME][i];
		long idx[20];
		double vm = NAN, z = NAN;
		if (window(s, i, 20, idx)) {
			double x[20];
			for (int k = 0; k < 20; k++)
				x[k] = s->val[MDE_VOLUME][idx[k]];
			vm = mean_of(x, 20);
			double sd = sd_of(x, 20);
			z = sd == 0 ? NAN : (v - vm) / sd;
		}
		out[MDE_OUT(volume, ROLLING_VOLUME_20)][i] = vm;
		out[MDE_OUT(volume, VOLUME_SPIKE_SCORE)][i] = z;
	}
}

void mde_ref_trend(const mde_series *s, const mde_auxset *aux,
		   double *const out[])
{
	ROWS(trend) {
		out[MDE_OUT(trend, TREND_DIRECTION)][i] =
			trend(s->val[MDE_CLOSE][i],
			      col_mean(s, MDE_CLOSE, i, 20),
			      col_mean(s, MDE_CLOSE, i, 50));
	}
}

void mde_ref_structure(const mde_series *s, const mde_auxset *aux,
		       double *const out[])
{
	ROWS(structure) {
		out[MDE_OUT(structure, MARKET_STRUCTURE)][i] = structure(s, i);
	}
}

void mde_ref_flow(const mde_series *s, const mde_auxset *aux,
		  double *const out[])
{
	bool crypto = s->asset == MDE_CRYPTO;
	ROWS(flow) {
		double v = s->val[MDE_VOLUME][i];
		double tbb = s->val[MDE_TAKER_BUY_BASE][i];
		out[MDE_OUT(flow, DELTA)][i] = crypto ? tbb - (v - tbb) : NAN;
		out[MDE_OUT(flow, BUY_SELL_RATIO)][i] =
			crypto && v - tbb != 0 ? tbb / (v - tbb) : NAN;
	}
}

void mde_ref_funding(const mde_series *s, const mde_auxset *aux,
		     double *const out[])
{
	const mde_aux *fa = &aux->s[MDE_AUX_FUNDING];
	bool on = s->asset == MDE_CRYPTO && aux->configured[MDE_AUX_FUNDING];
	ROWS(funding) {
		int64_t end = s->t[i] + s->period_ms;
		long e = on ? asof(fa, end, 24 * MDE_HOUR_MS) : -1;
		out[MDE_OUT(funding, FUNDING_RATE)][i] = e >= 0 ? fa->v[e] : NAN;
		out[MDE_OUT(funding, FUNDING_RATE_PERCENTILE)][i] =
			e >= 0 ? pct(fa, e) : NAN;
	}
}

void mde_ref_oi(const mde_series *s, const mde_auxset *aux,
		double *const out[])
{
	const mde_aux *oa = &aux->s[MDE_AUX_OPEN_INTEREST];
	bool on = s->asset == MDE_CRYPTO &&
		  aux->configured[MDE_AUX_OPEN_INTEREST];
	int64_t P = s->period_ms;
	ROWS(oi) {
		long o = on ? asof(oa, s->t[i] + P, lim2(s)) : -1;
		out[MDE_OUT(oi, OPEN_INTEREST)][i] = o >= 0 ? oa->v[o] : NAN;
		long p = prev_bar(s, i);
		long op = on && p >= 0 ? asof(oa, s->t[p] + P, lim2(s)) : -1;
		out[MDE_OUT(oi, OPEN_INTEREST_CHANGE)][i] =
			o >= 0 && op >= 0 && oa->v[op] != 0 ?
				oa->v[o] / oa->v[op] - 1 : NAN;
	}
}

void mde_ref_asof(const mde_series *s, const mde_auxset *aux,
		  double *const out[])
{
	bool crypto = s->asset == MDE_CRYPTO;
	const mde_aux *la = &aux->s[MDE_AUX_LONG_SHORT];
	const mde_aux *ia = &aux->s[MDE_AUX_INFLOW];
	ROWS(asof) {
		int64_t end = s->t[i] + s->period_ms;
		long q = crypto && aux->configured[MDE_AUX_LONG_SHORT] ?
				 asof(la, end, lim2(s)) : -1;
		out[MDE_OUT(asof, LONG_SHORT_RATIO)][i] =
			q >= 0 ? la->v[q] : NAN;
		long w = crypto && aux->configured[MDE_AUX_INFLOW] ?
				 asof(ia, end, 2 * MDE_DAY_MS) : -1;
		out[MDE_OUT(asof, EXCHANGE_INFLOW)][i] = w >= 0 ? ia->v[w] : NAN;
	}
}

void mde_ref_liquidation(const mde_series *s, const mde_auxset *aux,
			 double *const out[])
{
	const mde_aux *qa = &aux->s[MDE_AUX_LIQUIDATIONS];
	bool on = s->asset == MDE_CRYPTO &&
		  aux->configured[MDE_AUX_LIQUIDATIONS];
	ROWS(liquidation) {
		double v = s->val[MDE_VOLUME][i], li = NAN;
		int64_t end = s->t[i] + s->period_ms;
		if (on && v != 0) {
			double sum = 0;
			for (size_t k = 0; k < qa->n; k++)
				if (qa->t[k] >= s->t[i] && qa->t[k] < end)
					sum += qa->v[k];
			li = sum / v;
		}
		out[MDE_OUT(liquidation, LIQUIDATION_INTENSITY)][i] = li;
	}
}

/* The twins in registry order, each on its own columns, then the row
   quality columns. */
int mde_features_ref(mde_frame *out, const mde_series *s,
		     const mde_auxset *aux, mde_err *err)
{
	static const mde_auxset none;
	if (!aux)
		aux = &none;
	if (mde_frame_reserve(out, s->n ? s->n : 1))
		return mde_err_set(err, MDE_ENOMEM, false, "out of memory");
	out->n = s->n;
	for (size_t k = 0; k < mde_nkernels; k++) {
		double *o[MDE_KERNEL_MAX_OUT];
		for (size_t j = 0; j < mde_kernels[k].nout; j++)
			o[j] = out->col[mde_kernels[k].out[j]];
		mde_kernels[k].ref(s, aux, o);
	}
	for (long i = 0; i < (long)s->n; i++) {
		if (!s->valid[i]) {
			out->flags[i] = 0;
			out->quality[i] = NAN;
			continue;
		}
		double lr = log_ret(s, i), v = s->val[MDE_VOLUME][i];
		int32_t fl = 0;
		double qs = 1;
		if (!isnan(lr) && fabs(lr) > 0.5)
			fl |= MDE_VF_EXTREME, qs -= 0.5;
		if (v == 0)
			fl |= MDE_VF_ZERO_VOLUME, qs -= 0.25;
		out->flags[i] = fl;
		out->quality[i] = qs < 0 ? 0 : qs;
	}
	return 0;
}
