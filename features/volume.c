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
	double *sd = in->scratch;
	uint32_t *eq = (uint32_t *)(sd + in->n);
	mde_win_eqrun(in->v, in->n, eq);
	mde_win_meansd(in->v, in->n, 20, in->run, 20, eq, m, sd);
	for (size_t i = 0; i < in->n; i++)
		z[i] = sd[i] > 0.0 ? (in->v[i] - m[i]) / sd[i] : NAN;
}

size_t mde_k_volume_start(int64_t period_ms, int asset)
{
	return 19;
}

size_t mde_k_volume_warmup(int64_t period_ms, int asset)
{
	return 19;
}
