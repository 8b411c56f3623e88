/*
 * test_features_twin.c - the engine equals its naive twin (features/ref.c)
 * on random series: gaps of one and many slots, flat stretches, zero
 * volume, NULL taker volume, the 1e6 -> 1e-3 drop that breaks running
 * sums, every timeframe, both asset classes, and the sizes around each
 * kernel's start {0, 1, 14, 15, 19, 20, 21, 49, 50, 51, 52, large}.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <gsl/gsl_statistics_double.h>

#include "test_features_util.h"
#include "timeutil.h"

static void compare(const mde_frame *a, const mde_frame *b, const char *what)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		for (int k = 0; k < MDE_NFEATURES; k++) {
			double x = a->col[k][i], y = b->col[k][i];
			/* same formula, other order of additions */
			if (!tu_close(x, y, 1e-12, 1e-13)) {
				fprintf(stderr, "%s row %zu %s: fast %.17g "
					"naive %.17g\n", what, i,
					mde_column_names[k], x, y);
				fail();
			}
		}
		assert_int_equal(a->flags[i], b->flags[i]);
		assert_true(tu_close(a->quality[i], b->quality[i], 0, 0));
	}
}

static void run_case(uint64_t seed, size_t n, int64_t P, enum mde_asset asset,
		     bool gaps, bool adv, bool with_aux)
{
	mde_candles c;
	mde_candles_init(&c);
	int64_t t0 = INT64_C(1700006400000); /* 2023-11-15 00:00 UTC */
	tu_random_candles(&c, seed, n, t0, P, gaps && asset == MDE_CRYPTO,
			  adv);
	mde_validation v = {0};
	tu_validate(&v, &c, P, asset);
	mde_auxset aux;
	memset(&aux, 0, sizeof aux);
	if (with_aux)
		tu_random_aux(&aux, seed, t0, t0 + (int64_t)n * P);
	mde_frame fast = {0}, naive = {0};
	mde_err err = {0};
	assert_int_equal(mde_features_compute(&fast, &v.series,
					      with_aux ? &aux : NULL, &err), 0);
	assert_int_equal(mde_features_ref(&naive, &v.series,
					  with_aux ? &aux : NULL, &err), 0);
	char what[96];
	snprintf(what, sizeof what, "seed=%llu n=%zu P=%s %s",
		 (unsigned long long)seed, n, mde_tf_name(P),
		 mde_asset_name(asset));
	compare(&fast, &naive, what);
	mde_frame_free(&fast);
	mde_frame_free(&naive);
	mde_auxset_free(&aux);
	mde_validation_free(&v);
	mde_candles_free(&c);
}

static void test_sizes(void **state)
{
	static const size_t sizes[] = {0,  1,  2,  14, 15, 16, 19, 20,
				       21, 49, 50, 51, 52, 60, 200};
	for (size_t k = 0; k < MDE_ARRAY_LEN(sizes); k++) {
		run_case(k + 1, sizes[k], MDE_HOUR_MS, MDE_CRYPTO, false,
			 false, true);
		run_case(k + 1, sizes[k], MDE_DAY_MS, MDE_EQUITY, false,
			 false, false);
	}
}

static void test_random_gaps_every_timeframe(void **state)
{
	static const int64_t tfs[] = {MDE_MINUTE_MS,      5 * MDE_MINUTE_MS,
				      15 * MDE_MINUTE_MS, 30 * MDE_MINUTE_MS,
				      MDE_HOUR_MS,        4 * MDE_HOUR_MS,
				      MDE_DAY_MS};
	for (size_t k = 0; k < MDE_ARRAY_LEN(tfs); k++)
		for (uint64_t seed = 1; seed <= 3; seed++)
			run_case(seed * 100 + k, 6000, tfs[k], MDE_CRYPTO,
				 true, seed == 2, true);
}

static void test_adversarial(void **state)
{
	for (uint64_t seed = 7; seed < 12; seed++) {
		run_case(seed, 3000, MDE_HOUR_MS, MDE_CRYPTO, false, true,
			 true);
		run_case(seed, 3000, MDE_DAY_MS, MDE_EQUITY, false, true,
			 false);
	}
}

static void test_large(void **state)
{
	run_case(99, 100000, 5 * MDE_MINUTE_MS, MDE_CRYPTO, true, true, true);
}

/* An outside reference: GSL's mean and standard deviation of each
   window (its own recurrences) on the adversarial series. */
static void test_against_gsl(void **state)
{
	mde_candles c;
	mde_candles_init(&c);
	tu_random_candles(&c, 4242, 20000, INT64_C(1700006400000), MDE_HOUR_MS,
			  true, true);
	mde_validation v = {0};
	tu_validate(&v, &c, MDE_HOUR_MS, MDE_CRYPTO);
	mde_frame f = {0};
	mde_err err = {0};
	assert_int_equal(mde_features_compute(&f, &v.series, NULL, &err), 0);
	const double *lr = f.col[MDE_COL_LOG_RETURN];
	const double *cl = v.series.val[MDE_CLOSE];
	const double *vol = v.series.val[MDE_VOLUME];
	size_t checked = 0;
	for (size_t i = 60; i < v.series.n; i++) {
		double s50 = f.col[MDE_COL_VOLATILITY_50][i];
		if (isnan(s50))
			continue;
		double g = gsl_stats_sd(lr + i - 49, 1, 50);
		assert_true(tu_close(s50, g, 1e-12, 1e-15));
		g = gsl_stats_sd(lr + i - 19, 1, 20);
		assert_true(tu_close(f.col[MDE_COL_VOLATILITY_20][i], g, 1e-12,
				     1e-15));
		g = gsl_stats_mean(cl + i - 49, 1, 50);
		assert_true(tu_close(f.col[MDE_COL_SMA_50][i], g, 1e-13, 0));
		g = gsl_stats_mean(vol + i - 19, 1, 20);
		assert_true(tu_close(f.col[MDE_COL_ROLLING_VOLUME_20][i], g,
				     1e-13, 1e-15));
		checked++;
	}
	assert_true(checked > 10000);
	mde_frame_free(&f);
	mde_validation_free(&v);
	mde_candles_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_random_gaps_every_timeframe),
		cmocka_unit_test(test_adversarial),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_against_gsl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
