/*
 * test_features_chunk.c - chunked equals whole (TA-Lib's range test, the
 * promise a resumable backfill depends on): for many split points t0,
 * computing [t0 - warmup, end] with the auxiliary series cut as
 * mde_features_aux_need says gives, for every row >= t0, the value of the
 * whole-series computation: bit for bit for the window features, within
 * 1e-13 relative for the Wilder recursions (ATR, RSI). On the real samples
 * of data/samples (with the real 2023-03-24 13:00 gap) and on random
 * series with gaps, aux holes and equities.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "csvio.h"
#include "test_features_util.h"
#include "timeutil.h"

static void load_csv(mde_csv_candles *cc, const char *path)
{
	size_t len;
	char *buf = tu_slurp(path, &len);
	assert_non_null(buf);
	mde_err err = {0};
	int rc = mde_csv_read_candles(cc, buf, len, &err);
	if (rc)
		fprintf(stderr, "%s: %s\n", path, err.msg);
	assert_int_equal(rc, 0);
	free(buf);
}

static void load_aux(mde_aux *a, const char *path, const char *tc,
		     const char *vc)
{
	size_t len;
	char *buf = tu_slurp(path, &len);
	assert_non_null(buf);
	mde_err err = {0};
	assert_int_equal(mde_csv_read_aux(a, buf, len, tc, vc, &err), 0);
	free(buf);
	assert_int_equal(mde_aux_normalize(a), 0);
}

/* The aux series needed for rows >= t0. */
static void cut_aux(mde_auxset *dst, const mde_auxset *src, int64_t t0,
		    int64_t P)
{
	memset(dst, 0, sizeof *dst);
	for (int k = 0; k < MDE_NAUX; k++) {
		dst->configured[k] = src->configured[k];
		int64_t since;
		size_t before;
		mde_features_aux_need(k, t0, P, &since, &before);
		const mde_aux *a = &src->s[k];
		size_t first = 0;
		while (first < a->n && a->t[first] < since)
			first++;
		first = first > before ? first - before : 0;
		for (size_t i = first; i < a->n; i++)
			assert_int_equal(mde_aux_push(&dst->s[k], a->t[i],
						      a->v[i]), 0);
	}
}

static bool wilder_col(int k)
{
	return k == MDE_COL_ATR_14 || k == MDE_COL_RSI_14;
}

/* Checks every split point of `splits` over candles c. */
static void check(const mde_candles *c, int64_t P, enum mde_asset asset,
		  const mde_auxset *aux, size_t step)
{
	mde_validation whole = {0};
	tu_validate(&whole, c, P, asset);
	mde_frame wf = {0};
	mde_err err = {0};
	assert_int_equal(mde_features_compute(&wf, &whole.series, aux, &err),
			 0);
	const mde_series *s = &whole.series;
	size_t W = mde_features_warmup(P, asset), checked = 0;
	for (size_t i0 = 1; i0 < s->n; i0 += step) {
		if (!s->valid[i0])
			continue;
		int64_t t0 = s->t[i0];
		/* the chunk: candles from t0 - W bars */
		int64_t from = asset == MDE_CRYPTO ?
				       t0 - (int64_t)W * P :
				       s->t[i0 >= W ? i0 - W : 0];
		mde_candles part;
		mde_candles_init(&part);
		for (size_t r = 0; r < c->n; r++)
			if (c->open_time_ms[r] >= from)
				assert_int_equal(mde_candles_copy_row(&part, c,
								      r), 0);
		mde_auxset pa;
		cut_aux(&pa, aux, t0, P);
		mde_validation v = {0};
		tu_validate(&v, &part, P, asset);
		mde_frame pf = {0};
		assert_int_equal(mde_features_compute(&pf, &v.series, &pa,
						      &err), 0);
		size_t off = 0;
		while (v.series.t[off] != t0)
			off++;
		for (size_t i = i0; i < s->n; i++) {
			size_t j = off + (i - i0);
			assert_true(v.series.t[j] == s->t[i]);
			for (int k = 0; k < MDE_NFEATURES; k++) {
				double a = wf.col[k][i], b = pf.col[k][j];
				bool ok = wilder_col(k) ?
						  tu_close(a, b, 1e-13, 1e-15) :
						  (isnan(a) && isnan(b)) ||
							  a == b;
				if (!ok) {
					fprintf(stderr, "t0=%lld row %zu %s: "
						"whole %.17g chunk %.17g\n",
						(long long)t0, i,
						mde_column_names[k], a, b);
					fail();
				}
			}
			assert_int_equal(wf.flags[i], pf.flags[j]);
		}
		checked++;
		mde_frame_free(&pf);
		mde_validation_free(&v);
		mde_auxset_free(&pa);
		mde_candles_free(&part);
	}
	assert_true(checked > 5);
	mde_frame_free(&wf);
	mde_validation_free(&whole);
}

static void test_btc_futures_1h_with_funding(void **state)
{
	mde_csv_candles cc;
	load_csv(&cc, "data/samples/btcusdt_1h_futures.csv");
	mde_auxset aux;
	memset(&aux, 0, sizeof aux);
	aux.configured[MDE_AUX_FUNDING] = true;
	load_aux(&aux.s[MDE_AUX_FUNDING], "data/samples/btcusdt_funding.csv",
		 "funding_time", "funding_rate");
	check(&cc.c, MDE_HOUR_MS, MDE_CRYPTO, &aux, 13);
	mde_auxset_free(&aux);
	mde_csv_candles_free(&cc);
}

static void test_btc_spot_real_gap(void **state)
{
	mde_csv_candles cc;
	load_csv(&cc, "data/samples/btcusdt_1h_spot_2023-03-04.csv");
	mde_auxset aux;
	memset(&aux, 0, sizeof aux);
	check(&cc.c, MDE_HOUR_MS, MDE_CRYPTO, &aux, 7);
	mde_csv_candles_free(&cc);
}

static void test_xrp_5m(void **state)
{
	mde_csv_candles cc;
	load_csv(&cc, "data/samples/xrpusdt_5m_futures.csv");
	mde_auxset aux;
	memset(&aux, 0, sizeof aux);
	aux.configured[MDE_AUX_FUNDING] = true;
	load_aux(&aux.s[MDE_AUX_FUNDING], "data/samples/xrpusdt_funding.csv",
		 "funding_time", "funding_rate");
	check(&cc.c, 5 * MDE_MINUTE_MS, MDE_CRYPTO, &aux, 11);
	mde_auxset_free(&aux);
	mde_csv_candles_free(&cc);
}

static void test_random_with_gaps_and_aux(void **state)
{
	static const int64_t tfs[] = {MDE_MINUTE_MS, 15 * MDE_MINUTE_MS,
				      MDE_HOUR_MS, 4 * MDE_HOUR_MS};
	for (size_t k = 0; k < MDE_ARRAY_LEN(tfs); k++) {
		mde_candles c;
		mde_candles_init(&c);
		int64_t t0 = INT64_C(1700006400000);
		size_t n = 4000;
		tu_random_candles(&c, 31 + k, n, t0, tfs[k], true, k == 2);
		mde_auxset aux;
		tu_random_aux(&aux, 5 + k, t0, t0 + (int64_t)n * tfs[k]);
		check(&c, tfs[k], MDE_CRYPTO, &aux, 53);
		mde_auxset_free(&aux);
		mde_candles_free(&c);
	}
}

static void test_equity_daily(void **state)
{
	/* trading days only: Mon..Fri at 14:30 UTC, a holiday now and then */
	mde_candles c, raw;
	mde_candles_init(&c);
	mde_candles_init(&raw);
	int64_t t0 = INT64_C(1577836800000); /* 2020-01-01 (Wednesday) */
	tu_random_candles(&raw, 77, 3000, t0, MDE_DAY_MS, false, false);
	uint64_t st = 3;
	for (size_t r = 0; r < raw.n; r++) {
		int64_t day = (raw.open_time_ms[r] - t0) / MDE_DAY_MS;
		int dow = (int)((day + 2) % 7); /* 0 = Monday */
		if (dow >= 5 || tu_unif(&st) < 0.03)
			continue;
		assert_int_equal(mde_candles_copy_row(&c, &raw, r), 0);
		c.open_time_ms[c.n - 1] += 870 * MDE_MINUTE_MS;
	}
	mde_auxset aux;
	memset(&aux, 0, sizeof aux);
	check(&c, MDE_DAY_MS, MDE_EQUITY, &aux, 11);
	mde_candles_free(&c);
	mde_candles_free(&raw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_btc_futures_1h_with_funding),
		cmocka_unit_test(test_btc_spot_real_gap),
		cmocka_unit_test(test_xrp_5m),
		cmocka_unit_test(test_random_with_gaps_and_aux),
		cmocka_unit_test(test_equity_daily),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
