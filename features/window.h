/*
 * window.h - helpers shared by the feature kernels (internal to features/).
 *
 * Rolling windows are computed tile by tile: for a tile of consecutive rows
 * the window sum of every row is accumulated lag by lag (k = 0, 1, ..., w-1,
 * newest value first). Each row's sum is thus the plain sequential sum of
 * its own window, independent of where the series or the chunk starts, and
 * the loop over a tile's rows is element-wise, so the compiler vectorizes it
 * without reassociating anything (bit-identical to the scalar loop).
 */
#ifndef MDE_WINDOW_H
#define MDE_WINDOW_H

#include <stddef.h>
#include <stdint.h>

/* run[i] = valid slots in a row ending at i (0 for a gap). */
void mde_win_runs(const uint8_t *valid, size_t n, uint32_t *run);

/*
 * Rolling mean (when mean != NULL) and sample standard deviation (when
 * sd != NULL), computed in two passes (mean, then squared deviations) per
 * window of the w values ending at each row. A row is defined iff
 * run[i] >= need; otherwise NaN. A window whose w values are all equal has
 * exactly that mean and sd exactly 0. Needs no scratch.
 */
void mde_win_meansd(const double *x, size_t n, size_t w, const uint32_t *run,
		    uint32_t need, double *mean, double *sd);

/* Two windows of x at once, w[0] < w[1], each row with its need, mean and
   sd (NULL when not asked for): the same values as two calls of
   mde_win_meansd, with the longer window's sums going on from the
   shorter's. */
void mde_win_meansd2(const double *x, size_t n, const size_t w[2],
		     const uint32_t *run, const uint32_t need[2],
		     double *const mean[2], double *const sd[2]);

/* out[i] = max (min) of x[i-w+1..i] for i >= w-1, rows < w-1 untouched.
   Windows that contain a NaN give an unspecified value. */
void mde_win_max(const double *x, size_t n, size_t w, double *out);
void mde_win_min(const double *x, size_t n, size_t w, double *out);

/*
 * As-of join: for each slot i with valid[i], the value of the latest
 * observation with ta < t[i] + period_ms whose age t[i] + period_ms - ta is
 * <= limit_ms; else NaN. ta sorted ascending. idx (may be NULL) receives
 * the observation's index or -1.
 */
void mde_win_asof(const int64_t *t, const uint8_t *valid, size_t n,
		  int64_t period_ms, const int64_t *ta, const double *va,
		  size_t na, int64_t limit_ms, double *out, int32_t *idx);

static inline int64_t mde_max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

#endif
