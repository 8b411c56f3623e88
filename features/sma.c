/*
 * sma.c - sma_20, sma_50: mean close over the 20 (50) bars ending at t,
 * summed window by window (never a running sum, which loses digits when a
 * series drops from 1e6 to 1e-3), exactly the close when all are equal.
 */
#include "engine.h"
#include "window.h"

#define SMA_SHORT 20 /* bars of sma_20 */
#define SMA_LONG 50  /* bars of sma_50 */

void mde_k_sma(const mde_kin *in, double *const out[])
{
	static const size_t w[2] = {SMA_SHORT, SMA_LONG};
	static const uint32_t need[2] = {SMA_SHORT, SMA_LONG};
	double *const mean[2] = {out[MDE_OUT(sma, SMA_20)],
				 out[MDE_OUT(sma, SMA_50)]};
	double *const sd[2] = {NULL, NULL};
	mde_win_meansd2(in->c, in->n, w, in->run, need, mean, sd);
}

/* A window of N bars ending at a row reads the N - 1 before it. */
size_t mde_k_sma_start(int64_t period_ms, int asset)
{
	return SMA_SHORT - 1;
}

size_t mde_k_sma_warmup(int64_t period_ms, int asset)
{
	return SMA_LONG - 1;
}
