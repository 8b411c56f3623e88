/*
 * sma.c - sma_20, sma_50: mean close over the 20 (50) bars ending at t,
 * summed window by window (never a running sum, which loses digits when a
 * series drops from 1e6 to 1e-3), exactly the close when all are equal.
 */
#include "engine.h"
#include "window.h"

void mde_k_sma(const mde_kin *in, double *const col[])
{
	mde_win_meansd(in->c, in->n, 20, in->run, 20, col[MDE_COL_SMA_20],
		       NULL);
	mde_win_meansd(in->c, in->n, 50, in->run, 50, col[MDE_COL_SMA_50],
		       NULL);
}

size_t mde_k_sma_start(int64_t period_ms, int asset)
{
	return 19;
}

size_t mde_k_sma_warmup(int64_t period_ms, int asset)
{
	return 49;
}
