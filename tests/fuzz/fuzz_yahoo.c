/* fuzz_yahoo.c - Yahoo /v8/finance/chart bodies, daily and intraday. */
#include "fuzz.h"

#include "clients.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t periods[] = {MDE_DAY_MS, MDE_MINUTE_MS,
					  MDE_HOUR_MS};
	mde_window w = FZ_WINDOW(periods[size % 3]);
	mde_candles c;
	mde_candles_init(&c);
	mde_page pg;
	mde_page_reset(&pg);
	mde_err err = {0};
	fz_ignore(mde_yahoo_parse_chart((const char *)data, size, MDE_SRC_YAHOO,
				    &w, &c, &pg, &err));
	mde_candles_free(&c);
	return 0;
}
