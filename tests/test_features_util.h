/* test_features_util.h - helpers shared by the feature/validate tests. */
#ifndef TEST_FEATURES_UTIL_H
#define TEST_FEATURES_UTIL_H

#include "candles.h"
#include "engine.h"
#include "validate.h"

/* One candle for tu_push (NaN = NULL field). */
typedef struct tu_bar {
	int64_t t;
	double o, h, l, c, v, tbb;
} tu_bar;

void tu_push(mde_candles *c, const tu_bar *b);
/* Validates c (now = far future) into *v; asserts success. */
void tu_validate(mde_validation *v, const mde_candles *c, int64_t period_ms,
		 enum mde_asset asset);
/* Deterministic random numbers. */
uint64_t tu_rand(uint64_t *st);
double tu_unif(uint64_t *st); /* [0, 1) */
/*
 * Random crypto/equity candles: n slots from t0 with period P, random walk
 * with flat stretches, zero volumes, gaps (single and long) when gaps, and
 * when adversarial a drop from ~1e6 to ~1e-3 and back.
 */
void tu_random_candles(mde_candles *c, uint64_t seed, size_t n, int64_t t0,
		       int64_t period_ms, bool gaps, bool adversarial);
/* Random aux series over [t0 - 40 days, t1]: funding every 8h (with ties,
   jitter), OI and LS every 5 min..1h with holes, liquidations, inflow. */
void tu_random_aux(mde_auxset *a, uint64_t seed, int64_t t0, int64_t t1);
/* Same value: both NaN, or |a-b| <= rel*max(|a|,|b|) or |a-b| <= abs. */
bool tu_close(double a, double b, double rel, double abs);
/* Reads a whole file (NUL-terminated, malloc'd) or NULL. */
char *tu_slurp(const char *path, size_t *len);

#endif
