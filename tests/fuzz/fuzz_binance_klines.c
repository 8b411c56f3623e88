/* fuzz_binance_klines.c - Binance futures and spot /klines pages; the
 * parser's fast path must give what the document parser gives (or leave
 * the page to it): a difference aborts. */
#include "fuzz.h"

#include "clients.h"
#include "source.h"

static bool same_page(const mde_page *a, const mde_page *b)
{
	return a->rows == b->rows && a->kept == b->kept &&
	       a->dropped == b->dropped && a->first_ms == b->first_ms &&
	       a->last_ms == b->last_ms;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t periods[] = {MDE_MINUTE_MS, MDE_HOUR_MS,
					  MDE_DAY_MS};
	for (int spot = 0; spot < 2; spot++) {
		mde_window w = FZ_WINDOW(periods[(size + (size_t)spot) % 3]);
		int origin = spot ? MDE_SRC_BINANCE_SPOT : MDE_SRC_BINANCE;
		mde_candles c, d;
		mde_candles_init(&c);
		mde_candles_init(&d);
		mde_page pg, pd;
		mde_page_reset(&pg);
		mde_page_reset(&pd);
		mde_err err = {0}, erd = {0};
		int rc = mde_binance_parse_klines((const char *)data, size,
						  origin, &w, &c, &pg, &err);
		int rd = mde_binance_parse_klines_doc((const char *)data, size,
						      origin, &w, &d, &pd, &erd);
		if (rc != rd || (rc == 0 && (!same_page(&pg, &pd) ||
					     !mde_candles_equal(&c, &d))))
			abort();
		mde_candles_free(&c);
		mde_candles_free(&d);
	}
	mde_err err = {0};
	fz_ignore(mde_binance_error_body((const char *)data, size, &err));
	return 0;
}
