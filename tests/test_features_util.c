/* test_features_util.c - helpers shared by the feature/validate tests. */
#include "test_features_util.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "timeutil.h"

void tu_push(mde_candles *c, const tu_bar *b)
{
	double vals[MDE_NFIELDS];
	for (int f = 0; f < MDE_NFIELDS; f++)
		vals[f] = NAN;
	vals[MDE_OPEN] = b->o;
	vals[MDE_HIGH] = b->h;
	vals[MDE_LOW] = b->l;
	vals[MDE_CLOSE] = b->c;
	vals[MDE_VOLUME] = b->v;
	vals[MDE_TAKER_BUY_BASE] = b->tbb;
	assert_int_equal(mde_candles_push_num(c, b->t, vals, 1, MDE_SRC_CSV),
			 0);
}

void tu_validate(mde_validation *v, const mde_candles *c, int64_t period_ms,
		 enum mde_asset asset)
{
	mde_err err = {0};
	int rc = mde_validate(v, c, period_ms, asset, INT64_MAX / 2, &err);
	if (rc)
		fprintf(stderr, "validate: %s\n", err.msg);
	assert_int_equal(rc, 0);
}

uint64_t tu_rand(uint64_t *st)
{
	uint64_t x = *st;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*st = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

double tu_unif(uint64_t *st)
{
	return (double)(tu_rand(st) >> 11) * 0x1.0p-53;
}

void tu_random_candles(mde_candles *c, uint64_t seed, size_t n, int64_t t0,
		       int64_t period_ms, bool gaps, bool adversarial)
{
	uint64_t st = seed * 2654435761u + 88172645463325252ull;
	double price = 100.0 + 50 * tu_unif(&st);
	size_t flat = 0, skip = 0;
	for (size_t i = 0; i < n; i++) {
		double u = tu_unif(&st);
		if (skip) {
			skip--;
			continue;
		}
		if (gaps && u < 0.01) {
			skip = tu_unif(&st) < 0.5 ? 0 : 1 + tu_rand(&st) % 60;
			continue;
		}
		if (adversarial && i == n / 3)
			price = 1e6;
		if (adversarial && i == n / 3 + 30)
			price = 1.234e-3;
		if (adversarial && i == 2 * n / 3)
			price = 250.0;
		if (!flat && tu_unif(&st) < 0.01)
			flat = 1 + tu_rand(&st) % 80;
		double o = price, cl = price, h = price, l = price, v = 0;
		if (flat) {
			flat--;
			v = (tu_rand(&st) % 4 == 0) ? 0.0 : 5.0;
		} else {
			/* prices on a tick grid, like an exchange's */
			double tick = price > 1 ? 0.01 : 1e-7;
			double step = price * 0.01 * (tu_unif(&st) - 0.5);
			cl = round((price + step) / tick) * tick;
			if (cl <= 0)
				cl = tick;
			h = fmax(o, cl) + round(price * 0.003 * tu_unif(&st) /
						  tick) * tick;
			l = fmin(o, cl) - round(price * 0.003 * tu_unif(&st) /
						  tick) * tick;
			if (l <= 0)
				l = fmin(o, cl);
			v = round(1000 * tu_unif(&st) * 1000) / 1000;
			if (tu_unif(&st) < 0.01)
				v = 0.0;
		}
		double tbb = round(v * tu_unif(&st) * 1000) / 1000;
		if (tu_unif(&st) < 0.02)
			tbb = v;
		if (tu_unif(&st) < 0.01)
			tbb = NAN;
		tu_bar b = {t0 + (int64_t)i * period_ms, o, h, l, cl, v, tbb};
		tu_push(c, &b);
		price = cl;
	}
}

void tu_random_aux(mde_auxset *a, uint64_t seed, int64_t t0, int64_t t1)
{
	uint64_t st = seed * 0x9E3779B97F4A7C15ull + 1;
	memset(a, 0, sizeof *a);
	for (int k = 0; k < MDE_NAUX; k++)
		a->configured[k] = true;
	int64_t start = t0 - 40 * MDE_DAY_MS;
	/* funding every 8 h with ms jitter, few distinct values (ties) */
	for (int64_t t = start; t <= t1; t += 8 * MDE_HOUR_MS) {
		if (tu_unif(&st) < 0.03)
			continue; /* a missing event: staleness */
		double r = (double)((int)(tu_rand(&st) % 7) - 2) * 1e-4;
		assert_int_equal(mde_aux_push(&a->s[MDE_AUX_FUNDING],
					      t + (int64_t)(tu_rand(&st) % 20),
					      r), 0);
	}
	for (int64_t t = start; t <= t1;) {
		double u = tu_unif(&st);
		assert_int_equal(mde_aux_push(&a->s[MDE_AUX_OPEN_INTEREST], t,
					      u < 0.01 ? 0.0 : 1e4 * (1 + u)), 0);
		assert_int_equal(mde_aux_push(&a->s[MDE_AUX_LONG_SHORT], t,
					      0.5 + u), 0);
		/* 5 min .. 1 h cadence, sometimes a 5 h hole */
		t += (u < 0.02 ? 5 * MDE_HOUR_MS :
		      (int64_t)(1 + tu_rand(&st) % 12) * 5 * MDE_MINUTE_MS);
	}
	for (int64_t t = start; t <= t1; t += MDE_HOUR_MS * 7) {
		if (tu_unif(&st) < 0.1)
			t += 3 * MDE_DAY_MS;
		assert_int_equal(mde_aux_push(&a->s[MDE_AUX_INFLOW], t,
					      tu_unif(&st) * 100), 0);
	}
	for (int64_t t = start; t <= t1;) {
		assert_int_equal(mde_aux_push(&a->s[MDE_AUX_LIQUIDATIONS], t,
					      round(tu_unif(&st) * 1e4) / 100),
				 0);
		if (tu_unif(&st) < 0.3) /* same-time events all count */
			continue;
		t += (int64_t)(tu_rand(&st) % (90 * 60)) * 1000;
	}
	for (int k = 0; k < MDE_NAUX; k++)
		if (k != MDE_AUX_LIQUIDATIONS)
			if (mde_aux_normalize(&a->s[k]))
				abort();
}

bool tu_close(double a, double b, double rel, double abs)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	double d = fabs(a - b);
	return d <= abs || d <= rel * fmax(fabs(a), fabs(b));
}

char *tu_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	size_t k;
	while (buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += k;
		if (cap - n - 1 == 0) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}
