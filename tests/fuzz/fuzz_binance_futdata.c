/*
 * fuzz_binance_futdata.c - Binance /futures/data pages (open interest,
 * long/short ratio, taker ratio); the first byte picks the kind.
 */
#include "fuzz.h"

#include "candles.h"
#include "clients.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int kinds[] = {MDE_AUX_OPEN_INTEREST, MDE_AUX_LONG_SHORT,
				    MDE_AUX_TAKER};
	if (size < 1)
		return 0;
	int kind = kinds[data[0] % 3];
	mde_window w = FZ_WINDOW(5 * MDE_MINUTE_MS);
	mde_aux a = {0};
	mde_page pg;
	mde_page_reset(&pg);
	mde_err err = {0};
	fz_ignore(mde_binance_parse_futdata((const char *)data + 1, size - 1, kind,
					&w, INT64_MIN, &a, &pg, &err));
	mde_aux_free(&a);
	return 0;
}
