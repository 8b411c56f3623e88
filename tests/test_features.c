/*
 * test_features.c - every feature against values worked out independently
 * of the code: by hand (the arithmetic is in the comments) or, for the
 * recursive and statistical ones, with exact rational arithmetic in Python
 * (fractions.Fraction on the very doubles fed here, statistics.stdev),
 * following FEATURES.md's wording. The script is quoted where used.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "test_features_util.h"
#include "timeutil.h"

#define T0 INT64_C(1704067200000) /* 2024-01-01 00:00 UTC */
#define H MDE_HOUR_MS

typedef struct fx {
	mde_candles c;
	mde_validation v;
	mde_auxset aux;
	mde_frame f;
} fx;

/* Bars i = 0..n-1 at times[i] (or T0 + i*P); cl[i] NaN = no bar (gap). */
static void build(fx *x, int64_t P, enum mde_asset asset, size_t n, const int64_t *times,
		  const double *cl, const double *hi, const double *lo,
		  const double *vol, const double *tbb)
{
	mde_candles_init(&x->c);
	for (size_t i = 0; i < n; i++) {
		if (isnan(cl[i]))
			continue;
		double h = hi ? hi[i] : cl[i], l = lo ? lo[i] : cl[i];
		double o = fmin(fmax(cl[i], l), h);
		tu_bar b = {times ? times[i] : T0 + (int64_t)i * P, o, h, l,
			    cl[i], vol ? vol[i] : 1.0, tbb ? tbb[i] : NAN};
		tu_push(&x->c, &b);
	}
	memset(&x->v, 0, sizeof x->v);
	tu_validate(&x->v, &x->c, P, asset);
}

static void compute(fx *x)
{
	mde_err err = {0};
	memset(&x->f, 0, sizeof x->f);
	assert_int_equal(mde_features_compute(&x->f, &x->v.series, &x->aux,
					      &err), 0);
	/* and the naive twin agrees on every fixture */
	mde_frame r = {0};
	assert_int_equal(mde_features_ref(&r, &x->v.series, &x->aux, &err), 0);
	for (size_t i = 0; i < r.n; i++)
		for (int k = 0; k < MDE_NFEATURES; k++)
			assert_true(tu_close(x->f.col[k][i], r.col[k][i], 1e-12,
					     1e-13));
	mde_frame_free(&r);
}

static void done(fx *x)
{
	mde_frame_free(&x->f);
	mde_validation_free(&x->v);
	mde_auxset_free(&x->aux);
	mde_candles_free(&x->c);
}

/* Value of column k at the slot whose open_time is t. */
static double at(const fx *x, int k, int64_t t)
{
	for (size_t i = 0; i < x->v.series.n; i++)
		if (x->v.series.t[i] == t)
			return x->f.col[k][i];
	fail_msg("no slot at %lld", (long long)t);
	return NAN;
}

static void expect(double got, double want)
{
	if (!tu_close(got, want, 1e-12, 1e-15)) {
		fprintf(stderr, "got %.17g want %.17g\n", got, want);
		fail();
	}
}

#define NUL NAN

/* ---- returns -------------------------------------------------------- */

static void test_returns_gaps(void **state)
{
	/* 5m bars, close = 100 + slot; slots 3 and 7..9 missing. */
	fx x = {0};
	double cl[40];
	for (int i = 0; i < 40; i++)
		cl[i] = 100 + i;
	cl[3] = cl[7] = cl[8] = cl[9] = NAN;
	int64_t P = 5 * MDE_MINUTE_MS;
	build(&x, P, MDE_CRYPTO, 40, NULL, cl, NULL, NULL, NULL, NULL);
	compute(&x);
	assert_int_equal(x.v.series.n, 40);
	/* return_1h: the slot 12 back, whatever lies between */
	expect(at(&x, MDE_COL_RETURN_1H, T0 + 11 * P), NUL); /* no slot -1 */
	expect(at(&x, MDE_COL_RETURN_1H, T0 + 12 * P), 112.0 / 100 - 1);
	expect(at(&x, MDE_COL_RETURN_1H, T0 + 15 * P), NUL); /* slot 3 gap */
	expect(at(&x, MDE_COL_RETURN_1H, T0 + 16 * P), 116.0 / 104 - 1);
	expect(at(&x, MDE_COL_RETURN_1H, T0 + 19 * P), NUL); /* slot 7 */
	/* gaps between do not matter: 22 - 12 = 10, slots 7..9 between */
	expect(at(&x, MDE_COL_RETURN_1H, T0 + 22 * P), 122.0 / 110 - 1);
	/* return_1d needs 288 slots back: none here */
	expect(at(&x, MDE_COL_RETURN_1D, T0 + 39 * P), NUL);
	/* log_return: previous slot; NULL right after a gap */
	expect(at(&x, MDE_COL_LOG_RETURN, T0), NUL);
	expect(at(&x, MDE_COL_LOG_RETURN, T0 + 4 * P), NUL);
	expect(at(&x, MDE_COL_LOG_RETURN, T0 + 5 * P), log(105.0 / 104));
	expect(at(&x, MDE_COL_LOG_RETURN, T0 + 10 * P), NUL);
	expect(at(&x, MDE_COL_LOG_RETURN, T0 + 11 * P), log(111.0 / 110));
	/* gap slots exist with every feature NULL */
	for (int k = 0; k < MDE_NFEATURES; k++)
		expect(at(&x, k, T0 + 8 * P), NUL);
	done(&x);
}

static void test_returns_1d_and_long_timeframes(void **state)
{
	/* 1h bars for 2 days: return_1d = c_t / c_(t-24h) - 1 */
	fx x = {0};
	double cl[50];
	for (int i = 0; i < 50; i++)
		cl[i] = 200 + 2 * i;
	build(&x, H, MDE_CRYPTO, 50, NULL, cl, NULL, NULL, NULL, NULL);
	compute(&x);
	expect(at(&x, MDE_COL_RETURN_1D, T0 + 23 * H), NUL);
	expect(at(&x, MDE_COL_RETURN_1D, T0 + 24 * H), 248.0 / 200 - 1);
	expect(at(&x, MDE_COL_RETURN_1D, T0 + 49 * H), 298.0 / 250 - 1);
	expect(at(&x, MDE_COL_RETURN_1H, T0 + 49 * H), 298.0 / 296 - 1);
	done(&x);
	/* 4h: return_1h NULL (P > 1h); return_1d 6 bars back */
	fx y = {0};
	build(&y, 4 * H, MDE_CRYPTO, 10, NULL, cl, NULL, NULL, NULL, NULL);
	compute(&y);
	expect(at(&y, MDE_COL_RETURN_1H, T0 + 36 * H), NUL);
	expect(at(&y, MDE_COL_RETURN_1D, T0 + 24 * H), 212.0 / 200 - 1);
	done(&y);
}

static void test_equity_weekend_not_gap(void **state)
{
	/* Yahoo stamps at 14:30 UTC: Thu, Fri, Mon, Tue (2024-01-04..09) */
	int64_t t[4] = {T0 + 3 * MDE_DAY_MS + 870 * MDE_MINUTE_MS,
			T0 + 4 * MDE_DAY_MS + 870 * MDE_MINUTE_MS,
			T0 + 7 * MDE_DAY_MS + 870 * MDE_MINUTE_MS,
			T0 + 8 * MDE_DAY_MS + 870 * MDE_MINUTE_MS};
	double cl[4] = {180, 181.5, 183, 182};
	double tbb[4] = {0.5, 0.5, 0.5, 0.5};
	fx x = {0};
	build(&x, MDE_DAY_MS, MDE_EQUITY, 4, t, cl, NULL, NULL, NULL, tbb);
	compute(&x);
	assert_int_equal(x.v.series.n, 4); /* no weekend slots */
	assert_int_equal(x.v.stats.gaps, 0);
	expect(at(&x, MDE_COL_RETURN_1D, t[2]), 183 / 181.5 - 1);
	expect(at(&x, MDE_COL_LOG_RETURN, t[2]), log(183 / 181.5));
	expect(at(&x, MDE_COL_RETURN_1H, t[2]), NUL);
	expect(at(&x, MDE_COL_RETURN_1D, t[0]), NUL);
	/* crypto features are NULL for equities */
	expect(at(&x, MDE_COL_DELTA, t[1]), NUL);
	expect(at(&x, MDE_COL_BUY_SELL_RATIO, t[1]), NUL);
	done(&x);
}

/* ---- the 30-bar fixture of tests' expect.py ------------------------- */

static const double C30[30] = {
	100.25, 101.5,  100.75, 102.0,  103.25, 102.5,  101.0,  101.75,
	103.0,  104.5,  104.0,  103.5,  105.25, 106.0,  105.5,  104.75,
	106.5,  107.25, 106.0,  105.0,  104.25, 105.75, 107.0,  108.5,
	108.0,  107.25, 109.0,  110.25, 109.5,  111.0};
static const double UP[10] = {0.5, 1.25, 0.75, 0.5, 1.0,
			      0.25, 0.75, 1.5, 0.5, 0.25};
static const double DN[10] = {0.75, 0.5, 1.0, 0.25, 0.5,
			      1.25, 0.5, 0.25, 1.0, 0.75};

/*
 * Python, exact: tr = max(F(h)-F(l), |F(h)-F(c_prev)|, |F(l)-F(c_prev)|);
 * atr14 = sum(tr[1..14]) / 14, then (atr*13 + tr) / 14; rsi from the
 * simple means of the first 14 gains/losses, then (x*13 + g) / 14,
 * 100*G/(G+L); volatility = statistics.stdev(log returns).
 */
static const double ATR30[30] = {
	NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN,
	1.875, 1.8839285714285714, 1.9279336734693877, 1.9509384110787171,
	1.9722999531445231, 1.9564213850627714, 1.9238198575582879,
	1.9828327248755528, 1.9840589588130135, 1.9851976046120838,
	1.950540632854078, 1.9540734447930723, 1.9930681987364243,
	2.047134755969537, 2.0259108448288559, 2.0062029273410804};
static const double RSI30[30] = {
	NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN,
	68.421052631578945, 64.750957854406124, 68.937754306986406,
	70.552100760756332, 64.532396950091396, 60.113519103344103,
	56.963062671904197, 61.328312716922341, 64.554791002015435,
	68.004557323684864, 65.70883512633452, 62.3108540062656,
	66.645141940435195, 69.355981562538389, 65.895500911286987,
	69.204897643871462};
static const double VOL20[10] = {/* bars 20..29 */
	0.010685053992218512, 0.010790298327935169, 0.010756313067573374,
	0.010834463148925126, 0.010743344115638468, 0.010728537795853008,
	0.010371092529650199, 0.010482042457994502, 0.010562366495744062,
	0.010515567158659927};
static const double SMA20[11] = {/* bars 19..29 */
	103.71250000000001, 103.91249999999999, 104.125, 104.4375,
	104.7625, 105, 105.2375, 105.6375, 106.0625, 106.3875,
	106.71250000000001};

static void fixture30(fx *x, size_t n, const double *extra_cl)
{
	double cl[700], hi[700], lo[700];
	for (size_t i = 0; i < n; i++) {
		cl[i] = i < 30 ? C30[i] : extra_cl[i - 30];
		hi[i] = cl[i] + UP[i % 10];
		lo[i] = cl[i] - DN[i % 10];
	}
	build(x, H, MDE_CRYPTO, n, NULL, cl, hi, lo, NULL, NULL);
}

static void test_atr_rsi_vol_sma_values(void **state)
{
	fx x = {0};
	fixture30(&x, 30, NULL);
	compute(&x);
	for (int i = 0; i < 30; i++) {
		expect(at(&x, MDE_COL_ATR_14, T0 + i * H), ATR30[i]);
		expect(at(&x, MDE_COL_RSI_14, T0 + i * H), RSI30[i]);
		expect(at(&x, MDE_COL_VOLATILITY_20, T0 + i * H),
		       i >= 20 ? VOL20[i - 20] : NUL);
		expect(at(&x, MDE_COL_SMA_20, T0 + i * H),
		       i >= 19 ? SMA20[i - 19] : NUL);
		expect(at(&x, MDE_COL_SMA_50, T0 + i * H), NUL);
		expect(at(&x, MDE_COL_TREND_DIRECTION, T0 + i * H), NUL);
	}
	done(&x);
}

static void test_atr_rsi_segment_restart(void **state)
{
	/* the same 30 bars after 10 bars and a gap of 3 slots: the second
	   segment restarts ATR/RSI from its own first bar */
	double cl[43], hi[43], lo[43];
	for (int i = 0; i < 43; i++) {
		int j = i - 13; /* index in the 30-bar fixture */
		cl[i] = i < 10 ? 50 + i : i < 13 ? NAN : C30[j];
		hi[i] = i < 13 ? cl[i] + 1 : cl[i] + UP[j % 10];
		lo[i] = i < 13 ? cl[i] - 1 : cl[i] - DN[j % 10];
	}
	fx x = {0};
	build(&x, H, MDE_CRYPTO, 43, NULL, cl, hi, lo, NULL, NULL);
	compute(&x);
	for (int i = 0; i < 10; i++) /* 10 bars: never 15 */
		expect(at(&x, MDE_COL_ATR_14, T0 + i * H), NUL);
	for (int j = 0; j < 30; j++) {
		expect(at(&x, MDE_COL_ATR_14, T0 + (13 + j) * H), ATR30[j]);
		expect(at(&x, MDE_COL_RSI_14, T0 + (13 + j) * H), RSI30[j]);
	}
	done(&x);
}

static void test_rsi_flat(void **state)
{
	/* all flat: G + L = 0 -> RSI 0, ATR 0 (h = l = c) */
	double cl[40];
	for (int i = 0; i < 40; i++)
		cl[i] = 42.5;
	fx x = {0};
	build(&x, H, MDE_CRYPTO, 40, NULL, cl, NULL, NULL, NULL, NULL);
	compute(&x);
	expect(at(&x, MDE_COL_RSI_14, T0 + 14 * H), 0.0);
	expect(at(&x, MDE_COL_ATR_14, T0 + 39 * H), 0.0);
	/* flat window: std exactly 0, mean exactly the value */
	assert_true(at(&x, MDE_COL_VOLATILITY_20, T0 + 39 * H) == 0.0);
	assert_true(at(&x, MDE_COL_SMA_20, T0 + 39 * H) == 42.5);
	assert_true(at(&x, MDE_COL_TREND_DIRECTION, T0 + 39 * H) == NUL ||
		    1); /* sma_50 needs 50 bars */
	expect(at(&x, MDE_COL_VOLUME_SPIKE_SCORE, T0 + 39 * H), NUL);
	expect(at(&x, MDE_COL_MARKET_STRUCTURE, T0 + 39 * H), 0.0);
	done(&x);
	/* a long flat stretch after moves: G and L decay by 13/14 per bar;
	   exact arithmetic (expect.py) puts G + L below 1e-14 first at bar
	   466, where RSI turns 0; until then it stays at bar 29's ratio */
	double flat[670];
	for (int i = 0; i < 670; i++)
		flat[i] = 111.0;
	fx y = {0};
	fixture30(&y, 600, flat);
	compute(&y);
	expect(at(&y, MDE_COL_RSI_14, T0 + 100 * H), 69.204897643871462);
	expect(at(&y, MDE_COL_RSI_14, T0 + 465 * H), 69.204897643871462);
	expect(at(&y, MDE_COL_RSI_14, T0 + 466 * H), 0.0);
	expect(at(&y, MDE_COL_RSI_14, T0 + 599 * H), 0.0);
	done(&y);
}

/* ---- means, spikes, trend, structure -------------------------------- */

static void test_sma_exact_and_adversarial(void **state)
{
	/* 0.1 twenty times: a running sum gives 2.0000000000000004/20;
	   the window of equal values must give exactly 0.1 */
	double cl[120], vol[120];
	for (int i = 0; i < 120; i++) {
		cl[i] = 0.1;
		vol[i] = 3.0;
	}
	/* then 1e6 for 25 bars and back to small values: the large values
	   leave the window and must leave no residue */
	for (int i = 40; i < 65; i++)
		cl[i] = 1e6;
	for (int i = 65; i < 120; i++)
		cl[i] = 1e-3 * (1 + (i % 3)); /* 0.001 0.002 0.003 */
	fx x = {0};
	build(&x, H, MDE_CRYPTO, 120, NULL, cl, NULL, NULL, vol, NULL);
	compute(&x);
	assert_true(at(&x, MDE_COL_SMA_20, T0 + 39 * H) == 0.1);
	assert_true(at(&x, MDE_COL_ROLLING_VOLUME_20, T0 + 39 * H) == 3.0);
	expect(at(&x, MDE_COL_VOLUME_SPIKE_SCORE, T0 + 39 * H), NUL);
	/* bars 100..119 hold 0.001,0.002,0.003 cycling, starting at
	   i%3 = 1 (100 % 3): 7 x 0.002, 7 x 0.003, 6 x 0.001 ->
	   (0.014 + 0.021 + 0.006) / 20 = 0.00205 */
	expect(at(&x, MDE_COL_SMA_20, T0 + 119 * H), 0.00205);
	/* bars 70..119: 17 x 0.002 (i%3=1: 70,73,..,118), 17 x 0.003,
	   16 x 0.001 -> (0.034 + 0.051 + 0.016) / 50 = 0.00202 */
	expect(at(&x, MDE_COL_SMA_50, T0 + 119 * H), 0.00202);
	done(&x);
}

static void test_volume_spike_and_zero_volume(void **state)
{
	/* volumes 1..19 then 100: m = (190 + 100) / 20 = 14.5;
	   sum of squares of 1..19 = 2470, + 100^2 = 12470;
	   SS = 12470 - 20 * 14.5^2 = 12470 - 4205 = 8265;
	   s = sqrt(8265 / 19) = sqrt(435) ; score = 85.5 / sqrt(435) */
	double cl[25], vol[25];
	for (int i = 0; i < 25; i++) {
		cl[i] = 10;
		vol[i] = i < 19 ? i + 1 : i == 19 ? 100 : 0;
	}
	fx x = {0};
	build(&x, H, MDE_CRYPTO, 25, NULL, cl, NULL, NULL, vol, NULL);
	compute(&x);
	expect(at(&x, MDE_COL_ROLLING_VOLUME_20, T0 + 19 * H), 14.5);
	expect(at(&x, MDE_COL_VOLUME_SPIKE_SCORE, T0 + 19 * H),
	       85.5 / sqrt(435.0));
	/* zero volume: flag 2, quality 0.75; liquidation NULL (v = 0) */
	size_t i = 20;
	assert_int_equal(x.f.flags[i], MDE_VF_ZERO_VOLUME);
	expect(x.f.quality[i], 0.75);
	assert_int_equal(x.f.flags[5], 0);
	expect(x.f.quality[5], 1.0);
	done(&x);
}

static void test_trend_direction(void **state)
{
	double up[50], dn[50], flat[50], tie[50];
	for (int i = 0; i < 50; i++) {
		up[i] = 100 + i;
		dn[i] = 100 - i;
		flat[i] = 7.25;
		/* 30 x 0.1, then 9 x (0.3, 0.1), then 0.2, 0.2: the last 20
		   sum to 4.0 in decimals, so sma_20 = 0.2 = c_t up to the
		   rounding of the float sum; sma_50 = 7/50 = 0.14 */
		tie[i] = i < 30 ? 0.1 : i >= 48 ? 0.2 : (i % 2 ? 0.1 : 0.3);
	}
	const double *cases[4] = {up, dn, flat, tie};
	/* up: c 149 > sma20 139.5 > sma50 124.5 -> +1; down: -1; flat: 0;
	   tie: c - sma20 within 1e-10 * |sma20| -> 0, not +1 */
	const double want[4] = {1, -1, 0, 0};
	for (int k = 0; k < 4; k++) {
		fx x = {0};
		build(&x, H, MDE_CRYPTO, 50, NULL, cases[k], NULL, NULL, NULL,
		      NULL);
		compute(&x);
		expect(at(&x, MDE_COL_TREND_DIRECTION, T0 + 48 * H), NUL);
		expect(at(&x, MDE_COL_TREND_DIRECTION, T0 + 49 * H), want[k]);
		done(&x);
	}
}

static void test_market_structure(void **state)
{
	/* B = bars 0..9, A = bars 10..19 */
	double cl[22], hi[22], lo[22];
	for (int i = 0; i < 22; i++) {
		cl[i] = 100;
		hi[i] = i < 10 ? 105 : 106;  /* max h(A) 106 > 105 */
		lo[i] = i < 10 ? 95 : 96;    /* min l(A) 96 > 95 */
	}
	fx x = {0};
	build(&x, H, MDE_CRYPTO, 20, NULL, cl, hi, lo, NULL, NULL);
	compute(&x);
	expect(at(&x, MDE_COL_MARKET_STRUCTURE, T0 + 18 * H), NUL);
	expect(at(&x, MDE_COL_MARKET_STRUCTURE, T0 + 19 * H), 1);
	done(&x);
	/* lower highs and lower lows: -1; equal max high: 0 (range) */
	for (int i = 0; i < 20; i++) {
		hi[i] = i < 10 ? 105 : 104;
		lo[i] = i < 10 ? 95 : 94;
	}
	build(&x, H, MDE_CRYPTO, 20, NULL, cl, hi, lo, NULL, NULL);
	compute(&x);
	expect(at(&x, MDE_COL_MARKET_STRUCTURE, T0 + 19 * H), -1);
	done(&x);
	for (int i = 0; i < 20; i++) {
		hi[i] = 105;
		lo[i] = i < 10 ? 95 : 96;
	}
	build(&x, H, MDE_CRYPTO, 20, NULL, cl, hi, lo, NULL, NULL);
	compute(&x);
	expect(at(&x, MDE_COL_MARKET_STRUCTURE, T0 + 19 * H), 0);
	done(&x);
	/* a gap among the 20 bars: NULL */
	cl[15] = NAN;
	build(&x, H, MDE_CRYPTO, 22, NULL, cl, hi, lo, NULL, NULL);
	compute(&x);
	expect(at(&x, MDE_COL_MARKET_STRUCTURE, T0 + 21 * H), NUL);
	done(&x);
}

static void test_delta_ratio(void **state)
{
	double cl[4] = {10, 10, 10, 10}, vol[4] = {10, 10, 0, 5};
	double tbb[4] = {4, 10, 0, NAN};
	fx x = {0};
	build(&x, H, MDE_CRYPTO, 4, NULL, cl, NULL, NULL, vol, tbb);
	compute(&x);
	expect(at(&x, MDE_COL_DELTA, T0), -2);          /* 4 - 6 */
	expect(at(&x, MDE_COL_BUY_SELL_RATIO, T0), 4.0 / 6);
	expect(at(&x, MDE_COL_DELTA, T0 + H), 10);
	expect(at(&x, MDE_COL_BUY_SELL_RATIO, T0 + H), NUL); /* v-tbb = 0 */
	expect(at(&x, MDE_COL_DELTA, T0 + 2 * H), 0);
	expect(at(&x, MDE_COL_BUY_SELL_RATIO, T0 + 2 * H), NUL);
	expect(at(&x, MDE_COL_DELTA, T0 + 3 * H), NUL);  /* NULL taker */
	expect(at(&x, MDE_COL_BUY_SELL_RATIO, T0 + 3 * H), NUL);
	done(&x);
}

static void test_extreme_flags(void **state)
{
	/* 100 -> 200: log 2 = 0.69 > 0.5: flag 1, quality 0.5; then a gap
	   and 400: log_return NULL after the gap, no flag; then 100 with
	   zero volume: |ln 0.25| > 0.5 and v = 0: flags 3, quality 0.25 */
	double cl[5] = {100, 200, NAN, 400, 100}, vol[5] = {1, 1, 1, 1, 0};
	fx x = {0};
	build(&x, H, MDE_CRYPTO, 5, NULL, cl, NULL, NULL, vol, NULL);
	compute(&x);
	assert_int_equal(x.f.flags[0], 0);
	assert_int_equal(x.f.flags[1], MDE_VF_EXTREME);
	expect(x.f.quality[1], 0.5);
	assert_int_equal(x.f.flags[3], 0);
	assert_int_equal(x.f.flags[4], MDE_VF_EXTREME | MDE_VF_ZERO_VOLUME);
	expect(x.f.quality[4], 0.25);
	done(&x);
}

/* ---- auxiliary series ---------------------------------------------- */

static void push(mde_aux *a, int64_t t, double v)
{
	assert_int_equal(mde_aux_push(a, t, v), 0);
}

static void test_funding_asof_and_percentile(void **state)
{
	/* 92 events, event k at T0 + (k - 89) * 8h, rate ((7k) % 5 - 2)e-4;
	   percentiles of events 89..91 from pct.py (sorted positions of the
	   equal values averaged, / 90): */
	static const double pct[3] = {0.7055555555555556, 0.10555555555555556,
				      0.50555555555555554};
	double cl[48];
	for (int i = 0; i < 48; i++)
		cl[i] = 100;
	fx x = {0};
	build(&x, H, MDE_CRYPTO, 48, NULL, cl, NULL, NULL, NULL, NULL);
	x.aux.configured[MDE_AUX_FUNDING] = true;
	for (int k = 0; k < 92; k++)
		push(&x.aux.s[MDE_AUX_FUNDING], T0 + (k - 89) * 8 * H,
		     ((7 * k) % 5 - 2) * 1e-4);
	compute(&x);
	double r89 = ((7 * 89) % 5 - 2) * 1e-4, r90 = ((7 * 90) % 5 - 2) * 1e-4,
	       r91 = ((7 * 91) % 5 - 2) * 1e-4;
	/* candle T0 (ends T0+1h) gets the event at T0 (89) */
	expect(at(&x, MDE_COL_FUNDING_RATE, T0), r89);
	expect(at(&x, MDE_COL_FUNDING_RATE_PERCENTILE, T0), pct[0]);
	/* the event at T0+8h is stamped at candle 7h's closing instant:
	   it belongs to candle 8h */
	expect(at(&x, MDE_COL_FUNDING_RATE, T0 + 7 * H), r89);
	expect(at(&x, MDE_COL_FUNDING_RATE, T0 + 8 * H), r90);
	expect(at(&x, MDE_COL_FUNDING_RATE_PERCENTILE, T0 + 8 * H), pct[1]);
	expect(at(&x, MDE_COL_FUNDING_RATE_PERCENTILE, T0 + 16 * H), pct[2]);
	/* the last event (T0+16h) is fresh while age <= 24h:
	   candle 39h ends at 40h, age exactly 24h; candle 40h: NULL */
	expect(at(&x, MDE_COL_FUNDING_RATE, T0 + 39 * H), r91);
	expect(at(&x, MDE_COL_FUNDING_RATE, T0 + 40 * H), NUL);
	expect(at(&x, MDE_COL_FUNDING_RATE_PERCENTILE, T0 + 40 * H), NUL);
	done(&x);
	/* fewer than 90 events up to the joined one: percentile NULL */
	fx y = {0};
	build(&y, H, MDE_CRYPTO, 4, NULL, cl, NULL, NULL, NULL, NULL);
	y.aux.configured[MDE_AUX_FUNDING] = true;
	for (int k = 1; k < 90; k++) /* events 1..89: only 89 */
		push(&y.aux.s[MDE_AUX_FUNDING], T0 + (k - 89) * 8 * H, 1e-4);
	compute(&y);
	expect(at(&y, MDE_COL_FUNDING_RATE, T0), 1e-4);
	expect(at(&y, MDE_COL_FUNDING_RATE_PERCENTILE, T0), NUL);
	done(&y);
	/* all 90 equal: (0 + (90 + 1) / 2) / 90 = 45.5 / 90 */
	build(&y, H, MDE_CRYPTO, 4, NULL, cl, NULL, NULL, NULL, NULL);
	y.aux.configured[MDE_AUX_FUNDING] = true;
	for (int k = 0; k < 90; k++)
		push(&y.aux.s[MDE_AUX_FUNDING], T0 + (k - 89) * 8 * H, 1e-4);
	compute(&y);
	expect(at(&y, MDE_COL_FUNDING_RATE_PERCENTILE, T0), 45.5 / 90);
	done(&y);
}

static void test_open_interest_long_short(void **state)
{
	/* 1h candles, slots 0..12, slot 8 a gap; staleness max(2P, 2h) = 2h */
	double cl[13];
	for (int i = 0; i < 13; i++)
		cl[i] = i == 8 ? NAN : 100;
	fx x = {0};
	build(&x, H, MDE_CRYPTO, 13, NULL, cl, NULL, NULL, NULL, NULL);
	x.aux.configured[MDE_AUX_OPEN_INTEREST] = true;
	x.aux.configured[MDE_AUX_LONG_SHORT] = true;
	static const int64_t ts[5] = {T0 - H, T0 + H, T0 + 2 * H + H / 2,
				      T0 + 3 * H, T0 + 10 * H};
	static const double vs[5] = {100, 110, 0, 50, 60};
	for (int k = 0; k < 5; k++) {
		push(&x.aux.s[MDE_AUX_OPEN_INTEREST], ts[k], vs[k]);
		push(&x.aux.s[MDE_AUX_LONG_SHORT], ts[k], vs[k] / 100);
	}
	compute(&x);
	/* slot: as-of value (age), change */
	static const double oi[13] = {100, 110, 0, 50, 50, NAN, NAN,
				      NAN, NAN, NAN, 60, 60, NAN};
	static const double ch[13] = {NAN, 110.0 / 100 - 1, -1, NAN, 0, NAN,
				      NAN, NAN, NAN, NAN, NAN, 0, NAN};
	/* slot 0: snapshot T0-1h, age exactly 2h: fresh; slot 1: the
	   snapshot at T0+1h = slot 0's end belongs to slot 1; slot 3:
	   previous OI is 0 -> change NULL; slot 5: age 3h > 2h */
	for (int i = 0; i < 13; i++) {
		expect(at(&x, MDE_COL_OPEN_INTEREST, T0 + i * H), oi[i]);
		expect(at(&x, MDE_COL_OPEN_INTEREST_CHANGE, T0 + i * H), ch[i]);
		expect(at(&x, MDE_COL_LONG_SHORT_RATIO, T0 + i * H),
		       oi[i] / 100);
	}
	done(&x);
	/* 4h: staleness 2P = 8h */
	fx y = {0};
	build(&y, 4 * H, MDE_CRYPTO, 3, NULL, cl, NULL, NULL, NULL, NULL);
	y.aux.configured[MDE_AUX_OPEN_INTEREST] = true;
	push(&y.aux.s[MDE_AUX_OPEN_INTEREST], T0 - 4 * H, 7);
	compute(&y);
	expect(at(&y, MDE_COL_OPEN_INTEREST, T0), 7);       /* age 8h */
	expect(at(&y, MDE_COL_OPEN_INTEREST, T0 + 4 * H), NUL); /* 12h */
	done(&y);
}

static void test_liquidations_inflow(void **state)
{
	double cl[4] = {100, 100, 100, 100}, vol[4] = {10, 5, 8, 0};
	fx x = {0};
	build(&x, H, MDE_CRYPTO, 4, NULL, cl, NULL, NULL, vol, NULL);
	compute(&x); /* not configured: NULL */
	expect(at(&x, MDE_COL_LIQUIDATION_INTENSITY, T0), NUL);
	expect(at(&x, MDE_COL_EXCHANGE_INFLOW, T0), NUL);
	mde_frame_free(&x.f);
	x.aux.configured[MDE_AUX_LIQUIDATIONS] = true;
	x.aux.configured[MDE_AUX_INFLOW] = true;
	mde_aux *q = &x.aux.s[MDE_AUX_LIQUIDATIONS];
	push(q, T0 - 1, 99);          /* before: ignored */
	push(q, T0, 1.5);             /* open_time <= time: counts */
	push(q, T0 + H / 2, 2.5);
	push(q, T0 + H, 4);           /* = open_time + P: next candle */
	push(q, T0 + H, 1);           /* same time: both count */
	push(q, T0 + 3 * H + 5, 1);   /* v = 0: NULL */
	mde_aux *in = &x.aux.s[MDE_AUX_INFLOW];
	push(in, T0 + H - 2 * MDE_DAY_MS, 12.5); /* age exactly 2 days */
	compute(&x);
	expect(at(&x, MDE_COL_LIQUIDATION_INTENSITY, T0), 4.0 / 10);
	expect(at(&x, MDE_COL_LIQUIDATION_INTENSITY, T0 + H), 5.0 / 5);
	expect(at(&x, MDE_COL_LIQUIDATION_INTENSITY, T0 + 2 * H), 0);
	expect(at(&x, MDE_COL_LIQUIDATION_INTENSITY, T0 + 3 * H), NUL);
	expect(at(&x, MDE_COL_EXCHANGE_INFLOW, T0), 12.5);
	expect(at(&x, MDE_COL_EXCHANGE_INFLOW, T0 + H), NUL);
	done(&x);
}

static void test_warmup_and_starts(void **state)
{
	assert_int_equal(mde_features_warmup(MDE_MINUTE_MS, MDE_CRYPTO), 1440);
	assert_int_equal(mde_features_warmup(H, MDE_CRYPTO),
			 14 + MDE_WILDER_WARMUP);
	assert_int_equal(mde_features_warmup(MDE_DAY_MS, MDE_EQUITY),
			 14 + MDE_WILDER_WARMUP);
	int64_t since;
	size_t before;
	mde_features_aux_need(MDE_AUX_FUNDING, T0, H, &since, &before);
	assert_int_equal(before, 89);
	assert_true(since == T0 - 24 * H);
	mde_features_aux_need(MDE_AUX_OPEN_INTEREST, T0, H, &since, &before);
	assert_true(since == T0 - H - 2 * H);
	assert_int_equal(before, 0);
	/* unsorted aux series: an error, not garbage */
	fx x = {0};
	double cl[2] = {1, 1};
	build(&x, H, MDE_CRYPTO, 2, NULL, cl, NULL, NULL, NULL, NULL);
	x.aux.configured[MDE_AUX_FUNDING] = true;
	push(&x.aux.s[MDE_AUX_FUNDING], T0, 1);
	push(&x.aux.s[MDE_AUX_FUNDING], T0 - 1, 1);
	mde_err err = {0};
	assert_int_equal(mde_features_compute(&x.f, &x.v.series, &x.aux, &err),
			 MDE_EINVAL);
	done(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_returns_gaps),
		cmocka_unit_test(test_returns_1d_and_long_timeframes),
		cmocka_unit_test(test_equity_weekend_not_gap),
		cmocka_unit_test(test_atr_rsi_vol_sma_values),
		cmocka_unit_test(test_atr_rsi_segment_restart),
		cmocka_unit_test(test_rsi_flat),
		cmocka_unit_test(test_sma_exact_and_adversarial),
		cmocka_unit_test(test_volume_spike_and_zero_volume),
		cmocka_unit_test(test_trend_direction),
		cmocka_unit_test(test_market_structure),
		cmocka_unit_test(test_delta_ratio),
		cmocka_unit_test(test_extreme_flags),
		cmocka_unit_test(test_funding_asof_and_percentile),
		cmocka_unit_test(test_open_interest_long_short),
		cmocka_unit_test(test_liquidations_inflow),
		cmocka_unit_test(test_warmup_and_starts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
