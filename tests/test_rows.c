/*
 * test_rows.c - row-level validation of every page and strict parsing
 * (issue 9, points 2 and 10), offline:
 *   - a Binance page with text in a price, a null volume, a NaN high, a
 *     negative open, a number-typed price, a short row and a decimal with
 *     an embedded NUL keeps every row: the good ones valid, each bad one
 *     rejected by validation with its raw text and every reason; a row
 *     without an open time is dropped and counted;
 *   - the same for Yahoo and Polygon bodies with a wrong-typed value;
 *   - a body must be exactly one JSON document (trailing text, two
 *     documents, a NUL after the document are failed requests);
 *   - decimals parse whole: no trailing text, no space, no hex, no NUL;
 *   - source plans and the asset class a source and symbol imply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clients.h"
#include "source.h"
#include "timeutil.h"
#include "validate.h"

#define FAR INT64_C(4102444800000) /* 2100-01-01: every candle closed */
#define T(k) "16163388" #k "00000"
#define ROW(t, o, h, l, c, v) \
	"[" t "," o "," h "," l "," c "," v ",1,\"4\",5,\"1\",\"2\",\"0\"]"

static uint32_t reasons_of(const mde_validation *v, size_t row)
{
	for (size_t k = 0; k < v->nrejects; k++)
		if (v->rejects[k].row == row)
			return v->rejects[k].reasons;
	return 0;
}

static void test_binance_bad_rows_are_rejected_not_the_page(void **st)
{
	(void)st;
	/* times 5 minutes apart from 1616338800000 */
	const char *body =
		"[" ROW("1616338800000", "\"1\"", "\"2\"", "\"0.5\"", "\"1.5\"",
			"\"3\"")
		"," ROW("1616339100000", "\"93x48.80\"", "\"2\"", "\"0.5\"",
			"\"1.5\"", "\"3\"")
		"," ROW("1616339400000", "\"1\"", "\"2\"", "\"0.5\"", "\"1.5\"",
			"null")
		"," ROW("1616339700000", "\"1\"", "\"NaN\"", "\"0.5\"", "\"1.5\"",
			"\"3\"")
		"," ROW("1616340000000", "\"-1\"", "\"2\"", "\"0.5\"", "\"1.5\"",
			"\"3\"")
		"," ROW("1616340300000", "1.0", "\"2\"", "\"0.5\"", "\"1.5\"",
			"\"3\"")
		",[1616340600000,\"1\",\"2\",\"0.5\",\"1.5\",\"3\",1,\"4\",5,\"1\","
		"\"2\"]"
		"," ROW("1616340900000", "\"93548.80\\u0000x\"", "\"93549\"",
			"\"0.5\"", "\"93548.80\"", "\"3\"")
		"," ROW("\"1616341200000\"", "\"1\"", "\"2\"", "\"0.5\"",
			"\"1.5\"", "\"3\"")
		"," ROW("1616341500000", "\"1\"", "\"2\"", "\"0.5\"", "\"1.5\"",
			"\"3\"") "]";
	mde_candles c = {0};
	mde_page pg;
	mde_window w = {0, FAR, FAR, 5 * MDE_MINUTE_MS};
	mde_err e = {0};
	assert_int_equal(mde_binance_parse_klines(body, strlen(body), 0, &w, &c,
						  &pg, &e), 0);
	/* every keyed row is kept; the one without an integer time dropped */
	assert_int_equal(c.n, 9);
	assert_int_equal(pg.rows, 9);
	assert_int_equal(pg.dropped, 1);
	assert_string_equal(mde_candles_text(&c, 1, MDE_OPEN), "93x48.80");
	assert_string_equal(mde_candles_text(&c, 5, MDE_OPEN), "1");
	assert_null(mde_candles_text(&c, 2, MDE_VOLUME));
	/* the escaped NUL is no end of the string: the text is malformed */
	assert_string_equal(mde_candles_text(&c, 7, MDE_OPEN),
			    "93548.80\xef\xbf\xbdx");
	mde_validation v = {0};
	assert_int_equal(mde_validate(&v, &c, 5 * MDE_MINUTE_MS, MDE_CRYPTO,
				      FAR, &e), 0);
	assert_int_equal(v.nrejects, 7);
	assert_int_equal(reasons_of(&v, 0), 0);
	assert_int_equal(reasons_of(&v, 8), 0);
	assert_int_equal(reasons_of(&v, 1), MDE_RJ_MALFORMED);
	assert_int_equal(reasons_of(&v, 2), MDE_RJ_MISSING);
	assert_true(reasons_of(&v, 3) & MDE_RJ_NOT_FINITE);
	assert_false(reasons_of(&v, 3) & MDE_RJ_MALFORMED);
	assert_true(reasons_of(&v, 4) & MDE_RJ_NONPOSITIVE);
	assert_true(reasons_of(&v, 4) & MDE_RJ_HIGH_LOW);
	assert_true(reasons_of(&v, 5) & MDE_RJ_MALFORMED); /* a JSON number */
	assert_true(reasons_of(&v, 6) & MDE_RJ_MALFORMED); /* 11 elements */
	assert_true(reasons_of(&v, 7) & MDE_RJ_MALFORMED); /* NUL */
	for (int k = 0; k < 9; k++)
		assert_int_equal(mde_validate_row(&c, (size_t)k,
						  5 * MDE_MINUTE_MS, MDE_CRYPTO,
						  FAR),
				 reasons_of(&v, (size_t)k));
	char names[256];
	mde_reject_reasons_str(MDE_RJ_MALFORMED, names, sizeof names);
	assert_string_equal(names, "malformed");
	mde_validation_free(&v);
	mde_candles_free(&c);
}

static void test_yahoo_polygon_bad_rows(void **st)
{
	(void)st;
	const char *y = "{\"chart\":{\"result\":[{\"meta\":{},\"timestamp\":"
			"[1598880600,1598967000,1599053400],\"indicators\":"
			"{\"quote\":[{\"volume\":[1,2,3],\"close\":[1,\"x\",2],"
			"\"open\":[1,1,null],\"low\":[1,1,1],\"high\":[2,2,2]}]}}],"
			"\"error\":null}}";
	mde_candles c = {0};
	mde_page pg;
	mde_window w = {0, FAR, FAR, MDE_DAY_MS};
	assert_int_equal(mde_yahoo_parse_chart(y, strlen(y), MDE_SRC_YAHOO, &w,
					       &c, &pg, NULL), 0);
	/* the null bar is skipped, the string close kept and malformed */
	assert_int_equal(c.n, 2);
	assert_int_equal(c.malformed[0], 0);
	assert_int_equal(c.malformed[1], 1);
	assert_string_equal(mde_candles_text(&c, 1, MDE_CLOSE), "x");
	const char *p = "{\"status\":\"OK\",\"results\":[{\"v\":1,\"o\":1,"
			"\"c\":2,\"h\":2,\"l\":1,\"t\":86400000},{\"v\":1,\"o\":"
			"\"1\",\"c\":2,\"h\":2,\"l\":1,\"t\":172800000},{\"v\":1,"
			"\"c\":2,\"h\":2,\"l\":1,\"t\":259200000}]}";
	mde_candles_clear(&c);
	assert_int_equal(mde_polygon_parse_aggs(p, strlen(p), MDE_SRC_POLYGON,
						&w, &c, &pg, NULL), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.malformed[0], 0);
	assert_int_equal(c.malformed[1], 1);
	assert_int_equal(c.malformed[2], 1); /* no "o" at all */
	mde_validation v = {0};
	mde_err e;
	assert_int_equal(mde_validate(&v, &c, MDE_DAY_MS, MDE_EQUITY, FAR, &e),
			 0);
	assert_int_equal(v.nrejects, 2);
	mde_validation_free(&v);
	mde_candles_free(&c);
}

static void test_one_json_document(void **st)
{
	(void)st;
	static const char *const bad[] = {
		"[] x", "[][]", "{} {}", "[1,2]]", "[1,2] ,",
	};
	for (size_t i = 0; i < MDE_ARRAY_LEN(bad); i++) {
		cJSON *j = NULL;
		mde_err e = {0};
		assert_int_equal(mde_json_parse(bad[i], strlen(bad[i]), &j, &e),
				 MDE_EPARSE);
		assert_null(j);
		assert_non_null(strstr(e.msg, "one JSON document"));
	}
	/* a NUL byte after the document, inside the body's length */
	const char nul[] = "[1]\0garbage";
	cJSON *j = NULL;
	assert_int_equal(mde_json_parse(nul, sizeof nul - 1, &j, NULL),
			 MDE_EPARSE);
	/* a raw NUL inside a string: not JSON, never "93548.80" */
	const char raw[] = "[\"93548.80\0x\"]";
	assert_int_equal(mde_json_parse(raw, sizeof raw - 1, &j, NULL),
			 MDE_EPARSE);
	assert_null(j);
	const char *ok = " \n[1, \"a\\\\u0000\"]\r\n";
	assert_int_equal(mde_json_parse(ok, strlen(ok), &j, NULL), 0);
	/* an escaped backslash before u0000 is text, not a NUL */
	assert_string_equal(cJSON_GetArrayItem(j, 1)->valuestring,
			    "a\\u0000");
	cJSON_Delete(j);
}

static void test_decimals_parse_whole(void **st)
{
	(void)st;
	static const char *const bad[] = {"93548.80x", " 1", "1 ", "0x10",
					  "", "1e", "--1", "1.2.3"};
	double v;
	for (size_t i = 0; i < MDE_ARRAY_LEN(bad); i++)
		assert_int_equal(mde_parse_decimal(bad[i], strlen(bad[i]), &v),
				 MDE_EPARSE);
	const char nul[] = "93548.80\0x";
	assert_int_equal(mde_parse_decimal(nul, sizeof nul - 1, &v),
			 MDE_EPARSE);
	assert_int_equal(mde_parse_decimal("93548.80", 8, &v), 0);
	assert_true(v == 93548.80);
}

static void test_source_plans(void **st)
{
	(void)st;
	int p, f;
	char buf[64];
	assert_int_equal(mde_fetch_plan("binance", MDE_CRYPTO, &p, &f), 0);
	assert_int_equal(p, MDE_SRC_BINANCE);
	assert_int_equal(f, -1);
	assert_int_equal(mde_fetch_plan(NULL, MDE_CRYPTO, &p, &f), 0);
	assert_int_equal(f, -1); /* futures never take spot by default */
	assert_int_equal(mde_fetch_plan("auto", MDE_EQUITY, &p, &f), 0);
	assert_int_equal(p, MDE_SRC_POLYGON);
	assert_int_equal(f, MDE_SRC_YAHOO);
	assert_int_equal(mde_fetch_plan("binance+binance-spot", 0, &p, &f), 0);
	assert_int_equal(f, MDE_SRC_BINANCE_SPOT);
	assert_int_equal(mde_fetch_plan("binance+yahoo", 0, &p, &f),
			 MDE_EINVAL);
	assert_int_equal(mde_fetch_plan("yahoo+polygon", 0, &p, &f),
			 MDE_EINVAL);
	assert_int_equal(mde_fetch_plan("replay:/a+b", 0, &p, &f), 0);
	assert_int_equal(p, MDE_SRC_REPLAY);
	/* a named source is that source only */
	assert_int_equal(mde_fetch_plan_make(buf, sizeof buf, "polygon", "none",
					     MDE_EQUITY), 0);
	assert_string_equal(buf, "polygon");
	assert_int_equal(mde_fetch_plan_make(buf, sizeof buf, NULL, NULL,
					     MDE_EQUITY), 0);
	assert_string_equal(buf, "polygon+yahoo");
	assert_int_equal(mde_fetch_plan_make(buf, sizeof buf, NULL, NULL,
					     MDE_CRYPTO), 0);
	assert_string_equal(buf, "binance");
	assert_int_equal(mde_fetch_plan_make(buf, sizeof buf, "binance",
					     "binance-spot", MDE_CRYPTO), 0);
	assert_string_equal(buf, "binance+binance-spot");
	assert_int_equal(mde_fetch_plan_make(buf, sizeof buf, "binance",
					     "yahoo", MDE_CRYPTO), MDE_EINVAL);
	assert_int_equal(mde_fetch_source_origin("binance+binance-spot"),
			 MDE_SRC_BINANCE);
	/* the asset class follows from the source and the symbol */
	assert_int_equal(mde_fetch_infer_asset("yahoo", "AAPL"), MDE_EQUITY);
	assert_int_equal(mde_fetch_infer_asset("polygon", "MSFT"), MDE_EQUITY);
	assert_int_equal(mde_fetch_infer_asset("yahoo", "BTC-USD"), MDE_CRYPTO);
	assert_int_equal(mde_fetch_infer_asset("yahoo", "BTCUSDT"), MDE_CRYPTO);
	assert_int_equal(mde_fetch_infer_asset("binance", "AAPL"), MDE_CRYPTO);
	assert_int_equal(mde_fetch_infer_asset(NULL, "ETHUSDT"), MDE_CRYPTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binance_bad_rows_are_rejected_not_the_page),
		cmocka_unit_test(test_yahoo_polygon_bad_rows),
		cmocka_unit_test(test_one_json_document),
		cmocka_unit_test(test_decimals_parse_whole),
		cmocka_unit_test(test_source_plans),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
