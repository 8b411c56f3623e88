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

static inline __attribute__((always_inline)) void
blk_meansd(const double *restrict x, size_t w, double *restrict mean,
	   double *restrict sd)
{
	/* four named accumulators: the compiler keeps them in registers */
	v8d a0, a1, a2, a3, t0, t1, t2, t3;
	LD8(a0, x);
	LD8(a1, x + 8);
	LD8(a2, x + 16);
	LD8(a3, x + 24);
	for (size_t k = 1; k < w; k++) {
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
	const double dw = (double)w;
	v8d m0 = a0 / dw, m1 = a1 / dw, m2 = a2 / dw, m3 = a3 / dw;
	memcpy(mean, &m0, sizeof m0);
	memcpy(mean + 8, &m1, sizeof m1);
	memcpy(mean + 16, &m2, sizeof m2);
	memcpy(mean + 24, &m3, sizeof m3);
	if (!sd)
		return;
	a0 = a1 = a2 = a3 = (v8d){0};
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
	memcpy(sd, &a0, sizeof a0);
	memcpy(sd + 8, &a1, sizeof a1);
	memcpy(sd + 16, &a2, sizeof a2);
	memcpy(sd + 24, &a3, sizeof a3);
	for (int j = 0; j < BLK; j++)
		sd[j] = sqrt(sd[j]); /* the variance is >= 0: no errno */
}

#define MDE_INLINE static inline __attribute__((always_inline))
MDE_INLINE void tile_meansd(const double *restrict x, size_t len,
			       size_t w, double *restrict mean,
			       double *restrict sd)
{
	size_t j0 = 0;
	for (; j0 + BLK <= len; j0 += BLK)
		blk_meansd(x + j0, w, mean + j0, sd ? sd + j0 : NULL);
	for (size_t j = j0; j < len; j++) {
		/* x[j - k] reaches before x (the window's earlier rows): a
		 * signed index, not an unsigned offset that wraps. */
		const ptrdiff_t sj = (ptrdiff_t)j;
		double acc = x[j];
		for (ptrdiff_t k = 1; k < (ptrdiff_t)w; k++)
			acc += x[sj - k];
		double m = acc / (double)w;
		mean[j] = m;
		if (!sd)
			continue;
		double d = x[j] - m;
		acc = d * d;
		for (ptrdiff_t k = 1; k < (ptrdiff_t)w; k++) {
			d = x[sj - k] - m;
			acc += d * d;
		}
		sd[j] = sqrt(acc / (double)(w - 1));
	}
}

MDE_CLONES
void mde_win_meansd(const double *x, size_t n, size_t w, const uint32_t *run,
		    uint32_t need, double *mean, double *sd)
{
	double mbuf[TILE];
	size_t first = w - 1 < n ? w - 1 : n;
	uint32_t eq = 0; /* equal values in a row ending at i */
	for (size_t i = 0; i < first; i++) {
		eq = (i > 0 && x[i] == x[i - 1]) ? eq + 1 : 1;
		if (mean)
			mean[i] = NAN;
		if (sd)
			sd[i] = NAN;
	}
	for (size_t i = first; i < n; i += TILE) {
		size_t len = n - i < TILE ? n - i : TILE;
		double *m = mean ? mean + i : mbuf;
		double *d = sd ? sd + i : NULL;
		tile_meansd(x + i, len, w, m, d);
		for (size_t j = 0; j < len; j++) {
			size_t r = i + j;
			eq = (r > 0 && x[r] == x[r - 1]) ? eq + 1 : 1;
			if (run[r] < need) {
				m[j] = NAN;
				if (d)
					d[j] = NAN;
			} else if (eq >= w) {
				/* all equal: exactly that mean and exactly 0 */
				m[j] = x[r];
				if (d)
					d[j] = 0.0;
			}
		}
	}
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
