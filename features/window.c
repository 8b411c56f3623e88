/*
 * window.c - rolling-window helpers of the feature kernels (see window.h).
 *
 * Speed: the hot loops run over tiles of TILE rows that stay in L1, one lag
 * at a time, so every inner loop is an element-wise vector operation. The
 * functions are cloned for AVX2 (target_clones, picked at load time); with
 * ISO C's -ffp-contract=off both clones perform the same IEEE operations in
 * the same order, so the results do not depend on the CPU.
 */
#include "window.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define TILE 256

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
	!defined(__SANITIZE_ADDRESS__)
#define MDE_CLONES \
	__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define MDE_CLONES
#endif

void mde_win_runs(const uint8_t *valid, size_t n, uint32_t *run)
{
	uint32_t r = 0;
	for (size_t i = 0; i < n; i++) {
		r = valid[i] ? r + 1 : 0;
		run[i] = r;
	}
}

/*
 * Windows of one column, shortest first: the sum of a longer window goes
 * on from the shorter one's, lag by lag, so each row's sum of w values is
 * still the plain sequential sum x[j] + x[j-1] + ... + x[j-w+1] (the same
 * bits as summing that window alone).
 */
#define MAXW 2
typedef struct wins {
	size_t nw;
	size_t w[MAXW];
	uint32_t need[MAXW];
	double *mean[MAXW]; /* never NULL inside a tile (a scratch tile) */
	double *sd[MAXW];   /* NULL: not asked for */
} wins;

/*
 * For the rows j in [0, len) of a tile whose first row is x (x[-w+1] is
 * readable): mean[j] = (sum over k of x[j - k]) / w, then, when sd != NULL,
 * sd[j] = sqrt(sum over k of (x[j - k] - mean[j])^2 / (w - 1)), k = 0, 1,
 * ..., w - 1 in that order. Blocks of BLK rows keep their accumulators in
 * vector registers across the lags; the tail uses plain loops with the
 * same operations in the same order.
 */
#define BLK 32
/* Eight doubles: one AVX-512 register, two AVX2, four SSE2 (GCC's vector
   extension; each operation is element-wise IEEE, as in the scalar loop). */
typedef double v8d __attribute__((vector_size(64)));

/* a macro, not a function: passing v8d by value is an ABI question */
#define LD8(v, p) memcpy(&(v), (p), sizeof(v8d))
#define ST8(p, v) memcpy((p), &(v), sizeof(v8d))

static inline __attribute__((always_inline)) void
blk_sd(const double *restrict x, size_t w, const double *restrict mean,
       double *restrict sd)
{
	v8d a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, t0, t1, t2, t3;
	v8d m0, m1, m2, m3;
	LD8(m0, mean);
	LD8(m1, mean + 8);
	LD8(m2, mean + 16);
	LD8(m3, mean + 24);
	for (size_t k = 0; k < w; k++) {
		const double *p = x - k;
		LD8(t0, p);
		LD8(t1, p + 8);
		LD8(t2, p + 16);
		LD8(t3, p + 24);
		t0 -= m0;
		t1 -= m1;
		t2 -= m2;
		t3 -= m3;
		a0 += t0 * t0;
		a1 += t1 * t1;
		a2 += t2 * t2;
		a3 += t3 * t3;
	}
	const double dn = (double)(w - 1);
	a0 /= dn;
	a1 /= dn;
	a2 /= dn;
	a3 /= dn;
	ST8(sd, a0);
	ST8(sd + 8, a1);
	ST8(sd + 16, a2);
	ST8(sd + 24, a3);
	for (int j = 0; j < BLK; j++)
		sd[j] = sqrt(sd[j]); /* the variance is >= 0: no errno */
}

static inline __attribute__((always_inline)) void
blk_meansd(const double *restrict x, const wins *ws, size_t j0)
{
	/* four named accumulators: the compiler keeps them in registers */
	v8d a0, a1, a2, a3, t0, t1, t2, t3;
	LD8(a0, x);
	LD8(a1, x + 8);
	LD8(a2, x + 16);
	LD8(a3, x + 24);
	size_t k = 1;
	for (size_t q = 0; q < ws->nw; q++) {
		for (; k < ws->w[q]; k++) {
			const double *p = x - k;
			LD8(t0, p);
			LD8(t1, p + 8);
			LD8(t2, p + 16);
			LD8(t3, p + 24);
			a0 += t0;
			a1 += t1;
			a2 += t2;
			a3 += t3;
		}
		const double dw = (double)ws->w[q];
		v8d m0 = a0 / dw, m1 = a1 / dw, m2 = a2 / dw, m3 = a3 / dw;
		double *mean = ws->mean[q] + j0;
		ST8(mean, m0);
		ST8(mean + 8, m1);
		ST8(mean + 16, m2);
		ST8(mean + 24, m3);
	}
	for (size_t q = 0; q < ws->nw; q++)
		if (ws->sd[q])
			blk_sd(x, ws->w[q], ws->mean[q] + j0, ws->sd[q] + j0);
}

#define MDE_INLINE static inline __attribute__((always_inline))
MDE_INLINE void tile_meansd(const double *restrict x, size_t len,
			       const wins *ws)
{
	size_t j0 = 0;
	for (; j0 + BLK <= len; j0 += BLK)
		blk_meansd(x + j0, ws, j0);
	for (size_t j = j0; j < len; j++) {
		/* x[j - k] reaches before x (the window's earlier rows): a
		 * signed index, not an unsigned offset that wraps. */
		const ptrdiff_t sj = (ptrdiff_t)j;
		double acc = x[j];
		ptrdiff_t k = 1;
		for (size_t q = 0; q < ws->nw; q++) {
			for (; k < (ptrdiff_t)ws->w[q]; k++)
				acc += x[sj - k];
			ws->mean[q][j] = acc / (double)ws->w[q];
		}
		for (size_t q = 0; q < ws->nw; q++) {
			if (!ws->sd[q])
				continue;
			double m = ws->mean[q][j], d = x[j] - m, s = d * d;
			for (ptrdiff_t i = 1; i < (ptrdiff_t)ws->w[q]; i++) {
				d = x[sj - i] - m;
				s += d * d;
			}
			ws->sd[q][j] = sqrt(s / (double)(ws->w[q] - 1));
		}
	}
}

/* The rows [i, i + len) of every window: undefined rows (run < need) are
   NaN, a window of w equal values exactly that value with sd exactly 0.
   eq carries the count of equal values in a row ending at the last row. */
MDE_INLINE uint32_t tile_fix(const double *x, size_t i, size_t len,
			     const uint32_t *run, const wins *ws, uint32_t eq)
{
	for (size_t j = 0; j < len; j++) {
		size_t r = i + j;
		eq = (r > 0 && x[r] == x[r - 1]) ? eq + 1 : 1;
		for (size_t q = 0; q < ws->nw; q++) {
			double *m = ws->mean[q], *d = ws->sd[q];
			if (run[r] < ws->need[q]) {
				m[j] = NAN;
				if (d)
					d[j] = NAN;
			} else if (eq >= ws->w[q]) {
				m[j] = x[r];
				if (d)
					d[j] = 0.0;
			}
		}
	}
	return eq;
}

/* The rows [from, to) of every window of cols, tile by tile into L1
   buffers, then out to the columns; from is at least the longest window's
   w - 1 (no window reads before the series). */
MDE_INLINE uint32_t win_rows(const double *x, size_t from, size_t to,
			     const uint32_t *run, const wins *cols,
			     uint32_t eq)
{
	double mbuf[MAXW][TILE];
	for (size_t i = from; i < to; i += TILE) {
		size_t len = to - i < TILE ? to - i : TILE;
		wins t = *cols;
		for (size_t q = 0; q < t.nw; q++) {
			t.mean[q] = cols->mean[q] ? cols->mean[q] + i : mbuf[q];
			t.sd[q] = cols->sd[q] ? cols->sd[q] + i : NULL;
		}
		tile_meansd(x + i, len, &t);
		eq = tile_fix(x, i, len, run, &t, eq);
	}
	return eq;
}

static inline void set_nan(double *col, size_t from, size_t to)
{
	for (size_t i = from; col && i < to; i++)
		col[i] = NAN;
}

/* cols: windows ascending, each mean and sd the caller's column or NULL */
MDE_INLINE void win_meansd(const double *x, size_t n, const uint32_t *run,
			   const wins *cols)
{
	size_t first = cols->w[0] - 1 < n ? cols->w[0] - 1 : n;
	uint32_t eq = 0; /* equal values in a row ending at i */
	for (size_t i = 0; i < first; i++)
		eq = (i > 0 && x[i] == x[i - 1]) ? eq + 1 : 1;
	for (size_t q = 0; q < cols->nw; q++) {
		set_nan(cols->mean[q], 0, first);
		set_nan(cols->sd[q], 0, first);
	}
	if (cols->nw == 2) {
		/* rows the longer window does not reach yet: the shorter
		   alone (the longer one's are undefined: run < w <= need) */
		size_t mid = cols->w[1] - 1 < n ? cols->w[1] - 1 : n;
		wins one = *cols;
		one.nw = 1;
		eq = win_rows(x, first, mid, run, &one, eq);
		set_nan(cols->mean[1], first, mid);
		set_nan(cols->sd[1], first, mid);
		first = mid;
	}
	win_rows(x, first, n, run, cols, eq);
}

MDE_CLONES
void mde_win_meansd(const double *x, size_t n, size_t w, const uint32_t *run,
		    uint32_t need, double *mean, double *sd)
{
	wins ws = {.nw = 1, .w = {w}, .need = {need}, .mean = {mean},
		   .sd = {sd}};
	win_meansd(x, n, run, &ws);
}

MDE_CLONES
void mde_win_meansd2(const double *x, size_t n, const size_t w[2],
		     const uint32_t *run, const uint32_t need[2],
		     double *const mean[2], double *const sd[2])
{
	wins ws = {.nw = 2, .w = {w[0], w[1]}, .need = {need[0], need[1]},
		   .mean = {mean[0], mean[1]}, .sd = {sd[0], sd[1]}};
	win_meansd(x, n, run, &ws);
}

static inline double max2(double a, double b)
{
	return a > b ? a : b;
}
static inline double min2(double a, double b)
{
	return a < b ? a : b;
}

MDE_INLINE void tile_max(const double *restrict x, size_t len, size_t w,
			    double *restrict o)
{
	for (size_t j = 0; j < len; j++)
		o[j] = x[j];
	for (size_t k = 1; k < w; k++) {
		const double *xk = x - k;
		for (size_t j = 0; j < len; j++)
			o[j] = max2(o[j], xk[j]);
	}
}

MDE_INLINE void tile_min(const double *restrict x, size_t len, size_t w,
			    double *restrict o)
{
	for (size_t j = 0; j < len; j++)
		o[j] = x[j];
	for (size_t k = 1; k < w; k++) {
		const double *xk = x - k;
		for (size_t j = 0; j < len; j++)
			o[j] = min2(o[j], xk[j]);
	}
}

MDE_CLONES
void mde_win_max(const double *x, size_t n, size_t w, double *out)
{
	size_t i = w - 1;
	for (; i + TILE <= n; i += TILE)
		tile_max(x + i, TILE, w, out + i);
	if (i < n)
		tile_max(x + i, n - i, w, out + i);
}

MDE_CLONES
void mde_win_min(const double *x, size_t n, size_t w, double *out)
{
	size_t i = w - 1;
	for (; i + TILE <= n; i += TILE)
		tile_min(x + i, TILE, w, out + i);
	if (i < n)
		tile_min(x + i, n - i, w, out + i);
}

void mde_win_asof(const int64_t *t, const uint8_t *valid, size_t n,
		  int64_t period_ms, const int64_t *ta, const double *va,
		  size_t na, int64_t limit_ms, double *out, int32_t *idx)
{
	size_t j = 0; /* observations [0, j) have ta < t[i] + period_ms */
	for (size_t i = 0; i < n; i++) {
		int64_t end = t[i] + period_ms;
		while (j < na && ta[j] < end)
			j++;
		double v = NAN;
		int32_t k = -1;
		if (valid[i] && j > 0 && end - ta[j - 1] <= limit_ms) {
			k = (int32_t)(j - 1);
			v = va[k];
		}
		out[i] = v;
		if (idx)
			idx[i] = k;
	}
}
