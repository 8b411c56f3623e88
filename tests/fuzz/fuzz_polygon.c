/* fuzz_polygon.c - Polygon /v2/aggs bodies (results, next_url). */
#include "fuzz.h"

#include "clients.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mde_window w = FZ_WINDOW(MDE_DAY_MS);
	mde_candles c;
	mde_candles_init(&c);
	mde_page pg;
	mde_page_reset(&pg);
	mde_err err = {0};
	fz_ignore(mde_polygon_parse_aggs((const char *)data, size, MDE_SRC_POLYGON,
				     &w, &c, &pg, &err));
	mde_candles_free(&c);
	return 0;
}
