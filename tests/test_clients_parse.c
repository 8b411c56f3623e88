/*
 * test_clients_parse.c - offline tests of the request URLs the clients
 * build and of the parsers, on recorded real responses
 * (tests/fixtures/clients, converted from shared/data/real by
 * scripts/make_replay_sample.py; see data/README.md for provenance) and
 * on the real single rows quoted in docs/EXCHANGES.md. Each parser
 * test pairs a body with the exact URL that fetches it, including the
 * next page's URL derived from the previous page (curl's test style).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clients.h"
#include "source.h"
#include "timeutil.h"

#define FIX "tests/fixtures/clients/"
#define H MDE_HOUR_MS
#define FAR INT64_C(4102444800000) /* 2100-01-01: every candle closed */
static const int64_t T0 = INT64_C(1735689600000); /* 2025-01-01 */

static char *load(const char *path, size_t *len)
{
	char *b = NULL;
	assert_int_equal(mde_read_file(path, 64 << 20, &b, len, NULL), 0);
	return b;
}

static void test_futures_klines_pages(void **st)
{
	char url[512];
	size_t len;
	mde_candles c = {0};
	mde_page pg;
	mde_err e = {0};
	int64_t end = T0 + 1200 * H;
	assert_int_equal(mde_binance_klines_url(url, sizeof url,
						"https://fapi.binance.com", false,
						"BTCUSDT", H, T0, end - 1, 1000),
			 0);
	assert_string_equal(url, "https://fapi.binance.com/fapi/v1/klines?"
				 "symbol=BTCUSDT&interval=1h&startTime="
				 "1735689600000&endTime=1740009599999&limit=1000");
	char *b = load(FIX "fapi_klines_BTCUSDT_1h_p1.json", &len);
	mde_window w = {T0, end, FAR, H};
	assert_int_equal(mde_binance_parse_klines(b, len, MDE_SRC_BINANCE, &w,
						  &c, &pg, &e), 0);
	free(b);
	assert_int_equal(pg.rows, 1000);
	assert_int_equal(c.n, 1000);
	assert_int_equal(c.open_time_ms[0], T0);
	assert_string_equal(mde_candles_text(&c, 0, MDE_OPEN), "93548.80");
	assert_string_equal(mde_candles_text(&c, 0, MDE_CLOSE), "94363.60");
	assert_string_equal(mde_candles_text(&c, 0, MDE_VOLUME), "5744.609");
	assert_string_equal(mde_candles_text(&c, 0, MDE_QUOTE_VOLUME),
			    "539615914.46460");
	assert_string_equal(mde_candles_text(&c, 0, MDE_TAKER_BUY_BASE),
			    "3278.334");
	assert_string_equal(mde_candles_text(&c, 0, MDE_TAKER_BUY_QUOTE),
			    "308056781.54270");
	assert_int_equal(c.trades[0], 105263);
	assert_true(c.val[MDE_HIGH][0] == 94449.2);
	assert_int_equal(c.origin[0], MDE_SRC_BINANCE);
	/* cursor = last open + P: the next page's exact URL */
	int64_t cursor = pg.last_ms + H;
	assert_int_equal(cursor, T0 + 1000 * H);
	assert_int_equal(mde_binance_klines_url(url, sizeof url,
						"https://fapi.binance.com", false,
						"BTCUSDT", H, cursor, end - 1,
						1000),
			 0);
	assert_string_equal(url, "https://fapi.binance.com/fapi/v1/klines?"
				 "symbol=BTCUSDT&interval=1h&startTime="
				 "1739289600000&endTime=1740009599999&limit=1000");
	b = load(FIX "fapi_klines_BTCUSDT_1h_p2.json", &len);
	w.start_ms = cursor;
	assert_int_equal(mde_binance_parse_klines(b, len, MDE_SRC_BINANCE, &w,
						  &c, &pg, &e), 0);
	assert_int_equal(pg.rows, 200); /* short page: the end */
	assert_int_equal(c.n, 1200);
	for (size_t i = 1; i < c.n; i++)
		assert_int_equal(c.open_time_ms[i] - c.open_time_ms[i - 1], H);
	assert_string_equal(mde_candles_text(&c, 1199, MDE_CLOSE), "96598.00");

	/* the still-open candle is dropped: now is 30 min into the 1100th */
	mde_candles_clear(&c);
	w.now_ms = T0 + 1100 * H + 30 * MDE_MINUTE_MS;
	assert_int_equal(mde_binance_parse_klines(b, len, MDE_SRC_BINANCE, &w,
						  &c, &pg, &e), 0);
	assert_int_equal(pg.rows, 200);
	assert_int_equal(c.n, 100);
	assert_int_equal(c.open_time_ms[99], T0 + 1099 * H);
	free(b);
	mde_candles_free(&c);
}

static void test_spot_klines_gap(void **st)
{
	char url[512];
	size_t len;
	mde_candles c = {0};
	mde_page pg;
	int64_t a = INT64_C(1677628800000), z = INT64_C(1680307200000);
	assert_int_equal(mde_binance_klines_url(url, sizeof url,
						"https://api.binance.com", true,
						"BTCUSDT", H, a, z - 1, 1000),
			 0);
	assert_string_equal(url, "https://api.binance.com/api/v3/klines?"
				 "symbol=BTCUSDT&interval=1h&startTime="
				 "1677628800000&endTime=1680307199999&limit=1000");
	char *b = load(FIX "api_klines_BTCUSDT_1h_2023-03.json", &len);
	mde_window w = {a, z, FAR, H};
	assert_int_equal(mde_binance_parse_klines(b, len, MDE_SRC_BINANCE_SPOT,
						  &w, &c, &pg, NULL), 0);
	free(b);
	/* 743 rows: the spot halt of 2023-03-24 13:00 UTC is a real gap */
	assert_int_equal(c.n, 743);
	assert_string_equal(mde_candles_text(&c, 0, MDE_OPEN), "23141.57000000");
	int64_t halt = INT64_C(1679662800000);
	size_t gaps = 0;
	for (size_t i = 1; i < c.n; i++)
		if (c.open_time_ms[i] - c.open_time_ms[i - 1] != H) {
			gaps++;
			assert_int_equal(c.open_time_ms[i - 1] + H, halt);
		}
	assert_int_equal(gaps, 1);
	mde_candles_free(&c);
}

static void test_klines_doc_rows(void **st)
{
	/* real BTCUSDT 5m response of 2021-03-21 quoted in docs/EXCHANGES.md */
	const char *b =
		"[[1616338800000, \"57212.69\", \"57315.00\", \"57196.19\", "
		"\"57300.00\", \"496.263\", 1616339099999, \"28425514.78940\", "
		"7160, \"273.108\", \"15642623.69718\", \"0\"],"
		"[1616339100000, \"57300.00\", \"57300.00\", \"57200.61\", "
		"\"57206.47\", \"174.865\", 1616339399999, \"10009130.07051\", "
		"2602, \"60.409\", \"3457649.49072\", \"0\"]]";
	mde_candles c = {0};
	mde_page pg;
	mde_window w = {0, FAR, FAR, 5 * MDE_MINUTE_MS};
	assert_int_equal(mde_binance_parse_klines(b, strlen(b), 0, &w, &c, &pg,
						  NULL), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(mde_candles_text(&c, 1, MDE_CLOSE), "57206.47");
	assert_int_equal(c.trades[1], 2602);
	assert_int_equal(mde_binance_klines_weight(1000), 5);
	assert_int_equal(mde_binance_klines_weight(1500), 10);
	assert_int_equal(mde_binance_klines_weight(99), 1);
	mde_candles_free(&c);
}

/* A page read by the fast path and by the cJSON document: the same rc,
 * page and table. */
static void klines_agree(const char *body, size_t len, size_t rows)
{
	mde_window w = {0, FAR, FAR, MDE_MINUTE_MS};
	mde_candles c = {0}, d = {0};
	mde_page pg, pd;
	int rc = mde_binance_parse_klines(body, len, MDE_SRC_BINANCE, &w, &c,
					  &pg, NULL);
	int rd = mde_binance_parse_klines_doc(body, len, MDE_SRC_BINANCE, &w,
					      &d, &pd, NULL);
	assert_int_equal(rc, rd);
	assert_int_equal(c.n, rows);
	if (rc == 0) {
		assert_int_equal(pg.rows, pd.rows);
		assert_int_equal(pg.kept, pd.kept);
		assert_int_equal(pg.dropped, pd.dropped);
		assert_int_equal(pg.first_ms, pd.first_ms);
		assert_int_equal(pg.last_ms, pd.last_ms);
	}
	assert_true(mde_candles_equal(&c, &d));
	mde_candles_free(&c);
	mde_candles_free(&d);
}

/* The fast path of the usual page, and the shapes it leaves to cJSON:
 * the recorded pages and variants of a row read the same both ways. */
static void test_klines_fast_path_agrees(void **st)
{
	size_t len;
	char *b = load(FIX "fapi_klines_BTCUSDT_1h_p1.json", &len);
	klines_agree(b, len, 1000);
	free(b);
	static const struct {
		const char *row;
		size_t rows;
	} v[] = {
		{"[1616338800000,\"1\",\"2\",\"0.5\",\"1.5\",\"3\",1616339099999,"
		 "\"4\",5,\"1\",\"2\",\"0\"]", 1},
		/* whitespace between tokens */
		{" [ 1616338800000 , \"1\" ,\"2\",\"0.5\",\"1.5\",\"3\",\n"
		 "1616339099999,\"4\",5,\"1\",\"2\",\"0\" ] ", 1},
		/* empty and null fields, an escape, a float time, strings as
		 * times, 11 and 13 elements, a negative trade count */
		{"[1616338800000,\"\",\"2\",\"0.5\",\"1.5\",\"3\",1616339099999,"
		 "\"4\",5,\"1\",\"2\",\"0\"]", 1},
		{"[1616338800000,null,\"2\",\"0.5\",\"1.5\",\"3\",1616339099999,"
		 "\"4\",5,\"1\",\"2\",\"0\"]", 1},
		{"[1616338800000,\"1\\u0030\",\"2\",\"0.5\",\"1.5\",\"3\","
		 "1616339099999,\"4\",5,\"1\",\"2\",\"0\"]", 1},
		{"[1616338800000.0,\"1\",\"2\",\"0.5\",\"1.5\",\"3\","
		 "1616339099999,\"4\",5,\"1\",\"2\",\"0\"]", 1},
		{"[1616338800000,\"1\",\"2\",\"0.5\",\"1.5\",\"3\",\"1616339099999\","
		 "\"4\",\"5\",\"1\",\"2\",\"0\"]", 1},
		{"[1616338800000,\"1\",\"2\",\"0.5\",\"1.5\",\"3\",1616339099999,"
		 "\"4\",5,\"1\",\"2\"]", 1},
		{"[1616338800000,\"1\",\"2\",\"0.5\",\"1.5\",\"3\",1616339099999,"
		 "\"4\",5,\"1\",\"2\",\"0\",\"x\"]", 1},
		{"[1616338800000,\"1\",\"2\",\"0.5\",\"1.5\",\"3\",1616339099999,"
		 "\"4\",-5,\"1\",\"2\",\"0\"]", 1},
		/* not numbers, and a row without an open time (dropped) */
		{"[1616338800000,\"1x\",\"2\",\"0.5\",\"nan\",\"3\",1616339099999,"
		 "\"4\",5,\"1\",\"2\",\"0\"]", 1},
		{"[\"t\",\"1\",\"2\",\"0.5\",\"1.5\",\"3\",1616339099999,"
		 "\"4\",5,\"1\",\"2\",\"0\"]", 0},
	};
	char page[1024];
	for (size_t i = 0; i < MDE_ARRAY_LEN(v); i++) {
		/* the variant after a good row, and alone */
		int n = snprintf(page, sizeof page, "[%s,%s]", v[0].row, v[i].row);
		klines_agree(page, (size_t)n, 1 + v[i].rows);
		n = snprintf(page, sizeof page, "[%s]", v[i].row);
		klines_agree(page, (size_t)n, v[i].rows);
	}
	klines_agree("[]", 2, 0);
	klines_agree(" [ ] \n", 6, 0);
}

/* Every malformed body fails, and leaves the table exactly as it was. */
static void test_klines_bad_bodies(void **st)
{
	static const struct {
		const char *body;
		int rc;
		bool retry;
	} cases[] = {
		{"[[1616338800000,\"1\",\"2\",\"0.5\",\"1.5\",\"3\",1616339099999,"
		 "\"4\",5,\"1\",\"2\",\"0\"],[1616339100000,\"1\",", MDE_EPARSE,
		 true}, /* truncated */
		{"<html>Will be right back</html>", MDE_EPARSE, true},
		{"", MDE_EPARSE, true},
		/* not exactly one JSON document */
		{"[[1616338800000,\"1\",\"2\",\"0.5\",\"1.5\",\"3\",1616339099999,"
		 "\"4\",5,\"1\",\"2\",\"0\"]]xyz", MDE_EPARSE, true},
		{"[[1616338800000,\"1\",\"2\",\"0.5\",\"1.5\",\"3\",1616339099999,"
		 "\"4\",5,\"1\",\"2\",\"0\"]][]", MDE_EPARSE, true},
		{"[] []", MDE_EPARSE, true},
		{"{\"code\":-1121,\"msg\":\"Invalid symbol.\"}", MDE_ENOTFOUND, false},
		{"{\"code\":-1001,\"msg\":\"Internal error; unable to process "
		 "your request. Please try again.\"}", MDE_ENET, true},
		{"{\"rows\":[]}", MDE_EPARSE, false},
		{"[1,2,3]", MDE_EPARSE, false},
	};
	mde_candles c = {0};
	mde_page pg;
	mde_window w = {0, FAR, FAR, 5 * MDE_MINUTE_MS};
	const char *good = "[[1616338800000,\"1\",\"2\",\"0.5\",\"1.5\",\"3\","
			   "1616339099999,\"4\",5,\"1\",\"2\",\"0\"]]";
	assert_int_equal(mde_binance_parse_klines(good, strlen(good), 0, &w, &c,
						  &pg, NULL), 0);
	size_t text = c.text_len;
	for (size_t i = 0; i < MDE_ARRAY_LEN(cases); i++) {
		mde_err e = {0};
		int rc = mde_binance_parse_klines(cases[i].body,
						  strlen(cases[i].body), 0, &w,
						  &c, &pg, &e);
		if (rc != cases[i].rc || e.retryable != cases[i].retry)
			fail_msg("case %zu: rc %d retry %d (%s)", i, rc,
				 e.retryable, e.msg);
		assert_true(e.msg[0] != '\0');
		assert_int_equal(c.n, 1);
		assert_int_equal(c.text_len, text);
		assert_int_equal(pg.kept, 0);
	}
	mde_candles_free(&c);
}

/* Funding of all symbols: the URL has no symbol; rows go to their
 * symbol's table, others are dropped; rows out of time order or without
 * a symbol reject the page and leave every table as it was. */
static void test_funding_all(void **st)
{
	char url[512];
	assert_int_equal(mde_binance_funding_url(url, sizeof url,
						 "https://fapi.binance.com",
						 NULL, T0, T0 + 999, 1000), 0);
	assert_string_equal(url, "https://fapi.binance.com/fapi/v1/fundingRate?"
				 "startTime=1735689600000&endTime=1735689600999"
				 "&limit=1000");
	const char *syms[2] = {"BTCUSDT", "ETHUSDT"};
	mde_aux out[2] = {{0}};
	mde_page pg;
	mde_window w = {0, FAR, 0, 0};
	const char *page1 =
		"[{\"symbol\":\"ETHUSDT\",\"fundingTime\":100,"
		"\"fundingRate\":\"0.0002\",\"markPrice\":\"\"},"
		"{\"symbol\":\"XRPUSDT\",\"fundingTime\":100,"
		"\"fundingRate\":\"0.0003\"}]";
	assert_int_equal(mde_binance_parse_funding_all(page1, strlen(page1), &w,
						       syms, 2, out, &pg, NULL),
			 0);
	assert_int_equal(pg.kept, 1); /* XRP dropped */
	/* the next page starts at the same time again */
	const char *page2 =
		"[{\"symbol\":\"ETHUSDT\",\"fundingTime\":100,"
		"\"fundingRate\":\"0.0002\"},"
		"{\"symbol\":\"XRPUSDT\",\"fundingTime\":100,"
		"\"fundingRate\":\"0.0003\"},"
		"{\"symbol\":\"BTCUSDT\",\"fundingTime\":101,"
		"\"fundingRate\":\"-0.0001\"}]";
	assert_int_equal(mde_binance_parse_funding_all(page2, strlen(page2), &w,
						       syms, 2, out, &pg, NULL),
			 0);
	assert_int_equal(pg.rows, 3);
	assert_int_equal(pg.kept, 1); /* ETH's repeat skipped */
	assert_int_equal(pg.last_ms, 101);
	assert_int_equal(out[0].n, 1);
	assert_true(out[0].v[0] == -0.0001);
	assert_int_equal(out[1].n, 1);
	assert_int_equal(out[1].t[0], 100);
	const char *bad[] = {
		/* out of time order */
		("[{\"symbol\":\"BTCUSDT\",\"fundingTime\":300,"
		 "\"fundingRate\":\"0.1\"},{\"symbol\":\"ETHUSDT\","
		 "\"fundingTime\":200,\"fundingRate\":\"0.1\"}]"),
		/* no symbol */
		("[{\"symbol\":\"BTCUSDT\",\"fundingTime\":300,"
		 "\"fundingRate\":\"0.1\"},{\"fundingTime\":400,"
		 "\"fundingRate\":\"0.1\"}]"),
		/* not a decimal */
		("[{\"symbol\":\"BTCUSDT\",\"fundingTime\":300,"
		 "\"fundingRate\":\"1x\"}]"),
		/* not JSON, not an array, nothing at all */
		"[{", "{}", "",
	};
	for (size_t i = 0; i < MDE_ARRAY_LEN(bad); i++) {
		mde_err err = {0};
		assert_int_equal(mde_binance_parse_funding_all(
					 bad[i], strlen(bad[i]), &w, syms, 2,
					 out, &pg, &err), MDE_EPARSE);
		assert_int_equal(out[0].n, 1);
		assert_int_equal(out[1].n, 1);
		assert_int_equal(pg.kept, 0);
	}
	mde_aux_free(&out[0]);
	mde_aux_free(&out[1]);
}

static void test_funding(void **st)
{
	char url[512];
	size_t len;
	mde_aux a = {0};
	mde_page pg;
	int64_t end = INT64_C(1767225600000); /* 2026-01-01 */
	assert_int_equal(mde_binance_funding_url(url, sizeof url,
						 "https://fapi.binance.com",
						 "BTCUSDT", T0, end - 1, 1000),
			 0);
	assert_string_equal(url, "https://fapi.binance.com/fapi/v1/fundingRate?"
				 "symbol=BTCUSDT&startTime=1735689600000&"
				 "endTime=1767225599999&limit=1000");
	char *b = load(FIX "fapi_fundingRate_BTCUSDT_2025.json", &len);
	mde_window w = {T0, end, 0, 0};
	assert_int_equal(mde_binance_parse_funding(b, len, &w, &a, &pg, NULL), 0);
	free(b);
	assert_int_equal(pg.rows, 1095);
	assert_int_equal(a.n, 1095);
	assert_int_equal(a.t[0], INT64_C(1735689600015)); /* ms jitter kept */
	assert_true(a.v[0] == 0.0001);
	assert_int_equal(a.t[1094], INT64_C(1767196800001));
	assert_true(a.v[1094] == 0.0000375);
	/* the next page starts 1 ms after the last fundingTime */
	assert_int_equal(mde_binance_funding_url(url, sizeof url,
						 "https://fapi.binance.com",
						 "BTCUSDT", pg.last_ms + 1,
						 end - 1, 1000),
			 0);
	assert_string_equal(url, "https://fapi.binance.com/fapi/v1/fundingRate?"
				 "symbol=BTCUSDT&startTime=1767196800002&"
				 "endTime=1767225599999&limit=1000");
	/* real rows quoted in docs/EXCHANGES.md: empty markPrice; rateType */
	const char *doc =
		"[{\"symbol\":\"BTCUSDT\",\"fundingTime\":1678060800007,"
		"\"fundingRate\":\"0.00004054\",\"markPrice\":\"\"},"
		"{\"symbol\":\"BTCUSDT\",\"fundingRate\":\"-0.03750000\","
		"\"fundingTime\":1570608000000,\"markPrice\":\"34287.54619963\","
		"\"rateType\":\"Regular\"}]";
	mde_aux_free(&a);
	w = (mde_window){0, FAR, 0, 0};
	assert_int_equal(mde_binance_parse_funding(doc, strlen(doc), &w, &a, &pg,
						   NULL), 0);
	assert_int_equal(a.n, 2);
	assert_true(a.v[1] == -0.0375);
	const char *bad = "[{\"symbol\":\"BTCUSDT\",\"fundingTime\":1678060800007,"
			  "\"markPrice\":\"\"}]";
	assert_int_equal(mde_binance_parse_funding(bad, strlen(bad), &w, &a, &pg,
						   NULL), MDE_EPARSE);
	assert_int_equal(a.n, 2);
	mde_aux_free(&a);
}

static void test_futures_data(void **st)
{
	char url[512];
	mde_aux a = {0};
	mde_page pg;
	mde_window w = {0, FAR, FAR, 5 * MDE_MINUTE_MS};
	int64_t s = INT64_C(1616438700000), P = 5 * MDE_MINUTE_MS;
	assert_int_equal(mde_binance_futdata_url(url, sizeof url, "https://f",
						 MDE_AUX_OPEN_INTEREST, "BTCUSDT",
						 P, s, s + 500 * P - 1, 500),
			 0);
	assert_string_equal(url, "https://f/futures/data/openInterestHist?"
				 "symbol=BTCUSDT&period=5m&startTime=1616438700000"
				 "&endTime=1616588699999&limit=500");
	assert_int_equal(mde_binance_futdata_url(url, sizeof url, "https://f",
						 MDE_AUX_LONG_SHORT, "BTCUSDT",
						 H, s, s + 500 * H - 1, 500),
			 0);
	assert_string_equal(url, "https://f/futures/data/"
				 "globalLongShortAccountRatio?symbol=BTCUSDT&"
				 "period=1h&startTime=1616438700000&endTime="
				 "1618238699999&limit=500");
	assert_int_equal(mde_binance_futdata_url(url, sizeof url, "https://f",
						 MDE_AUX_TAKER, "BTCUSDT",
						 MDE_DAY_MS, s, s + 1, 500),
			 0);
	assert_string_equal(url, "https://f/futures/data/takerlongshortRatio?"
				 "symbol=BTCUSDT&period=1d&startTime=1616438700000"
				 "&endTime=1616438700001&limit=500");
	/* 1m is not a /futures/data period */
	assert_int_equal(mde_binance_futdata_url(url, sizeof url, "https://f",
						 MDE_AUX_TAKER, "BTCUSDT",
						 MDE_MINUTE_MS, s, s + 1, 500),
			 MDE_EINVAL);
	/* real row (HEX-OI) + a row with CMCCirculatingSupply and a string
	 * timestamp (the doc example's form) + a repeat (page boundary) */
	const char *oi =
		"[{\"symbol\":\"BTCUSDT\",\"sumOpenInterest\":\"34085.00000000\","
		"\"sumOpenInterestValue\":\"1927265695.27131325\",\"timestamp\":"
		"1616438700000},"
		"{\"symbol\":\"BTCUSDT\",\"sumOpenInterest\":\"34100.5\","
		"\"sumOpenInterestValue\":\"1\",\"CMCCirculatingSupply\":"
		"\"165880.538\",\"timestamp\":\"1616439000000\"}]";
	assert_int_equal(mde_binance_parse_futdata(oi, strlen(oi),
						   MDE_AUX_OPEN_INTEREST, &w,
						   INT64_MIN, &a, &pg, NULL), 0);
	assert_int_equal(a.n, 2);
	assert_true(a.v[0] == 34085.0);
	assert_int_equal(a.t[1], INT64_C(1616439000000));
	/* the next page repeats the boundary row: deduped by after_ms */
	assert_int_equal(mde_binance_parse_futdata(oi, strlen(oi),
						   MDE_AUX_OPEN_INTEREST, &w,
						   a.t[1], &a, &pg, NULL), 0);
	assert_int_equal(pg.rows, 2);
	assert_int_equal(pg.kept, 0);
	assert_int_equal(a.n, 2);
	mde_aux_free(&a);
	const char *ls = "[{\"symbol\":\"BTCUSDT\",\"longShortRatio\":\"0.1960\","
			 "\"longAccount\":\"0.6622\",\"shortAccount\":\"0.3378\","
			 "\"timestamp\":1591261042378}]";
	assert_int_equal(mde_binance_parse_futdata(ls, strlen(ls),
						   MDE_AUX_LONG_SHORT, &w,
						   INT64_MIN, &a, &pg, NULL), 0);
	assert_true(a.v[0] == 0.196);
	const char *tk = "[{\"buySellRatio\":\"1.5586\",\"buyVol\":\"387.3300\","
			 "\"sellVol\":\"248.5030\",\"timestamp\":1591261042378}]";
	assert_int_equal(mde_binance_parse_futdata(tk, strlen(tk), MDE_AUX_TAKER,
						   &w, INT64_MIN, &a, &pg,
						   NULL), 0);
	assert_true(a.v[1] == 1.5586);
	/* a long/short body asked for as taker: the field is missing */
	assert_int_equal(mde_binance_parse_futdata(ls, strlen(ls), MDE_AUX_TAKER,
						   &w, INT64_MIN, &a, &pg,
						   NULL), MDE_EPARSE);
	assert_int_equal(a.n, 2);
	mde_aux_free(&a);
}

static void test_yahoo(void **st)
{
	char url[512];
	size_t len;
	mde_candles c = {0};
	mde_page pg;
	mde_err e = {0};
	int64_t a = INT64_C(1598832000000), z = INT64_C(1604707200000);
	assert_int_equal(mde_yahoo_chart_url(url, sizeof url,
					     "https://query2.finance.yahoo.com",
					     "AAPL", MDE_DAY_MS, a, z), 0);
	assert_string_equal(url, "https://query2.finance.yahoo.com/v8/finance/"
				 "chart/AAPL?period1=1598832000&period2="
				 "1604707200&interval=1d&includePrePost=false"
				 "&events=div%7Csplit");
	/* the recorded request asked for the same period1/period2 */
	char *rec = load(FIX "yahoo_chart-AAPL-2020-08-31-to-2020-11-07.url",
			 &len);
	assert_non_null(strstr(rec, "period1=1598832000&period2=1604707200"));
	free(rec);
	char *b = load(FIX "yahoo_chart-AAPL-2020-08-31-to-2020-11-07.json", &len);
	mde_window w = {a, z, FAR, MDE_DAY_MS};
	assert_int_equal(mde_yahoo_parse_chart(b, len, MDE_SRC_YAHOO, &w, &c,
					       &pg, &e), 0);
	free(b);
	assert_int_equal(c.n, 49);
	/* 1598880600 = 2020-08-31 13:30 UTC -> 2020-08-31 00:00 UTC */
	assert_int_equal(c.open_time_ms[0], INT64_C(1598832000000));
	/* 1604673000 = 2020-11-06 14:30 UTC (after the DST change) */
	assert_int_equal(c.open_time_ms[48], INT64_C(1604620800000));
	assert_true(c.val[MDE_OPEN][0] == 127.58000183105469);
	assert_true(c.val[MDE_VOLUME][0] == 225702700);
	assert_string_equal(mde_candles_text(&c, 0, MDE_OPEN),
			    "127.58000183105469");
	assert_null(mde_candles_text(&c, 0, MDE_TAKER_BUY_BASE));
	assert_int_equal(c.trades[0], MDE_NULL_TRADES);
	assert_int_equal(c.origin[0], MDE_SRC_YAHOO);

	mde_candles_clear(&c);
	b = load(FIX "yahoo_chart-BTC-USD-2020-01-01-to-2020-01-03.json", &len);
	w = (mde_window){INT64_C(1577836800000), INT64_C(1578096000000), FAR,
			 MDE_DAY_MS};
	assert_int_equal(mde_yahoo_parse_chart(b, len, MDE_SRC_YAHOO, &w, &c,
					       &pg, NULL), 0);
	free(b);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.open_time_ms[2], INT64_C(1578009600000));
	assert_true(c.val[MDE_CLOSE][1] == 6985.47021484375);
	/* the unfinished bar Yahoo appends is dropped by "now" */
	mde_candles_clear(&c);
	b = load(FIX "yahoo_chart-BTC-USD-2020-01-01-to-2020-01-03.json", &len);
	w.now_ms = INT64_C(1578009600000) + H;
	assert_int_equal(mde_yahoo_parse_chart(b, len, MDE_SRC_YAHOO, &w, &c,
					       &pg, NULL), 0);
	free(b);
	assert_int_equal(c.n, 2);

	/* empty window: no timestamp key, quote [{}] */
	mde_candles_clear(&c);
	b = load(FIX "yahoo_chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-"
		     "false-interval-1m.json", &len);
	w = (mde_window){0, FAR, FAR, MDE_MINUTE_MS};
	assert_int_equal(mde_yahoo_parse_chart(b, len, MDE_SRC_YAHOO, &w, &c,
					       &pg, NULL), 0);
	free(b);
	assert_int_equal(c.n, 0);

	/* nulls skip the whole index; keys in any order */
	const char *nul =
		"{\"chart\":{\"result\":[{\"meta\":{},\"timestamp\":[1598880600,"
		"1598967000,1599053400],\"indicators\":{\"quote\":[{\"volume\":"
		"[1,null,3],\"close\":[1,2,3],\"open\":[1,2,3],\"low\":[1,2,3],"
		"\"high\":[1,2,null]}]}}],\"error\":null}}";
	w = (mde_window){0, FAR, FAR, MDE_DAY_MS};
	assert_int_equal(mde_yahoo_parse_chart(nul, strlen(nul), 2, &w, &c, &pg,
					       NULL), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(pg.rows, 3);
	const char *bad[] = {
		"{\"chart\":{\"result\":null,\"error\":{\"code\":\"Not Found\","
		"\"description\":\"No data found, symbol may be delisted\"}}}",
		"{\"chart\":{\"result\":[{\"meta\":{},\"timestamp\":[1598880600],"
		"\"indicators\":{\"quote\":[{\"volume\":[1],\"close\":[1],"
		"\"open\":[1],\"low\":[1]}]}}],\"error\":null}}",
		"Too Many Requests",
		"<!DOCTYPE html><html>Will be right back</html>",
	};
	for (size_t i = 0; i < MDE_ARRAY_LEN(bad); i++) {
		mde_err e2 = {0};
		assert_int_not_equal(mde_yahoo_parse_chart(bad[i], strlen(bad[i]),
							   2, &w, &c, &pg,
							   &e2), 0);
		assert_int_equal(c.n, 1);
		/* a non-JSON body is transient; a JSON error is not */
		assert_int_equal(e2.retryable, i >= 2);
	}
	assert_non_null(strstr("x", "x"));
	mde_candles_free(&c);
}

static void test_polygon(void **st)
{
	char url[512];
	size_t len;
	mde_candles c = {0};
	mde_page pg;
	int64_t a = INT64_C(1112313600000), z = INT64_C(1112659200000);
	assert_int_equal(mde_polygon_aggs_url(url, sizeof url,
					      "https://api.polygon.io", "AAPL",
					      MDE_DAY_MS, a, z), 0);
	assert_string_equal(url, "https://api.polygon.io/v2/aggs/ticker/AAPL/"
				 "range/1/day/2005-04-01/2005-04-04?adjusted="
				 "true&sort=asc&limit=50000");
	assert_int_equal(mde_polygon_aggs_url(url, sizeof url, "https://p",
					      "X:BTCUSD", H, a, a + 2 * H), 0);
	assert_string_equal(url, "https://p/v2/aggs/ticker/X%3ABTCUSD/range/1/"
				 "hour/1112313600000/1112320799999?adjusted=true"
				 "&sort=asc&limit=50000");
	char *b = load(FIX "polygon_aggs_AAPL_1_day_2005-04-01_2005-04-04.json",
		       &len);
	mde_window w = {a, z, FAR, MDE_DAY_MS};
	assert_int_equal(mde_polygon_parse_aggs(b, len, MDE_SRC_POLYGON, &w, &c,
						&pg, NULL), 0);
	free(b);
	assert_int_equal(c.n, 2);
	/* 05:00 UTC (EST) and 04:00 UTC (EDT) -> 00:00 UTC of the date */
	assert_int_equal(c.open_time_ms[0], INT64_C(1112313600000));
	assert_int_equal(c.open_time_ms[1], INT64_C(1112572800000));
	assert_true(c.val[MDE_VOLUME][0] == 642646396.0);
	assert_true(c.val[MDE_CLOSE][1] == 1.4675);
	assert_int_equal(c.trades[1], 65543);
	assert_false(pg.has_next);
	/* exponent volume, no n, next_url; results missing; error bodies */
	const char *p2 = "{\"status\":\"OK\",\"results\":[{\"v\":1.029145e+06,"
			 "\"o\":1,\"c\":2,\"h\":2,\"l\":1,\"t\":1112760000000}],"
			 "\"next_url\":\"https://p/v2/aggs/ticker/AAPL/range/1/"
			 "day/1112760000000/2005-04-10?cursor=abc\"}";
	w.end_ms = FAR;
	assert_int_equal(mde_polygon_parse_aggs(p2, strlen(p2), 3, &w, &c, &pg,
						NULL), 0);
	assert_int_equal(c.n, 3);
	assert_true(c.val[MDE_VOLUME][2] == 1029145.0);
	assert_int_equal(c.trades[2], MDE_NULL_TRADES);
	assert_true(pg.has_next);
	assert_string_equal(pg.next_url, "https://p/v2/aggs/ticker/AAPL/range/1/"
					 "day/1112760000000/2005-04-10?cursor=abc");
	const char *none = "{\"ticker\":\"AAPL\",\"queryCount\":0,"
			   "\"resultsCount\":0,\"status\":\"OK\"}";
	assert_int_equal(mde_polygon_parse_aggs(none, strlen(none), 3, &w, &c,
						&pg, NULL), 0);
	assert_int_equal(c.n, 3);
	const char *bad[] = {
		("{\"status\":\"ERROR\",\"request_id\":\"x\",\"error\":\"API Key "
		 "was not provided\"}"),
		"{\"status\":\"NOT_AUTHORIZED\",\"message\":\"plan\"}",
		"{\"status\":\"OK\",\"results\":{}}",
		"{\"status\":\"OK\",\"results\":[{\"v\":1,\"o\":1,\"c\":2,\"h\":2,",
	};
	for (size_t i = 0; i < MDE_ARRAY_LEN(bad); i++) {
		mde_err e = {0};
		assert_int_not_equal(mde_polygon_parse_aggs(bad[i], strlen(bad[i]),
							    3, &w, &c, &pg, &e),
				     0);
		assert_int_equal(c.n, 3);
		assert_false(pg.has_next);
	}
	mde_candles_free(&c);
}

static void test_symbols(void **st)
{
	char s[64];
	assert_int_equal(mde_symbol_for(s, sizeof s, "BTCUSDT", MDE_CRYPTO,
					MDE_SRC_YAHOO), 0);
	assert_string_equal(s, "BTC-USD");
	assert_int_equal(mde_symbol_for(s, sizeof s, "ETHUSDT", MDE_CRYPTO,
					MDE_SRC_POLYGON), 0);
	assert_string_equal(s, "X:ETHUSD");
	assert_int_equal(mde_symbol_for(s, sizeof s, "BTCUSDT", MDE_CRYPTO,
					MDE_SRC_BINANCE_SPOT), 0);
	assert_string_equal(s, "BTCUSDT");
	assert_int_equal(mde_symbol_for(s, sizeof s, "1000PEPEUSDT", MDE_CRYPTO,
					MDE_SRC_BINANCE_SPOT), MDE_ENOTFOUND);
	assert_int_equal(mde_symbol_for(s, sizeof s, "1000PEPEUSDT", MDE_CRYPTO,
					MDE_SRC_BINANCE), 0);
	assert_int_equal(mde_symbol_for(s, sizeof s, "AAPL", MDE_EQUITY,
					MDE_SRC_POLYGON), 0);
	assert_string_equal(s, "AAPL");
	assert_int_equal(mde_symbol_canonical(s, sizeof s, "X:BTCUSD"), 0);
	assert_string_equal(s, "BTCUSDT");
	assert_int_equal(mde_symbol_canonical(s, sizeof s, "BTC-USD"), 0);
	assert_string_equal(s, "BTCUSDT");
	assert_int_equal(mde_symbol_canonical(s, sizeof s, "WSU.DE"), 0);
	assert_string_equal(s, "WSU.DE");
}

static void test_breaker(void **st)
{
	mde_breaker b;
	mde_breaker_init(&b, 3, 1000);
	assert_true(mde_breaker_allow(&b, 0));
	mde_breaker_failure(&b, 0);
	mde_breaker_failure(&b, 0);
	mde_breaker_success(&b); /* not consecutive */
	mde_breaker_failure(&b, 10);
	mde_breaker_failure(&b, 10);
	assert_int_equal(b.state, MDE_BRK_CLOSED);
	mde_breaker_failure(&b, 10);
	assert_int_equal(b.state, MDE_BRK_OPEN);
	assert_false(mde_breaker_allow(&b, 500));
	assert_true(mde_breaker_allow(&b, 1010)); /* the one trial */
	assert_int_equal(b.state, MDE_BRK_HALF_OPEN);
	assert_false(mde_breaker_allow(&b, 1011));
	mde_breaker_failure(&b, 1020); /* trial failed: open again */
	assert_int_equal(b.state, MDE_BRK_OPEN);
	assert_false(mde_breaker_allow(&b, 2000));
	assert_true(mde_breaker_allow(&b, 2020));
	mde_breaker_success(&b);
	assert_int_equal(b.state, MDE_BRK_CLOSED);
	assert_int_equal(b.opens, 2);
	assert_string_equal(mde_breaker_state_name(MDE_BRK_HALF_OPEN),
			    "half-open");
}

static void test_replay(void **st)
{
	mde_candles c = {0};
	mde_aux a = {0};
	mde_replay_info info;
	mde_err e = {0};
	/* 2026-07-01 .. 2026-07-02 from the bundled futures sample */
	int64_t a0 = INT64_C(1782864000000);
	mde_window w = {a0, a0 + MDE_DAY_MS, FAR, H};
	assert_int_equal(mde_replay_candles("data/replay", "BTCUSDT", &w,
					    1 << 24, &c, &info, &e), 0);
	assert_int_equal(c.n, 24);
	assert_int_equal(c.open_time_ms[0], a0);
	assert_int_equal(c.origin[0], MDE_SRC_REPLAY);
	assert_string_equal(info.file, "BTCUSDT/klines_1h.json");
	assert_true(info.rows > 1000);
	mde_candles_clear(&c);
	w = (mde_window){INT64_C(1598832000000), INT64_C(1604707200000), FAR,
			 MDE_DAY_MS};
	assert_int_equal(mde_replay_candles("data/replay", "AAPL", &w, 1 << 24,
					    &c, &info, &e), 0);
	assert_int_equal(c.n, 49);
	assert_string_equal(info.file, "AAPL/chart_1d.json");
	w = (mde_window){0, FAR, FAR, H};
	assert_int_equal(mde_replay_aux("data/replay", MDE_AUX_FUNDING,
					"BTCUSDT", 0, &w, 1 << 24, &a, &info,
					&e), 0);
	assert_true(a.n > 200);
	mde_aux_free(&a);
	assert_int_equal(mde_replay_aux("data/replay", MDE_AUX_OPEN_INTEREST,
					"BTCUSDT", H, &w, 1 << 24, &a, &info,
					&e), 0);
	assert_string_equal(info.file, "BTCUSDT/open_interest.json");
	assert_int_equal(a.n, 31);
	assert_true(a.v[0] == 107490.19);
	mde_aux_free(&a);
	assert_int_equal(mde_replay_candles("data/replay", "NOPE", &w, 1 << 24,
					    &c, &info, &e), MDE_ENOTFOUND);
	assert_int_equal(mde_replay_candles("data/replay", "../data", &w,
					    1 << 24, &c, &info, &e),
			 MDE_EINVAL);
	mde_candles_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_futures_klines_pages),
		cmocka_unit_test(test_spot_klines_gap),
		cmocka_unit_test(test_klines_doc_rows),
		cmocka_unit_test(test_klines_bad_bodies),
		cmocka_unit_test(test_klines_fast_path_agrees),
		cmocka_unit_test(test_funding),
		cmocka_unit_test(test_funding_all),
		cmocka_unit_test(test_futures_data),
		cmocka_unit_test(test_yahoo),
		cmocka_unit_test(test_polygon),
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_breaker),
		cmocka_unit_test(test_replay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
