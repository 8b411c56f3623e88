/*
 * offline.c - the stages of `mdenrich compute` (pipeline.h): candles the
 * user already has are validated and computed as the pipeline would, with
 * no fetch and no store.
 */
#include "pipeline.h"

#include "engine.h"
#include "timeutil.h"

int mde_pipeline_offline(mde_validation *v, mde_frame *fr,
			 const mde_candles *c, int64_t period_ms,
			 enum mde_asset asset, const mde_auxset *aux,
			 mde_err *err)
{
	int rc = mde_validate(v, c, period_ms, asset, mde_now_ms(), err);
	if (!rc)
		rc = mde_features_compute(fr, &v->series, aux, err);
	return rc;
}
