/* fuzz_binance_klines.c - Binance futures and spot /klines pages. */
#include "fuzz.h"

#include "clients.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t periods[] = {MDE_MINUTE_MS, MDE_HOUR_MS,
					  MDE_DAY_MS};
	for (int spot = 0; spot < 2; spot++) {
		mde_window w = FZ_WINDOW(periods[(size + (size_t)spot) % 3]);
		mde_candles c;
		mde_candles_init(&c);
		mde_page pg;
		mde_page_reset(&pg);
		mde_err err = {0};
		fz_ignore(mde_binance_parse_klines(
			(const char *)data, size,
			spot ? MDE_SRC_BINANCE_SPOT : MDE_SRC_BINANCE, &w, &c,
			&pg, &err));
		mde_candles_free(&c);
	}
	mde_err err = {0};
	fz_ignore(mde_binance_error_body((const char *)data, size, &err));
	return 0;
}
