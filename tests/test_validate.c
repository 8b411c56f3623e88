/*
 * test_validate.c - FEATURES.md "Validation": every hard check with its
 * reason, duplicates (last wins, then validated), out-of-order counting,
 * the grid (gaps as NaN slots, equity bars consecutive), merging history
 * with new candles, and the vectorized checker against the row checker.
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

#define T0 INT64_C(1704067200000)
#define H MDE_HOUR_MS
#define NOW (T0 + 100 * H)

/* o h l c v qv tbb tbq as text ("" = NULL) */
static void row(mde_candles *c, int64_t t, const char *o, const char *h,
		const char *l, const char *cl, const char *v, const char *qv,
		const char *tbb, const char *tbq)
{
	mde_candle_in in = {.open_time_ms = t, .trades = 7,
			    .origin = MDE_SRC_CSV};
	const char *f[MDE_NFIELDS] = {o, h, l, cl, v, qv, tbb, tbq};
	for (int k = 0; k < MDE_NFIELDS; k++)
		in.txt[k] = f[k] && *f[k] ? f[k] : NULL;
	assert_int_equal(mde_candles_push(c, &in, NULL), 0);
}

static uint32_t reasons_of(const mde_validation *v, uint32_t r)
{
	for (size_t i = 0; i < v->nrejects; i++)
		if (v->rejects[i].row == r)
			return v->rejects[i].reasons;
	return 0;
}

static void test_every_reason(void **state)
{
	mde_candles c;
	mde_candles_init(&c);
	/* 0 ok */
	row(&c, T0, "10", "12", "9", "11", "5", "55", "2", "22");
	/* 1 missing close and volume */
	row(&c, T0 + H, "10", "12", "9", "", "", "", "", "");
	/* 2 NaN open, inf high: not finite */
	row(&c, T0 + 2 * H, "NaN", "inf", "9", "11", "5", "", "", "");
	/* 3 zero and negative prices */
	row(&c, T0 + 3 * H, "0", "12", "-1", "11", "5", "", "", "");
	/* 4 negative volume and taker volume */
	row(&c, T0 + 4 * H, "10", "12", "9", "11", "-5", "", "-1", "");
	/* 5 high below close, low above open */
	row(&c, T0 + 5 * H, "10", "10.5", "10.2", "11", "5", "", "", "");
	/* 6 misaligned (crypto), 7 not closed: open_time + P > now */
	row(&c, T0 + 6 * H + 1, "10", "12", "9", "11", "5", "", "", "");
	row(&c, NOW - H + 1, "10", "12", "9", "11", "5", "", "", "");
	/* 8 taker > volume, taker quote > quote volume */
	row(&c, T0 + 8 * H, "10", "12", "9", "11", "5", "50", "6", "60");
	/* 9 closed exactly at now: fine; only optional NULLs: fine */
	row(&c, NOW - H, "10", "12", "9", "11", "0", "", "", "");
	mde_validation v = {0};
	mde_err err = {0};
	assert_int_equal(mde_validate(&v, &c, H, MDE_CRYPTO, NOW, &err), 0);
	assert_int_equal(reasons_of(&v, 0), 0);
	assert_int_equal(reasons_of(&v, 1), MDE_RJ_MISSING);
	assert_int_equal(reasons_of(&v, 2), MDE_RJ_NOT_FINITE);
	assert_int_equal(reasons_of(&v, 3), MDE_RJ_NONPOSITIVE);
	/* and -1 > -5: the taker check fails as well (every reason) */
	assert_int_equal(reasons_of(&v, 4), MDE_RJ_NEGATIVE_VOLUME |
						    MDE_RJ_TAKER_GT_VOLUME);
	assert_int_equal(reasons_of(&v, 5), MDE_RJ_HIGH_LOW);
	assert_int_equal(reasons_of(&v, 6), MDE_RJ_MISALIGNED);
	/* (NOW - H + 1 is also off the grid: both reasons) */
	assert_int_equal(reasons_of(&v, 7), MDE_RJ_NOT_CLOSED |
						    MDE_RJ_MISALIGNED);
	assert_int_equal(reasons_of(&v, 8), MDE_RJ_TAKER_GT_VOLUME |
						    MDE_RJ_TAKER_QUOTE_GT_QUOTE);
	assert_int_equal(reasons_of(&v, 9), 0);
	/* every reason of one row, and their names */
	char buf[256];
	assert_string_equal(mde_reject_reasons_str(MDE_RJ_HIGH_LOW |
							   MDE_RJ_NOT_CLOSED,
						   buf, sizeof buf),
			    "high_low,not_closed");
	assert_string_equal(mde_reject_reason_name(MDE_RJ_MISALIGNED),
			    "misaligned");
	assert_int_equal(v.stats.received, 10);
	assert_int_equal(v.stats.valid, 2);
	assert_int_equal(v.stats.rejected, 8);
	/* grid from the first to the last valid candle: T0 .. T0 + 99h */
	assert_int_equal(v.series.n, 100);
	assert_int_equal(v.stats.gaps, 98);
	mde_validation_free(&v);
	/* equity: no alignment check */
	assert_int_equal(mde_validate(&v, &c, H, MDE_EQUITY, NOW, &err), 0);
	assert_int_equal(reasons_of(&v, 6), 0);
	assert_int_equal(reasons_of(&v, 7), MDE_RJ_NOT_CLOSED);
	mde_validation_free(&v);
	mde_candles_free(&c);
}

static void test_duplicates_and_order(void **state)
{
	mde_candles c;
	mde_candles_init(&c);
	row(&c, T0 + 2 * H, "10", "12", "9", "11", "5", "", "", "");  /* 0 */
	row(&c, T0, "10", "12", "9", "11", "5", "", "", "");          /* 1 */
	row(&c, T0 + H, "10", "12", "9", "11", "5", "", "", "");      /* 2 */
	/* 3: a later copy of T0 + H that fails: the slot becomes a gap */
	row(&c, T0 + H, "10", "10", "9", "11", "5", "", "", "");
	/* 4: a later copy of T0 that is valid: it wins */
	row(&c, T0, "20", "22", "19", "21", "5", "", "", "");
	row(&c, T0 + 5 * H, "10", "12", "9", "11", "5", "", "", "");  /* 5 */
	mde_validation v = {0};
	mde_err err = {0};
	assert_int_equal(mde_validate(&v, &c, H, MDE_CRYPTO, NOW, &err), 0);
	/* out of order: rows 1 (T0 < 2H) and 4 (T0 < H) */
	assert_int_equal(v.stats.out_of_order, 2);
	assert_int_equal(v.stats.duplicates, 2);
	assert_int_equal(v.ndups, 2);
	assert_int_equal(v.dups[0], 1);
	assert_int_equal(v.dups[1], 2);
	assert_int_equal(v.stats.rejected, 1);
	assert_int_equal(v.rejects[0].row, 3);
	assert_int_equal(v.stats.valid, 3);
	/* grid T0..T0+5H: 6 slots, gaps at H (failed winner), 3H, 4H */
	const mde_series *s = &v.series;
	assert_int_equal(s->n, 6);
	assert_int_equal(v.stats.gaps, 3);
	assert_int_equal(v.stats.expected, 6);
	static const uint8_t valid[6] = {1, 0, 1, 0, 0, 1};
	for (int i = 0; i < 6; i++) {
		assert_true(s->t[i] == T0 + i * H);
		assert_int_equal(s->valid[i], valid[i]);
		if (!valid[i]) {
			assert_true(isnan(s->val[MDE_CLOSE][i]));
			assert_int_equal(s->row[i], UINT32_MAX);
		}
	}
	assert_int_equal(s->row[0], 4);
	assert_true(s->val[MDE_CLOSE][0] == 21);
	assert_true(s->trades[0] == 7);
	mde_validation_free(&v);
	/* equity: consecutive bars, no gap slots, times as given */
	assert_int_equal(mde_validate(&v, &c, MDE_DAY_MS, MDE_EQUITY, NOW,
				      &err), 0);
	assert_int_equal(v.series.n, 3);
	assert_int_equal(v.stats.gaps, 0);
	assert_true(v.series.t[1] == T0 + 2 * H);
	mde_validation_free(&v);
	mde_candles_free(&c);
}

static void test_grid_place_merge(void **state)
{
	/* history (rows 0..2) then new candles (rows 3..4): last wins */
	mde_candles c;
	mde_candles_init(&c);
	row(&c, T0, "1", "1", "1", "1", "1", "", "", "");
	row(&c, T0 + H, "2", "2", "2", "2", "1", "", "", "");
	row(&c, T0 + 3 * H, "4", "4", "4", "4", "1", "", "", "");
	row(&c, T0 + H, "20", "20", "20", "20", "1", "", "", "");
	row(&c, T0 + 4 * H, "5", "5", "5", "5", "1", "", "", "");
	uint32_t rows[5] = {0, 1, 2, 3, 4};
	mde_series s = {0};
	mde_err err = {0};
	assert_int_equal(mde_grid_place(&s, &c, rows, 5, H, MDE_CRYPTO, &err),
			 0);
	assert_int_equal(s.n, 5);
	assert_true(s.val[MDE_CLOSE][1] == 20);
	assert_int_equal(s.row[1], 3);
	assert_int_equal(s.valid[2], 0);
	/* reuse of the same series: its buffer is kept */
	uint32_t few[2] = {4, 0};
	assert_int_equal(mde_grid_place(&s, &c, few, 2, H, MDE_CRYPTO, &err),
			 0);
	assert_int_equal(s.n, 5);
	assert_true(s.t[0] == T0 && s.valid[0] && s.valid[4]);
	/* misaligned crypto rows are an error, not a silent shift */
	row(&c, T0 + 7, "5", "5", "5", "5", "1", "", "", "");
	uint32_t bad[1] = {5};
	assert_int_equal(mde_grid_place(&s, &c, bad, 1, H, MDE_CRYPTO, &err),
			 MDE_EINVAL);
	mde_series_free(&s);
	/* an absurd grid (1970 to 2024 at 1m) is refused */
	mde_candles d;
	mde_candles_init(&d);
	row(&d, 0, "5", "5", "5", "5", "1", "", "", "");
	row(&d, T0 * 100, "5", "5", "5", "5", "1", "", "", "");
	mde_validation v = {0};
	assert_int_equal(mde_validate(&v, &d, MDE_MINUTE_MS, MDE_CRYPTO,
				      INT64_MAX / 2, &err), MDE_EINVAL);
	mde_validation_free(&v);
	mde_candles_free(&d);
	mde_candles_free(&c);
}

static void test_checker_equals_row_checker(void **state)
{
	/* random garbage rows, unique times: every row is a winner, so its
	   reasons (0 when valid) come from the vectorized checker */
	static const char *pool[] = {"",   "NaN",  "inf", "-inf", "-1", "0",
				     "1",  "2.5",  "100", "1e308", "3", "-0"};
	uint64_t st = 12345;
	mde_candles c;
	mde_candles_init(&c);
	for (int i = 0; i < 5000; i++) {
		/* a valid row with each field replaced 1 time in 6 */
		const char *f[MDE_NFIELDS] = {"10", "12", "9",  "11",
					      "5",  "55", "2", "22"};
		for (int k = 0; k < MDE_NFIELDS; k++)
			if (tu_rand(&st) % 6 == 0)
				f[k] = pool[tu_rand(&st) % MDE_ARRAY_LEN(pool)];
		int64_t t = T0 + i * H + (tu_rand(&st) % 8 == 0 ? 17 : 0);
		if (tu_rand(&st) % 50 == 0)
			t = NOW + i * H + 5; /* not closed */
		row(&c, t, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
	}
	for (int asset = 0; asset < 2; asset++) {
		mde_validation v = {0};
		mde_err err = {0};
		assert_int_equal(mde_validate(&v, &c, H, asset, NOW, &err), 0);
		size_t valid = 0;
		for (size_t i = 0; i < c.n; i++) {
			uint32_t want = mde_validate_row(&c, i, H, asset, NOW);
			assert_int_equal(reasons_of(&v, (uint32_t)i), want);
			valid += want == 0;
		}
		assert_int_equal(v.stats.valid, valid);
		assert_true(valid > 0 && valid < c.n);
		mde_validation_free(&v);
	}
	mde_candles_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_reason),
		cmocka_unit_test(test_duplicates_and_order),
		cmocka_unit_test(test_grid_place_merge),
		cmocka_unit_test(test_checker_equals_row_checker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
