/*
 * fuzz_ws.c - one message of Binance's combined kline stream (clients/ws.c
 * mde_ws_parse), at the timeframes a stream runs.
 */
#include "fuzz.h"

#include "ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t periods[] = {MDE_MINUTE_MS, MDE_HOUR_MS,
					  MDE_DAY_MS};
	mde_ws_kline k;
	bool shutdown = false;
	mde_err err = {0};
	fz_ignore(mde_ws_parse((const char *)data, size, periods[size % 3], &k,
			       &shutdown, &err));
	return 0;
}
