/* fuzz_binance_funding.c - Binance /fapi/v1/fundingRate pages. */
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
	return 0;
}
