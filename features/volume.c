/*
 * volume.c - rolling_volume_20 (mean volume over the 20 bars ending at t)
 * and volume_spike_score = (v_t - m) / s with m, s the mean and sample
 * standard deviation (two-pass) of those 20 volumes; NULL when s = 0, i.e.
 * when all 20 volumes are equal (detected exactly, not by rounding).
 */
#include "engine.h"
#include "window.h"

#include <math.h>

void mde_k_volume(const mde_kin *in, double *const col[])
{
	double *m = col[MDE_COL_ROLLING_VOLUME_20];
	double *z = col[MDE_COL_VOLUME_SPIKE_SCORE];
	/* the standard deviation goes into z, then z becomes the score */
	mde_win_meansd(in->v, in->n, 20, in->run, 20, m, z);
	for (size_t i = 0; i < in->n; i++)
		z[i] = z[i] > 0.0 ? (in->v[i] - m[i]) / z[i] : NAN;
}

size_t mde_k_volume_start(int64_t period_ms, int asset)
{
	return 19;
}

size_t mde_k_volume_warmup(int64_t period_ms, int asset)
{
	return 19;
}
