/*
 * fuzz_archive.c - the files of Binance's public archive as they arrive:
 * a zip (libzip, from memory) whose CSV is then read as klines, funding
 * and metrics (clients/archive*.c, src/core/klinecsv.c); the same bytes
 * are also read as a CSV directly, as `import` and `compute` do.
 */
#include "fuzz.h"

#include "archive.h"
#include "archive_get.h"
#include "klinecsv.h"

static void read_csv(const char *buf, size_t len)
{
	const int64_t end = INT64_C(4102444800000);
	mde_candles c;
	mde_candles_init(&c);
	mde_err err = {0};
	fz_ignore(mde_kline_csv_parse(buf, len, MDE_SRC_BINANCE, 0, end, &c,
				      NULL, &err));
	mde_candles_free(&c);
	mde_aux a = {0};
	size_t rows = 0;
	fz_ignore(mde_ar_parse_funding(buf, len, 0, end, &a, &rows, &err));
	mde_aux_free(&a);
	mde_aux b = {0};
	fz_ignore(mde_ar_parse_metrics(buf, len, MDE_AUX_OPEN_INTEREST,
				       5 * MDE_MINUTE_MS, 0, end, &b, &rows,
				       &err));
	mde_aux_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_csv((const char *)data, size);
	char *csv = NULL;
	size_t len = 0;
	mde_err err = {0};
	if (mde_ar_unzip(data, size, &csv, &len, &err) == 0)
		read_csv(csv, len);
	free(csv);
	return 0;
}
