/*
 * bench_features.c - validation + all 22 features on N 1m candles with
 * funding (every 8 h), open interest and long/short (every 5 min), one
 * thread. Usage: bench_features [N ...] (default 100000 1000000 10000000).
 * Prints, per N, the best and median of 5 runs of validate, features and
 * both, the naive twin once for N <= 100000, and the peak RSS.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "engine.h"
#include "timeutil.h"
#include "validate.h"

static uint64_t rng = 88172645463325252ull;
static double unif(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) * 0x1.0p-53;
}

/* Candles filled column-wise (the text of every field is a dummy "1":
   validation only looks at presence and the parsed values). */
static int make_candles(mde_candles *c, size_t n, int64_t t0)
{
	mde_candles_init(c);
	if (mde_candles_reserve(c, n))
		return -1;
	c->text = malloc(2);
	if (!c->text)
		return -1;
	memcpy(c->text, "1", 2);
	c->text_len = c->text_cap = 2;
	double p = 30000;
	for (size_t i = 0; i < n; i++) {
		double o = p, cl = round(p * (1 + 0.002 * (unif() - 0.5)) * 10) / 10;
		double h = fmax(o, cl) + 5 * unif(), l = fmin(o, cl) - 5 * unif();
		double v = round(unif() * 1e6) / 1e3;
		double vals[MDE_NFIELDS] = {o, h, l, cl, v, v * cl,
					    v * unif(), 0};
		vals[MDE_TAKER_BUY_QUOTE] = vals[MDE_TAKER_BUY_BASE] * cl;
		for (int f = 0; f < MDE_NFIELDS; f++) {
			c->val[f][i] = vals[f];
			c->txt[f][i] = 0;
		}
		c->open_time_ms[i] = t0 + (int64_t)i * MDE_MINUTE_MS;
		c->trades[i] = 100;
		c->origin[i] = MDE_SRC_CSV;
		p = cl;
	}
	c->n = n;
	return 0;
}

static int make_aux(mde_auxset *a, int64_t t0, int64_t t1)
{
	memset(a, 0, sizeof *a);
	a->configured[MDE_AUX_FUNDING] = true;
	a->configured[MDE_AUX_OPEN_INTEREST] = true;
	a->configured[MDE_AUX_LONG_SHORT] = true;
	for (int64_t t = t0 - 31 * MDE_DAY_MS; t < t1; t += 8 * MDE_HOUR_MS)
		if (mde_aux_push(&a->s[MDE_AUX_FUNDING], t + 7,
				 1e-4 * round(10 * (unif() - 0.3))))
			return -1;
	for (int64_t t = t0 - MDE_DAY_MS; t < t1; t += 5 * MDE_MINUTE_MS)
		if (mde_aux_push(&a->s[MDE_AUX_OPEN_INTEREST], t,
				 8e4 + 1e3 * unif()) ||
		    mde_aux_push(&a->s[MDE_AUX_LONG_SHORT], t, 1 + unif()))
			return -1;
	return 0;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double peak_rss_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0;
}

static int bench(size_t n, bool warm)
{
	int64_t t0 = INT64_C(1704067200000);
	mde_candles c;
	mde_auxset aux;
	if (make_candles(&c, n, t0) ||
	    make_aux(&aux, t0, t0 + (int64_t)n * MDE_MINUTE_MS))
		return -1;
	enum { RUNS = 5 };
	double tv[RUNS], tf[RUNS], tt[RUNS];
	int64_t kns[64] = {0};
	mde_err err = {0};
	mde_validation v = {0};
	mde_frame fr = {0};
	for (int r = 0; r < RUNS; r++) {
		int64_t a = mde_mono_ns();
		if (mde_validate(&v, &c, MDE_MINUTE_MS, MDE_CRYPTO,
				 INT64_MAX / 2, &err))
			return -1;
		int64_t b = mde_mono_ns();
		if (mde_features_compute_timed(&fr, &v.series, &aux,
					       warm ? kns : NULL, &err))
			return -1;
		int64_t e = mde_mono_ns();
		tv[r] = (b - a) / 1e6;
		tf[r] = (e - b) / 1e6;
		tt[r] = (e - a) / 1e6;
		if (r == RUNS - 1 && n <= 100000) {
			mde_frame nf = {0};
			int64_t x = mde_mono_ns();
			if (mde_features_ref(&nf, &v.series, &aux, &err))
				return -1;
			printf("  naive twin: %.1f ms\n",
			       (mde_mono_ns() - x) / 1e6);
			mde_frame_free(&nf);
		}
		if (!warm) {
			mde_frame_free(&fr);
			mde_validation_free(&v);
		}
	}
	mde_frame_free(&fr);
	mde_validation_free(&v);
	qsort(tv, RUNS, sizeof *tv, cmpd);
	qsort(tf, RUNS, sizeof *tf, cmpd);
	qsort(tt, RUNS, sizeof *tt, cmpd);
	/* input: the raw candles (values, text offsets, time, trades,
	   origin) and the series; output: the frame */
	double in_mb = n * (8.0 * 8 + 8 * 4 + 8 + 8 + 1) / 1e6 +
		       n * (10.0 * 8 + 4 + 1) / 1e6;
	double out_mb = n * (22.0 * 8 + 8 + 4) / 1e6;
	printf("N=%zu %s validate %.1f/%.1f ms  features %.1f/%.1f ms  "
	       "total %.1f/%.1f ms (best/median)  %.1f ns/candle\n",
	       n, warm ? "warm" : "cold", tv[0], tv[RUNS / 2], tf[0], tf[RUNS / 2], tt[0],
	       tt[RUNS / 2], tt[0] * 1e6 / (double)n);
	printf("  columns in %.0f MB + out %.0f MB = %.0f MB; peak RSS so far "
	       "%.0f MB\n", in_mb, out_mb, in_mb + out_mb, peak_rss_mb());
	if (warm) {
		printf("  per kernel (mean of %d warm runs):", RUNS);
		for (size_t k = 0; k < mde_nkernels; k++)
			printf(" %s %.1f", mde_kernels[k].name,
			       kns[k] / 1e6 / RUNS);
		printf(" ms\n");
	}
	mde_auxset_free(&aux);
	mde_candles_free(&c);
	return 0;
}

int main(int argc, char **argv)
{
	static const size_t def[] = {100000, 1000000, 10000000};
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (bench((size_t)strtoull(argv[i], NULL, 10), false) ||
			    bench((size_t)strtoull(argv[i], NULL, 10), true))
				return 1;
		return 0;
	}
	for (size_t i = 0; i < sizeof def / sizeof def[0]; i++)
		if (bench(def[i], false) || bench(def[i], true))
			return 1;
	return 0;
}
