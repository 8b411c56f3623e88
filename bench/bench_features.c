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

#include <cblas.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "engine.h"
#include "timeutil.h"
#include "validate.h"
#include "window.h"

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
		c->malformed[i] = 0;
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

static long minor_faults(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
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
	long faults[RUNS];
	for (int r = 0; r < RUNS; r++) {
		long f0 = minor_faults();
		int64_t a = mde_mono_ns();
		if (mde_validate(&v, &c, MDE_MINUTE_MS, MDE_CRYPTO,
				 INT64_MAX / 2, &err))
			return -1;
		int64_t b = mde_mono_ns();
		if (mde_features_compute_timed(&fr, &v.series, &aux,
					       warm ? kns : NULL, &err))
			return -1;
		int64_t e = mde_mono_ns();
		faults[r] = minor_faults() - f0;
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
	long later = 0;
	for (int r = 1; r < RUNS; r++)
		later += faults[r];
	printf("  page faults: %ld in the first run, %ld a run after it\n",
	       faults[0], later / (RUNS - 1));
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

/*
 * "choices": the library-versus-loop measurements behind docs/FEATURES.md.
 * Rolling mean and standard deviation of 50 over 1M values, and the
 * funding percentile over 2,000 events, each way.
 */
static double ms_since(int64_t t)
{
	return (mde_mono_ns() - t) / 1e6;
}

static int choices(void)
{
	size_t n = 1000000, w = 50;
	double *x = malloc(n * 8), *a = malloc(n * 8), *b = malloc(n * 8);
	uint32_t *run = malloc(n * 4);
	if (!x || !a || !b || !run)
		return -1;
	for (size_t i = 0; i < n; i++) {
		x[i] = 100 + unif();
		run[i] = (uint32_t)i + 1;
	}
	int64_t t = mde_mono_ns();
	mde_win_meansd(x, n, w, run, (uint32_t)w, a, NULL);
	printf("rolling mean 50, 1M: engine tiles %.1f ms", ms_since(t));
	t = mde_mono_ns();
	/* OpenBLAS: add the 50 lagged copies with daxpy, then dscal */
	cblas_dcopy((int)n, x, 1, b, 1);
	for (size_t k = 1; k < w; k++)
		cblas_daxpy((int)(n - k), 1.0, x, 1, b + k, 1);
	cblas_dscal((int)n, 1.0 / (double)w, b, 1);
	printf(", cblas_daxpy x50 %.1f ms", ms_since(t));
	t = mde_mono_ns();
	for (size_t i = w - 1; i < n; i++)
		b[i] = gsl_stats_mean(x + i - w + 1, 1, w);
	printf(", gsl_stats_mean per window %.1f ms\n", ms_since(t));
	t = mde_mono_ns();
	mde_win_meansd(x, n, w, run, (uint32_t)w, a, b);
	printf("rolling mean+sd 50, 1M: engine two-pass tiles %.1f ms",
	       ms_since(t));
	t = mde_mono_ns();
	double worst = 0;
	for (size_t i = w - 1; i < n; i++) {
		double sd = gsl_stats_sd(x + i - w + 1, 1, w);
		double d = fabs(sd - b[i]) / sd;
		worst = d > worst ? d : worst;
	}
	printf(", gsl_stats_sd per window %.1f ms (max rel diff %.1e)\n",
	       ms_since(t), worst);
	/* funding percentile: 2,000 events, window 90 */
	size_t ne = 2000;
	double win[90], less = 0;
	t = mde_mono_ns();
	for (size_t e = 89; e < ne; e++) {
		unsigned lt = 0, eq = 0;
		for (size_t j = e - 89; j <= e; j++) {
			lt += x[j] < x[e];
			eq += x[j] == x[e];
		}
		less += (lt + (eq + 1) / 2.0) / 90;
	}
	printf("funding percentile, 2k events: direct count %.3f ms", ms_since(t));
	t = mde_mono_ns();
	double less2 = 0;
	for (size_t e = 89; e < ne; e++) {
		memcpy(win, x + e - 89, sizeof win);
		gsl_sort(win, 1, 90);
		size_t lo = 0, hi = 0;
		while (lo < 90 && win[lo] < x[e])
			lo++;
		for (hi = lo; hi < 90 && win[hi] == x[e]; hi++)
			;
		less2 += (lo + (hi - lo + 1) / 2.0) / 90;
	}
	printf(", gsl_sort + scan %.3f ms (same: %s)\n", ms_since(t),
	       less == less2 ? "yes" : "no");
	free(x);
	free(a);
	free(b);
	free(run);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "choices") == 0)
		return choices() ? 1 : 0;
	static const size_t def[] = {100000, 1000000, 10000000};
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if ((bench((size_t)strtoull(argv[i], NULL, 10), false)) ||
			    bench((size_t)strtoull(argv[i], NULL, 10), true))
				return 1;
		return 0;
	}
	for (size_t i = 0; i < sizeof def / sizeof def[0]; i++)
		if (bench(def[i], false) || bench(def[i], true))
			return 1;
	return 0;
}
