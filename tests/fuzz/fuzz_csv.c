/*
 * fuzz_csv.c - the compute command's CSV readers (candles and the aux
 * files), and the validation and grid placement of what they accept.
 */
#include "fuzz.h"

#include "csvio.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	mde_csv_candles cc = {0};
	mde_err err = {0};
	if (mde_csv_read_candles(&cc, buf, size, &err) == 0 && cc.c.n) {
		mde_validation v = {0};
		/* the grid of a fuzzed file may be huge: only small spans */
		int64_t lo = cc.c.open_time_ms[0], hi = lo;
		for (size_t i = 1; i < cc.c.n; i++) {
			int64_t t = cc.c.open_time_ms[i];
			lo = t < lo ? t : lo;
			hi = t > hi ? t : hi;
		}
		if (hi - lo <= 100000 * MDE_HOUR_MS)
			fz_ignore(mde_validate(&v, &cc.c, MDE_HOUR_MS, MDE_CRYPTO,
					   INT64_C(4102444800000), &err));
		mde_validation_free(&v);
	}
	mde_csv_candles_free(&cc);
	mde_aux a = {0};
	fz_ignore(mde_csv_read_aux(&a, buf, size, "funding_time", "funding_rate",
			       &err));
	fz_ignore(mde_aux_normalize(&a));
	mde_aux_free(&a);
	return 0;
}
