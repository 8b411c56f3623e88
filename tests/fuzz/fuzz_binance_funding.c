/* fuzz_binance_funding.c - Binance /fapi/v1/fundingRate pages, of one
 * symbol and of all symbols. */
#include "fuzz.h"

#include "clients.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mde_window w = FZ_WINDOW(0);
	mde_aux a = {0};
	mde_page pg;
	mde_page_reset(&pg);
	mde_err err = {0};
	fz_ignore(mde_binance_parse_funding((const char *)data, size, &w, &a, &pg,
					&err));
	mde_aux_free(&a);
	static const char *const syms[3] = {"BTCUSDT", "ETHUSDT", "XRPUSDT"};
	mde_aux per[3] = {{0}};
	fz_ignore(mde_binance_parse_funding_all((const char *)data, size, &w,
						syms, 3, per, &pg, &err));
	for (int k = 0; k < 3; k++)
		mde_aux_free(&per[k]);
	return 0;
}
