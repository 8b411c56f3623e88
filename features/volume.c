/*
 * volume.c - rolling_volume_20 (mean volume over the 20 bars ending at t)
 * and volume_spike_score = (v_t - m) / s with m, s the mean and sample
 * standard deviation (two-pass) of those 20 volumes; NULL when s = 0, i.e.
 * when all 20 volumes are equal (detected exactly, not by rounding).
 */
#include "engine.h"
#include "window.h"

#include <math.h>

#define VOLUME_WINDOW 20 /* bars of rolling_volume_20 and the score */

void mde_k_volume(const mde_kin *in, double *const out[])
{
	double *m = out[MDE_OUT(volume, ROLLING_VOLUME_20)];
	double *z = out[MDE_OUT(volume, VOLUME_SPIKE_SCORE)];
	/* the standard deviation goes into z, then z becomes the score */
	mde_win_meansd(in->v, in->n, VOLUME_WINDOW, in->run, VOLUME_WINDOW, m,
		       z);
	for (size_t i = 0; i < in->n; i++)
		z[i] = z[i] > 0.0 ? (in->v[i] - m[i]) / z[i] : NAN;
}

size_t mde_k_volume_start(int64_t period_ms, int asset)
{
	return VOLUME_WINDOW - 1;
}

size_t mde_k_volume_warmup(int64_t period_ms, int asset)
{
	return VOLUME_WINDOW - 1;
}
